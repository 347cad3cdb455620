"""Reading and writing lavaan model syntax: :func:`parse_lavaan` and :func:`write_lavaan`.

``parse_lavaan`` turns model text into a tuple of :class:`~cbec_sem.specification.statements.Statement`,
one per (lhs, op, rhs): ``y1 + y2 ~ x1 + x2`` gives four, in the order y1~x1, y1~x2, y2~x1,
y2~x2.  ``y ~ 1`` gives op ``"~1"`` with rhs ``""``.  The expressions of ``:=``, ``==``, ``<``
and ``>`` are validated by :func:`~cbec_sem.specification.expressions.compile_expression` and stored
with all whitespace removed (as lavaan's parameter table does: ``total := c + a*b`` has rhs
``"c+a*b"``).

``write_lavaan`` writes statements back, joining adjacent statements with the same lhs and op
with `` + ``.  ``parse_lavaan(write_lavaan(s)) == s`` for every parsed ``s``.

Every error is a :class:`~cbec_sem.errors.SpecError` that quotes the statement and its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from ..errors import SpecError
from .checks import check_model_size, check_statements, check_text_size
from .expressions import compile_expression, pretty_expression
from .names import format_number, label_problem
from .source import Chunk, scan, split_statements
from .statements import CONSTRAINT_OPERATORS, MODEL_OPERATORS, Statement
from .terms import TERM_NOUN, a, parse_names, parse_terms

T = TypeVar("T")

_UNSUPPORTED = {
    "~*~": "scaling factors ('~*~') are not supported",
    "%": "group weights ('%') are not supported",
    "<=": "'<=' is not an operator; inequality constraints are written with '<' or '>'",
    ">=": "'>=' is not an operator; inequality constraints are written with '<' or '>'",
    "=": "'=' is not an operator; did you mean '=~' (is measured by), ':=' (defined "
    "parameter) or '==' (equality constraint)?",
}

_BLOCK_HEADER = re.compile(r"(group|level|block|class)\s*:(?!=)", re.IGNORECASE)

_NO_OPERATOR = (
    "no operator found; a statement needs one of =~ (measured by), ~ (regressed on), "
    "~~ (covariance), | (thresholds), := (defined parameter), ==, < or > (constraints)"
)


def parse_lavaan(text: str) -> tuple[Statement, ...]:
    """Parse lavaan model syntax into statements.

    Args:
        text: the model, e.g. ``"visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6"``.

    Returns:
        One :class:`Statement` per (lhs, op, rhs), in the order written.  Empty text (or only
        comments) gives an empty tuple.

    Raises:
        SpecError: quoting the offending statement and its line number.
    """
    if not isinstance(text, str):
        raise SpecError(f"model syntax must be a string, not {type(text).__name__}")
    chunks = split_statements(text)
    # Before any per-term work (the text's statement count is a count of '+'): a runaway
    # model is refused in time linear in its length with a small constant.
    check_model_size(sum(_expansion(chunk) for chunk in chunks),
                     counted=" (names on the left of each operator times terms on its right)")
    check_text_size([chunk.text for chunk in chunks])
    statements: list[Statement] = []
    for chunk in chunks:
        statements.extend(_parse_chunk(chunk))
    check_model_size(len(statements))
    check_statements(statements)
    return tuple(statements)


def _expansion(chunk: Chunk) -> int:
    """How many statements ``chunk`` expands to: names on the left of its operator times
    terms on the right, counted by their '+' (an upper bound only where a '+' sits inside a
    modifier, e.g. ``start(+0.5)*x``); 1 for constraints and malformed text."""
    found = scan(chunk.text)
    if len(found.operators) != 1:
        return 1
    pos, op = found.operators[0]
    if op in CONSTRAINT_OPERATORS:
        return 1
    return (chunk.text.count("+", 0, pos) + 1) * (chunk.text.count("+", pos + len(op)) + 1)


def _parse_chunk(chunk: Chunk) -> list[Statement]:
    """Parse one logical statement (which may expand to several :class:`Statement`)."""
    text = chunk.text
    found = scan(text)
    if found.open_quote:
        raise chunk.error("a quoted string is never closed")
    if found.stray_close >= 0:
        raise chunk.error("unbalanced parentheses: a ')' has no matching '('")
    if found.depth > 0:
        raise chunk.error("unbalanced parentheses: a '(' is never closed")
    if not found.operators:
        if _BLOCK_HEADER.match(text):
            raise chunk.error(
                "block headers (group:, level:, block:, class:) are not supported; give "
                "per-group values with modifier vectors such as c(a, b)*x"
            )
        hint = (
            " (if this continues the previous line, end that line with '+')"
            if chunk.first_line > 1
            else ""
        )
        raise chunk.error(_NO_OPERATOR + hint)
    for _, op in found.operators:
        if op in _UNSUPPORTED:
            raise chunk.error(_UNSUPPORTED[op])
    if len(found.operators) > 1:
        ops = " and ".join(repr(op) for _, op in found.operators)
        raise chunk.error(
            f"more than one operator ({ops}); write one statement per line or separate "
            "statements with ';'"
        )
    pos, op = found.operators[0]
    lhs = text[:pos].strip()
    rhs = text[pos + len(op):].strip()
    try:
        if op in CONSTRAINT_OPERATORS:
            return [_constraint(chunk, lhs, op, rhs)]
        return _model_statements(chunk, lhs, op, rhs)
    except SpecError as exc:
        raise chunk.error(str(exc)) from None


def _constraint(chunk: Chunk, lhs: str, op: str, rhs: str) -> Statement:
    if op == ":=":
        if not lhs:
            raise SpecError("the defined parameter has no name; write 'name := expression'")
        problem = label_problem(lhs)
        if problem is not None:
            raise SpecError(f"{lhs!r} cannot name a defined parameter: it {problem}")
        if not rhs:
            raise SpecError(f"the expression after ':=' is empty; write '{lhs} := expression'")
        return Statement(lhs, op, compile_expression(rhs).text, line=chunk.first_line,
                         source=chunk.text)
    if not lhs:
        raise SpecError(f"the left-hand side of {op!r} is empty")
    if not rhs:
        raise SpecError(f"the right-hand side of {op!r} is empty")
    return Statement(compile_expression(lhs).text, op, compile_expression(rhs).text,
                     line=chunk.first_line, source=chunk.text)


def _model_statements(chunk: Chunk, lhs: str, op: str, rhs: str) -> list[Statement]:
    if not lhs:
        raise SpecError(f"the left-hand side of {op!r} is empty")
    if not rhs:
        noun = TERM_NOUN[op]
        raise SpecError(
            f"the right-hand side of {op!r} is empty; add at least {a(noun)} after {op!r}"
        )
    lhs_names = parse_names(lhs, op)
    terms = parse_terms(rhs, op)
    out: list[Statement] = []
    for name in lhs_names:
        for term in terms:
            if term.name == name or name in term.name.split(":"):
                if op in ("=~", "<~"):
                    raise SpecError(f"{name!r} cannot be an indicator of itself")
                if op == "~":
                    raise SpecError(f"{name!r} cannot be regressed on itself")
            is_intercept = op == "~" and term.name == "1"
            out.append(
                Statement(
                    lhs=name,
                    op="~1" if is_intercept else op,
                    rhs="" if is_intercept else term.name,
                    fixed=term.fixed,
                    labels=term.labels,
                    starts=term.starts,
                    free=term.free,
                    line=chunk.first_line,
                    source=chunk.text,
                )
            )
    return out


# --------------------------------------------------------------------------- writer


def write_lavaan(statements: Iterable[Statement]) -> str:
    """Write statements as lavaan model syntax, one line per run of equal (lhs, op).

    Adjacent statements with the same lhs and op are joined with `` + ``
    (``f =~ x1 + x2 + x3``); modifiers are written lavaan's way (``1*x``, ``NA*x``,
    ``start(0.5)*x``, ``a*x``, ``c(a, b)*x``, ``c(1, NA)*x``).  No trailing newline.

    Raises:
        SpecError: a statement that cannot be written (unknown operator, a label that is not a
            valid name).
    """
    lines: list[str] = []
    run: list[Statement] = []
    for stmt in statements:
        if not isinstance(stmt, Statement):
            raise SpecError(f"write_lavaan needs Statement objects, not {type(stmt).__name__}")
        if run and _joinable(run[-1], stmt):
            run.append(stmt)
            continue
        if run:
            lines.append(_write_run(run))
        run = [stmt]
    if run:
        lines.append(_write_run(run))
    return "\n".join(lines)


def _joinable(previous: Statement, current: Statement) -> bool:
    return (
        previous.op in MODEL_OPERATORS
        and previous.op != "~1"
        and (previous.lhs, previous.op) == (current.lhs, current.op)
    )


def _write_run(run: Sequence[Statement]) -> str:
    first = run[0]
    if first.op in CONSTRAINT_OPERATORS:
        lhs = first.lhs if first.op == ":=" else pretty_expression(first.lhs)
        return f"{lhs} {first.op} {pretty_expression(first.rhs)}"
    if first.op == "~1":
        return f"{first.lhs} ~ {_write_term(first, '1')}"
    if first.op not in MODEL_OPERATORS:
        raise SpecError(f"cannot write the unknown operator {first.op!r}")
    return f"{first.lhs} {first.op} " + " + ".join(_write_term(s, s.rhs) for s in run)


def _write_term(stmt: Statement, variable: str) -> str:
    """``[fixed|NA]*[start(..)]*[label]*variable`` for one statement."""
    parts: list[str] = []
    value_part = _write_fixed_free(stmt)
    if value_part:
        parts.append(value_part)
    if any(v is not None for v in stmt.starts):
        parts.append(f"start({_vector(stmt.starts, _number_or_na)})")
    if any(v is not None for v in stmt.labels):
        for label in stmt.labels:
            if label is not None and label_problem(label) is not None:
                raise SpecError(
                    f"cannot write the label {label!r} of '{stmt.lhs} {stmt.op} {stmt.rhs}': "
                    f"it {label_problem(label)}"
                )
        parts.append(_vector(stmt.labels, lambda v: "NA" if v is None else str(v)))
    parts.append(variable)
    return "*".join(parts)


def _write_fixed_free(stmt: Statement) -> str:
    """The fixed-value/NA modifier: ``1``, ``NA``, ``c(1, NA)``, ``c(NA, NA)`` or ``""``."""
    n = max(len(stmt.fixed), len(stmt.free))
    if n == 0 or (all(f is None for f in stmt.fixed) and not any(stmt.free)):
        return ""
    fixed = stmt.fixed * n if len(stmt.fixed) == 1 else stmt.fixed or (None,) * n
    # A group without a fixed value is written NA: free (explicitly, as the parser reads it).
    return _vector(fixed, _number_or_na)


def _number_or_na(value: float | None) -> str:
    return "NA" if value is None else format_number(value)


def _vector(values: Sequence[T], fmt: Callable[[T], str]) -> str:
    """``x`` for one entry, ``c(x, y)`` for several."""
    if len(values) == 1:
        return fmt(values[0])
    return "c(" + ", ".join(fmt(v) for v in values) + ")"
