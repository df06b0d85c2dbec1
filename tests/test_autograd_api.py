"""grad(), backward(create_graph=True), custom ops, tensor hooks and anomaly detection."""
import math

import numpy as np
import pytest
from hypothesis import given

from autograd_core import (Op, Tape, Tensor, Value, detect_anomaly, grad, is_anomaly_enabled,
                           no_grad, set_detect_anomaly)
from autograd_core import graph
from autograd_core.testing import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from test_graph import dags, run

HERE = __file__


# ----- grad() -----

def test_grad_returns_gradients_and_leaves_dot_grad_alone():
    x, y = Value(2.0), Value(3.0)
    z = x * y + x
    x.grad = 10.0
    assert grad(z, [x, y], retain_graph=True) == (4.0, 2.0)
    assert x.grad == 10.0 and y.grad == 0.0 and z.grad == 0.0
    t = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = grad((t * t).sum(), t)
    np.testing.assert_array_equal(g, [2.0, 4.0])
    assert t.grad is None


def test_grad_without_retain_graph_frees_like_backward():
    x = Value(2.0)
    y = x * x
    grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_create_graph_retains_the_graph_by_default():
    x = Value(2.0)
    y = x ** 3
    (dy,) = grad(y, x, create_graph=True)
    (again,) = grad(y, x)  # still there
    assert dy.data == again == 12.0


def test_allow_unused():
    x, unused = Value(1.0), Value(2.0)
    y = x * 3
    with pytest.raises(RuntimeError, match="input 1 'u' was not used"):
        unused.label = "u"
        grad(y, [x, unused], retain_graph=True)
    assert grad(y, [x, unused], allow_unused=True) == (3.0, None)


def test_grad_with_respect_to_an_intermediate_node_and_several_outputs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    a, b = (h * h).sum(), h.sum()
    gh, gx = grad([a, b], [h, x], grad_outputs=[None, np.array(2.0)])
    np.testing.assert_array_equal(gh, 2 * h.data + 2)
    np.testing.assert_array_equal(gx, 3 * (2 * h.data + 2))


def test_grad_misuse():
    x = Value(1.0)
    with pytest.raises(RuntimeError, match="output 0 does not require grad"):
        grad(Value(2.0, requires_grad=False), x)
    with pytest.raises(RuntimeError, match="input 0 does not require grad"):
        grad(x * 2, Value(1.0, requires_grad=False))
    with pytest.raises(TypeError, match="input 0 is a float"):
        grad(x * 2, 1.0)
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        grad([x * 2], x, grad_outputs=[1.0, 2.0])
    t = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        grad(t * 2, t)


# ----- backward(create_graph=True) -----

def test_backward_create_graph_on_values_gives_differentiable_grads():
    x = Value(0.5)
    x.sin().backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value) and first.data == pytest.approx(math.cos(0.5))
    x.zero_grad()
    first.backward()
    assert x.grad == pytest.approx(-math.sin(0.5))


@pytest.mark.parametrize("leaf", [lambda: Value(-2.0), lambda: Tensor(-2.0, requires_grad=True)],
                         ids=["Value", "Tensor"])
def test_grad_with_create_graph_gives_nodes_even_where_a_rule_gives_a_constant(leaf):
    """relu's rule answers 0.0 where relu is flat; recorded, that is still a node (without
    history), as a Tensor's was and as PyTorch's is."""
    x = leaf()
    (dx,) = grad(x.relu(), x, create_graph=True)
    assert isinstance(dx, type(x)) and not dx.requires_grad and float(dx.data) == 0.0


def test_backward_create_graph_on_tensors():
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Tensor) and first.requires_grad
    np.testing.assert_allclose(first.data, 3 * x.data ** 2)
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad, 6 * x.data)


def test_backward_create_graph_inside_no_grad_still_records():
    x = Value(3.0)
    y = x * x
    with no_grad():
        y.backward(create_graph=True)
    assert x.grad.requires_grad


# ----- custom operations -----

cube = Op("cube", lambda x: x ** 3, lambda g, out, x: g * 3 * x ** 2)


