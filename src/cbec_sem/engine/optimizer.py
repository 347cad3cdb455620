"""Minimising the fit function: Fisher scoring with a line search, and a quasi-Newton fallback.

Fisher scoring (Lee & Jennrich 1979, *Psychometrika* 44, 99–113) takes the step
Δx = −I(x)⁻¹ ∇F(x), with I the expected information; it is the classic algorithm of LISREL and
EQS, converges fast near the optimum, and costs little because the information matrix is
formed analytically.  Each step is backtracked (Armijo rule) until F decreases; when scoring
stalls, SciPy's BFGS takes over from the best point and scoring resumes.

Convergence means max_k |∂F/∂x_k| / √I_kk < ``tol`` on lavaan's F = χ²/(2N) scale (1e-9 by
default), with I the Fisher information at the last point where it was formed.  Each term is
the Newton step along x_k alone, g_k/I_kk, measured in units of that parameter's
unit-information standard error 1/√I_kk, so the test is *scale-free*: rescaling the data (an
item ×c, or all ×c) rescales x_k by some s_k, g_k by 1/s_k and √I_kk by 1/s_k, and leaves
every term unchanged (issue 14: an absolute gradient threshold declared the same fit converged
in one unit and not in another).  F itself is unit-free, so the precision F can reach at
double precision is unit-free too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from scipy.linalg.lapack import dpotrf as _potrf, dpotrs as _potrs

from .ml import Evaluation


#: Largest scaled |∇F| (see the module docstring) accepted as converged when F can no longer
#: decrease at double precision (a gradient below 1e-6, not semopy's 1e-3).
PRECISION_LIMIT = 1e-6
#: Relative rounding level of F: a few units of double precision (2.2e-16) accumulated over
#: the log-determinant and trace sums of the fit function.
ROUNDING = 1e-14


@dataclass(frozen=True)
class OptimResult:
    """Where the optimiser stopped and why."""

    x: np.ndarray
    value: float
    gradient: np.ndarray
    converged: bool
    iterations: int
    message: str
    #: The information at ``x`` when the last evaluation there formed it (else None): the
    #: standard errors need it, and re-forming it costs a q × q evaluation.
    information: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def max_gradient(self) -> float:
        return float(np.max(np.abs(self.gradient))) if self.gradient.size else 0.0


def _gradient_scale(information: np.ndarray | None, k: int) -> np.ndarray:
    """1/√I_kk: the unit-information standard error of each x_k, the unit of the scale-free
    convergence test (1 where the information gives none)."""
    if information is None:
        return np.ones(k)
    d = np.diag(np.asarray(information, dtype=float))
    good = np.isfinite(d) & (d > 0)
    return np.where(good, 1.0 / np.sqrt(np.where(good, d, 1.0)), 1.0)


def scaled_gradient_norm(gradient: np.ndarray, scale: np.ndarray) -> float:
    """max_k |g_k| · scale_k, the quantity the convergence test compares with ``tol``."""
    if gradient.size == 0:
        return 0.0
    return float(np.max(np.abs(gradient) * scale))


def _general_solve(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(H, g)
    except np.linalg.LinAlgError:
        # A singular information matrix (empirical under-identification): a ridge step
        # still descends; identification is diagnosed after convergence.
        ridge = 1e-8 * max(1.0, float(np.trace(H)) / max(len(g), 1))
        return np.linalg.lstsq(H + ridge * np.eye(len(g)), g, rcond=None)[0]


class _Curvature:
    """The Hessian approximation H of the iterations: an information matrix, then its BFGS
    updates H ← H + y yᵀ/sᵀy − H s sᵀ H/sᵀ H s (Nocedal & Wright 2006, eq. 6.19).

    H is solved with through the Cholesky factor of the information (LAPACK ``dpotrf``: half
    the work of np.linalg.solve's LU), factorised once however many updates follow.  The
    updates are kept as their pairs (s, y) and applied to a vector by the two-loop recursion
    with every pair (Nocedal & Wright 2006, Algorithm 7.4 with the information as H₀), which
    is the BFGS inverse of H exactly, in O(q·k) per step instead of a new q³/3 factorisation
    (issue 14: a 1,210-parameter CFA spent a quarter of its fit refactorising).  When the
    information is not positive definite the updates are formed densely and solved by LU, as
    before."""

    def __init__(self, information: np.ndarray) -> None:
        self.base = information
        self.pairs: list[tuple[np.ndarray, np.ndarray, float]] = []
        self.dense: np.ndarray | None = None  # H itself, once updated without a factor
        self._chol: np.ndarray | None = None
        self._factored = False  # (lazily: the last information of a fit is never solved)

    @property
    def chol(self) -> np.ndarray | None:
        """The Cholesky factor of the information, None when it is not positive definite."""
        if not self._factored:
            chol, fail = _potrf(self.base, lower=1, clean=0)
            self._chol = None if fail else chol
            self._factored = True
        return self._chol

    def _base_solve(self, g: np.ndarray) -> np.ndarray:
        if self.chol is not None:
            step, fail = _potrs(self.chol, g, lower=1)
            if not fail:
                return step
        return _general_solve(self.base, g)

    def solve(self, g: np.ndarray) -> np.ndarray:
        if self.dense is not None:
            return _general_solve(self.dense, g)
        if not self.pairs:
            return self._base_solve(g)
        r = np.array(g, dtype=float)
        alphas = []
        for s_k, y_k, rho in reversed(self.pairs):
            a = rho * float(s_k @ r)
            r -= a * y_k
            alphas.append(a)
        r = self._base_solve(r)
        for (s_k, y_k, rho), a in zip(self.pairs, reversed(alphas)):
            r += (a - rho * float(y_k @ r)) * s_k
        return r

    def update(self, s_k: np.ndarray, y_k: np.ndarray) -> None:
        sy = float(s_k @ y_k)
        if not sy > 1e-16 * float(np.linalg.norm(s_k) * np.linalg.norm(y_k)):
            return
        if self.chol is None or self.dense is not None:
            H = self.base if self.dense is None else self.dense
            Hs = H @ s_k
            self.dense = H + np.outer(y_k, y_k) / sy - np.outer(Hs, Hs) / float(s_k @ Hs)
            return
        self.pairs.append((s_k, y_k, 1.0 / sy))


def _line_search(evaluate, x, value, step, slope, derivatives):
    """Backtrack (Armijo rule) along −step until F decreases enough.

    The full step is evaluated with its derivatives (``derivatives`` gives the keyword
    arguments), since it is usually accepted and they are needed next; shorter steps are
    evaluated for F alone.  Returns the accepted point and its evaluation (``None`` for a
    shorter step), or ``None`` and the full step's evaluation when no step is accepted.
    """
    alpha = 1.0
    full = None
    # F is known to about ROUNDING·|F|: once the decrease the step predicts (alpha · slope) is
    # below that, no shorter step can show a real decrease, and halving further only spends
    # evaluations (near the optimum it spent ~40 of them per call).
    floor = ROUNDING * max(1.0, abs(value))
    while alpha > 1e-12:
        if alpha < 1.0 and alpha * slope < floor:
            break
        trial = x - alpha * step
        ev = evaluate(trial, **derivatives) if alpha == 1.0 else evaluate(trial)
        if alpha == 1.0:
            full = ev
        # Strictly lower as well: at F's rounding level the Armijo margin vanishes and an
        # unchanged F must not count as progress.
        if np.isfinite(ev.value) and ev.value <= value - 1e-4 * alpha * slope and ev.value < value:
            return trial, (ev if alpha == 1.0 else None)
        alpha *= 0.5
    return None, full


def fisher_scoring(
    evaluate: Callable[..., Evaluation],
    x0: np.ndarray,
    tol: float = 1e-9,
    max_iter: int = 500,
    switch: float = 1e-2,
) -> OptimResult:
    """Minimise F; ``evaluate(x, gradient=, information=)`` gives F and its derivatives.

    Phase 1 is Fisher scoring, which is robust far from the optimum but only linearly
    convergent when the model misfits (expected ≠ observed information).  Once
    max |∇F| < ``switch`` the Hessian approximation is the last Fisher information, updated
    by BFGS secant steps (Nocedal & Wright 2006, eq. 6.19), which converges superlinearly and
    needs no further information matrices.  ``switch`` is in standard-error units (the
    scale-free norm of the convergence test); 1e-2 rather than 1e-3 saves the fixtures of
    ``benchmarks/evaluations.py`` 47 of 1,045 evaluations (a CFA 18 → 15), with the same
    optima.
    """
    x = np.asarray(x0, dtype=float).copy()
    ev = evaluate(x, gradient=True, information=True)
    if not np.isfinite(ev.value):
        return OptimResult(x, np.inf, np.full_like(x, np.nan), False, 0,
                           "the starting values give a non-positive-definite implied "
                           "covariance matrix")
    iterations = 0
    fallback_used = False
    H = _Curvature(ev.information)
    unit = _gradient_scale(ev.information, len(x))
    quasi_newton = False
    previous = np.inf  # the scaled gradient norm of the previous iteration
    while iterations < max_iter:
        g = ev.gradient
        if ev.information is not None and not quasi_newton:
            unit = _gradient_scale(ev.information, len(x))
        norm = scaled_gradient_norm(g, unit)
        if norm < tol:
            return OptimResult(x, ev.value, g, True, iterations, "converged", ev.information)
        iterations += 1
        step = H.solve(g)
        slope = float(g @ step)
        if not np.isfinite(slope) or slope <= 0:
            step, slope = g, float(g @ g)
        quasi_newton = quasi_newton or norm < switch
        # A quasi-Newton step that will likely converge (its gradient shrinking at least as
        # fast as in the last step predicts a norm below tol) forms the information too: the
        # standard errors need it at the optimum, and forming it here saves evaluating the
        # model there once more.  It is not used for the steps nor for the convergence test
        # (the iterations are those without it).
        final = quasi_newton and norm * (norm / previous) < tol
        previous = norm
        derivatives = {"gradient": True, "information": not quasi_newton or final}
        trial, new = _line_search(evaluate, x, ev.value, step, slope, derivatives)
        if trial is not None:
            if new is None:
                new = evaluate(trial, **derivatives)
            if quasi_newton:
                H.update(trial - x, new.gradient - g)
            else:
                H = _Curvature(new.information)
            x, ev = trial, new
            continue
        # No sufficient decrease.  Near the optimum F changes by less than its rounding
        # error (|F| · 1e-16), so Armijo cannot see progress: take the full step if F does
        # not rise beyond rounding and the gradient shrinks.  The line search evaluated it
        # already (with the derivatives the iteration asked for): a quasi-Newton iteration
        # keeps its secant approximation, updated by the step, and needs no information.
        full = x - step
        f_full = new
        if f_full is None or f_full.gradient is None or (
                not quasi_newton and f_full.information is None):
            f_full = evaluate(full, gradient=True, information=True)
        if (
            np.isfinite(f_full.value)
            and f_full.value <= ev.value + 1e-14 * max(1.0, abs(ev.value))
            and scaled_gradient_norm(f_full.gradient, unit) < scaled_gradient_norm(g, unit)
        ):
            if quasi_newton and f_full is new:  # (its information, if any, is the final one)
                H.update(full - x, f_full.gradient - g)
            else:
                H = _Curvature(f_full.information)
                quasi_newton = False
            x, ev = full, f_full
            continue
        if scaled_gradient_norm(g, unit) < PRECISION_LIMIT:
            return OptimResult(
                x, ev.value, g, True, iterations,
                "converged (F cannot decrease further at double precision)", ev.information,
            )
        if quasi_newton:
            # A stale secant approximation: go back to scoring from here.
            quasi_newton = False
            ev = evaluate(x, gradient=True, information=True)
            H = _Curvature(ev.information)
            continue
        # Stuck far from the optimum along the scoring direction: let BFGS try once.
        if fallback_used:
            break
        fallback_used = True
        def value_and_gradient(z: np.ndarray) -> tuple[float, np.ndarray]:
            trial_ev = evaluate(z, gradient=True)
            if not np.isfinite(trial_ev.value) or trial_ev.gradient is None:
                # Σ(z) is not positive definite: an infinite value makes BFGS backtrack.
                return np.inf, np.zeros_like(z)
            return trial_ev.value, trial_ev.gradient

        res = optimize.minimize(
            value_and_gradient,
            x,
            jac=True,
            method="BFGS",
            options={"gtol": tol, "maxiter": 10 * max_iter},
        )
        if np.isfinite(res.fun) and res.fun <= ev.value:
            x = res.x
            ev = evaluate(x, gradient=True, information=True)
            H = _Curvature(ev.information)
    g = ev.gradient
    if ev.information is not None and not quasi_newton:
        unit = _gradient_scale(ev.information, len(x))
    max_g = scaled_gradient_norm(g, unit)
    converged = max_g < tol
    message = "converged" if converged else (
        f"stopped after {iterations} iterations with max |gradient| = {max_g:.3g} in "
        f"standard-error units (tolerance {tol:g})"
    )
    return OptimResult(x, ev.value, g, converged, iterations, message, ev.information)
