"""The closed-form observed information equals the engine's numerical Hessian.

Reference: :func:`cbec_sem.engine.inference.observed_information_x` (central differences of
the analytic gradient, lavaan's ``lav_model_hessian()``), whose own truncation error is about
1e-8 here.  The cases cover single- and multi-group models, mean structures, shared labels,
``==`` constraints and fixed-x covariates (tests/resampling/shared_fits.py), at θ̂ and at points
away from it (where the data-dependent terms of the Hessian do not vanish).
"""

from __future__ import annotations

import numpy as np
import pytest

from cbec_sem.engine.threads import single_threaded_blas
from cbec_sem.power.observed import (_numerical, expected_information, first_order,
                                     observed_information)
from cbec_sem.resampling.refit import RefitPlan

from shared_fits import CASES, fit_of


@pytest.mark.parametrize("case", sorted(CASES))
def test_closed_form_equals_numerical_hessian(case):
    est = fit_of(case).estimation
    plan = RefitPlan(est)
    mom = plan.full_sample_moments()
    rng = np.random.default_rng(5)
    with single_threaded_blas():
        for shift in (0.0, 0.02):
            theta = plan.theta_of(plan.basis.T @ (est.theta - plan.theta0)
                                  if not plan.identity else est.theta)
            theta = theta + shift * (plan.basis @ rng.standard_normal(plan.basis.shape[1]))
            exact = observed_information(plan, theta, mom)
            numeric = _numerical(plan, theta, mom)
            scale = np.abs(numeric).max()
            np.testing.assert_allclose(exact, numeric, rtol=0, atol=1e-6 * scale)


@pytest.mark.parametrize("case", ["paper_sim", "poldem", "hs_cfa_constrained"])
def test_closed_form_scores_equal_the_engines_first_order_information(case):
    """Reference: :func:`cbec_sem.engine.robust.first_order_information` (scores in
    (μ, vech Σ) times the moment Jacobian Δ, lavaan's ``lav_model_information_firstorder``)."""
    from cbec_sem.engine.gamma import moment_jacobian
    from cbec_sem.engine.robust import first_order_information

    est = fit_of(case).estimation
    plan = RefitPlan(est)
    mom = plan.full_sample_moments()
    data = np.vstack(est.stats.complete_data)
    theta = est.theta + 0.01 * (plan.basis @ np.ones(plan.basis.shape[1]))
    with single_threaded_blas():
        exact = first_order(plan, theta, mom, data)
        moments = est.ram.moments(theta)
        delta = moment_jacobian(est.ram, moments, plan.meanstructure)[0]
        mu = moments[0].mu if plan.meanstructure else data.mean(axis=0)
        meat = first_order_information(data, delta, moments[0].sigma, mu, plan.meanstructure)
    np.testing.assert_allclose(exact, plan.basis.T @ meat @ plan.basis, rtol=1e-9,
                               atol=1e-12 * np.abs(meat).max())


@pytest.mark.parametrize("case", sorted(CASES))
def test_closed_form_expected_information_equals_the_engines(case):
    """Reference: :class:`cbec_sem.engine.ml.MLFunction`'s expected information (Δᵀ W Δ)."""
    est = fit_of(case).estimation
    plan = RefitPlan(est)
    mom = plan.full_sample_moments()
    theta = est.theta + 0.01 * (plan.basis @ np.ones(plan.basis.shape[1]))
    with single_threaded_blas():
        exact = expected_information(plan, theta, mom)
        info = est.function.evaluate(theta, information=True).information
    np.testing.assert_allclose(exact, plan.basis.T @ info @ plan.basis, rtol=1e-10,
                               atol=1e-12 * np.abs(info).max())
