"""Every elementwise op of the table at the edges of float64: zeros of both signs, the smallest
subnormal, tiny, ordinary, huge and the largest finite numbers, infinities and nan.

One table drives everything. Each op runs on all 17 values (binary ops on all 17 x 17 pairs)
as scalar ``Value``s, as 0-d ``Tensor``s (one graph per input, as for Values) and as one
whole-array ``Tensor`` (a 1-d tensor of the 17 values, or the 17 x 17 grid), and:

- the forward result is numpy's on the same float64 input, to the bit and to the sign of zero;
- backward, by each of the four ways the library computes gradients (``backward()``,
  ``backward(create_graph=True)``, ``autograd_core.grad``, ``Tape.gradient``), raises nothing,
  lets no numpy RuntimeWarning escape and leaves numpy's error state as it found it;
- a Value's gradients are a Tensor's to the bit (nan where nan, the same sign of zero);
- the documented conventions at kinks hold wherever the table has a kink.

Signed zeros are compared for every op: each reference below defines them (numpy's ufuncs and
``math.erf`` follow IEEE 754), and the library's fast paths promise to agree to the sign of
zero (``Tensor._add_grad``). Only the sign of nan is never compared.
"""
from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import autograd_core
from autograd_core import Tape, Tensor, Value, maximum, minimum, ops

TINIEST = 5e-324  # the smallest subnormal
LARGEST = sys.float_info.max
# The values the issue lists ({±0, ±1e-300, ±1e-3, ±1, ±1e20, ±inf, nan}: 13), plus the two
# ends of the finite range (±5e-324, ±max): 17 values, 289 pairs.
EXTREMAL = np.array([0.0, -0.0, TINIEST, -TINIEST, 1e-300, -1e-300, 1e-3, -1e-3, 1.0, -1.0,
                     1e20, -1e20, LARGEST, -LARGEST, math.inf, -math.inf, math.nan])
SLOPE = 0.01  # leaky_relu's default slope
LOW, HIGH = -1.0, 1.0  # clip's bounds: two of the values sit exactly on them


# ----- the op table -----

def _sigmoid_reference(x):
    """The logistic function in its standard overflow-free form (numpy has no sigmoid)."""
    with np.errstate(all="ignore"):  # exp overflows in the branch that np.where discards
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def _erf_reference(x):
    """numpy has no erf: the C library's, through ``math.erf``, element by element."""
    return np.vectorize(math.erf, otypes=[np.float64])(x)


@dataclass(frozen=True)
class Elementwise:
    name: str
    apply: Callable  # (*nodes) -> node, as users call it; the same call for Values and Tensors
    reference: Callable  # (*float64 arrays) -> float64 array: numpy's answer
    arity: int = 1

    def __repr__(self):
        return self.name


