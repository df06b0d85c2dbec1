"""The public gradient-checking toolkit: the checkers catch wrong rules (first and second
order) and pass right ones; the strategies draw what they promise; random graphs agree four
ways (backward, Tape, finite differences, Value vs Tensor)."""
import numpy as np
import pytest
from hypothesis import find, given
from hypothesis import strategies as st

from autograd_core import Op, Tape, Tensor, Value
from autograd_core.testing import (GradcheckError, check_model_gradients, compare_value_tensor,
                                   gradcheck, gradgradcheck, numerical_grad)
from autograd_core.testing import strategies as ags

X = [np.array([0.5, -1.2, 2.0])]
TIGHT = dict(rtol=1e-5)  # resolves a 0.1% error; central differences in float64 are far better

# x sin(x), with its rule right and wrong in several ways, first and second order.
sin_ok = Op("sin_", np.sin, lambda g, out, x: g * cos_ok(x))
cos_ok = Op("cos_", np.cos, lambda g, out, x: -g * sin_ok(x))
cos_off = Op("cos_", np.cos, lambda g, out, x: -g * sin_ok(x) * 1.001)
cos_sign = Op("cos_", np.cos, lambda g, out, x: g * sin_ok(x))

RIGHT = Op("xsin", lambda x: x * np.sin(x), lambda g, out, x: g * (sin_ok(x) + x * cos_ok(x)))
WRONG_FIRST = {
    "scaled by 1.001": Op("xsin", lambda x: x * np.sin(x),
                          lambda g, out, x: g * (sin_ok(x) + x * cos_ok(x)) * 1.001),
    "dropped term": Op("xsin", lambda x: x * np.sin(x), lambda g, out, x: g * x * cos_ok(x)),
}
WRONG_SECOND = {  # right values at first order, wrong derivatives of them
    "scaled by 1.001": Op("xsin", lambda x: x * np.sin(x),
                          lambda g, out, x: g * (sin_ok(x) + x * cos_off(x))),
    "wrong sign": Op("xsin", lambda x: x * np.sin(x),
                     lambda g, out, x: g * (sin_ok(x) + x * cos_sign(x))),
    "dropped term": Op("xsin", lambda x: x * np.sin(x),
                       lambda g, out, x: g * (sin_ok(x) + x * np.cos(_data(x)))),
}


def _data(x):
    return x.data if isinstance(x, (Value, Tensor)) else x


def test_right_rules_pass_at_first_and_second_order():
    assert gradcheck(RIGHT, X, **TIGHT) and gradgradcheck(RIGHT, X, **TIGHT)
    assert gradcheck(RIGHT, [0.7], **TIGHT) and gradgradcheck(RIGHT, [0.7], **TIGHT)


@pytest.mark.parametrize("name", WRONG_FIRST)
def test_wrong_first_order_rules_are_caught(name):
    with pytest.raises(GradcheckError, match=r"input 0 differs at output \(\d,\), input \(\d,\)"):
        gradcheck(WRONG_FIRST[name], X, **TIGHT)
    assert not gradcheck(WRONG_FIRST[name], [0.7], raise_exception=False, **TIGHT)


@pytest.mark.parametrize("name", WRONG_SECOND)
def test_wrong_second_order_rules_are_caught_by_gradgradcheck_only(name):
    assert gradcheck(WRONG_SECOND[name], X, **TIGHT)  # first order is right
    with pytest.raises(GradcheckError, match="differs"):
        gradgradcheck(WRONG_SECOND[name], X, **TIGHT)


def summed_rows(vjp):
    """An op summing a matrix over its rows, with the given VJP."""
    return Op("summed_rows", lambda a: a.sum(axis=0), vjp)


ROW_SUM_RIGHT = summed_rows(lambda g, out, a: g * np.ones((np.shape(a)[0], 1)))
ROW_SUM_WRONG = summed_rows(  # sends the gradient back to the first row only
    lambda g, out, a: g * (np.arange(np.shape(a)[0]) == 0)[:, None])


def scale_by(row_sum):
    """x * w for x (n, m), w (m,): the gradient of w sums over rows, here with ``row_sum``."""
    return Op("scale", lambda x, w: x * w, lambda g, out, x, w: g * w,
              lambda g, out, x, w: row_sum(g * x))


def test_a_wrong_broadcast_reduction_is_caught_at_first_and_second_order():
    inputs = [np.arange(6.0).reshape(2, 3) / 3, np.array([1.0, 2.0, 3.0])]
    assert gradcheck(scale_by(ROW_SUM_RIGHT), inputs)
    assert gradgradcheck(scale_by(ROW_SUM_RIGHT), inputs)
    # First order: a rule that reduces the broadcast gradient wrongly (a mean, not a sum).
    mean_not_sum = Op("scale", lambda x, w: x * w, lambda g, out, x, w: g * w,
                      lambda g, out, x, w: (g * x).mean(axis=0))
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(mean_not_sum, inputs)
    # Second order: the reduction's forward is right (first order passes), its own
    # gradient broadcasts back wrongly.
    assert gradcheck(scale_by(ROW_SUM_WRONG), inputs)
    with pytest.raises(GradcheckError, match="differs"):
        gradgradcheck(scale_by(ROW_SUM_WRONG), inputs)


def test_the_failure_message_names_the_worst_element_and_the_tolerance():
    with pytest.raises(GradcheckError) as error:
        gradcheck(WRONG_FIRST["dropped term"], X)
    message = str(error.value)
    for fragment in ("input 0", "analytic", "numerical", "difference", "tolerance", "atol 1e-05",
                     "rtol 0.001"):
        assert fragment in message


