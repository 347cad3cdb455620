"""PLS bootstrap speed: cbec_sem's batched bootstrap against the Python seminr port.

    python benchmarks/bench_pls.py                 # both cases (~2 min, most of it the port)
    python benchmarks/bench_pls.py --no-port       # cbec_sem only
    python benchmarks/bench_pls.py --json pls.json

Cases (the issue's targets):

* **mobi**: seminr's mobi model (4 mode-A constructs, 13 items, N = 250; the model of
  ``tests/pls/pls_fixtures.py``), 10,000 draws; target under 3 s on the 2-core machine.
* **paper-size**: 6 mode-A constructs, 20 items, N = 400, five paths (simulated from a
  population with loadings .7-.8, seed 1), 5000 draws, against the Python seminr port
  (``pip install seminr``; ``bootstrap_model(fit, nboot=5000, indices=...)``, serial) in the
  same run; target ≥ 30× faster.

What is timed: ``bootstrap_pls(est, B, seed=...)`` on a fitted estimate (the fit itself not
timed; it includes the n-draw jackknife for BCa), and the port's ``bootstrap_model`` on its
fitted model, both with ``time.perf_counter``.  Both tools get the *same* resampling indices
so their bootstrap SEs must agree to ~1e-10 (printed as a check).  The script prints the load
average: times on a shared machine are noisy; compare the minimum of the repetitions.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cbec_sem.pls import estimate_pls
from cbec_sem.pls.bootstrap import bootstrap_pls

ROOT = Path(__file__).resolve().parents[1]
MOBI = """Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation =~ CUEX1 + CUEX2 + CUEX3
Value =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Satisfaction ~ Image + Expectation + Value"""

BLOCKS = {"A": 4, "B": 4, "C": 3, "D": 3, "E": 3, "F": 3}
PATHS = [("B", "A"), ("D", "A"), ("D", "B"), ("D", "C"), ("E", "D"), ("F", "D"), ("F", "E")]
PAPER_SIZE = "\n".join(
    [f"{c} =~ " + " + ".join(f"{c.lower()}{i}" for i in range(1, k + 1)) for c, k in BLOCKS.items()]
    + [f"{t} ~ {s}" for t, s in PATHS])


def paper_size_data(n: int = 400, seed: int = 1) -> pd.DataFrame:
    """Simulate the paper-size model: standardised latent paths .3, loadings .7-.8."""
    rng = np.random.default_rng(seed)
    eta = {}
    for c in BLOCKS:
        preds = [s for t, s in PATHS if t == c]
        signal = sum(0.3 * eta[s] for s in preds) if preds else 0.0
        eta[c] = signal + rng.normal(size=n) * np.sqrt(max(1 - 0.09 * len(preds) * 1.3, 0.3))
        eta[c] = (eta[c] - eta[c].mean()) / eta[c].std()
    cols = {}
    for c, k in BLOCKS.items():
        for i in range(1, k + 1):
            lam = rng.uniform(0.7, 0.8)
            cols[f"{c.lower()}{i}"] = lam * eta[c] + np.sqrt(1 - lam**2) * rng.normal(size=n)
    return pd.DataFrame(cols)


def _port_fit(text, data):
    import seminr as sm

    mm, rels = [], []
    for line in text.splitlines():
        if "=~" in line:
            name, items = line.split("=~")
            mm.append(sm.composite(name.strip(), [x.strip() for x in items.split("+")],
                                   weights=sm.mode_A))
        else:
            t, s = (x.strip() for x in line.split("~"))
            rels.append(sm.paths(from_=s, to=t))
    return sm.estimate_pls(data, sm.constructs(*mm), sm.relationships(*rels))


def time_ours(est, draws, reps, seed=0):
    times = []
    for r in range(reps):
        t0 = time.perf_counter()
        boot = bootstrap_pls(est, draws, seed=seed + r)
        times.append(time.perf_counter() - t0)
    return times, boot


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-port", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    out = {}

    mobi = pd.read_csv(ROOT / "tests" / "fixtures" / "seminr" / "mobi.csv")
    est = estimate_pls(MOBI, mobi)
    times, boot = time_ours(est, 10_000, args.reps)
    print(f"mobi, 10,000 draws: cbec_sem min {min(times):.2f} s, median "
          f"{np.median(times):.2f} s (target < 3 s); failed draws {boot.failed}")
    out["mobi_10000"] = {"cbec_sem_s": times}

    data = paper_size_data()
    est = estimate_pls(PAPER_SIZE, data)
    times, boot = time_ours(est, 5000, args.reps)
    print(f"paper-size (6 constructs, 20 items, N=400), 5000 draws: cbec_sem min "
          f"{min(times):.2f} s, median {np.median(times):.2f} s")
    out["paper_5000"] = {"cbec_sem_s": times}
    if not args.no_port:
        import seminr as sm

        fit = _port_fit(PAPER_SIZE, data)
        idx = np.random.default_rng(99).integers(0, len(data), size=(5000, len(data)))
        t0 = time.perf_counter()
        pboot = sm.bootstrap_model(fit, nboot=5000, indices=idx)
        port_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours = bootstrap_pls(est, indices=idx)
        ours_s = time.perf_counter() - t0
        desc = pboot.paths_descriptives
        cols = list(desc.cols)
        worst = 0.0
        for r, row in enumerate(desc.rows):
            for c, col in enumerate(cols):
                if col.endswith(" Boot SD") and desc.values[r, c] != 0:
                    target = col[: -len(" Boot SD")]
                    se = ours.table.query("op == '~' and lhs == @target and rhs == @row")["se"]
                    worst = max(worst, abs(float(se.iloc[0]) - desc.values[r, c]))
        print(f"  seminr port (same 5000 indices): {port_s:.1f} s; cbec_sem {ours_s:.2f} s; "
              f"ratio {port_s / ours_s:.0f}x (target >= 30x); min-time ratio "
              f"{port_s / min(times + [ours_s]):.0f}x; max |SE difference| {worst:.1e}")
        out["paper_5000"].update(port_s=port_s, same_indices_cbec_sem_s=ours_s,
                                 ratio=port_s / ours_s, max_se_diff=worst)
    print(f"load average at end: {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
