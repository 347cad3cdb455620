"""Every number cs.fit() reports equals lavaan 0.6-14's on the same model and data.

Expected values come from ``tests/fixtures/lavaan/*.json``, written by
``tests/fixtures/make_lavaan_fixtures.R`` (``parameterEstimates(standardized = TRUE)`` and
``fitMeasures()`` of lavaan 0.6-14).  Tolerances are the issue's: estimates and standardised
values within 1e-3 absolute, standard errors within 1e-3 relative, every fit measure within
1e-3 (we in fact agree to ~1e-5; see the closing note of issue 2).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
CASES = sorted(p.stem for p in (FIXTURES / "lavaan").glob("*.json"))


def load_case(name: str) -> dict:
    return json.loads((FIXTURES / "lavaan" / f"{name}.json").read_text())


def fit_case(fx: dict) -> cs.FitResult:
    opts = fx["options"] or {}
    kwargs = {}
    if "information" in opts:
        kwargs["information"] = opts["information"]
    if opts.get("meanstructure"):
        kwargs["meanstructure"] = True
    if opts.get("std.lv"):
        kwargs["std_lv"] = True
    if "group.equal" in opts:
        kwargs["group_equal"] = tuple(np.atleast_1d(opts["group.equal"]))
    if "group.partial" in opts:
        kwargs["group_partial"] = tuple(np.atleast_1d(opts["group.partial"]))
    if "fixed.x" in opts:
        kwargs["fixed_x"] = bool(opts["fixed.x"])
    if "estimator" in opts:
        kwargs["estimator"] = opts["estimator"]
    if "missing" in opts:
        kwargs["missing"] = "fiml" if opts["missing"] == "ml" else opts["missing"]
    data = pd.read_csv(REPO / fx["data"])
    if fx.get("python_warns"):  # lavaan warns too (see the fixture script)
        with pytest.warns(cs.errors.DataWarning, match=fx["python_warns"]):
            return cs.fit(fx["model"], data, group=opts.get("group"), **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a reference fit must be clean: no warning at all
        return cs.fit(fx["model"], data, group=opts.get("group"), **kwargs)


def _key(lhs: str, op: str, rhs: str, group: int) -> tuple:
    if op == "~~" and rhs < lhs:
        lhs, rhs = rhs, lhs
    return (lhs, op, rhs, 0 if op == ":=" else int(group))


@pytest.fixture(scope="module", params=CASES)
def case(request):
    fx = load_case(request.param)
    return fx, fit_case(fx)


def test_converged(case):
    fx, res = case
    assert fx["converged"]
    assert res.converged == True  # noqa: E712 (Convergence compares with bool)
    assert res.converged.max_gradient < 1e-6


#: Known gaps, each with the tolerance it does meet (to be closed, not widened).  Empty: the
#: FIML-corrected .robust indices with free covariates (hs_mcar_fiml_mimic_freex) now follow
#: lavaan's fit.tilde refit, whose Wc leaves out the covariates' moments (engine/fiml.py).
KNOWN_GAPS: dict[str, tuple[set[str], float]] = {}


def test_every_fit_measure_matches_lavaan(case):
    fx, res = case
    ours = res.fit_measures
    theirs = fx["fit_measures"]
    gaps, gap_tol = KNOWN_GAPS.get(fx["case"], (set(), 0.0))
    compared = 0
    for name, value in ours.items():
        expected = theirs.get(name)
        if expected is None:
            continue
        compared += 1
        tol = gap_tol if name in gaps else 1e-3
        assert value == pytest.approx(expected, abs=tol, rel=1e-6), name
    # everything DESIGN.md lists is there and compared
    for name in ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
                 "rmsea.ci.upper", "rmsea.pvalue", "srmr", "aic", "bic", "logl", "npar",
                 "ntotal", "baseline.chisq", "baseline.df", "gfi"]:
        assert name in ours.index
    assert compared >= 40


def test_parameters_match_lavaan(case):
    fx, res = case
    ours = {_key(r.lhs, r.op, r.rhs, r.group): r for r in res.params.itertuples(index=False)}
    theirs = pd.DataFrame(fx["params"])
    theirs = theirs[~theirs["op"].isin(["==", "<", ">"])]  # constraint rows
    assert len(ours) == len(theirs)
    for r in theirs.itertuples(index=False):
        mine = ours[_key(r.lhs, r.op, r.rhs, r.group)]
        where = f"{r.lhs} {r.op} {r.rhs} (group {r.group})"
        assert mine.est == pytest.approx(r.est, abs=1e-3), where
        assert mine.se == pytest.approx(r.se, rel=1e-3, abs=1e-9), where
    merged = res.params.assign(key=[_key(*t) for t in zip(res.params.lhs, res.params.op,
                                                            res.params.rhs, res.params.group)])
    theirs = theirs.assign(key=[_key(*t) for t in zip(theirs.lhs, theirs.op, theirs.rhs,
                                                      theirs.group)])
    both = merged.merge(theirs, on="key", suffixes=("", "_lavaan"))
    for col in ["std.lv", "std.all", "ci.lower", "ci.upper"]:
        np.testing.assert_allclose(both[col], both[f"{col}_lavaan"], atol=1e-3, err_msg=col)
    ok = both["pvalue_lavaan"].notna()
    np.testing.assert_allclose(both.loc[ok, "pvalue"], both.loc[ok, "pvalue_lavaan"], atol=1e-3)


def test_implied_covariance_matches_lavaan(case):
    fx, res = case
    implied = res.implied()
    for ours, block in zip(implied.values(), fx["implied"]):
        names = block["names"]
        np.testing.assert_allclose(
            ours["cov"].loc[names, names].to_numpy(), np.asarray(block["cov"]), atol=1e-4
        )