def test_gradcheck_catches_a_nondeterministic_backward():
    calls = []

    def flaky(g, out, x):
        calls.append(1)
        return g * 2 * x * (1 + 1e-12 * len(calls))  # tiny, and different every call

    square = Op("square", lambda x: x * x, flaky)
    with pytest.raises(GradcheckError, match="not deterministic"):
        gradcheck(square, [np.array([1.0, 2.0])])
    with pytest.raises(GradcheckError, match="fast mode.*not deterministic"):
        gradcheck(square, [np.array([1.0, 2.0])], fast_mode=True, atol=1e-3)


# ----- models -----

def test_check_model_gradients_names_the_wrong_parameter():
    bad_tanh = Op("tanh", np.tanh, lambda g, out, x: g * (1 - out))  # forgot the square
    rng = np.random.default_rng(0)
    model = {"layer1.weight": Tensor(rng.normal(size=(4, 3)), requires_grad=True),
             "layer1.bias": Tensor(rng.normal(size=4), requires_grad=True),
             "layer2.weight": Tensor(rng.normal(size=(1, 4)), requires_grad=True)}
    batch = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))

    def loss_fn(m, batch):
        x, y = batch
        h = bad_tanh(Tensor(x) @ m["layer1.weight"].T + m["layer1.bias"])
        return ((h @ m["layer2.weight"].T - Tensor(y)) ** 2).mean()

    before = {name: p.data for name, p in model.items()}
    report = check_model_gradients(model, loss_fn, batch)
    assert not report.ok
    assert report.failed == ["layer1.weight", "layer1.bias"]  # layer2 comes after the bug
    assert "layer1.weight" in str(report) and "NO" in str(report)
    assert all(p.data is before[name] and p.grad is None for name, p in model.items())
    with pytest.raises(GradcheckError, match="wrong gradients for layer1.weight, layer1.bias"):
        check_model_gradients(model, loss_fn, batch, raise_exception=True)


def test_check_model_gradients_samples_large_parameters_and_takes_values():
    big = {"w": Tensor(np.linspace(-1, 1, 100), requires_grad=True)}
    report = check_model_gradients(big, lambda m, _: (m["w"] ** 2).sum(), max_elements=7)
    assert report.ok and report[0].checked == 7
    scalar = {"a": Value(0.5), "b": Value(-1.5)}
    report = check_model_gradients(scalar, lambda m, _: (m["a"] * m["b"]).tanh())
    assert report.ok and [row.checked for row in report] == [1, 1]


# ----- strategies -----

@given(ags.tensors(shape=(2, 3), dtype=np.float32))
def test_tensors_have_the_shape_and_dtype_asked_for(t):
    assert t.shape == (2, 3) and t.dtype == np.float32 and t.requires_grad


@given(ags.broadcastable_tensors(3))
def test_broadcastable_tensors_broadcast(ts):
    assert np.broadcast_shapes(*[t.shape for t in ts]) is not None


@given(st.integers(0, 4).flatmap(lambda n: st.tuples(st.just(n), ags.axes(n))))
def test_axes_are_valid_for_sum(case):
    ndim, axis = case
    np.zeros((2,) * ndim).sum(axis=axis)


@given(ags.values(domain=(0.5, 1.0)))
def test_values_stay_in_their_domain(v):
    assert isinstance(v, Value) and 0.5 <= v.data <= 1.0


@given(ags.graphs())
def test_random_graphs_agree_four_ways(graph):
    """backward == Tape.gradient == finite differences == the same graph on 0-d Tensors."""
    leaves, out = graph.build(Value)
    out.backward()
    with Tape() as tape:
        tape_leaves, taped = graph.build(Value)
    from_tape = tape.gradient(taped, tape_leaves)
    numerical = numerical_grad(lambda *xs: graph.run(xs), list(graph.leaves))
    for leaf, via_tape, expected in zip(leaves, from_tape, numerical):
        assert leaf.grad == pytest.approx(expected, rel=1e-3, abs=1e-5), graph
        assert leaf.grad == pytest.approx(via_tape or 0.0, rel=1e-12, abs=1e-12), graph
    assert compare_value_tensor(lambda *xs: graph.run(xs), *graph.leaves)


@given(ags.graphs(shape=(2, 3), max_ops=6))
def test_random_tensor_graphs_match_finite_differences(graph):
    leaves, out = graph.build(Tensor)
    out.backward()
    numerical = numerical_grad(lambda *xs: graph.run(xs), list(graph.leaves))
    assert out.item() == pytest.approx(graph.evaluate(graph.leaves), rel=1e-12)
    for leaf, expected in zip(leaves, numerical):
        grad = np.zeros(leaf.shape) if leaf.grad is None else leaf.grad
        np.testing.assert_allclose(grad, expected, rtol=1e-3, atol=1e-5, err_msg=repr(graph))


def test_a_shrunk_graph_reads_like_a_forward_pass():
    smallest = find(ags.graphs(), lambda g: any(step[0] == "mul" for step in g.program))
    assert repr(smallest) == "Graph:\n    x0 = 0.0\n    t0 = x0 * x0\n    out = t0"


@given(ags.graphs(max_ops=12, max_depth=2))
def test_graph_depth_is_bounded(graph):
    depth = [0] * len(graph.leaves)
    for _, *inputs in graph.program:
        depth.append(1 + max(depth[i] for i in inputs))
    assert max(depth) <= 2 or graph.program == (("add", 0, 0),)
