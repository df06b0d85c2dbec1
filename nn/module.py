"""``Module``, the base of every layer and model, and the containers ``Sequential``,
``ModuleList`` and ``ModuleDict``.

A module finds its parameters and sub-modules by looking at its attributes, in the order they
were set: a ``Parameter`` (or, in the scalar engine, a ``Value``) is a parameter, a ``Module`` a
sub-module, and lists, tuples and dicts of them count too (``self.layers = [Linear(2, 3), ...]``
gives ``layers.0.weight``). So there is nothing to register and ``super().__init__()`` is
optional; only buffers (state that is saved but not learnt, such as BatchNorm's running mean)
are declared, with ``register_buffer``.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Iterator

import numpy as np

from autograd_core import Tensor, Value

from .parameter import Parameter, clear_grad

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and models, as ``torch.nn.Module``.

    Subclasses set parameters and sub-modules as attributes and define ``forward``; calling
    the module calls ``forward``.

        >>> import nn
        >>> class TwoLayer(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = nn.Linear(2, 3)
        ...         self.out = nn.Linear(3, 1)
        ...     def forward(self, x):
        ...         return self.out(self.hidden(x).relu())
        >>> model = TwoLayer()
        >>> [name for name, _ in model.named_parameters()]
        ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
        >>> model.num_parameters()
        13
        >>> model
        TwoLayer(
          (hidden): Linear(in_features=2, out_features=3, bias=True)
          (out): Linear(in_features=3, out_features=1, bias=True)
        )
    """

    training = True  # a class default, so that subclasses need not call super().__init__()
    # Buffers that a loaded state dict may leave out (they keep their value), even if strict.
    _optional_buffers: tuple[str, ...] = ()

    def __init__(self):
        self.training = True

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ----- what a module holds, found from its attributes -----
    def _members(self) -> Iterator[tuple[str, object]]:
        """(name, value) of every attribute, with list/tuple/dict items as ``name.key``."""
        for name, value in vars(self).items():
            if isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    yield f"{name}.{i}", item
            elif isinstance(value, dict):
                for key, item in value.items():
                    yield f"{name}.{key}", item
            else:
                yield name, value

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their attribute names."""
        seen = set()
        for name, value in self._members():
            if isinstance(value, Module) and id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def children(self) -> Iterator[Module]:
        return (module for _, module in self.named_children())

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, depth first, each once, with dotted names."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:  # shared (or cyclic) sub-modules are visited once
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module.named_children()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        return (module for _, module in self.named_modules())

    def _own_parameters(self) -> Iterator[tuple[str, Tensor | Value]]:
        for name, value in self._members():
            if isinstance(value, (Parameter, Value)):
                yield name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """(dotted name, parameter) pairs, each parameter once even if shared."""
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        seen = set()
        for module_name, module in modules:
            for name, parameter in module._own_parameters():
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    yield (f"{module_name}.{name}" if module_name else name), parameter

    def parameters(self, recurse: bool = True) -> Iterator[Tensor | Value]:
        return (parameter for _, parameter in self.named_parameters(recurse=recurse))

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the model learns (each shared parameter counted once)."""
        return sum(1 if isinstance(p, Value) else p.data.size for p in self.parameters()
                   if not trainable_only or not isinstance(p, Tensor) or p.requires_grad)

    def register_buffer(self, name: str, value) -> None:
        """Keep ``value`` (a tensor or array) as ``self.<name>``: saved in state_dict, not learnt."""
        if not isinstance(name, str) or not name.isidentifier():
            raise KeyError(f"buffer name must be an identifier, got {name!r}")
        buffers = self.__dict__.setdefault("_buffer_names", [])
        if name not in buffers:
            buffers.append(name)
        setattr(self, name, None if value is None else value if isinstance(value, Tensor)
                else Tensor(value))

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        for module_name, module in self.named_modules(prefix):
            for name in module.__dict__.get("_buffer_names", ()):
                buffer = getattr(module, name)
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self) -> Iterator[Tensor]:
        return (buffer for _, buffer in self.named_buffers())

    # ----- whole-model operations -----
    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every sub-module, then on this one (PyTorch's order)."""
        seen = set()
        stack = [(self, False)]
        while stack:  # an iterative post-order walk
            module, children_done = stack.pop()
            if children_done:
                fn(module)
            elif id(module) not in seen:
                seen.add(id(module))
                stack.append((module, True))
                stack.extend((child, False) for child in reversed(list(module.children())))
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (``Value`` gradients become 0.0)."""
        for p in self.parameters():
            clear_grad(p, set_to_none)

    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, batch statistics) for this module and all inside it."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every ``Tensor`` parameter, e.g. for fine-tuning."""
        for p in self.parameters():
            if isinstance(p, Tensor):
                p.requires_grad_(requires_grad)
        return self

    # ----- saving and loading -----
    def state_dict(self) -> OrderedDict:
        """Every parameter and buffer as a numpy array (a copy), under its dotted name.

        As in PyTorch, a sub-module held under two names is saved under both (``parameters()``
        lists its parameters once):

            >>> import nn
            >>> shared = nn.Linear(2, 2)
            >>> model = nn.Sequential(shared, nn.Tanh(), shared)
            >>> list(model.state_dict())
            ['0.weight', '0.bias', '2.weight', '2.bias']
            >>> len(list(model.parameters()))
            2
        """
        return OrderedDict((key, np.array(current.data))
                           for key, (_, _, current) in self._state_targets().items())

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or tensors) from ``state_dict`` into the parameters and buffers.

        Everything is checked before anything is written: a missing or unexpected key
        (``strict``) raises ``KeyError``, a wrong shape ``ValueError``, each naming the keys;
        either way the model is left as it was. A BatchNorm's ``num_batches_tracked`` may be
        left out (it keeps its count), as PyTorch allows for state dicts older than it.
        """
        targets = self._state_targets()
        missing = [key for key, (owner, attribute, _) in targets.items()
                   if key not in state_dict and attribute not in owner._optional_buffers]
        unexpected = [key for key in state_dict if key not in targets]
        if strict and (missing or unexpected):
            problems = []
            if missing:
                problems.append(f"missing keys {missing}")
            if unexpected:
                problems.append(f"unexpected keys {unexpected}")
            raise KeyError(f"load_state_dict for {type(self).__name__}: {'; '.join(problems)}")
        updates = []
        for key, (owner, attribute, current) in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = np.asarray(value.data if isinstance(value, (Tensor, Value)) else value)
            shape = np.shape(current.data)
            if array.shape != shape:
                raise ValueError(f"load_state_dict for {type(self).__name__}: {key!r} has shape "
                                 f"{array.shape} in the state dict but {shape} in the model")
            if array.dtype.kind not in "biuf":
                raise ValueError(f"load_state_dict: {key!r} holds {array.dtype} data, not numbers")
            updates.append((owner, attribute, current, array))
        for owner, attribute, current, array in updates:
            if isinstance(current, Value):
                current.data = float(array)
            elif attribute is None:  # a parameter: keep the object, optimisers hold it
                current.data = array.astype(current.dtype, copy=True)
            else:  # a buffer
                setattr(owner, attribute, Tensor(array.astype(current.dtype, copy=True)))
        return IncompatibleKeys(missing, unexpected)

    def _state_targets(self) -> dict:
        """Dotted name -> (module, buffer attribute or None, current parameter or buffer).

        Depth first like ``named_modules()``, but a shared sub-module is listed under each of
        its names, as PyTorch's state_dict does; only a cycle back to an enclosing module is cut.
        """
        targets = {}
        stack = [("", self, frozenset())]
        while stack:
            name, module, enclosing = stack.pop()
            prefix = f"{name}." if name else ""
            for key, parameter in module._own_parameters():
                targets[prefix + key] = (module, None, parameter)
            for key in module.__dict__.get("_buffer_names", ()):
                buffer = getattr(module, key)
                if buffer is not None:
                    targets[prefix + key] = (module, key, buffer)
            enclosing = enclosing | {id(module)}
            children = [(prefix + child_name, child, enclosing)
                        for child_name, child in module._members()
                        if isinstance(child, Module) and id(child) not in enclosing]
            stack.extend(reversed(children))
        return targets

    # ----- printing -----
    def extra_repr(self) -> str:
        """The arguments shown inside this module's parentheses (subclasses override)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self.named_children():
            child_text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_text}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}({extra}" if extra else f"{type(self).__name__}("
        return head + "\n" + "\n".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied one after the other; indexable like a list.

        >>> import nn
        >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
        >>> model[0]
        Linear(in_features=3, out_features=4, bias=True)
        >>> len(model), [name for name, _ in model.named_parameters()][:2]
        (3, ['0.weight', '0.bias'])

    A slice is a Sequential of the same layers under their original names, as in PyTorch
    (an integer index still counts positions):

        >>> tail = model[1:]
        >>> [name for name, _ in tail.named_parameters()], tail[1] is model[2]
        (['2.weight', '2.bias'], True)

    An error inside a layer gets a note saying which layer of the Sequential raised it.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            named = dict(modules[0])
        else:
            named = {str(i): module for i, module in enumerate(modules)}
        for name, module in named.items():
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: item {name} is a {type(module).__name__}, "
                                f"not a Module")
        self._layers = named

    def _members(self):
        return iter(self._layers.items())

    def forward(self, x):
        for name, layer in self._layers.items():
            try:
                x = layer(x)
            except (ValueError, TypeError, IndexError) as error:
                error.add_note(f"raised in layer ({name}) of {type(self).__name__}")
                raise
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):  # the names go along, so state_dict keys stay the same
            return Sequential(OrderedDict(list(self._layers.items())[index]))
        return list(self._layers.values())[index]

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self):
        return iter(self._layers.values())

    def append(self, module: Module) -> Sequential:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: {type(module).__name__} is not a Module")
        self._layers[str(len(self._layers))] = module
        return self


class ModuleList(Module):
    """A list of modules whose parameters the parent finds (``layers.0.weight``, ...).

    A plain Python list works too; ``ModuleList`` is here for code ported from PyTorch.
    """

    def __init__(self, modules=()):
        super().__init__()
        self._items = []
        for module in modules:
            self.append(module)

    def _members(self):
        return ((str(i), module) for i, module in enumerate(self._items))

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: {type(module).__name__} is not a Module")
        self._items.append(module)
        return self

    def __getitem__(self, index):
        return ModuleList(self._items[index]) if isinstance(index, slice) else self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(self._items)


class ModuleDict(Module):
    """A dict of modules, for code ported from PyTorch (a plain dict works as well)."""

    def __init__(self, modules=None):
        super().__init__()
        self._items = {}
        for key, module in dict(modules or {}).items():
            self[key] = module

    def _members(self):
        return iter(self._items.items())

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {type(module).__name__} is not a Module")
        self._items[key] = module

    def __getitem__(self, key: str) -> Module:
        return self._items[key]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def keys(self):
        return self._items.keys()

    def items(self):
        return self._items.items()

    def values(self):
        return self._items.values()
