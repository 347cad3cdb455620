"""Shared pieces of the hostile-input suite (issue 14).

Every case here is bounded in time: an autouse fixture arms a SIGALRM timer (``BOUND``
seconds), so an input that makes a function run away fails its test instead of stalling the
suite.  Nothing asserts a wall-clock time; the bound only catches unbounded work.
"""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cbec_sem.errors import CbecSemError

#: Seconds any single hostile case may take (generous: the machine is shared).
BOUND = 30

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "hostile"

#: A one-factor model with four items and its data: six firms would be too few, so 60 rows
#: made from a fixed seed (a known structure: every item loads ~0.7 on F).
MODEL = "F =~ q1 + q2 + q3 + q4"


class RunawayError(Exception):
    """A case exceeded its time bound."""


@pytest.fixture(autouse=True)
def bounded():
    if not hasattr(signal, "SIGALRM"):  # pragma: no cover - Windows
        yield
        return

    def _stop(signum, frame):
        raise RunawayError(f"a hostile case ran longer than {BOUND} s")

    previous = signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, BOUND)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def survey_frame(n: int = 120, seed: int = 7) -> pd.DataFrame:
    """Likert 1–7 answers to q1..q4 from one factor (loadings 0.8, 0.7, 0.7, 0.6)."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(n)
    out = {}
    for k, lam in enumerate((0.8, 0.7, 0.7, 0.6), start=1):
        x = lam * f + np.sqrt(1 - lam**2) * rng.standard_normal(n)
        out[f"q{k}"] = np.clip(np.round(4 + 1.3 * x), 1, 7)
    return pd.DataFrame(out)


def assert_typed(exc_info: pytest.ExceptionInfo, error: type, *culprits: str) -> None:
    """The error is of the typed class and its message names every culprit."""
    assert isinstance(exc_info.value, CbecSemError), type(exc_info.value)
    assert isinstance(exc_info.value, error), type(exc_info.value)
    message = str(exc_info.value)
    for culprit in culprits:
        assert culprit in message, (culprit, message)


def assert_rescaled(reference: pd.DataFrame, params: pd.DataFrame, scale: dict,
                    se_rel: float) -> None:
    """Estimates and SEs of :data:`MODEL` fitted to data whose item j was multiplied by
    ``scale[j]`` follow the closed forms of ML's scale invariance (Browne 1982; Bollen 1989,
    §8.5): with the marker q1 fixing F's scale, a loading λ_j by c_j / c_1, F's variance by
    c_1², an item (co)variance by c_i c_j."""
    for row0, row1 in zip(reference.itertuples(), params.itertuples()):
        if row0.op == "=~":
            factor = scale[row0.rhs] / scale["q1"]
        elif row0.op == "~~" and row0.lhs == row0.rhs == "F":
            factor = scale["q1"] ** 2
        elif row0.op == "~~":
            factor = scale[row0.lhs] * scale[row0.rhs]
        else:
            continue
        assert row1.est == pytest.approx(row0.est * factor, rel=1e-5)
        assert row1.se == pytest.approx(row0.se * factor, rel=se_rel)
