"""Ordered items: thresholds, polychoric correlations, their NACOV, and WLSMV/ULSMV/DWLS fits
equal lavaan 0.6-14's.

Expected values come from ``tests/fixtures/lavaan_ordinal/*.json``, written by
``tests/fixtures/make_ordinal_fixtures.R`` (lavaan 0.6-14 on psych's bfi items,
``tests/fixtures/data/bfi.csv``).  Tolerances: thresholds and polychorics 1e-4 absolute (we agree
to ~1e-7, lavaan's optimiser tolerance); the NACOV 1e-4 relative; estimates and standardised
values 1e-3 absolute, SEs 1e-3 relative (we agree to ~1e-6); every fit measure 1e-3.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.engine.ordinal import ordinal_statistics, polychoric
from cbec_sem.engine.ordinal.bvn import bvn_cdf, bvn_pdf
from cbec_sem.errors import DataError, DataWarning, SpecError

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
CFA_CASES = ["cfa_wlsmv", "cfa_wlsmv_pairwise", "cfa_ulsmv", "cfa_dwls", "cfa_wlsmv_gender",
             "cfa_wlsmv_extra", "paper_wlsmv"]
ITEMS15 = [f"{t}{k}" for t in "ACN" for k in range(1, 6)]
MODEL15 = """agree =~ A1 + A2 + A3 + A4 + A5
consc =~ C1 + C2 + C3 + C4 + C5
neuro =~ N1 + N2 + N3 + N4 + N5"""


def load(name: str) -> dict:
    return json.loads((FIXTURES / "lavaan_ordinal" / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    """psych's bfi (2800 rows, six-point items with missing answers)."""
    return pd.read_csv(FIXTURES / "data" / "bfi.csv")


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return func(*args, **kwargs)


# ------------------------------------------------------------------- bivariate normal


def test_bivariate_normal_cdf_against_scipy():
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(7)
    h, k = rng.normal(size=(2, 40)) * 1.5
    r = np.concatenate([rng.uniform(-0.99, 0.99, 34), [0.0, 0.93, -0.95, 0.999, -0.999, 0.3]])
    ours = bvn_cdf(h, k, r)
    ref = [multivariate_normal([0, 0], [[1, c], [c, 1]]).cdf([a, b]) for a, b, c in zip(h, k, r)]
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_bivariate_normal_limits_and_derivative():
    from scipy.special import ndtr

    assert bvn_cdf(np.inf, 0.3, 0.5) == pytest.approx(ndtr(0.3))
    assert bvn_cdf(-np.inf, 0.3, 0.5) == 0.0
    assert bvn_cdf(np.inf, np.inf, -0.2) == 1.0
    h, k = np.array([-1.2, 0.1, 2.0]), np.array([0.4, -0.7, 1.1])
    for r in (-0.96, -0.4, 0.0, 0.5, 0.95):  # Plackett: ∂Φ₂/∂ρ = φ₂, on both formulas
        num = (bvn_cdf(h, k, r + 1e-6) - bvn_cdf(h, k, r - 1e-6)) / 2e-6
        np.testing.assert_allclose(num, bvn_pdf(h, k, r), atol=1e-8)


# ------------------------------------------------------------ thresholds, polychorics


@pytest.mark.parametrize("case", ["polychoric_25", "polychoric_10", "polychoric_10_pairwise",
                                  "polychoric_mixed"])
def test_thresholds_and_polychorics(bfi, case):
    fx = load(case)
    data = bfi if fx["data"].endswith("bfi.csv") else pd.read_csv(REPO / fx["data"])
    stats = quiet(ordinal_statistics, data, fx["items"], missing=fx["missing"],
                  acov="gamma" in fx)
    assert stats.data.nobs == (fx["nobs"],)
    th = stats.thresholds()
    assert list(th.index) == fx["th_names"]
    np.testing.assert_allclose(th.to_numpy(), fx["th"], atol=1e-8)
    np.testing.assert_allclose(stats.groups[0].cor, np.array(fx["cor"]), atol=1e-4)
    if "gamma" in fx:
        gamma = stats.gamma()
        assert list(gamma.index) == fx["gamma_names"]
        ref = np.array(fx["gamma"])
        np.testing.assert_allclose(gamma.to_numpy(), ref, atol=1e-4 * np.abs(ref).max())


