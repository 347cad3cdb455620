"""Standard errors, Wald tests and confidence intervals.

The covariance matrix of θ̂ is the inverse of the information matrix of the whole sample,
N·I(θ̂), with I either the expected (Fisher) information per observation — lavaan's default for
complete-data ML — or the observed one, the Hessian of F = −logL/N (lavaan
``information = "observed"``; here by central differences of the analytic gradient, as
lavaan's ``lav_model_hessian()`` does).  Under linear equality constraints θ = θ₀ + N x the
covariance is N (Nᵀ I N)⁻¹ Nᵀ.  Wald z = est/se, two-sided p = 2Φ(−|z|), and the
confidence interval est ± z_{1−α/2}·se (lavaan's ``parameterEstimates()``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special
from scipy.linalg.lapack import dpotrf as _potrf, dpotri as _potri

from .constraints import Reparametrization
from .ml import Evaluation

#: Below this ratio of smallest to largest eigenvalue an information matrix is called singular.
SINGULAR_INFORMATION = 1e-10


def parameter_scale(
    evaluate: Callable[..., Evaluation], reparam: Reparametrization, x: np.ndarray
) -> np.ndarray:
    """Each x coordinate's own unit: 1/√(diagonal of the expected information per
    observation) at x (1 where that is not a positive finite number).

    Rescaling an item by c rescales a parameter and this unit by the same factor (I_jj by
    1/s_j²), so a difference step proportional to it is the same step in any units.  ``evaluate``
    must accept ``information=True`` (the ML and FIML fit functions do)."""
    info = evaluate(reparam.theta(x), information=True).information
    if info is None:
        return np.ones(len(x))
    basis = reparam.basis
    d = np.diag(basis.T @ info @ basis)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = 1.0 / np.sqrt(d)
    return np.where(np.isfinite(unit) & (d > 0), unit, 1.0)


def observed_information_x(
    evaluate: Callable[..., Evaluation], reparam: Reparametrization, x: np.ndarray,
    scale: np.ndarray | None = None,
) -> np.ndarray:
    """Hessian of F with respect to x by central differences of the analytic gradient.

    The step of coordinate j is 1e-5·max(|x_j|, scale_j); ``scale`` is each coordinate's
    unit (:func:`parameter_scale`), 1 when not given (lavaan's absolute floor).  With the
    floor of 1, data ×10⁻³ (variances near 10⁻⁶) took steps a hundred times the parameter,
    out of the admissible region: MLR and FIML fits were then "not identified" (issue 14).

    At a solution on the edge of the admissible region (a Heywood case: Σ(θ) stops being
    positive definite a step away) the step that leaves the region has no gradient; the
    column is then a one-sided difference, or NaN when both steps leave it (issue 14: this
    was an untyped ValueError)."""
    k = len(x)
    hess = np.empty((k, k))
    basis = reparam.basis
    unit = np.ones(k) if scale is None else np.asarray(scale, dtype=float)

    def gradient(point: np.ndarray) -> np.ndarray | None:
        g = evaluate(reparam.theta(point), gradient=True).gradient
        return None if g is None else basis.T @ g

    g_here: np.ndarray | None = None
    for j in range(k):
        h = 1e-5 * max(unit[j], abs(x[j]))
        e = np.zeros(k)
        e[j] = h
        g_plus, g_minus = gradient(x + e), gradient(x - e)
        if g_plus is not None and g_minus is not None:
            hess[:, j] = (g_plus - g_minus) / (2 * h)
            continue
        if g_here is None:
            g_here = gradient(x)
        if g_here is None or (g_plus is None and g_minus is None):
            hess[:, j] = np.nan
        elif g_plus is not None:
            hess[:, j] = (g_plus - g_here) / h
        else:
            hess[:, j] = (g_here - g_minus) / h
    return 0.5 * (hess + hess.T)


def scale_free_information_ratio(info: np.ndarray) -> float:
    """Smallest over largest eigenvalue of the information matrix in correlation form.

    Rescaling the data (an item ×c, or all items ×c) rescales each free parameter by its own
    factor s_k (loadings by c_i/c_j, variances by c_i², ...), which turns the information I
    into S⁻¹ I S⁻¹ with S = diag(s).  The raw eigenvalue ratio of I changes by up to
    max(s)²/min(s)² under that map, so an absolute threshold on it flags a model as "not
    identified" merely because its data are in grams instead of kilograms (issue 14).  The
    correlation form R = D^{-1/2} I D^{-1/2}, D = diag(I), is invariant under every such
    diagonal rescaling, and R is singular exactly when I is (D > 0): its eigenvalue ratio is
    the scale-free test of empirical under-identification (the equilibration of van der Sluis
    1969, *Numer. Math.* 14, 14–23, which also makes it the nearly best-conditioned diagonal
    scaling).  A parameter with zero information (a zero diagonal) gives 0.
    """
    info = np.asarray(info, dtype=float)
    if info.size == 0:
        return 1.0
    d = np.diag(info)
    if not np.all(np.isfinite(info)) or np.any(d <= 0):
        return 0.0
    scale = 1.0 / np.sqrt(d)
    return _correlation_form_ratio(info * scale[:, None] * scale[None, :])


def _correlation_form_ratio(corr: np.ndarray) -> float:
    """λ_min/λ_max of the information's correlation form R (symmetrised), 0 when λ_max ≤ 0:
    :func:`scale_free_information_ratio` once R is built."""
    eig = np.linalg.eigvalsh(0.5 * (corr + corr.T))
    return float(eig[0] / eig[-1]) if eig[-1] > 0 else 0.0


#: From this many free parameters on, the eigenvalue ratio of a positive-definite information
#: matrix comes from Lanczos iterations (two extreme eigenvalues) instead of the full
#: eigen-decomposition, whose O(q³) tridiagonalisation dominated the fit of a 1,210-parameter
#: CFA (issue 14).
LANCZOS_PARAMETERS = 300
#: Relative accuracy of the Lanczos eigenvalues: the ratio is compared with
#: SINGULAR_INFORMATION = 1e-10 and reported to two digits.
LANCZOS_TOL = 1e-8


def _largest_eigenvalue(matrix: np.ndarray) -> float | None:
    """The largest eigenvalue of a symmetric matrix by implicitly restarted Lanczos (ARPACK),
    from a fixed start vector so that a fit gives the same number every time (None when
    ARPACK fails or the value is not a positive number).  (The products
    are NumPy's general ones: BLAS ``dsymv`` would read half the memory, but multi-threaded
    OpenBLAS runs it up to 30× slower on a busy machine.)"""
    from scipy.sparse.linalg import ArpackError, eigsh

    start = np.random.default_rng(20260101).standard_normal(matrix.shape[0])
    try:
        value = float(eigsh(matrix, k=1, which="LA", v0=start, tol=LANCZOS_TOL,
                            return_eigenvectors=False)[0])
    except ArpackError:  # (no convergence included): the full decomposition decides
        return None
    return value if np.isfinite(value) and value > 0 else None


def covariance_of_theta(
    info_x: np.ndarray, reparam: Reparametrization, ntotal: float
) -> tuple[np.ndarray, float]:
    """Covariance matrix of θ̂ from the (unit) information in x-space, and the scale-free
    eigenvalue ratio of that information (:func:`scale_free_information_ratio`; near 0: not
    identified).

    A positive-definite information is inverted through the Cholesky factor of its
    correlation form R = D^{-1/2} I D^{-1/2} (LAPACK ``dpotrf``/``dpotri``: a third of the
    work of a general inverse, and R is the best-conditioned diagonal scaling of I).  From
    :data:`LANCZOS_PARAMETERS` parameters on, the ratio λ_min(R)/λ_max(R) is then
    1/(λ_max(R) λ_max(R⁻¹)), both by Lanczos; near the singularity threshold (below
    10⁴ × :data:`SINGULAR_INFORMATION`) it is recomputed by the full decomposition, so the
    verdict is the one the full decomposition gives.  Otherwise (fewer parameters, or a
    matrix that is not positive definite) the ratio is the full decomposition's and the
    inverse the general one (the pseudo-inverse when singular)."""
    info_x = np.asarray(info_x, dtype=float)
    vx = None
    ratio = None
    q = info_x.shape[0]
    d = np.diag(info_x)
    if q and np.all(np.isfinite(info_x)) and np.all(d > 0):
        scale = 1.0 / np.sqrt(d)
        corr = info_x * scale[:, None]
        corr *= scale
        large = q >= LANCZOS_PARAMETERS
        top = _largest_eigenvalue(corr) if large else None
        if not large:  # the full decomposition's ratio, from R before dpotrf overwrites it
            ratio = _correlation_form_ratio(corr)
        # corr.T is corr's memory in Fortran order: LAPACK factorises and inverts it in
        # place (on the triangle that is corr's upper one), with no copy of a q × q matrix.
        chol, fail = _potrf(corr.T, lower=1, clean=1, overwrite_a=1)
        if not fail:
            low, fail = _potri(chol, lower=1, overwrite_c=1)
            if not fail:
                vx = low + low.T  # R⁻¹ (the upper triangle of low is zero: clean=1)
                np.fill_diagonal(vx, low.diagonal())
                bottom = _largest_eigenvalue(vx) if top is not None else None
                if bottom is not None:  # 1/λ_max(R⁻¹) = λ_min(R)
                    ratio = 1.0 / (top * bottom)
                    if ratio < 1e4 * SINGULAR_INFORMATION:
                        ratio = None
                vx *= scale[:, None]
                vx *= scale / ntotal
    if ratio is None:
        ratio = scale_free_information_ratio(info_x)
    if vx is None:
        try:
            vx = np.linalg.inv(ntotal * info_x)
        except np.linalg.LinAlgError:
            vx = np.linalg.pinv(ntotal * info_x)
    if reparam.identity:
        return vx, ratio
    B = reparam.basis
    return B @ vx @ B.T, ratio


def wald(est: np.ndarray, se: np.ndarray, level: float) -> dict[str, np.ndarray]:
    """z, two-sided p and the symmetric confidence interval for estimates with SEs."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    p = 2.0 * special.ndtr(-np.abs(z))
    crit = special.ndtri(0.5 + level / 2.0)
    return {
        "z": z,
        "pvalue": p,
        "ci.lower": est - crit * se,
        "ci.upper": est + crit * se,
    }


def delta_method_jacobian(
    func: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, *, vectorized: bool = False
) -> np.ndarray:
    """∂func/∂θ by central differences (step 1e-6·max(1, |θ_k|)).

    ``vectorized=True``: ``func`` takes the 2q points θ ± h_k e_k at once, as the rows of a
    2q × q matrix, and returns one row of values per point (the same numbers in one call)."""
    if vectorized:
        q = theta.size
        steps = 1e-6 * np.maximum(1.0, np.abs(theta))
        points = np.tile(theta, (2 * q, 1))
        k = np.arange(q)
        points[k, k] += steps
        points[q + k, k] -= steps
        values = np.asarray(func(points), dtype=float).reshape(2 * q, -1)
        return ((values[:q] - values[q:]) / (2 * steps)[:, None]).T
    f0 = np.atleast_1d(func(theta))
    jac = np.empty((f0.size, theta.size))
    for k in range(theta.size):
        h = 1e-6 * max(1.0, abs(theta[k]))
        e = np.zeros(theta.size)
        e[k] = h
        jac[:, k] = (np.atleast_1d(func(theta + e)) - np.atleast_1d(func(theta - e))) / (2 * h)
    return jac
