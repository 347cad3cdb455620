"""cs.fit(..., se="bootstrap", bootstrap=B, seed=...): lavaan's se = "bootstrap" columns in
res.params, the draws in res.bootstrap, and H4 tested by the bootstrap percentile interval."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special

import cbec_sem as cs
from cbec_sem.errors import SpecError
from cbec_sem.resampling.intervals import percentile_interval

from shared_fits import data_of, fit_of, model_of


@pytest.fixture(scope="module")
def boot_fit():
    return cs.fit(model_of("poldem"), data_of("poldem"), se="bootstrap", bootstrap=200, seed=8)


def test_params_carry_bootstrap_se_and_percentile_ci(boot_fit):
    res, plain = boot_fit, fit_of("poldem")
    p, t = res.params, res.bootstrap.table
    np.testing.assert_array_equal(p["est"], plain.params["est"])
    np.testing.assert_array_equal(p["se"], t["se"])
    np.testing.assert_array_equal(p["ci.lower"], t["ci.lower"])
    np.testing.assert_array_equal(p["ci.upper"], t["ci.upper"])
    free = p["se"] > 0
    np.testing.assert_allclose(p.loc[free, "z"], p.loc[free, "est"] / p.loc[free, "se"])
    np.testing.assert_allclose(p.loc[free, "pvalue"],
                               2 * special.ndtr(-np.abs(p.loc[free, "z"])))
    fixed = ~free
    assert p.loc[fixed, "z"].isna().all()
    assert (p.loc[fixed, "ci.lower"] == p.loc[fixed, "est"]).all()
    assert res.vcov.shape == plain.vcov.shape
    np.testing.assert_allclose(np.sqrt(np.diag(res.vcov)),
                               p["se"].to_numpy()[res.bootstrap.table.attrs["theta_rows"]])
    assert res.bootstrap.draws == 200 and res.bootstrap.seed == 8
    assert any("200 bootstrap draws" in n for n in res.notes)
    np.testing.assert_allclose(res.partable["se"], p["se"].to_numpy()[: len(res.partable)])


def test_same_seed_same_fit(boot_fit):
    again = cs.fit(model_of("poldem"), data_of("poldem"), se="bootstrap", bootstrap=200, seed=8)
    pd.testing.assert_frame_equal(again.params, boot_fit.params)


def test_bootstrap_draws_with_standard_se_keep_params():
    res = cs.fit(model_of("poldem"), data_of("poldem"), bootstrap=50, seed=1)
    pd.testing.assert_frame_equal(res.params, fit_of("poldem").params)
    assert res.bootstrap is not None and res.bootstrap.draws == 50


def test_se_bootstrap_defaults_to_1000_draws():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(60)
    df = pd.DataFrame({"x": x, "y": 0.5 * x + rng.standard_normal(60)})
    res = cs.fit("y ~ x", df, se="bootstrap", seed=1)
    assert res.bootstrap.draws == 1000


def test_h4_uses_the_bootstrap_percentile_interval():
    data = cs.datasets.example_survey()
    res = cs.fit(cs.paper_model(), data, bootstrap=300, seed=4)
    h = res.hypotheses.set_index("id")
    assert h.loc["H4", "method"] == "ML, bootstrap percentile CI (300 draws)"
    assert h.loc["H1", "method"] == "ML Wald z test"  # se stayed standard
    boot = res.bootstrap
    p = res.params
    rows = [int(np.flatnonzero((p["op"] == "~") & (p["lhs"] == lhs) & (p["rhs"] == rhs))[0])
            for lhs, rhs in (("FA", "TA"), ("SCI", "FA"))]
    prod = np.prod(boot.est[:, rows], axis=1)
    lo, hi = percentile_interval(prod[:, None], 0.95)[0]
    assert h.loc["H4", "ci.lower"] == pytest.approx(lo)
    assert h.loc["H4", "ci.upper"] == pytest.approx(hi)
    assert h.loc["H4", "estimate"] == pytest.approx(np.prod(p["est"].to_numpy()[rows]))
    assert h.loc["H4", "se"] == pytest.approx(np.std(prod, ddof=1))
    excludes_zero = lo > 0 or hi < 0
    assert (h.loc["H4", "p"] < 0.05) == excludes_zero
    assert h.loc["H4", "verdict"] == ("supported" if lo > 0 else "not supported")


def test_path_hypotheses_name_the_bootstrap_se():
    data = cs.datasets.example_survey()
    res = cs.fit(cs.paper_model(), data, se="bootstrap", bootstrap=100, seed=4)
    h = res.hypotheses.set_index("id")
    assert h.loc["H1", "method"] == "ML, z test with bootstrap SE (100 draws)"
    p = res.params
    r = p[(p["op"] == "~") & (p["lhs"] == "SCI") & (p["rhs"] == "TA")].iloc[0]
    assert h.loc["H1", "se"] == r["se"] and h.loc["H1", "ci.lower"] == r["ci.lower"]


@pytest.mark.parametrize("kwargs, match", [
    ({"se": "robust"}, "se='robust'"),
    ({"bootstrap": -5}, "bootstrap=-5"),
    ({"bootstrap": True}, "bootstrap=True"),
])
def test_bad_bootstrap_options(kwargs, match):
    with pytest.raises(SpecError, match=match):
        cs.fit(model_of("poldem"), data_of("poldem"), **kwargs)


def test_no_bootstrap_when_the_fit_did_not_converge():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cs.fit(model_of("poldem"), data_of("poldem"), se="bootstrap", bootstrap=20,
                     max_iter=1)
    assert res.bootstrap is None
    assert any("no bootstrap" in n for n in res.notes)
