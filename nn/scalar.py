"""micrograd's neural network on scalar ``Value``s: ``Neuron``, ``Layer``, ``MLP``.

The same model as micrograd's ``nn.py``, one ``Value`` per weight, so every multiply and add
is a node you can draw. They share ``nn.Module`` (``parameters()``, ``named_parameters()``,
``zero_grad()``, ``state_dict()``), the optimisers of ``nn.optim`` and the losses that make
sense on scalars (``nn.functional.hinge_loss``, ``mse_loss``, ...).

    >>> from nn.scalar import MLP
    >>> model = MLP(2, [4, 4], 1, generator=0)
    >>> model
    MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2)], Layer of [ReLUNeuron(4), ReLUNeuron(4), ReLUNeuron(4), ReLUNeuron(4)], Layer of [LinearNeuron(4)]]
    >>> model.num_parameters()
    37
    >>> score = model([1.0, -2.0])  # one output: a Value, not a list
    >>> type(score).__name__
    'Value'
"""
from __future__ import annotations

from autograd_core import Value
from autograd_core.rng import rng

from .module import Module


class Neuron(Module):
    """``relu(w·x + b)`` (or linear), weights uniform in [-1, 1] and bias 0, as in micrograd."""

    def __init__(self, nin: int, nonlin: bool = True, *, generator=None):
        super().__init__()
        self.w = [Value(float(w)) for w in rng(generator).uniform(-1.0, 1.0, nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def forward(self, x):
        if len(x) != len(self.w):
            raise ValueError(f"{self!r} got {len(x)} inputs, expected {len(self.w)}")
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        return act.relu() if self.nonlin else act

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons reading the same inputs; one output is returned bare, as in micrograd."""

    def __init__(self, nin: int, nout: int, *, generator=None, **kwargs):
        super().__init__()
        generator = rng(generator)
        self.neurons = [Neuron(nin, generator=generator, **kwargs) for _ in range(nout)]

    def forward(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """``MLP(nin, hidden_sizes, nout)``: ReLU layers and a linear last layer (micrograd's MLP).

    ``MLP(2, [16, 16], 1)`` is micrograd's ``MLP(2, [16, 16, 1])``; that form works too.
    """

    def __init__(self, nin: int, hidden_sizes, nout: int | None = None, *, generator=None):
        super().__init__()
        sizes = [nin, *hidden_sizes] + ([] if nout is None else [nout])
        generator = rng(generator)
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != len(sizes) - 2,
                             generator=generator) for i in range(len(sizes) - 1)]

    def forward(self, x):
        for layer in self.layers:
            x = layer(x if isinstance(x, (list, tuple)) else [x])
        return x

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
