"""Benchmark the scalar ``Value`` engine of autograd_core against micrograd.

Runs three workloads in one process and prints a table (optionally JSON):

1. micrograd's demo training step: MLP 2-16-16-1 on 100 two-moons points,
   SVM max-margin loss + L2, full-batch SGD.  Engines are alternated step by
   step so machine noise hits them equally.
2. Memory per graph node (tracemalloc) for a 100k-node chain and wide sum.
3. The deepest chain: 1,000,000 ops with our engine (build / backward / free),
   and whether micrograd's recursive topo sort fails at depth 10,000.

This is a benchmark, not a test: nothing here asserts on timings.  Targets are
printed next to the measured figures for the reader.

Usage:
    python benchmarks/bench_scalar.py [--steps N] [--json out.json] [--quick]
"""

import argparse
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

# Running ``python benchmarks/bench_scalar.py`` puts benchmarks/ on sys.path,
# not the repository root; add the root so the checkout's autograd_core is
# the one measured (even when it is not pip-installed).
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from report import finish  # noqa: E402  (benchmarks/ is on sys.path when run)

SEED = 1
TARGET_SPEEDUP_SHIPPED = 20.0   # micrograd (gc on) / ours (the performance issue)
TARGET_SPEEDUP_NOGC = 1.5       # micrograd (gc off) / ours
TARGET_BYTES_PER_NODE = 250     # ours


# --------------------------------------------------------------------------
# Engine adapter: the only place that knows where each Value class lives.
# --------------------------------------------------------------------------

@dataclass
class Engine:
    """One scalar autodiff engine: a display name and its ``Value`` class.

    ``Value`` is None when the engine could not be imported; ``note`` then
    says why, and every workload skips that engine instead of failing.
    """
    name: str
    Value: type = None
    version: str = ""
    location: str = ""
    note: str = ""

    @property
    def available(self):
        return self.Value is not None


def load_engines():
    """Import both engines; return ``(ours, micrograd)`` as Engine objects."""
    ours = Engine("ours")
    try:
        import autograd_core
        from autograd_core import Value
        ours.Value = Value
        ours.version = getattr(autograd_core, "__version__", "")
        ours.location = os.path.dirname(autograd_core.__file__ or "")
    except Exception as exc:  # not written yet, or mid-edit: skip, don't fail
        ours.note = f"autograd_core not importable ({type(exc).__name__}: {exc})"

    mg = Engine("micrograd")
    try:
        import micrograd.engine
        mg.Value = micrograd.engine.Value
        mg.location = os.path.dirname(micrograd.engine.__file__)
        try:
            from importlib.metadata import version
            mg.version = version("micrograd")
        except Exception:
            pass
    except Exception as exc:
        mg.note = f"micrograd not importable ({type(exc).__name__}: {exc})"
    return ours, mg


class BareValue:
    """The least a pure-Python scalar engine can do for the demo step, as a floor to read
    the figures against: five slots, no checks, no grad modes, no tape, no hooks, numbers
    wrapped without validation, only the ops the demo uses. Not an engine to use."""

    __slots__ = ("data", "grad", "a", "b", "kind")
    ADD, MUL, RELU = 1, 2, 3

    def __init__(self, data, a=None, b=None, kind=0):
        self.data, self.grad, self.a, self.b, self.kind = data, 0.0, a, b, kind

    def __add__(self, other):
        other = other if type(other) is BareValue else BareValue(float(other))
        return BareValue(self.data + other.data, self, other, BareValue.ADD)

    def __mul__(self, other):
        other = other if type(other) is BareValue else BareValue(float(other))
        return BareValue(self.data * other.data, self, other, BareValue.MUL)

    __radd__, __rmul__ = __add__, __mul__

    def __neg__(self):
        return self * -1.0

    def relu(self):
        return BareValue(self.data if self.data > 0 else 0.0, self, None, BareValue.RELU)

    def backward(self):
        order, seen, stack = [], set(), [self]
        while stack:  # iterative post-order, a None marking "parents placed"
            node = stack.pop()
            if node is None:
                order.append(stack.pop())
            elif node not in seen:
                seen.add(node)
                node.grad = 0.0
                stack += (node, None)
                stack += [p for p in (node.a, node.b) if p is not None and p.a is not None]
        self.grad = 1.0
        for node in reversed(order):
            g, a, b = node.grad, node.a, node.b
            if node.kind == BareValue.ADD:
                a.grad += g
                b.grad += g
            elif node.kind == BareValue.MUL:
                a.grad += g * b.data
                b.grad += g * a.data
            elif node.data > 0:  # relu
                a.grad += g


