"""The demo: fit the lecture's toy model with ``Value``s and plain gradient descent.

The model (Understanding Deep Learning, ch. 7) is
``f(x) = b3 + w3*cos(b2 + w2*exp(b1 + w1*sin(b0 + w0*x)))``; the data are points drawn from it
with known parameters plus a little noise, and the fit starts from perturbed parameters.
"""
from __future__ import annotations

import random

from .value import Value

# The parameters the data are drawn from, in the lecture's order.
TRUE_PARAMETERS = {"b0": 0.3, "w0": 1.1, "b1": -0.4, "w1": 0.9,
                   "b2": 0.2, "w2": 0.8, "b3": 0.1, "w3": 1.5}


def toy_model(x, p):
    """f(x) for parameters ``p`` (the eight names); ``x`` or the parameters are Values."""
    f0 = p["b0"] + p["w0"] * x
    h1 = f0.sin()
    f1 = p["b1"] + p["w1"] * h1
    h2 = f1.exp()
    f2 = p["b2"] + p["w2"] * h2
    h3 = f2.cos()
    return p["b3"] + p["w3"] * h3


def make_data(n_points: int = 40, noise: float = 0.01, seed: int = 0):
    """Points (x, y) with y = f(x; TRUE_PARAMETERS) + Gaussian noise."""
    rng = random.Random(seed)
    xs = [rng.uniform(-2.0, 2.0) for _ in range(n_points)]
    ys = [toy_model(Value(x, requires_grad=False), TRUE_PARAMETERS).data + rng.gauss(0.0, noise)
          for x in xs]
    return xs, ys


def fit(steps: int = 400, learning_rate: float = 0.02, seed: int = 0, report_every: int = 50,
        out=print):
    """Gradient descent on the mean squared error; returns the parameters and the losses."""
    rng = random.Random(seed + 1)
    xs, ys = make_data(seed=seed)
    params = {name: Value(value + rng.uniform(-0.3, 0.3), label=name)
              for name, value in TRUE_PARAMETERS.items()}
    losses = []
    for step in range(steps + 1):
        loss = sum((toy_model(x, params) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
        for p in params.values():
            p.grad = 0.0
        loss.backward()
        for p in params.values():
            p.data -= learning_rate * p.grad
        losses.append(loss.data)
        if report_every and step % report_every == 0:
            out(f"step {step:4d}   loss {loss.data:.6f}")
    return params, losses


def main(args=None) -> int:
    print("Fitting f(x) = b3 + w3*cos(b2 + w2*exp(b1 + w1*sin(b0 + w0*x))) with Values")
    params, losses = fit()
    print("parameter   fitted    true")
    for name, p in params.items():
        print(f"{name:>9}  {p.data:7.3f}  {TRUE_PARAMETERS[name]:6.3f}")
    print(f"loss fell from {losses[0]:.4f} to {losses[-1]:.6f}")
    return 0
