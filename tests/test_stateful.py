"""Stateful differential test of the engine: random sessions checked against a reference model.

A Hypothesis state machine plays a user at the keyboard: it makes leaves (parameters and
constants), applies ops to any nodes made so far (so nodes are reused and paths converge),
detaches, records under ``no_grad``, calls ``backward`` (with and without ``retain_graph``,
with and without ``grad=``, again on graphs already freed) and clears gradients. After every
step the engine must agree with ``Reference``, a model that knows nothing of the engine:

- every node can be recomputed from the leaves with numpy alone (``Entry.evaluate``), so a
  backward from a root should add to each leaf the central finite difference of the root
  with respect to that leaf; leaf gradients accumulate until cleared, as in PyTorch;
- a ``Value`` intermediate holds the gradient of the latest backward through it (the finite
  difference with respect to the node itself); a ``Tensor`` intermediate holds none;
- a backward without ``retain_graph`` frees every recorded node it visits, and a later
  backward reaching any of them raises ``RuntimeError``, as do a backward from a node that
  does not require grad and an implicit-gradient backward from a non-scalar tensor.

``ScalarMachine`` drives each ``Value`` in lockstep with a 0-d ``Tensor`` twin, which must
agree with it bit for bit (the README's promise); ``TensorMachine`` drives tensors of small
shapes, with broadcasting, reductions and reshapes. Inputs are kept where finite differences
are accurate: data within [-LIMIT, LIMIT], log/sqrt on positive inputs, and kink ops
(relu, abs, maximum, clip, max reductions, ...) only at least MARGIN away from their kinks.

Budget: 200 sessions of 30 steps per machine by default (~15 s for both under CI); the
``thorough`` Hypothesis profile runs 500 sessions of 60 steps (~1.5 min).
"""
from __future__ import annotations

import contextlib
import inspect
import math
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import settings, strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.stateful import (
    Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule)

from autograd_core import (
    Tensor, Value, enable_grad, is_grad_enabled, maximum, minimum, no_grad, set_grad_enabled)

LIMIT = 8.0  # every node's data stays within [-LIMIT, LIMIT]
MARGIN = 0.1  # kink ops only apply to inputs at least this far from their kinks
MAX_SIZE, MAX_NDIM = 24, 4  # keeps broadcasting and expand from growing tensors without end
EPS = 1e-6  # finite-difference step
RTOL, ATOL = 1e-5, 1e-6  # engine gradients against finite differences

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
MACHINE_SETTINGS = settings(  # sessions x steps per machine
    max_examples=500 if THOROUGH else 200, stateful_step_count=60 if THOROUGH else 30)


# ----- the op tables: how to apply each op through the public API, and a numpy reference -----

@dataclass(frozen=True)
class OpCase:
    name: str
    apply: Callable  # (*nodes) -> node, through the public API
    reference: Callable  # (*arrays) -> array, numpy only
    safe: Callable = lambda *arrays: True  # inputs inside the domain and away from kinks?
    min_ndim: int = 0  # inputs with fewer dimensions are not offered to the op

    @property
    def arity(self) -> int:
        return len(inspect.signature(self.apply).parameters)

    def _repr_pretty_(self, printer, cycle):  # how Hypothesis prints a failing session's steps
        printer.text(self.name)


def away_from(*kinks):
    return lambda x: all(np.all(np.abs(x - k) >= MARGIN) for k in kinks)


def at_least(low):
    return lambda x: np.all(x >= low)


def spread(axis):
    """No two elements reduced together are within MARGIN (max/min would have a tie)."""
    return lambda x: np.all(np.diff(np.sort(x, axis=axis), axis=-1 if axis is None else axis)
                            >= MARGIN)


_erf = np.vectorize(math.erf, otypes=[float])

