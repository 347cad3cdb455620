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

Continuous variables among the ordered items with covariates (linear regressions and
conditional polyserial correlations) are not built here: :func:`conditional_statistics`
refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ...errors import DataError, DataWarning, SpecError, warn
from ..samplestats import SampleStats, as_frame, numeric_block
from .acov import sandwich
from .bvn import bvn_cdf, bvn_pdf
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


def _conditional_nacov(fits, codes, X, rho, I, J) -> np.ndarray:
    """N · B⁻¹ J B⁻ᵀ of (τ, vec(Π), ρ) (lavaan's ``muthen1984`` with covariates)."""
    n, q = X.shape
    p = len(fits)
    nth_item = np.array([len(f.th) for f in fits])
    th_start = np.concatenate([[0], np.cumsum(nth_item)[:-1]]).astype(int)
    nth = int(nth_item.sum())
    P = len(I)
    sc_th = np.hstack([f.scores[:, : len(f.th)] for f in fits])
    sc_sl = np.zeros((n, p * q))
    for i, f in enumerate(fits):
        sc_sl[:, i + p * np.arange(q)] = f.scores[:, len(f.th):]
    a, b = _stack(fits, I, J)
    r = rho[None, :]
    lik = np.maximum(_corners(a, b, r, bvn_cdf), PI_FLOOR)
    sc_cor = _corners(a, b, r, bvn_pdf) / lik
    nuni = nth + p * q
    a21 = np.zeros((P, nuni))
    for k in range(P):
        for item, other in ((I[k], J[k]), (J[k], I[k])):
            d_th, d_sl = _pair_derivatives(fits[item], fits[other], codes[:, item], X,
                                           rho[k], lik[:, k])
            a21[k, th_start[item] : th_start[item] + nth_item[item]] = sc_cor[:, k] @ d_th
            a21[k, nth + item + p * np.arange(q)] = sc_cor[:, k] @ d_sl
    scores = np.hstack([sc_th, sc_sl, sc_cor])
    inner = scores.T @ scores
    blocks = [np.concatenate([th_start[i] + np.arange(nth_item[i]),
                              nth + i + p * np.arange(q)]) for i in range(p)]
    return n * sandwich(inner, blocks, a21, np.sum(sc_cor * sc_cor, axis=0))


@dataclass(frozen=True)
class ConditionalData:
    """The ordered items (coded) and the covariates of every group, complete rows only."""

    items: OrdinalData
    x_names: tuple[str, ...]
    x: tuple[np.ndarray, ...]  # per group, n_g × q covariate values


