"""Checks of a list of statements that do not depend on how they were written.

Used by the parser (so errors quote the line) and by :class:`~cbec_sem.specification.model.ModelSpec`
(so statements built in code get the same checks):

* each statement is well formed (known operator, valid names, modifier types and values);
* no (lhs, op, rhs) appears twice (``x ~~ y`` and ``y ~~ x`` count as the same; a ``:=``
  name is defined once);
* every modifier vector with more than one entry has the same length (one entry per group).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..errors import SpecError
from .expressions import compile_expression
from .names import is_threshold, label_problem, name_problem
from .statements import CONSTRAINT_OPERATORS, MODEL_OPERATORS, Statement


def where(stmt: Statement) -> str:
    """How an error message refers to a statement: its line and source, or its text."""
    if stmt.line > 0 and stmt.source:
        return f'line {stmt.line}: "{stmt.source}"'
    return f'"{describe(stmt)}"'


class _Where:
    """:func:`where` written only when an error message is: quoting the statement's source
    for every statement of a 20,000-term line copied the line 20,000 times (issue 14)."""

    __slots__ = ("stmt",)

    def __init__(self, stmt: Statement) -> None:
        self.stmt = stmt

    def __format__(self, spec: str) -> str:
        return format(where(self.stmt), spec)

    def __str__(self) -> str:
        return where(self.stmt)


def describe(stmt: Statement) -> str:
    """``f =~ x1``, ``y ~ 1``, ``ab := a*b``: a statement without its modifiers."""
    if stmt.op == "~1":
        return f"{stmt.lhs} ~ 1"
    return f"{stmt.lhs} {stmt.op} {stmt.rhs}"


def check_statements(statements: Sequence[Statement]) -> None:
    """Run every check of this module; raise :class:`SpecError` on the first failure."""
    for stmt in statements:
        check_statement(stmt)
    _check_duplicates(statements)
    _check_vector_lengths(statements)


def check_statement(stmt: object) -> None:
    """Check one statement on its own."""
    if not isinstance(stmt, Statement):
        raise SpecError(f"a model statement must be a Statement, not {type(stmt).__name__}")
    at = _Where(stmt)
    if stmt.op not in MODEL_OPERATORS + CONSTRAINT_OPERATORS:
        raise SpecError(f"{at}: unknown operator {stmt.op!r}")
    if not isinstance(stmt.lhs, str) or not isinstance(stmt.rhs, str):
        raise SpecError(f"{at}: lhs and rhs must be strings")
    if stmt.op in CONSTRAINT_OPERATORS:
        _check_constraint(stmt, at)
    else:
        _check_model_names(stmt, at)
    _check_modifiers(stmt, at)


def _check_constraint(stmt: Statement, at: str) -> None:
    try:
        if stmt.op == ":=":
            problem = label_problem(stmt.lhs)
            if problem is not None:
                raise SpecError(f"{stmt.lhs!r} cannot name a defined parameter: it {problem}")
        else:
            compile_expression(stmt.lhs)
        compile_expression(stmt.rhs)
    except SpecError as exc:
        raise SpecError(f"{at}: {exc}") from None
    if stmt.fixed or stmt.labels or stmt.starts or stmt.free:
        raise SpecError(f"{at}: a {stmt.op!r} statement takes no modifiers")


def _check_model_names(stmt: Statement, at: str) -> None:
    problem = name_problem(stmt.lhs)
    if problem is not None:
        raise SpecError(f"{at}: {stmt.lhs!r} cannot be a variable name: it {problem}")
    if stmt.op == "~1":
        if stmt.rhs != "":
            raise SpecError(f"{at}: an intercept ('~1') statement has rhs '', not {stmt.rhs!r}")
        return
    if stmt.op == "~*~" and stmt.rhs != stmt.lhs:
        raise SpecError(f"{at}: a scaling factor ('~*~') names one item on both sides")
    if stmt.op == "|":
        if not is_threshold(stmt.rhs):
            raise SpecError(f"{at}: {stmt.rhs!r} is not a threshold name (t1, t2, ...)")
        return
    parts = stmt.rhs.split(":") if stmt.op == "~" else [stmt.rhs]
    for part in parts:
        problem = name_problem(part)
        if problem is not None:
            raise SpecError(f"{at}: {part!r} cannot be a variable name: it {problem}")


def _check_modifiers(stmt: Statement, at: str) -> None:
    for field_name in ("fixed", "labels", "starts", "free"):
        value = getattr(stmt, field_name)
        if not isinstance(value, tuple):
            raise SpecError(f"{at}: {field_name} must be a tuple, not {type(value).__name__}")
    for value in stmt.fixed + stmt.starts:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"{at}: fixed and starting values must be numbers, not {value!r}")
        if not math.isfinite(value):
            raise SpecError(f"{at}: fixed and starting values must be finite, not {value!r}")
    for label in stmt.labels:
        if label is None:
            continue
        problem = label_problem(label)
        if problem is not None:
            raise SpecError(f"{at}: {label!r} cannot be a label: it {problem}")
    for flag in stmt.free:
        if not isinstance(flag, bool):
            raise SpecError(f"{at}: free must hold True/False, not {flag!r}")
    n = max(len(stmt.fixed), len(stmt.free))
    if stmt.fixed and stmt.free:
        fixed = stmt.fixed * n if len(stmt.fixed) == 1 else stmt.fixed
        free = stmt.free * n if len(stmt.free) == 1 else stmt.free
        if len(fixed) == len(free):
            for group, (value, flag) in enumerate(zip(fixed, free, strict=True), start=1):
                if value is not None and flag:
                    raise SpecError(
                        f"{at}: group {group} is both fixed ({value}) and free (NA)"
                    )


def _check_duplicates(statements: Sequence[Statement]) -> None:
    seen: dict[tuple[str, str, str], Statement] = {}
    for stmt in statements:
        if stmt.op == ":=":
            keys = [(stmt.lhs, ":=", "")]
        elif stmt.op == "~~":
            keys = [(stmt.lhs, "~~", stmt.rhs), (stmt.rhs, "~~", stmt.lhs)]
        else:
            keys = [(stmt.lhs, stmt.op, stmt.rhs)]
        for key in keys:
            if key in seen:
                first = seen[key]
                earlier = f"on line {first.line}" if first.line > 0 else "earlier"
                what = (
                    f"the defined parameter {stmt.lhs!r} is already defined {earlier}"
                    if stmt.op == ":="
                    else f"'{describe(first)}' is already specified {earlier}"
                )
                raise SpecError(
                    f"{where(stmt)}: {what}; each parameter may appear only once "
                    "(give equal parameters the same label instead)"
                )
        for key in keys:
            seen[key] = stmt


def _check_vector_lengths(statements: Sequence[Statement]) -> None:
    reference: Statement | None = None
    ngroups = 0
    for stmt in statements:
        for value in (stmt.fixed, stmt.labels, stmt.starts, stmt.free):
            if len(value) <= 1:
                continue
            if reference is None:
                reference, ngroups = stmt, len(value)
            elif len(value) != ngroups:
                earlier = (
                    f"the one on line {reference.line}"
                    if reference.line > 0
                    else f"the one of '{describe(reference)}'"
                )
                raise SpecError(
                    f"{where(stmt)}: this modifier vector has {len(value)} entries but "
                    f"{earlier} has {ngroups}; every vector needs one entry per group"
                )


def modifier_groups(statements: Sequence[Statement]) -> int:
    """The largest modifier-vector length in ``statements`` (1 when there is none)."""
    longest = 1
    for stmt in statements:
        longest = max(longest, len(stmt.fixed), len(stmt.labels), len(stmt.starts), len(stmt.free))
    return longest


#: Most statements (one per parameter or constraint) a model may have.  Every stage costs
#: at least this much per statement, and a covariance-structure model of this size is far
#: beyond what survey data can estimate (10,000 loadings need a covariance matrix of 10,000
#: items); the cap makes a runaway input (a 1 MB model text, 20,000 items) a SpecError in
#: well under a second instead of many seconds of parsing (issue 14).
MAX_STATEMENTS = 10_000


def check_model_size(count: int, *, counted: str = "") -> None:
    """Refuse a model with more than :data:`MAX_STATEMENTS` statements.

    Args:
        count: the number of statements (or, before parsing, the number the text expands
            to: for each statement, names on the left times terms on the right).
        counted: how ``count`` was obtained, for the message.
    """
    if count > MAX_STATEMENTS:
        raise SpecError(
            f"the model has {count:,} statements{counted}; cbec_sem reads at most "
            f"{MAX_STATEMENTS:,} (one per parameter). A model this large cannot be estimated "
            "from survey data: split it, e.g. one measurement model (CFA) per block of "
            "constructs, or summarise items into scale scores first"
        )


#: Most tokens (names, numbers, strings, ``+ * ? ( ) , :``) the statements of a model may
#: hold: the parser reads them one at a time.  10,000 terms with per-group labels
#: ``c(a, b)*x`` have about 100,000; a 1 MB modifier vector ``c(1, 1, ...)`` (a model of
#: 450,000 groups) took 4 s, 250,000 adjacent strings ``'a''a'...`` 2 s.
MAX_TOKENS = 150_000

_SEPARATORS = "+-*?(),:\"'"


def count_tokens(text: str) -> int:
    """An upper bound of the tokens in ``text``, counted with ``str.count`` and ``str.split``
    (C loops, no token read): every separator or quote, and every run of other characters,
    which ends at a separator, a quote or a blank."""
    separators = sum(text.count(ch) for ch in _SEPARATORS)
    return 2 * separators + len(text.split())


def check_text_size(texts: Sequence[str]) -> None:
    """Refuse model text with more than :data:`MAX_TOKENS` tokens, before any is read."""
    count = sum(count_tokens(text) for text in texts)
    if count > MAX_TOKENS:
        raise SpecError(
            f"the model text has about {count:,} tokens (names, numbers, strings and "
            f"separators); cbec_sem reads at most {MAX_TOKENS:,}. A model this long cannot "
            "be estimated from survey data (a modifier vector c(...) has one entry per "
            "group): shorten it"
        )
