"""benchmarks/run.py keeps working: a smoke run of the new workloads, no timing asserted.

The full ``--quick`` suite takes about a minute (longer on a busy machine), so this runs
workloads 2, 5 and 6 (bench_workloads.py) through run.py; bench_scalar.py is smoke-run by
test_readme_and_demo.py.
"""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER_COLUMNS = ("micrograd", "mygrad", "HIPS autograd", "torch")


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
    assert results["config"] == {"quick": True, "only": [2, 5, 6], "blas_threads": 1}

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
