"""Bad input to ``cs.fit``: every case gets a typed ``cbec_sem.errors`` exception (or, for a fit
that runs but cannot be trusted, a result with ``converged == False`` and a typed warning) whose
message names the culprit, no other warning escapes, and the caller's data stay as they were.

Cases start from the real HolzingerSwineford1939 data with lavaan's three-factor CFA, and from
the paper model on the bundled example survey.
"""

from __future__ import annotations

import re
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import (
    AdmissibilityWarning,
    CbecSemError,
    ConvergenceWarning,
    DataError,
    DataWarning,
    EstimationError,
    IdentificationError,
    IdentificationWarning,
    SpecError,
)

CFA = textwrap.dedent(
    """\
    visual  =~ x1 + x2 + x3
    textual =~ x4 + x5 + x6
    speed   =~ x7 + x8 + x9
    """
)
ITEMS = [f"x{k}" for k in range(1, 10)]


@pytest.fixture
def hs() -> pd.DataFrame:
    return cs.datasets.holzinger_swineford_1939()


@pytest.fixture
def survey() -> pd.DataFrame:
    return cs.datasets.example_survey()


# --------------------------------------------------------------------------------------------
# helpers


def _snapshot(data):
    return data.copy(deep=True) if isinstance(data, pd.DataFrame) else None


def _assert_untouched(before, data) -> None:
    if before is not None:
        pd.testing.assert_frame_equal(data, before)


def fit_error(model, data, error: type[CbecSemError], *fragments: str,
              expected_warnings: tuple[type[Warning], ...] = (), **kwargs) -> str:
    """Fit, expect exactly ``error`` with every fragment in its message, exactly the expected
    warnings (in order) and nothing else, and an unchanged data frame.  Returns the message."""
    before = _snapshot(data)
    model_text = model.to_lavaan() if isinstance(model, cs.ModelSpec) else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(CbecSemError) as info:
            cs.fit(model, data, **kwargs)
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert [w.category for w in caught] == list(expected_warnings), [
        f"{w.category.__name__}: {w.message}" for w in caught]
    _assert_untouched(before, data)
    if model_text is not None:
        assert model.to_lavaan() == model_text
    return message


def fit_warns(model, data, expected: tuple[type[Warning], ...], **kwargs):
    """Fit, expect a result and exactly the expected warning categories (as a set, any count,
    at least one each) and nothing else; the data are unchanged.  Returns (result, warnings)."""
    before = _snapshot(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cs.fit(model, data, **kwargs)
    # A deprecation notice that another package prints while cs.fit imports it lazily (the
    # first fit in a test worker) is not cs.fit's warning; the suite saw one such flake.
    caught = [w for w in caught if not (
        issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning, ImportWarning))
        and "cbec_sem" not in str(w.filename))]
    categories = {w.category for w in caught}
    assert categories == set(expected), [f"{w.category.__name__}: {w.message}" for w in caught]
    _assert_untouched(before, data)
    return res, caught


