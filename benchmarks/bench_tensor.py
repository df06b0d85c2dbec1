"""Benchmark the ``Tensor`` engine of autograd_core against hand-written numpy and peers.

Runs two workloads and prints a table (optionally JSON):

1. One training step of an MLP 784-256-256-10 (ReLU, softmax cross-entropy) on a
   batch of 128: forward, backward, SGD update (lr 0.01), in float32 and float64.
   The reference is the same step written by hand in plain numpy (forward and the
   hand-derived backward): the limit for an engine that computes with numpy.
   Every engine's time is reported as a ratio to it. Peers (torch, mygrad, HIPS
   autograd) are measured when importable; all engines start from the same
   weights and their step-0 losses and gradients are checked against numpy's.
   Engines are alternated step by step (in a rotating order) so machine noise
   hits them equally; except torch, whose OpenMP workers and numpy's OpenBLAS
   workers steal each other's cores when alternated that closely: torch is
   timed in a child process, alternated with numpy in blocks (see
   ``bench_mlp_blocks``), and its ratio is to the numpy measured there.
2. Per-op overhead on tiny tensors: ``(x * 2 + 1).sum()`` on ``x`` of shape (4,),
   forward + backward, reported in microseconds per op (3 ops).

This is a benchmark, not a test: nothing here asserts on timings.  Targets are
printed next to the measured figures for the reader.

With ``--mlp-only``, workload 1 alone, without its forward / backward / update
split: run.py uses it for its runs after the first BLAS thread count (the tiny
tensors of workload 2 use no BLAS, so one run of them is enough).

Usage:
    python benchmarks/bench_tensor.py [--steps N] [--json out.json] [--quick]
                                      [--blas-threads N] [--warmup N] [--mlp-only]
"""

import argparse
import ctypes
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np

# Running ``python benchmarks/bench_tensor.py`` puts benchmarks/ on sys.path,
# not the repository root; add the root so the checkout's autograd_core is
# the one measured (even when it is not pip-installed).
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from report import finish  # noqa: E402  (benchmarks/ is on sys.path when run)

SEED = 0
SIZES = (784, 256, 256, 10)
BATCH = 128
LR = 0.01
DTYPES = ("float32", "float64")
TARGET_RATIO = 1.10        # autograd_core step / numpy step, both dtypes
TARGET_US_PER_OP = 3.0     # autograd_core, tiny tensors, forward + backward
BLOCK_PAUSE_S = 0.3        # between blocks in the isolated child (OpenBLAS spins ~0.1 s)
BLOCK_STEPS = 20           # timed steps per block there


# --------------------------------------------------------------------------
# The problem: same weights, inputs and labels for every engine.
# --------------------------------------------------------------------------

def make_problem(dtype):
    """He-uniform weights, zero biases, random inputs and integer labels (seeded).

    Drawn in float64 from one ``numpy.random.default_rng(SEED)`` and cast, so the
    float32 and float64 problems are the same numbers up to rounding.
    Returns ``(params, X, y)`` with params ``[W1, b1, W2, b2, W3, b3]``.
    """
    rng = np.random.default_rng(SEED)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        limit = np.sqrt(6.0 / fan_in)
        params.append(rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(dtype))
        params.append(np.zeros(fan_out, dtype=dtype))
    X = rng.standard_normal((BATCH, SIZES[0])).astype(dtype)
    y = rng.integers(0, SIZES[-1], size=BATCH)
    return params, X, y


# --------------------------------------------------------------------------
# Runners: one per engine.  Each holds its own copy of the parameters.
#   step()            full training step, returns the loss (a Python float)
#   loss_and_grads()  forward + backward only: (loss, [grads as numpy arrays])
# --------------------------------------------------------------------------

class NumpyRunner:
    """The reference: forward and hand-derived backward in plain, in-place numpy."""

    def __init__(self, params, X, y):
        self.params = [p.copy() for p in params]
        self.X, self.y = X, y
        self.rows = np.arange(len(y))

    def _forward_backward(self):
        W1, b1, W2, b2, W3, b3 = self.params
        X, y, rows = self.X, self.y, self.rows
        n = len(y)
        # forward
        h1 = X @ W1
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ W2
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ W3
        z += b3
        z -= z.max(axis=1, keepdims=True)          # shifted logits
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s[:, 0]) - z[rows, y])
        # backward: d loss / d logits = (softmax - onehot) / n
        d = e
        d /= s
        d[rows, y] -= 1
        d /= n
        dW3 = h2.T @ d
        db3 = d.sum(axis=0)
        dh2 = d @ W3.T
        dh2 *= h2 > 0
        dW2 = h1.T @ dh2
        db2 = dh2.sum(axis=0)
        dh1 = dh2 @ W2.T
        dh1 *= h1 > 0
        dW1 = X.T @ dh1
        db1 = dh1.sum(axis=0)
        return loss, [dW1, db1, dW2, db2, dW3, db3]

    def step(self):
        loss, grads = self._forward_backward()
        for p, g in zip(self.params, grads):
            g *= LR
            p -= g
        return float(loss)

    def loss_and_grads(self):
        loss, grads = self._forward_backward()
        return float(loss), grads


