"""The op table: every differentiable operation with its forward and its vector-Jacobian products.

Each row is written once for every kind of data. ``forward`` takes raw data, Python floats
(for ``Value``) or numpy arrays (for ``Tensor``), and uses numpy's ufuncs for anything beyond
IEEE arithmetic, so a ``Value`` expression and the same expression on 0-d arrays agree bit for
bit (``math`` and numpy differ in the last bit of ``tanh``, ``log``, ... on many inputs).

A row has one VJP per input, ``vjp(g, out, *inputs, *params) -> gradient for that input``
(HIPS autograd's ``defvjp``): ``g`` is the gradient of the output, ``out`` the forward result.
``None`` in place of a VJP means "no gradient flows to this input"; ``PASS`` means "the
output's gradient, unchanged" (as for ``a + b``), which the backward loop hands on without a
call. A VJP is only called for inputs that need a gradient. VJPs use arithmetic operators and the ops of this table (called
like functions, e.g. ``cos(a)``), so they work on floats, arrays, and on graph nodes alike.

Conventions at kinks (documented and tested): relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) =
slope, maximum/minimum ties split the gradient evenly (a nan sends all of it to both inputs, as
relu does at nan), d(x**y)/dx = 0 at x == 0 where y == 0, d(x**y)/dy = 0 where x == 0 and
y >= 0, and std'(all values equal) = 0 (PyTorch's choices). Rules of ops with flat parts
(relu, clip, maximum, minimum) select the gradient rather than multiply it by a 0/1 mask, so
an inf or nan gradient from above is stopped there too.
"""
from __future__ import annotations

import dis
import functools
import math
import operator

import numpy as np

from .graph import PASS, Node

__all__ = ["Op", "OPS", "where"]


class Op:
    """One row of the op table. Calling it applies the op to nodes or to raw data.

        >>> from autograd_core.ops import OPS
        >>> OPS["mul"](3.0, 4.0)
        12.0
    """

    __slots__ = ("name", "forward", "vjps", "symbol", "packs_inputs", "reads_inputs", "reads_out")

    def __init__(self, name, forward, *vjps, symbol=None, packs_inputs=False):
        self.name = name
        self.forward = forward
        self.vjps = vjps  # one per input; the number of inputs is len(vjps)
        self.symbol = symbol  # infix operator for printing ('+'), or None for f(x)
        # VJPs that take the inputs as one tuple, ``vjp(g, out, inputs, *params)``: an op of
        # n inputs would otherwise copy all n into each of its n VJP calls (O(n²))
        self.packs_inputs = packs_inputs
        # What backward will read, so what a Tensor must keep from being changed in place
        # until then: the inputs (mul's rules do, add's do not) and the result (exp's does).
        # Found from the rules' code, as PyTorch's autograd finds what to save in its formulas.
        inputs = range(2, 3 if packs_inputs else 2 + len(vjps))
        self.reads_inputs = any(_reads(vjp, i) for vjp in vjps for i in inputs)
        self.reads_out = any(_reads(vjp, 1) for vjp in vjps)

    def __call__(self, *args):
        for arg in args:
            if isinstance(arg, Node):
                return type(arg)._apply(self, args[: len(self.vjps)], args[len(self.vjps):])
        out = self.forward(*args)
        # numpy hands back np.float64 for scalar inputs; keep Python floats Python floats.
        return float(out) if type(out) is np.float64 else out

    def format(self, *names) -> str:
        """How the tape prints an application of this op to inputs named ``names``."""
        if self.symbol and len(names) == 2:
            return f"{names[0]} {self.symbol} {names[1]}"
        if self.symbol and len(names) == 1:
            return f"{self.symbol}{names[0]}"
        return f"{self.name}({', '.join(map(str, names))})"

    def __repr__(self):
        return f"<op {self.name}>"


