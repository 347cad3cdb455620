"""Property-based hostile inputs (hypothesis): for any input, a result or a typed error, never
another exception; and the properties legitimate input must keep (a CSV reads back to the
table written, the identification ratio is unit-free)."""

from __future__ import annotations

import string
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cbec_sem as cs
from cbec_sem.engine.inference import scale_free_information_ratio
from cbec_sem.errors import CbecSemError, DataError, SpecError
from cbec_sem.specification.expressions import compile_expression
from cbec_sem.specification.names import name_problem
from cbec_sem.survey.fit_checks import check_fit_data
from cbec_sem.survey.numeric import parse_cell
from cbec_sem.validation import check_count, check_probability, check_seed, suggest

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
    st.binary(max_size=8), st.complex_numbers(), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@SETTINGS
@given(anything)
def test_check_seed_any_object(seed):
    try:
        out = check_seed(seed)
    except SpecError as exc:
        assert "seed=" in str(exc)
    else:
        assert out is None or (isinstance(out, int) and out >= 0)


@SETTINGS
@given(anything)
def test_check_count_any_object(value):
    try:
        out = check_count(value, "reps", minimum=1)
    except SpecError as exc:
        assert "reps=" in str(exc)
    else:
        assert isinstance(out, int) and not isinstance(out, bool) and out >= 1


@SETTINGS
@given(anything)
def test_check_probability_any_object(value):
    try:
        out = check_probability(value, "alpha")
    except SpecError as exc:
        assert "alpha=" in str(exc)
    else:
        assert 0.0 < out < 1.0


@SETTINGS
@given(st.text(max_size=3000))
def test_name_problem_any_text(name):
    problem = name_problem(name)
    assert problem is None or isinstance(problem, str)


@SETTINGS
@given(st.sampled_from(["a", "1", ".", "_", "!", "é"]), st.integers(0, 40_000))
def test_name_problem_long_names(char, n):
    # linear time: a 40,000-character name took 62 s with the quadratic check (issue 14)
    problem = name_problem("x" + char * n + "!")
    assert "contains '!'" in problem or problem == "starts with a digit" or char == "!"


@SETTINGS
@given(st.text(alphabet="ab.1 +-*/^()e,_xsqrt", max_size=300))
def test_expression_any_text(text):
    try:
        expr = compile_expression(text)
    except SpecError:
        return
    values = {name: 0.5 for name in expr.names}
    out = expr(values)
    assert isinstance(out, float)


@SETTINGS
@given(st.integers(1, 5000), st.sampled_from(["+", "*", "-", "^", "/"]))
def test_expression_long_chains(n, op):
    text = op.join(["a"] * n)
    try:
        expr = compile_expression(text)
    except SpecError as exc:
        assert "operators" in str(exc) and n - 1 > 250
    else:
        assert n - 1 <= 250 and expr.names == ("a",)


@SETTINGS
@given(st.integers(1, 3000))
def test_expression_deep_nesting(depth):
    text = "(" * depth + "a" + ")" * depth
    try:
        expr = compile_expression(text)
    except SpecError as exc:
        assert "nests parentheses" in str(exc) and depth > 50
    else:
        assert depth <= 50 and expr({"a": 2.0}) == 2.0


@SETTINGS
@given(st.text(max_size=500))
def test_lavaan_syntax_any_text(text):
    try:
        cs.ModelSpec.from_lavaan(text)
    except SpecError:
        pass


@SETTINGS
@given(st.one_of(st.text(max_size=200), st.text(alphabet="0123456789.eE+-", max_size=6000)))
def test_parse_cell_any_text(cell):
    out = parse_cell(cell)
    assert out is None or np.isnan(out) or np.isfinite(out)


FILE_SETTINGS = settings(max_examples=20, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])

grid = hnp.arrays(np.int64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8),
                  elements=st.integers(-99, 99))


@FILE_SETTINGS
@given(grid, st.sampled_from([",", ";", "\t", "|"]), st.booleans(), st.booleans())
def test_numeric_csv_reads_back(tmp_path_factory, values, sep, trailing, bom):
    """A table of numbers written with any separator, with or without a separator at the end
    of each line and a byte-order mark, reads back to the same numbers."""
    names = [f"q{j + 1}" for j in range(values.shape[1])]
    lines = [sep.join(names)] + [sep.join(str(x) for x in row) + (sep if trailing else "")
                                 for row in values]
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig" if bom else "utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        survey = cs.load_survey(path, items=names)
    np.testing.assert_array_equal(survey.data[names].to_numpy(), values.astype(float))


@FILE_SETTINGS
@given(st.lists(st.lists(st.text(alphabet=string.printable, max_size=8), min_size=1,
                         max_size=5), min_size=1, max_size=8))
def test_any_text_csv_is_read_or_refused(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cs.load_survey(path)
        except CbecSemError:
            pass


@SETTINGS
@given(hnp.arrays(np.float64, (4, 4), elements=st.floats(-1, 1)),
       hnp.arrays(np.float64, 4, elements=st.floats(-3, 4)))
def test_identification_ratio_is_unit_free(a, log_scale):
    """Rescaling parameter k by s_k maps the information I to S⁻¹ I S⁻¹; the scale-free ratio
    does not change (the raw eigenvalue ratio would, by up to max(s)²/min(s)²)."""
    info = a @ a.T + 1e-3 * np.eye(4)
    s = 10.0 ** log_scale
    scaled = info / np.outer(s, s)
    r0, r1 = scale_free_information_ratio(info), scale_free_information_ratio(scaled)
    assert r1 == pytest.approx(r0, rel=1e-6, abs=1e-12)


@SETTINGS
@given(st.text(max_size=30), st.lists(st.text(max_size=30), max_size=50))
def test_suggest_returns_a_candidate_or_none(name, candidates):
    out = suggest(name, candidates)
    assert out is None or out in candidates


@SETTINGS
@given(st.data())
def test_fit_data_check_any_column_kind(data):
    """Any column type among the model's columns: refused by name when it would be read
    wrongly (True/False as 1/0, the imaginary part dropped), accepted otherwise; the frame is
    never modified."""
    kind = data.draw(st.sampled_from(["bool", "complex", "object", "category", "int",
                                      "string", "mixed", "object_bool", "object_complex"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 10)))
    frame = pd.DataFrame(np.clip(np.round(4 + rng.standard_normal((60, 4)) * 1.2), 1, 7),
                         columns=["q1", "q2", "q3", "q4"])
    column = {"bool": frame["q2"] > 4, "complex": frame["q2"].astype(complex),
              "object": frame["q2"].astype(object), "category": frame["q2"].astype("category"),
              "int": frame["q2"].astype(int), "string": frame["q2"].astype(str),
              "mixed": pd.Series([1, "1", 2.0, 3] * 15, dtype=object),
              "object_bool": pd.Series([1, True, 2.0, 3] * 15, dtype=object),
              "object_complex": pd.Series([1, 2j, 2.0, 3] * 15, dtype=object)}[kind]
    frame["q2"] = column
    before = frame.copy(deep=True)
    refused = kind in ("bool", "complex", "object_bool", "object_complex")
    try:
        check_fit_data(frame, ["q1", "q2", "q3", "q4"])
    except DataError as exc:
        assert refused and "'q2'" in str(exc)
    else:
        assert not refused
    pd.testing.assert_frame_equal(frame, before)
