"""Latent interactions for the propositions: product-indicator models (double-mean-centring,
residual centring), plus the LMS and QML estimators of :mod:`cbec_sem.engine.latent`, which
``cs.fit(..., estimator="LMS"|"QML")`` reaches through the estimator registry.
"""

from __future__ import annotations

from ...engine.latent import InteractionFit, LatentInteractionModel, Product, fit_lms, fit_qml

__all__ = ["LatentInteractionModel", "Product", "InteractionFit", "fit_lms", "fit_qml"]
