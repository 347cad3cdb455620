"""Reading every supported format: round trips, labels, and the errors around reading."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from cbec_sem.errors import DataError, DataWarning
from cbec_sem.survey import load_survey
from cbec_sem.survey.readers import read_source

ITEMS = ["ta1", "ta2", "fa1", "fa2", "vp1", "vp2"]


def _assert_items_equal(survey, frame) -> None:
    assert survey.items == tuple(ITEMS)
    expected = frame[ITEMS].astype("float64")
    pd.testing.assert_frame_equal(survey.data[ITEMS], expected, check_names=False)
    assert list(survey.data.columns) == list(frame.columns)
    assert survey.data["id"].tolist() == frame["id"].tolist()


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".txt", ".parquet", ".xlsx"])
def test_round_trip_plain_formats(tmp_path, clean_frame, load_quietly, suffix):
    path = tmp_path / f"survey{suffix}"
    if suffix == ".csv":
        clean_frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        clean_frame.to_csv(path, index=False, sep="\t")
    elif suffix == ".txt":
        clean_frame.to_csv(path, index=False, sep=";")
    elif suffix == ".parquet":
        clean_frame.to_parquet(path, index=False)
    else:
        clean_frame.to_excel(path, index=False)
    survey, caught = load_quietly(path, items=ITEMS, scale=(1, 7), id_column="id")
    _assert_items_equal(survey, clean_frame)
    assert survey.data["country"].tolist() == clean_frame["country"].tolist()
    assert survey.source == str(path)
    assert data_quality(survey).empty, survey.checks
    assert caught == []



def data_quality(survey):
    """The findings about the answers themselves (the multivariate-normality row is a
    modelling diagnostic, present for every survey with enough complete rows)."""
    return survey.checks.query("check != 'multivariate_normality'")


def test_excel_sheet_by_name(tmp_path, clean_frame, load_quietly):
    path = tmp_path / "survey.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(writer, sheet_name="cover", index=False)
        clean_frame.to_excel(writer, sheet_name="answers", index=False)
    survey, _ = load_quietly(path, sheet="answers", items=ITEMS, scale=(1, 7))
    _assert_items_equal(survey, clean_frame)
    with pytest.raises(DataError, match="sheet 'nope'"):
        load_survey(path, sheet="nope", items=ITEMS)


def test_spss_round_trip_keeps_labels(tmp_path, clean_frame, load_quietly):
    pyreadstat = pytest.importorskip("pyreadstat")
    path = tmp_path / "survey.sav"
    labels = {"ta1": "Our platform technology is up to date", "fa1": "We reach new markets"}
    value_labels = {"ta1": {1: "Strongly disagree", 7: "Strongly agree"}}
    pyreadstat.write_sav(
        clean_frame, str(path), column_labels=labels, variable_value_labels=value_labels
    )
    survey, caught = load_quietly(path, items=ITEMS, scale=(1, 7), id_column="id")
    _assert_items_equal(survey, clean_frame)
    assert caught == []
    assert survey.codebook.get("ta1").label == labels["ta1"]
    assert survey.codebook.get("fa1").label == labels["fa1"]
    assert survey.codebook.get("ta2").label is None
    assert dict(survey.codebook.get("ta1").value_labels) == {
        1: "Strongly disagree",
        7: "Strongly agree",
    }
    assert survey.codebook.get("ta1").scale == (1, 7)
    frame = survey.codebook.to_frame()
    assert frame.loc["ta1", "label"] == labels["ta1"]


def test_spss_user_missing_codes_are_missing_and_reported(tmp_path, load_quietly):
    pyreadstat = pytest.importorskip("pyreadstat")
    frame = pd.DataFrame(
        {"q1": [1.0, 99.0, 3.0, 4.0, 99.0], "q2": [2.0, 3.0, 4.0, 5.0, 1.0]}
    )
    path = tmp_path / "missing.sav"
    pyreadstat.write_sav(frame, str(path), missing_ranges={"q1": [99]})
    survey, _ = load_quietly(path, items=["q1", "q2"], scale=(1, 5))
    assert survey.data["q1"].isna().tolist() == [False, True, False, False, True]
    row = survey.checks[survey.checks["check"] == "user_missing"].iloc[0]
    assert row["column"] == "q1"
    assert row["rows"] == [1, 4]
    assert row["count"] == 2
    assert row["severity"] == "info"
    assert "99" in row["message"]
    # user-missing codes are not out of range: they are missing before any check runs
    assert "out_of_range" not in set(survey.checks["check"])


def test_stata_round_trip_keeps_labels(tmp_path, clean_frame, load_quietly):
    pyreadstat = pytest.importorskip("pyreadstat")
    path = tmp_path / "survey.dta"
    pyreadstat.write_dta(
        clean_frame,
        str(path),
        column_labels={"vp1": "Brand building overseas"},
        variable_value_labels={"vp1": {1: "Strongly disagree", 7: "Strongly agree"}},
    )
    survey, caught = load_quietly(path, items=ITEMS, scale=(1, 7), id_column="id")
    _assert_items_equal(survey, clean_frame)
    assert caught == []
    assert survey.codebook.get("vp1").label == "Brand building overseas"
    assert dict(survey.codebook.get("vp1").value_labels) == {
        1: "Strongly disagree",
        7: "Strongly agree",
    }


def test_csv_is_read_strictly(tmp_path):
    path = tmp_path / "strict.csv"
    path.write_text("id,q1,q2\n007,5 ,n/a\n008,3,NA\n009,,4\n", encoding="utf-8")
    raw = read_source(path).frame
    # pandas alone would turn "5 " into 5 and "n/a"/"NA" into NaN without a word
    assert raw["q1"].tolist()[:2] == ["5 ", "3"]
    assert raw["q2"].tolist()[:2] == ["n/a", "NA"]
    assert pd.isna(raw["q1"].iloc[2])
    # a column where every cell is a number becomes numeric
    assert raw["id"].tolist() == [7, 8, 9]


def test_excel_text_cells_are_not_parsed_leniently(tmp_path, load_quietly):
    path = tmp_path / "text_cells.xlsx"
    pd.DataFrame({"q1": [1, "5 ", 3, "4"], "q2": [1, 2, 3, 4]}).to_excel(path, index=False)
    raw = read_source(path).frame
    assert raw["q1"].tolist() == [1, "5 ", 3, "4"]
    assert raw["q2"].dtype == "int64"
    survey, caught = load_quietly(path, scale=(1, 5))
    row = survey.checks[survey.checks["check"] == "non_numeric"].iloc[0]
    assert (row["column"], row["rows"]) == ("q1", [1])
    assert survey.data["q1"].tolist()[2:] == [3.0, 4.0]
    assert len(caught) == 1 and issubclass(caught[0].category, DataWarning)


def test_header_only_csv(tmp_path, load_quietly):
    path = tmp_path / "empty.csv"
    path.write_text("q1,q2\n", encoding="utf-8")
    survey, _ = load_quietly(path)
    assert survey.items == ("q1", "q2") and survey.n_respondents == 0
    assert set(survey.checks.loc[survey.checks["severity"] == "error", "check"]) == {"empty_item"}


def test_csv_with_bom_and_utf8_text(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("q1,国家\n1,中国\n2,美国\n".encode("utf-8-sig"))
    frame = read_source(path).frame
    assert list(frame.columns) == ["q1", "国家"]
    assert frame["国家"].tolist() == ["中国", "美国"]


def test_non_utf8_csv_says_what_to_do(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("q1,国家\n1,中国\n".encode("gbk"))
    with pytest.raises(DataError, match="not UTF-8.*encoding"):
        read_source(path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_duplicate_columns_in_file_raise(tmp_path, suffix):
    path = tmp_path / f"dupes{suffix}"
    if suffix == ".csv":
        path.write_text("id,q1,q2,q1\n1,1,2,3\n", encoding="utf-8")
    else:
        pd.DataFrame([[1, 1, 2, 3]], columns=["id", "q1", "q2", "q1"]).to_excel(path, index=False)
    with pytest.raises(DataError, match=r"duplicate column name\(s\) 'q1'") as info:
        load_survey(path)
    assert "q2" not in str(info.value)


def test_duplicate_columns_in_frame_raise():
    frame = pd.DataFrame([[1, 2, 3, 4]], columns=["a", "b", "a", "b"])
    with pytest.raises(DataError, match="'a', 'b'"):
        load_survey(frame)


def test_unknown_extension_names_file_and_formats(tmp_path):
    path = tmp_path / "survey.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_survey(path)
    message = str(info.value)
    assert "survey.json" in message
    for ext in (".csv", ".xlsx", ".sav", ".dta", ".parquet"):
        assert ext in message


def test_missing_file_names_file(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(DataError, match="nowhere.csv.*does not exist"):
        load_survey(path)


def test_bad_source_type():
    with pytest.raises(DataError, match="file path or a pandas DataFrame"):
        load_survey([[1, 2], [3, 4]])


def test_sheet_only_for_excel(tmp_path, clean_frame):
    path = tmp_path / "survey.csv"
    clean_frame.to_csv(path, index=False)
    with pytest.raises(DataError, match="Excel"):
        load_survey(path, sheet="answers")
    with pytest.raises(DataError, match="Excel"):
        load_survey(clean_frame, sheet=0)


@pytest.mark.parametrize(
    ("module", "suffix"),
    [
        ("pyreadstat", ".sav"),
        ("pyreadstat", ".dta"),
        ("openpyxl", ".xlsx"),
        ("pyarrow", ".parquet"),
    ],
)
def test_missing_optional_dependency(tmp_path, monkeypatch, module, suffix):
    path = tmp_path / f"survey{suffix}"
    path.write_bytes(b"not really")
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(DataError) as info:
        load_survey(path)
    assert 'pip install "cbec-sem[io]"' in str(info.value)
    assert module in str(info.value)


def test_xls_without_xlrd_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "old.xls"
    path.write_bytes(b"not really")
    monkeypatch.setitem(sys.modules, "xlrd", None)
    with pytest.raises(DataError, match="pip install xlrd"):
        load_survey(path)


def test_corrupt_spss_file_is_a_data_error(tmp_path):
    pytest.importorskip("pyreadstat")
    path = tmp_path / "broken.sav"
    path.write_bytes(b"this is not an SPSS file")
    with pytest.raises(DataError, match="broken.sav"):
        load_survey(path)


def test_raw_is_the_table_as_read(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text("q1,q2,q3\n1,x,3\n2,5,4\n9,3,2\n", encoding="utf-8")
    with pytest.warns(DataWarning):
        survey = load_survey(path, scale=(1, 5), reverse=["q3"], out_of_range="missing")
    assert survey.raw["q1"].tolist() == [1, 2, 9]
    assert survey.raw["q2"].tolist() == ["x", "5", "3"]
    assert survey.raw["q3"].tolist() == [3, 4, 2]
    assert survey.data["q1"].isna().tolist() == [False, False, True]
    np.testing.assert_array_equal(survey.data["q3"], [3.0, 2.0, 4.0])
