"""Gradient clipping and flattening parameters into one vector (``torch.nn.utils``).

    >>> import numpy as np
    >>> from autograd_core import Tensor
    >>> from nn.utils import clip_grad_norm_
    >>> w = Tensor([0.0, 0.0], requires_grad=True)
    >>> w.grad = np.array([3.0, 4.0])
    >>> clip_grad_norm_([w], max_norm=1.0)  # the norm before clipping
    5.0
    >>> w.grad.round(6)
    array([0.6, 0.8])

Gradients are rebound (``p.grad = new``), never changed in place: the old array may be
read-only or held elsewhere. Scalar ``Value`` parameters (micrograd-style models, whose
``.grad`` is a float) are clipped too.
"""
import math

import numpy as np

from autograd_core import Tensor, Value
from autograd_core.functional import cat

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _as_list(parameters) -> list:
    return [parameters] if isinstance(parameters, (Tensor, Value)) else list(parameters)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Scale all gradients together so that their total norm is at most ``max_norm``.

    The total norm is that of all gradients joined into one vector (``norm_type`` 2, 1, any
    p, or ``math.inf`` for the largest absolute entry); parameters without a gradient are
    skipped. Every gradient is multiplied by min(1, max_norm / (total + 1e-6)), as in
    PyTorch, so the direction of the step is kept. Returns the total norm before clipping.

    A NaN or infinite total raises RuntimeError if ``error_if_nonfinite``; otherwise the
    gradients are scaled by it anyway (giving zeros and NaNs), as in PyTorch.

        >>> from autograd_core import Value
        >>> a, b = Value(1.0), Value(2.0)
        >>> a.grad, b.grad = 6.0, -8.0
        >>> clip_grad_norm_([a, b], max_norm=5.0, norm_type=math.inf)  # the largest |grad|
        8.0
        >>> round(a.grad, 4), round(b.grad, 4)  # 5/8 of what they were
        (3.75, -5.0)
    """
    parameters = [p for p in _as_list(parameters) if p.grad is not None]
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not parameters:
        return 0.0
    # The norm of the per-parameter norms is the norm of everything joined (any p, and inf).
    # Scalar Values go in as one vector: a micrograd MLP has hundreds of them.
    tensor_grads = [p.grad for p in parameters if not isinstance(p, Value)]
    value_grads = np.array([p.grad for p in parameters if isinstance(p, Value)], dtype=float)
    norms = [np.linalg.vector_norm(g, ord=norm_type) for g in tensor_grads]
    norms.append(np.linalg.vector_norm(value_grads, ord=norm_type) if value_grads.size else 0.0)
    total_norm = float(np.linalg.vector_norm(np.array(norms, dtype=float), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total_norm):
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is non-finite "
            f"({total_norm}), so it cannot be clipped; pass error_if_nonfinite=False to "
            f"scale the gradients by it anyway")
    clip_coef = max_norm / (total_norm + 1e-6)
    if clip_coef < 1.0 or math.isnan(clip_coef):  # PyTorch multiplies by 1 otherwise: a no-op
        with np.errstate(invalid="ignore"):  # inf·0 = NaN was asked for (error_if_nonfinite)
            for p in parameters:
                p.grad = p.grad * clip_coef  # a new array (numpy keeps float32 as float32)
    return total_norm


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient entry into [−clip_value, clip_value] (skipping missing gradients).

        >>> w = Tensor([0.0, 0.0, 0.0], requires_grad=True)
        >>> w.grad = np.array([-3.0, 0.5, 2.0])
        >>> clip_grad_value_(w, 1.0)
        >>> w.grad
        array([-1. ,  0.5,  1. ])
    """
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if isinstance(p, Value):
            p.grad = min(max(p.grad, -clip_value), clip_value)
        elif p.grad is not None:
            p.grad = np.clip(p.grad, -clip_value, clip_value)


def _tensors(parameters, what: str) -> list:
    parameters = _as_list(parameters)
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{what} takes Tensor parameters, not {type(p).__name__}")
    return parameters


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and joined into one 1-d tensor, in order.

    The vector is computed with ``reshape`` and ``cat``, so it is part of the graph: a loss
    computed from it back-propagates to the parameters.

        >>> w, b = Tensor([[1.0, 2.0]], requires_grad=True), Tensor([3.0], requires_grad=True)
        >>> v = parameters_to_vector([w, b])
        >>> v
        Tensor([1., 2., 3.], op='cat')
        >>> (v * Tensor([10.0, 20.0, 30.0])).sum().backward()
        >>> w.grad, b.grad
        (array([[10., 20.]]), array([30.]))
    """
    return cat([p.reshape(-1) for p in _tensors(parameters, "parameters_to_vector")])


def vector_to_parameters(vec, parameters) -> None:
    """Give each parameter, in order, its slice of the 1-d ``vec`` as its new ``.data``.

    Each parameter keeps its shape and dtype; the lengths must add up to ``len(vec)``.

        >>> w, b = Tensor([[1.0, 2.0]]), Tensor([3.0])
        >>> vector_to_parameters(Tensor([4.0, 5.0, 6.0]), [w, b])
        >>> w, b
        (Tensor([[4., 5.]]), Tensor([6.]))
    """
    vector = np.asarray(vec.data if isinstance(vec, Tensor) else vec)
    parameters = _tensors(parameters, "vector_to_parameters")
    if vector.ndim != 1:
        raise ValueError(f"vector_to_parameters needs a 1-d vector, got shape {vector.shape}")
    needed = sum(p.size for p in parameters)
    if needed != vector.size:
        raise ValueError(f"the vector has {vector.size} elements but the parameters have "
                         f"{needed} in total")
    start = 0
    for p in parameters:
        # A copy, not a view: vec's array may be read-only (saved by a graph), and parameters
        # sharing one buffer would change together if anyone wrote to one of them.
        p.data = vector[start:start + p.size].reshape(p.shape).astype(p.dtype, copy=True)
        start += p.size