def _reads(vjp, position: int) -> bool:
    """Whether the rule ``vjp`` uses its argument at ``position`` (1 is ``out``, 2 the first
    input). Read from its bytecode; a rule whose code cannot be read counts as using all."""
    if vjp is None or vjp is PASS:
        return False
    if isinstance(vjp, functools.partial):  # (a variadic op's rule, its index bound first)
        return _reads(vjp.func, position + len(vjp.args))
    code = getattr(vjp, "__code__", None)
    if code is None or position >= code.co_argcount:
        return True
    name = code.co_varnames[position]
    if name in code.co_cellvars:  # used by a function nested in the rule
        return True
    return any(instruction.opname.startswith("LOAD_FAST")  # (3.12+ pairs loads: a tuple)
               and name in (instruction.argval if isinstance(instruction.argval, tuple)
                            else (instruction.argval,))
               for instruction in dis.get_instructions(code))


def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y``: ``if`` for a bool, the ``select`` op otherwise."""
    if isinstance(condition, (bool, np.bool_)):
        return x if condition else y
    if isinstance(condition, Node):
        condition = condition.data
    return select(x, y, condition)


def _divide(a, b):
    """IEEE division: Python raises ZeroDivisionError on floats where numpy gives inf or nan."""
    try:
        return a / b
    except ZeroDivisionError:
        return np.divide(float(a), float(b))


def _sigmoid(x):
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows, for any input
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(x):
    return np.logaddexp(0.0, x)  # log(1 + e^x) without overflow at either end


def _relu(x):
    """max(x, 0), nan kept, as np.maximum(x, 0.0) gives it (relu(-0.0) is +0.0 there too).

    Floats take a branch of their own: numpy's ufunc costs a microsecond on a scalar and
    relu is in every neuron; the tests pin both branches to numpy's results.
    """
    if type(x) is float:
        return x if x > 0.0 or x != x else 0.0
    return np.maximum(x, 0.0)


_erf_elementwise = np.frompyfunc(math.erf, 1, 1)


def _erf(x):
    """The error function; numpy has none, so math.erf serves floats and arrays alike."""
    if type(x) is float:
        return math.erf(x)
    x = np.asarray(x)
    return np.asarray(_erf_elementwise(x), dtype=x.dtype if x.dtype.kind == "f" else np.float64)


def _leaky_relu(x, slope):
    return np.where(x > 0, x, x * slope)


def _zero_where(cut, g):
    """``g`` with 0 where ``cut`` holds, as a selection: where an op is flat the gradient is 0
    even if an inf or nan arrives from above (a product with a 0/1 mask would give inf * 0 =
    nan). On arrays it multiplies all the same, branch-free and several times faster than
    np.where on a mask of random bits, and selects only when that product holds a nan."""
    if type(g) is np.ndarray and type(cut) is np.ndarray:
        kept = g * ~cut
        if not np.isnan(np.min(kept, initial=0.0)):  # (a min is nan if any element is)
            return kept
    return where(cut, 0.0, g)


def _split_tie(g, mine, other):
    """The part of ``g`` that max(mine, other) sends to ``mine``: none where ``other`` is
    larger, half at a tie, else all; so a nan (neither larger) gets all of it, and so does the
    other input, as in PyTorch: the gradient reaches whatever made the nan."""
    return _zero_where(mine < other, g * where(mine == other, 0.5, 1.0))


add = Op("add", operator.add, PASS, PASS, symbol="+")
sub = Op("sub", operator.sub, PASS, lambda g, out, a, b: -g, symbol="-")
mul = Op("mul", operator.mul, lambda g, out, a, b: g * b, lambda g, out, a, b: g * a, symbol="*")
div = Op("div", _divide,
         lambda g, out, a, b: div(g, b),
         lambda g, out, a, b: -div(g * out, b), symbol="/")


def _pow_grad_base(g, out, a, b):
    """d(a**b)/da = b·a**(b-1), taken as 0 at 0**0 (a ** 0 is the constant 1).

    Only 0 ** 0 needs the guard (0 * inf); elsewhere b·a**(b-1) is finite at b == 0 and must
    stay differentiable in b for second derivatives. The base is also swapped for 1 there
    before the power, so that a recorded gradient (create_graph) holds no 0**-1 = inf in its
    unused branch, which the next derivative would turn into 0 * inf = nan.
    """
    zero_to_the_zero = (b == 0) & (a == 0)
    return where(zero_to_the_zero, 0.0,
                 g * b * power(where(zero_to_the_zero, 1.0, a), b - 1))


def _pow_grad_exponent(g, out, a, b):
    """d(a**b)/db = a**b·log(a), taken as 0 where a == 0 and b >= 0 (PyTorch's choice); the
    base is swapped for 1 there before the log, for the reason given above."""
    zero_base = (a == 0) & (b >= 0)
    return where(zero_base, 0.0, g * out * log(where(zero_base, 1.0, a)))


power = Op("pow", np.power, _pow_grad_base, _pow_grad_exponent, symbol="**")
neg = Op("neg", operator.neg, lambda g, out, a: -g, symbol="-")
exp = Op("exp", np.exp, lambda g, out, a: g * out)
log = Op("log", np.log, lambda g, out, a: div(g, a))
sqrt = Op("sqrt", np.sqrt, lambda g, out, a: div(g, 2 * out))
sin = Op("sin", np.sin, lambda g, out, a: g * cos(a))
cos = Op("cos", np.cos, lambda g, out, a: -g * sin(a))
tanh = Op("tanh", np.tanh, lambda g, out, a: g * (1 - out * out))
sigmoid = Op("sigmoid", _sigmoid, lambda g, out, a: g * out * (1 - out))
softplus = Op("softplus", _softplus, lambda g, out, a: g * sigmoid(a))
erf = Op("erf", _erf, lambda g, out, a: g * (2 / math.sqrt(math.pi)) * exp(-(a * a)))
# (0 where a <= 0, so a nan input passes g on, as in PyTorch)
relu = Op("relu", _relu, lambda g, out, a: _zero_where(a <= 0, g))
leaky_relu = Op("leaky_relu", _leaky_relu, lambda g, out, a, slope: g * where(a > 0, 1.0, slope))
sign = Op("sign", np.sign, None)  # piecewise constant: no gradient
absolute = Op("abs", np.abs, lambda g, out, a: g * sign(a))
maximum = Op("maximum", np.maximum,
             lambda g, out, a, b: _split_tie(g, a, b),
             lambda g, out, a, b: _split_tie(g, b, a))
minimum = Op("minimum", np.minimum,
             lambda g, out, a, b: _split_tie(g, b, a),
             lambda g, out, a, b: _split_tie(g, a, b))



# ----- ops on arrays (Tensor) -----
# Gradients of broadcast inputs are summed back to the input's shape by the engine
# (Tensor._add_grad), so rules return gradients of the broadcast shape: ``expand`` is PASS.

def _keepdims_shape(shape, axis):
    """The shape of a reduction over ``axis`` of an array of ``shape``, with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(g, a, axis, keepdims):
    """The gradient ``g`` of a reduction, reshaped so that it broadcasts against ``a``."""
    if keepdims or axis is None:  # a full reduction's gradient is 0-d: it broadcasts as it is
        return g
    return reshape(g, _keepdims_shape(np.shape(a), axis))


def _reduction_size(a, axis):
    """How many elements each result of a reduction over ``axis`` combines."""
    shape = np.shape(a)
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[i] for i in (axis if isinstance(axis, tuple) else (axis,)))


