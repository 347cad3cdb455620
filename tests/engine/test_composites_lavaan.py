"""Composites (``F <~ 1*x1 + x2 + x3``) in CB-SEM equal lavaan 0.6-14's, number for number.

Expected values come from ``tests/fixtures/lavaan_composites/*.json``, written by
``tests/fixtures/make_composite_fixtures.R`` (lavaan's parameter table, ``parameterEstimates``
with std.lv/std.all, ``standardizedSolution()`` SEs, ``fitMeasures()``, the implied moments and
the vcov of the free parameters): PoliticalDemocracy (ML, MLM, MLR, mean structure, labels and
a second fixed weight, one outcome, a composite exogenous beside a factor) and
HolzingerSwineford1939 (two factors as outcomes; fixed.x = FALSE; by school; observed
outcomes; two composites; FIML with ML and MLR on ~10% MCAR values).  Tolerances are the
project's: estimates and standardised values 1e-3 absolute, SEs 1e-3 relative, χ² and logl
1e-5 relative, the other fit measures 1e-3.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.measurement._delta import standardized_se

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
DIR = FIXTURES / "lavaan_composites"
CASES = sorted(p.stem for p in DIR.glob("*.json") if p.stem != "refused")


def load_case(name: str) -> dict:
    return json.loads((DIR / f"{name}.json").read_text())


def fit_case(fx: dict) -> cs.FitResult:
    opts = fx["options"] or {}
    kwargs = {}
    for r_name, py_name in [("estimator", "estimator"), ("meanstructure", "meanstructure"),
                            ("fixed.x", "fixed_x"), ("group", "group")]:
        if r_name in opts:
            kwargs[py_name] = opts[r_name]
    if opts.get("missing") == "ml":
        kwargs["missing"] = "fiml"
    data = pd.read_csv(REPO / fx["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a reference fit must be clean...
        # ...except that hs_mcar.csv has two rows empty on every item, which lavaan drops too
        warnings.filterwarnings("ignore", message=".*missing on every model variable")
        # ...and lavaan drops the rows missing a fixed covariate (fixed.x) with a warning too
        warnings.filterwarnings("ignore", message=".*miss a value of the exogenous covariate")
        return cs.fit(fx["model"], data, **kwargs)


def _key(lhs: str, op: str, rhs: str, group) -> tuple:
    if op == "~~" and rhs < lhs:
        lhs, rhs = rhs, lhs
    return (lhs, op, rhs, int(group))


@pytest.fixture(scope="module", params=CASES)
def case(request):
    fx = load_case(request.param)
    return fx, fit_case(fx)


def test_partable_has_lavaans_rows_and_flags(case):
    # ops, free/fixed, fixed values and exo flags of every row of lavaan's parTable()
    fx, res = case
    theirs = pd.DataFrame(fx["partable"])
    theirs = theirs[theirs["op"] != "=="]  # lavaan's rows for shared labels
    ours = res.estimation.partable.frame
    mine = {_key(r.lhs, r.op, r.rhs, r.group): r for r in ours.itertuples(index=False)}
    assert len(mine) == len(theirs)
    for r in theirs.itertuples(index=False):
        row = mine[_key(r.lhs, r.op, r.rhs, r.group)]
        where = f"{r.lhs} {r.op} {r.rhs} (group {r.group})"
        assert (row.free > 0) == (r.free > 0), where
        assert row.exo == r.exo, where
        if r.free == 0 and r.ustart is not None and np.isfinite(r.ustart):
            assert row.ustart == r.ustart, where
    # the composite's variance: fixed to 0, as lavaan's lv.formative
    for f in res.estimation.partable.roles.composites:
        var = ours[(ours["lhs"] == f) & (ours["op"] == "~~") & (ours["rhs"] == f)]
        assert (var["free"] == 0).all() and (var["ustart"] == 0).all()


def test_estimates_ses_and_standardised_values(case):
    fx, res = case
    assert fx["converged"] and res.converged == True  # noqa: E712
    ours = {_key(r.lhs, r.op, r.rhs, r.group): r for r in res.params.itertuples(index=False)}
    theirs = pd.DataFrame(fx["params"])
    theirs = theirs[theirs["op"] != "=="]
    assert len(ours) == len(theirs)
    compared = 0
    for r in theirs.itertuples(index=False):
        mine = ours[_key(r.lhs, r.op, r.rhs, r.group)]
        where = f"{r.lhs} {r.op} {r.rhs} (group {r.group})"
        assert mine.est == pytest.approx(r.est, abs=1e-3), where
        assert mine.se == pytest.approx(r.se, rel=1e-3, abs=1e-9), where
        compared += r.op == "<~"
    assert compared >= 2
    both = res.params.assign(key=[_key(*t) for t in zip(res.params.lhs, res.params.op,
                                                        res.params.rhs, res.params.group)])
    theirs = theirs.assign(key=[_key(*t) for t in zip(theirs.lhs, theirs.op, theirs.rhs,
                                                      theirs.group)])
    both = both.merge(theirs, on="key", suffixes=("", "_lavaan"))
    assert len(both) == len(theirs)
    for col in ["std.lv", "std.all"]:
        np.testing.assert_allclose(both[col], both[f"{col}_lavaan"], atol=1e-3, err_msg=col)
    # intervals are est ± 1.96 SE and z = est / SE: the SE's relative tolerance carries over
    ok = both["se_lavaan"] > 0
    for col in ["ci.lower", "ci.upper"]:
        gap = (both.loc[ok, col] - both.loc[ok, f"{col}_lavaan"]).abs()
        assert (gap <= 1e-3 + 2e-3 * both.loc[ok, "se_lavaan"]).all(), col
    gap = (both.loc[ok, "z"] - both.loc[ok, "z_lavaan"]).abs()
    assert (gap <= 1e-3 * np.maximum(1.0, both.loc[ok, "z_lavaan"].abs())).all()


def test_standardized_solution_standard_errors(case):
    # standardizedSolution()$se, the fixed first weight included (its std.all moves with θ)
    fx, res = case
    ours = standardized_se(res)
    ss = pd.DataFrame(fx["std_solution"])
    ss = ss[ss["op"].isin(["=~", "<~", "~", "~~", "~1"])]
    ngroups = fx["ngroups"]
    groups = ss["group"] if "group" in ss else pd.Series(1, index=ss.index)
    for r, g in zip(ss.itertuples(index=False), groups):
        lhs, rhs = r.lhs, r.rhs
        name = f"{lhs}{r.op}{rhs}" if r.op != "~1" else f"{lhs}~1"
        if name not in ours.index and r.op == "~~":
            name = f"{rhs}~~{lhs}"
        if ngroups > 1 and int(g) > 1:
            name += f".g{int(g)}"
        if r.se is None or not np.isfinite(r.se):  # lavaan: NaN for a fixed zero covariance
            assert not np.isfinite(ours[name]) or ours[name] == 0, name
            continue
        assert ours[name] == pytest.approx(r.se, rel=1e-3, abs=1e-6), name


def test_fit_measures(case):
    fx, res = case
    ours = res.fit_measures
    theirs = fx["fit_measures"]
    compared = 0
    for name, value in ours.items():
        expected = theirs.get(name)
        if expected is None:
            continue
        compared += 1
        if name.startswith(("chisq", "logl", "unrestricted.logl", "baseline.chisq")):
            assert value == pytest.approx(expected, rel=1e-5), name
        else:
            assert value == pytest.approx(expected, abs=1e-3, rel=1e-6), name
    assert compared >= 40
    assert ours["npar"] == theirs["npar"]


def test_vcov_and_implied_moments(case):
    fx, res = case
    vc = res.vcov
    theirs = np.asarray(fx["vcov"]["matrix"], dtype=float)
    labelled = any(pd.DataFrame(fx["partable"])["label"] != "")
    if not labelled:  # lavaan names a labelled parameter by its label, once per copy
        # ours "F <~ x2 (group 2)", lavaan's "F<~x2.g2" (nothing for group 1)
        names = [re.sub(r"\(group(\d+)\)$", lambda m: "" if m[1] == "1" else f".g{m[1]}",
                        n.replace(" ", "")) for n in vc.index]
        lookup = {n: i for i, n in enumerate(names)}
        order = [lookup[n] for n in fx["vcov"]["names"]]
        mine = vc.to_numpy()[np.ix_(order, order)]
        scale = np.sqrt(np.outer(np.diag(theirs), np.diag(theirs)))
        # on the correlation scale, where the SEs' relative tolerance (1e-3) applies
        np.testing.assert_allclose(mine / scale, theirs / scale, atol=1e-3)
    for ours, block in zip(res.implied().values(), fx["implied"]):
        names = block["names"]
        np.testing.assert_allclose(ours["cov"].loc[names, names].to_numpy(),
                                   np.asarray(block["cov"]), atol=1e-4)


def test_r_square_leaves_the_composite_out(case):
    # lavInspect(fit, "rsquare"): indicators and outcomes; a composite (R² = 1) is no outcome
    fx, res = case
    r2 = res.rsquare()
    for block in fx["rsquare"]:
        got = r2[r2["group"] == block["group"]].set_index("variable")["r2"]
        assert sorted(got.index) == sorted(block["names"])
        np.testing.assert_allclose(got.loc[block["names"]], block["values"], atol=1e-3)


def test_summary_prints_lavaans_composites_block():
    # lavaan's summary(fit, standardized = TRUE) (poldem_composite_summary.txt): a
    # "Composites:" block after "Latent Variables:", one row per weight
    fx = load_case("poldem_composite")
    text = str(fit_case(fx).summary())
    lavaan = (DIR / "poldem_composite_summary.txt").read_text().splitlines()
    start = lavaan.index("Composites:")
    expected = [line.split() for line in lavaan[start + 2:start + 6]]
    lines = text.splitlines()
    at = lines.index("Composites:")
    assert lines.index("Latent variables:") < at < lines.index("Regressions:")
    got = [line.split() for line in lines[at + 2:at + 6]]
    assert got[0] == expected[0] == ["ind60", "<~"]
    for mine, theirs in zip(got[1:], expected[1:]):
        assert mine[0] == theirs[0]
        # numbers to lavaan's 3 decimals; our z has 2
        np.testing.assert_allclose([float(v) for v in mine[1:]],
                                   [float(v) for v in theirs[1:]], atol=6e-3)
