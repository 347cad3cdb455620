"""Reading a survey from a file or a DataFrame into a raw table plus file metadata.

One function, :func:`read_source`, dispatches on the file extension.  Readers do no cleaning:
they return the table as the file holds it, with three exceptions that are reported, not hidden:

* CSV and Excel columns become numeric only if *every* present cell is a number or spells one
  exactly, so ``"5 "`` or ``"n/a"`` stay visible for the checks (pandas would silently turn
  them into 5 and NaN).  Only empty cells are missing.
* SPSS user-missing codes (e.g. 99 = "refused") become NaN, as in SPSS itself; each column's
  conversion is returned as a note and ends up as an ``info`` row of ``Survey.checks``.
* Duplicate column names are an error (pandas would rename them ``x.1``).

pyreadstat, openpyxl and pyarrow are optional (``pip install "cbec-sem[io]"``) and imported only
when a file needs them.
"""

from __future__ import annotations

import csv
import importlib
from collections import Counter
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .numeric import parse_cell

__all__ = ["ReadResult", "ReaderNote", "SUPPORTED_FORMATS", "read_source", "require"]

#: File extensions understood by :func:`read_source`, with what they are.
SUPPORTED_FORMATS: dict[str, str] = {
    ".csv": "CSV",
    ".txt": "delimited text (delimiter sniffed)",
    ".tsv": "tab-separated text",
    ".xlsx": "Excel",
    ".xlsm": "Excel",
    ".xls": "Excel 97-2003",
    ".sav": "SPSS",
    ".zsav": "SPSS (compressed)",
    ".dta": "Stata",
    ".parquet": "Parquet",
    ".pq": "Parquet",
}

_IO_HINT = 'pip install "cbec-sem[io]"'


@dataclass(frozen=True)
class ReaderNote:
    """Something the reader did to the file's values that the user should see in the checks."""

    check: str
    column: str
    rows: tuple[int, ...]
    message: str


@dataclass(frozen=True)
class ReadResult:
    """A table as read, plus what the file says about its variables.

    Attributes:
        frame: the table (a new object, never the caller's).
        source: a short description of where it came from (file path or "DataFrame").
        variable_labels: column -> label, from SPSS/Stata files.
        value_labels: column -> {value: label}, from SPSS/Stata files.
        notes: conversions done while reading (SPSS user-missing codes).
    """

    frame: pd.DataFrame
    source: str
    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    notes: tuple[ReaderNote, ...] = ()


def require(module: str, purpose: str, hint: str = _IO_HINT) -> ModuleType:
    """Import an optional dependency, or raise a DataError that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DataError(f"{purpose} needs the optional package {module!r}: {hint}") from exc


def _check_duplicates(names: list[object], source: str) -> None:
    dupes = [name for name, n in Counter(names).items() if n > 1]
    if dupes:
        listed = ", ".join(repr(d) for d in dupes)
        raise DataError(
            f"{source} has duplicate column name(s) {listed}; every column needs a unique name"
        )


def _supported_list() -> str:
    return ", ".join(f"{ext} ({what})" for ext, what in SUPPORTED_FORMATS.items())


# -- text ---------------------------------------------------------------------------------------


def _sniff_delimiter(sample: str, path: Path) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error as exc:
        raise DataError(
            f"cannot tell the delimiter of {str(path)!r}; save it as .csv (comma) or .tsv (tab), "
            "or read it with pandas and pass the DataFrame"
        ) from exc


def _strict_infer(column: pd.Series) -> pd.Series:
    """Type a column of raw cells strictly: numeric only if *every* present cell is a number.

    A cell is a number if it is one or is a string spelling one exactly (see
    :func:`.numeric.parse_cell`).  Other columns keep their cells as they are (``"5 "`` stays
    ``"5 "``), typed by ``infer_objects`` (text, dates, booleans).
    """
    present = column.dropna()
    if not present.empty and all(parse_cell(cell) is not None for cell in present):
        return pd.to_numeric(column)
    return column.infer_objects()


def _type_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Apply :func:`_strict_infer` to every column (names are unique by now)."""
    return pd.DataFrame(
        {name: _strict_infer(frame[name]) for name in frame.columns},
        index=frame.index,
        columns=frame.columns,
    )


def _read_text(path: Path) -> pd.DataFrame:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(64 * 1024)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{str(path)!r} is not UTF-8 text; read it with pandas and the right encoding "
            "(e.g. pd.read_csv(path, encoding='gb18030')) and pass the DataFrame"
        ) from exc
    suffix = path.suffix.lower()
    delimiter = {".csv": ",", ".tsv": "\t"}.get(suffix) or _sniff_delimiter(sample, path)
    header = next(csv.reader(sample.splitlines()[:1], delimiter=delimiter), [])
    _check_duplicates(header, repr(str(path)))
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"cannot read {str(path)!r} as delimited text: {exc}") from exc
    return _type_columns(frame)


# -- Excel --------------------------------------------------------------------------------------


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    engine = "xlrd" if path.suffix.lower() == ".xls" else "openpyxl"
    hint = "pip install xlrd" if engine == "xlrd" else _IO_HINT
    require(engine, f"reading {path.suffix} files", hint)
    sheet_name = 0 if sheet is None else sheet
    try:
        header = pd.read_excel(path, sheet_name=sheet_name, header=None, nrows=1, engine=engine)
        names = [] if header.empty else list(header.iloc[0])
        where = f"{str(path)!r} (sheet {sheet_name!r})"
        _check_duplicates([n for n in names if not pd.isna(n)], where)
        # dtype=object: pandas would otherwise parse text cells such as "5 " into numbers
        frame = pd.read_excel(
            path,
            sheet_name=sheet_name,
            dtype=object,
            keep_default_na=False,
            na_values=[""],
            engine=engine,
        )
    except DataError:
        raise
    except (ValueError, KeyError, IndexError, OSError) as exc:
        raise DataError(f"cannot read sheet {sheet_name!r} of {str(path)!r}: {exc}") from exc
    return _type_columns(frame)


