"""The catalogue of real-world file quirks and corrupt files (tests/fixtures/hostile/, made by
make_hostile_files.py): each file reads to the survey it holds, or raises a DataError that
names the file and the problem.  Expected tables: ``BASE`` of the generator script, i.e. what
the exporting tool was given."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import DataError, DataWarning

from .conftest import FIXTURES, assert_typed

#: make_hostile_files.BASE (the table every readable file holds)
BASE = pd.DataFrame({
    "q1": [1.0, 2, 3, 4, 5, 6],
    "q2": [7.0, 6, 5, 4, 3, 2],
    "q3": [4.0, 4, 5, 5, 6, np.nan],
    "q4": [2.0, 3, 2, 3, 2, 3],
})
DECIMALS = BASE.fillna(4) + 0.5


def _load(name: str, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return cs.load_survey(FIXTURES / name, **kwargs)


def _checks(survey) -> set[str]:
    return set(survey.checks["check"])


@pytest.mark.parametrize("name", [
    "plain.csv", "trailing_separator.csv", "trailing_separator_all.csv",
    "trailing_separators_many.csv", "semicolon_integers.csv", "bom_utf8.csv", "utf16_tab.txt",
    "crlf.csv", "quoted.csv", "blank_lines.csv", "no_final_newline.csv", "tab_saved_as.csv",
    "pipe.txt", "good.xlsx", "good.parquet",
])
def test_quirky_file_reads_to_the_survey_it_holds(name):
    survey = _load(name)
    pd.testing.assert_frame_equal(survey.data[list(BASE.columns)].reset_index(drop=True), BASE,
                                  check_dtype=False)


@pytest.mark.parametrize("name", ["semicolon_decimal_comma.csv", "excel_sep_line.csv"])
def test_semicolon_decimal_comma_file_reads_as_decimals(name):
    survey = _load(name)
    pd.testing.assert_frame_equal(survey.data[list(BASE.columns)].reset_index(drop=True),
                                  DECIMALS, check_dtype=False)
    assert "decimal_comma" in _checks(survey)


@pytest.mark.parametrize("name, check", [
    ("trailing_separator.csv", "trailing_separator"),
    ("trailing_separator_all.csv", "trailing_separator"),
    ("trailing_separators_many.csv", "trailing_separator"),
    ("semicolon_decimal_comma.csv", "delimiter"),
    ("semicolon_integers.csv", "delimiter"),
    ("tab_saved_as.csv", "delimiter"),
    ("short_row.csv", "short_row"),
    ("user_missing.sav", "user_missing"),
    ("extended_missing.dta", "user_missing"),
    ("huge_digits.csv", "non_numeric"),
    ("decimal_comma_quoted.csv", "non_numeric"),
    ("header_only.csv", "empty_item"),
    ("one_column_semicolon_header.csv", "mis_split"),
])
def test_what_the_reader_did_is_reported(name, check):
    assert check in _checks(_load(name))


def test_trailing_separator_does_not_shift_columns():
    # the bug of issue 14: pandas took the first column as the index and shifted the rest
    survey = _load("trailing_separator.csv")
    assert list(survey.data.columns) == ["q1", "q2", "q3", "q4"]
    assert survey.data["q4"].notna().all()
    assert survey.data["q1"].tolist() == BASE["q1"].tolist()


def test_short_row_reads_missing_fields_as_missing():
    survey = _load("short_row.csv")
    expected = BASE.copy()
    expected.loc[2, "q4"] = np.nan  # the generator dropped the last field of data line 3
    pd.testing.assert_frame_equal(survey.data[list(BASE.columns)].reset_index(drop=True),
                                  expected, check_dtype=False)


def test_spss_user_missing_codes_become_missing():
    survey = _load("user_missing.sav")
    # the generator coded q3's missing answer as 99 and q2's first answer as -9, declared
    # user-missing in the file
    assert np.isnan(survey.data["q3"].iloc[5]) and np.isnan(survey.data["q2"].iloc[0])
    assert survey.data["q2"].iloc[1:].tolist() == BASE["q2"].iloc[1:].tolist()
    notes = survey.checks[survey.checks["check"] == "user_missing"]
    assert set(notes["column"]) == {"q2", "q3"}


def test_stata_extended_missing_becomes_missing():
    survey = _load("extended_missing.dta")
    pd.testing.assert_frame_equal(survey.data[list(BASE.columns)].reset_index(drop=True), BASE,
                                  check_dtype=False)
    message = survey.checks.loc[survey.checks["check"] == "user_missing", "message"].iloc[0]
    assert "'q3'" in message and ".a" in message


def test_huge_digit_cell_is_reported_briefly():
    survey = _load("huge_digits.csv")
    assert np.isnan(survey.data["q1"].iloc[0])
    message = survey.checks.loc[survey.checks["check"] == "non_numeric", "message"].iloc[0]
    assert "'q1'" in message and len(message) < 400  # the 5,000 digits are not quoted in full


def test_one_column_file_with_another_separator_warns():
    with pytest.warns(DataWarning, match="sep=';'"):
        cs.load_survey(FIXTURES / "one_column_semicolon_header.csv")


@pytest.mark.parametrize("name, culprits", [
    ("bad_sheet_xml.xlsx", ["bad_sheet_xml.xlsx", "Excel"]),
    ("truncated.xlsx", ["truncated.xlsx", "corrupt or truncated"]),
    ("random_bytes.xlsx", ["random_bytes.xlsx"]),
    ("zip_header_garbage.xlsx", ["zip_header_garbage.xlsx"]),
    ("text_renamed.xlsx", ["text_renamed.xlsx"]),
    ("empty.xlsx", ["empty.xlsx"]),
    ("zip_without_workbook.xlsx", ["zip_without_workbook.xlsx"]),
    ("truncated.sav", ["truncated.sav", "SPSS"]),
    ("random_bytes.sav", ["random_bytes.sav", "SPSS"]),
    ("truncated.dta", ["truncated.dta", "Stata"]),
    ("random_bytes.dta", ["random_bytes.dta", "Stata"]),
    ("truncated.parquet", ["truncated.parquet", "Parquet"]),
    ("latin1.csv", ["latin1.csv", "not UTF-8"]),
    ("empty.csv", ["empty.csv", "empty"]),
    ("duplicate_header.csv", ["duplicate_header.csv", "'q1'"]),
    ("extra_field.csv", ["extra_field.csv", "line 5", "'9'"]),
])
def test_broken_file_raises_a_data_error_naming_it(name, culprits):
    with pytest.raises(DataError) as info:
        cs.load_survey(FIXTURES / name)
    assert_typed(info, DataError, *culprits)


# -- explicit separator and decimal mark ------------------------------------------------------


def test_sep_and_decimal_given():
    survey = _load("semicolon_decimal_comma.csv", sep=";", decimal=",")
    pd.testing.assert_frame_equal(survey.data[list(BASE.columns)].reset_index(drop=True),
                                  DECIMALS, check_dtype=False)


def test_decimal_point_refuses_decimal_commas():
    # "1,5" is not a number when the decimal mark is '.': the items hold no numbers at all
    with pytest.raises(DataError) as info:
        _load("semicolon_decimal_comma.csv", decimal=".", items=["q1", "q2"])
    assert_typed(info, DataError, "'q1'", "'1,5'")


def test_wrong_sep_is_refused_naming_the_right_one():
    with pytest.raises(DataError) as info:
        cs.load_survey(FIXTURES / "plain.csv", sep=";")
    assert_typed(info, DataError, "sep=';'", "sep=','", "plain.csv")


@pytest.mark.parametrize("kwargs, culprit", [
    ({"sep": "ab"}, "sep='ab'"),
    ({"sep": "1"}, "sep='1'"),
    ({"sep": '"'}, "sep="),
    ({"decimal": "x"}, "decimal='x'"),
    ({"sep": ",", "decimal": ","}, "both ','"),
])
def test_bad_sep_or_decimal(kwargs, culprit):
    with pytest.raises(DataError) as info:
        cs.load_survey(FIXTURES / "plain.csv", **kwargs)
    assert_typed(info, DataError, culprit)


@pytest.mark.parametrize("name", ["good.xlsx", "good.parquet", "user_missing.sav"])
def test_sep_refused_for_binary_files(name):
    with pytest.raises(DataError) as info:
        cs.load_survey(FIXTURES / name, sep=";")
    assert_typed(info, DataError, "sep=", name)


def test_sep_refused_for_a_dataframe():
    with pytest.raises(DataError) as info:
        cs.load_survey(BASE, decimal=",")
    assert_typed(info, DataError, "decimal=")


def test_files_unchanged_by_reading():
    # reading never writes: the catalogue file's bytes are the same afterwards
    path = FIXTURES / "trailing_separator.csv"
    before = path.read_bytes()
    _load("trailing_separator.csv")
    assert path.read_bytes() == before
