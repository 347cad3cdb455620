"""Necessary condition analysis (cs.nca) against NCA 5.0.1 on ``nca.example``, and against a
slow, obviously-correct reference implementation written here from Dul (2016).

Fixtures: tests/fixtures/nca/ (see its README for where they come from).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

import cbec_sem as cs
from cbec_sem.errors import DataError, DataWarning, SpecError
from cbec_sem.propositions.necessity import _layout, ceilings_batch, nca

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "nca"
OUT = "Innovation performance"
TOL = 1e-6


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "nca_example.csv")


@pytest.fixture(scope="module")
def result(example):
    return nca(example, ["Individualism", "Risk taking"], OUT, permutations=10000, seed=2024)


# ----------------------------------------------------------------- slow reference (Dul 2016)

def slow_nca(x, y, scope=None) -> dict:
    """CE-FDH and CR-FDH by definition, one observation at a time."""
    x = [float(v) for v in x]
    y = [float(v) for v in y]
    x0, x1, y0, y1 = scope or (min(x), max(x), min(y), max(y))
    area = (x1 - x0) * (y1 - y0)

    def ceiling(t):  # the free disposal hull step: highest y at or left of t
        below = [yj for xj, yj in zip(x, y) if xj <= t]
        return max(below) if below else y0

    knots = sorted({x0, x1, *x})
    ce_zone = sum((y1 - ceiling(a)) * (b - a) for a, b in zip(knots[:-1], knots[1:]))
    # Peers: upper-left corner points; duplicates of a corner point are peers too.
    peers = [
        (xi, yi) for xi, yi in zip(x, y)
        if not any((xj <= xi and yj > yi) or (xj < xi and yj >= yi) for xj, yj in zip(x, y))
    ]
    px = np.array([p[0] for p in peers])
    py = np.array([p[1] for p in peers])
    if np.unique(px).size > 1:
        slope, intercept = np.polyfit(px, py, 1)
    else:
        slope, intercept = 0.0, py[0]

    def gap(t):
        return y1 - min(max(intercept + slope * t, y0), y1)

    kinks = [t for t in ((y0 - intercept) / slope, (y1 - intercept) / slope)
             if x0 < t < x1] if slope > 0 else []
    cr_zone = integrate.quad(gap, x0, x1, points=kinks or None, epsabs=1e-13, epsrel=1e-13)[0]
    return {"ce_d": ce_zone / area, "cr_d": cr_zone / area, "ce_zone": ce_zone,
            "cr_zone": cr_zone, "slope": slope, "intercept": intercept, "npeers": len(peers)}


def likert_data(n=120, seed=5):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 8, n).astype(float)
    y = np.minimum(rng.integers(1, 8, n), x + rng.integers(0, 4, n)).astype(float)
    return x, y


# ------------------------------------------------------------------------ NCA 5.0.1 reference

def test_effects_match_nca_individualism(result):
    ref = pd.read_csv(FIXTURES / "nca_example_individualism_effects.csv").set_index("ceiling")
    ours = result.effects[result.effects["condition"] == "Individualism"].set_index("ceiling")
    pairs = {"ceiling_zone": "ceiling_zone", "d": "effect_size", "n_above": "n_above",
             "fit": "fit", "accuracy": "ceiling_accuracy", "c_accuracy": "ceiling_accuracy",
             "abs_ineff": "abs_ineff", "rel_ineff": "rel_ineff", "cond_ineff": "cond_ineff",
             "outcome_ineff": "outcome_ineff"}
    for c in ("ce_fdh", "cr_fdh"):
        for mine, theirs in pairs.items():
            assert abs(ours.loc[c, mine] - ref.loc[c, theirs]) <= TOL, (c, mine)
    for mine in ("slope", "intercept"):
        assert abs(ours.loc["cr_fdh", mine] - ref.loc["cr_fdh", mine]) <= TOL
        assert np.isnan(ours.loc["ce_fdh", mine])


def test_published_values(result):
    eff = result.effects.set_index(["condition", "ceiling"])
    published = {
        ("Individualism", "ce_fdh"): {"d": 0.4155},
        ("Individualism", "cr_fdh"): {"d": 0.3066, "slope": 2.2302, "intercept": 28.3527},
        ("Risk taking", "ce_fdh"): {"d": 0.3094},
        ("Risk taking", "cr_fdh"): {"d": 0.2819, "slope": 2.6419, "intercept": -14.4777},
    }
    for key, values in published.items():
        for name, value in values.items():
            assert abs(eff.loc[key, name] - value) <= 5e-5, (key, name)


def test_p_value_within_monte_carlo_accuracy(result):
    """NCA's p is Monte Carlo (1000 permutations of R's generator): ours (10,000 permutations
    of numpy's) must agree within the two accuracies.  NCA's convention, p = (k + 1) /
    (reps + 1) (at least 1 / reps) and accuracy z.975 · sqrt(p (1 − p) / reps), is checked
    on NCA's own numbers and then on ours."""
    ref = pd.read_csv(FIXTURES / "nca_example_individualism_effects.csv").set_index("ceiling")
    ours = result.effects[result.effects["condition"] == "Individualism"].set_index("ceiling")
    for c in ("ce_fdh", "cr_fdh"):
        p_ref, acc_ref = ref.loc[c, "p_value"], ref.loc[c, "p_accuracy"]
        p, acc = ours.loc[c, "p_value"], ours.loc[c, "p_accuracy"]
        assert abs(p - p_ref) <= acc_ref + acc, (c, p, p_ref)
        k = round(p_ref * 1001) - 1
        assert abs((k + 1) / 1001 - p_ref) < 1e-12
        assert abs(1.959963984540054 * np.sqrt(p_ref * (1 - p_ref) / 1000) - acc_ref) < 1e-12
        null = result.null_distribution("Individualism", c)
        assert null.size == 10000
        assert p == max((np.sum(null >= ours.loc[c, "d"] - 1e-10) + 1) / 10001, 1 / 10000)
        assert abs(acc - 1.959963984540054 * np.sqrt(p * (1 - p) / 10000)) < 1e-12


def test_bottleneck_ce_fdh_actual_matches_nca(result):
    ref = pd.read_csv(FIXTURES / "nca_example_bottleneck_ce_fdh.csv")
    table = result.bottlenecks("actual", "ce_fdh", numeric=True)
    assert np.allclose(table.index.to_numpy(), ref["y_actual"], atol=TOL, rtol=0)
    for cond in ("Individualism", "Risk taking"):
        expected = ref[f"{cond} [x actual]"].to_numpy(dtype=float)
        got = table[cond].to_numpy(dtype=float)
        assert np.array_equal(np.isneginf(got), np.isneginf(expected))
        fin = np.isfinite(expected)
        assert np.allclose(got[fin], expected[fin], atol=TOL, rtol=0)
    shown = result.bottlenecks("actual", "ce_fdh")
    assert shown.iloc[0].tolist() == ["NN", "NN"]
    assert shown["Individualism"].iloc[-1] == 91


def test_bottleneck_percentage_and_cr(result, example):
    pct = result.bottlenecks("percentage", numeric=True)
    act = result.bottlenecks("actual", numeric=True)
    assert list(pct.index) == [float(v) for v in range(0, 101, 10)]
    for cond in ("Individualism", "Risk taking"):
        x = example[cond]
        for c in ("ce_fdh", "cr_fdh"):
            a = act[(c, cond)].to_numpy(dtype=float)
            p = pct[(c, cond)].to_numpy(dtype=float)
            fin = np.isfinite(a)
            assert np.allclose(p[fin], 100 * (a[fin] - x.min()) / (x.max() - x.min()))
            assert np.array_equal(np.isneginf(a), np.isneginf(p))
    # CR-FDH: x = (y - intercept) / slope where the line is inside the scope, else NN
    eff = result.effects.set_index(["condition", "ceiling"])
    a_, b_ = eff.loc[("Individualism", "cr_fdh"), ["intercept", "slope"]]
    req = (act.index.to_numpy() - a_) / b_
    col = act[("cr_fdh", "Individualism")].to_numpy(dtype=float)
    inside = req > example["Individualism"].min()
    assert np.allclose(col[inside], req[inside], atol=TOL, rtol=0)
    assert np.isneginf(col[~inside]).all()
    # more steps
    fine = nca(example, "Individualism", OUT, permutations=0, bottleneck_steps=20)
    assert len(fine.bottlenecks()) == 21


def test_single_corner_point():
    """The highest observation has the lowest X: nothing is necessary.  As NCA: d = 0, no
    CR-FDH line (slope and intercept NaN), inefficiencies NaN, every bottleneck level NN."""
    res = nca(None, np.array([1.0, 2, 3, 4]), np.array([5.0, 1, 2, 3]), permutations=100,
              seed=1)
    eff = res.effects.set_index("ceiling")
    assert (eff["d"] == 0).all() and (eff["n_above"] == 0).all()
    assert eff[["slope", "intercept", "cond_ineff", "outcome_ineff"]].isna().all().all()
    assert eff["p_value"].tolist() == [1.0, 1.0]
    assert (res.bottlenecks(numeric=True) == -np.inf).all().all()
    assert res.verdict().loc[0, "verdict"] == "not necessary"


def test_bottleneck_na_beyond_the_ceiling():
    # A CR-FDH line that stays below the top of the scope at the maximum X: NA there.
    x = np.array([1.0, 2, 3, 4, 5, 6])
    y = np.array([1.0, 3, 2, 5, 4, 6])
    res = nca(None, x, y, permutations=0, scope=(1, 6, 1, 9))
    col = res.bottlenecks("actual", "cr_fdh")["x"]
    assert col.iloc[-1] == "NA"
    assert res.bottlenecks("actual", "ce_fdh")["x"].iloc[-1] == "NA"


# ------------------------------------------------------------- vectorised = slow reference

@pytest.mark.parametrize("kind", ["continuous", "likert"])
def test_observed_equals_slow_reference(kind):
    if kind == "continuous":
        rng = np.random.default_rng(11)
        x = rng.uniform(0, 10, 60)
        y = x * rng.uniform(0, 1, 60)
    else:
        x, y = likert_data()
    slow = slow_nca(x, y)
    eff = nca(None, x, y, permutations=0).effects.set_index("ceiling")
    assert abs(eff.loc["ce_fdh", "d"] - slow["ce_d"]) < 1e-12
    assert abs(eff.loc["cr_fdh", "d"] - slow["cr_d"]) < 1e-10
    assert abs(eff.loc["cr_fdh", "slope"] - slow["slope"]) < 1e-10
    assert abs(eff.loc["cr_fdh", "intercept"] - slow["intercept"]) < 1e-10


@pytest.mark.parametrize("kind", ["continuous", "likert"])
def test_permutation_batch_equals_slow_reference(kind):
    """The batch computation of the permutation test gives the slow reference's d on each of
    a few explicit permutations (ties in X and duplicate peers included)."""
    if kind == "continuous":
        rng = np.random.default_rng(3)
        x = rng.normal(size=40)
        y = np.abs(x) + rng.normal(size=40)
    else:
        x, y = likert_data(80, seed=9)
    scope = (x.min(), x.max(), y.min(), y.max())
    area = (scope[1] - scope[0]) * (scope[3] - scope[2])
    lay = _layout(x)
    rng = np.random.default_rng(42)
    perms = np.array([rng.permutation(y.size) for _ in range(6)])
    Y = y[perms]  # each row: a permuted outcome, aligned with the original x
    got = ceilings_batch(Y[:, lay.order], lay, scope, want_cr=True)
    for b in range(Y.shape[0]):
        slow = slow_nca(x, Y[b])
        assert abs(got["ce_zone"][b] / area - slow["ce_d"]) < 1e-12
        assert abs(got["cr_zone"][b] / area - slow["cr_d"]) < 1e-10
        assert abs(got["cr_slope"][b] - slow["slope"]) < 1e-10
        assert abs(got["cr_intercept"][b] - slow["intercept"]) < 1e-10


def test_public_null_distribution_equals_slow_reference():
    """End to end: the permuted d the public API reports are the slow reference's d on the
    same permutations (regenerated here the way nca() draws them: the outcome aligned with
    the sorted condition, permuted row-wise by np.random.default_rng(seed).permuted)."""
    x, y = likert_data(50, seed=1)
    res = nca(None, x, y, permutations=500, seed=7)
    order = np.argsort(x, kind="stable")
    Y = np.random.default_rng(7).permuted(np.tile(y[order], (500, 1)), axis=1)
    for b in range(8):
        slow = slow_nca(x[order], Y[b])
        assert abs(res.null_distribution(ceiling="ce_fdh")[b] - slow["ce_d"]) < 1e-12
        assert abs(res.null_distribution(ceiling="cr_fdh")[b] - slow["cr_d"]) < 1e-10


def test_duplicate_corner_points_weigh_in_cr_fdh():
    """As in NCA, every observation on an upper-left corner is a peer: a duplicated corner
    point counts twice in the CR-FDH regression."""
    x = np.array([1.0, 1, 2, 3, 3, 2])
    y = np.array([1.0, 1, 3, 4, 2, 1])
    eff = nca(None, x, y, permutations=0).effects.set_index("ceiling")
    slope, intercept = np.polyfit([1, 1, 2, 3], [1, 1, 3, 4], 1)
    assert abs(eff.loc["cr_fdh", "slope"] - slope) < 1e-12
    assert abs(eff.loc["cr_fdh", "intercept"] - intercept) < 1e-12
    assert nca(None, x, y, permutations=0).peers().shape == (4, 2)


def test_theoretical_scope_equals_slow_reference():
    x, y = likert_data(70, seed=2)
    scope = (0.0, 8.0, 0.0, 10.0)
    slow = slow_nca(x, y, scope)
    eff = nca(None, x, y, permutations=0, scope=scope).effects.set_index("ceiling")
    assert eff.loc["ce_fdh", "scope"] == 80.0
    assert abs(eff.loc["ce_fdh", "d"] - slow["ce_d"]) < 1e-12
    assert abs(eff.loc["cr_fdh", "d"] - slow["cr_d"]) < 1e-10
    with pytest.raises(DataError, match="outside the scope"):
        nca(None, x, y, permutations=0, scope=(2, 8, 0, 10))


# ----------------------------------------------------------------------------- behaviour

def test_seed_reproducible(example):
    a = nca(example, "Individualism", OUT, permutations=2000, seed=99)
    b = nca(example, "Individualism", OUT, permutations=2000, seed=99)
    c = nca(example, "Individualism", OUT, permutations=2000, seed=100)
    pd.testing.assert_frame_equal(a.effects, b.effects)
    assert np.array_equal(a.null_distribution(), b.null_distribution())
    assert not np.array_equal(a.null_distribution(), c.null_distribution())


def test_constant_condition_is_a_data_error(example):
    df = example.assign(flat=5.0)
    with pytest.raises(DataError, match="'flat'"):
        nca(df, ["Individualism", "flat"], OUT, permutations=0)
    with pytest.raises(DataError, match="outcome"):
        nca(example.assign(z=1.0), "Individualism", "z", permutations=0)


def test_missing_values_dropped_and_counted(example):
    df = example.copy()
    df.loc[[2, 5], "Individualism"] = np.nan
    df.loc[7, OUT] = np.nan
    with pytest.warns(DataWarning, match="3 of 28"):
        res = nca(df, "Individualism", OUT, permutations=0)
    assert (res.n_used, res.n_dropped) == (25, 3)
    assert res.effects["n"].tolist() == [25, 25]
    complete = nca(df.dropna(subset=["Individualism", OUT]), "Individualism", OUT,
                   permutations=0)
    pd.testing.assert_frame_equal(res.effects, complete.effects)


def test_bad_arguments(example):
    with pytest.raises(DataError, match="did you mean 'Individualism'"):
        nca(example, "individualism", OUT)
    with pytest.raises(SpecError, match="unknown ceiling"):
        nca(example, "Individualism", OUT, ceilings=("c_lp",))
    with pytest.raises(SpecError, match="corner"):
        nca(example, "Individualism", OUT, corner=5)
    with pytest.raises(SpecError, match="permutations"):
        nca(example, "Individualism", OUT, permutations=-1)
    with pytest.raises(SpecError, match="both a condition and the outcome"):
        nca(example, OUT, OUT)
    with pytest.raises(DataError, match="not numeric"):
        nca(example, "country", OUT)


def test_arrays_and_series():
    x, y = likert_data()
    a = nca(None, x, y, permutations=0)
    assert a.conditions == ("x",) and a.outcome == "y"
    b = nca(None, pd.Series(x, name="TA"), pd.Series(y, name="FA"), permutations=0)
    assert b.conditions == ("TA",) and b.outcome == "FA"
    pd.testing.assert_series_equal(a.effects["d"], b.effects["d"])


def test_corners_mirror(example):
    """Corner 2 (upper-right empty) on mirrored X equals corner 1; the CR-FDH line is
    reported in the original units."""
    base = nca(example, "Individualism", OUT, permutations=0).effects.set_index("ceiling")
    mirrored = example.assign(Individualism=-example["Individualism"])
    c2 = nca(mirrored, "Individualism", OUT, permutations=0, corner=2).effects
    c2 = c2.set_index("ceiling")
    assert np.allclose(c2["d"], base["d"], atol=1e-12)
    assert abs(c2.loc["cr_fdh", "slope"] + base.loc["cr_fdh", "slope"]) < 1e-10
    assert abs(c2.loc["cr_fdh", "intercept"] - base.loc["cr_fdh", "intercept"]) < 1e-10
    flipped_y = example.assign(**{OUT: -example[OUT]})
    c3 = nca(flipped_y, "Individualism", OUT, permutations=0, corner=3).effects
    c3 = c3.set_index("ceiling")
    assert np.allclose(c3["d"], base["d"], atol=1e-12)
    assert abs(c3.loc["cr_fdh", "slope"] + base.loc["cr_fdh", "slope"]) < 1e-10
    assert abs(c3.loc["cr_fdh", "intercept"] + base.loc["cr_fdh", "intercept"]) < 1e-10
    with pytest.raises(SpecError, match="corner=1"):
        nca(mirrored, "Individualism", OUT, permutations=0, corner=2).bottlenecks()


def test_verdict():
    rng = np.random.default_rng(8)
    x = rng.uniform(0, 1, 200)
    y = x * rng.uniform(0, 1, 200)  # x is necessary for y: nothing above the diagonal
    strong = nca(None, x, y, permutations=1000, seed=1)
    v = strong.verdict()
    assert v.loc[0, "verdict"] == "necessary" and v.loc[0, "necessary"]
    # no permuted d reaches the observed one: NCA's floor p = 1 / permutations
    assert strong.effects["p_value"].tolist() == [1 / 1000, 1 / 1000]
    assert v.loc[0, "ceiling"] == "ce_fdh"
    noise = nca(None, x, rng.permutation(y), permutations=1000, seed=1)
    assert noise.verdict(ceiling="cr_fdh").loc[0, "verdict"] == "not necessary"
    untested = nca(None, x, y, permutations=0).verdict()
    assert untested.loc[0, "verdict"] == "not tested"
    assert np.isnan(nca(None, x, y, permutations=0).effects["p_value"]).all()


def test_summary_and_repr(result):
    text = result.summary()
    assert "Individualism" in text and "0.4155" in text and "2.2302" in text
    assert "Risk taking" in text and "Verdicts" in text
    assert "NCAResult" in repr(result)


def test_plot(result):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    ax = result.plot(condition="Individualism")
    labels = [line.get_label() for line in ax.get_lines()]
    assert any(lab.startswith("CE-FDH") for lab in labels)
    assert any(lab.startswith("CR-FDH") for lab in labels)
    axes = result.plot()
    assert len(axes) == 2
    plt.close("all")


def test_plot_without_matplotlib(result, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(cs.errors.CbecSemError, match=r'pip install "cbec-sem\[plot\]"'):
        result.plot()


# ---------------------------------------------------------------------- scores of a fit

@pytest.fixture(scope="module")
def hs_fit():
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    data = cs.datasets.holzinger_swineford_1939()
    return cs.fit(model, data), data


def test_latent_scores_are_regression_factor_scores(hs_fit):
    """scores='latent' = Ψ Λᵀ Σ⁻¹ (x − x̄), built here from the parameter table."""
    from cbec_sem.propositions.necessity import construct_scores

    res, data = hs_fit
    p = res.params
    items = [f"x{k}" for k in range(1, 10)]
    factors = ["visual", "textual", "speed"]
    lam = np.zeros((9, 3))
    for r in p[p["op"] == "=~"].itertuples():
        lam[items.index(r.rhs), factors.index(r.lhs)] = r.est
    psi = np.zeros((3, 3))
    theta = np.zeros((9, 9))
    for r in p[p["op"] == "~~"].itertuples():
        if r.lhs in factors:
            i, j = factors.index(r.lhs), factors.index(r.rhs)
            psi[i, j] = psi[j, i] = r.est
        else:
            i, j = items.index(r.lhs), items.index(r.rhs)
            theta[i, j] = theta[j, i] = r.est
    sigma = lam @ psi @ lam.T + theta
    X = data[items].to_numpy(float)
    expected = (X - X.mean(axis=0)) @ np.linalg.solve(sigma, lam @ psi)
    got = construct_scores(res, factors, "latent")
    assert np.allclose(got.to_numpy(), expected, atol=1e-8)
    means = construct_scores(res, ["visual"], "mean")
    assert np.allclose(means["visual"], X[:, :3].mean(axis=1))


def test_nca_on_a_fit(hs_fit):
    res, data = hs_fit
    latent = nca(res, "visual", "speed", permutations=200, seed=1)
    assert latent.n_used == len(data) and latent.n_dropped == 0
    mean = nca(res, "visual", "speed", permutations=200, seed=1, scores="mean")
    direct = nca(data.assign(visual=data[["x1", "x2", "x3"]].mean(axis=1),
                             speed=data[["x7", "x8", "x9"]].mean(axis=1)),
                 "visual", "speed", permutations=200, seed=1)
    pd.testing.assert_frame_equal(mean.effects, direct.effects)
    with pytest.raises(DataError, match="not a variable of the fitted model"):
        nca(res, "TA", "speed", permutations=0)
    with pytest.raises(SpecError, match="scores"):
        nca(data, "x1", "x2", scores="latent")
