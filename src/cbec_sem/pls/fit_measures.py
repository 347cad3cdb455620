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

__all__ = ["fit_measures", "implied_correlations"]


def implied_correlations(est) -> tuple[np.ndarray, np.ndarray]:
    """(S, Σ) over the main stage's indicator columns (see the module docstring)."""
    c = est.computed
    run = c.main
    st = run.stage
    con = st.blocks.construct_of
    keep, seen = [], set()
    for q, (j, name) in enumerate(zip(con, st.indicator_names)):
        if st.interaction[j] or name in seen:
            continue
        seen.add(name)
        keep.append(q)
    keep = np.array(keep)
    S = run.S[0][np.ix_(keep, keep)]
    lam = c.loadings["main"][0][keep]
    k = con[keep]
    C = c.C[0]
    Sigma = lam[:, None] * C[np.ix_(k, k)] * lam[None, :]
    same = k[:, None] == k[None, :]
    comp = np.array([st.blocks.modes[j] == "B" for j in k])
    Sigma = np.where(same & comp[:, None], S, Sigma)
    np.fill_diagonal(Sigma, 1.0)
    return S, Sigma


def fit_measures(est) -> pd.Series:
    """srmr, d_uls and d_g of a :class:`~.estimate.PLSEstimation` (saturated model)."""
    S, Sigma = implied_correlations(est)
    R = S - Sigma
    p = S.shape[0]
    iu = np.triu_indices(p)
    srmr = float(np.sqrt((R[iu] ** 2).sum() / (p * (p + 1) / 2)))
    d_uls = float(0.5 * (R**2).sum())
    try:
        ev = np.linalg.eigvals(np.linalg.solve(S, Sigma)).real
        d_g = float(0.5 * (np.log(ev) ** 2).sum()) if (ev > 0).all() else np.nan
    except np.linalg.LinAlgError:
        d_g = np.nan
    return pd.Series({"srmr": srmr, "d_uls": d_uls, "d_g": d_g}, name="fit")
