"""How much work an estimation is, and the limits above which it is refused (issue 14).

Two estimators have work that a small file can make grow without bound: FIML (below) and the
ordinal estimators' asymptotic covariance (:data:`ORDINAL_WORK_LIMIT`).  Each limit is an
estimator option of ``cs.fit`` (:func:`option_limit`).  Two analyses that are not fits have
their limits here too, each as its own ``work_limit=`` argument (:func:`limit_value`): the
simulated samples of :func:`cbec_sem.parallel_analysis` (:data:`PARALLEL_WORK_LIMIT`) and the
score tests of :func:`cbec_sem.modindices` (:data:`MODINDICES_WORK_LIMIT`); and the ULMC
step of :func:`cbec_sem.common_method_bias` (:data:`METHOD_BIAS_WORK_LIMIT`).

FIML.

The cost of full-information ML grows with the number of distinct missing-data patterns P, and
nothing in a small data file bounds P: a 1 MB CSV of 60 items with 5% of the answers missing
has a few thousand patterns, and its fit would run for minutes.  So the work is estimated from
the patterns before it is done, in *units* of about 10 ns of one core (the machine the
constants were measured on, a shared 2-core VM; ``python benchmarks/bench_hostile.py --case
FIML``), and the fit is refused above :data:`FIML_WORK_LIMIT` units (1.5 s, leaving room for
the work not counted: reading the data, the patterns' statistics, the fit measures, the
standard errors' inverse; about 2 s in all) with a message
that says how to run it anyway: ``cs.fit(..., estimator_options={"fiml_work_limit": x})``
(``None`` for no limit).

Per group, with pₖ the variables observed in pattern k, r the free entries of the model's
matrices and p the variables:

* the saturated model's EM (:func:`.em.em_saturated`): 0.2 · Σₖ pₖ³ per iteration
  (:func:`em_work`; 1.2–2.2e-9 s per Σₖ pₖ³ and iteration measured with 36–60 items, less
  with 132).  The EM is refused before it starts when :data:`EM_ITERATIONS` iterations would
  exceed the limit, and stops with the refusal when the iterations it needs do;
* the fit, refused before it starts when the EM's work and its own exceed the limit: every
  Fisher-scoring step sums P patterns' r × r expected information, and the
  standard errors P patterns' r × r Hessians (:mod:`.observed_information`):
  15 · P · r² units (:func:`fit_work`; 36 items in 538 patterns with r = 174 measured
  2.7 s, 60 items in 195 patterns with r = 370 6.6 s);
* the FIML-corrected robust fit indices (:func:`.fiml.fiml_corrected`): the pattern sum of
  p⁴ Kronecker terms and the inverse of the p* × p* saturated information,
  (P · p⁴ + p*³) / 50 units (:func:`robust_work`).  Where they would take the total above
  the limit they are left out (NaN, with a warning) rather than the fit refused.
"""

from __future__ import annotations

import numpy as np

from ..errors import EstimationError, SpecError

#: Units of work (about 10 ns each on one core) a FIML fit may take before it is refused: 1.5 s
#: counted, about 2 s in all.  ``cs.fit(..., estimator_options={"fiml_work_limit": x})`` sets
#: another limit for one fit (``None``: no limit).
FIML_WORK_LIMIT = 1.5e8

#: The estimator option that sets it.
FIML_OPTION = "fiml_work_limit"


def option_limit(options, name: str, default: float) -> float:
    """The limit ``estimator_options[name]`` of a fit's :class:`~.options.FitOptions` if
    given (``None``: no limit), else ``default``.

    Raises:
        SpecError: the option is not a positive number or ``None``.
    """
    given = dict(options.extra.get("estimator_options") or {})
    if name not in given:
        return default
    return limit_value(given[name], f"estimator_options={{{name!r}: {given[name]!r}}}",
                       default)


