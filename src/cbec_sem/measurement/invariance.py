"""Measurement invariance across groups: the configural → metric → scalar → strict ladder.

Each level is one multi-group ML fit (:func:`cbec_sem.fit` with ``group_equal``), as
lavaan's ``cfa(..., group =, group.equal =)`` and semTools' ``measurementInvariance()`` build
it (Meredith 1993, *Psychometrika* 58, 525–543; Vandenberg & Lance 2000, *Organ. Res. Methods*
3, 4–70):

=============  ==========================================  ==================================
level          equal across groups                         what it licenses
=============  ==========================================  ==================================
configural     nothing (same pattern)                      the same constructs in each group
metric         loadings                                    comparing relations (paths, r)
scalar         loadings, intercepts (latent means free)    comparing latent means
strict         loadings, intercepts, residual variances    comparing observed sum scores
means          loadings, intercepts, latent means          equal latent means
=============  ==========================================  ==================================

Levels are cumulative: each holds every constraint of the levels before it in the ladder
(``("configural", "strict", "means")`` makes ``means`` include the residual variances).

Each level is compared with the one before it:

* the χ² difference test, as lavaan's ``lavTestLRT()`` does it for ML: Δχ² = χ²₁ − χ²₀ on
  Δdf = df₁ − df₀ degrees of freedom (a plain difference; both statistics are likelihood
  ratios against the same saturated model), and its RMSEA (``rmsea_d``, lavaan ≥ 0.6-13:
  √max(0, Δχ²/(N Δdf) − 1/N) · √G; Savalei, Brace & Fouladi 2023, *Psychol. Methods*);
* under a robust estimator (MLM, MLR) the scaled difference test that ``lavTestLRT()`` uses
  by default, Satorra & Bentler (2001) (:func:`scaled_difference`), and the robust CFI, TLI
  and RMSEA in the table and in ΔCFI/ΔRMSEA (lavaan's ``cfi.robust``, ``rmsea.robust``);
* ΔCFI ≥ −.01 (Cheung & Rensvold 2002, *Struct. Equ. Modeling* 9, 233–255) and
  ΔRMSEA ≤ .015 (Chen 2007, *Struct. Equ. Modeling* 14, 464–504), the change-in-fit rules
  reviewers expect because the χ² difference test rejects trivial differences in large
  samples.

Partial invariance (Byrne, Shavelson & Muthén 1989, *Psychol. Bull.* 105, 456–466) frees
named parameters from the constraints (lavaan's ``group.partial``).

Higher-order factors (the paper's SCI over VP, FO and IS): with the observed intercepts equal,
lavaan's ``group.equal = "intercepts"`` frees the means/intercepts of *every* latent variable in
the later groups, so a second-order factor's intercept and its first-order factors' intercepts
are not jointly identified (lavaan warns that the information matrix is singular, and counts
the redundant parameter in its df).  Here the intercept of a higher-order factor whose
indicators are all latent variables with free intercepts is held at 0 in every group at such
levels — the test of measured-variable intercepts of Chen, Sousa & West (2005, *Struct. Equ.
Modeling* 12, 471–492).  χ² is lavaan's; df is one larger per such factor (lavaan's counts the
redundant parameter).  The result's ``notes`` say when this happened.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special  # chdtrc: the χ² upper tail (scipy.stats.chi2.sf's formula)

from ..protocol import Block, ResultProtocol, Summary
from ..engine.estimate import prepare
from ..engine.fitmeasures import shown_measure
from ..engine.options import GROUP_EQUAL, FitOptions
from ..engine.partable import group_equal_kind
from ..survey.fit_checks import as_frame
from ..errors import CbecSemWarning, DataError, SpecError
from ..modelfit import fit_model as fit
from ..specification.model import as_model
from ..specification.statements import Statement
from .ordinal_invariance import (DEFAULT_LEVELS, INDEX_MEASURES, LADDER_ESTIMATORS,
                                 ORDINAL_LEVELS, differences, fit_index_kind, fit_ladder)

#: The ladder: each level's own constraints (``group_equal`` kinds), in ladder order.
LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
    "means": ("loadings", "intercepts", "means"),
}

#: Cheung & Rensvold (2002): invariance holds while CFI drops by no more than this.
DELTA_CFI = -0.01
#: Chen (2007): invariance holds while RMSEA rises by no more than this.
DELTA_RMSEA = 0.015
#: Significance level of the χ² difference test.
ALPHA = 0.05

FIT_COLUMNS = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
               "rmsea.ci.upper", "srmr", "aic", "bic", "npar"]

_RESERVED = ("group", "group_equal", "group_partial", "data", "model")


@dataclass(frozen=True, eq=False)
class InvarianceResult(ResultProtocol):
    """The invariance ladder of one model across the groups of one variable.

    Attributes:
        table: one row per level (index ``level``): ``converged``, the fit measures
            ``chisq, df, pvalue, cfi, tli, rmsea, rmsea.ci.lower, rmsea.ci.upper, srmr, aic,
            bic, npar``, the comparison with the previous level ``delta_chisq, delta_df,
            p_delta, rmsea_d, delta_cfi, delta_rmsea, delta_srmr`` and the verdicts
            ``holds_chisq`` (p_delta ≥ .05), ``holds_cfi`` (ΔCFI ≥ −.01), ``holds_rmsea``
            (ΔRMSEA ≤ .015); the first level has no comparison (NA).  Under MLM/MLR also
            ``chisq.scaled`` and ``chisq.scaling.factor``; ``delta_chisq`` is then the
            Satorra–Bentler (2001) scaled difference and cfi/tli/rmsea the robust indices.
        fits: level → :class:`~cbec_sem.results.FitResult`.
        group: the group variable.
        group_labels: its values, in data order (group 1, 2, ...).
        group_equal: level → the ``group_equal`` kinds fitted.
        partial: level → the ``group_partial`` parameters freed.
        notes: what the user should know about how the ladder was built.

    Examples:
        >>> inv = cs.invariance("FA =~ fa1 + fa2 + fa3 + fa4", cs.datasets.example_survey(), "channel",
        ...                    levels=("configural", "metric"))
        >>> isinstance(inv, cs.InvarianceResult), inv.levels
        (True, ('configural', 'metric'))
        >>> inv.to_frame()[["chisq", "df", "holds_cfi"]].round(3)
                    chisq   df  holds_cfi
        level
        configural  3.197  4.0       <NA>
        metric      5.580  7.0       True
    """

    table: pd.DataFrame
    fits: dict
    group: str
    group_labels: tuple
    group_equal: dict
    partial: dict
    notes: tuple[str, ...] = field(default=())

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(self.fits)

    def group_estimates(self, level: str, value: str = "est") -> pd.DataFrame:
        """Parameter estimates of one level, one column per group.

        Args:
            level: a fitted level, e.g. ``"metric"``.
            value: the ``res.params`` column to show: ``"est"`` (default), ``"se"``,
                ``"std.lv"``, ``"std.all"``, ``"pvalue"``, ...

        Returns:
            One row per parameter (``lhs, op, rhs``), one column per group label, and
            ``constrained``: True where the parameter is held equal across all groups.
        """
        if level not in self.fits:
            raise SpecError(
                f"level {level!r} was not fitted; the fitted levels are {list(self.fits)}"
            )
        res = self.fits[level]
        params = res.params
        if value not in params.columns or value in ("lhs", "op", "rhs", "group", "label"):
            raise SpecError(
                f"value={value!r} is not a parameter column; choose one of "
                f"{[c for c in params.columns if c not in ('lhs', 'op', 'rhs', 'group', 'label')]}"
            )
        params = params[params["group"] >= 1]
        frame = res.estimation.partable.frame
        key = [f"{a}{o}{b}" for a, o, b in zip(params["lhs"], params["op"], params["rhs"])]
        order = list(dict.fromkeys(key))
        wide = pd.DataFrame({"key": key, "group": params["group"].to_numpy(),
                             "value": params[value].to_numpy()})
        wide = wide.pivot(index="key", columns="group", values="value").reindex(order)
        wide.columns = [self.group_labels[g - 1] for g in wide.columns]
        first = params.drop_duplicates(subset=["lhs", "op", "rhs"])
        out = pd.DataFrame({"lhs": first["lhs"].to_numpy(), "op": first["op"].to_numpy(),
                            "rhs": first["rhs"].to_numpy()})
        for col in wide.columns:
            out[col] = wide[col].to_numpy()
        fk = [f"{a}{o}{b}" for a, o, b in zip(frame["lhs"], frame["op"], frame["rhs"])]
        shared: dict[str, set] = {}
        for k, free in zip(fk, frame["free"]):
            shared.setdefault(k, set()).add(int(free))
        ngroups = len(self.group_labels)
        counts = pd.Series(fk).value_counts()
        out["constrained"] = [
            len(shared.get(k, {0})) == 1 and 0 not in shared.get(k, {0})
            and counts.get(k, 0) == ngroups
            for k in order
        ]
        return out

    def to_frame(self) -> pd.DataFrame:
        """The ladder table (a copy)."""
        return self.table.copy()

    def __repr__(self) -> str:
        labels = ", ".join(map(str, self.group_labels))
        return (f"<InvarianceResult: {self.group} ({labels}), levels "
                f"{', '.join(map(str, self.table.index))}>")

    def __str__(self) -> str:
        return str(self.summary())

    def summary(self) -> Summary:
        """The ladder: one row per level with its test and the changes in fit."""
        cols = ["chisq", "chisq.scaled", "df", "cfi", "rmsea", "srmr", "delta_chisq", "delta_df", "p_delta",
                "delta_cfi", "delta_rmsea", "holds_chisq", "holds_cfi", "holds_rmsea"]
        table = self.table[[c for c in cols if c in self.table]].reset_index(names="level")
        labels = ", ".join(map(str, self.group_labels))
        return Summary(f"Measurement invariance across {self.group} ({labels})",
                       (Block("Levels", table),))


def _levels(levels, ladder: Mapping[str, tuple[str, ...]] = LEVELS) -> tuple[str, ...]:
    if isinstance(levels, str):
        levels = (levels,)
    levels = tuple(levels)
    if not levels:
        raise SpecError("levels is empty; give at least one of " + ", ".join(ladder))
    unknown = [lv for lv in levels if lv not in ladder]
    if unknown:
        which = "ordinal " if ladder is ORDINAL_LEVELS else ""
        raise SpecError(
            f"unknown {which}invariance level(s) {unknown}; choose from {list(ladder)}"
        )
    rank = [list(ladder).index(lv) for lv in levels]
    if rank != sorted(rank) or len(set(rank)) != len(rank):
        raise SpecError(
            f"levels {list(levels)} must be distinct and in ladder order "
            f"({' → '.join(ladder)}): each level adds constraints to the one before"
        )
    return levels


def _group_equal(levels: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    out, kinds = {}, set()
    for lv in levels:
        kinds |= set(LEVELS[lv])
        out[lv] = tuple(k for k in GROUP_EQUAL if k in kinds)
    return out


def _partial(partial, levels: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    if partial is None:
        return {lv: () for lv in levels}
    if isinstance(partial, str):
        partial = (partial,)
    if isinstance(partial, Mapping):
        unknown = [k for k in partial if k not in levels]
        if unknown:
            raise SpecError(
                f"partial names level(s) {unknown} that are not fitted; the levels are "
                f"{list(levels)}"
            )
        out, acc = {}, []
        for lv in levels:
            extra = partial.get(lv, ())
            acc += [extra] if isinstance(extra, str) else list(extra)
            out[lv] = tuple(dict.fromkeys(acc))
        return out
    if isinstance(partial, Sequence):
        items = tuple(dict.fromkeys(partial))
        return {lv: items for lv in levels}
    raise SpecError(
        "partial must be a list of parameters (e.g. ['visual =~ x2', 'x3 ~1']) or a mapping "
        f"level → list, not {type(partial).__name__}"
    )


def _higher_order_means(spec) -> tuple[str, ...]:
    """Higher-order factors whose intercept is redundant once observed intercepts are equal:
    every indicator is a latent variable whose intercept the model leaves to the engine (so
    it is free in the later groups), and the factor has no intercept statement of its own."""
    latent = set(spec.latent_variables)
    own_mean = {s.lhs for s in spec.statements if s.op == "~1"}
    out = []
    for factor, items in spec.indicators.items():
        if (items and all(i in latent and i not in own_mean for i in items)
                and factor not in own_mean):
            out.append(factor)
    return tuple(out)


def _check_input(spec, data, group, options: FitOptions, partial: dict, group_equal: dict):
    """Validate at the boundary; return the configural parameter table and sample stats."""
    frame = as_frame(data)
    if group not in frame.columns:
        raise DataError(
            f"the group variable {group!r} is not a column of the data; columns are "
            f"{list(frame.columns)[:20]}"
        )
    gcol = frame[group]
    # Rows without a group value are left out of every fit, with a warning from each (as
    # lavaan's cfa(group = ...) does).
    labels = pd.unique(gcol.dropna()).tolist()  # Python scalars: messages say 1, not np.int64(1)
    if len(labels) < 2:
        raise DataError(
            f"the group variable {group!r} has "
            + (f"a single value ({labels[0]!r})" if len(labels) else "no value (all missing)")
            + "; invariance "
            "compares at least two groups"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # listwise-deletion notes come again from each fit
        partable, stats = prepare(spec.statements, frame, options, group)
    pf = partable.frame
    for g, (label, n) in enumerate(zip(stats.group_labels, stats.nobs), start=1):
        npar_g = int(np.unique(pf.loc[(pf["group"] == g) & (pf["free"] > 0), "free"]).size)
        if n < npar_g:
            raise DataError(
                f"group {label!r} of {group!r} has {n} complete observation(s) but the "
                f"configural model has {npar_g} free parameters per group; invariance needs "
                "at least as many observations as parameters in every group: merge small "
                "groups or simplify the model"
            )
    names = {f"{a}{o}{b}": (a, o, b) for a, o, b in zip(pf["lhs"], pf["op"], pf["rhs"])}
    every = dict.fromkeys(p for ps in partial.values() for p in ps)
    unknown = [p for p in every if not isinstance(p, str) or p.replace(" ", "") not in names]
    if unknown:
        raise SpecError(
            f"partial names parameter(s) the model does not have: "
            f"{', '.join(map(repr, unknown))}; write them as in the parameter table, e.g. "
            "'visual =~ x2' (a loading) or 'x3 ~1' (an intercept)"
        )
    latent = set(partable.roles.latent)
    idle = []
    for p in every:
        lhs, op, rhs = names[p.replace(" ", "")]
        kind = group_equal_kind(op, lhs, rhs, latent)
        if not any(kind in group_equal[lv] for lv, ps in partial.items() if p in ps):
            idle.append(f"{p!r} ({kind})")
    return partable, stats, idle


def scaled_difference(chisq1: float, df1: float, c1: float, chisq0: float, df0: float,
                      c0: float) -> float:
    """The Satorra–Bentler (2001, *Psychometrika* 66, 507–514, eq. 10) scaled χ² difference
    of a restricted model 1 against a less restricted model 0, from their standard statistics
    T and scaling factors c: T_d = (T₁ − T₀) / c_d with c_d = (df₁ c₁ − df₀ c₀)/(df₁ − df₀).
    lavaan's ``lavTestLRT()`` default for MLM and MLR (``method = "satorra.bentler.2001"``).
    """
    cd = (df1 * c1 - df0 * c0) / (df1 - df0)
    return (chisq1 - chisq0) / cd


def _table(fits: dict, ntotal: float, ngroups: int) -> pd.DataFrame:
    rows = []
    prev = None
    for level, res in fits.items():
        fm = res.fit_measures
        row = {"level": level, "converged": bool(res.converged)}
        # under a robust estimator the robust CFI, TLI and RMSEA (ΔCFI, ΔRMSEA on them)
        row.update({c: float(fm.get(shown_measure(fm, c)[0] if c not in ("chisq", "df",
                   "pvalue") else c, np.nan)) for c in FIT_COLUMNS})
        row["chisq.scaled"] = float(fm.get("chisq.scaled", np.nan))
        row["chisq.scaling.factor"] = float(fm.get("chisq.scaling.factor", np.nan))
        if prev is None:
            row.update(delta_chisq=np.nan, delta_df=np.nan, p_delta=np.nan, rmsea_d=np.nan,
                       delta_cfi=np.nan, delta_rmsea=np.nan, delta_srmr=np.nan,
                       holds_chisq=pd.NA, holds_cfi=pd.NA, holds_rmsea=pd.NA)
        else:
            dchi = row["chisq"] - prev["chisq"]
            ddf = row["df"] - prev["df"]
            if np.isfinite(row["chisq.scaling.factor"]) and ddf > 0:
                dchi = scaled_difference(row["chisq"], row["df"], row["chisq.scaling.factor"],
                                         prev["chisq"], prev["df"],
                                         prev["chisq.scaling.factor"])
            if ddf > 0 and np.isfinite(dchi):
                p = float(special.chdtrc(ddf, dchi))
                rd = float(np.sqrt(max(dchi / ntotal / ddf - 1.0 / ntotal, 0.0)) *
                           np.sqrt(ngroups))
            else:
                p, rd = np.nan, np.nan
            dcfi = row["cfi"] - prev["cfi"]
            drmsea = row["rmsea"] - prev["rmsea"]
            row.update(
                delta_chisq=dchi, delta_df=ddf, p_delta=p, rmsea_d=rd, delta_cfi=dcfi,
                delta_rmsea=drmsea, delta_srmr=row["srmr"] - prev["srmr"],
                holds_chisq=bool(p >= ALPHA) if np.isfinite(p) else pd.NA,
                holds_cfi=bool(dcfi >= DELTA_CFI) if np.isfinite(dcfi) else pd.NA,
                holds_rmsea=bool(drmsea <= DELTA_RMSEA) if np.isfinite(drmsea) else pd.NA,
            )
        rows.append(row)
        prev = row
    table = pd.DataFrame(rows).set_index("level")
    for col in ("holds_chisq", "holds_cfi", "holds_rmsea"):
        table[col] = table[col].astype("boolean")
    table["npar"] = table["npar"].astype(float)
    return table


def _ordinal_table(fits: dict) -> tuple[pd.DataFrame, str]:
    """The ordinal ladder's table: the scaled-shifted test of each level, CFI, TLI and
    RMSEA of one kind at every level (:func:`.ordinal_invariance.fit_index_kind`), and the
    scaled-shifted difference tests with the changes in fit."""
    kind = fit_index_kind(fits)
    rows = []
    for (level, res), diff in zip(fits.items(), differences(fits)):
        fm = res.fit_measures
        row = {"level": level, "converged": bool(res.converged)}
        for c in ("chisq", "df", "chisq.scaled", "pvalue.scaled", "chisq.scaling.factor",
                  "srmr", "npar"):
            row[c] = float(fm.get(c, np.nan))
        row.update({m: float(fm.get(f"{m}.{kind}", np.nan)) for m in INDEX_MEASURES})
        row.update(diff)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("level")
    for c in ("cfi", "rmsea", "srmr"):
        table[f"delta_{c}"] = table[c].diff()
    table["holds_chisq"] = [pd.NA if not np.isfinite(p) else bool(p >= ALPHA)
                            for p in table["p_delta"]]
    table["holds_cfi"] = [pd.NA if not np.isfinite(d) else bool(d >= DELTA_CFI)
                          for d in table["delta_cfi"]]
    table["holds_rmsea"] = [pd.NA if not np.isfinite(d) else bool(d <= DELTA_RMSEA)
                            for d in table["delta_rmsea"]]
    for col in ("holds_chisq", "holds_cfi", "holds_rmsea"):
        table[col] = table[col].astype("boolean")
    return table, kind


def _ordinal_invariance(spec, data, group: str, levels, partial, estimator: str,
                        fit_kwargs: dict) -> InvarianceResult:
    """The ordinal ladder (Wu & Estabrook 2016; semTools' order and identification)."""
    if partial is not None:
        raise SpecError(
            "partial= with ordered items is not available: the ordinal ladder fits the full "
            "levels of Wu & Estabrook (2016); drop partial=")
    if fit_kwargs.get("std_lv") is False:
        raise SpecError(
            "std_lv=False with ordered items: the ordinal ladder is identified as semTools' "
            "measEq.syntax(ID.fac='std.lv') (latent variances 1 and means 0 in the first "
            "group); its marker-variable version leaves the latent means unidentified, so "
            "it is not offered; drop std_lv")
    est = "WLSMV" if estimator == "ML" else estimator
    if est not in LADDER_ESTIMATORS:
        raise SpecError(
            f"estimator={estimator!r} for the ordinal ladder: use 'WLSMV' (lavaan's default "
            "for ordered items) or 'ULSMV', whose scaled-shifted difference tests "
            "lavTestLRT uses")
    options = dict(fit_kwargs.get("estimator_options") or {})
    parameterization = options.get("parameterization", "delta")
    if levels is None:
        levels = DEFAULT_LEVELS.get(parameterization, DEFAULT_LEVELS["delta"])
    levels = _levels(levels, ORDINAL_LEVELS)
    frame = as_frame(data)
    if group not in frame.columns:
        raise DataError(
            f"the group variable {group!r} is not a column of the data; columns are "
            f"{list(frame.columns)[:20]}")
    if frame[group].dropna().nunique() < 2:
        raise DataError(
            f"the group variable {group!r} has fewer than two values; invariance compares at "
            "least two groups")
    rest = {k: v for k, v in fit_kwargs.items() if k not in ("ordered", "std_lv")}
    fits = fit_ladder(spec, frame, group, levels, fit_kwargs["ordered"], est,
                      parameterization, rest)
    table, kind = _ordinal_table(fits)
    notes = [
        f"ordered items ({est}, {parameterization} parameterization): levels identified as "
        "Wu & Estabrook (2016) and semTools' measEq.syntax(ID.fac='std.lv', "
        "ID.cat='Wu.Estabrook.2016'); delta_chisq is lavTestLRT's scaled-shifted difference "
        "(Satorra 2000) of the standard statistics; chisq.scaled is each level's "
        "scaled-shifted test",
        f"cfi, tli and rmsea are the {kind} indices at every level"
        + (" (lavaan 0.6-14 reports no robust CFI/RMSEA once thresholds are held equal)"
           if kind == "scaled" else ""),
    ]
    bad = [lv for lv, res in fits.items() if not res.converged]
    if bad:
        notes.append(
            f"level(s) {', '.join(bad)} did not converge or are inadmissible; their rows are "
            "not trustworthy (see fits[level].converged)")
    first = next(iter(fits.values()))
    return InvarianceResult(
        table=table, fits=fits, group=group,
        group_labels=tuple(first.estimation.stats.group_labels),
        group_equal={lv: ORDINAL_LEVELS[lv] for lv in levels},
        partial={lv: () for lv in levels}, notes=tuple(notes),
    )


def invariance(
    model,
    data,
    group: str,
    *,
    levels: Sequence[str] | None = None,
    partial: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    estimator: str = "ML",
    **fit_kwargs,
) -> InvarianceResult:
    """Fit the measurement-invariance ladder of ``model`` across the groups of ``group``.

    Args:
        model: a :class:`~cbec_sem.ModelSpec` or lavaan syntax.
        data: a DataFrame or a :class:`~cbec_sem.survey.Survey`.
        group: the column whose values define the groups.
        levels: the levels to fit, in ladder order (see :data:`LEVELS`); each holds the
            constraints of the levels before it.  Default: configural, metric, scalar,
            strict; with ordered items the ordinal ladder's configural, thresholds,
            loadings, intercepts (and residuals under the theta parameterization; see
            :data:`.ordinal_invariance.ORDINAL_LEVELS`).
        partial: parameters freed from the constraints (lavaan's ``group.partial``), written
            as in the parameter table (``"visual =~ x2"``, ``"x3 ~1"``).  A list applies at
            every level (a parameter is freed wherever its kind is constrained); a mapping
            ``{"scalar": [...]}`` frees the parameters from that level on, leaving the
            earlier levels fully constrained (the usual partial-scalar search).
        estimator: ``"ML"``, ``"MLM"``, ``"MLR"``; with ordered items ``"WLSMV"`` (which
            ``"ML"`` then means, as in :func:`cbec_sem.fit`) or ``"ULSMV"``.
        **fit_kwargs: passed to :func:`cbec_sem.fit` (``missing``, ``meanstructure``,
            ``fixed_x``, ``information``, ``max_iter``, ...).  ``ordered=[...]`` (or
            ``True``) runs the ordinal ladder of Wu & Estabrook (2016) as semTools builds it
            (:mod:`.ordinal_invariance`): WLSMV fits identified as
            ``measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016")``, compared by
            lavaan's ``lavTestLRT()`` scaled-shifted difference test (Satorra 2000);
            ``estimator_options={"parameterization": "theta"}`` adds the residuals level.

    Returns:
        An :class:`InvarianceResult`: ``.table`` (one row per level), ``.fits`` and
        ``.group_estimates(level)``.

    Raises:
        SpecError: unknown or out-of-order levels; a ``partial`` parameter the model does not
            have; ``group``/``group_equal``/``group_partial`` in ``fit_kwargs``; with
            ordered items: ``partial``, ``std_lv=False``, an estimator other than WLSMV or
            ULSMV,
            a model other than first-order factors of ordered items, the residuals level
            under the delta parameterization.
        DataError: the group column is absent, has missing values or a single value, or a
            group has fewer complete observations than the model has free parameters per
            group; with ordered items, a binary item or an item with a single observed
            category in a group (named with the group).

    With ``std_lv=True`` the latent variances are fixed to 1 in the first group and free in
    the others once loadings are equal (lavaan >= 0.6-4); the fit measures do not depend on
    how the latent variables are scaled.

    Examples:
        >>> inv = cs.invariance("TA =~ ta1 + ta2 + ta3 + ta4", cs.datasets.example_survey(), "channel")
        >>> inv.table[["chisq", "df", "cfi", "rmsea"]].round(3)
                     chisq    df    cfi  rmsea
        level
        configural   7.505   4.0  0.994  0.066
        metric      17.434   7.0  0.981  0.086
        scalar      19.246  10.0  0.983  0.068
        strict      25.857  14.0  0.979  0.065

        The ordinal ladder of the same items, as ordered categories:

        >>> inv = cs.invariance("TA =~ ta1 + ta2 + ta3 + ta4", cs.datasets.example_survey(),
        ...                     "channel", ordered=True)
        >>> inv.table[["chisq.scaled", "df", "cfi", "delta_chisq", "delta_df"]].round(3)
                    chisq.scaled    df    cfi  delta_chisq  delta_df
        level
        configural         6.808   4.0  0.998          NaN       NaN
        thresholds        23.033  20.0  0.998       16.581      16.0
        loadings          37.689  23.0  0.990       10.797       3.0
        intercepts        37.627  26.0  0.992        1.968       3.0
    """
    spec = as_model(model)
    if not isinstance(group, str) or not group:
        raise SpecError(
            f"group must name the column that defines the groups (e.g. group='country'), "
            f"not {group!r}"
        )
    clash = [k for k in fit_kwargs if k in _RESERVED]
    if clash:
        raise SpecError(
            f"{', '.join(clash)} cannot be passed to invariance(): the ladder sets the group "
            "constraints itself; choose them with levels= and partial="
        )
    if fit_kwargs.get("ordered"):
        ordered = fit_kwargs["ordered"]
        if ordered is True:
            ordered = spec.observed_variables
        elif isinstance(ordered, str):
            ordered = (ordered,)
        return _ordinal_invariance(spec, data, group, levels, partial, estimator,
                                   {**fit_kwargs, "ordered": tuple(ordered)})
    levels = _levels(("configural", "metric", "scalar", "strict") if levels is None
                     else levels)
    group_equal = _group_equal(levels)
    partial_by_level = _partial(partial, levels)
    option_keys = ("information", "meanstructure", "fixed_x", "missing", "level", "max_iter",
                   "std_lv")
    options = FitOptions(
        estimator=estimator,
        **{k: v for k, v in fit_kwargs.items() if k in option_keys},
    )
    _, stats, idle = _check_input(spec, data, group, options, partial_by_level, group_equal)
    notes = []
    if idle:
        msg = (
            f"partial parameter(s) {', '.join(idle)} are not constrained at any fitted "
            "level, so freeing them changes nothing"
        )
        warnings.warn(msg, CbecSemWarning, stacklevel=2)
        notes.append(msg)
    higher = _higher_order_means(spec)
    fixed_at = [lv for lv in levels
                if "intercepts" in group_equal[lv] and "means" not in group_equal[lv]]
    if higher and fixed_at:
        notes.append(
            f"the intercept of the higher-order factor(s) {', '.join(higher)} is held at 0 in "
            f"every group at level(s) {', '.join(fixed_at)}: with equal observed intercepts "
            "and free first-order factor intercepts it is not identified (Chen, Sousa & West "
            "2005); lavaan leaves it free, warns, and reports one df less per factor"
        )
    fits = {}
    for level in levels:
        level_spec = spec
        if higher and level in fixed_at:
            extra = tuple(Statement(f, "~1", "", fixed=(0.0,)) for f in higher)
            level_spec = spec.replace(statements=spec.statements + extra)
        fits[level] = fit(
            level_spec, data, estimator=estimator, group=group,
            group_equal=group_equal[level], group_partial=partial_by_level[level],
            **fit_kwargs,
        )
    bad = [lv for lv, res in fits.items() if not res.converged]
    if bad:
        notes.append(
            f"level(s) {', '.join(bad)} did not converge or are inadmissible; their rows are "
            "not trustworthy (see fits[level].converged)"
        )
    table = _table(fits, float(stats.ntotal), stats.ngroups)
    if table["chisq.scaling.factor"].notna().any():
        notes.append(
            f"robust estimator ({estimator}): delta_chisq is the Satorra-Bentler (2001) scaled "
            "difference of the standard statistics (lavaan's lavTestLRT() default), chisq the "
            "standard statistic of each level (chisq.scaled beside it); cfi, tli and rmsea "
            "are the robust indices, and delta_cfi and delta_rmsea compare them")
    else:
        table = table.drop(columns=["chisq.scaled", "chisq.scaling.factor"])
    return InvarianceResult(
        table=table, fits=fits, group=group, group_labels=tuple(stats.group_labels),
        group_equal=group_equal, partial=partial_by_level, notes=tuple(notes),
    )
