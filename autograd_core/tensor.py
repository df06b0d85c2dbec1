"""``Tensor``: a numpy array on the same graph, op table and backward loop as ``Value``."""
from __future__ import annotations

import math
import numbers
import sys

import numpy as np

from . import graph, ops
from .graph import LEAF, Node, _link
from .rng import rng

__all__ = ["Tensor", "zeros", "ones", "randn", "arange", "one_hot"]

_new = object.__new__


def _refs_of_a_private_argument() -> int:
    """What ``sys.getrefcount`` says, in a method, of an argument that nothing but the
    caller's variable holds (3 on CPython 3.11: the variable, the parameter, getrefcount's
    own argument). Measured, not assumed: interpreters differ in the references they count.
    """
    class Probe:
        def count(self, g):
            return sys.getrefcount(g)

    def caller(probe):
        contribution = np.empty(1)
        return probe.count(contribution)

    return caller(Probe())


_REFS_OF_A_PRIVATE_ARGUMENT = _refs_of_a_private_argument()


def _operator(op):
    """The method for ``a <op> b`` and its reflected twin for ``b <op> a``, on tensors.

    A number or array operand becomes a constant tensor here, directly: the general
    conversion in ``_apply`` costs as much as the operation itself on a small tensor.
    """
    name = op.name

    def apply(self, other):
        return _apply(op, (self, other if isinstance(other, Tensor) else _constant(other, self, name)))

    def reflected(self, other):
        return _apply(op, (other if isinstance(other, Tensor) else _constant(other, self, name), self))

    apply.__name__, reflected.__name__ = f"__{name}__", f"__r{name}__"
    apply.__doc__ = f"self {op.symbol} other, recorded as the op {name!r}."
    reflected.__doc__ = f"other {op.symbol} self, recorded as the op {name!r}."
    return apply, reflected


