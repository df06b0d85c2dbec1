"""Checks for gradients, usable in any pytest suite.

``gradcheck(f, inputs)`` compares the Jacobians that backward computes with central finite
differences, and fails naming the input and the worst element; ``gradgradcheck`` does the
same for the gradients themselves (second order). ``numerical_grad`` is the finite
difference on its own; ``check_model_gradients`` reports, parameter by parameter, whether a
model's gradients are right; ``compare_value_tensor`` evaluates a function on scalar
``Value``s and on 0-d ``Tensor``s and requires identical results (an oracle that needs no
finite differences). Hypothesis strategies (inputs, random expression graphs) are in
``autograd_core.testing.strategies``.

    >>> import numpy as np
    >>> from autograd_core import Op
    >>> from autograd_core.testing import gradcheck
    >>> cube = Op("cube", lambda x: x ** 3, lambda g, out, x: g * 3 * x ** 2)
    >>> gradcheck(cube, [np.array([0.5, -1.0, 2.0])])
    True
    >>> wrong = Op("cube", lambda x: x ** 3, lambda g, out, x: g * 3 * x)  # forgot the square
    >>> gradcheck(wrong, [np.array([0.5, -1.0, 2.0])])
    Traceback (most recent call last):
    ...
    autograd_core.testing.GradcheckError: gradcheck: Jacobian of output 0 with respect to input 0 differs at output (1,), input (1,): analytic -3, numerical 3, difference 6 > tolerance 0.00301 (atol 1e-05 + rtol 0.001 * |numerical|)
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..graph import Node, grad as _grad, no_grad
from ..tensor import Tensor
from ..value import Value

__all__ = ["GradcheckError", "numerical_grad", "gradcheck", "gradgradcheck",
           "check_model_gradients", "GradientReport", "ParameterCheck", "compare_value_tensor"]


class GradcheckError(AssertionError):
    """A gradient check failed: the message names the input and the worst element."""


# ----- inputs -----

def _as_array(x) -> np.ndarray:
    """A copy of the input's data as a float array (float32 kept, so that it can be warned of)."""
    array = np.array(x.data if isinstance(x, Node) else x)
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def _node_type(x):
    """Value for numbers and Values; Tensor for arrays, lists and Tensors."""
    return Tensor if isinstance(x, (Tensor, np.ndarray, list, tuple)) else Value


def _make(node_type, array: np.ndarray, requires_grad: bool):
    if node_type is Value:
        return Value(float(array), requires_grad=requires_grad)
    return Tensor(array, requires_grad=requires_grad)


def _outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _in_float64(arrays) -> list:
    """The arrays in float64, with a warning if some were float32."""
    if any(a.dtype == np.float32 for a in arrays):
        warnings.warn("finite differences in float32 are too coarse to check gradients; "
                      "checking in float64 instead", UserWarning, stacklevel=3)
    return [a.astype(np.float64) for a in arrays]


# ----- finite differences -----

def numerical_grad(f, inputs, eps: float = 1e-6, grad_output=None) -> list:
    """Central differences of ``sum(f(*inputs) * grad_output)`` for every input element.

    ``f`` takes one node per input (``Value`` for numbers, ``Tensor`` for arrays) and returns
    a node; ``grad_output`` defaults to ones. Returns one float or array per input.

        >>> from autograd_core.testing import numerical_grad
        >>> [round(g, 6) for g in numerical_grad(lambda x, y: x * y, [3.0, 4.0])]
        [4.0, 3.0]
    """
    types = [_node_type(x) for x in inputs]
    arrays = _in_float64([_as_array(x) for x in inputs])
    (jacobians,) = _numerical_jacobians(lambda *xs: _outputs(f(*xs))[0], types, arrays, eps)
    grads = []
    for t, array, jacobian in zip(types, arrays, jacobians):
        out_ndim = jacobian.ndim - array.ndim
        weights = np.ones(jacobian.shape[:out_ndim]) if grad_output is None \
            else np.asarray(_data(grad_output), dtype=float)
        g = np.tensordot(weights, jacobian, axes=out_ndim)  # sum over the output's elements
        grads.append(float(g) if t is Value else g)
    return grads


def _input_list(inputs) -> list:
    """``inputs`` as a list: one node, array or number stands for a list of one (as PyTorch)."""
    return [inputs] if isinstance(inputs, (Node, np.ndarray, int, float)) else list(inputs)


def _data(x):
    return x.data if isinstance(x, Node) else x


# ----- Jacobians -----

