"""Layers: ``Linear``, ``MLP``, the activations, ``Dropout``, ``BatchNorm1d``, ``LayerNorm``,
``Flatten`` and ``Identity``, with PyTorch's names, arguments and initialisation.

Each layer's mathematics is a function of :mod:`nn.functional`; the layer holds the
parameters and the settings. Shape errors name the layer and both shapes.
"""
from __future__ import annotations

import math

import numpy as np

from autograd_core import Tensor
from autograd_core.rng import rng

from . import functional as F
from . import init
from .module import Module, Sequential
from .parameter import Parameter


def _check_features(layer: Module, input, expected: int, what: str = "features") -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{layer!r} expects a Tensor, got {type(input).__name__}")
    if input.ndim == 0 or input.shape[-1] != expected:
        raise ValueError(f"{layer!r}: input has shape {input.shape}, expected (*, {expected}) "
                         f"({expected} {what} in the last dimension)")


class Linear(Module):
    """``y = x @ weight.T + bias``, weight (out_features, in_features), as ``torch.nn.Linear``.

    Initialised as PyTorch does: weight and bias uniform in ±1/sqrt(in_features)
    (``kaiming_uniform_`` with a = sqrt(5)). ``generator`` (numpy Generator or int seed)
    makes it reproducible; see also ``autograd_core.manual_seed``.

        >>> import nn
        >>> from autograd_core import Tensor
        >>> layer = nn.Linear(3, 2, generator=0)
        >>> layer.weight.shape, layer.bias.shape
        ((2, 3), (2,))
        >>> layer(Tensor([[1.0, 2.0, 3.0]])).shape
        (1, 2)
        >>> layer(Tensor([[1.0, 2.0]]))
        Traceback (most recent call last):
        ...
        ValueError: Linear(in_features=3, out_features=2, bias=True): input has shape (1, 2), expected (*, 3) (3 features in the last dimension)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 dtype=np.float64, generator=None):
        super().__init__()
        for name, size in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 0:
                raise ValueError(f"Linear: {name} must be a non-negative integer, got {size!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        self.bias = Parameter(np.empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        generator = None if generator is None else rng(generator)  # one stream, weight then bias
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input):
        _check_features(self, input, self.in_features)
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


# ----- activations -----
class ReLU(Module):
    """max(x, 0), elementwise; its derivative at 0 is 0."""

    def forward(self, input):
        return input.relu()


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, input):
        return input.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    def forward(self, input):
        return input.tanh()


class Sigmoid(Module):
    def forward(self, input):
        return input.sigmoid()


class Softplus(Module):
    """log(1 + e^(beta·x)) / beta, and x itself where beta·x > ``threshold`` (gradient 1
    there), as ``torch.nn.Softplus``; on Tensors or a scalar ``Value``.

        >>> import nn
        >>> from autograd_core import Tensor
        >>> x = Tensor([0.0, 3.0], requires_grad=True)
        >>> y = nn.Softplus(threshold=2.0)(x)
        >>> y.data.round(6).tolist()   # log 2, then 3 itself (not 3.048587)
        [0.693147, 3.0]
        >>> y.sum().backward()
        >>> x.grad.tolist()            # sigmoid(0), then exactly 1
        [0.5, 1.0]
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, input):
        above = np.asarray(input.data) * self.beta > self.threshold
        if not isinstance(input, Tensor) and above:  # a Value: `where` takes Tensors only
            return input
        if self.beta == 1.0:
            soft = input.softplus()
        else:
            soft = (input * self.beta).softplus() * (1.0 / self.beta)
        if isinstance(input, Tensor) and above.any():  # (no node for a where that picks nothing)
            return F.where(above, input, soft)
        return soft

    def extra_repr(self) -> str:
        return f"beta={self.beta:g}, threshold={self.threshold:g}"


