"""The casewise forms of robust ML's moment-space matrices (``engine/robust_casewise.py``)
against the matrices they avoid forming: Γ from :func:`cbec_sem.engine.gamma.adf_gamma`, W from
:func:`~cbec_sem.engine.gamma.nt_weight`, Δ from :func:`~cbec_sem.engine.gamma.moment_jacobian`
and the (μ, vech Σ) scores from :func:`~cbec_sem.engine.gamma.casewise_scores` (the
definitions of Browne 1984 and Satorra & Bentler 1994 written out in p* × p* form).  The
lavaan agreement of the estimators built on them is in ``test_robust.py``."""

from __future__ import annotations

import numpy as np
import pytest

import cbec_sem as cs
from cbec_sem.engine.gamma import adf_gamma, casewise_scores, moment_jacobian, nt_weight
from cbec_sem.engine.robust_casewise import (casewise_rows, model_scores,
                                             model_weighted_moments, selected_scores,
                                             selected_weight, selected_weighted_moments,
                                             trace_weight_gamma)
from cbec_sem.engine.gamma import vech_indices


def _skewed(n: int, p: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, p)) @ (np.eye(p) + 0.3)
    return np.exp(0.4 * z) + rng.integers(0, 3, size=(n, p))


@pytest.mark.parametrize("meanstructure", [False, True])
@pytest.mark.parametrize("exo", [(), (1,), (0, 3)])
def test_trace_weight_gamma_is_the_trace_of_the_full_matrices(meanstructure, exo):
    y = _skewed(200, 5, 1)
    sigma = np.cov(y.T) + 0.2 * np.eye(5)
    full = float(np.sum(nt_weight(sigma, meanstructure, exo)
                        * adf_gamma(y, meanstructure, exo).T))
    K = np.linalg.inv(sigma)
    got = trace_weight_gamma(0.5 * (K + K.T), casewise_rows(y, exo), meanstructure)
    assert got == pytest.approx(full, rel=1e-12)


def test_h1_trace_is_mardias_kurtosis_closed_form():
    # without covariates and at K = S⁻¹: ½ (mean(m_i²) − p) + p, m_i = d_iᵀ S⁻¹ d_i
    y = _skewed(300, 4, 2)
    d = y - y.mean(axis=0)
    S = d.T @ d / len(y)
    m = np.einsum("ij,jk,ik->i", d, np.linalg.inv(S), d)
    expected = 0.5 * (np.mean(m**2) - 4) + 4
    got = trace_weight_gamma(np.linalg.inv(S), casewise_rows(y), True)
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("selection", [([(0, 0), (1, 1), (2, 2)], [0, 1, 2]),
                                       ([(0, 1), (2, 2), (3, 3)], [2, 3])])
@pytest.mark.parametrize("exo", [(), (0,)])
def test_selected_moments_are_rows_of_the_full_matrices(selection, exo):
    pairs, means = selection
    if exo:
        pairs = [(a, b) for a, b in pairs if a not in exo and b not in exo]
        means = [k for k in means if k not in exo]
    y = _skewed(150, 4, 3)
    p = 4
    sigma = np.diag(np.var(y, axis=0))
    K = np.linalg.inv(sigma)
    r, c = vech_indices(p)
    cov_idx = [int(np.flatnonzero(((r == a) & (c == b)) | ((r == b) & (c == a)))[0]) + p
               for a, b in pairs]
    sel = np.array(cov_idx + list(means))
    W = nt_weight(sigma, True, exo)
    assert np.allclose(selected_weight(K, pairs, means), W[np.ix_(sel, sel)], rtol=1e-13)
    G = adf_gamma(y, True, exo)
    t = selected_weighted_moments(K, casewise_rows(y, exo), pairs, means, True)
    assert np.allclose(t.T @ t / len(y), (W @ G @ W)[np.ix_(sel, sel)], rtol=1e-11)
    mu = y.mean(axis=0)
    sc = selected_scores(K, y - mu, pairs, means)
    assert np.allclose(sc, casewise_scores(y, sigma, mu, True, exo)[:, sel], rtol=1e-12)


