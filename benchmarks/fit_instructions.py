"""Instructions per paper-model fit, counted by valgrind (a measure that does not depend on load).

    python benchmarks/fit_instructions.py                      # this tree's src/
    python benchmarks/fit_instructions.py /tmp/old/src src     # A/B of two source trees
    python benchmarks/fit_instructions.py --fits 20

On this 2-core machine the wall-clock speed of one process swings by up to half between runs
whenever anything else runs (see benchmarks/README.md), so a change of 5-10 % to the fit is
invisible in timings.  The number of machine instructions a fit executes is not: valgrind's
callgrind tool counts them exactly, and repeated runs agree to about 0.1 %.  Instructions are
not time (cache misses and BLAS vectorisation weigh differently), but for the same code path
they move together, and the count says which of two versions does less work.

What is counted: one fit as ``benchmarks/run.py`` times it (``cs.fit(model, data)``, then
``res.params`` and ``res.fit_measures``) of the paper model on ``tests/fixtures/data/
paper_sim.csv`` (N = 500), after 5 warm-up fits (imports and the per-model caches are not
counted: collection is switched on by ``callgrind_control`` only around the measured fits).
Needs ``valgrind`` (Debian: ``apt-get install valgrind``); about 40 s per tree.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, os, subprocess, sys
import pandas as pd
import cbec_sem as cs
root = sys.argv[2]
fixture = json.load(open(os.path.join(root, "tests/fixtures/lavaan/paper_sim.json")))
data = pd.read_csv(os.path.join(root, "tests/fixtures/data/paper_sim.csv"))
model = fixture.get("model") or fixture.get("syntax")
def one():
    res = cs.fit(model, data)
    res.params
    res.fit_measures
for _ in range(5):
    one()
subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], capture_output=True)
for _ in range(int(sys.argv[1])):
    one()
subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], capture_output=True)
"""


def instructions_per_fit(src: Path, fits: int) -> float:
    """Millions of instructions per fit with ``src`` first on the import path."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={out}", sys.executable, "-c", _CHILD, str(fits),
             str(ROOT)],
            env={**os.environ, "PYTHONPATH": str(src)}, check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        totals = re.search(r"^totals:\s+(\d+)", out.read_text(), flags=re.M)
        if totals is None:
            raise RuntimeError(f"no instruction total in {out}")
        return int(totals.group(1)) / fits / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="*", default=[str(ROOT / "src")],
                        help="source directories to compare (default: this tree's src)")
    parser.add_argument("--fits", type=int, default=10, help="measured fits per tree")
    args = parser.parse_args()
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (Debian: apt-get install valgrind)")
    counts = {}
    for tree in args.trees:
        counts[tree] = instructions_per_fit(Path(tree).resolve(), args.fits)
        print(f"{tree}: {counts[tree]:.2f} million instructions per fit")
    if len(counts) == 2:
        (a, ca), (b, cb) = counts.items()
        print(f"{b} / {a}: {cb / ca:.3f}")


if __name__ == "__main__":
    main()
