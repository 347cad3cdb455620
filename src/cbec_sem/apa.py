"""APA 7 number formatting: the one home of how reports, tables, diagrams and plots print
numbers.

Rules (American Psychological Association, 2020, *Publication Manual* 7th ed., §6.36 and
§6.43-6.44):

- *p* values are given exactly to two or three decimals, and values below .001 as
  ``< .001``; never ``p = .000``;
- statistics that cannot exceed 1 in absolute value (correlations, proportions, *p*,
  reliability coefficients, R², AVE, HTMT ≤ 1 by convention of reporting) have **no leading
  zero** (``.82``), every other number keeps it (``0.47``);
- the minus sign is the true minus ``−`` (U+2212) in typeset output; plain text and files
  that are read back by machines (Excel) keep numbers as numbers.

Example:
    >>> fmt_p(0.0002), fmt_p(0.0312), fmt_num(0.8179, bounded=True), fmt_num(-0.469)
    ('< .001', '.031', '.818', '−0.469')
"""

from __future__ import annotations

import math

__all__ = ["fmt_p", "p_text", "fmt_num", "stars", "STAR_NOTE", "MINUS"]

MINUS = "\u2212"

#: The note that explains :func:`stars` under a table or a figure.
STAR_NOTE = "* p < .05. ** p < .01. *** p < .001."


def _finite(value) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def fmt_num(value, digits: int = 3, *, bounded: bool = False, minus: str = MINUS,
            missing: str = "") -> str:
    """A number with ``digits`` decimals; ``bounded=True`` drops the leading zero (APA §6.36:
    statistics that cannot exceed 1).  NaN/None give ``missing``.

    Examples:
        >>> fmt_num(0.5, 2, bounded=True), fmt_num(-0.05, 2, bounded=True), fmt_num(12.3456)
        ('.50', '−.05', '12.346')
    """
    x = _finite(value)
    if x is None:
        return missing
    text = f"{abs(x):.{digits}f}"
    if bounded and text.startswith("0."):
        text = text[1:]
    negative = x < 0 and text.strip("0.") != ""
    return (minus if negative else "") + text


def fmt_p(p, digits: int = 3, missing: str = "") -> str:
    """A *p* value in APA style: ``< .001`` below .001, else no leading zero.

    Examples:
        >>> fmt_p(1e-9), fmt_p(0.5), fmt_p(1.0), fmt_p(float("nan"))
        ('< .001', '.500', '1.000', '')
    """
    x = _finite(p)
    if x is None:
        return missing
    floor = 10.0 ** -digits
    if x < floor:
        return "< " + f"{floor:.{digits}f}"[1:]
    return fmt_num(x, digits, bounded=True)


def p_text(p, digits: int = 3) -> str:
    """*p* as it reads in running text and legends: ``p < .001`` or ``p = .031``.

    Examples:
        >>> p_text(0.0), p_text(0.0312)
        ('p < .001', 'p = .031')
    """
    formatted = fmt_p(p, digits, missing="NA")
    return "p " + formatted if formatted.startswith("<") else "p = " + formatted


def stars(p) -> str:
    """``***``, ``**``, ``*`` for p below .001, .01, .05; empty otherwise or when p is
    missing (a fixed parameter).

    Examples:
        >>> stars(0.0004), stars(0.004), stars(0.04), stars(0.4), stars(float("nan"))
        ('***', '**', '*', '', '')
    """
    x = _finite(p)
    if x is None:
        return ""
    return "***" if x < 0.001 else "**" if x < 0.01 else "*" if x < 0.05 else ""
