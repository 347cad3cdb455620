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

from .ram import RamModel
from .samplestats import SampleStats
from .fitmeasures import free_covariates, free_x_baseline


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
        self.logdet_s = [np.linalg.slogdet(s)[1] for s in stats.covs]
        self.p = ram.p
        self._unique = [np.unique(lay.free_param).size == lay.free_param.size
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
        """F(θ), and optionally its gradient and the expected information (F scale)."""
        q = self.ram.nfree
        total = 0.0
        grad = np.zeros(q) if gradient else None
        info = np.zeros((q, q)) if information else None
        for g, mom in enumerate(self.ram.moments(theta)):
            try:
                chol = np.linalg.cholesky(mom.sigma)
            except np.linalg.LinAlgError:
                return Evaluation(np.inf)
            logdet = 2.0 * np.log(np.diag(chol)).sum()
            inv_chol = np.linalg.inv(chol)
            K = inv_chol.T @ inv_chol
            S = self.covs[g]
            if self.meanstructure:
                d = self.means[g] - mom.mu
                kd = K @ d
                mean_term = float(d @ kd)
            else:
                d = np.zeros(self.p)
                kd = d
                mean_term = 0.0
            value = 0.5 * (logdet + np.sum(S * K) - self.logdet_s[g] - self.p + mean_term)
            w = self.weights[g]
            total += w * value
            if not (gradient or information):
                continue
            U, V, D = self.ram.derivative_factors(mom, g)
            params = self.ram.layouts[g].free_param
            if gradient:
                KSK = K @ (S + np.outer(d, d)) @ K
                W = 0.5 * (K - KSK)
                row_grad = 2.0 * np.einsum("pr,pr->r", U, W @ V) - D.T @ kd
                grad += np.bincount(params, weights=w * row_grad, minlength=q)
            if information:
                KU, KV = K @ U, K @ V
                uku, ukv, vkv = U.T @ KU, U.T @ KV, V.T @ KV
                rows = ukv.T * ukv + uku * vkv
                if self.meanstructure:
                    rows = rows + D.T @ K @ D
                idx = np.ix_(params, params)
                if self._unique[g]:  # (np.add.at only where labels share a parameter)
                    info[idx] += w * rows
                else:
                    np.add.at(info, idx, w * rows)
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