def _analytic_jacobians(f, types, arrays):
    """J[o][i]: array of shape out_o.shape + in_i.shape, by one backward per output element."""
    leaves = [_make(t, a, True) for t, a in zip(types, arrays)]
    outputs = _outputs(f(*leaves))
    jacobians = []
    for out in outputs:
        shape = np.shape(_data(out))
        per_input = [np.zeros(shape + a.shape) for a in arrays]
        if isinstance(out, Node) and out.requires_grad:
            for k in np.ndindex(shape):
                seed = np.zeros(shape)
                seed[k] = 1.0
                found = _grad(out, leaves, grad_outputs=float(seed) if isinstance(out, Value)
                              else seed, retain_graph=True, allow_unused=True)
                for i, g in enumerate(found):
                    if g is not None:
                        per_input[i][k] = g
        jacobians.append(per_input)
    return jacobians


def _numerical_jacobians(f, types, arrays, eps):
    def evaluate(moved):
        # Inputs that require grad, recording on: f may itself differentiate (gradgradcheck).
        outs = _outputs(f(*[_make(t, a, True) for t, a in zip(types, moved)]))
        return [np.asarray(_data(o), dtype=float) for o in outs]

    base = evaluate(arrays)
    jacobians = [[np.zeros(o.shape + a.shape) for a in arrays] for o in base]
    for i, array in enumerate(arrays):
        for index in np.ndindex(array.shape):
            moved = [a.copy() for a in arrays]
            moved[i][index] += eps
            up = evaluate(moved)
            moved[i][index] -= 2 * eps
            down = evaluate(moved)
            for o in range(len(base)):
                jacobians[o][i][(...,) + index] = (up[o] - down[o]) / (2 * eps)
    return jacobians


def _compare(analytic, numerical, arrays, atol, rtol, what):
    """The failure message for the worst element outside tolerance, or None."""
    for o, (rows_a, rows_n) in enumerate(zip(analytic, numerical)):
        for i, (a, n) in enumerate(zip(rows_a, rows_n)):
            difference = np.abs(a - n)
            tolerance = atol + rtol * np.abs(n)
            bad = ~(difference <= tolerance)  # nan counts as a failure
            if bad.any():
                excess = np.where(bad, np.nan_to_num(difference - tolerance, nan=np.inf), -np.inf)
                worst = np.unravel_index(np.argmax(excess), a.shape)
                split = len(worst) - arrays[i].ndim  # output dimensions, then input ones
                return (f"{what}: Jacobian of output {o} with respect to input {i} differs at "
                        f"output {tuple(map(int, worst[:split]))}, input "
                        f"{tuple(map(int, worst[split:]))}: analytic {a[worst]:.6g}, numerical "
                        f"{n[worst]:.6g}, difference {difference[worst]:.6g} > tolerance "
                        f"{tolerance[worst]:.6g} (atol {atol:g} + rtol {rtol:g} * |numerical|)")
    return None


def gradcheck(f, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, fast_mode: bool = False) -> bool:
    """Whether backward's Jacobians of ``f`` at ``inputs`` match central differences.

    ``f`` takes one node per input (``Value`` for numbers, ``Tensor`` for arrays; any node
    given is used for its data) and returns a node or a tuple of nodes. Every input is
    checked in float64 (float32 inputs warn). With ``fast_mode`` one random projection
    ``uᵀJv`` per output is compared instead of the full Jacobian (for large inputs). Backward
    must also be deterministic: two runs agree exactly. On failure this raises
    ``GradcheckError`` naming the input and the worst element (or returns False with
    ``raise_exception=False``). A single node or array may be given in place of the list.
    """
    inputs = _input_list(inputs)
    types = [_node_type(x) for x in inputs]
    arrays = _in_float64([_as_array(x) for x in inputs])
    if fast_mode:
        message = _check_projection(f, types, arrays, eps, atol, rtol)
    else:
        analytic = _analytic_jacobians(f, types, arrays)
        message = _compare(analytic, _numerical_jacobians(f, types, arrays, eps), arrays,
                           atol, rtol, "gradcheck")
        if message is None:
            message = _check_deterministic(f, types, arrays, analytic)
    if message is not None:
        if raise_exception:
            raise GradcheckError(message)
        return False
    return True


