"""NCA's permutation null of the CE-FDH effect size, drawn through the records of each
permutation: O(log N) work per permutation instead of O(N).

The CE-FDH ceiling zone of a sample is Σ_g (y₁ − R_g)·w_g over the groups g of equal X in
ascending order, with R_g the running maximum of Y up to the end of group g and w_g the
width from the group's X to the next (Dul 2016).  Under NCA's permutation test (Dul, van der
Laan & Kuik 2020) the outcome is a uniformly random permutation of its values over the cases
in X order, and R is a step function that changes only at the permutation's (upper) records:
about ln N + 0.58 of them on average (Rényi 1962; Nevzorov 1987).  Walking from the right,

* the maximum of all N values sits at a uniform position P₁; R = y₍N₎ from there on;
* given that the record of the positions [0, L] (L = P_k) holds the value of rank c (ranks
  0..N−1 of the sorted outcome, ties broken by position in the sort, which leaves every value
  where it is), the positions [0, L − 1] hold a uniformly random L-subset of the c ranks below
  it, by exchangeability; so the next record's rank t is the largest of such a subset,
  P(t ≤ s) = C(s + 1, L) / C(c, L), drawn by inverting that distribution, and its position is
  uniform on [0, L − 1];
* until the record at position 0.

Each record covers the positions from its own to the next record's on the right, which fixes
R for the groups whose last case lies there: the zone is a sum over the records, and one
permutation costs a few vectorised steps (one per record, over all permutations still
running) of a binary search on log C(s + 1, L) (a table of log k!).  The draws have exactly the
distribution of the d of a uniformly random permutation; only the random numbers that
produce them differ from shuffling N values per permutation
(:func:`cbec_sem.propositions.necessity._permutation_d`, still used with CR-FDH, whose peers
need every group's maximum).

References
----------
Dul (2016) and Dul, van der Laan & Kuik (2020): see :mod:`.necessity`.

Nevzorov, V. B. (1987). Records. *Theory of Probability & Its Applications*, 32(2), 201–228.

Rényi, A. (1962). Théorie des éléments saillants d'une suite d'observations. *Annales
scientifiques de l'Université de Clermont*, 8, 7–13.
"""

from __future__ import annotations

import threading

import numpy as np
from scipy.special import gammaln

#: The last walk drawn: (generator state before it, N, permutations) → the ranks and
#: positions of its records, step by step, and the generator state after it
#: (:func:`_walk_steps`).
_LAST_WALK: dict = {}
_WALK_LOCK = threading.Lock()


def _largest_rank(c: np.ndarray, L: np.ndarray, u: np.ndarray, log_factorial: np.ndarray
                  ) -> np.ndarray:
    """The largest of a uniformly random L-subset of the ranks 0..c−1 by inversion: the
    smallest s in [L − 1, c − 1] with C(s + 1, L)/C(c, L) ≥ u (vectorised binary search on
    log C(a, L) = log a! − log L! − log (a − L)!, from a table of log k!)."""
    lo, hi = L - 1, c - 1                      # the answer is in [lo, hi]; F(hi) = 1 ≥ u
    target = np.log(u) + log_factorial[c] - log_factorial[c - L]
    while True:
        open_ = lo < hi
        if not open_.any():
            return hi
        mid = (lo + hi) // 2
        ok = log_factorial[mid + 1] - log_factorial[mid + 1 - L] >= target
        hi = np.where(open_ & ok, mid, hi)
        lo = np.where(open_ & ~ok, mid + 1, lo)


def ce_fdh_null(y_ascending: np.ndarray, starts: np.ndarray, sizes: np.ndarray,
                ux: np.ndarray, scope, permutations: int, rng: np.random.Generator
                ) -> np.ndarray:
    """CE-FDH effect sizes d of ``permutations`` random permutations of the outcome
    (``y_ascending``: the outcome's values, sorted) over cases in X order (groups of equal
    X: ``starts``, ``sizes``, values ``ux``), in the scope ``(x0, x1, y0, y1)``."""
    return records_null(y_ascending, starts, sizes, ux, scope, permutations, rng)["ce_fdh"]


