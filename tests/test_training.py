"""Whole training runs: the lecture's PyTorch script (fig. 7.8) and micrograd's demo.

The fig. 7.8 script (``nn.porting.FIG_7_8``) is the lecture's text (UDL ch. 7,
../shared/seeds/002_*), verbatim; the test changes only where names come from (the porting
table of the README, ``nn.porting.PORTING``), and the number of epochs.
"""
import contextlib
import io
import re

import numpy as np
import pytest

import nn
from autograd_core import Tensor, manual_seed
from autograd_core.demo import train_moons
from nn.data import make_moons
from nn.optim import SGD
from nn.optim.lr_scheduler import LambdaLR
from nn.porting import FIG_7_8, PORTING, port

def ported(script: str, epochs: int) -> str:
    return port(script).replace("for epoch in range(100):", f"for epoch in range({epochs}):")


def test_porting_changes_only_names():
    changed = [(a, b) for a, b in zip(FIG_7_8.splitlines(), ported(FIG_7_8, 100).splitlines())
               if a != b]
    # the three import lines, torch.optim.SGD(...) and the two torch.randn(...) lines
    assert len(changed) == 6
    assert all("torch" in before for before, _ in changed)


def test_port_covers_every_row_of_the_readme_table_and_runs(tmp_path):
    """Each row of "Coming from PyTorch", an import line that ends the script or in \\r\\n too."""
    source = (
        "import torch\r\n"
        "import torch.nn as nn\n"
        "from torch.utils.data import TensorDataset\n"
        "torch.manual_seed(0)\n"
        "model = nn.Linear(2, 1)\n"
        "x = torch.tensor([[1.0, 2.0]]) + torch.randn(1, 2) * 0\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1)\n"
        f"torch.save(model.state_dict(), {str(tmp_path / 'w.npz')!r})\n"
        f"model.load_state_dict(torch.load({str(tmp_path / 'w.npz')!r}))\n"
        "data = TensorDataset(x)\n"
        "import torch, torch.nn as nn")
    assert all(re.search(pattern, source, re.MULTILINE) for pattern, _ in PORTING)  # each used
    script = port(source)
    assert "torch" not in script
    exec(compile(script, "ported.py", "exec"), {})
    with pytest.raises(ValueError, match="no rule for 'y = torch.zeros"):
        port("y = torch.zeros(3)")


def test_lecture_fig_7_8_script_trains_and_its_loss_falls():
    manual_seed(0)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), pytest.warns(FutureWarning, match="kaiming_uniform"):
        exec(compile(ported(FIG_7_8, 30), "fig_7_8.py", "exec"), {})
    losses = [float(v) for v in re.findall(r"Epoch +\d+, loss ([\d.]+)", printed.getvalue())]
    assert len(losses) == 30
    assert losses[-1] < 0.75 * losses[0]
    assert np.all(np.diff(losses[10:]) < 0.05)  # once the rate halves, it keeps falling


# ----- micrograd's demo: 2-16-16-1, SVM loss, 100 steps, with both engines -----
def moons():
    points, labels = make_moons(n_samples=100, noise=0.1, random_state=1337)
    return points, 2.0 * labels - 1.0


def test_tensor_mlp_reaches_full_accuracy_on_two_moons():
    model, losses, accuracy = train_moons(steps=100, seed=0, progress=False)
    assert accuracy == 1.0
    assert losses[-1] < 0.05 < losses[0]


def test_scalar_mlp_reaches_full_accuracy_and_follows_the_tensor_mlp():
    """micrograd's loop, written as in its demo notebook, on nn.scalar.MLP.

    Both MLPs draw their weights from one stream in the same order, so they start equal and,
    with the same loss and optimiser, their losses agree step by step.
    """
    points, labels = moons()
    model = nn.scalar.MLP(2, [16, 16], 1, generator=np.random.default_rng(0))
    optimizer = SGD(model.parameters(), lr=1.0, weight_decay=2e-4)
    scheduler = LambdaLR(optimizer, lambda step: 1.0 - 0.9 * step / 100)
    inputs, targets = points.tolist(), labels.tolist()
    losses = []
    for _ in range(100):
        scores = [model(x) for x in inputs]
        loss = nn.functional.hinge_loss(scores, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.data)
    accuracy = np.mean([(s.data > 0) == (t > 0) for s, t in zip(scores, targets)])
    assert accuracy == 1.0
    _, tensor_losses, _ = train_moons(steps=100, seed=0, progress=False)
    np.testing.assert_allclose(losses, tensor_losses, rtol=1e-6, atol=1e-9)


def test_scalar_and_tensor_mlps_start_from_the_same_weights():
    scalar = nn.scalar.MLP(2, [16, 16], 1, generator=np.random.default_rng(0))
    generator = np.random.default_rng(0)
    tensor = nn.MLP(2, [16, 16], 1)
    for layer in tensor:
        if isinstance(layer, nn.Linear):
            nn.init.uniform_(layer.weight, -1.0, 1.0, generator=generator)
            nn.init.zeros_(layer.bias)
    x = [0.3, -0.7]
    assert scalar(x).data == pytest.approx(tensor(Tensor([x])).item(), rel=1e-12)
