# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Numeric, symbolic and automatic differentiation
#
# The lecture lists three ways for a computer to find derivatives:
#
# 1. **Numeric** differentiation, or *finite differences*: df/dx ≈ (f(x + Δx) − f(x))/Δx for a
#    small step Δx. Easy to implement, but "arbitrarily inaccurate/unstable".
# 2. **Symbolic** differentiation: algebra on symbols, e.g.
#    d/dx (2x + 3x² + x(6 − 2)) = 6(x + 1). Exact, but hard to implement, inefficient, and only
#    for static expressions: it cannot differentiate a program with a loop such as
#    `while abs(x) > 5: x = x / 2`.
# 3. **Automatic** differentiation: record the operations a program actually runs (a compute
#    graph, a gradient tape) and apply the chain rule to them, backwards.
#
# This notebook measures the two claims behind choosing the third: finite differences trade
# truncation error against round-off error, so no step size makes them accurate, while
# autodiff is exact up to round-off; and reverse mode gets *all* n partial derivatives for
# the price of one forward and one backward pass, where finite differences need n + 1 (or 2n)
# forward passes.

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np

from autograd_core import Tape, Tensor, Value, no_grad
from autograd_core.graph import backward_steps
from autograd_core.testing import numerical_grad

EPS = np.finfo(np.float64).eps  # 2.2e-16, the spacing of doubles near 1

# %% [markdown]
# ## 1. The lecture's two small examples
#
# The symbolic example at x = 2: the exact derivative is 6(x + 1) = 18. Autodiff returns it
# exactly; a forward difference with Δx = 10⁻³ is off by 3Δx (the expression is quadratic,
# so the truncation error is exactly f''Δx/2 = 3Δx, up to round-off).

# %%
def poly(x):
    return 2 * x + 3 * x ** 2 + x * (6 - 2)


x = Value(2.0)
poly(x).backward()
assert x.grad == 6 * (2.0 + 1) == 18.0

dx = 1e-3
forward_difference = (poly(2.0 + dx) - poly(2.0)) / dx
np.testing.assert_allclose(forward_difference - 18.0, 3 * dx, rtol=1e-6)
print(f"autodiff: {x.grad}, forward difference (Δx = {dx}): {forward_difference:.9f}")

# %% [markdown]
# And the loop that symbolic differentiation cannot handle. Autodiff differentiates the path
# the program took: from x = 40 the loop halves three times (40 → 20 → 10 → 5), so the
# result is x/8 and its derivative 1/8; from x = 3 it never runs, and the derivative is 1.

# %%
def halve_until_small(x):
    while abs(x.data) > 5:
        x = x / 2
    return x


for start, halvings in [(40.0, 3), (3.0, 0)]:
    x = Value(start)
    halve_until_small(x).backward()
    assert x.grad == 0.5 ** halvings
    print(f"x = {start}: d/dx = {x.grad}")

# %% [markdown]
# ## 2. Finite differences: the step size has no good value
#
# Take f(x) = x·eˣ, with the known derivative f'(x) = (1 + x)eˣ, and compare, for step sizes
# h from 1 down to 10⁻¹⁶,
#
# * the forward difference (f(x + h) − f(x))/h, with truncation error ≈ |f''| h/2 ∝ h;
# * the central difference (f(x + h) − f(x − h))/(2h), with truncation error ≈ |f'''| h²/6 ∝ h²
#   (this is what `autograd_core.testing.numerical_grad` computes);
#
# both with a round-off error ≈ ε|f|/h: f(x + h) and f(x) are each rounded to about ε|f|, and
# dividing their difference by h magnifies that. Balancing the two terms puts the best step
# near h ≈ √ε ≈ 1.5·10⁻⁸ for the forward difference and h ≈ ∛ε ≈ 6·10⁻⁶ for the central one.
# We average the relative error over 64 points x ∈ [0.5, 1.5] so that the round-off side of
# the curve is smooth enough to read.

# %%
def f(x):
    return x * np.exp(x)


def f_prime(x):
    return (1 + x) * np.exp(x)


points = np.linspace(0.5, 1.5, 64)
exact = f_prime(points)
steps = np.logspace(-16, 0, 161)  # 10 per decade


def mean_relative_error(approximation):
    return np.mean(np.abs(approximation - exact) / np.abs(exact))


forward_error = np.array([mean_relative_error((f(points + h) - f(points)) / h) for h in steps])
central_error = np.array([mean_relative_error((f(points + h) - f(points - h)) / (2 * h))
                          for h in steps])

# numerical_grad is the central difference above (checked at one point and two steps)
for h in (1e-3, 1e-6):
    (g,) = numerical_grad(lambda x: x * x.exp(), [1.0], eps=h)
    np.testing.assert_allclose(g, (f(1.0 + h) - f(1.0 - h)) / (2 * h), rtol=1e-12)