def test_a_custom_op_behaves_like_a_built_in_one():
    x = Value(2.0, label="x")
    with Tape() as tape:
        y = cube(x)
    y.label = "y"
    assert str(tape) == "y = cube(x)    # 8"
    assert y.op == "cube" and y.parents == (x,)  # what drawings show
    y.backward()
    assert x.grad == 12.0
    t = Tensor([1.0, 2.0], requires_grad=True)
    cube(t).sum().backward()
    np.testing.assert_array_equal(t.grad, [3.0, 12.0])
    assert cube(2.0) == 8.0  # on raw data, the forward alone


def test_a_custom_op_works_with_create_graph_and_passes_the_checkers():
    x = Value(2.0)
    (first,) = grad(cube(x), x, create_graph=True)
    (second,) = grad(first, x)
    assert (first.data, second) == (12.0, 12.0)
    assert gradcheck(cube, [np.array([0.5, -1.0, 2.0])])
    assert gradgradcheck(cube, [np.array([0.5, -1.0, 2.0])])
    assert gradgradcheck(cube, [0.7])


@pytest.mark.parametrize("wrong_vjp, order", [
    (lambda g, out, x: g * 3 * x ** 2 * 1.001, 1),          # off by 0.1%
    (lambda g, out, x: g * 3 * x, 1),                       # a dropped power
    (lambda g, out, x: g * 3 * x.data ** 2 if hasattr(x, "data") else g * 3 * x ** 2, 2),
])  # the last is right at first order but cuts x off the graph: second order is wrong
def test_a_planted_wrong_rule_is_caught(wrong_vjp, order):
    wrong = Op("cube", lambda x: x ** 3, wrong_vjp)
    check = gradcheck if order == 1 else gradgradcheck
    inputs = [np.array([0.5, -1.0, 2.0])]
    # rtol 1e-5 resolves an error of 0.1%; central differences in float64 are far better
    assert check(cube, inputs, rtol=1e-5)
    with pytest.raises(GradcheckError, match="differs at output"):
        check(wrong, inputs, rtol=1e-5)
    assert not check(wrong, inputs, rtol=1e-5, raise_exception=False)


def test_a_wrong_broadcast_reduction_is_caught():
    def scale(x, w):  # x (2, 3) * w (3,): w's gradient must be summed over rows
        return x * w
    good = [np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 3.0])]
    assert gradcheck(scale, good)
    keep_first_row = Op("scale", lambda x, w: x * w, lambda g, out, x, w: g * w,
                        lambda g, out, x, w: (g * x)[0])
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(keep_first_row, good)


# ----- hooks -----

def test_hooks_see_and_replace_gradients_and_can_be_removed():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    seen = []
    handle_h = h.register_hook(lambda g: seen.append(g.copy()))
    handle_x = x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    np.testing.assert_array_equal(seen[0], 2 * h.data)
    np.testing.assert_array_equal(x.grad, 10 * 3 * 2 * h.data)
    handle_x.remove()
    handle_h.remove()
    handle_h.remove()  # twice is harmless
    assert graph.hooks_registered == 0
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_a_leaf_hook_sees_each_backward_before_accumulation():
    x = Tensor([1.0], requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(g.copy()) or g * 2)
    (x * 3).sum().backward()
    (x * 5).sum().backward()
    assert [c.tolist() for c in calls] == [[3.0], [5.0]]
    assert x.grad.tolist() == [16.0]
    handle.remove()


def test_hook_misuse():
    x = Tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: np.ones(3))
    with pytest.raises(ValueError, match=r"a hook's gradient has shape \(3,\) but the tensor has shape \(2,\)"):
        (x * 2).sum().backward()
    handle.remove()
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).register_hook(print)
    with pytest.raises(TypeError, match="callable"):
        x.register_hook(3)


