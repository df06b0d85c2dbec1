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
# # The gradient tape, Jacobians, Hessians, and a graph that leaks
#
# Two of the lectures meet here.
#
# - **The gradient tape** (TensorFlow's way of doing autodiff): "while the tape is active,
#   record all operations ... each operation stores the result and its parent tensors; after
#   the loss is calculated, `tape.gradient(loss, parameters)` returns the gradient". The
#   lecture's example is $e = (a + b)(b + 1)$, with $\partial e/\partial a = d$ and
#   $\partial e/\partial b = c + d$ for $c = a + b$, $d = b + 1$.
# - **Vector and matrix derivatives**: the Jacobian $J_{ij} = \partial y_i/\partial x_j$ of
#   $y = f(x)$, which for $y = Wx$ is $W$ itself (the lecture writes its transpose,
#   $\nabla_x Wx = W^\top$, in "denominator layout"); the chain rule as a product of Jacobians;
#   and the Hessian, the matrix of second derivatives, which for the quadratic
#   $\tfrac12 x^\top A x + b^\top x$ is $(A + A^\top)/2$.
# - **Why you should care about compute graphs**: the lecture's training loop with
#   `running_loss += loss`, whose "compute graph will contain the compute graph of loss ...
#   the memory required to store running_loss will only ever increase". We measure that with
#   the library and fix it with `.item()`.

# %%
# %matplotlib inline
import gc
import tracemalloc

import matplotlib.pyplot as plt
import numpy as np

import autograd_core
import nn
import viz
from autograd_core import Node, Tape, Tensor, Value
from autograd_core.functional import hessian, hvp, jacobian, jvp, vjp
from autograd_core.testing import numerical_grad
from nn.data import DataLoader, TensorDataset

autograd_core.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The gradient tape
#
# Inside `with Tape() as tape:` every operation is recorded in order; `print(tape)` shows the
# forward pass as the lecture writes it, one line per operation, and `tape.gradient` sweeps
# the record backwards. It returns the gradients and leaves every `.grad` alone.

# %%
a, b = Value(2.0, label="a"), Value(1.0, label="b")
with Tape() as tape:
    c = a + b
    d = b + 1
    e = c * d
c.label, d.label, e.label = "c", "d", "e"
print(tape)

de_da, de_db = tape.gradient(e, [a, b])
print(f"de/da = {de_da}, de/db = {de_db}")
assert (de_da, de_db) == (d.data, c.data + d.data) == (2.0, 5.0)   # the lecture's d and c + d
assert a.grad == 0.0 and b.grad == 0.0                                # the tape wrote no .grad

# %% [markdown]
# The graph the tape recorded: `b` is used twice, so its gradient is the sum over the two
# paths, $d \cdot 1 + c \cdot 1$.

# %%
e.backward()
assert (a.grad, b.grad) == (de_da, de_db)   # the ordinary backward agrees
viz.draw_dot(e)

# %% [markdown]
# The tape works on tensors too. A layer $h = \mathrm{ReLU}(W x + \beta)$ followed by a
# least-squares loss: the tape's gradients, `backward()`'s (an independent implementation of
# the backward sweep) and central finite differences all agree.

# %%
W = Tensor(rng.normal(size=(4, 3)), requires_grad=True, label="W")
beta = Tensor(rng.normal(size=4), requires_grad=True, label="beta")
x_in = Tensor(rng.normal(size=3), label="x")
target = Tensor(rng.normal(size=4), label="t")


def layer_loss(W, beta):
    return (((W @ x_in + beta).relu() - target) ** 2).sum()


with Tape() as tape:
    loss = layer_loss(W, beta)
print(tape, end="\n\n")
tape_dW, tape_dbeta = tape.gradient(loss, [W, beta])
loss.backward()
numeric_dW, numeric_dbeta = numerical_grad(layer_loss, [W.data, beta.data])
np.testing.assert_allclose(tape_dW, W.grad, rtol=1e-14)
np.testing.assert_allclose(tape_dbeta, beta.grad, rtol=1e-14)
np.testing.assert_allclose(tape_dW, numeric_dW, rtol=1e-6, atol=1e-8)
np.testing.assert_allclose(tape_dbeta, numeric_dbeta, rtol=1e-6, atol=1e-8)
print("dL/dW =\n", tape_dW.round(4))

