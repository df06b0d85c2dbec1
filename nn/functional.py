"""``nn.functional``: the layers' mathematics as functions, as ``torch.nn.functional``.

Everything in :mod:`autograd_core.functional` (``relu``, ``softmax``, ...) is here too, with
the losses of :mod:`nn.losses` and the functions behind the layers.

    >>> import nn.functional as F
    >>> from autograd_core import Tensor
    >>> F.gelu(Tensor([-1.0, 0.0, 1.0]))
    Tensor([-0.15865525,  0.        ,  0.84134475])
"""
from __future__ import annotations

import math

import numpy as np

# One namespace, as torch.nn.functional. It binds sum, max, min and abs to the engine's
# functions here, so this module must not use those builtins.
from autograd_core.functional import *  # noqa: F403
from autograd_core.functional import __all__ as _engine_functions
from autograd_core import Tensor
from autograd_core.rng import rng

from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     hinge_loss, l1_loss, mse_loss, nll_loss)

__all__ = [*_engine_functions, "linear", "gelu", "dropout", "batch_norm", "layer_norm",
           "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "hinge_loss"]


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: weight has shape (out_features, in_features)."""
    out = input @ weight.T
    return out if bias is None else out + bias


def gelu(input, approximate: str = "none"):
    """x·Φ(x), Φ the standard normal CDF; ``approximate='tanh'`` uses the tanh formula."""
    if approximate == "none":
        return 0.5 * input * (1 + (input * (1 / math.sqrt(2))).erf())
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (input + 0.044715 * input ** 3)
        return 0.5 * input * (1 + inner.tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def dropout(input, p: float = 0.5, training: bool = True, generator=None):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (in training).

    The scaling keeps every element's expected value, so evaluation needs no change.
    ``generator`` (a numpy Generator or an int seed) makes the mask reproducible.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, got {p}")
    if not training or p == 0.0:
        return input
    keep = rng(generator).random(input.shape) >= p
    scale = np.zeros((), input.dtype) if p == 1.0 else np.asarray(1.0 / (1.0 - p), input.dtype)
    return input * (keep * scale)


def _channel_axes(input, what: str, num_features: int | None = None):
    """Axes to reduce over for per-channel statistics of (N, C) or (N, C, L) input."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{what} expects a Tensor, got {type(input).__name__}")
    if input.ndim not in (2, 3):
        raise ValueError(f"{what}: expected 2-d (N, C) or 3-d (N, C, L) input, "
                         f"got shape {input.shape}")
    if num_features is not None and input.shape[1] != num_features:
        raise ValueError(f"{what}: input has shape {input.shape}, expected {num_features} "
                         f"channels in dimension 1")
    return (0,) if input.ndim == 2 else (0, 2)


def batch_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel of (N, C) or (N, C, L) input, then scale and shift.

    In training, with the batch's mean and (biased) variance, and the running statistics
    (tensors, rebound, never changed in place) move towards the batch's, using the unbiased
    variance, as PyTorch does: ``running = (1 - momentum) * running + momentum * batch``.
    Otherwise with the running statistics.
    """
    axes = _channel_axes(input, "batch_norm")
    shape = [1] * input.ndim
    shape[1] = input.shape[1]
    if training:
        count = input.size // input.shape[1]
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {input.shape}")
        mean = input.mean(axis=axes, keepdims=True)
        centered = input - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
        if running_mean is not None:
            batch_mean = mean.data.reshape(-1)
            running_mean.data = ((1 - momentum) * running_mean.data
                                 + momentum * batch_mean).astype(running_mean.dtype)
        if running_var is not None:
            unbiased = var.data.reshape(-1) * (count / (count - 1))
            running_var.data = ((1 - momentum) * running_var.data
                                + momentum * unbiased).astype(running_var.dtype)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation needs running_mean and running_var")
        centered = input - running_mean.data.reshape(shape)
        var = running_var.data.reshape(shape)
    out = centered / (var + eps) ** 0.5
    if weight is not None:
        out = out * weight.reshape(*shape)
    if bias is not None:
        out = out + bias.reshape(*shape)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalise over the last ``len(normalized_shape)`` dimensions of each sample."""
    if not isinstance(input, Tensor):
        raise TypeError(f"layer_norm expects a Tensor, got {type(input).__name__}")
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(
        normalized_shape)
    if tuple(input.shape[input.ndim - len(normalized_shape):]) != normalized_shape \
            or input.ndim < len(normalized_shape):
        raise ValueError(f"layer_norm: input of shape {input.shape} does not end in the "
                         f"normalized shape {normalized_shape}")
    axes = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    mean = input.mean(axis=axes, keepdims=True)
    centered = input - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    out = centered / (var + eps) ** 0.5
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out
