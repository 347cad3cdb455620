"""Every public result object follows one protocol (issue 9): ``to_frame()`` gives a tidy
DataFrame, ``summary()`` a :class:`cbec_sem.Summary` that renders as text, Markdown, HTML and
LaTeX with the same numbers, and ``repr()`` fits on one line."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.propositions.interaction.product_indicators import fit_product_indicators
from cbec_sem.protocol import Block, Summary

CFA = "TA =~ ta1 + ta2 + ta3 + ta4\nFA =~ fa1 + fa2 + fa3 + fa4"


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return cs.datasets.example_survey()


@pytest.fixture(scope="module")
def results(example) -> dict[str, object]:
    fit = cs.fit(CFA, example)
    inter = "TA =~ ta1 + ta2 + ta3\nFA =~ fa1 + fa2 + fa3\nPC =~ pc1 + pc2 + pc3\nFA ~ TA + PC + TA:PC"
    lms = cs.fit(inter, example, estimator="QML")
    return {
        "FitResult": fit,
        "QML FitResult": lms,
        "InteractionFit": lms.estimation,
        "BootstrapResult": cs.bootstrap(fit, 20, seed=1),
        "HTMTResult": cs.htmt(fit),
        "NCAResult": cs.nca(fit, "TA", "FA", permutations=50, seed=1),
        "JNResult": cs.johnson_neyman(lms, focal="TA", moderator="PC", outcome="FA"),
        "ProductIndicatorFit": fit_product_indicators(inter, example),
        "Survey": cs.load_survey(example, scale=(1, 7)),
        "InvarianceResult": cs.invariance(CFA, example, group="channel",
                                          levels=("configural", "metric")),
    }


NAMES = ["FitResult", "QML FitResult", "InteractionFit", "BootstrapResult", "HTMTResult",
         "NCAResult", "JNResult", "ProductIndicatorFit", "Survey", "InvarianceResult"]


@pytest.mark.parametrize("name", NAMES)
def test_protocol(results, name: str) -> None:
    obj = results[name]
    frame = obj.to_frame()
    assert isinstance(frame, pd.DataFrame) and not frame.empty
    summary = obj.summary()
    assert isinstance(summary, Summary)
    text = str(summary)
    assert text.strip()
    html = summary.as_html()
    assert "<table>" in html and html == obj._repr_html_()
    assert summary.as_markdown().count("|") > 4
    assert r"\toprule" in summary.as_latex()
    assert "\n" not in repr(obj) and len(repr(obj)) < 200


def test_summary_renders_the_same_numbers_everywhere() -> None:
    frame = pd.DataFrame({"name": ["a & b", "c_d"], "value": [0.12345, np.nan],
                          "n": [3, 4]})
    s = Summary("T", (Block("Values", frame),), ("a note",))
    for text in (s.as_text(), s.as_markdown(), s.as_html(), s.as_latex()):
        assert "0.123" in text and "0.1235" not in text
    assert r"a \& b" in s.as_latex() and "c\\_d" in s.as_latex()
    assert "a &amp; b" in s.as_html()
    assert re.search(r"\|\s*a & b\s*\|\s*0\.123\s*\|\s*3\s*\|", s.as_markdown())
    assert "Note. a note" in s.as_text()
