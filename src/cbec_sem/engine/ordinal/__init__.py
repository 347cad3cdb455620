"""Ordered (Likert) items: polychoric correlations and the WLS family of estimators.

lavaan's three-stage approach for ordered data (Muthén 1984), module by module:

1. :mod:`.thresholds` — validate and code the answers; thresholds τ = Φ⁻¹(cumulative
   proportions), per group;
2. :mod:`.polychoric` — polychoric correlations, pair by pair ML given the thresholds
   (Olsson 1979), all pairs at once, with the bivariate normal distribution function of
   :mod:`.bvn`;
3. :mod:`.acov` — their asymptotic covariance matrix Γ from the casewise scores of both steps
   (lavaan's ``NACOV``);
4. :mod:`.wls` — the model fitted to (τ, ρ) by DWLS (weights diag(Γ)⁻¹) or ULS in the delta
   parameterization;
5. :mod:`.scaled` — robust (sandwich) standard errors, the scaled-and-shifted χ² and the fit
   measures;
6. :mod:`.mixed` — continuous variables among the ordered ones (means, variances, Pearson and
   polyserial correlations and their NACOV, lavaan's ``muthen1984``);
7. :mod:`.conditional`, :mod:`.conditional_wls` — observed exogenous covariates (lavaan's
   ``conditional.x``): probit (and linear) regressions on the covariates, residual
   correlations given them and their NACOV; the model's moments given the covariates.

Estimators, as lavaan defines them: ``"WLSMV"`` = DWLS + robust SEs + scaled-shifted test;
``"ULSMV"`` = ULS + the same; ``"DWLS"`` and ``"ULS"`` = standard SEs and test.  ``ordered``
with the default ``estimator="ML"`` means WLSMV, as lavaan's default for ordered data.

Public: :func:`polychoric` (lavaan's ``lavCor(ordered = ...)``), :func:`ordinal_statistics`,
and :func:`estimate_ordinal`, the engine's entry point for ``cs.fit(..., ordered=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ...errors import DataError, DataWarning, IdentificationError, SpecError
from ...specification.statements import Statement
from ...errors import warn
from ..constraints import ExpressionSpace, equality_reparametrization
from ..estimate import Estimation, check_latent_names
from ..work_limits import check_ordinal_work
from ..estimates_table import parameter_estimates, row_standard_errors, theta_from_rows
from ..inference import scale_free_information_ratio
from ..optimizer import fisher_scoring
from ..options import FitOptions
from ..partable import build_partable, variable_roles
from ..ram import RamModel
from ..samplestats import SampleStats
from ...survey.fit_checks import as_frame
from ..start import fixed_x_values, start_values
from ..threads import single_threaded_blas
from .acov import nacov
from .polychoric import (
    bounds,
    fit_polychorics,
    pair_index,
    pair_tables,
    warn_near_one,
)
from .scaled import covariance, fit_measures, unit_information
from .thresholds import (
    MAX_CATEGORIES,
    OrdinalData,
    in_group,
    item_thresholds,
    ordinal_data,
    threshold_names,
)
from .mixed import mixed_data, mixed_group_statistics
from .conditional import check_conditional, conditional_statistics
from .conditional_wls import ConditionalDWLSFunction, total_scales
from .wls import DWLSFunction, GroupStatistics, diagonal_weights

__all__ = [
    "polychoric",
    "ordinal_statistics",
    "estimate_ordinal",
    "OrdinalStatistics",
    "MAX_CATEGORIES",
]

#: estimator → (weights, robust standard errors and scaled-shifted test)
ESTIMATORS = {"WLSMV": ("DWLS", True), "ULSMV": ("ULS", True), "DWLS": ("DWLS", False),
              "ULS": ("ULS", False)}
#: lavaan's parameterizations of ordered items (``estimator_options={"parameterization": ...}``)
PARAMETERIZATIONS = ("delta", "theta")


@dataclass(frozen=True)
class OrdinalStatistics:
    """Thresholds, polychoric correlations and their asymptotic covariance, per group.

    Attributes:
        data: the coded answers (:class:`.thresholds.OrdinalData`).
        groups: per group, a :class:`.wls.GroupStatistics` (``th``, ``cor``, ``gamma``...).
        converged: per group, whether every pair's correlation converged.
    """

    data: OrdinalData
    groups: tuple[GroupStatistics, ...]
    converged: tuple[np.ndarray, ...]
    x_names: tuple[str, ...] = ()  # the covariates conditioned on (lavaan's conditional.x)

    @property
    def names(self) -> tuple[str, ...]:
        return self.data.names

    def correlation(self, g: int = 0) -> pd.DataFrame:
        return pd.DataFrame(self.groups[g].cor, index=self.names, columns=self.names)

    def thresholds(self, g: int = 0) -> pd.Series:
        return pd.Series(np.concatenate(self.groups[g].th),
                         index=threshold_names(self.names, self.data.ncat), name="threshold")

    def gamma(self, g: int = 0) -> pd.DataFrame:
        """lavaan's NACOV (``lavInspect(fit, "gamma")``), labelled."""
        st = self.groups[g]
        names = [f"{self.names[v]}|t{k}" if k else f"{self.names[v]}~1"
                 for v, k in zip(st.th_var, st.th_num)]
        names += [f"{y}~{x}" for x in self.x_names for y in self.names]
        names += [f"{self.names[v]}~~{self.names[v]}" for v in st.var_idx]
        names += [f"{self.names[j]}~~{self.names[i]}" for i, j in zip(st.pair_i, st.pair_j)]
        return pd.DataFrame(st.gamma, index=names, columns=names)


