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
# # Backpropagation on the lecture's toy function
#
# The lecture (Understanding Deep Learning, ch. 7) introduces backpropagation on a model with
# eight scalar parameters φ = {β₀, ω₀, β₁, ω₁, β₂, ω₂, β₃, ω₃}, a composition of sin, exp and cos:
#
# $$f[x, \phi] = \beta_3 + \omega_3 \cos\big[\beta_2 + \omega_2 \exp\big[\beta_1 + \omega_1 \sin[\beta_0 + \omega_0 x]\big]\big],
# \qquad \ell_i = (f[x_i, \phi] - y_i)^2 .$$
#
# Written out by hand, ∂ℓ/∂ω₀ is a long product that repeats the same sin, exp and cos terms.
# Backpropagation avoids the repetition in three steps:
#
# 1. **Forward pass**: compute and store the intermediate quantities
#    f₀ = β₀ + ω₀x, h₁ = sin f₀, f₁ = β₁ + ω₁h₁, h₂ = exp f₁, f₂ = β₂ + ω₂h₂, h₃ = cos f₂,
#    f₃ = β₃ + ω₃h₃, ℓ = (f₃ − y)².
# 2. **Backward pass #1**: the derivatives of ℓ with respect to them *in reverse order*,
#    ∂ℓ/∂f₃, ∂ℓ/∂h₃, ∂ℓ/∂f₂, ∂ℓ/∂h₂, ∂ℓ/∂f₁, ∂ℓ/∂h₁, ∂ℓ/∂f₀, each one the previous one times
#    one local derivative.
# 3. **Backward pass #2**: the parameter derivatives ∂ℓ/∂β_k = ∂ℓ/∂f_k and
#    ∂ℓ/∂ω_k = h_k · ∂ℓ/∂f_k (with h₀ = x).
#
# Here we let `autograd_core` do all three and check every number against the lecture's
# hand-derived formulas, coded directly, and against finite differences.

# %%
import math

import numpy as np

import viz
from autograd_core import Tape, Value
from autograd_core.graph import backward_steps
from autograd_core.testing import numerical_grad

# The lecture works symbolically; these parameter values and this data point are ours (any
# will do), chosen so that no intermediate quantity is trivially 0 or 1. The loss is 0.139.
PARAMETERS = {"β0": 1.0, "ω0": 0.1, "β1": 2.0, "ω1": -0.4,
              "β2": -3.0, "ω2": 2.0, "β3": 0.4, "ω3": 3.0}
X_I, Y_I = 2.3, 2.0
NAMES = ["f0", "h1", "f1", "h2", "f2", "h3", "f3", "ℓ"]  # the lecture's intermediate names


def toy_forward(p, x, y):
    """The lecture's forward pass, one line per intermediate quantity; returns them all,
    labelled with the lecture's names (the products ω_k·h_k too, so nothing prints as t0)."""
    products = []

    def times(w, h, name):
        t = w * h
        t.label = name
        products.append(t)
        return t

    f0 = p["β0"] + times(p["ω0"], x, "ω0·x")
    h1 = f0.sin()
    f1 = p["β1"] + times(p["ω1"], h1, "ω1·h1")
    h2 = f1.exp()
    f2 = p["β2"] + times(p["ω2"], h2, "ω2·h2")
    h3 = f2.cos()
    f3 = p["β3"] + times(p["ω3"], h3, "ω3·h3")
    residual = f3 - y
    residual.label = "(f3 − y)"
    loss = residual ** 2
    quantities = dict(zip(NAMES, [f0, h1, f1, h2, f2, h3, f3, loss]))
    for name, node in quantities.items():
        node.label = name
    return quantities


def fresh_parameters():
    return {name: Value(value, label=name) for name, value in PARAMETERS.items()}


# %% [markdown]
# ## 1. The forward pass, read off a tape
#
# A `Tape` records every operation in the order it runs. With the Values labelled, printing it
# gives the lecture's list of intermediate calculations, each with its value. The data point
# `x`, `y` are constants (`requires_grad=False`): we differentiate with respect to φ only.

