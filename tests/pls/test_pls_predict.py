"""PLSpredict against the Python seminr port's predict_pls with the same row ordering.

Fixture: tests/fixtures/seminr/port/mobi_predict.json (10 folds, ordering from
numpy default_rng(7), direct antecedents); the port equals R seminr's predict_pls given the
same ordering.  Fold sizes follow R's cut(seq(1, n), breaks = k) (checked by hand for n = 10,
k = 3: (0.991, 4], (4, 7], (7, 10.009] -> 4, 3, 3).
"""

import numpy as np
import pytest

from cbec_sem.errors import DataError, SpecError
from cbec_sem.pls import estimate_pls
from cbec_sem.pls.predict import predict_pls, seminr_folds
from pls_fixtures import HOC, MOBI_SIMPLE, port


def test_folds_follow_r_cut():
    assert np.bincount(seminr_folds(10, 3)).tolist() == [4, 3, 3]
    assert np.bincount(seminr_folds(250, 10)).tolist() == [25] * 10


def test_predictions_match_the_seminr_port(mobi):
    rec = port("mobi_predict")
    est = estimate_pls(MOBI_SIMPLE, mobi)
    pred = predict_pls(est, folds=rec["no_folds"], ordering=rec["ordering"])
    np.testing.assert_allclose(pred.pls.to_numpy(), rec["pls_out_of_sample"]["values"],
                               atol=1e-6, rtol=0)
    np.testing.assert_allclose(pred.lm.to_numpy(), rec["lm_out_of_sample"]["values"],
                               atol=1e-6, rtol=0)
    y = mobi[["CUSA1", "CUSA2", "CUSA3"]].to_numpy()
    rmse = np.sqrt(((y - np.array(rec["pls_out_of_sample"]["values"])) ** 2).mean(axis=0))
    np.testing.assert_allclose(pred.metrics["rmse_pls"], rmse, atol=1e-6, rtol=0)
    assert (pred.metrics["q2_predict"] > 0).all()


def test_repeated_predictions_average_and_are_seeded(mobi):
    est = estimate_pls(MOBI_SIMPLE, mobi)
    a = predict_pls(est, folds=5, reps=2, seed=3, technique="EA")
    b = predict_pls(est, folds=5, reps=2, seed=3, technique="EA")
    np.testing.assert_array_equal(a.pls.to_numpy(), b.pls.to_numpy())
    rng = np.random.default_rng(3)
    o1, o2 = rng.permutation(250), rng.permutation(250)
    one = predict_pls(est, folds=5, ordering=o1, technique="EA").pls.to_numpy()
    two = predict_pls(est, folds=5, ordering=o2, technique="EA").pls.to_numpy()
    np.testing.assert_allclose(a.pls.to_numpy(), (one + two) / 2, atol=1e-12)


def test_bad_requests_are_refused(mobi):
    est = estimate_pls(MOBI_SIMPLE, mobi)
    with pytest.raises(DataError, match="folds"):
        predict_pls(est, folds=251)
    with pytest.raises(SpecError, match="higher-order"):
        predict_pls(estimate_pls(HOC, mobi))