UNARY = [
    OpCase("neg", lambda x: -x, np.negative),
    OpCase("exp", lambda x: x.exp(), np.exp),
    OpCase("log", lambda x: x.log(), np.log, at_least(0.2)),
    OpCase("sqrt", lambda x: x.sqrt(), np.sqrt, at_least(0.2)),
    OpCase("sin", lambda x: x.sin(), np.sin),
    OpCase("cos", lambda x: x.cos(), np.cos),
    OpCase("tanh", lambda x: x.tanh(), np.tanh),
    OpCase("sigmoid", lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    OpCase("softplus", lambda x: x.softplus(), lambda x: np.log1p(np.exp(x))),
    OpCase("erf", lambda x: x.erf(), _erf),
    OpCase("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0.0), away_from(0)),
    OpCase("abs", lambda x: abs(x), np.abs, away_from(0)),
    OpCase("leaky_relu(0.1)", lambda x: x.leaky_relu(0.1),
           lambda x: np.where(x > 0, x, 0.1 * x), away_from(0)),
    OpCase("x ** 2", lambda x: x ** 2, np.square),
    OpCase("x ** 3", lambda x: x ** 3, lambda x: x ** 3),
    OpCase("2 ** x", lambda x: 2 ** x, lambda x: 2.0 ** x),
    OpCase("2.5 / x", lambda x: 2.5 / x, lambda x: 2.5 / x, away_from(0, 0.4)),
    OpCase("2.5 * x - 1", lambda x: 2.5 * x - 1, lambda x: 2.5 * x - 1),
]

BINARY = [
    OpCase("add", lambda a, b: a + b, np.add),
    OpCase("sub", lambda a, b: a - b, np.subtract),
    OpCase("mul", lambda a, b: a * b, np.multiply),
    OpCase("div", lambda a, b: a / b, np.divide, lambda a, b: np.all(np.abs(b) >= 0.5)),
    OpCase("pow", lambda a, b: a ** b, np.power, lambda a, b: np.all(a >= 0.2)),
    OpCase("maximum", maximum, np.maximum, lambda a, b: np.all(np.abs(a - b) >= MARGIN)),
    OpCase("minimum", minimum, np.minimum, lambda a, b: np.all(np.abs(a - b) >= MARGIN)),
]

TENSOR_UNARY = UNARY + [
    OpCase("sum()", lambda x: x.sum(), np.sum),
    OpCase("sum(axis=0)", lambda x: x.sum(axis=0), lambda x: np.sum(x, axis=0), min_ndim=1),
    OpCase("sum(axis=-1, keepdims=True)", lambda x: x.sum(axis=-1, keepdims=True),
           lambda x: np.sum(x, axis=-1, keepdims=True), min_ndim=1),
    OpCase("mean(axis=-1)", lambda x: x.mean(axis=-1), lambda x: np.mean(x, axis=-1), min_ndim=1),
    OpCase("max()", lambda x: x.max(), np.max, spread(None)),
    OpCase("min(axis=0)", lambda x: x.min(axis=0), lambda x: np.min(x, axis=0),
           spread(0), min_ndim=1),
    OpCase("logsumexp(axis=-1)", lambda x: x.logsumexp(axis=-1),
           lambda x: np.log(np.sum(np.exp(x), axis=-1)), min_ndim=1),
    OpCase("softmax(axis=-1)", lambda x: x.softmax(axis=-1),
           lambda x: np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True), min_ndim=1),
    OpCase("log_softmax(axis=0)", lambda x: x.log_softmax(axis=0),
           lambda x: x - np.log(np.sum(np.exp(x), axis=0, keepdims=True)), min_ndim=1),
    OpCase("clip(-1, 1)", lambda x: x.clip(-1.0, 1.0), lambda x: np.clip(x, -1.0, 1.0),
           away_from(-1, 1)),
    OpCase("reshape(-1)", lambda x: x.reshape(-1), lambda x: np.reshape(x, -1)),
    OpCase("T", lambda x: x.T, np.transpose),
    OpCase("unsqueeze(0)", lambda x: x.unsqueeze(0), lambda x: x[None]),
    OpCase("expand(2, *shape)", lambda x: x.expand(2, *x.shape),
           lambda x: np.broadcast_to(x, (2, *x.shape))),
    OpCase("x[0]", lambda x: x[0], lambda x: x[0], min_ndim=1),
    OpCase("x[..., ::-1]", lambda x: x[..., ::-1], lambda x: x[..., ::-1], min_ndim=1),
    OpCase("x[[0, 0, -1]]", lambda x: x[[0, 0, -1]], lambda x: x[[0, 0, -1]], min_ndim=1),
]

TENSOR_BINARY = BINARY + [OpCase("matmul", lambda a, b: a @ b, np.matmul)]


@dataclass(frozen=True)
class GradMode:
    name: str
    context: Callable  # () -> context manager
    records: bool

    _repr_pretty_ = OpCase._repr_pretty_


@contextlib.contextmanager
def _enable_grad_inside_no_grad():
    with no_grad(), enable_grad():
        yield


RECORDING = GradMode("recording", contextlib.nullcontext, True)
GRAD_MODES = st.sampled_from([  # for the rules that try them; other rules just record
    GradMode("no_grad", no_grad, False),
    GradMode("set_grad_enabled(False)", lambda: set_grad_enabled(False), False),
    GradMode("enable_grad inside no_grad", _enable_grad_inside_no_grad, True),
])


# ----- the reference model -----

@dataclass(eq=False)  # entries are dict keys by identity
class Entry:
    """A node the machine made (one per node type driven), and how to recompute it with numpy."""

    nodes: tuple  # the same node on each node type (a Value and its 0-d Tensor twin, or a Tensor)
    value: np.ndarray  # its data, computed by numpy
    reference: Callable | None = None  # numpy function of the inputs (recorded nodes only)
    inputs: tuple = ()
    leaves: frozenset = frozenset()  # the leaves needing a gradient it depends on through records
    history: frozenset = frozenset()  # the recorded nodes a backward from it visits (itself too)
    is_parameter: bool = False  # a leaf that requires grad

    def __repr__(self):  # short: the fields refer to other entries, and to whole graphs
        return f"Entry{self.nodes}"

    @property
    def requires_grad(self) -> bool:
        return bool(self.leaves)

    def evaluate(self, known: dict) -> np.ndarray:
        """Its value when the nodes in ``known`` take the values given there (a memo too)."""
        if self not in known:
            known[self] = (self.reference(*(x.evaluate(known) for x in self.inputs))
                           if self.history else self.value)
        return known[self]


def numerical_gradient(root: Entry, seed: np.ndarray, wrt: Entry) -> np.ndarray:
    """Central differences of sum(seed * root) with respect to the node ``wrt``."""
    grad = np.zeros_like(wrt.value)
    for i in np.ndindex(wrt.value.shape):
        step = np.zeros_like(wrt.value)
        step[i] = EPS
        up, down = root.evaluate({wrt: wrt.value + step}), root.evaluate({wrt: wrt.value - step})
        grad[i] = np.sum(seed * (up - down)) / (2 * EPS)
    return grad


UNKNOWN = "unknown"  # a refused backward resets some intermediate gradients before it raises


class Reference:
    """What the engine should hold: gradients, and which recorded nodes were freed."""

    def __init__(self, tracks_intermediates: bool):
        self.tracks_intermediates = tracks_intermediates  # only Values keep them
        self.leaf_grads = {}  # parameter -> sum of its gradients since cleared (absent: none)
        self.latest_grads = {}  # recorded node -> its gradient in the latest backward through it
        self.freed = set()  # recorded nodes whose saved values a backward released

    def backward(self, root: Entry, seed, retain_graph: bool):
        """Account for a backward from ``root``; return the (error, message) it must raise."""
        if not root.requires_grad:
            return RuntimeError, "does not require grad"
        if seed is None and root.value.size != 1:
            return RuntimeError, "grad can be implicitly created only for scalar outputs"
        if root.history & self.freed:
            self.latest_grads.update(dict.fromkeys(root.history, UNKNOWN))
            return RuntimeError, "backward through the graph a second time"
        seed = np.ones_like(root.value) if seed is None else seed
        for leaf in root.leaves:
            g = numerical_gradient(root, seed, leaf)
            self.leaf_grads[leaf] = self.leaf_grads[leaf] + g if leaf in self.leaf_grads else g
        if self.tracks_intermediates:
            for node in root.history:
                self.latest_grads[node] = numerical_gradient(root, seed, node)
        if not retain_graph:
            self.freed |= root.history
        return None

    def clear(self, leaves):
        for leaf in leaves:
            self.leaf_grads.pop(leaf, None)

    def zero_grad(self, entry: Entry):
        """``Value.zero_grad()``: zero on the node and everything it was computed from."""
        self.clear(entry.leaves)
        self.latest_grads.update(dict.fromkeys(entry.history, np.zeros(())))

    def expected_grad(self, entry: Entry):
        """The gradient the node should hold: an array, None for none, or UNKNOWN."""
        if entry.is_parameter:
            return self.leaf_grads.get(entry)
        return self.latest_grads.get(entry) if entry.history else None


# ----- checks -----

def check_grad(node, expected, is_parameter: bool) -> None:
    """``node.grad`` is ``expected``, in the form the node type gives it."""
    if isinstance(node, Value):
        assert type(node.grad) is float, node.grad
        expected = 0.0 if expected is None else expected  # a Value's "no gradient" is 0.0
    elif not is_parameter:
        expected = None  # a Tensor intermediate keeps no gradient (no retain_grad here)
    if expected is UNKNOWN:
        return
    if expected is None:
        assert node.grad is None, f"expected no gradient, got {node.grad!r}"
        return
    assert np.shape(node.grad) == np.shape(expected)
    np.testing.assert_allclose(node.grad, expected, rtol=RTOL, atol=ATOL)


def draw_grad(data, root: Entry) -> np.ndarray:
    """A gradient for backward(grad=...) from ``root``: an array of its shape."""
    return data.draw(hnp.arrays(np.float64, root.value.shape, elements=st.floats(-2, 2)),
                     label="grad")


def bits(x: float) -> bytes:
    return struct.pack("<d", float(x))


CLEARED = {Value: 0.0, Tensor: None}  # what a user sets .grad to, to clear it

nodes = Bundle("nodes")
parameters = Bundle("parameters")  # leaves that require grad
roots = Bundle("roots")  # nodes a backward was called from (backward again from them)


class EngineMachine(RuleBasedStateMachine):
    """The rules and invariants both machines share; subclasses add leaves and op rules."""

    KINDS: tuple  # the node types driven in lockstep

    def __init__(self):
        super().__init__()
        self.model = Reference(tracks_intermediates=Value in self.KINDS)
        self.entries: list[Entry] = []

    # ----- helpers -----
    def _leaf(self, data: np.ndarray, requires_grad: bool) -> Entry:
        made = tuple(kind(data if kind is Tensor else float(data), requires_grad=requires_grad)
                     for kind in self.KINDS)
        entry = Entry(made, np.array(data, dtype=np.float64), is_parameter=requires_grad)
        if requires_grad:
            entry.leaves = frozenset([entry])  # its own gradient
        self.entries.append(entry)
        return entry

    @property
    def newest(self) -> Entry:
        """The latest node that requires grad and whose graph was not freed. Ops on it and
        backward from it build deep graphs whose paths converge, as a training step does (rules
        drawing from the bundle alone build shallow ones, often on freed graphs)."""
        return next(entry for entry in reversed(self.entries)
                    if entry.requires_grad and not entry.history & self.model.freed)

    def _apply(self, case: OpCase, inputs: tuple, mode: GradMode):
        """``case`` applied to ``inputs`` under ``mode``, checked against numpy and the model."""
        values = [x.value for x in inputs]
        if any(v.ndim < case.min_ndim for v in values):
            return multiple()
        try:
            with np.errstate(all="ignore"):
                expected = np.asarray(case.reference(*values), dtype=np.float64)
        except ValueError:  # shapes that do not broadcast: the engine refuses them too
            for k in range(len(self.KINDS)):
                with pytest.raises(ValueError, match="of tensors of shapes"):
                    case.apply(*(x.nodes[k] for x in inputs))
            return multiple()
        if not (case.safe(*values) and np.all(np.abs(expected) <= LIMIT)
                and expected.size <= MAX_SIZE and expected.ndim <= MAX_NDIM):
            return multiple()  # outside what finite differences check well: skip
        records = mode.records and any(x.requires_grad for x in inputs)
        made = []
        for k in range(len(self.KINDS)):
            with mode.context():
                node = case.apply(*(x.nodes[k] for x in inputs))
            assert np.shape(node.data) == expected.shape
            np.testing.assert_allclose(node.data, expected, rtol=1e-9, atol=1e-12)
            assert node.requires_grad is records and node.is_leaf is not records
            assert bool(node.parents) is records
            made.append(node)
        if not records:  # a constant: no history, and no gradient will flow through it
            entry = Entry(tuple(made), expected)
        else:
            entry = Entry(tuple(made), expected, case.reference, inputs,
                          leaves=frozenset().union(*(x.leaves for x in inputs)),
                          history=frozenset().union(*(x.history for x in inputs)))
            entry.history |= {entry}
        self.entries.append(entry)
        return entry

    def _grow(self, cases, others):
        """A few ops in a row on the newest node (binary ones with a node from the pool)."""
        made = [self._apply(case, (self.newest, other)[:case.arity], RECORDING)
                for case, other in zip(cases, others)]
        return multiple(*(entry for entry in made if isinstance(entry, Entry)))

    def _backward(self, root: Entry, seed, retain_graph):
        """backward() from ``root`` on every node type: the outcome the model predicts."""
        kwargs = {} if retain_graph is None else {"retain_graph": retain_graph}
        if seed is not None:
            kwargs["grad"] = seed
        error = self.model.backward(root, seed, bool(retain_graph))
        for node in root.nodes:
            if error is None:
                node.backward(**kwargs)
            else:
                with pytest.raises(error[0], match=error[1]):
                    node.backward(**kwargs)
        return root

    # ----- rules -----
    @rule(target=roots, root=nodes, retain_graph=st.sampled_from([None, False, True]))
    def backward(self, root, retain_graph):
        return self._backward(root, None, retain_graph)

    @rule(target=roots, retain_graph=st.sampled_from([None, False, True]), data=st.data())
    def backward_from_newest(self, retain_graph, data):
        root = self.newest  # a non-scalar tensor gets a grad=, to reach its deep graph
        return self._backward(root, None if root.value.size == 1 else draw_grad(data, root),
                              retain_graph)

    @rule(root=roots, retain_graph=st.sampled_from([None, False, True]))
    def backward_again(self, root, retain_graph):
        self._backward(root, None, retain_graph)

    @rule(target=roots, root=nodes, retain_graph=st.booleans(), data=st.data())
    def backward_with_grad(self, root, retain_graph, data):
        return self._backward(root, draw_grad(data, root), retain_graph)

    @rule(leaf=parameters)
    def clear_grad(self, leaf):
        for kind, node in zip(self.KINDS, leaf.nodes):
            node.grad = CLEARED[kind]
        self.model.clear([leaf])

    @rule(target=nodes, x=nodes)
    def detach(self, x):
        detached = tuple(node.detach() for node in x.nodes)
        for new, old in zip(detached, x.nodes):
            assert not new.requires_grad and new.parents == () and new is not old
            assert np.array_equal(new.data, old.data)
        entry = Entry(detached, x.value)  # a constant: gradient stops here
        self.entries.append(entry)
        return entry

    # ----- invariants -----
    @invariant()
    def gradients_match_the_reference(self):
        for entry in self.entries:
            expected = self.model.expected_grad(entry)
            for node in entry.nodes:
                check_grad(node, expected, entry.is_parameter)

    @invariant()
    def recording_is_back_on(self):
        assert is_grad_enabled()


def scalars():
    return st.one_of(st.floats(-2.0, -0.1), st.floats(0.1, 2.0))


class ScalarMachine(EngineMachine):
    """Values, each driven in lockstep with a 0-d Tensor twin."""

    KINDS = (Value, Tensor)

    @initialize(targets=(nodes, parameters), data=st.lists(scalars(), min_size=2, max_size=2))
    def first_parameters(self, data):
        return multiple(*(self._leaf(np.array(x), requires_grad=True) for x in data))

    @rule(targets=(nodes, parameters), data=scalars())
    def new_parameter(self, data):
        return self._leaf(np.array(data), requires_grad=True)

    @rule(target=nodes, data=scalars())
    def new_constant(self, data):
        return self._leaf(np.array(data), requires_grad=False)

    @rule(target=nodes, case=st.sampled_from(UNARY), x=nodes)
    def unary(self, case, x):
        return self._apply(case, (x,), RECORDING)

    @rule(target=nodes, case=st.sampled_from(BINARY), a=nodes, b=nodes)
    def binary(self, case, a, b):
        return self._apply(case, (a, b), RECORDING)

    @rule(target=nodes, cases=st.lists(st.sampled_from(UNARY + BINARY), min_size=1, max_size=6),
          others=st.lists(nodes, min_size=6, max_size=6))
    def grow(self, cases, others):
        return self._grow(cases, others)

    @rule(target=nodes, case=st.sampled_from(UNARY + BINARY), a=nodes, b=nodes, mode=GRAD_MODES)
    def op_in_grad_mode(self, case, a, b, mode):
        return self._apply(case, (a, b)[:case.arity], mode)

    @rule(x=nodes)
    def zero_grad(self, x):
        value, _ = x.nodes
        value.zero_grad()
        for leaf in x.leaves:  # tensors have no zero_grad(): clear the twins' leaves by hand
            leaf.nodes[1].grad = None
        self.model.zero_grad(x)

    @invariant()
    def value_and_tensor_agree_bit_for_bit(self):
        for entry in self.entries:
            value, tensor = entry.nodes
            assert bits(value.data) == bits(tensor.data), (value, tensor)
            if entry.is_parameter:
                tensor_grad = 0.0 if tensor.grad is None else tensor.grad
                assert bits(value.grad) == bits(tensor_grad), (value.grad, tensor_grad)


LEAF_SHAPES = st.sampled_from([(), (1,), (3,), (2, 1), (1, 3), (2, 3)])


def arrays():
    return LEAF_SHAPES.flatmap(lambda shape: hnp.arrays(np.float64, shape, elements=scalars()))


class TensorMachine(EngineMachine):
    """Tensors of small shapes: broadcasting, reductions, reshapes, indexing."""

    KINDS = (Tensor,)

    @initialize(targets=(nodes, parameters), data=st.lists(arrays(), min_size=2, max_size=2))
    def first_parameters(self, data):
        return multiple(*(self._leaf(x, requires_grad=True) for x in data))

    @rule(targets=(nodes, parameters), data=arrays())
    def new_parameter(self, data):
        return self._leaf(data, requires_grad=True)

    @rule(target=nodes, data=arrays())
    def new_constant(self, data):
        return self._leaf(data, requires_grad=False)

    @rule(target=nodes, case=st.sampled_from(TENSOR_UNARY), x=nodes)
    def unary(self, case, x):
        return self._apply(case, (x,), RECORDING)

    @rule(target=nodes, case=st.sampled_from(TENSOR_BINARY), a=nodes, b=nodes)
    def binary(self, case, a, b):
        return self._apply(case, (a, b), RECORDING)

    @rule(target=nodes, cases=st.lists(st.sampled_from(TENSOR_UNARY + TENSOR_BINARY), min_size=1,
                                       max_size=6), others=st.lists(nodes, min_size=6, max_size=6))
    def grow(self, cases, others):
        return self._grow(cases, others)

    @rule(target=nodes, case=st.sampled_from(TENSOR_UNARY + TENSOR_BINARY), a=nodes, b=nodes,
          mode=GRAD_MODES)
    def op_in_grad_mode(self, case, a, b, mode):
        return self._apply(case, (a, b)[:case.arity], mode)

    @invariant()
    def arrays_backward_will_read_are_read_only(self):
        # What a recorded op's backward will read cannot be changed in place (the README's
        # promise): its inputs if its rules read them (or its result is a view of them), its
        # result if they read that (exp's). A sum's inputs stay writeable, as in PyTorch.
        for entry in self.entries:
            node = entry.nodes[0]
            if node._a is None:  # made without recording: nothing to protect
                continue
            if node._op.reads_inputs or node.data.base is not None:
                for x in entry.inputs:
                    assert not x.nodes[0].data.flags.writeable
            if node._op.reads_out:
                assert not node.data.flags.writeable


TestScalarMachine = ScalarMachine.TestCase
TestScalarMachine.settings = MACHINE_SETTINGS
TestTensorMachine = TensorMachine.TestCase
TestTensorMachine.settings = MACHINE_SETTINGS
