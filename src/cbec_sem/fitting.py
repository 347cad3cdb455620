"""``cs.fit()``: the one call that takes a model and data to a :class:`FitResult`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from .propositions.verdicts import INTERACTION_METHODS
from .validation import check_choice, check_fit_arguments
from .modelfit import FitArguments, fit_model
from .results import FitResult
from .specification.model import ModelSpec


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
    estimator_options: dict | None = None,
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
            ``"ULSMV"``, ``"DWLS"``, ``"ULS"`` (ordered items), ``"LMS"``/``"QML"`` (latent interactions ``X:Z``), or
            ``"auto"``: chosen from
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
        estimator_options: options of the chosen estimator that ``cs.fit`` has no argument
            for, e.g. PLS's ``{"scheme": "factorial", "hoc": "repeated_indicators"}`` (see
            the estimator's module in :mod:`cbec_sem.engine.estimators`); a key the
            estimator does not take is refused.  The ML family with ``missing="fiml"``
            takes ``{"fiml_work_limit": x}`` and the ordinal estimators
            ``{"ordinal_work_limit": x}``: the work (about 10 ns units, default about 2 s)
            above which such a fit is refused before it starts, ``None`` for no limit
            (:mod:`cbec_sem.engine.work_limits`).
        interaction_method: how ``res.hypotheses`` tests interaction and moderation
            hypotheses when the fit itself has no product terms: ``"dblcent"``
            (double-mean-centred product indicators, Lin et al. 2010; default), ``"rca"``
            (residual centring, Little et al. 2006), ``"lms"`` or ``"qml"`` (a refit of the
            model with the product terms by LMS or QML).  A fit with ``estimator="LMS"`` or
            ``"QML"`` tests its own product terms.
        nca_permutations: permutations of the NCA test for necessity hypotheses.
        correction: family-wise correction of the hypotheses' p-values, any method of
            statsmodels' ``multipletests`` (e.g. ``"holm"``, Holm 1979); verdicts use it.

    Returns:
        A :class:`~cbec_sem.results.FitResult`.  A fit that did not converge, or converged to
        an inadmissible solution, has ``converged == False`` and issues a warning.

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> bool(res.converged)
        True
        >>> res.fit_measures[["chisq", "df", "cfi", "rmsea"]].round(3)
        chisq    141.881
        df       162.000
        cfi        1.000
        rmsea      0.000
        Name: fit measures, dtype: float64
        >>> res.hypotheses[["id", "verdict"]].head(3)
           id        verdict
        0  H1  not supported
        1  H2      supported
        2  H3      supported
    """
    given = dict(locals())
    # the hypothesis options are checked here, the estimation arguments by fit_model, each
    # once and before any work (cbec_sem.validation)
    hyp = check_fit_arguments(alpha=alpha, correction=correction,
                              nca_permutations=nca_permutations)
    alpha, correction, nca_permutations = hyp["alpha"], hyp["correction"], hyp["nca_permutations"]
    interaction_method = check_choice(interaction_method, "interaction_method",
                                      INTERACTION_METHODS)
    fitted = fit_model(model, data, **{f.name: given[f.name] for f in fields(FitArguments)})
    return FitResult.from_fitted(fitted, alpha=alpha, interaction_method=interaction_method,
                                 nca_permutations=int(nca_permutations), correction=correction)
