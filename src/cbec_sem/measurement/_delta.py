"""Delta-method covariance matrix of the standardised (``std.all``) solution.

lavaan's ``standardizedSolution()`` gives a standard error for every ``std.all`` value by the
delta method: with s(θ) the standardised values as a function of the free parameters,

    Cov(ŝ) = J V Jᵀ,   J = ∂s/∂θ at θ̂,   V = Cov(θ̂)

(lavaan's ``lav_standardize_all()`` with ``lav_func_jacobian_complex()``; Bollen 1989,
pp. 349–350 for the standardisation).  Here J is taken by central differences of the engine's
own standardisation (:func:`cbec_sem.engine.standardize.standardized_rows`), so every
parameter kind — loadings, regressions, (residual) variances and covariances, intercepts, in
any group — is covered.  A row whose standardised value does not depend on θ (a latent
variance standardised to 1) has standard error 0, as in lavaan.  For ordered items (WLS
family, delta parameterization) the residual variances move with θ (1 minus the explained
variance), as in lavaan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.inference import delta_method_jacobian
from ..engine.standardize import standardized_rows
from ._common import check_fit

MODEL_OPS = ("=~", "<~", "~", "~~", "~1")


def _row_names(frame: pd.DataFrame, ngroups: int) -> list[str]:
    names = []
    for lhs, op, rhs, g in zip(frame["lhs"], frame["op"], frame["rhs"], frame["group"]):
        name = f"{lhs}{op}{rhs}" if op != "~1" else f"{lhs}~1"
        if ngroups > 1 and int(g) > 1:
            name += f".g{int(g)}"  # lavaan's naming of later groups' parameters
        names.append(name)
    return names


def standardized_jacobian(res) -> tuple[np.ndarray, np.ndarray]:
    """(row positions in the parameter table, J = ∂ std.all / ∂θ) for every model row."""
    est = res.estimation
    ram = est.ram
    frame = est.partable.frame
    rows = np.flatnonzero(frame["op"].isin(MODEL_OPS).to_numpy())
    # Ordered items (delta parameterization): their residual variances are not free but
    # 1 − (explained variance), functions of θ; the ordinal fit function says which values
    # every row takes at θ (lavaan's standardizedSolution() differentiates through them too).
    row_values = getattr(est.function, "row_values", ram.row_values)

    def std_all(theta: np.ndarray) -> np.ndarray:
        return standardized_rows(ram, row_values(theta), "std.all")[rows]

    with np.errstate(divide="ignore", invalid="ignore"):
        jac = delta_method_jacobian(std_all, np.asarray(est.theta, dtype=float))
    return rows, jac


def standardized_vcov(res) -> pd.DataFrame:
    """Covariance matrix of the ``std.all`` values of every model parameter (delta method).

    Args:
        res: a converged :class:`~cbec_sem.results.FitResult`.

    Returns:
        A square DataFrame indexed by lavaan-style parameter names (``"visual=~x2"``,
        ``"x1~~x1"``, ``"f~1"``; ``".g2"``, ``".g3"``… appended for later groups), in
        parameter-table order.  The square roots of its diagonal are the ``se`` column of
        lavaan's ``standardizedSolution()``.

    Raises:
        EstimationError: the fit did not converge.
    """
    check_fit(res, "standardized_vcov()")
    rows, jac = standardized_jacobian(res)
    vcov = np.asarray(res.estimation.vcov, dtype=float)
    cov = jac @ vcov @ jac.T
    cov = 0.5 * (cov + cov.T)
    frame = res.estimation.partable.frame.iloc[rows]
    names = _row_names(frame, res.estimation.stats.ngroups)
    return pd.DataFrame(cov, index=names, columns=names)


def standardized_se(res) -> pd.Series:
    """Delta-method standard errors of the ``std.all`` values, one per model parameter,
    indexed like :func:`standardized_vcov` (lavaan's ``standardizedSolution()$se``)."""
    check_fit(res, "standardized_se()")
    rows, jac = standardized_jacobian(res)
    vcov = np.asarray(res.estimation.vcov, dtype=float)
    var = np.einsum("ij,jk,ik->i", jac, vcov, jac)
    frame = res.estimation.partable.frame.iloc[rows]
    names = _row_names(frame, res.estimation.stats.ngroups)
    return pd.Series(np.sqrt(np.clip(var, 0.0, None)), index=names, name="se")
