""":class:`InteractionFit`: what a user reads after an LMS or QML fit."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import special  # chdtrc: χ² upper tail without importing scipy.stats

from ...protocol import Block, ResultProtocol, Summary
from ..inference import (SINGULAR_INFORMATION, delta_method_jacobian,
                         scale_free_information_ratio, wald)
from ...errors import (AdmissibilityWarning, ConvergenceWarning, IdentificationWarning,
                       ParameterNotFoundError)
from ..admissibility import negative_variances, positive_definite
from ..convergence import Convergence
from ...specification.expressions import compile_expression
from ...errors import warn
from .model import LatentInteractionModel

__all__ = ["InteractionFit", "build_fit"]



@dataclass(frozen=True, eq=False)
class InteractionFit(ResultProtocol):
    """A latent-interaction model fitted by LMS or QML.

    Attributes:
        model: the :class:`~.model.LatentInteractionModel` that was fitted.
        method: ``"LMS"`` or ``"QML"``.
        theta: the free-parameter vector at the optimum (order of ``model.parameter_names``).
        loglik: the log-likelihood at the optimum (QML: the quasi-log-likelihood).  For LMS
            it is the real log-likelihood of the data (quadrature-approximated; see
            ``quadrature.error``), on the same scale as ``cs.fit(...).fit_measures["logl"]``.
        converged: a :class:`~cbec_sem.engine.convergence.Convergence` (truthy when usable); its
            ``message`` says how the optimiser stopped and ``problems`` lists inadmissible
            estimates.
        iterations: EM plus direct-phase iterations.
        em_iterations: EM iterations (LMS; 0 for QML).
        quadrature: the LMS quadrature rule and its estimated error (None for QML).
        notes: things the user should know (rows dropped, quadrature accuracy, ...).
        seconds: wall time of the fit.
        options: the options the fit was called with.

    Examples:
        >>> res = cs.fit("X =~ x1 + x2 + x3; Z =~ x4 + x5 + x6; Y =~ x7 + x8 + x9; Y ~ X + Z + X:Z",
        ...              cs.datasets.holzinger_swineford_1939(), estimator="QML")
        >>> type(res.estimation).__name__, res.estimation.method
        ('InteractionFit', 'QML')
    """

    model: LatentInteractionModel
    method: str
    theta: np.ndarray
    loglik: float
    vcov_matrix: np.ndarray | None
    gradient: np.ndarray
    converged: Convergence
    iterations: int
    em_iterations: int
    level: float
    data: np.ndarray = field(repr=False)
    quadrature: Any = None
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    options: dict = field(default_factory=dict)
    #: fits the model without product terms for :meth:`lr_test` (exact ML by LMS with no
    #: product: ``fit_lms``), given by the estimator so that this module imports neither
    null_fitter: Any = field(default=None, repr=False)
    #: ``params`` and the covariance of the free parameters from a bootstrap
    #: (``cs.fit(..., se="bootstrap")``), replacing the information-based ones
    bootstrap_params: pd.DataFrame | None = field(default=None, repr=False)
    bootstrap_vcov: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ basics

    @property
    def nobs(self) -> int:
        return int(self.data.shape[0])

    @property
    def npar(self) -> int:
        return int(self.model.nfree)

    @property
    def aic(self) -> float:
        """−2 logL + 2 npar (lavaan's convention)."""
        return -2.0 * self.loglik + 2.0 * self.npar

    @property
    def bic(self) -> float:
        """−2 logL + npar ln N."""
        return -2.0 * self.loglik + self.npar * np.log(self.nobs)

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the free parameters (inverse observed information)."""
        names = list(self.model.parameter_names)
        mat = (self.bootstrap_vcov if self.bootstrap_vcov is not None else self.vcov_matrix
               if self.vcov_matrix is not None else np.full((self.npar, self.npar), np.nan))
        return pd.DataFrame(mat, index=names, columns=names)

    @cached_property
    def _params(self) -> pd.DataFrame:
        return _param_table(self)

    @property
    def params(self) -> pd.DataFrame:
        """lavaan-like ``parameterEstimates()``: ``lhs, op, rhs, label, est, se, z, pvalue,
        ci.lower, ci.upper``; the interaction row reads ``Y ~ X:Z``; ``:=`` rows last (with a
        bootstrap: its SEs and percentile intervals)."""
        if self.bootstrap_params is not None:
            return self.bootstrap_params.copy()
        return self._params.copy()

    def estimate(self, lhs: str, op: str, rhs: str = "") -> pd.Series:
        """One row of :attr:`params` (e.g. ``fit.estimate("Y", "~", "X:Z")``)."""
        p = self._params
        row = p[(p["lhs"] == lhs) & (p["op"] == op) & (p["rhs"] == rhs)]
        if row.empty and op == "~~":
            row = p[(p["lhs"] == rhs) & (p["op"] == op) & (p["rhs"] == lhs)]
        if row.empty:
            raise ParameterNotFoundError(f"no parameter '{lhs} {op} {rhs}' in the model; its "
                                         f"parameters: {', '.join(self.model.parameter_names)}")
        return row.iloc[0]

    # ------------------------------------------------------------------ the estimation interface

    @property
    def partable_frame(self) -> pd.DataFrame:
        """The model's parameter table with ``est`` and ``se`` columns (product terms are rows
        ``Y ~ X:Z``)."""
        table = self.model.table.copy()
        values = self.model.row_values(self.theta)[0]
        table["est"] = values
        se = np.zeros(len(table))
        if self.vcov_matrix is not None:
            free = table["free"].to_numpy() > 0
            se[free] = np.sqrt(np.clip(np.diag(self.vcov_matrix), 0, None))[
                table["free"].to_numpy()[free] - 1]
        table["se"] = se
        return table

    @property
    def group_nobs(self) -> tuple[int, ...]:
        return (self.nobs,)

    def vcov_frame(self) -> pd.DataFrame:
        return self.vcov

    def fit_notes(self, spec) -> tuple[str, ...]:
        return tuple(self.notes)

    @cached_property
    def fit_measures(self) -> pd.Series:
        """logl, npar, ntotal, AIC, BIC; the likelihood-ratio test of the product terms
        against the model without them (``chisq.interaction``, ``df.interaction``,
        ``pvalue.interaction``; :meth:`lr_test`); R² and ΔR² of every endogenous latent
        variable (``r2.Y``, ``delta_r2.Y``; :attr:`r2`).  QML's logl is the
        quasi-log-likelihood."""
        out = {"npar": float(self.npar), "ntotal": float(self.nobs), "logl": self.loglik,
               "aic": self.aic, "bic": self.bic}
        if self.model.products:
            lr = self.lr_test()
            out.update({"chisq.interaction": lr["lr"], "df.interaction": float(lr["df"]),
                        "pvalue.interaction": lr["pvalue"]})
        for row in self.r2.itertuples(index=False):
            out[f"r2.{row.outcome}"] = row.r2
            out[f"delta_r2.{row.outcome}"] = row.delta_r2
        return pd.Series(out, dtype=float)

    # ------------------------------------------------------------------ derived

    def latent_moments(self) -> tuple[pd.Series, pd.DataFrame]:
        """Model-implied means and covariance matrix of the latent variables (exact, including
        the product terms' contribution)."""
        mean, cov = self.model.latent_moments(self.theta)
        names = list(self.model.latent)
        return pd.Series(mean, index=names), pd.DataFrame(cov, index=names, columns=names)

    @property
    def r2(self) -> pd.DataFrame:
        """R² of every endogenous latent variable, with and without the product terms.

        ``r2`` = 1 − ψ/Var(η) with the model-implied Var(η) (which includes the products'
        variance); ``r2_main`` = Var(Σ β·L)/Var(η), the share of the linear (main-effect)
        terms; ``delta_r2`` = r2 − r2_main, the share that the interaction terms add (their
        variance and, when latent means are not zero, their covariance with the main
        effects).  All from the one fitted model: nothing is refitted.
        """
        _, cov = self.model.latent_moments(self.theta)
        M = self.model.matrices(self.theta)
        beta, psi = M.beta[0], M.psi[0]
        rows = []
        for k, name in enumerate(self.model.latent):
            if name not in self.model.endogenous:
                continue
            var = cov[k, k]
            b = beta[k]
            var_lin = float(b @ cov @ b)
            r2 = 1.0 - psi[k, k] / var
            terms = [p.term for p in self.model.products if p.outcome == name]
            # Without product terms of its own the outcome is linear in its predictors.
            r2_main = var_lin / var if terms else r2
            rows.append(dict(outcome=name, r2=r2, r2_main=r2_main, delta_r2=r2 - r2_main,
                             variance=var, interactions=", ".join(terms)))
        return pd.DataFrame(rows)

    def standardized_interaction(self) -> pd.DataFrame:
        """Standardised product coefficients, modsem's convention, with delta-method SEs.

        For ``Y ~ ω·X:Z``: ω·sd(X)·sd(Z)/sd(Y), with the model-implied standard deviations of
        the latent variables, where Var(Y) includes the products' contribution
        (ω²(Var X·Var Z + Cov(X, Z)²) for one product of centred normal operands).  This is
        the coefficient of the product of the *standardised* X and Z in the equation of the
        standardised Y; the product itself is not rescaled to variance 1 (its variance is
        1 + r²_XZ).  modsem's ``standardized_estimates()`` does the same for LMS/QML; lavaan's
        product-indicator models, where X:Z is a latent variable of its own with variance 1,
        give a different number.  Main effects of the same outcomes are standardised as usual
        (β·sd(X)/sd(Y)) and listed too.
        """
        model = self.model
        idx = {v: k for k, v in enumerate(model.latent)}
        outcomes = {p.outcome for p in model.products}
        t = model.table
        rows = [r for r in model.user_order()
                if t["op"].iat[r] == "~" and t["lhs"].iat[r] in outcomes]
        if not rows:
            return pd.DataFrame(columns=["lhs", "op", "rhs", "est", "std.all", "se", "z",
                                         "pvalue", "ci.lower", "ci.upper"])

        def std(theta: np.ndarray) -> np.ndarray:
            _, cov = model.latent_moments(theta)
            sd = np.sqrt(np.diag(cov))
            values = model.row_values(theta)[0]
            out = []
            for r in rows:
                y = idx[t["lhs"].iat[r]]
                parts = t["rhs"].iat[r].split(":")
                scale = np.prod([sd[idx[v]] for v in parts])
                out.append(values[r] * scale / sd[y])
            return np.array(out)

        est_std = std(self.theta)
        if self.vcov_matrix is not None:
            jac = delta_method_jacobian(std, self.theta)
            se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jac, self.vcov_matrix, jac), 0))
        else:
            se = np.full(len(rows), np.nan)
        w = wald(est_std, se, self.level)
        raw = model.row_values(self.theta)[0]
        return pd.DataFrame({
            "lhs": [t["lhs"].iat[r] for r in rows],
            "op": "~",
            "rhs": [t["rhs"].iat[r] for r in rows],
            "est": [raw[r] for r in rows],
            "std.all": est_std,
            "se": se,
            "z": w["z"],
            "pvalue": w["pvalue"],
            "ci.lower": w["ci.lower"],
            "ci.upper": w["ci.upper"],
        })

    @cached_property
    def _null(self):
        null_model = self.model.without_interactions()
        t_full, t_null = self.model.table, null_model.table
        start = np.full(null_model.nfree, np.nan)
        values = self.model.row_values(self.theta)[0]
        lookup = {(a, o, b): values[r] for r, (a, o, b) in
                  enumerate(zip(t_full["lhs"], t_full["op"], t_full["rhs"]))}
        for r in null_model._free_rows:
            key = (t_null["lhs"].iat[r], t_null["op"].iat[r], t_null["rhs"].iat[r])
            start[t_null["free"].iat[r] - 1] = lookup[key]
        frame = pd.DataFrame(self.data, columns=list(self.model.observed))
        return self.null_fitter(null_model, frame, se="none", start=start,
                       tol=self.options.get("tol", 1e-6))

    def lr_test(self) -> pd.Series:
        """Likelihood-ratio test of the product terms against the same model without them.

        The null model fixes every product coefficient to 0; it is then an ordinary normal
        model and is fitted by exact ML (on the same rows: its log-likelihood equals
        ``cs.fit(main_effects_syntax, data, meanstructure=True).fit_measures["logl"]``).
        LR = 2(logL − logL₀) is χ² with df = the number of product coefficients.  For QML the
        statistic uses the quasi-log-likelihood, an approximation (Klein & Muthén 2007).
        """
        null = self._null
        df = int(self.npar - null.npar)
        lr = 2.0 * (self.loglik - null.loglik)
        return pd.Series({
            "loglik": self.loglik,
            "loglik_null": null.loglik,
            "lr": lr,
            "df": df,
            "pvalue": float(special.chdtrc(df, max(lr, 0.0))) if df > 0 else np.nan,
            "null_converged": bool(null.converged),
        })

    # ------------------------------------------------------------------ printing

    def _text(self) -> str:
        """A short lavaan-like report."""
        lines = [
            f"{self.method} latent-interaction fit ({self.nobs} observations, "
            f"{self.npar} free parameters)",
            f"  {self.converged.describe()}",
            f"  log-likelihood {self.loglik:.3f}   AIC {self.aic:.3f}   BIC {self.bic:.3f}",
        ]
        if self.quadrature is not None and self.quadrature.nodes > 1:
            q = self.quadrature
            lines.append(
                f"  quadrature: {q.kind}, {q.nodes} nodes over {', '.join(q.dimensions)}; "
                f"estimated error of logL {q.error:.1e}")
        lines += [f"  note: {n}" for n in self.notes]
        p = self._params
        lines.append("")
        lines.append(f"{'':24s}{'est':>10s}{'se':>10s}{'z':>9s}{'p':>8s}")
        for row in p.itertuples(index=False):
            name = f"{row.lhs} {row.op} {row.rhs}".strip()
            se = "" if not row.se > 0 else f"{row.se:10.4f}"
            z = "" if not np.isfinite(row.z) else f"{row.z:9.2f}"
            pv = "" if not np.isfinite(row.pvalue) else f"{row.pvalue:8.3f}"
            lines.append(f"{name:24s}{row.est:10.4f}{se:>10s}{z:>9s}{pv:>8s}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<InteractionFit {self.method}: logL={self.loglik:.3f}, npar={self.npar}, "
                f"converged={bool(self.converged)}>")

    def to_frame(self) -> pd.DataFrame:
        """The parameter estimates (:attr:`params`)."""
        return self.params

    def summary(self) -> Summary:
        """Log-likelihood, quadrature and estimates (``str()`` is the plain-text report)."""
        fm = self.fit_measures.to_frame("value").reset_index(names="measure")
        return Summary(f"{self.method} latent-interaction fit",
                       (Block("Fit measures", fm), Block("Parameter estimates", self.params)),
                       tuple(self.notes), text=self._text())


