"""write_lavaan and the round trip parse_lavaan(write_lavaan(s)) == s."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbec_sem.specification import ModelSpec, Statement, paper_model, parse_lavaan, write_lavaan

S = Statement

DOC_MODELS = [
    "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9",
    """
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + a*y2 + b*y3 + c*y4
    dem65 =~ y5 + a*y6 + b*y7 + c*y8
    dem60 ~ ind60
    dem65 ~ ind60 + dem60
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
    """,
    "Y ~ c*X\nM ~ a*X\nY ~ b*M\nab := a*b\ntotal := c + (a*b)",
    "y ~ b1*x1 + b2*x2 + b3*x3\nb1 == (b2 + b3)^2\nb1 > exp(b2 + b3)\nb2 < -b3/2",
    """
    visual =~ x1 + 0.5*x2 + c(0.6, 0.8)*x3 + c(a, b)*x4 + c(1, NA)*x5 + NA*x6
    textual =~ NA*start(1.2)*x7 + c(NA, NA)*x8 + c(0.5, NA)?x9 + label("q")*x10
    visual ~~ c(1, 1)*visual
    x1 ~ c(i1, i1)*1
    y ~ x + z + x:z + 1e-3*w
    u1 | t1 + -1.5*t2 + start(c(0.1, 0.2))*t3
    """,
]


@pytest.mark.parametrize("text", DOC_MODELS)
def test_round_trip_of_documentation_models(text: str) -> None:
    stmts = parse_lavaan(text)
    assert parse_lavaan(write_lavaan(stmts)) == stmts


def test_writer_joins_adjacent_statements_with_the_same_lhs_and_op() -> None:
    stmts = parse_lavaan("f =~ x1\nf =~ x2\ny ~ f\nf =~ x3\ny ~ 1")
    assert write_lavaan(stmts) == "f =~ x1 + x2\ny ~ f\nf =~ x3\ny ~ 1"


def test_writer_formats_modifiers_lavaan_style() -> None:
    text = (
        "f =~ NA*x1 + 1*x2 + -0.5*x3 + start(0.5)*x4 + a*x5 + c(a, b)*x6 + c(1, NA)*x7 "
        "+ c(NA, NA)*x8 + start(c(0.5, NA))*x9 + c(l1, NA)*x10 + NA*start(2)*lam*x11"
    )
    assert write_lavaan(parse_lavaan(text)) == text
    assert write_lavaan(parse_lavaan("f =~ 0.5?x1 + c(1,2)?x2")) == (
        "f =~ start(0.5)*x1 + start(c(1, 2))*x2"
    )
    assert write_lavaan(parse_lavaan("y ~ 0*1\nz ~ a*1")) == "y ~ 0*1\nz ~ a*1"


def test_writer_writes_expressions_readably() -> None:
    stmts = parse_lavaan("y ~ a*x + b*m\nind := a*b\ntotal:=a*b+c0\nb == (a - -1)^2")[2:]
    assert write_lavaan(stmts) == "ind := a*b\ntotal := a*b + c0\nb == (a - -1)^2"


def test_writer_of_statements_built_in_code() -> None:
    stmts = [
        S("f", "=~", "x1", fixed=(1.0,)),
        S("f", "=~", "x2", labels=("l2",), starts=(0.8,)),
        S("f", "~~", "f", free=(True,)),
    ]
    assert write_lavaan(stmts) == "f =~ 1*x1 + start(0.8)*l2*x2\nf ~~ NA*f"
    assert parse_lavaan(write_lavaan(stmts)) == tuple(stmts)


def test_model_to_lavaan_round_trip() -> None:
    model = paper_model()
    again = ModelSpec.from_lavaan(model.to_lavaan(), hypotheses=model.hypotheses)
    assert again == model
    assert str(model) == model.to_lavaan()


# --------------------------------------------------------------------------- property test

VARIABLES = ("x1", "x2", "y.1", "z_a", "w", "q.9", "题1")
LATENTS = ("f", "g2", "F.b")
NAMES = VARIABLES + LATENTS
LABELS = ("a", "b", "c", "l.1", "b_2", ".p3.")
DEFINED = ("ind", "tot", "d.1")

# Strategies are built once: building them inside a draw makes hypothesis re-validate them.
NUMBER = st.floats(allow_nan=False, allow_infinity=False)
NUMBER_OR_NA = st.one_of(NUMBER, st.none())
LABEL_OR_NA = st.one_of(st.sampled_from(LABELS), st.none())
NAME = st.sampled_from(NAMES)
OTHER_NAME = {name: st.sampled_from([v for v in NAMES if v != name]) for name in NAMES}
PAIR = {
    name: st.lists(OTHER_NAME[name], min_size=2, max_size=2, unique=True) for name in NAMES
}
OPERATORS = st.sampled_from(["=~", "~", "~1", "~~", "|", ":=", "==", "<", ">"])


def _expressions() -> st.SearchStrategy[str]:
    """Whitespace-free expression texts (as the parser stores them)."""
    leaves = st.one_of(
        st.sampled_from(LABELS),
        st.sampled_from(["1", "0.5", "2", "1e-3", "10"]),
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^", "**"]), inner).map(
                "".join
            ),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"-{e}"),
            st.tuples(st.sampled_from(["exp", "log", "sqrt", "pnorm", "abs"]), inner).map(
                lambda p: f"{p[0]}({p[1]})"
            ),
        )

    return st.recursive(leaves, extend, max_leaves=5)


EXPRESSION = _expressions()


@st.composite
def vector(draw: st.DrawFn, ngroups: int, element: st.SearchStrategy) -> tuple:
    """A modifier tuple of length 1 or ngroups."""
    n = 1 if ngroups == 1 or draw(st.booleans()) else ngroups
    return tuple(draw(element) for _ in range(n))


def modifiers(draw: st.DrawFn, ngroups: int) -> dict[str, tuple]:
    """Canonical modifiers, exactly as the parser produces them."""
    out: dict[str, tuple] = {}
    kind = draw(st.integers(0, 2))
    if kind == 1:
        values = draw(vector(ngroups, NUMBER_OR_NA))
        if all(v is None for v in values):
            out["free"] = tuple(True for _ in values)
        else:
            out["fixed"] = values
            if any(v is None for v in values):
                out["free"] = tuple(v is None for v in values)
    elif kind == 2:
        out["free"] = draw(vector(ngroups, st.just(True)))
    if draw(st.booleans()):
        labels = draw(vector(ngroups, LABEL_OR_NA))
        if any(lab is not None for lab in labels):
            out["labels"] = labels
    if draw(st.booleans()):
        starts = draw(vector(ngroups, NUMBER_OR_NA))
        if any(v is not None for v in starts):
            out["starts"] = starts
    return out


@st.composite
def statement(draw: st.DrawFn, ngroups: int) -> Statement:
    op = draw(OPERATORS)
    if op in (":=", "==", "<", ">"):
        lhs = draw(st.sampled_from(DEFINED)) if op == ":=" else draw(EXPRESSION)
        return S(lhs, op, draw(EXPRESSION))
    mods = modifiers(draw, ngroups)
    if op == "=~":
        lhs = draw(st.sampled_from(LATENTS))
        rhs = draw(OTHER_NAME[lhs])
    elif op == "~":
        lhs = draw(NAME)
        rhs = draw(OTHER_NAME[lhs]) if draw(st.booleans()) else ":".join(draw(PAIR[lhs]))
    elif op == "~1":
        lhs, rhs = draw(NAME), ""
    elif op == "~~":
        lhs, rhs = draw(NAME), draw(NAME)
    else:
        lhs, rhs = draw(st.sampled_from(VARIABLES)), draw(st.sampled_from(["t1", "t2", "t3"]))
    return S(lhs, op, rhs, **mods)


def _key(s: Statement) -> tuple:
    if s.op == ":=":
        return (s.lhs, s.op)
    if s.op == "~~":
        return (frozenset((s.lhs, s.rhs)), s.op)
    return (s.lhs, s.op, s.rhs)


STATEMENTS = {g: st.lists(statement(g), min_size=1, max_size=12, unique_by=_key) for g in (1, 2, 3)}


@st.composite
def models(draw: st.DrawFn) -> tuple[Statement, ...]:
    return tuple(draw(STATEMENTS[draw(st.integers(1, 3))]))


@settings(max_examples=200, deadline=None)
@given(models())
def test_round_trip_property(stmts: tuple[Statement, ...]) -> None:
    text = write_lavaan(stmts)
    parsed = parse_lavaan(text)
    assert parsed == stmts, text
    assert parse_lavaan(write_lavaan(parsed)) == parsed