def test_polychoric_public_function(bfi):
    fx = load("polychoric_25")
    with pytest.warns(DataWarning, match="listwise deletion dropped 364 of 2800"):
        r = polychoric(bfi, fx["items"])
    assert list(r.columns) == fx["items"]
    np.testing.assert_allclose(r.to_numpy(), np.array(fx["cor"]), atol=1e-4)
    by_group = quiet(polychoric, bfi, ["A1", "A2", "A3"], group="gender")
    assert set(by_group) == {1, 2} and by_group[1].shape == (3, 3)


def test_pairwise_missing_is_announced(bfi):
    with pytest.warns(DataWarning, match="pairwise"):
        polychoric(bfi, ["A1", "A2", "C1"], missing="pairwise")


# -------------------------------------------------------------------- WLSMV and family


def _fit(fx):
    opts = fx["options"]
    data = pd.read_csv(REPO / fx["data"])
    return quiet(cs.fit, fx["model"], data, ordered=fx["ordered"], estimator=opts["estimator"],
                 missing=opts["missing"], group=opts["group"], std_lv=opts["std.lv"])


@pytest.fixture(scope="module", params=CFA_CASES)
def case(request):
    fx = load(request.param)
    return fx, _fit(fx)


def _joined(res, fx) -> pd.DataFrame:
    ref = pd.DataFrame(fx["params"])
    ours = res.params
    keys = ["lhs", "op", "rhs", "group"]
    ref["group"] = np.where(ref["op"] == ":=", 0, ref["group"]).astype(int)
    return ours.merge(ref, on=keys, suffixes=("", "_lav"), how="outer", indicator=True)


def test_converged_and_options(case):
    fx, res = case
    assert res.converged == True  # noqa: E712
    est = res.estimation
    assert est.npar == fx["npar"]
    assert est.stats.nobs == tuple(fx["nobs"])
    assert est.options.extra["se"] == fx["used"]["se"]
    assert est.options.extra["test"] == fx["used"]["test"][0]
    assert est.options.extra["parameterization"] == fx["used"]["parameterization"]


def test_parameter_table_rows_match_lavaan(case, joined):
    fx, res = case
    j = joined
    assert (j["_merge"] == "both").all(), j.loc[j["_merge"] != "both", ["lhs", "op", "rhs"]]
    # thresholds written lavaan's way, residual variances of ordered items fixed, scales 1
    p = res.params
    item = fx["ordered"][0]
    assert ((p["op"] == "|") & (p["lhs"] == item) & (p["rhs"] == "t4")).any()
    fixed_var = p[(p["op"] == "~~") & (p["lhs"] == item) & (p["rhs"] == item)]
    assert (fixed_var["se"] == 0).all()
    assert (p.loc[p["op"] == "~*~", "est"] == 1.0).all()


@pytest.mark.parametrize("column, tol", [("est", 1e-3), ("std.lv", 1e-3), ("std.all", 1e-3)])
def test_estimates(case, column, tol, joined):
    fx, res = case
    j = joined
    np.testing.assert_allclose(j[column].to_numpy(float), j[column + "_lav"].to_numpy(float),
                               atol=tol)


def test_standard_errors(case, joined):
    fx, res = case
    j = joined
    free = j["se_lav"].to_numpy(float) > 0
    np.testing.assert_allclose(j.loc[free, "se"].to_numpy(float),
                               j.loc[free, "se_lav"].to_numpy(float), rtol=1e-3)
    assert (j.loc[~free, "se"] == 0).all()
    np.testing.assert_allclose(j.loc[free, "pvalue"].to_numpy(float),
                               j.loc[free, "pvalue_lav"].to_numpy(float), atol=1e-3)


