"""Function transforms (autograd_core.functional): results, kinds, composition, errors."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import Tensor, Value
from autograd_core.functional import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp

elements = st.floats(-2.0, 2.0)


def matrices(n, m):
    return hnp.arrays(np.float64, (n, m), elements=elements)


def vectors(n):
    return hnp.arrays(np.float64, (n,), elements=elements)


def nonlinear(W):
    """A function R^m -> R^n with a non-trivial Jacobian."""
    return lambda x: (Tensor(W) @ x).tanh() * x.sum() + x[0] * x[-1]


def numerical_jacobian(f, x, eps=1e-6):
    columns = []
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = eps
        columns.append((f(x + step) - f(x - step)) / (2 * eps))
    return np.stack(columns, axis=-1)


# ----- the lecture's identities -----

@given(st.integers(1, 4).flatmap(lambda n: st.tuples(matrices(n, n), vectors(n), vectors(n))))
def test_hessian_of_a_quadratic_is_the_symmetric_part_of_A(case):
    A, b, x = case
    H = hessian(lambda x: 0.5 * x @ (Tensor(A) @ x) + Tensor(b) @ x)(x)
    np.testing.assert_allclose(H, (A + A.T) / 2, rtol=1e-12, atol=1e-12)


@given(st.tuples(st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda nm: st.tuples(matrices(*nm), vectors(nm[1]))))
def test_jacobian_of_Wx_is_W(case):
    W, x = case
    np.testing.assert_allclose(jacobian(lambda x: Tensor(W) @ x)(x), W, rtol=1e-12, atol=1e-12)


@given(st.tuples(st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda nm: st.tuples(matrices(*nm), vectors(nm[1]), vectors(nm[1]), vectors(nm[0]))))
def test_jvp_is_jacobian_times_v_and_vjp_is_v_times_jacobian(case):
    W, x, v, u = case
    f = nonlinear(W)
    J = jacobian(f)(x)
    np.testing.assert_allclose(J, numerical_jacobian(lambda x: f(Tensor(x)).data, x),
                               rtol=1e-5, atol=1e-6)
    out, tangent = jvp(f, (x,), (v,))
    np.testing.assert_allclose(out, f(Tensor(x)).data)
    np.testing.assert_allclose(tangent, J @ v, rtol=1e-10, atol=1e-10)
    out, vjp_fn = vjp(f, x)
    (cotangent,) = vjp_fn(u)
    np.testing.assert_allclose(cotangent, u @ J, rtol=1e-10, atol=1e-10)
    (again,) = vjp_fn(2 * u)  # vjp_fn may be called again
    np.testing.assert_allclose(again, 2 * (u @ J), rtol=1e-10, atol=1e-10)


@given(st.integers(1, 4).flatmap(lambda n: st.tuples(vectors(n), vectors(n))))
def test_hvp_is_hessian_times_v(case):
    x, v = case

    def f(x):
        return (x.sin() * x).sum() * x.exp().sum()

    value, (product,) = hvp(f, (x,), (v,))
    np.testing.assert_allclose(product, hessian(f)(x) @ v, rtol=1e-10, atol=1e-10)
    assert value == pytest.approx(f(Tensor(x)).item())


# ----- composition and higher order -----

def test_grad_composes_to_third_order_on_numbers():
    f = lambda x: x ** 4  # noqa: E731
    assert grad(f)(2.0) == 32.0
    assert grad(grad(f))(2.0) == 48.0
    assert grad(grad(grad(f)))(2.0) == 48.0
    assert grad(grad(grad(grad(f))))(2.0) == 24.0


def test_grad_of_sin_cycles():
    x = 0.3
    assert grad(lambda x: x.sin())(x) == pytest.approx(math.cos(x))
    assert grad(grad(lambda x: x.sin()))(x) == pytest.approx(-math.sin(x))
    assert grad(grad(grad(lambda x: x.sin())))(x) == pytest.approx(-math.cos(x))


def test_jacobian_of_grad_is_the_hessian():
    x = np.array([0.5, -1.0, 2.0])

    def f(x):
        return (x ** 3).sum() + x[0] * x[1]

    expected = np.diag(6 * x) + np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(jacobian(grad(f))(x), expected)
    np.testing.assert_allclose(hessian(f)(x), expected)


def test_third_derivative_tensor_by_nesting_jacobians():
    x = np.array([0.5, -1.0])
    third = jacobian(hessian(lambda x: (x ** 4).sum()))(x)  # 24 x_i on the diagonal i=j=k
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 0], expected[1, 1, 1] = 24 * x
    np.testing.assert_allclose(third, expected)


def test_transform_inside_a_function_being_differentiated():
    """d/dy [d/dx (x * y)] = 1, with the inner transform closing over the outer input."""
    assert grad(lambda y: grad(lambda x: x * y)(1.0))(2.0) == 1.0
    assert grad(lambda y: grad(lambda x: x * x * y)(3.0))(2.0) == 6.0


# ----- kinds in, kinds out -----

def test_numbers_in_floats_out_arrays_in_arrays_out():
    assert type(grad(lambda x: x * x)(3.0)) is float
    assert type(grad(lambda x: x * x)(3)) is float  # ints are numbers too
    g = grad(lambda x: (x * x).sum())(np.array([1.0, 2.0]))
    assert type(g) is np.ndarray and g.tolist() == [2.0, 4.0]
    g = grad(lambda x: (x * x).sum())([1.0, 2.0])  # a list is an array
    assert type(g) is np.ndarray


def test_nodes_in_nodes_out_and_results_stay_differentiable():
    x = Tensor([1.0, 2.0], requires_grad=True)
    g = grad(lambda t: (t ** 3).sum())(x)  # 3 x**2, with history back to x
    assert isinstance(g, Tensor) and g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(x.grad, 6 * x.data)
    v = Value(3.0, requires_grad=False)
    g = grad(lambda t: t * t)(v)
    assert isinstance(g, Value) and g.data == 6.0 and not g.requires_grad


def test_value_and_grad_with_aux_and_several_argnums():
    def f(x, y):
        return x * y + y, "aux"

    (value, aux), (gx, gy) = value_and_grad(f, argnums=(0, 1), has_aux=True)(3.0, 4.0)
    assert (value, aux, gx, gy) == (16.0, "aux", 4.0, 4.0)
    gradient, aux = grad(f, argnums=1, has_aux=True)(3.0, 4.0)
    assert (gradient, aux) == (4.0, "aux")
    assert grad(lambda x, y: x * y, argnums=-1)(3.0, 4.0) == 3.0


def test_aux_comes_back_as_plain_data_for_plain_inputs_like_the_value():
    """As torch.func's and JAX's: nodes in the aux (nested too) are lowered, not left with
    their history (which would also keep the graph alive)."""
    def f(x):
        return (x * x).sum(), {"total": x.sum(), "doubled": [x * 2]}

    gradient, aux = grad(f, has_aux=True)(np.array([1.0, 2.0]))
    assert gradient.tolist() == [2.0, 4.0]
    assert type(aux["total"]) is np.ndarray and aux["total"] == 3.0
    assert type(aux["doubled"][0]) is np.ndarray and aux["doubled"][0].tolist() == [2.0, 4.0]
    assert grad(lambda x: (x * x, x + 1), has_aux=True)(3.0) == (6.0, 4.0)


def test_a_function_that_ignores_its_input_has_zero_gradient():
    assert grad(lambda x: Value(2.0))(1.0) == 0.0
    assert grad(lambda x, y: x * 2, argnums=1)(1.0, 5.0) == 0.0
    np.testing.assert_array_equal(jacobian(lambda x: Tensor([1.0, 2.0]))(np.ones(3)),
                                  np.zeros((2, 3)))
    np.testing.assert_array_equal(jvp(lambda x: Tensor([1.0, 2.0]) + 0 * x.sum(), (np.ones(3),),
                                      (np.ones(3),))[1], np.zeros(2))


def test_jvp_on_numbers_with_several_primals():
    out, tangent = jvp(lambda x, y: x * y.sin(), (2.0, 0.5), (1.0, 1.0))
    assert out == pytest.approx(2.0 * math.sin(0.5))
    assert tangent == pytest.approx(math.sin(0.5) + 2.0 * math.cos(0.5))


# ----- errors -----

def test_grad_of_a_non_scalar_function_says_to_use_jacobian_or_vjp():
    with pytest.raises(TypeError, match="use jacobian or vjp"):
        grad(lambda x: x * 2)(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="use jacobian or vjp"):
        grad(lambda x: [x, x])(1.0)


@pytest.mark.parametrize("argnums", [2, -3, 1.0, "0", (0, 5), ()])
def test_wrong_argnums_raise_value_error(argnums):
    with pytest.raises(ValueError, match="argnums"):
        grad(lambda x, y: x * y, argnums=argnums)(1.0, 2.0)


def test_other_misuse():
    with pytest.raises(TypeError, match="cannot differentiate with respect to a str"):
        grad(lambda x: x)("3")
    with pytest.raises(TypeError, match="pair"):
        grad(lambda x: x * x, has_aux=True)(1.0)
    with pytest.raises(ValueError, match="tangent 0 has shape"):
        jvp(lambda x: x * 2, (np.ones(3),), (np.ones(2),))
    with pytest.raises(ValueError, match="1 primals but 2 tangents"):
        jvp(lambda x: x * 2, (1.0,), (1.0, 2.0))
    out, vjp_fn = vjp(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match="cotangent has shape"):
        vjp_fn(np.ones(2))
    with pytest.raises(ValueError, match="one argnums"):
        hessian(lambda x, y: x * y, argnums=(0, 1))