def _check_projection(f, types, arrays, eps, atol, rtol):
    rng = np.random.default_rng(0)
    directions = [rng.standard_normal(a.shape) for a in arrays]
    leaves = [_make(t, a, True) for t, a in zip(types, arrays)]
    outputs = _outputs(f(*leaves))
    for o, out in enumerate(outputs):
        u = rng.standard_normal(np.shape(_data(out)))
        def projected() -> float:  # uᵀJv by one backward
            if not (isinstance(out, Node) and out.requires_grad):
                return 0.0
            found = _grad(out, leaves, grad_outputs=float(u) if isinstance(out, Value) else u,
                          retain_graph=True, allow_unused=True)
            return sum(float(np.sum(np.asarray(g) * v))
                       for g, v in zip(found, directions) if g is not None)

        analytic = projected()
        if projected() != analytic:
            return (f"gradcheck (fast mode): backward is not deterministic: two runs gave "
                    f"different projections of output {o}")

        def along(step):
            moved = [a + step * v for a, v in zip(arrays, directions)]
            value = _outputs(f(*[_make(t, m, True) for t, m in zip(types, moved)]))[o]
            return float(np.sum(np.asarray(_data(value)) * u))

        numerical = (along(eps) - along(-eps)) / (2 * eps)
        tolerance = atol + rtol * abs(numerical)
        if not abs(analytic - numerical) <= tolerance:
            return (f"gradcheck (fast mode): projection uᵀJv of output {o} differs: analytic "
                    f"{analytic:.6g}, numerical {numerical:.6g}, difference "
                    f"{abs(analytic - numerical):.6g} > tolerance {tolerance:.6g}")
    return None


def _check_deterministic(f, types, arrays, first):
    second = _analytic_jacobians(f, types, arrays)
    for o, (rows_1, rows_2) in enumerate(zip(first, second)):
        for i, (a, b) in enumerate(zip(rows_1, rows_2)):
            if not np.array_equal(a, b, equal_nan=True):
                return (f"gradcheck: backward is not deterministic: two runs gave different "
                        f"Jacobians of output {o} with respect to input {i}")
    return None


def gradgradcheck(f, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True,
                  fast_mode: bool = False) -> bool:
    """``gradcheck`` of the gradients of ``f``: second derivatives against finite
    differences of the first. ``grad_outputs`` (default: random, fixed) weights ``f``'s output.

        >>> from autograd_core.testing import gradgradcheck
        >>> gradgradcheck(lambda x: x.sin() * x, [0.7])
        True
    """
    inputs = _input_list(inputs)
    types = [_node_type(x) for x in inputs]
    probe = f(*[_make(t, _as_array(x), False) for t, x in zip(types, inputs)])
    if grad_outputs is None:
        rng = np.random.default_rng(1)
        shape = np.shape(_data(probe))
        grad_outputs = float(rng.standard_normal()) if isinstance(probe, Value) \
            else rng.standard_normal(shape)

    def first_derivatives(*leaves):
        out = f(*leaves)
        if not (isinstance(out, Node) and out.requires_grad):
            return tuple(leaf._constant_like(np.zeros(np.shape(leaf.data))) for leaf in leaves)
        found = _grad(out, list(leaves), grad_outputs=grad_outputs, create_graph=True,
                      allow_unused=True)
        return tuple(leaf._constant_like(np.zeros(np.shape(leaf.data))) if g is None
                     else g if isinstance(g, Node) else leaf._constant_like(g)
                     for g, leaf in zip(found, leaves))

    return gradcheck(first_derivatives, inputs, eps, atol, rtol, raise_exception, fast_mode)


# ----- models -----

@dataclass
class ParameterCheck:
    """One parameter's line of a ``check_model_gradients`` report."""
    name: str
    shape: tuple
    checked: int  # elements compared (all of them, or a sample)
    max_abs_error: float
    max_rel_error: float
    ok: bool


class GradientReport(list):
    """The ``ParameterCheck``s of a model, printable as a table; ``report.ok`` if all pass."""

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self)

    @property
    def failed(self) -> list:
        """The names of the parameters whose gradients are wrong."""
        return [row.name for row in self if not row.ok]

    def __str__(self):
        width = max([len("parameter")] + [len(row.name) for row in self])
        lines = [f"{'parameter':<{width}}  {'shape':<12} {'checked':>7}  {'max abs err':>11}  "
                 f"{'max rel err':>11}  ok"]
        for row in self:
            lines.append(f"{row.name:<{width}}  {str(row.shape):<12} {row.checked:>7}  "
                         f"{row.max_abs_error:>11.3g}  {row.max_rel_error:>11.3g}  "
                         f"{'yes' if row.ok else 'NO'}")
        return "\n".join(lines)


