"""One ML estimation, start to finish: table → moments → optimum → SEs → fit measures.

This module only wires the engine's stages together; each formula lives in its own module
(``partable``, ``samplestats``, ``ram``, ``ml``, ``constraints``, ``optimizer``, ``inference``,
``standardize``, ``fitmeasures``).  The outcome is an :class:`Estimation`, pure numbers with no
printing; :class:`cbec_sem.results.FitResult` is what users read.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..caching import BoundedCache
from ..errors import DataError, EstimationError, IdentificationError, SpecError
from ..specification.statements import Statement
from .constrained import constrained_optimum, local_reparametrization
from .constraints import ExpressionSpace, Reparametrization, constraint_system
from .fitmeasures import FitInputs, count_moments, fit_measures
from .inference import covariance_of_theta
from .fiml import FIMLFunction, check_fiml_work, check_mlr_fiml_size
from .work_limits import work_limit
from .ml import MLFunction
from .naming import free_parameter_names
from .optimizer import OptimResult, fisher_scoring
from .options import FitOptions
from .partable import ParTable, build_partable, variable_roles
from .observed_information import observed_information_in_x
from .ram import GroupMoments, RamModel
from .standardize import standardized_solution
from .samplestats import SampleStats, sample_stats
from ..survey.fit_checks import as_frame
from .estimates_table import parameter_estimates, row_standard_errors, theta_from_rows
from .start import fixed_x_values, start_values
from .threads import blas_one_thread



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
        information_ratio: smallest/largest eigenvalue of the information matrix in
            correlation form (scale-free: :func:`~cbec_sem.engine.inference.scale_free_information_ratio`).
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
    #: the implied moments at θ̂ per group, and each table row's ``std.all`` (the ``:=`` rows
    #: not included), when the estimation kept them (the admissibility checks read them)
    moments: tuple[GroupMoments, ...] | None = None
    row_std_all: np.ndarray | None = None

    @property
    def npar(self) -> int:
        return self.partable.nfree - self.reparam.n_constraints

    # -- the estimation interface every estimator family offers (see FittedModel) -------------
    @property
    def partable_frame(self) -> pd.DataFrame:
        """The parameter table (lavaan's ``parTable()`` columns with ``est`` and ``se``)."""
        return self.partable.frame

    @property
    def group_nobs(self) -> tuple[int, ...]:
        """Observations used, per group."""
        return tuple(self.stats.nobs)

    def vcov_frame(self) -> pd.DataFrame:
        """``vcov`` labelled by :func:`~cbec_sem.engine.naming.parameter_name`."""
        names = free_parameter_names(self.partable)
        return pd.DataFrame(self.vcov, index=names, columns=names)

    def fit_notes(self, spec) -> tuple[str, ...]:
        """What the user should know about this estimation: rows dropped, shared labels."""
        notes = []
        if self.partable.ngroups > 1:
            shared = sorted({lab for s in spec.statements if len(s.labels) == 1
                             for lab in s.labels if lab})
            if shared:
                notes.append(
                    f"the label(s) {', '.join(shared)} apply to every group, so their "
                    "parameters are held equal across groups (lavaan does the same); write "
                    "c(a1, a2)*x for group-specific labels")
        if self.stats.rows_dropped:
            notes.append(
                f"FIML dropped {self.stats.rows_dropped} of {self.stats.rows_total} rows missing "
                "on every model variable (or on a fixed covariate)"
                if self.stats.missing == "fiml" else
                f"listwise deletion dropped {self.stats.rows_dropped} of "
                f"{self.stats.rows_total} rows")
        if getattr(self.stats, "rows_no_group", 0):
            notes.append(f"{self.stats.rows_no_group} row(s) without a value of the group "
                         "variable were left out (lavaan drops them too)")
        return tuple(notes)


def check_latent_names(latent, frame: pd.DataFrame, listed: list | None = None) -> None:
    """A latent variable may not share a data column's name: it would mean two variables
    (lavaan stops too).  ``listed``: ``frame.columns.tolist()``, when the caller has it."""
    # (probing a string Index label by label costs)
    columns = set(frame.columns.tolist() if listed is None else listed)
    clash = [lv for lv in latent if lv in columns]
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
    """Validate the data against the model and build the parameter table (cached per model,
    :func:`compiled_table`; the RAM model is built only when a fit goes ahead)."""
    roles = variable_roles(statements, fixed_x=options.fixed_x)
    frame = as_frame(data)
    listed = frame.columns.tolist()  # the labels as Python objects, once for every check
    check_latent_names(roles.latent, frame, listed)
    stats = sample_stats(frame, roles.observed, group=group, missing=options.missing,
                         exogenous=roles.ov_x, fiml_work_limit=work_limit(options),
                         listed=listed)
    return compiled_table(statements, options, stats.ngroups, stats.group_labels), stats


#: Compiled models of recent fits: (statements, the options the table depends on, groups) →
#: (parameter table, RAM model).  Fitting the same model again (a second data set, the
#: bootstrap's full-sample fit, a notebook re-run) skips building both (issue 15).  Small and
#: bounded: the oldest entry goes first.
_COMPILED: BoundedCache[list] = BoundedCache(32)


def _compiled_entry(statements, options: FitOptions, ngroups: int, group_labels: tuple
                    ) -> list:
    """The cache entry ``[table, RAM model or None]`` of a model (a fresh one, not kept, when
    its key cannot be hashed: an unhashable group label or statement value)."""
    key = (statements, options.fixed_x, options.meanstructure, options.missing,
           options.std_lv, options.auto_cov_y, options.group_equal, options.group_partial,
           ngroups, tuple(group_labels))
    return _COMPILED.get(key, lambda: [build_partable(statements, options, ngroups,
                                                      group_labels), None])


def compiled_table(
    statements: tuple[Statement, ...], options: FitOptions, ngroups: int, group_labels: tuple
) -> ParTable:
    """The parameter table (:func:`~.partable.build_partable`), built once per model and
    reused (never written in place: every estimation keeps its own copy with ``est``/``se``).
    Its key is every input ``build_partable`` reads; inputs that cannot be hashed are simply
    not cached."""
    return _compiled_entry(statements, options, ngroups, group_labels)[0]


def compiled_model(
    statements: tuple[Statement, ...], options: FitOptions, ngroups: int, group_labels: tuple
) -> tuple[ParTable, RamModel]:
    """The parameter table (:func:`compiled_table`) and a fresh :class:`RamModel` of it, the
    RAM model too built once per model: each call gets a shallow copy with its own
    ``base_values`` (the one array a fit writes: fixed-x values)."""
    hit = _compiled_entry(statements, options, ngroups, group_labels)
    if hit[1] is None:
        hit[1] = RamModel(hit[0])
    partable, ram = hit
    fresh = copy.copy(ram)
    fresh.base_values = ram.base_values.copy()
    return partable, fresh


def _objective(ram: RamModel, stats: SampleStats, partable: ParTable, options: FitOptions,
               fiml_limit: float, work_done: float):
    """The fit function: complete-data ML, or casewise ML for missing data (``engine/fiml.py``)."""
    if options.missing == "fiml":
        return FIMLFunction(ram, stats, partable.meanstructure, fiml_limit, work_done)
    if options.missing != "listwise":
        raise SpecError(f"missing={options.missing!r} needs an ordinal estimator (WLSMV)")
    return MLFunction(ram, stats, partable.meanstructure)


@blas_one_thread
def estimate_ml(
    statements: tuple[Statement, ...],
    data,
    options: FitOptions,
    group: str | None = None,
) -> Estimation:
    """Fit a model by normal-theory ML (complete data, or FIML with ``missing="fiml"``).

    The robust variants (MLM, MLR) post-process this estimation
    (:func:`cbec_sem.engine.robust.robust_estimation`); the estimator registry
    (:mod:`cbec_sem.engine.estimators`) chooses.

    Raises:
        DataError: see :func:`~cbec_sem.engine.samplestats.sample_stats`; also fewer complete
            rows than free parameters.
        IdentificationError: more free parameters than sample moments.
    """
    return _estimate(statements, data, options, group)


def _check_size(npar: int, moments: int, nrows: int, *, exact: bool = True) -> None:
    """Refuse more free parameters than sample moments, or than complete rows (``exact``:
    ``npar`` is the count, else a lower bound of it)."""
    least = "" if exact else "at least "
    if npar > moments:
        df = f"df = {moments - npar}" if exact else f"df at most {moments - npar}"
        raise IdentificationError(
            f"the model has {least}{npar} free parameters but the data give only {moments} "
            f"sample moments ({df}); fix or constrain parameters, or add indicators"
        )
    if nrows < npar:
        raise DataError(
            f"only {nrows} complete rows for {least}{npar} free parameters; collect more "
            "responses or simplify the model"
        )


def _estimate(
    statements: tuple[Statement, ...],
    data,
    options: FitOptions,
    group: str | None,
) -> Estimation:
    partable, stats = prepare(statements, data, options, group)
    if options.estimator == "MLR" and options.missing == "fiml":  # refused before the fit
        check_mlr_fiml_size(len(stats.names), stats.ngroups)
    moments = stats.ngroups * count_moments(
        len(stats.names), partable.meanstructure, len(partable.roles.ov_x)
    )
    # Each '==' removes at most one free parameter: with this lower bound a model too large
    # for its data is refused before the model matrices and the constraint basis (nfree x
    # nfree) are built (28 s for 300 constructs; issue 14).  Exact without constraints.
    n_eq = sum(s.op == "==" for s in partable.constraints)
    _check_size(partable.nfree - n_eq, moments, stats.ntotal, exact=not n_eq)
    partable, ram = compiled_model(statements, options, stats.ngroups, stats.group_labels)
    limit = work_limit(options)
    work_done = check_fiml_work(stats, ram, limit) if options.missing == "fiml" else 0.0
    space = ExpressionSpace(partable, ram)
    system = constraint_system(space, partable.nfree)
    reparam = system.reparam
    general = system.general
    npar = partable.nfree - reparam.n_constraints - (general.n_eq if general else 0)
    _check_size(npar, moments, stats.ntotal)
    fixed_rows = fixed_x_values(partable, stats)
    ram.base_values[:] = fixed_rows
    start_rows = start_values(partable, stats, ustart=fixed_rows)
    theta_start = theta_from_rows(ram, start_rows)
    function = _objective(ram, stats, partable, options, limit, work_done)

    evaluate_x = reparam.in_x(function.evaluate)
    if general is None:
        optim = fisher_scoring(evaluate_x, reparam.x(theta_start), options.tol, options.max_iter)
    else:  # non-linear equalities or inequalities (engine/constrained.py)
        optim, active = constrained_optimum(evaluate_x, reparam.x(theta_start), general,
                                            options.tol, options.max_iter)
        if np.isfinite(optim.value):
            local = local_reparametrization(reparam, general, optim.x, active)
            optim = replace(optim, x=local.x(reparam.theta(optim.x)))
            reparam = local
            evaluate_x = reparam.in_x(function.evaluate)
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
        info_x = observed_information_in_x(function, reparam, optim.x)
    elif general is None and optim.information is not None:
        info_x = optim.information  # (formed at optim.x by the last scoring step)
    else:
        info_x = evaluate_x(optim.x, information=True).information
    optim = replace(optim, information=None)  # (not kept in the result: q × q)
    vcov, ratio = covariance_of_theta(info_x, reparam, float(stats.ntotal))
    row_values = ram.row_values(theta)
    standardized = standardized_solution(ram, row_values)
    params = parameter_estimates(partable, ram, space, theta, vcov, options, optim.converged,
                                 standardized)
    se = row_standard_errors(ram, vcov) if optim.converged else np.full(len(row_values), np.nan)
    partable = partable.with_estimates(start_rows, row_values, se)
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
        moments=tuple(moments_hat), row_std_all=standardized[1],
    )

