"""Normal-theory ML's observed information and casewise scores in closed form, for a RAM model.

MLR's sandwich A⁻¹ B A⁻¹ needs the observed information A (the Hessian of F) and the
first-order information B (the outer products of the casewise scores).  For

    F(θ) = ½ [log|Σ| + tr(S Σ⁻¹) − log|S| − p + (m − μ)ᵀ Σ⁻¹ (m − μ)],

Σ = G S_θ Gᵀ, μ = G M_θ, G = J B, B = (I − A)⁻¹ (J selects the observed variables; the free
entries are entries of A, of the symmetric S_θ and of M_θ), every first derivative of Σ is of
rank two: for an entry aᵢⱼ of A, ∂Σ = gᵢcⱼᵀ + cⱼgᵢᵀ with gᵢ = G eᵢ and cⱼ = G S Bᵀeⱼ; for an
entry sᵤᵥ of S, ∂Σ = gᵤgᵥᵀ + gᵥgᵤᵀ (gᵤgᵤᵀ on the diagonal).  Written ∂Σₖ = aₖbₖᵀ + bₖaₖᵀ,
every trace the two matrices need is a product aₖᵀXbₗ with X a p × p matrix.  As every aₖ,
bₖ is a scaled column of U = [G, C] (p × 2n), all r² of them are gathered from UᵀXU
(:meth:`RankTwoDerivatives.pairs`: (2n)²p work, not r²p):

* the Hessian (Magnus & Neudecker 1999, ch. 9–10, for the matrix differentials),

      ∂²F/∂θₖ∂θₗ = ½ [ −tr(K Σₖ K Σₗ) + 2 tr(K T K Σₖ K Σₗ) + 2 μₖᵀ K μₗ
                       + 2 dᵀK Σₖ K μₗ + 2 dᵀK Σₗ K μₖ + tr(W Σₖₗ) − 2 dᵀK μₖₗ ],

  with K = Σ⁻¹, d = m − μ, T = S + d dᵀ, W = K − K T K (the gradient's weight matrix) and the
  second derivatives Σₖₗ, μₖₗ of the model moments, non-zero only for A–A, A–S and A–M pairs
  (from ∂B/∂aᵢⱼ = B eᵢeⱼᵀ B);
* the casewise score of row yᵢ with zᵢ = K (yᵢ − μ): ∂ℓᵢ/∂θₖ = (zᵢᵀaₖ)(zᵢᵀbₖ) − aₖᵀK bₖ
  (+ zᵢᵀμₖ with a mean structure), which is the engine's score in (μ, vech Σ)
  (:func:`.gamma.casewise_scores`) times the moment Jacobian Δ, without forming either.

The engine uses these closed forms for ML and FIML fits (:func:`observed_information_in_x`)
and the power study's refits; other fit functions difference the analytic gradient
(:func:`.inference.observed_information_x`, as lavaan's ``lav_model_hessian()``, 2q
gradients), and B can also come from the n × p(p+1)/2 score matrix.  For the 90-parameter
product-indicator model the closed forms take a few milliseconds instead of about a hundred.
Agreement with both is checked in ``tests/resampling/test_observed_information.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fiml import FIMLFunction
from .inference import observed_information_x, parameter_scale
from .ml import MLFunction, add_to_parameters


@dataclass(frozen=True)
class RankTwoDerivatives:
    """One group's model at θ and its first derivatives ∂Σₖ = aₖbₖᵀ + bₖaₖᵀ, ∂μₖ = mₖ, in the
    entry order [A entries, S entries, M entries].

    Every aₖ, bₖ and mₖ is a scaled column of U = [G, C] (p × 2n): aₖ = sa[k] U[:, ia[k]],
    bₖ = sb[k] U[:, ib[k]], mₖ = sm[k] U[:, im[k]] (scale 0 where an entry has no such
    part).  So a product aXbᵀ over all entries is a gather from the 2n × 2n matrix UᵀXU
    (:meth:`pairs`), which costs (2n)²p instead of r²p for r entries: a 1,210-parameter CFA
    has r = 1,210 entries but 2n = 352 columns."""

    B: np.ndarray
    S: np.ndarray
    G: np.ndarray
    K: np.ndarray          # Σ⁻¹
    mu_full: np.ndarray    # B m
    obs: np.ndarray        # positions of the observed variables
    U: np.ndarray          # p × 2n: [G, C]
    ia: np.ndarray
    ib: np.ndarray
    im: np.ndarray
    sa: np.ndarray         # r
    sb: np.ndarray         # r
    sm: np.ndarray         # r (… × r for stacked models: it holds μ)
    na: int
    ns: int

    def side(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The U columns and scales of a (``"a"``), b or m."""
        return {"a": (self.ia, self.sa), "b": (self.ib, self.sb),
                "m": (self.im, self.sm)}[name]

    def pairs(self, V: np.ndarray, left: str, right: str, out: np.ndarray | None = None,
              row_scale: np.ndarray | None = None) -> np.ndarray:
        """left X rightᵀ over all entries (r × r, or a stack) from V = UᵀXU, its rows
        times ``row_scale`` if given; into ``out`` if given (a 2-D one: gathering into a
        reused buffer spares the page faults of a fresh r × r array)."""
        (i, si), (j, sj) = self.side(left), self.side(right)
        if row_scale is not None:
            si = si * row_scale
        rows = V.take(i, axis=-2) * si[..., :, None]
        gathered = rows.take(j, axis=-1, out=out)
        gathered *= sj[..., None, :]
        return gathered

    def vector(self, v: np.ndarray, name: str) -> np.ndarray:
        """side · x over all entries from v = Uᵀx (or rows of them: n × 2n → n × r)."""
        i, s = self.side(name)
        return v[..., i] * s


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
    n = B.shape[-1]
    C = G @ S @ _t(B)
    mu_full = (B @ M[..., None])[..., 0]
    ns, nm = si.size, mi.size
    unused = np.zeros(nm, dtype=np.intp)
    ia = np.concatenate([ai, si, unused])
    ib = np.concatenate([aj + n, sj, unused])
    im = np.concatenate([ai, np.zeros(ns, dtype=np.intp), mi])
    sa = np.concatenate([np.ones(ai.size + ns), np.zeros(nm)])
    sb = np.concatenate([np.ones(ai.size), np.where(si == sj, 0.5, 1.0), np.zeros(nm)])
    lead = mu_full.shape[:-1]
    sm = np.concatenate([mu_full[..., aj], np.zeros(lead + (ns,)), np.ones(lead + (nm,))],
                        axis=-1)
    U = np.concatenate([G, C], axis=-1)
    return RankTwoDerivatives(B, S, G, K, mu_full, obs, U, ia, ib, im, sa, sb, sm,
                              ai.size, ns)


