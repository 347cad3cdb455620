"""Hostile inputs beyond the issue's catalogue (issue 14: "we will try others").

Each case found a broken promise before its fix: an untyped exception, a silent wrong
result (a PLS fit of booleans, complex numbers or ±inf; NCA of dates; a WLSMV fit labelled
ML), unbounded work, or a flag that depended on the data's units (the observed information of
MLR and FIML fits).  Every case asserts the typed error and its culprit, or the correct result
for legitimate input, and that the caller's data are unchanged.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cbec_sem as cs
from cbec_sem.cli import app
from cbec_sem.errors import DataError, SpecError
from cbec_sem.survey import checks as ck
from cbec_sem.survey.readers import read_source

from .conftest import MODEL, assert_rescaled, assert_typed, survey_frame

TWO = "A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\nB ~ A"


def two_constructs(n: int = 150, seed: int = 3) -> pd.DataFrame:
    """Likert 1-7 answers to two correlated constructs of three items each (a known
    structure: standardised loadings ~0.7, construct correlation ~0.4)."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(n)
    out = {}
    for f in "ab":
        fac = 0.5 * g + 0.8 * rng.standard_normal(n)
        for j in (1, 2, 3):
            x = 0.7 * fac + 0.7 * rng.standard_normal(n)
            out[f"{f}{j}"] = np.clip(np.round(4 + 1.3 * x), 1, 7)
    return pd.DataFrame(out)


DATA = two_constructs()


@pytest.fixture(scope="module")
def pls_two() -> cs.FitResult:
    """``cs.fit(TWO, DATA, estimator="PLS")``, fitted once for the tests that only read it
    (as the reference of an invariance, or as the fit a call must refuse)."""
    return cs.fit(TWO, DATA, estimator="PLS")


def _with(column: str, values) -> pd.DataFrame:
    out = DATA.copy()
    out[column] = values
    return out


def _cell(column: str, row: int, value) -> pd.DataFrame:
    out = DATA.astype({column: object}) if isinstance(value, str) else DATA.copy()
    out.loc[row, column] = value
    return out


# ------------------------------------------------------------------ wide files are read fast


def test_wide_csv_types_every_column_kind_in_place(tmp_path):
    """The reader types a table in blocks (one per kind) and keeps the header's order; each
    column is typed as the strict per-column reader typed it (issue 14's 20,000 columns)."""
    path = tmp_path / "wide.csv"
    path.write_text("i,f,t,e,d,big,neg\n1,1.5,x,,2020-01-01,1" + "0" * 120 + ",-3\n"
                    "2,,5 ,,2020-01-02,2,4\n", encoding="utf-8")
    frame = read_source(path).frame
    assert list(frame.columns) == ["i", "f", "t", "e", "d", "big", "neg"]
    assert frame["i"].dtype == np.int64 and frame["i"].tolist() == [1, 2]
    assert frame["f"].dtype == np.float64 and np.isnan(frame["f"][1])
    assert frame["t"].tolist() == ["x", "5 "]  # "5 " is not a number: kept for the checks
    assert frame["e"].isna().all()
    assert frame["neg"].tolist() == [-3, 4]
    # 121 digits: not an answer; kept as text, reported later
    assert not pd.api.types.is_numeric_dtype(frame["big"]) and frame["big"][1] == "2"


