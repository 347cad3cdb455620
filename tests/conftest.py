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


#: tests that run for seconds each (fresh kernels, subprocesses, a Dask cluster), whole modules
#: or single tests: they go first, so that with ``--dist worksteal`` (pyproject) none of them is
#: the last test one worker runs while the other has finished.  Whole modules keep the order of
#: their tests (so each module fixture is still set up once); the two single tests use no
#: module fixture, and run one after the other so that the second reuses the first's pool of
#: joblib worker processes (starting two processes that import NumPy, SciPy, pandas and
#: cbec_sem costs ~5 s of CPU).
SLOW_FIRST = ("tests/test_notebooks.py", "tests/test_dask.py", "tests/test_examples.py",
              "tests/test_cli.py",
              "tests/test_power.py::test_identical_across_n_jobs",
              "tests/resampling/test_bootstrap.py::"
              "test_same_seed_same_numbers_on_one_or_two_processes")


def pytest_collection_modifyitems(config, items) -> None:
    def rank(item) -> int:
        for k, key in enumerate(SLOW_FIRST):
            if item.nodeid == key or item.nodeid.startswith(key + "::"):
                return k
        return len(SLOW_FIRST)

    items.sort(key=rank)  # stable: every other test keeps its place
