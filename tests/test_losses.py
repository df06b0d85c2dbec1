"""Tests of nn.losses: every loss against a float64 numpy closed form (all reductions, shapes
and values drawn by Hypothesis), gradients against central differences, stability at
extreme logits and probabilities, PyTorch's weight / ignore_index / label_smoothing rules,
Value against Tensor, the errors, and (when torch is installed) PyTorch itself.

The numpy references are written from PyTorch's documented formulas, independently of
nn/losses.py (e.g. BCE-with-logits in PyTorch's max/log1p form, not as softplus).
"""
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import Tensor, Value
from autograd_core.testing import compare_value_tensor, numerical_grad
from nn.losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                       hinge_loss, l1_loss, mse_loss, nll_loss)

REDUCTIONS = ("mean", "sum", "none")
CLOSE = dict(rtol=1e-12, atol=1e-13)  # two float64 evaluations of one formula
FD = dict(rtol=1e-5, atol=1e-6)       # backward against central differences


def floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def reduce(losses, reduction):
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def backward(out, reduction, seed=0):
    """Back-propagate a loss; with 'none', a fixed random weighting of its elements."""
    if reduction != "none":
        out.backward()
        return None
    g = np.random.default_rng(seed).normal(size=out.shape)
    out.backward(g)
    return g


# ----- the elementwise losses: references in float64 numpy -----

def reference_bce(p, y, weight=1.0):
    return -weight * (y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100))


def reference_bce_with_logits(x, y, weight=1.0, pos_weight=1.0):
    # PyTorch's form: (1 - y) x + (1 + (pos_weight - 1) y) * log(1 + e^-x), the log stable
    log_one_plus_exp_minus_x = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
    return weight * ((1 - y) * x + (1 + (pos_weight - 1) * y) * log_one_plus_exp_minus_x)


@dataclass(frozen=True)
class Case:
    loss: Callable
    reference: Callable           # per-element losses, float64 numpy
    inputs: st.SearchStrategy     # elements of the input
    targets: st.SearchStrategy    # elements of the target
    kink: Optional[Callable] = None  # distance from where the loss has no derivative


CASES = [
    Case(mse_loss, lambda x, y: (x - y) ** 2, floats(-5, 5), floats(-5, 5)),
    Case(l1_loss, lambda x, y: np.abs(x - y), floats(-5, 5), floats(-5, 5),
         kink=lambda x, y: np.abs(x - y)),
    Case(binary_cross_entropy, reference_bce, floats(0.01, 0.99), floats(0, 1)),
    Case(binary_cross_entropy_with_logits, reference_bce_with_logits, floats(-30, 30),
         floats(0, 1)),
    Case(hinge_loss, lambda s, y: np.maximum(0.0, 1.0 - y * s), floats(-3, 3),
         st.sampled_from([-1.0, 1.0]), kink=lambda s, y: np.abs(1.0 - y * s)),
]
VALUE_LOSSES = [case.loss for case in CASES]
ALL_LOSSES = VALUE_LOSSES + [cross_entropy, nll_loss]


def case_id(case):
    return case.loss.__name__


