"""Matplotlib, imported only when a plot is asked for (it is the optional ``plot`` extra)."""

from __future__ import annotations

from .errors import CbecSemError


def pyplot():
    """``matplotlib.pyplot``, or a CbecSemError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise CbecSemError(
            'plotting needs matplotlib, which is not installed: pip install "cbec-sem[plot]"'
        ) from None
    return plt