def limit_value(value, shown: str, default: float) -> float:
    """A work limit as given (a keyword argument such as ``work_limit=`` of a function that
    is not a fit, or an estimator option): a positive number of units, or ``None`` for no
    limit (``inf``).  ``shown`` is how the argument reads in the error message.

    Raises:
        SpecError: the value is not a positive number or ``None``.
    """
    if value is None:
        return np.inf
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not value > 0:
        raise SpecError(f"{shown}: give a positive number "
                        f"of work units (the default is {default:.1e}, about "
                        f"{default * 1e-8:.1f} s), or None for no limit")
    return float(value)


def work_limit(options) -> float:
    """A FIML fit's limit: ``estimator_options["fiml_work_limit"]``, else
    :data:`FIML_WORK_LIMIT`."""
    return option_limit(options, FIML_OPTION, FIML_WORK_LIMIT)


#: The EM iterations a refusal before the EM assumes (the 36–132-item cases above needed 9–17).
EM_ITERATIONS = 8


def em_work(observed: np.ndarray) -> float:
    """0.2 · Σₖ pₖ³, one EM iteration over the patterns (rows of the P × p boolean
    ``observed``) of one group."""
    return 0.2 * float((observed.sum(axis=1).astype(float) ** 3).sum())


def fit_work(observed: np.ndarray, entries: int) -> float:
    """15 · P · r² for one group's P patterns and r free matrix entries."""
    return 15.0 * observed.shape[0] * float(entries) ** 2


def robust_work(observed: np.ndarray) -> float:
    """(P · p⁴ + p*³) / 50 for one group's P patterns over p variables (p* = p + p(p+1)/2)."""
    P, p = observed.shape
    pstar = p + p * (p + 1) / 2
    return (P * float(p) ** 4 + pstar ** 3) / 50.0


def too_much(work: float, limit: float, what: str, option: str = FIML_OPTION,
             keyword: bool = False) -> str:
    """The part of a refusal or warning that states the work and how to allow it: through
    ``estimator_options`` of a fit, or (``keyword``) the function's own ``option=`` argument."""
    subject = f"{what} " if what else ""
    allow = (f"{option}=None" if keyword
             else f"estimator_options={{{option!r}: None}}")
    return (f"{subject}is about {work:.1e} units of work (~{work * 1e-8:,.1f} s on one "
            f"core), more than the limit of {limit:.1e} (~{limit * 1e-8:,.1f} s; "
            "cbec_sem.engine.work_limits); "
            f"allow it with {allow} (no limit) or a larger "
            "limit")


# --------------------------------------------------------------------------- ordinal

#: Units (about 10 ns each) an ordinal fit (WLSMV, ULSMV, DWLS, ULS) may take: about 2 s.
#: Its cost grows with the square of k = p(p−1)/2 + p (the polychoric correlations and,
#: roughly, the thresholds): the asymptotic covariance Γ (n × k scores, then k × k), the
#: scaled test's traces and the catML correction (k² · q).  Measured on one core under load
#: (``benchmarks/bench_hostile.py --case WLSMV``): 42 items 0.7 s, 60 items
#: 2.4 s at N = 2000, 2.4 s at N = 1000; 132 items ran for minutes.  Work:
#: k² · (50 + n/100) units, checked before the polychorics are estimated.
ORDINAL_WORK_LIMIT = 2.0e8

#: The estimator option that sets it.
ORDINAL_OPTION = "ordinal_work_limit"


def ordinal_work(p: int, n: int) -> float:
    """k² · (50 + n/100) units for p items and n rows, k = p(p−1)/2 + p."""
    k = p * (p - 1) / 2 + p
    return k * k * (50.0 + n / 100.0)


