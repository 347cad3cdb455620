"""Cross-check a fit against semopy: :func:`crosscheck` fits the same model on the same rows in
semopy (Igolkina & Meshcheryakov 2020, *Structural Equation Modeling* 27(6), 952–963) and puts
the two sets of estimates and fit statistics side by side.

semopy is optional (``pip install "cbec-sem[semopy]"``).  Its estimates are those of the same
maximum-likelihood discrepancy (semopy's ``MLW`` objective with the sample covariance divided
by N, as lavaan's ML), so they agree with cbec_sem's to the optimiser's tolerance (semopy's
SLSQP stops about 1e-3 from the optimum).  Several of the statistics semopy's ``calc_stats``
reports are computed differently from lavaan and cbec_sem; the fit table marks each one in
its ``note`` column (checked against semopy 2.3.11's source, ``semopy/stats.py``):

* ``LogLik`` is the value of the ML discrepancy function, not the log-likelihood, so its
  ``AIC`` and ``BIC`` (2k − 2·LogLik, k·ln N − 2·LogLik) are not the information criteria
  lavaan reports; only their differences between models fitted to the same data compare.
* ``RMSEA`` divides by N − 1 (lavaan and cbec_sem by N).
* ``CFI`` and ``TLI`` are not truncated to [0, 1] (lavaan truncates CFI).
* ``GFI`` is computed with NFI's formula (1 − χ²/χ²_baseline) and ``AGFI`` from it.
* there is no ``SRMR``, no ``:=`` defined parameter and no robust (scaled) statistic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..fitting import fit
from ..modelfit import FittedModel
from ..propositions.evidence import rows_used
from ..protocol import Block, ResultProtocol, Summary

__all__ = ["CrossCheck", "crosscheck", "semopy_description", "SEMOPY_DEVIATIONS"]

#: estimators whose estimates are semopy's ML estimates (robust SEs differ by design)
_ML_FAMILY = ("ML", "MLM", "MLR")

#: (cbec_sem fit measure, semopy calc_stats row, note where semopy computes it differently)
SEMOPY_DEVIATIONS: tuple[tuple[str, str, str], ...] = (
    ("chisq", "chi2", ""),
    ("df", "DoF", ""),
    ("pvalue", "chi2 p-value", ""),
    ("baseline.chisq", "chi2 Baseline", ""),
    ("cfi", "CFI", "semopy does not truncate CFI to [0, 1]"),
    ("tli", "TLI", ""),
    ("nfi", "NFI", ""),
    ("rmsea", "RMSEA", "semopy divides by N − 1, lavaan by N"),
    ("gfi", "GFI", "semopy's GFI is NFI's formula, 1 − χ²/χ²(baseline)"),
    ("agfi", "AGFI", "semopy's AGFI is made from its GFI (NFI's formula)"),
    ("logl", "LogLik", "semopy's LogLik is the ML discrepancy value, not the log-likelihood"),
    ("aic", "AIC", "from semopy's LogLik (the discrepancy), not −2 logL + 2k"),
    ("bic", "BIC", "from semopy's LogLik (the discrepancy), not −2 logL + k ln N"),
    ("srmr", "", "semopy has no SRMR"),
)


def semopy_description(res: FittedModel) -> tuple[str, list[str]]:
    """The model in semopy's description language (lavaan-like) and the lines left out:
    ``:=`` definitions (semopy has none) and constraints (``==``, ``<``, ``>``)."""
    kept, dropped = [], []
    for line in res.model.to_lavaan().splitlines():
        if any(op in line for op in (":=", "==", "<", ">")):
            dropped.append(line.strip())
        elif line.strip():
            kept.append(line)
    return "\n".join(kept), dropped


@dataclass(frozen=True)
class CrossCheck(ResultProtocol):
    """cbec_sem and semopy estimates of one model on the same rows.

    Attributes:
        estimates: ``lhs, op, rhs, est, est.semopy, diff, se, se.semopy, se.diff, note``
            (cbec_sem's rows, lavaan's names; ``diff`` = cbec_sem − semopy).
        fit: ``measure, cbec_sem, semopy, diff, note``: the note says where semopy's
            statistic is computed differently (:data:`SEMOPY_DEVIATIONS`).
        objective: semopy's objective (``"MLW"`` or ``"FIML"``).
        semopy_version: the semopy that was run.
        notes: what could not be compared.
    """

    estimates: pd.DataFrame
    fit: pd.DataFrame
    objective: str
    semopy_version: str
    notes: tuple[str, ...] = ()

    @property
    def max_abs_diff(self) -> float:
        """Largest |cbec_sem − semopy| over the free parameters both estimate."""
        d = self.estimates["diff"].abs()
        return float(d.max()) if d.notna().any() else float("nan")

    def to_frame(self) -> pd.DataFrame:
        return self.estimates.copy()

    def summary(self) -> Summary:
        return Summary(
            f"cbec_sem and semopy {self.semopy_version} ({self.objective}): largest "
            f"|difference| of an estimate {self.max_abs_diff:.2g}",
            (Block("Estimates", self.estimates), Block("Fit statistics", self.fit)),
            notes=self.notes)

    def __repr__(self) -> str:
        return (f"<CrossCheck semopy {self.semopy_version}: {len(self.estimates)} rows, "
                f"max |diff| {self.max_abs_diff:.2g}>")


def _semopy():
    try:
        import semopy
    except ImportError:
        raise SpecError('crosscheck needs semopy, which is not installed: pip install '
                        '"cbec-sem[semopy]"') from None
    return semopy


def _numeric(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def crosscheck(res, data=None, **fit_options) -> CrossCheck:
    """Fit the model of ``res`` in semopy on the rows ``res`` used and compare.

    Args:
        res: a fit of the ML family (``cs.fit(..., estimator="ML"|"MLM"|"MLR")``), or a
            model (lavaan or semopy syntax, or a ModelSpec) to be fitted on ``data``.
        data: the data, when ``res`` is a model.
        **fit_options: passed to :func:`cbec_sem.fit` when ``res`` is a model.

    Returns:
        A :class:`CrossCheck` with the estimates and fit statistics side by side.

    Raises:
        SpecError: semopy missing; a fit that semopy cannot reproduce (not ML family,
            several groups, ordered items).

    Examples:
        >>> import cbec_sem as cs
        >>> from cbec_sem.interop.semopy import crosscheck
        >>> cc = crosscheck(cs.paper_model(), cs.datasets.example_survey())  # doctest: +SKIP
        >>> cc.max_abs_diff < 1e-2                                          # doctest: +SKIP
        True
    """
    semopy = _semopy()
    if not isinstance(res, FittedModel):
        if data is None:
            raise SpecError("crosscheck(model, data): give the data to fit the model on, or "
                            "pass a fit (cs.fit(...))")
        res = fit(res, data, **fit_options)
    elif data is not None or fit_options:
        raise SpecError("crosscheck(res) compares an existing fit on the rows it used; "
                        "data and fit options are for crosscheck(model, data, ...)")
    if res.estimator not in _ML_FAMILY:
        raise SpecError(f"semopy fits maximum likelihood; this is a {res.estimator} fit. "
                        "Cross-check an ML, MLM or MLR fit of the same model")
    if len(res.nobs) > 1:
        raise SpecError("semopy has no multi-group models with equality constraints; "
                        "cross-check each group's fit separately")
    if getattr(res.estimation.options, "ordered", None):
        raise SpecError("semopy's ordinal path does not run on numpy 2; cross-check a fit "
                        "of the items as continuous")
    description, dropped = semopy_description(res)
    missing = res.estimation.options.missing
    objective = "FIML" if missing in ("fiml", "ml") else "MLW"
    model = semopy.Model(description)
    rows = rows_used(res)
    model.fit(rows, obj=objective)
    theirs = model.inspect()
    notes = []
    if dropped:
        notes.append("not in semopy (no := or constraints): " + "; ".join(dropped))
    if res.estimator != "ML":
        notes.append(f"standard errors: cbec_sem's are {res.estimator}'s (robust), semopy's "
                     "information-based; the estimates are the same ML estimates")
    loadings = {(f, i) for f, items in res.model.indicators.items() for i in items}
    lookup: dict[tuple[str, str, str], tuple[float, float]] = {}
    for lval, op, rval, est, se in zip(theirs["lval"], theirs["op"], theirs["rval"],
                                       _numeric(theirs["Estimate"]),
                                       _numeric(theirs["Std. Err"])):
        if op == "~" and (rval, lval) in loadings:  # semopy writes a loading "item ~ factor"
            key = (rval, "=~", lval)
        elif op == "~~":
            key = tuple(sorted((lval, rval)))
            key = (key[0], "~~", key[1])
        else:
            key = (lval, op, rval)
        lookup[key] = (est, se)
    ours = res.params
    ours = ours[ours["op"] != ":="]
    rows_out = []
    for lhs, op, rhs, est, se in zip(ours["lhs"], ours["op"], ours["rhs"], ours["est"],
                                     ours["se"]):
        key = (lhs, op, rhs) if op != "~~" else (min(lhs, rhs), "~~", max(lhs, rhs))
        other = lookup.get(key)
        fixed = not (se > 0)
        note = "" if other is not None else "not estimated by semopy"
        if other is not None and fixed:
            note = "fixed"
        e2, s2 = other if other is not None else (np.nan, np.nan)
        rows_out.append({"lhs": lhs, "op": op, "rhs": rhs, "est": float(est),
                         "est.semopy": e2, "diff": float(est) - e2 if not fixed else np.nan,
                         "se": float(se) if not fixed else np.nan,
                         "se.semopy": s2 if not fixed else np.nan,
                         "se.diff": float(se) - s2 if not fixed else np.nan, "note": note})
    estimates = pd.DataFrame(rows_out)
    stats = semopy.calc_stats(model).T.iloc[:, 0]
    fm = res.fit_measures
    fit_rows = []
    for ours_key, their_key, note in SEMOPY_DEVIATIONS:
        a = float(fm.get(ours_key, np.nan))
        b = float(stats.get(their_key, np.nan)) if their_key else np.nan
        fit_rows.append({"measure": ours_key, "cbec_sem": a, "semopy": b, "diff": a - b,
                         "note": note})
    if res.estimator != "ML":
        notes.append(f"fit statistics: cbec_sem's column is the standard (ML) statistic; "
                     f"the {res.estimator} scaled ones are in res.fit_measures")
    return CrossCheck(estimates, pd.DataFrame(fit_rows), objective,
                      str(getattr(semopy, "__version__", "unknown")), tuple(notes))
