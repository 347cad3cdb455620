"""Reports and the path diagram of the bundled example, checked as a reader would see them.

Every number printed is compared with the result object it came from (``res.params``,
``res.hypotheses``, ``res.reliability()``, ``res.fit_measures``): the HTML tables are parsed
back, the Word and Excel files re-opened.  APA formatting is checked against the rules of the
Publication Manual (7th ed., §6.36: no leading zero for statistics that cannot exceed 1; §6.44:
p below .001 as "< .001").  The browser test renders the HTML in real headless Chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import ConvergenceWarning, ReportError
from cbec_sem.apa import fmt_num, fmt_p, p_text, stars
from cbec_sem.report.content import build_report, data_hash
from cbec_sem.report.diagram import label_overlaps, path_diagram
from cbec_sem.report.document import write_report

MINUS = "\u2212"


@pytest.fixture(scope="module")
def res():
    return cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=11)


@pytest.fixture(scope="module")
def report(res):
    return build_report(res, call="cs.fit(cs.paper_model(), example_survey(), seed=11)",
                        htmt_bootstrap=200)


def number(text: str) -> float:
    """A printed number back as a float ('−.318' -> -0.318)."""
    return float(text.replace(MINUS, "-").replace("-.", "-0.").lstrip("<").strip()
                 if not text.startswith(".") else "0" + text)


# ----------------------------------------------------------------------------- APA
def test_apa_rules():
    # APA 7 §6.36, §6.44: p < .001, no leading zero for bounded statistics, exact p otherwise
    assert fmt_p(0.0) == "< .001" and fmt_p(0.000999) == "< .001"
    assert fmt_p(0.001) == ".001" and fmt_p(0.0312) == ".031" and fmt_p(1.0) == "1.000"
    assert p_text(2e-16) == "p < .001" and p_text(0.049) == "p = .049"
    assert fmt_num(0.8179, bounded=True) == ".818" and fmt_num(0.8179) == "0.818"
    assert fmt_num(-0.0004) == "0.000"  # no "negative zero"
    assert fmt_num(-0.5, 2, bounded=True) == MINUS + ".50"
    assert fmt_num(float("nan")) == "" and fmt_p(None) == ""
    assert [stars(p) for p in (0.0009, 0.009, 0.049, 0.05, np.nan)] == ["***", "**", "*", "", ""]


# ----------------------------------------------------------------------------- diagram
def test_diagram_of_the_paper_model(res):
    d = path_diagram(res)
    assert label_overlaps(d) == []
    root = ET.fromstring(d.svg)  # well-formed SVG
    ns = "{http://www.w3.org/2000/svg}"
    ellipses = {e.get("data-name") for e in root.iter(ns + "ellipse")}
    assert ellipses == set(res.model.latent_variables)
    items = {r.get("data-name") for r in root.iter(ns + "rect") if r.get("class") == "item"}
    assert items == set(res.model.observed_variables)
    texts = [t.text for t in root.iter(ns + "text")]
    p = res.params
    # every loading and path label is the std.all estimate with its stars
    for _, row in p[p["op"].isin(["=~", "~"])].iterrows():
        label = fmt_num(row["std.all"], 2) + stars(row["pvalue"])
        assert label in texts, (row["lhs"], row["op"], row["rhs"])
    r2 = res.rsquare().set_index("variable")["r2"]
    for name in ("FA", "SCI", "VP", "FO", "IS"):
        assert f"R² = {fmt_num(r2[name], 2, bounded=True)}" in texts
    # moderation hypotheses are dashed arrows labelled with the hypothesis' std.all
    hyp = res.hypotheses.set_index("id")
    assert sum(1 for x in root.iter(ns + "line") if x.get("class") == "moderation") == 3
    for key in ("H5", "H6a", "H6b"):
        assert f"{key}: " + fmt_num(hyp.loc[key, "std.all"], 2) + stars(hyp.loc[key, "p"]) in texts


class _FakeFit:
    """Enough of a FitResult for the diagram: a model, params, R²."""

    def __init__(self, model):
        self.model = model
        rows = [(lv, "=~", it) for lv, its in model.indicators.items() for it in its]
        rows += [(y, "~", x) for y, x in model.regressions]
        self.params = pd.DataFrame(rows, columns=["lhs", "op", "rhs"]).assign(
            group=1, **{"std.all": 0.7, "pvalue": 0.001})
        self.hypotheses = pd.DataFrame()

    def rsquare(self):
        ys = sorted({y for y, _ in self.model.regressions})
        return pd.DataFrame({"variable": ys, "group": 1, "r2": 0.3})


def test_diagram_of_hundreds_of_items_folds_them():
    syntax = "\n".join(f"F{k} =~ " + " + ".join(f"x{k}_{j}" for j in range(30))
                       for k in range(10)) + "\nF9 ~ F0 + F1 + F2\n"
    d = path_diagram(_FakeFit(cs.ModelSpec.from_lavaan(syntax)))
    assert not [n for n in d.nodes if n.kind == "observed"]
    assert any("300 items are not drawn" in n for n in d.notes)
    assert "30 items" in d.svg and label_overlaps(d) == []


def test_diagram_folds_items_that_would_make_it_too_wide():
    syntax = "\n".join(f"F{k} =~ " + " + ".join(f"y{k}_{j}" for j in range(10))
                       for k in range(6)) + "\n" + "\n".join(f"F{k + 1} ~ F{k}" for k in range(5))
    model = cs.ModelSpec.from_lavaan(syntax)
    wide = path_diagram(_FakeFit(model), items=True)
    assert wide.width > 2400
    d = path_diagram(_FakeFit(model))  # 60 items: not too many, but too wide
    assert d.width <= 2400 and not [n for n in d.nodes if n.kind == "observed"]
    assert any(f"would be {wide.width:.0f} px wide" in n for n in d.notes)


def test_diagram_of_a_cfa_draws_the_factor_correlations():
    hs = pd.read_csv(Path(__file__).parents[1] / "fixtures" / "data" / "hs_grade_complete.csv")
    res = cs.fit("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9", hs)
    d = path_diagram(res)
    assert label_overlaps(d) == []
    arcs = [a for a in d.arrows if a.role == "covariance"]
    assert len(arcs) == 3
    texts = {lab.text for lab in d.labels}
    p = res.params
    cov = p[(p["op"] == "~~") & (p["lhs"] != p["rhs"])]
    for _, row in cov.iterrows():  # std.all of a factor covariance is the correlation
        assert fmt_num(row["std.all"], 2, bounded=True) + stars(row["pvalue"]) in texts
    root = ET.fromstring(d.svg)
    assert len([e for e in root.iter("{http://www.w3.org/2000/svg}path")
                if e.get("class") == "covariance"]) == 3


def test_diagram_refuses_too_many_constructs():
    syntax = "\n".join(f"F{k} =~ a{k} + b{k} + c{k}" for k in range(45))
    with pytest.raises(ReportError, match="45 constructs.*max_constructs=40"):
        path_diagram(_FakeFit(cs.ModelSpec.from_lavaan(syntax)))


def test_diagram_save(res, tmp_path):
    d = path_diagram(res)
    assert d.save(tmp_path / "m.svg").read_text().startswith("<svg")
    with pytest.raises(ReportError, match="use .svg, .png or .pdf"):
        d.save(tmp_path / "m.gif")


# ----------------------------------------------------------------------------- HTML
class _Tables(HTMLParser):
    """Tables of an HTML page by id: header and rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._id = None
        self._cell = None
        self._row = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._id = attrs.get("id")
            self.tables[self._id] = []
        elif tag == "tr" and self._id:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._id].append(self._row)
            self._row = None
        elif tag == "table":
            self._id = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _html_tables(text: str) -> dict[str, pd.DataFrame]:
    parser = _Tables()
    parser.feed(text)
    return {k: pd.DataFrame(v[1:], columns=v[0]) for k, v in parser.tables.items()}


