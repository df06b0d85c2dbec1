"""Tensor semantics (PyTorch's), errors, stability, and agreement with Value."""
import gc
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Tape, Tensor, Value, functional as F, no_grad, one_hot
from autograd_core.ops import Op
from autograd_core.testing import compare_value_tensor
from test_graph import dags, run


# ----- construction and dtypes -----

def test_floats_default_to_float64_and_float32_is_kept():
    assert Tensor([1.0, 2.0]).dtype == np.float64
    assert Tensor(3.0).dtype == np.float64 and Tensor(3.0).shape == ()
    assert Tensor(np.ones(2, dtype=np.float32), requires_grad=True).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.int64


@pytest.mark.parametrize("data", [[1, 2], [True, False], np.arange(3)])
def test_integer_and_bool_tensors_cannot_require_grad(data):
    Tensor(data)  # wrapping is fine
    with pytest.raises(TypeError, match="floating point"):
        Tensor(data, requires_grad=True)


@pytest.mark.parametrize("bad", ["abc", None, [1, "a"], {"a": 1}])
def test_non_numeric_data_is_rejected(bad):
    with pytest.raises(TypeError):
        Tensor(bad)


def test_the_tensor_owns_its_copy_and_arrays_saved_for_backward_are_read_only():
    source = np.ones(3)
    t = Tensor(source, requires_grad=True)
    source[0] = 5.0
    assert t.data[0] == 1.0
    y = t * t  # the operation saves t's array for backward...
    with pytest.raises(ValueError, match="read-only"):
        t.data[0] = 2.0  # ...so it can no longer be changed in place
    y.sum().backward()
    assert t.grad.tolist() == [2.0, 2.0, 2.0]


def test_a_result_that_backward_reads_is_read_only_too():
    """exp's gradient is g * out: changing the result in place would change the gradient
    silently, so it is read-only (it once gave e**1 → 100 here)."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    with pytest.raises(ValueError, match="read-only"):
        y.data[0] = 100.0
    y.backward(np.ones(2))
    assert x.grad.tolist() == np.exp([1.0, 2.0]).tolist()
    assert (x * 2).data.flags.writeable  # a product's backward reads its inputs, not its result


def test_arrays_that_backward_does_not_read_stay_writeable():
    """A sum's gradient needs neither input, as PyTorch's AddBackward saves nothing: the
    inputs stay writeable and may even be rebound, and the gradient is still right."""
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    y = (a + b).sum()
    assert a.data.flags.writeable and b.data.flags.writeable
    a.data[0] = 10.0
    b.data = np.zeros(2)
    y.backward()
    assert a.grad.tolist() == b.grad.tolist() == [1.0, 1.0]


def test_a_view_that_backward_reads_protects_the_array_it_views():
    """w.T reads nothing itself, but its result is a view of w's array that the product
    reads: w's own array must be read-only, or writing to it would change the view."""
    w = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = Tensor([[1.0, 1.0]], requires_grad=True)
    y = (x @ w.T).sum()
    with pytest.raises(ValueError, match="read-only"):
        w.data[0, 0] = 100.0
    y.backward()
    assert x.grad.tolist() == [[4.0, 6.0]]


def test_properties_and_conversions():
    t = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert (t.shape, t.ndim, t.size, len(t)) == ((2, 3), 2, 6, 2)
    assert t.T.shape == (3, 2) and t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert np.asarray(t) is t.numpy() and Tensor(7.0).item() == 7.0
    assert repr(Tensor([1.0, 2.0])) == "Tensor([1., 2.])"
    assert repr(Tensor([1.0], requires_grad=True) * 2) == "Tensor([2.], op='mul')"
    with pytest.raises(ValueError, match="3 elements"):
        Tensor([1.0, 2.0, 3.0]).item()


# ----- gradients: who gets them, and when -----

def test_requires_grad_propagates_and_constants_record_nothing():
    x = Tensor([1.0, 2.0])
    w = Tensor([3.0, 4.0], requires_grad=True)
    assert not (x * 2).requires_grad and (x * 2).parents == ()
    assert (x * w).requires_grad and (x * w).parents == (x, w)


