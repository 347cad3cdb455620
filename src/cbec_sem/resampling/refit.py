"""The lean refit: one ML fit per resample, with nothing the resample does not need.

A bootstrap of B draws is B refits of the same model to new sample moments.  A full
:func:`~cbec_sem.engine.estimate.estimate` per draw would rebuild the parameter table, validate
the data with pandas, find starting values, compute standard errors, fit measures and
admissibility text: work whose answer is the same in every draw, or not wanted at all.
:class:`RefitPlan` does that work once, from the full-sample :class:`Estimation`, and keeps
only numpy arrays:

* **Sample moments from counts.**  A resample is a vector of counts c (how often each row was
  drawn, ``np.bincount``); its moments are the weighted mean x̄ = cᵀX / n and covariance
  (X − x̄)ᵀ diag(c) (X − x̄) / n (divisor n, lavaan's ML convention).  Exogenous covariates under
  ``fixed.x`` take the resample's moments, as lavaan rebuilds them per draw.
* **The fit function without the table.**  F, as in :mod:`cbec_sem.engine.ml`, from the RAM
  matrices with the free entries scattered in by precomputed indices.  For a recursive model
  the variables are put in topological order, so I − A is unit lower triangular and
  B = (I − A)⁻¹ is one triangular inversion (LAPACK ``dtrtri``); models with feedback loops
  use a general inverse.  Σ is factored by ``dpotrf`` and inverted by ``dpotrs``.
* **The gradient in matrix form.**  With K = Σ⁻¹, d = x̄ − μ, W₂ = K − K (S + d dᵀ) K and
  G = F B (Neudecker & Satorra 1991; the rank-2 factors of :mod:`cbec_sem.engine.ram`):
  ∂F/∂A = Gᵀ W₂ G S Bᵀ − (Gᵀ K d)(B m)ᵀ, ∂F/∂S = Gᵀ W₂ G (halved on the diagonal),
  ∂F/∂m = −Gᵀ K d; the free entries are gathered and summed per parameter (shared labels).
* **Warm-started quasi-Newton.**  Each refit starts at the full-sample estimate θ̂ with the
  inverse of the expected information at θ̂ as its Hessian approximation.  That matrix depends
  on θ̂ and the group sizes only, which resampling within groups keeps, so it is the same for
  every draw and is inverted once; the first step is therefore a Fisher-scoring step
  (Lee & Jennrich 1979), and BFGS secant updates (Nocedal & Wright 2006, eq. 6.17) take it on
  to superlinear convergence, with Armijo backtracking.  A refit that does not get there falls
  back to the engine's own :func:`~cbec_sem.engine.optimizer.fisher_scoring` (with its BFGS
  rescue) from θ̂, so a draw is only called failed when the full optimiser fails too.
* **Convergence** is the engine's criterion, max |∂F/∂x| < ``tol`` on lavaan's F = χ²/(2N)
  scale; the default for resamples is 1e-6, the criterion the issue sets
  (:data:`~cbec_sem.engine.optimizer.PRECISION_LIMIT`).  An estimate that far from the
  optimum is off by about ‖I⁻¹‖·1e-6, i.e. less than 1e-3 standard errors on the models
  checked (see ``tests/resampling``), far below the Monte Carlo error of any bootstrap
  quantity.

What a draw returns: the value of every parameter-table row, its ``std.all`` value (the
formulas of :mod:`cbec_sem.engine.standardize`, on the matrices the refit already has), a
status (converged and admissible; converged but inadmissible; failed), and the iteration count.
Admissibility is judged as :func:`~cbec_sem.engine.admissibility.admissibility_problems` does:
a negative free variance, a standardised loading or correlation beyond ±1, or a latent
covariance matrix that is not positive definite.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

from ..engine.admissibility import beyond_unit, negative_variances, positive_definite
from ..engine.estimate import Estimation
from ..errors import SpecError
from ..engine.ml import MLFunction
from ..engine.samplestats import covariance_logdets
from ..engine.optimizer import PRECISION_LIMIT, fisher_scoring
from ..engine.standardize import standardize_group

#: Status codes of a draw.
OK, INADMISSIBLE, NOT_CONVERGED, BAD_MOMENTS = 0, 1, 2, 3
STATUS_TEXT = {
    OK: "converged, admissible",
    INADMISSIBLE: "converged, inadmissible",
    NOT_CONVERGED: "did not converge",
    BAD_MOMENTS: "singular sample covariance matrix",
}

#: Quasi-Newton iterations a refit may take before the full optimiser is asked to finish it.
LEAN_MAX_ITER = 100

#: Iteration limit of that fallback (Fisher scoring; its BFGS rescue gets ten times as many).
#: A draw still not converged after the lean 100 and these is degenerate (loadings in the
#: hundreds, a variance running off), and each such draw would otherwise cost ~0.5 s.
FALLBACK_MAX_ITER = 200


def topological_order(n: int, edges_i: np.ndarray, edges_j: np.ndarray) -> np.ndarray | None:
    """An order of the n variables in which every A[i, j] ≠ 0 (j → i) has j before i; ``None``
    when the paths have a cycle (a non-recursive model).  Ties keep the original order."""
    parents: list[set[int]] = [set() for _ in range(n)]
    for i, j in zip(edges_i.tolist(), edges_j.tolist()):
        if i == j:
            return None
        parents[i].add(j)
    order: list[int] = []
    placed = np.zeros(n, dtype=bool)
    while len(order) < n:
        ready = [v for v in range(n) if not placed[v] and all(placed[u] for u in parents[v])]
        if not ready:
            return None
        for v in ready:
            placed[v] = True
        order.extend(ready)
    return np.asarray(order, dtype=int)


@dataclass
class _Group:
    """Index arrays of one group, in the plan's variable order."""

    Xc: np.ndarray           # complete-case data (rows × p), centred
    center: np.ndarray       # full-sample means
    nobs: int
    # free entries
    ai: np.ndarray
    aj: np.ndarray
    si: np.ndarray
    sj: np.ndarray
    sfac: np.ndarray
    mi: np.ndarray
    params: np.ndarray       # concatenated free-parameter index of (A, S, m) entries
    rows_free: np.ndarray    # table rows of those entries (same order)
    # fixed part of the matrices (fixed-x entries filled per draw)
    si2: np.ndarray          # S entries and their mirror images, for one scatter
    sj2: np.ndarray
    s_take: np.ndarray       # positions in the gathered free values that feed si2, sj2
    IA_fix: np.ndarray       # I − A with the fixed entries of A
    S_fix: np.ndarray
    M_fix: np.ndarray
    # fixed-x rows: table row, kind (1 = S, 2 = m), matrix positions, data columns
    fx_rows: np.ndarray
    fx_kind: np.ndarray
    fx_i: np.ndarray
    fx_j: np.ndarray
    fx_a: np.ndarray
    fx_b: np.ndarray
    # every row of the group (for row values and std.all)
    a_rows: np.ndarray
    a_i: np.ndarray
    a_j: np.ndarray
    s_rows: np.ndarray
    s_i: np.ndarray
    s_j: np.ndarray
    m_rows: np.ndarray
    m_i: np.ndarray
    s_diag: np.ndarray


