"""The sides of a model statement (``=~ ~ ~~ |``): names on the left, modified terms on the right.

A right-hand side is ``term + term + ...``; a term is zero or more modifiers, each followed by
``*`` (or ``?`` for a starting value), and then a variable name, ``x:z`` (a product term, in
regressions), ``1`` (an intercept, in regressions) or ``t1``, ``t2``... (thresholds).

Modifiers, as in lavaan:

==========================  ============================================================
``1*x``, ``-0.5*x``         fixed value (all groups)
``NA*x``                    explicitly free (e.g. the first loading)
``a*x``                     label (equal labels = equal parameters)
``label("a")*x``,           label
``equal("a")*x``
``start(0.5)*x``,           starting value
``0.5?x``
``c(1, NA)*x``              per group: fixed in group 1, free in group 2
``c(a, b)*x``               per group labels (``NA`` entries are unlabelled)
``c(0.5, 0.6)?x``,          per group starting values
``start(c(0.5, 0.6))*x``
==========================  ============================================================

Errors are raised as :class:`SpecError` without a location; the caller adds the line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError
from .names import (
    NAME_PATTERN,
    NUMBER_PATTERN,
    format_number,
    is_threshold,
    label_problem,
    name_problem,
)

_TOKEN_RE = re.compile(
    rf"(?P<num>{NUMBER_PATTERN})|(?P<name>{NAME_PATTERN})"
    r"""|(?P<str>"[^"]*"|'[^']*')|(?P<op>[-+*?(),:])"""
)
_WORD_RE = re.compile(r"[^\s+*?(),]+")
_FUNCTIONS = ("c", "start", "label", "equal")

#: Modifier kind ("fixed", "labels", "starts") → (value, the text it was written as).
_Mods = dict[str, tuple[Any, str]]

#: What one right-hand-side term is called, by operator (for messages).
TERM_NOUN = {"=~": "indicator", "<~": "indicator", "~": "predictor", "~~": "variable", "|": "threshold"}


def a(noun: str) -> str:
    """``noun`` with its indefinite article: ``an indicator``, ``a predictor``."""
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


@dataclass(frozen=True)
class Token:
    """One token: kind is ``num``, ``name``, ``str`` or ``op``."""

    kind: str
    value: str


@dataclass(frozen=True)
class Term:
    """One parsed right-hand-side term: the variable and its per-group modifiers."""

    name: str
    fixed: tuple[float | None, ...] = ()
    labels: tuple[str | None, ...] = ()
    starts: tuple[float | None, ...] = ()
    free: tuple[bool, ...] = ()


# --------------------------------------------------------------------------- tokenizer


def _word_at(text: str, pos: int) -> str:
    """The word at ``pos``, for an error message.  Looked up only when an error is raised:
    matching it at every token was quadratic when a side has no separators (``'a''a'...``:
    30 s for 120 kB; issue 14)."""
    found = _WORD_RE.match(text, pos)
    return found.group(0) if found else text[pos]