def test_leaves_get_grad_intermediates_only_when_retained():
    w = Tensor([1.0, -2.0], requires_grad=True)
    h = w * 3
    kept = h.relu()
    kept.retain_grad()
    kept.sum().backward()
    assert h.grad is None and kept.grad.tolist() == [1.0, 1.0]
    assert w.grad.tolist() == [3.0, 0.0]


def test_leaf_gradients_accumulate_and_retain_graph_doubles():
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    first = w.grad.copy()
    loss.backward()
    np.testing.assert_array_equal(w.grad, 2 * first)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_backward_of_a_non_scalar_needs_grad_of_the_right_shape():
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    y = w * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        y.backward(grad=np.ones(3))
    seed = np.full((2, 3), 0.5)
    y.backward(grad=seed)
    assert w.grad.tolist() == [[1.0] * 3] * 2 and seed.tolist() == [[0.5] * 3] * 2


def test_broadcast_inputs_get_gradients_of_their_own_shape():
    w = Tensor(np.ones((3, 1)), requires_grad=True)
    b = Tensor(np.ones(4), requires_grad=True)
    c = Tensor(2.0, requires_grad=True)
    ((w + b) * c).sum().backward()
    assert w.grad.shape == (3, 1) and w.grad.ravel().tolist() == [8.0] * 3
    assert b.grad.tolist() == [6.0] * 4 and c.grad.shape == () and c.grad == 24.0


def test_gradients_never_share_memory_even_through_add():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad, b.grad)
    a.grad[0] = 9.0  # users may change their gradients...
    assert b.grad[0] == 1.0  # ...without touching anyone else's


def test_the_gradient_of_a_0d_tensor_is_a_0d_array_on_every_path():
    """numpy answers arithmetic on 0-d arrays with a scalar; .grad stays an array, as the
    data is (PyTorch: a 0-d tensor), whether it is copied, accumulated or summed."""
    from autograd_core import grad

    for dtype in (np.float64, np.float32):
        x = Tensor(np.array(3.0, dtype=dtype), requires_grad=True)
        (x * x).backward()
        first = x.grad
        (x * x + x).backward()  # accumulated
        assert type(first) is np.ndarray and first.shape == () and first.dtype == dtype
        assert type(x.grad) is np.ndarray and x.grad.dtype == dtype and x.grad == 6.0 + 7.0
        (summed,) = grad(x * x + x, x)  # two paths summed in the general sweep
        assert type(summed) is np.ndarray and summed.dtype == dtype and summed == 7.0


def test_a_fresh_contribution_becomes_the_leaf_gradient_without_a_copy():
    """A rule's result that nothing else holds is adopted as the gradient, as PyTorch
    steals it; -0.0 still becomes +0.0 there, as in a Value's sum from 0.0."""
    made = []

    def scale_vjp(g, out, x, w):
        share = g * w
        made.append(id(share))  # its identity only: holding it would force a copy
        return share

    scale = Op("scale", lambda x, w: x * w, scale_vjp, None)
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    scale(x, np.array([-0.0, 2.0, 3.0])).backward(np.ones(3))
    assert id(x.grad) == made[0]  # the very array the rule returned
    assert x.grad.tolist() == [0.0, 2.0, 3.0] and not np.signbit(x.grad).any()


def test_a_contribution_held_elsewhere_is_copied_into_the_leaf_gradient():
    kept = []

    def keep_vjp(g, out, x):
        share = g * 2.0
        kept.append(share)  # someone else holds the rule's result
        return share

    double = Op("double", lambda x: x * 2.0, keep_vjp)
    x = Tensor([1.0, -2.0], requires_grad=True)
    double(x).backward(np.array([1.0, -0.0]))
    assert x.grad.tolist() == [2.0, 0.0] and not np.signbit(x.grad).any()
    assert not np.shares_memory(x.grad, kept[0])
    x.grad[0] = 7.0
    assert kept[0].tolist() == [2.0, -0.0]  # untouched, sign of zero and all


