"""Hypothesis: validation of kind, sign and constructs; convenience constructors."""

from __future__ import annotations

import dataclasses

import pytest

from cbec_sem.errors import SpecError
from cbec_sem.specification import Hypothesis


def test_fields_and_frozen() -> None:
    h = Hypothesis("H1", "path", "TA → SCI is positive", ("TA", "SCI"))
    assert (h.id, h.kind, h.statement, h.constructs, h.sign) == (
        "H1", "path", "TA → SCI is positive", ("TA", "SCI"), "+"
    )
    assert h.outcome == "SCI"
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.sign = "-"  # type: ignore[misc]


def test_constructs_list_becomes_tuple() -> None:
    h = Hypothesis("H1", "path", "x", ["TA", "SCI"])  # type: ignore[arg-type]
    assert h.constructs == ("TA", "SCI")
    assert hash(h) == hash(Hypothesis("H1", "path", "x", ("TA", "SCI")))


@pytest.mark.parametrize(
    "kind, constructs",
    [
        ("path", ("X", "Y")),
        ("indirect", ("X", "M", "Y")),
        ("indirect", ("X", "M1", "M2", "Y")),
        ("interaction", ("X", "Z", "Y")),
        ("moderation", ("W", "X", "Y")),
        ("necessity", ("X", "Y")),
    ],
)
def test_valid_kinds(kind: str, constructs: tuple[str, ...]) -> None:
    assert Hypothesis("Hx", kind, "s", constructs).constructs == constructs


@pytest.mark.parametrize("sign", ["+", "-", "two-sided"])
def test_valid_signs(sign: str) -> None:
    assert Hypothesis("Hx", "path", "s", ("X", "Y"), sign).sign == sign


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(kind="mediation", constructs=("X", "Y")), "unknown kind 'mediation'"),
        (dict(sign="positive"), "unknown sign 'positive'"),
        (dict(constructs=("X",)), "names 2 constructs (predictor, outcome), got 1"),
        (dict(constructs=("X", "Y", "Z")), "got 3"),
        (dict(kind="indirect", constructs=("X", "Y")), "at least 3 constructs"),
        (dict(kind="interaction", constructs=("X", "Y")), "names 3 constructs (x, z, outcome)"),
        (dict(kind="moderation", constructs=("W", "X", "Y", "Z")), "(moderator, focal"),
        (dict(kind="necessity", constructs=("X",)), "(condition, outcome)"),
        (dict(constructs=("X", "X")), "names the construct 'X' more than once"),
        (dict(constructs="XY"), "constructs must be a sequence"),
        (dict(constructs=("X", 3)), "construct names must be non-empty strings"),
        (dict(statement=None), "the statement must be a string"),
    ],
)
def test_invalid_hypotheses_name_the_id(kwargs: dict, fragment: str) -> None:
    fields = dict(id="H9", kind="path", statement="s", constructs=("X", "Y"))
    fields.update(kwargs)
    with pytest.raises(SpecError) as info:
        Hypothesis(**fields)
    assert "'H9'" in str(info.value)
    assert fragment in str(info.value)


def test_empty_id_rejected() -> None:
    with pytest.raises(SpecError, match="id must be a non-empty string"):
        Hypothesis("", "path", "s", ("X", "Y"))


def test_convenience_constructors() -> None:
    assert Hypothesis.path("H1", "TA", "SCI") == Hypothesis(
        "H1", "path", "TA → SCI is positive", ("TA", "SCI")
    )
    assert Hypothesis.path("H1", "TA", "SCI", sign="-").statement == "TA → SCI is negative"
    h4 = Hypothesis.indirect("H4", "TA", "FA", "SCI")
    assert (h4.kind, h4.constructs) == ("indirect", ("TA", "FA", "SCI"))
    assert h4.statement == "TA → FA → SCI indirect effect is positive"
    h5 = Hypothesis.interaction("H5", "TA", "FA", "SCI", sign="two-sided")
    assert (h5.kind, h5.constructs, h5.statement) == (
        "interaction", ("TA", "FA", "SCI"), "TA × FA → SCI is non-zero"
    )
    h6 = Hypothesis.moderation("H6a", "PC", "TA", "SCI")
    assert h6.statement == "PC moderates TA → SCI (PC × TA → SCI)"
    h7 = Hypothesis.necessity("H7", "TA", "FA", statement="custom")
    assert (h7.kind, h7.constructs, h7.statement) == ("necessity", ("TA", "FA"), "custom")
