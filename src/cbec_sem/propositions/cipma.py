"""Combined importance-performance map analysis (cIPMA): IPMA with NCA on PLS scores.

Richter, Schubring, Hauff, Ringle & Sarstedt (2020), "When predictors of outcomes are
necessary: guidelines for the combined use of PLS-SEM and NCA", IMDS 120(12), 2243-2267;
Hauff, Richter, Sarstedt & Ringle (2024), "Importance and performance in PLS-SEM and NCA:
introducing the combined importance-performance map analysis (cIPMA)", JRCS 78, 103723.

* Importance and performance: :func:`cbec_sem.pls.ipma` (Ringle & Sarstedt 2016).
* Necessity: the project's NCA (:func:`~.necessity.nca`, Dul 2016; permutation test of Dul,
  van der Laan & Kuik 2020) of ``target`` on each IPMA construct, on the per-case 0-100
  performance scores (``nca_scores="performance"``, Hauff et al. 2024: bottleneck tables in
  performance units) or on the standardised PLS construct scores (``"pls"``, as
  seminrExtras' ``assess_cipma``).  With unstandardised IPMA weights the performance score
  is an increasing linear transform of the PLS score, so d and p are the same either way.
* A construct is necessary when d ≥ ``d_threshold`` (0.1, Dul 2016's "medium") on the
  ceiling ``necessity_ceiling`` (CE-FDH by default) and, when the permutation test is run,
  p < ``alpha`` (seminrExtras: d ≥ 0.1 and p < .05).
* Classification (seminrExtras ``classify_cipma_constructs``): high importance = importance
  strictly above the median importance; "Top priority" (high, necessary), "Important driver"
  (high, not necessary), "Bottleneck risk" (not high, necessary), "Low priority".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..protocol import Block, Summary
from ..pls import PLSEstimation, ipma
from ..pls.ipma import IPMAResult
from .necessity import NCAResult, nca

__all__ = ["CIPMAResult", "cipma"]

NCA_SCORES = ("performance", "pls")


@dataclass(frozen=True, repr=False)
class CIPMAResult:
    """cIPMA of one target: ``table`` (construct, importance, performance, d, p,
    necessary, high_importance, priority), the :class:`IPMAResult` and the
    :class:`NCAResult`.

    Examples:
        >>> est = cs.estimate_pls("TA =~ ta1 + ta2 + ta3 + ta4; FA =~ fa1 + fa2 + fa3 + fa4; "
        ...                       "SCI =~ vp1 + vp2 + fo1; FA ~ TA; SCI ~ TA + FA",
        ...                       cs.datasets.example_survey())
        >>> r = cs.cipma(est, "SCI", scale=(1, 7))
        >>> r.table[["construct", "priority"]]
          construct      priority
        0        TA  Low priority
        1        FA  Top priority
    """

    target: str
    table: pd.DataFrame
    ipma: IPMAResult
    nca: NCAResult
    nca_scores: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        return Summary(title=f"cIPMA, target {self.target}",
                       blocks=(Block("Importance, performance and necessity", self.table),),
                       notes=(f"NCA on the {self.nca_scores} scores; high importance: above "
                              "the median importance (seminrExtras)",))

    def __repr__(self) -> str:
        return f"<CIPMAResult target={self.target!r}: {len(self.table)} constructs>"


def cipma(est, target: str, *, scale=None, weights: str = "unstandardized",
          nca_scores: str = "performance", ceilings=("ce_fdh", "cr_fdh"),
          necessity_ceiling: str = "ce_fdh", permutations: int = 0, seed=None,
          d_threshold: float = 0.1, alpha: float = 0.05,
          bottleneck_steps: int = 10) -> CIPMAResult:
    """Combined IPMA of a PLS fit (see the module docstring).

    Args:
        est: a ``cs.fit(..., estimator="PLS")`` result or a PLS estimate.
        target, scale, weights: as :func:`cbec_sem.pls.ipma`.
        nca_scores: "performance" (0-100 IPMA scores) or "pls" (standardised PLS scores).
        ceilings, permutations, seed, bottleneck_steps: as :func:`~.necessity.nca`.
        necessity_ceiling: the ceiling whose d (and p) decide necessity.

    Raises:
        SpecError: not a PLS fit, an unknown ``nca_scores``, a ``necessity_ceiling`` not
            among ``ceilings``.

    Examples:
        >>> est = cs.estimate_pls("TA =~ ta1 + ta2 + ta3 + ta4; FA =~ fa1 + fa2 + fa3 + fa4; "
        ...                       "SCI =~ vp1 + vp2 + fo1; FA ~ TA; SCI ~ TA + FA",
        ...                       cs.datasets.example_survey())
        >>> r = cs.cipma(est, "SCI", scale=(1, 7))
        >>> r.table[["construct", "priority"]]
          construct      priority
        0        TA  Low priority
        1        FA  Top priority
    """
    est = getattr(est, "estimation", est)
    if not isinstance(est, PLSEstimation):
        raise SpecError(f"cIPMA needs a PLS fit (cs.fit(..., estimator='PLS')), not a "
                        f"{type(est).__name__}")
    if nca_scores not in NCA_SCORES:
        raise SpecError(f"nca_scores must be one of {NCA_SCORES}, not {nca_scores!r}")
    ceilings = (ceilings,) if isinstance(ceilings, str) else tuple(ceilings)
    if necessity_ceiling not in ceilings:
        raise SpecError(f"necessity_ceiling {necessity_ceiling!r} is not among the "
                        f"ceilings {ceilings}")
    imp = ipma(est, target, scale=scale, weights=weights)
    names = list(imp.constructs["construct"])
    frame = imp.case_performance if nca_scores == "performance" else est.scores
    res = nca(frame[[*names, target]].reset_index(drop=True), names, target,
              ceilings=ceilings, permutations=permutations, seed=seed,
              bottleneck_steps=bottleneck_steps)
    eff = res.effects[res.effects["ceiling"] == necessity_ceiling].set_index("condition")
    table = imp.constructs[["construct", "importance", "performance"]].copy()
    table["d"] = table["construct"].map(eff["d"]).to_numpy()
    table["p"] = table["construct"].map(eff["p_value"]).to_numpy()
    necessary = table["d"] >= d_threshold
    if permutations:
        necessary &= table["p"] < alpha
    table["necessary"] = necessary.to_numpy()
    table["high_importance"] = table["importance"] > np.nanmedian(table["importance"])
    table["priority"] = [
        ("Top priority" if n else "Important driver") if h
        else ("Bottleneck risk" if n else "Low priority")
        for h, n in zip(table["high_importance"], table["necessary"])]
    return CIPMAResult(target, table.reset_index(drop=True), imp, res, nca_scores)
