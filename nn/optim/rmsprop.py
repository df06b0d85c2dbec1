"""RMSprop, optionally centered and with momentum."""
import numpy as np

from .optimizer import Optimizer, _array_of, _assign, _check_non_negative, _params_with_grad


class RMSprop(Optimizer):
    """RMSprop with PyTorch's update (``torch.optim.RMSprop``).

    For each parameter θ with gradient g (negated first when ``maximize``)::

        g ← g + weight_decay·θ
        v ← α·v + (1 − α)·g²
        ṽ ← v − ḡ², with ḡ ← α·ḡ + (1 − α)·g       (if centered; else ṽ ← v)
        b ← momentum·b + g / (sqrt(ṽ) + eps); θ ← θ − lr·b   (if momentum > 0)
        θ ← θ − lr·g / (sqrt(ṽ) + eps)                     (otherwise)

        >>> import numpy as np
        >>> from autograd_core import Tensor
        >>> w = Tensor([1.0], requires_grad=True)
        >>> opt = RMSprop([w], lr=0.01, alpha=0.75)
        >>> w.grad = np.array([2.0])
        >>> opt.step()
        >>> w.data.round(6).tolist()  # v = 0.25·4 = 1, so the step is 0.01·2/1
        [0.98]
        >>> w.grad = np.array([2.0])
        >>> RMSprop([w], lr=0.01, alpha=0.75, maximize=True).step()  # gradient ascent
        >>> w.data.round(6).tolist()  # a fresh state: the same step, uphill
        [1.0]
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 maximize: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, hyperparameters: dict) -> None:
        _check_non_negative(hyperparameters, "lr", "alpha", "eps", "weight_decay", "momentum")

    def _update(self, group: dict) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum, centered = group["weight_decay"], group["momentum"], \
            group["centered"]
        for p, grad in _params_with_grad(group):
            param = _array_of(p)
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(param)
            state["step"] += 1

            if weight_decay != 0:
                grad = grad + weight_decay * param
            square_avg = alpha * state["square_avg"] + (1 - alpha) * grad * grad
            state["square_avg"] = square_avg
            if centered:
                grad_avg = alpha * state.get("grad_avg", np.zeros_like(param)) + (1 - alpha) * grad
                state["grad_avg"] = grad_avg
                avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
            else:
                avg = np.sqrt(square_avg) + eps
            if momentum > 0:
                buf = momentum * state.get("momentum_buffer", np.zeros_like(param)) + grad / avg
                state["momentum_buffer"] = buf
                _assign(p, param - lr * buf)
            else:
                _assign(p, param - lr * grad / avg)
