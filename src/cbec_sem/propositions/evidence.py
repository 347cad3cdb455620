"""Evidence for the hypotheses that a main-effects fit cannot test by itself.

* Interaction and moderation hypotheses (H5, H6a, H6b of the paper model): the fitted model is
  re-fitted with all the hypothesised product terms added (``SCI ~ TA:FA + PC:TA + PC:FA``)
  by double-mean-centred product indicators (Lin et al. 2010; the method that handles a
  product with an endogenous latent such as TA × FA when FA ~ TA) or residual centring
  (Little et al. 2006), matched pairs, every residual covariance between products that share
  an item, robust (MLR) standard errors (the measured choice, docs/validity.md); or by LMS or
  QML (``interaction_method="lms"``/``"qml"``); a PLS fit by its two-stage interaction.  The
  fit is made once, on the fit's rows, when the hypothesis table is first read.
* Necessity hypotheses (H7, H8): necessary condition analysis (Dul 2016) on the latent scores
  of the fit, CE-FDH ceiling, NCA's permutation test (Dul, van der Laan & Kuik 2020) *and*
  the correlation-matched test (:mod:`.necessity_null`); "supported" when d ≥ 0.1 and both
  p < α: NCA's own test alone calls any correlation necessity (docs/validity.md).

Each provider returns ``(row values, method text)`` or raises ``LookupError`` with the reason
no test could be made, which the hypothesis table reports instead of a verdict.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..engine.options import FitOptions
from ..errors import CbecSemError, CbecSemWarning
from ..modelfit import fit_model
from ..specification.model import ModelSpec
from ..pls.interactions import interaction_refit, interaction_row
from .interaction.product_indicators import fit_product_indicators
from .necessity import construct_scores
from .necessity_null import necessity_provider as correlation_matched_provider
from .verdicts import params_row

if TYPE_CHECKING:
    from ..results import FitResult

#: NCA effect size from which a condition counts as necessary (Dul 2016: d ≥ 0.1 "medium").
NECESSITY_D = 0.1

#: At most this many draws of the correlation-matched null of a necessity test.
MATCHED_DRAWS = 2000


def matched_draws(permutations: int) -> int:
    """Draws of the correlation-matched null for a test with ``permutations`` NCA
    permutations: as many, up to :data:`MATCHED_DRAWS` (the rule of ``res.hypotheses`` and of
    ``cs.power``, so both run the same test; a power study's few permutations keep it cheap)."""
    return int(min(max(permutations, 1), MATCHED_DRAWS))


def rows_used(res: FitResult) -> pd.DataFrame:
    """The rows the fit used (under FIML with their missing answers; PLS: the items after
    its missing-data treatment)."""
    est = res.estimation
    if not res.is_covariance_fit:
        return pd.DataFrame(est.data, columns=list(est.model.items))
    stats = est.stats
    return pd.DataFrame(np.vstack(stats.complete_data), columns=list(stats.names))


#: estimators whose product-indicator refit can use the fit's own estimator and missing method
_PRODUCT_INDICATOR_ESTIMATORS = ("ML", "MLM", "MLR")
#: PLS fits test product terms by refitting with the two-stage interaction (SmartPLS's default)
_PLS_ESTIMATORS = ("PLS", "PLSc")


def _refit(res: FitResult, spec, method: str):
    """The model with its product terms, refitted on the fit's rows: by product indicators
    with the fit's ML-family estimator and missing-data method, or by LMS/QML.  Returns the
    fitted object, the method text and a note on what differs from the fit."""
    data = rows_used(res)
    note = ""
    if res.estimator in _PLS_ESTIMATORS:
        # the fit's own algorithm options (scheme, hoc, interaction, ...), on its rows
        draws = res.bootstrap.draws_count if res.bootstrap is not None else 1000
        terms = {y: list(dict.fromkeys(t)) for y, t in _interaction_terms(res).items()}
        boot = interaction_refit(res.estimation, terms, draws=draws,
                                 seed=res.seed)
        return boot, (f"{res.estimator} two-stage interaction, z test with bootstrap SE "
                      f"({draws} draws)"), note
    if method in ("lms", "qml"):
        fitted = fit_model(spec, data.dropna(), estimator=method.upper())
        if len(data.dropna()) < len(data):
            note = (f"{method.upper()} uses complete rows: {len(data) - len(data.dropna())} "
                    "rows with missing answers were left out")
        return fitted, f"{method.upper()} Wald z test (refit with the product terms)", note
    # ML's SEs are too small for product indicators (SE/SD ≈ .81-.88, Type-I .08-.12);
    # matched pairs with robust (MLR) SEs keep the true null at .014-.057 and fit at N = 200
    # (benchmarks/validity.py, docs/validity.md): an ML fit's interactions get MLR SEs.
    estimator = {"ML": "MLR"}.get(res.estimator, res.estimator)
    notes = []
    if estimator not in _PRODUCT_INDICATOR_ESTIMATORS:
        notes.append(f"product indicators are continuous, so the interaction model was fitted "
                     f"by MLR, not {res.estimator}")
        estimator = "MLR"
    elif estimator != res.estimator:
        notes.append("robust (MLR) standard errors, since ML's are too small for product "
                     "indicators (docs/validity.md)")
    if res.estimation.options.missing != "listwise":
        complete = int(data.notna().all(axis=1).sum())
        notes.append(f"product indicators need complete answers, so the interaction model used "
                     f"the {complete} complete rows of the {len(data)} the "
                     f"{res.estimation.options.missing.upper()} fit used")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CbecSemWarning)
        pif = fit_product_indicators(spec, data, method=method, match=True, estimator=estimator,
                                     main_fit=res if _is_warm_start_fit(res, spec) else None)
    notes += [str(w.message) for w in caught if issubclass(w.category, CbecSemWarning)]
    return pif, f"product indicators ({method}, matched pairs), {estimator} Wald z test", notes


