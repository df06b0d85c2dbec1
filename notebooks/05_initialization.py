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
# # Initialisation: why σ² = 2/D_h
#
# A deep network multiplies its input by one weight matrix after another. If each layer
# shrinks the signal a little, fifty layers shrink it to nothing; if each grows it a
# little, fifty layers blow it up, and the gradients in the backward pass do the same. The
# lecture (Understanding Deep Learning, ch. 7) derives the variance of the weights that keeps
# the signal's size constant through a ReLU network, **He initialisation**:
#
# for a layer `f' = β + Ω h`, `h = ReLU(f)`, with `β = 0` and weights `Ω_ij ~ N(0, σ_Ω²)`
# independent of the activations,
#
# 1. `E[f'_i] = Σ_j E[Ω_ij] E[h_j] = 0`;
# 2. `σ_f'² = E[f'_i²] = Σ_j E[Ω_ij²] E[h_j²] = σ_Ω² Σ_j E[h_j²] = D_h σ_Ω² E[h²]`;
# 3. for pre-activations `f` with a zero-mean symmetric distribution,
#    `E[h²] = E[ReLU(f)²] = ∫_0^∞ f² Pr(f) df = σ_f²/2`;
# 4. so `σ_f'² = D_h σ_Ω² σ_f² / 2`, and `σ_Ω² = 2/D_h` keeps `σ_f'² = σ_f²`.
#
# The backward pass gives the mirror image: `∂ℓ/∂h = Ωᵀ ∂ℓ/∂f'` sums over the `D_h'`
# outputs, and the ReLU's derivative zeroes half of it, so `σ_Ω² = 2/D_h'` keeps the
# variance of the gradients.
#
# We check every step with sampled numbers, then reproduce the lecture's fig. 7.7 (50 ReLU
# layers, five weight variances) and the histograms of another lecture (small, large, Xavier
# and He initialisation of 10 layers, with tanh and with ReLU).

# %%
# %matplotlib inline
import math

import numpy as np

import nn
from autograd_core import Tensor, no_grad
from viz.plots import layer_statistics, plot_activation_histograms, plot_layer_statistics

rng = np.random.default_rng(0)

# %% [markdown]
# ## The derivation, step by step, with sampled numbers
#
# A batch of `N` examples of `D_h = 100` pre-activations `f ~ N(0, σ_f²)` (rows are
# examples) and their ReLU `h`. Sample averages stand in for expectations, so the checks
# have a few percent of tolerance.

# %%
N, D_h = 1000, 100
sigma2_f = 3.0
f = rng.normal(0.0, math.sqrt(sigma2_f), size=(N, D_h))
h = np.maximum(f, 0.0)

# Step 3: E[ReLU(f)²] = σ_f²/2 ...
print(f"E[h²] = {np.mean(h ** 2):.4f}   σ_f²/2 = {sigma2_f / 2:.4f}")
np.testing.assert_allclose(np.mean(h ** 2), sigma2_f / 2, rtol=0.02)
# ... for any zero-mean symmetric distribution, not only the normal one: the integral over
# f > 0 is half the integral over all f.
for name, sample in [("uniform", rng.uniform(-2.0, 2.0, 200_000)),
                     ("Laplace", rng.laplace(0.0, 1.0, 200_000))]:
    half_variance = np.var(sample) / 2
    print(f"{name:8s} E[ReLU(f)²] = {np.mean(np.maximum(sample, 0) ** 2):.4f}   "
          f"Var(f)/2 = {half_variance:.4f}")
    np.testing.assert_allclose(np.mean(np.maximum(sample, 0) ** 2), half_variance, rtol=0.02)
# It is E[h²] that matters, not Var(h): h is not zero-mean (E[h] = σ_f/√(2π)).
np.testing.assert_allclose(np.mean(h), math.sqrt(sigma2_f / (2 * math.pi)), rtol=0.02)

# %% [markdown]
# Steps 1, 2 and 4 are expectations over the weights as well as over the data: for one
# fixed `Ω`, unit `i` has its own mean `Σ_j Ω_ij E[h_j]` (since `h` is not zero-mean) and its
# own variance. Each unit uses a fresh row of `Ω`, so averaging over many units averages over
# the weights: we take a wide layer of `D_h' = 2000` units, with a deliberately arbitrary
# weight variance `σ_Ω² = 0.05`.

