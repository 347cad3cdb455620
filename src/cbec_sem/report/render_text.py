"""The Markdown (pipe tables) and LaTeX (booktabs) reports.

LaTeX needs ``\\usepackage{booktabs}`` (and ``graphicx`` for the diagram); the document is a
complete ``article`` that compiles with pdflatex/xelatex, and each table can be copied into a
manuscript as is.
"""

from __future__ import annotations

import re
import unicodedata

from ..protocol import latex_escape
from .content import Report, Table

__all__ = ["render_markdown", "render_latex"]


def _md_text(text: str) -> str:
    """Text with Markdown's emphasis characters escaped (``a*b`` stays ``a*b``)."""
    for ch in ("\\", "*", "_", "`"):
        text = text.replace(ch, "\\" + ch)
    return text


def _md_cell(text: str) -> str:
    return _md_text(text).replace("|", r"\|").replace("\n", " ")


def _md_table(t: Table, number: int) -> list[str]:
    out = ["", f"**Table {number}**", "", f"*{t.title}*", "",
           "| " + " | ".join(_md_cell(str(c)) for c in t.frame.columns) + " |",
           "|" + "|".join("---:" if t.formats.get(c, "text") != "text" else "---"
                          for c in t.frame.columns) + "|"]
    out += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in t.formatted()]
    for k, n in enumerate(t.notes):
        out += ["", ("*Note.* " if k == 0 else "") + _md_text(n)]
    return out


def render_markdown(report: Report, files: dict[str, str] | None = None) -> str:
    """The report as Markdown; the diagram and plots are linked from the image files written
    beside it (``files``: ``"diagram"`` or a plot's key -> file name)."""
    files = files or {}
    diagram_file = files.get("diagram")
    out = [f"# {report.title}", "", f"Written by cbec_sem on {report.created}."]
    if report.status:
        out += ["", f"> **Warning.** {_md_text(report.status)}"]
    number = 0
    for s in report.sections:
        out += ["", f"## {s.heading}"]
        for para in s.paragraphs:
            out += ["", _md_text(para)]
        if s.diagram is not None:
            if isinstance(s.diagram, str):
                out += ["", s.diagram]
            elif diagram_file:
                out += ["", f"![Path diagram of the fitted model]({diagram_file})"]
        for t in s.tables:
            number += 1
            out += _md_table(t, number)
        for plot in s.plots:
            if plot.key in files:
                out += ["", f"![{plot.caption}]({files[plot.key]})"]
                out += ["", "*Note.* " + _md_text(" ".join(plot.notes))] if plot.notes else []
        if s.code:
            out += ["", "Model syntax (lavaan):", "", "```", s.code.rstrip("\n"), "```"]
    return "\n".join(out) + "\n"


#: characters pdfLaTeX's utf8 input cannot typeset, and their LaTeX (Greek letters are
#: handled by name in :func:`_greek`)
_TEX_SYMBOLS = (("−", "$-$"), ("≥", r"$\geq$"), ("≤", r"$\leq$"), ("≠", r"$\neq$"),
                ("≈", r"$\approx$"), ("±", r"$\pm$"), ("·", r"$\cdot$"), ("χ²", r"$\chi^2$"),
                ("R²", r"$R^2$"), ("²", r"\textsuperscript{2}"), ("√", r"$\surd$"),
                ("×", r"$\times$"), ("→", r"$\rightarrow$"), ("←", r"$\leftarrow$"),
                ("↔", r"$\leftrightarrow$"), ("∞", r"$\infty$"), ("…", r"\ldots{}"),
                ("–", "--"), ("—", "---"), ("<", r"\textless{}"), (">", r"\textgreater{}"))

#: Greek letters without a LaTeX command of their own name (they look like Latin capitals)
_GREEK_AS_LATIN = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H",
                   "Iota": "I", "Kappa": "K", "Mu": "M", "Nu": "N", "Omicron": "O",
                   "Rho": "P", "Tau": "T", "Chi": "X", "omicron": "o"}


_ADJACENT_MATH = re.compile(r"(?<!\\)\$\$")


