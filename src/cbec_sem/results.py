"""What a user reads after a fit: :class:`FitResult`, and the :class:`Convergence` status behind
every number in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .engine.convergence import Convergence
from .engine.estimate import Estimation
from .propositions.hypotheses import hypothesis_table
from .specification.model import ModelSpec

if TYPE_CHECKING:
    from .resampling.bootstrap import BootstrapResult


@dataclass(frozen=True, eq=False)
class FitResult:
    """A fitted model.

    Attributes:
        model: the specification that was fitted.
        estimation: the engine's raw output (parameter table, θ̂, its covariance, sample
            statistics, ...), for users who want to look inside.
        converged: a :class:`Convergence` status (truthy when usable).
        alpha: significance level of the hypothesis verdicts.
        notes: what the fit did that the user should know (rows dropped, ...).
        seed: the seed of the fit's randomness (bootstrap, NCA permutations).
        interaction_method: how interaction/moderation hypotheses are tested
            (``"dblcent"`` or ``"rca"`` product indicators).
        nca_permutations: permutations of the NCA test of necessity hypotheses.
        correction: family-wise correction of the hypotheses' p-values (``"holm"``, ...).
        bootstrap: the :class:`~cbec_sem.resampling.BootstrapResult` of a fit with
            ``se="bootstrap"`` or ``bootstrap=B`` (``None`` otherwise).
    """

    model: ModelSpec
    estimation: Estimation
    converged: Convergence
    alpha: float = 0.05
    notes: tuple[str, ...] = field(default=())
    bootstrap: BootstrapResult | None = None
    seed: int | None = None
    interaction_method: str = "dblcent"
    nca_permutations: int = 10000
    correction: str | None = None

    @property
    def params(self) -> pd.DataFrame:
        """lavaan's ``parameterEstimates(standardized = TRUE)``: ``lhs, op, rhs, group, label,
        est, se, z, pvalue, ci.lower, ci.upper, std.lv, std.all``, then ``:=`` rows."""
        return self.estimation.params.copy()

    @property
    def fit_measures(self) -> pd.Series:
        """Fit measures keyed by lavaan's ``fitMeasures()`` names."""
        return self.estimation.fit_measures.copy()

    @property
    def partable(self) -> pd.DataFrame:
        """The full parameter table (lavaan's ``parTable()`` columns)."""
        return self.estimation.partable.frame.copy()

    @cached_property
    def _hypotheses(self) -> pd.DataFrame:
        from .propositions.evidence import interaction_provider, necessity_provider

        table = hypothesis_table(
            self.estimation, self.model.hypotheses, self.alpha, bootstrap=self.bootstrap,
            interaction=interaction_provider(self, self.interaction_method),
            necessity=necessity_provider(self, self.nca_permutations, self.seed, self.alpha),
            correction=self.correction,
        )
        if self.converged.optimizer_converged and not self.converged.admissible:
            tested = table["p"].notna()
            caution = "the solution is inadmissible (see res.converged): interpret with care"
            table.loc[tested, "note"] = [
                f"{n}; {caution}" if n else caution for n in table.loc[tested, "note"]]
        return table

    @property
    def hypotheses(self) -> pd.DataFrame:
        """One row per hypothesis: ``id, kind, statement, method, estimate, std.all, se,
        ci.lower, ci.upper, ci, p, verdict, note``."""
        return self._hypotheses.copy()

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the free parameters."""
        from .engine.admissibility import free_parameter_names

        names = free_parameter_names(self.estimation)
        return pd.DataFrame(self.estimation.vcov, index=names, columns=names)

    @property
    def nobs(self) -> tuple[int, ...]:
        """Observations used, per group."""
        return self.estimation.stats.nobs

    def implied(self) -> dict:
        """Model-implied covariance matrix (and mean vector) per group, as DataFrames."""
        names = list(self.estimation.stats.names)
        out = {}
        for label, mom in zip(self.estimation.stats.group_labels,
                              self.estimation.ram.moments(self.estimation.theta)):
            entry = {"cov": pd.DataFrame(mom.sigma, index=names, columns=names)}
            if self.estimation.meanstructure:
                entry["mean"] = pd.Series(mom.mu, index=names)
            out[label] = entry
        return out

    def rsquare(self) -> pd.DataFrame:
        """R² of every endogenous variable (indicators and outcomes), per group: 1 minus the
        standardised residual variance (lavaan's ``lavInspect(fit, "rsquare")``)."""
        p = self.estimation.params
        frame = self.estimation.partable.frame
        endogenous = set(frame.loc[frame["op"] == "=~", "rhs"]) | set(
            frame.loc[frame["op"] == "~", "lhs"])
        rows = p[(p["op"] == "~~") & (p["lhs"] == p["rhs"]) & p["lhs"].isin(endogenous)]
        return pd.DataFrame({"variable": rows["lhs"].to_numpy(), "group": rows["group"].to_numpy(),
                             "r2": 1.0 - rows["std.all"].to_numpy()})

    def reliability(self, **kwargs) -> pd.DataFrame:
        """α, ω and AVE per construct: :func:`cbec_sem.reliability`."""
        from .measurement import reliability

        return reliability(self, **kwargs)

    def modindices(self, **kwargs) -> pd.DataFrame:
        """Modification indices with expected parameter changes: :func:`cbec_sem.modindices`."""
        from .measurement import modindices

        return modindices(self, **kwargs)

    def validate(self, **kwargs) -> pd.DataFrame:
        """The reviewer's checklist (loadings, α, CR, AVE, Fornell–Larcker, HTMT, VIF, fit,
        common-method bias): :func:`cbec_sem.validate`."""
        from .measurement import validate

        return validate(self, **kwargs)

    def summary(self) -> str:
        """A readable, lavaan-like report: convergence, test, fit, estimates, hypotheses."""
        from .report.summary import render_summary

        return render_summary(self)

    def __repr__(self) -> str:
        fm = self.estimation.fit_measures
        return (f"<FitResult {self.estimation.options.estimator}: chisq={fm['chisq']:.3f}, "
                f"df={fm['df']:.0f}, cfi={fm['cfi']:.3f}, rmsea={fm['rmsea']:.3f}, "
                f"converged={bool(self.converged)}>")
