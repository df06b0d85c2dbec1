"""Loss functions with PyTorch's names, signatures and semantics (``torch.nn.functional``).

A loss turns predictions and targets into one number to minimise. Each function computes
one loss per element, then ``reduction`` combines them: ``'mean'`` (the default) averages,
``'sum'`` adds, ``'none'`` returns them all. Targets are data, never trained: they may be
Tensors, numpy arrays, lists or numbers, and no gradient flows to them (except in
``mse_loss`` and ``l1_loss``, which follow a target Tensor that requires grad).

The losses are written with the engine's ordinary operations, so their gradients come from
backward like any other; there is no hand-written derivative here. The elementwise ones
(``mse_loss``, ``l1_loss``, ``hinge_loss``, ``binary_cross_entropy``,
``binary_cross_entropy_with_logits``) also take the scalar engine's ``Value``, or a list of
Values, as in micrograd: one formula serves both, so a Value loss equals the Tensor loss on
the same numbers.

    >>> from autograd_core import Tensor, Value
    >>> loss = mse_loss(Tensor([1.0, 2.0], requires_grad=True), [1.0, 4.0])
    >>> loss.item()                     # ((1 - 1)**2 + (2 - 4)**2) / 2
    2.0
    >>> scores = [Value(0.5), Value(-2.0)]
    >>> hinge_loss(scores, [1, -1]).data  # (relu(1 - 0.5) + relu(1 - 2)) / 2
    0.25
"""
from __future__ import annotations

import numpy as np

from autograd_core import Tensor, Value, maximum
from autograd_core.functional import where

