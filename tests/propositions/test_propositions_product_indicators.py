"""Product-indicator latent interactions: double-mean-centring against modsem, residual
centring by recovery, the paper's endogenous interaction, and the errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import CbecSemWarning, DataError, SpecError
from cbec_sem.propositions.interaction.product_indicators import (
    expand_product_indicators,
    fit_product_indicators,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "modsem"
ONEINT_MODEL = """
X =~ x1 + x2 + x3
Z =~ z1 + z2 + z3
Y =~ y1 + y2 + y3
Y ~ X + Z + X:Z
"""


@pytest.fixture(scope="module")
def oneint() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "modsem_oneInt.csv")


@pytest.fixture(scope="module")
def dblcent(oneint):
    return fit_product_indicators(ONEINT_MODEL, oneint, method="dblcent")


@pytest.fixture(scope="module")
def paper_pif():
    pm = cs.paper_model()
    spec = cs.ModelSpec.from_lavaan(pm.to_lavaan() + "\nSCI ~ TA:FA + PC:TA + PC:FA",
                                    hypotheses=pm.hypotheses)
    return fit_product_indicators(spec, cs.datasets.example_survey())


# ------------------------------------------------------------------ modsem reference


def test_dblcent_matches_modsem_oneint(dblcent):
    ref = pd.read_csv(FIXTURES / "modsem_oneInt_dblcent_estimates.csv")
    ours = dblcent.fit.params
    merged = ref.merge(ours, on=["lhs", "op", "rhs"], how="left", suffixes=("_ref", ""))
    assert merged["est"].notna().all(), "every modsem row has a counterpart"
    assert len(ours) == len(ref), "and no row more: the same specification"
    np.testing.assert_allclose(merged["est"], merged["est_ref"], atol=1e-3)
    free = merged["se_ref"] > 0
    np.testing.assert_allclose(merged.loc[free, "se"], merged.loc[free, "se_ref"], rtol=1e-3)
    # the published double-centring estimate
    assert dblcent.interaction("Y", "X:Z")["est"] == pytest.approx(0.702, abs=5e-4)
    assert dblcent.converged


def test_dblcent_is_modsems_specification(dblcent, oneint):
    syntax = dblcent.syntax
    assert "Y ~ X + Z + XZ" in syntax
    assert ("XZ =~ x1z1 + x2z1 + x3z1 + x1z2 + x2z2 + x3z2 + x1z3 + x2z3 + x3z3") in syntax
    spec = cs.ModelSpec.from_lavaan(syntax)
    rescov = [(s.lhs, s.rhs) for s in spec.statements if s.op == "~~"]
    assert len(rescov) == 18  # every pair sharing an x or a z indicator
    for a, b in rescov:
        assert a[:2] == b[:2] or a[2:] == b[2:]
    # the augmented data: the input untouched, products double-centred
    assert "x1z1" not in oneint.columns
    new = dblcent.data[list(dblcent.terms[0].indicators)]
    np.testing.assert_allclose(new.mean(), 0.0, atol=1e-12)
    c = oneint - oneint.mean()
    expected = c["x2"] * c["z3"]
    np.testing.assert_allclose(dblcent.data["x2z3"], expected - expected.mean(), atol=1e-12)
    # params: the regression row is renamed back, the vcov too
    p = dblcent.params
    assert ((p["lhs"] == "Y") & (p["op"] == "~") & (p["rhs"] == "X:Z")).sum() == 1
    assert "Y ~ X:Z" in dblcent.vcov.index
    assert dblcent.products == {"X:Z": "XZ"}


def test_the_warm_start_changes_nothing_but_the_path(dblcent, oneint):
    plain = fit_product_indicators(ONEINT_MODEL, oneint, warm_start=False)
    np.testing.assert_allclose(plain.fit.params["est"], dblcent.fit.params["est"], atol=1e-6)
    # the reported model is the clean one, without starting values
    assert dblcent.fit.model == dblcent.spec


def test_the_warm_start_from_a_given_main_fit_is_the_same_fit(oneint):
    """``main_fit=`` (res.hypotheses passes the fit being tested) replaces the warm start's own
    ML fit of the main-effects model: the same estimates to the last bit when it is that fit,
    and the refit behind res.hypotheses is used only when it is (evidence._is_warm_start_fit)."""
    from cbec_sem.propositions.evidence import _is_warm_start_fit

    main_model = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z"
    main = cs.fit(main_model, oneint)
    own = fit_product_indicators(ONEINT_MODEL, oneint, estimator="MLR")
    given = fit_product_indicators(ONEINT_MODEL, oneint, estimator="MLR", main_fit=main)
    assert given.fit.params.equals(own.fit.params)
    assert given.fit.fit_measures.equals(own.fit.fit_measures)
    spec = cs.ModelSpec.from_lavaan(ONEINT_MODEL)
    assert _is_warm_start_fit(main, spec)
    assert not _is_warm_start_fit(cs.fit(main_model, oneint, std_lv=True), spec)
    assert not _is_warm_start_fit(cs.fit(main_model, oneint, estimator="MLR"), spec)


def test_interaction_row(dblcent):
    row = dblcent.interaction("Y", "Z:X")  # any order of the components
    assert list(row.index) == ["est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all",
                               "std"]
    _, cov = dblcent.implied_moments()
    expected = row["est"] * np.sqrt(cov.at["X", "X"] * cov.at["Z", "Z"] / cov.at["Y", "Y"])
    assert row["std"] == pytest.approx(expected)
    assert row["ci.lower"] < row["est"] < row["ci.upper"]
    table = dblcent.interactions()
    assert table[["outcome", "term"]].values.tolist() == [["Y", "X:Z"]]
    with pytest.raises(SpecError, match="no interaction term"):
        dblcent.interaction("Y", "X:Y")
    with pytest.raises(SpecError, match="not regressed on"):
        dblcent.interaction("X", "X:Z")


def test_matched_pairs_and_no_residual_covariances(oneint):
    m = fit_product_indicators(ONEINT_MODEL, oneint, match=True)
    assert m.terms[0].indicators == ("x1z1", "x2z2", "x3z3")
    assert m.terms[0].residual_covariances == ()  # matched products share no indicator
    assert m.converged
    assert m.interaction("Y", "X:Z")["est"] == pytest.approx(0.70, abs=0.03)
    n = fit_product_indicators(ONEINT_MODEL, oneint, residual_covariances="none")
    assert not any(s.op == "~~" for s in n.spec.statements)
    with pytest.warns(CbecSemWarning, match="leave out 'x3'"):
        expand_product_indicators(
            "X =~ x1 + x2 + x3\nZ =~ z1 + z2\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z", oneint,
            match=True)


def test_missing_answers_are_dropped_before_centring(oneint):
    holed = oneint.copy()
    holed.loc[[3, 10], "x2"] = np.nan
    holed.loc[7, "y1"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = fit_product_indicators(ONEINT_MODEL, holed)
    b = fit_product_indicators(ONEINT_MODEL, oneint.drop(index=[3, 7, 10]))
    np.testing.assert_allclose(a.fit.params["est"], b.fit.params["est"], atol=1e-8)


# ------------------------------------------------------------------ residual centring


def test_rca_products_are_orthogonal_to_the_indicators(oneint):
    _, data, terms = expand_product_indicators(ONEINT_MODEL, oneint, method="rca")
    first = data[["x1", "x2", "x3", "z1", "z2", "z3"]].to_numpy()
    products = data[list(terms[0].indicators)].to_numpy()
    first = first - first.mean(axis=0)
    np.testing.assert_allclose(first.T @ products / len(data), 0.0, atol=1e-10)
    np.testing.assert_allclose(products.mean(axis=0), 0.0, atol=1e-10)


def test_rca_on_oneint_is_close_to_dblcent(oneint, dblcent):
    rca = fit_product_indicators(ONEINT_MODEL, oneint, method="rca")
    assert rca.converged
    assert rca.interaction("Y", "X:Z")["est"] == pytest.approx(
        dblcent.interaction("Y", "X:Z")["est"], abs=0.01)


@pytest.mark.parametrize("method", ["rca", "dblcent"])
def test_recovery_of_a_standardised_interaction(method):
    population = """
    X =~ 0.8*x1 + 0.7*x2 + 0.75*x3
    Z =~ 0.8*z1 + 0.7*z2 + 0.75*z3
    Y =~ 0.8*y1 + 0.7*y2 + 0.75*y3
    X ~~ 0.3*Z
    Y ~ 0.3*X + 0.2*Z + 0.25*X:Z
    """
    data = cs.simulate(ONEINT_MODEL, 4000, population=population, seed=11)
    pif = fit_product_indicators(ONEINT_MODEL, data, method=method)
    row = pif.interaction("Y", "X:Z")
    se_std = row["se"] * abs(row["std"] / row["est"])
    assert abs(row["std"] - 0.25) < 3 * se_std  # within sampling error (se_std ≈ .015)
    p = pif.params
    main = p[(p["lhs"] == "Y") & (p["op"] == "~") & (p["rhs"] == "X")].iloc[0]
    assert main["std.all"] == pytest.approx(0.3, abs=0.06)


# ------------------------------------------------------------------ the paper's model


def test_endogenous_interaction_in_the_paper_model(paper_pif):
    """TA × FA → SCI with FA ~ TA and the second-order SCI: product indicators handle it."""
    pif = paper_pif
    assert pif.converged
    assert {t.term for t in pif.terms} == {"TA:FA", "PC:TA", "PC:FA"}
    # the products use only the predictors' items
    parts = {i for t in pif.terms for p in t.parts for i in p}
    assert parts <= {f"{c}{k}" for c in ("ta", "fa", "pc") for k in range(1, 5)}
    table = pif.interactions().set_index("term")
    # population (standardised): TA:FA .15, PC:TA .12, PC:FA 0; N = 400 Likert answers
    assert table.at["TA:FA", "est"] > 0
    assert table.at["PC:TA", "est"] > 0
    assert abs(table.at["PC:FA", "std"]) < 0.15
    for term in table.index:
        assert abs(table.at[term, "std"]) < 0.5
        assert 0 < table.at[term, "se"] < 0.2


def test_paper_hypotheses_are_tested(paper_pif):
    h = paper_pif.hypotheses.set_index("id")
    for hid in ("H5", "H6a", "H6b"):
        assert "product indicators" in h.at[hid, "method"]
        assert np.isfinite(h.at[hid, "p"])
        assert h.at[hid, "ci"][0] < h.at[hid, "estimate"] < h.at[hid, "ci"][1]
    assert h.at["H5", "estimate"] == pytest.approx(
        paper_pif.interaction("SCI", "TA:FA")["est"])
    assert h.at["H6a", "estimate"] == pytest.approx(
        paper_pif.interaction("SCI", "PC:TA")["est"])
    assert h.at["H6b", "verdict"] == "not supported"
    assert h.at["H2", "verdict"] == "supported"
    assert "Latent interaction by product indicators" in paper_pif.summary()


def test_missing_interaction_for_a_hypothesis_is_explained():
    pm = cs.paper_model()
    spec = cs.ModelSpec.from_lavaan(pm.to_lavaan() + "\nSCI ~ TA:FA", hypotheses=pm.hypotheses)
    pif = fit_product_indicators(spec, cs.datasets.example_survey(), match=True)
    h = pif.hypotheses.set_index("id")
    assert h.at["H6a", "verdict"] == "not tested"
    assert "SCI ~ TA:PC" in h.at["H6a", "note"]


# ------------------------------------------------------------------ observed products


def test_observed_product_matches_ols():
    data = cs.simulate("y ~ 0.3*x + 0.2*w + 0.25*x:w", 500, seed=5)
    data["x"] = 2 * data["x"] + 5
    data["w"] = 1.5 * data["w"] + 3
    design = np.column_stack([np.ones(len(data)), data["x"], data["w"], data["x"] * data["w"]])
    ols, *_ = np.linalg.lstsq(design, data["y"].to_numpy(), rcond=None)
    from cbec_sem.propositions.moderation import InteractionEstimates

    for method in ("dblcent", "rca"):
        pif = fit_product_indicators("y ~ x + w + x:w", data, method=method)
        assert pif.terms[0].latent is False
        assert pif.interaction("y", "x:w")["est"] == pytest.approx(ols[3], rel=1e-6)
        est = InteractionEstimates.from_product_indicator_fit(pif, "w", focal="x", outcome="y")
        assert est.coef["y~x"] == pytest.approx(ols[1], rel=1e-6)
        assert est.coef["y~w"] == pytest.approx(ols[2], rel=1e-6)
        assert est.moderator_mean == pytest.approx(data["w"].mean())


def test_quadratic_term_makes_distinct_products(oneint):
    spec, _, terms = expand_product_indicators(
        "X =~ x1 + x2 + x3\nY =~ y1 + y2 + y3\nY ~ X + X:X", oneint)
    assert terms[0].indicators == ("x1x1", "x2x1", "x3x1", "x2x2", "x3x2", "x3x3")
    assert "Y ~ X + XX" in spec.to_lavaan()


# ------------------------------------------------------------------ errors


def test_observed_times_latent_is_refused_with_a_way_out(oneint):
    with pytest.raises(SpecError, match="mixes observed.*single-indicator latent"):
        fit_product_indicators("X =~ x1 + x2 + x3\nY =~ y1 + y2 + y3\nY ~ X + z1 + z1:X",
                               oneint)


def test_higher_order_component_is_refused():
    pm = cs.paper_model()
    spec = cs.ModelSpec.from_lavaan(pm.to_lavaan() + "\nFA ~ PC + PC:SCI")
    with pytest.raises(SpecError, match="higher-order"):
        fit_product_indicators(spec, cs.datasets.example_survey())


def test_bad_requests(oneint):
    with pytest.raises(SpecError, match="no interaction term"):
        fit_product_indicators("X =~ x1 + x2 + x3\nY =~ y1 + y2 + y3\nY ~ X", oneint)
    with pytest.raises(SpecError, match="dblcent"):
        fit_product_indicators(ONEINT_MODEL, oneint, method="kenny-judd")
    with pytest.raises(SpecError, match="residual_covariances"):
        fit_product_indicators(ONEINT_MODEL, oneint, residual_covariances="all")
    with pytest.raises(DataError, match="'x9'"):
        fit_product_indicators(ONEINT_MODEL.replace("x3", "x9"), oneint)
    const = oneint.assign(z2=4.0)
    with pytest.raises(DataError, match="'z2' of 'Z'.*no variance"):
        fit_product_indicators(ONEINT_MODEL, const)
