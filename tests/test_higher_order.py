"""Second and third derivatives of every op of the table, against finite differences of the
derivative one order lower (float64, Hypothesis), for Values and for Tensors.

The k-th order gradient is taken of a random projection of the (k-1)-th: s0 = sum(f(x) * w0),
s_k = sum(grad(s_{k-1}, x) * w_k), so every entry of every derivative tensor takes part.
"""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import Tensor, Value, grad
from autograd_core import functional as AF
from autograd_core.testing import numerical_grad
from op_cases import CASES
from tensor_cases import TENSOR_CASES

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3
# Third order costs (elements x 2) second-order passes per example: fewer examples.
THIRD_ORDER = settings(max_examples=max(10, settings.default.max_examples // 4))


def projected(s, weights):
    """sum(g * w) over the gradients g of one order (a constant 0.0 if none depends on x)."""
    total = 0.0
    for g, w in zip(s, weights):
        if isinstance(g, Tensor):
            total = total + (g * w).sum()
        elif isinstance(g, Value):
            total = total + g * w
    return total


def derivatives(f, make, arrays, weights, order):
    """The ``order``-th gradients of sum(f(x) * weights[0]), projected by the later weights."""
    leaves = [make(a) for a in arrays]
    out = f(*leaves)
    s = (out * weights[0]).sum() if isinstance(out, Tensor) else out * weights[0]
    for k in range(1, order + 1):
        if isinstance(s, (Value, Tensor)) and s.requires_grad:
            found = grad(s, leaves, create_graph=k < order, allow_unused=True)
        else:  # nothing left that depends on x: this derivative is zero
            found = [None] * len(leaves)
        found = [g if g is not None else (0.0 if isinstance(leaf, Value) else np.zeros(leaf.shape))
                 for g, leaf in zip(found, leaves)]
        if k < order:
            s = projected(found, weights[k])
    return [np.asarray(g.data if isinstance(g, (Value, Tensor)) else g, dtype=float)
            for g in found]


def check_against_finite_differences(f, make, arrays, weights, order):
    """The order-th gradients vs central differences of the projected (order-1)-th."""
    analytic = derivatives(f, make, arrays, weights, order)

    def lower(*leaves):  # the projected (order-1)-th derivative, as a number
        gs = derivatives(f, make, [leaf.data for leaf in leaves], weights, order - 1)
        return float(sum(np.sum(g * np.asarray(w)) for g, w in zip(gs, weights[order - 1])))

    numerical = numerical_grad(lower, arrays, eps=EPS)
    for i, expected in enumerate(numerical):
        np.testing.assert_allclose(analytic[i], expected, rtol=RTOL, atol=ATOL,
                                   err_msg=f"order {order}, input {i}")


# ----- Values: the scalar op table -----

def value_weights(data, n_inputs, order):
    w = st.floats(-2.0, 2.0)
    return [data.draw(w, label="w0")] + [
        [data.draw(w, label=f"w{k}") for _ in range(n_inputs)] for k in range(1, order)]


def value_check(case, data, order):
    xs = [data.draw(s, label=f"x{i}") for i, s in enumerate(case.inputs)]
    if case.name in ("maximum", "minimum"):  # a tie is a kink: the first derivative jumps
        assume(abs(xs[0] - xs[1]) > 1e-3)
    check_against_finite_differences(case.on_values, lambda a: Value(float(a)), xs,
                                     value_weights(data, len(xs), order), order)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@given(data=st.data())
def test_value_second_derivatives(case, data):
    value_check(case, data, 2)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@THIRD_ORDER
@given(data=st.data())
def test_value_third_derivatives(case, data):
    value_check(case, data, 3)


# ----- Tensors: the array op table -----

def tensor_weights(data, out_shape, arrays, order):
    def w(shape, label):
        return data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2.0, 2.0)), label=label)
    return [w(out_shape, "w0")] + [
        [w(a.shape, f"w{k}") for a in arrays] for k in range(1, order)]


def tensor_check(case, data, order):
    arrays, extra = data.draw(case.inputs, label="inputs")
    out_shape = case.on_tensors(*map(Tensor, arrays), *extra).shape

    def f(*xs):
        return case.on_tensors(*xs, *extra)

    check_against_finite_differences(f, lambda a: Tensor(a, requires_grad=True), list(arrays),
                                     tensor_weights(data, out_shape, arrays, order), order)


@pytest.mark.parametrize("case", TENSOR_CASES, ids=lambda c: c.id)
@given(data=st.data())
def test_tensor_second_derivatives(case, data):
    tensor_check(case, data, 2)


@pytest.mark.parametrize("case", TENSOR_CASES, ids=lambda c: c.id)
@THIRD_ORDER
@given(data=st.data())
def test_tensor_third_derivatives(case, data):
    tensor_check(case, data, 3)


@pytest.mark.parametrize("f, third", [(lambda a: a ** 0, 0.0), (lambda a: a ** 1, 0.0),
                                      (lambda a: a ** 2.5, math.inf)],
                         ids=["a**0", "a**1", "a**2.5"])
def test_powers_at_a_zero_base_differentiate_three_times_without_nan(f, third):
    """The rules guard 0**0 (and a zero base's log) with ``where``; the untaken branch must
    not hold an inf (0**-1) that the next derivative turns into 0 * inf = nan. Tensors and
    Values agree, with PyTorch's answers: 0 past the first derivative of a ** 1 and for every
    one of a ** 0; 2.5 · 1.5 · 0.5 · a**-0.5 = inf for a ** 2.5."""
    on_value = AF.grad(AF.grad(AF.grad(f)))(0.0)
    on_tensor = AF.grad(AF.grad(AF.grad(lambda a: f(a).sum())))(np.array([0.0]))
    assert on_value == third and on_tensor.tolist() == [third]


def test_the_mixed_second_derivative_of_a_power_at_a_zero_base_is_zero_not_nan():
    def d2_da_db(f, a, b):
        return AF.grad(AF.grad(f, 1), 0)(a, b)

    assert d2_da_db(lambda a, b: a ** b, 0.0, 2.0) == 0.0
    on_tensor = d2_da_db(lambda a, b: (a ** b).sum(), np.array([0.0]), np.array([2.0]))
    assert on_tensor.tolist() == [0.0]


def test_clip_on_values_differentiates_twice():
    """clip's rule multiplies by a mask: a float for a Value (a recorded gradient cannot be
    multiplied by a 0-d array), so create_graph works on Values as on tensors."""
    from autograd_core import ops

    for x0, slope in ((0.5, 1.0), (-0.5, 1.0), (2.0, 0.0), (-1.5, 0.0)):
        x = Value(x0)
        y = ops.clip(x * x, 0.0, 1.0)
        (dy,) = grad(y, x, create_graph=True)  # 2x inside the interval, else 0
        assert dy.data == 2 * x0 * slope
        (d2y,) = grad(dy, x, allow_unused=True)
        assert d2y == 2 * slope
