"""Run the whole benchmark suite with one command; write results.json and results.md.

    python3 benchmarks/run.py [--quick] [--out DIR] [--only 1,2,...] [--blas-threads 1,2]

Runs the three scripts of this folder, each in its own process with ``--json``:
bench_scalar.py (workload 1, and bytes per node), bench_tensor.py (workloads 3 and 4) and
bench_workloads.py (workloads 2, 5 and 6); then writes, in DIR (default benchmarks/results/):

- results.json: every figure of every script, the environment (CPU model, cores, Python,
  numpy and its BLAS, peer versions, load average, date) and the summary table as rows;
- results.md: the summary table: per workload, this project, each peer, the reference,
  the ratio (of medians measured in this one run), the target and whether it is met.

bench_tensor.py runs once per BLAS thread count of ``--blas-threads`` (default 1 and 2):
the first run whole (workloads 3 and 4, results.json's ``raw["bench_tensor"]``), the others
with ``--mlp-only`` (workload 3 alone: tiny tensors use no BLAS), under
``raw["bench_tensor_2threads"]`` and the like (see ``tensor_run_key``).

Figures are medians with their spread, ``median [min-max]``. Nothing is asserted: a target
that is not met is reported as such, and the exit code is 0 unless a script crashed.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import bench_workloads  # noqa: E402  (benchmarks/ is put on sys.path just above)

WORKLOADS = {
    1: "micrograd's demo step (scalar engine)",
    2: "scalar graphs: ns per node, bytes per node, freeing",
    3: "MLP 784-256-256-10 training step (tensor engine)",
    4: "per-op overhead on tiny tensors",
    5: "lecture fig. 7.8 training script",
    6: "memory: peak RSS, RSS over a training loop",
}
SCRIPTS = {  # script -> the workloads whose table rows it feeds
    "bench_scalar": (1,),
    "bench_tensor": (3, 4),
    "bench_workloads": (2, 5, 6),
}
PEERS = ("micrograd", "mygrad", "autograd", "torch")
PEER_LABELS = {"micrograd": "micrograd", "mygrad": "mygrad", "autograd": "HIPS autograd",
               "torch": "torch"}

# Targets from the project's performance issue (printed, never asserted).
TARGETS = {
    "1_micrograd_over_ours": 20.0,        # micrograd as shipped / ours, demo step
    "1_micrograd_nogc_over_ours": 1.5,    # micrograd with gc off / ours
    "2_bytes_per_node": bench_workloads.TARGET_BYTES_PER_NODE,
    "2_cyclic_garbage_after_del": bench_workloads.TARGET_CYCLIC_GARBAGE,
    "3_ours_over_numpy": 1.10,            # MLP step, float32 and float64
    "4_us_per_op": 3.0,                   # tiny tensors, forward + backward
    "6_rss_growth_kib": bench_workloads.TARGET_RSS_GROWTH_KIB,
}


# --------------------------------------------------------------------------
# Running the scripts.
# --------------------------------------------------------------------------

def loadavg():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def parse_threads(text):
    """``"1,2"`` -> ``[1, 2]``: BLAS thread counts, in order, without repeats; 0 is numpy's
    default.  Raises ValueError on anything else."""
    counts = []
    for value in text.split(","):
        if not value.strip():
            continue
        n = int(value)
        if n < 0:
            raise ValueError(f"negative thread count {n}")
        if n not in counts:
            counts.append(n)
    if not counts:
        raise ValueError("no thread count")
    return counts


def threads_text(counts):
    """``[1, 2]`` -> ``"1 and 2"``, 0 read as numpy's default."""
    names = [str(n) if n else "numpy's default" for n in counts]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def tensor_run_key(threads, first):
    """The key of one bench_tensor.py run in results.json's ``raw`` and ``scripts``.

    The first run (whole: workloads 3 and 4) is ``bench_tensor``; the runs at the other
    thread counts (workload 3 alone) are ``bench_tensor_2threads``, ``bench_tensor_1thread``,
    ``bench_tensor_default_threads`` (0).
    """
    if first:
        return "bench_tensor"
    if not threads:
        return "bench_tensor_default_threads"
    return f"bench_tensor_{threads}thread" + ("s" if threads != 1 else "")


