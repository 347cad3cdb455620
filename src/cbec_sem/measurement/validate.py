"""The reviewer's measurement checklist in one table: :func:`validate`.

Every row is one criterion applied to one target (an item, a construct, a pair of constructs,
or the model), with the value, the cut-off as published, whether it is met, and the source.
The numbers come from the measurement functions of this package, so the checklist never
computes anything they do not:

=================================  ============  =========================================
criterion                          cut-off       source / function
=================================  ============  =========================================
standardized loading               ≥ .708        Hair et al. (2019); indicator_diagnostics
Cronbach's alpha                   ≥ .70         Nunnally (1978); reliability
composite reliability (omega)      ≥ .70         Hair et al. (2019); reliability
AVE                                ≥ .50         Fornell & Larcker (1981); reliability
Fornell-Larcker                    √AVE > |r|    Fornell & Larcker (1981); fornell_larcker
HTMT                               < .85 (.90)   Henseler, Ringle & Sarstedt (2015); htmt
item VIF                           < 5           Hair et al. (2019); indicator_diagnostics
full collinearity VIF              < 3.3         Kock (2015); full_collinearity_vif
CFI, TLI                           ≥ .95         Hu & Bentler (1999); the fit
RMSEA                              ≤ .06         Hu & Bentler (1999); the fit
SRMR                               ≤ .08         Hu & Bentler (1999); the fit
Harman single-factor share         < .50         Podsakoff et al. (2003); common_method_bias
=================================  ============  =========================================

Cut-offs are conventions, not laws: Hu & Bentler's (1999) values come from simulations of
particular models and Marsh, Hau & Wen (2004) warn against treating them as golden rules;
Hair et al.'s (2019) .708 loading rule is for keeping an item without further thought, and
items between .40 and .70 may stay when removing them does not raise CR or AVE.  The ``note``
column says what a number does not show (Harman's test, above all: see
:data:`~cbec_sem.measurement.method_bias.HARMAN_CAVEAT`).

References
----------
Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with unobservable
variables and measurement error. *Journal of Marketing Research*, 18(1), 39–50.

Hair, J. F., Risher, J. J., Sarstedt, M., & Ringle, C. M. (2019). When to use and how to report
the results of PLS-SEM. *European Business Review*, 31(1), 2–24.

Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing discriminant
validity in variance-based structural equation modeling. *Journal of the Academy of Marketing
Science*, 43(1), 115–135.

Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure
analysis: Conventional criteria versus new alternatives. *Structural Equation Modeling*, 6(1),
1–55.

Kock, N. (2015). Common method bias in PLS-SEM: A full collinearity assessment approach.
*International Journal of e-Collaboration*, 11(4), 1–10.

Marsh, H. W., Hau, K.-T., & Wen, Z. (2004). In search of golden rules. *Structural Equation
Modeling*, 11(3), 320–341.

Nunnally, J. C. (1978). *Psychometric theory* (2nd ed.). McGraw-Hill.

Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P. (2003). Common method biases
in behavioral research. *Journal of Applied Psychology*, 88(5), 879–903.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..engine.fitmeasures import shown_measure
from ..errors import CbecSemError, SpecError
from ..validation import check_seed
from ._common import check_fit, inadmissible_note, multigroup
from .discriminant import fornell_larcker, htmt
from .indicators import full_collinearity_vif, indicator_diagnostics
from .method_bias import HARMAN_CAVEAT, HARMAN_THRESHOLD, harman_test, model_items
from .reliability import reliability
from ..engine.samplestats import sample_stats

__all__ = ["CRITERIA", "validate"]

HAIR = "Hair, Risher, Sarstedt & Ringle (2019)"
NUNNALLY = "Nunnally (1978)"
FORNELL = "Fornell & Larcker (1981)"
HENSELER = "Henseler, Ringle & Sarstedt (2015)"
KOCK = "Kock (2015)"
HU_BENTLER = "Hu & Bentler (1999)"
PODSAKOFF = "Podsakoff et al. (2003); Podsakoff, MacKenzie & Podsakoff (2012)"

#: criterion → (comparison, cut-off, source), in the checklist's order.
CRITERIA: dict[str, tuple[str, float | None, str]] = {
    "standardized loading": (">=", 0.708, HAIR),
    "Cronbach's alpha": (">=", 0.70, NUNNALLY),
    "composite reliability (omega)": (">=", 0.70, HAIR),
    "AVE": (">=", 0.50, FORNELL),
    "Fornell-Larcker": (">", None, FORNELL),
    "HTMT": ("<", 0.85, HENSELER),
    "item VIF": ("<", 5.0, HAIR),
    "full collinearity VIF": ("<", 3.3, KOCK),
    "CFI": (">=", 0.95, HU_BENTLER),
    "TLI": (">=", 0.95, HU_BENTLER),
    "RMSEA": ("<=", 0.06, HU_BENTLER),
    "SRMR": ("<=", 0.08, HU_BENTLER),
    "Harman single-factor share": ("<", HARMAN_THRESHOLD, PODSAKOFF),
}

#: comparison of CRITERIA -> its sign as printed, and its numpy function
SIGN = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}
COMPARE = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less}

COLUMNS = ["criterion", "target", "group", "value", "threshold", "passed", "source", "note"]


def _fmt(x: float) -> str:
    """0.708 → "0.708", 0.7 → "0.70", 5 → "5", 3.3 → "3.3"."""
    if x >= 1:
        return f"{x:g}"
    text = f"{x:.3f}"
    return text[:-1] if text.endswith("0") else text


def _threshold(criterion: str) -> str:
    op, cut, _ = CRITERIA[criterion]
    return f"{SIGN[op]} {_fmt(cut)}"


def _passed(criterion: str, value, cut: float | None = None):
    op, default, _ = CRITERIA[criterion]
    cut = default if cut is None else cut
    if value is None or cut is None:
        return None
    value = float(value)
    if not np.isfinite(value) or not np.isfinite(cut):
        return None
    return bool(COMPARE[op](value, cut))


def _row(criterion: str, target: str, value, *, group=None, passed="auto", threshold=None,
         note: str = "") -> dict:
    value = float(value) if value is not None and not pd.isna(value) else np.nan
    return {
        "criterion": criterion,
        "target": target,
        "group": group,
        "value": value,
        "threshold": threshold if threshold is not None else _threshold(criterion),
        "passed": _passed(criterion, value) if passed == "auto" else passed,
        "source": CRITERIA[criterion][2],
        "note": note,
    }


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _not_defined(criterion: str, target: str, reason: str) -> dict:
    return _row(criterion, target, np.nan, passed=None, note=f"not defined: {reason}")


# ------------------------------------------------------------------------------- the parts


def _loadings(res) -> list[dict]:
    diag = indicator_diagnostics(res)
    multi = "group" in diag.columns
    rows = []
    for _, d in diag.iterrows():
        flag = d["flag"]
        if flag == "ok":
            note = ""
        elif flag == "below .708":
            note = ("below .708: the construct explains less than half of the item's "
                    "variance; keep the item only if dropping it would not raise CR or AVE")
        elif flag.startswith("below .50"):
            note = "below .50: a removal candidate"
        else:
            note = flag
        rows.append(_row(
            "standardized loading", f"{d['construct']} =~ {d['item']}", abs(d["std.all"]),
            group=d["group"] if multi else None,
            note=_join(note, d["note"], "absolute value of std.all"
                       if d["std.all"] < 0 else "")))
    return rows


def _second_order_cr(res) -> dict:
    """(group, construct) → composite reliability of a higher-order factor's standardized
    second-order loadings, (Σλ)² / ((Σλ)² + Σ(1 − λ²)) (Fornell & Larcker 1981, eq. 10, on
    std.all loadings), the figure many papers report for a second-order construct."""
    diag = indicator_diagnostics(res)
    multi = "group" in diag.columns
    second = diag[diag["note"].str.contains("second-order loading", regex=False)]
    out = {}
    keys = ["group", "construct"] if multi else ["construct"]
    for key, rows in second.groupby(keys, sort=False):
        key = key if multi else (None, key[0] if isinstance(key, tuple) else key)
        lam = rows["std.all"].to_numpy(dtype=float)
        out[key] = float(lam.sum() ** 2 / (lam.sum() ** 2 + np.sum(1.0 - lam**2)))
    return out


def _reliability(res) -> list[dict]:
    rel = reliability(res)
    multi = "group" in rel.columns
    second_cr = _second_order_cr(res)
    rows = []
    for criterion, col in (("Cronbach's alpha", "alpha"),
                           ("composite reliability (omega)", "omega"), ("AVE", "ave")):
        for _, r in rel.iterrows():
            value = r[col]
            note = r["note"] if not np.isfinite(value) else ""
            if criterion == "composite reliability (omega)":
                note = _join("semTools compRelSEM() omega (observed sum-score variance)"
                             if r["kind"] == "first-order" else
                             "omega_L1 of the higher-order factor (semTools "
                             "compRelSEM(higher = ...)): the share of its items' sum-score "
                             "variance due to it", _second_cr_note(second_cr, r, multi),
                             inadmissible_note(res))
            elif criterion == "AVE":
                if np.isfinite(value):
                    note = _join(f"semTools AVE(); mean squared std.all loading = "
                                 f"{r['ave.std']:.3f}", inadmissible_note(res))
                else:
                    note = f"not defined: {r['note']}"
            elif criterion == "Cronbach's alpha" and r["kind"] == "higher-order":
                note = f"alpha of the {r['n_items']} items of all its first-order factors"
            rows.append(_row(criterion, r["construct"], value,
                             group=r["group"] if multi else None, note=note))
    return rows


def _second_cr_note(second_cr: dict, r, multi: bool) -> str:
    value = second_cr.get((r["group"] if multi else None, r["construct"]))
    if value is None:
        return ""
    return (f"CR of its standardized second-order loadings (sum lambda)^2 / ((sum lambda)^2 "
            f"+ sum(1 - lambda^2)) = {value:.3f}")


def _fornell_larcker(res) -> list[dict]:
    fl = fornell_larcker(res)
    rows = []
    for key, r in fl.iterrows():
        group, name = key if isinstance(key, tuple) else (None, key)
        root = r[name]
        max_r = r["max_abs_r"]
        others = [c for c in fl.columns if c not in (name, "max_abs_r", "passes", "note")]
        with_ = ""
        if np.isfinite(max_r) and others:
            corr = r[others].astype(float).abs()
            with_ = f" (with {corr.idxmax()})"
        passed = None if pd.isna(r["passes"]) else bool(r["passes"])
        threshold = (f"> max |r| = {max_r:.3f}{with_}" if np.isfinite(max_r)
                     else "> max |r| (no other construct)")
        note = r["note"] or ("" if np.isfinite(max_r) else
                             "not defined: no other first-order construct to compare with")
        rows.append(_row("Fornell-Larcker", name, root, group=group, passed=passed,
                         threshold=threshold, note=_join(f"sqrt(AVE) = {root:.3f}"
                                                         if np.isfinite(root) else "", note)))
    return rows


def _htmt_rows(res, data, bootstrap: int, seed) -> list[dict]:
    targets = []
    if data is not None:
        targets.append((None, data, ""))
        if multigroup(res):
            targets[0] = (None, data, "computed on all rows of data (groups pooled)")
    elif multigroup(res):
        stats = res.estimation.stats
        for label, block in zip(stats.group_labels, stats.complete_data):
            targets.append((label, pd.DataFrame(block, columns=list(stats.names)), ""))
    else:
        targets.append((None, None, ""))
    rows = []
    for group, frame, extra in targets:
        try:
            h = htmt(res if frame is None else res.model, frame, bootstrap=bootstrap,
                     seed=seed)
        except CbecSemError as exc:
            row = _not_defined("HTMT", "all pairs", str(exc))
            row["group"] = group
            rows.append(row)
            continue
        for _, t in h.table.iterrows():
            liberal = t["below_090"]
            if bootstrap:
                basis = (f"judged on the one-sided {h.level:.0%} bootstrap upper bound "
                         f"{t['upper_1s']:.3f} ({bootstrap} draws; Franke & Sarstedt 2019)")
            else:
                basis = "point estimate; a bootstrap (htmt_bootstrap=...) adds inference"
            lib = ("" if pd.isna(liberal) else
                   f"liberal .90 cut-off (Gold et al. 2001): {'met' if liberal else 'not met'}")
            passed = None if pd.isna(t["below_085"]) else bool(t["below_085"])
            rows.append(_row("HTMT", t["pair"], t["htmt"], group=group, passed=passed,
                             note=_join(basis, lib, t["note"], extra)))
        if h.notes and rows:
            rows[-1]["note"] = _join(rows[-1]["note"], *h.notes)
    return rows


def _item_vif(res) -> list[dict]:
    diag = indicator_diagnostics(res)
    multi = "group" in diag.columns
    rows = []
    for _, d in diag.iterrows():
        if "second-order loading" in d["note"]:
            continue
        note = "among the items of the same construct" if np.isfinite(d["vif"]) else (
            f"not defined: {d['note']}")
        rows.append(_row("item VIF", f"{d['construct']}: {d['item']}", d["vif"],
                         group=d["group"] if multi else None, note=note))
    return rows


def _full_vif(res) -> list[dict]:
    try:
        fc = full_collinearity_vif(res)
    except CbecSemError as exc:
        return [_not_defined("full collinearity VIF", "constructs", str(exc))]
    multi = "group" in fc.columns
    return [_row("full collinearity VIF", r["construct"], r["vif"],
                 group=r["group"] if multi else None,
                 note=_join("regression factor scores on all other constructs' scores",
                            r["note"]))
            for _, r in fc.iterrows()]


def _fit_rows(res) -> list[dict]:
    fm = res.fit_measures
    caution = inadmissible_note(res)
    groups = ("all groups together (fit of the multi-group model)" if multigroup(res)
              else "")
    saturated = float(fm.get("df", np.nan)) == 0.0
    rows = []
    for criterion, name in (("CFI", "cfi"), ("TLI", "tli"), ("RMSEA", "rmsea"),
                            ("SRMR", "srmr")):
        # under a robust estimator the robust index, labelled, with the standard one beside
        key, kind = shown_measure(fm, name)
        value = float(fm.get(key, np.nan))
        note = _join(groups, caution)
        passed = "auto"
        if name == "rmsea" and np.isfinite(value):
            suffix = ".robust" if kind else ""
            lo = fm.get(f"rmsea.ci.lower{suffix}", np.nan)
            hi = fm.get(f"rmsea.ci.upper{suffix}", np.nan)
            note = _join(f"90% CI [{lo:.3f}, {hi:.3f}]", note)
        if kind:
            note = _join(f"{kind} {criterion} ({res.estimation.options.estimator}); standard "
                         f"{criterion} {float(fm.get(name, np.nan)):.3f}", note)
        if not np.isfinite(value):
            note = _join("not available for this fit", note)
        if saturated:
            passed = None
            note = _join("not defined: df = 0, the model is saturated and fits perfectly by "
                         "construction, so fit indices test nothing", note)
        row = _row(criterion, "model", value, passed=passed, note=note)
        if kind:
            row["criterion"] = f"{criterion} ({kind})"
        rows.append(row)
    return rows


def _harman_rows(res, data) -> list[dict]:

    spec = res.model
    items = model_items(spec)
    targets = []
    if data is not None:
        if len(items) >= 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the rows dropped are said in the note
                st = sample_stats(data, items)
            extra = (f"{st.rows_dropped} rows with missing items dropped"
                     if st.rows_dropped else "")
            targets.append((None, pd.DataFrame(st.data[0], columns=list(items)), extra))
    else:
        stats = res.estimation.stats
        for label, block in zip(stats.group_labels, stats.complete_data):
            frame = pd.DataFrame(block, columns=list(stats.names))
            targets.append((label if stats.ngroups > 1 else None, frame, ""))
    if not targets:
        return [_not_defined("Harman single-factor share", "model",
                             "the model has no observed items")]
    rows = []
    for group, frame, extra in targets:
        h = harman_test(spec, items, items, frame, None)
        if not h.defined:
            row = _not_defined("Harman single-factor share", "model", h.reason)
            row["group"] = group
            row["note"] = _join(row["note"], HARMAN_CAVEAT)
            rows.append(row)
            continue
        ml = (f"one-factor ML share {h.factor_share:.3f}" if np.isfinite(h.factor_share)
              else f"one-factor ML share not defined ({h.reason})")
        rows.append(_row(
            "Harman single-factor share", "model", h.pca_share, group=group,
            note=_join(f"first unrotated principal component of {len(items)} items "
                       f"(eigenvalue {h.eigenvalues[0]:.3f}); {ml}", extra, HARMAN_CAVEAT)))
    return rows


# ------------------------------------------------------------------------------- the entry


def validate(res, *, data=None, htmt_bootstrap: int = 0, seed=None) -> pd.DataFrame:
    """The measurement checklist a reviewer asks for, one row per criterion and target.

    Args:
        res: a converged :class:`~cbec_sem.results.FitResult`.
        data: the survey the item-level, data-based criteria (HTMT, Harman's test) are
            computed on; None uses the rows the fit used (``res.estimation.stats``, per group
            for a multi-group fit).  Loadings, reliability, AVE, Fornell-Larcker, VIFs and
            fit always come from ``res``.
        htmt_bootstrap: bootstrap draws for HTMT inference (0: point estimates).  With draws,
            a pair passes when the one-sided upper bound lies below .85 (Franke & Sarstedt
            2019).
        seed: seed of the HTMT bootstrap.

    Returns:
        A DataFrame with columns ``criterion``, ``target`` (item ``"TA =~ ta1"``, construct,
        pair ``"TA-FA"`` or ``"model"``), ``group`` (only for multi-group fits), ``value``,
        ``threshold`` (as published, e.g. ``"≥ 0.708"``), ``passed`` (True/False, or None
        when the criterion is not defined for the target), ``source`` (citation) and
        ``note`` (how the value was computed, caveats, why something is not defined).  The
        criteria, cut-offs and sources are listed in :data:`CRITERIA` and in the module
        docstring.

    Raises:
        SpecError: ``res`` is not a fit; a bad ``htmt_bootstrap``.
        EstimationError: the fit did not converge (its numbers are not estimates).

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> checks = cs.validate(res)
        >>> list(checks.columns)
        ['criterion', 'target', 'value', 'threshold', 'passed', 'source', 'note']
        >>> checks[["criterion", "target", "value", "passed"]].head(3).round(3)
                      criterion     target  value passed
        0  standardized loading  TA =~ ta1  0.812   True
        1  standardized loading  TA =~ ta2  0.743   True
        2  standardized loading  TA =~ ta3  0.732   True
    """
    check_fit(res, "validate()", covariance=True)
    if isinstance(htmt_bootstrap, bool) or not isinstance(htmt_bootstrap, (int, np.integer)) \
            or htmt_bootstrap < 0:
        raise SpecError(f"htmt_bootstrap={htmt_bootstrap!r} must be a whole number ≥ 0")
    seed = check_seed(seed)  # here: a bad seed inside would only become a row's note
    rows: list[dict] = []
    rows += _loadings(res)
    rows += _reliability(res)
    rows += _fornell_larcker(res)
    rows += _htmt_rows(res, data, int(htmt_bootstrap), seed)
    rows += _item_vif(res)
    rows += _full_vif(res)
    rows += _fit_rows(res)
    rows += _harman_rows(res, data)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    # True/False/None: an object column, so "not defined" stays None (not NaN or pd.NA).
    frame["passed"] = pd.Series([r["passed"] for r in rows], index=frame.index, dtype=object)
    if not multigroup(res):
        frame = frame.drop(columns="group")
    return frame
