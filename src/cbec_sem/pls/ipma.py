"""Importance-performance map analysis (IPMA; Ringle & Sarstedt 2016, IMDS 116(9)).

* Indicators are rescaled to 0–100: ``x' = (x − min)/(max − min) · 100`` with the scale's
  theoretical range ``scale=(min, max)`` (or per item), or, when not given, the observed
  range of each item (stated in the result).
* A construct's per-case performance is a weighted mean of its rescaled indicators.  Weights
  (``weights=``): "unstandardized" (default; Ringle & Sarstedt 2016 and SmartPLS: the
  standardised outer weight divided by the SD of the rescaled indicator, normalised to sum
  1, so the performance score is an exact linear transform of the PLS score) or
  "standardized" (the outer weights normalised to sum 1, as seminrExtras' ``assess_cipma``).
  A higher-order construct chains through its dimensions' 0–100 scores.
* Performance = mean of the per-case performance; importance = unstandardised total effect
  on ``target``: each standardised path times SD(to)/SD(from) of the per-case performance
  scores, then ``T = B (I − B)⁻¹`` (:mod:`.effects`).
* Indicator level: performance = mean rescaled indicator, importance = its normalised weight
  times its construct's importance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, SpecError
from ..protocol import Block, Summary
from .effects import total_effects
from .estimate import PLSEstimation

__all__ = ["IPMAResult", "ipma"]


@dataclass(frozen=True, repr=False)
class IPMAResult:
    """Construct- and indicator-level importance and performance for one target."""

    target: str
    constructs: pd.DataFrame   # construct, importance, performance, importance_std
    indicators: pd.DataFrame   # construct, indicator, weight, importance, performance
    scale: str
    weights: str
    #: per-case 0-100 performance of every construct (target included; rows as the data)
    case_performance: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.constructs.copy()

    def summary(self) -> Summary:
        return Summary(title=f"IPMA, target {self.target}",
                       blocks=(Block("Constructs", self.constructs),
                               Block("Indicators", self.indicators)),
                       notes=(f"0-100 rescaling by {self.scale}; {self.weights} weights",))

    def __repr__(self) -> str:
        return (f"<IPMAResult target={self.target!r}: {len(self.constructs)} constructs, "
                f"{self.weights} weights>")


def _range(scale, item: str, x: np.ndarray) -> tuple[float, float]:
    if scale is None:
        return float(x.min()), float(x.max())
    lo, hi = scale[item] if isinstance(scale, dict) else scale
    if not lo < hi:
        raise DataError(f"the scale of {item!r} must have min < max, not {(lo, hi)}")
    if x.min() < lo or x.max() > hi:
        raise DataError(f"the item {item!r} has values outside its scale {lo}..{hi}")
    return float(lo), float(hi)


def ipma(est: PLSEstimation, target: str, *, scale=None, weights: str = "unstandardized"
         ) -> IPMAResult:
    """IPMA of every construct with a total effect on ``target`` (see the module docstring).

    Raises:
        SpecError: ``target`` is not an endogenous construct, unknown ``weights``, or an
            interaction model (interaction constructs have no performance).
        DataError: values outside a given scale.
    """
    if weights not in ("unstandardized", "standardized"):
        raise SpecError(f"weights must be 'unstandardized' or 'standardized', not {weights!r}")
    c = est.computed
    st = c.main.stage
    if any(st.interaction):
        raise SpecError("IPMA is not defined for interaction constructs; use the "
                        "main-effects model")
    names = list(st.names)
    if target not in names or not st.blocks.adjacency[:, names.index(target)].any():
        raise SpecError(f"target {target!r} is not an endogenous construct ({names})")
    data = pd.DataFrame(est.data, columns=list(est.plan.items))
    w = est.weights
    perf_obs: dict[str, np.ndarray] = {}
    ind_rows = []

    def construct_perf(con: str) -> np.ndarray:
        if con in perf_obs:
            return perf_obs[con]
        rows = w[w["construct"] == con]
        cols = []
        for item in rows["indicator"]:
            if item in data.columns:
                x = data[item].to_numpy()
                lo, hi = _range(scale, item, x)
                cols.append((x - lo) / (hi - lo) * 100)
            else:  # a dimension of a higher-order construct: already 0-100
                cols.append(construct_perf(item))
        R = np.column_stack(cols)
        ws = rows["weight"].to_numpy()
        if weights == "unstandardized":
            ws = ws / R.std(axis=0, ddof=1)
        ws = ws / ws.sum()
        perf_obs[con] = R @ ws
        ind_rows.extend((con, i, wi, float(m)) for i, wi, m in
                        zip(rows["indicator"], ws, R.mean(axis=0)))
        return perf_obs[con]

    for con in names:
        construct_perf(con)
    sd = np.array([perf_obs[n].std(ddof=1) for n in names])
    beta = c.beta[0]
    unstd = beta * sd[None, :] / sd[:, None]
    T = total_effects(unstd[None])[0]
    Tstd = total_effects(beta[None])[0]
    j = names.index(target)
    keep = [i for i in range(len(names)) if i != j and abs(Tstd[i, j]) > 1e-12]
    cons = pd.DataFrame({"construct": [names[i] for i in keep],
                         "importance": [T[i, j] for i in keep],
                         "performance": [perf_obs[names[i]].mean() for i in keep],
                         "importance_std": [Tstd[i, j] for i in keep]})
    imp = dict(zip(cons["construct"], cons["importance"]))
    inds = pd.DataFrame(ind_rows, columns=["construct", "indicator", "weight", "performance"])
    inds = inds[inds["construct"].isin(imp)].reset_index(drop=True)
    inds.insert(3, "importance", inds["weight"] * inds["construct"].map(imp))
    label = "observed item ranges" if scale is None else f"scale {scale}"
    case = pd.DataFrame({n: perf_obs[n] for n in names}, index=est.scores.index)
    return IPMAResult(target, cons, inds, label, weights, case)
