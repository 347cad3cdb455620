"""cbec_sem.interop.semopy.crosscheck: semopy's estimates beside ours, its deviant statistics
marked.  Reference values: lavaan 0.6's HolzingerSwineford1939 CFA
(tests/fixtures/lavaan/hs_cfa.json, made by tests/fixtures/make_lavaan_fixtures.R) and the
closed forms of semopy 2.3's own statistics (semopy/stats.py: RMSEA with N − 1, GFI as
1 − χ²/χ²_baseline, LogLik as the ML discrepancy)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import cbec_sem as cs
from cbec_sem.errors import SpecError

# semopy itself is imported by crosscheck when a test first calls it: importing it here (with
# sympy and scikit-learn) cost every xdist worker ~2 s of CPU at collection
if importlib.util.find_spec("semopy") is None:
    pytest.skip("semopy is not installed", allow_module_level=True)

from cbec_sem.interop.semopy import crosscheck, semopy_description  # noqa: E402

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "lavaan" / "hs_cfa.json")
                     .read_text())


@pytest.fixture(scope="module")
def hs():
    return crosscheck(FIXTURE["model"], cs.datasets.holzinger_swineford_1939())


def test_estimates_side_by_side_agree_with_lavaan(hs):
    est = hs.estimates.set_index(["lhs", "op", "rhs"])
    cols = FIXTURE["params"]  # column -> values, lavaan's parameterEstimates()
    lav = {(a, o, b): {"est": e, "se": s} for a, o, b, e, s in zip(
        cols["lhs"], cols["op"], cols["rhs"], cols["est"], cols["se"])}
    free = est[est["note"] == ""]
    assert len(free) == 21  # every free parameter of the 3-factor CFA is matched
    for key, row in free.iterrows():
        assert row["est"] == pytest.approx(lav[key]["est"], abs=1e-5)       # ours: lavaan's
        assert row["est.semopy"] == pytest.approx(lav[key]["est"], abs=2e-3)  # semopy's stop
        assert row["se.semopy"] == pytest.approx(lav[key]["se"], abs=2e-3)
    assert hs.max_abs_diff < 2e-3
    assert (est["note"] == "fixed").sum() == 3  # the marker loadings


def test_deviant_statistics_are_marked_with_their_closed_forms(hs):
    fit = hs.fit.set_index("measure")
    fm, n = FIXTURE["fit_measures"], FIXTURE["ntotal"]
    assert fit.loc["chisq", "cbec_sem"] == pytest.approx(fm["chisq"], rel=1e-6)
    assert fit.loc["chisq", "semopy"] == pytest.approx(fm["chisq"], rel=1e-3)
    assert fit.loc["df", "semopy"] == fm["df"] and fit.loc["chisq", "note"] == ""
    chi2, df, base = (fit.loc[k, "semopy"] for k in ("chisq", "df", "baseline.chisq"))
    # RMSEA: ours is lavaan's (N); semopy's divides by N - 1
    assert fit.loc["rmsea", "cbec_sem"] == pytest.approx(fm["rmsea"], rel=1e-6)
    assert fit.loc["rmsea", "semopy"] == pytest.approx(np.sqrt((chi2 / df - 1) / (n - 1)),
                                                       rel=1e-9)
    assert "N − 1" in fit.loc["rmsea", "note"]
    # GFI: semopy's is NFI's formula; lavaan's GFI differs
    assert fit.loc["gfi", "semopy"] == pytest.approx(1 - chi2 / base, rel=1e-9)
    assert fit.loc["gfi", "cbec_sem"] == pytest.approx(fm["gfi"], rel=1e-6)
    assert abs(fit.loc["gfi", "diff"]) > 0.01 and "NFI" in fit.loc["gfi", "note"]
    # LogLik: semopy's is the discrepancy (chi2 / N for MLW), ours lavaan's log-likelihood
    assert fit.loc["logl", "semopy"] == pytest.approx(chi2 / n, rel=1e-9)
    assert fit.loc["logl", "cbec_sem"] == pytest.approx(fm["logl"], rel=1e-9)
    assert fit.loc["aic", "cbec_sem"] == pytest.approx(fm["aic"], rel=1e-9)
    assert fit.loc["aic", "note"] and fit.loc["bic", "note"]
    assert np.isnan(fit.loc["srmr", "semopy"]) and "no SRMR" in fit.loc["srmr", "note"]
    assert "semopy" in str(hs.summary()) and repr(hs).startswith("<CrossCheck")


def test_a_fit_is_checked_on_its_own_rows_and_defined_parameters_are_listed():
    data = cs.datasets.holzinger_swineford_1939()
    model = FIXTURE["model"] + "\nspeed ~ a*visual\ntextual ~ b*speed\nab := a*b\n"
    res = cs.fit(model, data, estimator="MLR")
    text, dropped = semopy_description(res)
    assert ":=" not in text and dropped == ["ab := a*b"]
    cc = crosscheck(res)
    assert cc.max_abs_diff < 2e-3
    assert any("ab := a*b" in n for n in cc.notes) and any("MLR" in n for n in cc.notes)
    assert "ab" not in set(cc.estimates["lhs"])


def test_refusals():
    data = cs.datasets.holzinger_swineford_1939()
    with pytest.raises(SpecError, match="give the data"):
        crosscheck(FIXTURE["model"])
    res = cs.fit(FIXTURE["model"], data)
    with pytest.raises(SpecError, match="rows it used"):
        crosscheck(res, data)
    pls = cs.fit(FIXTURE["model"] + "\nspeed ~ visual\ntextual ~ visual", data, estimator="PLS")
    with pytest.raises(SpecError, match="semopy fits maximum likelihood"):
        crosscheck(pls)
    grouped = cs.fit(FIXTURE["model"], data, group="school")
    with pytest.raises(SpecError, match="multi-group"):
        crosscheck(grouped)
