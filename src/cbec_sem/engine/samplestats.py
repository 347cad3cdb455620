"""From a user's table to the sample moments the estimator needs; the validation boundary.

Everything a user passes as data is checked here, once, with messages that name the column or
row: missing or duplicated columns, non-numeric columns, constant items, a singular covariance
matrix, a bad group variable.  Listwise deletion is announced with the number of rows dropped.
The caller's frame is never modified.

Sample covariances use the divisor N, as lavaan does for ML (``likelihood = "normal"``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, DataWarning
from ..survey._warn import warn


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
        data: the complete-case data matrices per group (rows × variables).
        rows_dropped: rows removed by listwise deletion.
        rows_total: rows in the data as given.
    """

    names: tuple[str, ...]
    group_labels: tuple
    nobs: tuple[int, ...]
    means: tuple[np.ndarray, ...]
    covs: tuple[np.ndarray, ...]
    data: tuple[np.ndarray, ...]
    rows_dropped: int
    rows_total: int

    @property
    def ntotal(self) -> int:
        return int(sum(self.nobs))

    @property
    def ngroups(self) -> int:
        return len(self.nobs)


def as_frame(data) -> pd.DataFrame:
    """Accept a DataFrame, a :class:`~cbec_sem.survey.Survey` or anything with ``to_frame()``."""
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_frame") and not isinstance(data, pd.Series):
        frame = data.to_frame()
        if isinstance(frame, pd.DataFrame):
            return frame
    if isinstance(data, dict):
        return pd.DataFrame(data)
    raise DataError(
        f"data must be a pandas DataFrame or a Survey from cs.load_survey(), not "
        f"{type(data).__name__}"
    )


def _check_columns(frame: pd.DataFrame, names: tuple[str, ...], group: str | None) -> None:
    columns = [str(c) for c in frame.columns]
    if group is not None and group not in frame.columns:
        close = difflib.get_close_matches(group, [str(c) for c in frame.columns], n=1)
        raise DataError(
            f"the group variable {group!r} is not a column of the data"
            + (f" (did you mean {close[0]!r}?)" if close else "")
        )
    wanted = list(names)
    # Only the columns the fit reads must be unambiguous; other duplicates are harmless.
    dupes = sorted({c for c in columns if columns.count(c) > 1 and c in wanted})
    if dupes:
        raise DataError(
            f"the data have duplicate column names: {', '.join(map(repr, dupes))} "
            f"({', '.join(str(columns.count(c)) for c in dupes)} columns); rename them so "
            "each column is one variable"
        )
    missing = [n for n in wanted if n not in frame.columns]
    if missing:
        lower = {c.lower(): c for c in columns}
        hints = []
        for n in missing:
            # A case-only difference ('X9' for 'x9') first, then a close spelling.
            close = [lower[n.lower()]] if n.lower() in lower else difflib.get_close_matches(
                n, columns, n=1)
            hints.append(f"{n!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise DataError(
            f"the model uses column(s) the data lack: {', '.join(hints)}; rename the columns "
            "or map your items onto the model (e.g. paper_model(items=...))"
        )


def _numeric_block(frame: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    dtypes = frame.dtypes[list(names)]
    if all(pd.api.types.is_float_dtype(t) or pd.api.types.is_integer_dtype(t) for t in dtypes):
        # The common case, in one step: numeric columns only need the infinity check.
        out = frame[list(names)].to_numpy(dtype=float, na_value=np.nan)
        if np.isfinite(out[~np.isnan(out)]).all():
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


def sample_stats(
    data,
    names: tuple[str, ...],
    group: str | None = None,
    missing: str = "listwise",
) -> SampleStats:
    """Validate ``data`` and compute the sample moments of ``names`` (per group).

    Raises:
        DataError: duplicate or missing columns, non-numeric columns, a bad group variable,
            a constant variable, or a singular covariance matrix.
    """
    frame = as_frame(data)
    _check_columns(frame, names, group)
    x = _numeric_block(frame, names)
    rows_total = x.shape[0]
    keep = ~np.isnan(x).any(axis=1)
    if group is not None:
        gcol = frame[group]
        if gcol.isna().any():
            n_na = int(gcol.isna().sum())
            raise DataError(
                f"the group variable {group!r} is missing in {n_na} row(s) (first: row "
                f"{int(np.flatnonzero(gcol.isna().to_numpy())[0])}); fill or drop those rows"
            )
        labels = tuple(pd.unique(gcol))
        if len(labels) < 2:
            raise DataError(
                f"the group variable {group!r} has a single value ({labels[0]!r}); a multi-group "
                "fit needs at least two groups"
            )
        codes = pd.Categorical(gcol, categories=list(labels)).codes
    else:
        labels = (None,)
        codes = np.zeros(rows_total, dtype=int)
    dropped = int((~keep).sum())
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
        centred = block - mean
        cov = centred.T @ centred / n
        sd = np.sqrt(np.diag(cov))
        const = [names[k] for k in np.flatnonzero(sd <= 1e-12 * (1 + np.abs(mean)))]
        if const:
            raise DataError(
                f"column(s) {', '.join(map(repr, const))} are constant{where} (every answer "
                f"equals {mean[names.index(const[0])]:g}); a constant item carries no "
                "information: drop it from the model"
            )
        corr = cov / np.outer(sd, sd)
        eig, vec = np.linalg.eigh(corr)
        if eig[0] < 1e-10:
            involved = [names[k] for k in np.flatnonzero(np.abs(vec[:, 0]) > 0.1)]
            few = n <= len(names)
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
    )
