"""The estimator registry: name → estimator.

``cs.fit(..., estimator=NAME)`` looks the name up here (:func:`get_estimator`) and calls
``check`` (refuse what it cannot honour) and ``estimate``; there is no if/else over
estimators anywhere else.  Adding an estimator is one module with an
:class:`~.base.Estimator` subclass and one :func:`register` line below (see
``docs/architecture.md``).
"""

from __future__ import annotations

from ...errors import SpecError
from .base import Capabilities, Estimator, EstimatorOutput, FitRequest
from .latent import LMS, QML
from .ml import MLEstimator, MLOrderedDefault
from .pls import PLS, PLSC
from .wls import WLSEstimator

__all__ = ["Estimator", "EstimatorOutput", "FitRequest", "Capabilities", "REGISTRY",
           "register", "get_estimator", "estimator_names", "estimate"]

REGISTRY: dict[str, Estimator] = {}


def register(estimator: Estimator) -> Estimator:
    """Add an estimator under its (upper-case) name."""
    REGISTRY[estimator.name.upper()] = estimator
    return estimator


def estimator_names() -> tuple[str, ...]:
    """The registered estimators' names.

    Examples:
        >>> cs.estimator_names()[:3]
        ('ML', 'MLM', 'MLR')
        >>> "PLS" in cs.estimator_names()
        True
    """
    return tuple(REGISTRY)


def get_estimator(name) -> Estimator:
    """The estimator registered under ``name`` (case-insensitive)."""
    if not isinstance(name, str) or name.upper() not in REGISTRY:
        raise SpecError(
            f"estimator={name!r} is not available; choose one of "
            f"{', '.join(map(repr, REGISTRY))} "
            "(or 'auto')")
    return REGISTRY[name.upper()]


_WLSMV = WLSEstimator("WLSMV", "diagonally weighted least squares, mean- and "
                      "variance-adjusted test (lavaan's default for ordered items)")
register(MLOrderedDefault(_WLSMV))
register(MLEstimator("MLM", "ML with Satorra–Bentler robust SEs and scaled test",
                     ("listwise",), robust=True))
register(MLEstimator("MLR", "ML with Huber–White SEs and the Yuan–Bentler scaled test",
                     ("listwise", "fiml"), robust=True))
register(_WLSMV)
register(WLSEstimator("ULSMV", "unweighted least squares, mean- and variance-adjusted test"))
register(WLSEstimator("DWLS", "diagonally weighted least squares"))
register(WLSEstimator("ULS", "unweighted least squares"))
register(LMS)
register(QML)
register(PLS)
register(PLSC)


def estimate(statements, data, options, group: str | None = None):
    """Fit by the estimator ``options.estimator`` names: the engine-level call (no bootstrap,
    no hypotheses) that tests and the refit code use.  Returns the estimation."""
    estimator = get_estimator(options.estimator)
    request = FitRequest(tuple(statements), data, options, group)
    estimator.check(request)
    return estimator.estimate(request).estimation
