"""Arithmetic expressions of ``:=``, ``==``, ``<`` and ``>`` statements, compiled once.

An expression is R-style arithmetic over parameter labels (``a*b``, ``c + a*b``,
``(b2 + b3)^2``, ``pnorm(a/sqrt(v))``): numbers, names, ``+ - * /``, ``^`` or ``**`` for
powers, unary minus, parentheses and the functions in :data:`FUNCTIONS`.  Nothing else.

The text is tokenized (names may contain ``.`` as in R, so ``.p3.`` and ``b.1`` are names),
each name is replaced by a placeholder, ``^`` becomes ``**``, and the result is parsed as a
Python expression whose syntax tree is checked node by node against a short allow-list.  The
checked tree is compiled once into a lambda evaluated with numpy, so an :class:`Expression`
works on floats and, elementwise, on arrays of parameter draws (bootstrap, Monte Carlo).
Division by zero and similar give ``inf``/``nan`` as in R, without warnings.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import CodeType, MappingProxyType

import numpy as np
from scipy import special

from ..errors import SpecError
from .names import NAME_PATTERN, NUMBER_PATTERN

#: Functions an expression may call (one argument each).  ``pnorm``/``qnorm`` are the standard
#: normal CDF and quantile function (``scipy.special.ndtr``/``ndtri``, which is what
#: ``scipy.stats.norm.cdf``/``ppf`` compute).
FUNCTIONS: Mapping[str, Callable[..., object]] = MappingProxyType(
    {
        "exp": np.exp,
        "log": np.log,
        "sqrt": np.sqrt,
        "abs": np.abs,
        "sin": np.sin,
        "cos": np.cos,
        "tan": np.tan,
        "pnorm": special.ndtr,
        "qnorm": special.ndtri,
    }
)

_TOKEN_RE = re.compile(
    rf"(?P<num>{NUMBER_PATTERN})|(?P<name>{NAME_PATTERN})|(?P<op>\*\*|[-+*/^(),])"
)
_WORD_RE = re.compile(r"[^\s()+\-*/^,]+")
_PLACEHOLDER_RE = re.compile(r"_v(\d+)|_f_(\w+)")

#: Most operators and deepest parenthesis nesting an expression may have.  The compiler walks
#: the syntax tree recursively, so without a limit a ``:=`` of a few thousand terms raised
#: Python's ``RecursionError`` (issue 14); real defined parameters have a handful.
MAX_OPERATORS = 250
MAX_NESTING = 50

_ALLOWED_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_ALLOWED_UNARY = (ast.UAdd, ast.USub)
_FUNCTION_LIST = ", ".join(f"{name}()" for name in FUNCTIONS)


class Expression:
    """A validated, compiled arithmetic expression over named parameters.

    Attributes:
        text: the expression as written, with all whitespace removed (lavaan's convention for
            the ``rhs`` of ``:=`` rows).
        names: the names used, in order of first appearance (function names excluded).

    Call it with a mapping from every name in :attr:`names` to a float or numpy array; arrays
    broadcast elementwise.  A 0-dimensional result is returned as a Python ``float``.
    """

    __slots__ = ("_text", "_names", "_fn")

    def __init__(self, text: str, names: tuple[str, ...], fn: Callable[..., object]) -> None:
        self._text = text
        self._names = names
        self._fn = fn

    @property
    def text(self) -> str:
        """The whitespace-free expression text."""
        return self._text

    @property
    def names(self) -> tuple[str, ...]:
        """The names the expression uses, in order of first appearance."""
        return self._names

    def __call__(self, values: Mapping[str, float | np.ndarray]) -> float | np.ndarray:
        """Evaluate with ``values[name]`` for every name; elementwise on arrays."""
        try:
            args = [np.asarray(values[name], dtype=float) for name in self._names]
        except KeyError as exc:
            raise SpecError(
                f"no value given for {exc.args[0]!r} in the expression {self._text!r}"
            ) from None
        with np.errstate(all="ignore"):
            out = self._fn(*args)
        if isinstance(out, np.ndarray) and out.ndim > 0:
            return out
        return float(out)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and other._text == self._text

    def __hash__(self) -> int:
        return hash(("Expression", self._text))

    def __repr__(self) -> str:
        return f"Expression({self._text!r})"


def compile_expression(text: str) -> Expression:
    """Validate and compile an expression of a ``:=``, ``==``, ``<`` or ``>`` statement.

    Args:
        text: R-style arithmetic, e.g. ``"c + a*b"`` or ``"(b2 + b3)^2"``.

    Returns:
        The compiled :class:`Expression`.

    Raises:
        SpecError: the text is empty, has a character or token that is not allowed, calls a
            function that is not in :data:`FUNCTIONS`, or is not a well-formed expression.
    """
    if not isinstance(text, str):
        raise SpecError(f"an expression must be a string, not {type(text).__name__}")
    return _compile_text(text)


@lru_cache(maxsize=4096)
def _compile_text(text: str) -> Expression:
    """:func:`compile_expression` without the type check, cached (expressions are immutable)."""
    tokens = _tokenize(text)
    if not tokens:
        raise SpecError("the expression is empty")
    _check_size(tokens, text)

    names: list[str] = []
    placeholders: dict[str, str] = {}
    pieces: list[str] = []
    for i, (kind, value) in enumerate(tokens):
        if kind == "name":
            is_call = i + 1 < len(tokens) and tokens[i + 1] == ("op", "(")
            if is_call:
                if value not in FUNCTIONS:
                    raise SpecError(
                        f"the function {value}() is not allowed in the expression {text!r}; "
                        f"allowed are {_FUNCTION_LIST}"
                    )
                pieces.append(f"_f_{value}")
                continue
            if value not in placeholders:
                placeholders[value] = f"_v{len(names)}"
                names.append(value)
            pieces.append(placeholders[value])
        elif kind == "op" and value == "^":
            pieces.append("**")
        else:
            pieces.append(value)
    translated = " ".join(pieces)
    compact = "".join(value for _, value in tokens)

    try:
        tree = ast.parse(translated, mode="eval")
    except (RecursionError, MemoryError):
        raise SpecError(f"the expression {_short(text)!r} is too deeply nested") from None
    except SyntaxError:
        raise SpecError(
            f"cannot read the expression {text.strip()!r}: an operator or operand is missing or "
            "out of place, or a parenthesis is unbalanced"
        ) from None
    _validate(tree, translated, names, text)
    try:
        code = _compile(tree, len(names))
    except (RecursionError, MemoryError):
        raise SpecError(f"the expression {_short(text)!r} is too deeply nested") from None
    namespace: dict[str, object] = {"__builtins__": {}, "_pow": np.power, "_div": np.true_divide}
    namespace.update({f"_f_{name}": fn for name, fn in FUNCTIONS.items()})
    fn = eval(code, namespace)  # the tree was validated against an allow-list
    return Expression(compact, tuple(names), fn)


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 60 else f"{text[:40]}...{text[-12:]}"


def _check_size(tokens: list[tuple[str, str]], text: str) -> None:
    """Refuse expressions beyond :data:`MAX_OPERATORS` operators or :data:`MAX_NESTING`
    nested parentheses, before any recursive step sees them."""
    operators = sum(1 for kind, value in tokens if kind == "op" and value not in "(),")
    if operators > MAX_OPERATORS:
        raise SpecError(
            f"the expression {_short(text)!r} has {operators} operators, more than the "
            f"{MAX_OPERATORS} allowed; split it into several defined parameters (:=)"
        )
    depth = deepest = 0
    for kind, value in tokens:
        if kind == "op" and value == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "op" and value == ")":
            depth -= 1
    if deepest > MAX_NESTING:
        raise SpecError(
            f"the expression {_short(text)!r} nests parentheses {deepest} deep, more than the "
            f"{MAX_NESTING} allowed; split it into several defined parameters (:=)"
        )


def pretty_expression(text: str) -> str:
    """Write expression text readably: spaces around binary ``+`` and ``-`` only (``c + a*b``).

    Reading the result back (whitespace removed) gives ``text`` without whitespace again.
    """
    out: list[str] = []
    previous = ""
    for kind, value in _tokenize(text):
        binary = value in "+-" and kind == "op" and (previous in ("num", "name", ")"))
        out.append(f" {value} " if binary else value)
        previous = kind if kind != "op" else value
    return "".join(out)


def _tokenize(text: str) -> list[tuple[str, str]]:
    """Split expression text into (kind, value) tokens; kinds are num, name, op."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            word = _WORD_RE.match(text, pos)
            token = word.group(0) if word else text[pos]
            raise SpecError(
                f"{text[pos]!r} (in {token!r}) is not allowed in the expression {text.strip()!r}; "
                "use numbers, parameter labels, + - * / ^, parentheses and "
                f"{_FUNCTION_LIST}"
            )
        kind = match.lastgroup or ""
        end = match.end()
        if kind == "num" and end < len(text) and (text[end].isalpha() or text[end] in "_."):
            word = _WORD_RE.match(text, pos)
            raise SpecError(
                f"{word.group(0) if word else text[pos:end + 1]!r} in the expression "
                f"{text.strip()!r} is neither a number nor a name (names cannot start with a digit)"
            )
        tokens.append((kind, match.group(0)))
        pos = end
    return tokens


