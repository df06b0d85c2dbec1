"""Every Tensor op: forward vs numpy, gradient vs finite differences, shapes, dtypes, aliasing."""
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import Tensor
from autograd_core.ops import OPS
from autograd_core.testing import numerical_grad
from op_cases import CASES, NO_GRADIENT
from tensor_cases import TENSOR_CASES

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3
by_id = pytest.mark.parametrize("case", TENSOR_CASES, ids=lambda c: c.id)


def test_every_op_of_the_table_has_a_value_or_tensor_case():
    covered = {c.name for c in CASES} | {c.name for c in TENSOR_CASES}
    assert set(OPS) - NO_GRADIENT == covered


@by_id
@given(data=st.data())
def test_forward_matches_numpy(case, data):
    arrays, extra = data.draw(case.inputs, label="inputs")
    out = case.on_tensors(*[Tensor(a) for a in arrays], *extra)
    expected = np.asarray(case.reference(*arrays, *extra))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)


@by_id
@given(data=st.data())
def test_gradient_matches_central_differences(case, data):
    arrays, extra = data.draw(case.inputs, label="inputs")
    originals = [a.copy() for a in arrays]
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    out = case.on_tensors(*leaves, *extra)
    upstream = data.draw(hnp.arrays(np.float64, out.shape, elements=st.floats(-2, 2)), label="grad")
    upstream_before = upstream.copy()
    out.backward(upstream)
    numerical = numerical_grad(lambda *xs: case.on_tensors(*xs, *extra), arrays, eps=EPS,
                               grad_output=upstream)
    for i, (leaf, expected) in enumerate(zip(leaves, numerical)):
        grad = np.zeros_like(arrays[i]) if leaf.grad is None else leaf.grad
        assert grad.shape == leaf.shape and grad.dtype == leaf.dtype, f"input {i}"
        np.testing.assert_allclose(grad, expected, rtol=RTOL, atol=ATOL, err_msg=f"input {i}")
    for before, after in zip(originals, arrays):
        np.testing.assert_array_equal(before, after)  # inputs untouched
    np.testing.assert_array_equal(upstream, upstream_before)  # so is the upstream gradient
    grads = [leaf.grad for leaf in leaves if leaf.grad is not None and leaf.grad.size]
    for g1, g2 in itertools.combinations(grads, 2):
        assert not np.shares_memory(g1, g2)


@by_id
@given(data=st.data())
def test_float32_stays_float32(case, data):
    arrays, extra = data.draw(case.inputs, label="inputs")
    leaves = [Tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    out = case.on_tensors(*leaves, *extra)
    assert out.dtype == np.float32
    out.sum().backward()
    for leaf in leaves:
        assert leaf.grad is None or leaf.grad.dtype == np.float32