class OursRunner:
    """autograd_core.Tensor, written as a PyTorch user would."""

    def __init__(self, Tensor, params, X, y):
        from nn.optim import SGD
        self.params = [Tensor(p, requires_grad=True) for p in params]
        self.optimizer = SGD(self.params, lr=LR)
        self.x = Tensor(X)
        self.y = y
        self.rows = np.arange(len(y))

    def forward(self):
        W1, b1, W2, b2, W3, b3 = self.params
        h = (self.x @ W1 + b1).relu()
        h = (h @ W2 + b2).relu()
        logits = h @ W3 + b3
        return -(logits.log_softmax(axis=1)[self.rows, self.y]).mean()

    def update(self):
        self.optimizer.step()  # nn.optim.SGD, as a PyTorch user would write it
        self.optimizer.zero_grad()

    def step(self):
        loss = self.forward()
        loss.backward()
        self.update()
        return loss.item()

    def loss_and_grads(self):
        loss = self.forward()
        loss.backward()
        grads = [p.grad for p in self.params]
        for p in self.params:
            p.grad = None
        return loss.item(), grads


class TorchRunner:
    """torch on the CPU, same composition (matmul + bias, relu, log_softmax, index, mean)."""

    def __init__(self, torch, params, X, y):
        self.torch = torch
        self.params = [torch.tensor(p).requires_grad_() for p in params]
        self.x = torch.tensor(X)
        self.y = torch.tensor(y, dtype=torch.long)
        self.rows = torch.arange(len(y))

    def forward(self):
        torch = self.torch
        W1, b1, W2, b2, W3, b3 = self.params
        h = torch.relu(self.x @ W1 + b1)
        h = torch.relu(h @ W2 + b2)
        logits = h @ W3 + b3
        return -(torch.log_softmax(logits, dim=1)[self.rows, self.y]).mean()

    def step(self):
        loss = self.forward()
        loss.backward()
        with self.torch.no_grad():
            for p in self.params:
                p.add_(p.grad, alpha=-LR)   # what torch.optim.SGD does
                p.grad = None
        return loss.item()

    def loss_and_grads(self):
        loss = self.forward()
        loss.backward()
        grads = [p.grad.numpy().copy() for p in self.params]
        for p in self.params:
            p.grad = None
        return loss.item(), grads


class MygradRunner:
    """mygrad tensors; updates in place on ``.data`` after backward (mygrad's idiom)."""

    def __init__(self, mg, params, X, y):
        from mygrad.nnet.activations import logsoftmax, relu
        self.relu, self.logsoftmax = relu, logsoftmax
        self.params = [mg.tensor(p.copy()) for p in params]
        self.x = mg.tensor(X, constant=True)
        self.y = y
        self.rows = np.arange(len(y))

    def forward(self):
        W1, b1, W2, b2, W3, b3 = self.params
        relu = self.relu
        h = relu(self.x @ W1 + b1)
        h = relu(h @ W2 + b2)
        logits = h @ W3 + b3
        return -(self.logsoftmax(logits, axis=1)[self.rows, self.y].mean())

    def step(self):
        loss = self.forward()
        loss.backward()
        for p in self.params:
            p.data -= LR * p.grad   # grads are nulled when p enters the next graph
        return loss.item()

    def loss_and_grads(self):
        loss = self.forward()
        loss.backward()
        grads = [np.array(p.grad) for p in self.params]
        for p in self.params:
            p.null_grad()
        return loss.item(), grads


class HipsRunner:
    """HIPS autograd: a loss function of the parameter list, ``value_and_grad``.

    ReLU is written ``z * (z > 0)``, not ``anp.maximum(z, 0.0)``: autograd's VJP
    of ``maximum`` (``balanced_eq``) returns float64 for float32 inputs, which
    would run the float32 problem's backward GEMMs in float64 (more work than
    the others do).  The update casts gradients to the parameter dtype, a no-op
    unless some VJP upcasts (the agreement check prints the gradient dtypes).
    """

    def __init__(self, modules, params, X, y):
        anp, value_and_grad, logsumexp = modules
        self.params = [p.copy() for p in params]
        self.X, self.y = X, y
        self.rows = np.arange(len(y))

        def loss_fn(params, X, y, rows):
            W1, b1, W2, b2, W3, b3 = params
            z = anp.dot(X, W1) + b1
            h = z * (z > 0)
            z = anp.dot(h, W2) + b2
            h = z * (z > 0)
            logits = anp.dot(h, W3) + b3
            log_probs = logits - logsumexp(logits, axis=1, keepdims=True)
            return -anp.mean(log_probs[rows, y])

        self.value_and_grad = value_and_grad(loss_fn)

    def step(self):
        loss, grads = self.value_and_grad(self.params, self.X, self.y, self.rows)
        self.params = [p - LR * g.astype(p.dtype, copy=False)
                       for p, g in zip(self.params, grads)]
        return float(loss)

    def loss_and_grads(self):
        loss, grads = self.value_and_grad(self.params, self.X, self.y, self.rows)
        return float(loss), list(grads)


