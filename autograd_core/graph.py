"""The graph every node type shares: recording mode, the tape, and the backward pass.

A node (a scalar :class:`~autograd_core.Value` or a :class:`~autograd_core.Tensor`) holds its ``data``, its
``grad``, the op that made it, its parents in order and with multiplicity (``a * a`` has the
parents ``(a, a)``) and ``_ctx``, the op's non-differentiable parameters. Nodes hold their
parents and nothing holds a child, so a graph has no reference cycles and is freed by
reference counting the moment its root is dropped.

Nodes are lean because Python's cyclic garbage collector walks every live node of a graph
being built, again and again; its cost grows with the number of objects and with their
size. So the first two parents live in the node's own slots ``_a`` and ``_b`` rather than in
a tuple per node (one tracked object per node, not two), ``requires_grad`` is read off
``_op`` (an op, ``LEAF`` for a leaf that wants a gradient, None for a constant), and parents
beyond the second (``_rest``) are a class-level default that only a node type with such ops
overrides. On micrograd's demo step these choices cut the step time by a third.
``node.parents`` gives the parents as a tuple.

``backward`` makes two passes, both iterative (no recursion anywhere): an iterative
depth-first search puts the nodes reachable from the root in topological order (checking on
the way that nothing was freed or changed, and resetting intermediate gradients); then a
sweep in reverse order adds each node's vector-Jacobian products into its parents' ``.grad``.
A node's gradient is complete when its turn comes, because all of its children come first;
contributions are summed where paths converge. That is the fast path. ``_sweep`` is the
general one, taken for ``grad()``, ``create_graph`` (the rules then run on the nodes
themselves, so the backward pass is recorded), tensor hooks and anomaly detection: the same
rules, with gradients summed in a dict popped as it is used, as HIPS autograd does.
``Tape.gradient`` is a second, independent backward over the recorded list.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import threading

import numpy as np

__all__ = ["Node", "Tape", "grad", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled"]


class _GradMode(threading.local):
    """Per-thread recording state: ``no_grad`` in one thread leaves the others alone."""

    enabled = True
    tapes = ()  # the recorders (Tapes, anomaly detection) open in this thread, outermost first
    anomaly = None  # the innermost active anomaly detection, or None

    def __init__(self):  # (run once in each thread, on its first use)
        self.end = _ThreadEnd()


class _ThreadEnd:
    """Dropped with its thread's state when the thread ends: if the thread still had
    recording off (``set_grad_enabled(False)`` and no way back), its share of the
    process-wide count goes with it, so the other threads keep the fast path."""

    __slots__ = ("recording_off",)

    def __init__(self):
        self.recording_off = False

    def __del__(self):
        global threads_without_grad
        if self.recording_off:
            with _counts_lock:
                threads_without_grad -= 1


_mode = _GradMode()
# Process-wide counts that let building a node skip the per-thread lookups in the common
# case: no Tape open in any thread, no thread with recording off. They are updated under a
# lock (``+=`` is not atomic across threads) and read without one: a non-zero count only
# sends the reader to its own thread's state.
open_tapes = 0
threads_without_grad = 0
_counts_lock = threading.Lock()


def is_grad_enabled() -> bool:
    """Whether operations in this thread are recorded for backward."""
    return _mode.enabled


def _set_mode(enabled: bool) -> bool:
    """Set this thread's recording mode; return the previous one."""
    global threads_without_grad
    previous = _mode.enabled
    if previous != enabled:
        with _counts_lock:
            threads_without_grad += -1 if enabled else 1
        _mode.enabled = enabled
        _mode.end.recording_off = not enabled
    return previous


class no_grad(contextlib.ContextDecorator):
    """Stop recording in this thread: results computed inside have no history.

    A context manager or a decorator (``@no_grad()`` or ``@no_grad``), as in PyTorch; on a
    generator function it holds while the generator runs, not while its caller does::

        >>> from autograd_core import Value, no_grad
        >>> w = Value(3.0)
        >>> with no_grad():
        ...     y = w * w
        >>> y.requires_grad, y.parents
        (False, ())
    """

    mode = False

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if func is None:
            return self
        self.__init__()
        return self(func)  # used bare, @no_grad: decorate at once

    def __init__(self, func=None):
        # thread -> a stack of modes to restore: one object may be entered again, and by
        # several threads at once (each gets back its own mode)
        self._previous: dict[int, list[bool]] = {}

    def __enter__(self):
        self._previous.setdefault(threading.get_ident(), []).append(_set_mode(self.mode))
        return self

    def __exit__(self, *exc):
        thread = threading.get_ident()
        stack = self._previous[thread]
        _set_mode(stack.pop())
        if not stack:
            del self._previous[thread]
        return False

    def _recreate_cm(self):
        return type(self)()  # a decorated function called from two threads: one each

    def __call__(self, func):
        if inspect.isgeneratorfunction(func):
            return _each_step_in(self, func)
        return super().__call__(func)


