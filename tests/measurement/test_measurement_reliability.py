"""reliability(): α, ω, AVE per construct equal semTools 0.5-6 / psych on real data.

Reference values: ``tests/fixtures/semtools/reliability_{hs,bfi,paper}.json`` (written by
``tests/fixtures/make_semtools_fixtures.R``: semTools 0.5-6 ``compRelSEM()``, ``AVE()``,
``reliability()``, psych ``alpha()``), and the published HS values (semTools' documentation:
ω .625/.885/.688 with the model-implied denominator, α .626/.883/.688, AVE .371/.721/.424).
A few values not in the fixtures (multi-group, cross-loadings) were computed with semTools 0.5-6
/ lavaan 0.6-14 by the R snippet quoted at each test.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import EstimationError, SpecError
from cbec_sem.measurement import reliability

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
TOL = 1e-3


def _fixture(name: str) -> dict:
    path = FIXTURES / "semtools" / f"{name}.json"
    if not path.exists():
        pytest.skip(f"fixture {path.name} not written yet")
    return json.loads(path.read_text())


def _fit_fixture(fx: dict) -> cs.FitResult:
    data = pd.read_csv(REPO / fx["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.errors.DataWarning)  # bfi: listwise deletion
        return cs.fit(fx["model"], data)


@pytest.fixture(scope="module")
def hs_fit():
    return cs.fit(HS_MODEL, cs.datasets.holzinger_swineford_1939())


@pytest.fixture(scope="module", params=["reliability_hs", "reliability_bfi",
                                        "reliability_paper"])
def case(request):
    fx = _fixture(request.param)
    return fx, _fit_fixture(fx)


def test_published_hs_values(hs_fit):
    rel = reliability(hs_fit).set_index("construct")
    np.testing.assert_allclose(rel["omega.model"], [0.625, 0.885, 0.688], atol=5e-4)
    np.testing.assert_allclose(rel["alpha"], [0.626, 0.883, 0.688], atol=5e-4)
    np.testing.assert_allclose(rel["ave"], [0.371, 0.721, 0.424], atol=5e-4)
    assert (rel["n_items"] == 3).all()
    assert (rel["kind"] == "first-order").all()
    assert (rel["note"] == "").all()


def test_columns(hs_fit):
    rel = reliability(hs_fit)
    assert list(rel.columns) == ["construct", "kind", "n_items", "alpha", "alpha.std", "omega",
                                 "omega.model", "omega.latent", "ave", "ave.std", "note"]


def test_omega_and_ave_equal_semtools(case):
    fx, res = case
    rel = reliability(res).set_index("construct")
    crs = fx["compRelSEM"]
    for name, value in crs["omega"]["values"].items():  # compRelSEM(fit): obs.var = TRUE
        assert rel.at[name, "omega"] == pytest.approx(value, abs=TOL)
    fitted = crs.get("omega_fitted") or crs.get("omega_higher_fitted")
    for name, value in fitted["values"].items():  # compRelSEM(fit, obs.var = FALSE)
        assert rel.at[name, "omega.model"] == pytest.approx(value, abs=TOL)
    for name, value in crs["alpha"]["values"].items():  # compRelSEM(fit, tau.eq = TRUE)
        assert rel.at[name, "alpha"] == pytest.approx(value, abs=TOL)
    for name, value in fx["AVE"]["values"].items():  # AVE(fit)
        assert rel.at[name, "ave"] == pytest.approx(value, abs=TOL)


def test_model_denominator_option_equals_obs_var_false(case):
    fx, res = case
    rel = reliability(res, omega="model").set_index("construct")
    old = fx["reliability"]  # deprecated reliability(): 'omega2' = model-implied denominator
    row = old["rownames"].index("omega2")
    for name, value in zip(old["colnames"], old["matrix"][row]):
        assert rel.at[name, "omega"] == pytest.approx(value, abs=TOL)
    # reliability()'s avevar divides by the model-implied item variances
    row = old["rownames"].index("avevar")
    for name, value in zip(old["colnames"], old["matrix"][row]):
        assert rel.at[name, "ave"] == pytest.approx(value, abs=TOL)


@pytest.mark.parametrize("name", ["reliability_hs", "reliability_bfi"])
def test_alpha_equals_psych(name):
    fx = _fixture(name)
    res = _fit_fixture(fx)
    rel = reliability(res).set_index("construct")
    for name, values in fx["psych_alpha"]["values"].items():
        assert rel.at[name, "alpha"] == pytest.approx(values["raw_alpha"], abs=TOL)
        assert rel.at[name, "alpha.std"] == pytest.approx(values["std.alpha"], abs=TOL)


def test_ave_std_is_mean_squared_std_loading(case):
    fx, res = case
    rel = reliability(res).set_index("construct")
    lam = fx["std_lambda"]
    mat = np.array(lam["matrix"], dtype=float)
    for j, name in enumerate(lam["colnames"]):
        col = mat[:, j]
        col = col[col != 0]
        if col.size < 2:
            continue
        assert rel.at[name, "ave.std"] == pytest.approx(np.mean(col ** 2), abs=TOL)


def test_higher_order_omega_l1():
    fx = _fixture("reliability_paper")
    res = _fit_fixture(fx)
    rel = reliability(res).set_index("construct")
    sci = rel.loc["SCI"]
    assert sci["kind"] == "higher-order"
    assert sci["n_items"] == 9
    # compRelSEM(fit, higher = "SCI") and its obs.var = FALSE twin (= reliabilityL2 omegaL1)
    assert sci["omega"] == pytest.approx(fx["compRelSEM"]["omega_higher"]["values"]["SCI"],
                                         abs=TOL)
    assert sci["omega.model"] == pytest.approx(fx["reliabilityL2"]["values"]["omegaL1"],
                                               abs=TOL)
    assert np.isnan(sci["ave"]) and np.isnan(sci["ave.std"])
    assert "AVE not defined for a higher-order factor" in sci["note"]
    assert "omega_L1" in sci["note"]
    # alpha of the higher-order row is that of its nine first-order items
    data = pd.read_csv(REPO / fx["data"])
    items = [f"{p}{k}" for p in ("vp", "fo", "is") for k in (1, 2, 3)]
    s = np.cov(data[items].to_numpy(), rowvar=False)
    alpha = 9 / 8 * (1 - np.trace(s) / s.sum())
    assert sci["alpha"] == pytest.approx(alpha, abs=1e-10)


def test_one_indicator_gives_nan_and_note():
    hs = cs.datasets.holzinger_swineford_1939()
    res = cs.fit("visual =~ x1 + x2 + x3\ntextual =~ x4\nspeed =~ x7 + x8 + x9\n"
                 "x4 ~~ 0.2*x4", hs)
    rel = reliability(res).set_index("construct")
    row = rel.loc["textual"]
    for col in ("alpha", "alpha.std", "omega", "omega.model", "ave", "ave.std"):
        assert np.isnan(row[col])
    assert row["n_items"] == 1
    assert "one indicator (x4)" in row["note"]
    assert (rel.loc[["visual", "speed"], "note"] == "").all()
    # every NaN in the table comes with a note
    numeric = rel[["alpha", "omega", "ave"]]
    assert (rel.loc[numeric.isna().any(axis=1), "note"] != "").all()


def test_cross_loading_ave_not_defined():
    # semTools 0.5-6: fx <- cfa('visual =~ x1+x2+x3+x9; textual =~ x4+x5+x6;
    #   speed =~ x7+x8+x9', HolzingerSwineford1939); compRelSEM(fx); AVE(fx)
    hs = cs.datasets.holzinger_swineford_1939()
    res = cs.fit("visual =~ x1 + x2 + x3 + x9\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9",
                 hs)
    rel = reliability(res).set_index("construct")
    np.testing.assert_allclose(rel["omega"], [0.596433448428191, 0.885159125858187,
                                              0.619413778580987], atol=TOL)
    assert rel.at["textual", "ave"] == pytest.approx(0.72117055469354, abs=TOL)
    for name in ("visual", "speed"):
        assert np.isnan(rel.at[name, "ave"])
        assert "x9 also load on another factor" in rel.at[name, "note"]


def test_multigroup_rows():
    # semTools 0.5-6: fitg <- sem(paper model, example_survey, group = "channel");
    #   compRelSEM(fitg, higher = "SCI"); AVE(fitg)
    data = cs.datasets.example_survey()
    res = cs.fit(cs.paper_model(), data, group="channel")
    rel = reliability(res)
    assert list(rel.columns[:2]) == ["construct", "group"]
    assert len(rel) == 2 * 7
    assert set(rel["group"]) == {"platform", "independent site"}
    table = rel.set_index(["group", "construct"])
    omega = {
        "platform": [0.831693046402278, 0.816068866702480, 0.778430744900411,
                     0.747972616529592, 0.744524622924398, 0.732447408964197,
                     0.661427905674898],
        "independent site": [0.803863398913038, 0.800887992793931, 0.816680269515692,
                             0.824396264868653, 0.758404493706169, 0.784240748337831,
                             0.730816223875858],
    }
    ave = {
        "platform": [0.552128128116566, 0.55478132254219, 0.539489006484719,
                     0.501895464296430, 0.502369946409209, 0.482346695500315],
        "independent site": [0.513820605903930, 0.46542618336281, 0.602118724785183,
                             0.591402728265844, 0.501497232415213, 0.544604486462707],
    }
    names = ["TA", "FA", "PC", "VP", "FO", "IS", "SCI"]
    for group, values in omega.items():
        np.testing.assert_allclose(table.loc[group].loc[names, "omega"], values, atol=TOL)
        np.testing.assert_allclose(table.loc[group].loc[names[:6], "ave"], ave[group],
                                   atol=TOL)


def test_bad_arguments(hs_fit):
    with pytest.raises(SpecError, match="omega="):
        reliability(hs_fit, omega="obs")
    with pytest.raises(SpecError, match="fitted model"):
        reliability(HS_MODEL)


def test_not_converged_raises():
    hs = cs.datasets.holzinger_swineford_1939()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cs.fit(HS_MODEL, hs, max_iter=1)
    if res.converged.optimizer_converged:
        pytest.skip("converged in one iteration")
    with pytest.raises(EstimationError, match="did not converge"):
        reliability(res)