def _raw(x):
    """The data of a node, or ``x`` itself: masks and shares are constants even when a
    gradient is being recorded (``create_graph``), so they are computed on raw data."""
    return x.data if isinstance(x, Node) else x


def _extreme_share(a, out, axis, keepdims):
    """1/k where ``a`` equals the max (min) over ``axis`` (k ties there), else 0."""
    a, out = _raw(a), _raw(out)
    hit = a == (out if keepdims else np.reshape(out, _keepdims_shape(np.shape(a), axis)))
    return hit / np.sum(hit, axis=axis, keepdims=True)


def _logsumexp(x, axis, keepdims):
    peak = np.max(x, axis=axis, keepdims=True, initial=-np.inf)  # (-inf: an empty axis)
    peak = np.where(np.isfinite(peak), peak, 0.0)  # all -inf (or inf) along the axis
    out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis):
    return x - _logsumexp(x, axis, True)


def _swap_last(x):
    """``x`` with its last two axes swapped: a view of an array, a recorded op on a tensor."""
    return x.swapaxes(-1, -2)


# Matmul's operands are arrays (tensors when backward is recorded): both have .ndim, .shape.
def _matmul_grad_a(g, out, a, b):
    if b.ndim == 1:  # (..., k) @ (k,) -> (...): outer product with b
        return reshape(g, (*g.shape, 1)) * b
    if a.ndim == 1:  # (k,) @ (..., k, m) -> (..., m)
        return reshape(matmul(reshape(g, (*g.shape[:-1], 1, g.shape[-1])), _swap_last(b)),
                       (*g.shape[:-1], b.shape[-2]))
    return matmul(g, _swap_last(b))


