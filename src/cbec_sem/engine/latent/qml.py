"""QML: quasi-maximum likelihood for latent interactions (Klein & Muthén 2007).

The indicators are split into two blocks.  The *x-block* holds the indicators of latent
variables that no product term affects; they are exactly jointly normal.  The *y-block* holds
the indicators of the latent variables downstream of a product (the outcome ``Y`` of
``Y ~ X:Z``, and whatever ``Y`` feeds, e.g. the first-order factors of a second-order
outcome).  QML factors the density as f(x)·f(y | x) and replaces the non-normal f(y | x) by
the normal density with the *exact* conditional mean and covariance:

    ℓ(θ) = Σ_i log φ(x_i; μ_x, Σ_xx) + Σ_i log φ(y_i; E[y | x_i], Cov(y | x_i)).

Given x, the sources u are normal, u | x ~ N(m(x), V) with m(x) = Cov(u, x)Σ_xx⁻¹(x − μ_x).
Every product is a quadratic function of u, so with v = u − m(x), o = C_o(α + u) the operands
and W = CVCᵀ:

    E[p_r | x]  = ō_a ō_b + W_ab,
    L − E[L|x]  = C[(I + ΩJ)v + Ω(q(v) − E q)],   J_r = ō_a C_b + ō_b C_a,
    Cov(L | x)  = C[(I + ΩJ) V (I + ΩJ)ᵀ + Ω Q Ωᵀ]Cᵀ,  Q_rs = W_ac W_bd + W_ad W_bc,

(Isserlis' theorem; the linear and quadratic parts of v are uncorrelated).  For one outcome and
exogenous operands this is Klein & Muthén's conditional mean α + γᵀm + mᵀΩm + tr(ΩV) and
variance (γ + 2Ω_s m)ᵀV(γ + 2Ω_s m) + 2tr(Ω_sVΩ_sV) + ψ; the general form also covers an
endogenous operand (``TA:FA`` with ``FA ~ TA``, whose indicators are in the x-block) and
outcomes that feed other latent variables.  On modsem's ``oneInt`` data at modsem's QML
estimates it reproduces modsem's log-likelihood, −17493.647.

Since m(x) is linear in x, E[y | x] and Cov(y | x) are quadratic polynomials in x; their
coefficients depend on θ alone.  The per-case moments are then one product of the fixed
polynomial features of x with the coefficient arrays, and the gradient is the per-case normal
adjoint summed against the same features, chained with complex-step derivatives of the
coefficients (see :mod:`._estimation`).

References
----------
Klein, A. G., & Muthén, B. O. (2007). Quasi-maximum likelihood estimation of structural
equation models with multiple interaction and quadratic effects. *Multivariate Behavioral
Research*, 42(4), 647–673.
"""

from __future__ import annotations

import time

import numpy as np

from ..threads import single_threaded_blas
from ...errors import SpecError
from ._smallmat import chol_inverse
from ._estimation import (checked_inverse_hessian, complex_directions, maximize, newton_polish,
                          prepare_data, start_values)
from .lms import fit_lms
from .model import LatentInteractionModel, as_interaction_model
from .results import InteractionFit, build_fit

__all__ = ["fit_qml", "QMLObjective"]

_LOG2PI = np.log(2 * np.pi)


