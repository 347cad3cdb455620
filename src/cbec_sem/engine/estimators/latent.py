"""LMS and QML: latent interactions (``Y ~ X + Z + X:Z``) by integrating over, or
approximating, the non-normal latent distribution (:mod:`cbec_sem.engine.latent`).

LMS: Klein & Moosbrugger (2000), with modsem's conventions; QML: Klein & Muthén (2007).
Their standard errors come from the observed information (modsem's default); the fit measures
are logl, AIC, BIC, the likelihood-ratio test against the model without product terms, R² and
ΔR².  Models without product terms fit too (then LMS reduces to ML).
"""

from __future__ import annotations

from ...specification.model import ModelSpec
from ..latent import fit_lms, fit_qml
from .base import Capabilities, Estimator, EstimatorOutput, FitRequest


class LatentInteractionEstimator(Estimator):
    family = "latent interaction"
    capabilities = Capabilities(interactions=True, groups=False, bootstrap=True,
                                std_lv=False, information=("observed",))
    alternatives = {
        "ordered": "LMS/QML assume continuous, normal indicators; for ordered items test the "
                   "interaction with product indicators (cs.fit(..., estimator='WLSMV') on a "
                   "model with product indicators) or treat the items as continuous",
        "missing": "LMS/QML use complete rows; FIML for LMS is not built: use "
                   "missing='listwise' (the rows dropped are counted in res.notes)",
        "groups": "a joint multi-group LMS/QML likelihood (needed for parameters held equal "
                  "across groups, modsem's group= with equality labels) is not built here; "
                  "with every parameter free per group the joint fit is the separate fits, "
                  "so fit each group's rows with cs.fit(..., estimator='LMS'); for equality "
                  "constraints across groups use product indicators "
                  "(cs.fit_product_indicators(model, data, group=...))",
    }

    def __init__(self, name: str, description: str, fitter) -> None:
        self.name = name
        self.description = description
        self.fitter = fitter

    def estimate(self, request: FitRequest) -> EstimatorOutput:
        opts = request.options
        fit = self.fitter(ModelSpec(request.statements), request.data,
                          max_iter=opts.max_iter, level=opts.level)
        return EstimatorOutput(fit, fit.converged)


LMS = LatentInteractionEstimator(
    "LMS", "latent moderated structural equations (Klein & Moosbrugger 2000)", fit_lms)
QML = LatentInteractionEstimator(
    "QML", "quasi-maximum likelihood (Klein & Muthén 2007)", fit_qml)
