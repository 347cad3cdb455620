"""``load_survey``: read a questionnaire, score its items, and report what the checks find.

The order of work, fixed so that each check sees the right values:

1. read the source (:mod:`.readers`); ``raw`` is this table, untouched afterwards;
2. choose the items and parse them cell by cell (:mod:`.numeric`); non-numeric cells become
   missing (reported, DataWarning);
3. on the answers as given: non-integer and out-of-range answers, straight-lining and the
   longstring index (a straight-liner ignores reverse-keying, so these come before it);
4. with ``out_of_range="missing"``, out-of-range answers become missing (reported, DataWarning);
5. reverse-keying, x -> low + high - x, only for items named in ``reverse`` or flagged in the
   codebook (reported, DataWarning);
6. on the final items: empty, constant and near-constant items, missingness, rows with every
   item missing; duplicate and missing ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from os import PathLike
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import DataError
from . import checks as ck
from ..errors import warn
from .codebook import Codebook, ItemInfo, normalize_scale
from .numeric import ParsedColumn, is_numeric_looking, parse_column
from .readers import ReadResult, read_source
from .survey import Survey

__all__ = ["load_survey"]

#: How the reader's notes are graded in ``checks``: how a text file was split is shown (a
#: wrong guess would shift or merge columns); a user-missing code conversion is information.
_NOTE_SEVERITY = {"delimiter": "warning", "decimal_comma": "warning",
                  "trailing_separator": "warning", "short_row": "warning",
                  "mis_split": "error"}

ScaleArg = tuple[float, float] | Mapping[str, tuple[float, float]] | None


def _names(value: str | Iterable[str] | None, what: str) -> list[str]:
    """A list of column names from a name, an iterable of names, or None."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError as exc:
        raise DataError(f"{what} must be a column name or a list of names, got {value!r}") from exc
    try:
        counts = Counter(names)  # (list.count per name was quadratic in the number of names)
    except TypeError:
        bad = next(n for n in names if not isinstance(n, (str, int, float)))
        raise DataError(f"{what} must hold column names, got {bad!r}") from None
    dupes = sorted({n for n, k in counts.items() if k > 1}, key=str)
    if dupes:
        raise DataError(f"{what} names {dupes} more than once")
    return names


def _file_codebook(read: ReadResult) -> Codebook:
    """Labels and value labels stored in an SPSS/Stata file, as a codebook."""
    entries: dict[str, ItemInfo] = {}
    for name in dict.fromkeys([*read.variable_labels, *read.value_labels]):
        if isinstance(name, str) and name:
            entries[name] = ItemInfo(
                name,
                label=read.variable_labels.get(name),
                value_labels=read.value_labels.get(name) or None,
            )
    return Codebook(entries)


def _plain_numeric(dtype: object) -> bool:
    """A NumPy float or integer dtype (whose columns need no cell-by-cell parsing)."""
    return isinstance(dtype, np.dtype) and dtype.kind in "fiu"


def _parse_items(frame: pd.DataFrame, names: list[str]) -> dict[str, ParsedColumn]:
    """:func:`.numeric.parse_column` of every item; the plain numeric columns in one block."""
    dtypes = dict(frame.dtypes.items())  # once: frame[n] per column costs pandas' overhead
    plain = [n for n in names if _plain_numeric(dtypes[n])]
    out: dict[str, ParsedColumn] = {}
    if plain:
        # one row per column; each item's values are a view of it (no copy per column), and
        # so are its "originals", which only messages about non-numeric cells quote
        block = frame[plain].to_numpy(dtype="float64", na_value=np.nan).T.copy()
        none = np.zeros(len(frame), dtype=bool)
        for k, name in enumerate(plain):
            out[name] = ParsedColumn(block[k], none, block[k])
    for name in names:
        if name not in out:
            out[name] = parse_column(frame[name])
    return {name: out[name] for name in names}


