"""The invariance ladder of ordered items: the models of each level.

Wu & Estabrook (2016, "Identification of confirmatory factor analysis models of different
levels of invariance for ordered categorical outcomes", *Psychometrika* 81, 1014–1045) show
that the continuous ladder (loadings, then intercepts) does not carry over to ordered items:
the thresholds, the latent-response intercepts and scales are not separately identified, so
thresholds are held equal first, and each level frees what its constraints identify.
semTools' ``measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016")`` writes these
models; :func:`level_statements` writes the same ones (group 1 is the reference, "later"
groups are 2, 3, ...):

============  =====================================  ========================================
level         equal across groups                    free in the later groups
============  =====================================  ========================================
configural    nothing                                (latent variances 1, means 0, intercepts
                                                     0, scales/residual variances 1 everywhere)
thresholds    thresholds                             item intercepts; scaling factors (delta)
                                                     or residual variances (theta)
loadings      + loadings                             + latent variances
intercepts    + intercepts (0 in every group)        + latent means (intercepts fixed again)
residuals     + residual variances (theta only;      scales no longer free
              1 in every group)
============  =====================================  ========================================

Under the delta parameterization the residual variances are not parameters, so the
``residuals`` level is refused there, as semTools refuses it (fit with
``estimator_options={"parameterization": "theta"}``).  The statements fix and free; the
equalities are the level's ``group_equal`` kinds (``measEq.syntax`` writes them as shared
labels, which is the same model).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.ordinal.difference import scaled_shifted_difference
from ..errors import DataError, SpecError
from ..modelfit import fit_model
from ..specification.statements import Statement

#: The ordinal ladder: each level's ``group.equal`` (cumulative), semTools' order.
ORDINAL_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "thresholds": ("thresholds",),
    "loadings": ("thresholds", "loadings"),
    "intercepts": ("thresholds", "loadings", "intercepts"),
    "residuals": ("thresholds", "loadings", "intercepts", "residuals"),
}

#: Levels fitted by default: the residuals level needs the theta parameterization.
DEFAULT_LEVELS = {"delta": ("configural", "thresholds", "loadings", "intercepts"),
                  "theta": tuple(ORDINAL_LEVELS)}


def check_ordinal_model(spec, ordered) -> dict[str, tuple[str, ...]]:
    """The factors and their ordered items, refusing what the ladder does not build: other
    statements than loadings and factor covariances, higher-order factors, and items that
    are not declared ordered.

    Raises:
        SpecError: naming the statement or item.
    """
    ordered = set(ordered)
    latent = set(spec.latent_variables)
    factors: dict[str, list[str]] = {}
    for s in spec.statements:
        where = f"{s.source or s.lhs + ' ' + s.op + ' ' + s.rhs!r}"
        if s.op == "=~":
            if s.rhs in latent:
                raise SpecError(
                    f"{where}: the ordinal invariance ladder (Wu & Estabrook 2016) is built "
                    "for first-order factors of ordered items; test the second-order "
                    "structure on a model with equal first-order measurement instead")
            if s.rhs not in ordered:
                raise SpecError(
                    f"{where}: {s.rhs!r} is not in ordered=[...]; the ordinal invariance "
                    "ladder (Wu & Estabrook 2016) needs every item ordered (declare it, or "
                    "run the continuous ladder without ordered=)")
            if s.fixed or s.labels or s.free or s.starts:
                raise SpecError(
                    f"{where}: modifiers on loadings are set by the ladder (its levels hold "
                    "them equal or free them); remove the modifier")
            factors.setdefault(s.lhs, []).append(s.rhs)
        elif s.op == "~~" and s.lhs in latent and s.rhs in latent and s.lhs != s.rhs:
            continue
        else:
            raise SpecError(
                f"{where}: the ordinal invariance ladder (Wu & Estabrook 2016) takes "
                "measurement models (loadings and factor covariances) only; fit this "
                "statement's model with cs.fit(..., group_equal=[...])")
    return {f: tuple(v) for f, v in factors.items()}


def check_categories(data: pd.DataFrame, items, group: str) -> dict[str, int]:
    """The number of categories of each item; binary items are refused (Wu & Estabrook's
    identification of binary items differs and is not built), and so is an item that
    takes a single value in a group (no threshold to estimate there).

    Raises:
        DataError: naming the item and the group.
    """
    absent = [item for item in items if item not in data.columns]
    if absent:
        raise DataError(
            f"the ordered item(s) {', '.join(map(repr, absent))} are not columns of the data; "
            "check the spelling of the model's items")
    out = {}
    for item in items:
        col = pd.to_numeric(data[item], errors="coerce")
        levels = np.unique(col.dropna())
        for label, part in col.groupby(data[group], sort=False):
            seen = np.unique(part.dropna())
            if len(seen) < 2:
                raise DataError(
                    f"the ordered item {item!r} has a single observed category "
                    f"({', '.join(f'{v:g}' for v in seen) or 'none'}) in group {label!r} of "
                    f"{group!r}: its thresholds cannot be estimated there; merge the groups "
                    "or drop the item")
        if len(levels) == 2:
            raise DataError(
                f"the ordered item {item!r} is binary; the ordinal invariance ladder is "
                "built for items with three or more categories (Wu & Estabrook 2016 "
                "identify binary items differently); fit the binary models with "
                "cs.fit(..., group_equal=[...])")
        out[item] = len(levels)
    return out


def level_statements(
    factors: dict[str, tuple[str, ...]],
    ncat: dict[str, int],
    covariances: tuple[Statement, ...],
    kinds: tuple[str, ...],
    ngroups: int,
    parameterization: str,
) -> tuple[Statement, ...]:
    """The statements of one level (``kinds``: its cumulative ``group.equal``, to be fitted
    with ``group_equal=kinds`` and ``std_lv=True``), identified as
    ``measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016")`` does."""
    if "residuals" in kinds and parameterization != "theta":
        raise SpecError(
            "the residuals level of the ordinal ladder needs the theta parameterization "
            "(under delta the residual variances are not parameters; semTools refuses it "
            "too): pass estimator_options={'parameterization': 'theta'}")
    later = ngroups - 1

    def by_group(first: float, free_later: bool) -> tuple:
        return (first,) + ((None,) if free_later else (first,)) * later

    th_eq = "thresholds" in kinds
    out = []
    for f, items in factors.items():
        out.extend(Statement(f, "=~", x) for x in items)
    items = [x for f in factors for x in factors[f]]
    for x in dict.fromkeys(items):
        out.extend(Statement(x, "|", f"t{k}") for k in range(1, ncat[x]))
        out.append(Statement(x, "~1", "", fixed=by_group(
            0.0, th_eq and "intercepts" not in kinds)))
        free_scale = th_eq and "residuals" not in kinds
        if parameterization == "delta":
            out.append(Statement(x, "~*~", x, fixed=by_group(1.0, free_scale)))
        else:
            out.append(Statement(x, "~~", x, fixed=by_group(1.0, free_scale)))
    for f in factors:
        out.append(Statement(f, "~1", "", fixed=by_group(0.0, "intercepts" in kinds)))
        out.append(Statement(f, "~~", f, fixed=by_group(1.0, "loadings" in kinds)))
    return tuple(out) + tuple(covariances)


