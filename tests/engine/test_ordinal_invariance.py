"""Equal thresholds across groups (cs.fit(..., ordered=..., group_equal=["thresholds", ...]))
identified as lavaan 0.6 identifies them.

Expected values: ``tests/fixtures/lavaan_ordinal_invariance/<data>_native_<case>.json``,
written by ``tests/fixtures/make_ordinal_invariance_fixtures.R`` (lavaan 0.6-14:
``cfa(model, data, ordered =, group =, group.equal =, std.lv =, parameterization =)``, whose
``lav_partable_flat`` frees the later groups' scaling factors (delta) or residual variances
(theta) and latent means once thresholds are equal) on HolzingerSwineford1939's x1-x9 cut
into four categories by school, and the example survey's ta/fa items by channel.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import SpecError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lavaan_ordinal_invariance"
REPO = FIXTURES.parents[2]
CASES = sorted(p.stem for p in FIXTURES.glob("*_native_*.json"))


def fit_case(ref: dict):
    options = {}
    if ref["parameterization"] != "delta":
        options["estimator_options"] = {"parameterization": ref["parameterization"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # negative latent-response variances, as lavaan warns
        return cs.fit(ref["model"], pd.read_csv(REPO / ref["data"]), ordered=ref["items"],
                      group=ref["group"], group_equal=ref["group_equal"],
                      std_lv=ref["std_lv"], **options)


def compare_params(params: pd.DataFrame, ref_params: dict) -> None:
    """Every row lavaan reports (loadings, thresholds, intercepts, scaling factors,
    variances): est 1e-3, SE relative 1e-3, std.all 1e-3."""
    ref = pd.DataFrame(ref_params)
    both = ref.merge(params, on=["lhs", "op", "rhs", "group"], suffixes=("_ref", ""),
                     how="left", validate="one_to_one")
    assert both["est"].notna().all(), both[both["est"].isna()]
    np.testing.assert_allclose(both["est"], both["est_ref"], atol=1e-3)
    np.testing.assert_allclose(both["std.all"], both["std.all_ref"], atol=1e-3)
    free = both["se_ref"] > 0
    assert free.sum() > 0
    np.testing.assert_allclose(both.loc[free, "se"], both.loc[free, "se_ref"], rtol=1e-3)
    assert (both.loc[~free, "se"].fillna(0.0) == 0.0).all()


def compare_fit_measures(measures: pd.Series, ref: dict) -> None:
    """Every measure both report: χ² statistics relative 1e-5, the others (CFI/TLI/RMSEA and
    their scaled and robust versions, RMSEA intervals and p-values, SRMR, ...) absolute 1e-6
    or relative 1e-5 (RMSEA interval bounds are roots of a noncentral χ² equation); where
    lavaan reports NA (the .robust ones once thresholds are equal) so does cbec_sem."""
    compared = 0
    for key, value in ref.items():
        if key not in measures.index:
            continue
        if value is None:
            assert not np.isfinite(measures[key]), key
        else:
            tol = 1e-7 if "chisq" in key else 1e-6
            assert measures[key] == pytest.approx(value, rel=1e-5, abs=tol), key
        compared += 1
    assert compared > 40


@pytest.mark.parametrize("case", CASES)
def test_equal_thresholds_as_lavaan(case):
    ref = json.loads((FIXTURES / f"{case}.json").read_text())
    res = fit_case(ref)
    assert res.converged
    compare_params(res.params, ref["params"])
    compare_fit_measures(res.fit_measures, ref["fit_measures"])


def test_later_groups_scales_and_means_are_free():
    # lavaan's rule, read off its parameter table: with equal thresholds the second group's
    # scaling factors and latent means are free, the first group's fixed (1 and 0)
    ref = json.loads((FIXTURES / "hs4_native_thresholds.json").read_text())
    table = fit_case(ref).estimation.partable.frame
    scales = table[table["op"] == "~*~"]
    assert (scales.loc[scales["group"] == 1, "free"] == 0).all()
    assert (scales.loc[scales["group"] == 2, "free"] > 0).all()
    means = table[(table["op"] == "~1") & table["lhs"].isin(["visual", "textual", "speed"])]
    assert (means.loc[means["group"] == 2, "free"] > 0).all()


def test_thresholds_need_ordered_items():
    data = pd.read_csv(REPO / "src/cbec_sem/datasets/data/HolzingerSwineford1939.csv")
    with pytest.raises(SpecError, match="ordered"):
        cs.fit("visual =~ x1 + x2 + x3", data, group="school", group_equal="thresholds")
