"""Moment-level building blocks of the robust ML estimators (MLM, MLR).

Everything here lives in the space of the sample moments of one group,
m = (x̄ (with a mean structure), vech S), vech taken column by column over the lower triangle
as lavaan's ``lav_matrix_vech()`` does, one entry per variance or covariance:

* :func:`adf_gamma` — the asymptotic (distribution-free) covariance matrix Γ of √N m
  (Browne 1984, *Br. J. Math. Stat. Psychol.* 37, eq. 2.6): the covariance of the casewise
  vectors z_i = (y_i, vech((y_i − ȳ)(y_i − ȳ)ᵀ)), divisor N (lavaan's
  ``lav_samplestats_Gamma()`` with ``gamma.n.minus.one = FALSE``).  With fixed exogenous
  covariates x (lavaan's ``fixed.x``) the casewise vectors are taken relative to the
  least-squares predictions of y from x, so that Γ describes the conditional part only.
* :func:`nt_weight` — the normal-theory weight Γ_NT⁻¹ = Σ⁻¹ ⊕ ½ Dᵀ(Σ⁻¹ ⊗ Σ⁻¹)D, D the
  duplication matrix (Browne 1974; the expected information of one observation on the moment
  scale), with the rows and columns of fixed covariates set to zero.
* :func:`casewise_scores` — the derivatives of each case's normal log-likelihood with respect
  to (μ, vech Σ) (Yuan & Bentler 2000, *Sociol. Methodol.* 30, eq. 8): with z = Σ⁻¹(y − μ),
  ∂ℓ/∂μ = z and ∂ℓ/∂σ_ab = z_a z_b − (Σ⁻¹)_ab off the diagonal, half that on it.
* :func:`moment_jacobian` — Δ = ∂m(θ)/∂θ from the model's rank-2 derivative factors.
"""

from __future__ import annotations

import numpy as np

from .ram import GroupMoments, RamModel


def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each vech element (columns of the lower triangle, in order)."""
    rows, cols = [], []
    for j in range(p):
        for i in range(j, p):
            rows.append(i)
            cols.append(j)
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


def moment_mask(p: int, exo: tuple[int, ...], meanstructure: bool) -> np.ndarray:
    """True for the moments that are not fixed-covariate moments (means, variances and
    covariances among the fixed exogenous covariates are False)."""
    r, c = vech_indices(p)
    is_x = np.zeros(p, dtype=bool)
    is_x[list(exo)] = True
    cov_part = ~(is_x[r] & is_x[c])
    return np.concatenate([~is_x, cov_part]) if meanstructure else cov_part


def nt_weight(sigma: np.ndarray, meanstructure: bool, exo: tuple[int, ...] = ()) -> np.ndarray:
    """Σ⁻¹ ⊕ ½ Dᵀ(Σ⁻¹⊗Σ⁻¹)D, with fixed-covariate rows and columns zeroed.

    In vech coordinates: W[(ij),(kl)] = ¼ m_ij m_kl (K_ik K_jl + K_il K_jk), m = 2 off the
    diagonal and 1 on it, K = Σ⁻¹.
    """
    p = sigma.shape[0]
    K = np.linalg.inv(sigma)
    K = 0.5 * (K + K.T)
    r, c = vech_indices(p)
    m = np.where(r == c, 1.0, 2.0)
    cov_block = 0.25 * np.outer(m, m) * (K[np.ix_(r, r)] * K[np.ix_(c, c)]
                                         + K[np.ix_(r, c)] * K[np.ix_(c, r)])
    if meanstructure:
        k = len(r)
        W = np.zeros((p + k, p + k))
        W[:p, :p] = K
        W[p:, p:] = cov_block
    else:
        W = cov_block
    if exo:
        keep = moment_mask(p, exo, meanstructure)
        W[~keep, :] = 0.0
        W[:, ~keep] = 0.0
    return W


def covariate_fit(y: np.ndarray, exo: tuple[int, ...]) -> np.ndarray:
    """``y`` with its non-covariate columns replaced by their least-squares fit (with an
    intercept) on the fixed covariates ``exo``: what Γ conditional on x (lavaan's
    ``fixed.x``) subtracts."""
    n, p = y.shape
    x_idx = list(exo)
    y_idx = [k for k in range(p) if k not in exo]
    design = np.column_stack([np.ones(n), y[:, x_idx]])
    coef, *_ = np.linalg.lstsq(design, y[:, y_idx], rcond=None)
    yhat = y.copy()
    yhat[:, y_idx] = design @ coef
    return yhat


def adf_gamma(y: np.ndarray, meanstructure: bool, exo: tuple[int, ...] = ()) -> np.ndarray:
    """The distribution-free Γ of one group's moments (divisor N)."""
    n, p = y.shape
    r, c = vech_indices(p)

    def casewise(a: np.ndarray) -> np.ndarray:
        ac = a - a.mean(axis=0)
        prods = ac[:, r] * ac[:, c]
        return np.hstack([a, prods]) if meanstructure else prods

    z = casewise(y)
    if exo:
        z = z - casewise(covariate_fit(y, exo))
    zc = z - z.mean(axis=0)
    return zc.T @ zc / n


def casewise_scores(
    y: np.ndarray,
    sigma: np.ndarray,
    mu: np.ndarray,
    meanstructure: bool,
    exo: tuple[int, ...] = (),
) -> np.ndarray:
    """Casewise scores of the normal log-likelihood in (μ, vech Σ) at (μ, Σ): n × moments.

    Without a mean structure only the vech Σ part is returned, at the given μ (lavaan uses the
    sample mean there).  With a mean structure the fixed-covariate columns are zeroed, as in
    lavaan's ``lav_mvnorm_scores_mu_vech_sigma()``.
    """
    p = sigma.shape[0]
    K = np.linalg.inv(sigma)
    K = 0.5 * (K + K.T)
    r, c = vech_indices(p)
    z = (y - mu) @ K
    sc = z[:, r] * z[:, c] - K[r, c]
    sc[:, r == c] *= 0.5
    if not meanstructure:
        return sc
    out = np.hstack([z, sc])
    if exo:
        out[:, ~moment_mask(p, exo, True)] = 0.0
    return out


def moment_jacobian(ram: RamModel, moments: list[GroupMoments], meanstructure: bool
                    ) -> list[np.ndarray]:
    """Δ_g = ∂(μ_g, vech Σ_g)/∂θ for every group (rows: moments, columns: θ)."""
    out = []
    p = ram.p
    r, c = vech_indices(p)
    for g, mom in enumerate(moments):
        U, V, D = ram.derivative_factors(mom, g)
        rows = U[r] * V[c] + V[r] * U[c]
        if meanstructure:
            rows = np.vstack([D, rows])
        delta = np.zeros((rows.shape[0], ram.nfree))
        np.add.at(delta.T, ram.layouts[g].free_param, rows.T)
        out.append(delta)
    return out
