"""Interval arithmetic: lavaan's quantile rule, BC/BCa, and the acceleration formula."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from cbec_sem.resampling.intervals import (
    acceleration_from_influence,
    bca_interval,
    norm_inter,
    percentile_interval,
)


def test_norm_inter_matches_lavaan():
    """Values from lavaan 0.6-14's ``norm.inter`` (inside ``parameterEstimates``, the
    ``boot::norm.inter`` rule) run in R on t = exp(seq(-2, 2, length.out = 37))^1.3."""
    t = np.exp(np.linspace(-2, 2, 37)) ** 1.3
    alpha = np.array([0.025, 0.975, 0.5, 0.1, 0.01, 0.999, 1 / 38])
    expected = [0.074273578214333877, 13.463738035001692, 1.0, 0.11172577596648756,
                0.074273578214333877, 13.463738035001692, 0.074273578214333877]
    np.testing.assert_allclose(norm_inter(np.sort(t), alpha), expected, rtol=1e-14)


def test_percentile_interval_of_normal_draws():
    rng = np.random.default_rng(1)
    draws = rng.normal(2.0, 0.5, size=(40000, 1))
    lo, hi = percentile_interval(draws, 0.95)[0]
    assert lo == pytest.approx(2.0 - 1.959964 * 0.5, abs=0.02)
    assert hi == pytest.approx(2.0 + 1.959964 * 0.5, abs=0.02)


def test_percentile_ignores_nan_draws():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(999, 1))
    y = np.vstack([x, np.full((50, 1), np.nan)])
    np.testing.assert_array_equal(percentile_interval(x, 0.9), percentile_interval(y, 0.9))


def test_bca_with_zero_bias_and_acceleration_is_percentile():
    """Symmetric draws centred on the estimate: z0 = 0, a = 0 → the percentile interval."""
    base = special.ndtri((np.arange(1, 1000) - 0.5) / 999)
    draws = np.concatenate([base, -base])[:, None]
    ci, z0 = bca_interval(draws, np.array([0.0]), np.array([0.0]), 0.95)
    assert z0[0] == pytest.approx(0.0, abs=1e-2)  # two draws equal the estimate
    np.testing.assert_allclose(ci, percentile_interval(draws, 0.95), atol=1e-2)


def test_bca_moves_with_bias():
    """Draws shifted above the estimate (z0 > 0) pull the BC interval down."""
    rng = np.random.default_rng(3)
    draws = rng.normal(0.3, 1.0, size=(20000, 1))
    ci, z0 = bca_interval(draws, np.array([0.0]), np.array([0.0]), 0.95)
    assert z0[0] == pytest.approx(-0.3, abs=0.03)  # Φ⁻¹(P(θ* < θ̂)) = Φ⁻¹(Φ(−0.3))
    # BC: shift back by 2 z0 sd ≈ 0.6
    np.testing.assert_allclose(ci[0], [0.3 - 0.6 - 1.96, 0.3 - 0.6 + 1.96], atol=0.06)


def test_constant_draws_give_the_estimate():
    draws = np.full((100, 1), 1.5)
    ci, _ = bca_interval(draws, np.array([1.5]), np.array([0.1]), 0.95)
    np.testing.assert_array_equal(ci, [[1.5, 1.5]])


def test_acceleration_formula():
    L = np.array([[1.0], [2.0], [-3.0], [0.5]])
    expected = np.sum(L**3) / (6 * np.sum(L**2) ** 1.5)
    assert acceleration_from_influence([L])[0] == pytest.approx(expected)
    # scale free for one group; zero influence → 0
    assert acceleration_from_influence([5 * L])[0] == pytest.approx(expected)
    assert acceleration_from_influence([np.zeros((4, 1))])[0] == 0.0
