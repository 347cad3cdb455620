"""The PLS view of a lavaan-syntax model: constructs, their indicators and mode, and paths.

``F =~ x1 + x2`` is a construct estimated in mode A (correlation weights; a common factor under
PLSc), ``F <~ x1 + x2`` a composite in mode B (regression weights), ``Y ~ X`` a structural path
and ``Y ~ X:Z`` an interaction (a two-stage product construct named ``X:Z``, as seminr's
``two_stage``).  A construct whose indicators are other constructs is a higher-order construct
(``SCI =~ VP + FO + IS``).  Everything a PLS estimator cannot honour (covariances, fixed values,
intercepts, thresholds, equality constraints) is refused here with the statement quoted.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SpecError
from ..specification import ModelSpec

__all__ = ["Construct", "PLSModel", "pls_model"]


@dataclass(frozen=True)
class Construct:
    """One construct: ``mode`` "A" (``=~``) or "B" (``<~``) and its indicator names."""

    name: str
    mode: str
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class PLSModel:
    """A model as the PLS estimators read it.

    Attributes:
        constructs: first-order and higher-order constructs in order of appearance.
        paths: (target, source) of every structural path; a source may be ``"X:Z"``.
        labels: (target, source) -> label for labelled paths (``Y ~ b*X``).
        defined: name -> expression of ``:=`` statements over path labels.
    """

    constructs: tuple[Construct, ...]
    paths: tuple[tuple[str, str], ...]
    labels: dict[tuple[str, str], str]
    defined: dict[str, str]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.constructs)

    def construct(self, name: str) -> Construct:
        for c in self.constructs:
            if c.name == name:
                return c
        raise SpecError(f"{name!r} is not a construct of the model")

    @property
    def higher_order(self) -> tuple[Construct, ...]:
        """Constructs whose indicators are constructs."""
        names = set(self.names)
        return tuple(c for c in self.constructs if any(i in names for i in c.indicators))

    @property
    def interactions(self) -> tuple[str, ...]:
        """Product terms ``"X:Z"`` used as path sources, in order of appearance."""
        return tuple(dict.fromkeys(s for _, s in self.paths if ":" in s))

    @property
    def items(self) -> tuple[str, ...]:
        """Observed indicator names (data columns) in order of first appearance."""
        names = set(self.names)
        return tuple(dict.fromkeys(
            i for c in self.constructs for i in c.indicators if i not in names))


def pls_model(model: ModelSpec | str | PLSModel) -> PLSModel:
    """Read a :class:`ModelSpec` (or lavaan text) into a :class:`PLSModel`.

    Raises:
        SpecError: a statement PLS cannot estimate, a construct without indicators, an
            indicator in two constructs (other than through a higher-order construct), mixed
            ``=~`` and ``<~`` for one construct, a path naming no construct, or a model
            without structural paths.
    """
    if isinstance(model, PLSModel):
        return model
    spec = model if isinstance(model, ModelSpec) else ModelSpec.from_lavaan(model)
    blocks: dict[str, list[str]] = {}
    modes: dict[str, str] = {}
    paths: list[tuple[str, str]] = []
    labels: dict[tuple[str, str], str] = {}
    defined: dict[str, str] = {}
    for s in spec.statements:
        at = f"line {s.line}: {s.source!r}" if s.source else f"'{s.lhs} {s.op} {s.rhs}'"
        if s.op in ("=~", "<~"):
            mode = "A" if s.op == "=~" else "B"
            if modes.setdefault(s.lhs, mode) != mode:
                raise SpecError(f"{at}: {s.lhs!r} is given both '=~' and '<~' indicators; "
                                "a construct has one mode: use one operator")
            if any(v is not None for v in s.fixed) or any(s.free):
                raise SpecError(f"{at}: PLS estimates weights, so fixed or freed loadings "
                                "(1*x, NA*x) cannot be honoured; remove the modifier")
            blocks.setdefault(s.lhs, []).append(s.rhs)
        elif s.op == "~":
            if any(v is not None for v in s.fixed):
                raise SpecError(f"{at}: PLS cannot fix a path coefficient; remove the value")
            paths.append((s.lhs, s.rhs))
            lab = next((x for x in s.labels if x is not None), None)
            if lab is not None:
                labels[(s.lhs, s.rhs)] = lab
        elif s.op == ":=":
            defined[s.lhs] = s.rhs
        elif s.op == "~~" and s.lhs == s.rhs and s.lhs not in blocks:
            continue  # a variance statement carries no information for PLS
        else:
            raise SpecError(f"{at}: PLS-SEM has no {s.op!r} parameters (covariances, "
                            "intercepts, thresholds and constraints are CB-SEM features); "
                            "remove the statement")
    constructs = tuple(Construct(n, modes[n], tuple(ind)) for n, ind in blocks.items())
    names = set(blocks)
    owner: dict[str, str] = {}
    for c in constructs:
        for item in c.indicators:
            if item in names:
                continue
            if item in owner:
                raise SpecError(
                    f"the indicator {item!r} is in two constructs ({owner[item]!r} and "
                    f"{c.name!r}); give each construct its own indicators (a higher-order "
                    "construct is written with the lower-order constructs as indicators)")
            owner[item] = c.name
    if not paths:
        raise SpecError("a PLS model needs at least one structural path ('Y ~ X')")
    for target, source in paths:
        for name in [target, *source.split(":")]:
            if name not in names:
                raise SpecError(
                    f"the path '{target} ~ {source}' names {name!r}, which has no indicators; "
                    f"add '{name} =~ item1 + item2' (or a single item: '{name} =~ item')")
    for c in constructs:
        if len(c.indicators) == 0:  # pragma: no cover - the parser never yields this
            raise SpecError(f"the construct {c.name!r} has no indicators")
        lower = [i for i in c.indicators if i in names]
        if lower and len(lower) != len(c.indicators):
            raise SpecError(f"the construct {c.name!r} mixes constructs and items as "
                            "indicators; a higher-order construct takes only constructs")
    return PLSModel(constructs, tuple(paths), labels, defined)
