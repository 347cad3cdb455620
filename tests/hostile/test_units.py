"""A fit's convergence and admissibility do not depend on the data's units (issue 14).

ML estimation of a covariance structure is scale-invariant (Browne 1982; Bollen 1989, §8.5):
rescaling item j by c_j leaves χ² and every standardised estimate unchanged and rescales the
unstandardised ones by closed forms — with the marker q1 fixing F's scale, a loading λ_j by
c_j / c_1, a residual variance θ_j by c_j², the factor variance φ by c_1².  The flags must
therefore be the same in every unit; with the old absolute thresholds (an eigenvalue ratio of
1e-10, a gradient of 1e-9) ×1000 was "may not be identified" and ×0.001 "not converged".
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import cbec_sem as cs

from .conftest import MODEL, assert_rescaled, survey_frame

ITEMS = ["q1", "q2", "q3", "q4"]
DATA = survey_frame(n=300, seed=3)
PAPER_ITEMS = list(cs.paper_model().observed_variables)


def _fit(model, frame):
    with warnings.catch_warnings():
        warnings.simplefilter("error", cs.errors.CbecSemWarning)  # no convergence/ident. warning
        return cs.fit(model, frame)


@pytest.fixture(scope="module")
def reference():
    return _fit(MODEL, DATA)


SCALINGS = {
    "all x1e-3": dict.fromkeys(ITEMS, 1e-3),
    "all x1e4": dict.fromkeys(ITEMS, 1e4),
    "all x1e2": dict.fromkeys(ITEMS, 1e2),
    "marker x1e4": {"q1": 1e4, "q2": 1.0, "q3": 1.0, "q4": 1.0},
    "mixed": {"q1": 1e-3, "q2": 1e4, "q3": 1.0, "q4": 1e2},
    "one item x100": {"q1": 1.0, "q2": 100.0, "q3": 1.0, "q4": 1.0},
}


@pytest.mark.parametrize("name", SCALINGS)
def test_flags_and_estimates_in_any_units(reference, name):
    c = SCALINGS[name]
    scaled = DATA * np.array([c[i] for i in ITEMS])
    res = _fit(MODEL, scaled)
    assert bool(res.converged) and bool(reference.converged)
    assert res.converged.optimizer_converged == reference.converged.optimizer_converged
    assert res.converged.admissible == reference.converged.admissible
    assert res.fit_measures["chisq"] == pytest.approx(reference.fit_measures["chisq"],
                                                      rel=1e-6, abs=1e-8)
    p0, p1 = reference.params, res.params
    np.testing.assert_allclose(p1["std.all"], p0["std.all"], rtol=1e-5, atol=1e-7)
    assert_rescaled(p0, p1, c, se_rel=1e-4)


@pytest.mark.parametrize("k", [1e-3, 1e4])
def test_paper_model_flags_in_any_units(k):
    """The issue's own case: the paper model on the example survey, ×10⁻³ and ×10⁴."""
    frame = cs.datasets.example_survey()[PAPER_ITEMS].astype(float)
    base = _fit(cs.paper_model(hypotheses=()), frame)
    res = _fit(cs.paper_model(hypotheses=()), frame * k)
    assert bool(res.converged) == bool(base.converged) is True
    assert res.fit_measures["chisq"] == pytest.approx(base.fit_measures["chisq"], rel=1e-6)


def test_information_ratio_is_the_same_in_any_units(reference):
    ratios = [_fit(MODEL, DATA * k).estimation.information_ratio for k in (1e-3, 1e4)]
    assert ratios == pytest.approx([reference.estimation.information_ratio] * 2, rel=1e-4)
