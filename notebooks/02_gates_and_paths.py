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
# # Gates, converging paths and a two-layer ReLU network
#
# The lecture's intuition for backpropagation: break the gradient into small steps. Each node
# of the graph multiplies the gradient arriving from above (the *upstream* derivative) by its
# own *local* derivative and passes the result to its inputs. Seen as gates:
#
# * an **add** gate *distributes* the gradient: ∂(x + y)/∂x = ∂(x + y)/∂y = 1;
# * a **multiply** gate *switches* it: ∂(xy)/∂x = y, ∂(xy)/∂y = x;
# * a **max** gate *routes* it: ∂max(x, y)/∂x = 𝟙{x > y} (and relu(x) = max(x, 0)).
#
# Where two paths from an input converge, the **law of total derivatives** adds their shares:
# ∂L/∂x = Σᵢ ∂L/∂qᵢ · ∂qᵢ/∂x. We check each rule on tiny examples, on the lecture's
# e = (a + b)(b + 1), on softplus taken apart into elementary gates, and on the two-layer
# ReLU network whose output is 10 for a target of 7.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np

import viz
from autograd_core import Tensor, Value, maximum
from autograd_core.graph import backward_steps
from autograd_core.testing import numerical_grad

# %% [markdown]
# ## 1. Three gates
#
# Each gate gets the same inputs x = 2, y = −3 and the same upstream gradient 5 (as if the
# gate sat inside a larger graph whose output changes 5 times as fast as the gate's output):
# `backward(grad=5.0)` starts the backward pass there.

# %%
UPSTREAM = 5.0


def gate(kind, x_value=2.0, y_value=-3.0):
    x, y = Value(x_value, label="x"), Value(y_value, label="y")
    out = {"add": lambda: x + y, "mul": lambda: x * y, "max": lambda: maximum(x, y)}[kind]()
    out.label = {"add": "x + y", "mul": "x · y", "max": "max(x, y)"}[kind]
    out.backward(grad=UPSTREAM)
    return x, y, out


x, y, f_add = gate("add")
assert (x.grad, y.grad) == (UPSTREAM * 1, UPSTREAM * 1)          # distributed, unchanged
x, y, f_mul = gate("mul")
assert (x.grad, y.grad) == (UPSTREAM * y.data, UPSTREAM * x.data)  # switched: 5·(−3), 5·2
x, y, f_max = gate("max")
assert (x.grad, y.grad) == (UPSTREAM * (x.data > y.data), UPSTREAM * (y.data > x.data))  # routed

# relu(x) = max(x, 0) is a max gate against a constant: it routes the gradient through
# where x > 0 and blocks it where x < 0.
for value, expected in [(1.5, UPSTREAM), (-1.5, 0.0)]:
    r = Value(value)
    r.relu().backward(grad=UPSTREAM)
    assert r.grad == expected
print(f"add: {f_add.data:+.0f}, mul: {f_mul.data:+.0f}, max: {f_max.data:+.0f}")

# %% [markdown]
# The three gates side by side (one drawing of three graphs): the add gate hands 5 to both
# inputs, the multiply gate hands each input 5 times the *other* input, the max gate hands
# all of it to the larger input and nothing to the other.

# %%
viz.draw_dot([f_add, f_mul, f_max], number_format=".1f")

# %% [markdown]
# ## 2. Converging paths: e = (a + b)(b + 1)
#
# The lecture's example, at a = 2, b = 1: c = a + b = 3, d = b + 1 = 2, e = c·d = 6.
# The input b reaches e along two paths, through c and through d, so
#
# $$\frac{de}{da} = \frac{de}{dc}\frac{dc}{da} = d = 2, \qquad
# \frac{de}{db} = \frac{de}{dc}\frac{dc}{db} + \frac{de}{dd}\frac{dd}{db} = d + c = 2 + 3 = 5 .$$
#
# `backward_steps` shows the engine's steps in order, with what each step adds to each input:
# b receives two shares, one per path, and its gradient is their sum.

# %%
def build_e():
    a, b = Value(2.0, label="a"), Value(1.0, label="b")
    c = a + b
    d = b + 1
    e = c * d
    c.label, d.label, e.label = "c", "d", "e"
    return a, b, c, d, e


