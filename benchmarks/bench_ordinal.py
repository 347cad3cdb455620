"""Time polychoric correlations and WLSMV fits against lavaan, on psych's bfi items.

Usage (from anywhere, with the repository's virtual environment)::

    python benchmarks/bench_ordinal.py [--reps 10] [--no-r]

Cases (data: ``tests/fixtures/data/bfi.csv``, 2800 rows, six-point items, listwise deletion
as lavaan's default):

* ``polychoric25`` — the 25 × 25 polychoric matrix: ``cs`` :func:`polychoric` vs lavaan's
  ``lavCor(bfi[items], ordered = items)``;
* ``polychoric10`` — the same for A1–A5, C1–C5;
* ``wlsmv15`` — a three-factor CFA of A, C and N (15 items) with WLSMV: ``cs.fit(...,
  ordered=items, estimator="WLSMV")`` and reading ``params``/``fit_measures`` vs lavaan's
  ``cfa(..., ordered = items, estimator = "WLSMV")`` + ``fitMeasures()``.

Each tool gets one untimed warm-up, then ``--reps`` timed runs; the table shows the median and
the minimum, and the ratio cbec_sem/lavaan of the medians (below 1: cbec_sem is faster).  lavaan
is timed inside R by ``benchmarks/lavaan_ordinal_time.R`` (``proc.time()``, R's start-up not
counted).  The issue's target: no slower than lavaan (ratio ≤ 1), aiming at ≤ 1/2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

import cbec_sem as cs
from cbec_sem.engine.ordinal import polychoric

REPO = Path(__file__).resolve().parents[1]
BFI = REPO / "tests" / "fixtures" / "data" / "bfi.csv"
ITEMS25 = [f"{t}{k}" for t in "ACENO" for k in range(1, 6)]
ITEMS10 = ITEMS25[:10]
ITEMS15 = [f"{t}{k}" for t in "ACN" for k in range(1, 6)]
MODEL15 = """agree =~ A1 + A2 + A3 + A4 + A5
consc =~ C1 + C2 + C3 + C4 + C5
neuro =~ N1 + N2 + N3 + N4 + N5"""


def python_case(case: str, data: pd.DataFrame):
    if case == "polychoric25":
        return lambda: polychoric(data, ITEMS25)
    if case == "polychoric10":
        return lambda: polychoric(data, ITEMS10)

    def fit():
        res = cs.fit(MODEL15, data, ordered=ITEMS15, estimator="WLSMV")
        res.params, res.fit_measures  # noqa: B018 (what a user reads)
        return res

    return fit


def time_python(func, reps: int) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the listwise-deletion DataWarning
        func()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            func()
            times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def time_lavaan(case: str, reps: int) -> tuple[float, float] | None:
    if shutil.which("Rscript") is None:
        return None
    try:
        out = subprocess.run(
            ["Rscript", str(REPO / "benchmarks" / "lavaan_ordinal_time.R"), case, str(reps)],
            capture_output=True, text=True, timeout=1200, check=True, cwd=REPO)
    except (subprocess.SubprocessError, OSError):
        return None
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["median_s"], res["min_s"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--case", choices=("polychoric25", "polychoric10", "wlsmv15"),
                    action="append")
    ap.add_argument("--no-r", action="store_true", help="skip lavaan")
    args = ap.parse_args(argv)
    cases = args.case or ["polychoric25", "polychoric10", "wlsmv15"]
    data = pd.read_csv(BFI)
    print(f"bfi: {len(data)} rows; {args.reps} timed runs per tool and case")
    print(f"{'case':14s}{'cbec_sem median':>17s}{'min':>9s}{'lavaan median':>15s}{'min':>9s}"
          f"{'ratio':>9s}  target (<= 1, aim 1/2)")
    for case in cases:
        med, best = time_python(python_case(case, data), args.reps)
        lav = None if args.no_r else time_lavaan(case, args.reps)
        if lav is None:
            print(f"{case:14s}{med:15.4f} s{best:8.4f}s{'(lavaan skipped)':>24s}")
            continue
        ratio = med / lav[0]
        verdict = "aim met" if ratio <= 0.5 else ("met" if ratio <= 1 else "NOT met")
        print(f"{case:14s}{med:15.4f} s{best:8.4f}s{lav[0]:13.4f} s{lav[1]:8.4f}s"
              f"{'1/' + format(1 / ratio, '.1f'):>9s}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
