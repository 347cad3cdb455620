"""The records-based CE-FDH permutation null has the permutation distribution of d.

Reference: the exact permutation distribution, by enumerating all 720 permutations of a
six-case sample with ties in X and in Y and computing each d with the per-sample CE-FDH code
(:func:`cbec_sem.propositions.necessity.ceilings_batch`, itself checked against NCA's
published values in test_propositions_necessity.py).  With 40,000 draws each cell's
frequency has Monte Carlo SD √(p(1 − p)/40000) ≤ .0025; the bound is 4.5 SD per cell
(12 cells: a false alarm about once in 10⁴ runs; the seed is fixed anyway).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from cbec_sem.errors import CbecSemWarning
from cbec_sem.propositions import necessity
from cbec_sem.propositions.necessity import _layout, ceilings_batch, nca
from cbec_sem.propositions.necessity_records import ce_fdh_null


def test_records_null_has_the_exact_permutation_distribution():
    x = np.array([1.0, 2, 2, 3, 5, 5])
    y = np.array([1.0, 1, 2, 4, 4, 6])
    lay, scope = _layout(x), (1.0, 5.0, 1.0, 6.0)
    area = (scope[1] - scope[0]) * (scope[3] - scope[2])
    ys = np.sort(y)
    every = np.array([ys[list(p)] for p in itertools.permutations(range(6))])
    d_all = ceilings_batch(every, lay, scope, False)["ce_zone"] / area
    values, counts = np.unique(np.round(d_all, 12), return_counts=True)
    exact = counts / counts.sum()
    draws = 40_000
    d = ce_fdh_null(ys, lay.starts, lay.sizes, lay.ux, scope, draws, np.random.default_rng(3))
    freq = np.array([np.sum(np.abs(d - v) < 1e-9) for v in values]) / draws
    assert freq.sum() == 1.0  # every draw is a d some permutation has
    np.testing.assert_array_less(np.abs(freq - exact), 4.5 * np.sqrt(exact * (1 - exact) / draws))


def test_ce_fdh_alone_and_with_cr_fdh_test_the_same_null():
    """The two ways of drawing the null (records for CE-FDH alone, shuffles with CR-FDH) agree
    on a strong ceiling (p at its floor) and on unrelated data (p far from 0), N = 400."""
    rng = np.random.default_rng(8)
    x = rng.uniform(0, 1, 400)
    for y in (x * rng.uniform(0, 1, 400) ** 0.5, rng.uniform(0, 1, 400)):
        one = nca(None, x, y, ceilings=("ce_fdh",), permutations=2000, seed=1).effects
        both = nca(None, x, y, permutations=2000, seed=1).effects.set_index("ceiling")
        assert one["d"].iloc[0] == both.loc["ce_fdh", "d"]
        p1, p2 = one["p_value"].iloc[0], both.loc["ce_fdh", "p_value"]
        acc = one["p_accuracy"].iloc[0] + both.loc["ce_fdh", "p_accuracy"]
        assert abs(p1 - p2) <= acc + 1e-3, (p1, p2)


def test_a_long_cr_fdh_permutation_test_warns_before_it_starts(monkeypatch):
    """Issue 14: 30,000 cases × 10,000 permutations with CR-FDH run for many seconds; the
    warning names the options that avoid it (the threshold is lowered here, not the work),
    and CE-FDH alone, whose null costs O(log N) per permutation, does not warn."""
    monkeypatch.setattr(necessity, "SLOW_SHUFFLES", 1000)
    x = np.arange(50.0)
    with pytest.warns(CbecSemWarning, match="ceilings='ce_fdh'"):
        nca(None, x, x % 7, permutations=30, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CbecSemWarning)
        nca(None, x, x % 7, ceilings="ce_fdh", permutations=30, seed=1)
