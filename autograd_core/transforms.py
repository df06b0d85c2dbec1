"""Function transforms: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``.

JAX's interface on this engine's reverse mode (re-exported by ``autograd_core.functional``).
A transform takes a function of numbers, numpy arrays, ``Value``s or ``Tensor``s and returns
a function that gives results of the same kind: floats for numbers, arrays for arrays, nodes
for nodes. Transforms compose, ``grad(grad(f))`` or ``jacobian(grad(f))``: inside another
transform, or for inputs that need a gradient themselves, the backward pass is recorded
(``create_graph``) and the results are nodes that can be differentiated again.

    >>> from autograd_core.functional import grad, hessian
    >>> f = lambda x: x ** 3
    >>> grad(f)(2.0), grad(grad(f))(2.0), grad(grad(grad(f)))(2.0)
    (12.0, 12.0, 6.0)
    >>> import numpy as np
    >>> hessian(lambda x: (x ** 2).sum() * x[0])(np.array([1.0, 2.0]))
    array([[6., 4.],
           [4., 2.]])

Forward mode (``jvp``) is done by the double-vjp trick: ``J t`` is the gradient, with respect
to a dummy cotangent ``u``, of ``(Jᵀu)·t``, which costs two reverse passes.
"""
from __future__ import annotations

import contextlib
import numbers
import threading

import numpy as np

from . import ops
from .graph import Node, grad as _grad
from .tensor import Tensor
from .value import Value

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp"]


class _Depth(threading.local):
    level = 0  # how many transforms are running in this thread, one inside the other


_depth = _Depth()


@contextlib.contextmanager
def _inside_transform():
    _depth.level += 1
    try:
        yield
    finally:
        _depth.level -= 1


class _Input:
    """One differentiated argument: the node the function sees, and how to give results back."""

    def __init__(self, x, position: int):
        if isinstance(x, Node):
            self.kind = "node"
            self.outer = x.requires_grad  # part of a graph someone differentiates: keep it
            if self.outer:
                self.node = x
            elif isinstance(x, Value):
                self.node = Value(x.data, label=x.label)
            else:
                self.node = Tensor(x.data, requires_grad=True)
        elif isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)):
            self.kind, self.outer, self.node = "number", False, Value(float(x))
        elif isinstance(x, (np.ndarray, list, tuple)):
            array = np.asarray(x)
            if array.dtype.kind not in "iuf":
                raise TypeError(f"argument {position}: cannot differentiate with respect to "
                                f"{array.dtype} data")
            kind = array.dtype.kind == "f"
            self.kind, self.outer = "array", False
            self.node = Tensor(array if kind else array.astype(np.float64), requires_grad=True)
        else:
            raise TypeError(f"argument {position}: cannot differentiate with respect to a "
                            f"{type(x).__name__}")

    def zeros(self):
        """The gradient of something that does not depend on this input."""
        return 0.0 if isinstance(self.node, Value) else np.zeros_like(self.node.data)


def _lower(result, like: Node, keep_nodes: bool, kind: str):
    """A result (raw data or a node) in the kind the caller gave: floats, arrays or nodes."""
    if keep_nodes:
        return result if isinstance(result, Node) else like._constant_like(result)
    data = result.data if isinstance(result, Node) else result
    if kind == "number" or kind == "plain" and isinstance(like, Value):
        return float(data)
    if kind == "array" or kind == "plain":
        return np.asarray(data)
    return like._constant_like(data)  # "node": a node without history


def _positions(argnums, count: int) -> tuple[tuple[int, ...], bool]:
    """Normalised argnums and whether a single one was asked for; ValueError if invalid."""
    single = not isinstance(argnums, (tuple, list))
    numbers_ = (argnums,) if single else tuple(argnums)
    if not numbers_:
        raise ValueError("argnums is empty: say which arguments to differentiate")
    for n in numbers_:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise ValueError(f"argnums must be integers, got {n!r}")
        if not -count <= n < count:
            raise ValueError(f"argnums {n} is out of range for a call with {count} positional "
                             f"argument{'s' if count != 1 else ''}")
    positions = tuple(int(n) % count for n in numbers_)
    if len(set(positions)) != len(positions):
        raise ValueError(f"argnums {tuple(numbers_)} names an argument more than once")
    return positions, single


