"""The data check every fit runs, whether its data came through ``load_survey`` or not.

``load_survey`` reports everything it finds in ``Survey.checks``, but a fit is often given a
bare DataFrame, and a Survey loaded with ``out_of_range="report"`` still holds its
out-of-range answers.  :func:`check_fit_data` looks at the model's columns (and the group
column) once more, at fit time, and turns what would otherwise be a silent wrong result into
an error or a warning that names the column (issue 14):

* hierarchical (MultiIndex) columns — refused;
* complex-valued columns (numpy would drop the imaginary part) — refused;
* boolean columns (True/False read as 1/0 without a word) — refused: recode explicitly;
* a group column whose labels differ only in type (``1`` and ``"1"``: two groups that print
  alike) — refused;
* answers outside the Survey's declared scale — a DataWarning naming the column, the values
  and the rows (the user declared the scale and chose ``out_of_range="report"``);
* without a declared scale, values that look like missing-value codes (99, -9, 999, ...)
  standing apart from a rating item's other answers — refused with a DataError naming the
  column, the values and the rows, before any estimation: fitted as numbers they give wrong
  estimates, and a single 99 among 1–7 answers drove the ML fit through 500 iterations to
  non-convergence (issue 14).  ``cs.load_survey(data, missing_codes=[99])`` reads them as
  missing; declaring the scale (``scale=(1, 99)``) says they are answers.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError
from ..errors import warn
from .checks import format_rows, format_values
from .survey import SCALES_ATTR, Survey

__all__ = ["MISSING_CODES", "check_fit_data", "checked_block"]

#: Values questionnaires commonly use to code a missing answer (SPSS/Stata conventions).
MISSING_CODES = frozenset({-9999, -999, -99, -98, -97, -9, -8, -7, 77, 88, 97, 98, 99, 999,
                           9999})
#: Largest |value| a fit accepts: covariances of larger values overflow (1e154² > 1.8e308).
MAX_MAGNITUDE = 1e150
#: An item whose other answers take at most this many distinct values is a rating scale.
_SCALE_LEVELS = 11
_CODES = np.array(sorted(MISSING_CODES), dtype=float)


def _frame_and_scales(data: object) -> tuple[pd.DataFrame | None, dict[str, tuple]]:
    if isinstance(data, Survey):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        scales = data.attrs.get(SCALES_ATTR)
        return data, dict(scales) if isinstance(scales, dict) else {}
    return None, {}  # the estimator's own reader refuses other types


def _plain_number(dtype) -> bool:
    """A NumPy integer or float dtype: a column that needs no further look."""
    return isinstance(dtype, np.dtype) and dtype.kind in "iuf"


def _column_kind_problem(name: str, dtype, column) -> str | None:
    """What is wrong with a column of this dtype, or None; ``column()`` gives its values
    (read only for object columns, the one dtype that needs them)."""
    if _plain_number(dtype):
        return None
    if pd.api.types.is_complex_dtype(dtype):
        return (f"column {name!r} holds complex numbers; answers are real numbers: keep the "
                "real part explicitly (df[col] = df[col].real) if that is what you mean")
    if pd.api.types.is_bool_dtype(dtype):
        return (f"column {name!r} is boolean (True/False); recode it to numbers explicitly, "
                f"e.g. df[{name!r}] = df[{name!r}].astype(int), if 1/0 is what you mean")
    if dtype == object:
        present = column().dropna()
        if any(isinstance(v, (bool, np.bool_)) for v in present):
            return (f"column {name!r} holds True/False values; recode them to numbers "
                    "explicitly")
        if any(isinstance(v, complex) for v in present):
            return f"column {name!r} holds complex numbers; answers are real numbers"
    return None


def _group_problem(group: str, col: pd.Series) -> str | None:
    labels = pd.unique(col.dropna())
    by_text: dict[str, list[object]] = {}
    for label in labels:
        by_text.setdefault(str(label), []).append(label)
    clash = next((v for v in by_text.values() if len(v) > 1), None)
    if clash is None:
        return None
    shown = " and ".join(f"{v!r} ({type(v).__name__})" for v in clash)
    return (f"the group variable {group!r} has labels that differ only in type: {shown}; they "
            "would form separate groups that print alike. Make the column one type, e.g. "
            f"df[{group!r}] = df[{group!r}].astype(str)")


def _is_number(dtype) -> bool:
    return (_plain_number(dtype) or pd.api.types.is_integer_dtype(dtype)
            or pd.api.types.is_float_dtype(dtype))


def _numeric(col: pd.Series) -> np.ndarray | None:
    if not _is_number(col.dtype):
        return None
    return col.to_numpy(dtype=float, na_value=np.nan)


def _outside_scale(name: str, values: np.ndarray, scale: tuple) -> str | None:
    """A warning about answers outside the declared ``scale`` (None when there are none)."""
    low, high = scale
    with np.errstate(invalid="ignore"):
        mask = (values < low) | (values > high)
    if not mask.any():
        return None
    rows = tuple(int(i) for i in np.flatnonzero(mask))
    return (f"{name!r}: {len(rows)} answer(s) outside its scale {low:g}–{high:g} "
            f"(values {format_values(values[mask])} in {format_rows(rows)}) are fitted "
            "as numbers; if they code missing answers, set them to NaN (load_survey("
            "..., out_of_range='missing'))")


def _missing_code_problem(name: str, values: np.ndarray) -> str | None:
    """Why a rating item's values look like missing-value codes (None when they do not)."""
    with np.errstate(invalid="ignore"):
        present = values[np.isfinite(values)]
        if present.size == 0 or not np.all(present == np.round(present)):
            return None
        codes = np.isin(values, list(MISSING_CODES))
        rest = present[~np.isin(present, list(MISSING_CODES))]
        if not codes.any() or rest.size == 0 or np.unique(rest).size > _SCALE_LEVELS:
            return None
        lo, hi = float(rest.min()), float(rest.max())
        mask = codes & ((values < lo) | (values > hi))
        if not mask.any():
            return None
        rows = tuple(int(i) for i in np.flatnonzero(mask))
        codes = ", ".join(f"{v:g}" for v in np.unique(values[mask]))
        return (f"{name!r}: {len(rows)} answer(s) {format_values(values[mask])} in "
                f"{format_rows(rows)} look like missing-value codes (the other answers lie in "
                f"{lo:g}–{hi:g}); fitted as numbers they would give wrong estimates. Read them "
                f"as missing: cs.load_survey(data, missing_codes=[{codes}]) (or set them to "
                "NaN); if they are real answers, declare the scale: cs.load_survey(data, "
                f"scale=({lo:g}, {max(hi, float(values[mask].max())):g}))")


