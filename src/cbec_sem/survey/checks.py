"""Data-quality checks on questionnaire items.

Each check looks at the data and returns :class:`Finding` records; none of them changes the
data.  :func:`findings_frame` turns findings into the ``Survey.checks`` table with columns
``check, severity, column, rows, count, message``, where ``rows`` lists 0-based row positions
(at most :data:`MAX_LISTED_ROWS` of them; ``count`` is always the full number).

Severities: ``"error"`` means the item or row cannot be used as it is (a constant item, an
answer outside the scale, duplicate ids); ``"warning"`` means it can but should be looked at;
``"info"`` records what was done or found (reverse-keying, missing values).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .numeric import ParsedColumn
from .normality import mardia

__all__ = [
    "CHECK_COLUMNS",
    "MAX_LISTED_ROWS",
    "NEAR_CONSTANT_SHARE",
    "Finding",
    "findings_frame",
    "format_rows",
    "format_values",
    "check_non_numeric",
    "check_out_of_range",
    "check_non_integer",
    "check_variability",
    "check_missing",
    "check_items",
    "check_straightlining",
    "check_all_missing_rows",
    "check_multivariate_normality",
    "check_ids",
    "longstring",
    "item_missingness",
    "respondent_missingness",
]

CHECK_COLUMNS = ["check", "severity", "column", "rows", "count", "message"]
#: At most this many row positions are listed in ``Survey.checks.rows``.
MAX_LISTED_ROWS = 1000
#: An item is near-constant when one answer is given by at least this share of respondents.
NEAR_CONSTANT_SHARE = 0.95
_SHOWN = 10  # rows / values quoted in a message


@dataclass(frozen=True)
class Finding:
    """One row of ``Survey.checks``."""

    check: str
    severity: str
    column: str | None
    rows: tuple[int, ...]
    count: int
    message: str


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """The ``Survey.checks`` table, errors first, then warnings, then info, in finding order."""
    order = {"error": 0, "warning": 1, "info": 2}
    ranked = sorted(enumerate(findings), key=lambda pair: (order[pair[1].severity], pair[0]))
    records = [
        {
            "check": f.check,
            "severity": f.severity,
            "column": f.column,
            "rows": list(f.rows[:MAX_LISTED_ROWS]),
            "count": int(f.count),
            "message": f.message,
        }
        for _, f in ranked
    ]
    frame = pd.DataFrame(records, columns=CHECK_COLUMNS)
    frame["count"] = frame["count"].astype("int64")
    return frame


def format_rows(rows: Sequence[int]) -> str:
    """'rows 3, 17 and 40' or 'rows 3, 17, ... (and 12 more)' (0-based positions)."""
    rows = list(rows)
    if not rows:
        return "no rows"
    word = "row" if len(rows) == 1 else "rows"
    shown = ", ".join(str(r) for r in rows[:_SHOWN])
    extra = f" (and {len(rows) - _SHOWN} more)" if len(rows) > _SHOWN else ""
    return f"{word} {shown}{extra}"


def _format_value(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    text = repr(value)
    # a cell of thousands of characters is quoted by its ends, not in full
    return text if len(text) <= 60 else f"{text[:40]}...{text[-10:]} ({len(text)} characters)"


def format_values(values: Iterable[object]) -> str:
    """Distinct values in first-seen order, quoted, at most a few."""
    seen: list[object] = []
    keys: set[str] = set()
    for value in values:
        key = repr(value) if not isinstance(value, (float, np.floating)) else f"{float(value):g}"
        if key not in keys:
            keys.add(key)
            seen.append(value)
    text = ", ".join(_format_value(v) for v in seen[:_SHOWN])
    return text + (f" (and {len(seen) - _SHOWN} more)" if len(seen) > _SHOWN else "")


def _positions(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero(mask))


def _scale_text(scale: tuple[float, float]) -> str:
    return f"{scale[0]:g}-{scale[1]:g}"


# -- per item -----------------------------------------------------------------------------------


def check_non_numeric(name: str, parsed: ParsedColumn) -> Finding | None:
    """Cells of an item that are present but not numbers (they become missing in ``data``)."""
    if not parsed.n_non_numeric:
        return None
    rows = _positions(parsed.non_numeric)
    values = parsed.originals[parsed.non_numeric]
    return Finding(
        "non_numeric",
        "warning",
        name,
        rows,
        len(rows),
        f"{name!r}: {len(rows)} non-numeric cell(s) {format_values(values)} in "
        f"{format_rows(rows)}; set to missing in data",
    )


def check_out_of_range(
    name: str, values: np.ndarray, scale: tuple[float, float], *, set_missing: bool
) -> tuple[Finding | None, np.ndarray]:
    """Answers outside the item's scale.

    Returns the finding (or None) and the boolean mask of out-of-range cells.  With
    ``set_missing`` the finding says the cells were set to missing (the caller does it) and is a
    warning; otherwise the values stay and it is an error.
    """
    low, high = scale
    with np.errstate(invalid="ignore"):
        mask = (values < low) | (values > high)
    if not mask.any():
        return None, mask
    rows = _positions(mask)
    action = (
        "set to missing in data"
        if set_missing
        else "left in data (out_of_range='missing' sets them to missing)"
    )
    finding = Finding(
        "out_of_range",
        "warning" if set_missing else "error",
        name,
        rows,
        len(rows),
        f"{name!r}: {len(rows)} answer(s) outside the scale {_scale_text(scale)}, values "
        f"{format_values(values[mask])} in {format_rows(rows)}; {action}",
    )
    return finding, mask


def check_non_integer(name: str, values: np.ndarray, scale: tuple[float, float]) -> Finding | None:
    """Answers with a fractional part on a Likert item (one with a scale)."""
    with np.errstate(invalid="ignore"):
        mask = np.isfinite(values) & (values != np.round(values))
    if not mask.any():
        return None
    rows = _positions(mask)
    return Finding(
        "non_integer",
        "warning",
        name,
        rows,
        len(rows),
        f"{name!r}: {len(rows)} non-integer answer(s) {format_values(values[mask])} on the "
        f"{_scale_text(scale)} scale in {format_rows(rows)}",
    )


def check_variability(name: str, values: np.ndarray) -> Finding | None:
    """Empty, constant (one distinct answer) and near-constant items.

    Near-constant: one answer given in at least :data:`NEAR_CONSTANT_SHARE` of the answered
    rows; ``rows`` then lists the respondents who gave another answer.
    """
    answered = values[~np.isnan(values)]
    if answered.size == 0:
        return Finding("empty_item", "error", name, (), 0, f"{name!r}: no answers at all")
    distinct, counts = np.unique(answered, return_counts=True)
    if distinct.size == 1:
        return Finding(
            "constant_item",
            "error",
            name,
            (),
            int(answered.size),
            f"{name!r}: every one of the {answered.size} answers is {distinct[0]:g} "
            "(zero variance)",
        )
    top = int(np.argmax(counts))
    share = counts[top] / answered.size
    if share >= NEAR_CONSTANT_SHARE:
        with np.errstate(invalid="ignore"):
            others = ~np.isnan(values) & (values != distinct[top])
        rows = _positions(others)
        return Finding(
            "near_constant_item",
            "warning",
            name,
            rows,
            len(rows),
            f"{name!r}: {share:.1%} of the {answered.size} answers are {distinct[top]:g}; "
            f"only {len(rows)} differ ({format_rows(rows)})",
        )
    return None


def check_missing(name: str, values: np.ndarray) -> Finding | None:
    """Missing answers of an item (info; the ``missingness`` table has the numbers)."""
    mask = np.isnan(values)
    if not mask.any():
        return None
    rows = _positions(mask)
    return Finding(
        "missing",
        "info",
        name,
        rows,
        len(rows),
        f"{name!r}: {len(rows)} missing answer(s) ({len(rows) / values.size:.1%}) in "
        f"{format_rows(rows)}",
    )


def check_items(names: Sequence[str], matrix: np.ndarray) -> list[Finding]:
    """:func:`check_variability` then :func:`check_missing` of every item (column of
    ``matrix``), in item order, with the same findings as calling them item by item.

    Both are screened for all items at once, so that only the items with something to report
    are looked at one by one (20,000 calls of ``np.unique`` took seconds).  The screen for
    variability is exact: an answer given by at least :data:`NEAR_CONSTANT_SHARE` (> 1/2) of
    the answered rows fills the middle of the sorted answers, so it is the item's median, and
    an item is constant, near-constant or empty only if the share of its answers equal to its
    median reaches that share (or it has no answers).
    """
    present = ~np.isnan(matrix)
    answered = present.sum(axis=0)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: median NaN
        median = np.nanmedian(matrix, axis=0) if matrix.size else np.full(matrix.shape[1],
                                                                           np.nan)
        at_median = (matrix == median).sum(axis=0)
        # a hair below the share: the item-by-item check decides, the screen only narrows
        flagged = (answered == 0) | (at_median >= (NEAR_CONSTANT_SHARE - 1e-9) * answered)
    incomplete = (~present).any(axis=0)
    findings: list[Finding] = []
    for j in np.flatnonzero(flagged | incomplete):
        name, values = names[j], matrix[:, j]
        for check in (check_variability, check_missing):
            finding = check(name, values)
            if finding is not None:
                findings.append(finding)
    return findings


# -- per respondent -----------------------------------------------------------------------------


def longstring(matrix: np.ndarray) -> np.ndarray:
    """Longest run of identical consecutive answers per respondent (the longstring index).

    Items are taken in the given column order; a missing answer ends a run.  A respondent
    with no answers gets 0.  Same definition as ``careless::longstring`` on complete rows.
    Computed for all cells at once: a run starts at every answered cell that does not repeat
    the answer just before it in its row; each run's length is the number of answered cells
    that share its start.
    """
    n_rows, n_items = matrix.shape
    best = np.zeros(n_rows, dtype=np.int64)
    if matrix.size == 0:
        return best
    present = ~np.isnan(matrix)
    repeats = np.zeros_like(present)
    with np.errstate(invalid="ignore"):
        repeats[:, 1:] = present[:, 1:] & (matrix[:, 1:] == matrix[:, :-1])
    starts = (present & ~repeats).ravel()
    run = np.cumsum(starts)  # run number of each cell, row after row (0 before the first)
    lengths = np.bincount(run[present.ravel()], minlength=int(run[-1]) + 1)[1:]
    rows = np.flatnonzero(starts) // n_items
    np.maximum.at(best, rows, lengths)
    return best


def check_straightlining(matrix: np.ndarray, min_items: int) -> Finding | None:
    """Respondents who gave the same answer to every item they answered.

    Only respondents with at least ``min_items`` answered items are judged.  The matrix should
    hold the answers as given (before reverse-keying), since a straight-liner ignores keying.
    """
    answered = np.count_nonzero(~np.isnan(matrix), axis=1)
    eligible = answered >= max(min_items, 2)
    if not eligible.any():
        return None
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(np.where(eligible[:, None], matrix, 0.0), axis=1) - np.nanmin(
            np.where(eligible[:, None], matrix, 0.0), axis=1
        )
    mask = eligible & (spread == 0)
    if not mask.any():
        return None
    rows = _positions(mask)
    return Finding(
        "straightlining",
        "warning",
        None,
        rows,
        len(rows),
        f"{len(rows)} respondent(s) gave the same answer to every item (at least {min_items} "
        f"answered) in {format_rows(rows)}",
    )


def check_all_missing_rows(matrix: np.ndarray) -> Finding | None:
    """Respondents with no answer to any item."""
    if matrix.shape[1] == 0:
        return None
    mask = np.isnan(matrix).all(axis=1)
    if not mask.any():
        return None
    rows = _positions(mask)
    return Finding(
        "all_items_missing",
        "warning",
        None,
        rows,
        len(rows),
        f"{len(rows)} respondent(s) answered no item at all: {format_rows(rows)}",
    )


def check_multivariate_normality(matrix: np.ndarray, items: Sequence[str]) -> Finding | None:
    """Mardia's (1970) multivariate skewness and kurtosis of the items, on the complete rows
    (:func:`cbec_sem.survey.mardia`, as ``psych::mardia``); a warning when either rejects
    normality at .05, since normal-theory ML standard errors and tests then mislead."""

    complete = matrix[~np.isnan(matrix).any(axis=1)] if matrix.size else matrix
    p = matrix.shape[1]
    if p < 2 or complete.shape[0] < p + 2:
        return None
    try:
        m = mardia(pd.DataFrame(complete, columns=list(items)))
    except Exception:  # a singular covariance matrix: other checks report the cause
        return None
    skew, kurt = m.loc["skew"], m.loc["kurtosis"]
    rejected = min(float(skew["pvalue"]), float(kurt["pvalue"])) < 0.05
    text = (
        f"Mardia's multivariate skewness b1p = {skew['coefficient']:.3f} "
        f"(p = {skew['pvalue']:.3g}) and kurtosis b2p = {kurt['coefficient']:.3f} "
        f"(normal: {kurt['expected']:.0f}; p = {kurt['pvalue']:.3g}) on {complete.shape[0]} "
        "complete rows; "
    )
    text += ("the items are not multivariate normal: prefer robust ML (estimator='MLR') or, "
             "for items with few categories, WLSMV (cs.choose_estimator says which)"
             if rejected else "no evidence against multivariate normality")
    return Finding("multivariate_normality", "warning" if rejected else "info", None, (),
                   int(complete.shape[0]), text)


def check_ids(name: str, ids: pd.Series) -> list[Finding]:
    """Duplicate ids (error; every occurrence listed) and missing ids (warning)."""
    findings: list[Finding] = []
    missing = ids.isna().to_numpy()
    duplicated = (ids.duplicated(keep=False).to_numpy() & ~missing)
    if duplicated.any():
        rows = _positions(duplicated)
        findings.append(
            Finding(
                "duplicate_id",
                "error",
                name,
                rows,
                len(rows),
                f"id column {name!r}: id(s) {format_values(ids[duplicated].tolist())} occur more "
                f"than once, in {format_rows(rows)}",
            )
        )
    if missing.any():
        rows = _positions(missing)
        findings.append(
            Finding(
                "missing_id",
                "warning",
                name,
                rows,
                len(rows),
                f"id column {name!r}: {len(rows)} missing id(s) in {format_rows(rows)}",
            )
        )
    return findings


# -- missingness tables -------------------------------------------------------------------------


def item_missingness(data: pd.DataFrame, items: Sequence[str]) -> pd.DataFrame:
    """Per item: ``n_missing`` and ``pct_missing`` (percent of rows, 0-100)."""
    n_rows = len(data)
    n_missing = data[list(items)].isna().sum(axis=0).astype("int64")
    pct = n_missing / n_rows * 100.0 if n_rows else n_missing.astype("float64") * np.nan
    frame = pd.DataFrame({"n_missing": n_missing, "pct_missing": pct.astype("float64")})
    frame.index.name = "item"
    return frame


def respondent_missingness(data: pd.DataFrame, items: Sequence[str]) -> pd.DataFrame:
    """Per row of ``data`` (same index): ``n_missing`` and ``pct_missing`` over the items."""
    n_items = len(items)
    n_missing = data[list(items)].isna().sum(axis=1).astype("int64")
    pct = n_missing / n_items * 100.0 if n_items else n_missing.astype("float64") * np.nan
    return pd.DataFrame({"n_missing": n_missing, "pct_missing": pct.astype("float64")})
