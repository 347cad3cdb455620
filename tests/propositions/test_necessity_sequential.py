"""Necessity tests that stop once their verdict is decided (the power study's replications).

Reference: the same test run to the end on the same random numbers.  A Monte Carlo test with
p = p(k) (k: null draws ≥ the observed statistic) that has counted h draws with p(h) ≥ α
cannot reject whatever the remaining draws give (Besag & Clifford 1991, Biometrika 78:301),
so the stopped and the full test must reach the same verdict on every data set and seed, and
the full test must give the p of ``permutation_test`` / ``matched_test``.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import cbec_sem as cs
from cbec_sem.propositions.necessity import (condition_fit, effect_size_fit,
                                             exceedance_limit, permutation_decision,
                                             permutation_p, permutation_test,
                                             sequential_count)
from cbec_sem.propositions.necessity_null import matched_decision, matched_test
from cbec_sem.propositions.necessity_sim import bivariate_normal, ceiling_uniform, likert_means

study_module = importlib.import_module("cbec_sem.power.study")


def _data_sets():
    """Data on both sides of the verdict: correlation without a ceiling (the matched test
    keeps it), true ceilings of several sizes (both tests reject), independence (NCA's test
    keeps it), tied Likert means."""
    rng = np.random.default_rng(20261207)
    out = []
    for rho in (0.0, 0.2, 0.5):
        x, y = bivariate_normal(rho, 150, 4, rng)
        out += list(zip(x, y))
    for d in (0.05, 0.1, 0.2):
        x, y = ceiling_uniform(d, 150, 4, rng)
        out += list(zip(x, y))
    x, y = likert_means(0.5, 150, 3, rng)
    out += list(zip(x, y))
    return out


def test_exceedance_limit_closed_form():
    # (k + 1)/(B + 1) ≥ α  ⇔  k ≥ α(B + 1) − 1:  α = .05, B = 200 → k ≥ 9.05 → 10
    assert exceedance_limit(200, 0.05, lambda k, b: (k + 1) / (b + 1)) == 10
    assert exceedance_limit(999, 0.05, lambda k, b: (k + 1) / (b + 1)) == 49
    # NCA's floor 1/B: with B = 19 no count gives p < .05 (decided before any draw)
    assert exceedance_limit(19, 0.05, permutation_p) == 0
    assert sequential_count(iter([]), 0.3, 19, 0.05, permutation_p) == (False,
                                                                       permutation_p(0, 19), 0)
    # p < α even when every draw exceeds: never decided early
    assert exceedance_limit(10, 1.5, lambda k, b: (k + 1) / (b + 1)) == 11


def test_sequential_count_stops_with_besag_clifford_p():
    """Null draws of 1 (≥ the observed 0.5) at draws 3, 7, 8 and 21: h = 2 for B = 40 and
    α = .05 ((2 + 1)/41 = .073 ≥ .05 > 2/41), reached at draw 7: p = h/l = 2/7."""
    null = np.zeros(40)
    null[[2, 6, 7, 20]] = 1.0
    batches = (null[i:i + 10] for i in range(0, 40, 10))
    ok, p, used = sequential_count(batches, 0.5, 40, 0.05, lambda k, b: (k + 1) / (b + 1))
    assert (ok, used) == (False, 10) and p == pytest.approx(2 / 7)
    full = sequential_count((null[i:i + 10] for i in range(0, 40, 10)), 0.5, 40, 0.05,
                            lambda k, b: (k + 1) / (b + 1), stop=False)
    assert full == (False, 5 / 41, 40)


@pytest.mark.parametrize("seed", range(3))
def test_stopped_tests_reach_the_verdicts_of_the_full_tests(seed):
    stopped_early = 0
    for i, (x, y) in enumerate(_data_sets()):
        fit = condition_fit(x, y, ("ce_fdh",))
        for draws in (99, 200):
            s = 1000 * seed + i
            a = matched_decision(fit, "ce_fdh", draws, np.random.default_rng(s), 0.05)
            b = matched_decision(fit, "ce_fdh", draws, np.random.default_rng(s), 0.05,
                                 stop=False)
            assert a[0] == b[0], (i, draws)
            if a[2] < draws:
                stopped_early += 1
                assert not a[0] and a[1] >= 0.05 and b[1] >= 0.05
            else:
                assert a[1] == b[1]
            c = permutation_decision(fit, "ce_fdh", draws, np.random.default_rng(s), 0.05)
            e = permutation_decision(fit, "ce_fdh", draws, np.random.default_rng(s), 0.05,
                                     stop=False)
            assert c[0] == e[0], (i, draws)
            assert c[2] == draws or (not c[0] and c[1] >= 0.05)
    assert stopped_early > 10  # the early stop is exercised


def test_full_decisions_are_the_tests_of_res_hypotheses():
    """Run to the end, the decisions give the p of permutation_test (the same draws, in any
    batching) and, batched as matched_test batches (one batch of ≤ 2¹⁸ values), its p."""
    x, y = bivariate_normal(0.4, 200, 1, np.random.default_rng(8))
    fit = condition_fit(x[0], y[0], ("ce_fdh",))
    permutation_test(fit, ("ce_fdh",), 300, np.random.default_rng(1))
    ok, p, used = permutation_decision(fit, "ce_fdh", 300, np.random.default_rng(1), 0.05,
                                       stop=False)
    assert (p, used) == (fit.rows["ce_fdh"]["p_value"], 300) and ok == (p < 0.05)
    _, pm = matched_test(fit, "ce_fdh", 300, np.random.default_rng(2))
    ok, p, used = matched_decision(fit, "ce_fdh", 300, np.random.default_rng(2), 0.05,
                                   stop=False, first=300)
    assert (p, used) == (pm, 300)


def test_power_verdicts_do_not_depend_on_the_early_stop(monkeypatch):
    """A power study's necessity verdicts and effect sizes with and without the early stop
    (the paper's H7/H8 at N = 150: correlated constructs, mostly decided by the matched test;
    population H9-like ceilings are not in the example)."""
    kw = dict(n=[150], reps=12, hypotheses=["H7", "H8"], seed=3, n_jobs=1,
              nca_permutations=99)
    fast = cs.power(cs.paper_model(), **kw).replications
    original = study_module._necessity
    monkeypatch.setattr(study_module, "_necessity",
                        lambda *a, **k: original(*a, **{**k, "stop": False}))
    full = cs.power(cs.paper_model(), **kw).replications
    assert (fast["supported"].to_numpy() == full["supported"].to_numpy()).all()
    assert np.array_equal(fast["est"].to_numpy(), full["est"].to_numpy(), equal_nan=True)
    # a decided replication reports a p ≥ α (or none, when d < 0.1 decided)
    kept = ~fast["supported"].to_numpy()
    p = fast["p"].to_numpy()[kept]
    assert np.all(np.isnan(p) | (p >= 0.05))


def test_effect_size_fit_is_condition_fit_for_the_tests():
    """The power study's lean fit: condition_fit's d, and the same decisions from it."""
    for i, (x, y) in enumerate(_data_sets()[::5]):
        full, lean = condition_fit(x, y, ("ce_fdh",)), effect_size_fit(x, y)
        assert lean.rows["ce_fdh"]["d"] == full.rows["ce_fdh"]["d"]
        for decide in (matched_decision, permutation_decision):
            assert (decide(lean, "ce_fdh", 99, np.random.default_rng(i), 0.05)
                    == decide(full, "ce_fdh", 99, np.random.default_rng(i), 0.05))
