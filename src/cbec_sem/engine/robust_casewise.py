"""The moment-space matrices of robust ML (MLM, MLR) for complete data, from casewise terms.

The robust estimators need, per group, the normal-theory weight W (Σ⁻¹ ⊕ ½ Dᵀ(Σ⁻¹⊗Σ⁻¹)D),
the distribution-free covariance Γ of the sample moments and the moment Jacobian Δ
(``engine/gamma.py``), all p* × p* or p* × q with p* = p(p+1)/2 + p moments: 8,910 for 132
items, where forming Γ and W alone takes seconds and the products ΔᵀWΓWΔ minutes (issue 14).
Every quantity the estimators use is a trace or a q × q product, and each can be had from n × p
and n × q casewise terms instead (Satorra & Bentler 1994; Browne 1984 for Γ; the conventions
those of lavaan 0.6-14's ``lav_samplestats_Gamma``, ``lav_model_nvcov_robust_sem`` and
``lav_test_satorra_bentler``, read for their definitions only).

**Γ as an average.**  Γ = (1/n) Σᵢ z̃ᵢ z̃ᵢᵀ with z̃ᵢ the centred casewise moment vector
(eᵢ, vech(Lᵢ − C)): without fixed covariates eᵢ = dᵢ = yᵢ − ȳ, Lᵢ = dᵢdᵢᵀ and C = S (divisor
n); with fixed covariates x (lavaan's ``fixed.x``; Γ conditional on x) eᵢ is the residual of
the least-squares regression of y on x (zero in the x entries), hᵢ the centred fitted row (x
entries those of dᵢ) and Lᵢ = dᵢdᵢᵀ − hᵢhᵢᵀ, C its mean.  The entries of z̃ᵢ for moments of
the covariates alone are then exactly zero, which is why W's zeroed rows need no handling here.

**tr(WΓ)** with W built from a K = Σ⁻¹: since vech(A)ᵀ ½Dᵀ(K⊗K)D vech(B) = ½ tr(KAKB),

    tr(WΓ) = (1/n) Σᵢ [eᵢᵀKeᵢ + ½ tr(K(Lᵢ − C)K(Lᵢ − C))]
           = mean(eᵢᵀKeᵢ) + ½ [mean((dᵢᵀKdᵢ)² − 2(dᵢᵀKhᵢ)² + (hᵢᵀKhᵢ)²) − tr(KCKC)]

(the mean part only with a mean structure).  Without covariates and at K = S⁻¹ this is
½ (mean(mᵢ²) − p) + p with mᵢ the Mahalanobis distance dᵢᵀS⁻¹dᵢ (Mardia's kurtosis).

**ΔᵀWz̃ᵢ.**  A free row k of the model has ∂Σ = uₖvₖᵀ + vₖuₖᵀ and ∂μ = δₖ
(:meth:`~.ram.RamModel.derivative_factors`), so vech(∂Σ)ᵀ ½Dᵀ(K⊗K)D vech(A) = uₖᵀKAKvₖ and

    (ΔᵀWz̃ᵢ)ₖ = eᵢᵀKδₖ + (uₖᵀKdᵢ)(vₖᵀKdᵢ) − (uₖᵀKhᵢ)(vₖᵀKhᵢ) − const,

an n × q matrix T whose centred cross-product gives ΔᵀWΓWΔ = TᵀT/n: the meat of MLM and the
q × q half of the Satorra–Bentler trace tr(UΓ) = tr(WΓ) − tr(E⁻¹ΔᵀWΓWΔ).  MLR's meat, the mean
outer product of the casewise scores of the normal log-likelihood at (μ̂, Σ̂), is the same
algebra with dᵢ = yᵢ − μ̂, uncentred and without hᵢ (:func:`model_scores`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gamma import covariate_fit


@dataclass(frozen=True)
class CasewiseRows:
    """One group's centred rows: ``d`` = y − ȳ, ``h`` the centred fitted rows from the fixed
    covariates (``None`` without them) and ``e`` the mean part of the casewise moment vector
    (``d`` without covariates, the regression residual with them)."""

    d: np.ndarray
    h: np.ndarray | None
    e: np.ndarray


def casewise_rows(y: np.ndarray, exo: tuple[int, ...] = ()) -> CasewiseRows:
    """The rows Γ is the covariance of (as :func:`.gamma.adf_gamma`, which forms Γ itself)."""
    d = y - y.mean(axis=0)
    if not exo:
        return CasewiseRows(d, None, d)
    yhat = covariate_fit(y, exo)
    h = yhat - yhat.mean(axis=0)
    e = y - yhat
    return CasewiseRows(d, h, e - e.mean(axis=0))


def trace_weight_gamma(K: np.ndarray, rows: CasewiseRows, meanstructure: bool) -> float:
    """tr(W Γ) for the normal-theory weight W built from K (= Σ⁻¹) and the distribution-free Γ
    of ``rows`` (divisor n), without forming either (module docstring)."""
    d, h, e = rows.d, rows.h, rows.e
    n = d.shape[0]
    dK = d @ K
    qd = np.einsum("ij,ij->i", dK, d)
    if h is None:
        quartic = qd @ qd / n
        C = d.T @ d / n
    else:
        qdh = np.einsum("ij,ij->i", dK, h)
        qh = np.einsum("ij,ij->i", h @ K, h)
        quartic = float(np.mean(qd**2 - 2.0 * qdh**2 + qh**2))
        C = (d.T @ d - h.T @ h) / n
    KC = K @ C
    total = 0.5 * (quartic - float(np.sum(KC * KC.T)))
    if meanstructure:
        total += float(np.einsum("ij,ij->", e @ K, e)) / n
    return float(total)


def _scatter(sc: np.ndarray, free_param: np.ndarray, nfree: int) -> np.ndarray:
    """Columns of free rows added into the free parameters they belong to (labels share)."""
    out = np.zeros((sc.shape[0], nfree))
    if np.unique(free_param).size == free_param.size:
        out[:, free_param] = sc
    else:
        np.add.at(out.T, free_param, sc.T)
    return out


def _rank_two(K: np.ndarray, U: np.ndarray, V: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(uₖᵀK rᵢ)(vₖᵀK rᵢ) for every row rᵢ and free row k (n × r)."""
    z = rows @ K
    return (z @ U) * (z @ V)