@dataclass
class Moments:
    """The sample moments of one resample, per group."""

    covs: list[np.ndarray]
    means: list[np.ndarray]
    logdet: list[float]
    weights: np.ndarray          # n_g / N of the resample
    nobs: np.ndarray
    fixed: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # A, S, M with fixed-x values


@dataclass
class DrawResult:
    """One refit: status code, iterations, table-row values and std.all values."""

    status: int
    iterations: int
    rows: np.ndarray
    std: np.ndarray
    x: np.ndarray | None = None


class RefitPlan:
    """Everything a refit needs, computed once from the full-sample fit; picklable, so that
    worker processes receive it once per chunk of draws.

    Args:
        est: a converged full-sample estimation.
        tol: convergence criterion, max |∂F/∂x| (default 1e-6, see the module docstring).
        max_iter: iteration limit of the fallback optimiser (default: the fit's, at most
            :data:`FALLBACK_MAX_ITER`).
    """

    def __init__(self, est: Estimation, tol: float | None = None, max_iter: int | None = None):
        ram = est.ram
        frame = est.partable.frame
        self.tol = float(PRECISION_LIMIT if tol is None else tol)
        self.max_iter = int(min(est.options.max_iter, FALLBACK_MAX_ITER) if max_iter is None
                            else max_iter)
        self.p, self.n, self.q = ram.p, ram.n, ram.nfree
        self.ngroups = ram.ngroups
        self.nrows = len(frame)
        self.meanstructure = bool(est.meanstructure)
        self.theta_hat = np.asarray(est.theta, dtype=float).copy()
        reparam = est.reparam
        if reparam.linearized:
            lines = ", ".join(str(s.line) for s in est.partable.constraints)
            raise SpecError(
                f"the model's constraints (line(s) {lines}) include non-linear equalities or "
                "inequalities, which the bootstrap's lean refits do not impose; use "
                "se='standard' (lavaan's augmented-information standard errors)"
            )
        self.identity = reparam.identity
        self.theta0 = reparam.theta0.copy()
        self.basis = reparam.basis.copy()
        self.x_hat = reparam.x(self.theta_hat)
        self.free_index = ram.free_index.copy()
        self.base_values = ram.base_values.copy()
        ops = frame["op"].to_numpy()
        lhs, rhs = frame["lhs"].to_numpy(), frame["rhs"].to_numpy()
        free = self.free_index >= 0
        self.not_std = ~np.isin(ops, ("=~", "<~", "~", "~~", "~1"))
        self.free_rows = np.flatnonzero(free)
        self.free_of_rows = self.free_index[free]
        is_var = (ops == "~~") & (lhs == rhs)
        self.var_rows = np.flatnonzero(is_var & free)
        self.bounded_rows = np.flatnonzero((ops == "=~") | ((ops == "~~") & ~is_var))
        # Variable order: topological when the model is recursive.
        edges_i = np.concatenate([lay.a_i for lay in ram.layouts]) if ram.layouts else []
        edges_j = np.concatenate([lay.a_j for lay in ram.layouts]) if ram.layouts else []
        order = topological_order(self.n, np.asarray(edges_i, int), np.asarray(edges_j, int))
        self.recursive = order is not None
        if order is None:
            order = np.arange(self.n)
        pos = np.empty(self.n, dtype=int)
        pos[order] = np.arange(self.n)
        self.obs_pos = pos[: self.p]
        self.lat_pos = pos[self.p:]
        self.lat_block = (np.ix_(self.lat_pos, self.lat_pos)[0] * self.n + self.lat_pos
                          if self.lat_pos.size else None)
        self.eye_n = np.eye(self.n)
        self.eye_p = np.eye(self.p)
        exo = frame["exo"].to_numpy() == 1
        names = {v: k for k, v in enumerate(est.stats.names)}
        self.groups: list[_Group] = []
        for g, lay in enumerate(ram.layouts):
            kind = lay.free_kind
            fi, fj = pos[lay.free_i], pos[lay.free_j]
            fp, fr = lay.free_param, lay.free_rows
            ia, is_, im = kind == 0, kind == 1, kind == 2
            si, sj = fi[is_], fj[is_]
            fixed_vals = np.where(free, 0.0, np.nan_to_num(self.base_values))
            IA_fix = np.eye(self.n)
            IA_fix[pos[lay.a_i], pos[lay.a_j]] -= fixed_vals[lay.a_rows]
            S_fix = np.zeros((self.n, self.n))
            S_fix[pos[lay.s_i], pos[lay.s_j]] = fixed_vals[lay.s_rows]
            S_fix[pos[lay.s_j], pos[lay.s_i]] = fixed_vals[lay.s_rows]
            M_fix = np.zeros(self.n)
            M_fix[pos[lay.m_i]] = fixed_vals[lay.m_rows]
            fx_rows = np.flatnonzero(exo & (frame["group"].to_numpy() == g + 1) & ~free)
            fx_kind = np.where(ops[fx_rows] == "~~", 1, 2)
            row_i = {r: i for r, i in zip(lay.s_rows, lay.s_i)} | {
                r: i for r, i in zip(lay.m_rows, lay.m_i)}
            row_j = {r: j for r, j in zip(lay.s_rows, lay.s_j)}
            self.groups.append(_Group(
                Xc=np.ascontiguousarray(est.stats.data[g] - est.stats.means[g], dtype=float),
                center=np.asarray(est.stats.means[g], dtype=float),
                nobs=int(est.stats.nobs[g]),
                ai=fi[ia], aj=fj[ia], si=si, sj=sj,
                sfac=np.where(si == sj, 0.5, 1.0), mi=fi[im],
                si2=np.concatenate([si, sj]), sj2=np.concatenate([sj, si]),
                s_take=np.tile(np.arange(ia.sum(), ia.sum() + is_.sum()), 2),
                params=np.concatenate([fp[ia], fp[is_], fp[im]]),
                rows_free=np.concatenate([fr[ia], fr[is_], fr[im]]),
                IA_fix=IA_fix, S_fix=S_fix, M_fix=M_fix,
                fx_rows=fx_rows, fx_kind=fx_kind,
                fx_i=np.array([pos[row_i[r]] for r in fx_rows], dtype=int),
                fx_j=np.array([pos[row_j.get(r, row_i[r])] for r in fx_rows], dtype=int),
                fx_a=np.array([names[lhs[r]] for r in fx_rows], dtype=int),
                fx_b=np.array([names[rhs[r]] if rhs[r] in names else names[lhs[r]]
                               for r in fx_rows], dtype=int),
                a_rows=lay.a_rows, a_i=pos[lay.a_i], a_j=pos[lay.a_j],
                s_rows=lay.s_rows, s_i=pos[lay.s_i], s_j=pos[lay.s_j],
                m_rows=lay.m_rows, m_i=pos[lay.m_i], s_diag=lay.s_i == lay.s_j,
            ))
        allp = np.concatenate([grp.params for grp in self.groups])
        self.simple_scatter = self.ngroups == 1 and len(np.unique(allp)) == len(allp)
        # The Hessian approximation every refit starts from: the expected information at θ̂
        # in x-space (it depends on θ̂ and the group sizes only).
        info = est.function.evaluate(self.theta_hat, information=True).information
        info_x = info if self.identity else self.basis.T @ info @ self.basis
        try:
            self.hess_inv0 = np.linalg.inv(info_x)
        except np.linalg.LinAlgError:
            self.hess_inv0 = np.linalg.pinv(info_x)
        self.hess_inv0 = 0.5 * (self.hess_inv0 + self.hess_inv0.T)
        # A private copy of the compiled model for the fallback optimiser (whose fixed-x
        # values are set per draw; the user's estimation is never touched).
        self._ram = copy.copy(ram)
        self._ram.base_values = ram.base_values.copy()

    # ---------------------------------------------------------------- moments
    def moments(self, counts: list[np.ndarray]) -> Moments | None:
        """Moments of a resample given the count of every row per group; ``None`` when a
        covariance matrix is not positive definite (a constant or collinear resample)."""
        covs, means, logdets, nobs = [], [], [], []
        for grp, c in zip(self.groups, counts):
            c = np.asarray(c, dtype=float)
            n = c.sum()
            # Centred at the full-sample means, so the cross-product formula loses nothing.
            shift = (c @ grp.Xc) / n
            cov = (grp.Xc.T * c) @ grp.Xc / n - np.outer(shift, shift)
            mean = grp.center + shift
            chol, info = lapack.dpotrf(cov, lower=1)
            if info != 0:
                return None
            diag = chol.diagonal()
            if diag.min() <= 1e-7 * np.sqrt(cov.diagonal().max()):
                return None
            covs.append(cov)
            means.append(mean)
            logdets.append(2.0 * float(np.log(diag).sum()))
            nobs.append(n)
        nobs_arr = np.asarray(nobs)
        return Moments(covs, means, logdets, nobs_arr / nobs_arr.sum(), nobs_arr,
                       [self._fixed(g, cov, mean) for g, (cov, mean) in
                        enumerate(zip(covs, means))])

    def _fixed(self, g: int, cov: np.ndarray, mean: np.ndarray):
        """I − A, S and m of group g with only the fixed entries, fixed-x ones from the
        given moments."""
        grp = self.groups[g]
        A, S, M = grp.IA_fix, grp.S_fix, grp.M_fix
        if grp.fx_rows.size:
            S, M = S.copy(), M.copy()
            for kind, i, j, a, b in zip(grp.fx_kind, grp.fx_i, grp.fx_j, grp.fx_a, grp.fx_b):
                if kind == 1:
                    S[i, j] = S[j, i] = cov[a, b]
                else:
                    M[i] = mean[a]
        return A, S, M

    def perturbed_moments(self, mom: Moments, g: int, d_cov: np.ndarray,
                          d_mean: np.ndarray) -> Moments:
        """``mom`` with group g's covariance and mean moved by the given amounts (for
        influence values; the log-determinant is left as it was, the gradient needs none)."""
        covs, means, fixed = list(mom.covs), list(mom.means), list(mom.fixed)
        covs[g] = mom.covs[g] + d_cov
        means[g] = mom.means[g] + d_mean
        fixed[g] = self._fixed(g, covs[g], means[g])
        return Moments(covs, means, list(mom.logdet), mom.weights, mom.nobs, fixed)

    def full_sample_moments(self) -> Moments:
        return self.moments([np.ones(grp.nobs) for grp in self.groups])

    # ------------------------------------------------------------ fit function
    def theta_of(self, x: np.ndarray) -> np.ndarray:
        return x if self.identity else self.theta0 + self.basis @ x

    def _matrices(self, grp: _Group, fixed, theta):
        """I − A, S, m and B = (I − A)⁻¹ of one group at θ (B is ``None`` if I − A is
        singular)."""
        IA0, S0, M0 = fixed
        vals = theta[grp.params]
        na, ns = grp.ai.size, grp.si.size
        IA = IA0.copy()
        IA[grp.ai, grp.aj] = -vals[:na]
        S = S0.copy()
        S[grp.si2, grp.sj2] = vals[grp.s_take]
        M = M0
        if grp.mi.size:
            M = M0.copy()
            M[grp.mi] = vals[na + ns:]
        if self.recursive:
            B = lapack.dtrtri(IA, lower=1, unitdiag=1)[0]
        else:
            try:
                B = np.linalg.inv(IA)
            except np.linalg.LinAlgError:
                return S, M, None
        return S, M, B

    def evaluate(self, theta: np.ndarray, mom: Moments, gradient: bool = True):
        """F(θ) on the resample's moments, and its gradient (θ-space); ``(inf, None)`` where
        Σ(θ) is not positive definite."""
        total = 0.0
        grad = np.zeros(self.q) if gradient else None
        p = self.p
        for g, grp in enumerate(self.groups):
            S, M, B = self._matrices(grp, mom.fixed[g], theta)
            if B is None:
                return np.inf, None
            G = B[self.obs_pos]
            GS = G @ S
            chol, info = lapack.dpotrf(GS @ G.T, lower=1)
            if info != 0:
                return np.inf, None
            K = lapack.dpotri(chol, lower=1)[0]  # lower triangle of Σ⁻¹, zeros above
            K += K.T
            K.flat[:: p + 1] *= 0.5
            Sobs = mom.covs[g]
            value = (2.0 * float(np.log(chol.diagonal()).sum()) + float(np.vdot(Sobs, K))
                     - mom.logdet[g] - p)
            kd = None
            if self.meanstructure:
                d = mom.means[g] - G @ M
                kd = K @ d
                value += float(d @ kd)
            w = mom.weights[g]
            total += w * 0.5 * value
            if not gradient:
                continue
            W2 = K - (K @ Sobs) @ K
            if kd is not None:
                W2 -= np.outer(kd, kd)
            GtW2 = G.T @ W2
            pieces = []
            if grp.ai.size:
                gA = (GtW2 @ (GS @ B.T))[grp.ai, grp.aj]
                if kd is not None:
                    gk = G.T @ kd
                    gA -= gk[grp.ai] * (B @ M)[grp.aj]
                pieces.append(gA)
            if grp.si.size:
                pieces.append((GtW2 @ G)[grp.si, grp.sj] * grp.sfac)
            if grp.mi.size:
                pieces.append(-(G.T @ kd)[grp.mi])
            vals = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
            if self.simple_scatter:
                grad[grp.params] = vals
            else:
                grad += np.bincount(grp.params, weights=w * vals, minlength=self.q)
        if not np.isfinite(total):
            return np.inf, None
        return total, grad

    def _evaluate_x(self, x, mom, gradient=True):
        value, grad = self.evaluate(self.theta_of(x), mom, gradient)
        if grad is not None and not self.identity:
            grad = self.basis.T @ grad
        return value, grad

    # ----------------------------------------------------------------- refits
    def _quasi_newton(self, mom: Moments) -> tuple[np.ndarray, bool, int]:
        """BFGS from θ̂ with the expected information at θ̂ as the first Hessian."""
        x = self.x_hat.copy()
        value, grad = self._evaluate_x(x, mom)
        if grad is None:
            return x, False, 0
        hinv = self.hess_inv0
        fresh = True
        for it in range(LEAN_MAX_ITER):
            gmax = float(np.max(np.abs(grad))) if grad.size else 0.0
            if gmax < self.tol:
                return x, True, it
            step = hinv @ grad
            slope = float(grad @ step)
            if not slope > 0:
                if fresh:
                    return x, False, it
                hinv, fresh = self.hess_inv0, True
                continue
            # The full step is almost always taken, so it is evaluated with its gradient.
            trial = x - step
            v_trial, g_trial = self._evaluate_x(trial, mom)
            alpha = 1.0
            while not (v_trial <= value - 1e-4 * alpha * slope):  # also catches inf, nan
                alpha *= 0.5
                if alpha < 1e-10:
                    # Near the optimum F stops resolving progress (rounding): accept the
                    # point when its gradient meets the engine's precision limit.
                    return x, gmax < PRECISION_LIMIT, it
                trial = x - alpha * step
                v_trial, g_trial = self._evaluate_x(trial, mom, gradient=False)
            if g_trial is None:
                v_trial, g_trial = self._evaluate_x(trial, mom)
            s, y = trial - x, g_trial - grad
            sy = float(s @ y)
            if sy > 1e-12 * float(np.sqrt((s @ s) * (y @ y))):
                # BFGS update of the inverse Hessian (Nocedal & Wright 2006, eq. 6.17),
                # H ← H + (1 + yᵀHy/sᵀy) ssᵀ/sᵀy − (H y sᵀ + s yᵀH)/sᵀy, in place.
                hy = hinv @ y
                if fresh:
                    hinv = hinv.copy()
                hinv += np.outer(s, ((sy + float(y @ hy)) / sy**2) * s - hy / sy)
                hinv -= np.outer(hy / sy, s)
                fresh = False
            x, value, grad = trial, v_trial, g_trial
        return x, False, LEAN_MAX_ITER

    def _fallback(self, mom: Moments) -> tuple[np.ndarray, bool, int]:
        """The engine's optimiser (Fisher scoring with its BFGS rescue) from θ̂."""
        ram = self._ram
        if any(grp.fx_rows.size for grp in self.groups):
            # The draw's fixed-x values go into a private copy: the plan is shared by every
            # draw, and Dask thread workers refit draws concurrently.
            ram = copy.copy(ram)
            ram.base_values = self._ram.base_values.copy()
        for g, grp in enumerate(self.groups):
            if grp.fx_rows.size:
                _, S, M = mom.fixed[g]
                for r, kind, i, j in zip(grp.fx_rows, grp.fx_kind, grp.fx_i, grp.fx_j):
                    ram.base_values[r] = S[i, j] if kind == 1 else M[i]
        stats = RefitStats(tuple(mom.nobs), tuple(mom.means), tuple(mom.covs))
        function = MLFunction(ram, stats, self.meanstructure)
        basis, theta0, identity = self.basis, self.theta0, self.identity

        def evaluate_x(x, gradient=False, information=False):
            ev = function.evaluate(x if identity else theta0 + basis @ x,
                                   gradient=gradient, information=information)
            if identity:
                return ev
            if ev.gradient is not None:
                ev.gradient = basis.T @ ev.gradient
            if ev.information is not None:
                ev.information = basis.T @ ev.information @ basis
            return ev

        try:
            with np.errstate(all="ignore"):
                res = fisher_scoring(evaluate_x, self.x_hat, self.tol, self.max_iter)
        except (ValueError, TypeError, ArithmeticError, np.linalg.LinAlgError):
            # The optimiser's BFGS rescue cannot step where Σ(θ) is not positive definite
            # (the gradient is undefined there); such a draw has failed.
            return self.x_hat.copy(), False, self.max_iter
        return res.x, bool(res.converged), int(res.iterations)

    def refit(self, counts: list[np.ndarray]) -> DrawResult:
        """Refit the model to the resample with the given row counts per group."""
        mom = self.moments(counts)
        if mom is None:
            nan = np.full(self.nrows, np.nan)
            return DrawResult(BAD_MOMENTS, 0, nan, nan.copy())
        with np.errstate(all="ignore"):
            x, converged, iterations = self._quasi_newton(mom)
        if not converged:
            x, converged, more = self._fallback(mom)
            iterations += more
        theta = self.theta_of(x)
        rows, std, admissible = self.describe(theta, mom)
        if not converged:
            status = NOT_CONVERGED
        else:
            status = OK if admissible else INADMISSIBLE
        return DrawResult(status, iterations, rows, std, x)

    # -------------------------------------------------------------- statistics
    def describe(self, theta: np.ndarray, mom: Moments) -> tuple[np.ndarray, np.ndarray, bool]:
        """Row values, std.all values and admissibility at θ on the resample's moments."""
        rows = self.base_values.copy()
        rows[self.free_rows] = theta[self.free_of_rows]
        std = np.full(self.nrows, np.nan)
        admissible = True
        with np.errstate(all="ignore"):
            for g, grp in enumerate(self.groups):
                S, M, B = self._matrices(grp, mom.fixed[g], theta)
                if grp.fx_rows.size:
                    rows[grp.fx_rows] = np.where(grp.fx_kind == 1, S[grp.fx_i, grp.fx_j],
                                                 M[grp.fx_i])
                if B is None:
                    admissible = False
                    continue
                C = B @ S @ B.T
                standardize_group(std, rows, grp, S, C)
                admissible = admissible and self.latent_block_definite(C)
        std[self.not_std] = np.nan
        return rows, std, admissible and self.within_bounds(rows, std)

    def latent_block_definite(self, C: np.ndarray) -> bool:
        """Whether the latent variables' block of one group's implied covariance C (all
        variables) is positive definite (lavaan's check after a fit)."""
        return self.lat_block is None or positive_definite(C.take(self.lat_block))

    def within_bounds(self, rows: np.ndarray, std: np.ndarray) -> bool:
        """No negative free variance (Heywood case) and no standardised loading or
        correlation beyond ±1 among a draw's row values and std.all values."""
        return not (negative_variances(rows, self.var_rows).size
                    or beyond_unit(std, self.bounded_rows).size)


@dataclass(frozen=True)
class RefitStats:
    """The part of :class:`~cbec_sem.engine.samplestats.SampleStats` that MLFunction reads."""

    nobs: tuple
    means: tuple
    covs: tuple

    @property
    def logdet_covs(self) -> tuple[float, ...]:
        return covariance_logdets(self.covs)