# -------------------------------------------------------------------------------- assembly


def build_fit(*, model, method, X, theta, loglik, gradient, hessian, optim, em_iterations,
              level, se, quadrature, notes, options, seconds, null_fitter) -> InteractionFit:
    """Standard errors, admissibility checks and the result object."""
    problems = _admissibility(model, theta)
    vcov = None
    if hessian is not None and np.all(np.isfinite(hessian)):
        info = -hessian
        eig = np.linalg.eigvalsh(info)
        if eig[0] <= 0:
            problems.append(
                "the observed information matrix is not positive definite: the estimates may "
                "not be a maximum of the likelihood, and standard errors are not reliable")
            vcov = np.linalg.pinv(info)
        else:
            if scale_free_information_ratio(info) < SINGULAR_INFORMATION:
                problems.append(
                    "the observed information matrix is nearly singular: the model may not be "
                    "identified")
            vcov = np.linalg.inv(info)
        vcov = 0.5 * (vcov + vcov.T)
    if not optim.converged:
        warn(f"the {method} fit did not converge: {optim.message}; estimates are not "
             "trustworthy (try other starting values with start=, or more iterations)",
             ConvergenceWarning)
    for problem in problems:
        warn(problem, IdentificationWarning if "information matrix" in problem
             else AdmissibilityWarning)
    status = Convergence(
        optimizer_converged=bool(optim.converged),
        admissible=not problems,
        iterations=int(optim.iterations + em_iterations),
        max_gradient=float(np.max(np.abs(gradient)) / X.shape[0]) if gradient.size else 0.0,
        message=optim.message,
        problems=tuple(problems),
    )
    return InteractionFit(
        model=model, method=method, theta=np.asarray(theta, dtype=float), loglik=float(loglik),
        vcov_matrix=vcov, gradient=np.asarray(gradient, dtype=float), converged=status,
        iterations=int(optim.iterations + em_iterations), em_iterations=int(em_iterations),
        level=level, data=X, quadrature=quadrature, notes=tuple(notes), seconds=seconds,
        options=options, null_fitter=null_fitter,
    )