def _call(f, args, kwargs, positions):
    """Call ``f`` with the arguments at ``positions`` replaced by differentiable nodes."""
    inputs = [_Input(args[i], i) for i in positions]
    lifted = list(args)
    for i, x in zip(positions, inputs):
        lifted[i] = x.node
    with _inside_transform():
        out = f(*lifted, **kwargs)
    keep_nodes = _depth.level > 0 or any(x.outer for x in inputs)
    return out, inputs, keep_nodes


def _gradients(output, inputs, grad_output, keep_nodes: bool, retain: bool = False):
    """The gradients of ``output`` (a node) with respect to every input, zeros where unused."""
    if not (isinstance(output, Node) and output.requires_grad):
        return [x.zeros() for x in inputs]
    found = _grad(output, [x.node for x in inputs], grad_outputs=grad_output,
                  retain_graph=retain or keep_nodes, create_graph=keep_nodes, allow_unused=True)
    return [x.zeros() if g is None else g for x, g in zip(inputs, found)]


def _scalar(output, name: str):
    if isinstance(output, (tuple, list, dict)):
        raise TypeError(f"{name} needs a function with a scalar output, got "
                        f"{type(output).__name__}: use jacobian or vjp (or, for a (value, aux) "
                        f"pair, pass has_aux=True)")
    if isinstance(output, Node):
        if np.size(output.data) != 1:
            raise TypeError(f"{name} needs a function with a scalar output; this one returned "
                            f"shape {np.shape(output.data)}: use jacobian or vjp")
        return output
    if isinstance(output, numbers.Real) or np.ndim(output) == 0 and np.size(output) == 1:
        return output  # a constant: every gradient is zero
    raise TypeError(f"{name} needs a function with a scalar output, got "
                    f"{type(output).__name__}: use jacobian or vjp")


def value_and_grad(f, argnums=0, has_aux: bool = False):
    """A function returning ``(f(*args), gradient of f)``; ``((value, aux), gradient)`` with
    ``has_aux``. The gradient is one result for an int ``argnums``, a tuple for a tuple.

        >>> from autograd_core.functional import value_and_grad
        >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
        (12.0, (4.0, 3.0))
    """
    def value_and_grad_f(*args, **kwargs):
        positions, single = _positions(argnums, len(args))
        out, inputs, keep_nodes = _call(f, args, kwargs, positions)
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("has_aux=True needs the function to return a pair (value, aux)")
            out, aux = out
        value = _scalar(out, "grad")
        grads = _gradients(value, inputs, None, keep_nodes)
        grads = [_lower(g, x.node, keep_nodes, x.kind) for g, x in zip(grads, inputs)]
        value = _lower_output(value, inputs, keep_nodes)
        result = grads[0] if single else tuple(grads)
        if has_aux:  # plain data for plain inputs, as the value (PyTorch's and JAX's aux)
            aux = _lower_nested(aux, inputs, keep_nodes)
        return ((value, aux) if has_aux else value), result
    return value_and_grad_f


