"""Where independent chunks of work run: this process, joblib worker processes, or a Dask cluster.

The resampling and simulation code of :mod:`cbec_sem` (the bootstrap, the Monte Carlo power
study) cuts its work into *chunks* — lists of replications whose numbers depend on their own
seeds only — and hands them to an :class:`Executor`::

    ex = executor(n_jobs=2)                  # joblib (loky) worker processes
    ex = executor(client=dask_client)        # a dask.distributed cluster
    run = ex.run(func, shared, chunks)       # func(shared, chunk) for every chunk
    run.results                              # in chunk order; None for a chunk not done

``shared`` is the object every chunk needs (a compiled model, a population): joblib pickles it
with each chunk, Dask ships it to every worker once (``client.scatter(..., broadcast=True)``).

Reproducibility does not depend on where a chunk runs: the chunk's numbers are a function of
``(shared, chunk)`` alone, the callers give every replication its own random stream
(``numpy.random.SeedSequence`` keyed by the replication), and every chunk runs with BLAS held
to one thread (:func:`cbec_sem.engine.threads.single_threaded_blas`).  So the same seed gives
the same numbers on one core, on 16 processes, or on a cluster.

A cluster that goes away mid-run (the scheduler stops, the client is closed, workers are
killed) does not raise from the middle of the loop: :meth:`Executor.run` stops, cancels what
is left, and returns the chunks that came back, with :attr:`ChunkRun.error` saying what
happened.  The callers decide what a partial run means (the power study keeps the completed
replications and warns with their count; the bootstrap, whose intervals need every draw,
raises :class:`~cbec_sem.errors.EstimationError`).  An exception raised by ``func`` itself
(a bug, bad input) is re-raised as it is.
"""

from __future__ import annotations

import threading
import uuid
import warnings
from contextlib import contextmanager
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass
from numbers import Integral
from typing import Any

from .errors import SpecError
from .engine.threads import single_threaded_blas
from ._version import __version__

__all__ = ["ChunkRun", "Executor", "SerialExecutor", "JoblibExecutor", "DaskExecutor",
           "executor", "effective_jobs", "blas_single_threaded"]

_blas_lock = threading.Lock()
_blas_depth = 0
_blas_limiter = None


@contextmanager
def blas_single_threaded():
    """BLAS held to one thread while any thread of this process is inside the context.

    :func:`cbec_sem.engine.threads.single_threaded_blas` saves and restores the limit per
    call, which is right for one thread; several threads entering and leaving it at once (Dask
    workers that are threads of one process) would restore each other's limits in the wrong
    order.  This context counts its users: the first one in sets the limit, the last one out
    restores the original.
    """
    global _blas_depth, _blas_limiter

    with _blas_lock:
        if _blas_depth == 0:
            _blas_limiter = single_threaded_blas()
        _blas_depth += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_depth -= 1
            if _blas_depth == 0 and _blas_limiter is not None:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


@dataclass
class ChunkRun:
    """What :meth:`Executor.run` returns.

    Attributes:
        results: one entry per chunk, in chunk order: what ``func`` returned, or ``None`` for a
            chunk that did not come back (only when ``error`` is set).
        error: ``None`` when every chunk ran; otherwise why the run stopped early (a lost
            Dask scheduler or worker, a closed client).
    """

    results: list[Any]
    error: str | None = None

    @property
    def n_done(self) -> int:
        """Chunks that came back."""
        return sum(r is not None for r in self.results)

    @property
    def complete(self) -> bool:
        return self.error is None


class Executor:
    """Runs ``func(shared, chunk)`` for every chunk; see the module docstring."""

    #: How many chunks can run at the same time.
    workers: int = 1
    #: ``"serial"``, ``"joblib"`` or ``"dask"``.
    kind: str = "serial"

    def run(self, func: Callable[[Any, Any], Any], shared: Any, chunks: Sequence[Any],
            on_done: Callable[[int, Any], None] | None = None) -> ChunkRun:
        raise NotImplementedError

    def describe(self) -> str:
        return {"serial": "this process",
                "joblib": f"{self.workers} joblib worker processes"}.get(self.kind, self.kind)


class SerialExecutor(Executor):
    """Every chunk in this process, one after the other."""

    workers = 1
    kind = "serial"

    def run(self, func, shared, chunks, on_done=None) -> ChunkRun:
        results = []
        for i, chunk in enumerate(chunks):
            out = func(shared, chunk)
            results.append(out)
            if on_done is not None:
                on_done(i, out)
        return ChunkRun(results)


class JoblibExecutor(Executor):
    """Chunks on ``workers`` local processes (joblib's loky backend); results in order."""

    kind = "joblib"

    def __init__(self, workers: int):
        self.workers = int(workers)

    def run(self, func, shared, chunks, on_done=None) -> ChunkRun:
        if self.workers == 1 or len(chunks) <= 1:
            return SerialExecutor().run(func, shared, chunks, on_done)
        from joblib import Parallel, delayed

        results = []
        # Chunks are independent and each replication's numbers depend on its own seed, so
        # the order in which workers finish changes nothing; results come back in order.
        gen = Parallel(n_jobs=self.workers, return_as="generator")(
            delayed(func)(shared, chunk) for chunk in chunks)
        for i, out in enumerate(gen):
            results.append(out)
            if on_done is not None:
                on_done(i, out)
        return ChunkRun(results)


