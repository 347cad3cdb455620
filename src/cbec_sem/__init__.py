"""cbec_sem: structural equation models of supply-chain innovation in cross-border e-commerce.

The public API (see DESIGN.md): ``paper_model``, ``ModelSpec``, ``load_survey``, ``datasets``,
``fit``, ``simulate``, and the typed ``errors``.
"""

__version__ = "0.1.0"

from . import datasets, errors
from .fitting import fit
from .results import Convergence, FitResult
from .simulate import population_model, simulate
from .spec import Hypothesis, ModelSpec, paper_model
from .survey import Codebook, Survey, descriptives, load_survey

__all__ = [
    "__version__",
    "paper_model",
    "ModelSpec",
    "Hypothesis",
    "load_survey",
    "Survey",
    "Codebook",
    "descriptives",
    "datasets",
    "fit",
    "FitResult",
    "Convergence",
    "simulate",
    "population_model",
    "errors",
]
