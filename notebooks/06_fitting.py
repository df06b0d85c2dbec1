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
# # Fitting: gradient descent, a non-convex loss, and the optimisers
#
# The lecture on fitting (Understanding Deep Learning, ch. 6) trains a model by repeating two
# steps: compute the gradient of the loss $\partial L/\partial\phi$, then move the parameters
# downhill, $\phi \leftarrow \phi - \alpha\,\partial L/\partial\phi$. It works through
#
# 1. **linear regression** $f[x,\phi] = \phi_0 + \phi_1 x$ with the least-squares loss, whose
#    gradient it derives by hand; the loss is convex, so gradient descent finds the one minimum;
# 2. the **Gabor model** $f[x,\phi] = \sin(\phi_0 + 0.06\,\phi_1 x)\,
#    \exp\!\big(-(\phi_0 + 0.06\,\phi_1 x)^2/32\big)$, whose loss is *not* convex: it has
#    several local minima, and where gradient descent ends depends on where it starts;
# 3. **stochastic gradient descent**, **momentum**, **Nesterov** momentum and **Adam**;
# 4. **learning-rate schedules**: a large rate early to explore, a small one late to settle.
#
# Here the gradients come from the engine (`Tensor` parameters, `.backward()`), the optimisers
# and schedules from `nn.optim`, and every claim is checked: the engine's gradient against the
# lecture's formula, the fit against least squares, the minima against a grid search, the
# optimisers against the lecture's update rules.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd_core import Tensor, manual_seed, no_grad
from autograd_core.functional import grad, hessian
from nn.data import DataLoader, TensorDataset
from nn.optim.lr_scheduler import CosineAnnealingLR, StepLR

manual_seed(0)
rng = np.random.default_rng(1)  # the linear-regression data; loaders get their own seeds

# %% [markdown]
# ## 1. Linear regression: the lecture's gradient, and the engine's
#
# With $I$ pairs $\{x_i, y_i\}$ the loss is
# $L[\phi] = \sum_i \ell_i = \sum_i (\phi_0 + \phi_1 x_i - y_i)^2$ and the lecture derives
#
# $$\frac{\partial \ell_i}{\partial \phi} =
# \begin{bmatrix} 2(\phi_0 + \phi_1 x_i - y_i) \\ 2x_i(\phi_0 + \phi_1 x_i - y_i)\end{bmatrix},
# \qquad \frac{\partial L}{\partial \phi} = \sum_i \frac{\partial \ell_i}{\partial \phi}.$$
#
# We make a training set of $I = 12$ pairs (as in fig. 6.1), code that formula directly, and
# compare it with what `backward()` computes from the loss written as a forward pass.

# %%
x_lin = np.sort(rng.uniform(0.0, 2.0, 12))
y_lin = 0.5 + 0.6 * x_lin + rng.normal(0.0, 0.1, 12)


def lecture_gradient(phi):
    """∂L/∂φ as the lecture writes it: the sum over examples of 2·residual·[1, x_i]."""
    residual = phi[0] + phi[1] * x_lin - y_lin
    return np.array([np.sum(2 * residual), np.sum(2 * x_lin * residual)])


def linear_loss(phi, x, y):
    """L[φ] = Σ (φ0 + φ1·x_i − y_i)², on engine tensors."""
    return ((phi[0] + phi[1] * x - y) ** 2).sum()


X_lin, Y_lin = Tensor(x_lin), Tensor(y_lin)
for phi_values in ([0.0, 0.0], [1.5, -0.8], [-2.0, 3.0], [0.4, 0.7]):
    phi = Tensor(phi_values, requires_grad=True)
    linear_loss(phi, X_lin, Y_lin).backward()
    np.testing.assert_allclose(phi.grad, lecture_gradient(np.array(phi_values)), rtol=1e-12)
    print(f"φ = {phi_values}: engine {phi.grad.round(6)}, lecture's formula "
          f"{lecture_gradient(np.array(phi_values)).round(6)}")

# %% [markdown]
# Now gradient descent itself, written as the lecture writes it (step 1: the gradient; step 2:
# $\phi \leftarrow \phi - \alpha\,\partial L/\partial\phi$). The lecture picks each step's
# size by a line search; we use a fixed $\alpha$. The loss is a quadratic with Hessian
# $H = 2\sum_i [1, x_i]^\top[1, x_i]$, so any $\alpha < 2/\lambda_{\max}(H)$ makes the loss fall
# at every step, and the iterates converge to the least-squares solution, which numpy gives
# independently (`np.polyfit`).