def grad(f, argnums=0, has_aux: bool = False):
    """A function returning the gradient of the scalar function ``f`` (``(grad, aux)`` with
    ``has_aux``). A non-scalar ``f`` raises TypeError: use ``jacobian`` or ``vjp``.

        >>> from autograd_core.functional import grad
        >>> grad(lambda x: x.sin())(0.0)
        1.0
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux)

    def grad_f(*args, **kwargs):
        value, gradient = value_and_grad_f(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient
    return grad_f


def vjp(f, *primals):
    """``(f(*primals), vjp_fn)``: ``vjp_fn(cotangent)`` gives ``cotangentᵀ J`` for every
    primal, as a tuple; it may be called any number of times.

        >>> import numpy as np
        >>> from autograd_core.functional import vjp
        >>> out, vjp_fn = vjp(lambda x: x * x, np.array([1.0, 2.0]))
        >>> vjp_fn(np.array([1.0, 10.0]))
        (array([ 2., 40.]),)
    """
    out, inputs, keep_nodes = _call(f, primals, {}, tuple(range(len(primals))))
    _check_output(out, "vjp")

    def vjp_fn(cotangent):
        if isinstance(out, Node) and out.requires_grad:
            _check_cotangent(out, cotangent)
        grads = _gradients(out, inputs, cotangent, keep_nodes, retain=True)
        return tuple(_lower(g, x.node, keep_nodes, x.kind) for g, x in zip(grads, inputs))
    return _lower_output(out, inputs, keep_nodes), vjp_fn


def jvp(f, primals, tangents):
    """``(f(*primals), J @ tangents)``: the directional derivative of ``f`` along the tangents.

    Forward mode by the double-vjp trick (two reverse passes), not by dual numbers.

        >>> from autograd_core.functional import jvp
        >>> jvp(lambda x, y: x * y, (3.0, 4.0), (1.0, 0.0))
        (12.0, 4.0)
    """
    primals, tangents = _pairs("jvp", primals, tangents)
    out, inputs, keep_nodes = _call(f, primals, {}, tuple(range(len(primals))))
    _check_output(out, "jvp")
    for i, (x, t) in enumerate(zip(inputs, tangents)):
        if np.shape(_data(t)) != np.shape(x.node.data):
            raise ValueError(f"jvp: tangent {i} has shape {np.shape(_data(t))} but its primal "
                             f"has shape {np.shape(x.node.data)}")
    if not (isinstance(out, Node) and out.requires_grad):
        return _lower_output(out, inputs, keep_nodes), _zeros_like_output(out, keep_nodes)
    dummy = (Value(0.0) if isinstance(out, Value)
             else Tensor(np.zeros_like(out.data), requires_grad=True))  # the cotangent u
    transposed = _grad(out, [x.node for x in inputs], grad_outputs=dummy, retain_graph=True,
                       create_graph=True, allow_unused=True)                        # Jᵀu
    along = None
    for g, t in zip(transposed, tangents):
        if g is not None:
            term = (g * _data(t)) if isinstance(g, Value) else (g * _data(t)).sum()
            along = term if along is None else along + term                         # (Jᵀu)·t
    if not (isinstance(along, Node) and along.requires_grad):
        return _lower_output(out, inputs, keep_nodes), _zeros_like_output(out, keep_nodes)
    (tangent_out,) = _grad(along, dummy, create_graph=keep_nodes, allow_unused=True)
    if tangent_out is None:
        tangent_out = _zeros_like_output(out, False)
    return (_lower_output(out, inputs, keep_nodes),
            _lower(tangent_out, out, keep_nodes, _output_kind(inputs)))


def jacobian(f, argnums=0):
    """A function returning the Jacobian of ``f``: shape ``output.shape + input.shape``
    (one per argument for a tuple ``argnums``), one reverse pass per output element.

        >>> import numpy as np
        >>> from autograd_core.functional import jacobian
        >>> W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        >>> jacobian(lambda x: W @ x)(np.array([1.0, -1.0]))
        array([[1., 2.],
               [3., 4.],
               [5., 6.]])
    """
    def jacobian_f(*args, **kwargs):
        positions, single = _positions(argnums, len(args))
        out, inputs, keep_nodes = _call(f, args, kwargs, positions)
        _check_output(out, "jacobian")
        out_shape = np.shape(_data(out))
        rows = []  # rows[k][i]: gradient of output element k with respect to input i
        for k in range(int(np.prod(out_shape))):
            basis = np.zeros(out_shape)
            basis.flat[k] = 1.0
            seed = float(basis) if isinstance(out, Value) else basis
            rows.append(_gradients(out, inputs, seed, keep_nodes, retain=True))
        results = []
        for i, x in enumerate(inputs):
            column = [row[i] for row in rows]
            if isinstance(x.node, Value):
                results.append(_lower(column[0], x.node, keep_nodes, x.kind))
                continue
            shape = out_shape + x.node.shape
            if keep_nodes:
                nodes = [g if isinstance(g, Node) else x.node._constant_like(g) for g in column]
                results.append(ops.stack(nodes, 0).reshape(shape) if nodes
                               else x.node._constant_like(np.zeros(shape)))
            else:
                stacked = np.stack([_data(g) for g in column]) if column else np.zeros(shape)
                results.append(_lower(stacked.reshape(shape), x.node, False, x.kind))
        return results[0] if single else tuple(results)
    return jacobian_f


def hessian(f, argnums: int = 0):
    """A function returning the Hessian of the scalar function ``f``: ``jacobian(grad(f))``.

        >>> import numpy as np
        >>> from autograd_core.functional import hessian
        >>> A = np.array([[2.0, 1.0], [0.0, 3.0]])
        >>> hessian(lambda x: 0.5 * x @ (A @ x))(np.array([1.0, 1.0]))  # (A + Aᵀ) / 2
        array([[2. , 0.5],
               [0.5, 3. ]])
    """
    if isinstance(argnums, (tuple, list)):
        raise ValueError("hessian takes one argnums (an int); compose jacobian and grad for "
                         "blocks across several arguments")
    return jacobian(grad(f, argnums), argnums)


def hvp(f, primals, tangents):
    """``(f(*primals), H @ tangents)``: the Hessian of the scalar ``f`` times a vector, without
    forming the Hessian (reverse over reverse: the gradient of ``grad(f)·tangents``). The
    second result is a tuple, one entry per primal.

        >>> from autograd_core.functional import hvp
        >>> hvp(lambda x: x ** 3, (2.0,), (1.0,))
        (8.0, (12.0,))
    """
    primals, tangents = _pairs("hvp", primals, tangents)
    out, inputs, keep_nodes = _call(f, primals, {}, tuple(range(len(primals))))
    value = _scalar(out, "hvp")
    for i, (x, t) in enumerate(zip(inputs, tangents)):
        if np.shape(_data(t)) != np.shape(x.node.data):
            raise ValueError(f"hvp: tangent {i} has shape {np.shape(_data(t))} but its primal "
                             f"has shape {np.shape(x.node.data)}")
    products = [x.zeros() for x in inputs]
    if isinstance(value, Node) and value.requires_grad:
        gradients = _grad(value, [x.node for x in inputs], retain_graph=True, create_graph=True,
                          allow_unused=True)
        along = None
        for g, t in zip(gradients, tangents):
            if g is not None:
                term = (g * _data(t)) if isinstance(g, Value) else (g * _data(t)).sum()
                along = term if along is None else along + term
        products = _gradients(along, inputs, None, keep_nodes)
    return (_lower_output(value, inputs, keep_nodes),
            tuple(_lower(p, x.node, keep_nodes, x.kind) for p, x in zip(products, inputs)))


# ----- helpers -----

def _data(x):
    return x.data if isinstance(x, Node) else x


def _check_output(out, name: str) -> None:
    if not (isinstance(out, Node) or isinstance(out, (numbers.Real, np.ndarray))):
        raise TypeError(f"{name} needs a function returning one Value or Tensor, got "
                        f"{type(out).__name__}")


def _check_cotangent(out: Node, cotangent) -> None:
    shape = np.shape(_data(cotangent))
    if shape != np.shape(out.data):
        raise ValueError(f"vjp: cotangent has shape {shape} but the output has shape "
                         f"{np.shape(out.data)}")


def _output_kind(inputs) -> str:
    """Outputs come back as nodes if the inputs were nodes, as plain data otherwise."""
    return "node" if any(x.kind == "node" for x in inputs) else "plain"


def _lower_output(out, inputs, keep_nodes: bool):
    if not isinstance(out, Node) or keep_nodes or _output_kind(inputs) == "node":
        return out
    return out.data if isinstance(out, Tensor) else float(out.data)


def _pairs(name: str, primals, tangents) -> tuple[tuple, tuple]:
    """``primals`` and ``tangents`` as tuples of one entry per argument of ``f``, as many each."""
    for what, given in (("primals", primals), ("tangents", tangents)):
        if not isinstance(given, (tuple, list)):
            raise TypeError(f"{name}: {what} is a tuple with one entry per argument of f, got "
                            f"{type(given).__name__}")
    if len(primals) != len(tangents):
        raise ValueError(f"{name}: {len(primals)} primals but {len(tangents)} tangents")
    return tuple(primals), tuple(tangents)


def _lower_nested(value, inputs, keep_nodes: bool):
    """``value`` with every node in it (in tuples, lists and dicts) lowered as an output is."""
    if isinstance(value, Node):
        return _lower_output(value, inputs, keep_nodes)
    if isinstance(value, (tuple, list)):
        return type(value)(_lower_nested(v, inputs, keep_nodes) for v in value)
    if isinstance(value, dict):
        return {k: _lower_nested(v, inputs, keep_nodes) for k, v in value.items()}
    return value


def _zeros_like_output(out, keep_nodes: bool):
    data = np.zeros_like(_data(out), dtype=float)
    if isinstance(out, Value) or np.ndim(data) == 0 and not isinstance(out, Tensor):
        data = float(data)
    return out._constant_like(data) if keep_nodes and isinstance(out, Node) else data
