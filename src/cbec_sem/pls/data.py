"""The data a PLS estimation uses: the model's item columns, missing values handled, checked.

Missing values (stated in the result's notes, with counts): ``"mean"`` replaces each missing
cell by its column's mean over the observed cases (seminr's default ``mean_replacement``);
``"listwise"`` drops every row with a missing item.  The caller's frame is never modified.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["prepare_items"]

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
    absent = [i for i in items if i not in data.columns]
    if absent:
        raise DataError(f"the data have no column(s) {absent}; the model's indicators must be "
                        "columns of the data")
    frame = data.loc[:, list(items)]
    for c in items:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            raise DataError(f"the indicator {c!r} is not numeric ({frame[c].dtype}); code it "
                            "as numbers")
    X = frame.to_numpy(dtype=float, copy=True)
    notes: list[str] = []
    miss = np.isnan(X)
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
