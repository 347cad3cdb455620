"""Common-method bias: Harman, marker variable (Lindell & Whitney 2001), ULMC.

References:

* ``tests/fixtures/semtools/cmb_hs.json`` (lavaan 0.6 / R ``eigen``/``factanal`` on
  HolzingerSwineford1939 x1-x9, written by ``tests/fixtures/make_semtools_fixtures.R``):
  correlation eigenvalues, the PCA first-component share, factanal's one-factor loadings and
  share, the single-factor CFA's fit, the ULMC model's fit, standardized loadings and its
  inadmissibility.  Compared within 1e-3.
* Closed forms: the PCA share is numpy's first eigenvalue / p; the Lindell-Whitney adjustment
  r_A = (r - r_M)/(1 - r_M) with t = r_A/sqrt((1 - r_A^2)/(N - 3)) (their eqs. 4-5) on data
  built to have a hand-made correlation matrix exactly.
* Recovery: data simulated with ``cs.simulate`` from a population with a method factor of
  known standardized loading 0.4 (method variance 0.16 per item) and unequal substantive
  loadings (with equal ones the method variance is not identified apart from the factor
  correlations).
"""

from __future__ import annotations

import json
import warnings
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import cbec_sem as cs
from cbec_sem.errors import CbecSemWarning, DataError, SpecError
from cbec_sem.measurement.method_bias import (
    HARMAN_THRESHOLD,
    MethodBiasResult,
    common_method_bias,
    harman_pca_share,
    latent_correlations,
    marker_adjust,
    model_items,
    ulmc_syntax,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "semtools" / "cmb_hs.json"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
TOL = 1e-3


@pytest.fixture(scope="module")
def hs():
    return cs.datasets.holzinger_swineford_1939()


@pytest.fixture(scope="module")
def hs_battery(hs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CbecSemWarning)  # the HS ULMC is inadmissible
        return common_method_bias(HS_MODEL, hs)


@pytest.fixture(scope="module")
def example():
    return cs.datasets.example_survey()


@pytest.fixture(scope="module")
def example_battery(example):
    return common_method_bias(cs.paper_model(), example)


# ---------------------------------------------------------------------------------------------
# lavaan / R reference
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ref():
    if not FIXTURE.exists():
        pytest.skip("tests/fixtures/semtools/cmb_hs.json not generated")
    return json.loads(FIXTURE.read_text())


def test_harman_matches_r(ref, hs_battery):
    h = hs_battery.harman
    assert h.n == ref["n"] == 301
    assert list(h.items) == ref["items"]
    np.testing.assert_allclose(h.eigenvalues, ref["harman_pca"]["eigenvalues"], atol=TOL)
    assert h.pca_share == pytest.approx(ref["harman_pca"]["first_share"], abs=TOL)
    fa = ref["harman_factanal"]
    assert h.factor_share == pytest.approx(fa["explained_share"], abs=TOL)
    loadings = h.loadings * np.sign(h.loadings.sum())
    for item, value in fa["loadings"].items():
        assert loadings[item] == pytest.approx(value, abs=TOL)
    assert h.flagged is False


def test_single_factor_cfa_matches_lavaan(ref, hs_battery):
    got = hs_battery.harman.single_factor_fit
    want = ref["single_factor_cfa"]["fit_measures"]
    for key in ("chisq", "df", "cfi", "tli", "rmsea", "srmr"):
        assert got[key] == pytest.approx(want[key], abs=TOL), key
    sub = hs_battery.harman.substantive_fit
    assert hs_battery.harman.chisq_diff == pytest.approx(want["chisq"] - sub["chisq"], abs=TOL)
    assert hs_battery.harman.df_diff == 3
    assert hs_battery.harman.p_value < 1e-40


def test_ulmc_matches_lavaan_and_reports_inadmissibility(ref, hs_battery):
    u = hs_battery.ulmc
    want = ref["ulmc"]
    assert u.fitted
    for key in ("chisq", "df", "cfi", "tli", "rmsea", "srmr"):
        assert u.fit[key] == pytest.approx(want["fit_measures"][key], abs=TOL), key
    items = u.items.set_index("item")
    sub = want["substantive_loadings_std"]
    for lhs, rhs, value in zip(sub["lhs"], sub["rhs"], sub["est.std"]):
        assert items.loc[rhs, "construct"] == lhs
        assert items.loc[rhs, "substantive_loading"] == pytest.approx(value, abs=TOL)
    meth = want["method_loadings_std"]
    for rhs, value in zip(meth["rhs"], meth["est.std"]):
        assert items.loc[rhs, "method_loading"] == pytest.approx(value, abs=TOL)
        assert items.loc[rhs, "method_variance"] == pytest.approx(value**2, abs=TOL)
    # lavaan: converged, but cov.lv not positive definite with visual ~~ speed = -4.936
    assert want["converged"] and not want["admissible"]
    assert u.converged.optimizer_converged and not u.converged.admissible
    assert not u.trustworthy
    assert "inadmissible" in u.reason
    assert any("-4.936" in p for p in u.problems)
    assert "NOT TRUSTWORTHY" in hs_battery.summary()
    row = hs_battery.table.query("test == 'ULMC'").iloc[0]
    assert row["flagged"] is None and "inadmissible" in row["caveat"]


def test_inadmissible_ulmc_warns_and_names_the_model(hs):
    with pytest.warns(CbecSemWarning, match="^ULMC model: "):
        common_method_bias(HS_MODEL, hs)


# ---------------------------------------------------------------------------------------------
# closed forms
# ---------------------------------------------------------------------------------------------


def test_pca_share_is_numpys_first_eigenvalue(example, example_battery):
    items = model_items(cs.paper_model())
    corr = np.corrcoef(example[list(items)].to_numpy(float), rowvar=False)
    eig = np.linalg.eigvalsh(corr)
    assert example_battery.harman.pca_share == pytest.approx(eig[-1] / len(items), rel=1e-12)
    np.testing.assert_allclose(example_battery.harman.eigenvalues, eig[::-1], rtol=1e-10)
    assert example_battery.harman.eigenvalues.sum() == pytest.approx(len(items))
    share, _ = harman_pca_share(np.eye(4))
    assert share == pytest.approx(0.25)
    assert harman_pca_share(np.ones((3, 3)))[0] == pytest.approx(1.0)


def test_factor_share_is_mean_squared_std_loading(example, example_battery):
    items = model_items(cs.paper_model())
    res = cs.fit("g =~ " + " + ".join(items), example)
    lam = res.params.query("op == '=~'")["std.all"].to_numpy()
    assert example_battery.harman.factor_share == pytest.approx(np.mean(lam**2), rel=1e-10)


def test_marker_adjust_arithmetic():
    r_a, t, p = marker_adjust([0.5, 0.2, 0.05], 0.05, 100)
    np.testing.assert_allclose(r_a, [0.45 / 0.95, 0.15 / 0.95, 0.0])
    want_t = r_a * np.sqrt(97) / np.sqrt(1 - r_a**2)  # Lindell & Whitney eq. 5
    np.testing.assert_allclose(t, want_t)
    np.testing.assert_allclose(p, 2 * stats.t.sf(np.abs(want_t), 97))
    assert marker_adjust(0.3, 0.0, 50)[0] == pytest.approx(0.3)
    with pytest.raises(SpecError):
        marker_adjust(0.3, 1.0, 50)


def _exact_data(corr: np.ndarray, names, n: int, seed: int = 0) -> pd.DataFrame:
    """Data whose sample correlation matrix is exactly ``corr``."""
    z = np.random.default_rng(seed).standard_normal((n, corr.shape[0]))
    z -= z.mean(axis=0)
    white = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)
    return pd.DataFrame(white @ np.linalg.cholesky(corr).T, columns=names)


