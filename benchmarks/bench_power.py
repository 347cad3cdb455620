"""Monte Carlo power speed: 1000 replications of the paper model at n = 300.

    python benchmarks/bench_power.py                    # the timings below (~1 min)
    python benchmarks/bench_power.py --reps 1000 --repeat 3 --json power.json
    python benchmarks/bench_power.py --no-lavaan        # cbec_sem only
    python benchmarks/bench_power.py --dask             # also on a LocalCluster (2 workers)

The targets (issue 15): ``cs.power(cs.paper_model(), n=[300], reps=1000)`` for the path and
indirect hypotheses (H1–H4) in under 1.5 s, and all of H1–H8 in under 10 s, on a 2-core
machine.  What makes H5/H6 and H7/H8 cheaper (the closed-form MLR sandwich, NCA's records,
the lean necessity test) is in docs/performance.md; on a loaded machine compare CPU seconds.

What is timed (``time.perf_counter`` around the whole ``power()`` call: compiling the model,
fitting it to the population moments, the replications, the table):

* **paths + indirect** — ``hypotheses=["H1", "H2", "H3", "H4"]`` with ``n_jobs=1`` and
  ``n_jobs=2``.  The first ``n_jobs=2`` call starts joblib's worker processes (each imports
  numpy, scipy, pandas and cbec_sem: several seconds on this machine) and is reported as
  "cold"; later calls reuse the workers ("warm").
* **the cost of the other kinds**, per replication, separately (they are not part of the
  target): the interaction/moderation hypotheses H5, H6a, H6b (the product-indicator model,
  60 observed variables, refitted per replication) and the necessity hypotheses H7, H8 (NCA
  with 200 permutations per replication), each with ``n_jobs=1`` and fewer replications
  (``--reps-other``), reported per replication and extrapolated to 1000.
* **lavaan** (when ``Rscript`` and lavaan are available) — the same study as a lavaan user
  writes it (``benchmarks/lavaan_power.R``): draw n = 300 cases from the population covariance
  matrix, ``sem()``, ``parameterEstimates()``, for ``--reps-lavaan`` replications; its time per
  replication × 1000 is compared with ours.  The printed ratio is lavaan's time ÷ cbec_sem's.

Also printed: the power of H1–H4 from both tools (they agree within Monte Carlo error; lavaan
draws from the covariance matrix of the example population, cbec_sem from the population
itself, whose interaction terms change only the higher moments).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import cbec_sem as cs  # noqa: E402
from cbec_sem.power import power  # noqa: E402
from cbec_sem.simulate import population_model  # noqa: E402

PATHS = ["H1", "H2", "H3", "H4"]


def load() -> str:
    try:
        return "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load average unknown"


def timed(repeat: int, **kwargs) -> tuple[list[float], object]:
    times, last = [], None
    for r in range(repeat):
        t = time.perf_counter()
        last = power(cs.paper_model(), **kwargs, seed=r + 1)
        times.append(time.perf_counter() - t)
    return times, last


def lavaan(n: int, reps: int) -> dict | None:
    if shutil.which("Rscript") is None:
        print("lavaan: skipped (Rscript is not on PATH)")
        return None
    pm = population_model(cs.paper_model(), population=cs.datasets.example_population())
    names = list(pm.observed)
    sigma = pm.covariance.loc[names, names].to_numpy()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "power.json"
        path.write_text(json.dumps({"model": cs.paper_model().to_lavaan(), "names": names,
                                    "sigma": sigma.tolist(), "n": n, "reps": reps,
                                    "seed": 1}))
        proc = subprocess.run(["Rscript", str(ROOT / "benchmarks/lavaan_power.R"), str(path)],
                              cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        print("lavaan: failed\n" + proc.stderr[-2000:])
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def dask_timing(reps: int, n: int) -> dict | None:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("dask: skipped (pip install 'cbec-sem[dask]')")
        return None
    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=50) as cluster, \
            Client(cluster) as client:
        start = time.perf_counter() - t0
        t = time.perf_counter()
        res = power(cs.paper_model(), [n], reps=reps, hypotheses=PATHS, seed=1, client=client)
        elapsed = time.perf_counter() - t
    local = power(cs.paper_model(), [n], reps=reps, hypotheses=PATHS, seed=1)
    same = res.replications.equals(local.replications)
    return {"startup_s": start, "elapsed_s": elapsed, "identical_to_local": bool(same)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per variant")
    ap.add_argument("--reps-other", type=int, default=100,
                    help="replications for the interaction and necessity timings")
    ap.add_argument("--reps-lavaan", type=int, default=100)
    ap.add_argument("--no-lavaan", action="store_true")
    ap.add_argument("--dask", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    print(f"cbec_sem {cs.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} cores; {load()}")
    out: dict = {"n": args.n, "reps": args.reps, "cores": os.cpu_count()}

    serial, res = timed(args.repeat, n=[args.n], reps=args.reps, hypotheses=PATHS, n_jobs=1)
    cold, _ = timed(1, n=[args.n], reps=args.reps, hypotheses=PATHS, n_jobs=2)
    warm, res2 = timed(args.repeat, n=[args.n], reps=args.reps, hypotheses=PATHS, n_jobs=2)
    assert res2.replications.equals(
        power(cs.paper_model(), [args.n], reps=args.reps, hypotheses=PATHS, n_jobs=1,
              seed=args.repeat).replications), "n_jobs changed the numbers"
    print(f"\nH1-H4, {args.reps} replications at n = {args.n} (target < 10 s):")
    print(f"  n_jobs=1        median {statistics.median(serial):6.2f} s  (min {min(serial):.2f})")
    print(f"  n_jobs=2 cold   {cold[0]:6.2f} s  (starts the worker processes)")
    print(f"  n_jobs=2 warm   median {statistics.median(warm):6.2f} s  (min {min(warm):.2f})")
    print("  power:", ", ".join(f"{i} {p:.3f}" for i, p in
                                zip(res.table["id"], res.table["power"])))
    out["paths"] = {"n_jobs1_s": serial, "n_jobs2_cold_s": cold[0], "n_jobs2_warm_s": warm,
                    "power": dict(zip(res.table["id"], res.table["power"]))}
    per_rep = statistics.median(serial) / args.reps

    print(f"\nOther kinds, {args.reps_other} replications each, n_jobs=1 (extrapolated to "
          f"{args.reps}):")
    for label, hyps in (("interaction H5, H6a, H6b", ["H5", "H6a", "H6b"]),
                        ("necessity H7, H8 (200 permutations)", ["H7", "H8"])):
        t = time.perf_counter()
        r = power(cs.paper_model(), [args.n], reps=args.reps_other, hypotheses=hyps, seed=1)
        total = time.perf_counter() - t
        each = total / args.reps_other
        print(f"  {label:38s} {1000 * each:7.1f} ms/rep  → {each * args.reps:6.1f} s for "
              f"{args.reps} ({each / per_rep:4.1f}× a H1-H4 replication; setup included)")
        out[label] = {"seconds": total, "per_rep_s": each,
                      "power": dict(zip(r.table["id"], r.table["power"]))}

    if not args.no_lavaan:
        lav = lavaan(args.n, args.reps_lavaan)
        if lav is not None:
            ratio = lav["per_rep_s"] * args.reps / statistics.median(serial)
            print(f"\nlavaan {lav['lavaan_version']}: {1000 * lav['per_rep_s']:.1f} ms/rep "
                  f"({args.reps_lavaan} reps) → {lav['per_rep_s'] * args.reps:.1f} s for "
                  f"{args.reps}; ratio lavaan/cbec_sem (n_jobs=1) = {ratio:.1f}×")
            print("  lavaan power:", ", ".join(f"{k} {v:.3f}" for k, v in lav["power"].items()))
            out["lavaan"] = lav | {"ratio_vs_n_jobs1": ratio}

    if args.dask:
        d = dask_timing(args.reps, args.n)
        if d is not None:
            print(f"\nDask LocalCluster (2 processes): startup {d['startup_s']:.1f} s, study "
                  f"{d['elapsed_s']:.2f} s, identical to the local run: "
                  f"{d['identical_to_local']}")
            out["dask"] = d

    print(f"\n{load()}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=float))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
