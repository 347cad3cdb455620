"""Composites (``F <~ x1 + x2 + x3``) in CB-SEM, as lavaan 0.6-14 builds them.

lavaan (``lav_partable_flat``, ``lav_partable_vnames``; Rosseel 2012, *J. Stat. Softw.* 48(2),
Table 1: ``<~`` "is formed by") makes the left side of ``<~`` a latent variable with no
indicators whose (residual) variance is fixed to 0, and each ``F <~ x`` row a coefficient of
the composite on ``x`` (the RAM matrix A[F, x], like a regression ``F ~ x`` without a
disturbance), so F = Σ w_k x_k exactly.  The components are predictors (``eqs.x``): observed
ones are exogenous covariates (``fixed.x``).  No weight is fixed automatically: the user fixes
one (``F <~ 1*x1 + x2 + x3``) to give F a scale.  The weights are identified through what F
predicts (its outcomes' covariances with the components).

What lavaan 0.6-14 does not identify, and is refused here with the line named (checked by
fitting each in lavaan: ``tests/fixtures/make_composite_fixtures.R`` records the cases):

* no fixed weight: all weights stay at their start 0 and the information matrix is singular;
* ``std.lv = TRUE``: lavaan turns the composite's zero variance into 1 (a latent variable with
  a disturbance, no longer a composite) and leaves the weights without a scale;
* a composite that is exogenous beside other exogenous latent variables or composites:
  lavaan adds a free covariance between the composite's zero-variance disturbance and them,
  which is not identified (two composites diverge); ``F ~~ 0*L`` keeps the model lavaan fits;
* a composite that predicts nothing: its weights enter no implied moment.

``group_equal`` with composites is refused too: with equal intercepts lavaan frees the
composite's mean in later groups (unidentified: it is Σ w_k E(x_k)), and no equality class of
``group.equal`` covers weights; labels hold weights equal across groups.

Not built (refused, never ignored): composites of latent variables (lavaan adds free
covariances between the composite and its own components, again unidentified), components
that are not exogenous observed variables (indicators, outcomes, or given a (co)variance of
their own: checked in lavaan, which does not converge), composites that also have reflective
indicators (``F =~ y``) or indicate a factor (``H =~ F``), composites regressed on
something or given an intercept (``F ~ z``, ``F ~ 1``), and ``<~`` under the ordinal (WLS family)
and latent-interaction (LMS/QML) estimators (refused in :func:`~.partable.variable_roles`).
"""

from __future__ import annotations

import numpy as np

from ..errors import IdentificationError, SpecError
from ..specification.statements import Statement


def _where(s: Statement) -> str:
    return f"line {s.line}: {s.source or s.lhs + ' ' + s.op + ' ' + s.rhs!r}"


def _first_lines(model: list[Statement]) -> dict[str, Statement]:
    """Each composite's first ``<~`` statement (the line an error names)."""
    first: dict[str, Statement] = {}
    for s in model:
        if s.op == "<~":
            first.setdefault(s.lhs, s)
    return first


