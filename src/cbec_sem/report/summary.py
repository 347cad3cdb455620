"""A lavaan-like plain-text summary of a fit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._version import __version__

if TYPE_CHECKING:
    from ..results import FitResult

SECTIONS = (
    ("Latent variables", "=~"),
    ("Composites", "<~"),
    ("Regressions", "~"),
    ("Covariances", "~~cov"),
    ("Intercepts", "~1"),
    ("Thresholds", "|"),
    ("Variances", "~~var"),
    ("Defined parameters", ":="),
)


def _num(x: float, width: int = 9, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return " " * width
    return f"{x:{width}.{digits}f}"


def _section_rows(params: pd.DataFrame, key: str) -> pd.DataFrame:
    if key == "~~cov":
        return params[(params["op"] == "~~") & (params["lhs"] != params["rhs"])]
    if key == "~~var":
        return params[(params["op"] == "~~") & (params["lhs"] == params["rhs"])]
    return params[params["op"] == key]


def _estimates_block(params: pd.DataFrame) -> list[str]:
    lines = []
    # lavaan marks residual (co)variances and intercepts of endogenous variables with a dot.
    endogenous = set(params.loc[params["op"] == "=~", "rhs"]) | set(
        params.loc[params["op"] == "~", "lhs"])
    header = (f"{'':22s}{'Estimate':>9s}{'Std.Err':>9s}{'z-value':>9s}{'P(>|z|)':>9s}"
              f"{'Std.lv':>9s}{'Std.all':>9s}")
    for title, key in SECTIONS:
        rows = _section_rows(params, key)
        if rows.empty:
            continue
        lines += ["", f"{title}:", header]
        current = None
        for _, r in rows.iterrows():
            if key in ("=~", "<~", "~", "~~cov"):
                if r["lhs"] != current:
                    current = r["lhs"]
                    lines.append(f"  {r['lhs']} {r['op']}")
                name = f"    {r['rhs']}"
            elif key == ":=":
                name = f"    {r['lhs']}"
            elif key == "|":
                name = f"    {r['lhs']}|{r['rhs']}"
            else:
                dot = "." if r["lhs"] in endogenous else " "
                name = f"   {dot}{r['lhs']}"
            if isinstance(r["label"], str) and r["label"] and key != ":=":
                name += f" ({r['label']})"
            fixed = r["se"] == 0 or not np.isfinite(r["se"])
            lines.append(
                f"{name:22.22s}{_num(r['est'])}"
                + (" " * 27 if fixed else f"{_num(r['se'])}{_num(r['z'], 9, 2)}{_num(r['pvalue'])}")
                + f"{_num(r['std.lv'])}{_num(r['std.all'])}"
            )
    return lines


#: lavaan's names of the scaled tests, as its summary() prints them.
_TEST_LABELS = {
    "satorra.bentler": "Satorra-Bentler correction",
    "yuan.bentler.mplus": "Yuan-Bentler correction (Mplus variant)",
    "scaled.shifted": "mean and variance adjusted (scaled-shifted)",
}


def _scaled_test_block(est) -> list[str]:
    """The model test and fit measures of a robust estimator: standard and scaled/robust
    columns side by side, as lavaan's ``summary(fit.measures = TRUE)`` shows them."""
    fm = est.fit_measures
    label = _TEST_LABELS.get(est.options.extra.get("test", ""), "scaled test")

    def row(name: str, a, b, fmt: str = "12.3f") -> str:
        left = f"{a:{fmt}}" if a is not None and np.isfinite(a) else " " * 12
        right = f"{b:{fmt}}" if b is not None and np.isfinite(b) else " " * 12
        return f"  {name:34s}{left}{right}".rstrip()

    out = ["", f"Model test:{'Standard':>37s}{'Scaled':>12s}"]
    out.append(row("Chi-square", fm["chisq"], fm["chisq.scaled"]))
    out.append(row("Degrees of freedom", fm["df"], fm["df.scaled"], "12.0f"))
    out.append(row("P-value", fm["pvalue"], fm["pvalue.scaled"]))
    out.append(row("Scaling correction factor", None, fm["chisq.scaling.factor"]))
    out.append(f"    {label}")
    out += ["", f"Fit measures:{'Standard':>35s}{'Robust':>12s}"]
    for key, name in [("cfi", "CFI"), ("tli", "TLI"), ("rmsea", "RMSEA"),
                      ("rmsea.ci.lower", "  90% CI lower"), ("rmsea.ci.upper", "  90% CI upper"),
                      ("rmsea.pvalue", "  P(RMSEA <= .05)")]:
        out.append(row(name, fm[key], fm.get(key + ".robust")))
    for key, name in [("srmr", "SRMR"), ("logl", "Log-likelihood"), ("aic", "AIC"),
                      ("bic", "BIC")]:
        out.append(row(name, fm[key], None))
    out.append("  (robust CFI/TLI: Brosseau-Liard & Savalei 2014; robust RMSEA: "
               "Brosseau-Liard, Savalei & Li 2012)")
    return out


