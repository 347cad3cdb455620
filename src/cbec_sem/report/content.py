"""What a report says, independent of its format: :func:`build_report` gathers the tables of a
fit into a :class:`Report` (sections of paragraphs, tables and a diagram); the writers in
``render_*.py`` only lay it out.

Every number is taken from the result objects (``res.params``, ``res.fit_measures``,
``res.hypotheses``, ``res.reliability()``, ``res.validate()``, :func:`~cbec_sem.htmt`,
:func:`~cbec_sem.fornell_larcker`, :func:`~cbec_sem.mardia`, :func:`~cbec_sem.descriptives`)
and kept as a number in :attr:`Table.frame`; :attr:`Table.formats` says how each column is
printed (APA 7 rules in :mod:`cbec_sem.apa`).  A section whose statistic cannot be
computed for this fit says so in its place instead of stopping the report.

A fit that did not converge (or is inadmissible) is reported, not refused: the first thing
the report says is the failure (:attr:`Report.status`), and every renderer shows it at the
top, so that a reader cannot miss it.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..measurement import cross_loadings, fornell_larcker, htmt
from ..measurement.composite import is_pls
from ..propositions.evidence import rows_used
from ..propositions.necessity import nca
from ..survey import mardia
from .._version import __version__
from .diagram import path_diagram
from .invariance_section import invariance_section, resolve_invariance
from .moderation_figures import add_moderation_figures
from .pls_content import pls_data_hash_rows, pls_sections
from .sections import (FORMATS, Plot, Report, Section, Table, add_descriptives, failed,
                       format_cell, key_value)
from .tables import FIT_MEASURES

if TYPE_CHECKING:
    from ..results import FitResult

__all__ = ["FORMATS", "Table", "Plot", "Section", "Report", "build_report", "format_cell",
           "data_hash"]


# --------------------------------------------------------------------------- helpers
def data_hash(res: FitResult) -> str:
    """SHA-256 of the analysed data: the rows used, as float64, columns in the model's order,
    groups one after the other (NaN bytes included under FIML); PLS fits: the items after
    the fit's missing-data treatment."""
    h = hashlib.sha256()
    if is_pls(res):
        h.update(",".join(res.estimation.model.items).encode())
        h.update(np.ascontiguousarray(pls_data_hash_rows(res)).tobytes())
        return h.hexdigest()
    stats = res.estimation.stats
    h.update(",".join(stats.names).encode())
    for block in stats.complete_data:
        h.update(np.ascontiguousarray(np.asarray(block, dtype=np.float64)).tobytes())
    return h.hexdigest()


def _versions() -> list[tuple[str, str]]:
    out = [("Python", sys.version.split()[0]), ("Platform", platform.platform())]
    for pkg in ("cbec-sem", "numpy", "scipy", "pandas", "statsmodels"):
        try:
            out.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            if pkg == "cbec-sem":

                out.append((pkg, f"{__version__} (not installed; source tree)"))
    return out


def _level(res: FitResult) -> float:
    """The confidence level of the fit's intervals (PLS: its bootstrap's)."""
    opts = res.estimation.options
    if hasattr(opts, "level"):
        return float(opts.level)
    return float(res.bootstrap.level) if res.bootstrap is not None else 0.95


def _group_filter(frame: pd.DataFrame, res: FitResult) -> pd.DataFrame:
    if res.estimation.stats.ngroups > 1 and "group" in frame.columns:
        labels = dict(enumerate(res.estimation.stats.group_labels, start=1))
        frame = frame.copy()
        frame.insert(0, "Group", [labels.get(g, g) for g in frame["group"]])
    return frame


def _blank_fixed(rows: pd.DataFrame) -> pd.DataFrame:
    """Fixed parameters (SE 0) print with blank SE, z and p, as lavaan's summary shows them."""
    rows = rows.copy()
    fixed = ~(rows["se"] > 0)
    rows.loc[fixed, ["se", "z", "pvalue"]] = np.nan
    return rows


# --------------------------------------------------------------------------- sections
def _status(res: FitResult) -> str:
    if bool(res.converged):
        return ""
    return ("This fit cannot be trusted: " + res.converged.describe().replace("\n", " ")
            + ". The estimates below are where the optimiser stopped; do not report them as "
            "results.")


