"""The fast paths of the covariance-structure fit (issues 14 and 15) against the direct
computations they replace.

* the information gathered from Zᵀ K Z (``ml.information_rows``) against the rank-2 formula
  I_ab = (vₐᵀKu_b)(uₐᵀKv_b) + (uₐᵀKu_b)(vₐᵀKv_b) + dₐᵀKd_b formed from the factors U, V, D of
  ``RamModel.derivative_factors`` (Neudecker & Satorra 1991; Bollen 1989, eq. 4.73);
* B = (I − A)⁻¹ as a finite sum for recursive models against ``np.linalg.inv``;
* the Fisher-scoring curvature (Cholesky factor of the information plus BFGS pairs applied by
  the two-loop recursion) against the dense BFGS update solved by LU (Nocedal & Wright 2006,
  eq. 6.19);
* the covariance of θ̂ and the Lanczos eigenvalue ratio from 300 parameters against
  ``np.linalg.inv`` and the full ``np.linalg.eigvalsh``.
"""

from __future__ import annotations

import numpy as np
import pytest

import cbec_sem as cs
from cbec_sem.engine.constraints import Reparametrization
from cbec_sem.engine.estimators import estimate
from cbec_sem.engine.inference import (LANCZOS_PARAMETERS, SINGULAR_INFORMATION,
                                       covariance_of_theta, scale_free_information_ratio)
from cbec_sem.engine.optimizer import _Curvature
from cbec_sem.engine.options import FitOptions
from cbec_sem.engine.ram import path_depth

HS = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
MODELS = {
    "cfa_means_two_groups_equal_loadings": (
        cs.datasets.holzinger_swineford_1939, HS, "school",
        FitOptions(meanstructure=True, group_equal=("loadings", "intercepts"))),
    "second_order_with_means": (
        cs.datasets.example_survey, cs.paper_model().to_lavaan(), "channel", FitOptions()),
    "path_fixed_x": (
        cs.datasets.political_democracy, "y1 ~ x1 + x2\n y5 ~ y1 + x1", None, FitOptions()),
}


def rank_two_information(function, theta):
    """The expected information from the explicit factors U, V, D (the former code path)."""
    ram = function.ram
    q = ram.nfree
    info = np.zeros((q, q))
    for g, mom in enumerate(ram.moments(theta)):
        K = np.linalg.inv(mom.sigma)
        U, V, D = ram.derivative_factors(mom, g)
        ukv = U.T @ K @ V
        rows = ukv.T * ukv + (U.T @ K @ U) * (V.T @ K @ V)
        if function.meanstructure:
            rows = rows + D.T @ K @ D
        params = ram.layouts[g].free_param
        np.add.at(info, np.ix_(params, params), function.weights[g] * rows)
    return info


@pytest.mark.parametrize("name", list(MODELS))
def test_gathered_information_equals_the_rank_two_formula(name):
    load, syntax, group, options = MODELS[name]
    est = estimate(cs.ModelSpec.from_lavaan(syntax).statements, load(), options, group)
    rng = np.random.default_rng(3)
    theta = est.theta + 0.02 * rng.standard_normal(est.theta.size)  # off the optimum
    fast = est.function.evaluate(theta, information=True).information
    direct = rank_two_information(est.function, theta)
    np.testing.assert_allclose(fast, direct, rtol=1e-10, atol=1e-12 * np.abs(direct).max())
    assert np.array_equal(fast, fast.T)


@pytest.mark.parametrize("name", list(MODELS))
def test_finite_sum_b_equals_the_inverse(name):
    load, syntax, group, options = MODELS[name]
    est = estimate(cs.ModelSpec.from_lavaan(syntax).statements, load(), options, group)
    ram = est.ram
    values = ram.row_values(est.theta)
    for g in range(ram.ngroups):
        assert ram.path_depth[g] is not None  # all three models are recursive
        A = ram.matrices(values, g)[0]
        np.testing.assert_allclose(ram.inverse_i_minus_a(A, g),
                                   np.linalg.inv(np.eye(ram.n) - A), atol=1e-13)


