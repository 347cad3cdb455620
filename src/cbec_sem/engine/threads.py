"""Single-threaded BLAS while the engine works.

The engine multiplies and inverts small matrices (tens to a few hundred rows).  Multi-threaded
BLAS gains nothing there, and when other processes compete for the cores (joblib workers, a
notebook, CI) OpenBLAS's spinning threads make a 133×133 solve ~300× slower (measured here:
0.12 ms single-threaded, 39 ms with two threads under load).  So every estimation runs with
BLAS limited to one thread (threadpoolctl, as scikit-learn does), restored afterwards.

Every public function of the package runs inside :func:`blas_one_thread` (``cbec_sem``'s
lazy loader wraps them), and so do what methods and properties reach without a public
function (``res.hypotheses``, ``res.modindices()``, every fit's ML estimation and robust
SEs, as ``res.interaction_refit`` runs them): before, only the fit itself did, and a
call such as ``cs.parallel_analysis`` or ``cs.efa`` kept both cores busy for one core's work
(its second BLAS thread spinning between calls).  Nested calls set the limit once.
"""

from __future__ import annotations

import functools
import threading
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


#: whether this thread is inside :func:`blas_one_thread` (nested calls need no second limit)
_inside = threading.local()


def blas_one_thread(func):
    """``func`` run inside :func:`single_threaded_blas` (a decorator for the entry points whose
    work is many small matrix products: threaded BLAS gains nothing there, and its threads spin
    after each threaded call, taking the core from what follows).  A call made inside another
    such call (``cs.fit`` calling the estimator) does not set the limit again."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        if getattr(_inside, "active", False):
            return func(*args, **kwargs)
        _inside.active = True
        try:
            with single_threaded_blas():
                return func(*args, **kwargs)
        finally:
            _inside.active = False

    return run
