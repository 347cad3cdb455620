"""The measurement-invariance section of a report: the ladder of
:func:`cbec_sem.invariance` (configural → metric → scalar → strict) as one APA table.

``res.report(path, invariance=inv)`` takes an :class:`~cbec_sem.InvarianceResult` already
fitted (``inv = cs.invariance(model, data, group="country")``), or
``invariance="country", data=df`` to fit the ladder of the report's model on ``df`` with the
fit's estimator (ML, MLM or MLR; ML for any other; the ordinal ladder of the fit's ordered
items for a WLSMV fit).  Every number is a cell of
``InvarianceResult.table``; the decision rules are Chen's (2007) ΔCFI ≥ −.010 and
ΔRMSEA ≤ .015 and the χ² difference test (Satorra–Bentler scaled under MLM/MLR).
"""

from __future__ import annotations

import pandas as pd

from ..errors import ReportError
from ..measurement import InvarianceResult, invariance
from .sections import Section, Table

__all__ = ["invariance_section", "resolve_invariance"]

#: InvarianceResult.table column -> (report column, format)
_COLUMNS = {
    "converged": ("Converged", "bool"), "chisq": ("χ²", "num"), "df": ("df", "int"),
    "pvalue": ("p", "p"), "cfi": ("CFI", "bounded"), "rmsea": ("RMSEA", "bounded"),
    "srmr": ("SRMR", "bounded"), "delta_chisq": ("Δχ²", "num"), "delta_df": ("Δdf", "int"),
    "p_delta": ("p (Δχ²)", "p"), "delta_cfi": ("ΔCFI", "num"), "delta_rmsea": ("ΔRMSEA", "num"),
    "holds_chisq": ("Holds (Δχ²)", "bool"), "holds_cfi": ("Holds (ΔCFI)", "bool"),
    "holds_rmsea": ("Holds (ΔRMSEA)", "bool"),
}


def resolve_invariance(res, invariance_arg, data) -> InvarianceResult | None:
    """The :class:`InvarianceResult` a report shows: the one given, or the ladder of the
    fit's model across the column named by ``invariance_arg`` of ``data``."""
    if invariance_arg is None or invariance_arg is False:
        return None
    if isinstance(invariance_arg, InvarianceResult):
        return invariance_arg
    if isinstance(invariance_arg, str):
        if data is None:
            raise ReportError(f"invariance={invariance_arg!r} names a group column: pass the "
                              "data too (data=df), or pass the result of cs.invariance(...)")
        used = getattr(res.estimation, "options", None)  # PLS fits keep a dict
        if getattr(used, "ordered", ()):  # the ordinal ladder of the fit's ordered items
            return invariance(res.model, data, group=invariance_arg, ordered=used.ordered,
                              estimator_options={"parameterization": used.extra.get(
                                  "parameterization", "delta")})
        estimator = res.estimator if res.estimator in ("ML", "MLM", "MLR") else "ML"
        return invariance(res.model, data, group=invariance_arg, estimator=estimator)
    raise ReportError("invariance= takes the result of cs.invariance(model, data, group=...) "
                      f"or the name of the group column, not {type(invariance_arg).__name__}")


def invariance_section(inv: InvarianceResult) -> Section:
    """The ladder as a section with one table (key ``invariance``)."""
    s = Section("invariance", "Measurement invariance")
    table = inv.table
    keep = [c for c in _COLUMNS if c in table.columns]
    frame = pd.DataFrame({"Level": [str(i) for i in table.index]})
    for c in keep:
        frame[_COLUMNS[c][0]] = table[c].to_numpy()
    fmts = {"Level": "text", **{_COLUMNS[c][0]: _COLUMNS[c][1] for c in keep}}
    groups = ", ".join(map(str, inv.group_labels))
    notes = [f"Groups of {inv.group}: {groups}. Each level adds equality constraints to the "
             "one before (configural; metric: loadings; scalar: intercepts; strict: residual "
             "variances). Invariance holds at a level when ΔCFI ≥ −.010 and ΔRMSEA ≤ .015 "
             "(Chen, 2007); the χ² difference test is stricter in large samples."]
    ordinal = any("thresholds" in kinds for kinds in inv.group_equal.values())
    if ordinal:
        frame.insert(2 if "Converged" in frame else 1, "χ² (scaled)",
                     table["chisq.scaled"].to_numpy())
        fmts["χ² (scaled)"] = "num"
        notes[0] = (f"Groups of {inv.group}: {groups}. Ordered items: each level adds "
                    "equality constraints to the one before (configural; thresholds; "
                    "loadings; intercepts; residual variances), identified as Wu & "
                    "Estabrook (2016). Invariance holds at a level when ΔCFI ≥ −.010 and "
                    "ΔRMSEA ≤ .015 (Chen, 2007); the χ² difference test is stricter in "
                    "large samples.")
    elif "chisq.scaled" in table.columns:
        notes.append("Robust estimator: Δχ² is the Satorra–Bentler (2001) scaled difference; "
                     "CFI and RMSEA are the robust indices.")
    notes += list(inv.notes)
    s.tables.append(Table("invariance", f"Measurement invariance across {inv.group}", frame,
                          fmts, tuple(notes)))
    return s