@pytest.fixture(scope="module")
def hand_made():
    names = ["a1", "a2", "a3", "b1", "b2", "b3", "mk"]
    corr = np.full((7, 7), 0.2)
    corr[:3, :3] = corr[3:6, 3:6] = 0.5
    corr[6, :6] = corr[:6, 6] = [0.05, 0.10, 0.12, -0.02, 0.08, 0.15]
    np.fill_diagonal(corr, 1.0)
    return names, corr, _exact_data(corr, names, 100)


def test_marker_on_a_hand_made_correlation_matrix(hand_made):
    names, corr, data = hand_made
    model = "A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3"
    out = common_method_bias(model, data, marker="mk", ulmc=False)
    mk = out.marker
    assert mk.r_m == pytest.approx(0.05, abs=1e-12)  # smallest positive (not -0.02)
    assert mk.r_m_rule == "smallest"
    np.testing.assert_allclose(mk.marker_correlations.to_numpy(), corr[6, :6], atol=1e-12)
    table = mk.items.set_index(["var1", "var2"])
    assert len(table) == 15
    for (i, j) in combinations(range(6), 2):
        row = table.loc[(names[i], names[j])]
        r = corr[i, j]
        assert row["r"] == pytest.approx(r, abs=1e-12)
        assert row["p"] == pytest.approx(stats.pearsonr(data[names[i]], data[names[j]])[1],
                                         rel=1e-8)
        r_a = (r - 0.05) / 0.95
        assert row["r_adj"] == pytest.approx(r_a, abs=1e-12)
        t = r_a / np.sqrt((1 - r_a**2) / 97)
        assert row["p_adj"] == pytest.approx(2 * stats.t.sf(abs(t), 97), rel=1e-8)
    # r = .2 between the blocks: p = .046 before, .12 after the adjustment -> 9 changes
    assert mk.n_changed_items == 9
    assert table.query("changed")["r"].round(12).eq(0.2).all()
    # the construct correlation is the model-implied one (.2/.5 = .4 here) adjusted
    c = mk.constructs.iloc[0]
    assert (c["var1"], c["var2"]) == ("A", "B")
    assert c["r"] == pytest.approx(0.4, abs=1e-6)
    assert c["r_adj"] == pytest.approx((0.4 - 0.05) / 0.95, abs=1e-6)
    assert mk.n_changed == 0 and not c["changed"]
    assert "Lindell" in mk.caveat
    row = out.table.query("test == 'marker' and statistic.str.contains('construct')").iloc[0]
    assert row["value"] == 0 and row["flagged"] is False


