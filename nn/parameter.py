"""``Parameter``: a ``Tensor`` that a ``Module`` learns.

A parameter's ``.data`` is a numpy array, as every tensor's is, with PyTorch's in-place
initialisers added (``fill_``, ``zero_``, ``copy_``), so that lines such as
``layer.bias.data.fill_(0.0)`` from PyTorch code run unchanged.
"""
import numpy as np

from autograd_core import Tensor, Value


class ParameterArray(np.ndarray):
    """The numpy array behind a ``Parameter``: an ``ndarray`` with ``fill_``, ``zero_``, ``copy_``.

    Arithmetic on it gives plain arrays, so nothing else in a graph carries the subclass.

        >>> import nn
        >>> p = nn.Parameter([1.0, 2.0])
        >>> p.data.fill_(0.5)
        array([0.5, 0.5])
        >>> type(p.data * 2).__name__
        'ndarray'
    """

    def __array_wrap__(self, array, context=None, return_scalar=False):
        if array is self:  # an in-place operator (p.data -= step) keeps its array
            return self
        array = array.view(np.ndarray)
        return array[()] if return_scalar else array

    def __repr__(self):
        return repr(self.view(np.ndarray))

    def fill_(self, value) -> "ParameterArray":
        """Set every element to ``value``, in place."""
        self.fill(value)
        return self

    def zero_(self) -> "ParameterArray":
        """Set every element to zero, in place."""
        self.fill(0)
        return self

    def copy_(self, source) -> "ParameterArray":
        """Copy ``source`` (an array, tensor or number broadcastable to this shape) in, in place."""
        source = source.data if isinstance(source, Tensor) else source
        np.copyto(self, np.broadcast_to(np.asarray(source, dtype=self.dtype), self.shape))
        return self


_store_data = Tensor.data.__set__  # the slot every node keeps its array in
_load_data = Tensor.data.__get__


class Parameter(Tensor):
    """A tensor that requires grad and that a ``Module`` registers as learnable.

    ``Parameter(data, requires_grad=True)`` copies ``data`` (a float array, list, number
    or tensor). Assigning a parameter to a module attribute registers it under that name.

        >>> import nn
        >>> w = nn.Parameter([[1.0, 2.0]])
        >>> w
        Parameter containing:
        Tensor([[1., 2.]], requires_grad=True)
        >>> (w * 3).sum().backward()
        >>> w.grad
        array([[3., 3.]])
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0)
        array = np.array(data.data if isinstance(data, Tensor) else data)
        if array.dtype.kind in "biu":
            array = array.astype(np.float64)  # Parameter([1, 2]) learns floats
        super().__init__(array, requires_grad=requires_grad)

    def _set_data(self, array) -> None:
        array = array.data if isinstance(array, Tensor) else array
        if type(array) is not ParameterArray:
            array = np.asarray(array).view(ParameterArray)
        _store_data(self, array)

    # Read straight from the slot (the engine reads .data at every step of every pass, and a
    # getter written in Python would cost a call each time); written through _set_data.
    data = property(_load_data, _set_data, doc="The parameter's array (a ParameterArray).")

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def clear_grad(p, set_to_none: bool = True) -> None:
    """Clear one parameter's gradient: None, or zeros (a ``Value``'s gradient becomes 0.0).

    Zeros are a new array, not the old one zeroed in place: it may be read-only or shared.
    """
    if isinstance(p, Value):
        p.grad = 0.0
    elif set_to_none:
        p.grad = None
    elif p.grad is not None:
        p.grad = np.zeros_like(p.grad)