def _group_statistics(codes: np.ndarray, ncat: np.ndarray, names, weights: str,
                      acov: bool, where: str) -> tuple[GroupStatistics, np.ndarray]:
    p = codes.shape[1]
    kmax = int(ncat.max())
    th = item_thresholds(codes, ncat)
    I, J = pair_index(p)
    tables = pair_tables(codes, kmax, I, J)
    empty = np.flatnonzero(tables.sum(axis=(1, 2)) == 0)
    if empty.size:
        a, b = names[I[empty[0]]], names[J[empty[0]]]
        raise DataError(
            f"no row{where} answers both {a!r} and {b!r}, so their polychoric correlation "
            "cannot be estimated (missing='pairwise'); drop one of the items"
        )
    bnds = bounds(th, kmax)
    rho, converged = fit_polychorics(tables, bnds[I], bnds[J], ncat[I], ncat[J])
    for q in np.flatnonzero(~converged):
        warn(f"the polychoric correlation of {names[I[q]]!r} and {names[J[q]]!r}{where} did "
             "not converge", DataWarning)
    warn_near_one(rho, names, I, J, where)
    cor = np.eye(p)
    cor[I, J] = rho
    cor[J, I] = rho
    obs = np.concatenate(th + [rho])
    # without Γ (cs.polychoric) a read-only NaN view: 132 items' k × k array of NaN was
    # 670 MB and 0.65 s of page faults
    gamma = nacov(codes, th, rho, tables, bnds, I, J) if acov else np.broadcast_to(
        np.nan, (len(obs), len(obs)))
    weight = diagonal_weights(gamma, weights, acov, where)
    th_var = np.concatenate([np.full(len(t), k) for k, t in enumerate(th)]).astype(int)
    th_num = np.concatenate([np.arange(1, len(t) + 1) for t in th]).astype(int)
    return GroupStatistics(
        nobs=codes.shape[0], obs=obs, weight=weight, gamma=gamma, th_var=th_var,
        th_num=th_num, pair_i=I, pair_j=J, cor=cor, th=tuple(th),
    ), converged


def _check_positive_definite(cor: np.ndarray, names, where: str, smooth: bool):
    eig, vec = np.linalg.eigh(cor)
    if eig[0] > 1e-8:
        return cor
    involved = [names[k] for k in np.argsort(-np.abs(vec[:, 0]))[:4] if abs(vec[k, 0]) > 0.1]
    if smooth:
        fixed = (vec * np.maximum(eig, 1e-4)) @ vec.T
        d = np.sqrt(np.diag(fixed))
        fixed = fixed / np.outer(d, d)
        warn(f"the polychoric correlation matrix{where} is not positive definite (smallest "
             f"eigenvalue {eig[0]:.3g}; items involved: {', '.join(involved)}); it was "
             "smoothed (eigenvalues raised to 1e-4, rescaled to a unit diagonal) as asked",
             DataWarning)
        return fixed
    warn(f"the polychoric correlation matrix{where} is not positive definite (smallest "
         f"eigenvalue {eig[0]:.3g}; items involved: {', '.join(involved)}): a sparse table or "
         "pairwise-missing answers; DWLS estimation does not need it positive definite, but "
         "a result built on it (factor scores, ML on it) does; pass smooth=True to smooth it",
         DataWarning)
    return cor