def test_path_depth_of_small_graphs():
    # edges j -> i for A[i, j]
    assert path_depth(3, np.array([1, 2]), np.array([0, 1])) == 2  # 0 -> 1 -> 2
    assert path_depth(3, np.array([1, 2, 2]), np.array([0, 1, 0])) == 2
    assert path_depth(2, np.array([], dtype=int), np.array([], dtype=int)) == 0
    assert path_depth(2, np.array([1, 0]), np.array([0, 1])) is None  # a feedback loop
    assert path_depth(2, np.array([1]), np.array([1])) is None  # a self-loop


def test_nonrecursive_model_keeps_the_general_inverse():
    data = cs.datasets.political_democracy()
    est = estimate(cs.ModelSpec.from_lavaan(
        "y1 ~ y2 + x1\n y2 ~ y1 + x2").statements, data, FitOptions(), None)
    assert est.ram.path_depth[0] is None


def _spd(q, seed, condition=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2 * q, q))
    M = X.T @ X / (2 * q)
    scale = np.exp(rng.uniform(-3, 3, q))  # unequal units, as parameters have
    return M * scale[:, None] * scale[None, :]


def test_two_loop_curvature_equals_the_dense_bfgs_update():
    q = 40
    H0 = _spd(q, 1)
    rng = np.random.default_rng(2)
    curvature = _Curvature(H0)
    dense = H0.copy()
    for _ in range(6):
        s = rng.standard_normal(q)
        y = H0 @ s + 0.1 * rng.standard_normal(q)
        curvature.update(s, y)
        Hs = dense @ s
        dense = dense + np.outer(y, y) / (s @ y) - np.outer(Hs, Hs) / (s @ Hs)
        g = rng.standard_normal(q)
        np.testing.assert_allclose(curvature.solve(g), np.linalg.solve(dense, g), rtol=1e-8)


def test_curvature_of_an_indefinite_matrix_falls_back_to_lu():
    H = np.diag([1.0, -2.0, 3.0])
    g = np.array([1.0, 1.0, 1.0])
    np.testing.assert_allclose(_Curvature(H).solve(g), np.linalg.solve(H, g))


@pytest.mark.parametrize("q", [40, LANCZOS_PARAMETERS + 20])
def test_covariance_and_ratio_equal_the_dense_computations(q):
    info = _spd(q, 4)
    reparam = Reparametrization(np.zeros(q), np.eye(q), 0)
    vcov, ratio = covariance_of_theta(info, reparam, 250.0)
    np.testing.assert_allclose(vcov, np.linalg.inv(250.0 * info), rtol=1e-9,
                               atol=1e-12 * np.abs(np.linalg.inv(250.0 * info)).max())
    assert ratio == pytest.approx(scale_free_information_ratio(info), rel=1e-8)


def test_near_singular_large_information_takes_the_full_decomposition():
    q = LANCZOS_PARAMETERS + 10
    info = _spd(q, 5)
    info[:, 7] = info[:, 8] * (1 + 1e-9)  # two parameters the data barely separate
    info[7, :] = info[:, 7]
    info[7, 7] = info[8, 8] * (1 + 2e-9)
    reparam = Reparametrization(np.zeros(q), np.eye(q), 0)
    _, ratio = covariance_of_theta(info, reparam, 100.0)
    assert ratio == scale_free_information_ratio(info)
    assert ratio < 1e4 * SINGULAR_INFORMATION


def test_lanczos_failure_falls_back_to_the_full_decomposition(monkeypatch):
    import cbec_sem.engine.inference as inference

    monkeypatch.setattr(inference, "_largest_eigenvalue", lambda matrix: None)
    q = LANCZOS_PARAMETERS + 5
    info = _spd(q, 6)
    reparam = Reparametrization(np.zeros(q), np.eye(q), 0)
    vcov, ratio = covariance_of_theta(info, reparam, 100.0)
    assert ratio == scale_free_information_ratio(info)
    np.testing.assert_allclose(vcov, np.linalg.inv(100.0 * info), rtol=1e-9,
                               atol=1e-12 * np.abs(np.linalg.inv(100.0 * info)).max())
