"""The notebooks in ``notebooks/`` are committed with their outputs (so that a reader sees the
results without running anything); this test keeps those outputs honest.

For every notebook:

* the committed file is a complete top-to-bottom run: every code cell has been executed, in
  order (execution counts 1, 2, 3, ...), and no output is an error;
* it runs again from top to bottom in a fresh kernel without an error;
* the cells tagged ``check`` (the key numbers: fit measures, hypothesis tables, reliability,
  power, ...) print exactly what is committed.  Outputs of other cells (figures, timings,
  long frames) are not compared.

After a change that moves a checked number on purpose, re-run the notebooks with
``PYTHONPATH=src python notebooks/execute.py`` and commit them.

The kernel is started with the interpreter running the tests (``sys.executable -m
ipykernel_launcher``), not with whatever ``python`` a kernelspec would find on PATH, so the
notebooks import the cbec_sem under test, in a fresh virtual environment too.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path

import pytest

# nbformat, nbclient and jupyter_client are imported where a notebook is read or run:
# importing them here cost every xdist worker ~0.25 s of CPU at collection, and the notebook
# tests run on one of them (tests/conftest.py puts them first: they fall to the first
# worker's share of the worksteal schedule)
for _name in ("nbformat", "nbclient", "ipykernel"):
    if importlib.util.find_spec(_name) is None:
        pytest.skip(f"{_name} is not installed", allow_module_level=True)

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: the issue's list: the walkthrough and one each for validation, moderation, necessity,
#: power and reports
EXPECTED = {"paper_model_walkthrough", "measurement_validation", "moderation", "necessity",
            "power", "reports"}


@cache
def _nbformat():
    """The nbformat module, imported on first use."""
    import nbformat

    return nbformat


@cache
def _execute_module():
    """``notebooks/execute.py`` (which imports nbclient and jupyter_client), loaded on first
    use."""
    spec = importlib.util.spec_from_file_location("notebook_execute",
                                                  NOTEBOOK_DIR / "execute.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _text(cell) -> str:
    """What a cell printed and returned, as text (stdout/stderr streams and text/plain
    results; images and HTML are left out)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return _ANSI.sub("", "".join(parts)).strip()


def test_the_notebooks_of_the_issue_are_there() -> None:
    assert {p.stem for p in NOTEBOOKS} == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_outputs_are_a_complete_run(path: Path) -> None:
    nbformat = _nbformat()
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), (
        f"{path.name} is not saved from one top-to-bottom run: run notebooks/execute.py")
    assert not [o for c in code for o in c.outputs if o.get("output_type") == "error"]
    checked = [c for c in code if "check" in c.metadata.get("tags", [])]
    assert checked, f"{path.name} has no cell tagged 'check'"
    assert all(_text(c) for c in checked), f"a checked cell of {path.name} prints nothing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_reruns_and_prints_the_committed_numbers(path: Path) -> None:
    committed = _nbformat().read(path, as_version=4)
    fresh = _execute_module().execute(path)  # raises CellExecutionError on a failing cell
    pairs = [(old, new) for old, new in zip(committed.cells, fresh.cells, strict=True)
             if old.cell_type == "code" and "check" in old.metadata.get("tags", [])]
    for old, new in pairs:
        assert _text(new) == _text(old), (
            f"{path.name}: the cell\n{old.source}\nnow prints\n{_text(new)}\ninstead of the "
            f"committed\n{_text(old)}\n(re-run notebooks/execute.py if this is intended)")