def render_summary(res: FitResult) -> str:
    """The text of :meth:`FitResult.summary`."""
    est = res.estimation
    fm = est.fit_measures
    st = est.stats
    out = [f"cbec_sem {__version__}: {est.options.estimator} estimation "
           + res.converged.describe(), ""]
    out.append(f"  {'Estimator':40s}{est.options.estimator:>12s}")
    if est.options.extra.get("se") == "bootstrap":
        draws = res.bootstrap.n_used if res.bootstrap is not None else "?"
        out.append(f"  {'Standard errors':40s}{'bootstrap':>12s}")
        out.append(f"  {'  successful bootstrap draws':40s}{draws:>12}")
    else:
        out.append(f"  {'Information (standard errors)':40s}{est.options.information:>12s}")
    if est.options.extra.get("se") and est.options.extra["se"] != "bootstrap":
        out.append(f"  {'Standard errors':30s}{est.options.extra['se']:>22s}")
    out.append(f"  {'Number of free parameters':40s}{est.npar:>12d}")
    if est.reparam.n_constraints:
        out.append(f"  {'  of which fixed by equality constraints':40s}"
                   f"{est.reparam.n_constraints:>12d}")
    n_ineq = sum(1 for s in est.partable.constraints if s.op in ("<", ">"))
    if n_ineq:  # lavaan: "Number of inequality constraints"
        out.append(f"  {'Number of inequality constraints':40s}{n_ineq:>12d}")
    if st.ngroups > 1:
        for label, n in zip(st.group_labels, st.nobs):
            out.append(f"  {'Observations, group ' + str(label):40s}{n:>12d}")
    used = f"{st.ntotal} of {st.rows_total}"
    out.append(f"  {'Observations used':40s}{used:>12s}")
    if getattr(st, "missing", "listwise") == "fiml":  # lavaan: "Number of missing patterns"
        out.append(f"  {'Missing data (FIML): patterns':40s}"
                   f"{sum(ps.npatterns for ps in st.patterns):>12d}")
        if st.rows_dropped:
            out.append(f"  {'  dropped (empty or missing covariate)':40s}{st.rows_dropped:>12d}")
    elif st.rows_dropped:
        out.append(f"  {'  dropped (listwise, missing values)':40s}{st.rows_dropped:>12d}")
    if "chisq.scaled" in fm.index:
        out += _scaled_test_block(est)
    else:
        out += ["", "Model test (likelihood ratio):"]
        out.append(f"  {'Chi-square':40s}{fm['chisq']:12.3f}")
        out.append(f"  {'Degrees of freedom':40s}{fm['df']:12.0f}")
        out.append(f"  {'P-value':40s}{fm['pvalue']:12.3f}")
        out += ["", "Fit measures:"]
        for key, name in [("cfi", "CFI"), ("tli", "TLI"), ("rmsea", "RMSEA"),
                          ("rmsea.ci.lower", "  90% CI lower"),
                          ("rmsea.ci.upper", "  90% CI upper"),
                          ("rmsea.pvalue", "  P(RMSEA <= .05)"), ("srmr", "SRMR"),
                          ("logl", "Log-likelihood"), ("aic", "AIC"), ("bic", "BIC")]:
            out.append(f"  {name:40s}{fm[key]:12.3f}")
    params = est.params
    if st.ngroups == 1:
        out += _estimates_block(params)
    else:
        for g, label in enumerate(st.group_labels, start=1):
            out += ["", f"Group {g} [{label}]:"]
            out += _estimates_block(params[params["group"] == g])
        defined = params[params["op"] == ":="]
        if not defined.empty:
            out += _estimates_block(defined)
    out += hypothesis_lines(res)
    if res.notes:
        out += ["", "Notes:"] + [f"  - {n}" for n in res.notes]
    return "\n".join(out)


def hypothesis_lines(res: FitResult) -> list[str]:
    """The hypotheses block: one line per hypothesis; with a correction the p printed is the
    adjusted one (the one the verdict used)."""
    if not res.model.hypotheses:
        return []
    out = ["", "Hypotheses:"]
    table = res.hypotheses
    adjusted = "p.adjusted" in table.columns
    for _, h in table.iterrows():
        if "group" in h and h["group"] is not None:
            h = h.copy()
            h["id"] = f"{h['id']} [{h['group']}]"
        p = h["p.adjusted"] if adjusted else h["p"]
        if np.isfinite(h["p"]):
            ci = f"[{h['ci.lower']:.3f}, {h['ci.upper']:.3f}]"
            line = (f"  {h['id']:5s} {h['kind']:12s}est {h['estimate']:7.3f}  "
                    f"std {h['std.all']:6.3f}  CI {ci:18s} {'p.adj' if adjusted else 'p'} "
                    f"{p:.3f}  {h['verdict']}")
        else:
            line = f"  {h['id']:5s} {h['kind']:12s}{h['verdict']}: {h['note']}"
        out.append(line)
    return out
