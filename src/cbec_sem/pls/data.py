"""The data a PLS estimation uses: the model's item columns, missing values handled, checked.

Missing values (stated in the result's notes, with counts): ``"mean"`` replaces each missing
cell by its column's mean over the observed cases (seminr's default ``mean_replacement``);
``"listwise"`` drops every row with a missing item.  The caller's frame is never modified.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.samplestats import numeric_block
from ..errors import DataError, DataWarning, warn
from ..survey.fit_checks import checked_block

__all__ = ["prepare_items", "item_vifs", "warn_collinear_composite", "VIF_THRESHOLD"]

#: Hair et al. (2019, EBR 31(1), p. 8; 2022, ch. 5): formative indicators with VIF above 5
#: are critically collinear.
VIF_THRESHOLD = 5.0


def item_vifs(x: np.ndarray) -> np.ndarray:
    """VIF of each column of ``x`` on the others: the diagonal of the inverse correlation
    matrix, VIF_j = 1 / (1 − R²_j) (Hair et al. 2022, ch. 5)."""
    return np.diag(np.linalg.inv(np.corrcoef(x, rowvar=False)))


def warn_collinear_composite(construct: str, indicators, vifs, mode: str,
                             threshold: float = VIF_THRESHOLD) -> None:
    """Warn (DataWarning) when a mode-B composite has indicators with VIF above ``threshold``,
    naming them with their VIFs; mode-A blocks are not warned about (collinearity is
    expected of reflective items)."""
    high = [(i, round(float(v), 2)) for i, v in zip(indicators, vifs) if v > threshold]
    if high and mode == "B":
        warn(f"the composite {construct!r} has collinear indicators (VIF above "
             f"{threshold:g}): {high}; its weights are unstable: drop or merge indicators, "
             "or model the construct as =~ (mode A)", DataWarning)

MISSING = ("mean", "listwise")


def prepare_items(data: pd.DataFrame, items: tuple[str, ...], missing: str = "mean",
                  ) -> tuple[np.ndarray, list[str], pd.Index]:
    """(N, p) float array of ``items`` ready for estimation, notes, and the rows kept.

    Raises:
        DataError: ``data`` is not a DataFrame, an item column is absent or not numeric, no
            row is left, or an item is constant (it cannot be standardised).
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if missing not in MISSING:
        raise DataError(f"missing must be 'mean' or 'listwise', not {missing!r}")
    # the checks every fit runs (issue 14): boolean, complex, huge values, missing-value
    # codes, MultiIndex columns; then the same reading as a CB-SEM fit (text that spells
    # numbers is read, other text and dates refused, an infinite value named with its row)
    checked_block(data, items)
    absent = [i for i in items if i not in data.columns]
    if absent:
        raise DataError(f"the data have no column(s) {absent}; the model's indicators must be "
                        "columns of the data")
    twice = [i for i in items if int((data.columns == i).sum()) > 1]
    if twice:
        raise DataError(f"the data have duplicate column names: {twice}; rename them so each "
                        "column is one variable")
    frame = data.loc[:, list(items)]
    X = np.array(numeric_block(frame, tuple(items)), dtype=float)  # our own copy
    notes: list[str] = []
    miss = np.isnan(X)
    empty = [items[j] for j in np.flatnonzero(miss.all(axis=0))]
    if empty:
        raise DataError(f"the indicator(s) {empty} have no values at all (every cell "
                        "missing); remove them from the model")
    rows = frame.index
    if miss.any():
        if missing == "mean":
            X[miss] = np.broadcast_to(np.nanmean(X, axis=0), X.shape)[miss]
            notes.append(f"missing values: {int(miss.sum())} cell(s) in "
                         f"{int(miss.any(axis=1).sum())} row(s) replaced by the item mean "
                         "(mean replacement, seminr's default)")
        else:
            keep = ~miss.any(axis=1)
            X = X[keep]
            rows = rows[keep]
            notes.append(f"missing values: {int((~keep).sum())} row(s) with a missing item "
                         f"dropped (listwise deletion); {int(keep.sum())} rows used")
    if X.shape[0] < 3:
        raise DataError(f"only {X.shape[0]} usable row(s); PLS needs data")
    constant = [items[j] for j in np.flatnonzero(np.ptp(X, axis=0) == 0)]
    if constant:
        raise DataError(f"the indicator(s) {constant} are constant and cannot be "
                        "standardised; remove them from the model")
    return X, notes, rows
