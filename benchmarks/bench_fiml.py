"""FIML speed: ``cs.fit(..., missing="fiml")`` against lavaan's ``cfa(..., missing = "ml")``.

    python benchmarks/bench_fiml.py                 # both cases, 10 timed fits each (~1 min)
    python benchmarks/bench_fiml.py --case bfi --reps 20
    python benchmarks/bench_fiml.py --no-lavaan     # cbec_sem only
    python benchmarks/bench_fiml.py --json fiml.json

Cases:

* ``bfi`` — psych's bfi, 3 factors (agreeableness, conscientiousness, neuroticism) on 15 items,
  N = 2800 with the respondents' real missing answers (52 missingness patterns);
  ``tests/fixtures/data/bfi.csv``.  The issue's case.
* ``hs_mcar`` — the Holzinger–Swineford 3-factor CFA with ~10% of the values deleted completely
  at random (``tests/fixtures/data/hs_mcar.csv``, made by ``tests/fixtures/make_fiml_fixtures.R``).

What is timed, per fit (each tool gets one untimed warm-up fit, then ``--reps`` timed fits):

* **cbec_sem** — ``cs.fit(model, data, missing="fiml")``, then reading ``res.params`` and
  ``res.fit_measures``: missingness patterns, the EM saturated model, the optimisation,
  observed-information standard errors, and every fit measure lavaan reports under FIML
  (baseline, GFI, the FIML-corrected robust CFI/RMSEA); ``time.perf_counter``.
* **lavaan** — ``cfa(model, data, missing = "ml")`` then ``fitMeasures(fit)`` in
  ``benchmarks/lavaan_fiml_time.R``; ``proc.time()`` inside R (R's start-up and the CSV read
  are not counted).

The ratio is lavaan's median ÷ cbec_sem's median (2.0× means cbec_sem takes half lavaan's
time).  The issue's target for ``bfi``: no slower than lavaan (≥ 1×), aim ≥ 2×.  Both tools
must reach the same optimum: the χ² column compares them.  Other processes on the machine
slow both tools alike only roughly; the load average is printed at start and end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import cbec_sem as cs  # noqa: E402

BFI_MODEL = """agree =~ A1 + A2 + A3 + A4 + A5
consc =~ C1 + C2 + C3 + C4 + C5
neuro =~ N1 + N2 + N3 + N4 + N5"""
HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"

CASES = {
    "bfi": (BFI_MODEL, ROOT / "tests/fixtures/data/bfi.csv"),
    "hs_mcar": (HS_MODEL, ROOT / "tests/fixtures/data/hs_mcar.csv"),
}


def time_ours(model: str, data: pd.DataFrame, reps: int) -> tuple[list[float], float]:
    def one() -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # hs_mcar: the two empty rows are reported
            res = cs.fit(model, data, missing="fiml")
        _ = res.params, res.fit_measures
        return float(res.fit_measures["chisq"])

    chisq = one()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        one()
        times.append(time.perf_counter() - t0)
    return times, chisq


def time_lavaan(case: str, reps: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    out = subprocess.run(
        ["Rscript", str(ROOT / "benchmarks/lavaan_fiml_time.R"), case, str(reps)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        print(f"  lavaan failed: {out.stderr.strip()[:300]}")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--no-lavaan", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    cases = args.case or list(CASES)
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    rows = []
    for case in cases:
        model, path = CASES[case]
        data = pd.read_csv(path)
        times, chisq = time_ours(model, data, args.reps)
        row = {"case": case, "reps": args.reps, "ours_median_s": statistics.median(times),
               "ours_min_s": min(times), "ours_chisq": chisq}
        lav = None if args.no_lavaan else time_lavaan(case, args.reps)
        if lav is not None:
            row.update(lavaan_median_s=lav["median_s"], lavaan_min_s=lav["min_s"],
                       lavaan_chisq=lav["chisq"],
                       ratio=lav["median_s"] / row["ours_median_s"])
        rows.append(row)
    print(f"\n{'case':8s} {'cbec_sem median (min)':>24s} {'lavaan median (min)':>24s} "
          f"{'lavaan/cbec_sem':>16s} {'chisq ours / lavaan':>24s}")
    for r in rows:
        ours = f"{r['ours_median_s'] * 1e3:8.1f} ms ({r['ours_min_s'] * 1e3:6.1f})"
        if "ratio" in r:
            lav = f"{r['lavaan_median_s'] * 1e3:8.1f} ms ({r['lavaan_min_s'] * 1e3:6.1f})"
            ratio = f"{r['ratio']:14.1f}×"
            ok = "✓" if abs(r["ours_chisq"] - r["lavaan_chisq"]) <= 1e-3 else "✗"
            chi = f"{r['ours_chisq']:.3f} / {r['lavaan_chisq']:.3f} {ok}"
        else:
            lav, ratio, chi = "—", "—", f"{r['ours_chisq']:.3f}"
        print(f"{r['case']:8s} {ours:>24s} {lav:>24s} {ratio:>16s} {chi:>24s}")
        if r["case"] == "bfi" and "ratio" in r:
            verdict = ("aim met (≥ 2×)" if r["ratio"] >= 2 else
                       "target met (≥ 1×), aim (2×) not met" if r["ratio"] >= 1 else
                       "target NOT met")
            print(f"         bfi: {verdict}")
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