#: The estimators the ordinal ladder runs (their difference test is lavTestLRT's default).
LADDER_ESTIMATORS = ("WLSMV", "ULSMV")

#: Fit measures of each level, as the table shows them: CFI, TLI and RMSEA are the robust
#: ones where lavaan has them at every level, else the scaled ones (see :func:`fit_index_kind`).
INDEX_MEASURES = ("cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper")


def fit_ladder(spec, data, group: str, levels: tuple[str, ...], ordered, estimator: str,
               parameterization: str, fit_kwargs: dict) -> dict:
    """Fit each level of the ordinal ladder (level → fitted model).

    Raises:
        SpecError: a model, level or estimator the ladder does not build.
        DataError: binary items, or an item with one observed category in a group.
    """
    factors = check_ordinal_model(spec, ordered)
    items = tuple(dict.fromkeys(x for f in factors for x in factors[f]))
    ncat = check_categories(data, items, group)
    covariances = tuple(s for s in spec.statements if s.op == "~~")
    ngroups = int(pd.Series(data[group]).dropna().nunique())
    kinds = {lv: ORDINAL_LEVELS[lv] for lv in levels}
    statements = {lv: level_statements(factors, ncat, covariances, kinds[lv], ngroups,
                                       parameterization) for lv in levels}
    return {lv: fit_model(spec.replace(statements=statements[lv]), data, estimator=estimator,
                          ordered=items, group=group, group_equal=kinds[lv], std_lv=True,
                          **fit_kwargs)
            for lv in levels}


def fit_index_kind(fits: dict) -> str:
    """``"robust"`` when every level has lavaan's robust CFI and RMSEA (Savalei 2021), else
    ``"scaled"`` (from the scaled-shifted statistic) at every level, so that ΔCFI and ΔRMSEA
    never compare a robust index with a scaled one.  lavaan 0.6-14 has no robust indices once
    thresholds are held equal."""
    ok = all(np.isfinite(float(res.fit_measures.get(f"{m}.robust", np.nan)))
             for res in fits.values() for m in ("cfi", "rmsea"))
    return "robust" if ok else "scaled"


def differences(fits: dict) -> list[dict]:
    """The scaled-shifted difference test of each level against the one before it
    (lavaan's ``lavTestLRT()`` rows): ``delta_chisq, delta_df, p_delta``; the first level
    has none (NaN)."""
    out, prev = [], None
    for res in fits.values():
        if prev is None:
            out.append({"delta_chisq": np.nan, "delta_df": np.nan, "p_delta": np.nan})
        else:
            d = scaled_shifted_difference(res.estimation, prev.estimation)
            out.append({"delta_chisq": d.stat, "delta_df": float(d.df), "p_delta": d.pvalue})
        prev = res
    return out
