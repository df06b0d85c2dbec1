"""benchmarks/run.py keeps working: a smoke run of the new workloads, no timing asserted.

The full ``--quick`` suite takes about a minute (longer on a busy machine), so this runs
workloads 2, 5 and 6 (bench_workloads.py) through run.py; bench_scalar.py is smoke-run by
test_readme_and_demo.py. A quick run of workload 3 takes 20 s or more (two bench_tensor.py
runs, one per BLAS thread count, each with a torch child), so how run.py plans those runs and
labels their rows is checked on made-up figures instead.
"""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PEER_COLUMNS = ("micrograd", "mygrad", "HIPS autograd", "torch")


def _load_run_py():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_bench_workloads():
    spec = importlib.util.spec_from_file_location(
        "bench_workloads", ROOT / "benchmarks" / "bench_workloads.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fig_7_8_is_the_lecture_script_of_nn_porting():
    from test_training import ported

    from nn.porting import FIG_7_8

    script, port_for_epochs = _load_bench_workloads().fig_7_8_script()
    assert script == FIG_7_8
    assert port_for_epochs(script, 30) == ported(FIG_7_8, 30)


def test_run_py_quick_writes_the_json_and_the_table(tmp_path):
    out = tmp_path / "results"
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--only", "2,5,6", "--out", str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]

    results = json.loads((out / "results.json").read_text())
    for key in ("command", "config", "environment", "targets", "table", "notes", "scripts",
                "raw", "loadavg_before", "loadavg_after", "elapsed_s"):
        assert key in results
    env = results["environment"]
    for key in ("cpu_model", "cpu_count", "python", "numpy", "blas", "peers", "loadavg",
                "date"):
        assert key in env
    assert set(env["peers"]) == {"micrograd", "autograd", "mygrad", "torch"}
    assert results["config"] == {"quick": True, "only": [2, 5, 6], "blas_threads": [1, 2]}
    assert set(results["scripts"]) == set(results["raw"]) == {"bench_workloads"}

    raw = results["raw"]["bench_workloads"]
    assert {"scalar_graphs", "fig_7_8", "memory"} <= set(raw)
    chain = raw["scalar_graphs"]["ours"]["chain"]
    assert set(chain) == {"1000", "10000", "100000"}  # --quick skips 1e6
    for m in chain.values():
        for key in ("build_ns_per_node", "backward_ns_per_node", "free_ns_per_node"):
            assert set(m[key]) >= {"median", "min", "max"}
        assert {"bytes_per_node", "cyclic_garbage_after_del"} <= set(m["memory"])
    assert "wall_s" in raw["fig_7_8"]["ours"]
    assert [r["step"] for r in raw["memory"]["loop"]["readings"]] == [10, 100, 1000]

    rows = results["table"]
    assert {r["workload"] for r in rows} == {1, 2, 3, 4, 5, 6}
    for r in rows:
        assert set(r) >= {"metric", "ours", "peers", "reference", "ratio", "target", "met"}
        ran = r["workload"] in (2, 5, 6)
        assert (r["met"] == "not run") != ran
    assert any(r["workload"] == 2 and "bytes per node" in r["metric"] for r in rows)
    assert any(r["workload"] == 6 and r["target"].startswith("no growth") for r in rows)

    table = (out / "results.md").read_text()
    header = next(line for line in table.splitlines() if line.startswith("| # |"))
    for column in ("workload", "this project", *PEER_COLUMNS, "reference", "ratio", "target",
                   "met?"):
        assert f"| {column} |" in header
    body = [line for line in table.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(body) == len(rows)
    assert {line.split("|")[1].strip() for line in body} == {"1", "2", "3", "4", "5", "6"}


def _made_up_bench_tensor(threads, mlp_only):
    """The figures of a bench_tensor.py run that run.py reads (made up, no benchmark run)."""
    step = {"median_ms": 1.0, "min_ms": 0.9, "max_ms": 1.2, "ratio_median": 1.0,
            "ratio_min": 1.0}
    figures = {
        "engines": {name: {"available": name in ("numpy", "autograd_core")}
                    for name in ("numpy", "autograd_core", "torch", "mygrad", "autograd")},
        "config": {"dtypes": ["float32", "float64"], "batch": 128, "steps": 5,
                   "blas_threads": threads, "mlp_only": mlp_only},
        "environment": {"blas": {"num_threads": threads}},
        "mlp_step": {dtype: {"numpy": dict(step), "autograd_core": dict(step)}
                     for dtype in ("float32", "float64")},
    }
    if not mlp_only:
        figures["tiny"] = {name: {"median_us_per_op": 2.0, "min_us_per_op": 1.5}
                           for name in ("numpy", "autograd_core")}
    return figures


def test_run_py_measures_workload_3_at_each_blas_thread_count(tmp_path, monkeypatch):
    run = _load_run_py()
    assert run.parse_threads("1,2") == [1, 2]
    assert run.parse_threads("0") == [0]
    assert run.parse_threads("2, 1,2") == [2, 1]
    for bad in ("", "-1", "two"):
        with pytest.raises(ValueError):
            run.parse_threads(bad)

    commands = []

    def fake_run_script(name, quick, extra, tmpdir, key=None):
        commands.append((key, name, list(extra)))
        assert name == "bench_tensor" and quick
        threads = int(extra[extra.index("--blas-threads") + 1])
        info = {"command": [f"{name}.py", *extra], "elapsed_s": 0.0,
                "loadavg_before": None, "loadavg_after": None, "returncode": 0}
        return _made_up_bench_tensor(threads, "--mlp-only" in extra), info

    monkeypatch.setattr(run, "run_script", fake_run_script)
    out = tmp_path / "results"
    assert run.main(["--quick", "--only", "3,4", "--out", str(out)]) == 0
    # One process per thread count; only the first measures workload 4 (tiny tensors).
    assert commands == [
        ("bench_tensor", "bench_tensor", ["--blas-threads", "1"]),
        ("bench_tensor_2threads", "bench_tensor", ["--blas-threads", "2", "--mlp-only"]),
    ]

    results = json.loads((out / "results.json").read_text())
    assert results["config"]["blas_threads"] == [1, 2]
    assert set(results["raw"]) == {"bench_tensor", "bench_tensor_2threads"}
    assert results["scripts"]["bench_tensor"]["workloads"] == [3, 4]
    assert results["scripts"]["bench_tensor_2threads"]["workloads"] == [3]
    assert results["scripts"]["bench_tensor_2threads"]["blas_threads"] == 2
    rows3 = [r for r in results["table"] if r["workload"] == 3]
    assert [(r["data"]["dtype"], r["data"]["blas_threads"]) for r in rows3] == [
        ("float32", 1), ("float64", 1), ("float32", 2), ("float64", 2)]
    assert [r["metric"].split(", ")[3] for r in rows3] == [
        "1 BLAS thread", "1 BLAS thread", "2 BLAS threads", "2 BLAS threads"]
    assert all(r["met"] == "yes (quick)" for r in rows3)
    assert len([r for r in results["table"] if r["workload"] == 4]) == 1

    table = (out / "results.md").read_text()
    assert "BLAS and torch threads for workload 3: 1 and 2; workload 4: 1;" in table
    assert table.count("| 3 | MLP 784-256-256-10 step") == 4
    assert table.count("| 4 | ") == 1

    commands.clear()  # workload 4 alone: one run, at the first thread count
    assert run.main(["--quick", "--only", "4", "--blas-threads", "1,2",
                     "--out", str(out)]) == 0
    assert commands == [("bench_tensor", "bench_tensor", ["--blas-threads", "1"])]