# %%
design = np.stack([np.ones_like(x_lin), x_lin], axis=1)
curvatures = np.linalg.eigvalsh(2 * design.T @ design)
alpha = 1.0 / curvatures.max()  # half the largest stable step
print(f"curvatures of L: {curvatures.round(2)}, α = {alpha:.4f}")

phi = Tensor([-0.5, 2.0], requires_grad=True)  # point 0: a line that fits badly
path_lin, losses_lin = [phi.data.copy()], []
for step in range(400):
    phi.grad = None
    loss = linear_loss(phi, X_lin, Y_lin)
    loss.backward()                                  # step 1: ∂L/∂φ
    losses_lin.append(loss.item())
    phi.data = phi.data - alpha * phi.grad           # step 2: φ ← φ − α ∂L/∂φ
    path_lin.append(phi.data.copy())
path_lin = np.array(path_lin)

slope, intercept = np.polyfit(x_lin, y_lin, 1)
least_squares = np.array([intercept, slope])
assert np.all(np.diff(losses_lin) <= 1e-15), "with α < 2/λmax every step lowers the loss"
np.testing.assert_allclose(phi.data, least_squares, atol=1e-9)
np.testing.assert_allclose(lecture_gradient(phi.data), 0.0, atol=1e-8)
print(f"gradient descent: φ = {phi.data.round(6)}; least squares (np.polyfit): "
      f"{least_squares.round(6)}; loss {losses_lin[0]:.3f} → {losses_lin[-1]:.5f}")

# %% [markdown]
# Fig. 6.1 of the lecture: the loss as a heat map with the path of gradient descent, and the
# model at the first iterations (light) to the last (dark).

# %%
grid0, grid1 = np.meshgrid(np.linspace(-1.0, 2.0, 200), np.linspace(-1.0, 2.5, 200))
residuals = grid0[..., None] + grid1[..., None] * x_lin - y_lin
loss_grid_lin = (residuals ** 2).sum(axis=-1)

fig, (ax_data, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.2))
shown = [0, 1, 2, 4, 10, 400]
xs = np.linspace(0, 2, 50)
for k, it in enumerate(shown):
    shade = plt.cm.Blues(0.3 + 0.7 * k / (len(shown) - 1))
    ax_data.plot(xs, path_lin[it, 0] + path_lin[it, 1] * xs, color=shade, label=f"iteration {it}")
ax_data.scatter(x_lin, y_lin, color="C1", zorder=3, label="training data")
ax_data.set(xlabel="input x", ylabel="output y", title="the model improves at each iteration")
ax_data.legend(fontsize=8)
mesh = ax_loss.contourf(grid0, grid1, np.log10(loss_grid_lin), levels=30, cmap="viridis")
fig.colorbar(mesh, ax=ax_loss, label="log10 L[φ]")
ax_loss.plot(path_lin[:, 0], path_lin[:, 1], "w.-", markersize=3, linewidth=1)
ax_loss.plot(*least_squares, "r*", markersize=12, label="least squares")
ax_loss.set(xlabel="intercept φ0", ylabel="slope φ1", title="gradient descent on L[φ]")
ax_loss.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## 2. The Gabor model: a loss with several minima
#
# As in fig. 6.3, the training set has 28 pairs with $x_i$ uniform in $[-15, 15]$, made by the
# Gabor model with $\phi = [0.0, 16.6]^\top$ plus normally distributed noise (we take
# $\sigma = 0.15$). The loss is again $L[\phi] = \sum_i (f[x_i,\phi] - y_i)^2$.
#
# We evaluate it on a grid over $(\phi_0, \phi_1) \in [-10, 10] \times [2.5, 22.5]$ with the
# engine (a `Tensor` of shape grid × 28, no gradient needed) and take the grid points lower than
# their eight neighbours as candidates. A grid only locates a minimum to its spacing (and a
# long flat valley can give several candidates), so each candidate is then refined by Newton's
# method, $\phi \leftarrow \phi - H^{-1}\nabla L$, with the gradient and the Hessian from
# `autograd_core.functional`; a point where $\nabla L = 0$ and $H$ is positive definite is a
# genuine local minimum.

