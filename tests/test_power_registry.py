"""A power study runs the proposition registry that ``res.hypotheses`` runs (issue 9).

Reference: the full fit.  Replication r of ``cs.power`` draws its data from the stream
``SeedSequence(seed, spawn_key=(n, r, 0))``; fitting those very rows with ``cs.fit`` and reading
``res.hypotheses`` must give the same estimates, standard errors (robust MLR SEs for the
product-indicator interactions; ML SEs for the paths), p-values and method texts as the
replication, which computes them on compiled arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.power.population import Sampler
from cbec_sem.simulate import population_model


@pytest.fixture(scope="module")
def study_and_fit():
    spec = cs.paper_model()
    n, seed = 300, 11
    hyps = ["H1", "H2", "H4", "H5", "H6a", "H6b"]
    study = cs.power(spec, [n], reps=1, hypotheses=hyps, seed=seed)
    pm = population_model(spec, population=cs.datasets.example_population())
    sampler = Sampler(pm, {})
    rng = np.random.default_rng(np.random.SeedSequence(study.seed, spawn_key=(n, 0, 0)))
    data = pd.DataFrame(sampler.draw(n, rng), columns=list(sampler.observed))
    res = cs.fit(spec, data)
    return study, res.hypotheses.set_index("id")


def test_replication_equals_the_fit_it_stands_for(study_and_fit) -> None:
    study, table = study_and_fit
    reps = study.replications.set_index("id")
    for h in ("H1", "H2", "H4", "H5", "H6a", "H6b"):
        rep, row = reps.loc[h], table.loc[h]
        assert rep["est"] == pytest.approx(row["estimate"], abs=1e-5), h
        # the replication's SE: ML's expected information (paths), MLR's sandwich with a
        # numerical Hessian (interactions); the fit: the engine's own computation of each
        assert rep["se"] == pytest.approx(row["se"], rel=1e-4), h
        assert rep["p"] == pytest.approx(row["p"], abs=1e-4), h
        assert bool(rep["supported"]) == (row["verdict"] == "supported"), h


def test_method_texts_are_those_of_the_fit(study_and_fit) -> None:
    study, table = study_and_fit
    methods = study.table.set_index("id")["method"]
    for h in methods.index:
        assert methods[h] == table.loc[h, "method"], h
