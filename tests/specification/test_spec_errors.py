"""Every syntax error is a SpecError quoting the offending statement and its line number."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbec_sem.errors import SpecError
from cbec_sem.specification import parse_lavaan

GOOD = "f =~ x1 + x2 + x3\ng =~ y1 + y2 + y3\n"  # two good lines before the bad one

# (bad statement, a fragment the message must contain)
CASES = [
    ("f =~ x1 +", "the right-hand side ends with '+'; add the next indicator or remove the '+'"),
    ("h =~", "the right-hand side of '=~' is empty"),
    ("y ~", "the right-hand side of '~' is empty"),
    ("~ x", "the left-hand side of '~' is empty"),
    ("h ~> x1", "more than one operator"),
    ("h =~ x1 ~ y", "more than one operator"),
    ("h = x1", "'=' is not an operator"),
    ("h ~*~ h", "scaling factors"),
    ("b1 <= b2", "'<=' is not an operator"),
    ("y ~ x % 2", "group weights"),
    ("x1 + x2", "no operator found"),
    ("h =~ x1 + + x2", "two '+' in a row"),
    ("h =~ + x1", "starts with '+'"),
    ("h =~ x1 x2", "expected '+' between 'x1' and 'x2'"),
    ("h =~ c(a, b*x1", "unbalanced parentheses"),
    ("h =~ a, b)*x1", "unbalanced parentheses"),
    ('h =~ label("a*x1', "quoted string is never closed"),
    ("h =~ x$1", "'$'"),
    ("h =~ x1 + x-2", "names cannot contain '-'"),
    ("h =~ x1 + -x2", "'-' must be followed by a number"),
    ("h =~ 1x", "names cannot start with a digit"),
    ("h =~ 2a*x1", "names cannot start with a digit"),
    ("h =~ TRUE*x1", "'TRUE' cannot be a label: it is a reserved word"),
    ("h =~ if*x1", "'if' cannot be a label: it is a reserved word"),
    ('h =~ label("lambda")*x1', "'lambda' (in label(lambda)) cannot be a label"),
    ('h =~ label("1")*x1', "cannot be a label: it is a number"),
    ("h =~ c(1, a)*x1", "mixes numbers and labels"),
    ("h =~ a*", "'a*' is not followed by an indicator name"),
    ("a*h =~ x1", "modifiers (fixed values, labels, start values) belong on the right-hand side"),
    ("h =~ NA", "'NA' is not an indicator name"),
    ("NA =~ x1", "'NA' cannot be a variable name: it is a reserved word"),
    ("h =~ NA?x1", "'?' takes a starting value"),
    ("h =~ a?x1", "'?' takes a starting value"),
    ("h =~ 1*2*x1", "more than one fixed value or NA"),
    ("h =~ NA*1*x1", "more than one fixed value or NA"),
    ("h =~ a*b*x1", "more than one label"),
    ("h =~ start(1)*0.5?x1", "more than one starting value"),
    ("h =~ start(a)*x1", "starting values must be numbers"),
    ("h =~ start(NA)*x1", "need at least one number"),
    ("h =~ foo(1)*x1", "unknown modifier foo()"),
    ("h =~ c()*x1", "c() is empty"),
    ('h =~ "a"*x1', 'must be inside label(), equal() or c()'),
    ("h =~ *x1", "'*' must come after a modifier"),
    ("h =~ 1", "'1' is not an indicator name"),
    ("y ~ 2", "'2' is not a predictor"),
    ("h =~ x1:x2", "product term 'x1:x2' can only be a predictor"),
    ("x:z ~ y", "product term (x:z) can only be a predictor"),
    ("y1 | x1", "'x1' is not a threshold name"),
    ("y ~ y", "'y' cannot be regressed on itself"),
    ("y ~ x:y", "'y' cannot be regressed on itself"),
    ("h =~ h", "'h' cannot be an indicator of itself"),
    ("f =~ x2", "'f =~ x2' is already specified on line 1"),
    ("x1 ~~ x2\nx2 ~~ x1", "'x1 ~~ x2' is already specified on line 3"),
    ("ab := a*b\nab := b", "'ab' is already defined on line 3"),
    ("ab := a*b +", "cannot read the expression 'a*b +'"),
    (":= a*b", "the defined parameter has no name"),
    ("ab :=", "the expression after ':=' is empty"),
    ("1ab := a", "'1ab' cannot name a defined parameter: it starts with a digit"),
    ("for := a", "'for' cannot name a defined parameter: it is a reserved word"),
    ("ab := foo(a)", "the function foo() is not allowed"),
    ("ab := a[1]", "'['"),
    ("ab := a.b()", "the function a.b() is not allowed"),
    ("b1 == ", "the right-hand side of '==' is empty"),
    ("== b1", "the left-hand side of '==' is empty"),
    ("b1 > (a", "unbalanced parentheses"),
    ("group: 1", "block headers"),
]


def _expected_line(bad: str) -> int:
    """The line of GOOD + bad on which the error is (the last line of ``bad``)."""
    return GOOD.count("\n") + bad.count("\n") + 1


@pytest.mark.parametrize("bad, fragment", CASES, ids=[c[0] for c in CASES])
def test_error_quotes_line_and_statement(bad: str, fragment: str) -> None:
    last = bad.splitlines()[-1]
    with pytest.raises(SpecError) as info:
        parse_lavaan(GOOD + bad)
    message = str(info.value)
    assert f'line {_expected_line(bad)}: "{last.strip()}"' in message
    assert fragment in message


def test_error_message_format_of_the_brief() -> None:
    with pytest.raises(SpecError) as info:
        parse_lavaan("f =~ x1 + x2\ng =~ y1 + y2\nf =~ x1 +")
    assert str(info.value) == (
        'line 3: "f =~ x1 +": the right-hand side ends with \'+\'; add the next indicator or '
        "remove the '+'"
    )


def test_dangling_plus_is_reported_on_its_own_line_not_joined_with_the_next_statement() -> None:
    with pytest.raises(SpecError, match=r'^line 1: "f =~ x1 \+": the right-hand side ends'):
        parse_lavaan("f =~ x1 +\ng =~ y1 + y2")


def test_multi_line_statement_errors_name_the_line_range() -> None:
    with pytest.raises(SpecError) as info:
        parse_lavaan("f =~ x1 +\n  x2 x3")
    assert str(info.value).startswith('lines 1-2: "f =~ x1 + x2 x3": expected')


def test_errors_after_semicolons_quote_the_statement_not_the_whole_line() -> None:
    with pytest.raises(SpecError) as info:
        parse_lavaan("y ~ a*x\nab := a; b1 == ")
    assert str(info.value).startswith('line 2: "b1 ==": the right-hand side of \'==\' is empty')


def test_vector_length_mismatch_names_both_lines() -> None:
    with pytest.raises(SpecError) as info:
        parse_lavaan("f =~ x1 + c(a, b)*x2\ny ~ x\ng =~ y1 + c(1, NA, 1)*y2")
    message = str(info.value)
    assert message.startswith('line 3: "g =~ y1 + c(1, NA, 1)*y2"')
    assert "3 entries" in message and "line 1 has 2" in message


def test_vector_length_mismatch_within_one_statement() -> None:
    with pytest.raises(SpecError, match="has 3 entries but the one on line 1 has 2"):
        parse_lavaan("f =~ c(a, b)*x1 + c(a, b, c)*x2")


def test_duplicate_across_several_lhs() -> None:
    with pytest.raises(SpecError, match="already specified"):
        parse_lavaan("y1 + y1 ~ x")


def test_parse_rejects_non_string() -> None:
    with pytest.raises(SpecError, match="must be a string"):
        parse_lavaan(["f =~ x1"])  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="fxyab12 .=~+*?:;|<>()#!,\"-\n", max_size=40))
def test_parser_raises_only_spec_errors(text: str) -> None:
    """On arbitrary input the parser either succeeds or raises SpecError with a line number."""
    try:
        parse_lavaan(text)
    except SpecError as exc:
        assert re.match(r"^(lines? \d+(-\d+)?: |\")", str(exc)), str(exc)


def test_single_line_statements_are_quoted_verbatim() -> None:
    with pytest.raises(SpecError) as info:
        parse_lavaan("f =~ x1\nvisual  =~   x1 +   # dangling")
    assert str(info.value).startswith('line 2: "visual  =~   x1 +": the right-hand side ends')
