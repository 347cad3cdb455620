"""Ordered and continuous variables in one model: their sample statistics and NACOV.

lavaan's three-stage estimator (Muthén 1984) with continuous variables among the ordered ones,
as its ``muthen1984()`` does it, one group at a time:

1. univariate: the thresholds of each ordered item (:mod:`.thresholds`), the mean μ and the
   variance σ² (divided by N) of each continuous variable, with their casewise scores
   (y − μ)/σ² and −1/(2σ²) + (y − μ)²/(2σ⁴);
2. bivariate, with the univariate estimates fixed: polychoric correlations between ordered
   items (:mod:`.polychoric`), Pearson correlations between continuous variables, and
   **polyserial** correlations between a continuous variable y₁ and an ordered item y₂ — the
   ML estimate of ρ in (Olsson, Drasgow & Dorans 1982, *Psychometrika* 47, 337–347, eq. 4)

       ℓ(ρ) = Σ_n log[Φ((τ_c − ρz_n)/R) − Φ((τ_{c−1} − ρz_n)/R)],  z = (y₁ − μ)/σ,
       R = √(1 − ρ²),  c the answer of row n,

   whose score is ∂ℓ_n/∂ρ = [φ(t₁)(τ_cρ − z) − φ(t₂)(τ_{c−1}ρ − z)] / (R³ p_n) with
   t₁, t₂ the two standardised bounds and p_n the bracket (lavaan's
   ``lav_bvmix_cor_scores``); the scores of μ, σ² and τ follow by the chain rule;
3. the statistics' asymptotic covariance: the sandwich B⁻¹ J B⁻ᵀ of :mod:`.acov` over all
   casewise scores, then the delta method H from correlations to covariances
   (cov = ρ σ_i σ_j), and the means' rows negated because the statistic lavaan fits is −μ
   (the "threshold" of a continuous variable).

The statistics of a group, in lavaan's ``WLS.obs`` order: per variable in the model's order
its thresholds (ordered) or −μ (continuous); the continuous variables' variances; the
strict lower triangle of the covariance matrix (correlations where both are ordered,
ρσ for mixed pairs, covariances for continuous pairs), column by column.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

from ...errors import DataError, DataWarning, warn
from ..samplestats import as_frame, check_columns, group_codes, numeric_block
from .acov import ordinal_pair_scores, sandwich, threshold_scores
from .polychoric import bounds, fit_polychorics, pair_index, pair_tables, warn_near_one
from .thresholds import OrdinalData, item_thresholds, ordinal_data
from .wls import GroupStatistics, diagonal_weights

#: lavaan's bounds for the polyserial correlation (``lav_bvmix_cor_twostep_fit``)
POLYSERIAL_BOUND = 0.995
#: lavaan's stand-in for ±∞ as the outer bounds of an ordered item (``lav_uvord``)
OUTER = 100.0


def _bracket(z: np.ndarray, upper: np.ndarray, lower: np.ndarray, rho: float):
    R = np.sqrt(1.0 - rho * rho)
    t1 = (upper - rho * z) / R
    t2 = (lower - rho * z) / R
    p = np.maximum(special.ndtr(t1) - special.ndtr(t2), np.finfo(float).eps)
    return R, t1, t2, p


def _phi(x):
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


def polyserial_score(z, upper, lower, rho: float) -> np.ndarray:
    """∂ℓ_n/∂ρ of every row (Olsson et al. 1982; lavaan's ``lav_bvmix_cor_scores``)."""
    R, t1, t2, p = _bracket(z, upper, lower, rho)
    return (_phi(t1) * (upper * rho - z) - _phi(t2) * (lower * rho - z)) / (R**3 * p)


def polyserial(z: np.ndarray, codes: np.ndarray, th: list[np.ndarray]) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Two-step ML polyserial correlations of Q pairs at once: ``z`` (n × Q) the standardised
    continuous variables, ``codes`` (n × Q) the ordered items' answers 0..K−1, ``th`` their
    thresholds.  The root of each pair's summed score in (−0.995, 0.995), lavaan's bounds,
    by safeguarded Newton steps on all pairs together (the derivative of the score by a
    central difference), then Brent's method for any pair left.  Returns (ρ, converged)."""
    upper = np.empty_like(z)
    lower = np.empty_like(z)
    for q in range(z.shape[1]):
        ext = np.concatenate([[-OUTER], th[q], [OUTER]])
        upper[:, q], lower[:, q] = ext[codes[:, q] + 1], ext[codes[:, q]]
    return polyserial_bounds(z, upper, lower)


def polyserial_bounds(z: np.ndarray, upper: np.ndarray, lower: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`polyserial` with every case's category bounds given (n × Q; ±:data:`OUTER`
    for the open ends): with covariates they are τ − xᵀβ (:mod:`.conditional`)."""
    Q = z.shape[1]

    def score(r):
        return polyserial_score(z, upper, lower, r).sum(axis=0)

    b = POLYSERIAL_BOUND
    rho = np.zeros(Q)
    done = np.zeros(Q, dtype=bool)
    h = 1e-5
    for _ in range(50):
        if done.all():
            break
        s0 = score(rho)
        slope = (score(np.minimum(rho + h, b)) - score(np.maximum(rho - h, -b))) / (
            np.minimum(rho + h, b) - np.maximum(rho - h, -b))
        step = np.where(slope < 0, -s0 / np.where(slope < 0, slope, -1.0), np.sign(s0) * 0.1)
        step = np.clip(step, -0.2, 0.2)
        new = np.clip(rho + step, -b, b)
        moved = np.abs(new - rho)
        rho = np.where(done, rho, new)
        done |= moved < 1e-12
    converged = done.copy()
    for q in np.flatnonzero(~done):  # Brent's method on the score, else the likelihood
        zq, uq, lq = z[:, q], upper[:, q], lower[:, q]

        def one(r, zq=zq, uq=uq, lq=lq):
            return float(np.sum(polyserial_score(zq, uq, lq, r)))

        if one(-b) > 0 > one(b):
            rho[q] = optimize.brentq(one, -b, b, xtol=1e-14, maxiter=200)
            converged[q] = True
        else:
            res = optimize.minimize_scalar(
                lambda r, zq=zq, uq=uq, lq=lq: -float(np.sum(np.log(_bracket(zq, uq, lq, r)[3]))),
                bounds=(-b, b), method="bounded", options={"xatol": 1e-12})
            rho[q], converged[q] = float(res.x), bool(res.success)
    return rho, converged


def _polyserial_scores(z, sd, var, codes, th, rho):
    """Casewise scores of (ρ, μ, σ², τ) of a polyserial pair (lavaan's
    ``lav_bvmix_cor_scores``)."""
    ext = np.concatenate([[-OUTER], th, [OUTER]])
    d_rho, d_mu, d_var, d_th, _ = polyserial_case_scores(z, sd, var, codes, len(th),
                                                         ext[codes + 1], ext[codes], rho)
    return d_rho, d_mu, d_var, d_th


def polyserial_case_scores(z, sd, var, codes, K1, upper, lower, rho):
    """The casewise scores of (ρ, μ, σ², τ) of a polyserial pair with every case's bounds
    given, and ∂ℓ_n/∂(xᵀβ) of the ordered item, −[φ(t₁) − φ(t₂)]/(R p_n) (times x, the
    scores of its slopes on covariates: lavaan's ``dx_sl_y2``)."""
    R, t1, t2, p = _bracket(z, upper, lower, rho)
    f1, f2 = _phi(t1), _phi(t2)
    d_rho = (f1 * (upper * rho - z) - f2 * (lower * rho - z)) / (R**3 * p)
    d_mu = (z + (rho / R) * (f1 - f2) / p) / sd
    d_var = ((z * z - 1.0) + (rho * z / R) * (f1 - f2) / p) / (2.0 * var)
    k = np.arange(K1)[None, :]
    d_th = ((codes[:, None] == k) * f1[:, None] - (codes[:, None] == k + 1) * f2[:, None]) / (
        R * p)[:, None]
    return d_rho, d_mu, d_var, d_th, (f2 - f1) / (R * p)


def pearson_scores(y1c, y2c, v1, v2, rho):
    """Casewise scores of (ρ, μ₁, μ₂, σ₁², σ₂²) of a bivariate normal pair (lavaan's
    ``lav_bvreg_cor_scores``)."""
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    R = 1.0 - rho * rho
    d_mu1 = (2 * y1c / v1 - 2 * rho * y2c / (s1 * s2)) / (2 * R)
    d_mu2 = -(2 * rho * y1c / (s1 * s2) - 2 * y2c / v2) / (2 * R)
    d_v1 = -(0.5 / v1 - (y1c * y1c / (v1 * v1) - rho * y1c * y2c / (v1 * s1 * s2)) / (2 * R))
    d_v2 = -(0.5 / v2 + (rho * y1c * y2c / (v2 * s1 * s2) - y2c * y2c / (v2 * v2)) / (2 * R))
    z = y1c * y1c / v1 - 2 * rho * y1c * y2c / (s1 * s2) + y2c * y2c / v2
    d_rho = rho / R + (y1c * y2c / (s1 * s2 * R) - z * rho / (R * R))
    return d_rho, d_mu1, d_mu2, d_v1, d_v2


def mixed_group_statistics(
    x: np.ndarray,
    is_ordered: np.ndarray,
    ncat: np.ndarray,
    names,
    weights: str,
    acov: bool,
    where: str,
) -> tuple[GroupStatistics, np.ndarray]:
    """Sample statistics of one group with ordered and continuous variables (complete rows).

    ``x``: (n × p) values, category codes 0..K−1 in the ordered columns, raw values in the
    continuous ones; ``is_ordered``: (p,) flags; ``ncat``: categories of each ordered column
    (ignored for the continuous ones).  Returns the statistics and the per-pair convergence.
    """
    n, p = x.shape
    ordered = np.flatnonzero(is_ordered)
    numeric = np.flatnonzero(~is_ordered)
    codes = x[:, ordered].astype(int)
    th_ord = item_thresholds(codes, ncat[ordered]) if ordered.size else []
    th_of = {int(v): t for v, t in zip(ordered, th_ord)}
    mean = x[:, numeric].mean(axis=0)
    var = x[:, numeric].var(axis=0)  # divided by N (ML), as lavaan's lav_uvreg_fit
    for v, s2 in zip(numeric, var):
        if not s2 > 0:
            raise DataError(f"the continuous variable {names[v]!r} has no variance{where}")
    sd = np.sqrt(var)
    mean_of = {int(v): k for k, v in enumerate(numeric)}
    # --- layout of the univariate columns: per variable its thresholds or its mean ------
    th_var, th_num, th_cols = [], [], {}
    for v in range(p):
        if is_ordered[v]:
            cols = list(range(len(th_var), len(th_var) + len(th_of[v])))
            th_var += [v] * len(th_of[v])
            th_num += list(range(1, len(th_of[v]) + 1))
        else:
            cols = [len(th_var)]
            th_var.append(v)
            th_num.append(0)
        th_cols[v] = np.array(cols, dtype=int)
    nth = len(th_var)
    var_col = {int(v): nth + k for k, v in enumerate(numeric)}
    nuni = nth + len(numeric)
    I, J = pair_index(p)
    P = len(I)
    # --- correlations ---------------------------------------------------------------
    rho = np.zeros(P)
    converged = np.ones(P, dtype=bool)
    z = (x[:, numeric] - mean) / sd
    ord_pos = {int(v): k for k, v in enumerate(ordered)}
    oo = [q for q in range(P) if is_ordered[I[q]] and is_ordered[J[q]]]
    if oo:
        kmax = int(ncat[ordered].max())
        oi = np.array([ord_pos[I[q]] for q in oo])
        oj = np.array([ord_pos[J[q]] for q in oo])
        tables = pair_tables(codes, kmax, oi, oj)
        bnds = bounds(th_ord, kmax)
        r, c = fit_polychorics(tables, bnds[oi], bnds[oj], ncat[ordered][oi],
                               ncat[ordered][oj])
        rho[oo] = r
        converged[oo] = c
    mix_pairs, mix_num, mix_ord = [], [], []
    for q in range(P):
        i, j = int(I[q]), int(J[q])
        if is_ordered[i] and is_ordered[j]:
            continue
        if not is_ordered[i] and not is_ordered[j]:
            rho[q] = float(np.mean(z[:, mean_of[i]] * z[:, mean_of[j]]))  # Pearson
        else:
            num, o = (i, j) if not is_ordered[i] else (j, i)
            mix_pairs.append(q)
            mix_num.append(mean_of[num])
            mix_ord.append(o)
    if mix_pairs:
        rho[mix_pairs], converged[mix_pairs] = polyserial(
            z[:, mix_num], x[:, mix_ord].astype(int), [th_of[o] for o in mix_ord])
    for q in np.flatnonzero(~converged):
        warn(f"the correlation of {names[I[q]]!r} and {names[J[q]]!r}{where} did not converge",
             DataWarning)
    warn_near_one(rho, names, I, J, where)
    cor = np.eye(p)
    cor[I, J] = rho
    cor[J, I] = rho
    scale = np.ones(p)
    scale[numeric] = sd
    cov = cor * np.outer(scale, scale)
    th_stat = np.zeros(nth)
    for v in range(p):
        th_stat[th_cols[v]] = th_of[v] if is_ordered[v] else -mean[mean_of[v]]
    obs = np.concatenate([th_stat, var, cov[I, J]])
    gamma = _nacov(x, is_ordered, ordered, numeric, codes, th_ord, th_of, rho, mean, var, z,
                   th_cols, var_col, nuni, I, J, oo, ord_pos, ncat) if acov else np.broadcast_to(
        np.nan, (len(obs), len(obs)))  # a read-only NaN view, as ordinal_statistics
    weight = diagonal_weights(gamma, weights, acov, where)
    return GroupStatistics(
        nobs=n, obs=obs, weight=weight, gamma=gamma, th_var=np.array(th_var, dtype=int),
        th_num=np.array(th_num, dtype=int), pair_i=I, pair_j=J, cor=cov,
        th=tuple(th_ord), var_idx=numeric,
    ), converged


def _nacov(x, is_ordered, ordered, numeric, codes, th_ord, th_of, rho, mean, var, z,
           th_cols, var_col, nuni, I, J, oo, ord_pos, ncat) -> np.ndarray:
    """N · H B⁻¹ J B⁻ᵀ Hᵀ with the means' rows negated (lavaan's ``muthen1984``)."""
    n, p = x.shape
    P = len(I)
    sd = np.sqrt(var)
    mean_of = {int(v): k for k, v in enumerate(numeric)}
    uni = np.zeros((n, nuni))
    if ordered.size:
        sc_th = threshold_scores(codes, th_ord)
        start = 0
        for v, t in zip(ordered, th_ord):
            uni[:, th_cols[int(v)]] = sc_th[:, start:start + len(t)]
            start += len(t)
    for v in numeric:
        k = mean_of[int(v)]
        r = x[:, v] - mean[k]
        uni[:, th_cols[int(v)][0]] = r / var[k]
        uni[:, var_col[int(v)]] = -1.0 / (2 * var[k]) + r * r / (2 * var[k] ** 2)
    sc_cor = np.zeros((n, P))
    a21 = np.zeros((P, nuni))
    H21 = np.zeros((P, nuni))
    H22 = np.ones(P)
    if oo:
        kmax = int(ncat[ordered].max())
        oi = np.array([ord_pos[I[q]] for q in oo])
        oj = np.array([ord_pos[J[q]] for q in oo])
        tables = pair_tables(codes, kmax, oi, oj)
        sc, a21_oo = ordinal_pair_scores(codes, th_ord, rho[oo], tables, bounds(th_ord, kmax),
                                         oi, oj)
        sc_cor[:, oo] = sc
        ord_cols = np.concatenate([th_cols[int(v)] for v in ordered])
        a21[np.ix_(oo, ord_cols)] = a21_oo
    for q in range(P):
        i, j = int(I[q]), int(J[q])
        if is_ordered[i] and is_ordered[j]:
            continue
        if not is_ordered[i] and not is_ordered[j]:
            ki, kj = mean_of[i], mean_of[j]
            d_rho, d_mu1, d_mu2, d_v1, d_v2 = pearson_scores(
                x[:, i] - mean[ki], x[:, j] - mean[kj], var[ki], var[kj], rho[q])
            sc_cor[:, q] = d_rho
            a21[q, th_cols[i][0]] = d_rho @ d_mu1
            a21[q, th_cols[j][0]] = d_rho @ d_mu2
            a21[q, var_col[i]] = d_rho @ d_v1
            a21[q, var_col[j]] = d_rho @ d_v2
            H21[q, var_col[i]] = sd[kj] * rho[q] / (2 * sd[ki])
            H21[q, var_col[j]] = sd[ki] * rho[q] / (2 * sd[kj])
            H22[q] = sd[ki] * sd[kj]
        else:
            num, o = (i, j) if not is_ordered[i] else (j, i)
            k = mean_of[num]
            d_rho, d_mu, d_var, d_th = _polyserial_scores(
                z[:, k], sd[k], var[k], x[:, o].astype(int), th_of[o], rho[q])
            sc_cor[:, q] = d_rho
            a21[q, th_cols[num][0]] = d_rho @ d_mu
            a21[q, th_cols[o]] = d_rho @ d_th
            a21[q, var_col[num]] = d_rho @ d_var
            H21[q, var_col[num]] = rho[q] / (2 * sd[k])
            H22[q] = sd[k]
    scores = np.hstack([uni, sc_cor])
    blocks = []
    for v in range(p):
        idx = list(th_cols[v])
        if not is_ordered[v]:
            idx.append(var_col[v])
        blocks.append(np.array(idx, dtype=int))
    w = sandwich(scores, blocks, a21, np.sum(sc_cor * sc_cor, axis=0))
    H = np.eye(nuni + P)
    H[nuni:, :nuni] = H21
    H[nuni:, nuni:] = np.diag(H22)
    w = H @ w @ H.T
    means = np.array([th_cols[int(v)][0] for v in numeric], dtype=int)
    w[means, :] *= -1.0
    w[:, means] *= -1.0
    return n * w


def mixed_data(data, names, ordered, group: str | None = None,
               announce: bool = True) -> OrdinalData:
    """Validate and code ordered and continuous variables, listwise (lavaan's default).

    The result is an :class:`.thresholds.OrdinalData` over all ``names``: the ordered
    columns hold category codes 0..K−1 (their ``levels`` the values behind them), the
    continuous columns their values (no ``levels``).

    Raises:
        DataError: as :func:`.thresholds.ordinal_data` for the ordered items; missing or
            non-numeric columns.
    """
    names = tuple(names)
    frame = as_frame(data)
    check_columns(frame, names, group)
    x = numeric_block(frame, names)
    rows_total = x.shape[0]
    complete = ~np.isnan(x).any(axis=1)
    _, gcodes = group_codes(frame, group, rows_total)
    dropped = int((~complete & (gcodes >= 0)).sum())
    if announce and dropped:
        warn(f"listwise deletion dropped {dropped} of {rows_total} rows with missing values on "
             "the model's variables (lavaan's default for ordered data)", DataWarning)
    sub = frame.iloc[np.flatnonzero(complete)]
    if sub.shape[0] == 0:
        raise DataError("no row has a value on every variable of the model, so listwise "
                        "deletion leaves nothing")
    od = ordinal_data(sub, ordered, group=group, missing="listwise", announce=announce,
                      min_items=1)
    labels, sub_codes = group_codes(sub, group, sub.shape[0])
    values = numeric_block(sub, names)
    pos = {v: k for k, v in enumerate(ordered)}
    blocks = []
    for g in range(len(od.group_labels)):
        block = values[sub_codes == g].copy()
        for k, v in enumerate(names):
            if v in pos:
                block[:, k] = od.codes[g][:, pos[v]]
        blocks.append(block)
    levels = tuple(od.levels[pos[v]] if v in pos else () for v in names)
    return OrdinalData(names=names, levels=levels, group_labels=od.group_labels,
                       codes=tuple(blocks), missing="listwise", rows_total=rows_total,
                       rows_dropped=dropped)
