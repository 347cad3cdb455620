"""PLS and PLSc estimates against R seminr's own test fixtures and the Python seminr port.

Expected values: tests/fixtures/seminr (made by make_fixtures.py; the testthat file behind
each R fixture is listed there).  Tolerance 1e-6 (seminr's fixtures are printed to 15 digits).
"""

import numpy as np
import pandas as pd
import pytest

from cbec_sem.pls import estimate_pls

from pls_fixtures import HOC, HOC_INTERACTION, MOBI_SIMPLE, frame, long_matrix, port, r_matrix

TOL = 1e-6


def _weights(est):
    return est.weights.set_index(["construct", "indicator"])["weight"]


def _loadings(est):
    return est.loadings.set_index(["construct", "indicator"])["loading"]


def _paths(est):
    p = est.params[est.params["op"] == "~"]
    return pd.Series(p["est"].to_numpy(), index=pd.MultiIndex.from_arrays([p["lhs"], p["rhs"]]))


def _check(actual: pd.Series, expected: pd.Series):
    expected = expected.reindex(actual.index)
    assert not expected.isna().any(), "a fixture entry is missing"
    np.testing.assert_allclose(actual.to_numpy(), expected.to_numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("scheme, prefix, scores", [
    ("path", "inner_weights", "inner_weights_constructscores.csv"),
    ("factorial", "factorial", "factorial_scores.csv"),
])
def test_weights_paths_scores_match_r_seminr(mobi, scheme, prefix, scores):
    # test-inner_weighting.R: mode-A composites on mobi, path_weighting / path_factorial
    est = estimate_pls(MOBI_SIMPLE, mobi, scheme=scheme)
    assert est.converged
    _check(_weights(est), long_matrix(r_matrix(f"{prefix}_weights.csv"), "w"))
    _check(_paths(est), long_matrix(r_matrix(f"{prefix}_coefficients.csv"), "b"))
    expected_scores = r_matrix(scores)
    np.testing.assert_allclose(est.scores[list(expected_scores.columns)].to_numpy(),
                               expected_scores.to_numpy(), atol=TOL, rtol=0)


def test_rho_a_plsc_paths_loadings_r2_match_r_seminr(mobi):
    # test-consistent.R: reflective constructs (seminr applies PLSc), path_factorial
    pls = estimate_pls(MOBI_SIMPLE, mobi, scheme="factorial")
    rho = r_matrix("rho1.csv")["rhoA"]
    np.testing.assert_allclose(pls.rho_a[rho.index], rho, atol=TOL, rtol=0)
    est = estimate_pls(MOBI_SIMPLE, mobi, scheme="factorial", method="PLSc")
    _check(_paths(est), long_matrix(r_matrix("path_coef1.csv"), "b"))
    _check(_loadings(est), long_matrix(r_matrix("loadings1.csv"), "l"))
    r2 = r_matrix("rsquaredplsc.csv")["Satisfaction"]
    row = est.r2.set_index("construct").loc["Satisfaction"]
    assert row["r2"] == pytest.approx(r2["Rsq"], abs=TOL)
    assert row["adj_r2"] == pytest.approx(r2["AdjRsq"], abs=TOL)





def test_two_stage_higher_order_matches_r_seminr(mobi):
    # test-hoc.R: higher_composite("Satisfaction", c("Image","Value"), two_stage), single item
    est = estimate_pls(HOC, mobi)
    _check(_weights(est), long_matrix(r_matrix("hoc-weights.csv"), "w"))
    _check(_loadings(est), long_matrix(r_matrix("hoc-loadings.csv"), "l"))
    _check(_paths(est), long_matrix(r_matrix("hoc-paths.csv"), "b"))


def test_higher_order_with_two_stage_interaction_matches_r_seminr(mobi):
    # test-hoc.R "HOC and second_order_interaction" (fixtures hoc_2si-*.csv): three stages,
    # HOC first stage, then the HOC model without the interaction path, whose Image and
    # Expectation scores form the product.  The interaction construct's own weight (1) and
    # rescaled loading are not reported rows, so they are left out of the comparison.
    est = estimate_pls(HOC_INTERACTION, mobi)
    _check(_weights(est), long_matrix(r_matrix("hoc-_2siweights.csv"), "w"))
    _check(_loadings(est), long_matrix(r_matrix("hoc_2si-loadings.csv"), "l"))
    paths = long_matrix(r_matrix("hoc_2si-paths.csv"), "b")
    paths.index = pd.MultiIndex.from_tuples([(t, s.replace("*", ":")) for t, s in paths.index])
    _check(_paths(est), paths)
    assert est.converged and est.computed.middle is not None


CASES = {"corp_rep_modeB": dict(), "mobi_plsc": dict(method="PLSc"),
         "mobi_interaction": dict()}


@pytest.mark.parametrize("case", list(CASES))
def test_against_python_seminr_port(case, mobi, corp_rep):
    rec = port(case)
    data = corp_rep.replace(-99, np.nan) if case == "corp_rep_modeB" else mobi
    est = estimate_pls(rec["model"], data, **CASES[case])
    names = {n: n.replace(":", "*") for n in est.scores.columns}
    w = _weights(est).rename(index=names, level=0)
    _check(w[~w.index.get_level_values(0).str.contains(r"\*")],
           long_matrix(frame(rec["weights"]), "w"))
    exp_paths = long_matrix(frame(rec["paths"]), "b")
    _check(_paths(est).rename(index=names), exp_paths)
    r2 = frame(rec["rsquared"])
    got = est.r2.set_index("construct").rename(index=names)
    np.testing.assert_allclose(got["r2"], r2.loc["Rsq", got.index], atol=TOL, rtol=0)
    np.testing.assert_allclose(got["adj_r2"], r2.loc["AdjRsq", got.index], atol=TOL, rtol=0)
    rho = frame(rec["rhoA"]).iloc[:, 0]
    rho.index = [i.replace("*", ":") for i in rho.index]
    pls = estimate_pls(rec["model"], data)
    np.testing.assert_allclose(pls.rho_a[rho.index], rho, atol=TOL, rtol=0)
    if case == "mobi_plsc":
        _check(_loadings(est), long_matrix(frame(rec["loadings"]), "l"))


MOBI_TWO_INTERACTIONS = MOBI_SIMPLE + " + Image:Expectation + Image:Value"


@pytest.mark.parametrize("method, suffix", [("orthogonal", ""), ("product_indicator", "2")])
def test_product_indicator_interactions_match_r_seminr(mobi, method, suffix):
    # test-pls.r: interaction_term(..., method = orthogonal | product_indicator), mode A,
    # path_factorial; seminr's testthat compares the Satisfaction column, scores and weights
    est = estimate_pls(MOBI_TWO_INTERACTIONS, mobi, scheme="factorial", interaction=method)
    coef = r_matrix(f"coefficients{suffix}.csv")["Satisfaction"]
    got = _paths(est).droplevel(0)
    got.index = got.index.str.replace(":", "*")
    np.testing.assert_allclose(got[coef[coef != 0].index], coef[coef != 0], atol=TOL, rtol=0)
    scores = r_matrix(f"constructscores{suffix}.csv")
    mine = est.scores.rename(columns=lambda c: c.replace(":", "*"))[scores.columns]
    np.testing.assert_allclose(mine.to_numpy(), scores.to_numpy(), atol=TOL, rtol=0)
    _check(_weights(est), long_matrix(r_matrix(f"weights{suffix}.csv"), "w")
           .loc[lambda s: ~s.index.get_level_values(0).str.contains(r"\*")])


def test_schemes_coincide_for_two_constructs(mobi):
    # with one path X -> Y every scheme's inner proxy of X is a positive multiple of Y's
    # score and vice versa (correlation, regression slope = correlation, or its sign), and
    # weights are normalised, so path, factorial and centroid weights are identical
    text = "Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5\nLoyalty =~ CUSL1 + CUSL2 + CUSL3\n" \
           "Loyalty ~ Image"
    w = {s: _weights(estimate_pls(text, mobi, scheme=s)) for s in ("path", "factorial",
                                                                     "centroid")}
    np.testing.assert_allclose(w["centroid"], w["path"], atol=1e-9)
    np.testing.assert_allclose(w["factorial"], w["path"], atol=1e-9)