def records_null(y_ascending: np.ndarray, starts: np.ndarray, sizes: np.ndarray,
                 ux: np.ndarray, scope, permutations: int, rng: np.random.Generator,
                 want_cr: bool = False) -> dict[str, np.ndarray]:
    """The records walk of :func:`ce_fdh_null`; with ``want_cr`` also the CR-FDH line of every
    permutation (``cr_slope``, ``cr_intercept``), exact when the peers need no multiplicities:
    the condition or the outcome has no ties (:func:`cr_fdh_exact`).

    The peers are the groups whose maximum exceeds every value to their left.  A group's
    maximum is its rightmost record; walking from the right, it is a peer when its value is
    above the value of the first record found left of the group (the maximum of everything
    before it), and the group at position 0 always is.  Drawing the peers costs no random
    numbers, so a CE-FDH null is the same with or without them."""
    x0, x1, y0, y1 = scope
    n = y_ascending.size
    widths = np.diff(np.r_[ux, x1])
    ends = starts + sizes                      # one past each group's last position
    # cw[i]: total width of the groups whose last case is before position i
    cw = np.zeros(n + 1)
    np.add.at(cw, ends, widths)
    cw = np.cumsum(cw)
    zone = np.full(permutations, (ux[0] - x0) * (y1 - y0))
    L = np.full(permutations, n, dtype=np.int64)   # the record's position (right boundary)
    active = np.arange(permutations)
    if want_cr:
        group_of = np.repeat(np.arange(ux.size), sizes)
        cand_group = np.full(permutations, -1, dtype=np.int64)  # the group being walked
        cand_rank = np.zeros(permutations, dtype=np.int64)      # its rightmost record
        peers: list[tuple[np.ndarray, np.ndarray]] = []         # (permutation, group, rank)
    for t, P in _walk_steps(n, permutations, rng):
        La = L[active]
        zone[active] += (y1 - y_ascending[t]) * (cw[La] - cw[P])
        if want_cr:
            g_new = group_of[P]
            g_old, r_old = cand_group[active], cand_rank[active]
            left_group = g_new != g_old            # the walk has left the candidate's group
            decided = left_group & (g_old >= 0)
            is_peer = decided & (y_ascending[r_old] > y_ascending[t])
            peers.append((active[is_peer], g_old[is_peer], r_old[is_peer]))
            cand_group[active] = np.where(left_group, g_new, g_old)
            cand_rank[active] = np.where(left_group, t, r_old)
        L[active] = P
        done = P == 0
        if want_cr and done.any():             # the group at position 0 is always a peer
            fin = active[done]
            peers.append((fin, cand_group[fin], cand_rank[fin]))
        active = active[~done]
    out = {"ce_fdh": zone / ((x1 - x0) * (y1 - y0))}
    if want_cr:
        which = np.concatenate([p[0] for p in peers])
        px = ux[np.concatenate([p[1] for p in peers])]
        py = y_ascending[np.concatenate([p[2] for p in peers])]
        sw = np.bincount(which, minlength=permutations).astype(float)
        mx = np.bincount(which, px, permutations) / sw
        my = np.bincount(which, py, permutations) / sw
        dx = px - mx[which]
        sxx = np.bincount(which, dx * dx, permutations)
        sxy = np.bincount(which, dx * (py - my[which]), permutations)
        out["sums"] = (sxx, sxy, mx, my)
    return out


def _walk_steps(n: int, permutations: int, rng: np.random.Generator
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The random part of the records walk of :func:`records_null`: for each step, the rank t
    and position P of the next record of every permutation still walking (those whose last
    record was not at position 0, in order).  It depends on N, the number of permutations and
    the generator only, not on the data: two walks from the same generator state are the
    same walk.  The last walk is kept, so a test seeded like the one before on as many cases
    (H7 and H8 of a hypothesis table: the same seed, other outcomes) takes it instead of
    drawing it again, and leaves the generator in the state the draws would have left it."""
    # a PCG64 state (np.random.default_rng's) is a few integers, and its repr says all of it
    key = ((repr(rng.bit_generator.state), n, permutations)
           if type(rng.bit_generator) is np.random.PCG64 else None)
    with _WALK_LOCK:
        last = _LAST_WALK.get(key) if key is not None else None
    if last is not None:
        steps, after = last
        rng.bit_generator.state = after
        return steps
    log_factorial = gammaln(np.arange(n + 2, dtype=float) + 1.0)
    L = np.full(permutations, n, dtype=np.int64)   # the record's position (right boundary)
    c = np.full(permutations, n, dtype=np.int64)   # ranks below the record's
    active = np.arange(permutations)
    steps = []
    while active.size:
        La, ca = L[active], c[active]
        t = _largest_rank(ca, La, 1.0 - rng.random(active.size), log_factorial)
        P = rng.integers(0, La)                # its position, uniform on [0, L − 1]
        t.flags.writeable = False
        P.flags.writeable = False
        steps.append((t, P))
        L[active], c[active] = P, t
        active = active[P != 0]
    if key is not None:
        with _WALK_LOCK:
            _LAST_WALK.clear()
            _LAST_WALK[key] = (steps, rng.bit_generator.state)
    return steps


def cr_fdh_exact(x_ties: bool, y_values: np.ndarray) -> bool:
    """Whether :func:`records_null` draws the CR-FDH null exactly: every peer counts once
    when the condition has no ties (each group is one case) or the outcome has none (a
    group's maximum is one case)."""
    return not x_ties or np.unique(y_values).size == y_values.size
