"""Indicator-level diagnostics and Kock's full collinearity test.

* :func:`indicator_diagnostics` — per (construct, item): the loading, its standardised value
  (``std.all``) with a delta-method standard error (lavaan's ``standardizedSolution()``), the
  item's R², its variance inflation factor among the construct's items, and flags against the
  usual cut-offs (std.all ≥ .708 so the construct explains at least half the item's variance;
  below .50 a candidate for removal — Hair, Risher, Sarstedt & Ringle 2019, *Eur. Bus. Rev.*
  31(1), 2–24).
* :func:`full_collinearity_vif` — Kock (2015, *Int. J. e-Collaboration* 11(4), 1–10): the VIF
  of every construct's score regressed on all the other constructs' scores; a VIF above 3.3
  signals pathological collinearity or common-method bias.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ..errors import SpecError
from ._common import blocks, check_fit, cov_to_cor, group_frame, inadmissible_note, multigroup
from ._delta import standardized_jacobian
from .scores import score_weights

LOADING_OK = 0.708
LOADING_DROP = 0.50

DIAG_COLUMNS = ["construct", "item", "group", "est", "std.all", "se", "z", "pvalue",
                "ci.lower", "ci.upper", "r2", "vif", "flag", "note"]


def vif_from_correlation(r: np.ndarray) -> np.ndarray:
    """VIF_j = 1/(1 − R²_j) of each variable regressed on all the others, which is the j-th
    diagonal element of the inverse correlation matrix (e.g. Belsley, Kuh & Welsch 1980,
    p. 93; Marquardt 1970)."""
    return np.diag(np.linalg.inv(r)).copy()


def indicator_diagnostics(res, *, level: float | None = None) -> pd.DataFrame:
    """One row per loading (construct, item): standardised loading, SE, R², VIF and flags.

    Args:
        res: a converged :class:`~cbec_sem.results.FitResult`.
        level: confidence level of the ``std.all`` interval (default: the fit's).

    Returns:
        Columns ``construct``, ``item``, (``group`` for multi-group fits), ``est`` (the
        unstandardised loading), ``std.all``, ``se`` (delta-method SE of ``std.all``, as
        lavaan's ``standardizedSolution()``), ``z``, ``pvalue``, ``ci.lower``, ``ci.upper``
        (Wald interval of ``std.all``), ``r2`` (the item's R², 1 − its standardised residual
        variance; std.all² for an item that loads on one factor only), ``vif`` (the item's
        VIF among the items of the same construct, from their sample correlation matrix:
        the diagonal of its inverse), ``flag`` and ``note``.

        ``flag``: ``"ok"`` (std.all ≥ .708), ``"below .708"``, or ``"below .50: removal
        candidate"`` (Hair et al. 2019).  For the loadings of a higher-order factor on its
        first-order factors the same cut-offs apply to the second-order loading; ``vif`` is
        not computed there (the "items" are latent).

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> cs.indicator_diagnostics(res)[["construct", "item", "std.all", "r2", "flag"]].head(3).round(3)
          construct item  std.all     r2 flag
        0        TA  ta1    0.812  0.659   ok
        1        TA  ta2    0.743  0.553   ok
        2        TA  ta3    0.732  0.536   ok
    """
    check_fit(res, "indicator_diagnostics()", covariance=True)
    est = res.estimation
    lev = est.options.level if level is None else float(level)
    if not 0.0 < lev < 1.0:
        raise SpecError(f"level={lev} must lie strictly between 0 and 1")
    frame = est.partable.frame
    rows_idx, jac = standardized_jacobian(res)
    vcov = np.asarray(est.vcov, dtype=float)
    params = est.params
    std_all = params["std.all"].to_numpy()[: len(frame)]
    values = est.ram.row_values(est.theta)
    se_all = np.full(len(frame), np.nan)
    se_all[rows_idx] = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0.0, None))
    rsq = res.rsquare()
    r2_of = {(v, int(g)): r for v, g, r in zip(rsq["variable"], rsq["group"], rsq["r2"])}
    multi = multigroup(res)
    caution = inadmissible_note(res)
    crit = special.ndtri(0.5 + lev / 2.0)
    out = []
    for blk in blocks(res):
        g = blk.index + 1
        sel = np.flatnonzero((frame["op"].to_numpy() == "=~")
                             & (frame["group"].to_numpy() == g))
        vifs: dict[tuple[str, str], float] = {}
        for c in blk.constructs.values():
            if len(c.items) >= 2:
                ix = blk.idx(c.items)
                r = cov_to_cor(blk.sample_cov[np.ix_(ix, ix)])
                for item, v in zip(c.items, vif_from_correlation(r)):
                    vifs[(c.name, item)] = float(v)
        for k in sel:
            lhs, rhs = frame.at[k, "lhs"], frame.at[k, "rhs"]
            std = float(std_all[k])
            se = float(se_all[k])
            notes = []
            latent_ind = rhs in blk.latent
            vif = vifs.get((lhs, rhs), np.nan)
            if latent_ind:
                notes.append(f"{rhs} is a first-order factor: this is a second-order loading, "
                             "and VIF is not computed for latent indicators")
            elif not np.isfinite(vif):
                notes.append(f"{lhs} has a single item: no other item to be collinear with, "
                             "so VIF is not defined")
            if values[k] == 0.0:
                notes.append("loading fixed to 0")
            with np.errstate(divide="ignore", invalid="ignore"):
                z = std / se if se > 0 else np.nan
            p = float(2.0 * special.ndtr(-abs(z))) if np.isfinite(z) else np.nan
            a = abs(std)
            if not np.isfinite(a):
                flag = "not available"
            elif a < LOADING_DROP:
                flag = "below .50: removal candidate"
            elif a < LOADING_OK:
                flag = "below .708"
            else:
                flag = "ok"
            if caution:
                notes.append(caution)
            out.append({
                "construct": lhs, "item": rhs, "group": blk.label, "est": float(values[k]),
                "std.all": std, "se": se, "z": z, "pvalue": p,
                "ci.lower": std - crit * se, "ci.upper": std + crit * se,
                "r2": r2_of.get((rhs, g), np.nan), "vif": vif, "flag": flag,
                "note": "; ".join(notes),
            })
    return group_frame(out, multi, DIAG_COLUMNS)


FCV_COLUMNS = ["construct", "group", "r2", "vif", "above_threshold", "note"]


def full_collinearity_vif(res, *, constructs=None, threshold: float = 3.3) -> pd.DataFrame:
    """Kock's (2015) full collinearity test on the constructs' factor scores.

    Every construct's score is regressed on the scores of all the others (in the sample the
    fit used, per group); VIF = 1/(1 − R²), which is the diagonal of the inverse correlation
    matrix of the scores.  Scores are regression (Thurstone) factor scores from the fitted
    model (:func:`~cbec_sem.measurement.factor_scores`, lavaan's ``lavPredict()``).

    Args:
        res: a converged :class:`~cbec_sem.results.FitResult`.
        constructs: latent variables to include.  Default: the constructs of the structural
            model — every latent variable except the first-order factors of a higher-order
            factor (their scores are nearly collinear with it by construction, e.g. VP, FO,
            IS under SCI), so SCI enters in their place.
        threshold: Kock's (2015) cut-off, 3.3.

    Returns:
        One row per construct (and group): ``construct``, (``group``), ``r2``, ``vif``,
        ``above_threshold`` (VIF > ``threshold``), ``note``.

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> cs.full_collinearity_vif(res).round(3)
          construct     r2    vif  above_threshold note
        0        TA  0.377  1.604            False
        1        FA  0.514  2.056            False
        2        PC  0.278  1.384            False
        3       SCI  0.450  1.820            False
    """
    check_fit(res, "full_collinearity_vif()", covariance=True)
    multi = multigroup(res)
    caution = inadmissible_note(res)
    out = []
    for blk in blocks(res):
        lowered = {v for c in blk.constructs.values() for v in c.latent_indicators}
        names = list(blk.latent) if constructs is None else list(constructs)
        if constructs is None:
            names = [v for v in names if v not in lowered]
        unknown = [v for v in names if v not in blk.latent]
        if unknown:
            raise SpecError(f"constructs {unknown} are not latent variables of the model "
                            f"({', '.join(blk.latent)})")
        if len(names) < 2:
            raise SpecError("the full collinearity test needs at least two constructs")
        w = score_weights(blk)
        xc = blk.data - blk.data.mean(axis=0)
        scores = xc @ w[[blk.latent.index(v) for v in names]].T
        r = np.corrcoef(scores, rowvar=False)
        try:
            vif = vif_from_correlation(r)
        except np.linalg.LinAlgError:
            vif = np.full(len(names), np.inf)
        for name, v in zip(names, vif):
            note = caution
            if not np.isfinite(v) or v <= 0:
                v = np.inf
                note = "the scores are perfectly collinear" + (f"; {caution}" if caution else "")
            out.append({"construct": name, "group": blk.label, "r2": 1.0 - 1.0 / v,
                        "vif": float(v), "above_threshold": bool(v > threshold), "note": note})
    return group_frame(out, multi, FCV_COLUMNS)