@given(dags())
def test_the_general_backward_equals_the_fast_one_bit_for_bit(dag):
    """Hooks send backward through the general sweep: same gradients to the last bit."""
    values, program = dag
    fast = [Tensor(v, requires_grad=True) for v in values]
    run(program, fast).backward()
    general = [Tensor(v, requires_grad=True) for v in values]
    handle = general[0].register_hook(lambda g: None)
    try:
        run(program, general).backward()
    finally:
        handle.remove()
    for a, b in zip(fast, general):
        assert (a.grad is None and b.grad is None) or a.grad.tobytes() == b.grad.tobytes()


# ----- anomaly detection -----

def line_of(text):
    with open(HERE) as source:
        return next(i for i, line in enumerate(source, 1) if text in line)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_anomaly_names_the_op_that_made_a_nan_in_forward():
    x = Value(0.0)
    with detect_anomaly():
        y = x * 2
        with pytest.raises(FloatingPointError) as error:
            y.log() * 0.0  # log(0) = -inf is fine; -inf * 0 is nan  # forward-nan
    message = str(error.value)
    assert "'mul'" in message and "operation #2" in message and "contains nan" in message
    assert f"{HERE}:{line_of('# forward-nan')}" in message


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_anomaly_can_also_stop_at_inf():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly(check_inf=True):
        with pytest.raises(FloatingPointError, match="'log'.*contains inf"):
            x.log()


def test_anomaly_names_the_op_whose_backward_made_a_nan():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()  # backward-nan
        z = (y * 0.0).sum()  # forward fine, and 0 * inf = nan in sqrt's backward
        with pytest.raises(FloatingPointError) as error:
            z.backward()
    message = str(error.value)
    assert "backward of 'sqrt'" in message and "operation #0" in message
    assert f"{HERE}:{line_of('# backward-nan')}" in message
    assert x.grad is None  # nothing half-accumulated into a leaf


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_anomaly_is_off_by_default_and_the_flag_and_decorator_work():
    assert not is_anomaly_enabled()
    x = Value(0.0)
    assert math.isnan((x.log() * 0.0).data)  # no detection: a nan, no exception

    @detect_anomaly()
    def bad():
        return x.log() * 0.0

    with pytest.raises(FloatingPointError):
        bad()
    assert not is_anomaly_enabled()
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
            x.log() * 0.0
        assert is_anomaly_enabled()
        with pytest.raises(FloatingPointError):
            x.log() * 0.0
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled() and graph.open_tapes == 0


def test_anomaly_checks_gradients_of_nodes_made_before_it_started():
    x = Value(0.0)
    y = x.sqrt() * 0.0
    with detect_anomaly(), pytest.raises(FloatingPointError, match="made before detection"):
        y.backward()


# ----- the checkers themselves -----

def test_numerical_grad_weights_the_output_by_grad_output():
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    w = np.array([1.0, -2.0])
    (g,) = numerical_grad(lambda t: (t * t).sum(axis=0), [x], grad_output=w)
    np.testing.assert_allclose(g, 2 * x * w, rtol=1e-8)
    assert numerical_grad(lambda a, b: a * b, [3.0, 4.0]) == pytest.approx([4.0, 3.0])


def test_gradcheck_fast_mode_and_float32_warning():
    x = np.linspace(-1.0, 1.0, 50)
    assert gradcheck(lambda t: (t.tanh() * t).sum(), [x], fast_mode=True)
    wrong = Op("tanh", np.tanh, lambda g, out, x: g * (1 - out))  # forgot the square
    with pytest.raises(GradcheckError, match="fast mode"):
        gradcheck(wrong, [x], fast_mode=True)
    with pytest.warns(UserWarning, match="float32"):
        gradcheck(lambda t: t * 2, [x.astype(np.float32)], atol=1e-2)


def test_grad_outputs_may_be_wrapped_in_a_list_for_one_output():
    x = Value(2.0)
    assert grad(x * 3, x, grad_outputs=[2.0]) == (6.0,)
    t = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = grad(t * 3, t, grad_outputs=[np.array([1.0, 10.0])])
    np.testing.assert_array_equal(g, [3.0, 30.0])
    (g,) = grad(t * 3, t, grad_outputs=[1.0, 10.0])  # a list that is the gradient itself
    np.testing.assert_array_equal(g, [3.0, 30.0])
