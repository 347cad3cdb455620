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
    """Issue 14: a CR-FDH test that must shuffle every case (condition and outcome both tied,
    with many distinct values) warns before it starts and names the options that avoid it
    (the threshold is lowered here, not the work); CE-FDH alone does not warn."""
    monkeypatch.setattr(necessity, "SLOW_SHUFFLES", 1000)
    x = np.repeat(np.arange(25.0), 2)
    y = np.tile(np.arange(25.0), 2)
    with pytest.warns(CbecSemWarning, match="ceilings='ce_fdh'"):
        nca(None, x, y, permutations=30, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CbecSemWarning)
        nca(None, x, y, ceilings="ce_fdh", permutations=30, seed=1)


def _exact_and_drawn(x, y, draw):
    """Exact (enumerated over all 720 permutations) and drawn frequencies of the CR-FDH d."""
    lay, scope = _layout(x), (float(x.min()), float(x.max()), float(y.min()), float(y.max()))
    area = (scope[1] - scope[0]) * (scope[3] - scope[2])
    ys = np.sort(y)
    every = np.array([ys[list(p)] for p in itertools.permutations(range(y.size))])
    d_all = ceilings_batch(every, lay, scope, True)["cr_zone"] / area
    values, counts = np.unique(np.round(d_all, 12), return_counts=True)
    d = draw(ys, lay, scope) / area
    freq = np.array([np.sum(np.abs(d - v) < 1e-9) for v in values]) / d.size
    return values, counts / counts.sum(), freq, d.size


@pytest.mark.parametrize("x, y", [
    (np.array([1.0, 2, 2, 3, 5, 5]), np.array([1.0, 1.5, 2, 4, 4.5, 6])),  # ties in X only
    (np.array([1.0, 2, 3, 4, 5, 6]), np.array([1.0, 1, 2, 4, 4, 6])),      # ties in Y only
])
def test_records_cr_fdh_null_has_the_exact_permutation_distribution(x, y):
    """The CR-FDH line drawn through the records (peers without multiplicities) has the
    distribution of the per-sample CR-FDH code over all 720 permutations (same bound as
    above)."""
    from cbec_sem.propositions.necessity import _line_zone, _peer_line
    from cbec_sem.propositions.necessity_records import records_null

    def draw(ys, lay, scope):
        walk = records_null(ys, lay.starts, lay.sizes, lay.ux, scope, 40_000,
                            np.random.default_rng(5), want_cr=True)
        slope, intercept = _peer_line(*walk["sums"])
        return _line_zone(intercept, slope, scope)

    values, exact, freq, draws = _exact_and_drawn(x, y, draw)
    assert abs(freq.sum() - 1.0) < 1e-12
    np.testing.assert_array_less(np.abs(freq - exact), 4.5 * np.sqrt(exact * (1 - exact) / draws))


def test_table_null_has_the_exact_permutation_distribution_with_ties_in_both():
    """Ties in X and in Y (peer multiplicities matter): the group × value tables give both
    ceilings' exact permutation distribution."""
    from cbec_sem.propositions.necessity import zones_from_group_maxima
    from cbec_sem.propositions.necessity_tables import group_maxima_batches

    x = np.array([1.0, 2, 2, 3, 3, 5])
    y = np.array([1.0, 2, 2, 4, 4, 6])

    def draw(ys, lay, scope):
        rng = np.random.default_rng(9)
        parts = [zones_from_group_maxima(m, c, lay.ux, scope, True)["cr_zone"]
                 for m, c in group_maxima_batches(ys, lay.sizes, 40_000, rng)]
        return np.concatenate(parts)

    values, exact, freq, draws = _exact_and_drawn(x, y, draw)
    assert len(values) > 3 and abs(freq.sum() - 1.0) < 1e-12
    np.testing.assert_array_less(np.abs(freq - exact), 4.5 * np.sqrt(exact * (1 - exact) / draws))


def test_long_cr_fdh_tests_agree_with_shuffling(monkeypatch):
    """Above SLOW_SHUFFLES the CR-FDH null is drawn through records (continuous data) or
    tables (7-point answers) without a warning; the p-values agree with the shuffled null's
    within their Monte Carlo accuracy (threshold lowered here, not the work)."""
    rng = np.random.default_rng(2)
    x = rng.integers(1, 8, 600).astype(float)
    y_tied = np.minimum(x + rng.integers(0, 4, 600), 7).astype(float)   # a ceiling, Likert
    xc = rng.uniform(0, 1, 600)
    y_cont = xc * rng.uniform(0, 1, 600) ** 0.3
    for xx, yy in ((x, y_tied), (xc, y_cont), (x, rng.integers(1, 8, 600).astype(float))):
        slow = nca(None, xx, yy, permutations=3000, seed=4).effects.set_index("ceiling")
        monkeypatch.setattr(necessity, "SLOW_SHUFFLES", 1000)
        with warnings.catch_warnings():
            warnings.simplefilter("error", CbecSemWarning)
            fast = nca(None, xx, yy, permutations=3000, seed=4).effects.set_index("ceiling")
        monkeypatch.undo()
        for c in ("ce_fdh", "cr_fdh"):
            assert fast.loc[c, "d"] == slow.loc[c, "d"]
            acc = fast.loc[c, "p_accuracy"] + slow.loc[c, "p_accuracy"]
            assert abs(fast.loc[c, "p_value"] - slow.loc[c, "p_value"]) <= acc + 2e-3


def test_a_walk_reused_changes_no_number():
    """A null from the same generator state on as many cases reuses the last walk
    (necessity_records._walk_steps; H7 and H8 of a hypothesis table): the same d, to the last
    bit, as the walk drawn afresh, and the generator left in the same state."""
    from cbec_sem.propositions import necessity_records

    rng = np.random.default_rng(8)
    x1, x2 = rng.normal(size=200), np.round(rng.normal(size=200), 1)  # the second with ties
    y1, y2 = rng.normal(size=200), np.round(rng.normal(size=200), 1)
    fresh = []
    for x, y in ((x1, y1), (x2, y2)):
        necessity_records._LAST_WALK.clear()
        lay = _layout(x)
        scope = (x.min(), x.max(), y.min(), y.max())
        g = np.random.default_rng(5)
        walk = necessity_records.records_null(np.sort(y), lay.starts, lay.sizes, lay.ux, scope,
                                              3000, g, want_cr=True)
        fresh.append((walk, g.random()))
    necessity_records._LAST_WALK.clear()
    for (x, y), (want, after) in zip(((x1, y1), (x2, y2)), fresh):
        lay = _layout(x)
        scope = (x.min(), x.max(), y.min(), y.max())
        g = np.random.default_rng(5)
        got = necessity_records.records_null(np.sort(y), lay.starts, lay.sizes, lay.ux, scope,
                                             3000, g, want_cr=True)
        assert np.array_equal(got["ce_fdh"], want["ce_fdh"])
        for a, b in zip(got["sums"], want["sums"]):
            assert np.array_equal(a, b, equal_nan=True)
        assert g.random() == after
    assert len(necessity_records._LAST_WALK) == 1
