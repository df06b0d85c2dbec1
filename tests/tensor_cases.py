"""The tests' table of Tensor ops: how to apply each, a numpy reference, and input strategies.

Each ``inputs`` strategy draws a tuple of float64 arrays (shapes from hypothesis.extra.numpy,
0-d and size-0 included where numpy allows), inside the op's domain and away from kinks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import Tensor, functional as F, ops

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
NONEMPTY = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


def floats(low=-3.0, high=3.0):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def away_from_zero(low=0.05, high=3.0):
    return st.tuples(st.floats(low, high), st.booleans()).map(lambda t: -t[0] if t[1] else t[0])


def one(elements=floats(), shapes=SHAPES):
    return hnp.arrays(np.float64, shapes, elements=elements).map(lambda a: (a,))


@st.composite
def broadcastable_pair(draw, first=floats(), second=floats()):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    return (draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=first)),
            draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=second)))


def distinct_pair():
    """A broadcastable pair that never ties (ties split the gradient: tested apart): the two
    draw from interleaved grids."""
    grid = st.integers(-12, 12).map(lambda k: k * 0.25)
    return broadcastable_pair(first=grid, second=grid.map(lambda v: v + 0.125))


@st.composite
def matmul_pair(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(st.sampled_from([(), (2,), (1, 2)]))
    kind = draw(st.sampled_from(["1d@1d", "1d@2d", "2d@1d", "2d@2d", "batched", "broadcast"]))
    shapes = {"1d@1d": ((k,), (k,)), "1d@2d": ((k,), (k, m)), "2d@1d": ((n, k), (k,)),
              "2d@2d": ((n, k), (k, m)), "batched": (batch + (n, k), batch + (k, m)),
              "broadcast": ((2, 1, n, k), (3, k, m))}[kind]
    return tuple(draw(hnp.arrays(np.float64, s, elements=floats())) for s in shapes)


@st.composite
def with_axis(draw, shapes=SHAPES, elements=floats(), allow_none=True, allow_tuple=True):
    """An array, an axis valid for it (None, an int, or a tuple), and keepdims."""
    a = draw(hnp.arrays(np.float64, shapes, elements=elements))
    choices = [None] if allow_none or a.ndim == 0 else []
    if a.ndim:
        choices += list(range(-a.ndim, a.ndim))
        if allow_tuple:
            choices.append(tuple(sorted(draw(st.sets(st.integers(0, a.ndim - 1), min_size=1)))))
    return a, draw(st.sampled_from(choices)), draw(st.booleans())


@st.composite
def distinct_with_axis(draw):
    """Like with_axis, with all elements distinct (no ties for max/min) and nonempty."""
    a, axis, keepdims = draw(with_axis(shapes=NONEMPTY))
    return a + np.arange(a.size).reshape(a.shape) * 0.37, axis, keepdims


@st.composite
def index_case(draw):
    a = draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                        elements=floats()))
    kind = draw(st.sampled_from(["int", "slice", "none", "mask", "int array", "mixed"]))
    n = a.shape[0]
    index = {
        "int": draw(st.integers(-n, n - 1)),
        "slice": slice(draw(st.integers(0, n)), None, draw(st.integers(1, 2))),
        "none": (None, Ellipsis),
        "mask": a > 0,
        "int array": np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6))),
        "mixed": (Ellipsis, draw(st.integers(0, a.shape[-1] - 1))),
    }[kind]
    return a, index


@st.composite
def cat_inputs(draw, stacking=False):
    base = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    axis = draw(st.integers(-len(base) - stacking, len(base) - 1 + stacking))
    count = draw(st.integers(1, 3))
    arrays = []
    for _ in range(count):
        shape = list(base)
        if not stacking:
            shape[axis] = draw(st.integers(0, 3))
        arrays.append(draw(hnp.arrays(np.float64, tuple(shape), elements=floats())))
    return tuple(arrays), axis


@dataclass(frozen=True)
class TensorCase:
    name: str  # the row of autograd_core.ops.OPS this case exercises
    on_tensors: Callable  # (*Tensors, *extra) -> Tensor
    reference: Callable  # (*arrays, *extra) -> array, with numpy only
    inputs: st.SearchStrategy  # draws (arrays_tuple, extra_tuple)
    label: str = ""

    @property
    def id(self):
        return self.label or self.name


def arrays_only(strategy):
    return strategy.map(lambda arrays: (arrays, ()))


def elementwise(name, method, reference, elements=floats()):
    return TensorCase(name, lambda x: getattr(x, method)(), reference, arrays_only(one(elements)))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _scatter_reference(values, shape, index):
    out = np.zeros(shape)
    np.add.at(out, index, values)
    return out


TENSOR_CASES = [
    TensorCase("add", lambda a, b: a + b, np.add, arrays_only(broadcastable_pair())),
    TensorCase("sub", lambda a, b: a - b, np.subtract, arrays_only(broadcastable_pair())),
    TensorCase("mul", lambda a, b: a * b, np.multiply, arrays_only(broadcastable_pair())),
    TensorCase("div", lambda a, b: a / b, np.divide,
               arrays_only(broadcastable_pair(second=away_from_zero(0.2)))),
    TensorCase("pow", lambda a, b: a ** b, np.power,
               arrays_only(broadcastable_pair(first=floats(0.2, 3.0), second=floats(-2.0, 2.0)))),
    TensorCase("mul", lambda a: 2.5 * a - 1, lambda a: 2.5 * a - 1, arrays_only(one()),
               label="scalar_constants"),
    TensorCase("neg", lambda a: -a, np.negative, arrays_only(one())),
    elementwise("exp", "exp", np.exp),
    elementwise("log", "log", np.log, floats(0.1, 5.0)),
    elementwise("sqrt", "sqrt", np.sqrt, floats(0.1, 5.0)),
    elementwise("sin", "sin", np.sin),
    elementwise("cos", "cos", np.cos),
    elementwise("tanh", "tanh", np.tanh),
    elementwise("sigmoid", "sigmoid", _sigmoid),
    elementwise("softplus", "softplus", lambda x: np.log1p(np.exp(x))),
    elementwise("erf", "erf", np.vectorize(math.erf, otypes=[float])),
    elementwise("relu", "relu", lambda x: np.maximum(x, 0), away_from_zero()),
    TensorCase("leaky_relu", lambda a: a.leaky_relu(0.1), lambda x: np.where(x > 0, x, 0.1 * x),
               arrays_only(one(away_from_zero()))),
    elementwise("abs", "abs", np.abs, away_from_zero()),
    TensorCase("maximum", F.maximum, np.maximum, arrays_only(distinct_pair())),
    TensorCase("minimum", F.minimum, np.minimum, arrays_only(distinct_pair())),
    TensorCase("matmul", lambda a, b: a @ b, np.matmul, arrays_only(matmul_pair())),
    TensorCase("reshape", lambda a: a.reshape(*reversed(a.shape)),
               lambda a: a.reshape(tuple(reversed(a.shape))), arrays_only(one())),
    TensorCase("transpose", lambda a, axes: a.permute(axes), np.transpose,
               one().flatmap(lambda t: st.permutations(range(t[0].ndim)).map(
                   lambda p: (t, (tuple(p),))))),
    TensorCase("expand", lambda a: a.expand(2, *a.shape), lambda a: np.broadcast_to(a, (2, *a.shape)),
               arrays_only(one())),
    TensorCase("where", lambda a, b, c: F.where(Tensor(c), a, b), lambda a, b, c: np.where(c, a, b),
               broadcastable_pair().flatmap(lambda ab: hnp.arrays(
                   bool, np.broadcast_shapes(ab[0].shape, ab[1].shape)).map(lambda c: (ab, (c,))))),
    TensorCase("clip", lambda a: a.clip(-1.0, 1.0), lambda a: np.clip(a, -1.0, 1.0),
               arrays_only(one(st.one_of(floats(-3.0, -1.1), floats(-0.9, 0.9), floats(1.1, 3.0))))),
    TensorCase("getitem", lambda a, index: a[index], lambda a, index: a[index],
               index_case().map(lambda t: ((t[0],), (t[1],)))),
    TensorCase("sum", lambda a, axis, keep: a.sum(axis, keep),
               lambda a, axis, keep: np.sum(a, axis=axis, keepdims=keep),
               with_axis().map(lambda t: ((t[0],), t[1:]))),
    TensorCase("mean", lambda a, axis, keep: a.mean(axis, keep),
               lambda a, axis, keep: np.mean(a, axis=axis, keepdims=keep),
               with_axis(shapes=NONEMPTY).map(lambda t: ((t[0],), t[1:]))),
    TensorCase("max", lambda a, axis, keep: a.max(axis, keep),
               lambda a, axis, keep: np.max(a, axis=axis, keepdims=keep),
               distinct_with_axis().map(lambda t: ((t[0],), t[1:]))),
    TensorCase("min", lambda a, axis, keep: a.min(axis, keep),
               lambda a, axis, keep: np.min(a, axis=axis, keepdims=keep),
               distinct_with_axis().map(lambda t: ((t[0],), t[1:]))),
    # (correction 0: one element along the axis is a std of 0, the kink, whose gradient 0 is
    # also the finite differences'; more elements are distinct, away from the kink)
    TensorCase("std", lambda a, axis, keep: a.std(axis, keep, correction=0),
               lambda a, axis, keep: np.std(a, axis=axis, keepdims=keep),
               distinct_with_axis().map(lambda t: ((t[0],), t[1:]))),
    TensorCase("logsumexp", lambda a, axis, keep: a.logsumexp(axis, keep),
               lambda a, axis, keep: np.log(np.sum(np.exp(a), axis=axis, keepdims=keep)),
               with_axis(shapes=NONEMPTY, allow_none=False, allow_tuple=False).map(
                   lambda t: ((t[0],), t[1:]))),
    TensorCase("softmax", lambda a, axis: a.softmax(axis),
               lambda a, axis: np.exp(a) / np.sum(np.exp(a), axis=axis, keepdims=True),
               with_axis(shapes=NONEMPTY, allow_none=False, allow_tuple=False).map(
                   lambda t: ((t[0],), (t[1],)))),
    TensorCase("log_softmax", lambda a, axis: a.log_softmax(axis),
               lambda a, axis: a - np.log(np.sum(np.exp(a), axis=axis, keepdims=True)),
               with_axis(shapes=NONEMPTY, allow_none=False, allow_tuple=False).map(
                   lambda t: ((t[0],), (t[1],)))),
    TensorCase("cat", lambda *args: F.cat(args[:-1], args[-1]),
               lambda *args: np.concatenate(args[:-1], axis=args[-1]),
               cat_inputs().map(lambda t: (t[0], (t[1],)))),
    TensorCase("stack", lambda *args: F.stack(args[:-1], args[-1]),
               lambda *args: np.stack(args[:-1], axis=args[-1]),
               cat_inputs(stacking=True).map(lambda t: (t[0], (t[1],)))),
    # The gradient of getitem, itself differentiable (second derivatives go through it).
    TensorCase("scatter", lambda values, shape, index: ops.scatter(values, shape, index),
               _scatter_reference,
               index_case().map(lambda t: ((np.asarray(t[0][t[1]]),), (t[0].shape, t[1])))),
    # Casts both ways, keeping the input's dtype overall (float32 stays float32).
    TensorCase("astype", lambda a: a.astype(np.longdouble).exp().astype(a.dtype),
               np.exp, arrays_only(one())),
]
