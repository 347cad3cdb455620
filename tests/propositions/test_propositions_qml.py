"""QML (Klein & Muthén 2007): modsem's oneInt reference, the closed-form conditional moments,
agreement with LMS, endogenous operands, and what QML refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

import cbec_sem as cs
from cbec_sem.errors import SpecError
from cbec_sem.propositions.interaction import InteractionFit, fit_lms, fit_qml
from cbec_sem.engine.latent.qml import QMLObjective

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "modsem"

ONEINT = """
X =~ x1 + x2 + x3
Z =~ z1 + z2 + z3
Y =~ y1 + y2 + y3
Y ~ X + Z + X:Z
"""
REFERENCE_LOGLIK = -17493.647


@pytest.fixture(scope="module")
def oneint() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "modsem_oneInt.csv")


@pytest.fixture(scope="module")
def qml(oneint) -> InteractionFit:
    return fit_qml(ONEINT, oneint)


@pytest.fixture(scope="module")
def compared(qml) -> pd.DataFrame:
    ref = pd.read_csv(FIXTURES / "modsem_oneInt_qml_estimates.csv")
    ref["rhs"] = ref["rhs"].fillna("")
    merged = qml.params.merge(ref[["lhs", "op", "rhs", "est", "std.error"]],
                              on=["lhs", "op", "rhs"], suffixes=("", "_modsem"))
    assert len(merged) == len(ref)
    return merged


def test_every_estimate_within_0005_of_modsem(compared):
    diff = (compared["est"] - compared["est_modsem"]).abs()
    assert diff.max() < 0.005
    assert diff.max() < 1e-4  # the same quasi-likelihood, maximised tightly by both


def test_every_standard_error_within_5_percent_of_modsem(compared):
    free = compared["std.error"].notna()
    rel = (compared.loc[free, "se"] / compared.loc[free, "std.error"] - 1).abs()
    assert rel.max() < 0.05
    assert rel.max() < 0.002


def test_loglik_matches_modsem(qml):
    assert qml.loglik == pytest.approx(REFERENCE_LOGLIK, abs=0.05)
    assert qml.loglik == pytest.approx(REFERENCE_LOGLIK, abs=0.001)


def test_published_interaction(qml):
    assert qml.estimate("Y", "~", "X:Z")["est"] == pytest.approx(0.719, abs=0.005)
    assert qml.method == "QML" and qml.quadrature is None and bool(qml.converged)


def test_quasi_likelihood_is_klein_muthen_formula(qml):
    """ℓ = log φ(x) + log φ(y | E[η|x], Var(η|x)) with the textbook single-outcome formulas."""
    est = qml.params.set_index(["lhs", "op", "rhs"])["est"]
    X, Y = qml.data[:, :6], qml.data[:, 6:]
    xs, ys = ["x1", "x2", "x3", "z1", "z2", "z3"], ["y1", "y2", "y3"]
    lx = np.zeros((6, 2))
    lx[:3, 0] = [est["X", "=~", v] for v in xs[:3]]
    lx[3:, 1] = [est["Z", "=~", v] for v in xs[3:]]
    ly = np.array([est["Y", "=~", v] for v in ys])
    nux = np.array([est[v, "~1", ""] for v in xs])
    nuy = np.array([est[v, "~1", ""] for v in ys])
    thx = np.diag([est[v, "~~", v] for v in xs])
    thy = np.diag([est[v, "~~", v] for v in ys])
    phi = np.array([[est["X", "~~", "X"], est["X", "~~", "Z"]],
                    [est["X", "~~", "Z"], est["Z", "~~", "Z"]]])
    gam = np.array([est["Y", "~", "X"], est["Y", "~", "Z"]])
    w = est["Y", "~", "X:Z"]
    om = np.array([[0, w / 2], [w / 2, 0]])  # symmetric Ω
    sxx = lx @ phi @ lx.T + thx
    ll = multivariate_normal(nux, sxx).logpdf(X).sum()
    G = phi @ lx.T @ np.linalg.inv(sxx)
    V = phi - G @ lx @ phi
    m = (X - nux) @ G.T
    e_eta = m @ gam + np.einsum("ni,ij,nj->n", m, om, m) + np.trace(om @ V)
    a = gam + 2 * m @ om
    v_eta = (np.einsum("ni,ij,nj->n", a, V, a) + 2 * np.trace(om @ V @ om @ V)
             + est["Y", "~~", "Y"])
    for i in range(len(Y)):
        ll += multivariate_normal(nuy + ly * e_eta[i],
                                  np.outer(ly, ly) * v_eta[i] + thy).logpdf(Y[i])
    assert qml.loglik == pytest.approx(ll, abs=1e-6)


def test_gradient_matches_finite_differences(qml):
    obj = QMLObjective(qml.model, qml.data)
    theta = qml.theta + np.random.default_rng(3).normal(scale=0.02, size=qml.theta.size)
    _, grad = obj.value_grad(theta)
    eye = np.eye(theta.size) * 1e-6
    fd = np.array([(obj.loglik(theta + e) - obj.loglik(theta - e)) / 2e-6 for e in eye])
    assert np.max(np.abs(grad - fd)) < 1e-3 * max(1.0, np.max(np.abs(grad)))


def test_lr_test_and_r2(qml, oneint):
    test = qml.lr_test()
    ml = cs.fit(ONEINT.replace(" + X:Z", ""), oneint, meanstructure=True)
    assert test["loglik_null"] == pytest.approx(ml.fit_measures["logl"], abs=1e-4)
    assert test["df"] == 1 and test["lr"] > 600
    r2 = qml.r2.set_index("outcome").loc["Y"]
    assert 0 < r2["delta_r2"] < r2["r2"] < 1
    assert r2["r2"] == pytest.approx(r2["r2_main"] + r2["delta_r2"])


def test_qml_and_lms_agree_on_oneint(qml, oneint):
    lms = fit_lms(ONEINT, oneint, se="none")
    a = qml.params.set_index(["lhs", "op", "rhs"])["est"]
    b = lms.params.set_index(["lhs", "op", "rhs"])["est"]
    assert np.max(np.abs(a - b.loc[a.index])) < 0.005
    assert (qml.standardized_interaction()["std.all"].iloc[-1]
            == pytest.approx(0.459, abs=0.002))


ENDOGENOUS_POP = """
TA =~ 0.8*ta1 + 0.7*ta2 + 0.75*ta3
FA =~ 0.8*fa1 + 0.7*fa2 + 0.75*fa3
SCI =~ 0.8*sc1 + 0.75*sc2 + 0.7*sc3
FA ~ 0.5*TA
SCI ~ 0.3*TA + 0.2*FA + 0.25*TA:FA
"""
ENDOGENOUS = """
TA =~ ta1 + ta2 + ta3
FA =~ fa1 + fa2 + fa3
SCI =~ sc1 + sc2 + sc3
FA ~ TA
SCI ~ TA + FA + TA:FA
"""


def test_endogenous_operand():
    data = cs.simulate(ENDOGENOUS, 5000, population=ENDOGENOUS_POP, seed=7)
    fit = fit_qml(ENDOGENOUS, data)
    assert fit.converged
    std = fit.standardized_interaction().set_index("rhs")
    for term, truth in (("TA", 0.3), ("FA", 0.2), ("TA:FA", 0.25)):
        assert abs(std.loc[term, "std.all"] - truth) < 4 * std.loc[term, "se"], term
    # the x-block holds the indicators of TA and FA, the y-block those of SCI
    obj = QMLObjective(fit.model, fit.data)
    assert [fit.model.observed[i] for i in obj.yi] == ["sc1", "sc2", "sc3"]
    lms = fit_lms(ENDOGENOUS, data, se="none")
    assert abs(lms.estimate("SCI", "~", "TA:FA")["est"]
               - fit.estimate("SCI", "~", "TA:FA")["est"]) < 0.01


def test_residual_covariance_across_blocks_is_refused(oneint):
    with pytest.raises(SpecError, match="x1 ~~ y1.*Use LMS"):
        fit_qml(ONEINT + "x1 ~~ y1\n", oneint)
