"""Write the whole analysis of a fit as a document: :func:`write_report`.

=========  ==================================================================================
suffix     what is written
=========  ==================================================================================
``.html``  one self-contained file (inline CSS and SVG diagram, no scripts), printable
``.docx``  Word (python-docx), APA tables, the diagram as PNG (matplotlib)
``.xlsx``  Excel (openpyxl), one sheet per table, numbers kept as numbers
``.tex``   LaTeX article with booktabs tables; the diagram and plots as PNG files beside it
``.md``    Markdown with pipe tables; the diagram (``<name>_diagram.svg``) and plots beside it
=========  ==================================================================================

A fit that did not converge or is inadmissible is written, not refused: the failure is the
first thing in the document (a red box in HTML, a warning paragraph elsewhere), because the
person who asked for the report needs to see what happened, and a refusal would hide the
diagnostics.  Bad paths and unknown formats are :class:`~cbec_sem.errors.ReportError`.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ReportError
from .content import Report, build_report
from .render_html import render_html
from .render_text import render_latex, render_markdown
from .render_office import write_docx, write_xlsx

#: The keyword options of :func:`~.content.build_report`.
_BUILD_OPTIONS = frozenset(p for p in inspect.signature(build_report).parameters if p != "res")

if TYPE_CHECKING:
    from ..results import FitResult

__all__ = ["FORMATS", "write_report"]

#: format name -> file suffix
FORMATS = {"html": ".html", "docx": ".docx", "xlsx": ".xlsx", "tex": ".tex", "md": ".md"}
_ALIASES = {"htm": "html", "word": "docx", "excel": "xlsx", "latex": "tex", "markdown": "md"}


def _resolve(path: str | os.PathLike, format: str | None) -> tuple[Path, str]:
    path = Path(path)
    if format is None:
        fmt = path.suffix.lower().lstrip(".")
        if not fmt:
            raise ReportError(f"cannot tell the report format of {str(path)!r}: give the file a "
                              f"suffix ({', '.join(FORMATS.values())}) or pass format=")
    else:
        fmt = str(format).lower().lstrip(".")
    fmt = _ALIASES.get(fmt, fmt)
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r} (from {str(path)!r}); use one of "
                          f"{', '.join(FORMATS)}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ReportError(f"cannot write {path}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ReportError(f"cannot write {path}: the directory {parent} is not writable")
    if path.is_dir():
        raise ReportError(f"cannot write the report to {path}: it is a directory")
    return path, fmt


def _write_images(report: Report, diagram, path: Path, svg: bool) -> dict[str, str]:
    """The diagram (SVG for Markdown, PNG for LaTeX) and the plots (PNG) as files beside
    ``path``, named ``<stem>_diagram.svg``, ``<stem>_<plot key>.png``; key -> file name.
    Images that need matplotlib are left out when it is missing (the text says nothing of
    them then)."""
    files: dict[str, str] = {}
    if diagram is not None:
        name = f"{path.stem}_diagram.{'svg' if svg else 'png'}"
        try:
            diagram.save(path.with_name(name))
            files["diagram"] = name
        except ReportError:
            raise
        except Exception:  # noqa: BLE001 - PNG needs matplotlib, which is optional
            pass
    for plot in report.plots:
        name = f"{path.stem}_{plot.key}.png"
        try:
            path.with_name(name).write_bytes(plot.png())
            files[plot.key] = name
        except OSError:
            raise
        except Exception:  # noqa: BLE001 - matplotlib is optional
            pass
    return files


def write_report(res: FitResult | Report, path: str | os.PathLike, format: str | None = None,
                 **options) -> Path:
    """Write the analysis of ``res`` to ``path``; the format comes from the suffix (or
    ``format``: html, docx, xlsx, tex, md).

    Args:
        res: a fit, or a :class:`~cbec_sem.report.content.Report` already built (to write one
            analysis in several formats without recomputing it).
        path: the file to write; its directory must exist.
        format: overrides the suffix.
        **options: passed to :func:`~cbec_sem.report.content.build_report` (``title``,
            ``call``, ``diagram``, ``plots``, ``htmt_bootstrap``, ``invariance``, ``data``).

    Returns:
        The path written.

    Raises:
        ReportError: unknown format, missing or unwritable directory, a missing optional
            dependency (python-docx, openpyxl).

    Examples:
        >>> import cbec_sem as cs
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)  # doctest: +SKIP
        >>> write_report(res, "analysis.html")                                   # doctest: +SKIP
        PosixPath('analysis.html')
    """
    path, fmt = _resolve(path, format)
    if isinstance(res, Report) and options:
        raise ReportError(f"options {sorted(options)} apply when building a report; "
                          "pass them to build_report")
    unknown = sorted(set(options) - _BUILD_OPTIONS)
    if unknown:
        raise ReportError(f"unknown report option(s) {unknown}; the options are "
                          f"{sorted(_BUILD_OPTIONS)}")
    report = res if isinstance(res, Report) else build_report(res, **options)
    diagram = next((s.diagram for s in report.sections
                    if s.diagram is not None and not isinstance(s.diagram, str)), None)
    try:
        if fmt == "html":

            path.write_text(render_html(report), encoding="utf-8")
        elif fmt in ("md", "tex"):

            files = _write_images(report, diagram, path, svg=fmt == "md")
            render = render_markdown if fmt == "md" else render_latex
            path.write_text(render(report, files), encoding="utf-8")
        elif fmt == "docx":

            write_docx(report, path)
        else:

            write_xlsx(report, path)
    except OSError as err:
        raise ReportError(f"cannot write {path}: {err.strerror or err}") from None
    return path
