"""Tests of nn.utils: gradient clipping against closed forms (tensors and scalar Values), and
flattening parameters into one vector and back, with gradients flowing through it."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import Tensor, Value
from nn.parameter import Parameter, ParameterArray
from nn.utils import (clip_grad_norm_, clip_grad_value_, parameters_to_vector,
                      vector_to_parameters)


def with_grad(grad, data=None) -> Tensor:
    grad = np.asarray(grad, dtype=float)
    p = Tensor(np.zeros_like(grad) if data is None else data, requires_grad=True)
    p.grad = grad
    return p


def three_by_four_by_twelve():
    """Gradients (3, 4) and (12,): 2-norm 13, 1-norm 19, largest entry 12."""
    return with_grad([[3.0, -4.0]]), with_grad([12.0])


# ----- clip_grad_norm_ -----
@pytest.mark.parametrize("norm_type, total", [(2.0, 13.0), (1, 19.0), (math.inf, 12.0),
                                              ("inf", 12.0), (3, (27 + 64 + 1728) ** (1 / 3))])
def test_clip_grad_norm_scales_by_max_norm_over_the_total(norm_type, total):
    w, b = three_by_four_by_twelve()
    returned = clip_grad_norm_([w, b], max_norm=1.0, norm_type=norm_type)
    assert type(returned) is float
    assert returned == pytest.approx(total, rel=1e-12)  # the norm before clipping
    scale = 1.0 / (total + 1e-6)
    np.testing.assert_allclose(w.grad, [[3.0 * scale, -4.0 * scale]], rtol=1e-12)
    np.testing.assert_allclose(b.grad, [12.0 * scale], rtol=1e-12)


def test_a_total_under_max_norm_leaves_the_gradients_alone():
    w, b = three_by_four_by_twelve()
    before = w.grad
    assert clip_grad_norm_([w, b], max_norm=13.5) == 13.0
    assert w.grad is before  # not even copied: PyTorch multiplies by 1
    np.testing.assert_array_equal(b.grad, [12.0])


def test_parameters_without_gradients_are_skipped():
    w, b = three_by_four_by_twelve()
    frozen = Tensor([100.0], requires_grad=True)  # never used: grad is None
    assert clip_grad_norm_([w, frozen, b], max_norm=6.5) == pytest.approx(13.0)
    assert frozen.grad is None
    np.testing.assert_allclose(b.grad, [6.0], rtol=1e-6)
    assert clip_grad_norm_([frozen], max_norm=1.0) == 0.0
    assert clip_grad_norm_([], max_norm=1.0) == 0.0


def test_a_single_tensor_is_accepted_and_parameters_may_be_a_generator():
    w = with_grad([6.0, 8.0])
    assert clip_grad_norm_(w, 5.0) == 10.0
    np.testing.assert_allclose(w.grad, [3.0, 4.0], rtol=1e-6)
    v = with_grad([6.0, 8.0])
    assert clip_grad_norm_((p for p in [v]), 5.0) == 10.0
    np.testing.assert_allclose(v.grad, [3.0, 4.0], rtol=1e-6)


def test_the_old_gradient_array_is_rebound_not_written():
    w = with_grad([6.0, 8.0])
    old = w.grad
    old.flags.writeable = False  # as a gradient shared with something else may be
    clip_grad_norm_([w], 1.0)
    assert w.grad is not old
    np.testing.assert_array_equal(old, [6.0, 8.0])
    clip_grad_value_([w], 0.1)
    np.testing.assert_array_equal(old, [6.0, 8.0])


def test_float32_gradients_stay_float32():
    w = Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    w.grad = np.array([3.0, 4.0, 12.0], dtype=np.float32)
    assert clip_grad_norm_([w], 1.0) == pytest.approx(13.0)
    assert w.grad.dtype == np.float32
    clip_grad_value_([w], 0.1)
    assert w.grad.dtype == np.float32


def test_gradients_from_backward_are_clipped():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * Tensor([30.0, 40.0])).sum().backward()
    assert clip_grad_norm_([w], 5.0) == pytest.approx(50.0)
    np.testing.assert_allclose(w.grad, [3.0, 4.0], rtol=1e-6)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_non_finite_total_raises_only_when_asked(bad):
    w = with_grad([1.0, bad])
    with pytest.raises(RuntimeError, match=f"order 2.0 .*non-finite \\({bad}\\)"):
        clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(w.grad, [1.0, bad])  # untouched
    total = clip_grad_norm_([w], 1.0)
    assert math.isnan(total) if math.isnan(bad) else total == math.inf
    # PyTorch scales anyway: by NaN, or by 1/inf = 0 (which makes inf·0 NaN)
    expected = [math.nan, math.nan] if math.isnan(bad) else [0.0, math.nan]
    np.testing.assert_array_equal(w.grad, expected)


def test_value_parameters_are_clipped():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    a.grad, b.grad, c.grad = 3.0, -4.0, 0.0
    assert clip_grad_norm_([a, b, c], max_norm=1.0) == pytest.approx(5.0)
    assert (a.grad, b.grad, c.grad) == pytest.approx((0.6, -0.8, 0.0), rel=1e-5)
    assert type(a.grad) is float
    assert clip_grad_norm_([a, b], max_norm=1.0, norm_type=1) == pytest.approx(1.4, rel=1e-5)


def test_values_from_a_scalar_backward_and_tensors_together():
    x, y = Value(2.0), Value(-1.0)
    (x * 3.0 + y * 4.0).backward()  # dx = 3, dy = 4
    w = with_grad([12.0])
    assert clip_grad_norm_([x, y, w], max_norm=6.5) == pytest.approx(13.0)
    assert (x.grad, y.grad) == pytest.approx((1.5, 2.0), rel=1e-6)
    np.testing.assert_allclose(w.grad, [6.0], rtol=1e-6)


gradient_lists = st.lists(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3),
                                     elements=st.floats(-1e3, 1e3)), min_size=1, max_size=4)


@given(gradient_lists, st.floats(1e-3, 1e3), st.sampled_from([1.0, 2.0, 3.0, math.inf]))
def test_clipping_keeps_the_direction_and_bounds_the_norm(grads, max_norm, norm_type):
    params = [with_grad(g) for g in grads]
    joined = np.concatenate([g.ravel() for g in grads])
    total = clip_grad_norm_(params, max_norm, norm_type)
    assert total == pytest.approx(np.linalg.norm(joined, ord=norm_type), rel=1e-9, abs=1e-12)
    clipped = np.concatenate([p.grad.ravel() for p in params])
    assert np.linalg.norm(clipped, ord=norm_type) <= max_norm * (1 + 1e-9)
    np.testing.assert_allclose(clipped, joined * min(1.0, max_norm / (total + 1e-6)),
                               rtol=1e-12, atol=1e-300)


# ----- clip_grad_value_ -----
def test_clip_grad_value_clips_each_entry():
    w, b = with_grad([[-3.0, 0.5], [2.0, -0.25]]), with_grad([1.5])
    frozen = Tensor([1.0], requires_grad=True)
    assert clip_grad_value_([w, frozen, b], 1) is None
    np.testing.assert_array_equal(w.grad, [[-1.0, 0.5], [1.0, -0.25]])
    np.testing.assert_array_equal(b.grad, [1.0])
    assert frozen.grad is None


def test_clip_grad_value_on_values_and_a_single_tensor():
    a, b, c = Value(0.0), Value(0.0), Value(0.0)
    a.grad, b.grad, c.grad = 5.0, -5.0, 0.3
    clip_grad_value_([a, b, c], 0.5)
    assert (a.grad, b.grad, c.grad) == (0.5, -0.5, 0.3)
    w = with_grad([7.0, -7.0])
    clip_grad_value_(w, 2.0)
    np.testing.assert_array_equal(w.grad, [2.0, -2.0])


# ----- parameters_to_vector / vector_to_parameters -----
def parameters():
    return [Parameter(np.arange(6.0).reshape(2, 3)), Parameter([6.0, 7.0]),
            Parameter(np.array([[8.0]]))]


def test_parameters_to_vector_joins_them_in_order():
    vector = parameters_to_vector(parameters())
    assert isinstance(vector, Tensor) and vector.shape == (9,)
    np.testing.assert_array_equal(vector.data, np.arange(9.0))


def test_gradients_flow_back_through_the_vector():
    params = parameters()
    weights = Tensor(np.arange(1.0, 10.0))
    loss = (parameters_to_vector(params) * weights).sum()
    loss.backward()
    np.testing.assert_array_equal(params[0].grad, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(params[1].grad, [7.0, 8.0])
    np.testing.assert_array_equal(params[2].grad, [[9.0]])
    # A second derivative too: d/dθ of ½|θ|² is θ itself.
    params = parameters()
    vector = parameters_to_vector(params)
    ((vector * vector).sum() / 2).backward()
    for p in params:
        np.testing.assert_array_equal(p.grad, p.data)


def test_vector_round_trip_keeps_shapes_dtypes_and_types():
    params = parameters() + [Tensor(np.array([9.0, 10.0], dtype=np.float32), requires_grad=True)]
    vector = parameters_to_vector(params)
    np.testing.assert_array_equal(vector.data, np.arange(11.0))
    vector_to_parameters(vector * 2.0 + 1.0, params)
    expected = 2.0 * np.arange(11.0) + 1.0
    np.testing.assert_array_equal(parameters_to_vector(params).data, expected)
    assert [p.shape for p in params] == [(2, 3), (2,), (1, 1), (2,)]
    assert params[3].dtype == np.float32
    assert all(type(p.data) is ParameterArray for p in params[:3])
    assert all(p.requires_grad and p.is_leaf for p in params)


def test_vector_to_parameters_copies_out_of_a_read_only_vector():
    params = parameters()
    vector = Tensor(np.linspace(0.0, 1.0, 9), requires_grad=True)
    (vector * vector).sum()  # saves the vector's array: it is read-only now
    vector_to_parameters(vector, params)
    params[0].data.fill_(5.0)  # each parameter owns a writable array...
    np.testing.assert_array_equal(vector.data, np.linspace(0.0, 1.0, 9))  # ...not a view


def test_vector_to_parameters_takes_a_plain_array():
    w = Tensor(np.zeros((2, 2)))
    vector_to_parameters(np.array([1.0, 2.0, 3.0, 4.0]), [w])
    np.testing.assert_array_equal(w.data, [[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize("length", [8, 10])
def test_a_vector_of_the_wrong_length_names_both_lengths(length):
    params = parameters()
    with pytest.raises(ValueError, match=f"{length} elements .* 9 in total"):
        vector_to_parameters(Tensor(np.zeros(length)), params)
    np.testing.assert_array_equal(params[0].data, np.arange(6.0).reshape(2, 3))  # unchanged


def test_vectors_are_tensors_of_tensors():
    with pytest.raises(ValueError, match="1-d"):
        vector_to_parameters(Tensor(np.zeros((3, 3))), parameters())
    with pytest.raises(TypeError, match="Tensor parameters, not Value"):
        parameters_to_vector([Value(1.0)])
    with pytest.raises(TypeError, match="Tensor parameters, not Value"):
        vector_to_parameters(Tensor([1.0]), [Value(1.0)])


# ----- against PyTorch, when it is installed -----
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_agrees_with_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grads = [np.random.default_rng(seed).normal(size=shape)
             for seed, shape in enumerate([(3, 4), (5,), (2, 1, 3)])]
    ours = [with_grad(g) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.tensor(g)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type).item()
    assert total == pytest.approx(their_total, rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)
    clip_grad_value_(ours, 0.1)
    torch.nn.utils.clip_grad_value_(theirs, 0.1)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


def test_vectors_agree_with_torch():
    torch = pytest.importorskip("torch")
    arrays = [np.arange(6.0).reshape(2, 3), np.array([6.0, 7.0])]
    vector = parameters_to_vector([Tensor(a) for a in arrays])
    their_vector = torch.nn.utils.parameters_to_vector([torch.tensor(a) for a in arrays])
    np.testing.assert_array_equal(vector.data, their_vector.numpy())
    ours, theirs = [Tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]
    new = np.linspace(-1.0, 1.0, 8)
    vector_to_parameters(new, ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.data, t.numpy())