def draw_operands(data, case, shapes):
    shape = data.draw(shapes, label="shape")
    x = data.draw(hnp.arrays(np.float64, shape, elements=case.inputs), label="input")
    y = data.draw(hnp.arrays(np.float64, shape, elements=case.targets), label="target")
    return x, y


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(data=st.data())
def test_elementwise_loss_matches_numpy(case, data):
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    x, y = draw_operands(data, case, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    out = case.loss(Tensor(x), y, reduction=reduction)
    assert out.dtype == np.float64
    assert out.shape == (x.shape if reduction == "none" else ())
    np.testing.assert_allclose(out.data, reduce(case.reference(x, y), reduction), **CLOSE)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(data=st.data())
def test_elementwise_gradient_matches_finite_differences(case, data):
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    x, y = draw_operands(data, case, hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    if case.kink is not None:
        assume(np.all(case.kink(x, y) > 1e-3))
    leaf = Tensor(x, requires_grad=True)
    g = backward(case.loss(leaf, y, reduction=reduction), reduction)
    (expected,) = numerical_grad(lambda t: case.loss(t, y, reduction=reduction), [x],
                                 grad_output=g)
    np.testing.assert_allclose(leaf.grad, expected, **FD)


@given(data=st.data())
def test_bce_weights_match_numpy(data):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))

    def arrays(elements):
        return data.draw(hnp.arrays(np.float64, (n, c), elements=elements))

    p, logits, y = arrays(floats(0.01, 0.99)), arrays(floats(-30, 30)), arrays(floats(0, 1))
    weight = data.draw(hnp.arrays(np.float64, (c,), elements=floats(0, 3)), label="weight")
    pos_weight = data.draw(hnp.arrays(np.float64, (c,), elements=floats(0, 3)), label="pos_weight")
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    np.testing.assert_allclose(
        binary_cross_entropy(Tensor(p), y, weight=weight, reduction=reduction).data,
        reduce(reference_bce(p, y, weight), reduction), **CLOSE)
    np.testing.assert_allclose(
        binary_cross_entropy_with_logits(Tensor(logits), y, weight=weight, reduction=reduction,
                                         pos_weight=pos_weight).data,
        reduce(reference_bce_with_logits(logits, y, weight, pos_weight), reduction), **CLOSE)


# ----- cross entropy and nll: references written as PyTorch's documentation states them -----

def reference_cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean",
                            label_smoothing=0.0):
    """Class indices: loss_n = (1-ε) w[t_n] (-log q_n[t_n]) + ε/C Σ_c w[c] (-log q_n[c]),
    0 for ignored samples; 'mean' divides by Σ w[t_n] over the samples not ignored."""
    log_q = log_softmax(x.reshape(-1, x.shape[-1]))
    n_classes = x.shape[-1]
    w = np.ones(n_classes) if weight is None else weight
    losses, weight_sum = np.zeros(len(log_q)), 0.0
    for n, t in enumerate(np.reshape(target, -1)):
        if t == ignore_index:
            continue
        losses[n] = (-(1 - label_smoothing) * w[t] * log_q[n, t]
                     - label_smoothing / n_classes * np.sum(w * log_q[n]))
        weight_sum += w[t]
    if reduction == "mean":
        return losses.sum() / weight_sum
    return reduce(losses.reshape(x.shape[:-1]), reduction)


@st.composite
def classification(draw, probabilities=False):
    """Logits (N, C), targets (indices with some ignored, or probabilities), weight, ε."""
    n, c = draw(st.integers(1, 4), label="N"), draw(st.integers(1, 5), label="C")
    logits = draw(hnp.arrays(np.float64, (n, c), elements=floats(-10, 10)), label="logits")
    if probabilities:
        raw = draw(hnp.arrays(np.float64, (n, c), elements=floats(0.01, 1)))
        target = raw / raw.sum(axis=1, keepdims=True)
    else:
        target = np.array(draw(st.lists(st.integers(0, c - 1) | st.just(-100),
                                        min_size=n, max_size=n)), dtype=np.int64)
    weight = draw(st.none() | hnp.arrays(np.float64, (c,), elements=floats(0.1, 3)),
                  label="weight")
    smoothing = draw(st.just(0.0) | floats(0, 1), label="label_smoothing")
    return logits, target, dict(weight=weight, label_smoothing=smoothing)


@given(problem=classification(), reduction=st.sampled_from(REDUCTIONS))
def test_cross_entropy_and_nll_loss_match_numpy(problem, reduction):
    logits, target, options = problem
    assume(reduction != "mean" or np.any(target != -100))  # all ignored: nan, tested apart
    out = cross_entropy(Tensor(logits), target, reduction=reduction, **options)
    np.testing.assert_allclose(out.data, reference_cross_entropy(logits, target,
                                                                 reduction=reduction, **options),
                               **CLOSE)
    # nll_loss is the same loss on log-probabilities (no label smoothing there)
    weight = options["weight"]
    np.testing.assert_allclose(
        nll_loss(Tensor(log_softmax(logits)), target, weight=weight, reduction=reduction).data,
        reference_cross_entropy(logits, target, weight=weight, reduction=reduction), **CLOSE)


