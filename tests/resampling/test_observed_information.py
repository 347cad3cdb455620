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

from shared_fits import CASES, REPO, fit_of


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


FIML_CASES = {
    "cfa": ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
            "textual ~ visual", {}),
    "groups": ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual",
               {"group": "school", "group_equal": ["loadings"]}),
    "mimic_free_x": ("visual =~ x1 + x2 + x3\nvisual ~ ageyr + grade", {"fixed_x": False}),
}


@pytest.mark.parametrize("case", sorted(FIML_CASES))
def test_fiml_closed_form_hessian_equals_numerical(case):
    """FIML's observed information (lavaan's default for missing = "ml") as the sum of the
    missing-data patterns' ML Hessians equals central differences of FIML's analytic
    gradient, at θ̂ and away from it, with groups, equal loadings and free covariates
    (HolzingerSwineford1939 with MCAR holes, tests/fixtures/data/hs_mcar.csv)."""
    import warnings

    import pandas as pd

    import cbec_sem as cs
    from cbec_sem.engine.inference import observed_information_x, parameter_scale
    from cbec_sem.engine.observed_information import closed_form_hessian

    model, options = FIML_CASES[case]
    data = pd.read_csv(REPO / "tests/fixtures/data/hs_mcar.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = cs.fit(model, data, missing="fiml", **options).estimation
    f, rp = est.function, est.reparam
    x_hat = rp.x(est.theta)
    rng = np.random.default_rng(2)
    for x in (x_hat, x_hat + 0.02 * rng.standard_normal(x_hat.size)):
        numeric = observed_information_x(f.evaluate, rp, x, parameter_scale(f.evaluate, rp, x))
        exact = rp.basis.T @ closed_form_hessian(f, rp.theta(x)) @ rp.basis
        np.testing.assert_allclose(exact, numeric, rtol=0, atol=1e-6 * np.abs(numeric).max())
