"""The NCA scatter plot: observations, scope, CE-FDH step ceiling and CR-FDH line.

matplotlib is optional (``pip install "cbec-sem[plot]"``) and imported only here, on use.
"""

from __future__ import annotations

import numpy as np

from ..errors import CbecSemError
from ..apa import fmt_num
from ..plotting import legend_outside, pyplot

__all__ = ["plot_nca"]


def _step_vertices(fit) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the CE-FDH step ceiling (mirrored units): from each upper-left corner point
    right to the next one's X, then up; the last runs to the right edge of the scope."""
    x0, x1, y0, y1 = fit.tscope
    ux, R = fit.ce["ux"], fit.ce["R"]
    corner = np.r_[True, R[1:] > R[:-1]]
    px, py = ux[corner], R[corner]
    xs = [px[0]]
    ys = [py[0]]
    for k in range(1, px.size):
        xs += [px[k], px[k]]
        ys += [py[k - 1], py[k]]
    xs.append(x1)
    ys.append(py[-1])
    return np.asarray(xs), np.asarray(ys)


def _line_vertices(fit) -> tuple[np.ndarray, np.ndarray]:
    x0, x1, y0, y1 = fit.tscope
    a, b = fit.cr["intercept"], fit.cr["slope"]
    xs = np.linspace(x0, x1, 2)
    if b > 0:
        lo, hi = (y0 - a) / b, (y1 - a) / b
        xs = np.unique(np.clip(np.r_[x0, lo, hi, x1], x0, x1))
    return xs, np.clip(a + b * xs, y0, y1)


def _draw(result, fit, ax) -> None:
    # transparency shows overplotting: Likert scores put many firms on one point
    ax.scatter(fit.x, fit.y, s=18, color="0.25", alpha=0.35, linewidths=0, zorder=3,
               label="observations")
    x0, x1, y0, y1 = fit.scope
    ax.add_patch(_rectangle(x0, x1, y0, y1))
    styles = {"ce_fdh": dict(color="tab:red", lw=1.6, ls="-"),
              "cr_fdh": dict(color="tab:blue", lw=1.6, ls="--")}
    for c in result.ceilings:
        d = fit.rows[c]["d"]
        xt, yt = _step_vertices(fit) if c == "ce_fdh" else _line_vertices(fit)
        xs, ys = fit.to_original(xt, yt)
        label = f"{c.upper().replace('_', '-')} (d = {fmt_num(d, 2, bounded=True)})"
        ax.plot(xs, ys, label=label, zorder=4, **styles[c])
    ax.set_xlabel(fit.condition)
    ax.set_ylabel(result.outcome)
    ax.set_title(f"NCA: {fit.condition} → {result.outcome}")
    legend_outside(ax)


def _rectangle(x0, x1, y0, y1):
    from matplotlib.patches import Rectangle

    return Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ls=":", lw=0.8, color="0.5",
                     label="scope")


def plot_nca(result, ax=None, condition=None):
    """Draw an :class:`~cbec_sem.propositions.necessity.NCAResult`; returns the axes (an array
    of axes for several conditions)."""
    plt = pyplot()
    conds = [condition] if condition is not None else list(result.conditions)
    for c in conds:
        result._fit(c)  # validates the name
    if len(conds) == 1:
        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
        target = ax[0] if isinstance(ax, (list, tuple, np.ndarray)) else ax
        _draw(result, result._fits[conds[0]], target)
        return target
    if ax is None:
        _, axes = plt.subplots(1, len(conds), figsize=(6.5 * len(conds), 4), squeeze=False,
                               layout="constrained")
        axes = axes[0]
    else:
        axes = np.ravel(np.asarray(ax, dtype=object))
        if axes.size < len(conds):
            raise CbecSemError(f"{len(conds)} conditions need {len(conds)} axes, got {axes.size}")
    for c, a in zip(conds, axes):
        _draw(result, result._fits[c], a)
    return axes
