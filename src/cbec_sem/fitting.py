"""``cs.fit()``: the one call that takes a model and data to a :class:`FitResult`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy import special

from .engine.admissibility import admissibility_problems, identification_problems
from .engine.estimate import estimate
from .engine.options import FitOptions
from .errors import (
    AdmissibilityWarning,
    ConvergenceWarning,
    IdentificationWarning,
    SpecError,
)
from .engine.convergence import Convergence
from .results import FitResult
from .specification.model import ModelSpec


def as_model(model: ModelSpec | str) -> ModelSpec:
    """A :class:`ModelSpec` from a ModelSpec or lavaan syntax text."""
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, str):
        return ModelSpec.from_lavaan(model)
    raise SpecError(
        f"model must be a ModelSpec (e.g. cs.paper_model()) or lavaan syntax text, not "
        f"{type(model).__name__}"
    )


def _choose(spec: ModelSpec, data, ordered, missing: str):
    """``estimator="auto"``: the estimator, ordered items and missing-data method that
    :func:`cbec_sem.engine.choose.choose_estimator` picks from the model's items, and a note."""
    from .engine.choose import choose_estimator
    from .engine.samplestats import as_frame

    chosen, reason = choose_estimator(as_frame(data), list(spec.observed_variables),
                                      ordered=ordered or None)
    if chosen == "WLSMV" and not ordered:
        ordered = True  # mixing ordinal and continuous items is not supported: all ordinal
    if chosen == "MLR" and missing == "listwise" and "fiml" in reason:
        missing = "fiml"
    return chosen, ordered, missing, f"estimator='auto' chose {chosen}: {reason}"


