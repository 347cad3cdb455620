"""NCA's permutation null for data with ties in the condition *and* in the outcome, drawn as
contingency tables: O(G·K) work per permutation instead of O(N).

Under NCA's permutation test (Dul, van der Laan & Kuik 2020) the outcome's values are a
uniformly random permutation over the cases.  Both ceilings (CE-FDH and CR-FDH) see a
permutation only through each group of equal X (G groups, sizes n_g) and the multiset of
outcome values the group receives: its maximum and how many of its cases sit at that maximum
(the peers' multiplicities; see :func:`cbec_sem.propositions.necessity.zones_from_group_maxima`).
The G × K table of how many cases of each group hold each of the K distinct outcome values has,
under a uniformly random permutation, the multivariate hypergeometric (Fisher–Yates) law with
margins n_g and the value counts a_k; it is drawn group by group and, within a group, value by
value from the highest down, each cell from the univariate hypergeometric law of the cases
still to place (the chain rule of that law).  Likert scales make G and K small (a mean of four
7-point items has at most 25 values), so 30,000 cases × 10,000 permutations take a fraction of
a second where shuffling takes seconds.

References
----------
Dul, J., van der Laan, E., & Kuik, R. (2020). A statistical significance test for Necessary
Condition Analysis. *Organizational Research Methods*, 23(2), 385–395.

Johnson, N. L., Kotz, S., & Balakrishnan, N. (1997). *Discrete Multivariate Distributions*,
ch. 39 (the multivariate hypergeometric distribution and its conditional structure).
"""

from __future__ import annotations

import numpy as np

#: Table cells drawn in one batch (permutations × groups × values).
_BATCH_CELLS = 1 << 20


def tables_worthwhile(n_groups: int, n_values: int, n: int) -> bool:
    """Whether drawing tables costs less than shuffling the n cases: G·K well under N."""
    return n_groups * n_values * 4 <= n


def group_maxima_batches(y_values: np.ndarray, sizes: np.ndarray, permutations: int,
                         rng: np.random.Generator):
    """Yield ``(m, counts)`` batches for ``permutations`` random permutations of the outcome
    ``y_values`` over groups of ``sizes`` cases: each permutation's group maxima and the
    number of cases at each maximum (both batch × G, float)."""
    values, a = np.unique(y_values, return_counts=True)   # K distinct values, ascending
    n_groups, n_values = sizes.size, values.size
    batch = max(1, min(permutations, _BATCH_CELLS // max(n_groups * n_values, 1)))
    done = 0
    while done < permutations:
        b = min(batch, permutations - done)
        yield _draw(values, a, sizes, b, rng)
        done += b


def _draw(values: np.ndarray, a: np.ndarray, sizes: np.ndarray, b: int,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n_groups, n_values = sizes.size, values.size
    remaining = np.tile(a.astype(np.int64), (b, 1))       # cases of each value not yet placed
    top = np.empty((b, n_groups), dtype=np.int64)          # index of each group's maximum
    at_top = np.empty((b, n_groups), dtype=np.int64)
    for g in range(n_groups):
        need = np.full(b, sizes[g], dtype=np.int64)        # cases of group g still to fill
        if g == n_groups - 1:                               # the last group takes the rest
            cells = remaining
        else:
            cells = np.zeros((b, n_values), dtype=np.int64)
            pool = remaining.sum(axis=1)                    # values ≤ k still unplaced
            for k in range(n_values - 1, 0, -1):
                good = remaining[:, k]
                pool = pool - good
                cells[:, k] = rng.hypergeometric(good, pool, need)
                need = need - cells[:, k]
            cells[:, 0] = need
            remaining = remaining - cells
        present = cells > 0
        k_top = n_values - 1 - np.argmax(present[:, ::-1], axis=1)
        top[:, g] = k_top
        at_top[:, g] = cells[np.arange(b), k_top]
    return values[top], at_top.astype(float)
