"""Indicator diagnostics, the delta-method SEs of std.all, factor scores and Kock's full
collinearity VIFs.

References: lavaan 0.6-14's ``standardizedSolution()`` SEs and ``lavInspect(fit, "rsquare")``
in ``tests/fixtures/lavaan/*.json``; ``lavPredict(fit, method = "regression")`` values quoted at
the tests (lavaan 0.6-14); closed forms for one-factor scores; statsmodels'
``variance_inflation_factor`` when statsmodels is installed.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import SpecError
from cbec_sem.measurement import (
    factor_scores,
    full_collinearity_vif,
    indicator_diagnostics,
    standardized_se,
    standardized_vcov,
)
from cbec_sem.measurement.indicators import vif_from_correlation

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
LAVAAN_CASES = ["hs_cfa", "hs_cfa_stdlv", "hs_school_metric", "paper_example",
                "paper_example_channel", "poldem"]


def _lavaan_case(name: str) -> tuple[dict, cs.FitResult]:
    fx = json.loads((FIXTURES / "lavaan" / f"{name}.json").read_text())
    opts = fx["options"] or {}
    kwargs = {}
    if opts.get("std.lv"):
        kwargs["std_lv"] = True
    if "group.equal" in opts:
        kwargs["group_equal"] = tuple(np.atleast_1d(opts["group.equal"]))
    if "information" in opts:
        kwargs["information"] = opts["information"]
    if opts.get("meanstructure"):
        kwargs["meanstructure"] = True
    data = pd.read_csv(REPO / fx["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cs.fit(fx["model"], data, group=opts.get("group"), **kwargs)
    return fx, res


@pytest.fixture(scope="module")
def hs():
    return cs.datasets.holzinger_swineford_1939()


@pytest.fixture(scope="module")
def hs_fit(hs):
    return cs.fit(HS_MODEL, hs)


# ----------------------------------------------------------------------------- delta method


@pytest.mark.parametrize("name", LAVAAN_CASES)
def test_std_all_se_equals_lavaan(name):
    fx, res = _lavaan_case(name)
    se = standardized_se(res)
    frame = res.estimation.partable.frame
    model = frame[frame["op"].isin(["=~", "~", "~~", "~1"])]
    ours = {}
    for (lhs, op, rhs, g), v in zip(model[["lhs", "op", "rhs", "group"]].itertuples(
            index=False), se.to_numpy()):
        ours[(lhs, op, rhs, int(g))] = v
    ss = fx["std_solution"]
    groups = ss.get("group") or [1] * len(ss["lhs"])
    checked = 0
    for lhs, op, rhs, g, ref in zip(ss["lhs"], ss["op"], ss["rhs"], groups, ss["se"]):
        if op not in ("=~", "~", "~~", "~1") or ref is None:
            continue
        key = (lhs, op, rhs, int(g))
        if key not in ours and op == "~~":
            key = (rhs, op, lhs, int(g))
        assert ours[key] == pytest.approx(ref, abs=1e-4), key
        checked += 1
    assert checked >= 20


def test_standardized_vcov_shape_and_names(hs_fit):
    cov = standardized_vcov(hs_fit)
    assert cov.shape == (24, 24)
    assert cov.index[0] == "visual=~x1" and "x1~~x1" in cov.index
    np.testing.assert_allclose(cov.to_numpy(), cov.to_numpy().T)
    np.testing.assert_allclose(np.sqrt(np.clip(np.diag(cov), 0, None)),
                               standardized_se(hs_fit).to_numpy(), rtol=1e-12)
    assert cov.at["visual~~visual", "visual~~visual"] == pytest.approx(0.0, abs=1e-14)
    fit_g = cs.fit(HS_MODEL, cs.datasets.holzinger_swineford_1939(), group="school")
    names = standardized_vcov(fit_g).index
    assert "visual=~x2" in names and "visual=~x2.g2" in names


# ----------------------------------------------------------------------------- diagnostics


def test_indicator_diagnostics_hs(hs_fit):
    fx = json.loads((FIXTURES / "lavaan" / "hs_cfa.json").read_text())
    diag = indicator_diagnostics(hs_fit)
    assert list(diag.columns) == ["construct", "item", "est", "std.all", "se", "z", "pvalue",
                                  "ci.lower", "ci.upper", "r2", "vif", "flag", "note"]
    assert len(diag) == 9
    ss = pd.DataFrame(fx["std_solution"])
    loads = ss[ss["op"] == "=~"].set_index("rhs")
    d = diag.set_index("item")
    np.testing.assert_allclose(d["std.all"], loads.loc[d.index, "est.std"], atol=1e-4)
    np.testing.assert_allclose(d["se"], loads.loc[d.index, "se"], atol=1e-4)
    np.testing.assert_allclose(d["ci.lower"], loads.loc[d.index, "ci.lower"], atol=1e-4)
    # item R²: lavaan's rsquare, and std.all² for items that load on one factor only
    rsq = fx["rsquare"]
    rsq = dict(zip(rsq[0]["names"], rsq[0]["values"])) if isinstance(rsq, list) else dict(
        zip(rsq["names"], rsq["values"]))
    for item in d.index:
        assert d.at[item, "r2"] == pytest.approx(rsq[item], abs=1e-4)
    np.testing.assert_allclose(d["r2"], d["std.all"] ** 2, atol=1e-8)
    # Hair et al. (2019) flags
    assert d.at["x1", "flag"] == "ok"  # .772
    assert d.at["x3", "flag"] == "below .708"  # .581
    assert d.at["x2", "flag"] == "below .50: removal candidate"  # .424


def test_item_vif_is_inverse_correlation_diagonal(hs, hs_fit):
    diag = indicator_diagnostics(hs_fit).set_index("item")
    x = hs[["x1", "x2", "x3"]].to_numpy()
    r = np.corrcoef(x, rowvar=False)
    np.testing.assert_allclose(diag.loc[["x1", "x2", "x3"], "vif"], np.diag(np.linalg.inv(r)),
                               rtol=1e-10)
    # VIF = 1/(1 − R²) of x1 regressed on x2, x3
    design = np.column_stack([np.ones(len(x)), x[:, 1:]])
    beta, *_ = np.linalg.lstsq(design, x[:, 0], rcond=None)
    resid = x[:, 0] - design @ beta
    r2 = 1 - resid.var() / x[:, 0].var()
    assert diag.at["x1", "vif"] == pytest.approx(1 / (1 - r2), rel=1e-10)


def test_item_vif_equals_statsmodels(hs, hs_fit):
    oi = pytest.importorskip("statsmodels.stats.outliers_influence")
    x = hs[["x4", "x5", "x6"]].to_numpy()
    exog = np.column_stack([np.ones(len(x)), x])  # statsmodels needs the constant
    diag = indicator_diagnostics(hs_fit).set_index("item")
    for j, item in enumerate(["x4", "x5", "x6"], start=1):
        assert diag.at[item, "vif"] == pytest.approx(oi.variance_inflation_factor(exog, j),
                                                     rel=1e-10)


def test_diagnostics_higher_order_single_item_and_groups(hs):
    res = cs.fit(cs.paper_model(), cs.datasets.example_survey())
    diag = indicator_diagnostics(res)
    sci = diag[diag["construct"] == "SCI"]
    assert sci["item"].tolist() == ["VP", "FO", "IS"]
    assert sci["vif"].isna().all()
    assert sci["note"].str.contains("second-order loading").all()
    assert diag.loc[diag["construct"] != "SCI", "vif"].notna().all()
    one = cs.fit("visual =~ x1 + x2 + x3\ntextual =~ x4\nspeed =~ x7 + x8 + x9\nx4 ~~ 0.2*x4",
                 hs)
    row = indicator_diagnostics(one).set_index("item").loc["x4"]
    assert np.isnan(row["vif"]) and "single item" in row["note"]
    fit_g = cs.fit(HS_MODEL, hs, group="school")
    dg = indicator_diagnostics(fit_g)
    assert list(dg.columns[:3]) == ["construct", "item", "group"]
    assert len(dg) == 18 and set(dg["group"]) == {"Pasteur", "Grant-White"}
    with pytest.raises(SpecError, match="level"):
        indicator_diagnostics(fit_g, level=2)


# ----------------------------------------------------------------------------- factor scores


def test_factor_scores_equal_lavpredict(hs_fit):
    # lavaan 0.6-14: head(lavPredict(cfa(HS.model, HolzingerSwineford1939)), 3)
    expect = np.array([[-0.8176752415602, -0.137545012956, 0.0615072568627],
                       [0.0495193984856, -1.012724024264, 0.6254936019423],
                       [-0.7613966953881, -1.872286335496, -0.8405727572736]])
    scores = factor_scores(hs_fit)
    assert list(scores.columns) == ["visual", "textual", "speed"]
    assert len(scores) == 301
    np.testing.assert_allclose(scores.iloc[:3].to_numpy(), expect, atol=1e-4)


def test_higher_order_scores_equal_lavpredict():
    # lavaan 0.6-14: head(lavPredict(sem(paper model, example_survey)), 3)
    expect = np.array([
        [-0.300507203237, 0.2910925116, -0.3252172025, 0.3713227981, -0.4340943004,
         -0.4481521025, -0.1078025651],
        [0.001375797755, 1.3336010151, -1.0433045368, 1.1591074845, 0.4060286885,
         1.2287356440, 0.7802514158],
        [0.706068011321, 0.8331673453, 1.3380464594, -0.6505722188, -0.6882667805,
         -0.3183844232, -0.2838602735],
    ])
    res = cs.fit(cs.paper_model(), cs.datasets.example_survey())
    scores = factor_scores(res)
    assert list(scores.columns) == ["TA", "FA", "PC", "VP", "FO", "IS", "SCI"]
    np.testing.assert_allclose(scores.iloc[:3].to_numpy(), expect, atol=1e-4)


def test_mimic_scores_carry_the_covariates_means():
    # lavaan 0.6-14: head(lavPredict(sem(<hs_mimic model>, hs_grade_complete.csv)), 3) — the
    # factor regressed on observed covariates has mean γᵀx̄, not 0
    expect = np.array([[1.323441529, -0.03155837712, 0.1029549330],
                       [1.984068350, -1.02044614738, 0.5449767109],
                       [1.689100199, -1.88960927533, -0.9683845523]])
    data = pd.read_csv(FIXTURES / "data" / "hs_grade_complete.csv")
    res = cs.fit(HS_MODEL + "\nvisual ~ ageyr + grade", data)
    np.testing.assert_allclose(factor_scores(res).iloc[:3].to_numpy(), expect, atol=1e-4)


def test_one_factor_scores_closed_form():
    # One factor, known loadings: the regression score is
    #   η̂ = φ Σ_i (λ_i/θ_i)(x_i − x̄_i) / (1 + φ Σ_i λ_i²/θ_i)   (Sherman–Morrison),
    # and Bartlett's  Σ_i (λ_i/θ_i)(x_i − x̄_i) / Σ_i λ_i²/θ_i.
    pop = "f =~ 0.9*y1 + 0.8*y2 + 0.7*y3 + 0.6*y4"
    data = cs.simulate(pop, 500, seed=4)
    res = cs.fit("f =~ y1 + y2 + y3 + y4", data)
    p = res.params
    lam = p.loc[p["op"] == "=~", "est"].to_numpy()
    theta = p.loc[(p["op"] == "~~") & p["lhs"].str.startswith("y"), "est"].to_numpy()
    phi = p.loc[(p["op"] == "~~") & (p["lhs"] == "f"), "est"].item()
    x = data[["y1", "y2", "y3", "y4"]].to_numpy()
    xc = x - x.mean(axis=0)
    a = lam / theta
    regression = phi * (xc @ a) / (1 + phi * (lam @ a))
    bartlett = (xc @ a) / (lam @ a)
    np.testing.assert_allclose(factor_scores(res)["f"], regression, atol=1e-10)
    np.testing.assert_allclose(factor_scores(res, "bartlett")["f"], bartlett, atol=1e-10)


def test_factor_scores_new_data_and_groups(hs, hs_fit):
    new = hs.iloc[:5].copy()
    new.loc[new.index[1], "x3"] = np.nan
    scores = factor_scores(hs_fit, data=new)
    assert list(scores.index) == list(new.index)
    assert scores.iloc[1].isna().all() and scores.drop(index=new.index[1]).notna().all().all()
    np.testing.assert_allclose(scores.iloc[[0, 2]].to_numpy(),
                               factor_scores(hs_fit).iloc[[0, 2]].to_numpy())
    fit_g = cs.fit(HS_MODEL, hs, group="school")
    sg = factor_scores(fit_g)
    assert list(sg.columns) == ["group", "visual", "textual", "speed"] and len(sg) == 301
    with pytest.raises(SpecError, match="single-group"):
        factor_scores(fit_g, data=hs)
    with pytest.raises(SpecError, match="method"):
        factor_scores(hs_fit, "anderson")
    res = cs.fit(cs.paper_model(), cs.datasets.example_survey())
    with pytest.raises(SpecError, match="higher-order"):
        factor_scores(res, "bartlett")


# ----------------------------------------------------------------------------- Kock (2015)


def test_full_collinearity_vif_definition():
    res = cs.fit(cs.paper_model(), cs.datasets.example_survey())
    fcv = full_collinearity_vif(res)
    assert fcv["construct"].tolist() == ["TA", "FA", "PC", "SCI"]  # VP, FO, IS sit under SCI
    scores = factor_scores(res)[["TA", "FA", "PC", "SCI"]].to_numpy()
    for j, name in enumerate(["TA", "FA", "PC", "SCI"]):
        y = scores[:, j]
        design = np.column_stack([np.ones(len(y)), np.delete(scores, j, axis=1)])
        beta, *_ = np.linalg.lstsq(design, y, rcond=None)
        r2 = 1 - (y - design @ beta).var() / y.var()
        row = fcv.set_index("construct").loc[name]
        assert row["r2"] == pytest.approx(r2, abs=1e-10)
        assert row["vif"] == pytest.approx(1 / (1 - r2), rel=1e-10)
        assert row["above_threshold"] == (row["vif"] > 3.3)
    everything = full_collinearity_vif(res, constructs=["TA", "FA", "PC", "VP", "FO", "IS"])
    assert len(everything) == 6
    assert full_collinearity_vif(res, threshold=1.0)["above_threshold"].all()
    with pytest.raises(SpecError, match="not latent"):
        full_collinearity_vif(res, constructs=["TA", "ta1"])


def test_full_collinearity_vif_multigroup(hs):
    fit_g = cs.fit(HS_MODEL, hs, group="school")
    fcv = full_collinearity_vif(fit_g)
    assert list(fcv.columns) == ["construct", "group", "r2", "vif", "above_threshold", "note"]
    assert len(fcv) == 6


def test_vif_helper():
    r = np.array([[1.0, 0.5], [0.5, 1.0]])
    np.testing.assert_allclose(vif_from_correlation(r), [1 / 0.75, 1 / 0.75])


def test_factor_scores_after_fiml_equal_lavaan():
    """lavPredict(fit, "regression") after cfa(..., missing = "ml"): rows with missing items
    are scored from the items they answered (tests/fixtures/make_fiml_scores_fixture.R,
    lavaan 0.6-14)."""
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    data = pd.read_csv(fixtures / "data" / "hs_mcar.csv")
    ref = pd.read_csv(fixtures / "lavaan_fiml" / "hs_mcar_fiml_scores.csv").dropna()
    res = cs.fit(HS_MODEL, data, missing="fiml")
    ours = factor_scores(res)
    assert len(ours) == len(ref)  # the two empty rows are not scored (NA in lavaan)
    np.testing.assert_allclose(ours[["visual", "textual", "speed"]].to_numpy(),
                               ref[["visual", "textual", "speed"]].to_numpy(), atol=1e-5)
    assert data.iloc[ref["row"] - 1][["x1", "x2", "x3"]].isna().any(axis=1).any()
