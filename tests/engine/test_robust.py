"""Robust ML (MLM, MLR), Mardia's tests and the estimator rules, against lavaan 0.6-14 and psych.

Expected values come from ``tests/fixtures/lavaan_robust/*.json``, written by
``tests/fixtures/make_robust_fixtures.R``: ``parameterEstimates()``, ``fitMeasures()``,
``lavInspect(fit, "vcov")`` and ``lavInspect(fit, "options")`` of lavaan 0.6-14 fits with
``estimator = "MLM"`` and ``"MLR"``, and ``psych::mardia()``.  Tolerances are the issue's:
standard errors within 1e-3 relative, every other number within 1e-3 absolute.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.engine.choose import choose_estimator
from cbec_sem.engine.estimators import estimate
from cbec_sem.engine.options import FitOptions
from cbec_sem.engine.robust import robust_estimation
from cbec_sem.errors import DataError, SpecError
from cbec_sem.survey import mardia

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
ROBUST = FIXTURES / "lavaan_robust"
CASES = sorted(p.stem for p in ROBUST.glob("*_ml?.json"))


def load(name: str) -> dict:
    return json.loads((ROBUST / f"{name}.json").read_text())


def fit_case(fx: dict) -> cs.FitResult:
    opts = fx["options"]
    kwargs = {"estimator": opts["estimator"]}
    if "group" in opts:
        kwargs["group"] = opts["group"]
    if "group.equal" in opts:
        kwargs["group_equal"] = tuple(np.atleast_1d(opts["group.equal"]))
    if opts.get("meanstructure"):
        kwargs["meanstructure"] = True
    data = pd.read_csv(REPO / fx["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a reference fit must be clean
        if opts.get("missing") == "ml":
            kwargs["missing"] = "fiml"  # lavaan warns about the empty rows too
            warnings.filterwarnings("ignore", message=".*missing on every model variable")
        return cs.fit(fx["model"], data, **kwargs)


def _key(lhs: str, op: str, rhs: str, group: int) -> tuple:
    if op == "~~" and rhs < lhs:
        lhs, rhs = rhs, lhs
    return (lhs, op, rhs, 0 if op == ":=" else int(group))


@pytest.fixture(scope="module", params=CASES)
def case(request):
    fx = load(request.param)
    return fx, fit_case(fx)


def test_cases_cover_the_brief():
    for name in ("poldem_mlm", "poldem_mlr", "hs_cfa_mlm", "hs_cfa_mlr", "hs_school_mlr",
                 "hs_mcar_fiml_mlr"):
        assert name in CASES


def test_methods_are_lavaans(case):
    fx, res = case
    used = fx["options_used"]
    extra = res.estimation.options.extra
    assert extra["se"] == used["se"][0]
    assert extra["test"] == used["test"][0]
    assert res.estimation.options.information == used["information"][0]
    assert used["h1.information"][0] == "structured"
    assert used["information.meat"][0] == "first.order"
    if fx["options"]["estimator"] == "MLR":
        assert used["observed.information"][0] == "hessian"


def test_parameter_estimates_match_lavaan(case):
    fx, res = case
    theirs = pd.DataFrame(fx["params"]).to_dict("records")
    ours = {_key(r["lhs"], r["op"], r["rhs"], r["group"]): r
            for r in res.params.to_dict("records")}
    assert len(ours) == len(theirs)
    for r in theirs:
        mine = ours[_key(r["lhs"], r["op"], r["rhs"], r["group"])]
        where = f"{r['lhs']} {r['op']} {r['rhs']} (group {r['group']})"
        assert mine["est"] == pytest.approx(r["est"], abs=1e-3), where
        if r["se"] is None or np.isnan(r["se"]) or r["se"] == 0:
            assert mine["se"] == pytest.approx(0.0, abs=1e-8), where
            continue
        assert mine["se"] == pytest.approx(r["se"], rel=1e-3), where
        for col in ("z", "pvalue", "ci.lower", "ci.upper"):
            assert mine[col] == pytest.approx(r[col], abs=1e-3), f"{where}: {col}"


def test_vcov_matches_lavaan(case):
    fx, res = case
    theirs = np.asarray(fx["vcov"]["matrix"], dtype=float)
    # lavaan's vcov has one row per free row of the parameter table (labelled copies and
    # group.equal copies repeated), in table order; ours one per distinct parameter.
    index = res.estimation.ram.free_index
    rows = index[index >= 0]
    assert len(rows) == len(theirs)
    ours = res.estimation.vcov[np.ix_(rows, rows)]
    scale = np.sqrt(np.outer(np.diag(theirs), np.diag(theirs)))
    assert np.max(np.abs(ours - theirs) / scale) < 1e-3


def test_every_fit_measure_matches_lavaan(case):
    fx, res = case
    ours = res.fit_measures
    theirs = fx["fit_measures"]
    assert list(ours.index) == list(theirs)  # the same names, in lavaan's order
    for name, expected in theirs.items():
        if name == "rfi" and theirs["df"] == 0:
            # Not a robust measure: the ML fit_measures() reports NaN where lavaan's
            # lav_fit_rfi() gives 1 at df = 0 (left to the ML engine's owner).
            continue
        if expected is None:
            assert np.isnan(ours[name]), name
            continue
        assert ours[name] == pytest.approx(expected, abs=1e-3, rel=1e-6), name


def test_scaled_statistic_matches_lavtest(case):
    fx, res = case
    t = fx["scaled_test"]
    fm = res.fit_measures
    assert fm["chisq.scaled"] == pytest.approx(t["stat"], abs=1e-3)
    if t["scaling.factor"] is None:  # df = 0: no scaling
        assert fm["df"] == 0 and np.isnan(fm["chisq.scaling.factor"])
        return
    assert fm["chisq.scaling.factor"] == pytest.approx(t["scaling.factor"], abs=1e-4)
    assert fm["chisq.scaling.factor"] * fm["df"] == pytest.approx(t["trace.UGamma"], abs=1e-3)


def test_published_hs_mlr_values():
    # lavaan's HolzingerSwineford1939 CFA with estimator = "MLR": the scaled chi-square and
    # scaling correction factor printed by summary() (and by Mplus for the same data).
    res = fit_case(load("hs_cfa_mlr"))
    assert res.fit_measures["chisq.scaled"] == pytest.approx(87.132, abs=1e-3)
    assert res.fit_measures["chisq.scaling.factor"] == pytest.approx(0.979, abs=1e-3)


def test_point_estimates_and_standard_fit_unchanged():
    hs = cs.datasets.holzinger_swineford_1939()
    model = load("hs_cfa_mlm")["model"]
    ml = cs.fit(model, hs)
    mlm = cs.fit(model, hs, estimator="MLM")
    np.testing.assert_allclose(ml.params["est"], mlm.params["est"], atol=1e-12)
    np.testing.assert_allclose(ml.params["std.all"], mlm.params["std.all"], atol=1e-12)
    for name in ml.fit_measures.index:
        assert mlm.fit_measures[name] == pytest.approx(ml.fit_measures[name], abs=1e-12), name
    assert not np.allclose(ml.params["se"], mlm.params["se"])
    assert "Scaled" in mlm.summary() and "robust.sem" in mlm.summary()
    # the parameter table carries the robust SEs too
    free = mlm.partable["free"] > 0
    np.testing.assert_allclose(mlm.partable.loc[free, "se"],
                               mlm.params.loc[:len(free) - 1][free.to_numpy()]["se"])


def test_robust_needs_a_robust_estimator_and_complete_data():
    hs = cs.datasets.holzinger_swineford_1939()
    model = cs.ModelSpec.from_lavaan(load("hs_cfa_mlm")["model"])
    est = estimate(model.statements, hs, FitOptions(estimator="ML"))
    with pytest.raises(SpecError, match="'MLM' or 'MLR'"):
        robust_estimation(est)
    fiml = replace(est, options=replace(est.options, estimator="MLM", missing="fiml"))
    with pytest.raises(SpecError, match="complete data"):
        robust_estimation(fiml)
    with pytest.raises(SpecError, match="complete data"):
        cs.fit(model, hs, estimator="MLM", missing="fiml")


# ------------------------------------------------------------------------------------------
# Mardia


@pytest.mark.parametrize("case", json.loads((ROBUST / "mardia.json").read_text())["cases"],
                         ids=lambda c: c["name"])
def test_mardia_matches_psych(case):
    data = pd.read_csv(REPO / case["data"])
    if case["rows"]:
        data = data.iloc[[r - 1 for r in case["rows"]]]
    table = mardia(data, case["items"])
    assert table.attrs["n_obs"] == case["n.obs"] and table.attrs["n_var"] == case["n.var"]
    expected = {
        ("skew", "coefficient"): case["b1p"], ("skew", "statistic"): case["skew"],
        ("skew", "pvalue"): case["p.skew"], ("small.skew", "statistic"): case["small.skew"],
        ("small.skew", "pvalue"): case["p.small"], ("kurtosis", "coefficient"): case["b2p"],
        ("kurtosis", "statistic"): case["kurtosis"], ("kurtosis", "pvalue"): case["p.kurt"],
    }
    for (row, col), value in expected.items():
        assert table.loc[row, col] == pytest.approx(value, abs=1e-3, rel=1e-9), (row, col)
    p = case["n.var"]
    assert table.loc["kurtosis", "expected"] == p * (p + 2)
    assert table.loc["skew", "df"] == p * (p + 1) * (p + 2) / 6


def test_mardia_drops_incomplete_rows_and_rejects_bad_input():
    hs = cs.datasets.holzinger_swineford_1939()
    items = [f"x{k}" for k in range(1, 10)]
    gappy = hs.copy()
    gappy.loc[[3, 10], "x2"] = np.nan
    full = mardia(hs.drop(index=[3, 10]), items)
    pd.testing.assert_frame_equal(mardia(gappy, items), full)
    with pytest.raises(DataError, match="'x99'"):
        mardia(hs, ["x1", "x99"])
    with pytest.raises(DataError, match="singular"):
        mardia(hs.assign(s=hs["x1"] + hs["x2"]), ["x1", "x2", "s"])
    with pytest.raises(DataError, match="complete rows"):
        mardia(hs.head(3), items)


# ------------------------------------------------------------------------------------------
# choose_estimator on crafted data


@pytest.fixture(scope="module")
def normal_items() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    f = rng.normal(size=(400, 1))
    return pd.DataFrame(0.7 * f + 0.7 * rng.normal(size=(400, 4)),
                        columns=["a1", "a2", "a3", "a4"])


def test_choose_ml_for_normal_continuous_items(normal_items):
    estimator, reason = choose_estimator(normal_items, ["a1", "a2", "a3", "a4"])
    assert estimator == "ML", reason
    assert "Mardia" in reason


def test_choose_wlsmv_for_likert_items(normal_items):
    likert = normal_items.apply(lambda c: np.digitize(c, [-1.0, -0.3, 0.3, 1.0]) + 1)
    assert likert.nunique().max() == 5
    estimator, reason = choose_estimator(likert, list(likert))
    assert estimator == "WLSMV" and "a1" in reason and "5 answer categories" in reason
    seven = normal_items.apply(lambda c: np.digitize(c, [-1.5, -1, -0.3, 0.3, 1, 1.5]) + 1)
    assert choose_estimator(seven, list(seven))[0] != "WLSMV"
    assert choose_estimator(seven, list(seven), max_categories=7)[0] == "WLSMV"
    estimator, reason = choose_estimator(normal_items, ["a1", "a2"], ordered=["a1"])
    assert estimator == "WLSMV" and "declared ordered: a1" in reason
    assert choose_estimator(normal_items, ["a1", "a2"], ordered=True)[0] == "WLSMV"


def test_choose_mlr_fiml_for_missing_answers(normal_items):
    gappy = normal_items.copy()
    gappy.loc[[0, 5, 9], "a2"] = np.nan
    estimator, reason = choose_estimator(gappy, list(gappy))
    assert estimator == "MLR" and "missing='fiml'" in reason and "3 of 400" in reason


def test_choose_mlr_for_non_normal_items(normal_items):
    rng = np.random.default_rng(2)
    heavy = normal_items.copy()
    heavy["a1"] = heavy["a1"] + rng.standard_t(3, size=len(heavy))
    estimator, reason = choose_estimator(heavy, list(heavy))
    assert estimator == "MLR" and "Mardia" in reason
    skewed = normal_items.copy()
    skewed["a3"] = np.exp(2 * skewed["a3"])
    estimator, reason = choose_estimator(skewed, list(skewed))
    assert estimator == "MLR" and "a3" in reason


def test_choose_rejects_unknown_columns(normal_items):
    with pytest.raises(DataError, match="a9"):
        choose_estimator(normal_items, ["a1", "a9"])
    with pytest.raises(DataError, match="zz"):
        choose_estimator(normal_items, ["a1", "a2"], ordered=["zz"])


def test_mlr_fiml_with_free_covariates_is_refused():
    # issue 12: the scaled baseline of MLR + FIML with fixed_x=False is not computed, so the
    # fit is refused rather than reported with wrong incremental indices
    from cbec_sem.errors import SpecError

    data = pd.read_csv(Path(__file__).parents[1] / "fixtures" / "data" / "hs_mcar.csv")
    model = ("visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9\n"
             " visual ~ ageyr + grade")
    with pytest.raises(SpecError, match="fixed_x=False.*ageyr, grade.*fixed_x=True"):
        cs.fit(model, data, estimator="MLR", missing="fiml", fixed_x=False)
