"""Learning-rate schedulers with PyTorch's semantics (``torch.optim.lr_scheduler``).

Constructing a scheduler stores each group's starting lr as ``group["initial_lr"]`` (kept if
already there) and takes the first step, which sets ``last_epoch`` to 0 and the lr of epoch 0.
Each ``step()`` then advances one epoch. Resuming with ``last_epoch=k`` (the groups must hold
``initial_lr``) makes that first step go to epoch k + 1 and, as in PyTorch 2.13, leave the
lr the groups hold for ExponentialLR, LinearLR and CosineAnnealingLR. As in PyTorch, most
schedulers compute the new lr from the group's current lr (a recursion), so several
schedulers can be chained on one optimiser; the docstrings give the closed form it equals
when the scheduler runs alone.

Also as in PyTorch: ``ReduceLROnPlateau`` steps with a metric (``step(val_loss)``) and does
not step in its constructor; ``OneCycleLR`` is stepped after every batch and also cycles the
momentum; ``SequentialLR`` hands over from one scheduler to the next at milestones and
``ChainedScheduler`` steps several at once.
"""
import math
import types
from bisect import bisect_right
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
        self._update_lr()

    def _update_lr(self, epoch: int | None = None) -> None:
        """Go to the next epoch, or jump to ``epoch`` and use the closed form if the class has
        one (PyTorch's path for ``step(epoch)``, which SequentialLR takes at its milestones)."""
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            lrs = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
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

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


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

    def _get_closed_form_lr(self) -> list[float]:
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base_lr * self.gamma ** passed for base_lr in self.base_lrs]


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

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


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

    def _get_closed_form_lr(self) -> list[float]:
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class _LambdaScheduler(LRScheduler):
    """LambdaLR and MultiplicativeLR: one function of the epoch per group, saved if stateful."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} lr_lambdas "
                                 f"(one per parameter group), but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

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


class LambdaLR(_LambdaScheduler):
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

    def get_lr(self) -> list[float]:
        return [base_lr * lmbda(self.last_epoch)
                for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    """Multiply the lr by ``lr_lambda(epoch)`` at each step after the constructor's:
    lr = base_lr · lr_lambda(1) · lr_lambda(2) ⋯ lr_lambda(epoch). ``lr_lambda`` is a
    function or one function per group; ``state_dict()`` saves them as LambdaLR does.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> scheduler = MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.5)
        >>> lrs = [scheduler.get_last_lr()[0]]
        >>> for _ in range(3):
        ...     scheduler.step()
        ...     lrs.append(scheduler.get_last_lr()[0])
        >>> lrs
        [1.0, 0.5, 0.25, 0.125]
    """

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [group["lr"] for group in groups]
        return [group["lr"] * lmbda(self.last_epoch)
                for lmbda, group in zip(self.lr_lambdas, groups)]


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

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                           * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """Multiply the lr by ``factor`` until epoch ``total_iters``, then give it back:
    lr = base_lr · factor for epoch < total_iters, base_lr from then on.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> scheduler = ConstantLR(opt, factor=0.5, total_iters=2)
        >>> lrs = [scheduler.get_last_lr()[0]]
        >>> for _ in range(3):
        ...     scheduler.step()
        ...     lrs.append(scheduler.get_last_lr()[0])
        >>> lrs
        [0.5, 0.5, 1.0, 1.0]
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1):
        # PyTorch also takes factor = 0, then divides by it at total_iters
        if not 0 < factor <= 1:
            raise ValueError(f"invalid factor: {factor} (it must be in (0, 1])")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in groups]
        if self.last_epoch != self.total_iters:
            return [group["lr"] for group in groups]
        return [group["lr"] * (1.0 / self.factor) for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters)
                           * (1 - self.factor)) for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the lr to 0 over ``total_iters`` epochs, then keep it there:
    lr = base_lr · (1 − min(epoch, total_iters) / total_iters)^power.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> scheduler = PolynomialLR(opt, total_iters=4, power=2.0)
        >>> lrs = [scheduler.get_last_lr()[0]]
        >>> for _ in range(5):
        ...     scheduler.step()
        ...     lrs.append(round(scheduler.get_last_lr()[0], 6))
        >>> lrs
        [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1):
        if not total_iters > 0:  # PyTorch divides by it
            raise ValueError(f"invalid total_iters: {total_iters} (it must be > 0)")
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups, t, total = self.optimizer.param_groups, self.last_epoch, self.total_iters
        if self._is_initial or t > total:
            return [group["lr"] for group in groups]
        decay = ((1.0 - t / total) / (1.0 - (t - 1) / total)) ** self.power
        return [group["lr"] * decay for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters)
                ** self.power for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from base_lr towards ``eta_min``, restarting at base_lr every T_i
    epochs (SGDR), where T_0 is the first period and each restart multiplies it by ``T_mult``:
    lr = eta_min + (base_lr − eta_min)·(1 + cos(π·T_cur / T_i)) / 2, T_cur the epochs since
    the last restart.

    ``step(epoch)`` also takes an epoch, fractional ones included (``epoch + i / batches``
    to step after every batch), and jumps there, as PyTorch's does; ``step()`` goes on from it.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> scheduler = CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
        >>> lrs = [scheduler.get_last_lr()[0]]
        >>> for _ in range(6):
        ...     scheduler.step()
        ...     lrs.append(round(scheduler.get_last_lr()[0], 6))
        >>> lrs  # periods of 2, then 4 epochs
        [1.0, 0.5, 1.0, 0.853553, 0.5, 0.146447, 1.0]
        >>> scheduler.step(0.5); round(scheduler.get_last_lr()[0], 6)
        0.853553
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1):
        if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"invalid T_0: {T_0!r} (it must be a positive integer)")
        if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"invalid T_mult: {T_mult!r} (it must be an integer >= 1)")
        if isinstance(eta_min, bool) or not isinstance(eta_min, (int, float)):
            raise ValueError(f"invalid eta_min: {eta_min!r} (it must be a number)")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or go to ``epoch`` (a float is a fraction of the way through)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"invalid epoch: {epoch} (it must be >= 0)")
        elif epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:  # restarts so far: T_0·(1 + T_mult + … + T_mult^(n−1)) ≤ epoch
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult ** n
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


