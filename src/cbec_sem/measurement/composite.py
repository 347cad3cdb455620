"""The PLS-SEM assessment battery for fits by ``estimator="PLS"``/``"PLSc"`` (Hair et al.
2019, EBR 31(1); as SmartPLS and seminr report it), reached from the top level:
``cs.vif(res)``, ``cs.f_squared(res)``, ``cs.pls_predict(res)``, ``cs.ipma(res, target)``,
``cs.micom(res, group)``, ``cs.mga(res, group)``; ``cs.reliability``, ``cs.htmt``,
``cs.fornell_larcker`` and ``cs.cross_loadings`` give the PLS versions for a PLS fit.

Each function takes the :class:`~cbec_sem.results.FitResult` of a PLS fit (or the
:class:`~cbec_sem.pls.PLSEstimation` itself) and calls :mod:`cbec_sem.pls`; the formulas and
their sources are documented there.
"""

from __future__ import annotations

import pandas as pd

from ..errors import SpecError
from ..pls import PLSEstimation, assessment, ipma as _ipma, micom as _micom
from ..pls import pls_mga, predict_pls

__all__ = ["is_pls", "pls_estimation", "vif", "f_squared", "pls_predict", "ipma", "micom",
           "mga"]


def is_pls(res) -> bool:
    """Whether ``res`` is a PLS fit (or a PLS estimation)."""
    return isinstance(getattr(res, "estimation", res), PLSEstimation)


def pls_estimation(res, what: str) -> PLSEstimation:
    """The PLS estimation behind ``res``, or a SpecError naming what needs one."""
    est = getattr(res, "estimation", res)
    if not isinstance(est, PLSEstimation):
        raise SpecError(f"{what} assesses a PLS-SEM fit: fit with cs.fit(model, data, "
                        f"estimator='PLS') (this is a {type(est).__name__})")
    return est


def vif(res) -> pd.DataFrame:
    """Collinearity of a PLS fit: inner VIFs of every structural predictor and outer VIFs of
    every indicator (a warning names formative indicators above 5); one table with a
    ``kind`` column (``"inner"``, ``"outer"``).

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), estimator="PLS")
        >>> cs.vif(res)[["outcome", "predictor", "vif", "kind"]].head(3).round(3)
          outcome predictor    vif   kind
        0      FA        TA  1.000  inner
        1     SCI        TA  1.243  inner
        2     SCI        FA  1.170  inner
    """
    est = pls_estimation(res, "cs.vif")
    inner = assessment.inner_vif(est).assign(kind="inner")
    outer = assessment.outer_vif(est).assign(kind="outer")
    return pd.concat([inner, outer], ignore_index=True)


def f_squared(res, *, convention: str = "reestimate") -> pd.DataFrame:
    """Cohen's f² of every path of a PLS fit: ``"reestimate"`` (seminr's: R² change when the
    model is re-estimated without the path) or ``"same_scores"`` (R² change on the same
    construct scores).

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), estimator="PLS")
        >>> cs.f_squared(res).round(3)
          outcome predictor     f2
        0      FA        TA  0.169
        1     SCI        TA  0.000
        2     SCI        FA  0.125
        3     SCI        PC  0.045
    """
    return assessment.f_squared(pls_estimation(res, "cs.f_squared"), convention=convention)


def pls_predict(res, **options):
    """PLSpredict (Shmueli et al. 2016, 2019): :func:`cbec_sem.pls.predict_pls`.

    Examples:
        >>> data = cs.datasets.example_survey()
        >>> res = cs.fit("TA =~ ta1 + ta2 + ta3 + ta4; FA =~ fa1 + fa2 + fa3 + fa4; FA ~ TA",
        ...              data, estimator="PLS")
        >>> pred = cs.pls_predict(res, seed=1)
        >>> pred
        <PLSPrediction 10-fold x 1, DA, 4 indicators>
    """
    return predict_pls(pls_estimation(res, "cs.pls_predict"), **options)


def ipma(res, target: str, **options):
    """Importance-performance map analysis (Ringle & Sarstedt 2016): :func:`cbec_sem.pls.ipma`.

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), estimator="PLS")
        >>> cs.ipma(res, "SCI")
        <IPMAResult target='SCI': 3 constructs, unstandardized weights>
    """
    return _ipma(pls_estimation(res, "cs.ipma"), target, **options)


def micom(res, group, **options):
    """MICOM steps 2–3 (Henseler, Ringle & Sarstedt 2016): :func:`cbec_sem.pls.micom`.

    Examples:
        >>> data = cs.datasets.example_survey()
        >>> res = cs.fit("TA =~ ta1 + ta2 + ta3 + ta4; FA =~ fa1 + fa2 + fa3 + fa4; FA ~ TA",
        ...              data, estimator="PLS")
        >>> cs.micom(res, data["channel"], permutations=100, seed=1)
        <MICOMResult: compositional invariance for 1 of 2 constructs, 100 permutations>
    """
    return _micom(pls_estimation(res, "cs.micom"), group, **options)


def mga(res, group, **options) -> pd.DataFrame:
    """Multi-group analysis of path differences: :func:`cbec_sem.pls.pls_mga`.

    Examples:
        >>> data = cs.datasets.example_survey()
        >>> res = cs.fit("TA =~ ta1 + ta2 + ta3 + ta4; FA =~ fa1 + fa2 + fa3 + fa4; FA ~ TA",
        ...              data, estimator="PLS")
        >>> cs.mga(res, data["channel"], draws=100, seed=1)[["lhs", "rhs", "group1", "group2", "diff", "p_henseler"]].round(3)
          lhs rhs    group1            group2   diff  p_henseler
        0  FA  TA  platform  independent site  0.049       0.309
    """
    return pls_mga(pls_estimation(res, "cs.mga"), group, **options)
