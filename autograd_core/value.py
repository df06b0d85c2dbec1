"""``Value``: a scalar node of the graph, micrograd's interface on the shared op table."""
from __future__ import annotations

import numbers

import numpy as np

from . import ops
from . import graph
from .graph import LEAF, Node, _link, _mode, _record_on_tapes

__all__ = ["Value", "maximum", "minimum"]


def _operator(op):
    """The method for ``a <op> b`` and its reflected twin for ``b <op> a``, on Values.

    This is the hot path of every scalar expression, so the node is built inline.
    """
    forward = op.forward

    def apply(a, b):
        if type(a) is not Value:
            a = _constant(a)
            if a is NotImplemented:
                return NotImplemented
        if type(b) is not Value:
            b = _constant(b)
            if b is NotImplemented:
                return NotImplemented
        out = _new(Value)
        data = forward(a.data, b.data)
        out.data = data if type(data) is float else float(data)
        out.grad = 0.0
        out.label = ""
        out._ctx = ()
        # _op is not None: needs a gradient (see Node.requires_grad)
        if (a._op is not None or b._op is not None) and (
                graph.threads_without_grad == 0 or _mode.enabled):
            out._op = op
            out._a = a
            out._b = b
            if graph.open_tapes:
                _record_on_tapes(out)
        else:
            out._op = out._a = out._b = None
        return out

    def reflected(self, other):
        return apply(other, self)

    method = apply  # apply(self, other) is the method itself
    method.__name__, reflected.__name__ = f"__{op.name}__", f"__r{op.name}__"
    method.__doc__ = f"self {op.symbol} other, recorded as the op {op.name!r}."
    reflected.__doc__ = f"other {op.symbol} self, recorded as the op {op.name!r}."
    return method, reflected


_new = object.__new__


