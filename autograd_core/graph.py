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
contributions are summed where paths converge. ``Tape.gradient`` is a second, independent
backward over the recorded list, summing in a dict as HIPS autograd does.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

__all__ = ["Node", "Tape", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled"]


class _GradMode(threading.local):
    """Per-thread recording state: ``no_grad`` in one thread leaves the others alone."""

    enabled = True
    tapes = ()  # the Tapes open in this thread, outermost first


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
    return previous


class no_grad(contextlib.ContextDecorator):
    """Stop recording in this thread: results computed inside have no history.

    A context manager or a decorator, as in PyTorch::

        >>> from autograd_core import Value, no_grad
        >>> w = Value(3.0)
        >>> with no_grad():
        ...     y = w * w
        >>> y.requires_grad, y.parents
        (False, ())
    """

    mode = False

    def __init__(self):
        self._previous: list[bool] = []  # a stack: the same object may be entered again

    def __enter__(self):
        self._previous.append(_set_mode(self.mode))
        return self

    def __exit__(self, *exc):
        _set_mode(self._previous.pop())
        return False

    def _recreate_cm(self):
        return type(self)()  # a decorated function called from two threads: one each


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
        self._previous = _set_mode(bool(mode))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set_mode(self._previous)
        return False


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

    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Back-propagate from this node, filling ``.grad`` on every node that needs one.

        ``grad`` is the gradient of some final quantity with respect to this node; it defaults
        to 1 for a scalar. Gradients are summed where paths converge. Leaves accumulate across
        calls (``.grad += ...``) until ``zero_grad()``; every intermediate node keeps the
        gradient of the latest backward through it, which never feeds a later call.

        The graph's saved context is released afterwards, so a second backward through it
        raises ``RuntimeError``; pass ``retain_graph=True`` to keep it (the leaves then get
        their gradient added again).
        """
        if self._op is None:  # requires_grad is False
            raise RuntimeError(
                "backward() on a node that does not require grad: it was made without "
                "recording (under no_grad, from detached or constant inputs)")
        _quiet_backward(self, self._seed_gradient(grad), retain_graph)


def _graph_order(root: Node) -> list:
    """The nodes reachable from ``root`` that have an op, each after all of its parents.

    Iterative depth-first search: a node is pushed, then a ``None`` marker, then its parents;
    popping the marker means every parent is placed, so the node is. A node's ``.grad`` holds
    the ``_SEEN`` marker while the search runs (cheaper than a set of seen nodes), then is
    reset to ``_fresh_grad``: an earlier backward's gradient must not leak into this one.
    Leaves are never touched; if part of the graph was already freed, this raises with every
    intermediate gradient it marked reset.
    """
    order = []
    stack = [root]
    push, pop, place = stack.append, stack.pop, order.append  # hot loop
    # Read once: class attributes looked up on instances are slow in a hot loop (3.11).
    fresh_grad, has_rest = root._fresh_grad, root._has_rest
    check_saved = type(root)._check_saved is not Node._check_saved
    try:
        while stack:
            node = pop()
            if node is None:
                place(pop())
                continue
            if node.grad is _SEEN:
                continue
            if node._ctx is _FREED:
                raise RuntimeError(
                    "Trying to backward through the graph a second time: its saved values "
                    "were released by the first backward. Pass retain_graph=True to the "
                    "first backward() if you need to call it again.")
            if check_saved:
                node._check_saved()
            node.grad = _SEEN  # marked nodes are all on the stack or in the order (see except)
            push(node)
            push(None)
            a, b = node._a, node._b
            if a._a is not None and a.grad is not _SEEN:  # has parents of its own
                push(a)
            if b is not None and b._a is not None and b.grad is not _SEEN:
                push(b)
            if has_rest:
                for parent in node._rest:
                    if parent._a is not None and parent.grad is not _SEEN:
                        push(parent)
    except BaseException:
        for node in (*order, *stack):
            if node is not None and node.grad is _SEEN:
                node.grad = fresh_grad
        raise
    for node in order:
        node.grad = fresh_grad
    return order


_SEEN = object()  # in .grad while _graph_order runs: the node was reached


def _backward(root: Node, seed, retain_graph: bool) -> None:
    """Sweep the graph from the root down, adding each node's contributions to its parents.

    Gradients are summed in the nodes' own ``.grad``: a node's is complete when its turn
    comes, because all of its children come before it. Float contributions to Values are
    added inline; anything else goes through the parent's ``_add_grad`` (arrays are
    un-broadcast and checked there, once, not in every rule).
    """
    order = _graph_order(root) if root._a is not None else []
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
        else:
            parents = node.parents
            args = (*[p.data for p in parents], *node._ctx)
            for parent, vjp in zip(parents, vjps):
                if vjp is not None and parent._op is not None:
                    contribution = vjp(g, out, *args)
                    if type(contribution) is float and float_grads:
                        parent.grad += contribution
                    else:
                        parent._add_grad(contribution)
        if not retain_graph:
            node._ctx = _FREED
        if not keeps_grads:
            node._release_grad()


# Masked-out branches of kink rules (e.g. 0 * log(0)) would make numpy warn about values that
# are then discarded; the forward pass is where the user sees warnings. (As a decorator,
# errstate costs half what a ``with`` block does, and backward on a tiny graph feels it.)
_quiet_backward = np.errstate(all="ignore")(_backward)


class Tape:
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

    def __len__(self):
        return len(self.operations)

    def gradient(self, target: Node, sources, output_gradient=None):
        """Gradients of ``target`` with respect to ``sources`` (one node or a list of nodes).

        Returns one gradient per source (a single one for a single source), ``None`` for a
        source the target does not depend on through the recorded operations.
        """
        if self._used and not self.persistent:
            raise RuntimeError(
                "This Tape has already computed gradients and released what it recorded; "
                "use Tape(persistent=True) to call gradient() more than once")
        single = isinstance(sources, Node)
        source_list = [sources] if single else list(sources)
        for s in source_list:
            if not isinstance(s, Node):
                raise TypeError(f"Tape.gradient sources must be nodes, got {type(s).__name__}")
        seed = target._seed_gradient(output_gradient)
        wanted = {s: None for s in source_list}
        grads = {target: seed}
        with np.errstate(all="ignore"):
            for node in reversed(self.operations):
                if node not in grads:
                    continue
                g = grads[node] if node in wanted else grads.pop(node)
                if node._ctx is _FREED:
                    raise RuntimeError("Tape.gradient through a graph whose saved values a "
                                       "backward() without retain_graph=True released")
                node._check_saved()
                parents = node.parents
                args = (*[p.data for p in parents], *node._ctx)
                for parent, vjp in zip(parents, node._op.vjps):
                    if vjp is not None and parent.requires_grad:
                        contribution = parent._conform(vjp(g, node.data, *args))
                        grads[parent] = grads[parent] + contribution if parent in grads else contribution
        result = [None if grads.get(s) is None else s._conform(grads[s]) for s in source_list]
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
        tape.operations.append(node)


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