def plan_runs(only, blas_threads):
    """The script runs for workloads ``only``: ``(key, script, workloads fed, extra args,
    BLAS threads or None)`` each, in order."""
    runs = []
    for name, covers in SCRIPTS.items():
        selected = sorted(only & set(covers))
        if not selected:
            continue
        if name == "bench_tensor":
            counts = blas_threads if 3 in selected else blas_threads[:1]
            for i, n in enumerate(counts):
                extra = ["--blas-threads", str(n)] if n else []
                if i:
                    extra.append("--mlp-only")
                runs.append((tensor_run_key(n, i == 0), name, covers if i == 0 else (3,),
                             extra, n))
        elif name == "bench_workloads":
            runs.append((name, name, covers, ["--only", ",".join(map(str, selected))], None))
        else:
            runs.append((name, name, covers, [], None))
    return runs


def run_script(name, quick, extra, tmpdir, key=None):
    """Run benchmarks/<name>.py --json; its output goes to ours as it comes.

    ``key`` names its JSON file (default ``name``): one script may run more than once.
    """
    key = key or name
    path = os.path.join(tmpdir, f"{key}.json")
    cmd = [sys.executable, os.path.join(HERE, f"{name}.py"), "--json", path, *extra]
    if quick:
        cmd.append("--quick")
    shown = [os.path.basename(c) if c.endswith(".py") else c for c in cmd[1:]]
    shown[shown.index(path)] = f"<tmp>/{key}.json"
    print(f"\n=== {' '.join(shown)}", flush=True)
    info = {"command": shown, "loadavg_before": loadavg()}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=False, cwd=os.path.dirname(HERE))
    info["elapsed_s"] = time.perf_counter() - t0
    info["loadavg_after"] = loadavg()
    info["returncode"] = proc.returncode
    figures = None
    if proc.returncode == 0:
        try:
            with open(path) as fh:
                figures = json.load(fh)
        except (OSError, ValueError) as exc:
            info["error"] = f"no JSON written ({type(exc).__name__}: {exc})"
    else:
        info["error"] = f"exited with code {proc.returncode} (its traceback is in run.py's output)"
    return figures, info


# --------------------------------------------------------------------------
# Cells of the table.
# --------------------------------------------------------------------------

def _num(value, spec):
    return format(value, spec)


def cell(median, low=None, high=None, spec=".2f", unit=""):
    """``median [min-max] unit``; the spread shows whatever was measured."""
    if median is None:
        return "-"
    text = _num(median, spec)
    if low is not None and high is not None:
        text += f" [{_num(low, spec)}-{_num(high, spec)}]"
    elif low is not None:
        text += f" [min {_num(low, spec)}]"
    return f"{text} {unit}".rstrip()


def stat_cell(stat, spec=".2f", unit=""):
    """A cell from a bench_workloads summary dict (median/min/max)."""
    if not stat:
        return "-"
    return cell(stat["median"], stat["min"], stat["max"], spec, unit)


def met(value, target, op):
    if value is None or target is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    ok = value >= target if op == ">=" else value <= target
    return "yes" if ok else "NO"


def row(workload, metric, ours="-", peers=None, reference="-", ratio="-", target="-",
        met_="-", data=None):
    """One table row (a dict; results.md prints these, results.json keeps them)."""
    return {"workload": workload, "metric": metric, "ours": ours,
            "peers": {p: (peers or {}).get(p, "n/a") for p in PEERS},
            "reference": reference, "ratio": ratio, "target": target, "met": met_,
            "data": data or {}}


def not_run_row(workload, why):
    return row(workload, WORKLOADS[workload], ours=why,
               peers={p: why for p in PEERS}, met_="not run")


# --------------------------------------------------------------------------
# Rows per workload, from each script's JSON.
# --------------------------------------------------------------------------

