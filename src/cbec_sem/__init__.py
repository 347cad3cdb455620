"""cbec_sem: structural equation models of supply-chain innovation in cross-border e-commerce.

The public API (see docs/architecture.md and the user guide): ``paper_model``, ``ModelSpec``, ``load_survey``, ``datasets``,
``fit``; measurement validation (``reliability``, ``htmt``, ``fornell_larcker``, ``validate``,
``common_method_bias``, ``modindices``, ``invariance``, ...); ``nca``; ``simulate``; and the
typed ``errors``.

Importing the package is cheap: the public names are loaded on first use (PEP 562), so
``import cbec_sem`` does not pay for SciPy's statistics, statsmodels or pandas until a
function needs them (issue 15).  ``dir(cbec_sem)``, ``from cbec_sem import fit`` and
``help(cbec_sem.fit)`` work as with eager imports.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

from ._version import __version__
from .arguments import typed_arguments
from .engine.threads import blas_one_thread

#: public name → (module under ``cbec_sem``, attribute of it; ``None``: the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "datasets": ("datasets", None),
    "errors": ("errors", None),
    "choose_estimator": ("engine.choose", "choose_estimator"),
    "polychoric": ("engine.ordinal", "polychoric"),
    "fit": ("fitting", "fit"),
    "f_squared": ("measurement.composite", "f_squared"),
    "ipma": ("measurement.composite", "ipma"),
    "mga": ("measurement.composite", "mga"),
    "micom": ("measurement.composite", "micom"),
    "pls_predict": ("measurement.composite", "pls_predict"),
    "vif": ("measurement.composite", "vif"),
    "HTMTResult": ("measurement", "HTMTResult"),
    "InvarianceResult": ("measurement", "InvarianceResult"),
    "MethodBiasResult": ("measurement", "MethodBiasResult"),
    "common_method_bias": ("measurement", "common_method_bias"),
    "cross_loadings": ("measurement", "cross_loadings"),
    "factor_scores": ("measurement", "factor_scores"),
    "fornell_larcker": ("measurement", "fornell_larcker"),
    "full_collinearity_vif": ("measurement", "full_collinearity_vif"),
    "htmt": ("measurement", "htmt"),
    "indicator_diagnostics": ("measurement", "indicator_diagnostics"),
    "invariance": ("measurement", "invariance"),
    "modindices": ("measurement", "modindices"),
    "reliability": ("measurement", "reliability"),
    "validate": ("measurement", "validate"),
    "PowerResult": ("power", "PowerResult"),
    "power": ("power", "power"),
    "estimator_names": ("engine.estimators", "estimator_names"),
    "InteractionFit": ("engine.latent", "InteractionFit"),
    "FittedModel": ("modelfit", "FittedModel"),
    "conditional_indirect": ("propositions.moderation", "conditional_indirect"),
    "index_of_moderated_mediation": ("propositions.moderation", "index_of_moderated_mediation"),
    "johnson_neyman": ("propositions.moderation", "johnson_neyman"),
    "simple_slopes": ("propositions.moderation", "simple_slopes"),
    "plot_johnson_neyman": ("propositions.moderation_plot", "plot_johnson_neyman"),
    "plot_simple_slopes": ("propositions.moderation_plot", "plot_simple_slopes"),
    "NCAResult": ("propositions.necessity", "NCAResult"),
    "nca": ("propositions.necessity", "nca"),
    "Summary": ("protocol", "Summary"),
    "BootstrapResult": ("resampling", "BootstrapResult"),
    "bootstrap": ("resampling", "bootstrap"),
    "monte_carlo_ci": ("resampling", "monte_carlo_ci"),
    "Convergence": ("engine.convergence", "Convergence"),
    "FitResult": ("results", "FitResult"),
    "population_model": ("simulate", "population_model"),
    "simulate": ("simulate", "simulate"),
    "Hypothesis": ("specification", "Hypothesis"),
    "ModelSpec": ("specification", "ModelSpec"),
    "paper_model": ("specification", "paper_model"),
    "Codebook": ("survey", "Codebook"),
    "Survey": ("survey", "Survey"),
    "descriptives": ("survey", "descriptives"),
    "load_survey": ("survey", "load_survey"),
    "mardia": ("survey", "mardia"),
    "EFAResult": ("measurement.efa", "EFAResult"),
    "efa": ("measurement.efa", "efa"),
    "parallel_analysis": ("measurement.efa", "parallel_analysis"),
    "pls": ("pls", None),
    "PLSBootstrap": ("pls", "PLSBootstrap"),
    "PLSEstimation": ("pls", "PLSEstimation"),
    "bootstrap_pls": ("pls", "bootstrap_pls"),
    "estimate_pls": ("pls", "estimate_pls"),
    "path_diagram": ("report.diagram", "path_diagram"),
    "write_report": ("report.document", "write_report"),
    "validation": ("validation", None),
    "CVPATResult": ("pls", "CVPATResult"),
    "cvpat": ("pls", "cvpat"),
    "pls_johnson_neyman": ("pls", "pls_johnson_neyman"),
    "pls_simple_slopes": ("pls", "pls_simple_slopes"),
    "fit_product_indicators": ("propositions.interaction.product_indicators",
                               "fit_product_indicators"),
    "CIPMAResult": ("propositions.cipma", "CIPMAResult"),
    "cipma": ("propositions.cipma", "cipma"),
}

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
    "write_report",
    "path_diagram",
    "validation",
    "cvpat",
    "CVPATResult",
    "pls_simple_slopes",
    "pls_johnson_neyman",
    "fit_product_indicators",
    "cipma",
    "CIPMAResult",
]


#: the public functions, each wrapped once so that a call that does not fit its signature
#: is a SpecError (:func:`cbec_sem.arguments.typed_arguments`), not a TypeError, and so that
#: BLAS runs on one thread while it works (:func:`cbec_sem.engine.threads.blas_one_thread`)
_WRAPPED: dict[str, object] = {}


def _load(name: str):
    if name in _WRAPPED:
        return _WRAPPED[name]
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(f"{__name__}.{module_name}")
    value = module if attribute is None else getattr(module, attribute)
    if isinstance(value, types.FunctionType):
        value = _WRAPPED[name] = typed_arguments(blas_one_thread(value), name)
    return value


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _load(name)
    globals()[name] = value  # the next access is an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


#: public functions named like a submodule (``cbec_sem.simulate``, ``cbec_sem.power``):
#: importing the submodule binds the module to the package's attribute, so these names are
#: resolved on every access and always give the function, as the eager imports did.
_SHADOWED = frozenset(n for n, (m, a) in _LAZY.items() if a == n and m == n)


class _Package(types.ModuleType):
    def __getattribute__(self, name: str):
        if name in _SHADOWED:
            return _load(name)
        return super().__getattribute__(name)


sys.modules[__name__].__class__ = _Package

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from . import datasets
    from . import errors
    from .engine.choose import choose_estimator
    from .engine.ordinal import polychoric
    from .fitting import fit
    from .measurement.composite import f_squared, ipma, mga, micom, pls_predict, vif
    from .measurement import (
        HTMTResult, InvarianceResult, MethodBiasResult, common_method_bias,
        cross_loadings, factor_scores, fornell_larcker, full_collinearity_vif, htmt,
        indicator_diagnostics, invariance, modindices, reliability, validate
    )
    from .power import PowerResult, power
    from .engine.estimators import estimator_names
    from .engine.latent import InteractionFit
    from .modelfit import FittedModel
    from .propositions.moderation import (
        conditional_indirect, index_of_moderated_mediation, johnson_neyman, simple_slopes
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
    from . import pls
    from .pls import PLSBootstrap, PLSEstimation, bootstrap_pls, estimate_pls
    from .report.diagram import path_diagram
    from .report.document import write_report
    from . import validation
    from .pls import CVPATResult, cvpat, pls_johnson_neyman, pls_simple_slopes
    from .propositions.interaction.product_indicators import fit_product_indicators
    from .propositions.cipma import CIPMAResult, cipma
