"""Minimising the fit function under non-linear equality and inequality constraints.

lavaan 0.6 minimises F(x) subject to c_eq(x) = 0 and c_in(x) ≥ 0 with ``nlminb.constr``, an
augmented Lagrangian around ``nlminb`` (Rosseel 2012, *J. Stat. Softw.* 48(2), §"Constraints";
Nocedal & Wright 2006, *Numerical Optimization*, §17.4).  The optimum is the same KKT point
however it is reached; this module reaches it in two phases:

1. **Search.**  SciPy's SLSQP (Kraft 1988, DFVLR-FB 88-28; sequential quadratic programming with
   a BFGS Hessian), in coordinates whitened by the Fisher information at the start
   (z = Lᵀ(x − x₀), I = L Lᵀ), so that its identity starting Hessian is the right scale.
2. **Polish.**  Fisher-scoring SQP on the active set 𝒜 (the equalities and the inequalities
   that hold with equality): each step solves the KKT system
   [[I, Aᵀ], [A, 0]] [d; −λ] = [−∇F; −c_𝒜] (Nocedal & Wright 2006, eq. 18.9, with the
   Fisher information for the Hessian of the Lagrangian, as Fisher scoring does for F),
   until the gradient projected on the tangent space N = null(A) passes the same scale-free
   test as :func:`~cbec_sem.engine.optimizer.fisher_scoring` and |c_𝒜| < 1e-10.  An active
   inequality whose multiplier has the wrong sign (λ < 0: F falls into the feasible side)
   is released, and a violated inactive one added, before the estimate is accepted (the
   active-set rule, Nocedal & Wright 2006, Algorithm 16.3).

The standard errors use the same N (see :mod:`cbec_sem.engine.constraints`):
:func:`local_reparametrization` returns θ = θ₀ + B N x' linearised at the optimum.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import linalg, optimize

from ..errors import SpecError
from .constraints import GeneralConstraints, Reparametrization, _statement_text
from .ml import Evaluation
from .optimizer import OptimResult, _gradient_scale, scaled_gradient_norm

#: |c| below which a constraint counts as met (equalities) or active (inequalities).
FEASIBILITY = 1e-10
#: Iterations of one polishing run (from SLSQP's point it needs a handful).
POLISH_MAX_ITER = 100
#: An inequality whose margin at the SLSQP point is below this is tried as active first.
ACTIVE_GUESS = 1e-6


def _null_space(A: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k) if A.shape[0] == 0 else linalg.null_space(A)


def _search(evaluate: Callable[..., Evaluation], x0: np.ndarray, cons: GeneralConstraints,
            max_iter: int) -> tuple[np.ndarray, int]:
    """Phase 1: SLSQP from x0 in Fisher-whitened coordinates; returns its last point and
    its iteration count."""
    ev0 = evaluate(x0, gradient=True, information=True)
    info = 0.5 * (ev0.information + ev0.information.T)
    ridge = 1e-8 * max(1.0, float(np.trace(info)) / max(len(x0), 1))
    try:
        L = np.linalg.cholesky(info + ridge * np.eye(len(x0)))
    except np.linalg.LinAlgError:
        L = np.diag(np.sqrt(np.maximum(np.diag(info), 1e-8)))
    T = linalg.solve_triangular(L.T, np.eye(len(x0)), lower=False)  # x = x0 + T z
    big = 1e6 * max(1.0, abs(ev0.value))

    def fun(z):
        ev = evaluate(x0 + T @ z, gradient=True)
        if not np.isfinite(ev.value) or ev.gradient is None:
            return big, np.zeros_like(z)
        return ev.value, T.T @ ev.gradient

    def cvals(z, sl):
        return cons.values(x0 + T @ z)[sl]

    def cjac(z, sl):
        return cons.jacobian(x0 + T @ z)[sl] @ T

    eq, ineq = slice(0, cons.n_eq), slice(cons.n_eq, None)
    spec = []
    if cons.n_eq:
        spec.append({"type": "eq", "fun": cvals, "jac": cjac, "args": (eq,)})
    if cons.n_in:
        spec.append({"type": "ineq", "fun": cvals, "jac": cjac, "args": (ineq,)})
    # Feasibility first, on the constraints alone (cheap: no fit function): the nearest
    # point that meets them, in the information metric; contradictory constraints stop here.
    near = optimize.minimize(lambda z: (0.5 * z @ z, z), np.zeros(len(x0)), jac=True,
                             method="SLSQP", constraints=spec,
                             options={"ftol": 1e-12, "maxiter": max_iter})
    c = cons.values(x0 + T @ near.x)
    is_eq = np.arange(len(c)) < cons.n_eq
    _check_feasible(cons, c, is_eq, max(1.0, float(np.max(np.abs(x0 + T @ near.x)))))
    start = near.x if np.isfinite(fun(near.x)[0]) and fun(near.x)[0] < big else np.zeros(len(x0))
    res = optimize.minimize(fun, start, jac=True, method="SLSQP", constraints=spec,
                            options={"ftol": 1e-15, "maxiter": max_iter})
    return x0 + T @ res.x, int(res.nit)


def _polish(evaluate, x, cons: GeneralConstraints, active: np.ndarray, tol: float,
            max_iter: int):
    """Phase 2: Fisher-scoring SQP with the constraints in ``active`` held as equalities.

    Returns (x, evaluation, projected scaled gradient, multipliers, iterations, converged).
    """
    k = len(x)
    lam = np.zeros(int(active.sum()))
    ev = evaluate(x, gradient=True, information=True)
    for it in range(max_iter + 1):
        c = cons.values(x)[active]
        A = cons.jacobian(x)[active]
        info, g = ev.information, ev.gradient
        N = _null_space(A, k)
        unit = _gradient_scale(N.T @ info @ N, N.shape[1])
        projected = scaled_gradient_norm(N.T @ g, unit)
        m = A.shape[0]
        K = np.block([[info, A.T], [A, np.zeros((m, m))]])
        try:
            sol = np.linalg.solve(K, np.concatenate([-g, -c]))
        except np.linalg.LinAlgError:
            sol = np.linalg.lstsq(K, np.concatenate([-g, -c]), rcond=None)[0]
        d, lam = sol[:k], -sol[k:]
        if projected < tol and (m == 0 or np.max(np.abs(c)) < FEASIBILITY):
            # multipliers at this point: ∇F = Aᵀ λ (least squares)
            lam = np.linalg.lstsq(A.T, g, rcond=None)[0] if m else lam
            return x, ev, projected, lam, it, True
        if it == max_iter:
            break
        # merit: F + μ Σ|c_𝒜| (exact l1 penalty, Nocedal & Wright 2006, eq. 15.24)
        mu = 2.0 * (np.max(np.abs(lam)) if m else 0.0) + 1e-8
        merit0 = ev.value + mu * np.abs(c).sum()
        alpha = 1.0
        while alpha > 1e-10:
            trial = x + alpha * d
            new = evaluate(trial, gradient=True, information=True)
            if np.isfinite(new.value):
                merit = new.value + mu * np.abs(cons.values(trial)[active]).sum()
                if merit <= merit0 + 1e-14 * max(1.0, abs(merit0)):
                    break
            alpha *= 0.5
        else:
            return x, ev, projected, lam, it, False
        x, ev = trial, new
    return x, ev, projected, lam, max_iter, False


def _check_feasible(cons: GeneralConstraints, c: np.ndarray, is_eq: np.ndarray,
                    scale: float) -> None:
    bad = np.where(is_eq, np.abs(c), -c) > 1e-6 * scale
    if bad.any():
        s = cons.statements[int(np.argmax(bad))]
        raise SpecError(
            f"line {s.line}: {_statement_text(s)}: the constraints cannot all be met (the "
            "optimiser found no admissible parameter values that satisfy them together); "
            "check them for contradictions"
        )


def constrained_optimum(
    evaluate: Callable[..., Evaluation],
    x0: np.ndarray,
    cons: GeneralConstraints,
    tol: float = 1e-9,
    max_iter: int = 500,
) -> tuple[OptimResult, np.ndarray]:
    """Minimise F(x) subject to ``cons``; returns the result and the active-set mask.

    ``OptimResult.x`` is in the coordinates of ``cons`` (the linear reparametrisation);
    ``OptimResult.gradient`` is the gradient projected on the tangent space of the active
    constraints (zero at a KKT point), as in :func:`local_reparametrization`.

    Raises:
        SpecError: the constraints cannot all be met (infeasible), naming the first one
            violated.
    """
    x0 = np.asarray(x0, dtype=float)
    ev0 = evaluate(x0)
    if not np.isfinite(ev0.value):
        return (OptimResult(x0, np.inf, np.full_like(x0, np.nan), False, 0,
                            "the starting values give a non-positive-definite implied "
                            "covariance matrix"), np.ones(len(cons.funcs), bool))
    x, total = _search(evaluate, x0, cons, max_iter)
    c = cons.values(x)
    is_eq = np.arange(len(c)) < cons.n_eq
    scale = max(1.0, float(np.max(np.abs(x))))
    _check_feasible(cons, c, is_eq, scale)
    active = is_eq | (c < ACTIVE_GUESS)
    for _ in range(2 * len(c) + 2):
        xp, ev, projected, lam, it, ok = _polish(evaluate, x, cons, active, tol,
                                                 min(max_iter, POLISH_MAX_ITER))
        total += it
        c = cons.values(xp)
        lam_full = np.zeros(len(c))
        lam_full[active] = lam
        # wrong-signed multiplier of an active inequality: release the worst one
        wrong = active & ~is_eq & (lam_full < -1e-7)
        # violated inactive inequality: hold it
        violated = ~active & (c < -FEASIBILITY * scale)
        if ok and not wrong.any() and not violated.any():
            x = xp
            break
        if wrong.any():
            active[np.argmin(np.where(wrong, lam_full, np.inf))] = False
        elif violated.any():
            active[np.argmin(np.where(violated, c, np.inf))] = True
        else:
            x = xp
            break
        x = xp
    else:
        ok = False
    _check_feasible(cons, cons.values(x), is_eq, scale)
    A = cons.jacobian(x)[active]
    N = _null_space(A, len(x))
    message = "converged" if ok else (
        f"stopped after {total} iterations with max |projected gradient| = {projected:.3g} "
        f"in standard-error units (tolerance {tol:g})")
    result = OptimResult(x, ev.value, N.T @ ev.gradient, bool(ok), total, message)
    return result, active


def local_reparametrization(linear: Reparametrization, cons: GeneralConstraints,
                            x: np.ndarray, active: np.ndarray) -> Reparametrization:
    """θ = θ₀ + (B N) x' with N = null(∂c_𝒜/∂x) at the optimum x (B: the linear equalities'
    basis); x' = (B N)ᵀ θ at the optimum.  Only the equalities count in ``n_constraints``
    (lavaan's df)."""
    A = cons.jacobian(x)[active]
    N = _null_space(A, len(x))
    basis = linear.basis @ N
    # a parameter the constraints pin down (b1 = (b2+b3)^2 = exp(b2+b3), both active) has a
    # zero row in N; rounding leaves ~1e-17 there, which would print as a tiny SE
    basis[np.linalg.norm(basis, axis=1) < 1e-10] = 0.0
    theta_hat = linear.theta(x)
    theta0 = theta_hat - basis @ (basis.T @ theta_hat)
    return Reparametrization(theta0, basis, linear.n_constraints + cons.n_eq, linearized=True)
