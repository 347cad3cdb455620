"""Shared fits for the resampling tests (each fitted once per session)."""

from __future__ import annotations

import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

import cbec_sem as cs

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]

#: case → (fixture with the model, data file, fit options)
CASES = {
    "paper_sim": ("paper_sim", "tests/fixtures/data/paper_sim.csv", {}),
    "poldem": ("poldem", "src/cbec_sem/datasets/data/PoliticalDemocracy.csv", {}),
    "hs_mimic": ("hs_mimic", "tests/fixtures/data/hs_grade_complete.csv", {}),
    "hs_school_metric": ("hs_school_metric",
                         "src/cbec_sem/datasets/data/HolzingerSwineford1939.csv",
                         {"group": "school", "group_equal": ("loadings",)}),
    "hs_school_labels": ("hs_school_labels",
                         "src/cbec_sem/datasets/data/HolzingerSwineford1939.csv",
                         {"group": "school"}),
    "hs_cfa_constrained": ("hs_cfa_constrained",
                           "src/cbec_sem/datasets/data/HolzingerSwineford1939.csv", {}),
}


def model_of(case: str) -> str:
    return json.loads((FIXTURES / "lavaan" / f"{CASES[case][0]}.json").read_text())["model"]


@lru_cache(maxsize=None)
def data_of(case: str) -> pd.DataFrame:
    return pd.read_csv(REPO / CASES[case][1])


@lru_cache(maxsize=None)
def fit_of(case: str) -> cs.FitResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cs.fit(model_of(case), data_of(case), **CASES[case][2])


def tiny_factor_data(seed: int = 1, n: int = 9) -> pd.DataFrame:
    """A one-factor, four-item data set so small that many resamples are singular (fewer
    than five distinct rows) and many refits are Heywood cases."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(n)
    X = np.column_stack([0.8 * f + 0.6 * rng.standard_normal(n) for _ in range(4)])
    return pd.DataFrame(X, columns=["y1", "y2", "y3", "y4"])


def lavaan_bootstrap(case: str) -> dict:
    return json.loads((FIXTURES / "lavaan_bootstrap" / f"{case}.json").read_text())
