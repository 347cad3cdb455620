"""A warm start of the LMS/QML maximiser (``start_inverse_hessian=``, what the bootstrap's
refits use) reaches the maximum a cold start reaches, in fewer iterations, and a matrix that
cannot be an inverse Hessian is refused with a typed error.

Reference: the cold fit of the same model and data (modsem's own values for these fits are
checked in test_propositions_lms.py / test_propositions_qml.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cbec_sem.engine.latent.model import as_interaction_model
from cbec_sem.errors import SpecError
from cbec_sem.propositions.interaction import fit_lms, fit_qml

ONEINT = """
X =~ x1 + x2 + x3
Z =~ z1 + z2 + z3
Y =~ y1 + y2 + y3
Y ~ X + Z + X:Z
"""
DATA = Path(__file__).resolve().parents[1] / "fixtures" / "modsem" / "modsem_oneInt.csv"


@pytest.fixture(scope="module")
def halves() -> tuple[pd.DataFrame, pd.DataFrame]:
    data = pd.read_csv(DATA)
    return data.iloc[:400], data.iloc[400:800]


@pytest.mark.parametrize("fitter", [fit_qml, fit_lms], ids=["QML", "LMS"])
def test_warm_start_reaches_the_cold_maximum_in_fewer_iterations(fitter, halves) -> None:
    first, second = halves
    base = fitter(ONEINT, first)
    warm_inverse = len(first) * base.vcov_matrix  # N · Cov(θ̂): the inverse Hessian of −ℓ/N
    cold = fitter(ONEINT, second, start=base.theta)
    warm = fitter(ONEINT, second, start=base.theta, start_inverse_hessian=warm_inverse)
    assert cold.converged.optimizer_converged and warm.converged.optimizer_converged
    # the same maximum: estimates within a small fraction of their standard errors
    se = np.sqrt(np.diag(cold.vcov_matrix))
    assert np.max(np.abs(warm.theta - cold.theta) / se) < 1e-3
    assert warm.loglik == pytest.approx(cold.loglik, abs=1e-6 * len(second))
    assert warm.iterations < cold.iterations


@pytest.mark.parametrize("make, message", [
    (lambda q: np.eye(q - 1), "must be"),
    (lambda q: -np.eye(q), "positive definite"),
    (lambda q: np.full((q, q), np.nan), "finite, symmetric"),
    (lambda q: np.triu(np.ones((q, q))) + q * np.eye(q), "finite, symmetric"),
], ids=["shape", "negative", "nan", "asymmetric"])
def test_a_matrix_that_is_no_inverse_hessian_is_refused(make, message, halves) -> None:
    q = as_interaction_model(ONEINT).nfree
    with pytest.raises(SpecError, match=message) as info:
        fit_qml(ONEINT, halves[0], start_inverse_hessian=make(q))
    assert "start_inverse_hessian" in str(info.value)
