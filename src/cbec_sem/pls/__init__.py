"""PLS-SEM and PLSc (seminr's conventions): estimation, bootstrap and the assessment battery.

* :func:`estimate_pls` -> :class:`PLSEstimation` (``cs.fit(..., estimator="PLS"|"PLSc")``);
* :mod:`.model` reads lavaan syntax (``=~`` mode A, ``<~`` mode B, ``~`` paths, ``X:Z``);
* :mod:`.algorithm` the batched weight iteration; :mod:`.stages` two-stage HOC/interactions;
* :mod:`.structural` paths, R², ρA, PLSc; :mod:`.fit_measures` SRMR, d_ULS, d_G.
"""

from __future__ import annotations

from .estimate import PLSEstimation, estimate_pls
from .model import PLSModel, pls_model

__all__ = ["PLSEstimation", "estimate_pls", "PLSModel", "pls_model"]
