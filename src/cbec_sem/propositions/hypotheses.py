"""``res.hypotheses``: the proposition tests of :mod:`.verdicts` with the evidence of
:mod:`.evidence` (product-indicator or LMS/QML refits for interactions, NCA for necessity)."""

from __future__ import annotations

import pandas as pd

from .evidence import interaction_provider, necessity_provider
from .verdicts import INTERACTION_METHODS, PROPOSITION_TESTS, build_table

__all__ = ["hypothesis_table", "INTERACTION_METHODS", "PROPOSITION_TESTS"]


def hypothesis_table(res) -> pd.DataFrame:
    """The hypothesis table of a :class:`~cbec_sem.results.FitResult`: its ``alpha``,
    ``bootstrap``, ``interaction_method``, ``nca_permutations``, ``seed`` and ``correction``
    say how (see :func:`.verdicts.build_table`)."""
    return build_table(
        res, res.model.hypotheses, alpha=res.alpha, correction=res.correction,
        interaction=interaction_provider(res, res.interaction_method),
        necessity=necessity_provider(res, res.nca_permutations, res.seed, res.alpha))