def _data_section(res: FitResult) -> Section:
    est = res.estimation
    st = est.stats
    opts = est.options
    s = Section("data", "Data and survey checks")
    rows: list[tuple[str, object]] = [
        ("Rows in the data", st.rows_total),
        ("Observations used", st.ntotal),
        ("Rows dropped", st.rows_dropped),
        ("Missing-data method", getattr(st, "missing", opts.missing)),
        ("Estimator", opts.estimator),
        ("Standard errors", opts.extra.get("se") or f"standard ({opts.information} information)"),
    ]
    if st.ngroups > 1:
        rows.append(("Groups", ", ".join(f"{g}: {n}" for g, n in zip(st.group_labels, st.nobs))))
    if opts.ordered:
        rows.append(("Ordered items", ", ".join(opts.ordered)))
    s.tables.append(key_value("sample", "Sample and estimation", rows))
    for note in res.notes:
        s.paragraphs.append(note)

    frame = rows_used(res)  # the rows analysed
    items = [c for c in frame.columns if c in set(res.model.observed_variables)]
    add_descriptives(s, frame, items)
    try:

        m = mardia(frame, items).reset_index()
        m = m.rename(columns={m.columns[0]: "Test", "pvalue": "p"})
        s.tables.append(Table("mardia", "Multivariate normality (Mardia)", m,
                              {"Test": "text", "coefficient": "num", "expected": "num",
                               "statistic": "num", "df": "int", "p": "p"},
                              ("Mardia (1970), as psych::mardia(). Significant skewness or "
                               "kurtosis argues for a robust estimator (MLM/MLR) or WLSMV for "
                               "ordinal items.",)))
    except Exception as err:  # noqa: BLE001
        failed(s, "Mardia's test", err)
    return s


