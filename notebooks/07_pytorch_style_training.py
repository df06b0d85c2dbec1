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
# # The lecture's PyTorch training script, run on this engine
#
# Figure 7.8 of Understanding Deep Learning ("Sample code for training two-layer network on
# random data") is a complete PyTorch training script: a network with two hidden layers of 40
# ReLU units mapping 10 inputs to 5 outputs, He initialisation of the weights and zero biases,
# the least-squares loss, SGD with learning rate 0.1 and momentum 0.9, a `StepLR` scheduler
# that halves the learning rate every 10 epochs, and 100 random input/output pairs served in
# shuffled batches of 10 for 100 epochs.
#
# `nn` uses PyTorch's names, so the script runs here with only the places names come from
# changed (the README's "Coming from PyTorch" table; `tests/test_training.py` does the same).
# We run the lecture's text, unchanged otherwise, for all 100 epochs, capture what it prints,
# and check:
#
# - the port changes only the six lines that mention `torch`;
# - the initialisation is He's: weights uniform with variance $2/D_h$, biases 0;
# - the learning rate of epoch $e$ is $0.1 \cdot 0.5^{\lfloor e/10 \rfloor}$;
# - the loss falls, and the last loss printed agrees with the trained network evaluated
#   independently in numpy;
# - with the same seed, a second run prints exactly the same losses.

# %%
# %matplotlib inline
import builtins
import difflib
import re
import warnings

import matplotlib.pyplot as plt
import numpy as np

import autograd_core

# %% [markdown]
# ## The script, as the lecture prints it

# %%
from nn.porting import FIG_7_8, PORTING, port  # the lecture's script and the porting table

print(FIG_7_8)

# %% [markdown]
# ## Porting it: only where the names come from
#
# | PyTorch | here |
# | --- | --- |
# | `import torch, torch.nn as nn` | `import autograd_core, nn, nn.optim` |
# | `torch.utils.data` | `nn.data` |
# | `torch.optim`, `torch.optim.lr_scheduler` | `nn.optim`, `nn.optim.lr_scheduler` |
# | `torch.randn` | `autograd_core.randn` |
#
# Every other line, from `nn.Sequential` to `layer_in.bias.data.fill_(0.0)` and
# `scheduler.step()`, is the lecture's.

# %%
for pytorch_name, our_name in PORTING:
    print(f"{pytorch_name.strip():40} -> {our_name.strip()}")

PORTED = port(FIG_7_8)
changed = [(before, after) for before, after in zip(FIG_7_8.splitlines(), PORTED.splitlines())
           if before != after]
assert len(FIG_7_8.splitlines()) == len(PORTED.splitlines())
assert len(changed) == 6 and all("torch" in before for before, _ in changed)
print("".join(difflib.unified_diff(FIG_7_8.splitlines(True), PORTED.splitlines(True),
                                   "fig_7_8 (PyTorch)", "fig_7_8 (autograd-core)", n=0)))

# %% [markdown]
# ## Running it
#
# The script is executed as it stands. To capture what it prints without touching it, we
# give it our own `print`: it records each epoch's line together with the learning rate the
# optimiser used during that epoch (the script prints before calling `scheduler.step()`), and
# shows every tenth line. `autograd_core.manual_seed(0)` plays `torch.manual_seed`'s part:
# the weights, the data and the batches all come from the library's default generator.
#
# The script calls `nn.init.kaiming_uniform`, which PyTorch has deprecated in favour of
# `kaiming_uniform_`; so has `nn`, which warns and does the same thing.

# %%
def run_fig_7_8(seed: int, epochs: int = 100, show: bool = False):
    """Run the ported script; return its namespace, the printed lines and the lr per epoch."""
    script = PORTED.replace("for epoch in range(100):", f"for epoch in range({epochs}):")
    namespace, lines, rates = {}, [], []

    def recording_print(*args, **kwargs):
        lines.append(" ".join(map(str, args)))
        rates.append(namespace["optimizer"].param_groups[0]["lr"])
        if show and (len(lines) - 1) % 10 == 0:
            builtins.print(*args, **kwargs)

    namespace["print"] = recording_print
    autograd_core.manual_seed(seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(script, "fig_7_8.py", "exec"), namespace)
    deprecations = [w for w in caught if "kaiming_uniform" in str(w.message)]
    return namespace, lines, np.array(rates), deprecations


run, lines, rates, deprecations = run_fig_7_8(seed=0, show=True)
losses = np.array([float(re.fullmatch(r"Epoch +(\d+), loss ([\d.]+)", line).group(2))
                   for line in lines])
print(f"...\n{lines[-1]}")
assert len(losses) == 100
assert len(deprecations) == 3 and all(w.category is FutureWarning for w in deprecations)