a, b, c, d, e = build_e()
assert (c.data, d.data, e.data) == (3.0, 2.0, 6.0)

shares_of_b = []
for node, g, shares in backward_steps(e):
    print(f"{node.label}: grad {g}, sends " + ", ".join(f"{p.label} += {s}" for p, s in shares))
    shares_of_b += [s for p, s in shares if p is b]

# The two paths: via c, de/dc · dc/db = d · 1; via d, de/dd · dd/db = c · 1.
path_via_c, path_via_d = d.data * 1, c.data * 1
assert sorted(shares_of_b) == sorted([path_via_c, path_via_d]) == [2.0, 3.0]

e.backward()
assert a.grad == d.data == 2.0
assert b.grad == path_via_c + path_via_d == 5.0
fd_a, fd_b = numerical_grad(lambda a, b: (a + b) * (b + 1), [2.0, 1.0])
np.testing.assert_allclose([a.grad, b.grad], [fd_a, fd_b], rtol=1e-8)
print(f"de/da = {a.grad}, de/db = {b.grad} = {path_via_c} + {path_via_d}")

# %% [markdown]
# The backward pass played step by step (on a fresh graph: `animate_backward` runs the steps
# itself). In the last step b, which already holds the share 2 from the path through c,
# receives 3 through d; the caption shows the sum.

# %%
animation = viz.animate_backward(build_e()[-1])
assert len(animation) == 3
assert "b.grad = 2.0000 + 3.0000 = 5.0000" in animation.captions[-1]
print(animation.captions[-1])
animation

# %% [markdown]
# ## 3. Softplus, one gate at a time
#
# y = softplus(x) = log(1 + exp(x)) has the closed-form derivative
# dy/dx = exp(x)/(1 + exp(x)) = σ(x), the logistic sigmoid. The lecture recovers it by
# backpropagation through the elementary gates b = exp(x), a = 1 + b, y = log(a):
#
# $$\frac{dy}{da} = \frac{1}{a}, \qquad \frac{dy}{db} = \frac{da}{db}\frac{dy}{da} = \frac{dy}{da}
# \ \text{(an add gate distributes)}, \qquad \frac{dy}{dx} = \frac{db}{dx}\frac{dy}{db} = \exp(x)\,\frac{1}{a}.$$

# %%
def softplus_by_gates(x):
    b = x.exp()
    b.label = "b = exp(x)"
    a = 1 + b
    a.label = "a = 1 + b"
    y = a.log()
    y.label = "y = log(a)"
    return y


x0 = 0.5
xv = Value(x0, label="x")
y_sp = softplus_by_gates(xv)
steps = {node.label: g for node, g, _ in backward_steps(y_sp)}
a_value = 1 + math.exp(x0)
expected = {"y = log(a)": 1.0,
            "a = 1 + b": 1 / a_value,              # dy/da = 1/a
            "b = exp(x)": 1 / a_value}             # dy/db = dy/da
assert steps.keys() == expected.keys()
for name in expected:
    np.testing.assert_allclose(steps[name], expected[name], rtol=1e-15, err_msg=name)
for name, g in steps.items():
    print(f"dy/d({name}) = {g:.6f}")

y_sp.backward()
np.testing.assert_allclose(xv.grad, math.exp(x0) * (1 / a_value), rtol=1e-15)  # exp(x) · 1/a
np.testing.assert_allclose(xv.grad, 1 / (1 + math.exp(-x0)), rtol=1e-15)  # σ(x)
print(f"dy/dx = {xv.grad:.6f} = σ({x0})")
viz.draw_dot(y_sp)

# %% [markdown]
# Over a range of x, the gate-by-gate derivative, the engine's built-in `softplus` (one op
# with its own closed-form rule) and σ(x) agree:

# %%
xs = np.linspace(-6, 6, 121)
by_gates, built_in = [], []
for t in xs:
    v = Value(float(t))
    softplus_by_gates(v).backward()
    by_gates.append(v.grad)
    w = Value(float(t))
    w.softplus().backward()
    built_in.append(w.grad)
