"""The composite operator ``<~`` (mode B): parsed for the PLS estimators, refused by CB-SEM.

Expected behaviour from lavaan's syntax (Rosseel 2012, Table 1: ``<~`` "is formed by") and
seminr's ``composite(..., weights = mode_B)``.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import SpecError
from cbec_sem.specification import ModelSpec


def test_composite_statements_parse_and_round_trip():
    m = ModelSpec.from_lavaan("F <~ x1 + x2\nG =~ y1 + y2\nG ~ F")
    ops = [(s.lhs, s.op, s.rhs) for s in m.statements]
    assert ops[:2] == [("F", "<~", "x1"), ("F", "<~", "x2")]
    assert m.latent_variables == ("F", "G")
    assert m.observed_variables == ("x1", "x2", "y1", "y2")
    assert m.indicators["F"] == ("x1", "x2")
    assert ModelSpec.from_lavaan(m.to_lavaan()) == m


def test_composite_of_itself_is_refused():
    with pytest.raises(SpecError, match="indicator of itself"):
        ModelSpec.from_lavaan("F <~ F + x1")


def test_cbsem_refuses_composites_and_names_pls():
    rng = np.random.default_rng(1)
    data = pd.DataFrame(rng.normal(size=(50, 4)), columns=["x1", "x2", "y1", "y2"])
    with pytest.raises(SpecError, match="estimated only by PLS"):
        cs.fit("F <~ x1 + x2\nG =~ y1 + y2\nG ~ F", data)


def test_lavaan_fits_composites_that_cbsem_refuses():
    # lavaan 0.6-14 fits `ind60 <~ 1*x1 + x2 + x3` in sem() as a latent without indicators
    # whose residual variance is fixed to 0 (tests/fixtures/make_composite_fixtures.R); the
    # CB-SEM estimators do not build that model yet and refuse it, naming PLS.
    fixtures = Path(__file__).parents[1] / "fixtures"
    fx = json.loads((fixtures / "lavaan_composites" / "poldem_composite.json").read_text())
    pt = pd.DataFrame(fx["partable"])
    assert fx["converged"]
    residual = pt[(pt.lhs == "ind60") & (pt.op == "~~") & (pt.rhs == "ind60")]
    assert residual["free"].tolist() == [0] and residual["ustart"].tolist() == [0]
    data = pd.read_csv(fixtures.parents[1] / fx["data"])
    with pytest.raises(SpecError, match="estimator='PLS'"):
        cs.fit(fx["model"], data)