def ordinal_statistics(
    data,
    items,
    *,
    group: str | None = None,
    missing: str = "listwise",
    estimator: str = "DWLS",
    acov: bool = True,
    announce: bool = True,
) -> OrdinalStatistics:
    """Thresholds, polychoric correlations and (with ``acov``) their NACOV, per group."""
    with single_threaded_blas():
        od = ordinal_data(data, items, group=group, missing=missing, announce=announce)
        ncat = od.ncat
        groups, conv = [], []
        for label, codes in zip(od.group_labels, od.codes):
            where = in_group(label, group is not None)
            st, c = _group_statistics(codes, ncat, od.names, estimator, acov, where)
            groups.append(st)
            conv.append(c)
    return OrdinalStatistics(data=od, groups=tuple(groups), converged=tuple(conv))


def mixed_statistics(
    data,
    names,
    ordered,
    *,
    group: str | None = None,
    estimator: str = "DWLS",
    acov: bool = True,
    announce: bool = True,
) -> OrdinalStatistics:
    """Statistics of ordered and continuous variables together (listwise), per group: the
    ordered items' thresholds, the continuous ones' means and variances, the polychoric,
    polyserial and Pearson correlations as covariances, and their NACOV (:mod:`.mixed`)."""
    with single_threaded_blas():
        od = mixed_data(data, names, ordered, group=group, announce=announce)
        is_ordered = od.ncat > 0
        groups, conv = [], []
        for label, x in zip(od.group_labels, od.codes):
            where = in_group(label, group is not None)
            st, c = mixed_group_statistics(x, is_ordered, od.ncat, od.names, estimator, acov,
                                           where)
            groups.append(st)
            conv.append(c)
    return OrdinalStatistics(data=od, groups=tuple(groups), converged=tuple(conv))


def polychoric(
    data,
    items=None,
    *,
    group: str | None = None,
    missing: str = "listwise",
    smooth: bool = False,
) -> pd.DataFrame | dict:
    """The polychoric correlation matrix of ordered items (lavaan's
    ``lavCor(data[items], ordered = items)``).

    Args:
        data: a DataFrame (or Survey) with the items' answers (any numbers; categories are
            the distinct values in increasing order).
        items: the columns (default: every column).
        group: a column defining groups: the result is then a dict ``label -> DataFrame``.
        missing: ``"listwise"`` (lavaan's default: rows with any missing answer are dropped)
            or ``"pairwise"`` (each correlation from the rows that answer both items).
        smooth: if the matrix is not positive definite, smooth it (eigenvalues raised to
            1e-4, rescaled to a unit diagonal); by default it is returned as estimated, with a
            warning.

    Raises:
        DataError: an item with a single category or more than 10, a category missing from a
            group, missing or non-numeric columns.

    Examples:
        >>> cs.polychoric(cs.datasets.example_survey(), ["ta1", "ta2", "ta3"]).round(3)
               ta1    ta2    ta3
        ta1  1.000  0.649  0.629
        ta2  0.649  1.000  0.540
        ta3  0.629  0.540  1.000
    """
    frame = as_frame(data)
    if items is None:
        items = [c for c in frame.columns if c != group]
    stats = ordinal_statistics(frame, items, group=group, missing=missing, acov=False)
    out = {}
    for label, st in zip(stats.data.group_labels, stats.groups):
        where = in_group(label, group is not None)
        cor = _check_positive_definite(st.cor, stats.names, where, smooth)
        out[label] = pd.DataFrame(cor, index=list(stats.names), columns=list(stats.names))
    return out if group is not None else out[None]


# --------------------------------------------------------------------------------- fitting


def _resolve_estimator(options: FitOptions) -> tuple[str, bool]:
    est = options.estimator
    if est in ("MLM", "MLR"):
        raise SpecError(
            f"estimator={est!r} does not take ordered items; use estimator='WLSMV' (lavaan's "
            "default for ordered data) or fit the items as continuous"
        )
    if est == "ML":
        est = "WLSMV"  # lavaan: the default estimator for ordered data
    if not options.ordered:
        raise SpecError(
            f"estimator={options.estimator!r} is for ordered items in this release: pass "
            "ordered=[...] (or ordered=True), or use estimator='ML' for continuous items"
        )
    return est, ESTIMATORS[est][1]


