"""The PLS weight iteration (Wold; Lohmöller 1989), batched over many correlation matrices.

Everything PLS does to standardised data is linear, so the algorithm runs on the indicator
correlation matrix ``S`` alone (the scores ``Y = X W`` never need to be formed): the construct
correlations are ``C = W'SW``, the mode-A update ``w_j ∝ S_j· W e_j`` (covariances of block j's
items with the inner proxy ``Y e_j``) and the mode-B update ``w_j ∝ S_jj⁻¹ S_j· W e_j``.  Every
array carries a leading batch axis, so one call iterates the weights of thousands of bootstrap
draws at once; each draw stops (and is frozen) at its own convergence, so a draw's weights are
the same whatever else is in the batch.

Conventions are seminr's (``simplePLS``, ``library.R`` of sem-in-r/seminr 2.3):

* start from unit weights; scale every composite to unit variance, ``w'S w = 1`` (S is the
  correlation matrix with the N−1 convention); no sign correction;
* inner weights ``e_ij``: path scheme (default) — regression coefficients of construct j on its
  predecessors, correlations with its successors; factorial — correlations with every adjacent
  construct; centroid — the signs of those correlations (Lohmöller 1989, ch. 2; seminr has no
  centroid scheme, cSEM's is this one);
* stop when the sum of absolute weight changes is below ``tol`` (seminr: ``10^-stopCriterion``,
  1e-7); seminr's loop ``for (iterations in 0:maxIt)`` makes up to ``max_iter + 1`` updates and
  reports the loop counter, and so does this function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Blocks", "WeightIteration", "iterate_weights", "inner_weights", "weight_matrix"]

SCHEMES = ("path", "factorial", "centroid")


@dataclass(frozen=True)
class Blocks:
    """The measurement structure of one estimation stage.

    Attributes:
        construct_of: (q,) construct index of each (expanded) indicator column.
        modes: (k,) "A" or "B" per construct.
        adjacency: (k, k) ``adjacency[i, j] = 1`` when there is a path i -> j.
    """

    construct_of: np.ndarray
    modes: tuple[str, ...]
    adjacency: np.ndarray

    @property
    def k(self) -> int:
        return len(self.modes)

    @property
    def onehot(self) -> np.ndarray:
        """(q, k) indicator-to-construct incidence matrix."""
        out = np.zeros((len(self.construct_of), self.k))
        out[np.arange(len(self.construct_of)), self.construct_of] = 1.0
        return out

    def members(self, j: int) -> np.ndarray:
        return np.flatnonzero(self.construct_of == j)


@dataclass(frozen=True)
class WeightIteration:
    """Outcome of :func:`iterate_weights` for a batch of B correlation matrices."""

    weights: np.ndarray      # (B, q): weight of each expanded indicator in its construct
    iterations: np.ndarray   # (B,) seminr's loop counter at the stop
    converged: np.ndarray    # (B,) bool
    last_change: np.ndarray  # (B,) sum |Δw| of the last update


def weight_matrix(w: np.ndarray, blocks: Blocks) -> np.ndarray:
    """(B, q) weight vectors -> (B, q, k) weight matrices (zero outside each block)."""
    return w[:, :, None] * blocks.onehot[None, :, :]


def _normalise(w: np.ndarray, S: np.ndarray, blocks: Blocks) -> np.ndarray:
    """Scale each composite to unit variance: w_j / sqrt(w_j' S_jj w_j)."""
    W = weight_matrix(w, blocks)
    var = (W * (S @ W)).sum(axis=1)
    return w / np.sqrt(var[:, blocks.construct_of])


def inner_weights(C: np.ndarray, blocks: Blocks, scheme: str) -> np.ndarray:
    """(B, k, k) inner weights ``E[:, i, j]`` of construct i in the inner proxy of j.

    ``C`` holds the construct correlations.  Path scheme as seminr's ``path_weighting``:
    correlations for successors, then OLS coefficients for predecessors (overwriting, as
    seminr does, when a construct is both).
    """
    P = blocks.adjacency
    if scheme == "factorial":
        return C * (P + P.T)[None]
    if scheme == "centroid":
        return np.sign(C) * (P + P.T)[None]
    E = C * P.T[None]
    for j in range(blocks.k):
        pred = np.flatnonzero(P[:, j])
        if pred.size:
            beta = np.linalg.solve(C[:, pred[:, None], pred[None, :]], C[:, pred, j][..., None])
            E[:, pred, j] = beta[..., 0]
    return E


def iterate_weights(
    S: np.ndarray, blocks: Blocks, *, scheme: str = "path", max_iter: int = 300,
    tol: float = 1e-7,
) -> WeightIteration:
    """Iterate outer weights to convergence for each of B correlation matrices ``S`` (B, q, q).

    Returns the normalised weights of the last update of each draw (frozen at the update
    where that draw met the stopping rule).
    """
    B, q, _ = S.shape
    con = blocks.construct_of
    modes_b = [j for j, m in enumerate(blocks.modes) if m == "B"]
    inv_blocks = {}
    for j in modes_b:
        idx = blocks.members(j)
        inv_blocks[j] = (idx, np.linalg.inv(S[:, idx[:, None], idx[None, :]]))
    w_old = np.ones((B, q))
    w = _normalise(w_old, S, blocks)
    active = np.ones(B, dtype=bool)
    iterations = np.full(B, max_iter)
    change = np.full(B, np.inf)
    rows = np.arange(q)
    for it in range(max_iter + 1):
        a = np.flatnonzero(active)
        Sa, wa = (S, w) if a.size == B else (S[a], w[a])
        W = weight_matrix(wa, blocks)
        SW = Sa @ W                                  # (b, q, k): cov(items, scores)
        C = np.swapaxes(W, 1, 2) @ SW                # construct correlations
        E = inner_weights(C, blocks, scheme)
        proxy_cov = (SW @ E)[:, rows, con]          # cov(item, inner proxy of its block)
        new = proxy_cov.copy()
        for j, (idx, inv) in inv_blocks.items():
            new[:, idx] = np.einsum("bij,bj->bi", inv[a], proxy_cov[:, idx])
        new = _normalise(new, Sa, blocks)
        diff = np.abs(new - (w_old[a] if it == 0 else wa)).sum(axis=1)
        w[a] = new
        change[a] = diff
        done = diff < tol
        iterations[a[done]] = it
        active[a[done]] = False
        if not active.any():
            break
    return WeightIteration(w, iterations, ~active, change)
