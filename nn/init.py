"""Initialisers for parameters, with PyTorch's names and formulas (``torch.nn.init``).

Each function fills a tensor with new values and returns it::

    >>> import numpy as np
    >>> from autograd_core import Tensor
    >>> from nn import init
    >>> w = Tensor(np.empty((100, 50)), requires_grad=True)
    >>> init.kaiming_normal_(w, nonlinearity="relu", generator=0) is w
    True
    >>> w.shape, w.is_leaf, w.grad is None
    ((100, 50), True, True)

"Fills" means *rebinds*: ``tensor.data`` becomes a new array of the same shape and dtype.
The old array is never written to, because a graph that used the tensor may have saved it
for backward (saved arrays are read-only); the tensor's history is not touched either.
Randomness comes from ``generator`` (a numpy ``Generator`` or an int seed) or, without one,
from the library's default generator, which ``autograd_core.manual_seed`` reseeds.

Why the variances: a layer f' = Ωh with D_h inputs and weights of variance σ² gives
Var(f') = D_h·σ²·E[h²]; after a ReLU E[h²] = Var(f)/2, so σ² = 2/D_h keeps the forward
variance constant: He initialisation (Understanding Deep Learning, ch. 7; its fig. 7.7 shows
50 ReLU layers keeping their variance with it, and losing or blowing it up without). The
backward pass asks for σ² = 2/D_h' instead (D_h' = the layer's outputs); ``mode`` picks
which fan to use.
"""
import math
import numbers
import warnings

import numpy as np

from autograd_core import Tensor
from autograd_core.rng import rng

__all__ = ["calculate_gain", "calculate_fan_in_and_fan_out", "uniform_", "normal_",
           "constant_", "ones_", "zeros_", "xavier_uniform_", "xavier_normal_",
           "kaiming_uniform_", "kaiming_normal_", "lecun_uniform_", "lecun_normal_"]

# Nonlinearities whose gain is 1: they do not shrink the variance of their input.
_UNIT_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
_GAINS = {"tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}
_MODES = ("fan_in", "fan_out", "fan_avg")


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The factor PyTorch scales the standard deviation by for ``nonlinearity``.

    linear, conv*, conv_transpose*, sigmoid: 1; tanh: 5/3; relu: √2; selu: 3/4;
    leaky_relu: √(2 / (1 + slope²)), the slope being ``param`` (default 0.01).

        >>> round(calculate_gain("relu"), 6), round(calculate_gain("leaky_relu", 0.2), 6)
        (1.414214, 1.38675)
    """
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity in _GAINS:
        return _GAINS[nonlinearity]
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    known = ", ".join([*_UNIT_GAIN, *_GAINS, "leaky_relu"])
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}; use one of {known}")


def calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as PyTorch counts them.

    Every input feature map feeds each output through a whole kernel, so both fans are
    multiplied by the kernel's size (the "receptive field").

        >>> calculate_fan_in_and_fan_out(Tensor(np.zeros((16, 3, 5, 5))))  # a conv2d weight
        (75, 400)
    """
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor with fewer "
                         f"than 2 dimensions (shape {shape})")
    receptive_field_size = math.prod(shape[2:])
    return shape[1] * receptive_field_size, shape[0] * receptive_field_size


_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out  # PyTorch's (private) name


def _calculate_correct_fan(tensor, mode: str) -> float:
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    mode = mode.lower() if isinstance(mode, str) else mode
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2
    raise ValueError(f"mode {mode!r} not supported, use one of {', '.join(_MODES)}")


# ----- checking what is filled, and the one place that rebinds its data -----
def _checked(tensor, what: str, random: bool = True) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{what} takes a Tensor, not {type(tensor).__name__}")
    if random and tensor.dtype.kind != "f":
        # Random floats cast to integers would mostly be 0: refuse, as PyTorch does.
        raise TypeError(f"nn.init.{what} needs a floating point tensor, got {tensor.dtype}")
    return tensor


def _replace(tensor: Tensor, values: np.ndarray) -> Tensor:
    """Rebind ``tensor.data`` to ``values`` in the tensor's dtype (never write in place)."""
    tensor.data = values.astype(tensor.dtype, copy=False)
    return tensor


# ----- filling with given distributions -----
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill ``tensor`` with values drawn uniformly from [a, b).

        >>> w = uniform_(Tensor(np.zeros(1000)), -0.5, 0.5, generator=0)
        >>> bool(w.data.min() >= -0.5 and w.data.max() < 0.5)
        True
    """
    _checked(tensor, "uniform_")
    return _replace(tensor, rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill ``tensor`` with values drawn from N(mean, std²).

        >>> w = normal_(Tensor(np.zeros((200, 200))), mean=3.0, std=0.1, generator=0)
        >>> round(float(w.data.mean()), 2), round(float(w.data.std()), 2)
        (3.0, 0.1)
    """
    _checked(tensor, "normal_")
    return _replace(tensor, rng(generator).normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, val) -> Tensor:
    """Fill ``tensor`` with ``val``.

        >>> constant_(Tensor([1.0, 2.0]), 0.5)
        Tensor([0.5, 0.5])
    """
    _checked(tensor, "constant_", random=False)
    return _replace(tensor, np.full(tensor.shape, val, dtype=tensor.dtype))


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with ones.

        >>> ones_(Tensor([[5.0, 6.0]]))
        Tensor([[1., 1.]])
    """
    _checked(tensor, "ones_", random=False)
    return _replace(tensor, np.ones(tensor.shape, dtype=tensor.dtype))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with zeros (the usual start for biases).

        >>> zeros_(Tensor([[5.0, 6.0]]))
        Tensor([[0., 0.]])
    """
    _checked(tensor, "zeros_", random=False)
    return _replace(tensor, np.zeros(tensor.shape, dtype=tensor.dtype))


