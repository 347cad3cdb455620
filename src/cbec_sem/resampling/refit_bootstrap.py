"""A nonparametric bootstrap by full refits, for estimators without a lean refit path
(LMS and QML): each draw resamples the rows with replacement and refits the model from the
original estimates (warm start), as modsem's ``bootstrap_modsem`` does.

Draw b uses its own stream ``default_rng(SeedSequence(seed, spawn_key=(b,)))``, so the numbers
are the same on one process or many (chunks of :data:`CHUNK` draws).  A draw whose refit fails
or does not converge is counted and left out (never silently dropped).  Percentile intervals
(Efron & Tibshirani 1993, §13.3); the SE is the SD of the successful draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from ..errors import CbecSemError, EstimationError, ParameterNotFoundError
from ..parallel import executor
from .intervals import percentile_interval

CHUNK = 25

__all__ = ["RefitBootstrap", "refit_bootstrap"]


@dataclass(frozen=True, eq=False)
class RefitBootstrap:
    """Draws of every row of a fit's ``params`` and what became of them.

    Attributes:
        table: ``lhs, op, rhs, est, se, ci.lower, ci.upper`` per parameter row.
        est: draws × rows (NaN rows for failed draws).
        failed: draws whose refit failed or did not converge.
        draws: draws made.
        seed, level.
    """

    table: pd.DataFrame
    est: np.ndarray
    failed: int
    draws: int
    seed: object
    level: float

    @property
    def draws_count(self) -> int:
        return int(self.draws)

    @property
    def refused(self) -> bool:
        """More than half of the draws failed: the intervals are not reported."""
        return self.failed > self.draws / 2

    def draws_of(self, lhs: str, op: str, rhs: str, group: int = 1) -> np.ndarray:
        t = self.table
        hit = np.flatnonzero(((t["lhs"] == lhs) & (t["op"] == op) & (t["rhs"] == rhs)).to_numpy())
        if not hit.size:
            raise ParameterNotFoundError(f"no bootstrapped parameter {lhs} {op} {rhs}; "
                                         "see the bootstrap's table for the parameters")
        column = self.est[:, hit[0]]
        return column[np.isfinite(column)]

    def vcov(self, columns: np.ndarray) -> np.ndarray:
        ok = self.est[np.all(np.isfinite(self.est[:, columns]), axis=1)][:, columns]
        return np.atleast_2d(np.cov(ok, rowvar=False))

    def message(self) -> str:
        return (f"{self.draws} bootstrap refits (seed {self.seed}): {self.draws - self.failed} "
                f"used, {self.failed} failed or did not converge")

    def __repr__(self) -> str:
        return f"<RefitBootstrap: {self.message()}>"


def _chunk(shared, chunk: tuple[int, int]) -> np.ndarray:
    refit, data, seed, rows = shared
    out = np.full((chunk[1] - chunk[0], rows), np.nan)
    n = len(data)
    for k, b in enumerate(range(*chunk)):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(b,)))
        sample = data.iloc[rng.integers(0, n, n)].reset_index(drop=True)
        try:
            values = refit(sample)
        except (CbecSemError, np.linalg.LinAlgError, FloatingPointError):
            continue
        if values is not None:
            out[k] = values
    return out


def refit_bootstrap(refit: Callable[[pd.DataFrame], np.ndarray | None], data: pd.DataFrame,
                    params: pd.DataFrame, draws: int, *, seed=None, n_jobs: int = 1,
                    level: float = 0.95) -> RefitBootstrap:
    """Bootstrap by refitting: ``refit(sample)`` returns the ``est`` column of ``params`` for
    a resample (or None when the refit did not converge)."""
    if not isinstance(draws, (int, np.integer)) or draws < 2:
        raise EstimationError(f"bootstrap={draws!r}: at least 2 draws are needed")
    entropy = np.random.SeedSequence(seed).entropy
    chunks = [(a, min(a + CHUNK, draws)) for a in range(0, draws, CHUNK)]
    run = executor(n_jobs).run(_chunk, (refit, data, entropy, len(params)), chunks)
    est = np.vstack(run.results)
    ok = np.all(np.isfinite(est), axis=1)
    failed = int((~ok).sum())
    good = est[ok]
    se = good.std(axis=0, ddof=1) if len(good) > 1 else np.full(len(params), np.nan)
    ci = percentile_interval(good, level) if len(good) > 1 else np.full((len(params), 2), np.nan)
    table = params[["lhs", "op", "rhs", "est"]].reset_index(drop=True).assign(
        se=se, **{"ci.lower": ci[:, 0], "ci.upper": ci[:, 1]})
    return RefitBootstrap(table=table, est=est, failed=failed, draws=int(draws), seed=seed,
                          level=level)


def with_refit_se(params: pd.DataFrame, boot: RefitBootstrap) -> pd.DataFrame:
    """``params`` with the bootstrap SE, z, p and percentile interval (lavaan's layout)."""
    out = params.copy()
    se = boot.table["se"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, out["est"].to_numpy(dtype=float) / se, np.nan)
    out["se"], out["z"] = se, z
    out["pvalue"] = 2.0 * special.ndtr(-np.abs(z))
    out["ci.lower"] = boot.table["ci.lower"].to_numpy()
    out["ci.upper"] = boot.table["ci.upper"].to_numpy()
    return out
