"""Ordered and continuous indicators in one WLSMV/ULSMV model, and the theta
parameterization, equal lavaan 0.6-14's.

Expected values: ``tests/fixtures/lavaan_ordinal_mixed/*.json``, written by
``tests/fixtures/make_ordinal_mixed_fixtures.R`` (lavaan 0.6-14; psych's bfi items with
A1..A5, N1..N5 ordered and C1..C5 continuous; the paper's model on five-point ta/fa/pc answers
and continuous vp/fo/is answers).  Tolerances: sample statistics (thresholds, −means,
variances, polychoric/polyserial/Pearson covariances) 1e-5 absolute and their NACOV 1e-5
relative (we agree to ~2e-6: lavaan stops its polyserial optimiser there); estimates and standardised values
1e-4 absolute; SEs 1e-3 relative (we agree to ~2e-5); every fit measure 1e-4 relative, the
χ² statistics 1e-5.

``theta_paper`` is the exception for the estimates: under the theta parameterization the
second-order model is nearly unidentified (VP's variance 22.95, SE 20.6), and lavaan's
optimiser stops in the flat valley: fed lavaan's own sample statistics our F is lower than
lavaan's (0.1443379229 vs 0.1443379232), 2e-3 away along the valley.  Its estimates are
checked at 1e-3 relative to their SE, its fit statistics at the usual tolerance.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from ordinal_cases import fit_ordinal_case as _fit, quiet
from cbec_sem.engine.choose import ordinal_items
from cbec_sem.errors import DataError, DataWarning, SpecError

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
CASES = ["mixed_bfi", "mixed_bfi_ulsmv", "mixed_bfi_gender", "mixed_paper", "theta_bfi",
         "theta_paper", "theta_mixed_bfi"]
MODEL15 = """agree =~ A1 + A2 + A3 + A4 + A5
consc =~ C1 + C2 + C3 + C4 + C5
neuro =~ N1 + N2 + N3 + N4 + N5"""
ORDERED = [f"{t}{k}" for t in "AN" for k in range(1, 6)]


def load(name: str) -> dict:
    return json.loads((FIXTURES / "lavaan_ordinal_mixed" / f"{name}.json").read_text())


@lru_cache(maxsize=None)
def _case_fit(name: str) -> tuple[dict, cs.FitResult]:
    """The fixture of a case and its fit, made once per process (the scaled-CFI test below
    reads the fit of mixed_bfi too; nothing changes a fit or a fixture)."""
    fx = load(name)
    return fx, _fit(fx)


@pytest.fixture(scope="module", params=CASES)
def case(request):
    return (request.param, *_case_fit(request.param))


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "data" / "bfi.csv")


def _joined(res, fx) -> pd.DataFrame:
    ref = pd.DataFrame(fx["params"])
    ref["group"] = np.where(ref["op"] == ":=", 0, ref["group"]).astype(int)
    return res.params.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_lav"),
                            how="outer", indicator=True)


def test_rows_options_and_npar(case, joined):
    name, fx, res = case
    assert res.converged == True  # noqa: E712
    j = joined
    assert (j["_merge"] == "both").all(), j.loc[j["_merge"] != "both", ["lhs", "op", "rhs"]]
    est = res.estimation
    assert est.npar == fx["npar"]
    assert est.stats.nobs == tuple(fx["nobs"])
    assert est.options.extra["parameterization"] == fx["used"]["parameterization"]
    assert est.options.extra["test"] == fx["used"]["test"][0]


def test_sample_statistics_and_nacov(case):
    name, fx, res = case
    stats = res.estimation.options.extra["ordinal"]
    for g, ref in enumerate(fx["groups"]):
        st = stats.groups[g]
        assert st.nobs == ref["nobs"]
        np.testing.assert_allclose(st.obs, ref["wls_obs"], atol=1e-5)
        np.testing.assert_allclose(np.diag(st.gamma), ref["nacov_diag"], rtol=1e-5)
        np.testing.assert_allclose(st.weight, ref["wls_v_diag"], rtol=1e-5)
        if "gamma" in ref:
            gamma = np.array(ref["gamma"])
            np.testing.assert_allclose(st.gamma, gamma, atol=1e-6 * np.abs(gamma).max())


@pytest.mark.parametrize("column", ["est", "std.lv", "std.all"])
def test_estimates(case, column, joined):
    name, fx, res = case
    j = joined
    ours, lav = j[column].to_numpy(float), j[column + "_lav"].to_numpy(float)
    if name == "theta_paper" and column != "std.all":  # see the module docstring
        se = np.maximum(j["se_lav"].to_numpy(float), 1.0)
        np.testing.assert_array_less(np.abs(ours - lav), 1e-3 * se * np.maximum(1, np.abs(lav)))
    else:
        np.testing.assert_allclose(ours, lav, atol=1e-4 if name != "theta_paper" else 1e-3)


def test_standard_errors(case, joined):
    name, fx, res = case
    j = joined
    free = j["se_lav"].to_numpy(float) > 0
    np.testing.assert_allclose(j.loc[free, "se"].to_numpy(float),
                               j.loc[free, "se_lav"].to_numpy(float), rtol=1e-3)
    assert (j.loc[~free, "se"] == 0).all()


def test_fit_measures(case):
    name, fx, res = case
    fm = res.fit_measures
    bad = {}
    for key, value in fx["fit_measures"].items():
        ours = fm.get(key, np.nan)
        tol = 1e-5 if key.startswith(("chisq", "baseline.chisq")) else 1e-4
        if value is None:
            if np.isfinite(ours):
                bad[key] = (ours, None)
        elif not (abs(ours - value) <= tol * max(1.0, abs(value))):
            bad[key] = (ours, value)
    assert not bad, bad


def test_scaled_test_details(case):
    name, fx, res = case
    lav = fx["tests"]["scaled.shifted"]
    scaled = res.estimation.options.extra["scaled_test"]
    assert scaled.stat == pytest.approx(lav["stat"], rel=1e-5)
    assert scaled.scaling_factor == pytest.approx(lav["scaling.factor"], rel=1e-5)
    assert scaled.shift == pytest.approx(lav["shift.parameter"], rel=1e-5)


def test_gamma_is_labelled_lavaan_style(case):
    name, fx, res = case
    if name != "mixed_bfi":
        pytest.skip("one case suffices")
    labels = list(res.estimation.options.extra["ordinal"].gamma().index)
    assert labels[:2] == ["A1|t1", "A1|t2"]
    assert "C1~1" in labels and "C1~~C1" in labels and "A1~~A2" in labels
    assert len(labels) == len(fx["groups"][0]["wls_obs"])


# ------------------------------------------------------------------ refusals


def test_mixed_model_with_pairwise_missing_is_refused(bfi):
    with pytest.raises(SpecError, match="missing='pairwise'.*continuous"):
        quiet(cs.fit, MODEL15, bfi, ordered=ORDERED, estimator="WLSMV", missing="pairwise")


def test_unknown_parameterization_is_refused(bfi):
    with pytest.raises(SpecError, match="'delta'.*'theta'"):
        quiet(cs.fit, MODEL15, bfi, ordered=ORDERED,
              estimator_options={"parameterization": "gamma"})


def test_continuous_variable_without_variance(bfi):
    data = bfi[[*ORDERED, "C1", "C2", "C3", "C4", "C5"]].dropna().copy()
    data["C3"] = 4.0
    with pytest.raises(DataError, match="'C3' has no variance"):
        quiet(cs.fit, MODEL15, data, ordered=ORDERED)


def test_no_ordered_variable_in_the_model(bfi):
    with pytest.raises(SpecError, match="none of the model's observed variables"):
        quiet(cs.fit, "f =~ C1 + C2 + C3", bfi, ordered=["A1"], estimator="WLSMV")


def test_listwise_deletion_counts_every_model_variable(bfi):
    with pytest.warns(DataWarning, match=r"dropped \d+ of 2800 rows"):
        res = cs.fit(MODEL15, bfi, ordered=ORDERED)
    complete = bfi[[f"{t}{k}" for t in "ACN" for k in range(1, 6)]].dropna().shape[0]
    assert res.estimation.stats.nobs == (complete,)


def test_a_single_ordered_item_among_continuous_ones(bfi):
    # one ordered item has no polychoric partner: the mixed statistics need none; its
    # polyserial correlations come out of the same fit (checked against lavaan through the
    # cases above), here only that the model is accepted and fitted
    res = quiet(cs.fit, "f =~ A1 + C1 + C2 + C3", bfi, ordered=["A1"])
    assert res.converged == True  # noqa: E712
    assert (res.params["op"] == "|").sum() == 5


# ------------------------------------------------- what is refused (issue 12, not built)


def test_ordinal_invariance_ladder_is_refused_up_front(bfi):
    # refused before any fit, naming the alternative (not after fitting the configural level)
    with pytest.raises(SpecError, match="Wu & Estabrook"):
        cs.invariance(MODEL15, bfi, group="gender", ordered=ORDERED)


def test_group_equal_with_ordered_items_is_refused(bfi):
    with pytest.raises(SpecError, match="group_equal"):
        quiet(cs.fit, MODEL15, bfi, ordered=ORDERED, group="gender",
              group_equal=["thresholds"])


# Observed covariates of ordered (and continuous) items were refused here; they are fitted
# as lavaan's conditional.x now, checked against lavaan in tests/engine/test_ordinal_conditional.py.


@pytest.mark.parametrize("estimator", ["ML", "WLSMV"])
def test_conditional_x_option_is_refused(bfi, estimator):
    with pytest.raises(SpecError, match="'conditional_x'"):
        quiet(cs.fit, MODEL15, bfi, ordered=ORDERED if estimator == "WLSMV" else None,
              estimator=estimator, estimator_options={"conditional_x": True})


# ------------------------------------- measurement on a theta fit = on the delta fit


def test_reliability_and_ave_do_not_depend_on_the_parameterization(bfi):
    # theta and delta are the same model (Muthén & Asparouhov 2002): ω (categorical and on
    # the latent-response scale), α and AVE of the theta fit equal the delta fit's, whose
    # values are checked against semTools in tests/measurement
    ordered = [f"{t}{k}" for t in "ACN" for k in range(1, 6)]
    delta = quiet(cs.fit, MODEL15, bfi, ordered=ordered)
    theta = quiet(cs.fit, MODEL15, bfi, ordered=ordered,
                  estimator_options={"parameterization": "theta"})
    a, b = cs.reliability(delta), cs.reliability(theta)
    num = a.select_dtypes("number").columns
    np.testing.assert_allclose(b[num].to_numpy(float), a[num].to_numpy(float), atol=1e-6)
    fl_a, fl_b = cs.fornell_larcker(delta), cs.fornell_larcker(theta)
    np.testing.assert_allclose(fl_b[["agree", "consc", "neuro"]].to_numpy(float),
                               fl_a[["agree", "consc", "neuro"]].to_numpy(float), atol=1e-6)


def test_ordinal_items_picks_the_few_category_items():
    # the rule of choose_estimator (≤ 5 whole-number answers, or declared), item by item
    data = pd.DataFrame({"a": [1, 2, 3, 4, 5, 1] * 5, "b": np.linspace(0, 1, 30),
                         "c": [1, 2, 3, 4, 5, 6] * 5, "d": [1.0, 2.0] * 15})
    assert ordinal_items(data, ["a", "b", "c", "d"]) == ["a", "d"]
    assert ordinal_items(data, ["a", "b", "c", "d"], ordered=["c"]) == ["a", "c", "d"]
    with pytest.raises(DataError, match="'z'"):
        ordinal_items(data, ["a", "b"], ordered=["z"])


def test_tables_show_the_scaled_cfi_where_lavaan_has_no_robust_one():
    """lavaan 0.6-14 reports cfi.robust/rmsea.robust as NA for WLSMV with continuous items
    among the ordered ones; the short fit tables then show the indices of the scaled test
    (cfi.scaled, rmsea.scaled: equal to lavaan's in the fixture), labelled "scaled", not the
    naive ones."""
    from cbec_sem.engine.fitmeasures import shown_measure

    fx, res = _case_fit("mixed_bfi")
    ref = fx["fit_measures"]
    assert ref.get("cfi.robust") is None and ref.get("cfi.scaled") is not None
    fm = res.fit_measures
    for name in ("cfi", "tli", "rmsea"):
        key, kind = shown_measure(fm, name)
        assert (key, kind) == (f"{name}.scaled", "scaled")
        assert fm[key] == pytest.approx(ref[key], abs=1e-3)
    assert shown_measure(fm, "chisq") == ("chisq.scaled", "scaled")