# ----- scaled by the fans -----
def _kaiming_std(tensor, a, mode, nonlinearity) -> float:
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def _empty(tensor) -> bool:
    if tensor.size == 0:  # no fan to divide by; nothing to fill
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot/Xavier: U(−bound, bound), bound = gain·√(6 / (fan_in + fan_out)).

    The variance gain²·2/(fan_in + fan_out) is the compromise between keeping the forward
    variance (1/fan_in) and the backward variance (1/fan_out) of a linear or tanh layer.

        >>> w = xavier_uniform_(Tensor(np.zeros((30, 20))), generator=0)
        >>> bool(abs(w.data).max() <= math.sqrt(6 / 50))
        True
    """
    _checked(tensor, "xavier_uniform_")
    if _empty(tensor):
        return tensor
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))  # U(−b, b) has variance b²/3
    return _replace(tensor, rng(generator).uniform(-bound, bound, tensor.shape))


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot/Xavier: N(0, std²), std = gain·√(2 / (fan_in + fan_out)).

        >>> w = xavier_normal_(Tensor(np.zeros((300, 200))), generator=0)
        >>> round(float(w.data.var() * (300 + 200) / 2), 1)
        1.0
    """
    _checked(tensor, "xavier_normal_")
    if _empty(tensor):
        return tensor
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _replace(tensor, rng(generator).normal(0.0, std, tensor.shape))


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He/Kaiming: U(−bound, bound), bound = gain·√(3 / fan), so the variance is gain²/fan.

    gain = ``calculate_gain(nonlinearity, a)``, ``a`` being the negative slope of a leaky
    ReLU (the default, ``a=0``, is a ReLU: gain √2, variance 2/fan). ``nn.Linear`` uses
    ``a=math.sqrt(5)``. ``mode`` chooses ``fan``:

    - ``'fan_in'`` keeps the variance of the activations in the forward pass (σ² = 2/D_h for
      a ReLU layer with D_h inputs),
    - ``'fan_out'`` keeps that of the gradients in the backward pass (σ² = 2/D_h', D_h'
      outputs),
    - ``'fan_avg'`` uses (fan_in + fan_out)/2: for a ReLU, the lecture's compromise
      σ² = 4/(D_h + D_h') between the two (He initialisation in Understanding Deep
      Learning, ch. 7).

        >>> w = kaiming_uniform_(Tensor(np.zeros((64, 32))), generator=0)
        >>> bool(abs(w.data).max() <= math.sqrt(2) * math.sqrt(3 / 32))
        True
    """
    _checked(tensor, "kaiming_uniform_")
    if _empty(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return _replace(tensor, rng(generator).uniform(-bound, bound, tensor.shape))


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He/Kaiming: N(0, std²), std = gain / √fan (σ² = 2/D_h for a ReLU layer with D_h inputs).

    ``a``, ``mode`` and ``nonlinearity`` as in :func:`kaiming_uniform_`; ``mode='fan_avg'``
    gives a ReLU layer of shape (D_h', D_h) the lecture's compromise σ² = 4/(D_h + D_h').

        >>> w = kaiming_normal_(Tensor(np.zeros((400, 200))), mode="fan_avg", generator=0)
        >>> round(float(w.data.var() * (200 + 400) / 4), 1)
        1.0
    """
    _checked(tensor, "kaiming_normal_")
    if _empty(tensor):
        return tensor
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return _replace(tensor, rng(generator).normal(0.0, std, tensor.shape))


def lecun_uniform_(tensor: Tensor, generator=None) -> Tensor:
    """LeCun: U(−bound, bound), bound = √(3 / fan_in), so the variance is 1/fan_in.

    It is ``kaiming_uniform_(tensor, nonlinearity='linear')``: right for linear or SELU
    layers (not in ``torch.nn.init``; JAX and Keras have it).

        >>> w = lecun_uniform_(Tensor(np.zeros((10, 12))), generator=0)
        >>> bool(abs(w.data).max() <= 0.5)
        True
    """
    return kaiming_uniform_(tensor, nonlinearity="linear", generator=generator)


def lecun_normal_(tensor: Tensor, generator=None) -> Tensor:
    """LeCun: N(0, 1/fan_in), i.e. ``kaiming_normal_(tensor, nonlinearity='linear')``.

    Untruncated, unlike JAX's ``lecun_normal``.

        >>> w = lecun_normal_(Tensor(np.zeros((300, 400))), generator=0)
        >>> round(float(w.data.var() * 400), 1)
        1.0
    """
    return kaiming_normal_(tensor, nonlinearity="linear", generator=generator)


# ----- the names old PyTorch used (the lectures' training script calls kaiming_uniform) -----
def _deprecated(new):
    old_name = new.__name__[:-1]

    def old(*args, **kwargs):
        warnings.warn(f"nn.init.{old_name} is deprecated, use nn.init.{new.__name__}",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    old.__name__ = old.__qualname__ = old_name
    old.__doc__ = f"Deprecated: warns, then calls :func:`{new.__name__}`."
    old.__wrapped__ = new  # help() and inspect.signature show the real arguments
    return old


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