@given(problem=classification(probabilities=True), reduction=st.sampled_from(REDUCTIONS))
def test_cross_entropy_with_probabilities_matches_numpy(problem, reduction):
    logits, p, options = problem
    eps, n_classes = options["label_smoothing"], logits.shape[1]
    w = 1.0 if options["weight"] is None else options["weight"]
    smoothed = (1 - eps) * p + eps / n_classes
    losses = -(log_softmax(logits) * smoothed * w).sum(axis=1)  # 'mean' divides by N
    out = cross_entropy(Tensor(logits), p, reduction=reduction, **options)
    np.testing.assert_allclose(out.data, reduce(losses, reduction), **CLOSE)


@given(problem=classification() | classification(probabilities=True), data=st.data())
def test_cross_entropy_gradient_matches_finite_differences(problem, data):
    logits, target, options = problem
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    assume(reduction != "mean" or target.dtype.kind == "f" or np.any(target != -100))
    leaf = Tensor(logits, requires_grad=True)
    g = backward(cross_entropy(leaf, target, reduction=reduction, **options), reduction)
    (expected,) = numerical_grad(
        lambda t: cross_entropy(t, target, reduction=reduction, **options), [logits],
        grad_output=g)
    np.testing.assert_allclose(leaf.grad, expected, **FD)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_probabilities_equal_one_hot_indices(reduction, label_smoothing):
    logits = np.random.default_rng(1).normal(size=(4, 3)) * 2
    indices = np.array([2, 0, 1, 2])
    one_hot = np.eye(3)[indices]
    by_index = cross_entropy(Tensor(logits), indices, reduction=reduction,
                             label_smoothing=label_smoothing)
    by_probability = cross_entropy(Tensor(logits), one_hot, reduction=reduction,
                                   label_smoothing=label_smoothing)
    np.testing.assert_allclose(by_index.data, by_probability.data, **CLOSE)
    # label smoothing is the smoothed distribution, given as probabilities
    smoothed = (1 - label_smoothing) * one_hot + label_smoothing / 3
    np.testing.assert_allclose(by_index.data,
                               cross_entropy(Tensor(logits), smoothed, reduction=reduction).data,
                               **CLOSE)


