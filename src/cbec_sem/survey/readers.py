"""Reading a survey from a file or a DataFrame into a raw table plus file metadata.

One function, :func:`read_source`, dispatches on the file extension.  Readers do no cleaning:
they return the table as the file holds it, with three exceptions that are reported, not hidden:

* CSV and Excel columns become numeric only if *every* present cell is a number or spells one
  exactly, so ``"5 "`` or ``"n/a"`` stay visible for the checks (pandas would silently turn
  them into 5 and NaN).  Only empty cells are missing.
* SPSS user-missing codes (e.g. 99 = "refused") and Stata's extended missing values (``.a``)
  become NaN, as in SPSS and Stata themselves; each column's conversion is returned as a note
  and ends up as an ``info`` row of ``Survey.checks``.
* Duplicate column names are an error (pandas would rename them ``x.1``).

Text files are read with the csv module, not ``pd.read_csv``, so that the real-world quirks
that made pandas shift or merge columns without a word are seen (issue 14): a byte-order mark
(UTF-8 or UTF-16), Excel's ``sep=;`` first line, a ``;``-separated file with decimal commas
saved as ``.csv`` (detected, or ``sep=``/``decimal=``), a separator at the end of every line
(the columns are not shifted), lines with more fields than the header (an error naming the
line) or fewer (missing answers, reported).  How the file was split is reported in the checks,
and a file that still reads as one column whose name holds another separator is warned about.
Corrupt or truncated Excel, SPSS, Stata and Parquet files raise :class:`DataError`.

pyreadstat, openpyxl and pyarrow are optional (``pip install "cbec-sem[io]"``) and imported only
when a file needs them.
"""

from __future__ import annotations

import csv
import importlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..errors import warn
from .numeric import MAX_DIGITS, NUMBER_PATTERN, parse_cell

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


#: Delimiters tried, in order of preference, when a text file does not say which it uses.
_DELIMITERS = (",", ";", "\t", "|")
#: A decimal-comma number ("4,5", "-0,25"): the sign of a European-locale export.
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


@dataclass(frozen=True)
class TextLayout:
    """How a delimited text file was read (the choices are reported as notes)."""

    delimiter: str
    decimal: str
    notes: tuple[ReaderNote, ...] = ()


