"""cs.efa() equals psych's fa(), KMO() and cortest.bartlett().

Expected values: ``tests/fixtures/semtools/efa_*.json``, written by
``tests/fixtures/make_efa_fixtures.R`` (psych 2.2.9 with GPArotation 2022.10: HS items x1-x9
and 15 bfi items (complete rows); ML and minres; varimax, promax, oblimin, geominQ, none).
Tolerances: loadings, Φ, h² 1e-4 absolute (we agree to ~1e-5: both optimisers stop near
the same optimum); χ² 1e-5 relative; TLI, RMSEA, KMO, Bartlett 1e-5.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import DataError, DataWarning, SpecError
from cbec_sem.measurement.efa import max_factors

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
CASES = sorted(p.stem for p in (FIXTURES / "semtools").glob("efa_*.json"))
ROTATION = {"geominQ": "geomin"}  # psych's name -> ours
HS = pd.read_csv(REPO / "src/cbec_sem/datasets/data/HolzingerSwineford1939.csv")
HS_ITEMS = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="module", params=CASES)
def case(request):
    fx = json.loads((FIXTURES / "semtools" / f"{request.param}.json").read_text())
    data = pd.read_csv(REPO / fx["data"])[list(fx["items"])]
    if fx["complete_rows"]:
        data = data.dropna()
    res = cs.efa(data, fx["nfactors"], method=fx["fm"],
                 rotation=ROTATION.get(fx["rotate"], fx["rotate"]))
    return fx, res


def test_loadings_communalities_and_correlations(case):
    fx, res = case
    k = fx["nfactors"]
    expected = np.asarray(fx["loadings"], dtype=float).reshape(len(fx["items"]), k)
    np.testing.assert_allclose(res.loadings.to_numpy(), expected, atol=1e-4)
    np.testing.assert_allclose(res.communalities.to_numpy(), fx["h2"], atol=1e-4)
    np.testing.assert_allclose(res.uniquenesses.to_numpy(), fx["u2"], atol=1e-4)
    phi = np.eye(k) if fx["phi"] is None else np.asarray(fx["phi"], dtype=float)
    np.testing.assert_allclose(res.factor_correlations.to_numpy(), phi.reshape(k, k),
                               atol=1e-4)


def test_fit_statistics(case):
    fx, res = case
    assert res.fit["chisq"] == pytest.approx(fx["statistic"], rel=1e-5)
    assert res.fit["df"] == fx["dof"]
    assert res.fit["pvalue"] == pytest.approx(fx["pval"], rel=1e-4, abs=1e-12)
    assert res.fit["tli"] == pytest.approx(fx["tli"], abs=1e-5)
    assert res.fit["rmsea"] == pytest.approx(fx["rmsea"][0], abs=1e-5)
    assert res.fit["null_chisq"] == pytest.approx(fx["null_chisq"], rel=1e-8)


def test_kmo_and_bartlett(case):
    fx, res = case
    assert res.kmo["msa"] == pytest.approx(fx["kmo"]["msa"], abs=1e-8)
    np.testing.assert_allclose(res.kmo["msa_items"].to_numpy(), fx["kmo"]["msai"], atol=1e-8)
    assert res.bartlett["chisq"] == pytest.approx(fx["bartlett"]["chisq"], rel=1e-8)
    assert res.bartlett["df"] == fx["bartlett"]["df"]


def test_too_many_factors_says_how_many_can_be_extracted():
    assert max_factors(9) == 5  # 36 - 9k + k(k-1)/2 >= 0 up to k = 5
    with pytest.raises(SpecError, match="at most 5 factor"):
        cs.efa(HS[HS_ITEMS], 6)


def test_bad_rotation_method_and_count():
    with pytest.raises(SpecError, match="rotation='quartimaxx'.*oblimin"):
        cs.efa(HS[HS_ITEMS], 3, rotation="quartimaxx")
    with pytest.raises(SpecError, match="method='pa'"):
        cs.efa(HS[HS_ITEMS], 3, method="pa")
    with pytest.raises(SpecError, match="positive whole number"):
        cs.efa(HS[HS_ITEMS], 0)
    with pytest.raises(DataError, match="'x10'"):
        cs.efa(HS, 2, items=HS_ITEMS + ["x10"])


def test_incomplete_rows_dropped_with_warning_and_data_untouched():
    data = HS[HS_ITEMS].copy()
    data.iloc[[0, 5], 2] = np.nan
    with pytest.warns(DataWarning, match="2 of 301 rows"):
        res = cs.efa(data, 3)
    assert res.n_obs == 299 and res.rows_dropped == 2
    assert data.isna().sum().sum() == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = cs.efa(data.dropna(), 3)
    pd.testing.assert_frame_equal(res.loadings, ref.loadings)


def test_parallel_analysis_suggests_three_factors_for_hs():
    # psych 2.2.9: set.seed(1); fa.parallel(hs, n.iter = 50) suggests 3 factors and 3
    # components, with observed factor eigenvalues (fa.values) 2.632 0.934 0.504 -0.092
    # (deterministic; the simulated ones are random and only agree in distribution)
    pa = cs.parallel_analysis(HS[HS_ITEMS], n_iter=20, seed=1)
    assert pa.attrs["n_factors"] == 3
    assert pa.attrs["n_components"] == 3
    np.testing.assert_allclose(pa["fa_observed"].to_numpy()[:4], [2.632, 0.934, 0.504, -0.092],
                               atol=5e-4)
    np.testing.assert_allclose(pa["pc_observed"].to_numpy()[:3], [3.216, 1.639, 1.365],
                               atol=5e-4)
    again = cs.parallel_analysis(HS[HS_ITEMS], n_iter=20, seed=1)
    pd.testing.assert_frame_equal(pa, again)
    # random eigenvalues of a correlation matrix average p: the components' mean sums to ~9
    assert pa["pc_mean"].sum() == pytest.approx(9.0, abs=1e-8)


def test_result_protocol():
    res = cs.efa(HS[HS_ITEMS], 3)
    text = str(res.summary())
    assert "Loadings" in text and "Factor correlations" in text and "KMO" in text
    assert list(res.to_frame().columns) == ["ML1", "ML2", "ML3", "h2", "u2"]
    assert "\n" not in repr(res) and "TLI=" in repr(res)
