"""Hypothesis strategies for testing code built on autograd_core (needs ``hypothesis``:
``pip install "autograd-core[test]"``).

``values``, ``tensors``, ``broadcastable_tensors`` and ``axes`` draw inputs; ``graphs`` draws
random expression DAGs over the op table (shared subexpressions, fan-out, bounded depth),
with every op's inputs inside its domain and away from its kinks, buildable with ``Value``s
or with ``Tensor``s. A drawn graph prints as the program it is, so a shrunk counterexample
reads like the lecture's forward pass::

    from hypothesis import given
    from autograd_core.testing import strategies as ags

    @given(ags.graphs())
    def test_backward_matches_finite_differences(graph):
        leaves, out = graph.build()          # Values; graph.build(Tensor) for tensors
        out.backward()
        ...
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .. import ops
from ..tensor import Tensor
from ..value import Value

__all__ = ["values", "tensors", "broadcastable_tensors", "axes", "graphs", "Graph"]


def _floats(low: float, high: float):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def values(domain=(-5.0, 5.0), requires_grad: bool = True):
    """``Value``s with data drawn from the closed interval ``domain``."""
    return _floats(*domain).map(lambda x: Value(x, requires_grad=requires_grad))


def tensors(shape=None, dtype=np.float64, elements=None, requires_grad: bool = True):
    """``Tensor``s of ``shape`` (a tuple, or a strategy; default: 0 to 3 dimensions of 0 to 3)
    with ``elements`` (default: floats in [-5, 5])."""
    shape = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3) \
        if shape is None else shape
    elements = _floats(-5.0, 5.0) if elements is None else elements
    if np.dtype(dtype) == np.float32 and elements is not None:
        elements = elements.map(lambda x: float(np.float32(x)))
    return hnp.arrays(dtype, shape, elements=elements).map(
        lambda a: Tensor(a, requires_grad=requires_grad))


def broadcastable_tensors(count: int = 2, dtype=np.float64, elements=None,
                          requires_grad: bool = True):
    """Tuples of ``count`` tensors whose shapes broadcast together (numpy's rules)."""
    shapes = hnp.mutually_broadcastable_shapes(num_shapes=count, min_dims=0, max_dims=3,
                                               max_side=3)
    return shapes.flatmap(lambda s: st.tuples(*[
        tensors(shape, dtype, elements, requires_grad) for shape in s.input_shapes]))


def axes(ndim: int, allow_none: bool = True, allow_tuple: bool = True):
    """Valid ``axis`` arguments for an array of ``ndim`` dimensions: None, an int (negative
    too) or a tuple of distinct axes."""
    choices = [st.just(None)] if allow_none or ndim == 0 else []
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            choices.append(st.sets(st.integers(0, ndim - 1), min_size=1).map(
                lambda s: tuple(sorted(s))))
    return st.one_of(choices)


# ----- random expression graphs -----

_MARGIN = 0.05  # how far inputs stay from domain edges and kinks
_LIMIT = 50.0  # magnitudes a node may reach (keeps exp and pow from blowing up)


@dataclass(frozen=True)
class _Rule:
    """An op of the table as the graph strategy uses it, with where its inputs may lie."""
    name: str
    arity: int
    allowed: callable  # (*input arrays) -> bool: inside the domain and away from kinks
    symbol: str = ""


_RULES = [
    _Rule("add", 2, lambda a, b: True, "+"),
    _Rule("sub", 2, lambda a, b: True, "-"),
    _Rule("mul", 2, lambda a, b: True, "*"),
    _Rule("div", 2, lambda a, b: np.all(np.abs(b) > 0.2), "/"),
    _Rule("pow", 2, lambda a, b: np.all(a > 0.2) and np.all(np.abs(b) < 3)
          and np.all(np.abs(a) < 5), "**"),
    _Rule("neg", 1, lambda a: True),
    _Rule("exp", 1, lambda a: np.all(a < 3)),
    _Rule("log", 1, lambda a: np.all(a > 0.1)),
    _Rule("sqrt", 1, lambda a: np.all(a > 0.1)),
    _Rule("sin", 1, lambda a: True),
    _Rule("cos", 1, lambda a: True),
    _Rule("tanh", 1, lambda a: True),
    _Rule("sigmoid", 1, lambda a: True),
    _Rule("softplus", 1, lambda a: True),
    _Rule("relu", 1, lambda a: np.all(np.abs(a) > _MARGIN)),
    _Rule("abs", 1, lambda a: np.all(np.abs(a) > _MARGIN)),
    _Rule("maximum", 2, lambda a, b: np.all(np.abs(a - b) > _MARGIN)),
    _Rule("minimum", 2, lambda a, b: np.all(np.abs(a - b) > _MARGIN)),
]
_BY_NAME = {rule.name: rule for rule in _RULES}
OP_NAMES = tuple(_BY_NAME)


@dataclass(frozen=True)
class Graph:
    """A drawn expression DAG: leaf data, then instructions ``(op, input indices)`` that
    each read earlier nodes. The output sums every node made, so each one reaches it (and
    nodes read twice make converging paths)."""

    leaves: tuple  # one float (or array, all of one shape) per leaf
    program: tuple  # ((op name, index, ...), ...); leaves are nodes 0..n-1

    def build(self, node_type=Value, requires_grad: bool = True):
        """Make the leaves as ``node_type`` and run the program: ``(leaves, output)``."""
        leaves = [node_type(x, requires_grad=requires_grad) for x in self.leaves]
        return leaves, self.run(leaves)

    def run(self, leaves):
        """The program's output for these leaf nodes (one per leaf of the graph)."""
        nodes = list(leaves)
        for name, *inputs in self.program:
            nodes.append(_apply(name, [nodes[i] for i in inputs]))
        out = nodes[len(leaves)]
        for node in nodes[len(leaves) + 1:]:
            out = out + node
        if isinstance(out, Tensor) and out.ndim:
            out = out.sum()
        return out

    def evaluate(self, leaf_data) -> float:
        """The output for other leaf data, computed with numpy alone (no graph)."""
        nodes = [np.asarray(x, dtype=float) for x in leaf_data]
        for name, *inputs in self.program:
            nodes.append(np.asarray(ops.OPS[name].forward(*[nodes[i] for i in inputs])))
        return float(np.sum(sum(nodes[len(self.leaves):])))

    def __repr__(self):
        lines = [f"x{i} = {_show(x)}" for i, x in enumerate(self.leaves)]
        names = [f"x{i}" for i in range(len(self.leaves))]
        for k, (name, *inputs) in enumerate(self.program):
            args = [names[i] for i in inputs]
            rule = _BY_NAME[name]
            expression = (f"{args[0]} {rule.symbol} {args[1]}" if rule.symbol
                          else f"{name}({', '.join(args)})")
            names.append(f"t{k}")
            lines.append(f"t{k} = {expression}")
        lines.append("out = " + " + ".join(names[len(self.leaves):])
                     + (" (summed)" if np.ndim(self.leaves[0]) else ""))
        return "Graph:\n    " + "\n    ".join(lines)


def _show(x) -> str:
    return repr(float(x)) if np.ndim(x) == 0 else np.array2string(np.asarray(x), precision=4)


def _apply(name, inputs):
    a = inputs[0]
    if name == "add":
        return a + inputs[1]
    if name == "sub":
        return a - inputs[1]
    if name == "mul":
        return a * inputs[1]
    if name == "div":
        return a / inputs[1]
    if name == "pow":
        return a ** inputs[1]
    if name == "neg":
        return -a
    if name in ("maximum", "minimum"):
        return ops.OPS[name](a, inputs[1])
    return getattr(a, name)()


@st.composite
def graphs(draw, max_leaves: int = 4, max_ops: int = 10, max_depth: int | None = None,
           ops_allowed=OP_NAMES, shape=()):
    """Random expression DAGs (see ``Graph``) of up to ``max_ops`` operations over
    ``max_leaves`` leaves, no path longer than ``max_depth`` operations; ``shape`` gives the
    leaves' shape for Tensor graphs (default: scalars). Operations whose inputs would leave
    their domain (or come near a kink) are not drawn."""
    rules = [_BY_NAME[name] for name in ops_allowed]
    n_leaves = draw(st.integers(1, max_leaves), label="leaves")
    leaves = tuple(draw(_floats(-2.0, 2.0), label=f"x{i}") if shape == () else
                   draw(hnp.arrays(np.float64, shape, elements=_floats(-2.0, 2.0)),
                        label=f"x{i}")
                   for i in range(n_leaves))
    data = [np.asarray(x, dtype=float) for x in leaves]
    depth = [0] * n_leaves  # operations on the longest path to each node
    program = []
    for _ in range(draw(st.integers(1, max_ops), label="ops")):
        rule = draw(st.sampled_from(rules))
        # Inputs: any earlier node (shared subexpressions and fan-out come from repeats).
        inputs = [draw(st.integers(0, len(data) - 1)) for _ in range(rule.arity)]
        arrays = [data[i] for i in inputs]
        new_depth = 1 + max(depth[i] for i in inputs)
        if not rule.allowed(*arrays) or max_depth is not None and new_depth > max_depth:
            continue
        with np.errstate(all="ignore"):
            result = np.asarray(ops.OPS[rule.name].forward(*arrays), dtype=float)
        if not np.all(np.isfinite(result)) or np.any(np.abs(result) > _LIMIT):
            continue
        program.append((rule.name, *inputs))
        data.append(result)
        depth.append(new_depth)
    if not program:  # nothing fitted: fall back to the one op that always does
        program.append(("add", 0, 0))
    return Graph(leaves, tuple(program))