def _check_model(statements, options: FitOptions, frame: pd.DataFrame):
    roles = variable_roles(statements, fixed_x=options.fixed_x, thresholds=True)
    unknown = [v for v in options.ordered if v not in roles.observed and v not in frame.columns]
    if unknown:
        raise SpecError(
            f"ordered names {', '.join(map(repr, unknown))}, which are neither variables of "
            "the model nor columns of the data; check the spelling"
        )
    ordered = set(options.ordered)
    continuous = [v for v in roles.observed if v not in ordered]
    if continuous and not ordered & set(roles.observed):
        raise SpecError(
            f"none of the model's observed variables is in ordered=[...] "
            f"({', '.join(map(repr, options.ordered))}); estimator="
            f"{options.estimator!r} needs ordered items: declare them, or use estimator='ML' "
            "for continuous ones"
        )
    if continuous and options.missing != "listwise":
        raise SpecError(
            f"missing={options.missing!r} with continuous variables among the ordered items "
            f"({', '.join(map(repr, continuous))}) is not available (lavaan's pairwise "
            "statistics for mixed data are not implemented); use missing='listwise'"
        )
    check_conditional(roles, ordered, options)
    check_latent_names(roles.latent, frame)
    if options.group_equal and continuous:
        raise SpecError(
            f"group_equal={list(options.group_equal)} with continuous variables among the "
            f"ordered items ({', '.join(map(repr, continuous))}) is not available (only "
            "models whose observed variables are all ordered); fit the configural model, or "
            "declare every item ordered"
        )
    return roles


def _means(st: GroupStatistics) -> np.ndarray:
    """The observed means behind a group's statistics: 0 for ordered items (latent
    responses), the sample mean of a continuous variable (its statistic is −μ)."""
    out = np.zeros(st.cor.shape[0])
    num = st.th_num == 0
    out[st.th_var[num]] = -st.obs[: st.nth][num]
    return out


def _values(od: OrdinalData, codes: np.ndarray) -> np.ndarray:
    """A group's answers as numbers: categories 1..K of the ordered items, the values of the
    continuous ones, NaN where missing."""
    ordered = od.ncat > 0
    out = np.asarray(codes, dtype=float).copy()
    block = out[:, ordered]
    out[:, ordered] = np.where(block >= 0, block + 1.0, np.nan)
    return out


def _parameterization(options: FitOptions) -> str:
    """lavaan's ``parameterization``, from ``estimator_options``: ``"delta"`` (the default)
    or ``"theta"``."""
    given = dict(options.extra.get("estimator_options") or {})
    value = given.get("parameterization", "delta")
    if value not in PARAMETERIZATIONS:
        raise SpecError(
            f"estimator_options={{'parameterization': {value!r}}}: choose 'delta' (lavaan's "
            "default: latent responses with unit variance) or 'theta' (ordered items' "
            "residual variances fixed to 1)")
    return value


def _standardize_thresholds(params: pd.DataFrame, frame: pd.DataFrame, names,
                            values: np.ndarray, scale: dict | None = None) -> None:
    """lavaan's standardised thresholds and scales: std.lv = est; std.all of a threshold is
    est · Δ (Δ the item's scale ``~*~``, 1 under the delta parameterization; with
    covariates, ``scale`` gives 1/SD of y* over x too), of a scale 1."""
    ops = frame["op"].to_numpy()
    n_rows = len(frame)
    est = params["est"].to_numpy(dtype=float)[:n_rows]
    if scale is None:
        scale = {(lhs, g): v for lhs, g, v, op in zip(frame["lhs"], frame["group"], values,
                                                      ops) if op == "~*~"}
    th = ops == "|"
    factor = np.array([scale.get((lhs, g), 1.0) if t else 1.0
                       for lhs, g, t in zip(frame["lhs"], frame["group"], th)])
    std_lv = params["std.lv"].to_numpy(dtype=float).copy()
    std_all = params["std.all"].to_numpy(dtype=float).copy()
    is_scale = ops == "~*~"
    std_lv[:n_rows][th | is_scale] = est[th | is_scale]
    std_all[:n_rows][th] = est[th] * factor[th]
    std_all[:n_rows][is_scale] = 1.0
    params["std.lv"] = std_lv
    params["std.all"] = std_all


