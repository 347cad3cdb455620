"""Modification indices: lavaan's ``modindices()``.

References:

* ``tests/fixtures/semtools/modindices_{hs,paper}.json`` (lavaan 0.6-14 ``modindices(fit)``,
  unsorted and ``sort. = TRUE, maximum.number = 10``, written by
  ``tests/fixtures/make_semtools_fixtures.R``): the same candidates in the same order, and
  MI, EPC, sepc.lv, sepc.all, sepc.nox within 1e-3.
* Inline lavaan 0.6-14 values (``REFERENCE`` below) for what the fixtures do not cover:
  ``std.lv = TRUE``, a two-group fit with loadings and intercepts held equal (equality
  constraints), an explicit ``a == b`` constraint, a MIMIC model with fixed-x covariates, and PoliticalDemocracy with shared
  labels.  Generated with ``as.data.frame(modindices(fit, sort. = TRUE))[1:4, ]`` on the fits
  the ``REFERENCE`` keys name (R 4.2.2, lavaan 0.6-14), printed to 6 decimals.
* The score test approximates the likelihood-ratio test (Sörbom 1989, *Psychometrika* 54,
  371–384): refitting with the top candidate freed drops χ² by about its MI.
* Internal consistency: the vectorised gradient and information equal the engine's
  :class:`~cbec_sem.engine.ml.MLFunction` on the extended model.
"""

from __future__ import annotations

import importlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.engine.ml import MLFunction
from cbec_sem.engine.partable import variable_roles
from cbec_sem.engine.ram import RamModel
from cbec_sem.errors import ConvergenceWarning, SpecError
from cbec_sem.measurement import modindices
from cbec_sem.measurement.modindices import (
    _extended_table,
    _score_and_information,
    theory_admissible,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
POLDEM_MODEL = """ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
dem60 ~ p1*ind60
dem65 ~ p2*ind60 + p3*dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8"""
VALUES = ["mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"]


def _data(rel: str) -> pd.DataFrame:
    return pd.read_csv(REPO / rel)


HS = _data("src/cbec_sem/datasets/data/HolzingerSwineford1939.csv")


def _fit(model, data, **kw) -> cs.FitResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cs.fit(model, data, **kw)


@pytest.fixture(scope="module")
def hs_fit() -> cs.FitResult:
    return _fit(HS_MODEL, HS)


@pytest.fixture(scope="module")
def paper_fit() -> cs.FitResult:
    fx = json.loads((FIXTURES / "semtools" / "modindices_paper.json").read_text())
    return _fit(fx["model"], _data(fx["data"]))


# --------------------------------------------------------------------------- fixtures

@pytest.mark.parametrize("case", ["modindices_hs", "modindices_paper"])
@pytest.mark.parametrize("call", ["modindices", "modindices_sorted"])
def test_matches_lavaan_fixture(case, call):
    fx = json.loads((FIXTURES / "semtools" / f"{case}.json").read_text())
    res = _fit(fx["model"], _data(fx["data"]))
    assert res.fit_measures["chisq"] == pytest.approx(fx["chisq"], abs=1e-3)
    ref = pd.DataFrame({k: v for k, v in fx[call].items() if k != "call"})
    kwargs = dict(sort=False) if call == "modindices" else dict(maximum_number=10)
    mi = modindices(res, **kwargs)
    assert list(zip(mi["lhs"], mi["op"], mi["rhs"])) == list(
        zip(ref["lhs"], ref["op"], ref["rhs"]))
    for col in VALUES:
        np.testing.assert_allclose(mi[col].to_numpy(float), ref[col].to_numpy(float),
                                   atol=1e-3, err_msg=col)


def test_known_hs_values(hs_fit):
    mi = modindices(hs_fit)
    top = mi.head(3)
    assert list(top["lhs"] + " " + top["op"] + " " + top["rhs"]) == [
        "visual =~ x9", "x7 ~~ x8", "visual =~ x7"]
    assert top["mi"].to_numpy() == pytest.approx([36.411, 34.145, 18.631], abs=1e-2)
    assert top["epc"].iloc[0] == pytest.approx(0.577, abs=1e-3)


#: lavaan 0.6-14, ``modindices(fit, sort. = TRUE)`` first four rows:
#: lhs, op, rhs, group, mi, epc, sepc.lv, sepc.all, sepc.nox.
REFERENCE = {
    # cfa(HS_MODEL, HS, std.lv = TRUE)
    "hs_stdlv": [
        ("visual", "=~", "x9", 1, 36.410931, 0.519099, 0.519099, 0.515248, 0.515248),
        ("x7", "~~", "x8", 1, 34.144881, 0.536443, 0.536443, 0.859149, 0.859149),
        ("visual", "=~", "x7", 1, 18.630852, -0.379518, -0.379518, -0.348911, -0.348911),
        ("x8", "~~", "x9", 1, 14.946182, -0.423092, -0.423092, -0.805194, -0.805194),
    ],
    # cfa(HS_MODEL, HS, group = "school", group.equal = c("loadings", "intercepts"))
    "hs_scalar": [
        ("visual", "=~", "x9", 2, 19.548208, 0.567665, 0.477651, 0.469198, 0.469198),
        ("x7", "~~", "x8", 2, 14.467807, 0.374379, 0.374379, 0.718754, 0.718754),
        ("x4", "~~", "x6", 1, 11.118463, -0.239128, -0.239128, -0.698381, -0.698381),
        ("textual", "=~", "x1", 1, 10.675131, 0.447427, 0.419592, 0.360907, 0.360907),
    ],
    # cfa(HS_MODEL, HS, group = "school")
    "hs_configural": [
        ("x7", "~~", "x8", 2, 24.818617, 0.612223, 0.612223, 1.247319, 1.247319),
        ("visual", "=~", "x9", 2, 24.539252, 0.748158, 0.581325, 0.567032, 0.567032),
        ("x4", "~~", "x6", 1, 11.280292, -0.325812, -0.325812, -0.927943, -0.927943),
        ("visual", "=~", "x7", 2, 11.266560, -0.503831, -0.391481, -0.379918, -0.379918),
    ],
    # sem(paste0(HS_MODEL, "\n visual ~ ageyr + grade"), hs_grade_complete.csv)
    "mimic": [
        ("visual", "=~", "x9", 1, 37.320785, 0.488689, 0.381974, 0.378537, 0.378537),
        ("textual", "=~", "x1", 1, 25.146860, 0.317178, 0.312638, 0.267919, 0.267919),
        ("x1", "~~", "x9", 1, 12.029201, 0.179617, 0.179617, 0.254003, 0.254003),
        ("visual", "~~", "textual", 1, 11.393194, 0.187618, 0.255014, 0.255014, 0.255014),
    ],
    # cfa("visual =~ x1 + a*x2 + b*x3\n textual =~ ...\n speed =~ ...\n a == b", HS)
    "hs_eq": [
        ("visual", "=~", "x9", 1, 36.4045531, 0.57091182, 0.51369308, 0.50988223, 0.50988223),
        ("x7", "~~", "x8", 1, 34.0077165, 0.54618291, 0.54618291, 0.87915705, 0.87915705),
        ("visual", "=~", "x7", 1, 18.9058732, -0.42237741, -0.38004529, -0.34939555,
         -0.34939555),
        ("x8", "~~", "x9", 1, 15.0759696, -0.43006155, -0.43006155, -0.81901980, -0.81901980),
    ],
    # sem(POLDEM_MODEL, PoliticalDemocracy)
    "poldem": [
        ("ind60", "=~", "y4", 1, 3.945894, 0.702300, 0.470383, 0.143074, 0.143074),
        ("y1", "~~", "y3", 1, 2.936612, 0.762543, 0.762543, 0.251526, 0.251526),
        ("x1", "~~", "y2", 1, 2.773512, -0.148362, -0.148362, -0.188872, -0.188872),
        ("y7", "~~", "y8", 1, 2.543994, 0.708757, 0.708757, 0.206542, 0.206542),
    ],
}
#: number of rows lavaan reports (all operators, NA rows removed)
REFERENCE_ROWS = {"hs_stdlv": 54, "hs_scalar": 114, "hs_configural": 108, "mimic": 56,
                  "poldem": 73, "hs_eq": 54}


def _reference_fit(case: str) -> cs.FitResult:
    if case == "hs_stdlv":
        return _fit(HS_MODEL, HS, std_lv=True)
    if case == "hs_scalar":
        return _fit(HS_MODEL, HS, group="school", group_equal=("loadings", "intercepts"))
    if case == "hs_configural":
        return _fit(HS_MODEL, HS, group="school")
    if case == "hs_eq":  # an explicit equality constraint: the reparametrised free block
        model = HS_MODEL.replace("x1 + x2 + x3", "x1 + a*x2 + b*x3") + "\n a == b"
        res = _fit(model, HS)
        assert not res.estimation.reparam.identity
        return res
    if case == "mimic":
        return _fit(HS_MODEL + "\n visual ~ ageyr + grade",
                    _data("tests/fixtures/data/hs_grade_complete.csv"))
    return _fit(POLDEM_MODEL, _data("src/cbec_sem/datasets/data/PoliticalDemocracy.csv"))


@pytest.mark.parametrize("case", sorted(REFERENCE))
def test_matches_lavaan_inline(case):
    res = _reference_fit(case)
    mi = modindices(res, ops=None)
    assert len(mi) == REFERENCE_ROWS[case]
    ref = pd.DataFrame(REFERENCE[case], columns=["lhs", "op", "rhs", "group", *VALUES])
    got = mi.head(len(ref))
    assert list(zip(got["lhs"], got["op"], got["rhs"], got["group"])) == list(
        zip(ref["lhs"], ref["op"], ref["rhs"], ref["group"]))
    for col in VALUES:
        np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float),
                                   atol=1e-3, rtol=1e-4, err_msg=col)