def test_marker_r_m_variants(hand_made):
    _, _, data = hand_made
    model = "A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3"
    second = common_method_bias(model, data, marker="mk", ulmc=False, r_m="second").marker
    assert second.r_m == pytest.approx(0.08, abs=1e-12) and second.r_m_rule == "second"
    given = common_method_bias(model, data, marker="mk", ulmc=False, r_m=0.1).marker
    assert given.r_m == 0.1 and given.r_m_rule == "given"
    for bad in ("largest", 1.5, -0.1):
        with pytest.raises(SpecError, match="r_m"):
            common_method_bias(model, data, marker="mk", ulmc=False, r_m=bad)
    negative = data.assign(mk=-data["mk"] - 0.2 * data[["a1", "a2", "a3"]].sum(axis=1))
    none_positive = common_method_bias(model, negative, marker="mk", ulmc=False).marker
    assert none_positive.r_m == 0.0 and "no adjustment" in none_positive.notes[0]


def test_marker_construct_significance_can_change():
    # Constructs correlating .2 (latent) in N = 100: significant before, not after r_M = .12.
    names = ["a1", "a2", "a3", "b1", "b2", "b3", "mk"]
    corr = np.full((7, 7), 0.2 * 0.64)
    corr[:3, :3] = corr[3:6, 3:6] = 0.64
    corr[6, :6] = corr[:6, 6] = 0.12
    np.fill_diagonal(corr, 1.0)
    data = _exact_data(corr, names, 100, seed=3)
    mk = common_method_bias("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3", data, marker="mk",
                            ulmc=False).marker
    c = mk.constructs.iloc[0]
    assert c["r"] == pytest.approx(0.2, abs=1e-6)
    assert c["significant"] and not c["significant_adj"] and c["changed"]
    assert mk.n_changed == 1