# Automatic differentiation of the same function, at all 64 points at once
xt = Tensor(points, requires_grad=True)
(xt * xt.exp()).sum().backward()
autodiff_error = np.abs(xt.grad - exact) / np.abs(exact)

# %% [markdown]
# The checks: each curve is a V on the log-log plot, with the predicted slopes on both arms
# (+1 and +2 where truncation dominates, −1 where round-off does), its minimum within a
# decade of √ε and ∛ε, and a best error far above autodiff's, which is a few units of
# round-off (ε ≈ 2·10⁻¹⁶) at every point.

# %%
def slope(error, low, high):
    """The slope of log(error) against log(h) for h in [low, high] (least squares)."""
    keep = (steps >= low) & (steps <= high)
    return np.polyfit(np.log10(steps[keep]), np.log10(error[keep]), 1)[0]


best_forward, best_central = steps[forward_error.argmin()], steps[central_error.argmin()]
print(f"forward: best h = {best_forward:.1e} (√ε = {np.sqrt(EPS):.1e}), "
      f"error {forward_error.min():.1e}")
print(f"central: best h = {best_central:.1e} (∛ε = {np.cbrt(EPS):.1e}), "
      f"error {central_error.min():.1e}")
print(f"autodiff: largest relative error {autodiff_error.max():.1e}")

assert abs(np.log10(best_forward / np.sqrt(EPS))) < 1      # within a decade of √ε
assert abs(np.log10(best_central / np.cbrt(EPS))) < 1      # within a decade of ∛ε
np.testing.assert_allclose(slope(forward_error, 1e-5, 1e-2), 1.0, atol=0.05)   # ∝ h
np.testing.assert_allclose(slope(central_error, 1e-3, 1e-1), 2.0, atol=0.05)   # ∝ h²
np.testing.assert_allclose(slope(forward_error, 1e-15, 1e-10), -1.0, atol=0.15)  # ∝ ε/h
np.testing.assert_allclose(slope(central_error, 1e-15, 1e-8), -1.0, atol=0.15)   # ∝ ε/h
# the V: both ends are worse than the bottom by many orders of magnitude
for error in (forward_error, central_error):
    assert error[0] > 1e4 * error.min() and error[-1] > 1e4 * error.min()
assert forward_error.min() > 1e5 * autodiff_error.max()
assert central_error.min() > 1e3 * autodiff_error.max()
assert autodiff_error.max() <= 4 * EPS

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.loglog(steps, forward_error, label="forward difference")
ax.loglog(steps, central_error, label="central difference")
ax.axhline(max(autodiff_error.max(), EPS / 10), color="k", ls="--", lw=1,
           label="automatic differentiation (largest error)")
for h, name, color in [(np.sqrt(EPS), "√ε", "C0"), (np.cbrt(EPS), "∛ε", "C1")]:
    ax.axvline(h, color=color, ls=":", lw=1)
    ax.text(h * 1.3, 1e-15, name, color=color)
ax.loglog(steps, steps * 0.3, color="0.7", lw=0.8)               # guides: ∝ h, ∝ h², ∝ ε/h
ax.loglog(steps, steps ** 2 * 0.1, color="0.7", lw=0.8)
ax.loglog(steps, EPS / steps, color="0.7", lw=0.8)
ax.text(1e-2, 2e-4, "∝ h", color="0.5")
ax.text(1e-3, 1e-8, "∝ h²", color="0.5")
ax.text(3e-14, 3e-2, "∝ ε/h", color="0.5")
ax.set_ylim(1e-17, 10)
ax.set_xlabel("step size h")
ax.set_ylabel("mean relative error of df/dx")
ax.set_title("f(x) = x·exp(x): finite differences vs autodiff")
ax.legend(loc="lower left", fontsize=8)
fig.tight_layout()
plt.close(fig)  # shown once, as the cell's value, whatever the backend
fig

# %% [markdown]
# ## 3. The cost: n partial derivatives
#
# Finite differences need one extra forward pass per parameter: n + 1 passes for forward
# differences, 2n (plus one for the value, as `numerical_grad` does) for central ones.
# Reverse mode needs one forward pass, which records the graph, and one backward pass, which
# visits each recorded operation once and evaluates one vector-Jacobian product per input:
# a small constant times the forward pass, *whatever n is*.
#
# We make the lecture's toy model deeper, so that it has n parameters:
# h₀ = x, h_k = tanh(β_k + ω_k h_{k−1}) for k = 1 … n/2, ℓ = (h_{n/2} − y)². We count work in
# *operation evaluations*, counted by the library itself: a `Tape` records every operation
# run while it is open (the forward passes of `numerical_grad` included), and
# `backward_steps` lists the vector-Jacobian products a backward pass evaluates.

# %%
def deep_toy(*params, x=0.7, y=0.3):
    h = x
    for k in range(0, len(params), 2):
        h = (params[k] + params[k + 1] * h).tanh()
    return (h - y) ** 2