def check_ordinal_work(p: int, n: int, options) -> None:
    """Refuses an ordinal fit whose statistics' work exceeds its limit
    (``estimator_options["ordinal_work_limit"]``, else :data:`ORDINAL_WORK_LIMIT`).

    Raises:
        EstimationError: naming the items, the rows and the option that allows it.
    """
    limit = option_limit(options, ORDINAL_OPTION, ORDINAL_WORK_LIMIT)
    work = ordinal_work(p, n)
    if work > limit:
        raise EstimationError(
            f"this ordinal fit is not run: its {p * (p - 1) // 2:,} polychoric correlations "
            f"of {p} items over {n:,} rows, with their asymptotic covariance, "
            + too_much(work, limit, "", ORDINAL_OPTION)
            + "; or fit fewer items, or treat the items as continuous (estimator='MLR')")


# ------------------------------------------------ limits of functions that are not fits

#: The keyword argument that sets the limit of a function that is not a fit.
WORK_LIMIT_KEYWORD = "work_limit"


def refuse_above(work: float, limit, default: float, refusal: str, what: str = "",
                 alternative: str = "") -> None:
    """The check of a function's ``work_limit=`` argument (:func:`limit_value`): an
    EstimationError of ``refusal`` + the work and how to allow it (:func:`too_much`, the
    ``what`` it is about) + ``alternative`` when ``work`` exceeds the limit.

    Raises:
        SpecError: ``limit`` is not a positive number or ``None``.
        EstimationError: the work exceeds the limit.
    """
    limit = limit_value(limit, f"work_limit={limit!r}", default)
    if work > limit:
        raise EstimationError(refusal + too_much(work, limit, what, WORK_LIMIT_KEYWORD,
                                                 keyword=True) + alternative)


# ------------------------------------------------------------------ parallel analysis

#: Units (about 10 ns each) a :func:`cbec_sem.parallel_analysis` may take: 1.5 s counted, as a
#: FIML fit.  Its cost is ``n_iter`` simulated samples of the data's size, each
#: :func:`parallel_work`; ``parallel_analysis(..., work_limit=x)`` sets another limit
#: (``None``: no limit).  60 items at N = 2000 with the default 100 samples are about 0.9e8
#: units; 252 items at N = 2000 are 6.4e8 (5.7 s measured, ``benchmarks/bench_hostile.py
#: --case parallel_analysis``), refused with the ``n_iter`` that fits.
PARALLEL_WORK_LIMIT = 1.5e8


def parallel_work(p: int, n: int) -> float:
    """Units of one simulated sample of a parallel analysis of ``p`` items and ``n`` rows:
    1.8 · n · p (the normal draws), 0.0055 · n · p² (their correlation matrix), 0.26 · p³
    (two full eigendecompositions, the squared multiple correlations' inverse and the ~6
    leading-eigenpair steps of the one-factor minres fit) and 6e5 (the fit's optimiser
    calls).  Measured on one core: 252 items at N = 2000 about 57 ms, 60 items about 9 ms."""
    return 1.8 * n * p + 0.0055 * n * p * p + 0.26 * float(p) ** 3 + 6.0e5


