"""Parameter recovery: with a known population and a large sample, ML estimates land on the
truth within sampling error, and the reported SEs match the spread over replications."""

from __future__ import annotations

import numpy as np

import cbec_sem as cs

POPULATION = """
TA =~ 0.8*ta1 + 0.7*ta2 + 0.6*ta3
FA =~ 0.8*fa1 + 0.7*fa2 + 0.6*fa3
FA ~ 0.5*TA
"""
MODEL = """
TA =~ ta1 + ta2 + ta3
FA =~ fa1 + fa2 + fa3
FA ~ b*TA
"""


def test_standardised_estimates_recover_the_population():
    # standardized population: every variable has variance 1, so std.all equals the
    # population values exactly (closed form: simulate()'s standardisation).
    data = cs.simulate(MODEL, 20_000, population=POPULATION, seed=11)
    res = cs.fit(MODEL, data)
    p = res.params.set_index(["lhs", "op", "rhs"])["std.all"]
    truth = {("TA", "=~", "ta1"): 0.8, ("TA", "=~", "ta2"): 0.7, ("TA", "=~", "ta3"): 0.6,
             ("FA", "=~", "fa1"): 0.8, ("FA", "=~", "fa2"): 0.7, ("FA", "=~", "fa3"): 0.6,
             ("FA", "~", "TA"): 0.5}
    for key, value in truth.items():
        assert abs(p[key] - value) < 0.02, key  # SE of a std. loading at N=20000 ≈ .005


def test_standard_errors_match_the_monte_carlo_spread():
    estimates, ses = [], []
    for rep in range(60):
        data = cs.simulate(MODEL, 300, population=POPULATION, seed=1000 + rep)
        res = cs.fit(MODEL, data)
        row = res.params.query("op == '~'").iloc[0]
        estimates.append(row["est"])
        ses.append(row["se"])
    spread = np.std(estimates, ddof=1)
    # With 60 replications the SD itself has ~9% relative error; allow 30%.
    assert abs(np.mean(ses) / spread - 1) < 0.3
    assert abs(np.mean(estimates) - 0.5) < 3 * spread / np.sqrt(60)
