"""The pieces of a report, independent of its format: :class:`Table` (raw values and a format
per column), :class:`Plot`, :class:`Section`, :class:`Report`, and :func:`format_cell` (APA 7
rules of :mod:`cbec_sem.apa`).  :mod:`.content` (covariance-structure fits) and
:mod:`.pls_content` (PLS fits) fill them; the ``render_*`` modules lay them out."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..apa import fmt_num, fmt_p
from ..errors import ReportError
from ..plotting import pyplot
from ..survey import descriptives

__all__ = ["FORMATS", "Table", "Plot", "Section", "Report", "format_cell", "key_value", "failed",
           "add_descriptives"]

#: Column formats of :class:`Table`: ``num`` (3 decimals), ``bounded`` (3 decimals, no leading
#: zero: statistics that cannot exceed 1), ``p`` (APA p), ``int``, ``text``, ``bool``.
FORMATS = ("num", "bounded", "p", "int", "text", "bool")


def format_cell(value, kind: str = "num") -> str:
    """One cell as printed in the HTML, Word, LaTeX and Markdown reports.

    Examples:
        >>> format_cell(0.00001, "p"), format_cell(0.8179, "bounded"), format_cell(True, "bool")
        ('< .001', '.818', 'yes')
    """
    if kind == "p":
        return fmt_p(value)
    if kind == "bounded":
        return fmt_num(value, 3, bounded=True)
    if kind == "num":
        return fmt_num(value, 3)
    if kind == "int":
        try:
            return "" if value is None or not np.isfinite(float(value)) else f"{int(value)}"
        except (TypeError, ValueError):
            return str(value)
    if kind == "bool":
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            return ""
        if value is pd.NA:
            return ""
        return "yes" if bool(value) else "no"
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    return str(value)


@dataclass
class Table:
    """A table of a report: raw values in ``frame``, a format per column, a title and notes
    (printed under the table, APA style)."""

    key: str                       # short name: Excel sheet, HTML id
    title: str
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: row position -> format overriding the numeric columns' format in that row (a fit
    #: table mixes p values, counts and bounded indices in one column)
    row_formats: dict[int, str] = field(default_factory=dict)

    def kind(self, row: int, column: str) -> str:
        """The format of one cell."""
        kind = self.formats.get(column, "text")
        if kind in ("num", "bounded", "p", "int") and row in self.row_formats:
            return self.row_formats[row]
        return kind

    def formatted(self) -> list[list[str]]:
        """The cells as strings, row by row."""
        cols = list(self.frame.columns)
        return [[format_cell(v, self.kind(i, c)) for v, c in zip(row, cols)]
                for i, row in enumerate(self.frame.itertuples(index=False))]


@dataclass
class Plot:
    """A matplotlib figure of a report (drawn on first use, kept as PNG bytes)."""

    key: str
    caption: str
    draw: Callable[[], object]     # returns a matplotlib Figure
    notes: tuple[str, ...] = ()
    _png: bytes | None = field(default=None, repr=False)

    def png(self, dpi: int = 110) -> bytes:
        if self._png is None:
            fig = self.draw()
            buf = io.BytesIO()
            # zlib level 1: a fifth faster to encode than the default 6, files ~15% larger
            fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
            pyplot().close(fig)
            self._png = buf.getvalue()
        return self._png


@dataclass
class Section:
    """A heading with paragraphs, tables, plots, an optional code block and an optional
    diagram."""

    key: str
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    code: str = ""
    diagram: object = None         # a report.diagram.Diagram
    plots: list[Plot] = field(default_factory=list)


@dataclass
class Report:
    """The whole analysis: ``title``, ``status`` (empty when the fit converged and is
    admissible, else what went wrong), ``sections``; ``tables`` lists every table."""

    title: str
    status: str
    sections: list[Section]
    created: str

    @property
    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    @property
    def plots(self) -> list[Plot]:
        return [p for s in self.sections for p in s.plots]

    def table(self, key: str) -> Table:
        """The table named ``key`` (a ReportError listing the keys when there is none)."""
        for t in self.tables:
            if t.key == key:
                return t
        raise ReportError(f"the report has no table {key!r}; its tables are: "
                          f"{', '.join(t.key for t in self.tables)}")


def key_value(key: str, title: str, rows: list[tuple[str, object]], notes=()) -> Table:
    """A two-column table (Quantity, Value) of labelled values."""
    frame = pd.DataFrame({"Quantity": [r[0] for r in rows],
                          "Value": [r[1] if isinstance(r[1], str) else format_cell(r[1], "num")
                                    if isinstance(r[1], float) else str(r[1]) for r in rows]})
    return Table(key, title, frame, {"Quantity": "text", "Value": "text"}, tuple(notes))


def failed(section: Section, what: str, err: Exception) -> None:
    """Say in ``section`` that ``what`` could not be computed, and why."""
    section.paragraphs.append(f"{what} could not be computed for this fit: {err}")


def add_descriptives(section: Section, frame: pd.DataFrame, items: list[str],
                     note: str = "") -> None:
    """The item descriptives table (:func:`cbec_sem.descriptives` of the rows analysed) in
    ``section``, or a sentence saying why it could not be computed."""
    try:
        d = descriptives(frame, items).reset_index()
    except Exception as err:  # noqa: BLE001 - the report states what failed
        failed(section, "Item descriptives", err)
        return
    d = d.rename(columns={d.columns[0]: "Item"})
    section.tables.append(Table(
        "descriptives", "Item descriptive statistics", d,
        {"Item": "text", "n": "int", "mean": "num", "sd": "num", "min": "num", "max": "num",
         "skew": "num", "kurtosis": "num"},
        (" ".join(filter(None, ["Computed on the rows analysed. Kurtosis is excess kurtosis.",
                                note])),)))
