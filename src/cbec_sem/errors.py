"""The exception and warning hierarchy of cbec_sem.

Every error a user can see from inside the library is one of these, so that a notebook can
``except cbec_sem.errors.CbecSemError`` and a CLI can print one line.  Messages name the
offending column, row, parameter or line, and say what to do about it.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path


class CbecSemError(Exception):
    """Base class of every error raised by cbec_sem."""


class SpecError(CbecSemError, ValueError):
    """A model specification that cannot be read or does not make sense (syntax, names)."""


class IdentificationError(SpecError):
    """A model that is not identified (a latent variable without a scale, negative df, ...)."""


class ParameterNotFoundError(SpecError, KeyError):
    """A parameter asked of a result that the model does not have (also a ``KeyError``, so
    ``except KeyError`` keeps working); the message lists what there is."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataError(CbecSemError, ValueError):
    """Data that cannot be used as given (missing or non-numeric columns, constant items, ...)."""


class EstimationError(CbecSemError, RuntimeError):
    """Estimation failed in a way that leaves no usable result."""


class CbecSemWarning(UserWarning):
    """Base class of every warning issued by cbec_sem."""


class ConvergenceWarning(CbecSemWarning):
    """The optimiser stopped before reaching the optimum; estimates are not trustworthy."""


class AdmissibilityWarning(CbecSemWarning):
    """The solution is inadmissible (negative variance, non-positive-definite covariance, ...)."""


class IdentificationWarning(CbecSemWarning):
    """The model may be empirically under-identified (singular information matrix)."""


class DataWarning(CbecSemWarning):
    """Something about the data the user should know (rows dropped, reverse-keying applied, ...)."""


__all__ = [
    "ParameterNotFoundError",
    "CbecSemError",
    "SpecError",
    "IdentificationError",
    "DataError",
    "EstimationError",
    "CbecSemWarning",
    "ConvergenceWarning",
    "AdmissibilityWarning",
    "IdentificationWarning",
    "DataWarning",
]


class ReportError(CbecSemError, ValueError):
    """A report or diagram that cannot be written as asked (unknown format, missing or
    unwritable directory, a model too large to draw)."""


_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def warn(message: str, category: type[CbecSemWarning] = DataWarning) -> None:
    """``warnings.warn`` with the stack level of the first caller outside the cbec_sem package,
    so that a warning points at the user's line, not at cbec_sem's internals."""
    level = 1
    frame = sys._getframe(0)
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(
        _PACKAGE_DIR
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
