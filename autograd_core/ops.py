"""The op table: every differentiable operation with its forward and its vector-Jacobian products.

Each row is written once for every kind of data. ``forward`` takes raw data, Python floats
(for ``Value``) or numpy arrays (for ``Tensor``), and uses numpy's ufuncs for anything beyond
IEEE arithmetic, so a ``Value`` expression and the same expression on 0-d arrays agree bit for
bit (``math`` and numpy differ in the last bit of ``tanh``, ``log``, ... on many inputs).

A row has one VJP per input, ``vjp(g, out, *inputs, *params) -> gradient for that input``
(HIPS autograd's ``defvjp``): ``g`` is the gradient of the output, ``out`` the forward result.
``None`` in place of a VJP means "no gradient flows to this input". A VJP is only called for
inputs that need a gradient. VJPs use arithmetic operators and the ops of this table (called
like functions, e.g. ``cos(a)``), so they work on floats, arrays, and on graph nodes alike.

Conventions at kinks (documented and tested): relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) =
slope, maximum/minimum ties split the gradient evenly, d(x**y)/dx = 0 where y == 0, and
d(x**y)/dy = 0 where x == 0 and y >= 0 (PyTorch's choices).
"""
from __future__ import annotations

import operator

import numpy as np

from .graph import PASS, Node

__all__ = ["Op", "OPS", "where"]


class Op:
    """One row of the op table. Calling it applies the op to nodes or to raw data.

        >>> from autograd_core.ops import OPS
        >>> OPS["mul"](3.0, 4.0)
        12.0
    """

    __slots__ = ("name", "forward", "vjps", "symbol")

    def __init__(self, name, forward, *vjps, symbol=None):
        self.name = name
        self.forward = forward
        self.vjps = vjps  # one per input; the number of inputs is len(vjps)
        self.symbol = symbol  # infix operator for printing ('+'), or None for f(x)

    def __call__(self, *args):
        for arg in args:
            if isinstance(arg, Node):
                return type(arg)._apply(self, args[: len(self.vjps)], args[len(self.vjps):])
        out = self.forward(*args)
        # numpy hands back np.float64 for scalar inputs; keep Python floats Python floats.
        return float(out) if type(out) is np.float64 else out

    def format(self, *names) -> str:
        """How the tape prints an application of this op to inputs named ``names``."""
        if self.symbol and len(names) == 2:
            return f"{names[0]} {self.symbol} {names[1]}"
        if self.symbol and len(names) == 1:
            return f"{self.symbol}{names[0]}"
        return f"{self.name}({', '.join(map(str, names))})"

    def __repr__(self):
        return f"<op {self.name}>"


def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y``: numpy's ``where`` for arrays, ``if`` for bools."""
    if isinstance(condition, np.ndarray):
        return np.where(condition, x, y)
    return x if condition else y


def _divide(a, b):
    """IEEE division: Python raises ZeroDivisionError on floats where numpy gives inf or nan."""
    try:
        return a / b
    except ZeroDivisionError:
        return np.divide(float(a), float(b))


def _sigmoid(x):
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows, for any input
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(x):
    return np.logaddexp(0.0, x)  # log(1 + e^x) without overflow at either end


def _relu(x):
    """max(x, 0), nan kept, as np.maximum(x, 0.0) gives it (relu(-0.0) is +0.0 there too).

    Floats take a branch of their own: numpy's ufunc costs a microsecond on a scalar and
    relu is in every neuron; the tests pin both branches to numpy's results.
    """
    if type(x) is float:
        return x if x > 0.0 or x != x else 0.0
    return np.maximum(x, 0.0)


def _leaky_relu(x, slope):
    return np.where(x > 0, x, x * slope)


def _split_tie(mine, other):
    """Share of the gradient of max(mine, other) that goes to ``mine``: 1, 1/2 at a tie, 0."""
    return where(mine > other, 1.0, where(mine == other, 0.5, 0.0))


add = Op("add", operator.add, PASS, PASS, symbol="+")
sub = Op("sub", operator.sub, PASS, lambda g, out, a, b: -g, symbol="-")
mul = Op("mul", operator.mul, lambda g, out, a, b: g * b, lambda g, out, a, b: g * a, symbol="*")
div = Op("div", _divide,
         lambda g, out, a, b: div(g, b),
         lambda g, out, a, b: -div(g * out, b), symbol="/")
power = Op("pow", np.power,
           lambda g, out, a, b: where(b == 0, 0.0, g * b * power(a, b - 1)),
           lambda g, out, a, b: where((a == 0) & (b >= 0), 0.0, g * out * log(a)), symbol="**")
neg = Op("neg", operator.neg, lambda g, out, a: -g, symbol="-")
exp = Op("exp", np.exp, lambda g, out, a: g * out)
log = Op("log", np.log, lambda g, out, a: div(g, a))
sqrt = Op("sqrt", np.sqrt, lambda g, out, a: div(g, 2 * out))
sin = Op("sin", np.sin, lambda g, out, a: g * cos(a))
cos = Op("cos", np.cos, lambda g, out, a: -g * sin(a))
tanh = Op("tanh", np.tanh, lambda g, out, a: g * (1 - out * out))
sigmoid = Op("sigmoid", _sigmoid, lambda g, out, a: g * out * (1 - out))
softplus = Op("softplus", _softplus, lambda g, out, a: g * sigmoid(a))
relu = Op("relu", _relu, lambda g, out, a: g * (a > 0))
leaky_relu = Op("leaky_relu", _leaky_relu, lambda g, out, a, slope: g * where(a > 0, 1.0, slope))
sign = Op("sign", np.sign, None)  # piecewise constant: no gradient
absolute = Op("abs", np.abs, lambda g, out, a: g * sign(a))
maximum = Op("maximum", np.maximum,
             lambda g, out, a, b: g * _split_tie(a, b),
             lambda g, out, a, b: g * _split_tie(b, a))
minimum = Op("minimum", np.minimum,
             lambda g, out, a, b: g * _split_tie(b, a),
             lambda g, out, a, b: g * _split_tie(a, b))

OPS = {op.name: op for op in (add, sub, mul, div, power, neg, exp, log, sqrt, sin, cos, tanh,
                              sigmoid, softplus, relu, leaky_relu, sign, absolute, maximum,
                              minimum)}
