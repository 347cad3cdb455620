"""PLS-SEM and consistent PLS (:mod:`cbec_sem.pls`), with seminr's conventions.

PLS: Wold (1982), Lohmöller (1989), as seminr estimates it (items standardised with N−1,
composites scaled to unit variance, unit starting weights, no sign correction, path weighting
by default, stop when Σ|Δw| < 1e-7 or after 300 iterations); PLSc: Dijkstra & Henseler (2015).
Standard errors come from the bootstrap (``se="bootstrap"``), as in SmartPLS and seminr.
Options of the PLS algorithm are passed as ``cs.fit(..., estimator_options={...})``:
``scheme`` ("path", "factorial", "centroid"), ``hoc`` ("two_stage", "repeated_indicators"),
``interaction`` ("two_stage", "product_indicator", "orthogonal"), ``max_iter``, ``tol``; and
options of its bootstrap (:data:`BOOTSTRAP_OPTIONS`, with ``se="bootstrap"`` or
``bootstrap=B``): ``interval`` ("percentile", "bca", "studentized"), ``sign_change`` ("none",
"individual", "construct"), ``second_level`` and ``second_method`` (the studentised
interval's second-level resamples, cSEM's ``.R2`` and ``.resample_method2``),
``t_bias_corrected``.
"""

from __future__ import annotations

from ...errors import SpecError
from ...pls import estimate_pls
from ...survey.fit_checks import as_frame
from ...specification.model import ModelSpec
from ..convergence import Convergence
from .base import Capabilities, Estimator, EstimatorOutput, FitRequest


#: options of the PLS algorithm (:func:`cbec_sem.pls.estimate_pls`)
ALGORITHM_OPTIONS = ("scheme", "hoc", "interaction", "max_iter", "tol")
#: options of the PLS bootstrap (:func:`cbec_sem.pls.bootstrap_pls`)
BOOTSTRAP_OPTIONS = ("interval", "sign_change", "second_level", "second_method",
                     "t_bias_corrected")


class PLSEstimator(Estimator):
    family = "PLS"
    capabilities = Capabilities(interactions=True, groups=False, std_lv=False,
                                missing=("listwise", "mean"), information=(),
                                options=ALGORITHM_OPTIONS + BOOTSTRAP_OPTIONS)
    alternatives = {
        "missing": "PLS takes missing='mean' (mean replacement, SmartPLS's default) or "
                   "'listwise'; the rows or values replaced are counted in res.notes",
        "groups": "for groups use cs.pls.micom and cs.pls.pls_mga on a fit per group, or fit "
                  "each group's rows separately",
        "ordered": "PLS treats Likert items as metric; drop ordered= to fit them as such",
    }

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description

    def check(self, request: FitRequest, *, se: str = "standard") -> None:
        super().check(request, se=se)
        given = dict(request.options.extra.get("estimator_options") or {})
        asked = [k for k in BOOTSTRAP_OPTIONS if k in given]
        if asked and se != "bootstrap":
            raise SpecError(
                f"estimator_options {', '.join(map(repr, asked))} set the PLS bootstrap, but "
                "no bootstrap was asked for: add se='bootstrap' (or bootstrap=B), or drop them")

    def estimate(self, request: FitRequest) -> EstimatorOutput:
        given = request.options.extra.get("estimator_options") or {}
        extra = {k: v for k, v in given.items() if k in ALGORITHM_OPTIONS}
        # a Survey or a dict of columns, as every other estimator takes them
        est = estimate_pls(ModelSpec(request.statements), as_frame(request.data),
                           method=self.name,
                           missing=request.options.missing, **extra)
        status = Convergence(
            optimizer_converged=bool(est.converged), admissible=True,
            iterations=int(est.iterations), max_gradient=float(est.last_change),
            message=(f"converged after {est.iterations} iterations (sum |Δw| = "
                     f"{est.last_change:.2g})" if est.converged else
                     f"no convergence in {est.iterations} iterations (last sum |Δw| = "
                     f"{est.last_change:.2g})"))
        return EstimatorOutput(est, status)


PLS = PLSEstimator("PLS", "partial least squares path modelling (seminr's conventions)")
PLSC = PLSEstimator("PLSc", "consistent PLS (Dijkstra & Henseler 2015)")