def test_multigroup_has_group_column_and_rows_per_group():
    res = _reference_fit("hs_configural")
    mi = modindices(res, sort=False)
    assert set(mi["group"]) == {1, 2}
    assert (mi["group"] == 1).sum() == (mi["group"] == 2).sum() == 54
    # one row per group for the same candidate, with different values
    x9 = mi[(mi["lhs"] == "visual") & (mi["rhs"] == "x9")]
    assert len(x9) == 2 and x9["mi"].iloc[0] != pytest.approx(x9["mi"].iloc[1])


# ------------------------------------------------------------------- score vs LR test

@pytest.mark.parametrize("extra, tol", [("visual =~ x9", 0.15), ("x7 ~~ x8", 0.15),
                                        ("visual =~ x7", 0.20)])
def test_mi_approximates_chisq_drop(hs_fit, extra, tol):
    """Sörbom (1989): the MI is the score-test version of the χ² drop when the parameter is
    freed; on HS the two agree within 10–20%."""
    mi = modindices(hs_fit)
    row = mi[mi["lhs"] + " " + mi["op"] + " " + mi["rhs"] == extra].iloc[0]
    freed = _fit(HS_MODEL + "\n " + extra, HS)
    drop = hs_fit.fit_measures["chisq"] - freed.fit_measures["chisq"]
    assert row["mi"] == pytest.approx(drop, rel=tol)
    # the EPC points the way the estimate moves
    p = freed.params
    est = p.loc[p["lhs"] + " " + p["op"] + " " + p["rhs"] == extra, "est"].iloc[0]
    assert np.sign(row["epc"]) == np.sign(est)


def test_top_candidate_of_paper_model_approximates_chisq_drop(paper_fit):
    mi = modindices(paper_fit)
    top = mi.iloc[0]
    text = f"{top['lhs']} {top['op']} {top['rhs']}"
    model = paper_fit.model.to_lavaan() + "\n" + text
    freed = _fit(model, _data("tests/fixtures/data/paper_sim.csv"))
    drop = paper_fit.fit_measures["chisq"] - freed.fit_measures["chisq"]
    assert top["mi"] == pytest.approx(drop, rel=0.2)