def model_weighted_moments(ram, mom, g: int, K: np.ndarray, rows: CasewiseRows,
                           meanstructure: bool) -> np.ndarray:
    """T = the centred rows of z̃ᵢᵀ W Δ (n × q, θ-space) for group ``g`` at the weight built
    from K (= Σ̂⁻¹); ΔᵀWΓWΔ = TᵀT/n (module docstring)."""
    U, V, D = ram.derivative_factors(mom, g)
    t = _rank_two(K, U, V, rows.d)
    if rows.h is not None:
        t -= _rank_two(K, U, V, rows.h)
    if meanstructure:
        t += rows.e @ K @ D
    t -= t.mean(axis=0)
    return _scatter(t, ram.layouts[g].free_param, ram.nfree)


def model_scores(ram, mom, g: int, y: np.ndarray, mu: np.ndarray, meanstructure: bool
                 ) -> np.ndarray:
    """Casewise scores of the normal log-likelihood with respect to θ at (``mu``, Σ̂) (n × q):
    (uₖᵀzᵢ)(vₖᵀzᵢ) − uₖᵀKvₖ + δₖᵀzᵢ with zᵢ = K(yᵢ − μ); the engine's scores in
    (μ, vech Σ) (:func:`.gamma.casewise_scores`) times Δ, without forming either.  Free rows
    of fixed covariates' moments do not exist (their Δ rows are zero), so no column needs the
    zeroing :func:`.gamma.casewise_scores` applies."""
    U, V, D = ram.derivative_factors(mom, g)
    K = symmetric_inverse(mom.sigma)
    t = _rank_two(K, U, V, y - mu) - np.einsum("pk,pq,qk->k", U, K, V)
    if meanstructure:
        t += (y - mu) @ K @ D
    return _scatter(t, ram.layouts[g].free_param, ram.nfree)


def symmetric_inverse(sigma: np.ndarray) -> np.ndarray:
    """Σ⁻¹, symmetrised (the K of the traces above)."""
    K = np.linalg.inv(sigma)
    return 0.5 * (K + K.T)


def selected_weight(K: np.ndarray, pairs: list[tuple[int, int]], means: list[int]
                    ) -> np.ndarray:
    """The rows and columns of the normal-theory weight built from K for the covariance
    moments ``pairs`` (a, b) and then the mean moments ``means``: ¼ mₐᵦ m_cd (K_ac K_bd +
    K_ad K_bc) with m = 2 off the diagonal, 1 on it, and K for the means (no cross terms)."""
    a = np.array([i for i, _ in pairs], dtype=int)
    b = np.array([j for _, j in pairs], dtype=int)
    m = np.where(a == b, 1.0, 2.0)
    k = len(pairs)
    out = np.zeros((k + len(means), k + len(means)))
    out[:k, :k] = 0.25 * np.outer(m, m) * (K[np.ix_(a, a)] * K[np.ix_(b, b)]
                                           + K[np.ix_(a, b)] * K[np.ix_(b, a)])
    idx = np.array(means, dtype=int)
    out[k:, k:] = K[np.ix_(idx, idx)]
    return out


