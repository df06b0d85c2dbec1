"""The ``Optimizer`` base class: parameter groups, per-parameter state, saving and loading.

Subclasses implement ``_update(group)``, which moves every parameter of one group that has
a gradient. Parameters are read and written through ``_array_of``, ``_grad_of`` and
``_assign`` so the same update lines serve ``Tensor`` and scalar ``Value`` parameters.
"""
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from autograd_core import Tensor, Value, enable_grad

from ..parameter import clear_grad


class Optimizer:
    """Base class of the optimisers: holds ``param_groups`` and ``state``, as in PyTorch.

    ``params`` is an iterable of parameters or of dicts (``{"params": [...], "lr": ...}``);
    every group gets the optimiser's defaults for the keys it does not set. ``state`` maps
    each parameter (by identity) to a dict of its buffers.

        >>> import numpy as np
        >>> from autograd_core import Tensor
        >>> from nn.optim import SGD
        >>> w, b = Tensor([1.0, 2.0], requires_grad=True), Tensor(0.0, requires_grad=True)
        >>> opt = SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
        >>> [group["lr"] for group in opt.param_groups]
        [0.1, 0.5]
        >>> w.grad, b.grad = np.array([1.0, 1.0]), np.array(2.0)
        >>> opt.step()
        >>> w.data.tolist(), float(b.data)
        ([0.9, 1.9], -1.0)
        >>> opt.zero_grad()
        >>> w.grad is None
        True
    """

    def __init__(self, params, defaults: dict):
        if isinstance(params, (Tensor, Value)):
            raise TypeError("params should be an iterable of parameters or of dicts, "
                            f"not a single {type(params).__name__}")
        if isinstance(params, (set, frozenset)):
            raise TypeError("parameters should be an ordered iterable; a set's order changes "
                            "between runs, so a saved state would not load back onto them")
        self._validate(defaults)
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _validate(self, hyperparameters: dict) -> None:
        """Raise ValueError naming any invalid hyperparameter (subclasses add their checks)."""
        _check_non_negative(hyperparameters, "lr")

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (with its own hyperparameters, the rest from defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, not {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, (Tensor, Value)):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("parameters should be an ordered iterable; a set's order changes "
                            "between runs, so a saved state would not load back onto them")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, (Tensor, Value)):
                raise TypeError(f"the optimizer can only update Tensor or Value parameters, "
                                f"got {type(p).__name__}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter group contains the same parameter twice")
        already_held = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in already_held for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        self._validate(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``None`` (or zeros) for tensors, ``0.0`` for Values."""
        for group in self.param_groups:
            for p in group["params"]:
                clear_grad(p, set_to_none)

    def step(self, closure: Callable | None = None):
        """Update every parameter that has a gradient; return ``closure()``'s loss if given.

        The closure should clear the gradients, compute the loss and call ``backward()``.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update(group)
        return loss

    def _update(self, group: dict) -> None:
        raise NotImplementedError

    # ----- saving and loading -----
    def state_dict(self) -> dict:
        """The state and hyperparameters, parameters replaced by their index (as in PyTorch).

        It holds only numbers, arrays, lists and dicts (copies: later steps do not change it).
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            indices = []
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
                indices.append(index_of[id(p)])
            saved = {key: _plain_copy(value) for key, value in group.items() if key != "params"}
            saved["params"] = indices
            groups.append(saved)
        state = {index_of[id(p)]: {key: _plain_copy(value) for key, value in buffers.items()}
                 for p, buffers in self.state.items() if id(p) in index_of}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Take the state and hyperparameters of ``state_dict`` for this optimiser's parameters.

        The groups must match this optimiser's in number and sizes (ValueError otherwise).
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                             f"but the optimizer has {len(self.param_groups)}")
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"parameter group {number} of the loaded state dict has "
                                 f"{len(saved['params'])} parameters, but the optimizer's "
                                 f"group {number} has {len(group['params'])}")
        param_of = {}
        for group, saved in zip(self.param_groups, saved_groups):
            param_of.update(zip(saved["params"], group["params"]))

        self.state = defaultdict(dict)
        for index, buffers in state_dict["state"].items():
            if index not in param_of:
                raise ValueError(f"loaded state dict has state for parameter {index}, "
                                 "which no parameter group refers to")
            p = param_of[index]
            self.state[p] = {key: _as_state_of(p, key, value) for key, value in buffers.items()}
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            loaded = {key: _plain_copy(value) for key, value in saved.items() if key != "params"}
            for key, value in loaded.items():  # betas were saved as a list: back to a tuple
                if isinstance(value, list) and isinstance(group.get(key), tuple):
                    loaded[key] = tuple(value)
            self.param_groups[number] = {**loaded, "params": group["params"]}

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items())
                      if key != "params"]
        return "\n".join(lines + [")"])


# ----- reading and writing parameters of either kind -----
def _array_of(p) -> np.ndarray:
    """The parameter's data as an array (a 0-d float64 array for a Value)."""
    return np.asarray(p.data, dtype=np.float64) if isinstance(p, Value) else p.data


def _grad_of(p, maximize: bool = False) -> np.ndarray | None:
    """The gradient as an array (negated when maximizing), or None when there is none."""
    if isinstance(p, Value):
        grad = np.asarray(float(p.grad), dtype=np.float64)
    elif p.grad is None:
        return None
    else:
        grad = np.asarray(p.grad)
        if grad.shape != p.data.shape:  # (set by hand: the update would broadcast θ to it)
            raise ValueError(f"a parameter of shape {p.data.shape} has a .grad of shape "
                             f"{grad.shape}; the optimizer cannot step it")
    return -grad if maximize else grad


def _assign(p, new: np.ndarray) -> None:
    """Rebind the parameter's data (never in place: the old array may be read-only)."""
    if isinstance(p, Value):
        p.data = float(new)
    else:
        p.data = np.asarray(new, dtype=p.data.dtype)


def _params_with_grad(group: dict):
    """The group's parameters that have a gradient, each with it (negated if maximizing)."""
    for p in group["params"]:
        grad = _grad_of(p, group.get("maximize", False))
        if grad is not None:
            yield p, grad


# ----- hyperparameter checks -----
def _check_non_negative(hyperparameters: dict, *names: str) -> None:
    for name in names:
        value = hyperparameters.get(name, 0.0)
        if not value >= 0.0:  # also rejects NaN
            raise ValueError(f"invalid {name}: {value} (it must be >= 0)")


# ----- state_dict helpers -----
def _plain_copy(value):
    """A copy made only of numbers, arrays, lists and dicts (tuples become lists)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return [_plain_copy(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain_copy(item) for key, item in value.items()}
    return value


def _as_state_of(p, key: str, value):
    """A loaded buffer as a fresh writable array of the parameter's dtype (step stays a count)."""
    if key == "step" or not isinstance(value, np.ndarray):
        return _plain_copy(value)
    dtype = np.float64 if isinstance(p, Value) else p.data.dtype
    return np.array(value, dtype=dtype)
