"""Fixtures for the survey-data tests."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from cbec_sem.survey import Survey, load_survey

ITEMS = ["ta1", "ta2", "fa1", "fa2", "vp1", "vp2"]


@pytest.fixture
def clean_frame() -> pd.DataFrame:
    """30 respondents, an id, a group column and six 1-7 items with nothing wrong in them."""
    rng = np.random.default_rng(20240601)
    answers = rng.integers(1, 8, size=(30, len(ITEMS)))
    # no straight-liner, no near-constant item (checked here so the fixture cannot drift)
    assert all(len(set(row)) > 1 for row in answers)
    frame = pd.DataFrame(answers, columns=ITEMS)
    frame.insert(0, "id", [f"r{i:02d}" for i in range(30)])
    frame.insert(1, "country", ["CN", "US", "DE"] * 10)
    return frame


@pytest.fixture
def load_quietly() -> Callable[..., tuple[Survey, list[warnings.WarningMessage]]]:
    """Call load_survey and return the survey with the warnings it issued."""

    def run(*args: object, **kwargs: object) -> tuple[Survey, list[warnings.WarningMessage]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            survey = load_survey(*args, **kwargs)
        return survey, list(caught)

    return run
