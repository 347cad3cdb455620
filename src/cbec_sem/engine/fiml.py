"""Full-information maximum likelihood (FIML) for incomplete data: lavaan's ``missing = "ml"``.

Every case contributes the normal log-likelihood of the values it has (Finkbeiner 1979; Arbuckle
1996; Enders 2010, *Applied Missing Data Analysis*, ch. 4).  Cases that share a missingness
pattern share the sub-vector μ_o and sub-matrix Σ_oo they need, so per pattern k — n_k cases,
pattern mean ȳ_k and cross-product matrix S_k (``engine/patterns.py``), d_k = ȳ_k − μ_o,
T_k = S_k + d_k d_kᵀ, K_k = Σ_oo⁻¹ —

    log L(θ) = −½ Σ_k n_k [p_k log 2π + log|Σ_oo| + tr(K_k T_k)],

an O(#patterns · p³) computation.  The fit function is lavaan's

    F(θ) = (log L_H1 − log L(θ)) / N,    χ² = 2 N F(θ̂) = 2 (log L_H1 − log L(θ̂)),

with L_H1 the saturated model fitted by EM (``engine/em.py``).  Groups add up.

Derivatives (the complete-data formulas of ``engine/ml.py`` with pattern weights n_k/N and the
derivative factors restricted to the pattern's observed rows, which the zero-embedded K_k does
by itself): with W = Σ_k (n_k/N) ½ (K_k − K_k T_k K_k) and b = Σ_k (n_k/N) K_k d_k, a
parameter with dΣ = u vᵀ + v uᵀ and dμ = δ has ∂F/∂θ = 2 uᵀ W v − δᵀ b.  The scoring matrix
for the optimiser is the expected information of the incomplete data (the pattern-weighted
complete-data information, Kenward & Molenberghs 1998).  Standard errors use the observed
information (the Hessian of F), lavaan's default for ``missing = "ml"`` (``information =
"observed"``, ``observed.information = "hessian"``), which stays valid under MAR where the
expected one does not (Kenward & Molenberghs 1998; Savalei 2010).

Fit measures (lavaan 0.6-14 ``fitMeasures()`` under ``missing = "ml"``):

* baseline: the independence model fitted by FIML, whose log-likelihood is a sum of univariate
  normal log-likelihoods of each variable's observed values; χ²_b = 2 (log L_H1 − log L_b);
* SRMR, RMR, CRMR: residuals against the EM (H1) moments, which are ``SampleStats.covs/means``;
* GFI/AGFI/PGFI: lavaan's weighted form with the pairwise-complete sample moments (divisor
  N) as "observed" moments and the missing-data expected information at Σ̂ as weight;
* ``.robust`` CFI/TLI/NNFI/RNI/RMSEA: the FIML-corrected indices of Zhang & Savalei (2023,
  *Psychological Methods*, "New computations for RMSEA and CFI following FIML and TS estimation
  with missing data"), lavaan's ``lav_fit_fiml_corrected()``: the complete-data ML χ² of the
  model at θ̂ against the EM moments, T̃ = 2 N F_ML(μ̃, Σ̃; θ̂), with the scaling
  c = tr(W_c W_m⁻¹ U W_m⁻¹)/df (version "V6", ML) or tr(U W_m⁻¹ W_c W_m⁻¹ U Γ)/df (version
  "V3", for a scaled test, Γ = W_m⁻¹ J_m W_m⁻¹), where W_m and J_m are the observed and
  first-order information of the saturated missing-data model at the EM estimates, W_c the
  complete-data information at the EM moments, and U = W_m − W_m Δ (Δᵀ W_m Δ)⁻¹ Δᵀ W_m.

Casewise quantities are exposed for robust (sandwich) inference on top of FIML:
:meth:`FIMLFunction.casewise_scores` and :func:`h1_information` (observed, first-order,
expected information of the saturated model).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import special

from ..errors import CbecSemWarning, EstimationError, SpecError
from .em import LOG_2PI, em_saturated, independence_loglik
from .work_limits import FIML_WORK_LIMIT, em_work, fit_work, robust_work, too_much
from .fitmeasures import (free_covariates, incremental_indices, lav_cfi, lav_rni, lav_tli,
                          rmsea_interval)
from .ml import Evaluation, add_to_parameters, information_rows
from .patterns import InversePlan, PatternStats, inverse_plan, pattern_stats, sub_inverses
from .ram import GroupMoments, RamModel
from .samplestats import SampleStats

__all__ = [
    "FIMLFunction",
    "FimlCorrected",
    "fiml_corrected",
    "fiml_fit_measures",
    "FIML_MOMENT_LIMIT",
    "h1_information",
    "moment_jacobian",
    "pairwise_moments",
    "robust_fiml_measures",
    "vech_index",
]


# --------------------------------------------------------------------------- vech algebra


def vech_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each element of vech (lavaan's order: the lower triangle column by
    column)."""
    cols, rows = np.triu_indices(p)  # (j, i) with i ≥ j in column-major order of the lower part
    return rows, cols


def _dup_kron(A: np.ndarray, B: np.ndarray, I: np.ndarray, J: np.ndarray) -> np.ndarray:
    """Dᵀ (A ⊗ B) D for symmetric A and B (D the duplication matrix), without forming A ⊗ B:
    element (ij, kl) = w_ij w_kl [A_jl B_ik + A_jk B_il + A_il B_jk + A_ik B_jl], w = ½ on the
    diagonal."""
    w = np.where(I == J, 0.5, 1.0)
    out = (A[np.ix_(J, J)] * B[np.ix_(I, I)] + A[np.ix_(J, I)] * B[np.ix_(I, J)]
           + A[np.ix_(I, J)] * B[np.ix_(J, I)] + A[np.ix_(I, I)] * B[np.ix_(J, J)])
    return out * np.outer(w, w)


