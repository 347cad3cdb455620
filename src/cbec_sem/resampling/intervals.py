"""Bootstrap confidence intervals from a matrix of draws: percentile, bias-corrected (BC) and
bias-corrected and accelerated (BCa).

* **Percentile** (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*, §13.3): the
  α/2 and 1 − α/2 quantiles of the draws.  Quantiles are read off the ordered draws by
  interpolation on the normal quantile scale between the order statistics k and k + 1 with
  k = ⌊(R + 1) α⌋ — the rule of ``boot::norm.inter`` (Davison & Hinkley 1997, *Bootstrap
  Methods and their Application*, eq. 5.8), which lavaan's ``parameterEstimates()`` uses for
  its bootstrap intervals; an endpoint beyond the extreme order statistics is the extreme
  draw.
* **BCa** (Efron 1987, "Better bootstrap confidence intervals", *JASA* 82, 171–185): the
  percentile interval at the adjusted levels α' = Φ(z₀ + (z₀ + z_α)/(1 − a (z₀ + z_α))), with
  bias correction z₀ = Φ⁻¹(#{θ* < θ̂}/R) and acceleration a = Σ Uᵢ³ / (6 (Σ Uᵢ²)^{3/2}) from
  the empirical influence values Uᵢ of the estimate (Efron 1987, eq. 6.6); for resampling
  within groups (strata) the sums are taken per group with weights n_g⁻³ and n_g⁻²
  (Davison & Hinkley 1997, §3.7).  **BC** is BCa with a = 0 (lavaan's ``"bca.simple"``).
"""

from __future__ import annotations

import numpy as np
from scipy import special


def norm_inter(sorted_draws: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Quantiles ``alpha`` of one column of finite, sorted draws, interpolated on the normal
    scale (``boot::norm.inter``)."""
    t = sorted_draws
    R = t.size
    alpha = np.asarray(alpha, dtype=float)
    out = np.full(alpha.shape, np.nan)
    if R == 0:
        return out
    ok = np.isfinite(alpha)
    rk = (R + 1) * np.where(ok, alpha, 0.5)
    k = np.clip(np.trunc(rk), 0, R).astype(int)
    exact = k == rk
    low = k == 0
    high = k >= R
    mid = ~exact & ~low & ~high
    res = np.empty(alpha.shape)
    res[exact & ~low & ~high] = t[k[exact & ~low & ~high] - 1]
    res[low] = t[0]
    res[high] = t[-1]
    if np.any(mid):
        km = k[mid]
        z = special.ndtri(np.where(ok, alpha, 0.5)[mid])
        z_k = special.ndtri(km / (R + 1))
        z_k1 = special.ndtri((km + 1) / (R + 1))
        tk, tk1 = t[km - 1], t[km]
        res[mid] = tk + (z - z_k) / (z_k1 - z_k) * (tk1 - tk)
    out[ok] = res[ok]
    return out


def percentile_interval(draws: np.ndarray, level: float) -> np.ndarray:
    """Percentile intervals (columns × 2) of a draws × columns matrix (NaN draws ignored)."""
    alpha = np.array([(1 - level) / 2, (1 + level) / 2])
    out = np.full((draws.shape[1], 2), np.nan)
    for c in range(draws.shape[1]):
        col = draws[:, c]
        col = np.sort(col[np.isfinite(col)])
        out[c] = norm_inter(col, alpha)
    return out


def bca_interval(
    draws: np.ndarray, estimate: np.ndarray, acceleration: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """BCa intervals (columns × 2) and the bias corrections z₀ of each column.

    A column whose draws are all equal gets the interval (estimate, estimate), as lavaan does.
    """
    z_alpha = special.ndtri(np.array([(1 - level) / 2, (1 + level) / 2]))
    out = np.full((draws.shape[1], 2), np.nan)
    z0 = np.full(draws.shape[1], np.nan)
    for c in range(draws.shape[1]):
        col = draws[:, c]
        col = np.sort(col[np.isfinite(col)])
        if col.size == 0 or not np.isfinite(estimate[c]):
            continue
        if col[0] == col[-1]:
            out[c] = estimate[c]
            z0[c] = 0.0
            continue
        z0[c] = special.ndtri(np.searchsorted(col, estimate[c], side="left") / col.size)
        a = acceleration[c] if np.isfinite(acceleration[c]) else 0.0
        with np.errstate(all="ignore"):
            w = z0[c] + z_alpha
            adjusted = special.ndtr(z0[c] + w / (1 - a * w))
        out[c] = norm_inter(col, adjusted)
    return out, z0


def acceleration_from_influence(influence: list[np.ndarray]) -> np.ndarray:
    """Acceleration a of each column from empirical influence values, one (n_g × columns)
    array per group: a = Σ_g n_g⁻³ Σ_i L³ / (6 (Σ_g n_g⁻² Σ_i L²)^{3/2}); 0 where the
    influence values are all zero."""
    cube = sum(np.sum(L**3, axis=0) / L.shape[0] ** 3 for L in influence)
    square = sum(np.sum(L**2, axis=0) / L.shape[0] ** 2 for L in influence)
    with np.errstate(all="ignore"):
        a = cube / (6.0 * square**1.5)
    return np.where(square > 0, a, 0.0)
