"""Probing a PLS interaction: simple slopes and a Johnson–Neyman region from bootstrap draws.

In a PLS model with a two-stage (or product-indicator/orthogonal) interaction the outcome
equation is ``Y = b1·X + b2·W + b3·(X·W) + ...`` on standardised construct scores, so the
simple slope of X at a moderator value w (in SD units of the moderator's score, whose mean is
0) is ω(w) = b1 + b3·w (Aiken & West 1991, ch. 2) — SmartPLS's "simple slope analysis" plots
it at w = −1, 0, +1 (Hair et al. 2022, *A Primer on PLS-SEM*, 3rd ed., on moderation).  Inference is
by the bootstrap, as for every PLS estimate: each draw gives ω*(w) = b1* + b3*·w;

* ``se`` is the standard deviation of the ω*(w) (N − 1), ``z`` = ω/se, ``pvalue`` the
  two-sided normal p (as :func:`~.bootstrap.bootstrap_pls`), and the interval the percentile
  interval of the ω*(w) (R type 7);
* the Johnson–Neyman region (Johnson & Neyman 1936; Bauer & Curran 2005) is where that
  percentile interval excludes 0; its limits are the values of w at which a percentile limit
  of ω*(w) crosses 0, found on a grid over the observed range of the moderator's scores and
  refined by Brent's method.  The region is reported inside the observed range only (beyond
  it there are no data to probe).

The Wald-type probes with the bootstrap covariance of (b1, b3) are the project's
:func:`cbec_sem.propositions.moderation.simple_slopes`/``johnson_neyman`` fed with the PLS
fit's parameters and bootstrap covariance matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special  # special.ndtr: the normal cdf (scipy.stats.norm's)

from ..errors import SpecError
from ..protocol import Block, Summary
from .bootstrap import PLSBootstrap, bootstrap_pls
from .estimate import PLSEstimation

__all__ = ["slope_draws", "pls_simple_slopes", "pls_johnson_neyman", "PLSJohnsonNeyman"]


def _bootstrap_of(fit, draws: int, seed) -> PLSBootstrap:
    """The PLS bootstrap of ``fit``: a :class:`PLSBootstrap`, a fit result holding one
    (``fit.bootstrap``), or a :class:`PLSEstimation` (bootstrapped here with ``draws``)."""
    if isinstance(fit, PLSBootstrap):
        return fit
    boot = getattr(fit, "bootstrap", None)
    if isinstance(boot, PLSBootstrap):
        return boot
    est = getattr(fit, "estimation", fit)
    if isinstance(est, PLSEstimation):
        return bootstrap_pls(est, draws, seed=seed)
    raise SpecError(f"a PLS probe needs a PLS fit (cs.fit(..., estimator='PLS')), its "
                    f"estimation or its bootstrap, not a {type(fit).__name__}")


def _term(est: PLSEstimation, focal: str, moderator: str, outcome: str) -> str:
    if focal == moderator:
        raise SpecError(f"the focal predictor and the moderator are both {focal!r}")
    p = est.params[(est.params["op"] == "~") & (est.params["lhs"] == outcome)]
    have = set(p["rhs"])
    if focal not in have:
        raise SpecError(f"the model has no path {outcome} ~ {focal}; its paths to {outcome} "
                        f"are: {', '.join(sorted(have)) or 'none'}")
    for term in (f"{focal}:{moderator}", f"{moderator}:{focal}"):
        if term in have:
            return term
    raise SpecError(f"the model has no interaction {focal}:{moderator} -> {outcome}; fit it "
                    f"with the term ('{outcome} ~ {focal} + {moderator} + "
                    f"{focal}:{moderator}') to probe it")


def slope_draws(boot: PLSBootstrap, focal: str, moderator: str, outcome: str
                ) -> tuple[float, float, np.ndarray]:
    """(b1, b3, draws (B', 2)) of the focal path and the interaction term, over the draws
    where both succeeded."""
    est = boot.estimate
    term = _term(est, focal, moderator, outcome)
    t = boot.table
    cols = []
    for rhs in (focal, term):
        hit = np.flatnonzero(((t["kind"] == "param") & (t["lhs"] == outcome)
                              & (t["op"] == "~") & (t["rhs"] == rhs)).to_numpy())
        cols.append(hit[0])
    d = boot.draws[:, cols]
    d = d[np.isfinite(d).all(axis=1)]
    point = t["est"].to_numpy()[cols]
    return float(point[0]), float(point[1]), d


def _check(level: float, at) -> np.ndarray:
    if not 0 < level < 1:
        raise SpecError(f"level={level!r} must lie strictly between 0 and 1")
    w = np.atleast_1d(np.asarray(at, dtype=float))
    if w.ndim != 1 or not np.isfinite(w).all():
        raise SpecError(f"at must be finite moderator values (SD units), not {at!r}")
    return w


def pls_simple_slopes(fit, focal: str, moderator: str, outcome: str,
                      at=(-1.0, 0.0, 1.0), *, level: float = 0.95, draws: int = 5000,
                      seed=None) -> pd.DataFrame:
    """Simple slopes of ``focal`` on ``outcome`` at moderator values ``at`` (SD units of the
    moderator's standardised score), with bootstrap SE and percentile intervals.

    Args:
        fit: a PLS fit result with a bootstrap, a :class:`PLSBootstrap`, or a
            :class:`PLSEstimation` (then bootstrapped with ``draws`` and ``seed``).

    Returns:
        One row per value: ``at, moderator, slope, se, z, pvalue, ci.lower, ci.upper, std``
        (the columns of :func:`cbec_sem.propositions.moderation.simple_slopes`; ``std`` equals
        ``slope`` since PLS scores are standardised), plus ``draws``.

    Examples:
        >>> est = cs.estimate_pls("TA =~ ta1 + ta2 + ta3 + ta4; PC =~ pc1 + pc2 + pc3; FA =~ fa1 + fa2 + fa3 + fa4;"
        ...                       " FA ~ TA + PC + TA:PC", cs.datasets.example_survey())
        >>> cs.pls_simple_slopes(est, "TA", "PC", "FA", draws=100, seed=1)[["at", "slope", "se"]].round(3)
            at  slope     se
        0 -1.0  0.332  0.076
        1  0.0  0.374  0.048
        2  1.0  0.416  0.062
    """
    w = _check(level, at)
    boot = _bootstrap_of(fit, draws, seed)
    b1, b3, d = slope_draws(boot, focal, moderator, outcome)
    if len(d) < 2:
        raise SpecError("fewer than two successful bootstrap draws: no interval")
    slope = b1 + b3 * w
    star = d[:, :1] + d[:, 1:] * w[None, :]                       # (B', len(w))
    se = star.std(axis=0, ddof=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(star, [alpha, 1 - alpha], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = slope / se
    return pd.DataFrame({"at": w, "moderator": w, "slope": slope, "se": se, "z": z,
                         "pvalue": 2 * special.ndtr(-np.abs(z)), "ci.lower": lo,
                         "ci.upper": hi, "std": slope, "draws": len(d)})


@dataclass(frozen=True, repr=False)
class PLSJohnsonNeyman:
    """The Johnson–Neyman region of a PLS simple slope (bootstrap percentile intervals).

    Attributes:
        roots: moderator values (SD units) where a percentile limit of the slope crosses 0.
        intervals: the region of significance as (lower, upper) pairs inside ``range``.
        range: the observed range of the moderator's scores (the region searched).
        kind: "everywhere", "nowhere" or "part" (within the observed range).
        statement: the result in words.
    """

    focal: str
    moderator: str
    outcome: str
    level: float
    roots: tuple[float, ...]
    intervals: tuple[tuple[float, float], ...]
    range: tuple[float, float]
    kind: str
    draws: int
    statement: str

    def __str__(self) -> str:
        return self.statement

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.intervals), columns=["lower", "upper"])

    def summary(self) -> Summary:
        return Summary(f"Johnson–Neyman (PLS bootstrap): {self.focal} → {self.outcome} across "
                       f"{self.moderator}", (Block("Region of significance", self.to_frame()),),
                       (self.statement,))

    def __repr__(self) -> str:
        return (f"<PLSJohnsonNeyman {self.focal} → {self.outcome} by {self.moderator}: "
                f"{self.kind}>")


def pls_johnson_neyman(fit, focal: str, moderator: str, outcome: str, *,
                       level: float = 0.95, draws: int = 5000, seed=None,
                       grid: int = 2001) -> PLSJohnsonNeyman:
    """The moderator values (SD units, inside the observed range) where the bootstrap
    percentile interval of the simple slope of ``focal`` excludes 0 (module docstring).

    Examples:
        >>> est = cs.estimate_pls("TA =~ ta1 + ta2 + ta3 + ta4; PC =~ pc1 + pc2 + pc3; FA =~ fa1 + fa2 + fa3 + fa4;"
        ...                       " FA ~ TA + PC + TA:PC", cs.datasets.example_survey())
        >>> cs.pls_johnson_neyman(est, "TA", "PC", "FA", draws=100, seed=1)
        <PLSJohnsonNeyman TA → FA by PC: everywhere>
    """
    _check(level, 0.0)
    boot = _bootstrap_of(fit, draws, seed)
    b1, b3, d = slope_draws(boot, focal, moderator, outcome)
    if len(d) < 2:
        raise SpecError("fewer than two successful bootstrap draws: no interval")
    scores = boot.estimate.scores[moderator].to_numpy()
    lo_w, hi_w = float(scores.min()), float(scores.max())
    alpha = (1 - level) / 2

    def limit(w: float, q: float) -> float:
        return float(np.quantile(d[:, 0] + d[:, 1] * w, q))

    ws = np.linspace(lo_w, hi_w, int(grid))
    star = d[:, :1] + d[:, 1:] * ws[None, :]
    lower, upper = np.quantile(star, [alpha, 1 - alpha], axis=0)
    roots = []
    for values, q in ((lower, alpha), (upper, 1 - alpha)):
        for i in np.flatnonzero(np.sign(values[:-1]) * np.sign(values[1:]) < 0):
            roots.append(optimize.brentq(limit, ws[i], ws[i + 1], args=(q,), xtol=1e-12))
    roots = sorted(roots)
    cuts = [lo_w, *roots, hi_w]
    intervals = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        mid = (a + b) / 2
        if limit(mid, alpha) > 0 or limit(mid, 1 - alpha) < 0:
            if intervals and intervals[-1][1] == a:
                intervals[-1] = (intervals[-1][0], b)
            else:
                intervals.append((a, b))
    kind = ("nowhere" if not intervals else
            "everywhere" if intervals == [(lo_w, hi_w)] else "part")
    pct = f"{level:.0%}"
    where = " or ".join(f"{a:.3f} < {moderator} < {b:.3f}" for a, b in intervals)
    statement = {
        "nowhere": f"The simple slope of {focal} on {outcome} is not significantly different "
                   f"from 0 ({pct} bootstrap percentile interval) anywhere in the observed "
                   f"range of {moderator} ({lo_w:.3f} to {hi_w:.3f} SD).",
        "everywhere": f"The simple slope of {focal} on {outcome} differs significantly from 0 "
                      f"({pct} bootstrap percentile interval) across the whole observed range "
                      f"of {moderator} ({lo_w:.3f} to {hi_w:.3f} SD).",
        "part": f"The simple slope of {focal} on {outcome} differs significantly from 0 "
                f"({pct} bootstrap percentile interval) when {where} (SD units; observed "
                f"range {lo_w:.3f} to {hi_w:.3f}).",
    }[kind]
    return PLSJohnsonNeyman(focal, moderator, outcome, level, tuple(float(r) for r in roots),
                            tuple(intervals), (lo_w, hi_w), kind, len(d), statement)