class GELU(Module):
    """x·Φ(x), with the exact normal CDF (``approximate='none'``) or its tanh approximation."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim``, which defaults to -1, the last axis.

    PyTorch's ``nn.Softmax()`` without ``dim`` is deprecated and guesses: dim 0 for 0-, 1- and
    3-d input, 1 otherwise. The two agree up to 2-d input only (on 3-d, PyTorch's guess is
    the batch axis); give ``dim`` when porting.

        >>> import nn
        >>> from autograd_core import Tensor
        >>> nn.Softmax()(Tensor([[0.0, 0.0], [0.0, 0.0]])).data.tolist()   # along the rows
        [[0.5, 0.5], [0.5, 0.5]]
    """

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return input.softmax(axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax(x)) along ``dim``, computed stably; ``dim`` defaults to -1, the last axis
    (PyTorch's deprecated implicit dim is 0 for 0-, 1- and 3-d input: see ``Softmax``).

        >>> import nn
        >>> from autograd_core import Tensor
        >>> nn.LogSoftmax()(Tensor([[0.0, 0.0]])).data.round(6).tolist()
        [[-0.693147, -0.693147]]
    """

    def forward(self, input):
        return input.log_softmax(axis=self.dim)


class Identity(Module):
    """Returns its input (a placeholder, e.g. for a switched-off normalisation)."""

    def __init__(self, *args, **kwargs):  # accepts and ignores any arguments, as PyTorch's
        super().__init__()

    def forward(self, input):
        return input


_ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh, "sigmoid": Sigmoid,
                "softplus": Softplus, "gelu": GELU, "identity": Identity}


class MLP(Sequential):
    """A multi-layer perceptron: ``Linear`` layers with an activation between them.

    ``MLP(in_features, hidden_sizes, out_features, activation=nn.ReLU)``; ``activation`` is
    a module class, a function returning a module, or a name ('relu', 'tanh', 'sigmoid',
    'leaky_relu', 'softplus', 'gelu'). No activation after the last layer.

        >>> import nn
        >>> nn.MLP(2, [16, 16], 1, activation="tanh")
        MLP(
          (0): Linear(in_features=2, out_features=16, bias=True)
          (1): Tanh()
          (2): Linear(in_features=16, out_features=16, bias=True)
          (3): Tanh()
          (4): Linear(in_features=16, out_features=1, bias=True)
        )
    """

    def __init__(self, in_features: int, hidden_sizes, out_features: int, activation=ReLU, *,
                 bias: bool = True, dtype=np.float64, generator=None):
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"MLP: unknown activation {activation!r}; "
                                 f"choose from {sorted(_ACTIVATIONS)}")
            activation = _ACTIVATIONS[activation]
        hidden_sizes = [hidden_sizes] if isinstance(hidden_sizes, int) else list(hidden_sizes)
        sizes = [in_features, *hidden_sizes, out_features]
        generator = None if generator is None else rng(generator)  # one stream for all layers
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(Linear(n_in, n_out, bias, dtype=dtype, generator=generator))
            if i < len(sizes) - 2:
                layers.append(activation())
        super().__init__(*layers)


class Flatten(Module):
    """Flatten dimensions ``start_dim`` to ``end_dim`` (by default all but the batch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        if input.ndim <= self.start_dim and input.ndim > 0:
            raise ValueError(f"{self!r}: input has shape {input.shape}, which has no "
                             f"dimension {self.start_dim} to flatten from")
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Zero elements with probability ``p`` in training, scaling the rest by 1/(1-p).

    In ``eval()`` mode it passes its input through. ``generator`` (numpy Generator or int
    seed) makes the masks reproducible.

        >>> import nn
        >>> from autograd_core import Tensor
        >>> drop = nn.Dropout(0.5, generator=0)
        >>> drop(Tensor([1.0, 1.0, 1.0, 1.0]))
        Tensor([2., 0., 0., 0.])
        >>> drop.eval()(Tensor([1.0, 1.0]))
        Tensor([1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, generator=None):
        super().__init__()  # inplace is accepted for ported code: arrays never change in place
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be between 0 and 1, got {p}")
        self.p = float(p)
        self.generator = None if generator is None else rng(generator)

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace=False"


class BatchNorm1d(Module):
    """Batch normalisation of (N, C) or (N, C, L) input, per channel, as ``torch.nn.BatchNorm1d``.

    Training uses the batch's statistics and updates ``running_mean``/``running_var``
    (buffers, saved in ``state_dict``); evaluation uses the running statistics. With
    ``momentum=None`` the running statistics are the plain average over all batches seen.

        >>> import nn
        >>> from autograd_core import Tensor
        >>> bn = nn.BatchNorm1d(2)
        >>> out = bn(Tensor([[1.0, 10.0], [3.0, 30.0]]))
        >>> out.data.round(4).tolist()
        [[-1.0, -1.0], [1.0, 1.0]]
        >>> bn.running_mean
        Tensor([0.2, 2. ])
    """

    # PyTorch loads state dicts older than the counter: a missing one keeps its count.
    _optional_buffers = ("num_batches_tracked",)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *, dtype=np.float64):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(np.ones(num_features, dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype))
            self.register_buffer("num_batches_tracked", np.array(0, np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, input):
        F._channel_axes(input, repr(self), self.num_features)
        if not self.track_running_stats:  # no running statistics: batch statistics always
            return F.batch_norm(input, None, None, self.weight, self.bias, True, eps=self.eps)
        if not self.training:
            return F.batch_norm(input, self.running_mean, self.running_var, self.weight,
                                self.bias, False, eps=self.eps)
        self.num_batches_tracked = Tensor(self.num_batches_tracked.data + 1)
        momentum = self.momentum
        if momentum is None:  # a cumulative average: batch k gets weight 1/k
            momentum = 1.0 / float(self.num_batches_tracked.data)
        return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                            True, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class LayerNorm(Module):
    """Normalise each sample over its last dimensions (``normalized_shape``), then scale and shift."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, *, dtype=np.float64):
        super().__init__()
        self.normalized_shape = ((normalized_shape,) if isinstance(normalized_shape, int)
                                 else tuple(normalized_shape))
        self.eps, self.elementwise_affine = float(eps), elementwise_affine
        self.weight = Parameter(np.ones(self.normalized_shape, dtype)) if elementwise_affine \
            else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype)) \
            if elementwise_affine and bias else None

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{self!r} expects a Tensor, got {type(input).__name__}")
        n = len(self.normalized_shape)
        if input.ndim < n or tuple(input.shape[input.ndim - n:]) != self.normalized_shape:
            raise ValueError(f"{self!r}: input has shape {input.shape}, expected (*, "
                             f"{', '.join(map(str, self.normalized_shape))})")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