def _select_items(
    frame: pd.DataFrame,
    items: Sequence[str] | str | None,
    user_codebook: Codebook,
    id_column: str | None,
) -> tuple[list[str], dict[str, ParsedColumn], list[ck.Finding]]:
    """Choose the item columns and parse them; report columns left out by auto-detection."""
    findings: list[ck.Finding] = []
    named = _names(items, "items")
    if items is not None and not named:
        raise DataError("items is empty; name at least one item, or pass items=None")
    if items is None and len(user_codebook):
        named = [name for name in user_codebook.items if name in frame.columns]
    if named:
        missing = [n for n in named if n not in frame.columns]
        if missing:
            raise DataError(
                f"item(s) {missing} not in the data; columns are {list(frame.columns)}"
            )
        bad = [n for n in named if not isinstance(n, str)]
        if bad:
            raise DataError(f"item names must be text, got {bad}; rename the columns")
        if id_column is not None and id_column in named:
            raise DataError(f"id column {id_column!r} cannot also be an item")
        parsed = _parse_items(frame, named)
        textual = [n for n, p in parsed.items() if p.n_numeric == 0 and p.n_non_numeric > 0]
        if textual:
            first = parsed[textual[0]]
            example = ck.format_values(first.originals[first.non_numeric][:3])
            raise DataError(
                f"item column(s) {textual} hold no numbers at all (e.g. {example}); "
                "recode the answers to numbers or leave the column out of the items"
            )
        return named, parsed, findings

    chosen: list[str] = []
    for column, dtype in frame.dtypes.items():
        if column == id_column:
            continue
        if _plain_numeric(dtype):
            chosen.append(column)
            continue
        series = frame[column]
        if is_numeric_looking(series):
            chosen.append(column)
            continue
        if pd.api.types.is_bool_dtype(series.dtype):
            continue
        present = series.dropna()
        if present.empty:
            continue
        findings.append(
            ck.Finding(
                "non_numeric_column",
                "error",
                str(column),
                (),
                int(present.size),
                f"{str(column)!r}: no cell is a number (e.g. "
                f"{ck.format_values(present.to_numpy(dtype=object)[:3])}); not used as an item. "
                "If it is an id or grouping variable, name the items with items=... "
                "(or the id with id_column=...)",
            )
        )
    if not chosen:
        raise DataError(
            "no numeric-looking columns to use as items; name them with items=[...]"
        )
    bad = [c for c in chosen if not isinstance(c, str)]
    if bad:
        raise DataError(
            f"item column names must be text, got {bad}; rename the columns "
            "(e.g. frame.columns = [f'q{i}' for i in ...]) or name the items with items=..."
        )
    findings.append(
        ck.Finding(
            "items_detected",
            "info",
            None,
            (),
            len(chosen),
            f"items not named: using the {len(chosen)} numeric-looking column(s) as items: "
            + ", ".join(chosen),
        )
    )
    return chosen, _parse_items(frame, chosen), findings


def _resolve_scales(
    items: list[str], scale: ScaleArg, codebook: Codebook
) -> dict[str, tuple[float, float] | None]:
    """Scale per item: the ``scale`` argument, else the codebook; they must agree."""
    given: dict[str, tuple[float, float] | None] = {}
    if isinstance(scale, Mapping):
        unknown = [k for k in scale if k not in items]
        if unknown:
            raise DataError(f"scale given for {unknown}, which are not items; items are {items}")
        given = {k: normalize_scale(v, f"item {k!r}") for k, v in scale.items()}
    elif scale is not None:
        common = normalize_scale(scale, "scale=")
        given = dict.fromkeys(items, common)
    scales: dict[str, tuple[float, float] | None] = {}
    for item in items:
        info = codebook.get(item)
        from_codebook = info.scale if info is not None else None
        from_arg = given.get(item)
        if from_arg is not None and from_codebook is not None and from_arg != from_codebook:
            raise DataError(
                f"item {item!r}: scale= says {from_arg} but the codebook says {from_codebook}"
            )
        scales[item] = from_arg if from_arg is not None else from_codebook
    return scales


