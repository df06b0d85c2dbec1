"""The notebooks (jupytext percent-format scripts in notebooks/) run from top to bottom.

Each is turned into an .ipynb in a temporary folder and executed by nbmake's runner, with
this checkout first on the kernel's path. A notebook asserts its key numbers in its own
cells, so one that runs but shows wrong results fails here.
"""
import os
import re
from pathlib import Path

import jupytext
import pytest
from nbmake.nb_run import NotebookRun

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("script", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_and_its_checks_pass(script, tmp_path, monkeypatch):
    notebook = jupytext.read(script)
    assert notebook.cells[0].cell_type == "markdown", "a notebook opens with prose"
    ipynb = tmp_path / f"{script.stem}.ipynb"
    jupytext.write(notebook, ipynb)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    result = NotebookRun(ipynb, default_timeout=120).execute()
    error = result.error
    assert error is None, f"cell {error.failing_cell_index}: {error.summary}\n{error.trace}"


def test_the_readme_links_every_notebook():
    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"\(notebooks/(\d\d_\w+)\.py\)", readme))
    assert linked == {path.stem for path in NOTEBOOKS}