# %% [markdown]
# ## 2. Jacobians
#
# `autograd_core.functional.jacobian(f)(x)` has shape `output.shape + input.shape`, one
# reverse pass per output element (each pass gives one row, $e_i^\top J$). For $y = Wx$ it is
# $W$, whatever $x$ is:

# %%
W_mat = rng.normal(size=(3, 5))
for _ in range(3):
    x0 = rng.normal(size=5)
    J = jacobian(lambda x: Tensor(W_mat) @ x)(x0)
    assert J.shape == (3, 5)
    np.testing.assert_allclose(J, W_mat, rtol=1e-15)
print("J(Wx) = W:\n", J.round(3))

# %% [markdown]
# The chain rule for vector functions multiplies Jacobians. For the two-layer map
# $y = W_2 \tanh(W_1 x)$ it gives $J = W_2\,\mathrm{diag}(1 - \tanh^2(W_1 x))\,W_1$: we compare
# the engine's Jacobian with that product and with finite differences. Backprop never forms
# $J$: it computes vector-Jacobian products $u^\top J$ (`vjp`); `jvp` gives $J t$.

# %%
W1, W2 = rng.normal(size=(6, 4)), rng.normal(size=(2, 6))


def two_layer(x):
    return Tensor(W2) @ (Tensor(W1) @ x).tanh()


x0 = rng.normal(size=4)
J = jacobian(two_layer)(x0)
J_chain = W2 @ np.diag(1 - np.tanh(W1 @ x0) ** 2) @ W1
step = 1e-6
J_numeric = np.stack([(two_layer(Tensor(x0 + step * e_j)).data
                       - two_layer(Tensor(x0 - step * e_j)).data) / (2 * step)
                      for e_j in np.eye(4)], axis=1)
np.testing.assert_allclose(J, J_chain, rtol=1e-12)
np.testing.assert_allclose(J, J_numeric, rtol=1e-7, atol=1e-9)

u, t = rng.normal(size=2), rng.normal(size=4)
_, vjp_fn = vjp(two_layer, x0)
(u_J,) = vjp_fn(u)
_, J_t = jvp(two_layer, (x0,), (t,))
np.testing.assert_allclose(u_J, u @ J, rtol=1e-12)
np.testing.assert_allclose(J_t, J @ t, rtol=1e-12)
print("J =\n", J.round(4))

# %% [markdown]
# ## 3. Hessians
#
# The Hessian is the Jacobian of the gradient: `hessian(f) = jacobian(grad(f))`, the backward
# pass itself recorded and differentiated again. For $f(x) = \tfrac12 x^\top A x + b^\top x$
# the gradient is $\tfrac12(A + A^\top)x + b$ and the Hessian $(A + A^\top)/2$, the same at
# every $x$; only the symmetric part of $A$ matters. A Hessian-vector product `hvp` gives
# $Hv$ without forming $H$ (reverse over reverse: the gradient of $\nabla f \cdot v$).

# %%
A = rng.normal(size=(4, 4))          # not symmetric
b_vec = rng.normal(size=4)
assert not np.allclose(A, A.T)


def quadratic(x):
    return 0.5 * x @ (Tensor(A) @ x) + Tensor(b_vec) @ x


