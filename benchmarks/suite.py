"""The whole speed suite in one command: cbec_sem against lavaan and semopy, same run, same data.

Usage (from anywhere, with the repository's virtual environment)::

    python benchmarks/suite.py                     # every row, full reps (~4 min, 2 of it lavaan)
    python benchmarks/suite.py --quick             # a smoke test: few reps, 200 bootstrap draws
    python benchmarks/suite.py --json suite.json --markdown suite.md

One table, one row per task, with cbec_sem's, lavaan's and semopy's seconds measured in this
run on this machine, the ratios, and whether the issue's target is met.  The rows reuse the
functions of the single-purpose scripts in ``benchmarks/`` (so each row is timed exactly as
that script times it; see its docstring for the details):

========================  ==================================  ==================================
row                       timed by                            issue's target
========================  ==================================  ==================================
single fits (HS, PolDem,  ``run.py``: ``time_cbec_sem``,      paper model: ≥ 10× faster than
paper model)              ``time_lavaan``, ``time_semopy``    lavaan and semopy
bootstrap, 1000 draws     ``bench_bootstrap.py``:             ≥ 50× faster than lavaan
                          ``time_ours``, ``time_lavaan``
FIML (bfi, N = 2800)      ``bench_fiml.py``: ``time_ours``,   no slower than lavaan
                          ``time_lavaan``
WLSMV (bfi, 15 items)     ``bench_ordinal.py``:               no slower than lavaan
                          ``python_case``, ``time_python``,
                          ``time_lavaan``
LMS (modsem's oneInt)     ``bench_lms.py``: ``time_fit``      ≤ 1.5 s
NCA, 10k permutations,    ``bench_nca.py``: ``simulate``      < 2 s
N = 500
power, 1000 reps, N=300   ``bench_power.py``: ``timed``,   H1–H4 < 1.5 s, H1–H8 < 10 s
                          ``lavaan``
========================  ==================================  ==================================

After the table, ``scaling_peers.py`` adds the scaling curves — one full fit against N
(200 to 100,000) and against the number of items (10 to 50) — for cbec_sem, lavaan and semopy
in the same run, with the speed-up at every point and the fitted exponents (time ∝ x^b);
``--no-scaling`` leaves them out.

A row whose script or function does not exist yet prints "not available yet"; a row that fails
prints the error; neither stops the suite.  lavaan is timed through ``Rscript`` (inside R, R's
start-up not counted) and skipped, with a note, when R or lavaan is absent; semopy is skipped,
with a note, when it cannot be imported or has no such feature.  Ratios are "speed-ups":
tool seconds ÷ cbec_sem seconds, so 3.0× means cbec_sem takes a third of that tool's time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import textwrap
import time
import traceback
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"

NOT_YET = "not available yet"


# --------------------------------------------------------------------------------------------
# loading the other scripts


class Unavailable(Exception):
    """A benchmark script or the function this suite needs from it does not exist (yet)."""


_modules: dict[str, object] = {}


def script(name: str):
    """Import ``benchmarks/<name>.py`` by path (``benchmarks`` is not a package)."""
    if name in _modules:
        return _modules[name]
    path = BENCH / f"{name}.py"
    if not path.exists():
        raise Unavailable(f"benchmarks/{name}.py does not exist")
    spec = importlib.util.spec_from_file_location(f"_cbec_bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:  # e.g. the feature it benchmarks is not in the package yet
        raise Unavailable(f"benchmarks/{name}.py cannot be imported ({exc})") from None
    _modules[name] = module
    return module


def need(module, *names: str):
    """The named attributes of ``module``; :class:`Unavailable` if one is missing."""
    missing = [n for n in names if not hasattr(module, n)]
    if missing:
        raise Unavailable(
            f"{Path(module.__file__).name} has no {', '.join(missing)}"
        )
    out = tuple(getattr(module, n) for n in names)
    return out[0] if len(out) == 1 else out


# --------------------------------------------------------------------------------------------
# rows


def new_row(key: str, what: str, data: str, target: str) -> dict:
    return {
        "key": key, "what": what, "data": data, "target": target,
        "cbec_sem": None, "lavaan": None, "semopy": None,
        "lavaan_note": "", "semopy_note": "", "status": "ok", "met": None, "notes": [],
    }


def speedup(row: dict, tool: str) -> float | None:
    t, ours = row.get(tool), row.get("cbec_sem")
    if t is None or ours is None or ours <= 0:
        return None
    return t / ours


def single_fits(row_for, reps: int, lav: tuple[bool, str, str], sem_ok: bool, sem_note: str):
    run = script("run")
    cases, t_cb, t_lav, t_sem, check = need(
        run, "CASES", "time_cbec_sem", "time_lavaan", "time_semopy", "_chisq_check"
    )
    lav_ok, lav_version, _ = lav
    names = {"hs_cfa": "single fit: Holzinger–Swineford CFA",
             "poldem": "single fit: Political Democracy SEM",
             "paper500": "single fit: the paper's model"}
    for case in ("hs_cfa", "poldem", "paper500"):
        spec = cases[case]
        fixture = json.loads((ROOT / spec["fixture"]).read_text())
        model = fixture["model"]
        data = pd.read_csv(ROOT / spec["data"])
        target = ("≥ 10× faster than lavaan and semopy" if case == "paper500" else "—")
        row = row_for(f"fit_{case}", names[case], f"{Path(spec['data']).stem}, N = {len(data)}",
                      target)
        try:
            ref_chi = float(fixture["fit_measures"]["chisq"])
            ref_df = float(fixture["fit_measures"]["df"])
            cb = t_cb(model, data, reps)
            row["cbec_sem"] = cb["median_s"]
            row["notes"].append(f"cbec_sem χ² {check(cb['chisq'], cb['df'], ref_chi, ref_df)}")
            if lav_ok:
                lv = t_lav(case, reps, lav_version)
                if lv.get("status") == "ok":
                    row["lavaan"] = lv["median_s"]
                else:
                    row["lavaan_note"] = lv.get("status", "error")
            else:
                row["lavaan_note"] = f"skipped: {lav_version}"
            if sem_ok:
                sm = t_sem(model, data, reps, 1)
                if sm.get("status") == "ok":
                    row["semopy"] = sm["median_s"]
                    row["notes"].append(
                        f"semopy χ² {check(sm['chisq'], sm['df'], ref_chi, ref_df)} "
                        f"(model syntax: {sm.get('model_note', '?')})")
                else:
                    row["semopy_note"] = sm.get("status", "error")
            else:
                row["semopy_note"] = f"skipped: {sem_note}"
            row["notes"].append(f"median of {reps} timed fits per tool after one warm-up")
        except Exception as exc:  # noqa: BLE001 -- report, keep going
            fail(row, exc)
        if case == "paper500":
            ups = [speedup(row, t) for t in ("lavaan", "semopy")]
            ups = [u for u in ups if u is not None]
            row["met"] = (all(u >= 10 for u in ups) if ups else None)
        yield row


def bootstrap_rows(row_for, draws: int, reps: int, lav_ok: bool):
    bb = script("bench_bootstrap")
    time_ours, time_lav, model, data_path = need(bb, "time_ours", "time_lavaan", "MODEL", "DATA")
    import cbec_sem as cs
    from cbec_sem.resampling import bootstrap

    data = pd.read_csv(data_path)
    res = cs.fit(model, data)
    bootstrap(res, 20, seed=0)  # warm-up: imports, caches
    rows = []
    for n_jobs in (1, 2):
        row = row_for(f"bootstrap_jobs{n_jobs}",
                      f"bootstrap, {draws} draws, percentile CIs, "
                      + ("serial" if n_jobs == 1 else f"n_jobs={n_jobs}"),
                      f"paper_sim, N = {len(data)}", "≥ 50× faster than lavaan (serial)")
        try:
            cold = None
            if n_jobs > 1:  # the first call starts joblib's workers; later calls reuse them
                t0 = time.perf_counter()
                bootstrap(res, draws, seed=99, n_jobs=n_jobs, ci=("percentile",))
                cold = time.perf_counter() - t0
            o = time_ours(res, draws, reps, n_jobs, ("percentile",))
            row["cbec_sem"] = o["median"]
            row["notes"].append(
                f"cbec_sem: median of {reps}, {o['iterations']:.1f} iterations per draw, "
                f"{o['failed']} failed draws; full-sample fit not timed"
                + (f"; first call, starting the workers: {cold:.2f} s" if cold else ""))
        except Exception as exc:  # noqa: BLE001
            fail(row, exc)
        row["semopy_note"] = "semopy has no bootstrap"
        rows.append(row)
    if lav_ok:
        try:
            with _quiet_stdout():
                lv = time_lav(draws, reps)
        except Exception as exc:  # noqa: BLE001
            lv, err = None, f"error: {type(exc).__name__}: {exc}"
        else:
            err = "error: Rscript failed"
        for row in rows:
            if lv is None:
                row["lavaan_note"] = err
            else:
                row["lavaan"] = lv["median"]
                row["notes"].append(
                    f"lavaan {lv['version']} se = \"bootstrap\", serial, median of {reps} "
                    f"(includes one full-sample fit), {lv['failed']} failed draws")
    else:
        for row in rows:
            row["lavaan_note"] = "skipped: R/lavaan not available"
    for row in rows:
        up = speedup(row, "lavaan")
        row["met"] = None if up is None else up >= 50
        yield row


def fiml_row(row_for, reps: int, lav_ok: bool, sem_ok: bool, semopy_fiml: bool):
    row = row_for("fiml", "FIML fit (missing = \"ml\"), 3-factor CFA, 15 items",
                  "bfi (real missing answers), N = 2800", "no slower than lavaan (≥ 1×)")
    bf = script("bench_fiml")
    cases, time_ours, time_lav = need(bf, "CASES", "time_ours", "time_lavaan")
    if "bfi" not in cases:
        raise Unavailable("bench_fiml.py has no 'bfi' case")
    model, path = cases["bfi"]
    data = pd.read_csv(path)
    try:
        times, chisq = time_ours(model, data, reps)
        row["cbec_sem"] = statistics.median(times)
        row["notes"].append(f"cbec_sem χ² {chisq:.3f}, median of {reps}")
        if lav_ok:
            with _quiet_stdout():
                lv = time_lav("bfi", reps)
            if lv is None:
                row["lavaan_note"] = "error: Rscript failed"
            else:
                row["lavaan"] = float(lv["median_s"])
                ok = abs(chisq - float(lv["chisq"])) <= 1e-3
                row["notes"].append(f"lavaan χ² {float(lv['chisq']):.3f} "
                                    f"({'✓ same optimum' if ok else '✗ differs'})")
        else:
            row["lavaan_note"] = "skipped: R/lavaan not available"
    except Exception as exc:  # noqa: BLE001
        fail(row, exc)
    if not sem_ok:
        row["semopy_note"] = "skipped: semopy not importable"
    elif not semopy_fiml:
        row["semopy_note"] = "skipped in --quick (~10 s per fit)"
    else:
        sec, note = _semopy_fiml(model, path)
        row["semopy"] = sec
        if sec is None:
            row["semopy_note"] = note
        else:
            row["notes"].append(note)
    up = speedup(row, "lavaan")
    row["met"] = None if up is None else up >= 1
    yield row


_SEMOPY_FIML = textwrap.dedent("""
    import json, sys, time, warnings
    import pandas as pd, semopy
    from threadpoolctl import threadpool_limits
    warnings.simplefilter("ignore")
    model, path = sys.argv[1], sys.argv[2]
    data = pd.read_csv(path)
    with threadpool_limits(limits=1, user_api="blas"):
        t0 = time.perf_counter()
        m = semopy.Model(model)
        r = m.fit(data, obj="FIML")
        m.inspect()
        el = time.perf_counter() - t0
    print(json.dumps({"seconds": el, "success": bool(getattr(r, "success", True))}))
