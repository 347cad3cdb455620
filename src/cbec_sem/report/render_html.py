"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no network),
readable on a laptop screen and printable (``@media print`` rules, tables kept on a page)."""

from __future__ import annotations

import base64
import html

from .content import Report, Table

__all__ = ["render_html"]

_CSS = """
:root { --ink: #1b1b1b; --muted: #555; --rule: #222; --accent: #1f3b73; }
* { box-sizing: border-box; }
body { font-family: "Times New Roman", Georgia, serif; color: var(--ink); margin: 0 auto;
       max-width: 1100px; padding: 24px 32px 64px; line-height: 1.45; font-size: 16px; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; }
.meta { color: var(--muted); font-size: .9em; }
.status { border: 2px solid #b00020; background: #fdecee; color: #5c0010; padding: 12px 16px;
          margin: 16px 0; font-weight: bold; }
nav ol { columns: 2; font-size: .95em; }
.table-wrap { overflow-x: auto; margin: 1.2em 0 1.6em; page-break-inside: avoid; }
.caption { margin: 0 0 .3em; }
.caption .num { font-weight: bold; display: block; }
.caption .title { font-style: italic; }
table.apa { border-collapse: collapse; font-size: .92em; min-width: 40%; }
table.apa thead th { border-top: 2px solid var(--rule); border-bottom: 1px solid var(--rule);
                     padding: 4px 10px; text-align: left; font-weight: normal; }
table.apa tbody td { padding: 3px 10px; vertical-align: top; }
table.apa tbody tr:last-child td { border-bottom: 2px solid var(--rule); }
table.apa td.s { white-space: nowrap; }
table.apa td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.note { font-size: .85em; margin: .3em 0; max-width: 60em; }
figure { margin: 1.5em 0; page-break-inside: avoid; }
figure svg, figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { margin-bottom: .4em; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: .85em; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  nav { display: none; }
  h2 { page-break-after: avoid; }
  .table-wrap { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
"""

_NUMERIC = ("num", "bounded", "p", "int")


def _table(t: Table, number: int) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(str(c))}</th>" for c in t.frame.columns)
    rows = []
    cols = list(t.frame.columns)
    for i, cells in enumerate(t.formatted()):
        tds = "".join(
            f'<td class="n">{esc(v)}</td>' if t.kind(i, c) in _NUMERIC else
            f'<td class="s">{esc(v)}</td>' if len(v) <= 30 else f"<td>{esc(v)}</td>"
            for v, c in zip(cells, cols))
        rows.append(f"<tr>{tds}</tr>")
    notes = "".join(f'<p class="note"><em>Note.</em> {esc(n)}</p>' if k == 0 else
                    f'<p class="note">{esc(n)}</p>' for k, n in enumerate(t.notes))
    return (f'<div class="table-wrap" id="table-{esc(t.key)}">'
            f'<p class="caption"><span class="num">Table {number}</span>'
            f'<span class="title">{esc(t.title)}</span></p>'
            f'<table class="apa" id="{esc(t.key)}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>{notes}</div>')


def render_html(report: Report) -> str:
    """The report as one HTML document (a string)."""
    esc = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{esc(report.title)}</title><style>{_CSS}</style></head><body>",
           f"<header><h1>{esc(report.title)}</h1>",
           f'<p class="meta">Written by cbec_sem on {esc(report.created)}.</p></header>']
    if report.status:
        out.append(f'<div class="status" role="alert" id="status">{esc(report.status)}</div>')
    out.append("<nav><ol>" + "".join(f'<li><a href="#{esc(s.key)}">{esc(s.heading)}</a></li>'
                                      for s in report.sections) + "</ol></nav>")
    number = 0
    figure = 0
    for s in report.sections:
        out.append(f'<section id="{esc(s.key)}"><h2>{esc(s.heading)}</h2>')
        for para in s.paragraphs:
            out.append(f"<p>{esc(para)}</p>")
        if s.diagram is not None:
            if isinstance(s.diagram, str):
                out.append(f"<p>{esc(s.diagram)}</p>")
            else:
                figure += 1
                out.append(f'<figure id="path-diagram"><figcaption><strong>Figure {figure}'
                           "</strong><br><em>Path diagram of the fitted model</em>"
                           f"</figcaption>{s.diagram.svg}</figure>")
        for t in s.tables:
            number += 1
            out.append(_table(t, number))
        for plot in s.plots:
            figure += 1
            try:
                data = base64.b64encode(plot.png()).decode("ascii")
            except Exception as err:  # noqa: BLE001 - a plot that cannot be drawn is stated
                out.append(f"<p>{esc(plot.caption)}: not drawn ({esc(str(err))})</p>")
                continue
            notes = "".join(f'<p class="note"><em>Note.</em> {esc(n)}</p>' for n in plot.notes)
            out.append(f'<figure id="figure-{esc(plot.key)}"><figcaption><strong>Figure '
                       f"{figure}</strong><br><em>{esc(plot.caption)}</em></figcaption>"
                       f'<img src="data:image/png;base64,{data}" alt="{esc(plot.caption)}">'
                       f"{notes}</figure>")
        if s.code:
            out.append(f'<p class="caption"><em>Model syntax (lavaan)</em></p>'
                       f"<pre>{esc(s.code)}</pre>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)