def rows_scalar(s):
    """Workload 1 from bench_scalar.py."""
    rows = []
    mg_missing = not s["engines"]["micrograd"]["available"]
    skip = "not installed" if mg_missing else "-"
    plain, step = s.get("plain_loop", {}), s.get("mlp_step", {})
    n = s["config"]["n_points"]

    ours, mg = plain.get("ours"), plain.get("micrograd")
    floor = plain.get("bare_floor")  # a bare-bones pure-Python engine (bench_scalar.py)
    ratio = mg["median_ms"] / ours["median_ms"] if ours and mg else None
    t = TARGETS["1_micrograd_over_ours"]
    rows.append(row(
        1, f"demo step, MLP 2-16-16-1 on {n} points, plain training loop (gc as shipped), "
           f"ms/step",
        ours=cell(ours["median_ms"], ours["min_ms"]) if ours else "-",
        peers={"micrograd": cell(mg["median_ms"], mg["min_ms"]) if mg else skip},
        reference="micrograd as shipped" + (
            f"; bare-bones engine (the floor): {cell(floor['median_ms'], floor['min_ms'])}"
            + (f", micrograd / it {mg['median_ms'] / floor['median_ms']:.2f}x" if mg else "")
            if floor else ""),
        ratio=f"{ratio:.2f}x" if ratio else "-",
        target=f"micrograd / ours >= {t:g}x", met_=met(ratio, t, ">="),
        data={"ratio": ratio, "ratio_min": (mg["min_ms"] / ours["min_ms"]
                                             if ours and mg else None)}))

    ours, mg, nogc = step.get("ours"), step.get("micrograd"), step.get("micrograd_nogc")
    floor = step.get("bare_floor")
    ratio = nogc["median_ms"] / ours["median_ms"] if ours and nogc else None
    t = TARGETS["1_micrograd_nogc_over_ours"]
    rows.append(row(
        1, "demo step alone (its garbage collected untimed afterwards), ms/step",
        ours=cell(ours["median_ms"], ours["min_ms"], ours["max_ms"]) if ours else "-",
        peers={"micrograd": cell(mg["median_ms"], mg["min_ms"], mg["max_ms"]) if mg else skip},
        reference=(f"micrograd, gc off: {cell(nogc['median_ms'], nogc['min_ms'], nogc['max_ms'])}"
                   if nogc else "micrograd, gc off: " + skip) + (
            f"; bare-bones engine (the floor): "
            f"{cell(floor['median_ms'], floor['min_ms'], floor['max_ms'])}"
            + (f", micrograd gc off / it {nogc['median_ms'] / floor['median_ms']:.2f}x"
               if nogc else "") if floor else ""),
        ratio=f"{ratio:.2f}x" if ratio else "-",
        target=f"micrograd gc off / ours >= {t:g}x", met_=met(ratio, t, ">="),
        data={"ratio": ratio, "ratio_min": (nogc["min_ms"] / ours["min_ms"]
                                             if ours and nogc else None)}))
    return rows


def blas_threads_label(requested, actual=None):
    """How many BLAS threads a bench_tensor.py run had, for its rows' metric."""
    if requested:
        text = f"{requested} BLAS thread" + ("s" if requested != 1 else "")
        if actual and actual != requested:
            text += f" requested ({actual} in effect)"
        return text
    return "numpy's default BLAS threads" + (f" ({actual})" if actual else "")


