"""The README's examples run as written, and the demo fits the toy model."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_core import demo

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_the_first_code_block_has_exactly_the_two_commands():
    first = re.search(r"```\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert len(first) == 2
    assert "install ." in first[0] and "demo" in first[0]
    assert 'install ".[test]"' in first[1] and "pytest" in first[1]


@pytest.mark.parametrize("block", re.findall(r"```python\n(.*?)```", README, re.S))
def test_readme_python_examples_run(block, capsys):
    exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    expected = [line[2:] for line in block.splitlines() if line.startswith("# ")]
    if expected:  # comments right after print(...) show its output
        assert printed.splitlines() == expected


def test_demo_loss_falls_by_two_orders_of_magnitude():
    lines = []
    params, losses = demo.fit(steps=200, out=lines.append)
    assert losses[-1] < losses[0] / 100
    assert all(b <= a * 1.0001 for a, b in zip(losses, losses[1:]))  # it falls all the way
    assert lines[0].startswith("step    0   loss")


def test_demo_command_runs_and_writes_its_pictures(tmp_path):
    result = subprocess.run([sys.executable, "-m", "autograd_core", "demo", "--output-dir",
                             str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    assert "loss fell from" in result.stdout and "training accuracy 100%" in result.stdout
    assert f"Pictures written to {tmp_path / 'out'}" in result.stdout
    assert (tmp_path / "out" / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "out" / "decision_boundary.png").read_bytes()[:4] == b"\x89PNG"
    svg = (tmp_path / "out" / "neuron.svg").read_text()
    assert svg.startswith("<?xml") and "neuron" in svg and "relu" in svg


def test_scalar_benchmark_smoke_run():
    """The benchmark script runs (it asserts no timings; this only keeps it working)."""
    result = subprocess.run([sys.executable, "benchmarks/bench_scalar.py", "--quick"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "B/node" in result.stdout
