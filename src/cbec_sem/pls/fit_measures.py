"""Model fit of a PLS estimate: SRMR, d_ULS and d_G of the saturated (construct) model.

The model-implied indicator correlations (Dijkstra & Henseler 2015, CSDA 81; as cSEM's
``fit()`` and SmartPLS's "saturated model"):

* same ``=~`` construct: ``λ_i λ_j`` (a common factor's pairs are implied by its loadings);
* same ``<~`` construct: the observed correlation (a composite leaves its items free; this is
  the "treatment of within-mode-B pairs" DESIGN.md asks to state);
* different constructs k, l: ``λ_i C_kl λ_j`` with C the construct correlations (PLSc:
  disattenuated) and λ the (PLSc) loadings;
* unit diagonal.

SRMR = √(Σ_{i≤j} (s_ij − σ_ij)² / (p(p+1)/2)) (Hu & Bentler 1999); d_ULS = ½‖S − Σ‖²_F and
d_G = ½ Σ log²(eig(S⁻¹Σ)) (Dijkstra & Henseler 2015, eqs. 23-24).  Interaction constructs
are left out; a repeated indicator is counted once (at its first block).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["fit_measures", "implied_correlations", "implied_batch", "distances"]


def _columns(st) -> np.ndarray:
    """Main-stage columns that enter the fit: no interaction products, repeats counted once."""
    keep, seen = [], set()
    for q, (j, name) in enumerate(zip(st.blocks.construct_of, st.indicator_names)):
        if st.interaction[j] or name in seen:
            continue
        seen.add(name)
        keep.append(q)
    return np.array(keep)


def implied_batch(c, st) -> tuple[np.ndarray, np.ndarray]:
    """(S, Σ), each (B, p, p), of a batch of estimates (see the module docstring)."""
    keep = _columns(st)
    k = st.blocks.construct_of[keep]
    S = c.main.S[:, keep[:, None], keep[None, :]]
    lam = c.loadings["main"][:, keep]
    Sigma = lam[:, :, None] * c.C[:, k[:, None], k[None, :]] * lam[:, None, :]
    comp = np.array([st.blocks.modes[j] == "B" for j in k])
    free = (k[:, None] == k[None, :]) & comp[:, None]
    Sigma = np.where(free[None], S, Sigma)
    idx = np.arange(len(keep))
    Sigma[:, idx, idx] = 1.0
    return S, Sigma


def distances(S: np.ndarray, Sigma: np.ndarray) -> np.ndarray:
    """(B, 3) SRMR, d_ULS and d_G of (B, p, p) observed and implied correlations."""
    R = S - Sigma
    p = S.shape[1]
    iu = np.triu_indices(p)
    srmr = np.sqrt((R[:, iu[0], iu[1]] ** 2).sum(axis=1) / (p * (p + 1) / 2))
    d_uls = 0.5 * (R**2).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        try:
            ev = np.linalg.eigvals(np.linalg.solve(S, Sigma)).real
            d_g = np.where((ev > 0).all(axis=1), 0.5 * (np.log(ev) ** 2).sum(axis=1), np.nan)
        except np.linalg.LinAlgError:
            d_g = np.full(S.shape[0], np.nan)
    return np.stack([srmr, d_uls, d_g], axis=1)


def implied_correlations(est) -> tuple[np.ndarray, np.ndarray]:
    """(S, Σ) over the main stage's indicator columns of one estimate."""
    S, Sigma = implied_batch(est.computed, est.computed.main.stage)
    return S[0], Sigma[0]


def fit_measures(est) -> pd.Series:
    """srmr, d_uls and d_g of a :class:`~.estimate.PLSEstimation` (saturated model)."""
    S, Sigma = implied_batch(est.computed, est.computed.main.stage)
    values = distances(S, Sigma)[0]
    return pd.Series(dict(zip(("srmr", "d_uls", "d_g"), values.tolist())), name="fit")
