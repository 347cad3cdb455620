"""descriptives(): agrees with scipy.stats (bias=False) and handles edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cbec_sem.errors import DataError
from cbec_sem.survey import descriptives, load_survey


def test_matches_scipy_bias_false():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.integers(1, 8, size=(50, 3)).astype(float), columns=["a", "b", "c"])
    frame.loc[[3, 9], "b"] = np.nan
    result = descriptives(frame, ["a", "b", "c"])
    for item in ["a", "b", "c"]:
        x = frame[item].dropna().to_numpy()
        row = result.loc[item]
        assert row["n"] == x.size
        assert row["mean"] == pytest.approx(x.mean())
        assert row["sd"] == pytest.approx(x.std(ddof=1))
        assert row["min"] == x.min() and row["max"] == x.max()
        assert row["skew"] == pytest.approx(stats.skew(x, bias=False))
        assert row["kurtosis"] == pytest.approx(stats.kurtosis(x, fisher=True, bias=False))
    assert result.loc["b", "n"] == 48


def test_known_values():
    # x = 1..5: symmetric, so G1 = 0; G2 = -1.2 for five equally spaced points
    result = descriptives(pd.DataFrame({"x": [1, 2, 3, 4, 5]}), ["x"])
    assert result.loc["x", "sd"] == pytest.approx(np.sqrt(2.5))
    assert result.loc["x", "skew"] == pytest.approx(0.0)
    assert result.loc["x", "kurtosis"] == pytest.approx(-1.2)


def test_edge_cases_give_nan_not_warnings(recwarn):
    frame = pd.DataFrame({"const": [4.0] * 6, "three": [1, 2, 4, np.nan, np.nan, np.nan]})
    result = descriptives(frame, ["const", "three"])
    assert result.loc["const", "sd"] == 0.0
    assert np.isnan(result.loc["const", "skew"]) and np.isnan(result.loc["const", "kurtosis"])
    assert result.loc["three", "n"] == 3
    assert not np.isnan(result.loc["three", "skew"])
    assert np.isnan(result.loc["three", "kurtosis"])  # needs n >= 4
    assert len(recwarn) == 0


def test_survey_input_uses_its_items(clean_frame):
    survey = load_survey(clean_frame, items=["ta1", "fa1"], scale=(1, 7))
    result = descriptives(survey)
    assert result.index.tolist() == ["ta1", "fa1"]
    assert result.columns.tolist() == ["n", "mean", "sd", "min", "max", "skew", "kurtosis"]
    assert result.loc["ta1", "mean"] == pytest.approx(clean_frame["ta1"].mean())


def test_default_items_of_a_frame_are_numeric_columns(clean_frame):
    result = descriptives(clean_frame)
    assert "country" not in result.index and "id" not in result.index
    assert len(result) == 6


def test_errors(clean_frame):
    with pytest.raises(DataError, match=r"\['zz'\] not in the data"):
        descriptives(clean_frame, ["zz"])
    with pytest.raises(DataError, match="'country'.*non-numeric"):
        descriptives(clean_frame, ["country"])
    with pytest.raises(DataError, match="DataFrame or a Survey"):
        descriptives([1, 2, 3], ["a"])


def test_huge_answers_scale_instead_of_overflowing():
    """Answers near 1e200 (a unit slip, or a hostile file): the mean and sd scale with the
    data and skewness/kurtosis do not (closed form), where the sd used to overflow to inf."""
    base = np.array([1.0, -1.0, 3.0, 2.0, 2.5])
    small = descriptives(pd.DataFrame({"a": base}))
    big = descriptives(pd.DataFrame({"a": base * 1e200}))
    for col in ("mean", "sd", "min", "max"):
        assert big.loc["a", col] == pytest.approx(small.loc["a", col] * 1e200, rel=1e-12)
    for col in ("skew", "kurtosis"):
        assert big.loc["a", col] == pytest.approx(small.loc["a", col], rel=1e-12)
    assert small.loc["a", "sd"] == pytest.approx(np.std(base, ddof=1), rel=1e-14)
