"""lavaan's ``parameterEstimates()`` table from a parameter table, θ̂ and its covariance.

One home for the step every estimator family (ML, MLM/MLR, the WLS family) shares after its
optimum: row values and standard errors from the free-parameter vector, Wald z, p and
intervals, ``std.lv``/``std.all`` (lavaan's ``standardizedSolution``), and ``:=`` rows with
delta-method SEs (lavaan's ``lav_model_vcov_se``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .constraints import ExpressionSpace
from .frames import frame_from_arrays
from .inference import delta_method_jacobian, wald
from .labels import shared_index
from .options import FitOptions
from .partable import ESTIMATE_KEYS, ParTable
from .ram import RamModel
from .standardize import standardized_solution


def theta_from_rows(ram: RamModel, rows: np.ndarray) -> np.ndarray:
    """The free-parameter vector from row values (shared parameters: their mean)."""
    theta = np.zeros(ram.nfree)
    counts = np.zeros(ram.nfree)
    free = ram.free_index >= 0
    np.add.at(theta, ram.free_index[free], rows[free])
    np.add.at(counts, ram.free_index[free], 1.0)
    return theta / np.maximum(counts, 1.0)


def row_standard_errors(ram: RamModel, vcov: np.ndarray) -> np.ndarray:
    se = np.zeros(len(ram.free_index))
    free = ram.free_index >= 0
    se[free] = np.sqrt(np.clip(np.diag(vcov)[ram.free_index[free]], 0.0, None))
    return se


def parameter_estimates(
    partable: ParTable,
    ram: RamModel,
    space: ExpressionSpace,
    theta: np.ndarray,
    vcov: np.ndarray,
    options: FitOptions,
    converged: bool,
    standardized: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """lavaan's ``parameterEstimates(standardized = TRUE)``: model rows, then ``:=`` rows.
    ``standardized``: the rows' ``std.lv`` and ``std.all`` when the caller has them
    (:func:`~.standardize.standardized_solution` of the same θ)."""
    rows = ram.row_values(theta)
    se = row_standard_errors(ram, vcov)
    free = ram.free_index >= 0
    w = wald(rows, se, options.level)
    # lavaan: fixed parameters have se 0, no z/p, and an "interval" equal to the value.
    for k in ("z", "pvalue"):
        w[k][~free] = np.nan
    w["ci.lower"][~free] = rows[~free]
    w["ci.upper"][~free] = rows[~free]
    std_lv, std_all = standardized_solution(ram, rows) if standardized is None else standardized
    numbers = {"est": rows, "se": se, **w, "std.lv": std_lv, "std.all": std_all}
    if space.defined:
        est, dse = defined_with_se(space, ram, theta, vcov)
        extra = {"est": est, "se": dse, **wald(est, dse, options.level),
                 "std.lv": space.defined_values(std_lv),
                 "std.all": space.defined_values(std_all)}
        numbers = {k: np.concatenate([v, np.asarray(extra[k], dtype=float)])
                   for k, v in numbers.items()}
    keys, index = partable.estimate_keys()  # lhs, op, rhs, group, label: := rows included
    # the numbers as one float block beside the table's cached key columns: no dict of
    # columns for pandas to infer and consolidate, no concat to align
    table = frame_from_arrays(keys, np.vstack(list(numbers.values())), index,
                              shared_index((*ESTIMATE_KEYS, *numbers)))
    if not converged:
        table[["se", "z", "pvalue", "ci.lower", "ci.upper"]] = np.nan
    return table


def defined_with_se(
    space: ExpressionSpace, ram: RamModel, theta: np.ndarray, vcov: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Defined parameters and their delta-method SEs (only the θ entries they use vary)."""
    used = np.unique(
        [ram.free_index[space.rows[n]] for n in space.needed if ram.free_index[space.rows[n]] >= 0]
    ).astype(int)

    def defined_at(sub: np.ndarray) -> np.ndarray:  # points × used → points × defined
        t = np.tile(theta, (sub.shape[0], 1))
        t[:, used] = sub
        return space.defined_values_of_rows(ram.row_values(t))

    est = space.defined_values(ram.row_values(theta))
    if used.size == 0:
        return est, np.zeros_like(est)
    jac = delta_method_jacobian(defined_at, theta[used], vectorized=True)
    sub_vcov = vcov[np.ix_(used, used)]
    var = np.einsum("ij,jk,ik->i", jac, sub_vcov, jac)
    # A function held constant by the constraints (d := p2 - p1 with p2 > p1 active) has
    # J V Jᵀ = 0 up to cancellation in the sum: below 1e-10 of the sum of absolute terms its
    # SE is 0 (lavaan's sqrt of the rounding error gives NA or ~1e-9).
    scale = np.einsum("ij,jk,ik->i", np.abs(jac), np.abs(sub_vcov), np.abs(jac))
    var = np.where(var <= 1e-10 * scale, 0.0, var)
    return est, np.sqrt(var)
