"""IPMA against seminrExtras' assess_cipma (tests/fixtures/seminr/port/mobi_ipma.json, made by
make_fixtures.py; its weights are the standardised outer weights normalised to sum 1), and the
Ringle & Sarstedt (2016) unstandardised-weight convention by its defining property: the 0-100
performance score is an exact linear transform of the PLS construct score.
"""

import numpy as np
import pytest

from cbec_sem.errors import DataError, SpecError
from cbec_sem.pls import estimate_pls
from cbec_sem.pls.ipma import ipma
from pls_fixtures import MOBI_INTERACTION, MOBI_SIMPLE, port


@pytest.fixture(scope="module")
def rec():
    return port("mobi_ipma")


def test_standardized_weights_match_seminr_extras(mobi, rec):
    est = estimate_pls(rec["model"], mobi)
    res = ipma(est, rec["target"], scale=tuple(rec["scale"]), weights="standardized")
    got = res.constructs.set_index("construct")
    assert set(got.index) == set(rec["performance"])
    for con, value in rec["performance"].items():
        assert got.loc[con, "performance"] == pytest.approx(value, abs=1e-6)
        assert got.loc[con, "importance"] == pytest.approx(rec["importance_unstd"][con],
                                                           abs=1e-6)


def test_unstandardized_performance_is_linear_in_the_score(mobi, rec):
    est = estimate_pls(rec["model"], mobi)
    res = ipma(est, rec["target"], scale=(1, 10))
    ind = res.indicators
    for con in ("Image", "Satisfaction"):
        rows = ind[ind["construct"] == con]
        x = (mobi[list(rows["indicator"])].to_numpy() - 1) / 9 * 100
        perf = x @ rows["weight"].to_numpy()
        assert rows["weight"].sum() == pytest.approx(1.0)
        assert np.corrcoef(perf, est.scores[con])[0, 1] == pytest.approx(1.0, abs=1e-12)
        assert res.constructs.set_index("construct").loc[con, "performance"] == \
            pytest.approx(perf.mean())
    # importance of Satisfaction on Loyalty: its only path, unstandardised by the SD ratio
    sat = res.constructs.set_index("construct").loc["Satisfaction"]
    b = est.params.query("lhs == 'Loyalty' and rhs == 'Satisfaction'")["est"].iloc[0]
    assert sat["importance_std"] == pytest.approx(b)


def test_bad_requests(mobi):
    est = estimate_pls(MOBI_SIMPLE, mobi)
    with pytest.raises(SpecError, match="endogenous"):
        ipma(est, "Image")
    with pytest.raises(DataError, match="outside its scale"):
        ipma(est, "Satisfaction", scale=(1, 7))
    with pytest.raises(SpecError, match="interaction"):
        ipma(estimate_pls(MOBI_INTERACTION, mobi), "Satisfaction")


def test_result_objects_follow_the_protocol(mobi, rec):
    # to_frame(), summary() -> Summary (renders text and Markdown) and a one-line repr
    from cbec_sem.pls import bootstrap_pls, micom, predict_pls

    est = estimate_pls(rec["model"], mobi)
    objects = [est, bootstrap_pls(est, 20, seed=1), predict_pls(est, folds=5, seed=1),
               ipma(est, "Loyalty"), micom(est, np.arange(250) % 2, permutations=20, seed=1)]
    for obj in objects:
        assert len(obj.to_frame()) > 0
        s = obj.summary()
        assert str(s) and s.as_markdown()
        assert "\n" not in repr(obj)