# ---------------------------------------------------------------------------------------------
# ULMC recovery
# ---------------------------------------------------------------------------------------------

LAMBDAS = (0.85, 0.75, 0.6, 0.5)
BLOCKS = {f: [f"{f.lower()}{k}" for k in range(1, 5)] for f in "ABC"}
SUBSTANTIVE = "\n".join(f"{f} =~ " + " + ".join(v) for f, v in BLOCKS.items())


def _population(method: float) -> str:
    text = "\n".join(f"{f} =~ " + " + ".join(f"{lam}*{i}" for lam, i in zip(LAMBDAS, v))
                     for f, v in BLOCKS.items())
    text += "\nA ~~ 0.3*B\nA ~~ 0.3*C\nB ~~ 0.3*C\n"
    if method:
        text += "CMV =~ " + " + ".join(f"{method}*{i}" for v in BLOCKS.values() for i in v)
    return text


def test_ulmc_recovers_the_method_variance():
    data = cs.simulate(SUBSTANTIVE, 2000, population=_population(0.4), seed=1)
    out = common_method_bias(SUBSTANTIVE, data)
    u = out.ulmc
    assert u.trustworthy, u.reason
    assert u.avg_method_variance == pytest.approx(0.16, abs=0.03)
    assert u.avg_substantive_variance == pytest.approx(np.mean(np.square(LAMBDAS)), abs=0.03)
    assert u.ratio == pytest.approx(u.avg_substantive_variance / u.avg_method_variance)
    assert u.df_diff == 1 and u.p_value < 1e-6
    # std.all of the method loadings: one unstandardized value over each item's implied SD,
    # which is close to the sample SD in a well-fitting model
    sd = np.sqrt(data[list(u.items["item"])].var(ddof=0).to_numpy())
    np.testing.assert_allclose(u.items["method_loading"] * sd,
                               np.full(12, u.method_loading), rtol=1e-2)
    # the population's first eigenvalue share, for orientation: .16 method variance does not
    # push Harman past 50%, which is the test's known weakness
    assert out.harman.pca_share < HARMAN_THRESHOLD


def test_ulmc_without_method_variance_finds_little():
    data = cs.simulate(SUBSTANTIVE, 2000, population=_population(0.0), seed=2)
    u = common_method_bias(SUBSTANTIVE, data).ulmc
    assert u.fitted
    assert u.avg_method_variance < 0.02
    assert u.p_value > 0.05


def _ten_constructs(n: int = 2000, seed: int = 1) -> tuple[str, pd.DataFrame]:
    """Ten correlated constructs (a general factor of loading 0.5) of three 1-7 items each,
    no method factor: ``benchmarks/bench_hostile.py``'s ``many_constructs(10, 3, 2000)``."""
    rng = np.random.default_rng(seed)
    cols, lines = {}, []
    g = rng.standard_normal(n)
    for c in range(10):
        f = 0.5 * g + 0.87 * rng.standard_normal(n)
        items = [f"x{c}_{j}" for j in range(3)]
        lines.append(f"F{c} =~ " + " + ".join(items))
        for it in items:
            x = 0.7 * f + 0.7 * rng.standard_normal(n)
            cols[it] = np.clip(np.round(4 + 1.3 * x), 1, 7).astype(int)
    return "\n".join(lines), pd.DataFrame(cols)


