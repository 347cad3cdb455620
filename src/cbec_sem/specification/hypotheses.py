"""Hypotheses as first-class objects: an id, a kind, the constructs it names, the expected sign.

===============  ===============================  =================================
kind             constructs                       example
===============  ===============================  =================================
``path``         (predictor, outcome)             H1: TA → SCI is positive
``indirect``     (x, mediator, ..., y)            H4: TA → FA → SCI
``interaction``  (x, z, y)                        H5: TA × FA → SCI
``moderation``   (moderator, focal, outcome)      H6a: PC moderates TA → SCI
``necessity``    (condition, outcome)             H7: TA is necessary for FA
===============  ===============================  =================================

``sign`` is ``"+"`` (expected positive), ``"-"`` (expected negative) or ``"two-sided"``.
A hypothesis says what theory expects; the verdict is computed elsewhere (propositions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import SpecError

#: Allowed kinds and (minimum, maximum) number of constructs of each.
KINDS: dict[str, tuple[int, int | None]] = {
    "path": (2, 2),
    "indirect": (3, None),
    "interaction": (3, 3),
    "moderation": (3, 3),
    "necessity": (2, 2),
}

#: What the constructs of each kind are, in order (for error messages).
_ROLES = {
    "path": "(predictor, outcome)",
    "indirect": "(predictor, one or more mediators, outcome)",
    "interaction": "(x, z, outcome)",
    "moderation": "(moderator, focal predictor, outcome)",
    "necessity": "(condition, outcome)",
}

#: Allowed expected signs.
SIGNS = ("+", "-", "two-sided")


@dataclass(frozen=True)
class Hypothesis:
    """One hypothesis of a model.

    Attributes:
        id: a short identifier such as ``"H1"`` or ``"H6a"``.
        kind: one of :data:`KINDS`.
        statement: the hypothesis in words, as it will appear in reports.
        constructs: the constructs (latent or observed variable names) it names, in the order
            the kind prescribes (see the module docstring).
        sign: the expected sign: ``"+"``, ``"-"`` or ``"two-sided"``.

    Raises:
        SpecError: an unknown kind or sign, or the wrong number of constructs; the message
            names the hypothesis id.

    Examples:
        >>> h = cs.Hypothesis.path("H1", "TA", "FA")
        >>> h.kind, h.constructs, h.sign
        ('path', ('TA', 'FA'), '+')
        >>> cs.Hypothesis.necessity("H7", "TA", "FA").kind
        'necessity'
    """

    id: str
    kind: str
    statement: str
    constructs: tuple[str, ...]
    sign: str = "+"

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise SpecError(f"a hypothesis id must be a non-empty string, not {self.id!r}")
        label = f"hypothesis {self.id!r}"
        if self.kind not in KINDS:
            raise SpecError(
                f"{label}: unknown kind {self.kind!r}; kinds are {', '.join(KINDS)}"
            )
        if self.sign not in SIGNS:
            raise SpecError(
                f"{label}: unknown sign {self.sign!r}; use '+', '-' or 'two-sided'"
            )
        if not isinstance(self.statement, str):
            raise SpecError(f"{label}: the statement must be a string")
        constructs = self.constructs
        if isinstance(constructs, str) or not isinstance(constructs, Sequence):
            raise SpecError(
                f"{label}: constructs must be a sequence of names such as ('TA', 'SCI'), "
                f"not {constructs!r}"
            )
        constructs = tuple(constructs)
        for name in constructs:
            if not isinstance(name, str) or not name:
                raise SpecError(f"{label}: construct names must be non-empty strings, not {name!r}")
        low, high = KINDS[self.kind]
        if len(constructs) < low or (high is not None and len(constructs) > high):
            count = f"{low}" if low == high else f"at least {low}"
            raise SpecError(
                f"{label}: a {self.kind} hypothesis names {count} constructs "
                f"{_ROLES[self.kind]}, got {len(constructs)}: {constructs}"
            )
        if len(set(constructs)) != len(constructs):
            twice = next(name for name in constructs if constructs.count(name) > 1)
            raise SpecError(f"{label}: names the construct {twice!r} more than once")
        object.__setattr__(self, "constructs", constructs)

    @property
    def outcome(self) -> str:
        """The outcome (last construct) of the hypothesis."""
        return self.constructs[-1]

    # ------------------------------------------------------------------ constructors

    @classmethod
    def path(cls, id: str, predictor: str, outcome: str, statement: str | None = None,
             sign: str = "+") -> Hypothesis:
        """A direct effect ``predictor → outcome``."""
        text = statement if statement is not None else f"{predictor} → {outcome} is {_word(sign)}"
        return cls(id, "path", text, (predictor, outcome), sign)

    @classmethod
    def indirect(cls, id: str, predictor: str, *mediators_and_outcome: str,
                 statement: str | None = None, sign: str = "+") -> Hypothesis:
        """An indirect effect ``predictor → mediator(s) → outcome``."""
        constructs = (predictor, *mediators_and_outcome)
        text = (
            statement
            if statement is not None
            else f"{' → '.join(constructs)} indirect effect is {_word(sign)}"
        )
        return cls(id, "indirect", text, constructs, sign)

    @classmethod
    def interaction(cls, id: str, x: str, z: str, outcome: str, statement: str | None = None,
                    sign: str = "+") -> Hypothesis:
        """A product-term effect ``x × z → outcome``."""
        text = statement if statement is not None else f"{x} × {z} → {outcome} is {_word(sign)}"
        return cls(id, "interaction", text, (x, z, outcome), sign)

    @classmethod
    def moderation(cls, id: str, moderator: str, focal: str, outcome: str,
                   statement: str | None = None, sign: str = "+") -> Hypothesis:
        """``moderator`` moderates the effect ``focal → outcome``."""
        text = (
            statement
            if statement is not None
            else f"{moderator} moderates {focal} → {outcome} ({moderator} × {focal} → {outcome})"
        )
        return cls(id, "moderation", text, (moderator, focal, outcome), sign)

    @classmethod
    def necessity(cls, id: str, condition: str, outcome: str, statement: str | None = None,
                  sign: str = "+") -> Hypothesis:
        """``condition`` is a necessary condition for ``outcome`` (NCA)."""
        text = (
            statement
            if statement is not None
            else f"{condition} is a necessary condition for {outcome}"
        )
        return cls(id, "necessity", text, (condition, outcome), sign)


def _word(sign: str) -> str:
    return {"+": "positive", "-": "negative"}.get(sign, "non-zero")
