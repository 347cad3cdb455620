"""Is a converged solution usable?  Heywood cases, non-positive-definite matrices, and
empirical under-identification, checked after every fit and never hidden.

* A negative variance estimate (a Heywood case; Dillon, Kumar & Mulani 1987) or a
  standardised loading/correlation beyond ±1.
* A model-implied covariance matrix of the latent variables that is not positive definite
  (lavaan's "covariance matrix of latent variables is not positive definite" warning).
* A singular information matrix (judged scale-free, on its correlation form:
  :func:`.inference.scale_free_information_ratio`): a parameter the data cannot pin down (empirical
  under-identification; Kenny 1979; lavaan's "could not compute standard errors" / "may not
  be identified" warnings).  The eigenvector of the smallest eigenvalue names the parameters
  involved.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import lapack

from .estimate import Estimation
from .inference import SINGULAR_INFORMATION
from .naming import free_parameter_names


def negative_variances(values: np.ndarray, variance_rows: np.ndarray) -> np.ndarray:
    """The rows among ``variance_rows`` (free variances) whose value is negative: Heywood cases
    (Dillon, Kumar & Mulani 1987)."""
    return variance_rows[values[variance_rows] < 0]


def beyond_unit(std: np.ndarray, bounded_rows: np.ndarray) -> np.ndarray:
    """The rows among ``bounded_rows`` (standardised loadings and correlations) beyond ±1."""
    b = std[bounded_rows]
    return bounded_rows[np.isfinite(b) & (np.abs(b) > 1)]


def positive_definite(C: np.ndarray) -> bool:
    """Whether a covariance matrix is positive definite (its Cholesky factor exists; lavaan's
    check of the latent variables' covariance matrix after a fit)."""
    return lapack.dpotrf(np.asarray(C, dtype=float), lower=1)[1] == 0


def _where(group: int, ngroups: int, labels: tuple) -> str:
    return f" in group {labels[group - 1]!r}" if ngroups > 1 else ""


def admissibility_problems(est: Estimation) -> list[str]:
    """Plain-language descriptions of everything that makes the solution inadmissible."""
    problems: list[str] = []
    table = est.partable
    G, labels = table.ngroups, table.group_labels
    lhs, op, rhs, group = (table.column(c) for c in ("lhs", "op", "rhs", "group"))
    value = np.asarray(table.column("est"), dtype=float)
    std = (est.params["std.all"].to_numpy(dtype=float)[: len(lhs)] if est.row_std_all is None
           else est.row_std_all)
    is_var = (op == "~~") & (lhs == rhs)
    for r in negative_variances(value, np.flatnonzero(is_var & (table.column("free") > 0))):
        problems.append(
            f"negative variance{_where(group[r], G, labels)}: {lhs[r]} ~~ {lhs[r]} = "
            f"{value[r]:.4g} (a Heywood case)"
        )
    for r in beyond_unit(std, np.flatnonzero((op == "=~") | ((op == "~~") & ~is_var))):
        kind = "standardised loading" if op[r] == "=~" else "correlation"
        problems.append(
            f"{kind} beyond ±1{_where(group[r], G, labels)}: {lhs[r]} {op[r]} {rhs[r]} = "
            f"{std[r]:.4g}"
        )
    p = est.ram.p
    if est.ram.latent:
        moments = est.ram.moments(est.theta) if est.moments is None else est.moments
        for g, mom in enumerate(moments):
            C = est.ram.total_covariance(mom)[p:, p:]
            if not positive_definite(0.5 * (C + C.T)):
                problems.append(
                    f"the covariance matrix of the latent variables{_where(g + 1, G, labels)} is "
                    "not positive definite"
                )
    return problems


def identification_problems(est: Estimation) -> list[str]:
    """A description of empirical under-identification, if the information is singular."""
    if est.information_ratio >= SINGULAR_INFORMATION:
        return []
    names = free_parameter_names(est.partable)
    info = est.function.evaluate(est.theta, information=True).information
    B = est.reparam.basis
    info_x = B.T @ info @ B
    # the correlation form, as in the scale-free ratio, so that the parameters named do not
    # depend on the data's units either
    d = np.diag(info_x)
    scale = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 1.0)
    eig, vec = np.linalg.eigh(info_x * scale[:, None] * scale[None, :])
    direction = B @ (scale * vec[:, 0])
    direction = direction / max(float(np.max(np.abs(direction))), np.finfo(float).tiny)
    involved = [names[k] for k in np.argsort(-np.abs(direction))[:3] if abs(direction[k]) > 0.1]
    return [
        "the information matrix is singular (smallest/largest eigenvalue of its correlation "
        "form "
        f"{est.information_ratio:.2g}): the model may not be identified; parameters involved: "
        + ", ".join(involved)
    ]
