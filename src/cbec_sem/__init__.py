"""cbec_sem: structural equation models of supply-chain innovation in cross-border e-commerce.

The public API (see docs/architecture.md and the user guide): ``paper_model``, ``ModelSpec``, ``load_survey``, ``datasets``,
``fit``; measurement validation (``reliability``, ``htmt``, ``fornell_larcker``, ``validate``,
``common_method_bias``, ``modindices``, ``invariance``, ...); ``nca``; ``simulate``; and the
typed ``errors``.
"""

from ._version import __version__

from . import datasets, errors
from .engine.choose import choose_estimator
from .engine.ordinal import polychoric
from .fitting import fit
from .measurement.composite import f_squared, ipma, mga, micom, pls_predict, vif
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
from .engine.estimators import estimator_names
from .engine.latent import InteractionFit
from .modelfit import FittedModel
from .propositions.moderation import (
    conditional_indirect,
    index_of_moderated_mediation,
    johnson_neyman,
    simple_slopes,
)
from .propositions.moderation_plot import plot_johnson_neyman, plot_simple_slopes
from .propositions.necessity import NCAResult, nca
from .protocol import Summary
from .resampling import BootstrapResult, bootstrap, monte_carlo_ci
from .engine.convergence import Convergence
from .results import FitResult
from .simulate import population_model, simulate
from .specification import Hypothesis, ModelSpec, paper_model
from .survey import Codebook, Survey, descriptives, load_survey, mardia
from .measurement.efa import EFAResult, efa, parallel_analysis

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
    "estimator_names",
    "FittedModel",
    "InteractionFit",
    "Summary",
    "simple_slopes",
    "plot_simple_slopes",
    "plot_johnson_neyman",
    "vif",
    "f_squared",
    "pls_predict",
    "ipma",
    "micom",
    "mga",
    "johnson_neyman",
    "conditional_indirect",
    "index_of_moderated_mediation",
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
    "pls",
    "estimate_pls",
    "PLSEstimation",
    "bootstrap_pls",
    "PLSBootstrap",
    "efa",
    "EFAResult",
    "parallel_analysis",
]

from . import pls  # noqa: E402  (PLS-SEM, issue 10)
from .pls import PLSBootstrap, PLSEstimation, bootstrap_pls, estimate_pls  # noqa: E402
from .report.diagram import path_diagram  # noqa: E402
from .report.document import write_report  # noqa: E402

__all__ += ["write_report", "path_diagram"]
from . import validation  # noqa: E402  (the shared argument validator, issue 14)

__all__ += ["validation"]
from .pls import CVPATResult, cvpat, pls_johnson_neyman, pls_simple_slopes  # noqa: E402

__all__ += ["cvpat", "CVPATResult", "pls_simple_slopes", "pls_johnson_neyman"]
from .propositions.interaction.product_indicators import fit_product_indicators  # noqa: E402

__all__ += ["fit_product_indicators"]
from .propositions.cipma import CIPMAResult, cipma  # noqa: E402

__all__ += ["cipma", "CIPMAResult"]