def rows_tensor(t, env, threads=None):
    """Workload 3 (and 4, if this run measured it) from one bench_tensor.py run.

    ``threads``: the BLAS thread count run.py asked for (0: numpy's default).
    """
    rows = []
    available = {name: e["available"] for name, e in t["engines"].items()}
    cfg = t["config"]
    actual = ((t.get("environment") or {}).get("blas") or {}).get("num_threads")
    label = blas_threads_label(threads, actual)
    for dtype in cfg["dtypes"]:
        m = t["mlp_step"][dtype]
        peers = {}
        for p in ("mygrad", "autograd", "torch"):
            if not available.get(p):
                peers[p] = "not installed"
            elif "error" in m.get(p, {"error": 1}):
                peers[p] = "error"
            else:
                peers[p] = (cell(m[p]["median_ms"], m[p]["min_ms"], m[p]["max_ms"])
                            + f" ({m[p]['ratio_median']:.2f}x"
                            + (" of its own numpy*)" if "timed_in" in m[p] else ")"))
        ours, ref = m.get("autograd_core", {}), m.get("numpy", {})
        ratio = ours.get("ratio_median")
        target = TARGETS["3_ours_over_numpy"]
        rows.append(row(
            3, f"MLP 784-256-256-10 step, batch {cfg['batch']}, {dtype}, {label}, ms "
               f"({cfg['steps']} steps)",
            ours=(cell(ours["median_ms"], ours["min_ms"], ours["max_ms"])
                  if "median_ms" in ours else ours.get("error", "-")),
            peers=peers,
            reference=("hand-written numpy: " + cell(ref["median_ms"], ref["min_ms"],
                                                     ref["max_ms"])
                       if "median_ms" in ref else "-"),
            ratio=f"{ratio:.3f}x" if ratio else "-",
            target=f"ours / numpy <= {target:g}x", met_=met(ratio, target, "<="),
            data={"ratio": ratio, "ratio_min": ours.get("ratio_min"), "dtype": dtype,
                  "blas_threads": threads, "blas_threads_in_effect": actual}))

    if "tiny" not in t:  # a --mlp-only run
        return rows
    tiny = t["tiny"]
    peers = {}
    for p in ("mygrad", "autograd", "torch"):
        if not available.get(p):
            peers[p] = "not installed"
        elif "error" in tiny.get(p, {"error": 1}):
            peers[p] = "error"
        else:
            peers[p] = cell(tiny[p]["median_us_per_op"], tiny[p]["min_us_per_op"])
    ours, ref = tiny.get("autograd_core", {}), tiny.get("numpy", {})
    floor = tiny.get("bare_floor", {})  # a bare-bones pure-Python engine (bench_tensor.py)
    value = ours.get("median_us_per_op")
    ratio = value / ref["median_us_per_op"] if value and ref.get("median_us_per_op") else None
    target = TARGETS["4_us_per_op"]
    rows.append(row(
        4, "(x * 2 + 1).sum() on shape (4,), forward + backward, us per op",
        ours=cell(value, ours.get("min_us_per_op")) if value else ours.get("error", "-"),
        peers=peers,
        reference="; ".join(
            f"{what}: " + cell(m["median_us_per_op"], m["min_us_per_op"])
            for what, m in (("numpy, forward only", ref),
                            ("bare-bones engine (the floor)", floor))
            if m.get("median_us_per_op")) or "-",
        ratio=f"{ratio:.1f}x" if ratio else "-",
        target=f"ours <= {target:g} us/op", met_=met(value, target, "<="),
        data={"us_per_op": value, "ratio_to_numpy_forward": ratio,
              "bare_floor_us_per_op": floor.get("median_us_per_op")}))
    return rows


def _size(n):
    return f"1e{round(math.log10(n))}" if n >= 1000 else str(n)


