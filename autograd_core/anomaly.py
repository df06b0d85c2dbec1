"""Anomaly detection: find the first operation that makes a nan (or an inf), forward or backward.

Inside ``with detect_anomaly():`` every recorded operation is checked as it is made, and
every gradient as backward computes it. The first bad one raises ``FloatingPointError``
naming the op, its position among the operations recorded under detection, and the file and
line of your code that made it:

    >>> from autograd_core import Value, detect_anomaly
    >>> x = Value(0.0)
    >>> with detect_anomaly():  # doctest: +ELLIPSIS
    ...     y = x.sqrt() * 0.0       # forward is fine: 0 * 0
    ...     y.backward()             # backward of sqrt at 0: 0 / 0
    Traceback (most recent call last):
    ...
    FloatingPointError: anomaly: backward of 'sqrt' (operation #0 under detect_anomaly, made at <doctest ...>:2) gave nan in the gradient of its input 0

Off, it costs nothing: no check runs while building graphs (detection is a recorder, like
a ``Tape``, and recorders are skipped while none is open), and ``backward`` reads one flag.
"""
from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

from .graph import Node, _mode, _Recorder

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_MAX_SITES = 100_000  # creation sites remembered (the oldest are forgotten first)


class detect_anomaly(_Recorder, contextlib.ContextDecorator):
    """Raise ``FloatingPointError`` at the first nan (with ``check_inf``, also inf) that an
    operation makes, in its forward result or in a gradient it passes back.

    A context manager or a decorator, for this thread. Sites are remembered by node identity
    for the last 100,000 operations recorded under detection.
    """

    def __init__(self, check_inf: bool = False):
        self.check_inf = check_inf
        self._sites: dict[int, tuple[int, str]] = {}  # id(node) -> (position, "file:line")
        self._count = 0
        self._previous = []

    def _recreate_cm(self):
        return type(self)(self.check_inf)

    def __enter__(self):
        super().__enter__()
        self._previous.append(_mode.anomaly)
        _mode.anomaly = self
        return self

    def __exit__(self, *exc):
        _mode.anomaly = self._previous.pop()
        super().__exit__(*exc)
        if not self._previous:
            self._sites.clear()
        return False

    # ----- checks -----
    def _bad(self, data) -> str:
        """'nan' or 'inf' if ``data`` holds one (that this detection looks for), else ''."""
        data = data.data if isinstance(data, Node) else data
        if type(data) is float:
            if data != data:
                return "nan"
            return "inf" if self.check_inf and data in (float("inf"), float("-inf")) else ""
        data = np.asarray(data)
        if data.dtype.kind not in "fc":
            return ""
        if np.isnan(data).any():
            return "nan"
        return "inf" if self.check_inf and np.isinf(data).any() else ""

    def _record(self, node: Node) -> None:
        position = self._count
        self._count += 1
        if len(self._sites) >= _MAX_SITES:
            for key in list(self._sites)[: _MAX_SITES // 2]:
                del self._sites[key]
        site = self._sites[id(node)] = (position, _user_site())
        bad = self._bad(node.data)
        if bad:
            raise FloatingPointError(
                f"anomaly: the forward result of '{node.op}' ({_where(site)}) contains {bad}")

    def check_gradient(self, node: Node, input_index: int, gradient) -> None:
        """Called by backward with each gradient an op passes to one of its inputs."""
        bad = self._bad(gradient)
        if bad:
            site = self._sites.get(id(node))
            where = _where(site) if site else "made before detection started"
            raise FloatingPointError(
                f"anomaly: backward of '{node.op}' ({where}) gave {bad} in the gradient of its "
                f"input {input_index}")


class set_detect_anomaly:
    """Turn anomaly detection on or off for this thread, right away; as a context manager,
    restore the previous state on exit (like ``set_grad_enabled``)."""

    def __init__(self, mode: bool, check_inf: bool = False):
        self._started = None  # the detection this call turned on
        self._stopped = []  # the detections this call turned off, innermost first
        if mode and _mode.anomaly is None:
            self._started = detect_anomaly(check_inf).__enter__()
        elif not mode:
            while _mode.anomaly is not None:
                self._stopped.append(_mode.anomaly)
                _mode.anomaly.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._started is not None and _mode.anomaly is self._started:
            self._started.__exit__(None, None, None)
        for detection in reversed(self._stopped):
            detection.__enter__()
        return False


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on in this thread."""
    return _mode.anomaly is not None


def _user_site() -> str:
    """``file:line`` of the innermost frame outside this package (the user's code)."""
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith(_PACKAGE_DIR)
                                 or frame.f_code.co_filename == contextlib.__file__):
        frame = frame.f_back
    if frame is None:
        return "unknown"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _where(site) -> str:
    position, place = site
    return f"operation #{position} under detect_anomaly, made at {place}"