#: Largest block (elements) of the p² × p² Kronecker sum formed at a time (32 MB).
_KRON_BLOCK_ELEMENTS = 1 << 22


def _dup_kron_sum(A: np.ndarray, B: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ_k w_k Dᵀ (A_k ⊗ B_k) D for stacks of symmetric matrices.

    Element (ij, kl) is w_ij w_kl Σ_k w_k [A_jl B_ik + A_jk B_il + A_il B_jk + A_ik B_jl]
    (:func:`_dup_kron`).  With the symmetric p² × p² matrix
    S[(a,b),(c,d)] = Σ_k w_k (A_k[a,b] B_k[c,d] + B_k[a,b] A_k[c,d]) that is
    w_ij w_kl (S[(j,l),(i,k)] + S[(j,k),(i,l)]): only the rows of S whose first index is j.
    vech orders its elements by j, so S is formed a block of j values at a time (two
    P × p² matrix products per block, ``P`` patterns) and each block's output rows are
    gathered from it: 4·P·p⁴ flops in all, where adding the P patterns' Dᵀ(A_k ⊗ B_k)D one
    by one gathers 8 p*² numbers per pattern (60 variables, 196 patterns: 60 s before,
    about 1 s now)."""
    P, p, _ = A.shape
    I, J = vech_index(p)
    m = I.size
    Av = A.reshape(P, p * p)
    Bv = B.reshape(P, p * p)
    Aw = Av * weights[:, None]
    Bw = Bv * weights[:, None]
    out = np.empty((m, m))
    per_j = max(1, _KRON_BLOCK_ELEMENTS // (p * p * p))
    starts = np.searchsorted(J, np.arange(0, p, per_j))
    for j0, r0 in zip(range(0, p, per_j), starts):
        j1 = min(j0 + per_j, p)
        r1 = int(np.searchsorted(J, j1))
        cols = slice(j0 * p, j1 * p)
        S = Aw[:, cols].T @ Bv + Bw[:, cols].T @ Av      # rows (j, l), j0 ≤ j < j1
        rows = (J[r0:r1, None] - j0) * p
        out[r0:r1] = (S[rows + J[None, :], I[r0:r1, None] * p + I[None, :]]
                      + S[rows + I[None, :], I[r0:r1, None] * p + J[None, :]])
    w = np.where(I == J, 0.5, 1.0)
    out *= w[:, None]
    out *= w[None, :]
    return out


def _not_x(p: int, exo: tuple[int, ...]) -> np.ndarray:
    """Which (mean, vech) elements are not moments of the fixed covariates alone (lavaan's
    ``eliminate.pstar.idx(meanstructure = TRUE)``)."""
    I, J = vech_index(p)
    ex = np.zeros(p, dtype=bool)
    ex[list(exo)] = True
    return np.concatenate([~ex, ~(ex[I] & ex[J])])


def _zero_x(M: np.ndarray, keep: np.ndarray) -> np.ndarray:
    M = M.copy()
    M[~keep] = 0.0
    if M.ndim == 2 and M.shape[1] == keep.size:
        M[:, ~keep] = 0.0
    return M


def _sym_inverse(M: np.ndarray) -> tuple[np.ndarray, bool]:
    """lavaan's ``lav_matrix_symmetric_inverse``: rows/columns that are entirely zero are left
    out of the inversion and stay zero.  Also says whether the rest was inverted exactly (not
    by the pseudo-inverse), so that M⁻ M is the projector onto the kept rows."""
    zero = (np.abs(M).sum(axis=0) == 0) & (np.abs(M).sum(axis=1) == 0)
    out = np.zeros_like(M)
    keep = ~zero
    sub = M[np.ix_(keep, keep)]
    try:
        out[np.ix_(keep, keep)] = np.linalg.inv(sub)
        return out, True
    except np.linalg.LinAlgError:
        out[np.ix_(keep, keep)] = np.linalg.pinv(sub)
        return out, False


# --------------------------------------------------------------------------- the fit function


#: Up to this many variables the expected information is formed from the pattern-weighted
#: Kronecker sum Σ_k w_k K_k ⊗ K_k (p⁴ numbers, a few large matrix products); above it pattern by
#: pattern (less memory).
KRONECKER_MAX_P = 40

#: Largest per-chunk array (elements) of the pattern-wise expected information (128 MB).
_CHUNK_ELEMENTS = 1 << 24


def _expected_rows(K: np.ndarray, w: np.ndarray, U: np.ndarray, V: np.ndarray,
                   D: np.ndarray) -> np.ndarray:
    """Σ_k w_k [½ tr(K_k Σ_a K_k Σ_b) + μ_aᵀ K_k μ_b] for the rank-2 derivatives
    Σ_a = u_a v_aᵀ + v_a u_aᵀ, μ_a = δ_a (the expected information of incomplete data)."""
    P, p, _ = K.shape
    r = U.shape[1]
    rows = D.T @ np.tensordot(w, K, axes=1) @ D
    if p <= KRONECKER_MAX_P:
        flat = K.reshape(P, p * p)
        # R[(j, m), (n, i)] = Σ_k w_k K_k[i, j] K_k[m, n], so ½ vec(Σ_a)ᵀ R vec(Σ_b) is the trace
        R = ((flat.T * w) @ flat).reshape(p, p, p, p).transpose(1, 2, 3, 0).reshape(p * p, p * p)
        Z = (U[:, None, :] * V[None, :, :] + V[:, None, :] * U[None, :, :]).reshape(p * p, r)
        return rows + 0.5 * (Z.T @ (R @ Z))
    # patterns in chunks of at most _CHUNK_ELEMENTS array elements (chunk × p × r and
    # chunk × r × r): ~1,850 patterns of 132 items with 1,210 parameters held 21 GB at once
    chunk = max(1, _CHUNK_ELEMENTS // max(r * max(r, p), 1))
    out = rows
    for start in range(0, P, chunk):
        Kc, wc = K[start:start + chunk], w[start:start + chunk]
        KU, KV = np.matmul(Kc, U), np.matmul(Kc, V)
        ukv = np.matmul(U.T, KV)
        both = ukv.transpose(0, 2, 1) * ukv + np.matmul(U.T, KU) * np.matmul(V.T, KV)
        out = out + np.tensordot(wc, both, axes=1)
    return out


@dataclass(frozen=True)
class _Group:
    ps: PatternStats
    weights: np.ndarray  # n_k / N (N over all groups)
    plan: InversePlan  # index bookkeeping of sub_inverses
    p_obs: np.ndarray  # variables observed per pattern
    loglik_const: float  # −½ Σ n_k p_k log 2π


class FIMLFunction:
    """The FIML fit function of a compiled model on incomplete data.

    Same interface as :class:`~cbec_sem.engine.ml.MLFunction` (``evaluate``, ``value``,
    ``loglik``, ``saturated_loglik``, ``exogenous_loglik``; attributes ``ntotal``, ``nobs``,
    ``weights``, ``covs``, ``means`` — the EM moments —, ``meanstructure``, ``p``), plus the
    casewise log-likelihoods and scores.
    """

    def __init__(self, ram: RamModel, stats: SampleStats, meanstructure: bool,
                 work_limit: float = FIML_WORK_LIMIT, work_done: float = 0.0) -> None:
        if not meanstructure:
            raise SpecError("missing='fiml' models the means: the fit needs meanstructure=True")
        if not stats.patterns or not stats.h1:
            raise SpecError("missing='fiml' needs sample statistics made with missing='fiml'")
        self.ram = ram
        self.stats = stats
        self.meanstructure = True
        #: the fit's limit of work (:mod:`.work_limits`) and the work its EM and fit take: the
        #: robust fit indices are computed only within the rest
        self.work_limit = work_limit
        self.work_done = work_done
        self.nobs = np.asarray(stats.nobs, dtype=float)
        self.ntotal = float(self.nobs.sum())
        self.weights = self.nobs / self.ntotal
        self.covs = stats.covs
        self.means = stats.means
        self.p = ram.p
        self.groups = []
        for ps in stats.patterns:
            p_obs = ps.observed.sum(axis=1)
            self.groups.append(_Group(
                ps=ps,
                weights=ps.counts / self.ntotal,
                plan=inverse_plan(ps.observed),
                p_obs=p_obs,
                loglik_const=float(-0.5 * LOG_2PI * np.dot(ps.counts, p_obs)),
            ))
        self._h1_loglik = float(sum(h.loglik for h in stats.h1))

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self, theta: np.ndarray, gradient: bool = False, information: bool = False
    ) -> Evaluation:
        """F(θ) = (log L_H1 − log L(θ))/N, and optionally its gradient and the expected
        information of the incomplete data (F scale, per observation)."""
        q = self.ram.nfree
        total = self._h1_loglik / self.ntotal
        grad = np.zeros(q) if gradient else None
        info = np.zeros((q, q)) if information else None
        for g, mom in enumerate(self.ram.moments(theta)):
            grp = self.groups[g]
            ps = grp.ps
            try:
                K, logdet = sub_inverses(mom.sigma, ps.observed, grp.plan)
            except np.linalg.LinAlgError:
                return Evaluation(np.inf)
            d = np.where(ps.observed, ps.means - mom.mu, 0.0)
            Kd = np.matmul(K, d[:, :, None])[:, :, 0]
            quad = np.einsum("kij,kij->k", K, ps.covs) + np.einsum("ki,ki->k", d, Kd)
            w = grp.weights
            # −log L_g / N
            total += 0.5 * float(np.dot(w, logdet + quad)) - grp.loglik_const / self.ntotal
            if not (gradient or information):
                continue
            U, V, D = self.ram.derivative_factors(mom, g)
            params = self.ram.layouts[g].free_param
            if gradient:
                KSK = np.matmul(np.matmul(K, ps.covs), K)
                W = 0.5 * (np.tensordot(w, K - KSK, axes=1) - (Kd.T * w) @ Kd)
                row_grad = 2.0 * np.einsum("pr,pr->r", U, W @ V) - D.T @ (w @ Kd)
                np.add.at(grad, params, row_grad)
            if information:
                if self.p > KRONECKER_MAX_P:
                    rows = self._gathered_information(mom, g, K, w)
                else:
                    rows = _expected_rows(K, w, U, V, D)
                if np.array_equal(params, np.arange(q)):
                    info += rows
                else:
                    add_to_parameters(info, params, rows)
        return Evaluation(total, grad, info)

    def _gathered_information(self, mom: GroupMoments, g: int, K: np.ndarray,
                              w: np.ndarray) -> np.ndarray:
        """Σ_k w_k × the complete-data expected information of pattern k's K_k, each gathered
        from the c × c matrix Zᵀ K_k Z (c ≤ 2n distinct derivative columns,
        :func:`.ml.information_rows`) instead of formed from r × p × r products: 3 patterns
        of 132 items with 1,342 free rows took 1.2 s per evaluation by the products, 0.1 s
        gathered (issue 14)."""
        idx = self.ram.derivative_index[g]
        Z = self.ram.derivative_columns(mom, g)
        means = idx.has_d
        Gd = factor = None
        if means:  # d_k = G[:, d_cols[d[k]]] · factor_k, as MLFunction
            Gd = mom.G[:, idx.d_cols]
            factor = idx.d_const.copy()
            on_path = idx.d_bm >= 0
            if on_path.any():
                factor[on_path] = mom.B[idx.d_bm[on_path]] @ mom.M
        out = None
        for Kk, wk in zip(K, w):
            M = Z.T @ (Kk @ Z)
            M = 0.5 * (M + M.T)
            Md = None
            if means:
                Md = Gd.T @ (Kk @ Gd)
                Md = 0.5 * (Md + Md.T)
            rows = information_rows(M, idx, Md, factor)
            rows *= wk
            if out is None:
                out = rows
            else:
                out += rows
        return out

    def value(self, theta: np.ndarray) -> float:
        return self.evaluate(theta).value

    def loglik(self, theta: np.ndarray) -> float:
        """The observed-data log-likelihood log L(θ)."""
        return -self.ntotal * self.value(theta) + self._h1_loglik

    def saturated_loglik(self) -> float:
        """log L of the saturated model (EM estimates): lavaan's ``unrestricted.logl``."""
        return self._h1_loglik

    def exogenous_loglik(self, exo_index: tuple[int, ...]) -> float:
        """Saturated log-likelihood of the fixed exogenous covariates alone (complete by
        construction: cases missing on them were dropped, as lavaan does)."""
        if not exo_index:
            return 0.0
        idx = list(exo_index)
        k = len(idx)
        return float(sum(
            -0.5 * n * (k * LOG_2PI + np.linalg.slogdet(c[np.ix_(idx, idx)])[1] + k)
            for n, c in zip(self.nobs, self.covs)
        ))

    # ------------------------------------------------------------------ casewise
    def _casewise(self, theta: np.ndarray, scores: bool):
        moments = self.ram.moments(theta)
        out = []
        for g, mom in enumerate(moments):
            ps = self.groups[g].ps
            K, logdet = sub_inverses(mom.sigma, ps.observed)
            e = np.where(np.isnan(ps.data), 0.0, ps.data - mom.mu)
            Ke = np.einsum("nij,nj->ni", K[ps.case_pattern], e)
            if not scores:
                p_obs = self.groups[g].p_obs[ps.case_pattern]
                out.append(-0.5 * (p_obs * LOG_2PI + logdet[ps.case_pattern]
                                   + np.einsum("ni,ni->n", e, Ke)))
                continue
            U, V, D = self.ram.derivative_factors(mom, g)
            ukv = np.einsum("pr,kpq,qr->kr", U, K, V)  # diag(Uᵀ K_k V) per pattern
            sc_rows = (Ke @ U) * (Ke @ V) - ukv[ps.case_pattern] + Ke @ D
            sc = np.zeros((ps.nobs, self.ram.nfree))
            np.add.at(sc.T, self.ram.layouts[g].free_param, sc_rows.T)
            out.append(sc)
        return out

    def casewise_loglik(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per group, the log-likelihood of each case (rows of ``stats.data[g]``)."""
        return self._casewise(theta, scores=False)

    def casewise_scores(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per group, ∂ log L_i/∂θ for each case (rows of ``stats.data[g]``; n_g × q).
        Their sum over all cases is −N ∇F(θ); their mean outer product is the first-order
        information (the meat of lavaan's MLR sandwich under FIML)."""
        return self._casewise(theta, scores=True)

    # ------------------------------------------------------------------ fit measures
    def adjust_fit_measures(self, measures: pd.Series, theta: np.ndarray, reparam,
                            information: str = "observed") -> pd.Series:
        """The complete-data fit measures made right for FIML (see the module docstring);
        ``information`` is the fit's (it enters the FIML-corrected robust indices).
        Where θ gives no valid model (a fit that failed), ``measures`` come back unchanged:
        the caller reports no fit measures for it anyway."""
        if not np.isfinite(self.value(theta)):
            return measures
        return fiml_fit_measures(self, measures, theta, reparam, information)


# --------------------------------------------------------------------------- moment-level


def moment_jacobian(ram: RamModel, mom: GroupMoments, g: int) -> np.ndarray:
    """Δ_g = ∂(μ, vech Σ)/∂θ of group ``g`` ((p + p*) × q, lavaan's row order)."""
    U, V, D = ram.derivative_factors(mom, g)
    I, J = vech_index(ram.p)
    rows = np.vstack([D, U[I] * V[J] + V[I] * U[J]])
    delta = np.zeros((rows.shape[0], ram.nfree))
    np.add.at(delta.T, ram.layouts[g].free_param, rows.T)
    return delta


def _complete_information(sigma: np.ndarray) -> np.ndarray:
    """Unit expected information of (μ, vech Σ) for complete data: K ⊕ ½ Dᵀ(K ⊗ K)D."""
    p = sigma.shape[0]
    K = np.linalg.inv(sigma)
    I, J = vech_index(p)
    out = np.zeros((p + I.size, p + I.size))
    out[:p, :p] = K
    out[p:, p:] = 0.5 * _dup_kron(K, K, I, J)
    return out


def h1_information(
    ps: PatternStats, mu: np.ndarray, sigma: np.ndarray, kind: str,
    exo_index: tuple[int, ...] = (),
) -> np.ndarray:
    """Unit information of the saturated missing-data model in (μ, vech Σ) at (``mu``,
    ``sigma``) — lavaan's ``lav_mvnorm_missing_information_*``:

    * ``"observed"``: −(1/N) ∂² log L; per pattern the mean block n_k K, the cross block
      n_k Dᵀ(K d ⊗ K) and the covariance block ½ n_k Dᵀ(K ⊗ K(2T − Σ_oo)K)D;
    * ``"expected"``: (1/N) Σ_k n_k [K_k ⊕ ½ Dᵀ(K_k ⊗ K_k)D] (valid under MCAR);
    * ``"firstorder"``: the mean outer product of the casewise scores
      (K e, vech-weighted ½(K e eᵀ K − K)).

    Rows and columns of the fixed covariates' own moments are zero.
    """
    p = sigma.shape[0]
    I, J = vech_index(p)
    m = p + I.size
    N = ps.nobs
    K_all, _ = sub_inverses(sigma, ps.observed)
    out = np.zeros((m, m))
    if kind == "firstorder":
        e = np.where(np.isnan(ps.data), 0.0, ps.data - mu)
        Kc = K_all[ps.case_pattern]
        Ke = np.einsum("nij,nj->ni", Kc, e)
        G = 0.5 * (Ke[:, :, None] * Ke[:, None, :] - Kc)
        scale = np.where(I == J, 1.0, 2.0)
        sc = np.hstack([Ke, G[:, I, J] * scale])
        out = sc.T @ sc / N
    elif kind in ("observed", "expected"):
        n = ps.counts.astype(float)
        out[:p, :p] = np.tensordot(n, K_all, axes=1)
        if kind == "expected":
            out[p:, p:] = 0.5 * _dup_kron_sum(K_all, K_all, n)
        else:
            d = np.where(ps.observed, ps.means - mu, 0.0)
            a = np.matmul(K_all, d[:, :, None])[:, :, 0]
            w = np.where(I == J, 0.5, 1.0)[:, None]
            cross = w * (np.einsum("k,kq,kqm->qm", n, a[:, J], K_all[:, I, :])
                         + np.einsum("k,kq,kqm->qm", n, a[:, I], K_all[:, J, :]))
            out[p:, :p] = cross
            out[:p, p:] = cross.T
            T = ps.covs + d[:, :, None] * d[:, None, :]
            sig_oo = np.where(ps.observed[:, :, None] & ps.observed[:, None, :], sigma, 0.0)
            inner = np.matmul(np.matmul(K_all, 2.0 * T - sig_oo), K_all)
            out[p:, p:] = 0.5 * _dup_kron_sum(K_all, inner, n)
    else:
        raise ValueError(f"kind={kind!r}: choose 'observed', 'expected' or 'firstorder'")
    if kind != "firstorder":
        out /= N
    if exo_index:
        out = _zero_x(out, _not_x(p, exo_index))
    return out


def pairwise_moments(ps: PatternStats) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's ``SampleStats@mean/cov`` under ``missing = "ml"``: the means of the observed
    values and the pairwise-complete covariances (R's ``cov(use = "pairwise")``, divisor
    n_ij − 1) rescaled by (N − 1)/N."""
    x = ps.data
    O = (~np.isnan(x)).astype(float)
    X = np.where(O > 0, x, 0.0)
    n_ij = O.T @ O
    sxy = X.T @ X
    sx = X.T @ O  # [i, j]: Σ x_i over the cases observing both i and j
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (sxy - sx * sx.T / n_ij) / (n_ij - 1.0)
    cov[~np.isfinite(cov)] = 0.0
    N = ps.nobs
    mean = X.sum(axis=0) / O.sum(axis=0)
    return mean, cov * (N - 1.0) / N


# --------------------------------------------------------------------------- FIML-corrected

#: Largest number of sample moments, Σ_g (p + p(p+1)/2), for which MLR's scaled test under
#: FIML (``engine/robust.py``) runs: it inverts and multiplies the saturated missing-data
#: model's moments × moments matrices, work that grows with the cube of that number (about 1 s
#: of CPU at 1,080 moments (45 items), 5 s at 1,890 (60 items), minutes at 8,910 (132 items);
#: ``benchmarks/bench_hostile.py``).  Above it MLR with FIML is refused before the fit, naming
#: the alternatives (issue 14).  (The FIML-corrected ``.robust`` indices of an ML fit are
#: bounded by the work limit of :mod:`.work_limits` instead.)
FIML_MOMENT_LIMIT = 2000


def moment_count(p: int, ngroups: int) -> int:
    """Means, variances and covariances of p variables in ngroups groups."""
    return ngroups * (p + p * (p + 1) // 2)


def check_fiml_work(stats: SampleStats, ram: RamModel, limit: float) -> float:
    """The work of a FIML fit (:mod:`.work_limits`: the EM's iterations done and P · r² per
    group), refused above ``limit`` units before the model is fitted.

    Raises:
        EstimationError: naming the patterns, the variables, the free entries and the option
            that allows it.
    """
    work = sum(h1.iterations * em_work(ps.observed) + fit_work(ps.observed, lay.free_param.size)
               for ps, h1, lay in zip(stats.patterns, stats.h1, ram.layouts))
    if work > limit:
        npat = sum(len(ps.counts) for ps in stats.patterns)
        entries = sum(lay.free_param.size for lay in ram.layouts)
        raise EstimationError(
            f"missing='fiml' is not run on these data: the fit over {npat:,} distinct "
            f"missing-data patterns of {ram.p} variables, with {entries:,} free entries in "
            "the model's matrices, " + too_much(work, limit, "")
            + "; or use missing='listwise' (the complete rows), fewer items, or a model with "
            "fewer free parameters")
    return work


def check_mlr_fiml_size(p: int, ngroups: int) -> None:
    """Refuses MLR with FIML above :data:`FIML_MOMENT_LIMIT` moments: its scaled test inverts
    the saturated model's moments × moments information.  Called before the fit (so the
    refusal costs no optimisation) and by :func:`cbec_sem.engine.robust.robust_estimation`.

    Raises:
        EstimationError: naming the variables, the limit and the alternatives.
    """
    nmom = moment_count(p, ngroups)
    if nmom > FIML_MOMENT_LIMIT:
        raise EstimationError(
            f"estimator='MLR' with missing='fiml' is not computed for {p} variables: its "
            f"scaled test inverts the saturated model's {nmom:,} x {nmom:,} moment "
            f"information, more than cbec_sem.engine.fiml.FIML_MOMENT_LIMIT = "
            f"{FIML_MOMENT_LIMIT:,} (work growing with its cube: minutes beyond about 100 "
            "variables); use estimator='ML' with missing='fiml', or estimator='MLR' with "
            "missing='listwise' (seconds), or raise that limit")



@dataclass(frozen=True)
class FimlCorrected:
    """lavaan's ``lav_fit_fiml_corrected()``: the FIML-corrected statistics of the model and of
    the baseline model (Zhang & Savalei 2023)."""

    chisq: float  # XX3
    df: int
    c_hat: float
    chisq_scaled: float
    chisq_null: float
    df_null: int
    c_hat_null: float


def _ml_discrepancy(n: float, S: np.ndarray, m: np.ndarray, sigma: np.ndarray,
                    mu: np.ndarray) -> float:
    """2 n F_ML of (S, m) against (Σ, μ)."""
    K = np.linalg.inv(sigma)
    d = m - mu
    p = S.shape[0]
    f = (np.linalg.slogdet(sigma)[1] + np.sum(S * K) - np.linalg.slogdet(S)[1] - p
         + d @ K @ d)
    return float(n * f)


def fiml_corrected(
    function: FIMLFunction, theta: np.ndarray, reparam, df: int, df_null: int,
    version: str = "V6", information: str = "observed",
) -> FimlCorrected:
    """The FIML-corrected χ², its scaling factor and the baseline's (``version`` "V6" for a
    standard test, "V3" for a scaled one; lavaan 0.6-14's definitions).  ``information`` is
    the fit's: the model information Δᵀ W Δ in U uses the observed (default) or expected
    information of the saturated model at the EM estimates, as lavaan's
    ``lavTech(fit, "inverted.information")`` with ``h1.information = "unstructured"``."""
    ram = function.ram
    stats = function.stats
    exo = tuple(stats.names.index(v) for v in ram.partable.roles.ov_x)
    free_x = free_covariates(function)
    p = ram.p
    fg = function.weights
    moments = ram.moments(theta)
    if information not in ("observed", "expected"):
        raise ValueError(f"information={information!r}: choose 'observed' or 'expected'")
    Wm, Wmi, Wc, Gam, We, deltas, deltas_b = [], [], [], [], [], [], []
    exact = True   # every group's Wm inverted exactly (Wm⁻ Wm the projector onto its rows)
    xx3 = xx3_null = 0.0
    # lavaan refits the model to the EM moments with lavaan()'s default fixed.x = TRUE
    # ("fit.tilde" in lav_fit_fiml_corrected), so Wc, the complete-data information of that
    # refit, leaves out the moments of the observed covariates (lavaan's ov.x) even when the
    # user's fit has fixed.x = FALSE; Wm, from the user's fit, keeps them.
    x_tilde = tuple(stats.names.index(v) for v in ram.partable.roles.ov_x_all)
    not_x = _not_x(p, exo or x_tilde)
    for g, mom in enumerate(moments):
        ps = function.groups[g].ps
        h1 = stats.h1[g]
        w_m = h1_information(ps, h1.mean, h1.cov, "observed", exo)
        w_mi, inverted = _sym_inverse(w_m)
        exact = exact and inverted
        Wm.append(fg[g] * w_m)
        Wmi.append(w_mi / fg[g])
        if information == "expected":
            We.append(fg[g] * h1_information(ps, h1.mean, h1.cov, "expected", exo))
        Wc.append(fg[g] * _zero_x(_complete_information(h1.cov), not_x))
        if version == "V3":
            j_m = h1_information(ps, h1.mean, h1.cov, "firstorder", exo)
            Gam.append(w_mi @ j_m @ w_mi / fg[g])
        deltas.append(moment_jacobian(ram, mom, g))
        n_g = function.nobs[g]
        xx3 += _ml_discrepancy(n_g, h1.cov, h1.mean, mom.sigma, mom.mu)
        # the baseline fitted by FIML: observed means and variances, covariates' block fixed
        mean_b, var_b = _independence_estimates(ps)
        sig_b = np.diag(var_b)
        if exo:
            sig_b[np.ix_(exo, exo)] = h1.cov[np.ix_(exo, exo)]
            mean_b[list(exo)] = h1.mean[list(exo)]
        pairs = list(combinations(free_x, 2))
        if free_x:  # fixed_x=False: the covariates' block is saturated, fitted by EM
            xs = list(free_x)
            sub = ps.data[:, xs]
            em_x = em_saturated(pattern_stats(sub[~np.isnan(sub).all(axis=1)],
                                              tuple(stats.names[k] for k in xs)))
            sig_b[np.ix_(xs, xs)] = em_x.cov
            mean_b[xs] = em_x.mean
        xx3_null += _ml_discrepancy(n_g, h1.cov, h1.mean, sig_b, mean_b)
        I, J = vech_index(p)
        endo = [j for j in range(p) if j not in exo]
        db = np.zeros((p + I.size, 2 * len(endo) + len(pairs)))
        for c, j in enumerate(endo):
            db[j, c] = 1.0
            db[p + np.flatnonzero((I == j) & (J == j))[0], len(endo) + c] = 1.0
        for c, (a, b) in enumerate(pairs, start=2 * len(endo)):
            db[p + np.flatnonzero(((I == a) & (J == b)) | ((I == b) & (J == a)))[0], c] = 1.0
        deltas_b.append(db)
    Wm_all = _bdiag(Wm)
    Wmi_all = _bdiag(Wmi)
    Wc_all = _bdiag(Wc)
    delta = np.vstack(deltas)
    W_info = Wm_all if information == "observed" else _bdiag(We)
    B = reparam.basis
    E = B.T @ delta.T @ W_info @ delta @ B
    E_inv = B @ np.linalg.inv(E) @ B.T
    delta_b = _bdiag(deltas_b)
    E_b = delta_b.T @ W_info @ delta_b
    E_b_inv = np.linalg.inv(E_b)
    if version == "V6" and exact:
        # tr(Wc Wm⁻ U Wm⁻) with U = Wm − Wm Δ E⁻¹ Δᵀ Wm, Wm⁻ Wm = Wm Wm⁻ = P (the
        # projector onto the rows kept) and Wm⁻ Wm Wm⁻ = Wm⁻:
        #   tr(Wc Wm⁻) − tr(E⁻¹ Δᵀ P Wc P Δ),
        # sums of elementwise products instead of four p* × p* matrix products per model
        kept = (np.abs(Wm_all).sum(axis=1) > 0)[:, None]
        base = float(np.sum(Wc_all * Wmi_all))

        def trace_v6(d: np.ndarray, inv: np.ndarray) -> float:
            d_kept = d * kept
            return base - float(np.sum(inv * (d_kept.T @ Wc_all @ d_kept)))

        k, k_b = trace_v6(delta, E_inv), trace_v6(delta_b, E_b_inv)
    else:
        U = Wm_all - Wm_all @ delta @ E_inv @ delta.T @ Wm_all
        U_b = Wm_all - Wm_all @ delta_b @ E_b_inv @ delta_b.T @ Wm_all
        if version == "V3":
            Gam_all = _bdiag(Gam)
            mid = Wmi_all @ Wc_all @ Wmi_all
            k = float(np.trace(U @ mid @ U @ Gam_all))
            k_b = float(np.trace(U_b @ mid @ U_b @ Gam_all))
        elif version == "V6":
            k = float(np.trace(Wc_all @ Wmi_all @ U @ Wmi_all))
            k_b = float(np.trace(Wc_all @ Wmi_all @ U_b @ Wmi_all))
        else:
            raise ValueError(f"version={version!r}: choose 'V3' or 'V6'")
    c_hat = k / df if df > 0 else np.nan
    c_hat_null = k_b / df_null if df_null > 0 else np.nan
    return FimlCorrected(
        chisq=xx3, df=df, c_hat=c_hat, chisq_scaled=xx3 / c_hat if df > 0 else np.nan,
        chisq_null=xx3_null, df_null=df_null, c_hat_null=c_hat_null,
    )


def _bdiag(blocks: list[np.ndarray]) -> np.ndarray:
    rows = sum(b.shape[0] for b in blocks)
    cols = sum(b.shape[1] for b in blocks)
    out = np.zeros((rows, cols))
    r = c = 0
    for b in blocks:
        out[r:r + b.shape[0], c:c + b.shape[1]] = b
        r += b.shape[0]
        c += b.shape[1]
    return out


def _independence_estimates(ps: PatternStats) -> tuple[np.ndarray, np.ndarray]:
    x = ps.data
    obs = ~np.isnan(x)
    n_j = obs.sum(axis=0)
    mean = np.where(obs, x, 0.0).sum(axis=0) / n_j
    var = np.where(obs, (x - mean) ** 2, 0.0).sum(axis=0) / n_j
    return mean, var


# --------------------------------------------------------------------------- fit measures

# lavaan 0.6-14 incremental and RMSEA helpers with a scaling c ("robust" versions when c ≠ 1).


def _gfi(function: FIMLFunction, theta: np.ndarray, exo: tuple[int, ...]) -> float:
    """lavaan's GFI under ``missing = "ml"``: 1 − eᵀWe/sᵀWs with s the pairwise-complete
    moments, e = s − (μ̂, vech Σ̂) and W the missing-data expected information at Σ̂."""
    values = []
    for g, mom in enumerate(function.ram.moments(theta)):
        ps = function.groups[g].ps
        mean, cov = pairwise_moments(ps)
        K, _ = sub_inverses(mom.sigma, ps.observed)
        w = ps.counts / ps.nobs
        E = cov - mom.sigma
        S0 = cov.copy()
        e = mean - mom.mu
        m0 = mean.copy()
        if exo:
            ix = list(exo)
            E[np.ix_(ix, ix)] = 0.0
            S0[np.ix_(ix, ix)] = 0.0
            e[ix] = 0.0
            m0[ix] = 0.0
        KE = np.matmul(K, E)
        KS = np.matmul(K, S0)
        t1 = np.dot(w, 0.5 * np.einsum("kij,kji->k", KE, KE) + np.einsum("i,kij,j->k", e, K, e))
        t2 = np.dot(w, 0.5 * np.einsum("kij,kji->k", KS, KS) + np.einsum("i,kij,j->k", m0, K, m0))
        values.append(1.0 - t1 / t2)
    return float(np.dot(function.weights, values))


def fiml_fit_measures(
    function: FIMLFunction, measures: pd.Series, theta: np.ndarray, reparam,
    information: str = "observed",
) -> pd.Series:
    """lavaan's ``fitMeasures()`` under ``missing = "ml"`` from the complete-data measures of
    :func:`~cbec_sem.engine.fitmeasures.fit_measures` (computed on the EM moments, which gives
    χ², RMSEA, SRMR, logL, AIC, BIC right): the FIML baseline, the incremental indices that
    use it, GFI/AGFI/PGFI, and the FIML-corrected ``.robust`` indices."""
    stats = function.stats
    exo = tuple(stats.names.index(v) for v in function.ram.partable.roles.ov_x)
    free_x = free_covariates(function)
    out = measures.copy()
    N = function.ntotal
    G = stats.ngroups
    x2 = float(out["chisq"])
    df = int(out["df"])
    bdf = int(out["baseline.df"]) - G * len(free_x) * (len(free_x) - 1) // 2
    logl_b = sum(independence_loglik(ps, exo or free_x, free_exo=bool(free_x))
                 for ps in stats.patterns)
    b2 = 2.0 * (function.saturated_loglik() - logl_b)
    for name, value in incremental_indices(x2, df, b2, bdf).items():
        out[name] = value
    gfi = _gfi(function, theta, exo)
    p = function.p
    nel = G * (p * (p + 1) // 2 + p)
    out["gfi"] = gfi
    out["agfi"] = 1.0 - (nel / df) * (1.0 - gfi) if df > 0 else 1.0
    out["pgfi"] = (df / nel) * gfi
    work = sum(robust_work(ps.observed) for ps in stats.patterns)
    if function.work_done + work > function.work_limit:
        warnings.warn(CbecSemWarning(
            "the FIML-corrected robust fit indices (cfi.robust, tli.robust, rmsea.robust; "
            f"Zhang & Savalei 2023) are not computed: their work over {function.p} variables "
            f"and {sum(len(ps.counts) for ps in stats.patterns):,} missing-data patterns "
            + too_much(function.work_done + work, function.work_limit, "with the fit")),
            stacklevel=2)
        fc = FimlCorrected(np.nan, df, np.nan, np.nan, np.nan, bdf, np.nan)
    else:
        try:
            fc = fiml_corrected(function, theta, reparam, df, bdf, "V6", information)
        except (np.linalg.LinAlgError, ValueError):  # lavaan: "computation of robust CFI failed"
            fc = FimlCorrected(np.nan, df, np.nan, np.nan, np.nan, bdf, np.nan)
    robust = robust_fiml_measures(fc, N, G)
    return _insert_robust(out, robust)


def robust_fiml_measures(fc: FimlCorrected, ntotal: float, ngroups: int) -> dict[str, float]:
    """The ``.robust`` CFI/TLI/NNFI/RNI and RMSEA (with interval and p-values) from the
    FIML-corrected statistics (lavaan's ``lav_fit_cfi_lavobject`` / ``lav_fit_rmsea_lavobject``
    with ``fiml.flag``)."""
    N, G = float(ntotal), int(ngroups)
    x3, df, c = fc.chisq, fc.df, fc.c_hat
    b3, bdf, cb = fc.chisq_null, fc.df_null, fc.c_hat_null
    x3s = fc.chisq_scaled
    lo, hi = rmsea_interval(x3s, df, N, G, c)

    def p_close(h0, close):
        if not (np.isfinite(x3s) and df > 0):
            return np.nan
        v = float(special.chndtr(x3s, df, N * df * h0**2 / c / G))
        return 1.0 - v if close else v

    return {
        "cfi.robust": lav_cfi(x3, df, b3, bdf, c, cb),
        "tli.robust": lav_tli(x3, df, b3, bdf, c, cb),
        "nnfi.robust": lav_tli(x3, df, b3, bdf, c, cb),
        "rni.robust": lav_rni(x3, df, b3, bdf, c, cb),
        "rmsea.robust": (float(np.sqrt(max(x3 / N / df - c / N, 0.0)) * np.sqrt(G))
                         if df > 0 and np.isfinite(x3) else (0.0 if df <= 0 else np.nan)),
        "rmsea.ci.lower.robust": lo,
        "rmsea.ci.upper.robust": hi,
        "rmsea.pvalue.robust": p_close(0.05, True),
        "rmsea.notclose.pvalue.robust": p_close(0.08, False),
    }


#: Where lavaan 0.6-14 puts the ``.robust`` entries of a FIML fit: after these names.
_ROBUST_AFTER = {
    "tli": ("cfi.robust", "tli.robust"),
    "rni": ("nnfi.robust", "rni.robust"),
    "rmsea.notclose.h0": ("rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust",
                          "rmsea.pvalue.robust", "rmsea.notclose.pvalue.robust"),
}


def _insert_robust(measures: pd.Series, robust: dict[str, float]) -> pd.Series:
    out: dict[str, float] = {}
    for name, value in measures.items():
        if name in robust:
            continue
        out[name] = value
        for extra in _ROBUST_AFTER.get(name, ()):
            out[extra] = robust[extra]
    for name, value in robust.items():
        out.setdefault(name, value)
    return pd.Series(out, dtype=float, name=measures.name)
