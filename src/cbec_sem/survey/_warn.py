"""Issuing warnings that point at the user's line, not at cbec_sem's internals."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from ..errors import CbecSemWarning, DataWarning

__all__ = ["warn"]

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


def warn(message: str, category: type[CbecSemWarning] = DataWarning) -> None:
    """``warnings.warn`` with the stack level of the first caller outside the cbec_sem package."""
    level = 1
    frame = sys._getframe(0)
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(
        _PACKAGE_DIR
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
