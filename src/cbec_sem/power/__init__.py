"""Monte Carlo power analysis of a model's hypotheses, locally or on a Dask cluster.

:func:`power` simulates ``reps`` data sets per sample size from a population model, refits the
analysis model to each (the lean refit of :mod:`cbec_sem.resampling.refit`), tests every
hypothesis as :func:`cbec_sem.fit` does, and reports power, bias, RMSE, coverage and
convergence in a :class:`PowerResult`.

Modules: :mod:`.api` (the entry point, validation, compiling the models), :mod:`.study` (one
replication; what is shipped to workers), :mod:`.population` (fast sampling, exact population
moments), :mod:`.result` (:class:`PowerResult`).
"""

from .api import power
from .result import PowerResult

__all__ = ["power", "PowerResult"]