def _univariate_tied(frame: pd.DataFrame) -> bool:
    """Whether a threshold or intercept is held equal to another parameter (a shared label,
    ``group_equal``): lavaan 0.6-14
    then reports no ``.robust`` fit measures for ordered data (its catML refit drops the
    threshold and intercept rows that the equality constraints name)."""
    free = frame["free"].to_numpy()
    uni = frame["op"].isin(("|", "~1")).to_numpy() & (free > 0)
    counts = np.bincount(free[free > 0])
    return bool(np.any(counts[free[uni]] > 1))


def _orient(start: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
    """Start each factor with a positive first loading when that loading is free (std_lv),
    so that the solution has the orientation lavaan's starting values give it (a factor and
    its loadings can change sign together; the first indicator may be reverse-keyed)."""
    out = start.copy()
    loads = frame[frame["op"] == "=~"]
    for (_, _), rows in loads.groupby(["group", "lhs"], sort=False).groups.items():
        rows = np.asarray([frame.index.get_loc(r) for r in rows])
        first = rows[0]
        if frame["free"].iat[first] > 0 and out[first] < 0:
            out[rows] = -out[rows]
    return out


def estimate_ordinal(
    statements: tuple[Statement, ...],
    data,
    options: FitOptions,
    group: str | None = None,
) -> Estimation:
    """Fit a model whose observed variables are ordered items (WLSMV, ULSMV, DWLS, ULS).

    Raises:
        SpecError: an estimator or model this path does not handle (see the messages).
        DataError: bad answers (:func:`.thresholds.ordinal_data`).
        IdentificationError: more free parameters than sample statistics.
    """
    estimator, robust = _resolve_estimator(options)
    parameterization = _parameterization(options)
    if options.missing not in ("listwise", "pairwise"):
        raise SpecError(
            f"missing={options.missing!r} is not available for ordered items; use 'listwise' "
            "(lavaan's default) or 'pairwise'"
        )
    frame = as_frame(data)
    roles = _check_model(statements, options, frame)
    check_ordinal_work(len(roles.observed), len(frame), options)
    ordered = [v for v in roles.observed if v in set(options.ordered)]
    conditional = None
    if roles.ov_x:  # lavaan's conditional.x: statistics given the covariates (as numbers)
        ordered = [v for v in ordered if v not in roles.ov_x]
        items = [v for v in roles.observed if v not in roles.ov_x]
        conditional = conditional_statistics(frame, items, roles.ov_x, ordered=ordered,
                                             group=group, estimator=ESTIMATORS[estimator][0])
        stats = OrdinalStatistics(data=conditional.data.items,
                                  groups=tuple(c.stats for c in conditional.groups),
                                  converged=conditional.converged,
                                  x_names=tuple(roles.ov_x))
    elif len(ordered) < len(roles.observed):
        stats = mixed_statistics(frame, roles.observed, ordered, group=group,
                                 estimator=ESTIMATORS[estimator][0])
    else:
        stats = ordinal_statistics(frame, roles.observed, group=group, missing=options.missing,
                                   estimator=ESTIMATORS[estimator][0])
    od = stats.data
    groups = list(stats.groups)
    for label, st in zip(od.group_labels, groups):
        where = in_group(label, group is not None)
        scale = np.sqrt(np.diag(st.cor))
        _check_positive_definite(st.cor / np.outer(scale, scale), od.names, where, smooth=False)
    nthr = {v: int(k) - 1 for v, k in zip(od.names, od.ncat) if k > 0}
    partable = build_partable(statements, options, od.ngroups, od.group_labels, thresholds=nthr,
                              parameterization=parameterization)
    ram = RamModel(partable)
    space = ExpressionSpace(partable, ram)
    reparam = equality_reparametrization(space, partable.nfree)
    npar = partable.nfree - reparam.n_constraints
    moments = sum(len(st.obs) for st in groups)
    if npar > moments:
        raise IdentificationError(
            f"the model has {npar} free parameters but the data give only {moments} sample "
            f"statistics (thresholds and polychoric correlations; df = {moments - npar}); fix "
            "or constrain parameters, or add items"
        )
    frame_t = partable.frame
    ops = frame_t["op"].to_numpy()
    lhs = frame_t["lhs"].to_numpy()
    rhs = frame_t["rhs"].to_numpy()
    grp = frame_t["group"].to_numpy()
    names = list(ram.observed)
    ordered_names = [v for v, k in zip(od.names, od.ncat) if k > 0]
    ordinal_pos = np.array([names.index(v) for v in ordered_names], dtype=int)
    residual_rows = [  # the ordered items' residual variances (set by the estimator)
        np.array([np.flatnonzero((ops == "~~") & (lhs == v) & (rhs == v) & (grp == g + 1))[0]
                  for v in ordered_names], dtype=int)
        for g in range(od.ngroups)
    ]
    scale_rows = [
        np.array([np.flatnonzero((ops == "~*~") & (lhs == v) & (grp == g + 1))[0]
                  for v in ordered_names], dtype=int)
        for g in range(od.ngroups)
    ]
    # the model's observed variables in the model's order; statistics follow od.names, which
    # is the same order (roles.observed; the covariates last, .conditional.check_conditional)
    assert tuple(names[: len(od.names)]) == od.names
    if conditional is not None:
        function = ConditionalDWLSFunction(ram, groups, ordinal_pos, residual_rows,
                                           scale_rows, parameterization, x_names=roles.ov_x)
        samplestats = conditional.samplestats(tuple(names))
    else:
        function = DWLSFunction(ram, groups, ordinal_pos, residual_rows, scale_rows,
                                parameterization)
        samplestats = SampleStats(
            names=od.names, group_labels=od.group_labels, nobs=od.nobs,
            means=tuple(_means(st) for st in groups),
            covs=tuple(st.cor for st in groups),
            data=tuple(_values(od, c) for c in od.codes),
            rows_dropped=od.rows_dropped, rows_total=od.rows_total, missing=od.missing,
        )
    ram.base_values[:] = fixed_x_values(partable, samplestats)  # covariates (fixed.x)
    with single_threaded_blas():
        start_rows = _orient(start_values(partable, samplestats, ustart=ram.base_values),
                             frame_t)
        for g, st in enumerate(groups):
            start_rows[function.th_rows[g]] = np.concatenate(st.th)
            # free scaling factors (delta) and residual variances (theta) of equal
            # thresholds start at the configural model's values
            start_rows[scale_rows[g]] = 1.0
            if parameterization == "theta":
                start_rows[residual_rows[g]] = 1.0
        start_rows[np.isnan(start_rows)] = 0.0
        theta_start = theta_from_rows(ram, start_rows)

        optim = fisher_scoring(reparam.in_x(function.evaluate), reparam.x(theta_start), options.tol,
                               options.max_iter)
        theta = reparam.theta(optim.x)
        values = function.row_values(theta)
        # the values the estimator sets: residual variances (delta) or scales Δ (theta)
        for rows in function.filled_rows:
            ram.base_values[rows] = values[rows]
        deltas = [d @ reparam.basis for d in function.jacobians(theta)]
        fg = function.fg
        E = unit_information(groups, deltas, fg)
        ratio = scale_free_information_ratio(E)
        # lavaan divides by N − G for the WLS family (lav_utils_get_ntotal)
        vcov_x = covariance(groups, deltas, fg, function.ntotal - len(groups), robust)
        vcov = reparam.basis @ vcov_x @ reparam.basis.T
        free_th = np.unique(ram.free_index[(ops == "|") & (ram.free_index >= 0)])
        measures, test, base_test = fit_measures(
            fmin=optim.value, npar=npar, groups=groups, implied=function.implied(theta),
            deltas=deltas, scaled=robust, npar_thresholds=len(free_th),
            catml=not _univariate_tied(frame_t))
    params = parameter_estimates(partable, ram, space, theta, vcov, options, optim.converged)
    _standardize_thresholds(params, frame_t, names, ram.row_values(theta),
                            None if conditional is None else total_scales(ram, theta))
    table = frame_t.copy()
    table["start"] = start_rows
    table["est"] = ram.row_values(theta)
    table["se"] = row_standard_errors(ram, vcov) if optim.converged else np.nan
    partable = replace(partable, frame=table)
    if not optim.converged:
        measures = measures.where(measures.index.isin(["npar", "ntotal"]))
    extra = {**options.extra, "estimator_used": estimator,
             "se": "robust.sem" if robust else "standard",
             "test": "scaled.shifted" if robust else "standard",
             "parameterization": parameterization, "ordinal": stats,
             "conditional_x": conditional is not None}
    if test is not None:
        extra["scaled_test"] = test
        extra["baseline_scaled_test"] = base_test
    used = replace(options, estimator=estimator, meanstructure=True, extra=extra)
    return Estimation(
        partable=partable, params=params, fit_measures=measures, theta=theta, vcov=vcov,
        optim=optim, information_ratio=ratio, stats=samplestats, ram=ram, reparam=reparam,
        space=space, options=used, meanstructure=True, function=function,
    )
