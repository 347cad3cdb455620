"""The saturated (H1) model under missing data: means and covariances by the EM algorithm.

With incomplete data the unrestricted model's maximum-likelihood estimates have no closed form.
The EM algorithm (Dempster, Laird & Rubin 1977, *JRSS B* 39, 1–38; Little & Rubin 2002,
*Statistical Analysis with Missing Data*, 2nd ed., §8.2.1) alternates

* E-step: the expected complete-data sufficient statistics given the observed values and the
  current (μ, Σ).  For a pattern with observed variables o, the regression of all variables on
  y_o is E[y | y_o] = μ + Σ K (y_o − μ_o) with K = Σ_oo⁻¹ embedded in zeros, and the residual
  covariance is Σ − Σ K Σ.  Summed over a pattern's n_k cases with pattern mean ȳ_k and
  cross-product matrix S_k (``engine/patterns.py``), with P_k = Σ K_k and
  m_k = μ + P_k (ȳ_k − μ):

      T₁ = Σ_k n_k m_k,   T₂ = Σ_k n_k [m_k m_kᵀ + P_k S_k P_kᵀ + Σ − P_k Σ];

* M-step: μ = T₁/N, Σ = T₂/N − μμᵀ,

which never decreases the observed-data log-likelihood

    log L(μ, Σ) = −½ Σ_k n_k [p_k log 2π + log|Σ_oo| + tr(Σ_oo⁻¹ (S_k + d_k d_kᵀ))],
    d_k = ȳ_k − μ_o.

This is lavaan's ``lav_mvnorm_missing_h1_estimate_moments()``; its ``unrestricted.logl`` is the
log-likelihood at the EM estimates.  lavaan stops when no parameter changes by more than 1e-5;
here the default is 1e-10 (relative to 1 + |value|), so the estimates are the maximum to ~10
digits.  Each iteration costs O(#patterns · p³).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from .work_limits import em_work, too_much
from .patterns import PatternStats, inverse_plan, sub_inverses
from .patterns import pattern_stats

LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class EMResult:
    """The saturated model of one group.

    Attributes:
        mean: EM estimate of the means.
        cov: EM estimate of the covariance matrix (divisor N).
        loglik: the observed-data log-likelihood at the estimates (lavaan's
            ``unrestricted.logl`` of the group).
        iterations: EM iterations used (0 for complete data: closed form).
        converged: whether the change fell below the tolerance.
    """

    mean: np.ndarray
    cov: np.ndarray
    loglik: float
    iterations: int
    converged: bool


def pattern_loglik(ps: PatternStats, mu: np.ndarray, sigma: np.ndarray) -> float:
    """The observed-data normal log-likelihood of the cases in ``ps`` at (μ, Σ);
    −inf when some Σ_oo is not positive definite."""
    try:
        K, logdet = sub_inverses(sigma, ps.observed)
    except np.linalg.LinAlgError:
        return -np.inf
    d = np.where(ps.observed, ps.means - mu, 0.0)
    quad = np.einsum("kij,kij->k", K, ps.covs) + np.einsum("ki,kij,kj->k", d, K, d)
    p_k = ps.observed.sum(axis=1)
    return float(-0.5 * np.dot(ps.counts, p_k * LOG_2PI + logdet + quad))


def _start(ps: PatternStats) -> tuple[np.ndarray, np.ndarray]:
    """Means and variances of the observed values; covariances from the pairwise-complete
    cross-products, shrunk towards the diagonal until positive definite."""
    x = ps.data
    obs = ~np.isnan(x)
    n_j = obs.sum(axis=0)
    mu = np.where(obs, x, 0.0).sum(axis=0) / n_j
    c = np.where(obs, x - mu, 0.0)
    pairs = obs.T.astype(float) @ obs.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (c.T @ c) / np.maximum(pairs, 1.0)
    cov[pairs == 0] = 0.0
    var = np.diag(cov).copy()
    for shrink in (1.0, 0.9, 0.7, 0.5, 0.0):
        trial = shrink * cov + (1.0 - shrink) * np.diag(var)
        try:
            np.linalg.cholesky(trial)
            return mu, trial
        except np.linalg.LinAlgError:
            continue
    return mu, np.diag(var)  # pragma: no cover - the diagonal is positive definite


def em_saturated(ps: PatternStats, tol: float = 1e-10, max_iter: int = 10000,
                 work_limit: float = np.inf, work_before: float = 0.0) -> EMResult:
    """EM estimates of the means and covariances of the variables in ``ps`` (see the module
    docstring).  Complete data: the sample moments (divisor N), no iterations.  An iteration
    that would take the work done (``work_before`` units spent before, e.g. by the EM of other
    groups, plus this EM's) above ``work_limit`` units (:mod:`.work_limits`) is not started.

    Raises:
        DataError: the iterations needed exceed ``work_limit`` (naming the option that allows
            them).
        DataError: the covariance matrix becomes singular (e.g. a pair of variables is never
            observed together, or an item is a linear combination of others).
    """
    N = ps.nobs
    if ps.complete:
        mu = ps.means[0].copy()
        sigma = ps.covs[0].copy()
        return EMResult(mu, sigma, pattern_loglik(ps, mu, sigma), 0, True)
    mu, sigma = _start(ps)
    n = ps.counts.astype(float)
    S, ybar = ps.covs, ps.means
    converged = False
    it = 0
    plan = inverse_plan(ps.observed)
    per_iteration = em_work(ps.observed)
    for it in range(1, max_iter + 1):
        if work_before + it * per_iteration > work_limit:
            raise DataError(
                f"missing='fiml' is not run on these data: the EM of the saturated model over "
                f"{len(ps.counts):,} distinct missing-data patterns of {ps.observed.shape[1]} "
                f"variables had not converged after {it - 1} iterations; "
                + too_much(work_before + it * per_iteration, work_limit,
                           "the EM work with one more")
                + "; or use missing='listwise' (the complete rows) or fewer items")
        try:
            K, _ = sub_inverses(sigma, ps.observed, plan)
        except np.linalg.LinAlgError:
            raise DataError(
                "the EM estimate of the covariance matrix (the saturated model under missing "
                "data) became singular: some items are (nearly) linear combinations of others "
                "among the cases that answered them; drop a redundant item"
            ) from None
        Pk = np.matmul(sigma, K)  # (P, p, p): the regression of every variable on y_o
        m = mu + np.einsum("kij,kj->ki", Pk, ybar - mu)
        t1 = n @ m
        spread = np.matmul(np.matmul(Pk, S), Pk.transpose(0, 2, 1)) + sigma - np.matmul(Pk, sigma)
        t2 = np.einsum("k,ki,kj->ij", n, m, m) + np.einsum("k,kij->ij", n, spread)
        mu_new = t1 / N
        sigma_new = t2 / N - np.outer(mu_new, mu_new)
        sigma_new = 0.5 * (sigma_new + sigma_new.T)
        change = max(
            float(np.max(np.abs(mu_new - mu) / (1.0 + np.abs(mu)))),
            float(np.max(np.abs(sigma_new - sigma) / (1.0 + np.abs(sigma)))),
        )
        mu, sigma = mu_new, sigma_new
        if change < tol:
            converged = True
            break
    return EMResult(mu, sigma, pattern_loglik(ps, mu, sigma), it, converged)


def independence_loglik(ps: PatternStats, exo_index: tuple[int, ...] = (),
                        free_exo: bool = False) -> float:
    """Log-likelihood of the independence (baseline) model fitted by FIML: every variable has
    its own mean and variance and no covariance, so the likelihood factors into univariate
    normal likelihoods of each variable's observed values, maximised by their mean and
    variance (divisor n_j).  Fixed exogenous covariates (complete by construction) keep their
    sample covariance block (lavaan's baseline with ``fixed.x``); with ``free_exo`` the
    covariates in ``exo_index`` are free (``fixed.x = FALSE``, missing values allowed) and
    their block is their own saturated model."""
    x = ps.data
    obs = ~np.isnan(x)
    total = 0.0
    exo = list(exo_index)
    for j in range(x.shape[1]):
        if j in exo:
            continue
        v = x[obs[:, j], j]
        nj = v.size
        var = float(np.mean((v - v.mean()) ** 2))
        total += -0.5 * nj * (LOG_2PI + np.log(var) + 1.0)
    if exo and not free_exo:
        xx = x[:, exo]
        k = len(exo)
        c = np.cov(xx, rowvar=False, bias=True).reshape(k, k)
        total += -0.5 * xx.shape[0] * (k * LOG_2PI + np.linalg.slogdet(c)[1] + k)
    elif exo:
        # free covariates (fixed.x = FALSE): their block is a saturated model of its own,
        # fitted by EM on the rows that answer at least one of them

        xx = x[:, exo]
        xx = xx[~np.isnan(xx).all(axis=1)]
        total += em_saturated(pattern_stats(xx, tuple(f"x{k}" for k in exo))).loglik
    return float(total)
