"""The Word (python-docx) and Excel (openpyxl) reports.

Word: headings, APA tables (rules above and below the header and at the bottom only, numbers
right-aligned, "Table n" in bold and the title in italics above, notes below), the diagram as a
PNG drawn with matplotlib (when matplotlib is installed; otherwise a sentence says where to get
the SVG).  Excel: one sheet per table, numbers stored as numbers with a display format (so a
user can compute with them), the notes under each table, and a "Report" sheet with the title,
the status and the table of contents.

Both libraries are optional (``pip install "cbec-sem[report]"``); a missing one is a
:class:`~cbec_sem.errors.ReportError` saying what to install.
"""

from __future__ import annotations

import io
import re
from xml.sax.saxutils import escape as xml_escape
from pathlib import Path

import numpy as np

from ..errors import ReportError
from .content import Report, Table
from ..plotting import pyplot

__all__ = ["write_docx", "write_xlsx"]

_NUMERIC = ("num", "bounded", "p", "int")


def _need(module: str, extra: str = "report"):
    try:
        return __import__(module)
    except ImportError:
        raise ReportError(f"writing this format needs {module}, which is not installed: "
                          f'pip install "cbec-sem[{extra}]"') from None


# --------------------------------------------------------------------------- Word
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _tc(text: str, *, right: bool, top: int = 0, bottom: int = 0, bold: bool = False) -> str:
    """One table cell as WordprocessingML (ECMA-376 Part 1, §17.4): optional top/bottom rules,
    right alignment for numbers, 9-pt text."""
    borders = "".join(f'<w:{edge} w:val="single" w:sz="{size}" w:space="0" w:color="000000"/>'
                      for edge, size in (("top", top), ("bottom", bottom)) if size)
    tc_pr = f"<w:tcPr><w:tcBorders>{borders}</w:tcBorders></w:tcPr>" if borders else ""
    p_pr = '<w:pPr><w:spacing w:before="0" w:after="0"/>' + (
        '<w:jc w:val="right"/>' if right else "") + "</w:pPr>"
    r_pr = "<w:rPr>" + ("<w:b/>" if bold else "") + '<w:sz w:val="18"/></w:rPr>'
    return (f"<w:tc>{tc_pr}<w:p>{p_pr}<w:r>{r_pr}<w:t xml:space=\"preserve\">"
            f"{xml_escape(text)}</w:t></w:r></w:p></w:tc>")


def _docx_table(doc, t: Table, number: int) -> None:
    """An APA table: rules above and below the header and under the last row only.  The
    table is written as one WordprocessingML element (python-docx's cell API costs about a
    millisecond a cell)."""
    from docx.oxml import parse_xml

    cap = doc.add_paragraph()
    cap.add_run(f"Table {number}").bold = True
    cap.add_run("\n")
    cap.add_run(t.title).italic = True
    cols = list(t.frame.columns)
    rows = t.formatted()
    xml = [f'<w:tbl xmlns:w="{_W}"><w:tblPr><w:tblW w:w="0" w:type="auto"/>'
           '<w:tblLook w:val="0000"/></w:tblPr><w:tblGrid>'
           + "<w:gridCol/>" * len(cols) + "</w:tblGrid>"]
    xml.append("<w:tr>" + "".join(_tc(str(c), right=False, top=12, bottom=6) for c in cols)
               + "</w:tr>")
    for i, values in enumerate(rows):
        last = 12 if i == len(rows) - 1 else 0
        xml.append("<w:tr>" + "".join(
            _tc(v, right=t.kind(i, c) in _NUMERIC, bottom=last) for v, c in zip(values, cols))
            + "</w:tr>")
    xml.append("</w:tbl>")
    cap._p.addnext(parse_xml("".join(xml)))
    from docx.shared import Pt

    for k, n in enumerate(t.notes):
        para = doc.add_paragraph()
        if k == 0:
            para.add_run("Note. ").italic = True
        para.add_run(n).font.size = Pt(9)


