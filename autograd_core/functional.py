"""Functions of ``Value``s and ``Tensor``s, with PyTorch's names (``torch.*`` / ``F.*``).

Elementwise functions take either node type (or plain numbers and arrays, giving plain
results); the others take tensors.

    >>> from autograd_core import Tensor, functional as F
    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> F.softmax(x, axis=1).sum(axis=1)
    Tensor([1., 1.], op='sum')

It also holds the function transforms of :mod:`autograd_core.transforms` (``grad``,
``value_and_grad``, ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``).
"""
from __future__ import annotations

import numpy as np

from . import ops
from .tensor import Tensor, one_hot
from .transforms import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .value import Value, maximum, minimum

__all__ = ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu",
           "softplus", "erf", "abs", "clip", "clamp", "maximum", "minimum", "where", "sum", "mean",
           "max", "min", "var", "std", "reshape", "transpose", "permute", "squeeze",
           "unsqueeze", "expand", "broadcast_to", "flatten", "matmul", "cat", "concatenate",
           "stack", "split", "softmax", "log_softmax", "logsumexp", "one_hot",
           # function transforms (autograd_core.transforms)
           "grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp"]

exp, log, sqrt, sin, cos, tanh = ops.exp, ops.log, ops.sqrt, ops.sin, ops.cos, ops.tanh
sigmoid, relu, softplus, erf, abs = ops.sigmoid, ops.relu, ops.softplus, ops.erf, ops.absolute
matmul = ops.matmul


def leaky_relu(x, negative_slope: float = 0.01):
    return ops.leaky_relu(x, float(negative_slope))


def _tensor(x, what) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, Value):
        raise TypeError(f"{what} takes tensors, not Values")
    return Tensor(x)


def clip(x, min=None, max=None):
    return _tensor(x, "clip").clip(min, max)


clamp = clip


def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y`` (both broadcast; no gradient to ``condition``)."""
    if not any(isinstance(v, Tensor) for v in (x, y)):
        x = _tensor(x, "where")
    return ops.where(condition.data if isinstance(condition, Tensor) else condition, x, y)


def sum(x, axis=None, keepdims=False):
    return _tensor(x, "sum").sum(axis, keepdims)


def mean(x, axis=None, keepdims=False):
    return _tensor(x, "mean").mean(axis, keepdims)


def max(x, axis=None, keepdims=False):
    return _tensor(x, "max").max(axis, keepdims)


def min(x, axis=None, keepdims=False):
    return _tensor(x, "min").min(axis, keepdims)


def var(x, axis=None, keepdims=False, correction=1):
    return _tensor(x, "var").var(axis, keepdims, correction)


def std(x, axis=None, keepdims=False, correction=1):
    return _tensor(x, "std").std(axis, keepdims, correction)


def reshape(x, shape):
    return _tensor(x, "reshape").reshape(shape)


def transpose(x, *axes):
    return _tensor(x, "transpose").transpose(*axes)


def permute(x, axes):
    return _tensor(x, "permute").permute(axes)


def squeeze(x, axis=None):
    return _tensor(x, "squeeze").squeeze(axis)


def unsqueeze(x, axis):
    return _tensor(x, "unsqueeze").unsqueeze(axis)


def expand(x, *shape):
    return _tensor(x, "expand").expand(*shape)


def broadcast_to(x, shape):
    return _tensor(x, "broadcast_to").broadcast_to(shape)


def flatten(x, start_dim=0, end_dim=-1):
    return _tensor(x, "flatten").flatten(start_dim, end_dim)


def cat(tensors, axis=0):
    """Join tensors along an existing axis (``torch.cat``)."""
    tensors = [_tensor(t, "cat") for t in tensors]
    if not tensors:
        raise ValueError("cat needs at least one tensor")
    axis = int(axis)
    try:
        sizes = [t.shape[axis] for t in tensors]
    except IndexError:
        raise ValueError(f"cat: axis {axis} is out of range for tensors of shapes "
                         f"{[t.shape for t in tensors][:4]}") from None
    return ops.cat(tensors, axis, tuple(np.cumsum([0, *sizes]).tolist()))


concatenate = cat


def stack(tensors, axis=0):
    """Join tensors along a new axis (``torch.stack``)."""
    tensors = [_tensor(t, "stack") for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    return ops.stack(tensors, int(axis))


def split(x, split_size_or_sections, axis=0):
    return _tensor(x, "split").split(split_size_or_sections, axis)


def softmax(x, axis=-1):
    return _tensor(x, "softmax").softmax(axis)


def log_softmax(x, axis=-1):
    return _tensor(x, "log_softmax").log_softmax(axis)


def logsumexp(x, axis=-1, keepdims=False):
    return _tensor(x, "logsumexp").logsumexp(axis, keepdims)