def fit(
    model: ModelSpec | str,
    data,
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    ordered: Sequence[str] | bool | None = None,
    group: str | None = None,
    group_equal: Sequence[str] | str = (),
    group_partial: Sequence[str] | str = (),
    se: str = "standard",
    bootstrap: int = 0,
    seed: int | None = None,
    n_jobs: int = 1,
    information: str | None = None,
    std_lv: bool = False,
    meanstructure: bool | None = None,
    fixed_x: bool = True,
    level: float = 0.95,
    alpha: float = 0.05,
    max_iter: int = 500,
    interaction_method: str = "dblcent",
    nca_permutations: int = 10000,
    correction: str | None = None,
) -> FitResult:
    """Fit a structural equation model and test its hypotheses.

    Args:
        model: a :class:`ModelSpec` (``cs.paper_model()``) or lavaan model syntax.
        data: a DataFrame, or a :class:`~cbec_sem.survey.Survey` from ``cs.load_survey``.
        estimator: ``"ML"`` (normal-theory maximum likelihood, lavaan's default), ``"MLM"``
            (Satorra–Bentler), ``"MLR"`` (Huber–White SEs, Yuan–Bentler test), ``"WLSMV"``,
            ``"ULSMV"``, ``"DWLS"``, ``"ULS"`` (ordered items), or ``"auto"``: chosen from
            the items (ordinal → WLSMV; missing answers → MLR with FIML; non-normal → MLR;
            else ML; see :func:`cbec_sem.engine.choose.choose_estimator`) and said in
            ``res.notes`` and ``summary()``.
        missing: ``"listwise"``; the number of rows dropped is reported in a warning, in
            ``summary()`` and in ``res.notes``.  ``"fiml"``: full-information ML (lavaan's
            ``missing = "ml"``), every row with at least one answer is used; the
            missingness patterns are in ``res.estimation.stats.patterns``.
        ordered: ordinal items (a list of names, or ``True`` for all the model's observed
            variables), estimated by the WLS family.
        group: column whose values define groups for a multi-group fit.
        group_equal: parameter kinds held equal across groups (lavaan ``group.equal``:
            ``"loadings"``, ``"intercepts"``, ``"means"``, ``"residuals"``,
            ``"residual.covariances"``, ``"lv.variances"``, ``"lv.covariances"``,
            ``"regressions"``).
        group_partial: parameters exempt from ``group_equal``, e.g. ``("visual=~x2",)``.
        se: ``"standard"`` (information-based) or ``"bootstrap"`` standard errors.  With
            ``"bootstrap"``, ``res.params`` carries lavaan's ``se = "bootstrap"`` columns: the
            bootstrap SE, z and p from it, and the percentile interval.
        bootstrap: number of bootstrap draws (default 1000 when ``se="bootstrap"``).  With
            ``se="standard"`` and ``bootstrap=B`` the draws are made (``res.bootstrap``, and
            the indirect-effect hypotheses use their percentile interval) while ``res.params``
            keeps the standard errors.  See :func:`cbec_sem.resampling.bootstrap`.
        seed: seed of the bootstrap draws (same seed, same numbers, on any ``n_jobs``).
        n_jobs: worker processes for the bootstrap (``-1``: all cores).
        information: ``"expected"`` or ``"observed"``; by default lavaan's choice (observed
            with ``missing="fiml"``, expected otherwise).
        std_lv: scale latent variables by fixing their variances to 1.
        meanstructure: model means (default: when there are groups or ``~1`` statements).
        fixed_x: treat exogenous observed covariates as fixed (lavaan's default).
        level: confidence level of intervals.
        alpha: significance level of hypothesis verdicts.
        max_iter: iteration limit of the optimiser.
        interaction_method: how ``res.hypotheses`` tests interaction and moderation
            hypotheses: ``"dblcent"`` (double-mean-centred product indicators, Lin et al.
            2010; default: fast, exact ML, works with an endogenous operand) or ``"rca"``
            (residual centring, Little et al. 2006).  LMS/QML are available directly from
            :mod:`cbec_sem.propositions.interaction`.
        nca_permutations: permutations of the NCA test for necessity hypotheses.
        correction: family-wise correction of the hypotheses' p-values, any method of
            statsmodels' ``multipletests`` (e.g. ``"holm"``, Holm 1979); verdicts use it.

    Returns:
        A :class:`~cbec_sem.results.FitResult`.  A fit that did not converge, or converged to
        an inadmissible solution, has ``converged == False`` and issues a warning.
    """
    spec = as_model(model)
    auto_note = None
    if isinstance(estimator, str) and estimator.lower() == "auto":
        estimator, ordered, missing, auto_note = _choose(spec, data, ordered, missing)
    if ordered is True:
        ordered = spec.observed_variables
    ordered = () if not ordered else ((ordered,) if isinstance(ordered, str) else tuple(ordered))
    if se not in ("standard", "bootstrap"):
        raise SpecError(f"se={se!r} is not available; use se='standard' or se='bootstrap'")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or (
            bootstrap < 0):
        raise SpecError(f"bootstrap={bootstrap!r} must be a number of draws (an integer ≥ 0)")
    if not 0.0 < alpha < 1.0:
        raise SpecError(f"alpha={alpha} must lie strictly between 0 and 1 (e.g. 0.05)")
    options = FitOptions(
        estimator=estimator, information=information, meanstructure=meanstructure,
        std_lv=std_lv, fixed_x=fixed_x, group_equal=group_equal, group_partial=group_partial,
        missing=missing, level=level, max_iter=max_iter, ordered=ordered,
    )
    est = estimate(spec.statements, data, options, group=group)
    problems: list[str] = []
    admissible = True
    if est.optim.converged:
        problems = admissibility_problems(est) + identification_problems(est)
        admissible = not problems
    status = Convergence(
        optimizer_converged=est.optim.converged,
        admissible=admissible,
        iterations=est.optim.iterations,
        max_gradient=est.optim.max_gradient,
        message=est.optim.message,
        problems=tuple(problems),
    )
    if not est.optim.converged:
        warnings.warn(
            f"the model did not converge: {est.optim.message}; estimates are not trustworthy "
            "and standard errors and fit measures are not reported; check the model for "
            "misspecification, rescale variables whose variances differ by orders of "
            "magnitude, or give starting values with start()",
            ConvergenceWarning,
            stacklevel=2,
        )
    for problem in problems:
        category = IdentificationWarning if "information matrix" in problem else (
            AdmissibilityWarning)
        warnings.warn(problem, category, stacklevel=2)
    notes = [auto_note] if auto_note else []
    if est.partable.ngroups > 1:
        shared = sorted({lab for s in spec.statements if len(s.labels) == 1
                         for lab in s.labels if lab})
        if shared:
            notes.append(
                f"the label(s) {', '.join(shared)} apply to every group, so their parameters "
                "are held equal across groups (lavaan does the same); write c(a1, a2)*x for "
                "group-specific labels"
            )
    if est.stats.rows_dropped:
        notes.append(
            f"FIML dropped {est.stats.rows_dropped} of {est.stats.rows_total} rows missing on "
            "every model variable (or on a fixed covariate)" if est.stats.missing == "fiml" else
            f"listwise deletion dropped {est.stats.rows_dropped} of {est.stats.rows_total} rows"
        )
    boot = None
    if se == "bootstrap" or bootstrap:
        if est.optim.converged:
            from .resampling.bootstrap import bootstrap as run_bootstrap

            boot = run_bootstrap(est, int(bootstrap) or 1000, seed=seed, n_jobs=n_jobs,
                                 level=level)
            notes.append(boot.message())
            if se == "bootstrap":
                est = _with_bootstrap_se(est, boot)
        else:
            notes.append("no bootstrap: the model did not converge")
    if interaction_method not in ("dblcent", "rca"):
        raise SpecError(
            f"interaction_method={interaction_method!r}: choose 'dblcent' or 'rca' (LMS/QML: "
            "cbec_sem.propositions.interaction.fit_lms / fit_qml)")
    return FitResult(model=spec, estimation=est, converged=status, alpha=alpha,
                     notes=tuple(notes), bootstrap=boot, seed=seed,
                     interaction_method=interaction_method,
                     nca_permutations=int(nca_permutations), correction=correction)


def _with_bootstrap_se(est, boot):
    """The estimation with lavaan's ``se = "bootstrap"`` columns: bootstrap SE, z = est/se,
    two-sided normal p, percentile interval; ``vcov`` the bootstrap covariance matrix."""
    params = est.params.copy()
    table = boot.table
    free = np.ones(len(params), dtype=bool)
    free[: len(est.partable.frame)] = est.ram.free_index >= 0
    se = table["se"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(free & (se > 0), params["est"].to_numpy(dtype=float) / se, np.nan)
    params["se"] = se
    params["z"] = z
    params["pvalue"] = 2.0 * special.ndtr(-np.abs(z))
    params["ci.lower"] = table["ci.lower"].to_numpy(dtype=float)
    params["ci.upper"] = table["ci.upper"].to_numpy(dtype=float)
    frame = est.partable.frame.copy()
    frame["se"] = se[: len(frame)]
    options = replace(est.options, extra={**est.options.extra, "se": "bootstrap",
                                          "bootstrap": boot.draws})
    return replace(est, params=params, vcov=boot.vcov,
                   partable=replace(est.partable, frame=frame), options=options)
