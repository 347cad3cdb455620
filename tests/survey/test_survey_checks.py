"""Every check fires on a crafted frame (right rows, counts, severity) and not on a clean one."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from cbec_sem.errors import DataError, DataWarning
from cbec_sem.survey import load_survey
from cbec_sem.survey import checks as ck

ITEMS = ["ta1", "ta2", "fa1", "fa2", "vp1", "vp2"]


def _rows(survey, check, column=None):
    found = survey.checks[survey.checks["check"] == check]
    if column is not None:
        found = found[found["column"] == column]
    assert len(found) == 1, survey.checks
    return found.iloc[0]


def _has(survey, check) -> bool:
    return bool((survey.checks["check"] == check).any())



def data_quality(survey):
    """The findings about the answers themselves (the multivariate-normality row is a
    modelling diagnostic, present for every survey with enough complete rows)."""
    return survey.checks.query("check != 'multivariate_normality'")


def test_clean_frame_has_no_findings_and_no_warnings(clean_frame):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        survey = load_survey(clean_frame, items=ITEMS, scale=(1, 7), id_column="id")
    assert data_quality(survey).empty
    columns = ["check", "severity", "column", "rows", "count", "message"]
    assert list(survey.checks.columns) == columns
    assert not survey.has_errors
    assert survey.missingness["n_missing"].tolist() == [0] * 6
    assert survey.missingness["pct_missing"].tolist() == [0.0] * 6
    assert (survey.respondent_missingness["n_missing"] == 0).all()
    assert survey.data[ITEMS].dtypes.eq("float64").all()


def test_auto_detected_items_and_text_column(clean_frame, load_quietly):
    survey, caught = load_quietly(clean_frame, scale=(1, 7), id_column="id")
    assert survey.items == tuple(ITEMS)
    row = _rows(survey, "non_numeric_column")
    assert (row["severity"], row["column"], row["count"]) == ("error", "country", 30)
    assert "'CN'" in row["message"]
    detected = _rows(survey, "items_detected")
    assert detected["severity"] == "info" and detected["count"] == 6
    assert caught == []
    # the text column is kept unchanged in data
    assert survey.data["country"].tolist() == clean_frame["country"].tolist()


def test_out_of_range_reported_and_left(clean_frame, load_quietly):
    frame = clean_frame.copy()
    frame.loc[3, "ta2"] = 0
    frame.loc[17, "ta2"] = 8
    frame.loc[5, "vp1"] = 99
    survey, caught = load_quietly(frame, items=ITEMS, scale=(1, 7))
    row = _rows(survey, "out_of_range", "ta2")
    assert row["severity"] == "error"
    assert row["rows"] == [3, 17]
    assert row["count"] == 2
    assert "0, 8" in row["message"] and "1-7" in row["message"]
    assert _rows(survey, "out_of_range", "vp1")["rows"] == [5]
    assert survey.data.loc[17, "ta2"] == 8.0  # "report" leaves the value
    assert caught == []
    assert survey.has_errors


def test_out_of_range_set_missing_warns_with_count(clean_frame):
    frame = clean_frame.copy()
    frame.loc[[3, 17], "ta2"] = [0, 8]
    with pytest.warns(DataWarning, match=r"2 out-of-range answer\(s\) set to missing in ta2 \(2\)"):
        survey = load_survey(frame, items=ITEMS, scale=(1, 7), out_of_range="missing")
    row = _rows(survey, "out_of_range", "ta2")
    assert row["severity"] == "warning"
    assert "set to missing" in row["message"]
    assert survey.data.loc[[3, 17], "ta2"].isna().all()
    assert survey.missingness.loc["ta2", "n_missing"] == 2
    assert _rows(survey, "missing", "ta2")["rows"] == [3, 17]


def test_non_numeric_cells(clean_frame):
    frame = clean_frame.copy()
    frame["fa1"] = frame["fa1"].astype(object)
    frame.loc[2, "fa1"] = "n/a"
    frame.loc[9, "fa1"] = "5 "
    frame.loc[11, "fa1"] = "4"  # a string that spells a number is a number
    with pytest.warns(DataWarning, match=r"2 non-numeric cell\(s\) set to missing in fa1 \(2\)"):
        survey = load_survey(frame, items=ITEMS, scale=(1, 7))
    row = _rows(survey, "non_numeric", "fa1")
    assert (row["severity"], row["rows"], row["count"]) == ("warning", [2, 9], 2)
    assert "'n/a'" in row["message"] and "'5 '" in row["message"]
    assert survey.data.loc[[2, 9], "fa1"].isna().all()
    assert survey.data.loc[11, "fa1"] == 4.0
    assert survey.data["fa1"].dtype == "float64"


def test_entirely_non_numeric_named_item_raises(clean_frame):
    with pytest.raises(DataError, match="'country'"):
        load_survey(clean_frame, items=[*ITEMS, "country"], scale=(1, 7))


def test_constant_and_near_constant_items(clean_frame, load_quietly):
    frame = clean_frame.copy()
    frame["ta1"] = 4
    frame["fa2"] = 6
    frame.loc[12, "fa2"] = 2  # 29 of 30 answers are 6: 96.7% >= 95%
    frame["vp2"] = 5
    frame.loc[[3, 4], "vp2"] = 1  # 28 of 30 = 93.3%: not near-constant
    survey, _ = load_quietly(frame, items=ITEMS, scale=(1, 7))
    const = _rows(survey, "constant_item")
    assert (const["column"], const["severity"], const["count"]) == ("ta1", "error", 30)
    near = _rows(survey, "near_constant_item")
    assert (near["column"], near["severity"], near["rows"]) == ("fa2", "warning", [12])
    assert "96.7%" in near["message"]


def test_empty_item_is_an_error(clean_frame, load_quietly):
    frame = clean_frame.copy()
    frame["vp1"] = np.nan
    survey, _ = load_quietly(frame, items=ITEMS, scale=(1, 7))
    row = _rows(survey, "empty_item")
    assert (row["column"], row["severity"]) == ("vp1", "error")
    assert survey.missingness.loc["vp1", "pct_missing"] == 100.0


def test_straightlining(clean_frame, load_quietly):
    frame = clean_frame.copy()
    frame.loc[4, ITEMS] = 3
    frame.loc[8, ITEMS] = [5, 5, 5, 5, np.nan, np.nan]  # only 4 answered
    survey, _ = load_quietly(frame, items=ITEMS, scale=(1, 7))
    row = _rows(survey, "straightlining")
    assert (row["severity"], row["rows"], row["count"]) == ("warning", [4], 1)
    lower, _ = load_quietly(frame, items=ITEMS, scale=(1, 7), straightlining_min_items=4)
    assert _rows(lower, "straightlining")["rows"] == [4, 8]
    higher, _ = load_quietly(frame, items=ITEMS, scale=(1, 7), straightlining_min_items=7)
    assert not _has(higher, "straightlining")


def test_straightlining_judged_before_reverse_keying(clean_frame, load_quietly):
    frame = clean_frame.copy()
    frame.loc[6, ITEMS] = 2
    survey, _ = load_quietly(frame, items=ITEMS, scale=(1, 7), reverse=["fa2"])
    assert _rows(survey, "straightlining")["rows"] == [6]
    assert survey.data.loc[6, "fa2"] == 6.0
    assert survey.longstring[6] == 6


def test_longstring_index():
    matrix = np.array(
        [
            [1, 1, 1, 2, 2, np.nan],
            [3, 3, np.nan, 3, 3, 3],  # a missing answer ends a run
            [1, 2, 3, 4, 5, 6],
            [np.nan] * 6,
        ]
    )
    assert ck.longstring(matrix).tolist() == [3, 3, 1, 0]


def test_longstring_attribute_is_per_respondent(clean_frame, load_quietly):
    survey, _ = load_quietly(clean_frame, items=ITEMS, scale=(1, 7))
    assert survey.longstring.index.equals(survey.data.index)
    expected = ck.longstring(clean_frame[ITEMS].to_numpy(dtype=float))
    assert survey.longstring.tolist() == expected.tolist()
    assert (survey.longstring >= 1).all()


def test_missingness_and_all_missing_rows(clean_frame, load_quietly):
    frame = clean_frame.copy().astype({c: "float64" for c in ITEMS})
    frame.loc[7, ITEMS] = np.nan
    frame.loc[[1, 2], "ta1"] = np.nan
    survey, _ = load_quietly(frame, items=ITEMS, scale=(1, 7))
    row = _rows(survey, "all_items_missing")
    assert (row["severity"], row["rows"]) == ("warning", [7])
    assert survey.missingness.loc["ta1", "n_missing"] == 3
    assert survey.missingness.loc["ta1", "pct_missing"] == pytest.approx(10.0)
    assert survey.missingness.loc["ta2", "n_missing"] == 1
    assert _rows(survey, "missing", "ta1")["rows"] == [1, 2, 7]
    resp = survey.respondent_missingness
    assert resp.loc[7, "n_missing"] == 6 and resp.loc[7, "pct_missing"] == 100.0
    assert resp.loc[1, "n_missing"] == 1
    assert resp.loc[1, "pct_missing"] == pytest.approx(100 / 6)
    assert resp["n_missing"].sum() == 8


def test_non_integer_answers_on_scaled_items(clean_frame, load_quietly):
    frame = clean_frame.astype({"vp2": "float64"})
    frame.loc[[0, 21], "vp2"] = [3.5, 6.25]
    survey, _ = load_quietly(frame, items=ITEMS, scale=(1, 7))
    row = _rows(survey, "non_integer")
    assert (row["column"], row["severity"], row["rows"]) == ("vp2", "warning", [0, 21])
    assert "3.5, 6.25" in row["message"]
    unscaled, _ = load_quietly(frame, items=ITEMS)
    assert not _has(unscaled, "non_integer")
    assert _rows(unscaled, "no_scale")["count"] == 6


def test_duplicate_and_missing_ids(clean_frame, load_quietly):
    frame = clean_frame.copy()
    frame.loc[5, "id"] = "r01"
    frame.loc[9, "id"] = None
    survey, _ = load_quietly(frame, items=ITEMS, scale=(1, 7), id_column="id")
    dup = _rows(survey, "duplicate_id")
    assert (dup["severity"], dup["rows"], dup["count"]) == ("error", [1, 5], 2)
    assert "'r01'" in dup["message"]
    missing = _rows(survey, "missing_id")
    assert (missing["severity"], missing["rows"]) == ("warning", [9])


def test_unknown_id_column_raises(clean_frame):
    with pytest.raises(DataError, match="'respondent'"):
        load_survey(clean_frame, id_column="respondent")


def test_rows_are_positions_not_labels(clean_frame, load_quietly):
    frame = clean_frame.copy()
    frame.index = [f"resp{i}" for i in range(30)]
    frame.loc["resp3", "ta1"] = 9
    survey, _ = load_quietly(frame, items=ITEMS, scale=(1, 7))
    assert _rows(survey, "out_of_range")["rows"] == [3]
    assert survey.data.index.equals(frame.index)


def test_long_row_lists_are_truncated_but_counted(load_quietly):
    n = ck.MAX_LISTED_ROWS + 200
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.integers(1, 6, size=(n, 5)), columns=list("abcde"))
    frame["a"] = 9
    survey, _ = load_quietly(frame, scale=(1, 5), straightlining_min_items=6)
    row = _rows(survey, "out_of_range")
    assert row["count"] == n
    assert len(row["rows"]) == ck.MAX_LISTED_ROWS
    assert f"and {n - 10} more" in row["message"]


def test_errors_come_first(clean_frame, load_quietly):
    frame = clean_frame.copy()
    frame.loc[0, "ta1"] = 9
    survey, _ = load_quietly(frame, items=ITEMS, scale=(1, 7), reverse=["fa1"])
    severities = survey.checks["severity"].tolist()
    assert severities == sorted(severities, key={"error": 0, "warning": 1, "info": 2}.get)
    assert survey.errors["check"].tolist() == ["out_of_range"]


def test_codebook_entry_without_column_is_reported(clean_frame, load_quietly):
    codebook = {"scale": [1, 7], "items": {**{i: None for i in ITEMS}, "is9": None}}
    survey, _ = load_quietly(clean_frame, codebook=codebook)
    assert survey.items == tuple(ITEMS)
    row = _rows(survey, "codebook_unmatched")
    assert row["severity"] == "warning" and "is9" in row["message"]


def test_multivariate_normality_row_reports_mardia():
    """The row quotes Mardia's b1p, b2p and p-values as cs.mardia (= psych::mardia) gives them,
    and warns when normality is rejected (the example survey's 7-point items: kurtosis p < .05)."""
    import cbec_sem as cs

    items = list(cs.paper_model().observed_variables)
    survey = load_survey(cs.datasets.example_survey(), scale=(1, 7), items=items)
    row = survey.checks.query("check == 'multivariate_normality'").iloc[0]
    m = cs.mardia(survey.data, items)
    assert f"b2p = {m.loc['kurtosis', 'coefficient']:.3f}" in row["message"]
    assert f"b1p = {m.loc['skew', 'coefficient']:.3f}" in row["message"]
    expected = "warning" if min(m["pvalue"][["skew", "kurtosis"]]) < 0.05 else "info"
    assert row["severity"] == expected