def write_docx(report: Report, path: Path) -> Path:
    """Write the report as a Word document."""
    docx = _need("docx")
    from docx.enum.section import WD_ORIENT
    from docx.shared import Inches, RGBColor

    doc = docx.Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Inches(0.8))
    doc.add_heading(report.title, level=0)
    doc.add_paragraph(f"Written by cbec_sem on {report.created}.")
    if report.status:
        run = doc.add_paragraph().add_run("Warning. " + report.status)
        run.bold = True
        run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
    number = 0
    figure = 0
    for s in report.sections:
        doc.add_heading(s.heading, level=1)
        for para in s.paragraphs:
            doc.add_paragraph(para)
        if s.diagram is not None:
            if isinstance(s.diagram, str):
                doc.add_paragraph(s.diagram)
            else:
                figure += 1
                _docx_diagram(doc, s.diagram, figure)
        for t in s.tables:
            number += 1
            _docx_table(doc, t, number)
        for plot in s.plots:
            figure += 1
            try:
                data = plot.png()
            except Exception as err:  # noqa: BLE001 - a plot that cannot be drawn is stated
                doc.add_paragraph(f"{plot.caption}: not drawn ({err})")
                continue
            cap = doc.add_paragraph()
            cap.add_run(f"Figure {figure}").bold = True
            cap.add_run("\n")
            cap.add_run(plot.caption).italic = True
            doc.add_picture(io.BytesIO(data), width=Inches(5.5))
            for n in plot.notes:
                doc.add_paragraph(n)
        if s.code:
            para = doc.add_paragraph()
            run = para.add_run(s.code)
            run.font.name = "Courier New"
    try:
        doc.save(str(path))
    except OSError as err:
        raise ReportError(f"cannot write {path}: {err.strerror or err}") from None
    return path


def _docx_diagram(doc, diagram, number: int) -> None:
    from docx.shared import Inches

    try:

        pyplot()
    except Exception:  # noqa: BLE001 - matplotlib is optional
        doc.add_paragraph("The path diagram needs matplotlib to be embedded in Word "
                          '(pip install "cbec-sem[plot]"); the HTML report shows it.')
        return
    buf = io.BytesIO(diagram.png(150))
    cap = doc.add_paragraph()
    cap.add_run(f"Figure {number}").bold = True
    cap.add_run("\n")
    cap.add_run("Path diagram of the fitted model").italic = True
    doc.add_picture(buf, width=Inches(min(9.0, diagram.width / 100)))
    for n in diagram.notes:
        doc.add_paragraph(n)


# --------------------------------------------------------------------------- Excel
_EXCEL_FORMATS = {"num": "0.000", "bounded": "0.000", "p": "0.000", "int": "0"}


def _sheet_name(key: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "_", key)[:31] or "table"
    base, k = name, 2
    while name in used:
        name = f"{base[:28]}_{k}"
        k += 1
    used.add(name)
    return name


def _cell_value(value, kind: str):
    if kind in _NUMERIC:
        try:
            x = float(value)
        except (TypeError, ValueError):
            return None if value is None else str(value)
        return None if not np.isfinite(x) else (int(x) if kind == "int" else x)
    if kind == "bool":
        try:
            return None if value is None or value is np.nan else bool(value)
        except (TypeError, ValueError):
            return None
    return None if value is None else str(value)


def write_xlsx(report: Report, path: Path) -> Path:
    """Write the report as an Excel workbook, one sheet per table."""
    openpyxl = _need("openpyxl")
    from openpyxl.styles import Border, Font, Side

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Report"
    ws.append([report.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"Written by cbec_sem on {report.created}."])
    if report.status:
        ws.append(["Warning. " + report.status])
        ws.cell(ws.max_row, 1).font = Font(bold=True, color="B00020")
    ws.append([])
    ws.append(["Sheet", "Table"])
    used = {"Report"}
    thick, thin = Side(style="medium"), Side(style="thin")
    for number, t in enumerate(report.tables, start=1):
        name = _sheet_name(t.key, used)
        ws.append([name, f"Table {number}. {t.title}"])
        sh = wb.create_sheet(name)
        sh.append([f"Table {number}. {t.title}"])
        sh["A1"].font = Font(bold=True)
        cols = list(t.frame.columns)
        sh.append([str(c) for c in cols])
        for j in range(1, len(cols) + 1):
            sh.cell(2, j).border = Border(top=thick, bottom=thin)
            sh.cell(2, j).font = Font(bold=True)
        for i, row in enumerate(t.frame.itertuples(index=False)):
            kinds = [t.kind(i, c) for c in cols]
            sh.append([_cell_value(v, k) for v, k in zip(row, kinds)])
            for j, k in enumerate(kinds, start=1):
                if k in _EXCEL_FORMATS:
                    sh.cell(sh.max_row, j).number_format = _EXCEL_FORMATS[k]
        shown = t.formatted()
        for j in range(1, len(cols) + 1):
            sh.cell(sh.max_row, j).border = Border(bottom=thick)
            width = max([len(str(cols[j - 1]))] + [len(r[j - 1]) for r in shown])
            sh.column_dimensions[openpyxl.utils.get_column_letter(j)].width = min(60, width + 2)
        for k, n in enumerate(t.notes):
            sh.append([("Note. " if k == 0 else "") + n])
    for s in report.sections:
        if s.code:
            sh = wb.create_sheet(_sheet_name("model syntax", used))
            for line in s.code.rstrip("\n").split("\n"):
                sh.append([line])
    try:
        wb.save(str(path))
    except OSError as err:
        raise ReportError(f"cannot write {path}: {err.strerror or err}") from None
    return path