def test_weighted_mean_divides_by_the_weights_for_indices_and_by_n_for_probabilities():
    logits = np.random.default_rng(2).normal(size=(4, 3))
    indices, weight = np.array([2, 0, 1, 2]), np.array([1.0, 2.0, 4.0])
    one_hot = np.eye(3)[indices]
    for reduction in ("none", "sum"):  # the weighted losses themselves agree
        np.testing.assert_allclose(
            cross_entropy(Tensor(logits), indices, weight=weight, reduction=reduction).data,
            cross_entropy(Tensor(logits), one_hot, weight=weight, reduction=reduction).data,
            **CLOSE)
    total = cross_entropy(Tensor(logits), indices, weight=weight, reduction="sum").item()
    assert cross_entropy(Tensor(logits), indices, weight=weight).item() == pytest.approx(
        total / weight[indices].sum(), rel=1e-14)  # 4 + 1 + 2 + 4
    assert cross_entropy(Tensor(logits), one_hot, weight=weight).item() == pytest.approx(
        total / 4, rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unweighted_class_indices_take_a_shorter_graph_to_the_same_bits(dtype, reduction):
    """With no weight and nothing ignored, cross_entropy picks, negates and reduces (three
    nodes after log_softmax); the general weighted mean, given weights of 1, must agree with
    it to the bit, loss and gradient."""
    rng = np.random.default_rng(4)
    logits = (rng.normal(size=(37, 10)) * 3).astype(dtype)
    target = rng.integers(0, 10, size=37)
    short, general = Tensor(logits, requires_grad=True), Tensor(logits, requires_grad=True)
    loss = cross_entropy(short, target, reduction=reduction)
    reference = cross_entropy(general, target, weight=np.ones(10), reduction=reduction)
    upstream = rng.normal(size=loss.shape).astype(dtype)
    loss.backward(upstream)
    reference.backward(upstream)
    assert loss.dtype == reference.dtype == dtype
    assert loss.data.tobytes() == reference.data.tobytes()
    assert short.grad.tobytes() == general.grad.tobytes()
    assert node_count(loss) < node_count(reference)


def node_count(root):
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(node.parents)
    return len(seen)


def test_ignore_index_costs_nothing_and_does_not_count():
    logits = Tensor(np.random.default_rng(3).normal(size=(3, 4)), requires_grad=True)
    per_sample = cross_entropy(logits, [1, -100, 3], reduction="none")
    assert per_sample.data[1] == 0.0
    mean = cross_entropy(logits, [1, -100, 3])
    assert mean.item() == pytest.approx(per_sample.data.sum() / 2, rel=1e-14)
    mean.backward()
    assert np.all(logits.grad[1] == 0.0) and np.all(logits.grad[[0, 2]] != 0.0)
    # any class can be the ignored one; then -100 is just an index out of range
    assert cross_entropy(logits, [1, 2, 3], ignore_index=2, reduction="none").data[1] == 0.0


def test_every_target_ignored_gives_nan_mean_as_in_pytorch():
    with np.errstate(invalid="ignore"):
        loss = cross_entropy(Tensor(np.zeros((2, 3))), [-100, -100])
    assert np.isnan(loss.item())
    assert cross_entropy(Tensor(np.zeros((2, 3))), [-100, -100], reduction="sum").item() == 0.0


ALL_IGNORED = {  # name: (loss, input, target, keyword arguments), every target ignored
    "ce": (cross_entropy, np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]]), [-100, -100], {}),
    "ce-weight": (cross_entropy, np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]]), [-100, -100],
                  {"weight": np.array([1.0, 2.0, 3.0])}),
    "ce-smoothing": (cross_entropy, np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]]),
                     [-100, -100], {"label_smoothing": 0.1, "weight": np.array([1.0, 2.0, 3.0])}),
    "ce-one-sample": (cross_entropy, np.array([1.0, 2.0, 0.5]), -100, {"label_smoothing": 0.2}),
    "nll": (nll_loss, np.log(np.full((2, 3), 1 / 3)), [-100, -100], {}),
    "nll-custom-index": (nll_loss, np.log(np.full((2, 3), 1 / 3)), [1, 1], {"ignore_index": 1}),
}


@pytest.mark.parametrize("name", ALL_IGNORED)
def test_every_target_ignored_gives_nan_mean_but_zero_gradient(name):
    # PyTorch: the mean is 0/0 = nan, but no sample sends a gradient back, so it is 0, not nan.
    loss, x, target, options = ALL_IGNORED[name]
    x = Tensor(x, requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = loss(x, target, **options)
        mean.backward()
    assert np.isnan(mean.item())
    assert x.grad.tolist() == np.zeros(x.shape).tolist()


def test_zero_total_weight_gives_nan_gradient_except_for_ignored_samples():
    # As PyTorch: class weights of 0 (not ignored) make the mean's gradient 0/0 = nan, while
    # the ignored sample's gradient stays 0.
    x = Tensor(np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [0.1, 0.2, 0.3]]), requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = cross_entropy(x, [0, 1, -100], weight=np.zeros(3))
        mean.backward()
    assert np.isnan(mean.item())
    assert np.isnan(x.grad[:2]).all() and x.grad[2].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("name", ALL_IGNORED)