symmetric_part = (A + A.T) / 2
for _ in range(3):
    x0 = rng.normal(size=4)
    H = hessian(quadratic)(x0)
    np.testing.assert_allclose(H, symmetric_part, rtol=1e-13, atol=1e-14)
    v = rng.normal(size=4)
    value, (Hv,) = hvp(quadratic, (x0,), (v,))
    np.testing.assert_allclose(Hv, symmetric_part @ v, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(value, 0.5 * x0 @ A @ x0 + b_vec @ x0, rtol=1e-13)
print("H = (A + Aᵀ)/2:\n", H.round(3))

# %% [markdown]
# A Hessian that changes with $x$: the log-sum-exp $f(x) = \log\sum_j e^{x_j}$, whose gradient
# is the softmax $p$ and whose Hessian is $\mathrm{diag}(p) - p p^\top$ (symmetric, rows summing
# to zero, because adding a constant to every $x_j$ adds it to $f$).

# %%
x0 = rng.normal(size=5)
H_lse = hessian(lambda x: x.logsumexp())(x0)
p = np.exp(x0 - x0.max()) / np.exp(x0 - x0.max()).sum()
np.testing.assert_allclose(H_lse, np.diag(p) - np.outer(p, p), rtol=1e-12, atol=1e-15)
np.testing.assert_allclose(H_lse.sum(axis=1), 0.0, atol=1e-15)
np.testing.assert_allclose(hvp(lambda x: x.logsumexp(), (x0,), (np.ones(5),))[1][0], 0.0,
                           atol=1e-15)

# W and the Jacobian of Wx; A, its symmetric part and the Hessian of the quadratic
fig, axes = plt.subplots(1, 5, figsize=(15, 3.2))
panels = [(W_mat, "W"),
          (jacobian(lambda x: Tensor(W_mat) @ x)(rng.normal(size=5)), "jacobian of Wx"),
          (A, "A (not symmetric)"), (symmetric_part, "(A + Aᵀ)/2"),
          (hessian(quadratic)(rng.normal(size=4)), "hessian of ½xᵀAx + bᵀx")]
for k, (ax, (matrix, title)) in enumerate(zip(axes, panels)):
    limit = np.abs(W_mat).max() if k < 2 else np.abs(A).max()   # one colour scale per group
    ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([]), ax.set_yticks([])
fig.tight_layout()

# %% [markdown]
# ## 4. `running_loss += loss`: a graph that only grows
#
# The lecture's loop (its last line, `running loss = 0.0`, is garbled in the slides):
#
# ```python
# running_loss = 0.0
# for epoch in range(100):
#     for i, (inputs, targets) in enumerate(loader):
#         optimizer.zero_grad()
#         outputs = model(inputs)
#         loss = criterion(outputs, targets)
#         loss.backward()
#         optimizer.step()
#         running_loss += loss          # the leak
#         ...
# ```
#
# `loss` is not a number but the root of this step's graph. Adding it to `running_loss` makes
# `running_loss` a node whose parents are the previous `running_loss` and this `loss`: it
# keeps every step's graph, with its saved activations, alive for as long as it lives.
#
# As in PyTorch, `running_loss += loss` on a tensor with history records the addition:
# `running_loss` becomes a new node whose inputs are the old one and this step's loss.

# %%
autograd_core.manual_seed(0)
X_data, Y_data = autograd_core.randn(400, 10), autograd_core.randn(400, 5)


def make_training():
    """A fresh model, loss, optimiser and shuffled loader: batches of 10."""
    autograd_core.manual_seed(1)
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 5))
    optimizer = nn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = DataLoader(TensorDataset(X_data, Y_data), batch_size=10, shuffle=True, seed=0)
    return model, nn.MSELoss(), optimizer, loader


model, criterion, optimizer, loader = make_training()
running_loss = 0.0
for i, (inputs, targets) in enumerate(loader):
    if i == 3:
        break
    optimizer.zero_grad()
    outputs = model(inputs)
    loss = criterion(outputs, targets)
    loss.backward()
    optimizer.step()
    running_loss += loss          # the leak, exactly as the lecture writes it
assert isinstance(running_loss, Tensor) and running_loss.op == "add"
print(f"after 3 steps running_loss is a {running_loss.op!r} node, not a number")

# %% [markdown]
# Below, the leaky loop keeps `running_loss += loss` and the fix is the one line of fig. 7.8:
# `running_loss += loss.item()`, a Python float with no history.
#
# Three measurements per step, for both versions:
#
# - **nodes reachable from `running_loss`**, by an iterative walk over `.parents` (the
#   library's own graph walk in `viz.draw_dot` reports the same count as `n_nodes`);
# - **live graph nodes in the whole process**, counted by the garbage collector;
# - **memory** allocated since the loop started, measured by `tracemalloc`.