class Tensor(Node):
    """An n-dimensional array that records how it was computed, with PyTorch's semantics.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data`` into a numpy array:
    float data stays as given (float32 is kept, Python floats become float64); integer or
    bool data may be wrapped but cannot require a gradient. Broadcasting follows numpy; the
    gradient of a broadcast input is summed back to its shape.

        >>> from autograd_core import Tensor
        >>> w = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> x = Tensor([1.0, 0.5])
        >>> loss = (w @ x).relu().sum()
        >>> loss.backward()
        >>> w.grad
        array([[1. , 0.5],
               [1. , 0.5]])
        >>> (w * 2).sum().backward()  # leaf gradients accumulate
        >>> w.grad
        array([[3. , 2.5],
               [3. , 2.5]])

    Once an operation whose backward reads a tensor has recorded it (``x * w`` does, ``x + w``
    does not: its gradient needs neither), its array is read-only, and so is a result that
    its own backward reads (``x.exp()``'s). Change the tensor by rebinding
    ``t.data = new_array`` (or ``with no_grad(): t -= step``, which rebinds too). A tensor
    whose array was rebound after such an operation used it cannot be back-propagated
    through that operation: backward raises. Leaves get ``.grad`` (same shape and dtype as
    the data); intermediate tensors only after ``retain_grad()``.
    """

    __slots__ = ("_rest", "_saved", "_retains_grad", "_hooks")
    __array_ufunc__ = None  # numpy defers to our reflected operators: ndarray + Tensor is a Tensor
    _has_rest = True  # cat and stack take any number of inputs
    _keeps_grads = False
    _float_grads = False
    _fresh_grad = None

    def __init__(self, data, requires_grad: bool = False, dtype=None, label: str = ""):
        if isinstance(data, Node):
            data = data.data
        array = _checked_array(data, dtype)
        _init(self, array, requires_grad)
        self.label = label

    # ----- construction -----
    @staticmethod
    def _apply(op, inputs, params=()):
        """Apply a row of the op table (numbers and arrays among ``inputs`` become constants)."""
        for x in inputs:
            if not isinstance(x, Tensor):
                inputs = _with_constants(inputs, op.name)
                break
        datas = (inputs[0].data, inputs[1].data) if len(inputs) == 2 else tuple(
            [x.data for x in inputs])
        try:
            data = op.forward(*datas, *params)
        except (ValueError, IndexError) as error:  # numpy's words, plus what the user passed
            shapes = " and ".join(str(d.shape) for d in datas)
            raise type(error)(f"{op.name} of tensors of shapes {shapes}: {error}") from None
        out = _new(Tensor)
        out.data = data if type(data) is np.ndarray else np.asarray(data)  # numpy gives 0-d
        out.grad = None                                                      # results as scalars
        out.label = ""
        out._ctx = out._rest = out._saved = ()
        out._retains_grad = False
        out._op = out._a = out._b = out._hooks = None
        if _link(out, op, inputs, params):
            # Backward will read the inputs (or the result is a view of them, as a transpose's
            # is, which a later op may read): nobody may change or replace them.
            if op.reads_inputs or out.data.base is not None:
                out._saved = datas
                for array in datas:
                    if array.flags.writeable:
                        array.setflags(write=False)
            if op.reads_out:  # (exp's gradient is g * out): nor the result
                out.data.setflags(write=False)
        return out

    # ----- arithmetic: each operator is generated from its row of the op table -----
    __add__, __radd__ = _operator(ops.add)
    __sub__, __rsub__ = _operator(ops.sub)
    __mul__, __rmul__ = _operator(ops.mul)
    __truediv__, __rtruediv__ = _operator(ops.div)
    __pow__, __rpow__ = _operator(ops.power)
    __matmul__, __rmatmul__ = _operator(ops.matmul)

    def __neg__(self):
        return _apply(ops.neg, (self,))

    def __pos__(self):
        return self

    # In-place operators as PyTorch allows them. On a tensor with history, ``t += x`` records
    # ``t + x`` and ``t`` names the result (``running_loss += loss`` keeps every graph, as in
    # PyTorch). On a leaf that requires grad they are refused while grad mode is on (the
    # update would be lost to backward); under ``no_grad`` they rebind the leaf's array, so
    # arrays saved by earlier graphs never change.
    def _in_place(self, result):
        if self.requires_grad and graph.is_grad_enabled():
            if self._a is not None:
                return result
            raise RuntimeError(
                "a leaf tensor that requires grad is used in an in-place operation: use "
                "`t = t + x`, or update it under `with no_grad():`")
        self.data = result.data.astype(self.data.dtype, copy=False)
        return self

    def __iadd__(self, other):
        return self._in_place(self + other)

    def __isub__(self, other):
        return self._in_place(self - other)

    def __imul__(self, other):
        return self._in_place(self * other)

    def __itruediv__(self, other):
        return self._in_place(self / other)

    # ----- comparisons: bool tensors, no gradient -----
    def __lt__(self, other):
        return _compare(np.less, self, other)

    def __le__(self, other):
        return _compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _compare(np.greater, self, other)

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other)

    def __eq__(self, other):
        return _compare(np.equal, self, other)

    def __ne__(self, other):
        return _compare(np.not_equal, self, other)

    # ----- logic on bool tensors (masks): no gradient, as comparisons; both directions alike
    # because the ufuncs are symmetric -----
    __and__ = __rand__ = lambda self, other: _compare(np.bitwise_and, self, other)
    __or__ = __ror__ = lambda self, other: _compare(np.bitwise_or, self, other)
    __xor__ = __rxor__ = lambda self, other: _compare(np.bitwise_xor, self, other)

    def __invert__(self):
        return _compare(lambda a, _: np.invert(a), self, None)

    __hash__ = Node.__hash__  # nodes are keys by identity

    # ----- elementwise functions -----
    def exp(self):
        return _apply(ops.exp, (self,))

    def log(self):
        return _apply(ops.log, (self,))

    def sqrt(self):
        return _apply(ops.sqrt, (self,))

    def sin(self):
        return _apply(ops.sin, (self,))

    def cos(self):
        return _apply(ops.cos, (self,))

    def tanh(self):
        return _apply(ops.tanh, (self,))

    def sigmoid(self):
        return _apply(ops.sigmoid, (self,))

    def softplus(self):
        return _apply(ops.softplus, (self,))

    def erf(self):
        return _apply(ops.erf, (self,))

    def relu(self):
        return _apply(ops.relu, (self,))

    def leaky_relu(self, slope: float = 0.01):
        if not isinstance(slope, numbers.Real):
            raise TypeError(f"leaky_relu slope must be a real number, got {type(slope).__name__}")
        return _apply(ops.leaky_relu, (self,), (float(slope),))

    def abs(self):
        return _apply(ops.absolute, (self,))

    __abs__ = abs

    def clip(self, min=None, max=None):
        """Values below ``min`` become ``min``, above ``max`` become ``max`` (gradient 1 inside)."""
        if isinstance(min, Node) or isinstance(max, Node):
            raise TypeError("clip: min and max are numbers or arrays, not tensors (for bounds "
                            "that need a gradient, use maximum and minimum)")
        return _apply(ops.clip, (self,), (min, max))

    clamp = clip

    # ----- reductions -----
    def sum(self, axis=None, keepdims: bool = False):
        axis = None if axis is None else _axis(axis, self.ndim)
        return _apply(ops.total, (self,), (axis, bool(keepdims)))

    def mean(self, axis=None, keepdims: bool = False):
        return _apply(ops.mean, (self,), (_axis(axis, self.ndim), bool(keepdims)))

    def max(self, axis=None, keepdims: bool = False):
        """Largest element(s); ties share the gradient evenly."""
        return _apply(ops.amax, (self,), (_axis(axis, self.ndim), bool(keepdims)))

    def min(self, axis=None, keepdims: bool = False):
        """Smallest element(s); ties share the gradient evenly."""
        return _apply(ops.amin, (self,), (_axis(axis, self.ndim), bool(keepdims)))

    def var(self, axis=None, keepdims: bool = False, correction: int = 1):
        """Variance with Bessel's correction by default, as ``torch.var``."""
        axis = _axis(axis, self.ndim)
        centred = self - self.mean(axis, keepdims=True)
        count = self.size if axis is None else int(np.prod([self.shape[a] for a in (
            axis if isinstance(axis, tuple) else (axis,))]))
        return (centred * centred).sum(axis, keepdims) / max(count - correction, 0)

    def std(self, axis=None, keepdims: bool = False, correction: int = 1):
        """Square root of ``var``; where all values are equal its gradient is 0 (a kink)."""
        return _apply(ops.std, (self.var(axis, keepdims, correction),))

    def logsumexp(self, axis=-1, keepdims: bool = False):
        """log(sum(exp(x))) along ``axis``, finite for inputs of any size."""
        return _apply(ops.logsumexp, (self,), (_axis(axis, self.ndim), bool(keepdims)))

    def softmax(self, axis=-1):
        return _apply(ops.softmax, (self,), (_axis(axis, self.ndim),))

    def log_softmax(self, axis=-1):
        return _apply(ops.log_softmax, (self,), (_axis(axis, self.ndim),))

    # ----- shapes -----
    def astype(self, dtype) -> "Tensor":
        """This tensor in another float dtype (``.to(dtype)`` in PyTorch); the gradient is cast back."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f" and self.requires_grad:
            raise TypeError(f"astype: a tensor that requires grad can only become a float dtype, "
                            f"not {dtype}")
        return _apply(ops.astype, (self,), (dtype,))

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return _apply(ops.reshape, (self,), (tuple(int(n) for n in shape),))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        start, end = _dim(start_dim, self.ndim, "start_dim"), _dim(end_dim, self.ndim, "end_dim")
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        if self.ndim == 0:
            return self.reshape(1)
        return self.reshape(*self.shape[:start], -1, *self.shape[end + 1:])

    def transpose(self, *axes):
        """``transpose()`` reverses the axes; ``transpose(dim0, dim1)`` swaps two of them, as in
        PyTorch; ``transpose((2, 0, 1))`` (one sequence) permutes them, as in numpy."""
        if not axes:
            return _apply(ops.transpose, (self,), (None,))
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            return self.permute(*axes[0])
        if len(axes) == 2:
            return self.swapaxes(*axes)
        raise TypeError("transpose takes no axes, two axes to swap, or one sequence of all axes")

    def permute(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        if len(axes) != self.ndim:
            raise ValueError(f"permute: {tuple(axes)} is not a permutation of the axes of shape "
                             f"{self.shape}")
        order = tuple(_dim(a, self.ndim, "permute: axis") for a in axes)
        if sorted(order) != list(range(self.ndim)):
            raise ValueError(f"permute: {tuple(axes)} is not a permutation of the axes of shape "
                             f"{self.shape}")
        return _apply(ops.transpose, (self,), (order,))

    def swapaxes(self, axis1: int, axis2: int):
        axis1, axis2 = _dim(axis1, self.ndim, "axis"), _dim(axis2, self.ndim, "axis")
        if self.ndim == 0:
            return _apply(ops.transpose, (self,), (None,))
        order = list(range(self.ndim))
        order[axis1], order[axis2] = order[axis2], order[axis1]
        return _apply(ops.transpose, (self,), (tuple(order),))

    @property
    def T(self):
        return _apply(ops.transpose, (self,), (None,))

    def squeeze(self, axis=None):
        if axis is None:
            return self.reshape(*[n for n in self.shape if n != 1])
        axes = {_dim(a, self.ndim, "squeeze: axis")
                for a in (axis if isinstance(axis, (tuple, list)) else (axis,))}
        if self.ndim == 0:
            return self.reshape(())
        for a in axes:
            if self.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {self.shape} has size {self.shape[a]}, not 1")
        return self.reshape(*[n for i, n in enumerate(self.shape) if i not in axes])

    def unsqueeze(self, axis: int):
        if not -self.ndim - 1 <= axis <= self.ndim:  # (one more place than there are axes)
            raise np.exceptions.AxisError(
                f"unsqueeze: axis {axis} is out of range for a tensor with {self.ndim} "
                f"dimensions (from {-self.ndim - 1} to {self.ndim})")
        axis = _dim(axis, self.ndim + 1, "unsqueeze: axis")
        return self.reshape(*self.shape[:axis], 1, *self.shape[axis:])

    def expand(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        new_axes = len(shape) - self.ndim
        if new_axes < 0:
            raise ValueError(f"expand: shape {tuple(shape)} has fewer dimensions than the "
                             f"tensor's {self.shape}")
        if -1 in shape[:new_axes]:
            raise ValueError(f"expand: -1 (keep the size) in {tuple(shape)} names a new leading "
                             f"axis, which has no size to keep")
        shape = tuple(old if new == -1 else new for old, new in
                      zip((1,) * new_axes + self.shape, shape))
        try:
            np.broadcast_shapes(self.shape, shape)
        except ValueError:
            raise ValueError(f"expand: shape {self.shape} cannot be broadcast to {shape}") from None
        return _apply(ops.expand, (self,), (shape,))

    def broadcast_to(self, shape):
        return self.expand(*shape)

    def __getitem__(self, index):
        return _apply(ops.getitem, (self,), (_index(index),))

    def split(self, split_size_or_sections, axis: int = 0):
        """Pieces of ``split_size`` along ``axis`` (the last may be smaller), or of the sizes
        listed, as ``torch.split``."""
        if self.ndim == 0:
            raise ValueError("split: a 0-d tensor has no axis to split")
        axis = _dim(axis, self.ndim, "split: axis")
        length = self.shape[axis]
        if isinstance(split_size_or_sections, numbers.Integral):
            size = int(split_size_or_sections)
            if size <= 0:
                raise ValueError(f"split: size must be positive, got {size}")
            # (an empty axis gives one empty piece, as torch.split)
            sizes = [min(size, length - start) for start in range(0, length, size)] or [0]
        else:
            sizes = [int(n) for n in split_size_or_sections]
            if sum(sizes) != length:
                raise ValueError(f"split: sizes {sizes} do not add up to {length} along axis {axis}")
        starts = np.cumsum([0, *sizes[:-1]])
        before = (slice(None),) * axis
        return tuple(self[before + (slice(int(s), int(s) + n),)] for s, n in zip(starts, sizes))

    # ----- properties and conversions -----
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def numel(self) -> int:
        """The number of elements (PyTorch's name for ``size``)."""
        return self.data.size

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` on this leaf in place and return it (freezing a parameter)."""
        self.requires_grad = requires_grad  # the setter refuses non-float data
        return self

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def item(self):
        """The single element as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): the tensor has {self.data.size} elements, not 1")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The array (read-only: copy it to change it)."""
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __float__(self):
        return float(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError("the truth value of a tensor with more than one element is ambiguous")
        return bool(self.data.item())

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = [] if self.dtype == np.float64 else [f"dtype={self.dtype}"]
        if self.requires_grad:
            extras.append("requires_grad=True" if self._a is None else f"op={self.op!r}")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    # ----- graph utilities -----
    def detach(self) -> "Tensor":
        """A new leaf sharing this tensor's array, with no history (as in PyTorch, the two
        share memory; the array is read-only if a graph's backward will read it)."""
        out = _new(Tensor)
        _init(out, self.data, False)
        return out

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this intermediate tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True

    def _seed_gradient(self, grad):
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; this tensor "
                    f"has shape {self.shape}: pass backward(grad=...) of that shape")
            # One read-only seed per dtype and shape serves every backward: the engine
            # never changes a gradient in place, and read-only makes sure nobody else does.
            key = (self.data.dtype, self.data.shape)
            seed = _unit_seeds.get(key)
            if seed is None:
                seed = _unit_seeds[key] = np.ones(self.data.shape, self.data.dtype)
                seed.flags.writeable = False
            return seed
        try:
            seed = np.array(grad.data if isinstance(grad, Node) else grad, dtype=self.dtype)
        except (TypeError, ValueError):
            raise TypeError(f"backward(grad=...) must be numbers of shape {self.shape}, got "
                            f"{type(grad).__name__} {grad!r:.60}") from None
        if seed.shape != self.shape:
            raise ValueError(
                f"backward: grad has shape {seed.shape} but the tensor has shape {self.shape}")
        return seed

    def _conform(self, g) -> np.ndarray:
        """Sum a broadcast contribution back to this tensor's shape; give it its dtype.

        A contribution that is itself a tensor (``create_graph``) is conformed with recorded
        ops, so that the gradient can be differentiated again.
        """
        if type(g) is not Tensor:
            g = np.asarray(g)
        if g.shape != self.data.shape:
            g = _unbroadcast(g, self.data.shape)
        if g.dtype != self.data.dtype:
            g = g.astype(self.data.dtype)
        return g

    def _add_grad(self, g) -> None:
        if type(g) is not np.ndarray or g.shape != self.data.shape or g.dtype != self.data.dtype:
            g = self._conform(g)  # (most contributions conform already: skip the call)
        if self.grad is not None:
            if np.shape(self.grad) != self.data.shape:  # set by hand: adding would broadcast
                raise RuntimeError(f"the .grad of a tensor of shape {self.shape} holds an array "
                                   f"of shape {np.shape(self.grad)}; backward cannot add to it")
            grad = self.grad + g  # never in place: the old array may be the user's
        elif self._a is not None and not self._retains_grad:
            self.grad = g  # an intermediate's: backward reads it once, then releases it
            return
        elif type(g) is np.ndarray and g.ndim and g.flags.owndata and g.flags.writeable \
                and sys.getrefcount(g) <= _REFS_OF_A_PRIVATE_ARGUMENT:
            # A gradient the user will see must own its memory. This one does: a fresh array
            # (a matmul's result, say) that only the backward loop's variable holds. Adopt it
            # rather than copy it, as PyTorch's AccumulateGrad steals a gradient whose use
            # count says nobody else has it. Adding +0.0 makes -0.0 +0.0, as a Value's sum
            # from 0.0 does, so Value and Tensor gradients agree to the sign of zero.
            self.grad = np.add(g, 0.0, out=g)
            return
        else:
            # A view, or shared (a + b hands both inputs the same array): copy, adding +0.0.
            grad = g + 0.0
        # numpy answers arithmetic on 0-d arrays with a scalar; a gradient is an array
        self.grad = np.asarray(grad) if isinstance(grad, np.generic) else grad

    def _check_grad_shape(self, g, what: str) -> None:
        if np.shape(g) != self.data.shape:
            raise ValueError(f"{what} has shape {np.shape(g)} but the tensor has shape {self.shape}")

    def _constant_like(self, data) -> "Tensor":
        out = _new(Tensor)
        _init(out, np.asarray(data), False)
        return out

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever backward has this tensor's gradient; return a handle.

        The hook sees the gradient of this backward (before a leaf accumulates it into
        ``.grad``) and may return a replacement of the same shape; ``handle.remove()`` takes
        it off again, as in PyTorch.

            >>> from autograd_core import Tensor
            >>> x = Tensor([1.0, 2.0], requires_grad=True)
            >>> handle = x.register_hook(lambda g: g * 10)
            >>> (x * x).sum().backward()
            >>> x.grad
            array([20., 40.])
            >>> handle.remove()
        """
        if self._op is None:
            raise RuntimeError("register_hook on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = []
        return graph._add_hook(self._hooks, hook)

    def _release_grad(self) -> None:
        if not self._retains_grad:
            self.grad = None

    def _check_saved(self) -> None:
        saved = self._saved  # empty when the op's backward reads no input (add, transpose)
        if not saved or (self._a.data is saved[0] and not self._rest
                         and (self._b is None or self._b.data is saved[1])):
            return  # the common cases, checked without building the list of parents
        for parent, array in zip(self.parents, self._saved):
            if parent.data is not array:
                name = f" {parent.label!r}" if parent.label else ""
                raise RuntimeError(
                    f"a tensor{name} of shape {parent.shape} needed by backward of "
                    f"'{self.op}' had its data replaced after the operation used it; "
                    f"replace data only after backward (or recompute the forward pass)")


# ----- helpers -----

def _init(t: Tensor, array: np.ndarray, requires_grad: bool) -> None:
    if requires_grad and array.dtype.kind != "f":
        raise TypeError(f"only floating point tensors can require gradients, got {array.dtype}")
    t.data = array
    t.grad = None
    t.label = ""
    t._op = LEAF if requires_grad else None
    t._ctx = ()
    t._a = t._b = None
    t._rest = ()
    t._saved = ()
    t._retains_grad = False
    t._hooks = None


def _checked_array(data, dtype) -> np.ndarray:
    try:
        array = np.array(data, dtype=dtype)  # a copy: the tensor owns its array
    except (TypeError, ValueError) as error:
        raise TypeError(f"cannot make a tensor from {type(data).__name__}: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"tensors hold numbers or bools, not {array.dtype} "
                        f"(from {type(data).__name__})")
    return array


def _with_constants(inputs, what):
    """``inputs`` with every number or array turned into a constant tensor of a fitting dtype."""
    like = None
    for x in inputs:
        if isinstance(x, Tensor):
            like = x
            break
    return tuple([x if isinstance(x, Tensor) else _constant(x, like, what) for x in inputs])


_unit_seeds: dict = {}  # (dtype, shape) -> the read-only array of ones backward starts from

# (number, dtype) -> constant tensor, so that `x * 2` in a loop makes no new tensor. Constants
# are leaves that nothing changes, so one per number serves every graph. Zeros are keyed with
# their sign too (0.0 == -0.0, and both hash alike). Only float dtypes are stored.
_constants: dict = {}


def _constant(x, like, what):
    if isinstance(x, np.generic) and x.dtype.kind in "biuf":
        x = x.item()  # np.sqrt(2.0) counts as the Python number it is: float32 stays float32
    if (type(x) is float or type(x) is int) and like is not None:
        dtype = like.data.dtype
        key = (x, dtype) if x else (x, dtype, math.copysign(1.0, x))
        constant = _constants.get(key)
        if constant is not None:
            return constant
        if dtype.kind == "f" and x == x:  # nan != nan: it could never be found again
            if len(_constants) > 1024:
                _constants.clear()
            constant = _constants[key] = _new(Tensor)
            _init(constant, np.array(x, dtype=dtype), False)
            constant.data.flags.writeable = False
            return constant
    if isinstance(x, Node):
        raise TypeError(f"{what}: cannot mix Tensor and {type(x).__name__} operands")
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{what}: unsupported operand type {type(x).__name__}")
    try:
        array = np.array(x, dtype=like.data.dtype if type(x) in (float, int) and like is not None
                         and like.data.dtype.kind == "f" else None)
    except (TypeError, ValueError):
        raise TypeError(f"{what}: unsupported operand type {type(x).__name__}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what}: cannot use {array.dtype} data ({type(x).__name__}) with tensors")
    if array.dtype.kind in "biu" and like is not None and like.data.dtype.kind == "f":
        array = array.astype(like.data.dtype)  # integers take the float tensor's dtype (PyTorch)
    out = _new(Tensor)
    _init(out, array, False)
    return out


def _unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting added or stretched to reach it from ``shape``."""
    extra = g.ndim - len(shape)
    if extra < 0:  # a reduction's gradient going back up
        return g.broadcast_to(shape) if type(g) is Tensor else np.broadcast_to(g, shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1)
    g = g.sum(axis=axes, keepdims=True) if axes else g  # the same methods on arrays and tensors
    return g.reshape(shape)


def _compare(ufunc, a, b):
    other = b.data if isinstance(b, Tensor) else b
    if isinstance(other, Node):
        return NotImplemented
    try:
        result = ufunc(a.data, other)
    except TypeError:
        return NotImplemented
    out = _new(Tensor)
    _init(out, np.asarray(result), False)
    return out


def _axis(axis, ndim):
    """A reduction's ``axis`` (None, an int or a sequence of ints) checked and made non-negative.

    An axis outside the tensor raises (numpy's ``AxisError``, both a ``ValueError`` and an
    ``IndexError``) rather than wrapping round. A 0-d tensor takes 0 or -1, as in PyTorch:
    its one element, so the reduction is over everything (None).
    """
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        axes = tuple(_dim(a, ndim, "axis") for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis {tuple(axis)} names an axis more than once")
        return None if ndim == 0 else axes
    axis = _dim(axis, ndim, "axis")
    return None if ndim == 0 else axis


def _dim(axis, ndim: int, what: str) -> int:
    """``axis`` as a non-negative position among ``ndim`` axes (a 0-d tensor takes 0 and -1)."""
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise TypeError(f"{what} must be an integer, got {type(axis).__name__} {axis!r}")
    size = max(ndim, 1)
    if not -size <= axis < size:
        raise np.exceptions.AxisError(
            f"{what} {axis} is out of range for a tensor with {ndim} dimensions "
            f"(from {-size} to {size - 1})")
    return int(axis) % size


def _index(index):
    """The index as backward will need it: tensors read as their arrays (an index carries no
    gradient), and arrays and lists copied read-only, so that changing the caller's index
    after the forward pass cannot change the gradient."""
    if isinstance(index, tuple):
        return tuple(_index_part(i) for i in index)
    return _index_part(index)


def _index_part(part):
    if isinstance(part, Tensor):
        part = part.data
    if isinstance(part, (np.ndarray, list)):
        part = np.array(part)
        if part.size == 0 and part.dtype.kind == "f":  # t[[]]: numpy reads [] as floats
            part = part.astype(np.intp)
        part.flags.writeable = False
    return part


_apply = Tensor._apply


# ----- factories -----

def zeros(*shape, requires_grad: bool = False, dtype=np.float64) -> Tensor:
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(np.zeros(shape, dtype=dtype), requires_grad=requires_grad)


def ones(*shape, requires_grad: bool = False, dtype=np.float64) -> Tensor:
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)


def randn(*shape, requires_grad: bool = False, dtype=np.float64, generator=None) -> Tensor:
    """Standard normal samples; ``generator`` is a numpy Generator or a seed (see ``manual_seed``)."""
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    samples = rng(generator).standard_normal(shape)
    return Tensor(samples.astype(dtype, copy=False), requires_grad=requires_grad)


def arange(*args, dtype=None) -> Tensor:
    return Tensor(np.arange(*args, dtype=dtype))


def one_hot(indices, num_classes: int = -1) -> Tensor:
    """Rows of zeros with a one at each index (int64, as ``torch.nn.functional.one_hot``)."""
    index = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if index.dtype.kind not in "iu":
        raise TypeError(f"one_hot needs integer indices, got {index.dtype}")
    if index.size and index.min() < 0:
        raise ValueError("one_hot: indices must be non-negative")
    n = int(index.max()) + 1 if num_classes < 0 and index.size else num_classes
    if index.size and index.max() >= n:
        raise ValueError(f"one_hot: index {int(index.max())} is out of range for {n} classes")
    return Tensor(np.eye(n, dtype=np.int64)[index])
