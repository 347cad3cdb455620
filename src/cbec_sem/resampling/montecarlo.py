"""Monte Carlo confidence intervals for defined parameters (indirect effects and the like).

The Monte Carlo method (MacKinnon, Lockwood & Williams 2004, *Multivariate Behav. Res.* 39,
99–128; Selig & Preacher 2008, "Monte Carlo method for assessing mediation", computer
software; Preacher & Selig 2012, *Commun. Methods Meas.* 6, 77–98) takes the asymptotic
sampling distribution of the parameter estimates, θ* ~ N(θ̂, V̂), draws from it, evaluates the
function of interest (``a*b``) on every draw, and reads the interval off the percentiles of
the results.  Unlike the delta method it keeps the skew of a product; unlike the bootstrap it
needs no refits, so 20,000 draws take milliseconds.

V̂ is the fit's covariance matrix of the free parameters (``res.estimation.vcov``: the
information-based one, or the bootstrap one for a fit with ``se="bootstrap"``).  Draws are
θ̂ + Z Λ^{1/2} Qᵀ with V̂ = Q Λ Qᵀ (eigen-decomposition), which also serves a singular V̂
(equality-constrained models, whose V̂ has rank below its size).  All draws are evaluated in
one vectorised pass of the ``:=`` expressions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import EstimationError, SpecError
from ..specification.expressions import compile_expression
from .intervals import percentile_interval


def monte_carlo_ci(
    res,
    parameters=None,
    draws: int = 20000,
    seed: int | None = None,
    level: float | None = None,
) -> pd.DataFrame:
    """Monte Carlo intervals for defined parameters.

    Args:
        res: a converged :class:`~cbec_sem.results.FitResult`.
        parameters: names of ``:=`` parameters (default: all of them), or expressions over
            parameter labels such as ``"a*b"``, evaluated the same way.
        draws: Monte Carlo draws (20,000 by default).
        seed: seed of the draws (``None``: fresh entropy; the same seed gives the same
            interval).
        level: confidence level (default: the fit's).

    Returns:
        One row per parameter: ``name, expression, est, se`` (the SD of the Monte Carlo
        distribution), ``ci.lower, ci.upper`` (percentile), ``draws``.

    Raises:
        EstimationError: the fit did not converge (no covariance matrix to draw from).
        SpecError: an unknown parameter name or a bad expression, or arguments out of range.

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> cs.monte_carlo_ci(res, draws=2000, seed=1).round(3)
               name expression    est     se  ci.lower  ci.upper  draws
        0  indirect        a*b  0.173  0.036     0.106     0.248   2000
        1     total      c+a*b  0.114  0.055     0.004     0.222   2000
    """
    est = getattr(res, "estimation", res)
    if not getattr(getattr(est, "optim", None), "converged", False):
        raise EstimationError(
            "the model did not converge, so there is no covariance matrix of the estimates "
            "to draw from (see res.converged)")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 2:
        raise SpecError(f"draws={draws!r} must be an integer ≥ 2")
    level = est.options.level if level is None else float(level)
    if not 0.0 < level < 1.0:
        raise SpecError(f"level={level} must lie strictly between 0 and 1 (e.g. 0.95)")
    space, ram = est.space, est.ram
    defined = dict(zip(space.defined_names(), space.defined))
    if parameters is None:
        parameters = list(defined)
        if not parameters:
            raise SpecError("the model has no ':=' defined parameters; name an expression, "
                            "e.g. parameters=['a*b']")
    elif isinstance(parameters, str):
        parameters = [parameters]
    exprs = []
    for name in parameters:
        if name in defined:
            exprs.append((name, defined[name].rhs, None))
            continue
        expr = compile_expression(name)  # raises SpecError on bad syntax
        known = set(space.rows) | set(defined)
        unknown = [n for n in expr.names if n not in known]
        if unknown:
            raise SpecError(
                f"{name!r}: {', '.join(map(repr, unknown))} is neither a defined parameter nor "
                f"a parameter label (labels: {', '.join(sorted(n for n in space.rows if not n.startswith('.'))) or 'none'})")
        exprs.append((name, expr.text, expr))

    rng = np.random.default_rng(seed)
    vcov = 0.5 * (est.vcov + est.vcov.T)
    eigval, eigvec = np.linalg.eigh(vcov)
    # Directions with no variance (equality constraints) stay exactly fixed: eigenvalues at
    # rounding level of the largest are zero.
    eigval = np.where(eigval > 1e-12 * max(float(eigval.max(initial=0.0)), 0.0), eigval, 0.0)
    root = eigvec * np.sqrt(eigval)
    theta = est.theta + rng.standard_normal((draws, est.theta.size)) @ root.T
    # Row values of the draws, transposed (rows × draws) so that the expression space can
    # index a row and get all draws of it.
    values = np.repeat(ram.base_values[:, None], draws, axis=1)
    free = ram.free_index >= 0
    values[free] = theta[:, ram.free_index[free]].T
    ns = space.namespace(values)
    point = space.namespace(ram.row_values(est.theta))
    names, texts, columns, estimates = [], [], [], []
    with np.errstate(all="ignore"):
        for name, text, expr in exprs:
            value = ns[name] if expr is None else expr(ns)
            hat = point[name] if expr is None else expr(point)
            names.append(name)
            texts.append(text)
            columns.append(np.broadcast_to(np.asarray(value, dtype=float), (draws,)))
            estimates.append(float(hat))
    mat = np.column_stack(columns)
    ci = percentile_interval(mat, level)
    return pd.DataFrame({
        "name": names,
        "expression": texts,
        "est": estimates,
        "se": np.std(mat, axis=0, ddof=1),
        "ci.lower": ci[:, 0],
        "ci.upper": ci[:, 1],
        "draws": draws,
    })