def test_method_factor_at_its_bound_matches_lavaan_without_fitting_the_ulmc(monkeypatch):
    # lavaan 0.6-14, cfa(ulmc_syntax(model), data, std.lv = TRUE) on these data (written to
    # CSV): converged, cmv_m = 1.1e-05 (std.all 0.000009), chisq 362.995167, df 359,
    # pvalue 0.431165, cfi 0.999719, tli 0.999660, rmsea 0.002359, srmr 0.014790; std.all of
    # F0 =~ x0_0, x0_1, x0_2: 0.655791, 0.680361, 0.726935.  Fisher scoring cannot stop at
    # m = 0 (the loading's information vanishes there) and ran to BFGS: 2.8 s, unconverged.
    model, data = _ten_constructs()
    from cbec_sem.measurement import method_bias

    quiet = method_bias._quiet_fit

    def no_ulmc_fit(what, *args, **kwargs):
        assert what != "ULMC model", "the ULMC model was fitted"
        return quiet(what, *args, **kwargs)

    monkeypatch.setattr(method_bias, "_quiet_fit", no_ulmc_fit)
    u = common_method_bias(model, data).ulmc
    assert u.fitted and u.trustworthy and "bound 0" in u.reason
    want = dict(chisq=362.995167, df=359, pvalue=0.431165, cfi=0.999719, tli=0.999660,
                rmsea=0.002359, srmr=0.014790)
    for key, value in want.items():
        assert u.fit[key] == pytest.approx(value, abs=1e-5), key
    items = u.items.set_index("item")
    for item, value in (("x0_0", 0.655791), ("x0_1", 0.680361), ("x0_2", 0.726935)):
        assert items.loc[item, "substantive_loading"] == pytest.approx(value, abs=1e-5)
    assert u.method_loading == 0.0 and u.avg_method_variance == 0.0
    assert u.df_diff == 1 and u.chisq_diff == pytest.approx(0.0, abs=1e-6)
    assert u.p_value == pytest.approx(1.0)


def test_boundary_test_at_the_substantive_fit_equals_the_one_at_a_std_lv_fit(monkeypatch):
    # the score test uses the substantive fit itself where fixing latent variances instead of
    # first loadings is the same model (_scale_free), else a std_lv fit: same answer
    from cbec_sem.measurement import method_bias

    model, data = _ten_constructs(n=600, seed=4)
    reused = common_method_bias(model, data).ulmc
    monkeypatch.setattr(method_bias, "_scale_free", lambda spec: False)
    refitted = common_method_bias(model, data).ulmc
    assert "bound 0" in reused.reason and reused.reason == refitted.reason
    pd.testing.assert_series_equal(reused.fit, refitted.fit, rtol=1e-6)
    pd.testing.assert_frame_equal(reused.items, refitted.items, rtol=1e-6)


@pytest.mark.parametrize("text, same", [
    ("F =~ x1 + x2 + x3\nG =~ x4 + x5 + x6\nG ~ F", True),
    ("F =~ x1 + a*x2 + a*x3\nG =~ x4 + x5 + x6", False),
    ("F =~ x1 + 0.8*x2 + x3\nG =~ x4 + x5 + x6", False),
    ("F =~ NA*x1 + x2 + x3\nF ~~ 1*F", False),
    ("F =~ x1 + x2 + x3\nG =~ x4 + x5 + x6\nG ~ 0.5*F", False),
    ("F =~ x1 + x2 + x3\nx1 ~~ 0.2*x1", True),
    ("F =~ x1 + b*x2 + c*x3\nb == c", False),
])
def test_scale_free_models(text, same):
    from cbec_sem.measurement import method_bias

    assert method_bias._scale_free(cs.ModelSpec.from_lavaan(text)) is same