def forward_differences(f, values, h=1e-7):
    """(f(p + h·e_i) − f(p))/h for every i: n + 1 forward passes."""
    base = f(*[Value(v) for v in values]).data
    grads = []
    for i in range(len(values)):
        moved = list(values)
        moved[i] += h
        grads.append((f(*[Value(v) for v in moved]).data - base) / h)
    return grads


sizes = [4, 8, 16, 32, 64, 128, 256]
rng = np.random.default_rng(0)
rows = []
for n in sizes:
    values = rng.normal(size=n).tolist()

    # reverse mode: one forward pass (counted by a tape) and one backward pass
    params = [Value(v) for v in values]
    with Tape() as tape:
        loss = deep_toy(*params)
    ops_per_pass = len(tape)
    vjps = sum(len(shares) for _, _, shares in backward_steps(loss))  # the backward's work
    loss.backward()
    reverse = ops_per_pass + vjps

    # finite differences, counted the same way
    with Tape() as tape:
        central = numerical_grad(deep_toy, values)
    central_ops = len(tape)
    with Tape() as tape:
        forward = forward_differences(deep_toy, values)
    forward_ops = len(tape)

    # all three give the same gradient (to the accuracy finite differences allow)
    autodiff = [p.grad for p in params]
    np.testing.assert_allclose(central, autodiff, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(forward, autodiff, rtol=1e-4, atol=1e-6)

    # wall-clock time, for the picture only (best of 3; finite differences need no graph)
    reverse_time = fd_time = np.inf
    for _ in range(3):
        start = time.perf_counter()
        params = [Value(v) for v in values]
        deep_toy(*params).backward()
        reverse_time = min(reverse_time, time.perf_counter() - start)
        start = time.perf_counter()
        with no_grad():
            forward_differences(deep_toy, values)
        fd_time = min(fd_time, time.perf_counter() - start)

    rows.append({"n": n, "ops": ops_per_pass, "vjps": vjps, "reverse": reverse,
                 "forward": forward_ops, "central": central_ops,
                 "reverse_time": reverse_time, "fd_time": fd_time})

print(f"{'n':>4} {'ops/pass':>8} {'reverse':>8} {'fwd diff':>9} {'ctr diff':>9} {'fwd/rev':>8}")
for r in rows:
    print(f"{r['n']:4d} {r['ops']:8d} {r['reverse']:8d} {r['forward']:9d} {r['central']:9d} "
          f"{r['forward'] / r['reverse']:8.1f}")

# %% [markdown]
# The checks: finite differences cost exactly (n + 1) and (2n + 1) forward passes; reverse
# mode costs less than three forward passes at every n (one forward, and a backward with at
# most two products per operation); so the ratio grows in proportion to n.

# %%
ns = np.array(sizes)
ratio = np.array([r["forward"] / r["reverse"] for r in rows])
for r in rows:
    assert r["forward"] == (r["n"] + 1) * r["ops"]
    assert r["central"] == (2 * r["n"] + 1) * r["ops"]
    assert r["ops"] < r["reverse"] < 3 * r["ops"]
assert np.all(np.diff(ratio) > 0)                       # the ratio grows with n...
per_pass = ratio / (ns + 1)  # ratio per forward pass needed by finite differences
assert np.all((per_pass > 1 / 3) & (per_pass < 1 / 2))  # ...in proportion to n: ≈ 0.38 (n + 1)
np.testing.assert_allclose(per_pass[ns >= 16], per_pass[-1], rtol=0.05)
print("forward-difference cost / reverse-mode cost:", np.round(ratio, 1))

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.loglog(ns, [r["central"] for r in rows], "o-", label="central differences (2n + 1 passes)")
left.loglog(ns, [r["forward"] for r in rows], "o-", label="forward differences (n + 1 passes)")
left.loglog(ns, [r["reverse"] for r in rows], "o-", label="reverse mode (1 forward + 1 backward)")
left.loglog(ns, [r["ops"] for r in rows], "k--", lw=1, label="one forward pass")
left.set_xlabel("number of parameters n")
left.set_ylabel("operation evaluations")
left.set_title("work for the full gradient")
left.legend(fontsize=8)

right.loglog(ns, ratio, "o-", label="operation count")
right.loglog(ns, [r["fd_time"] / r["reverse_time"] for r in rows], "s--",
             label="wall-clock time (this machine)")
right.loglog(ns, ns * ratio[-1] / ns[-1], color="0.7", lw=1, label="∝ n")
right.set_xlabel("number of parameters n")
right.set_ylabel("forward differences / reverse mode")
right.set_title("how much cheaper reverse mode is")
right.legend(fontsize=8)
fig.tight_layout()
plt.close(fig)  # shown once, as the cell's value, whatever the backend
fig
