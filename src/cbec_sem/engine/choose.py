"""Which estimator suits a questionnaire's answers: the rules behind ``estimator="auto"``.

:func:`choose_estimator` looks at the items only (not at a model) and applies, in order:

1. **Ordinal items → WLSMV.**  Items declared ``ordered``, or items whose answers take at most
   ``max_categories`` distinct whole-number values (default 5), are ordinal; they are fitted by
   diagonally weighted least squares on polychoric correlations with the mean-and-variance
   adjusted test (lavaan's ``WLSMV``).  Rhemtulla, Brosseau-Liard & Savalei (2012, *Psychol.
   Methods* 17, 354–373) recommend categorical least squares with fewer than five categories,
   and robust ML from five categories on only when the category thresholds are roughly
   symmetric (ML is biased by asymmetric thresholds, most for large loadings); five is
   therefore included here, the conservative side of their boundary (Beauducel & Herzberg
   2006, *Struct. Equ. Modeling* 13, 186–203, also favour WLSMV with five or fewer
   categories).  Missing answers are then handled pairwise, as lavaan does for WLSMV.
2. **Missing answers → MLR with** ``missing="fiml"``.  Full-information ML uses every answer
   under the missing-at-random assumption (Enders & Bandalos 2001, *Struct. Equ. Modeling* 8,
   430–457); the robust (Huber–White, Yuan–Bentler) corrections keep the standard errors and
   the test valid when the items are not normal (Yuan & Bentler 2000, *Sociol. Methodol.* 30,
   165–200), which Likert items never quite are.
3. **Non-normal items → MLR.**  The data are called non-normal when Mardia's (1970)
   multivariate kurtosis test rejects at ``alpha`` (default .05), or when any item has
   |skewness| > 2 or |excess kurtosis| > 7, the limits beyond which ML test statistics and
   standard errors break down in simulations (West, Finch & Curran 1995, in Hoyle (ed.),
   *Structural Equation Modeling*, 56–75; Curran, West & Finch 1996, *Psychol. Methods* 1,
   16–29).  Skewness and kurtosis are the adjusted coefficients G1 and G2 of
   :func:`cbec_sem.survey.descriptives`.
4. **Otherwise → ML.**
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DataError
from ..validation import check_count, check_probability
from ..survey.descriptives import descriptives
from ..survey.normality import item_matrix, mardia

#: Items with at most this many distinct whole-number answers count as ordinal (see above).
MAX_CATEGORIES = 5
#: Univariate limits of West, Finch & Curran (1995).
SKEW_LIMIT = 2.0
KURTOSIS_LIMIT = 7.0


def _is_ordinal(values: np.ndarray, max_categories: int) -> bool:
    v = values[~np.isnan(values)]
    if v.size == 0 or not np.all(v == np.round(v)):
        return False
    return np.unique(v).size <= max_categories


def _ordinal(x: np.ndarray, items: list[str], ordered, max_categories: int):
    """(declared ordered items, other items with at most ``max_categories`` answers)."""
    if not items:
        raise DataError("choose_estimator: no items to look at")
    if ordered is True:
        declared = list(items)
    elif not ordered:
        declared = []
    else:
        declared = [ordered] if isinstance(ordered, str) else list(ordered)
    unknown = [o for o in declared if o not in items]
    if unknown:
        raise DataError(f"choose_estimator: ordered item(s) {unknown} are not among the items")
    few = [item for k, item in enumerate(items)
           if item not in declared and _is_ordinal(x[:, k], max_categories)]
    return declared, few


def ordinal_items(
    data: Any,
    items: Sequence[str] | None = None,
    ordered: Sequence[str] | bool | None = None,
    *,
    max_categories: int = MAX_CATEGORIES,
) -> list[str]:
    """The items :func:`choose_estimator` treats as ordered: those declared, and those with
    at most ``max_categories`` distinct whole-number answers; the others are continuous (a
    WLSMV fit takes both, as lavaan with ``ordered=`` a subset of the items).

    Raises:
        DataError: unknown or non-numeric columns.
    """
    max_categories = check_count(max_categories, "max_categories", minimum=2)
    x, items = item_matrix(data, items, "choose_estimator")
    declared, few = _ordinal(x, items, ordered, max_categories)
    return [item for item in items if item in declared or item in few]


def choose_estimator(
    data: Any,
    items: Sequence[str] | None = None,
    ordered: Sequence[str] | bool | None = None,
    *,
    max_categories: int = MAX_CATEGORIES,
    alpha: float = 0.05,
) -> tuple[str, str]:
    """The estimator the rules in the module docstring pick for these items.

    Args:
        data: a DataFrame, or a ``Survey`` from ``cs.load_survey``.
        items: the model's observed variables (names, or the model itself); default the
            survey's items, or every numeric column.
        ordered: items declared ordinal (``True``: all of them); others are still checked for
            few categories.
        max_categories: the largest number of distinct answers an item may have and still
            count as ordinal.
        alpha: level of Mardia's kurtosis test.

    Returns:
        ``(estimator, reason)``: ``"WLSMV"``, ``"MLR"`` or ``"ML"``, and one sentence saying
        why (with ``missing="fiml"`` named when the answers have gaps).

    Raises:
        DataError: unknown or non-numeric columns.

    Examples:
        >>> cs.choose_estimator(cs.datasets.example_survey(), ["ta1", "ta2", "ta3", "ta4"])
        ('ML', "continuous, complete and close enough to normal (Mardia's kurtosis p = 0.0959; every item |skewness| ≤ 2, |excess kurtosis| ≤ 7): ML")
    """
    max_categories = check_count(max_categories, "max_categories", minimum=2)
    alpha = check_probability(alpha, "alpha")
    x, items = item_matrix(data, items, "choose_estimator")
    declared, few = _ordinal(x, items, ordered, max_categories)
    missing = np.isnan(x)
    n_missing_rows = int(missing.any(axis=1).sum())
    if declared or few:
        parts = []
        if declared:
            parts.append(f"declared ordered: {', '.join(declared)}")
        if few:
            parts.append(f"at most {max_categories} answer categories: {', '.join(few)}")
        reason = ("ordinal items (" + "; ".join(parts) + "): WLSMV, as Rhemtulla, "
                  "Brosseau-Liard & Savalei (2012) recommend for items with few categories")
        if n_missing_rows:
            reason += f"; {n_missing_rows} row(s) with missing answers are used pairwise"
        return "WLSMV", reason
    if n_missing_rows:
        return "MLR", (
            f"{n_missing_rows} of {x.shape[0]} rows have missing answers: MLR with "
            "missing='fiml' uses every answer (full-information ML) with robust standard "
            "errors and test")
    desc = descriptives(data, items)
    skewed = [i for i in items if abs(desc.loc[i, "skew"]) > SKEW_LIMIT]
    kurtotic = [i for i in items if abs(desc.loc[i, "kurtosis"]) > KURTOSIS_LIMIT]
    mardia_p = np.nan
    mardia_z = np.nan
    if len(items) >= 2:
        try:
            m = mardia(data, items)
            mardia_z = float(m.loc["kurtosis", "statistic"])
            mardia_p = float(m.loc["kurtosis", "pvalue"])
        except DataError:
            pass
    reasons = []
    if np.isfinite(mardia_p) and mardia_p < alpha:
        reasons.append(f"Mardia's multivariate kurtosis z = {mardia_z:.2f}, p = {mardia_p:.3g} "
                       f"< {alpha:g}")
    if skewed:
        reasons.append(f"|skewness| > {SKEW_LIMIT:g} for {', '.join(skewed)}")
    if kurtotic:
        reasons.append(f"|excess kurtosis| > {KURTOSIS_LIMIT:g} for {', '.join(kurtotic)}")
    if reasons:
        return "MLR", ("the items are not multivariate normal (" + "; ".join(reasons)
                       + "): MLR gives robust standard errors and a scaled test")
    kurt_text = (f"Mardia's kurtosis p = {mardia_p:.3g}" if np.isfinite(mardia_p)
                 else "Mardia's test not computable")
    return "ML", (f"continuous, complete and close enough to normal ({kurt_text}; every item "
                  f"|skewness| ≤ {SKEW_LIMIT:g}, |excess kurtosis| ≤ {KURTOSIS_LIMIT:g}): ML")
