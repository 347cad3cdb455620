"""paper_model: the default model of DESIGN.md, custom items, hypothesis selection, errors."""

from __future__ import annotations

import pytest

from cbec_sem.errors import SpecError
from cbec_sem.specification import PAPER_CONSTRUCTS, Hypothesis, ModelSpec, Statement, paper_model

S = Statement

DEFAULT = """
TA =~ ta1 + ta2 + ta3 + ta4
FA =~ fa1 + fa2 + fa3 + fa4
PC =~ pc1 + pc2 + pc3
VP =~ vp1 + vp2 + vp3
FO =~ fo1 + fo2 + fo3
IS =~ is1 + is2 + is3
SCI =~ VP + FO + IS
FA ~ a*TA
SCI ~ c*TA + b*FA + PC
indirect := a*b
total := c + a*b
"""

HYPOTHESES = [
    ("H1", "path", "TA → SCI is positive", ("TA", "SCI")),
    ("H2", "path", "FA → SCI is positive", ("FA", "SCI")),
    ("H3", "path", "TA → FA is positive (FA depends on TA)", ("TA", "FA")),
    ("H4", "indirect", "TA → FA → SCI indirect effect is positive (bootstrap CI excludes 0)",
     ("TA", "FA", "SCI")),
    ("H5", "interaction", "TA × FA → SCI is positive (latent interaction)", ("TA", "FA", "SCI")),
    ("H6a", "moderation", "PC moderates TA → SCI (PC × TA → SCI)", ("PC", "TA", "SCI")),
    ("H6b", "moderation", "PC moderates FA → SCI (PC × FA → SCI)", ("PC", "FA", "SCI")),
    ("H7", "necessity",
     "TA is a necessary condition for FA (NCA effect size d ≥ 0.1 and permutation p < .05)",
     ("TA", "FA")),
    ("H8", "necessity", "TA is a necessary condition for SCI", ("TA", "SCI")),
]


def test_default_model_statements() -> None:
    assert paper_model() == ModelSpec.from_lavaan(DEFAULT, hypotheses=paper_model().hypotheses)
    m = paper_model()
    assert m.latent_variables == ("TA", "FA", "PC", "VP", "FO", "IS", "SCI")
    assert m.indicators["SCI"] == ("VP", "FO", "IS")
    assert m.indicators["TA"] == ("ta1", "ta2", "ta3", "ta4")
    assert m.observed_variables[:4] == ("ta1", "ta2", "ta3", "ta4")
    assert len(m.observed_variables) == 20
    assert m.regressions == (("FA", "TA"), ("SCI", "TA"), ("SCI", "FA"), ("SCI", "PC"))
    assert m.defined == {"indirect": "a*b", "total": "c+a*b"}
    assert m.labels == frozenset({"a", "b", "c"})
    assert S("FA", "~", "TA", labels=("a",)) in m.statements


def test_default_model_text() -> None:
    assert paper_model().to_lavaan() == DEFAULT.strip()


def test_default_hypotheses_h1_to_h8() -> None:
    hyps = paper_model().hypotheses
    assert [(h.id, h.kind, h.statement, h.constructs, h.sign) for h in hyps] == [
        (*row, "+") for row in HYPOTHESES
    ]


def test_paper_constructs_table() -> None:
    assert list(PAPER_CONSTRUCTS) == ["TA", "FA", "PC", "VP", "FO", "IS", "SCI"]
    assert PAPER_CONSTRUCTS["SCI"].startswith("supply-chain operation innovation")
    with pytest.raises(TypeError):
        PAPER_CONSTRUCTS["XX"] = "no"  # type: ignore[index]


def test_custom_items_override_only_the_constructs_given() -> None:
    m = paper_model(items={"TA": ["q1", "q2", "q3"], "IS": ("s_1", "s.2")})
    assert m.indicators["TA"] == ("q1", "q2", "q3")
    assert m.indicators["IS"] == ("s_1", "s.2")
    assert m.indicators["FA"] == ("fa1", "fa2", "fa3", "fa4")
    assert m.observed_variables[:3] == ("q1", "q2", "q3")
    assert "ta1" not in m.observed_variables


def test_custom_items_need_not_be_ascii() -> None:
    m = paper_model(items={"TA": ["技术1", "技术2", "技术3"]})
    assert m.indicators["TA"] == ("技术1", "技术2", "技术3")


def test_hypothesis_selection_by_id_and_objects() -> None:
    assert [h.id for h in paper_model(hypotheses=["H3", "H1"]).hypotheses] == ["H3", "H1"]
    assert [h.id for h in paper_model(hypotheses="H4").hypotheses] == ["H4"]
    assert paper_model(hypotheses=[]).hypotheses == ()
    own = Hypothesis.path("H9", "PC", "FA")
    assert paper_model(hypotheses=["H1", own]).hypotheses[1] is own


@pytest.mark.parametrize(
    "items, fragment",
    [
        ({"XX": ["q1"]}, "unknown construct code 'XX'; the constructs are TA, FA, PC, VP, FO, IS"),
        ({"TA": []}, "the construct TA has no items"),
        ({"SCI": ["s1"]}, "SCI takes no items: it is a second-order construct measured by VP, FO"),
        ({"TA": ["q1", "q2"], "FA": ["q2", "q3"]}, "the item 'q2' is used in both TA and FA"),
        ({"FA": ["ta1", "f2"]}, "the item 'ta1' is used in both TA and FA"),
        ({"TA": ["q1", "q1"]}, "the item 'q1' is used twice in TA"),
        ({"TA": ["q1", 2]}, "item names must be strings; got 2 (int) for TA"),
        ({"TA": "q1"}, "must be a list of item names"),
        ({"TA": ["q 1"]}, "the item 'q 1' of TA is not a valid name"),
        ({"TA": ["1q"]}, "starts with a digit"),
        ({"TA": ["FA", "q2"]}, "the item 'FA' of TA has the name of a construct"),
        ({"TA": ["total", "q2"]}, "has the name of a construct or defined effect"),
    ],
)
def test_item_errors(items: dict, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        paper_model(items=items)
    assert fragment in str(info.value)


def test_items_must_be_a_mapping() -> None:
    with pytest.raises(SpecError, match="items must be a mapping"):
        paper_model(items=[("TA", ["q1"])])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "hypotheses, fragment",
    [
        (["H1", "H9"], "unknown hypothesis id 'H9'; the paper's hypotheses are H1, H2, H3, H4"),
        ([1], "hypotheses must be ids such as 'H1' or Hypothesis objects"),
        ([Hypothesis.path("H9", "TA", "XYZ")], "hypothesis 'H9' names 'XYZ'"),
        (["H1", "H1"], "hypothesis id 'H1' is used twice"),
    ],
)
def test_hypothesis_errors(hypotheses: list, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        paper_model(hypotheses=hypotheses)
    assert fragment in str(info.value)


@pytest.mark.parametrize("bad", [5, 2.5, {"H1": 1}.keys(), b"H1"])
def test_hypotheses_of_the_wrong_type_are_a_spec_error(bad):
    with pytest.raises(SpecError, match="hypotheses="):
        paper_model(hypotheses=bad)
