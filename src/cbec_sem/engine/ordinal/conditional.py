"""Ordered items with observed exogenous covariates: the sample statistics given x.

lavaan fits a model with ordered items and observed exogenous covariates x with
``conditional.x = TRUE``: the statistics describe the latent responses y* *given* x,
(Muthén 1984, *Psychometrika* 49, 115–132, the "stage 1–3" estimator with covariates;
lavaan's ``muthen1984()`` in ``lav_muthen1984.R`` with ``ov_names_x``):

1. univariate: for every ordered item an ordinal probit regression on x (lavaan's
   ``lav_uvord_fit(y, x)``, ``lav_uvord.R``),

       P(y_n = c | x_n) = Φ(τ_c − x_nᵀβ) − Φ(τ_{c−1} − x_nᵀβ),   τ₀ = −∞, τ_K = +∞,

   by Newton's method on the log-likelihood, with casewise scores
   ∂ℓ_n/∂τ_k = [φ(z₁)·1{k = c} − φ(z₂)·1{k = c − 1}]/P_n and ∂ℓ_n/∂β = −x_n [φ(z₁) − φ(z₂)]/P_n
   (z₁, z₂ the case's upper and lower bounds τ − xᵀβ);
2. bivariate, with the univariate estimates fixed: the residual polychoric correlation of
   each pair, the ML estimate of ρ in (lavaan's ``lav_bvord_cor_twostep_fit`` with ``exo``,
   ``lav_bvord.R``)

       ℓ(ρ) = Σ_n log[Φ₂(z₁ᵢ, z₁ⱼ; ρ) − Φ₂(z₂ᵢ, z₁ⱼ; ρ) − Φ₂(z₁ᵢ, z₂ⱼ; ρ) + Φ₂(z₂ᵢ, z₂ⱼ; ρ)],

   case by case (the bounds move with x, so there is no table to aggregate); score
   ∂ℓ_n/∂ρ = (the same four-corner sum of φ₂)/L_n (Plackett 1954: ∂Φ₂/∂ρ = φ₂);
3. the asymptotic covariance Γ of (τ, vec(β), ρ): N·B⁻¹ J B⁻ᵀ (:func:`.acov.sandwich`)
   with J the cross-product of all casewise scores, B's first block the per-item
   cross-products of the univariate scores, and A21 the correlation scores summed against
   the bivariate log-likelihood's derivatives in the univariate parameters (lavaan's
   ``lav_m84_a21``, ``lav_bvord_cor_sc``):

       ∂ℓ_n/∂τ_{ik} = [1{k = cᵢ} a₁ − 1{k = cᵢ − 1} a₂]/L_n,   ∂ℓ_n/∂βᵢ = (a₂ − a₁) x_n/L_n,
       a₁ = φ(z₁ᵢ)[Φ((z₁ⱼ − ρz₁ᵢ)/R) − Φ((z₂ⱼ − ρz₁ᵢ)/R)],  a₂ the same at z₂ᵢ,  R = √(1 − ρ²).

The statistics of a group, lavaan's ``WLS.obs`` with ``conditional.x``: the thresholds (item
by item), the slopes vec(Π) (column by column: every item's slope on x₁, then on x₂, ...),
the residual correlations (strict lower triangle, column by column).

Continuous variables among the ordered items (:mod:`.mixed`), as lavaan's ``muthen1984``
with covariates: a linear regression on x (intercept, slopes, residual variance divided by N;
``lav_uvreg_fit``), the residual polyserial correlation with an ordered item (Olsson, Drasgow
& Dorans 1982 on the standardised residual, the item's bounds moving with x;
``lav_bvmix_cor_sc``: the slopes' scores are the mean's and the bounds' times x), the Pearson
correlation of two residuals (``lav_bvreg_cor_sc``); the delta rule H from correlations to
covariances and the intercepts' rows negated (the statistic is −intercept), as without
covariates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ...errors import DataError, DataWarning, SpecError, warn
from ..samplestats import SampleStats, as_frame, numeric_block
from .acov import sandwich
from .bvn import bvn_cdf, bvn_pdf
from .mixed import (
    OUTER,
    mixed_data,
    pearson_scores,
    polyserial_bounds,
    polyserial_case_scores,
)
from .polychoric import PI_FLOOR, RHO_BOUND, pair_index, warn_near_one
from .thresholds import OrdinalData, in_group, ordinal_data, thresholds_from_counts
from .wls import GroupStatistics, diagonal_weights


def _phi(x: np.ndarray) -> np.ndarray:
    """φ(x), 0 at ±∞."""
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
    return np.where(np.isfinite(x), out, 0.0)


def _xphi(x: np.ndarray) -> np.ndarray:
    """x·φ(x), 0 at ±∞."""
    return np.where(np.isfinite(x), np.where(np.isfinite(x), x, 0.0) * _phi(x), 0.0)


def _interval_probability(z1: np.ndarray, z2: np.ndarray) -> np.ndarray:
    """Φ(z₁) − Φ(z₂), from the upper tail where both are large (lavaan's ``lav_uvord``)."""
    upper = z2 > 1.0
    return np.where(upper, special.ndtr(-z2) - special.ndtr(-z1),
                    special.ndtr(z1) - special.ndtr(z2))


@dataclass(frozen=True)
class ProbitFit:
    """One item's ordinal probit regression: thresholds, slopes, the case bounds and scores."""

    th: np.ndarray
    beta: np.ndarray
    upper: np.ndarray  # z₁ of every case (+∞ in the top category)
    lower: np.ndarray  # z₂ of every case (−∞ in the bottom category)
    scores: np.ndarray  # n × (K − 1 + q): ∂ℓ_n/∂τ, then ∂ℓ_n/∂β
    converged: bool


def _probit_pieces(codes, X, th, beta):
    ext = np.concatenate([[-np.inf], th, [np.inf]])
    eta = X @ beta
    z1 = ext[codes + 1] - eta
    z2 = ext[codes] - eta
    return z1, z2, _interval_probability(z1, z2)


def probit_regression(codes: np.ndarray, X: np.ndarray, ncat: int,
                      tol: float = 1e-10, max_iter: int = 200) -> ProbitFit:
    """ML ordinal probit regression of ``codes`` (0..K−1) on the columns of ``X`` (no
    intercept: the thresholds are the intercepts), by Newton's method with step halving
    (lavaan's ``lav_uvord_fit``).  The Hessian is

        Σ_n [w₁ e₁e₁ᵀ − w₂ e₂e₂ᵀ]/P_n − s_n s_nᵀ,   w = −zφ(z),
        e₁ = (1{k = c}, −x_n), e₂ = (1{k = c − 1}, −x_n)."""
    n, q = X.shape
    k1 = ncat - 1
    counts = np.bincount(codes, minlength=ncat)
    th = thresholds_from_counts(counts)
    beta = np.zeros(q)
    rows = np.arange(n)
    up = np.zeros((n, k1))
    lo = np.zeros((n, k1))
    has_up = codes < k1
    has_lo = codes > 0
    up[rows[has_up], codes[has_up]] = 1.0
    lo[rows[has_lo], codes[has_lo] - 1] = 1.0
    E1 = np.hstack([up, -X])
    E2 = np.hstack([lo, -X])

    def loglik(t, b):
        if np.any(np.diff(t) <= 0):
            return -np.inf
        p = _probit_pieces(codes, X, t, b)[2]
        return float(np.sum(np.log(np.maximum(p, 1e-300))))

    def pieces(t, b):
        z1, z2, p = _probit_pieces(codes, X, t, b)
        p = np.maximum(p, 1e-300)
        f1, f2 = _phi(z1), _phi(z2)
        s = (E1 * f1[:, None] - E2 * f2[:, None]) / p[:, None]
        w1, w2 = -_xphi(z1) / p, -_xphi(z2) / p
        H = (E1.T * w1) @ E1 - (E2.T * w2) @ E2 - s.T @ s
        return z1, z2, s, H

    converged = False
    current = loglik(th, beta)
    for _ in range(max_iter):
        _, _, s, H = pieces(th, beta)
        g = s.sum(axis=0)
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        factor = 1.0
        while factor > 1e-8:
            t_new, b_new = th + factor * step[:k1], beta + factor * step[k1:]
            new = loglik(t_new, b_new)
            if new >= current - 1e-12:
                break
            factor *= 0.5
        else:
            break
        th, beta, current = t_new, b_new, new
        if np.max(np.abs(factor * step)) < tol:
            converged = True
            break
    z1, z2, s, _ = pieces(th, beta)
    return ProbitFit(th=th, beta=beta, upper=z1, lower=z2, scores=s, converged=converged)


def _corners(fi: ProbitFit, fj: ProbitFit, rho: np.ndarray, func) -> np.ndarray:
    """func at the four corners of each case's rectangle, summed with signs (+ − − +)."""
    return (func(fi.upper, fj.upper, rho) - func(fi.lower, fj.upper, rho)
            - func(fi.upper, fj.lower, rho) + func(fi.lower, fj.lower, rho))


def _dpdf_drho(h, k, r):
    """∂φ₂(h, k; r)/∂r = φ₂ · [r/(1 − r²) + hk/(1 − r²) − r(h² − 2rhk + k²)/(1 − r²)²]."""
    one = 1.0 - r * r
    fin = np.isfinite(h) & np.isfinite(k)
    hh = np.where(fin, h, 0.0)
    kk = np.where(fin, k, 0.0)
    g = r / one + hh * kk / one - r * (hh * hh - 2 * r * hh * kk + kk * kk) / one**2
    return np.where(fin, bvn_pdf(hh, kk, r) * g, 0.0)


@dataclass(frozen=True)
class _Bounds:
    """Case bounds of several items side by side (n × P)."""

    upper: np.ndarray
    lower: np.ndarray


def _stack(fits: list[ProbitFit], I, J) -> tuple[_Bounds, _Bounds]:
    """The pairs' case bounds: of the first items, of the second items."""
    return (_Bounds(np.column_stack([fits[i].upper for i in I]),
                    np.column_stack([fits[i].lower for i in I])),
            _Bounds(np.column_stack([fits[j].upper for j in J]),
                    np.column_stack([fits[j].lower for j in J])))


def _columns(b: _Bounds, cols: np.ndarray) -> _Bounds:
    return _Bounds(b.upper[:, cols], b.lower[:, cols])


def conditional_polychorics(fits: list[ProbitFit], I: np.ndarray, J: np.ndarray,
                            tol: float = 1e-10, max_iter: int = 100):
    """The residual polychoric correlation of every pair (I[q], J[q]) given x: the root of
    the summed score in (−0.999, 0.999), lavaan's bounds, by Newton steps kept inside a
    bracket that shrinks with the score's sign (bisection when Newton leaves it), all pairs
    not yet converged at once.  Returns (ρ, converged)."""
    a, b = _stack(fits, I, J)
    P = len(I)
    lo = np.full(P, -RHO_BOUND)
    hi = np.full(P, RHO_BOUND)
    rho = np.zeros(P)
    done = np.zeros(P, dtype=bool)
    for _ in range(max_iter):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        sub_a, sub_b = _columns(a, act), _columns(b, act)
        r = rho[act][None, :]
        lik = np.maximum(_corners(sub_a, sub_b, r, bvn_cdf), PI_FLOOR)
        d1 = _corners(sub_a, sub_b, r, bvn_pdf) / lik
        d2 = _corners(sub_a, sub_b, r, _dpdf_drho) / lik
        score = np.sum(d1, axis=0)
        hess = np.sum(d2 - d1 * d1, axis=0)
        ra = rho[act]
        lo[act] = np.where(score > 0, ra, lo[act])
        hi[act] = np.where(score < 0, ra, hi[act])
        newton = ra - score / np.where(hess < 0, hess, -1.0)
        ok = (hess < 0) & (newton >= lo[act]) & (newton <= hi[act])
        new = np.where(ok, newton, 0.5 * (lo[act] + hi[act]))
        done[act] = (np.abs(new - ra) < tol) | (hi[act] - lo[act] < tol)
        rho[act] = new
    return rho, done


def _pair_derivatives(fi: ProbitFit, fj: ProbitFit, ci: np.ndarray, X: np.ndarray,
                      rho: float, lik: np.ndarray):
    """∂ℓ_n/∂τ_i (n × K_i−1) and ∂ℓ_n/∂β_i (n × q) of a pair's casewise bivariate
    log-likelihood (lavaan's ``lav_bvord_cor_sc``: ``dx_th_y1``, ``dx_sl_y1``)."""
    R = np.sqrt(1.0 - rho * rho)

    def a_at(z):
        zz = np.where(np.isfinite(z), z, 0.0)
        with np.errstate(invalid="ignore"):
            cu = special.ndtr((fj.upper - rho * zz) / R)
            cl = special.ndtr((fj.lower - rho * zz) / R)
        return _phi(z) * (cu - cl)

    a1, a2 = a_at(fi.upper), a_at(fi.lower)
    k1 = len(fi.th)
    n = len(ci)
    rows = np.arange(n)
    d_th = np.zeros((n, k1))
    up = ci < k1
    dn = ci > 0
    d_th[rows[up], ci[up]] += a1[up] / lik[up]
    d_th[rows[dn], ci[dn] - 1] -= a2[dn] / lik[dn]
    d_sl = ((a2 - a1) / lik)[:, None] * X
    return d_th, d_sl


@dataclass(frozen=True)
class ConditionalData:
    """The ordered items (coded) and the covariates of every group, complete rows only."""

    items: OrdinalData
    x_names: tuple[str, ...]
    x: tuple[np.ndarray, ...]  # per group, n_g × q covariate values


def conditional_data(data, items, covariates, group: str | None = None,
                     missing: str = "listwise", announce: bool = True,
                     ordered=None) -> ConditionalData:
    """Validate the items and the covariates; rows with a missing covariate are dropped
    with the items' listwise deletion (lavaan's default for ``conditional.x``).  ``ordered``:
    which items are ordered (default all; the others are continuous, :mod:`.mixed`).

    Raises:
        SpecError: ``missing`` other than ``"listwise"``.
        DataError: bad answers (:func:`.thresholds.ordinal_data`), a non-numeric or constant
            covariate.
    """
    if missing != "listwise":
        raise SpecError(
            f"missing={missing!r} with observed covariates of ordered items is not available "
            "(lavaan's conditional.x statistics are built here from complete rows only); use "
            "missing='listwise'")
    frame = as_frame(data)
    covariates = tuple(covariates)
    xs = numeric_block(frame, covariates)
    complete_x = ~np.isnan(xs).any(axis=1)
    dropped_x = int((~complete_x).sum())
    if dropped_x and announce:
        warn(f"{dropped_x} of {len(frame)} rows have a missing value on the covariates "
             f"({', '.join(covariates)}) and were dropped (listwise, as lavaan does)",
             DataWarning)
    kept = frame.loc[complete_x]
    ordered = list(items) if ordered is None else [v for v in items if v in set(ordered)]
    if len(ordered) == len(items):
        od = ordinal_data(kept, items, group=group, missing="listwise", announce=announce,
                          min_items=1)  # one ordered item: a probit regression
    else:
        od = mixed_data(kept, items, ordered, group=group, announce=announce)
    od = OrdinalData(names=od.names, levels=od.levels, group_labels=od.group_labels,
                     codes=od.codes, missing=od.missing, rows_total=len(frame),
                     rows_dropped=od.rows_dropped + dropped_x)
    # the covariates of the rows the items kept, group by group (same selection as
    # ordinal_data: complete items, a group value)
    xk = numeric_block(kept, covariates)
    items_ok = ~np.isnan(numeric_block(kept, list(items))).any(axis=1)
    if group is None:
        sel = [items_ok]
    else:
        gcol = kept[group].to_numpy()
        sel = [items_ok & (gcol == label) for label in od.group_labels]
    blocks = []
    for label, s in zip(od.group_labels, sel):
        block = xk[s]
        where = in_group(label, group is not None)
        for c, name in enumerate(covariates):
            if np.ptp(block[:, c]) == 0:
                raise DataError(f"the covariate {name!r} is constant{where}: a covariate of "
                                "ordered items must vary; drop it from the model")
        blocks.append(block)
    return ConditionalData(items=od, x_names=covariates, x=tuple(blocks))


@dataclass(frozen=True)
class LinearFit:
    """A continuous variable's linear regression on the covariates (lavaan's
    ``lav_uvreg_fit``): intercept, slopes, residual variance (divided by N), residuals and
    the casewise scores of (intercept, slopes, variance)."""

    intercept: float
    beta: np.ndarray
    var: float
    resid: np.ndarray
    scores: np.ndarray


def linear_regression(y: np.ndarray, X: np.ndarray) -> LinearFit:
    """OLS of y on (1, X), the ML estimate; scores e/σ²·(1, x) and −1/(2σ²) + e²/(2σ⁴)."""
    Z = np.column_stack([np.ones(len(y)), X])
    coef = np.linalg.lstsq(Z, y, rcond=None)[0]
    e = y - Z @ coef
    var = float(e @ e) / len(y)
    scores = np.column_stack([Z * (e / var)[:, None], -0.5 / var + e * e / (2 * var * var)])
    return LinearFit(intercept=float(coef[0]), beta=coef[1:], var=var, resid=e, scores=scores)


@dataclass(frozen=True)
class _Layout:
    """Where each variable's univariate statistics sit: thresholds (or the intercept of a
    continuous variable), slopes (vec(Π): x by x), variances (continuous only)."""

    th_cols: list[np.ndarray]
    sl_cols: list[np.ndarray]
    var_col: dict[int, int]
    nth: int
    nuni: int


def _layout(fits, p: int, q: int) -> _Layout:
    th_cols, start = [], 0
    for f in fits:
        k = len(f.th) if isinstance(f, ProbitFit) else 1
        th_cols.append(np.arange(start, start + k))
        start += k
    nth = start
    sl_cols = [nth + i + p * np.arange(q) for i in range(p)]
    numeric = [i for i, f in enumerate(fits) if isinstance(f, LinearFit)]
    var_col = {i: nth + p * q + k for k, i in enumerate(numeric)}
    return _Layout(th_cols, sl_cols, var_col, nth, nth + p * q + len(numeric))


def _univariate_scores(fits, lay: _Layout, n: int) -> np.ndarray:
    out = np.zeros((n, lay.nuni))
    for i, f in enumerate(fits):
        if isinstance(f, ProbitFit):
            k = len(f.th)
            out[:, lay.th_cols[i]] = f.scores[:, :k]
            out[:, lay.sl_cols[i]] = f.scores[:, k:]
        else:
            out[:, lay.th_cols[i]] = f.scores[:, :1]
            out[:, lay.sl_cols[i]] = f.scores[:, 1:-1]
            out[:, lay.var_col[i]] = f.scores[:, -1]
    return out


def _open_bounds(f: ProbitFit) -> tuple[np.ndarray, np.ndarray]:
    """The case bounds with the open ends at ±:data:`.mixed.OUTER` (lavaan's offsets)."""
    return (np.where(np.isfinite(f.upper), f.upper, OUTER),
            np.where(np.isfinite(f.lower), f.lower, -OUTER))


def _pairs_by_kind(fits, I, J):
    """The pairs' positions by kind: both ordered; both continuous (k, i, j); mixed
    (k, continuous, ordered)."""
    ordinal = [isinstance(f, ProbitFit) for f in fits]
    oo, nn, mix = [], [], []
    for k, (i, j) in enumerate(zip(I.tolist(), J.tolist())):
        if ordinal[i] and ordinal[j]:
            oo.append(k)
        elif not ordinal[i] and not ordinal[j]:
            nn.append((k, i, j))
        else:
            mix.append((k, i, j) if not ordinal[i] else (k, j, i))
    return np.array(oo, dtype=int), nn, mix


def _correlations(fits, I, J) -> tuple[np.ndarray, np.ndarray]:
    """Residual correlations of every pair given x: polychoric (two ordered items),
    polyserial (Olsson et al. 1982, on the standardised residual and the moving bounds),
    Pearson of the residuals (two continuous)."""
    P = len(I)
    rho = np.zeros(P)
    converged = np.ones(P, dtype=bool)
    oo, nn, mixed = _pairs_by_kind(fits, I, J)
    if oo.size:
        rho[oo], converged[oo] = conditional_polychorics(fits, I[oo], J[oo])
    for q, i, j in nn:
        fi, fj = fits[i], fits[j]
        rho[q] = float(np.mean(fi.resid * fj.resid)) / np.sqrt(fi.var * fj.var)
    mix, z, up, lo = [], [], [], []
    for q, num, o in mixed:
        u, l_ = _open_bounds(fits[o])
        mix.append(q)
        z.append(fits[num].resid / np.sqrt(fits[num].var))
        up.append(u)
        lo.append(l_)
    if mix:
        rho[mix], converged[mix] = polyserial_bounds(np.column_stack(z), np.column_stack(up),
                                                     np.column_stack(lo))
    return rho, converged


def _conditional_nacov(fits, codes, X, rho, I, J) -> np.ndarray:
    """N · H B⁻¹ J B⁻ᵀ Hᵀ of (τ or −intercept, vec(Π), σ², ρ or covariance), the
    continuous variables' intercept rows negated (lavaan's ``muthen1984`` with covariates:
    ``lav_m84_a21``, ``lav_m84_a11``, the delta-rule matrix H)."""
    n, q = X.shape
    p = len(fits)
    lay = _layout(fits, p, q)
    P = len(I)
    nuni = lay.nuni
    sc_cor = np.zeros((n, P))
    a21 = np.zeros((P, nuni))
    H21 = np.zeros((P, nuni))
    H22 = np.ones(P)
    oo, nn, mixed = _pairs_by_kind(fits, I, J)
    if oo.size:
        a, b = _stack(fits, I[oo], J[oo])
        lik = np.maximum(_corners(a, b, rho[oo][None, :], bvn_cdf), PI_FLOOR)
        sc_cor[:, oo] = _corners(a, b, rho[oo][None, :], bvn_pdf) / lik
        for col, k in enumerate(oo):
            for item, other in ((I[k], J[k]), (J[k], I[k])):
                d_th, d_sl = _pair_derivatives(fits[item], fits[other],
                                               codes[:, item].astype(int), X, rho[k],
                                               lik[:, col])
                a21[k, lay.th_cols[item]] = sc_cor[:, k] @ d_th
                a21[k, lay.sl_cols[item]] = sc_cor[:, k] @ d_sl
    for k, i, j in nn:
        fi, fj = fits[i], fits[j]
        d_rho, d_mu1, d_mu2, d_v1, d_v2 = pearson_scores(fi.resid, fj.resid, fi.var,
                                                         fj.var, rho[k])
        sc_cor[:, k] = d_rho
        for v, d_mu, d_v in ((i, d_mu1, d_v1), (j, d_mu2, d_v2)):
            a21[k, lay.th_cols[v]] = d_rho @ d_mu
            a21[k, lay.sl_cols[v]] = d_rho @ (d_mu[:, None] * X)
            a21[k, lay.var_col[v]] = d_rho @ d_v
        si, sj = np.sqrt(fi.var), np.sqrt(fj.var)
        H21[k, lay.var_col[i]] = sj * rho[k] / (2 * si)
        H21[k, lay.var_col[j]] = si * rho[k] / (2 * sj)
        H22[k] = si * sj
    for k, num, o in mixed:
        fn, fo = fits[num], fits[o]
        sd = np.sqrt(fn.var)
        up, lo = _open_bounds(fo)
        d_rho, d_mu, d_var, d_th, d_eta = polyserial_case_scores(
            fn.resid / sd, sd, fn.var, codes[:, o].astype(int), len(fo.th), up, lo, rho[k])
        sc_cor[:, k] = d_rho
        a21[k, lay.th_cols[num]] = d_rho @ d_mu
        a21[k, lay.sl_cols[num]] = d_rho @ (d_mu[:, None] * X)
        a21[k, lay.var_col[num]] = d_rho @ d_var
        a21[k, lay.th_cols[o]] = d_rho @ d_th
        a21[k, lay.sl_cols[o]] = d_rho @ (d_eta[:, None] * X)
        H21[k, lay.var_col[num]] = rho[k] / (2 * sd)
        H22[k] = sd
    scores = np.hstack([_univariate_scores(fits, lay, n), sc_cor])
    blocks = [np.concatenate([lay.th_cols[i], lay.sl_cols[i]]
                             + ([[lay.var_col[i]]] if i in lay.var_col else []))
              for i in range(p)]
    w = sandwich(scores, blocks, a21, np.sum(sc_cor * sc_cor, axis=0))
    if lay.var_col:
        H = np.eye(nuni + P)
        H[nuni:, :nuni] = H21
        H[nuni:, nuni:] = np.diag(H22)
        w = H @ w @ H.T
        means = np.array([lay.th_cols[i][0] for i in lay.var_col], dtype=int)
        w[means, :] *= -1.0
        w[:, means] *= -1.0
    return n * w


@dataclass(frozen=True)
class ConditionalGroup:
    """A group's statistics given x, and the covariates' own moments (for fixed.x)."""

    stats: GroupStatistics
    x_mean: np.ndarray
    x_cov: np.ndarray  # divided by N − 1, as lavaan's fixed.x values (cov.x)
    slopes: np.ndarray  # p × q


def conditional_group_statistics(codes: np.ndarray, X: np.ndarray, ncat: np.ndarray,
                                 names, weights: str, acov: bool, where: str,
                                 p_total: int) -> tuple[ConditionalGroup, np.ndarray]:
    """Stage 1–3 of one group.  ``codes``: category codes 0..K−1 of the ordered items
    (``ncat`` > 0) and the values of the continuous ones (``ncat`` 0); ``p_total``: the
    model's observed variables (the items, then the covariates)."""
    n, p = codes.shape
    q = X.shape[1]
    fits = []
    for k in range(p):
        if ncat[k] > 0:
            f = probit_regression(codes[:, k].astype(int), X, int(ncat[k]))
            if not f.converged:
                warn(f"the probit regression of {names[k]!r} on the covariates{where} did "
                     "not converge", DataWarning)
        else:
            f = linear_regression(np.asarray(codes[:, k], dtype=float), X)
            if not f.var > 0:
                raise DataError(f"the continuous variable {names[k]!r} has no residual "
                                f"variance given the covariates{where}")
        fits.append(f)
    I, J = pair_index(p)
    rho, converged = _correlations(fits, I, J)
    for k in np.flatnonzero(~converged):
        warn(f"the residual correlation of {names[I[k]]!r} and {names[J[k]]!r}{where} did "
             "not converge", DataWarning)
    warn_near_one(rho, names, I, J, where)
    ordinal = np.array([isinstance(f, ProbitFit) for f in fits])
    numeric = np.flatnonzero(~ordinal)
    sd = np.array([1.0 if o else np.sqrt(f.var) for o, f in zip(ordinal, fits)])
    th = [f.th for f in fits if isinstance(f, ProbitFit)]
    th_stat = [f.th if isinstance(f, ProbitFit) else np.array([-f.intercept]) for f in fits]
    slopes = np.array([f.beta for f in fits])  # p × q
    cov = np.eye(p)
    cov[I, J] = rho
    cov[J, I] = rho
    cov = cov * np.outer(sd, sd)
    obs = np.concatenate(th_stat + [slopes.T.ravel(), sd[numeric] ** 2, cov[I, J]])
    gamma = (_conditional_nacov(fits, codes, X, rho, I, J) if acov
             else np.full((len(obs), len(obs)), np.nan))
    weight = diagonal_weights(gamma, weights, acov, where)
    x_mean = X.mean(axis=0)
    x_cov = np.cov(X, rowvar=False).reshape(q, q)  # N − 1, as lavaan's cov.x
    # a full (p + q) matrix for start values: residual covariances, the covariates'
    # covariances, and the implied cross-covariances Π Σ_xx
    full = np.zeros((p_total, p_total))
    full[:p, :p] = cov
    xs = slice(p, p + q)
    full[xs, xs] = x_cov
    full[:p, xs] = slopes @ x_cov
    full[xs, :p] = full[:p, xs].T
    th_var = np.concatenate([np.full(len(t), k) for k, t in enumerate(th_stat)]).astype(int)
    th_num = np.concatenate([np.arange(1, len(t) + 1) if o else np.zeros(1)
                             for o, t in zip(ordinal, th_stat)]).astype(int)
    st = GroupStatistics(nobs=n, obs=obs, weight=weight, gamma=gamma, th_var=th_var,
                         th_num=th_num, pair_i=I, pair_j=J, cor=full, th=tuple(th),
                         var_idx=numeric, n_slopes=p * q)
    return ConditionalGroup(stats=st, x_mean=x_mean, x_cov=x_cov, slopes=slopes), converged


@dataclass(frozen=True)
class ConditionalStatistics:
    """Every group's statistics given the covariates."""

    data: ConditionalData
    groups: tuple[ConditionalGroup, ...]
    converged: tuple[np.ndarray, ...]

    def samplestats(self, names: tuple[str, ...]) -> SampleStats:
        """The :class:`..samplestats.SampleStats` behind the fit: items then covariates;
        the covariates' means and covariances (divided by N) are the fixed.x values of
        their table rows."""
        od = self.data.items
        p = len(od.names)
        ordered = od.ncat > 0
        means, covs, data = [], [], []
        for cg, codes, X in zip(self.groups, od.codes, self.data.x):
            m = np.zeros(len(names))
            m[p:] = cg.x_mean
            st = cg.stats
            m[st.var_idx] = -st.obs[: st.nth][st.th_num == 0]  # intercepts (at x = 0)
            means.append(m)
            covs.append(st.cor)
            values = np.asarray(codes, dtype=float).copy()
            values[:, ordered] += 1.0  # categories 1..K
            data.append(np.hstack([values, X]))
        return SampleStats(names=names, group_labels=od.group_labels, nobs=od.nobs,
                           means=tuple(means), covs=tuple(covs), data=tuple(data),
                           rows_dropped=od.rows_dropped, rows_total=od.rows_total,
                           missing=od.missing)


def check_conditional(roles, ordered, options) -> None:
    """Refuse what the conditional.x path does not build: pairwise deletion, and
    covariates that are not last among the model's observed variables (the statistics'
    layout); and ``fixed_x=False`` with observed covariates, which lavaan refuses for
    ordered data ("fixed.x = FALSE is not supported when conditional.x = TRUE").

    Raises:
        SpecError: naming what to do instead.
    """
    if not options.fixed_x and roles.ov_x_all:
        raise SpecError(
            f"fixed_x=False with observed covariates ({', '.join(roles.ov_x_all)}) of ordered "
            "items: lavaan conditions on the covariates (conditional.x) and refuses "
            "fixed.x = FALSE there; leave fixed_x at True")
    xs = list(roles.ov_x)
    if not xs:
        return
    if options.missing != "listwise":
        raise SpecError(
            f"missing={options.missing!r} with observed covariates of ordered items is not "
            "available; use missing='listwise' (lavaan's default)")
    after = [v for v in roles.observed[roles.observed.index(xs[0]):] if v not in xs]
    if after:
        raise SpecError(
            f"the observed variable(s) {', '.join(map(repr, after))} enter the model only "
            f"through covariances, beside the covariates ({', '.join(xs)}) of ordered items; "
            "this is not available with lavaan's conditional.x treatment here: regress on "
            "them ('f ~ x') or drop the covariance")


def conditional_statistics(data, items, covariates, *, ordered=None,
                           group: str | None = None, estimator: str = "DWLS",
                           acov: bool = True, announce: bool = True) -> ConditionalStatistics:
    """Thresholds, probit slopes and residual polychoric correlations of the ordered
    ``items`` (``ordered``, default all), intercepts, slopes, residual variances and
    residual polyserial/Pearson covariances of the continuous ones, given ``covariates``,
    and their NACOV, per group (lavaan's ``conditional.x`` statistics)."""
    cd = conditional_data(data, items, covariates, group=group, announce=announce,
                          ordered=ordered)
    od = cd.items
    groups, conv = [], []
    p_total = len(od.names) + len(cd.x_names)
    for label, codes, X in zip(od.group_labels, od.codes, cd.x):
        where = in_group(label, group is not None)
        cg, c = conditional_group_statistics(codes, X, od.ncat, od.names, estimator, acov,
                                             where, p_total)
        groups.append(cg)
        conv.append(c)
    return ConditionalStatistics(data=cd, groups=tuple(groups), converged=tuple(conv))