# %%
PHI_TRUE = np.array([0.0, 16.6])
NOISE = 0.15


def gabor(phi0, phi1, x):
    """f[x, φ] = sin(φ0 + 0.06·φ1·x) · exp(−(φ0 + 0.06·φ1·x)² / 32)."""
    z = phi0 + 0.06 * phi1 * x
    return z.sin() * (-(z * z) / 32.0).exp()


data_rng = np.random.default_rng(0)
x_gab = data_rng.uniform(-15.0, 15.0, 28)
with no_grad():
    y_gab = gabor(Tensor(PHI_TRUE[0]), Tensor(PHI_TRUE[1]), Tensor(x_gab)).data
y_gab = y_gab + data_rng.normal(0.0, NOISE, 28)
X_gab, Y_gab = Tensor(x_gab), Tensor(y_gab)


def gabor_loss(phi, x=X_gab, y=Y_gab):
    """L[φ] = Σ_i (f[x_i, φ] − y_i)² over the given examples (all 28 by default)."""
    return ((gabor(phi[0], phi[1], x) - y) ** 2).sum()


P0, P1 = np.meshgrid(np.linspace(-10, 10, 201), np.linspace(2.5, 22.5, 201))
with no_grad():
    fits = gabor(Tensor(P0[..., None]), Tensor(P1[..., None]), X_gab)   # (201, 201, 28)
    loss_grid = ((fits - Y_gab) ** 2).sum(axis=-1).data

centre = loss_grid[1:-1, 1:-1]
is_minimum = np.ones_like(centre, dtype=bool)
for di in (-1, 0, 1):
    for dj in (-1, 0, 1):
        if (di, dj) != (0, 0):
            is_minimum &= centre < loss_grid[1 + di:200 + di, 1 + dj:200 + dj]
rows, cols = np.nonzero(is_minimum)
candidates = np.stack([P0[rows + 1, cols + 1], P1[rows + 1, cols + 1]], axis=1)

gradient_of_loss, hessian_of_loss = grad(gabor_loss), hessian(gabor_loss)
minima = []  # (loss, φ) of each distinct minimum
for phi in candidates:
    for _ in range(20):
        phi = phi - np.linalg.solve(hessian_of_loss(phi), gradient_of_loss(phi))
    stationary = np.abs(gradient_of_loss(phi)).max() < 1e-9
    convex_there = np.linalg.eigvalsh(hessian_of_loss(phi)).min() > 0
    new = all(np.linalg.norm(phi - other) > 1e-3 for _, other in minima)
    if stationary and convex_there and new:
        minima.append((gabor_loss(Tensor(phi)).item(), phi))
minima.sort(key=lambda m: m[0])
minimum_losses = np.array([value for value, _ in minima])
minimum_points = np.array([phi for _, phi in minima])
print(f"{len(candidates)} grid candidates → {len(minima)} distinct local minima:")
for value, phi in minima:
    print(f"  φ = ({phi[0]:6.2f}, {phi[1]:6.2f})   L = {value:.3f}")
global_loss = minimum_losses[0]
assert len(minima) >= 4
assert abs(global_loss - loss_grid.min()) < 0.01      # Newton only polished the grid's best
assert np.linalg.norm(minimum_points[0] - PHI_TRUE) < 0.5   # near the parameters of the data
# at the global minimum the residuals are the noise: L ≈ (I − 2)σ², not 0
assert 0.5 * 26 * NOISE ** 2 < global_loss < 2 * 26 * NOISE ** 2
print(f"global minimum L = {global_loss:.3f} (the lecture's data: 0.64; "
      f"(I − 2)σ² = {26 * NOISE ** 2:.3f})")

# %% [markdown]
# Gradient descent from four starting points, each run to convergence (full batch, fixed
# $\alpha$, `nn.optim.SGD` without momentum). Each run stops at one of the minima found above,
# but they are **different** minima, with **different** losses: only the run that starts in
# the right valley finds the global one.

