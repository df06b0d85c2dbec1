"""Tests of nn.optim: each optimiser against a reference written from PyTorch's pseudo-code,
parameter groups and state, saving and loading, and the learning-rate schedulers.

The references below are plain float64 numpy loops over the steps, one per optimiser, written
from the algorithm boxes of PyTorch's documentation (torch.optim.SGD, Adam, AdamW, RMSprop,
Adagrad), independently of nn/optim.
"""
import copy
import math

import numpy as np
import pytest

import nn.optim
from autograd_core import Tensor, Value
from nn.optim import SGD, Adagrad, Adam, AdamW, RMSprop, lr_scheduler
from nn.optim.lr_scheduler import (ChainedScheduler, ConstantLR, CosineAnnealingLR,
                                   CosineAnnealingWarmRestarts, ExponentialLR, LambdaLR,
                                   LinearLR, LRScheduler, MultiplicativeLR, MultiStepLR,
                                   OneCycleLR, PolynomialLR, ReduceLROnPlateau, SequentialLR,
                                   StepLR)

EXACT = dict(rtol=1e-12, atol=1e-15)
THETA0 = np.array([0.5, -1.5, 2.0, 0.25])


def gradient_sequence(steps: int, shape=(4,), seed: int = 0) -> list[np.ndarray]:
    """Gradients that change from step to step (and change sign, to exercise amsgrad's max)."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) * (1 + step) for step in range(steps)]


def run_optimizer(make_optimizer, theta0, grads) -> list[np.ndarray]:
    """The parameter after each step, the gradient of step t set by hand to grads[t]."""
    w = Tensor(theta0.copy(), requires_grad=True)
    optimizer = make_optimizer([w])
    history = []
    for grad in grads:
        w.grad = grad.copy()
        optimizer.step()
        history.append(w.data.copy())
    return history


# ----- references from PyTorch's documented pseudo-code -----
def reference_sgd(theta, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                  nesterov=False, maximize=False):
    theta, history, b = theta.copy(), [], None
    for t, g in enumerate(grads, start=1):
        # torch's _single_tensor_sgd negates the gradient first when maximizing (the docs'
        # box adds γg at the end instead; both agree unless weight_decay is used too).
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * theta
        if momentum != 0:
            b = g if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        history.append(theta)
    return history


def reference_adam(theta, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   amsgrad=False, maximize=False, decoupled=False):
    beta1, beta2 = betas
    theta, history = theta.copy(), []
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    v_max = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled:  # AdamW: θ ← θ − γλθ
            theta = theta - lr * weight_decay * theta
        elif weight_decay != 0:  # Adam: g ← g + λθ
            g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2**t)
        else:
            v_hat = v / (1 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(theta)
    return history


def reference_rmsprop(theta, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                      momentum=0.0, centered=False, maximize=False):
    theta, history = theta.copy(), []
    v = np.zeros_like(theta)
    g_ave = np.zeros_like(theta)
    b = np.zeros_like(theta)
    for g in grads:
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g**2
        v_tilde = v
        if centered:
            g_ave = alpha * g_ave + (1 - alpha) * g
            v_tilde = v_tilde - g_ave**2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(v_tilde) + eps)
        history.append(theta)
    return history


def reference_adagrad(theta, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                      initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    theta, history = theta.copy(), []
    state_sum = np.full_like(theta, initial_accumulator_value)
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        lr_t = lr / (1 + (t - 1) * lr_decay)
        if weight_decay != 0:
            g = g + weight_decay * theta
        state_sum = state_sum + g**2
        theta = theta - lr_t * g / (np.sqrt(state_sum) + eps)
        history.append(theta)
    return history


# (optimiser, its keyword arguments, the reference and the reference's keyword arguments)
CASES = {
    "sgd": (SGD, dict(lr=0.1), reference_sgd, dict(lr=0.1)),
    "sgd-momentum": (SGD, dict(lr=0.1, momentum=0.9), reference_sgd,
                     dict(lr=0.1, momentum=0.9)),
    "sgd-dampening": (SGD, dict(lr=0.1, momentum=0.8, dampening=0.8), reference_sgd,
                      dict(lr=0.1, momentum=0.8, dampening=0.8)),
    "sgd-nesterov": (SGD, dict(lr=0.05, momentum=0.9, nesterov=True), reference_sgd,
                     dict(lr=0.05, momentum=0.9, nesterov=True)),
    "sgd-weight-decay": (SGD, dict(lr=0.1, momentum=0.5, weight_decay=0.1), reference_sgd,
                         dict(lr=0.1, momentum=0.5, weight_decay=0.1)),
    "sgd-maximize": (SGD, dict(lr=0.1, momentum=0.5, weight_decay=0.1, maximize=True),
                     reference_sgd, dict(lr=0.1, momentum=0.5, weight_decay=0.1,
                                         maximize=True)),
    "adam": (Adam, dict(lr=0.01), reference_adam, dict(lr=0.01)),
    "adam-betas-eps": (Adam, dict(lr=0.02, betas=(0.5, 0.75), eps=1e-3), reference_adam,
                       dict(lr=0.02, betas=(0.5, 0.75), eps=1e-3)),
    "adam-weight-decay": (Adam, dict(lr=0.01, weight_decay=0.1), reference_adam,
                          dict(lr=0.01, weight_decay=0.1)),
    "adam-amsgrad": (Adam, dict(lr=0.01, betas=(0.5, 0.6), amsgrad=True), reference_adam,
                     dict(lr=0.01, betas=(0.5, 0.6), amsgrad=True)),
    "adam-maximize": (Adam, dict(lr=0.01, weight_decay=0.1, maximize=True), reference_adam,
                      dict(lr=0.01, weight_decay=0.1, maximize=True)),
    "adam-decoupled": (Adam, dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True),
                       reference_adam, dict(lr=0.05, weight_decay=0.3, decoupled=True)),
    "adamw": (AdamW, dict(lr=0.01), reference_adam,
              dict(lr=0.01, weight_decay=1e-2, decoupled=True)),
    "adamw-decay-amsgrad": (AdamW, dict(lr=0.05, weight_decay=0.3, amsgrad=True),
                            reference_adam, dict(lr=0.05, weight_decay=0.3, amsgrad=True,
                                                 decoupled=True)),
    "rmsprop": (RMSprop, dict(lr=0.01), reference_rmsprop, dict(lr=0.01)),
    "rmsprop-alpha-decay": (RMSprop, dict(lr=0.01, alpha=0.9, weight_decay=0.1),
                            reference_rmsprop, dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    "rmsprop-momentum": (RMSprop, dict(lr=0.01, momentum=0.9), reference_rmsprop,
                         dict(lr=0.01, momentum=0.9)),
    "rmsprop-centered": (RMSprop, dict(lr=0.01, centered=True, momentum=0.5),
                         reference_rmsprop, dict(lr=0.01, centered=True, momentum=0.5)),
    "rmsprop-maximize": (RMSprop, dict(lr=0.01, weight_decay=0.1, momentum=0.5, centered=True,
                                       maximize=True), reference_rmsprop,
                         dict(lr=0.01, weight_decay=0.1, momentum=0.5, centered=True,
                              maximize=True)),
    "adagrad": (Adagrad, dict(lr=0.1), reference_adagrad, dict(lr=0.1)),
    "adagrad-options": (Adagrad, dict(lr=0.1, lr_decay=0.5, weight_decay=0.1,
                                      initial_accumulator_value=0.3, eps=1e-6),
                        reference_adagrad, dict(lr=0.1, lr_decay=0.5, weight_decay=0.1,
                                                initial_accumulator_value=0.3, eps=1e-6)),
    "adagrad-maximize": (Adagrad, dict(lr=0.1, lr_decay=0.5, weight_decay=0.1, maximize=True),
                         reference_adagrad, dict(lr=0.1, lr_decay=0.5, weight_decay=0.1,
                                                 maximize=True)),
}


@pytest.mark.parametrize("steps", [1, 5])
@pytest.mark.parametrize("case", CASES)
def test_steps_match_pytorch_pseudo_code(case, steps):
    optimizer_class, kwargs, reference, reference_kwargs = CASES[case]
    grads = gradient_sequence(steps)
    history = run_optimizer(lambda params: optimizer_class(params, **kwargs), THETA0, grads)
    expected = reference(THETA0, grads, **reference_kwargs)
    for step, (got, want) in enumerate(zip(history, expected, strict=True), start=1):
        np.testing.assert_allclose(got, want, **EXACT, err_msg=f"{case}, step {step}")


def test_plain_sgd_step_is_exact():
    w = Tensor([1.0, 2.0], requires_grad=True)
    w.grad = np.array([0.5, -0.25])
    SGD([w], lr=0.5).step()
    assert w.data.tolist() == [0.75, 2.125]


def test_lecture_momentum_is_sgd_with_dampening_equal_to_momentum():
    # m ← βm + (1 − β)g, except PyTorch starts the buffer at g rather than (1 − β)g.
    beta, lr, grads = 0.9, 0.1, gradient_sequence(4)
    history = run_optimizer(lambda params: SGD(params, lr=lr, momentum=beta, dampening=beta),
                            THETA0, grads)
    theta, m = THETA0.copy(), grads[0]
    theta = theta - lr * m
    for g in grads[1:]:
        m = beta * m + (1 - beta) * g
        theta = theta - lr * m
    np.testing.assert_allclose(history[-1], theta, **EXACT)


def test_sgd_computed_gradients_through_backward():
    w = Tensor([1.0, -2.0], requires_grad=True)
    optimizer = SGD([w], lr=0.1)
    (w * w).sum().backward()  # gradient 2w; w's array is read-only now
    assert not w.data.flags.writeable
    optimizer.step()
    np.testing.assert_array_equal(w.data, np.array([1.0, -2.0]) * 0.8)


# ----- dtypes, Values and skipped parameters -----
@pytest.mark.parametrize("case", ["sgd-nesterov", "adam-amsgrad", "adamw", "rmsprop-centered",
                                  "adagrad-options"])
def test_float32_parameters_stay_float32(case):
    optimizer_class, kwargs, reference, reference_kwargs = CASES[case]
    w = Tensor(THETA0.astype(np.float32), requires_grad=True)
    optimizer = optimizer_class([w], **kwargs)
    grads = gradient_sequence(3)
    for grad in grads:
        w.grad = grad.astype(np.float32)
        optimizer.step()
        assert w.data.dtype == np.float32
    assert all(buffer.dtype == np.float32 for buffer in optimizer.state[w].values()
               if isinstance(buffer, np.ndarray))
    expected = reference(THETA0, [g.astype(np.float32).astype(np.float64) for g in grads],
                         **reference_kwargs)[-1]
    np.testing.assert_allclose(w.data, expected, rtol=1e-4)


@pytest.mark.parametrize("case", CASES)
def test_value_parameters_move_like_a_0d_tensor(case):
    optimizer_class, kwargs, _, _ = CASES[case]
    grads = [float(g) for g in gradient_sequence(5, shape=())]
    v = Value(0.75)
    t = Tensor(0.75, requires_grad=True)
    value_optimizer = optimizer_class([v], **kwargs)
    tensor_optimizer = optimizer_class([t], **kwargs)
    for grad in grads:
        v.grad, t.grad = grad, np.array(grad)
        value_optimizer.step()
        tensor_optimizer.step()
        assert type(v.data) is float
        assert v.data == float(t.data)


def test_value_parameters_from_backward():
    a, b = Value(2.0), Value(-1.0)
    optimizer = Adam([a, b], lr=0.1)
    (a * b).backward()  # grads: b = -1 for a, a = 2 for b
    optimizer.step()
    # Adam's first step moves each parameter by lr·|g|/(|g| + eps), about lr.
    assert a.data == 2.0 + 0.1 * 1.0 / (1.0 + 1e-8)
    assert b.data == -1.0 - 0.1 * 2.0 / (2.0 + 1e-8)
    optimizer.zero_grad()
    assert a.grad == 0.0 and b.grad == 0.0


@pytest.mark.parametrize("case", ["sgd-momentum", "adam", "rmsprop", "adagrad"])
def test_parameters_without_gradient_are_skipped(case):
    optimizer_class, kwargs, _, _ = CASES[case]
    moved, untouched = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    optimizer = optimizer_class([moved, untouched], **kwargs)
    moved.grad = np.array([1.0])
    optimizer.step()
    assert moved.data[0] != 1.0
    assert untouched.data.tolist() == [1.0]
    assert untouched not in optimizer.state


def test_state_buffers_never_alias_the_gradient():
    w = Tensor([1.0, 2.0], requires_grad=True)
    optimizer = SGD([w], lr=0.1, momentum=0.9)
    w.grad = np.array([1.0, 1.0])
    optimizer.step()
    assert not np.shares_memory(optimizer.state[w]["momentum_buffer"], w.grad)


# ----- invalid hyperparameters -----
@pytest.mark.parametrize("make_optimizer, name", [
    (lambda ps: SGD(ps, lr=-0.1), "lr"),
    (lambda ps: SGD(ps, momentum=-0.5), "momentum"),
    (lambda ps: SGD(ps, weight_decay=-1e-4), "weight_decay"),
    (lambda ps: SGD(ps, nesterov=True), "nesterov"),
    (lambda ps: SGD(ps, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (lambda ps: Adam(ps, lr=-1.0), "lr"),
    (lambda ps: Adam(ps, eps=-1e-8), "eps"),
    (lambda ps: Adam(ps, weight_decay=-0.1), "weight_decay"),
    (lambda ps: Adam(ps, betas=(1.0, 0.999)), r"betas\[0\]"),
    (lambda ps: Adam(ps, betas=(0.9, -0.1)), r"betas\[1\]"),
    (lambda ps: AdamW(ps, betas=(0.9, 1.5)), r"betas\[1\]"),
    (lambda ps: RMSprop(ps, alpha=-0.5), "alpha"),
    (lambda ps: RMSprop(ps, eps=-1.0), "eps"),
    (lambda ps: RMSprop(ps, momentum=-0.1), "momentum"),
    (lambda ps: Adagrad(ps, lr_decay=-0.1), "lr_decay"),
    (lambda ps: Adagrad(ps, initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (lambda ps: SGD([{"params": ps, "lr": -0.5}]), "lr"),  # a group's own value is checked
])
def test_invalid_hyperparameters_raise_naming_the_argument(make_optimizer, name):
    with pytest.raises(ValueError, match=name):
        make_optimizer([Tensor([1.0], requires_grad=True)])


@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW, RMSprop, Adagrad])
def test_empty_parameter_list_raises(optimizer_class):
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optimizer_class([])


def test_a_single_tensor_instead_of_a_list_raises():
    with pytest.raises(TypeError, match="iterable"):
        SGD(Tensor([1.0], requires_grad=True))


# ----- parameter groups, zero_grad, closure -----
def test_groups_get_defaults_and_their_own_hyperparameters():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    optimizer = SGD([{"params": [a]}, {"params": [b], "lr": 1.0, "momentum": 0.5}], lr=0.1)
    assert optimizer.param_groups[0]["lr"] == 0.1 and optimizer.param_groups[0]["momentum"] == 0
    assert optimizer.param_groups[1]["lr"] == 1.0 and optimizer.param_groups[1]["momentum"] == 0.5
    a.grad, b.grad = np.array([1.0]), np.array([1.0])
    optimizer.step()
    assert a.data.tolist() == [0.9] and b.data.tolist() == [0.0]


def test_add_param_group():
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    optimizer = Adam([a], lr=0.1)
    optimizer.add_param_group({"params": b, "betas": (0.5, 0.5)})
    assert len(optimizer.param_groups) == 2
    assert optimizer.param_groups[1]["params"] == [b]
    assert optimizer.param_groups[1]["lr"] == 0.1 and optimizer.param_groups[1]["betas"] == (0.5, 0.5)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [a]})


def test_zero_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    optimizer = SGD([w], lr=0.1)
    (w * w).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad, [0.0, 0.0])
    assert w.grad.dtype == w.data.dtype
    optimizer.zero_grad()
    assert w.grad is None


def test_step_with_closure_returns_the_loss():
    w = Tensor([2.0], requires_grad=True)
    optimizer = SGD([w], lr=0.25)

    def closure():
        optimizer.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = optimizer.step(closure)
    assert float(loss.data) == 4.0
    assert w.data.tolist() == [1.0]  # 2 − 0.25·4


# ----- state_dict / load_state_dict -----
def _plain_types_only(value) -> bool:
    if isinstance(value, dict):
        return all(_plain_types_only(k) and _plain_types_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_types_only(item) for item in value)
    return isinstance(value, (int, float, bool, str, np.ndarray, type(None)))


@pytest.mark.parametrize("case", ["sgd-nesterov", "adam-amsgrad", "adamw", "rmsprop-centered",
                                  "adagrad-options"])
def test_state_dict_round_trip_continues_exactly(case):
    optimizer_class, kwargs, _, _ = CASES[case]
    grads = gradient_sequence(6)
    w = Tensor(THETA0.copy(), requires_grad=True)
    optimizer = optimizer_class([w], **kwargs)
    for grad in grads[:3]:
        w.grad = grad.copy()
        optimizer.step()

    saved = optimizer.state_dict()
    assert _plain_types_only(saved)
    assert saved["param_groups"][0]["params"] == [0] and list(saved["state"]) == [0]
    snapshot = copy.deepcopy(saved)

    clone = Tensor(w.data.copy(), requires_grad=True)
    fresh = optimizer_class([clone], lr=123.0)  # hyperparameters come from the state dict
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == kwargs["lr"]
    for grad in grads[3:]:
        w.grad, clone.grad = grad.copy(), grad.copy()
        optimizer.step()
        fresh.step()
        np.testing.assert_array_equal(clone.data, w.data)
    # The saved dict is a copy: neither optimiser's later steps changed it.
    for key, buffer in snapshot["state"][0].items():
        np.testing.assert_array_equal(saved["state"][0][key], buffer)


def test_state_dict_numbers_parameters_across_groups():
    a, b, c = (Tensor([1.0], requires_grad=True) for _ in range(3))
    optimizer = SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    c.grad = np.array([1.0])
    optimizer.step()
    saved = optimizer.state_dict()
    assert [group["params"] for group in saved["param_groups"]] == [[0, 1], [2]]
    assert list(saved["state"]) == [2]
    np.testing.assert_array_equal(saved["state"][2]["momentum_buffer"], [1.0])


def test_adam_state_dict_keeps_betas_a_pair():
    w = Tensor([1.0], requires_grad=True)
    optimizer = Adam([w], betas=(0.8, 0.9))
    saved = optimizer.state_dict()
    assert saved["param_groups"][0]["betas"] == [0.8, 0.9]
    fresh = Adam([Tensor([1.0], requires_grad=True)])
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["betas"] == (0.8, 0.9)


@pytest.mark.parametrize("optimizer_class, flag", [
    (RMSprop, "maximize"), (Adagrad, "maximize"), (Adam, "decoupled_weight_decay")])
def test_new_flags_are_defaults_saved_and_loaded(optimizer_class, flag):
    optimizer = optimizer_class([Tensor([1.0], requires_grad=True)], **{flag: True})
    assert optimizer.defaults[flag] is True and optimizer.param_groups[0][flag] is True
    saved = optimizer.state_dict()
    assert saved["param_groups"][0][flag] is True
    fresh = optimizer_class([Tensor([1.0], requires_grad=True)])
    assert fresh.param_groups[0][flag] is False
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0][flag] is True


def test_first_steps_of_maximize_and_decoupled_weight_decay():
    # Adagrad's first step moves each entry by lr, uphill when maximizing (the sign of g).
    w = Tensor([1.0, 1.0], requires_grad=True)
    w.grad = np.array([2.0, -4.0])
    Adagrad([w], lr=0.5, eps=0.0, maximize=True).step()
    assert w.data.tolist() == [1.5, 0.5]
    # RMSprop: v = (1 − 0.75)·4 = 1, so the step is lr·g/1, uphill.
    w = Tensor([1.0], requires_grad=True)
    w.grad = np.array([2.0])
    RMSprop([w], lr=0.25, alpha=0.75, eps=0.0, maximize=True).step()
    assert w.data.tolist() == [1.5]
    # Adam with decoupled weight decay, and no gradient: only θ·(1 − lr·λ) moves it.
    w = Tensor([2.0], requires_grad=True)
    w.grad = np.array([0.0])
    Adam([w], lr=0.25, weight_decay=0.5, decoupled_weight_decay=True).step()
    assert w.data.tolist() == [1.75]


def test_adamw_stays_decoupled_when_loading_any_state():
    # PyTorch 2.13's AdamW is Adam(decoupled_weight_decay=True) and forces it on loading.
    old_state = Adam([Tensor([1.0], requires_grad=True)], lr=0.25, weight_decay=0.1).state_dict()
    del old_state["param_groups"][0]["decoupled_weight_decay"]  # as saved before the flag
    adamw = AdamW([Tensor([1.0], requires_grad=True)])
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True
    adamw.load_state_dict(old_state)
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True
    w = Tensor([2.0], requires_grad=True)
    adam = Adam([w])
    adam.load_state_dict(old_state)  # without the flag: Adam's L2 form, as PyTorch defaults
    w.grad = np.array([0.0])
    adam.step()  # g = 0.1·2, and Adam's first step moves by lr (decoupled: to 2·(1 − 0.025))
    assert w.data[0] == pytest.approx(2.0 - 0.25, rel=1e-6)


def test_load_state_dict_checks_groups():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    saved = SGD([{"params": [a]}, {"params": [b]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="2 parameter groups, but the optimizer has 1"):
        SGD([a, b], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="group 1 .* 1 parameters, .* group 1 has 2"):
        c = Tensor([1.0], requires_grad=True)
        SGD([{"params": [a]}, {"params": [b, c]}], lr=0.1).load_state_dict(saved)


# ----- end to end -----
@pytest.mark.parametrize("make_optimizer", [
    lambda ps: SGD(ps, lr=0.1),
    lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda ps: Adam(ps, lr=0.1),
    lambda ps: AdamW(ps, lr=0.1, weight_decay=1e-4),
    lambda ps: RMSprop(ps, lr=0.03),
    lambda ps: Adagrad(ps, lr=0.5),
], ids=["sgd", "sgd-nesterov", "adam", "adamw", "rmsprop", "adagrad"])
def test_minimises_distance_to_three(make_optimizer):
    w = Tensor([0.0, -1.0, 5.0], requires_grad=True)
    optimizer = make_optimizer([w])
    for _ in range(500):
        optimizer.zero_grad()
        loss = ((w - 3.0) * (w - 3.0)).sum()
        loss.backward()
        optimizer.step()
    np.testing.assert_allclose(w.data, [3.0, 3.0, 3.0], atol=1e-2)


# ----- learning-rate schedulers -----
BASE_LRS = [0.1, 0.5]


def optimizer_with_two_groups() -> SGD:
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    return SGD([{"params": [a]}, {"params": [b], "lr": BASE_LRS[1]}], lr=BASE_LRS[0])


def lr_sequence(scheduler: LRScheduler, epochs: int) -> list[list[float]]:
    """get_last_lr() for the next ``epochs`` epochs, checking it is what the groups hold."""
    sequence = []
    for epoch in range(scheduler.last_epoch, scheduler.last_epoch + epochs):
        assert scheduler.last_epoch == epoch
        lrs = scheduler.get_last_lr()
        assert lrs == [group["lr"] for group in scheduler.optimizer.param_groups]
        sequence.append(lrs)
        scheduler.optimizer.step()
        scheduler.step()
    return sequence


def _lambda_epoch(epoch):
    return 0.9 ** epoch + epoch / 10


def _multiplicative(epoch):
    return 1.05 if epoch % 4 == 0 else 0.9


# (scheduler class, its keyword arguments, the closed form of lr at epoch t from base)
SCHEDULERS = {
    "step": (StepLR, dict(step_size=3, gamma=0.5),
             lambda base, t: base * 0.5 ** (t // 3)),
    "multistep": (MultiStepLR, dict(milestones=[2, 5, 5, 8], gamma=0.1),
                  lambda base, t: base * 0.1 ** sum(m <= t for m in [2, 5, 5, 8])),
    "exponential": (ExponentialLR, dict(gamma=0.8),
                    lambda base, t: base * 0.8 ** t),
    "cosine": (CosineAnnealingLR, dict(T_max=10, eta_min=0.01),
               lambda base, t: 0.01 + (base - 0.01) * (1 + math.cos(math.pi * t / 10)) / 2),
    "lambda": (LambdaLR, dict(lr_lambda=_lambda_epoch),
               lambda base, t: base * _lambda_epoch(t)),
    "linear": (LinearLR, dict(start_factor=0.25, end_factor=0.75, total_iters=6),
               lambda base, t: base * (0.25 + 0.5 * min(t, 6) / 6)),
    "linear-decay": (LinearLR, dict(start_factor=1.0, end_factor=0.0, total_iters=4),
                     lambda base, t: base * (1.0 - min(t, 4) / 4)),
    "constant": (ConstantLR, dict(factor=0.25, total_iters=5),
                 lambda base, t: base * (0.25 if t < 5 else 1.0)),
    "polynomial": (PolynomialLR, dict(total_iters=8, power=1.5),
                   lambda base, t: base * (1 - min(t, 8) / 8) ** 1.5),
    "multiplicative": (MultiplicativeLR, dict(lr_lambda=_multiplicative),
                       lambda base, t: base * math.prod(_multiplicative(s)
                                                        for s in range(1, t + 1))),
    "warm-restarts": (CosineAnnealingWarmRestarts, dict(T_0=4, eta_min=0.01),
                      lambda base, t: 0.01 + (base - 0.01) * (1 + math.cos(math.pi * (t % 4)
                                                                          / 4)) / 2),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_matches_closed_form(name):
    scheduler_class, kwargs, closed_form = SCHEDULERS[name]
    optimizer = optimizer_with_two_groups()
    scheduler = scheduler_class(optimizer, **kwargs)
    assert [group["initial_lr"] for group in optimizer.param_groups] == BASE_LRS
    assert scheduler.base_lrs == BASE_LRS
    sequence = lr_sequence(scheduler, 11)
    expected = [[closed_form(base, t) for base in BASE_LRS] for t in range(11)]
    np.testing.assert_allclose(sequence, expected, **EXACT)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_state_dict_round_trip(name):
    scheduler_class, kwargs, _ = SCHEDULERS[name]
    optimizer = optimizer_with_two_groups()
    scheduler = scheduler_class(optimizer, **kwargs)
    lr_sequence(scheduler, 4)
    saved = scheduler.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 4

    # PyTorch's order: build the scheduler (its first step writes the lrs of epoch 0), then
    # load the optimiser's state (the lrs reached) and the scheduler's.
    other_optimizer = optimizer_with_two_groups()
    restored = scheduler_class(other_optimizer, **kwargs)
    other_optimizer.load_state_dict(optimizer.state_dict())
    restored.load_state_dict(saved)
    assert restored.last_epoch == 4 and restored.get_last_lr() == scheduler.get_last_lr()
    assert lr_sequence(restored, 6) == lr_sequence(scheduler, 6)


def test_cosine_annealing_climbs_back_after_t_max():
    optimizer = optimizer_with_two_groups()
    scheduler = CosineAnnealingLR(optimizer, T_max=4, eta_min=0.0)
    sequence = [lrs[0] for lrs in lr_sequence(scheduler, 9)]
    expected = [0.1 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(9)]
    np.testing.assert_allclose(sequence, expected, rtol=1e-12, atol=1e-15)


def test_lambda_lr_one_function_per_group():
    optimizer = optimizer_with_two_groups()
    scheduler = LambdaLR(optimizer, lr_lambda=[lambda t: 1.0, lambda t: 0.5 ** t])
    scheduler.step()
    scheduler.step()
    assert scheduler.get_last_lr() == [0.1, 0.125]
    with pytest.raises(ValueError, match="lr_lambdas"):
        LambdaLR(optimizer, lr_lambda=[lambda t: 1.0])


def test_lambda_lr_state_dict_keeps_callable_objects_state():
    class Warmup:
        def __init__(self):
            self.length = 4

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.length)

    optimizer = optimizer_with_two_groups()
    scheduler = LambdaLR(optimizer, lr_lambda=[Warmup(), lambda t: 1.0])
    scheduler.lr_lambdas[0].length = 2
    saved = scheduler.state_dict()
    assert saved["lr_lambdas"] == [{"length": 2}, None]
    restored = LambdaLR(optimizer_with_two_groups(), lr_lambda=[Warmup(), lambda t: 1.0])
    restored.load_state_dict(saved)
    assert restored.lr_lambdas[0].length == 2


def test_scheduler_keeps_an_existing_initial_lr_and_resumes():
    optimizer = optimizer_with_two_groups()
    StepLR(optimizer, step_size=2, gamma=0.5)
    optimizer.param_groups[0]["lr"] = 0.05  # initial_lr is already there: kept
    ExponentialLR(optimizer, gamma=1.0)
    assert optimizer.param_groups[0]["initial_lr"] == 0.1
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(optimizer_with_two_groups(), step_size=2, last_epoch=3)


def resumed_optimizer(lrs_reached) -> SGD:
    """Two groups as after loading a checkpoint: initial_lr from BASE_LRS, lr as reached."""
    optimizer = optimizer_with_two_groups()
    for group, base, lr in zip(optimizer.param_groups, BASE_LRS, lrs_reached):
        group["initial_lr"], group["lr"] = base, lr
    return optimizer


@pytest.mark.parametrize("name, expected", [
    # Recursive schedulers keep the lr reached, as PyTorch 2.13's constructor step does...
    ("exponential", [0.05, 0.25]),
    ("linear", [0.05, 0.25]),
    ("cosine", [0.05, 0.25]),
    # ...the others apply epoch 4 (last_epoch=3, plus the constructor's step) as before.
    ("step", [0.05, 0.25]),                          # 4 is not a multiple of 3: kept
    ("multistep", [0.05, 0.25]),                     # 4 is not a milestone: kept
    ("lambda", [0.1 * _lambda_epoch(4), 0.5 * _lambda_epoch(4)]),  # from base_lrs
])
def test_resuming_with_last_epoch_keeps_the_lr_reached(name, expected):
    scheduler_class, kwargs, _ = SCHEDULERS[name]
    scheduler = scheduler_class(resumed_optimizer([0.05, 0.25]), last_epoch=3, **kwargs)
    assert scheduler.last_epoch == 4 and scheduler.base_lrs == BASE_LRS
    assert scheduler.get_last_lr() == expected
    assert "_is_initial" not in scheduler.state_dict()


def test_resumed_schedulers_step_on_from_the_lr_reached():
    exponential = ExponentialLR(resumed_optimizer([0.05, 0.25]), gamma=0.8, last_epoch=3)
    exponential.step()
    assert exponential.get_last_lr() == [0.05 * 0.8, 0.25 * 0.8]
    linear = LinearLR(resumed_optimizer([0.05, 0.25]), start_factor=0.25, end_factor=0.75,
                      total_iters=6, last_epoch=3)
    linear.step()  # factor of epoch 5 over that of epoch 4: (0.25 + 0.5·5/6) / (0.25 + 0.5·4/6)
    np.testing.assert_allclose(linear.get_last_lr(), [0.05 * 8 / 7, 0.25 * 8 / 7], rtol=1e-14)


@pytest.mark.parametrize("last_epoch", [0, 3, 9])
@pytest.mark.parametrize("name", SCHEDULERS)
def test_resumed_scheduler_matches_torch(name, last_epoch):
    torch = pytest.importorskip("torch")
    scheduler_class, kwargs, _ = SCHEDULERS[name]
    ours = scheduler_class(resumed_optimizer([0.05, 0.25]), last_epoch=last_epoch, **kwargs)
    weights = [torch.zeros(1, requires_grad=True) for _ in BASE_LRS]
    torch_optimizer = torch.optim.SGD([{"params": [weights[0]]}, {"params": [weights[1]]}],
                                      lr=0.1)
    for group, base, lr in zip(torch_optimizer.param_groups, BASE_LRS, [0.05, 0.25]):
        group["initial_lr"], group["lr"] = base, lr
    theirs = getattr(torch.optim.lr_scheduler, scheduler_class.__name__)(
        torch_optimizer, last_epoch=last_epoch, **kwargs)
    for _ in range(12):
        assert ours.last_epoch == theirs.last_epoch
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), **EXACT)
        torch_optimizer.step()
        ours.step()
        theirs.step()


@pytest.mark.parametrize("make_scheduler, name", [
    (lambda opt: StepLR(opt, step_size=0), "step_size"),
    (lambda opt: CosineAnnealingLR(opt, T_max=0), "T_max"),
    (lambda opt: LinearLR(opt, start_factor=0.0), "start_factor"),
    (lambda opt: LinearLR(opt, end_factor=1.5), "end_factor"),
    (lambda opt: ConstantLR(opt, factor=1.5), "factor"),
    (lambda opt: ConstantLR(opt, factor=0.0), "factor"),
    (lambda opt: PolynomialLR(opt, total_iters=0), "total_iters"),
    (lambda opt: MultiplicativeLR(opt, lr_lambda=[lambda t: 1.0]), "lr_lambdas"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=0), "T_0"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=2.5), "T_0"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0), "T_mult"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0"), "eta_min"),
    (lambda opt: CosineAnnealingWarmRestarts(opt, T_0=2).step(-1), "epoch"),
    (lambda opt: ReduceLROnPlateau(opt, factor=1.0), "factor"),
    (lambda opt: ReduceLROnPlateau(opt, mode="minimum"), "mode"),
    (lambda opt: ReduceLROnPlateau(opt, threshold_mode="relative"), "threshold_mode"),
    (lambda opt: ReduceLROnPlateau(opt, patience=-1), "patience"),
    (lambda opt: ReduceLROnPlateau(opt, cooldown=-2), "cooldown"),
    (lambda opt: ReduceLROnPlateau(opt, min_lr=[0.0]), "min_lr"),
    (lambda opt: OneCycleLR(opt, max_lr=1.0), "total_steps, or epochs and steps_per_epoch"),
    (lambda opt: OneCycleLR(opt, max_lr=1.0, total_steps=0), "total_steps"),
    (lambda opt: OneCycleLR(opt, max_lr=1.0, epochs=2, steps_per_epoch=0), "steps_per_epoch"),
    (lambda opt: OneCycleLR(opt, max_lr=1.0, epochs=-2, steps_per_epoch=3), "epochs"),
    (lambda opt: OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1.5), "pct_start"),
    (lambda opt: OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="cosine"),
     "anneal_strategy"),
    (lambda opt: OneCycleLR(opt, max_lr=[1.0], total_steps=10), "max_lr"),
    (lambda opt: OneCycleLR(opt, max_lr=1.0, total_steps=10, div_factor=0), "div_factor"),
    (lambda opt: OneCycleLR(opt, max_lr=1.0, total_steps=10, max_momentum=[0.9]),
     "max_momentum"),
    (lambda opt: SequentialLR(opt, [StepLR(opt, 2), StepLR(opt, 3)], milestones=[]),
     "milestone"),
    (lambda opt: SequentialLR(opt, [], milestones=[]), "at least one scheduler"),
    (lambda opt: SequentialLR(opt, [StepLR(optimizer_with_two_groups(), 2)], milestones=[]),
     "same optimizer"),
    (lambda opt: SequentialLR(opt, [ReduceLROnPlateau(opt)], milestones=[]), "ReduceLROnPlateau"),
    (lambda opt: ChainedScheduler([]), "at least one scheduler"),
    (lambda opt: ChainedScheduler([StepLR(opt, 2), ReduceLROnPlateau(opt)]), "ReduceLROnPlateau"),
    (lambda opt: ChainedScheduler([StepLR(opt, 2)], optimizer=optimizer_with_two_groups()),
     "same optimizer"),
])
def test_invalid_scheduler_arguments_raise(make_scheduler, name):
    with pytest.raises(ValueError, match=name):
        make_scheduler(optimizer_with_two_groups())


# ----- optional cross-check against torch.optim -----
@pytest.mark.parametrize("case", CASES)
def test_matches_torch_optim(case):
    torch = pytest.importorskip("torch")
    optimizer_class, kwargs, _, _ = CASES[case]
    grads = gradient_sequence(5)
    history = run_optimizer(lambda params: optimizer_class(params, **kwargs), THETA0, grads)
    w = torch.tensor(THETA0, dtype=torch.float64, requires_grad=True)
    torch_optimizer = getattr(torch.optim, optimizer_class.__name__)([w], **kwargs)
    for grad, ours in zip(grads, history):
        w.grad = torch.tensor(grad, dtype=torch.float64)
        torch_optimizer.step()
        np.testing.assert_allclose(ours, w.detach().numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_matches_torch(name):
    torch = pytest.importorskip("torch")
    scheduler_class, kwargs, _ = SCHEDULERS[name]
    ours = scheduler_class(optimizer_with_two_groups(), **kwargs)
    weights = [torch.zeros(1, requires_grad=True) for _ in BASE_LRS]
    torch_optimizer = torch.optim.SGD([{"params": [weights[0]]},
                                       {"params": [weights[1]], "lr": BASE_LRS[1]}],
                                      lr=BASE_LRS[0])
    theirs = getattr(torch.optim.lr_scheduler, scheduler_class.__name__)(torch_optimizer,
                                                                          **kwargs)
    for _ in range(12):
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), **EXACT)
        torch_optimizer.step()
        ours.step()
        theirs.step()


# ----- ReduceLROnPlateau, OneCycleLR, SequentialLR, ChainedScheduler and the others -----
def _slow_decay(epoch):
    return 0.99


def _sequential_three(lr, opt):
    return lr.SequentialLR(opt, [lr.ConstantLR(opt, factor=0.5, total_iters=5),
                                 lr.ExponentialLR(opt, gamma=0.9),
                                 lr.StepLR(opt, step_size=4, gamma=0.5)], milestones=[8, 25])


# name -> (optimiser kind, function (scheduler module, optimizer) -> scheduler): the same code
# builds our scheduler (module nn.optim.lr_scheduler) and torch's (torch.optim.lr_scheduler).
LONG_RUNS = {
    "constant": ("sgd", lambda lr, opt: lr.ConstantLR(opt, factor=0.5, total_iters=7)),
    "constant-default": ("sgd", lambda lr, opt: lr.ConstantLR(opt)),
    "polynomial": ("sgd", lambda lr, opt: lr.PolynomialLR(opt, total_iters=40, power=0.9)),
    "polynomial-square": ("sgd", lambda lr, opt: lr.PolynomialLR(opt, total_iters=10,
                                                                 power=2.0)),
    "multiplicative": ("sgd", lambda lr, opt: lr.MultiplicativeLR(opt, lr_lambda=_multiplicative)),
    "multiplicative-per-group": ("sgd", lambda lr, opt: lr.MultiplicativeLR(
        opt, lr_lambda=[_slow_decay, _multiplicative])),
    "warm-restarts": ("sgd", lambda lr, opt: lr.CosineAnnealingWarmRestarts(opt, T_0=10)),
    "warm-restarts-mult": ("sgd", lambda lr, opt: lr.CosineAnnealingWarmRestarts(
        opt, T_0=3, T_mult=2, eta_min=0.01)),
    "onecycle-cos": ("sgd", lambda lr, opt: lr.OneCycleLR(opt, max_lr=[1.0, 2.0],
                                                          total_steps=65)),
    "onecycle-linear-three-phase": ("sgd", lambda lr, opt: lr.OneCycleLR(
        opt, max_lr=1.0, epochs=13, steps_per_epoch=5, pct_start=0.25,
        anneal_strategy="linear", three_phase=True, div_factor=10.0, final_div_factor=100.0,
        base_momentum=[0.8, 0.7], max_momentum=0.9)),
    "onecycle-adam-betas": ("adam", lambda lr, opt: lr.OneCycleLR(opt, max_lr=0.01,
                                                                  total_steps=65, pct_start=0.4)),
    "onecycle-without-momentum": ("adagrad", lambda lr, opt: lr.OneCycleLR(
        opt, max_lr=0.3, total_steps=65, cycle_momentum=False)),
    "sequential-warmup-cosine": ("sgd", lambda lr, opt: lr.SequentialLR(
        opt, [lr.LinearLR(opt, start_factor=0.1, total_iters=10),
              lr.CosineAnnealingLR(opt, T_max=30, eta_min=0.001)], milestones=[10])),
    "sequential-three": ("sgd", _sequential_three),
    "sequential-multistep-polynomial": ("sgd", lambda lr, opt: lr.SequentialLR(
        opt, [lr.MultiStepLR(opt, milestones=[3, 6], gamma=0.5),
              lr.PolynomialLR(opt, total_iters=30, power=1.5)], milestones=[20])),
    "chained": ("sgd", lambda lr, opt: lr.ChainedScheduler(
        [lr.ConstantLR(opt, factor=0.1, total_iters=20), lr.ExponentialLR(opt, gamma=0.95)])),
    "chained-three": ("sgd", lambda lr, opt: lr.ChainedScheduler(
        [lr.LinearLR(opt, start_factor=0.2, total_iters=5),
         lr.MultiplicativeLR(opt, lr_lambda=_slow_decay), lr.StepLR(opt, 7, gamma=0.5)],
        optimizer=opt)),
}
LONG_STEPS = 66  # values compared: epochs 0 to 65 (OneCycleLR's total_steps = 65 allows them)

# Ten values of a validation loss for each plateau of the run, with wiggles.
PLATEAU_METRICS = [1.0 / (1 + t // 10) + 0.002 * ((t * 7) % 5) for t in range(LONG_STEPS)]

PLATEAU_RUNS = {
    "min-rel": dict(patience=2),
    "min-abs-cooldown": dict(patience=1, threshold=0.01, threshold_mode="abs", cooldown=3,
                             factor=0.5),
    "max-rel": dict(mode="max", patience=3, factor=0.7, threshold=0.05),
    "max-abs-min-lr-per-group": dict(mode="max", threshold_mode="abs", patience=0,
                                     factor=0.5, min_lr=[0.01, 0.2]),
    "large-eps": dict(patience=0, factor=0.9, eps=0.004),
}


def two_groups(module, kind: str, make_param):
    """An optimiser of two groups (lr 0.1 and 0.5) of ``module`` (nn.optim or torch.optim)."""
    groups = [{"params": [make_param()]}, {"params": [make_param()], "lr": 0.5}]
    if kind == "sgd":
        return module.SGD(groups, lr=0.1, momentum=0.9)
    if kind == "adam":
        return module.Adam(groups, lr=0.1, betas=(0.9, 0.99))
    return module.Adagrad(groups, lr=0.1)


def our_optimizer(kind: str = "sgd"):
    return two_groups(nn.optim, kind, lambda: Tensor([1.0], requires_grad=True))


def assert_same_schedule(ours, theirs):
    np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), **EXACT)
    if hasattr(theirs, "last_epoch"):
        assert ours.last_epoch == theirs.last_epoch
    for mine, their in zip(ours.optimizer.param_groups, theirs.optimizer.param_groups):
        for key in ("lr", "momentum", "betas", "initial_lr", "max_lr", "min_lr"):
            if key in their:
                np.testing.assert_allclose(mine[key], their[key], **EXACT, err_msg=key)


def run_against_torch(make, kind="sgd", metrics=None, save_at=None):
    """Step ours and torch's side by side for LONG_STEPS values; at ``save_at``, replace ours
    by a new scheduler and optimiser loaded from their state_dicts (PyTorch's order)."""
    torch = pytest.importorskip("torch")
    ours = make(lr_scheduler, our_optimizer(kind))
    theirs = make(torch.optim.lr_scheduler,
                  two_groups(torch.optim, kind, lambda: torch.zeros(1, requires_grad=True)))
    for t in range(LONG_STEPS):
        if t == save_at:
            saved, saved_optimizer = ours.state_dict(), ours.optimizer.state_dict()
            ours = make(lr_scheduler, our_optimizer(kind))
            ours.optimizer.load_state_dict(saved_optimizer)
            ours.load_state_dict(saved)
        assert_same_schedule(ours, theirs)
        if t < LONG_STEPS - 1:
            theirs.optimizer.step()
            arguments = () if metrics is None else (metrics[t],)
            ours.step(*arguments)
            theirs.step(*arguments)
    return ours, theirs


@pytest.mark.parametrize("save_at", [None, 31])
@pytest.mark.parametrize("name", LONG_RUNS)
def test_long_run_matches_torch(name, save_at):
    kind, make = LONG_RUNS[name]
    run_against_torch(make, kind, save_at=save_at)


@pytest.mark.parametrize("save_at", [None, 23])
@pytest.mark.parametrize("name", PLATEAU_RUNS)
def test_reduce_lr_on_plateau_matches_torch(name, save_at):
    kwargs = PLATEAU_RUNS[name]
    metrics = [2 - m for m in PLATEAU_METRICS] if kwargs.get("mode") == "max" else PLATEAU_METRICS
    ours, theirs = run_against_torch(lambda lr, opt: lr.ReduceLROnPlateau(opt, **kwargs),
                                     metrics=metrics, save_at=save_at)
    assert ours.get_last_lr() != [0.1, 0.5]  # the run did reduce the lr
    for key in ("best", "num_bad_epochs", "cooldown_counter", "min_lrs"):
        assert getattr(ours, key) == getattr(theirs, key), key


@pytest.mark.parametrize("name", ["onecycle-cos", "onecycle-linear-three-phase"])
def test_one_cycle_raises_past_total_steps_as_torch(name):
    ours, theirs = run_against_torch(LONG_RUNS[name][1])
    with pytest.raises(ValueError, match="total_steps"):
        ours.step()
    theirs.optimizer.step()
    with pytest.raises(ValueError, match="total steps"):
        theirs.step()


@pytest.mark.parametrize("last_epoch", [0, 17, 40])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_resumed_one_cycle_matches_torch(kind, last_epoch):
    torch = pytest.importorskip("torch")
    optimizers = [our_optimizer(kind),
                  two_groups(torch.optim, kind, lambda: torch.zeros(1, requires_grad=True))]
    for optimizer in optimizers:  # as a checkpoint leaves them
        for group, top in zip(optimizer.param_groups, [1.0, 2.0]):
            group.update(initial_lr=top / 25, max_lr=top, min_lr=top / 25e4, lr=0.3,
                         max_momentum=0.95, base_momentum=0.85)
    ours, theirs = [module.OneCycleLR(optimizer, max_lr=[1.0, 2.0], total_steps=65,
                                      last_epoch=last_epoch)
                    for module, optimizer in zip([lr_scheduler, torch.optim.lr_scheduler],
                                                 optimizers)]
    for _ in range(65 - last_epoch - 1):
        assert_same_schedule(ours, theirs)
        theirs.optimizer.step()
        ours.step()
        theirs.step()


def test_warm_restarts_fractional_epochs_match_torch():
    torch = pytest.importorskip("torch")
    make = LONG_RUNS["warm-restarts-mult"][1]
    ours = make(lr_scheduler, our_optimizer())
    theirs = make(torch.optim.lr_scheduler,
                  two_groups(torch.optim, "sgd", lambda: torch.zeros(1, requires_grad=True)))
    epochs = [e + i / 7 for e in range(12) for i in range(7)] + [30, 2.5, None, None, 50.25]
    for epoch in epochs:
        theirs.optimizer.step()
        theirs.step(epoch)
        ours.step(epoch)
        assert_same_schedule(ours, theirs)
        assert (ours.T_i, ours.T_cur) == pytest.approx((theirs.T_i, theirs.T_cur), rel=1e-12)


# ----- the same, without torch: a few values pinned -----
def test_one_cycle_pinned_values_and_momentum():
    optimizer = our_optimizer()
    scheduler = OneCycleLR(optimizer, max_lr=1.0, total_steps=10)  # peak at step 0.3·10 − 1
    lrs, momenta = [], []
    for step in range(11):
        lrs.append(scheduler.get_last_lr())
        momenta.append(optimizer.param_groups[0]["momentum"])
        if step < 10:
            scheduler.step()
    assert optimizer.param_groups[0]["initial_lr"] == 0.04
    np.testing.assert_allclose(lrs[0], [0.04, 0.04], rtol=1e-14)
    assert momenta[0] == pytest.approx(0.95, abs=1e-15)
    assert lrs[2] == [1.0, 1.0] and momenta[2] == pytest.approx(0.85, abs=1e-15)
    np.testing.assert_allclose(lrs[1], [0.52, 0.52], rtol=1e-14)  # cosine midway up
    np.testing.assert_allclose(lrs[9], [4e-6, 4e-6], rtol=1e-12)
    assert momenta[9] == pytest.approx(0.95, abs=1e-15)
    down = [0.04 / 1e4 + (1.0 - 0.04 / 1e4) * (1 + math.cos(math.pi * (t - 2) / 7)) / 2
            for t in range(2, 10)]
    np.testing.assert_allclose([lr[0] for lr in lrs[2:10]], down, rtol=1e-12)
    with pytest.raises(ValueError, match=r"stepped 11 times, past its total_steps=10"):
        scheduler.step()


def test_one_cycle_cycles_adam_beta1_and_keeps_beta2():
    optimizer = our_optimizer("adam")
    scheduler = OneCycleLR(optimizer, max_lr=0.01, total_steps=4, pct_start=0.5,
                           anneal_strategy="linear", base_momentum=0.8, max_momentum=0.9)
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.99)
    scheduler.step()
    assert optimizer.param_groups[1]["betas"] == pytest.approx((0.8, 0.99), abs=1e-15)
    assert isinstance(optimizer.param_groups[1]["betas"], tuple)


