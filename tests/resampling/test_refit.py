"""The lean refit computes exactly what the engine computes, only faster.

* its fit function and gradient equal :class:`~cbec_sem.engine.ml.MLFunction`'s on single- and
  multi-group models, with mean structures, shared labels, ``==`` constraints and fixed-x
  covariates;
* its ``std.all`` values equal :func:`~cbec_sem.engine.standardize.standardized_rows`;
* refitting the full sample (all counts 1) returns θ̂ untouched, and refitting a resample gives
  the estimates a full ``cs.fit`` of the resampled rows gives;
* the default tolerance (max |gradient| < 1e-6) leaves estimates within 1e-3 standard errors of
  the engine's 1e-9 optimum, far below any bootstrap's Monte Carlo error.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import cbec_sem as cs
from cbec_sem.engine.standardize import standardized_rows
from cbec_sem.engine.threads import single_threaded_blas
from cbec_sem.resampling.batch import MomentStack, block_form, evaluate_batch, refit_batch
from cbec_sem.resampling.refit import OK, RefitPlan, topological_order

from shared_fits import CASES, data_of, fit_of, model_of

ALL = sorted(CASES)


def _counts(plan, rng):
    return [np.bincount(rng.integers(0, g.nobs, g.nobs), minlength=g.nobs) for g in plan.groups]


@pytest.mark.parametrize("case", ALL)
def test_function_and_gradient_match_engine(case):
    est = fit_of(case).estimation
    plan = RefitPlan(est)
    mom = plan.full_sample_moments()
    rng = np.random.default_rng(0)
    with single_threaded_blas():
        for _ in range(3):
            theta = est.theta + 0.02 * rng.standard_normal(est.theta.size)
            value, grad = plan.evaluate(theta, mom)
            ev = est.function.evaluate(theta, gradient=True)
            assert value == pytest.approx(ev.value, rel=1e-12, abs=1e-12)
            np.testing.assert_allclose(grad, ev.gradient, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", ALL)
def test_full_sample_refit_and_std_all(case):
    est = fit_of(case).estimation
    plan = RefitPlan(est)
    with single_threaded_blas():
        draw = plan.refit([np.ones(g.nobs) for g in plan.groups])
    assert draw.status == OK and draw.iterations == 0
    np.testing.assert_allclose(draw.rows, est.partable.frame["est"].to_numpy(), atol=1e-12)
    std = standardized_rows(est.ram, est.ram.row_values(est.theta), "std.all")
    np.testing.assert_array_equal(np.isnan(draw.std), np.isnan(std))
    np.testing.assert_allclose(draw.std, std, atol=1e-12)


@pytest.mark.parametrize("case", ["paper_sim", "hs_mimic", "hs_school_metric",
                                  "hs_cfa_constrained"])
def test_resample_refit_equals_full_fit_of_resampled_rows(case):
    """The counts-based moments, fixed-x handling and warm-started quasi-Newton land where a
    fresh cs.fit of the resampled data frame lands."""
    res = fit_of(case)
    est = res.estimation
    plan = RefitPlan(est, tol=1e-9)
    rng = np.random.default_rng(7)
    counts = _counts(plan, rng)
    with single_threaded_blas():
        draw = plan.refit(counts)
    data = data_of(case)
    group = CASES[case][2].get("group")
    # Rebuild the resampled rows: the complete cases of each group, repeated by their counts.
    frames = []
    labels = est.stats.group_labels
    complete = data.dropna(subset=list(est.stats.names))
    for g, c in enumerate(counts):
        block = complete if group is None else complete[complete[group] == labels[g]]
        frames.append(block.loc[block.index.repeat(c)])
    import pandas as pd

    resampled = pd.concat(frames, ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = cs.fit(model_of(case), resampled, **CASES[case][2])
    assert full.converged.optimizer_converged and draw.status <= 1
    se = np.where(res.params["se"].to_numpy()[: plan.nrows] > 0,
                  res.params["se"].to_numpy()[: plan.nrows], 1.0)
    diff = np.abs(draw.rows - full.partable["est"].to_numpy()) / se
    assert diff.max() < 1e-5
    np.testing.assert_allclose(draw.std, full.params["std.all"].to_numpy()[: plan.nrows],
                               atol=1e-5)


@pytest.mark.parametrize("case", ["paper_sim", "poldem"])
def test_default_tolerance_is_far_below_monte_carlo_error(case):
    res = fit_of(case)
    est = res.estimation
    loose, tight = RefitPlan(est), RefitPlan(est, tol=1e-10)
    se = res.params["se"].to_numpy()[: loose.nrows]
    free = se > 0
    rng = np.random.default_rng(3)
    worst = 0.0
    with single_threaded_blas():
        for _ in range(20):
            counts = _counts(loose, rng)
            a, b = loose.refit(counts), tight.refit(counts)
            if a.status <= 1 and b.status <= 1:
                worst = max(worst, float(np.max(np.abs(a.rows - b.rows)[free] / se[free])))
    assert worst < 1e-3


def test_topological_order():
    # 0 <- 1 <- 2 (A[0,1], A[1,2]): parents first
    order = topological_order(3, np.array([0, 1]), np.array([1, 2]))
    assert list(order) == [2, 1, 0]
    assert topological_order(2, np.array([0, 1]), np.array([1, 0])) is None  # a loop
    assert topological_order(2, np.array([0]), np.array([0])) is None


def test_nonrecursive_model_uses_the_general_inverse():
    """A feedback loop (y1 ~ y2, y2 ~ y1) makes I − A non-triangular; the plan notices and
    still matches the engine."""
    rng = np.random.default_rng(5)
    n = 400
    x1, x2 = rng.standard_normal(n), rng.standard_normal(n)
    e1, e2 = rng.standard_normal(n), rng.standard_normal(n)
    # y1 = .4 y2 + .6 x1 + e1 ; y2 = .3 y1 + .5 x2 + e2
    Bm = np.array([[1, -0.4], [-0.3, 1]])
    rhs = np.column_stack([0.6 * x1 + e1, 0.5 * x2 + e2])
    y = np.linalg.solve(Bm, rhs.T).T
    import pandas as pd

    df = pd.DataFrame({"y1": y[:, 0], "y2": y[:, 1], "x1": x1, "x2": x2})
    res = cs.fit("y1 ~ y2 + x1\ny2 ~ y1 + x2", df)
    assert res.converged
    plan = RefitPlan(res.estimation)
    assert not plan.recursive
    mom = plan.full_sample_moments()
    theta = res.estimation.theta + 0.01
    with single_threaded_blas():
        value, grad = plan.evaluate(theta, mom)
        ev = res.estimation.function.evaluate(theta, gradient=True)
        assert value == pytest.approx(ev.value, rel=1e-12)
        np.testing.assert_allclose(grad, ev.gradient, rtol=1e-9, atol=1e-12)
        draw = plan.refit(_counts(plan, np.random.default_rng(1)))
    assert draw.status == OK


@pytest.mark.parametrize("case", ALL)
def test_batched_refits_equal_one_at_a_time_refits(case):
    """batch.refit_batch (the bootstrap's path) reaches the optimum RefitPlan.refit reaches,
    draw by draw (both stop within the 1e-6 gradient tolerance, so they agree far below a
    standard error), and a draw's numbers do not depend on the draws batched with it."""
    est = fit_of(case).estimation
    plan = RefitPlan(est)
    rng = np.random.default_rng(7)
    counts = [_counts(plan, rng) for _ in range(6)]
    with single_threaded_blas():
        one = [plan.refit(c) for c in counts]
        batch = refit_batch(plan, counts)
        part = refit_batch(plan, counts[2:4])
    se = np.where(est.partable.frame["se"].to_numpy() > 0, est.partable.frame["se"], 1.0)
    for a, b in zip(one, batch):
        assert a.status == b.status
        np.testing.assert_allclose(b.rows / se, a.rows / se, atol=1e-3)
    for a, b in zip(batch[2:4], part):
        np.testing.assert_array_equal(a.rows, b.rows)
        np.testing.assert_array_equal(a.std, b.std)


def test_batched_function_matches_engine_and_flags_non_positive_definite_draws():
    """evaluate_batch gives the engine's F and gradient draw by draw, and inf for a draw whose
    Σ(θ) is not positive definite without disturbing the others (the slice-by-slice path)."""
    est = fit_of("poldem").estimation
    plan = RefitPlan(est)
    mom = plan.full_sample_moments()
    stack = MomentStack(plan, [mom, mom, mom])
    rng = np.random.default_rng(3)
    theta = est.theta + 0.02 * rng.standard_normal((3, est.theta.size))
    var = [r for r in plan.var_rows if est.partable.frame["lhs"].iat[r] == "y1"][0]
    theta[1, plan.free_index[var]] = -50.0  # a large negative residual variance
    with single_threaded_blas():
        value, grad = evaluate_batch(plan, theta, stack)
    assert np.isinf(value[1]) and np.isfinite(value[[0, 2]]).all()
    for t in (0, 2):
        ev = est.function.evaluate(theta[t], gradient=True)
        assert value[t] == pytest.approx(ev.value, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(grad[t], ev.gradient, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", ALL)
def test_block_form_gives_the_general_form_s_function_and_gradient(case):
    """For models in LISREL block form (no observed predictor, no observed-latent covariance)
    evaluate_batch works on Λ, Β, Θ, Ψ; its F and gradient equal the general n × n form's and
    the engine's (MLFunction) to rounding.  hs_mimic (observed predictors) has no block form."""
    est = fit_of(case).estimation
    plan = RefitPlan(est)
    blocks = block_form(plan)
    assert (blocks is None) == (case == "hs_mimic")
    if blocks is None:
        return
    mom = plan.full_sample_moments()
    stack = MomentStack(plan, [mom] * 3)
    theta = est.theta + 0.02 * np.random.default_rng(5).standard_normal((3, est.theta.size))
    with single_threaded_blas():
        value, grad = evaluate_batch(plan, theta, stack)
        general = copy.copy(plan)
        general._block_form = None
        value_g, grad_g = evaluate_batch(general, theta, stack)
    np.testing.assert_allclose(value, value_g, rtol=1e-12)
    np.testing.assert_allclose(grad, grad_g, rtol=1e-9, atol=1e-12)
    for t in range(3):
        ev = est.function.evaluate(theta[t], gradient=True)
        assert value[t] == pytest.approx(ev.value, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(grad[t], ev.gradient, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", ALL)
def test_batched_description_equals_one_at_a_time(case):
    """batch.describe_batch (k draws' rows, std.all and admissibility from stacked matrices)
    gives RefitPlan.describe's numbers draw by draw: rows exactly, std.all to rounding (the
    stacked (I − A)⁻¹ is a sum of powers of A, the single one a triangular inverse)."""
    from cbec_sem.resampling.batch import describe_batch

    est = fit_of(case).estimation
    plan = RefitPlan(est)
    rng = np.random.default_rng(11)
    counts = [_counts(plan, rng) for _ in range(5)]
    with single_threaded_blas():
        draws = refit_batch(plan, counts)
        moms = [plan.moments(c) for c in counts]
        thetas = [plan.theta_of(d.x) for d in draws]
        batched = describe_batch(plan, thetas, moms)
    for theta, mom, (rows, std, admissible) in zip(thetas, moms, batched):
        rows1, std1, admissible1 = plan.describe(theta, mom)
        np.testing.assert_array_equal(rows, rows1)
        np.testing.assert_array_equal(np.isnan(std), np.isnan(std1))
        np.testing.assert_allclose(std, std1, rtol=1e-12, atol=1e-14)
        assert admissible == admissible1
