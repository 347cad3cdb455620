"""Discriminant validity: HTMT/HTMT2 equal semTools 0.5-6; the vectorised bootstrap equals a
per-draw loop on the same resamples; Fornell–Larcker and cross-loadings equal lavaan's latent
correlations and standardised loadings.

References: ``tests/fixtures/semtools/htmt_{hs,bfi}.json`` (semTools ``htmt()``),
``reliability_{hs,paper}.json`` (``lavInspect(fit, "cor.lv")``, ``AVE()``, std.all loadings),
and the published HS HTMT values (.424, .467, .290).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import DataError, SpecError
from cbec_sem.measurement import (
    HTMTResult,
    cross_loadings,
    factor_scores,
    fornell_larcker,
    htmt,
    reliability,
)
from cbec_sem.measurement.discriminant import _design, _htmt_values, resample_indices

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
TOL = 1e-3


def _fixture(name: str) -> dict:
    path = FIXTURES / "semtools" / f"{name}.json"
    if not path.exists():
        pytest.skip(f"fixture {path.name} not written yet")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def hs():
    return cs.datasets.holzinger_swineford_1939()


@pytest.fixture(scope="module")
def hs_fit(hs):
    return cs.fit(HS_MODEL, hs)


# ----------------------------------------------------------------------------- HTMT values


def test_published_hs_htmt(hs):
    res = htmt(HS_MODEL, hs)
    assert isinstance(res, HTMTResult)
    values = res.table.set_index("pair")["htmt"]
    assert values["visual-textual"] == pytest.approx(0.424, abs=5e-4)
    assert values["visual-speed"] == pytest.approx(0.467, abs=5e-4)
    assert values["textual-speed"] == pytest.approx(0.290, abs=5e-4)
    assert res.nobs == 301 and res.bootstrap == 0 and res.draws is None


@pytest.mark.parametrize("name", ["htmt_hs", "htmt_bfi"])
@pytest.mark.parametrize("variant", ["htmt", "htmt2"])
def test_htmt_equals_semtools(name, variant):
    fx = _fixture(name)
    data = pd.read_csv(REPO / fx["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.errors.DataWarning)
        res = htmt(fx["model"], data, htmt2=(variant == "htmt2"))
    assert res.nobs == fx["n_rows_used"]
    ref = np.array(fx[variant]["matrix"], dtype=float)
    assert list(res.matrix.index) == fx[variant]["rownames"]
    ours = res.matrix.to_numpy()
    low = np.tril_indices_from(ref, k=-1)
    np.testing.assert_allclose(ours[low], ref[low], atol=TOL)
    np.testing.assert_allclose(np.diag(ours), 1.0)
    assert np.isnan(ours[np.triu_indices_from(ref, k=1)]).all()


def test_table_order_is_semtools_lower_triangle(hs):
    res = htmt(HS_MODEL, hs)
    assert res.table["pair"].tolist() == ["visual-textual", "visual-speed", "textual-speed"]
    assert list(res.table.columns) == ["construct_1", "construct_2", "pair", "htmt",
                                       "below_085", "below_090", "note"]
    assert res.table["below_085"].tolist() == [True, True, True]


def test_fit_result_input_equals_model_and_data(hs, hs_fit):
    a = htmt(hs_fit)
    b = htmt(HS_MODEL, hs)
    c = htmt(cs.ModelSpec.from_lavaan(HS_MODEL), hs)
    pd.testing.assert_frame_equal(a.matrix, b.matrix)
    pd.testing.assert_frame_equal(b.matrix, c.matrix)
    d = htmt(hs_fit, hs.iloc[:200])
    assert d.nobs == 200


def test_signed_correlations_option(hs):
    # visual-textual: every correlation positive, so absolute values change nothing;
    # visual-speed: r(x2, x7) = -.08 < 0, so they do
    a = htmt(HS_MODEL, hs, absolute=False).table["htmt"].to_numpy()
    b = htmt(HS_MODEL, hs).table["htmt"].to_numpy()
    assert a[0] == pytest.approx(b[0], rel=1e-12)
    assert a[1] < b[1]
    # a reversed item changes signed HTMT, not semTools' default absolute one
    flipped = hs.assign(x2=-hs["x2"])
    c = htmt(HS_MODEL, flipped, absolute=False).table["htmt"].to_numpy()
    assert not np.allclose(c, b)
    np.testing.assert_allclose(htmt(HS_MODEL, flipped).table["htmt"], b)


def test_hand_computed_htmt(hs):
    x = hs[[f"x{k}" for k in range(1, 10)]].to_numpy()
    r = np.abs(np.corrcoef(x, rowvar=False))
    blocks = {"visual": [0, 1, 2], "textual": [3, 4, 5], "speed": [6, 7, 8]}

    def mono(ix, geo=False):
        vals = [r[i, j] for i in ix for j in ix if i < j]
        return np.exp(np.mean(np.log(vals))) if geo else np.mean(vals)

    def het(a, b, geo=False):
        vals = r[np.ix_(a, b)].ravel()
        return np.exp(np.mean(np.log(vals))) if geo else np.mean(vals)

    v, t = blocks["visual"], blocks["textual"]
    expect = het(v, t) / np.sqrt(mono(v) * mono(t))
    expect2 = het(v, t, True) / np.sqrt(mono(v, True) * mono(t, True))
    assert htmt(HS_MODEL, hs).matrix.at["textual", "visual"] == pytest.approx(expect, rel=1e-12)
    assert htmt(HS_MODEL, hs, htmt2=True).matrix.at["textual", "visual"] == pytest.approx(
        expect2, rel=1e-12)


# ----------------------------------------------------------------------------- bootstrap


def test_bootstrap_reproducible(hs):
    a = htmt(HS_MODEL, hs, bootstrap=300, seed=11)
    b = htmt(HS_MODEL, hs, bootstrap=300, seed=11)
    c = htmt(HS_MODEL, hs, bootstrap=300, seed=12)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    assert not np.allclose(a.draws.to_numpy(), c.draws.to_numpy())
    g = htmt(HS_MODEL, hs, bootstrap=300, seed=np.random.default_rng(11))
    pd.testing.assert_frame_equal(a.draws, g.draws)


def _brute_force(x, indicators, draws, seed, htmt2=False):
    """Per draw: resample the rows, np.corrcoef, the HTMT formula written out with loops."""
    names = list(indicators)
    items = [v for vs in indicators.values() for v in vs]
    pos = {v: k for k, v in enumerate(items)}
    rng = np.random.default_rng(seed)
    out = []
    for idx in resample_indices(rng, x.shape[0], draws):
        for rows in idx:
            r = np.abs(np.corrcoef(x[rows], rowvar=False))
            mean = (lambda v: np.exp(np.mean(np.log(v)))) if htmt2 else np.mean
            mono = {}
            for c in names:
                ix = [pos[v] for v in indicators[c]]
                mono[c] = mean([r[i, j] for i in ix for j in ix if i < j])
            vals = []
            for a in range(len(names)):
                for b in range(a + 1, len(names)):
                    ia = [pos[v] for v in indicators[names[a]]]
                    ib = [pos[v] for v in indicators[names[b]]]
                    h = mean(r[np.ix_(ia, ib)].ravel())
                    vals.append(h / np.sqrt(mono[names[a]] * mono[names[b]]))
            out.append(vals)
    return np.array(out)


@pytest.mark.parametrize("htmt2", [False, True])
def test_bootstrap_equals_brute_force_with_same_draws(hs, htmt2):
    indicators = {"visual": ("x1", "x2", "x3"), "textual": ("x4", "x5", "x6"),
                  "speed": ("x7", "x8", "x9")}
    x = hs[[f"x{k}" for k in range(1, 10)]].to_numpy(dtype=float)
    slow = _brute_force(x, indicators, 200, seed=5, htmt2=htmt2)
    fast = htmt(HS_MODEL, hs, bootstrap=200, seed=5, htmt2=htmt2)
    np.testing.assert_allclose(fast.draws.to_numpy(), slow, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.table["se"], slow.std(axis=0, ddof=1), rtol=1e-8)


def test_bootstrap_summaries_follow_their_definitions(hs):
    res = htmt(HS_MODEL, hs, bootstrap=400, seed=3, level=0.90)
    d = res.draws.to_numpy()
    t = res.table
    np.testing.assert_allclose(t["se"], d.std(axis=0, ddof=1))
    np.testing.assert_allclose(t["ci.lower"], np.quantile(d, 0.05, axis=0))
    np.testing.assert_allclose(t["ci.upper"], np.quantile(d, 0.95, axis=0))
    np.testing.assert_allclose(t["upper_1s"], np.quantile(d, 0.90, axis=0))
    np.testing.assert_allclose(t["p_below_1"], (1 + (d >= 1).sum(axis=0)) / (1 + 400))
    assert (t["n_draws"] == 400).all()
    # verdicts judge the one-sided upper bound with a bootstrap
    assert t["below_085"].tolist() == (t["upper_1s"] < 0.85).tolist()
    assert list(t.columns) == ["construct_1", "construct_2", "pair", "htmt", "se", "ci.lower",
                               "ci.upper", "upper_1s", "p_below_1", "n_draws", "below_085",
                               "below_090", "note"]


def test_verdicts_near_one():
    # two constructs whose items are barely distinguishable: HTMT near 1
    rng = np.random.default_rng(0)
    f = rng.normal(size=(400, 1))
    x = f @ np.full((1, 6), 0.8) + rng.normal(scale=0.6, size=(400, 6))
    data = pd.DataFrame(x, columns=[f"y{k}" for k in range(6)])
    model = "A =~ y0 + y1 + y2\nB =~ y3 + y4 + y5"
    res = htmt(model, data, bootstrap=500, seed=1, thresholds=(0.85, 0.9, 0.95))
    row = res.table.iloc[0]
    assert row["htmt"] == pytest.approx(1.0, abs=0.05)
    assert not row["below_085"] and not row["below_090"] and not row["below_095"]
    assert row["p_below_1"] > 0.05


def test_single_item_construct_and_higher_order_are_reported(hs):
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4\nspeed =~ x7 + x8 + x9"
    res = htmt(model, hs)
    t = res.table.set_index("pair")
    assert np.isnan(t.at["visual-textual", "htmt"]) and np.isnan(t.at["textual-speed", "htmt"])
    assert t.at["visual-speed", "htmt"] == pytest.approx(0.467, abs=5e-4)
    assert pd.isna(t.at["visual-textual", "below_085"])
    assert t.at["visual-textual", "note"].startswith("not defined")
    assert any("textual has a single item" in n for n in res.notes)
    paper = htmt(cs.paper_model(), cs.datasets.example_survey())
    assert "SCI" not in paper.matrix.index
    assert any(n.startswith("SCI is measured by latent variables") for n in paper.notes)
    assert len(paper.table) == 15  # six first-order constructs


def test_htmt_errors(hs):
    with pytest.raises(DataError, match="needs data"):
        htmt(HS_MODEL)
    with pytest.raises(DataError):
        htmt(HS_MODEL, hs.drop(columns="x5"))
    with pytest.raises(SpecError, match="at least two constructs"):
        htmt("f =~ x1 + x2 + x3", hs)
    with pytest.raises(SpecError, match="bootstrap"):
        htmt(HS_MODEL, hs, bootstrap=-1)
    with pytest.raises(SpecError, match="level"):
        htmt(HS_MODEL, hs, level=95)
    fit_g = cs.fit(HS_MODEL, hs, group="school")
    with pytest.raises(SpecError, match="multi-group"):
        htmt(fit_g)


def test_design_weights_average_the_right_pairs():
    d = _design({"a": ("p", "q", "r"), "b": ("s", "t")})
    assert d.w_mono.shape == (2, 10)
    np.testing.assert_allclose(d.w_mono.sum(axis=1), 1.0)
    np.testing.assert_allclose(d.w_het.sum(axis=1), 1.0)
    # (sparse weights: .nnz counts the stored, i.e. non-zero, entries)
    assert d.w_mono[0].nnz == 3 and d.w_mono[1].nnz == 1
    assert d.w_het[0].nnz == 6
    r = np.full((1, 10), 0.5)
    np.testing.assert_allclose(_htmt_values(r, d, False, True), 1.0)


# ----------------------------------------------------------------------------- Fornell–Larcker


def test_fornell_larcker_hs(hs_fit):
    fx = _fixture("reliability_hs")
    fl = fornell_larcker(hs_fit)
    names = fx["cor_lv"]["rownames"]
    ref = np.array(fx["cor_lv"]["matrix"])
    mat = fl.loc[names, names].to_numpy()
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(mat[off], ref[off], atol=TOL)
    ave = np.array([fx["AVE"]["values"][n] for n in names])
    np.testing.assert_allclose(np.diag(mat), np.sqrt(ave), atol=TOL)
    np.testing.assert_allclose(fl["max_abs_r"], np.nanmax(np.where(off, np.abs(ref), np.nan),
                                                          axis=1), atol=TOL)
    assert fl["passes"].tolist() == [True, True, True]
    std = fornell_larcker(hs_fit, ave="std")
    rel = reliability(hs_fit).set_index("construct")
    np.testing.assert_allclose(np.diag(std.loc[names, names]), np.sqrt(rel["ave.std"]))


def test_fornell_larcker_higher_order_and_failures():
    fx = _fixture("reliability_paper")
    res = cs.fit(fx["model"], pd.read_csv(REPO / fx["data"]))
    fl = fornell_larcker(res)
    assert list(fl.index) == ["TA", "FA", "PC", "VP", "FO", "IS"]  # SCI has no AVE
    ref = pd.DataFrame(fx["cor_lv"]["matrix"], index=fx["cor_lv"]["rownames"],
                       columns=fx["cor_lv"]["colnames"])
    assert fl.at["TA", "FA"] == pytest.approx(ref.at["TA", "FA"], abs=TOL)
    assert fl.at["VP", "FO"] == pytest.approx(ref.at["VP", "FO"], abs=TOL)
    # a construct correlating .95 with another fails
    rng = np.random.default_rng(1)
    f = rng.multivariate_normal([0, 0], [[1, 0.95], [0.95, 1]], size=500)
    x = np.hstack([f[:, [0]] * 0.7 + rng.normal(scale=0.7, size=(500, 3)),
                   f[:, [1]] * 0.7 + rng.normal(scale=0.7, size=(500, 3))])
    data = pd.DataFrame(x, columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    fl2 = fornell_larcker(cs.fit("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3", data))
    assert fl2["passes"].tolist() == [False, False]


def test_fornell_larcker_one_indicator_and_multigroup(hs):
    res = cs.fit("visual =~ x1 + x2 + x3\ntextual =~ x4\nspeed =~ x7 + x8 + x9\nx4 ~~ 0.2*x4",
                 hs)
    fl = fornell_larcker(res)
    assert np.isnan(fl.at["textual", "textual"])
    assert pd.isna(fl.at["textual", "passes"])
    assert "one indicator" in fl.at["textual", "note"]
    fit_g = cs.fit(HS_MODEL, hs, group="school")
    flg = fornell_larcker(fit_g)
    assert flg.index.names == ["group", "construct"]
    assert len(flg) == 6
    relg = reliability(fit_g).set_index(["group", "construct"])
    for key in flg.index:
        assert flg.at[key, key[1]] == pytest.approx(np.sqrt(relg.at[key, "ave"]))


# ----------------------------------------------------------------------------- cross-loadings


def test_cross_loadings_are_structure_coefficients(hs_fit):
    fx = _fixture("reliability_hs")
    cl = cross_loadings(hs_fit)
    lam = pd.DataFrame(fx["std_lambda"]["matrix"], index=fx["std_lambda"]["rownames"],
                       columns=fx["std_lambda"]["colnames"])
    cor = pd.DataFrame(fx["cor_lv"]["matrix"], index=fx["cor_lv"]["rownames"],
                       columns=fx["cor_lv"]["colnames"])
    # own factor: the std.all loading; other factors: loading × latent correlation
    expect = lam.to_numpy() @ cor.to_numpy()
    np.testing.assert_allclose(cl.loc[lam.index, lam.columns].to_numpy(), expect, atol=TOL)
    assert cl.index.name == "item"


def test_cross_loadings_scores_kind(hs_fit):
    cl = cross_loadings(hs_fit, kind="scores")
    scores = factor_scores(hs_fit)
    x = hs_fit.estimation.stats.data[0]
    for j, item in enumerate(hs_fit.estimation.stats.names):
        for lv in scores.columns:
            r = np.corrcoef(x[:, j], scores[lv])[0, 1]
            assert cl.at[item, lv] == pytest.approx(r, abs=1e-10)
    # own-factor score correlations exceed the structure coefficients here (scores vary
    # less than the factors)
    structure = cross_loadings(hs_fit)
    for item, lv in [("x1", "visual"), ("x4", "textual"), ("x8", "speed")]:
        assert cl.at[item, lv] > structure.at[item, lv]
    with pytest.raises(SpecError, match="kind="):
        cross_loadings(hs_fit, kind="pls")


def test_cross_loadings_multigroup(hs):
    fit_g = cs.fit(HS_MODEL, hs, group="school")
    cl = cross_loadings(fit_g)
    assert cl.index.names == ["group", "item"]
    assert cl.shape == (18, 3)
