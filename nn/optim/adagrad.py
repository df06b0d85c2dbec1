"""Adagrad: per-coordinate steps scaled by the accumulated squared gradients."""
import numpy as np

from .optimizer import Optimizer, _array_of, _assign, _check_non_negative, _params_with_grad


class Adagrad(Optimizer):
    """Adagrad with PyTorch's update (``torch.optim.Adagrad``).

    At step t, for each parameter θ with gradient g (negated first when ``maximize``; the
    sum starts at ``initial_accumulator_value``)::

        lr_t ← lr / (1 + (t − 1)·lr_decay)
        g ← g + weight_decay·θ
        sum ← sum + g²
        θ ← θ − lr_t·g / (sqrt(sum) + eps)

        >>> import numpy as np
        >>> from autograd_core import Tensor
        >>> w = Tensor([1.0, 1.0], requires_grad=True)
        >>> opt = Adagrad([w], lr=0.5)
        >>> w.grad = np.array([2.0, -4.0])
        >>> opt.step()
        >>> w.data.round(6).tolist()  # the first step moves each entry by lr
        [0.5, 1.5]
        >>> v = Tensor([1.0], requires_grad=True)
        >>> opt = Adagrad([v], lr=0.5, maximize=True)  # gradient ascent
        >>> v.grad = np.array([2.0])
        >>> opt.step()
        >>> v.data.round(6).tolist()  # uphill, along the gradient
        [1.5]
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 maximize: bool = False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, hyperparameters: dict) -> None:
        _check_non_negative(hyperparameters, "lr", "lr_decay", "weight_decay",
                            "initial_accumulator_value", "eps")

    def _update(self, group: dict) -> None:
        lr, lr_decay, weight_decay, eps = group["lr"], group["lr_decay"], \
            group["weight_decay"], group["eps"]
        for p, grad in _params_with_grad(group):
            param = _array_of(p)
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["sum"] = np.full_like(param, group["initial_accumulator_value"])
            state["step"] += 1

            if weight_decay != 0:
                grad = grad + weight_decay * param
            decayed_lr = lr / (1 + (state["step"] - 1) * lr_decay)
            state["sum"] = state["sum"] + grad * grad
            _assign(p, param - decayed_lr * grad / (np.sqrt(state["sum"]) + eps))