# %%
D_wide, sigma2_omega = 2000, 0.05
Omega = rng.normal(0.0, math.sqrt(sigma2_omega), size=(D_wide, D_h))
f_next = h @ Omega.T  # β = 0

# Step 1: E[f'] = 0 (compared with the spread of f')
print(f"E[f'] = {f_next.mean():+.4f}   σ_f' = {f_next.std():.4f}")
assert abs(f_next.mean()) < 0.05 * f_next.std()
# Step 2: σ_f'² = E[f'²] = σ_Ω² Σ_j E[h_j²] = D_h σ_Ω² E[h²] ...
step2 = sigma2_omega * np.sum(np.mean(h ** 2, axis=0))
# Step 4: ... = D_h σ_Ω² σ_f² / 2
step4 = D_h * sigma2_omega * sigma2_f / 2
print(f"E[f'²] = {np.mean(f_next ** 2):.3f}   step 2: {step2:.3f}   step 4: {step4:.3f}")
np.testing.assert_allclose(np.mean(f_next ** 2), step2, rtol=0.03)
np.testing.assert_allclose(np.mean(f_next ** 2), step4, rtol=0.03)
# With σ_Ω² = 0.05 = 5/D_h the variance grows by D_h σ_Ω²/2 = 2.5 in one layer; with He's
# σ_Ω² = 2/D_h (the same numbers, rescaled) it stays σ_f².
np.testing.assert_allclose(np.mean(f_next ** 2) / sigma2_f, D_h * sigma2_omega / 2, rtol=0.03)
f_he = h @ (Omega * math.sqrt((2 / D_h) / sigma2_omega)).T
print(f"He: E[f'²] = {np.mean(f_he ** 2):.3f}   σ_f² = {sigma2_f}")
np.testing.assert_allclose(np.mean(f_he ** 2), sigma2_f, rtol=0.03)

# %% [markdown]
# Now the backward pass, with the engine computing the gradients. We push an arbitrary
# upstream gradient `∂ℓ/∂f'` of variance `σ_g²` back through `f' = Ω ReLU(f)` and look at
# `∂ℓ/∂h = Ωᵀ ∂ℓ/∂f'` (variance `D_h' σ_Ω² σ_g²`) and `∂ℓ/∂f = I[f > 0] ∂ℓ/∂h` (half of it).
# `nn.init.kaiming_normal_` gives the two He variances: `mode="fan_in"` is `2/D_h`, for the
# forward pass, and `mode="fan_out"` is `2/D_h'`, for the backward pass. With
# `D_h' = 2 D_h` they differ by a factor of 2, and each keeps only its own pass's variance.

# %%
N, D_h_out, sigma2_g = 4000, 200, 0.7
f = rng.normal(0.0, math.sqrt(sigma2_f), size=(N, D_h))
upstream = rng.normal(0.0, math.sqrt(sigma2_g), size=(N, D_h_out))


