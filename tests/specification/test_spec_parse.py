"""parse_lavaan on the examples of lavaan's documentation and on each syntax feature."""

from __future__ import annotations

import pytest

from cbec_sem.specification import Statement, parse_lavaan

S = Statement


def test_holzinger_swineford_cfa() -> None:
    text = """
    visual  =~ x1 + x2 + x3
    textual =~ x4 + x5 + x6
    speed   =~ x7 + x8 + x9
    """
    assert parse_lavaan(text) == tuple(
        S(f, "=~", f"x{i}")
        for f, items in (("visual", (1, 2, 3)), ("textual", (4, 5, 6)), ("speed", (7, 8, 9)))
        for i in items
    )


def test_political_democracy_with_labels_and_residual_covariances() -> None:
    text = """
      # measurement model
        ind60 =~ x1 + x2 + x3
        dem60 =~ y1 + a*y2 + b*y3 + c*y4
        dem65 =~ y5 + a*y6 + b*y7 + c*y8
      # regressions
        dem60 ~ ind60
        dem65 ~ ind60 + dem60
      # residual correlations
        y1 ~~ y5
        y2 ~~ y4 + y6
        y3 ~~ y7
        y4 ~~ y8
        y6 ~~ y8
    """
    expected = (
        S("ind60", "=~", "x1"), S("ind60", "=~", "x2"), S("ind60", "=~", "x3"),
        S("dem60", "=~", "y1"), S("dem60", "=~", "y2", labels=("a",)),
        S("dem60", "=~", "y3", labels=("b",)), S("dem60", "=~", "y4", labels=("c",)),
        S("dem65", "=~", "y5"), S("dem65", "=~", "y6", labels=("a",)),
        S("dem65", "=~", "y7", labels=("b",)), S("dem65", "=~", "y8", labels=("c",)),
        S("dem60", "~", "ind60"),
        S("dem65", "~", "ind60"), S("dem65", "~", "dem60"),
        S("y1", "~~", "y5"),
        S("y2", "~~", "y4"), S("y2", "~~", "y6"),
        S("y3", "~~", "y7"), S("y4", "~~", "y8"), S("y6", "~~", "y8"),
    )
    assert parse_lavaan(text) == expected


def test_line_numbers_and_sources() -> None:
    stmts = parse_lavaan("# comment\n\nf =~ x1 + x2\n  y ~ f  # trailing\n")
    assert [(s.line, s.source) for s in stmts] == [
        (3, "f =~ x1 + x2"), (3, "f =~ x1 + x2"), (4, "y ~ f")
    ]


def test_mediation_with_defined_parameters() -> None:
    text = """
     # direct effect
       Y ~ c*X
     # mediator
       M ~ a*X
       Y ~ b*M
     # indirect effect (a*b)
       ab := a*b
     # total effect
       total := c + (a*b)
    """
    assert parse_lavaan(text) == (
        S("Y", "~", "X", labels=("c",)),
        S("M", "~", "X", labels=("a",)),
        S("Y", "~", "M", labels=("b",)),
        S("ab", ":=", "a*b"),
        S("total", ":=", "c+(a*b)"),
    )


def test_equality_and_inequality_constraints() -> None:
    text = """
    y ~ b1*x1 + b2*x2 + b3*x3
    b1 == (b2 + b3)^2
    b1 > exp(b2 + b3)
    b2 < 0.5 * b3
    """
    assert parse_lavaan(text)[3:] == (
        S("b1", "==", "(b2+b3)^2"),
        S("b1", ">", "exp(b2+b3)"),
        S("b2", "<", "0.5*b3"),
    )


def test_fixed_values_and_na() -> None:
    text = "f =~ NA*x1 + 1*x2 + 0*x3 + -0.5*x4 + 1e-3*x5 + 2.5E+2*x6\nf ~~ 1*f\nx1 ~~ 0*x2"
    assert parse_lavaan(text) == (
        S("f", "=~", "x1", free=(True,)),
        S("f", "=~", "x2", fixed=(1.0,)),
        S("f", "=~", "x3", fixed=(0.0,)),
        S("f", "=~", "x4", fixed=(-0.5,)),
        S("f", "=~", "x5", fixed=(0.001,)),
        S("f", "=~", "x6", fixed=(250.0,)),
        S("f", "~~", "f", fixed=(1.0,)),
        S("x1", "~~", "x2", fixed=(0.0,)),
    )


def test_label_forms() -> None:
    text = 'f =~ a*x1 + label("b")*x2 + equal("a")*x3 + label(\'c.1\')*x4 + .p5.*x5'
    assert [s.labels for s in parse_lavaan(text)] == [("a",), ("b",), ("a",), ("c.1",), (".p5.",)]


def test_start_values() -> None:
    text = "f =~ start(0.5)*x1 + 0.7?x2 + start(-1)*x3 + c(0.5, 0.6)?x4 + start(c(1, NA))*x5"
    assert [s.starts for s in parse_lavaan(text)] == [
        (0.5,), (0.7,), (-1.0,), (0.5, 0.6), (1.0, None)
    ]


def test_group_vectors() -> None:
    text = """
    visual =~ x1 + c(a, b)*x2 + c(1, NA)*x3 + c(NA, NA)*x4 + c(v3, NA)*x5
    visual ~~ c(0.5, 0.5)?visual
    """
    assert parse_lavaan(text) == (
        S("visual", "=~", "x1"),
        S("visual", "=~", "x2", labels=("a", "b")),
        S("visual", "=~", "x3", fixed=(1.0, None), free=(False, True)),
        S("visual", "=~", "x4", free=(True, True)),
        S("visual", "=~", "x5", labels=("v3", None)),
        S("visual", "~~", "visual", starts=(0.5, 0.5)),
    )


