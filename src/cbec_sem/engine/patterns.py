"""Missingness patterns: which answers each respondent gave, and the statistics FIML needs.

Cases that share a *pattern* (the same set of observed variables) share the sub-vector of μ and
the sub-matrix of Σ that their likelihood uses, so the casewise normal log-likelihood only needs,
per pattern, the number of cases n_k, the mean ȳ_k of the observed variables and their
cross-product matrix S_k = (1/n_k) Σ_i (y_i − ȳ_k)(y_i − ȳ_k)ᵀ (Little & Rubin 2002, §8.2;
lavaan's ``lav_samplestats_missing_patterns``).  Evaluating the likelihood then costs
O(#patterns · p³), not O(N · p²).

Conventions follow lavaan 0.6 (``lav_data_patterns.R``):

* a case missing on every variable is *empty*: it carries no information and is left out (lavaan
  warns "some cases are empty and will be ignored");
* patterns are ordered by decreasing frequency, ties by the pattern's 1/0 string ("1" =
  observed) in increasing order — the order of ``lavInspect(fit, "patterns")``;
* coverage is the proportion of (non-empty) cases that observe both variables of a pair
  (``lavInspect(fit, "coverage")``); the diagonal is the proportion observing each variable.

:func:`missing_patterns` and :func:`coverage` summarise a data frame for the user; a fitted
model carries the same summaries (``res.estimation.stats.patterns[g]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from ..survey.fit_checks import as_frame

__all__ = [
    "InversePlan",
    "PatternStats",
    "coverage",
    "inverse_plan",
    "missing_patterns",
    "pattern_stats",
    "sub_inverses",
]


@dataclass(frozen=True, eq=False)
class PatternStats:
    """One group's data split by missingness pattern, with each pattern's sufficient statistics.

    Attributes:
        names: the variables (columns of ``data``).
        data: the non-empty cases (rows × variables), ``NaN`` where missing.
        observed: ``(P, p)`` boolean: which variables pattern k observes.
        counts: ``(P,)`` number of cases per pattern.
        means: ``(P, p)`` pattern means of the observed variables (0 where not observed).
        covs: ``(P, p, p)`` pattern cross-product matrices about the pattern mean, divisor
            n_k (0 outside the observed block).
        case_pattern: ``(n,)`` the pattern of each row of ``data``.
        empty_rows: positions (0-based, in the data given) of the empty cases left out.
        rows: positions (0-based, in the data given) of the rows of ``data``.
    """

    names: tuple[str, ...]
    data: np.ndarray
    observed: np.ndarray
    counts: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    case_pattern: np.ndarray
    empty_rows: np.ndarray
    rows: np.ndarray

    @property
    def nobs(self) -> int:
        return int(self.counts.sum())

    @property
    def npatterns(self) -> int:
        return int(self.counts.size)

    @property
    def complete(self) -> bool:
        """Whether every case observes every variable."""
        return bool(self.observed.all())

    @property
    def coverage(self) -> np.ndarray:
        """Proportion of cases observing each pair of variables (p × p)."""
        obs = self.observed.astype(float)
        return (obs.T * self.counts) @ obs / self.nobs

    def table(self) -> pd.DataFrame:
        """The patterns as a table: ``pattern`` (1 = most frequent), ``count``, ``proportion``,
        ``n_observed``, then one boolean column per variable (True = observed)."""
        frame = pd.DataFrame(self.observed, columns=list(self.names))
        head = pd.DataFrame({
            "pattern": np.arange(1, self.npatterns + 1),
            "count": self.counts.astype(int),
            "proportion": self.counts / self.nobs,
            "n_observed": self.observed.sum(axis=1).astype(int),
        })
        out = pd.concat([head, frame], axis=1)
        out.attrs["empty_rows"] = int(self.empty_rows.size)
        return out

    def coverage_frame(self) -> pd.DataFrame:
        """:attr:`coverage` with the variable names as index and columns."""
        return pd.DataFrame(self.coverage, index=list(self.names), columns=list(self.names))


def pattern_stats(
    x: np.ndarray, names: tuple[str, ...], positions: np.ndarray | None = None
) -> PatternStats:
    """Split the rows of ``x`` (``NaN`` = missing) by missingness pattern (see the module
    docstring for the conventions).  ``positions`` (default 0, 1, ...) says where the rows of
    ``x`` are in the user's data; ``rows`` and ``empty_rows`` are reported in those terms."""
    x = np.asarray(x, dtype=float)
    n, p = x.shape
    positions = np.arange(n) if positions is None else np.asarray(positions)
    obs = ~np.isnan(x)
    nonempty = obs.any(axis=1)
    data = x[nonempty]
    obs = obs[nonempty]
    rows = positions[nonempty]
    empty = positions[~nonempty]
    if rows.size == 0:
        return PatternStats(tuple(names), data, np.zeros((0, p), bool), np.zeros(0, int),
                            np.zeros((0, p)), np.zeros((0, p, p)), np.zeros(0, int), empty, rows)
    # Pattern ids: the observed mask packed into bytes, one opaque value per row.
    packed = np.ascontiguousarray(np.packbits(obs, axis=1))
    ids = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    _, first, inverse, counts = np.unique(ids, return_index=True, return_inverse=True,
                                          return_counts=True)
    inverse = np.asarray(inverse).reshape(-1)
    uniq = obs[first]
    # lavaan's order: decreasing frequency, ties by the "1"/"0" string in increasing order.
    keys = ["".join("1" if b else "0" for b in row) for row in uniq]
    order = sorted(range(len(uniq)), key=lambda k: (-counts[k], keys[k]))
    rank = np.empty(len(uniq), dtype=int)
    rank[order] = np.arange(len(uniq))
    observed = uniq[order]
    counts = counts[order]
    case_pattern = rank[inverse]
    P = len(order)
    filled = np.where(obs, data, 0.0)
    sums = np.zeros((P, p))
    np.add.at(sums, case_pattern, filled)
    means = sums / counts[:, None]
    centred = np.where(obs, filled - means[case_pattern], 0.0)
    covs = np.zeros((P, p, p))
    # Σ_i c_i c_iᵀ per pattern, by sorting cases into patterns (one matmul per pattern).
    by_pattern = np.argsort(case_pattern, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(case_pattern, minlength=P))])
    for k in range(P):
        c = centred[by_pattern[bounds[k]:bounds[k + 1]]]
        covs[k] = c.T @ c / counts[k]
    return PatternStats(
        names=tuple(names), data=data, observed=observed, counts=counts.astype(int),
        means=means, covs=covs, case_pattern=case_pattern, empty_rows=empty, rows=rows,
    )


