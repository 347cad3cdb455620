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

from dataclasses import dataclass

import numpy as np

from ..engine.optimizer import PRECISION_LIMIT
from ..engine.standardize import standardize_group
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


@dataclass(frozen=True)
class _Blocks:
    """One group's free and fixed entries in block form (see :func:`block_form`)."""

    lam: tuple[np.ndarray, np.ndarray, np.ndarray]   # (free-entry index, row, col) in Λ
    beta: tuple[np.ndarray, np.ndarray, np.ndarray]  # ... in Β
    theta: tuple[np.ndarray, np.ndarray, np.ndarray] # ... in Θ (both triangles)
    psi: tuple[np.ndarray, np.ndarray, np.ndarray]   # ... in Ψ (both triangles)
    mo: tuple[np.ndarray, np.ndarray]                # (free-entry index, row) in m_o
    ml: tuple[np.ndarray, np.ndarray]                # ... in m_l
    theta_diag: tuple[np.ndarray, np.ndarray]        # Θ's free diagonal entries: (index, row)
    theta_off: tuple[np.ndarray, np.ndarray, np.ndarray]
    # ... and its free off-diagonal entries once each (the triangle scattered last, of the
    # two that ``theta`` lists): the gradient's Θ entries
    lam0: np.ndarray                                 # fixed parts: Λ, Β, Θ, Ψ, m_o, m_l
    beta0: np.ndarray
    theta0: np.ndarray
    psi0: np.ndarray
    mo0: np.ndarray
    ml0: np.ndarray
    depth: int                                       # longest chain among the latents


def block_form(plan: RefitPlan) -> list[_Blocks] | None:
    """The model in LISREL's block form, when it has one, per group; cached on the plan.

    When no observed variable is a predictor (A has no column of an observed variable) and S
    has no entry between an observed and a latent variable — a measurement model with latent
    regressions, the form of the paper model and of its product-indicator model — the RAM
    matrices split into loadings Λ (observed × latent), latent regressions Β, residual
    covariances Θ of the items, latent (residual) covariances Ψ and the intercepts m_o, m_l,
    and with Bₗ = (I − Β)⁻¹ and L = Λ Bₗ (Jöreskog 1973; Bollen 1989, ch. 8):

        G = J (I − A)⁻¹ = [I  L],   Σ = L Ψ Lᵀ + Θ,   μ = m_o + L m_l.

    Every product of :func:`evaluate_batch`'s gradient is then a product of p × m and m × m
    matrices instead of n × n ones (n = p + m).  ``None`` when the model is not of this form
    (an observed predictor, an observed–latent covariance, fixed covariates) or not recursive
    among the latents."""
    cached = getattr(plan, "_block_form", False)
    if cached is not False:
        return cached
    # computed, then stored once: Dask may run chunks of one plan in several threads, and a
    # thread must never read a half-made answer (a placeholder None sent one thread down the
    # general path, a last-digit difference from the block form)
    plan._block_form = _block_form(plan)
    return plan._block_form