def _measurement_section(res: FitResult, htmt_bootstrap: int, seed) -> Section:
    s = Section("measurement", "Measurement model")
    p = _group_filter(res.params, res)
    load = p[p["op"] == "=~"]
    cols = (["Group"] if "Group" in load.columns else []) + ["lhs", "rhs", "est", "se", "z",
                                                             "pvalue", "std.all"]
    load = _blank_fixed(load)
    frame = load[cols].rename(columns={"lhs": "Construct", "rhs": "Indicator", "est": "B",
                                       "se": "SE", "pvalue": "p", "std.all": "β"})
    s.tables.append(Table("loadings", "Factor loadings", frame.reset_index(drop=True),
                          {"Construct": "text", "Indicator": "text", "B": "num", "SE": "num",
                           "z": "num", "p": "p", "β": "num", "Group": "text"},
                          ("B = unstandardised loading; β = completely standardised (std.all). "
                           "Loadings without SE are fixed to 1 to set the scale.",)))
    try:
        rel = res.reliability()
        keep = [c for c in ("construct", "kind", "n_items", "alpha", "omega", "ave")
                if c in rel.columns]
        frame = rel[keep].rename(columns={"construct": "Construct", "kind": "Kind",
                                          "n_items": "Items", "alpha": "α", "omega": "ω (CR)",
                                          "ave": "AVE"})
        notes = ["α = Cronbach's alpha; ω = McDonald's omega (composite reliability, "
                 "semTools::compRelSEM); AVE = average variance extracted (Fornell & Larcker, "
                 "1981). Thresholds: α, ω ≥ .70; AVE ≥ .50."]
        notes += [f"{c}: {n}" for c, n in zip(rel["construct"], rel.get("note", [])) if n]
        s.tables.append(Table("reliability", "Reliability and convergent validity", frame,
                              {"Construct": "text", "Kind": "text", "Items": "int",
                               "α": "bounded", "ω (CR)": "bounded", "AVE": "bounded"},
                              tuple(notes)))
    except Exception as err:  # noqa: BLE001
        failed(s, "Reliability", err)
    try:

        fl = fornell_larcker(res)
        constructs = [c for c in fl.columns if c in fl.index]
        frame = fl[constructs].copy()
        # lower triangle with the diagonal, as Fornell-Larcker tables are printed
        mat = frame.to_numpy(dtype=float, copy=True)
        mat[np.triu_indices_from(mat, 1)] = np.nan
        frame = pd.DataFrame(mat, index=frame.index, columns=constructs)
        frame.insert(0, "Construct", frame.index)
        frame["Passes"] = fl["passes"].to_numpy()
        fmts = {c: "bounded" for c in constructs}
        fmts.update({"Construct": "text", "Passes": "bool"})
        s.tables.append(Table("fornell_larcker", "Discriminant validity: Fornell–Larcker",
                              frame.reset_index(drop=True), fmts,
                              ("Diagonal: square root of AVE; below it: latent correlations. "
                               "The criterion passes when √AVE exceeds every correlation of the "
                               "construct (Fornell & Larcker, 1981).",)))
    except Exception as err:  # noqa: BLE001
        failed(s, "The Fornell–Larcker criterion", err)
    try:

        cl = cross_loadings(res).reset_index()
        cl = cl.rename(columns={"item": "Item", "group": "Group"})
        fmts = {c: "bounded" for c in cl.columns if c not in ("Item", "Group")}
        fmts.update({"Item": "text", "Group": "text"})
        s.tables.append(Table("cross_loadings", "Cross-loadings (structure coefficients)", cl,
                              fmts, ("Model-implied correlation of every item with every "
                                     "construct; an item should correlate most with its own "
                                     "construct.",)))
    except Exception as err:  # noqa: BLE001
        failed(s, "Cross-loadings", err)
    try:

        h = htmt(res, bootstrap=htmt_bootstrap, seed=seed)
        keep = [c for c in ("construct_1", "construct_2", "htmt", "ci.lower", "ci.upper",
                            "below_085", "below_090") if c in h.table.columns]
        frame = h.table[keep].rename(columns={
            "construct_1": "Construct 1", "construct_2": "Construct 2", "htmt": "HTMT",
            "ci.lower": "CI lower", "ci.upper": "CI upper", "below_085": "< .85",
            "below_090": "< .90"})
        notes = ["HTMT (Henseler, Ringle & Sarstedt, 2015) from absolute item correlations."]
        if htmt_bootstrap:
            notes.append(f"{h.level:.0%} percentile bootstrap interval, {htmt_bootstrap} draws, "
                         f"seed {seed}.")
        notes += list(h.notes)
        s.tables.append(Table("htmt", "Discriminant validity: HTMT", frame,
                              {"Construct 1": "text", "Construct 2": "text", "HTMT": "num",
                               "CI lower": "num", "CI upper": "num", "< .85": "bool",
                               "< .90": "bool"}, tuple(notes)))
    except Exception as err:  # noqa: BLE001
        failed(s, "HTMT", err)
    return s


#: (lavaan name, label, bounded?) of the fit table; the robust counterpart is ``name.robust``
#: (``name.scaled`` for the test).
_FIT_ROWS = (
    ("chisq", "χ²", False), ("df", "df", False), ("pvalue", "p (χ²)", None),
    ("cfi", "CFI", True), ("tli", "TLI", False), ("rmsea", "RMSEA", True),
    ("rmsea.ci.lower", "RMSEA 90% CI lower", True), ("rmsea.ci.upper", "RMSEA 90% CI upper", True),
    ("rmsea.pvalue", "p (RMSEA ≤ .05)", None), ("srmr", "SRMR", True), ("aic", "AIC", False),
    ("bic", "BIC", False),
)
_ROBUST_KEY = {"chisq": "chisq.scaled", "df": "df.scaled", "pvalue": "pvalue.scaled"}