def test_one_cycle_needs_momentum_or_cycle_momentum_false():
    with pytest.raises(ValueError, match="Adagrad has no momentum or betas"):
        OneCycleLR(our_optimizer("adagrad"), max_lr=1.0, total_steps=10)
    OneCycleLR(our_optimizer("adagrad"), max_lr=1.0, total_steps=10, cycle_momentum=False)


def test_reduce_lr_on_plateau_pinned_sequence():
    optimizer = optimizer_with_two_groups()
    scheduler = ReduceLROnPlateau(optimizer, factor=0.5, patience=1, cooldown=1,
                                  min_lr=[0.02, 0.0])
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr() == [0.1, 0.5]
    lrs = []
    for loss in [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.0]:
        scheduler.step(Tensor(loss))  # a 0-d tensor works as a number
        lrs.append(scheduler.get_last_lr())
    # the 2nd loss without improvement halves the lr; the one after a halving is the cooldown
    assert lrs == [[0.1, 0.5], [0.1, 0.5], [0.1, 0.5], [0.05, 0.25], [0.05, 0.25],
                   [0.05, 0.25], [0.025, 0.125], [0.025, 0.125], [0.025, 0.125],
                   [0.025, 0.125]]
    assert scheduler.last_epoch == 10 and scheduler.best == 3.0
    scheduler.step(4.0)
    scheduler.step(4.0)
    assert scheduler.get_last_lr() == [0.02, 0.0625]


