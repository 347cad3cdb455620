"""Latent interactions estimated by integrating over the latent distribution.

* :class:`LatentInteractionModel` — the model (measurement, structure, product terms) read
  from a :class:`~cbec_sem.specification.ModelSpec` or lavaan syntax (``Y ~ X + Z + X:Z``);
* :func:`fit_lms` — latent moderated structural equations (Klein & Moosbrugger 2000);
* :func:`fit_qml` — quasi-maximum likelihood (Klein & Muthén 2007);
* :class:`InteractionFit` — estimates, standard errors, log-likelihood, R² with and without
  the interaction, the standardised interaction and the likelihood-ratio test.

Reached by users through ``cs.fit(model, data, estimator="LMS"|"QML")`` (the estimator
registry, :mod:`cbec_sem.engine.estimators`).
"""

from __future__ import annotations

from ._estimation import checked_inverse_hessian
from .lms import fit_lms
from .model import LatentInteractionModel, Product
from .qml import fit_qml
from .results import InteractionFit

__all__ = ["LatentInteractionModel", "Product", "InteractionFit", "checked_inverse_hessian",
           "fit_lms", "fit_qml"]
