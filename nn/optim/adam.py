"""Adam and AdamW (Adam with decoupled weight decay)."""
import math

import numpy as np

from .optimizer import Optimizer, _array_of, _assign, _check_non_negative, _params_with_grad


class Adam(Optimizer):
    """Adam with PyTorch's update (``torch.optim.Adam``).

    At step t, for each parameter θ with gradient g (negated first when ``maximize``)::

        g ← g + weight_decay·θ               (θ ← θ·(1 − lr·weight_decay) if decoupled)
        m ← β1·m + (1 − β1)·g                v ← β2·v + (1 − β2)·g²
        v_max ← max(v_max, v); v ← v_max     (if amsgrad)
        θ ← θ − lr·(m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps)

        >>> import numpy as np
        >>> from autograd_core import Tensor
        >>> w = Tensor([1.0, -1.0], requires_grad=True)
        >>> opt = Adam([w], lr=0.1)
        >>> w.grad = np.array([3.0, -0.5])
        >>> opt.step()
        >>> w.data.round(6).tolist()  # the first step moves each entry by about lr
        [0.9, -0.9]

    ``decoupled_weight_decay=True`` makes it AdamW (as in PyTorch 2.13): the decay shrinks θ
    itself instead of joining the gradient.

        >>> w = Tensor([2.0], requires_grad=True)
        >>> opt = Adam([w], lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
        >>> w.grad = np.array([0.0])  # no gradient: only the decay moves w
        >>> opt.step()
        >>> w.data.round(6).tolist()  # 2·(1 − 0.1·0.5)
        [1.9]
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False,
                 maximize: bool = False, decoupled_weight_decay: bool = False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate(self, hyperparameters: dict) -> None:
        _check_non_negative(hyperparameters, "lr", "eps", "weight_decay")
        betas = hyperparameters["betas"]
        if len(betas) != 2:
            raise ValueError(f"invalid betas: {betas} (it must be a pair)")
        for number, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"invalid betas[{number}]: {beta} (it must be in [0, 1))")

    def _update(self, group: dict) -> None:
        lr, eps, weight_decay, amsgrad = group["lr"], group["eps"], group["weight_decay"], \
            group["amsgrad"]
        decoupled = group.get("decoupled_weight_decay", False)  # absent from older saved groups
        beta1, beta2 = group["betas"]
        for p, grad in _params_with_grad(group):
            param = _array_of(p)
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_avg_sq"] = np.zeros_like(param)
                if amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(param)
            state["step"] += 1
            step = state["step"]

            if weight_decay != 0:
                if decoupled:
                    param = param * (1 - lr * weight_decay)  # AdamW: shrink θ itself
                else:
                    grad = grad + weight_decay * param  # Adam: L2 term in the gradient
            exp_avg = beta1 * state["exp_avg"] + (1 - beta1) * grad
            exp_avg_sq = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
            state["exp_avg"], state["exp_avg_sq"] = exp_avg, exp_avg_sq
            if amsgrad:
                # As PyTorch: the maximum of the raw second moments, then bias-corrected.
                previous_max = state.get("max_exp_avg_sq", np.zeros_like(param))
                state["max_exp_avg_sq"] = np.maximum(previous_max, exp_avg_sq)
                exp_avg_sq = state["max_exp_avg_sq"]

            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            denom = np.sqrt(exp_avg_sq) / math.sqrt(bias_correction2) + eps
            _assign(p, param - (lr / bias_correction1) * exp_avg / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (``torch.optim.AdamW``): θ ← θ·(1 − lr·weight_decay)
    before the Adam step, instead of adding weight_decay·θ to the gradient.

        >>> import numpy as np
        >>> from autograd_core import Tensor
        >>> w = Tensor([2.0], requires_grad=True)
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> w.grad = np.array([0.0])  # no gradient: only the decay moves w
        >>> opt.step()
        >>> w.data.round(6).tolist()  # 2·(1 − 0.1·0.5)
        [1.9]
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
                 maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # always decoupled, whatever was saved (as PyTorch)
            group["decoupled_weight_decay"] = True