# %%
def descend(start, lr=0.15, steps=1500):
    phi = Tensor(np.array(start, dtype=float), requires_grad=True)
    optimizer = nn.optim.SGD([phi], lr=lr)   # plain gradient descent: momentum=0
    path = [phi.data.copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        gabor_loss(phi).backward()
        optimizer.step()
        path.append(phi.data.copy())
    return np.array(path)


starts = [(0.5, 20.0), (-2.0, 8.0), (2.0, 10.0), (4.0, 15.0)]
gd_paths = [descend(s) for s in starts]
ends = np.array([p[-1] for p in gd_paths])
end_losses = np.array([gabor_loss(Tensor(end)).item() for end in ends])
reached = []  # which of the minima each run reached
for start, end, value in zip(starts, ends, end_losses):
    distances = np.linalg.norm(minimum_points - end, axis=1)
    reached.append(int(distances.argmin()))
    print(f"start {start} → φ = {end.round(3)}, L = {value:.4f}: minimum #{distances.argmin()}"
          f" (|∇L| = {np.abs(gradient_of_loss(end)).max():.1e})")
    assert distances.min() < 1e-4 and abs(value - minimum_losses[distances.argmin()]) < 1e-8

# four different minima, four different losses, and only one run finds the global minimum
assert len(set(reached)) == 4
assert np.diff(np.sort(end_losses)).min() > 0.05
assert reached.count(0) == 1

# %% [markdown]
# Fig. 6.4: the loss surface with its local minima (cyan) and the global minimum (grey), the
# four runs of gradient descent, and the model at each place they stopped.

# %%
def draw_loss_surface(ax):
    ax.contourf(P0, P1, np.log10(loss_grid), levels=30, cmap="viridis")
    ax.contour(P0, P1, np.log10(loss_grid), levels=15, colors="k", linewidths=0.3)
    ax.plot(*minimum_points[1:].T, "o", color="cyan", markersize=6, markeredgecolor="k")
    ax.plot(*minimum_points[0], "o", color="0.6", markersize=9, markeredgecolor="k")
    ax.set(xlabel="offset φ0", ylabel="frequency φ1", xlim=(-10, 10), ylim=(2.5, 22.5))


fig = plt.figure(figsize=(12, 5.2))
ax_surface = fig.add_subplot(1, 2, 1)
draw_loss_surface(ax_surface)
for k, path in enumerate(gd_paths):
    ax_surface.plot(path[:, 0], path[:, 1], "-", color=f"C{k + 1}", linewidth=2)
    ax_surface.plot(*path[0], "s", color=f"C{k + 1}", markeredgecolor="w")
ax_surface.set_title("log L[φ]: gradient descent from four starts")
xs = np.linspace(-15, 15, 300)
for k, (end, value) in enumerate(zip(ends, end_losses)):
    ax = fig.add_subplot(4, 2, 2 * k + 2)
    with no_grad():
        ax.plot(xs, gabor(Tensor(end[0]), Tensor(end[1]), Tensor(xs)).data, color=f"C{k + 1}")
    ax.plot(x_gab, y_gab, ".", color="k", markersize=4)
    ax.text(0.01, 0.8, f"φ = ({end[0]:.2f}, {end[1]:.2f}), L = {value:.2f}",
            transform=ax.transAxes, fontsize=8)
    ax.set_ylim(-1.3, 1.3)
    if k < 3:
        ax.set_xticklabels([])
fig.tight_layout()

# %% [markdown]
# ## 3. SGD, momentum, Nesterov and Adam
#
# **Stochastic gradient descent** takes each step on a random *batch* $\mathcal{B}_t$, drawn
# without replacement; one pass over the data is an epoch:
# $\phi_{t+1} \leftarrow \phi_t - \alpha \sum_{i\in\mathcal{B}_t}
# \partial\ell_i[\phi_t]/\partial\phi$.
#
# **Momentum** moves along a running average of the gradients,
# $m_{t+1} \leftarrow \beta m_t + (1-\beta)\sum_{i\in\mathcal{B}_t}\partial\ell_i/\partial\phi$,
# $\phi_{t+1} \leftarrow \phi_t - \alpha\, m_{t+1}$; **Nesterov** momentum measures the gradient
# at the point momentum is about to carry us to, $\phi_t - \alpha m_t$. **Adam** normalises
# each coordinate by a running average of the squared gradient,
# $v_{t+1} \leftarrow \gamma v_t + (1-\gamma) g^2$, corrects both averages for starting at 0
# ($\tilde m = m/(1-\beta^{t+1})$, $\tilde v = v/(1-\gamma^{t+1})$) and steps
# $\phi \leftarrow \phi - \alpha\,\tilde m/(\sqrt{\tilde v} + \epsilon)$.
#
# `nn.optim` follows PyTorch, whose momentum leaves out the factor $(1-\beta)$ (it is
# `dampening`, 0 by default): the lecture's rule is `SGD(momentum=β, dampening=β)`, except that
# PyTorch starts the average at the first gradient rather than at $(1-\beta)$ times it.
# PyTorch's Nesterov (`nesterov=True`, undamped) is the look-ahead rule "move where momentum
# alone would carry you, measure the gradient there" written so that the parameters it keeps
# *are* the look-ahead point. (The lecture's formula looks ahead by the whole $\alpha m_t$
# rather than the $\alpha\beta m_t$ momentum alone would move: a small difference in where
# the gradient is measured.) Before using the optimisers we check them against these rules,
# coded by hand in numpy on the linear regression, whose gradient we have in closed form.

# %%
def hand_coded(update, steps=5):
    """A rule coded from the lecture, iterated from φ = (−0.5, 2); it gets the closed-form
    gradient as a function, so that it can evaluate it wherever the rule says."""
    phi, state = np.array([-0.5, 2.0]), {}
    for t in range(steps):
        phi = update(phi, lecture_gradient, state, t)
    return phi, state


def with_optimizer(optimizer_class, steps=5, **hyper):
    phi = Tensor([-0.5, 2.0], requires_grad=True)
    optimizer = optimizer_class([phi], **hyper)
    for _ in range(steps):
        optimizer.zero_grad()
        linear_loss(phi, X_lin, Y_lin).backward()
        optimizer.step()
    return phi.data


a, beta, gamma, eps = 0.01, 0.9, 0.999, 1e-8


def lecture_momentum(phi, gradient, state, t):
    # m ← βm + (1 − β)g, started (as PyTorch does) at the first gradient; φ ← φ − αm
    g = gradient(phi)
    state["m"] = g if t == 0 else beta * state["m"] + (1 - beta) * g
    return phi - a * state["m"]


def lookahead_nesterov(phi, gradient, state, t):
    # first where momentum alone would carry φ, then the gradient measured there:
    # b ← βb + g(φ − αβb); φ ← φ − αb
    b = state.get("b", 0.0)
    state["b"] = beta * b + gradient(phi - a * beta * b)
    return phi - a * state["b"]


def lecture_adam(phi, gradient, state, t):
    g = gradient(phi)
    state["m"] = beta * state.get("m", 0) + (1 - beta) * g
    state["v"] = gamma * state.get("v", 0) + (1 - gamma) * g ** 2
    m_tilde, v_tilde = state["m"] / (1 - beta ** (t + 1)), state["v"] / (1 - gamma ** (t + 1))
    return phi - a * m_tilde / (np.sqrt(v_tilde) + eps)


np.testing.assert_allclose(with_optimizer(nn.optim.SGD, lr=a, momentum=beta, dampening=beta),
                           hand_coded(lecture_momentum)[0], rtol=1e-12)
# PyTorch's Nesterov keeps the look-ahead point φ − αβb as its parameters
phi_nesterov, state = hand_coded(lookahead_nesterov)
np.testing.assert_allclose(with_optimizer(nn.optim.SGD, lr=a, momentum=beta, nesterov=True),
                           phi_nesterov - a * beta * state["b"], rtol=1e-12)
np.testing.assert_allclose(with_optimizer(nn.optim.Adam, lr=a, betas=(beta, gamma), eps=eps),
                           hand_coded(lecture_adam)[0], rtol=1e-12)
# Adam's first step moves every coordinate by about α, whatever the size of its gradient
first = with_optimizer(nn.optim.Adam, steps=1, lr=a) - np.array([-0.5, 2.0])
np.testing.assert_allclose(np.abs(first), a, rtol=1e-6)
print(f"gradient at the start: {lecture_gradient(np.array([-0.5, 2.0])).round(3)}; "
      f"Adam's first step: {first}")

# %% [markdown]
# Now the four optimisers on the Gabor loss, all from the same start $\phi = (-1.5, 21)$ in the
# global minimum's valley, with batches of 7 examples (4 steps per epoch) for 50 epochs, the
# same batches for all four. The valley is long and shallow along $\phi_1$ and steep across it
# (the Hessian's eigenvalues at the minimum differ by a factor of about 25, checked below):
# plain SGD crawls along it, momentum builds up speed along it, and Adam's normalisation gives
# the shallow direction a step as large as the steep one's. (Adam's rate is on its own scale:
# it is roughly the length of a step in each coordinate.)
#
# We repeat with five different shuffles of the batches and check what holds for every one:
# momentum, Nesterov and Adam reach the global minimum, and plain SGD is still far from it.

# %%
curvatures = np.linalg.eigvalsh(hessian_of_loss(minimum_points[0]))
print(f"Hessian eigenvalues at the global minimum: {curvatures.round(3)}")
assert curvatures.max() > 10 * curvatures.min()   # a long, narrow valley

START, EPOCHS, BATCH = (-1.5, 21.0), 50, 7
OPTIMIZERS = {
    "SGD": lambda params: nn.optim.SGD(params, lr=0.08),
    "momentum": lambda params: nn.optim.SGD(params, lr=0.08, momentum=0.9),
    "Nesterov": lambda params: nn.optim.SGD(params, lr=0.08, momentum=0.9, nesterov=True),
    "Adam": lambda params: nn.optim.Adam(params, lr=0.2),
}


def train(make_optimizer, seed, start=START, epochs=EPOCHS, make_scheduler=None):
    """Mini-batch training on the Gabor data; returns the path, the full loss per step and
    the learning rate of every step."""
    phi = Tensor(np.array(start, dtype=float), requires_grad=True)
    optimizer = make_optimizer([phi])
    scheduler = make_scheduler(optimizer) if make_scheduler else None
    loader = DataLoader(TensorDataset(x_gab, y_gab), batch_size=BATCH, shuffle=True, seed=seed)
    path, losses, rates = [phi.data.copy()], [gabor_loss(phi).item()], []
    for epoch in range(epochs):
        for x_batch, y_batch in loader:
            optimizer.zero_grad()
            gabor_loss(phi, x_batch, y_batch).backward()   # Σ over the batch, as the lecture
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            path.append(phi.data.copy())
            with no_grad():
                losses.append(gabor_loss(phi).item())
        if scheduler:
            scheduler.step()
    return np.array(path), np.array(losses), np.array(rates)


runs = {name: [train(make, seed) for seed in range(5)] for name, make in OPTIMIZERS.items()}
final = {name: np.array([losses[-1] for _, losses, _ in rs]) for name, rs in runs.items()}
for name, values in final.items():
    print(f"{name:9s} final L − L_min over 5 shuffles: {(values - global_loss).round(4)}")

for name in ("momentum", "Nesterov", "Adam"):
    assert np.all(final[name] - global_loss < 0.02), name
    assert np.linalg.norm(runs[name][0][0][-1] - minimum_points[0]) < 0.3, name
assert np.all(final["SGD"] - global_loss > 0.2)   # for every shuffle, > 10× the others'

# %% [markdown]
# The trajectories of the first shuffle over the loss surface (a close-up of the global
# minimum's valley), and the full-data loss after every step.

# %%
fig, (ax_paths, ax_curves) = plt.subplots(1, 2, figsize=(12, 4.8))
draw_loss_surface(ax_paths)
for k, (name, rs) in enumerate(runs.items()):
    path = rs[0][0]
    plain = name == "SGD"   # drawn on top: it moves least
    ax_paths.plot(path[:, 0], path[:, 1], ".-", color=f"C{k}", markersize=2,
                  linewidth=2.5 if plain else 1, zorder=5 if plain else 2, label=name)
    ax_curves.semilogy(rs[0][1] - global_loss + 1e-6, color=f"C{k}", label=name)
ax_paths.plot(*START, "ws", markeredgecolor="k")
ax_paths.set(xlim=(-4, 3), ylim=(12, 22.5), title="batches of 7, 50 epochs")
ax_paths.legend(loc="lower right", fontsize=8)
ax_curves.set(xlabel="step", ylabel="L[φ] − L_min (all 28 examples)",
              title="loss above the global minimum")
ax_curves.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## 4. Learning-rate schedules
#
# The lecture: "the learning rate $\alpha$ starts at a high value and is decreased by a
# constant factor every $N$ epochs" — explore early, fine-tune late. With a constant rate,
# SGD keeps jumping around the minimum, because every batch pulls somewhere else; a
# decreasing rate lets it settle. We run SGD with momentum 0.9 and a large rate, 0.2, for 60
# epochs, three ways: constant, `StepLR(step_size=10, gamma=0.5)` (halve every 10 epochs) and
# `CosineAnnealingLR(T_max=60)`, and record the rate used at each step.

# %%
SCHEDULES = {
    "constant": None,
    "StepLR(10, 0.5)": lambda optimizer: StepLR(optimizer, step_size=10, gamma=0.5),
    "CosineAnnealingLR(60)": lambda optimizer: CosineAnnealingLR(optimizer, T_max=60),
}
BASE_LR, SCHED_EPOCHS = 0.2, 60


def momentum_sgd(params):
    return nn.optim.SGD(params, lr=BASE_LR, momentum=0.9)


scheduled = {name: [train(momentum_sgd, seed, epochs=SCHED_EPOCHS, make_scheduler=make)
                    for seed in range(6)] for name, make in SCHEDULES.items()}

# The rate at each step is the closed form of each schedule (4 steps per epoch).
epoch_of_step = np.arange(SCHED_EPOCHS * 4) // 4
expected = {
    "constant": np.full(len(epoch_of_step), BASE_LR),
    "StepLR(10, 0.5)": BASE_LR * 0.5 ** (epoch_of_step // 10),
    "CosineAnnealingLR(60)": BASE_LR * (1 + np.cos(np.pi * epoch_of_step / SCHED_EPOCHS)) / 2,
}
for name, rs in scheduled.items():
    np.testing.assert_allclose(rs[0][2], expected[name], rtol=1e-12, atol=1e-15)

# How far above the minimum each ends up: the mean excess loss over the last 10 epochs.
excess = {name: np.array([losses[-40:].mean() - global_loss for _, losses, _ in rs])
          for name, rs in scheduled.items()}
for name, values in excess.items():
    print(f"{name:22s} excess loss, last 10 epochs, 6 shuffles: {values.round(4)}"
          f"  mean {values.mean():.4f}")
assert excess["constant"].mean() > 3 * excess["StepLR(10, 0.5)"].mean()
assert excess["constant"].mean() > 3 * excess["CosineAnnealingLR(60)"].mean()
assert excess["StepLR(10, 0.5)"].max() < 0.02 and excess["CosineAnnealingLR(60)"].max() < 0.02

# %% [markdown]
# The rate per step for each schedule, and the loss above the minimum (mean over the six
# shuffles): with the constant rate it stays noisy; with either schedule it settles.

# %%
fig, (ax_lr, ax_excess) = plt.subplots(1, 2, figsize=(12, 4.2))
for k, (name, rs) in enumerate(scheduled.items()):
    ax_lr.plot(rs[0][2], color=f"C{k}", label=name)
    mean_losses = np.mean([losses for _, losses, _ in rs], axis=0)
    ax_excess.semilogy(mean_losses - global_loss + 1e-6, color=f"C{k}", label=name)
for epoch in range(10, SCHED_EPOCHS, 10):
    ax_lr.axvline(4 * epoch, color="0.85", linewidth=0.8, zorder=0)
ax_lr.set(xlabel="step (4 per epoch)", ylabel="learning rate", title="the schedules")
ax_lr.legend(fontsize=8)
ax_excess.set(xlabel="step", ylabel="L[φ] − L_min, mean of 6 shuffles",
              title="SGD with momentum 0.9, batches of 7")
ax_excess.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# **What we checked.** The engine's gradient of the least-squares loss equals the lecture's
# formula to 12 digits, and gradient descent lands on numpy's least-squares line. On the Gabor
# loss, gradient descent from four starts stops at four different genuine minima (zero
# gradient, positive-definite Hessian) with four different losses, only one of them global.
# `nn.optim`'s SGD with momentum, Nesterov and Adam follow the lecture's update rules exactly;
# on the Gabor valley plain SGD is far behind the other three after 50 epochs, for every
# shuffle tried. A step or cosine schedule follows its closed form step by step and lets
# mini-batch SGD settle closer to the minimum than a constant rate.
