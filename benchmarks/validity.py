"""Validity of every verdict method: Type-I error, power, coverage and bias by simulation.

DESIGN.md ("Verdicts"): a hypothesis is "supported" only by a test whose Type-I error at a true
null and whose interval coverage have been measured and are near nominal.  This script measures
them on the bundled example's own population (``cs.datasets.example_population()``; its truth:
H1 TA → SCI = 0, H2, H3, H4, H5 TA:FA, H6a PC:TA true, H6b PC:FA = 0, no ceiling for H7/H8),
for continuous data and 7-point Likert items (``cs.simulate(..., likert=7)``), N = 200, 400,
1000.

Methods (each on the same simulated samples):

* ``path``     — ML Wald z tests of the structural paths of the main-effects paper model
  (``cs.fit``; H1 is the true null, H2/H3 and SCI ~ PC give power and coverage);
* ``indirect`` — the percentile bootstrap interval of a·b (``cs.fit(se="bootstrap")``, H4);
  its Type-I error on a second population with FA ~ 0·TA (a = 0, b = .45 standardised);
* ``dblcent``, ``rca`` — product indicators, all pairs (every residual covariance between
  products that share an item, ``fit_product_indicators``), ML Wald tests of TA:FA, PC:TA,
  PC:FA; at N = 200 the all-pairs model has more free parameters (392) than cases and the
  engine refuses it (the ``failed`` column);
* ``dblcent_match`` — the same with matched pairs (ta1·fa1, ta2·fa2, ...; 10 products);
* ``dblcent_mlr``, ``dblcent_match_mlr`` — the same two with robust (Huber–White) standard
  errors, ``estimator="MLR"``: products of normal variables are not normal, and normal-theory
  SEs of the product-indicator model are too small (Marsh, Wen & Hau 2004 use robust SEs);
* ``dblcent_within`` — all pairs with residual covariances only within a term (the model
  before issue 13, modsem's ``res.cov.across = FALSE``), for comparison;
* ``lms``, ``qml`` — ``cbec_sem.propositions.interaction.fit_lms`` / ``fit_qml``;
* ``nca``      — NCA on the latent scores of the main-effects fit, "necessary" when d ≥ .1 and
  permutation p < .05 (TA → FA, TA → SCI; both false in the population);
* ``nca_matched`` — the same and the correlation-matched p < .05
  (``cbec_sem.propositions.necessity_null.necessity_verdict``).

Population values in the analysis model's marker scaling (first loadings 1; ta1 .82, fa1 .80,
pc1 .80, SCI by VP by vp1 = .80·.85 = .68): FA ~ TA .50·.80/.82; SCI ~ FA .45·.68/.80; SCI ~ PC
.20·.68/.80; SCI ~ TA 0; a·b; TA:FA .15·.68/(.82·.80); PC:TA .12·.68/(.80·.82); PC:FA 0.

Output: one row per method, target, data and N: ``true`` value, ``reps`` (converged),
``failed``, ``bias`` (mean estimate − true), ``sd`` of the estimates, ``se/sd`` (mean SE over
the SD of the estimates), ``coverage`` of the 95% interval, ``reject`` (rate of p < .05, two-
sided; for the necessity methods the rate of "necessary"), with its Monte Carlo SE, and the
mean ``seconds`` per fit.  ``reject`` is the Type-I error where ``true`` is 0 (or there is no
ceiling) and the power elsewhere.

Run::

    python benchmarks/validity.py --quick              # a smoke run (~3 min)
    python benchmarks/validity.py --jobs 2 --csv runs.csv   # the full study (~30 min, 2 cores)
    python benchmarks/validity.py --methods path,dblcent --n 400 --reps 200 --markdown out.md

Replications per method default to what the full run can afford (``--reps`` caps them all;
``REPS`` below: the slow methods, LMS and the bootstrap, get fewer, and their Monte Carlo SEs
say so).  Seeds: one ``SeedSequence(--seed)`` spawned per cell and replication, so a cell's
numbers do not depend on which other cells or methods run.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
import pandas as pd

import cbec_sem as cs
from cbec_sem.engine.threads import single_threaded_blas
from cbec_sem.errors import CbecSemError

LOAD = {"ta1": 0.82, "fa1": 0.80, "pc1": 0.80, "sci": 0.80 * 0.85}
TRUE = {
    ("path", "FA~TA"): 0.50 * LOAD["fa1"] / LOAD["ta1"],
    ("path", "SCI~FA"): 0.45 * LOAD["sci"] / LOAD["fa1"],
    ("path", "SCI~PC"): 0.20 * LOAD["sci"] / LOAD["pc1"],
    ("path", "SCI~TA"): 0.0,
    ("indirect", "a*b"): 0.50 * LOAD["fa1"] / LOAD["ta1"] * 0.45 * LOAD["sci"] / LOAD["fa1"],
    ("indirect", "a*b (a = 0)"): 0.0,
    ("interaction", "TA:FA"): 0.15 * LOAD["sci"] / (LOAD["ta1"] * LOAD["fa1"]),
    ("interaction", "PC:TA"): 0.12 * LOAD["sci"] / (LOAD["pc1"] * LOAD["ta1"]),
    ("interaction", "PC:FA"): 0.0,
    ("necessity", "TA→FA"): np.nan,
    ("necessity", "TA→SCI"): np.nan,
}
METHODS = ("path", "indirect", "dblcent", "dblcent_match", "dblcent_mlr", "dblcent_match_mlr",
           "dblcent_within", "rca", "qml", "lms", "nca", "nca_matched")
KIND = {"path": "path", "indirect": "indirect", "dblcent": "interaction",
        "dblcent_match": "interaction", "dblcent_within": "interaction", "rca": "interaction",
        "dblcent_mlr": "interaction", "dblcent_match_mlr": "interaction",
        "qml": "interaction", "lms": "interaction", "nca": "necessity",
        "nca_matched": "necessity"}
#: Replications per cell of the full run, chosen so that it finishes in about 30 minutes on
#: two cores (``--jobs 2``): the methods that decide the default verdicts (Wald paths, the
#: matched-pairs MLR product indicators, the necessity rules) get the most; the slow ones
#: (the bootstrap, LMS, QML) and the comparison-only variants fewer, and their Monte Carlo
#: SEs say so.  Earlier runs are pooled with ``--csv``/``--summarise``.
REPS = {"path": 300, "indirect": 10, "dblcent": 20, "dblcent_match": 40,
        "dblcent_within": 10, "rca": 10, "dblcent_mlr": 20, "dblcent_match_mlr": 100,
        "qml": 6, "lms": 3,
        "nca": 150, "nca_matched": 150}
QUICK_REPS = {m: 8 for m in METHODS} | {"lms": 2, "indirect": 3}
#: Rough seconds per replication at N = 400 (for ordering the cells only).
SECONDS = {"path": 0.2, "indirect": 8.0, "dblcent": 2.0, "dblcent_match": 0.6,
           "dblcent_within": 2.0, "rca": 2.0, "dblcent_mlr": 3.0, "dblcent_match_mlr": 1.2,
           "qml": 12.0, "lms": 20.0, "nca": 0.4, "nca_matched": 0.8}
BOOTSTRAP = 200
PERMUTATIONS = 499


def population(null_indirect: bool = False) -> str:
    pop = cs.datasets.example_population()
    return pop.replace("FA ~ 0.50*TA", "FA ~ 0.00*TA") if null_indirect else pop


def _model() -> tuple[str, str]:
    pm = cs.paper_model()
    main = pm.to_lavaan()
    return main, main + "\nSCI ~ TA:FA + PC:TA + PC:FA"


def _draw(n: int, likert: bool, seed, null_indirect: bool = False) -> pd.DataFrame:
    _, full = _model()
    return cs.simulate(full, n, population=population(null_indirect),
                       likert=7 if likert else None, seed=seed)


def _row(target, est, se, lo, hi, p, seconds, ok=True):
    return {"target": target, "est": est, "se": se, "lo": lo, "hi": hi, "p": p,
            "seconds": seconds, "ok": ok}


def _path(data, seed) -> list[dict]:
    main, _ = _model()
    t = time.perf_counter()
    res = cs.fit(main, data)
    s = time.perf_counter() - t
    p = res.params
    out = []
    for lhs, rhs in (("FA", "TA"), ("SCI", "FA"), ("SCI", "PC"), ("SCI", "TA")):
        r = p[(p["lhs"] == lhs) & (p["op"] == "~") & (p["rhs"] == rhs)].iloc[0]
        out.append(_row(f"{lhs}~{rhs}", r["est"], r["se"], r["ci.lower"], r["ci.upper"],
                        r["pvalue"], s, bool(res.converged)))
    return out


def _indirect(data, seed, target="a*b") -> list[dict]:
    main, _ = _model()
    t = time.perf_counter()
    res = cs.fit(main, data, se="bootstrap", bootstrap=BOOTSTRAP, seed=seed)
    s = time.perf_counter() - t
    p = res.params
    r = p[(p["lhs"] == "indirect") & (p["op"] == ":=")].iloc[0]
    lo, hi = r["ci.lower"], r["ci.upper"]
    # the verdict rule for H4: the percentile interval excludes 0 (p is not used)
    rejected = float(not (lo <= 0 <= hi))
    return [_row(target, r["est"], r["se"], lo, hi, 0.0 if rejected else 1.0, s,
                 bool(res.converged))]


def _pi(method, match=False, residual_covariances="simple", estimator="ML"):
    def run(data, seed) -> list[dict]:
        from cbec_sem.propositions.interaction.product_indicators import (
            fit_product_indicators,
        )

        _, full = _model()
        t = time.perf_counter()
        pif = fit_product_indicators(full, data, method=method, match=match,
                                     residual_covariances=residual_covariances,
                                     estimator=estimator)
        s = time.perf_counter() - t
        out = []
        for term in ("TA:FA", "PC:TA", "PC:FA"):
            r = pif.interaction("SCI", term)
            out.append(_row(term, r["est"], r["se"], r["ci.lower"], r["ci.upper"], r["pvalue"],
                            s, bool(pif.converged)))
        return out
    return run


def _distributional(method):
    def run(data, seed) -> list[dict]:
        from cbec_sem.propositions.interaction import fit_lms, fit_qml

        _, full = _model()
        t = time.perf_counter()
        f = (fit_lms if method == "lms" else fit_qml)(full, data)
        s = time.perf_counter() - t
        p = f.params
        out = []
        for term in ("TA:FA", "PC:TA", "PC:FA"):
            r = p[(p["lhs"] == "SCI") & (p["op"] == "~") & (p["rhs"] == term)].iloc[0]
            out.append(_row(term, r["est"], r["se"], r["ci.lower"], r["ci.upper"], r["pvalue"],
                            s, bool(f.converged)))
        return out
    return run


def _necessity(matched: bool):
    def run(data, seed) -> list[dict]:
        from cbec_sem.propositions.necessity import nca
        from cbec_sem.propositions.necessity_null import necessity_verdict

        main, _ = _model()
        res = cs.fit(main, data)
        out = []
        rng = np.random.default_rng(seed)
        for cond, outcome in (("TA", "FA"), ("TA", "SCI")):
            t = time.perf_counter()
            r = nca(res, cond, outcome, ceilings=("ce_fdh",), permutations=PERMUTATIONS,
                    seed=rng.integers(2**63))
            if matched:
                v = necessity_verdict(r, draws=PERMUTATIONS, seed=rng.integers(2**63)).iloc[0]
                nec = bool(v["necessary"])
            else:
                e = r.effects.iloc[0]
                nec = bool(e["d"] >= 0.1 and e["p_value"] < 0.05)
            s = time.perf_counter() - t
            out.append(_row(f"{cond}→{outcome}", r.effects["d"].iloc[0], np.nan, np.nan,
                            np.nan, 0.0 if nec else 1.0, s, bool(res.converged)))
        return out
    return run


RUNNERS: dict[str, Callable] = {
    "path": _path, "indirect": _indirect, "dblcent": _pi("dblcent"),
    "dblcent_match": _pi("dblcent", match=True),
    "dblcent_within": _pi("dblcent", residual_covariances="within"), "rca": _pi("rca"),
    "dblcent_mlr": _pi("dblcent", estimator="MLR"),
    "dblcent_match_mlr": _pi("dblcent", match=True, estimator="MLR"),
    "qml": _distributional("qml"), "lms": _distributional("lms"),
    "nca": _necessity(False), "nca_matched": _necessity(True),
}


def run_cell(method: str, n: int, likert: bool, reps: int, seed: int) -> list[dict]:
    """Rows of every replication of one method in one cell (data × N)."""
    cell = np.random.SeedSequence([seed, n, int(likert)])
    rows = []
    for rep, child in enumerate(cell.spawn(reps)):
        data_seed, method_seed = child.spawn(2)
        jobs = [(False, "a*b")] if method == "indirect" else [(False, None)]
        if method == "indirect":
            jobs.append((True, "a*b (a = 0)"))
        for null, target in jobs:
            data = _draw(n, likert, data_seed, null_indirect=null)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    if method == "indirect":
                        out = _indirect(data, int(method_seed.generate_state(1)[0]), target)
                    else:
                        out = RUNNERS[method](data, int(method_seed.generate_state(1)[0]))
                except (CbecSemError, np.linalg.LinAlgError) as err:
                    out = [_row(f"error: {type(err).__name__}", np.nan, np.nan, np.nan, np.nan,
                                np.nan, np.nan, ok=False)]
            for r in out:
                rows.append({"method": method, "kind": KIND[method], "n": n,
                             "data": "likert7" if likert else "continuous", "rep": rep, **r})
    return rows


def _run_cell_quietly(method: str, n: int, likert: bool, reps: int, seed: int) -> list[dict]:
    with single_threaded_blas():
        return run_cell(method, n, likert, reps, seed)


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    out = []
    errored = raw[raw["target"].str.startswith("error")]
    errors = errored.groupby(["method", "data", "n"]).size().to_dict()
    for (method, kind, target, data, n), g in raw.groupby(
            ["method", "kind", "target", "data", "n"], sort=False):
        if target.startswith("error"):
            continue
        true = TRUE.get((kind, target), np.nan)
        ok = g[g["ok"].astype(bool) & g["est"].notna()]
        reps = len(ok)
        reject = float((ok["p"] < 0.05).mean()) if reps else np.nan
        row = {"method": method, "target": target, "data": data, "n": n, "true": true,
               "reps": reps, "failed": int(len(g) - reps) + int(errors.get((method, data, n), 0))}
        if np.isfinite(true):
            sd = float(ok["est"].std(ddof=1)) if reps > 1 else np.nan
            cover = float(((ok["lo"] <= true) & (true <= ok["hi"])).mean())
            row.update(bias=float(ok["est"].mean() - true), sd=sd,
                       bias_mc_se=sd / np.sqrt(reps) if reps > 1 else np.nan,
                       se_sd=float(ok["se"].mean() / sd) if sd and sd > 0 else np.nan,
                       coverage=cover,
                       coverage_mc_se=float(np.sqrt(cover * (1 - cover) / reps)))
        else:
            row.update(bias=np.nan, sd=np.nan, bias_mc_se=np.nan, se_sd=np.nan,
                       coverage=np.nan, coverage_mc_se=np.nan)
        row.update(reject=reject,
                   reject_mc_se=float(np.sqrt(reject * (1 - reject) / reps)) if reps else np.nan,
                   seconds=float(ok["seconds"].mean()) if reps else np.nan)
        out.append(row)
    seen = {(r["method"], r["data"], r["n"]) for r in out}
    for (method, data, n), k in errors.items():
        if (method, data, n) not in seen:
            out.append({"method": method, "target": "(all)", "data": data, "n": n,
                        "true": np.nan, "reps": 0, "failed": int(k)})
    return pd.DataFrame(out)


def to_markdown(table: pd.DataFrame) -> str:
    cols = ["method", "target", "data", "n", "true", "reps", "failed", "bias", "bias_mc_se",
            "sd", "se_sd", "coverage", "coverage_mc_se", "reject", "reject_mc_se", "seconds"]
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    lines = []
    for r in table.reindex(columns=cols).itertuples(index=False):
        cells = []
        for c, v in zip(cols, r):
            if isinstance(v, float):
                cells.append("" if not np.isfinite(v) else f"{v:.3f}" if c != "seconds"
                             else f"{v:.2f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few replications per cell")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--n", default="200,400,1000")
    parser.add_argument("--data", default="continuous,likert7")
    parser.add_argument("--reps", type=int, default=None, help="cap on replications per cell")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--jobs", type=int, default=1, help="cells run in parallel processes")
    parser.add_argument("--markdown", default=None, help="write the table to this file")
    parser.add_argument("--csv", default=None,
                        help="append every replication to this file, cell by cell")
    parser.add_argument("--summarise", nargs="+", default=None, metavar="CSV",
                        help="only summarise replications written by earlier --csv runs")
    args = parser.parse_args()
    if args.summarise:
        table = summarise(pd.concat([pd.read_csv(f) for f in args.summarise]))
        text = to_markdown(table)
        print(text)
        if args.markdown:
            with open(args.markdown, "w") as fh:
                fh.write(text)
        return
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    ns = [int(v) for v in args.n.split(",")]
    datas = [d.strip() for d in args.data.split(",")]
    rows = []
    t0 = time.perf_counter()
    cells = []
    for method in methods:
        reps = (QUICK_REPS if args.quick else REPS)[method]
        if args.reps is not None:
            reps = min(reps, args.reps)
        cells += [(method, n, data == "likert7", reps) for data in datas for n in ns]
    # the slowest cells first, so that two workers finish together
    cells.sort(key=lambda c: -c[3] * SECONDS.get(c[0], 1.0) * c[1])
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        started = {pool.submit(_run_cell_quietly, m, n, lk, reps, args.seed):
                   (m, n, lk, reps, time.perf_counter()) for m, n, lk, reps in cells}
        for fut in as_completed(started):
            method, n, likert, reps, t = started[fut]
            cell = fut.result()
            rows += cell
            if args.csv:
                pd.DataFrame(cell).to_csv(args.csv, mode="a", index=False,
                                          header=not os.path.exists(args.csv))
            print(f"  {method} {'likert7' if likert else 'continuous'} N={n}: {reps} reps, "
                  f"done at {time.perf_counter() - t0:.0f} s", flush=True)
    raw = pd.DataFrame(rows)
    table = summarise(raw)
    text = to_markdown(table)
    print(text)
    print(f"total {time.perf_counter() - t0:.0f} s")
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
