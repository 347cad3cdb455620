"""FIML (``missing="fiml"``) equals lavaan 0.6-14's ``missing = "ml"``.

Expected values come from ``tests/fixtures/lavaan_fiml/*.json``, written by
``tests/fixtures/make_fiml_fixtures.R``: psych's bfi (N = 2800, real missing answers, a 3-factor
CFA on 15 items), HolzingerSwineford1939 with ~10% of the values deleted completely at random
and two rows blanked on every item (``tests/fixtures/data/hs_mcar.csv``) — single group, by
school, with an equality constraint, with fixed covariates (one of them missing in a row), with
expected instead of observed information — and the complete HS data.  Tolerances are the issue's: estimates within 1e-3, standard errors
within 1e-3 relative, every fit measure within 1e-3 (we agree to ~1e-5).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.engine.em import em_saturated, pattern_loglik
from cbec_sem.engine.fiml import (
    FIMLFunction,
    fiml_corrected,
    h1_information,
    robust_fiml_measures,
    vech_index,
)
from cbec_sem.engine.inference import observed_information_x
from cbec_sem.engine.patterns import (
    _padded_inverses,
    coverage,
    missing_patterns,
    pattern_stats,
    sub_inverses,
)
from cbec_sem.errors import DataError, DataWarning, SpecError

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
ALL_CASES = sorted(p.stem for p in (FIXTURES / "lavaan_fiml").glob("*.json"))
ML_CASES = [c for c in ALL_CASES if not c.endswith("_mlr")]
MLR_CASES = [c for c in ALL_CASES if c.endswith("_mlr")]
HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
XS = [f"x{i}" for i in range(1, 10)]


def load_case(name: str) -> dict:
    return json.loads((FIXTURES / "lavaan_fiml" / f"{name}.json").read_text())


def read_data(fx: dict) -> pd.DataFrame:
    return pd.read_csv(REPO / fx["data"])


def fit_case(fx: dict, **extra) -> tuple[cs.FitResult, list]:
    """The case's fit with lavaan's options, ``extra`` overriding them (e.g. ``estimator``)."""
    opts = fx["options"]
    kwargs = {"missing": "fiml"}
    if "group" in opts:
        kwargs["group"] = opts["group"]
    if opts.get("std.lv"):
        kwargs["std_lv"] = True
    if "estimator" in opts:
        kwargs["estimator"] = opts["estimator"]
    if "information" in opts:
        kwargs["information"] = opts["information"]
    kwargs.update(extra)  # (the mlr_case fixture asks for ML, whose estimates are MLR's)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cs.fit(fx["model"], read_data(fx), **kwargs)
    return res, [w for w in caught]


def _key(lhs, op, rhs, group):
    if op == "~~" and rhs < lhs:
        lhs, rhs = rhs, lhs
    return (lhs, op, rhs, int(group))


@pytest.fixture(scope="module", params=ML_CASES)
def case(request):
    fx = load_case(request.param)
    res, caught = fit_case(fx)
    return fx, res, caught


# ------------------------------------------------------------------------------ lavaan


def test_converged_with_lavaans_warnings_only(case):
    fx, res, caught = case
    assert fx["converged"]
    assert res.converged == True  # noqa: E712
    assert res.converged.max_gradient < 1e-6
    # lavaan warned (empty cases, or cases missing a fixed covariate) exactly when we do
    ours = [w for w in caught if issubclass(w.category, DataWarning)]
    assert len(ours) == len(fx["warnings"])
    assert all(issubclass(w.category, DataWarning) for w in caught)


def test_parameters_match_lavaan(case):
    fx, res, _ = case
    theirs = pd.DataFrame(fx["params"])
    theirs = theirs[theirs["op"] != "=="]
    ours = res.params
    assert len(ours) == len(theirs)
    merged = ours.assign(key=[_key(*t) for t in zip(ours.lhs, ours.op, ours.rhs, ours.group)])
    theirs = theirs.assign(
        key=[_key(*t) for t in zip(theirs.lhs, theirs.op, theirs.rhs, theirs.group)])
    both = merged.merge(theirs, on="key", suffixes=("", "_lavaan"))
    assert len(both) == len(theirs)
    np.testing.assert_allclose(both["est"], both["est_lavaan"], atol=1e-3)
    np.testing.assert_allclose(both["se"], both["se_lavaan"], rtol=1e-3, atol=1e-9)
    for col in ["std.lv", "std.all", "ci.lower", "ci.upper"]:
        np.testing.assert_allclose(both[col], both[f"{col}_lavaan"], atol=1e-3, err_msg=col)
    ok = both["pvalue_lavaan"].notna()
    np.testing.assert_allclose(both.loc[ok, "pvalue"], both.loc[ok, "pvalue_lavaan"], atol=1e-3)


def test_every_fit_measure_matches_lavaan(case):
    fx, res, _ = case
    ours = res.fit_measures
    theirs = fx["fit_measures"]
    # the same measures, in lavaan's order (the FIML-corrected .robust ones included)
    assert list(ours.index) == list(theirs)
    for name, expected in theirs.items():
        if expected is None:
            assert np.isnan(ours[name]), name
        else:
            assert ours[name] == pytest.approx(expected, abs=1e-3, rel=1e-6), name


def test_sample_sizes_and_dropped_rows(case):
    fx, res, _ = case
    stats = res.estimation.stats
    assert list(stats.nobs) == fx["nobs"]
    assert stats.ntotal == fx["ntotal"]
    assert stats.rows_total - stats.rows_dropped == fx["ntotal"]
    assert stats.rows_total == sum(fx["norig"])


def test_em_h1_matches_lavaan(case):
    fx, res, _ = case
    stats = res.estimation.stats
    for g, block in enumerate(fx["h1"]):
        order = [stats.names.index(v) for v in block["names"]]
        np.testing.assert_allclose(stats.h1[g].mean[order], block["mean"], atol=1e-4)
        np.testing.assert_allclose(stats.h1[g].cov[np.ix_(order, order)], block["cov"],
                                   atol=1e-4)
        # the sample moments the rest of the engine sees are the EM ones
        np.testing.assert_allclose(stats.covs[g], stats.h1[g].cov)
    assert res.fit_measures["unrestricted.logl"] == pytest.approx(
        fx["fit_measures"]["unrestricted.logl"], abs=1e-4)


def test_patterns_and_coverage_match_lavaan(case):
    fx, res, _ = case
    stats = res.estimation.stats
    for g, (pat, cov) in enumerate(zip(fx["patterns"], fx["coverage"])):
        ps = stats.patterns[g]
        order = [stats.names.index(v) for v in pat["names"]]
        np.testing.assert_array_equal(ps.observed[:, order], np.asarray(pat["observed"], bool))
        np.testing.assert_array_equal(ps.counts, pat["freq"])
        np.testing.assert_allclose(ps.coverage[np.ix_(order, order)], cov["coverage"],
                                   atol=1e-12)
        table = ps.table()
        assert table["count"].sum() == fx["nobs"][g]
        assert list(table.columns[4:]) == list(stats.names)


def test_implied_moments_match_lavaan(case):
    fx, res, _ = case
    for ours, block in zip(res.implied().values(), fx["implied"]):
        names = block["names"]
        np.testing.assert_allclose(ours["cov"].loc[names, names].to_numpy(), block["cov"],
                                   atol=1e-4)
        np.testing.assert_allclose(ours["mean"].loc[block["mean_names"]].to_numpy(),
                                   block["mean"], atol=1e-4)


# ------------------------------------------------------------------------------ MLR


@pytest.fixture(scope="module", params=MLR_CASES)
def mlr_case(request):
    fx = load_case(request.param)
    res, _ = fit_case(fx, estimator="ML")  # the ML point estimates are MLR's
    return fx, res


def test_casewise_scores_give_lavaans_mlr_standard_errors(mlr_case):
    # lavaan's MLR under FIML: N·Cov = H⁻¹ B H⁻¹, H the observed information, B the mean
    # outer product of the casewise scores (what engine/robust.py builds on)
    fx, res = mlr_case
    est = res.estimation
    f = est.function
    scores = np.vstack(f.casewise_scores(est.theta))
    N = f.ntotal
    grad = f.evaluate(est.theta, gradient=True).gradient
    np.testing.assert_allclose(scores.sum(axis=0) / N, -grad, atol=1e-10)
    H = observed_information_x(f.evaluate, est.reparam, est.reparam.x(est.theta))
    H_inv = np.linalg.inv(H)
    se = np.sqrt(np.diag(H_inv @ (scores.T @ scores / N) @ H_inv / N))
    theirs = pd.DataFrame(fx["params"])
    free = est.ram.free_index
    frame = est.partable.frame
    ours = {_key(a, o, b, g): se[free[k]] for k, (a, o, b, g) in
            enumerate(zip(frame.lhs, frame.op, frame.rhs, frame.group)) if free[k] >= 0}
    for r in theirs[theirs.se > 0].itertuples():
        assert ours[_key(r.lhs, r.op, r.rhs, r.group)] == pytest.approx(r.se, rel=1e-3)


def test_fiml_corrected_v3_robust_measures_match_lavaans_mlr(mlr_case):
    fx, res = mlr_case
    est = res.estimation
    fm = res.fit_measures
    fc = fiml_corrected(est.function, est.theta, est.reparam, int(fm["df"]),
                        int(fm["baseline.df"]), version="V3")
    robust = robust_fiml_measures(fc, est.function.ntotal, est.stats.ngroups)
    for name, value in robust.items():
        assert value == pytest.approx(fx["fit_measures"][name], abs=1e-3), name


def test_mlr_with_fiml_matches_lavaan_when_available(mlr_case):
    fx, _ = mlr_case
    try:
        res, _ = fit_case(fx)
    except SpecError as exc:
        if "not available" in str(exc):
            pytest.skip("estimator='MLR' with missing='fiml' is not in this release yet")
        raise
    theirs = fx["fit_measures"]
    for name, value in res.fit_measures.items():
        if theirs.get(name) is not None:
            assert value == pytest.approx(theirs[name], abs=1e-3, rel=1e-6), name
    pe = pd.DataFrame(fx["params"])
    ours = {_key(*t[:4]): t[4] for t in zip(res.params.lhs, res.params.op, res.params.rhs,
                                             res.params.group, res.params.se)}
    for r in pe[pe.se > 0].itertuples():
        assert ours[_key(r.lhs, r.op, r.rhs, r.group)] == pytest.approx(r.se, rel=1e-3)


# ------------------------------------------------------------------------------ behaviour


@pytest.fixture(scope="module")
def hs():
    return cs.datasets.holzinger_swineford_1939()


@pytest.fixture(scope="module")
def hs_mcar():
    return pd.read_csv(REPO / "tests/fixtures/data/hs_mcar.csv")


def test_complete_data_fiml_equals_ml(hs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fiml = cs.fit(HS_MODEL, hs, missing="fiml")
        ml = cs.fit(HS_MODEL, hs, meanstructure=True, information="observed")
    np.testing.assert_allclose(fiml.params["est"], ml.params["est"], atol=1e-6)
    np.testing.assert_allclose(fiml.params["se"], ml.params["se"], rtol=1e-5)
    for name in ["chisq", "df", "logl", "unrestricted.logl", "aic", "bic", "rmsea", "srmr",
                 "cfi", "tli", "baseline.chisq", "gfi"]:
        assert fiml.fit_measures[name] == pytest.approx(ml.fit_measures[name], rel=1e-6,
                                                        abs=1e-8), name
    assert fiml.estimation.stats.h1[0].iterations == 0  # closed form, no EM


def test_fiml_is_lavaans_default_information_and_mean_structure(hs_mcar):
    with pytest.warns(DataWarning):
        res = cs.fit(HS_MODEL, hs_mcar, missing="ml", meanstructure=False)  # lavaan's name
    assert res.estimation.options.missing == "fiml"
    assert res.estimation.options.information == "observed"
    assert res.estimation.meanstructure
    assert (res.params["op"] == "~1").sum() == 12
    with pytest.warns(DataWarning):
        expected = cs.fit(HS_MODEL, hs_mcar, missing="fiml", information="expected")
    assert expected.estimation.options.information == "expected"
    np.testing.assert_allclose(expected.params["est"], res.params["est"], atol=1e-8)
    assert not np.allclose(expected.params["se"], res.params["se"], rtol=1e-4)


def test_empty_rows_are_dropped_and_reported(hs_mcar):
    with pytest.warns(DataWarning, match=r"2 of 301 rows are missing on every model variable"):
        res = cs.fit(HS_MODEL, hs_mcar, missing="fiml")
    stats = res.estimation.stats
    assert stats.rows_dropped == 2 and stats.ntotal == 299
    np.testing.assert_array_equal(stats.patterns[0].empty_rows, [4, 5])
    assert any("FIML dropped 2 of 301 rows" in n for n in res.notes)
    # a row with one answer is kept
    one = hs_mcar.copy()
    one.loc[4, "x1"] = 4.5
    with pytest.warns(DataWarning, match=r"1 of 301 rows"):
        res1 = cs.fit(HS_MODEL, one, missing="fiml")
    assert res1.estimation.stats.ntotal == 300


def test_pattern_summaries(hs_mcar):
    fx = load_case("hs_mcar_fiml")
    table = missing_patterns(hs_mcar, XS)
    assert list(table["count"]) == fx["patterns"][0]["freq"]
    assert table.attrs["empty_rows"] == 2
    np.testing.assert_array_equal(table[XS].to_numpy(), np.asarray(fx["patterns"][0]["observed"],
                                                                   bool))
    assert table["proportion"].sum() == pytest.approx(1.0)
    cov = coverage(hs_mcar, XS)
    np.testing.assert_allclose(cov.loc[XS, XS].to_numpy(), fx["coverage"][0]["coverage"])
    assert list(cov.index) == XS
    with pytest.raises(DataError, match="'x99'"):
        missing_patterns(hs_mcar, ["x1", "x99"])


def test_gradient_information_and_casewise_values(hs_mcar):
    with pytest.warns(DataWarning):
        res = cs.fit(HS_MODEL, hs_mcar, missing="fiml")
    f = res.estimation.function
    assert isinstance(f, FIMLFunction)
    theta = res.estimation.theta * 1.05  # away from the optimum
    ev = f.evaluate(theta, gradient=True, information=True)
    num = np.empty_like(theta)
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = 1e-6
        num[k] = (f.value(theta + e) - f.value(theta - e)) / 2e-6
    np.testing.assert_allclose(ev.gradient, num, atol=1e-7)
    np.testing.assert_allclose(ev.information, ev.information.T, atol=1e-12)
    assert np.linalg.eigvalsh(ev.information).min() > 0
    casewise = np.concatenate(f.casewise_loglik(theta))
    assert casewise.sum() == pytest.approx(f.loglik(theta), rel=1e-12)
    assert f.loglik(res.estimation.theta) == pytest.approx(res.fit_measures["logl"], rel=1e-10)
    scores = np.vstack(f.casewise_scores(theta))
    np.testing.assert_allclose(scores.sum(axis=0), -f.ntotal * ev.gradient, atol=1e-8)


def test_sub_inverses_match_direct_inversion():
    rng = np.random.default_rng(7)
    for p in (2, 5, 9):
        a = rng.normal(size=(p, p))
        sigma = a @ a.T + p * np.eye(p)
        obs = rng.random((40, p)) > 0.45
        obs[obs.sum(axis=1) == 0, 0] = True
        K, logdet = sub_inverses(sigma, obs)
        K2, logdet2 = _padded_inverses(sigma, obs)
        np.testing.assert_allclose(K, K2, atol=1e-12)
        np.testing.assert_allclose(logdet, logdet2, atol=1e-12)
        for k in range(5):
            o = np.flatnonzero(obs[k])
            np.testing.assert_allclose(K[k][np.ix_(o, o)],
                                       np.linalg.inv(sigma[np.ix_(o, o)]), atol=1e-12)


def test_em_maximises_the_likelihood_and_h1_information_is_its_hessian(hs_mcar):
    x = hs_mcar[["x1", "x2", "x4"]].to_numpy(float)
    ps = pattern_stats(x, ("x1", "x2", "x4"))
    em = em_saturated(ps)
    assert em.converged and em.iterations > 0
    p = 3
    I, J = vech_index(p)

    def loglik(par):
        mu = par[:p]
        s = np.zeros((p, p))
        s[I, J] = par[p:]
        s[J, I] = par[p:]
        return pattern_loglik(ps, mu, s)

    par = np.concatenate([em.mean, em.cov[I, J]])
    m = par.size
    grad = np.array([(loglik(par + h) - loglik(par - h)) / 2e-6
                     for h in np.eye(m) * 1e-6])
    np.testing.assert_allclose(grad, 0.0, atol=1e-5)  # a stationary point
    hess = np.empty((m, m))
    step = 1e-4
    for a in range(m):
        for b in range(m):
            ea, eb = np.eye(m)[a] * step, np.eye(m)[b] * step
            hess[a, b] = (loglik(par + ea + eb) - loglik(par + ea - eb) - loglik(par - ea + eb)
                          + loglik(par - ea - eb)) / (4 * step * step)
    info = h1_information(ps, em.mean, em.cov, "observed")
    np.testing.assert_allclose(info, -hess / ps.nobs, atol=1e-5)
    assert np.linalg.eigvalsh(info).min() > 0
    # complete data: the EM answer is the sample moments
    full = pattern_stats(hs_mcar[["x1", "x2"]].dropna().to_numpy(float), ("x1", "x2"))
    em_full = em_saturated(full)
    np.testing.assert_allclose(em_full.cov, np.cov(full.data, rowvar=False, bias=True))


def test_fiml_data_errors(hs_mcar):
    empty_col = hs_mcar.assign(x3=np.nan)
    with pytest.raises(DataError, match="'x3'.*empty"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs.fit(HS_MODEL, empty_col, missing="fiml")
    apart = hs_mcar.copy()
    apart.loc[apart.index < 150, "x1"] = np.nan
    apart.loc[apart.index >= 150, "x2"] = np.nan
    with pytest.raises(DataError, match="x2/x1|x1/x2"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs.fit(HS_MODEL, apart, missing="fiml")
    const = hs_mcar.assign(x9=np.where(hs_mcar["x9"].isna(), np.nan, 3.0))
    with pytest.raises(DataError, match="'x9'.*constant"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs.fit(HS_MODEL, const, missing="fiml")


def test_expected_information_in_pattern_chunks_is_the_same(monkeypatch):
    """Above 40 items the incomplete-data expected information is summed over patterns in
    chunks (bounded memory: ~1,850 patterns × 1,210 parameters held 21 GB at once); any chunk
    size gives the single-pass sum to rounding."""
    import numpy as np

    from cbec_sem.engine import fiml

    rng = np.random.default_rng(0)
    P, p, r = 30, 45, 20
    A = rng.normal(size=(P, p, p))
    K = A @ A.transpose(0, 2, 1)
    w, U, V, D = rng.random(P), *rng.normal(size=(3, p, r))
    whole = fiml._expected_rows(K, w, U, V, D)
    monkeypatch.setattr(fiml, "_CHUNK_ELEMENTS", 3 * p * r)  # chunks of 3 patterns
    np.testing.assert_allclose(fiml._expected_rows(K, w, U, V, D), whole, rtol=1e-12,
                               atol=1e-12 * np.abs(whole).max())