def _resolve_reverse(
    items: list[str],
    reverse: Iterable[str] | str,
    codebook: Codebook,
    scales: Mapping[str, tuple[float, float] | None],
    columns: pd.Index,
) -> list[str]:
    """Items to reverse-key: named in ``reverse`` or flagged in the codebook; each needs a scale."""
    named = _names(reverse, "reverse")
    not_items = [n for n in named if n not in items]
    if not_items:
        where = [n for n in not_items if n in columns]
        detail = f" ({where} are columns but not items)" if where else ""
        raise DataError(
            f"reverse names {not_items}, which are not items{detail}; items are {items}"
        )
    flagged = [i for i in items if (info := codebook.get(i)) is not None and info.reverse]
    chosen = [i for i in items if i in set(named) | set(flagged)]
    unscaled = [i for i in chosen if scales[i] is None]
    if unscaled:
        raise DataError(
            f"cannot reverse-key {unscaled}: no scale for them; give scale=(low, high) "
            "or a codebook scale"
        )
    return chosen


def _missing_codes(codes: object) -> tuple[float, ...]:
    """The ``missing_codes`` argument of :func:`load_survey` as floats, checked as a
    codebook's ``missing`` entry is."""
    try:
        return ItemInfo("missing_codes", missing=codes).missing or ()
    except DataError:
        raise DataError(f"missing_codes={codes!r} must be finite numbers, e.g. "
                        "missing_codes=[99, -9]") from None


def _validate_options(out_of_range: str, straightlining_min_items: int) -> None:
    if out_of_range not in ("report", "missing"):
        raise DataError(f"out_of_range must be 'report' or 'missing', got {out_of_range!r}")
    if (
        not isinstance(straightlining_min_items, (int, np.integer))
        or isinstance(straightlining_min_items, bool)
        or straightlining_min_items < 2
    ):
        raise DataError(
            f"straightlining_min_items must be an integer >= 2, got {straightlining_min_items!r}"
        )


