"""What every measurement-validation function reads from a fit, gathered once per group.

A :class:`Block` holds one group's model matrices (RAM form, see
:mod:`cbec_sem.engine.ram`), the model-implied covariance matrix of all variables C = B S Bᵀ,
and the sample moments of the rows the fit used.  :func:`constructs` lists each latent
variable's indicators as the fitted parameter table has them (loadings fixed to 0 do not
count, as in semTools, which keys on non-zero entries of Λ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..modelfit import FittedModel
from ..errors import EstimationError, SpecError


@dataclass(frozen=True)
class Construct:
    """One latent variable of one group.

    Attributes:
        name: the latent variable.
        items: its observed indicators (loadings ≠ 0), in the model's order.
        latent_indicators: latent variables it loads on directly (higher-order factors).
        composite: every observed variable reached through ``=~`` chains (its own items, then
            those of its latent indicators, recursively) — the items of the sum score.
    """

    name: str
    items: tuple[str, ...]
    latent_indicators: tuple[str, ...]
    composite: tuple[str, ...]

    @property
    def higher_order(self) -> bool:
        return bool(self.latent_indicators)


@dataclass(frozen=True)
class Block:
    """One group of a fit: matrices, implied and sample moments, listwise data."""

    index: int
    label: object
    variables: tuple[str, ...]
    p: int
    A: np.ndarray
    S: np.ndarray
    B: np.ndarray
    C: np.ndarray
    mean_all: np.ndarray
    sigma: np.ndarray
    sample_cov: np.ndarray
    sample_mean: np.ndarray
    data: np.ndarray
    constructs: dict[str, Construct]

    def idx(self, names) -> np.ndarray:
        pos = {v: k for k, v in enumerate(self.variables)}
        return np.array([pos[n] for n in names], dtype=int)

    @property
    def observed(self) -> tuple[str, ...]:
        return self.variables[: self.p]

    @property
    def latent(self) -> tuple[str, ...]:
        return self.variables[self.p:]


def check_fit(res, what: str, *, covariance: bool = False) -> None:
    """Only a FitResult whose optimiser converged can be validated; with ``covariance``, only
    a CB-SEM fit (ML or WLS family: the function reads its model-implied moments)."""
    if not isinstance(res, FittedModel):
        raise SpecError(
            f"{what} needs a fitted model (the result of cs.fit(model, data)), not "
            f"{type(res).__name__}"
        )
    if covariance and not res.is_covariance_fit:
        raise SpecError(
            f"{what} assesses a CB-SEM fit (estimator 'ML', 'MLR', 'WLSMV', ...); this is a "
            f"{res.estimator} fit. A PLS-SEM fit is assessed with cs.reliability, cs.htmt, "
            "cs.fornell_larcker, cs.cross_loadings, cs.vif, cs.f_squared and cs.pls_predict")
    if not res.converged.optimizer_converged:
        raise EstimationError(
            f"{what}: the model did not converge ({res.converged.message}), so its loadings "
            "and variances are not estimates; fix the fit first (see res.converged)"
        )


def inadmissible_note(res) -> str:
    """A note for every row when the solution is inadmissible ('' otherwise)."""
    if res.converged.admissible:
        return ""
    return "the solution is inadmissible (see res.converged): interpret with care"


def blocks(res) -> list[Block]:
    """One :class:`Block` per group of a fit."""
    est = res.estimation
    ram = est.ram
    stats = est.stats
    rows = ram.row_values(est.theta)
    frame = est.partable.frame
    latent = set(ram.latent)
    out = []
    for g, mom in enumerate(ram.moments(est.theta)):
        A, S, M = ram.matrices(rows, g)
        C = ram.total_covariance(mom)
        C = 0.5 * (C + C.T)
        if est.meanstructure:
            mean_all = ram.total_means(mom)
        else:
            # lavaan without a mean structure: observed means are the sample means and latent
            # intercepts are 0, so a latent mean is what its observed predictors' means carry
            # (a MIMIC factor's mean is γᵀ x̄).  Intercepts m_obs that reproduce x̄ solve
            # B[obs, obs] m_obs = x̄; then E(η) = B[lat, obs] m_obs.
            p = ram.p
            m_obs = np.linalg.solve(mom.B[:p, :p], stats.means[g])
            mean_all = np.concatenate([stats.means[g], mom.B[p:, :p] @ m_obs])
        in_g = (frame["group"].to_numpy() == g + 1) & (frame["op"].to_numpy() == "=~")
        loads = frame.loc[in_g, ["lhs", "rhs"]].to_numpy()
        values = rows[in_g]
        direct: dict[str, list[str]] = {}
        for (lhs, rhs), value in zip(loads, values):
            direct.setdefault(lhs, [])
            if value != 0.0:
                direct[lhs].append(rhs)
        constructs = {}
        for name, inds in direct.items():
            items = tuple(v for v in inds if v not in latent)
            lat = tuple(v for v in inds if v in latent)
            constructs[name] = Construct(name, items, lat, _composite(name, direct, latent))
        out.append(Block(
            index=g, label=stats.group_labels[g], variables=tuple(ram.variables), p=ram.p,
            A=A, S=S, B=mom.B, C=C, mean_all=mean_all, sigma=mom.sigma,
            sample_cov=stats.covs[g], sample_mean=stats.means[g], data=stats.data[g],
            constructs=constructs,
        ))
    return out


def _composite(name: str, direct: dict[str, list[str]], latent: set[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    stack = [name]
    visited = set()
    while stack:
        f = stack.pop(0)
        if f in visited:
            continue
        visited.add(f)
        for v in direct.get(f, []):
            if v in latent:
                stack.append(v)
            else:
                seen.setdefault(v, None)
    return tuple(seen)


def multigroup(res) -> bool:
    return res.estimation.stats.ngroups > 1


def alpha_from_cov(cov: np.ndarray) -> float:
    """Cronbach's (1951) α of the items whose covariance (or correlation) matrix is ``cov``:
    k/(k − 1) · (1 − Σσ_ii / 1ᵀΣ1)."""
    k = cov.shape[0]
    return float(k / (k - 1) * (1.0 - np.trace(cov) / cov.sum()))


def cov_to_cor(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(cov))
    r = cov / np.outer(sd, sd)
    np.fill_diagonal(r, 1.0)
    return r


def group_frame(rows: list[dict], multi: bool, columns: list[str]) -> pd.DataFrame:
    """A flat table; the ``group`` column only for multi-group fits."""
    frame = pd.DataFrame(rows, columns=columns)
    if not multi:
        frame = frame.drop(columns="group")
    return frame
