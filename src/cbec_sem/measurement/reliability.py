"""Internal-consistency reliability and convergent validity per construct: α, ω, AVE.

One row per construct (and group), with the coefficients reviewers ask for and the source of
each formula.  The ω and AVE columns are those of semTools 0.5-6 (``compRelSEM()``,
``AVE()``), checked against its output in ``tests/measurement``.

Formulas, for a construct f with k observed indicators, loadings λ, model-implied (total)
factor variance φ = Var(f) (lavaan's ``lavInspect(fit, "cov.lv")``; for a factor that is
regressed on others this is its total variance, as in semTools), sample covariance matrix S of
the items (divisor N, the rows the fit used) and model-implied covariance matrix Σ̂:

* ``alpha`` — Cronbach (1951): α = k/(k − 1) · (1 − tr S / 1ᵀS1) (= psych ``alpha()``
  ``raw_alpha`` = semTools ``compRelSEM(tau.eq = TRUE)``; the divisor of S cancels);
* ``alpha.std`` — α of the item correlation matrix, k r̄ / (1 + (k − 1) r̄) (psych
  ``std.alpha``);
* ``omega`` — composite reliability, McDonald (1999) ω / Raykov (1997) ρ:
  ω = (Σλ)² φ / 1ᵀS1.  semTools' ``compRelSEM()`` divides by the **observed** variance of the
  sum score by default (``obs.var = TRUE``); ``omega="model"`` divides by 1ᵀΣ̂1 instead;
* ``omega.model`` — the same numerator over the model-implied variance of the sum, 1ᵀΣ̂1
  (``compRelSEM(obs.var = FALSE)`` = the ``omega``/``omega2`` rows of the deprecated
  ``reliability()``, the value most published tables quote);
* ``omega`` for ordered items — the categorical ω of Green & Yang (2009), semTools'
  ``compRelSEM()`` default (``ord.scale = TRUE``; :func:`omega_categorical`), with the
  continuous formula on the latent-response scale beside it as ``omega.latent``
  (``compRelSEM(ord.scale = FALSE)``);
* ``ave`` — average variance extracted, Fornell & Larcker (1981), as semTools' ``AVE()``
  computes it: Σλ² φ / tr S (ratio of sums, unstandardised loadings, observed item variances;
  ``omega="model"`` uses tr Σ̂).  Not defined (NaN with a note) when an item loads on another
  factor too (semTools returns NA);
* ``ave.std`` — the mean squared standardised (``std.all``) loading, mean(λ²φ/σ̂_ii), the form
  of Hair et al. (2019) and SmartPLS.  It equals ``ave`` only when the items have equal
  variances.

Higher-order factors (a latent measured by latents, ``SCI =~ VP + FO + IS``): ``omega`` is
ω_L1 of semTools' ``compRelSEM(fit, higher = "SCI")`` (Jorgensen's generalisation of Raykov &
Marcoulides' 2012 coefficient): the proportion of the variance of the sum of all the
first-order items due to the higher-order factor, (Σ_i t_i)² φ / 1ᵀS1, with t_i the total
effect of the factor on item i (for a second-order factor t_i = λ_i β_{f(i)}).  α is that of
the same items.  AVE is not defined for it: AVE is the mean variance of a factor's *own*
indicators that the factor explains, and a higher-order factor has no observed indicators of
its own (semTools' ``AVE()`` drops it).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .composite import is_pls
from ..pls import assessment as pls_assessment
from ..errors import SpecError
from ._common import (
    Block,
    alpha_from_cov,
    blocks,
    check_fit,
    cov_to_cor,
    group_frame,
    inadmissible_note,
    multigroup,
)
from ..engine.ordinal.bvn import bvn_cdf

COLUMNS = ["construct", "group", "kind", "n_items", "alpha", "alpha.std", "omega",
           "omega.model", "omega.latent", "ave", "ave.std", "note"]

_OMEGA = ("semTools", "model")


# Ordered items with observed covariates (lavaan's conditional.x): the thresholds and y*
# covariances are conditional on the covariates, so the model-based coefficients have no
# marginal counterpart (α too: it would be read from the residual polychorics given the
# covariates), and semTools 0.5-6's compRelSEM()/AVE() stop on such fits: no reference exists.
# Every coefficient is NaN, with the reason in ``note``.
_CONDITIONAL = ("alpha", "alpha.std", "omega", "omega.model", "omega.latent", "ave", "ave.std")
_CONDITIONAL_NOTE = ("ordered items conditional on covariates (conditional.x): alpha, omega and "
                     "AVE are not defined here (semTools' compRelSEM() refuses too); fit the "
                     "measurement model without the covariates for them")


def reliability(res, *, omega: str = "semTools") -> pd.DataFrame:
    """Cronbach's α, composite reliability ω and AVE of every construct of a fit.

    Args:
        res: a converged :class:`~cbec_sem.results.FitResult`.
        omega: denominator of the ``omega`` and ``ave`` columns: ``"semTools"`` (default) —
            the observed (sample) variances, as semTools' ``compRelSEM()`` and ``AVE()``
            (``obs.var = TRUE``); ``"model"`` — the model-implied ones (``obs.var = FALSE``).
            ``omega.model`` always uses the model-implied variance.

    Returns:
        One row per latent variable (and group: a ``group`` column for multi-group fits):
        ``construct``, ``kind`` (``"first-order"``/``"higher-order"``), ``n_items`` (observed
        items in the sum score), ``alpha``, ``alpha.std``, ``omega``, ``omega.model``,
        ``omega.latent``, ``ave``, ``ave.std``, ``note``.  A coefficient that is not defined
        is NaN and ``note`` says why.  For ordered items (WLS family) ``omega`` and
        ``omega.model`` are the categorical ω of Green & Yang (2009), semTools' default for
        ordered items (:func:`omega_categorical`), and ``omega.latent`` is the continuous
        formula on the latent-response scale; ``omega.latent`` is NaN for continuous items.
        Formulas and sources: see the module docstring (Cronbach 1951; McDonald 1999,
        Raykov 1997; Fornell & Larcker 1981; semTools ``compRelSEM()``/``AVE()``).

    Raises:
        SpecError: ``omega`` not one of ``"semTools"``, ``"model"``; ``res`` not a fit.
        EstimationError: the fit did not converge.

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> cs.reliability(res)[["construct", "alpha", "omega", "ave"]].round(3)
          construct  alpha  omega    ave
        0        TA  0.818  0.821  0.535
        1        FA  0.813  0.813  0.525
        2        PC  0.792  0.793  0.561
        3        VP  0.765  0.778  0.536
        4        FO  0.742  0.746  0.496
        5        IS  0.750  0.752  0.503
        6       SCI  0.822  0.681    NaN
    """
    if is_pls(res):
        return pls_assessment.reliability(res.estimation)
    if omega not in _OMEGA:
        raise SpecError(f"omega={omega!r}: use 'semTools' (observed variances, semTools' "
                        "default) or 'model' (model-implied variances)")
    check_fit(res, "reliability()")
    caution = inadmissible_note(res)
    rows = []
    frame = res.estimation.partable.frame
    theta = res.estimation.options.extra.get("parameterization") == "theta"
    conditional = bool(res.estimation.options.extra.get("conditional_x"))
    for blk in blocks(res):
        in_g = (frame["group"].to_numpy() == blk.index + 1) & (frame["op"].to_numpy() == "|")
        thresholds: dict[str, list[float]] = {}
        for item, value in zip(frame["lhs"].to_numpy()[in_g],
                               frame["est"].to_numpy(dtype=float)[in_g]):
            thresholds.setdefault(item, []).append(value)
        if theta:
            blk, thresholds = delta_scale(blk, thresholds)
        for c in blk.constructs.values():
            row = _first_order(blk, c, omega, thresholds) if not c.higher_order else (
                _higher_order(blk, c, omega))
            row["group"] = blk.label
            if conditional:
                row.update({k: np.nan for k in _CONDITIONAL})
                row["note"] = _CONDITIONAL_NOTE
            if caution:
                row["note"] = f"{row['note']}; {caution}" if row["note"] else caution
            rows.append(row)
    return group_frame(rows, multigroup(res), COLUMNS)


def delta_scale(blk: Block, thresholds: dict) -> tuple[Block, dict]:
    """A theta-parameterization block on the delta scale, where the formulas below hold:
    every ordered item's latent response rescaled to unit variance, y*/σ*, so its loading
    rows (``A``, ``B``), implied covariances and mean are multiplied by Δ = 1/σ*, and its
    thresholds become Δ(τ − μ*) (Muthén & Asparouhov 2002: the two parameterizations are
    the same model, related by Δ).  Continuous items are left as they are."""
    d = np.ones(len(blk.variables))
    ix = blk.idx(list(thresholds))
    d[ix] = 1.0 / np.sqrt(np.diag(blk.sigma)[ix])
    dp = d[: blk.p]
    scaled = {item: list(d[j] * (np.asarray(tau) - blk.mean_all[j]))
              for item, tau, j in zip(thresholds, thresholds.values(), ix)}
    return replace(
        blk, A=blk.A * d[:, None], B=blk.B * d[:, None], mean_all=blk.mean_all * d,
        sigma=blk.sigma * np.outer(dp, dp)), scaled


def _alphas(blk: Block, items) -> tuple[float, float]:
    ix = blk.idx(items)
    s = blk.sample_cov[np.ix_(ix, ix)]
    return alpha_from_cov(s), alpha_from_cov(cov_to_cor(s))


def omega_categorical(lam: np.ndarray, phi: float, thresholds: list[np.ndarray],
                      denominator: np.ndarray) -> float:
    """Green & Yang's (2009, *Psychometrika* 74, 155–167, eq. 21) reliability of the sum of
    ordered items on their observed (category) scale, semTools' ``compRelSEM()`` default for
    ordered items (``ord.scale = TRUE``):

        ω_cat = Σ_j Σ_j' [Σ_c Σ_c' Φ₂(τ_jc, τ_j'c'; λ_j λ_j' φ) − Σ_c Φ(τ_jc) Σ_c' Φ(τ_j'c')]
                / Σ_j Σ_j' [Σ_c Σ_c' Φ₂(τ_jc, τ_j'c'; ρ_jj') − Σ_c Φ(τ_jc) Σ_c' Φ(τ_j'c')],

    with λ the loadings on the latent-response scale (delta parameterization), τ the
    thresholds, φ the factor variance and ρ the latent-response correlations in
    ``denominator`` (sample polychorics: semTools' ``obs.var = TRUE``; model-implied
    otherwise), ρ_jj = 1.  The numerator is the covariance of the items' category scores
    that the factor explains, the denominator their total covariance.
    """
    from scipy.special import ndtr


    def pair_sum(tj: np.ndarray, tl: np.ndarray, rho: float) -> float:
        h, k = np.meshgrid(tj, tl, indexing="ij")
        if rho >= 1.0:
            return float(ndtr(np.minimum(h, k)).sum())
        return float(bvn_cdf(h, k, np.full(h.shape, rho)).sum())

    num = den = 0.0
    margins = [float(ndtr(np.asarray(t)).sum()) for t in thresholds]
    for j in range(len(lam)):
        for m in range(len(lam)):
            both = margins[j] * margins[m]
            num += pair_sum(thresholds[j], thresholds[m], lam[j] * lam[m] * phi) - both
            den += pair_sum(thresholds[j], thresholds[m],
                            1.0 if j == m else denominator[j, m]) - both
    return num / den


def _first_order(blk: Block, c, omega: str, thresholds: dict | None = None) -> dict:
    k = len(c.items)
    row = {"construct": c.name, "kind": "first-order", "n_items": k, "alpha": np.nan,
           "alpha.std": np.nan, "omega": np.nan, "omega.model": np.nan,
           "omega.latent": np.nan, "ave": np.nan, "ave.std": np.nan, "note": ""}
    if k < 2:
        what = f"one indicator ({c.items[0]})" if k == 1 else "no observed indicators"
        row["note"] = (f"{what}: alpha, omega and AVE need at least two items (a single "
                       "item's reliability is not identified from one measurement)")
        return row
    ix = blk.idx(c.items)
    f = blk.idx([c.name])[0]
    lam = blk.A[ix, f]
    phi = blk.C[f, f]
    s = blk.sample_cov[np.ix_(ix, ix)]
    sig = blk.sigma[np.ix_(ix, ix)]
    row["alpha"], row["alpha.std"] = _alphas(blk, c.items)
    common = lam.sum() ** 2 * phi
    row["omega.model"] = common / sig.sum()
    row["omega"] = common / (s.sum() if omega == "semTools" else sig.sum())
    thresholds = thresholds or {}
    if all(item in thresholds for item in c.items):
        # ordered items: semTools reports the categorical ω by default; the formula above,
        # on the latent-response (polychoric) scale, goes beside it as omega.latent
        th = [np.asarray(thresholds[item]) for item in c.items]
        row["omega.latent"] = row["omega"]
        row["omega"] = omega_categorical(lam, phi, th, s if omega == "semTools" else sig)
        row["omega.model"] = omega_categorical(lam, phi, th, sig)
        row["note"] = ("ordered items: omega is the categorical omega of Green & Yang (2009) "
                       "(semTools compRelSEM() default), the reliability of the sum of the "
                       "category scores; omega.latent is the same formula as for continuous "
                       "items on the latent-response scale (compRelSEM(ord.scale = FALSE)); "
                       "alpha and AVE are on the latent-response scale")
    # Cross-loadings: an item with a non-zero loading on another latent variable.
    lat = np.arange(blk.p, len(blk.variables))
    others = lat[lat != f]
    cross = [item for item, i in zip(c.items, ix) if np.any(blk.A[i, others] != 0.0)]
    if cross:
        row["note"] = "; ".join(filter(None, [row["note"], (
            f"AVE not defined: item(s) {', '.join(cross)} also load on another "
            "factor, so the variance they share with this factor alone is not "
            "identified (semTools' AVE() returns NA); omega uses this factor's "
            "loadings only")]))
    else:
        true = lam ** 2 * phi
        row["ave"] = true.sum() / (np.trace(s) if omega == "semTools" else np.trace(sig))
        row["ave.std"] = float(np.mean(true / np.diag(sig)))
    return row


def _higher_order(blk: Block, c, omega: str) -> dict:
    items = c.composite
    k = len(items)
    row = {"construct": c.name, "kind": "higher-order", "n_items": k, "alpha": np.nan,
           "alpha.std": np.nan, "omega": np.nan, "omega.model": np.nan,
           "omega.latent": np.nan, "ave": np.nan, "ave.std": np.nan, "note": ""}
    lower = ", ".join(c.latent_indicators)
    no_ave = (f"AVE not defined for a higher-order factor: it has no observed indicators of "
              f"its own (its indicators are the factors {lower}), and semTools' AVE() does "
              "not report one; judge convergent validity by its second-order loadings and "
              "the AVE of its first-order factors")
    if k < 2:
        row["note"] = (f"fewer than two observed items under {c.name}: alpha and omega need "
                       f"at least two; {no_ave}")
        return row
    ix = blk.idx(items)
    f = blk.idx([c.name])[0]
    t = blk.B[ix, f]  # total effect of the factor on each item
    phi = blk.C[f, f]
    s = blk.sample_cov[np.ix_(ix, ix)]
    sig = blk.sigma[np.ix_(ix, ix)]
    row["alpha"], row["alpha.std"] = _alphas(blk, items)
    common = t.sum() ** 2 * phi
    row["omega.model"] = common / sig.sum()
    row["omega"] = common / (s.sum() if omega == "semTools" else sig.sum())
    row["note"] = (f"higher-order factor over {lower}: omega is omega_L1 (semTools "
                   f"compRelSEM(higher = '{c.name}')), the share of the variance of the sum of "
                   f"its {k} first-order items due to {c.name}; alpha is that of the same "
                   f"{k} items; {no_ave}")
    return row
