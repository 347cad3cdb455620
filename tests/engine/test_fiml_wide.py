"""FIML's work bounds for many items (issue 14): the gathered expected information above
``KRONECKER_MAX_P`` variables is the same matrix as the Kronecker and product forms, and the
computations that invert a moments × moments matrix stop at ``FIML_MOMENT_LIMIT`` with a
warning (the FIML-corrected ``.robust`` indices) or a typed refusal (MLR with FIML).

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


def test_robust_indices_beyond_the_moment_limit_are_nan_with_a_warning(hs_mcar, monkeypatch):
    data, res = hs_mcar
    assert np.isfinite(res.fit_measures["cfi.robust"])
    monkeypatch.setattr(fiml, "FIML_MOMENT_LIMIT", 53)  # 9 items: 9 + 45 = 54 moments
    with pytest.warns(CbecSemWarning, match="FIML_MOMENT_LIMIT"):
        warnings.filterwarnings("ignore", message=".*missing on every model variable")
        small = cs.fit(HS_MODEL, data, missing="fiml")
    fm = small.fit_measures
    assert np.isnan(fm["cfi.robust"]) and np.isnan(fm["rmsea.robust"])
    for name in ("chisq", "cfi", "rmsea", "srmr"):  # the rest is unchanged
        assert fm[name] == pytest.approx(res.fit_measures[name], rel=1e-12)


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


def test_fiml_beyond_the_pattern_work_limit_is_refused_before_em(hs_mcar, monkeypatch):
    """Σₖ pₖ³ over hs_mcar's patterns (9 items) is at most (#patterns) × 729; a limit below it
    refuses the fit with a DataError that names the patterns, the limit and the
    alternatives, before the EM runs (which would otherwise be minutes for 132 items in
    ~2,000 patterns: benchmarks/bench_hostile.py)."""
    from cbec_sem.engine import patterns

    data, res = hs_mcar
    work = patterns.pattern_work(res.estimation.stats.patterns[0])
    assert 729 < work <= len(res.estimation.stats.patterns[0].counts) * 729
    monkeypatch.setattr(patterns, "FIML_WORK_LIMIT", work - 1)

    def no_em(*args, **kwargs):
        raise AssertionError("the EM ran")

    monkeypatch.setattr("cbec_sem.engine.samplestats.em_saturated", no_em)
    with pytest.raises(cs.errors.DataError) as info:
        cs.fit(HS_MODEL, data, missing="fiml")
    message = str(info.value)
    for part in ("missing-data patterns over 9 variables", "FIML_WORK_LIMIT",
                 "missing='listwise'"):
        assert part in message
    # at the limit itself the fit runs (the module fixture is that fit, with the default)
    monkeypatch.undo()
    monkeypatch.setattr(patterns, "FIML_WORK_LIMIT", work)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cs.fit(HS_MODEL, data, missing="fiml").converged
