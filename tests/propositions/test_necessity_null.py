"""The correlation-matched necessity test: its correlation, its null, its verdicts.

Truth comes from the simulated data (cbec_sem.propositions.necessity_sim): bivariate-normal
data have no ceiling (a 'necessary' verdict is false), uniform data below a ceiling line have
one of known d.  The error rates themselves are measured in benchmarks/bench_necessity.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from cbec_sem.errors import SpecError
from cbec_sem.propositions.necessity import nca
from cbec_sem.propositions.necessity_null import (
    VERDICT_COLUMNS,
    correlation_matched_null,
    necessity_verdict,
    normal_scores_correlation,
    scale_slope,
)
from cbec_sem.propositions.necessity_sim import (
    bivariate_normal,
    ceiling_uniform,
    interaction_fan,
    likert_means,
)


def test_normal_scores_correlation():
    rng = np.random.default_rng(3)
    x, y = bivariate_normal(0.5, 20000, 1, rng)
    r = float(normal_scores_correlation(x[0], y[0]))
    # efficient for a Gaussian copula: SE ≈ (1 − ρ²)/√N = .0053
    assert r == pytest.approx(0.5, abs=0.02)
    # a rank statistic: unchanged by increasing transformations of either margin
    assert float(normal_scores_correlation(np.exp(x[0]), y[0] ** 3)) == pytest.approx(r, abs=1e-12)
    assert float(normal_scores_correlation(x[0], x[0])) == pytest.approx(1.0, abs=1e-12)
    # rows of a batch are separate samples
    xb, yb = bivariate_normal(0.3, 50, 4, rng)
    batch = normal_scores_correlation(xb, yb)
    assert batch.shape == (4,)
    assert batch[2] == pytest.approx(float(normal_scores_correlation(xb[2], yb[2])))


def test_null_keeps_the_margins_and_calibrates_for_ties():
    rng = np.random.default_rng(5)
    x, y = likert_means(0.5, 300, 1, rng)
    res = nca(None, x[0], y[0], ceilings=("ce_fdh",), permutations=0)
    null = correlation_matched_null(res._fits["x"], ("ce_fdh",), 200, np.random.default_rng(1))
    # ties in the item means attenuate the normal-scores correlation: the copula needs more
    assert null["rho"] > null["r"] > 0.3
    assert null["d"]["ce_fdh"].shape == (200,)
    assert np.all((null["d"]["ce_fdh"] >= 0) & (null["d"]["ce_fdh"] <= 1))


def test_correlation_alone_is_not_necessity():
    """ρ = .5, N = 400, no ceiling: NCA's permutation test rejects independence, the
    correlation-matched test does not reject the dependence."""
    x, y = bivariate_normal(0.5, 400, 1, np.random.default_rng(11))
    res = nca(None, x[0], y[0], ceilings=("ce_fdh", "cr_fdh"), permutations=999, seed=1)
    v = necessity_verdict(res, draws=999, seed=2)
    assert list(v.columns) == VERDICT_COLUMNS
    row = v.iloc[0]
    assert row["d"] >= 0.1 and row["p_value"] < 0.05  # NCA's own rule says "necessary"
    assert row["p_matched"] >= 0.05
    assert row["verdict"] == "not necessary" and not row["necessary"]
    assert abs(row["d_excess"]) < 0.05 and row["d_null_se"] < 0.002
    assert "correlation-matched p" in row["reason"]
    # the same seed gives the same numbers
    again = necessity_verdict(res, draws=999, seed=2)
    assert again.equals(v)


def test_a_true_ceiling_is_necessary():
    x, y = ceiling_uniform(0.3, 400, 1, np.random.default_rng(12))
    res = nca(None, x[0], y[0], ceilings=("ce_fdh",), permutations=999, seed=1)
    row = necessity_verdict(res, draws=999, seed=2).iloc[0]
    assert row["d"] == pytest.approx(0.3, abs=0.06)
    assert row["p_matched"] < 0.01 and row["d_excess"] > 0.1
    assert row["verdict"] == "necessary"


def test_the_null_recovers_the_spread():
    """Data drawn from the spread model itself, Z_Y = ρ·Z_X + √(1 − ρ²)·exp(γ·Z_X − γ²)·e
    (γ = .2): the null's calibrated γ is within 3 of scale_slope's stated SEs of γ (the raw
    slope of the normal scores is attenuated); bivariate-normal data give γ̂ near 0."""
    rng = np.random.default_rng(21)
    n, rho, gamma = 5000, 0.3, 0.2
    zx = rng.standard_normal(n)
    zy = rho * zx + np.sqrt(1 - rho**2) * np.exp(gamma * zx - gamma**2) * rng.standard_normal(n)
    r = float(normal_scores_correlation(zx, zy))
    g_raw, se = scale_slope(zx, zy, r)
    # the SE of half an OLS slope of log χ²₁ errors (variance π²/2) on ~n/2 cases
    assert se == pytest.approx(0.5 * np.sqrt(np.pi**2 / 2 / (n / 2)), rel=0.1)
    res = nca(None, zx, zy, ceilings=("ce_fdh",), permutations=0)
    null = correlation_matched_null(res._fits["x"], ("ce_fdh",), 50, np.random.default_rng(1))
    assert abs(null["gamma"] - gamma) < 3 * se
    assert null["gamma"] > g_raw
    x, y = bivariate_normal(0.3, n, 1, rng)
    g0, se0 = scale_slope(x[0], y[0], float(normal_scores_correlation(x[0], y[0])))
    assert abs(g0) < 3 * se0


def test_a_spread_that_grows_with_x_is_not_necessity():
    """An outcome that depends on X through an interaction (no ceiling; the shape of TA → SCI
    in the example): the Gaussian-copula null calls it necessary far more often than α, the
    spread null does not (24 samples of N = 1000; benchmarks/bench_necessity.py has the
    rates with 100 samples per cell)."""
    rng = np.random.default_rng(8)
    x, y = interaction_fan(0.3, 1000, 24, rng)
    gauss = spread = 0
    for r in range(24):
        res = nca(None, x[r], y[r], ceilings=("ce_fdh",), permutations=99, seed=r)
        gauss += bool(necessity_verdict(res, draws=99, seed=r, spread=False)["necessary"][0])
        spread += bool(necessity_verdict(res, draws=99, seed=r)["necessary"][0])
    assert spread / 24 <= 0.10
    assert gauss / 24 >= 0.2


def test_ceiling_generator_has_the_stated_zone():
    x, y = ceiling_uniform(0.3, 20000, 1, np.random.default_rng(0))
    assert np.all(y <= np.minimum(1, 0.2 + x * 0.8 / 0.75) + 1e-12)
    res = nca(None, x[0], y[0], ceilings=("ce_fdh",), permutations=0, scope=(0, 1, 0, 1))
    assert res.effects["d"].iloc[0] == pytest.approx(0.3, abs=0.01)


def test_bad_arguments():
    x, y = bivariate_normal(0.2, 50, 1, np.random.default_rng(0))
    res = nca(None, x[0], y[0], ceilings=("ce_fdh",), permutations=0)
    with pytest.raises(SpecError, match="draws"):
        necessity_verdict(res, draws=0)
    with pytest.raises(SpecError, match="not computed"):
        necessity_verdict(res, ceiling="cr_fdh")
    v = necessity_verdict(res, draws=50, seed=0)
    assert v["verdict"].iloc[0] == "not tested"
    with pytest.raises(SpecError, match="ceiling"):
        ceiling_uniform(0.6, 10, 1, np.random.default_rng(0))


@pytest.fixture(scope="module")
def example_fit():
    import warnings

    import cbec_sem as cs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cs.fit(cs.paper_model(), cs.datasets.example_survey())


def test_posterior_of_the_latent_scores(example_fit):
    """Plausible values reproduce the latent variance: Var(E(η|x)) + Var(η|x) = Φ (the law of
    total variance under the fitted model; Mislevy 1991)."""
    from cbec_sem.measurement.scores import latent_posterior

    [(_, mean, post)] = latent_posterior(example_fit)
    latent = list(example_fit.estimation.ram.latent)
    i = latent.index("TA")
    assert mean.shape == (400, len(latent))
    assert post[i, i] > 0
    est = example_fit.estimation
    phi = est.ram.total_covariance(est.ram.moments(est.theta)[0])[est.ram.p:, est.ram.p:]
    # sample variance of the regression scores + posterior variance ≈ implied variance
    assert mean[:, i].var() + post[i, i] == pytest.approx(phi[i, i], rel=0.05)


def test_example_has_no_ceiling(example_fit):
    """The bundled example's population has no necessity mechanism (make_example_survey.py):
    NCA's own rule calls H7 (TA → FA) necessary, the correlation-matched verdict does not,
    with regression scores and with plausible values."""
    from cbec_sem.propositions.necessity_null import (
        SCORE_COLUMNS,
        necessity_verdict_scores,
    )

    reg = necessity_verdict_scores(example_fit, "TA", "FA", plausible_values=0, seed=1).iloc[0]
    assert reg["d"] >= 0.1 and reg["p_value"] < 0.05
    assert reg["verdict"] == "not necessary"
    assert reg["scores"].startswith("regression")
    pv = necessity_verdict_scores(example_fit, "TA", "FA", plausible_values=4, permutations=199,
                                  draws=199, seed=1)
    assert list(pv.columns)[-len(SCORE_COLUMNS):] == SCORE_COLUMNS
    row = pv.iloc[0]
    assert row["verdict"] == "not necessary" and row["plausible_values"] == 4
    assert row["d_pv_lower"] <= row["d"] <= row["d_pv_upper"]
    with pytest.raises(SpecError, match="not a latent variable"):
        necessity_verdict_scores(example_fit, "ta1", "FA", plausible_values=2)
    with pytest.raises(SpecError, match="plausible_values"):
        necessity_verdict_scores(example_fit, "TA", "FA", plausible_values=-1)


def test_provider_for_the_hypothesis_table(example_fit):
    from cbec_sem.propositions.necessity_null import necessity_provider

    provide = necessity_provider(example_fit, permutations=199, seed=3, alpha=0.05, draws=199)
    values, text = provide("TA", "FA")
    assert values["verdict"] == "not supported"  # no ceiling in the example's population
    assert values["p"] >= 0.05 and values["estimate"] >= 0.1
    assert "correlation-matched" in text and "regression scores" in text
    with pytest.raises(LookupError, match="failed"):
        provide("TA", "nonexistent")


def test_shared_draws_change_no_number():
    """Nulls seeded alike share their normal draws through ``shared_draws`` (H7 and H8 of a
    hypothesis table): every verdict equals, to the last bit, the one computed alone, also
    when the sequences of draws differ (ties in the margins add the calibration draws; a
    different N other shapes) and the later null carries on from the logged state."""
    rng = np.random.default_rng(21)
    x, y = bivariate_normal(0.4, 300, 1, rng)           # no ties: no calibration draws
    lx, ly = likert_means(0.4, 300, 1, rng)             # ties: calibration draws first
    sx, sy = bivariate_normal(0.4, 120, 1, rng)         # another N
    results = [nca(None, a[0], b[0], ceilings=("ce_fdh",), permutations=99, seed=1)
               for a, b in ((x, y), (lx, ly), (sx, sy), (y, x))]
    alone = [necessity_verdict(r, draws=150, seed=7) for r in results]
    for order in ([0, 3, 1, 2], [1, 0, 3, 2], [2, 2, 0, 3]):
        shared: dict = {}
        for k in order:
            got = necessity_verdict(results[k], draws=150, seed=7, shared_draws=shared)
            assert got.equals(alone[k])
    # a different seed is not shared
    shared = {}
    necessity_verdict(results[0], draws=150, seed=7, shared_draws=shared)
    assert necessity_verdict(results[3], draws=150, seed=8, shared_draws=shared).equals(
        necessity_verdict(results[3], draws=150, seed=8))
    assert sorted(shared) == [7, 8]


def _placed_by_argsort(values_sorted, z):
    """The reference: values scattered by each row's argsort (what _placed computed before
    its packed-key sort)."""
    order = np.argsort(z, axis=1)
    out = np.empty(z.shape)
    np.put_along_axis(out, order, np.broadcast_to(values_sorted, z.shape), axis=1)
    return out


@pytest.mark.parametrize("n", [2, 3, 17, 300, 513])
def test_placed_is_the_argsort_scatter(n):
    """The packed-key ranking of the null samples gives exactly the array of the argsort
    scatter: on normal rows, on rows with values that agree but for their last bits (which
    fall back to the argsort), with exact ties against distinct values, and with ±inf or NaN
    (also the argsort's)."""
    from cbec_sem.propositions.necessity_null import _placed

    rng = np.random.default_rng(n)
    values = np.sort(rng.standard_normal(n))
    z = rng.standard_normal((40, n))
    z[1, 1] = np.nextafter(z[1, 0], np.inf)                 # one ulp apart
    z[2, -1] = z[2, 0] * (1 + 2.0 ** -45)                    # within the index bits
    z[3, :] = -np.abs(z[3, :])                               # all negative
    z[4, 0] = 0.0                                           # exact zero
    z[5, 0], z[5, -1] = np.inf, -np.inf
    z[6, n // 2] = np.nan
    z[7, :] = np.round(z[7, :], 1)                           # exact ties
    tied_values = np.round(values, 0)                       # ties among the values too
    for v in (values, tied_values):
        ref = _placed_by_argsort(v, z)
        got = _placed(v, z.copy())
        assert np.array_equal(got, ref, equal_nan=True)
        assert np.array_equal(_placed(v, z), ref, equal_nan=True)  # z is not changed
        # from the values repeated row after row (as many rows as z has, or more)
        for rows in (40, 57):
            assert np.array_equal(_placed(v, z, np.tile(v, rows)), ref, equal_nan=True)
    # many draws: each row a permutation of the values, in the argsort's order
    big = rng.standard_normal((500, n)) * rng.uniform(0.1, 10, (500, 1))
    assert np.array_equal(_placed(values, big.copy()), _placed_by_argsort(values, big))


def test_placed_in_blocks_and_rows_near_the_flat_bits():
    """Arrays of more than 2^18 values are ranked in blocks of rows, and a row whose values
    agree but for the flat index's bits (18 here) though not for the row index's (9) is
    ranked as before: the argsort scatter's array in both cases."""
    from cbec_sem.propositions.necessity_null import _KEY_ELEMENTS, _placed

    rng = np.random.default_rng(5)
    n = 300
    values = np.sort(rng.standard_normal(n))
    z = rng.standard_normal((_KEY_ELEMENTS // n + 37, n))
    z[0, -1] = z[0, 0] * (1 + 2.0 ** -38)   # within 18 low bits, not within 9
    z[-1, 5] = np.nextafter(z[-1, 4], -np.inf)
    ref = _placed_by_argsort(values, z)
    assert np.array_equal(_placed(values, z), ref)
    assert np.array_equal(_placed(values, z, np.tile(values, z.shape[0])), ref)
    assert np.array_equal(_placed(values, z[:700]), ref[:700])   # one block


def test_slopes_from_scores_are_the_plain_formula():
    """The in-place arithmetic of the spread slopes gives the numbers of the formula written
    plainly (scale_slope's docstring), to the last bit."""
    from cbec_sem.propositions.necessity_null import _slopes_from_scores

    def plain(nx, ny, r):
        def scores(s):
            s = s - s.mean(axis=1, keepdims=True)
            sd = s.std(axis=1, keepdims=True)
            return s / np.where(sd > 0, sd, 1.0)

        sx, sy = scores(nx), scores(ny)
        u = sy - np.reshape(r, (-1, 1)) * sx
        w = (u < 0).astype(float)
        m = w.sum(axis=1)
        mx = (w * sx).sum(axis=1) / np.maximum(m, 1)
        sxc = (sx - mx[:, None]) * w
        sxx = (sxc * sxc).sum(axis=1)
        ok = (m >= 3) & (sxx > 0)
        slope = (sxc * np.log(np.maximum(u * u, 1e-12))).sum(axis=1) / np.where(ok, sxx, 1.0)
        return (np.where(ok, 0.5 * slope, 0.0),
                np.where(ok, 0.5 * np.sqrt(np.pi ** 2 / 2 / np.where(ok, sxx, 1.0)), 0.0))

    rng = np.random.default_rng(11)
    for trial in range(60):
        B, n = int(rng.integers(1, 30)), int(rng.integers(2, 200))
        nx = rng.standard_normal((1 if trial % 2 else B, n))
        ny = rng.standard_normal((B, n))
        if trial % 5 == 0:
            ny[0] = 0.7                                      # a constant row
        r = rng.uniform(-1, 1) if trial % 3 else rng.uniform(-1, 1, B)
        kept = ny.copy()
        for got, want in zip(_slopes_from_scores(nx, ny, r), plain(nx, ny, r)):
            assert np.array_equal(got, want)
        assert np.array_equal(ny, kept)