def test_method_variance_slope_is_the_derivative_of_the_fit_function():
    # closed form: F(s) = log|Sigma + s 11'| + tr(S (Sigma + s 11')^-1) - log|S| - p, its
    # forward difference at s = 0 against the score of _method_variance_slope
    from cbec_sem.measurement import method_bias

    model, data = _ten_constructs(n=500, seed=3)
    res = cs.fit(model, data, std_lv=True)
    est = res.estimation
    S = est.stats.covs[0]
    sigma = est.ram.moments(est.theta)[0].sigma
    one = np.ones(len(est.stats.names))

    def F(s):
        implied = sigma + s * np.outer(one, one)
        return (np.linalg.slogdet(implied)[1] + np.trace(S @ np.linalg.inv(implied))
                - np.linalg.slogdet(S)[1] - len(one))

    h = 1e-7
    scale = one @ np.linalg.solve(sigma, one)
    got = method_bias._method_variance_slope(res, model_items(cs.ModelSpec.from_lavaan(model)))
    assert got * scale == pytest.approx((F(h) - F(0.0)) / h, rel=1e-4)


# ---------------------------------------------------------------------------------------------
# the paper model (higher order) and the bundled example
# ---------------------------------------------------------------------------------------------


def test_higher_order_method_factor_loads_on_items_only():
    model = cs.paper_model()
    text, factor, label = ulmc_syntax(model)
    spec = cs.ModelSpec.from_lavaan(text)
    method = [s.rhs for s in spec.statements if s.op == "=~" and s.lhs == factor]
    assert method == list(model_items(model))
    assert not {"VP", "FO", "IS", "SCI"} & set(method)
    assert all(s.labels == (label,) for s in spec.statements
               if s.op == "=~" and s.lhs == factor)
    zero = {(s.lhs, s.rhs) for s in spec.statements if s.op == "~~" and s.fixed == (0.0,)}
    assert zero == {(factor, "TA"), (factor, "PC")}  # the exogenous constructs
    assert model.to_lavaan().strip() in text


def test_fresh_names_do_not_collide():
    model = cs.ModelSpec.from_lavaan("CMV =~ a + b + cmv_m*c\nF =~ d + e + f")
    text, factor, label = ulmc_syntax(model)
    assert factor == "CMV2" and label == "cmv_m2"
    cs.ModelSpec.from_lavaan(text)


def test_example_battery(example_battery):
    out = example_battery
    assert isinstance(out, MethodBiasResult)
    assert out.n == 400 and len(out.items) == 20
    h = out.harman
    assert h.defined and h.flagged is False and 0.2 < h.pca_share < 0.3
    assert h.factor_share < h.pca_share  # ML loadings leave uniqueness out
    assert h.single_factor_fit["cfi"] < 0.6 < h.substantive_fit["cfi"]
    assert h.df_diff == 8 and h.p_value < 1e-100
    u = out.ulmc
    assert u.trustworthy and u.df_diff == 1
    assert u.avg_method_variance < 0.05 < 0.4 < u.avg_substantive_variance
    assert list(u.paths["lhs"] + u.paths["op"] + u.paths["rhs"]) == [
        "FA~TA", "SCI~TA", "SCI~FA", "SCI~PC"]
    assert u.paths["change"].abs().max() < 0.1
    table = out.table
    assert list(table.columns) == ["test", "statistic", "value", "threshold", "flagged",
                                   "caveat"]
    assert set(table["test"]) == {"Harman", "ULMC"}
    assert table["caveat"].str.len().gt(100).all()
    text = out.summary()
    for needle in ("Harman", "ULMC", "Fuller", "Podsakoff", "Liang"):
        assert needle in text


def test_fit_result_input_reuses_the_fit(example, example_battery):
    res = cs.fit(cs.paper_model(), example)
    out = common_method_bias(res, ulmc=False)
    assert out.harman.pca_share == pytest.approx(example_battery.harman.pca_share, rel=1e-12)
    assert out.harman.substantive_fit["chisq"] == pytest.approx(res.fit_measures["chisq"])
    assert out.ulmc is None
    with pytest.raises(DataError, match="marker"):
        common_method_bias(res, marker="m1")