def _decode(path: Path) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark) or BOM-marked UTF-16."""
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # Excel's "Unicode text" export
    else:
        encoding = "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{str(path)!r} is not UTF-8 text (byte {exc.start}); read it with pandas and the "
            "right encoding (e.g. pd.read_csv(path, encoding='gb18030')) and pass the DataFrame"
        ) from exc


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    try:
        return [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
    except csv.Error:
        return []


def _choose_delimiter(lines: list[str], preferred: str | None) -> str | None:
    """The delimiter that splits the header into the most fields and the rows consistently
    (a row may have one extra, empty field: a trailing separator)."""
    best, best_fields = None, 1
    order = ([preferred] if preferred else []) + [d for d in _DELIMITERS if d != preferred]
    for delimiter in order:
        counts = _field_counts(lines, delimiter)
        if not counts or counts[0] < 2:
            continue
        consistent = sum(c in (counts[0], counts[0] + 1) for c in counts[1:])
        if consistent < 0.9 * (len(counts) - 1):
            continue
        if counts[0] > best_fields:
            best, best_fields = delimiter, counts[0]
    if best is None and len(lines) > 1:
        # one column whose data lines all end with the same separator (a trailing one)
        for delimiter in order:
            try:
                rows = list(csv.reader(lines[1:], delimiter=delimiter))
            except csv.Error:
                continue
            if rows and all(len(r) == 2 and r[1] == "" for r in rows):
                return delimiter
    return best


def _layout(text: str, path: Path, sep: str | None, decimal: str | None) -> tuple[str, TextLayout]:
    """Strip an Excel ``sep=`` line, then choose the delimiter and the decimal mark."""
    notes: list[ReaderNote] = []
    first, _, rest = text.partition("\n")
    hint = first.strip()
    if hint.lower().startswith("sep=") and len(hint) == 5:
        if sep is None:
            sep = hint[4]
        text = rest
    sample = [line for line in text[: 256 * 1024].splitlines()[:200] if line.strip()]
    suffix = path.suffix.lower()
    if sep is not None:
        if not isinstance(sep, str) or len(sep) != 1 or sep in "\"\r\n" or sep.isalnum():
            raise DataError(f"sep={sep!r} must be one separator character, e.g. ',' or ';'")
        delimiter = sep
    else:
        preferred = {".csv": ",", ".tsv": "\t"}.get(suffix)
        chosen = _choose_delimiter(sample, preferred)
        # None: one column, or rows no delimiter splits consistently (_rows then names the
        # first bad line)
        if chosen is None:
            chosen = preferred or ","
        delimiter = chosen
        if preferred is not None and delimiter != preferred:
            notes.append(ReaderNote(
                "delimiter", "", (),
                f"{str(path)!r} is read as {delimiter!r}-separated, not {preferred!r} as its "
                f"extension suggests (pass sep= to choose)"))
    if decimal is None:
        decimal = "."
        if delimiter != ",":
            try:
                cells = [c for row in csv.reader(sample[1:], delimiter=delimiter) for c in row]
            except csv.Error:
                cells = []  # _rows reports the broken line
            if cells and sum(bool(_DECIMAL_COMMA.fullmatch(c.strip())) for c in cells) > 0:
                decimal = ","
                notes.append(ReaderNote(
                    "decimal_comma", "", (),
                    f"{str(path)!r}: numbers written with a decimal comma (e.g. 4,5) are read "
                    "as decimals (pass decimal='.' to refuse)"))
    elif decimal not in (".", ","):
        raise DataError(f"decimal={decimal!r} must be '.' or ','")
    if decimal == delimiter:
        raise DataError(f"sep and decimal are both {delimiter!r}; they must differ")
    return text, TextLayout(delimiter, decimal, tuple(notes))


def _rows(text: str, path: Path, layout: TextLayout) -> tuple[list[str], list[list[str]],
                                                             list[ReaderNote]]:
    """Header and data rows; trailing separators removed, ragged rows refused or reported."""
    notes: list[ReaderNote] = []
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""),
                                          delimiter=layout.delimiter) if row]
    except csv.Error as exc:
        raise DataError(f"cannot read {str(path)!r} as delimited text: {exc}") from exc
    if not rows:
        raise DataError(f"{str(path)!r} is empty: no header line")
    header, data = rows[0], rows[1:]
    width = len(header)
    if width > 1 and header[-1] == "" and all(len(r) == width and r[-1] == "" for r in data):
        # a separator at the end of every line, header included: an empty last column
        header = header[:-1]
        data = [r[:-1] for r in data]
        width -= 1
        notes.append(ReaderNote(
            "trailing_separator", "", (),
            "every line, the header's too, ends with a separator; the empty last column was "
            "ignored"))
    trailing, short = [], []
    for i, row in enumerate(data):
        if len(row) == width:
            continue
        if len(row) > width:
            extra = row[width:]
            if all(cell.strip() == "" for cell in extra):
                data[i] = row[:width]
                trailing.append(i)
                continue
            raise DataError(
                f"{str(path)!r}, line {i + 2}: {len(row)} fields but the header names {width} "
                f"(extra: {', '.join(repr(c) for c in extra[:3])}); the columns would shift. "
                "Fix the file, or pass sep= if the separator is not "
                f"{layout.delimiter!r}"
            )
        short.append(i)
        data[i] = row + [""] * (width - len(row))
    if trailing:
        notes.append(ReaderNote(
            "trailing_separator", "", tuple(trailing),
            f"{len(trailing)} line(s) end with a separator after the last column; the empty "
            "field was ignored (the columns are not shifted)"))
    if short:
        notes.append(ReaderNote(
            "short_row", "", tuple(short),
            f"{len(short)} line(s) have fewer fields than the header (first: line "
            f"{short[0] + 2}); the missing fields are read as missing answers"))
    return header, data, notes


def _short_cell(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:50] + "...")


def _looks_mis_split(header: list[str], delimiter: str) -> str | None:
    """Another delimiter inside a one-column header: the file was split with the wrong one."""
    if len(header) != 1:
        return None
    for other in _DELIMITERS:
        if other != delimiter and header[0].count(other) >= 1:
            return other
    return None


def _strict_infer(column: pd.Series) -> pd.Series:
    """Type a column of raw cells strictly: numeric only if *every* present cell is a number.

    A cell is a number if it is one or is a string spelling one exactly (see
    :func:`.numeric.parse_cell`).  Other columns keep their cells as they are (``"5 "`` stays
    ``"5 "``), typed by ``infer_objects`` (text, dates, booleans).  A column of strings is
    judged by one vectorised match (a Python call per cell took seconds on a 1 MB file).
    """
    present = column.dropna()
    if present.empty:
        return column.infer_objects()
    if pd.api.types.infer_dtype(present, skipna=True) == "string":
        text = present.astype(str)
        ok = text.str.fullmatch(NUMBER_PATTERN.pattern) & (text.str.len() <= MAX_DIGITS)
        if not bool(ok.all()):
            return column.infer_objects()
        try:
            values = pd.to_numeric(column)
        except (ValueError, OverflowError, TypeError):
            values = column.astype("float64")  # every cell matched: each parses as a float
        if values.dtype == object:
            values = values.astype("float64")
        if values.dtype.kind == "f" and bool(np.isinf(values.to_numpy()).any()):
            return column.infer_objects()  # "9" * 400 overflows: not an answer
        return values
    parsed = [parse_cell(cell) for cell in column]
    if all(v is not None for v in parsed):
        try:
            return pd.to_numeric(column)
        except (ValueError, OverflowError, TypeError):
            return pd.Series(parsed, index=column.index, name=column.name, dtype="float64")
    return column.infer_objects()


def _type_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Apply :func:`_strict_infer` to every column (names are unique by now)."""
    return pd.DataFrame(
        {name: _strict_infer(frame[name]) for name in frame.columns},
        index=frame.index,
        columns=frame.columns,
    )