""")


def _semopy_fiml(model: str, path: Path, timeout: float = 300) -> tuple[float | None, str]:
    """One semopy FIML fit (``obj="FIML"``), in a subprocess with a time limit.

    semopy's FIML depends on Python's string-hash seed (its parameter order comes from sets):
    on bfi, seeds 0, 1 and 3 converge in ~5 s, seed 2 stops unconverged after 0.3 s, and an
    unseeded run once took 89 s.  So the subprocess runs with ``PYTHONHASHSEED=0``.
    """
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        out = subprocess.run([sys.executable, "-c", _SEMOPY_FIML, model, str(path)],
                             capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        return None, f"semopy FIML did not finish in {timeout:.0f} s"
    if out.returncode != 0:
        return None, "semopy FIML failed: " + (out.stderr.strip().splitlines() or ["?"])[-1]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    if not got["success"]:
        return None, f"semopy FIML did not converge ({got['seconds']:.1f} s)"
    return got["seconds"], (
        "semopy: one fit, `Model(desc).fit(data, obj=\"FIML\")` + `inspect()`, BLAS 1 thread, "
        "PYTHONHASHSEED=0 (its FIML converges or not, in 0.3–90 s, depending on the hash "
        "seed); its FIML χ² and df are wrong (DESIGN.md), so only its time is shown")


def wlsmv_row(row_for, reps: int, lav_ok: bool):
    row = row_for("wlsmv", "WLSMV fit, 3-factor CFA, 15 ordered items",
                  "bfi (listwise), N = 2800", "no slower than lavaan (≥ 1×)")
    bo = script("bench_ordinal")
    bfi, items, python_case, time_python, time_lav = need(
        bo, "BFI", "ITEMS15", "python_case", "time_python", "time_lavaan")
    data = pd.read_csv(bfi)
    used = int(data[list(items)].notna().all(axis=1).sum())
    row["data"] = f"bfi (listwise), N = {used} of {len(data)}"
    try:
        med, _best = time_python(python_case("wlsmv15", data), reps)
        row["cbec_sem"] = med
        row["notes"].append(f"median of {reps} after one warm-up, both tools")
        if lav_ok:
            lv = time_lav("wlsmv15", reps)
            if lv is None:
                row["lavaan_note"] = "error: Rscript failed"
            else:
                row["lavaan"] = float(lv[0])
        else:
            row["lavaan_note"] = "skipped: R/lavaan not available"
    except Exception as exc:  # noqa: BLE001
        fail(row, exc)
    row["semopy_note"] = ("not timed: semopy has no WLSMV (polychoric correlations + robust "
                          "test); its ordinal path is broken on numpy 2.x / scipy 1.17 "
                          "(DESIGN.md)")
    up = speedup(row, "lavaan")
    row["met"] = None if up is None else up >= 1
    yield row


def lms_row(row_for, reps: int):
    row = row_for("lms", "LMS latent interaction, Y ~ X + Z + X:Z",
                  "modsem's oneInt, N = 2000", "≤ 1.5 s")
    bl = script("bench_lms")
    time_fit, fit_lms, oneint, data_path = need(bl, "time_fit", "fit_lms", "ONEINT", "DATA")
    data = pd.read_csv(data_path)
    try:
        med, _mn, res = time_fit(fit_lms, oneint, data, reps)
        row["cbec_sem"] = med
        row["met"] = med <= 1.5
        row["notes"].append(f"median of {reps} after one warm-up; logL {res.loglik:.3f}")
    except Exception as exc:  # noqa: BLE001
        fail(row, exc)
    row["lavaan_note"] = "lavaan has no LMS (modsem, built on lavaan, does; ~1.5 s per the issue)"
    row["semopy_note"] = "semopy has no LMS"
    yield row


def nca_rows(row_for, repeat: int):
    bn = script("bench_nca")
    simulate, nca = need(bn, "simulate", "nca")
    frames = simulate(500)
    nca(simulate(50)["continuous"], "x", "y", permutations=100, seed=0)  # warm-up
    for name, frame in frames.items():
        row = row_for(f"nca_{name}", "NCA, ce_fdh + cr_fdh, 10,000 permutations",
                      f"simulated, {name} X, N = 500", "< 2 s")
        try:
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                nca(frame, "x", "y", permutations=10_000, seed=123)
                times.append(time.perf_counter() - t0)
            row["cbec_sem"] = statistics.median(times)
            row["met"] = row["cbec_sem"] < 2
            row["notes"].append(f"median of {repeat} (min {min(times):.3f} s), after a warm-up")
        except Exception as exc:  # noqa: BLE001
            fail(row, exc)
        row["lavaan_note"] = "no NCA in lavaan (R's NCA package: not installed/timed)"
        row["semopy_note"] = "semopy has no NCA"
        yield row


def power_rows(row_for, reps: int, repeat: int, reps_all: int, reps_lavaan: int,
               lav_ok: bool):
    main = row_for("power_h1_h4", "Monte Carlo power, paper model, H1–H4 (paths, indirect)",
                   f"simulated, N = 300, {reps} reps" + ("" if reps == 1000 else " → 1000"),
                   "< 1.5 s (issue 15)")
    every = row_for("power_all", "Monte Carlo power, paper model, every hypothesis H1–H8",
                    f"simulated, N = 300, {reps_all} reps"
                    + ("" if reps_all == 1000 else " → 1000"), "< 10 s (issue 15)")
    every["lavaan_note"] = "not timed (the lavaan loop covers H1–H4 only)"
    for row in (main, every):
        row["semopy_note"] = "semopy has no power analysis"
    bp = script("bench_power")
    timed, lavaan, paths = need(bp, "timed", "lavaan", "PATHS")
    try:
        times, _res = timed(1, n=[100], reps=5, hypotheses=paths, n_jobs=1)  # warm-up
        times, _res = timed(repeat, n=[300], reps=reps, hypotheses=paths, n_jobs=1)
        main["cbec_sem"] = statistics.median(times) * (1000 / reps)
        main["met"] = main["cbec_sem"] < 1.5
        main["notes"].append(
            f"`power(cs.paper_model(), n=[300], reps={reps}, hypotheses=['H1'..'H4'], "
            f"n_jobs=1)`, median of {repeat} (bench_power.py `timed`)"
            + ("" if reps == 1000 else f"; scaled ×{1000 / reps:g} to 1000 reps"))
        if lav_ok:
            with _quiet_stdout():
                lv = lavaan(300, reps_lavaan)
            if lv is None:
                main["lavaan_note"] = "error: Rscript failed"
            else:
                main["lavaan"] = float(lv["per_rep_s"]) * 1000
                main["notes"].append(
                    f"lavaan {lv['lavaan_version']}: draw N = 300 from the population "
                    f"covariance, `sem()`, `parameterEstimates()` (benchmarks/lavaan_power.R), "
                    f"{reps_lavaan} reps timed, scaled ×{1000 / reps_lavaan:g} to 1000")
        else:
            main["lavaan_note"] = "skipped: R/lavaan not available"
    except Exception as exc:  # noqa: BLE001
        fail(main, exc)
    yield main
    try:
        # warm-up with every hypothesis: the product-indicator model's first compile is not
        # part of a study's per-replication cost (×5 of it inflated the scaled 200-rep runs)
        timed(1, n=[100], reps=5, n_jobs=1)
        times, _res = timed(1, n=[300], reps=reps_all, n_jobs=1)
        every["cbec_sem"] = times[0] * (1000 / reps_all)
        every["met"] = every["cbec_sem"] < 10
        every["notes"].append(
            f"`power(cs.paper_model(), n=[300], reps={reps_all}, n_jobs=1)`, one run after a "
            "warm-up call"
            + ("" if reps_all == 1000 else f", scaled ×{1000 / reps_all:g} to 1000 reps")
            + "; each replication also fits the product-indicator model (H5, H6a, H6b) and "
            "runs NCA with 200 permutations (H7, H8)")
    except Exception as exc:  # noqa: BLE001
        fail(every, exc)
    yield every


def fail(row: dict, exc: BaseException) -> None:
    row["status"] = f"error: {type(exc).__name__}: {exc}"
    row["traceback"] = traceback.format_exc()


class _quiet_stdout:
    """Swallow what the reused functions print (the suite prints its own table)."""

    def __enter__(self):
        self._old = sys.stdout
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115

    def __exit__(self, *exc):
        sys.stdout.close()
        sys.stdout = self._old


# --------------------------------------------------------------------------------------------
# output


def _s(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.3f}" if x >= 1 else f"{x:.4f}"


def _x(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}×" if x >= 1 else f"{x:.2f}×"


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| what | data | cbec_sem s | lavaan s | semopy s | lavaan ÷ cbec_sem "
        "| semopy ÷ cbec_sem | target | met? |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['what']} | {r['data']} | {r['status']} | | | | | "
                         f"{r['target']} | — |")
            continue
        lav = _s(r["lavaan"]) if r["lavaan"] is not None else ("n/a" if r["lavaan_note"]
                                                               else "—")
        sem = _s(r["semopy"]) if r["semopy"] is not None else ("n/a" if r["semopy_note"]
                                                               else "—")
        met = {True: "**met**", False: "**NOT met**", None: "—"}[r["met"]]
        lines.append(
            f"| {r['what']} | {r['data']} | {_s(r['cbec_sem'])} | {lav} | {sem} | "
            f"{_x(speedup(r, 'lavaan'))} | {_x(speedup(r, 'semopy'))} | {r['target']} | {met} |")
    return lines


def notes(rows: list[dict]) -> list[str]:
    out = []
    for r in rows:
        bits = list(r["notes"])
        if r["lavaan"] is None and r["lavaan_note"]:
            bits.append(f"lavaan: {r['lavaan_note']}")
        if r["semopy"] is None and r["semopy_note"]:
            bits.append(f"semopy: {r['semopy_note']}")
        if bits:
            out.append(f"- **{r['what']}** ({r['data']}): " + "; ".join(bits) + ".")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="a smoke test: 3 reps, 200 bootstrap draws, 100 power reps")
    ap.add_argument("--json", type=Path, default=None, help="write the raw results here")
    ap.add_argument("--markdown", type=Path, default=None, help="write the report here too")
    ap.add_argument("--no-scaling", action="store_true",
                    help="leave out the scaling curves against lavaan and semopy")
    args = ap.parse_args(argv)
    quick = args.quick
    fit_reps = 3 if quick else 20
    boot_draws, boot_reps = (200, 1) if quick else (1000, 3)
    other_reps = 3 if quick else 10
    power_reps = 100 if quick else 1000

    lines: list[str] = []

    def out(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    run = script("run")  # the machine/tool probes live there
    info = run.machine_info()
    lav = run._lavaan_available()
    try:
        import semopy

        sem_ok, sem_note, sem_version = True, "", str(getattr(semopy, "__version__", "?"))
    except Exception as exc:  # noqa: BLE001
        sem_ok, sem_note, sem_version = False, f"semopy not importable ({exc})", ""
    import cbec_sem as cs

    load_start = run._loadavg()
    out("# cbec_sem speed suite — cbec_sem vs lavaan vs semopy, same run, same data\n")
    out(f"- date: {info['date']}{' (--quick)' if quick else ''}")
    out(f"- machine: {info['cpu']}; nproc {info['nproc']}; {info['platform']}")
    out(f"- python {info['python']}, numpy {info['numpy']} ({info['blas']}), scipy "
        f"{info['scipy']}, pandas {info['pandas']}, cbec_sem {cs.__version__}")
    out(f"- lavaan: {lav[1] + ' (' + lav[2] + ')' if lav[0] else 'skipped — ' + lav[1]}")
    out(f"- semopy: {sem_version + ', BLAS limited to 1 thread' if sem_ok else 'skipped — ' + sem_note}")
    out("- load average at start (1/5/15 min): "
        + (" / ".join(f"{x:.2f}" for x in load_start) if load_start else "n/a"))
    out("")

    rows: list[dict] = []
    sections = [
        ("single fits", lambda rf: single_fits(rf, fit_reps, lav, sem_ok, sem_note)),
        ("bootstrap", lambda rf: bootstrap_rows(rf, boot_draws, boot_reps, lav[0])),
        ("FIML", lambda rf: fiml_row(rf, other_reps, lav[0], sem_ok, not quick)),
        ("WLSMV", lambda rf: wlsmv_row(rf, other_reps, lav[0])),
        ("LMS", lambda rf: lms_row(rf, 3 if quick else 5)),
        ("NCA", lambda rf: nca_rows(rf, 1 if quick else 3)),
        ("power", lambda rf: power_rows(rf, power_reps, 1 if quick else 3,
                                        50 if quick else 1000,
                                        20 if quick else 100, lav[0])),
    ]
    for name, make in sections:
        made: list[dict] = []

        def row_for(*a, _made=made):
            r = new_row(*a)
            _made.append(r)
            return r

        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for _ in make(row_for):
                    pass
        except Unavailable as exc:
            if not made:
                made.append(new_row(name, name, "—", "—"))
            for r in made:
                if r["cbec_sem"] is None:
                    r["status"] = NOT_YET
                    r["notes"].append(f"{NOT_YET}: {exc}")
        except Exception as exc:  # noqa: BLE001 -- one broken row must not stop the suite
            if not made:
                made.append(new_row(name, name, "—", "—"))
            for r in made:
                if r["cbec_sem"] is None and r["status"] == "ok":
                    fail(r, exc)
        rows.extend(made)
        print(f"  … {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)

    out("## Results\n")
    for line in table(rows):
        out(line)
    out("")
    out("Speed-up = tool's seconds ÷ cbec_sem's seconds (3.0× = cbec_sem takes a third of the "
        "tool's time); every time is a median wall time in this run. \"n/a\" = the tool was "
        "not timed (why: below).\n")
    out("### Notes per row\n")
    for line in notes(rows):
        out(line)
    scaling = None
    if not args.no_scaling:
        # time against N and against items, the same three tools, with fitted exponents
        out("")
        out("## Scaling against lavaan and semopy (benchmarks/scaling_peers.py)")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scaling = script("scaling_peers").run(quick, 2 if quick else 5, out)
        except Exception as exc:  # noqa: BLE001 -- report, keep the rest of the suite
            out(f"scaling: failed ({type(exc).__name__}: {exc})")
    load_end = run._loadavg()
    out("")
    out("- load average at end: " + (" / ".join(f"{x:.2f}" for x in load_end)
                                     if load_end else "n/a")
        + f" ({info['nproc']} cores; above about half the core count, times are noisy)")

    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join(lines) + "\n")
        print(f"\nreport written to {args.markdown}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        record = {"machine": info, "lavaan": lav, "semopy": sem_version or sem_note,
                  "quick": quick, "loadavg_start": load_start, "loadavg_end": load_end,
                  "rows": rows, "scaling": scaling}
        args.json.write_text(json.dumps(record, indent=2, default=str) + "\n")
        print(f"raw results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