def test_reduce_lr_on_plateau_state_dict_round_trip():
    scheduler = ReduceLROnPlateau(optimizer_with_two_groups(), mode="max", patience=0)
    for metric in [1.0, 2.0, 1.5]:
        scheduler.step(metric)
    saved = scheduler.state_dict()
    assert "optimizer" not in saved and saved["best"] == 2.0 and saved["last_epoch"] == 3
    restored = ReduceLROnPlateau(optimizer_with_two_groups())  # mode 'min' until loaded
    restored.load_state_dict(saved)
    assert restored.mode == "max" and restored.mode_worse == -math.inf
    restored.step(2.5)
    assert restored.best == 2.5 and restored.num_bad_epochs == 0


def test_reduce_lr_on_plateau_new_group_needs_min_lrs():
    optimizer = optimizer_with_two_groups()
    scheduler = ReduceLROnPlateau(optimizer, patience=0, min_lr=[0.0, 0.0])
    scheduler.step(1.0)
    optimizer.add_param_group({"params": [Tensor([0.0], requires_grad=True)]})
    with pytest.raises(RuntimeError, match="3 parameter groups"):
        scheduler.step(2.0)


def test_sequential_lr_pinned_values_and_state_dict():
    optimizer = optimizer_with_two_groups()
    warmup = LinearLR(optimizer, start_factor=0.5, total_iters=2)
    decay = StepLR(optimizer, step_size=2, gamma=0.1)
    scheduler = SequentialLR(optimizer, [warmup, decay], milestones=[3])
    sequence = [lrs[0] for lrs in lr_sequence(scheduler, 4)]
    np.testing.assert_allclose(sequence, [0.05, 0.075, 0.1, 0.1], **EXACT)  # 3: decay's 0
    saved = scheduler.state_dict()
    assert [state["last_epoch"] for state in saved["_schedulers"]] == [2, 1]
    other = optimizer_with_two_groups()
    restored = SequentialLR(other, [LinearLR(other, start_factor=0.5, total_iters=2),
                                    StepLR(other, step_size=2, gamma=0.1)], milestones=[3])
    other.load_state_dict(optimizer.state_dict())
    restored.load_state_dict(saved)
    assert lr_sequence(restored, 4) == lr_sequence(scheduler, 4)
    # epochs 8 and 9 are decay's 5 and 6: 0.1·0.1^⌊5/2⌋, 0.1·0.1^⌊6/2⌋
    np.testing.assert_allclose([lrs[0] for lrs in lr_sequence(scheduler, 2)], [1e-3, 1e-4],
                               **EXACT)


