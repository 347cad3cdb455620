"""Scaling curves of a complete-data ML fit: time and peak memory against N and against items.

Usage (from anywhere, with the repository's virtual environment)::

    python benchmarks/scaling.py                 # N up to 1,000,000; items 10..100 (~15 s)
    python benchmarks/scaling.py --quick         # N up to 100,000; items 10..50
    python benchmarks/scaling.py --json scaling.json --markdown scaling.md

Two curves, both continuous data simulated with ``cs.simulate`` (loadings 0.7, factor
covariances 0.3, standardised), both fitted with ``cs.fit(model, data)`` (ML, listwise, the
default) followed by reading ``res.params`` and ``res.fit_measures``:

* **against N** — 200, 1,000, 10,000, 100,000 and 1,000,000 respondents; 20 items; a 4-factor
  CFA (5 items per factor; 46 free parameters);
* **against items** — 10, 20, ..., 100 items; N = 1,000; one factor per 5 items (2 to 20
  factors; 22 to 390 free parameters).

For every point the script reports

* **fit s** — the median wall time of one full fit (``time.perf_counter``; one untimed warm-up
  on the same data first);
* **moments s** — the part of that fit spent forming the sample moments
  (``engine.samplestats.sample_stats``: validating the data frame, listwise deletion, means
  and covariances), timed inside the same fits by wrapping the function the engine calls;
* **rest s** — fit s − moments s: the parameter table, starting values, the optimisation,
  standard errors, the standardised solution and fit measures — everything that works on the
  moments, not the rows;
* **peak MiB** — the peak of memory allocated during one ``cs.fit`` (+ ``params`` +
  ``fit_measures``) beyond what existed before it, by ``tracemalloc`` (numpy registers its
  array buffers with tracemalloc, so the data copies are counted), with the DataFrame already
  in memory; **data MiB** is the size of that DataFrame, for comparison.  The memory run is a
  separate, untimed fit (tracemalloc slows Python allocations down).

Then log-log slopes (least squares of log time on log N, or on log items) give the measured
exponents: time ∝ N^b.  The issue's claim is that fit time is flat in N once the sample moments
are formed (b ≈ 0 for "rest"), and the moments themselves are one pass over the data (b ≈ 1 at
large N); the slopes are printed over all points and over the large-N points (N ≥ 10,000),
where fixed per-fit costs no longer dominate.  The issue's number: N = 1,000,000 with 20 items
in under 5 s and under 1 GiB of peak memory beyond the data.

BLAS: the engine runs single-threaded inside a fit (``engine/threads.py``); simulation (not
timed) uses numpy's default.  Absolute seconds depend on the machine and its load: the script
prints the load average at start and end.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import cbec_sem as cs
from cbec_sem.engine import estimate as _estimate_module

N_GRID = (200, 1_000, 10_000, 100_000, 1_000_000)
N_GRID_QUICK = (200, 1_000, 10_000, 100_000)
ITEM_GRID = tuple(range(10, 101, 10))
ITEM_GRID_QUICK = tuple(range(10, 51, 10))
ITEMS_FOR_N = 20
N_FOR_ITEMS = 1_000
PER_FACTOR = 5

# The number for the big-N point.
BIG_N = 1_000_000
BIG_N_SECONDS = 5.0
BIG_N_MIB = 1024.0


def cfa(n_items: int, per_factor: int = PER_FACTOR) -> tuple[str, str]:
    """(analysis model, population model) of a CFA with one factor per ``per_factor`` items."""
    k = n_items // per_factor
    if k * per_factor != n_items:
        raise ValueError(f"{n_items} items do not split into factors of {per_factor}")
    items = {f"F{f}": [f"y{f}_{j}" for j in range(1, per_factor + 1)] for f in range(1, k + 1)}
    model = "\n".join(f"{f} =~ " + " + ".join(v) for f, v in items.items())
    pop = "\n".join(f"{f} =~ " + " + ".join(f"0.7*{x}" for x in v) for f, v in items.items())
    covs = [f"F{a} ~~ 0.3*F{b}" for a in range(1, k + 1) for b in range(a + 1, k + 1)]
    return model, pop + ("\n" + "\n".join(covs) if covs else "")


class _MomentTimer:
    """Wraps the ``sample_stats`` the engine calls, adding up the seconds spent in it."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._orig = _estimate_module.sample_stats

    def __enter__(self):
        orig = self._orig

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return orig(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t0

        _estimate_module.sample_stats = timed
        return self

    def __exit__(self, *exc) -> None:
        _estimate_module.sample_stats = self._orig


def one_fit(model: str, data: pd.DataFrame):
    res = cs.fit(model, data)
    res.params  # noqa: B018 -- what a user reads: estimates, SEs, standardised solution
    res.fit_measures  # noqa: B018
    return res


def measure(model: str, data: pd.DataFrame, reps: int) -> dict:
    """Median fit/moments/rest seconds over ``reps`` timed fits, and one tracemalloc peak."""
    res = one_fit(model, data)  # warm-up on the same data (caches, first-touch of the frame)
    fits, moments = [], []
    for _ in range(reps):
        gc.collect()
        with _MomentTimer() as mt:
            t0 = time.perf_counter()
            res = one_fit(model, data)
            fits.append(time.perf_counter() - t0)
        moments.append(mt.seconds)
    rest = [f - m for f, m in zip(fits, moments)]
    del res
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        res = one_fit(model, data)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    est = res.estimation
    return {
        "fit_s": statistics.median(fits),
        "fit_min_s": min(fits),
        "moments_s": statistics.median(moments),
        "rest_s": statistics.median(rest),
        "fit_times_s": fits,
        "moment_times_s": moments,
        "peak_mib": peak / 2**20,
        "data_mib": float(data.memory_usage(index=True, deep=False).sum()) / 2**20,
        "npar": int(est.npar),
        "iterations": int(est.optim.iterations),
        "converged": bool(res.converged),
        "chisq": float(res.fit_measures["chisq"]),
        "df": float(res.fit_measures["df"]),
    }


def slope(xs, ys) -> float:
    """Least-squares slope of log(y) on log(x); NaN with fewer than two usable points."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y > 0]
    if len(pts) < 2:
        return float("nan")
    lx, ly = np.array(pts).T
    return float(np.polyfit(lx, ly, 1)[0])


def _reps_for(n: int, quick: bool) -> int:
    if quick:
        return 2 if n >= 100_000 else 3
    return 3 if n >= 1_000_000 else 5 if n >= 100_000 else 7


def _loadavg() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "n/a"


def _fmt(x: float) -> str:
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    if x >= 0.01:
        return f"{x:.3f}"
    return f"{x:.4f}"


def run(quick: bool, out) -> dict:
    import scipy

    n_grid = N_GRID_QUICK if quick else N_GRID
    item_grid = ITEM_GRID_QUICK if quick else ITEM_GRID
    record: dict = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "cbec_sem": cs.__version__,
        "load_start": _loadavg(),
        "by_n": [],
        "by_items": [],
    }
    out("# cbec_sem scaling — complete-data ML fit (cs.fit + params + fit_measures)\n")
    out(f"- date: {record['date']}; {record['platform']}; {record['cpu_count']} cores")
    out(f"- python {record['python']}, numpy {record['numpy']}, scipy {record['scipy']}, "
        f"pandas {record['pandas']}, cbec_sem {record['cbec_sem']}")
    out(f"- load average at start (1/5/15 min): {record['load_start']}\n")

    # ---- against N ------------------------------------------------------------------------
    model, pop = cfa(ITEMS_FOR_N)
    out(f"## Against N — {ITEMS_FOR_N} items, {ITEMS_FOR_N // PER_FACTOR}-factor CFA, "
        "continuous\n")
    out("| N | reps | fit s (median) | fit s (min) | moments s | rest s | iterations "
        "| peak MiB beyond data | data MiB |")
    out("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in n_grid:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = cs.simulate(pop, n, seed=n % 9973 + 1)
        data = data[[c for c in data.columns if c.startswith("y")]]
        reps = _reps_for(n, quick)
        m = measure(model, data, reps)
        m.update(n=n, items=ITEMS_FOR_N, reps=reps)
        record["by_n"].append(m)
        out(f"| {n:,} | {reps} | {_fmt(m['fit_s'])} | {_fmt(m['fit_min_s'])} | "
            f"{_fmt(m['moments_s'])} | {_fmt(m['rest_s'])} | {m['iterations']} | "
            f"{m['peak_mib']:.1f} | {m['data_mib']:.1f} |")
        del data
        gc.collect()
    out("")

    # ---- against items --------------------------------------------------------------------
    out(f"## Against items — N = {N_FOR_ITEMS:,}, one factor per {PER_FACTOR} items, "
        "continuous\n")
    out("| items | factors | free parameters | reps | fit s (median) | moments s | rest s "
        "| iterations | peak MiB beyond data |")
    out("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for p in item_grid:
        model, pop = cfa(p)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = cs.simulate(pop, N_FOR_ITEMS, seed=p)
        data = data[[c for c in data.columns if c.startswith("y")]]
        reps = 3 if p >= 70 else 5
        m = measure(model, data, reps)
        m.update(n=N_FOR_ITEMS, items=p, factors=p // PER_FACTOR, reps=reps)
        record["by_items"].append(m)
        out(f"| {p} | {p // PER_FACTOR} | {m['npar']} | {reps} | {_fmt(m['fit_s'])} | "
            f"{_fmt(m['moments_s'])} | {_fmt(m['rest_s'])} | {m['iterations']} | "
            f"{m['peak_mib']:.1f} |")
    out("")

    # ---- exponents ------------------------------------------------------------------------
    by_n, by_p = record["by_n"], record["by_items"]
    ns = [r["n"] for r in by_n]
    big = [r for r in by_n if r["n"] >= 10_000]
    ps = [r["items"] for r in by_p]
    half = [r for r in by_p if r["items"] >= 50]
    exps = {
        "n_all": {k: slope(ns, [r[k] for r in by_n]) for k in ("fit_s", "moments_s", "rest_s",
                                                             "peak_mib")},
        "n_large": {k: slope([r["n"] for r in big], [r[k] for r in big])
                    for k in ("fit_s", "moments_s", "rest_s", "peak_mib")},
        "items_all": {k: slope(ps, [r[k] for r in by_p]) for k in ("fit_s", "moments_s",
                                                                 "rest_s")},
        "items_large": {k: slope([r["items"] for r in half], [r[k] for r in half])
                        for k in ("fit_s", "moments_s", "rest_s")},
    }
    record["exponents"] = exps
    out("## Measured exponents (log-log least-squares slopes: time ∝ x^b)\n")
    out("| curve | points | fit b | moments b | rest b | peak memory b |")
    out("|---|---|---:|---:|---:|---:|")

    def row(name, pts, e, mem=True):
        out(f"| {name} | {pts} | {e['fit_s']:.2f} | {e['moments_s']:.2f} | {e['rest_s']:.2f} | "
            + (f"{e['peak_mib']:.2f} |" if mem else "— |"))

    row("against N", f"N = {ns[0]:,}–{ns[-1]:,}", exps["n_all"])
    if len(big) >= 2:
        row("against N", f"N = {big[0]['n']:,}–{big[-1]['n']:,}", exps["n_large"])
    row("against items", f"{ps[0]}–{ps[-1]} items", exps["items_all"], mem=False)
    if len(half) >= 2:
        row("against items", f"{half[0]['items']}–{half[-1]['items']} items",
            exps["items_large"], mem=False)
    out("")

    # ---- the number ----------------------------------------------------------------
    top = next((r for r in by_n if r["n"] == BIG_N), None)
    if top is None:
        out(f"- N = {BIG_N:,}: not run (--quick)")
    else:
        t_ok = top["fit_s"] < BIG_N_SECONDS
        m_ok = top["peak_mib"] < BIG_N_MIB
        record["big_n_target"] = {"seconds_met": t_ok, "memory_met": m_ok}
        out(f"- target N = {BIG_N:,}, {ITEMS_FOR_N} items: fit < {BIG_N_SECONDS:g} s → "
            f"{top['fit_s']:.2f} s (**{'met' if t_ok else 'NOT met'}**); peak memory beyond "
            f"the data < {BIG_N_MIB:.0f} MiB → {top['peak_mib']:.0f} MiB "
            f"(**{'met' if m_ok else 'NOT met'}**; the data themselves: "
            f"{top['data_mib']:.0f} MiB)")
    record["load_end"] = _loadavg()
    out(f"- load average at end: {record['load_end']}")
    return record


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="N up to 100,000 and items up to 50, fewer reps")
    ap.add_argument("--json", type=Path, default=None, help="write the raw results here")
    ap.add_argument("--markdown", type=Path, default=None, help="write the tables here too")
    args = ap.parse_args(argv)
    lines: list[str] = []

    def out(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    record = run(args.quick, out)
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join(lines) + "\n")
        print(f"\ntables written to {args.markdown}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=2, default=str) + "\n")
        print(f"raw results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
