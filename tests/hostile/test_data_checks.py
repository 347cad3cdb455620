"""The fit-time data check (cbec_sem.survey.fit_checks.check_fit_data), the codebook's
missing-value codes, bounded work on large inputs, and that no caller data are modified."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.engine import estimate as ml_estimate
from cbec_sem.errors import DataError, DataWarning, SpecError
from cbec_sem.survey.fit_checks import check_fit_data
from cbec_sem.validation import Suggester, suggest

from .conftest import MODEL, assert_typed, survey_frame

ITEMS = ["q1", "q2", "q3", "q4"]
DATA = survey_frame()


def _with(**columns):
    frame = DATA.copy()
    for name, values in columns.items():
        frame[name] = values
    return frame


@pytest.mark.parametrize("frame, culprits", [
    (_with(q1=DATA["q1"] > 3), ["'q1'", "boolean"]),
    (_with(q2=DATA["q2"].astype(complex) + 1j), ["'q2'", "complex"]),
    (_with(q3=DATA["q3"].astype(complex)), ["'q3'", "complex"]),
    (_with(q4=pd.Series([True, 2.0] * 60, dtype=object)), ["'q4'", "True/False"]),
    (_with(q1=pd.Series([1j, 2.0] * 60, dtype=object)), ["'q1'", "complex"]),
    (_with(g=[1, "1"] * 60), ["'g'", "1 (int)", "'1' (str)"]),
    (_with(g=[2.0, "2.0"] * 60), ["'g'", "differ only in type"]),
    (_with(q2=DATA["q2"] * 1e300), ["'q2'", "too large"]),
])
def test_refused_layouts(frame, culprits):
    with pytest.raises(DataError) as info:
        check_fit_data(frame, ITEMS, group="g" if "g" in frame else None)
    assert_typed(info, DataError, *culprits)


def test_multiindex_columns_refused():
    frame = DATA.copy()
    frame.columns = pd.MultiIndex.from_tuples([(c, "wave1") for c in ITEMS])
    with pytest.raises(DataError) as info:
        check_fit_data(frame, ITEMS)
    assert_typed(info, DataError, "MultiIndex", "('q1', 'wave1')")
    with pytest.raises(DataError) as info:
        cs.load_survey(frame)
    assert_typed(info, DataError, "MultiIndex")


@pytest.mark.parametrize("code", [99, -9, 999, 98, -99])
def test_missing_code_refused_at_fit_time(code):
    # A code among 1–7 answers would be fitted as an answer (issue 14): refused, naming the
    # column, the code, the rows and the other answers' range, with the fix.
    frame = DATA.copy()
    frame.loc[[3, 7], "q2"] = code
    with pytest.raises(DataError) as info:
        check_fit_data(frame, ITEMS)
    message = str(info.value)
    assert_typed(info, DataError, "'q2'", f"{code:g}", "rows 3, 7",
                 f"missing_codes=[{code:g}]")
    rest = DATA["q2"].drop([3, 7])
    assert f"{rest.min():g}–{rest.max():g}" in message
    # the fix it names works: the codes become missing, the data pass
    with pytest.warns(DataWarning, match="coded as missing"):
        survey = cs.load_survey(frame, missing_codes=[code])
    assert survey.data["q2"].isna().sum() == 2
    assert "(missing_codes)" in " ".join(survey.checks["message"])
    assert check_fit_data(survey, ITEMS) == []
    assert frame.loc[3, "q2"] == code  # the caller's frame is untouched


def test_declared_scale_makes_a_code_an_answer():
    # a 99 the user declared part of the scale is an answer: no refusal
    frame = DATA.copy()
    frame.loc[0, "q1"] = 99
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_fit_data(frame, ["q2", "q3"]) == []  # only the model's columns
        warnings.simplefilter("ignore", DataWarning)
        survey = cs.load_survey(frame, scale=(1, 99))
        warnings.simplefilter("error")
        assert check_fit_data(survey, ITEMS) == []


@pytest.mark.parametrize("codes", [["x"], [float("inf")], [True]])
def test_bad_missing_codes_argument(codes):
    with pytest.raises(DataError) as info:
        cs.load_survey(DATA, missing_codes=codes)
    assert_typed(info, DataError, "missing_codes=")


def test_out_of_range_against_the_survey_scale():
    frame = DATA.copy()
    frame.loc[0, "q1"] = 8  # not a missing code, but outside the declared 1–7 scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        survey = cs.load_survey(frame, scale=(1, 7))
    with pytest.warns(DataWarning, match="'q1'.*outside its scale 1–7"):
        check_fit_data(survey, ITEMS)


@pytest.mark.parametrize("frame", [
    DATA,
    DATA * 10,                     # not a rating scale: no missing-code guess
    DATA + 0.5,                    # not integers
    _with(q1=DATA["q1"].where(DATA["q1"] > 2)),  # NaN is missing, not a code
    _with(g=["a", "b"] * 60),
    _with(g=[1, 2] * 60),
])
def test_legitimate_data_pass_silently(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_fit_data(frame, ITEMS, group="g" if "g" in frame else None) == []


def test_codebook_missing_codes_become_missing_and_are_reported():
    frame = DATA.copy()
    frame.loc[[1, 2], "q1"] = 99
    frame.loc[5, "q3"] = -9
    with pytest.warns(DataWarning, match="coded as missing"):
        survey = cs.load_survey(frame, codebook={"scale": [1, 7], "missing": [99, -9],
                                                 "items": ITEMS})
    assert survey.data["q1"].isna().sum() == 2 and np.isnan(survey.data.loc[5, "q3"])
    checks = survey.checks[survey.checks["check"] == "user_missing"]
    assert set(checks["column"]) == {"q1", "q3"}
    assert "out_of_range" not in set(survey.checks["check"])  # codes are not answers
    assert frame.loc[1, "q1"] == 99  # the caller's frame is untouched


@pytest.mark.parametrize("codes, culprit", [(["x"], "'x'"), ([float("inf")], "inf"),
                                            ([True], "True")])
def test_bad_missing_codes(codes, culprit):
    with pytest.raises(DataError) as info:
        cs.load_survey(DATA, codebook={"items": {"q1": {"missing": codes}}})
    assert_typed(info, DataError, "'q1'", culprit)


# -- bounded work ------------------------------------------------------------------------------


def test_did_you_mean_over_50000_columns():
    # 67 s with difflib over every column (issue 14); the conftest bound catches a relapse
    columns = [f"col{i}" for i in range(50_000)] + ["tb1"]
    frame = pd.DataFrame(np.zeros((2, len(columns))), columns=columns)
    with pytest.raises(DataError) as info:
        cs.fit("F =~ ta1 + q2 + q3", frame)
    assert_typed(info, DataError, "'ta1' (did you mean 'tb1'?)")


def test_suggester_matches_difflib_on_small_sets():
    import difflib

    words = ["loyalty", "trust", "quality", "price", "value", "service", "tb1", "ta2"]
    for name in ["loyalti", "trsut", "qualty", "ta1", "xyz", "Price"]:
        want = difflib.get_close_matches(name, words, n=1)
        got = Suggester(words)(name)
        if name.lower() in (w.lower() for w in words):
            assert got == "price"
        else:
            assert got == (want[0] if want else None)
    assert suggest("x" * 1000, words) is None


def test_long_item_name_is_checked_fast():
    with pytest.raises(SpecError) as info:
        cs.ModelSpec.from_lavaan("F =~ " + "a" * 40_000 + "? + b + c")
    assert_typed(info, SpecError, "'?'")


def test_nca_permutation_cap():
    with pytest.raises(SpecError) as info:
        cs.nca(DATA, "q1", "q2", permutations=10**9, seed=1)
    assert_typed(info, SpecError, "permutations=1,000,000,000", "10,000,000")


# -- no mutation -------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda f: cs.load_survey(f, scale=(1, 7), reverse=["q2"]),
    lambda f: cs.fit(MODEL, f),
    lambda f: check_fit_data(f, ITEMS),
    lambda f: cs.htmt("A =~ q1 + q2\nB =~ q3 + q4", f, bootstrap=5, seed=1),
    lambda f: cs.nca(f, "q1", "q2", permutations=10, seed=1),
])
def test_caller_data_never_modified(call):
    frame = DATA.copy()
    frame.loc[0, "q1"] = 7.0
    frame.loc[1, "q3"] = np.nan
    frame["note"] = "text"  # a column no function uses
    before = frame.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(frame)
        except (DataError, SpecError):
            pass
    pd.testing.assert_frame_equal(frame, before)


def test_fit_warns_about_out_of_range_answers_of_a_survey():
    """load_survey(out_of_range="report") leaves the answer in; the fit says so too."""
    frame = DATA.copy()
    frame.loc[4, "q2"] = 8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        survey = cs.load_survey(frame, scale=(1, 7))
    with pytest.warns(DataWarning, match="'q2'.*outside its scale 1–7.*row 4"):
        cs.fit(MODEL, survey)


def test_fit_refuses_a_missing_code_before_estimating(monkeypatch):
    # A 99 among 1–7 answers drove the ML fit through 500 iterations to non-convergence
    # (2-3 s; issue 14).  The work bound: the refusal comes before the estimator runs.
    frame = DATA.copy()
    frame.loc[0, "q1"] = 99
    calls = []
    monkeypatch.setattr(ml_estimate, "fisher_scoring", lambda *a, **k: calls.append(1))
    with pytest.raises(DataError) as info:
        cs.fit(MODEL, frame)
    assert_typed(info, DataError, "'q1'", "99", "row 0", "missing_codes=[99]")
    assert calls == []


@pytest.mark.parametrize("frame, culprit", [
    (_with(q2=DATA["q2"] > 3), "'q2'"),
    (_with(q3=DATA["q3"].astype(complex) * 1j), "'q3'"),
    (_with(g=[1, "1"] * 60), "'g'"),
])
def test_fit_refuses_silently_wrong_layouts(frame, culprit):
    with pytest.raises(DataError) as info:
        cs.fit(MODEL, frame, group="g" if "g" in frame else None)
    assert_typed(info, DataError, culprit)


@pytest.mark.parametrize("n, p", [(50, 3), (30, 8), (400, 12)])
def test_mardia_without_the_n_by_n_matrix(n, p):
    """load_survey's Mardia check formed an n × n matrix (minutes and 5 GB for a 1 MB file of
    25,000 rows).  The O(n p³) form must give psych's b1p and b2p, here the defining double
    sum (Mardia 1970, eq. 2.4) on non-normal data; both branches are exercised (p² < n and
    p² ≥ n)."""
    from cbec_sem.survey.normality import _mardia_coefficients

    rng = np.random.default_rng(n + p)
    x = rng.standard_normal((n, p)) ** 2
    xc = x - x.mean(axis=0)
    S = xc.T @ xc / (n - 1)
    D = xc @ np.linalg.solve(S, xc.T)
    b1p, b2p = _mardia_coefficients(xc, S)
    assert b1p == pytest.approx(np.sum(D**3) / n**2, rel=1e-10)
    assert b2p == pytest.approx(np.sum(np.diag(D) ** 2) / n, rel=1e-10)


@pytest.mark.parametrize("n", [3, 200, 5000])
def test_statement_continued_over_many_lines(n):
    """A statement continued over n lines was re-scanned at every join (27 s for 1,000
    lines, quadratic); it is one statement with n indicators, read in one pass."""
    text = "F =~ x0\n" + "\n".join(f"+ x{i}" for i in range(1, n))
    spec = cs.ModelSpec.from_lavaan(text)
    assert list(spec.observed_variables) == [f"x{i}" for i in range(n)]


def test_open_parenthesis_still_joins_lines():
    spec = cs.ModelSpec.from_lavaan("F =~ c(1,\n1)*x1 + x2 +\nx3\nG =~ y1 + y2 + y3")
    assert list(spec.observed_variables) == ["x1", "x2", "x3", "y1", "y2", "y3"]