class Value(Node):
    """A Python float that remembers how it was computed, so gradients can flow back to it.

    ``Value(data, label='', requires_grad=True)``. Every ``Value`` made by the user needs a
    gradient (as in micrograd); numbers mixed into an expression become constants that do
    not. After ``backward()``, every node on the way keeps its ``.grad``.

        >>> from autograd_core import Value
        >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        >>> c = a * b + a
        >>> c.backward()
        >>> c.data, a.grad, b.grad
        (-4.0, -2.0, 2.0)

    Arithmetic and functions follow IEEE/numpy semantics: ``Value(0.0).log()`` is ``-inf``
    (with numpy's warning), never a ``math`` domain error.

    Backward reads each input's ``.data`` when it runs: change ``.data`` (an optimiser step)
    only after ``backward()``, as micrograd's training loop does. Unlike ``Tensor``, a
    ``Value`` does not detect a change made in between (that check would cost every node).
    """

    __slots__ = ()
    __array_ufunc__ = None  # numpy defers to our reflected operators: np.float64(2) * v is a Value

    def __init__(self, data, label: str = "", requires_grad: bool = True):
        self.data = data if type(data) is float else _as_float(data, "Value data")
        self.grad = 0.0
        self.label = label
        self._op = LEAF if requires_grad else None
        self._ctx = ()
        self._a = self._b = None

    @staticmethod
    def _apply(op, inputs, params=()):
        """Apply a row of the op table to Values (numbers among ``inputs`` become constants)."""
        if len(inputs) > 2:
            raise TypeError(f"{op.name}: Value ops take at most two inputs")
        inputs = tuple(x if type(x) is Value else _constant(x) for x in inputs)
        return _result(op, op.forward(*[x.data for x in inputs], *params), inputs, tuple(params))

    # ----- arithmetic: each operator is generated from its row of the op table -----
    __add__, __radd__ = _operator(ops.add)
    __sub__, __rsub__ = _operator(ops.sub)
    __mul__, __rmul__ = _operator(ops.mul)
    __truediv__, __rtruediv__ = _operator(ops.div)
    __pow__, __rpow__ = _operator(ops.power)

    def __neg__(self):
        return _unary(ops.neg, self)

    def __pos__(self):
        return self

    # ----- functions -----
    def exp(self):
        """e to the power of this value."""
        return _unary(ops.exp, self)

    def log(self):
        """Natural logarithm (-inf at 0, nan below)."""
        return _unary(ops.log, self)

    def sqrt(self):
        """Square root; its derivative at 0 is inf."""
        return _unary(ops.sqrt, self)

    def sin(self):
        return _unary(ops.sin, self)

    def cos(self):
        return _unary(ops.cos, self)

    def tanh(self):
        return _unary(ops.tanh, self)

    def sigmoid(self):
        """1 / (1 + e^-x), computed without overflow for any input."""
        return _unary(ops.sigmoid, self)

    def softplus(self):
        """log(1 + e^x), computed without overflow for any input."""
        return _unary(ops.softplus, self)

    def erf(self):
        """The error function, 2/sqrt(pi) times the integral of e^(-t^2) from 0 to x."""
        return _unary(ops.erf, self)

    def relu(self):
        """max(x, 0); its derivative at 0 is 0."""
        return _unary(ops.relu, self)

    def leaky_relu(self, slope: float = 0.01):
        """x for x > 0, else slope * x; its derivative at 0 is ``slope``."""
        slope = _as_float(slope, "leaky_relu slope")
        return _result(ops.leaky_relu, ops.leaky_relu.forward(self.data, slope), (self,), (slope,))

    def abs(self):
        """|x|; its derivative at 0 is 0."""
        return _unary(ops.absolute, self)

    __abs__ = abs

    # ----- comparisons: on the data, no gradient -----
    def __lt__(self, other):
        return self.data < _data_of(other)

    def __le__(self, other):
        return self.data <= _data_of(other)

    def __gt__(self, other):
        return self.data > _data_of(other)

    def __ge__(self, other):
        return self.data >= _data_of(other)

    def __eq__(self, other):
        other = _data_of(other, strict=False)
        return NotImplemented if other is NotImplemented else self.data == other

    def __ne__(self, other):
        other = _data_of(other, strict=False)
        return NotImplemented if other is NotImplemented else self.data != other

    __hash__ = Node.__hash__  # nodes are keys by identity, whatever their data

    # ----- conversions and graph utilities -----
    def item(self) -> float:
        """The data as a Python float."""
        return self.data

    def __float__(self):
        return self.data

    def detach(self) -> "Value":
        """A new leaf with the same data and no history (it needs no gradient)."""
        return Value(self.data, label=self.label, requires_grad=False)

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0 on this node and on every node it was computed from."""
        stack, seen = [self], {self}
        while stack:
            node = stack.pop()
            node.grad = 0.0
            for parent in node.parents:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)

    def _seed_gradient(self, grad):
        if grad is None:
            return 1.0
        if isinstance(grad, Value):
            return grad.data
        return _as_float(grad, "backward(grad=...)")

    _fresh_grad = 0.0  # what backward resets an intermediate node's gradient to

    def _conform(self, g):
        """A contribution as a gradient: a float, or a Value when backward is recorded."""
        return g if type(g) is float or isinstance(g, Value) else float(g)

    def _add_grad(self, g) -> None:
        g = self._conform(g)
        if type(g) is float:
            self.grad += g
        else:  # a recorded gradient (create_graph): its sum starts from +0.0 too, as a float's
            self.grad = g + 0.0 if type(self.grad) is float and self.grad == 0.0 else self.grad + g

    def _constant_like(self, data) -> "Value":
        return Value(data, requires_grad=False)

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        grad = self.grad.data if isinstance(self.grad, Node) else self.grad  # (create_graph)
        return f"Value(data={self.data:.6g}, grad={grad:.6g}{label})"

    def __format__(self, spec: str) -> str:
        """``f"{v:.3f}"`` formats the data, as for a float."""
        return format(self.data, spec) if spec else str(self)


def maximum(a, b):
    """The larger of ``a`` and ``b``; at a tie each gets half the gradient.

        >>> from autograd_core import Value, maximum
        >>> a, b = Value(1.0), Value(1.0)
        >>> maximum(a, b).backward()
        >>> a.grad, b.grad
        (0.5, 0.5)
    """
    return _checked(ops.maximum, a, b)


def minimum(a, b):
    """The smaller of ``a`` and ``b``; at a tie each gets half the gradient."""
    return _checked(ops.minimum, a, b)


def _checked(op, a, b):
    for x in (a, b):
        if not isinstance(x, Node):
            _as_float(x, f"{op.name} argument")  # raises TypeError naming a non-number
    if isinstance(a, Node) and isinstance(b, Node) and isinstance(a, Value) != isinstance(b, Value):
        raise TypeError(f"{op.name}: cannot mix Tensor and Value operands")
    return op(a, b)


# ----- construction: every operation on Values ends here (binary operators inline it) -----
def _result(op, data, parents, ctx=()):
    """The node for ``op`` applied to ``parents``; it records history only if it needs to."""
    out = _new(Value)
    out.data = data if type(data) is float else float(data)
    out.grad = 0.0
    out.label = ""
    out._ctx = ()
    out._op = out._a = out._b = None
    _link(out, op, parents, ctx)
    return out


def _unary(op, a):
    """``op`` applied to one Value: the binary operators' inline node build, for one parent."""
    out = _new(Value)
    data = op.forward(a.data)
    out.data = data if type(data) is float else float(data)
    out.grad = 0.0
    out.label = ""
    out._ctx = ()
    out._b = None
    if a._op is not None and (graph.threads_without_grad == 0 or _mode.enabled):
        out._op = op
        out._a = a
        if graph.open_tapes:
            _record_on_tapes(out)
    else:
        out._op = out._a = None
    return out


def _constant(x):
    """A number mixed into an expression becomes a constant leaf (no gradient needed).

    Anything else makes the operator return NotImplemented, so Python raises its TypeError
    naming both operand types ("unsupported operand type(s) for +: 'Value' and 'str'").
    """
    if type(x) is float or type(x) is int or isinstance(x, numbers.Real):
        out = _new(Value)  # Value(x, requires_grad=False), without the checks of __init__
        out.data = x if type(x) is float else float(x)
        out.grad = 0.0
        out.label = ""
        out._ctx = ()
        out._op = out._a = out._b = None
        return out
    if isinstance(x, Value):  # a subclass
        return x
    return NotImplemented


def _as_float(x, what: str) -> float:
    if isinstance(x, numbers.Real):
        return float(x)
    if isinstance(x, np.ndarray) and x.ndim == 0 and np.issubdtype(x.dtype, np.number) \
            and not np.issubdtype(x.dtype, np.complexfloating):
        return float(x)
    raise TypeError(f"{what} must be a real number, got {type(x).__name__} {x!r:.60}")


def _data_of(x, strict=True):
    if isinstance(x, Value):
        return x.data
    if isinstance(x, numbers.Real):
        return x
    if strict:
        raise TypeError(f"cannot compare Value with {type(x).__name__} {x!r:.60}")
    return NotImplemented
