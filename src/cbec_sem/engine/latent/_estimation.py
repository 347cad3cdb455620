"""What LMS and QML share: data, starting values, the quasi-Newton maximiser, the Hessian.

Derivatives.  Both likelihoods are computed in two stages: a cheap map from the parameter
vector θ to a few arrays that do not involve the cases (LMS: the conditional means and
covariances at the quadrature nodes; QML: the coefficients of the conditional moments as
polynomials in the x-indicators), and a data stage that turns those arrays into the
log-likelihood.  The data stage has a closed-form adjoint (the derivative of a normal
log-density with respect to its mean and covariance), and the map is differentiated by the
complex step (Squire & Trapp 1998, *SIAM Review* 40, 110–112): f'(θ) = Im f(θ + i h e_k)/h
with h = 1e-20 is exact to rounding, and all q directions are evaluated as one batch.  The
observed information is the forward difference of that analytic gradient (as lavaan's
``lav_model_hessian()`` differences its analytic gradient; forward rather than central since
the gradient is exact to rounding, which leaves a relative error of ~1e-5 at half the cost).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import SpecError
from ..estimate import estimate_ml
from ..options import FitOptions
from ..samplestats import sample_stats
from .model import LatentInteractionModel

#: Complex-step size.
COMPLEX_STEP = 1e-20


def complex_directions(theta: np.ndarray) -> np.ndarray:
    """θ + i h e_k for every k, as a (q, q) complex batch."""
    q = theta.size
    return theta[None, :] + 1j * COMPLEX_STEP * np.eye(q)


def prepare_data(model: LatentInteractionModel, data) -> tuple[np.ndarray, int, int]:
    """The complete-case data matrix of the model's indicators, rows dropped, rows given.

    Validation (missing or non-numeric columns, constant items, singular covariance) and
    listwise deletion are the engine's (:func:`~cbec_sem.engine.samplestats.sample_stats`).
    """
    stats = sample_stats(data, model.observed)
    return stats.data[0], stats.rows_dropped, stats.rows_total


def start_values(model: LatentInteractionModel, X: np.ndarray) -> np.ndarray:
    """Starting values: the user's ``start()`` values, else the ML estimates of the model
    without its product terms (fitted by the ML engine), else simple rules; 0 for products."""
    theta = np.full(model.nfree, np.nan)
    t = model.table
    ml = _linear_ml(model, X)
    if ml is not None:
        lookup = {}
        for lhs, op, rhs, est in zip(ml["lhs"], ml["op"], ml["rhs"], ml["est"]):
            lookup[(lhs, op, rhs)] = est
            if op == "~~":
                lookup[(rhs, op, lhs)] = est
        for r in model._free_rows:
            key = (t["lhs"].iat[r], t["op"].iat[r], t["rhs"].iat[r])
            k = t["free"].iat[r] - 1
            if np.isnan(theta[k]) and key in lookup and np.isfinite(lookup[key]):
                theta[k] = lookup[key]
    simple = _simple_starts(model, X)
    theta = np.where(np.isnan(theta), simple, theta)
    user = model.start_vector()
    theta = np.where(np.isnan(user), theta, user)
    # Residual variances must start positive, whatever the linear fit gave.
    for r in model._free_rows:
        if t["op"].iat[r] == "~~" and t["lhs"].iat[r] == t["rhs"].iat[r]:
            k = t["free"].iat[r] - 1
            if not theta[k] > 0:
                theta[k] = simple[k]
    return theta


def _linear_ml(model: LatentInteractionModel, X: np.ndarray) -> pd.DataFrame | None:
    statements = tuple(
        s for s in model.spec.statements
        if not s.is_constraint and not (s.op == "~" and ":" in s.rhs)
    )
    frame = pd.DataFrame(X, columns=list(model.observed))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = estimate_ml(statements, frame, FitOptions(meanstructure=True, tol=1e-6))
    except Exception:  # noqa: BLE001 - any failure only means simpler starting values
        return None
    if not est.optim.converged:
        return None
    return est.params


def _simple_starts(model: LatentInteractionModel, X: np.ndarray) -> np.ndarray:
    """lavaan-like simple starts: loadings 1, residual variances half the item variance,
    latent variances half the variance of the marker item, intercepts the item means."""
    t = model.table
    var = X.var(axis=0)
    mean = X.mean(axis=0)
    obs = {v: k for k, v in enumerate(model.observed)}
    marker_var: dict[str, float] = {}
    for lv, op, rhs in zip(t["lhs"], t["op"], t["rhs"]):
        if op == "=~" and lv not in marker_var:
            marker_var[lv] = 0.5 * var[obs[rhs]] if rhs in obs else 0.05
    out = np.zeros(model.nfree)
    for r in model._free_rows:
        k = t["free"].iat[r] - 1
        op, lhs, rhs = t["op"].iat[r], t["lhs"].iat[r], t["rhs"].iat[r]
        if op == "=~":
            out[k] = 1.0
        elif op == "~1":
            out[k] = mean[obs[lhs]] if lhs in obs else 0.0
        elif op == "~~" and lhs == rhs:
            out[k] = 0.5 * var[obs[lhs]] if lhs in obs else marker_var.get(lhs, 0.05)
        else:
            out[k] = 0.0
    return out


# ------------------------------------------------------------------------------ optimiser


@dataclass
class OptimOutcome:
    """Where the maximiser stopped (on the scale of the mean log-likelihood ℓ/N)."""

    theta: np.ndarray
    loglik: float
    gradient: np.ndarray
    inv_hessian: np.ndarray
    iterations: int
    converged: bool
    message: str

    @property
    def max_gradient(self) -> float:
        return float(np.max(np.abs(self.gradient))) if self.gradient.size else 0.0


def checked_inverse_hessian(matrix, q: int) -> np.ndarray | None:
    """A warm start for :func:`maximize` given by a caller (``start_inverse_hessian=``): a
    finite, symmetric, positive-definite q × q matrix, as a float array; ``None`` stays
    ``None`` (start from the identity).

    Raises:
        SpecError: a matrix of another shape, or one that is not finite, symmetric and
            positive definite (it would send the first step uphill).
    """
    if matrix is None:
        return None
    H = np.asarray(matrix, dtype=float)
    if H.shape != (q, q):
        raise SpecError(f"start_inverse_hessian must be {q} x {q} (one row and column per free "
                        f"parameter), not {H.shape}")
    if not np.all(np.isfinite(H)) or not np.allclose(H, H.T, rtol=1e-10, atol=0.0):
        raise SpecError("start_inverse_hessian must be a finite, symmetric matrix")
    try:
        np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        raise SpecError("start_inverse_hessian must be positive definite (an inverse Hessian "
                        "of -loglik/N near a maximum); leave it out to start from the "
                        "identity") from None
    return H.copy()


def maximize(
    value_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    theta0: np.ndarray,
    *,
    scale: float,
    gtol: float,
    max_iter: int,
    inv_hessian: np.ndarray | None = None,
    max_step: float = 1.0,
) -> OptimOutcome:
    """Maximise ℓ by BFGS on f = −ℓ/scale with a backtracking (Armijo) line search.

    A step that leaves the admissible region (ℓ = −∞: a covariance matrix that is not
    positive definite) is halved like any step that does not increase ℓ.  Steps are capped at
    ``max_step`` in every coordinate.  ``inv_hessian`` warm-starts the inverse-Hessian
    approximation (the EM M-steps pass theirs on).
    """

    def fg(x):
        ll, g = value_grad(x)
        return -ll / scale, -g / scale

    x = np.asarray(theta0, dtype=float).copy()
    f, g = fg(x)
    if not np.isfinite(f):
        return OptimOutcome(x, -np.inf, np.full_like(x, np.nan), np.eye(x.size), 0, False,
                            "the starting values give a non-positive-definite covariance matrix")
    H = np.eye(x.size) if inv_hessian is None else inv_hessian.copy()
    scaled = inv_hessian is not None
    it = 0
    message = ""
    converged = False
    while it < max_iter:
        if np.max(np.abs(g)) < gtol:
            converged, message = True, "converged"
            break
        it += 1
        d = -H @ g
        slope = float(g @ d)
        if not slope < 0:
            H = np.eye(x.size)
            scaled = False
            d = -g
            slope = float(g @ d)
        big = np.max(np.abs(d))
        step = min(1.0, max_step / big) if big > 0 else 1.0
        accepted = False
        while step > 1e-12:
            x_new = x + step * d
            f_new, g_new = fg(x_new)
            if np.isfinite(f_new) and f_new <= f + 1e-4 * step * slope:
                accepted = True
                break
            step *= 0.5
        if not accepted:
            if np.max(np.abs(g)) < 100 * gtol:
                converged = True
                message = "converged (the log-likelihood cannot increase at double precision)"
            else:
                message = (f"the line search failed after {it} iterations with max |gradient| "
                           f"{np.max(np.abs(g)):.3g}")
            break
        s = x_new - x
        y = g_new - g
        sy = float(s @ y)
        if sy > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            if not scaled:
                H = np.eye(x.size) * (sy / float(y @ y))
                scaled = True
            rho = 1.0 / sy
            Hy = H @ y
            H = (H - rho * (np.outer(s, Hy) + np.outer(Hy, s))
                 + (rho * rho * float(y @ Hy) + rho) * np.outer(s, s))
        x, f, g = x_new, f_new, g_new
    else:
        message = (f"stopped after {max_iter} iterations with max |gradient| "
                   f"{np.max(np.abs(g)):.3g} (tolerance {gtol:g})")
    if not message:
        converged, message = True, "converged"
    return OptimOutcome(x, -f * scale, -g * scale, H, it, converged, message)


def hessian(
    grad: Callable[[np.ndarray], np.ndarray],
    theta: np.ndarray,
    g0: np.ndarray | None = None,
    rel_step: float = 1e-6,
) -> np.ndarray:
    """Hessian of ℓ by forward differences of its analytic gradient, symmetrised.

    The gradient is exact to rounding (complex step and closed-form adjoints), so forward
    differences with a step of 1e-6·max(1, |θ_k|) are accurate to ~1e-5 relative — far
    beyond what standard errors need — at half the cost of central differences.
    """
    q = theta.size
    if g0 is None:
        g0 = grad(theta)
    H = np.empty((q, q))
    for k in range(q):
        h = rel_step * max(1.0, abs(theta[k]))
        e = np.zeros(q)
        e[k] = h
        H[:, k] = (grad(theta + e) - g0) / h
    return 0.5 * (H + H.T)


def newton_polish(
    value_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    grad: Callable[[np.ndarray], np.ndarray],
    theta: np.ndarray,
    loglik: float,
    gradient: np.ndarray,
    *,
    scale: float,
    gtol: float,
    max_steps: int = 3,
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, int]:
    """Newton steps with the numerical Hessian until max |∇ℓ|/scale < gtol/100 (or no gain).

    Returns θ, ℓ, ∇ℓ, the Hessian of ℓ at the returned θ's last evaluation point, and the
    number of steps taken.  The final Hessian is the one used for standard errors.
    """
    H = hessian(grad, theta, gradient)
    steps = 0
    for _ in range(max_steps):
        if np.max(np.abs(gradient)) / scale < gtol / 100:
            break
        try:
            delta = -np.linalg.solve(H, gradient)
        except np.linalg.LinAlgError:
            break
        new = theta + delta
        ll_new, g_new = value_grad(new)
        if not (np.isfinite(ll_new) and ll_new >= loglik - 1e-9 * abs(loglik)
                and np.max(np.abs(g_new)) < np.max(np.abs(gradient))):
            break
        theta, loglik, gradient = new, ll_new, g_new
        steps += 1
        if np.max(np.abs(delta)) > 1e-4:
            H = hessian(grad, theta, gradient)
    return theta, loglik, gradient, H, steps
