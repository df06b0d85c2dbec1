"""Neural networks on autograd_core, with PyTorch's names: ``import nn`` as ``torch.nn``.

    >>> import nn
    >>> from autograd_core import Tensor
    >>> model = nn.Sequential(nn.Linear(2, 8, generator=0), nn.ReLU(), nn.Linear(8, 1, generator=1))
    >>> loss = nn.MSELoss()(model(Tensor([[0.5, -1.0]])), Tensor([[1.0]]))
    >>> loss.backward()
    >>> model[0].weight.grad.shape
    (8, 2)

Sub-packages and modules: ``nn.optim`` (optimisers, ``nn.optim.lr_scheduler``),
``nn.functional``, ``nn.init``, ``nn.utils``, ``nn.data`` (datasets and loaders),
``nn.scalar`` (micrograd's MLP on ``Value``s); ``nn.save``/``nn.load`` store weights.
"""
from . import data, functional, init, optim, scalar, utils
from .layers import (GELU, MLP, BatchNorm1d, Dropout, Flatten, Identity, LayerNorm, LeakyReLU,
                     Linear, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh)
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HingeLoss, L1Loss, MSELoss,
                     NLLLoss)
from .module import Module, ModuleDict, ModuleList, Sequential
from .parameter import Parameter
from .serialization import WeightFileError, load, save

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "Parameter", "Linear", "MLP",
           "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Softplus", "GELU", "Softmax", "LogSoftmax",
           "Identity", "Dropout", "BatchNorm1d", "LayerNorm", "Flatten", "MSELoss", "L1Loss",
           "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "HingeLoss", "save",
           "load", "WeightFileError", "data", "functional", "init", "optim", "scalar", "utils"]
