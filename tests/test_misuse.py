"""Every way to misuse the public API, in one table: the exact exception type and a stable
fragment of its message, so that a user who gets it wrong is told what and where.

Each row is ``call, exception type, message fragment``: ``call`` is a lambda (or a short named
helper when the misuse takes more than one statement). The type must match exactly, not a
subclass; the fragment is matched literally. Rows marked ``BUG`` are known wrong or
misleading errors: they are strict xfails that document the expected behaviour.
"""
import re

import numpy as np
import pytest

import nn
from autograd_core import Tape, Tensor, Value, grad, maximum, one_hot
from autograd_core import functional as AF
from autograd_core.graph import backward_steps
from nn.data import ConcatDataset, DataLoader, TensorDataset, make_moons, random_split
from nn.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from nn.optim.lr_scheduler import (CosineAnnealingLR, CosineAnnealingWarmRestarts, LambdaLR,
                                   LinearLR, OneCycleLR, ReduceLROnPlateau, SequentialLR, StepLR)
from viz import draw_dot
from viz.expression import ExpressionError, parse_assignments, parse_expression


# ----- small builders, so that each row stays one line -----
def leaf(*values):
    """A float64 tensor leaf that requires grad."""
    return Tensor(np.array(values, dtype=float), requires_grad=True)


def step_with_misshapen_grad():
    """A ``.grad`` set by hand to another shape: the update would broadcast the parameter."""
    w = leaf(1.0, 2.0, 3.0)
    w.grad = np.ones((2, 3))
    SGD([w], lr=0.1).step()


def backward_into_misshapen_grad():
    """A ``.grad`` set by hand to another shape: adding to it would broadcast, silently."""
    w = leaf(1.0, 2.0, 3.0)
    w.grad = np.ones((2, 3))
    (w * 2).sum().backward()


def params():
    return [nn.Parameter([1.0, 2.0])]


def sgd(**hyperparameters):
    return SGD(params(), **{"lr": 0.1, **hyperparameters})


def linear_state(**changes):
    """A state dict of ``nn.Linear(2, 3)`` with some entries replaced (None: removed)."""
    state = dict(nn.Linear(2, 3, generator=0).state_dict())
    state.update(changes)
    return {key: value for key, value in state.items() if value is not None}


def loader(batch_size=1, **options):
    return DataLoader(TensorDataset(np.arange(4.0)), batch_size=batch_size, **options)


def parse(text):
    return parse_expression(text, {"x": 1.0})


def bug(reason):
    return pytest.mark.xfail(strict=True, reason=f"BUG: {reason}")


# ----- misuses that take more than one statement -----
def backward_twice(make_loss):
    loss = make_loss()
    loss.backward()
    loss.backward()


def backward_through_a_freed_subgraph():
    x = Value(2.0)
    y = x * x
    y.backward()
    (y * 3).backward()  # a new root, but y's own history was released


def rebind_saved_data_then_backward():
    x = leaf(1.0, 2.0)
    loss = (x * x).sum()
    x.data = np.zeros(2)  # the op saved the old array; backward must not use the new one
    loss.backward()


def write_into_saved_array():
    x = leaf(1.0, 2.0)
    (x * x).sum()
    x.data[0] = 5.0


def add_in_place_into_saved_array():
    x = leaf(1.0, 2.0)
    (x * x).sum()
    x.data += 1.0  # numpy's in-place add on the (now read-only) array, not Tensor.__iadd__


def fill_a_parameter_after_forward():
    layer = nn.Linear(2, 2, generator=0)
    layer(Tensor(np.ones((1, 2))))
    layer.weight.data.fill_(0.0)  # PyTorch's idiom, but the product saved this array


def step_parameter_in_place_after_forward():
    layer = nn.Linear(2, 2, generator=0)
    layer(Tensor(np.ones((1, 2))))
    layer.weight.data -= 0.1


def make_int_tensor_require_grad_by_attribute():
    Tensor([1, 2]).requires_grad = True


def change_requires_grad_of(node):
    node.requires_grad = False


def tape_gradient(sources, twice=False, after_backward=False):
    x = Value(2.0)
    with Tape() as tape:
        y = x * x
    if after_backward:
        y.backward()
    sources = x if sources == "x" else sources
    tape.gradient(y, sources)
    if twice:
        tape.gradient(y, sources)


def steps_through_a_freed_graph():
    x = Value(2.0)
    y = x * x
    y.backward()
    list(backward_steps(y))


def grad_of(output_kind):
    x, unused = Value(1.0), Value(2.0)
    if output_kind == "unused input":
        return grad(x * 2, [x, unused])
    if output_kind == "too few grad_outputs":
        return grad([x * 2, x * 3], [x], grad_outputs=[1.0])
    return grad(1.0, [x])


def clip_with_a_nan_gradient():
    p = nn.Parameter([1.0, 2.0])
    p.grad = np.array([np.nan, 1.0])
    nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def add_a_parameter_already_held():
    p = nn.Parameter([1.0])
    SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