def test_every_target_ignored_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    loss, x, target, options = ALL_IGNORED[name]
    ours_x = Tensor(x, requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ours = loss(ours_x, np.array(target), **options)
        ours.backward()
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs = torch_loss(torch, loss, theirs_x, np.array(target), "mean", options)
    theirs.backward()
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())  # both nan
    np.testing.assert_array_equal(ours_x.grad, theirs_x.grad.numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_one_sample_of_shape_c(reduction):
    logits = np.array([0.5, -1.0, 2.0])
    alone = cross_entropy(Tensor(logits), 1, reduction=reduction, label_smoothing=0.1)
    batch = cross_entropy(Tensor(logits[None]), [1], reduction="sum", label_smoothing=0.1)
    assert alone.shape == () and alone.item() == pytest.approx(batch.item(), rel=1e-15)
    probabilities = cross_entropy(Tensor(logits), np.eye(3)[1], reduction=reduction,
                                  label_smoothing=0.1)
    assert probabilities.shape == () and probabilities.item() == pytest.approx(alone.item(),
                                                                               rel=1e-14)


# ----- stability -----

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_is_finite_at_huge_logits(dtype):
    logits = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype), requires_grad=True)
    loss = cross_entropy(logits, [1, 0], reduction="sum")
    assert loss.item() == pytest.approx(2e4 + (2e4 + np.log(2)), rel=1e-6)
    loss.backward()
    softmax = np.array([[1, 0, 0], [0, 0.5, 0.5]])
    # float32 rounds 1e4 + log 2 to a multiple of 2**-10: the softmax is off by up to 1e-3
    atol = 1e-12 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(logits.grad, softmax - np.eye(3)[[1, 0]], atol=atol)
    assert logits.grad.dtype == dtype


@pytest.mark.parametrize("make", [lambda x: Tensor(x, requires_grad=True),
                                  lambda x: [Value(v) for v in x]], ids=["Tensor", "Values"])
def test_bce_with_logits_is_finite_at_huge_logits(make):
    x = make(np.array([1e4, -1e4, 1e4, -1e4]))
    loss = binary_cross_entropy_with_logits(x, [1.0, 0.0, 0.0, 1.0], reduction="sum")
    assert float(loss.data) == 2e4  # the two confident mistakes cost 1e4 each
    loss.backward()
    grads = x.grad if isinstance(x, Tensor) else [v.grad for v in x]
    np.testing.assert_array_equal(grads, [0.0, 0.0, 1.0, -1.0])  # sigmoid(x) - y


@pytest.mark.parametrize("make", [lambda x: Tensor(x, requires_grad=True),
                                  lambda x: [Value(v) for v in x]], ids=["Tensor", "Values"])
def test_bce_clamps_each_log_at_minus_100(make):
    p = make(np.array([0.0, 1.0, 0.0, 1.0]))
    losses = binary_cross_entropy(p, [1.0, 0.0, 0.0, 1.0], reduction="none")
    values = losses.data if isinstance(losses, Tensor) else [v.data for v in losses]
    np.testing.assert_array_equal(values, [100.0, 100.0, 0.0, 0.0])
    (losses.sum() if isinstance(losses, Tensor) else sum(losses)).backward()
    grads = p.grad if isinstance(p, Tensor) else [v.grad for v in p]
    # The derivative of the clamped formula: 0 where the clamp holds the loss at 100, and
    # -y/p + (1-y)/(1-p) at the right answers. (PyTorch's own gradient rule gives ∓1e12, 0, 0.)
    np.testing.assert_array_equal(grads, [0.0, 0.0, 1.0, -1.0])


def test_bce_clamp_in_float32():
    p = Tensor(np.array([0.0, 1.0, 1e-30], np.float32), requires_grad=True)
    loss = binary_cross_entropy(p, [1.0, 0.0, 1.0], reduction="none")
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.data, [100.0, 100.0, -np.log(1e-30)], rtol=1e-6)
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad))


# ----- Value and Tensor: one formula -----

