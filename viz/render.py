"""Running Graphviz: a system ``dot`` if there is one, else the ``graphviz-pure`` wheel's binary.

``graphviz-pure`` (a dependency) installs a program called ``graphviz-pure``, not ``dot``, in
the environment's scripts folder, which need not be on ``PATH`` (``pip install --user``, an
unactivated virtualenv). So it is found through the package's own file list.
"""
from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess

FORMATS = ("svg", "png", "jpeg", "gif", "json", "plain", "dot", "xdot", "canon")


class GraphvizNotFoundError(RuntimeError):
    """No program to lay out and draw DOT: says what to install (``.source`` still works)."""


class GraphvizError(RuntimeError):
    """Graphviz ran and failed; the message has what it printed."""


def find_graphviz() -> str | None:
    """The path of the program that renders DOT here, or None: a system ``dot`` first."""
    system_dot = shutil.which("dot")
    if system_dot:
        return system_dot
    try:
        files = importlib.metadata.distribution("graphviz-pure").files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name in ("graphviz-pure", "graphviz-pure.exe"):
            path = str(file.locate())
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
    return shutil.which("graphviz-pure")


def run_graphviz(source: str, format: str = "svg", timeout: float = 300.0) -> bytes:
    """Lay out ``source`` (DOT text) and draw it in ``format``; the output's bytes."""
    if format not in FORMATS:
        raise ValueError(f"unknown output format {format!r}; use one of {', '.join(FORMATS)}")
    program = find_graphviz()
    if program is None:
        raise GraphvizNotFoundError(
            "no Graphviz program found to render the drawing: `pip install graphviz-pure` "
            "(or install Graphviz's `dot`); the DOT text is in `.source` meanwhile")
    try:
        done = subprocess.run([program, f"-T{format}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise GraphvizError(f"{program} took more than {timeout:g} s; draw fewer nodes "
                            f"(max_nodes=...)") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise GraphvizError(f"{os.path.basename(program)} failed ({done.returncode}): {message}")
    return done.stdout
