"""ModelSpec: construction, derived views and validation."""

from __future__ import annotations

import dataclasses

import pytest

from cbec_sem.errors import SpecError
from cbec_sem.specification import Hypothesis, ModelSpec, Statement

S = Statement

POLDEM = """
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
"""


def test_latent_and_observed_variables_and_indicators() -> None:
    m = ModelSpec.from_lavaan(POLDEM)
    assert m.latent_variables == ("ind60", "dem60", "dem65")
    assert m.observed_variables == (
        "x1", "x2", "x3", "y1", "y2", "y3", "y4", "y5", "y6", "y7", "y8"
    )
    assert m.indicators == {
        "ind60": ("x1", "x2", "x3"),
        "dem60": ("y1", "y2", "y3", "y4"),
        "dem65": ("y5", "y6", "y7", "y8"),
    }
    assert m.regressions == (("dem60", "ind60"), ("dem65", "ind60"), ("dem65", "dem60"))
    assert m.labels == frozenset({"a", "b", "c"})
    assert m.interactions == ()
    assert m.defined == {}
    assert m.ngroups_in_modifiers == 1


def test_observed_order_indicators_first_then_others_in_order_of_appearance() -> None:
    m = ModelSpec.from_lavaan(
        "y ~ x + f + x:w + f:z\nf =~ i1 + i2\nu ~~ v\nk ~ 1\no | t1\ng =~ i3 + y"
    )
    assert m.latent_variables == ("f", "g")
    assert m.observed_variables == ("i1", "i2", "i3", "y", "x", "w", "z", "u", "v", "k", "o")
    assert m.interactions == (("y", "x:w"), ("y", "f:z"))
    assert m.regressions == (("y", "x"), ("y", "f"), ("y", "x:w"), ("y", "f:z"))


def test_latent_defined_after_use_is_still_latent() -> None:
    m = ModelSpec.from_lavaan("y ~ f\nf =~ x1 + x2")
    assert m.latent_variables == ("f",)
    assert m.observed_variables == ("x1", "x2", "y")


def test_defined_labels_and_modifier_groups() -> None:
    m = ModelSpec.from_lavaan(
        "f =~ x1 + c(l1, l2)*x2\ny ~ c(b1, b2)*f\nind := l1*b1\ntot := ind + b2"
    )
    assert m.defined == {"ind": "l1*b1", "tot": "ind+b2"}
    assert m.labels == frozenset({"l1", "l2", "b1", "b2"})
    assert m.ngroups_in_modifiers == 2


def test_views_are_fresh_copies() -> None:
    m = ModelSpec.from_lavaan(POLDEM)
    m.indicators["ind60"] = ("zzz",)
    m.defined["x"] = "1"
    assert m.indicators["ind60"] == ("x1", "x2", "x3")
    assert m.defined == {}


def test_immutable_hashable_and_equal_by_content() -> None:
    m = ModelSpec.from_lavaan(POLDEM)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.statements = ()  # type: ignore[misc]
    assert m == ModelSpec.from_lavaan(POLDEM.replace("  ", " "))
    assert hash(m) == hash(ModelSpec.from_lavaan(POLDEM))


def test_built_from_statements_in_code_lists_accepted() -> None:
    m = ModelSpec([S("f", "=~", "x1"), S("f", "=~", "x2")])  # type: ignore[arg-type]
    assert isinstance(m.statements, tuple)
    assert m.to_lavaan() == "f =~ x1 + x2"
    assert str(m) == m.to_lavaan()
    assert "ModelSpec" in repr(m)


def test_hypotheses_with_hypotheses_hypothesis_and_replace() -> None:
    m = ModelSpec.from_lavaan(POLDEM)
    h1 = Hypothesis.path("H1", "ind60", "dem60")
    h2 = Hypothesis.path("H2", "dem60", "dem65")
    m1 = m.with_hypotheses(h1)
    assert m1.hypotheses == (h1,) and m.hypotheses == ()
    m2 = m1.with_hypotheses(*m1.hypotheses, h2)
    assert m2.hypothesis("H2") is h2
    with pytest.raises(SpecError, match="no hypothesis with id 'H3'; the model's hypotheses are"):
        m2.hypothesis("H3")
    m3 = m2.replace(hypotheses=())
    assert m3.hypotheses == () and m3.statements == m.statements
    assert ModelSpec.from_lavaan(POLDEM, hypotheses=[h1]).hypotheses == (h1,)


