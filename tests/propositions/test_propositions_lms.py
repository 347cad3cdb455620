"""LMS (Klein & Moosbrugger 2000): modsem's oneInt reference, recovery of known populations,
endogenous and second-order interaction models, and the errors for what LMS cannot do."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import DataWarning, SpecError
from cbec_sem.propositions.interaction import (
    InteractionFit,
    LatentInteractionModel,
    fit_lms,
)
from cbec_sem.engine.latent import quadrature as qd
from cbec_sem.engine.latent._estimation import start_values
from cbec_sem.engine.latent.lms import LMSObjective

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "modsem"

ONEINT = """
X =~ x1 + x2 + x3
Z =~ z1 + z2 + z3
Y =~ y1 + y2 + y3
Y ~ X + Z + X:Z
"""
MAIN_EFFECTS = ONEINT.replace(" + X:Z", "")
REFERENCE_LOGLIK = -17493.600


def reference(name: str) -> pd.DataFrame:
    ref = pd.read_csv(FIXTURES / name)
    ref["rhs"] = ref["rhs"].fillna("")
    return ref


@pytest.fixture(scope="module")
def oneint() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "modsem_oneInt.csv")


@pytest.fixture(scope="module")
def lms(oneint) -> InteractionFit:
    return fit_lms(ONEINT, oneint)


@pytest.fixture(scope="module")
def compared(lms) -> pd.DataFrame:
    ref = reference("modsem_oneInt_lms_estimates.csv")
    merged = lms.params.merge(ref[["lhs", "op", "rhs", "est", "std.error"]],
                              on=["lhs", "op", "rhs"], suffixes=("", "_modsem"))
    assert len(merged) == len(ref)  # every modsem row has its counterpart
    return merged


# ------------------------------------------------------------------ oneInt vs modsem


def test_every_estimate_within_0005_of_modsem(compared):
    diff = (compared["est"] - compared["est_modsem"]).abs()
    assert diff.max() < 0.005, compared.loc[diff.idxmax(), ["lhs", "op", "rhs"]].tolist()


def test_every_standard_error_within_5_percent_of_modsem(compared):
    free = compared["std.error"].notna()
    rel = (compared.loc[free, "se"] / compared.loc[free, "std.error"] - 1).abs()
    assert rel.max() < 0.05
    # in fact they agree far better than the tolerance
    assert rel.max() < 0.005


def test_loglik_matches_modsem(lms):
    assert lms.loglik == pytest.approx(REFERENCE_LOGLIK, abs=0.05)


def test_published_values(lms):
    for rhs, est, se in (("X", 0.673, 0.031), ("Z", 0.569, 0.030), ("X:Z", 0.718, 0.028)):
        row = lms.estimate("Y", "~", rhs)
        assert row["est"] == pytest.approx(est, abs=0.005)
        assert row["se"] == pytest.approx(se, abs=0.0015)


def test_quadrature_error_is_small_and_reported(lms, oneint):
    q = lms.quadrature
    assert q.kind == "adaptive" and q.dimensions == ("X",) and q.nodes_per_dim == 24
    assert 0 <= q.error < 0.05
    # A much denser rule at the same estimates agrees within the reported error (times 2).
    dense = LMSObjective(lms.model, lms.data, qd.composite(64, [(-6.0, 6.0)]))
    assert abs(dense.loglik(lms.theta) - lms.loglik) < 2 * q.error + 1e-3


def test_gauss_hermite_rule_needs_more_nodes(oneint, lms):
    # Plain Gauss-Hermite with 24 nodes misses the narrow posteriors (the reason for the
    # adaptive rule): its log-likelihood at the same estimates is off by more than 0.1.
    gh = LMSObjective(lms.model, lms.data, qd.gauss_hermite(24, 1))
    assert abs(gh.loglik(lms.theta) - lms.loglik) > 0.1


# ------------------------------------------------------------------ the result object


def test_result_attributes(lms):
    assert lms.method == "LMS"
    assert bool(lms.converged) and lms.converged.problems == ()
    assert "converged" in lms.converged.message
    assert lms.iterations > 0 and lms.em_iterations > 0
    assert lms.npar == 31 and lms.nobs == 2000
    assert lms.aic == pytest.approx(-2 * lms.loglik + 2 * 31)
    assert lms.bic == pytest.approx(-2 * lms.loglik + 31 * np.log(2000))
    v = lms.vcov
    assert v.shape == (31, 31) and np.allclose(v.to_numpy(), v.to_numpy().T)
    assert "Y ~ X:Z" in v.index
    assert np.all(np.linalg.eigvalsh(v.to_numpy()) > 0)


def test_params_are_written_lavaans_way(lms):
    p = lms.params
    assert list(p.columns) == ["lhs", "op", "rhs", "label", "est", "se", "z", "pvalue",
                               "ci.lower", "ci.upper"]
    row = lms.estimate("Y", "~", "X:Z")
    assert row["z"] == pytest.approx(row["est"] / row["se"])
    assert row["ci.lower"] == pytest.approx(row["est"] - 1.959964 * row["se"], rel=1e-6)
    fixed = p[(p["op"] == "=~") & (p["rhs"] == "x1")].iloc[0]
    assert fixed["est"] == 1.0 and fixed["se"] == 0.0 and np.isnan(fixed["z"])
    assert list(p["op"].drop_duplicates()) == ["=~", "~", "~~", "~1"]
    assert "Y ~ X:Z" in lms.summary()


def test_gradient_matches_finite_differences(lms):
    obj = LMSObjective(lms.model, lms.data, qd.composite(24, [(-4.0, 4.0)]))
    theta = lms.theta + np.random.default_rng(1).normal(scale=0.02, size=lms.theta.size)
    _, grad = obj.value_grad(theta)
    eye = np.eye(theta.size) * 1e-6
    fd = np.array([(obj.loglik(theta + e) - obj.loglik(theta - e)) / 2e-6 for e in eye])
    assert np.max(np.abs(grad - fd)) < 1e-3 * max(1.0, np.max(np.abs(grad)))


@pytest.mark.parametrize("case", ["oneint", "second_order"])
def test_woodbury_stage_matches_dense_stage(case, lms):
    """Σ_j = Σ₀ + U M_j Uᵀ with a fixed U: the low-rank stage gives the dense stage's numbers."""
    if case == "oneint":
        model, X = lms.model, lms.data
    else:
        text = SECOND_ORDER.replace("TA:FA", "TA:FA + TA:TA")
        data = cs.simulate(SECOND_ORDER, 600, population=SECOND_ORDER_POP, seed=3)
        model, X = LatentInteractionModel(text), data[list(SECOND_ORDER_OBSERVED)].to_numpy()
    obj = LMSObjective(model, X, qd.composite(12, [(-4.0, 4.0)] * model.k))
    rng = np.random.default_rng(5)
    theta = start_values(model, X) + rng.normal(scale=0.02, size=model.nfree)
    theta[model.parameters_of(("omega",))] = 0.1
    obj.lowrank = False
    dense = obj.value_grad(theta)
    obj.lowrank = True
    low = obj.value_grad(theta)
    assert low[0] == pytest.approx(dense[0], abs=1e-8)
    assert np.allclose(low[1], dense[1], atol=1e-7 * max(1.0, np.max(np.abs(dense[1]))))
    assert obj.loglik(theta) == pytest.approx(dense[0], abs=1e-8)


