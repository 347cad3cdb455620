"""The WLS family for ordered items: WLSMV, ULSMV, DWLS and ULS (``engine/ordinal/``):
thresholds, polychoric correlations, their asymptotic covariance, the delta parameterisation
and the mean-and-variance adjusted (scaled-shifted) test, as lavaan."""

from __future__ import annotations

from ..ordinal import estimate_ordinal
from ..work_limits import ORDINAL_OPTION
from .base import Capabilities, Estimator, EstimatorOutput, FitRequest
from .covariance import covariance_convergence


class WLSEstimator(Estimator):
    family = "WLS"
    alternatives = {"missing": "ordered items take missing='listwise' (lavaan's default) or "
                               "'pairwise'"}

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description
        self.capabilities = Capabilities(ordered=True, continuous=True,
                                         missing=("listwise", "pairwise"),
                                         options=("parameterization", ORDINAL_OPTION))

    def estimate(self, request: FitRequest) -> EstimatorOutput:
        est = estimate_ordinal(request.statements, request.data, request.options, request.group)
        return EstimatorOutput(est, covariance_convergence(est))
