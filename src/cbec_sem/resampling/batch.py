"""Refits of many resamples at once: the lean refit of :mod:`.refit`, batched over draws.

A bootstrap draw of a 20-item model is a few dozen 27 × 27 matrix products per iteration;
done one draw at a time, NumPy's per-call overhead costs more than the arithmetic.  Here the
draws of a chunk are refitted together: their matrices are stacked (k × n × n) and every
product, Cholesky factor and inverse is one batched call (``np.matmul``,
``np.linalg.cholesky``, ``np.linalg.inv`` loop over the stack in C).  Each draw keeps its own
state — point, inverse-Hessian approximation, step length, iteration count — and leaves the
batch when it converges, so a draw's numbers do not depend on which other draws share its
batch (the same seed gives the same draws on any number of workers).

The algorithm per draw is :meth:`RefitPlan._quasi_newton <.refit.RefitPlan>`'s: BFGS from
θ̂ with the inverse expected information at θ̂ as the first inverse Hessian (so the first step
is a Fisher-scoring step, Lee & Jennrich 1979), the inverse-Hessian update of Nocedal &
Wright (2006, eq. 6.17), and Armijo backtracking.  The fit function and gradient are those
of :meth:`.refit.RefitPlan.evaluate` (Neudecker & Satorra 1991), in stacked form.  A draw
that does not converge in :data:`~.refit.LEAN_MAX_ITER` iterations is finished by the
engine's optimiser (:meth:`.refit.RefitPlan.refit`'s fallback), exactly as before.
"""

from __future__ import annotations

import numpy as np

from ..engine.optimizer import PRECISION_LIMIT
from .refit import (BAD_MOMENTS, INADMISSIBLE, LEAN_MAX_ITER, NOT_CONVERGED, OK, DrawResult,
                    Moments, RefitPlan)


class MomentStack:
    """The moments of k draws, stacked per group."""

    def __init__(self, plan: RefitPlan, moms: list[Moments]) -> None:
        self.covs = [np.stack([m.covs[g] for m in moms]) for g in range(plan.ngroups)]
        self.means = [np.stack([m.means[g] for m in moms]) for g in range(plan.ngroups)]
        self.logdet = [np.array([m.logdet[g] for m in moms]) for g in range(plan.ngroups)]
        self.weights = np.stack([m.weights for m in moms])            # k × groups
        self.fixed = []
        for g, grp in enumerate(plan.groups):
            if grp.fx_rows.size:  # fixed-x values differ per draw
                self.fixed.append((grp.IA_fix, np.stack([m.fixed[g][1] for m in moms]),
                                   np.stack([m.fixed[g][2] for m in moms])))
            else:
                self.fixed.append((grp.IA_fix, grp.S_fix, grp.M_fix))

    def take(self, idx: np.ndarray) -> MomentStack:
        out = object.__new__(MomentStack)
        out.covs = [c[idx] for c in self.covs]
        out.means = [m[idx] for m in self.means]
        out.logdet = [d[idx] for d in self.logdet]
        out.weights = self.weights[idx]
        out.fixed = [(ia, s[idx] if s.ndim == 3 else s, m[idx] if m.ndim == 2 else m)
                     for ia, s, m in self.fixed]
        return out


