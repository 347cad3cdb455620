"""Starting values for the free parameters.

lavaan's ``start = "simple"`` rules (Rosseel 2012) with a better guess for measurement models:
residual variances of observed variables start at half their sample variance, regressions and
covariances at 0, intercepts at the sample means, latent means at 0.  For each latent variable
measured by observed items, the loadings and the factor variance start from the first principal
component of the items' covariance matrix (the classic one-factor approximation, e.g. Harman
1976, *Modern Factor Analysis*, ch. 8), rescaled so the marker loading keeps its fixed value.
Latent variables measured by other latent variables (higher-order factors) start with unit
loadings and variance 0.05, as lavaan does.  An item that indicates one factor of three or
more items starts its residual variance between two classic one-factor approximations of its
unique variance, the mean of var − λ²ψ from that principal component (too small: the component
absorbs unique variance) and 1/[S⁻¹]ⱼⱼ from the squared multiple correlation with the other
items (too large: it misses the communality the other items cannot predict; Guttman 1956,
*Psychometrika* 21:273), at least a tenth of its variance; over the 55 lavaan fixtures this
cut the fits' function evaluations from 1,139 to 1,045, most in constrained models
(``benchmarks/evaluations.py``).  Composite weights (``F <~ x``) start as a sum score,
every free weight at the value of the composite's fixed weight (the unit weights PLS starts
from; lavaan starts them at 0).  A user's ``start()`` value always wins.
"""

from __future__ import annotations

import numpy as np

from .partable import ParTable
from .samplestats import SampleStats


def _factor_start(cov: np.ndarray) -> np.ndarray:
    """Loadings of the first principal component scaled as a one-factor solution (of each
    matrix of a stack, the last axes)."""
    val, vec = np.linalg.eigh(cov)
    load = vec[..., -1] * np.sqrt(np.maximum(val[..., -1:], 1e-8))
    return np.where(load.sum(axis=-1, keepdims=True) >= 0, load, -load)


def _unique_variance_start(block: np.ndarray, pc: np.ndarray) -> np.ndarray:
    """Residual-variance starts of one factor's items (module docstring): the mean of
    var − pc² and 1/[S⁻¹]ⱼⱼ, at least a tenth of each variance (of each matrix of a
    stack)."""
    var = np.diagonal(block, axis1=-2, axis2=-1)
    try:
        smc_unique = 1.0 / np.diagonal(np.linalg.inv(block), axis1=-2, axis2=-1)
    except np.linalg.LinAlgError:
        smc_unique = 0.5 * var
    start = 0.5 * (var - pc**2 + smc_unique)
    return np.where(np.isfinite(start), np.maximum(start, 0.1 * var), 0.5 * var)


def _one_factor_starts(cov: np.ndarray, item_sets: list[list[int]]
                       ) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """For each set of items (positions in ``cov``): its :func:`_factor_start` loadings and,
    with three or more items, its :func:`_unique_variance_start`; the sets of one size as
    one stacked eigendecomposition and inverse (LAPACK runs per matrix, so the numbers are
    those of one call per set)."""
    out: list = [None] * len(item_sets)
    by_size: dict[int, list[int]] = {}
    for s, items in enumerate(item_sets):
        by_size.setdefault(len(items), []).append(s)
    for k, sets in by_size.items():
        idx = np.array([item_sets[s] for s in sets])              # m × k
        blocks = cov[idx[:, :, None], idx[:, None, :]]              # m × k × k
        pcs = _factor_start(blocks)
        uniques = _unique_variance_start(blocks, pcs) if k >= 3 else [None] * len(sets)
        for s, pc, u in zip(sets, pcs, uniques):
            out[s] = (pc, u)
    return out


def _higher_order_starts(partable, cov, names, g, values, free, loading, lv_variance) -> None:
    """Starts for a factor measured by factors (e.g. SCI =~ VP + FO + IS).

    The first-order factors' covariances are estimated through their marker items,
    Cov(f_i, f_j) ≈ Cov(x_i, x_j) / (λ_i λ_j), their variances from the one-factor starts; a
    one-factor solution of that matrix gives the second-order loadings and variance, and each
    first-order factor keeps the variance the second-order factor leaves unexplained (at
    least 10% of its own) as its residual variance.  Without this, unit loadings and a
    variance of 0.05 (lavaan's simple start) can send scoring into a degenerate region where
    a first-order variance grows without bound while the second-order one turns negative.
    """
    ops = partable.column("op")
    lhs = partable.column("lhs")
    rhs = partable.column("rhs")
    group = partable.column("group") - 1
    for lv, items in partable.roles.indicators.items():
        if not items or not all((g, f) in lv_variance for f in items):
            continue
        markers = []
        for f in items:
            own = [x for x in partable.roles.indicators.get(f, ()) if (g, f, x) in loading]
            if not own:
                break
            markers.append((own[0], loading[(g, f, own[0])]))
        if len(markers) != len(items):
            continue
        k = len(items)
        C = np.empty((k, k))
        for i, (xi, li) in enumerate(markers):
            for j, (xj, lj) in enumerate(markers):
                C[i, j] = (lv_variance[(g, items[i])] if i == j
                           else cov[names[xi], names[xj]] / (li * lj))
        pc = _factor_start(C)
        rows = np.flatnonzero((group == g) & (ops == "=~") & (lhs == lv))
        fixed = [r for r in rows if not free[r] and not np.isnan(values[r]) and values[r] != 0]
        scale = 1.0
        if fixed and abs(pc[items.index(rhs[fixed[0]])]) > 1e-8:
            scale = pc[items.index(rhs[fixed[0]])] / values[fixed[0]]
        for f, lam in zip(items, pc):
            loading[(g, lv, f)] = lam / scale
        psi = scale**2
        lv_variance[(g, lv)] = psi
        for f, lam in zip(items, pc):
            total = lv_variance[(g, f)]
            lv_variance[(g, f)] = max(total - lam**2, 0.1 * total)


