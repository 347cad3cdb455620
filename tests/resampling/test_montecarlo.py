"""Monte Carlo intervals (Selig & Preacher 2008; MacKinnon, Lockwood & Williams 2004).

Checked without a closed form: against an independent, 100-times-larger Monte Carlo of the
same product written out in the test; against the delta method where the paths are many
standard errors from zero (the product is then nearly normal and both intervals converge);
and on an equality-constrained model, whose singular covariance matrix must keep the constraint
in every draw.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import EstimationError, SpecError
from cbec_sem.resampling import monte_carlo_ci

from shared_fits import data_of, fit_of, model_of


def test_product_matches_an_independent_huge_monte_carlo():
    res = fit_of("poldem")
    names = list(res.vcov.index)
    i, j = names.index("dem60 ~ ind60"), names.index("dem65 ~ dem60")
    theta = res.estimation.theta[[i, j]]
    V = res.vcov.to_numpy()[np.ix_([i, j], [i, j])]
    rng = np.random.default_rng(99)
    big = rng.multivariate_normal(theta, V, size=2_000_000)
    prod = big[:, 0] * big[:, 1]
    q_lo, q_hi = np.quantile(prod, [0.025, 0.975])
    out = monte_carlo_ci(res, ["indirect"], draws=20000, seed=1).iloc[0]
    # Monte Carlo SE of a 2.5% quantile from 20,000 draws: √(p(1−p)/n)/f(q) ≈ 2.7 σ/√n
    tol = 4 * 2.7 * prod.std() / np.sqrt(20000)
    assert out["ci.lower"] == pytest.approx(q_lo, abs=tol)
    assert out["ci.upper"] == pytest.approx(q_hi, abs=tol)
    assert out["se"] == pytest.approx(prod.std(), rel=0.03)
    assert out["est"] == pytest.approx(theta[0] * theta[1])


def test_converges_to_the_delta_method_far_from_zero():
    rng = np.random.default_rng(4)
    n = 20000
    x = rng.standard_normal(n)
    m = 0.6 * x + 0.8 * rng.standard_normal(n)
    y = 0.5 * m + 0.2 * x + 0.8 * rng.standard_normal(n)
    res = cs.fit("m ~ a*x\ny ~ b*m + x\nab := a*b", pd.DataFrame({"x": x, "m": m, "y": y}))
    delta = res.params.set_index("lhs").loc["ab"]
    assert abs(delta["est"]) / delta["se"] > 50
    mc = monte_carlo_ci(res, draws=20000, seed=3).iloc[0]
    width = delta["ci.upper"] - delta["ci.lower"]
    assert mc["ci.lower"] == pytest.approx(delta["ci.lower"], abs=0.03 * width)
    assert mc["ci.upper"] == pytest.approx(delta["ci.upper"], abs=0.03 * width)
    assert mc["se"] == pytest.approx(delta["se"], rel=0.03)


def test_skewed_near_zero_unlike_the_delta_method():
    """With a small a·b the Monte Carlo interval is asymmetric about the estimate."""
    out = monte_carlo_ci(fit_of("poldem"), ["indirect"], seed=2).iloc[0]
    assert (out["ci.upper"] - out["est"]) > (out["est"] - out["ci.lower"])


def test_expressions_names_and_reproducibility():
    res = fit_of("poldem")
    a = monte_carlo_ci(res, seed=5)
    b = monte_carlo_ci(res, ["indirect", "total", "p1*p3"], seed=5)
    assert list(a["name"]) == ["indirect", "total"]
    np.testing.assert_array_equal(a[["ci.lower", "ci.upper"]], b[["ci.lower", "ci.upper"]][:2])
    assert b.iloc[2]["ci.lower"] == b.iloc[0]["ci.lower"]
    c = monte_carlo_ci(res, seed=6)
    assert not np.array_equal(a["ci.lower"], c["ci.lower"])
    assert set(a.columns) == {"name", "expression", "est", "se", "ci.lower", "ci.upper", "draws"}


def test_singular_covariance_keeps_equality_constraints():
    res = fit_of("hs_cfa_constrained")  # v2 == v3
    out = monte_carlo_ci(res, ["v2 - v3", "v2 * t5"], draws=5000, seed=1)
    assert out.iloc[0]["se"] < 1e-10
    assert out.iloc[1]["se"] > 0


def test_level():
    res = fit_of("poldem")
    wide = monte_carlo_ci(res, ["indirect"], seed=1, level=0.99).iloc[0]
    narrow = monte_carlo_ci(res, ["indirect"], seed=1, level=0.90).iloc[0]
    assert wide["ci.lower"] < narrow["ci.lower"] < narrow["ci.upper"] < wide["ci.upper"]


def test_errors():
    res = fit_of("poldem")
    with pytest.raises(SpecError, match="neither a defined parameter"):
        monte_carlo_ci(res, ["zz*p1"])
    with pytest.raises(SpecError, match="draws"):
        monte_carlo_ci(res, draws=1)
    with pytest.raises(SpecError, match="no ':=' defined parameters"):
        monte_carlo_ci(fit_of("hs_mimic"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad = cs.fit(model_of("poldem"), data_of("poldem"), max_iter=1)
    with pytest.raises(EstimationError):
        monte_carlo_ci(bad)