@pytest.mark.parametrize("seed", range(6))
def test_item_checks_for_all_items_match_item_by_item(seed):
    """check_items (screened for all items at once) gives exactly the findings of
    check_variability then check_missing item by item, including near-constant items at the
    95% boundary and empty ones."""
    rng = np.random.default_rng(seed)
    n = 20 * (seed + 1)
    m = rng.integers(1, 4, size=(n, 8)).astype(float)
    m[rng.random(m.shape) < 0.1] = np.nan
    m[:, 0] = np.nan                      # empty
    m[:, 1] = 4.0                         # constant
    m[:, 2] = 4.0
    m[: n // 20, 2] = 1.0                 # exactly 95% the same answer
    m[:, 3] = 5.0
    m[: n // 20 + 1, 3] = 2.0             # just below 95%
    names = [f"x{j}" for j in range(8)]
    expected = [f for j, name in enumerate(names)
                for check in (ck.check_variability, ck.check_missing)
                if (f := check(name, m[:, j])) is not None]
    assert ck.check_items(names, m) == expected
    assert {f.check for f in expected} >= {"empty_item", "constant_item", "near_constant_item"}


def _longstring_by_row(matrix: np.ndarray) -> list[int]:
    """careless::longstring's definition, row by row: the longest run of equal consecutive
    answers; a missing answer ends a run."""
    out = []
    for row in matrix:
        best = run = 0
        previous = None
        for value in row:
            if np.isnan(value):
                run, previous = 0, None
                continue
            run = run + 1 if previous is not None and value == previous else 1
            previous = value
            best = max(best, run)
        out.append(best)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_longstring_matches_the_row_by_row_definition(seed):
    rng = np.random.default_rng(seed)
    m = rng.integers(1, 3, size=(40, 9)).astype(float)
    m[rng.random(m.shape) < 0.15] = np.nan
    m[0] = np.nan
    assert ck.longstring(m).tolist() == _longstring_by_row(m)


# --------------------------------------------------------------- PLS reads like a CB-SEM fit


@pytest.mark.parametrize("frame, error, culprits", [
    (_cell("a2", 5, np.inf), DataError, ("'a2'", "infinite", "row 5")),
    (_cell("a2", 5, 1e300), DataError, ("'a2'", "too large")),
    (_with("a2", DATA["a2"] > 3), DataError, ("'a2'", "boolean")),
    (DATA.astype(complex), DataError, ("complex",)),
    (_with("a2", pd.date_range("2020-01-01", periods=len(DATA))), DataError,
     ("'a2'", "dates")),
    (_cell("b2", 2, "x"), DataError, ("'b2'", "'x'", "row 2")),
    (_with("a3", np.nan), DataError, ("'a3'", "no values")),
    (_cell("a1", 4, 99.0), DataError, ("'a1'", "99", "missing_codes")),
    (pd.concat([DATA, DATA[["a1"]]], axis=1), DataError, ("'a1'", "duplicate")),
])
@pytest.mark.parametrize("estimator", ["PLS", "PLSC"])
def test_pls_refuses_what_a_cbsem_fit_refuses(frame, error, culprits, estimator):
    before = frame.copy(deep=True)
    with pytest.raises(error) as info:
        cs.fit(TWO, frame, estimator=estimator, missing="mean")
    assert_typed(info, error, *culprits)
    pd.testing.assert_frame_equal(frame, before)


def test_pls_reads_numbers_written_as_text_like_a_cbsem_fit(pls_two):
    """Text that spells numbers (a "string" column) is read as those numbers, not refused:
    the same estimates as the numeric frame."""
    text = DATA.astype(int).astype(str).astype("string")
    ref = pls_two.params["est"].to_numpy()
    got = cs.fit(TWO, text, estimator="PLS").params["est"].to_numpy()
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("factor", [1e-3, 1e4])
def test_pls_estimates_do_not_depend_on_units(factor, pls_two):
    """PLS standardises the items (seminr), so its estimates and flags are the same in any
    units, per item or all at once."""
    ref = pls_two
    scaled = DATA.copy()
    scaled["a1"] *= factor
    scaled[["b1", "b2", "b3"]] *= 1 / factor
    got = cs.fit(TWO, scaled, estimator="PLS")
    assert bool(got.converged) == bool(ref.converged) is True
    np.testing.assert_allclose(got.params["est"], ref.params["est"], atol=1e-10)


# ------------------------------------------------------------------------------------ NCA


@pytest.mark.parametrize("values, culprit", [
    (pd.date_range("2020-01-01", periods=len(DATA)), "datetime64"),
    (DATA["a2"].astype(complex), "complex"),
])
def test_nca_refuses_dates_and_complex_numbers(values, culprit):
    frame = _with("a2", values)
    with pytest.raises(DataError) as info:
        cs.nca(frame, "a2", "b1", permutations=0)
    assert_typed(info, DataError, "'a2'", culprit)


def _necessity_frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    x = rng.integers(1, 8, 200).astype(float)
    return pd.DataFrame({"x": x, "y": np.minimum(x, rng.integers(1, 8, 200)).astype(float)})


@pytest.mark.parametrize("factor", [1e-90, 1e-3, 1e4, 1e90])
def test_nca_effect_size_in_any_units(factor):
    """d is a ratio of areas: the same in any units within the documented range (ce_fdh
    0.583 and cr_fdh 0.500 on these data at factor 1)."""
    text = repr(cs.nca(_necessity_frame() * factor, "x", "y", permutations=0))
    assert "ce_fdh d=0.583" in text and "cr_fdh d=0.500" in text, text


@pytest.mark.parametrize("factor, width", [(1e200, "6e+200"), (1e-300, "6e-300")])
def test_nca_refuses_units_whose_areas_overflow(factor, width):
    with pytest.raises(DataError) as info:
        cs.nca(_necessity_frame() * factor, "x", "y", permutations=0)
    assert_typed(info, DataError, "'x'", width, "rescale")


def test_nca_refuses_an_infinite_scope():
    with pytest.raises(DataError) as info:
        cs.nca(_necessity_frame(), "x", "y", permutations=0, scope=(1, np.inf, 1, 7))
    assert_typed(info, DataError, "'x'", "inf")


# ------------------------------------------------------------------------------------ EFA


@pytest.mark.parametrize("frame, culprits", [
    (_cell("a2", 5, np.inf), ("'a2'", "infinite")),
    (_cell("a2", 5, 1e300), ("'a2'", "too large")),
    (_with("a2", DATA["a2"] > 3), ("'a2'", "boolean")),
    (DATA.astype(complex), ("complex",)),
])
def test_efa_and_parallel_analysis_refuse_what_a_fit_refuses(frame, culprits):
    with pytest.raises(DataError) as info:
        cs.efa(frame, 2)
    assert_typed(info, DataError, *culprits)
    with pytest.raises(DataError) as info:
        cs.parallel_analysis(frame, n_iter=2, seed=1)
    assert_typed(info, DataError, *culprits)


def test_efa_items_given_as_one_name():
    with pytest.raises(SpecError) as info:
        cs.efa(DATA, 1, items="a1")
    assert_typed(info, SpecError, "1 item(s)", "at least 3 items")


@pytest.mark.parametrize("kwargs, culprit", [
    ({"n_iter": 0}, "n_iter=0"), ({"n_iter": 5.0}, "n_iter=5.0"),
    ({"n_iter": 10**9}, "n_iter=1,000,000,000"), ({"seed": "x"}, "seed='x'"),
])
def test_parallel_analysis_arguments(kwargs, culprit):
    with pytest.raises(SpecError) as info:
        cs.parallel_analysis(DATA, **kwargs)
    assert_typed(info, SpecError, culprit)


# ------------------------------------------------------------ what a result says it is


def test_ml_with_ordered_items_is_labelled_wlsmv():
    """estimator='ML' with ordered items runs lavaan's WLSMV: the result, its hypothesis
    methods and its report title must say WLSMV (they said ML)."""
    res = cs.fit(MODEL, survey_frame(), ordered=True)
    assert res.estimator == "WLSMV"
    assert res.estimation.options.estimator == "WLSMV"
    assert repr(res).startswith("<FitResult WLSMV")


def test_pls_fit_summary_and_untested_paths_say_why():
    """A PLS fit's summary() raised AttributeError; without bootstrap SEs its paths are "not
    tested" and the row now says why."""
    res = cs.fit(cs.paper_model(hypotheses=["H1"]), cs.datasets.example_survey(),
                 estimator="PLS")
    assert "PLS estimate" in str(res.summary())
    row = res.hypotheses.iloc[0]
    assert row["verdict"] == "not tested" and "se='bootstrap'" in row["note"]


@pytest.mark.parametrize("name", ["validate", "indicator_diagnostics", "factor_scores",
                                  "common_method_bias", "full_collinearity_vif",
                                  "modindices"])
def test_cbsem_assessments_refuse_a_pls_fit_by_name(name, pls_two):
    with pytest.raises(SpecError) as info:
        getattr(cs, name)(pls_two)
    assert_typed(info, SpecError, "PLS")


# ------------------------------------------------------------------- argument validators


@pytest.mark.parametrize("call, culprit", [
    (lambda est: cs.bootstrap_pls(est, 0), "draws=0"),
    (lambda est: cs.bootstrap_pls(est, 5.0), "draws=5.0"),
    (lambda est: cs.bootstrap_pls(est, 5, seed="x"), "seed='x'"),
    (lambda est: cs.bootstrap_pls(est, 5, chunk=0), "chunk=0"),
    (lambda est: cs.bootstrap_pls(est, 5, second_level=10**9), "second_level"),
    (lambda est: cs.bootstrap_pls(est, 5, level=95), "level=95"),
])
def test_bootstrap_pls_arguments(call, culprit, pls_two):
    est = pls_two.estimation
    with pytest.raises(SpecError) as info:
        call(est)
    assert_typed(info, SpecError, culprit)


@pytest.mark.parametrize("call, culprit", [
    (lambda: cs.simulate(TWO, 10, seed=1, standardized="no"), "standardized='no'"),
    (lambda: cs.simulate(TWO, 10, seed=1, return_latent="yes"), "return_latent='yes'"),
    (lambda: cs.choose_estimator(DATA, max_categories=0), "max_categories=0"),
    (lambda: cs.choose_estimator(DATA, alpha=5), "alpha=5"),
    (lambda: cs.validate(cs.fit(TWO, DATA), htmt_bootstrap=5, seed="x"), "seed='x'"),
])
def test_more_arguments_refused_by_name(call, culprit):
    with pytest.raises(SpecError) as info:
        call()
    assert_typed(info, SpecError, culprit)


@pytest.mark.parametrize("call", [cs.mardia, cs.choose_estimator])
def test_infinite_values_named_by_the_normality_checks(call):
    with pytest.raises(DataError) as info:
        call(_cell("a1", 3, np.inf))
    assert_typed(info, DataError, "'a1'", "infinite", "row 3")


# ------------------------------------------------------------------- the units of a fit

ITEMS = ["q1", "q2", "q3", "q4"]
UNITS = survey_frame(n=300, seed=3)
MISSING = UNITS.mask(np.random.default_rng(5).random(UNITS.shape) < 0.1)


@pytest.mark.parametrize("kwargs, frame", [
    ({"estimator": "MLR"}, UNITS),
    ({"missing": "fiml"}, MISSING),
    ({"estimator": "MLR", "missing": "fiml"}, MISSING),
], ids=["MLR", "FIML", "MLR-FIML"])
@pytest.mark.parametrize("scale", [
    dict.fromkeys(ITEMS, 1e-3), dict.fromkeys(ITEMS, 1e4),
    {"q1": 1e-3, "q2": 1e4, "q3": 1.0, "q4": 1e2},
], ids=["all-1e-3", "all-1e4", "mixed"])
def test_observed_information_fits_in_any_units(kwargs, frame, scale):
    """MLR and FIML use the observed information, a numerical Hessian: with a step of at
    least 1e-5 in every unit, data ×10⁻³ were 'not identified'.  Flags, χ² and SEs follow
    the closed forms of ML's scale invariance (Browne 1982; conftest.assert_rescaled)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", cs.errors.CbecSemWarning)
        ref = cs.fit(MODEL, frame, **kwargs)
        res = cs.fit(MODEL, frame * np.array([scale[i] for i in ITEMS]), **kwargs)
    assert (res.converged.optimizer_converged, res.converged.admissible) == (True, True)
    assert res.fit_measures["chisq"] == pytest.approx(ref.fit_measures["chisq"], rel=1e-6)
    assert_rescaled(ref.params, res.params, scale, se_rel=1e-3)


# ---------------------------------------------------------------------------- the CLI

runner = CliRunner()


@pytest.mark.parametrize("name, text", [
    ("deep.yaml", "[" * 5000 + "]" * 5000 + "\n"),
    ("deep_map.yaml", "{a: " * 3000 + "1" + "}" * 3000 + "\n"),
    ("deep.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n"),
])
def test_deeply_nested_model_file_is_one_error_line(tmp_path, name, text):
    data = tmp_path / "d.csv"
    survey_frame().to_csv(data, index=False)
    model = tmp_path / name
    model.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["fit", str(data), "-m", str(model)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output + result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1 and "nested too deeply" in lines[0] and name in lines[0]


def test_utf16_model_file_is_read(tmp_path):
    data = tmp_path / "d.csv"
    survey_frame().to_csv(data, index=False)
    model = tmp_path / "m.lav"
    model.write_text(MODEL + "\n", encoding="utf-16")  # Notepad's "Unicode", with a BOM
    result = runner.invoke(app, ["fit", str(data), "-m", str(model)])
    assert result.exit_code == 0, result.stderr


def test_deeply_nested_codebook_is_a_data_error(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    with pytest.raises(DataError) as info:
        cs.load_survey(survey_frame(), codebook=path)
    assert_typed(info, DataError, "codebook.yaml", "nested too deeply")


@pytest.mark.parametrize("items", [5, {"ta1": 1}, object()])
def test_choose_estimator_items_that_are_not_names_are_a_spec_error(items):
    """A number, a dict or any object as ``items`` used to fail with numpy's TypeError."""
    with pytest.raises(SpecError) as info:
        cs.choose_estimator(cs.datasets.example_survey(), items)
    assert_typed(info, SpecError, "items must be a list of column names")


def test_choose_estimator_takes_the_model_for_its_items():
    """The model's observed variables are the items; ones missing from the data are named."""
    survey = cs.datasets.example_survey()
    names = list(cs.paper_model().observed_variables)
    assert cs.choose_estimator(survey, cs.paper_model()) == cs.choose_estimator(survey, names)
    with pytest.raises(DataError) as info:
        cs.choose_estimator(survey.drop(columns=["ta1"]), cs.paper_model())
    assert_typed(info, DataError, "'ta1'")