def _block_form(plan: RefitPlan) -> list[_Blocks] | None:
    """:func:`block_form`, uncached."""
    if path_depth(plan) is None:
        return None
    o_of = np.full(plan.n, -1)
    o_of[plan.obs_pos] = np.arange(plan.p)
    l_of = np.full(plan.n, -1)
    l_of[plan.lat_pos] = np.arange(plan.n - plan.p)
    m = plan.n - plan.p
    if m == 0:
        return None
    out = []
    for grp in plan.groups:
        if grp.fx_rows.size:
            return None
        IA = grp.IA_fix
        fi, fj = np.nonzero(IA - np.diag(np.diag(IA)))
        ai = np.concatenate([grp.ai, fi])
        aj = np.concatenate([grp.aj, fj])
        si = np.concatenate([grp.si, np.nonzero(grp.S_fix)[0]])
        sj = np.concatenate([grp.sj, np.nonzero(grp.S_fix)[1]])
        if (o_of[aj] >= 0).any() or ((o_of[si] >= 0) != (o_of[sj] >= 0)).any():
            return None
        na, ns = grp.ai.size, grp.si.size
        k_a, k_s = np.arange(na), np.arange(na, na + ns)
        on_obs = o_of[grp.ai] >= 0
        s_obs = o_of[grp.si] >= 0
        # both triangles of the symmetric entries, as RefitPlan._matrices scatters them
        t_i, t_j = np.concatenate([grp.si[s_obs], grp.sj[s_obs]]), np.concatenate(
            [grp.sj[s_obs], grp.si[s_obs]])
        p_i, p_j = np.concatenate([grp.si[~s_obs], grp.sj[~s_obs]]), np.concatenate(
            [grp.sj[~s_obs], grp.si[~s_obs]])
        m_obs = o_of[grp.mi] >= 0
        k_m = np.arange(na + ns, na + ns + grp.mi.size)
        lat = plan.lat_pos
        obs = plan.obs_pos
        Bfix = -(IA - np.eye(plan.n))
        th_i, th_r, th_c = (np.tile(k_s[s_obs], 2), o_of[t_i], o_of[t_j])
        last = th_i.size - 1 - np.unique(th_i[::-1], return_index=True)[1]
        diag = th_r[last] == th_c[last]
        out.append(_Blocks(
            lam=(k_a[on_obs], o_of[grp.ai[on_obs]], l_of[grp.aj[on_obs]]),
            beta=(k_a[~on_obs], l_of[grp.ai[~on_obs]], l_of[grp.aj[~on_obs]]),
            theta=(th_i, th_r, th_c),
            psi=(np.tile(k_s[~s_obs], 2), l_of[p_i], l_of[p_j]),
            mo=(k_m[m_obs], o_of[grp.mi[m_obs]]),
            ml=(k_m[~m_obs], l_of[grp.mi[~m_obs]]),
            theta_diag=(th_i[last][diag], th_r[last][diag]),
            theta_off=(th_i[last][~diag], th_r[last][~diag], th_c[last][~diag]),
            lam0=Bfix[np.ix_(obs, lat)], beta0=Bfix[np.ix_(lat, lat)],
            theta0=grp.S_fix[np.ix_(obs, obs)], psi0=grp.S_fix[np.ix_(lat, lat)],
            mo0=grp.M_fix[obs], ml0=grp.M_fix[lat],
            depth=max(1, path_depth(plan)),
        ))
    return out