def test_lr_test_against_main_effects_ml(lms, oneint):
    test = lms.lr_test()
    ml = cs.fit(MAIN_EFFECTS, oneint, meanstructure=True)
    assert test["loglik_null"] == pytest.approx(ml.fit_measures["logl"], abs=1e-4)
    assert test["df"] == 1
    assert test["lr"] == pytest.approx(2 * (lms.loglik - ml.fit_measures["logl"]), abs=1e-3)
    assert test["lr"] > 600 and test["pvalue"] < 1e-100


def test_r2_with_and_without_the_interaction(lms):
    est = lms.params.set_index(["lhs", "op", "rhs"])["est"]
    vx, vz, cxz = est["X", "~~", "X"], est["Z", "~~", "Z"], est["X", "~~", "Z"]
    gx, gz, w, psi = (est["Y", "~", "X"], est["Y", "~", "Z"], est["Y", "~", "X:Z"],
                      est["Y", "~~", "Y"])
    main = gx**2 * vx + gz**2 * vz + 2 * gx * gz * cxz
    inter = w**2 * (vx * vz + cxz**2)
    vy = main + inter + psi
    r2 = lms.r2.set_index("outcome").loc["Y"]
    assert r2["variance"] == pytest.approx(vy)
    assert r2["r2"] == pytest.approx(1 - psi / vy)
    assert r2["r2_main"] == pytest.approx(main / vy)
    assert r2["delta_r2"] == pytest.approx(inter / vy)