# %%
params = fresh_parameters()
x = Value(X_I, label="x", requires_grad=False)
y = Value(Y_I, label="y", requires_grad=False)
with Tape(persistent=True) as tape:
    q = toy_forward(params, x, y)
loss = q["ℓ"]
print(tape)

# %% [markdown]
# The same numbers computed independently with Python's `math` module, line by line as the
# lecture writes them:

# %%
b0, w0, b1, w1, b2, w2, b3, w3 = PARAMETERS.values()
f0 = b0 + w0 * X_I
h1 = math.sin(f0)
f1 = b1 + w1 * h1
h2 = math.exp(f1)
f2 = b2 + w2 * h2
h3 = math.cos(f2)
f3 = b3 + w3 * h3
ell = (f3 - Y_I) ** 2
by_hand = dict(zip(NAMES, [f0, h1, f1, h2, f2, h3, f3, ell]))

# The tape holds the lecture's eight quantities in the lecture's order (plus the four
# products ω_k·h_k and the residual f3 − y).
recorded = [node.label for node in tape.operations]
assert [name for name in recorded if name in NAMES] == NAMES
assert len(tape) == 13
for name in NAMES:
    np.testing.assert_allclose(q[name].data, by_hand[name], rtol=1e-14, err_msg=name)
assert round(loss.data, 3) == 0.139  # (f3 - y)² for these numbers, as computed by hand above
print(f"ℓ = {loss.data:.6f}")

# %% [markdown]
# ## 2. Backward pass #1: derivatives with respect to the intermediate quantities
#
# The lecture's formulas, in reverse order. The first is direct, every later one is the
# previous one times one local derivative (the brackets of eq. 7.12 are "already computed"):
#
# | quantity | formula |
# | --- | --- |
# | ∂ℓ/∂f₃ | 2(f₃ − y) |
# | ∂ℓ/∂h₃ | ∂f₃/∂h₃ · ∂ℓ/∂f₃ = ω₃ · ∂ℓ/∂f₃ |
# | ∂ℓ/∂f₂ | ∂h₃/∂f₂ · ∂ℓ/∂h₃ = −sin f₂ · ∂ℓ/∂h₃ |
# | ∂ℓ/∂h₂ | ω₂ · ∂ℓ/∂f₂ |
# | ∂ℓ/∂f₁ | exp f₁ · ∂ℓ/∂h₂ |
# | ∂ℓ/∂h₁ | ω₁ · ∂ℓ/∂f₁ |
# | ∂ℓ/∂f₀ | cos f₀ · ∂ℓ/∂h₁ |
#
# `backward_steps` runs the engine's backward one node at a time without storing anything:
# each step yields a node whose gradient is complete. Its order is the lecture's order.

# %%
hand = {}
hand["f3"] = 2 * (f3 - Y_I)
hand["h3"] = w3 * hand["f3"]
hand["f2"] = -math.sin(f2) * hand["h3"]
hand["h2"] = w2 * hand["f2"]
hand["f1"] = math.exp(f1) * hand["h2"]
hand["h1"] = w1 * hand["f1"]
hand["f0"] = math.cos(f0) * hand["h1"]

steps = [(node.label, g) for node, g, _ in backward_steps(loss)]
for label, g in steps:
    print(f"∂ℓ/∂{label:7s} = {g: .6f}")

engine_order = [label for label, _ in steps if label in NAMES]
assert engine_order == ["ℓ", "f3", "h3", "f2", "h2", "f1", "h1", "f0"]  # reverse order
from_steps = dict(steps)
for name, expected in hand.items():
    np.testing.assert_allclose(from_steps[name], expected, rtol=1e-12, err_msg=name)

# %% [markdown]
# The tape gives the same derivatives by its own, independent sweep over the recorded list
# (`Tape.gradient` accepts intermediate quantities as sources and leaves `.grad` untouched):

# %%
intermediates = [q[name] for name in hand]
from_tape = tape.gradient(loss, intermediates)
np.testing.assert_allclose(from_tape, list(hand.values()), rtol=1e-12)
assert all(node.grad == 0.0 for node in intermediates)  # nothing stored yet

