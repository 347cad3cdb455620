"""Tests of cbec_sem.simulate: population moments (closed forms), sampling, Likert cuts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from cbec_sem.errors import SpecError
from cbec_sem.simulate import (
    DEFAULT_LOADING,
    default_thresholds,
    population_model,
    simulate,
)
from cbec_sem.specification.statements import Statement

N_BIG = 200_000
Z = 5.0  # Monte Carlo tolerance in standard errors


# --- small builders of hand-made statements -----------------------------------------------


def load(f: str, x: str, v: float | None = None) -> Statement:
    return Statement(f, "=~", x, () if v is None else (v,))


def reg(y: str, x: str, v: float | None = None) -> Statement:
    return Statement(y, "~", x, () if v is None else (v,))


def cov(a: str, b: str, v: float | None = None) -> Statement:
    return Statement(a, "~~", b, () if v is None else (v,))


def se_var(n: int) -> float:
    """SE of a sample variance of a normal variable with variance 1."""
    return float(np.sqrt(2.0 / n))


def se_cor(rho: float, n: int) -> float:
    """Large-sample SE of a sample correlation of bivariate normal variables."""
    return (1.0 - rho**2) / np.sqrt(n)


TWO_FACTOR = (
    load("F1", "x1", 0.8),
    load("F1", "x2", 0.7),
    load("F1", "x3", 0.6),
    load("F2", "y1", 0.75),
    load("F2", "y2", 0.65),
    load("F2", "y3"),  # default loading 0.7
    cov("F1", "F2", 0.4),
)


# --- reproducibility, shape -----------------------------------------------------------------


def test_same_seed_same_data() -> None:
    a = simulate(TWO_FACTOR, 50, seed=123)
    b = simulate(TWO_FACTOR, 50, seed=123)
    pd.testing.assert_frame_equal(a, b)
    c = simulate(TWO_FACTOR, 50, seed=124)
    assert not a.equals(c)


def test_seed_accepts_generator_and_seedsequence() -> None:
    a = simulate(TWO_FACTOR, 20, seed=np.random.default_rng(7))
    b = simulate(TWO_FACTOR, 20, seed=np.random.default_rng(7))
    pd.testing.assert_frame_equal(a, b)
    s = simulate(TWO_FACTOR, 20, seed=np.random.SeedSequence(7))
    assert s.shape == (20, 6)


def test_columns_are_observed_variables_in_order_of_appearance() -> None:
    df = simulate(TWO_FACTOR, 10, seed=1)
    assert list(df.columns) == ["x1", "x2", "x3", "y1", "y2", "y3"]
    assert all(df.dtypes == np.float64)
    assert df.index.equals(pd.RangeIndex(10))
    latent = simulate(TWO_FACTOR, 10, seed=1, return_latent=True)
    assert list(latent.columns) == ["x1", "x2", "x3", "y1", "y2", "y3", "F1", "F2"]
    # the observed part is the same draw
    pd.testing.assert_frame_equal(latent[df.columns], df)


def test_lavaan_syntax_equals_statements() -> None:
    text = """
    F1 =~ 0.8*x1 + 0.7*x2 + 0.6*x3
    F2 =~ 0.75*y1 + 0.65*y2 + y3   # y3: default loading 0.7
    F1 ~~ 0.4*F2
    """
    pd.testing.assert_frame_equal(simulate(text, 50, seed=1), simulate(TWO_FACTOR, 50, seed=1))
    # a model without values, the population as syntax
    model = "F1 =~ x1 + x2 + x3\nF2 =~ y1 + y2 + y3\nF1 ~~ F2"
    pd.testing.assert_frame_equal(
        simulate(model, 50, population=text, seed=1), simulate(TWO_FACTOR, 50, seed=1)
    )


def test_object_with_statements_attribute() -> None:
    class Spec:
        statements = TWO_FACTOR

    pd.testing.assert_frame_equal(simulate(Spec(), 20, seed=2), simulate(TWO_FACTOR, 20, seed=2))


def test_observed_regression_variables_follow_indicators() -> None:
    model = (load("F", "a"), load("F", "b"), reg("y", "F", 0.3), reg("y", "w", 0.2))
    df = simulate(model, 5, seed=1)
    assert list(df.columns) == ["a", "b", "y", "w"]


# --- standardized moments: closed forms ---------------------------------------------------


def test_cfa_closed_form_moments() -> None:
    pm = population_model(TWO_FACTOR)
    c = pm.covariance
    lam = {"x1": 0.8, "x2": 0.7, "x3": 0.6, "y1": 0.75, "y2": 0.65, "y3": DEFAULT_LOADING}
    for v in lam:
        assert c.loc[v, v] == pytest.approx(1.0, abs=1e-12)
        assert pm.residual_covariance.loc[v, v] == pytest.approx(1 - lam[v] ** 2, abs=1e-12)
    assert c.loc["x1", "x2"] == pytest.approx(0.8 * 0.7, abs=1e-12)
    assert c.loc["y1", "y3"] == pytest.approx(0.75 * 0.7, abs=1e-12)
    assert c.loc["x1", "y2"] == pytest.approx(0.8 * 0.4 * 0.65, abs=1e-12)
    assert c.loc["F1", "F2"] == pytest.approx(0.4, abs=1e-12)
    assert np.allclose(pm.mean, 0.0)


def test_cfa_sample_matches_closed_form() -> None:
    df = simulate(TWO_FACTOR, N_BIG, seed=2024)
    var = df.var()
    assert np.all(np.abs(var - 1.0) < Z * se_var(N_BIG))
    r = df.corr()
    expected = {
        ("x1", "x2"): 0.8 * 0.7,
        ("x1", "x3"): 0.8 * 0.6,
        ("y1", "y2"): 0.75 * 0.65,
        ("y2", "y3"): 0.65 * 0.7,
        ("x1", "y1"): 0.8 * 0.4 * 0.75,
        ("x3", "y3"): 0.6 * 0.4 * 0.7,
    }
    for (a, b), rho in expected.items():
        assert abs(r.loc[a, b] - rho) < Z * se_cor(rho, N_BIG), (a, b)
    assert np.all(np.abs(df.mean()) < Z / np.sqrt(N_BIG))


def test_structural_path_and_exogenous_correlation() -> None:
    model = (
        load("TA", "ta1", 0.8),
        load("TA", "ta2", 0.7),
        load("FA", "fa1", 0.75),
        load("FA", "fa2", 0.7),
        load("PC", "pc1", 0.8),
        load("PC", "pc2", 0.7),
        reg("FA", "TA", 0.5),
        cov("TA", "PC", 0.3),
    )
    pm = population_model(model)
    c = pm.covariance
    assert c.loc["FA", "FA"] == pytest.approx(1.0)
    assert pm.residual_covariance.loc["FA", "FA"] == pytest.approx(1 - 0.25)
    assert c.loc["TA", "FA"] == pytest.approx(0.5)
    assert c.loc["PC", "FA"] == pytest.approx(0.3 * 0.5)
    assert c.loc["ta1", "fa2"] == pytest.approx(0.8 * 0.5 * 0.7)
    assert c.loc["pc1", "fa1"] == pytest.approx(0.8 * 0.3 * 0.5 * 0.75)
    assert pm.r_squared["FA"] == pytest.approx(0.25)

    df = simulate(model, N_BIG, seed=11)
    r = df.corr()
    for a, b in [("ta1", "fa2"), ("pc1", "fa1"), ("ta2", "pc2"), ("fa1", "fa2")]:
        assert abs(r.loc[a, b] - c.loc[a, b]) < Z * se_cor(c.loc[a, b], N_BIG), (a, b)


def test_second_order_factor() -> None:
    model = (
        load("VP", "vp1", 0.8),
        load("VP", "vp2", 0.7),
        load("FO", "fo1", 0.75),
        load("FO", "fo2", 0.7),
        load("IS", "is1", 0.7),
        load("IS", "is2", 0.65),
        load("SCI", "VP", 0.8),
        load("SCI", "FO", 0.75),
        load("SCI", "IS", 0.7),
    )
    pm = population_model(model)
    assert pm.latent == ("VP", "FO", "IS", "SCI")
    c = pm.covariance
    assert c.loc["VP", "VP"] == pytest.approx(1.0)
    assert pm.residual_covariance.loc["VP", "VP"] == pytest.approx(1 - 0.64)
    assert c.loc["vp1", "fo2"] == pytest.approx(0.8 * 0.8 * 0.75 * 0.7)
    assert c.loc["vp2", "is1"] == pytest.approx(0.7 * 0.8 * 0.7 * 0.7)
    df = simulate(model, N_BIG, seed=5)
    assert list(df.columns) == ["vp1", "vp2", "fo1", "fo2", "is1", "is2"]
    r = df.corr()
    for a, b in [("vp1", "fo2"), ("vp2", "is1"), ("fo1", "is2")]:
        assert abs(r.loc[a, b] - c.loc[a, b]) < Z * se_cor(c.loc[a, b], N_BIG)


def test_residual_covariance_between_indicators() -> None:
    model = TWO_FACTOR + (cov("x1", "x2", 0.1),)
    pm = population_model(model)
    assert pm.covariance.loc["x1", "x2"] == pytest.approx(0.8 * 0.7 + 0.1)
    assert pm.covariance.loc["x1", "x1"] == pytest.approx(1.0)


def test_population_values_override_model_and_extra_paths_allowed() -> None:
    model = (load("F", "a"), load("F", "b"), load("F", "c"))
    population = (
        load("F", "a", 0.9),
        load("F", "b", 0.5),
        load("F", "c", 0.6),
        load("G", "c", 0.3),  # a cross-loading the analysis model omits
        load("G", "d", 0.8),
    )
    pm = population_model(model, population=population)
    assert pm.observed == ("a", "b", "c")
    assert pm.covariance.loc["a", "b"] == pytest.approx(0.45)
    assert pm.covariance.loc["c", "c"] == pytest.approx(1.0)
    assert pm.residual_covariance.loc["c", "c"] == pytest.approx(1 - 0.36 - 0.09)
    df = simulate(model, 10, population=population, seed=3)
    assert list(df.columns) == ["a", "b", "c"]


def test_start_values_are_population_values() -> None:
    model = (Statement("F", "=~", "a", starts=(0.9,)), load("F", "b", 0.5))
    pm = population_model(model)
    assert pm.covariance.loc["a", "b"] == pytest.approx(0.45)


def test_fixed_one_loading_gives_zero_residual_variance() -> None:
    model = (load("F", "a", 1.0), load("F", "b", 0.5))
    pm = population_model(model)
    assert pm.residual_covariance.loc["a", "a"] == 0.0
    df = simulate(model, 100, seed=1, return_latent=True)
    np.testing.assert_allclose(df["a"], df["F"])


def test_unstandardized_variances() -> None:
    model = (
        load("F", "a", 1.0),
        load("F", "b", 0.5),
        cov("F", "F", 2.0),
        cov("a", "a", 0.5),
    )
    pm = population_model(model, standardized=False)
    assert pm.covariance.loc["a", "a"] == pytest.approx(2.0 + 0.5)
    assert pm.covariance.loc["b", "b"] == pytest.approx(0.25 * 2.0 + 1.0)  # default residual 1
    assert pm.covariance.loc["a", "b"] == pytest.approx(1.0 * 2.0 * 0.5)


def test_intercepts_shift_means() -> None:
    model = (
        load("F", "a", 0.8),
        load("F", "b", 0.6),
        Statement("F", "~1", "", (0.5,)),
        Statement("a", "~1", "", (3.0,)),
    )
    pm = population_model(model)
    assert pm.mean["F"] == pytest.approx(0.5)
    assert pm.mean["a"] == pytest.approx(3.0 + 0.8 * 0.5)
    assert pm.mean["b"] == pytest.approx(0.6 * 0.5)
    df = simulate(model, N_BIG, seed=9)
    assert abs(df["a"].mean() - 3.4) < Z / np.sqrt(N_BIG)


@settings(max_examples=40, deadline=None)
@given(
    loadings=st.lists(st.floats(0.3, 0.95), min_size=3, max_size=3),
    beta=st.floats(-0.7, 0.7),
    rho=st.floats(-0.6, 0.6),
    gamma=st.floats(-0.3, 0.3),
)
def test_standardized_property(
    loadings: list[float], beta: float, rho: float, gamma: float
) -> None:
    """Every variable has population variance 1 and Ψ is a valid covariance matrix."""
    model = (
        load("X", "x1", loadings[0]),
        load("X", "x2", loadings[1]),
        load("Z", "z1", loadings[2]),
        load("Z", "z2", 0.7),
        load("Y", "y1", loadings[0]),
        load("Y", "y2", loadings[1]),
        load("W", "w1", 0.8),
        load("W", "w2", 0.7),
        cov("X", "Z", rho),
        reg("Y", "X", beta * 0.5),
        reg("Y", "Z", beta * 0.5),
        reg("Y", "X:Z", gamma),
        reg("W", "Y", beta),
    )
    pm = population_model(model)
    np.testing.assert_allclose(np.diag(pm.covariance), 1.0, atol=1e-12)
    assert np.linalg.eigvalsh(pm.residual_covariance.to_numpy()).min() > -1e-12
    # the covariance matrix of the variables is a covariance matrix too
    assert np.linalg.eigvalsh(pm.covariance.to_numpy()).min() > -1e-9


# --- latent interactions -------------------------------------------------------------------

INTERACTION = (
    load("X", "x1", 0.8),
    load("X", "x2", 0.7),
    load("Z", "z1", 0.8),
    load("Z", "z2", 0.7),
    load("Y", "y1", 0.8),
    load("Y", "y2", 0.7),
    cov("X", "Z", 0.3),
    reg("Y", "X", 0.4),
    reg("Y", "Z", 0.3),
    reg("Y", "X:Z", 0.2),
)


def test_interaction_closed_form() -> None:
    rho, b1, b2, g = 0.3, 0.4, 0.3, 0.2
    explained = b1**2 + b2**2 + 2 * b1 * b2 * rho + g**2 * (1 + rho**2)
    pm = population_model(INTERACTION)
    assert pm.residual_covariance.loc["Y", "Y"] == pytest.approx(1 - explained, abs=1e-12)
    assert pm.covariance.loc["Y", "Y"] == pytest.approx(1.0, abs=1e-12)
    # the product is uncorrelated with X and Z, so Cov(Y, X) is the linear part only
    assert pm.covariance.loc["Y", "X"] == pytest.approx(b1 + b2 * rho)
    assert pm.covariance.loc["y1", "x1"] == pytest.approx(0.8 * (b1 + b2 * rho) * 0.8)
    assert pm.mean["Y"] == 0.0


def test_interaction_sample_matches_closed_form() -> None:
    rho, b1, b2, g = 0.3, 0.4, 0.3, 0.2
    df = simulate(INTERACTION, N_BIG, seed=77, return_latent=True)
    x, z, y = df["X"].to_numpy(), df["Z"].to_numpy(), df["Y"].to_numpy()
    xz = x * z
    # E(XZ) = ρ and Var(XZ) = 1 + ρ² (Isserlis); Var(XZ) has SE sqrt((E[X²Z²]... )/n) < 0.02
    assert abs(xz.mean() - rho) < Z * np.sqrt((1 + rho**2) / N_BIG)
    assert abs(xz.var() - (1 + rho**2)) < 0.03
    # the outcome: mean 0, variance 1 (its kurtosis exceeds 3, so allow a wider SE)
    assert abs(y.mean()) < Z / np.sqrt(N_BIG)
    assert abs(y.var() - 1.0) < 2 * Z * se_var(N_BIG)
    # the residual recovered from the true equation has the closed-form variance
    zeta = y - b1 * x - b2 * z - g * (xz - rho)
    psi = 1 - (b1**2 + b2**2 + 2 * b1 * b2 * rho + g**2 * (1 + rho**2))
    assert abs(zeta.var() - psi) < Z * psi * se_var(N_BIG)
    assert abs(np.corrcoef(zeta, xz)[0, 1]) < Z / np.sqrt(N_BIG)


def test_interaction_with_endogenous_operand() -> None:
    """TA:FA with FA = a·TA + ζ: E(TA·FA) = a and Var(TA·FA) = 1 + a²."""
    a, g, b = 0.5, 0.15, 0.45
    model = (
        load("TA", "ta1", 0.8),
        load("TA", "ta2", 0.7),
        load("FA", "fa1", 0.8),
        load("FA", "fa2", 0.7),
        load("SCI", "s1", 0.8),
        load("SCI", "s2", 0.7),
        reg("FA", "TA", a),
        reg("SCI", "FA", b),
        reg("SCI", "TA:FA", g),
    )
    pm = population_model(model)
    psi = 1 - (b**2 + g**2 * (1 + a**2))
    assert pm.residual_covariance.loc["SCI", "SCI"] == pytest.approx(psi, abs=1e-12)
    df = simulate(model, N_BIG, seed=31, return_latent=True)
    prod = df["TA"] * df["FA"]
    assert abs(prod.mean() - a) < Z * np.sqrt((1 + a**2) / N_BIG)
    assert abs(prod.var() - (1 + a**2)) < 0.03
    assert abs(df["SCI"].var() - 1.0) < 2 * Z * se_var(N_BIG)
    assert abs(df["SCI"].mean()) < Z / np.sqrt(N_BIG)


def test_two_products_covariance_isserlis() -> None:
    """Two products sharing an operand: Cov(TA·FA, PC·TA) = σ_TA,PC σ_FA,TA + σ_TA,TA σ_FA,PC."""
    a, phi, g1, g2 = 0.5, 0.3, 0.15, 0.12
    model = (
        load("TA", "ta1"),
        load("FA", "fa1"),
        load("PC", "pc1"),
        load("SCI", "s1"),
        reg("FA", "TA", a),
        cov("TA", "PC", phi),
        reg("SCI", "TA:FA", g1),
        reg("SCI", "PC:TA", g2),
    )
    pm = population_model(model)
    c12 = phi * a + 1.0 * (a * phi)
    explained = g1**2 * (1 + a**2) + g2**2 * (1 + phi**2) + 2 * g1 * g2 * c12
    assert pm.residual_covariance.loc["SCI", "SCI"] == pytest.approx(1 - explained)


def test_interaction_outcome_feeding_indicators_and_paths() -> None:
    """A latent with an interaction may be a parent (second order, or a further path)."""
    model = INTERACTION + (load("Y", "y3", 0.6), reg("W", "Y", 0.5), load("W", "w1", 0.8))
    pm = population_model(model)
    assert pm.covariance.loc["W", "W"] == pytest.approx(1.0)
    assert pm.covariance.loc["w1", "x1"] == pytest.approx(0.8 * 0.5 * (0.4 + 0.3 * 0.3) * 0.8)


def test_unstandardized_interaction() -> None:
    model = (
        load("X", "x1", 1.0),
        load("Z", "z1", 1.0),
        load("Y", "y1", 1.0),
        cov("X", "X", 2.0),
        cov("Z", "Z", 1.0),
        cov("X", "Z", 0.5),
        reg("Y", "X", 0.5),
        reg("Y", "X:Z", 0.2),
        cov("Y", "Y", 0.3),
    )
    pm = population_model(model, standardized=False)
    # Var(XZ) = σ_XX σ_ZZ + σ_XZ² = 2.25
    assert pm.covariance.loc["Y", "Y"] == pytest.approx(0.25 * 2 + 0.04 * 2.25 + 0.3)


def test_product_of_non_normal_operand_is_refused() -> None:
    model = INTERACTION + (load("W", "w1"), reg("W", "Y:X", 0.1))
    with pytest.raises(SpecError, match="non-normal"):
        population_model(model)
    # a zero coefficient is harmless
    population_model(INTERACTION + (load("W", "w1"), reg("W", "Y:X", 0.0)))


def test_three_way_product_is_refused() -> None:
    with pytest.raises(SpecError, match="two-way"):
        population_model(INTERACTION + (reg("Y", "X:Z:X", 0.1),))


# --- Likert discretisation -----------------------------------------------------------------


def test_default_thresholds() -> None:
    t7 = default_thresholds(7)
    np.testing.assert_allclose(t7, -2.5 + 5 * np.arange(1, 7) / 7)
    np.testing.assert_allclose(t7, -t7[::-1])  # symmetric
    p = np.diff(norm.cdf(np.r_[-np.inf, t7, np.inf]))
    np.testing.assert_allclose(p, [0.037, 0.105, 0.219, 0.279, 0.219, 0.105, 0.037], atol=5e-4)
    np.testing.assert_allclose(default_thresholds(5), [-1.5, -0.5, 0.5, 1.5])
    np.testing.assert_allclose(default_thresholds(2), [0.0])
    eq = default_thresholds(4, "equiprobable")
    np.testing.assert_allclose(norm.cdf(eq), [0.25, 0.5, 0.75])


def marginal(col: pd.Series, k: int) -> np.ndarray:
    return col.value_counts(normalize=True).reindex(range(1, k + 1), fill_value=0).to_numpy()


def test_likert_categories_and_proportions() -> None:
    k = 5
    df = simulate(TWO_FACTOR, N_BIG, likert=k, seed=3)
    assert all(df.dtypes == np.int64)
    assert df.min().min() >= 1 and df.max().max() <= k
    expected = np.diff(norm.cdf(np.r_[-np.inf, default_thresholds(k), np.inf]))
    tol = Z * np.sqrt(0.25 / N_BIG)
    for v in df.columns:
        np.testing.assert_allclose(marginal(df[v], k), expected, atol=tol)


def test_custom_thresholds_sequence_and_dict() -> None:
    t = [-1.0, 0.0, 0.3, 1.2]
    df = simulate(TWO_FACTOR, N_BIG, thresholds=t, seed=4)
    expected = np.diff(norm.cdf(np.r_[-np.inf, t, np.inf]))
    tol = Z * np.sqrt(0.25 / N_BIG)
    np.testing.assert_allclose(marginal(df["x2"], 5), expected, atol=tol)

    mixed = simulate(TWO_FACTOR, N_BIG, likert=7, thresholds={"x1": [0.5]}, seed=5)
    assert set(mixed["x1"].unique()) == {1, 2}
    assert mixed["x1"].eq(1).mean() == pytest.approx(norm.cdf(0.5), abs=tol)
    assert mixed["y3"].max() == 7

    partial = simulate(TWO_FACTOR, 100, thresholds={"x1": [0.5]}, seed=5)
    assert partial["x1"].dtype == np.int64 and partial["y1"].dtype == np.float64


def test_equiprobable_thresholds() -> None:
    df = simulate(TWO_FACTOR, N_BIG, likert=4, thresholds="equiprobable", seed=6)
    np.testing.assert_allclose(marginal(df["y1"], 4), 0.25, atol=Z * np.sqrt(0.25 / N_BIG))


def test_population_thresholds() -> None:
    model = TWO_FACTOR + (
        Statement("x1", "|", "t1", (-0.5,)),
        Statement("x1", "|", "t2", (0.5,)),
    )
    df = simulate(model, 2000, seed=8)
    assert sorted(df["x1"].unique()) == [1, 2, 3]
    assert df["x2"].dtype == np.float64
    # free thresholds (no values) of an analysis model are not population values
    free = TWO_FACTOR + (Statement("x1", "|", "t1"),)
    assert simulate(free, 10, seed=8)["x1"].dtype == np.float64


def test_likert_cut_convention() -> None:
    """Category c holds (τ_{c−1}, τ_c]: a value equal to a threshold falls below it."""
    from cbec_sem.simulate import _cut

    np.testing.assert_array_equal(_cut(np.array([-2.0, 0.0, 0.1, 5.0]), [0.0, 1.0]), [1, 1, 2, 3])


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("likert", [1, 0, -3, 2.5, True, "7"])
def test_bad_likert(likert: object) -> None:
    with pytest.raises(SpecError, match="likert"):
        simulate(TWO_FACTOR, 10, likert=likert, seed=1)  # type: ignore[arg-type]


@pytest.mark.parametrize("t", [[0.5, 0.5], [1.0, 0.0], [0.0, np.nan], [], "abc"])
def test_bad_thresholds(t: object) -> None:
    likert = 3 if t == "abc" else None
    with pytest.raises(SpecError):
        simulate(TWO_FACTOR, 10, thresholds=t, likert=likert, seed=1)  # type: ignore[arg-type]


def test_thresholds_not_matching_likert() -> None:
    with pytest.raises(SpecError, match="needs 4 thresholds"):
        simulate(TWO_FACTOR, 10, likert=5, thresholds=[0.0, 1.0], seed=1)
    with pytest.raises(SpecError, match="not observed"):
        simulate(TWO_FACTOR, 10, thresholds={"nope": [0.0]}, seed=1)
    with pytest.raises(SpecError, match="strictly increasing"):
        simulate(TWO_FACTOR, 10, thresholds={"x1": [1.0, 0.0]}, seed=1)


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_bad_n(n: object) -> None:
    with pytest.raises(SpecError, match="positive integer"):
        simulate(TWO_FACTOR, n, seed=1)  # type: ignore[arg-type]


def test_population_missing_a_model_variable() -> None:
    population = tuple(s for s in TWO_FACTOR if s.rhs != "y3")
    with pytest.raises(SpecError, match="'y3'"):
        simulate(TWO_FACTOR, 10, population=population)


def test_latent_status_must_agree() -> None:
    model = (load("F", "a"), load("F", "b"))
    population = (reg("F", "a", 0.5), reg("F", "b", 0.5))  # F observed in the population
    with pytest.raises(SpecError, match="latent"):
        population_model(model, population=population)


def test_negative_residual_variance() -> None:
    with pytest.raises(SpecError, match=r"'x1'.*more than 100%"):
        population_model((load("F", "x1", 1.2), load("F", "x2", 0.5)))
    # two correlated predictors explaining too much
    model = (
        load("A", "a1"),
        load("B", "b1"),
        load("Y", "y1"),
        cov("A", "B", 0.8),
        reg("Y", "A", 0.6),
        reg("Y", "B", 0.6),
    )
    with pytest.raises(SpecError, match=r"'Y'.*more than 100%"):
        population_model(model)


def test_not_positive_semidefinite() -> None:
    model = (
        load("A", "a1"),
        load("B", "b1"),
        load("C", "c1"),
        cov("A", "B", 0.9),
        cov("A", "C", 0.9),
        cov("B", "C", -0.9),
    )
    with pytest.raises(SpecError, match="positive semi-definite"):
        population_model(model)


def test_cycle_is_refused() -> None:
    model = (load("A", "a1"), load("B", "b1"), reg("A", "B", 0.3), reg("B", "A", 0.3))
    with pytest.raises(SpecError, match="not recursive"):
        population_model(model)


def test_variance_values_conflict_with_standardized() -> None:
    with pytest.raises(SpecError, match="standardized=False"):
        population_model(TWO_FACTOR + (cov("F1", "F1", 2.0),))
    with pytest.raises(SpecError, match="standardized=False"):
        population_model(TWO_FACTOR + (cov("x1", "x1", 0.3),))
    population_model(TWO_FACTOR + (cov("F1", "F1", 1.0),))  # 1 agrees
    with pytest.raises(SpecError, match="negative"):
        population_model(TWO_FACTOR + (cov("x1", "x1", -0.3),), standardized=False)


def test_multigroup_values_refused() -> None:
    model = (Statement("F", "=~", "a", (0.5, 0.6)), load("F", "b"))
    with pytest.raises(SpecError, match="group"):
        population_model(model)


def test_duplicate_statement_refused() -> None:
    with pytest.raises(SpecError, match="more than once"):
        population_model(TWO_FACTOR + (load("F1", "x1", 0.5),))


def test_bad_model_type() -> None:
    with pytest.raises(SpecError):
        simulate(42, 10)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="nothing to simulate"):
        simulate((Statement("a", ":=", "b*c"),), 10)