@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(data=st.data())
def test_values_give_what_tensors_give(case, data):
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    x, y = draw_operands(data, case, st.tuples(st.integers(1, 10)))
    # one Value is a 0-d tensor, bit for bit, gradient included
    assert compare_value_tensor(lambda node: case.loss(node, y[0], reduction=reduction), x[0])
    values, tensor = [Value(v) for v in x], Tensor(x, requires_grad=True)
    from_values = case.loss(values, y.tolist(), reduction=reduction)
    from_tensor = case.loss(tensor, y, reduction=reduction)
    if reduction == "none":
        assert isinstance(from_values, list) and len(from_values) == len(x)
        np.testing.assert_array_equal([v.data for v in from_values], from_tensor.data)
        sum(from_values).backward()
        from_tensor.sum().backward()
    else:
        assert isinstance(from_values, Value)
        # numpy sums 8 or more numbers pairwise, Python's sum one by one: the last bit may differ
        if len(x) < 8:
            assert from_values.data == from_tensor.item()
        assert from_values.data == pytest.approx(from_tensor.item(), rel=1e-14, abs=1e-300)
        from_values.backward()
        from_tensor.backward()
    np.testing.assert_array_equal([v.grad for v in values], tensor.grad)


def test_bce_with_logits_weights_on_values():
    x, y = [0.3, -1.2, 2.0], [1.0, 0.0, 0.5]
    weight, pos_weight = [0.5, 1.0, 2.0], 3.0
    values = [Value(v) for v in x]
    from_values = binary_cross_entropy_with_logits(values, y, weight=weight, pos_weight=pos_weight)
    from_tensor = binary_cross_entropy_with_logits(Tensor(x), y, weight=weight,
                                                   pos_weight=pos_weight)
    assert from_values.data == from_tensor.item()
    np.testing.assert_allclose(from_values.data, reference_bce_with_logits(
        np.array(x), np.array(y), np.array(weight), pos_weight).mean(), **CLOSE)


def test_hinge_loss_is_micrograds_demo_loss():
    rng = np.random.default_rng(4)
    scores = [Value(s) for s in rng.normal(size=9)]
    yb = rng.choice([-1, 1], size=9)  # numpy labels, as the demo's make_moons gives
    # micrograd's demo.ipynb, word for word
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
    demo = sum(losses) * (1.0 / len(losses))
    demo.backward()
    demo_grads = [s.grad for s in scores]
    for s in scores:
        s.grad = 0.0
    ours = hinge_loss(scores, yb)
    ours.backward()
    assert ours.data == pytest.approx(demo.data, rel=1e-15)
    assert [s.grad for s in scores] == pytest.approx(demo_grads, rel=1e-15)


@pytest.mark.parametrize("loss", [mse_loss, l1_loss])
def test_regression_targets_may_require_grad(loss):
    x = Tensor([1.0, -2.0, 0.5], requires_grad=True)
    y = Tensor([0.0, 1.0, 2.0], requires_grad=True)
    loss(x, y).backward()
    np.testing.assert_array_equal(y.grad, -x.grad)
    a, b = Value(1.0), Value(3.0)  # Values, too
    loss([a], [b]).backward()
    assert b.grad == -a.grad != 0.0


# ----- dtypes -----

FLOAT32_CALLS = [
    (mse_loss, [0.5, -1.0], [1.0, 2.0], {}),
    (l1_loss, [0.5, -1.0], [1.0, 2.0], {}),
    (binary_cross_entropy, [0.25, 0.0], [1.0, 1.0], {"weight": [2.0, 1.0]}),
    (binary_cross_entropy_with_logits, [0.5, -3.0], [1.0, 0.0], {"pos_weight": [2.0, 1.0]}),
    (hinge_loss, [0.5, -3.0], [1, -1], {}),
    (cross_entropy, [[0.5, -3.0], [1.0, 2.0]], [1, 0], {"weight": [2.0, 1.0],
                                                        "label_smoothing": 0.1}),
    (cross_entropy, [[0.5, -3.0], [1.0, 2.0]], [[0.2, 0.8], [1.0, 0.0]], {"weight": [2.0, 1.0]}),
    (nll_loss, [[-0.5, -3.0], [-1.0, -2.0]], [1, 0], {"weight": [2.0, 1.0]}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss, x, y, options", FLOAT32_CALLS,
                         ids=[call[0].__name__ for call in FLOAT32_CALLS])
def test_float32_inputs_give_float32_losses(loss, x, y, options, reduction):
    leaf = Tensor(np.array(x, np.float32), requires_grad=True)
    out = loss(leaf, np.array(y), reduction=reduction, **options)  # float64 targets
    assert out.dtype == np.float32
    backward(out, reduction)
    assert leaf.grad.dtype == np.float32
    in_float64 = loss(Tensor(np.array(x)), np.array(y), reduction=reduction, **options)
    np.testing.assert_allclose(out.data, in_float64.data, rtol=1e-6)


# ----- errors -----

@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda f: f.__name__)
def test_unknown_reduction(loss):
    x = Tensor([[-0.5, -1.0]]) if loss in (cross_entropy, nll_loss) else Tensor([0.5, 0.5])
    y = [0] if loss in (cross_entropy, nll_loss) else [1.0, -1.0] if loss is hinge_loss \
        else [1.0, 0.0]
    with pytest.raises(ValueError, match=r"reduction='avg' is not one of 'mean', 'sum', 'none'"):
        loss(x, y, reduction="avg")


