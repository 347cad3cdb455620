"""``res.hypotheses``: the proposition tests of :mod:`.verdicts` with the evidence of
:mod:`.evidence` (product-indicator or LMS/QML refits for interactions, NCA for necessity)."""

from __future__ import annotations

import pandas as pd

from ..engine.threads import blas_one_thread
from .evidence import interaction_provider, necessity_provider
from .verdicts import INTERACTION_METHODS, PROPOSITION_TESTS, build_table

__all__ = ["hypothesis_table", "INTERACTION_METHODS", "PROPOSITION_TESTS"]


@blas_one_thread
def hypothesis_table(res) -> pd.DataFrame:
    """The hypothesis table of a :class:`~cbec_sem.results.FitResult`: its ``alpha``,
    ``bootstrap``, ``interaction_method``, ``nca_permutations``, ``seed`` and ``correction``
    say how (see :func:`.verdicts.build_table`).

    BLAS is held to one thread meanwhile, as in every fit (:func:`~cbec_sem.engine.threads.
    blas_one_thread`): the tests multiply small matrices and N × p score blocks, where
    OpenBLAS's threads gain nothing, and after each threaded call they spin, taking the core
    from the computation that follows (the table's CPU time 0.25–0.39 → 0.18–0.20 s; valgrind
    once counted 28 times the table's own instructions in the spinning threads)."""
    return build_table(
        res, res.model.hypotheses, alpha=res.alpha, correction=res.correction,
        interaction=interaction_provider(res, res.interaction_method),
        necessity=necessity_provider(res, res.nca_permutations, res.seed, res.alpha))