def test_rebinding_data_after_use_is_caught_at_backward():
    w = Tensor([1.0, 2.0], requires_grad=True, label="w")
    loss = (w * w).sum()
    w.data = np.array([5.0, 5.0])
    with pytest.raises(RuntimeError, match="'w'.*replaced"):
        loss.backward()
    assert w.grad is None  # nothing was touched


def test_in_place_operators_rebind_and_refuse_to_lose_history():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        w += 1
    with no_grad():
        w -= Tensor([0.5, 0.5])
    assert w.data.tolist() == [0.5, 1.5] and w.requires_grad and w.is_leaf


def test_in_place_on_a_tensor_with_history_records_the_operation_as_pytorch_does():
    w = Tensor([1.0, 2.0], requires_grad=True)
    running = w * 1.0
    first = running
    running += w * 2  # records running + w * 2; `running` now names the result
    assert running is not first and running.op == "add"
    running.sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_detach_and_no_grad():
    w = Tensor([1.0], requires_grad=True)
    d = w.detach()
    assert not d.requires_grad and d.parents == () and d.data is w.data
    with no_grad():
        assert not (w * 2).requires_grad


def test_tape_records_tensor_operations_too_and_unbroadcasts():
    w = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor(0.5, requires_grad=True)
    with Tape() as tape:
        y = (w * w + b).sum()
    g, gb = tape.gradient(y, [w, b])
    assert g.tolist() == [2.0, 4.0] and gb.shape == () and gb == 2.0 and w.grad is None


# ----- ops: kinks, stability, indexing, shapes -----

def test_reduction_ties_split_evenly():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    y = Tensor([1.0, 1.0], requires_grad=True)
    y.min().backward()
    assert y.grad.tolist() == [0.5, 0.5]


def test_elementwise_kinks_match_value():
    x = Tensor([0.0, 0.0], requires_grad=True)
    (x.relu() + x.abs() + x.leaky_relu(0.2)).sum().backward()
    assert x.grad.tolist() == [0.2, 0.2]
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    F.maximum(a, b).sum().backward()
    assert (a.grad[0], b.grad[0]) == (0.5, 0.5)


@pytest.mark.parametrize("big", [1000.0, -1000.0])
def test_softmax_family_is_stable_and_softmax_gradient_rows_sum_to_zero(big):
    x = Tensor([[big, 0.0, -big], [big, big, 0.0]], requires_grad=True)
    for out in (x.softmax(1), x.log_softmax(1), x.logsumexp(1)):
        assert np.all(np.isfinite(out.data)) or out.op == "log_softmax"
    s = x.softmax(1)
    np.testing.assert_allclose(s.data.sum(1), 1.0)
    s.backward(grad=np.random.default_rng(0).normal(size=(2, 3)))
    np.testing.assert_allclose(x.grad.sum(1), 0.0, atol=1e-12)
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(Tensor([big, big]).logsumexp(0).item(), big + math.log(2))


def test_indexing_gradients_scatter_add_repeated_indices():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    m = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (m[m > 2] * 2).sum().backward()
    assert m.grad.tolist() == [[0, 0, 0], [2, 2, 2]]
    m2 = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (m2[:, None, 1:] ** 2).sum().backward()
    assert m2.grad.tolist() == [[0, 2, 4], [0, 8, 10]]


def test_shape_ops_and_their_gradients():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = x.permute(2, 0, 1).flatten(1).unsqueeze(0).squeeze(0)
    assert y.shape == (4, 6)
    parts = F.split(x, [1, 2], axis=1)
    assert [p.shape for p in parts] == [(2, 1, 4), (2, 2, 4)]
    (y.sum() + parts[1].sum() * 2 + x.transpose(0, 2).expand(5, 4, 3, 2).sum()).backward()
    expected = np.ones((2, 3, 4)) + 5
    expected[:, 1:, :] += 2
    np.testing.assert_array_equal(x.grad, expected)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        x.expand(3, 3, 4)
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        x.sum(axis=3)


