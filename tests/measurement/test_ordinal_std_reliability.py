"""Ordered items (WLSMV): standardised SEs and reliability equal lavaan's and semTools'.

Expected values: ``tests/fixtures/lavaan_ordinal_std/*.json``, written by
``tests/fixtures/make_ordinal_std_fixtures.R`` (lavaan 0.6-14 ``standardizedSolution()``,
semTools 0.5-6 ``compRelSEM()`` with ``ord.scale = TRUE`` (default) and ``FALSE``, ``AVE()``).
Tolerances: standardised SEs 1e-3 relative, coefficients 1e-3 absolute (issue 12).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.measurement._delta import standardized_se

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
CASES = sorted(p.stem for p in (FIXTURES / "lavaan_ordinal_std").glob("*.json"))


@pytest.fixture(scope="module", params=CASES)
def case(request):
    fx = json.loads((FIXTURES / "lavaan_ordinal_std" / f"{request.param}.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.errors.DataWarning)  # listwise deletion (bfi)
        res = cs.fit(fx["model"], pd.read_csv(REPO / fx["data"]), estimator="WLSMV",
                     ordered=fx["ordered"], std_lv=fx["options"]["std.lv"])
    return fx, res


def test_standardized_se_treats_residual_variances_as_functions(case):
    fx, res = case
    ours = standardized_se(res)
    theirs = pd.DataFrame(fx["std_solution"])
    checked = 0
    for r in theirs[theirs["op"].isin(["=~", "~", "~~"])].itertuples():
        key = f"{r.lhs}{r.op}{r.rhs}"
        if key not in ours.index:
            key = f"{r.rhs}{r.op}{r.lhs}"
        assert ours[key] == pytest.approx(r.se, rel=1e-3, abs=1e-8), key
        checked += 1
    assert checked >= 10


def test_omega_is_semtools_categorical_with_latent_response_beside(case):
    fx, res = case
    rel = cs.reliability(res).set_index("construct")
    for name, value in fx["omega_categorical"].items():
        assert rel.loc[name, "omega"] == pytest.approx(value, abs=1e-4), name
        assert rel.loc[name, "omega.latent"] == pytest.approx(
            fx["omega_latent_response"][name], abs=1e-4), name
        assert rel.loc[name, "ave"] == pytest.approx(fx["ave"][name], abs=1e-4), name
        assert "Green & Yang" in rel.loc[name, "note"]


def test_continuous_fit_has_no_latent_response_omega():
    hs = cs.datasets.holzinger_swineford() if hasattr(cs.datasets, "holzinger_swineford") else (
        pd.read_csv(REPO / "src/cbec_sem/datasets/data/HolzingerSwineford1939.csv"))
    res = cs.fit("visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6", hs)
    rel = cs.reliability(res)
    assert rel["omega.latent"].isna().all()
    assert rel["omega"].notna().all()


def test_indicator_diagnostics_se_is_lavaans(case):
    # the table users read: its se column is the std.all SE of each loading
    fx, res = case
    diag = cs.indicator_diagnostics(res)
    theirs = pd.DataFrame(fx["std_solution"])
    theirs = theirs[theirs["op"] == "=~"].set_index(["lhs", "rhs"])["se"]
    for r in diag.itertuples():
        assert r.se == pytest.approx(theirs[(r.construct, r.item)], rel=1e-3), r.item