@pytest.mark.parametrize("loss", VALUE_LOSSES, ids=lambda f: f.__name__)
def test_shapes_must_match(loss):
    x = Tensor(np.full((3, 1), 0.5))
    with pytest.raises(ValueError, match=r"target shape \(3,\) differs from input shape \(3, 1\)"):
        loss(x, [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"target shape \(2,\) differs from input shape \(3,\)"):
        loss([Value(0.5)] * 3, [1.0, 1.0])


@pytest.mark.parametrize("loss", VALUE_LOSSES, ids=lambda f: f.__name__)
def test_input_must_be_a_tensor_or_values(loss):
    with pytest.raises(TypeError, match="a Tensor, a Value or a list of Values, got list"):
        loss([0.5, 0.5], [1.0, 1.0])
    with pytest.raises(TypeError, match="floating point tensor, got int64"):
        loss(Tensor([1, 1]), [1.0, 1.0])


@pytest.mark.parametrize("loss", [cross_entropy, nll_loss], ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [3, -1, 7])
def test_class_index_out_of_range(loss, bad):
    with pytest.raises(IndexError, match=rf"target class {bad} is out of range for 3 classes"):
        loss(Tensor(np.zeros((2, 3))), [0, bad])


def test_cross_entropy_target_shapes_and_types():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"input of shape \(2, 3\).*shape \(2,\), got target "
                                         r"shape \(2, 1\)"):
        cross_entropy(x, [[0], [1]])
    with pytest.raises(ValueError, match=r"float targets are class probabilities.*\(2, 3\), got "
                                         r"target shape \(2,\)"):
        cross_entropy(x, [0.0, 1.0])
    with pytest.raises(ValueError, match=r"one entry per class, shape \(3,\), got shape \(2,\)"):
        cross_entropy(x, [0, 1], weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0, got 1.5"):
        cross_entropy(x, [0, 1], label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"shape \(N, C\) or \(C,\), got \(1, 2, 3\)"):
        cross_entropy(Tensor(np.zeros((1, 2, 3))), [[0, 1]])
    with pytest.raises(TypeError, match="class-index targets must be integers, got float64"):
        nll_loss(x, [0.0, 1.0])
    with pytest.raises(TypeError, match="must be a Tensor of shape"):
        cross_entropy([Value(1.0), Value(2.0)], 0)


@pytest.mark.parametrize("labels", [[1.0, 0.0], [2, 1], [0.5, -1.0]])
def test_hinge_labels_must_be_plus_or_minus_one(labels):
    with pytest.raises(ValueError, match=r"labels must be -1 or \+1"):
        hinge_loss(Tensor([0.5, 0.5]), labels)
    with pytest.raises(ValueError, match=r"labels must be -1 or \+1"):
        hinge_loss([Value(0.5), Value(0.5)], labels)


@pytest.mark.parametrize("p", [1.5, -0.1, float("nan")])
def test_bce_needs_probabilities(p):
    with pytest.raises(ValueError, match="every input element must be between 0 and 1.*sigmoid"):
        binary_cross_entropy(Tensor([0.5, p]), [1.0, 0.0])
    with pytest.raises(ValueError, match="every input element must be between 0 and 1"):
        binary_cross_entropy(Value(p), 1.0)
    with pytest.raises(ValueError, match="every target element must be between 0 and 1"):
        binary_cross_entropy(Tensor([0.5, 0.5]), [1.0, p])


def test_weights_must_broadcast_to_the_input():
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) does not broadcast to the "
                                         r"input's shape \(2, 2\)"):
        binary_cross_entropy(Tensor(np.full((2, 2), 0.5)), np.ones((2, 2)), weight=[1.0] * 3)
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2, 1, 2\) does not broadcast"):
        binary_cross_entropy_with_logits(Tensor(np.zeros((1, 2))), [[1.0, 0.0]],
                                         pos_weight=np.ones((2, 1, 2)))


