"""The engine's result tables assembled from their column arrays, without pandas' inference.

Every fit returns two tables whose string columns are the same for every fit of a model (the
estimates table's ``lhs``/``op``/``rhs``/``label``, the parameter table's columns) beside a
block of new numbers.  Joining the two with ``pd.concat`` re-validates and re-aligns both
axes: about 0.3 ms per table, a twentieth of a fit.  pandas 3 offers the low-level
constructor ``pandas.api.internals.create_dataframe_from_blocks`` for callers who already
hold the blocks (each column's array and its position); with it a table costs ~40 µs.

Its one hazard is shared memory: a block is taken as is, with none of the copy-on-write
bookkeeping a normal constructor records, so writing into the table would write into the
array it was built from.  So every column array is copied here — a NumPy column is copied,
an Arrow-backed string column gets its own wrapper of the immutable Arrow data (no data
copied) — and the float block must be the caller's own new array.  Before pandas 3 the same
table is made by ``pd.concat``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

try:  # pandas >= 3.0
    from pandas.api.internals import create_dataframe_from_blocks as _from_blocks
except ImportError:  # pragma: no cover - pandas 2.x
    _from_blocks = None


def column_arrays(frame: pd.DataFrame) -> list:
    """The columns of ``frame`` as arrays, each in its own dtype (a NumPy array, or the
    column's pandas ExtensionArray), in column order: the ``leading`` argument of
    :func:`frame_from_arrays`."""
    return [column.array if isinstance(column.dtype, pd.api.extensions.ExtensionDtype)
            else column.to_numpy() for _, column in frame.items()]


def frame_from_arrays(leading: Sequence, floats: np.ndarray, index: pd.Index,
                      columns: pd.Index) -> pd.DataFrame:
    """The table whose first columns are ``leading`` (1-D NumPy arrays or ExtensionArrays,
    each copied: see the module docstring) and whose last ones are the rows of ``floats``
    (k × n, float, owned by the table from now on), labelled ``columns``, rows ``index``.

    The same table as ``pd.concat`` of the two parts (``assert_frame_equal(check_exact=True)``,
    tests/engine/test_frames.py)."""
    lead = len(leading)
    if floats.ndim != 2 or floats.shape[0] + lead != len(columns):
        raise ValueError(f"{lead} columns and a {floats.shape} block for {len(columns)} labels")
    if _from_blocks is None:  # pandas 2.x
        head = pd.DataFrame({j: a.copy() for j, a in enumerate(leading)}, index=index)
        table = pd.concat([head, pd.DataFrame(floats.T, index=index)], axis=1)
        table.columns = columns
        return table
    blocks = [((a.reshape(1, -1).copy() if isinstance(a, np.ndarray) else a.copy()),
               np.array([j])) for j, a in enumerate(leading)]
    blocks.append((floats, np.arange(lead, len(columns))))
    return _from_blocks(blocks, index=index, columns=columns)