@pytest.fixture(scope="module")
def mimic():
    """A MIMIC model with a fixed covariate (x1) and a mean structure, fitted by ML."""
    rng = np.random.default_rng(4)
    n = 250
    x = rng.standard_normal(n)
    f = 0.6 * x + rng.standard_normal(n)
    data = {"x1": x}
    for j in range(4):
        data[f"y{j}"] = np.round(2 + 0.8 * f + np.exp(0.5 * rng.standard_normal(n)), 0)
    import pandas as pd

    res = cs.fit("F =~ y0 + y1 + y2 + y3\nF ~ x1", pd.DataFrame(data), meanstructure=True)
    return res.estimation


def test_model_terms_are_the_full_products(mimic):
    est = mimic
    ram = est.ram
    exo = tuple(est.stats.names.index(v) for v in est.partable.roles.ov_x)
    assert exo
    y = est.stats.data[0]
    mom = ram.moments(est.theta)[0]
    delta = moment_jacobian(ram, [mom], True)[0]
    W = nt_weight(mom.sigma, True, exo)
    G = adf_gamma(y, True, exo)
    K = np.linalg.inv(mom.sigma)
    t = model_weighted_moments(ram, mom, 0, 0.5 * (K + K.T), casewise_rows(y, exo), True)
    full = delta.T @ W @ G @ W @ delta
    assert np.allclose(t.T @ t / len(y), full, rtol=1e-10, atol=1e-14 * np.abs(full).max())
    sc = model_scores(ram, mom, 0, y, mom.mu, True)
    assert np.allclose(sc, casewise_scores(y, mom.sigma, mom.mu, True, exo) @ delta,
                       rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("meanstructure", [False, True])
def test_observed_weight_terms_are_the_full_products(mimic, meanstructure):
    """MLM with information='observed': the saturated model's observed information at the
    model-implied moments (:func:`cbec_sem.engine.fiml.h1_information`, one pattern) as W."""
    from cbec_sem.engine.fiml import h1_information
    from cbec_sem.engine.patterns import pattern_stats
    from cbec_sem.engine.robust_casewise import (observed_model_information,
                                                 observed_model_weighted_moments,
                                                 observed_trace_weight_gamma, observed_weight)

    est = mimic
    ram = est.ram
    exo = tuple(est.stats.names.index(v) for v in est.partable.roles.ov_x)
    y = est.stats.data[0]
    p = y.shape[1]
    mom = ram.moments(est.theta)[0]
    mean = y.mean(axis=0)
    cov = np.cov(y.T, bias=True)
    # a model-implied mean away from the sample mean, so that the cross terms count
    mu = mom.mu + 0.05 if meanstructure else mean
    W = h1_information(pattern_stats(y, est.stats.names), mu, mom.sigma, "observed", exo)
    if not meanstructure:
        W = W[p:, p:]
    delta = moment_jacobian(ram, [mom], meanstructure)[0]
    G = adf_gamma(y, meanstructure, exo)
    w = observed_weight(mom.sigma, mu, mean, cov)
    rows = casewise_rows(y, exo)
    assert observed_trace_weight_gamma(w, rows, meanstructure) == pytest.approx(
        float(np.sum(W * G.T)), rel=1e-11)
    full = delta.T @ W @ G @ W @ delta
    t = observed_model_weighted_moments(ram, mom, 0, w, rows, meanstructure)
    assert np.allclose(t.T @ t / len(y), full, rtol=1e-9, atol=1e-13 * np.abs(full).max())
    info = delta.T @ W @ delta
    assert np.allclose(observed_model_information(ram, mom, 0, w, meanstructure), info,
                       rtol=1e-10, atol=1e-13 * np.abs(info).max())