def _stacked(func, stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``func`` (``np.linalg.cholesky`` or ``np.linalg.inv``) of every slice of a stack, and
    the mask of the slices where it exists (not positive definite, singular: those get an
    identity matrix).  One batched call; slice by slice only when some slice fails."""
    try:
        return func(stack), np.ones(len(stack), dtype=bool)
    except np.linalg.LinAlgError:
        out = np.empty_like(stack)
        ok = np.ones(len(stack), dtype=bool)
        for t, m in enumerate(stack):
            try:
                out[t] = func(m)
            except np.linalg.LinAlgError:
                out[t] = np.eye(m.shape[0])
                ok[t] = False
        return out, ok


def _scatter(plan: RefitPlan) -> list[np.ndarray]:
    """Per group, the r × q matrix that sums the gradient's free entries per parameter."""
    out = []
    for grp in plan.groups:
        P = np.zeros((grp.params.size, plan.q))
        P[np.arange(grp.params.size), grp.params] = 1.0
        out.append(P)
    return out


def path_depth(plan: RefitPlan) -> int | None:
    """The number of paths on the longest directed chain of the model (the largest d with
    A^d ≠ 0), or ``None`` for a non-recursive model.  Cached on the plan."""
    depth = getattr(plan, "_path_depth", False)
    if depth is not False:
        return depth
    depth = None
    if plan.recursive:
        n = plan.n
        edges = set()
        for grp in plan.groups:
            edges.update(zip(grp.ai.tolist(), grp.aj.tolist()))
            IA = grp.IA_fix
            fi, fj = np.nonzero(IA - np.diag(np.diag(IA)))  # fixed paths (e.g. loadings 1)
            edges.update(zip(fi.tolist(), fj.tolist()))
        longest = np.zeros(n, dtype=int)  # in topological positions: j → i has j < i
        for i in range(n):
            parents = [j for (a, j) in edges if a == i]
            longest[i] = max((longest[j] + 1 for j in parents), default=0)
        depth = max(1, int(longest.max()))
    plan._path_depth = depth
    return depth


def stacked_matrices(plan: RefitPlan, g: int, theta: np.ndarray, fixed: tuple
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """S, m and B = (I − A)⁻¹ of group g for k parameter vectors (k × q), stacked, and the
    mask of those whose I − A is invertible; ``fixed``: the group's (I − A, S, m) with only
    the fixed entries (stacked where fixed-x values differ per draw)."""
    grp = plan.groups[g]
    IA0, S0, M0 = fixed
    k, n = theta.shape[0], plan.n
    vals = theta[:, grp.params]                                       # k × r
    na, ns = grp.ai.size, grp.si.size
    IA = np.broadcast_to(IA0, (k, n, n)).copy()
    IA[:, grp.ai, grp.aj] = -vals[:, :na]
    S = np.broadcast_to(S0, (k, n, n)).copy()
    S[:, grp.si2, grp.sj2] = vals[:, grp.s_take]
    M = np.broadcast_to(M0, (k, n)).copy()
    if grp.mi.size:
        M[:, grp.mi] = vals[:, na + ns:]
    depth = path_depth(plan)
    if depth is not None:
        # I − A is unipotent (recursive model): B = I + A + … + A^depth, exactly, since
        # A^(depth+1) = 0 — a few stacked products instead of a general inverse each
        A = -IA
        A[:, np.arange(n), np.arange(n)] = 0.0
        B = np.eye(n) + A
        for _ in range(depth - 1):
            B = np.eye(n) + A @ B
        return S, M, B, np.ones(k, dtype=bool)
    B, ok = _stacked(np.linalg.inv, IA)
    return S, M, B, ok


def evaluate_batch(plan: RefitPlan, theta: np.ndarray, stack: MomentStack, gradient: bool = True,
                   scatter: list[np.ndarray] | None = None):
    """F and its gradient (θ-space) for k parameter vectors (k × q) on k resamples' moments;
    ``inf`` where Σ(θ) is not positive definite (the gradient row is then meaningless)."""
    k = theta.shape[0]
    p = plan.p
    total = np.zeros(k)
    good = np.ones(k, dtype=bool)
    grad = np.zeros((k, plan.q)) if gradient else None
    for g, grp in enumerate(plan.groups):
        S, M, B, ok = stacked_matrices(plan, g, theta, stack.fixed[g])
        na, ns = grp.ai.size, grp.si.size
        G = B[:, plan.obs_pos]                                        # k × p × n
        GS = G @ S
        sigma = GS @ G.transpose(0, 2, 1)
        L, pd_ok = _stacked(np.linalg.cholesky, sigma)
        ok &= pd_ok
        K = np.linalg.inv(np.where(pd_ok[:, None, None], sigma, np.eye(p)))
        Sobs = stack.covs[g]
        logdet = 2.0 * np.log(np.ascontiguousarray(np.diagonal(L, axis1=1, axis2=2))).sum(1)
        value = logdet + (Sobs * K).reshape(k, p * p).sum(1) - stack.logdet[g] - p
        kd = None
        if plan.meanstructure:
            d = stack.means[g] - (G @ M[:, :, None])[:, :, 0]
            kd = (K @ d[:, :, None])[:, :, 0]
            value = value + (d * kd).sum(1)
        w = stack.weights[:, g]
        total += w * 0.5 * value
        good &= ok
        if not gradient:
            continue
        W2 = K - K @ Sobs @ K
        if kd is not None:
            W2 -= kd[:, :, None] * kd[:, None, :]
        Gt = G.transpose(0, 2, 1)
        GtW2 = Gt @ W2
        pieces = []
        if na:
            gA = (GtW2 @ (GS @ B.transpose(0, 2, 1)))[:, grp.ai, grp.aj]
            if kd is not None:
                gk = (Gt @ kd[:, :, None])[:, :, 0]
                BM = (B @ M[:, :, None])[:, :, 0]
                gA -= gk[:, grp.ai] * BM[:, grp.aj]
            pieces.append(gA)
        if ns:
            pieces.append((GtW2 @ G)[:, grp.si, grp.sj] * grp.sfac)
        if grp.mi.size:
            pieces.append(-(Gt @ kd[:, :, None])[:, grp.mi, 0])
        vals_g = np.concatenate(pieces, axis=1) if len(pieces) > 1 else pieces[0]
        if plan.simple_scatter:
            grad[:, grp.params] = vals_g
        else:
            P = scatter[g] if scatter is not None else _scatter(plan)[g]
            grad += (w[:, None] * vals_g) @ P
    total[~good | ~np.isfinite(total)] = np.inf
    return total, grad


def _to_x(plan: RefitPlan, x: np.ndarray) -> np.ndarray:
    return x if plan.identity else plan.theta0 + x @ plan.basis.T


def _evaluate_x(plan, x, stack, gradient, scatter):
    value, grad = evaluate_batch(plan, _to_x(plan, x), stack, gradient, scatter)
    if grad is not None and not plan.identity:
        grad = grad @ plan.basis
    return value, grad


def quasi_newton_batch(plan: RefitPlan, stack: MomentStack):
    """BFGS from θ̂ for every draw of the stack (see the module docstring).  Returns the
    points (k × dim x), a converged mask and the iteration counts."""
    scatter = None if plan.simple_scatter else _scatter(plan)
    k = len(stack.weights)
    x = np.broadcast_to(plan.x_hat, (k, plan.x_hat.size)).copy()
    value, grad = _evaluate_x(plan, x, stack, True, scatter)
    converged = np.zeros(k, dtype=bool)
    iterations = np.zeros(k, dtype=int)
    active = np.isfinite(value)
    hinv = np.broadcast_to(plan.hess_inv0, (k,) + plan.hess_inv0.shape).copy()
    fresh = np.ones(k, dtype=bool)
    for it in range(LEAN_MAX_ITER):
        gmax = np.abs(grad).max(axis=1) if grad.shape[1] else np.zeros(k)
        done = active & (gmax < plan.tol)
        converged |= done
        iterations[done] = it
        active &= ~done
        if not active.any():
            break
        idx = np.flatnonzero(active)
        step = ((hinv if idx.size == k else hinv[idx]) @ grad[idx, :, None])[:, :, 0]
        slope = (grad[idx] * step).sum(1)
        bad = ~(slope > 0)
        if bad.any():
            # a fresh approximation that does not descend: the draw has failed; a stale
            # one goes back to the first (the draw waits one iteration)
            stop = idx[bad & fresh[idx]]
            active[stop] = False
            iterations[stop] = it
            reset = idx[bad & ~fresh[idx]]
            hinv[reset] = plan.hess_inv0
            fresh[reset] = True
            idx, step, slope = idx[~bad], step[~bad], slope[~bad]
            if not idx.size:
                continue
        full = idx.size == k  # every draw still running: views, not copies
        sub = stack if full else stack.take(idx)
        trial = x[idx] - step
        v_trial, g_trial = _evaluate_x(plan, trial, sub, True, scatter)
        has_grad = np.ones(idx.size, dtype=bool)
        alpha = np.ones(idx.size)
        need = ~(v_trial <= value[idx] - 1e-4 * alpha * slope)  # also catches inf, nan
        while need.any():
            alpha[need] *= 0.5
            tiny = need & (alpha < 1e-10)
            if tiny.any():
                # F no longer resolves progress (rounding): accept the point when its
                # gradient meets the engine's precision limit
                stop = idx[tiny]
                converged[stop] = gmax[stop] < PRECISION_LIMIT
                iterations[stop] = it
                active[stop] = False
                need &= ~tiny
                alpha[tiny] = np.nan  # (left out below)
            if not need.any():
                break
            w = np.flatnonzero(need)
            trial[w] = x[idx[w]] - alpha[w, None] * step[w]
            v_trial[w], _ = _evaluate_x(plan, trial[w], sub.take(w), False, scatter)
            has_grad[w] = False
            need[w] = ~(v_trial[w] <= value[idx[w]] - 1e-4 * alpha[w] * slope[w])
        keep = ~np.isnan(alpha)
        idx, trial, v_trial, g_trial = idx[keep], trial[keep], v_trial[keep], g_trial[keep]
        has_grad, sub_keep = has_grad[keep], np.flatnonzero(keep)
        if not idx.size:
            continue
        if not has_grad.all():
            w = np.flatnonzero(~has_grad)
            _, g_trial[w] = _evaluate_x(plan, trial[w], sub.take(sub_keep[w]), True, scatter)
        s = trial - x[idx]
        y = g_trial - grad[idx]
        sy = (s * y).sum(1)
        upd = sy > 1e-12 * np.sqrt((s * s).sum(1) * (y * y).sum(1))
        if upd.any():
            u = idx[upd]
            su, yu, syu = s[upd], y[upd], sy[upd]
            inplace = u.size == k
            H = hinv if inplace else hinv[u]
            hy = (H @ yu[:, :, None])[:, :, 0]
            yhy = (yu * hy).sum(1)
            # H ← H + (1 + yᵀHy/sᵀy) ssᵀ/sᵀy − (H y sᵀ + s yᵀH)/sᵀy (Nocedal & Wright, 6.17)
            a = ((syu + yhy) / syu**2)[:, None] * su - hy / syu[:, None]
            H += su[:, :, None] * a[:, None, :]
            H -= (hy / syu[:, None])[:, :, None] * su[:, None, :]
            if not inplace:
                hinv[u] = H
            fresh[u] = False
        x[idx], value[idx], grad[idx] = trial, v_trial, g_trial
    else:
        iterations[active] = LEAN_MAX_ITER
    return x, converged, iterations


def refit_batch(plan: RefitPlan, counts: list[list[np.ndarray]]) -> list[DrawResult]:
    """:meth:`RefitPlan.refit` of many resamples (row counts per group), batched."""
    return refit_moments(plan, [plan.moments(c) for c in counts])


def refit_moments(plan: RefitPlan, moms: list[Moments | None]) -> list[DrawResult]:
    """Refits to many sets of sample moments at once (``None``: moments that are not positive
    definite, reported as :data:`~.refit.BAD_MOMENTS`); the power study's replications and
    the bootstrap's draws both come here."""
    results: list[DrawResult | None] = [None] * len(moms)
    usable = [t for t, m in enumerate(moms) if m is not None]
    for t, m in enumerate(moms):
        if m is None:
            nan = np.full(plan.nrows, np.nan)
            results[t] = DrawResult(BAD_MOMENTS, 0, nan, nan.copy())
    if usable:
        stack = MomentStack(plan, [moms[t] for t in usable])
        with np.errstate(all="ignore"):
            x, converged, iterations = quasi_newton_batch(plan, stack)
        for j, t in enumerate(usable):
            xt, conv, its = x[j], bool(converged[j]), int(iterations[j])
            if not conv:
                with np.errstate(all="ignore"):
                    xt, conv, more = plan._fallback(moms[t])
                its += more
            theta = plan.theta_of(xt)
            rows, std, admissible = plan.describe(theta, moms[t])
            status = NOT_CONVERGED if not conv else (OK if admissible else INADMISSIBLE)
            results[t] = DrawResult(status, its, rows, std, xt)
    return results