def _is_warm_start_fit(res: FitResult, spec: ModelSpec) -> bool:
    """Whether the fit is the main-effects fit the product-indicator refit of ``spec`` starts
    from (:func:`~.interaction.product_indicators.fit_product_indicators`' warm start fits
    the model without its product terms by ML with default options on the fit's rows): the
    same statements, one group, complete rows, ML with those options.  Then its estimates are
    that fit's, to the last digit, and the refit need not repeat it (a third of its time)."""
    opts = res.estimation.options
    main = tuple(s for s in spec.statements if not (s.op == "~" and ":" in s.rhs))
    return (res.estimator == "ML" and len(res.nobs) == 1 and res.converged.optimizer_converged
            and dataclasses.replace(opts, level=0.95) == FitOptions(estimator="ML")
            and not opts.extra.get("estimator_options")
            and main == tuple(res.model.statements))


def _interaction_terms(res: FitResult) -> dict[str, list[str]]:
    """Outcome → product terms named by the model's interaction/moderation hypotheses."""
    terms: dict[str, list[str]] = {}
    for h in res.model.hypotheses:
        if h.kind == "interaction":
            x, z, outcome = h.constructs
            terms.setdefault(outcome, []).append(f"{x}:{z}")
        elif h.kind == "moderation":
            moderator, focal, outcome = h.constructs
            terms.setdefault(outcome, []).append(f"{focal}:{moderator}")
    return terms


def refit_with_products(res: FitResult, method: str = "dblcent"):
    """The fitted model with every hypothesised product term added, refitted as
    ``res.hypotheses`` tests them (:func:`_refit`): ``(fitted, method text, notes)``, or the
    ``LookupError`` saying why it could not be fitted.  ``FitResult.interaction_refit`` caches
    it, so the hypothesis table and the report's moderation figures share one refit."""
    lines = [f"{y} ~ {' + '.join(dict.fromkeys(t))}" for y, t in _interaction_terms(res).items()]
    spec = ModelSpec.from_lavaan(res.model.to_lavaan() + "\n" + "\n".join(lines))
    try:
        return _refit(res, spec, method)
    except CbecSemError as err:
        return LookupError(f"the interaction model could not be fitted: {err}")