# %% [markdown]
# ## Checking the run
#
# **The learning rate.** `StepLR(step_size=10, gamma=0.5)` must give epoch $e$ the rate
# $0.1 \cdot 0.5^{\lfloor e/10\rfloor}$: 0.1 for epochs 0–9, 0.05 for 10–19, ..., and
# $0.1/2^9 \approx 0.0002$ for the last ten.

# %%
epochs = np.arange(100)
np.testing.assert_allclose(rates, 0.1 * 0.5 ** (epochs // 10), rtol=1e-15)
assert run["scheduler"].last_epoch == 100   # stepped once after each of the 100 epochs
print("lr at epochs 0, 10, ..., 90:", rates[::10])

# %% [markdown]
# **The initialisation.** `kaiming_uniform` draws from $U(-b, b)$ with $b = \sqrt{6/D_h}$
# ($D_h$ the number of inputs of the layer), whose variance is $b^2/3 = 2/D_h$: He's variance.
# A run of zero epochs with the same seed builds exactly the network the full run started
# from.

# %%
start, _, _, _ = run_fig_7_8(seed=0, epochs=0)
for layer in start["model"]:
    if isinstance(layer, start["nn"].Linear):
        weights, fan_in = layer.weight.data, layer.weight.shape[1]
        bound = np.sqrt(6 / fan_in)
        print(f"Linear {weights.shape}: bound {bound:.3f}, max |w| {np.abs(weights).max():.3f}, "
              f"var {weights.var():.4f} vs 2/D_h = {2 / fan_in:.4f}")
        assert np.abs(weights).max() <= bound
        assert abs(weights.var() / (2 / fan_in) - 1) < 0.25   # 200 to 1600 samples
        assert np.all(layer.bias.data == 0.0)
n_parameters = sum(p.data.size for p in start["model"].parameters())
assert n_parameters == (10 * 40 + 40) + (40 * 40 + 40) + (40 * 5 + 5) == 2285
# the zero-epoch run drew the same data as the full one
np.testing.assert_array_equal(start["x"].data, run["x"].data)

# %% [markdown]
# **The loss.** Each printed loss is the sum of the ten batch losses of the epoch. It falls
# from the first epoch to the last, and once the rate has halved it keeps falling. By the last
# epoch the rate is about 0.0002, so the network hardly changes during it, and the printed
# loss should match ten times the mean squared error of the *trained* network over all 100
# points, which we compute in numpy from its weights (`state_dict`), without the engine.

# %%
def numpy_forward(state, x):
    h1 = np.maximum(0.0, x @ state["0.weight"].T + state["0.bias"])
    h2 = np.maximum(0.0, h1 @ state["2.weight"].T + state["2.bias"])
    return h2 @ state["4.weight"].T + state["4.bias"]


state = {name: np.asarray(value) for name, value in run["model"].state_dict().items()}
final_mse = np.mean((numpy_forward(state, run["x"].data) - run["y"].data) ** 2)
print(f"first epoch {losses[0]:.3f}, last epoch {losses[-1]:.3f}; "
      f"10 × MSE of the trained network (numpy): {10 * final_mse:.3f}")
assert losses[-1] < 0.3 * losses[0]
assert np.all(np.diff(losses[10:]) < 0.05)
np.testing.assert_allclose(losses[-1], 10 * final_mse, rtol=2e-3)

# Seeded: a second run prints exactly the same losses.
_, lines_again, _, _ = run_fig_7_8(seed=0)
assert lines_again == lines

# %% [markdown]
# ## The loss curve and the schedule
#
# The loss per epoch with each halving of the learning rate marked, and the rate itself
# (on a log scale, where each halving is one equal step down).

# %%
fig, (ax_loss, ax_lr) = plt.subplots(2, 1, figsize=(8, 6), sharex=True,
                                     gridspec_kw={"height_ratios": [2, 1]})
ax_loss.plot(epochs, losses, ".-", color="C0")
for halving in range(10, 100, 10):
    for ax in (ax_loss, ax_lr):
        ax.axvline(halving, color="C3", linewidth=0.8, linestyle="--", alpha=0.6)
ax_loss.set(ylabel="epoch loss (sum of 10 batch MSEs)",
            title="UDL fig. 7.8 on autograd-core: 100 epochs, lr halved every 10 (dashed)")
ax_lr.step(np.arange(101), np.append(rates, rates[-1]), where="post", color="C1")
ax_lr.set(xlabel="epoch", ylabel="learning rate", yscale="log")
fig.tight_layout()

# %% [markdown]
# **What we checked.** The lecture's script runs with only its six `torch` lines renamed. It
# initialises with He's variance, steps the learning rate down exactly as
# $0.1 \cdot 0.5^{\lfloor e/10\rfloor}$, and its loss falls from about 17 to about 3 over the
# 100 epochs (a network of 2,285 parameters fitting 100 random targets can only memorise so
# much at these rates); the last loss it prints agrees with the trained network evaluated in
# plain numpy, and the same seed gives the same run.