def _read_text(
    path: Path, sep: str | None = None, decimal: str | None = None
) -> tuple[pd.DataFrame, list[ReaderNote]]:
    """Read delimited text with the csv module (pandas would shift columns on a trailing
    separator and read a ';' file as one column without a word)."""
    text, layout = _layout(_decode(path), path, sep, decimal)
    header, data, notes = _rows(text, path, layout)
    other = _looks_mis_split(header, layout.delimiter)
    if other is not None:
        message = (f"{str(path)!r} reads as a single column whose name contains {other!r}: it "
                   f"looks split with the wrong separator; pass sep={other!r}")
        if sep is not None:  # the separator the caller chose does not split this file
            raise DataError(f"sep={sep!r} does not split {str(path)!r}: its header reads as "
                            f"one column, {_short_cell(header[0])}; pass sep={other!r}")
        warn(message)
        notes.append(ReaderNote("mis_split", "", (), message))
    _check_duplicates(header, repr(str(path)))
    return _type_text(header, data, layout.decimal), [*layout.notes, *notes]


#: A cell that spells an integer (pd.to_numeric gives such columns an integer dtype).
_INTEGER_TEXT = r"[+-]?\d+"


def _type_text(header: list[str], data: list[list[str]], decimal: str) -> pd.DataFrame:
    """The table of text cells, typed as :func:`_strict_infer` types a column, in one
    vectorised pass over all cells (column by column, pandas' per-call overhead made a
    400 kB file of 20,000 columns take minutes)."""
    n, p = len(data), len(header)
    cells = np.empty((n, p), dtype=object)
    for i, row in enumerate(data):
        cells[i, :] = row
    flat = pd.Series(cells.ravel(order="F"), dtype=object)  # column after column
    missing = (flat == "").to_numpy(dtype=bool)
    text = flat.astype(str)
    if decimal == ",":
        comma = text.str.fullmatch(_DECIMAL_COMMA.pattern).to_numpy(dtype=bool)
        text = text.where(~comma, text.str.replace(",", ".", regex=False))
    number = (text.str.fullmatch(NUMBER_PATTERN.pattern) & (text.str.len() <= MAX_DIGITS)
              ).to_numpy(dtype=bool)
    integer = text.str.fullmatch(_INTEGER_TEXT).to_numpy(dtype=bool)
    values = np.full(n * p, np.nan)
    if number.any():
        values[number] = text[number].astype(float).to_numpy()
    shape = (p, n)  # Fortran order: row k of these arrays is column k of the table
    missing, number, integer = (a.reshape(shape) for a in (missing, number, integer))
    values, text_cols = values.reshape(shape), text.to_numpy(dtype=object).reshape(shape)
    # which columns are numeric, and which of those integer, judged for all columns at once
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(values) | missing
        numeric = ((~missing).any(axis=1) & (number | missing).all(axis=1)
                   & finite.all(axis=1))
        whole = (numeric & ~missing.any(axis=1) & integer.all(axis=1)
                 & (np.abs(np.where(missing, 0.0, values)) < 2**53).all(axis=1))
    names = np.asarray(header, dtype=object)
    # one block per kind (a frame assembled from 20,000 Series took seconds aligning indexes)
    blocks = [pd.DataFrame(values[whole].T.astype(np.int64), columns=names[whole]),
              pd.DataFrame(values[numeric & ~whole].T, columns=names[numeric & ~whole])]
    other = np.flatnonzero(~numeric)
    if other.size:
        source = text_cols if decimal == "." else cells.T
        blocks.append(pd.DataFrame(
            {header[k]: pd.Series(np.where(missing[k], None, source[k]), dtype=object)
             .infer_objects() for k in other}, index=pd.RangeIndex(n)))
    frame = pd.concat([b for b in blocks if b.shape[1]] or [pd.DataFrame(index=range(n))],
                      axis=1)
    frame = frame.reindex(columns=pd.Index(header, dtype=object))
    frame.index = pd.RangeIndex(n)
    return frame


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
    except (ValueError, KeyError, IndexError) as exc:
        raise DataError(f"cannot read sheet {sheet_name!r} of {str(path)!r}: {exc}") from exc
    except Exception as exc:  # zipfile.BadZipFile, zlib.error, XML ParseError, EOFError, ...
        raise DataError(
            f"{str(path)!r} is not a readable Excel workbook (corrupt or truncated: "
            f"{type(exc).__name__}: {exc}); open and re-save it in Excel, or export it as CSV"
        ) from exc
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


