"""Measurement invariance: the configural → metric → scalar → strict ladder.

References:

* ``tests/fixtures/semtools/invariance_hs.json`` (lavaan 0.6-14 on HolzingerSwineford1939 by
  school, written by ``tests/fixtures/make_semtools_fixtures.R``): each level's fit measures,
  the change in CFI/RMSEA/SRMR/TLI between levels, ``lavTestLRT(configural, metric, scalar,
  strict)`` (Δχ², Δdf, p, RMSEA of the difference), a partial scalar model
  (``group.partial = c("visual =~ x2", "x3 ~1")``) against the metric one, and the metric
  model's estimates per group.  Compared within 1e-3.
* ``tests/fixtures/lavaan/hs_school_{configural,metric,scalar}.json`` (the engine's own lavaan
  fixtures): the same three levels, fitted independently.
* Closed forms: Δχ² p-values from scipy's χ² survival function; the verdict thresholds of
  Cheung & Rensvold (2002) and Chen (2007).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cbec_sem.errors import CbecSemWarning, DataError, DataWarning, SpecError
from cbec_sem.measurement import InvarianceResult, invariance
from cbec_sem.measurement.invariance import DELTA_CFI, DELTA_RMSEA

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
FX = json.loads((FIXTURES / "semtools" / "invariance_hs.json").read_text())
HS = pd.read_csv(REPO / FX["data"])
MODEL = FX["model"]
FIT_COLUMNS = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
               "rmsea.ci.upper", "srmr", "aic", "bic", "npar"]


def _run(*args, **kwargs) -> InvarianceResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return invariance(*args, **kwargs)


@pytest.fixture(scope="module")
def ladder() -> InvarianceResult:
    return _run(MODEL, HS, "school")


@pytest.fixture(scope="module")
def partial_ladder() -> InvarianceResult:
    return _run(MODEL, HS, "school", levels=("configural", "metric", "scalar"),
                partial={"scalar": ["visual =~ x2", "x3 ~1"]})


# ------------------------------------------------------------------------ against lavaan

@pytest.mark.parametrize("level", ["configural", "metric", "scalar", "strict"])
def test_fit_measures_match_lavaan(ladder, level):
    ref = FX["models"][level]["fit_measures"]
    row = ladder.table.loc[level]
    assert row["converged"]
    for col in FIT_COLUMNS:
        assert row[col] == pytest.approx(ref[col], abs=1e-3), col


@pytest.mark.parametrize("level", ["configural", "metric", "scalar"])
def test_fit_measures_match_engine_fixtures(ladder, level):
    ref = json.loads((FIXTURES / "lavaan" / f"hs_school_{level}.json").read_text())
    row = ladder.table.loc[level]
    for col in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic", "npar"):
        assert row[col] == pytest.approx(ref["fit_measures"][col], abs=1e-3), col


def test_lrt_matches_lavTestLRT(ladder):
    lrt = FX["lavTestLRT"]
    t = ladder.table
    assert list(t.index) == lrt["model"]
    assert t["df"].tolist() == lrt["Df"]
    for ours, theirs in [("chisq", "Chisq"), ("aic", "AIC"), ("bic", "BIC"),
                         ("delta_chisq", "Chisq diff"), ("delta_df", "Df diff"),
                         ("p_delta", "Pr(>Chisq)"), ("rmsea_d", "RMSEA")]:
        ref = np.array([np.nan if v is None else v for v in lrt[theirs]], dtype=float)
        np.testing.assert_allclose(t[ours].to_numpy(float), ref, atol=1e-3, err_msg=ours)


def test_deltas_match_lavaan(ladder):
    t = ladder.table
    for d in FX["deltas"]:
        if d["to"] not in t.index:
            continue
        row = t.loc[d["to"]]
        assert row["delta_cfi"] == pytest.approx(d["cfi"], abs=1e-3)
        assert row["delta_rmsea"] == pytest.approx(d["rmsea"], abs=1e-3)
        assert row["delta_srmr"] == pytest.approx(d["srmr"], abs=1e-3)
        assert t.loc[d["to"], "tli"] - t.loc[d["from"], "tli"] == pytest.approx(d["tli"],
                                                                                abs=1e-3)


def test_partial_scalar_matches_lavaan(partial_ladder):
    ref = FX["models"]["partial_scalar"]["fit_measures"]
    row = partial_ladder.table.loc["scalar"]
    for col in FIT_COLUMNS:
        assert row[col] == pytest.approx(ref[col], abs=1e-3), col
    lrt = FX["lavTestLRT_partial"]
    assert row["delta_chisq"] == pytest.approx(lrt["Chisq diff"][1], abs=1e-3)
    assert row["delta_df"] == lrt["Df diff"][1]
    assert row["p_delta"] == pytest.approx(lrt["Pr(>Chisq)"][1], abs=1e-3)
    assert row["rmsea_d"] == pytest.approx(lrt["RMSEA"][1], abs=1e-3)
    d = next(x for x in FX["deltas"] if x["to"] == "partial_scalar")
    assert row["delta_cfi"] == pytest.approx(d["cfi"], abs=1e-3)
    assert row["delta_rmsea"] == pytest.approx(d["rmsea"], abs=1e-3)
    # the mapping frees the parameters from "scalar" on: metric stays fully constrained
    assert partial_ladder.partial == {"configural": (), "metric": (),
                                      "scalar": ("visual =~ x2", "x3 ~1")}
    metric = partial_ladder.table.loc["metric"]
    assert metric["chisq"] == pytest.approx(FX["models"]["metric"]["fit_measures"]["chisq"],
                                            abs=1e-3)


def test_group_estimates_match_lavaan(ladder):
    ref = pd.DataFrame({k: v for k, v in FX["metric_estimates"].items() if k != "call"})
    labels = FX["group_labels"]
    assert ladder.group_labels == tuple(labels)
    ests = ladder.group_estimates("metric")
    assert list(ests.columns) == ["lhs", "op", "rhs", *labels, "constrained"]
    for value in ("est", "se", "std.all"):
        wide = ladder.group_estimates("metric", value=value)
        for g, label in enumerate(labels, start=1):
            r = ref[ref["group"] == g].fillna({"rhs": ""})
            merged = r.merge(wide, on=["lhs", "op", "rhs"], how="left")
            assert merged[label].notna().all()
            np.testing.assert_allclose(merged[label].to_numpy(float),
                                       merged[value].to_numpy(float), atol=1e-3,
                                       err_msg=f"{value} group {label}")
    # equal loadings are flagged; free residual variances and fixed markers are not
    flag = dict(zip(ests["lhs"] + ests["op"] + ests["rhs"], ests["constrained"]))
    assert flag["visual=~x2"] and not flag["x1~~x1"] and not flag["visual=~x1"]
    assert not flag["x1~1"]


# --------------------------------------------------------------------------- the table

def test_table_columns_and_verdicts(ladder):
    t = ladder.table
    assert list(t.index) == ["configural", "metric", "scalar", "strict"]
    for col in ["converged", *FIT_COLUMNS, "delta_chisq", "delta_df", "p_delta", "rmsea_d",
                "delta_cfi", "delta_rmsea", "delta_srmr", "holds_chisq", "holds_cfi",
                "holds_rmsea"]:
        assert col in t.columns, col
    first = t.iloc[0]
    assert np.isnan(first["delta_chisq"]) and pd.isna(first["holds_cfi"])
    # the p-value is the χ² survival function of the difference
    for level in ("metric", "scalar", "strict"):
        row = t.loc[level]
        assert row["p_delta"] == pytest.approx(stats.chi2.sf(row["delta_chisq"],
                                                             row["delta_df"]))
        assert bool(row["holds_chisq"]) == (row["p_delta"] >= 0.05)
        assert bool(row["holds_cfi"]) == (row["delta_cfi"] >= DELTA_CFI)
        assert bool(row["holds_rmsea"]) == (row["delta_rmsea"] <= DELTA_RMSEA)
    # HS by school: metric invariance holds, full scalar invariance does not (ΔCFI −.038)
    assert t.loc["metric", ["holds_chisq", "holds_cfi", "holds_rmsea"]].all()
    assert not t.loc["scalar", "holds_chisq"] and not t.loc["scalar", "holds_cfi"]
    assert t.loc["scalar", "holds_rmsea"]  # ΔRMSEA .0145 ≤ .015
    assert set(ladder.fits) == set(t.index)
    assert ladder.group_equal["strict"] == ("loadings", "intercepts", "residuals")
    assert "InvarianceResult" in repr(ladder)


def test_levels_subset_and_means():
    res = _run(MODEL, HS, "school", levels=("configural", "scalar", "means"))
    t = res.table
    assert list(t.index) == ["configural", "scalar", "means"]
    assert t.loc["scalar", "delta_df"] == 12  # 6 loadings + 6 intercepts at once
    assert t.loc["means", "delta_df"] == 3  # three latent means fixed equal (to 0)
    assert res.group_equal["means"] == ("loadings", "intercepts", "means")


def test_partial_list_applies_at_every_level():
    res = _run(MODEL, HS, "school", levels=("configural", "metric"), partial=["visual =~ x2"])
    assert res.table.loc["metric", "df"] == 53
    ests = res.group_estimates("metric")
    x2 = ests[(ests["lhs"] == "visual") & (ests["rhs"] == "x2")].iloc[0]
    assert not x2["constrained"]
    assert x2["Pasteur"] != pytest.approx(x2["Grant-White"])


def test_fit_kwargs_pass_through():
    res = _run(MODEL, HS, "school", levels=("configural", "metric"), information="observed")
    assert res.fits["metric"].estimation.options.information == "observed"
    assert res.table.loc["metric", "chisq"] == pytest.approx(
        FX["models"]["metric"]["fit_measures"]["chisq"], abs=1e-3)


def test_integer_group_labels():
    data = HS.assign(site=(HS["school"] == "Pasteur").astype(int) + 1)
    res = _run(MODEL, data, "site", levels=("configural", "metric"))
    assert set(res.group_labels) == {1, 2}
    assert res.table.loc["metric", "delta_df"] == 6


# ----------------------------------------------------------------------------- bad input

def test_group_with_one_level():
    with pytest.raises(DataError, match="single value.*'Pasteur'|'school'.*single"):
        invariance(MODEL, HS[HS["school"] == "Pasteur"], "school")


def test_group_with_missing_values():
    # lavaan drops rows without a group value (with a warning), and so do we (issue 12)
    data = HS.copy()
    data.loc[[3, 10], "school"] = np.nan
    with pytest.warns(DataWarning, match=r"'school' is missing in 2 of 301 row"):
        res = invariance(MODEL, data, "school", levels=("configural", "metric"))
    complete = invariance(MODEL, data.dropna(subset=["school"]), "school",
                          levels=("configural", "metric"))
    pd.testing.assert_frame_equal(res.table, complete.table)
    assert data["school"].isna().sum() == 2  # the caller's data are untouched


def test_group_column_absent():
    with pytest.raises(DataError, match="'region' is not a column"):
        invariance(MODEL, HS, "region")


def test_group_smaller_than_parameters():
    small = pd.concat([HS[HS["school"] == "Pasteur"], HS[HS["school"] == "Grant-White"].head(25)])
    with pytest.raises(DataError, match=r"group 'Grant-White'.*25 complete.*30 free"):
        invariance(MODEL, small, "school")


def test_partial_parameter_not_in_model():
    with pytest.raises(SpecError, match=r"'visual =~ x9'"):
        invariance(MODEL, HS, "school", partial=["visual =~ x2", "visual =~ x9"])
    with pytest.raises(SpecError, match=r"'x3~~x5'"):
        invariance(MODEL, HS, "school", partial={"scalar": ["x3~~x5"]})


def test_partial_mapping_with_unknown_level():
    with pytest.raises(SpecError, match="strict"):
        invariance(MODEL, HS, "school", levels=("configural", "metric"),
                   partial={"strict": ["x1 ~~ x1"]})


def test_partial_that_is_never_constrained_warns():
    with pytest.warns(CbecSemWarning, match="visual ~~ textual"):
        res = invariance(MODEL, HS, "school", levels=("configural", "metric"),
                         partial=["visual ~~ textual"])
    assert res.notes


@pytest.mark.parametrize("levels, match", [
    (("configural", "weak"), "unknown invariance level"),
    (("metric", "configural"), "ladder order"),
    (("metric", "metric"), "distinct"),
    ((), "empty"),
])
def test_bad_levels(levels, match):
    with pytest.raises(SpecError, match=match):
        invariance(MODEL, HS, "school", levels=levels)


@pytest.mark.parametrize("kwargs, match", [
    (dict(group_equal=("loadings",)), "group_equal"),
    (dict(group_partial=("visual =~ x2",)), "group_partial"),
    (dict(estimator="WLSMV"), "estimator"),
])
def test_bad_fit_kwargs(kwargs, match):
    with pytest.raises(SpecError, match=match):
        invariance(MODEL, HS, "school", **kwargs)


def test_group_must_be_named():
    with pytest.raises(SpecError, match="group"):
        invariance(MODEL, HS, None)


def test_group_estimates_bad_arguments(ladder):
    with pytest.raises(SpecError, match="not fitted"):
        ladder.group_estimates("partial")
    with pytest.raises(SpecError, match="value"):
        ladder.group_estimates("metric", value="beta")


# ------------------------------------------------------------------ higher-order factors

PAPER_MODEL = """TA =~ ta1 + ta2 + ta3 + ta4
FA =~ fa1 + fa2 + fa3 + fa4
PC =~ pc1 + pc2 + pc3
VP =~ vp1 + vp2 + vp3
FO =~ fo1 + fo2 + fo3
IS =~ is1 + is2 + is3
SCI =~ VP + FO + IS
FA ~ TA
SCI ~ TA + FA + PC"""

#: lavaan 0.6-14 on paper_sim.csv with g = 1, 2, 1, 2, ... (row order):
#: ``cfa(PAPER_MODEL, group = "g", group.equal = ...)`` for configural and metric, and
#: ``cfa(paste0(PAPER_MODEL, "\n SCI ~ 0*1"), ...)`` for scalar and strict; fitMeasures
#: chisq, df, cfi, tli, rmsea, srmr, aic, bic, npar.  Without ``SCI ~ 0*1`` lavaan's scalar
#: model has the same χ² (361.2818030) on df 353 and a singular information matrix.
PAPER_LADDER = {
    "configural": dict(chisq=336.4858670, df=324, cfi=0.9979545),
    "metric": dict(chisq=350.6124141, df=340, cfi=0.9982614),
    "scalar": dict(chisq=361.28180302, df=354, cfi=0.99880707, tli=0.99871945,
                   rmsea=0.00907085, srmr=0.04556154, aic=22561.49512073,
                   bic=23008.24357917, npar=106),
    "strict": dict(chisq=375.14576692, df=374, cfi=0.99981230, tli=0.99980928,
                   rmsea=0.00350060, srmr=0.04646704, aic=22535.35908463,
                   bic=22897.81538109, npar=86),
}


def test_second_order_model_is_identified_at_scalar():
    data = pd.read_csv(FIXTURES / "data" / "paper_sim.csv")
    data["g"] = np.arange(len(data)) % 2 + 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no identification warning
        res = invariance(PAPER_MODEL, data, "g")
    for level, ref in PAPER_LADDER.items():
        row = res.table.loc[level]
        assert row["converged"]
        for col, value in ref.items():
            assert row[col] == pytest.approx(value, abs=1e-3), (level, col)
    assert any("SCI" in n and "Chen" in n for n in res.notes)
    # the latent mean difference lives in the first-order factors' intercepts
    ests = res.group_estimates("scalar")
    sci = ests[(ests["lhs"] == "SCI") & (ests["op"] == "~1")].iloc[0]
    assert sci[1] == sci[2] == 0.0
    vp = ests[(ests["lhs"] == "VP") & (ests["op"] == "~1")].iloc[0]
    assert vp[1] == 0.0 and vp[2] != 0.0


def test_std_lv_scaling_gives_the_same_ladder():
    # Fit measures do not depend on how latent variables are scaled (lavaan frees the later
    # groups' latent variances under std.lv once loadings are equal; the engine does too, see
    # tests/fixtures/lavaan/hs_school_metric_stdlv.json).
    marker = invariance(MODEL, HS, "school").table
    std = invariance(MODEL, HS, "school", std_lv=True).table
    for col in ["chisq", "df", "cfi", "rmsea", "srmr"]:
        np.testing.assert_allclose(std[col].to_numpy(float), marker[col].to_numpy(float),
                                   rtol=1e-6, atol=1e-8, err_msg=col)