def _admissibility(model: LatentInteractionModel, theta: np.ndarray) -> list[str]:
    """Negative free variances (Heywood cases) and a latent covariance matrix that is not
    positive definite, by the predicates of :mod:`cbec_sem.engine.admissibility` (as for every
    other fit)."""
    t = model.table
    values = model.row_values(theta)[0]
    is_var = ((t["op"] == "~~") & (t["lhs"] == t["rhs"])).to_numpy()
    problems = []
    for r in negative_variances(values, np.flatnonzero(is_var & (t["free"].to_numpy() > 0))):
        name = t["lhs"].iat[r]
        kind = ("variance" if name in model.exogenous else "residual variance")
        problems.append(f"the {kind} of {name} is negative ({values[r]:.4g})")
    if not problems and model.m:
        _, cov_latent = model.latent_moments(theta)
        if not positive_definite(0.5 * (cov_latent + cov_latent.T)):
            problems.append("the covariance matrix of the latent variables is not positive "
                            "definite")
    return problems


def _param_table(fit: InteractionFit) -> pd.DataFrame:
    model = fit.model
    t = model.table
    order = model.user_order()
    values = model.row_values(fit.theta)[0]
    free = t["free"].to_numpy()
    if fit.vcov_matrix is not None:
        se_free = np.sqrt(np.maximum(np.diag(fit.vcov_matrix), 0.0))
    else:
        se_free = np.full(model.nfree, np.nan)
    se = np.where(free > 0, se_free[np.maximum(free - 1, 0)], 0.0)
    est = values[order]
    se = se[order]
    w = wald(est, np.where(free[order] > 0, se, 0.0), fit.level)
    fixed = free[order] == 0
    frame = pd.DataFrame({
        "lhs": t["lhs"].to_numpy()[order],
        "op": t["op"].to_numpy()[order],
        "rhs": t["rhs"].to_numpy()[order],
        "label": t["label"].to_numpy()[order],
        "est": est,
        "se": se,
        "z": np.where(fixed, np.nan, w["z"]),
        "pvalue": np.where(fixed, np.nan, w["pvalue"]),
        "ci.lower": np.where(fixed, est, w["ci.lower"]),
        "ci.upper": np.where(fixed, est, w["ci.upper"]),
    })
    if model.defined:
        frame = pd.concat([frame, _defined_rows(fit)], ignore_index=True)
    return frame


def _defined_rows(fit: InteractionFit) -> pd.DataFrame:
    """``:=`` parameters with delta-method standard errors."""
    model = fit.model
    t = model.table
    exprs = [(s.lhs, compile_expression(s.rhs), s.rhs) for s in model.defined]

    def evaluate(theta: np.ndarray) -> np.ndarray:
        values = model.row_values(theta)[0]
        env: dict[str, float] = {}
        for r, lab in enumerate(t["label"]):
            if lab:
                env[lab] = float(values[r])
        out = []
        for name, expr, _ in exprs:
            v = float(expr(env))
            env[name] = v
            out.append(v)
        return np.array(out)

    est = evaluate(fit.theta)
    if fit.vcov_matrix is not None:
        jac = delta_method_jacobian(evaluate, fit.theta)
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jac, fit.vcov_matrix, jac), 0.0))
    else:
        se = np.full(len(exprs), np.nan)
    w = wald(est, se, fit.level)
    return pd.DataFrame({
        "lhs": [e[0] for e in exprs], "op": ":=", "rhs": [e[2] for e in exprs], "label": "",
        "est": est, "se": se, "z": w["z"], "pvalue": w["pvalue"],
        "ci.lower": w["ci.lower"], "ci.upper": w["ci.upper"],
    })
