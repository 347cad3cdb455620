"""The ML family: normal-theory ML (complete data or FIML), MLM and MLR.

ML is :func:`cbec_sem.engine.estimate.estimate_ml`; the robust variants override one piece,
the standard errors and test statistic (:func:`cbec_sem.engine.robust.robust_estimation`:
Satorra–Bentler for MLM, Huber–White SEs and the Yuan–Bentler test for MLR), as
linearmodels' covariance estimators do.  Ordered items given to ``"ML"`` go to WLSMV, lavaan's
default for ordered data.
"""

from __future__ import annotations

from dataclasses import replace

from ...errors import SpecError
from ..estimate import estimate_ml
from ..work_limits import FIML_OPTION
from ..robust import robust_estimation
from .base import Capabilities, Estimator, EstimatorOutput, FitRequest
from .covariance import covariance_convergence


class MLEstimator(Estimator):
    family = "ML"
    alternatives = {"ordered": "use estimator='WLSMV' (lavaan's default for ordered items)",
                    "missing": "use missing='listwise' or 'fiml'"}

    def __init__(self, name: str, description: str, missing: tuple[str, ...],
                 robust: bool) -> None:
        self.name = name
        self.description = description
        self.robust = robust
        self.capabilities = Capabilities(
            missing=missing, options=(FIML_OPTION,) if "fiml" in missing else ())
        if "fiml" not in missing:
            self.alternatives = {**self.alternatives, "missing": (
                f"{name} needs complete data: use missing='listwise', or estimator='MLR' with "
                "missing='fiml' for robust ML with missing answers")}

    def check(self, request: FitRequest, *, se: str = "standard") -> None:
        super().check(request, se=se)
        given = request.options.extra.get("estimator_options") or {}
        if FIML_OPTION in given and request.options.missing != "fiml":
            raise SpecError(
                f"estimator_options={{{FIML_OPTION!r}: ...}} bounds the work of "
                f"missing='fiml'; this fit uses missing={request.options.missing!r}: drop the "
                "option, or use missing='fiml'")

    def estimate(self, request: FitRequest) -> EstimatorOutput:
        est = estimate_ml(request.statements, request.data, request.options, request.group)
        if self.robust:
            est = robust_estimation(est)
        return EstimatorOutput(est, covariance_convergence(est))


class MLOrderedDefault(MLEstimator):
    """``"ML"``: with ordered items, lavaan's default for ordered data (WLSMV) instead."""

    def __init__(self, wlsmv: Estimator) -> None:
        super().__init__("ML", "normal-theory maximum likelihood (lavaan's default)",
                         ("listwise", "fiml"), robust=False)
        self.capabilities = replace(self.capabilities, ordered=True)
        self.wlsmv = wlsmv

    def check(self, request: FitRequest, *, se: str = "standard") -> None:
        if request.options.ordered:
            self.wlsmv.check(request, se=se)
        else:
            super().check(request, se=se)

    def estimate(self, request: FitRequest) -> EstimatorOutput:
        if request.options.ordered:
            return self.wlsmv.estimate(request)
        return super().estimate(request)