def test_fit_measures(case):
    fx, res = case
    fm = res.fit_measures
    bad = {}
    for key, value in fx["fit_measures"].items():
        ours = fm.get(key, np.nan)
        if value is None:
            if np.isfinite(ours):
                bad[key] = (ours, None)
        elif not (abs(ours - value) <= 1e-3 * max(1.0, abs(value))):
            bad[key] = (ours, value)
    assert not bad, bad


def test_scaled_test_details(case):
    fx, res = case
    tests = fx["tests"]
    scaled = res.estimation.options.extra.get("scaled_test")
    if "scaled.shifted" not in [t["test"] for t in tests.values()]:
        assert scaled is None
        return
    lav = next(t for t in tests.values() if t["test"] == "scaled.shifted")
    assert scaled.stat == pytest.approx(lav["stat"], rel=1e-6)
    assert scaled.scaling_factor == pytest.approx(lav["scaling.factor"], rel=1e-6)
    assert scaled.shift == pytest.approx(lav["shift.parameter"], rel=1e-5)


def test_sample_statistics_and_weights(case):
    fx, res = case
    stats = res.estimation.options.extra["ordinal"]
    for g, ref in enumerate(fx["groups"]):
        st = stats.groups[g]
        assert st.nobs == ref["nobs"]
        np.testing.assert_allclose(np.concatenate(st.th), ref["th"], atol=1e-8)
        np.testing.assert_allclose(st.cor, np.array(ref["cor"]), atol=1e-4)
        np.testing.assert_allclose(np.diag(st.gamma), ref["nacov_diag"], rtol=1e-4)
        np.testing.assert_allclose(st.weight, ref["wls_v_diag"], rtol=1e-4)


def test_summary_and_repr(case):
    fx, res = case
    text = res.summary()
    assert fx["options"]["estimator"] in text
    assert fx["ordered"][0] in text


# ------------------------------------------------------------------ options and errors


def test_ordered_with_default_estimator_is_wlsmv(bfi):
    res = quiet(cs.fit, MODEL15, bfi, ordered=ITEMS15)
    assert res.estimation.options.estimator == "WLSMV"
    assert res.fit_measures["chisq.scaled"] == pytest.approx(
        load("cfa_wlsmv")["fit_measures"]["chisq.scaled"], rel=1e-6)


def test_user_thresholds_and_labels(bfi):
    model = MODEL15 + "\nA1 | a*t1 + t2\nA2 | a*t1\n"
    res = quiet(cs.fit, model, bfi, ordered=ITEMS15)
    p = res.params
    t1 = p[(p["op"] == "|") & (p["rhs"] == "t1") & p["lhs"].isin(["A1", "A2"])]
    assert t1["est"].nunique() == 1 and res.estimation.npar == 92


def test_listwise_deletion_is_announced(bfi):
    with pytest.warns(DataWarning, match="listwise deletion dropped 252 of 2800"):
        cs.fit(MODEL15, bfi, ordered=ITEMS15)


@pytest.mark.parametrize("kwargs, error, fragments", [
    # ordered and continuous items together are fitted (test_ordinal_mixed.py), listwise only
    (dict(ordered=["A1", "A2"], missing="pairwise"), SpecError,
     ("'A3'", "missing='pairwise'", "listwise")),
    (dict(ordered=ITEMS15 + ["Z9"]), SpecError, ("'Z9'",)),
    (dict(ordered=ITEMS15, estimator="MLR"), SpecError, ("'MLR'", "WLSMV")),
    (dict(estimator="WLSMV"), SpecError, ("ordered",)),
    (dict(ordered=ITEMS15, missing="fiml"), SpecError, ("'fiml'", "pairwise")),
    # equal thresholds are fitted (tests/engine/test_ordinal_invariance.py); without ordered
    # items there are none to hold equal
    (dict(group="gender", group_equal="thresholds"), SpecError,
     ("group_equal='thresholds'", "ordered")),
])
def test_unsupported_requests(bfi, kwargs, error, fragments):
    with pytest.raises(error) as info:
        quiet(cs.fit, MODEL15, bfi, **kwargs)
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))


