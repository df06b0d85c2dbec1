"""The workloads that bench_scalar.py and bench_tensor.py do not cover.

Prints a table (optionally JSON). Three workloads, numbered as in benchmarks/README.md:

2. Scalar graphs, ns per node: build, backward and free (``del`` of the root) of chains
   (``x = x * a + b``) and wide graphs (a pairwise sum of many products) of 1e3, 1e4,
   1e5 and 1e6 nodes, with our ``Value`` and micrograd's; bytes per node (tracemalloc);
   and whether ``del`` freed the graph: ``gc.collect()`` after the ``del``, with the
   collector off from the build on, must find nothing (no reference cycles).
5. The lecture's fig. 7.8 training script (UDL ch. 7), 100 epochs, wall time: ours
   running the script ported by `nn.porting` (the README's porting table), torch the original.
   Each run is a fresh child process; the two alternate, and the median is reported.
   Both get one thread: ``torch.set_num_threads(1)``, and OPENBLAS_NUM_THREADS=1 (and
   OMP/MKL) in both children's environment.
6. Memory: peak RSS of building and back-propagating a 1e6-node scalar chain (a child
   process per engine); and the RSS of a small MLP's training loop after 10, 100 and
   1,000 steps: no growth expected.

This is a benchmark, not a test: nothing here asserts on timings. run.py imports this
module (for ``environment()`` and the targets) and runs it with ``--json``.

Usage:
    python benchmarks/bench_workloads.py [--quick] [--json out.json] [--only 2,5,6]
"""

import argparse
import contextlib
import gc
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np

# Running ``python benchmarks/bench_workloads.py`` puts benchmarks/ on sys.path, not the
# repository root; add the root so the checkout's autograd_core is the one measured.
HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
for _path in (REPO_ROOT, HERE):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from report import finish  # noqa: E402

SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = SIZES[:3]                      # --quick skips the 1e6-node graphs
REPEATS = {1_000: 15, 10_000: 9, 100_000: 5, 1_000_000: 3}
QUICK_REPEATS = {1_000: 5, 10_000: 3, 100_000: 2}
MICROGRAD_MAX_NODES = 100_000                # ~1.2 kB/node and slow: not at 1e6 in-process
FIG_ROUNDS, QUICK_FIG_ROUNDS = 5, 1          # fig. 7.8: runs per engine, alternated
FIG_EPOCHS = 100
RSS_NODES, QUICK_RSS_NODES = 1_000_000, 100_000
LOOP_CHECKPOINTS = (10, 100, 1000)           # training steps at which RSS is read

# Targets from the performance issue (printed by run.py, never asserted).
TARGET_BYTES_PER_NODE = 250
TARGET_CYCLIC_GARBAGE = 0
TARGET_RSS_GROWTH_KIB = 1024   # "no growth": RSS(1000 steps) - RSS(10) within 1 MiB
                               # (pymalloc arenas are 1 MiB; a leak of one 100-byte
                               # object per step would show in the object count)


# --------------------------------------------------------------------------
# Small helpers.
# --------------------------------------------------------------------------

def summary(values):
    """Median and spread of a list of numbers (None when empty)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    out = {"median": statistics.median(values), "min": min(values), "max": max(values),
           "n": len(values)}
    if len(values) >= 4:
        q = statistics.quantiles(values, n=4)
        out["q1"], out["q3"] = q[0], q[2]
    return out


def dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


def load_values():
    """``{"ours": Value, "micrograd": Value}`` for the importable engines, and notes."""
    engines, notes = {}, {}
    try:
        from autograd_core import Value
        engines["ours"] = Value
    except Exception as exc:  # mid-edit: skip, don't fail
        notes["ours"] = f"autograd_core not importable ({type(exc).__name__}: {exc})"
    try:
        import micrograd.engine
        engines["micrograd"] = micrograd.engine.Value
    except Exception as exc:
        notes["micrograd"] = (f"not importable ({type(exc).__name__}: {exc}); "
                              "pip install micrograd==0.1.0")
    return engines, notes


def proc_status(*keys):
    """Fields of /proc/self/status in KiB (Linux), e.g. VmRSS, VmHWM; None elsewhere."""
    out = dict.fromkeys(keys)
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                name, _, rest = line.partition(":")
                if name in out:
                    out[name] = int(rest.split()[0])
    except OSError:
        pass
    return out


def reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs). True if done."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def run_child(args, env=None, timeout=900):
    """Run this file with ``--child ...``; return the JSON dict it prints last, or an error."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", *map(str, args)]
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env,
                              timeout=timeout, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"child {' '.join(map(str, args))} timed out after {timeout} s"}
    if proc.returncode == 0:
        try:
            return json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            pass
    return {"error": f"child exited with code {proc.returncode}: {proc.stderr.strip()[-400:]}"}