__all__ = ["mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "hinge_loss", "MSELoss", "L1Loss", "HingeLoss",
           "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "CrossEntropyLoss"]

_REDUCTIONS = ("mean", "sum", "none")

# Below e^-100 (3.7e-44), so that the -100 clamp decides the log of anything smaller, and
# still above zero in float32 (a subnormal there): see _clamped_log.
_TINY = 1e-44


# ----- regression -----

def mse_loss(input, target, reduction="mean"):
    """Mean squared error: ``(input - target) ** 2``, averaged.

        >>> from autograd_core import Tensor
        >>> x = Tensor([1.0, 2.0, 4.0], requires_grad=True)
        >>> loss = mse_loss(x, [1.0, 0.0, 2.0], reduction="sum")
        >>> loss.item()      # 0 + 4 + 4
        8.0
        >>> loss.backward()
        >>> x.grad           # 2 * (x - target)
        array([0., 4., 4.])
    """
    _check_reduction(reduction, "mse_loss")
    x, y = _operands(input, target, "mse_loss", target_may_need_grad=True)
    return _reduce(_each(lambda x, y: (x - y) ** 2, x, y), reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error: ``|input - target|``, averaged (its gradient at a tie is 0).

        >>> from autograd_core import Tensor
        >>> x = Tensor([1.0, 2.0, 4.0], requires_grad=True)
        >>> loss = l1_loss(x, [1.0, 0.0, 5.0])
        >>> loss.item()      # (0 + 2 + 1) / 3
        1.0
        >>> loss.backward()
        >>> x.grad * 3       # the sign of each error
        array([ 0.,  1., -1.])
    """
    _check_reduction(reduction, "l1_loss")
    x, y = _operands(input, target, "l1_loss", target_may_need_grad=True)
    return _reduce(_each(lambda x, y: (x - y).abs(), x, y), reduction)


# ----- binary classification -----

def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """Cross entropy of probabilities: ``-(y log p + (1 - y) log(1 - p))``, times ``weight``.

    ``input`` holds probabilities (a sigmoid's output), ``target`` the probability of the
    positive class (0 or 1 for hard labels); both must lie in [0, 1]. As in PyTorch each log
    is clamped at -100, so a confident wrong answer (p = 0 for y = 1) costs 100, not
    infinity, and its gradient is finite. The gradient is the derivative of this clamped
    formula; PyTorch clamps its gradient separately instead, to (p - y) / max(p(1 - p), 1e-12),
    so the two agree except where p(1 - p) < 1e-12. ``weight`` broadcasts to the input.

        >>> from autograd_core import Tensor
        >>> p = Tensor([0.5, 0.9, 0.0], requires_grad=True)
        >>> loss = binary_cross_entropy(p, [1.0, 0.0, 1.0], reduction="none")
        >>> loss     # log 2, -log 0.1, and the clamp
        Tensor([  0.69314718,   2.30258509, 100.        ], op='neg')

    For logits, prefer ``binary_cross_entropy_with_logits``: it never rounds a sigmoid to 0 or 1.
    """
    name = "binary_cross_entropy"
    _check_reduction(reduction, name)
    p, y = _operands(input, target, name)
    _check_unit_interval(p, "input", name,
                         " (apply sigmoid first, or give the logits to "
                         "binary_cross_entropy_with_logits)")
    _check_unit_interval(y, "target", name)
    losses = _each(lambda p, y: -(y * _clamped_log(p) + (1 - y) * _clamped_log(1 - p)), p, y)
    return _reduce(_weighted(losses, weight, name), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid and binary cross entropy in one stable step: ``input`` holds logits.

    With p = sigmoid(x), -log p = softplus(-x) and -log(1 - p) = softplus(x), and softplus
    never overflows, so the loss is ``pos_weight * y * softplus(-x) + (1 - y) * softplus(x)``,
    finite for any logit (one of 1e4 on the wrong side costs 1e4), where ``sigmoid`` then
    ``log`` would give log(0). ``pos_weight`` (one per class, broadcast along the last
    axis) multiplies the positive term: above 1 it trades precision for recall.
    ``weight`` broadcasts to the input.

        >>> from autograd_core import Tensor
        >>> x = Tensor([0.0, 1e4, -1e4], requires_grad=True)
        >>> loss = binary_cross_entropy_with_logits(x, [1.0, 1.0, 1.0], reduction="sum")
        >>> loss.item()      # log 2 + 0 + 1e4
        10000.69314718056
        >>> loss.backward()
        >>> x.grad           # sigmoid(x) - y
        array([-0.5,  0. , -1. ])
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, name)
    x, y = _operands(input, target, name)
    pos = _broadcast_constant(1.0 if pos_weight is None else pos_weight, x, name, "pos_weight")
    losses = _each(lambda x, y, pos: pos * y * (-x).softplus() + (1 - y) * x.softplus(),
                   x, y, pos)
    return _reduce(_weighted(losses, weight, name), reduction)


def hinge_loss(input, target, margin=1.0, reduction="mean"):
    """The max-margin ("SVM") loss ``relu(margin - y * score)`` for labels y = -1 or +1.

    This is the loss of micrograd's demo.ipynb (``(1 + -yi*scorei).relu()``, averaged): a
    score on the right side of zero by at least ``margin`` costs nothing; any other costs
    its distance from there, so only the points near or across the boundary push the
    model. ``torch.nn.functional`` has no such function (its relatives are
    ``hinge_embedding_loss`` and ``multi_margin_loss``).

        >>> from autograd_core import Value
        >>> scores = [Value(2.0), Value(0.5), Value(0.5)]
        >>> loss = hinge_loss(scores, [1, 1, -1])
        >>> loss.data        # (0 + 0.5 + 1.5) / 3, as micrograd's demo computes it
        0.6666666666666666
        >>> loss.backward()
        >>> [s.grad for s in scores]   # -y / 3 where the margin is not met
        [0.0, -0.3333333333333333, 0.3333333333333333]
    """
    _check_reduction(reduction, "hinge_loss")
    s, y = _operands(input, target, "hinge_loss")
    labels = _numbers(y)
    wrong = (labels != 1) & (labels != -1)
    if wrong.any():
        raise ValueError(f"hinge_loss: labels must be -1 or +1, got {np.unique(labels[wrong])[:5]} "
                         f"(labels 0/1 become -1/+1 as 2 * y - 1, as micrograd's demo does)")
    return _reduce(_each(lambda s, y: (margin - y * s).relu(), s, y), reduction)


# ----- multi-class classification -----

def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax and negative log-likelihood in one stable step: ``input`` holds logits.

    ``input`` has shape (N, C) (N samples, C classes) or (C,). ``target`` is either class
    indices (integers, shape (N,) or ()) or class probabilities (floats, the input's shape).
    The loss of a sample is ``-log softmax(input)[target]``, or ``-sum(p * log softmax)``
    for probabilities p. It is computed with ``log_softmax``, which subtracts the logsumexp
    rather than dividing exponentials, so logits of ±1e4 give finite losses and gradients
    (a softmax then a log would give log(0)).

    PyTorch's options: ``weight`` (one per class) scales each sample's loss by its class's
    weight, and with class indices 'mean' divides by the sum of the weights used (a weighted
    average, not the mean of the weighted losses); with probabilities 'mean' divides by N.
    Samples whose target is ``ignore_index`` cost nothing and are not counted (indices
    only). ``label_smoothing`` ε mixes the target with the uniform distribution:
    (1 - ε) * target + ε / C.

        >>> from autograd_core import Tensor
        >>> logits = Tensor([[0.0, 0.0], [1e4, -1e4]], requires_grad=True)
        >>> loss = cross_entropy(logits, [0, 1], reduction="none")
        >>> loss.tolist()    # log 2, and 2e4 for the confident mistake
        [0.6931471805599453, 20000.0]
        >>> loss.sum().backward()
        >>> logits.grad      # softmax - one_hot(target)
        array([[-0.5,  0.5],
               [ 1. , -1. ]])
    """
    name = "cross_entropy"
    _check_reduction(reduction, name)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0, "
                         f"got {label_smoothing}")
    _check_scores(input, name)
    log_probs = input.log_softmax(axis=-1)
    target = np.asarray(_data(target))
    if target.dtype.kind == "f":  # class probabilities, as PyTorch tells them: by dtype
        return _soft_cross_entropy(log_probs, target, weight, reduction, label_smoothing)
    return _nll(log_probs, target, weight, ignore_index, reduction, label_smoothing, name)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood ``-input[target]`` of log-probabilities (a log_softmax's output).

    ``nll_loss(x.log_softmax(axis=-1), target)`` is ``cross_entropy(x, target)``; shapes,
    ``weight`` and ``ignore_index`` as there (class indices only).

        >>> from autograd_core import Tensor
        >>> log_probs = Tensor([[-0.5, -1.0], [-2.0, -0.25]])
        >>> nll_loss(log_probs, [0, 0]).item()           # (0.5 + 2) / 2
        1.25
        >>> nll_loss(log_probs, [0, -100]).item()        # the second sample is ignored
        0.5
        >>> nll_loss(log_probs, [0, 0], weight=[3.0, 1.0]).item()   # (3 * 0.5 + 3 * 2) / (3 + 3)
        1.25
    """
    _check_reduction(reduction, "nll_loss")
    _check_scores(input, "nll_loss")
    return _nll(input, np.asarray(_data(target)), weight, ignore_index, reduction, 0.0,
                "nll_loss")


def _nll(log_probs, target, weight, ignore_index, reduction, label_smoothing, name):
    """-log p of each sample's class, weighted, with ignored samples costing and counting 0."""
    shape, n_classes = log_probs.shape[:-1], log_probs.shape[-1]
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: class-index targets must be integers, got {target.dtype}")
    if target.shape != shape:
        raise ValueError(f"{name}: for input of shape {log_probs.shape} class indices must have "
                         f"shape {shape}, got target shape {target.shape}")
    target = target.reshape(-1)
    keep = target != ignore_index
    outside = keep & ((target < 0) | (target >= n_classes))  # numpy would wrap -1 round
    if outside.any():
        raise IndexError(f"{name}: target class {target[outside][0]} is out of range for "
                         f"{n_classes} classes (0 to {n_classes - 1}, or "
                         f"ignore_index={ignore_index})")
    rows = log_probs if log_probs.ndim == 2 else log_probs.reshape(-1, n_classes)
    if weight is None and not label_smoothing and target.size and keep.all():
        # Every sample counts once: three nodes (pick, negate, reduce) instead of the
        # weighted mean's six, with the same bits ('mean' is then the sum over the count).
        losses = -rows[np.arange(target.size), target]
        if reduction == "none" and losses.shape != shape:  # one sample of shape (C,)
            return losses.reshape(shape)
        return _reduce(losses, reduction)
    w = _class_weights(weight, n_classes, log_probs.dtype, name)
    index = np.where(keep, target, 0)  # an ignored sample looks at class 0, then weighs 0
    sample_weight = np.where(keep, w[index], 0).astype(log_probs.dtype)
    losses = -(rows[np.arange(len(index)), index] * sample_weight)
    if label_smoothing:  # plus ε/C times the cross entropy against the uniform distribution
        uniform = -(rows * w).sum(axis=-1)
        losses = (1 - label_smoothing) * losses + (label_smoothing / n_classes) * uniform
    if not keep.all():
        # Masked rather than multiplied by 0: when every target is ignored, 'mean' is 0/0 and
        # sends back inf, which 0 * inf would make a nan gradient; PyTorch's is 0 there.
        losses = where(keep, losses, 0.0)
    if reduction == "mean":  # PyTorch's weighted mean: nan if every target is ignored
        return losses.sum() / sample_weight.sum()
    return _reduce(losses.reshape(shape), reduction)


def _soft_cross_entropy(log_probs, probs, weight, reduction, label_smoothing):
    """-sum(p * log q) over the classes, for targets that are class probabilities."""
    if probs.shape != log_probs.shape:
        raise ValueError(f"cross_entropy: float targets are class probabilities and need the "
                         f"input's shape {log_probs.shape}, got target shape {probs.shape} "
                         f"(class indices must be integers)")
    n_classes = log_probs.shape[-1]
    probs = probs.astype(log_probs.dtype)
    if label_smoothing:
        probs = probs * (1 - label_smoothing) + label_smoothing / n_classes
    terms = log_probs * probs
    if weight is not None:
        terms = terms * _class_weights(weight, n_classes, log_probs.dtype, "cross_entropy")
    return _reduce(-terms.sum(axis=-1), reduction)


# ----- shared helpers -----

def _reduce(losses, reduction):
    """Combine the losses of the elements: 'none' keeps them, 'sum' adds, 'mean' averages."""
    if reduction == "none" or isinstance(losses, Value):  # one Value is its own sum and mean
        return losses
    if isinstance(losses, list):  # Values: Python's sum, as micrograd's demo does
        total = sum(losses)
        return total if reduction == "sum" else total / len(losses)
    return losses.sum() if reduction == "sum" else losses.mean()


def _check_reduction(reduction, name):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction={reduction!r} is not one of 'mean', 'sum', 'none'")


def _each(formula, *args):
    """``formula`` on whole Tensors or on one Value, or element by element on lists of Values."""
    if isinstance(args[0], list):
        return [formula(*row) for row in zip(*args)]
    return formula(*args)


def _clamped_log(p):
    """max(log p, -100), PyTorch's clamp, with a finite gradient (0) at p = 0.

    The inner maximum keeps log away from 0: log(0) is -inf, and its gradient 1/p would
    be 0/0 = nan even where the clamp lets no gradient through.
    """
    return maximum(maximum(p, _TINY).log(), -100.0)


def _weighted(losses, weight, name):
    if weight is None:
        return losses
    return _each(lambda loss, w: loss * w, losses,
                 _broadcast_constant(weight, losses, name, "weight"))


def _operands(input, target, name, target_may_need_grad=False):
    """The input and the target in one form, checked to have the same shape.

    A Tensor input gives two Tensors, the target in the input's dtype (a constant, unless
    ``target_may_need_grad`` and it is a Tensor that requires grad); a Value gives a Value
    and a number; a list of Values gives a list of Values and a list of numbers.
    """
    if isinstance(input, Tensor):
        if input.dtype.kind != "f":
            raise TypeError(f"{name}: input must be a floating point tensor, got {input.dtype}")
        if target_may_need_grad and isinstance(target, Tensor) and target.requires_grad:
            target = target if target.dtype == input.dtype else target.astype(input.dtype)
        else:
            target = Tensor(_data(target), dtype=input.dtype)
        _check_same_shape(input.shape, target.shape, name)
        return input, target
    shape = _shape(input)
    if shape is None:
        raise TypeError(f"{name}: input must be a Tensor, a Value or a list of Values, "
                        f"got {type(input).__name__}")
    targets = np.asarray(_data(target), dtype=object)  # numbers, or Values, as they are
    _check_same_shape(shape, targets.shape, name)
    targets = [t if target_may_need_grad and isinstance(t, Value) else float(t)
               for t in targets.reshape(-1)]
    return (input, targets[0]) if shape == () else (list(input), targets)


def _shape(x):
    """The shape of a loss's input or losses: a Tensor's, () for a Value, (n,) for n Values;
    None for anything else."""
    if isinstance(x, Tensor):
        return x.shape
    if isinstance(x, Value):
        return ()
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, Value) for v in x):
        return (len(x),)
    return None


def _check_same_shape(input_shape, target_shape, name):
    # PyTorch only warns here; broadcasting an (N, 1) input against an (N,) target would
    # compare every prediction with every target, a silent and classic bug.
    if input_shape != target_shape:
        raise ValueError(f"{name}: target shape {target_shape} differs from input shape "
                         f"{input_shape}; losses do not broadcast, reshape one of them")


def _broadcast_constant(value, like, name, what):
    """``weight`` or ``pos_weight`` as a constant that broadcasts to ``like``'s shape: a
    Tensor in its dtype, or a number per element for Values."""
    shape = _shape(like)
    array = np.asarray(_data(value), dtype=like.dtype if isinstance(like, Tensor) else float)
    try:
        fits = np.broadcast_shapes(array.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: {what} of shape {array.shape} does not broadcast to the "
                         f"input's shape {shape}")
    if isinstance(like, Tensor):
        return Tensor(array)
    return np.broadcast_to(array, shape).tolist()  # a float for one Value, else a list


def _class_weights(weight, n_classes, dtype, name):
    if weight is None:
        return np.ones(n_classes, dtype)
    w = np.asarray(_data(weight), dtype=dtype)
    if w.shape != (n_classes,):
        raise ValueError(f"{name}: weight must have one entry per class, shape ({n_classes},), "
                         f"got shape {w.shape}")
    return w


def _check_scores(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor of shape (N, C) or (C,), "
                        f"got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating point tensor, got {input.dtype}")
    if input.ndim not in (1, 2):
        raise ValueError(f"{name}: input must have shape (N, C) or (C,), got {input.shape}")


def _check_unit_interval(x, what, name, hint=""):
    data = _numbers(x)
    outside = ~((data >= 0) & (data <= 1))  # nan counts as outside
    if outside.any():
        raise ValueError(f"{name}: every {what} element must be between 0 and 1, "
                         f"got {data[outside][0]}{hint}")


def _data(x):
    return x.data if isinstance(x, (Tensor, Value)) else x


def _numbers(x) -> np.ndarray:
    """The numbers in a Tensor, a Value, a number or a list of them, as an array."""
    if isinstance(x, list):
        return np.array([_data(v) for v in x], dtype=float)
    return np.asarray(_data(x))


# ----- the same losses as modules (``nn.MSELoss()(pred, target)``), as torch.nn -----

from .module import Module  # noqa: E402  (below the functions it wraps, kept together)


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        _check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """``mse_loss`` as a module: ``nn.MSELoss()(prediction, target)``."""

    def forward(self, input, target):
        return mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    def forward(self, input, target):
        return l1_loss(input, target, self.reduction)


class HingeLoss(_Loss):
    """micrograd's max-margin loss as a module (labels -1 and +1)."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input, target):
        return hinge_loss(input, target, self.margin, self.reduction)


class BCELoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight = weight

    def forward(self, input, target):
        return binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input, target):
        return binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                self.pos_weight)


class NLLLoss(_Loss):
    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input, target):
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(_Loss):
    """``cross_entropy`` as a module: logits and class indices (or class probabilities).

        >>> import nn
        >>> from autograd_core import Tensor
        >>> round(nn.CrossEntropyLoss()(Tensor([[2.0, 0.0], [0.0, 2.0]]), [0, 1]).item(), 6)
        0.126928
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                             self.label_smoothing)
