"""The moderation figures of a report: a simple-slopes plot and a Johnson–Neyman plot for every
interaction (H5) and moderation (H6) hypothesis.

The probes need a fit with the product term.  An LMS/QML fit has it and is probed itself.  A
fit of the ML family is probed on the model the hypothesis test fitted: the same product
terms added to the fitted model, product indicators (``res.interaction_method``, matched
pairs) with robust (MLR) standard errors, on the rows the fit used (as
:mod:`cbec_sem.propositions.evidence` tests them; docs/validity.md says why).  The refit is
made once (``res.interaction_refit``) and shared by the hypothesis table and every figure.  PLS fits and
multi-group fits get a sentence instead (there is no probe of a PLS two-stage interaction
yet).  Formulas: Aiken & West (1991) for simple slopes, Johnson & Neyman (1936) and
Bauer & Curran (2005) for the region of significance (:mod:`cbec_sem.propositions.moderation`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..propositions.moderation_plot import plot_johnson_neyman, plot_simple_slopes
from .sections import Plot, Section

if TYPE_CHECKING:
    from ..results import FitResult

__all__ = ["probe_terms", "add_moderation_figures"]


def probe_terms(res: FitResult) -> list[tuple[str, str, str, str]]:
    """(hypothesis id, focal, moderator, outcome) of every interaction/moderation hypothesis:
    for H5 (``X × Z → Y``) X is focal and Z the moderator; for a moderation hypothesis
    (``W moderates X → Y``) X is focal and W the moderator."""
    out = []
    for h in res.model.hypotheses:
        if h.kind == "interaction":
            x, z, y = h.constructs
            out.append((h.id, x, z, y))
        elif h.kind == "moderation":
            w, x, y = h.constructs
            out.append((h.id, x, w, y))
    return out


def _has_own_terms(res: FitResult) -> bool:
    return hasattr(res.estimation, "latent_moments")


def add_moderation_figures(res: FitResult, section: Section) -> None:
    """Append the simple-slopes and Johnson–Neyman figures of every H5/H6 hypothesis to
    ``section`` (drawn on first use), or a sentence saying why there are none."""
    terms = probe_terms(res)
    if not terms:
        return
    if not res.converged.optimizer_converged:
        section.paragraphs.append("No moderation figures: the fit did not converge.")
        return
    if len(res.nobs) > 1:
        section.paragraphs.append("No moderation figures: probes of multi-group fits are not "
                                  "available; fit each group separately.")
        return
    if not (_has_own_terms(res) or res.is_covariance_fit):
        section.paragraphs.append(f"No moderation figures: simple slopes of a {res.estimator} "
                                  "fit's interaction are not available; refit with "
                                  "estimator='LMS' or an ML-family estimator to probe them.")
        return
    method = res.interaction_method
    if not _has_own_terms(res) and method not in ("dblcent", "rca"):
        section.paragraphs.append(f"No moderation figures: the probes use product indicators "
                                  f"and this fit tests interactions by {method.upper()}; fit "
                                  f"with estimator='{method.upper()}' to probe that model.")
        return
    cache: dict[str, object] = {}

    def fitted():
        if "fit" not in cache:
            if _has_own_terms(res):
                cache["fit"] = res
            else:
                got = res.interaction_refit  # the refit the hypothesis table tested
                if isinstance(got, LookupError):
                    raise got
                cache["fit"] = got[0]
        return cache["fit"]

    where = (f"the {res.estimator} fit's own product terms" if _has_own_terms(res) else
             f"the product-indicator model of the hypothesis test ({method}, matched pairs, "
             "robust SEs)")
    for hid, focal, moderator, outcome in terms:
        def slopes(focal=focal, moderator=moderator, outcome=outcome):
            return plot_simple_slopes(fitted(), focal, moderator, outcome).figure

        def jn(focal=focal, moderator=moderator, outcome=outcome):
            return plot_johnson_neyman(fitted(), focal, moderator, outcome).figure

        section.plots.append(Plot(
            f"slopes_{hid}", f"{hid}: simple slopes of {focal} on {outcome} at {moderator} "
            "= mean − 1 SD, mean, mean + 1 SD", slopes,
            (f"Probed on {where}; slopes with Wald p values (Aiken & West, 1991).",)))
        section.plots.append(Plot(
            f"jn_{hid}", f"{hid}: Johnson–Neyman plot of the slope of {focal} on {outcome} "
            f"across {moderator}", jn,
            (f"Probed on {where}; shaded band: 95% confidence interval of the simple slope; "
             "dashed lines: Johnson–Neyman points (Bauer & Curran, 2005).",)))