def _stacked_f(sigma: np.ndarray, cov: np.ndarray, logdet_s: np.ndarray, d: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """2F of one group for k draws — log|Σ| + tr(S Σ⁻¹) − log|S| − p (+ dᵀΣ⁻¹d with the mean
    residual d) — with K = Σ⁻¹, K d and the mask of the draws whose Σ is positive definite
    (the others get an identity in its place and are set to ∞ by the caller)."""
    k, p = cov.shape[0], sigma.shape[1]  # sigma: k slices, or one that every draw shares
    L, ok = _stacked(np.linalg.cholesky, sigma)
    K = np.linalg.inv(sigma if ok.all() else np.where(ok[:, None, None], sigma, np.eye(p)))
    logdet = 2.0 * np.log(np.ascontiguousarray(np.diagonal(L, axis1=1, axis2=2))).sum(1)
    value = logdet + (cov * K).reshape(k, p * p).sum(1) - logdet_s - p
    kd = None
    if d is not None:
        kd = (K @ d[:, :, None])[:, :, 0]
        value = value + (d * kd).sum(1)
    return value, K, kd, ok


def _add_to_gradient(plan: RefitPlan, grad: np.ndarray, g: int, w: np.ndarray,
                     vals_g: np.ndarray, scatter: list[np.ndarray] | None) -> None:
    """Adds group g's gradient in its free entries (k × entries, weight w = n_g/N per draw) to
    the parameters' gradient: a plain scatter when every entry is its own parameter of the
    only group, else the sum over shared labels and groups."""
    if plan.simple_scatter:
        grad[:, plan.groups[g].params] = vals_g
    else:
        P = scatter[g] if scatter is not None else _scatter(plan)[g]
        grad += (w[:, None] * vals_g) @ P


def _evaluate_blocks(plan: RefitPlan, theta: np.ndarray, stack: MomentStack, gradient: bool,
                     scatter: list[np.ndarray] | None):
    """:func:`evaluate_batch` for a model in block form (:func:`block_form`): the same F and
    gradient, from Λ, Β, Θ, Ψ and the intercepts.  With W₂ = K − K (S + d dᵀ) K, the n × n
    products of the general form reduce to (Bₗ = (I − Β)⁻¹, L = Λ Bₗ, R = Ψ Bₗᵀ):

        ∂F/∂Λ = W₂ L R − (K d)(Bₗ m_l)ᵀ,        ∂F/∂Β = Lᵀ W₂ L R − (Lᵀ K d)(Bₗ m_l)ᵀ,
        ∂F/∂Θ = W₂,   ∂F/∂Ψ = Lᵀ W₂ L   (halved on the diagonal),
        ∂F/∂m_o = −K d,   ∂F/∂m_l = −Lᵀ K d.

    ``theta`` may be one row that every draw of the stack shares (the start of a batch): its
    model matrices, Σ, Cholesky factor and inverse are then computed once and broadcast, and
    each draw's numbers are those of its own row (every product is the same BLAS call per
    slice)."""
    k, p = len(stack.weights), plan.p
    kt = theta.shape[0]  # k, or 1: one point for all draws
    m = plan.n - plan.p
    total = np.zeros(k)
    good = np.ones(k, dtype=bool)
    grad = np.zeros((k, plan.q)) if gradient else None
    for g, (grp, blk) in enumerate(zip(plan.groups, block_form(plan))):
        vals = theta[:, grp.params]                                   # kt × r
        Lam = np.broadcast_to(blk.lam0, (kt, p, m)).copy()
        Lam[:, blk.lam[1], blk.lam[2]] = vals[:, blk.lam[0]]
        Th = np.broadcast_to(blk.theta0, (kt, p, p)).copy()
        Th[:, blk.theta[1], blk.theta[2]] = vals[:, blk.theta[0]]
        Psi = np.broadcast_to(blk.psi0, (kt, m, m)).copy()
        Psi[:, blk.psi[1], blk.psi[2]] = vals[:, blk.psi[0]]
        if blk.beta[0].size or blk.beta0.any():
            Beta = np.broadcast_to(blk.beta0, (kt, m, m)).copy()
            Beta[:, blk.beta[1], blk.beta[2]] = vals[:, blk.beta[0]]
            Bl = np.eye(m) + Beta  # Β nilpotent (recursive): (I − Β)⁻¹ = I + Β + … + Β^depth
            for _ in range(blk.depth - 1):
                Bl = np.eye(m) + Beta @ Bl
            L = Lam @ Bl
        else:
            Bl = None
            L = Lam
        R = Psi if Bl is None else Psi @ Bl.transpose(0, 2, 1)        # Ψ Bₗᵀ
        LPsi = L @ Psi
        sigma = LPsi @ L.transpose(0, 2, 1) + Th
        d = None
        if plan.meanstructure:
            Ml = np.broadcast_to(blk.ml0, (kt, m)).copy()
            Ml[:, blk.ml[1]] = vals[:, blk.ml[0]]
            Mo = np.broadcast_to(blk.mo0, (kt, p)).copy()
            Mo[:, blk.mo[1]] = vals[:, blk.mo[0]]
            BMl = Ml if Bl is None else (Bl @ Ml[:, :, None])[:, :, 0]   # Bₗ m_l
            d = stack.means[g] - Mo - (Lam @ BMl[:, :, None])[:, :, 0]
        Sobs = stack.covs[g]
        value, K, kd, ok = _stacked_f(sigma, Sobs, stack.logdet[g], d)
        w = stack.weights[:, g]
        total += w * 0.5 * value
        good &= ok
        if not gradient:
            continue
        # W₂ = K − K S K − (Kd)(Kd)ᵀ is needed only times L and at Θ's entries: one p × p × p
        # product (K S) instead of two
        KS = K @ Sobs
        KL = K @ L
        W2L = KL - KS @ KL                                            # k × p × m
        if kd is not None:
            W2L -= kd[:, :, None] * (kd[:, None, :] @ L)
        LtW2L = L.transpose(0, 2, 1) @ W2L                            # k × m × m
        vals_g = np.empty((k, grp.params.size))
        i, r, c = blk.lam
        if i.size:
            vals_g[:, i] = (W2L @ R)[:, r, c]
        i, r, c = blk.beta
        if i.size:
            vals_g[:, i] = (LtW2L @ R)[:, r, c]
        # W₂ at Θ's entries: (K S K)ᵢⱼ as the sum over l of (K S)ᵢₗ Kⱼₗ, by one einsum whose
        # every entry is the same reduction however many entries share the call; on the
        # diagonal all p at once, without gathering rows of K S and K (a slow fancy index)
        Kk = K if K.shape[0] == k else np.broadcast_to(K, KS.shape)  # einsum: equal sizes
        i, r = blk.theta_diag
        if i.size:
            w2 = K[:, r, r] - np.einsum("kej,kej->ke", KS, Kk)[:, r]
            if kd is not None:
                w2 -= kd[:, r] * kd[:, r]
            vals_g[:, i] = w2 * 0.5
        i, r, c = blk.theta_off
        if i.size:
            w2 = K[:, r, c] - np.einsum("kej,kej->ke", KS.take(r, axis=1), Kk.take(c, axis=1))
            if kd is not None:
                w2 -= kd[:, r] * kd[:, c]
            vals_g[:, i] = w2
        i, r, c = blk.psi
        if i.size:
            vals_g[:, i] = LtW2L[:, r, c] * np.where(r == c, 0.5, 1.0)
        if kd is not None:
            Ltkd = (L.transpose(0, 2, 1) @ kd[:, :, None])[:, :, 0]
            i, r, c = blk.lam
            if i.size:
                vals_g[:, i] -= kd[:, r] * BMl[:, c]
            i, r, c = blk.beta
            if i.size:
                vals_g[:, i] -= Ltkd[:, r] * BMl[:, c]
            i, r = blk.mo
            vals_g[:, i] = -kd[:, r]
            i, r = blk.ml
            vals_g[:, i] = -Ltkd[:, r]
        _add_to_gradient(plan, grad, g, w, vals_g, scatter)
    total[~good | ~np.isfinite(total)] = np.inf
    return total, grad


def evaluate_batch(plan: RefitPlan, theta: np.ndarray, stack: MomentStack, gradient: bool = True,
                   scatter: list[np.ndarray] | None = None):
    """F and its gradient (θ-space) for k parameter vectors (k × q) on k resamples' moments;
    ``inf`` where Σ(θ) is not positive definite (the gradient row is then meaningless)."""
    if block_form(plan) is not None:
        return _evaluate_blocks(plan, theta, stack, gradient, scatter)
    k = theta.shape[0]
    total = np.zeros(k)
    good = np.ones(k, dtype=bool)
    grad = np.zeros((k, plan.q)) if gradient else None
    for g, grp in enumerate(plan.groups):
        S, M, B, ok = stacked_matrices(plan, g, theta, stack.fixed[g])
        na, ns = grp.ai.size, grp.si.size
        G = B[:, plan.obs_pos]                                        # k × p × n
        GS = G @ S
        sigma = GS @ G.transpose(0, 2, 1)
        d = stack.means[g] - (G @ M[:, :, None])[:, :, 0] if plan.meanstructure else None
        Sobs = stack.covs[g]
        value, K, kd, pd_ok = _stacked_f(sigma, Sobs, stack.logdet[g], d)
        ok &= pd_ok
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
        _add_to_gradient(plan, grad, g, w, vals_g, scatter)
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
    points (k × dim x), a converged mask and the iteration counts.

    The running draws' state (point, value, gradient, inverse Hessian, moments) is kept in
    compact arrays: a draw that stops is written out and dropped, so the stacked products
    never gather or scatter the others."""
    scatter = None if plan.simple_scatter else _scatter(plan)
    k = len(stack.weights)
    x_out = np.broadcast_to(plan.x_hat, (k, plan.x_hat.size)).copy()
    converged = np.zeros(k, dtype=bool)
    iterations = np.zeros(k, dtype=int)
    # every draw starts at x̂: in block form its Σ(θ̂), Cholesky factor and inverse once
    start = plan.x_hat[None, :] if block_form(plan) is not None else x_out.copy()
    value, grad = _evaluate_x(plan, start, stack, True, scatter)
    ids = np.flatnonzero(np.isfinite(value))
    X, V, Gr = x_out[ids], value[ids], grad[ids]
    sub = stack if ids.size == k else stack.take(ids)
    H = np.broadcast_to(plan.hess_inv0, (ids.size,) + plan.hess_inv0.shape).copy()
    outer = np.empty_like(H)  # the BFGS update's outer products
    fresh = np.ones(ids.size, dtype=bool)
    gone = np.zeros(ids.size, dtype=bool)  # stopped in the line search of the last iteration
    for it in range(LEAN_MAX_ITER):
        gmax = np.abs(Gr).max(axis=1) if Gr.shape[1] else np.zeros(ids.size)
        done = ~gone & (gmax < plan.tol)
        converged[ids[done]] = True
        iterations[ids[done]] = it
        step = (H @ Gr[:, :, None])[:, :, 0]
        slope = (Gr * step).sum(1)
        bad = ~done & ~gone & ~(slope > 0)
        # a fresh approximation that does not descend: the draw has failed; a stale one goes
        # back to the first (the draw waits one iteration)
        failed = bad & fresh
        iterations[ids[failed]] = it
        wait = bad & ~fresh
        H[wait] = plan.hess_inv0
        fresh[wait] = True
        leave = done | failed | gone
        if leave.any():
            x_out[ids[leave]] = X[leave]
            keep = np.flatnonzero(~leave)
            ids, X, V, Gr, H, fresh = ids[keep], X[keep], V[keep], Gr[keep], H[keep], fresh[keep]
            step, slope, wait, gmax = step[keep], slope[keep], wait[keep], gmax[keep]
            sub = sub.take(keep)
        gone = np.zeros(ids.size, dtype=bool)
        if not ids.size:
            break
        mv = np.flatnonzero(~wait)
        if not mv.size:
            continue
        every = mv.size == ids.size  # no draw waits: views, not copies
        sub_mv = sub if every else sub.take(mv)
        step_mv, slope_mv = (step, slope) if every else (step[mv], slope[mv])
        x_mv, v_mv = (X, V) if every else (X[mv], V[mv])
        trial = x_mv - step_mv
        v_trial, g_trial = _evaluate_x(plan, trial, sub_mv, True, scatter)
        alpha = np.ones(mv.size)
        need = ~(v_trial <= v_mv - 1e-4 * alpha * slope_mv)  # also catches inf, nan
        stopped = np.zeros(mv.size, dtype=bool)
        while need.any():
            alpha[need] *= 0.5
            tiny = need & (alpha < 1e-10)
            if tiny.any():
                # F no longer resolves progress (rounding): accept the point when its
                # gradient meets the engine's precision limit
                t = ids[mv[tiny]]
                converged[t] = gmax[mv[tiny]] < PRECISION_LIMIT
                iterations[t] = it
                stopped |= tiny
                need &= ~tiny
            if not need.any():
                break
            w = np.flatnonzero(need)
            trial[w] = x_mv[w] - alpha[w, None] * step_mv[w]
            # with the gradient: most shortened steps are accepted at once, and evaluating
            # their point a second time for its gradient cost more than the gradients of
            # the few that are shortened again (the same numbers either way)
            v_trial[w], g_trial[w] = _evaluate_x(plan, trial[w], sub_mv.take(w), True, scatter)
            need[w] = ~(v_trial[w] <= v_mv[w] - 1e-4 * alpha[w] * slope_mv[w])
        if stopped.any():
            gone[mv[stopped]] = True  # written out (at its current point) next iteration
        ok = ~stopped
        s = trial - x_mv
        y = g_trial - Gr[mv]
        sy = (s * y).sum(1)
        upd = ok & (sy > 1e-12 * np.sqrt((s * s).sum(1) * (y * y).sum(1)))
        if upd.any():
            u = mv[upd]
            su, yu, syu = s[upd], y[upd], sy[upd]
            inplace = u.size == ids.size
            Hu = H if inplace else H[u]
            hy = (Hu @ yu[:, :, None])[:, :, 0]
            yhy = (yu * hy).sum(1)
            # H ← H + (1 + yᵀHy/sᵀy) ssᵀ/sᵀy − (H y sᵀ + s yᵀH)/sᵀy (Nocedal & Wright, 6.17)
            a = ((syu + yhy) / syu**2)[:, None] * su - hy / syu[:, None]
            # the two outer products through one reused buffer: allocating and first
            # touching a fresh k × q × q temporary for each cost about as much as the
            # arithmetic (the same numbers, half the time)
            T = outer[:u.size]
            np.multiply(su[:, :, None], a[:, None, :], out=T)
            Hu += T
            np.multiply((hy / syu[:, None])[:, :, None], su[:, None, :], out=T)
            Hu -= T
            if not inplace:
                H[u] = Hu
            fresh[u] = False
        moved = mv[ok]
        X[moved], V[moved], Gr[moved] = trial[ok], v_trial[ok], g_trial[ok]
    else:
        x_out[ids] = X
        iterations[ids[~gone]] = LEAN_MAX_ITER
        if gone.any():
            x_out[ids[gone]] = X[gone]
    return x_out, converged, iterations


def refit_batch(plan: RefitPlan, counts: list[list[np.ndarray]]) -> list[DrawResult]:
    """:meth:`RefitPlan.refit` of many resamples (row counts per group), batched."""
    return refit_moments(plan, resample_moments(plan, counts))


def resample_moments(plan: RefitPlan, counts: list[list[np.ndarray]]) -> list[Moments | None]:
    """:meth:`RefitPlan.moments` of many resamples: each group's k covariance matrices
    Xᶜᵀ diag(c) Xᶜ (one product per draw) and their Cholesky checks as one batched call."""
    k = len(counts)
    per_group = []
    bad = np.zeros(k, dtype=bool)
    for g, grp in enumerate(plan.groups):
        C = np.array([c[g] for c in counts], dtype=float)               # k × n_g
        n = C.sum(axis=1)
        # one product per draw, as RefitPlan.moments, so that a draw's moments are those of
        # RefitPlan.moments bit for bit, whatever its batch
        shift = np.stack([c @ grp.Xc for c in C]) / n[:, None]
        cov = np.stack([(grp.Xc.T * c) @ grp.Xc for c in C]) / n[:, None, None]
        cov -= shift[:, :, None] * shift[:, None, :]
        chol, ok = _stacked(np.linalg.cholesky, cov)
        diag = np.diagonal(chol, axis1=1, axis2=2)
        scale = np.sqrt(np.diagonal(cov, axis1=1, axis2=2).max(axis=1))
        bad |= ~ok | ~(diag.min(axis=1) > 1e-7 * scale)
        logdet = 2.0 * np.log(np.where(diag > 0, diag, 1.0)).sum(axis=1)
        per_group.append((cov, grp.center + shift, logdet, n))
    out: list[Moments | None] = []
    for t in range(k):
        if bad[t]:
            out.append(None)
            continue
        covs = [pg[0][t] for pg in per_group]
        means = [pg[1][t] for pg in per_group]
        nobs = np.array([pg[3][t] for pg in per_group])
        out.append(Moments(covs, means, [float(pg[2][t]) for pg in per_group],
                           nobs / nobs.sum(), nobs,
                           [plan._fixed(g, c, m) for g, (c, m) in enumerate(zip(covs, means))]))
    return out


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
        solved = []
        for j, t in enumerate(usable):
            xt, conv, its = x[j], bool(converged[j]), int(iterations[j])
            if not conv:
                with np.errstate(all="ignore"):
                    xt, conv, more = plan._fallback(moms[t])
                its += more
            solved.append((xt, conv, its))
        described = describe_batch(plan, [plan.theta_of(xt) for xt, _, _ in solved],
                                   [moms[t] for t in usable])
        for t, (xt, conv, its), (rows, std, admissible) in zip(usable, solved, described):
            status = NOT_CONVERGED if not conv else (OK if admissible else INADMISSIBLE)
            results[t] = DrawResult(status, its, rows, std, xt)
    return results


def describe_batch(plan: RefitPlan, thetas: list[np.ndarray], moms: list[Moments]
                   ) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """:meth:`RefitPlan.describe` of k draws at once — row values, std.all and admissibility —
    with the model matrices stacked (:func:`stacked_matrices`) and std.all by the stacked
    :func:`~cbec_sem.engine.standardize.standardize_group`: a quarter of the bootstrap's time
    went to describing its draws one by one.  Draw by draw for several groups or fixed
    covariates, and for a draw whose I − A is singular.  A draw's numbers do not depend on
    the draws described with it."""
    if not thetas or plan.ngroups != 1 or plan.groups[0].fx_rows.size:
        return [plan.describe(t, m) for t, m in zip(thetas, moms)]
    grp = plan.groups[0]
    T = np.asarray(thetas)
    k = T.shape[0]
    S, _, B, ok = stacked_matrices(plan, 0, T, moms[0].fixed[0])
    rows = np.broadcast_to(plan.base_values, (k, plan.nrows)).copy()
    rows[:, plan.free_rows] = T[:, plan.free_of_rows]
    std = np.full((k, plan.nrows), np.nan)
    with np.errstate(all="ignore"):
        C = B @ S @ np.swapaxes(B, -1, -2)
        standardize_group(std, rows, grp, S, C)
    std[:, plan.not_std] = np.nan
    out = []
    for t in range(k):
        if not ok[t]:
            out.append(plan.describe(thetas[t], moms[t]))
            continue
        admissible = plan.latent_block_definite(C[t]) and plan.within_bounds(rows[t], std[t])
        out.append((rows[t], std[t], admissible))
    return out
