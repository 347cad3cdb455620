"""From a user's table to the sample moments the estimator needs; the validation boundary.

Everything a user passes as data is checked here, once, with messages that name the column or
row: missing or duplicated columns, non-numeric columns, constant items, a singular covariance
matrix, a bad group variable.  Listwise deletion is announced with the number of rows dropped.
The caller's frame is never modified.

Sample covariances use the divisor N, as lavaan does for ML (``likelihood = "normal"``).
With ``missing="fiml"`` nothing is deleted but rows without any answer (and rows missing a
fixed covariate), both announced; the moments are then the EM estimates of the saturated model
(``engine/em.py``) and the missingness patterns are kept (``engine/patterns.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from ..errors import DataError, DataWarning
from ..errors import warn
from ..survey.fit_checks import as_frame, checked_block
from ..validation import Suggester, suggest
from .em import em_saturated
from .work_limits import EM_ITERATIONS, FIML_WORK_LIMIT, em_work, too_much
from .patterns import pattern_stats


def covariance_logdets(covs) -> tuple[float, ...]:
    """log|S| of each covariance matrix (``numpy.linalg.slogdet``)."""
    return tuple(float(np.linalg.slogdet(s)[1]) for s in covs)


@dataclass(frozen=True)
class SampleStats:
    """Sample moments of the model's observed variables, per group.

    Attributes:
        names: observed variables, in the model's order.
        group_labels: group values in order of first appearance (lavaan's order); ``(None,)``
            for a single group.
        nobs: observations used per group.
        means: sample means per group.
        covs: sample covariance matrices per group (divisor N).
        data: the complete-case data matrices per group (rows × variables); with
            ``missing="fiml"`` the rows used, ``NaN`` where missing.
        rows_dropped: rows removed by listwise deletion (``missing="fiml"``: rows missing on
            every model variable, or on a fixed exogenous covariate).
        rows_total: rows in the data as given.
        missing: how missing values were handled (``"listwise"`` or ``"fiml"``).
        patterns: ``missing="fiml"``: per group, the missingness patterns and their sufficient
            statistics (:class:`~cbec_sem.engine.patterns.PatternStats`; ``.table()``,
            ``.coverage_frame()``).
        h1: ``missing="fiml"``: per group, the saturated model fitted by EM
            (:class:`~cbec_sem.engine.em.EMResult`); ``means``/``covs`` are its estimates.
        rows_no_group: rows left out because their group value is missing (not counted in
            ``rows_dropped``).
    """

    names: tuple[str, ...]
    group_labels: tuple
    nobs: tuple[int, ...]
    means: tuple[np.ndarray, ...]
    covs: tuple[np.ndarray, ...]
    data: tuple[np.ndarray, ...]
    rows_dropped: int
    rows_total: int
    missing: str = "listwise"
    patterns: tuple = ()
    h1: tuple = ()
    rows_no_group: int = 0

    @property
    def complete_data(self) -> tuple[np.ndarray, ...]:
        """Per group, the rows observed on every variable (``data`` itself unless FIML kept
        incomplete rows): what row-based statistics such as HTMT need."""
        return tuple(block[~np.isnan(block).any(axis=1)] for block in self.data)

    @property
    def ntotal(self) -> int:
        return int(sum(self.nobs))

    @cached_property
    def logdet_covs(self) -> tuple[float, ...]:
        """log|S_g| of each group's covariance matrix, computed once (the fit function and
        the baseline model's χ² both need it)."""
        return covariance_logdets(self.covs)

    @property
    def ngroups(self) -> int:
        return len(self.nobs)


def check_columns(frame: pd.DataFrame, names: tuple[str, ...], group: str | None,
                  listed: list | None = None) -> None:
    """Refuse a missing group column, duplicate columns among ``names`` and names the data
    lack.  ``listed``: ``frame.columns.tolist()``, when the caller has it."""
    # (probing the Index name by name converts each label again)
    names_in_frame = frame.columns.tolist() if listed is None else listed
    columns = [str(c) for c in names_in_frame]
    present = set(names_in_frame)
    wanted_set = set(names)
    # duplicates matter only among the columns the fit reads; counting them once keeps this
    # linear on a frame of 50,000 columns (list.count per column was quadratic)
    counts = Counter(c for c in columns if c in wanted_set)
    if group is not None and group not in present:
        close = suggest(group, frame.columns)
        raise DataError(
            f"the group variable {group!r} is not a column of the data"
            + (f" (did you mean {close!r}?)" if close else "")
        )
    wanted = list(names)
    # Only the columns the fit reads must be unambiguous; other duplicates are harmless.
    dupes = sorted({c for c in wanted if counts.get(c, 0) > 1})
    if dupes:
        raise DataError(
            f"the data have duplicate column names: {', '.join(map(repr, dupes))} "
            f"({', '.join(str(counts[c]) for c in dupes)} columns); rename them so "
            "each column is one variable"
        )
    missing = [n for n in wanted if n not in present]
    if missing:
        hints = []
        closest = Suggester(columns)
        for n in missing[:20]:
            # A case-only difference ('X9' for 'x9') first, then a close spelling.
            close = closest(n)
            hints.append(f"{n!r}" + (f" (did you mean {close!r}?)" if close else ""))
        if len(missing) > 20:
            hints.append(f"and {len(missing) - 20} more")
        raise DataError(
            f"the model uses column(s) the data lack: {', '.join(hints)}; rename the columns "
            "or map your items onto the model (e.g. paper_model(items=...))"
        )


def numeric_block(frame: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    pos = frame.columns.get_indexer(list(names)) if frame.columns.is_unique else None
    if pos is not None and (pos >= 0).all():
        dtypes = frame.dtypes.to_numpy()[pos]
        if all(pd.api.types.is_float_dtype(t) or pd.api.types.is_integer_dtype(t)
               for t in dtypes):
            # The common case, in one step: numeric columns only need the infinity check.
            out = frame.take(pos, axis=1).to_numpy(dtype=float, na_value=np.nan)
            if not np.isinf(out).any():  # (no masked copy of the data: NaN is not inf)
                return out
    out = np.empty((len(frame), len(names)))
    for k, name in enumerate(names):
        col = frame[name]
        if pd.api.types.is_bool_dtype(col):
            col = col.astype(float)
        if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
            raise DataError(
                f"column {name!r} holds dates or durations ({col.dtype}), not answers; "
                "convert it to a number first or remove it from the model"
            )
        if not pd.api.types.is_numeric_dtype(col):
            coerced = pd.to_numeric(col, errors="coerce")
            bad = col.notna() & coerced.isna()
            if bad.any():
                pos = int(np.flatnonzero(bad.to_numpy())[0])
                values = sorted({repr(v) for v in col[bad]})
                shown = ", ".join(values[:5]) + (", ..." if len(values) > 5 else "")
                raise DataError(
                    f"column {name!r} is not numeric: row {col.index[pos]!r} holds "
                    f"{col.iloc[pos]!r} ({int(bad.sum())} non-numeric cell(s) in all; values "
                    f"{shown}); recode it (if a value marks a missing answer, replace it by "
                    "NaN), or load the file with cs.load_survey(), which reports and blanks "
                    "such cells"
                )
            col = coerced
        values = col.to_numpy(dtype=float, na_value=np.nan)
        infinite = np.isinf(values)
        if infinite.any():
            pos = int(np.flatnonzero(infinite)[0])
            raise DataError(
                f"column {name!r} holds an infinite value in row {frame.index[pos]!r} "
                f"({int(infinite.sum())} in all); replace it by a valid answer or NaN"
            )
        out[:, k] = values
    return out


#: Rows are centred this many bytes at a time when forming a covariance matrix, so a large
#: data set is never copied a second time (N = 1,000,000 × 20 items: 8 MiB, not 153 MiB).
_CHUNK_BYTES = 8 * 2**20


def _centred_crossprod(block: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Σᵢ (xᵢ − mean)(xᵢ − mean)ᵀ over the rows of ``block``, one chunk of rows at a time."""
    rows = max(1024, _CHUNK_BYTES // (8 * max(1, block.shape[1])))
    if block.shape[0] <= rows:
        centred = block - mean
        return centred.T @ centred
    out = np.zeros((block.shape[1], block.shape[1]))
    for start in range(0, block.shape[0], rows):
        centred = block[start:start + rows] - mean
        out += centred.T @ centred
    return out


def group_codes(frame: pd.DataFrame, group: str | None, n: int) -> tuple[tuple, np.ndarray]:
    """The group labels in order of first appearance (lavaan's order) and each row's
    0-based group code; one group of label ``None`` without a group variable.

    Rows whose group value is missing get the code -1: they belong to no group, and every
    caller leaves them out (lavaan does the same: its groups are the non-missing values, and
    ``ntotal`` counts only the rows in them); :func:`rows_without_group` reports them.

    Raises:
        DataError: the group variable has a single value, or none.
    """
    if group is None:
        return (None,), np.zeros(n, dtype=int)
    gcol = frame[group]
    labels = tuple(pd.unique(gcol.dropna()).tolist())  # Python scalars: 5.0, not np.float64(5.0), in messages
    if len(labels) < 2:
        raise DataError(
            f"the group variable {group!r} has "
            + (f"a single value ({labels[0]!r})" if labels else "no value (all missing)")
            + "; a multi-group fit needs at least two groups"
        )
    return labels, pd.Categorical(gcol, categories=list(labels)).codes.astype(int)


def rows_without_group(frame: pd.DataFrame, group: str | None, announce: bool = True) -> int:
    """The number of rows whose group value is missing; with ``announce`` a
    :class:`~cbec_sem.errors.DataWarning` says they are left out (lavaan 0.6 drops them from
    every group too, with a warning that the group variable has missing values)."""
    if group is None or group not in frame.columns:
        return 0
    gcol = frame[group]
    n_na = int(gcol.isna().sum())
    if n_na and announce:
        first = gcol.index[int(np.flatnonzero(gcol.isna().to_numpy())[0])]
        warn(
            f"the group variable {group!r} is missing in {n_na} of {len(gcol)} row(s) (first: "
            f"row {first!r}); those rows belong to no group and were left out, as lavaan does",
            DataWarning,
        )
    return n_na


def sample_stats(
    data,
    names: tuple[str, ...],
    group: str | None = None,
    missing: str = "listwise",
    exogenous: tuple[str, ...] = (),
    fiml_work_limit: float = FIML_WORK_LIMIT,
    listed: list | None = None,
) -> SampleStats:
    """Validate ``data`` and compute the sample moments of ``names`` (per group).
    ``listed``: the frame's column labels as a list (``frame.columns.tolist()``), when the
    caller has them.

    With ``missing="fiml"`` the rows with at least one observed model variable are kept (rows
    missing on every one are dropped and reported, as lavaan does), rows missing on a fixed
    exogenous covariate (``exogenous``) are dropped and reported (lavaan's ``fixed.x``), and
    the moments are the EM estimates of the saturated model (``engine/em.py``).

    Raises:
        DataError: duplicate or missing columns, non-numeric columns, a bad group variable,
            a constant variable, or a singular covariance matrix.
    """
    frame = as_frame(data)
    # complex, boolean and MultiIndex columns, group labels 1 vs "1", missing-value codes or
    # answers outside a Survey's scale: refused or warned about, never fitted silently
    if listed is None:  # the labels as Python objects, once for both checks
        listed = frame.columns.tolist()
    _, block = checked_block(frame, names, group=group, listed=listed)
    check_columns(frame, names, group, listed)
    # the checked block is the data when every column is numeric and finite
    x = block if block is not None and not np.isinf(block).any() else numeric_block(frame,
                                                                                    names)
    rows_total = x.shape[0]
    keep = ~np.isnan(x).any(axis=1)
    labels, codes = group_codes(frame, group, rows_total)
    no_group = rows_without_group(frame, group)
    if missing == "fiml":
        stats = _fiml_stats(frame, x, tuple(names), labels, codes, group, tuple(exogenous),
                             fiml_work_limit)
        return replace(stats, rows_dropped=stats.rows_dropped - no_group,
                       rows_no_group=no_group)
    dropped = int((~keep & (codes >= 0)).sum())
    keep &= codes >= 0  # rows without a group value (reported above)
    if dropped:
        warn(
            f"listwise deletion dropped {dropped} of {rows_total} rows with missing values on "
            "the model's variables",
            DataWarning,
        )
    means, covs, blocks, nobs = [], [], [], []
    for g, label in enumerate(labels):
        block = x[keep & (codes == g)]
        where = f" in group {label!r}" if group is not None else ""
        n = block.shape[0]
        if n < 2:
            in_group = codes == g
            empty = [names[k] for k in np.flatnonzero(np.isnan(x[in_group]).all(axis=0))]
            raise DataError(
                f"only {n} complete row(s){where}; a covariance needs at least two"
                + (f"; column(s) {', '.join(map(repr, empty))} are empty (all values missing)"
                   if empty and in_group.any() else "")
            )
        mean = block.mean(axis=0)
        cov = _centred_crossprod(block, mean) / n
        sd = np.sqrt(np.diag(cov))
        const = [names[k] for k in np.flatnonzero(sd <= 1e-12 * (1 + np.abs(mean)))]
        if const:
            raise DataError(
                f"column(s) {', '.join(map(repr, const))} are constant{where} (every answer "
                f"equals {mean[names.index(const[0])]:g}); a constant item carries no "
                "information: drop it from the model"
            )
        corr = cov / np.outer(sd, sd)
        # n centred rows span at most n - 1 dimensions: with n <= p the matrix is singular
        # and no eigen-decomposition (cubic in p) is needed to say so.
        # The eigenvalues alone (3x cheaper) decide; the vectors only name the culprits.
        few = n <= len(names)
        if few or np.linalg.eigvalsh(corr)[0] < 1e-10:
            vec = None if few else np.linalg.eigh(corr)[1]
            involved = [] if few else [names[k] for k in np.flatnonzero(np.abs(vec[:, 0]) > 0.1)]
            raise DataError(
                f"the sample covariance matrix{where} is singular: "
                + (f"there are only {n} complete rows for {len(names)} variables; collect more "
                   "responses or drop items" if few else
                   f"the columns {', '.join(involved)} are linearly dependent (one is a "
                   "combination of the others, e.g. a sum score); drop a redundant item")
            )
        means.append(mean)
        covs.append(cov)
        blocks.append(block)
        nobs.append(n)
    return SampleStats(
        names=tuple(names),
        group_labels=labels,
        nobs=tuple(nobs),
        means=tuple(means),
        covs=tuple(covs),
        data=tuple(blocks),
        rows_dropped=dropped,
        rows_total=rows_total,
        rows_no_group=no_group,
    )


def _fiml_stats(
    frame: pd.DataFrame,
    x: np.ndarray,
    names: tuple[str, ...],
    labels: tuple,
    codes: np.ndarray,
    group: str | None,
    exogenous: tuple[str, ...],
    fiml_work_limit: float,
) -> SampleStats:
    """Sample statistics for FIML: missingness patterns and the EM saturated model per group
    (refused before the EM above ``fiml_work_limit`` units, :mod:`.work_limits`)."""

    rows_total = x.shape[0]
    keep = codes >= 0  # rows without a group value belong to no group
    exo = [names.index(v) for v in exogenous if v in names]
    if exo:
        miss_x = keep & np.isnan(x[:, exo]).any(axis=1)
        n_x = int(miss_x.sum())
        if n_x:
            first = frame.index[int(np.flatnonzero(miss_x)[0])]
            warn(
                f"{n_x} of {rows_total} rows were dropped because they miss a value of the "
                f"exogenous covariate(s) {', '.join(names[k] for k in exo)} (first: row "
                f"{first!r}); FIML treats covariates as fixed (fixed_x=True), as lavaan does",
                DataWarning,
            )
        keep &= ~miss_x
    empty = keep & np.isnan(x).all(axis=1)  # left out per group by pattern_stats
    n_empty = int(empty.sum())
    if n_empty:
        shown = ", ".join(repr(frame.index[k]) for k in np.flatnonzero(empty)[:10])
        warn(
            f"{n_empty} of {rows_total} rows are missing on every model variable and were "
            f"dropped (rows {shown}{', ...' if n_empty > 10 else ''}); FIML uses every row "
            "with at least one answer",
            DataWarning,
        )
    means, covs, blocks, nobs, patterns, h1 = [], [], [], [], [], []
    spent = 0.0  # the EM work of the groups before (one limit for all of them)
    for g, label in enumerate(labels):
        where = f" in group {label!r}" if group is not None else ""
        in_g = np.flatnonzero(keep & (codes == g))
        ps = pattern_stats(x[in_g], names, positions=in_g)
        n = ps.nobs
        if n < 2:
            raise DataError(f"only {n} row(s) with an answer{where}; FIML needs at least two")
        answered = ps.observed.T.astype(float) @ ps.counts
        empty_cols = [names[k] for k in np.flatnonzero(answered == 0)]
        if empty_cols:
            raise DataError(
                f"column(s) {', '.join(map(repr, empty_cols))} are empty{where} (all values "
                "missing); drop them from the model"
            )
        lone = [names[k] for k in np.flatnonzero(answered < 2)]
        const = []
        for k in range(len(names)):
            v = ps.data[:, k]
            v = v[~np.isnan(v)]
            if v.size >= 2 and np.ptp(v) <= 1e-12 * (1 + abs(v[0])):
                const.append(names[k])
        if lone or const:
            bad = lone + const
            raise DataError(
                f"column(s) {', '.join(map(repr, bad))} are constant{where} (one answer, or "
                "every answer the same); a constant item carries no information: drop it from "
                "the model"
            )
        cover = ps.coverage
        zero = [(names[i], names[j]) for i, j in zip(*np.nonzero(np.tril(cover == 0, -1)))]
        if zero:
            pairs = ", ".join(f"{a}/{b}" for a, b in zero[:5]) + (", ..." if len(zero) > 5
                                                                  else "")
            raise DataError(
                f"no row{where} answers both items of the pair(s) {pairs}, so their covariance "
                "cannot be estimated (zero coverage); drop one item of each pair, or use "
                "missing='listwise' on a subset with joint answers"
            )
        low = np.tril(cover < 0.1, -1)
        if low.any():
            warn(
                f"some pairs of items{where} are answered together by fewer than 10% of the "
                f"rows (lowest coverage {cover[np.tril_indices(len(names), -1)].min():.3f}); "
                "their covariances rest on few answers (see res.estimation.stats.patterns)",
                DataWarning,
            )
        work = spent + EM_ITERATIONS * em_work(ps.observed)
        if work > fiml_work_limit:
            raise DataError(
                f"missing='fiml' is not run on these data: the EM of the saturated model over "
                f"{len(ps.counts):,} distinct missing-data patterns of {len(names)} "
                f"variables{where} "
                + too_much(work, fiml_work_limit, f"at {EM_ITERATIONS} iterations")
                + "; or use missing='listwise' (the complete rows) or fewer items"
            )
        em = em_saturated(ps, work_limit=fiml_work_limit, work_before=spent)
        spent += em.iterations * em_work(ps.observed)
        if not em.converged:
            warn(
                f"the EM estimates of the saturated model{where} did not converge in "
                f"{em.iterations} iterations; the chi-square and fit measures may be off",
                DataWarning,
            )
        sd = np.sqrt(np.diag(em.cov))
        corr = em.cov / np.outer(sd, sd)
        eig, vec = np.linalg.eigh(corr)
        if eig[0] < 1e-10:
            involved = [names[k] for k in np.flatnonzero(np.abs(vec[:, 0]) > 0.1)]
            raise DataError(
                f"the (EM) covariance matrix{where} is singular: the columns "
                f"{', '.join(involved)} are linearly dependent (one is a combination of the "
                "others, e.g. a sum score); drop a redundant item"
            )
        means.append(em.mean)
        covs.append(em.cov)
        blocks.append(ps.data)
        nobs.append(n)
        patterns.append(ps)
        h1.append(em)
    return SampleStats(
        names=names,
        group_labels=labels,
        nobs=tuple(nobs),
        means=tuple(means),
        covs=tuple(covs),
        data=tuple(blocks),
        rows_dropped=int(rows_total - sum(nobs)),
        rows_total=rows_total,
        missing="fiml",
        patterns=tuple(patterns),
        h1=tuple(h1),
    )
