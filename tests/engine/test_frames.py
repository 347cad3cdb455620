"""Tables assembled from their column arrays (engine/frames.py) are the tables ``pd.concat``
makes, and share no memory a user could write through: the key columns of every fit's
estimates table come from one array per model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.engine.frames import column_arrays, frame_from_arrays

MODEL = """
visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
visual ~ a*textual
double := 2*a
"""


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    f = rng.standard_normal((200, 2)) @ np.array([[1.0, 0.0], [0.5, 0.9]])
    x = np.repeat(f, 3, axis=1) + 0.6 * rng.standard_normal((200, 6))
    return pd.DataFrame(x, columns=[f"x{i}" for i in range(1, 7)])


@pytest.mark.parametrize("blocks", [True, False], ids=["pandas 3 blocks", "pandas 2 concat"])
def test_the_table_is_the_one_concat_makes(blocks: bool, monkeypatch) -> None:
    if not blocks:  # the path taken before pandas 3
        monkeypatch.setattr("cbec_sem.engine.frames._from_blocks", None)
    head = pd.DataFrame({"lhs": pd.array(["f", "g", "h"], dtype="str"),
                         "group": np.array([1, 1, 2], dtype=np.int64),
                         "ustart": [np.nan, 1.0, 0.5]})
    floats = np.arange(6, dtype=float).reshape(2, 3)
    expected = pd.concat([head, pd.DataFrame(floats.T, columns=["est", "se"])], axis=1)
    built = frame_from_arrays(column_arrays(head), floats.copy(), head.index,
                              pd.Index(["lhs", "group", "ustart", "est", "se"]))
    pd.testing.assert_frame_equal(built, expected, check_exact=True)


def test_a_wrong_number_of_labels_is_refused() -> None:
    with pytest.raises(ValueError, match="labels"):
        frame_from_arrays([np.zeros(3)], np.zeros((2, 3)), pd.RangeIndex(3), pd.Index(["a"]))


def test_writing_into_one_fit_changes_no_other() -> None:
    data = _data()
    first, second = cs.fit(MODEL, data), cs.fit(MODEL, data)
    params = first.estimation.params
    before = second.estimation.params.copy()
    table_before = second.estimation.partable.frame.copy()
    params.loc[0, "lhs"] = "changed"
    params.loc[0, "group"] = 7
    params.loc[0, "est"] = -1.0
    frame = first.estimation.partable.frame
    frame.loc[0, "op"] = "changed"
    frame.loc[0, "free"] = 99
    frame.loc[0, "est"] = -1.0
    pd.testing.assert_frame_equal(second.estimation.params, before, check_exact=True)
    pd.testing.assert_frame_equal(second.estimation.partable.frame, table_before,
                                  check_exact=True)
    # and a new fit of the same (cached) model reads the original keys
    third = cs.fit(MODEL, data)
    pd.testing.assert_frame_equal(third.estimation.params, before, check_exact=True)
    assert third.estimation.partable.frame.loc[0, "op"] == "=~"


def test_writing_into_a_handed_out_table_changes_not_the_result() -> None:
    res = cs.fit(MODEL, _data())
    params, partable = res.params, res.partable  # (shallow copies under copy-on-write)
    kept_params, kept_table = res.params.copy(deep=True), res.partable.copy(deep=True)
    params.loc[1, "rhs"] = "changed"
    params.loc[1, "se"] = -1.0
    partable.loc[1, "lhs"] = "changed"
    partable.loc[1, "start"] = -1.0
    pd.testing.assert_frame_equal(res.params, kept_params, check_exact=True)
    pd.testing.assert_frame_equal(res.partable, kept_table, check_exact=True)