def test_saturating_candidates_in_one_df_model():
    """With df = 1, freeing any identified candidate saturates the model, so every MI is the
    same score statistic against the saturated model, and close to the full χ²."""
    model = "f =~ x1 + x2 + x3 + x4\n x1 ~~ x2"
    res = _fit(model, HS)
    assert res.fit_measures["df"] == 1
    mi = modindices(res)
    assert len(mi) == 4
    # equal up to the fit's convergence: a gradient at the criterion (1e-9 in SE units)
    # moves these MIs by about 1e-7
    np.testing.assert_allclose(mi["mi"], mi["mi"].iloc[0], rtol=1e-6)
    assert mi["mi"].iloc[0] == pytest.approx(res.fit_measures["chisq"], rel=0.02)
    freed = _fit(model + "\n x1 ~~ x4", HS)
    assert freed.converged and freed.fit_measures["chisq"] == pytest.approx(0, abs=1e-6)


# ---------------------------------------------------------------- internal consistency

@pytest.mark.parametrize("case", ["hs", "hs_scalar", "mimic"])
def test_score_and_information_match_engine(case, hs_fit):
    res = hs_fit if case == "hs" else _reference_fit(case)
    est = res.estimation
    ov_x = variable_roles(res.model.statements, fixed_x=True).ov_x
    ext, cand_pos, cand_val = _extended_table(est, ov_x)
    ram = RamModel(ext)
    ram.base_values[: len(est.ram.base_values)] = est.ram.base_values
    theta = np.concatenate([est.theta, cand_val])
    # the extended model reproduces the fitted moments
    for a, b in zip(ram.moments(theta), est.ram.moments(est.theta)):
        np.testing.assert_allclose(a.sigma, b.sigma, atol=1e-12)
    ev = MLFunction(ram, est.stats, est.meanstructure).evaluate(
        theta, gradient=True, information=True)
    q = est.partable.nfree
    grad, i_qq, i_qc, d_cc = _score_and_information(ram, theta, est, np.zeros(0, dtype=int), q)
    np.testing.assert_allclose(grad, ev.gradient, atol=1e-10)
    # the blocks the score tests read are those of the engine's full information
    np.testing.assert_allclose(i_qq, ev.information[:q, :q], atol=1e-10)
    np.testing.assert_allclose(i_qc, ev.information[:q, q:], atol=1e-10)
    np.testing.assert_allclose(d_cc, np.diag(ev.information)[q:], atol=1e-10)
    # at the optimum the free part of the gradient vanishes (up to the fit's tolerance)
    assert np.max(np.abs(est.reparam.basis.T @ grad[:q])) < 1e-6
    if case == "mimic":
        # fixed-x: zeroing the covariates' own moments leaves the free block alone
        names = list(est.stats.names)
        x_index = np.array([names.index(v) for v in est.partable.roles.ov_x])
        _, qq_x, qc_x, dc_x = _score_and_information(ram, theta, est, x_index, q)
        np.testing.assert_allclose(qq_x, i_qq, atol=1e-12)
        assert not (np.allclose(qc_x, i_qc) and np.allclose(dc_x, d_cc))


# ---------------------------------------------------------------------- the table

def test_table_shape_and_filters(hs_fit):
    mi = modindices(hs_fit)
    assert list(mi.columns) == ["lhs", "op", "rhs", "group", "mi", "epc", "sepc.lv",
                                "sepc.all", "sepc.nox", "admissible"]
    assert (mi["mi"] >= 0).all() and mi["mi"].is_monotonic_decreasing
    # no free parameter of the model is a candidate
    p = hs_fit.params
    free = set(zip(p.loc[p["se"] > 0, "lhs"], p.loc[p["se"] > 0, "op"],
                   p.loc[p["se"] > 0, "rhs"]))
    assert not free & set(zip(mi["lhs"], mi["op"], mi["rhs"]))
    # marker loadings are not identified when freed: left out, as lavaan does
    assert not ((mi["lhs"] == "visual") & (mi["rhs"] == "x1")).any()
    assert len(modindices(hs_fit, minimum=10)) == (mi["mi"] > 10).sum()
    assert len(modindices(hs_fit, maximum_number=5)) == 5
    assert set(modindices(hs_fit, ops="=~")["op"]) == {"=~"}
    unsorted = modindices(hs_fit, sort=False)
    assert sorted(unsorted["mi"], reverse=True) == pytest.approx(list(mi["mi"]))


