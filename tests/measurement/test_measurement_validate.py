"""validate(): the reviewer's checklist on the bundled example, one-factor and multi-group fits.

The numbers are those of the measurement functions (tested against semTools elsewhere); here
the checklist must list every criterion with the cut-off and source as published, judge each
value against its cut-off, and say when a criterion is not defined.
"""

from __future__ import annotations

import operator
import warnings

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import CbecSemWarning, EstimationError, SpecError
from cbec_sem.measurement import (
    common_method_bias,
    fornell_larcker,
    full_collinearity_vif,
    htmt,
    indicator_diagnostics,
    reliability,
)
from cbec_sem.measurement.method_bias import HARMAN_CAVEAT
from cbec_sem.measurement.validate import CRITERIA, validate

#: criterion → (threshold as printed, a word of its source), as cited in the issue.
CITED = {
    "standardized loading": ("≥ 0.708", "Hair"),
    "Cronbach's alpha": ("≥ 0.70", "Nunnally (1978)"),
    "composite reliability (omega)": ("≥ 0.70", "Hair"),
    "AVE": ("≥ 0.50", "Fornell & Larcker (1981)"),
    "Fornell-Larcker": (None, "Fornell & Larcker (1981)"),
    "HTMT": ("< 0.85", "Henseler"),
    "item VIF": ("< 5", "Hair"),
    "full collinearity VIF": ("< 3.3", "Kock (2015)"),
    "CFI": ("≥ 0.95", "Hu & Bentler (1999)"),
    "TLI": ("≥ 0.95", "Hu & Bentler (1999)"),
    "RMSEA": ("≤ 0.06", "Hu & Bentler (1999)"),
    "SRMR": ("≤ 0.08", "Hu & Bentler (1999)"),
    "Harman single-factor share": ("< 0.50", "Podsakoff"),
}
OPS = {"≥": operator.ge, "≤": operator.le, "<": operator.lt, ">": operator.gt}


@pytest.fixture(scope="module")
def example():
    return cs.datasets.example_survey()


@pytest.fixture(scope="module")
def res(example):
    return cs.fit(cs.paper_model(), example)


@pytest.fixture(scope="module")
def table(res):
    return validate(res)


def test_columns_and_every_criterion(table):
    assert list(table.columns) == ["criterion", "target", "value", "threshold", "passed",
                                   "source", "note"]
    assert list(dict.fromkeys(table["criterion"])) == list(CITED) == list(CRITERIA)
    counts = table["criterion"].value_counts()
    assert counts["standardized loading"] == 23  # 20 items + 3 second-order loadings
    assert counts["Cronbach's alpha"] == counts["composite reliability (omega)"] == 7
    assert counts["AVE"] == 7 and counts["Fornell-Larcker"] == 6
    assert counts["HTMT"] == 15 and counts["item VIF"] == 20
    assert counts["full collinearity VIF"] == 4  # TA, FA, PC, SCI
    assert all(counts[c] == 1 for c in ("CFI", "TLI", "RMSEA", "SRMR",
                                        "Harman single-factor share"))
    assert len(table) == 94


def test_thresholds_and_sources_as_cited(table):
    for criterion, (threshold, source) in CITED.items():
        rows = table[table["criterion"] == criterion]
        assert rows["source"].str.contains(source, regex=False).all(), criterion
        if threshold is not None:
            assert rows["threshold"].eq(threshold).all(), criterion
    fl = table[table["criterion"] == "Fornell-Larcker"]
    assert fl["threshold"].str.startswith("> max |r| = ").all()


def test_passed_follows_the_threshold(table):
    for row in table.to_dict("records"):  # (iterrows would turn None into NaN)
        if row["passed"] is None:
            continue
        assert isinstance(row["passed"], bool)
        if row["criterion"] == "HTMT" and "bootstrap upper bound" in row["note"]:
            continue
        sign, cut = row["threshold"].split(" ")[0], row["threshold"].split(" ")[-1]
        if row["criterion"] == "Fornell-Larcker":
            cut = row["threshold"].split("= ")[1].split(" ")[0]
        assert row["passed"] == OPS[sign](row["value"], float(cut)), row


def test_values_come_from_the_measurement_functions(res, table, example):
    t = table.set_index(["criterion", "target"])
    diag = indicator_diagnostics(res)
    for _, d in diag.iterrows():
        assert t.loc[("standardized loading", f"{d['construct']} =~ {d['item']}"),
                     "value"] == pytest.approx(abs(d["std.all"]))
    rel = reliability(res).set_index("construct")
    for name in rel.index:
        assert t.loc[("Cronbach's alpha", name), "value"] == pytest.approx(rel.loc[name, "alpha"])
        assert t.loc[("composite reliability (omega)", name), "value"] == pytest.approx(
            rel.loc[name, "omega"])
    fl = fornell_larcker(res)
    for name in fl.index:
        assert t.loc[("Fornell-Larcker", name), "value"] == pytest.approx(fl.loc[name, name])
        assert t.loc[("Fornell-Larcker", name), "passed"] == bool(fl.loc[name, "passes"])
    for _, h in htmt(res).table.iterrows():
        assert t.loc[("HTMT", h["pair"]), "value"] == pytest.approx(h["htmt"])
    for _, f in full_collinearity_vif(res).iterrows():
        assert t.loc[("full collinearity VIF", f["construct"]), "value"] == pytest.approx(
            f["vif"])
    fm = res.fit_measures
    for crit in ("CFI", "TLI", "RMSEA", "SRMR"):
        assert t.loc[(crit, "model"), "value"] == pytest.approx(fm[crit.lower()])
    harman = common_method_bias(res, ulmc=False).harman
    assert t.loc[("Harman single-factor share", "model"), "value"] == pytest.approx(
        harman.pca_share)


