"""A/B of a power study between two source trees: the same output, and the CPU time of each.

    git archive main src | tar -x -C /tmp/old          # the previous code
    python benchmarks/power_ab.py /tmp/old/src src      # identity check + 3 interleaved rounds
    python benchmarks/power_ab.py /tmp/old/src src --check-reps 200 --seeds 3 11 --rounds 5

1. **Identity**: for each seed, ``cs.power(cs.paper_model(), n=..., reps=--check-reps,
   n_jobs=1, seed=seed)`` (every hypothesis, H1–H8) runs once per tree (a fresh process with
   ``PYTHONPATH`` set to the tree), and the two ``replications`` tables are compared column by
   column, exactly (NaN equal to NaN): status, estimate, SE, std.all, p and verdict of every
   hypothesis in every replication.  A speed change that must not change any decision has to
   print ``identical`` for each seed.
2. **Time**: ``--rounds`` rounds of ``--reps`` replications at N = 300 (after one warm-up call
   in the same process), the trees alternating (A, B, A, B, ...), each the process's CPU
   seconds (``time.process_time``).  On a shared machine the speed drifts between runs, so the
   medians and the per-round ratios B/A are printed, not single runs.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import tempfile

_CHILD = r"""
import pickle, sys, time
import cbec_sem as cs
mode, reps, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sizes, out = sys.argv[4], sys.argv[5]
n = [int(v) for v in sizes.split(",")]
m = cs.paper_model()
if mode == "time":
    cs.power(m, n=[100], reps=5, n_jobs=1, seed=1)  # warm-up: imports, compiled models
t = time.process_time()
res = cs.power(m, n=n, reps=reps, n_jobs=1, seed=seed)
cpu = time.process_time() - t
with open(out, "wb") as fh:
    pickle.dump({"cpu": cpu, "replications": res.replications}, fh)
"""


def _run(tree: str, mode: str, reps: int, seed: int, sizes: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.pkl")
        env = {**os.environ, "PYTHONPATH": os.path.abspath(tree)}
        subprocess.run([sys.executable, "-c", _CHILD, mode, str(reps), str(seed), sizes, out],
                       env=env, check=True)
        with open(out, "rb") as fh:
            return pickle.load(fh)


def _same(a, b) -> list[str]:
    """The columns in which two replications tables differ (empty: identical)."""
    import numpy as np

    if list(a.columns) != list(b.columns) or a.shape != b.shape:
        return ["<shape or columns>"]
    bad = []
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        equal = (np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f"
                 else np.array_equal(x, y))
        if not equal:
            bad.append(c)
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", help="source tree A (the directory that holds cbec_sem/)")
    ap.add_argument("b", help="source tree B")
    ap.add_argument("--check-reps", type=int, default=200)
    ap.add_argument("--seeds", type=int, nargs="+", default=[3, 11])
    ap.add_argument("--sizes", default="150,300", help="sample sizes of the identity check")
    ap.add_argument("--reps", type=int, default=1000, help="replications of each timed run")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    for seed in args.seeds:
        ra = _run(args.a, "check", args.check_reps, seed, args.sizes)["replications"]
        rb = _run(args.b, "check", args.check_reps, seed, args.sizes)["replications"]
        bad = _same(ra, rb)
        print(f"seed {seed}, {args.check_reps} reps at n = {args.sizes}, {len(ra)} rows: "
              + ("identical" if not bad else f"DIFFERENT in {', '.join(bad)}"))
    times: dict[str, list[float]] = {"A": [], "B": []}
    for k in range(args.rounds):
        for name, tree in (("A", args.a), ("B", args.b)):
            times[name].append(_run(tree, "time", args.reps, 3, "300")["cpu"])
        print(f"round {k + 1}: A {times['A'][-1]:.2f} s, B {times['B'][-1]:.2f} s CPU")
    ratios = [b / a for a, b in zip(times["A"], times["B"])]
    print(f"median CPU s per {args.reps} reps (N = 300, H1–H8, n_jobs=1): "
          f"A {statistics.median(times['A']):.2f}, B {statistics.median(times['B']):.2f}; "
          f"B/A per round {', '.join(f'{r:.2f}' for r in ratios)} "
          f"(median {statistics.median(ratios):.2f})")


if __name__ == "__main__":
    main()