def check_parallel_work(p: int, n: int, n_iter: int, limit) -> None:
    """Refuses a parallel analysis whose ``n_iter`` simulated samples exceed ``limit`` units
    (the ``work_limit`` argument: a number, or ``None`` for no limit).

    Raises:
        SpecError: ``limit`` is not a positive number or ``None``.
        EstimationError: naming the samples, the data's size, the work and how to proceed
            (``work_limit=None``, or the largest ``n_iter`` within the limit).
    """
    limit = limit_value(limit, f"work_limit={limit!r}", PARALLEL_WORK_LIMIT)
    per = parallel_work(p, n)
    work = n_iter * per
    if work > limit:
        fits = int(limit // per)
        fewer = (f"; or n_iter={fits} (at most {fits} samples fit the limit)" if fits >= 1
                 else "; or fewer items")
        raise EstimationError(
            f"this parallel analysis is not run: {n_iter:,} simulated samples of {n:,} rows "
            f"x {p} items (each: normal draws, a {p} x {p} correlation matrix, its "
            "eigenvalues and a one-factor minres fit) "
            + too_much(work, limit, "", WORK_LIMIT_KEYWORD, keyword=True) + fewer)


# ----------------------------------------------------------------------- modindices

#: Units (about 10 ns each) the score tests of :func:`cbec_sem.modindices` may take: about
#: 1.8 s.  Their cost is the cross-information I_θφ (q × candidates) and its triangular solve
#: against I_θθ's Cholesky factor, q² · candidates multiply-adds: 44 constructs of 3 items
#: (q = 1,210, ~15,000 candidates) 1.56 s measured (``benchmarks/bench_hostile.py --case
#: modindices``), 1.6e8 units; 50 constructs would take ~3 s.  ``modindices(...,
#: work_limit=x)`` sets another limit (``None``: no limit).
MODINDICES_WORK_LIMIT = 1.8e8


def modindices_work(q: int, candidates: int) -> float:
    """Units of the score tests of ``candidates`` parameters of a model of ``q`` free
    parameters: q² · candidates / 140 (calibrated on the 44-construct case above)."""
    return float(q) ** 2 * float(candidates) / 140.0


def check_modindices_work(q: int, candidates: int, limit) -> None:
    """Refuses modification indices whose work exceeds ``limit`` units (the ``work_limit``
    argument: a number, or ``None`` for no limit), before any information is formed.

    Raises:
        SpecError: ``limit`` is not a positive number or ``None``.
        EstimationError: naming the parameters, the candidates, the work and how to proceed.
    """
    refuse_above(modindices_work(q, candidates), limit, MODINDICES_WORK_LIMIT,
                 f"these modification indices are not computed: {candidates:,} candidate "
                 f"parameters of a model with {q:,} free parameters (each candidate's score "
                 "test solves against the q x q information) ")


# -------------------------------------------------------------------- method bias

#: Units (about 10 ns each) :func:`cbec_sem.common_method_bias` may take with its ULMC step:
#: about 1.9 s.  The battery fits the substantive model, Harman's one-factor model and the
#: ULMC model (every item also on a method factor), whose q ≈ 3p + k(k + 1)/2 free
#: parameters for p items of k correlated constructs set the cost: 44 constructs of 3 items
#: (q ≈ 1,386) 1.66 s, 50 constructs (q ≈ 1,725) 2.34 s measured with method variance
#: (``benchmarks/bench_hostile.py --case common_method_bias``).  Work: 86 · q² units,
#: checked before any fit.  ``common_method_bias(..., work_limit=x)`` sets another limit
#: (``None``: no limit); ``ulmc=False`` runs the other checks without it.
METHOD_BIAS_WORK_LIMIT = 1.9e8


def ulmc_parameters(p: int, k: int) -> int:
    """About how many free parameters the ULMC model of ``p`` items of ``k`` correlated
    constructs has: 3p + k(k + 1)/2 (loadings, method loadings and residual variances of the
    items; the constructs' variances and covariances)."""
    return 3 * p + k * (k + 1) // 2


def method_bias_work(p: int, k: int) -> float:
    """Units of the method-bias battery with its ULMC model for ``p`` items of ``k``
    constructs: 86 · q² with q = :func:`ulmc_parameters` (calibrated on the cases above)."""
    return 86.0 * float(ulmc_parameters(p, k)) ** 2


def check_method_bias_work(p: int, k: int, limit) -> None:
    """Refuses the ULMC step of the method-bias battery above ``limit`` units (the
    ``work_limit`` argument: a number, or ``None`` for no limit), before any fit.

    Raises:
        SpecError: ``limit`` is not a positive number or ``None``.
        EstimationError: naming the items, the constructs, the work and how to proceed.
    """
    refuse_above(method_bias_work(p, k), limit, METHOD_BIAS_WORK_LIMIT,
                 f"this method-bias battery is not run: its ULMC model puts all {p:,} items "
                 f"of {k:,} constructs on a method factor as well (three CFA fits of about "
                 f"{ulmc_parameters(p, k):,} parameters): ", "the battery",
                 "; or ulmc=False (Harman's test and the marker analysis only)")