closed_form = 1 / (1 + np.exp(-xs))
np.testing.assert_allclose(by_gates, closed_form, rtol=1e-12, atol=1e-15)
np.testing.assert_allclose(built_in, closed_form, rtol=1e-12, atol=1e-15)

fig, ax = plt.subplots(figsize=(6.5, 3.5))
ax.plot(xs, np.log1p(np.exp(xs)), color="0.6", label="softplus(x)")
ax.plot(xs, closed_form, lw=4, alpha=0.35, label="σ(x), closed form")
ax.plot(xs, by_gates, "--", label="dy/dx by backprop through exp, +, log")
ax.plot(xs[::8], np.array(built_in)[::8], "o", ms=4, label="built-in softplus op")
ax.set_xlabel("x")
ax.set_ylim(-0.1, 2.5)
ax.legend(loc="upper left", fontsize=8)
ax.set_title("softplus and its derivative")
fig.tight_layout()
plt.close(fig)  # shown once, as the cell's value, whatever the backend
fig

# %% [markdown]
# ## 4. The lecture's two-layer ReLU network: output 10, target 7
#
# Four inputs, two hidden ReLU units, one linear output:
#
# $$z_1 = w_1x_1 + w_2x_2 + w_3x_3 + w_4x_4 + b_1,\quad a_1 = \mathrm{relu}(z_1),\qquad
# z_2 = w_5x_1 + \dots + w_8x_4 + b_2,\quad a_2 = \mathrm{relu}(z_2),$$
# $$z_3 = w_9a_1 + w_{10}a_2 + b_3, \qquad L = (z_3 - y)^2 .$$
#
# The lecture supposes an output of 10 for a ground truth of 7, so L = (10 − 7)² = 9 and
# dL/db₃ = 2(z₃ − y) · 1 = 6. It then follows one weight of the first layer down the chain,
#
# $$\frac{dL}{dw_{1,1}^{(1)}} = \underbrace{2(z_3 - y)}_{dL/dz_3}\cdot
# \underbrace{w_9}_{dz_3/da_1}\cdot\underbrace{\mathbb{1}\{z_1 > 0\}}_{da_1/dz_1}\cdot
# \underbrace{x_1}_{dz_1/dw_1}.$$
#
# The slides give no weights, so we pick small integers that produce that output, with the
# second hidden unit switched off (z₂ < 0) so that the ReLU's "0 if z < 0" shows too.

# %%
X = [1.0, 2.0, 3.0, 4.0]
Y_TRUE = 7.0
W_HIDDEN = [[1.0, 1.0, 0.0, 0.0],      # w1..w4 (unit 1)
            [0.0, 0.0, -1.0, 0.5]]     # w5..w8 (unit 2)
B_HIDDEN = [1.0, -1.0]                 # b1, b2
W_OUT, B_OUT = [2.0, 3.0], 2.0         # w9, w10, b3


def two_layer(values):
    """The network on scalar Values, in the lecture's per-weight notation."""
    w, b = values["w"], values["b"]
    x = [Value(v, label=f"x{i + 1}", requires_grad=False) for i, v in enumerate(X)]
    hidden = []
    for unit in range(2):
        z = sum((w[4 * unit + i] * x[i] for i in range(4)), b[unit])
        z.label = f"z{unit + 1}"
        a = z.relu()
        a.label = f"a{unit + 1}"
        hidden.append(a)
    z3 = w[8] * hidden[0] + w[9] * hidden[1] + b[2]
    z3.label = "z3"
    loss = (z3 - Y_TRUE) ** 2
    loss.label = "L"
    return loss, x, hidden, z3


w = [Value(v, label=f"w{i + 1}") for i, v in enumerate([*W_HIDDEN[0], *W_HIDDEN[1], *W_OUT])]
b = [Value(v, label=f"b{i + 1}") for i, v in enumerate(B_HIDDEN + [B_OUT])]
L, xs_nodes, (a1, a2), z3 = two_layer({"w": w, "b": b})
L.backward()

