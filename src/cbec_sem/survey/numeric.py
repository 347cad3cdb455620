"""Strict cell-by-cell parsing of questionnaire answers into numbers.

pandas' own parsers are lenient in ways that hide data problems: ``read_csv`` turns ``"5 "``
into ``5`` and ``"n/a"`` into a missing value without a word.  Here a cell counts as a number
only if it *is* one (an ``int``/``float`` that is not ``bool``) or is a string that spells one
exactly (``"5"``, ``"-1.5"``, ``"2e3"``; no surrounding blanks, no thousands separators, no
decimal comma).  Everything else that is not missing is *non-numeric*, and callers report it.
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["NUMBER_PATTERN", "ParsedColumn", "parse_cell", "parse_column", "is_numeric_looking"]

#: Longer strings are never read as numbers (a cell of thousands of digits is a broken
#: export, and int() of it raises past Python's 4300-digit limit).
MAX_DIGITS = 100

#: A string is a number when it matches this pattern in full.
NUMBER_PATTERN = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class ParsedColumn:
    """One column parsed into floats.

    Attributes:
        values: float64 array, NaN where the cell was missing or non-numeric.
        non_numeric: boolean array, True where a present cell could not be read as a number.
        originals: the original cells (an object array; a numeric column's own values), to
            quote offending values in messages.
    """

    values: np.ndarray
    non_numeric: np.ndarray
    originals: np.ndarray

    @property
    def n_numeric(self) -> int:
        """Number of cells that hold a number."""
        return int(np.count_nonzero(~np.isnan(self.values)))

    @property
    def n_non_numeric(self) -> int:
        """Number of present cells that are not numbers."""
        return int(np.count_nonzero(self.non_numeric))


def _is_missing(cell: object) -> bool:
    """True for None, NaN, pd.NA and NaT; False for everything else, array-like cells included."""
    if not pd.api.types.is_scalar(cell):
        return False
    return bool(pd.isna(cell))


def parse_cell(cell: object) -> float | None:
    """Return the number a cell holds, NaN if it is missing, or None if it is non-numeric."""
    if _is_missing(cell):
        return float("nan")
    if isinstance(cell, (bool, np.bool_)):
        return None
    if isinstance(cell, numbers.Complex) and not isinstance(cell, numbers.Real):
        return None  # a complex cell in an object column: reported as non-numeric
    if isinstance(cell, (numbers.Real, Decimal)):
        return float(cell)
    if isinstance(cell, str) and len(cell) <= MAX_DIGITS and NUMBER_PATTERN.fullmatch(cell):
        value = float(cell)
        # "9" * 400 overflows to inf: not an answer anyone gave
        return value if math.isfinite(value) else None
    return None


def parse_column(series: pd.Series) -> ParsedColumn:
    """Parse a column into floats, marking the cells that are present but not numbers.

    Numeric dtypes (including pandas' nullable integer and float dtypes) are converted as they
    are; boolean and complex columns are refused (DataError naming the column): True/False or
    an imaginary part would otherwise be dropped into 1/0 or a real number without a word.  Object, string and categorical columns are parsed cell
    by cell with :func:`parse_cell`.
    """
    originals = series.to_numpy(dtype=object, na_value=None)
    if pd.api.types.is_complex_dtype(series.dtype):
        raise DataError(
            f"column {series.name!r} holds complex numbers; answers are real numbers: keep "
            "the real part explicitly (df[col] = df[col].real) if that is what you mean"
        )
    if pd.api.types.is_bool_dtype(series.dtype):
        raise DataError(
            f"column {series.name!r} is boolean (True/False), not answers; recode it to numbers "
            "explicitly (e.g. .astype(int)) if 1/0 is what you mean"
        )
    if (
        pd.api.types.is_numeric_dtype(series.dtype)
        and not isinstance(series.dtype, pd.CategoricalDtype)
    ):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return ParsedColumn(values, np.zeros(len(series), dtype=bool), originals)
    values = np.empty(len(series), dtype="float64")
    bad = np.zeros(len(series), dtype=bool)
    for i, cell in enumerate(originals):
        parsed = parse_cell(cell)
        if parsed is None:
            values[i] = np.nan
            bad[i] = True
        else:
            values[i] = parsed
    return ParsedColumn(values, bad, originals)


def is_numeric_looking(series: pd.Series) -> bool:
    """Whether a column could be a questionnaire item when items are not named.

    True for non-boolean numeric dtypes, for columns in which at least one cell is a number, and
    for columns with no answers at all (so that an empty item is reported, not dropped).
    Boolean and datetime columns are never numeric-looking.
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return False
    if pd.api.types.is_timedelta64_dtype(dtype):
        return False
    if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return True
    parsed = parse_column(series)
    return parsed.n_numeric > 0 or parsed.n_non_numeric == 0
