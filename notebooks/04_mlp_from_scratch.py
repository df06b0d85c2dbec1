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
# # An MLP from scratch: micrograd's two moons, with scalars and with tensors
#
# micrograd's demo trains a small neural network built out of nothing but scalar `Value`s:
# every weight is one number that remembers how it was used, and every multiply and add of
# the forward pass is one node of the graph that `backward()` walks. The recipe is:
#
# - data: 100 points of scikit-learn's *two moons* (`noise=0.1`, `random_state=1337`),
#   labels turned from 0/1 into −1/+1;
# - model: `MLP(2, [16, 16], 1)`, two hidden layers of 16 ReLU neurons and one linear
#   output, weights uniform in [−1, 1] and biases 0 (337 parameters);
# - loss: the max-margin ("SVM") loss `mean(relu(1 − yᵢ·scoreᵢ))` plus an L2 penalty
#   `α·Σp²` with `α = 1e-4`;
# - optimiser: 100 steps of plain gradient descent on the whole batch, with the learning
#   rate falling linearly, `lr_k = 1.0 − 0.9·k/100`.
#
# We rebuild it with `nn.scalar.MLP` (micrograd's model on this library's `Value`) and check
# that it separates the moons perfectly; then train the *same* network, from the same
# starting weights, with numpy-backed `Tensor`s (`nn.MLP`) and check that the two engines
# follow the same trajectory, step for step, while the tensor one runs much faster.

# %%
# %matplotlib inline
import gc
import time

import numpy as np
from matplotlib.figure import Figure

import nn
from autograd_core import Tensor, Value
from nn.data import make_moons
from nn.optim import SGD
from nn.optim.lr_scheduler import LambdaLR
from viz.plots import plot_decision_boundary

STEPS = 100
ALPHA = 1e-4  # micrograd's L2 coefficient: reg_loss = ALPHA * sum(p * p)

points, labels01 = make_moons(n_samples=100, noise=0.1, random_state=1337)
labels = 2.0 * labels01 - 1.0  # micrograd: y = y*2 - 1
print(points.shape, "points;", int((labels > 0).sum()), "labelled +1 and",
      int((labels < 0).sum()), "labelled -1")

# %% [markdown]
# ## The scalar network
#
# `nn.scalar.MLP` is micrograd's `MLP(2, [16, 16, 1])`. Its parameter count follows from the
# layer sizes: each neuron has one weight per input plus a bias.

# %%
scalar_model = nn.scalar.MLP(2, [16, 16], 1, generator=np.random.default_rng(0))
sizes = [2, 16, 16, 1]
expected_parameters = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
print(scalar_model.num_parameters(), "parameters")
assert scalar_model.num_parameters() == expected_parameters == 337
assert all(isinstance(p, Value) for p in scalar_model.parameters())

# %% [markdown]
# micrograd adds `α·Σp²` to the loss; its gradient is `2α·p`, which is exactly what SGD's
# `weight_decay` adds to each gradient. So `SGD(..., weight_decay=2α)` on the hinge loss
# takes the same steps as micrograd's SGD on hinge + L2. We check that claim on one
# backward pass before relying on it (on a copy of the model, so the run below is untouched).

# %%
probe = nn.scalar.MLP(2, [16, 16], 1, generator=np.random.default_rng(0))
inputs, targets = points.tolist(), labels.tolist()

hinge = nn.functional.hinge_loss([probe(x) for x in inputs], targets)
probe.zero_grad()
hinge.backward()
decayed = [p.grad + 2 * ALPHA * p.data for p in probe.parameters()]  # what SGD adds

full = (nn.functional.hinge_loss([probe(x) for x in inputs], targets)
        + ALPHA * sum(p * p for p in probe.parameters()))                 # micrograd's loss
probe.zero_grad()
full.backward()
np.testing.assert_allclose([p.grad for p in probe.parameters()], decayed, rtol=1e-12, atol=1e-15)

