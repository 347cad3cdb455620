"""Ordered items: validating the answers, coding the categories, and the thresholds.

An ordered item with K categories is the coarse view of a standard-normal latent response y*
cut at K − 1 thresholds τ₁ < … < τ_{K−1}: the answer is category c when τ_{c−1} < y* ≤ τ_c.
Without covariates the maximum-likelihood thresholds are closed-form (the first step of
Muthén's 1984 estimator; Olsson 1979):

    τ_c = Φ⁻¹(p₁ + … + p_c),   p_c the sample proportion of category c,

per group.  This is what lavaan's ``lav_uvord_fit()`` converges to.

Categories are the distinct observed values of the item, in increasing order, over the rows
that are used (after listwise deletion, if any) and over all groups, so that every group has
the same thresholds to estimate.

Missing answers (lavaan's two choices for ordered data):

* ``missing="listwise"`` (lavaan's default): rows with a missing answer on any of the model's
  items are dropped, and a :class:`~cbec_sem.errors.DataWarning` says how many;
* ``missing="pairwise"``: thresholds come from each item's answers, polychoric correlations
  from each pair's joint answers, and the asymptotic covariance matrix from the casewise
  scores with the missing ones set to zero (lavaan's ``missing = "pairwise"``); rows without
  any answer are dropped.  A DataWarning says so.

Bad input is refused with a :class:`~cbec_sem.errors.DataError` that names the item: a single
observed category, more than :data:`MAX_CATEGORIES` categories, a category present in one
group but absent from another, an item without answers in a group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ...errors import DataError, DataWarning, SpecError
from ...errors import warn
from ..samplestats import (
    check_columns,
    numeric_block,
    as_frame,
    group_codes,
    rows_without_group,
)

#: More distinct values than this and an item is not treated as ordered (Likert scales have
#: 2–10 points; a 0–100 slider is continuous).
MAX_CATEGORIES = 10

MISSING_ORDINAL = ("listwise", "pairwise")


@dataclass(frozen=True)
class OrdinalData:
    """Ordered answers coded 0..K−1 (−1 where missing), split by group.

    Attributes:
        names: the items, in the model's order.
        levels: the observed values behind codes 0..K−1, per item.
        group_labels: group values in order of first appearance; ``(None,)`` for one group.
        codes: per group, an (n_g × p) int array of category codes, −1 for a missing answer
            (a model with continuous variables, :func:`.mixed.mixed_data`: a float array with
            the continuous variables' values in their columns, whose ``levels`` are empty).
        missing: ``"listwise"`` or ``"pairwise"``.
        rows_total: rows in the data as given.
        rows_dropped: rows not used (listwise: any answer missing; pairwise: none given).
    """

    names: tuple[str, ...]
    levels: tuple[tuple[float, ...], ...]
    group_labels: tuple
    codes: tuple[np.ndarray, ...]
    missing: str
    rows_total: int
    rows_dropped: int

    @property
    def ncat(self) -> np.ndarray:
        return np.array([len(lv) for lv in self.levels], dtype=int)

    @property
    def nobs(self) -> tuple[int, ...]:
        return tuple(int(c.shape[0]) for c in self.codes)

    @property
    def ngroups(self) -> int:
        return len(self.codes)




def in_group(label, grouped: bool = True) -> str:
    """" in group 'x'" for messages (numpy scalars shown as plain numbers)."""
    if not grouped:
        return ""
    value = label.item() if isinstance(label, np.generic) else label
    return f" in group {value!r}"


def _shown(values) -> str:
    return ", ".join(f"{v:g}" for v in values)


def ordinal_data(
    data,
    names,
    group: str | None = None,
    missing: str = "listwise",
    announce: bool = True,
    min_items: int = 2,
) -> OrdinalData:
    """Validate ordered items and code their categories (the boundary of the ordinal path).
    ``min_items``: polychoric correlations need two items; a model with continuous
    variables beside the ordered ones (:mod:`.mixed`) needs one.

    Raises:
        DataError: missing or non-numeric columns, an item with a single category or more
            than :data:`MAX_CATEGORIES`, a category missing from a group, no usable rows.
        SpecError: an unknown ``missing`` method.
    """
    if missing not in MISSING_ORDINAL:
        raise SpecError(
            f"missing={missing!r} is not available for ordered items; choose 'listwise' "
            "(lavaan's default) or 'pairwise'"
        )
    names = tuple(names)
    if len(names) < min_items:
        raise DataError(
            f"polychoric correlations need at least two ordered items (got {list(names)})"
        )
    frame = as_frame(data)
    check_columns(frame, names, group)
    x = numeric_block(frame, names)
    rows_total = x.shape[0]
    labels, gcodes = group_codes(frame, group, rows_total)
    rows_without_group(frame, group, announce=announce)
    observed = ~np.isnan(x)
    keep = observed.all(axis=1) if missing == "listwise" else observed.any(axis=1)
    dropped = int((~keep & (gcodes >= 0)).sum())
    keep &= gcodes >= 0  # rows without a group value belong to no group
    if announce and missing == "listwise" and dropped:
        warn(
            f"listwise deletion dropped {dropped} of {rows_total} rows with missing answers on "
            "the ordered items (lavaan's default; pass missing='pairwise' to use every answer)",
            DataWarning,
        )
    elif announce and missing == "pairwise":
        partial = int((keep & ~observed.all(axis=1)).sum())
        warn(
            "missing answers are handled pairwise (lavaan's missing = 'pairwise'): thresholds "
            "use each item's answers and polychoric correlations each pair's; "
            f"{partial} of {rows_total} rows have some missing answers"
            + (f", {dropped} rows without any answer were dropped" if dropped else ""),
            DataWarning,
        )
    x = x[keep]
    gcodes = gcodes[keep]
    if x.shape[0] == 0:
        raise DataError(
            "no row has an answer on every ordered item, so listwise deletion leaves nothing; "
            "use missing='pairwise'" if missing == "listwise" else
            "no row has any answer on the ordered items"
        )
    levels = []
    codes = np.full(x.shape, -1, dtype=int)
    for k, name in enumerate(names):
        col = x[:, k]
        ok = ~np.isnan(col)
        values = np.unique(col[ok])
        if values.size == 0:
            raise DataError(f"the ordered item {name!r} has no answers")
        if values.size == 1:
            raise DataError(
                f"the ordered item {name!r} has a single observed category ({values[0]:g}); "
                "it carries no information: drop it from the model"
            )
        if values.size > MAX_CATEGORIES:
            raise DataError(
                f"the ordered item {name!r} has {values.size} distinct values (more than "
                f"{MAX_CATEGORIES}: {_shown(values[:12])}{', ...' if values.size > 12 else ''}); "
                "an item with this many categories is better treated as continuous: leave it "
                "out of ordered=[...]"
            )
        codes[ok, k] = np.searchsorted(values, col[ok])
        levels.append(tuple(float(v) for v in values))
    blocks = []
    for g, label in enumerate(labels):
        block = codes[gcodes == g]
        where = in_group(label, group is not None)
        if block.shape[0] < 2:
            raise DataError(f"only {block.shape[0]} usable row(s){where}")
        for k, name in enumerate(names):
            col = block[:, k]
            counts = np.bincount(col[col >= 0], minlength=len(levels[k]))
            if counts.sum() == 0:
                raise DataError(f"the ordered item {name!r} has no answers{where}")
            absent = [levels[k][c] for c in np.flatnonzero(counts == 0)]
            if absent:
                others = [in_group(lab)[10:] for h, lab in enumerate(labels) if h != g]
                raise DataError(
                    f"the ordered item {name!r} has no answer {_shown(absent)}{where}, but "
                    + (f"other groups ({', '.join(others)}) do"
                       if group is not None else "the category appears in unused rows")
                    + "; every group must use the same categories: merge the rare category "
                    f"with its neighbour (recode {name!r}) or drop the item"
                )
        blocks.append(block)
    return OrdinalData(
        names=names,
        levels=tuple(levels),
        group_labels=labels,
        codes=tuple(blocks),
        missing=missing,
        rows_total=rows_total,
        rows_dropped=dropped,
    )


def category_counts(codes: np.ndarray, ncat: np.ndarray) -> list[np.ndarray]:
    """Frequencies of each category of each item (missing answers not counted)."""
    return [np.bincount(codes[codes[:, k] >= 0, k], minlength=int(ncat[k]))
            for k in range(codes.shape[1])]


def thresholds_from_counts(counts: np.ndarray) -> np.ndarray:
    """τ_c = Φ⁻¹ of the cumulative proportions (the univariate probit ML estimate)."""
    cum = np.cumsum(counts[:-1]) / counts.sum()
    return special.ndtri(cum)


def item_thresholds(codes: np.ndarray, ncat: np.ndarray) -> list[np.ndarray]:
    """Thresholds of every item of one group."""
    return [thresholds_from_counts(c) for c in category_counts(codes, ncat)]


def threshold_names(names, ncat) -> list[str]:
    """lavaan's names ``item|t1``, ``item|t2``, ..."""
    return [f"{n}|t{k}" for n, K in zip(names, ncat) for k in range(1, int(K))]
