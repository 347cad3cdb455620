"""Shared fixtures of the PLS tests: seminr's data and expected values (tests/fixtures/seminr)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "seminr"

MOBI_SIMPLE = """Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation =~ CUEX1 + CUEX2 + CUEX3
Value =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Satisfaction ~ Image + Expectation + Value"""


# test-hoc.R of R seminr: higher_composite("Satisfaction", c("Image", "Value"), two_stage)
HOC = """Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation =~ CUEX1 + CUEX2 + CUEX3
Quality =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
Value =~ PERV1 + PERV2
Satisfaction =~ Image + Value
Complaints =~ CUSCO
Loyalty =~ CUSL1 + CUSL2 + CUSL3
Satisfaction ~ Expectation + Quality
Complaints ~ Satisfaction
Loyalty ~ Satisfaction"""

MOBI_INTERACTION = MOBI_SIMPLE + " + Image:Expectation"

# test-hoc.R of R seminr, "HOC and second_order_interaction": higher_composite("Nick",
# c("Quality", "Loyalty"), two_stage, mode_A) and interaction_term(Image, Expectation, two_stage)
HOC_INTERACTION = """Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation =~ CUEX1 + CUEX2 + CUEX3
Quality =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5
Loyalty =~ CUSL1 + CUSL2 + CUSL3
Value =~ PERV1 + PERV2
Nick =~ Quality + Loyalty
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Satisfaction ~ Image + Expectation + Value + Nick + Image:Expectation"""


def r_matrix(name: str) -> pd.DataFrame:
    """An R ``write.csv`` matrix (row names in the first column)."""
    return pd.read_csv(FIX / "r" / name, index_col=0)


def port(name: str) -> dict:
    """A JSON record written by make_fixtures.py from the Python seminr port."""
    return json.loads((FIX / "port" / f"{name}.json").read_text())


def frame(record: dict) -> pd.DataFrame:
    return pd.DataFrame(np.array(record["values"]), index=record["index"],
                        columns=record["columns"])


def long_matrix(df: pd.DataFrame, value: str) -> pd.Series:
    """Non-zero entries of an items x constructs matrix, keyed (construct, indicator)."""
    s = df.stack()
    s = s[s != 0]
    s.index = pd.MultiIndex.from_tuples([(c, i) for i, c in s.index])
    return s.rename(value)


@pytest.fixture(scope="session")
def mobi() -> pd.DataFrame:
    return pd.read_csv(FIX / "mobi.csv")


@pytest.fixture(scope="session")
def corp_rep() -> pd.DataFrame:
    return pd.read_csv(FIX / "corp_rep_data.csv")