def test_latent_correlations_of_the_example(example):
    res = cs.fit(cs.paper_model(), example)
    lat = latent_correlations(res)
    assert list(lat.index) == ["TA", "FA", "PC", "VP", "FO", "IS", "SCI"]
    np.testing.assert_allclose(np.diag(lat), 1.0)
    p = res.params.set_index(["lhs", "op", "rhs"])
    assert lat.loc["TA", "PC"] == pytest.approx(p.loc[("TA", "~~", "PC"), "std.all"])
    assert lat.loc["TA", "FA"] == pytest.approx(p.loc[("FA", "~", "TA"), "std.all"])


def test_example_with_a_marker(example):
    rng = np.random.default_rng(5)
    data = example.assign(mk=rng.integers(1, 8, len(example)))
    out = common_method_bias(cs.paper_model(), data, marker="mk", ulmc=False)
    mk = out.marker
    assert 0 <= mk.r_m < 0.2
    # hierarchy pairs (SCI with VP/FO/IS) are loadings, not construct correlations
    pairs = set(zip(mk.constructs["var1"], mk.constructs["var2"]))
    assert len(pairs) == 21 - 3 and ("VP", "SCI") not in pairs
    assert len(mk.items) == 190


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_marker_not_in_data(hs):
    with pytest.raises(DataError, match="'agey'.*not a column.*'ageyr'"):
        common_method_bias(HS_MODEL, hs, marker="agey")


def test_marker_that_is_an_item(hs):
    with pytest.raises(SpecError, match="'x4' is an item.*textual"):
        common_method_bias(HS_MODEL, hs, marker="x4")


def test_marker_that_is_another_model_variable(hs):
    with pytest.raises(SpecError, match="variable of the model"):
        common_method_bias("f =~ x1 + x2 + x3\nf ~ ageyr", hs, marker="ageyr")


def test_constant_marker(hs):
    with pytest.raises(DataError, match="'mk' has zero variance"):
        common_method_bias(HS_MODEL, hs.assign(mk=3.0), marker="mk")
    with pytest.raises(DataError, match="not numeric"):
        common_method_bias(HS_MODEL, hs.assign(mk="a"), marker="mk")


def test_one_item_model_is_not_defined(hs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CbecSemWarning)
        out = common_method_bias("f =~ x1", hs)
    assert not out.harman.defined
    assert "at least two items" in out.harman.reason
    assert np.isnan(out.harman.pca_share) and out.harman.flagged is None
    assert not out.ulmc.fitted and "at least two items" in out.ulmc.reason
    assert out.table["flagged"].isna().all()
    assert "not defined" in out.summary()


def test_two_items_give_pca_but_no_factor_share(hs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CbecSemWarning)
        out = common_method_bias("f =~ x1 + x2", hs)
    assert out.harman.defined and np.isfinite(out.harman.pca_share)
    assert np.isnan(out.harman.factor_share) and "not identified" in out.harman.reason


def test_non_converged_ulmc_is_reported(hs):
    with pytest.warns(CbecSemWarning) as caught:
        out = common_method_bias("f =~ x1 + x2\ng =~ x3 + x4", hs)
    assert any(str(w.message).startswith("ULMC model: ") for w in caught)
    assert any(str(w.message).startswith("substantive model: ") for w in caught)
    u = out.ulmc
    assert u.fitted and not u.trustworthy and u.reason
    assert "NOT TRUSTWORTHY" in out.summary()


def test_missing_rows_are_dropped_once_for_every_part(hs):
    data = hs.copy()
    data.loc[:9, "x1"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CbecSemWarning)
        out = common_method_bias(HS_MODEL, data, ulmc=False)
    assert out.n == 291 and "dropped 10 of 301" in out.notes[0]


def test_inputs_are_not_mutated(hs):
    before = hs.copy()
    common_method_bias(HS_MODEL, hs, marker="ageyr", ulmc=False)
    pd.testing.assert_frame_equal(hs, before)
