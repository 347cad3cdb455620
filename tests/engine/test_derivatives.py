"""The analytic derivatives of the ML fit function against finite differences.

The gradient (Neudecker & Satorra 1991) must equal central differences of F; the expected
information must equal the Hessian of F at a model that fits exactly (Σ(θ) = S, x̄ = μ(θ)),
where the observed and expected information coincide (Bollen 1989, eq. 4.73).
"""

from __future__ import annotations

import numpy as np
import pytest

import cbec_sem as cs
from cbec_sem.engine.estimators import estimate
from cbec_sem.engine.ml import MLFunction
from cbec_sem.engine.options import FitOptions
from cbec_sem.engine.samplestats import SampleStats

MODELS = {
    "cfa": (cs.datasets.holzinger_swineford_1939,
            "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9", None),
    "sem_second_order_means": (
        cs.datasets.example_survey, cs.paper_model().to_lavaan(), "channel"),
    "path_fixed_x": (cs.datasets.political_democracy, "y1 ~ x1 + x2\n y5 ~ y1 + x1", None),
}


def numeric_gradient(f, theta, h=1e-6):
    out = np.empty_like(theta)
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = h
        out[k] = (f(theta + e) - f(theta - e)) / (2 * h)
    return out


@pytest.mark.parametrize("name", list(MODELS))
def test_gradient_matches_finite_differences(name):
    load, syntax, group = MODELS[name]
    est = estimate(cs.ModelSpec.from_lavaan(syntax).statements, load(), FitOptions(), group)
    rng = np.random.default_rng(1)
    theta = est.theta + 0.02 * rng.standard_normal(est.theta.size)  # off the optimum
    analytic = est.function.evaluate(theta, gradient=True).gradient
    numeric = numeric_gradient(est.function.value, theta)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", list(MODELS))
def test_expected_information_is_the_hessian_under_exact_fit(name):
    load, syntax, group = MODELS[name]
    est = estimate(cs.ModelSpec.from_lavaan(syntax).statements, load(), FitOptions(), group)
    # Replace the sample moments by the model-implied ones: then θ̂ fits exactly.
    moments = est.ram.moments(est.theta)
    exact = SampleStats(
        names=est.stats.names, group_labels=est.stats.group_labels, nobs=est.stats.nobs,
        means=tuple(m.mu if est.meanstructure else s for m, s in zip(moments, est.stats.means)),
        covs=tuple(m.sigma for m in moments), data=est.stats.data, rows_dropped=0,
        rows_total=est.stats.rows_total,
    )
    f = MLFunction(est.ram, exact, est.meanstructure)
    assert f.value(est.theta) == pytest.approx(0.0, abs=1e-12)
    info = f.evaluate(est.theta, information=True).information
    q, h = est.theta.size, 1e-5
    hess = np.empty((q, q))
    for k in range(q):
        e = np.zeros(q)
        e[k] = h
        hess[:, k] = (f.evaluate(est.theta + e, gradient=True).gradient
                      - f.evaluate(est.theta - e, gradient=True).gradient) / (2 * h)
    np.testing.assert_allclose(info, 0.5 * (hess + hess.T), atol=1e-6)
