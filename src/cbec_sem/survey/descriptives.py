"""Item descriptives for reports: n, mean, sd, min, max, skewness and excess kurtosis.

Each item is described on its own non-missing answers (pairwise, not listwise).

* ``sd`` is the sample standard deviation with N - 1 in the denominator.
* ``skew`` is the adjusted Fisher-Pearson coefficient G1 = g1 * sqrt(n (n - 1)) / (n - 2), with
  g1 = m3 / m2^(3/2) and m_k the k-th central moment (divisor n).  This is
  ``scipy.stats.skew(x, bias=False)``, SPSS's and Excel's SKEW, and ``psych::describe(type = 2)``
  (psych's default, type 3, is a different estimator).  NaN when n < 3 or the item is constant.
* ``kurtosis`` is the excess kurtosis G2 = ((n + 1) g2 + 6) (n - 1) / ((n - 2)(n - 3)), with
  g2 = m4 / m2^2 - 3.  This is ``scipy.stats.kurtosis(x, fisher=True, bias=False)``, SPSS's
  and Excel's KURT, and ``psych::describe(type = 2)``.  NaN when n < 4 or the item is constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .numeric import parse_column

__all__ = ["descriptives", "DESCRIPTIVE_COLUMNS"]

DESCRIPTIVE_COLUMNS = ["n", "mean", "sd", "min", "max", "skew", "kurtosis"]


def _describe(x: np.ndarray) -> dict[str, float]:
    n = x.size
    out: dict[str, float] = dict.fromkeys(DESCRIPTIVE_COLUMNS, np.nan)
    out["n"] = n
    if n == 0:
        return out
    # moments of x / c, c = max |x|: no overflow for answers near 1e200 (sd was inf), and the
    # same numbers otherwise (mean and sd scale with c, skewness and kurtosis do not)
    c = float(np.max(np.abs(x)))
    c = c if np.isfinite(c) and c > 0 else 1.0
    x_c = x / c
    mean_c = float(x_c.mean())
    dev = x_c - mean_c
    m2 = float(np.mean(dev**2))
    out.update(mean=c * mean_c, min=float(x.min()), max=float(x.max()))
    if n >= 2:
        out["sd"] = c * float(np.sqrt(m2 * n / (n - 1)))
    if x.min() == x.max():  # constant: m2 is 0 up to rounding, skew and kurtosis undefined
        return out
    m3 = float(np.mean(dev**3))
    m4 = float(np.mean(dev**4))
    if n >= 3:
        g1 = m3 / m2**1.5
        out["skew"] = g1 * np.sqrt(n * (n - 1)) / (n - 2)
    if n >= 4:
        g2 = m4 / m2**2 - 3.0
        out["kurtosis"] = ((n + 1) * g2 + 6.0) * (n - 1) / ((n - 2) * (n - 3))
    return out


def descriptives(data: Any, items: Sequence[str] | None = None) -> pd.DataFrame:
    """Descriptive statistics per item (formulas in the module docstring).

    Args:
        data: a DataFrame, or anything with ``to_frame()`` (such as a ``Survey``).
        items: the columns to describe; default the survey's items, or every numeric column of
            a DataFrame.

    Returns:
        DataFrame indexed by item with columns n, mean, sd, min, max, skew, kurtosis.

    Raises:
        DataError: unknown columns, or columns that hold non-numeric cells.

    Examples:
        >>> cs.descriptives(cs.datasets.example_survey(), ["ta1", "ta2"]).round(2)
                n  mean    sd  min  max  skew  kurtosis
        item
        ta1   400  4.03  1.35  1.0  7.0  0.04     -0.50
        ta2   400  3.96  1.35  1.0  7.0  0.05     -0.41
    """
    if items is None and hasattr(data, "items") and not isinstance(data, pd.DataFrame):
        items = list(data.items)
    if not isinstance(data, pd.DataFrame):
        if not hasattr(data, "to_frame"):
            raise DataError(f"data must be a DataFrame or a Survey, got {type(data).__name__}")
        data = data.to_frame()
    if items is None:
        items = [
            c
            for c in data.columns
            if pd.api.types.is_numeric_dtype(data[c].dtype)
            and not pd.api.types.is_bool_dtype(data[c].dtype)
        ]
    if isinstance(items, str):
        items = [items]
    items = list(items)
    unknown = [c for c in items if c not in data.columns]
    if unknown:
        raise DataError(f"descriptives: column(s) {unknown} not in the data")
    rows = {}
    for item in items:
        parsed = parse_column(data[item])
        if parsed.n_non_numeric:
            raise DataError(
                f"descriptives: column {item!r} holds {parsed.n_non_numeric} non-numeric cell(s); "
                "load it with load_survey() first"
            )
        values = parsed.values[~np.isnan(parsed.values)]
        rows[item] = _describe(values)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=DESCRIPTIVE_COLUMNS)
    frame["n"] = frame["n"].astype("int64")
    frame.index.name = "item"
    return frame
