"""Populations a user can plan with: a pilot fit's estimates, and effect sizes per hypothesis.

:func:`population_from_fit` turns a fitted model into a standardised population model (lavaan
syntax for :func:`cbec_sem.simulate` and :func:`cbec_sem.power`): every loading, path,
product-term coefficient and covariance between different variables is the fit's completely
standardised estimate (``std.all``), and every variance is left to ``standardized=True``,
which sets each residual variance so that the variable's variance is 1.  Because the values
are ``std.all``, the population reproduces the fit's model-implied correlation matrix (the
measurement and structural model as estimated), which is what a power study on a pilot needs
(Muthén & Muthén 2002, "Monte Carlo studies with population values from a pilot").

:func:`with_effects` overrides the population value of hypotheses by id — a path hypothesis
sets its standardised coefficient, an interaction or moderation hypothesis the standardised
coefficient of its product term; an indirect hypothesis (a product of several paths) and a
necessity hypothesis (NCA has no population coefficient) are refused with the reason.

:func:`stated_effects` says which hypotheses have a population value stated in the
population text; a hypothesised effect that falls back to a default (a path without a value is
0 in :func:`cbec_sem.simulate`) is what :func:`cbec_sem.power` warns about.

References
----------
Muthén, L. K., & Muthén, B. O. (2002). How to use a Monte Carlo study to decide on sample size
and determine power. *Structural Equation Modeling*, 9(4), 599–620.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from ..errors import SpecError
from ..specification.hypotheses import Hypothesis
from ..specification.model import ModelSpec
from ..specification.statements import Statement

__all__ = ["population_from_fit", "stated_effects", "with_effects"]

_OPS = ("=~", "~", "~~")


def population_from_fit(res) -> str:
    """A standardised population model (lavaan syntax) whose values are a fit's ``std.all``
    estimates: loadings, paths (and product terms), and covariances between different
    variables (between exogenous variables these are correlations; between endogenous ones
    residual covariances, as :func:`cbec_sem.simulate` reads them).

    Raises:
        SpecError: ``res`` is not a fitted model with a parameter table, it has more than one
            group (simulate one group at a time), it did not converge, or a standardised
            estimate is missing or not finite.
    """
    params = getattr(res, "params", None)
    if params is None or not {"lhs", "op", "rhs", "std.all"} <= set(getattr(params, "columns",
                                                                            ())):
        raise SpecError(f"population= must be lavaan syntax, a ModelSpec or a fitted result "
                        f"(cs.fit(...)); got {type(res).__name__}")
    conv = getattr(res, "converged", None)
    if conv is not None and not bool(conv):
        raise SpecError("the pilot fit given as population= did not converge; its estimates "
                        "are not a population to plan with")
    params = params[params["op"].isin(_OPS)]
    if "group" in params.columns and params["group"].nunique() > 1:
        raise SpecError("the pilot fit has several groups; a power population is one group: "
                        "fit the pilot to one group (or without group=)")
    lines = ["# population from a pilot fit: completely standardised estimates (std.all)"]
    for lhs, op, rhs, value in zip(params["lhs"], params["op"], params["rhs"],
                                   params["std.all"].astype(float)):
        if op == "~~" and lhs == rhs:
            continue
        if not math.isfinite(value):
            raise SpecError(f"the pilot fit has no finite standardised estimate of "
                            f"'{lhs} {op} {rhs}'; it cannot serve as a population")
        lines.append(f"{lhs} {op} {value:.10g}*{rhs}")
    return "\n".join(lines) + "\n"


def _target(h: Hypothesis) -> tuple[str, str]:
    """(lhs, rhs) of the ``~`` statement carrying hypothesis ``h``'s population value."""
    if h.kind == "path":
        x, y = h.constructs
        return y, x
    if h.kind in ("interaction", "moderation"):
        if h.kind == "interaction":
            x, z, y = h.constructs
        else:
            z, x, y = h.constructs
        return y, f"{x}:{z}"
    if h.kind == "indirect":
        raise SpecError(f"effects: {h.id} is an indirect effect (a product of paths); give the "
                        f"effect of each of its paths ({' → '.join(h.constructs)}) instead")
    raise SpecError(f"effects: {h.id} is a {h.kind} hypothesis, which has no population "
                    "coefficient to set; set the paths that produce it")


def _same(st: Statement, lhs: str, rhs: str) -> bool:
    if st.op != "~" or st.lhs != lhs:
        return False
    if ":" in rhs:
        return sorted(p.strip() for p in st.rhs.split(":")) == sorted(rhs.split(":"))
    return st.rhs == rhs


def _numeric(st: Statement) -> bool:
    return any(v is not None for v in (*st.fixed, *st.starts))


def stated_effects(spec: ModelSpec, population) -> set[str]:
    """Ids of ``spec``'s path and interaction hypotheses whose coefficient the population
    states with a number (the others default to 0)."""
    pop = population if isinstance(population, ModelSpec) else \
        ModelSpec.from_lavaan(population) if isinstance(population, str) else spec
    out = set()
    for h in spec.hypotheses:
        if h.kind not in ("path", "interaction", "moderation"):
            continue
        lhs, rhs = _target(h)
        if any(_same(st, lhs, rhs) and _numeric(st) for st in pop.statements):
            out.add(h.id)
    return out


def with_effects(spec: ModelSpec, population, effects: Mapping[str, float]) -> ModelSpec:
    """The population with the coefficient of each hypothesis in ``effects`` (id → standardised
    value) set; a statement that is not in the population is added.

    ``population`` is lavaan syntax, a ModelSpec, or ``None`` (the analysis model itself, whose
    loadings without a value are .7 and paths without a value 0).

    Raises:
        SpecError: ``effects`` not a mapping of known hypothesis ids to finite numbers in
            (−1, 1), or an indirect or necessity hypothesis (see the module docstring).
    """
    if not isinstance(effects, Mapping):
        raise SpecError(f"effects must be a dict of hypothesis id → standardised effect, e.g. "
                        f"{{'H2': 0.3, 'H5': 0.1}}; got {type(effects).__name__}")
    pop = population if isinstance(population, ModelSpec) else \
        ModelSpec.from_lavaan(population) if isinstance(population, str) else \
        ModelSpec(tuple(s for s in spec.statements if s.op != "|"))
    statements = list(pop.statements)
    for hid, value in effects.items():
        h = spec.hypothesis(hid)  # SpecError naming the known ids
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(float(value)) or not -1 < float(value) < 1:
            raise SpecError(f"effects[{hid!r}] = {value!r}: a standardised effect is a number "
                            "between -1 and 1")
        lhs, rhs = _target(h)
        hit = [i for i, st in enumerate(statements) if _same(st, lhs, rhs)]
        if hit:
            i = hit[0]
            statements[i] = dataclasses.replace(statements[i], fixed=(float(value),),
                                                starts=(), free=())
        else:
            statements.append(Statement(lhs=lhs, op="~", rhs=rhs, fixed=(float(value),)))
    return ModelSpec(tuple(statements))