@dataclass(frozen=True, eq=False)
class InversePlan:
    """Index bookkeeping of :func:`sub_inverses` that depends on the patterns only.

    ``groups`` holds, per kind (one missing variable, two, more), the patterns of that kind,
    the size s of their padded missing block, each pattern's missing variables (padded) and
    which of the s slots are real; ``both`` is the observed-by-observed mask per pattern.
    """

    observed: np.ndarray
    both: np.ndarray
    groups: tuple


def inverse_plan(observed: np.ndarray) -> InversePlan:
    """The :class:`InversePlan` of a pattern matrix (once per data set, not per evaluation)."""
    n_miss = (~observed).sum(axis=1)
    groups = []
    for ks, s in ((np.flatnonzero(n_miss == 1), 1), (np.flatnonzero(n_miss == 2), 2),
                  (np.flatnonzero(n_miss > 2), int(n_miss.max(initial=0)))):
        if ks.size == 0:
            continue
        # each pattern's missing variables first (stable), padded to s with dummy indices
        midx = np.argsort(observed[ks], axis=1, kind="stable")[:, :s]
        valid = np.arange(s) < n_miss[ks][:, None]
        groups.append((ks, s, midx, valid))
    return InversePlan(observed, observed[:, :, None] & observed[:, None, :], tuple(groups))