def rows_workloads(w, env):
    """Workloads 2, 5 and 6 from bench_workloads.py."""
    rows = []
    notes = w.get("notes", {})
    mg_skip = "not installed" if "micrograd" in notes else "-"

    g = w.get("scalar_graphs")
    if g and "ours" in g:
        for shape, label in (("chain", "chain x = x*a + b"),
                             ("wide", "wide: pairwise sum of products")):
            for size, m in g["ours"][shape].items():
                mg = g.get("micrograd", {}).get(shape, {}).get(size)
                if mg is None:
                    mg_cell = mg_skip if "micrograd" in notes else "not measured at this size"
                elif mg["backward_error"]:
                    mg_cell = (f"build {stat_cell(mg['build_ns_per_node'], '.0f')}; backward: "
                               f"{mg['backward_error'].split(':')[0]}")
                else:
                    mg_cell = stat_cell(mg["build_backward_ns_per_node"], ".0f")
                ours_total = m["build_backward_ns_per_node"]
                ratio = (mg["build_backward_ns_per_node"]["median"] / ours_total["median"]
                         if mg and mg["build_backward_ns_per_node"] and ours_total else None)
                rows.append(row(
                    2, f"{label}, {_size(int(size))} nodes: build + backward, ns/node",
                    ours=stat_cell(ours_total, ".0f"), peers={"micrograd": mg_cell},
                    ratio=f"micrograd / ours {ratio:.2f}x" if ratio else "-",
                    data={"ratio": ratio}))
        largest = max(g["ours"]["chain"], key=int)
        m = g["ours"]["chain"][largest]
        mg_sizes = g.get("micrograd", {}).get("chain", {})
        mg_cell = mg_skip
        if mg_sizes:
            mg_largest = max(mg_sizes, key=int)
            mg_cell = (f"{stat_cell(mg_sizes[mg_largest]['free_ns_per_node'], '.0f')} at "
                       f"{_size(int(mg_largest))}: frees nothing (cycles, left to gc)")
        rows.append(row(2, f"chain, {_size(int(largest))} nodes: del root (freeing), ns/node",
                        ours=stat_cell(m["free_ns_per_node"], ".0f"),
                        peers={"micrograd": mg_cell}))

        def worst(name, key):
            vals = [m["memory"][key] for shape in ("chain", "wide")
                    for m in g.get(name, {}).get(shape, {}).values()]
            return max(vals) if vals else None

        b_ours, b_mg = worst("ours", "bytes_per_node"), worst("micrograd", "bytes_per_node")
        target = TARGETS["2_bytes_per_node"]
        sizes = ", ".join(_size(int(s)) for s in g["ours"]["chain"])
        rows.append(row(
            2, f"bytes per node after build (tracemalloc), worst of chain and wide at {sizes}",
            ours=f"{b_ours:.1f} B", peers={"micrograd": f"{b_mg:.1f} B" if b_mg else mg_skip},
            ratio=f"micrograd / ours {b_mg / b_ours:.2f}x" if b_mg else "-",
            target=f"ours <= {target} B", met_=met(b_ours, target, "<="),
            data={"ours": b_ours, "micrograd": b_mg}))
        c_ours, c_mg = (worst("ours", "cyclic_garbage_after_del"),
                        worst("micrograd", "cyclic_garbage_after_del"))
        target = TARGETS["2_cyclic_garbage_after_del"]
        rows.append(row(
            2, "objects gc.collect() finds after del root (gc off from the build on), worst",
            ours=str(c_ours), peers={"micrograd": str(c_mg) if c_mg is not None else mg_skip},
            target=f"ours = {target} (freed on del, no cycles)",
            met_="yes" if c_ours == target else "NO",
            data={"ours": c_ours, "micrograd": c_mg}))

    f = w.get("fig_7_8")
    if f:
        ours, torch = f.get("ours", {}), f.get("torch")
        ratio = f.get("ratio_ours_over_torch")
        torch_cell = "not installed" if torch is None else (
            stat_cell(torch["wall_s"], ".3f", "s") if torch["wall_s"] else torch.get("error"))
        rows.append(row(
            5, f"fig. 7.8 script, {f['epochs']} epochs, wall time ({f['rounds']} run(s) each, "
               f"alternated, 1 thread)",
            ours=stat_cell(ours.get("wall_s"), ".3f", "s") if ours.get("wall_s")
            else ours.get("error", "-"),
            peers={"torch": torch_cell},
            reference="torch running the original script",
            ratio=f"ours / torch {ratio:.3f}x" if ratio else "-",
            target="- (none set)", data={"ratio": ratio}))

    m = w.get("memory")
    if m:
        def peak_cell(p):
            if p is None:
                return mg_skip
            if "error" in p:
                return "error"
            text = (f"{p['peak_minus_before_kib'] / 1024:.1f} MiB "
                    f"({p['peak_bytes_per_node']:.0f} B/node)")
            if p.get("backward_error"):
                text += f"; backward: {p['backward_error'].split(':')[0]}"
            return text
        rows.append(row(
            6, f"peak RSS of building + back-propagating a {_size(m['nodes'])}-node chain "
               f"(minus RSS before)",
            ours=peak_cell(m["peak_rss"].get("ours")),
            peers={"micrograd": peak_cell(m["peak_rss"].get("micrograd"))},
            target="- (none set)"))
        loop = m["loop"]
        target = TARGETS["6_rss_growth_kib"]
        if "error" in loop:
            rows.append(row(6, "RSS growth over a training loop", ours="error: "
                            + loop["error"][:80]))
        else:
            first, last = loop["readings"][0], loop["readings"][-1]
            growth = loop["rss_growth_kib"]
            rows.append(row(
                6, f"RSS after {last['step']:,} training steps - after {first['step']} "
                   f"(small MLP 10-40-40-5)",
                ours=(f"{growth:+d} KiB ({first['rss_kib']} -> {last['rss_kib']} KiB; "
                      f"live objects {loop['objects_growth']:+d})"),
                target=f"no growth (<= {target} KiB)", met_=met(growth, target, "<="),
                data={"rss_growth_kib": growth, "objects_growth": loop["objects_growth"]}))
    return rows


# --------------------------------------------------------------------------
# Output.
# --------------------------------------------------------------------------

