"""``cs.power(model, n, population=<pilot fit>, effects={...})`` (issue 13, item 5).

Truth: a population built from a fit's completely standardised estimates reproduces them when
the same model is fitted to its exact moments (the power study's ``population.std``), so the
values asserted are the pilot fit's own ``std.all`` column; ``effects`` sets a standardised
coefficient, which is then the study's ``population.std`` exactly (a standardised population,
``cbec_sem.simulate``).
"""

from __future__ import annotations

import warnings

import pytest

import cbec_sem as cs
from cbec_sem.errors import CbecSemWarning, SpecError
from cbec_sem.power import power
from cbec_sem.power.pilot import population_from_fit, stated_effects, with_effects
from cbec_sem.specification import Hypothesis, ModelSpec

TWO_FACTOR = """
F1 =~ x1 + x2 + x3
F2 =~ y1 + y2 + y3
F2 ~ F1
"""
POP = """
F1 =~ 0.8*x1 + 0.7*x2 + 0.6*x3
F2 =~ 0.8*y1 + 0.7*y2 + 0.6*y3
F2 ~ 0.35*F1
"""


def two_factor() -> ModelSpec:
    return ModelSpec.from_lavaan(TWO_FACTOR, hypotheses=[Hypothesis.path("H1", "F1", "F2")])


@pytest.fixture(scope="module")
def pilot():
    data = cs.simulate(POP, 300, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cs.fit(two_factor(), data)


def _std(res, lhs, op, rhs) -> float:
    p = res.params
    return float(p[(p["lhs"] == lhs) & (p["op"] == op) & (p["rhs"] == rhs)]["std.all"].iloc[0])


def test_pilot_fit_is_the_population(pilot):
    text = population_from_fit(pilot)
    assert "F2 ~ " in text and "F1 =~ " in text and " ~~ " not in text.replace("#", "")
    study = power(two_factor(), [120], reps=20, population=pilot, seed=3)
    row = study.table.iloc[0]
    assert row["population.std"] == pytest.approx(_std(pilot, "F2", "~", "F1"), abs=1e-6)
    assert "pilot fit" in study.population


def test_paper_pilot_keeps_every_standardised_path():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cs.fit(cs.paper_model(), cs.datasets.example_survey())
        study = power(cs.paper_model(), [300], reps=5, population=res, seed=1,
                      hypotheses=["H1", "H2", "H3", "H4"])
    t = study.table.set_index("id")
    assert t.loc["H1", "population.std"] == pytest.approx(_std(res, "SCI", "~", "TA"), abs=1e-6)
    assert t.loc["H2", "population.std"] == pytest.approx(_std(res, "SCI", "~", "FA"), abs=1e-6)
    assert t.loc["H3", "population.std"] == pytest.approx(_std(res, "FA", "~", "TA"), abs=1e-6)
    assert t.loc["H4", "population.std"] == pytest.approx(
        _std(res, "FA", "~", "TA") * _std(res, "SCI", "~", "FA"), abs=1e-6)


def test_effects_set_the_population_value(pilot):
    study = power(two_factor(), [120], reps=20, population=pilot, effects={"H1": 0.2}, seed=3)
    assert study.table.iloc[0]["population.std"] == pytest.approx(0.2, abs=1e-9)
    assert "H1 = 0.2" in study.population
    # without a population the model's own values are used (loadings .7) and H1 is set
    study = power(two_factor(), [120], reps=20, effects={"H1": 0.25}, seed=3)
    assert study.table.iloc[0]["population.std"] == pytest.approx(0.25, abs=1e-9)


def test_effects_on_interactions_are_product_terms():
    pop = with_effects(cs.paper_model(), cs.datasets.example_population(),
                       {"H5": 0.2, "H2": 0.3})
    text = pop.to_lavaan()
    assert "0.2*TA:FA" in text.replace(" ", "") and "0.3*FA" in text.replace(" ", "")
    assert "0.45*FA" not in text.replace(" ", "")


def test_an_effect_left_at_its_default_is_warned_about():
    with pytest.warns(CbecSemWarning, match=r"H1 .*no value.*effects="):
        power(two_factor(), [120], reps=5, seed=3)
    assert stated_effects(two_factor(), POP) == {"H1"}
    assert stated_effects(two_factor(), None) == set()
    # a population that states the null does not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error", CbecSemWarning)
        power(two_factor(), [120], reps=5, seed=3, population=POP.replace("0.35", "0"))


@pytest.mark.parametrize("effects, match", [
    ({"H4": 0.1}, "indirect effect"),
    ({"H9": 0.1}, "H9"),
    ({"H2": 1.5}, "between -1 and 1"),
    ({"H2": "big"}, "between -1 and 1"),
    ([("H2", 0.3)], "dict of hypothesis id"),
])
def test_bad_effects_are_refused(effects, match):
    with pytest.raises(SpecError, match=match):
        with_effects(cs.paper_model(), None, effects)


def test_population_must_be_syntax_or_a_fit():
    with pytest.raises(SpecError, match="fitted result"):
        power(two_factor(), [120], reps=5, population=3.5)
