"""Compact tables of a fit, for the command line and for notebooks.

* :func:`fit_table` — the fit measures a paper reports (chi-square test, CFI, TLI, RMSEA with
  its interval, SRMR, AIC, BIC) as a DataFrame, with the usual cut-offs beside them;
* :func:`fit_table_text` — the same as aligned plain text;
* :func:`hypothesis_table_text` — one line per hypothesis (estimate, std.all, interval, p,
  verdict), with the reason under every hypothesis that was not tested.

Numbers are taken from ``res.fit_measures`` and ``res.hypotheses`` as they are; nothing here
computes a statistic.  The text is plain ASCII, so it prints on any console.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..apa import fmt_p
from ..engine.fitmeasures import shown_measure

if TYPE_CHECKING:
    from ..results import FitResult

__all__ = ["FIT_MEASURES", "fit_table", "fit_table_text", "hypothesis_table_text"]

#: lavaan name -> (label, conventional cut-off or "") of the measures in :func:`fit_table`.
#: Cut-offs: Hu & Bentler (1999), *Structural Equation Modeling* 6(1), 1-55.
FIT_MEASURES: dict[str, tuple[str, str]] = {
    "chisq": ("Chi-square", ""),
    "df": ("Degrees of freedom", ""),
    "pvalue": ("P-value (chi-square)", ""),
    "cfi": ("CFI", ">= .95"),
    "tli": ("TLI", ">= .95"),
    "rmsea": ("RMSEA", "<= .06"),
    "rmsea.ci.lower": ("RMSEA CI lower", ""),
    "rmsea.ci.upper": ("RMSEA CI upper", ""),
    "srmr": ("SRMR", "<= .08"),
    "aic": ("AIC", ""),
    "bic": ("BIC", ""),
}

_CUTOFF_NOTE = "Cut-offs: Hu & Bentler (1999); rules of thumb, not tests."


def _value(series: pd.Series, key: str) -> float:
    value = series.get(key, np.nan)
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _fmt(value: float, digits: int = 3) -> str:
    return "NA" if not np.isfinite(value) else f"{value:.{digits}f}"


def _fmt_p(p: float) -> str:
    """APA style (cbec_sem.apa.fmt_p): "< .001", else three decimals, no leading 0."""
    return fmt_p(p, missing="NA")


def _rmsea_level(fm: pd.Series) -> float:
    level = _value(fm, "rmsea.ci.level")
    return level if np.isfinite(level) else 0.90


def fit_table(res: FitResult) -> pd.DataFrame:
    """The fit measures a paper reports, one row each.

    Under a robust estimator (MLM, MLR, the WLS family: the fit has a scaled test) the rows
    show the scaled χ² (with its df and p) and the robust CFI, TLI and RMSEA with its
    interval, labelled "(scaled)"/"(robust)", as lavaan's ``summary()`` does in its "Robust"
    column (:func:`cbec_sem.engine.fitmeasures.shown_measure`); the standard value is in
    the ``standard`` column beside them.

    Returns:
        A DataFrame indexed by the lavaan ``fitMeasures`` name of the value shown
        (``chisq``, ``df``, ``pvalue``, ``cfi``, ``tli``, ``rmsea``, ``rmsea.ci.lower``,
        ``rmsea.ci.upper``, ``srmr``, ``aic``, ``bic``, or their ``.scaled``/``.robust``
        versions) with columns ``label``, ``value`` (NaN where the fit has no value),
        ``cutoff`` (Hu & Bentler 1999, empty where there is no conventional cut-off) and
        ``standard`` (the standard measure where a robust one is shown, else NaN).
    """
    fm = res.fit_measures
    level = f"{_rmsea_level(fm) * 100:g}%"
    rows = []
    for name, (label, cutoff) in FIT_MEASURES.items():
        key, kind = shown_measure(fm, name)
        if name.startswith("rmsea.ci."):
            label = label.replace("CI", f"{level} CI")
        if kind:
            label = f"{label} ({kind})"
        rows.append({"measure": key, "label": label, "value": _value(fm, key),
                     "cutoff": cutoff, "standard": _value(fm, name) if kind else np.nan})
    return pd.DataFrame(rows).set_index("measure")


def fit_table_text(res: FitResult, *, cutoffs: bool = True) -> str:
    """:func:`fit_table` as aligned text, RMSEA with its interval on one line.

    Args:
        res: a fit.
        cutoffs: add the conventional cut-offs beside CFI, TLI, RMSEA and SRMR, and a note
            saying where they come from.
    """
    fm = res.fit_measures
    table = fit_table(res)
    est = res.estimation
    head = f"Fit measures ({est.options.estimator}, N = {sum(res.nobs)}"
    if len(res.nobs) > 1:
        head += ": " + ", ".join(
            f"{label} {n}" for label, n in zip(est.stats.group_labels, res.nobs))
    lines = [head + "):"]
    robust = table["standard"].notna().any()
    for key, row in table.iterrows():
        if key.startswith("rmsea.ci."):
            continue
        value = row["value"]
        text = _fmt(value, 0) if key.startswith("df") else _fmt(value)
        if key.startswith("rmsea"):
            level = f"{_rmsea_level(fm) * 100:g}%"
            ci = table.loc[table.index.str.startswith("rmsea.ci."), "value"].to_numpy()
            extra = f"{level} CI [{_fmt(ci[0])}, {_fmt(ci[1])}]"
        else:
            extra = ""
        if cutoffs and row["cutoff"]:
            extra = (extra + "  " if extra else "") + f"(cut-off {row['cutoff']})"
        if np.isfinite(row["standard"]) and not key.startswith("df"):
            extra = (extra + "  " if extra else "") + f"[standard {_fmt(row['standard'])}]"
        lines.append(f"  {row['label']:30s}{text:>12s}  {extra}".rstrip())
    if robust:
        test = est.options.extra.get("test", "scaled")
        lines += textwrap.wrap(
            f"Robust estimator: chi-square scaled ({test}); CFI, TLI and RMSEA are the robust "
            "versions (Brosseau-Liard & Savalei 2014; Savalei 2018), as lavaan reports them; "
            "standard values in brackets.", width=96, initial_indent="  ",
            subsequent_indent="  ")
    if cutoffs:
        lines += textwrap.wrap(_CUTOFF_NOTE, width=96, initial_indent="  ",
                               subsequent_indent="  ")
    return "\n".join(lines)


def hypothesis_table_text(res: FitResult, *, width: int = 100, notes: bool = True) -> str:
    """One line per hypothesis (and group): id, kind, estimate, std.all, interval, p, verdict.

    A hypothesis that was not tested shows ``not tested`` with the reason on the next line;
    with ``notes=True`` the notes of tested hypotheses (such as the kind of interval used) are
    shown the same way.

    Args:
        res: a fit.
        width: line width for wrapping reasons and notes.
        notes: show the notes of tested hypotheses too.
    """
    hyp = res.hypotheses
    level = f"{res.estimation.options.level * 100:g}% CI"
    if hyp.empty:
        return "Hypotheses: none (the model states no hypotheses)"
    has_group = "group" in hyp.columns
    cells = []
    def cell(value: float, fmt=_fmt) -> str:
        return fmt(value) if np.isfinite(value) else "-"

    for _, h in hyp.iterrows():
        has_ci = np.isfinite(h["ci.lower"]) and np.isfinite(h["ci.upper"])
        cells.append({
            "id": str(h["id"]),
            "group": str(h["group"]) if has_group else "",
            "kind": str(h["kind"]),
            "estimate": cell(h["estimate"]),
            "std.all": cell(h["std.all"]),
            "ci": f"[{_fmt(h['ci.lower'])}, {_fmt(h['ci.upper'])}]" if has_ci else "-",
            "p": cell(h["p"], _fmt_p),
            "verdict": str(h["verdict"]),
            "note": str(h["note"] or ""),
            "tested": str(h["verdict"]) != "not tested",
        })
    columns = [("id", "id", "<"), ("group", "group", "<"), ("kind", "kind", "<"),
               ("estimate", "estimate", ">"), ("std.all", "std.all", ">"),
               ("ci", level, "<"), ("p", "p", ">"), ("verdict", "verdict", "<")]
    if not has_group:
        columns = [c for c in columns if c[0] != "group"]
    widths = {key: max(len(title), *(len(c[key]) for c in cells)) for key, title, _ in columns}

    def line(values: dict[str, str]) -> str:
        parts = [f"{values[key]:{align}{widths[key]}}" for key, _, align in columns]
        return ("  " + "  ".join(parts)).rstrip()

    indent = " " * (2 + widths["id"] + 2)
    out = [f"Hypotheses (alpha = {res.alpha:g}; {level}):",
           line({key: title for key, title, _ in columns})]
    for c in cells:
        out.append(line(c))
        if c["note"] and (notes or not c["tested"]):
            label = "note: " if c["tested"] else "reason: "
            out += textwrap.wrap(label + c["note"], width=width, initial_indent=indent,
                                 subsequent_indent=indent + " " * len(label))
    return "\n".join(out)