def test_html_tables_equal_the_result_objects(res, report, tmp_path):
    path = write_report(report, tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text and "http://" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")  # self-contained
    tables = _html_tables(text)
    hyp = tables["hypotheses"]
    ref = res.hypotheses
    assert list(hyp["H"]) == list(ref["id"])
    assert list(hyp["Verdict"]) == list(ref["verdict"])
    for printed, value in zip(hyp["Estimate"], ref["estimate"], strict=True):
        assert abs(number(printed) - value) <= 5e-4
    for printed, value in zip(hyp["p"], ref["p"], strict=True):
        assert printed == fmt_p(value)
    for printed, value in zip(hyp["CI lower"], ref["ci.lower"], strict=True):
        assert printed == fmt_num(value)
    loads = tables["loadings"]
    p = res.params[res.params["op"] == "=~"]
    np.testing.assert_allclose([number(x) for x in loads["β"]], p["std.all"], atol=5e-4)
    rel = tables["reliability"].set_index("Construct")
    r = res.reliability().set_index("construct")
    for c in ("TA", "FA", "PC"):
        assert rel.loc[c, "α"] == fmt_num(r.loc[c, "alpha"], bounded=True)
        assert rel.loc[c, "ω (CR)"] == fmt_num(r.loc[c, "omega"], bounded=True)
        assert rel.loc[c, "AVE"] == fmt_num(r.loc[c, "ave"], bounded=True)
    # cross-loadings: an item's correlation with its only construct is its std.all loading
    cross = tables["cross_loadings"].set_index("Item")
    for _, row in p[p["rhs"].str.match(r"^[a-z]+\d$")].iterrows():
        assert cross.loc[row["rhs"], row["lhs"]] == fmt_num(row["std.all"], bounded=True)
    fit = tables["fit"].set_index("Measure")
    fm = res.fit_measures
    assert number(fit.loc["χ²", "Standard"]) == pytest.approx(fm["chisq"], abs=5e-4)
    assert fit.loc["df", "Standard"] == f"{int(fm['df'])}"
    assert fit.loc["CFI", "Standard"] == fmt_num(fm["cfi"], bounded=True)
    assert fit.loc["p (χ²)", "Standard"] == fmt_p(fm["pvalue"])
    assert 'id="path-diagram"' in text and "<svg" in text
    # simple slopes and Johnson-Neyman plot per interaction/moderation hypothesis (H5, H6a,
    # H6b), one NCA plot per necessity hypothesis (H7, H8), embedded as PNG
    probes = [f"{kind}_{h}" for h in ("H5", "H6a", "H6b") for kind in ("slopes", "jn")]
    assert [p.key for p in report.plots] == probes + ["nca_H7", "nca_H8"]
    for key in probes + ["nca_H7", "nca_H8"]:
        assert re.search(rf'id="figure-{key}"><figcaption>.*?<img src="data:image/png;base64,',
                         text)
    assert data_hash(res) in text


def test_markdown_and_latex(report, tmp_path):
    md = write_report(report, tmp_path / "r.md").read_text(encoding="utf-8")
    assert "| H | Statement |" in md and (tmp_path / "r_diagram.svg").exists()
    assert "| indirect | a\\*b |" in md  # emphasis characters escaped
    assert "![Path diagram of the fitted model](r_diagram.svg)" in md
    tex = write_report(report, tmp_path / "r.tex").read_text(encoding="utf-8")
    assert tex.count(r"\toprule") == len(report.tables) == tex.count(r"\bottomrule")
    assert r"\usepackage{booktabs}" in tex and r"\end{document}" in tex
    assert r"\includegraphics[width=\linewidth]{r_diagram.png}" in tex
    assert (tmp_path / "r_diagram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert r"\includegraphics[width=0.8\linewidth]{r_nca_H7.png}" in tex
    assert "![H8: necessary condition analysis of TA → SCI](r_nca_H8.png)" in md


# ----------------------------------------------------------------------------- Word, Excel
def test_word_tables_equal_the_result_objects(res, report, tmp_path):
    docx = pytest.importorskip("docx")
    path = write_report(report, tmp_path / "r.docx")
    doc = docx.Document(str(path))
    assert len(doc.tables) == len(report.tables)
    assert len(doc.inline_shapes) == 1 + len(report.plots)  # the diagram and the NCA plots
    keys = [t.key for t in report.tables]
    table = doc.tables[keys.index("hypotheses")]
    cells = [[c.text for c in row.cells] for row in table.rows]
    head = cells[0]
    ref = res.hypotheses
    for row, (_, h) in zip(cells[1:], ref.iterrows(), strict=True):
        got = dict(zip(head, row))
        assert got["H"] == h["id"] and got["Verdict"] == h["verdict"]
        assert got["p"] == fmt_p(h["p"]) and got["Estimate"] == fmt_num(h["estimate"])
    paths = doc.tables[keys.index("paths")]
    reg = res.params[res.params["op"] == "~"]
    got = [number(r.cells[-1].text) for r in paths.rows[1:]]
    np.testing.assert_allclose(got, reg["std.all"], atol=5e-4)


def test_excel_keeps_the_numbers(res, report, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    path = write_report(report, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(path)
    assert {t.key for t in report.tables} <= set(wb.sheetnames)
    ws = wb["hypotheses"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    head = rows[0]
    ref = res.hypotheses
    assert str(rows[1 + len(ref)][0]).startswith("Note.")  # the notes follow the table
    for row, (_, h) in zip(rows[1:1 + len(ref)], ref.iterrows(), strict=True):
        got = dict(zip(head, row))
        assert got["H"] == h["id"]
        # stored as numbers, not rounded (Excel keeps 15 significant digits)
        assert got["Estimate"] == pytest.approx(h["estimate"], rel=1e-14)
        assert got["p"] == pytest.approx(h["p"], rel=1e-14)
    ws = wb["loadings"]
    rows = list(ws.iter_rows(min_row=3, max_row=2 + 23, values_only=True))
    p = res.params[res.params["op"] == "=~"]
    np.testing.assert_allclose([r[-1] for r in rows], p["std.all"], rtol=1e-14)


# ----------------------------------------------------------------------------- bad input
def test_bad_paths_and_formats(report, tmp_path, monkeypatch):
    with pytest.raises(ReportError, match="unknown report format 'pdf'"):
        write_report(report, tmp_path / "r.pdf")
    with pytest.raises(ReportError, match="give the file a suffix"):
        write_report(report, tmp_path / "report")
    with pytest.raises(ReportError, match="does not exist"):
        write_report(report, tmp_path / "missing" / "r.html")
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(ReportError, match="is not writable"):
        write_report(report, tmp_path / "r.html")


def test_non_converged_fit_is_written_with_the_failure_first(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bad = cs.fit(cs.paper_model(hypotheses=["H1"]), cs.datasets.example_survey(),
                     max_iter=2)
    assert not bad.converged
    text = write_report(bad, tmp_path / "bad.html", htmt_bootstrap=0).read_text()
    body = text[text.index("<body>"):]
    assert body.index('class="status"') < body.index("<nav>")
    assert "NOT CONVERGED" in body and "do not report them" in body
    md = write_report(bad, tmp_path / "bad.md", htmt_bootstrap=0).read_text()
    assert md.split("\n")[4].startswith("> **Warning.**")


# ----------------------------------------------------------------------------- browser
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_html_report_in_headless_chromium(report, tmp_path):
    browser = _chromium()
    if browser is None:  # CI installs Debian's chromium (.ci/run); only a bare laptop skips
        if os.environ.get("CBEC_REQUIRE_BROWSER"):
            pytest.fail("CBEC_REQUIRE_BROWSER is set but no chromium is on PATH")
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    page = write_report(report, tmp_path / "report.html")
    shot = tmp_path / "report.png"
    # one browser run prints the DOM and takes the screenshot; the window is tall enough to
    # show the page down to the end of the hypothesis table (the diagram is just above it)
    run = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,6400",
         f"--screenshot={shot}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    tables = _html_tables(run.stdout)
    assert set(tables) == {t.key for t in report.tables}
    for t in report.tables:  # every row made it into the rendered page
        assert len(tables[t.key]) == len(t.frame), t.key
    assert re.search(r'<svg[^>]*class="cbec-path-diagram"', run.stdout)
    assert shot.exists(), run.stderr[-2000:]
    from PIL import Image

    image = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert image.shape == (6400, 1280)
    assert image.std() > 10  # not a blank page: text and rules were drawn
    if os.environ.get("CBEC_SCREENSHOT_DIR"):  # keep the picture for a person to look at
        shutil.copy(shot, os.path.join(os.environ["CBEC_SCREENSHOT_DIR"], "report.png"))


# ----------------------------------------------------------------------------- LaTeX engine
def tex_characters_ok(text: str) -> list[str]:
    """Characters of a .tex file that pdfLaTeX's utf8 input with T1 fonts cannot typeset
    (beyond Latin-1 and Latin Extended-A, which T1 covers): what made \\usepackage[utf8]
    stop with 'Unicode character ... not set up for use with LaTeX'."""
    return sorted({ch for ch in text if ord(ch) > 0x17F})


def compile_latex(tex: Path) -> str:
    """Compile ``tex`` with pdflatex in its folder; skip when there is no LaTeX (CI installs
    Debian's texlive-latex-base and -recommended in .ci/run; CBEC_REQUIRE_LATEX makes a
    missing engine a failure).  Returns pdflatex's log."""
    engine = shutil.which("pdflatex")
    if engine is None:
        if os.environ.get("CBEC_REQUIRE_LATEX"):
            pytest.fail("CBEC_REQUIRE_LATEX is set but pdflatex is not on PATH")
        pytest.skip("pdflatex is not installed (Debian: texlive-latex-base, "
                    "texlive-latex-recommended)")
    run = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", tex.name],
                         cwd=tex.parent, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    assert tex.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    return run.stdout


def test_latex_report_compiles(report, tmp_path):
    tex = write_report(report, tmp_path / "r.tex")
    assert tex_characters_ok(tex.read_text(encoding="utf-8")) == []
    log = compile_latex(tex)
    pages = int(re.search(r"Output written on r\.pdf \((\d+) pages", log).group(1))
    assert pages >= 5  # tables and figures, not an empty document