def selected_scores(K: np.ndarray, rows: np.ndarray, pairs: list[tuple[int, int]],
                    means: list[int]) -> np.ndarray:
    """Casewise scores of the normal log-likelihood in the selected moments (covariances
    ``pairs``, then ``means``) at Σ = K⁻¹ for rows r = y − μ: zₐz_b − Kₐᵦ (half that on the
    diagonal) and z_k, z = K r."""
    z = rows @ K
    a = np.array([i for i, _ in pairs], dtype=int)
    b = np.array([j for _, j in pairs], dtype=int)
    sc = z[:, a] * z[:, b] - K[a, b]
    sc[:, a == b] *= 0.5
    return np.hstack([sc, z[:, means]])


def selected_weighted_moments(K: np.ndarray, rows: CasewiseRows, pairs: list[tuple[int, int]],
                              means: list[int], meanstructure: bool) -> np.ndarray:
    """The centred rows of z̃ᵢᵀ W S for the selection S of moments (covariances ``pairs``,
    then ``means`` when ``meanstructure``): (KLᵢK)ₐᵦ (half on the diagonal), (K eᵢ)_k."""
    a = np.array([i for i, _ in pairs], dtype=int)
    b = np.array([j for _, j in pairs], dtype=int)
    u = rows.d @ K
    t = u[:, a] * u[:, b]
    if rows.h is not None:
        v = rows.h @ K
        t -= v[:, a] * v[:, b]
    t[:, a == b] *= 0.5
    if meanstructure:
        t = np.hstack([t, (rows.e @ K)[:, means]])
    return t - t.mean(axis=0)


# ----------------------------------------------------------------------------- observed weight
#
# MLM with information = "observed" weights by the saturated model's observed information at
# the model-implied moments given the sample moments (lavaan's h1.information = "structured";
# :func:`.fiml.h1_information` with one pattern): with K = Σ̂⁻¹, a = K(x̄ − μ̂),
# T = S + (x̄ − μ̂)(x̄ − μ̂)ᵀ and M = K(2T − Σ̂)K, its bilinear form on moment vectors
# (m₁, vech X₁), (m₂, vech X₂) is
#
#     m₁ᵀKm₂ + aᵀX₁Km₂ + aᵀX₂Km₁ + ½ tr(M X₁ K X₂)
#
# (the normal-theory weight when M = K and a = 0); the functions below are the ones above
# with this form in place of ½ tr(K X₁ K X₂) + m₁ᵀKm₂.


@dataclass(frozen=True)
class ObservedWeight:
    """K, M and a of the observed weight (above); ``a`` is zero without a mean structure."""

    K: np.ndarray
    M: np.ndarray
    a: np.ndarray


def observed_weight(sigma: np.ndarray, mu: np.ndarray, mean: np.ndarray, cov: np.ndarray
                    ) -> ObservedWeight:
    """The observed weight at Σ̂ = ``sigma``, μ̂ = ``mu`` for sample moments ``mean``, ``cov``
    (pass ``mu = mean`` without a mean structure)."""
    K = symmetric_inverse(sigma)
    dbar = mean - mu
    T = cov + np.outer(dbar, dbar)
    M = K @ (2.0 * T - sigma) @ K
    return ObservedWeight(K, 0.5 * (M + M.T), K @ dbar)


def observed_trace_weight_gamma(w: ObservedWeight, rows: CasewiseRows, meanstructure: bool
                                ) -> float:
    """tr(W Γ) for the observed weight ``w``: the mean of the form at (eᵢ, Lᵢ − C)."""
    K, M, a = w.K, w.M, w.a
    d, h, e = rows.d, rows.h, rows.e
    n = d.shape[0]
    dK, dM = d @ K, d @ M
    quartic = np.einsum("ij,ij->i", dK, d) * np.einsum("ij,ij->i", dM, d)
    C = d.T @ d / n
    if h is not None:
        hK, hM = h @ K, h @ M
        quartic = (quartic - 2.0 * np.einsum("ij,ij->i", dK, h) * np.einsum("ij,ij->i", dM, h)
                   + np.einsum("ij,ij->i", hK, h) * np.einsum("ij,ij->i", hM, h))
        C = C - h.T @ h / n
    total = 0.5 * (float(np.mean(quartic)) - float(np.sum((M @ C) * (K @ C).T)))
    if meanstructure:
        eK = e @ K
        cross = (d @ a) * np.einsum("ij,ij->i", dK, e)
        if h is not None:
            cross -= (h @ a) * np.einsum("ij,ij->i", h @ K, e)
        total += float(np.einsum("ij,ij->", eK, e)) / n + 2.0 * float(np.mean(cross))
    return float(total)


