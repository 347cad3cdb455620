"""Codebook and ItemInfo: construction from dicts and YAML, validation, immutability."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from cbec_sem.errors import DataError
from cbec_sem.survey import Codebook, ItemInfo


def test_from_dict_full_layout():
    codebook = Codebook.from_dict(
        {
            "scale": [1, 7],
            "reverse": ["fa3"],
            "items": {
                "ta1": {"label": "Platform technology", "value_labels": {"1": "SD", 7.0: "SA"}},
                "fa3": None,
                "vp1": {"scale": [1, 5]},
            },
        }
    )
    assert list(codebook.items) == ["ta1", "fa3", "vp1"]
    assert codebook.get("ta1") == ItemInfo(
        "ta1", label="Platform technology", scale=(1, 7), value_labels={1: "SD", 7: "SA"}
    )
    assert codebook.get("fa3").reverse is True
    assert codebook.get("ta1").reverse is False
    assert codebook.get("vp1").scale == (1, 5)  # item scale beats the default
    assert "ta1" in codebook and "zz" not in codebook and len(codebook) == 3
    assert codebook.get("zz") is None


def test_from_dict_plain_mapping_and_list():
    plain = Codebook.from_dict({"a": {"scale": (0, 10), "reverse": True}, "b": None})
    assert plain.get("a").scale == (0, 10) and plain.get("a").reverse
    assert plain.get("b") == ItemInfo("b")
    listed = Codebook.from_dict({"items": ["a", "b"], "scale": [1, 5]})
    assert listed.get("b").scale == (1, 5)


@pytest.mark.parametrize(
    ("mapping", "pattern"),
    [
        ({"items": {"a": {"scael": [1, 7]}}}, "unknown key.*scael"),
        ({"items": {"a": None}, "title": "x"}, "unknown top-level key.*title"),
        ({"items": {"a": {"scale": [7, 1]}}}, "item 'a'.*low < high"),
        ({"items": {"a": {"scale": "1-7"}}}, "item 'a'.*pair of numbers"),
        ({"items": {"a": {"scale": [True, 7]}}}, "pair of numbers"),
        ({"items": {"a": {"reverse": "yes"}}}, "reverse of item 'a'"),
        ({"items": {"a": {"value_labels": ["SD", "SA"]}}}, "value_labels of item 'a'"),
        ({"items": {"a": None}, "reverse": ["b"]}, "reverse-keys 'b'"),
        ({"items": {"a": 7}}, "entry of item 'a' must be a mapping"),
    ],
)
def test_from_dict_errors(mapping, pattern):
    with pytest.raises(DataError, match=pattern):
        Codebook.from_dict(mapping)


def test_from_yaml(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(
        "scale: [1, 7]\n"
        "reverse: [fa3]\n"
        "items:\n"
        "  ta1: {label: Platform technology,\n"
        "        value_labels: {1: Strongly disagree, 7: Strongly agree}}\n"
        "  fa3:\n"
        "  vp1: {scale: [1, 5], label: 品牌}\n",
        encoding="utf-8",
    )
    codebook = Codebook.from_yaml(path)
    assert codebook.get("ta1").value_labels == {1: "Strongly disagree", 7: "Strongly agree"}
    assert codebook.get("fa3").reverse and codebook.get("fa3").scale == (1, 7)
    assert codebook.get("vp1").label == "品牌"
    assert Codebook.coerce(str(path)) == codebook


def test_from_yaml_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        Codebook.from_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("items: {a: [1, 2\n", encoding="utf-8")
    with pytest.raises(DataError, match="not valid"):
        Codebook.from_yaml(bad)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(DataError, match="must be a mapping"):
        Codebook.from_yaml(wrong)


def test_coerce():
    assert len(Codebook.coerce(None)) == 0
    with pytest.raises(DataError, match="Codebook, a dict or a YAML"):
        Codebook.coerce(42)


def test_immutable():
    codebook = Codebook.from_dict({"a": {"value_labels": {1: "x"}}})
    with pytest.raises(TypeError):
        codebook.items["b"] = ItemInfo("b")  # type: ignore[index]
    with pytest.raises(TypeError):
        codebook.get("a").value_labels[2] = "y"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        codebook.get("a").reverse = True  # type: ignore[misc]


def test_constructor_checks_keys():
    with pytest.raises(DataError, match="holds the ItemInfo of 'b'"):
        Codebook({"a": ItemInfo("b")})
    with pytest.raises(DataError, match="must be an ItemInfo"):
        Codebook({"a": {"scale": [1, 7]}})


def test_to_frame():
    codebook = Codebook.from_dict(
        {
            "a": {"label": "A", "scale": [1, 5], "reverse": True, "value_labels": {1: "lo"}},
            "b": None,
        }
    )
    frame = codebook.to_frame()
    assert list(frame.columns) == ["label", "scale_low", "scale_high", "reverse", "value_labels"]
    assert frame.index.tolist() == ["a", "b"]
    assert frame.loc["a", "scale_low"] == 1.0 and frame.loc["a", "scale_high"] == 5.0
    assert pd.isna(frame.loc["b", "scale_low"])
    assert frame["reverse"].tolist() == [True, False]
    assert frame.loc["a", "value_labels"] == {1: "lo"}
    assert Codebook().to_frame().empty


def test_merge_prefers_set_fields_of_the_override():
    base = Codebook.from_dict({"a": {"label": "from file", "value_labels": {1: "x"}}, "c": None})
    override = Codebook.from_dict({"a": {"scale": [1, 7], "reverse": True}, "b": {"label": "B"}})
    merged = base.merge(override)
    assert merged.get("a") == ItemInfo(
        "a", label="from file", scale=(1, 7), reverse=True, value_labels={1: "x"}
    )
    assert list(merged.items) == ["a", "c", "b"]
