"""The asymptotic covariance matrix of (thresholds, polychoric correlations).

Muthén (1984, *Psychometrika* 49, 115–132; Muthén & Satorra 1995) treat the thresholds and
the polychoric correlations as the solution of stacked estimating equations — the univariate
scores of step 1 and the pairwise scores of step 2 — so their joint sampling covariance is the
sandwich

    W = B⁻¹ J B⁻ᵀ,   J = Σ_n s_n s_nᵀ   (the casewise scores s_n of both steps),

    B = | A11   0  |   A11: the thresholds' information (block diagonal, one block per item),
        | A21  A22 |   A21: Σ_n ∂ℓ_ρ/∂ρ · ∂ℓ_ρ/∂τ (the pair scores against the thresholds),
                       A22: the correlations' information (diagonal),

each block in its outer-product form, exactly as lavaan's ``muthen1984()`` computes it; lavaan's
``NACOV`` (``lavInspect(fit, "gamma")``) is N·W, the covariance of √N times the estimates.

The casewise scores (lavaan's ``lav_uvord_sc`` and ``lav_bvord_cor_sc``):

* threshold τ_k of an item, for an answer in category c:
  (δ_{c=k} − δ_{c=k+1}) φ(τ_k) / p_c;
* correlation ρ of a pair, for answers (a, b): π'_ab / π_ab;
* the pair's cross-derivatives with respect to its thresholds, needed only summed against the
  correlation scores (A21), come from the table of answers:
  ∂π_ab/∂τ_a = φ(τ_a) [Φ((υ_b − ρτ_a)/√(1−ρ²)) − Φ((υ_{b−1} − ρτ_a)/√(1−ρ²))] and
  ∂π_{a+1,b}/∂τ_a = −∂π_ab/∂τ_a.

Missing answers (``missing="pairwise"``) contribute zero scores, as in lavaan.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, special

from .polychoric import PI_FLOOR, cell_probabilities


def _threshold_score_tables(th: list[np.ndarray]) -> list[np.ndarray]:
    """Per item, the (K × K−1) score of each threshold for an answer in each category."""
    out = []
    for t in th:
        K = len(t) + 1
        cdf = special.ndtr(np.concatenate([[-np.inf], t, [np.inf]]))
        p = np.diff(cdf)
        dens = np.exp(-0.5 * t * t) / np.sqrt(2 * np.pi)
        h = np.zeros((K, K - 1))
        h[np.arange(K - 1), np.arange(K - 1)] = dens / p[:-1]
        h[np.arange(1, K), np.arange(K - 1)] = -dens / p[1:]
        out.append(h)
    return out


def _dpi_dth(rho: np.ndarray, b_own: np.ndarray, b_other: np.ndarray) -> np.ndarray:
    """(P × K−1 × K_other) ∂π_{k,b}/∂τ_k for every finite threshold k of the first item and
    every category b of the other: φ(τ_k)[Φ((υ_b − ρτ_k)/r) − Φ((υ_{b−1} − ρτ_k)/r)]."""
    t = b_own[:, 1:-1, None]  # finite thresholds (padding is +inf: its terms vanish)
    r = np.sqrt(1.0 - rho * rho)[:, None, None]
    rr = rho[:, None, None]
    with np.errstate(invalid="ignore"):
        z = (b_other[:, None, :] - rr * t) / r
        cdf = special.ndtr(np.where(np.isnan(z), -np.inf, z))
    dens = np.where(np.isfinite(t), np.exp(-0.5 * np.where(np.isfinite(t), t, 0.0) ** 2)
                    / np.sqrt(2 * np.pi), 0.0)
    return dens * (cdf[:, :, 1:] - cdf[:, :, :-1])


def nacov(
    codes: np.ndarray,
    th: list[np.ndarray],
    rho: np.ndarray,
    tables: np.ndarray,
    bnds: np.ndarray,
    I: np.ndarray,
    J: np.ndarray,
) -> np.ndarray:
    """lavaan's NACOV (Γ) of (thresholds, correlations) for one group: N · B⁻¹ J B⁻ᵀ.

    ``codes``: (n × p) category codes, −1 missing; ``th``: thresholds per item; ``rho``,
    ``tables``: the pairs' correlations and tables of answers (pairs in :func:`pair_index`
    order); ``bnds``: :func:`bounds` of the items.
    """
    n, p = codes.shape
    P = len(I)
    nth_item = np.array([len(t) for t in th])
    th_start = np.concatenate([[0], np.cumsum(nth_item)[:-1]])
    nth = int(nth_item.sum())
    # --- casewise scores ---------------------------------------------------------------
    scores = np.zeros((n, nth + P))
    for k, h in enumerate(_threshold_score_tables(th)):
        c = codes[:, k]
        ok = c >= 0
        scores[ok, th_start[k] : th_start[k] + nth_item[k]] = h[c[ok]]
    bi, bj = bnds[I], bnds[J]
    pi, dpi = cell_probabilities(rho, bi, bj, order=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(pi >= PI_FLOOR, dpi / pi, 0.0)  # (P × K × K)
    K = ratio.shape[1]
    ci, cj = codes[:, I], codes[:, J]
    ok = (ci >= 0) & (cj >= 0)
    flat = np.where(ok, ci * K + cj, 0)
    sc_cor = ratio.reshape(P, K * K)[np.arange(P)[None, :], flat]
    scores[:, nth:] = np.where(ok, sc_cor, 0.0)
    inner = scores.T @ scores
    # --- the bread B -------------------------------------------------------------------
    a11 = np.zeros((nth, nth))
    for k in range(p):
        sl = slice(th_start[k], th_start[k] + nth_item[k])
        a11[sl, sl] = inner[sl, sl]
    a22 = np.diag(inner)[nth:].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        T = np.where(pi >= PI_FLOOR, tables * dpi / pi**2, 0.0)  # n_ab π'_ab / π²_ab
    a21 = np.zeros((P, nth))
    # first item of each pair (rows of the table)
    gi = _dpi_dth(rho, bi, bj)  # (P × K−1 × K): threshold k of item i, category b of j
    contrib_i = np.einsum("pkb,pkb->pk", gi, T[:, :-1, :] - T[:, 1:, :])
    gj = _dpi_dth(rho, bj, bi)  # threshold k of item j, category a of i
    contrib_j = np.einsum("pka,pak->pk", gj, T[:, :, :-1] - T[:, :, 1:])
    rows = np.arange(P)
    for k in range(K - 1):
        has_i = nth_item[I] > k
        a21[rows[has_i], th_start[I[has_i]] + k] += contrib_i[has_i, k]
        has_j = nth_item[J] > k
        a21[rows[has_j], th_start[J[has_j]] + k] += contrib_j[has_j, k]
    # --- B⁻¹ J B⁻ᵀ ---------------------------------------------------------------------
    a11_inv = np.zeros_like(a11)
    for k in range(p):
        sl = slice(th_start[k], th_start[k] + nth_item[k])
        a11_inv[sl, sl] = linalg.inv(a11[sl, sl])
    a22_inv = 1.0 / a22
    lower = -(a22_inv[:, None] * a21) @ a11_inv
    b_inv = np.zeros((nth + P, nth + P))
    b_inv[:nth, :nth] = a11_inv
    b_inv[nth:, :nth] = lower
    b_inv[nth:, nth:] = np.diag(a22_inv)
    w = b_inv @ inner @ b_inv.T
    return n * 0.5 * (w + w.T)