def clean(obj):
    """NaN and infinities become None, so results.json is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return obj


def md_escape(text):
    return str(text).replace("|", "\\|").replace("*", "\\*")


def markdown(results):
    env, cfg = results["environment"], results["config"]
    blas = env.get("blas") or {}
    peers = env["peers"]
    kind = ("quick smoke run (few steps, small graphs): not for comparison" if cfg["quick"]
            else "full run")
    peer_list = ", ".join(f"{p['label']} {p['version']}" if p["installed"]
                          else f"{p['label']}: not installed (skipped)"
                          for p in peers.values())
    lines = [
        "# autograd-core benchmark results",
        "",
        (f"`{results['command']}` on {env['date']}; "
         f"{kind}; "
         f"whole run {results['elapsed_s']:.0f} s."),
        "",
        (f"- Machine: {env['cpu_model']}, {env['cpu_count']} CPUs ({env['cpus_usable']} usable), "
         f"{env['platform']}"),
        (f"- Python {env['python']} ({env['implementation']}), numpy {env['numpy']}, BLAS "
         f"{blas.get('name') or '?'} {blas.get('version') or ''}; BLAS and torch threads for "
         f"workload 3: {threads_text(cfg['blas_threads'])}; workload 4: "
         f"{threads_text(cfg['blas_threads'][:1])}; workload 5: 1"),
        f"- Peers: {peer_list}",
        f"- Load average (1, 5, 15 min) before: {results['loadavg_before']}, after: "
        f"{results['loadavg_after']}"
        + ("  **The machine was busy during the run: expect noisy medians.**"
           if results["under_load"] else ""),
        "",
        ("Cells are `median [min-max]` over the repeats (`[min ...]` where only the min is "
         "recorded). Ratios are of medians measured in this one run. Targets come from the "
         "performance issue; nothing is asserted."),
        "",
        "| # | workload | this project | " + " | ".join(PEER_LABELS[p] for p in PEERS)
        + " | reference | ratio | target | met? |",
        "|---|---|---|" + "---|" * len(PEERS) + "---|---|---|---|",
    ]
    for r in results["table"]:
        cells = [r["workload"], r["metric"], r["ours"], *(r["peers"][p] for p in PEERS),
                 r["reference"], r["ratio"], r["target"], r["met"]]
        lines.append("| " + " | ".join(md_escape(c) for c in cells) + " |")
    lines += ["", "Notes:", ""]
    lines += [f"- {md_escape(n)}" for n in results["notes"]]
    lines += ["", "Per script (all figures are in results.json, under `raw`):", ""]
    for info in results["scripts"].values():
        status = info.get("error") or "ok"
        lines.append(f"- `{' '.join(info['command'])}`: "
                     f"{info['elapsed_s']:.0f} s, load {info['loadavg_before']} -> "
                     f"{info['loadavg_after']}, {md_escape(status)}")
    lines.append("")
    return "\n".join(lines)


NOTES = [
    ("1: ours and micrograd run the same model code on their own Value class, alternated step "
     "by step in one process (bench_scalar.py). The plain-loop row bills each engine for its "
     "own garbage collection; the step-alone row leaves it out (micrograd's graphs are cyclic "
     "garbage; gc off, it still pays their collection later)."),
    ("2: gc as shipped for the timings; 'free' is the time of `del root`. An engine whose "
     "graph is held by reference cycles frees nothing there: see the gc.collect() row. "
     "micrograd's backward recurses: RecursionError on chains deeper than about 1,000 at the "
     "default recursion limit."),
    ("3: measured at each BLAS thread count of --blas-threads (numpy's BLAS and torch alike), "
     "one bench_tensor.py process per count; the per-phase split and workload 4 are measured "
     "in the first only. * torch is timed in a child process, alternated with numpy in blocks "
     "(its OpenMP and numpy's OpenBLAS workers contend when alternated step by step); its "
     "ratio is to the numpy measured there. The other engines are alternated step by step "
     "with numpy."),
    ("4: the numpy reference is the forward alone, without autodiff: the floor of numpy's "
     "dispatch. The target is absolute."),
    ("5: each run is a fresh child process; the clock covers the script's exec after its "
     "imports. Ours runs the script ported by the README's porting table; both use one thread."),
    ("6: peak RSS is VmHWM (reset after imports) minus RSS before the build, in a child per "
     "engine. The training loop's RSS is read after gc.collect() at each checkpoint."),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run of every script (figures not for comparison)")
    parser.add_argument("--out", metavar="DIR", default=os.path.join(HERE, "results"),
                        help="where to write results.json and results.md "
                             "(default: benchmarks/results/)")
    parser.add_argument("--only", metavar="LIST", default="1,2,3,4,5,6",
                        help="comma-separated workloads to run (default: all); the scripts "
                             "that measure them run whole")
    parser.add_argument("--blas-threads", default="1,2", metavar="LIST",
                        help="comma-separated BLAS (and torch) thread counts for workload 3: "
                             "bench_tensor.py runs once per count (default 1,2; 0 leaves "
                             "numpy's default); workload 4 runs in the first only")
    args = parser.parse_args(argv)
    try:
        blas_threads = parse_threads(args.blas_threads)
    except ValueError:
        parser.error("--blas-threads takes thread counts >= 0, e.g. --blas-threads 1,2")
    try:
        only = {int(v) for v in args.only.split(",") if v.strip()}
    except ValueError:
        parser.error("--only takes workload numbers, e.g. --only 2,5,6")
    if not only or not only <= set(WORKLOADS):
        parser.error(f"--only takes workloads among {sorted(WORKLOADS)}")

    started = time.perf_counter()
    environment = bench_workloads.environment()
    load_before = loadavg()
    raw, scripts = {}, {}
    runs = plan_runs(only, blas_threads)
    with tempfile.TemporaryDirectory() as tmp:
        for key, name, covers, extra, threads in runs:
            raw[key], scripts[key] = run_script(name, args.quick, extra, tmp, key)
            scripts[key].update({"script": f"{name}.py", "workloads": list(covers)})
            if name == "bench_tensor":
                scripts[key]["blas_threads"] = threads  # 0: numpy's default
    load_after = loadavg()

    table, notes = [], list(NOTES)
    builders = {"bench_scalar": lambda d, n: rows_scalar(d),
                "bench_tensor": lambda d, n: rows_tensor(d, environment, n),
                "bench_workloads": lambda d, n: rows_workloads(d, environment)}
    produced = {}
    for key, name, covers, _, threads in runs:  # workloads not run: "not run" rows below
        data = raw.get(key)
        if data is None:
            what = f"{name}.py" + (f" at {blas_threads_label(threads)}"
                                   if name == "bench_tensor" else "")
            for w in covers:
                produced.setdefault(w, []).append(not_run_row(w, f"{what} failed"))
            continue
        try:
            rows = builders[name](data, threads)
        except Exception as exc:  # noqa: BLE001  (JSON of a new shape: report, keep the rest)
            rows = [row(w, WORKLOADS[w], ours=f"table error: {type(exc).__name__}: {exc}")
                    for w in covers]
        for r in rows:
            produced.setdefault(r["workload"], []).append(r)
    for w in WORKLOADS:
        rows = produced.get(w) or [not_run_row(w, "not run (--only)")]
        table.extend(rows)
    if args.quick:  # a smoke run's few steps are no verdict
        for r in table:
            if r["met"] in ("yes", "NO"):
                r["met"] = f"{r['met']} (quick)"
    for info in environment["peers"].values():
        if not info["installed"]:
            notes.append(f"{info['label']}: {info['note']}")
    cpus = environment.get("cpus_usable") or environment.get("cpu_count") or 1
    loads = [load[0] for load in (load_before, load_after) if load]
    under_load = bool(loads) and max(loads) > 0.5 * cpus

    results = {
        "schema": 2,  # 2: config.blas_threads a list, one bench_tensor run per count
        "command": " ".join(["python3 benchmarks/run.py",
                             *(argv if argv is not None else sys.argv[1:])]),
        "config": {"quick": args.quick, "only": sorted(only), "blas_threads": blas_threads},
        "environment": environment,
        "loadavg_before": load_before, "loadavg_after": load_after, "under_load": under_load,
        "targets": TARGETS,
        "workloads": {str(k): v for k, v in WORKLOADS.items()},
        "table": table,
        "notes": notes,
        "scripts": scripts,
        "raw": raw,
        "elapsed_s": time.perf_counter() - started,
    }
    os.makedirs(args.out, exist_ok=True)
    json_path = os.path.join(args.out, "results.json")
    md_path = os.path.join(args.out, "results.md")
    with open(json_path, "w") as fh:
        json.dump(clean(results), fh, indent=1, allow_nan=False)
    text = markdown(results)
    with open(md_path, "w") as fh:
        fh.write(text)
    print("\n" + text)
    print(f"wrote {json_path} and {md_path} ({results['elapsed_s']:.0f} s)")
    return 1 if any("error" in info for info in scripts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
