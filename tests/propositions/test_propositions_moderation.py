"""Moderation probes: simple slopes, Johnson–Neyman, conditional indirect effects and the index
of moderated mediation, against closed-form arithmetic on hand-made estimates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cbec_sem.errors import CbecSemWarning, DataError, SpecError
from cbec_sem.propositions.interaction.product_indicators import fit_product_indicators
from cbec_sem.propositions.moderation import (
    InteractionEstimates,
    conditional_indirect,
    index_of_moderated_mediation,
    johnson_neyman,
    simple_slopes,
)
from cbec_sem.propositions.moderation_plot import plot_johnson_neyman, plot_simple_slopes

Z975 = stats.norm.ppf(0.975)


def estimates(coef: dict, cov: np.ndarray, **kw) -> InteractionEstimates:
    keys = list(coef)
    return InteractionEstimates(coef, pd.DataFrame(cov, index=keys, columns=keys), **kw)


@pytest.fixture
def slope_est() -> InteractionEstimates:
    coef = {"SCI ~ TA": 0.40, "SCI ~ PC": 0.20, "SCI ~ TA:PC": 0.15}
    cov = np.array([[0.0100, 0.0010, 0.0020],
                    [0.0010, 0.0090, 0.0005],
                    [0.0020, 0.0005, 0.0040]])
    return estimates(coef, cov, moderator_mean=0.0, moderator_sd=1.2, focal_sd=1.1,
                     outcome_sd=0.9, moderator="PC")


# ------------------------------------------------------------------ simple slopes


def test_simple_slopes_closed_form(slope_est):
    table = simple_slopes(slope_est, "TA", "PC", "SCI")
    w = np.array([-1.2, 0.0, 1.2])
    slope = 0.40 + 0.15 * w
    se = np.sqrt(0.0100 + w**2 * 0.0040 + 2 * w * 0.0020)
    np.testing.assert_allclose(table["moderator"], w)
    np.testing.assert_allclose(table["slope"], slope)
    np.testing.assert_allclose(table["se"], se)
    np.testing.assert_allclose(table["z"], slope / se)
    np.testing.assert_allclose(table["pvalue"], 2 * stats.norm.sf(np.abs(slope / se)))
    np.testing.assert_allclose(table["ci.lower"], slope - Z975 * se)
    np.testing.assert_allclose(table["ci.upper"], slope + Z975 * se)
    np.testing.assert_allclose(table["std"], slope * 1.1 / 0.9)
    # the product in either order, raw moderator values, another level
    raw = simple_slopes(slope_est, "TA", "PC", "SCI", at=[2.0], scale="raw", level=0.9)
    se2 = np.sqrt(0.0100 + 4 * 0.0040 + 4 * 0.0020)
    assert raw["slope"].iat[0] == pytest.approx(0.70)
    assert raw["ci.upper"].iat[0] == pytest.approx(0.70 + stats.norm.ppf(0.95) * se2)


def test_simple_slopes_around_a_nonzero_mean():
    est = estimates({"y~x": 0.1, "y~x:w": 0.05}, np.diag([0.01, 0.001]), moderator_mean=3.0,
                    moderator_sd=2.0)
    table = simple_slopes(est, "x", "w", "y", at=(-1, 0, 1))
    np.testing.assert_allclose(table["moderator"], [1.0, 3.0, 5.0])
    np.testing.assert_allclose(table["slope"], 0.1 + 0.05 * np.array([1.0, 3.0, 5.0]))
    assert table["std"].isna().all()  # no SDs given


# ------------------------------------------------------------------ Johnson–Neyman


def _t_at(est, w):
    row = simple_slopes(est, "x", "w", "y", at=[w], scale="raw")
    return row["slope"].iat[0] / row["se"].iat[0]


@pytest.mark.parametrize(
    "b1, b3, cov, kind",
    [
        (0.10, 0.30, [[0.010, 0.001], [0.001, 0.004]], "outside"),
        (0.50, 0.05, [[0.004, 0.000], [0.000, 0.010]], "between"),
        (0.02, 0.01, [[0.040, 0.000], [0.000, 0.040]], "nowhere"),
    ],
)
def test_johnson_neyman_roots(b1, b3, cov, kind):
    est = estimates({"y~x": b1, "y~x:w": b3}, np.array(cov), moderator_sd=1.5, moderator="w")
    jn = johnson_neyman(est, "x", "w", "y")
    assert jn.kind == kind
    if kind == "nowhere":
        assert jn.roots == () and jn.intervals == ()
        assert "no region of significance" in jn.statement
        return
    assert len(jn.roots) == 2
    for r in jn.roots:
        assert abs(_t_at(est, r)) == pytest.approx(Z975, abs=1e-10)
    np.testing.assert_allclose(jn.roots_sd, np.array(jn.roots) / 1.5)
    lo, hi = jn.roots
    mid = 0.5 * (lo + hi)
    if kind == "outside":
        assert abs(_t_at(est, mid)) < Z975
        assert abs(_t_at(est, lo - 1)) > Z975 and abs(_t_at(est, hi + 1)) > Z975
        assert jn.intervals == ((-np.inf, lo), (hi, np.inf))
        assert "unbounded" in jn.statement and not jn.bounded
    else:
        assert abs(_t_at(est, mid)) > Z975
        assert abs(_t_at(est, lo - 1)) < Z975 and abs(_t_at(est, hi + 1)) < Z975
        assert jn.intervals == ((lo, hi),) and jn.bounded


def test_johnson_neyman_closed_form_quadratic():
    b1, b3, v11, v13, v33 = 0.1, 0.3, 0.01, 0.001, 0.004
    est = estimates({"y~x": b1, "y~x:w": b3}, np.array([[v11, v13], [v13, v33]]))
    z2 = Z975**2
    expected = np.sort(np.roots([b3**2 - z2 * v33, 2 * (b1 * b3 - z2 * v13), b1**2 - z2 * v11]))
    np.testing.assert_allclose(johnson_neyman(est, "x", "w", "y").roots, expected, rtol=1e-12)


def test_johnson_neyman_single_point():
    b3 = 0.2
    v33 = (b3 / Z975) ** 2  # b3 exactly on the edge of significance: a linear equation
    est = estimates({"y~x": 0.3, "y~x:w": b3}, np.array([[0.01, 0.0], [0.0, v33]]))
    jn = johnson_neyman(est, "x", "w", "y")
    assert jn.kind == "above" and len(jn.roots) == 1
    assert abs(_t_at(est, jn.roots[0])) == pytest.approx(Z975, abs=1e-8)
    assert "unbounded above" in jn.statement


# ------------------------------------------------------------------ moderated mediation


@pytest.fixture
def first_stage():
    coef = {"M~X": 0.5, "M~W": 0.1, "M~X:W": 0.2, "Y~M": 0.4, "Y~X": 0.1}
    rng = np.random.default_rng(0)
    A = rng.normal(size=(5, 5)) * 0.05
    cov = A @ A.T + np.eye(5) * 0.002
    return estimates(coef, cov, moderator_sd=1.3, moderator="W"), cov


def test_conditional_indirect_first_stage(first_stage):
    est, cov = first_stage
    table = conditional_indirect(est, "X", "M", "Y", "W", at=(-1, 0, 1))
    w = np.array([-1.3, 0.0, 1.3])
    a1, a3, b = 0.5, 0.2, 0.4
    np.testing.assert_allclose(table["indirect"], (a1 + a3 * w) * b)
    np.testing.assert_allclose(table["a"], a1 + a3 * w)
    np.testing.assert_allclose(table["b"], b)
    idx = [0, 2, 3]  # M~X, M~X:W, Y~M
    V = cov[np.ix_(idx, idx)]
    for k, wk in enumerate(w):
        g = np.array([b, wk * b, a1 + a3 * wk])
        assert table["se"].iat[k] == pytest.approx(np.sqrt(g @ V @ g))


def test_index_of_moderated_mediation_first_stage(first_stage):
    est, cov = first_stage
    imm = index_of_moderated_mediation(est, "X", "M", "Y", "W")
    a3, b = 0.2, 0.4
    var_a3, var_b, cov_ab = cov[2, 2], cov[3, 3], cov[2, 3]
    assert imm["index"] == pytest.approx(a3 * b)
    assert imm["se"] == pytest.approx(np.sqrt(b**2 * var_a3 + a3**2 * var_b + 2 * a3 * b * cov_ab))
    assert imm["ci.lower"] == pytest.approx(a3 * b - Z975 * imm["se"])
    assert "first stage" in imm.name


def test_monte_carlo_intervals_are_seeded_and_sensible(first_stage):
    est, _ = first_stage
    a = conditional_indirect(est, "X", "M", "Y", "W", mc_draws=20000, seed=7)
    b = conditional_indirect(est, "X", "M", "Y", "W", mc_draws=20000, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert (a["mc.lower"] < a["indirect"]).all() and (a["indirect"] < a["mc.upper"]).all()
    np.testing.assert_allclose(a["mc.lower"], a["ci.lower"], atol=0.03)
    imm = index_of_moderated_mediation(est, "X", "M", "Y", "W", mc_draws=20000, seed=7)
    assert imm["mc.lower"] < imm["index"] < imm["mc.upper"]
    with pytest.raises(SpecError, match="mc_draws"):
        conditional_indirect(est, "X", "M", "Y", "W", mc_draws=10)


def test_second_stage_and_both_stages():
    coef = {"M~X": 0.5, "Y~M": 0.4, "Y~W": 0.1, "Y~M:W": -0.15}
    cov = np.diag([0.01, 0.02, 0.01, 0.005])
    est = estimates(coef, cov, moderator_sd=1.0)
    imm = index_of_moderated_mediation(est, "X", "M", "Y", "W")
    assert imm["index"] == pytest.approx(0.5 * -0.15)
    assert imm["se"] == pytest.approx(np.sqrt(0.15**2 * 0.01 + 0.5**2 * 0.005))
    assert "second stage" in imm.name
    both = estimates({**coef, "M~X:W": 0.1}, np.diag([0.01, 0.02, 0.01, 0.005, 0.003]))
    table = conditional_indirect(both, "X", "M", "Y", "W", at=[2.0], scale="raw")
    assert table["indirect"].iat[0] == pytest.approx((0.5 + 0.1 * 2) * (0.4 - 0.15 * 2))
    with pytest.raises(SpecError, match="both stages"):
        index_of_moderated_mediation(both, "X", "M", "Y", "W")
    with pytest.raises(SpecError, match="moderates neither"):
        index_of_moderated_mediation(est, "X", "M", "Y", "V")


# ------------------------------------------------------------------ bad input


def test_bad_input(slope_est):
    with pytest.raises(DataError, match="'PC' has no variance"):
        estimates({"y~x": 0.1, "y~x:PC": 0.1}, np.eye(2), moderator_sd=0.0, moderator="PC")
    with pytest.raises(SpecError, match="no interaction term SCI ~ TA:FA"):
        simple_slopes(InteractionEstimates(slope_est.coef, slope_est.vcov), "TA", "FA", "SCI")
    with pytest.raises(SpecError, match="no path"):
        simple_slopes(slope_est, "FA", "PC", "SCI")
    with pytest.raises(SpecError, match="made for the moderator 'PC'"):
        johnson_neyman(slope_est, "PC", "TA", "SCI")
    with pytest.raises(SpecError, match="vcov has no row"):
        InteractionEstimates({"y~x": 0.1, "y~z": 0.2},
                             pd.DataFrame(np.eye(1), index=["y~x"], columns=["y~x"]))
    with pytest.raises(SpecError, match="scale"):
        simple_slopes(slope_est, "TA", "PC", "SCI", scale="percent")


# ------------------------------------------------------------------ from a fitted model


@pytest.fixture(scope="module")
def oneint_pif():
    data = pd.read_csv(Path(__file__).resolve().parents[1] / "fixtures" / "modsem"
                       / "modsem_oneInt.csv")
    return fit_product_indicators(
        "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z", data)


def test_from_product_indicator_fit(oneint_pif):
    est = InteractionEstimates.from_product_indicator_fit(oneint_pif, "Z", focal="X",
                                                          outcome="Y")
    p = oneint_pif.params.set_index(["lhs", "op", "rhs"])
    assert est.coef["Y~X:Z"] == pytest.approx(p.loc[("Y", "~", "X:Z"), "est"])
    assert est.moderator_mean == 0.0
    _, cov = oneint_pif.implied_moments()
    assert est.moderator_sd == pytest.approx(np.sqrt(cov.at["Z", "Z"]))
    assert est.cov("Y~X:Z", "Y~X:Z") == pytest.approx(p.loc[("Y", "~", "X:Z"), "se"] ** 2)
    at_mean = simple_slopes(est, "X", "Z", "Y", at=[0])
    assert at_mean["slope"].iat[0] == pytest.approx(p.loc[("Y", "~", "X"), "est"])
    assert at_mean["se"].iat[0] == pytest.approx(p.loc[("Y", "~", "X"), "se"])
    # the same from the generic table constructor
    generic = InteractionEstimates.from_table(oneint_pif.params, oneint_pif.vcov,
                                              moderator="Z", moderator_sd=est.moderator_sd)
    for k, v in est.coef.items():
        assert generic.coef[k] == pytest.approx(v)
    np.testing.assert_allclose(generic.vcov.loc[list(est.coef), list(est.coef)],
                               est.vcov, atol=1e-14)
    jn = johnson_neyman(est, "X", "Z", "Y")
    assert jn.kind in ("outside", "between", "above", "below", "everywhere", "nowhere")


def test_plots(slope_est):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = plot_simple_slopes(slope_est, "TA", "PC", "SCI")
    assert len(ax.get_lines()) == 3
    assert ax.get_xlabel() == "TA"
    ax2 = plot_johnson_neyman(slope_est, "TA", "PC", "SCI")
    jn = johnson_neyman(slope_est, "TA", "PC", "SCI")
    vlines = [ln for ln in ax2.get_lines() if ln.get_linestyle() == "--"]
    lo, hi = ax2.get_xlim()
    assert len(vlines) == sum(lo <= r <= hi for r in jn.roots)
    plt.close("all")


def test_probes_of_the_paper_model():
    """H6a (PC × TA → SCI) and first-stage moderated mediation (PC moderates TA → FA)."""
    import cbec_sem as cs

    pm = cs.paper_model()
    spec = cs.ModelSpec.from_lavaan(pm.to_lavaan() + "\nSCI ~ PC:TA\nFA ~ PC + TA:PC")
    with pytest.warns(CbecSemWarning, match="leave out 'ta4'"):
        pif = fit_product_indicators(spec, cs.datasets.example_survey(), match=True)
    assert pif.converged
    p = pif.params.set_index(["lhs", "op", "rhs"])["est"]
    est = InteractionEstimates.from_product_indicator_fit(pif, "PC", focal="TA", outcome="SCI")
    slopes = simple_slopes(est, "TA", "PC", "SCI")
    assert slopes["slope"].iat[1] == pytest.approx(p[("SCI", "~", "TA")])
    assert slopes["slope"].iat[2] - slopes["slope"].iat[0] == pytest.approx(
        2 * est.moderator_sd * p[("SCI", "~", "PC:TA")])
    assert "TA on SCI" in johnson_neyman(est, "TA", "PC", "SCI").statement
    table = conditional_indirect(est, "TA", "FA", "SCI", "PC", at=[0.0])
    assert table["indirect"].iat[0] == pytest.approx(p[("FA", "~", "TA")] * p[("SCI", "~", "FA")])
    imm = index_of_moderated_mediation(est, "TA", "FA", "SCI", "PC")
    assert imm["index"] == pytest.approx(p[("FA", "~", "TA:PC")] * p[("SCI", "~", "FA")])
