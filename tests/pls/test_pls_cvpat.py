"""CVPAT (Liengaard et al. 2021; Sharma et al. 2023) on the PLSpredict folds.

The reference comparison with seminrExtras' assess_cvpat (its conventions as options) is in
test_pls_cvpat_seminrextras.py; here the defaults are checked by closed forms and a
simulation with known truth:

* a single-item regression Y ~ X: PLS's out-of-sample prediction is the training OLS line,
  which is also the LM benchmark, so their losses are equal case by case;
* per-construct and overall losses are the PLSpredict errors squared and averaged (RMSE² of a
  single item; 1 − loss_PLS/loss_IA = Q²predict of a single item);
* the paired t test equals scipy's ``ttest_rel``; the bootstrap variance of D̄ tends to
  S_D² (N−1)/N / N, so t_boot → t √(N/(N−1));
* losses with equal expected value (known truth: equal predictive ability) are rejected at
  about the nominal rate by both tests.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cbec_sem.errors import SpecError
from cbec_sem.pls import estimate_pls, predict_pls
from cbec_sem.pls.cvpat import cvpat, cvpat_test

from pls_fixtures import MOBI_SIMPLE


def test_single_item_regression_pls_equals_lm_case_by_case():
    rng = np.random.default_rng(4)
    x = rng.normal(size=60)
    data = pd.DataFrame({"x": x, "y": 0.5 * x + rng.normal(size=60)})
    est = estimate_pls("X =~ x\nY =~ y\nY ~ X", data)
    res = cvpat(est, folds=6, seed=1, bootstrap=0)
    np.testing.assert_allclose(res.losses["PLS:Overall"], res.losses["LM:Overall"],
                               rtol=0, atol=1e-12)
    lm = res.table.set_index("benchmark").loc["LM"]
    assert abs(lm.iloc[0]["diff"]) < 1e-12


def test_losses_are_the_plspredict_errors(mobi):
    est = estimate_pls(MOBI_SIMPLE, mobi)
    pred = predict_pls(est, folds=5, seed=2)
    res = cvpat(pred, bootstrap=0)
    t = res.table.set_index(["benchmark", "construct"])
    rmse = pred.metrics["rmse_pls"].to_numpy()
    assert t.loc[("IA", "Satisfaction"), "loss_pls"] == pytest.approx((rmse**2).mean(),
                                                                      rel=1e-12)
    assert t.loc[("LM", "Overall"), "loss_benchmark"] == pytest.approx(
        (pred.metrics["rmse_lm"] ** 2).mean(), rel=1e-12)
    y, naive = pred.observed["CUSA1"], pred.naive["CUSA1"]
    q2 = 1 - ((y - pred.pls["CUSA1"]) ** 2).sum() / ((y - naive) ** 2).sum()
    assert q2 == pytest.approx(pred.metrics["q2_predict"].iloc[0], rel=1e-12)
    # the paired t test is scipy's, two-sided and one-sided
    ref = stats.ttest_rel(res.losses["IA:Overall"], res.losses["PLS:Overall"])
    assert t.loc[("IA", "Overall"), "t"] == pytest.approx(ref.statistic, rel=1e-10)
    assert t.loc[("IA", "Overall"), "p"] == pytest.approx(ref.pvalue, rel=1e-8)
    one = cvpat(pred, bootstrap=0, alternative="greater").table.set_index(
        ["benchmark", "construct"])
    ref1 = stats.ttest_rel(res.losses["LM:Overall"], res.losses["PLS:Overall"],
                           alternative="greater")
    assert one.loc[("LM", "Overall"), "p"] == pytest.approx(ref1.pvalue, rel=1e-8)
    assert t.loc[("IA", "Overall"), "diff"] > 0      # the mobi model beats the item means


def test_bootstrap_variance_tends_to_the_analytic_one():
    rng = np.random.default_rng(8)
    a, b = rng.chisquare(1, 150), rng.chisquare(1, 150) + 0.2
    out = cvpat_test(a, b, bootstrap=20_000, rng=np.random.default_rng(1))
    # SD of a bootstrap SD from 20,000 draws is about 0.5 %: a 3 % band
    assert out["t_boot"] == pytest.approx(out["t"] * np.sqrt(150 / 149), rel=0.03)
    again = cvpat_test(a, b, bootstrap=500, rng=np.random.default_rng(1))
    assert again == cvpat_test(a, b, bootstrap=500, rng=np.random.default_rng(1))


def test_equal_predictive_ability_is_rejected_at_the_nominal_rate():
    # known truth: per-case losses e1², e2² with e1, e2 exchangeable (correlation .6), so
    # E[D] = 0; 1000 data sets of N = 80; binomial SE of a .05 rate is .007: a .03 band
    rng = np.random.default_rng(2024)
    reject_t = reject_b = 0
    reps = 1000
    for _ in range(reps):
        z = rng.normal(size=(80, 2))
        e1 = z[:, 0]
        e2 = 0.6 * z[:, 0] + 0.8 * z[:, 1]
        out = cvpat_test(e1**2, e2**2, bootstrap=200, rng=rng)
        reject_t += out["p"] < 0.05
        reject_b += out["p_boot"] < 0.05
    assert abs(reject_t / reps - 0.05) < 0.03
    assert abs(reject_b / reps - 0.05) < 0.03


def test_bad_arguments(mobi):
    est = estimate_pls(MOBI_SIMPLE, mobi)
    with pytest.raises(SpecError, match="alternative"):
        cvpat(est, alternative="less")
    with pytest.raises(SpecError, match="benchmarks"):
        cvpat(est, benchmarks=("XX",))
