"""Estimation options, with lavaan's defaults for ``sem()``.

One frozen object carries every choice that changes a number, so a result can say exactly how
it was made.  Defaults follow lavaan 0.6 ``sem()``/``cfa()`` (Rosseel 2012, *J. Stat. Softw.*
48(2); ``?lavOptions``).
"""

from __future__ import annotations

from numbers import Real

from dataclasses import dataclass, field

from ..errors import SpecError

INFORMATION = ("expected", "observed")
MISSING = ("listwise", "fiml", "pairwise", "mean")
GROUP_EQUAL = (
    "thresholds",
    "loadings",
    "intercepts",
    "means",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
    "regressions",
)


def _names_tuple(value, what: str) -> tuple:
    """A tuple of names from one name or an iterable of them (SpecError for anything else)."""
    if isinstance(value, str):
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        raise SpecError(f"{what}={value!r} must be a name or a list of names") from None


@dataclass(frozen=True)
class FitOptions:
    """How a model is estimated.

    Attributes:
        estimator: ``"ML"`` (normal-theory maximum likelihood); ``"MLM"``/``"MLR"`` (robust
            SEs and scaled tests, ``engine/robust.py``); ``"WLSMV"``, ``"ULSMV"``, ``"DWLS"``,
            ``"ULS"`` for ordered items (``engine/ordinal/``).
        information: ``"expected"`` (lavaan's default for complete-data ML and MLM) or
            ``"observed"`` (the Hessian of the log-likelihood) information for standard errors
            (and, under MLM/MLR, for the bread of the sandwich and the scaled test); ``None``
            (default) is lavaan's choice: ``"observed"`` with ``missing="fiml"`` or
            ``estimator="MLR"``, else ``"expected"``.
        meanstructure: model the means; ``None`` means lavaan's rule (yes when there are
            groups, or the model has ``~1`` statements).
        std_lv: identify latent variables by fixing their variances to 1 instead of their first
            loadings (lavaan's ``std.lv``).
        fixed_x: treat exogenous observed covariates as fixed (their variances, covariances and
            means are set to the sample values and not estimated), as lavaan does by default.
        auto_cov_y: free the residual covariances among purely endogenous variables
            (lavaan ``sem()`` default).
        group_equal: parameter kinds constrained equal across groups (lavaan ``group.equal``).
        group_partial: parameters (``"f =~ x2"`` strings) exempted from ``group_equal``.
        missing: ``"listwise"`` (the number of dropped rows is reported), ``"fiml"`` (casewise
            ML, ``engine/fiml.py``; lavaan's names ``"ml"`` and ``"direct"`` mean the same)
            or ``"pairwise"`` (ordinal estimators).
        ordered: the ordinal (ordered-categorical) items, for the WLS family.
        level: confidence level of the parameter intervals.
        tol: convergence tolerance: the largest absolute gradient element of the fit function
            (lavaan's F = chi-square / (2N)) must fall below it.
        max_iter: iteration limit of the optimiser.
    """

    estimator: str = "ML"
    information: str | None = None
    meanstructure: bool | None = None
    std_lv: bool = False
    fixed_x: bool = True
    auto_cov_y: bool = True
    group_equal: tuple[str, ...] = ()
    group_partial: tuple[str, ...] = ()
    missing: str = "listwise"
    ordered: tuple[str, ...] = ()
    level: float = 0.95
    tol: float = 1e-9
    max_iter: int = 500
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # The estimator name is checked against the registry (engine/estimators/).
        if not isinstance(self.estimator, str):
            raise SpecError(f"estimator={self.estimator!r} must be an estimator's name, e.g. 'ML'")
        object.__setattr__(self, "estimator", self.estimator.upper())
        if self.missing in ("ml", "direct"):  # lavaan's names for FIML
            object.__setattr__(self, "missing", "fiml")
        if self.information is None:  # lavaan's "default": observed under missing = "ml"
            # and for MLR (se = "robust.huber.white"), expected otherwise
            object.__setattr__(
                self, "information",
                "observed" if self.missing == "fiml" or self.estimator == "MLR" else "expected")
        if self.information not in INFORMATION:
            raise SpecError(
                f"information={self.information!r}: choose 'expected' or 'observed'"
            )
        if self.missing not in MISSING:
            raise SpecError(
                f"missing={self.missing!r} is not a missing-data method; choose one of {MISSING}"
            )
        object.__setattr__(self, "ordered", _names_tuple(self.ordered, "ordered"))
        group_equal = _names_tuple(self.group_equal, "group_equal")
        object.__setattr__(self, "group_equal", group_equal)
        for kind in group_equal:
            if kind not in GROUP_EQUAL:
                raise SpecError(
                    f"group_equal={kind!r} is not a parameter kind; choose from {GROUP_EQUAL}"
                )
        partial = _names_tuple(self.group_partial, "group_partial")
        object.__setattr__(self, "group_partial", partial)
        if not (isinstance(self.max_iter, int) and self.max_iter > 0):
            raise SpecError(f"max_iter={self.max_iter!r} must be a positive whole number")
        if isinstance(self.level, bool) or not isinstance(self.level, Real) or not (
                0.0 < self.level < 1.0):
            raise SpecError(f"level={self.level} must lie strictly between 0 and 1")
