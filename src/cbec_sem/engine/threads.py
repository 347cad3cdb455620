"""Single-threaded BLAS while the engine works.

The engine multiplies and inverts small matrices (tens to a few hundred rows).  Multi-threaded
BLAS gains nothing there, and when other processes compete for the cores (joblib workers, a
notebook, CI) OpenBLAS's spinning threads make a 133×133 solve ~300× slower (measured here:
0.12 ms single-threaded, 39 ms with two threads under load).  So every estimation runs with
BLAS limited to one thread (threadpoolctl, as scikit-learn does), restored afterwards.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None


def single_threaded_blas() -> AbstractContextManager:
    """A context in which BLAS libraries use one thread."""
    global _controller
    if _controller is None:
        import numpy  # noqa: F401  (the BLAS numpy loaded must be visible to the controller)
        import scipy.linalg  # noqa: F401

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def blas_one_thread(func):
    """``func`` run inside :func:`single_threaded_blas` (a decorator for the public entry
    points whose work is many small matrix products: threaded BLAS gains nothing there, and
    its threads spin after each threaded call, taking the core from what follows)."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        with single_threaded_blas():
            return func(*args, **kwargs)

    return run
