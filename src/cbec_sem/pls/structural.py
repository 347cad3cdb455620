"""Path coefficients, R², ρA and the PLSc correction, from construct correlations (batched).

* Paths: OLS of each endogenous construct's scores on its predecessors' scores, which with
  unit-variance scores is ``β = C_xx⁻¹ C_xy`` (seminr ``estimate_path_coef``); interaction
  scores are rescaled to the product's SD (seminr ``adjust_interaction``), which divides the
  standardised coefficient by that SD.
* R² = ``β' C_xy`` (the same as seminr's ``1 − 1/diag(solve(C))``); adjusted
  R² = 1 − (1 − R²)(N − 1)/(N − m − 1) with m predecessors (seminr ``calc_insample``).
* ρA (Dijkstra & Henseler 2015, MISQ 39(2), eq. 21; seminr ``compute_construct_rhoA``):
  ``ρA = (w'w)² · w'(S − diag S)w / w'(ww' − diag(ww'))w`` with w the (unit-variance) weights;
  1 for mode B, single-item and interaction constructs.
* PLSc (Dijkstra & Henseler 2015, eqs. 9-11; seminr ``PLSc``): construct correlations divided
  by ``√(ρA_i ρA_j)``, paths and R² from those; loadings of ``=~`` constructs
  ``λ = √ρA · w / (w'w)``.
"""

from __future__ import annotations

import numpy as np

from .algorithm import Blocks

__all__ = ["path_coefficients", "rho_a", "consistent_correlations", "consistent_loadings"]


def path_coefficients(C: np.ndarray, adjacency: np.ndarray, scale: np.ndarray | None = None,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(B, k, k) coefficients ``beta[:, i, j]`` of i in the equation of j, and (B, k) R².

    R² is NaN for exogenous constructs; ``scale`` (B, k) are the SDs of the reported scores.
    """
    B, k, _ = C.shape
    beta = np.zeros((B, k, k))
    r2 = np.full((B, k), np.nan)
    for j in range(k):
        pred = np.flatnonzero(adjacency[:, j])
        if not pred.size:
            continue
        cxy = C[:, pred, j]
        b = np.linalg.solve(C[:, pred[:, None], pred[None, :]], cxy[..., None])[..., 0]
        r2[:, j] = (b * cxy).sum(axis=1)
        if scale is not None:
            b = b * scale[:, j][:, None] / scale[:, pred]
        beta[:, pred, j] = b
    return beta, r2


def adjusted_r2(r2: np.ndarray, adjacency: np.ndarray, n: int) -> np.ndarray:
    """Adjusted R² with N − 1 over N − m − 1 (m predecessors of each construct)."""
    m = adjacency.sum(axis=0)
    return 1 - (1 - r2) * (n - 1) / (n - m - 1)


def rho_a(S: np.ndarray, w: np.ndarray, blocks: Blocks, eligible: np.ndarray) -> np.ndarray:
    """(B, k) Dijkstra–Henseler ρA; 1 where ``eligible`` (k,) is False or a block has 1 item."""
    B = S.shape[0]
    out = np.ones((B, blocks.k))
    for j in range(blocks.k):
        idx = blocks.members(j)
        if not eligible[j] or idx.size < 2:
            continue
        wj = w[:, idx]
        Sj = S[:, idx[:, None], idx[None, :]].copy()
        Sj[:, np.arange(idx.size), np.arange(idx.size)] = 0.0
        ww = (wj * wj).sum(axis=1)
        num = np.einsum("bi,bij,bj->b", wj, Sj, wj)
        den = ww**2 - (wj**4).sum(axis=1)   # w'(ww' − diag(ww'))w
        out[:, j] = ww**2 * num / den
    return out


def consistent_correlations(C: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Construct correlations corrected for attenuation: C_ij / √(ρA_i ρA_j), unit diagonal."""
    adj = np.sqrt(rho[:, :, None] * rho[:, None, :])
    k = C.shape[1]
    adj[:, np.arange(k), np.arange(k)] = 1.0
    return C / adj


def consistent_loadings(w: np.ndarray, loadings: np.ndarray, rho: np.ndarray, blocks: Blocks,
                        factor: np.ndarray) -> np.ndarray:
    """PLSc loadings √ρA · w/(w'w) for constructs with ``factor`` True (k,); others unchanged."""
    out = loadings.copy()
    for j in np.flatnonzero(factor):
        idx = blocks.members(j)
        wj = w[:, idx]
        out[:, idx] = np.sqrt(rho[:, j])[:, None] * wj / (wj * wj).sum(axis=1)[:, None]
    return out