# %%
def graph_nodes(root) -> set:
    """The ids of the nodes of the graph behind ``root`` (empty for a plain number)."""
    if not isinstance(root, Node):
        return set()
    seen, stack = {id(root)}, [root]
    while stack:
        for parent in stack.pop().parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return seen


def reachable_nodes(root) -> int:
    return len(graph_nodes(root))


def live_nodes() -> int:
    return sum(isinstance(obj, Node) for obj in gc.get_objects())


def train(leaky: bool, steps: int = 30):
    model, criterion, optimizer, loader = make_training()
    running_loss = 0.0
    graph_sizes, live, memory, first_losses = [], [], [], []
    gc.collect()
    live_before = live_nodes()
    tracemalloc.start()
    try:
        memory_before = tracemalloc.get_traced_memory()[0]
        batches = iter(loader)
        for i in range(steps):
            inputs, targets = next(batches)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            if leaky:
                running_loss += loss                 # records running_loss + loss: keeps its graph
            else:
                running_loss += loss.item()          # a float: the graph is freed
            if leaky and i < 2:
                first_losses.append(loss)   # kept for the checks below (the leak keeps them anyway)
            del outputs, loss
            memory.append(tracemalloc.get_traced_memory()[0] - memory_before)
            graph_sizes.append(reachable_nodes(running_loss))
            live.append(live_nodes() - live_before)
    finally:
        tracemalloc.stop()
    return {"graph": np.array(graph_sizes), "live": np.array(live), "memory": np.array(memory),
            "running_loss": running_loss, "first_losses": first_losses}


fixed = train(leaky=False)
leaky = train(leaky=True)
step0, step1 = (graph_nodes(loss) for loss in leaky["first_losses"])
new_per_step = len(step1 - step0)   # what a step's graph adds to the previous ones
print(f"one step's loss graph: {len(step0)} nodes, {len(step0 & step1)} of them shared by "
      f"every step (the parameters and a cached constant), {new_per_step} new ones")
for name, run in (("leaky", leaky), ("fixed", fixed)):
    print(f"{name}: nodes reachable from running_loss {run['graph'][:4]} ... {run['graph'][-1]};"
          f" live nodes {run['live'][:4]} ... {run['live'][-1]};"
          f" memory {run['memory'][-1] / 1024:.0f} KiB after {len(run['memory'])} steps")

# %% [markdown]
# The checks. The leaky graph grows by the same number of nodes at every step: the new nodes
# of that step's loss graph (all but the parameters and a constant, which every step shares)
# plus the addition; `viz.draw_dot`'s own walk counts the same nodes. The fixed
# `running_loss` is a float holding no graph, and the number of live nodes stays constant.
# Memory grows linearly in the leaky loop and stays flat in the fixed one.

# %%
steps = np.arange(1, 31)
graph = leaky["graph"]
assert graph[0] == len(step0) + 2                       # 0.0 + loss: the constant 0.0 and the add
np.testing.assert_array_equal(np.diff(graph), new_per_step + 1)
assert viz.draw_dot(leaky["running_loss"], max_nodes=1).n_nodes == graph[-1]
assert isinstance(fixed["running_loss"], float) and np.all(fixed["graph"] == 0)
np.testing.assert_allclose(fixed["running_loss"], leaky["running_loss"].item(), rtol=1e-12)

assert np.all(np.diff(leaky["live"]) > 0)                       # more live nodes every step
assert np.ptp(fixed["live"]) == 0                              # the same number every step

leak_rate = np.polyfit(steps, leaky["memory"], 1)[0]              # bytes per step
fixed_rate = np.polyfit(steps, fixed["memory"], 1)[0]
print(f"memory growth: leaky {leak_rate / 1024:.1f} KiB/step, fixed {fixed_rate:.0f} B/step")
assert leak_rate > 20_000 and abs(fixed_rate) < 0.02 * leak_rate
assert np.all(np.diff(leaky["memory"]) > 0.5 * leak_rate)        # it grows at every step

