"""The fitted model, before any hypothesis is tested: :func:`fit_model` and :class:`FittedModel`.

``fit_model`` validates the arguments once, looks the estimator up in the registry
(:mod:`cbec_sem.engine.estimators`), lets it refuse what it cannot honour, estimates, and adds
the bootstrap when asked.  The measurement and proposition stages refit helper models through
it (a CFA for the method-bias battery, each step of the invariance ladder, the product-indicator
model); ``cs.fit`` (:mod:`cbec_sem.fitting`) wraps its result in a
:class:`~cbec_sem.results.FitResult`, which adds the hypotheses, validation and reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from .engine.choose import choose_estimator, ordinal_items
from .engine.convergence import Convergence
from .engine.estimators import FitRequest, get_estimator
from .engine.estimators.pls import BOOTSTRAP_OPTIONS as PLS_BOOTSTRAP_OPTIONS
from .engine.naming import parameter_name
from .engine.options import FitOptions
from .survey.fit_checks import as_frame
from .errors import SpecError
from .validation import check_fit_arguments
from .resampling.bootstrap import BootstrapResult
from .resampling.bootstrap import bootstrap as run_bootstrap
from .engine.latent import checked_inverse_hessian, fit_lms, fit_qml
from .pls import bootstrap_pls
from .resampling.refit_bootstrap import refit_bootstrap, with_refit_se
from .specification.model import ModelSpec, as_model

__all__ = ["FittedModel", "FitArguments", "fit_model"]


@dataclass(frozen=True, eq=False)
class FittedModel:
    """A fitted model of any estimator: what every later stage reads.

    Attributes:
        model: the specification that was fitted.
        estimation: the estimator's own output: an
            :class:`~cbec_sem.engine.estimate.Estimation` (ML and WLS families) or an
            :class:`~cbec_sem.engine.latent.InteractionFit` (LMS, QML).
        converged: a :class:`Convergence` status (truthy when usable).
        notes: what the fit did that the user should know (rows dropped, ...).
        bootstrap: the :class:`~cbec_sem.resampling.BootstrapResult`, if any.
        seed: the seed of the fit's randomness.
        estimator: the registered name of the estimator used.
        se: ``"standard"`` or ``"bootstrap"``: where the standard errors come from.

    Examples:
        >>> res = cs.fit("F =~ x1 + x2 + x3", cs.datasets.holzinger_swineford_1939())
        >>> isinstance(res, cs.FittedModel), res.estimator, res.nobs
        (True, 'ML', (301,))
        >>> res.params[["lhs", "op", "rhs", "est"]].head(3).round(3)
          lhs  op rhs    est
        0   F  =~  x1  1.000
        1   F  =~  x2  0.778
        2   F  =~  x3  1.107
    """

    model: ModelSpec
    estimation: Any
    converged: Convergence
    notes: tuple[str, ...] = field(default=())
    bootstrap: BootstrapResult | None = None
    seed: int | None = None
    estimator: str = "ML"
    se: str = "standard"

    @property
    def is_covariance_fit(self) -> bool:
        """True for the ML and WLS families (an Estimation with RAM matrices and moments)."""
        return hasattr(self.estimation, "ram")

    @property
    def params(self) -> pd.DataFrame:
        """lavaan's ``parameterEstimates(standardized = TRUE)``: ``lhs, op, rhs, group, label,
        est, se, z, pvalue, ci.lower, ci.upper, std.lv, std.all``, then ``:=`` rows (LMS/QML:
        ``std.all`` as modsem's ``standardized_estimates``).

        A new frame each time (:func:`_handed_out`)."""
        return _handed_out(self.estimation.params)

    @property
    def fit_measures(self) -> pd.Series:
        """Fit measures keyed by lavaan's ``fitMeasures()`` names (LMS/QML: logl, aic, bic,
        the likelihood-ratio test of the product terms, R² and ΔR²)."""
        return _handed_out(self.estimation.fit_measures)

    @property
    def partable(self) -> pd.DataFrame:
        """The full parameter table (lavaan's ``parTable()`` columns)."""
        return _handed_out(self.estimation.partable_frame)

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the free parameters, labelled by
        :func:`~cbec_sem.engine.naming.parameter_name`."""
        return self.estimation.vcov_frame()

    @property
    def nobs(self) -> tuple[int, ...]:
        """Observations used, per group."""
        return tuple(self.estimation.group_nobs)

    @property
    def ntotal(self) -> int:
        """Observations used, all groups."""
        return int(sum(self.nobs))


def _choose(spec: ModelSpec, data, ordered, missing: str):
    """``estimator="auto"``: the estimator, ordered items and missing-data method that
    :func:`cbec_sem.engine.choose.choose_estimator` picks from the model's items, and a note."""
    chosen, reason = choose_estimator(as_frame(data), list(spec.observed_variables),
                                      ordered=ordered or None)
    if chosen == "WLSMV" and not ordered:
        # the items choose_estimator judged ordinal; the others stay continuous (mixed WLSMV)
        ordered = ordinal_items(as_frame(data), list(spec.observed_variables), None)
    if chosen == "MLR" and missing == "listwise" and "fiml" in reason:
        missing = "fiml"
    return chosen, ordered, missing, f"estimator='auto' chose {chosen}: {reason}"


@dataclass(frozen=True)
class FitArguments:
    """The estimation arguments of :func:`cbec_sem.fit` (documented there), with its defaults."""

    estimator: str = "ML"
    missing: str = "listwise"
    ordered: Sequence[str] | bool | None = None
    group: str | None = None
    group_equal: Sequence[str] | str = ()
    group_partial: Sequence[str] | str = ()
    se: str = "standard"
    bootstrap: int = 0
    seed: int | None = None
    n_jobs: int = 1
    information: str | None = None
    std_lv: bool = False
    meanstructure: bool | None = None
    fixed_x: bool = True
    level: float = 0.95
    max_iter: int = 500
    estimator_options: dict | None = None


#: pandas ≥ 3 always copies on write; pandas 2 only with the option set.
_COPY_ON_WRITE = (int(pd.__version__.split(".")[0]) >= 3
                  or bool(getattr(getattr(pd.options, "mode", None), "copy_on_write", False)))


def _handed_out(frame):
    """A frame or Series of the result for the caller to keep: writing to it must never
    change the result.  Under copy-on-write a shallow copy is enough (a write copies the
    data first) at a quarter of a deep copy's cost; otherwise a deep copy."""
    return frame.copy(deep=not _COPY_ON_WRITE)


def fit_model(model: ModelSpec | str, data, **arguments) -> FittedModel:
    """Fit a model with a registered estimator.  ``arguments`` are the estimation arguments
    of :func:`cbec_sem.fit` (:class:`FitArguments`); hypothesis options are refused here."""
    unknown = sorted(set(arguments) - {f.name for f in fields(FitArguments)})
    if unknown:
        raise SpecError(f"unknown fit argument(s) {', '.join(map(repr, unknown))}; the "
                        f"arguments are those of cs.fit: "
                        f"{', '.join(f.name for f in fields(FitArguments))}")
    # the one argument validator (cbec_sem.validation), at this boundary of every fit
    a = FitArguments(**check_fit_arguments(**arguments))
    estimator, missing, ordered, se, bootstrap = (a.estimator, a.missing, a.ordered, a.se,
                                                  a.bootstrap)
    spec = as_model(model)
    auto_note = None
    if isinstance(estimator, str) and estimator.lower() == "auto":
        estimator, ordered, missing, auto_note = _choose(spec, data, ordered, missing)
    chosen = get_estimator(estimator)
    if ordered is True:
        ordered = spec.observed_variables
    ordered = () if not ordered else ((ordered,) if isinstance(ordered, str) else tuple(ordered))
    options = FitOptions(
        estimator=chosen.name, information=a.information, meanstructure=a.meanstructure,
        std_lv=a.std_lv, fixed_x=a.fixed_x, group_equal=a.group_equal,
        group_partial=a.group_partial, missing=missing, level=a.level, max_iter=a.max_iter,
        ordered=ordered, extra={"information_given": a.information is not None,
                                "estimator_options": dict(a.estimator_options or {})},
    )
    request = FitRequest(spec.statements, data, options, a.group)
    chosen.check(request, se="bootstrap" if (se == "bootstrap" or bootstrap) else "standard")
    out = chosen.estimate(request)
    est = out.estimation
    notes = [auto_note] if auto_note else []
    notes += list(est.fit_notes(spec))
    boot = None
    if se == "bootstrap" or bootstrap:
        if out.convergence.optimizer_converged:
            est, boot = BOOTSTRAPS[chosen.family](est, int(bootstrap) or 1000, a,
                                                  se == "bootstrap")
            notes.append(boot.message())
        else:
            notes.append("no bootstrap: the model did not converge")
    # the estimator that ran: "ML" given ordered items runs lavaan's WLSMV, and every later
    # stage (hypothesis methods, report titles, semopy cross-checks) must say so
    ran = getattr(getattr(est, "options", None), "estimator", None) or chosen.name
    return FittedModel(model=spec, estimation=est, converged=out.convergence,
                       notes=tuple(notes), bootstrap=boot, seed=a.seed, estimator=ran,
                       se="bootstrap" if (se == "bootstrap" and boot is not None) else "standard")


def _covariance_bootstrap(est, draws: int, a: FitArguments, replace_se: bool):
    """Lean-refit bootstrap of an ML- or WLS-family fit (:mod:`cbec_sem.resampling`)."""
    boot = run_bootstrap(est, draws, seed=a.seed, n_jobs=a.n_jobs, level=a.level)
    return (_with_bootstrap_se(est, boot) if replace_se else est), boot


def _pls_bootstrap(est, draws: int, a: FitArguments, replace_se: bool):
    """The batched PLS bootstrap (:func:`cbec_sem.pls.bootstrap_pls`; by default percentile
    intervals and no sign change, as seminr; ``estimator_options`` may choose BCa or
    studentised intervals and a sign-change option, :data:`~cbec_sem.engine.estimators.pls.
    BOOTSTRAP_OPTIONS`)."""
    options = {k: v for k, v in (a.estimator_options or {}).items() if k in PLS_BOOTSTRAP_OPTIONS}
    boot = bootstrap_pls(est, draws, seed=a.seed, level=a.level, **options)
    if replace_se:
        est = replace(est, params=boot.params, vcov=boot.parameter_vcov(boot.params))
    return est, boot


def _latent_bootstrap(est, draws: int, a: FitArguments, replace_se: bool):
    """LMS/QML: every draw refitted from the estimates (modsem's ``bootstrap_modsem``)."""
    fitter = fit_lms if est.method == "LMS" else fit_qml
    params = est.params
    data = pd.DataFrame(est.data, columns=list(est.model.observed))
    boot = refit_bootstrap(_LatentRefit(fitter, est.model, est.theta, _warm_inverse(est)),
                           data, params, draws, seed=a.seed, n_jobs=a.n_jobs, level=a.level)
    if replace_se:
        row_of = {parameter_name(x, o, y): k for k, (x, o, y) in enumerate(
            zip(params["lhs"], params["op"], params["rhs"]))}
        cols = np.array([row_of[n] for n in est.model.parameter_names])
        est = replace(est, bootstrap_params=with_refit_se(params, boot),
                      bootstrap_vcov=boot.vcov(cols))
    return est, boot


def _warm_inverse(est) -> np.ndarray | None:
    """The inverse Hessian of −ℓ/N at the estimates, N·Cov(θ̂) (the fit's ``vcov`` is the
    inverse observed information of ℓ): the quasi-Newton start of every bootstrap refit,
    which begins at the estimates too.  A resample's optimum lies about one standard error
    away, where this curvature is nearly right, so a refit takes a few quasi-Newton
    iterations instead of the dozens BFGS needs from the identity, and LMS needs no EM phase
    (20 draws of modsem's oneInt model, N = 500: QML 2.4 → 0.8 s, 1,227 → 269 evaluations;
    LMS 4.7 → 1.3 s; each draw within 1e-3 of its bootstrap SD of the cold refit's).
    ``None`` when the fit has no finite, positive-definite covariance matrix (the fitters'
    own check of the argument, :func:`~cbec_sem.engine.latent.checked_inverse_hessian`,
    decides)."""
    vcov = est.vcov_matrix
    if vcov is None:
        return None
    try:
        return checked_inverse_hessian(est.data.shape[0] * vcov, vcov.shape[0])
    except SpecError:
        return None


@dataclass(frozen=True)
class _LatentRefit:
    """One LMS/QML refit of a resample, warm-started at the estimates and their curvature
    (:func:`_warm_inverse`; picklable)."""

    fitter: Any
    model: Any
    start: np.ndarray
    inverse_hessian: np.ndarray | None = None

    def __call__(self, sample: pd.DataFrame) -> np.ndarray | None:
        fit = self.fitter(self.model, sample, se="none", start=self.start,
                          start_inverse_hessian=self.inverse_hessian)
        return fit.params["est"].to_numpy() if fit.converged.optimizer_converged else None


#: how each estimator family bootstraps
BOOTSTRAPS = {"ML": _covariance_bootstrap, "WLS": _covariance_bootstrap,
              "PLS": _pls_bootstrap, "latent interaction": _latent_bootstrap}


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