# --------------------------------------------------------------------------
# Engines: import each one, or record why it is skipped.
# --------------------------------------------------------------------------

@dataclass
class Engine:
    """One engine: a name, a factory ``make(params, X, y) -> runner`` and a tiny-op loop.

    ``make`` is None when the engine could not be imported; ``note`` then says why,
    and every workload skips it instead of failing.
    """
    name: str
    make: object = None
    tiny: object = None        # tiny(n) -> seconds for n iterations of the tiny workload
    version: str = ""
    location: str = ""
    note: str = ""
    extra: dict = field(default_factory=dict)
    isolated: bool = False     # MLP step timed in a child process (see bench_mlp_blocks)

    @property
    def available(self):
        return self.make is not None


def _dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return ""


def load_engines(blas_threads):
    """Import every engine; return a list of Engine objects (numpy first, ours second)."""
    engines = []

    ref = Engine("numpy", make=NumpyRunner, version=np.__version__,
                 location=os.path.dirname(np.__file__))
    ref.tiny = _tiny_numpy
    ref.note = "reference: hand-written forward + backward (tiny workload: forward only)"
    engines.append(ref)

    ours = Engine("autograd_core")
    try:
        import autograd_core
        from autograd_core import Tensor
        ours.make = lambda p, X, y: OursRunner(Tensor, p, X, y)
        ours.tiny = lambda n: _tiny_pytorch_style(Tensor(np.ones(4), requires_grad=True), n)
        ours.version = getattr(autograd_core, "__version__", "")
        ours.location = os.path.dirname(autograd_core.__file__ or "")
    except Exception as exc:  # not written yet, or mid-edit: skip, don't fail
        ours.note = f"not importable ({type(exc).__name__}: {exc})"
    engines.append(ours)

    tr = Engine("torch")
    try:
        import torch
        requested = blas_threads or os.cpu_count() or 1
        torch.set_num_threads(requested)
        tr.make = lambda p, X, y: TorchRunner(torch, p, X, y)
        tr.tiny = lambda n: _tiny_pytorch_style(
            torch.ones(4, dtype=torch.float64, requires_grad=True), n)
        tr.version = torch.__version__
        tr.location = os.path.dirname(torch.__file__)
        tr.extra = {"num_threads_set": requested,
                    "num_threads": torch.get_num_threads(),
                    "num_interop_threads": torch.get_num_interop_threads()}
        tr.isolated = True
        tr.note = (f"CPU, torch.set_num_threads({requested})"
                   + (" to match numpy's BLAS" if blas_threads else " (= CPU count; numpy's "
                      "BLAS thread count unknown)"))
    except Exception as exc:
        tr.note = f"not importable ({type(exc).__name__}: {exc}); pip install torch==2.13.0"
    engines.append(tr)

    mgr = Engine("mygrad")
    try:
        import mygrad
        import mygrad.nnet.activations  # noqa: F401  (used by the runner)
        mgr.make = lambda p, X, y: MygradRunner(mygrad, p, X, y)
        mgr.tiny = lambda n: _tiny_mygrad(mygrad, n)
        mgr.version = getattr(mygrad, "__version__", "") or _dist_version("mygrad")
        mgr.location = os.path.dirname(mygrad.__file__)
    except Exception as exc:
        mgr.note = f"not importable ({type(exc).__name__}: {exc}); pip install mygrad"
    engines.append(mgr)

    hips = Engine("autograd")
    try:
        import autograd
        import autograd.numpy as anp
        from autograd import grad, value_and_grad
        from autograd.scipy.special import logsumexp
        hips.make = lambda p, X, y: HipsRunner((anp, value_and_grad, logsumexp), p, X, y)
        hips.tiny = lambda n: _tiny_hips(anp, grad, n)
        hips.version = _dist_version("autograd")
        hips.location = os.path.dirname(autograd.__file__)
        hips.note = "HIPS autograd, value_and_grad; ReLU as z * (z > 0) (see HipsRunner)"
    except Exception as exc:
        hips.note = f"not importable ({type(exc).__name__}: {exc}); pip install autograd"
    engines.append(hips)
    return engines


# --------------------------------------------------------------------------
# Workload 1: MLP training step.
# --------------------------------------------------------------------------