@pytest.mark.parametrize("extra, fragments", [
    ("A1 ~~ A1", ("'A1'", "residual variance", "delta")),
    ("A1 | t6", ("'A1'", "t1..t5", "'t6'")),
])
def test_bad_threshold_model(bfi, extra, fragments):
    with pytest.raises(SpecError) as info:
        quiet(cs.fit, MODEL15 + "\n" + extra, bfi, ordered=ITEMS15)
    for f in fragments:
        assert f in str(info.value)


def test_thresholds_need_ordered_items(bfi):
    with pytest.raises(SpecError, match="declare 'A1' ordered"):
        quiet(cs.fit, MODEL15 + "\nA1 | t1", bfi)


def test_item_with_a_single_category(bfi):
    data = bfi.assign(A1=3)
    with pytest.raises(DataError, match="'A1' has a single observed category"):
        quiet(cs.fit, MODEL15, data, ordered=ITEMS15)


def test_item_with_too_many_categories(bfi):
    data = bfi.assign(age_item=bfi["age"])
    with pytest.raises(DataError, match="'age_item' has .* distinct values"):
        quiet(polychoric, data, ["A1", "age_item"])


def test_category_missing_from_a_group(bfi):
    data = bfi.dropna(subset=ITEMS15).copy()
    data = data[~((data["gender"] == 2) & (data["A1"] == 6))]
    with pytest.raises(DataError) as info:
        quiet(cs.fit, MODEL15, data, ordered=ITEMS15, group="gender")
    msg = str(info.value)
    assert "'A1'" in msg and "no answer 6" in msg and "group 2" in msg


def _non_pd_data() -> pd.DataFrame:
    """Three items measured in pairs on disjoint rows, ρ = .9, .9, −.9: pairwise
    polychorics that no correlation matrix can have."""
    rng = np.random.default_rng(3)
    blocks = []
    for (a, b), rho in ((("x1", "x2"), 0.9), (("x2", "x3"), 0.9), (("x1", "x3"), -0.9)):
        z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=400)
        cut = np.digitize(z, [-0.8, 0.0, 0.8]) + 1.0
        block = pd.DataFrame(np.nan, index=range(400), columns=["x1", "x2", "x3"])
        block[a], block[b] = cut[:, 0], cut[:, 1]
        blocks.append(block)
    return pd.concat(blocks, ignore_index=True)


def test_non_positive_definite_polychorics():
    data = _non_pd_data()

    def messages(**kwargs):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            out = polychoric(data, missing="pairwise", **kwargs)
        return out, " | ".join(str(w.message) for w in seen)

    r, said = messages()
    assert "not positive definite" in said and "x1" in said
    assert np.linalg.eigvalsh(r.to_numpy())[0] < 0
    s, said = messages(smooth=True)
    assert "smoothed" in said
    assert np.linalg.eigvalsh(s.to_numpy())[0] > 0
    np.testing.assert_allclose(np.diag(s.to_numpy()), 1.0)


def test_rows_without_a_group_value_are_left_out_with_a_warning():
    # issue 12: lavaan drops rows whose group value is missing; the ordinal path does too
    data = pd.read_csv(Path(__file__).parents[1] / "fixtures" / "data" / "bfi.csv")
    items = ["A1", "A2", "A3", "A4", "A5"]
    data = data[items + ["gender"]].dropna().head(400).reset_index(drop=True)
    marked = data.copy()
    marked["gender"] = marked["gender"].astype(float)
    marked.loc[[3, 50, 77], "gender"] = np.nan
    model = "agree =~ A1 + A2 + A3 + A4 + A5"
    with pytest.warns(cs.errors.DataWarning, match="'gender' is missing in 3 of 400"):
        res = cs.fit(model, marked, ordered=items, group="gender")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = cs.fit(model, marked.dropna(subset=["gender"]), ordered=items, group="gender")
    assert res.fit_measures["ntotal"] == 397
    np.testing.assert_allclose(res.params["est"], ref.params["est"], atol=1e-10)