def _apply_stata_missing(
    frame: pd.DataFrame, codes: dict[str, list[str]]
) -> tuple[pd.DataFrame, list[ReaderNote]]:
    """Set Stata's extended missing values (``.a`` … ``.z``) to NaN, as Stata treats them, and
    say where (pyreadstat returns them as the letters when asked to keep them)."""
    notes: list[ReaderNote] = []
    for column, letters in codes.items():
        if column not in frame.columns or not letters:
            continue
        values = frame[column]
        hit = values.isin(list(letters)).to_numpy(dtype=bool)
        if not hit.any():
            continue
        found = sorted({str(v) for v in values[hit]})
        rest = values.mask(pd.Series(hit, index=values.index))
        frame[column] = _numeric_or_same(rest)
        rows = tuple(int(i) for i in np.flatnonzero(hit))
        notes.append(ReaderNote(
            "user_missing", column, rows,
            f"{column!r}: {len(rows)} Stata extended missing value(s) "
            f"{', '.join('.' + f for f in found)} read as missing, as Stata does"))
    return frame, notes


def _numeric_or_same(column: pd.Series) -> pd.Series:
    """The column as float64 when every present cell is a number, else unchanged."""
    present = column.dropna()
    if all(parse_cell(v) is not None for v in present):
        return pd.Series([parse_cell(v) for v in column], index=column.index,
                         name=column.name, dtype="float64")
    return column