def check_agreement(engines, dtype):
    """Step-0 loss and gradients of every engine from the same weights, vs numpy.

    Validates the workload: every engine must compute the same thing.  Expect
    differences around 1e-15 in float64 and 1e-6 in float32 (rounding, and
    a different summation order inside BLAS).
    """
    params, X, y = make_problem(dtype)
    out = {}
    ref_loss, ref_grads = NumpyRunner(params, X, y).loss_and_grads()
    for eng in engines:
        if not eng.available:
            continue
        try:
            loss, grads = eng.make(params, X, y).loss_and_grads()
        except Exception as exc:
            out[eng.name] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
            continue
        grads = [np.asarray(g) for g in grads]
        scale = max(float(np.max(np.abs(g))) for g in ref_grads)
        out[eng.name] = {
            "loss": loss,
            "loss_abs_diff": abs(loss - ref_loss),
            "grad_max_abs_diff": max(float(np.max(np.abs(g.astype(np.float64) - r)))
                                     for g, r in zip(grads, ref_grads)),
            "grad_max_abs": scale,
            "grad_dtypes": sorted({str(g.dtype) for g in grads}),
        }
    return out


def _make_runners(engines, dtype):
    params, X, y = make_problem(dtype)
    runners, errors = {}, {}
    for eng in engines:
        if eng.available:
            try:
                runners[eng.name] = eng.make(params, X, y)
            except Exception as exc:
                errors[eng.name] = f"{type(exc).__name__}: {str(exc)[:300]}"
    return runners, errors


def _timed_step(runner):
    t0 = time.perf_counter()
    loss = runner.step()
    return time.perf_counter() - t0, loss


def _summaries(names, times, losses, errors, ref_name="numpy"):
    """Median / min / max ms per engine, and ratios to ``ref_name`` (same dict)."""
    out = {}
    for name in names:
        ts = times[name]
        if name in errors or not ts:
            out[name] = {"error": errors.get(name, "no timed step")}
            continue
        out[name] = {
            "median_ms": statistics.median(ts) * 1e3,
            "min_ms": min(ts) * 1e3,
            "max_ms": max(ts) * 1e3,
            "steps": len(ts),
            "first_loss": losses[name][0],
            "last_loss": losses[name][-1],
            "step_ms": [t * 1e3 for t in ts],
        }
    ref = out.get(ref_name, {})
    for name, m in out.items():
        if "median_ms" in m and "median_ms" in ref:
            m["ratio_median"] = m["median_ms"] / ref["median_ms"]
            m["ratio_min"] = m["min_ms"] / ref["min_ms"]
            # Same trajectory (same steps from the same weights): a check that the
            # engines kept doing the same work after step 0.
            m["last_loss_abs_diff"] = abs(m["last_loss"] - ref["last_loss"])
    return out


def bench_mlp(engines, dtype, steps, warmup):
    """Alternate engines step by step; return per-engine timing summaries.

    The order rotates every round so no engine always runs right after the
    same other one.  gc stays as shipped; one collection before the loop
    starts every dtype from the same heap.
    """
    runners, errors = _make_runners(engines, dtype)
    names = list(runners)
    times = {name: [] for name in names}
    losses = {name: [] for name in names}
    gc.collect()
    for i in range(warmup + steps):
        k = i % len(names) if names else 0
        for name in names[k:] + names[:k]:
            if name in errors:
                continue
            try:
                elapsed, loss = _timed_step(runners[name])
            except Exception as exc:
                errors[name] = f"step {i}: {type(exc).__name__}: {str(exc)[:300]}"
                continue
            losses[name].append(loss)
            if i >= warmup:
                times[name].append(elapsed)
    return _summaries(names, times, losses, errors)


