"""Every op of the table: forward, gradient against finite differences, and Value == numpy."""
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd_core import Value
from autograd_core.ops import OPS
from autograd_core.testing import numerical_grad
from op_cases import CASES, NO_GRADIENT

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3
by_id = pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)


def draw_inputs(data, case):
    xs = [data.draw(s, label=f"x{i}") for i, s in enumerate(case.inputs)]
    if case.name in ("maximum", "minimum"):
        assume(abs(xs[0] - xs[1]) > 1e-3)  # ties split the gradient: tested separately
    return xs


@by_id
@given(data=st.data())
def test_forward_matches_an_independent_formula(case, data):
    xs = draw_inputs(data, case)
    out = case.on_values(*[Value(x) for x in xs])
    assert type(out) is Value and type(out.data) is float
    assert out.data == pytest.approx(case.reference(*xs), rel=1e-12, abs=1e-300)


@by_id
@given(data=st.data())
def test_gradient_matches_central_differences(case, data):
    xs = draw_inputs(data, case)
    leaves = [Value(x) for x in xs]
    case.on_values(*leaves).backward()
    numerical = numerical_grad(case.on_values, xs, eps=EPS)
    for i, leaf in enumerate(leaves):
        assert leaf.grad == pytest.approx(numerical[i], rel=RTOL, abs=ATOL), f"input {i}"


@by_id
@given(data=st.data())
def test_values_agree_bit_for_bit_with_the_table_on_0d_arrays(case, data):
    """The scalar fast paths (Python floats) must give exactly what numpy gives on arrays."""
    leaves = [Value(x) for x in draw_inputs(data, case)]
    out = case.on_values(*leaves)
    out.backward()
    inputs = [np.array(p.data) for p in out.parents]  # leaves and lifted constants, in order
    expected = out._op.forward(*inputs, *case.params)
    assert np.float64(out.data).tobytes() == np.float64(expected).tobytes()
    expected_grads = {leaf: 0.0 for leaf in leaves}
    for parent, vjp in zip(out.parents, out._op.vjps):
        if vjp is not None and parent.requires_grad:
            g = vjp(np.array(1.0), np.asarray(expected), *inputs, *case.params)
            expected_grads[parent] = expected_grads[parent] + g
    for leaf in leaves:
        assert np.float64(leaf.grad).tobytes() == np.float64(expected_grads[leaf]).tobytes()


@pytest.mark.parametrize("name", sorted(NO_GRADIENT))
def test_ops_without_gradient_pass_none(name):
    assert all(v is None for v in OPS[name].vjps)
    assert OPS[name](-2.0) == -1.0 and OPS[name](0.0) == 0.0 and OPS[name](3.0) == 1.0


# ----- kinks: documented conventions -----

def grads_of(fn, *xs):
    leaves = [Value(x) for x in xs]
    fn(*leaves).backward()
    return [leaf.grad for leaf in leaves]


def test_relu_derivative_at_zero_is_zero():
    assert grads_of(Value.relu, 0.0) == [0.0]
    assert grads_of(Value.relu, -0.0) == [0.0]


def test_abs_derivative_at_zero_is_zero():
    assert grads_of(Value.abs, 0.0) == [0.0]


def test_leaky_relu_derivative_at_zero_is_the_slope():
    assert grads_of(lambda a: a.leaky_relu(0.2), 0.0) == [0.2]
    assert grads_of(lambda a: a.leaky_relu(0.2), -1.0) == [0.2]


@pytest.mark.parametrize("fn", ["maximum", "minimum"])
def test_ties_split_the_gradient_evenly(fn):
    from autograd_core import maximum, minimum
    f = {"maximum": maximum, "minimum": minimum}[fn]
    assert grads_of(f, 1.5, 1.5) == [0.5, 0.5]
    a = Value(2.0)
    f(a, a).backward()  # the same node on both sides gets both halves
    assert a.grad == 1.0


def test_x_to_the_zero_has_gradient_zero_at_zero():
    x = Value(0.0)
    y = x ** 0
    y.backward()
    assert (y.data, x.grad) == (1.0, 0.0)


@pytest.mark.parametrize("exponent", [0.0, 0.5, 2.0, 3.0])
def test_zero_to_a_nonnegative_power_gives_the_exponent_gradient_zero(exponent):
    base, power = Value(0.0), Value(exponent)
    (base ** power).backward()
    assert power.grad == 0.0
    assert not math.isnan(base.grad)


def test_relu_keeps_nan_and_zeroes_negative_zero_as_numpy_does():
    assert math.isnan(Value(math.nan).relu().data)
    assert math.copysign(1.0, Value(-0.0).relu().data) == np.copysign(1.0, np.maximum(-0.0, 0.0))


# ----- extremes: IEEE/numpy semantics, never a Python math error -----

@pytest.fixture
def quiet_numpy():
    with np.errstate(all="ignore"):
        yield


def test_log_of_zero_is_minus_inf_and_warns_like_numpy():
    with pytest.warns(RuntimeWarning):
        assert Value(0.0).log().data == -math.inf


@pytest.mark.usefixtures("quiet_numpy")
def test_ieee_results_instead_of_python_exceptions():
    assert Value(1000.0).exp().data == math.inf
    assert math.isnan(Value(-1.0).log().data)
    assert math.isnan(Value(-1.0).sqrt().data)
    assert (Value(1.0) / 0.0).data == math.inf
    assert math.isnan((Value(0.0) / 0.0).data)
    assert (Value(0.0) ** -1.0).data == math.inf
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)
    assert (Value(10.0) ** 400.0).data == math.inf
    assert (2.0 ** Value(5000.0)).data == math.inf


@pytest.mark.usefixtures("quiet_numpy")
def test_sqrt_derivative_at_zero_is_inf():
    assert grads_of(Value.sqrt, 0.0) == [math.inf]


@pytest.mark.parametrize("x", [-1000.0, 1000.0])
def test_sigmoid_and_softplus_stay_finite_with_the_right_gradient(x):
    s = Value(x)
    out = s.sigmoid()
    out.backward()
    assert out.data == (1.0 if x > 0 else 0.0) and s.grad == 0.0
    p = Value(x)
    out = p.softplus()
    out.backward()
    assert out.data == (1000.0 if x > 0 else 0.0)
    assert p.grad == (1.0 if x > 0 else 0.0)


@pytest.mark.parametrize("x", [-300.0, 300.0])
def test_tanh_gradient_is_zero_far_out(x):
    assert grads_of(Value.tanh, x) == [0.0]


def test_what_backward_reads_is_found_from_the_rules_code():
    """Each row knows whether its rules read the inputs and the result (a Tensor keeps those
    read-only until backward): found from the rules' code, so it cannot drift from them."""
    from autograd_core.ops import PASS, Op, cat
    reads = {name: (OPS[name].reads_inputs, OPS[name].reads_out)
             for name in ("add", "sub", "mul", "exp", "div", "relu", "transpose", "softmax")}
    assert reads == {"add": (False, False), "sub": (False, False), "mul": (True, False),
                     "exp": (False, True), "div": (True, True), "relu": (True, False),
                     "transpose": (False, False), "softmax": (False, True)}
    assert not cat.of_arity(3).reads_inputs  # (functools.partial rules: cat slices g only)

    def nested(g, out, a):
        return (lambda: g * out)()  # out is read by a nested function only: a closure's cell

    assert Op("nested", None, nested).reads_out
    assert Op("opaque", None, np.negative).reads_inputs  # code unknown: assumed to read all
    assert not Op("pass", None, PASS, None).reads_inputs
