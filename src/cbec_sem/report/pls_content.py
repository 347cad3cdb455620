"""The sections of a report on a PLS-SEM fit (``estimator="PLS"`` or ``"PLSc"``): the
assessment battery in the order Hair, Risher, Sarstedt & Ringle (2019, EBR 31(1), 2–24,
Figure 2) report it, and as SmartPLS and seminr's ``summary()`` print it.

* Measurement: outer loadings and weights with bootstrap intervals; reliability and
  convergent validity (α standardised and raw, ρA, ρC, AVE); collinearity of the indicators
  (outer VIF).
* Discriminant validity: HTMT (with a bootstrap interval when asked), Fornell–Larcker,
  cross-loadings.
* Model fit: SRMR, d_ULS, d_G of the estimated model (seminr/cSEM's conventions).
* Structural model: path coefficients with bootstrap SE, t, p and percentile interval,
  beside each path's f² and inner VIF; R² and adjusted R²; indirect and total effects.
* A PLS reviewer checklist with the cut-offs and sources of
  :data:`cbec_sem.measurement.validate.CRITERIA`.

Every number is read from the public functions (:func:`~cbec_sem.reliability`,
:func:`~cbec_sem.htmt`, :func:`~cbec_sem.fornell_larcker`, :func:`~cbec_sem.cross_loadings`,
:func:`~cbec_sem.vif`, :func:`~cbec_sem.f_squared`, ``res.r2``, ``res.params``,
``res.fit_measures``); nothing is recomputed here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..measurement import cross_loadings, fornell_larcker, htmt, reliability
from ..measurement.composite import f_squared, vif
from ..measurement.validate import COMPARE, CRITERIA, SIGN
from ..propositions.evidence import rows_used
from .sections import Section, Table, add_descriptives, failed, key_value

if TYPE_CHECKING:
    from ..results import FitResult

__all__ = ["pls_sections", "pls_data_hash_rows"]



def _bootstrap_text(res: FitResult) -> str:
    boot = res.bootstrap
    if boot is None:
        return "none (fit with se='bootstrap', bootstrap=B for SEs and intervals)"
    return (f"{boot.draws_count} draws ({boot.failed} failed), seed {boot.seed}, "
            f"{boot.level:.0%} {boot.interval} intervals")


def pls_data_hash_rows(res: FitResult) -> np.ndarray:
    """The item data a PLS fit analysed (after its missing-data treatment), for the data
    hash of the reproducibility appendix."""
    return np.asarray(res.estimation.data, dtype=np.float64)


def _data_section(res: FitResult) -> Section:
    est = res.estimation
    opts = est.options
    s = Section("data", "Data and estimation")
    rows: list[tuple[str, object]] = [
        ("Observations used", int(est.n)),
        ("Missing-data method", str(opts.get("missing", ""))),
        ("Estimator", res.estimator),
        ("Weighting scheme", str(opts.get("scheme", est.scheme))),
        ("Higher-order constructs", str(opts.get("hoc", ""))),
        ("Interaction terms", str(opts.get("interaction", ""))),
        ("Iterations", f"{est.iterations} (sum |Δw| = {est.last_change:.2g})"),
        ("Bootstrap", _bootstrap_text(res)),
    ]
    s.tables.append(key_value("sample", "Sample and estimation", rows))
    s.paragraphs.extend(res.notes)
    frame = rows_used(res)
    items = [c for c in frame.columns if c in set(res.model.observed_variables)]
    add_descriptives(s, frame, items, "PLS makes no distributional assumption; "
                     "significance comes from the bootstrap.")
    return s


def _outer_table(res: FitResult) -> Table:
    p = res.params
    outer = p[p["op"].isin(["=~", "<~"])]
    frame = pd.DataFrame({
        "Construct": outer["lhs"].to_numpy(),
        "Indicator": outer["rhs"].to_numpy(),
        "Mode": np.where(outer["op"].to_numpy() == "=~", "A (loading)", "B (weight)"),
        "Estimate": outer["est"].to_numpy(float),
        "SE": outer["se"].to_numpy(float),
        "t": outer["z"].to_numpy(float),
        "p": outer["pvalue"].to_numpy(float),
        "CI lower": outer["ci.lower"].to_numpy(float),
        "CI upper": outer["ci.upper"].to_numpy(float),
    })
    notes = ["Mode A constructs show outer loadings, mode B constructs outer weights. "
             "Loadings ≥ .708 mean the construct explains at least half of the item's "
             "variance (Hair et al., 2019)."]
    notes.append("Bootstrap: " + _bootstrap_text(res) + "; t = estimate / bootstrap SE.")
    return Table("pls_outer", "Outer loadings and weights", frame,
                 {"Construct": "text", "Indicator": "text", "Mode": "text", "Estimate": "num",
                  "SE": "num", "t": "num", "p": "p", "CI lower": "num", "CI upper": "num"},
                 tuple(notes))


def _measurement_section(res: FitResult) -> Section:
    s = Section("measurement", "Measurement model")
    s.tables.append(_outer_table(res))
    try:
        rel = reliability(res)
        frame = rel[["construct", "alpha", "alpha_raw", "rhoA", "rhoC", "AVE"]].rename(columns={
            "construct": "Construct", "alpha": "α", "alpha_raw": "α (raw)", "rhoA": "ρA",
            "rhoC": "ρC", "AVE": "AVE"})
        s.tables.append(Table(
            "pls_reliability", "Internal consistency and convergent validity", frame,
            {"Construct": "text", "α": "bounded", "α (raw)": "bounded", "ρA": "num",
             "ρC": "bounded", "AVE": "bounded"},
            ("α = Cronbach's alpha of the standardised items (PLS convention; raw: of the "
             "items as scored); ρA = Dijkstra & Henseler (2015); ρC = composite reliability "
             "from the PLS loadings; AVE = average variance extracted. Thresholds: α, ρA, ρC "
             "between .70 and .95; AVE ≥ .50 (Hair et al., 2019).",)))
    except Exception as err:  # noqa: BLE001
        failed(s, "Reliability", err)
    try:
        v = vif(res)
        outer = v[v["kind"] == "outer"]
        frame = pd.DataFrame({"Construct": outer["construct"].to_numpy(),
                              "Indicator": outer["indicator"].to_numpy(),
                              "VIF": outer["vif"].to_numpy(float)})
        s.tables.append(Table("pls_outer_vif", "Collinearity of the indicators (outer VIF)",
                              frame, {"Construct": "text", "Indicator": "text", "VIF": "num"},
                              ("VIF of each indicator on the other indicators of its "
                               "construct; critical above 5, ideally below 3 (Hair et al., "
                               "2019).",)))
    except Exception as err:  # noqa: BLE001
        failed(s, "Outer VIFs", err)
    return s


def _discriminant_section(res: FitResult, htmt_bootstrap: int, seed) -> Section:
    s = Section("discriminant", "Discriminant validity")
    try:
        h = htmt(res, bootstrap=htmt_bootstrap, seed=seed) if htmt_bootstrap else htmt(res)
        columns = {"construct1": "Construct 1", "construct2": "Construct 2", "htmt": "HTMT",
                   "htmt2": "HTMT2", "ci.lower": "CI lower", "ci.upper": "CI upper",
                   "below_0.85": "< .85", "below_0.9": "< .90"}
        keep = [c for c in columns if c in h.columns]
        frame = h[keep].rename(columns=columns)
        notes = ["HTMT (Henseler, Ringle & Sarstedt, 2015) from absolute item correlations "
                 "over mode-A constructs; HTMT2 = the geometric-mean version (Roemer, "
                 "Schuberth & Henseler, 2021). Thresholds .85 (conceptually distinct) and .90 "
                 "(similar constructs)."]
        if htmt_bootstrap:
            notes.append(f"Percentile bootstrap interval, {htmt_bootstrap} draws, seed {seed}; "
                         "'< .85' and '< .90' ask whether the upper one-sided bound is below "
                         "the threshold (Franke & Sarstedt, 2019).")
        hoc = _hoc_pairs(res)
        if any((a, b) in hoc or (b, a) in hoc for a, b in zip(h["construct1"], h["construct2"])):
            notes.append("Pairs of a higher-order construct and one of its dimensions are "
                         "expected to exceed 1: the higher-order scores are made from the "
                         "dimensions' scores.")
        fmts = {"Construct 1": "text", "Construct 2": "text", "HTMT": "num", "HTMT2": "num",
                "CI lower": "num", "CI upper": "num", "< .85": "bool", "< .90": "bool"}
        s.tables.append(Table("pls_htmt", "Heterotrait–monotrait ratio (HTMT)",
                              frame.reset_index(drop=True), fmts, tuple(notes)))
    except Exception as err:  # noqa: BLE001
        failed(s, "HTMT", err)
    try:
        fl = fornell_larcker(res)
        constructs = list(fl.columns)
        frame = fl.copy()
        frame.insert(0, "Construct", [str(i) for i in frame.index])
        s.tables.append(Table("pls_fornell_larcker", "Fornell–Larcker criterion",
                              frame.reset_index(drop=True),
                              dict({c: "bounded" for c in constructs}, Construct="text"),
                              ("Diagonal: √AVE; below it: construct correlations (PLSc: "
                               "disattenuated). The criterion holds when √AVE exceeds every "
                               "correlation of the construct (Fornell & Larcker, 1981); "
                               "HTMT is the more sensitive test (Henseler et al., 2015).",)))
    except Exception as err:  # noqa: BLE001
        failed(s, "The Fornell–Larcker criterion", err)
    try:
        cl = cross_loadings(res)
        # a construct listed twice (a dimension of a higher-order construct) is one column
        cl = cl.loc[~cl.index.duplicated(), ~cl.columns.duplicated()]
        frame = cl.copy()
        frame.insert(0, "Item", [str(i) for i in frame.index])
        s.tables.append(Table("pls_cross_loadings", "Cross-loadings",
                              frame.reset_index(drop=True),
                              dict({c: "num" for c in cl.columns}, Item="text"),
                              ("Correlation of every indicator with every construct's scores; "
                               "an indicator should load highest on its own construct.",)))
    except Exception as err:  # noqa: BLE001
        failed(s, "Cross-loadings", err)
    return s


def _hoc_pairs(res: FitResult) -> set[tuple[str, str]]:
    latent = set(res.model.latent_variables)
    return {(lv, c) for lv, items in res.model.indicators.items() for c in items
            if c in latent}


#: (fit_measures key, label, what it is)
_PLS_FIT = (("srmr", "SRMR", "standardised root mean square residual"),
            ("d_uls", "d_ULS", "squared Euclidean distance"),
            ("d_g", "d_G", "geodesic distance"))


def _fit_section(res: FitResult) -> Section:
    s = Section("fit", "Model fit")
    fm = res.fit_measures
    frame = pd.DataFrame({"Measure": [lab for _, lab, _ in _PLS_FIT],
                          "Value": [float(fm.get(k, np.nan)) for k, _, _ in _PLS_FIT],
                          "Meaning": [m for _, _, m in _PLS_FIT]})
    s.tables.append(Table("pls_fit", "Fit of the estimated model", frame,
                          {"Measure": "text", "Value": "num", "Meaning": "text"},
                          ("SRMR of the estimated model with seminr's conventions (within-"
                           "mode-B indicator pairs at their observed correlations); d_ULS and "
                           "d_G as cSEM (Dijkstra & Henseler, 2015). SRMR < .08 is the usual "
                           "guide (Henseler et al., 2016); PLS-SEM fit indices are not "
                           "established tests (Hair et al., 2019).",)))
    return s


def _structural_section(res: FitResult, diagram) -> Section:
    s = Section("structural", "Structural model")
    s.diagram = diagram
    p = res.params
    paths = p[p["op"] == "~"]
    frame = pd.DataFrame({"Outcome": paths["lhs"].to_numpy(),
                          "Predictor": paths["rhs"].to_numpy(),
                          "β": paths["est"].to_numpy(float),
                          "SE": paths["se"].to_numpy(float),
                          "t": paths["z"].to_numpy(float),
                          "p": paths["pvalue"].to_numpy(float),
                          "CI lower": paths["ci.lower"].to_numpy(float),
                          "CI upper": paths["ci.upper"].to_numpy(float)})
    notes = ["β = standardised path coefficient. Bootstrap: " + _bootstrap_text(res) + "."]
    try:
        f2 = f_squared(res)
        frame = frame.merge(f2.rename(columns={"outcome": "Outcome", "predictor": "Predictor",
                                               "f2": "f²"}),
                            on=["Outcome", "Predictor"], how="left")
        notes.append("f² = (R²incl − R²excl) / (1 − R²incl), the model re-estimated without "
                     "the path (seminr's convention); .02, .15, .35 are small, medium, large "
                     "(Cohen, 1988).")
    except Exception as err:  # noqa: BLE001
        failed(s, "f²", err)
    try:
        v = vif(res)
        inner = v[v["kind"] == "inner"][["outcome", "predictor", "vif"]]
        frame = frame.merge(inner.rename(columns={"outcome": "Outcome",
                                                  "predictor": "Predictor", "vif": "VIF"}),
                            on=["Outcome", "Predictor"], how="left")
        notes.append("VIF = inner collinearity of the predictor among the predictors of the "
                     "same outcome (critical above 5, ideally below 3).")
    except Exception as err:  # noqa: BLE001
        failed(s, "Inner VIFs", err)
    fmts = {"Outcome": "text", "Predictor": "text", "β": "num", "SE": "num", "t": "num",
            "p": "p", "CI lower": "num", "CI upper": "num", "f²": "num", "VIF": "num"}
    s.tables.append(Table("pls_paths", "Structural paths", frame, fmts, tuple(notes)))
    try:
        r2 = res.r2
        frame = r2.rename(columns={"construct": "Construct", "r2": "R²", "adj_r2": "Adjusted R²"})
        s.tables.append(Table("pls_r2", "Explained variance of endogenous constructs",
                              frame.reset_index(drop=True),
                              {"Construct": "text", "R²": "bounded", "Adjusted R²": "bounded"},
                              ("R² of each endogenous construct's scores; .25, .50, .75 are "
                               "weak, moderate, substantial (Hair et al., 2019).",)))
    except Exception as err:  # noqa: BLE001
        failed(s, "R²", err)
    defined = p[p["op"] == ":="]
    if not defined.empty:
        frame = pd.DataFrame({"Parameter": defined["lhs"].to_numpy(),
                              "Definition": defined["rhs"].to_numpy(),
                              "Estimate": defined["est"].to_numpy(float),
                              "SE": defined["se"].to_numpy(float),
                              "t": defined["z"].to_numpy(float),
                              "p": defined["pvalue"].to_numpy(float),
                              "CI lower": defined["ci.lower"].to_numpy(float),
                              "CI upper": defined["ci.upper"].to_numpy(float)})
        s.tables.append(Table("pls_defined", "Defined parameters (indirect and total effects)",
                              frame, {"Parameter": "text", "Definition": "text",
                                      "Estimate": "num", "SE": "num", "t": "num", "p": "p",
                                      "CI lower": "num", "CI upper": "num"},
                              ("Bootstrap: " + _bootstrap_text(res) + ".",)))
    return s


def _checklist_section(res: FitResult, report_tables: dict[str, Table]) -> Section:
    """The PLS reviewer checklist: every loading, reliability, AVE, HTMT, VIF and SRMR
    against the cut-offs of :data:`~cbec_sem.measurement.validate.CRITERIA`, read back from
    the tables above (so the checklist and the tables cannot disagree)."""
    s = Section("checklist", "Reviewer checklist")
    checks: dict[str, list[tuple[str, float]]] = {}

    def add(criterion, target, value, label=None):
        checks.setdefault((label or criterion, criterion), []).append((target, float(value)))

    outer = report_tables.get("pls_outer")
    if outer is not None:
        f = outer.frame
        for c, i, m, v in zip(f["Construct"], f["Indicator"], f["Mode"], f["Estimate"]):
            if m.startswith("A"):
                add("standardized loading", f"{c} → {i}", v, label="outer loading")
    rel = report_tables.get("pls_reliability")
    if rel is not None:
        f = rel.frame
        for c, a, rc, ave in zip(f["Construct"], f["α"], f["ρC"], f["AVE"]):
            add("Cronbach's alpha", c, a)
            add("composite reliability (omega)", c, rc, label="composite reliability (ρC)")
            add("AVE", c, ave)
    ht = report_tables.get("pls_htmt")
    if ht is not None:
        hoc = _hoc_pairs(res)
        for a, b, v in zip(ht.frame["Construct 1"], ht.frame["Construct 2"], ht.frame["HTMT"]):
            if (a, b) not in hoc and (b, a) not in hoc:
                add("HTMT", f"{a} – {b}", v)
    vifs = report_tables.get("pls_outer_vif")
    if vifs is not None:
        for c, i, v in zip(vifs.frame["Construct"], vifs.frame["Indicator"], vifs.frame["VIF"]):
            add("item VIF", f"{c}: {i}", v, label="outer VIF")
    paths = report_tables.get("pls_paths")
    if paths is not None and "VIF" in paths.frame.columns:
        for y, x, v in zip(paths.frame["Outcome"], paths.frame["Predictor"], paths.frame["VIF"]):
            add("item VIF", f"{x} → {y}", v, label="inner VIF")
    fit = report_tables.get("pls_fit")
    if fit is not None:
        add("SRMR", "model", fit.frame["Value"].iloc[0])
    rows = []
    for (label, criterion), values in checks.items():
        op, cut, source = CRITERIA[criterion]
        finite = [(t, v) for t, v in values if np.isfinite(v)]
        met = [COMPARE[op](v, cut) for _, v in finite]
        # the worst case: the smallest value under a lower bound, the largest under an upper
        target, value = (min if op in (">=", ">") else max)(finite, key=lambda tv: tv[1]) \
            if finite else ("", np.nan)
        rows.append({"Criterion": label, "Threshold": f"{SIGN[op]} {cut:g}",
                     "Worst case": target, "Value": value,
                     "Met": f"{sum(met)} of {len(values)}", "All met": all(met) and
                     len(finite) == len(values), "Source": source})
    frame = pd.DataFrame(rows, columns=["Criterion", "Threshold", "Worst case", "Value", "Met",
                                        "All met", "Source"])
    s.tables.append(Table("checklist", "Reviewer checklist", frame,
                          {"Criterion": "text", "Threshold": "text", "Worst case": "text",
                           "Value": "num", "Met": "text", "All met": "bool",
                           "Source": "text"},
                          ("Values read from the tables above; the worst case is the smallest "
                           "value under a lower bound and the largest under an upper bound. "
                           "Cut-offs are conventions from the sources named "
                           "(cbec_sem.measurement.validate.CRITERIA). Pairs of a higher-order "
                           "construct and its dimensions are left out of the HTMT row.",)))
    return s


def pls_sections(res: FitResult, diagram, htmt_bootstrap: int, seed) -> list[tuple[str, str,
                                                                                  object]]:
    """The report's sections for a PLS fit, in order, as (key, heading, builder) triples
    (the checklist reads the tables the sections before it made)."""
    made: dict[str, Table] = {}

    def keep(section: Section) -> Section:
        made.update({t.key: t for t in section.tables})
        return section

    return [
        ("data", "Data and estimation", lambda: keep(_data_section(res))),
        ("measurement", "Measurement model", lambda: keep(_measurement_section(res))),
        ("discriminant", "Discriminant validity",
         lambda: keep(_discriminant_section(res, htmt_bootstrap, seed))),
        ("fit", "Model fit", lambda: keep(_fit_section(res))),
        ("structural", "Structural model", lambda: keep(_structural_section(res, diagram))),
        ("checklist", "Reviewer checklist", lambda: _checklist_section(res, made)),
    ]