# %% [markdown]
# The training loop is micrograd's, written with the `nn` pieces: `LambdaLR` multiplies
# the base rate 1.0 by `1 − 0.9·k/100` after step `k`. We time every step for later.
#
# One practical detail: each step builds a graph of some 68,000 `Value`s, and Python's
# cycle collector keeps scanning them although there is nothing for it to find (a node
# holds only its parents, so the graph has no reference cycles and is freed by reference
# counting the moment it is dropped). Pausing the collector during the loop halves the
# time of a step; it changes no number.

# %%
optimizer = SGD(scalar_model.parameters(), lr=1.0, weight_decay=2 * ALPHA)
scheduler = LambdaLR(optimizer, lambda k: 1.0 - 0.9 * k / STEPS)

scalar_losses, scalar_step_seconds = [], []
gc.disable()
try:
    for k in range(STEPS):
        # micrograd's schedule, computed independently of the scheduler
        assert abs(optimizer.param_groups[0]["lr"] - (1.0 - 0.9 * k / STEPS)) < 1e-12
        start = time.perf_counter()
        scores = [scalar_model(x) for x in inputs]
        loss = nn.functional.hinge_loss(scores, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        scalar_step_seconds.append(time.perf_counter() - start)
        scalar_losses.append(loss.data)
        if k % 20 == 0 or k == STEPS - 1:
            accuracy = np.mean([(s.data > 0) == (t > 0) for s, t in zip(scores, targets)])
            print(f"step {k:3d}   loss {loss.data:.4f}   accuracy {accuracy:.0%}")
finally:
    gc.enable()

# the accuracy of the last step's scores, as micrograd reports it, and of the final weights
scalar_accuracy = np.mean([(s.data > 0) == (t > 0) for s, t in zip(scores, targets)])
final_scores = np.array([scalar_model(x).data for x in inputs])
assert scalar_accuracy == 1.0
assert np.all(np.sign(final_scores) == labels)
assert scalar_losses[-1] < 0.05 < 0.5 < scalar_losses[0]

# %% [markdown]
# 100% of the training points are on the right side. The picture micrograd ends with: the
# network's decision over the plane (a 30 × 30 grid, asked point by point since the scalar
# model takes one point at a time).

# %%
plot_decision_boundary(scalar_model, points, labels,
                       title="nn.scalar.MLP(2, [16, 16], 1) after 100 steps")

# %% [markdown]
# ## The same network on tensors
#
# `nn.MLP(2, [16, 16], 1)` is the same architecture as `Linear` layers with weight
# *matrices*. To start from the same point, we initialise it as micrograd does (weights
# uniform in [−1, 1], biases 0) from a fresh generator with the same seed. The scalar model
# drew its weights neuron by neuron, i.e. row by row of each layer's `(out, in)` weight
# matrix, which is the order `nn.init.uniform_` fills a matrix in; so the two models hold
# the same numbers. We check that on the weights and on the scores of all 100 points.

# %%
generator = np.random.default_rng(0)
tensor_model = nn.MLP(2, [16, 16], 1)
for layer in tensor_model:
    if isinstance(layer, nn.Linear):
        nn.init.uniform_(layer.weight, -1.0, 1.0, generator=generator)
        nn.init.zeros_(layer.bias)

start_scalar = nn.scalar.MLP(2, [16, 16], 1, generator=np.random.default_rng(0))
linears = [layer for layer in tensor_model if isinstance(layer, nn.Linear)]
for scalar_layer, linear in zip(start_scalar.layers, linears):
    rows = np.array([[w.data for w in neuron.w] for neuron in scalar_layer.neurons])
    np.testing.assert_array_equal(rows, linear.weight.data)
np.testing.assert_allclose(tensor_model(Tensor(points)).data[:, 0],
                           [start_scalar(x).data for x in inputs], rtol=1e-12, atol=1e-12)
print(tensor_model)

# %%
x, y = Tensor(points), Tensor(labels[:, None])
optimizer = SGD(tensor_model.parameters(), lr=1.0, weight_decay=2 * ALPHA)
scheduler = LambdaLR(optimizer, lambda k: 1.0 - 0.9 * k / STEPS)

tensor_losses, tensor_step_seconds = [], []
for k in range(STEPS):
    start = time.perf_counter()
    scores = tensor_model(x)
    loss = nn.functional.hinge_loss(scores, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    tensor_step_seconds.append(time.perf_counter() - start)
    tensor_losses.append(loss.item())

tensor_accuracy = float(((scores.data > 0) == (y.data > 0)).mean())
print(f"tensor MLP: loss {tensor_losses[0]:.4f} -> {tensor_losses[-1]:.4f}, "
      f"accuracy {tensor_accuracy:.0%}")
assert tensor_accuracy == 1.0

# Same start, same loss, same optimiser: the two engines must follow one trajectory. They
# add the same numbers in a different order, so they agree to rounding, not bit for bit.
np.testing.assert_allclose(scalar_losses, tensor_losses, rtol=1e-6, atol=1e-9)
print("largest relative difference between the two loss curves:",
      f"{np.max(np.abs(np.subtract(scalar_losses, tensor_losses)) / np.abs(tensor_losses)):.1e}")
# ... and they end at the same weights
for scalar_layer, linear in zip(scalar_model.layers, linears):
    rows = np.array([[w.data for w in neuron.w] for neuron in scalar_layer.neurons])
    np.testing.assert_allclose(rows, linear.weight.data, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose([n.b.data for n in scalar_layer.neurons], linear.bias.data,
                               rtol=1e-6, atol=1e-9)

# %% [markdown]
# ## Why bother with tensors: the size of the graph
#
# Both engines run the same backward loop over the same kind of graph; what differs is how
# much one node does. The scalar graph has one node per multiply and per add of every neuron
# for every data point; the tensor graph has one node per matrix operation. We count the
# nodes of one step's graph by walking `parents` from the loss.

# %%
def count_nodes(root):
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(node.parents)
    return len(seen)


scalar_nodes = count_nodes(nn.functional.hinge_loss([scalar_model(p) for p in inputs], targets))
tensor_nodes = count_nodes(nn.functional.hinge_loss(tensor_model(x), y))
# Each neuron with n inputs costs n multiplies and n adds, plus a ReLU if hidden:
# 16·(2·2+1) + 16·(2·16+1) + 2·16 = 640 operations per data point at least.
ops_per_point = 16 * (2 * 2 + 1) + 16 * (2 * 16 + 1) + 2 * 16
print(f"scalar graph: {scalar_nodes:,} nodes; tensor graph: {tensor_nodes} nodes")
assert scalar_nodes > ops_per_point * len(inputs) > 100 * tensor_nodes

# %% [markdown]
# Python pays a fixed price per node, so the tensor step, which hands the arithmetic to
# numpy, is far faster. We compare the median step time of the two training runs above
# (the exact ratio depends on the machine; we only check which is faster).

# %%
scalar_step, tensor_step = np.median(scalar_step_seconds), np.median(tensor_step_seconds)
print(f"one training step: scalar {scalar_step * 1e3:.1f} ms, tensor {tensor_step * 1e3:.2f} ms"
      f" -> the tensor engine is {scalar_step / tensor_step:.0f}x faster")
assert tensor_step < scalar_step

# %% [markdown]
# The two loss curves lie on top of each other, and the tensor model (asked about a finer
# 200 × 200 grid in one batch) draws the same boundary.

# %%
fig = Figure(figsize=(11, 4.2), layout="constrained")
loss_ax, boundary_ax = fig.subplots(1, 2)
loss_ax.plot(scalar_losses, lw=4, alpha=0.4, label="Value (nn.scalar.MLP)")
loss_ax.plot(tensor_losses, "k--", lw=1, label="Tensor (nn.MLP)")
loss_ax.set(xlabel="step", ylabel="hinge loss", yscale="log",
            title="the same trajectory with both engines")
loss_ax.legend()
plot_decision_boundary(tensor_model, points, labels, ax=boundary_ax,
                       title="nn.MLP(2, [16, 16], 1) after 100 steps")
fig