def interaction_provider(res: FitResult, method: str = "dblcent") -> Callable:
    """Tests of product terms by the refit with the product terms, fitted once on first use
    (the fit's own cached refit when ``method`` is its ``interaction_method``)."""
    cache: dict[str, object] = {}

    def fitted():
        if "fit" not in cache:
            cache["fit"] = (res.interaction_refit if method == res.interaction_method
                            else refit_with_products(res, method))
        return cache["fit"]

    def provide(outcome: str, term: str) -> tuple[dict, str]:
        if not res.is_covariance_fit and res.estimator not in _PLS_ESTIMATORS:
            raise LookupError(f"the {res.estimator} fit has no product term {term} → {outcome}")
        if len(res.nobs) > 1:
            raise LookupError("interaction tests in multi-group fits are not available yet; "
                              "fit each group separately")
        if not res.converged.optimizer_converged:
            raise LookupError("the model did not converge, so there is no test")
        got = fitted()
        if isinstance(got, LookupError):
            raise got
        refit, text, note = got
        if res.estimator in _PLS_ESTIMATORS:
            return interaction_row(refit, outcome, term), text
        if method in ("lms", "qml"):
            return _latent_row(refit, outcome, term, note), text
        if not refit.fit.converged.optimizer_converged:
            raise LookupError("the model with product terms did not converge")
        x, z = term.split(":")
        for candidate in (term, f"{z}:{x}"):
            try:
                s = refit.interaction(outcome, candidate)
                break
            except CbecSemError:
                continue
        else:
            raise LookupError(f"the product term {term} → {outcome} could not be estimated")
        values = {"estimate": s["est"], "se": s["se"], "p": s["pvalue"], "std.all": s["std"],
                  "ci.lower": s["ci.lower"], "ci.upper": s["ci.upper"],
                  "n": int(sum(refit.fit.nobs)),
                  "note": "; ".join(filter(None, [
                      "std.all is b·sd(X)·sd(Z)/sd(Y) (Wen, Marsh & Hau 2010)",
                      *_about_term(note, term)]))}
        return values, text

    return provide


def _about_term(notes: list[str], term: str) -> list[str]:
    """The notes of a refit that concern ``term`` (a note about another product term's matched
    pairs is left to that term's row)."""
    x, z = term.split(":")
    own = tuple(f"matched pairs for {t}" for t in (f"'{x}:{z}'", f"'{z}:{x}'", f"{x}:{z}",
                                                   f"{z}:{x}"))
    return [n for n in notes if not n.startswith("matched pairs for") or n.startswith(own)]


def _latent_row(fitted, outcome: str, term: str, note: str) -> dict:
    """The row values of a product term from an LMS/QML refit."""
    if not fitted.converged.optimizer_converged:
        raise LookupError("the model with product terms did not converge")
    params = fitted.params
    x, z = term.split(":")
    hit = params[(params["op"] == "~") & (params["lhs"] == outcome)
                 & params["rhs"].isin([term, f"{z}:{x}"])]
    if hit.empty:
        raise LookupError(f"the product term {term} → {outcome} could not be estimated")
    return {**params_row(hit.iloc[0]), "n": fitted.ntotal, "note": note}


def necessity_provider(res: FitResult, permutations: int, seed, alpha: float) -> Callable:
    """NCA of the fit's latent scores with the correlation-matched verdict
    (:func:`cbec_sem.propositions.necessity_null.necessity_provider`; docs/validity.md has its
    measured error rates), adding the N the analysis used."""
    provide = correlation_matched_provider(res, permutations, seed, alpha,
                                           draws=matched_draws(permutations),
                                           d_threshold=NECESSITY_D)

    def with_n(condition: str, outcome: str) -> tuple[dict, str]:
        values, text = provide(condition, outcome)
        return {**values, "n": _scored_rows(res, condition, outcome)}, text

    return with_n


def _scored_rows(res: FitResult, condition: str, outcome: str) -> int:
    """Cases with both scores (the N the necessity analysis used)."""
    scores = construct_scores(res, [condition, outcome], "latent")
    return int(scores.notna().all(axis=1).sum())
