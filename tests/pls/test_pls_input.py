"""Bad input, missing data, convergence and the paper model under PLS.

Expected behaviour from the issue's "Bad input" list; missing-data counts are closed-form
(cells set to NaN by the test itself); listwise deletion must equal estimating on the
complete rows.
"""

import warnings

import numpy as np
import pytest

import cbec_sem as cs
from cbec_sem.errors import (ConvergenceWarning, DataError, DataWarning, EstimationError,
                             SpecError)
from cbec_sem.pls import estimate_pls
from pls_fixtures import MOBI_SIMPLE


def test_construct_without_indicators_is_named(mobi):
    with pytest.raises(SpecError, match="'Loyalty'.*no indicators"):
        estimate_pls(MOBI_SIMPLE + "\nLoyalty ~ Satisfaction", mobi)


def test_indicator_in_two_constructs_is_named(mobi):
    with pytest.raises(SpecError, match="'CUEX1' is in two constructs"):
        estimate_pls(MOBI_SIMPLE.replace("PERV1 +", "CUEX1 + PERV1 +"), mobi)


def test_constant_indicator_is_named(mobi):
    data = mobi.assign(CUEX2=5)
    with pytest.raises(DataError, match="CUEX2"):
        estimate_pls(MOBI_SIMPLE, data)
    assert (mobi["CUEX2"] != 5).any()  # the caller's frame is untouched


def test_absent_column_is_named(mobi):
    with pytest.raises(DataError, match="PERV2"):
        estimate_pls(MOBI_SIMPLE, mobi.drop(columns="PERV2"))


def test_cbsem_only_statements_are_refused(mobi):
    with pytest.raises(SpecError, match="no '~~' parameters"):
        estimate_pls(MOBI_SIMPLE + "\nImage ~~ Value", mobi)


def test_plsc_with_rho_a_outside_unit_interval_names_construct(mobi):
    # PERV2 replaced by z(CUSA1) - 0.8 z(PERV1): both Value items correlate positively with
    # Satisfaction (so both mode-A weights are positive) but negatively with each other, so
    # w'(S - diag S)w = 2 w1 w2 s12 < 0 and rhoA (Dijkstra & Henseler 2015, eq. 21) < 0.
    z = (mobi - mobi.mean()) / mobi.std()
    data = mobi.assign(PERV2=z["CUSA1"] - 0.8 * z["PERV1"])
    pls = estimate_pls(MOBI_SIMPLE, data)
    assert not (0 < pls.rho_a["Value"] <= 1)
    with pytest.raises(EstimationError, match="'Value'"):
        estimate_pls(MOBI_SIMPLE, data, method="PLSc")


def test_collinear_formative_indicators_warn_at_fit_with_their_vifs(mobi):
    # PERV2 = PERV1 + small noise: r(PERV1, PERV2) near 1, so both VIFs = 1/(1 - r^2) are
    # far above 5 (Hair et al. 2019's threshold); the warning carries the same VIFs as
    # outer_vif (1/(1 - r^2) for a two-item block, computed here by hand)
    data = mobi.assign(PERV2=mobi["PERV1"] + np.random.default_rng(0).normal(0, .05, 250))
    r = np.corrcoef(data["PERV1"], data["PERV2"])[0, 1]
    vif = round(1 / (1 - r**2), 2)
    with pytest.warns(DataWarning, match=rf"'Value'.*\('PERV1', {vif}\).*\('PERV2', {vif}\)"):
        cs.fit(MOBI_SIMPLE.replace("Value =~", "Value <~"), data, estimator="PLS")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        estimate_pls(MOBI_SIMPLE, data)             # mode A: collinearity is expected
        estimate_pls(MOBI_SIMPLE.replace("Value =~", "Value <~"), mobi)  # VIFs below 5


def test_plspredict_with_more_folds_than_rows_is_refused(mobi):
    from cbec_sem.pls import predict_pls
    est = estimate_pls(MOBI_SIMPLE, mobi.iloc[:20])
    with pytest.raises(DataError, match="between 2 and 20 folds.*not 21"):
        predict_pls(est, folds=21)


def test_non_convergence_warns_and_reports(mobi):
    with pytest.warns(ConvergenceWarning,
                      match=r"did not converge within 2 iterations \(last sum of absolute "
                            r"weight changes [0-9.e+-]+"):
        est = estimate_pls(MOBI_SIMPLE, mobi, max_iter=2)
    assert est.converged is False
    assert est.iterations == 2
    assert est.last_change > 1e-7


def test_mean_replacement_and_listwise_are_counted(mobi):
    mobi = mobi.astype(float)
    data = mobi.copy()
    data.loc[[3, 7], "CUEX1"] = np.nan
    data.loc[7, "IMAG2"] = np.nan
    mean = estimate_pls(MOBI_SIMPLE, data, missing="mean")
    assert mean.n == 250
    assert any("3 cell(s) in 2 row(s)" in n for n in mean.notes)
    filled = mobi.copy()
    filled.loc[[3, 7], "CUEX1"] = mobi["CUEX1"].drop([3, 7]).mean()
    filled.loc[7, "IMAG2"] = mobi["IMAG2"].drop(7).mean()
    ref = estimate_pls(MOBI_SIMPLE, filled)
    np.testing.assert_allclose(mean.params["est"], ref.params["est"], atol=1e-12)
    lw = estimate_pls(MOBI_SIMPLE, data, missing="listwise")
    assert lw.n == 248 and any("2 row(s)" in n for n in lw.notes)
    ref = estimate_pls(MOBI_SIMPLE, mobi.drop(index=[3, 7]))
    np.testing.assert_allclose(lw.params["est"], ref.params["est"], atol=1e-12)


def test_single_item_construct_has_unit_weight_and_loading(mobi):
    est = estimate_pls(MOBI_SIMPLE + "\nComplaints =~ CUSCO\nComplaints ~ Satisfaction", mobi)
    row = est.params.query("lhs == 'Complaints' and op == '=~'")
    assert row["est"].iloc[0] == pytest.approx(1.0, abs=1e-12)
    assert est.rho_a["Complaints"] == 1.0


def test_paper_model_fits_by_pls_with_both_hoc_approaches():
    data = cs.simulate(cs.paper_model(), 400, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        two = estimate_pls(cs.paper_model(), data)
        rep = estimate_pls(cs.paper_model(), data, hoc="repeated")
    assert two.converged and rep.converged
    for est in (two, rep):
        keys = set(zip(est.params["lhs"], est.params["op"], est.params["rhs"]))
        assert {("SCI", "~", "FA"), ("indirect", ":=", "a*b")} <= keys
        assert (("SCI", "=~", "VP") in keys) == (est is two)
        assert (("SCI", "=~", "vp1") in keys) == (est is rep)
        ind = est.params.set_index("lhs").loc[["indirect"], "est"].iloc[0]
        a = est.params.query("lhs == 'FA' and rhs == 'TA'")["est"].iloc[0]
        b = est.params.query("lhs == 'SCI' and rhs == 'FA'")["est"].iloc[0]
        assert ind == pytest.approx(a * b, abs=1e-15)
    # repeated indicators: SCI's block is all nine first-order items, and SCI -> VP is a path
    assert (rep.weights["construct"] == "SCI").sum() == 9
    assert {"SCI"} == set(rep.params.query("lhs == 'VP' and op == '~'")["rhs"])
