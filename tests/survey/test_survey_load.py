"""load_survey: reverse-keying, scales, options, immutability of the input, the Survey object."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbec_sem.errors import DataError, DataWarning
from cbec_sem.survey import Codebook, Survey, load_survey

ITEMS = ["ta1", "ta2", "fa1", "fa2", "vp1", "vp2"]


def test_reverse_keying_arithmetic_on_1_to_7():
    frame = pd.DataFrame({"a": [1, 2, 3, 4, 5, 6, 7], "b": [2, 2, 3, 3, 1, 7, 4]})
    with pytest.warns(DataWarning, match="reverse-keyed 1 item"):
        survey = load_survey(frame, scale=(1, 7), reverse=["b"])
    assert survey.data["b"].tolist() == [6.0, 6.0, 5.0, 5.0, 7.0, 1.0, 4.0]
    assert survey.data["a"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]  # not asked
    assert survey.raw["b"].tolist() == [2, 2, 3, 3, 1, 7, 4]
    row = survey.checks[survey.checks["check"] == "reverse_keyed"].iloc[0]
    assert (row["column"], row["severity"], row["count"]) == ("b", "info", 7)
    assert "1 + 7 - x" in row["message"]
    assert survey.reversed_items == ("b",)
    assert survey.codebook.get("b").reverse is True
    assert survey.codebook.get("a").reverse is False


def test_reverse_keying_with_per_item_scales():
    frame = pd.DataFrame({"a": [1, 2, 5], "b": [0, 3, 10]})
    with pytest.warns(DataWarning):
        survey = load_survey(frame, scale={"a": (1, 5), "b": (0, 10)}, reverse=("a", "b"))
    assert survey.data["a"].tolist() == [5.0, 4.0, 1.0]
    assert survey.data["b"].tolist() == [10.0, 7.0, 0.0]
    assert survey.scales == {"a": (1, 5), "b": (0, 10)}


def test_reverse_keying_from_codebook_flag():
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 1]})
    codebook = {"scale": [1, 5], "items": {"a": None, "b": {"reverse": True}}}
    with pytest.warns(DataWarning, match=": b;"):
        survey = load_survey(frame, codebook=codebook)
    assert survey.data["b"].tolist() == [2.0, 1.0, 5.0]
    assert survey.data["a"].tolist() == [1.0, 2.0, 3.0]


def test_no_reverse_keying_unless_asked(clean_frame):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        survey = load_survey(clean_frame, items=ITEMS, scale=(1, 7))
    pd.testing.assert_frame_equal(survey.data[ITEMS], clean_frame[ITEMS].astype("float64"))
    assert survey.reversed_items == ()


def test_reverse_needs_a_scale():
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [3, 2, 1]})
    with pytest.raises(DataError, match=r"cannot reverse-key \['b'\].*scale"):
        load_survey(frame, reverse=["b"])
    with pytest.raises(DataError, match=r"cannot reverse-key \['b'\]"):
        load_survey(frame, scale={"a": (1, 3)}, reverse=["b"])


def test_reverse_names_must_be_items(clean_frame):
    with pytest.raises(DataError, match="'ta9'"):
        load_survey(clean_frame, items=ITEMS, scale=(1, 7), reverse=["ta9"])
    with pytest.raises(DataError, match="'country'.*columns but not items"):
        load_survey(clean_frame, items=ITEMS, scale=(1, 7), reverse=["country"])


def test_reverse_keying_of_out_of_range_set_missing_stays_missing():
    frame = pd.DataFrame({"a": [1, 9, 3], "b": [1, 2, 3]})
    with pytest.warns(DataWarning):
        survey = load_survey(frame, scale=(1, 7), reverse=["a"], out_of_range="missing")
    assert survey.data["a"].isna().tolist() == [False, True, False]
    assert survey.data["a"].tolist()[::2] == [7.0, 5.0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    low=st.integers(-3, 3),
    width=st.integers(1, 10),
    data=st.data(),
)
def test_reverse_keying_twice_is_identity(low, width, data):
    high = low + width
    n_rows = data.draw(st.integers(1, 12))
    answers = data.draw(
        st.lists(
            st.lists(st.one_of(st.none(), st.integers(low, high)), min_size=3, max_size=3),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
    frame = pd.DataFrame(answers, columns=["x", "y", "z"], dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        once = load_survey(frame, items=["x", "y", "z"], scale=(low, high), reverse=["x", "z"])
        twice = load_survey(once.data, items=["x", "y", "z"], scale=(low, high), reverse=["x", "z"])
    pd.testing.assert_frame_equal(twice.data, frame)
    # and once is in range: low + high - x maps [low, high] onto itself
    values = once.data[["x", "z"]].to_numpy()
    present = values[~np.isnan(values)]
    assert ((present >= low) & (present <= high)).all()
    assert not (once.checks["check"] == "out_of_range").any()


def test_input_frame_is_not_mutated(clean_frame):
    frame = clean_frame.copy()
    frame["fa1"] = frame["fa1"].astype(object)
    frame.loc[2, "fa1"] = "n/a"
    frame.loc[3, "ta1"] = 9
    frame.index = pd.RangeIndex(100, 130)
    before = frame.copy(deep=True)
    with pytest.warns(DataWarning):
        survey = load_survey(
            frame,
            items=ITEMS,
            scale=(1, 7),
            reverse=["fa2"],
            out_of_range="missing",
            id_column="id",
        )
    pd.testing.assert_frame_equal(frame, before)
    assert frame["fa1"].dtype == object
    assert survey.data is not frame and survey.raw is not frame
    pd.testing.assert_frame_equal(survey.raw, before)
    # changing the survey's frames does not reach back into the caller's frame either
    survey.data.loc[100, "ta2"] = -1
    survey.raw.loc[100, "ta2"] = -1
    pd.testing.assert_frame_equal(frame, before)


def test_items_validation(clean_frame):
    with pytest.raises(DataError, match=r"\['zz'\] not in the data"):
        load_survey(clean_frame, items=["ta1", "zz"])
    with pytest.raises(DataError, match="id column 'id' cannot also be an item"):
        load_survey(clean_frame, items=["id", "ta1"], id_column="id")
    with pytest.raises(DataError, match="more than once"):
        load_survey(clean_frame, items=["ta1", "ta1"])
    with pytest.raises(DataError, match="items is empty"):
        load_survey(clean_frame, items=[])
    survey = load_survey(clean_frame, items="ta1")
    assert survey.items == ("ta1",)


def test_scale_validation(clean_frame):
    with pytest.raises(DataError, match="low < high"):
        load_survey(clean_frame, items=ITEMS, scale=(7, 1))
    with pytest.raises(DataError, match="pair of numbers"):
        load_survey(clean_frame, items=ITEMS, scale=(1, 4, 7))
    with pytest.raises(DataError, match=r"scale given for \['zz'\]"):
        load_survey(clean_frame, items=ITEMS, scale={"zz": (1, 7)})
    codebook = {"items": {"ta1": {"scale": [1, 5]}}}
    with pytest.raises(DataError, match="'ta1'.*scale= says"):
        load_survey(clean_frame, items=ITEMS, scale=(1, 7), codebook=codebook)


def test_codebook_scale_used_when_no_scale_argument(clean_frame):
    frame = clean_frame.copy()
    frame.loc[0, "ta1"] = 6
    codebook = Codebook.from_dict({"items": {"ta1": {"scale": [1, 5]}}})
    survey = load_survey(frame, items=ITEMS, codebook=codebook)
    assert survey.scales["ta1"] == (1, 5)
    assert survey.scales["ta2"] is None
    assert 0 in survey.checks.loc[survey.checks["check"] == "out_of_range", "rows"].iloc[0]


def test_codebook_entries_are_the_default_items(clean_frame):
    survey = load_survey(clean_frame, codebook={"scale": [1, 7], "items": ["ta1", "fa1"]})
    assert survey.items == ("ta1", "fa1")
    # other columns kept, unchanged
    assert survey.data["ta2"].tolist() == clean_frame["ta2"].tolist()
    assert survey.data["ta2"].dtype == clean_frame["ta2"].dtype


def test_option_validation(clean_frame):
    with pytest.raises(DataError, match="out_of_range"):
        load_survey(clean_frame, items=ITEMS, out_of_range="drop")
    with pytest.raises(DataError, match="straightlining_min_items"):
        load_survey(clean_frame, items=ITEMS, straightlining_min_items=1)
    with pytest.raises(DataError, match="straightlining_min_items"):
        load_survey(clean_frame, items=ITEMS, straightlining_min_items=True)


def test_no_items_found_raises():
    with pytest.raises(DataError, match="no numeric-looking columns"):
        load_survey(pd.DataFrame({"name": ["a", "b"], "city": ["x", "y"]}))


def test_non_text_item_names_raise():
    with pytest.raises(DataError, match="must be text"):
        load_survey(pd.DataFrame(np.ones((3, 2))))
    with pytest.raises(DataError, match="must be text"):
        load_survey(pd.DataFrame(np.ones((3, 2))), items=[0, 1])


def test_warnings_point_at_the_caller():
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [3, "x", 1]})
    with pytest.warns(DataWarning) as record:
        load_survey(frame, scale=(1, 3), reverse=["a"])
    assert len(record) == 2
    assert {Path(w.filename).name for w in record} == {Path(__file__).name}


def test_survey_object(clean_frame):
    frame = clean_frame.copy()
    frame.loc[0, "ta1"] = 8
    survey = load_survey(frame, items=ITEMS, scale=(1, 7), id_column="id")
    assert isinstance(survey, Survey)
    with pytest.raises(dataclasses.FrozenInstanceError):
        survey.items = ("x",)  # type: ignore[misc]
    copy = survey.to_frame()
    pd.testing.assert_frame_equal(copy, survey.data)
    copy.loc[0, "ta1"] = 1
    assert survey.data.loc[0, "ta1"] == 8.0
    assert survey.n_respondents == 30
    text = survey.summary()
    assert "30 respondents, 6 items" in text
    assert "Id column: id" in text
    assert "1-7 (6 items)" in text
    assert "1 error" in text and "out_of_range" in text
    assert "'ta1'" in text
    assert "1 errors" in repr(survey) and "30 respondents x 6 items" in repr(survey)
