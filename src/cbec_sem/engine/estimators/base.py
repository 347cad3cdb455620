"""What an estimator is: the request it takes, what it declares it can do, what it returns.

An estimator reads a :class:`FitRequest` (the model's statements, the data, the
:class:`~cbec_sem.engine.options.FitOptions` and the group column) and returns an
:class:`EstimatorOutput`: its estimation (an object with ``params``, ``fit_measures``,
``vcov`` ...) and the :class:`~cbec_sem.engine.convergence.Convergence` status behind it.

Each estimator *declares* what it can honour (``Capabilities``); :meth:`Estimator.check` refuses
every option it cannot honour with a :class:`~cbec_sem.errors.SpecError` that names the
alternative, so no option is ever silently ignored.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from ...errors import SpecError
from ...specification.statements import Statement
from ..convergence import Convergence
from ..options import FitOptions


@dataclass(frozen=True)
class FitRequest:
    """One estimation job: model statements, data, options and the group column."""

    statements: tuple[Statement, ...]
    data: Any
    options: FitOptions
    group: str | None = None

    @property
    def interaction_terms(self) -> tuple[str, ...]:
        """The product terms (``X:Z``) of the model's regressions."""
        return tuple(dict.fromkeys(s.rhs for s in self.statements
                                   if s.op == "~" and ":" in s.rhs))


@dataclass(frozen=True)
class Capabilities:
    """What an estimator can honour.  ``missing``: the missing-data methods it handles."""

    interactions: bool = False
    ordered: bool = False
    continuous: bool = True
    missing: tuple[str, ...] = ("listwise",)
    groups: bool = True
    bootstrap: bool = True
    std_lv: bool = True
    information: tuple[str, ...] = ("expected", "observed")
    #: keys ``cs.fit(..., estimator_options={...})`` may give this estimator
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class EstimatorOutput:
    """An estimator's result: the estimation and whether it can be trusted."""

    estimation: Any
    convergence: Convergence


class Estimator(ABC):
    """An estimator of the registry (:mod:`cbec_sem.engine.estimators`).

    Subclasses set ``name``, ``family``, ``description`` and ``capabilities`` and implement
    :meth:`estimate`.  Adding an estimator is one module and one ``register(...)`` line.
    """

    name: str = ""
    family: str = ""
    description: str = ""
    capabilities: Capabilities = Capabilities()
    #: estimators that fit the same models with the capability this one lacks, for messages
    alternatives: dict[str, str] = {}

    def check(self, request: FitRequest, *, se: str = "standard") -> None:
        """Refuse what this estimator cannot honour (never ignore it)."""
        caps, opts = self.capabilities, request.options
        terms = request.interaction_terms
        if terms and not caps.interactions:
            first = next(s for s in request.statements if s.op == "~" and ":" in s.rhs)
            raise SpecError(
                f"line {first.line}: {first.source or first.lhs + ' ~ ' + first.rhs!r}: "
                f"the product term(s) {', '.join(map(repr, terms))} need a latent-interaction estimator; "
                f"estimator={self.name!r} cannot fit them: use estimator='LMS' or 'QML' "
                "(or remove the terms to fit the main-effects model)")
        if opts.ordered and not caps.ordered:
            raise SpecError(
                f"estimator={self.name!r} does not take ordered items "
                f"({', '.join(opts.ordered[:5])}{', ...' if len(opts.ordered) > 5 else ''}); "
                + self.alternatives.get("ordered", "use estimator='WLSMV' for ordered items"))
        if opts.missing not in caps.missing:
            raise SpecError(
                f"missing={opts.missing!r} is not available with estimator={self.name!r} "
                f"(it handles {', '.join(map(repr, caps.missing))}); "
                + self.alternatives.get("missing", "choose one of those"))
        if request.group is not None and not caps.groups:
            raise SpecError(
                f"estimator={self.name!r} does not fit multi-group models (group="
                f"{request.group!r}); " + self.alternatives.get(
                    "groups", "fit each group separately"))
        if se == "bootstrap" and not caps.bootstrap:
            raise SpecError(
                f"se='bootstrap' is not available with estimator={self.name!r}; "
                + self.alternatives.get("bootstrap", "use se='standard'"))
        if opts.std_lv and not caps.std_lv:
            raise SpecError(f"std_lv=True is not available with estimator={self.name!r}; "
                            "the first loading of each factor is fixed to 1")
        if opts.extra.get("information_given") and opts.information not in caps.information:
            raise SpecError(
                f"information={opts.information!r} is not available with "
                f"estimator={self.name!r} (it uses {', '.join(caps.information)})")

        given = dict(opts.extra.get("estimator_options") or {})
        unknown = sorted(set(given) - set(caps.options))
        if unknown:
            raise SpecError(
                f"estimator_options {', '.join(map(repr, unknown))} are not options of "
                f"estimator={self.name!r}; "
                + (f"its options are {', '.join(map(repr, caps.options))}" if caps.options
                   else "it takes none"))

    @abstractmethod
    def estimate(self, request: FitRequest) -> EstimatorOutput:
        """Fit the model; warnings about convergence and admissibility are issued here."""

    def __repr__(self) -> str:
        return f"<Estimator {self.name} ({self.family}): {self.description}>"
