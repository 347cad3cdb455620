"""The result protocol every result object follows, and the :class:`Summary` it returns.

Every public result (``FitResult``, ``NCAResult``, ``HTMTResult``, ``PowerResult``, ...) has

- ``to_frame()``: its main table as a tidy :class:`pandas.DataFrame`;
- ``summary()``: a :class:`Summary`, which renders as plain text (``str(s)``), Markdown
  (``s.as_markdown()``), HTML (``s.as_html()``, and ``_repr_html_`` so notebooks show it as a
  table) and LaTeX with booktabs rules (``s.as_latex()``);
- a ``__repr__`` that fits on one line.

The design follows statsmodels' ``Summary`` (``as_text``/``as_html``/``as_latex``).  This module
sits below every stage (like :mod:`cbec_sem.errors`), so the engine, the measurement and
proposition stages and the report stage can all build Summaries without importing each other.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Summary", "Block", "ResultProtocol", "format_number"]


def format_number(value, digits: int = 3) -> str:
    """A cell as the summaries print it: fixed decimals, blank for NaN/None."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return "" if not np.isfinite(value) else f"{float(value):.{digits}f}"
    return str(value)


def _cells(frame: pd.DataFrame, digits: int) -> list[list[str]]:
    return [[format_number(v, digits) for v in row] for row in frame.itertuples(index=False)]


def latex_escape(text: str) -> str:
    table = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
             "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
             "^": r"\textasciicircum{}"}
    return "".join(table.get(ch, ch) for ch in text)


@dataclass(frozen=True)
class Block:
    """One part of a summary: a heading and either a table or lines of text."""

    heading: str = ""
    table: pd.DataFrame | None = None
    text: str = ""
    digits: int = 3


@dataclass(frozen=True)
class Summary:
    """A printable, exportable summary: a title, blocks (tables or text) and notes.

    ``str(summary)`` is the text; ``summary.as_markdown()``, ``.as_html()`` and
    ``.as_latex()`` the other renderings.  Every number is formatted from the frames it
    holds, never re-typed.

    Examples:
        >>> import pandas as pd
        >>> s = Summary("Fit", (Block("Measures", pd.DataFrame({"chisq": [1.5]})),))
        >>> "chisq" in str(s)
        True
    """

    title: str
    blocks: tuple[Block, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: a hand-laid plain-text rendering (e.g. lavaan's summary layout) used by ``as_text``
    #: instead of the blocks; the other renderings always use the blocks.
    text: str | None = None

    # -- text --------------------------------------------------------------------------------
    def as_text(self) -> str:
        if self.text is not None:
            return self.text
        out = [self.title, "=" * max(len(self.title), 8)] if self.title else []
        for block in self.blocks:
            if block.heading:
                out += ["", block.heading, "-" * len(block.heading)]
            if block.table is not None:
                out += _text_table(block.table, block.digits)
            if block.text:
                out += block.text.rstrip("\n").split("\n")
        if self.notes:
            out += [""] + [f"Note. {n}" for n in self.notes]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.as_text()

    def __contains__(self, text: str) -> bool:
        return text in self.as_text()

    def __repr__(self) -> str:
        return f"<Summary {self.title!r}: {len(self.blocks)} blocks>"

    # -- Markdown ----------------------------------------------------------------------------
    def as_markdown(self) -> str:
        out = [f"## {self.title}"] if self.title else []
        for block in self.blocks:
            if block.heading:
                out += ["", f"### {block.heading}"]
            if block.table is not None:
                frame = block.table
                out += ["", "| " + " | ".join(map(str, frame.columns)) + " |",
                        "|" + "|".join("---" for _ in frame.columns) + "|"]
                out += ["| " + " | ".join(c.replace("|", r"\|") for c in row) + " |"
                        for row in _cells(frame, block.digits)]
            if block.text:
                out += ["", "```", block.text.rstrip("\n"), "```"]
        if self.notes:
            out += [""] + [f"*Note.* {n}" for n in self.notes]
        return "\n".join(out) + "\n"

    # -- HTML --------------------------------------------------------------------------------
    def as_html(self) -> str:
        esc = html.escape
        out = ['<div class="cbec-summary">']
        if self.title:
            out.append(f"<h3>{esc(self.title)}</h3>")
        for block in self.blocks:
            if block.heading:
                out.append(f"<h4>{esc(block.heading)}</h4>")
            if block.table is not None:
                frame = block.table
                head = "".join(f"<th>{esc(str(c))}</th>" for c in frame.columns)
                body = "".join(
                    "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
                    for row in _cells(frame, block.digits))
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            if block.text:
                out.append(f"<pre>{esc(block.text)}</pre>")
        out += [f"<p><em>Note.</em> {esc(n)}</p>" for n in self.notes]
        out.append("</div>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.as_html()

    # -- LaTeX -------------------------------------------------------------------------------
    def as_latex(self) -> str:
        out = [f"% {self.title}"] if self.title else []
        for block in self.blocks:
            if block.table is not None:
                frame = block.table
                out += [r"\begin{table}[htbp]", r"\centering"]
                if block.heading:
                    out.append(rf"\caption{{{latex_escape(block.heading)}}}")
                out += [rf"\begin{{tabular}}{{{'l' * len(frame.columns)}}}", r"\toprule",
                        " & ".join(latex_escape(str(c)) for c in frame.columns) + r" \\",
                        r"\midrule"]
                out += [" & ".join(latex_escape(c) for c in row) + r" \\"
                        for row in _cells(frame, block.digits)]
                out += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
            if block.text:
                out += [r"\begin{verbatim}", block.text.rstrip("\n"), r"\end{verbatim}"]
        out += [rf"\par\emph{{Note.}} {latex_escape(n)}" for n in self.notes]
        return "\n".join(out) + "\n"


def _text_table(frame: pd.DataFrame, digits: int) -> list[str]:
    cells = _cells(frame, digits)
    header = [str(c) for c in frame.columns]
    widths = [max([len(h)] + [len(r[j]) for r in cells]) for j, h in enumerate(header)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric)).rstrip()

    return [line(header)] + [line(r) for r in cells]


class ResultProtocol:
    """Mixin for result objects: ``_repr_html_`` from :meth:`summary`, a safe default
    :meth:`to_frame`.  Subclasses implement ``summary()`` (and usually ``to_frame()``)."""

    def summary(self) -> Summary:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return self.summary().as_html()