def _fit_section(res: FitResult) -> Section:

    fm = res.fit_measures
    robust = "chisq.scaled" in fm.index
    s = Section("fit", "Model fit")
    rows = []
    for key, label, _bounded in _FIT_ROWS:
        value = float(fm.get(key, np.nan))
        row = {"Measure": label, "Standard": value}
        if robust:
            rkey = _ROBUST_KEY.get(key, key + ".robust")
            row[f"Robust ({res.estimation.options.estimator})"] = float(fm.get(rkey, np.nan))
        cutoff = FIT_MEASURES.get(key, ("", ""))[1]
        row["Cut-off"] = cutoff.replace(">=", "≥").replace("<=", "≤")
        rows.append(row)
    frame = pd.DataFrame(rows)
    fmts = {"Measure": "text", "Cut-off": "text", "Standard": "num"}
    if robust:
        fmts[f"Robust ({res.estimation.options.estimator})"] = "num"
    notes = ["Cut-offs: Hu & Bentler (1999); rules of thumb, not tests (Marsh, Hau & Wen, "
             "2004)."]
    if robust:
        notes.append("Under a robust estimator report the robust column: scaled χ² "
                     "(Satorra–Bentler or Yuan–Bentler), robust CFI/TLI (Brosseau-Liard & "
                     "Savalei, 2014) and robust RMSEA (Brosseau-Liard, Savalei & Li, 2012).")
    if not np.isfinite(frame["Standard"]).any():
        notes.append("No fit measures: the fit did not converge.")
    # p values, counts and bounded indices share the value columns: formats by row
    row_formats = {i: "p" if b is None else "bounded" if b else "int" if k == "df" else "num"
                   for i, (k, _, b) in enumerate(_FIT_ROWS)}
    s.tables.append(Table("fit", "Fit measures", frame, fmts, tuple(notes), row_formats))
    return s


