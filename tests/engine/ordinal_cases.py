"""Fitting a lavaan ordinal fixture (the JSON of tests/fixtures/make_ordinal_*_fixtures.R) as
the ordinal test modules do: the fixture's model, data, ordered items, estimator, group and
parameterization, with the data warnings lavaan also gives silenced."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

import cbec_sem as cs
from cbec_sem.errors import DataWarning

REPO = Path(__file__).parents[2]


def quiet(func, *args, **kwargs):
    """``func(*args, **kwargs)`` with DataWarnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return func(*args, **kwargs)


def fit_ordinal_case(fx: dict) -> cs.FitResult:
    """The fit a fixture describes."""
    opts = fx["options"]
    return quiet(cs.fit, fx["model"], pd.read_csv(REPO / fx["data"]), ordered=fx["ordered"],
                 estimator=opts["estimator"], group=opts["group"],
                 estimator_options={"parameterization": opts["parameterization"]})
