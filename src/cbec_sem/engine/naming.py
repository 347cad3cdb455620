"""The one function that names a parameter, everywhere (``res.vcov``'s index, probes, messages).

A parameter is written as lavaan writes a row, ``lhs op rhs`` with single spaces
(``"SCI ~ TA"``, ``"SCI ~ TA:FA"``, ``"TA =~ ta2"``), plus ``" (group g)"`` in multi-group
models.  Every estimator family names its free parameters with it, so a name found in one
result is found in every other.
"""

from __future__ import annotations


def parameter_name(lhs: str, op: str, rhs: str = "", group: int | None = None) -> str:
    """``lhs op rhs`` (spaces around the operator), with ``(group g)`` when ``group`` is given.

    Examples:
        >>> parameter_name("SCI", "~", "TA:FA")
        'SCI ~ TA:FA'
    """
    name = f"{lhs} {op} {rhs}".strip()
    return f"{name} (group {group})" if group is not None else name


def free_parameter_names(partable) -> list[str]:
    """A readable name for each free parameter (the first table row that holds it)."""
    frame = partable.frame
    names = [""] * partable.nfree
    for lhs, op, rhs, free, group in zip(
        frame["lhs"], frame["op"], frame["rhs"], frame["free"], frame["group"]
    ):
        if free > 0 and not names[free - 1]:
            names[free - 1] = parameter_name(
                lhs, op, rhs, group if partable.ngroups > 1 else None)
    return names
