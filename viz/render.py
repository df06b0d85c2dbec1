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
from pathlib import PurePath

FORMATS = ("svg", "png", "jpeg", "gif", "json", "plain", "dot", "xdot", "canon")
# graphviz-pure has no gif writer; a system ``dot`` usually has one
PURE_FORMATS = tuple(f for f in FORMATS if f != "gif")
SUFFIXES = {"jpg": "jpeg", "gv": "dot"}  # file suffixes that are not the format's own name


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


def format_of(path, formats=FORMATS, default: str = "svg") -> str:
    """The format a file's suffix asks for (``.jpg`` is jpeg); ``default`` without a suffix.

    A suffix naming none of ``formats`` is an error rather than a file whose content does
    not match its name."""
    suffix = PurePath(path).suffix.lower()
    if not suffix:
        return default
    format = SUFFIXES.get(suffix[1:], suffix[1:])
    if format in formats:
        return format
    known = [f".{f}" for f in formats] + [f".{s}" for s, f in SUFFIXES.items() if f in formats]
    raise ValueError(f"cannot tell the format from {str(path)!r}: its suffix {suffix!r} is none "
                     f"of {', '.join(known)}")


def run_graphviz(source: str, format: str = "svg", timeout: float = 300.0) -> bytes:
    """Lay out ``source`` (DOT text) and draw it in ``format``; the output's bytes."""
    if format not in FORMATS:
        raise ValueError(f"unknown output format {format!r}; use one of {', '.join(FORMATS)}")
    program = find_graphviz()
    if program is None:
        raise GraphvizNotFoundError(
            "no Graphviz program found to render the drawing: `pip install graphviz-pure` "
            "(or install Graphviz's `dot`); the DOT text is in `.source` meanwhile")
    if format not in PURE_FORMATS and os.path.basename(program).startswith("graphviz-pure"):
        raise GraphvizError(f"graphviz-pure cannot draw {format}: install Graphviz's `dot` for "
                            f"it, or use one of {', '.join(PURE_FORMATS)}")
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
