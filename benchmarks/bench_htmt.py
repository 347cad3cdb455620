"""Time the HTMT bootstrap: 5000 draws, 5 constructs × 5 items, N = 2500.

Usage (from anywhere)::

    python benchmarks/bench_htmt.py [--draws 5000] [--n 2500] [--reps 3] [--no-r]

Prints the seconds of ``cs.measurement.htmt(model, data, bootstrap=draws, seed=1)`` (best and
median of ``reps`` runs, after one warm-up), and two ratios measured in the same run on the same
data: against a plain per-draw loop in numpy (resample rows, ``np.corrcoef``, HTMT), and against
semTools' ``htmt()`` called once per resample in R (which has no bootstrap of its own).  Both
references are timed on a few hundred draws and scaled to ``draws``.  The issue's target: 5000
draws in under 10 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import cbec_sem as cs
from cbec_sem.measurement.discriminant import _design, _htmt_values, htmt, resample_indices

POPULATION = "\n".join(
    f"F{k} =~ " + " + ".join(f"{w}*y{k}{j}" for j, w in enumerate((0.8, 0.75, 0.7, 0.65, 0.6),
                                                                  start=1))
    for k in range(1, 6)
) + "\n" + "\n".join(f"F{a} ~~ 0.4*F{b}" for a in range(1, 6) for b in range(a + 1, 6))
MODEL = "\n".join(f"F{k} =~ " + " + ".join(f"y{k}{j}" for j in range(1, 6)) for k in range(1, 6))

R_SCRIPT = r"""
suppressPackageStartupMessages(library(semTools))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); B <- as.integer(args[2])
model <- readLines(args[3])
set.seed(1)
t0 <- proc.time()[["elapsed"]]
for (b in seq_len(B)) htmt(model, d[sample.int(nrow(d), replace = TRUE), ], htmt2 = FALSE)
cat(proc.time()[["elapsed"]] - t0, "\n")
"""


def naive_seconds(x: np.ndarray, draws: int) -> float:
    """A per-draw loop over the same resamples: rows, np.corrcoef, HTMT."""
    indicators = {f"F{k}": tuple(f"y{k}{j}" for j in range(1, 6)) for k in range(1, 6)}
    design = _design(indicators)
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    done = 0
    for idx in resample_indices(rng, x.shape[0], draws):
        for row in idx:
            r = np.corrcoef(x[row], rowvar=False)[design.pair_i, design.pair_j]
            _htmt_values(r, design, False, True)
            done += 1
            if done >= draws:
                return time.perf_counter() - t0
    return time.perf_counter() - t0


def r_seconds(data, draws: int) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "d.csv"
        data.to_csv(csv, index=False)
        script = Path(tmp) / "b.R"
        script.write_text(R_SCRIPT)
        model = Path(tmp) / "m.txt"
        model.write_text(MODEL + "\n")
        try:
            out = subprocess.run(["Rscript", str(script), str(csv), str(draws), str(model)],
                                 capture_output=True, text=True, timeout=600, check=True)
        except (subprocess.SubprocessError, OSError):
            return None
        return float(out.stdout.split()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=5000)
    ap.add_argument("--n", type=int, default=2500)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ref-draws", type=int, default=200,
                    help="draws timed for the reference loops (scaled to --draws)")
    ap.add_argument("--no-r", action="store_true", help="skip the semTools comparison")
    args = ap.parse_args(argv)

    data = cs.simulate(MODEL, args.n, population=POPULATION, seed=20261124)
    print(f"HTMT bootstrap: {args.draws} draws, 5 constructs x 5 items, N = {args.n}; "
          f"{os.cpu_count()} CPU(s), numpy {np.__version__}")
    htmt(MODEL, data, bootstrap=50, seed=1)  # warm-up
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        res = htmt(MODEL, data, bootstrap=args.draws, seed=1)
        times.append(time.perf_counter() - t0)
    best, median = min(times), statistics.median(times)
    print(f"cbec_sem htmt(bootstrap={args.draws}): best {best:.2f} s, median {median:.2f} s "
          f"over {args.reps} runs")
    print(res.table[["pair", "htmt", "se", "ci.lower", "ci.upper"]].head(3).to_string(index=False))

    x = data.to_numpy(dtype=float)
    naive = naive_seconds(x, args.ref_draws) * args.draws / args.ref_draws
    print(f"numpy per-draw loop (scaled from {args.ref_draws} draws): {naive:.2f} s "
          f"-> ratio cbec_sem/loop = {best / naive:.3f}")
    if not args.no_r:
        r = r_seconds(data, args.ref_draws)
        if r is None:
            print("semTools: Rscript or semTools not available, skipped")
        else:
            r_total = r * args.draws / args.ref_draws
            print(f"semTools htmt() per resample (scaled from {args.ref_draws} draws): "
                  f"{r_total:.2f} s -> ratio cbec_sem/semTools = {best / r_total:.3f}")
    print(f"target: under 10 s -> {'met' if best < 10 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