def conditional_data(data, items, covariates, group: str | None = None,
                     missing: str = "listwise", announce: bool = True) -> ConditionalData:
    """Validate the ordered items and the covariates; rows with a missing covariate are
    dropped with the items' listwise deletion (lavaan's default for ``conditional.x``).

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
    od = ordinal_data(kept, items, group=group, missing="listwise", announce=announce)
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
class ConditionalGroup:
    """A group's statistics given x, and the covariates' own moments (for fixed.x)."""

    stats: GroupStatistics
    x_mean: np.ndarray
    x_cov: np.ndarray  # divided by N − 1, as lavaan's fixed.x values (cov.x)
    slopes: np.ndarray  # p × q


def conditional_group_statistics(codes: np.ndarray, X: np.ndarray, ncat: np.ndarray,
                                 names, weights: str, acov: bool, where: str,
                                 p_total: int) -> tuple[ConditionalGroup, np.ndarray]:
    """Stage 1–3 of one group.  ``p_total``: the model's observed variables (the items,
    then the covariates); statistics index the items as 0..p−1 among them."""
    n, p = codes.shape
    q = X.shape[1]
    fits = [probit_regression(codes[:, k], X, int(ncat[k])) for k in range(p)]
    for k, f in enumerate(fits):
        if not f.converged:
            warn(f"the probit regression of {names[k]!r} on the covariates{where} did not "
                 "converge", DataWarning)
    I, J = pair_index(p)
    rho, converged = conditional_polychorics(fits, I, J)
    for k in np.flatnonzero(~converged):
        warn(f"the residual polychoric correlation of {names[I[k]]!r} and {names[J[k]]!r}"
             f"{where} did not converge", DataWarning)
    warn_near_one(rho, names, I, J, where)
    th = [f.th for f in fits]
    slopes = np.array([f.beta for f in fits])  # p × q
    obs = np.concatenate(th + [slopes.T.ravel(), rho])
    gamma = (_conditional_nacov(fits, codes, X, rho, I, J) if acov
             else np.full((len(obs), len(obs)), np.nan))
    weight = diagonal_weights(gamma, weights, acov, where)
    x_mean = X.mean(axis=0)
    x_cov = np.cov(X, rowvar=False).reshape(q, q)  # N − 1, as lavaan's cov.x
    # a full (p + q) matrix for start values: residual correlations, x's covariances, and
    # the implied cross-covariances Π Σ_xx
    cor = np.zeros((p_total, p_total))
    cor[:p, :p] = np.eye(p)
    cor[I, J] = rho
    cor[J, I] = rho
    xs = slice(p, p + q)
    cor[xs, xs] = x_cov
    cor[:p, xs] = slopes @ x_cov
    cor[xs, :p] = cor[:p, xs].T
    th_var = np.concatenate([np.full(len(t), k) for k, t in enumerate(th)]).astype(int)
    th_num = np.concatenate([np.arange(1, len(t) + 1) for t in th]).astype(int)
    st = GroupStatistics(nobs=n, obs=obs, weight=weight, gamma=gamma, th_var=th_var,
                         th_num=th_num, pair_i=I, pair_j=J, cor=cor, th=tuple(th),
                         n_slopes=p * q)
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
        means, covs, data = [], [], []
        for cg, codes, X in zip(self.groups, od.codes, self.data.x):
            m = np.zeros(len(names))
            m[p:] = cg.x_mean
            means.append(m)
            covs.append(cg.stats.cor)
            data.append(np.hstack([np.where(codes >= 0, codes + 1.0, np.nan), X]))
        return SampleStats(names=names, group_labels=od.group_labels, nobs=od.nobs,
                           means=tuple(means), covs=tuple(covs), data=tuple(data),
                           rows_dropped=od.rows_dropped, rows_total=od.rows_total,
                           missing=od.missing)


def check_conditional(roles, ordered, options) -> None:
    """Refuse what the conditional.x path does not build: continuous variables beside the
    ordered items, pairwise deletion, and covariates that are not last among the model's
    observed variables (the statistics' layout).

    Raises:
        SpecError: naming what to do instead.
    """
    xs = list(roles.ov_x)
    continuous = [v for v in roles.observed if v not in set(ordered) and v not in set(xs)]
    if continuous:
        raise SpecError(
            f"observed covariates ({', '.join(xs)}) of a model with continuous variables "
            f"among the ordered items ({', '.join(continuous)}): lavaan's conditional.x "
            "statistics for mixed data (linear regressions and conditional polyserial "
            "correlations) are not available; declare those variables ordered, or model the "
            "covariate as a single-indicator latent variable (f =~ x; x ~~ 0*x)")
    if options.missing != "listwise":
        raise SpecError(
            f"missing={options.missing!r} with observed covariates of ordered items is not "
            "available; use missing='listwise' (lavaan's default)")
    if list(roles.observed[len(roles.observed) - len(xs):]) != xs:
        raise SpecError(
            f"the covariates ({', '.join(xs)}) are also used elsewhere in the model in a way "
            "this path does not lay out (they must be exogenous: only on the right of '~')")


def conditional_statistics(data, items, covariates, *, group: str | None = None,
                           estimator: str = "DWLS", acov: bool = True,
                           announce: bool = True) -> ConditionalStatistics:
    """Thresholds, probit slopes and residual polychoric correlations of ``items`` given
    ``covariates``, and their NACOV, per group (lavaan's ``conditional.x`` statistics)."""
    cd = conditional_data(data, items, covariates, group=group, announce=announce)
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
