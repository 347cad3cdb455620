"""Normal-theory ML's observed information and casewise scores in closed form, for a RAM model.

MLR's sandwich A⁻¹ B A⁻¹ needs the observed information A (the Hessian of F) and the
first-order information B (the outer products of the casewise scores).  For

    F(θ) = ½ [log|Σ| + tr(S Σ⁻¹) − log|S| − p + (m − μ)ᵀ Σ⁻¹ (m − μ)],

Σ = G S_θ Gᵀ, μ = G M_θ, G = J B, B = (I − A)⁻¹ (J selects the observed variables; the free
entries are entries of A, of the symmetric S_θ and of M_θ), every first derivative of Σ is of
rank two: for an entry aᵢⱼ of A, ∂Σ = gᵢcⱼᵀ + cⱼgᵢᵀ with gᵢ = G eᵢ and cⱼ = G S Bᵀeⱼ; for an
entry sᵤᵥ of S, ∂Σ = gᵤgᵥᵀ + gᵥgᵤᵀ (gᵤgᵤᵀ on the diagonal).  Written ∂Σₖ = aₖbₖᵀ + bₖaₖᵀ,
every trace the two matrices need is a product of r × p and p × p matrices:

* the Hessian (Magnus & Neudecker 1999, ch. 9–10, for the matrix differentials),

      ∂²F/∂θₖ∂θₗ = ½ [ −tr(K Σₖ K Σₗ) + 2 tr(K T K Σₖ K Σₗ) + 2 μₖᵀ K μₗ
                       + 2 dᵀK Σₖ K μₗ + 2 dᵀK Σₗ K μₖ + tr(W Σₖₗ) − 2 dᵀK μₖₗ ],

  with K = Σ⁻¹, d = m − μ, T = S + d dᵀ, W = K − K T K (the gradient's weight matrix) and the
  second derivatives Σₖₗ, μₖₗ of the model moments, non-zero only for A–A, A–S and A–M pairs
  (from ∂B/∂aᵢⱼ = B eᵢeⱼᵀ B);
* the casewise score of row yᵢ with zᵢ = K (yᵢ − μ): ∂ℓᵢ/∂θₖ = (zᵢᵀaₖ)(zᵢᵀbₖ) − aₖᵀK bₖ
  (+ zᵢᵀμₖ with a mean structure), which is the engine's score in (μ, vech Σ)
  (:func:`.gamma.casewise_scores`) times the moment Jacobian Δ, without forming either.

The engine computes A by central differences of the analytic gradient
(:func:`.inference.observed_information_x`, as lavaan's ``lav_model_hessian()``, 2q
gradients) and B through the n × p(p+1)/2 score matrix; for the 90-parameter
product-indicator model of the power study these closed forms take a few milliseconds instead
of about a hundred.  Agreement with both is checked in
``tests/resampling/test_observed_information.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fiml import FIMLFunction
from .inference import observed_information_x, parameter_scale
from .ml import MLFunction


@dataclass(frozen=True)
class RankTwoDerivatives:
    """One group's model at θ and its first derivatives ∂Σₖ = aₖbₖᵀ + bₖaₖᵀ, ∂μₖ = mₖ, in the
    entry order [A entries, S entries, M entries]."""

    B: np.ndarray
    S: np.ndarray
    G: np.ndarray
    K: np.ndarray          # Σ⁻¹
    mu_full: np.ndarray    # B m
    obs: np.ndarray        # positions of the observed variables
    a: np.ndarray          # r × p
    b: np.ndarray          # r × p
    m: np.ndarray          # r × p
    na: int
    ns: int


def _t(x: np.ndarray) -> np.ndarray:
    """The transpose of the last two axes (of one matrix or of a stack of them)."""
    return np.swapaxes(x, -1, -2)


def rank_two_derivatives(B: np.ndarray, S: np.ndarray, M: np.ndarray, obs: np.ndarray,
                         ai: np.ndarray, aj: np.ndarray, si: np.ndarray, sj: np.ndarray,
                         mi: np.ndarray) -> RankTwoDerivatives | None:
    """The pieces above from B = (I − A)⁻¹, S, m at θ and the free entries' positions
    (``None`` when Σ(θ) is not positive definite).  B, S and M may be stacks (k × n × n,
    k × n) of k models: every piece then has the same leading axis (``None`` when some Σ is
    not positive definite)."""
    G = B[..., obs, :]
    sigma = G @ S @ _t(G)
    try:
        L = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    Li = np.linalg.inv(L)
    K = _t(Li) @ Li
    p = sigma.shape[-1]
    na, ns, nm = ai.size, si.size, mi.size
    C = G @ S @ _t(B)
    mu_full = (B @ M[..., None])[..., 0]
    a = np.zeros(sigma.shape[:-2] + (na + ns + nm, p))
    b = np.zeros_like(a)
    m = np.zeros_like(a)
    a[..., :na, :], b[..., :na, :] = _t(G[..., :, ai]), _t(C[..., :, aj])
    a[..., na:na + ns, :] = _t(G[..., :, si])
    b[..., na:na + ns, :] = _t(G[..., :, sj]) * np.where(si == sj, 0.5, 1.0)[:, None]
    m[..., :na, :] = a[..., :na, :] * mu_full[..., aj, None]
    m[..., na + ns:, :] = _t(G[..., :, mi])
    return RankTwoDerivatives(B, S, G, K, mu_full, obs, a, b, m, na, ns)


def ml_hessian(rt: RankTwoDerivatives, cov: np.ndarray, mean: np.ndarray | None,
               ai: np.ndarray, aj: np.ndarray, si: np.ndarray, sj: np.ndarray,
               mi: np.ndarray) -> np.ndarray:
    """Hessian of one group's F (above) with respect to its free entries, from the sample
    moments ``cov`` (divisor N) and ``mean`` (``None`` without a mean structure)."""
    G, K, B, a, b = rt.G, rt.K, rt.B, rt.a, rt.b
    Q = K @ cov @ K                              # K T K, without the mean part yet
    kd = None
    if mean is not None:
        kd = K @ (mean - rt.mu_full[rt.obs])
        Q = Q + np.outer(kd, kd)
    W = K - Q
    aK, bK = a @ K, b @ K
    KAA, KAB, KBB = aK @ a.T, aK @ b.T, bK @ b.T
    aQ, bQ = a @ Q, b @ Q
    QAA, QAB, QBB = aQ @ a.T, aQ @ b.T, bQ @ b.T
    KBA = KAB.T
    # tr(K Σₖ K Σₗ) and tr(K T K Σₖ K Σₗ) for Σₖ = aₖbₖᵀ + bₖaₖᵀ
    t1 = 2.0 * (KBA * KBA.T + KBB * KAA)
    t2 = KBA * QAB + KBB * QAA + KAA * QBB + KAB * QAB.T
    H = -t1 + t2 + t2.T                         # (t2 is symmetric)
    na, ns = rt.na, rt.ns
    if kd is not None:
        m = rt.m
        Km = m @ K
        cross = (a @ kd)[:, None] * (b @ Km.T) + (b @ kd)[:, None] * (a @ Km.T)
        H += 2.0 * (m @ Km.T) + 2.0 * (cross + cross.T)
    # second derivatives of the model moments, traced against W (and −2 dᵀK for μ)
    Z = G.T @ W @ G
    Y = B @ rt.S @ Z
    sigma_full = B @ rt.S @ B.T
    AA = np.ix_(np.arange(na), np.arange(na))
    I, J = ai[:, None], aj[:, None]              # row entry k = (i, j)
    Ic, Jc = ai[None, :], aj[None, :]            # column entry l = (i', j')
    H[AA] += 2.0 * (B[Jc, I] * Y[J, Ic] + B[J, Ic] * Y[Jc, I] + Z[Ic, I] * sigma_full[J, Jc])
    if ns:
        u, v = si[None, :], sj[None, :]
        AS = 2.0 * (B[J, u] * Z[v, I] + np.where(u != v, B[J, v] * Z[u, I], 0.0))
        H[:na, na:na + ns] += AS
        H[na:na + ns, :na] += AS.T
    if kd is not None:
        gk = G.T @ kd
        mu_full = rt.mu_full
        H[AA] -= 2.0 * (gk[Ic] * B[Jc, I] * mu_full[J] + gk[I] * B[J, Ic] * mu_full[Jc])
        if mi.size:
            AM = -2.0 * gk[I] * B[J, mi[None, :]]
            H[:na, na + ns:] += AM
            H[na + ns:, :na] += AM.T
    H *= 0.5
    return 0.5 * (H + H.T)


def ml_expected_information(rt: RankTwoDerivatives, meanstructure: bool) -> np.ndarray:
    """The expected (Fisher) information per case of one group's free entries: the Hessian
    above at exact fit (T = Σ, d = 0), ½ tr(K Σₖ K Σₗ) + μₖᵀ K μₗ (a stack of them for
    stacked derivatives)."""
    K, a, b = rt.K, rt.a, rt.b
    aK, bK = a @ K, b @ K
    KAA, KAB, KBB = aK @ _t(a), aK @ _t(b), bK @ _t(b)
    info = _t(KAB) * KAB + KBB * KAA             # ½ tr(K Σₖ K Σₗ)
    if meanstructure:
        info += rt.m @ K @ _t(rt.m)
    return 0.5 * (info + _t(info))


def ml_scores(rt: RankTwoDerivatives, y: np.ndarray, mu: np.ndarray, meanstructure: bool
              ) -> np.ndarray:
    """Casewise scores of the normal log-likelihood with respect to the free entries
    (n × r; the sign of −∂ℓᵢ, which the outer products do not see) at the model-implied Σ and
    the given μ (the model's with a mean structure, else the sample mean, as lavaan)."""
    K = rt.K
    z = (y - mu) @ K
    sc = (z @ rt.a.T) * (z @ rt.b.T) - np.einsum("kp,pq,kq->k", rt.a, K, rt.b)
    if meanstructure:
        sc += z @ rt.m.T
    return sc


def _free_entries(lay) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """A group layout's free entries in the order [A, S, M] (their positions, as
    :func:`rank_two_derivatives` takes them) and the free parameter of each."""
    kind = lay.free_kind
    a, s, m = kind == 0, kind == 1, kind == 2
    entries = (lay.free_i[a], lay.free_j[a], lay.free_i[s], lay.free_j[s], lay.free_i[m])
    params = np.concatenate([lay.free_param[a], lay.free_param[s], lay.free_param[m]])
    return entries, params


def _summed_hessian(ram, theta: np.ndarray, parts) -> np.ndarray | None:
    """Σ over groups and over each group's ``parts`` — (observed positions, sample
    covariance and mean over them (mean ``None`` without a mean structure), weight) — of
    weight × :func:`ml_hessian`, scattered to the free parameters (θ-space); ``None`` where
    some Σ(θ) is not positive definite."""
    H = np.zeros((ram.nfree, ram.nfree))
    for lay, mom, group_parts in zip(ram.layouts, ram.moments(theta), parts):
        entries, params = _free_entries(lay)
        Hg = np.zeros((params.size, params.size))
        for obs, cov, mean, weight in group_parts:
            rt = rank_two_derivatives(mom.B, mom.S, mom.M, obs, *entries)
            if rt is None:
                return None
            Hg += weight * ml_hessian(rt, cov, mean, *entries)
        np.add.at(H, np.ix_(params, params), Hg)  # entries that share a label add up
    return H


def ram_observed_information(ram, theta: np.ndarray, covs, means, nobs,
                             meanstructure: bool) -> np.ndarray | None:
    """Hessian of the complete-data ML fit function Σ_g (n_g/N) F_g (θ-space, per case) of a
    :class:`~cbec_sem.engine.ram.RamModel` at θ, from the groups' sample moments (divisor
    n_g); ``None`` where some Σ_g(θ) is not positive definite."""
    nobs = np.asarray(nobs, dtype=float)
    obs = np.arange(ram.p)
    return _summed_hessian(ram, theta, [
        [(obs, covs[g], means[g] if meanstructure else None, nobs[g] / nobs.sum())]
        for g in range(len(ram.layouts))])


def ram_fiml_observed_information(ram, theta: np.ndarray, patterns, weights
                                  ) -> np.ndarray | None:
    """Hessian of the FIML fit function (θ-space, per case) of a
    :class:`~cbec_sem.engine.ram.RamModel` at θ, in closed form.

    FIML's −log L/N is Σ_g Σ_k (n_k/N) F_k, F_k the ML discrepancy above of pattern k's
    observed variables (Σ and μ restricted to them) from the pattern's sample moments
    (divisor n_k; Arbuckle 1996, eq. 5, up to constants), so its Hessian is the sum of the
    patterns' :func:`ml_hessian`, each with G restricted to the pattern's rows.
    ``patterns`` and ``weights`` are, per group, the :class:`~.samplestats.PatternStats` and
    n_k/N of :class:`~.fiml.FIMLFunction`; ``None`` where some Σ_k(θ) is not positive
    definite."""
    parts = []
    for ps, w in zip(patterns, weights):
        group_parts = []
        for k, observed in enumerate(ps.observed):
            obs = np.flatnonzero(observed)
            group_parts.append((obs, ps.covs[k][np.ix_(obs, obs)], ps.means[k][obs], w[k]))
        parts.append(group_parts)
    return _summed_hessian(ram, theta, parts)


def closed_form_hessian(function, theta: np.ndarray) -> np.ndarray | None:
    """The Hessian of an ML or FIML fit function at θ in closed form
    (:func:`ram_observed_information`, :func:`ram_fiml_observed_information`); ``None`` for
    other fit functions (their callers difference the gradient) or where Σ(θ) is not
    positive definite."""
    kind = type(function)
    if kind is MLFunction:
        return ram_observed_information(function.ram, theta, function.covs, function.means,
                                        function.nobs, function.meanstructure)
    if kind is FIMLFunction:
        return ram_fiml_observed_information(function.ram, theta,
                                             [g.ps for g in function.groups],
                                             [g.weights for g in function.groups])
    return None


def observed_information_in_x(function, reparam, x: np.ndarray) -> np.ndarray:
    """The observed information (the Hessian of the fit function, per case) in x-space: in
    closed form for ML and FIML (:func:`closed_form_hessian`), otherwise by central
    differences of the analytic gradient with a step relative to each parameter's scale
    (:func:`.inference.observed_information_x`, as lavaan's ``lav_model_hessian()``)."""
    H = closed_form_hessian(function, reparam.theta(x))
    if H is not None:
        return H if reparam.identity else reparam.basis.T @ H @ reparam.basis
    return observed_information_x(function.evaluate, reparam, x,
                                  parameter_scale(function.evaluate, reparam, x))