def as_frame(data) -> pd.DataFrame:
    """The one place where data become a frame: a DataFrame as it is, a
    :class:`~cbec_sem.survey.Survey` (or anything with ``to_frame()``) or a dict of columns;
    anything else is refused with a DataError."""
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


def check_fit_data(data: object, names: Sequence[str], *, group: str | None = None) -> list[str]:
    """Refuse data layouts that would give silent wrong results; warn about answers outside
    a declared scale.  Returns the warnings issued (DataWarning), in column order.

    Raises:
        DataError: MultiIndex columns, a complex or boolean model column, a group column
            whose labels differ only in type, values that look like missing-value codes in
            an item without a declared scale.  Each message names the column (and the rows).
    """
    return checked_block(data, names, group=group)[0]


def checked_block(data: object, names: Sequence[str], *, group: str | None = None,
                  listed: list | None = None) -> tuple[list[str], np.ndarray | None]:
    """:func:`check_fit_data`, and the values it checked: the rows × ``names`` float block
    when every name is a distinct numeric column (``None`` otherwise), so that the fit reads
    the data once (issue 15).  ``listed``: the frame's column labels as a list, when the
    caller has them already (``frame.columns.tolist()``)."""
    if group is not None and not isinstance(group, Hashable):
        raise DataError(f"group={group!r} must be one column name")
    frame, scales = _frame_and_scales(data)
    if frame is None:
        return [], None
    if isinstance(frame.columns, pd.MultiIndex):
        example = frame.columns[0] if len(frame.columns) else ()
        raise DataError(
            f"the data have hierarchical (MultiIndex) columns, e.g. {example!r}; flatten them "
            "first, e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns]"
        )
    # the column names as Python objects at once: iterating or probing a pandas string
    # Index name by name converts each element again (~40 µs for 20 columns)
    where = {c: i for i, c in enumerate(frame.columns.tolist() if listed is None else listed)}
    present = [n for n in names if n in where]
    if len(where) != frame.shape[1]:  # a duplicate name: column by column (the reader names it)
        return _check_columns_one_by_one(frame, present, scales, group), None
    pos = np.array([where[n] for n in present], dtype=np.intp)
    all_dtypes = frame.dtypes.to_numpy()
    dtypes = all_dtypes[pos]
    for name, dtype, p in zip(present, dtypes, pos):
        problem = _column_kind_problem(name, dtype, lambda p=p: frame.iloc[:, p])
        if problem is not None:
            raise DataError(problem)
    _check_group(frame, group)
    # The numeric columns as one block: the checks below are vectorised over it, and only a
    # column that may hold something to report (a huge value, a missing-value code, a scale
    # to check) is looked at one by one, in column order, as before.
    numeric = [k for k, dtype in enumerate(dtypes) if _is_number(dtype)]
    if not numeric:
        return [], None
    block = _float_block(frame, pos[numeric], all_dtypes)
    looked_at = _with_codes_or_huge_values(block)
    messages: list[str] = []
    for j, k in enumerate(numeric):
        name = present[k]
        if looked_at[j] or name in scales:
            _check_values(name, block[:, j], scales.get(name), messages)
    whole = len(numeric) == len(present) == len(names)
    return messages, (block if whole else None)