def sub_inverses(
    sigma: np.ndarray, observed: np.ndarray, plan: InversePlan | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For every pattern k: K_k = (Σ_oo)⁻¹ embedded in a p × p matrix of zeros, and log|Σ_oo|.

    From Λ = Σ⁻¹ by the partitioned-inverse identity (e.g. Harville 1997, *Matrix Algebra
    from a Statistician's Perspective*, Thm 8.5.11): with m the pattern's missing variables,
    Σ_oo⁻¹ = Λ_oo − Λ_om Λ_mm⁻¹ Λ_mo and log|Σ_oo| = log|Σ| + log|Λ_mm|, so a pattern costs
    the inverse of its (usually tiny) missing block: closed forms for one or two missing
    variables (most patterns in survey data), one padded batch for the rest.  When Σ itself is
    not positive definite (only its observed blocks need be), every Σ_oo is factored directly
    instead.  ``plan`` (from :func:`inverse_plan`) saves the index work on repeated calls.

    Raises:
        numpy.linalg.LinAlgError: some Σ_oo is not positive definite.
    """
    if plan is None:
        plan = inverse_plan(observed)
    P, p = observed.shape
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return _padded_inverses(sigma, observed)
    inv_chol = np.linalg.inv(chol)
    lam = inv_chol.T @ inv_chol
    logdet_full = 2.0 * float(np.log(np.diag(chol)).sum())
    K = np.broadcast_to(lam, (P, p, p)).copy()
    logdet = np.full(P, logdet_full)
    for ks, s, midx, valid in plan.groups:
        if s == 1:
            a1 = lam[:, midx[:, 0]].T  # (n, p): Λ_·m
            l11 = lam[midx[:, 0], midx[:, 0]]
            if np.any(l11 <= 0):
                raise np.linalg.LinAlgError("a sub-matrix is not positive definite")
            K[ks] -= a1[:, :, None] * (a1 / l11[:, None])[:, None, :]
            logdet[ks] += np.log(l11)
        elif s == 2:
            i, j = midx[:, 0], midx[:, 1]
            a1, a2 = lam[:, i].T, lam[:, j].T
            la, lb, lc = lam[i, i], lam[i, j], lam[j, j]
            det = la * lc - lb * lb
            if np.any(la <= 0) or np.any(det <= 0):
                raise np.linalg.LinAlgError("a sub-matrix is not positive definite")
            # A Λ_mm⁻¹ Aᵀ with Λ_mm⁻¹ = [[c, −b], [−b, a]] / det
            inv_det = 1.0 / det[:, None]
            b1 = (lc[:, None] * a1 - lb[:, None] * a2) * inv_det
            b2 = (la[:, None] * a2 - lb[:, None] * a1) * inv_det
            K[ks] -= a1[:, :, None] * b1[:, None, :] + a2[:, :, None] * b2[:, None, :]
            logdet[ks] += np.log(det)
        else:
            A = lam[:, midx].transpose(1, 0, 2) * valid[:, None, :]  # Λ_·m, zero-padded
            l_mm = lam[midx[:, :, None], midx[:, None, :]]
            l_mm[~(valid[:, :, None] & valid[:, None, :])] = 0.0
            l_mm[:, np.arange(s), np.arange(s)] += ~valid
            c_mm = np.linalg.cholesky(l_mm)
            logdet[ks] += 2.0 * np.log(np.diagonal(c_mm, axis1=1, axis2=2)).sum(axis=1)
            K[ks] -= np.matmul(A, np.linalg.solve(l_mm, A.transpose(0, 2, 1)))
    K *= plan.both
    return K, logdet


def _padded_inverses(sigma: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sub_inverses` by factoring every Σ_oo: Σ_oo padded with the identity on the
    unobserved variables is block-diagonal, so one batched Cholesky factorisation gives every
    inverse and log-determinant."""
    P, p = observed.shape
    both = observed[:, :, None] & observed[:, None, :]
    pad = np.where(both, sigma, 0.0)
    diag = np.arange(p)
    pad[:, diag, diag] = np.where(observed, pad[:, diag, diag], 1.0)
    chol = np.linalg.cholesky(pad)
    logdet = 2.0 * np.log(chol[:, diag, diag]).sum(axis=1)
    inv_chol = np.linalg.inv(chol)
    K = np.matmul(inv_chol.transpose(0, 2, 1), inv_chol)
    K *= both
    return K, logdet


def _block(data, items) -> tuple[np.ndarray, tuple[str, ...]]:
    if not isinstance(data, pd.DataFrame):

        data = as_frame(data)
    items = tuple(data.columns) if items is None else tuple(items)
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise DataError(f"the data lack the column(s) {', '.join(map(repr, absent))}")
    try:
        x = data[list(items)].apply(pd.to_numeric, errors="coerce").to_numpy(
            dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:  # pragma: no cover - defensive
        raise DataError(f"the columns {items} cannot be read as numbers: {exc}") from None
    return x, items


def missing_patterns(data, items=None) -> pd.DataFrame:
    """The missingness patterns of ``items`` (default: every column) in ``data``.

    One row per pattern, most frequent first: ``pattern``, ``count``, ``proportion`` (of the
    non-empty cases), ``n_observed``, then one boolean column per item (True = answered).
    Cases missing on every item are not a pattern (lavaan ignores them); their number is in
    ``result.attrs["empty_rows"]``.  Non-numeric cells count as missing.
    """
    x, names = _block(data, items)
    return pattern_stats(x, names).table()


def coverage(data, items=None) -> pd.DataFrame:
    """Proportion of the non-empty cases that answered each pair of ``items`` (lavaan's
    ``lavInspect(fit, "coverage")``); the diagonal is each item's response rate."""
    x, names = _block(data, items)
    ps = pattern_stats(x, names)
    if ps.nobs == 0:
        raise DataError("every case is missing on every item; there is nothing to cover")
    return ps.coverage_frame()
