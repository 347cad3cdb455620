"""FIML's work bounds for many items (issue 14): the gathered expected information above
``KRONECKER_MAX_P`` variables is the same matrix as the Kronecker and product forms, and the
FIML fit's work is bounded (``engine/work_limits.py``: refused before or during the EM, before the
fit, or the ``.robust`` indices left out with a warning) and MLR with FIML stops at
``FIML_MOMENT_LIMIT`` with a typed refusal.

Data: ``tests/fixtures/data/hs_mcar.csv`` (Holzinger–Swineford with MCAR holes, the FIML
fixtures' data); the reference for the information is the module's own Kronecker form."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.engine import fiml
from cbec_sem.errors import CbecSemWarning, EstimationError

DATA = Path(__file__).parents[1] / "fixtures" / "data" / "hs_mcar.csv"
HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def hs_mcar():
    data = pd.read_csv(DATA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return data, cs.fit(HS_MODEL, data, missing="fiml")


def test_gathered_information_is_the_kronecker_form(hs_mcar, monkeypatch):
    _, res = hs_mcar
    est = res.estimation
    kron = est.function.evaluate(est.theta, information=True).information
    monkeypatch.setattr(fiml, "KRONECKER_MAX_P", 0)  # every group takes the gathered route
    gathered = est.function.evaluate(est.theta, information=True).information
    assert np.allclose(gathered, kron, rtol=1e-12, atol=1e-14 * np.abs(kron).max())


def _fit_with_limit(data, limit):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*missing on every model variable")
        return cs.fit(HS_MODEL, data, missing="fiml",
                      estimator_options={"fiml_work_limit": limit})


def _work(res):
    """The fit's work units (engine/work_limits.py), counted by hand: the EM's iterations
    × 0.2 Σₖ pₖ³, 15 · P · r² for the fit and (P · p⁴ + p*³)/50 for the robust indices."""
    est = res.estimation
    ps, h1 = est.stats.patterns[0], est.stats.h1[0]
    pk = ps.observed.sum(axis=1).astype(float)
    P, p = ps.observed.shape
    r = est.function.ram.layouts[0].free_param.size
    em = h1.iterations * 0.2 * float(np.sum(pk ** 3))
    fit = 15.0 * P * r ** 2
    robust = (P * p ** 4 + (p + p * (p + 1) / 2) ** 3) / 50.0
    return em, fit, robust


def test_work_is_counted_as_documented(hs_mcar):
    _, res = hs_mcar
    em, fit, _ = _work(res)
    assert res.estimation.function.work_done == pytest.approx(em + fit, rel=1e-12)


def test_robust_indices_beyond_the_work_limit_are_nan_with_a_warning(hs_mcar):
    data, res = hs_mcar
    em, fit, robust = _work(res)
    assert np.isfinite(res.fit_measures["cfi.robust"])
    at_limit = _fit_with_limit(data, em + fit + robust)
    assert at_limit.fit_measures["cfi.robust"] == pytest.approx(
        res.fit_measures["cfi.robust"], rel=1e-12)
    with pytest.warns(CbecSemWarning, match="fiml_work_limit"):
        small = _fit_with_limit(data, em + fit + robust - 1)
    fm = small.fit_measures
    assert np.isnan(fm["cfi.robust"]) and np.isnan(fm["rmsea.robust"])
    for name in ("chisq", "cfi", "rmsea", "srmr"):  # the rest is unchanged
        assert fm[name] == pytest.approx(res.fit_measures[name], rel=1e-12)


def test_fiml_beyond_the_work_limit_is_refused_before_the_fit(hs_mcar, monkeypatch):
    """Above the EM's and the fit's work the optimiser must not run; the message names the
    patterns, the variables and the option that allows it."""
    data, res = hs_mcar
    em, fit, _ = _work(res)

    def no_fit(*args, **kwargs):
        raise AssertionError("the optimiser ran")

    monkeypatch.setattr("cbec_sem.engine.estimate.fisher_scoring", no_fit)
    with pytest.raises(EstimationError) as info:
        _fit_with_limit(data, em + fit - 1)
    for part in ("missing-data patterns of 9 variables", "fiml_work_limit': None",
                 "missing='listwise'"):
        assert part in str(info.value)


def test_fiml_beyond_the_work_limit_is_refused_before_or_during_the_em(hs_mcar, monkeypatch):
    """A limit below EM_ITERATIONS iterations refuses before the EM runs; one between them
    and the iterations the EM needs stops it there.  Both are DataErrors naming the option
    (without the limit the EM of 132 items in ~2,000 patterns took minutes:
    benchmarks/bench_hostile.py)."""
    from cbec_sem.engine import work_limits as fiml_work

    data, res = hs_mcar
    ps, h1 = res.estimation.stats.patterns[0], res.estimation.stats.h1[0]
    per_iteration = fiml_work.em_work(ps.observed)
    assert h1.iterations > fiml_work.EM_ITERATIONS + 1
    with pytest.raises(cs.errors.DataError, match="had not converged after"):
        _fit_with_limit(data, (h1.iterations - 1) * per_iteration)

    def no_em(*args, **kwargs):
        raise AssertionError("the EM ran")

    monkeypatch.setattr("cbec_sem.engine.samplestats.em_saturated", no_em)
    with pytest.raises(cs.errors.DataError) as info:
        _fit_with_limit(data, fiml_work.EM_ITERATIONS * per_iteration - 1)
    for part in ("missing-data patterns of 9 variables", "fiml_work_limit",
                 "missing='listwise'"):
        assert part in str(info.value)


@pytest.mark.parametrize("value", ["x", -1, 0, True, float("nan")])
def test_the_work_limit_option_is_checked(hs_mcar, value):
    data, _ = hs_mcar
    with pytest.raises(cs.errors.SpecError, match="fiml_work_limit"):
        _fit_with_limit(data, value)


def test_the_work_limit_option_is_refused_without_fiml(hs_mcar):
    data, _ = hs_mcar
    with pytest.raises(cs.errors.SpecError, match="missing='fiml'"):
        cs.fit(HS_MODEL, data.dropna(), estimator_options={"fiml_work_limit": 1e9})


def test_no_limit_is_none(hs_mcar):
    data, res = hs_mcar
    assert _fit_with_limit(data, None).fit_measures["chisq"] == pytest.approx(
        res.fit_measures["chisq"], rel=1e-12)


def test_mlr_with_fiml_beyond_the_moment_limit_is_refused(hs_mcar, monkeypatch):
    """Refused before the fit (the 132-item case of bench_hostile paid 2 s of ML fit first):
    the optimiser must not run."""
    data, _ = hs_mcar
    monkeypatch.setattr(fiml, "FIML_MOMENT_LIMIT", 53)

    def no_fit(*args, **kwargs):
        raise AssertionError("the optimiser ran")

    monkeypatch.setattr("cbec_sem.engine.estimate.fisher_scoring", no_fit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CbecSemWarning)
        with pytest.raises(EstimationError, match="missing='listwise'"):
            cs.fit(HS_MODEL, data, estimator="MLR", missing="fiml")


def test_one_work_limit_for_all_groups_ems(hs_mcar):
    """The groups' EMs share the limit: with room for the first group's EM and less than
    EM_ITERATIONS iterations of the second's, the fit is refused at the second group (a
    limit per group let each of G groups spend all of it)."""
    from cbec_sem.engine import work_limits as fiml_work

    data, _ = hs_mcar
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cs.fit(HS_MODEL, data, missing="fiml", group="school")
    stats = res.estimation.stats
    first = stats.h1[0].iterations * fiml_work.em_work(stats.patterns[0].observed)
    second = fiml_work.EM_ITERATIONS * fiml_work.em_work(stats.patterns[1].observed)
    assert max(first, second) < first + second - 1  # each group alone would be let through
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(cs.errors.DataError, match=f"in group {stats.group_labels[1]!r}"):
            cs.fit(HS_MODEL, data, missing="fiml", group="school",
                   estimator_options={"fiml_work_limit": first + second - 1})