def _matmul_grad_b(g, out, a, b):
    if a.ndim == 1 and b.ndim == 1:  # a dot product
        return g * a
    if a.ndim == 1:  # (k,) @ (..., k, m): outer product with a
        return reshape(a, (a.shape[0], 1)) * reshape(g, (*g.shape[:-1], 1, g.shape[-1]))
    if b.ndim == 1:  # (..., n, k) @ (k,) -> (..., n)
        return reshape(matmul(_swap_last(a), reshape(g, (*g.shape, 1))), a.shape[:-2] + a.shape[-1:])
    return matmul(_swap_last(a), g)


def _broadcast(x, shape):
    """``x`` broadcast to ``shape`` as a new array (np.broadcast_to is several times slower)."""
    out = np.empty(shape, dtype=x.dtype if isinstance(x, np.ndarray) else np.result_type(x))
    np.copyto(out, x)
    return out


def _scatter(g, shape, index):
    """Zeros of ``shape`` with ``g`` added where ``index`` points (repeated indices add up)."""
    out = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(out, index, g)
    return out


def _outside(a, low, high):
    """Where ``a`` is not within [low, high] (nor is nan): a bool array, or a bool for a
    scalar (a Value's)."""
    a = _raw(a)
    inside = np.ones(np.shape(a), dtype=bool)
    if low is not None:
        inside &= a >= low
    if high is not None:
        inside &= a <= high
    return ~inside if inside.ndim else not inside


matmul = Op("matmul", np.matmul, _matmul_grad_a, _matmul_grad_b, symbol="@")
reshape = Op("reshape", np.reshape, lambda g, out, a, shape: reshape(g, np.shape(a)))
transpose = Op("transpose", np.transpose,
               lambda g, out, a, axes: transpose(g, None if axes is None else tuple(np.argsort(axes))))
expand = Op("expand", _broadcast, PASS)
select = Op("where", lambda x, y, condition: np.where(condition, x, y),
            lambda g, out, x, y, condition: where(condition, g, 0.0),
            lambda g, out, x, y, condition: where(condition, 0.0, g))
clip = Op("clip", np.clip, lambda g, out, a, low, high: _zero_where(_outside(a, low, high), g))
getitem = Op("getitem", lambda a, index: a[index],
             lambda g, out, a, index: scatter(g, np.shape(a), index))
