"""The scaled-and-shifted χ² difference test of two nested WLSMV/ULSMV fits.

lavaan's ``lavTestLRT()`` compares nested fits whose test is ``"scaled.shifted"`` with
``method = "satorra.2000"`` (Satorra 2000, "Scaled and adjusted restricted tests in
multi-sample analysis of moment structures", in Heijmans, Pollock & Satorra (eds.),
*Innovations in Multivariate Statistical Analysis*, 233–247), scaled and shifted as Asparouhov
& Muthén (2010) shift the single-model statistic.  With M₁ the less restricted model (its
estimates, weights W, NACOV Γ and Jacobian Π) and M₀ the restricted one:

* the restrictions, linearised at the estimates: H = Π₁⁺ Π₀ maps M₀'s free parameters into
  M₁'s, and A (rows spanning the orthogonal complement of H's columns) states them as A θ₁ = 0
  (lavaan's ``lav_test_diff_A``, ``method = "delta"``);
* with P = Π₁ᵀ V Π₁ the unit information of M₁ (V = ⊕_g f_g W_g, f_g = n_g/N),
  U = V Π₁ P⁻¹Aᵀ (A P⁻¹ Aᵀ)⁻ A P⁻¹ Π₁ᵀ V and Γ = ⊕_g Γ_g/f_g;
* m = df₀ − df₁, a = √(m / tr[(UΓ)²]), b = m − a tr(UΓ), and
  T_d = a (T₀ − T₁) + b on m degrees of freedom, T the standard (unscaled) statistics.

Everything is computed in the reduced parameters x of each fit (θ = θ₀ + N x: labels,
``group_equal``), which is where lavaan's ``ceq.simple`` models live too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .scaled import _stack, unit_information

#: singular values of H below this fraction of the largest count as zero (its rank)
RANK_TOL = 1e-8


@dataclass(frozen=True)
class ScaledDifference:
    """One row of ``lavTestLRT()`` for scaled-shifted tests: the difference statistic, its
    df and p-value, and the scale ``a`` and shift ``b`` applied to T₀ − T₁."""

    stat: float
    df: int
    pvalue: float
    a: float
    b: float


def _jacobians_x(est) -> list[np.ndarray]:
    """Δ_g in the fit's reduced parameters x (Δ_g N)."""
    basis = est.reparam.basis
    return [d @ basis for d in est.function.jacobians(est.theta)]


def _complement_rows(H: np.ndarray) -> np.ndarray:
    """Rows spanning the orthogonal complement of the columns of H (lavaan's
    ``t(lav_matrix_orthogonal_complement(H))``, here from the SVD)."""
    u, s, _ = np.linalg.svd(H, full_matrices=True)
    rank = int(np.sum(s > RANK_TOL * (s[0] if s.size else 1.0)))
    return u[:, rank:].T


def scaled_shifted_difference(restricted, free) -> ScaledDifference:
    """Satorra's (2000) scaled-and-shifted difference test of ``restricted`` (M₀) against
    the less restricted ``free`` (M₁), both ordinal :class:`~cbec_sem.engine.estimate.Estimation`
    objects on the same data (lavaan's ``lavTestLRT(free, restricted)`` default for WLSMV
    and ULSMV fits)."""
    t1 = float(free.fit_measures["chisq"])
    r1 = int(free.fit_measures["df"])
    t0 = float(restricted.fit_measures["chisq"])
    r0 = int(restricted.fit_measures["df"])
    m = r0 - r1
    if m <= 0:
        return ScaledDifference(t0 - t1, m, np.nan, np.nan, np.nan)
    fun = free.function
    groups, fg = fun.groups, fun.fg
    pi1 = _jacobians_x(free)
    pi0 = np.vstack(_jacobians_x(restricted))
    H = np.linalg.pinv(np.vstack(pi1)) @ pi0
    A = _complement_rows(H)
    p_inv = np.linalg.inv(unit_information(groups, pi1, fg))
    apa = A @ p_inv @ A.T
    tiny = np.sqrt(np.finfo(float).eps)
    keep = ~((np.abs(apa.sum(axis=0)) < tiny) & (np.abs(apa.sum(axis=1)) < tiny))
    A = A[keep]
    proj = p_inv @ A.T @ np.linalg.pinv(A @ p_inv @ A.T) @ A @ p_inv
    v, gamma, delta = _stack(groups, pi1, fg)
    vd = v[:, None] * delta
    ug = (vd @ proj @ vd.T) @ gamma
    tr1 = float(np.trace(ug))
    tr2 = float(np.sum(ug * ug.T))
    a = np.sqrt(m / tr2)
    b = m - a * tr1
    stat = (t0 - t1) * a + b
    return ScaledDifference(float(stat), m, float(special.chdtrc(m, stat)), float(a),
                            float(b))
