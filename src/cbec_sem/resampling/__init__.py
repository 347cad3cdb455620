"""Resampling: the nonparametric bootstrap of a fitted model and Monte Carlo intervals.

* :func:`bootstrap` — refits the model to every bootstrap resample (fast: see
  :mod:`cbec_sem.resampling.refit`) and reports bootstrap SEs and percentile, BC and BCa
  intervals for every parameter, defined parameter and ``std.all`` value.
* :func:`monte_carlo_ci` — Monte Carlo intervals for defined parameters (Selig & Preacher 2008).
"""

from .bootstrap import BootstrapResult, bootstrap
from .montecarlo import monte_carlo_ci

__all__ = ["BootstrapResult", "bootstrap", "monte_carlo_ci"]
