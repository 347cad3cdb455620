"""PLS-SEM and PLSc (seminr's conventions): estimation, bootstrap and the assessment battery.

* :func:`estimate_pls` -> :class:`PLSEstimation` (``cs.fit(..., estimator="PLS"|"PLSc")``);
* :func:`bootstrap_pls` -> :class:`PLSBootstrap` (batched; percentile, BCa, studentised);
* :func:`predict_pls` -> :class:`PLSPrediction` (PLSpredict: k-fold, repeated, LM benchmark);
* :func:`ipma` -> :class:`IPMAResult` (importance-performance map, Ringle & Sarstedt 2016);
* :func:`cvpat` -> :class:`CVPATResult` (CVPAT against the IA and LM benchmarks);
* :func:`pls_simple_slopes`, :func:`pls_johnson_neyman` (probes with bootstrap intervals);
* :func:`interaction_refit`, :func:`interaction_row` (product terms a fit lacks: H5/H6);
* :func:`pls_mga`, :func:`micom` (two groups: Henseler, parametric, Welch, permutation; MICOM 2-3);
* :mod:`.assessment`: reliability, HTMT/HTMT2, Fornell–Larcker, cross-loadings, VIFs, f²;
* :mod:`.model` reads lavaan syntax (``=~`` mode A, ``<~`` mode B, ``~`` paths, ``X:Z``);
* :mod:`.algorithm` the batched weight iteration; :mod:`.stages` two-stage HOC/interactions;
* :mod:`.structural` paths, R², ρA, PLSc; :mod:`.fit_measures` SRMR, d_ULS, d_G.
"""

from __future__ import annotations

from . import assessment
from .groups import MICOMResult, micom, pls_mga
from .ipma import IPMAResult, ipma
from .predict import PLSPrediction, predict_pls
from .bootstrap import PLSBootstrap, bootstrap_pls
from .estimate import PLSEstimation, estimate_pls
from .model import PLSModel, pls_model
from .cvpat import CVPATResult, cvpat
from .interactions import interaction_refit, interaction_row
from .moderation import PLSJohnsonNeyman, pls_johnson_neyman, pls_simple_slopes

__all__ = ["PLSEstimation", "estimate_pls", "PLSBootstrap", "bootstrap_pls", "PLSModel",
           "pls_model", "assessment", "PLSPrediction", "predict_pls", "IPMAResult", "ipma",
           "pls_mga", "micom", "MICOMResult", "CVPATResult", "cvpat", "interaction_refit",
           "interaction_row", "PLSJohnsonNeyman", "pls_johnson_neyman", "pls_simple_slopes"]