def children_of(node):
    """Return a node's inputs: micrograd's ``_prev`` or autograd_core's ``parents``.

    Only used to count nodes by walking the graph; returns None when the
    engine exposes neither (we then count by construction only).
    """
    for attr in ("_prev", "parents"):
        edges = getattr(node, attr, None)
        if edges is not None:
            return edges
    return None


# --------------------------------------------------------------------------
# Model, parametrised by the Value class (mirrors micrograd/nn.py exactly).
# --------------------------------------------------------------------------

class Neuron:
    """micrograd's Neuron: ``act = sum(w_i * x_i, b)``, then ReLU if nonlin."""

    def __init__(self, Value, nin, rng, nonlin=True):
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class Layer:
    """A list of neurons; returns a scalar when it has one output (as micrograd)."""

    def __init__(self, Value, nin, nout, rng, nonlin=True):
        self.neurons = [Neuron(Value, nin, rng, nonlin) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    """ReLU hidden layers, linear output layer (micrograd's MLP).

    Weights are drawn in the same order as micrograd.nn.MLP, so two models
    built from ``random.Random(seed)`` with the same seed are identical
    whatever their Value class.
    """

    def __init__(self, Value, nin, nouts, rng):
        sizes = [nin] + nouts
        self.layers = [Layer(Value, sizes[i], sizes[i + 1], rng,
                             nonlin=(i != len(nouts) - 1))
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def make_moons(n_samples=100, noise=0.1, seed=SEED):
    """Two interleaving half circles, labels in {-1, +1}.

    Same recipe as ``sklearn.datasets.make_moons`` (shuffle, then Gaussian
    noise, from one ``RandomState(seed)``), so we need no scikit-learn.
    Returns plain Python floats: numpy scalars inside Values would make both
    engines slower and measure numpy, not the engines.
    """
    rng = np.random.RandomState(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.vstack([np.append(np.cos(t_out), 1 - np.cos(t_in)),
                   np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)
    rng.shuffle(order)
    X, y = X[order], y[order]
    X = X + rng.normal(scale=noise, size=X.shape)
    return X.tolist(), (y * 2 - 1).astype(float).tolist()


def svm_loss(model, Value, X, y, alpha=1e-4):
    """micrograd demo loss: mean((1 - y*score).relu()) + alpha * sum(p*p).

    Builds the input Values too, since that is part of every demo step.
    """
    inputs = [[Value(v) for v in row] for row in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def train_step(model, Value, X, y, lr=0.05):
    """One full-batch SGD step; returns the loss before the update."""
    loss = svm_loss(model, Value, X, y)
    params = model.parameters()
    for p in params:            # zero leaf grads ourselves (no zero_grad API)
        p.grad = 0.0
    loss.backward()
    for p in params:
        p.data -= lr * p.grad
    return loss.data
    # The graph becomes garbage when this returns: an engine freed by
    # reference counting pays for that here, inside the timed call.


# --------------------------------------------------------------------------
# Workload 1: MLP training step.
# --------------------------------------------------------------------------

def check_agreement(ours, mg, X, y):
    """Step-0 loss and gradients from identical weights in both engines.

    Validates the workload: the same model code must compute the same thing
    with either Value class.  Also checks our MLP classes against
    micrograd.nn.MLP itself (both on micrograd's Value).
    """
    result = {}
    runs = {}
    for eng in (ours, mg):
        if not eng.available:
            continue
        model = MLP(eng.Value, 2, [16, 16, 1], random.Random(SEED))
        loss = svm_loss(model, eng.Value, X, y)
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        runs[eng.name] = (loss.data, [p.grad for p in model.parameters()])
        result[f"loss_{eng.name}"] = loss.data
    if len(runs) == 2:
        result["loss_abs_diff"] = abs(runs["ours"][0] - runs["micrograd"][0])
        result["grad_max_abs_diff"] = max(
            abs(a - b) for a, b in zip(runs["ours"][1], runs["micrograd"][1]))

    if mg.available:
        try:
            import micrograd.nn
        except Exception:
            pass  # engine without its nn module: skip this cross-check
        else:
            # micrograd.nn draws from the global `random`; seed it the same
            # way and put the caller's state back afterwards.
            state = random.getstate()
            try:
                random.seed(SEED)
                ref = micrograd.nn.MLP(2, [16, 16, 1])
            finally:
                random.setstate(state)
            ref_loss = svm_loss(ref, mg.Value, X, y).data
            result["loss_micrograd_nn_MLP"] = ref_loss
            result["our_mlp_vs_micrograd_nn_abs_diff"] = abs(
                ref_loss - runs["micrograd"][0])
    return result


@dataclass
class Variant:
    """An engine run in a given gc mode for the timing loop."""
    name: str
    engine: Engine
    disable_gc: bool = False


def run_timed_step(variant, model, X, y):
    """Time one train_step, then time the collection of what it left behind.

    Returns (step_s, deferred_gc_s, cyclic_objects_found, loss).  With
    ``disable_gc`` the collector is off during the step.  The explicit
    collect runs *before* gc is re-enabled: otherwise the first allocation
    after gc.enable() would trigger an automatic collection of the step's
    garbage that we would neither time nor count.
    """
    was_enabled = gc.isenabled()
    if variant.disable_gc:
        gc.disable()
    try:
        t0 = time.perf_counter()
        loss = train_step(model, variant.engine.Value, X, y)
        t1 = time.perf_counter()
        found = gc.collect()  # untimed for the step; reported as deferred gc
        t2 = time.perf_counter()
    finally:
        if was_enabled:
            gc.enable()
    return t1 - t0, t2 - t1, found, loss


def bench_mlp(variants, X, y, steps, warmup):
    """Alternate variants step by step; return per-variant timing summaries.

    After every step an untimed ``gc.collect()`` runs so that no variant
    inherits another's cyclic garbage (micrograd's closures put every node in
    a reference cycle, so its graph is only freed by the collector) and every
    step starts from the same gc state.  That collect is timed on its own and
    reported as "deferred gc": work the step leaves behind.  The step time of
    shipped micrograd is therefore optimistic - in a plain training loop it
    also collects its previous graph and costs about step + deferred gc - so
    the step-time ratios are conservative.
    """
    models = {v.name: MLP(v.engine.Value, 2, [16, 16, 1], random.Random(SEED))
              for v in variants}
    times = {v.name: [] for v in variants}
    deferred = {v.name: [] for v in variants}
    cyclic = {v.name: [] for v in variants}
    losses = {v.name: [] for v in variants}

    gc.collect()
    for i in range(warmup + steps):
        for v in variants:
            elapsed, gc_elapsed, found, loss = run_timed_step(v, models[v.name], X, y)
            losses[v.name].append(loss)
            if i >= warmup:
                times[v.name].append(elapsed)
                deferred[v.name].append(gc_elapsed)
                cyclic[v.name].append(found)

    out = {}
    for v in variants:
        ts = times[v.name]
        out[v.name] = {
            "median_ms": statistics.median(ts) * 1e3,
            "min_ms": min(ts) * 1e3,
            "max_ms": max(ts) * 1e3,
            "steps": len(ts),
            "deferred_gc_median_ms": statistics.median(deferred[v.name]) * 1e3,
            # Amortised cost of a step once its garbage is collected too; in a
            # plain training loop with gc on, micrograd pays about this much.
            "with_gc_median_ms": statistics.median(
                t + g for t, g in zip(ts, deferred[v.name])) * 1e3,
            "cyclic_garbage_objects_median": statistics.median(cyclic[v.name]),
            "step_ms": [t * 1e3 for t in ts],
            "deferred_gc_ms": [t * 1e3 for t in deferred[v.name]],
            "cyclic_garbage_objects": cyclic[v.name],
            "first_loss": losses[v.name][0],
            "last_loss": losses[v.name][-1],
        }
    return out


def bench_plain_loop(variants, X, y, blocks, steps_per_block):
    """Time per step of a plain training loop: consecutive steps, gc as the engine ships.

    Nothing is collected by hand inside a block, so an engine whose graphs are cyclic
    garbage pays for collecting them in its later steps, as it does in a user's training
    loop. Blocks of the variants alternate; an untimed ``gc.collect()`` before each block
    keeps one engine's garbage off another's bill (and spares the last step of each block
    its own: the figure is, if anything, kind to such an engine).
    """
    models = {v.name: MLP(v.engine.Value, 2, [16, 16, 1], random.Random(SEED))
              for v in variants}
    per_step = {v.name: [] for v in variants}
    for _ in range(blocks):
        for v in variants:
            gc.collect()
            was_enabled = gc.isenabled()
            if v.disable_gc:
                gc.disable()
            try:
                t0 = time.perf_counter()
                for _ in range(steps_per_block):
                    train_step(models[v.name], v.engine.Value, X, y)
                per_step[v.name].append((time.perf_counter() - t0) / steps_per_block)
            finally:
                if was_enabled:
                    gc.enable()
    return {name: {"median_ms": statistics.median(ts) * 1e3, "min_ms": min(ts) * 1e3,
                   "blocks": len(ts), "steps_per_block": steps_per_block}
            for name, ts in per_step.items()}


def speedups(mlp, plain=None):
    """Ratios micrograd/ours (median and min step time) with their targets.

    "with_gc" compares step + deferred collection instead (amortised cost).
    The target against micrograd as shipped is judged on the plain training
    loop ("plain"), which bills each engine for its own garbage collection;
    the target against micrograd with gc off on the step times.
    """
    ratios = {}
    if plain and "ours" in plain and "micrograd" in plain:
        ratios["micrograd/ours plain loop"] = {
            "median": plain["micrograd"]["median_ms"] / plain["ours"]["median_ms"],
            "min": plain["micrograd"]["min_ms"] / plain["ours"]["min_ms"],
            "with_gc": float("nan"),
            "target": TARGET_SPEEDUP_SHIPPED,
        }
    if "ours" not in mlp:
        return ratios
    for name, target in (("micrograd", TARGET_SPEEDUP_SHIPPED),
                         ("micrograd_nogc", TARGET_SPEEDUP_NOGC)):
        if name in mlp:
            ratios[f"{name}/ours"] = {
                "median": mlp[name]["median_ms"] / mlp["ours"]["median_ms"],
                "min": mlp[name]["min_ms"] / mlp["ours"]["min_ms"],
                "with_gc": (mlp[name]["with_gc_median_ms"]
                            / mlp["ours"]["with_gc_median_ms"]),
                "target": target,
            }
    return ratios


# --------------------------------------------------------------------------
# Workload 2: memory per node.
# --------------------------------------------------------------------------

def build_chain(Value, n_nodes):
    """``x = x * 1.0001 + 0.5`` repeated; 2 op nodes per step, plus the leaf.

    Returns (root, nodes created by construction).
    """
    x = Value(1.0)
    steps = (n_nodes - 1) // 2
    for _ in range(steps):
        x = x * 1.0001 + 0.5
    return x, 1 + 2 * steps


def build_wide_sum(Value, n_nodes):
    """Sum of n/2 leaves: n/2 leaf nodes + n/2 add nodes.

    Returns (root, nodes created by construction).
    """
    n_leaves = n_nodes // 2
    leaves = [Value(float(i)) for i in range(n_leaves)]
    root = sum(leaves)
    del leaves  # the graph keeps them alive; don't bill the list to nodes
    return root, 2 * n_leaves


def count_nodes(root):
    """Count nodes reachable from root with an explicit stack (no recursion).

    Returns None if the engine's edges are not visible.  Includes nodes
    the engine creates implicitly (micrograd wraps every constant in a Value).
    """
    if children_of(root) is None:
        return None
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in children_of(node):
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


def measure_memory(Value, builder, n_nodes):
    """Traced bytes held by a freshly built graph, per node.

    "nodes" is by construction (leaves + one per op result); "walked_nodes"
    also counts implicit constant nodes where the graph can be walked.
    """
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        root, nodes = builder(Value, n_nodes)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    walked = count_nodes(root)  # after stop(): the walk's own set isn't traced
    del root
    gc.collect()
    return {
        "nodes": nodes,
        "bytes": held,
        "bytes_per_node": held / nodes,
        "walked_nodes": walked,
        "bytes_per_walked_node": held / walked if walked else None,
    }


# --------------------------------------------------------------------------
# Workload 3: deep chains.
# --------------------------------------------------------------------------

def deep_chain(Value, n_ops):
    """Build ``y = y + x`` n_ops deep, backward, free; time each phase.

    Runs with the default recursion limit.  Any exception is reported, not
    raised.  x.grad must come out as exactly n_ops.
    """
    result = {"n_ops": n_ops, "recursion_limit": sys.getrecursionlimit(),
              "raised": None}
    x = Value(1.0)
    y = Value(0.0)
    t0 = time.perf_counter()
    for _ in range(n_ops):
        y = y + x
    result["build_s"] = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        y.backward()
        result["backward_s"] = time.perf_counter() - t0
        result["grad_ok"] = x.grad == float(n_ops)
    except Exception as exc:
        result["raised"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    t0 = time.perf_counter()
    del y
    result["free_s"] = time.perf_counter() - t0
    # Anything still alive after `del` is cyclic garbage left to the collector.
    t0 = time.perf_counter()
    result["gc_collect_after_free_objects"] = gc.collect()
    result["gc_collect_after_free_s"] = time.perf_counter() - t0
    return result


def deep_chain_in_child(n_ops):
    """Run deep_chain for our engine in a fresh interpreter.

    A child process gives a clean heap for the timings and means a hard
    crash (e.g. a C stack overflow while freeing a deep chain) is reported
    as such instead of killing this script and its results.
    """
    cmd = [sys.executable, os.path.abspath(__file__), "--deep-child", str(n_ops)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode == 0:
        try:
            return json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            pass
    return {"n_ops": n_ops, "raised": f"child exited with code {proc.returncode}",
            "stderr_tail": proc.stderr[-500:]}


def micrograd_depth_check(Value, depth=10_000):
    """Does micrograd's recursive build_topo survive a chain this deep?"""
    x = Value(1.0)
    y = Value(0.0)
    for _ in range(depth):
        y = y + x
    result = {"depth": depth, "recursion_limit": sys.getrecursionlimit()}
    try:
        y.backward()
        result["fails"] = False
        result["error"] = None
    except RecursionError as exc:
        result["fails"] = True
        result["error"] = f"RecursionError: {exc}"
    del y, x
    gc.collect()
    return result


# --------------------------------------------------------------------------
# Reporting.
# --------------------------------------------------------------------------

def fmt(value, spec=".2f", missing="-"):
    """Format a number, or a placeholder when the figure was not measured."""
    return missing if value is None else format(value, spec)


def print_report(r):
    """Print all figures in ``r`` (the JSON dict) as readable tables."""
    env = r["environment"]
    print(f"autograd-core scalar benchmark  (python {env['python']}, "
          f"{env['platform']}, quick={r['config']['quick']})")
    for eng in r["engines"].values():
        if eng["available"]:
            print(f"  {eng['name']:<10} {eng['version'] or '(no version)'}  {eng['location']}")
        else:
            print(f"  {eng['name']:<10} SKIPPED: {eng['note']}")

    cfg = r["config"]
    print(f"\n[1] MLP 2-16-16-1 training step, {cfg['n_points']} two-moons points, "
          f"{cfg['steps']} steps after {cfg['warmup']} warm-up, engines alternated")
    chk = r["agreement"]
    for key in ("loss_ours", "loss_micrograd", "loss_micrograd_nn_MLP"):
        if key in chk:
            print(f"    step-0 {key:<24} {chk[key]:.17g}")
    if "loss_abs_diff" in chk:
        print(f"    |loss diff| ours vs micrograd  {chk['loss_abs_diff']:.3g}   "
              f"max |grad diff| {chk['grad_max_abs_diff']:.3g}   (expect ~1e-12 or less)")
    if "our_mlp_vs_micrograd_nn_abs_diff" in chk:
        print(f"    |loss diff| our MLP classes vs micrograd.nn.MLP  "
              f"{chk['our_mlp_vs_micrograd_nn_abs_diff']:.3g}")
    print(f"    {'engine':<16}{'median ms':>11}{'min ms':>10}{'max ms':>10}"
          f"{'deferred gc ms':>16}{'step+gc ms':>12}{'cyclic objs':>13}{'last loss':>12}")
    for name, m in r["mlp_step"].items():
        print(f"    {name:<16}{m['median_ms']:>11.2f}{m['min_ms']:>10.2f}{m['max_ms']:>10.2f}"
              f"{m['deferred_gc_median_ms']:>16.2f}{m['with_gc_median_ms']:>12.2f}"
              f"{m['cyclic_garbage_objects_median']:>13.0f}"
              f"{m['last_loss']:>12.6f}")
    if r.get("plain_loop"):
        print("    plain training loop (consecutive steps, gc as shipped), ms per step:")
        for name, m in r["plain_loop"].items():
            print(f"    {name:<16}{m['median_ms']:>11.2f}{m['min_ms']:>10.2f}"
                  f"   ({m['blocks']} blocks of {m['steps_per_block']} steps)")
    if r["speedup"]:
        for name, s in r["speedup"].items():
            met = "met" if s["median"] >= s["target"] else "NOT met"
            print(f"    ratio {name:<20} median {s['median']:6.2f}x  min {s['min']:6.2f}x"
                  f"   target >= {s['target']}x ({met})   step+gc {s['with_gc']:6.2f}x")
    else:
        print("    ratios: skipped (need both our engine and micrograd)")

    print(f"\n[2] memory per node (tracemalloc), target for ours <= {TARGET_BYTES_PER_NODE} B/node")
    print(f"    {'engine':<11}{'graph':<10}{'nodes':>9}{'bytes':>12}{'B/node':>9}"
          f"{'walked':>9}{'B/walked':>10}")
    for name, graphs in r["memory"].items():
        for graph, m in graphs.items():
            print(f"    {name:<11}{graph:<10}{m['nodes']:>9}{m['bytes']:>12}"
                  f"{m['bytes_per_node']:>9.1f}{fmt(m['walked_nodes'], 'd'):>9}"
                  f"{fmt(m['bytes_per_walked_node'], '.1f'):>10}")
    if not r["memory"]:
        print("    skipped: no engine available")
    if "ours" in r["memory"]:
        worst = max(m["bytes_per_node"] for m in r["memory"]["ours"].values())
        met = "met" if worst <= TARGET_BYTES_PER_NODE else "NOT met"
        print(f"    ours worst B/node (by construction) {worst:.1f}   "
              f"target <= {TARGET_BYTES_PER_NODE} ({met})")

    print("\n[3] deep chains (default recursion limit)")
    d = r["deep_chain"].get("ours")
    if d:
        if d.get("raised"):
            print(f"    ours  {d['n_ops']:,} ops: FAILED - {d['raised']}")
            if d.get("stderr_tail"):
                print("    " + d["stderr_tail"].strip().replace("\n", "\n    "))
        else:
            print(f"    ours  {d['n_ops']:,} ops: build {d['build_s']:.3f} s, "
                  f"backward {d['backward_s']:.3f} s, free {d['free_s']:.3f} s, "
                  f"no exception, grad correct: {d['grad_ok']}")
            if d.get("gc_collect_after_free_objects"):
                print(f"          gc.collect() after del found "
                      f"{d['gc_collect_after_free_objects']} objects "
                      f"({d['gc_collect_after_free_s']:.3f} s)")
    else:
        print("    ours: skipped (engine not available)")
    m = r["deep_chain"].get("micrograd")
    if m:
        verdict = "RecursionError" if m["fails"] else "ok"
        print(f"    micrograd depth {m['depth']:,}: {verdict} "
              f"(recursion limit {m['recursion_limit']})")
    else:
        print("    micrograd: skipped (not installed)")


def environment():
    """Versions and settings that affect the figures."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "numpy": np.__version__,
        "gc_threshold": list(gc.get_threshold()),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="timed MLP steps per engine (default 20, quick 2)")
    parser.add_argument("--json", metavar="PATH", help="also write all figures as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: few steps, smaller graphs (a few seconds)")
    parser.add_argument("--deep-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    ours, mg = load_engines()

    if args.deep_child is not None:
        # Internal: we are the child process started by deep_chain_in_child.
        print(json.dumps(deep_chain(ours.Value, args.deep_child)))
        return 0

    quick = args.quick
    steps = args.steps if args.steps is not None else (2 if quick else 20)
    warmup = 1 if quick else 3
    n_points = 20 if quick else 100   # quick: smaller graph, same model
    mem_nodes = 10_000 if quick else 100_000
    deep_ops = 100_000 if quick else 1_000_000
    X, y = make_moons(n_points, noise=0.1, seed=SEED)

    report = {
        "environment": environment(),
        "config": {"quick": quick, "steps": steps, "warmup": warmup,
                   "n_points": len(X), "memory_nodes": mem_nodes,
                   "deep_chain_ops": deep_ops, "seed": SEED},
        "engines": {e.name: {"name": e.name, "available": e.available,
                             "version": e.version, "location": e.location,
                             "note": e.note} for e in (ours, mg)},
    }

    # 1. MLP training step, engines alternated.
    report["agreement"] = check_agreement(ours, mg, X, y)
    variants = []
    if ours.available:
        variants.append(Variant("ours", ours))
    if mg.available:
        variants.append(Variant("micrograd", mg))
        variants.append(Variant("micrograd_nogc", mg, disable_gc=True))
    # not an engine: the floor of one (see BareValue), timed alike for reference
    variants.append(Variant("bare_floor", Engine("bare_floor", BareValue)))
    report["mlp_step"] = bench_mlp(variants, X, y, steps, warmup) if variants else {}
    shipped = [v for v in variants if not v.disable_gc]
    report["plain_loop"] = (bench_plain_loop(shipped, X, y, blocks=2 if args.quick else 5,
                                             steps_per_block=2 if args.quick else 5)
                            if shipped else {})
    report["speedup"] = speedups(report["mlp_step"], report["plain_loop"])

    # 2. Memory per node.
    report["memory"] = {}
    for eng in (ours, mg):
        if eng.available:
            report["memory"][eng.name] = {
                "chain": measure_memory(eng.Value, build_chain, mem_nodes),
                "wide_sum": measure_memory(eng.Value, build_wide_sum, mem_nodes),
            }

    # 3. Deep chains.
    report["deep_chain"] = {}
    if ours.available:
        report["deep_chain"]["ours"] = deep_chain_in_child(deep_ops)
    if mg.available:
        report["deep_chain"]["micrograd"] = micrograd_depth_check(mg.Value, 10_000)

    return finish(report, print_report, args.json)


if __name__ == "__main__":
    sys.exit(main())