def _each_step_in(context, generator_function):
    """``generator_function`` with ``context`` (a grad mode) entered for each step of the
    generators it makes, and left at each ``yield``: a plain decorator would leave it as soon
    as the generator object is made, before the body runs (PyTorch wraps generators so too)."""
    @functools.wraps(generator_function)
    def generator(*args, **kwargs):
        inner = generator_function(*args, **kwargs)
        resume, sent = inner.send, None
        while True:
            try:
                with context._recreate_cm():
                    item = resume(sent)
            except StopIteration as stop:
                return stop.value
            try:
                resume, sent = inner.send, (yield item)
            except GeneratorExit:
                inner.close()
                raise
            except BaseException as error:  # thrown in by the caller: on to the body
                resume, sent = inner.throw, error
    return generator


class enable_grad(no_grad):
    """Record again inside a ``no_grad`` block (or a function decorated with it)."""

    mode = True


class set_grad_enabled:
    """Set recording on or off for this thread, right away; as a context, restore it on exit.

        >>> from autograd_core import Value, set_grad_enabled, is_grad_enabled
        >>> with set_grad_enabled(False):
        ...     is_grad_enabled()
        False
        >>> is_grad_enabled()
        True
    """

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._previous = _set_mode(self.mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set_mode(self._previous)
        return False

    def __call__(self, func):
        """As a decorator, ``@set_grad_enabled(False)``: the mode for each call of ``func``;
        this thread's own mode, which the constructor set, is given back at once."""
        _set_mode(self._previous)
        return (enable_grad() if self.mode else no_grad())(func)


# A node whose saved context was released by a backward pass without retain_graph.
_FREED = ("<freed>",)


class _Leaf:
    """The ``_op`` of a leaf that wants a gradient (a constant's is None)."""

    name = ""

    def __repr__(self):
        return "LEAF"


LEAF = _Leaf()


def PASS(g, out, *inputs):
    """The VJP of an input whose gradient is the output's, unchanged (as in ``a + b``).

    The backward loop recognises it and skips the call.
    """
    return g


class Node:
    """What ``Value`` and ``Tensor`` share: data, gradient, and their place in the graph.

    ``_op`` is the row of the op table that produced the node (``LEAF`` for a leaf that
    needs a gradient, None for a constant); ``_a``, ``_b`` (and ``_rest``) are its inputs in
    order (None for a leaf); ``_ctx`` holds the op's extra parameters (a tuple).
    """

    __slots__ = ("data", "grad", "label", "_op", "_ctx", "_a", "_b")
    _rest = ()  # parents after the second: node types with such ops make it a slot...
    _has_rest = False  # ...and set this, so that graph walks look for them
    _keeps_grads = True  # intermediate nodes keep .grad after backward (Value); Tensor: not
    _float_grads = True  # gradients are Python floats, added inline by backward (Value)
    _hooks = None  # gradient hooks (a list), on node types that support them

    def _constant_like(self, data) -> "Node":
        """A constant node of this type holding ``data`` (no gradient, no history)."""
        raise NotImplementedError

    def _check_grad_shape(self, g, what: str) -> None:
        """Raise if ``g`` cannot be this node's gradient (node types check shapes)."""

    def _check_saved(self) -> None:
        """Raise if what the op saved for backward has changed since (node types override)."""

    @property
    def requires_grad(self) -> bool:
        """Whether backward computes a gradient for this node (always, if it has history)."""
        return self._op is not None

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if self._a is not None:
            raise RuntimeError("requires_grad can only be changed on leaf nodes; use detach()")
        kind = getattr(self.data, "dtype", np.dtype(float)).kind
        if flag and kind != "f":
            raise TypeError(f"only floating point tensors can require gradients, got {self.data.dtype}")
        self._op = LEAF if flag else None

    # ----- read-only views of the graph, for teaching and drawing -----
    @property
    def op(self) -> str:
        """The name of the operation that produced this node ('' for a leaf)."""
        return self._op.name if self._a is not None else ""

    @property
    def parents(self) -> tuple:
        """The inputs of the operation that produced this node, in order (``()`` for a leaf)."""
        if self._a is None:
            return ()
        if self._b is None:
            return (self._a,)
        return (self._a, self._b, *self._rest)

    @property
    def is_leaf(self) -> bool:
        """True for a node made by the user (or a constant), not by an operation."""
        return self._a is None

    # ----- backward -----
    def _seed_gradient(self, grad):
        """The gradient backward starts from; node types check its kind and shape."""
        raise NotImplementedError

    def _conform(self, g):
        """A contribution ``g`` as a gradient of this node: its type, shape and dtype."""
        raise NotImplementedError

    def _add_grad(self, g) -> None:
        """Add a contribution ``g`` to this node's gradient (conformed first)."""
        raise NotImplementedError

    def backward(self, grad=None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Back-propagate from this node, filling ``.grad`` on every node that needs one.

        ``grad`` is the gradient of some final quantity with respect to this node; it defaults
        to 1 for a scalar. Gradients are summed where paths converge. Leaves accumulate across
        calls (``.grad += ...``) until ``zero_grad()``; every intermediate node keeps the
        gradient of the latest backward through it, which never feeds a later call.

        The graph's saved context is released afterwards, so a second backward through it
        raises ``RuntimeError``; pass ``retain_graph=True`` to keep it (the leaves then get
        their gradient added again).

        With ``create_graph=True`` the backward pass is itself recorded: ``.grad`` holds nodes
        that can be differentiated again (``retain_graph`` then defaults to True).

            >>> from autograd_core import Value
            >>> x = Value(3.0)
            >>> (x ** 3).backward(create_graph=True)
            >>> dx = x.grad          # 3 x**2, a Value with history
            >>> x.zero_grad()
            >>> dx.backward()
            >>> dx.data, x.grad      # 27 and 6 x
            (27.0, 18.0)
        """
        if self._op is None:  # requires_grad is False
            raise RuntimeError(
                "backward() on a node that does not require grad: it was made without "
                "recording (under no_grad, from detached or constant inputs)")
        if retain_graph is None:
            retain_graph = create_graph
        # (anomaly detection is a recorder: while none is open anywhere, open_tapes is 0 and
        # the per-thread lookup is skipped)
        if create_graph or hooks_registered or (open_tapes and _mode.anomaly is not None):
            _quiet_sweep(_graph_order((self,)), {self: _seed(self, grad, create_graph)},
                         retain_graph, create_graph, _store_grad)
        else:  # the fast path: no graph to record, no hook or check to run
            _quiet_backward(self, self._seed_gradient(grad), retain_graph)


def _graph_order(roots, reset_grads: bool = True) -> list:
    """The nodes reachable from ``roots`` that have an op, each after all of its parents.

    Iterative depth-first search: a node is pushed, then a ``None`` marker, then its parents;
    popping the marker means every parent is placed, so the node is. With ``reset_grads``,
    each node's gradient is reset to ``_fresh_grad`` on the way (an earlier backward's must
    not leak into this one). Leaves are never touched. Raises if part of the graph was freed
    or changed, before any leaf gradient is touched.
    """
    order = []
    seen = set()
    stack = [root for root in roots if root._a is not None]
    push, pop, place, mark = stack.append, stack.pop, order.append, seen.add  # hot loop
    if not stack:
        return order
    # Read once: class attributes looked up on instances are slow in a hot loop (3.11).
    fresh_grad, has_rest = stack[0]._fresh_grad, stack[0]._has_rest
    check_saved = type(stack[0])._check_saved is not Node._check_saved
    while stack:
        node = pop()
        if node is None:
            place(pop())
            continue
        if node in seen:
            continue
        mark(node)
        if node._ctx is _FREED:
            raise RuntimeError(
                "Trying to backward through the graph a second time: its saved values were "
                "released by the first backward. Pass retain_graph=True to the first "
                "backward() if you need to call it again.")
        if check_saved:
            node._check_saved()
        if reset_grads:
            node.grad = fresh_grad
        push(node)
        push(None)
        a, b = node._a, node._b
        if a._a is not None and a not in seen:  # has parents of its own
            push(a)
        if b is not None and b._a is not None and b not in seen:
            push(b)
        if has_rest:
            for parent in node._rest:
                if parent._a is not None and parent not in seen:
                    push(parent)
    return order


def _backward(root: Node, seed, retain_graph: bool) -> None:
    """Sweep the graph from the root down, adding each node's contributions to its parents.

    Gradients are summed in the nodes' own ``.grad``: a node's is complete when its turn
    comes, because all of its children come before it. Float contributions to Values are
    added inline; anything else goes through the parent's ``_add_grad`` (arrays are
    un-broadcast and checked there, once, not in every rule).
    """
    order = _graph_order((root,))
    root._add_grad(seed)
    has_rest, keeps_grads, float_grads = root._has_rest, root._keeps_grads, root._float_grads
    for node in reversed(order):
        g = node.grad
        out = node.data
        a, b = node._a, node._b
        vjps = node._op.vjps
        if b is not None and not node._ctx and not (has_rest and node._rest):
            # Most nodes are binary ops without parameters: this is the general loop below,
            # written out because it runs once per node (it halves the time of this loop).
            vjp_a, vjp_b = vjps
            if vjp_a is not None and a._op is not None:  # a needs a gradient
                contribution = g if vjp_a is PASS else vjp_a(g, out, a.data, b.data)
                if type(contribution) is float and float_grads:
                    a.grad += contribution
                else:
                    a._add_grad(contribution)
            if vjp_b is not None and b._op is not None:
                contribution = g if vjp_b is PASS else vjp_b(g, out, a.data, b.data)
                if type(contribution) is float and float_grads:
                    b.grad += contribution
                else:
                    b._add_grad(contribution)
        elif b is None and not node._op.packs_inputs:  # the same for one input (relu, sum)
            vjp = vjps[0]
            if vjp is not None and a._op is not None:
                ctx = node._ctx  # the op's parameters (a reduction's axis), if any
                contribution = vjp(g, out, a.data, *ctx) if ctx else vjp(g, out, a.data)
                if type(contribution) is float and float_grads:
                    a.grad += contribution
                else:
                    a._add_grad(contribution)
        else:
            parents = node.parents
            args = _vjp_args(node, [p.data for p in parents])
            for parent, vjp in zip(parents, vjps):
                if vjp is not None and parent._op is not None:
                    contribution = vjp(g, out, *args)
                    if type(contribution) is float and float_grads:
                        parent.grad += contribution
                    else:
                        parent._add_grad(contribution)
        if not retain_graph:
            node._ctx = _FREED
        if not keeps_grads and not node._retains_grad:  # (Tensor: see retain_grad)
            node.grad = None


# Masked-out branches of kink rules (e.g. 0 * log(0)) would make numpy warn about values that
# are then discarded; the forward pass is where the user sees warnings. (As a decorator,
# errstate costs half what a ``with`` block does, and backward on a tiny graph feels it.)
_quiet_backward = np.errstate(all="ignore")(_backward)


def _sweep(order, grads: dict, retain_graph: bool, create_graph: bool, deliver) -> None:
    """The general backward: what ``_backward`` does, plus recording, hooks and checks.

    Gradients are summed in the dict ``grads`` (seeded with the roots') and popped as they
    are used, as in HIPS autograd's ``backward_pass``. When a node's gradient is complete
    (interior nodes in their turn, leaves at the end) its hooks run and ``deliver(node, g)``
    gets it. With ``create_graph`` the rules run on the nodes themselves under recording, so
    every gradient is a node with history; otherwise on raw data, as the fast path does.
    """
    anomaly = _mode.anomaly
    for node in reversed(order):
        g = grads.pop(node, None)
        if g is not None:
            g = _run_hooks(node, g)
            deliver(node, g)
            parents = node.parents
            if create_graph:
                out, args = node, _vjp_args(node, parents)
            else:
                out, args = node.data, _vjp_args(node, [p.data for p in parents])
            for i, (parent, vjp) in enumerate(zip(parents, node._op.vjps)):
                if vjp is not None and parent._op is not None:
                    contribution = parent._conform(g if vjp is PASS else vjp(g, out, *args))
                    if anomaly is not None:
                        anomaly.check_gradient(node, i, contribution)
                    # (conformed again: numpy answers a sum of 0-d arrays with a scalar)
                    grads[parent] = (parent._conform(grads[parent] + contribution)
                                     if parent in grads else contribution)
        if not retain_graph:
            node._ctx = _FREED
    for leaf, g in grads.items():
        deliver(leaf, _run_hooks(leaf, g))


def _vjp_args(node: Node, inputs: list) -> tuple:
    """The arguments after ``(g, out)`` of ``node``'s VJPs: its inputs, then its parameters."""
    if node._op.packs_inputs:
        return (tuple(inputs), *node._ctx)
    return (*inputs, *node._ctx)


def _zeros_like(node: Node):
    """The gradient of an input that the outputs use only through ops with no gradient."""
    return np.zeros_like(node.data) if isinstance(node.data, np.ndarray) else 0.0


def _contributions(node: Node, g) -> list:
    """One step of backward, storing nothing: ``(input, its share of the gradient)`` for each
    input of ``node`` that needs a gradient, ``g`` being the gradient of ``node``."""
    if node._ctx is _FREED:
        raise RuntimeError("the graph's saved values were released by a backward() without "
                           "retain_graph=True; recompute it, or pass retain_graph=True")
    node._check_saved()
    parents = node.parents
    args = _vjp_args(node, [p.data for p in parents])
    return [(parent, parent._conform(g if vjp is PASS else vjp(g, node.data, *args)))
            for parent, vjp in zip(parents, node._op.vjps)
            if vjp is not None and parent.requires_grad]


def backward_steps(root: Node, grad=None):
    """Backward one node at a time, changing nothing: for teaching and drawing.

    Yields ``(node, gradient, contributions)`` in the order backward processes the nodes
    (reverse topological order), ``contributions`` being ``(input, share)`` pairs: what this
    step adds to each input's gradient. A node's gradient is complete when it is yielded.

        >>> from autograd_core import Value
        >>> from autograd_core.graph import backward_steps
        >>> a, b = Value(2.0, label="a"), Value(1.0, label="b")
        >>> e = (a + b) * (b + 1)
        >>> for node, g, shares in backward_steps(e):
        ...     print(node.op, g, [(p.label or p.op, share) for p, share in shares])
        mul 1.0 [('add', 2.0), ('add', 3.0)]
        add 2.0 [('a', 2.0), ('b', 2.0)]
        add 3.0 [('b', 3.0)]
    """
    grads = {root: root._seed_gradient(grad)}
    with np.errstate(all="ignore"):
        for node in reversed(_graph_order((root,), reset_grads=False)):
            g = grads.get(node)
            if g is None:  # no gradient reaches it (every path has a None rule)
                continue
            contributions = _contributions(node, g)
            for parent, share in contributions:
                grads[parent] = parent._conform(grads[parent] + share) if parent in grads else share
            yield node, g, contributions


def _store_grad(node: Node, g) -> None:
    """How ``backward`` delivers a gradient: leaves accumulate, intermediate nodes keep theirs
    (a ``Value`` always, a ``Tensor`` after ``retain_grad()``)."""
    node._add_grad(g)  # intermediate gradients were reset by _graph_order
    if node._a is not None and not node._keeps_grads:
        node._release_grad()


def _quiet_sweep(order, grads, retain_graph, create_graph, deliver):
    with np.errstate(all="ignore"):
        if not create_graph:
            return _sweep(order, grads, retain_graph, False, deliver)
        previous = _set_mode(True)  # the backward pass is recorded, even inside no_grad
        try:
            return _sweep(order, grads, retain_graph, True, deliver)
        finally:
            _set_mode(previous)


def _data(x):
    return x.data if isinstance(x, Node) else x


def _seed(root: Node, grad, create_graph: bool):
    """The gradient a sweep starts from: raw data, or a node when the sweep is recorded."""
    seed = root._seed_gradient(grad)  # checks kind and shape
    if not create_graph:
        return seed
    return grad if isinstance(grad, Node) else root._constant_like(seed)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned, not stored in ``.grad``.

    PyTorch's ``torch.autograd.grad``: ``outputs`` and ``inputs`` are nodes or sequences of
    nodes; ``grad_outputs`` gives each output's gradient (default 1 for scalars). Returns a
    tuple with one gradient per input: raw data like ``.grad`` (a float for a ``Value``, an
    array for a ``Tensor``), or nodes with history when ``create_graph=True``, so that they
    can be differentiated again. An input the outputs do not depend on raises, unless
    ``allow_unused=True`` (then its gradient is None); one they depend on only through ops
    with no gradient (``sign``) gets zeros, as in PyTorch.

        >>> from autograd_core import Value, grad
        >>> x = Value(2.0)
        >>> y = x ** 3
        >>> (dy,) = grad(y, x, create_graph=True)      # 3 x**2 = 12, with history
        >>> (d2y,) = grad(dy, x)                         # 6 x
        >>> dy.data, d2y
        (12.0, 12.0)
    """
    if isinstance(outputs, Node):  # one output: grad_outputs is its gradient ([g] works too)
        if isinstance(grad_outputs, (list, tuple)) and len(grad_outputs) == 1 \
                and np.shape(_data(grad_outputs[0])) == np.shape(outputs.data):
            grad_outputs = grad_outputs[0]
        grad_outputs = [grad_outputs]
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for kind, nodes in (("output", outputs), ("input", inputs)):
        for i, node in enumerate(nodes):
            if not isinstance(node, Node):
                raise TypeError(f"grad: {kind} {i} is a {type(node).__name__}, not a node")
            if node._op is None:
                raise RuntimeError(f"grad: {kind} {i} does not require grad (it has no history "
                                   f"and is not a leaf that needs a gradient)")
    if retain_graph is None:
        retain_graph = create_graph
    seeds = {}
    for out, grad_output in zip(outputs, grad_outputs):
        seed = _seed(out, grad_output, create_graph)
        seeds[out] = seeds[out] + seed if out in seeds else seed
    wanted = set(inputs)
    found = {}

    def deliver(node, g):
        if node in wanted:  # (recorded, a rule may still answer a constant: relu's 0.0)
            found[node] = node._constant_like(g) if create_graph and not isinstance(
                g, Node) else g

    order = _graph_order(outputs, reset_grads=False)
    _quiet_sweep(order, seeds, retain_graph, create_graph, deliver)
    used = set(order)
    for node in order:
        used.update(node.parents)
    for i, x in enumerate(inputs):
        if x not in found and x in used:  # reached only through rules with no gradient (sign)
            found[x] = x._constant_like(_zeros_like(x)) if create_graph else _zeros_like(x)
        elif x not in found and not allow_unused:
            raise RuntimeError(
                f"grad: input {i}{f' {x.label!r}' if x.label else ''} was not used to compute "
                f"the outputs; pass allow_unused=True to get None for it")
    return tuple(found.get(x) for x in inputs)


# ----- hooks -----
hooks_registered = 0  # hooks not removed, process-wide: while any, backward takes _sweep


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook off again."""

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        global hooks_registered
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
            with _counts_lock:
                hooks_registered -= 1


def _add_hook(hooks: list, hook) -> RemovableHandle:
    global hooks_registered
    if not callable(hook):
        raise TypeError(f"register_hook needs a callable, got {type(hook).__name__}")
    hooks.append(hook)
    with _counts_lock:
        hooks_registered += 1
    return RemovableHandle(hooks, hook)


def _run_hooks(node: Node, g):
    """``g`` passed through the node's hooks in order; a hook returning None keeps it."""
    hooks = node._hooks
    if hooks:
        for hook in list(hooks):
            replaced = hook(g)
            if replaced is not None:
                node._check_grad_shape(replaced, "a hook's gradient")
                g = node._conform(replaced)
    return g


class _Recorder:
    """Something that sees every recorded operation of this thread while it is open."""

    def _record(self, node: Node) -> None:
        raise NotImplementedError

    def __enter__(self):
        global open_tapes
        with _counts_lock:
            open_tapes += 1
        _mode.tapes = _mode.tapes + (self,)
        return self

    def __exit__(self, *exc):
        global open_tapes
        _mode.tapes = tuple(t for t in _mode.tapes if t is not self)
        with _counts_lock:
            open_tapes -= 1
        return False


class Tape(_Recorder):
    """Record every operation performed inside ``with Tape() as tape:``, in order.

    ``tape.gradient(target, sources)`` back-propagates by sweeping that list in reverse, a
    second backward independent of ``Node.backward`` (creation order is a topological order).
    It returns the gradients and leaves every ``.grad`` untouched. Only operations recorded
    on the tape are differentiated through; gradients reach the inputs of the first ones.
    A tape answers once unless made with ``persistent=True``.

        >>> from autograd_core import Value, Tape
        >>> x = Value(3.0, label="x")
        >>> with Tape() as tape:
        ...     y = x * x
        ...     y.label = "y"
        >>> print(tape)
        y = x * x    # 9
        >>> tape.gradient(y, x)
        6.0
    """

    def __init__(self, persistent: bool = False):
        self.persistent = persistent
        self.operations: list[Node] = []  # recorded results, oldest first
        self._used = False

    def _record(self, node: Node) -> None:
        self.operations.append(node)

    def __len__(self):
        return len(self.operations)

    def gradient(self, target: Node, sources, output_gradient=None):
        """Gradients of ``target`` with respect to ``sources`` (one node or a list of nodes).

        Returns one gradient per source (a single one for a single source), ``None`` for a
        source the target does not depend on through the recorded operations (zeros for one
        it depends on only through ops with no gradient, such as ``sign``).
        """
        if self._used and not self.persistent:
            raise RuntimeError(
                "This Tape has already computed gradients and released what it recorded; "
                "use Tape(persistent=True) to call gradient() more than once")
        single = isinstance(sources, Node)
        if not single and not isinstance(sources, (list, tuple)):
            raise TypeError(f"Tape.gradient sources must be nodes, got {type(sources).__name__}")
        source_list = [sources] if single else list(sources)
        for s in source_list:
            if not isinstance(s, Node):
                raise TypeError(f"Tape.gradient sources must be nodes, got {type(s).__name__}")
        seed = target._seed_gradient(output_gradient)
        wanted = {s: None for s in source_list}
        grads = {target: seed}
        reached = set()  # inputs of the ops back-propagated through
        with np.errstate(all="ignore"):
            for node in reversed(self.operations):
                if node not in grads:
                    continue
                g = grads[node] if node in wanted else grads.pop(node)
                reached.update(node.parents)
                for parent, contribution in _contributions(node, g):
                    grads[parent] = grads[parent] + contribution if parent in grads else contribution
        result = [s._conform(grads[s]) if grads.get(s) is not None
                  else _zeros_like(s) if s in reached else None for s in source_list]
        if not self.persistent:
            self._used = True
            self.operations = []
        return result[0] if single else result

    def __str__(self):
        """The forward pass as the lecture writes it: one line per recorded operation."""
        names = _Names()
        return "\n".join(
            f"{names(node)} = {node._op.format(*map(names, node.parents), *node._ctx)}    # {_short(node.data)}"
            for node in self.operations)

    def __repr__(self):
        return f"<Tape of {len(self.operations)} operations{', persistent' if self.persistent else ''}>"


def _short(data) -> str:
    if isinstance(data, float):
        return f"{data:.6g}"
    return np.array2string(np.asarray(data), precision=4, threshold=6)


class _Names:
    """Names for the nodes of a printout: labels where given, then t0, t1, ... and x0, x1, ..."""

    def __init__(self):
        self._names: dict[Node, str] = {}
        self._made = 0
        self._leaves = 0

    def __call__(self, node: Node) -> str:
        if node in self._names:
            return self._names[node]
        if node.label:
            name = node.label
        elif node._a is not None:
            name, self._made = f"t{self._made}", self._made + 1
        elif not node.requires_grad:  # a constant: show its value
            name = _short(node.data)
        else:
            name, self._leaves = f"x{self._leaves}", self._leaves + 1
        self._names[node] = name
        return name


def _record_on_tapes(node: Node) -> None:
    for tape in _mode.tapes:
        tape._record(node)


def _link(out: Node, op, inputs: tuple, params: tuple) -> bool:
    """Give ``out`` its history (``op`` applied to ``inputs``) if it needs one; say whether.

    It needs one when recording is on in this thread and an input needs a gradient.
    """
    if not (threads_without_grad == 0 or _mode.enabled):  # graph_recording(), inlined
        return False
    for x in inputs:
        if x._op is not None:  # needs a gradient
            break
    else:
        return False
    out._op = op
    out._a = inputs[0]
    if len(inputs) > 1:
        out._b = inputs[1]
        if len(inputs) > 2:
            out._rest = inputs[2:]
    out._ctx = params
    if open_tapes:
        _record_on_tapes(out)
    return True


def graph_recording() -> bool:
    """Whether operations in this thread are recorded (the process-wide count skips the
    per-thread lookup while no thread has recording off)."""
    return threads_without_grad == 0 or _mode.enabled
