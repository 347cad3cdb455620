"""Naming rules shared by the parser, the writer and the model: what may name a variable or label.

A name follows R's rules for syntactic names, which lavaan inherits: letters (any alphabet),
digits, ``_`` and ``.``; it does not start with a digit or with ``.`` followed by a digit, and
it is not one of R's reserved words.  Labels and defined parameters (``:=``) end up inside
expressions, so they must in addition not be Python keywords.
"""

from __future__ import annotations

import keyword
import re

#: Regular expression of one name (used by the tokenizers).  ``[^\W\d]`` is a letter or ``_``.
NAME_PATTERN = r"(?:[^\W\d]|\.)[\w.]*"

#: Regular expression of one unsigned number as written in lavaan syntax.  Written so that no
#: two quantifiers compete for the same digits (``\d+\.?\d*`` backtracks quadratically on a
#: long run of digits that fails to match: 24 s for 20,000 digits; issue 14).
NUMBER_PATTERN = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"

_NAME_RE = re.compile(NAME_PATTERN)
_NUMBER_RE = re.compile(r"[+-]?" + NUMBER_PATTERN)
_BAD_CHAR_RE = re.compile(r"[^\w.]")

#: R's reserved words: never a variable name or label.
R_RESERVED = frozenset(
    {
        "if", "else", "repeat", "while", "function", "for", "in", "next", "break",
        "TRUE", "FALSE", "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_",
        "NA_character_", "NA_complex_",
    }
)

#: Python's keywords: never a label or defined-parameter name (expressions are compiled).
PYTHON_KEYWORDS = frozenset(keyword.kwlist)

#: Threshold names of the ``|`` operator: ``t1``, ``t2``, ...
THRESHOLD_RE = re.compile(r"t[1-9][0-9]*")


def name_problem(name: object) -> str | None:
    """Say why ``name`` cannot name a variable, or return None when it can.

    The answer completes the sentence "it ...", e.g. ``"starts with a digit"``.
    """
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not a string"
    if name == "":
        return "is empty"
    if _NUMBER_RE.fullmatch(name):
        return "is a number"
    if name[0].isdigit() or (name[0] == "." and len(name) > 1 and name[1].isdigit()):
        return "starts with a digit"
    if not _NAME_RE.fullmatch(name):
        # the first character no name may contain, in one linear scan (re-matching every
        # prefix was quadratic: 62 s for a 40,000-character name; issue 14)
        found = _BAD_CHAR_RE.search(name)
        bad = found.group(0) if found else name[0]
        return f"contains {bad!r}; names may contain letters, digits, '_' and '.'"
    if name in R_RESERVED:
        return "is a reserved word"
    return None


def label_problem(name: object) -> str | None:
    """Say why ``name`` cannot be a label or defined parameter, or return None when it can."""
    problem = name_problem(name)
    if problem is None and name in PYTHON_KEYWORDS:
        return "is a reserved word"
    return problem


def is_threshold(name: str) -> bool:
    """True when ``name`` is a threshold name ``t1``, ``t2``, ..."""
    return THRESHOLD_RE.fullmatch(name) is not None


def format_number(value: float) -> str:
    """Write a number so that reading it back gives the same float (``1`` rather than ``1.0``)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