# -- SPSS / Stata -------------------------------------------------------------------------------


def _apply_user_missing(
    frame: pd.DataFrame, ranges: dict[str, list[dict[str, Any]]]
) -> tuple[pd.DataFrame, list[ReaderNote]]:
    """Set SPSS user-missing codes to NaN, as SPSS does, and say where."""
    notes: list[ReaderNote] = []
    for column, column_ranges in ranges.items():
        if column not in frame.columns:
            continue
        values = frame[column]
        hit = np.zeros(len(frame), dtype=bool)
        for rng in column_ranges:
            lo, hi = rng.get("lo"), rng.get("hi")
            if pd.api.types.is_numeric_dtype(values.dtype):
                hit |= ((values >= lo) & (values <= hi)).to_numpy(dtype=bool, na_value=False)
            else:
                hit |= (values == lo).to_numpy(dtype=bool, na_value=False)
        if hit.any():
            codes = sorted({v for v in values[hit]}, key=str)
            frame[column] = values.mask(pd.Series(hit, index=values.index))
            rows = tuple(int(i) for i in np.flatnonzero(hit))
            notes.append(
                ReaderNote(
                    "user_missing",
                    column,
                    rows,
                    f"{column!r}: {len(rows)} SPSS user-missing code(s) "
                    f"{', '.join(f'{c:g}' if isinstance(c, float) else repr(c) for c in codes)} "
                    "read as missing, as SPSS does",
                )
            )
    return frame, notes


def _read_spss(path: Path) -> ReadResult:
    pyreadstat = require("pyreadstat", "reading SPSS .sav files")
    try:
        frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except Exception as exc:  # pyreadstat raises its own ReadstatError / PyreadstatError
        raise DataError(f"cannot read {str(path)!r} as an SPSS file: {exc}") from exc
    _check_duplicates(list(frame.columns), repr(str(path)))
    frame, notes = _apply_user_missing(frame, dict(meta.missing_ranges or {}))
    return ReadResult(
        frame=frame,
        source=str(path),
        variable_labels={k: v for k, v in (meta.column_names_to_labels or {}).items() if v},
        value_labels={k: dict(v) for k, v in (meta.variable_value_labels or {}).items()},
        notes=tuple(notes),
    )


def _read_stata(path: Path) -> ReadResult:
    pyreadstat = require("pyreadstat", "reading Stata .dta files")
    try:
        frame, meta = pyreadstat.read_dta(str(path))
    except Exception as exc:  # pyreadstat raises its own ReadstatError / PyreadstatError
        raise DataError(f"cannot read {str(path)!r} as a Stata file: {exc}") from exc
    _check_duplicates(list(frame.columns), repr(str(path)))
    return ReadResult(
        frame=frame,
        source=str(path),
        variable_labels={k: v for k, v in (meta.column_names_to_labels or {}).items() if v},
        value_labels={k: dict(v) for k, v in (meta.variable_value_labels or {}).items()},
    )


# -- Parquet ------------------------------------------------------------------------------------


def _read_parquet(path: Path) -> pd.DataFrame:
    require("pyarrow", "reading Parquet files")
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {str(path)!r} as a Parquet file: {exc}") from exc


# -- dispatch -----------------------------------------------------------------------------------


def read_source(
    source: str | PathLike[str] | pd.DataFrame, *, sheet: str | int | None = None
) -> ReadResult:
    """Read a survey table from a path or take a copy of a DataFrame.

    Args:
        source: a DataFrame, or a path to one of :data:`SUPPORTED_FORMATS`.
        sheet: Excel sheet name or 0-based position (default: the first sheet).

    Raises:
        DataError: missing file, unsupported extension, unreadable content, duplicate column
            names, a missing optional dependency, or ``sheet`` given for a non-Excel source.
    """
    if isinstance(source, pd.DataFrame):
        if sheet is not None:
            raise DataError("sheet= applies to Excel files only, not to a DataFrame")
        _check_duplicates(list(source.columns), "the DataFrame")
        return ReadResult(frame=source.copy(deep=True), source="DataFrame")
    if not isinstance(source, (str, PathLike)):
        raise DataError(
            f"source must be a file path or a pandas DataFrame, got {type(source).__name__}"
        )
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_FORMATS:
        raise DataError(
            f"cannot read {str(path)!r}: unknown file type {suffix or '(no extension)'!r}; "
            f"supported: {_supported_list()}, or pass a pandas DataFrame"
        )
    if not path.is_file():
        raise DataError(f"survey file {str(path)!r} does not exist")
    is_excel = suffix in (".xlsx", ".xlsm", ".xls")
    if sheet is not None and not is_excel:
        raise DataError(f"sheet= applies to Excel files only, not to {str(path)!r}")
    if suffix in (".csv", ".txt", ".tsv"):
        frame = _read_text(path)
    elif is_excel:
        frame = _read_excel(path, sheet)
    elif suffix in (".sav", ".zsav"):
        return _read_spss(path)
    elif suffix == ".dta":
        return _read_stata(path)
    else:
        frame = _read_parquet(path)
    _check_duplicates(list(frame.columns), repr(str(path)))
    return ReadResult(frame=frame, source=str(path))
