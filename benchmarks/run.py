"""Time one full SEM fit with cbec_sem, lavaan and semopy, in one run, on the same data.

Usage (from anywhere; paths are resolved against the repository root)::

    python benchmarks/run.py [--reps N] [--quick] [--json PATH] [--case NAME ...]

"One full fit" means estimates, standard errors and fit measures:

* cbec_sem: ``cs.fit(model, data)``, then ``res.params`` and ``res.fit_measures`` are read;
* lavaan:   ``sem()`` then ``fitMeasures()``, timed inside R by ``benchmarks/lavaan_time.R``;
* semopy:   ``semopy.Model(desc).fit(data)``, then ``semopy.calc_stats(model)`` and
  ``model.inspect()``, with semopy's default settings.

Each tool gets one untimed warm-up fit, then ``reps`` timed fits; the table reports the median
and the minimum.  Python timings use ``time.perf_counter``; lavaan's use R's ``proc.time()``
(millisecond resolution).  Speed is reported as the ratio cbec_sem / tool: below 1 means cbec_sem
is faster.  The chi-square column checks that the tools fit the same model to the same optimum:
cbec_sem's and semopy's values are compared with lavaan's, taken from the committed reference
fixture ``tests/fixtures/lavaan/<fixture>.json`` (``fit_measures.chisq``).  semopy's numbers are
reported and checked, never trusted (see the "Dependencies" section of DESIGN.md).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

CASES = {
    "paper500": {
        "fixture": "tests/fixtures/lavaan/paper_sim.json",
        "data": "tests/fixtures/data/paper_sim.csv",
        "title": "the paper's relation model (6 first-order + 1 second-order factor, "
        "20 items), simulated, N = 500",
    },
    "hs_cfa": {
        "fixture": "tests/fixtures/lavaan/hs_cfa.json",
        "data": "src/cbec_sem/datasets/data/HolzingerSwineford1939.csv",
        "title": "Holzinger-Swineford three-factor CFA (9 items), N = 301",
    },
    "poldem": {
        "fixture": "tests/fixtures/lavaan/poldem.json",
        "data": "src/cbec_sem/datasets/data/PoliticalDemocracy.csv",
        "title": "Political Democracy SEM (Bollen; equality constraints, correlated "
        "residuals), N = 75",
    },
}

# Targets from the issue, for the paper model: cbec_sem at most 1/3 of the peer's time; aim 1/10.
TARGET_RATIO = 1 / 10  # issue 15: at least 10x faster than lavaan and semopy
AIM_RATIO = 1 / 10

# Chi-square agreement bands, relative to lavaan's value.
EXACT_RTOL = 1e-6  # "same optimum" (what the reference tests demand of cbec_sem)
LOOSE_RTOL = 1e-3  # "near the optimum" (what semopy's default tolerance typically gives)


# --------------------------------------------------------------------------------------------
# helpers


def _median_min(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), min(times)


def _defined_free(model: str) -> str:
    """Drop ``:=`` lines (semopy has no defined parameters)."""
    return "\n".join(line for line in model.splitlines() if ":=" not in line)


_LABEL = re.compile(r"(?<![\w.])[A-Za-z_][\w.]*\s*\*\s*")


def _label_free(model: str) -> str:
    """Drop parameter labels ``a*x`` (keep numeric fixed values such as ``1*x``)."""
    return _LABEL.sub("", model)


def _fmt_s(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if x >= 1:
        return f"{x:.3f}"
    return f"{x:.4f}"


def _fmt_ratio(x: float | None) -> str:
    if x is None or math.isnan(x):
        return "—"
    return f"{x:.2f} (1/{1 / x:.1f})" if x > 0 else f"{x:.2f}"


def _chisq_check(value: float | None, df: float | None, ref: float, ref_df: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if df is not None and ref_df is not None and int(round(df)) != int(round(ref_df)):
        return f"✗ df {df:g} ≠ {ref_df:g}"
    rel = abs(value - ref) / max(1.0, abs(ref))
    if rel <= EXACT_RTOL:
        return "✓ agrees"
    if rel <= LOOSE_RTOL:
        return "≈ near (loose)"
    return "✗ differs"


# --------------------------------------------------------------------------------------------
# the three tools


def time_cbec_sem(model: str, data: pd.DataFrame, reps: int) -> dict:
    import cbec_sem as cs

    def one():
        res = cs.fit(model, data)
        res.params  # noqa: B018 -- touch: estimates, SEs, z, p, CIs, standardised solution
        fm = res.fit_measures
        return res, fm

    res, fm = one()  # warm-up
    times, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        res, fm = one()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    med, mn = _median_min(times)
    return {
        "tool": "cbec_sem",
        "version": cs.__version__,
        "status": "ok",
        "median_s": med,
        "min_s": mn,
        "min_cpu_s": min(cpu),
        "times_s": times,
        "chisq": float(fm["chisq"]),
        "df": float(fm["df"]),
        "converged": bool(res.converged),
        "converged_detail": str(res.converged),
    }


def _lavaan_available() -> tuple[bool, str, str]:
    """(available, lavaan version or reason it is not, R version and BLAS)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return False, "Rscript not on PATH", ""
    probe = (
        'ok <- requireNamespace("lavaan", quietly = TRUE) && '
        'requireNamespace("jsonlite", quietly = TRUE); '
        'if (ok) cat(as.character(packageVersion("lavaan")), R.version$major, '
        'R.version$minor, basename(extSoftVersion()[["BLAS"]]), sep = " "); '
        "quit(status = if (ok) 0 else 1)"
    )
    try:
        out = subprocess.run(
            [rscript, "-e", probe], capture_output=True, text=True, timeout=60, cwd=ROOT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"Rscript failed to start ({exc})", ""
    if out.returncode != 0:
        return False, "R packages lavaan and/or jsonlite are not installed", ""
    parts = out.stdout.split()
    if len(parts) < 3:
        return True, out.stdout.strip(), ""
    blas = f", BLAS {parts[3]}" if len(parts) > 3 else ""
    return True, parts[0], f"R {parts[1]}.{parts[2]}{blas}"


def time_lavaan(case: str, reps: int, version: str) -> dict:
    cmd = [shutil.which("Rscript") or "Rscript", "benchmarks/lavaan_time.R", case, str(reps)]
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=120 + 10 * reps, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return {"tool": "lavaan", "version": version, "status": "error: timed out"}
    if out.returncode != 0:
        msg = (out.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        return {"tool": "lavaan", "version": version, "status": f"error: {msg}"}
    line = [ln for ln in out.stdout.splitlines() if ln.strip().startswith("{")][-1]
    got = json.loads(line)
    return {
        "tool": "lavaan",
        "version": version,
        "status": "ok",
        "median_s": float(got["median_s"]),
        "min_s": float(got["min_s"]),
        "min_cpu_s": float(got["min_cpu_s"]) if "min_cpu_s" in got else None,
        "reps": int(got["reps"]),
    }


def _semopy_model(model: str) -> tuple[str, str]:
    """semopy syntax for ``model``: drop ``:=`` lines; keep labels if semopy takes them.

    semopy 2.3 reads ``a*x`` as a named parameter, and a name used twice as an equality
    constraint (checked below: the degrees of freedom must equal lavaan's).  If it cannot parse
    the labelled model, the labels are stripped as well -- which changes any model whose labels
    impose equality constraints, and shows up in the check column as a df mismatch.
    """
    import semopy

    desc = _defined_free(model)
    how = "`:=` lines dropped" if desc != model else "unchanged"
    if _label_free(desc) == desc:
        return desc, how
    try:
        semopy.Model(desc)
        return desc, how + "; labels kept (semopy treats them as named/equal parameters)"
    except Exception:  # noqa: BLE001 -- any parser failure means: fall back to no labels
        return _label_free(desc), how + "; labels stripped (semopy could not parse them)"


def _blas_limit(threads: int | None):
    """(context manager, description) limiting BLAS to ``threads``; None leaves it alone."""
    if threads is None:
        return contextlib.nullcontext(), "BLAS threads left at the library default"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext(), "BLAS threads NOT limited (threadpoolctl missing)"
    return (
        threadpool_limits(limits=threads, user_api="blas"),
        f"BLAS limited to {threads} thread(s) via threadpoolctl",
    )


def time_semopy(
    model: str, data: pd.DataFrame, reps: int, blas_threads: int | None = 1
) -> dict:
    try:
        import semopy
    except Exception as exc:  # noqa: BLE001 -- ImportError or a broken install
        return {"tool": "semopy", "status": f"skipped: semopy not importable ({exc})"}

    desc, how = _semopy_model(model)
    limit, blas_note = _blas_limit(blas_threads)

    def one():
        m = semopy.Model(desc)
        r = m.fit(data)
        stats = semopy.calc_stats(m)
        m.inspect()
        return r, stats

    with warnings.catch_warnings(), limit:
        warnings.simplefilter("ignore")
        try:
            r, stats = one()  # warm-up
            times, cpu = [], []
            for _ in range(reps):
                t0, c0 = time.perf_counter(), time.process_time()
                r, stats = one()
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        except Exception as exc:  # noqa: BLE001 -- report, don't crash the whole run
            return {
                "tool": "semopy",
                "version": getattr(semopy, "__version__", "?"),
                "status": f"error: {type(exc).__name__}: {exc}",
                "model_note": how,
            }
    med, mn = _median_min(times)
    return {
        "tool": "semopy",
        "version": getattr(semopy, "__version__", "?"),
        "status": "ok",
        "median_s": med,
        "min_s": mn,
        "min_cpu_s": min(cpu),
        "times_s": times,
        "chisq": float(stats.loc["Value", "chi2"]),
        "df": float(stats.loc["Value", "DoF"]),
        "converged": bool(getattr(r, "success", True)),
        "objective": str(getattr(r, "name_obj", "")),
        "solver": str(getattr(r, "name_method", "")),
        "model_note": how,
        "blas": blas_note,
        "model_syntax": desc,
    }


# --------------------------------------------------------------------------------------------
# machine info and output


def machine_info() -> dict:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 -- older numpy: no dict mode
        blas = "?"
    import scipy

    info = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": affinity if affinity is not None else os.cpu_count(),
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "blas": blas,
        "thread_env": {
            k: os.environ[k]
            for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
            if k in os.environ
        },
    }
    return info


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _semopy_version() -> str:
    try:
        import semopy

        return str(getattr(semopy, "__version__", "?"))
    except Exception:  # noqa: BLE001
        return "?"


def print_case(case: str, spec: dict, result: dict) -> None:
    ref = result["lavaan_reference"]
    rows = result["tools"]
    cb = next(r for r in rows if r["tool"] == "cbec_sem")
    print(f"## {case} — {spec['title']}\n")
    print(
        "| tool | version | median s | min s | cbec_sem / tool | χ² (df) | Δχ² vs lavaan "
        "| χ² check |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        tool = r["tool"]
        if r.get("status") != "ok":
            print(f"| {tool} | {r.get('version', '—')} | — | — | — | — | — | {r['status']} |")
            continue
        ratio = cb["median_s"] / r["median_s"] if tool != "cbec_sem" else None
        r["ratio_cbec_over_tool"] = ratio
        if tool == "lavaan":
            chi = f"{ref['chisq']:.6f} ({ref['df']:g})†"
            delta, check = "0", "reference"
        else:
            chi = f"{r['chisq']:.6f} ({r['df']:g})"
            delta = f"{r['chisq'] - ref['chisq']:+.2e}"
            check = _chisq_check(r["chisq"], r["df"], ref["chisq"], ref["df"])
            if not r.get("converged", True):
                check += " (not converged)"
        print(
            f"| {tool} | {r.get('version', '?')} | {_fmt_s(r['median_s'])} | "
            f"{_fmt_s(r['min_s'])} | {_fmt_ratio(ratio) if ratio else '1'} | {chi} | "
            f"{delta} | {check} |"
        )
    print()
    if case == "paper500":
        for r in rows:
            ratio = r.get("ratio_cbec_over_tool")
            if r["tool"] == "cbec_sem" or r.get("status") != "ok" or ratio is None:
                continue
            verdict = (
                "aim met" if ratio <= AIM_RATIO
                else "target met" if ratio <= TARGET_RATIO
                else "target NOT met"
            )
            print(
                f"- target vs {r['tool']}: ratio ≤ {TARGET_RATIO:.2f} (aim ≤ {AIM_RATIO:.2f}); "
                f"got {ratio:.2f} → **{verdict}**"
            )
        print()
    cb = next((r for r in rows if r["tool"] == "cbec_sem"), None)
    if cb is not None and cb.get("min_cpu_s"):
        # CPU seconds of each process (min over the reps): what other load disturbs least
        parts = [f"{r['tool']} {r['min_cpu_s'] / cb['min_cpu_s']:.1f}×" for r in rows
                 if r["tool"] != "cbec_sem" and r.get("status") == "ok" and r.get("min_cpu_s")]
        if parts:
            print(f"- speed-up in CPU seconds (tool ÷ cbec_sem, min of the reps; cbec_sem "
                  f"{cb['min_cpu_s'] * 1e3:.1f} ms): " + ", ".join(parts))
            print()
    sem = next((r for r in rows if r["tool"] == "semopy"), None)
    if sem is not None and "model_note" in sem:
        print(f"- semopy model syntax: {sem['model_note']}.")
        print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=None, help="timed fits per tool (default 20)")
    ap.add_argument("--quick", action="store_true", help="few reps (3), for a smoke test")
    ap.add_argument("--json", type=Path, default=None, help="write the raw results here")
    ap.add_argument(
        "--case", action="append", choices=sorted(CASES), help="run only this case (repeatable)"
    )
    ap.add_argument(
        "--semopy-blas-threads",
        default="1",
        help="BLAS threads while semopy runs: a number (default 1, as cbec_sem limits itself "
        "and R's reference BLAS is single-threaded) or 'default' to leave OpenBLAS alone",
    )
    args = ap.parse_args(argv)
    reps = args.reps if args.reps is not None else (3 if args.quick else 20)
    if reps < 1:
        ap.error("--reps must be at least 1")
    cases = args.case or list(CASES)
    if args.semopy_blas_threads == "default":
        semopy_threads = None
    else:
        try:
            semopy_threads = int(args.semopy_blas_threads)
        except ValueError:
            ap.error("--semopy-blas-threads takes a number or 'default'")
        if semopy_threads < 1:
            ap.error("--semopy-blas-threads must be at least 1")

    info = machine_info()
    load_start = _loadavg()
    lav_ok, lav_version, r_info = _lavaan_available()
    try:
        import semopy  # noqa: F401

        sem_ok, sem_note = True, ""
    except Exception as exc:  # noqa: BLE001
        sem_ok, sem_note = False, f"semopy not importable ({exc})"

    print("# cbec_sem benchmarks — one full fit (estimates, SEs, fit measures)\n")
    print(f"- date: {info['date']}")
    print(
        f"- machine: {info['cpu']}; nproc {info['nproc']} (os.cpu_count {info['cpu_count']}); "
        f"{info['platform']}"
    )
    print(
        f"- python {info['python']}, numpy {info['numpy']} ({info['blas']}), "
        f"scipy {info['scipy']}, pandas {info['pandas']}"
        + (f"; thread env {info['thread_env']}" if info["thread_env"] else "")
    )
    print(f"- lavaan: {lav_version + ' (' + r_info + ')' if lav_ok else 'skipped — ' + lav_version}")
    print(
        "- semopy: "
        + (
            f"{_semopy_version()}, {_blas_limit(semopy_threads)[1]}"
            if sem_ok
            else "skipped — " + sem_note
        )
    )
    print(
        "- load average at start (1/5/15 min): "
        + (" / ".join(f"{x:.2f}" for x in load_start) if load_start else "n/a")
        + " — other processes on the machine inflate times, semopy's most (see README)"
    )
    print(
        f"- reps: {reps} timed fit(s) per tool after one warm-up; median and min wall "
        "seconds\n"
    )

    results: dict = {
        "machine": info,
        "r": r_info,
        "reps": reps,
        "semopy_blas_threads": semopy_threads,
        "loadavg_start": load_start,
        "cases": {},
    }
    fixture_versions = set()
    for case in cases:
        spec = CASES[case]
        fixture = json.loads((ROOT / spec["fixture"]).read_text())
        data = pd.read_csv(ROOT / spec["data"])
        model = fixture["model"]
        fixture_versions.add(str(fixture.get("lavaan_version", "?")))
        ref = {
            "chisq": float(fixture["fit_measures"]["chisq"]),
            "df": float(fixture["fit_measures"]["df"]),
            "lavaan_version": fixture.get("lavaan_version"),
            "fixture": spec["fixture"],
        }
        rows = [time_cbec_sem(model, data, reps)]
        if lav_ok:
            rows.append(time_lavaan(case, reps, lav_version))
        else:
            rows.append({"tool": "lavaan", "status": f"skipped: {lav_version}"})
        if sem_ok:
            rows.append(time_semopy(model, data, reps, semopy_threads))
        else:
            rows.append({"tool": "semopy", "status": f"skipped: {sem_note}"})
        result = {
            "title": spec["title"],
            "data": spec["data"],
            "n": int(len(data)),
            "model": model,
            "lavaan_reference": ref,
            "tools": rows,
        }
        results["cases"][case] = result
        print_case(case, spec, result)

    load_end = _loadavg()
    results["loadavg_end"] = load_end
    if load_end:
        print("- load average at end: " + " / ".join(f"{x:.2f}" for x in load_end) + "\n")
    print("Notes")
    print()
    print(
        "- Ratio = cbec_sem median / tool median: below 1 cbec_sem is faster (0.33 = three "
        "times as fast). Each tool's time includes parsing the model syntax."
    )
    print(
        "- lavaan: `sem()` + `fitMeasures()`, timed inside R (`benchmarks/lavaan_time.R`, "
        "proc.time, 1 ms resolution), so R's start-up is not counted."
    )
    print(
        f"- † lavaan's χ² is the committed reference fixture (lavaan "
        f"{', '.join(sorted(fixture_versions))}), not re-computed in this run. "
        f"✓ = |Δχ²| ≤ {EXACT_RTOL:g}·max(1, χ²); ≈ = within {LOOSE_RTOL:g} relative; "
        "✗ = further off or different df."
    )
    print(
        "- semopy: `Model(desc).fit(data)` + `calc_stats()` + `inspect()` with its defaults "
        "(objective MLW, SLSQP). Its default tolerance is loose — it stops ~1e-3 away from the "
        "optimum — so its χ² typically differs from lavaan's in the 4th–6th significant digit, "
        "and its speed partly reflects the early stop. semopy has no `:=` defined parameters, "
        "so those lines are removed for it; its `calc_stats` logl/AIC/BIC/GFI/AGFI and RMSEA "
        "(N−1) differ from lavaan's conventions (not used here)."
    )
    print(
        "- BLAS threads: cbec_sem limits BLAS to one thread inside a fit, and R here links its "
        "(single-threaded) reference BLAS; semopy runs under the `--semopy-blas-threads` limit "
        "(default 1). Left at OpenBLAS's default, semopy's small-matrix calls slow down by up to "
        "~30× whenever another process competes for the cores."
    )

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\nraw results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