def _exact_data(cov: np.ndarray, n: int, columns: list[str], seed: int = 1) -> pd.DataFrame:
    """n rows whose sample covariance (divisor N) is exactly ``cov`` and means exactly 0."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, cov.shape[0]))
    z -= z.mean(axis=0)
    whiten = np.linalg.inv(np.linalg.cholesky(z.T @ z / n))
    return pd.DataFrame(z @ whiten.T @ np.linalg.cholesky(cov).T, columns=columns)


# --------------------------------------------------------------------------------------------
# the good fit: a control for the "no other warnings" assertions


def test_clean_fit_emits_no_warning(hs):
    res, _ = fit_warns(CFA, hs, ())
    assert res.converged == True  # noqa: E712  (Convergence compares with bool)
    assert res.nobs == (301,)


# --------------------------------------------------------------------------------------------
# columns


def test_missing_column_is_named(hs):
    message = fit_error(CFA.replace("x9", "x99"), hs, DataError, "'x99'", "lack")
    assert "did you mean 'x9'" in message


def test_misspelt_column_suggests_close_name(hs):
    fit_error(CFA.replace("x5", "x_5"), hs, DataError, "'x_5'", "did you mean 'x5'?")


def test_column_differing_only_in_case_suggests_it(hs):
    fit_error(CFA.replace("x9", "X9"), hs, DataError, "'X9'", "did you mean 'x9'?")


def test_all_missing_columns_named_at_once(hs):
    data = hs.drop(columns=["x2", "x7"])
    fit_error(CFA, data, DataError, "'x2'", "'x7'")


def test_duplicate_column_names(hs):
    data = pd.concat([hs[["x1"]], hs[ITEMS]], axis=1)
    assert list(data.columns).count("x1") == 2
    fit_error(CFA, data, DataError, "duplicate column", "'x1'")


def test_duplicate_unused_column_is_harmless(hs):
    data = pd.concat([hs, hs[["id"]]], axis=1)
    res, _ = fit_warns(CFA, data, ())
    assert res.converged


def test_latent_named_like_a_column(hs):
    # lavaan stops too ("some latent variable names collide with observed variable names").
    data = hs.assign(visual=hs["x1"] + hs["x2"] + hs["x3"])
    fit_error(CFA, data, SpecError, "'visual'", "name of a column")


# --------------------------------------------------------------------------------------------
# values


def test_non_numeric_column(hs):
    data = hs.assign(x1=np.where(hs["x1"] > hs["x1"].median(), "high", "low"))
    fit_error(CFA, data, DataError, "'x1'", "not numeric", "'high'", "'low'")


def test_a_few_na_strings_in_a_numeric_column(hs):
    data = hs.set_index("id")  # row labels differ from positions: the message uses labels
    x1 = data["x1"].astype(object)
    x1.iloc[[3, 50, 120]] = "n/a"
    data = data.assign(x1=x1)
    message = fit_error(CFA, data, DataError, "'x1'", "'n/a'", "3 non-numeric")
    first = data.index[3]
    assert f"row {first!r}" in message
    assert "NaN" in message  # says how to mark a missing answer


def test_infinite_value(hs):
    data = hs.copy()
    data.loc[4, "x2"] = np.inf
    fit_error(CFA, data, DataError, "'x2'", "infinite", "row 4")


def test_date_column(hs):
    data = hs.assign(x3=pd.Timestamp("2024-01-01") + pd.to_timedelta(hs.index, "D"))
    fit_error(CFA, data, DataError, "'x3'", "dates")


def test_constant_item(hs):
    fit_error(CFA, hs.assign(x5=3.0), DataError, "'x5'", "constant", "3")


def test_constant_item_in_one_group(hs):
    data = hs.copy()
    data.loc[data["school"] == "Pasteur", "x5"] = 3.0
    fit_error(CFA, data, DataError, "'x5'", "constant", "group 'Pasteur'", group="school")


def test_singular_covariance(hs):
    data = hs.assign(x10=hs["x1"] + hs["x2"])
    model = CFA.replace("x3\n", "x3 + x10\n")
    message = fit_error(model, data, DataError, "singular", "x10", "x1", "x2",
                        "linearly dependent")
    assert "fewer rows" not in message  # 301 rows: row count is not the problem


def test_empty_column(hs):
    fit_error(CFA, hs.assign(x4=np.nan), DataError, "'x4'", "empty",
              expected_warnings=(DataWarning,))


def test_fewer_complete_rows_than_free_parameters(hs):
    fit_error(CFA, hs.head(15), DataError, "15 complete rows", "21 free parameters")


# --------------------------------------------------------------------------------------------
# identification


def test_latent_without_scale(hs):
    model = CFA.replace("x1 +", "NA*x1 +")
    fit_error(model, hs, IdentificationError, "'visual'", "no scale", "std_lv")


def test_latent_without_scale_is_fine_with_std_lv(hs):
    res, _ = fit_warns(CFA.replace("x1 +", "NA*x1 +"), hs, (), std_lv=True)
    assert res.converged


def test_negative_degrees_of_freedom(hs):
    # One factor with two indicators: 4 free parameters, 3 sample moments.
    fit_error("f =~ x1 + x2", hs, IdentificationError, "4 free parameters",
              "3 sample moments", "df = -1")


# --------------------------------------------------------------------------------------------
# syntax


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ("speed   =~ x7 + x8 +", "ends with '+'"),  # dangling '+'
        ("speed   => x7 + x8 + x9", "'=' is not an operator"),  # unknown operator
        ("speed   -> x7 + x8 + x9", "cannot read"),  # unknown operator
        ("speed   =~ (x7 + x8 + x9", "unbalanced parentheses"),
        ("speed   =~ x7 + x8 + x9)", "unbalanced parentheses"),
        ("speed   =~ x7 + + x9", "two '+' in a row"),
    ],
)
def test_syntax_error_names_the_line(hs, bad, fragment):
    model = CFA.replace("speed   =~ x7 + x8 + x9", bad)
    message = fit_error(model, hs, SpecError, "line 3", bad.strip(), fragment)
    assert message.startswith("line 3:")


def test_empty_model(hs):
    fit_error("# only a comment\n", hs, SpecError, "no statements")


def test_defined_parameter_with_unknown_label(hs):
    model = CFA.replace("x2", "a*x2") + "ind := a*b\n"
    fit_error(model, hs, SpecError, "line 4", "'b'", "never defined")


def test_nonlinear_equality_constraint_outside_the_ml_family(hs):
    # ML, MLM and MLR estimate it (tests/engine/test_constraints_lavaan.py); the WLS family
    # has no constrained optimiser and says so, naming the line and the alternative
    items = [f"x{i}" for i in range(1, 10)]
    data = hs.assign(**{v: pd.cut(hs[v], 4, labels=False) for v in items})
    model = CFA.replace("x2", "a*x2").replace("x3", "b*x3") + "a == b^2\n"
    fit_error(model, data, SpecError, "line 4", "non-linear", "estimator='ML'",
              estimator="WLSMV", ordered=items)


def test_contradictory_inequality_constraints(hs):
    model = CFA.replace("x2", "a*x2") + "a > 1.5\na < 0.5\n"
    fit_error(model, hs, SpecError, "line 4", "cannot all be met")


def test_interaction_term_needs_another_method(hs):
    data = hs.rename(columns={"x1": "y", "x2": "x", "x3": "z"})
    fit_error("y ~ x + z + x:z", data, SpecError, "line 1", "'x:z'", "LMS")


# --------------------------------------------------------------------------------------------
# options that are not (yet) available, or out of range


def test_continuous_items_declared_ordered(hs):
    # ordered items beside continuous ones are fitted (WLSMV, tests/engine/test_ordinal_mixed.py);
    # an item declared ordered must still look ordered
    fit_error(CFA, hs, DataError, "'x1'", "35 distinct values", "continuous",
              ordered=["x1", "x2"])


@pytest.mark.parametrize(
    "kwargs, fragments",
    [
        ({"bootstrap": -1}, ("bootstrap=-1", "whole number ≥ 0")),
        ({"bootstrap": 2.5}, ("bootstrap=2.5", "whole number ≥ 0")),
        ({"se": "robust"}, ("se='robust'", "not available", "'standard'")),
        ({"estimator": "MLX"}, ("'MLX'", "not available", "'MLR'")),
        ({"missing": "em"}, ("missing='em'", "'listwise'", "'fiml'")),
        ({"information": "hessian"}, ("information='hessian'", "'observed'")),
        ({"level": 95}, ("level=95", "between 0 and 1")),
        ({"alpha": 5}, ("alpha=5", "between 0 and 1")),
    ],
)
def test_unavailable_or_bad_option(hs, kwargs, fragments):
    fit_error(CFA, hs, SpecError, *fragments, **kwargs)


@pytest.mark.parametrize("estimator, scaled", [("MLR", 87.132), ("MLM", 80.872)])
def test_robust_estimators_fit(hs, estimator, scaled):
    # lavaan 0.6-14, cfa(HS.model, estimator = ...): the scaled chi-square (MLR: 87.132,
    # scaling factor 0.979; MLM: 80.872); the full comparison is tests/engine/test_robust.py
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = cs.fit(CFA, hs, estimator=estimator)
    assert res.converged == True  # noqa: E712
    assert res.fit_measures["chisq.scaled"] == pytest.approx(scaled, abs=1e-3)


def test_ordered_items_with_too_many_categories(hs):
    # ordered=True declares every item ordered; HS's x1 is continuous (many distinct values)
    fit_error(CFA, hs, DataError, "'x1'", "distinct values", "more than 10", ordered=True)


def test_model_of_wrong_type(hs):
    fit_error(42, hs, SpecError, "ModelSpec", "int")


@pytest.mark.parametrize("data", [None, [1, 2, 3], np.zeros((5, 9))])
def test_data_of_wrong_type(data):
    fit_error(CFA, data, DataError, "DataFrame", type(data).__name__)


# --------------------------------------------------------------------------------------------
# groups


def test_group_variable_with_missing_values(hs):
    # lavaan drops rows without a group value and fits (issue 12); so do we, with a warning
    # naming the column, the count and the first row, and the count in the sample stats
    data = hs.copy()
    data.loc[[7, 40], "school"] = np.nan
    res, caught = fit_warns(CFA, data, (DataWarning,), group="school")
    message = str(caught[0].message)
    assert "'school'" in message and "2 of 301 row(s)" in message and "row 7" in message
    assert res.fit_measures["ntotal"] == 299
    assert res.estimation.stats.rows_no_group == 2
    assert res.estimation.stats.rows_dropped == 0


def test_group_variable_with_one_level(hs):
    fit_error(CFA, hs.assign(school="Pasteur"), DataError, "'school'", "single value",
              "'Pasteur'", group="school")


def test_group_variable_misspelt(hs):
    fit_error(CFA, hs, DataError, "'schol'", "did you mean 'school'?", group="schol")


def test_group_with_a_single_row(hs):
    data = hs.assign(g=["a"] * 300 + ["b"])
    fit_error(CFA, data, DataError, "1 complete row", "group 'b'", group="g")


def test_group_equal_unknown_kind(hs):
    fit_error(CFA, hs, SpecError, "'loading'", "loadings", group="school",
              group_equal="loading")


def test_group_partial_unknown_parameter(hs):
    fit_error(CFA, hs, SpecError, "group_partial", "'visual =~ x99'", group="school",
              group_equal="loadings", group_partial=("visual =~ x99",))


# --------------------------------------------------------------------------------------------
# missing values: listwise deletion says what it did


def test_listwise_deletion_reports_dropped_rows(hs):
    data = hs.copy()
    cells = [(0, "x1"), (0, "x2"), (5, "x3"), (9, "x4"), (9, "x9"), (100, "x5"), (200, "x8")]
    for row, col in cells:
        data.loc[row, col] = np.nan
    assert int(data[ITEMS].isna().sum().sum()) == 7
    res, caught = fit_warns(CFA, data, (DataWarning,))
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "dropped 5 of 301 rows" in message
    assert caught[0].filename == __file__  # points at the caller's line, not the library
    assert res.nobs == (296,)
    assert any("dropped 5 of 301 rows" in note for note in res.notes)
    assert "296 of 301" in res.summary()
    assert res.converged
    # the caller's frame keeps its NaNs (fit_warns also compared it with a deep copy)
    assert int(data[ITEMS].isna().sum().sum()) == 7


def test_missing_values_outside_the_model_drop_nothing(hs):
    data = hs.copy()
    data.loc[[1, 2, 3], "grade"] = np.nan  # not a model variable
    res, _ = fit_warns(CFA, data, ())
    assert res.nobs == (301,) and res.notes == ()


# --------------------------------------------------------------------------------------------
# fits that run but cannot be trusted


def test_non_convergence_returns_a_flagged_result(hs):
    res, caught = fit_warns(CFA, hs, (ConvergenceWarning,), max_iter=2)
    assert len(caught) == 1
    assert caught[0].filename == __file__
    assert "did not converge" in str(caught[0].message)
    assert "2 iterations" in str(caught[0].message)
    assert res.converged == False  # noqa: E712
    assert not res.converged
    assert res.converged.optimizer_converged is False
    params = res.params
    assert params["se"].isna().all()
    assert params[["z", "pvalue", "ci.lower", "ci.upper"]].isna().all().all()
    assert np.isnan(res.fit_measures["chisq"]) and np.isnan(res.fit_measures["cfi"])
    assert "NOT CONVERGED" in res.summary()
    assert "converged=False" in repr(res)


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_max_iter_must_be_a_positive_integer(hs, bad):
    fit_error(CFA, hs, SpecError, "max_iter", max_iter=bad)


def test_non_converged_paper_model_tests_no_hypothesis(survey):
    res, _ = fit_warns(cs.paper_model(), survey, (ConvergenceWarning,), max_iter=2)
    assert not res.converged
    hyp = res.hypotheses
    assert (hyp["verdict"] == "not tested").all(), hyp[["id", "verdict"]]
    paths = hyp[hyp["kind"].isin(["path", "indirect"])]
    assert paths["note"].str.contains("did not converge").all()
    assert "NOT CONVERGED" in res.summary()


def test_fit_that_cannot_start(hs):
    # A fixed negative residual variance larger than var(x1): the implied covariance matrix
    # is not positive definite at any start; lavaan stops too.
    fit_error(CFA.replace("x3\n", "x3\nx1 ~~ -5*x1\n", 1), hs, EstimationError,
              "cannot start", "x1 ~~ -5*x1")


def test_heywood_case_is_inadmissible():
    # Correlations .8, .8, .5: the one-factor solution has loading² = .8·.8/.5 = 1.28 for y1,
    # so its residual variance is 1 − 1.28 = −0.28.
    R = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])
    data = _exact_data(R, 200, ["y1", "y2", "y3"])
    res, caught = fit_warns("f =~ y1 + y2 + y3", data, (AdmissibilityWarning,))
    assert res.converged == False  # noqa: E712
    assert res.converged.optimizer_converged is True
    assert res.converged.admissible is False
    messages = [str(w.message) for w in caught]
    assert any("negative variance" in m and "y1 ~~ y1" in m for m in messages), messages
    assert all(w.filename == __file__ for w in caught)
    row = res.params.query("lhs == 'y1' and op == '~~' and rhs == 'y1'")
    assert row["est"].iloc[0] == pytest.approx(-0.28, abs=1e-6)
    summary = res.summary()
    assert "INADMISSIBLE" in summary and "y1 ~~ y1" in summary
    assert res.fit_measures["chisq"] >= 0.0  # an exact fit reports 0, not a rounding -0


def test_empirical_under_identification():
    # Two two-indicator factors that are exactly uncorrelated: each factor's loading and
    # variance are then not separately identified (Kenny 1979).
    R = np.eye(4)
    R[0, 1] = R[1, 0] = R[2, 3] = R[3, 2] = 0.5
    data = _exact_data(R, 200, ["a1", "a2", "b1", "b2"])
    res, caught = fit_warns("f1 =~ a1 + a2\nf2 =~ b1 + b2", data, (IdentificationWarning,))
    assert not res.converged
    message = str(caught[0].message)
    assert "not be identified" in message
    assert re.search(r"f[12] =~ [ab]2", message), message
    assert "INADMISSIBLE" in res.summary()


# --------------------------------------------------------------------------------------------
# the paper model on the user's own items


def test_paper_model_item_missing_from_data(survey):
    model = cs.paper_model(items={"TA": ["q1", "q2", "q3"]})
    data = survey.rename(columns={"ta1": "q1", "ta2": "q2"})  # q3 is not there
    message = fit_error(model, data, DataError, "'q3'")
    assert "'q1'" not in message and "'q2'" not in message


def test_paper_model_default_item_missing(survey):
    fit_error(cs.paper_model(), survey.drop(columns="fa3"), DataError, "'fa3'")


def test_paper_model_item_with_non_numeric_answers(survey):
    data = survey.copy()
    data["vp2"] = data["vp2"].astype(object)
    data.loc[[10, 11], "vp2"] = "don't know"
    fit_error(cs.paper_model(), data, DataError, "'vp2'", "\"don't know\"", "2 non-numeric")


def test_paper_model_constant_item(survey):
    fit_error(cs.paper_model(), survey.assign(pc2=4), DataError, "'pc2'", "constant")


def test_survey_object_is_not_modified(hs):
    survey = cs.load_survey(hs)
    before = survey.data.copy(deep=True)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with pytest.raises(DataError, match="'x99'"):
            cs.fit(CFA.replace("x9", "x99"), survey)
    pd.testing.assert_frame_equal(survey.data, before)


# --------------------------------------------------------------------------------------------
# the hierarchy itself


def test_errors_are_catchable_generically(hs):
    with pytest.raises(CbecSemError):
        cs.fit(CFA, hs.assign(x5=3.0))
    with pytest.raises(ValueError):  # SpecError and DataError are also ValueErrors
        cs.fit(CFA.replace("x9", "x99"), hs)
    assert issubclass(IdentificationError, SpecError)
