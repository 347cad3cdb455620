"""Every script in ``examples/`` runs as a newcomer would run it: ``python examples/x.py``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(script: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory):
    """``ran(script)``: the finished process of ``python script``, run once per module (each
    run is a fresh interpreter fitting the paper model, ~4 s of CPU; the tests below read the
    same run)."""
    done: dict[Path, subprocess.CompletedProcess[str]] = {}

    def get(script: Path) -> subprocess.CompletedProcess[str]:
        if script not in done:
            # not from the repository root: no reliance on cwd
            done[script] = run(script, cwd=tmp_path_factory.mktemp(script.stem))
        return done[script]

    return get


@pytest.mark.parametrize("script", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_example_script_runs(script: Path, ran) -> None:
    proc = ran(script)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


def test_fit_paper_model_reports_the_hypotheses(ran) -> None:
    proc = ran(EXAMPLES / "fit_paper_model.py")
    assert proc.returncode == 0, proc.stderr
    assert "H1" in proc.stdout
    h1_rows = [ln for ln in proc.stdout.splitlines() if ln.split()[:2] == ["H1", "path"]]
    assert h1_rows and all("not supported" in ln for ln in h1_rows), h1_rows
    assert "H8" in proc.stdout
