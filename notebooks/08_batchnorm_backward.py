# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Batch normalisation, backward by hand
#
# Batch normalisation (Ioffe and Szegedy, 2015) normalises each unit over the batch, then
# scales and shifts it with learnable `γ` and `β`. For one unit (the lecture drops its
# index `i`) and the `m` examples `x^(j)` of a batch:
#
# - `μ = (1/m) Σ_j x^(j)`, `σ² = (1/m) Σ_j (x^(j) − μ)²` (the biased variance of the batch),
# - `x̂^(j) = (x^(j) − μ) / √(σ² + ε)`,
# - `y^(j) = γ x̂^(j) + β`.
#
# Normalisation is part of the computational graph, so the gradient flows through `μ` and
# `σ²` as well, and every `x^(j)` influences every `y^(k)`. The lecture breaks the graph into
# elementary steps, naming the intermediates
#
# `a^(j) = x^(j) − μ`, `e^(j) = σ² + ε`, `c^(j) = √e^(j)`, `b^(j) = 1/c^(j)`, `x̂^(j) = a^(j) b^(j)`
#
# (`e`, `c` and `b` are the same number for every `j`: one copy per example is what makes
# sums appear in the backward pass), and derives the gradients one step at a time:
#
# | gradient | the lecture's formula |
# | --- | --- |
# | `∂ℓ/∂β` | `Σ_j ∂ℓ/∂y^(j)` |
# | `∂ℓ/∂γ` | `Σ_j ∂ℓ/∂y^(j) x̂^(j)` |
# | `∂ℓ/∂x̂^(j)` | `∂ℓ/∂y^(j) γ` |
# | `∂ℓ/∂a^(j)` (direct path) | `∂ℓ/∂x̂^(j) / √(σ² + ε)` |
# | `∂ℓ/∂b^(j)` | `(x^(j) − μ) ∂ℓ/∂x̂^(j)` |
# | `∂ℓ/∂c^(j)` | `−(x^(j) − μ) ∂ℓ/∂x̂^(j) / (σ² + ε)` |
# | `∂ℓ/∂e^(j)` | `−½ (x^(j) − μ) ∂ℓ/∂x̂^(j) / (σ² + ε)^(3/2)` |
# | `∂ℓ/∂σ²` | `Σ_j ∂ℓ/∂e^(j)` |
# | `∂ℓ/∂μ` | `−Σ_j ∂ℓ/∂x̂^(j) / √(σ² + ε) + ∂ℓ/∂σ² · ∂σ²/∂μ`, with `∂σ²/∂μ = −(2/m) Σ_j (x^(j) − μ)` |
# | `∂ℓ/∂x^(j)` | `∂ℓ/∂a^(j) + (2 (x^(j) − μ)/m) ∂ℓ/∂σ² + (1/m) ∂ℓ/∂μ` |
#
# (The converted slides garble two details: one copy of `∂ℓ/∂μ` lost its minus sign, and
# `∂σ²/∂μ` lost its `1/m`; the second is harmless, as `Σ_j (x^(j) − μ) = 0`.) The steps
# collapse into the compact formula
# `∂ℓ/∂x^(j) = γ / (m √(σ² + ε)) · (m ∂ℓ/∂y^(j) − Σ_k ∂ℓ/∂y^(k) − x̂^(j) Σ_k ∂ℓ/∂y^(k) x̂^(k))`.
#
# We code each step in numpy, exactly as written, and compare it with the engine's
# gradients: first a graph built from `Tensor` operations with `retain_grad()` on every
# intermediate, then `nn.BatchNorm1d` in training mode, then finite differences.

# %%
import numpy as np

import nn
from autograd_core import Tensor
from autograd_core.testing import numerical_grad
from viz import draw_dot

rng = np.random.default_rng(0)
m, C, eps = 8, 3, 1e-5                       # a batch of 8 examples of 3 units
X = rng.normal(size=(m, C)) * [1.0, 5.0, 0.1] + [0.0, 3.0, -1.0]  # units on different scales
gamma_ = rng.normal(size=C)
beta_ = rng.normal(size=C)
T = rng.normal(size=(m, C))                  # targets of a least-squares loss after the layer

# %% [markdown]
# ## The forward pass and the lecture's backward pass, in numpy
#
# The loss after the layer is least squares to the targets `t`, `ℓ = ½ Σ (y − t)²`, so the
# gradient arriving at the layer is `∂ℓ/∂y = y − t`. Every array has one row per example `j`
# and one column per unit; `Σ_j` is a sum over axis 0.

# %%
# forward, step by step
mu = X.mean(axis=0)
a = X - mu
var = (a ** 2).mean(axis=0)
e = var + eps
c = np.sqrt(e)
b = 1 / c
xhat = a * b
y = gamma_ * xhat + beta_

