"""Standardised solutions, as lavaan's ``standardizedSolution()`` defines them.

With C = B S Bᵀ the model-implied covariance matrix of all variables (observed and latent) and
sd = √diag(C):

* ``std.lv`` rescales latent variables to unit variance and leaves observed ones alone;
* ``std.all`` rescales every variable to unit variance.

For a path (loading or regression) from j to i the standardised value is a_ij · sd_j / sd_i;
a variance is s_ii / sd_i²; an intercept or mean is m_i / sd_i.  A covariance between two
residuals (or disturbances) becomes a residual correlation s_ij / √(s_ii s_jj), lavaan's
default since 0.6 (``cov.std = TRUE``); for exogenous variables this is their correlation.
Defined parameters are the defining function applied to the standardised values (lavaan's
``lav_standardize_*`` does the same).  Reference: Bollen (1989), *Structural Equations with
Latent Variables*, pp. 349–350.
"""

from __future__ import annotations

import numpy as np

from .ram import RamModel


def standardize_group(out: np.ndarray, row_values: np.ndarray, lay, S: np.ndarray,
                      C: np.ndarray, kind: str = "std.all", p: int = 0) -> None:
    """Write the standardised values of one group's rows into ``out``.

    ``lay`` holds the group's row positions and matrix indices (``a_rows, a_i, a_j`` for paths,
    ``s_rows, s_i, s_j`` for (co)variances, ``m_rows, m_i`` for means: a
    :class:`~cbec_sem.engine.ram.GroupLayout`, or the refit plan's group in its own variable
    order); ``S`` is the group's (co)variance matrix of the RAM form and ``C = B S Bᵀ`` the
    implied covariance of all variables.  ``p``: the number of observed variables, which keep
    their raw scale under ``std.lv`` (the first ``p`` positions).  ``out``, ``row_values``,
    ``S`` and ``C`` may carry a leading axis of k draws (the bootstrap's batches).  The one home of the formulas
    of the module docstring, for the full fit and for every bootstrap or power refit.
    """
    sd = np.sqrt(np.clip(np.diagonal(C, axis1=-2, axis2=-1), 0.0, None))
    if kind == "std.lv":
        sd = sd.copy()
        sd[..., :p] = 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        # paths: A[i, j] * sd_j / sd_i
        out[..., lay.a_rows] = row_values[..., lay.a_rows] * sd[..., lay.a_j] / sd[..., lay.a_i]
        # (co)variances: s_ii/sd_i² on the diagonal, residual correlations off it
        i, j = lay.s_i, lay.s_j
        vals = row_values[..., lay.s_rows]
        diag = i == j
        std = np.empty_like(vals)
        std[..., diag] = vals[..., diag] / sd[..., i[diag]] ** 2
        off = ~diag
        si, sj = S[..., i[off], i[off]], S[..., j[off], j[off]]
        if kind == "std.all":
            std[..., off] = vals[..., off] / np.sqrt(si * sj)
        else:
            # std.lv: residual correlations among latent variables; observed residual
            # covariances stay in their raw metric (sd = 1 for observed variables),
            # mixed pairs are divided by the latent side's residual sd.
            lat_i = i[off] >= p
            lat_j = j[off] >= p
            den = np.where(lat_i, np.sqrt(si), 1.0) * np.where(lat_j, np.sqrt(sj), 1.0)
            std[..., off] = vals[..., off] / den
        out[..., lay.s_rows] = std
        out[..., lay.m_rows] = row_values[..., lay.m_rows] / sd[..., lay.m_i]


def standardized_rows(
    ram: RamModel, row_values: np.ndarray, kind: str
) -> np.ndarray:
    """Standardised values of every table row; ``kind`` is ``"std.lv"`` or ``"std.all"``."""
    return standardized_solution(ram, row_values, (kind,))[0]


def standardized_solution(
    ram: RamModel, row_values: np.ndarray, kinds: tuple[str, ...] = ("std.lv", "std.all")
) -> list[np.ndarray]:
    """:func:`standardized_rows` of several ``kinds`` from one C = B S Bᵀ per group."""
    outs = [np.full(len(row_values), np.nan) for _ in kinds]
    for g, lay in enumerate(ram.layouts):
        A, S, M = ram.matrices(row_values, g)
        B = ram.inverse_i_minus_a(A, g)
        C = B @ S @ B.T
        for out, kind in zip(outs, kinds):
            standardize_group(out, row_values, lay, S, C, kind, ram.p)
    other = ram.row_kind < 0  # rows that are no model matrix entry (':=', '==', '|', ...)
    for out in outs:
        out[other] = np.nan
    return outs