def _structural_section(res: FitResult, diagram) -> Section:
    s = Section("structural", "Structural model")
    s.diagram = diagram
    p = _group_filter(res.params, res)
    reg = _blank_fixed(p[p["op"] == "~"])
    lead = ["Group"] if "Group" in reg.columns else []
    cols = lead + ["lhs", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all"]
    frame = reg[cols].rename(columns={"lhs": "Outcome", "rhs": "Predictor", "est": "B",
                                      "se": "SE", "pvalue": "p", "ci.lower": "CI lower",
                                      "ci.upper": "CI upper", "std.all": "β"})
    level = f"{_level(res):.0%}"
    fmts = {"Group": "text", "Outcome": "text", "Predictor": "text", "B": "num", "SE": "num",
            "z": "num", "p": "p", "CI lower": "num", "CI upper": "num", "β": "num"}
    s.tables.append(Table("paths", "Structural paths", frame.reset_index(drop=True), fmts,
                          (f"B = unstandardised; β = standardised (std.all); {level} Wald "
                           "confidence interval of B.",)))
    defined = p[p["op"] == ":="]
    if not defined.empty:
        frame = defined[["lhs", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper",
                         "std.all"]].rename(columns={
            "lhs": "Parameter", "rhs": "Definition", "est": "B", "se": "SE", "pvalue": "p",
            "ci.lower": "CI lower", "ci.upper": "CI upper", "std.all": "β"})
        fmts2 = dict(fmts, Parameter="text", Definition="text")
        s.tables.append(Table("defined", "Defined parameters (indirect and total effects)",
                              frame.reset_index(drop=True), fmts2,
                              ("Delta-method standard errors unless the fit was bootstrapped.",)))
    try:
        r2 = res.rsquare()
        structural = {y for y, _ in res.model.regressions} | {
            c for lv, its in res.model.indicators.items() for c in its
            if c in set(res.model.latent_variables)}
        r2 = r2[r2["variable"].isin(structural)]
        r2 = _group_filter(r2, res)
        cols = (["Group"] if "Group" in r2.columns else []) + ["variable", "r2"]
        frame = r2[cols].rename(columns={"variable": "Construct", "r2": "R²"})
        s.tables.append(Table("r2", "Explained variance of endogenous constructs",
                              frame.reset_index(drop=True),
                              {"Group": "text", "Construct": "text", "R²": "bounded"},
                              ("R² = 1 − standardised residual variance (lavInspect "
                               "'rsquare').",)))
    except Exception as err:  # noqa: BLE001
        failed(s, "R²", err)
    return s


def _nca_plots(res: FitResult, section: Section) -> None:
    """The NCA scatter with its CE-FDH ceiling for every necessity hypothesis, on the latent
    scores that the hypothesis test used (so the plotted d is the table's estimate)."""
    necessity = [h for h in res.model.hypotheses if h.kind == "necessity"]
    if not necessity or not res.converged.optimizer_converged:
        return
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        section.paragraphs.append('The NCA plots need matplotlib: pip install "cbec-sem[plot]".')
        return

    for h in necessity:
        condition, outcome = h.constructs

        def draw(condition=condition, outcome=outcome):
            # no permutations: the plot needs only the ceiling and d
            result = nca(res, condition, outcome, ceilings=("ce_fdh",), permutations=0)
            return result.plot().figure

        section.plots.append(Plot(
            f"nca_{h.id}", f"{h.id}: necessary condition analysis of {condition} → {outcome}",
            draw, ("Latent scores of the fit; CE-FDH ceiling (Dul, 2016); d = ceiling effect "
                   "size, the share of the scope above the ceiling.",)))


def _hypothesis_section(res: FitResult, plots: bool = True) -> Section:
    s = Section("hypotheses", "Hypotheses")
    if not res.model.hypotheses:
        s.paragraphs.append("The model states no hypotheses.")
        return s
    try:
        h = res.hypotheses
    except Exception as err:  # noqa: BLE001
        failed(s, "The hypothesis tests", err)
        return s
    lead = ["group"] if "group" in h.columns else []
    frame = h[lead + ["id", "statement", "method", "estimate", "std.all", "ci.lower",
                      "ci.upper", "p", "verdict"]].rename(columns={
        "group": "Group", "id": "H", "statement": "Statement", "method": "Method",
        "estimate": "Estimate", "std.all": "β", "ci.lower": "CI lower",
        "ci.upper": "CI upper", "verdict": "Verdict"})
    level = f"{_level(res):.0%}"
    notes = [f"Verdicts at α = {res.alpha:g}"
             + (f", p adjusted ({res.correction})" if res.correction else "")
             + f"; {level} confidence intervals. Necessity (NCA) rows report the effect size d."]
    notes += [f"{i}: {n}" for i, n in zip(h["id"], h["note"]) if n]
    s.tables.append(Table("hypotheses", "Hypothesis tests", frame.reset_index(drop=True),
                          {"Group": "text", "H": "text", "Statement": "text", "Method": "text",
                           "Estimate": "num", "β": "num", "CI lower": "num", "CI upper": "num",
                           "p": "p", "Verdict": "text"}, tuple(notes)))
    if plots:
        add_moderation_figures(res, s)
        _nca_plots(res, s)
    return s


def _checklist_section(res: FitResult) -> Section:
    s = Section("checklist", "Reviewer checklist")
    try:
        v = res.validate()
    except Exception as err:  # noqa: BLE001
        failed(s, "The checklist", err)
        return s
    keep = [c for c in ("group", "criterion", "target", "value", "threshold", "passed",
                        "source", "note") if c in v.columns]
    frame = v[keep].rename(columns={"group": "Group", "criterion": "Criterion",
                                    "target": "Target", "value": "Value",
                                    "threshold": "Threshold", "passed": "Met",
                                    "source": "Source", "note": "Note"})
    s.tables.append(Table("checklist", "Reviewer checklist", frame.reset_index(drop=True),
                          {"Group": "text", "Criterion": "text", "Target": "text",
                           "Value": "num", "Threshold": "text", "Met": "bool",
                           "Source": "text", "Note": "text"},
                          ("Thresholds are conventions from the sources named; see "
                           "cbec_sem.measurement.validate for their caveats.",)))
    return s


def _appendix(res: FitResult, call: str | None, htmt_bootstrap: int, seed) -> Section:
    s = Section("reproducibility", "Reproducibility appendix")
    opts = res.estimation.options
    if isinstance(opts, dict):  # PLS: the algorithm's settings
        options = ", ".join(f"{k}={v!r}" for k, v in opts.items())
    else:
        options = ", ".join(f"{k}={v!r}" for k, v in vars(opts).items()
                            if k != "extra" and v not in ((), None)) + (
            f", extra={opts.extra!r}" if opts.extra else "")
    rows: list[tuple[str, object]] = list(_versions())
    rows += [("Seed", "none" if res.seed is None else str(res.seed)),
             ("HTMT bootstrap", f"{htmt_bootstrap} draws, seed {seed}" if htmt_bootstrap
              else "none"),
             ("Estimator options", options),
             ("Data SHA-256", data_hash(res)),
             ("Call", call or "not recorded (pass call= to write_report)")]
    s.tables.append(key_value("reproducibility", "Software, options and data", rows,
                        ("The data hash is SHA-256 of the analysed rows (float64, columns in "
                         "the model's order); cbec_sem.report.content.data_hash recomputes "
                         "it.",)))
    s.code = res.model.to_lavaan()
    if res.model.hypotheses:
        s.paragraphs.append("Hypotheses: " + "; ".join(
            f"{h.id} ({h.kind}, {', '.join(h.constructs)}, sign {h.sign})"
            for h in res.model.hypotheses) + ".")
    return s


def build_report(res: FitResult, *, title: str | None = None, call: str | None = None,
                 diagram: bool = True, plots: bool = True, htmt_bootstrap: int = 1000,
                 invariance=None, data=None) -> Report:
    """Gather the whole analysis of ``res`` into a :class:`Report`.

    A PLS or PLSc fit gets the PLS assessment battery (:mod:`.pls_content`: loadings and
    weights, α/ρA/ρC/AVE, outer and inner VIF, HTMT, Fornell–Larcker, cross-loadings, SRMR,
    paths with bootstrap intervals beside f², R²) instead of the covariance-structure
    sections.

    Args:
        res: a fit.
        title: the report's title (default names the estimator and N).
        call: the exact call that made the fit, for the reproducibility appendix.
        diagram: include the path diagram.
        plots: include the figures: simple slopes and Johnson–Neyman plot of every
            interaction/moderation hypothesis, NCA plot of every necessity hypothesis (needs
            matplotlib).
        htmt_bootstrap: bootstrap draws for the HTMT intervals (0: none), seeded with the
            fit's seed (0 when the fit has none; the appendix says which).
        invariance: a measurement-invariance section: the result of
            :func:`cbec_sem.invariance`, or the name of the group column of ``data``
            (the ladder of the fit's model is then fitted here).
        data: the data holding the ``invariance`` group column.

    Examples:
        >>> import cbec_sem as cs
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)  # doctest: +SKIP
        >>> rep = build_report(res)                                              # doctest: +SKIP
        >>> keys = [t.key for t in rep.tables]                                   # doctest: +SKIP
        >>> keys[:3]                                                             # doctest: +SKIP
        ['sample', 'descriptives', 'mardia']
    """
    seed = res.seed if res.seed is not None else 0
    pls = is_pls(res)
    title = title or (f"Structural equation model: {res.estimator} estimation, "
                      f"N = {res.ntotal}")
    inv = resolve_invariance(res, invariance, data)
    drawing = None
    if diagram:
        try:
            drawing = path_diagram(res)
        except Exception as err:  # noqa: BLE001 - a refused diagram is stated, not fatal
            drawing = f"The path diagram was not drawn: {err}"
    if pls:
        builders = pls_sections(res, drawing, htmt_bootstrap, seed)
    else:
        builders = [
            ("data", "Data and survey checks", lambda: _data_section(res)),
            ("measurement", "Measurement model",
             lambda: _measurement_section(res, htmt_bootstrap, seed)),
            ("fit", "Model fit", lambda: _fit_section(res)),
            ("structural", "Structural model", lambda: _structural_section(res, drawing)),
        ]
    if inv is not None:
        builders.append(("invariance", "Measurement invariance",
                         lambda: invariance_section(inv)))
    builders.append(("hypotheses", "Hypotheses", lambda: _hypothesis_section(res, plots)))
    if not pls:
        builders.append(("checklist", "Reviewer checklist", lambda: _checklist_section(res)))
    else:  # the PLS checklist reads the tables of the sections above: it comes last of them
        builders.append(builders.pop(next(i for i, b in enumerate(builders)
                                          if b[0] == "checklist")))
    builders.append(("reproducibility", "Reproducibility appendix",
                     lambda: _appendix(res, call, htmt_bootstrap, seed)))
    sections = []
    for key, heading, make in builders:
        try:
            sections.append(make())
        except Exception as err:  # noqa: BLE001 - one failed section must not hide the rest
            section = Section(key, heading)
            failed(section, "This section", err)
            sections.append(section)
    created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return Report(title, _status(res), sections, created)

