"""Studentised (bootstrap-t) intervals of the PLS bootstrap.

References: the second-level SE of a draw is recomputed here with the ordinary estimator
(``estimate_pls`` on the resampled rows, not the batched moments route) on the documented
second-level draws; the interval is cSEM's ``TStatCIResample`` (R/helper_infer.R of
FloSchuberth/cSEM) written out again from its R code on the same draws and SEs.
"""

import numpy as np
import pytest

from cbec_sem.errors import SpecError
from cbec_sem.pls import bootstrap_pls, estimate_pls

from pls_fixtures import MOBI_SIMPLE


def _paths(est):
    return est.params.loc[est.params["op"] == "~", "est"].to_numpy()


@pytest.fixture(scope="module")
def est(mobi):
    return estimate_pls(MOBI_SIMPLE, mobi)


def test_second_level_se_is_the_sd_of_reestimated_second_level_resamples(est, mobi):
    boot = bootstrap_pls(est, 3, seed=11, second_level=6, interval="studentized")
    n = est.n
    rng = np.random.default_rng(11)                 # the documented order of the draws
    first = rng.integers(0, n, size=(3, n))
    rows = est.params.index[est.params["op"] == "~"]
    for b in range(3):
        pos = rng.integers(0, n, size=(6, n))
        values = np.array([_paths(estimate_pls(MOBI_SIMPLE, mobi.iloc[first[b][p]]))
                           for p in pos])
        np.testing.assert_allclose(boot.draw_se[b, rows], values.std(axis=0, ddof=1),
                                   rtol=0, atol=1e-10)
        np.testing.assert_allclose(boot.draws[b, rows],
                                   _paths(estimate_pls(MOBI_SIMPLE, mobi.iloc[first[b]])),
                                   rtol=0, atol=1e-10)


def test_jackknife_second_level_is_the_jackknife_se(mobi):
    data = mobi.iloc[:30]                      # 30 leave-one-out refits by the slow route
    est = estimate_pls(MOBI_SIMPLE, data)
    boot = bootstrap_pls(est, 1, seed=5, second_level=1, second_method="jackknife")
    n = est.n
    first = np.random.default_rng(5).integers(0, n, size=(1, n))[0]
    values = np.array([_paths(estimate_pls(MOBI_SIMPLE, data.iloc[np.delete(first, i)]))
                       for i in range(n)])
    jack = np.sqrt((n - 1) / n * ((values - values.mean(axis=0)) ** 2).sum(axis=0))
    rows = est.params.index[est.params["op"] == "~"]
    np.testing.assert_allclose(boot.draw_se[0, rows], jack, rtol=0, atol=1e-10)


def _csem_t_interval(original, resampled, sd_star, probs, bias_corrected):
    """cSEM TStatCIResample, line by line: t = (θ* − θ̂)/SE*, type-7 quantiles of t,
    θ̃ − q·SD for each prob, then the rows swapped so that lower limits come first."""
    t = (resampled - original) / sd_star
    sd = resampled.std(axis=0, ddof=1)
    theta = 2 * original - resampled.mean(axis=0) if bias_corrected else original
    limits = [theta - np.quantile(t, z, axis=0, method="linear") * sd for z in probs]
    return limits[1], limits[0]


@pytest.mark.parametrize("bias_corrected", [False, True])
def test_interval_is_csem_t_interval_on_the_same_draws(est, bias_corrected):
    boot = bootstrap_pls(est, 40, seed=2, second_level=15, interval="studentized",
                         level=0.9, t_bias_corrected=bias_corrected)
    assert boot.failed == 0 and np.isfinite(boot.draw_se).all()
    lo, hi = _csem_t_interval(boot.table["est"].to_numpy(), boot.draws, boot.draw_se,
                              [0.05, 0.95], bias_corrected)
    np.testing.assert_allclose(boot.table["t.lower"], lo, rtol=0, atol=1e-12)
    np.testing.assert_allclose(boot.table["t.upper"], hi, rtol=0, atol=1e-12)
    m = len(boot.params)
    np.testing.assert_array_equal(boot.params["ci.lower"], boot.table["t.lower"][:m])
    assert "t.lower" in bootstrap_pls(est, 5, seed=2, second_level=3).table
    assert "t.lower" not in bootstrap_pls(est, 5, seed=2).table


def test_studentized_needs_second_level(est):
    with pytest.raises(SpecError, match="second_level"):
        bootstrap_pls(est, 5, interval="studentized")
    with pytest.raises(SpecError, match="second_method"):
        bootstrap_pls(est, 5, second_level=3, second_method="double")