def _read_stata(path: Path) -> ReadResult:
    pyreadstat = require("pyreadstat", "reading Stata .dta files")
    try:
        frame, meta = pyreadstat.read_dta(str(path), user_missing=True)
    except Exception as exc:  # pyreadstat raises its own ReadstatError / PyreadstatError
        raise DataError(f"cannot read {str(path)!r} as a Stata file: {exc}") from exc
    _check_duplicates(list(frame.columns), repr(str(path)))
    frame, notes = _apply_stata_missing(frame, dict(getattr(meta, "missing_user_values",
                                                             None) or {}))
    return ReadResult(
        frame=frame,
        source=str(path),
        variable_labels={k: v for k, v in (meta.column_names_to_labels or {}).items() if v},
        value_labels={k: dict(v) for k, v in (meta.variable_value_labels or {}).items()},
        notes=tuple(notes),
    )


# -- Parquet ------------------------------------------------------------------------------------


def _read_parquet(path: Path) -> pd.DataFrame:
    require("pyarrow", "reading Parquet files")
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except Exception as exc:  # OSError, ArrowInvalid, a truncated footer, ...
        raise DataError(f"cannot read {str(path)!r} as a Parquet file: {exc}") from exc


# -- columns ------------------------------------------------------------------------------------


def check_frame_columns(frame: pd.DataFrame, where: str) -> None:
    """Refuse column layouts no survey reader can take at face value: hierarchical
    (MultiIndex) columns, whose parts would be joined or dropped silently."""
    if isinstance(frame.columns, pd.MultiIndex):
        example = frame.columns[0] if len(frame.columns) else ()
        raise DataError(
            f"{where} has hierarchical (MultiIndex) columns, e.g. {example!r}; flatten them "
            "first, e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns]"
        )


# -- dispatch -----------------------------------------------------------------------------------


def read_source(
    source: str | PathLike[str] | pd.DataFrame,
    *,
    sheet: str | int | None = None,
    sep: str | None = None,
    decimal: str | None = None,
) -> ReadResult:
    """Read a survey table from a path or take a copy of a DataFrame.

    Args:
        source: a DataFrame, or a path to one of :data:`SUPPORTED_FORMATS`.
        sheet: Excel sheet name or 0-based position (default: the first sheet).
        sep: the separator of a text file (default: detected; an Excel ``sep=;`` first line
            is obeyed; a ``.csv`` read with another separator than ``,`` is reported).
        decimal: the decimal mark of a text file, ``"."`` or ``","`` (default: ``","`` when a
            non-comma-separated file writes numbers as ``4,5``; reported).

    Raises:
        DataError: missing file, unsupported extension, unreadable content, duplicate column
            names, a missing optional dependency, or ``sheet`` given for a non-Excel source.
    """
    if isinstance(source, pd.DataFrame):
        if sheet is not None:
            raise DataError("sheet= applies to Excel files only, not to a DataFrame")
        if sep is not None or decimal is not None:
            raise DataError("sep= and decimal= apply to text files only, not to a DataFrame")
        check_frame_columns(source, "the DataFrame")
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
    is_text = suffix in (".csv", ".txt", ".tsv")
    if (sep is not None or decimal is not None) and not is_text:
        raise DataError(f"sep= and decimal= apply to text files only, not to {str(path)!r}")
    if is_text:
        frame, notes = _read_text(path, sep, decimal)
        return ReadResult(frame=frame, source=str(path), notes=tuple(notes))
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