def _blocks(model: LatentInteractionModel) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the x-block and y-block indicators."""
    t = model.table
    down = {model.latent.index(v) for v in model.downstream}
    in_y = np.zeros(model.p, dtype=bool)
    rows = t[t["kind"] == "lambda"]
    for i, j, f, v in zip(rows["i"], rows["j"], rows["free"], rows["value"]):
        if j in down and (f > 0 or (not np.isnan(v) and v != 0.0)):
            in_y[i] = True
    xi, yi = np.flatnonzero(~in_y), np.flatnonzero(in_y)
    th = t[t["kind"] == "theta"]
    for a, b, f, v in zip(th["i"], th["j"], th["free"], th["value"]):
        if in_y[a] != in_y[b] and (f > 0 or (not np.isnan(v) and v != 0.0)):
            raise SpecError(
                f"the residual covariance {model.observed[a]} ~~ {model.observed[b]} links an "
                "indicator of a latent variable affected by a product term with one that is "
                "not; QML conditions the first kind on the second and needs them uncorrelated "
                "given the latent variables. Use LMS (method='lms'), which allows it"
            )
    return xi, yi


class QMLObjective:
    """The QML quasi-log-likelihood of one data set, with its gradient."""

    def __init__(self, model: LatentInteractionModel, X: np.ndarray):
        self.model = model
        self.N = X.shape[0]
        self.xi, self.yi = _blocks(model)
        Xx, self.Y = X[:, self.xi], X[:, self.yi]
        self.px, self.py = self.xi.size, self.yi.size
        self.xbar = Xx.mean(axis=0)
        xc = Xx - self.xbar
        self.Sx = xc.T @ xc / self.N
        iu = np.triu_indices(self.px)
        self._iu = iu
        self.F = np.concatenate([np.ones((self.N, 1)), xc, xc[:, iu[0]] * xc[:, iu[1]]], axis=1)
        self.FT = np.ascontiguousarray(self.F.T)
        self.evaluations = 0

    # ------------------------------------------------------------------ the map

    def coefficients(self, theta: np.ndarray):
        """The θ-dependent arrays the quasi-likelihood is made of, for a batch of θ.

        Returns μ_x (b, px), Σ_xx (b, px, px), and for the y-block (None when it is empty):

        * ``Cm`` (b, nf, py): E[y|x] as a polynomial in the features [1, x̃, x̃_k x̃_l (k ≤ l)];
        * ``S0`` (b, py, py) = HVHᵀ + Θ_yy with H = Λ_y C;
        * ``E`` (b, py, R) = Λ_y C Ω;
        * ``U`` (b, 1 + px, R, py): J(x)VHᵀ as a linear polynomial in x̃;
        * ``T`` (b, nf, R, R): J(x)VJ(x)ᵀ + Q as a quadratic polynomial in x̃,

        so that Cov(y | x) = S0 + E U(x) + U(x)ᵀEᵀ + E T(x) Eᵀ (see the module docstring;
        J(x) = J₀ + Σ_k x̃_k J₁ₖ with row r of J equal to ō_a C_b + ō_b C_a).
        """
        model = self.model
        M = model.matrices(theta)
        C, psi, alpha, om = M.C, M.psi, M.alpha, M.omega
        xi, yi = self.xi, self.yi
        lam_x, lam_y = M.lam[:, xi, :], M.lam[:, yi, :]
        Calpha = (C @ alpha[..., None])[..., 0]
        mu_x = M.nu[:, xi] + (lam_x @ Calpha[..., None])[..., 0]
        LxC = lam_x @ C
        Sxu = LxC @ psi  # Cov(x, u)
        Sxx = Sxu @ np.swapaxes(LxC, 1, 2) + M.theta[:, xi][:, :, xi]
        G = np.swapaxes(np.linalg.solve(Sxx, Sxu), 1, 2)  # Cov(u, x) Σxx⁻¹: (b, m, px)
        V = psi - G @ Sxu
        g0 = (G @ (self.xbar - mu_x)[..., None])[..., 0]
        base0 = alpha + g0
        if self.py == 0:
            return mu_x, Sxx, None
        a, bb = model._prod_left, model._prod_right
        Ca, Cb = C[:, a, :], C[:, bb, :]  # (b, R, m)
        o0a = (Ca @ base0[..., None])[..., 0]
        o0b = (Cb @ base0[..., None])[..., 0]
        O1a, O1b = Ca @ G, Cb @ G  # (b, R, px)
        VCa, VCb = V @ np.swapaxes(Ca, 1, 2), V @ np.swapaxes(Cb, 1, 2)  # (b, m, R)
        Waa, Wab = Ca @ VCa, Ca @ VCb  # W restricted to operands: (b, R, R)
        Wba, Wbb = Cb @ VCa, Cb @ VCb
        H = lam_y @ C  # (b, py, m)
        E = H @ om  # (b, py, R)
        # --- mean
        Ep_c = o0a * o0b + np.diagonal(Wab, axis1=1, axis2=2)
        Ep_l = o0a[..., None] * O1b + o0b[..., None] * O1a  # (b, R, px)
        k, l = self._iu
        off = (k != l)
        Ep_q = O1a[:, :, k] * O1b[:, :, l] + np.where(off, O1a[:, :, l] * O1b[:, :, k], 0.0)
        m_c = M.nu[:, yi] + (H @ base0[..., None])[..., 0] + (E @ Ep_c[..., None])[..., 0]
        m_l = H @ G + E @ Ep_l  # (b, py, px)
        m_q = E @ Ep_q  # (b, py, npk)
        Cm = np.concatenate([m_c[:, None, :], np.swapaxes(m_l, 1, 2), np.swapaxes(m_q, 1, 2)],
                            axis=1)
        # --- covariance pieces
        VHt = V @ np.swapaxes(H, 1, 2)  # (b, m, py)
        S0 = H @ VHt + M.theta[:, yi][:, :, yi]
        # J0 V Hᵀ and J1k V Hᵀ without forming J: row r of J0 is o0a C_b + o0b C_a.
        CbVHt, CaVHt = Cb @ VHt, Ca @ VHt  # (b, R, py)
        U0 = o0a[..., None] * CbVHt + o0b[..., None] * CaVHt
        U1 = (O1a.transpose(0, 2, 1)[..., None] * CbVHt[:, None]
              + O1b.transpose(0, 2, 1)[..., None] * CaVHt[:, None])  # (b, px, R, py)
        U = np.concatenate([U0[:, None], U1], axis=1)
        # J V Jᵀ blocks: J_r V J_sᵀ for rows J_r = c_r·C_b + d_r·C_a with per-feature (c, d)
        # coefficients; in terms of W: c_r c_s Wbb + c_r d_s Wba + d_r c_s Wab + d_r d_s Waa
        # = c_s P_rs + d_s Q_rs with P_rs = c_r Wbb + d_r Wab, Q_rs = c_r Wba + d_r Waa formed
        # once per feature of the first factor.  The arrays are (features, R, R, b): features
        # are gathered as whole blocks and the loops run along b.  In the (b, features, R, R)
        # order numpy's loops ran over R = 3 elements at a time, and the four products per
        # entry of the quadratic features' block were half of the QML gradient's time (issue
        # 14: three products of six latents, 2.6 s).
        R = Wbb.shape[1]
        Wt = [w.transpose(1, 2, 0) for w in (Wbb, Wba, Wab, Waa)]  # (R, R, b)

        def first(c1, d1):
            # c1, d1: (features, R, b) -> P, Q: (features, R, R, b)
            c1, d1 = c1[:, :, None], d1[:, :, None]
            return c1 * Wt[0] + d1 * Wt[2], c1 * Wt[1] + d1 * Wt[3]

        Q2 = Waa * Wbb + Wab * Wba  # Isserlis: W_ac W_bd + W_ad W_bc
        c0, d0 = o0a.T[None], o0b.T[None]  # J0 = o0a·C_b + o0b·C_a: (1, R, b)
        P0, Q0 = first(c0, d0)
        T0 = (c0[:, None] * P0 + d0[:, None] * Q0)[0].transpose(2, 0, 1) + Q2  # (b, R, R)
        c1 = np.ascontiguousarray(O1a.transpose(2, 1, 0))  # (px, R, b)
        d1 = np.ascontiguousarray(O1b.transpose(2, 1, 0))
        P1, Q1 = first(c1, d1)
        T1 = c0[:, None] * P1 + d0[:, None] * Q1  # (px, R, R, b)
        T1 = T1 + T1.transpose(0, 2, 1, 3)
        T2 = c1[l][:, None] * P1[k] + d1[l][:, None] * Q1[k]  # (npk, R, R, b)
        T2 = np.where(off[:, None, None, None], T2 + T2.transpose(0, 2, 1, 3), T2)
        px = T1.shape[0]
        T = np.empty((T0.shape[0], 1 + px + T2.shape[0], R, R), dtype=T0.dtype)
        T[:, 0] = T0
        T[:, 1:1 + px] = T1.transpose(3, 0, 1, 2)
        T[:, 1 + px:] = T2.transpose(3, 0, 1, 2)
        return mu_x, Sxx, (Cm, S0, E, U, T)

    # ------------------------------------------------------------------ data stage

    def _evaluate(self, mu_x, Sxx, ypart, want_grad: bool):
        N = self.N
        try:
            Lx = np.linalg.cholesky(Sxx)
        except np.linalg.LinAlgError:
            return -np.inf, None
        Lxi = np.linalg.inv(Lx)
        Kx = Lxi.T @ Lxi
        d = self.xbar - mu_x
        logdet_x = 2.0 * np.log(np.diag(Lx)).sum()
        ll = -0.5 * N * (self.px * _LOG2PI + logdet_x + np.sum(Kx * self.Sx) + d @ Kx @ d)
        grads = None
        if want_grad:
            g_mux = N * (Kx @ d)
            g_sxx = 0.5 * N * (Kx @ (self.Sx + np.outer(d, d)) @ Kx - Kx)
            grads = [g_mux, g_sxx, None]
        if ypart is None:
            return ll, grads
        Cm, S0, E, U, T = ypart
        py, R = self.py, E.shape[1]
        nl = U.shape[0]
        meanT = Cm.T @ self.FT  # (py, N)
        Ui = (U.reshape(nl, R * py).T @ self.FT[:nl]).reshape(R, py, N)
        Ti = (T.reshape(T.shape[0], R * R).T @ self.FT).reshape(R, R, N)
        EU = np.einsum("pr,rqn->pqn", E, Ui)
        ET = np.einsum("pr,rsn->psn", E, Ti)
        cov = S0[:, :, None] + EU + EU.transpose(1, 0, 2) + np.einsum("psn,qs->pqn", ET, E)
        out = chol_inverse(cov)
        if out is None:
            return -np.inf, None
        logdet, K = out
        rT = self.Y.T - meanT  # (py, N)
        Kr = np.einsum("abn,bn->an", K, rT)
        ll += -0.5 * (N * py * _LOG2PI + logdet.sum() + np.sum(rT * Kr))
        if want_grad:
            g_cm = (Kr @ self.F)  # (py, nf)
            Gc = 0.5 * (Kr[:, None, :] * Kr[None, :, :] - K)  # (py, py, N), symmetric
            g_S0 = Gc.sum(axis=2)
            GE = np.einsum("pqn,qr->prn", Gc, E)  # G_i E: (py, R, N)
            g_E = 2.0 * (np.einsum("pqn,rqn->pr", Gc, Ui) + np.einsum("psn,srn->pr", GE, Ti))
            g_U = 2.0 * (GE.transpose(1, 0, 2).reshape(R * py, N) @ self.F[:, :nl])
            g_T = np.einsum("pr,psn->rsn", E, GE).reshape(R * R, N) @ self.F
            grads[2] = (g_cm.T, g_S0, g_E, g_U.T.reshape(nl, R, py),
                        g_T.T.reshape(-1, R, R))
        return float(ll), grads

    def loglik(self, theta: np.ndarray) -> float:
        self.evaluations += 1
        mu_x, Sxx, ypart = self.coefficients(np.asarray(theta, dtype=float)[None])
        ypart = None if ypart is None else tuple(p[0] for p in ypart)
        return self._evaluate(mu_x[0], Sxx[0], ypart, False)[0]

    def value_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        self.evaluations += 1
        mu_x, Sxx, ypart = self.coefficients(complex_directions(theta))
        h = 1e-20
        real = None if ypart is None else tuple(p[0].real for p in ypart)
        ll, grads = self._evaluate(mu_x[0].real, Sxx[0].real, real, want_grad=True)
        if grads is None:
            return -np.inf, np.full(theta.size, np.nan)
        q = theta.size
        grad = (mu_x.imag / h) @ grads[0] + (Sxx.imag / h).reshape(q, -1) @ grads[1].ravel()
        if ypart is not None:
            for arr, g in zip(ypart, grads[2]):
                grad += (arr.imag / h).reshape(q, -1) @ g.ravel()
        return ll, grad

    def grad(self, theta: np.ndarray) -> np.ndarray:
        return self.value_grad(theta)[1]


def fit_qml(
    model,
    data,
    *,
    tol: float = 1e-6,
    max_iter: int = 500,
    se: str = "observed",
    level: float = 0.95,
    start: np.ndarray | None = None,
    start_inverse_hessian: np.ndarray | None = None,
) -> InteractionFit:
    """Fit a latent-interaction model by QML (Klein & Muthén 2007).

    Args:
        model: a :class:`LatentInteractionModel`, a ModelSpec or lavaan syntax with product
            terms.
        data: a DataFrame (or Survey) with the indicators; incomplete rows are dropped.
        tol: convergence: max |∂(ℓ/N)/∂θ| below ``tol``.
        max_iter: iteration limit of the quasi-Newton maximiser.
        se: ``"observed"`` (inverse numerical Hessian of the quasi-log-likelihood, as modsem)
            or ``"none"``.
        level: confidence level of the intervals.
        start: a full starting vector (order of ``model.parameter_names``).
        start_inverse_hessian: the inverse Hessian of −ℓ/N at ``start`` (q × q), to start the
            quasi-Newton maximiser from instead of the identity; e.g. N times the ``vcov`` of
            a fit of the same model to data like these (the bootstrap's refits: a few
            iterations from the estimates instead of dozens).

    Returns:
        An :class:`~cbec_sem.propositions.interaction.results.InteractionFit` (``method``
        ``"QML"``; ``loglik`` is the quasi-log-likelihood).
    """
    t0 = time.perf_counter()
    model = as_interaction_model(model)
    if se not in ("observed", "none"):
        raise SpecError(f"se={se!r}: choose 'observed' (Hessian-based) or 'none'")
    if not 0.0 < level < 1.0:
        raise SpecError(f"level={level}: the confidence level must lie between 0 and 1")
    inverse0 = checked_inverse_hessian(start_inverse_hessian, model.nfree)
    X, dropped, total = prepare_data(model, data)
    notes: list[str] = []
    if dropped:
        notes.append(f"listwise deletion dropped {dropped} of {total} rows")
    with single_threaded_blas():
        obj = QMLObjective(model, X)
        theta = start_values(model, X) if start is None else np.asarray(start, float).copy()
        if theta.shape != (model.nfree,):
            raise SpecError(f"start must have {model.nfree} values (one per free parameter), "
                            f"not {theta.shape}")
        N = X.shape[0]
        optim = maximize(obj.value_grad, theta, scale=N, gtol=tol, max_iter=max_iter,
                         inv_hessian=inverse0)
        theta, ll, grad = optim.theta, optim.loglik, optim.gradient
        H = None
        if np.isfinite(ll) and se != "none":
            theta, ll, grad, H, _ = newton_polish(
                obj.value_grad, obj.grad, theta, ll, grad, scale=N, gtol=tol)
            if not optim.converged and np.max(np.abs(grad)) / N < tol:
                optim.converged = True
                optim.message = "converged (after Newton steps)"
    options = dict(tol=tol, max_iter=max_iter, se=se)
    return build_fit(
        model=model, method="QML", X=X, theta=theta, loglik=ll, gradient=grad, hessian=H,
        optim=optim, em_iterations=0, level=level, se=se, quadrature=None, notes=notes,
        options=options, seconds=time.perf_counter() - t0, null_fitter=fit_lms,
    )
