"""cIPMA (IPMA + NCA on PLS scores) against seminrExtras' ``assess_cipma`` (Python port 0.1.0).

Fixture: tests/fixtures/cipma/mobi_cipma.json, made by
tests/fixtures/cipma/make_cipma_fixture.py (mobi, target Loyalty, scale 1..10, NCA without
permutation test).  seminrExtras' conventions are ``weights="standardized"`` (normalised
outer weights) and ``nca_scores="pls"`` (NCA on the standardised construct scores).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cbec_sem.errors import SpecError
from cbec_sem.pls import estimate_pls
from cbec_sem.propositions.cipma import cipma

REC = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "cipma"
                  / "mobi_cipma.json").read_text())


@pytest.fixture(scope="module")
def est(mobi):
    return estimate_pls(REC["model"], mobi)


def test_matches_seminrextras_assess_cipma(est):
    res = cipma(est, REC["target"], scale=tuple(REC["scale"]), weights="standardized",
                nca_scores="pls")
    t = res.table.set_index("construct")
    assert list(t.index) == list(REC["importance_unstd"])
    for c in t.index:
        assert t.loc[c, "importance"] == pytest.approx(REC["importance_unstd"][c], abs=1e-6)
        assert t.loc[c, "performance"] == pytest.approx(REC["performance"][c], abs=1e-6)
    eff = res.nca.effects.set_index(["condition", "ceiling"])["d"]
    for c, ds in REC["nca_effect_sizes"].items():
        for ceiling, d in ds.items():
            assert eff[(c, ceiling)] == pytest.approx(d, abs=1e-6), (c, ceiling)
    # bottleneck tables (percent of range): seminrExtras stores them rounded to 1 decimal
    # (as R NCA prints them), with "not necessary" as 0 (CE-FDH) or NaN (CR-FDH)
    for ceiling, ref in REC["bottleneck"].items():
        ref = pd.DataFrame(ref["values"], columns=ref["cols"])
        got = res.nca.bottlenecks("percentage", ceiling, numeric=True)
        for c in ref.columns[1:]:
            mine, theirs = got[c].to_numpy(), ref[c].to_numpy()
            nn = ~np.isfinite(mine)
            assert np.all((theirs[nn] == 0) | np.isnan(theirs[nn])), (ceiling, c)
            np.testing.assert_allclose(np.round(mine[~nn], 1), theirs[~nn], atol=1e-9)
    for row in REC["classification"]:
        got = t.loc[row["construct"]]
        assert (bool(got["high_importance"]), bool(got["necessary"]), got["priority"]) == (
            row["high_importance"], row["necessary"], row["priority"])


def test_nca_on_performance_scores_equals_nca_on_pls_scores_for_unstandardised_weights(est):
    # unstandardised IPMA weights make each performance score an increasing linear transform
    # of the PLS score; NCA's d is invariant to such transforms (scope-normalised ceiling zone)
    a = cipma(est, "Loyalty", scale=(1, 10)).nca.effects["d"].to_numpy()
    b = cipma(est, "Loyalty", scale=(1, 10), nca_scores="pls").nca.effects["d"].to_numpy()
    np.testing.assert_allclose(a, b, atol=1e-10, rtol=0)
    perf = cipma(est, "Loyalty", scale=(1, 10)).ipma.case_performance
    assert perf["Image"].corr(est.scores["Image"]) == pytest.approx(1, abs=1e-12)


def test_bad_requests_are_refused(est):
    with pytest.raises(SpecError, match="nca_scores"):
        cipma(est, "Loyalty", nca_scores="latent")
    with pytest.raises(SpecError, match="necessity_ceiling"):
        cipma(est, "Loyalty", ceilings=("cr_fdh",))
    with pytest.raises(SpecError, match="PLS fit"):
        cipma(pd.DataFrame(), "Loyalty")
