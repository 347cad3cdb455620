"""Under a robust estimator every short fit display shows the robust measures, labelled.

Expected values: lavaan 0.6-14's ``fitMeasures()`` of the HS three-factor CFA under MLR
(``tests/fixtures/lavaan_robust/hs_cfa_mlr.json``, made by
``tests/fixtures/make_robust_fixtures.R``) and under WLSMV
(``tests/fixtures/lavaan_ordinal/cfa_wlsmv.json``, ``make_ordinal_fixtures.R``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.measurement.validate import validate
from cbec_sem.report.tables import fit_table, fit_table_text

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]


def _fit(path: str):
    fx = json.loads((FIXTURES / path).read_text())
    kwargs = {"estimator": fx["options"]["estimator"]}
    if fx.get("ordered"):
        kwargs["ordered"] = list(fx["ordered"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.errors.DataWarning)  # listwise deletion (bfi)
        return fx, cs.fit(fx["model"], pd.read_csv(REPO / fx["data"]), **kwargs)


@pytest.fixture(scope="module", params=["lavaan_robust/hs_cfa_mlr.json",
                                        "lavaan_ordinal/cfa_wlsmv.json"])
def robust_fit(request):
    return _fit(request.param)


def test_fit_table_shows_scaled_chisq_and_robust_indices(robust_fit):
    fx, res = robust_fit
    fm = fx["fit_measures"]
    table = fit_table(res)
    for key in ("chisq.scaled", "df.scaled", "cfi.robust", "tli.robust", "rmsea.robust",
                "rmsea.ci.lower.robust", "rmsea.ci.upper.robust"):
        assert table.loc[key, "value"] == pytest.approx(fm[key], abs=1e-3), key
    assert table.loc["cfi.robust", "label"] == "CFI (robust)"
    assert table.loc["cfi.robust", "standard"] == pytest.approx(fm["cfi"], abs=1e-3)
    assert "cfi" not in table.index and "srmr" in table.index
    text = fit_table_text(res)
    assert "CFI (robust)" in text and "Chi-square (scaled)" in text
    assert f"{fm['cfi.robust']:.3f}" in text


def test_validate_judges_the_robust_indices(robust_fit):
    fx, res = robust_fit
    fm = fx["fit_measures"]
    rows = validate(res).set_index("criterion")
    assert rows.loc["CFI (robust)", "value"] == pytest.approx(fm["cfi.robust"], abs=1e-3)
    assert rows.loc["TLI (robust)", "value"] == pytest.approx(fm["tli.robust"], abs=1e-3)
    assert rows.loc["RMSEA (robust)", "value"] == pytest.approx(fm["rmsea.robust"], abs=1e-3)
    assert bool(rows.loc["CFI (robust)", "passed"]) == (fm["cfi.robust"] >= 0.95)
    assert f"standard CFI {fm['cfi']:.3f}" in rows.loc["CFI (robust)", "note"]


def test_standard_fit_keeps_standard_labels():
    hs = pd.read_csv(REPO / "src/cbec_sem/datasets/data/HolzingerSwineford1939.csv")
    res = cs.fit("visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6", hs)
    table = fit_table(res)
    assert "cfi" in table.index and table["standard"].isna().all()
    assert "CFI" in set(validate(res)["criterion"])
