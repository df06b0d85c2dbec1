"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from .optimizer import Optimizer, _array_of, _assign, _check_non_negative, _params_with_grad


class SGD(Optimizer):
    """Stochastic gradient descent with PyTorch's update (``torch.optim.SGD``).

    For each parameter θ with gradient g (negated first when ``maximize``)::

        g ← g + weight_decay·θ
        b ← g at the first step, else momentum·b + (1 − dampening)·g   (if momentum ≠ 0)
        g ← g + momentum·b if nesterov, else b                         (if momentum ≠ 0)
        θ ← θ − lr·g

    The lecture's momentum m ← βm + (1 − β)g is ``SGD(momentum=β, dampening=β)`` (except at
    the first step, where PyTorch starts the buffer at g rather than (1 − β)g).

        >>> import numpy as np
        >>> from autograd_core import Tensor
        >>> w = Tensor([1.0, -2.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1, momentum=0.5)
        >>> for _ in range(2):
        ...     w.grad = np.array([1.0, 1.0])
        ...     opt.step()
        >>> w.data.round(6).tolist()  # 0.1·1, then 0.1·(0.5·1 + 1)
        [0.75, -2.25]
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, maximize: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, hyperparameters: dict) -> None:
        _check_non_negative(hyperparameters, "lr", "momentum", "weight_decay")
        if hyperparameters.get("nesterov") and (hyperparameters["momentum"] <= 0
                                                or hyperparameters["dampening"] != 0):
            raise ValueError("nesterov momentum requires a momentum > 0 and zero dampening")

    def _update(self, group: dict) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov = group["weight_decay"], group["nesterov"]
        for p, grad in _params_with_grad(group):
            param = _array_of(p)
            if weight_decay != 0:
                grad = grad + weight_decay * param
            if momentum != 0:
                state = self.state[p]
                if "momentum_buffer" not in state:
                    buf = np.array(grad, copy=True)  # a copy: grad may be p.grad itself
                else:
                    buf = momentum * state["momentum_buffer"] + (1 - dampening) * grad
                state["momentum_buffer"] = buf
                grad = grad + momentum * buf if nesterov else buf
            step = np.asarray(lr * grad)  # a new array (0-d for a Value)...
            _assign(p, np.subtract(param, step, out=step))  # ...which becomes θ − lr·g
