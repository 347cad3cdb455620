"""What a user reads after ``cs.fit``: :class:`FitResult`, a fitted model with its hypotheses,
validation, summary and reports.

It extends :class:`~cbec_sem.modelfit.FittedModel` (the estimator's output and its
:class:`~cbec_sem.engine.convergence.Convergence` status), which the measurement and
proposition stages read; this module sits above them in the pipeline and may call them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from types import FunctionType

import pandas as pd

from .errors import SpecError
from .measurement import factor_scores, modindices, reliability, validate
from .measurement.composite import is_pls
from .modelfit import FittedModel
from .propositions.hypotheses import hypothesis_table
from .propositions.evidence import refit_with_products
from .protocol import Block, Summary
from .report.diagram import path_diagram
from .report.document import write_report
from .report.summary import hypothesis_lines, render_summary
from .arguments import typed_arguments


# the methods below forward their keywords: a keyword the callee lacks is a SpecError
(reliability, modindices, validate, path_diagram, write_report) = map(
    typed_arguments, (reliability, modindices, validate, path_diagram, write_report))

#: the fit measures a summary's table shows (those present in the fit)
SUMMARY_MEASURES = ("npar", "ntotal", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
                    "pvalue.scaled", "cfi", "tli", "rmsea", "cfi.robust", "tli.robust",
                    "rmsea.robust", "srmr", "logl", "aic", "bic", "chisq.interaction",
                    "df.interaction", "pvalue.interaction")


@dataclass(frozen=True, eq=False)
class FitResult(FittedModel):
    """A fitted model with its hypotheses, validation and reports (what ``cs.fit`` returns).

    Attributes (beyond :class:`~cbec_sem.modelfit.FittedModel`'s ``model``, ``estimation``,
    ``converged``, ``notes``, ``bootstrap``, ``seed``, ``estimator``):
        alpha: significance level of the hypothesis verdicts.
        interaction_method: how interaction/moderation hypotheses are tested when the fit has
            no product terms of its own: ``"dblcent"``/``"rca"`` product indicators, or
            ``"lms"``/``"qml"`` (a latent-interaction refit).  A fit by LMS or QML tests its own
            product terms.
        nca_permutations: permutations of the NCA test of necessity hypotheses.
        correction: family-wise correction of the hypotheses' p-values (``"holm"``, ...).

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> isinstance(res, cs.FitResult)
        True
        >>> res.r2.round(3)
          construct  group     r2
        0        FA      1  0.210
        1        VP      1  0.585
        2        FO      1  0.576
        3        IS      1  0.504
        4       SCI      1  0.310
        >>> print(res.summary())  # doctest: +SKIP
    """

    alpha: float = 0.05
    interaction_method: str = "dblcent"
    nca_permutations: int = 10000
    correction: str | None = None

    @classmethod
    def from_fitted(cls, fitted: FittedModel, **settings) -> FitResult:
        """A FitResult from a :class:`FittedModel` and the hypothesis settings."""
        return cls(**{f.name: getattr(fitted, f.name) for f in fields(FittedModel)}, **settings)

    # -- hypotheses ------------------------------------------------------------------------
    @cached_property
    def _hypotheses(self) -> pd.DataFrame:
        return hypothesis_table(self)

    @cached_property
    def interaction_refit(self):
        """The model with the hypothesised product terms, refitted once as ``res.hypotheses``
        tests H5/H6 (product indicators with MLR SEs, LMS/QML, or the PLS two-stage
        interaction): ``(fitted, method text, notes)``, or the ``LookupError`` saying why it
        could not be fitted.  The report's moderation figures probe the same refit."""
        return refit_with_products(self, self.interaction_method)

    @property
    def hypotheses(self) -> pd.DataFrame:
        """One row per hypothesis: ``id, kind, statement, method, n, estimate, std.all, se,
        ci.lower, ci.upper, ci, p, verdict, note`` (``p.adjusted`` with a correction)."""
        return self._hypotheses.copy()

    # -- covariance-structure views ------------------------------------------------------------
    def _covariance_only(self, what: str) -> None:
        if not self.is_covariance_fit:
            raise SpecError(f"{what} needs a covariance-structure fit (ML or WLS family); "
                            f"this is a {self.estimator} fit")

    def implied(self) -> dict:
        """Model-implied covariance matrix (and mean vector) per group, as DataFrames."""
        self._covariance_only("implied()")
        est = self.estimation
        names = list(est.stats.names)
        out = {}
        for label, mom in zip(est.stats.group_labels, est.ram.moments(est.theta)):
            entry = {"cov": pd.DataFrame(mom.sigma, index=names, columns=names)}
            if est.meanstructure:
                entry["mean"] = pd.Series(mom.mu, index=names)
            out[label] = entry
        return out

    def rsquare(self) -> pd.DataFrame:
        """R² of every endogenous variable (indicators and outcomes), per group: 1 minus the
        standardised residual variance (lavaan's ``lavInspect(fit, "rsquare")``); for LMS/QML
        fits the R² of the latent outcomes with and without the product terms."""
        if not self.is_covariance_fit:
            return self.estimation.r2.copy()
        p = self.estimation.params
        frame = self.estimation.partable.frame
        endogenous = set(frame.loc[frame["op"] == "=~", "rhs"]) | set(
            frame.loc[frame["op"] == "~", "lhs"])
        rows = p[(p["op"] == "~~") & (p["lhs"] == p["rhs"]) & p["lhs"].isin(endogenous)]
        return pd.DataFrame({"variable": rows["lhs"].to_numpy(), "group": rows["group"].to_numpy(),
                             "r2": 1.0 - rows["std.all"].to_numpy()})

    # -- constructs: R², scores, weights (every estimator that has them) ----------------------
    @property
    def r2(self) -> pd.DataFrame:
        """R² of every endogenous construct (``construct, r2``; PLS also ``adj_r2``; LMS/QML
        also the R² without the product terms and ΔR²)."""
        est = self.estimation
        if is_pls(self):
            return est.r2.copy()
        if not self.is_covariance_fit:
            return est.r2.rename(columns={"outcome": "construct"})
        lat = set(est.ram.latent)
        r2 = self.rsquare()
        return r2[r2["variable"].isin(lat)].rename(columns={"variable": "construct"}
                                                   ).reset_index(drop=True)

    @property
    def scores(self) -> pd.DataFrame:
        """Construct scores: PLS's composite scores, or the regression factor scores of a
        covariance fit (:func:`cbec_sem.factor_scores`)."""
        if is_pls(self):
            return self.estimation.scores.copy()
        self._covariance_only("scores")
        return factor_scores(self)

    @property
    def weights(self) -> pd.DataFrame:
        """Outer weights (``construct, indicator, weight``) of a PLS fit."""
        if not is_pls(self):
            raise SpecError(f"weights are the outer weights of a PLS fit; this is a "
                            f"{self.estimator} fit (its loadings are in res.params)")
        return self.estimation.weights.copy()

    def reliability(self, **kwargs) -> pd.DataFrame:
        """α, ω and AVE per construct (PLS fits: α, ρA, ρC, AVE): :func:`cbec_sem.reliability`."""
        if is_pls(self):
            return reliability(self, **kwargs)
        self._covariance_only("reliability()")
        return reliability(self, **kwargs)

    def modindices(self, **kwargs) -> pd.DataFrame:
        """Modification indices with expected parameter changes: :func:`cbec_sem.modindices`."""
        self._covariance_only("modindices()")
        return modindices(self, **kwargs)

    def validate(self, **kwargs) -> pd.DataFrame:
        """The reviewer's checklist (loadings, α, CR, AVE, Fornell–Larcker, HTMT, VIF, fit,
        common-method bias): :func:`cbec_sem.validate`."""
        self._covariance_only("validate()")
        return validate(self, **kwargs)

    # -- manuscript ------------------------------------------------------------------------------
    def report(self, path, format: str | None = None, **options):
        """Write the whole analysis as HTML, Word, Excel, LaTeX or Markdown (the format from
        the suffix or ``format``): :func:`cbec_sem.write_report` (``title``, ``call``,
        ``diagram``, ``plots``, ``htmt_bootstrap``)."""
        return write_report(self, path, format=format, **options)

    def plot_path(self, **options):
        """The path diagram (``.svg`` holds the SVG text, ``.save("x.svg"|".png"|".pdf")``
        writes it, notebooks show it): :func:`cbec_sem.path_diagram`."""
        return path_diagram(self, **options)

    # -- the result protocol -------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """The parameter estimates (:attr:`params`)."""
        return self.params

    def summary(self) -> Summary:
        """A lavaan-like report: ``str(res.summary())`` is lavaan's layout (convergence, test,
        fit, estimates, hypotheses, notes); ``.as_html()``, ``.as_markdown()`` and
        ``.as_latex()`` give the same content as tables."""
        text = (render_summary(self) if self.is_covariance_fit
                else "\n".join([str(self.estimation.summary()), *hypothesis_lines(self)]))
        fm = self.estimation.fit_measures
        fm = fm[fm.index.isin(SUMMARY_MEASURES)].to_frame("value").reset_index(names="measure")
        blocks = [Block("Estimation", text=self.converged.describe()),
                  Block("Fit measures", fm),
                  Block("Parameter estimates", self.params)]
        if self.model.hypotheses:
            blocks.append(Block("Hypotheses", self.hypotheses.drop(
                columns=["ci", "statement"], errors="ignore")))
        return Summary(f"cbec_sem {self.estimator} fit", tuple(blocks), self.notes, text=text)

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def __repr__(self) -> str:
        fm = self.estimation.fit_measures
        shown = [k for k in ("chisq", "df", "cfi", "rmsea", "logl", "npar", "srmr", "d_uls")
                 if k in fm.index][:4]
        stats = ", ".join(f"{k}={fm[k]:.0f}" if k in ("df", "npar") else f"{k}={fm[k]:.3f}"
                          for k in shown)
        return f"<FitResult {self.estimator}: {stats}, converged={bool(self.converged)}>"


def _hypothesis_lines(res: FitResult) -> str:
    if not res.model.hypotheses:
        return ""
    return "\n" + "\n".join(hypothesis_lines(res))


# res.summary(standardized=True) and the like: a SpecError naming the method's arguments
for _name, _method in list(vars(FitResult).items()):
    if not _name.startswith("_") and isinstance(_method, FunctionType):
        setattr(FitResult, _name, typed_arguments(_method))