def test_verdicts_on_the_example(table):
    t = table.set_index(["criterion", "target"])
    # the population loadings are .65-.85: the low ones miss .708
    loadings = table[table["criterion"] == "standardized loading"]
    low = loadings[loadings["passed"].map(lambda v: v is False)]
    assert set(low["target"]) == {"TA =~ ta4", "FA =~ fa4", "VP =~ vp3", "FO =~ fo2",
                                  "FO =~ fo3", "IS =~ is3"}
    assert low["note"].str.contains("below .708").all()
    assert table.query("criterion == \"Cronbach's alpha\"")["passed"].all()
    assert t.loc[("AVE", "FO"), "passed"] is False  # .496
    assert t.loc[("AVE", "SCI"), "passed"] is None
    assert "not defined" in t.loc[("AVE", "SCI"), "note"]
    # SCI's omega_L1 (.68) misses .70; the note gives the second-order-loading CR as well
    assert t.loc[("composite reliability (omega)", "SCI"), "passed"] is False
    assert "second-order loadings" in t.loc[("composite reliability (omega)", "SCI"), "note"]
    for crit in ("Fornell-Larcker", "HTMT", "item VIF", "full collinearity VIF", "CFI", "TLI",
                 "RMSEA", "SRMR", "Harman single-factor share"):
        assert table.loc[table["criterion"] == crit, "passed"].all(), crit
    harman = t.loc[("Harman single-factor share", "model")]
    assert 0.25 < harman["value"] < 0.26
    assert HARMAN_CAVEAT in harman["note"]


def test_second_order_cr_closed_form(res, table):
    lam = indicator_diagnostics(res).query("construct == 'SCI'")["std.all"].to_numpy()
    cr = lam.sum() ** 2 / (lam.sum() ** 2 + np.sum(1 - lam**2))
    note = table.set_index(["criterion", "target"]).loc[
        ("composite reliability (omega)", "SCI"), "note"]
    assert f"= {cr:.3f}" in note


def test_htmt_bootstrap(res):
    a = validate(res, htmt_bootstrap=200, seed=7)
    b = validate(res, htmt_bootstrap=200, seed=7)
    pd.testing.assert_frame_equal(a, b)
    rows = a[a["criterion"] == "HTMT"]
    assert rows["note"].str.contains("bootstrap upper bound").all()
    ref = htmt(res, bootstrap=200, seed=7).table
    assert list(rows["passed"]) == list(ref["below_085"].astype(bool))
    with pytest.raises(SpecError, match="htmt_bootstrap"):
        validate(res, htmt_bootstrap=-1)


def test_data_argument_gives_the_same_as_the_fits_rows(res, example):
    a = validate(res)
    b = validate(res, data=example)
    pd.testing.assert_frame_equal(a, b)


def test_one_factor_model_says_what_is_not_defined():
    hs = cs.datasets.holzinger_swineford_1939()
    table = validate(cs.fit("f =~ x1 + x2 + x3", hs))
    t = table.set_index(["criterion", "target"])
    assert t.loc[("HTMT", "all pairs"), "passed"] is None
    assert "at least two constructs" in t.loc[("HTMT", "all pairs"), "note"]
    assert t.loc[("full collinearity VIF", "constructs"), "passed"] is None
    assert t.loc[("Fornell-Larcker", "f"), "passed"] is None
    for crit in ("CFI", "TLI", "RMSEA", "SRMR"):  # df = 0
        assert t.loc[(crit, "model"), "passed"] is None
        assert "saturated" in t.loc[(crit, "model"), "note"]
    assert t.loc[("Harman single-factor share", "model"), "passed"] is False  # 57%
    assert set(CRITERIA) == set(table["criterion"])


def test_multi_group(example):
    res = cs.fit(cs.paper_model(), example, group="channel")
    table = validate(res)
    assert list(table.columns) == ["criterion", "target", "group", "value", "threshold",
                                   "passed", "source", "note"]
    groups = set(table["group"].dropna())
    assert groups == {"platform", "independent site"}
    per = table.dropna(subset=["group"]).groupby("group")["criterion"].count()
    assert per["platform"] == per["independent site"] == 94 - 4
    fit_rows = table[table["criterion"].isin(["CFI", "TLI", "RMSEA", "SRMR"])]
    assert fit_rows["group"].isna().all() and len(fit_rows) == 4


def test_bad_input(res, example):
    with pytest.raises(SpecError, match="fitted model"):
        validate(cs.paper_model())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CbecSemWarning)
        bad = cs.fit(cs.paper_model(), example, max_iter=2)
    assert not bad.converged.optimizer_converged
    with pytest.raises(EstimationError, match="did not converge"):
        validate(bad)