def test_chained_scheduler_composes_factors():
    optimizer = optimizer_with_two_groups()
    scheduler = ChainedScheduler([ConstantLR(optimizer, factor=0.5, total_iters=3),
                                  ExponentialLR(optimizer, gamma=0.9)])
    sequence = []  # (no last_epoch: as PyTorch's, a ChainedScheduler has no epoch of its own)
    for _ in range(6):
        sequence.append(scheduler.get_last_lr())
        assert sequence[-1] == [group["lr"] for group in optimizer.param_groups]
        scheduler.step()
    expected = [[base * (0.5 if t < 3 else 1.0) * 0.9 ** t for base in BASE_LRS]
                for t in range(6)]
    np.testing.assert_allclose(sequence, expected, **EXACT)


def test_warm_restarts_fractional_epoch_pinned():
    scheduler = CosineAnnealingWarmRestarts(optimizer_with_two_groups(), T_0=4, T_mult=2)
    scheduler.step(1.0)
    np.testing.assert_allclose(scheduler.get_last_lr(), [b * (1 + math.cos(math.pi / 4)) / 2
                                                         for b in BASE_LRS], **EXACT)
    scheduler.step(6.0)  # in the second period (epochs 4 to 12, T_i = 8): T_cur = 2
    assert (scheduler.T_i, scheduler.T_cur, scheduler.last_epoch) == (8, 2.0, 6)
    scheduler.step()
    assert (scheduler.T_i, scheduler.T_cur, scheduler.last_epoch) == (8, 3.0, 7)


def test_multiplicative_lr_keeps_callable_objects_state_and_checks_callables():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, epoch):
            return self.rate

    scheduler = MultiplicativeLR(optimizer_with_two_groups(), lr_lambda=[Decay(), _slow_decay])
    scheduler.lr_lambdas[0].rate = 0.25
    saved = scheduler.state_dict()
    assert saved["lr_lambdas"] == [{"rate": 0.25}, None]
    restored = MultiplicativeLR(optimizer_with_two_groups(), lr_lambda=[Decay(), _slow_decay])
    restored.load_state_dict(saved)
    restored.step()
    assert restored.get_last_lr()[0] == 0.025
    with pytest.raises(TypeError, match="lr_lambda should be a function, but got float"):
        MultiplicativeLR(optimizer_with_two_groups(), lr_lambda=0.5)


def test_chained_scheduler_checks_the_schedulers():
    with pytest.raises(TypeError, match="index 0"):
        ChainedScheduler([object()])
