"""The RMSEA interval (engine/fitmeasures.rmsea_interval) solves its defining equation.

Steiger (1990): the bounds are √(λ/(N·df)) for the non-centralities λ at which the
non-central χ²(df, λ) distribution puts X² at its 95th and 5th percentiles, i.e.
F(X²; df, λ_lo) = 0.95 and F(X²; df, λ_hi) = 0.05.  lavaan's values are checked on every
fixture (test_lavaan_reference.py); here the equation itself, over a grid that reaches the
edges where a bound is 0.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from cbec_sem.engine.fitmeasures import rmsea_interval


@pytest.mark.parametrize("df", [1, 5, 24, 160, 1500])
@pytest.mark.parametrize("ratio", [0.3, 0.9, 1.1, 1.6, 3.0])
def test_bounds_solve_the_defining_equation(df: int, ratio: float) -> None:
    n, x2 = 500, ratio * df
    lo, hi = rmsea_interval(x2, df, n, 1)
    for bound, p in ((lo, 0.95), (hi, 0.05)):
        lam = bound**2 * n * df
        if bound == 0.0:  # X² is below that percentile already at λ = 0
            assert special.chdtr(df, x2) < p + 1e-12
        else:
            assert special.chndtr(x2, df, lam) == pytest.approx(p, abs=1e-11)
    assert 0.0 <= lo <= hi


def test_groups_scale_the_bounds_by_root_g() -> None:
    # lavaan's multi-group RMSEA: √G times the one-group value (Steiger 1998)
    one = np.array(rmsea_interval(300.0, 150, 600, 1))
    three = np.array(rmsea_interval(300.0, 150, 600, 3))
    np.testing.assert_allclose(three, np.sqrt(3) * one, rtol=1e-14)