# ----- PyTorch itself (skipped where torch is not installed) -----

_rng = np.random.default_rng(5)
_LOGITS = _rng.normal(size=(5, 4)) * 3
_INDICES = np.array([0, 3, -100, 1, 3])
_CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])
_X, _Y = _rng.normal(size=(4, 3)), _rng.normal(size=(4, 3))
_SOFT = _rng.uniform(0, 1, size=(4, 3))

TORCH_CALLS = {  # name: (loss, input, target, keyword arguments)
    "mse": (mse_loss, _X, _Y, {}),
    "l1": (l1_loss, _X, _Y, {}),
    "bce": (binary_cross_entropy, _rng.uniform(0.02, 0.98, (4, 3)), _SOFT, {}),
    "bce-weight": (binary_cross_entropy, _rng.uniform(0.02, 0.98, (4, 3)),
                   _rng.integers(0, 2, (4, 3)).astype(float), {"weight": _rng.uniform(0, 2, 3)}),
    "bce-logits": (binary_cross_entropy_with_logits, 4 * _X, _SOFT, {}),
    "bce-logits-weights": (binary_cross_entropy_with_logits, 4 * _X, _SOFT,
                           {"weight": _rng.uniform(0, 2, (4, 1)),
                            "pos_weight": _rng.uniform(0.5, 3, 3)}),
    "ce": (cross_entropy, _LOGITS, _INDICES, {}),
    "ce-weight-smoothing": (cross_entropy, _LOGITS, _INDICES,
                            {"weight": _CLASS_WEIGHT, "label_smoothing": 0.2}),
    "ce-ignore-index": (cross_entropy, _LOGITS, np.array([0, 3, 2, 2, 1]),
                        {"ignore_index": 2, "weight": _CLASS_WEIGHT, "label_smoothing": 0.1}),
    "ce-probabilities": (cross_entropy, _LOGITS, _rng.dirichlet(np.ones(4), 5),
                         {"weight": _CLASS_WEIGHT, "label_smoothing": 0.1}),
    "ce-one-sample": (cross_entropy, _LOGITS[0], np.array(2), {"label_smoothing": 0.3}),
    "nll": (nll_loss, log_softmax(_LOGITS), _INDICES, {"weight": _CLASS_WEIGHT}),
    "hinge": (hinge_loss, _X, np.sign(_Y), {"margin": 0.5}),
}


def torch_loss(torch, loss, x, target, reduction, options):
    """The same loss in PyTorch; hinge_loss, which torch lacks, written out with its ops."""
    F = torch.nn.functional
    target = torch.tensor(target)
    options = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    if loss is hinge_loss:
        losses = torch.relu(options.get("margin", 1.0) - target * x)
        return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]
    return getattr(F, loss.__name__)(x, target, reduction=reduction, **options)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", TORCH_CALLS)
def test_matches_pytorch(name, reduction):
    torch = pytest.importorskip("torch")
    loss, x, target, options = TORCH_CALLS[name]
    ours_x = Tensor(x, requires_grad=True)
    ours = loss(ours_x, target, reduction=reduction, **options)
    g = backward(ours, reduction)
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs = torch_loss(torch, loss, theirs_x, target, reduction, options)
    theirs.backward(None if g is None else torch.tensor(g))
    tolerance = dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **tolerance)
    np.testing.assert_allclose(ours_x.grad, theirs_x.grad.numpy(), **tolerance)