class OneCycleLR(LRScheduler):
    """The 1cycle policy, stepped after every batch: the lr goes from max_lr / div_factor up
    to ``max_lr`` over the first ``pct_start`` of ``total_steps`` (or ``epochs ·
    steps_per_epoch``), then down to max_lr / (div_factor · final_div_factor) by the last step,
    along a cosine (``anneal_strategy='cos'``) or a line (``'linear'``). ``three_phase=True``
    comes back down to max_lr / div_factor symmetrically first, then to the minimum.

    Built with ``last_epoch=-1`` it sets each group's ``initial_lr``, ``max_lr`` and
    ``min_lr``. ``max_lr``, ``base_momentum`` and ``max_momentum`` are a number or one per
    group. With ``cycle_momentum`` (the default, as in PyTorch) the momentum moves the other
    way, from ``max_momentum`` down to ``base_momentum`` and back: the group's ``momentum``
    (SGD, RMSprop) or ``betas[0]`` (Adam, AdamW); an optimiser with neither (Adagrad) needs
    ``cycle_momentum=False``. The lr reaches its minimum at step ``total_steps − 1``; as in
    PyTorch one more step is allowed (it extends the last phase) and any further one raises
    ValueError.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=0.1, momentum=0.9)
        >>> scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=4, pct_start=0.5,
        ...                        anneal_strategy="linear", div_factor=10.0, final_div_factor=1.0)
        >>> lrs, momenta = [scheduler.get_last_lr()[0]], [opt.param_groups[0]["momentum"]]
        >>> for _ in range(3):
        ...     scheduler.step()
        ...     lrs.append(round(scheduler.get_last_lr()[0], 6))
        ...     momenta.append(round(opt.param_groups[0]["momentum"], 6))
        >>> lrs, momenta
        ([0.1, 1.0, 0.55, 0.1], [0.95, 0.85, 0.9, 0.95])
    """

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if total_steps is not None:
            _check_positive_int("total_steps", total_steps)
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            _check_positive_int("epochs", epochs)
            _check_positive_int("steps_per_epoch", steps_per_epoch)
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR needs total_steps, or epochs and steps_per_epoch")
        if isinstance(pct_start, bool) or not 0 <= pct_start <= 1:
            raise ValueError(f"invalid pct_start: {pct_start!r} (it must be in [0, 1])")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"invalid anneal_strategy: {anneal_strategy!r} "
                             f"(it must be 'cos' or 'linear')")
        for name, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if not value > 0:
                raise ValueError(f"invalid {name}: {value} (it must be > 0)")
        self._anneal_func_type = anneal_strategy
        # Each phase ends at a step and goes from one group key to another.
        up = dict(end_step=float(pct_start * self.total_steps) - 1, start_lr="initial_lr",
                  end_lr="max_lr", start_momentum="max_momentum", end_momentum="base_momentum")
        last = dict(end_step=self.total_steps - 1, start_lr="max_lr", end_lr="min_lr",
                    start_momentum="base_momentum", end_momentum="max_momentum")
        if three_phase:
            down = dict(end_step=float(2 * pct_start * self.total_steps) - 2, start_lr="max_lr",
                        end_lr="initial_lr", start_momentum="base_momentum",
                        end_momentum="max_momentum")
            last.update(start_lr="initial_lr", start_momentum="max_momentum")
            self._schedule_phases = [up, down, last]
        else:
            self._schedule_phases = [up, last]

        groups, max_lrs = optimizer.param_groups, _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, top in zip(groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"{type(optimizer).__name__} has no momentum or betas for "
                                 f"cycle_momentum to cycle: pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            highs = _per_group("max_momentum", optimizer, max_momentum)
            lows = _per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for group, high, low in zip(groups, highs, lows):
                    self._set_momentum(group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict, momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR stepped {step} times, past its total_steps="
                             f"{self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for number, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step <= end_step or number == len(self._schedule_phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]],
                                            pct))
                    if self.cycle_momentum:  # written now, as PyTorch does
                        self._set_momentum(group, self._anneal(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct))
                    break
                start_step = end_step
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` once a metric has stopped improving for more than
    ``patience`` calls of ``step(metric)``; never below ``min_lr`` (a number or one per group),
    and not at all if the change would be at most ``eps``.

    A metric improves on the best so far if it is lower (``mode='min'``) or higher (``'max'``)
    by more than ``threshold``, relative to the best (``threshold_mode='rel'``) or absolute
    (``'abs'``). After a reduction, ``cooldown`` steps count no bad epochs. As in PyTorch 2.13
    it is an LRScheduler with ``get_last_lr()`` and ``state_dict()``, but the constructor does
    not step and ``last_epoch`` starts at 0; it cannot go into SequentialLR or ChainedScheduler.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=1)
        >>> lrs = []
        >>> for loss in [3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0]:
        ...     scheduler.step(loss)
        ...     lrs.append(scheduler.get_last_lr()[0])
        >>> lrs  # the second epoch without improvement halves the lr
        [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr=0, eps: float = 1e-8):
        if not 0 <= factor < 1:  # PyTorch checks only factor < 1
            raise ValueError(f"invalid factor: {factor} (it must be in [0, 1))")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if not value >= 0:
                raise ValueError(f"invalid {name}: {value} (it must be >= 0)")
        self.factor = factor
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = _per_group("min_lr", optimizer, min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"invalid mode: {mode!r} (it must be 'min' or 'max')")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"invalid threshold_mode: {threshold_mode!r} "
                             f"(it must be 'rel' or 'abs')")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics) -> None:
        """Count one epoch with this value of the metric (a number or a 1-element tensor)."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):  # a group was added since
            if self.default_min_lr is None:
                raise RuntimeError(f"the optimizer has {len(groups)} parameter groups but "
                                   f"ReduceLROnPlateau has {len(self.min_lrs)} min_lrs: set "
                                   f"its min_lrs to one per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


class _SchedulerOfSchedulers(LRScheduler):
    """SequentialLR and ChainedScheduler: their state_dict holds their schedulers'."""

    def state_dict(self) -> dict:
        state = {key: _copy(value) for key, value in self.__dict__.items()
                 if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        scheduler_states = state.pop("_schedulers")
        super().load_state_dict(state)
        for scheduler, scheduler_state in zip(self._schedulers, scheduler_states):
            scheduler.load_state_dict(scheduler_state)


class SequentialLR(_SchedulerOfSchedulers):
    """Run ``schedulers[0]`` until epoch ``milestones[0]``, then ``schedulers[1]`` (started
    afresh at its epoch 0 from the base lrs) until ``milestones[1]``, and so on: e.g. a
    warm-up, then a decay. The schedulers must be built on ``optimizer`` first.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> warmup = LinearLR(opt, start_factor=0.25, total_iters=3)
        >>> decay = ExponentialLR(opt, gamma=0.5)
        >>> scheduler = SequentialLR(opt, schedulers=[warmup, decay], milestones=[3])
        >>> lrs = [scheduler.get_last_lr()[0]]
        >>> for _ in range(5):
        ...     scheduler.step()
        ...     lrs.append(scheduler.get_last_lr()[0])
        >>> lrs
        [0.25, 0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, schedulers, milestones, last_epoch: int = -1):
        _check_schedulers("SequentialLR", optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR expects one milestone fewer than schedulers, but "
                             f"got {len(schedulers)} schedulers and {len(milestones)} "
                             f"milestones")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # As PyTorch: back to the initial lrs, undo the constructors' steps, and take the
        # first step of the scheduler of epoch 0 only.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            _undo_initial_step(scheduler)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        number = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[number]
        if number > 0 and self._milestones[number - 1] == self.last_epoch:
            scheduler._update_lr(0)  # its epoch 0, by its closed form where it has one
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_SchedulerOfSchedulers):
    """Step several schedulers of one optimiser at once, in order: each recursive scheduler
    multiplies the lr the previous one left, so their factors compose.

        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
        >>> scheduler = ChainedScheduler([ConstantLR(opt, factor=0.5, total_iters=2),
        ...                               ExponentialLR(opt, gamma=0.5)])
        >>> lrs = [scheduler.get_last_lr()[0]]
        >>> for _ in range(3):
        ...     scheduler.step()
        ...     lrs.append(scheduler.get_last_lr()[0])
        >>> lrs  # 0.5 · 0.5^epoch, then 0.5^epoch from epoch 2
        [0.5, 0.25, 0.25, 0.125]
    """

    def __init__(self, schedulers, optimizer: Optimizer | None = None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler, but got none")
        if optimizer is None:
            optimizer = getattr(schedulers[0], "optimizer", None)
        _check_schedulers("ChainedScheduler", optimizer, schedulers)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = [group["lr"] for group in self._schedulers[-1].optimizer.param_groups]

    def step(self) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [group["lr"] for group in self._schedulers[-1].optimizer.param_groups]


def _check_schedulers(name: str, optimizer: Optimizer, schedulers) -> None:
    if len(schedulers) < 1:
        raise ValueError(f"{name} expects at least one scheduler, but got none")
    for number, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{name}: the scheduler at index {number} "
                            f"({type(scheduler).__name__}) has no optimizer")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{name} does not support ReduceLROnPlateau (its step needs the "
                             f"metric), but got one at index {number}")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"{name} expects all schedulers to belong to the same optimizer, "
                             f"but the {type(scheduler).__name__} at index {number} has another")


def _undo_initial_step(scheduler) -> None:
    """Take back the constructor's step (its epoch), recursively as PyTorch's recursive_undo."""
    if hasattr(scheduler, "_schedulers"):
        for inner in scheduler._schedulers:
            _undo_initial_step(inner)
    elif hasattr(scheduler, "last_epoch"):
        scheduler.last_epoch -= 1


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"invalid {name}: {value!r} (it must be a positive integer)")


def _per_group(name: str, optimizer: Optimizer, value) -> list:
    """``value`` for each parameter group: a list or tuple of one per group, or one for all."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"expected {len(optimizer.param_groups)} values of {name} (one per "
                             f"parameter group), but got {len(value)}")
        return list(value)
    return [value] * len(optimizer.param_groups)


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
