"""``autograd-core render``: the command as a user runs it (a subprocess), and its errors:
one line on stderr, exit code 2, no traceback and no file written."""
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_core.cli import main

ROOT = Path(__file__).resolve().parents[1]
NEURON = ["tanh(x*w + b)", "x=2", "w=-3", "b=6.8813735870195432"]


def run(*args):
    return subprocess.run([sys.executable, "-m", "autograd_core", "render", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def assert_refused(result, *fragments, printed=""):
    assert result.returncode == 2, result
    assert result.stdout == printed
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("autograd-core render: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_svg_with_the_value_and_gradients(tmp_path):
    out = tmp_path / "graph.svg"
    result = run(*NEURON, "-o", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "tanh(x*w + b) = 0.707107",
        "  x = 2          grad -1.5",
        "  w = -3         grad 1",
        "  b = 6.88137    grad 0.5",
        f"wrote {out}"]
    svg = out.read_bytes()
    assert svg.startswith((b"<?xml", b"<svg")) and b"tanh" in svg


def test_png_from_the_suffix_or_the_format_option(tmp_path):
    result = run(*NEURON, "-o", tmp_path / "graph.png", "--rankdir", "TB")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "graph.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    result = run("(a + b) * (b + 1)", "a=2", "b=1", "-o", tmp_path / "graph.out", "--format", "png")
    assert result.returncode == 0, result.stderr
    assert "  b = 1          grad 5" in result.stdout
    assert (tmp_path / "graph.out").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_animate_writes_an_html_page(tmp_path):
    result = run(*NEURON, "-o", tmp_path / "graph.svg", "--animate", tmp_path / "backward.html")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "backward.html").read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith(("<!doctype html", "<html")) and "<svg" in page


def test_assignments_may_follow_the_options_and_unused_ones_are_noted(tmp_path):
    result = run("x * w", "-o", tmp_path / "graph.svg", "x=2", "w=3", "unused=1")
    assert result.returncode == 0, result.stderr
    assert "x * w = 6" in result.stdout
    assert result.stderr.strip() == "note: unused is not used in the expression"


@pytest.mark.parametrize("args, fragments", [
    (["x.__class__", "x=1"], ["attribute access 'x.__class__'", "column 1"]),
    (["__import__('os').system('touch {tmp}/hacked')"], ["only named functions can be called"]),
    (["x +", "x=1"], ["syntax error"]),
    (["tanh(x*w + b)", "x=2"], ["unknown name 'w'", "known variables: x"]),
    (["(" * 100_000], ["too long"]),
    (["x", "x"], ["expected NAME=NUMBER, got 'x'"]),
    (["x", "x=two"], ["'two' is not a number"]),
    (["x", "exp=1"], ["'exp' is a function name"]),
    (["x", "__x=1"], ["'__' are not allowed"]),
    (["x", "x=1", "x=2"], ["'x' is assigned twice"]),
    (["x", "x=1", "-o", "{tmp}/graph.pdf"], ["cannot tell the format", "'.pdf' is none of .svg, .png", "--format"]),
])
def test_errors_exit_2_with_one_line_and_write_nothing(tmp_path, args, fragments):
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    if "-o" not in args:
        args += ["-o", tmp_path / "graph.svg"]
    assert_refused(run(*args, "--animate", tmp_path / "backward.html"), *fragments)
    assert list(tmp_path.iterdir()) == []  # no drawing, no page, nothing the text asked for


def test_unwritable_output_is_an_error_not_a_traceback(tmp_path):
    result = run(*NEURON, "-o", tmp_path / "missing" / "graph.svg")
    printed = result.stdout  # the numbers come first: drawing is the last step
    assert printed.startswith("tanh(x*w + b) = 0.707107\n") and "wrote" not in printed
    assert_refused(result, "No such file", printed=printed)


def test_a_page_that_cannot_be_written_leaves_the_drawing_as_it_was(tmp_path):
    """Both files are written to temporary ones first: the drawing is neither written alone
    nor lost when the animation's path fails."""
    drawing = tmp_path / "graph.svg"
    drawing.write_text("the old drawing")
    result = run(*NEURON, "-o", drawing, "--animate", tmp_path / "missing" / "backward.html")
    assert_refused(result, "cannot write", "missing", printed=result.stdout)
    assert drawing.read_text() == "the old drawing"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.svg"]  # no temporary left


def test_demo_refuses_an_output_dir_it_cannot_make_before_training(tmp_path, capsys):
    from autograd_core.cli import main as cli
    blocked = tmp_path / "a file"
    blocked.write_text("")
    assert cli(["demo", "--output-dir", str(blocked)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing trained
    assert captured.err.startswith("autograd-core demo: error: cannot write pictures to")


def test_no_graphviz_is_an_error_with_a_hint(tmp_path, monkeypatch, capsys):
    import viz.render
    monkeypatch.setattr(viz.render, "find_graphviz", lambda: None)
    out = tmp_path / "graph.svg"
    assert main(["render", *NEURON, "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert "0.707107" in captured.out  # the numbers come first, and need no Graphviz
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "install" in lines[0]
    assert not out.exists()