# backward, following the lecture's steps and names
dl_dy = y - T
dl_dbeta = dl_dy.sum(axis=0)
dl_dgamma = (dl_dy * xhat).sum(axis=0)
dl_dxhat = dl_dy * gamma_
dl_da = dl_dxhat / np.sqrt(var + eps)                        # the direct path through a
dl_db = (X - mu) * dl_dxhat                                  # one per example j
dl_dc = -(X - mu) * dl_dxhat / (var + eps)
dl_de = -0.5 * (X - mu) * dl_dxhat / (var + eps) ** 1.5
dl_dvar = dl_de.sum(axis=0)                                  # σ² feeds every e^(j)
dvar_dmu = -2 / m * (X - mu).sum(axis=0)                     # = 0 (up to rounding)
dl_dmu = -dl_dxhat.sum(axis=0) / np.sqrt(var + eps) + dl_dvar * dvar_dmu
dl_dx = dl_da + 2 * (X - mu) / m * dl_dvar + dl_dmu / m

# the chain rule through inv and sqrt, as the lecture does it: ∂b/∂c = −1/c², ∂c/∂e = 1/(2√e)
np.testing.assert_allclose(dl_dc, dl_db * (-1 / c ** 2), rtol=1e-12)
np.testing.assert_allclose(dl_de, dl_dc / (2 * np.sqrt(e)), rtol=1e-12)
print("∂ℓ/∂γ =", dl_dgamma.round(4), "  ∂ℓ/∂β =", dl_dbeta.round(4))
print("∂ℓ/∂σ² =", dl_dvar.round(4), "  ∂ℓ/∂μ =", dl_dmu.round(4))

# %% [markdown]
# ## The engine's gradients
#
# The same forward pass from `Tensor` operations, with `retain_grad()` on every intermediate
# so that the engine keeps their gradients. The statistics are `(1, C)` tensors broadcast over
# the `m` rows: broadcasting is exactly the lecture's "one copy per example", and the engine
# sums the copies' gradients back to the `(1, C)` shape. So `σ².grad` is `Σ_j ∂ℓ/∂e^(j)` and
# `b.grad`, `c.grad`, `e.grad` are the sums over `j` of the lecture's per-example gradients.

# %%
def batch_norm_graph(X, gamma_, beta_, T):
    nodes = {"x": Tensor(X, requires_grad=True), "γ": Tensor(gamma_, requires_grad=True),
             "β": Tensor(beta_, requires_grad=True)}
    x = nodes["x"]
    nodes["μ"] = mu_t = x.mean(axis=0, keepdims=True)
    nodes["a"] = a_t = x - mu_t
    nodes["σ²"] = var_t = (a_t * a_t).mean(axis=0, keepdims=True)
    nodes["e"] = e_t = var_t + eps
    nodes["c"] = c_t = e_t.sqrt()
    nodes["b"] = b_t = 1 / c_t
    nodes["x̂"] = xhat_t = a_t * b_t
    nodes["y"] = y_t = nodes["γ"] * xhat_t + nodes["β"]
    nodes["ℓ"] = ((y_t - T) ** 2).sum() / 2
    for name in ("μ", "a", "σ²", "e", "c", "b", "x̂", "y"):
        nodes[name].retain_grad()
    return nodes


g = batch_norm_graph(X, gamma_, beta_, T)
g["ℓ"].backward()
np.testing.assert_allclose(g["y"].data, y, rtol=1e-12)  # the same forward pass

TOL = dict(rtol=1e-10, atol=1e-12)
np.testing.assert_allclose(g["y"].grad, dl_dy, **TOL)
np.testing.assert_allclose(g["β"].grad, dl_dbeta, **TOL)
np.testing.assert_allclose(g["γ"].grad, dl_dgamma, **TOL)
np.testing.assert_allclose(g["x̂"].grad, dl_dxhat, **TOL)
np.testing.assert_allclose(g["b"].grad[0], dl_db.sum(axis=0), **TOL)
np.testing.assert_allclose(g["c"].grad[0], dl_dc.sum(axis=0), **TOL)
np.testing.assert_allclose(g["e"].grad[0], dl_de.sum(axis=0), **TOL)
np.testing.assert_allclose(g["σ²"].grad[0], dl_dvar, **TOL)
np.testing.assert_allclose(g["μ"].grad[0], dl_dmu, **TOL)
np.testing.assert_allclose(g["x"].grad, dl_dx, **TOL)
print("largest |∂ℓ/∂x (hand) − x.grad (engine)| =", np.abs(dl_dx - g["x"].grad).max())

# %% [markdown]
# One difference in bookkeeping: the lecture's `∂ℓ/∂a^(j)` is the *direct* path from `a`
# to `x̂` only, and the lecture adds the path through `σ²` later, in `∂ℓ/∂x`. The engine's
# `a.grad` is the whole gradient of `a`, both paths summed where they converge:
# `∂ℓ/∂a^(j) + (2 a^(j)/m) ∂ℓ/∂σ²`. Likewise the engine's `μ.grad` contains the `σ²` path
# (`σ²` is computed from `a`, which depends on `μ`), which is the lecture's second term of
# `∂ℓ/∂μ`; it vanishes because the deviations from the mean sum to zero.

