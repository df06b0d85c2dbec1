"""The tests' op table: one row per differentiable operation of ``autograd_core.ops``.

Each case says how to apply the op to Values, how to compute it independently (``math`` or a
plain formula on floats), and where its inputs may be drawn from: inside the domain and away
from kinks, which have tests of their own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from hypothesis import strategies as st

from autograd_core import Value, maximum, minimum


def real(low=-5.0, high=5.0):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def away_from_zero(low=0.01, high=5.0):
    """Reals with |x| in [low, high]: keeps kinks at 0 out of finite differences."""
    return st.tuples(st.floats(low, high), st.booleans()).map(lambda t: -t[0] if t[1] else t[0])


@dataclass(frozen=True)
class Case:
    name: str  # the row of autograd_core.ops.OPS this case exercises
    on_values: Callable  # (*Values) -> Value, through the public API
    reference: Callable  # (*floats) -> float, computed without this library
    inputs: tuple  # one Hypothesis strategy per input
    params: tuple = ()  # extra non-differentiable arguments of the op row
    label: str = ""  # distinguishes several cases of one op

    @property
    def id(self):
        return self.label or self.name


def _sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


CASES = [
    Case("add", lambda a, b: a + b, lambda a, b: a + b, (real(), real())),
    Case("add", lambda a: 2.5 + a, lambda a: 2.5 + a, (real(),), label="radd"),
    Case("sub", lambda a, b: a - b, lambda a, b: a - b, (real(), real())),
    Case("sub", lambda a: 2.5 - a, lambda a: 2.5 - a, (real(),), label="rsub"),
    Case("mul", lambda a, b: a * b, lambda a, b: a * b, (real(), real())),
    Case("mul", lambda a: a * a, lambda a: a * a, (real(),), label="mul_same_input"),
    Case("div", lambda a, b: a / b, lambda a, b: a / b, (real(), away_from_zero(0.1))),
    Case("div", lambda a: 2.5 / a, lambda a: 2.5 / a, (away_from_zero(0.1),), label="rdiv"),
    Case("pow", lambda a, b: a ** b, lambda a, b: a ** b, (real(0.1, 4.0), real(-3.0, 3.0))),
    Case("pow", lambda a: a ** 3, lambda a: a ** 3, (real(),), label="pow_constant_exponent"),
    Case("pow", lambda a: 2 ** a, lambda a: 2 ** a, (real(),), label="rpow"),
    Case("neg", lambda a: -a, lambda a: -a, (real(),)),
    Case("exp", Value.exp, math.exp, (real(),)),
    Case("log", Value.log, math.log, (real(0.05, 10.0),)),
    Case("sqrt", Value.sqrt, math.sqrt, (real(0.05, 10.0),)),
    Case("sin", Value.sin, math.sin, (real(),)),
    Case("cos", Value.cos, math.cos, (real(),)),
    Case("tanh", Value.tanh, math.tanh, (real(),)),
    Case("sigmoid", Value.sigmoid, _sigmoid, (real(-20.0, 20.0),)),
    Case("softplus", Value.softplus, lambda x: math.log1p(math.exp(x)), (real(-20.0, 20.0),)),
    Case("erf", Value.erf, math.erf, (real(),)),
    Case("relu", Value.relu, lambda x: max(x, 0.0), (away_from_zero(),)),
    Case("leaky_relu", lambda a: a.leaky_relu(0.1), lambda x: x if x > 0 else 0.1 * x,
         (away_from_zero(),), params=(0.1,)),
    Case("abs", Value.abs, abs, (away_from_zero(),)),
    Case("maximum", maximum, max, (real(), real())),
    Case("minimum", minimum, min, (real(), real())),
]

# Ops with no gradient at all (piecewise constant); tested for their forward only.
NO_GRADIENT = {"sign"}
