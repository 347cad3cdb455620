"""One PLS or PLSc estimate for a batch of data sets: the numbers, as arrays with axis B.

Both the fit (B = 1) and the bootstrap (B = draws in a chunk) go through :func:`compute`, so a
bootstrap draw is computed exactly as the estimate is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .stages import Plan, StageRun, run_from_correlations, run_stages
from .structural import (adjusted_r2, consistent_correlations, consistent_loadings,
                         path_coefficients, rho_a)

__all__ = ["Computed", "compute"]


@dataclass(frozen=True)
class Computed:
    """Batched results.  ``first`` is the first stage (two-stage HOC/interaction) or None."""

    first: StageRun | None
    main: StageRun
    weights: dict[str, np.ndarray]    # stage name -> (B, q) weights
    loadings: dict[str, np.ndarray]   # stage name -> (B, q) loadings (PLSc-corrected if PLSc)
    rho: dict[str, np.ndarray]        # stage name -> (B, k) ρA (1 for mode B, single items)
    C: np.ndarray                     # (B, k, k) construct correlations used for the paths
    beta: np.ndarray                  # (B, k, k) path coefficients
    r2: np.ndarray                    # (B, k) R² (NaN for exogenous)
    adj_r2: np.ndarray
    converged: np.ndarray             # (B,) all stages converged
    valid: np.ndarray                 # (B,) finite results and, for PLSc, ρA in (0, 1]
    middle: StageRun | None = None    # the interaction's first stage of a HOC model


def _factor(run: StageRun) -> np.ndarray:
    st = run.stage
    return np.array([m == "A" and not inter for m, inter in zip(st.blocks.modes, st.interaction)])


def compute(plan: Plan, X: np.ndarray | None = None, *, method: str = "PLS", keep: bool = False,
            S_items: np.ndarray | None = None, n: int | None = None, **opts) -> Computed:
    """Estimate the plan on raw data ``X`` (B, N, p), or on item correlations ``S_items``
    (B, p, p) of data sets with ``n`` rows; ``opts`` go to the weight iteration.

    Failed draws (a constant column in a resample, ρA <= 0 under PLSc) give NaN and
    ``valid`` False rather than warnings; the callers count or refuse them.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return _compute(plan, X, method=method, keep=keep, S_items=S_items, n=n, **opts)


def _compute(plan: Plan, X, *, method: str, keep: bool, S_items, n, **opts) -> Computed:
    middle = None
    if S_items is not None:
        first, main = run_from_correlations(plan, S_items, **opts)
    else:
        first, main, middle = run_stages(plan, X, keep=keep, **opts)
        n = X.shape[1]
    weights, loadings, rho = {}, {}, {}
    for name, run in (("first", first), ("main", main)):
        if run is None:
            continue
        w = run.iteration.weights
        factor = _factor(run)
        r = rho_a(run.S, w, run.stage.blocks, factor)
        weights[name], rho[name] = w, r
        loadings[name] = (consistent_loadings(w, run.loadings, r, run.stage.blocks, factor)
                          if method == "PLSc" else run.loadings)
    C = main.C
    if method == "PLSc":
        C = consistent_correlations(C, rho["main"])
    beta, r2 = path_coefficients(C, main.stage.blocks.adjacency, main.scale)
    adj = adjusted_r2(r2, main.stage.blocks.adjacency, n)
    converged = main.iteration.converged & (first.iteration.converged if first else True)
    if middle is not None:
        converged = converged & middle.iteration.converged
    valid = np.isfinite(beta).all(axis=(1, 2)) & np.isfinite(main.iteration.weights).all(axis=1)
    if method == "PLSc":
        for r in rho.values():
            valid &= ((r > 0) & (r <= 1 + 1e-12)).all(axis=1)
    return Computed(first, main, weights, loadings, rho, C, beta, r2, adj, converged, valid,
                    middle)