# %% [markdown]
# Where do the bytes per step come from? Every node of a step's graph keeps its output array
# (the activations), and the weight transposes `W.T` in `nn.Linear` are views of the weight
# arrays *of that step*: the optimiser replaces a parameter's array rather than writing into
# it, so the leaked graph keeps every step's old weights alive too. Adding up the distinct
# arrays one step's graph holds accounts for the measured growth (the rest is the Python
# objects around them).

# %%
def arrays_held(root) -> int:
    """Bytes of the distinct arrays (a view counts as the array it views) kept by the
    graph behind ``root``: op outputs and the batch, not the live parameters."""
    held, seen, stack = {}, {id(root)}, [root]
    while stack:
        node = stack.pop()
        if node.parents or not node.requires_grad:       # an op's output, or the batch data
            array = node.data
            while isinstance(array.base, np.ndarray):
                array = array.base
            held[id(array)] = array.nbytes
        for parent in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return sum(held.values())


expected_rate = arrays_held(leaky["first_losses"][0])
print(f"arrays held by one step's graph: {expected_rate / 1024:.1f} KiB; "
      f"measured growth {leak_rate / 1024:.1f} KiB/step")
assert expected_rate <= leak_rate < 1.5 * expected_rate

# %% [markdown]
# The graph size and the memory per step, for both loops.

# %%
fig, (ax_graph, ax_memory) = plt.subplots(1, 2, figsize=(12, 4))
ax_graph.plot(steps, leaky["graph"], "o-", color="C3", markersize=3,
              label="running_loss += loss")
ax_graph.plot(steps, fixed["graph"], "o-", color="C2", markersize=3,
              label="running_loss += loss.item()")
ax_graph.plot(steps, leaky["live"], ":", color="C3", label="live nodes in the process (leaky)")
ax_graph.plot(steps, fixed["live"], ":", color="C2", label="live nodes in the process (fixed)")
ax_graph.set(xlabel="training step", ylabel="graph nodes",
             title="nodes reachable from running_loss")
ax_graph.legend(fontsize=8)
ax_memory.plot(steps, leaky["memory"] / 1024, "o-", color="C3", markersize=3, label="leaky")
ax_memory.plot(steps, fixed["memory"] / 1024, "o-", color="C2", markersize=3,
               label="with .item()")
ax_memory.set(xlabel="training step", ylabel="KiB allocated since the loop began",
              title="memory (tracemalloc)")
ax_memory.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# What `running_loss` holds after three steps of a one-layer model, drawn: three loss graphs
# (each with its own copy of the weights, via `W.T`) joined by the additions.

# %%
autograd_core.manual_seed(2)
small = nn.Linear(2, 1)
small_optimizer = nn.optim.SGD(small.parameters(), lr=0.1)
running_loss = 0.0
for _ in range(3):
    small_optimizer.zero_grad()
    loss = nn.MSELoss()(small(autograd_core.randn(4, 2)), autograd_core.randn(4, 1))
    loss.backward()
    small_optimizer.step()
    running_loss += loss
running_loss.label = "running_loss"
drawing = viz.draw_dot(running_loss, module=small, rankdir="TB")
assert drawing.n_nodes == reachable_nodes(running_loss)
drawing

# %% [markdown]
# **What we checked.** The tape prints the lecture's forward pass and returns
# $\partial e/\partial a = d = 2$ and $\partial e/\partial b = c + d = 5$ without touching
# `.grad`; on a ReLU layer it agrees with `backward()` and finite differences. The Jacobian of
# $Wx$ is $W$; the Jacobian of a two-layer map is the product of the layers' Jacobians, and
# `vjp`/`jvp` are $u^\top J$ and $J t$. The Hessian of $\tfrac12x^\top Ax + b^\top x$ is
# $(A + A^\top)/2$ at every point, `hvp` gives $Hv$, and the log-sum-exp's Hessian is
# $\mathrm{diag}(p) - pp^\top$. Accumulating the loss tensor keeps every step's graph: the graph
# grows by exactly one step's nodes per step and memory by roughly the arrays they hold;
# `.item()` keeps both constant.