def tokenize(text: str) -> list[Token]:
    """Split one side of a model statement into tokens."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise SpecError(
                f"{text[pos]!r} in {_word_at(text, pos)!r} is not allowed; variable names may "
                "contain letters, digits, '_' and '.'"
            )
        kind = match.lastgroup or ""
        end = match.end()
        if kind == "num" and end < len(text) and (text[end].isalpha() or text[end] in "_."):
            raise SpecError(f"{_word_at(text, pos)!r} is not a valid name: names cannot start "
                            "with a digit")
        tokens.append(Token(kind, match.group(0)))
        pos = end
    return tokens


# --------------------------------------------------------------------------- left-hand side


def parse_names(text: str, op: str) -> list[str]:
    """Parse a left-hand side: one or more variable names joined by ``+``."""
    tokens = tokenize(text)
    names: list[str] = []
    expect_name = True
    for tok in tokens:
        if expect_name:
            if tok.kind != "name":
                if tok.value in "*?(":
                    raise SpecError(
                        "modifiers (fixed values, labels, start values) belong on the right-hand "
                        f"side, e.g. 'f =~ a*x1'; the left-hand side of {op!r} is only names"
                    )
                raise SpecError(f"{tok.value!r} on the left-hand side is not a variable name")
            _check_variable(tok.value)
            names.append(tok.value)
        elif tok.value != "+":
            if tok.value == ":":
                raise SpecError("a product term (x:z) can only be a predictor, on the right of '~'")
            if tok.value in "*?(":
                raise SpecError(
                    "modifiers (fixed values, labels, start values) belong on the right-hand "
                    f"side, e.g. 'f =~ a*x1'; the left-hand side of {op!r} is only names"
                )
            raise SpecError(f"expected '+' between {names[-1]!r} and {tok.value!r}")
        expect_name = not expect_name
    if expect_name:
        raise SpecError("the left-hand side ends with '+'; add a name or remove the '+'")
    return names


def _check_variable(name: str) -> None:
    problem = name_problem(name)
    if problem is not None:
        raise SpecError(f"{name!r} cannot be a variable name: it {problem}")


# --------------------------------------------------------------------------- right-hand side


class _Stream:
    """A cursor over tokens."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> Token | None:
        tok = self.peek()
        self.pos += 1
        return tok

    def at(self, value: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind in ("op", "name") and tok.value == value

    def expect(self, value: str, context: str) -> None:
        tok = self.next()
        if tok is None or tok.value != value:
            found = "the end" if tok is None else repr(tok.value)
            raise SpecError(f"expected {value!r} in {context}, found {found}")


def parse_terms(text: str, op: str) -> list[Term]:
    """Parse the right-hand side ``term + term + ...`` of a ``=~``, ``~``, ``~~`` or ``|``."""
    noun = TERM_NOUN.get(op, "term")
    stream = _Stream(tokenize(text))
    terms: list[Term] = []
    while True:
        tok = stream.peek()
        if tok is not None and tok.value == "+":
            if terms:
                raise SpecError(f"two '+' in a row: {a(noun)} is missing between them")
            raise SpecError(f"the right-hand side starts with '+': {a(noun)} is missing before it")
        terms.append(_parse_term(stream, op, noun))
        tok = stream.next()
        if tok is None:
            return terms
        if tok.value == "-":
            raise SpecError(
                f"'-' after {terms[-1].name!r}: terms are joined with '+', and names cannot "
                "contain '-' (use '_' or '.')"
            )
        if tok.value != "+":
            raise SpecError(
                f"expected '+' between {terms[-1].name!r} and {tok.value!r}"
                if tok.kind in ("name", "num")
                else f"unexpected {tok.value!r} after {terms[-1].name!r}"
            )
        if stream.peek() is None:
            raise SpecError(
                f"the right-hand side ends with '+'; add the next {noun} or remove the '+'"
            )


@dataclass(frozen=True)
class _Atom:
    """One operand before ``*``/``?`` or at the end of a term.

    kind: ``number`` (value float), ``na``, ``name``, ``product`` (``x:z``), ``vector``
    (items: list of float | str | None), ``start`` (items), ``label`` (items).
    """

    kind: str
    text: str
    value: float | str | None = None
    items: tuple[float | str | None, ...] = ()


def _parse_term(stream: _Stream, op: str, noun: str) -> Term:
    mods: _Mods = {}
    written: list[str] = []
    while True:
        atom = _parse_atom(stream, noun)
        tok = stream.peek()
        if tok is not None and tok.value in ("*", "?"):
            stream.next()
            _add_modifier(mods, atom, tok.value)
            written.append(atom.text + tok.value)
            nxt = stream.peek()
            if nxt is None or nxt.value == "+":
                raise SpecError(
                    f"the modifier {''.join(written)!r} is not followed by {a(noun)} name"
                )
            continue
        return _finish_term(atom, mods, op, noun)


def _parse_atom(stream: _Stream, noun: str) -> _Atom:
    tok = stream.next()
    if tok is None:  # pragma: no cover - callers check for the end first
        raise SpecError(f"{a(noun)} is missing")
    if tok.kind == "op" and tok.value == "-":
        num = stream.next()
        if num is None or num.kind != "num":
            raise SpecError("'-' must be followed by a number (a fixed value such as -0.5*x)")
        return _Atom("number", "-" + num.value, -float(num.value))
    if tok.kind == "num":
        return _Atom("number", tok.value, float(tok.value))
    if tok.kind == "str":
        raise SpecError(
            f"the quoted string {tok.value} must be inside label(), equal() or c(), "
            'e.g. label("a")*x'
        )
    if tok.kind == "name":
        if stream.at("("):
            return _parse_function(stream, tok.value)
        if stream.at(":"):
            parts = [tok.value]
            while stream.at(":"):
                stream.next()
                part = stream.next()
                if part is None or part.kind != "name":
                    so_far = ":".join(parts) + ":"
                    raise SpecError(
                        f"the product term {so_far!r} needs a variable name after ':'"
                    )
                parts.append(part.value)
            return _Atom("product", ":".join(parts), ":".join(parts))
        if tok.value == "NA":
            return _Atom("na", "NA")
        return _Atom("name", tok.value, tok.value)
    if tok.value == "*":
        raise SpecError(
            "'*' must come after a modifier (a number, NA, a label, start(...) or c(...))"
        )
    if tok.value == "?":
        raise SpecError("'?' must come after a starting value, e.g. 0.5?x")
    if tok.value == ":":
        raise SpecError("':' must join two variable names in a product term (x:z)")
    raise SpecError(f"unexpected {tok.value!r} where {a(noun)} or modifier should be")


def _parse_function(stream: _Stream, name: str) -> _Atom:
    if name not in _FUNCTIONS:
        raise SpecError(
            f"unknown modifier {name}(); lavaan modifiers are c(), start(), label() and equal()"
        )
    stream.expect("(", f"{name}(...)")
    if name == "c":
        items = _parse_vector_items(stream)
        text = "c(" + ", ".join(_item_text(v) for v in items) + ")"
        return _Atom("vector", text, items=items)
    tok = stream.peek()
    if tok is not None and tok.kind == "name" and tok.value == "c":
        stream.next()
        stream.expect("(", "c(...)")
        items = _parse_vector_items(stream)
    else:
        items = (_parse_item(stream, f"{name}(...)"),)
    stream.expect(")", f"{name}(...)")
    text = f"{name}(" + ", ".join(_item_text(v) for v in items) + ")"
    return _Atom("start" if name == "start" else "label", text, items=items)


def _parse_vector_items(stream: _Stream) -> tuple[float | str | None, ...]:
    """Items of ``c(...)`` after the ``(``, consuming the closing ``)``."""
    items: list[float | str | None] = []
    if stream.at(")"):
        raise SpecError("c() is empty; give one value per group, e.g. c(1, NA)")
    while True:
        items.append(_parse_item(stream, "c(...)"))
        tok = stream.next()
        if tok is None:
            raise SpecError("c(...) is not closed with ')'")
        if tok.value == ")":
            return tuple(items)
        if tok.value != ",":
            raise SpecError(f"expected ',' or ')' in c(...), found {tok.value!r}")


def _parse_item(stream: _Stream, context: str) -> float | str | None:
    """One value inside ``c()``, ``start()`` or ``label()``: number, NA, name or quoted label."""
    tok = stream.next()
    if tok is None:
        raise SpecError(f"{context} is not closed with ')'")
    if tok.kind == "op" and tok.value == "-":
        num = stream.next()
        if num is None or num.kind != "num":
            raise SpecError(f"'-' in {context} must be followed by a number")
        return -float(num.value)
    if tok.kind == "num":
        return float(tok.value)
    if tok.kind == "name" and not stream.at("(") and not stream.at(":"):
        return None if tok.value == "NA" else tok.value
    if tok.kind == "str":
        return tok.value[1:-1]
    raise SpecError(f"{tok.value!r} cannot be a value in {context}; use numbers, NA or labels")


def _item_text(item: float | str | None) -> str:
    if item is None:
        return "NA"
    if isinstance(item, str):
        return item if name_problem(item) is None else f'"{item}"'
    return format_number(item)


def _in(item: float | str | None, text: str) -> str:
    """`` (in c(a, 1))`` when ``item`` is one entry of the vector ``text``.  Written only for an
    error: copying the vector's text for each of its entries was quadratic (issue 14)."""
    return "" if text in (item, _item_text(item)) else f" (in {text})"


def _labels_from(items: tuple[float | str | None, ...], text: str) -> tuple[str | None, ...]:
    for item in items:
        if isinstance(item, float):
            raise SpecError(f"{_item_text(item)!r}{_in(item, text)} cannot be a label: it is "
                            "a number")
        if item is not None:
            problem = label_problem(item)
            if problem is not None:
                raise SpecError(f"{item!r}{_in(item, text)} cannot be a label: it {problem}")
    return items  # type: ignore[return-value]


def _numbers_from(
    items: tuple[float | str | None, ...], text: str, what: str
) -> tuple[float | None, ...]:
    for item in items:
        if isinstance(item, str):
            raise SpecError(f"{text} mixes numbers and labels; {what} must be numbers or NA")
    return items  # type: ignore[return-value]


def _add_modifier(mods: _Mods, atom: _Atom, sep: str) -> None:
    """Record the meaning of ``atom`` followed by ``sep`` (``*`` or ``?``) in ``mods``."""
    if atom.kind == "product":
        raise SpecError(f"the product term {atom.text!r} cannot be a modifier")
    if sep == "?":
        if atom.kind == "number":
            starts: tuple[float | None, ...] = (atom.value,)  # type: ignore[assignment]
        elif atom.kind == "vector":
            starts = _numbers_from(atom.items, atom.text, "starting values")
        else:
            raise SpecError(
                f"'?' takes a starting value (a number or c(...) of numbers), not {atom.text!r}"
            )
        _set(mods, "starts", _checked_starts(starts, atom.text), atom.text)
        return
    if atom.kind == "number":
        _set(mods, "fixed", ((atom.value,), ()), atom.text)
    elif atom.kind == "na":
        _set(mods, "fixed", ((), (True,)), atom.text)
    elif atom.kind == "name":
        _set(mods, "labels", _labels_from((atom.value,), atom.text), atom.text)
    elif atom.kind == "label":
        _set(mods, "labels", _labels_from(atom.items, atom.text), atom.text)
    elif atom.kind == "start":
        starts = _numbers_from(atom.items, atom.text, "starting values")
        _set(mods, "starts", _checked_starts(starts, atom.text), atom.text)
    else:  # vector
        items = atom.items
        if all(item is None for item in items):
            _set(mods, "fixed", ((), tuple(True for _ in items)), atom.text)
        elif any(isinstance(item, float) for item in items):
            values = _numbers_from(items, atom.text, "fixed values")
            free = tuple(v is None for v in values)
            _set(mods, "fixed", (values, free if any(free) else ()), atom.text)
        else:
            _set(mods, "labels", _labels_from(items, atom.text), atom.text)


def _checked_starts(starts: tuple[float | None, ...], text: str) -> tuple[float | None, ...]:
    if all(value is None for value in starts):
        raise SpecError(f"the starting values {text} need at least one number")
    return starts


_KIND_WORDS = {"fixed": "fixed value or NA", "labels": "label", "starts": "starting value"}


def _set(mods: _Mods, kind: str, value: tuple[Any, ...], text: str) -> None:
    if kind in mods:
        raise SpecError(
            f"more than one {_KIND_WORDS[kind]} on one term ({mods[kind][1]!r} and {text!r})"
        )
    if kind == "fixed":
        for number in value[0]:
            if number is not None and not math.isfinite(number):
                raise SpecError(f"the fixed value {text!r} is not a finite number")
    mods[kind] = (value, text)


def _finish_term(atom: _Atom, mods: _Mods, op: str, noun: str) -> Term:
    """Turn the last atom of a term into its variable and attach the modifiers."""
    if atom.kind == "number":
        if op == "~" and atom.value == 1.0 and atom.text == "1":
            name = "1"
        elif op == "~":
            raise SpecError(
                f"{atom.text!r} is not {a(noun)}: write '1' for an intercept, or "
                f"{atom.text}*x to fix a coefficient"
            )
        else:
            raise SpecError(
                f"{atom.text!r} is not {a(noun)} name (a fixed value is written {atom.text}*x)"
            )
    elif atom.kind == "name":
        name = str(atom.value)
        _check_variable(name)
    elif atom.kind == "product":
        if op != "~":
            raise SpecError(
                f"the product term {atom.text!r} can only be a predictor, on the right of '~'"
            )
        for part in atom.text.split(":"):
            _check_variable(part)
        name = atom.text
    elif atom.kind == "na":
        raise SpecError(f"'NA' is not {a(noun)} name; NA*x frees the parameter of x")
    else:
        raise SpecError(f"{atom.text} must be followed by '*' and {a(noun)} name")
    if op == "|" and not is_threshold(name):
        raise SpecError(f"{name!r} is not a threshold name; thresholds are named t1, t2, t3, ...")
    fixed, free = mods["fixed"][0] if "fixed" in mods else ((), ())
    labels = mods["labels"][0] if "labels" in mods else ()
    starts = mods["starts"][0] if "starts" in mods else ()
    return Term(name, tuple(fixed), tuple(labels), tuple(starts), tuple(free))
