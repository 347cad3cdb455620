"""``ModelSpec``: a model's statements and hypotheses, validated once, immutable.

A :class:`ModelSpec` is what theory says, nothing about data: the statements of a lavaan model
(see :class:`~cbec_sem.specification.statements.Statement`) and the hypotheses to test on it.  It is
built from lavaan syntax (:meth:`ModelSpec.from_lavaan`), by
:func:`~cbec_sem.specification.paper.paper_model` or from statements in code, and written back with
:meth:`ModelSpec.to_lavaan`.

Derived views (:attr:`~ModelSpec.latent_variables`, :attr:`~ModelSpec.observed_variables`,
:attr:`~ModelSpec.indicators`, ...) are recomputed from the statements on access; each returns
a fresh object, so nothing a caller does to it changes the model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..caching import BoundedCache
from ..errors import SpecError
from .checks import check_model_size, check_statements, modifier_groups, where
from .expressions import compile_expression
from .hypotheses import Hypothesis
from .statements import Statement
from .syntax import parse_lavaan, write_lavaan


@dataclass(frozen=True, repr=False)
class ModelSpec:
    """A structural equation model specification.

    Attributes:
        statements: one :class:`Statement` per (lhs, op, rhs), in the order written.
        hypotheses: the hypotheses to test, each naming constructs of this model.

    Raises:
        SpecError: on construction, when a statement is malformed or duplicated, modifier
            vectors disagree in length, a ``:=`` name collides with a variable or label, an
            expression uses an unknown label, or a hypothesis names an unknown construct or
            repeats an id.

    Examples:
        >>> model = cs.ModelSpec.from_lavaan("F =~ x1 + x2 + x3; G =~ x4 + x5 + x6; G ~ F")
        >>> model.latent_variables
        ('F', 'G')
        >>> model.observed_variables
        ('x1', 'x2', 'x3', 'x4', 'x5', 'x6')
        >>> print(model.to_lavaan())
        F =~ x1 + x2 + x3
        G =~ x4 + x5 + x6
        G ~ F
    """

    statements: tuple[Statement, ...]
    hypotheses: tuple[Hypothesis, ...] = ()

    def __post_init__(self) -> None:
        statements = _as_tuple(self.statements, "statements")
        hypotheses = _as_tuple(self.hypotheses, "hypotheses")
        object.__setattr__(self, "statements", statements)
        object.__setattr__(self, "hypotheses", hypotheses)
        if not statements:
            raise SpecError("a model needs at least one statement")
        check_model_size(len(statements))
        check_statements(statements)
        self._check_defined()
        self._check_hypotheses()

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_lavaan(cls, text: str, hypotheses: Iterable[Hypothesis] = ()) -> ModelSpec:
        """Build a model from lavaan model syntax (read by :func:`~.syntax.parse_lavaan`)."""
        statements = parse_lavaan(text)
        if not statements:
            raise SpecError("the model text has no statements (only blank lines or comments)")
        return cls(statements, tuple(hypotheses))

    def to_lavaan(self) -> str:
        """The model as lavaan syntax; reading it back gives the same statements."""
        return write_lavaan(self.statements)

    def __str__(self) -> str:
        return self.to_lavaan()

    def __repr__(self) -> str:
        ids = ", ".join(h.id for h in self.hypotheses)
        return (
            f"<ModelSpec: {len(self.statements)} statements, "
            f"latent {list(self.latent_variables)}, "
            f"{len(self.observed_variables)} observed, hypotheses [{ids}]>"
        )

    def replace(self, **changes: Any) -> ModelSpec:
        """A copy with fields replaced (``statements=...``, ``hypotheses=...``), re-validated."""
        return dataclasses.replace(self, **changes)

    def with_hypotheses(self, *hypotheses: Hypothesis) -> ModelSpec:
        """A copy whose hypotheses are exactly ``hypotheses`` (they replace the current ones).

        To add one, pass the current ones too: ``m.with_hypotheses(*m.hypotheses, h)``.
        """
        return self.replace(hypotheses=tuple(hypotheses))

    def hypothesis(self, id: str) -> Hypothesis:
        """The hypothesis with this id; :class:`SpecError` listing the known ids if none."""
        for hyp in self.hypotheses:
            if hyp.id == id:
                return hyp
        known = ", ".join(h.id for h in self.hypotheses) or "none"
        raise SpecError(f"no hypothesis with id {id!r}; the model's hypotheses are: {known}")

    # ------------------------------------------------------------------ derived views

    @property
    def latent_variables(self) -> tuple[str, ...]:
        """Names on the left of ``=~`` or ``<~`` (composites), in order of first appearance."""
        return _unique(s.lhs for s in self.statements if s.op in ("=~", "<~"))

    @property
    def observed_variables(self) -> tuple[str, ...]:
        """Every non-latent variable name of the model.

        Order: indicators (right of ``=~`` or ``<~``) in order of first appearance, then the other
        variables in order of first appearance (statement by statement, lhs before rhs; the
        components of a product term ``x:z`` at the position of the term).  Product terms
        themselves and threshold names are not variables.
        """
        latent = set(self.latent_variables)
        indicators = [
            s.rhs for s in self.statements if s.op in ("=~", "<~") and s.rhs not in latent
        ]
        others: list[str] = []
        for stmt in self.statements:
            if stmt.op in ("~", "~~"):
                others.append(stmt.lhs)
                others.extend(stmt.rhs.split(":"))
            elif stmt.op in ("~1", "|"):
                others.append(stmt.lhs)
        return _unique(name for name in indicators + others if name not in latent)

    @property
    def indicators(self) -> dict[str, tuple[str, ...]]:
        """Construct (``=~`` or ``<~``) → its indicators (observed, or latent for higher order)."""
        out: dict[str, list[str]] = {}
        for stmt in self.statements:
            if stmt.op in ("=~", "<~"):
                out.setdefault(stmt.lhs, []).append(stmt.rhs)
        return {latent: tuple(items) for latent, items in out.items()}

    @property
    def regressions(self) -> tuple[tuple[str, str], ...]:
        """(outcome, predictor) of every ``~`` statement; a predictor may be a product ``x:z``."""
        return tuple((s.lhs, s.rhs) for s in self.statements if s.op == "~")

    @property
    def interactions(self) -> tuple[tuple[str, str], ...]:
        """(outcome, ``"x:z"``) of every regression on a product term."""
        return tuple((s.lhs, s.rhs) for s in self.statements if s.op == "~" and ":" in s.rhs)

    @property
    def defined(self) -> dict[str, str]:
        """Defined parameter name → its expression text (whitespace-free), in order."""
        return {s.lhs: s.rhs for s in self.statements if s.op == ":="}

    @property
    def labels(self) -> frozenset[str]:
        """Every label given to a parameter (``a*x``, ``c(a, b)*x``, ``label("a")*x``)."""
        return frozenset(lab for s in self.statements for lab in s.labels if lab is not None)

    @property
    def ngroups_in_modifiers(self) -> int:
        """The length of the modifier vectors (``c(a, b)*x`` → 2); 1 when there are none."""
        return modifier_groups(self.statements)

    # ------------------------------------------------------------------ validation

    def _check_defined(self) -> None:
        """``:=`` names must be new; expressions may use only labels and defined parameters."""
        variables = set(self.latent_variables) | set(self.observed_variables)
        labels = self.labels
        all_defined = {s.lhs: s for s in self.statements if s.op == ":="}
        defined_so_far: set[str] = set()
        for stmt in self.statements:
            if stmt.op not in (":=", "==", "<", ">"):
                continue
            at = where(stmt)
            if stmt.op == ":=":
                if stmt.lhs in variables:
                    raise SpecError(
                        f"{at}: the defined parameter {stmt.lhs!r} has the name of a variable "
                        "of the model; choose another name"
                    )
                if stmt.lhs in labels:
                    raise SpecError(
                        f"{at}: the defined parameter {stmt.lhs!r} has the name of a parameter "
                        "label; choose another name"
                    )
                names = compile_expression(stmt.rhs).names
            else:
                names = compile_expression(stmt.lhs).names + compile_expression(stmt.rhs).names
            for name in names:
                if name in labels or name in defined_so_far or name.startswith(".p"):
                    continue
                if stmt.op != ":=" and name in all_defined:
                    continue
                if name == stmt.lhs and stmt.op == ":=":
                    raise SpecError(f"{at}: {name!r} is defined in terms of itself")
                if name in all_defined:
                    raise SpecError(
                        f"{at}: {name!r} is used before it is defined "
                        f"({where(all_defined[name])}); define it first"
                    )
                hint = (
                    f" ({name!r} is a variable; label the parameter instead, e.g. 'y ~ {name}*x')"
                    if name in variables
                    else ""
                )
                known = ", ".join(sorted(labels)) or "none"
                raise SpecError(
                    f"{at}: the label {name!r} is never defined{hint}; "
                    f"labels of this model: {known}"
                )
            if stmt.op == ":=":
                defined_so_far.add(stmt.lhs)

    def _check_hypotheses(self) -> None:
        """Hypotheses are Hypothesis objects with unique ids naming variables of the model."""
        variables = set(self.latent_variables) | set(self.observed_variables)
        seen: set[str] = set()
        for hyp in self.hypotheses:
            if not isinstance(hyp, Hypothesis):
                raise SpecError(f"hypotheses must be Hypothesis objects, not {type(hyp).__name__}")
            if hyp.id in seen:
                raise SpecError(f"hypothesis id {hyp.id!r} is used twice")
            seen.add(hyp.id)
            for name in hyp.constructs:
                if name not in variables:
                    latent = ", ".join(self.latent_variables) or "none"
                    raise SpecError(
                        f"hypothesis {hyp.id!r} names {name!r}, which is neither a latent nor "
                        f"an observed variable of the model (latent variables: {latent})"
                    )


def _as_tuple(value: object, what: str) -> tuple[Any, ...]:
    """Accept any iterable (not a string) for a tuple field."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise SpecError(f"ModelSpec {what} must be a sequence, not {type(value).__name__}")
    return tuple(value)


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    """Names without repeats, in order of first appearance."""
    return tuple(dict.fromkeys(names))


#: Parsed model texts (text → ModelSpec, which is immutable): fitting the same syntax again
#: (a notebook re-run, a benchmark, a power study) does not parse it again (issue 15).
_PARSED: BoundedCache[ModelSpec] = BoundedCache(64)


def as_model(model: ModelSpec | str) -> ModelSpec:
    """A :class:`ModelSpec` from a ModelSpec or lavaan syntax text (parsed once per text)."""
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, str):
        # a SpecError is raised, not cached
        return _PARSED.get(model, lambda: ModelSpec.from_lavaan(model))
    raise SpecError(
        f"model must be a ModelSpec (e.g. cs.paper_model()) or lavaan syntax text, not "
        f"{type(model).__name__}"
    )
