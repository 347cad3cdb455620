"""Probing interactions: simple slopes, Johnson–Neyman regions, conditional indirect effects.

These probes need only regression coefficients and their covariance matrix, so they work from
any interaction fit — product indicators now (:class:`InteractionEstimates.
from_product_indicator_fit`), LMS/QML or an ordinary regression through
:class:`InteractionEstimates` directly.

With the outcome equation ``Y = b1·X + b2·W + b3·X·W + ...`` (X the focal predictor, W the
moderator):

* **simple slope** of X at W = w (Aiken & West 1991, ch. 2): ω(w) = b1 + b3·w, with
  var ω(w) = var b1 + w²·var b3 + 2w·cov(b1, b3) (the delta method is exact here: ω is linear);
  z = ω/se, two-sided normal p and Wald interval, as for every ML estimate.  By default w is
  the moderator's mean and mean ± 1 SD; a latent moderator has mean 0.
* **Johnson–Neyman points** (Johnson & Neyman 1936; Bauer & Curran 2005, eq. 9): the values of
  w where ω(w)/se(w) = ±z_crit, i.e. the roots of
  (b3² − z²·v33)·w² + 2(b1·b3 − z²·v13)·w + (b1² − z²·v11) = 0.
  Between or outside them the simple slope is significant; :class:`JNResult` says which, and
  says plainly when there is no region of significance or when it is unbounded.
* **conditional indirect effect** (Hayes 2015, *Multivariate Behavioral Research* 50, 1–22)
  of X on Y through M when W moderates the first stage (M = a1·X + a3·X·W + ...) and/or the
  second stage (Y = b1·M + b3·M·W + ...): θ(w) = (a1 + a3·w)(b1 + b3·w), with a delta-method
  standard error and, optionally, a Monte Carlo interval (Preacher & Selig 2012): draws of the
  coefficients from N(θ̂, V̂), seeded.
* **index of moderated mediation** (Hayes 2015): the slope of θ(w) in w when only one stage is
  moderated — a3·b1 (first stage) or a1·b3 (second stage); a test of it is a test of
  moderated mediation.  When both stages are moderated θ(w) is quadratic in w and there is no
  single index; compare conditional indirect effects instead.

Which value w means: the moderator enters the product in the metric of the fit.  For latent
variables (product indicators from mean-centred items, LMS, QML) that is the deviation from the
latent mean, 0; for observed variables :meth:`InteractionEstimates.from_product_indicator_fit`
re-expresses the coefficients for the raw product, so w is a raw value of the moderator.

Plots: :func:`~cbec_sem.propositions.moderation_plot.plot_simple_slopes` and
:func:`~cbec_sem.propositions.moderation_plot.plot_johnson_neyman` (matplotlib, installed with
``pip install "cbec-sem[plot]"``).

References
----------
Aiken, L. S., & West, S. G. (1991). *Multiple regression: Testing and interpreting
interactions*. Newbury Park, CA: Sage.

Bauer, D. J., & Curran, P. J. (2005). Probing interactions in fixed and multilevel regression:
Inferential and graphical techniques. *Multivariate Behavioral Research*, 40(3), 373–400.

Hayes, A. F. (2015). An index and test of linear moderated mediation. *Multivariate Behavioral
Research*, 50(1), 1–22.

Johnson, P. O., & Neyman, J. (1936). Tests of certain linear hypotheses and their application
to some educational problems. *Statistical Research Memoirs*, 1, 57–93.

Preacher, K. J., & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals for
indirect effects. *Communication Methods and Measures*, 6(2), 77–98.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special  # ndtr/ndtri: the normal cdf/quantile without scipy.stats

from ..protocol import Block, ResultProtocol, Summary
from ..errors import DataError, SpecError
from ..pls import PLSBootstrap, PLSEstimation
from ..pls.moderation import pls_johnson_neyman, pls_simple_slopes

__all__ = [
    "InteractionEstimates",
    "JNResult",
    "simple_slopes",
    "johnson_neyman",
    "conditional_indirect",
    "index_of_moderated_mediation",
]


def _norm_key(key: str) -> str:
    """``"SCI ~ TA"`` → ``"SCI~TA"``; product parts keep their order."""
    if not isinstance(key, str) or "~" not in key or "~~" in key or "=~" in key:
        raise SpecError(f"a coefficient key is 'outcome~predictor' (e.g. 'SCI~TA:PC'), "
                        f"not {key!r}")
    lhs, rhs = key.split("~", 1)
    parts = [p.strip() for p in rhs.replace("*", ":").split(":")]
    return f"{lhs.strip()}~{':'.join(parts)}"


@dataclass(frozen=True)
class InteractionEstimates:
    """Regression coefficients of an interaction model and their covariance matrix.

    Attributes:
        coef: ``"outcome~predictor"`` → estimate, e.g. ``{"SCI~TA": .3, "SCI~PC": .2,
            "SCI~TA:PC": .12}`` (spaces are ignored; ``"SCI ~ TA"`` is the same key).
        vcov: the coefficients' covariance matrix, index and columns labelled with the same
            keys (fixed coefficients: rows and columns of zeros).
        moderator_mean: the moderator's mean, in the metric in which it enters the product
            (0 for a latent moderator).
        moderator_sd: its standard deviation (must be positive for SD-based probes).
        focal_sd, outcome_sd: standard deviations of the focal predictor and the outcome, for
            standardised simple slopes; ``None`` when unknown.
        moderator: the moderator's name, when the estimates were made for one (probes for
            another moderator are refused, since the mean and SD would be wrong).
        focal_mean: the focal predictor's mean (for plots; 0 for latent variables).
    """

    coef: Mapping[str, float]
    vcov: pd.DataFrame
    moderator_mean: float = 0.0
    moderator_sd: float = 1.0
    focal_sd: float | None = None
    outcome_sd: float | None = None
    moderator: str | None = None
    focal_mean: float = 0.0
    _index: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.coef, Mapping) or not self.coef:
            raise SpecError("coef must be a non-empty mapping 'outcome~predictor' → estimate")
        coef = {}
        for k, v in self.coef.items():
            nk = _norm_key(k)
            if nk in coef:
                raise SpecError(f"the coefficient {k!r} is given twice")
            try:
                coef[nk] = float(v)
            except (TypeError, ValueError):
                raise SpecError(f"the coefficient {k!r} is not a number: {v!r}") from None
        if not isinstance(self.vcov, pd.DataFrame):
            raise SpecError("vcov must be a DataFrame labelled with the coefficient keys")
        rows = [_norm_key(str(k)) for k in self.vcov.index]
        cols = [_norm_key(str(k)) for k in self.vcov.columns]
        if rows != cols:
            raise SpecError("vcov must have the same labels, in the same order, on its index "
                            "and its columns")
        missing = [k for k in coef if k not in rows]
        if missing:
            raise SpecError(
                f"vcov has no row for {', '.join(map(repr, missing))}; give every coefficient "
                "a row and column (zeros for a fixed coefficient)"
            )
        v = self.vcov.to_numpy(dtype=float)
        if not np.allclose(v, v.T, rtol=1e-8, atol=1e-12) or np.any(np.diag(v) < 0):
            raise DataError("vcov must be symmetric with non-negative variances")
        object.__setattr__(self, "coef", coef)
        object.__setattr__(self, "vcov", pd.DataFrame(v, index=rows, columns=rows))
        object.__setattr__(self, "_index", {k: i for i, k in enumerate(rows)})
        for name in ("moderator_mean", "focal_mean"):
            value = float(getattr(self, name))
            if not math.isfinite(value):
                raise DataError(f"{name} must be a finite number, not {value!r}")
            object.__setattr__(self, name, value)
        sd = float(self.moderator_sd)
        if not (math.isfinite(sd) and sd > 0):
            who = f"the moderator {self.moderator!r}" if self.moderator else "the moderator"
            raise DataError(
                f"{who} has no variance (sd = {sd!r}): it cannot moderate anything; check that "
                "it varies in the data and that its variance is estimated"
            )
        object.__setattr__(self, "moderator_sd", sd)
        for name in ("focal_sd", "outcome_sd"):
            value = getattr(self, name)
            if value is not None:
                value = float(value)
                if not (math.isfinite(value) and value > 0):
                    raise DataError(f"{name} must be a positive number or None, not {value!r}")
                object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_table(
        cls,
        params: pd.DataFrame,
        vcov: pd.DataFrame,
        *,
        moderator: str | None = None,
        moderator_mean: float = 0.0,
        moderator_sd: float = 1.0,
        focal_sd: float | None = None,
        outcome_sd: float | None = None,
        focal_mean: float = 0.0,
        group: int | None = None,
    ) -> InteractionEstimates:
        """From a lavaan-style parameter table (``lhs, op, rhs, est``; the ``~`` rows) and a
        covariance matrix of free parameters labelled ``"lhs op rhs"`` (as
        :attr:`FitResult.vcov`).  Coefficients missing from ``vcov`` are taken as fixed."""
        p = params[params["op"] == "~"]
        if group is not None and "group" in p:
            p = p[p["group"] == group]
        keys = [f"{a}~{b}" for a, b in zip(p["lhs"], p["rhs"])]
        coef = dict(zip(keys, p["est"].astype(float)))
        labels = {_norm_key(str(k).replace(" ~ ", "~")): k for k in vcov.index
                  if str(k).startswith(tuple(f"{a} ~ " for a in p["lhs"]))}
        out = np.zeros((len(keys), len(keys)))
        for i, a in enumerate(keys):
            for j, b in enumerate(keys):
                la, lb = labels.get(_norm_key(a)), labels.get(_norm_key(b))
                if la is not None and lb is not None:
                    out[i, j] = float(vcov.loc[la, lb])
        return cls(coef, pd.DataFrame(out, index=keys, columns=keys),
                   moderator_mean=moderator_mean, moderator_sd=moderator_sd, focal_sd=focal_sd,
                   outcome_sd=outcome_sd, moderator=moderator, focal_mean=focal_mean)

    @classmethod
    def from_product_indicator_fit(
        cls,
        pif,
        moderator: str,
        *,
        focal: str | None = None,
        outcome: str | None = None,
        group: int = 1,
    ) -> InteractionEstimates:
        """From a :class:`~cbec_sem.propositions.interaction.product_indicators.
        ProductIndicatorFit`: every regression coefficient (product latents named back
        ``X:W``) and its covariance, the moderator's model-implied mean and SD (for a latent
        moderator the mean is 0), and the SDs of ``focal`` and ``outcome`` when given.

        For a product of *observed* variables the coefficients are re-expressed for the raw
        product x·w (the fit used a centred or residualised product), so that the moderator
        values are raw values; the covariance matrix is transformed accordingly (J V Jᵀ).
        """
        est = pif.fit.estimation
        if not 1 <= group <= est.partable.ngroups:
            raise SpecError(f"group={group}: the fit has {est.partable.ngroups} group(s)")
        frame = est.partable.frame
        rows = np.flatnonzero((frame["op"].to_numpy() == "~")
                              & (frame["group"].to_numpy() == group))
        keys = [f"{frame['lhs'].iat[r]}~"
                f"{pif.term_as_written(frame['lhs'].iat[r], frame['rhs'].iat[r])}" for r in rows]
        values = est.ram.row_values(est.theta)[rows]
        free = est.ram.free_index[rows]
        V = np.zeros((len(rows), len(rows)))
        for i, fi in enumerate(free):
            for j, fj in enumerate(free):
                if fi >= 0 and fj >= 0:
                    V[i, j] = est.vcov[fi, fj]
        # observed products: coefficients of the raw product (x·w) parametrisation
        J = np.eye(len(rows))
        pos = {k: i for i, k in enumerate(keys)}
        for t in pif.terms:
            if t.latent or not t.offsets:
                continue
            for k, i in list(pos.items()):
                y, rhs = k.split("~", 1)
                if ":" not in rhs or not t.matches(rhs):
                    continue
                for comp in t.components:
                    j = pos.get(f"{y}~{comp}")
                    if j is not None:
                        J[j, i] -= t.offsets.get(comp, 0.0)
        values = J @ values
        V = J @ V @ J.T
        mean, cov = pif.implied_moments(group)
        if moderator not in cov.index:
            raise SpecError(f"{moderator!r} is not a variable of the model; variables: "
                            f"{', '.join(cov.index)}")
        observed_mean = _sample_mean(pif, moderator, group)
        m_mean = observed_mean if observed_mean is not None else float(mean[moderator])
        m_var = float(cov.at[moderator, moderator])
        if not m_var > 0:
            raise DataError(f"the moderator {moderator!r} has no variance in the fitted model "
                            f"(variance {m_var:.3g}); it cannot moderate anything")

        def sd(name):
            if name is None:
                return None
            if name not in cov.index:
                raise SpecError(f"{name!r} is not a variable of the model")
            return float(np.sqrt(max(cov.at[name, name], 0.0))) or None

        f_mean = 0.0
        if focal is not None:
            fm = _sample_mean(pif, focal, group)
            f_mean = fm if fm is not None else float(mean.get(focal, 0.0))
        return cls(dict(zip(keys, values)), pd.DataFrame(V, index=keys, columns=keys),
                   moderator_mean=m_mean, moderator_sd=float(np.sqrt(m_var)),
                   focal_sd=sd(focal), outcome_sd=sd(outcome), moderator=moderator,
                   focal_mean=f_mean)

    @classmethod
    def from_latent_interaction_fit(cls, fit, moderator: str, *, focal: str | None = None,
                                    outcome: str | None = None) -> InteractionEstimates:
        """From an LMS/QML fit (``cs.fit(..., estimator="LMS")`` or ``fit_lms``): the
        regression coefficients with the fit's covariance matrix (both named by
        :func:`~cbec_sem.engine.naming.parameter_name`), the moderator's model-implied mean
        and SD, and the SDs of ``focal`` and ``outcome`` (model-implied, products included)."""
        interaction = getattr(fit, "estimation", fit)
        mean, cov = interaction.latent_moments()
        for name in (moderator, focal, outcome):
            if name is not None and name not in cov.index:
                raise SpecError(f"{name!r} is not a latent variable of the model; latent "
                                f"variables: {', '.join(cov.index)}")
        m_var = float(cov.at[moderator, moderator])
        if not m_var > 0:
            raise DataError(f"the moderator {moderator!r} has no variance in the fitted model")

        def sd(name):
            return None if name is None else float(np.sqrt(max(cov.at[name, name], 0.0))) or None

        return cls.from_table(interaction.params, interaction.vcov, moderator=moderator,
                              moderator_mean=float(mean[moderator]),
                              moderator_sd=float(np.sqrt(m_var)), focal_sd=sd(focal),
                              outcome_sd=sd(outcome),
                              focal_mean=float(mean[focal]) if focal is not None else 0.0)

    @classmethod
    def from_fit(cls, fit, moderator: str, *, focal: str | None = None,
                 outcome: str | None = None, group: int = 1) -> InteractionEstimates:
        """From any fit that has the product term: an LMS/QML fit (``cs.fit(...,
        estimator="LMS")``, ``fit_lms``) or a product-indicator fit.  A fit without product
        terms is refused, naming the ways to get one."""
        if isinstance(fit, cls):
            return fit
        if hasattr(fit, "terms") and hasattr(fit, "implied_moments"):
            return cls.from_product_indicator_fit(fit, moderator, focal=focal, outcome=outcome,
                                                  group=group)
        interaction = getattr(fit, "estimation", fit)
        if hasattr(interaction, "latent_moments"):
            return cls.from_latent_interaction_fit(fit, moderator, focal=focal,
                                                   outcome=outcome)
        raise SpecError(
            f"a probe needs a fit with the product term ({focal or 'X'}:{moderator}); this "
            f"{type(fit).__name__} has none: fit the model with the term by "
            "cs.fit(..., estimator='LMS') (or 'QML'), or by product indicators "
            "(cbec_sem.propositions.interaction.fit_product_indicators)")

    # ------------------------------------------------------------------ access

    def has(self, outcome: str, predictor: str) -> bool:
        return self._find(outcome, predictor) is not None

    def _find(self, outcome: str, predictor: str) -> str | None:
        parts = [p.strip() for p in predictor.replace("*", ":").split(":")]
        candidates = [f"{outcome}~{':'.join(parts)}"]
        if len(parts) == 2:
            candidates.append(f"{outcome}~{parts[1]}:{parts[0]}")
        for c in candidates:
            if c in self.coef:
                return c
        return None

    def key(self, outcome: str, predictor: str, what: str = "") -> str:
        """The coefficient key of ``outcome ~ predictor`` (products in either order)."""
        k = self._find(outcome, predictor)
        if k is None:
            known = ", ".join(self.coef)
            raise SpecError(
                f"the model has no {what or 'coefficient'} {outcome} ~ {predictor}; its "
                f"coefficients are: {known}"
            )
        return k

    def cov(self, a: str, b: str) -> float:
        return float(self.vcov.iat[self._index[a], self._index[b]])

    def sub(self, keys: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """Estimates and covariance matrix of ``keys`` (``None`` → a fixed 0)."""
        est = np.array([self.coef[k] if k else 0.0 for k in keys])
        V = np.array([[self.cov(a, b) if a and b else 0.0 for b in keys] for a in keys])
        return est, V

    def _check_moderator(self, moderator: str) -> None:
        if self.moderator is not None and moderator != self.moderator:
            raise SpecError(
                f"these estimates were made for the moderator {self.moderator!r} (its mean and "
                f"SD), not {moderator!r}; build them for {moderator!r}"
            )

    def values(self, at: Sequence[float] | float, scale: str) -> np.ndarray:
        """Moderator values: ``scale="sd"`` → mean + at·SD; ``"raw"`` → ``at`` as given."""
        at = np.atleast_1d(np.asarray(at, dtype=float))
        if at.ndim != 1 or not np.isfinite(at).all():
            raise DataError(f"at must be finite numbers, not {at!r}")
        if scale == "sd":
            return self.moderator_mean + at * self.moderator_sd
        if scale == "raw":
            return at
        raise SpecError(f"scale={scale!r}: use 'sd' (at in SD units around the mean) or 'raw'")


def _sample_mean(pif, name: str, group: int) -> float | None:
    """The sample mean of an observed variable of the fit (complete rows), else None."""
    stats_ = pif.fit.estimation.stats
    if name not in stats_.names:
        return None
    return float(stats_.means[group - 1][list(stats_.names).index(name)])


def _crit(level: float) -> float:
    if not 0 < level < 1:
        raise SpecError(f"level={level}: a confidence level lies strictly between 0 and 1")
    return float(special.ndtri(0.5 + level / 2))


def _wald(est: np.ndarray, se: np.ndarray, crit: float) -> dict[str, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / np.where(se > 0, se, 1.0), np.nan)
    return {"z": z, "pvalue": 2 * special.ndtr(-np.abs(z)),
            "ci.lower": est - crit * se, "ci.upper": est + crit * se}


def _slope_terms(est: InteractionEstimates, focal: str, moderator: str, outcome: str
                 ) -> tuple[str, str]:
    if focal == moderator:
        raise SpecError(f"the focal predictor and the moderator are both {focal!r}; probe a "
                        "quadratic effect by the slope 2·b2·x instead")
    est._check_moderator(moderator)
    b1 = est.key(outcome, focal, "path")
    b3 = est.key(outcome, f"{focal}:{moderator}", "interaction term")
    return b1, b3


# ---------------------------------------------------------------------------------------------
# simple slopes
# ---------------------------------------------------------------------------------------------


def _is_pls(est) -> bool:
    """A PLS fit, estimation or bootstrap (probed on its draws)."""
    return (isinstance(est, (PLSEstimation, PLSBootstrap))
            or getattr(est, "estimator", None) in ("PLS", "PLSc"))


def simple_slopes(
    est,
    focal: str,
    moderator: str,
    outcome: str,
    at: Sequence[float] | float = (-1, 0, 1),
    scale: str = "sd",
    level: float = 0.95,
) -> pd.DataFrame:
    """The slope of ``focal`` on ``outcome`` at chosen values of ``moderator``.

    Args:
        est: the coefficients (:class:`InteractionEstimates`).
        at: moderator values — in SD units around its mean with ``scale="sd"`` (default
            −1, 0, +1), or raw values with ``scale="raw"``.
        level: confidence level of the intervals.

    Returns:
        One row per value: ``at, moderator (the value w), slope (b1 + b3·w), se, z, pvalue,
        ci.lower, ci.upper, std`` (slope·sd(focal)/sd(outcome), NaN when the SDs are unknown).

    Raises:
        SpecError: the path or the interaction term is not in the model.

    A PLS fit (``estimator="PLS"``/``"PLSc"``) is probed on its bootstrap draws
    (:func:`cbec_sem.pls.moderation.pls_simple_slopes`: bootstrap SE and percentile interval,
    SmartPLS's simple slope analysis); its scores are standardised, so ``scale`` does not
    change the values.

    Examples:
        >>> data = cs.datasets.example_survey()
        >>> res = cs.fit("TA =~ ta1 + ta2 + ta3 + ta4; PC =~ pc1 + pc2 + pc3; "
        ...              "FA =~ fa1 + fa2 + fa3 + fa4; FA ~ TA + PC + TA:PC", data, estimator="QML")
        >>> cs.simple_slopes(res, "TA", "PC", "FA")[["at", "slope", "se", "pvalue"]].round(3)
            at  slope     se  pvalue
        0 -1.0  0.407  0.089     0.0
        1  0.0  0.468  0.068     0.0
        2  1.0  0.530  0.088     0.0
    """
    if _is_pls(est):
        return pls_simple_slopes(est, focal, moderator, outcome, at=at, level=level)
    est = InteractionEstimates.from_fit(est, moderator, focal=focal, outcome=outcome)
    b1, b3 = _slope_terms(est, focal, moderator, outcome)
    crit = _crit(level)
    w = est.values(at, scale)
    (e1, e3), V = est.sub([b1, b3])
    slope = e1 + e3 * w
    var = V[0, 0] + w**2 * V[1, 1] + 2 * w * V[0, 1]
    se = np.sqrt(np.clip(var, 0.0, None))
    std = (slope * est.focal_sd / est.outcome_sd if est.focal_sd and est.outcome_sd
           else np.full_like(slope, np.nan))
    return pd.DataFrame({
        "at": np.atleast_1d(np.asarray(at, dtype=float)), "moderator": w, "slope": slope,
        "se": se, **_wald(slope, se, crit), "std": std,
    })


# ---------------------------------------------------------------------------------------------
# Johnson–Neyman
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JNResult(ResultProtocol):
    """Johnson–Neyman points and the region of significance of a simple slope.

    Attributes:
        focal, moderator, outcome: the variables.
        level: confidence level (the slope is significant where its CI excludes 0).
        crit: the critical z value.
        roots: the moderator values where the CI bound touches 0, sorted (0, 1 or 2 values).
        roots_sd: the same in SD units from the moderator's mean.
        kind: ``"outside"`` (significant below the lower and above the upper point),
            ``"between"`` (significant only between the points), ``"below"``/``"above"`` (one
            point), ``"everywhere"`` (no point: significant at every value) or ``"nowhere"``
            (no region of significance).
        intervals: the region of significance as (lower, upper) pairs (±inf when unbounded).
        statement: the result in one or two sentences.
    """

    focal: str
    moderator: str
    outcome: str
    level: float
    crit: float
    roots: tuple[float, ...]
    roots_sd: tuple[float, ...]
    kind: str
    intervals: tuple[tuple[float, float], ...]
    statement: str

    @property
    def bounded(self) -> bool:
        """True when the region of significance is a finite interval (or empty)."""
        return self.kind in ("between", "nowhere")

    def __str__(self) -> str:
        return self.statement

    def to_frame(self) -> pd.DataFrame:
        """The region of significance as rows (``lower``, ``upper``, in moderator units)."""
        return pd.DataFrame(list(self.intervals), columns=["lower", "upper"])

    def summary(self) -> Summary:
        """The Johnson–Neyman statement and the region of significance."""
        return Summary(f"Johnson–Neyman: {self.focal} → {self.outcome} across {self.moderator}",
                       (Block("Region of significance", self.to_frame()),),
                       (self.statement,))

    def __repr__(self) -> str:
        return f"<JNResult {self.focal} → {self.outcome} by {self.moderator}: {self.kind}>"


def johnson_neyman(
    est,
    focal: str,
    moderator: str,
    outcome: str,
    level: float = 0.95,
) -> JNResult:
    """Johnson–Neyman points of the simple slope of ``focal`` across ``moderator``.

    Solves (b1 + b3·w)² = z²·(v11 + 2w·v13 + w²·v33) in closed form; the slope is
    significant where the left side exceeds the right.

    Returns:
        A :class:`JNResult`; its ``statement`` names the region in moderator units and in SD
        units, and says when there is none or when it is unbounded.  A PLS fit gets the region
        where the bootstrap percentile interval of the slope excludes 0
        (:func:`cbec_sem.pls.moderation.pls_johnson_neyman`).

    Examples:
        >>> data = cs.datasets.example_survey()
        >>> res = cs.fit("TA =~ ta1 + ta2 + ta3 + ta4; PC =~ pc1 + pc2 + pc3; "
        ...              "FA =~ fa1 + fa2 + fa3 + fa4; FA ~ TA + PC + TA:PC", data, estimator="QML")
        >>> jn = cs.johnson_neyman(res, "TA", "PC", "FA")
        >>> jn.kind, [float(round(r, 2)) for r in jn.roots_sd]
        ('between', [-2.53, 9.51])
        >>> print(jn.statement)  # doctest: +SKIP
    """
    if _is_pls(est):
        return pls_johnson_neyman(est, focal, moderator, outcome, level=level)
    est = InteractionEstimates.from_fit(est, moderator, focal=focal, outcome=outcome)
    b1, b3 = _slope_terms(est, focal, moderator, outcome)
    crit = _crit(level)
    (e1, e3), V = est.sub([b1, b3])
    z2 = crit**2
    a = e3**2 - z2 * V[1, 1]
    b = 2 * (e1 * e3 - z2 * V[0, 1])
    c = e1**2 - z2 * V[0, 0]
    scale = max(abs(a), abs(b), abs(c), 1e-300)
    roots: list[float] = []
    if abs(a) <= 1e-12 * scale:
        if abs(b) > 1e-12 * scale:
            roots = [-c / b]
            kind = "above" if b > 0 else "below"
        else:
            kind = "everywhere" if c > 0 else "nowhere"
    else:
        disc = b * b - 4 * a * c
        if disc <= 0:
            kind = "everywhere" if a > 0 else "nowhere"
        else:
            sq = math.sqrt(disc)
            # numerically stable roots
            q = -0.5 * (b + math.copysign(sq, b))
            r1, r2 = q / a, (c / q if q != 0 else -b / a - q / a)
            roots = sorted([r1, r2])
            kind = "outside" if a > 0 else "between"
    lo_inf, hi_inf = -math.inf, math.inf
    if kind == "outside":
        intervals = ((lo_inf, roots[0]), (roots[1], hi_inf))
    elif kind == "between":
        intervals = ((roots[0], roots[1]),)
    elif kind == "above":
        intervals = ((roots[0], hi_inf),)
    elif kind == "below":
        intervals = ((lo_inf, roots[0]),)
    elif kind == "everywhere":
        intervals = ((lo_inf, hi_inf),)
    else:
        intervals = ()
    roots_sd = tuple((r - est.moderator_mean) / est.moderator_sd for r in roots)
    statement = _jn_statement(focal, moderator, outcome, level, kind, roots, roots_sd)
    return JNResult(focal=focal, moderator=moderator, outcome=outcome, level=level, crit=crit,
                    roots=tuple(float(r) for r in roots), roots_sd=roots_sd, kind=kind,
                    intervals=intervals, statement=statement)


def _jn_statement(focal, moderator, outcome, level, kind, roots, roots_sd) -> str:
    pct = f"{level:.0%}".replace(".0%", "%")
    head = (f"The simple slope of {focal} on {outcome} is significantly different from 0 "
            f"(its {pct} CI excludes 0)")

    def v(i):
        return f"{roots[i]:.3f} ({roots_sd[i]:+.2f} SD)"

    far = [r for r in roots_sd if abs(r) > 3]
    caveat = (" A Johnson–Neyman point more than 3 SD from the mean lies outside the range of "
              "most data; do not read the region beyond the observed values." if far else "")
    if kind == "outside":
        return (f"{head} when {moderator} < {v(0)} or {moderator} > {v(1)}; it is not "
                f"significant between these values.  The region of significance is unbounded "
                f"on both sides.{caveat}")
    if kind == "between":
        return (f"{head} only when {v(0)} < {moderator} < {v(1)}; outside this interval it is "
                f"not significant.{caveat}")
    if kind == "above":
        return (f"{head} when {moderator} > {v(0)}; the region of significance is unbounded "
                f"above.{caveat}")
    if kind == "below":
        return (f"{head} when {moderator} < {v(0)}; the region of significance is unbounded "
                f"below.{caveat}")
    if kind == "everywhere":
        return (f"{head} at every value of {moderator}: there is no Johnson–Neyman point, and "
                "the region of significance is unbounded (the whole range of the moderator).")
    return (f"The simple slope of {focal} on {outcome} is not significantly different from 0 "
            f"at any value of {moderator} ({pct} CI): there is no region of significance.")


# ---------------------------------------------------------------------------------------------
# moderated mediation
# ---------------------------------------------------------------------------------------------


def _mediation_terms(est, x, m, y, moderator):
    if len({x, m, y, moderator}) < 4:
        raise SpecError(f"x, m, y and the moderator must be four different variables, not "
                        f"{x!r}, {m!r}, {y!r}, {moderator!r}")
    est._check_moderator(moderator)
    a1 = est.key(m, x, "first-stage path")
    b1 = est.key(y, m, "second-stage path")
    a3 = est._find(m, f"{x}:{moderator}")
    b3 = est._find(y, f"{m}:{moderator}")
    if a3 is None and b3 is None:
        raise SpecError(
            f"{moderator!r} moderates neither stage of {x} → {m} → {y}: the model has no "
            f"{m} ~ {x}:{moderator} and no {y} ~ {m}:{moderator}"
        )
    return [a1, a3, b1, b3]


def _mc_draws(est: InteractionEstimates, keys, draws: int, seed) -> np.ndarray | None:
    if not draws:
        return None
    if int(draws) != draws or draws < 100:
        raise SpecError(f"mc_draws={draws!r}: use 0 (no Monte Carlo interval) or at least 100")
    present = [k for k in keys if k]
    mean, V = est.sub(present)
    rng = np.random.default_rng(seed)
    sample = rng.multivariate_normal(mean, V, size=int(draws), method="eigh")
    out = np.zeros((int(draws), len(keys)))
    for j, k in enumerate(keys):
        if k:
            out[:, j] = sample[:, present.index(k)]
    return out


def conditional_indirect(
    est,
    x: str,
    m: str,
    y: str,
    moderator: str,
    at: Sequence[float] | float = (-1, 0, 1),
    scale: str = "sd",
    level: float = 0.95,
    mc_draws: int = 0,
    seed=None,
) -> pd.DataFrame:
    """Conditional indirect effects of ``x`` on ``y`` through ``m`` at values of ``moderator``.

    θ(w) = (a1 + a3·w)·(b1 + b3·w), with a3 (first stage, ``m ~ x:W``) and b3 (second stage,
    ``y ~ m:W``) 0 when the model has no such term.

    Args:
        at: moderator values, as in :func:`simple_slopes`.
        scale: ``"sd"`` or ``"raw"``, as in :func:`simple_slopes`.
        mc_draws: Monte Carlo draws from N(θ̂, V̂) for percentile intervals (0: none).
        seed: seed of the Monte Carlo draws.

    Returns:
        One row per value: ``at, moderator, a, b, indirect, se, z, pvalue, ci.lower,
        ci.upper`` (delta method) and, with ``mc_draws``, ``mc.lower, mc.upper``.

    Examples:
        >>> data = cs.datasets.example_survey()
        >>> res = cs.fit("TA =~ ta1 + ta2 + ta3 + ta4; PC =~ pc1 + pc2 + pc3; "
        ...              "FA =~ fa1 + fa2 + fa3 + fa4; VP =~ vp1 + vp2 + vp3; "
        ...              "FA ~ TA + PC + TA:PC; VP ~ FA + TA", data, estimator="QML")
        >>> cs.conditional_indirect(res, "TA", "FA", "VP", "PC")[["at", "a", "b", "indirect", "pvalue"]].round(3)
            at      a      b  indirect  pvalue
        0 -1.0  0.402  0.333     0.134   0.001
        1  0.0  0.464  0.333     0.154   0.000
        2  1.0  0.526  0.333     0.175   0.000
    """
    est = InteractionEstimates.from_fit(est, moderator, focal=x, outcome=y)
    keys = _mediation_terms(est, x, m, y, moderator)
    crit = _crit(level)
    w = est.values(at, scale)
    (a1, a3, b1, b3), V = est.sub(keys)
    a = a1 + a3 * w
    b = b1 + b3 * w
    ind = a * b
    grads = np.stack([b, w * b, a, w * a], axis=1)
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", grads, V, grads), 0.0, None))
    out = pd.DataFrame({"at": np.atleast_1d(np.asarray(at, dtype=float)), "moderator": w,
                        "a": a, "b": b, "indirect": ind, "se": se, **_wald(ind, se, crit)})
    draws = _mc_draws(est, keys, mc_draws, seed)
    if draws is not None:
        sim = ((draws[:, [0]] + draws[:, [1]] * w[None, :])
               * (draws[:, [2]] + draws[:, [3]] * w[None, :]))
        lo, hi = np.percentile(sim, [50 * (1 - level), 50 * (1 + level)], axis=0)
        out["mc.lower"], out["mc.upper"] = lo, hi
    return out


def index_of_moderated_mediation(
    est,
    x: str,
    m: str,
    y: str,
    moderator: str,
    level: float = 0.95,
    mc_draws: int = 0,
    seed=None,
) -> pd.Series:
    """Hayes's (2015) index of moderated mediation: a3·b1 (first-stage moderation) or a1·b3
    (second-stage), with a delta-method SE √(b²·var a3 + a3²·var b + 2·a3·b·cov(a3, b)) and,
    with ``mc_draws``, a Monte Carlo interval.

    Returns:
        A Series: ``index, se, z, pvalue, ci.lower, ci.upper`` (and ``mc.lower, mc.upper``),
        named after the stage.

    Raises:
        SpecError: the moderator moderates neither stage, or both (then θ(w) is quadratic in w
            and has no single index; use :func:`conditional_indirect`).

    Examples:
        >>> data = cs.datasets.example_survey()
        >>> res = cs.fit("TA =~ ta1 + ta2 + ta3 + ta4; PC =~ pc1 + pc2 + pc3; "
        ...              "FA =~ fa1 + fa2 + fa3 + fa4; VP =~ vp1 + vp2 + vp3; "
        ...              "FA ~ TA + PC + TA:PC; VP ~ FA + TA", data, estimator="QML")
        >>> cs.index_of_moderated_mediation(res, "TA", "FA", "VP", "PC").round(3)
        index       0.019
        se          0.017
        z           1.075
        pvalue      0.282
        ci.lower   -0.015
        ci.upper    0.053
        Name: index of moderated mediation (first stage: a3·b1), dtype: float64
    """
    est = InteractionEstimates.from_fit(est, moderator, focal=x, outcome=y)
    keys = _mediation_terms(est, x, m, y, moderator)
    a1, a3, b1, b3 = keys
    if a3 and b3:
        raise SpecError(
            f"{moderator!r} moderates both stages of {x} → {m} → {y}, so the indirect effect "
            "(a1 + a3·w)(b1 + b3·w) is quadratic in w and has no single index of moderated "
            "mediation (Hayes 2015); compare conditional_indirect() at chosen values instead"
        )
    pair = [a3, b1] if a3 else [a1, b3]
    stage = "first stage" if a3 else "second stage"
    crit = _crit(level)
    (p, q), V = est.sub(pair)
    index = p * q
    var = q**2 * V[0, 0] + p**2 * V[1, 1] + 2 * p * q * V[0, 1]
    se = math.sqrt(max(var, 0.0))
    w = _wald(np.array([index]), np.array([se]), crit)
    out = {"index": index, "se": se, **{k: float(v[0]) for k, v in w.items()}}
    draws = _mc_draws(est, pair, mc_draws, seed)
    if draws is not None:
        sim = draws[:, 0] * draws[:, 1]
        out["mc.lower"], out["mc.upper"] = np.percentile(sim, [50 * (1 - level),
                                                               50 * (1 + level)])
    return pd.Series(out, name=f"index of moderated mediation ({stage}: "
                     f"{'a3·b1' if a3 else 'a1·b3'})", dtype=float)


