"""Error rates of the necessity verdicts: NCA's own rule against the correlation-matched rule.

For each cell, ``--reps`` samples are drawn (``cbec_sem.propositions.necessity_sim``) and two
verdicts are made on each:

* ``nca``: d ≥ .1 and NCA permutation p < .05 (Dul 2016; Dul, van der Laan & Kuik 2020);
* ``matched``: the same and, in addition, the correlation-matched p < .05
  (:func:`cbec_sem.propositions.necessity_null.necessity_verdict`).

Cells: bivariate normal (no ceiling; ρ = 0, .2, .4, .6) as raw data and as means of four
7-point items (loading .75), N = 100 and 400 — a verdict "necessary" there is a false
positive; a true ceiling of d = .3 (and .2) measured without error — "necessary" is a
detection; a bivariate t (df = 4, ρ = .4), no ceiling but non-Gaussian dependence.

Run::

    python benchmarks/bench_necessity.py            # 200 reps per cell (~10 min on 2 cores)
    python benchmarks/bench_necessity.py --quick    # 40 reps per cell

Prints a Markdown table with the rate of "necessary" per rule, its Monte Carlo standard error
(√(p(1 − p)/reps)) and the mean d and mean E₀[d] (the correlation-matched null's expected d).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cbec_sem.propositions.necessity import nca
from cbec_sem.propositions.necessity_null import necessity_verdict
from cbec_sem.propositions.necessity_sim import (
    bivariate_normal,
    bivariate_t,
    ceiling_uniform,
    likert_means,
)


def cells():
    for data in ("raw", "likert"):
        for rho in (0.0, 0.2, 0.4, 0.6):
            for n in (100, 400):
                gen = bivariate_normal if data == "raw" else likert_means
                yield (f"normal ρ={rho} {data}", n, "false positive",
                       lambda n, reps, rng, g=gen, r=rho: g(r, n, reps, rng))
    for d in (0.2, 0.3):
        for n in (100, 400):
            yield (f"ceiling d={d}", n, "detection",
                   lambda n, reps, rng, d=d: ceiling_uniform(d, n, reps, rng))
    for n in (100, 400):
        yield ("bivariate t df=4 ρ=.4", n, "flagged (no ceiling)",
               lambda n, reps, rng: bivariate_t(0.4, n, reps, rng))


def run_cell(gen, n: int, reps: int, seed, permutations: int, draws: int) -> dict:
    rng = np.random.default_rng(seed)
    x, y = gen(n, reps, rng)
    old = new = 0
    d_obs, d_null = [], []
    for r in range(reps):
        res = nca(None, x[r], y[r], ceilings=("ce_fdh",), permutations=permutations,
                  seed=rng.integers(2**63))
        v = necessity_verdict(res, draws=draws, seed=rng.integers(2**63)).iloc[0]
        old += bool(v["d"] >= 0.1 and v["p_value"] < 0.05)
        new += bool(v["necessary"])
        d_obs.append(v["d"])
        d_null.append(v["d_null"])
    return {"nca": old / reps, "matched": new / reps, "d": float(np.mean(d_obs)),
            "d_null": float(np.mean(d_null))}


def _se(p: float, reps: int) -> float:
    return float(np.sqrt(p * (1 - p) / reps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--draws", type=int, default=999)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--quick", action="store_true", help="40 reps per cell")
    args = parser.parse_args()
    reps = 40 if args.quick else args.reps
    seeds = np.random.SeedSequence(args.seed).spawn(64)
    print(f"reps per cell: {reps}; permutations {args.permutations}; null draws {args.draws}")
    print()
    print("| cell | N | a 'necessary' verdict is | NCA rule | matched rule | mean d | mean E₀[d] |")
    print("|---|---|---|---|---|---|---|")
    t0 = time.perf_counter()
    for k, (name, n, what, gen) in enumerate(cells()):
        out = run_cell(gen, n, reps, seeds[k], args.permutations, args.draws)
        print(f"| {name} | {n} | {what} | {out['nca']:.3f} ({_se(out['nca'], reps):.3f}) | "
              f"{out['matched']:.3f} ({_se(out['matched'], reps):.3f}) | {out['d']:.3f} | "
              f"{out['d_null']:.3f} |", flush=True)
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
