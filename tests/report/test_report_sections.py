"""The report's PLS assessment section, its moderation figures and its invariance section:
every printed number is parsed back and compared with the public function that made it
(``cs.reliability``, ``cs.htmt``, ``cs.fornell_larcker``, ``cs.vif``, ``cs.f_squared``,
``res.r2``, ``res.params``, ``res.fit_measures``, ``cs.simple_slopes``, ``cs.invariance``).
The agreement of those functions with seminr, lavaan and semTools is tested where they live
(tests/pls, tests/measurement, tests/propositions); here the report must not change them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.apa import fmt_num, fmt_p
from cbec_sem.errors import CbecSemWarning, ReportError
from cbec_sem.propositions.evidence import rows_used
from cbec_sem.propositions.interaction.product_indicators import fit_product_indicators
from cbec_sem.propositions.moderation import InteractionEstimates
from cbec_sem.report.content import build_report
from cbec_sem.report.document import write_report
from cbec_sem.specification import ModelSpec

from test_report import (  # tests/report is on sys.path (rootdir-relative)
    _html_tables, compile_latex, number, tex_characters_ok)

HTMT_DRAWS = 40


@pytest.fixture(scope="module")
def pls():
    return cs.fit(cs.paper_model(hypotheses=["H1", "H2", "H3", "H4"]),
                  cs.datasets.example_survey(), estimator="PLS", se="bootstrap",
                  bootstrap=100, seed=3)


@pytest.fixture(scope="module")
def pls_report(pls):
    return build_report(pls, htmt_bootstrap=HTMT_DRAWS)


def test_pls_report_has_the_assessment_battery(pls_report):
    keys = [t.key for t in pls_report.tables]
    for key in ("pls_outer", "pls_reliability", "pls_outer_vif", "pls_htmt",
                "pls_fornell_larcker", "pls_cross_loadings", "pls_fit", "pls_paths", "pls_r2",
                "pls_defined", "hypotheses", "checklist", "reproducibility"):
        assert key in keys
    # none of the covariance-structure tables (χ², CFI, ML loadings) in a PLS report
    assert not {"fit", "loadings", "mardia"} & set(keys)
    assert not [p for s in pls_report.sections for p in s.paragraphs
                if "could not be computed" in p]


def test_pls_html_tables_equal_the_result_objects(pls, pls_report, tmp_path):
    text = write_report(pls_report, tmp_path / "pls.html").read_text(encoding="utf-8")
    tables = _html_tables(text)
    # reliability: α (standardised and raw), ρA, ρC, AVE of cs.reliability
    rel = tables["pls_reliability"].set_index("Construct")
    ref = cs.reliability(pls).set_index("construct")
    assert list(rel.index) == list(ref.index)
    for c in ref.index:
        assert rel.loc[c, "α"] == fmt_num(ref.loc[c, "alpha"], bounded=True)
        assert rel.loc[c, "α (raw)"] == fmt_num(ref.loc[c, "alpha_raw"], bounded=True)
        assert rel.loc[c, "ρA"] == fmt_num(ref.loc[c, "rhoA"])
        assert rel.loc[c, "ρC"] == fmt_num(ref.loc[c, "rhoC"], bounded=True)
        assert rel.loc[c, "AVE"] == fmt_num(ref.loc[c, "AVE"], bounded=True)
    # HTMT with its bootstrap interval (same draws and seed as the report)
    ht = tables["pls_htmt"]
    href = cs.htmt(pls, bootstrap=HTMT_DRAWS, seed=3)
    assert list(ht["Construct 1"]) == list(href["construct1"])
    for col, ref_col in (("HTMT", "htmt"), ("HTMT2", "htmt2"), ("CI lower", "ci.lower"),
                         ("CI upper", "ci.upper")):
        assert list(ht[col]) == [fmt_num(v) for v in href[ref_col]], col
    # Fornell-Larcker: √AVE on the diagonal, correlations below
    fl = tables["pls_fornell_larcker"].set_index("Construct")
    fref = cs.fornell_larcker(pls)
    for i, a in enumerate(fref.index):
        for b in fref.columns[:i + 1]:
            assert number(fl.loc[a, b]) == pytest.approx(fref.loc[a, b], abs=5e-4)
    # outer VIFs
    ov = tables["pls_outer_vif"]
    vref = cs.vif(pls)
    outer = vref[vref["kind"] == "outer"]
    assert list(ov["Indicator"]) == list(outer["indicator"])
    assert list(ov["VIF"]) == [fmt_num(v) for v in outer["vif"]]
    # outer loadings with bootstrap SE and percentile CI
    lo = tables["pls_outer"]
    p = pls.params[pls.params["op"] == "=~"]
    assert list(lo["Estimate"]) == [fmt_num(v) for v in p["est"]]
    assert list(lo["SE"]) == [fmt_num(v) for v in p["se"]]
    assert list(lo["CI upper"]) == [fmt_num(v) for v in p["ci.upper"]]
    # structural paths beside their f² and inner VIF
    paths = tables["pls_paths"]
    reg = pls.params[pls.params["op"] == "~"]
    assert list(paths["β"]) == [fmt_num(v) for v in reg["est"]]
    assert list(paths["SE"]) == [fmt_num(v) for v in reg["se"]]
    assert list(paths["t"]) == [fmt_num(v) for v in reg["z"]]
    assert list(paths["p"]) == [fmt_p(v) for v in reg["pvalue"]]
    assert list(paths["CI lower"]) == [fmt_num(v) for v in reg["ci.lower"]]
    f2 = cs.f_squared(pls).set_index(["outcome", "predictor"])["f2"]
    inner = vref[vref["kind"] == "inner"].set_index(["outcome", "predictor"])["vif"]
    for y, x, got_f2, got_vif in zip(paths["Outcome"], paths["Predictor"], paths["f²"],
                                     paths["VIF"]):
        assert got_f2 == fmt_num(f2.loc[(y, x)])
        assert got_vif == fmt_num(inner.loc[(y, x)])
    # R², adjusted R², SRMR, d_ULS, d_G
    r2 = tables["pls_r2"].set_index("Construct")
    for _, row in pls.r2.iterrows():
        assert r2.loc[row["construct"], "R²"] == fmt_num(row["r2"], bounded=True)
        assert r2.loc[row["construct"], "Adjusted R²"] == fmt_num(row["adj_r2"], bounded=True)
    fit = tables["pls_fit"].set_index("Measure")
    fm = pls.fit_measures
    assert fit.loc["SRMR", "Value"] == fmt_num(fm["srmr"])
    assert fit.loc["d_ULS", "Value"] == fmt_num(fm["d_uls"])
    assert fit.loc["d_G", "Value"] == fmt_num(fm["d_g"])
    # the checklist's worst AVE is the smallest AVE of cs.reliability
    check = tables["checklist"].set_index("Criterion")
    assert check.loc["AVE", "Worst case"] == ref["AVE"].idxmin()
    assert check.loc["AVE", "Value"] == fmt_num(ref["AVE"].min())
    assert check.loc["SRMR", "Value"] == fmt_num(fm["srmr"])
    # the hypotheses come from res.hypotheses with the bootstrap's level
    hyp = tables["hypotheses"]
    assert list(hyp["Verdict"]) == list(pls.hypotheses["verdict"])
    assert "PLS" in text and "95% confidence intervals" in text


def test_pls_word_and_excel(pls, pls_report, tmp_path):
    docx = pytest.importorskip("docx")
    openpyxl = pytest.importorskip("openpyxl")
    doc = docx.Document(str(write_report(pls_report, tmp_path / "pls.docx")))
    keys = [t.key for t in pls_report.tables]
    rows = doc.tables[keys.index("pls_reliability")].rows
    head = [c.text for c in rows[0].cells]
    ref = cs.reliability(pls)
    for row, (_, r) in zip(rows[1:], ref.iterrows(), strict=True):
        got = dict(zip(head, (c.text for c in row.cells)))
        assert got["ρA"] == fmt_num(r["rhoA"]) and got["AVE"] == fmt_num(r["AVE"], bounded=True)
    wb = openpyxl.load_workbook(write_report(pls_report, tmp_path / "pls.xlsx"))
    ws = wb["pls_paths"]
    values = list(ws.iter_rows(min_row=2, values_only=True))
    head = values[0]
    reg = pls.params[pls.params["op"] == "~"]
    for row, est in zip(values[1:1 + len(reg)], reg["est"], strict=True):
        assert dict(zip(head, row))["β"] == pytest.approx(est, rel=1e-14)


def test_pls_latex_compiles(pls_report, tmp_path):
    """ρA, ρC, f², Δ and the other symbols of the PLS tables are typeset by pdfLaTeX."""
    tex = write_report(pls_report, tmp_path / "pls.tex")
    text = tex.read_text(encoding="utf-8")
    assert tex_characters_ok(text) == []
    assert r"$\rho$A" in text and r"f\textsuperscript{2}" in text
    compile_latex(tex)


# ----------------------------------------------------------------------------- moderation
def test_moderation_figures_probe_the_tested_model():
    """The report's simple slopes come from the product-indicator model the hypothesis test
    fitted: its product coefficient is the H5 row's estimate, and the legend's slopes and
    p values are cs.simple_slopes of that model."""
    data = cs.datasets.example_survey()
    res = cs.fit(cs.paper_model(hypotheses=["H5"]), data, seed=5)
    report = build_report(res, htmt_bootstrap=0, diagram=False)
    assert [p.key for p in report.plots] == ["slopes_H5", "jn_H5"]
    spec = ModelSpec.from_lavaan(res.model.to_lavaan() + "\nSCI ~ TA:FA")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CbecSemWarning)
        pif = fit_product_indicators(spec, rows_used(res), method="dblcent", match=True,
                                     estimator="MLR")
    hyp = res.hypotheses.set_index("id")
    for hid, moderator in (("H5", "FA"),):
        est = InteractionEstimates.from_fit(pif, moderator, focal="TA", outcome="SCI")
        assert est.coef[est.key("SCI", f"TA:{moderator}")] == pytest.approx(
            hyp.loc[hid, "estimate"], rel=1e-6)
        slopes = cs.simple_slopes(pif, "TA", moderator, "SCI")
        fig = next(p for p in report.plots if p.key == f"slopes_{hid}").draw()
        legend = [t.get_text() for t in fig.legends[0].get_texts()]  # a figure legend (outside)
        for text, row in zip(legend, slopes.itertuples(), strict=True):
            assert f"slope {fmt_num(row.slope, 2)}" in text
            assert fmt_p(row.pvalue) in text
        jn = next(p for p in report.plots if p.key == f"jn_{hid}")
        assert jn.png()[:8] == b"\x89PNG\r\n\x1a\n"
    # the PLS report says why it has no probes instead of drawing them
    pls = cs.fit(cs.paper_model(hypotheses=["H5"]), data, estimator="PLS")
    rep = build_report(pls, htmt_bootstrap=0, diagram=False, plots=True)
    assert not rep.plots
    assert any("No moderation figures" in p for s in rep.sections for p in s.paragraphs)


# ----------------------------------------------------------------------------- invariance
CFA = """
TA =~ ta1 + ta2 + ta3 + ta4
FA =~ fa1 + fa2 + fa3 + fa4
"""


def test_invariance_section(tmp_path):
    data = cs.datasets.example_survey()
    res = cs.fit(CFA, data)
    report = build_report(res, htmt_bootstrap=0, diagram=False, invariance="business_model",
                          data=data)
    inv = cs.invariance(CFA, data, group="business_model")
    tables = _html_tables(write_report(report, tmp_path / "inv.html").read_text())
    got = tables["invariance"].set_index("Level")
    ref = inv.table
    assert list(got.index) == list(ref.index)
    for level in ref.index:
        assert got.loc[level, "χ²"] == fmt_num(ref.loc[level, "chisq"])
        assert got.loc[level, "CFI"] == fmt_num(ref.loc[level, "cfi"], bounded=True)
        assert got.loc[level, "df"] == f"{int(ref.loc[level, 'df'])}"
    for level in ref.index[1:]:
        assert got.loc[level, "ΔCFI"] == fmt_num(ref.loc[level, "delta_cfi"])
        assert got.loc[level, "p (Δχ²)"] == fmt_p(ref.loc[level, "p_delta"])
    # a result of cs.invariance is shown as it is
    again = build_report(res, htmt_bootstrap=0, diagram=False, invariance=inv)
    pd.testing.assert_frame_equal(again.table("invariance").frame,
                                  report.table("invariance").frame)
    with pytest.raises(ReportError, match="pass the data too"):
        build_report(res, invariance="business_model")
    with pytest.raises(ReportError, match="invariance= takes"):
        build_report(res, invariance=3)
    assert np.isfinite(report.table("invariance").frame["χ²"]).all()
