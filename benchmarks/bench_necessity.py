"""Error rates of the necessity verdicts: NCA's own rule against the correlation-matched rules.

For each cell, ``--reps`` samples are drawn (``cbec_sem.propositions.necessity_sim``) and three
verdicts are made on each:

* ``nca``: d ≥ .1 and NCA permutation p < .05 (Dul 2016; Dul, van der Laan & Kuik 2020);
* ``gaussian``: the same and the correlation-matched p < .05 against a Gaussian-copula null
  (:func:`cbec_sem.propositions.necessity_null.necessity_verdict` with ``spread=False``);
* ``spread``: the same against the null whose conditional spread may change with X (the
  default, ``spread=True``).

Cells: bivariate normal (no ceiling; ρ = 0, .2, .4, .6) as raw data and as means of four
7-point items (loading .75), N = 100 and 400 — a verdict "necessary" there is a false
positive; the bundled example's population (``cs.datasets.example_population()``), the true
latent TA and SCI (H8) and TA and FA (H7), N = 400 and 1000 — no ceiling, SCI depends on TA
through interactions, so its spread grows with TA; a true ceiling of d = .3 (and .2) measured
without error — "necessary" is a detection; a bivariate t (df = 4, ρ = .4), no ceiling but
non-Gaussian dependence.

Run::

    python benchmarks/bench_necessity.py --jobs 2     # 200 reps per cell
    python benchmarks/bench_necessity.py --quick      # 40 reps per cell

Prints a Markdown table with the rate of "necessary" per rule, its Monte Carlo standard error
(√(p(1 − p)/reps)) and the mean d and mean E₀[d] (the spread-matched null's expected d).
"""

from __future__ import annotations

import argparse
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import cbec_sem as cs
from cbec_sem.propositions.necessity import nca
from cbec_sem.propositions.necessity_null import necessity_verdict
from cbec_sem.propositions.necessity_sim import (
    bivariate_normal,
    bivariate_t,
    ceiling_uniform,
    likert_means,
)


def example_latent(condition: str, outcome: str, n: int, reps: int, rng):
    """The true latent (condition, outcome) of the example's population, ``reps`` samples."""
    full = cs.paper_model().to_lavaan() + "\nSCI ~ TA:FA + PC:TA + PC:FA"
    pop = cs.datasets.example_population()
    x, y = np.empty((reps, n)), np.empty((reps, n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(reps):
            df = cs.simulate(full, n, population=pop, seed=rng.integers(2**63),
                             return_latent=True)
            x[r], y[r] = df[condition].to_numpy(), df[outcome].to_numpy()
    return x, y


def cells():
    for cond, out, h in (("TA", "SCI", "H8"), ("TA", "FA", "H7")):
        for n in (400, 1000):
            yield (f"example {h} {cond}→{out} (true latent)", n, "false positive",
                   lambda n, reps, rng, c=cond, o=out: example_latent(c, o, n, reps, rng))
    for d in (0.2, 0.3):
        for n in (100, 400):
            yield (f"ceiling d={d}", n, "detection",
                   lambda n, reps, rng, d=d: ceiling_uniform(d, n, reps, rng))
    for data in ("raw", "likert"):
        for rho in (0.0, 0.2, 0.4, 0.6):
            for n in (100, 400):
                gen = bivariate_normal if data == "raw" else likert_means
                yield (f"normal ρ={rho} {data}", n, "false positive",
                       lambda n, reps, rng, g=gen, r=rho: g(r, n, reps, rng))
    for n in (100, 400):
        yield ("bivariate t df=4 ρ=.4", n, "flagged (no ceiling)",
               lambda n, reps, rng: bivariate_t(0.4, n, reps, rng))


def run_cell(k: int, reps: int, seed, permutations: int, draws: int) -> dict:
    name, n, what, gen = list(cells())[k]
    rng = np.random.default_rng(seed)
    x, y = gen(n, reps, rng)
    hits = {"nca": 0, "gaussian": 0, "spread": 0}
    d_obs, d_null = [], []
    t0 = time.perf_counter()
    for r in range(reps):
        res = nca(None, x[r], y[r], ceilings=("ce_fdh",), permutations=permutations,
                  seed=rng.integers(2**63))
        s = rng.integers(2**63)
        g = necessity_verdict(res, draws=draws, seed=s, spread=False).iloc[0]
        v = necessity_verdict(res, draws=draws, seed=s).iloc[0]
        hits["nca"] += bool(v["d"] >= 0.1 and v["p_value"] < 0.05)
        hits["gaussian"] += bool(g["necessary"])
        hits["spread"] += bool(v["necessary"])
        d_obs.append(v["d"])
        d_null.append(v["d_null"])
    return {"name": name, "n": n, "what": what, **{h: c / reps for h, c in hits.items()},
            "d": float(np.mean(d_obs)), "d_null": float(np.mean(d_null)),
            "seconds": time.perf_counter() - t0}


def _se(p: float, reps: int) -> float:
    return float(np.sqrt(p * (1 - p) / reps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--draws", type=int, default=999)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--jobs", type=int, default=1, help="cells run in parallel")
    parser.add_argument("--quick", action="store_true", help="40 reps per cell")
    args = parser.parse_args()
    reps = 40 if args.quick else args.reps
    seeds = np.random.SeedSequence(args.seed).spawn(64)
    print(f"reps per cell: {reps}; permutations {args.permutations}; null draws {args.draws}")
    print()
    print("| cell | N | a 'necessary' verdict is | NCA rule | Gaussian null | spread null "
          "(default) | mean d | mean E₀[d] |")
    print("|---|---|---|---|---|---|---|---|")
    t0 = time.perf_counter()
    k_all = range(len(list(cells())))
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_cell, k, reps, seeds[k], args.permutations, args.draws)
                   for k in k_all]
        for f in futures:
            o = f.result()
            print(f"| {o['name']} | {o['n']} | {o['what']} | {o['nca']:.3f} "
                  f"({_se(o['nca'], reps):.3f}) | {o['gaussian']:.3f} "
                  f"({_se(o['gaussian'], reps):.3f}) | {o['spread']:.3f} "
                  f"({_se(o['spread'], reps):.3f}) | {o['d']:.3f} | {o['d_null']:.3f} |",
                  flush=True)
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
