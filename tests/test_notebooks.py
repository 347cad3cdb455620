"""Every notebook in ``notebooks/`` runs from top to bottom without an error.

The kernel is started with the interpreter running the tests (``sys.executable -m
ipykernel_launcher``), not with whatever ``python`` a kernelspec would find on PATH, so the
notebooks import the cbec_sem under test, in a fresh virtual environment too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
TIMEOUT = 120


class _ThisPythonSpecs(KernelSpecManager):
    """Kernelspecs whose only kernel is ipykernel in the interpreter running the tests."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            name=kernel_name,
            display_name=f"Python {sys.version_info.major}",
            language="python",
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        )


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), (
        f"{path.name} is saved with outputs; clear them before committing"
    )
    km = KernelManager(kernel_name="python3", kernel_spec_manager=_ThisPythonSpecs())
    client = nbclient.NotebookClient(
        nb,
        km=km,
        timeout=TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
