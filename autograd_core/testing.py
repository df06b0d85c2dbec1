"""Checks for gradients, usable in any pytest suite.

``compare_value_tensor(f, *inputs)``: evaluate ``f`` on scalar ``Value``s and on 0-d
``Tensor``s, back-propagate both, and require identical data and gradients. The two node
types share one op table and one backward loop, so any difference is a bug in a fast path.

    >>> from autograd_core.testing import compare_value_tensor
    >>> compare_value_tensor(lambda x, y: (x * y).tanh() + x.exp(), 0.5, -1.5)
    True
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor
from .value import Value

__all__ = ["compare_value_tensor"]


def _bits(x) -> bytes:
    return np.float64(x).tobytes()


def compare_value_tensor(f, *inputs, raise_exception: bool = True) -> bool:
    """Whether ``f`` gives bit-identical results and gradients on Values and on 0-d Tensors.

    ``f`` takes one node per input and returns a scalar node. On a mismatch this raises
    ``AssertionError`` naming what differs (or returns False with ``raise_exception=False``).
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
