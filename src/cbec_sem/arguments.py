"""Calls that do not fit a public function's signature, refused as typed errors.

Python answers ``cs.fit(model, data, bogus=1)`` with a ``TypeError``; the package's promise
(issue 14) is a typed error from :mod:`cbec_sem.errors` that names the culprit.  This module
is imported by the package's ``__init__`` (it wraps every public function when it is first
loaded) and so needs nothing beyond the standard library and :mod:`cbec_sem.errors`.
"""

from __future__ import annotations

import functools
import inspect

from .errors import SpecError

__all__ = ["typed_arguments"]


def typed_arguments(func, public_name: str | None = None):
    """``func`` with a call that does not fit its signature (an unknown keyword, a missing or
    an extra argument) refused as a :class:`SpecError` naming the function and listing its
    arguments, instead of Python's ``TypeError``.  The call itself is not slowed: the
    signature is consulted only after a ``TypeError``, and a ``TypeError`` raised inside a
    call that fits the signature is passed on unchanged.

    ``public_name``: the name under which the package exports it (``cbec_sem.fit``); the
    wrapper then pickles by that name."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TypeError:
            try:
                signature.bind(*args, **kwargs)
            except TypeError as exc:
                shown = [p for p in signature.parameters if p not in ("self", "cls")]
                takes = (f"its arguments are {', '.join(shown)}" if shown
                         else "it takes no arguments")
                raise SpecError(f"{func.__name__}(): {exc}; {takes}") from None
            raise

    if public_name is not None:
        call.__module__, call.__qualname__ = "cbec_sem", public_name
    return call
