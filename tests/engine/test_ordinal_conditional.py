"""Ordered items with observed exogenous covariates (lavaan's conditional.x for categorical
data) equal lavaan 0.6-14's.

Expected values: ``tests/fixtures/lavaan_ordinal_condx/*.json``, written by
``tests/fixtures/make_ordinal_condx_fixtures.R`` (lavaan 0.6-14, which sets
``conditional.x = TRUE`` for these models): HolzingerSwineford1939's x1..x6 cut at quintiles
(five categories) or at the median (binary) with ageyr and sex (0/1) as covariates, WLSMV,
ULSMV, DWLS, the theta parameterization, two groups (school); the bundled example survey's
TA and FA items (seven points) with b2b (business_model == "B2B") as covariate; x1..x3
(five categories) ordered with x4..x6 continuous and sex as covariate (linear regressions and
residual polyserial/Pearson covariances for the continuous ones); probit regressions without
factors (two ordered outcomes with a residual correlation; one outcome, saturated).

Tolerances (the project's): estimates and standardised values 1e-3 absolute (we agree to
~1e-6, except ``hs5_age_theta``: there lavaan's optimiser stops early in a flat valley, our
F is lower than lavaan's at its estimates, 0.0228092449009 vs 0.0228092449921, and the
estimates differ by up to 2e-4), SEs 1e-3 relative (we agree to ~1e-6; 4e-5 for the theta
case), the SEs of the standardised solution (lavaan's ``standardizedSolution()``) 1e-3
relative, χ² statistics 1e-5 relative, every other fit measure 1e-5 relative; the sample
statistics (thresholds, probit slopes, residual polychoric correlations) 1e-6 absolute and
their NACOV 1e-6 relative to its largest element (we agree to ~3e-8).
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
from cbec_sem.engine.ordinal.conditional import conditional_statistics
from cbec_sem.errors import DataError, DataWarning, SpecError
from cbec_sem.measurement._delta import standardized_vcov

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
DIR = FIXTURES / "lavaan_ordinal_condx"
CASES = ["hs5_age", "hs5_age_ulsmv", "hs5_age_dwls", "hs5_age_theta", "hs2_sex_age",
         "hs2_school", "example_b2b", "mixed_hs_sex", "probit_path"]
CHI2 = ("chisq", "chisq.scaled", "baseline.chisq", "baseline.chisq.scaled")


def load(name: str) -> dict:
    return json.loads((DIR / f"{name}.json").read_text())


@lru_cache(maxsize=None)
def _case_fit(name: str) -> tuple[dict, cs.FitResult]:
    """The fixture of a case and its fit, made once per process (the reliability test below
    reads the fit of example_b2b too; nothing changes a fit or a fixture)."""
    fx = load(name)
    return fx, _fit(fx)


@pytest.fixture(scope="module", params=CASES)
def case(request):
    return (request.param, *_case_fit(request.param))


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return pd.read_csv(DIR / "hs_condx.csv")


def _joined(res, fx) -> pd.DataFrame:
    ref = pd.DataFrame(fx["params"])
    return res.params.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_lav"),
                            how="outer", indicator=True)


def test_rows_npar_and_options(case, joined):
    _, fx, res = case
    assert res.converged
    j = joined
    assert (j["_merge"] == "both").all(), j.loc[j["_merge"] != "both", ["lhs", "op", "rhs"]]
    est = res.estimation
    assert est.npar == fx["npar"]
    assert est.stats.nobs == tuple(fx["nobs"])
    assert est.options.extra["conditional_x"] is True
    assert est.options.extra["estimator_used"] == fx["options"]["estimator"]


def test_sample_statistics_given_x(case):
    _, fx, res = case
    stats = res.estimation.options.extra["ordinal"]
    for g, ref in enumerate(fx["groups"]):
        st = stats.groups[g]
        assert st.nobs == ref["nobs"]
        np.testing.assert_allclose(st.obs, ref["wls_obs"], atol=1e-6)
        np.testing.assert_allclose(np.diag(st.gamma), ref["nacov_diag"], rtol=1e-6)
        if "gamma" in ref:
            gamma = np.array(ref["gamma"])
            np.testing.assert_allclose(st.gamma, gamma, atol=1e-6 * np.abs(gamma).max())


def test_nacov_is_labelled_as_lavaans(case):
    _, fx, res = case
    stats = res.estimation.options.extra["ordinal"]
    for g, ref in enumerate(fx["groups"]):
        assert list(stats.gamma(g).index) == ref["wls_obs_names"]


@pytest.mark.parametrize("column", ["est", "std.lv", "std.all"])
def test_estimates(case, column, joined):
    _, fx, res = case
    j = joined
    np.testing.assert_allclose(j[column].to_numpy(float), j[column + "_lav"].to_numpy(float),
                               atol=1e-3)


def test_standard_errors(case, joined):
    _, fx, res = case
    j = joined
    free = j["se_lav"].to_numpy(float) > 0
    np.testing.assert_allclose(j["se"].to_numpy(float)[free],
                               j["se_lav"].to_numpy(float)[free], rtol=1e-3)


def test_fit_measures(case):
    _, fx, res = case
    ours = res.fit_measures
    for key, value in fx["fit_measures"].items():
        got = float(ours[key])
        if value is None:  # lavaan: no robust CFI/RMSEA with conditional.x (catML)
            assert np.isnan(got), key
        elif key in CHI2:
            assert got == pytest.approx(value, rel=1e-5), key
        else:
            assert got == pytest.approx(value, rel=1e-5, abs=1e-8), key


def test_statistics_without_a_model_match_lavaans_nacov(hs):
    # the stage 1-3 statistics on their own (two covariates, binary items)
    fx = load("hs2_sex_age")
    stats = quiet(conditional_statistics, hs, fx["ordered"], ["sex", "ageyr"])
    ref = fx["groups"][0]
    st = stats.groups[0].stats
    np.testing.assert_allclose(st.obs, ref["wls_obs"], atol=1e-6)
    gamma = np.array(ref["gamma"])
    np.testing.assert_allclose(st.gamma, gamma, atol=1e-6 * np.abs(gamma).max())
    # the covariates' moments are lavaan's fixed.x values (cov.x divided by N - 1)
    assert stats.groups[0].x_cov[1, 1] == pytest.approx(np.var(hs["ageyr"], ddof=1))


# ------------------------------------------------------------------------ what is refused


def test_fixed_x_false_with_a_covariate_is_refused_as_lavaan_does(hs):
    # lavaan 0.6-14: "fixed.x = FALSE is not supported when conditional.x = TRUE"
    with pytest.raises(SpecError, match="fixed_x=False"):
        quiet(cs.fit, "visual =~ x1q + x2q + x3q\nvisual ~ ageyr", hs,
              ordered=["x1q", "x2q", "x3q"], fixed_x=False)


def test_pairwise_deletion_with_a_covariate_is_refused(hs):
    model = "visual =~ x1q + x2q + x3q\nvisual ~ sex"
    with pytest.raises(SpecError, match="missing='listwise'"):
        quiet(cs.fit, model, hs, ordered=["x1q", "x2q", "x3q"], missing="pairwise")


def test_a_covariance_of_a_covariate_with_a_factor_is_refused(hs):
    model = "visual =~ x1q + x2q + x3q\nvisual ~ sex\nx1q ~ ageyr\nvisual ~~ ageyr"
    with pytest.raises(SpecError, match="'ageyr' enter the model only through covariances"):
        quiet(cs.fit, model, hs, ordered=["x1q", "x2q", "x3q"])


def test_a_constant_covariate_is_refused_by_name(hs):
    data = hs.assign(one=1.0)
    with pytest.raises(DataError, match="covariate 'one' is constant"):
        quiet(cs.fit, "visual =~ x1q + x2q + x3q\nvisual ~ one", data,
              ordered=["x1q", "x2q", "x3q"])


def test_the_callers_data_are_not_changed(hs):
    before = hs.copy()
    quiet(cs.fit, "visual =~ x1q + x2q + x3q\nvisual ~ sex", hs, ordered=["x1q", "x2q", "x3q"])
    pd.testing.assert_frame_equal(hs, before)


def test_ordered_true_conditions_on_the_covariate_as_a_number():
    # ordered=True declares every observed variable ordered; the covariate b2b is still
    # conditioned on as a number, so the fit is the example_b2b reference
    fx = load("example_b2b")
    res = quiet(cs.fit, fx["model"], pd.read_csv(REPO / fx["data"]), ordered=True)
    assert res.fit_measures["chisq.scaled"] == pytest.approx(
        fx["fit_measures"]["chisq.scaled"], rel=1e-5)


def test_rows_with_a_missing_covariate_are_dropped_with_a_warning(hs):
    data = hs.copy()
    data.loc[[3, 10, 20], "ageyr"] = np.nan
    with pytest.warns(DataWarning, match="3 of 301 rows have a missing value on the covariates"):
        res = cs.fit("visual =~ x1q + x2q + x3q\nvisual ~ ageyr", data,
                     ordered=["x1q", "x2q", "x3q"])
    assert res.estimation.stats.nobs == (298,)


def test_a_text_covariate_is_refused_by_name():
    data = pd.read_csv(DIR / "example_condx.csv").assign(kind="B2B")
    with pytest.raises(DataError, match="column 'kind' is not numeric"):
        quiet(cs.fit, "TA =~ ta1 + ta2 + ta3 + ta4\nTA ~ kind", data,
              ordered=["ta1", "ta2", "ta3", "ta4"])


def test_standard_errors_of_the_standardized_solution(case):
    # lavaan's standardizedSolution() se (delta method through the conditional residual
    # variances of the delta parameterization): est.std's SEs of loadings, regressions and
    # (co)variances
    _, fx, res = case
    v = standardized_vcov(res)
    se = pd.Series(np.sqrt(np.clip(np.diag(v.to_numpy()), 0, None)), index=v.index)
    ref = pd.DataFrame(fx["params"])
    ref = ref[ref["op"].isin(["=~", "~", "~~"]) & (ref["std.se"].fillna(0) > 0)]
    names = [f"{a}{o}{b}" + (f".g{g}" if g > 1 else "")
             for a, o, b, g in zip(ref["lhs"], ref["op"], ref["rhs"], ref["group"])]
    np.testing.assert_allclose(se[names].to_numpy(), ref["std.se"].to_numpy(float), rtol=1e-3)


def test_a_single_ordered_outcome_is_a_probit_regression():
    # lavaan's sem("x1q ~ sex + ageyr", ordered = "x1q"): saturated (df = 0); estimates, SEs,
    # the test and every fit measure lavaan reports (the scaled ones: chisq.scaled = chisq,
    # CFI/TLI 1, RMSEA 0, NFI NA), except Hoelter's critical N, which lavaan computes from its
    # χ² of 2.8e-15 (0/2.8e-15 + 1 = 1) where ours is exactly 0 (0/0: NaN)
    fx = load("probit1")
    res = _fit(fx)
    j = _joined(res, fx)
    assert (j["_merge"] == "both").all()
    np.testing.assert_allclose(j["est"].to_numpy(float), j["est_lav"].to_numpy(float),
                               atol=1e-3)
    free = j["se_lav"].to_numpy(float) > 0
    np.testing.assert_allclose(j["se"].to_numpy(float)[free],
                               j["se_lav"].to_numpy(float)[free], rtol=1e-3)
    assert res.fit_measures["df"] == 0 and res.fit_measures["npar"] == fx["npar"]
    assert res.fit_measures["chisq"] == pytest.approx(0.0, abs=1e-8)
    ref = {k: np.nan if v is None else float(v) for k, v in fx["fit_measures"].items()
           if k not in ("cn_05", "cn_01")}
    ours = res.fit_measures.reindex(list(ref)).to_numpy(float)
    np.testing.assert_allclose(ours, list(ref.values()), atol=1e-6, equal_nan=True)


def test_reliability_of_a_conditional_fit_is_withheld_with_the_reason():
    # semTools 0.5-6's compRelSEM()/AVE() stop on conditional.x fits (no reference exists); the
    # sample statistics are residual polychorics given the covariate, so even α would be a
    # conditional one: every coefficient is NaN and the note says why.
    _, res = _case_fit("example_b2b")
    rel = cs.reliability(res)
    coefficients = ["alpha", "alpha.std", "omega", "omega.model", "omega.latent", "ave"]
    assert list(rel["construct"]) == ["TA", "FA"]
    assert rel[coefficients].isna().all().all()
    assert rel["note"].str.contains("conditional.x").all()