#: No missing-value code or huge value is smaller in magnitude than this.
_SMALLEST_FLAGGED = min(min(abs(c) for c in MISSING_CODES), MAX_MAGNITUDE)


def _with_codes_or_huge_values(block: np.ndarray) -> np.ndarray:
    """Which columns of ``block`` hold a missing-value code (:data:`MISSING_CODES`) or a finite
    value beyond :data:`MAX_MAGNITUDE`.  Rating-scale answers are far below the smallest
    such magnitude, so one comparison clears the columns of a questionnaire and only the
    others are searched."""
    with np.errstate(invalid="ignore"):
        candidates = (np.abs(block) >= _SMALLEST_FLAGGED).any(axis=0)
    out = np.zeros(block.shape[1], dtype=bool)
    if candidates.any():
        part = block[:, candidates]
        with np.errstate(invalid="ignore"):
            huge = (np.isfinite(part) & (np.abs(part) > MAX_MAGNITUDE)).any(axis=0)
        out[candidates] = huge | np.isin(part, _CODES).any(axis=0)
    return out


def _float_block(frame: pd.DataFrame, pos: np.ndarray, dtypes: np.ndarray) -> np.ndarray:
    """The columns at ``pos`` as one float array (rows × columns; missing values NaN).

    A frame of plain NumPy numbers that holds little else is converted whole and then
    indexed (a fifth of the cost of ``take`` for a 20-item questionnaire); any other frame
    gives up its columns by ``take``.  ``dtypes``: the frame's column dtypes."""
    if frame.shape[1] <= 2 * len(pos) and all(_plain_number(d) for d in dtypes):
        whole = frame.to_numpy(dtype=float, copy=True)  # never a view of the caller's data
        return whole if np.array_equal(pos, np.arange(frame.shape[1])) else whole[:, pos]
    return frame.take(pos, axis=1).to_numpy(dtype=float, na_value=np.nan)


def _check_columns_one_by_one(frame: pd.DataFrame, present: list[str], scales: dict,
                              group: str | None) -> list[str]:
    """:func:`check_fit_data` on a frame with duplicate column names (the slow path)."""
    for name in present:
        col = frame[name]
        if isinstance(col, pd.DataFrame):
            continue  # a duplicate name: the estimator's reader names it
        problem = _column_kind_problem(name, col.dtype, lambda col=col: col)
        if problem is not None:
            raise DataError(problem)
    _check_group(frame, group)
    messages: list[str] = []
    for name in present:
        col = frame[name]
        if isinstance(col, pd.DataFrame):
            continue
        values = _numeric(col)
        if values is not None:
            _check_values(name, values, scales.get(name), messages)
    return messages


def _check_group(frame: pd.DataFrame, group: str | None) -> None:
    if group is not None and group in frame.columns and isinstance(frame[group], pd.Series):
        problem = _group_problem(group, frame[group])
        if problem is not None:
            raise DataError(problem)


def _check_values(name: str, values: np.ndarray, scale: tuple | None,
                  messages: list[str]) -> None:
    """Refuse values whose squares overflow, and values that look like missing-value codes
    when no scale is declared; warn about answers outside a declared scale (appended to
    ``messages``)."""
    with np.errstate(invalid="ignore"):
        # (±inf is the engine's own "infinite value" error, which names the row)
        huge = np.isfinite(values) & (np.abs(values) > MAX_MAGNITUDE)
    if huge.any():
        rows = tuple(int(i) for i in np.flatnonzero(huge))
        raise DataError(
            f"column {name!r} holds values too large to fit "
            f"({format_values(values[huge])} in {format_rows(rows)}): their squares "
            f"overflow double precision; rescale the column (e.g. divide by 1e100)")
    if scale is None:
        problem = _missing_code_problem(name, values)
        if problem is not None:
            raise DataError(problem)
        return
    message = _outside_scale(name, values, scale)
    if message is not None:
        messages.append(message)
        warn(message)
