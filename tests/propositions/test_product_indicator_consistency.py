"""Product indicators are consistent for the paper model: fitted to the exact population
moments of the bundled example they return its population coefficients.

Population values (``cs.datasets.example_population()``, standardised): SCI ~ .15·TA:FA +
.12·PC:TA + 0·PC:FA.  In the analysis model's marker scaling (first loadings fixed to 1: TA by
ta1 = .82, FA by fa1 = .80, PC by pc1 = .80, SCI by VP by vp1 = .80 × .85 = .68) the
unstandardised coefficients are

    TA:FA  .15 × .68 / (.82 × .80) = .155488,
    PC:TA  .12 × .68 / (.80 × .82) = .124390,
    PC:FA  0,

and the main effect FA → SCI is .45 × .68 / .80 = .3825 (closed forms from the population).
"""

from __future__ import annotations

import pytest

import cbec_sem as cs
from cbec_sem.errors import CbecSemWarning
from cbec_sem.propositions.interaction.population import (
    exact_moment_data,
    product_indicator_population_cov,
)
from cbec_sem.propositions.interaction.product_indicators import (
    expand_product_indicators,
)
from cbec_sem.simulate import population_model

TRUE = {"TAFA": 0.15 * 0.68 / (0.82 * 0.80), "PCTA": 0.12 * 0.68 / (0.80 * 0.82), "PCFA": 0.0,
        "FA": 0.45 * 0.68 / 0.80, "TA": 0.0}


@pytest.fixture(scope="module")
def population():
    pm = cs.paper_model()
    spec = cs.ModelSpec.from_lavaan(pm.to_lavaan() + "\nSCI ~ TA:FA + PC:TA + PC:FA")
    pop = population_model(spec, population=cs.datasets.example_population())
    return spec, pop


def _fit_population(spec, pop, residual_covariances, method="dblcent", match=False):
    sample = pop.sample(60, seed=1)[list(pop.observed)]  # only to name the products
    expanded, _, terms = expand_product_indicators(
        spec, sample, method=method, match=match, residual_covariances=residual_covariances)
    data = exact_moment_data(product_indicator_population_cov(pop, terms), n=2000)
    res = cs.fit(expanded, data)
    assert res.converged
    p = res.params
    sci = p[(p["lhs"] == "SCI") & (p["op"] == "~")].set_index("rhs")["est"]
    return sci, terms


# with normal indicators the population moments of residual-centred products equal the
# double-mean-centred ones (population.py), so "rca" checks the model it writes
@pytest.mark.parametrize("method", ["dblcent", "rca"])
def test_every_shared_item_covariance_recovers_the_population(population, method):
    spec, pop = population
    sci, terms = _fit_population(spec, pop, "simple", method=method)
    # 108 within-term pairs and 144 across terms (TA:FA 16 products, PC:TA 12, PC:FA 12)
    assert sum(len(t.residual_covariances) for t in terms) == 108
    assert sum(len(t.cross_covariances) for t in terms) == 144
    for name, value in TRUE.items():
        assert sci[name] == pytest.approx(value, abs=1e-4), name


def test_matched_pairs_are_consistent_too(population):
    spec, pop = population
    with pytest.warns(CbecSemWarning, match="leave out"):  # PC has 3 items, TA and FA 4
        sci, terms = _fit_population(spec, pop, "simple", match=True)
    assert all(t.residual_covariances == () for t in terms)  # matched pairs share no item
    assert sum(len(t.cross_covariances) for t in terms) > 0  # but across terms they do
    for name, value in TRUE.items():
        assert sci[name] == pytest.approx(value, abs=1e-4), name


def test_within_term_covariances_alone_are_inconsistent(population):
    """The previous default (modsem's res.cov.across = FALSE): issue 13 measured
    .1622 / .1454 / −.0437 at infinite N."""
    spec, pop = population
    sci, terms = _fit_population(spec, pop, "within")
    assert all(t.cross_covariances == () for t in terms)
    assert sci["TAFA"] == pytest.approx(0.1622, abs=1e-4)
    assert sci["PCTA"] == pytest.approx(0.1454, abs=1e-4)
    assert sci["PCFA"] == pytest.approx(-0.0437, abs=1e-4)