UNARY = [
    Elementwise("neg", lambda x: -x, np.negative),
    Elementwise("exp", lambda x: x.exp(), np.exp),
    Elementwise("log", lambda x: x.log(), np.log),
    Elementwise("sqrt", lambda x: x.sqrt(), np.sqrt),
    Elementwise("sin", lambda x: x.sin(), np.sin),
    Elementwise("cos", lambda x: x.cos(), np.cos),
    Elementwise("tanh", lambda x: x.tanh(), np.tanh),
    Elementwise("sigmoid", lambda x: x.sigmoid(), _sigmoid_reference),
    Elementwise("softplus", lambda x: x.softplus(), lambda x: np.logaddexp(0.0, x)),
    Elementwise("erf", lambda x: x.erf(), _erf_reference),
    # relu(-0.0) is +0.0 and relu(nan) is nan, as np.maximum(x, 0.0) gives them
    Elementwise("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0.0)),
    Elementwise("leaky_relu", lambda x: x.leaky_relu(SLOPE),
                lambda x: np.where(x > 0, x, x * SLOPE)),
    Elementwise("abs", lambda x: abs(x), np.abs),
    # sign and clip are rows of the table without a method on Value: called as the row
    Elementwise("sign", lambda x: ops.sign(x), np.sign),
    Elementwise("clip", lambda x: ops.clip(x, LOW, HIGH), lambda x: np.clip(x, LOW, HIGH)),
]
BINARY = [
    Elementwise("add", lambda a, b: a + b, np.add, 2),
    Elementwise("sub", lambda a, b: a - b, np.subtract, 2),
    Elementwise("mul", lambda a, b: a * b, np.multiply, 2),
    Elementwise("div", lambda a, b: a / b, np.divide, 2),
    Elementwise("pow", lambda a, b: a ** b, np.power, 2),
    Elementwise("maximum", maximum, np.maximum, 2),
    Elementwise("minimum", minimum, np.minimum, 2),
]
TABLE = UNARY + BINARY
BY_NAME = {op.name: op for op in TABLE}
DIFFERENTIABLE = [op for op in TABLE if op.name != "sign"]  # sign's row has no VJP


def test_the_table_covers_every_elementwise_row_of_the_op_table():
    elementwise = {"add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "sin", "cos",
                   "tanh", "sigmoid", "softplus", "erf", "relu", "leaky_relu", "sign", "abs",
                   "maximum", "minimum", "clip"}
    assert set(BY_NAME) == elementwise <= set(ops.OPS)
    assert all(len(ops.OPS[op.name].vjps) == op.arity for op in TABLE)
    assert len(EXTREMAL) == 17


# ----- running an op: three kinds of node, four ways to differentiate -----

KINDS = ("Value", "0-d Tensor", "whole-array Tensor")
PATHS = ("backward", "create_graph", "grad", "tape")


def grid(op) -> tuple:
    """The inputs of ``op``: the 17 values, or the 17 x 17 pairs (first input varies by row)."""
    if op.arity == 1:
        return (EXTREMAL,)
    return tuple(np.meshgrid(EXTREMAL, EXTREMAL, indexing="ij"))


def make_leaf(kind, x):
    if kind == "Value":
        return Value(float(x))
    return Tensor(x, requires_grad=True)  # a numpy scalar makes a 0-d tensor


def raw(g):
    """A gradient as data: a recorded gradient (create_graph) is a node."""
    return g.data if isinstance(g, autograd_core.Node) else g


def differentiate(out, leaves, path, tape):
    """The gradient of ``out`` (seeded with ones) for each leaf, computed the ``path`` way;
    None where no gradient reached a leaf. ``tape`` recorded the forward pass."""
    seed = None if np.ndim(out.data) == 0 else np.ones(np.shape(out.data))
    if path == "backward":
        out.backward(seed)
        return [leaf.grad for leaf in leaves]
    if path == "create_graph":
        out.backward(seed, create_graph=True)
        return [raw(leaf.grad) for leaf in leaves]
    if path == "grad":
        return list(autograd_core.grad(out, leaves, grad_outputs=seed, allow_unused=True))
    if path == "tape":
        return tape.gradient(out, leaves, seed)
    raise AssertionError(path)


@dataclass
class Run:
    data: np.ndarray  # the forward results, shaped like the inputs
    grads: list  # per input: the gradients shaped like the inputs, or None (no gradient)
    warnings: list  # what escaped the backward passes
    errstate_after: dict  # numpy's error state right after them


def run(op, kind, path="backward") -> Run:
    """``op`` on every input of its grid as ``kind`` nodes, then differentiated by ``path``.

    The forward passes run first, with numpy quiet (they warn as numpy does, e.g. log(0),
    which is not what is tested here); the backward passes then run together with numpy set to
    warn and every warning recorded.
    """
    inputs = grid(op)
    if kind == "whole-array Tensor":
        graphs = [[make_leaf(kind, x) for x in inputs]]
    else:
        graphs = [[make_leaf(kind, x[index]) for x in inputs]
                  for index in np.ndindex(inputs[0].shape)]
    outputs, tapes = [], []
    with np.errstate(all="ignore"):
        for leaves in graphs:
            with Tape() as tape:
                outputs.append(op.apply(*leaves))
            tapes.append(tape)
    per_graph = []
    with np.errstate(all="warn"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for out, leaves, tape in zip(outputs, graphs, tapes):
            per_graph.append(differentiate(out, leaves, path, tape))
        errstate_after = np.geterr()
    shape = inputs[0].shape
    data = np.reshape(np.array([out.data for out in outputs], dtype=np.float64), shape)
    grads = []
    for i in range(op.arity):
        column = [g[i] for g in per_graph]
        if all(g is None for g in column):
            grads.append(None)
        else:
            assert not any(g is None for g in column), f"{op} {kind} {path}: some gradients None"
            grads.append(np.reshape(np.array(column, dtype=np.float64), shape))
    return Run(data, grads, list(caught), errstate_after)


# ----- comparing floats to the bit -----

def mismatches(actual, expected, signed_zeros=True) -> np.ndarray:
    """Where ``actual`` differs from ``expected``: in value, in being nan, or in the sign of a
    zero (np.testing.assert_array_equal is nan-aware but blind to signed zeros)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape
    both_nan = np.isnan(actual) & np.isnan(expected)
    same = (actual == expected) | both_nan
    if signed_zeros:
        same &= both_nan | (np.signbit(actual) == np.signbit(expected))
    return ~same


def assert_same_floats(actual, expected, what, inputs, signed_zeros=True):
    wrong = mismatches(actual, expected, signed_zeros)
    if wrong.any():
        actual = np.broadcast_to(actual, wrong.shape)
        expected = np.broadcast_to(expected, wrong.shape)
        lines = [f"  at {tuple(float(x[i]) for x in inputs)}: {float(actual[i])!r} instead of "
                 f"{float(expected[i])!r}" for i in map(tuple, np.argwhere(wrong)[:20])]
        pytest.fail(f"{what}: {int(wrong.sum())} of {wrong.size} differ\n" + "\n".join(lines))


def test_the_comparison_sees_signed_zeros_and_matches_nan_with_nan():
    assert not mismatches([math.nan, -0.0, math.inf], [math.nan, -0.0, math.inf]).any()
    assert mismatches([0.0, math.nan, 1.0], [-0.0, 1.0, math.nan]).tolist() == [True] * 3
    assert not mismatches([0.0], [-0.0], signed_zeros=False).any()


ops_table = pytest.mark.parametrize("op", TABLE, ids=repr)
differentiable = pytest.mark.parametrize("op", DIFFERENTIABLE, ids=repr)


# ----- (a) forward: numpy's result on the same float64 input -----

@ops_table
@pytest.mark.parametrize("kind", KINDS)
def test_forward_is_numpys_result_to_the_bit(op, kind):
    inputs = grid(op)
    with np.errstate(all="ignore"):
        if kind == "whole-array Tensor":
            expected = op.reference(*inputs)
        else:  # numpy on the same scalar input (not on the array the scalar came from)
            expected = np.array([op.reference(*[np.float64(x[i]) for x in inputs])
                                 for i in np.ndindex(inputs[0].shape)]).reshape(inputs[0].shape)
    result = run(op, kind)
    assert_same_floats(result.data, expected, f"{op}({kind})", inputs)


@pytest.mark.parametrize("op", BINARY, ids=repr)
def test_broadcast_forward_and_gradients_are_the_grids(op):
    """A column of the 17 values against a row of them gives the grid; each input's gradient
    is the grid's gradient summed over the axis it was broadcast along (as numpy sums it)."""
    column = Tensor(EXTREMAL[:, None], requires_grad=True)
    row = Tensor(EXTREMAL, requires_grad=True)
    with np.errstate(all="ignore"):
        out = op.apply(column, row)
    out.backward(np.ones(out.shape))
    full = run(op, "whole-array Tensor")
    inputs = grid(op)
    assert_same_floats(out.data, full.data, f"{op} broadcast forward", inputs)
    assert column.grad.shape == (17, 1) and row.grad.shape == (17,)
    with np.errstate(all="ignore"):  # inf + -inf
        column_sums, row_sums = full.grads[0].sum(axis=1, keepdims=True), full.grads[1].sum(axis=0)
    assert_same_floats(column.grad, column_sums, f"{op} gradient of the broadcast column",
                       (EXTREMAL[:, None],))
    assert_same_floats(row.grad, row_sums, f"{op} gradient of the broadcast row", (EXTREMAL,))


# ----- (b) backward: never raises, never warns, leaves numpy's error state alone -----

@ops_table
@pytest.mark.parametrize("path", PATHS)
def test_backward_raises_nothing_and_lets_no_warning_escape(op, path):
    kinds = KINDS
    if op.name == "clip" and path == "create_graph":
        # clip is a Tensor op (F.clip refuses Values); its rule multiplies the recorded
        # gradient by a numpy mask, which a Value cannot be multiplied by.
        kinds = ("0-d Tensor", "whole-array Tensor")
    for kind in kinds:
        result = run(op, kind, path)
        assert [str(w.message) for w in result.warnings] == [], f"{op} on {kind}, {path}"
        assert all(state == "warn" for state in result.errstate_after.values()), \
            f"{op} on {kind}, {path}: numpy's error state changed to {result.errstate_after}"


# ----- (c) Value and Tensor gradients agree to the bit -----

# backward(create_graph=True) once gave a Value the gradient itself (-0.0 stayed -0.0) where
# backward() and Tensors add it to +0.0; log, cos, mul, div and pow showed it.
@pytest.mark.parametrize("op, path", [
    pytest.param(op, path, id=f"{op}-{path}") for op in DIFFERENTIABLE for path in PATHS])
def test_value_and_tensor_gradients_are_identical(op, path):
    inputs = grid(op)
    kinds = KINDS[1:] if (op.name, path) == ("clip", "create_graph") else KINDS  # see above
    results = {kind: run(op, kind, path) for kind in kinds}
    first, *others = kinds
    for kind in others:
        for i in range(op.arity):
            assert_same_floats(results[kind].grads[i], results[first].grads[i],
                               f"{op} gradient of input {i} by {path} on a {kind} (the "
                               f"{first}'s instead)", inputs)


@differentiable
def test_every_way_to_differentiate_gives_the_gradients_of_backward(op):
    """grad() and Tape.gradient return the gradient itself; ``.grad`` accumulates it from
    +0.0, so the two differ exactly where the gradient is -0.0 (0.0 + -0.0 is +0.0).
    backward(create_graph=True) fills ``.grad`` too. (Values are compared to Tensors above.)"""
    inputs = grid(op)
    kind = "whole-array Tensor"
    accumulated = run(op, kind, "backward").grads
    recorded = run(op, kind, "create_graph").grads
    for path in ("grad", "tape"):
        returned = run(op, kind, path).grads
        for i in range(op.arity):
            assert_same_floats(returned[i] + 0.0, accumulated[i], f"{op} input {i}: {path}", inputs)
    for i in range(op.arity):
        assert_same_floats(recorded[i], accumulated[i], f"{op} input {i}: create_graph", inputs)


def test_sign_passes_no_gradient_to_either_kind_of_node():
    """sign's row has no VJP: nothing reaches the input. A Value's .grad starts at 0.0 and
    stays there; a Tensor's starts as None and stays None, as in PyTorch for unused leaves.
    grad() and Tape.gradient, which return gradients, give zeros: the input was used."""
    for kind in KINDS:
        result = run(BY_NAME["sign"], kind)
        if kind == "Value":
            assert result.grads[0].tolist() == [0.0] * 17
        else:
            assert result.grads == [None]
        for path in ("grad", "tape"):
            (g,) = run(BY_NAME["sign"], kind, path).grads
            assert np.array_equal(g, np.zeros(17)), (kind, path, g)


def test_grad_through_sign_is_zero_not_unused():
    """sign passes no gradient, but x was used: grad() gives 0, as PyTorch does."""
    x = Value(0.5)
    (g,) = autograd_core.grad(ops.sign(x), x)
    assert g == 0.0 and type(g) is float
    t = Tensor([0.5, -1.0], requires_grad=True)
    (g,) = autograd_core.grad(ops.sign(t).sum(), t)
    assert np.array_equal(g, np.zeros(2))


# ----- (d) the documented conventions at kinks, on every kind of node -----

# (op, input, expected gradient): ops.py's docstring and the README, at both zeros.
UNARY_KINKS = [
    ("relu", 0.0, 0.0), ("relu", -0.0, 0.0),
    ("abs", 0.0, 0.0), ("abs", -0.0, 0.0),
    ("leaky_relu", 0.0, SLOPE), ("leaky_relu", -0.0, SLOPE),
    ("sqrt", 0.0, math.inf),  # the README's sqrt'(0) = inf
    ("sqrt", -0.0, -math.inf),  # 1 / (2 sqrt(-0.0)), IEEE's sqrt(-0.0) being -0.0 (as PyTorch)
    ("clip", LOW, 1.0), ("clip", HIGH, 1.0),  # the bounds belong to the inside
]


@pytest.mark.parametrize("name, x, expected", UNARY_KINKS, ids=lambda v: repr(v))
@pytest.mark.parametrize("kind", KINDS)
def test_unary_kink_conventions(name, x, expected, kind):
    result = run(BY_NAME[name], kind)
    at = [i for i, v in enumerate(EXTREMAL) if v == x and np.signbit(v) == np.signbit(x)]
    assert result.grads[0][at].tolist() == [expected]


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("kind", KINDS)
def test_maximum_and_minimum_split_ties_evenly_and_send_the_rest_to_the_winner(name, kind):
    """On every pair without a nan: a tie (including 0.0 vs -0.0 and inf vs inf) gives each
    input half the gradient, otherwise the selected input gets all of it."""
    a, b = grid(BY_NAME[name])
    result = run(BY_NAME[name], kind)
    chosen = a > b if name == "maximum" else a < b
    expected_a = np.where(a == b, 0.5, np.where(chosen, 1.0, 0.0))
    expected_b = np.where(a == b, 0.5, np.where(chosen, 0.0, 1.0))
    ordered = ~(np.isnan(a) | np.isnan(b))
    assert (a == b)[ordered].sum() == 16 + 2  # the diagonal, and the two orders of (0.0, -0.0)
    assert_same_floats(result.grads[0][ordered], expected_a[ordered], f"{name} d/da",
                       (a[ordered], b[ordered]), signed_zeros=False)
    assert_same_floats(result.grads[1][ordered], expected_b[ordered], f"{name} d/db",
                       (a[ordered], b[ordered]), signed_zeros=False)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("kind", KINDS)
def test_maximum_and_minimum_give_both_inputs_the_whole_gradient_when_one_is_nan(name, kind):
    """A nan is neither larger nor smaller, so neither input loses: both get the gradient, as
    in PyTorch (``where(a == b, g / 2, g)`` masked where the other input wins)."""
    a, b = grid(BY_NAME[name])
    result = run(BY_NAME[name], kind)
    unordered = np.isnan(a) | np.isnan(b)
    assert unordered.sum() == 2 * 17 - 1
    assert result.grads[0][unordered].tolist() == [1.0] * 33
    assert result.grads[1][unordered].tolist() == [1.0] * 33


# Where an op is flat its gradient is 0 whatever arrives from above, an inf (sqrt'(0)) or a
# nan included: the rules select, as PyTorch's do, rather than multiply by a 0/1 mask (inf * 0
# is nan). Inputs: -1 (cut off), 4 (passed on: sqrt'(4) = 1/4).
FLAT_BELOW_ZERO = [
    ("relu", lambda x: x.relu()),
    ("clip", lambda x: ops.clip(x, 0.0, 10.0)),
    ("maximum", lambda x: maximum(x, 0.0)),
    ("minimum", lambda x: -minimum(-x, 0.0)),
]


@pytest.mark.parametrize("name, flat_below_zero", FLAT_BELOW_ZERO,
                         ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("upstream", ["sqrt", "nan"])
def test_a_flat_op_stops_an_infinite_or_nan_gradient(name, flat_below_zero, kind, upstream):
    follow = (lambda y: y.sqrt()) if upstream == "sqrt" else (lambda y: y * math.nan)
    grads = []
    for x in (-1.0, 4.0):
        leaf = Tensor([x], requires_grad=True) if kind == "whole-array Tensor" else make_leaf(kind, x)
        out = follow(flat_below_zero(leaf))
        (out.sum() if isinstance(out, Tensor) else out).backward()
        grads.append(float(np.asarray(leaf.grad).reshape(-1)[0]))
    assert grads[0] == 0.0
    assert grads[1] == 0.25 if upstream == "sqrt" else math.isnan(grads[1])


@pytest.mark.parametrize("kind", KINDS)
def test_relu_passes_the_gradient_at_a_nan_input(kind):
    """relu(nan) is nan, like maximum(nan, 0), and like maximum its gradient reaches the nan
    (PyTorch's threshold_backward: 0 only where x <= 0)."""
    result = run(BY_NAME["relu"], kind)
    assert result.grads[0][np.isnan(EXTREMAL)].tolist() == [1.0]


@pytest.mark.parametrize("kind", KINDS)
def test_pow_conventions_at_a_zero_base(kind):
    """d(x**y)/dx = 0 at x == 0 where y == 0 (x ** 0 is the constant 1), and
    d(x**y)/dy = 0 where x == 0 and y >= 0 (PyTorch's choices), with either zero's sign."""
    x, y = grid(BY_NAME["pow"])
    result = run(BY_NAME["pow"], kind)
    zero_to_the_zero = (x == 0) & (y == 0)
    assert zero_to_the_zero.sum() == 4
    assert result.data[zero_to_the_zero].tolist() == [1.0] * 4
    assert result.grads[0][zero_to_the_zero].tolist() == [0.0] * 4
    zero_base = (x == 0) & (y >= 0)  # y in {±0, tiny, ..., max, inf}
    assert zero_base.sum() == 2 * 9
    assert result.grads[1][zero_base].tolist() == [0.0] * 18
    # not a convention but its neighbour: away from y == 0 the x-gradient is y * x**(y-1)
    assert result.grads[0][(x == 0) & (y == 1.0)].tolist() == [1.0, 1.0]