def load_survey(
    source: str | PathLike[str] | pd.DataFrame,
    *,
    items: Sequence[str] | str | None = None,
    scale: ScaleArg = None,
    reverse: Iterable[str] | str = (),
    codebook: Codebook | Mapping[str, Any] | str | PathLike[str] | None = None,
    sheet: str | int | None = None,
    id_column: str | None = None,
    out_of_range: Literal["report", "missing"] = "report",
    straightlining_min_items: int = 5,
    sep: str | None = None,
    decimal: str | None = None,
    missing_codes: Iterable[float] = (),
) -> Survey:
    """Read a Likert questionnaire and check it.

    Args:
        source: a DataFrame (never modified), or a path to a .csv/.tsv/.txt, .xlsx/.xls, SPSS
            .sav, Stata .dta or Parquet file.
        items: the item columns.  Default: the entries of ``codebook`` found in the data, or,
            without a codebook, every numeric-looking column except ``id_column`` (columns with
            no number at all are left out and reported as errors).
        scale: ``(low, high)`` for every item, or a dict item -> ``(low, high)``.
        reverse: items to reverse-key, x -> low + high - x (each needs a scale).
        codebook: a :class:`Codebook`, a dict, or a YAML file path (see :mod:`.codebook`).
            Labels stored in SPSS/Stata files are read too; the codebook's entries win.
        sheet: Excel sheet name or position (default: the first).
        id_column: the respondent id column (not an item; duplicate ids are reported).
        out_of_range: ``"report"`` (default) leaves out-of-range answers in ``data``;
            ``"missing"`` sets them to missing.  Both report them in ``checks``.
        straightlining_min_items: judge straight-lining only for respondents who answered at
            least this many items.
        sep: separator of a text file (default: detected, see
            :func:`~cbec_sem.survey.readers.read_source`; what was chosen is in ``checks``).
        decimal: decimal mark of a text file, ``"."`` or ``","`` (default: detected).
        missing_codes: answers that mean "no answer" in every item, e.g. ``[99, -9]``: read
            as missing and reported (``user_missing`` in ``checks``), like a codebook's
            ``missing`` entries, which they add to.

    Returns:
        A :class:`Survey`.

    Raises:
        DataError: unreadable source, duplicate column names, unknown or textual items, a
            reverse-keyed item without a scale, conflicting scales, bad options.

    Warns:
        DataWarning: when non-numeric cells were set to missing, when out-of-range answers were
            set to missing, and when items were reverse-keyed.

    Examples:
        >>> survey = cs.load_survey(cs.datasets.example_survey(), id_column="firm_id",
        ...                         items=["ta1", "ta2", "ta3", "ta4"], scale=(1, 7))
        >>> survey.n_respondents, survey.items
        (400, ('ta1', 'ta2', 'ta3', 'ta4'))
        >>> survey.has_errors
        False
    """
    _validate_options(out_of_range, straightlining_min_items)
    codes_for_all = _missing_codes(missing_codes)
    if id_column is not None and not isinstance(id_column, (str, int)):
        raise DataError(f"id_column={id_column!r} must be one column name")
    read = read_source(source, sheet=sheet, sep=sep, decimal=decimal)
    frame = read.frame
    raw = frame.copy(deep=True)
    if id_column is not None and id_column not in frame.columns:
        raise DataError(
            f"id column {id_column!r} not in the data; columns are {list(frame.columns)}"
        )

    user_codebook = Codebook.coerce(codebook)
    item_list, parsed, findings = _select_items(frame, items, user_codebook, id_column)
    codebook_all = _file_codebook(read).merge(user_codebook)
    scales = _resolve_scales(item_list, scale, codebook_all)
    to_reverse = _resolve_reverse(item_list, reverse, codebook_all, scales, frame.columns)

    findings.extend(
        ck.Finding(n.check, _NOTE_SEVERITY.get(n.check, "info"), n.column or None, n.rows,
                   len(n.rows), n.message)
        for n in read.notes
    )
    unmatched = [name for name in user_codebook.items if name not in frame.columns]
    if unmatched:
        findings.append(
            ck.Finding(
                "codebook_unmatched",
                "warning",
                None,
                (),
                len(unmatched),
                f"codebook entries without a column in the data: {', '.join(unmatched)}",
            )
        )
    unscaled = [i for i in item_list if scales[i] is None]
    if unscaled:
        findings.append(
            ck.Finding(
                "no_scale",
                "info",
                None,
                (),
                len(unscaled),
                f"no scale for {len(unscaled)} item(s) ({', '.join(unscaled)}): out-of-range and "
                "non-integer answers not checked; give scale=(low, high) or a codebook",
            )
        )

    # -- per item: answers as given ------------------------------------------------------------
    as_given = np.column_stack([parsed[i].values for i in item_list]) if item_list else np.empty(
        (len(frame), 0)
    )
    final_matrix = as_given.copy()
    non_numeric_counts: dict[str, int] = {}
    set_missing_counts: dict[str, int] = {}
    coded_counts: dict[str, int] = {}
    reversed_items = set(to_reverse)
    # a numeric column's "originals" are its float values: it has no non-numeric cell
    textual = {i for i, p in parsed.items() if p.originals.dtype == object
               and p.non_numeric.any()}
    for j, item in enumerate(item_list):
        info = codebook_all.get(item)
        if (not codes_for_all and info is None and scales[item] is None
                and item not in reversed_items and item not in textual):
            continue  # nothing to check or change (most columns of a very wide file)
        values = as_given[:, j].copy()
        finding = ck.check_non_numeric(item, parsed[item])
        if finding is not None:
            findings.append(finding)
            non_numeric_counts[item] = finding.count
        missing = tuple(dict.fromkeys(
            ((info.missing or ()) if info is not None else ()) + codes_for_all))
        if missing:
            coded = np.isin(values, missing)
            if coded.any():
                values[coded] = np.nan
                as_given[coded, j] = np.nan
                rows = tuple(int(i) for i in np.flatnonzero(coded))
                origin = "codebook" if info is not None and info.missing else "missing_codes"
                findings.append(ck.Finding(
                    "user_missing", "info", item, rows, len(rows),
                    f"{item!r}: {len(rows)} missing-value code(s) "
                    f"{ck.format_values(np.unique(parsed[item].values[coded]))} "
                    f"({origin}) read as missing in {ck.format_rows(rows)}"))
                coded_counts[item] = len(rows)
        item_scale = scales[item]
        if item_scale is not None:
            finding = ck.check_non_integer(item, values, item_scale)
            if finding is not None:
                findings.append(finding)
            finding, mask = ck.check_out_of_range(
                item, values, item_scale, set_missing=out_of_range == "missing"
            )
            if finding is not None:
                findings.append(finding)
                if out_of_range == "missing":
                    values[mask] = np.nan
                    set_missing_counts[item] = finding.count
        if item in to_reverse:
            low, high = item_scale  # type: ignore[misc]
            values = low + high - values
            n_reversed = int(np.count_nonzero(~np.isnan(values)))
            findings.append(
                ck.Finding(
                    "reverse_keyed",
                    "info",
                    item,
                    (),
                    n_reversed,
                    f"{item!r}: reverse-keyed as {low:g} + {high:g} - x ({n_reversed} answers)",
                )
            )
        final_matrix[:, j] = values

    # -- per item and per respondent: final values ---------------------------------------------
    findings.extend(ck.check_items(item_list, final_matrix))
    for finding in (
        ck.check_straightlining(as_given, straightlining_min_items),
        ck.check_all_missing_rows(final_matrix),
        ck.check_multivariate_normality(final_matrix, item_list),
    ):
        if finding is not None:
            findings.append(finding)
    if id_column is not None:
        findings.extend(ck.check_ids(str(id_column), frame[id_column]))

    # -- assemble ------------------------------------------------------------------------------
    # all item columns at once (one assignment per item split pandas' blocks every time:
    # minutes for a survey of 20,000 columns)
    scored = pd.DataFrame(final_matrix, index=frame.index, columns=pd.Index(item_list),
                          dtype="float64")
    kept = frame.drop(columns=item_list)
    data = pd.concat([kept, scored], axis=1)[list(frame.columns)]

    item_entries = {}
    for item in item_list:
        base = codebook_all.get(item)
        item_entries[item] = (
            ItemInfo(item, scale=scales[item], reverse=item in to_reverse) if base is None
            else replace(base, scale=scales[item], reverse=item in to_reverse))
    others = {
        name: info
        for name, info in codebook_all.items.items()
        if name not in item_entries and name in frame.columns
    }
    survey = Survey(
        data=data,
        raw=raw,
        items=tuple(item_list),
        codebook=Codebook({**item_entries, **others}),
        checks=ck.findings_frame(findings),
        missingness=ck.item_missingness(data, item_list),
        respondent_missingness=ck.respondent_missingness(data, item_list),
        longstring=pd.Series(ck.longstring(as_given), index=data.index, name="longstring"),
        source=read.source,
        id_column=id_column,
    )

    if non_numeric_counts:
        detail = ", ".join(f"{k} ({v})" for k, v in non_numeric_counts.items())
        warn(
            f"{sum(non_numeric_counts.values())} non-numeric cell(s) set to missing in "
            f"{detail}; see survey.checks"
        )
    if coded_counts:
        detail = ", ".join(f"{k} ({v})" for k, v in coded_counts.items())
        warn(
            f"{sum(coded_counts.values())} answer(s) coded as missing (codebook or "
            f"missing_codes=) read as missing in {detail}; see survey.checks"
        )
    if set_missing_counts:
        detail = ", ".join(f"{k} ({v})" for k, v in set_missing_counts.items())
        warn(
            f"{sum(set_missing_counts.values())} out-of-range answer(s) set to missing in "
            f"{detail} (out_of_range='missing'); see survey.checks"
        )
    if to_reverse:
        warn(
            f"reverse-keyed {len(to_reverse)} item(s) as low + high - x: "
            f"{', '.join(to_reverse)}; see survey.checks"
        )
    return survey
