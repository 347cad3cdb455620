"""Suite-wide settings.

BLAS runs one thread per process: ``pytest -n auto`` already puts one worker on every core,
and the models here are small (tens of variables), so a multi-threaded BLAS only makes the
workers' threads compete for the same cores (measured: about 10–15% less CPU time and wall
time for the slow fitting tests on 2 cores).  Set before NumPy is imported in the workers,
which inherit the environment; a value the caller set is kept.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