def test_transpose_swaps_two_axes_as_in_pytorch():
    m = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert m.transpose(0, 1).tolist() == m.T.tolist() == [[1, 4], [2, 5], [3, 6]]
    assert m.transpose().shape == (3, 2) and m.transpose((1, 0)).shape == (3, 2)
    assert Tensor(np.zeros((2, 3, 4))).transpose(0, 2).shape == (4, 3, 2)


def test_var_and_std_match_numpy_with_bessels_correction():
    data = np.random.default_rng(1).normal(size=(4, 5))
    x = Tensor(data, requires_grad=True)
    np.testing.assert_allclose(x.var().item(), data.var(ddof=1))
    np.testing.assert_allclose(x.std(axis=0).data, data.std(axis=0, ddof=1))
    np.testing.assert_allclose(x.var(axis=1, correction=0).data, data.var(axis=1))
    x.var().backward()
    np.testing.assert_allclose(x.grad, 2 * (data - data.mean()) / (data.size - 1))


def test_comparisons_give_bool_tensors_and_one_hot():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    mask = x > 0
    assert mask.dtype == bool and not mask.requires_grad and mask.tolist() == [True, False, True]
    assert (x == 3.0).tolist() == [False, False, True]
    assert one_hot(np.array([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match="out of range"):
        one_hot(np.array([3]), 3)


@pytest.mark.parametrize("fn, pattern", [
    (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3))), r"matmul of tensors of shapes \(2, 3\) and \(2, 3\)"),
    (lambda: Tensor(np.ones((2, 3))) + Tensor(np.ones(4)), r"add .*\(2, 3\) and \(4,\)"),
    (lambda: Tensor(np.ones(6)).reshape(4, 2), r"reshape .*\(6,\)"),
    (lambda: Tensor(np.ones(3))[5], r"getitem .*\(3,\)"),
])
def test_shape_errors_name_the_op_and_the_shapes(fn, pattern):
    with pytest.raises((ValueError, IndexError), match=pattern):
        fn()


def test_mixing_tensors_and_values_is_an_error():
    with pytest.raises(TypeError, match="cannot mix"):
        Tensor([1.0]) * Value(2.0)


# ----- graphs -----

def test_a_100000_node_tensor_graph_back_propagates_without_recursion():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_no_reference_cycles_tensor_graphs_are_freed_by_reference_counting():
    gc.collect()
    gc.disable()
    try:
        before = sum(type(o) is Tensor for o in gc.get_objects())
        w = Tensor(np.ones((3, 3)), requires_grad=True)
        loss = (w @ w).tanh().softmax(1).log().mean()
        loss.backward()
        del loss
        assert sum(type(o) is Tensor for o in gc.get_objects()) == before + 1
        assert gc.collect() == 0
    finally:
        gc.enable()


# ----- Value and Tensor agree bit for bit -----

@given(dags())
def test_value_and_tensor_agree_on_random_expressions(dag):
    values, program = dag
    assert compare_value_tensor(lambda *xs: run(program, list(xs)), *values)


@pytest.mark.parametrize("fn", [
    lambda x, y: x ** y, lambda x, y: x / y, lambda x, y: (x * y).relu().sqrt(),
    lambda x, y: F.maximum(x, y) - F.minimum(x, y), lambda x, y: (x - y).abs().log(),
    lambda x, y: x.leaky_relu(0.3) * y.softplus() + y.sigmoid(),
])
@given(st.floats(0.1, 3.0), st.floats(-3.0, 3.0))
def test_value_and_tensor_agree_on_every_op(fn, a, b):
    with np.errstate(all="ignore"):
        assert compare_value_tensor(fn, a, b)


def test_the_agreement_helper_reports_a_mismatch():
    with pytest.raises(AssertionError, match="disagree"):
        compare_value_tensor(lambda x: x * 2 if isinstance(x, Value) else x * 3, 1.0)


