"""Fixtures shared by the engine's lavaan-comparison modules."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def joined(request, case) -> pd.DataFrame:
    """The module's ``_joined(res, fx)`` (its fit's parameters outer-merged with lavaan's)
    for the module's ``case`` (a tuple ending with the fixture and the fit), merged once per
    case: the tests only read it (the merge costs ~30 ms, and five tests of every case made
    it: the rows, three columns of estimates, the SEs)."""
    fx, res = case[-2:]
    return request.module._joined(res, fx)