# --------------------------------------------------------------------------
# Workload 2: scalar graphs, ns per node.
# --------------------------------------------------------------------------

def leaf_values(n):
    """Plain floats in (0, 1) for the leaves: made before the clock starts."""
    return [((i * 37) % 101 + 1) / 103.0 for i in range(n)]


def build_chain(Value, n_nodes, values=None):
    """``x = x * a + b``, repeated: 3 leaves (x, a, b), 2 op nodes per step.

    Returns (root, nodes created), nodes created <= n_nodes.
    """
    x, a, b = Value(0.5), Value(0.9999), Value(0.5)
    for _ in range((n_nodes - 3) // 2):
        x = x * a + b
    return x, 3 + 2 * ((n_nodes - 3) // 2)


def build_wide(Value, n_nodes, values):
    """``sum(w_i * x_i)`` over k = n/4 pairs, summed pairwise (a tree of depth log2 k).

    2k leaves, k products, k - 1 additions: a wide, shallow graph (Python's ``sum`` would
    make a chain of k additions instead). ``values`` holds the 2k leaf floats.
    Returns (root, nodes created).
    """
    k = n_nodes // 4
    leaves = [Value(v) for v in values[:2 * k]]
    level = [leaves[i] * leaves[i + k] for i in range(k)]
    del leaves  # the graph keeps them alive
    while len(level) > 1:
        pairs = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            pairs.append(level[-1])
        level = pairs
    return level[0], 4 * k - 1


BUILDERS = {"chain": build_chain, "wide": build_wide}


def time_graph(Value, builder, n_nodes, values):
    """One build, backward and ``del`` of the root, gc as shipped; seconds per phase.

    A backward that raises (micrograd's recursive topological sort on a deep chain) is
    reported as its error, and its time as None.
    """
    gc.collect()
    t0 = time.perf_counter()
    root, nodes = builder(Value, n_nodes, values)
    t1 = time.perf_counter()
    error = None
    try:
        root.backward()
        t2 = time.perf_counter()
        backward_s = t2 - t1
    except RecursionError as exc:
        error = f"RecursionError: {str(exc)[:80]}"
        backward_s = None
        del exc
    t3 = time.perf_counter()
    del root
    free_s = time.perf_counter() - t3
    return nodes, t1 - t0, backward_s, free_s, error


def memory_and_cycles(Value, builder, n_nodes, values):
    """Bytes per node (tracemalloc) and cyclic garbage after ``del``, gc off throughout.

    gc is disabled before the build; after backward and ``del root``, a ``gc.collect()``
    counts what reference counting did not free: 0 means the graph held no cycles.
    """
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            root, nodes = builder(Value, n_nodes, values)
            built = tracemalloc.get_traced_memory()[0] - before
            try:
                root.backward()
                error = None
            except RecursionError as exc:
                error = f"RecursionError: {str(exc)[:80]}"
                del exc
            after_backward = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        del root
        found = gc.collect()
    finally:
        if was_enabled:
            gc.enable()
    return {"nodes": nodes, "bytes": built, "bytes_per_node": built / nodes,
            "bytes_per_node_after_backward": after_backward / nodes,
            "cyclic_garbage_after_del": found, "backward_error": error}


def bench_scalar_graphs(engines, sizes, repeats):
    """Workload 2 for every engine, shape and size; engines alternated repeat by repeat."""
    out = {name: {shape: {} for shape in BUILDERS} for name in engines}
    values = leaf_values(2 * (max(sizes) // 4))
    for n in sizes:
        names = [name for name in engines
                 if name == "ours" or n <= MICROGRAD_MAX_NODES]
        for shape, builder in BUILDERS.items():
            raw = {name: {"build": [], "backward": [], "free": [], "total": []}
                   for name in names}
            errors, counts = {}, {}
            for r in range(repeats[n]):
                k = r % len(names)
                for name in names[k:] + names[:k]:
                    nodes, build_s, backward_s, free_s, error = time_graph(
                        engines[name], builder, n, values)
                    counts[name] = nodes
                    if error:
                        errors[name] = error
                    per = 1e9 / nodes
                    raw[name]["build"].append(build_s * per)
                    raw[name]["backward"].append(None if backward_s is None
                                                 else backward_s * per)
                    raw[name]["free"].append(free_s * per)
                    raw[name]["total"].append(None if backward_s is None
                                              else (build_s + backward_s) * per)
            for name in names:
                entry = {"nodes": counts[name], "repeats": repeats[n],
                         "build_ns_per_node": summary(raw[name]["build"]),
                         "backward_ns_per_node": summary(raw[name]["backward"]),
                         "build_backward_ns_per_node": summary(raw[name]["total"]),
                         "free_ns_per_node": summary(raw[name]["free"]),
                         "backward_error": errors.get(name)}
                entry["memory"] = memory_and_cycles(engines[name], builder, n, values)
                out[name][shape][str(n)] = entry
    for name in engines:
        if "micrograd" == name and max(sizes) > MICROGRAD_MAX_NODES:
            out[name]["note"] = (f"measured up to {MICROGRAD_MAX_NODES:,} nodes "
                                 "(about 1.2 kB per node); its backward is recursive and "
                                 "raises RecursionError on chains deeper than ~1,000")
    return out


# --------------------------------------------------------------------------
# Workload 5: the lecture's fig. 7.8 script, ours vs torch.
# --------------------------------------------------------------------------

def fig_7_8_script():
    """``(FIG_7_8, port_for_epochs)``: the lecture's script (``nn.porting``) and a function
    that ports it with a given number of epochs."""
    from nn.porting import FIG_7_8, port

    def port_for_epochs(script, epochs):
        return port(script).replace("for epoch in range(100):", f"for epoch in range({epochs}):")

    return FIG_7_8, port_for_epochs


def fig_7_8_child(engine, epochs):
    """In a child process: run the script once, return wall time and losses.

    Imports come first and are timed apart, so the wall time is the script's training
    (its own ``import`` lines then find the modules loaded).
    """
    script, ported = fig_7_8_script()
    t0 = time.perf_counter()
    info = {"engine": engine, "epochs": epochs}
    if engine == "torch":
        import torch
        import torch.nn
        import torch.optim.lr_scheduler
        import torch.utils.data
        torch.set_num_threads(1)
        torch.manual_seed(0)
        info["version"] = torch.__version__
        info["torch_num_threads"] = torch.get_num_threads()
        code = script.replace("for epoch in range(100):", f"for epoch in range({epochs}):")
    else:
        from bench_tensor import blas_info

        import autograd_core
        import nn
        import nn.data
        import nn.optim
        import nn.optim.lr_scheduler  # noqa: F401
        info["blas_threads"] = blas_info(1).get("num_threads")
        autograd_core.manual_seed(0)
        info["version"] = autograd_core.__version__
        code = ported(script, epochs)
    info["import_s"] = time.perf_counter() - t0
    compiled = compile(code, "fig_7_8.py", "exec")
    printed = io.StringIO()
    gc.collect()
    with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
        warnings.simplefilter("ignore")  # kaiming_uniform is deprecated in both
        t0 = time.perf_counter()
        exec(compiled, {"__name__": "__fig_7_8__"})
        info["wall_s"] = time.perf_counter() - t0
    losses = [float(line.rsplit(" ", 1)[-1]) for line in printed.getvalue().splitlines()
              if line.startswith("Epoch")]
    info.update(first_epoch_loss=losses[0], last_epoch_loss=losses[-1],
                epochs_printed=len(losses))
    return info


def single_thread_env():
    env = dict(os.environ)
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = "1"
    return env


def bench_fig_7_8(rounds, epochs, with_torch):
    """Alternate ours and torch, one fresh child per run; median wall time each."""
    names = ["ours"] + (["torch"] if with_torch else [])
    runs = {name: [] for name in names}
    env = single_thread_env()
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            runs[name].append(run_child(["fig78", name, epochs], env=env))
    out = {"epochs": epochs, "rounds": rounds,
           "fairness": "one thread each: torch.set_num_threads(1); OPENBLAS_NUM_THREADS="
                       "OMP_NUM_THREADS=MKL_NUM_THREADS=1 in both children",
           "timed": "the script's exec, after its imports (import time reported apart)"}
    for name in names:
        ok = [run for run in runs[name] if "wall_s" in run]
        errors = [run["error"] for run in runs[name] if "error" in run]
        out[name] = {"wall_s": summary([run["wall_s"] for run in ok]),
                     "import_s": summary([run["import_s"] for run in ok]),
                     "runs": runs[name]}
        if errors:
            out[name]["error"] = errors[0]
    if with_torch and out["ours"]["wall_s"] and out["torch"]["wall_s"]:
        out["ratio_ours_over_torch"] = (out["ours"]["wall_s"]["median"]
                                        / out["torch"]["wall_s"]["median"])
    return out


# --------------------------------------------------------------------------
# Workload 6: memory.
# --------------------------------------------------------------------------

def rss_graph_child(engine, n_nodes):
    """In a child: peak RSS of building, then back-propagating, an n-node chain."""
    Value = load_values()[0][engine]
    gc.collect()
    base = proc_status("VmRSS")["VmRSS"]
    reset = reset_peak_rss()
    t0 = time.perf_counter()
    root, nodes = build_chain(Value, n_nodes)
    build_s = time.perf_counter() - t0
    after_build = proc_status("VmRSS", "VmHWM")
    error = None
    try:
        root.backward()
    except RecursionError as exc:
        error = f"RecursionError: {str(exc)[:80]}"
    after_backward = proc_status("VmRSS", "VmHWM")
    import resource
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    peak = after_backward["VmHWM"] if after_backward["VmHWM"] is not None else maxrss
    return {"engine": engine, "nodes": nodes, "build_s": build_s,
            "rss_before_kib": base, "peak_reset": reset,
            "rss_after_build_kib": after_build["VmRSS"],
            "peak_after_build_kib": after_build["VmHWM"],
            "peak_after_backward_kib": peak, "ru_maxrss_kib": maxrss,
            "peak_minus_before_kib": peak - base if base is not None else None,
            "peak_bytes_per_node": (peak - base) * 1024 / nodes if base is not None else None,
            "backward_error": error}


def rss_loop_child(checkpoints):
    """In a child: RSS and live-object count of a small MLP's training loop at checkpoints.

    The lecture's fig. 7.8 model (10-40-40-5, ReLU, MSE, SGD with momentum) on 100 random
    points in batches of 10, shuffled, as that script trains it. Before each reading:
    ``gc.collect()``.
    """
    import autograd_core
    import nn
    from nn.data import DataLoader, TensorDataset
    from nn.optim import SGD

    autograd_core.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(),
                          nn.Linear(40, 5))
    criterion = nn.MSELoss()
    optimizer = SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = DataLoader(TensorDataset(autograd_core.randn(100, 10), autograd_core.randn(100, 5)),
                        batch_size=10, shuffle=True)
    readings = []
    step = 0
    t0 = time.perf_counter()
    while step < checkpoints[-1]:
        for x_batch, y_batch in loader:
            optimizer.zero_grad()
            loss = criterion(model(x_batch), y_batch)
            loss.backward()
            optimizer.step()
            step += 1
            if step in checkpoints:
                gc.collect()
                readings.append({"step": step, "rss_kib": proc_status("VmRSS")["VmRSS"],
                                 "objects": len(gc.get_objects()), "loss": loss.item()})
            if step >= checkpoints[-1]:
                break
    first, last = readings[0], readings[-1]
    return {"model": "10-40-40-5 ReLU, MSE, SGD(lr=0.01, momentum=0.9), batch 10",
            "readings": readings, "loop_s": time.perf_counter() - t0,
            "rss_growth_kib": (last["rss_kib"] - first["rss_kib"]
                               if first["rss_kib"] is not None else None),
            "objects_growth": last["objects"] - first["objects"],
            "from_step": first["step"], "to_step": last["step"]}


def bench_memory(engines, n_nodes):
    out = {"nodes": n_nodes, "graph": "chain x = x * a + b, then backward", "peak_rss": {}}
    for name in engines:
        out["peak_rss"][name] = run_child(["rss-graph", name, n_nodes])
    out["loop"] = run_child(["rss-loop", *LOOP_CHECKPOINTS])
    return out


# --------------------------------------------------------------------------
# Environment, report, main.
# --------------------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


PEERS = {"micrograd": "micrograd", "autograd": "autograd (HIPS)", "mygrad": "mygrad",
         "torch": "torch"}


def environment():
    """Machine, interpreter and library versions: what the figures depend on."""
    try:
        from bench_tensor import blas_info
        blas = blas_info()
    except Exception as exc:
        blas = {"error": f"{type(exc).__name__}: {exc}"}
    try:
        usable = len(os.sched_getaffinity(0))
    except Exception:
        usable = None
    try:
        load = list(os.getloadavg())
    except OSError:
        load = None
    peers = {}
    for dist, label in PEERS.items():
        version = dist_version(dist)
        peers[dist] = {"label": label, "installed": version is not None, "version": version}
        if version is None:
            peers[dist]["note"] = f"not installed: skipped (pip install {dist})"
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "machine": platform.machine(),
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "autograd_core": dist_version("autograd-core"),
        "blas": blas,
        "peers": peers,
        "loadavg": load,
        "thread_env": {k: os.environ.get(k) for k in (
            "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
    }


def fmt_stat(s, spec=".0f"):
    if not s:
        return "-"
    return f"{s['median']:{spec}} [{s['min']:{spec}}-{s['max']:{spec}}]"


def print_report(r):
    cfg = r["config"]
    print(f"autograd-core workloads 2, 5, 6  (quick={cfg['quick']}, only={cfg['only']})")
    for name, note in r.get("notes", {}).items():
        print(f"  {name}: SKIPPED: {note}")
    g = r.get("scalar_graphs")
    if g:
        print("\n[2] scalar graphs, ns per node: median [min-max] over repeats; "
              "B/node by tracemalloc; cyc = gc.collect() after del (gc off from the build)")
        print(f"    {'engine':<10}{'graph':<7}{'nodes':>9}{'build':>21}{'backward':>21}"
              f"{'free (del)':>16}{'B/node':>8}{'cyc':>8}")
        for name, shapes in g.items():
            for shape, sizes in shapes.items():
                if shape == "note":
                    continue
                for m in sizes.values():
                    back = (m["backward_error"].split(":")[0] if m["backward_error"]
                            else fmt_stat(m["backward_ns_per_node"]))
                    print(f"    {name:<10}{shape:<7}{m['nodes']:>9}"
                          f"{fmt_stat(m['build_ns_per_node']):>21}{back:>21}"
                          f"{fmt_stat(m['free_ns_per_node']):>16}"
                          f"{m['memory']['bytes_per_node']:>8.1f}"
                          f"{m['memory']['cyclic_garbage_after_del']:>8}")
            if "note" in shapes:
                print(f"    ({name}: {shapes['note']})")
    f = r.get("fig_7_8")
    if f:
        print(f"\n[5] lecture fig. 7.8 script, {f['epochs']} epochs, {f['rounds']} run(s) "
              f"each, alternated; {f['fairness']}")
        for name in ("ours", "torch"):
            if name in f:
                m = f[name]
                if m.get("error"):
                    print(f"    {name:<8} ERROR {m['error']}")
                if m["wall_s"]:
                    last = m["runs"][-1]
                    print(f"    {name:<8} wall {fmt_stat(m['wall_s'], '.3f')} s   imports "
                          f"{m['import_s']['median']:.2f} s   loss epoch 0 "
                          f"{last['first_epoch_loss']:.3f} -> {last['last_epoch_loss']:.3f}")
        if "ratio_ours_over_torch" in f:
            print(f"    ours / torch (medians) {f['ratio_ours_over_torch']:.3f}x")
    m = r.get("memory")
    if m:
        print(f"\n[6] peak RSS, {m['graph']}, {m['nodes']:,} nodes, one child per engine")
        for name, p in m["peak_rss"].items():
            if "error" in p:
                print(f"    {name:<10} ERROR {p['error']}")
                continue
            extra = f"   (backward: {p['backward_error']})" if p["backward_error"] else ""
            print(f"    {name:<10} peak - before {p['peak_minus_before_kib'] / 1024:8.1f} MiB"
                  f"   {p['peak_bytes_per_node']:7.1f} B/node{extra}")
        loop = m["loop"]
        if "error" in loop:
            print(f"    training loop ERROR {loop['error']}")
        else:
            print(f"    training loop ({loop['model']}):")
            for rd in loop["readings"]:
                print(f"      after {rd['step']:>5} steps  RSS {rd['rss_kib']:>8} KiB  "
                      f"objects {rd['objects']:>8}")
            print(f"    growth {loop['from_step']} -> {loop['to_step']} steps: "
                  f"{loop['rss_growth_kib']} KiB, {loop['objects_growth']} objects "
                  f"(target: within {TARGET_RSS_GROWTH_KIB} KiB)")


def run(quick=False, only=(2, 5, 6), log=print):
    """Run the selected workloads; return the report dict (what --json writes)."""
    started = time.perf_counter()
    engines, notes = load_values()
    torch_installed = dist_version("torch") is not None
    if not torch_installed:
        notes["torch"] = "not installed: skipped (pip install torch==2.13.0)"
    report = {"config": {"quick": quick, "only": sorted(only),
                         "sizes": list(QUICK_SIZES if quick else SIZES),
                         "repeats": QUICK_REPEATS if quick else REPEATS,
                         "micrograd_max_nodes": MICROGRAD_MAX_NODES},
              "targets": {"bytes_per_node": TARGET_BYTES_PER_NODE,
                          "cyclic_garbage_after_del": TARGET_CYCLIC_GARBAGE,
                          "rss_growth_kib": TARGET_RSS_GROWTH_KIB},
              "notes": notes, "elapsed_s": {}}
    if 2 in only and engines:
        log("workload 2: scalar graphs ...")
        t0 = time.perf_counter()
        report["scalar_graphs"] = bench_scalar_graphs(
            engines, QUICK_SIZES if quick else SIZES, QUICK_REPEATS if quick else REPEATS)
        report["elapsed_s"]["2"] = time.perf_counter() - t0
    if 5 in only and "ours" in engines:
        log("workload 5: fig. 7.8 script ...")
        t0 = time.perf_counter()
        report["fig_7_8"] = bench_fig_7_8(QUICK_FIG_ROUNDS if quick else FIG_ROUNDS,
                                          FIG_EPOCHS, torch_installed)
        report["elapsed_s"]["5"] = time.perf_counter() - t0
    if 6 in only and "ours" in engines:
        log("workload 6: memory ...")
        t0 = time.perf_counter()
        report["memory"] = bench_memory(engines, QUICK_RSS_NODES if quick else RSS_NODES)
        report["elapsed_s"]["6"] = time.perf_counter() - t0
    report["elapsed_s"]["total"] = time.perf_counter() - started
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: graphs up to 1e5 nodes, one fig. 7.8 run each")
    parser.add_argument("--json", metavar="PATH", help="also write all figures as JSON")
    parser.add_argument("--only", default="2,5,6", metavar="LIST",
                        help="comma-separated workloads among 2, 5, 6 (default: all three)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, rest = args.child[0], args.child[1:]
        if kind == "fig78":
            result = fig_7_8_child(rest[0], int(rest[1]))
        elif kind == "rss-graph":
            result = rss_graph_child(rest[0], int(rest[1]))
        elif kind == "rss-loop":
            result = rss_loop_child(tuple(int(v) for v in rest))
        else:
            parser.error(f"unknown child {kind}")
        print(json.dumps(result))
        return 0

    only = {int(v) for v in args.only.split(",") if v.strip()}
    if not only <= {2, 5, 6}:
        parser.error("--only takes workloads among 2, 5, 6")
    report = run(args.quick, only, log=lambda msg: print(msg, file=sys.stderr))
    report["environment"] = environment()
    return finish(report, print_report, args.json)


if __name__ == "__main__":
    sys.exit(main())
