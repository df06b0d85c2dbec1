"""Optimisers with PyTorch's names and update rules, and their learning-rate schedulers.

    >>> import numpy as np
    >>> from autograd_core import Tensor
    >>> from nn.optim import SGD
    >>> w = Tensor([3.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.25)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()  # gradient 2w: each step halves w
    ...     opt.step()
    >>> w.data.tolist()
    [0.375]
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