def test_standardized_interaction_modsem_convention(lms):
    est = lms.params.set_index(["lhs", "op", "rhs"])["est"]
    _, cov = lms.latent_moments()
    sd = np.sqrt(np.diag(cov.to_numpy()))
    std = lms.standardized_interaction().set_index("rhs")
    expected = est["Y", "~", "X:Z"] * sd[0] * sd[1] / sd[2]
    assert std.loc["X:Z", "std.all"] == pytest.approx(expected)
    assert std.loc["X:Z", "std.all"] == pytest.approx(0.459, abs=0.002)
    assert std.loc["X", "std.all"] == pytest.approx(est["Y", "~", "X"] * sd[0] / sd[2])
    assert 0 < std.loc["X:Z", "se"] < 0.05


# ------------------------------------------------------------------ known populations


POPULATION = """
X =~ 0.8*x1 + 0.7*x2 + 0.75*x3
Z =~ 0.8*z1 + 0.7*z2 + 0.75*z3
Y =~ 0.8*y1 + 0.75*y2 + 0.7*y3
X ~~ 0.2*Z
Y ~ 0.3*X + 0.2*Z + 0.25*X:Z
"""


def within(value: float, truth: float, se: float, z: float = 4.0) -> bool:
    return abs(value - truth) < z * se


def test_recovers_simulated_interaction():
    data = cs.simulate(ONEINT, 5000, population=POPULATION, seed=2024)
    fit = fit_lms(ONEINT, data)
    assert fit.converged
    std = fit.standardized_interaction().set_index("rhs")
    for term, truth in (("X", 0.3), ("Z", 0.2), ("X:Z", 0.25)):
        assert within(std.loc[term, "std.all"], truth, std.loc[term, "se"]), term
    assert fit.lr_test()["pvalue"] < 1e-6


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


def test_endogenous_operand_is_integrated_over_the_exogenous_one():
    # TA x FA with FA ~ TA: given TA, FA = γTA + ζ_FA is normal and TA·FA is linear in
    # ζ_FA, so LMS integrates over TA alone (k = 1).
    model = LatentInteractionModel(ENDOGENOUS)
    assert model.k == 1 and model.nonlinear == ("TA",)
    assert model.products[0].fixed == "TA"
    assert model.downstream == ("SCI",)


def test_recovers_endogenous_interaction():
    data = cs.simulate(ENDOGENOUS, 5000, population=ENDOGENOUS_POP, seed=7)
    fit = fit_lms(ENDOGENOUS, data)
    assert fit.converged
    std = fit.standardized_interaction().set_index("rhs")
    for term, truth in (("TA", 0.3), ("FA", 0.2), ("TA:FA", 0.25)):
        assert within(std.loc[term, "std.all"], truth, std.loc[term, "se"]), term
    fa = fit.estimate("FA", "~", "TA")
    # FA ~ TA is 0.5 standardised; TA and FA have unit population variances, and the
    # marker loadings (0.8 each) cancel in the unstandardised slope.
    assert within(fa["est"], 0.5, fa["se"])


SECOND_ORDER_POP = """
TA =~ 0.8*ta1 + 0.7*ta2 + 0.75*ta3
FA =~ 0.8*fa1 + 0.7*fa2 + 0.75*fa3
VP =~ 0.8*vp1 + 0.7*vp2 + 0.75*vp3
FO =~ 0.8*fo1 + 0.7*fo2 + 0.75*fo3
IS =~ 0.8*is1 + 0.7*is2 + 0.75*is3
SCI =~ 0.8*VP + 0.7*FO + 0.75*IS
FA ~ 0.5*TA
SCI ~ 0.3*TA + 0.2*FA + 0.25*TA:FA
"""
SECOND_ORDER = """
TA =~ ta1 + ta2 + ta3
FA =~ fa1 + fa2 + fa3
VP =~ vp1 + vp2 + vp3
FO =~ fo1 + fo2 + fo3
IS =~ is1 + is2 + is3
SCI =~ VP + FO + IS
FA ~ a*TA
SCI ~ c*TA + b*FA + TA:FA
indirect := a*b
"""
SECOND_ORDER_OBSERVED = tuple(f"{c}{i}" for c in ("ta", "fa", "vp", "fo", "is") for i in (1, 2, 3))