def _greek(ch: str) -> str:
    """A Greek letter as LaTeX maths (``ρ`` -> ``$\\rho$``, ``Δ`` -> ``$\\Delta$``), by its
    Unicode name; any other character unchanged."""
    name = unicodedata.name(ch, "")
    if not name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")):
        return ch
    word = name.rsplit(" ", 1)[-1].lower()
    if "CAPITAL" in name:
        word = word.capitalize()
    if word == "lamda":
        word = "lambda"
    elif word == "Lamda":
        word = "Lambda"
    if word in _GREEK_AS_LATIN:
        return _GREEK_AS_LATIN[word]
    return f"$\\{word}$"


def _tex(text: str) -> str:
    """Text for a LaTeX document compiled by pdfLaTeX (utf8 input, T1 fonts): special
    characters escaped, maths symbols and Greek letters as maths."""
    text = latex_escape(text)
    for a, b in _TEX_SYMBOLS:
        text = text.replace(a, b)
    text = "".join(_greek(ch) for ch in text)
    return _ADJACENT_MATH.sub("", text)  # "$\\Delta$$\\chi^2$" -> "$\\Delta\\chi^2$"


def _tex_table(t: Table, number: int) -> list[str]:
    align = "".join("r" if t.formats.get(c, "text") != "text" else "l" for c in t.frame.columns)
    out = [r"\begin{table}[htbp]", r"\centering", r"\small",
           rf"\caption{{{_tex(t.title)}}}", rf"\label{{tab:{t.key}}}",
           r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
           rf"\begin{{tabular}}{{{align}}}", r"\toprule",
           " & ".join(_tex(str(c)) for c in t.frame.columns) + r" \\", r"\midrule"]
    out += [" & ".join(_tex(v) for v in row) + r" \\" for row in t.formatted()]
    out += [r"\bottomrule", r"\end{tabular}}"]
    if t.notes:
        out.append(r"\par\medskip\begin{minipage}{\linewidth}\footnotesize\emph{Note.} "
                   + " ".join(_tex(n) for n in t.notes) + r"\end{minipage}")
    out.append(r"\end{table}")
    return out


def render_latex(report: Report, files: dict[str, str] | None = None) -> str:
    """The report as a LaTeX article with booktabs tables; the diagram and plots are included
    from the PNG files written beside it (``files``: ``"diagram"`` or a plot's key -> name)."""
    files = files or {}
    diagram_file = files.get("diagram")
    out = [r"\documentclass[11pt]{article}", r"\usepackage[utf8]{inputenc}",
           r"\usepackage[T1]{fontenc}", r"\usepackage{booktabs}", r"\usepackage{graphicx}",
           r"\usepackage[margin=2.2cm]{geometry}", r"\usepackage{float}",
           rf"\title{{{_tex(report.title)}}}", rf"\date{{{_tex(report.created)}}}",
           r"\begin{document}", r"\maketitle"]
    if report.status:
        out.append(rf"\noindent\fbox{{\parbox{{\linewidth}}{{\textbf{{Warning.}} "
                   rf"{_tex(report.status)}}}}}")
    number = 0
    for s in report.sections:
        out.append(rf"\section{{{_tex(s.heading)}}}")
        out += [_tex(p) + "\n" for p in s.paragraphs]
        if s.diagram is not None:
            if isinstance(s.diagram, str):
                out.append(_tex(s.diagram))
            elif diagram_file:
                out += [r"\begin{figure}[htbp]", r"\centering",
                        rf"\includegraphics[width=\linewidth]{{{diagram_file}}}",
                        r"\caption{Path diagram of the fitted model}", r"\label{fig:path}",
                        r"\end{figure}"]
        for t in s.tables:
            number += 1
            out += _tex_table(t, number)
        for plot in s.plots:
            if plot.key in files:
                out += [r"\begin{figure}[htbp]", r"\centering",
                        rf"\includegraphics[width=0.8\linewidth]{{{files[plot.key]}}}",
                        rf"\caption{{{_tex(plot.caption)}}}", rf"\label{{fig:{plot.key}}}",
                        r"\end{figure}"]
        if s.code:
            out += [r"\begin{verbatim}", s.code.rstrip("\n"), r"\end{verbatim}"]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
