"""Run every notebook in this folder from top to bottom and save it with its outputs.

    PYTHONPATH=src python notebooks/execute.py            # all notebooks
    PYTHONPATH=src python notebooks/execute.py power.ipynb

The notebooks are committed with the outputs this script writes, so that a reader sees the
results on GitHub or in the documentation without running anything.  tests/test_notebooks.py
runs each notebook again and checks that it still runs without an error and that the outputs of
the cells tagged ``check`` (the key numbers) are the ones committed; after a change that moves
those numbers on purpose, run this script and commit the notebooks.

The kernel is ipykernel in the interpreter running this script (not whatever ``python`` a
kernelspec would find), so the notebooks run against the cbec_sem on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbclient
import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager

HERE = Path(__file__).resolve().parent
TIMEOUT = 300


class ThisPythonSpecs(KernelSpecManager):
    """Kernelspecs whose only kernel is ipykernel in this interpreter."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(name=kernel_name, display_name=f"Python {sys.version_info.major}",
                          language="python",
                          argv=[sys.executable, "-m", "ipykernel_launcher", "-f",
                                "{connection_file}"])


def absolute_pythonpath() -> None:
    """Make ``PYTHONPATH`` absolute: the kernel runs in the notebook's folder, where a relative
    ``PYTHONPATH=src`` would find nothing (and an installed cbec_sem instead)."""
    entries = [e for e in os.environ.get("PYTHONPATH", "").split(os.pathsep) if e]
    if entries:
        os.environ["PYTHONPATH"] = os.pathsep.join(os.path.abspath(e) for e in entries)


def execute(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` run from top to bottom in a fresh kernel (an error in a cell
    raises nbclient's CellExecutionError)."""
    absolute_pythonpath()
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name="python3", kernel_spec_manager=ThisPythonSpecs())
    client = nbclient.NotebookClient(nb, km=km, timeout=TIMEOUT, allow_errors=False,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def main(names: list[str]) -> None:
    paths = [HERE / n for n in names] if names else sorted(HERE.glob("*.ipynb"))
    for path in paths:
        nb = execute(path)
        nb.metadata.pop("widgets", None)
        nbformat.write(nb, path)
        print(f"executed {path.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