def ml_hessian(rt: RankTwoDerivatives, cov: np.ndarray, mean: np.ndarray | None,
               ai: np.ndarray, aj: np.ndarray, si: np.ndarray, sj: np.ndarray,
               mi: np.ndarray) -> np.ndarray:
    """Hessian of one group's F (above) with respect to its free entries, from the sample
    moments ``cov`` (divisor N) and ``mean`` (``None`` without a mean structure)."""
    G, K, B, U = rt.G, rt.K, rt.B, rt.U
    KU = K @ U
    VK = U.T @ KU                                # Uᵀ K U
    VQ = KU.T @ cov @ KU                         # Uᵀ K T K U, without the mean part yet
    kd = None
    if mean is not None:
        kd = K @ (mean - rt.mu_full[rt.obs])
        ukd = U.T @ kd
        VQ = VQ + np.outer(ukd, ukd)
    # tr(K Σₖ K Σₗ) and tr(K T K Σₖ K Σₗ) for Σₖ = aₖbₖᵀ + bₖaₖᵀ, written with
    # XAB = a X bᵀ gathered from UᵀXU; up to the symmetrisation at the end they sum to
    # 2 [KBB∘(QAA − KAA) + KAA∘QBB + KBA∘(2 QAB − KAB)]
    r = rt.ia.size
    H, buf = np.empty((r, r)), np.empty((r, r))
    rt.pairs(VK, "b", "b", out=H)
    H *= rt.pairs(VQ - VK, "a", "a", out=buf)
    rt.pairs(VK, "a", "a", out=buf)
    buf *= rt.pairs(VQ, "b", "b")
    H += buf
    rt.pairs(VK, "b", "a", out=buf)
    buf *= rt.pairs(2.0 * VQ - VK, "a", "b")
    H += buf
    if kd is not None:
        # 2 μₖᵀKμₗ + 2 dᵀK Σₖ K μₗ + 2 dᵀK Σₗ K μₖ, the last two equal up to symmetrisation
        H += rt.pairs(VK, "m", "m", out=buf)
        H += rt.pairs(VK, "b", "m", out=buf, row_scale=2.0 * rt.vector(ukd, "a"))
        H += rt.pairs(VK, "a", "m", out=buf, row_scale=2.0 * rt.vector(ukd, "b"))
    H *= 2.0
    na, ns = rt.na, rt.ns
    # second derivatives of the model moments, traced against W = K − K T K (and −2 dᵀK
    # for μ): Z = GᵀWG is the G-block of Uᵀ W U = VK − VQ
    n = B.shape[-1]
    Z = VK[:n, :n] - VQ[:n, :n]
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
    U = rt.U
    VK = _t(U) @ rt.K @ U                        # Uᵀ K U
    KAB = rt.pairs(VK, "a", "b")
    info = _t(KAB) * KAB + rt.pairs(VK, "b", "b") * rt.pairs(VK, "a", "a")  # ½ tr(K Σₖ K Σₗ)
    if meanstructure:
        info += rt.pairs(VK, "m", "m")
    return 0.5 * (info + _t(info))


def ml_scores(rt: RankTwoDerivatives, y: np.ndarray, mu: np.ndarray, meanstructure: bool
              ) -> np.ndarray:
    """Casewise scores of the normal log-likelihood with respect to the free entries
    (n × r; the sign of −∂ℓᵢ, which the outer products do not see) at the model-implied Σ and
    the given μ (the model's with a mean structure, else the sample mean, as lavaan)."""
    KU = rt.K @ rt.U
    zU = (y - mu) @ KU                           # zᵢᵀ U
    aKb = rt.sa * rt.sb * (rt.U.T @ KU)[rt.ia, rt.ib]
    sc = rt.vector(zU, "a") * rt.vector(zU, "b") - aKb
    if meanstructure:
        sc += rt.vector(zU, "m")
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
        add_to_parameters(H, params, Hg)  # entries that share a label add up
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
