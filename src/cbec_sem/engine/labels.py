"""Column and row labels of the engine's tables, each built once.

Under pandas 3 an Index of Python strings is stored as an Arrow-backed ``str`` array, and the
first lookup of a label (``frame["est"]``) builds the Index's hash table from it: about
0.1 ms on a 13-column frame, up to 1 ms with cold caches inside a fit.  A pandas Index is
immutable and keeps that hash table once built, so frames that share one Index object share
it too.  Every fit builds the same few label sequences (the estimates table's columns, the
parameter table's, the fit measures' names), so they are made here once per sequence and
shared (issue 15).
"""

from __future__ import annotations

import pandas as pd

from ..caching import BoundedCache

#: The Index of each label sequence :func:`shared_index` has made (a handful per estimator);
#: bounded so that tables of unusual shapes cannot grow it without end.
_INDEXES: BoundedCache[pd.Index] = BoundedCache(256)


def shared_index(labels) -> pd.Index:
    """``pd.Index(labels)``, made once per sequence of labels and shared (read-only)."""
    key = tuple(labels)
    return _INDEXES.get(key, lambda: pd.Index(key))