# %%
np.testing.assert_allclose(g["a"].grad, dl_da + 2 * a / m * dl_dvar, **TOL)
assert not np.allclose(g["a"].grad, dl_da)                  # the σ² path is not negligible
assert np.all(np.abs(dvar_dmu) < 1e-12 * np.abs(X).max())  # Σ_j (x^(j) − μ) = 0
# the slides' other copy of ∂ℓ/∂μ, without the minus sign, would be wrong
assert not np.allclose(g["μ"].grad[0], +dl_dxhat.sum(axis=0) / np.sqrt(var + eps))

# %% [markdown]
# ## The compact formula
#
# Substituting the steps into one another gives the usual one-line backward of batch norm,
# with `σ̃ = √(σ² + ε)`:
# `∂ℓ/∂x = γ/(m σ̃) · (m ∂ℓ/∂y − Σ ∂ℓ/∂y − x̂ Σ(∂ℓ/∂y · x̂))`.
# It also shows that the gradient sums to zero over the batch (adding a constant to a unit's
# inputs changes nothing after normalisation, so it cannot change the loss).

# %%
compact = gamma_ / (m * np.sqrt(var + eps)) * (m * dl_dy - dl_dy.sum(axis=0)
                                               - xhat * (dl_dy * xhat).sum(axis=0))
np.testing.assert_allclose(compact, dl_dx, **TOL)
np.testing.assert_allclose(compact, g["x"].grad, **TOL)
np.testing.assert_allclose(dl_dx.sum(axis=0), 0.0, atol=1e-12)
print("Σ_j ∂ℓ/∂x^(j) per unit:", dl_dx.sum(axis=0))

# %% [markdown]
# ## `nn.BatchNorm1d` and finite differences
#
# The library's layer, in training mode (batch statistics, biased variance, `ε = 1e-5`),
# with `γ` and `β` set to ours, must give the same output and gradients. Finite differences
# of the loss, an estimate that does not use any derivative at all, agree to about 1e-7.

# %%
bn = nn.BatchNorm1d(C, eps=eps)
bn.weight.data, bn.bias.data = gamma_.copy(), beta_.copy()
bn.train()
x_in = Tensor(X, requires_grad=True)
out = bn(x_in)
(((out - T) ** 2).sum() / 2).backward()
np.testing.assert_allclose(out.data, y, **TOL)
np.testing.assert_allclose(x_in.grad, dl_dx, **TOL)
np.testing.assert_allclose(bn.weight.grad, dl_dgamma, **TOL)
np.testing.assert_allclose(bn.bias.grad, dl_dbeta, **TOL)
# training mode also moved the running statistics towards the batch's (unbiased) ones
np.testing.assert_allclose(bn.running_mean.data, 0.1 * mu, **TOL)
np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * var * m / (m - 1), **TOL)


def loss_of(x, gamma, beta):
    return ((nn.BatchNorm1d(C, eps=eps, track_running_stats=False)(x) * gamma + beta - T) ** 2
            ).sum() / 2


numeric_x, numeric_gamma, numeric_beta = numerical_grad(loss_of, [X, gamma_, beta_])
np.testing.assert_allclose(numeric_x, dl_dx, rtol=1e-6, atol=1e-7)
np.testing.assert_allclose(numeric_gamma, dl_dgamma, rtol=1e-6, atol=1e-7)
np.testing.assert_allclose(numeric_beta, dl_dbeta, rtol=1e-6, atol=1e-7)
print("largest |finite differences − hand formula| for ∂ℓ/∂x:",
      np.abs(numeric_x - dl_dx).max())

# %% [markdown]
# ## The graph
#
# The computational graph of batch norm for a tiny batch of three examples of one unit,
# with the lecture's names on the nodes and, after the backward pass of the loss, each
# node's gradient (the loss's own nodes, below `y`, are left out).
# `x` reaches `x̂` along three paths: directly through `a`, through `μ`, and through `σ²`;
# the engine sums them, as the lecture's `∂ℓ/∂x` does.

# %%
tiny = batch_norm_graph(np.array([[1.0], [2.0], [4.0]]), np.array([1.5]), np.array([0.5]),
                        np.array([[0.0], [1.0], [1.0]]))
tiny["ℓ"].backward()
# the compact formula on the tiny batch, too
dy, xh = tiny["y"].grad, tiny["x̂"].data
sigma_tilde = np.sqrt(tiny["σ²"].data + eps)
np.testing.assert_allclose(
    tiny["x"].grad, 1.5 / (3 * sigma_tilde) * (3 * dy - dy.sum() - xh * (dy * xh).sum()), **TOL)
draw_dot(tiny["y"], names=tiny, rankdir="TB", number_format=".3g")