# The gradient of getitem, as an op of its own so that it can be differentiated again.
scatter = Op("scatter", _scatter, lambda g, out, values, shape, index: getitem(g, index))
astype = Op("astype", lambda a, dtype: a.astype(dtype), lambda g, out, a, dtype: astype(g, a.dtype))
# (out=...: a full sum comes back as a 0-d array, not as a numpy scalar to convert again)
total = Op("sum", lambda a, axis, keepdims: np.add.reduce(a, axis=axis, keepdims=keepdims, out=...),
           lambda g, out, a, axis, keepdims: expand(_spread(g, a, axis, keepdims), np.shape(a)))
mean = Op("mean", lambda a, axis, keepdims: np.mean(a, axis=axis, keepdims=keepdims),
          lambda g, out, a, axis, keepdims:
          expand(_spread(g, a, axis, keepdims) / _reduction_size(a, axis), np.shape(a)))
# std is sqrt(var). Where the variance is 0 (all values equal) std has a kink, as |x| has at 0,
# and takes the same convention: gradient 0 (PyTorch's std_backward), where sqrt's rule would
# give inf * 0 = nan.
std = Op("std", np.sqrt, lambda g, out, a: where(out == 0, 0.0, div(g, 2 * out)))
amax = Op("max", lambda a, axis, keepdims: np.max(a, axis=axis, keepdims=keepdims),
          lambda g, out, a, axis, keepdims:
          _spread(g, a, axis, keepdims) * _extreme_share(a, out, axis, keepdims))
amin = Op("min", lambda a, axis, keepdims: np.min(a, axis=axis, keepdims=keepdims),
          lambda g, out, a, axis, keepdims:
          _spread(g, a, axis, keepdims) * _extreme_share(a, out, axis, keepdims))
logsumexp = Op("logsumexp", _logsumexp,
               lambda g, out, a, axis, keepdims:
               _spread(g, a, axis, keepdims) * exp(a - _spread(out, a, axis, keepdims)))
softmax = Op("softmax", _softmax,
             lambda g, out, a, axis: out * (g - total(g * out, axis, True)))
log_softmax = Op("log_softmax", _log_softmax,
                 lambda g, out, a, axis: g - exp(out) * total(g, axis, True))


class VariadicOp:
    """An op with any number of inputs (``cat``, ``stack``): one ``Op`` row per arity.

    ``vjp(i, g, out, inputs, *params)`` is the gradient for input ``i``; the rows pack their
    inputs into one tuple for it (``packs_inputs``).
    """

    def __init__(self, name, forward, vjp):
        self.name, self.forward, self.vjp = name, forward, vjp
        self._rows = {}

    def of_arity(self, n: int) -> Op:
        if n not in self._rows:
            forward = self.forward
            self._rows[n] = Op(self.name, lambda *args: forward(args[:n], *args[n:]),
                               *[functools.partial(self.vjp, i) for i in range(n)],
                               packs_inputs=True)
        return self._rows[n]

    def __call__(self, inputs, *params):
        return self.of_arity(len(inputs))(*inputs, *params)


def _cat_grad(i, g, out, inputs, axis, bounds):
    # ``bounds`` (where each input starts and ends along ``axis``) is computed once, at the
    # forward pass: working it out here, for each of n inputs, would make backward O(n²)
    index = (slice(None),) * (axis % np.ndim(g)) + (slice(bounds[i], bounds[i + 1]),)
    return getitem(g, index)


def _stack_grad(i, g, out, inputs, axis):
    return getitem(g, (slice(None),) * (axis % np.ndim(g)) + (i,))


cat = VariadicOp("cat", lambda xs, axis, bounds: np.concatenate(xs, axis=axis), _cat_grad)
stack = VariadicOp("stack", lambda xs, axis: np.stack(xs, axis=axis), _stack_grad)

OPS = {op.name: op for op in (
    add, sub, mul, div, power, neg, exp, log, sqrt, sin, cos, tanh, sigmoid, softplus, erf, relu,
    leaky_relu, sign, absolute, maximum, minimum, matmul, reshape, transpose, expand, select,
    clip, getitem, scatter, astype, total, mean, std, amax, amin, logsumexp, softmax, log_softmax,
    cat, stack)}
