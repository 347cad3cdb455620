"""The invariance ladder under MLR and MLM compares levels as lavaan's lavTestLRT() does.

Expected values: ``tests/fixtures/semtools/invariance_robust_{mlr,mlm}.json``, written by
``tests/fixtures/make_invariance_robust_fixtures.R`` (lavaan 0.6-14: the HS three-factor CFA
by school, configural → strict, ``lavTestLRT()`` with its default for a scaled test, method
"satorra.bentler.2001", and each level's ``fitMeasures()``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from cbec_sem.measurement import invariance
from cbec_sem.measurement.invariance import scaled_difference

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]


@pytest.fixture(scope="module", params=["mlr", "mlm"])
def ladder(request):
    fx = json.loads((FIXTURES / "semtools" / f"invariance_robust_{request.param}.json")
                    .read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = invariance(fx["model"], pd.read_csv(REPO / fx["data"]), fx["group"],
                         estimator=fx["estimator"])
    return fx, res


def test_scaled_difference_test_is_lavtestlrt_default(ladder):
    fx, res = ladder
    assert "satorra.bentler.2001" in fx["method"]
    lrt = pd.DataFrame(fx["lrt"]).set_index("level")
    for level in ("metric", "scalar", "strict"):
        row = res.table.loc[level]
        # c_d differences scaling factors that agree with lavaan's to ~1e-6 (each level's
        # chisq.scaling.factor), which the differencing amplifies about tenfold: 5e-5
        assert row["delta_chisq"] == pytest.approx(lrt.loc[level, "Chisq diff"], rel=5e-5)
        assert row["delta_df"] == lrt.loc[level, "Df diff"]
        assert row["p_delta"] == pytest.approx(lrt.loc[level, "Pr(>Chisq)"], rel=1e-4)
    for level in lrt.index:  # the standard statistic of each level, as lavTestLRT lists it
        assert res.table.loc[level, "chisq"] == pytest.approx(lrt.loc[level, "Chisq"],
                                                              rel=1e-5)


def test_changes_in_fit_use_the_robust_indices(ladder):
    fx, res = ladder
    fm = fx["fit_measures"]
    for level in ("configural", "metric", "scalar", "strict"):
        row = res.table.loc[level]
        assert row["cfi"] == pytest.approx(fm[level]["cfi.robust"], abs=1e-4)
        assert row["rmsea"] == pytest.approx(fm[level]["rmsea.robust"], abs=1e-4)
        assert row["chisq.scaled"] == pytest.approx(fm[level]["chisq.scaled"], rel=1e-5)
    d = res.table.loc["scalar", "delta_cfi"]
    assert d == pytest.approx(fm["scalar"]["cfi.robust"] - fm["metric"]["cfi.robust"],
                              abs=1e-4)
    assert any("Satorra-Bentler (2001)" in n for n in res.notes)


def test_scaled_difference_closed_form():
    # equal scaling factors: the difference is the plain difference divided by c
    assert scaled_difference(30.0, 12, 1.5, 10.0, 8, 1.5) == pytest.approx(20.0 / 1.5)
