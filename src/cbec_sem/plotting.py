"""Matplotlib, imported only when a plot is asked for (it is the optional ``plot`` extra), and
the few conventions every publication plot of the package shares: a new figure laid out with
``constrained`` layout, the legend outside the data, *p* values in APA style
(:func:`cbec_sem.apa.p_text`)."""

from __future__ import annotations

from .errors import CbecSemError

__all__ = ["pyplot", "new_axes", "legend_outside"]


def pyplot():
    """``matplotlib.pyplot``, or a CbecSemError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise CbecSemError(
            'plotting needs matplotlib, which is not installed: pip install "cbec-sem[plot]"'
        ) from None
    return plt


def new_axes(figsize: tuple[float, float] = (7.5, 4.0)):
    """A new figure with one Axes, laid out so that a legend outside the axes is kept in the
    figure (``layout="constrained"``)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def legend_outside(ax, **kwargs):
    """The legend to the right of the axes, never over the data; returns the Legend.

    On a figure with one Axes and constrained layout (:func:`new_axes`) the legend is a
    figure legend placed ``"outside right upper"``, which the layout makes room for; on an
    Axes the caller made, it is anchored just right of the Axes."""
    options = dict(fontsize="small", frameon=False)
    options.update(kwargs)
    fig = ax.figure
    if len(fig.axes) == 1 and fig.get_layout_engine() is not None:
        handles, labels = ax.get_legend_handles_labels()
        return fig.legend(handles, labels, loc="outside right upper", **options)
    options.setdefault("loc", "upper left")
    options.setdefault("bbox_to_anchor", (1.02, 1.0))
    options.setdefault("borderaxespad", 0.0)
    return ax.legend(**options)