def observed_model_weighted_moments(ram, mom, g: int, w: ObservedWeight, rows: CasewiseRows,
                                    meanstructure: bool) -> np.ndarray:
    """The centred rows of z̃ᵢᵀ W Δ (n × q) for the observed weight ``w``."""
    U, V, D = ram.derivative_factors(mom, g)
    K, M, a = w.K, w.M, w.a

    def quad(r: np.ndarray) -> np.ndarray:  # ½ tr(M Σₖ K r rᵀ)
        rK, rM = r @ K, r @ M
        return 0.5 * ((rK @ V) * (rM @ U) + (rK @ U) * (rM @ V))

    t = quad(rows.d)
    if rows.h is not None:
        t -= quad(rows.h)
    if meanstructure:
        eK = rows.e @ K
        t += eK @ D + (U.T @ a) * (eK @ V) + (V.T @ a) * (eK @ U)
        t += (rows.d @ a)[:, None] * (rows.d @ K @ D)
        if rows.h is not None:
            t -= (rows.h @ a)[:, None] * (rows.h @ K @ D)
    t -= t.mean(axis=0)
    return _scatter(t, ram.layouts[g].free_param, ram.nfree)


def observed_model_information(ram, mom, g: int, w: ObservedWeight, meanstructure: bool
                               ) -> np.ndarray:
    """Δᵀ W Δ (q × q) for the observed weight ``w``."""
    U, V, D = ram.derivative_factors(mom, g)
    K, M, a = w.K, w.M, w.a
    KU, KV = K @ U, K @ V
    uKu, uKv, vKv = U.T @ KU, U.T @ KV, V.T @ KV
    MU, MV = M @ U, M @ V
    uMu, uMv, vMv = U.T @ MU, U.T @ MV, V.T @ MV
    # ½[(vₐKu_b)(v_bMuₐ) + (vₐKv_b)(u_bMuₐ) + (uₐKu_b)(v_bMvₐ) + (uₐKv_b)(u_bMvₐ)]
    info = 0.5 * (uKv.T * uMv + vKv * uMu + uKu * vMv + uKv * uMv.T)
    if meanstructure:
        KD = K @ D
        cross = (U.T @ a)[:, None] * (V.T @ KD) + (V.T @ a)[:, None] * (U.T @ KD)
        info += D.T @ KD + cross + cross.T
    info = 0.5 * (info + info.T)
    params = ram.layouts[g].free_param
    out = np.zeros((ram.nfree, ram.nfree))
    np.add.at(out, np.ix_(params, params), info)
    return out


def observed_selected_weight(w: ObservedWeight, pairs: list[tuple[int, int]],
                             means: list[int]) -> np.ndarray:
    """Rows and columns of the observed weight with a = 0 (the baseline at x̄) for the
    covariance moments ``pairs`` and the mean moments ``means``."""
    K, M = w.K, w.M
    a = np.array([i for i, _ in pairs], dtype=int)
    b = np.array([j for _, j in pairs], dtype=int)
    half = np.where(a == b, 0.5, 1.0)
    k = len(pairs)
    out = np.zeros((k + len(means), k + len(means)))
    out[:k, :k] = 0.5 * np.outer(half, half) * (
        K[np.ix_(b, b)] * M[np.ix_(a, a)] + K[np.ix_(b, a)] * M[np.ix_(a, b)]
        + K[np.ix_(a, b)] * M[np.ix_(b, a)] + K[np.ix_(a, a)] * M[np.ix_(b, b)])
    idx = np.array(means, dtype=int)
    out[k:, k:] = K[np.ix_(idx, idx)]
    return out


def observed_selected_weighted_moments(w: ObservedWeight, rows: CasewiseRows,
                                       pairs: list[tuple[int, int]], means: list[int],
                                       meanstructure: bool) -> np.ndarray:
    """The centred rows of z̃ᵢᵀ W S for the observed weight with a = 0:
    ½ wₐᵦ (M Lᵢ K + K Lᵢ M)ₐᵦ (w = ½ on the diagonal) and (K eᵢ)_k."""
    K, M = w.K, w.M
    a = np.array([i for i, _ in pairs], dtype=int)
    b = np.array([j for _, j in pairs], dtype=int)

    def part(r):
        rK, rM = r @ K, r @ M
        return 0.5 * (rM[:, a] * rK[:, b] + rK[:, a] * rM[:, b])

    t = part(rows.d)
    if rows.h is not None:
        t -= part(rows.h)
    t[:, a == b] *= 0.5
    if meanstructure:
        t = np.hstack([t, (rows.e @ K)[:, means]])
    return t - t.mean(axis=0)
