"""From model text to logical statements: comments, ``;``, line continuation, operators.

lavaan's rules, which this module follows:

* ``#`` and ``!`` start a comment that runs to the end of the line (outside quotes);
* statements are separated by newlines or ``;``; blank lines are ignored;
* a statement continues onto the next (non-blank) line when its line ends with an operator,
  ``+``, ``*`` or another character that cannot end a statement (``, ( - / ^ ?``), when a
  parenthesis is still open, or when the next line starts with ``+``.

One refinement: a line that itself contains an operator (``=~``, ``~``, ...) is never glued
onto a previous line that already has one, so ``f =~ x1 +`` followed by ``g =~ y1`` reports
the dangling ``+`` on its own line instead of a confusing "two operators" error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import SpecError

#: Every operator the scanner recognises, longest first.  Only some are supported; the others
#: are recognised so that the error message can name them.
SCANNED_OPERATORS = ("~*~", "=~", "~~", ":=", "==", "<=", ">=", "<~", "~", "<", ">", "|", "=", "%")

#: Characters that cannot end a complete statement, so the statement goes on next line.
_CONTINUES = frozenset("+*?,(-/^~=<>|:")


@dataclass(frozen=True)
class Chunk:
    """One logical statement: its text (comments removed, lines joined) and where it came from."""

    text: str
    first_line: int
    last_line: int

    @property
    def where(self) -> str:
        """``line 3: "f =~ x1 +"`` (or ``lines 3-4: ...`` for a statement over several lines)."""
        if self.last_line > self.first_line:
            return f'lines {self.first_line}-{self.last_line}: "{self.text}"'
        return f'line {self.first_line}: "{self.text}"'

    def error(self, message: str) -> SpecError:
        """A :class:`SpecError` that quotes this statement and its line number."""
        return SpecError(f"{self.where}: {message}")


@dataclass(frozen=True)
class Scan:
    """What a left-to-right scan of a statement found outside quoted strings.

    Attributes:
        operators: (position, operator) of every operator in :data:`SCANNED_OPERATORS`.
        depth: parenthesis depth at the end (positive: some ``(`` is never closed).
        stray_close: position of the first ``)`` without a matching ``(``, or -1.
        open_quote: True when a quoted string is never closed.
    """

    operators: tuple[tuple[int, str], ...]
    depth: int
    stray_close: int
    open_quote: bool
    quote: str = ""


#: What :func:`scan` stops at: a quote, a parenthesis or an operator (in
#: :data:`SCANNED_OPERATORS` order, so the longest operator at a position wins, as it did when
#: each position tried the operators one by one).
_SCAN_TOKEN = re.compile("[\"'()]|" + "|".join(re.escape(op) for op in SCANNED_OPERATORS))


def scan(text: str, depth: int = 0, quote: str = "") -> Scan:
    """Find operators and check parentheses and quotes of one statement's text (or of a
    piece of it, starting inside ``depth`` parentheses and the quoted string ``quote``).

    Linear time with a small constant: a regular expression jumps from one quote,
    parenthesis or operator to the next and ``str.find`` skips quoted strings, so the Python
    loop runs once per token, not once per character (a 1 MB model took seconds; issue 14).
    """
    operators: list[tuple[int, str]] = []
    stray = -1
    i = 0
    n = len(text)
    while i < n:
        if quote:
            end = text.find(quote, i)
            if end < 0:
                break
            quote = ""
            i = end + 1
            continue
        found = _SCAN_TOKEN.search(text, i)
        if found is None:
            break
        token = found.group()
        i = found.end()
        if token in "\"'":
            quote = token
        elif token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0 and stray < 0:
                stray = found.start()
            depth = max(depth, 0)
        else:
            operators.append((found.start(), token))
    return Scan(tuple(operators), depth, stray, bool(quote), quote)


#: Characters that matter to comment stripping and ``;`` splitting.
_COMMENT_OR_QUOTE = re.compile("[\"'#!]")
_SEMICOLON_OR_QUOTE = re.compile("[\"';]")


def strip_comment(line: str) -> str:
    """Remove a ``#`` or ``!`` comment (outside quotes) from one physical line."""
    i = 0
    while (found := _COMMENT_OR_QUOTE.search(line, i)) is not None:
        ch = found.group()
        if ch in "#!":
            return line[:found.start()]
        end = line.find(ch, found.end())  # skip the quoted string
        if end < 0:
            return line
        i = end + 1
    return line


def _split_semicolons(line: str) -> list[str]:
    """Split one comment-free line at ``;`` outside quotes."""
    parts: list[str] = []
    start = i = 0
    while (found := _SEMICOLON_OR_QUOTE.search(line, i)) is not None:
        ch = found.group()
        if ch == ";":
            parts.append(line[start:found.start()])
            start = i = found.end()
            continue
        end = line.find(ch, found.end())  # skip the quoted string
        if end < 0:
            break
        i = end + 1
    parts.append(line[start:])
    return parts


@dataclass(frozen=True)
class _Segment:
    text: str
    line: int
    ends_line: bool  # no ';' after it on its line, so it may continue on the next line


def _segments(text: str) -> list[_Segment]:
    """Non-empty pieces of text between newlines and semicolons, with their line numbers."""
    out: list[_Segment] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = _split_semicolons(strip_comment(raw))
        for k, part in enumerate(parts):
            stripped = part.strip()
            if stripped:
                out.append(_Segment(stripped, number, k == len(parts) - 1))
    return out


@dataclass(frozen=True)
class _State:
    """What a scan of a statement so far found: open parentheses, an open quote, operators.

    Carried from segment to segment, so that a statement continued over n lines is scanned
    once (re-scanning the whole statement at every join took 27 s for 1,000 ``+ x`` lines and
    grew with the square of their number; issue 14)."""

    depth: int = 0
    quote: str = ""
    has_operator: bool = False

    def advance(self, text: str) -> _State:
        found = scan(text, self.depth, self.quote)
        return _State(found.depth, found.quote, self.has_operator or bool(found.operators))


def _joins(current: str, state: _State, following: str) -> bool:
    """Whether ``following`` continues the statement ``current`` (lavaan's multi-line rule);
    ``state`` is the scan of ``current``."""
    wants_more = following.startswith("+") or current[-1] in _CONTINUES or state.depth > 0
    if not wants_more:
        return False
    both_have_operators = state.has_operator and bool(scan(following).operators)
    return not both_have_operators


def split_statements(text: str) -> list[Chunk]:
    """Split model text into logical statements (see the module docstring for the rules)."""
    chunks: list[Chunk] = []
    current: _Segment | None = None
    state = _State()
    first_line = 0
    for seg in _segments(text):
        if current is not None and current.ends_line and _joins(current.text, state, seg.text):
            current = _Segment(f"{current.text} {seg.text}", seg.line, seg.ends_line)
            state = state.advance(" " + seg.text)
            continue
        if current is not None:
            chunks.append(Chunk(current.text, first_line, current.line))
        current, first_line = seg, seg.line
        state = _State().advance(seg.text)
    if current is not None:
        chunks.append(Chunk(current.text, first_line, current.line))
    return chunks