assert z3.data == 10.0 and L.data == 9.0           # output 10, target 7, loss 9
assert b[2].grad == 2 * (z3.data - Y_TRUE) * 1 == 6.0   # dL/db3 = 6
z1 = sum(wi * xi for wi, xi in zip(W_HIDDEN[0], X)) + B_HIDDEN[0]
z2 = sum(wi * xi for wi, xi in zip(W_HIDDEN[1], X)) + B_HIDDEN[1]
assert z1 > 0 > z2 and (a1.data, a2.data) == (z1, 0.0)
# The lecture's chain for w_{1,1}^{(1)} = w1: 2(z3 − y) · w9 · 1{z1 > 0} · x1
assert w[0].grad == 2 * (z3.data - Y_TRUE) * W_OUT[0] * (z1 > 0) * X[0] == 12.0
# The output weights: dL/dw9 = 6 · a1, dL/dw10 = 6 · a2 = 0
assert (w[8].grad, w[9].grad) == (6.0 * a1.data, 0.0)
# The switched-off unit passes nothing back: w5..w8 and b2 get zero gradient
assert [wi.grad for wi in w[4:8]] + [b[1].grad] == [0.0] * 5
print(f"z3 = {z3.data}, L = {L.data}, dL/db3 = {b[2].grad}, dL/dw1 = {w[0].grad}")
print("dL/dw:", [wi.grad for wi in w])
print("dL/db:", [bi.grad for bi in b])

# %% [markdown]
# The same network in matrix form, z⁽¹⁾ = xW⁽¹⁾ + b⁽¹⁾ (W: in × out, x: 1 × in), on
# `Tensor`s. Its gradients must equal the scalar ones entry by entry, and the lecture's matrix
# chain dL/dW⁽¹⁾ = xᵀ [(2(z⁽²⁾ − y) W⁽²⁾ᵀ) ⊙ 𝟙{z⁽¹⁾ > 0}], coded with numpy, must agree too.
# Finite differences check the whole thing once more (the ReLU kinks are far away:
# z₁ = 4, z₂ = −2).

# %%
def matrix_loss(W1, b1, W2, b2):
    z2 = (Tensor(np.array([X])) @ W1 + b1).relu() @ W2 + b2
    return ((z2 - Y_TRUE) ** 2).sum()


W1_data, b1_data = np.array(W_HIDDEN).T, np.array(B_HIDDEN)      # 4 × 2, 2
W2_data, b2_data = np.array([W_OUT]).T, np.array([B_OUT])        # 2 × 1, 1
tensors = [Tensor(v, requires_grad=True) for v in (W1_data, b1_data, W2_data, b2_data)]
loss_matrix = matrix_loss(*tensors)
loss_matrix.backward()
W1, b1, W2, b2 = tensors

assert loss_matrix.item() == 9.0 and b2.grad.tolist() == [6.0]
np.testing.assert_array_equal(W1.grad.T.ravel(), [wi.grad for wi in w[:8]])
np.testing.assert_array_equal(W2.grad.ravel(), [w[8].grad, w[9].grad])

x_row = np.array([X])
z_hidden = x_row @ W1_data + b1_data
dL_dz_out = 2 * (z_hidden.clip(0) @ W2_data + b2_data - Y_TRUE)          # 1 × 1
dL_dW1 = x_row.T @ ((dL_dz_out @ W2_data.T) * (z_hidden > 0))            # 4 × 2
np.testing.assert_allclose(W1.grad, dL_dW1, rtol=0, atol=0)

finite = numerical_grad(matrix_loss, [W1_data, b1_data, W2_data, b2_data])
for tensor, fd in zip(tensors, finite):
    np.testing.assert_allclose(tensor.grad, fd, rtol=1e-7, atol=1e-7)
print("dL/dW1 =\n", W1.grad)

# %% [markdown]
# The scalar graph, drawn: the gradient 6 enters at b3 and z3, splits at the output's add
# gates, is switched by the multiply gates (w9 gets 6·a1 = 24, a1 gets 6·w9 = 12) and is
# blocked by the second ReLU, whose whole subgraph shows gradient 0.

# %%
viz.draw_dot(L, names={f"x{i + 1}": node for i, node in enumerate(xs_nodes)}, number_format=".3g")
