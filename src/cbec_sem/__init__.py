"""cbec_sem: structural equation models of supply-chain innovation in cross-border e-commerce.

The public API (see DESIGN.md): ``paper_model``, ``ModelSpec``, ``load_survey``, ``datasets``,
``fit``; measurement validation (``reliability``, ``htmt``, ``fornell_larcker``, ``validate``,
``common_method_bias``, ``modindices``, ``invariance``, ...); ``nca``; ``simulate``; and the
typed ``errors``.
"""

__version__ = "0.1.0"

from . import datasets, errors
from .engine.choose import choose_estimator
from .engine.ordinal import polychoric
from .fitting import fit
from .measurement import (
    HTMTResult,
    InvarianceResult,
    MethodBiasResult,
    common_method_bias,
    cross_loadings,
    factor_scores,
    fornell_larcker,
    full_collinearity_vif,
    htmt,
    indicator_diagnostics,
    invariance,
    modindices,
    reliability,
    validate,
)
from .power import PowerResult, power
from .propositions.necessity import NCAResult, nca
from .resampling import BootstrapResult, bootstrap, monte_carlo_ci
from .results import Convergence, FitResult
from .simulate import population_model, simulate
from .specification import Hypothesis, ModelSpec, paper_model
from .survey import Codebook, Survey, descriptives, load_survey, mardia

__all__ = [
    "__version__",
    "paper_model",
    "ModelSpec",
    "Hypothesis",
    "load_survey",
    "Survey",
    "Codebook",
    "descriptives",
    "mardia",
    "polychoric",
    "choose_estimator",
    "datasets",
    "fit",
    "FitResult",
    "Convergence",
    "reliability",
    "fornell_larcker",
    "htmt",
    "HTMTResult",
    "cross_loadings",
    "indicator_diagnostics",
    "full_collinearity_vif",
    "factor_scores",
    "common_method_bias",
    "MethodBiasResult",
    "validate",
    "modindices",
    "invariance",
    "InvarianceResult",
    "nca",
    "NCAResult",
    "bootstrap",
    "BootstrapResult",
    "monte_carlo_ci",
    "power",
    "PowerResult",
    "simulate",
    "population_model",
    "errors",
]

from . import validation  # noqa: E402  (the shared argument validator, issue 14)

__all__ += ["validation"]
