"""compile_expression: parsing, validation and evaluation on floats and numpy arrays."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbec_sem.errors import SpecError
from cbec_sem.specification import compile_expression
from cbec_sem.specification.expressions import Expression


def test_text_is_whitespace_free_and_names_in_first_appearance_order() -> None:
    expr = compile_expression("c + a * b + a")
    assert isinstance(expr, Expression)
    assert expr.text == "c+a*b+a"
    assert expr.names == ("c", "a", "b")


def test_names_may_contain_dots_and_function_names_are_not_names() -> None:
    expr = compile_expression("exp(.p3.) * b.1 - sqrt(x_2)")
    assert expr.names == (".p3.", "b.1", "x_2")


def test_a_label_may_share_a_function_name_when_not_called() -> None:
    expr = compile_expression("exp * 2 + exp(exp)")
    assert expr.names == ("exp",)
    assert expr({"exp": 1.0}) == pytest.approx(2 + math.e)


@pytest.mark.parametrize(
    "text, values, expected",
    [
        ("a*b", {"a": 0.5, "b": 0.4}, 0.2),
        ("c + a*b", {"a": 0.5, "b": 0.4, "c": 0.1}, 0.3),
        ("(b2 + b3)^2", {"b2": 1.0, "b3": 2.0}, 9.0),
        ("(b2 + b3)**2", {"b2": 1.0, "b3": 2.0}, 9.0),
        ("2^3^2", {}, 512.0),  # right associative, as in R
        ("-2^2", {}, -4.0),  # unary minus binds looser than ^, as in R
        ("a/b - 1", {"a": 3.0, "b": 2.0}, 0.5),
        ("-a + +b", {"a": 1.0, "b": 3.0}, 2.0),
        ("exp(log(a))", {"a": 2.5}, 2.5),
        ("sqrt(abs(a))", {"a": -16.0}, 4.0),
        ("sin(a)^2 + cos(a)^2", {"a": 0.7}, 1.0),
        ("tan(a)", {"a": 0.0}, 0.0),
        ("pnorm(a)", {"a": 1.959963984540054}, 0.975),
        ("qnorm(p)", {"p": 0.975}, 1.959963984540054),
        ("1e-3*a", {"a": 2.0}, 0.002),
        ("3", {}, 3.0),
        ("a^-1", {"a": 4.0}, 0.25),
    ],
)
def test_evaluation_on_floats(text: str, values: dict[str, float], expected: float) -> None:
    result = compile_expression(text)(values)
    assert isinstance(result, float)
    assert result == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_evaluation_on_arrays_is_elementwise() -> None:
    expr = compile_expression("c + a*b")
    a = np.array([0.1, 0.2, 0.3])
    b = np.array([1.0, 2.0, 3.0])
    out = expr({"a": a, "b": b, "c": 1.0})
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, [1.1, 1.4, 1.9])


def test_evaluation_on_a_batch_of_parameter_draws() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=1000), rng.normal(size=1000)
    expr = compile_expression("pnorm(a/sqrt(b^2 + 1))")
    from scipy.stats import norm

    np.testing.assert_allclose(expr({"a": a, "b": b}), norm.cdf(a / np.sqrt(b**2 + 1)))


def test_integer_inputs_and_r_like_nan_inf_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compile_expression("a/b")({"a": 1, "b": 0}) == math.inf
        assert math.isnan(compile_expression("log(a)")({"a": -1.0}))
        assert math.isnan(compile_expression("(-8)^(1/3)")({}))
        assert compile_expression("2^-1")({}) == 0.5
        assert compile_expression("1/0")({}) == math.inf


def test_missing_value_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="no value given for 'b'"):
        compile_expression("a*b")({"a": 1.0})


def test_equality_hash_and_repr() -> None:
    assert compile_expression("a * b") == compile_expression("a*b")
    assert len({compile_expression("a * b"), compile_expression("a*b")}) == 1
    assert repr(compile_expression("a * b")) == "Expression('a*b')"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "the expression is empty"),
        ("   ", "the expression is empty"),
        ("a[1]", "'['"),
        ("a$b", "'$'"),
        ('"a"', "'\"'"),
        ("a < b", "'<'"),
        ("a == b", "'='"),
        ("foo(a)", "the function foo() is not allowed"),
        ("a.b(1)", "the function a.b() is not allowed"),
        ("__import__(a)", "the function __import__() is not allowed"),
        ("(exp)(a)", "'(exp)(a)' is not allowed"),
        ("(a, b)", "'(a,b)' is not allowed"),
        ("pnorm(a, 1)", "pnorm() takes exactly one argument"),
        ("exp()", "exp() takes exactly one argument"),
        ("a b", "cannot read the expression 'a b'"),
        ("a +", "cannot read the expression"),
        ("(a + b", "cannot read the expression"),
        ("a // b", "cannot read the expression"),
        ("2a", "'2a'"),
        ("a % b", "'%'"),
        ("lambda: 1", "':'"),
    ],
)
def test_rejected_expressions(text: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        compile_expression(text)
    assert fragment in str(info.value)


def test_non_string_is_rejected() -> None:
    with pytest.raises(SpecError, match="must be a string"):
        compile_expression(3)  # type: ignore[arg-type]


def test_keyword_names_are_only_names() -> None:
    """Python keywords never reach Python syntax: names are replaced by placeholders."""
    expr = compile_expression("lambda + import")
    assert expr.names == ("lambda", "import")
    assert expr({"lambda": 1.0, "import": 2.0}) == 3.0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-5, 5), min_size=1, max_size=8),
    st.lists(st.floats(0.1, 5), min_size=1, max_size=8),
)
def test_array_evaluation_equals_elementwise_float_evaluation(
    xs: list[float], ys: list[float]
) -> None:
    n = min(len(xs), len(ys))
    a, b = np.array(xs[:n]), np.array(ys[:n])
    expr = compile_expression("exp(a)/b - log(b)^2 + pnorm(a*b)")
    batch = expr({"a": a, "b": b})
    single = [expr({"a": float(a[i]), "b": float(b[i])}) for i in range(n)]
    np.testing.assert_allclose(batch, single, rtol=1e-12)
