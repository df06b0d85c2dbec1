"""The demo, in two parts.

1. Fit the lecture's toy model (Understanding Deep Learning, ch. 7)
   ``f(x) = b3 + w3*cos(b2 + w2*exp(b1 + w1*sin(b0 + w0*x)))`` with ``Value``s and plain
   gradient descent: the data are points drawn from it with known parameters plus a little
   noise, and the fit starts from perturbed parameters.
2. Train an MLP on two moons with the ``nn`` stack, as micrograd's demo does: a 2-16-16-1
   ReLU network, the max-margin (SVM) loss, SGD with a decaying learning rate, 100 steps.
"""
from __future__ import annotations

import os
import random
import sys

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


def train_moons(steps: int = 100, seed: int = 0, progress: bool = True, history=None):
    """micrograd's demo with ``nn``: returns the model, the losses and the final accuracy.

    ``history``, a dict, gets the per-step "loss" and "accuracy" lists and the data.

    The weights start as micrograd's do (uniform in [-1, 1], biases 0); micrograd's L2 term
    1e-4·Σp² is SGD's ``weight_decay=2e-4`` (its gradient is 2·1e-4·p).
    """
    import numpy as np
    from tqdm import tqdm

    import nn
    from nn.data import make_moons
    from nn.optim import SGD
    from nn.optim.lr_scheduler import LambdaLR

    from .tensor import Tensor

    points, labels = make_moons(n_samples=100, noise=0.1, random_state=1337)
    x, y = Tensor(points), Tensor(2.0 * labels[:, None] - 1.0)  # labels -1 and +1
    generator = np.random.default_rng(seed)
    model = nn.MLP(2, [16, 16], 1)
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.uniform_(layer.weight, -1.0, 1.0, generator=generator)
            nn.init.zeros_(layer.bias)
    optimizer = SGD(model.parameters(), lr=1.0, weight_decay=2e-4)
    scheduler = LambdaLR(optimizer, lambda step: 1.0 - 0.9 * step / steps)
    losses, accuracy = [], 0.0
    bar = tqdm(range(steps), desc="two moons", disable=not progress, leave=True)
    for _ in bar:
        scores = model(x)
        loss = nn.functional.hinge_loss(scores, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        accuracy = float(((scores.data > 0) == (y.data > 0)).mean())
        losses.append(loss.item())
        if history is not None:
            history.setdefault("accuracy", []).append(accuracy)
        bar.set_postfix(loss=f"{loss.item():.4f}", accuracy=f"{accuracy:.0%}", refresh=False)
    if history is not None:
        history.update(loss=losses, points=points, labels=labels)
    return model, losses, accuracy


def write_pictures(folder, model, history) -> list[str]:
    """The loss curve, the decision boundary and one neuron's graph, written into ``folder``."""
    from viz import draw_dot
    from viz.plots import plot_decision_boundary, plot_history

    from .value import Value

    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, name) for name in
             ("loss.png", "decision_boundary.png", "neuron.svg")]
    figure = plot_history({"loss": history["loss"], "accuracy": history["accuracy"]},
                          title="two moons: hinge loss and training accuracy")
    figure.savefig(paths[0], dpi=120)
    figure = plot_decision_boundary(model, history["points"], history["labels"])
    figure.savefig(paths[1], dpi=120)
    # The first neuron of the trained network, as Values: relu(w·x + b) on the first point
    weights, bias = model[0].weight.data[0], model[0].bias.data[0]
    x = [Value(float(v), label=f"x{i}", requires_grad=False)
         for i, v in enumerate(history["points"][0])]
    w = [Value(float(v), label=f"w{i}") for i, v in enumerate(weights)]
    b = Value(float(bias), label="b")
    out = (w[0] * x[0] + w[1] * x[1] + b).relu()
    out.label = "neuron"
    out.backward()
    draw_dot(out).render(paths[2])
    return paths


def main(args=None) -> int:
    folder = getattr(args, "output_dir", None) or "autograd-core-demo"
    try:  # before the training, so that a folder that cannot be made fails at once
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        print(f"autograd-core demo: error: cannot write pictures to {folder}: "
              f"{error.strerror or error}", file=sys.stderr)
        return 2
    print("1. Fitting f(x) = b3 + w3*cos(b2 + w2*exp(b1 + w1*sin(b0 + w0*x))) with Values")
    params, losses = fit(report_every=100)
    print("parameter   fitted    true")
    for name, p in params.items():
        print(f"{name:>9}  {p.data:7.3f}  {TRUE_PARAMETERS[name]:6.3f}")
    print(f"loss fell from {losses[0]:.4f} to {losses[-1]:.6f}")
    print("\n2. Training an MLP 2-16-16-1 on two moons (micrograd's demo) with nn")
    history = {}
    model, losses, accuracy = train_moons(history=history)
    print(f"{model.num_parameters()} parameters; loss fell from {losses[0]:.4f} to "
          f"{losses[-1]:.4f}; training accuracy {accuracy:.0%}")
    paths = write_pictures(folder, model, history)
    print(f"\n3. Pictures written to {folder}/: " + ", ".join(p.rsplit("/", 1)[-1] for p in paths)
          + " (the loss curve, the decision boundary, the first neuron's graph)")
    return 0