def test_chained_modifiers() -> None:
    (stmt,) = parse_lavaan("y ~ a*start(0.5)*x")
    assert stmt == S("y", "~", "x", labels=("a",), starts=(0.5,))
    (stmt,) = parse_lavaan("f =~ NA*start(1)*lam1*x1")
    assert stmt == S("f", "=~", "x1", labels=("lam1",), starts=(1.0,), free=(True,))
    (stmt,) = parse_lavaan("f =~ c(1, 1)*c(l1, l2)*x1")
    assert stmt == S("f", "=~", "x1", fixed=(1.0, 1.0), labels=("l1", "l2"))


def test_intercepts() -> None:
    text = "y ~ 1\nx1 ~ a*1\nf ~ 0*1\nx2 ~ NA*1; x3 ~ start(2)*1\ny2 ~ x + 1"
    assert parse_lavaan(text) == (
        S("y", "~1", ""),
        S("x1", "~1", "", labels=("a",)),
        S("f", "~1", "", fixed=(0.0,)),
        S("x2", "~1", "", free=(True,)),
        S("x3", "~1", "", starts=(2.0,)),
        S("y2", "~", "x"),
        S("y2", "~1", ""),
    )


def test_thresholds() -> None:
    assert parse_lavaan("y1 | t1 + t2\ny2 | a*t1 + -0.5*t2") == (
        S("y1", "|", "t1"), S("y1", "|", "t2"),
        S("y2", "|", "t1", labels=("a",)), S("y2", "|", "t2", fixed=(-0.5,)),
    )


def test_interaction_terms() -> None:
    assert parse_lavaan("y ~ x + z + x:z") == (
        S("y", "~", "x"), S("y", "~", "z"), S("y", "~", "x:z")
    )
    assert parse_lavaan("y ~ b3*x:z")[0] == S("y", "~", "x:z", labels=("b3",))


def test_several_lhs_expand_lhs_major() -> None:
    assert parse_lavaan("y1 + y2 ~ x1 + x2") == (
        S("y1", "~", "x1"), S("y1", "~", "x2"), S("y2", "~", "x1"), S("y2", "~", "x2")
    )


def test_multi_line_statements() -> None:
    text = """
    visual =~ x1 + x2 +
              x3
    textual =~ x4 + x5
             + x6
    speed =~
        x7 + x8 + x9
    y1 +
    y2 ~ f
    f =~ a*
        x10
    """
    stmts = parse_lavaan(text)
    assert [(s.lhs, s.op, s.rhs) for s in stmts] == [
        ("visual", "=~", "x1"), ("visual", "=~", "x2"), ("visual", "=~", "x3"),
        ("textual", "=~", "x4"), ("textual", "=~", "x5"), ("textual", "=~", "x6"),
        ("speed", "=~", "x7"), ("speed", "=~", "x8"), ("speed", "=~", "x9"),
        ("y1", "~", "f"), ("y2", "~", "f"),
        ("f", "=~", "x10"),
    ]
    assert stmts[2].line == 2 and stmts[2].source == "visual =~ x1 + x2 + x3"
    assert stmts[-1].labels == ("a",)


def test_multi_line_across_blank_and_comment_lines_and_open_parenthesis() -> None:
    stmts = parse_lavaan("f =~ x1 +\n\n  # the second item\n  x2\ng =~ c(a,\n b)*y1 + y2")
    assert [s.rhs for s in stmts] == ["x1", "x2", "y1", "y2"]
    assert stmts[2].labels == ("a", "b")


def test_multi_line_expression() -> None:
    assert parse_lavaan("y ~ a*x + b*z\ntotal := a +\n   b")[-1] == S("total", ":=", "a+b")


def test_comments_semicolons_and_blank_lines() -> None:
    text = "f =~ x1 + x2 ! lavaan also accepts '!'\n\n; ; g =~ x3 + x4; y ~ f # regress\n"
    assert [(s.lhs, s.op, s.rhs) for s in parse_lavaan(text)] == [
        ("f", "=~", "x1"), ("f", "=~", "x2"),
        ("g", "=~", "x3"), ("g", "=~", "x4"), ("y", "~", "f"),
    ]


def test_names_with_dots_underscores_digits_and_unicode() -> None:
    stmts = parse_lavaan("F.1 =~ x.1 + x_2 + X3.a_b\n技术 =~ 题1 + 题2")
    assert [s.rhs for s in stmts] == ["x.1", "x_2", "X3.a_b", "题1", "题2"]


def test_empty_text_gives_no_statements() -> None:
    assert parse_lavaan("") == ()
    assert parse_lavaan("  # only a comment\n\n") == ()


def test_windows_line_endings() -> None:
    assert len(parse_lavaan("f =~ x1 +\r\n x2\r\ny ~ f\r\n")) == 3


@pytest.mark.parametrize(
    "text",
    ["x1 ~~ 0*x2", "x1 ~~ a*x2", "x1 ~~ start(0.1)*x2", "x1 ~~ c(0, NA)*x2"],
)
def test_modifiers_on_covariances(text: str) -> None:
    (stmt,) = parse_lavaan(text)
    assert (stmt.lhs, stmt.op, stmt.rhs) == ("x1", "~~", "x2")
    assert stmt.fixed or stmt.labels or stmt.starts