def start_values(partable: ParTable, stats: SampleStats,
                 ustart: np.ndarray | None = None) -> np.ndarray:
    """A starting value for every row of the table (fixed rows keep their fixed value);
    ``ustart`` replaces the table's ``ustart`` column (e.g. with fixed-x values filled in)."""
    names = {v: k for k, v in enumerate(stats.names)}
    latent = set(partable.roles.latent)
    values = np.array(partable.column("ustart") if ustart is None else ustart, dtype=float)
    user_start = (~np.isnan(values)).tolist()
    # the columns as Python lists: the loops below read them element by element, and a NumPy
    # element read makes a NumPy scalar each time (about three times the cost)
    ops = partable.column("op").tolist()
    lhs = partable.column("lhs").tolist()
    rhs = partable.column("rhs").tolist()
    group = (partable.column("group") - 1).tolist()
    free = (partable.column("free") > 0).tolist()
    lv_variance: dict[tuple[int, str], float] = {}
    loading: dict[tuple[int, str, str], float] = {}
    unique: dict[tuple[int, str], list[float]] = {}  # residual-variance starts of an item
    loading_rows: dict[tuple[int, str], list[int]] = {}  # (group, factor) → its =~ rows
    for r, op in enumerate(ops):
        if op == "=~":
            loading_rows.setdefault((group[r], lhs[r]), []).append(r)
    measured = [(lv, items) for lv, items in partable.roles.indicators.items()
                if items and all(x in names for x in items)]
    for g in range(partable.ngroups):
        cov = stats.covs[g]
        starts = _one_factor_starts(cov, [[names[x] for x in items] for _, items in measured])
        for (lv, observed), (pc, uniques) in zip(measured, starts):
            if uniques is not None:
                for x, u in zip(observed, uniques):
                    unique.setdefault((g, x), []).append(u)
            rows = loading_rows.get((g, lv), ())
            fixed = [r for r in rows if not free[r] and not np.isnan(values[r]) and values[r] != 0]
            scale = 1.0
            if fixed:
                r0 = fixed[0]
                k0 = observed.index(rhs[r0])
                if abs(pc[k0]) > 1e-8:
                    scale = pc[k0] / values[r0]
            for x, lam in zip(observed, pc):
                loading[(g, lv, x)] = lam / scale
            lv_variance[(g, lv)] = scale**2
        _higher_order_starts(partable, cov, names, g, values, free, loading, lv_variance)
    composite_scale = {
        (group[r], lhs[r]): values[r] for r in range(len(values))
        if ops[r] == "<~" and not free[r] and np.isfinite(values[r]) and values[r] != 0
    }
    for r in range(len(values)):
        if not free[r] or user_start[r]:
            continue
        g = group[r]
        cov, mean = stats.covs[g], stats.means[g]
        op, a, b = ops[r], lhs[r], rhs[r]
        if op == "=~":
            values[r] = loading.get((g, a, b), 1.0)
        elif op == "~":
            values[r] = 0.0
        elif op == "<~":
            # a sum score: each free weight at the composite's fixed weight
            values[r] = composite_scale.get((g, a), 1.0)
        elif op == "~1":
            values[r] = mean[names[a]] if a in names else 0.0
        elif op == "~~":
            if a != b:
                values[r] = 0.0
            elif a in latent:
                values[r] = lv_variance.get((g, a), 0.05)
            else:
                u = unique.get((g, a), ())
                # an item of several factors: lavaan's half of its variance
                values[r] = u[0] if len(u) == 1 else 0.5 * cov[names[a], names[a]]
    return values


def fixed_x_values(partable: ParTable, stats: SampleStats) -> np.ndarray:
    """The table's ``ustart`` with exogenous covariates' (co)variances and means set to the
    sample values (lavaan's ``fixed.x = TRUE``)."""
    values = np.array(partable.column("ustart"), dtype=float)
    names = {v: k for k, v in enumerate(stats.names)}
    exo = np.flatnonzero(partable.column("exo") == 1)
    group, lhs, ops, rhs = (partable.column(c) for c in ("group", "lhs", "op", "rhs"))
    for r in exo:
        g = group[r] - 1
        a, op, b = lhs[r], ops[r], rhs[r]
        if op == "~~":
            values[r] = stats.covs[g][names[a], names[b]]
        elif op == "~1":
            values[r] = stats.means[g][names[a]]
    return values