def forward_and_backward(weight):
    """E[f'²]/σ_f² and Var(∂ℓ/∂f)/σ_g² through one ReLU layer, by the engine."""
    f_in = Tensor(f, requires_grad=True)
    h_mid = f_in.relu()
    h_mid.retain_grad()
    out = h_mid @ Tensor(weight).T
    out.backward(grad=upstream)
    # ∂ℓ/∂h by the formula, as a check of the engine's gradient
    np.testing.assert_allclose(h_mid.grad, upstream @ weight, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(f_in.grad, (f > 0) * (upstream @ weight), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.var(h_mid.grad), D_h_out * np.var(weight) * sigma2_g, rtol=0.05)
    return np.mean(out.data ** 2) / sigma2_f, np.var(f_in.grad) / sigma2_g


w_fan_in = nn.init.kaiming_normal_(Tensor(np.empty((D_h_out, D_h))), mode="fan_in",
                                   nonlinearity="relu", generator=1).data
w_fan_out = nn.init.kaiming_normal_(Tensor(np.empty((D_h_out, D_h))), mode="fan_out",
                                    nonlinearity="relu", generator=1).data
np.testing.assert_allclose(np.var(w_fan_in), 2 / D_h, rtol=0.03)
np.testing.assert_allclose(np.var(w_fan_out), 2 / D_h_out, rtol=0.03)

for name, weight in [("σ_Ω² = 2/D_h  (fan_in)", w_fan_in),
                     ("σ_Ω² = 2/D_h' (fan_out)", w_fan_out)]:
    forward_ratio, backward_ratio = forward_and_backward(weight)
    print(f"{name}: forward variance x{forward_ratio:.3f}, backward variance x{backward_ratio:.3f}")
    # the lecture's two formulas: forward D_h σ²/2, backward D_h' σ²/2
    np.testing.assert_allclose(forward_ratio, D_h * np.var(weight) / 2, rtol=0.05)
    np.testing.assert_allclose(backward_ratio, D_h_out * np.var(weight) / 2, rtol=0.05)

# fan_in keeps the activations and doubles the gradients; fan_out keeps the gradients
forward_in, backward_in = forward_and_backward(w_fan_in)
forward_out, backward_out = forward_and_backward(w_fan_out)
np.testing.assert_allclose([forward_in, backward_in, forward_out, backward_out],
                           [1.0, 2.0, 0.5, 1.0], rtol=0.06)

# %% [markdown]
# ## Fig. 7.7: fifty layers
#
# The lecture's experiment: 50 hidden layers of `D_h = 100` ReLU units and one output,
# a batch of 100-dimensional standard normal inputs, biases 0, weights `N(0, σ_Ω²)` for
# `σ_Ω² ∈ {0.001, 0.01, 0.02, 0.1, 1.0}`, and the least-squares loss to the target 0
# (`ℓ = ½ Σ out²`, whose gradient at the output is the output itself). For each hidden layer
# we record the variance of its activations (forward pass) and of the loss's gradient with
# respect to them (backward pass), with `viz.plots.layer_statistics`, which runs the model
# layer by layer with `retain_grad()` on every output.
#
# All five networks are drawn from the **same** standard normal numbers, scaled by `σ_Ω`.
# That makes one more exact check possible: with zero biases a ReLU network is positively
# homogeneous, so scaling every weight by `c` scales the activations of hidden layer `k` by
# exactly `c^k`, and the gradients there by `c^(51+51-k)` (the output grows by `c^51`, and the
# way back from the output to layer `k` crosses `51 − k` weight matrices).

# %%
VARIANCES = [0.001, 0.01, 0.02, 0.1, 1.0]
N_LAYERS, WIDTH = 50, 100
x_batch = np.random.default_rng(2).normal(size=(100, WIDTH))


def deep_relu_network(sigma2, seed=7):
    generator = np.random.default_rng(seed)
    layers = []
    for k in range(N_LAYERS + 1):
        linear = nn.Linear(WIDTH, WIDTH if k < N_LAYERS else 1)
        nn.init.normal_(linear.weight, 0.0, math.sqrt(sigma2), generator=generator)
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if k < N_LAYERS:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


models = {f"σ² = {v}": deep_relu_network(v) for v in VARIANCES}
activation_var, gradient_var = {}, {}
for v, model in zip(VARIANCES, models.values()):
    stats = layer_statistics(model, x_batch)
    hidden = [t == "ReLU" for t in stats["types"]]
    activation_var[v] = np.array(stats["activation_variance"])[hidden]
    gradient_var[v] = np.array(stats["gradient_variance"])[hidden]
    print(f"σ² = {v:<5}  activation variance: layer 1 {activation_var[v][0]:9.2e}, "
          f"layer 50 {activation_var[v][-1]:9.2e};  gradient variance: layer 1 "
          f"{gradient_var[v][0]:9.2e}, layer 50 {gradient_var[v][-1]:9.2e}")

# %% [markdown]
# The checks. He initialisation, `σ² = 2/D_h = 0.02`, keeps both variances within a small
# factor over all 50 layers (they wander, since each layer multiplies them by a random
# factor close to 1). `σ² = 0.001` multiplies the activations' second moment by
# `D_h σ²/2 = 0.05` per layer, and `σ² = 1.0` by `50`: after 50 layers that is dozens of
# orders of magnitude, in opposite directions, and the gradients follow.

# %%
he_a, he_g = activation_var[0.02], gradient_var[0.02]
print(f"He: activation variance spans x{he_a.max() / he_a.min():.1f}, "
      f"gradient variance x{he_g.max() / he_g.min():.1f} over 50 layers")
assert he_a.max() / he_a.min() < 100 and he_g.max() / he_g.min() < 100

# small weights: activations vanish going forward, gradients vanish going backward
assert activation_var[0.001][-1] < 1e-40 * activation_var[0.001][0]
assert gradient_var[0.001][0] < 1e-40 * gradient_var[0.001][-1]
# large weights: both explode
assert activation_var[1.0][-1] > 1e40 * activation_var[1.0][0]
assert gradient_var[1.0][0] > 1e40 * gradient_var[1.0][-1]

# the average growth per layer is the lecture's D_h σ²/2 (up to the He run's wander)
for v in VARIANCES:
    per_layer = (activation_var[v][-1] / activation_var[v][0]) ** (1 / (N_LAYERS - 1))
    np.testing.assert_allclose(per_layer, WIDTH * v / 2, rtol=0.1)

# positive homogeneity: exact scaling by powers of c² = σ²/0.02
k = np.arange(1, N_LAYERS + 1)
for v in VARIANCES:
    c2 = v / 0.02
    np.testing.assert_allclose(activation_var[v], he_a * c2 ** k, rtol=1e-9)
    np.testing.assert_allclose(gradient_var[v], he_g * c2 ** (2 * (N_LAYERS + 1) - k), rtol=1e-9)

# %% [markdown]
# The figure: (a) the forward pass, (b) the backward pass, on log scales, as in fig. 7.7.

# %%
plot_layer_statistics(models, x_batch,
                      title="50 ReLU layers of 100 units, weights N(0, σ²): "
                            "only σ² = 2/D_h = 0.02 is stable")

# %% [markdown]
# ## Small, large, Xavier, He: what the activations look like
#
# Another lecture looks at the histograms of the activations of 10 layers of 100 units on
# 1000 standard normal inputs, for four initialisations:
#
# | name | weights | variance for 100 → 100 |
# | --- | --- | --- |
# | small | `N(0, 0.01²)` | 1e-4 |
# | large | `N(0, 1)` | 1 |
# | Xavier (Glorot) | `N(0, 2/(n_in + n_out))` | 0.01 |
# | He | `N(0, 2/n_in)` | 0.02 |
#
# Its findings: with tanh, small weights make the activations collapse to 0 and large ones
# saturate them at ±1, while Xavier keeps them spread out; with ReLU, small weights vanish,
# large ones explode, Xavier slowly dies (ReLU halves the variance at each layer), and only He
# keeps the spread. The library's `xavier_normal_` and `kaiming_normal_` draw these weights.

# %%
X_1000 = np.random.default_rng(3).normal(size=(1000, 100))
INITS = {
    "small": lambda w, g: nn.init.normal_(w, 0.0, 0.01, generator=g),
    "large": lambda w, g: nn.init.normal_(w, 0.0, 1.0, generator=g),
    "Xavier": lambda w, g: nn.init.xavier_normal_(w, generator=g),
    "He": lambda w, g: nn.init.kaiming_normal_(w, nonlinearity="relu", generator=g),
}


def ten_layers(init, activation, seed=11):
    generator = np.random.default_rng(seed)
    layers = []
    for _ in range(10):
        linear = nn.Linear(100, 100)
        INITS[init](linear.weight, generator)
        nn.init.zeros_(linear.bias)
        layers += [linear, activation()]
    return nn.Sequential(*layers)


def hidden_activations(model, x):
    """The output of every activation layer, by running the model layer by layer."""
    outputs, h = [], Tensor(x)
    with no_grad():
        for layer in model:
            h = layer(h)
            if not isinstance(layer, nn.Linear):
                outputs.append(h.data)
    return outputs


tanh_models = {name: ten_layers(name, nn.Tanh) for name in INITS}
relu_models = {name: ten_layers(name, nn.ReLU) for name in INITS}
tanh_acts = {name: hidden_activations(m, X_1000) for name, m in tanh_models.items()}
relu_acts = {name: hidden_activations(m, X_1000) for name, m in relu_models.items()}

# the initialisers draw the variances of the table
for name, expected in [("small", 1e-4), ("large", 1.0), ("Xavier", 0.01), ("He", 0.02)]:
    np.testing.assert_allclose(np.var(tanh_models[name][0].weight.data), expected, rtol=0.05)

for label, acts in [("tanh", tanh_acts), ("ReLU", relu_acts)]:
    for name, layers in acts.items():
        print(f"{label:4s} {name:6s} std by layer: " + " ".join(f"{a.std():8.2g}" for a in layers))

# %% [markdown]
# ### tanh
#
# Near 0, tanh is the identity, so with small weights each layer multiplies the standard
# deviation by `√(n σ²) = √(100 · 0.01²) = 0.1`: after 10 layers it is about `0.1^10 = 1e-10`.
# With large weights the pre-activations have variance `n σ² E[h²] = 100 E[h²]`, i.e. a
# standard deviation near 10, so a unit saturates, `|h| > 0.99`, whenever
# `|f| > atanh(0.99) ≈ 2.65`: with probability `2(1 − Φ(2.65 / √(100 E[h²])))`, about 78%.
# Xavier's variance `1/n` keeps the standard deviation of the same order over 10 layers
# (it shrinks slowly, since tanh squashes), with no unit saturated.

# %%
small, large, xavier = tanh_acts["small"], tanh_acts["large"], tanh_acts["Xavier"]
# collapse: std follows 0.1^k (layer 1: 0.1 · std(x))
np.testing.assert_allclose([a.std() for a in small], 0.1 ** np.arange(1, 11) * X_1000.std(),
                           rtol=0.15)
assert small[-1].std() < 1e-9

# saturation: the fraction beyond ±0.99 in the last layer, predicted from the layer before
second_moment = np.mean(large[-2] ** 2)
z = math.atanh(0.99) / math.sqrt(100 * 1.0 * second_moment)
predicted = 2 * (1 - 0.5 * (1 + math.erf(z / math.sqrt(2))))
saturated = np.mean(np.abs(large[-1]) > 0.99)
print(f"tanh + large: {saturated:.1%} of the last layer beyond ±0.99 (predicted {predicted:.1%}),"
      f" {np.mean(np.abs(large[-1]) > 0.9):.1%} beyond ±0.9")
np.testing.assert_allclose(saturated, predicted, atol=0.02)
assert saturated > 0.7

# Xavier: spread kept (same order of magnitude), nothing collapsed or saturated
print(f"tanh + Xavier: std {xavier[0].std():.2f} in layer 1, {xavier[-1].std():.2f} in layer 10")
assert 0.1 < xavier[-1].std() and xavier[-1].std() / xavier[0].std() > 0.25
assert np.mean(np.abs(xavier[-1]) > 0.99) < 0.01

# %%
plot_activation_histograms({name: tanh_models[name] for name in ("small", "large", "Xavier")},
                           X_1000, bins=40, title="tanh, 10 layers of 100 units")

# %% [markdown]
# ### ReLU
#
# Step 4 of the derivation predicts the ratio of the second moments `E[h²]` of layer 10 and
# layer 1: nine layers, each multiplying by `n σ²/2`, i.e. `(50 σ²)^9`: `0.005^9` for small
# weights, `50^9` for large ones, `0.5^9 ≈ 0.002` for Xavier and `1` for He. The four
# networks here are drawn from the same standard normal numbers, so they share the same
# random deviation from these predictions (the He network's ratio, ideally 1, shows its
# size: a 10-layer network wanders as the 50-layer ones of fig. 7.7 did); it stays within a
# factor of 2.

# %%
ratios = {}
for name, sigma2 in [("small", 1e-4), ("large", 1.0), ("Xavier", 0.01), ("He", 0.02)]:
    layers = relu_acts[name]
    ratios[name] = np.mean(layers[-1] ** 2) / np.mean(layers[0] ** 2)
    predicted = (100 * sigma2 / 2) ** 9
    print(f"ReLU + {name:6s}: E[h²] layer 10 / layer 1 = {ratios[name]:9.3g}   "
          f"predicted {predicted:9.3g}")
    assert 0.5 < ratios[name] / predicted < 2
assert ratios["small"] < 1e-15 and ratios["large"] > 1e12  # vanish, explode
assert ratios["Xavier"] < 0.01                            # Xavier: ReLU dies out slowly
assert 0.5 < ratios["He"] < 2                             # He keeps the spread
# About half the activations are exactly 0 in every layer, whatever the variance: that is
# the ReLU itself. Scaling the weights never changes a sign, so it is the same half in all
# four networks.
assert all(0.4 < np.mean(a == 0) < 0.6 for a in relu_acts["He"])
for name in ("small", "large", "Xavier"):
    assert all(np.array_equal(a == 0, b == 0) for a, b in zip(relu_acts[name], relu_acts["He"]))

# %%
plot_activation_histograms(relu_models, X_1000, bins=40, title="ReLU, 10 layers of 100 units")