def _cluster_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the cluster went away", not "the task failed"."""
    errors: list[type[BaseException]] = [CancelledError, OSError, TimeoutError, ConnectionError]
    try:
        import asyncio

        errors.append(asyncio.CancelledError)
    except ImportError:  # pragma: no cover
        pass
    try:
        from distributed.scheduler import KilledWorker

        errors.append(KilledWorker)
    except ImportError:  # pragma: no cover
        pass
    try:
        from distributed.comm.core import CommClosedError

        errors.append(CommClosedError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


def _worker_version() -> str:
    """Run on a Dask worker: the cbec_sem version it imports."""
    return __version__


class DaskExecutor(Executor):
    """Chunks as tasks on a ``dask.distributed`` cluster.

    ``shared`` is scattered to every worker once; each chunk is one task (``pure=False``, a
    fresh key per run, so a rerun never picks up a stale result).  Results are collected as
    they finish (``as_completed``) and put back in chunk order.
    """

    kind = "dask"

    def __init__(self, client: Any):
        if not (hasattr(client, "submit") and hasattr(client, "scatter")):
            raise SpecError(
                f"client must be a dask.distributed.Client (e.g. Client('tcp://scheduler:8786')),"
                f" not {type(client).__name__}")
        status = getattr(client, "status", "running")
        if status not in ("running", "connecting"):
            raise SpecError(
                f"the Dask client is not connected (status {status!r}); connect it with "
                "Client('tcp://scheduler:8786') or start a LocalCluster first")
        self.client = client
        try:
            threads = client.nthreads()
            self.workers = max(1, int(sum(threads.values())))
        except Exception:  # noqa: BLE001 - an unusual client: still usable, one chunk at a time
            self.workers = 1
        self._checked = False

    def describe(self) -> str:
        return f"Dask cluster ({self.workers} worker threads)"

    def _check_workers(self) -> None:
        """Every worker must import the same cbec_sem (the chunks are its functions)."""
        if self._checked:
            return

        try:
            versions = self.client.run(_worker_version)
        except _cluster_errors():
            raise
        except Exception as exc:  # noqa: BLE001 - an import error on a worker, say
            raise SpecError(
                "the Dask workers cannot run cbec_sem functions "
                f"({type(exc).__name__}: {exc}); install cbec-sem (the same version, "
                f"{__version__}) in the workers' environment") from None
        odd = {w: v for w, v in versions.items() if v != __version__}
        if odd:
            warnings.warn(
                f"Dask workers run cbec_sem {sorted(set(odd.values()))} but this process runs "
                f"{__version__}; results may differ from a local run", UserWarning,
                stacklevel=4)
        self._checked = True

    def run(self, func, shared, chunks, on_done=None) -> ChunkRun:
        # Workers may be threads of this process (LocalCluster(processes=False)).  OpenBLAS
        # does not reliably take a thread limit set from a non-main thread once the main
        # thread has set and restored one, so the limit is set here, in the calling thread,
        # for the whole run; the chunks' own (reference-counted) limits then find it in place.
        with blas_single_threaded():
            return self._run(func, shared, chunks, on_done)

    def _run(self, func, shared, chunks, on_done=None) -> ChunkRun:
        from distributed import as_completed

        cluster_errors = _cluster_errors()
        results: list[Any] = [None] * len(chunks)
        futures: list[Any] = []
        try:
            self._check_workers()
            token = uuid.uuid4().hex[:12]
            shared_f = self.client.scatter(shared, broadcast=True, hash=False)
            futures = [self.client.submit(func, shared_f, chunk, pure=False,
                                          key=f"cbec-sem-{token}-{i}")
                       for i, chunk in enumerate(chunks)]
            where = {f.key: i for i, f in enumerate(futures)}
            for fut in as_completed(futures):
                i = where[fut.key]
                out = fut.result()  # a task's own exception is re-raised here, as it is
                results[i] = out
                if on_done is not None:
                    on_done(i, out)
        except cluster_errors as exc:
            done = sum(r is not None for r in results)
            self._cancel(futures)
            reason = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
            return ChunkRun(results, error=(
                f"the Dask cluster stopped answering after {done} of {len(chunks)} chunks "
                f"({reason})"))
        return ChunkRun(results)

    def _cancel(self, futures) -> None:
        if not futures:
            return
        try:
            self.client.cancel(futures)
        except Exception:  # noqa: BLE001 - the client may be gone already
            pass


def effective_jobs(n_jobs: int | None) -> int:
    """The number of local worker processes ``n_jobs`` means (``-1``: all cores)."""
    if n_jobs is None or n_jobs == 1:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs == 0:
        raise SpecError(f"n_jobs={n_jobs!r} must be a positive integer, or -1 for all cores")
    try:
        from joblib import effective_n_jobs
    except ImportError:  # pragma: no cover - joblib is a dependency
        warnings.warn(f"n_jobs={n_jobs} needs the joblib package (pip install joblib); "
                      "running in this process", UserWarning, stacklevel=3)
        return 1
    return max(1, int(effective_n_jobs(n_jobs)))


def executor(n_jobs: int | None = 1, client: Any = None) -> Executor:
    """The executor for ``n_jobs`` local processes, or for a Dask ``client`` when one is given
    (``n_jobs`` is then ignored: the cluster's worker threads decide)."""
    if client is not None:
        return DaskExecutor(client)
    workers = effective_jobs(n_jobs)
    return SerialExecutor() if workers == 1 else JoblibExecutor(workers)