def bench_mlp_blocks(engines, dtype, steps, warmup, block_steps=BLOCK_STEPS,
                     pause=BLOCK_PAUSE_S):
    """Alternate engines in blocks of steps, pausing between blocks.

    Used in the child process that times torch.  torch's OpenMP workers and
    numpy's OpenBLAS workers both spin-wait after a call; alternated step by
    step on a small machine they take each other's cores (on 2 cores numpy's
    median step triples and torch's quadruples).  Before each block the process
    collects garbage and pauses long enough for the previous engine's idle
    workers to go to sleep, then runs one untimed step (waking its own
    workers) and ``block_steps`` timed ones.  The order rotates every round.
    """
    runners, errors = _make_runners(engines, dtype)
    names = list(runners)
    times = {name: [] for name in names}
    losses = {name: [] for name in names}

    def run(name, n, timed):
        for _ in range(n):
            if name in errors:
                return
            try:
                elapsed, loss = _timed_step(runners[name])
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {str(exc)[:300]}"
                return
            losses[name].append(loss)
            if timed:
                times[name].append(elapsed)

    for name in names:
        run(name, warmup, timed=False)
    rounds = -(-steps // block_steps)
    for r in range(rounds):
        k = r % len(names) if names else 0
        for name in names[k:] + names[:k]:
            gc.collect()
            time.sleep(pause)
            run(name, 1, timed=False)
            run(name, min(block_steps, steps - r * block_steps), timed=True)
    return _summaries(names, times, losses, errors)


def bench_mlp_isolated(name, steps, warmup, blas_threads, quick=False):
    """Run bench_mlp_blocks for numpy and engine ``name``, both dtypes, in a fresh interpreter.

    Returns ``{dtype: summaries}`` from the child, or an error per dtype.
    """
    cmd = [sys.executable, os.path.abspath(__file__), "--mlp-child", name,
           "--steps", str(steps), "--warmup", str(warmup)]
    if blas_threads:
        cmd += ["--blas-threads", str(blas_threads)]
    if quick:
        cmd.append("--quick")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode == 0:
        try:
            return json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            pass
    error = f"child exited with code {proc.returncode}: {proc.stderr.strip()[-300:]}"
    return {dtype: {name: {"error": error}} for dtype in DTYPES}


def bench_phases(engines, dtype, steps):
    """Forward / backward / update split for autograd_core and numpy (alternated).

    Forward ends at the loss; for numpy the backward is everything after it
    that computes gradients.  Medians in ms.  A guide to where a gap to numpy
    lives, not part of the headline figures.
    """
    names = {e.name for e in engines if e.available}
    if not {"numpy", "autograd_core"} <= names:
        return {}
    params, X, y = make_problem(dtype)
    ref = NumpyRunner(params, X, y)
    try:
        ours = next(e for e in engines if e.name == "autograd_core").make(params, X, y)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    phases = {"numpy": ([], [], []), "autograd_core": ([], [], [])}

    def numpy_split():
        # Same arithmetic as NumpyRunner.step, timed at the loss and the update.
        W1, b1, W2, b2, W3, b3 = ref.params
        Xa, ya, rows = ref.X, ref.y, ref.rows
        t0 = time.perf_counter()
        h1 = Xa @ W1
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ W2
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ W3
        z += b3
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        float(np.mean(np.log(s[:, 0]) - z[rows, ya]))
        t1 = time.perf_counter()
        d = e
        d /= s
        d[rows, ya] -= 1
        d /= len(ya)
        dW3, db3 = h2.T @ d, d.sum(axis=0)
        dh2 = d @ W3.T
        dh2 *= h2 > 0
        dW2, db2 = h1.T @ dh2, dh2.sum(axis=0)
        dh1 = dh2 @ W2.T
        dh1 *= h1 > 0
        dW1, db1 = Xa.T @ dh1, dh1.sum(axis=0)
        t2 = time.perf_counter()
        for p, g in zip(ref.params, (dW1, db1, dW2, db2, dW3, db3)):
            g *= LR
            p -= g
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2

    def ours_split():
        t0 = time.perf_counter()
        loss = ours.forward()
        loss.item()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        ours.update()
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2

    gc.collect()
    try:
        for i in range(steps + 2):
            for name, fn in ((("numpy", numpy_split), ("autograd_core", ours_split))
                             if i % 2 else (("autograd_core", ours_split), ("numpy", numpy_split))):
                parts = fn()
                if i >= 2:
                    for bucket, t in zip(phases[name], parts):
                        bucket.append(t)
    except Exception as exc:  # the engine mid-edit: report, don't fail
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    return {name: {label: statistics.median(ts) * 1e3
                   for label, ts in zip(("forward_ms", "backward_ms", "update_ms"), buckets)}
            for name, buckets in phases.items()}


# --------------------------------------------------------------------------
# Workload 2: per-op overhead on tiny tensors.
# --------------------------------------------------------------------------

TINY_OPS = 3  # mul, add, sum


def _tiny_numpy(n):
    a = np.ones(4)
    t0 = time.perf_counter()
    for _ in range(n):
        (a * 2 + 1).sum()
    return time.perf_counter() - t0


class _BareTensor:
    """The least a pure-Python engine can do for the tiny workload, as a floor to read the
    figures against: no checks, no broadcasting, no grad modes, no read-only saved arrays,
    gradients shared between nodes, a closure per VJP. Not an engine anyone should use."""

    __slots__ = ("data", "grad", "parents", "vjps")

    def __init__(self, data, parents=(), vjps=()):
        self.data, self.grad, self.parents, self.vjps = data, None, parents, vjps

    def __mul__(self, k):
        return _BareTensor(self.data * k, (self,), (lambda g: g * k,))

    def __add__(self, k):
        return _BareTensor(self.data + k, (self,), (lambda g: g,))

    def sum(self):
        shape = self.data.shape
        return _BareTensor(np.add.reduce(self.data), (self,), (lambda g: np.full(shape, g),))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative post-order: parents before children
            node, placed = stack.pop()
            if placed:
                order.append(node)
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                stack.extend((parent, False) for parent in node.parents)
        self.grad = np.ones(())
        for node in reversed(order):
            for parent, vjp in zip(node.parents, node.vjps):
                share = vjp(node.grad)
                parent.grad = share if parent.grad is None else parent.grad + share


def _tiny_bare(n):
    """The tiny loop on ``_BareTensor``: the floor of a pure-Python engine on this machine."""
    return _tiny_pytorch_style(_BareTensor(np.ones(4)), n)


def _tiny_pytorch_style(x, n):
    """The loop for engines with PyTorch's API (ours and torch): ``x`` requires grad."""
    t0 = time.perf_counter()
    for _ in range(n):
        y = (x * 2 + 1).sum()
        y.backward()
        x.grad = None
    return time.perf_counter() - t0


def _tiny_mygrad(mg, n):
    x = mg.tensor(np.ones(4))
    t0 = time.perf_counter()
    for _ in range(n):
        y = (x * 2 + 1).sum()
        y.backward()   # x.grad is nulled when x enters the next graph
    return time.perf_counter() - t0


def _tiny_hips(anp, grad, n):
    g = grad(lambda x: anp.sum(x * 2 + 1))
    x = np.ones(4)
    t0 = time.perf_counter()
    for _ in range(n):
        g(x)
    return time.perf_counter() - t0


def bench_tiny(engines, iterations, rounds):
    """Rounds of ``iterations`` loops per engine, engines alternated round by round.

    Reports microseconds per iteration and per op (iteration / 3), median and
    min over rounds.  numpy's figure is the forward alone, without autodiff:
    the floor that numpy's own dispatch sets.
    """
    fns = {e.name: e.tiny for e in engines if e.available and e.tiny is not None}
    fns["bare_floor"] = _tiny_bare  # not an engine: the floor of one (see _BareTensor)
    per_iter = {name: [] for name in fns}
    errors = {}
    for fn in fns.values():          # warm-up: imports, caches, first allocations
        try:
            fn(max(iterations // 10, 10))
        except Exception:
            pass
    names = list(fns)
    gc.collect()
    for r in range(rounds):
        k = r % len(names) if names else 0
        for name in names[k:] + names[:k]:
            if name in errors:
                continue
            try:
                per_iter[name].append(fns[name](iterations) / iterations)
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {str(exc)[:300]}"
    out = {}
    for name in names:
        ts = per_iter[name]
        if name in errors or not ts:
            out[name] = {"error": errors.get(name, "not run")}
            continue
        med, low = statistics.median(ts) * 1e6, min(ts) * 1e6
        out[name] = {"median_us_per_iter": med, "min_us_per_iter": low,
                     "median_us_per_op": med / TINY_OPS, "min_us_per_op": low / TINY_OPS,
                     "iterations": iterations, "rounds": len(ts),
                     "includes_backward": name != "numpy"}
    return out


# --------------------------------------------------------------------------
# Environment.
# --------------------------------------------------------------------------

def _openblas_calls():
    """``(get_num_threads, set_num_threads, get_config, path)`` of the OpenBLAS numpy loaded.

    Found in /proc/self/maps (Linux) and called through ctypes: the cheap part of
    what threadpoolctl does.  Any of them may be None (another BLAS, another OS).
    """
    try:
        with open("/proc/self/maps") as fh:
            libs = sorted({line.split()[-1] for line in fh
                           if "openblas" in line.lower() and ".so" in line.split()[-1]})
        for path in libs:
            lib = ctypes.CDLL(path)
            for prefix in ("scipy_openblas", "openblas"):
                for suffix in ("64_", ""):
                    get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                    if get is None:
                        continue
                    get.restype = ctypes.c_int
                    put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                    if put is not None:
                        put.argtypes = [ctypes.c_int]
                    cfg = getattr(lib, f"{prefix}_get_config{suffix}", None)
                    if cfg is not None:
                        cfg.restype = ctypes.c_char_p
                    return get, put, cfg, path
    except Exception:
        pass
    return None, None, None, None


def blas_info(set_threads=None):
    """numpy's BLAS (from its build config) and its thread count when cheap to read.

    With ``set_threads``, first set OpenBLAS's thread count (``--blas-threads``).
    """
    info = {"name": None, "version": None, "config": None, "num_threads": None,
            "num_threads_set_by_benchmark": None}
    try:
        deps = np.show_config(mode="dicts").get("Build Dependencies", {})
        blas = deps.get("blas", {})
        info["name"] = blas.get("name")
        info["version"] = blas.get("version")
        info["config"] = blas.get("openblas configuration")
    except Exception:
        pass
    get, put, cfg, path = _openblas_calls()
    try:
        if set_threads is not None and put is not None:
            put(int(set_threads))
            info["num_threads_set_by_benchmark"] = int(set_threads)
        if get is not None:
            info["num_threads"] = int(get())
            info["library"] = path
        if cfg is not None:
            info["config_runtime"] = cfg().decode(errors="replace")
    except Exception:
        pass
    return info


def _loadavg():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def environment(blas):
    try:
        affinity = len(os.sched_getaffinity(0))
    except Exception:
        affinity = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "numpy": np.__version__,
        "blas": blas,
        "thread_env": {k: os.environ.get(k) for k in (
            "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
        "gc_threshold": list(gc.get_threshold()),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


# --------------------------------------------------------------------------
# Reporting.
# --------------------------------------------------------------------------

def print_report(r):
    env = r["environment"]
    blas = env["blas"]
    print(f"autograd-core tensor benchmark  (python {env['python']}, {env['platform']}, "
          f"{env['cpu_count']} CPUs, quick={r['config']['quick']})")
    print(f"  numpy {env['numpy']}, BLAS {blas.get('name') or '?'} {blas.get('version') or ''}"
          f", BLAS threads {blas.get('num_threads') if blas.get('num_threads') else 'unknown'}")
    la, lb = env.get("loadavg_before"), env.get("loadavg_after")
    if la and lb:
        print(f"  load average (1 min) before {la[0]:.2f}, after {lb[0]:.2f}"
              + ("   <- other processes were using the CPUs: expect noisy medians"
                 if la[0] > 1.0 else ""))
    for eng in r["engines"].values():
        if eng["available"]:
            print(f"  {eng['name']:<14} {eng['version'] or '(no version)':<14} {eng['note']}")
        else:
            print(f"  {eng['name']:<14} SKIPPED: {eng['note']}")

    cfg = r["config"]
    print(f"\n[1] MLP {'-'.join(map(str, SIZES))} training step (ReLU, softmax cross-entropy, "
          f"SGD lr {LR}), batch {BATCH}; {cfg['steps']} steps after {cfg['warmup']} warm-up, "
          f"engines alternated step by step (except *)")
    for dtype in DTYPES:
        print(f"  {dtype}")
        chk = r["agreement"][dtype]
        for name, c in chk.items():
            if "error" in c:
                print(f"    step-0 {name:<14} ERROR {c['error']}")
            elif name != "numpy":
                print(f"    step-0 {name:<14} loss {c['loss']:.9g}  |loss - numpy| "
                      f"{c['loss_abs_diff']:.2g}  max|grad - numpy| {c['grad_max_abs_diff']:.2g}"
                      f" (max|grad| {c['grad_max_abs']:.2g})  grads {','.join(c['grad_dtypes'])}")
            else:
                print(f"    step-0 {name:<14} loss {c['loss']:.9g}")
        print(f"    {'engine':<16}{'median ms':>10}{'min ms':>9}{'max ms':>9}"
              f"{'x numpy med':>13}{'x numpy min':>13}{'last loss':>12}{'|diff|':>9}")
        for name, m in r["mlp_step"][dtype].items():
            if "error" in m:
                print(f"    {name:<16} ERROR {m['error']}")
                continue
            if "timed_in" in m:
                name += " *"
            print(f"    {name:<16}{m['median_ms']:>10.3f}{m['min_ms']:>9.3f}{m['max_ms']:>9.3f}"
                  f"{m.get('ratio_median', float('nan')):>13.3f}"
                  f"{m.get('ratio_min', float('nan')):>13.3f}"
                  f"{m['last_loss']:>12.6f}{m.get('last_loss_abs_diff', float('nan')):>9.1g}")
        for name, m in r["mlp_step"][dtype].items():
            if "timed_in" in m and "numpy_blocks_median_ms" in m:
                print(f"    * {name}: timed in {m['timed_in']} (there numpy: median "
                      f"{m['numpy_blocks_median_ms']:.3f} ms, min "
                      f"{m['numpy_blocks_min_ms']:.3f} ms); its ratios and |diff| are to that numpy")
        ref = r["mlp_step"][dtype].get("numpy", {})
        if ref.get("min_ms") and ref["median_ms"] > 1.3 * ref["min_ms"]:
            print(f"    NOTE: numpy's median is {ref['median_ms'] / ref['min_ms']:.1f}x its min: "
                  f"the CPUs were busy (another process, or BLAS/OpenMP threads contending); "
                  f"trust the min column more")
        ours = r["mlp_step"][dtype].get("autograd_core", {})
        if "ratio_median" in ours:
            met = "met" if ours["ratio_median"] <= TARGET_RATIO else "NOT met"
            print(f"    autograd_core / numpy: median {ours['ratio_median']:.3f}x, "
                  f"min {ours['ratio_min']:.3f}x   target <= {TARGET_RATIO}x ({met})")
        ph = r.get("phases", {}).get(dtype)
        if ph and "error" in ph:
            print(f"    phases: ERROR {ph['error']}")
        elif ph:
            print("    phases (median ms)   forward  backward  update")
            for name, p in ph.items():
                print(f"      {name:<18}{p['forward_ms']:>9.3f}{p['backward_ms']:>10.3f}"
                      f"{p['update_ms']:>8.3f}")

    t = r.get("tiny")
    if t is None:
        print("\n[2] per-op overhead on tiny tensors: not run (--mlp-only)")
    else:
        print_tiny(t, cfg)
    if "elapsed_s" in r:
        print(f"\n(whole run {r['elapsed_s']:.1f} s)")


def print_tiny(t, cfg):
    """The tiny-op table ([2]) of ``print_report``."""
    print(f"\n[2] per-op overhead: (x * 2 + 1).sum() on x of shape (4,), forward + backward, "
          f"{TINY_OPS} ops; {cfg['tiny_rounds']} rounds of {cfg['tiny_iterations']} iterations")
    print(f"    {'engine':<16}{'us/op med':>10}{'us/op min':>10}{'us/iter med':>13}")
    for name, m in t.items():
        if "error" in m:
            print(f"    {name:<16} ERROR {m['error']}")
            continue
        tag = ("   (forward only, no autodiff)" if not m["includes_backward"] else
               "   (a bare-bones pure-Python engine: the floor)" if name == "bare_floor" else "")
        print(f"    {name:<16}{m['median_us_per_op']:>10.2f}{m['min_us_per_op']:>10.2f}"
              f"{m['median_us_per_iter']:>13.2f}{tag}")
    if "error" not in t.get("autograd_core", {"error": 1}):
        v = t["autograd_core"]["median_us_per_op"]
        met = "met" if v <= TARGET_US_PER_OP else "NOT met"
        print(f"    autograd_core {v:.2f} us/op   target <= {TARGET_US_PER_OP} us ({met})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="timed MLP steps per engine and dtype (default 300, quick 5)")
    parser.add_argument("--json", metavar="PATH", help="also write all figures as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: few steps and iterations (a few seconds)")
    parser.add_argument("--blas-threads", type=int, default=None, metavar="N",
                        help="set numpy's OpenBLAS threads (and torch's) to N for the run "
                             "(default: leave numpy's as it is; torch is set to match)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed MLP steps first (default 10, quick 1)")
    parser.add_argument("--mlp-only", action="store_true",
                        help="the MLP step alone: no forward/backward/update split and no "
                             "tiny-op workload (run.py's runs at extra BLAS thread counts)")
    parser.add_argument("--mlp-child", metavar="ENGINE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    quick = args.quick
    steps = args.steps if args.steps is not None else (5 if quick else 300)
    warmup = args.warmup if args.warmup is not None else (1 if quick else 10)

    if args.mlp_child:
        # Internal: we are the child started by bench_mlp_isolated.
        blas = blas_info(args.blas_threads)
        engines = [e for e in load_engines(blas.get("num_threads") or args.blas_threads)
                   if e.name in ("numpy", args.mlp_child)]
        pause = BLOCK_PAUSE_S / 3 if quick else BLOCK_PAUSE_S
        print(json.dumps({dtype: bench_mlp_blocks(engines, dtype, steps, warmup, pause=pause)
                          for dtype in DTYPES}))
        return 0
    phase_steps = 5 if quick else 100
    tiny_iterations = 200 if quick else 2000
    tiny_rounds = 3 if quick else 15

    started = time.perf_counter()
    load_before = _loadavg()
    blas = blas_info(args.blas_threads)
    engines = load_engines(blas.get("num_threads") or args.blas_threads)

    report = {
        "environment": environment(blas),
        "config": {"quick": quick, "steps": steps, "warmup": warmup, "seed": SEED,
                   "sizes": list(SIZES), "batch": BATCH, "lr": LR, "dtypes": list(DTYPES),
                   "blas_threads": args.blas_threads, "mlp_only": args.mlp_only,
                   "phase_steps": phase_steps, "tiny_iterations": tiny_iterations,
                   "tiny_rounds": tiny_rounds},
        "engines": {e.name: {"name": e.name, "available": e.available, "version": e.version,
                             "location": e.location, "note": e.note, **e.extra}
                    for e in engines},
        "targets": {"autograd_core_over_numpy_step": TARGET_RATIO,
                    "autograd_core_us_per_op": TARGET_US_PER_OP},
    }

    report["agreement"], report["mlp_step"], report["phases"] = {}, {}, {}
    for dtype in DTYPES:
        report["agreement"][dtype] = check_agreement(engines, dtype)
        in_process = [e for e in engines if not e.isolated]
        report["mlp_step"][dtype] = bench_mlp(in_process, dtype, steps, warmup)
        if not args.mlp_only:
            report["phases"][dtype] = bench_phases(engines, dtype, phase_steps)
    for eng in engines:
        if not (eng.available and eng.isolated):
            continue
        child = bench_mlp_isolated(eng.name, steps, warmup,
                                   blas.get("num_threads") or args.blas_threads, quick)
        for dtype in DTYPES:
            figures = child.get(dtype, {})
            m = figures.get(eng.name, {"error": "child returned no figures"})
            ref = figures.get("numpy", {})
            m["timed_in"] = (f"a child process, alternated with numpy in blocks of "
                             f"{BLOCK_STEPS} steps")
            if "median_ms" in ref:
                m["numpy_blocks_median_ms"] = ref["median_ms"]
                m["numpy_blocks_min_ms"] = ref["min_ms"]
            report["mlp_step"][dtype][eng.name] = m

    if not args.mlp_only:
        report["tiny"] = bench_tiny(engines, tiny_iterations, tiny_rounds)
    report["environment"]["loadavg_before"] = load_before
    report["environment"]["loadavg_after"] = _loadavg()
    report["elapsed_s"] = time.perf_counter() - started

    return finish(report, print_report, args.json)


if __name__ == "__main__":
    sys.exit(main())
