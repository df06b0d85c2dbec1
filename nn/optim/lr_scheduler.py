"""Learning-rate schedulers with PyTorch's semantics (``torch.optim.lr_scheduler``).

Constructing a scheduler stores each group's starting lr as ``group["initial_lr"]`` (kept if
already there) and takes the first step, which sets ``last_epoch`` to 0 and the lr of epoch 0.
Each ``step()`` then advances one epoch. Resuming with ``last_epoch=k`` (the groups must hold
``initial_lr``) makes that first step go to epoch k + 1 and, as in PyTorch 2.13, leave the
lr the groups hold for ExponentialLR, LinearLR and CosineAnnealingLR. As in PyTorch, most
schedulers compute the new lr from the group's current lr (a recursion), so several
schedulers can be chained on one optimiser; the docstrings give the closed form it equals
when the scheduler runs alone.
"""
import math
import types
from collections import Counter
from collections.abc import Callable

from .optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement ``get_lr()``, the lrs of epoch ``last_epoch``.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=0.5)
        >>> scheduler = StepLR(opt, step_size=2, gamma=0.1)
        >>> scheduler.last_epoch, scheduler.get_last_lr()
        (0, [0.5])
        >>> opt.param_groups[0]["initial_lr"]
        0.5
    """

    # True only during the constructor's step (PyTorch's ``_is_initial``): recursive schedulers
    # then keep the lr the groups hold, which on resuming is the lr already reached.
    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:  # resuming: the groups must say where they started
            for number, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups"
                                   f"[{number}] when resuming an optimizer")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            del self._is_initial  # back to the class's False, and out of state_dict()

    def get_lr(self) -> list[float]:
        """The lr of each group at epoch ``last_epoch`` (called by ``step()``)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new lr into every parameter group."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs set by the latest ``step()``."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimiser (it has its own state_dict)."""
        return {key: _copy(value) for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update({key: _copy(value) for key, value in state_dict.items()})


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs:
    lr = base_lr · gamma^⌊epoch / step_size⌋.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> scheduler = StepLR(opt, step_size=2, gamma=0.5)
        >>> lrs = [scheduler.get_last_lr()[0]]
        >>> for _ in range(5):
        ...     scheduler.step()
        ...     lrs.append(scheduler.get_last_lr()[0])
        >>> lrs
        [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        if step_size <= 0:
            raise ValueError(f"invalid step_size: {step_size} (it must be > 0)")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each milestone epoch:
    lr = base_lr · gamma^(number of milestones ≤ epoch). A milestone listed twice counts twice.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> scheduler = MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
        >>> lrs = [scheduler.get_last_lr()[0]]
        >>> for _ in range(4):
        ...     scheduler.step()
        ...     lrs.append(scheduler.get_last_lr()[0])
        >>> lrs
        [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1,
                 last_epoch: int = -1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        times = self.milestones.get(self.last_epoch, 0)
        if times == 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma ** times for group in self.optimizer.param_groups]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch: lr = base_lr · gamma^epoch.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> scheduler = ExponentialLR(opt, gamma=0.5)
        >>> scheduler.step(); scheduler.step()
        >>> scheduler.get_last_lr()
        [0.25]

    Resuming: the groups hold the lr reached, which the constructor keeps (PyTorch 2.13).

        >>> opt.param_groups[0]["lr"]
        0.25
        >>> scheduler = ExponentialLR(opt, gamma=0.5, last_epoch=2)
        >>> scheduler.last_epoch, scheduler.get_last_lr()
        (3, [0.25])
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from base_lr down to ``eta_min`` over ``T_max`` epochs (SGDR without
    restarts). For t ≤ T_max: lr = eta_min + (base_lr − eta_min)·(1 + cos(π·t / T_max)) / 2.

    As in PyTorch, the lr is computed by the recursion PyTorch documents, so past T_max it
    climbs back up along the same cosine (period 2·T_max).

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> scheduler = CosineAnnealingLR(opt, T_max=2, eta_min=0.0)
        >>> lrs = [scheduler.get_last_lr()[0]]
        >>> for _ in range(2):
        ...     scheduler.step()
        ...     lrs.append(round(scheduler.get_last_lr()[0], 6))
        >>> lrs
        [1.0, 0.5, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        if T_max <= 0:
            raise ValueError(f"invalid T_max: {T_max} (it must be > 0)")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups, t, T_max, eta_min = self.optimizer.param_groups, self.last_epoch, self.T_max, \
            self.eta_min
        if self._is_initial:
            return [group["lr"] for group in groups]
        # PyTorch's closed form for a first step at epoch t > 0; since the constructor's step
        # is the initial one above, it is reached only if _step_count is reset (as there).
        if self._step_count == 1 and t > 0:
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / T_max)) / 2
                    for base_lr in self.base_lrs]
        if (t - 1 - T_max) % (2 * T_max) == 0:  # leaving the trough: the ratio below is 0/0
            return [group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        ratio = (1 + math.cos(math.pi * t / T_max)) / (1 + math.cos(math.pi * (t - 1) / T_max))
        return [ratio * (group["lr"] - eta_min) + eta_min for group in groups]


class LambdaLR(LRScheduler):
    """lr = base_lr · lr_lambda(epoch); ``lr_lambda`` is a function or one function per group.

    ``state_dict()`` keeps the state of callable objects (their ``__dict__``) but not plain
    functions or lambdas, as in PyTorch: give the same functions to the new scheduler.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=2.0)
        >>> scheduler = LambdaLR(opt, lr_lambda=lambda epoch: 1 / (epoch + 1))
        >>> scheduler.step(); scheduler.step()
        >>> scheduler.get_last_lr()  # 2 · 1/3
        [0.6666666666666666]
    """

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} lr_lambdas "
                                 f"(one per parameter group), but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base_lr * lmbda(self.last_epoch)
                for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict:
        state = {key: _copy(value) for key, value in self.__dict__.items()
                 if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if _is_function(fn) else _copy(fn.__dict__)
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        lambda_states = state.pop("lr_lambdas")
        super().load_state_dict(state)
        for fn, fn_state in zip(self.lr_lambdas, lambda_states):
            if fn_state is not None:
                fn.__dict__.update(_copy(fn_state))


class LinearLR(LRScheduler):
    """Scale the lr by a factor going linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs, then keep it:
    lr = base_lr · (start + (end − start)·min(epoch, total_iters) / total_iters).

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> scheduler = LinearLR(opt, start_factor=0.5, end_factor=1.0, total_iters=2)
        >>> lrs = [scheduler.get_last_lr()[0]]
        >>> for _ in range(3):
        ...     scheduler.step()
        ...     lrs.append(scheduler.get_last_lr()[0])
        >>> lrs
        [0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"invalid start_factor: {start_factor} (it must be in (0, 1])")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"invalid end_factor: {end_factor} (it must be in [0, 1])")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups, t = self.optimizer.param_groups, self.last_epoch
        if t == 0:
            return [group["lr"] * self.start_factor for group in groups]
        if self._is_initial or t > self.total_iters:
            return [group["lr"] for group in groups]
        # The factor of epoch t over the factor of epoch t − 1.
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (self.total_iters * self.start_factor + (t - 1) * change)
        return [group["lr"] * ratio for group in groups]


def _copy(value):
    """A copy of plain containers, so a saved state does not change with the scheduler."""
    if isinstance(value, Counter):
        return Counter(value)
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _is_function(fn: Callable) -> bool:
    """Whether ``fn`` is a plain function or lambda (whose state is its code, not saved)."""
    return isinstance(fn, types.FunctionType)