def test_hypothesis_may_name_an_observed_variable() -> None:
    m = ModelSpec.from_lavaan("y ~ x", hypotheses=[Hypothesis.path("H1", "x", "y")])
    assert m.hypotheses[0].constructs == ("x", "y")


@pytest.mark.parametrize(
    "text, hypotheses, fragment",
    [
        (POLDEM, [Hypothesis.path("H1", "ind60", "SCI")],
         "hypothesis 'H1' names 'SCI', which is neither a latent nor an observed variable"),
        (POLDEM, [Hypothesis.path("H1", "ind60", "dem60")] * 2, "hypothesis id 'H1' is used twice"),
        (POLDEM, ["H1"], "hypotheses must be Hypothesis objects"),
        ("y ~ a*x\ny := a", [], "the defined parameter 'y' has the name of a variable"),
        ("y ~ a*x\na := 2", [], "the defined parameter 'a' has the name of a parameter label"),
        ("y ~ a*x\nab := a*b", [], "the label 'b' is never defined"),
        ("y ~ a*x\na == b + 1", [], "the label 'b' is never defined"),
        ("y ~ a*x\nd := a*x", [], "'x' is a variable; label the parameter instead"),
        ("y ~ a*x\nd := e*a\ne := a", [], "'e' is used before it is defined"),
        ("y ~ a*x\nd := d*a", [], "'d' is defined in terms of itself"),
    ],
)
def test_validation_errors(text: str, hypotheses: list, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        ModelSpec.from_lavaan(text, hypotheses=hypotheses)
    assert fragment in str(info.value)


def test_validation_errors_quote_the_line() -> None:
    with pytest.raises(SpecError) as info:
        ModelSpec.from_lavaan("y ~ a*x + b*z\n\nab := a*b*q")
    assert str(info.value).startswith('line 3: "ab := a*b*q": the label \'q\' is never defined')


def test_plabels_defined_parameters_in_constraints_are_allowed() -> None:
    m = ModelSpec.from_lavaan("y ~ a*x + z\nd := a*.p2.\nd > 0\n.p2. == 2*a")
    assert m.defined == {"d": "a*.p2."}
    assert [s.op for s in m.statements][-2:] == [">", "=="]


def test_constraint_may_use_a_defined_parameter_defined_later() -> None:
    ModelSpec.from_lavaan("y ~ a*x + b*z\nab == 0.5\nab := a*b")


@pytest.mark.parametrize(
    "statements, fragment",
    [
        ((), "at least one statement"),
        ("f =~ x1", "must be a sequence"),
        ((S("f", "=>", "x1"),), "unknown operator '=>'"),
        ((S("f", "=~", "x 1"),), "'x 1' cannot be a variable name: it contains ' '"),
        ((S("1f", "=~", "x1"),), "'1f' cannot be a variable name: it starts with a digit"),
        ((S("y", "~1", "x"),), "an intercept ('~1') statement has rhs ''"),
        ((S("y", "|", "x"),), "'x' is not a threshold name"),
        ((S("f", "=~", "x1", labels=("for",)),), "'for' cannot be a label: it is a reserved word"),
        ((S("f", "=~", "x1", fixed=(float("inf"),)),), "must be finite"),
        ((S("f", "=~", "x1", fixed=("1",)),), "must be numbers"),  # type: ignore[arg-type]
        ((S("f", "=~", "x1", fixed=[1.0]),), "fixed must be a tuple"),  # type: ignore[arg-type]
        ((S("f", "=~", "x1", free=(1,)),), "free must hold True/False"),  # type: ignore[arg-type]
        ((S("f", "=~", "x1", fixed=(1.0,), free=(True,)),), "group 1 is both fixed (1.0) and free"),
        ((S("a", ":=", "b +"),), "cannot read the expression"),
        ((S("a", ":=", "b", labels=("q",)),), "takes no modifiers"),
        ((S("f", "=~", "x1"), S("f", "=~", "x1")), "'f =~ x1' is already specified earlier"),
        (
            (S("f", "=~", "x1", labels=("a", "b")), S("f", "=~", "x2", labels=("a", "b", "c"))),
            "has 3 entries but the one of 'f =~ x1' has 2",
        ),
        ((object(),), "must be a Statement"),
    ],
)
def test_statements_built_in_code_are_checked(statements: object, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        ModelSpec(statements)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_from_lavaan_with_no_statements() -> None:
    with pytest.raises(SpecError, match="has no statements"):
        ModelSpec.from_lavaan("# nothing here\n")
