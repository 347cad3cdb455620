"""Testing product terms that a PLS fit does not contain (H5, H6a, H6b of the paper model).

:func:`interaction_refit` adds ``outcome ~ X:Z`` paths to the fit's model and estimates it
again on the same rows with the same options (method, scheme, HOC approach, interaction
approach, stopping rule) — a model with both a second-order construct and interactions is
estimated in three stages, as seminr (:mod:`.stages`) — then bootstraps it;
:func:`interaction_row` reads one product term's row with its bootstrap SE, z test and
percentile interval, as SmartPLS reports a two-stage interaction (Henseler & Chin 2010;
Hair et al. 2022, on moderation).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import SpecError
from .bootstrap import PLSBootstrap, bootstrap_pls
from .estimate import PLSEstimation, estimate_pls

__all__ = ["interaction_refit", "interaction_row"]


def interaction_refit(est: PLSEstimation, terms: Mapping[str, Sequence[str]], *,
                      draws: int = 1000, seed=None) -> PLSBootstrap:
    """The model of ``est`` with the product terms ``{outcome: ["X:Z", ...]}`` added,
    estimated on ``est``'s rows with ``est``'s options and bootstrapped (``draws``, ``seed``).

    Raises:
        SpecError: a term that is not ``"X:Z"`` over two constructs of the model.
    """
    model = est.model
    paths = list(model.paths)
    for outcome, ts in terms.items():
        for term in ts:
            parts = term.split(":")
            if len(parts) != 2 or any(p not in model.names for p in [outcome, *parts]):
                raise SpecError(f"the product term {term!r} -> {outcome!r} must join two "
                                f"constructs of the model ({', '.join(model.names)})")
            if (outcome, term) not in paths and (outcome, f"{parts[1]}:{parts[0]}") not in paths:
                paths.append((outcome, term))
    with_terms = dataclasses.replace(model, paths=tuple(paths))
    data = pd.DataFrame(est.data, columns=list(est.plan.items))
    opts = {k: est.options[k] for k in ("scheme", "max_iter", "tol", "hoc", "interaction")}
    refit = estimate_pls(with_terms, data, method=est.method, **opts)
    return bootstrap_pls(refit, draws, seed=seed)


def interaction_row(boot: PLSBootstrap, outcome: str, term: str) -> dict:
    """One product term's row: estimate, se, p, std.all, ci.lower, ci.upper, n, note.

    Raises:
        LookupError: the refit has no such term, or its weights did not converge (the
            hypothesis table reports the reason instead of a verdict).
    """
    est = boot.estimate
    if not est.converged:
        raise LookupError("the PLS model with the product terms did not converge")
    x, z = term.split(":")
    p = boot.params
    hit = p[(p["op"] == "~") & (p["lhs"] == outcome) & p["rhs"].isin([term, f"{z}:{x}"])]
    if hit.empty:
        raise LookupError(f"the product term {term} -> {outcome} could not be estimated")
    r = hit.iloc[0]
    note = (f"{est.method} {est.options['interaction'].replace('_', '-')} interaction; "
            f"{boot.draws_count - boot.failed} of {boot.draws_count} bootstrap draws used")
    return {"estimate": float(r["est"]), "se": float(r["se"]), "p": float(r["pvalue"]),
            "std.all": float(r["std.all"]), "ci.lower": float(r["ci.lower"]),
            "ci.upper": float(r["ci.upper"]), "n": int(est.n), "note": note}