# ----- the table -----
MISUSES = [
    # --- backward ---
    pytest.param(lambda: (leaf(1.0, 2.0) * 2).backward(), RuntimeError, "grad can be implicitly created only for scalar outputs", id="tensor-nonscalar-backward-without-grad"),
    pytest.param(lambda: (leaf(1.0, 2.0) * 2).backward(np.ones(3)), ValueError, "grad has shape (3,) but the tensor has shape (2,)", id="tensor-backward-grad-of-wrong-shape"),
    pytest.param(lambda: (leaf(1.0, 2.0) * 2).backward("a"), TypeError, "backward", id="tensor-backward-grad-not-a-number"),
    pytest.param(lambda: (Value(1.0) * 2).backward("a"), TypeError, "backward(grad=...) must be a real number", id="value-backward-grad-not-a-number"),
    pytest.param(lambda: (Value(1.0) * 2).backward(np.ones(2)), TypeError, "backward(grad=...) must be a real number", id="value-backward-grad-array"),
    pytest.param(lambda: (Value(1.0) * 2).backward(Tensor(1.0)), TypeError, "backward(grad=...) must be a real number, got Tensor", id="value-backward-grad-tensor"),
    pytest.param(lambda: backward_twice(lambda: Value(2.0) * Value(3.0)), RuntimeError, "backward through the graph a second time", id="value-backward-through-freed-graph"),
    pytest.param(lambda: backward_twice(lambda: (leaf(1.0, 2.0) ** 2).sum()), RuntimeError, "backward through the graph a second time", id="tensor-backward-through-freed-graph"),
    pytest.param(backward_through_a_freed_subgraph, RuntimeError, "Pass retain_graph=True", id="value-new-root-on-freed-subgraph"),
    pytest.param(steps_through_a_freed_graph, RuntimeError, "second time", id="backward-steps-through-freed-graph"),
    pytest.param(lambda: Value(1.0, requires_grad=False).backward(), RuntimeError, "does not require grad", id="value-backward-without-requires-grad"),
    pytest.param(lambda: Tensor([1.0]).sum().backward(), RuntimeError, "does not require grad", id="tensor-backward-of-a-constant"),
    # --- which tensors may require grad ---
    pytest.param(lambda: Tensor([1, 2], requires_grad=True), TypeError, "only floating point tensors can require gradients, got int64", id="int-tensor-requires-grad"),
    pytest.param(lambda: Tensor([True], requires_grad=True), TypeError, "only floating point tensors can require gradients, got bool", id="bool-tensor-requires-grad"),
    pytest.param(lambda: Tensor([1, 2]).requires_grad_(), TypeError, "only floating point tensors can require gradients", id="int-tensor-requires-grad_"),
    pytest.param(make_int_tensor_require_grad_by_attribute, TypeError, "only floating point tensors can require gradients", id="int-tensor-requires-grad-attribute"),
    pytest.param(lambda: change_requires_grad_of(leaf(1.0) * 2), RuntimeError, "requires_grad can only be changed on leaf nodes", id="tensor-requires-grad-on-non-leaf"),
    pytest.param(lambda: change_requires_grad_of(Value(1.0) * 2), RuntimeError, "requires_grad can only be changed on leaf nodes", id="value-requires-grad-on-non-leaf"),
    pytest.param(lambda: leaf(1.0).astype(np.int64), TypeError, "can only become a float dtype, not int64", id="astype-int-while-requiring-grad"),
    pytest.param(lambda: Tensor([1.0]).retain_grad(), RuntimeError, "retain_grad() on a tensor that does not require grad", id="retain-grad-on-constant"),
    pytest.param(lambda: Tensor([1.0]).register_hook(print), RuntimeError, "register_hook on a tensor that does not require grad", id="hook-on-constant"),
    pytest.param(lambda: leaf(1.0).register_hook(3), TypeError, "register_hook needs a callable, got int", id="hook-not-callable"),
    # --- arrays saved for backward ---
    pytest.param(rebind_saved_data_then_backward, RuntimeError, "had its data replaced after the operation used it", id="rebind-saved-data-then-backward"),
    pytest.param(write_into_saved_array, ValueError, "read-only", id="write-into-saved-array"),
    pytest.param(add_in_place_into_saved_array, ValueError, "read-only", id="numpy-add-in-place-into-saved-array"),
    pytest.param(fill_a_parameter_after_forward, ValueError, "read-only", id="parameter-fill_-after-forward"),
    pytest.param(step_parameter_in_place_after_forward, ValueError, "read-only", id="parameter-data-minus-equals-after-forward"),
    pytest.param(lambda: leaf(1.0).__iadd__(1.0), RuntimeError, "requires grad is used in an in-place operation", id="leaf-iadd-while-requiring-grad"),
    # --- grad() and Tape ---
    pytest.param(lambda: grad_of("unused input"), RuntimeError, "input 1 was not used to compute the outputs; pass allow_unused=True", id="grad-unused-input"),
    pytest.param(lambda: grad(Value(1.0) * 2, [1.0]), TypeError, "grad: input 0 is a float, not a node", id="grad-input-not-a-node"),
    pytest.param(lambda: grad_of("output not a node"), TypeError, "grad: output 0 is a float, not a node", id="grad-output-not-a-node"),
    pytest.param(lambda: grad(Value(1.0) * 2, [Value(1.0, requires_grad=False)]), RuntimeError, "grad: input 0 does not require grad", id="grad-input-without-requires-grad"),
    pytest.param(lambda: grad_of("too few grad_outputs"), ValueError, "grad: 1 grad_outputs for 2 outputs", id="grad-too-few-grad-outputs"),
    pytest.param(lambda: tape_gradient("x", twice=True), RuntimeError, "use Tape(persistent=True)", id="tape-gradient-twice"),
    pytest.param(lambda: tape_gradient([1.0]), TypeError, "Tape.gradient sources must be nodes, got float", id="tape-source-in-list-not-a-node"),
    pytest.param(lambda: tape_gradient(1.0), TypeError, "Tape.gradient sources must be nodes, got float", id="tape-source-not-a-node"),
    pytest.param(lambda: tape_gradient("x", after_backward=True), RuntimeError, "released by a backward() without retain_graph=True", id="tape-gradient-after-backward-freed-it"),
    # --- mixing node types, operand types ---
    pytest.param(lambda: Value(1.0) + Tensor(1.0), TypeError, "add: cannot mix Tensor and Value operands", id="value-plus-tensor"),
    pytest.param(lambda: Tensor([1.0]) * Value(1.0), TypeError, "mul: cannot mix Tensor and Value operands", id="tensor-times-value"),
    pytest.param(lambda: Value(2.0) ** Tensor(2.0), TypeError, "pow: cannot mix Tensor and Value operands", id="value-pow-tensor"),
    pytest.param(lambda: maximum(Value(1.0), Tensor(1.0)), TypeError, "cannot mix Tensor and Value", id="maximum-of-value-and-tensor"),
    pytest.param(lambda: AF.cat([Tensor([1.0]), Value(1.0)]), TypeError, "cat takes tensors, not Values", id="cat-with-a-value"),
    pytest.param(lambda: Value(1.0) + "a", TypeError, "unsupported operand type(s) for +: 'Value' and 'str'", id="value-plus-str"),
    pytest.param(lambda: Value(1.0) * None, TypeError, "unsupported operand type(s) for *: 'Value' and 'NoneType'", id="value-times-none"),
    pytest.param(lambda: np.ones(2) * Value(1.0), TypeError, "unsupported operand type(s) for *: 'numpy.ndarray' and 'Value'", id="array-times-value"),
    pytest.param(lambda: Tensor([1.0]) + "a", TypeError, "add: unsupported operand type str", id="tensor-plus-str"),
    pytest.param(lambda: Tensor([1.0]) + None, TypeError, "add: unsupported operand type NoneType", id="tensor-plus-none"),
    pytest.param(lambda: Tensor([1.0]) + {}, TypeError, "add: cannot use object data (dict) with tensors", id="tensor-plus-dict"),
    pytest.param(lambda: Value(1.0) < "a", TypeError, "cannot compare Value with str", id="value-compared-with-str"),
    pytest.param(lambda: maximum(Value(1.0), "a"), TypeError, "maximum argument must be a real number, got str", id="maximum-with-str"),
    pytest.param(lambda: Value(1.0).leaky_relu("a"), TypeError, "leaky_relu slope must be a real number", id="leaky-relu-slope-str"),
    # --- constructing nodes ---
    pytest.param(lambda: Value("1.0"), TypeError, "Value data must be a real number, got str", id="value-from-str"),
    pytest.param(lambda: Value(1j), TypeError, "Value data must be a real number, got complex", id="value-from-complex"),
    pytest.param(lambda: Value(np.ones(2)), TypeError, "Value data must be a real number, got ndarray", id="value-from-array"),
    pytest.param(lambda: Tensor("abc"), TypeError, "tensors hold numbers or bools, not <U3", id="tensor-from-str"),
    pytest.param(lambda: Tensor([1j]), TypeError, "tensors hold numbers or bools, not complex128", id="tensor-from-complex"),
    pytest.param(lambda: Tensor([[1.0], [1.0, 2.0]]), TypeError, "cannot make a tensor from list", id="tensor-from-ragged-list"),
    pytest.param(lambda: nn.Parameter(["a"]), TypeError, "tensors hold numbers or bools", id="parameter-from-str"),
    # --- shapes on tensors ---
    pytest.param(lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3))), ValueError, "matmul of tensors of shapes (2, 3) and (2, 3)", id="matmul-shape-mismatch"),
    pytest.param(lambda: Tensor(np.ones(2)) + Tensor(np.ones(3)), ValueError, "add of tensors of shapes (2,) and (3,)", id="add-not-broadcastable"),
    pytest.param(lambda: Tensor([1.0, 2.0]).item(), ValueError, "item(): the tensor has 2 elements, not 1", id="item-of-two-elements"),
    pytest.param(lambda: bool(Tensor([1.0, 2.0])), ValueError, "truth value of a tensor with more than one element is ambiguous", id="bool-of-two-elements"),
    pytest.param(lambda: len(Tensor(1.0)), TypeError, "len() of a 0-d tensor", id="len-of-0d"),
    # (numpy's AxisError is both a ValueError, as numpy raises, and an IndexError, as PyTorch does)
    pytest.param(lambda: Tensor([1.0]).sum(axis=3), np.exceptions.AxisError, "axis 3 is out of range for a tensor with 1 dimensions", id="sum-axis-out-of-range"),
    pytest.param(lambda: Tensor(np.ones((2, 3))).sum(axis=(0, 2)), np.exceptions.AxisError, "axis 2 is out of range for a tensor with 2 dimensions", id="sum-axis-tuple-out-of-range"),
    pytest.param(lambda: Tensor(np.ones((2, 3))).mean(axis=(1, -1)), ValueError, "axis (1, -1) names an axis more than once", id="mean-axis-repeated"),
    pytest.param(lambda: Tensor(np.ones((2, 3))).sum(axis=0.5), TypeError, "axis must be an integer, got float 0.5", id="sum-axis-float"),
    pytest.param(lambda: Tensor(np.ones((2, 3))).permute(0, 2), np.exceptions.AxisError, "permute: axis 2 is out of range for a tensor with 2 dimensions", id="permute-axis-out-of-range"),
    pytest.param(lambda: Tensor(np.ones((2, 3))).unsqueeze(3), np.exceptions.AxisError, "unsqueeze: axis 3 is out of range for a tensor with 2 dimensions (from -3 to 2)", id="unsqueeze-axis-out-of-range"),
    pytest.param(lambda: Tensor(np.ones((1, 3))).squeeze(2), np.exceptions.AxisError, "squeeze: axis 2 is out of range", id="squeeze-axis-out-of-range"),
    pytest.param(lambda: Tensor(np.ones((2, 3))).split(1, axis=2), np.exceptions.AxisError, "split: axis 2 is out of range", id="split-axis-out-of-range"),
    pytest.param(lambda: Tensor(np.ones((2, 3))).swapaxes(0, 2), np.exceptions.AxisError, "axis 2 is out of range", id="swapaxes-axis-out-of-range"),
    pytest.param(lambda: Tensor(np.ones((2, 3, 4))).flatten(2, 1), ValueError, "flatten: start_dim 2 comes after end_dim 1", id="flatten-start-after-end"),
    pytest.param(lambda: Tensor(np.ones((1, 4))).expand(4), ValueError, "expand: shape (4,) has fewer dimensions than the tensor's (1, 4)", id="expand-fewer-dimensions"),
    pytest.param(lambda: Tensor(np.ones(3)).expand(-1, 3), ValueError, "expand: -1 (keep the size) in (-1, 3) names a new leading axis", id="expand-minus-one-on-new-axis"),
    pytest.param(lambda: Tensor(np.ones(3)).clip(Tensor(0.0), 1.0), TypeError, "clip: min and max are numbers or arrays, not tensors", id="clip-tensor-bounds"),
    pytest.param(step_with_misshapen_grad, ValueError, "a parameter of shape (3,) has a .grad of shape (2, 3)", id="optimizer-step-with-misshapen-grad"),
    pytest.param(backward_into_misshapen_grad, RuntimeError, "the .grad of a tensor of shape (3,) holds an array of shape (2, 3)", id="backward-into-misshapen-grad"),
    pytest.param(lambda: Tensor(1.0).split(1), ValueError, "split: a 0-d tensor has no axis to split", id="split-0d"),
    pytest.param(lambda: Tensor(np.ones((2, 3))).permute(0, 0), ValueError, "is not a permutation of the axes", id="permute-repeated-axis"),
    pytest.param(lambda: Tensor(np.ones((2, 3))).squeeze(0), ValueError, "squeeze: axis 0 of shape (2, 3) has size 2, not 1", id="squeeze-non-unit-axis"),
    pytest.param(lambda: Tensor(np.ones((2, 3))).expand(4, 3), ValueError, "expand: shape (2, 3) cannot be broadcast to (4, 3)", id="expand-incompatible"),
    pytest.param(lambda: Tensor(np.ones(4)).split([1, 2]), ValueError, "split: sizes [1, 2] do not add up to 4", id="split-sizes-short"),
    pytest.param(lambda: Tensor([1.0]).transpose(0, 1, 2), TypeError, "transpose takes no axes, two axes to swap", id="transpose-three-axes"),
    pytest.param(lambda: AF.cat([]), ValueError, "cat needs at least one tensor", id="cat-of-nothing"),
    # --- one_hot ---
    pytest.param(lambda: one_hot(np.array([0.5])), TypeError, "one_hot needs integer indices, got float64", id="one-hot-float-indices"),
    pytest.param(lambda: one_hot(np.array([-1])), ValueError, "one_hot: indices must be non-negative", id="one-hot-negative-index"),
    pytest.param(lambda: one_hot(np.array([3]), num_classes=3), ValueError, "one_hot: index 3 is out of range for 3 classes", id="one-hot-index-too-large"),
    # --- functional transforms ---
    pytest.param(lambda: AF.grad(lambda x: x * 2)(np.ones(2)), TypeError, "grad needs a function with a scalar output", id="transform-grad-of-non-scalar"),
    pytest.param(lambda: AF.grad(lambda x: x, argnums=5)(1.0), ValueError, "argnums 5 is out of range", id="transform-argnums-out-of-range"),
    pytest.param(lambda: AF.grad(lambda x, y: x * y, argnums=(0, -2))(1.0, 2.0), ValueError, "argnums (0, -2) names an argument more than once", id="transform-argnums-repeated"),
    pytest.param(lambda: AF.grad(lambda x: (x.sum(), x))(np.ones(2)), TypeError, "got tuple: use jacobian or vjp (or, for a (value, aux) pair, pass has_aux=True)", id="transform-grad-of-a-pair"),
    pytest.param(lambda: AF.jvp(lambda x: x, 1.0, 2.0), TypeError, "jvp: primals is a tuple with one entry per argument of f, got float", id="transform-jvp-primals-not-a-tuple"),
    pytest.param(lambda: AF.grad(lambda x: x, argnums=())(1.0), ValueError, "argnums is empty", id="transform-argnums-empty"),
    pytest.param(lambda: AF.grad(lambda x: x)("a"), TypeError, "cannot differentiate with respect to a str", id="transform-grad-of-str-argument"),
    pytest.param(lambda: AF.grad(lambda x: x, has_aux=True)(1.0), TypeError, "has_aux=True needs the function to return a pair", id="transform-has-aux-without-pair"),
    pytest.param(lambda: AF.hessian(lambda x, y: x * y, argnums=(0, 1))(1.0, 2.0), ValueError, "hessian takes one argnums", id="hessian-two-argnums"),
    pytest.param(lambda: AF.jacobian(lambda x: "a")(np.ones(2)), TypeError, "jacobian needs a function returning one Value or Tensor, got str", id="jacobian-of-non-node"),
    pytest.param(lambda: AF.jvp(lambda x: x * 2, (np.ones(2),), (np.ones(3),)), ValueError, "jvp: tangent 0 has shape (3,) but its primal has shape (2,)", id="jvp-tangent-shape"),
    pytest.param(lambda: AF.vjp(lambda x: x * 2, np.ones(2))[1](np.ones(3)), ValueError, "vjp: cotangent has shape (3,) but the output has shape (2,)", id="vjp-cotangent-shape"),
    # --- optimisers ---
    pytest.param(lambda: SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list", id="optimizer-without-parameters"),
    pytest.param(lambda: SGD(nn.Parameter([1.0]), lr=0.1), TypeError, "not a single Parameter", id="optimizer-given-one-parameter"),
    pytest.param(lambda: SGD([np.zeros(2)], lr=0.1), TypeError, "can only update Tensor or Value parameters, got ndarray", id="optimizer-given-an-array"),
    pytest.param(lambda: SGD(params() * 2, lr=0.1), ValueError, "contains the same parameter twice", id="optimizer-same-parameter-twice"),
    pytest.param(add_a_parameter_already_held, ValueError, "appear in more than one parameter group", id="optimizer-parameter-in-two-groups"),
    pytest.param(lambda: SGD([{"params": set(params())}], lr=0.1), TypeError, "parameters should be an ordered iterable", id="optimizer-group-of-a-set"),
    pytest.param(lambda: SGD(set(params()), lr=0.1), TypeError, "parameters should be an ordered iterable", id="optimizer-given-a-set"),
    pytest.param(lambda: sgd(lr=-0.1), ValueError, "invalid lr: -0.1 (it must be >= 0)", id="sgd-negative-lr"),
    pytest.param(lambda: Adam(params(), lr=float("nan")), ValueError, "invalid lr: nan", id="adam-nan-lr"),
    pytest.param(lambda: Adam(params(), betas=(1.0, 0.999)), ValueError, "invalid betas[0]: 1.0 (it must be in [0, 1))", id="adam-beta1-one"),
    pytest.param(lambda: Adam(params(), betas=(0.9, -0.1)), ValueError, "invalid betas[1]: -0.1", id="adam-beta2-negative"),
    pytest.param(lambda: Adam(params(), betas=(float("nan"), 0.9)), ValueError, "invalid betas[0]: nan", id="adam-beta1-nan"),
    pytest.param(lambda: Adam(params(), betas=(0.9, 0.9, 0.9)), ValueError, "(it must be a pair)", id="adam-three-betas"),
    pytest.param(lambda: Adam(params(), eps=-1e-8), ValueError, "invalid eps", id="adam-negative-eps"),
    pytest.param(lambda: AdamW(params(), weight_decay=-0.01), ValueError, "invalid weight_decay: -0.01", id="adamw-negative-weight-decay"),
    pytest.param(lambda: sgd(weight_decay=-1.0), ValueError, "invalid weight_decay: -1.0", id="sgd-negative-weight-decay"),
    pytest.param(lambda: sgd(momentum=-0.5), ValueError, "invalid momentum: -0.5", id="sgd-negative-momentum"),
    pytest.param(lambda: sgd(momentum=0.9, dampening=0.1, nesterov=True), ValueError, "nesterov momentum requires a momentum > 0 and zero dampening", id="sgd-nesterov-with-dampening"),
    pytest.param(lambda: sgd(nesterov=True), ValueError, "nesterov momentum requires a momentum > 0", id="sgd-nesterov-without-momentum"),
    pytest.param(lambda: RMSprop(params(), alpha=-0.9), ValueError, "invalid alpha: -0.9", id="rmsprop-negative-alpha"),
    pytest.param(lambda: RMSprop(params(), momentum=-1.0), ValueError, "invalid momentum: -1.0", id="rmsprop-negative-momentum"),
    pytest.param(lambda: Adagrad(params(), lr_decay=-1.0), ValueError, "invalid lr_decay: -1.0", id="adagrad-negative-lr-decay"),
    pytest.param(lambda: Adagrad(params(), initial_accumulator_value=-1.0), ValueError, "invalid initial_accumulator_value: -1.0", id="adagrad-negative-initial-accumulator"),
    pytest.param(lambda: SGD([{"params": params(), "lr": -1.0}], lr=0.1), ValueError, "invalid lr: -1.0", id="param-group-negative-lr"),
    pytest.param(lambda: sgd().add_param_group({"params": params(), "momentum": -1.0}), ValueError, "invalid momentum: -1.0", id="add-param-group-negative-momentum"),
    pytest.param(lambda: sgd().load_state_dict({"state": {}, "param_groups": []}), ValueError, "loaded state dict has 0 parameter groups, but the optimizer has 1", id="optimizer-load-state-dict-group-count"),
    pytest.param(lambda: StepLR(sgd(), step_size=0), ValueError, "invalid step_size: 0 (it must be > 0)", id="steplr-step-size-zero"),
    pytest.param(lambda: CosineAnnealingLR(sgd(), T_max=0), ValueError, "invalid T_max: 0", id="cosine-t-max-zero"),
    pytest.param(lambda: LinearLR(sgd(), start_factor=0), ValueError, "invalid start_factor: 0 (it must be in (0, 1])", id="linearlr-start-factor-zero"),
    pytest.param(lambda: LambdaLR(sgd(), [abs, abs]), ValueError, "expected 1 lr_lambdas (one per parameter group), but got 2", id="lambdalr-too-many-lambdas"),
    pytest.param(lambda: StepLR(object(), step_size=1), TypeError, "object is not an Optimizer", id="scheduler-without-optimizer"),
    pytest.param(lambda: ReduceLROnPlateau(sgd(), factor=1.0), ValueError, "invalid factor: 1.0 (it must be in [0, 1))", id="plateau-factor-one"),
    pytest.param(lambda: ReduceLROnPlateau(sgd(), mode="minimum"), ValueError, "invalid mode: 'minimum' (it must be 'min' or 'max')", id="plateau-unknown-mode"),
    pytest.param(lambda: OneCycleLR(sgd(), max_lr=1.0), ValueError, "OneCycleLR needs total_steps, or epochs and steps_per_epoch", id="onecycle-without-length"),
    pytest.param(lambda: OneCycleLR(Adagrad(params()), max_lr=1.0, total_steps=5), ValueError, "Adagrad has no momentum or betas for cycle_momentum to cycle: pass cycle_momentum=False", id="onecycle-cycle-momentum-adagrad"),
    pytest.param(lambda: CosineAnnealingWarmRestarts(sgd(), T_0=0), ValueError, "invalid T_0: 0 (it must be a positive integer)", id="warm-restarts-t0-zero"),
    pytest.param(lambda: SequentialLR(sgd(), [StepLR(sgd(), 2)], milestones=[]), ValueError, "SequentialLR expects all schedulers to belong to the same optimizer", id="sequential-other-optimizer"),
    # --- load_state_dict ---
    pytest.param(lambda: nn.Linear(2, 3).load_state_dict(linear_state(bias=None)), KeyError, "missing keys ['bias']", id="load-state-dict-missing-key"),
    pytest.param(lambda: nn.Linear(2, 3).load_state_dict(linear_state(extra=np.zeros(1))), KeyError, "unexpected keys ['extra']", id="load-state-dict-unexpected-key"),
    pytest.param(lambda: nn.Linear(2, 3).load_state_dict(linear_state(weight=np.zeros((2, 3)))), ValueError, "'weight' has shape (2, 3) in the state dict but (3, 2) in the model", id="load-state-dict-wrong-shape"),
    pytest.param(lambda: nn.Linear(2, 3).load_state_dict(linear_state(bias=np.array(["a", "b", "c"]))), ValueError, "'bias' holds <U1 data, not numbers", id="load-state-dict-strings"),
    # --- data ---
    pytest.param(lambda: loader(batch_size=0), ValueError, "batch_size must be a positive integer, got 0", id="dataloader-batch-size-zero"),
    pytest.param(lambda: loader(batch_size=-1), ValueError, "batch_size must be a positive integer, got -1", id="dataloader-batch-size-negative"),
    pytest.param(lambda: loader(batch_size=True), ValueError, "batch_size must be a positive integer, got True", id="dataloader-batch-size-bool"),
    pytest.param(lambda: loader(batch_size=2.0), ValueError, "batch_size must be a positive integer, got 2.0", id="dataloader-batch-size-float"),
    pytest.param(lambda: loader(seed=0, generator=np.random.default_rng(0)), ValueError, "takes a seed or a generator, not both", id="dataloader-seed-and-generator"),
    pytest.param(lambda: loader(generator=42), TypeError, "generator must be a numpy Generator, not int (pass an int as seed=)", id="dataloader-int-generator"),
    pytest.param(lambda: TensorDataset(np.ones(3), np.ones(4)), ValueError, "tensors differ in size along dim 0: [3, 4]", id="tensordataset-sizes-differ"),
    pytest.param(lambda: TensorDataset(), ValueError, "TensorDataset needs at least one tensor", id="tensordataset-empty"),
    pytest.param(lambda: random_split(TensorDataset(np.arange(10)), [3, 6]), ValueError, "random_split: the lengths sum to 9, but the dataset has 10 samples", id="random-split-lengths-sum"),
    pytest.param(lambda: random_split(TensorDataset(np.arange(10)), [0.5, 0.4]), ValueError, "lengths must be non-negative integers or fractions summing to 1", id="random-split-fractions-sum"),
    pytest.param(lambda: ConcatDataset([TensorDataset(np.arange(2))])[2], IndexError, "index 2 is out of range for a ConcatDataset of 2 samples", id="concat-dataset-index-out-of-range"),
    pytest.param(lambda: make_moons("x"), ValueError, "n_samples must be an int or a pair (outer, inner)", id="make-moons-bad-n-samples"),
    # --- losses ---
    pytest.param(lambda: nn.MSELoss(reduction="avg"), ValueError, "MSELoss: reduction='avg' is not one of 'mean', 'sum', 'none'", id="loss-unknown-reduction"),
    pytest.param(lambda: nn.CrossEntropyLoss(reduction="max"), ValueError, "CrossEntropyLoss: reduction='max' is not one of", id="cross-entropy-unknown-reduction"),
    pytest.param(lambda: nn.functional.mse_loss(Tensor([1.0]), Tensor([1.0]), reduction="avg"), ValueError, "mse_loss: reduction='avg' is not one of", id="functional-loss-unknown-reduction"),
    pytest.param(lambda: nn.functional.mse_loss(Tensor(np.ones(3)), Tensor(np.ones(2))), ValueError, "target shape (2,) differs from input shape (3,)", id="mse-shape-mismatch"),
    pytest.param(lambda: nn.MSELoss()(np.ones(2), np.ones(2)), TypeError, "mse_loss: input must be a Tensor, a Value or a list of Values, got ndarray", id="mse-of-arrays"),
    pytest.param(lambda: nn.functional.cross_entropy(Tensor(np.ones((2, 3))), np.array([0, 3])), IndexError, "target class 3 is out of range for 3 classes", id="cross-entropy-class-out-of-range"),
    pytest.param(lambda: nn.functional.cross_entropy(Tensor(np.ones((2, 3), int)), np.array([0, 1])), TypeError, "input must be a floating point tensor, got int64", id="cross-entropy-int-input"),
    pytest.param(lambda: nn.functional.nll_loss(Tensor(np.ones((2, 3))), np.array([0.0, 1.0])), TypeError, "class-index targets must be integers, got float64", id="nll-float-targets"),
    pytest.param(lambda: nn.CrossEntropyLoss(label_smoothing=1.5)(Tensor(np.ones((2, 3))), np.array([0, 1])), ValueError, "label_smoothing must be between 0.0 and 1.0, got 1.5", id="cross-entropy-label-smoothing"),
    pytest.param(lambda: nn.HingeLoss()(Tensor(np.ones(3)), Tensor([0.0, 1.0, 1.0])), ValueError, "hinge_loss: labels must be -1 or +1", id="hinge-zero-labels"),
    pytest.param(lambda: nn.BCELoss()(Tensor([1.5]), Tensor([1.0])), ValueError, "every input element must be between 0 and 1, got 1.5", id="bce-probability-above-one"),
    # --- layers ---
    pytest.param(lambda: nn.Linear(3, 2)(Tensor(np.ones((1, 2)))), ValueError, "input has shape (1, 2), expected (*, 3)", id="linear-wrong-features"),
    pytest.param(lambda: nn.Linear(3, 2)(Tensor(1.0)), ValueError, "input has shape (), expected (*, 3)", id="linear-0d-input"),
    pytest.param(lambda: nn.Linear(3, 2)(np.ones((1, 3))), TypeError, "expects a Tensor, got ndarray", id="linear-array-input"),
    pytest.param(lambda: nn.Linear(-1, 2), ValueError, "Linear: in_features must be a non-negative integer, got -1", id="linear-negative-size"),
    pytest.param(lambda: nn.Linear(2, True), ValueError, "Linear: out_features must be a non-negative integer, got True", id="linear-bool-size"),
    pytest.param(lambda: nn.Linear(2, 2, generator="abc"), TypeError, "generator must be a numpy Generator or an int seed", id="linear-str-generator"),
    pytest.param(lambda: nn.BatchNorm1d(3)(Tensor(np.ones((4, 2)))), ValueError, "input has shape (4, 2), expected 3 channels in dimension 1", id="batchnorm-wrong-channels"),
    pytest.param(lambda: nn.BatchNorm1d(3).eval()(Tensor(np.ones((4, 2)))), ValueError, "expected 3 channels in dimension 1", id="batchnorm-eval-wrong-channels"),
    pytest.param(lambda: nn.BatchNorm1d(3)(Tensor(np.ones(3))), ValueError, "expected 2-d (N, C) or 3-d (N, C, L) input, got shape (3,)", id="batchnorm-1d-input"),
    pytest.param(lambda: nn.BatchNorm1d(3)(Tensor(np.ones((1, 3)))), ValueError, "expected more than 1 value per channel when training", id="batchnorm-batch-of-one"),
    pytest.param(lambda: nn.BatchNorm1d(3)(np.ones((2, 3))), TypeError, "expects a Tensor", id="batchnorm-array-input"),
    pytest.param(lambda: nn.LayerNorm(3)(Tensor(np.ones((4, 2)))), ValueError, "input has shape (4, 2), expected (*, 3)", id="layernorm-wrong-last-dim"),
    pytest.param(lambda: nn.LayerNorm((2, 3))(Tensor(np.ones(3))), ValueError, "input has shape (3,), expected (*, 2, 3)", id="layernorm-too-few-dims"),
    pytest.param(lambda: nn.functional.layer_norm(Tensor(np.ones((2, 3))), (4,)), ValueError, "does not end in the normalized shape (4,)", id="functional-layernorm-shape"),
    pytest.param(lambda: nn.MLP(2, [4], 1, activation="swish"), ValueError, "MLP: unknown activation 'swish'", id="mlp-unknown-activation"),
    pytest.param(lambda: nn.MLP(2, [4], 1, activation="ReLU"), ValueError, "MLP: unknown activation 'ReLU'", id="mlp-activation-wrong-case"),
    pytest.param(lambda: nn.Dropout(1.5), ValueError, "Dropout: p must be between 0 and 1, got 1.5", id="dropout-p-above-one"),
    pytest.param(lambda: nn.Dropout(-0.1), ValueError, "Dropout: p must be between 0 and 1, got -0.1", id="dropout-p-negative"),
    pytest.param(lambda: nn.Dropout(float("nan")), ValueError, "Dropout: p must be between 0 and 1, got nan", id="dropout-p-nan"),
    pytest.param(lambda: nn.functional.dropout(Tensor([1.0]), 2.0), ValueError, "dropout probability has to be between 0 and 1, got 2.0", id="functional-dropout-p"),
    pytest.param(lambda: nn.GELU("fast"), ValueError, "GELU: approximate must be 'none' or 'tanh', got 'fast'", id="gelu-unknown-approximation"),
    pytest.param(lambda: nn.Flatten(2)(Tensor(np.ones((2, 3)))), ValueError, "has no dimension 2 to flatten from", id="flatten-missing-dim"),
    pytest.param(lambda: nn.Sequential(3), TypeError, "Sequential: item 0 is a int, not a Module", id="sequential-of-int"),
    pytest.param(lambda: nn.ModuleList([3]), TypeError, "ModuleList: int is not a Module", id="modulelist-of-int"),
    pytest.param(lambda: nn.Module()(1), NotImplementedError, "Module has no forward()", id="module-without-forward"),
    pytest.param(lambda: nn.Module().register_buffer("a.b", np.zeros(1)), KeyError, "buffer name must be an identifier, got 'a.b'", id="buffer-with-dotted-name"),
    pytest.param(lambda: nn.scalar.MLP(2, [3, 1])([1.0]), ValueError, "got 1 inputs, expected 2", id="scalar-mlp-wrong-input-count"),
    # --- nn.init and nn.utils ---
    pytest.param(lambda: nn.init.xavier_uniform_(Tensor(np.zeros(3))), ValueError, "fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape (3,))", id="xavier-uniform-on-1d"),
    pytest.param(lambda: nn.init.xavier_normal_(Tensor(np.zeros(3))), ValueError, "fan in and fan out can not be computed", id="xavier-normal-on-1d"),
    pytest.param(lambda: nn.init.kaiming_uniform_(Tensor(np.zeros(3))), ValueError, "fan in and fan out can not be computed", id="kaiming-uniform-on-1d"),
    pytest.param(lambda: nn.init.kaiming_normal_(Tensor(np.zeros(3))), ValueError, "fan in and fan out can not be computed", id="kaiming-normal-on-1d"),
    pytest.param(lambda: nn.init.lecun_normal_(Tensor(np.zeros(3))), ValueError, "fan in and fan out can not be computed", id="lecun-normal-on-1d"),
    pytest.param(lambda: nn.init.lecun_uniform_(Tensor(0.0)), ValueError, "fewer than 2 dimensions (shape ())", id="lecun-uniform-on-0d"),
    pytest.param(lambda: nn.init.kaiming_normal_(Tensor(np.zeros((3, 3))), mode="fan_x"), ValueError, "mode 'fan_x' not supported", id="kaiming-unknown-mode"),
    pytest.param(lambda: nn.init.calculate_gain("swish"), ValueError, "unsupported nonlinearity 'swish'", id="gain-unknown-nonlinearity"),
    pytest.param(lambda: nn.init.calculate_gain("leaky_relu", "a"), ValueError, "negative_slope 'a' is not a valid number", id="gain-str-slope"),
    pytest.param(lambda: nn.init.normal_(Tensor(np.zeros(3, int))), TypeError, "nn.init.normal_ needs a floating point tensor, got int64", id="init-int-tensor"),
    pytest.param(lambda: nn.init.normal_(np.zeros(3)), TypeError, "nn.init.normal_ takes a Tensor, not ndarray", id="init-array"),
    pytest.param(clip_with_a_nan_gradient, RuntimeError, "gradients is non-finite (nan)", id="clip-grad-norm-nan"),
    pytest.param(lambda: nn.utils.vector_to_parameters(np.ones(3), params()), ValueError, "the vector has 3 elements but the parameters have 2", id="vector-to-parameters-size"),
    pytest.param(lambda: nn.utils.parameters_to_vector([np.ones(2)]), TypeError, "parameters_to_vector takes Tensor parameters, not ndarray", id="parameters-to-vector-of-arrays"),
    # --- viz: the expression parser and draw_dot ---
    pytest.param(lambda: parse("x.__class__"), ExpressionError, "attribute access 'x.__class__' is not allowed (column 1)", id="parse-attribute"),
    pytest.param(lambda: parse("__import__('os')"), ExpressionError, "name '__import__' is not allowed", id="parse-dunder-call"),
    pytest.param(lambda: parse("y + 1"), ExpressionError, "unknown name 'y' (column 1); known variables: x", id="parse-unknown-variable"),
    pytest.param(lambda: parse("foo(x)"), ExpressionError, "unknown function 'foo'", id="parse-unknown-function"),
    pytest.param(lambda: parse("x +"), ExpressionError, "syntax error", id="parse-syntax-error"),
    pytest.param(lambda: parse(""), ExpressionError, "empty expression", id="parse-empty"),
    pytest.param(lambda: parse("x+" * 6000 + "x"), ExpressionError, "expression is too long: 12,001 characters", id="parse-too-long"),
    pytest.param(lambda: parse("(" * 300 + "x" + ")" * 300), ExpressionError, "too many nested parentheses", id="parse-too-deep-for-python"),
    pytest.param(lambda: parse("-" * 250 + "x"), ExpressionError, "nested more than 200 levels deep", id="parse-deeper-than-max-depth"),
    pytest.param(lambda: parse("lambda: 1"), ExpressionError, "lambda 'lambda: 1' is not allowed", id="parse-lambda"),
    pytest.param(lambda: parse("x[0]"), ExpressionError, "subscript 'x[0]' is not allowed", id="parse-subscript"),
    pytest.param(lambda: parse("x < 1"), ExpressionError, "comparison 'x < 1' is not allowed", id="parse-comparison"),
    pytest.param(lambda: parse("x // 2"), ExpressionError, "operator '//' in 'x // 2' is not allowed", id="parse-floor-division"),
    pytest.param(lambda: parse("x and x"), ExpressionError, "boolean operator 'and'", id="parse-boolean-operator"),
    pytest.param(lambda: parse("exp(x=1)"), ExpressionError, "keyword argument 'x=1' is not allowed (column 5)", id="parse-keyword-argument"),
    pytest.param(lambda: parse("exp(x, x)"), ExpressionError, "exp() takes 1 argument, got 2", id="parse-too-many-arguments"),
    pytest.param(lambda: parse("f'{x}'"), ExpressionError, "f-string", id="parse-f-string"),
    pytest.param(lambda: parse("(y := 1)"), ExpressionError, "assignment expression (:=)", id="parse-walrus"),
    pytest.param(lambda: parse("'a'"), ExpressionError, "string \"'a'\" is not allowed", id="parse-string-literal"),
    pytest.param(lambda: parse("exp"), ExpressionError, "function 'exp' must be called, as exp(...)", id="parse-uncalled-function"),
    pytest.param(lambda: parse("9" * 400), ExpressionError, "is too large", id="parse-huge-integer"),
    pytest.param(lambda: parse("leaky_relu(x, x)"), ExpressionError, "the slope of leaky_relu must be a number", id="parse-variable-slope"),
    pytest.param(lambda: parse(3), TypeError, "expression must be a string, got int", id="parse-non-string"),
    pytest.param(lambda: parse_assignments(["x"]), ExpressionError, "expected NAME=NUMBER, got 'x'", id="assignment-without-equals"),
    pytest.param(lambda: parse_assignments(["__x=1"]), ExpressionError, "names starting with '__' are not allowed", id="assignment-dunder-name"),
    pytest.param(lambda: parse_assignments(["exp=1"]), ExpressionError, "'exp' is a function name", id="assignment-function-name"),
    pytest.param(lambda: parse_assignments(["x=1", "x=2"]), ExpressionError, "'x' is assigned twice", id="assignment-twice"),
    pytest.param(lambda: parse_assignments(["x=abc"]), ExpressionError, "'abc' is not a number (in 'x=abc')", id="assignment-not-a-number"),
    pytest.param(lambda: draw_dot(Value(1.0), rankdir="UP"), ValueError, "rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got 'UP'", id="draw-dot-bad-rankdir"),
]


@pytest.mark.parametrize("call, error_type, fragment", MISUSES)
def test_misuse_raises_a_clear_error(call, error_type, fragment):
    with pytest.raises(error_type, match=re.escape(fragment)) as caught:
        call()
    assert type(caught.value) is error_type  # exactly, not a subclass


def test_the_table_is_large_and_its_ids_are_unique():
    ids = [row.id for row in MISUSES]
    assert len(ids) >= 50 and len(set(ids)) == len(ids)


# ----- an index saved for backward is also an array saved for backward -----
def fancy_index(kind):
    index = np.array([0, 1])
    return {"array": index, "list": [0, 1], "tensor": Tensor(index)}[kind]


@pytest.mark.parametrize("kind", ["array", "list", "tensor"])
def test_changing_an_index_after_the_forward_pass_cannot_change_the_gradient(kind):
    x = leaf(1.0, 2.0, 3.0)
    index = fancy_index(kind)
    loss = x[index].sum()  # picks x[0] and x[1]
    try:
        # Either refused, as writes into arrays saved for backward are...
        if kind == "tensor":
            index.data[0] = 2
        else:
            index[0] = 2
    except ValueError:
        pass
    loss.backward()  # ...or harmless: backward is that of the forward pass that ran
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 0.0])