def check_model_gradients(model, loss_fn, batch=None, eps: float = 1e-6, atol: float = 1e-5,
                          rtol: float = 1e-3, max_elements: int = 20, seed: int = 0,
                          raise_exception: bool = False) -> GradientReport:
    """Compare every parameter's gradient with central differences; report per parameter.

    ``model`` is anything with ``named_parameters()`` (an ``nn.Module``) or a mapping of
    names to parameters (``Tensor``s or ``Value``s); ``loss_fn(model, batch)`` returns the
    scalar loss. Parameters with more than ``max_elements`` elements are checked on a random
    sample of them (seeded). Gradients and data are left as they were. The report prints as a
    table naming each parameter; with ``raise_exception`` a failure raises ``GradcheckError``.

        >>> import numpy as np
        >>> from autograd_core import Tensor
        >>> from autograd_core.testing import check_model_gradients
        >>> params = {"w": Tensor([[0.5, -1.0]], requires_grad=True),
        ...           "b": Tensor([0.1], requires_grad=True)}
        >>> def loss_fn(p, batch):
        ...     x, y = batch
        ...     return (((Tensor(x) @ p["w"].T + p["b"]) - Tensor(y)) ** 2).mean()
        >>> report = check_model_gradients(params, loss_fn, (np.ones((3, 2)), np.zeros((3, 1))))
        >>> report.ok, [row.name for row in report]
        (True, ['w', 'b'])
    """
    named = list(model.named_parameters() if hasattr(model, "named_parameters")
                 else model.items())
    saved = [(p, p.data, p.grad) for _, p in named]
    rng = np.random.default_rng(seed)
    try:
        for _, p in named:
            p.grad = 0.0 if isinstance(p, Value) else None
        loss_fn(model, batch).backward()
        analytic = {name: np.zeros(np.shape(p.data)) if p.grad is None
                    else np.array(_data(p.grad), dtype=float) for name, p in named}

        def loss_at(p, data) -> float:
            p.data = data
            with no_grad():
                return float(np.sum(_data(loss_fn(model, batch))))

        report = GradientReport()
        for (name, p), (_, original, _) in zip(named, saved):
            array = np.array(original, dtype=float)
            size = array.size
            picks = range(size) if size <= max_elements else rng.choice(size, max_elements,
                                                                           replace=False)
            worst_abs = worst_rel = 0.0
            ok = True
            for flat in picks:
                index = np.unravel_index(int(flat), array.shape)
                moved = array.copy()
                moved[index] += eps
                up = loss_at(p, float(moved) if isinstance(p, Value) else moved)  # in float64
                moved[index] -= 2 * eps
                down = loss_at(p, float(moved) if isinstance(p, Value) else moved)
                numerical = (up - down) / (2 * eps)
                difference = abs(analytic[name][index] - numerical)
                worst_abs = max(worst_abs, difference)
                worst_rel = max(worst_rel, difference / max(abs(numerical), 1e-12))
                ok = ok and difference <= atol + rtol * abs(numerical)
            p.data = original
            report.append(ParameterCheck(name, array.shape, len(picks), worst_abs, worst_rel, ok))
    finally:
        for p, data, g in saved:
            p.data, p.grad = data, g
    if raise_exception and not report.ok:
        raise GradcheckError(f"wrong gradients for {', '.join(report.failed)}:\n{report}")
    return report


# ----- Value / Tensor oracle -----

def _bits(x) -> bytes:
    return np.float64(x).tobytes()


def compare_value_tensor(f, *inputs, raise_exception: bool = True) -> bool:
    """Whether ``f`` gives bit-identical results and gradients on Values and on 0-d Tensors.

    ``f`` takes one node per input and returns a scalar node. On a mismatch this raises
    ``AssertionError`` naming what differs (or returns False with ``raise_exception=False``).

        >>> from autograd_core.testing import compare_value_tensor
        >>> compare_value_tensor(lambda x, y: (x * y).tanh() + x.exp(), 0.5, -1.5)
        True
    """
    values = [Value(float(x)) for x in inputs]
    tensors = [Tensor(float(x), requires_grad=True) for x in inputs]
    value_out, tensor_out = f(*values), f(*tensors)
    value_out.backward()
    tensor_out.backward()
    problems = []
    if _bits(value_out.data) != _bits(tensor_out.data):
        problems.append(f"output: Value {value_out.data!r} != Tensor {tensor_out.data!r}")
    for i, (v, t) in enumerate(zip(values, tensors)):
        t_grad = 0.0 if t.grad is None else t.grad
        if _bits(v.grad) != _bits(t_grad):
            problems.append(f"gradient of input {i}: Value {v.grad!r} != Tensor {t_grad!r}")
    if problems and raise_exception:
        raise AssertionError(f"Value and Tensor disagree on inputs {inputs}: " + "; ".join(problems))
    return not problems
