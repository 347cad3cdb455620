"""Time the report of the bundled example in every format (issue 11's target: all five
formats in under 3 s).

Usage (from anywhere)::

    python benchmarks/bench_report.py [--reps 3] [--out DIR]

The fit (``cs.fit(cs.paper_model(), example_survey(), seed=1)``) is made once and not timed.
Timed, best and median of ``reps`` runs after one warm-up (imports of matplotlib, python-docx
and openpyxl are in the warm-up):

- ``hypotheses``: ``res.hypotheses`` on a fresh fit object (the interaction refits and the NCA
  permutation tests that the hypothesis table needs; a report cannot be written without them);
- ``build``: :func:`cbec_sem.report.content.build_report` once the hypotheses exist (checklist,
  HTMT with 1000 bootstrap draws, diagram, every table);
- ``html``, ``md``, ``tex``, ``docx``, ``xlsx``: writing the built report;
- ``all formats``: ``build`` plus the five writes, the number the target is about.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import cbec_sem as cs  # noqa: E402
from cbec_sem.report.content import build_report  # noqa: E402
from cbec_sem.report.document import FORMATS, write_report  # noqa: E402


CPU: dict[str, list[float]] = {}


def timed(fn, key: str = "") -> float:
    """Wall seconds of fn(); its CPU seconds (this process) are kept in CPU[key], because on a
    shared machine the wall time mostly measures the other processes."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    CPU.setdefault(key, []).append(time.process_time() - c0)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="cbec-report-"))
    data = cs.datasets.example_survey()
    model = cs.paper_model()
    results: dict[str, list[float]] = {}
    for rep in range(args.reps + 1):
        res = cs.fit(model, data, seed=1)
        if rep == 1:  # the first run is the warm-up
            CPU.clear()
        row = {"hypotheses": timed(lambda: res.hypotheses, "hypotheses")}
        box = {}
        row["build"] = timed(lambda: box.setdefault("r", build_report(res)), "build")
        for fmt, suffix in FORMATS.items():
            row[fmt] = timed(lambda: write_report(box["r"], out / f"report{suffix}"), fmt)
        row["all formats"] = row["build"] + sum(row[f] for f in FORMATS)
        CPU.setdefault("all formats", []).append(
            CPU["build"][-1] + sum(CPU[f][-1] for f in FORMATS))
        if rep:
            for key, value in row.items():
                results.setdefault(key, []).append(value)
    print(f"Report of the bundled example (N = {len(data)}), {args.reps} runs; files in {out}")
    print(f"{'step':14s}{'best wall s':>12s}{'median wall s':>14s}{'best CPU s':>12s}")
    for key, values in results.items():
        print(f"{key:14s}{min(values):12.3f}{statistics.median(values):14.3f}"
              f"{min(CPU[key]):12.3f}")
    best = min(results["all formats"])
    cpu = min(CPU["all formats"])
    print(f"target: all formats < 3 s -> {'met' if best < 3 else 'NOT met'} "
          f"(wall {best:.2f} s, CPU {cpu:.2f} s; os.getloadavg() = "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
