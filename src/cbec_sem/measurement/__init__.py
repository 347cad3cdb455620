"""Measurement validation: reliability, validity, HTMT, common-method bias."""

from .method_bias import MethodBiasResult, common_method_bias  # noqa: F401
from ._delta import standardized_se, standardized_vcov  # noqa: F401
from .discriminant import HTMTResult, cross_loadings, fornell_larcker, htmt  # noqa: F401
from .indicators import full_collinearity_vif, indicator_diagnostics  # noqa: F401
from .reliability import reliability  # noqa: F401
from .scores import factor_scores  # noqa: F401
from .modindices import modindices  # noqa: F401
from .invariance import InvarianceResult, invariance  # noqa: F401
from .validate import validate  # noqa: F401
from .efa import EFAResult, efa, parallel_analysis  # noqa: F401
