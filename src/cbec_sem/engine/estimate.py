"""One ML estimation, start to finish: table → moments → optimum → SEs → fit measures.

This module only wires the engine's stages together; each formula lives in its own module
(``partable``, ``samplestats``, ``ram``, ``ml``, ``constraints``, ``optimizer``, ``inference``,
``standardize``, ``fitmeasures``).  The outcome is an :class:`Estimation`, pure numbers with no
printing; :class:`cbec_sem.results.FitResult` is what users read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import DataError, EstimationError, IdentificationError, SpecError
from ..specification.statements import Statement
from .constraints import ExpressionSpace, Reparametrization, equality_reparametrization
from .fitmeasures import FitInputs, count_moments, fit_measures
from .inference import covariance_of_theta, delta_method_jacobian, observed_information_x, wald
from .ml import MLFunction
from .optimizer import OptimResult, fisher_scoring
from .options import ORDINAL_ESTIMATORS, ROBUST_ML, FitOptions
from .partable import ParTable, build_partable, variable_roles
from .ram import RamModel
from .samplestats import SampleStats, as_frame, sample_stats
from .standardize import standardized_rows
from .start import fixed_x_values, start_values
from .threads import single_threaded_blas

#: Below this ratio of smallest to largest eigenvalue the information matrix is called singular.
SINGULAR_INFORMATION = 1e-10


@dataclass(frozen=True)
class Estimation:
    """Everything one fit produced.

    Attributes:
        partable: the parameter table (with ``start``, ``est``, ``se`` columns filled).
        params: lavaan's ``parameterEstimates()`` table with ``std.lv``/``std.all``.
        fit_measures: fit measures (NaN where the fit did not converge).
        theta: the free-parameter vector at the optimum.
        vcov: covariance matrix of ``theta``.
        optim: where and why the optimiser stopped.
        information_ratio: smallest/largest eigenvalue of the information matrix.
        stats: the sample statistics used.
        ram: the compiled model.
        reparam: the equality-constraint reparametrisation.
        space: evaluator of defined parameters and constraints.
        options: the options used.
        meanstructure: whether means were modelled.
    """

    partable: ParTable
    params: pd.DataFrame
    fit_measures: pd.Series
    theta: np.ndarray
    vcov: np.ndarray
    optim: OptimResult
    information_ratio: float
    stats: SampleStats
    ram: RamModel
    reparam: Reparametrization
    space: ExpressionSpace
    options: FitOptions
    meanstructure: bool
    function: MLFunction

    @property
    def npar(self) -> int:
        return self.partable.nfree - self.reparam.n_constraints


def check_latent_names(latent, frame: pd.DataFrame) -> None:
    """A latent variable may not share a data column's name: it would mean two variables
    (lavaan stops too)."""
    clash = [lv for lv in latent if lv in frame.columns]
    if clash:
        raise SpecError(
            f"the latent variable(s) {', '.join(map(repr, clash))} have the name of a column "
            "in the data; rename the latent variable in the model, or drop the column"
        )


def prepare(
    statements: tuple[Statement, ...],
    data,
    options: FitOptions,
    group: str | None = None,
) -> tuple[ParTable, SampleStats]:
    """Validate the data against the model and build the parameter table."""
    roles = variable_roles(statements, fixed_x=options.fixed_x)
    frame = as_frame(data)
    check_latent_names(roles.latent, frame)
    stats = sample_stats(frame, roles.observed, group=group, missing=options.missing,
                         exogenous=roles.ov_x)
    partable = build_partable(statements, options, stats.ngroups, stats.group_labels)
    return partable, stats


def estimate(
    statements: tuple[Statement, ...],
    data,
    options: FitOptions,
    group: str | None = None,
) -> Estimation:
    """Fit a model by ML.

    Raises:
        DataError: see :func:`~cbec_sem.engine.samplestats.sample_stats`; also fewer complete
            rows than free parameters.
        IdentificationError: more free parameters than sample moments.
    """
    with single_threaded_blas():
        if options.ordered or options.estimator in ORDINAL_ESTIMATORS:
            return _ordinal_estimate(statements, data, options, group)
        est = _estimate(statements, data, options, group)
        if options.estimator in ROBUST_ML:
            est = _robust(est)
        return est


# Each estimator family lives in its own module and plugs in here; the imports are local
# because those modules build on this one.


def _ordinal_estimate(statements, data, options: FitOptions, group):
    """The WLS family for ordered items (``engine/ordinal/``)."""
    from .ordinal import estimate_ordinal

    return estimate_ordinal(statements, data, options, group)


def _robust(est: Estimation) -> Estimation:
    """Robust standard errors and scaled test statistics for MLM/MLR (``engine/robust.py``)."""
    from .robust import robust_estimation

    return robust_estimation(est)


def _objective(ram: RamModel, stats: SampleStats, partable: ParTable, options: FitOptions):
    """The fit function: complete-data ML, or casewise ML for missing data (``engine/fiml.py``)."""
    if options.missing == "fiml":
        from .fiml import FIMLFunction

        return FIMLFunction(ram, stats, partable.meanstructure)
    if options.missing != "listwise":
        raise SpecError(f"missing={options.missing!r} needs an ordinal estimator (WLSMV)")
    return MLFunction(ram, stats, partable.meanstructure)


def _estimate(
    statements: tuple[Statement, ...],
    data,
    options: FitOptions,
    group: str | None,
) -> Estimation:
    partable, stats = prepare(statements, data, options, group)
    ram = RamModel(partable)
    space = ExpressionSpace(partable, ram)
    reparam = equality_reparametrization(space, partable.nfree)
    npar = partable.nfree - reparam.n_constraints
    moments = stats.ngroups * count_moments(
        len(stats.names), partable.meanstructure, len(partable.roles.ov_x)
    )
    if npar > moments:
        raise IdentificationError(
            f"the model has {npar} free parameters but the data give only {moments} sample "
            f"moments (df = {moments - npar}); fix or constrain parameters, or add indicators"
        )
    if stats.ntotal < npar:
        raise DataError(
            f"only {stats.ntotal} complete rows for {npar} free parameters; collect more "
            "responses or simplify the model"
        )
    fixed_rows = fixed_x_values(partable, stats)
    ram.base_values[:] = fixed_rows
    start_rows = start_values(replace(partable, frame=partable.frame.assign(ustart=fixed_rows)), stats)
    theta_start = _theta_from_rows(ram, start_rows)
    function = _objective(ram, stats, partable, options)

    def evaluate_x(x, gradient=False, information=False):
        ev = function.evaluate(reparam.theta(x), gradient=gradient, information=information)
        if reparam.identity:
            return ev
        if ev.gradient is not None:
            ev.gradient = reparam.basis.T @ ev.gradient
        if ev.information is not None:
            ev.information = reparam.basis.T @ ev.information @ reparam.basis
        return ev

    optim = fisher_scoring(evaluate_x, reparam.x(theta_start), options.tol, options.max_iter)
    if not np.isfinite(optim.value):
        # lavaan stops here too ("initial model-implied matrix (Sigma) is not positive definite").
        f = partable.frame
        odd = f[(f["op"] == "~~") & (f["lhs"] == f["rhs"]) & (f["free"] == 0) & (f["ustart"] <= 0)]
        culprits = ", ".join(dict.fromkeys(  # once, not once per group
            f"{a} ~~ {v:g}*{a}" for a, v in zip(odd["lhs"], odd["ustart"])))
        raise EstimationError(
            "the starting values give a non-positive-definite model-implied covariance matrix, "
            "so the fit cannot start"
            + (f": the fixed variance(s) {culprits} cannot be right; free them or fix them to a "
               "positive value" if culprits else
               "; check the model's fixed values, or give starting values with start()")
        )
    theta = reparam.theta(optim.x)
    if options.information == "observed":
        info_x = observed_information_x(function.evaluate, reparam, optim.x)
    else:
        info_x = evaluate_x(optim.x, information=True).information
    vcov, ratio = covariance_of_theta(info_x, reparam, float(stats.ntotal))
    params = _parameter_table(partable, ram, space, theta, vcov, options, optim.converged)
    frame = partable.frame.copy()
    frame["start"] = start_rows
    row_values = ram.row_values(theta)
    frame["est"] = row_values
    frame["se"] = _row_se(ram, vcov) if optim.converged else np.nan
    partable = replace(partable, frame=frame)
    moments_hat = ram.moments(theta)
    exo_index = tuple(stats.names.index(v) for v in partable.roles.ov_x)
    exo_loglik = function.exogenous_loglik(exo_index)
    measures = fit_measures(
        FitInputs(
            fmin=optim.value,
            npar=npar,
            stats=stats,
            sigma=tuple(m.sigma for m in moments_hat),
            mu=tuple(m.mu for m in moments_hat),
            meanstructure=partable.meanstructure,
            n_exo=len(exo_index),
            exo_index=exo_index,
            loglik=-stats.ntotal * optim.value + function.saturated_loglik() - exo_loglik,
            unrestricted_loglik=function.saturated_loglik() - exo_loglik,
        )
    )
    if hasattr(function, "adjust_fit_measures"):  # FIML: baseline, GFI, .robust indices
        measures = function.adjust_fit_measures(measures, theta, reparam, options.information)
    if not optim.converged:
        keep = ["npar", "ntotal"]
        measures = measures.where(measures.index.isin(keep))
    return Estimation(
        partable=partable, params=params, fit_measures=measures, theta=theta, vcov=vcov,
        optim=optim, information_ratio=ratio, stats=stats, ram=ram, reparam=reparam,
        space=space, options=options, meanstructure=partable.meanstructure, function=function,
    )


def _theta_from_rows(ram: RamModel, rows: np.ndarray) -> np.ndarray:
    """The free-parameter vector from row values (shared parameters: their mean)."""
    theta = np.zeros(ram.nfree)
    counts = np.zeros(ram.nfree)
    free = ram.free_index >= 0
    np.add.at(theta, ram.free_index[free], rows[free])
    np.add.at(counts, ram.free_index[free], 1.0)
    return theta / np.maximum(counts, 1.0)


def _row_se(ram: RamModel, vcov: np.ndarray) -> np.ndarray:
    se = np.zeros(len(ram.free_index))
    free = ram.free_index >= 0
    se[free] = np.sqrt(np.clip(np.diag(vcov)[ram.free_index[free]], 0.0, None))
    return se


def _parameter_table(
    partable: ParTable,
    ram: RamModel,
    space: ExpressionSpace,
    theta: np.ndarray,
    vcov: np.ndarray,
    options: FitOptions,
    converged: bool,
) -> pd.DataFrame:
    """lavaan's ``parameterEstimates(standardized = TRUE)``: model rows, then ``:=`` rows."""
    frame = partable.frame
    rows = ram.row_values(theta)
    se = _row_se(ram, vcov)
    free = ram.free_index >= 0
    w = wald(rows, se, options.level)
    # lavaan: fixed parameters have se 0, no z/p, and an "interval" equal to the value.
    for k in ("z", "pvalue"):
        w[k][~free] = np.nan
    w["ci.lower"][~free] = rows[~free]
    w["ci.upper"][~free] = rows[~free]
    std_lv = standardized_rows(ram, rows, "std.lv")
    std_all = standardized_rows(ram, rows, "std.all")
    columns = {
        "lhs": frame["lhs"].to_numpy(),
        "op": frame["op"].to_numpy(),
        "rhs": frame["rhs"].to_numpy(),
        "group": frame["group"].to_numpy(),
        "label": frame["label"].to_numpy(),
        "est": rows,
        "se": se,
        **w,
        "std.lv": std_lv,
        "std.all": std_all,
    }
    if space.defined:
        names = space.defined_names()
        est, dse = _defined_with_se(space, ram, theta, vcov)
        dw = wald(est, dse, options.level)
        extra = {
            "lhs": names,
            "op": [":="] * len(names),
            "rhs": [s.rhs for s in space.defined],
            "group": [0] * len(names),
            "label": names,
            "est": est,
            "se": dse,
            **dw,
            "std.lv": space.defined_values(std_lv),
            "std.all": space.defined_values(std_all),
        }
        columns = {k: np.concatenate([np.asarray(v, dtype=object if k in ("lhs", "op", "rhs",
                   "label") else None), np.asarray(extra[k])]) for k, v in columns.items()}
    table = pd.DataFrame(columns)
    if not converged:
        table[["se", "z", "pvalue", "ci.lower", "ci.upper"]] = np.nan
    return table


def _defined_with_se(
    space: ExpressionSpace, ram: RamModel, theta: np.ndarray, vcov: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Defined parameters and their delta-method SEs (only the θ entries they use vary)."""
    used = np.unique(
        [ram.free_index[space.rows[n]] for n in space.needed if ram.free_index[space.rows[n]] >= 0]
    ).astype(int)

    def defined_at(sub: np.ndarray) -> np.ndarray:
        t = theta.copy()
        t[used] = sub
        return space.defined_values(ram.row_values(t))

    est = space.defined_values(ram.row_values(theta))
    if used.size == 0:
        return est, np.zeros_like(est)
    jac = delta_method_jacobian(defined_at, theta[used])
    sub_vcov = vcov[np.ix_(used, used)]
    dse = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, sub_vcov, jac), 0.0, None))
    return est, dse
