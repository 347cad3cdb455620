"""H5/H6 of the paper model by PLS: the second-order SCI with two-stage interactions.

The three-stage estimation itself is checked against R seminr's test-hoc.R fixtures
(test_estimation.py).  Here: ``interaction_refit`` is the direct estimate of the model written
with the terms, bootstrapped with the same seed; and the hypothesis table's H5/H6 rows of a
PLS fit (made by propositions/evidence.py through cs.fit) are the same numbers.
"""

import numpy as np
import pytest

import cbec_sem as cs
from cbec_sem.errors import SpecError
from cbec_sem.pls import bootstrap_pls, estimate_pls
from cbec_sem.pls.interactions import interaction_refit, interaction_row

TERMS = {"SCI": ["TA:FA", "TA:PC", "FA:PC"]}


@pytest.fixture(scope="module")
def data():
    return cs.datasets.example_survey()


def test_refit_is_the_model_written_with_the_terms(data):
    est = estimate_pls(cs.paper_model(), data)
    boot = interaction_refit(est, TERMS, draws=30, seed=4)
    text = cs.paper_model().to_lavaan().replace(
        "SCI ~ c*TA + b*FA + PC", "SCI ~ c*TA + b*FA + PC + TA:FA + TA:PC + FA:PC")
    direct = bootstrap_pls(estimate_pls(text, data), 30, seed=4)
    np.testing.assert_allclose(boot.params["est"], direct.params["est"], rtol=0, atol=1e-14)
    np.testing.assert_allclose(boot.params["se"], direct.params["se"], rtol=0, atol=1e-14)
    assert boot.estimate.computed.middle is not None      # HOC + interaction: three stages
    row = interaction_row(boot, "SCI", "PC:TA")            # either order of the product
    p = direct.params.set_index(["lhs", "op", "rhs"]).loc[("SCI", "~", "TA:PC")]
    assert row["estimate"] == p["est"] and row["se"] == p["se"] and row["n"] == 400
    with pytest.raises(SpecError, match="two constructs"):
        interaction_refit(est, {"SCI": ["TA:XX"]})


def test_paper_model_h5_h6_are_tested_by_pls(data):
    res = cs.fit(cs.paper_model(), data, estimator="PLS", se="bootstrap", bootstrap=100,
                 seed=2, nca_permutations=50)
    h = res.hypotheses.set_index("id")
    boot = interaction_refit(res.estimation, TERMS, draws=100, seed=2)
    for hid, term in (("H5", "TA:FA"), ("H6a", "TA:PC"), ("H6b", "FA:PC")):
        row = interaction_row(boot, "SCI", term)
        assert h.at[hid, "verdict"] in ("supported", "not supported")
        assert h.at[hid, "estimate"] == pytest.approx(row["estimate"], abs=1e-12)
        assert h.at[hid, "se"] == pytest.approx(row["se"], abs=1e-12)
        assert h.at[hid, "p"] == pytest.approx(row["p"], abs=1e-12)
