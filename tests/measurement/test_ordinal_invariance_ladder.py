"""cs.invariance(..., ordered=...): the ordinal ladder as semTools builds it and lavaan tests it.

Expected values: ``tests/fixtures/lavaan_ordinal_invariance/<data>_ladder_<param>.json``,
written by ``tests/fixtures/make_ordinal_invariance_fixtures.R``: each level's model from
semTools 0.5-6 ``measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016",
parameterization =, group.equal = cumulative)`` fitted by lavaan 0.6-14 ``cfa()`` (WLSMV), and
``lavTestLRT()`` of the levels (method "satorra.2000", scaled and shifted).  Data:
HolzingerSwineford1939's x1-x9 cut into four categories by school; the example survey's
seven-point ta/fa items by channel (WLSMV and ULSMV); the HS items in four groups (school by
sex).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import DataError, SpecError

from tests.engine.test_ordinal_invariance import compare_fit_measures, compare_params

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lavaan_ordinal_invariance"
REPO = FIXTURES.parents[2]
CASES = sorted(p.stem for p in FIXTURES.glob("*_ladder_*.json"))
SURVEY = REPO / "src/cbec_sem/datasets/data/example_survey.csv"
TA = "TA =~ ta1 + ta2 + ta3 + ta4"


@pytest.fixture(scope="module", params=CASES)
def ladder(request):
    ref = json.loads((FIXTURES / f"{request.param}.json").read_text())
    options = {}
    if ref["parameterization"] != "delta":
        options["estimator_options"] = {"parameterization": ref["parameterization"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # negative latent-response variances, as lavaan warns
        res = cs.invariance(ref["model"], pd.read_csv(REPO / ref["data"]), ref["group"],
                            ordered=ref["items"], estimator=ref["estimator"], **options)
    return ref, res


def test_levels_are_semtools_ladder(ladder):
    ref, res = ladder
    assert list(res.table.index) == ref["levels"]  # the default levels of the parameterization
    assert res.table["converged"].all()


def test_each_level_as_lavaan(ladder):
    ref, res = ladder
    for level in ref["levels"]:
        fit = res.fits[level]
        compare_params(fit.params, ref["fits"][level]["params"])
        compare_fit_measures(fit.fit_measures, ref["fits"][level]["fit_measures"])


def test_difference_tests_are_lavtestlrt(ladder):
    ref, res = ladder
    assert "satorra.2000" in ref["lrt_method"]
    lrt = pd.DataFrame(ref["lrt"]).set_index("level")
    for level in ref["levels"][1:]:
        row = res.table.loc[level]
        assert row["delta_chisq"] == pytest.approx(lrt.loc[level, "Chisq diff"], rel=1e-5)
        assert row["delta_df"] == lrt.loc[level, "Df diff"]
        assert row["p_delta"] == pytest.approx(lrt.loc[level, "Pr(>Chisq)"], rel=1e-4)
        assert row["holds_chisq"] == (lrt.loc[level, "Pr(>Chisq)"] >= 0.05)
    for level in ref["levels"]:
        assert res.table.loc[level, "chisq"] == pytest.approx(lrt.loc[level, "Chisq"],
                                                              rel=1e-5)
        assert res.table.loc[level, "df"] == lrt.loc[level, "Df"]


def test_changes_in_fit_compare_scaled_indices(ladder):
    # lavaan 0.6-14 has no robust CFI/RMSEA once thresholds are equal, so the ladder shows
    # the scaled ones at every level (never a robust one beside a scaled one)
    ref, res = ladder
    fm = {lv: ref["fits"][lv]["fit_measures"] for lv in ref["levels"]}
    assert fm["thresholds"]["cfi.robust"] is None
    for level in ref["levels"]:
        for m in ("cfi", "tli", "rmsea"):
            assert res.table.loc[level, m] == pytest.approx(fm[level][f"{m}.scaled"],
                                                            rel=1e-5)
    for prev, level in zip(ref["levels"], ref["levels"][1:]):
        d = fm[level]["cfi.scaled"] - fm[prev]["cfi.scaled"]
        assert res.table.loc[level, "delta_cfi"] == pytest.approx(d, abs=1e-6)
        assert res.table.loc[level, "holds_cfi"] == (d >= -0.01)
    assert any("scaled indices" in n for n in res.notes)


@pytest.fixture(scope="module")
def survey():
    return pd.read_csv(SURVEY)


@pytest.mark.parametrize("kwargs, fragments", [
    (dict(levels=("configural", "metric")), ("'metric'", "thresholds")),
    (dict(levels=("configural", "residuals")), ("theta",)),
    (dict(partial=["TA =~ ta2"]), ("partial",)),
    (dict(std_lv=False), ("std_lv", "measEq.syntax")),
    (dict(estimator="MLR"), ("'MLR'", "WLSMV", "ULSMV")),
])
def test_unsupported_ladders_are_refused(survey, kwargs, fragments):
    with pytest.raises(SpecError) as info:
        cs.invariance(TA, survey, "channel", ordered=True, **kwargs)
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))


@pytest.mark.parametrize("model, fragment", [
    (TA + "\nTA ~~ TA", "measurement models"),
    ("TA =~ ta1 + ta2 + ta3\nFA =~ fa1 + fa2 + fa3\nSCI =~ TA + FA", "first-order"),
])
def test_models_beyond_the_ladder_are_refused(survey, model, fragment):
    with pytest.raises(SpecError, match=fragment):
        cs.invariance(model, survey, "channel", ordered=True)


def test_single_category_in_a_group_is_named(survey):
    data = survey.copy()
    data.loc[data["channel"] == "independent site", "ta2"] = 4
    with pytest.raises(DataError) as info:
        cs.invariance(TA, data, "channel", ordered=True)
    msg = str(info.value)
    assert "'ta2'" in msg and "single observed category" in msg and "'independent site'" in msg
    assert (survey["ta2"] != 4).any()  # the caller's frame is untouched


def test_missing_item_column_is_named(survey):
    with pytest.raises(DataError, match="'ta4'"):
        cs.invariance(TA, survey.drop(columns="ta4"), "channel", ordered=True)


def test_binary_items_are_refused(survey):
    data = survey.copy()
    for c in ("ta1", "ta2", "ta3", "ta4"):
        data[c] = (data[c] > 4).astype(int)
    with pytest.raises(DataError, match="binary"):
        cs.invariance(TA, data, "channel", ordered=True)


def test_group_estimates_show_equal_thresholds(survey):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inv = cs.invariance(TA, survey, "channel", ordered=True,
                            levels=("configural", "thresholds"))
    wide = inv.group_estimates("thresholds")
    th = wide[wide["op"] == "|"]
    assert th["constrained"].all()
    labels = list(inv.group_labels)
    np.testing.assert_allclose(th[labels[0]], th[labels[1]])
    scale = wide[wide["op"] == "~*~"]
    assert (scale[labels[0]] == 1.0).all() and (scale[labels[1]] != 1.0).any()


def test_report_runs_the_ordinal_ladder_of_a_wlsmv_fit(survey):
    # res.report(..., invariance="channel") on a WLSMV fit fits the ordinal ladder (not the
    # continuous one) and shows each level's scaled test beside the standard one
    from cbec_sem.report.invariance_section import invariance_section, resolve_invariance
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cs.fit(TA, survey, ordered=True)
        inv = resolve_invariance(res, "channel", survey)
    assert list(inv.table.index) == ["configural", "thresholds", "loadings", "intercepts"]
    table = invariance_section(inv).tables[0]
    np.testing.assert_allclose(table.frame["χ² (scaled)"], inv.table["chisq.scaled"])
    assert "Wu & Estabrook" in table.notes[0]
