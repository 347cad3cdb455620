"""The ordinal estimators' work bound (issue 14, ``engine/work_limits.py``): k² · (50 + n/100)
units for k = p(p−1)/2 + p, refused before the polychorics are estimated above
``estimator_options={"ordinal_work_limit": ...}`` (default ORDINAL_WORK_LIMIT).  132 ordered
items at N = 2000 ran for minutes (benchmarks/bench_hostile.py).

Data: Holzinger–Swineford's nine tests cut into five categories (``cs.datasets``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.engine import work_limits

HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def hs_ordinal():
    hs = cs.datasets.holzinger_swineford_1939()
    items = [f"x{i}" for i in range(1, 10)]
    return hs[items].apply(lambda c: pd.cut(c, 5, labels=False)).astype(int)


def test_ordinal_work_is_counted_as_documented():
    k = 9 * 8 / 2 + 9
    assert work_limits.ordinal_work(9, 301) == pytest.approx(k * k * (50 + 3.01), rel=1e-12)


def test_ordinal_fit_beyond_its_work_limit_is_refused_before_the_polychorics(
        hs_ordinal, monkeypatch):
    work = work_limits.ordinal_work(9, len(hs_ordinal))

    def no_statistics(*args, **kwargs):
        raise AssertionError("the polychorics were estimated")

    monkeypatch.setattr("cbec_sem.engine.ordinal.ordinal_statistics", no_statistics)
    with pytest.raises(cs.errors.EstimationError) as info:
        cs.fit(HS_MODEL, hs_ordinal, ordered=True,
               estimator_options={"ordinal_work_limit": work - 1})
    for part in ("36 polychoric correlations of 9 items over 301 rows",
                 "'ordinal_work_limit': None", "estimator='MLR'"):
        assert part in str(info.value)
    monkeypatch.undo()
    at_limit = cs.fit(HS_MODEL, hs_ordinal, ordered=True,
                      estimator_options={"ordinal_work_limit": work})
    default = cs.fit(HS_MODEL, hs_ordinal, ordered=True)
    assert np.isclose(at_limit.fit_measures["chisq"], default.fit_measures["chisq"], rtol=1e-12)


@pytest.mark.parametrize("value", ["x", -1, False])
def test_the_ordinal_work_limit_option_is_checked(hs_ordinal, value):
    with pytest.raises(cs.errors.SpecError, match="ordinal_work_limit"):
        cs.fit(HS_MODEL, hs_ordinal, ordered=True,
               estimator_options={"ordinal_work_limit": value})
