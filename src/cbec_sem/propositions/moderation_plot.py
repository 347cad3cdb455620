"""Plots of moderation probes: simple-slope lines and the Johnson–Neyman plot.

matplotlib is optional (``pip install "cbec-sem[plot]"``) and imported only here, on use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..apa import fmt_num, p_text
from ..plotting import legend_outside, new_axes
from .moderation import InteractionEstimates, johnson_neyman, simple_slopes

__all__ = ["plot_simple_slopes", "plot_johnson_neyman"]


def _label(at: float, scale: str) -> str:
    if scale != "sd":
        return f"{at:g}"
    if at == 0:
        return "mean"
    return f"mean {'+' if at > 0 else '−'} {abs(at):g} SD"


def plot_simple_slopes(
    est,
    focal: str,
    moderator: str,
    outcome: str,
    at: Sequence[float] = (-1, 0, 1),
    scale: str = "sd",
    level: float = 0.95,
    focal_range: tuple[float, float] | None = None,
    ax=None,
):
    """Predicted ``outcome`` against ``focal`` at chosen moderator values, one line each.

    The line at W = w is ŷ = (b1 + b3·w)·x + b2·w (b2 the moderator's own path, 0 if absent),
    relative to the outcome's intercept (0 for a latent outcome).  The legend, outside the
    data, gives each simple slope with its p value in APA style (``p < .001``).

    Args:
        focal_range: x-axis range; default the focal mean ± 2 SD (± 2 when its SD is unknown).
        ax: a matplotlib Axes to draw on (default: a new figure).

    Returns:
        The matplotlib Axes.

    Examples:
        >>> data = cs.datasets.example_survey()
        >>> res = cs.fit("TA =~ ta1 + ta2 + ta3 + ta4; PC =~ pc1 + pc2 + pc3; "
        ...              "FA =~ fa1 + fa2 + fa3 + fa4; FA ~ TA + PC + TA:PC", data, estimator="QML")
        >>> ax = cs.plot_simple_slopes(res, "TA", "PC", "FA")
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('TA', 'predicted FA')
    """

    # any fit with the product term (LMS/QML, product indicators) or its coefficients
    est = InteractionEstimates.from_fit(est, moderator, focal=focal, outcome=outcome)
    table = simple_slopes(est, focal, moderator, outcome, at=at, scale=scale, level=level)
    if ax is None:
        ax = new_axes()
    sd = est.focal_sd or 1.0
    lo, hi = focal_range or (est.focal_mean - 2 * sd, est.focal_mean + 2 * sd)
    x = np.linspace(lo, hi, 50)
    b2 = est.coef[est.key(outcome, moderator)] if est.has(outcome, moderator) else 0.0
    for row in table.itertuples(index=False):
        y = row.slope * x + b2 * row.moderator
        ax.plot(x, y, label=(f"{moderator} = {_label(row.at, scale)}: slope "
                             f"{fmt_num(row.slope, 2)}, {p_text(row.pvalue)}"))
    ax.set_xlabel(focal)
    ax.set_ylabel(f"predicted {outcome}")
    ax.set_title(f"Simple slopes of {focal} on {outcome} by {moderator}")
    legend_outside(ax)
    return ax


def plot_johnson_neyman(
    est,
    focal: str,
    moderator: str,
    outcome: str,
    level: float = 0.95,
    moderator_range: tuple[float, float] | None = None,
    ax=None,
):
    """The simple slope of ``focal`` and its confidence band across ``moderator``, with the
    Johnson–Neyman points marked and the region of significance shaded.

    Args:
        moderator_range: x-axis range; default the moderator mean ± 3 SD, widened to show
            Johnson–Neyman points up to 4 SD away.
        ax: a matplotlib Axes to draw on (default: a new figure).

    Returns:
        The matplotlib Axes.

    Examples:
        >>> model = ("TA =~ ta1 + ta2 + ta3 + ta4; PC =~ pc1 + pc2 + pc3; "
        ...          "FA =~ fa1 + fa2 + fa3 + fa4; FA ~ TA + PC + TA:PC")
        >>> res = cs.fit(model, cs.datasets.example_survey(), estimator="QML")
        >>> ax = cs.plot_johnson_neyman(res, focal="TA", moderator="PC", outcome="FA")
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('PC', 'slope of TA on FA')
    """

    est = InteractionEstimates.from_fit(est, moderator, focal=focal, outcome=outcome)
    jn = johnson_neyman(est, focal, moderator, outcome, level=level)
    mean, sd = est.moderator_mean, est.moderator_sd
    if moderator_range is None:
        lo, hi = mean - 3 * sd, mean + 3 * sd
        for r, rs in zip(jn.roots, jn.roots_sd):
            if abs(rs) <= 4:
                lo, hi = min(lo, r - 0.25 * sd), max(hi, r + 0.25 * sd)
    else:
        lo, hi = moderator_range
    w = np.linspace(lo, hi, 200)
    table = simple_slopes(est, focal, moderator, outcome, at=w, scale="raw", level=level)
    if ax is None:
        ax = new_axes()
    ax.plot(w, table["slope"], color="C0", label=f"simple slope of {focal}")
    ax.fill_between(w, table["ci.lower"], table["ci.upper"], color="C0", alpha=0.2,
                    label=f"{level:.0%} CI")
    ax.axhline(0.0, color="0.4", linewidth=0.8)
    significant = (table["ci.lower"] > 0) | (table["ci.upper"] < 0)
    ax.fill_between(w, 0, 1, where=significant.to_numpy(), color="C2", alpha=0.08,
                    transform=ax.get_xaxis_transform(), label="region of significance")
    for r in jn.roots:
        if lo <= r <= hi:
            ax.axvline(r, color="C3", linestyle="--", linewidth=1)
            ax.annotate(f"JN {fmt_num(r, 2)}", (r, 0.02), xycoords=("data", "axes fraction"),
                        rotation=90, va="bottom", ha="right", fontsize="small", color="C3")
    ax.set_xlim(lo, hi)
    ax.set_xlabel(moderator)
    ax.set_ylabel(f"slope of {focal} on {outcome}")
    ax.set_title("Johnson–Neyman plot")
    legend_outside(ax)
    return ax