def test_number_constants_take_the_tensor_dtype_and_keep_the_sign_of_zero():
    x = Tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
    assert (x * 2).dtype == np.float32 and (2.5 - x).dtype == np.float32
    assert np.signbit((x * -0.0).data).tolist() == [True, False]
    assert np.signbit((x * 0.0).data).tolist() == [False, True]
    y = Tensor([1.0, 2.0], requires_grad=True)
    assert (y * 3).parents[1].dtype == np.float64 and (y * 3).parents[1].item() == 3.0
    assert np.isnan((y * float("nan")).data).all()


def test_numpy_scalars_and_integer_arrays_keep_a_float32_tensor_float32():
    """As PyTorch: a number is a number whether Python's or numpy's (np.sqrt(4.0) is a
    float64 scalar, which numpy alone would promote to), and integers take the float dtype."""
    x = Tensor(np.array([1.0, 4.0], dtype=np.float32), requires_grad=True)
    for y in (x / np.sqrt(4.0), np.float64(2.0) * x, x + np.int64(1), x * np.array([1, 2]),
              np.arange(2) - x, x * np.array([True, False])):
        assert y.dtype == np.float32, y
    (x / np.sqrt(4.0)).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [0.5, 0.5]
    assert (x * np.ones(2)).dtype == np.float64  # a float64 array is a float64 operand


def test_axes_out_of_range_raise_instead_of_wrapping_round():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    for call in (lambda: x.sum(axis=(2,)), lambda: x.mean(axis=(0, -3)), lambda: x.max(axis=2),
                 lambda: x.logsumexp(axis=-3), lambda: x.unsqueeze(3), lambda: x.squeeze(2),
                 lambda: x.permute(0, 5), lambda: x.split(1, axis=2), lambda: x.flatten(0, 2)):
        with pytest.raises(IndexError, match="out of range"):  # (numpy's AxisError)
            call()
    assert x.sum(axis=(-1,)).tolist() == [3.0, 12.0] and x.unsqueeze(-3).shape == (1, 2, 3)


@pytest.mark.parametrize("reduce", [
    lambda t, axis: t.sum(axis), lambda t, axis: t.mean(axis), lambda t, axis: t.max(axis),
    lambda t, axis: t.min(axis), lambda t, axis: t.logsumexp(axis),
    lambda t, axis: t.sum(axis=(axis,), keepdims=True), lambda t, axis: t.squeeze(axis),
])
@pytest.mark.parametrize("axis", [0, -1])
def test_a_0d_tensor_reduces_over_axis_0_or_minus_1_as_in_pytorch(reduce, axis):
    x = Tensor(2.0, requires_grad=True)
    y = reduce(x, axis)
    assert y.shape == () and y.item() == 2.0
    y.backward()
    assert x.grad.shape == () and x.grad.item() == 1.0


def test_softmax_family_on_an_empty_axis_gives_what_pytorch_gives():
    with np.errstate(divide="ignore"):  # (the log of an empty sum, 0, warns as numpy's does)
        assert Tensor(np.zeros((0, 3))).logsumexp(axis=0).tolist() == [-np.inf] * 3
        assert Tensor(np.zeros((3, 0))).log_softmax(axis=1).shape == (3, 0)
    assert Tensor(np.zeros((3, 0))).softmax().shape == (3, 0)


def test_std_of_equal_values_has_gradient_zero_a_kink_like_abs_at_0():
    """std = sqrt(var) is not differentiable where every value is the same; it takes 0, as
    abs does at 0 and as PyTorch's std_backward does, rather than sqrt's inf times 0."""
    x = Tensor([[3.0, 3.0, 3.0], [1.0, 2.0, 3.0]], requires_grad=True)
    x.std(axis=1).sum().backward()
    assert x.grad[0].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(x.grad[1], [-0.5, 0.0, 0.5])  # (x - mean) / ((n - 1) std)
    assert x.std(axis=1).op == "std"  # one node in a drawing, as var is (under it)


def test_empty_index_list_and_empty_split_behave_as_numpy_and_pytorch():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    picked = x[[]]
    assert picked.shape == (0,)
    (picked.sum() + x.sum()).backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    pieces = Tensor(np.zeros((0, 2))).split(2)
    assert len(pieces) == 1 and pieces[0].shape == (0, 2)