def test_admissible_theory_rule(paper_fit):
    mi = modindices(paper_fit, sort=False)
    rule = dict(zip(mi["lhs"] + " " + mi["op"] + " " + mi["rhs"], mi["admissible"]))
    # cross-loading on another construct: no; on the second-order construct above: yes
    assert not rule["TA =~ fa1"]
    assert rule["SCI =~ vp1"]
    # correlated uniquenesses within a scale only
    assert rule["ta1 ~~ ta2"] and not rule["ta1 ~~ fa1"]
    # latent covariances only between constructs neither of which causes the other
    assert rule["VP ~~ FO"] and rule["FA ~~ PC"]
    assert not rule["TA ~~ FA"] and not rule["VP ~~ SCI"]
    # paths: no loops, exogenous constructs stay exogenous
    assert rule["FA ~ PC"]
    assert not rule["FA ~ SCI"] and not rule["TA ~ FA"] and not rule["PC ~ FA"]
    # default keeps every row; "theory" drops the inadmissible ones
    kept = modindices(paper_fit, admissible="theory")
    assert kept["admissible"].all() and len(kept) == mi["admissible"].sum() < len(mi)


def test_hypotheses_set_the_direction():
    """With the paper's hypotheses (H3: TA → FA), FA → TA stays inadmissible, and so does
    a path that would close a loop through a hypothesised path."""
    data = _data("tests/fixtures/data/paper_sim.csv")
    res = _fit(cs.paper_model(), data)
    rule = theory_admissible(res)
    assert not rule("TA", "~", "FA")
    assert not rule("FA", "~", "SCI")


def test_admissible_callable(hs_fit):
    only_within = modindices(hs_fit, admissible=lambda lhs, op, rhs: op == "~~")
    assert set(only_within["op"]) == {"~~"} and only_within["admissible"].all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(ops=("=~", "->")), "operators"),
    (dict(admissible="reviewer"), "admissible"),
    (dict(admissible=3), "admissible"),
    (dict(minimum=-1), "minimum"),
    (dict(maximum_number=2.5), "maximum_number"),
])
def test_bad_arguments(hs_fit, kwargs, match):
    with pytest.raises(SpecError, match=match):
        modindices(hs_fit, **kwargs)


def test_not_a_fit_result():
    with pytest.raises(SpecError, match="FitResult|cs.fit"):
        modindices(HS)


def test_warns_when_not_converged():
    res = _fit(HS_MODEL, HS, max_iter=1)
    assert not res.converged
    with pytest.warns(ConvergenceWarning):
        modindices(res)


@pytest.mark.parametrize("case", ["hs_scalar", "mimic", "hs_eq"])
def test_candidates_in_small_blocks_give_the_whole_answer(case, monkeypatch):
    # I_θφ is formed and solved CANDIDATE_BLOCK candidates at a time (issue 14: the whole
    # 1,210 × 15,000 block of 44 constructs took seconds); blocks of 7 cut through groups,
    # the fixed-x pair and the reparametrised free block, and give the same table
    res = _reference_fit(case)
    whole = cs.modindices(res, sort=False, ops=None)
    # the module (its name is shadowed by the function in cbec_sem.measurement)
    module = importlib.import_module("cbec_sem.measurement.modindices")
    monkeypatch.setattr(module, "CANDIDATE_BLOCK", 7)
    pd.testing.assert_frame_equal(cs.modindices(res, sort=False, ops=None), whole,
                                  check_exact=False, rtol=1e-12, atol=1e-12)