def test_second_order_outcome_with_endogenous_operand():
    data = cs.simulate(SECOND_ORDER, 3000, population=SECOND_ORDER_POP, seed=11)
    fit = fit_lms(SECOND_ORDER, data)
    assert fit.converged
    assert set(fit.model.downstream) == {"SCI", "VP", "FO", "IS"}
    std = fit.standardized_interaction().set_index("rhs")
    for term, truth in (("TA", 0.3), ("FA", 0.2), ("TA:FA", 0.25)):
        assert within(std.loc[term, "std.all"], truth, std.loc[term, "se"]), term
    p = fit.params
    indirect = p[p["op"] == ":="].iloc[0]
    a, b = fit.estimate("FA", "~", "TA")["est"], fit.estimate("SCI", "~", "FA")["est"]
    assert indirect["est"] == pytest.approx(a * b) and indirect["se"] > 0
    r2 = fit.r2.set_index("outcome")
    assert r2.loc["SCI", "delta_r2"] > 0.02
    assert r2.loc["VP", "delta_r2"] == 0.0  # no product of its own


# ------------------------------------------------------------------ what LMS refuses


def test_product_of_non_normal_operands_is_refused():
    text = ONEINT + "W =~ w1 + w2 + w3\nW ~ Y + X + Y:X\n"
    with pytest.raises(SpecError) as err:
        LatentInteractionModel(text)
    msg = str(err.value)
    assert "Y:X" in msg and "'Y ~ X:Z'" in msg
    assert "non-normal" in msg and "double-mean-centring" in msg


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (ONEINT + "Y ~ x1\n", "observed variable"),
        (ONEINT + "W =~ w1 + w2 + w3\nY ~ X:Z:W\n", "two-way"),
        (ONEINT + "y1 ~ X\n", "observed variable"),
        (ONEINT + "X ~~ x1\n", "latent variable and an observed"),
        (ONEINT + "x1 | t1\n", "thresholds"),
    ],
)
def test_unsupported_specifications_raise(text, needle):
    with pytest.raises(SpecError, match=needle):
        LatentInteractionModel(text)


def test_incomplete_rows_are_dropped_with_a_note(oneint):
    data = oneint.head(400).copy()
    data.loc[3, "x2"] = np.nan
    with pytest.warns(DataWarning, match="listwise"):
        fit = fit_lms(ONEINT, data, se="none")
    assert fit.nobs == 399
    assert any("dropped 1 of 400" in n for n in fit.notes)
    assert fit.vcov.isna().all().all()


def test_model_without_products_is_ordinary_ml(oneint):
    fit = fit_lms(MAIN_EFFECTS, oneint)
    ml = cs.fit(MAIN_EFFECTS, oneint, meanstructure=True)
    assert fit.model.k == 0 and fit.quadrature.nodes == 1
    assert fit.loglik == pytest.approx(ml.fit_measures["logl"], abs=1e-6)
    ours = fit.params.set_index(["lhs", "op", "rhs"])
    theirs = ml.params.set_index(["lhs", "op", "rhs"])
    common = ours.index.intersection(theirs.index)
    assert np.allclose(ours.loc[common, "est"], theirs.loc[common, "est"], atol=1e-5)


def test_no_numpy_warnings(oneint):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_lms(ONEINT, oneint.head(500), se="none")


def test_lms_grid_beyond_the_node_case_limit_is_refused_before_the_fit(monkeypatch):
    """Three latent variables in product terms at N = 500: 24³ · 500 = 6.9e6 node-case
    evaluations per pass (minutes of work), above MAX_NODE_CASES: refused before the grid is
    built, naming the dimensions and QML (issue 14)."""
    import numpy as np
    import pandas as pd

    import cbec_sem as cs
    from cbec_sem.engine.latent import lms

    rng = np.random.default_rng(1)
    lat = rng.normal(size=(500, 7))
    data = pd.DataFrame({f"y{k}_{j}": lat[:, k] + 0.5 * rng.normal(size=500)
                         for k in range(7) for j in range(3)})
    model = "\n".join(f"F{k} =~ y{k}_0 + y{k}_1 + y{k}_2" for k in range(7))
    model += "\nF6 ~ F0:F1 + F2:F3 + F4:F5 + F0 + F1 + F2 + F3 + F4 + F5"

    def no_fit(*args, **kwargs):
        raise AssertionError("the LMS fit ran")

    monkeypatch.setattr(lms, "_fit", no_fit)
    with pytest.raises(cs.errors.EstimationError) as info:
        cs.fit(model, data, estimator="LMS")
    for part in ("3 latent variable(s)", "24^3 = 13,824", "estimator='QML'"):
        assert part in str(info.value)
    # under the limit the fit goes ahead (here: to the patched fit)
    monkeypatch.setattr(lms, "MAX_NODE_CASES", 24.0 ** 3 * 500)
    with pytest.raises(AssertionError, match="the LMS fit ran"):
        cs.fit(model, data, estimator="LMS")