def check_composite_model(model: list[Statement], roles, std_lv: bool,
                          group_equal: tuple[str, ...] = ()) -> None:
    """Refuse composite specifications that lavaan cannot identify or that are not built.

    ``model``: the model statements (no constraints); ``roles``: their
    :class:`~.partable.VariableRoles`.

    Raises:
        SpecError: ``std_lv`` or ``group_equal`` with a composite, a latent component or one
            that is not exogenous, a composite with reflective indicators, one that indicates
            a factor, is regressed on something or given an intercept, or predicts nothing.
    """
    if not roles.composites:
        return
    first = _first_lines(model)
    latent = set(roles.latent)
    for s in model:
        if s.op == "<~" and s.rhs in latent:
            raise SpecError(
                f"{_where(s)}: the component {s.rhs!r} of the composite {s.lhs!r} is a latent "
                "variable; composites of latent variables are not built for CB-SEM (lavaan "
                "0.6-14 adds free covariances between the composite and its own components, "
                "which are not identified): form the composite of observed variables, or use "
                "estimator='PLS'"
            )
        if s.op == "<~" and s.rhs not in roles.ov_x_all:
            raise SpecError(
                f"{_where(s)}: the component {s.rhs!r} of the composite {s.lhs!r} is not an "
                "exogenous observed variable (it is an indicator or an outcome, or the model "
                "gives it a variance, covariance or intercept of its own); such composites are "
                "not built (lavaan 0.6-14 leaves its covariances with the other components "
                "out of the model): form composites of exogenous observed variables only, and "
                "use fixed_x=False to model their (co)variances"
            )
        if s.op == "=~" and s.rhs in roles.composites:
            raise SpecError(
                f"{_where(s)}: the composite {s.rhs!r} is an indicator of {s.lhs!r}; a "
                "composite is formed by its components alone (its variance is fixed to 0), "
                "so it cannot also be measured by a factor: regress the factor on it "
                f"('{s.lhs} ~ {s.rhs}') or form it with '=~' as a first-order factor"
            )
        if s.op in ("~", "~1") and s.lhs in roles.composites:
            raise SpecError(
                f"{_where(s)}: the composite {s.lhs!r} is formed by its components alone; an "
                + ("intercept of its own" if s.op == "~1" else "regression on other variables")
                + " would make it something else: regress outcomes on the composite, or add "
                "the variable as a component"
            )
        if s.op == "=~" and s.lhs in roles.composites:
            raise SpecError(
                f"{_where(s)}: {s.lhs!r} is a composite ('<~', {_where(first[s.lhs])}) and "
                "has reflective indicators too; this MIMIC-type construct is not built: "
                "write the composite and a separate factor, the factor regressed on it"
            )
    for f, s in first.items():
        if group_equal:
            raise SpecError(
                f"{_where(s)}: group_equal={tuple(group_equal)!r} with the composite {f!r} is "
                "not built (lavaan 0.6-14 frees the composite's mean in later groups with "
                "equal intercepts, which its fixed components leave unidentified, and has no "
                "equality class for weights); fit the groups without group_equal, or hold "
                "weights equal with labels ('F <~ 1*x1 + c(w2, w2)*x2 + ...')"
            )
        if std_lv:
            raise SpecError(
                f"{_where(s)}: std_lv=True with the composite {f!r}: lavaan 0.6-14 then fixes "
                "its variance to 1 (a latent variable with a disturbance, no longer a "
                "composite) and leaves its weights without a scale; fit with std_lv=False and "
                f"one weight fixed ('{f} <~ 1*{s.rhs} + ...'): the std.lv column of the "
                "estimates holds the weights of the unit-variance composite"
            )
        used = any(t.op == "~" and f in t.rhs.split(":") for t in model)
        if not used:
            raise SpecError(
                f"{_where(s)}: the composite {f!r} predicts nothing, so its weights are not "
                f"identified; regress an outcome on it ('Y ~ {f}') or remove it"
            )


def check_composite_rows(rows: list[dict], model: list[Statement], roles) -> None:
    """Every composite has a fixed non-zero weight in every group and no free (co)variance of
    its disturbance (lavaan 0.6-14 fits neither case to an identified model).

    ``rows``: the parameter-table rows as :func:`~.partable.build_partable` builds them
    (``lhs, op, rhs, user, group, free, ustart``).

    Raises:
        IdentificationError: a composite without a fixed weight, or with a free covariance.
    """
    if not roles.composites:
        return
    first = _first_lines(model)
    comps = set(roles.composites)
    for group in sorted({r["group"] for r in rows}):
        for f, s in first.items():
            weights = [r for r in rows if r["group"] == group and r["op"] == "<~"
                       and r["lhs"] == f]
            if not any(not r["free"] and r["ustart"] is not None
                       and np.isfinite(r["ustart"]) and r["ustart"] != 0 for r in weights):
                raise IdentificationError(
                    f"{_where(s)}: the composite {f!r} has no scale"
                    + (f" in group {group}" if group > 1 else "")
                    + f": all its weights are free. Fix one weight ('{f} <~ 1*{s.rhs} + ...'),"
                    " as lavaan requires"
                )
    for r in rows:
        if r["op"] != "~~" or not ({r["lhs"], r["rhs"]} & comps):
            continue
        zero = not r["free"] and r["ustart"] is not None and r["ustart"] == 0
        if zero:
            continue
        f = r["lhs"] if r["lhs"] in comps else r["rhs"]
        other = r["rhs"] if f == r["lhs"] else r["lhs"]
        if r["user"]:
            raise IdentificationError(
                f"the composite {f!r} ({_where(first[f])}) is given a free or non-zero "
                f"'{r['lhs']} ~~ {r['rhs']}': a composite has no disturbance, so this "
                "(co)variance is not identified; remove the line (a composite's variance and "
                "covariances follow from its weights)"
            )
        raise IdentificationError(
            f"{_where(first[f])}: the composite {f!r} is exogenous beside {other!r}, and "
            f"lavaan 0.6-14 adds a free covariance '{f} ~~ {other}' between the composite's "
            "zero-variance disturbance and it, which is not identified; add the line "
            f"'{f} ~~ 0*{other}' (the model lavaan then fits), or make one of them depend on "
            "the other"
        )
