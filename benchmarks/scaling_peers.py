"""Scaling against the peers: time of one full fit against N and against the number of items,
for cbec_sem, lavaan (through ``Rscript``) and semopy, in the same run on the same data.

Usage (from anywhere, with the repository's virtual environment)::

    python benchmarks/scaling_peers.py               # N 200..100,000; items 10..50 (~3-5 min)
    python benchmarks/scaling_peers.py --quick       # N 200..10,000; items 10..30
    python benchmarks/scaling_peers.py --json peers.json --markdown peers.md

The models and data are those of ``benchmarks/scaling.py`` (a CFA with one factor per 5
items, loadings 0.7, factor covariances 0.3, simulated with ``cs.simulate``): 20 items for the
curve against N; N = 1,000 for the curve against items.  One full fit is what a user needs for
a results table: cbec_sem ``cs.fit`` + ``params`` + ``fit_measures``; lavaan ``sem()`` +
``fitMeasures()`` (timed inside R, so R's start-up is not counted; the CSV is read before the
clock starts); semopy ``Model(desc).fit(data)`` + ``calc_stats`` + ``inspect()`` with one BLAS
thread (see ``benchmarks/README.md``).  Each tool gets one warm-up fit per point, then
``--reps`` timed fits; the table shows the minimum (the least disturbed by other processes on
a shared machine) and the speed-up = tool seconds / cbec_sem seconds.

The exponents are least-squares slopes of log time on log N (or log items): time ∝ N^b.  They
are printed over all points and, for N, over N ≥ 10,000, where fixed per-fit costs no longer
dominate.  modsem is not in these curves: for a model without latent interactions it calls
lavaan itself (its own timings are in ``bench_lms.py``, where it differs from lavaan).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import cbec_sem as cs  # noqa: E402
from run import time_semopy  # noqa: E402
from scaling import PER_FACTOR, cfa, slope  # noqa: E402

N_GRID = (200, 1_000, 10_000, 100_000)
N_GRID_QUICK = (200, 1_000, 10_000)
ITEM_GRID = (10, 20, 30, 40, 50)
ITEM_GRID_QUICK = (10, 20, 30)
ITEMS_FOR_N = 20
N_FOR_ITEMS = 1_000


def time_cbec(model: str, data, reps: int) -> list[float]:
    def one():
        res = cs.fit(model, data)
        res.params  # noqa: B018
        res.fit_measures  # noqa: B018

    one()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        one()
        times.append(time.perf_counter() - t0)
    return times


def time_lavaan(jobs: list[dict]) -> tuple[dict[str, list[float]], str]:
    """lavaan's times per job key, in one R process; ({}, reason) when R/lavaan is missing."""
    if shutil.which("Rscript") is None:
        return {}, "skipped: Rscript is not on PATH"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(jobs, fh)
    proc = subprocess.run(["Rscript", str(BENCH / "lavaan_scaling.R"), fh.name],
                          capture_output=True, text=True)
    os.unlink(fh.name)
    if proc.returncode != 0:
        return {}, "skipped: " + (proc.stderr.strip().splitlines() or ["Rscript failed"])[-1]
    out = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
    times = {j["key"]: list(np.atleast_1d(j["times"])) for j in out["jobs"]}
    return times, f"lavaan {out['lavaan_version']}"


def points(quick: bool) -> list[dict]:
    out = []
    for n in (N_GRID_QUICK if quick else N_GRID):
        out.append({"curve": "N", "x": n, "items": ITEMS_FOR_N, "n": n})
    for p in (ITEM_GRID_QUICK if quick else ITEM_GRID):
        out.append({"curve": "items", "x": p, "items": p, "n": N_FOR_ITEMS})
    return out


def run(quick: bool, reps: int, out) -> dict:
    pts = points(quick)
    tmp = Path(tempfile.mkdtemp(prefix="cbec_scaling_"))
    jobs = []
    for k, pt in enumerate(pts):
        model, pop = cfa(pt["items"], PER_FACTOR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = cs.simulate(pop, pt["n"], seed=k + 1)
        pt["model"], pt["data"] = model, data
        pt["key"] = f"{pt['curve']}={pt['x']}"
        path = tmp / f"{k}.csv"
        data.to_csv(path, index=False)
        jobs.append({"key": pt["key"], "model": model, "data": str(path), "reps": reps})
    out(f"load average at start: {os.getloadavg()[0]:.2f}; {reps} timed fits per tool and point")
    lav, lav_note = time_lavaan(jobs)
    for pt in pts:
        pt["cbec_sem"] = min(time_cbec(pt["model"], pt["data"], reps))
        pt["lavaan"] = min(lav[pt["key"]]) if pt["key"] in lav else None
        sm = time_semopy(pt["model"], pt["data"], reps, 1)
        pt["semopy"] = sm.get("min_s") if sm.get("status") == "ok" else None
        pt["semopy_note"] = "" if sm.get("status") == "ok" else sm.get("status", "")
        print(f"  … {pt['key']}: cbec_sem {pt['cbec_sem']:.4f} s", file=sys.stderr, flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    result = {"lavaan": lav_note, "points": [
        {k: v for k, v in pt.items() if k not in ("model", "data")} for pt in pts]}
    for curve, label in (("N", "N"), ("items", "items")):
        rows = [pt for pt in pts if pt["curve"] == curve]
        out()
        out(f"## time of one full fit against {label}"
            + (f" ({ITEMS_FOR_N} items)" if curve == "N" else f" (N = {N_FOR_ITEMS:,})"))
        out()
        out(f"| {label} | cbec_sem s | lavaan s | semopy s | lavaan / cbec_sem "
            "| semopy / cbec_sem |")
        out("|---:|---:|---:|---:|---:|---:|")
        for pt in rows:
            out(f"| {pt['x']:,} | {pt['cbec_sem']:.4f} | {_s(pt['lavaan'])} | "
                f"{_s(pt['semopy'])} | {_r(pt['lavaan'], pt['cbec_sem'])} | "
                f"{_r(pt['semopy'], pt['cbec_sem'])} |")
        out()
        out("exponent b (time ∝ x^b), least squares on log-log:")
        for tool in ("cbec_sem", "lavaan", "semopy"):
            xs = [pt["x"] for pt in rows if pt[tool]]
            ys = [pt[tool] for pt in rows if pt[tool]]
            if len(xs) < 2:
                out(f"- {tool}: not measured")
                continue
            b = slope(xs, ys)
            text = f"- {tool}: b = {b:.2f} over all points"
            big = [(x, y) for x, y in zip(xs, ys) if curve == "N" and x >= 10_000]
            if len(big) >= 2:
                text += f", b = {slope(*zip(*big)):.2f} for N ≥ 10,000"
            out(text)
            result.setdefault("exponents", {})[f"{curve}:{tool}"] = b
    out()
    out(f"lavaan: {lav_note}; semopy: "
        + (next((pt['semopy_note'] for pt in pts if pt['semopy_note']), "") or "timed"))
    out(f"load average at end: {os.getloadavg()[0]:.2f}")
    return result


def _s(x) -> str:
    return "—" if x is None else f"{x:.4f}"


def _r(t, ours) -> str:
    return "—" if t is None or not ours else f"{t / ours:.1f}×"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer, smaller points")
    ap.add_argument("--reps", type=int, default=None, help="timed fits per tool and point")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--markdown", type=Path, default=None)
    args = ap.parse_args(argv)
    lines: list[str] = []

    def out(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    result = run(args.quick, args.reps or (2 if args.quick else 5), out)
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