def _original(segment: str, names: list[str]) -> str:
    """Undo the placeholder substitution in a piece of translated source."""

    def back(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return names[int(match.group(1))]
        return match.group(2)

    return _PLACEHOLDER_RE.sub(back, segment).replace("**", "^").replace(" ", "")


def _validate(tree: ast.Expression, translated: str, names: list[str], text: str) -> None:
    """Check every node of the parsed expression against the allow-list."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Load, *_ALLOWED_BINOPS, *_ALLOWED_UNARY)):
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, _ALLOWED_BINOPS):
            continue
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, _ALLOWED_UNARY):
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            continue
        if isinstance(node, ast.Name) and _PLACEHOLDER_RE.fullmatch(node.id):
            continue
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.startswith("_f_")
            and node.func.id[3:] in FUNCTIONS
        ):
            if len(node.args) == 1 and not node.keywords:
                continue
            raise SpecError(
                f"{node.func.id[3:]}() takes exactly one argument in the expression "
                f"{text.strip()!r}"
            )
        segment = ast.get_source_segment(translated, node) or type(node).__name__
        raise SpecError(
            f"{_original(segment, names)!r} is not allowed in the expression {text.strip()!r}; "
            "use numbers, parameter labels, + - * / ^, parentheses and "
            f"{_FUNCTION_LIST}"
        )


class _ToNumpy(ast.NodeTransformer):
    """Route ``**`` and ``/`` through numpy (R semantics: nan/inf, never exceptions)."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, (ast.Pow, ast.Div)):
            func = "_pow" if isinstance(node.op, ast.Pow) else "_div"
            return ast.copy_location(
                ast.Call(func=ast.Name(id=func, ctx=ast.Load()), args=[node.left, node.right],
                         keywords=[]),
                node,
            )
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.copy_location(ast.Constant(value=float(node.value)), node)  # type: ignore[arg-type]


def _compile(tree: ast.Expression, nargs: int) -> CodeType:
    """Compile a validated tree into the code of ``lambda _v0, _v1, ...: <expression>``."""
    body = _ToNumpy().visit(tree).body
    arguments = ast.arguments(
        posonlyargs=[],
        args=[ast.arg(arg=f"_v{i}") for i in range(nargs)],
        kwonlyargs=[],
        kw_defaults=[],
        defaults=[],
    )
    lam = ast.Expression(body=ast.Lambda(args=arguments, body=body))
    ast.fix_missing_locations(lam)
    return compile(lam, "<cbec_sem expression>", "eval")