# %% [markdown]
# ## 3. Backward pass #2: derivatives with respect to the parameters
#
# Now `loss.backward()` fills `.grad` everywhere. Every intermediate `Value` keeps its gradient,
# so `q["f2"].grad` is ∂ℓ/∂f₂. The parameter derivatives follow the lecture's
#
# $$\frac{\partial \ell}{\partial \beta_k} = \frac{\partial \ell}{\partial f_k}, \qquad
# \frac{\partial \ell}{\partial \omega_k} = h_k \frac{\partial \ell}{\partial f_k} \quad (h_0 = x),$$
#
# and for ω₀ we also code the fully expanded expression from the slide,
#
# $$\frac{\partial \ell}{\partial \omega_0} = -2(f_3 - y)\,\omega_1\omega_2\omega_3\, x\,
# \cos[f_0]\,\exp[f_1]\,\sin[f_2],$$
#
# with every bracket written out from the parameters (the redundancy the lecture points at).
# Finally, central finite differences (`numerical_grad`) check all eight.

# %%
loss.backward()
for name, expected in hand.items():
    np.testing.assert_allclose(q[name].grad, expected, rtol=1e-12, err_msg=name)

h = {0: X_I, 1: h1, 2: h2, 3: h3}
formula = {}
for k in range(4):
    formula[f"β{k}"] = hand[f"f{k}"]
    formula[f"ω{k}"] = h[k] * hand[f"f{k}"]

# The slide's expanded expression, straight from the parameters: no intermediate reused.
expanded_dw0 = (-2 * (b3 + w3 * math.cos(b2 + w2 * math.exp(b1 + w1 * math.sin(b0 + w0 * X_I))) - Y_I)
                * w1 * w2 * w3 * X_I * math.cos(b0 + w0 * X_I)
                * math.exp(b1 + w1 * math.sin(b0 + w0 * X_I))
                * math.sin(b2 + w2 * math.exp(b1 + w1 * math.sin(b0 + w0 * X_I))))


def loss_of(*values):
    p = dict(zip(PARAMETERS, values))
    return toy_forward(p, X_I, Y_I)["ℓ"]


finite = dict(zip(PARAMETERS, numerical_grad(loss_of, list(PARAMETERS.values()), eps=1e-6)))

print(f"{'':4s} {'engine':>12s} {'formula':>12s} {'finite diff':>12s}")
for name, p in params.items():
    print(f"{name:4s} {p.grad:12.6f} {formula[name]:12.6f} {finite[name]:12.6f}")
    np.testing.assert_allclose(p.grad, formula[name], rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(p.grad, finite[name], rtol=1e-6, atol=1e-9, err_msg=name)
np.testing.assert_allclose(params["ω0"].grad, expanded_dw0, rtol=1e-12)

# %% [markdown]
# ## 4. The graph
#
# `viz.draw_dot` draws the graph the forward pass built: every box shows a quantity's value and,
# after the backward pass, its gradient; the ovals are the operations. The chain runs left to
# right, with a parameter feeding in at each add and multiply.

# %%
drawing = viz.draw_dot(loss, names={"x": x, "y": y})  # name the constants too
# 13 results of operations, 8 parameters and 3 constants: x, y and the exponent 2 (constants
# have no gradient box)
assert drawing.n_nodes == 13 + 8 + 3
drawing

# %% [markdown]
# ## 5. The backward pass, step by step
#
# `viz.animate_backward` plays the backward pass on a fresh graph (the one above has released
# its saved values): each frame is one step, the node whose gradient is complete is
# highlighted and the edges it sends its shares along are red. Press play or drag the slider.

# %%
fresh = toy_forward(fresh_parameters(), x, y)
animation = viz.animate_backward(fresh["ℓ"], names={"x": x, "y": y})
# One step per operation; the last one sends ∂ℓ/∂(ω0·x) to ω0, which is x·∂ℓ/∂f0.
assert len(animation) == 13
assert animation.captions[-1].endswith(f"ω0.grad = {formula['ω0']:.4f}.")
print("\n".join(animation.captions[:3]))
animation
