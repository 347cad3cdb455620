"""Normal-theory maximum likelihood: the fit function, its gradient and information matrix.

lavaan's ML fit function (Rosseel 2012; Bollen 1989, eq. 4.67, with the mean part of
Jöreskog & Sörbom's LISREL) for groups g with n_g of N observations:

    F(θ) = Σ_g (n_g/N) · ½ [ log|Σ_g| + tr(S_g Σ_g⁻¹) − log|S_g| − p
                             + (x̄_g − μ_g)ᵀ Σ_g⁻¹ (x̄_g − μ_g) ],

so that the likelihood-ratio statistic is χ² = 2 N F(θ̂) and F = −logL/N + const.

Gradient (Neudecker & Satorra 1991): with K = Σ⁻¹, d = x̄ − μ and
W = ½ (K − K (S + d dᵀ) K), a parameter whose derivatives are dΣ = u vᵀ + v uᵀ, dμ = δ has
∂F_g/∂θ = 2 uᵀ W v − δᵀ K d.

Expected (Fisher) information per observation (Bollen 1989, eq. 4.73 with means):
I_ab = ½ tr(K Σ_a K Σ_b) + μ_aᵀ K μ_b, which for rank-2 derivatives is
I_ab = (vₐᵀKu_b)(uₐᵀKv_b) + (uₐᵀKu_b)(vₐᵀKv_b) + δₐᵀKδ_b.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dpotrf as _potrf, dpotri as _potri

from .ram import DerivativeIndex, RamModel
from .samplestats import SampleStats
from .fitmeasures import free_covariates, free_x_baseline


def inverse_logdet(sigma: np.ndarray) -> tuple[np.ndarray | None, float]:
    """Σ⁻¹ and log|Σ| from one Cholesky factorisation (LAPACK ``dpotrf``, ``dpotri``), or
    ``(None, nan)`` when Σ is not positive definite."""
    chol, fail = _potrf(sigma, lower=1, clean=1)  # (clean: zeros above the diagonal)
    if fail:
        return None, np.nan
    logdet = 2.0 * float(np.log(chol.diagonal()).sum())
    low, fail = _potri(chol, lower=1, overwrite_c=1)
    if fail:
        return None, np.nan
    K = low + low.T
    np.fill_diagonal(K, low.diagonal())
    return K, logdet


#: Rows of the information assembled at a time: the gathers' temporaries stay in cache and
#: are reused, instead of four fresh q × q arrays per evaluation (with 1,210 parameters each
#: new 12 MB array cost ~3 ms in page faults alone).
_BLOCK = 64


def information_rows(M: np.ndarray, idx: DerivativeIndex, Md: np.ndarray | None = None,
                     factor: np.ndarray | None = None) -> np.ndarray:
    """The expected information of one group's free rows (unweighted, per observation):

        I_ab = (vₐᵀKu_b)(uₐᵀKv_b) + (uₐᵀKu_b)(vₐᵀKv_b) + dₐᵀKd_b

    with uₐᵀKv_b = M[u[a], v[b]] (M = Zᵀ K Z, :class:`~.ram.DerivativeIndex`) and, when
    ``Md`` = G_dᵀ K G_d is given, dₐᵀKd_b = Md[d[a], d[b]]·factor_a·factor_b."""
    u, v = idx.u, idx.v
    r = len(u)
    out = np.empty((r, r))
    Mu, Mv = M[u], M[v]
    if Md is not None:
        Mdd = Md[idx.d]
    width = min(_BLOCK, r) if r else 0
    t1 = np.empty((width, r))
    t2 = np.empty((width, r))
    for a in range(0, r, _BLOCK):
        b = min(a + _BLOCK, r)
        blk = out[a:b]
        k = b - a
        x1, x2 = t1[:k], t2[:k]
        np.take(Mu[a:b], v, axis=1, out=blk)  # uₐᵀKv_b
        np.take(Mv[a:b], u, axis=1, out=x1)  # vₐᵀKu_b
        blk *= x1
        np.take(Mu[a:b], u, axis=1, out=x1)
        np.take(Mv[a:b], v, axis=1, out=x2)
        x1 *= x2
        blk += x1
        if Md is not None:
            np.take(Mdd[a:b], idx.d, axis=1, out=x1)
            np.multiply(factor[a:b, None], factor, out=x2)  # (f_a f_b: exactly symmetric)
            x1 *= x2
            blk += x1
    return out


def add_to_parameters(out: np.ndarray, params: np.ndarray, rows: np.ndarray) -> None:
    """out[params[a], params[b]] += rows[a, b] for a matrix over free entries (rows) and the
    parameter of each entry, entries that share a parameter (equal labels) adding up:
    ``np.add.at(out, np.ix_(params, params), rows)``'s result by one bincount (np.add.at's
    per-element dispatch took 40 ms a call for the 1,300 entries of a 44-construct model
    with equal loadings)."""
    q = out.shape[0]
    flat = (params[:, None] * q + params[None, :]).ravel()
    out += np.bincount(flat, weights=rows.ravel(), minlength=q * q).reshape(q, q)


@dataclass
class Evaluation:
    """What one evaluation of the fit function returns (``None`` where not asked for)."""

    value: float
    gradient: np.ndarray | None = None
    information: np.ndarray | None = None


class MLFunction:
    """The ML fit function of a compiled model on given sample statistics."""

    def __init__(self, ram: RamModel, stats: SampleStats, meanstructure: bool) -> None:
        self.ram = ram
        self.stats = stats
        self.meanstructure = meanstructure
        self.nobs = np.asarray(stats.nobs, dtype=float)
        self.ntotal = float(self.nobs.sum())
        self.weights = self.nobs / self.ntotal
        self.covs = stats.covs
        self.means = stats.means
        self.logdet_s = stats.logdet_covs
        self.p = ram.p
        self._unique = [np.unique(lay.free_param).size == lay.free_param.size
                        for lay in ram.layouts]
        #: the group's free rows are θ in order (one group, no shared labels): no scatter
        self._identity = [np.array_equal(lay.free_param, np.arange(ram.nfree))
                          for lay in ram.layouts]

    def adjust_fit_measures(self, measures, theta: np.ndarray, reparam,
                            information: str = "expected"):
        """The complete-data fit measures with lavaan's baseline when the observed exogenous
        covariates are free (``fixed_x=False``): the independence model keeps their
        covariances (:func:`~cbec_sem.engine.fitmeasures.free_x_baseline`).  Other fits
        come back unchanged."""

        covariates = free_covariates(self)
        return free_x_baseline(measures, self.stats, covariates) if covariates else measures

    def evaluate(
        self, theta: np.ndarray, gradient: bool = False, information: bool = False
    ) -> Evaluation:
        """F(θ), and optionally its gradient and the expected information (F scale).

        Σ⁻¹ and log|Σ| come from one LAPACK Cholesky factorisation (``dpotrf``/``dpotri``).
        The derivatives use the columns Z of :meth:`RamModel.derivative_columns`: with
        M = Zᵀ K Z (c × c, c ≤ 2n) every uₐᵀ K v_b of the information is the entry
        M[u[a], v[b]], so the q × q information is gathered from M
        (:func:`information_rows`) instead of formed by three q × p × q products (issue 14:
        a CFA with 1,210 parameters and p = 132)."""
        q = self.ram.nfree
        total = 0.0
        grad = np.zeros(q) if gradient else None
        info = None
        for g, mom in enumerate(self.ram.moments(theta)):
            K, logdet = inverse_logdet(mom.sigma)
            if K is None:
                return Evaluation(np.inf)
            S = self.covs[g]
            if self.meanstructure:
                d = self.means[g] - mom.mu
                kd = K @ d
                mean_term = float(d @ kd)
            else:
                d = kd = None
                mean_term = 0.0
            value = 0.5 * (logdet + np.sum(S * K) - self.logdet_s[g] - self.p + mean_term)
            w = self.weights[g]
            total += w * value
            if not (gradient or information):
                continue
            idx = self.ram.derivative_index[g]
            Z = self.ram.derivative_columns(mom, g)
            means = self.meanstructure and idx.has_d
            if means:  # d_k = G[:, d_cols[d[k]]] · factor_k
                Gd = mom.G[:, idx.d_cols]
                factor = idx.d_const.copy()
                on_path = idx.d_bm >= 0
                if on_path.any():
                    factor[on_path] = (mom.B[idx.d_bm[on_path]] @ mom.M)
            params = self.ram.layouts[g].free_param
            if gradient:
                W = K - K @ S @ K  # ×½ below: W = ½ (K − K (S + d dᵀ) K)
                if self.meanstructure:
                    W -= np.outer(kd, kd)
                W *= 0.5
                WZ = W @ Z
                row_grad = 2.0 * np.einsum("pr,pr->r", Z[:, idx.u], WZ[:, idx.v])
                if means:
                    row_grad -= factor * (Gd.T @ kd)[idx.d]
                if self._identity[g]:
                    grad += w * row_grad
                else:
                    grad += np.bincount(params, weights=w * row_grad, minlength=q)
            if information:
                M = Z.T @ (K @ Z)
                M = 0.5 * (M + M.T)  # exactly symmetric, and so is the information
                Md = None
                if means:
                    Md = Gd.T @ (K @ Gd)
                    Md = 0.5 * (Md + Md.T)
                rows = information_rows(M, idx, Md, factor if means else None)
                if w != 1.0:
                    rows *= w
                if info is None and self._identity[g]:
                    info = rows  # (one group: no q × q zeros to add to)
                    continue
                if info is None:
                    info = np.zeros((q, q))
                if self._identity[g]:
                    info += rows
                elif self._unique[g]:  # (np.add.at only where labels share a parameter)
                    info[np.ix_(params, params)] += rows
                else:
                    add_to_parameters(info, params, rows)
        if information and info is None:
            info = np.zeros((q, q))
        return Evaluation(total, grad, info)

    def value(self, theta: np.ndarray) -> float:
        return self.evaluate(theta).value

    def loglik(self, theta: np.ndarray) -> float:
        """The log-likelihood of the data: −N F(θ) plus the saturated model's log-likelihood
        (Bollen 1989, eq. 4.65)."""
        return -self.ntotal * self.value(theta) + self.saturated_loglik()

    def saturated_loglik(self) -> float:
        """Log-likelihood of the unrestricted model (Σ = S, μ = x̄): lavaan's
        ``unrestricted.logl``."""
        return float(
            sum(
                -0.5 * n * (self.p * np.log(2 * np.pi) + ld + self.p)
                for n, ld in zip(self.nobs, self.logdet_s)
            )
        )

    def exogenous_loglik(self, exo_index: tuple[int, ...]) -> float:
        """Saturated log-likelihood of the fixed exogenous covariates alone.

        With ``fixed.x`` lavaan reports the likelihood conditional on the covariates:
        log f(y | x) = log f(y, x) − log f(x), and the marginal part is this term.
        """
        if not exo_index:
            return 0.0
        idx = list(exo_index)
        k = len(idx)
        return float(
            sum(
                -0.5 * n * (k * np.log(2 * np.pi) + np.linalg.slogdet(c[np.ix_(idx, idx)])[1] + k)
                for n, c in zip(self.nobs, self.covs)
            )
        )
