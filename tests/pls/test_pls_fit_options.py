"""PLS bootstrap options and moderation probes reached through cs.fit and the top-level probes.

References: the library's own verified PLS functions (bootstrap_pls agrees with seminr's
fixtures; the probes with their closed forms, tests/pls/test_pls_moderation.py): going through
cs.fit must give exactly their numbers, and an option that cannot be honoured is refused.
"""

from __future__ import annotations

import numpy as np
import pytest

import cbec_sem as cs
from cbec_sem.errors import SpecError
from cbec_sem.pls import bootstrap_pls
from cbec_sem.pls.moderation import pls_simple_slopes

MODEL = """
TA =~ ta1 + ta2 + ta3
FA =~ fa1 + fa2 + fa3
SCI =~ vp1 + vp2 + fo1
SCI ~ TA + FA + TA:FA
"""


@pytest.fixture(scope="module")
def data():
    return cs.datasets.example_survey()


def test_interval_option_reaches_the_bootstrap(data) -> None:
    res = cs.fit(MODEL, data, estimator="PLS", se="bootstrap", bootstrap=60, seed=4,
                 estimator_options={"interval": "bca"})
    direct = bootstrap_pls(res.estimation, 60, seed=4, interval="bca")
    got = res.params.set_index(["lhs", "op", "rhs"])
    want = direct.params.set_index(["lhs", "op", "rhs"])
    for key in [("SCI", "~", "TA"), ("SCI", "~", "TA:FA")]:
        assert got.loc[key, "ci.lower"] == pytest.approx(want.loc[key, "ci.lower"], abs=1e-12)
        assert got.loc[key, "ci.upper"] == pytest.approx(want.loc[key, "ci.upper"], abs=1e-12)


def test_bootstrap_option_without_bootstrap_is_refused(data) -> None:
    with pytest.raises(SpecError, match="no bootstrap was asked for"):
        cs.fit(MODEL, data, estimator="PLS", estimator_options={"sign_change": "individual"})


def test_simple_slopes_of_a_pls_fit_use_its_draws(data) -> None:
    res = cs.fit(MODEL, data, estimator="PLS", se="bootstrap", bootstrap=80, seed=2)
    top = cs.simple_slopes(res, "TA", "FA", "SCI")
    own = pls_simple_slopes(res, "TA", "FA", "SCI")
    assert np.allclose(top["slope"], own["slope"]) and np.allclose(top["se"], own["se"])
    jn = cs.johnson_neyman(res, "TA", "FA", "SCI")
    assert "FA" in jn.statement


def test_a_survey_fits_by_pls_as_its_frame(data) -> None:
    """cs.fit takes a Survey for every estimator; PLS fits the survey's frame."""
    survey = cs.load_survey(data, scale=(1, 7))
    a = cs.fit(MODEL, survey, estimator="PLS")
    b = cs.fit(MODEL, survey.to_frame(), estimator="PLS")
    assert np.allclose(a.params["est"], b.params["est"], atol=1e-12)
