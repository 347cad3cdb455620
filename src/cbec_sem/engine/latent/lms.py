"""LMS: latent moderated structural equations (Klein & Moosbrugger 2000).

Given the k integrated standard-normal sources z₁ (see
:class:`~cbec_sem.propositions.interaction.model.LatentInteractionModel`), the indicators are
multivariate normal, x | z₁ ~ N(μ(z₁), Σ(z₁)), so the density of a case is a mixture over
quadrature nodes (:mod:`~cbec_sem.propositions.interaction.quadrature`),

    f(x) ≈ Σ_j w_j φ(x; μ_j, Σ_j),      ℓ(θ) = Σ_i log f(x_i).

Estimation follows the paper: EM iterations — the E-step gives each case's posterior weights
r_ij over the nodes; the M-step maximises the expected complete-data log-likelihood
Q(θ) = Σ_j Σ_i r_ij log φ(x_i; μ_j(θ), Σ_j(θ)), which depends on the data only through the
weighted moments n_j = Σ_i r_ij, s_j = Σ_i r_ij x_i, S_j = Σ_i r_ij x_i x_iᵀ, so an M-step
costs nothing per case — and then, since EM is slow near the optimum, BFGS on ℓ itself
followed by Newton steps with the observed information (the Hessian of ℓ by differences of
its analytic gradient), whose inverse gives the standard errors (modsem's default
``FIM = "observed"``).

The mixture is evaluated for all cases and nodes at once.  For node j with Σ_j = K_j⁻¹ the
squared Mahalanobis distances of all cases are x_iᵀK_jx_i − 2x_iᵀK_jμ_j + μ_jᵀK_jμ_j: the first
term is one (N × p(p+1)/2)·(p(p+1)/2 × J) matrix product of the cases' fixed squares and
cross-products with the packed K_j, the second an (N × p)·(p × J) product.  When no product
has an operand outside the integrated sources (e.g. ``X:X``), Σ_j is the same at every node
and only the means move; in general (``X:Z`` integrated over X) the covariance changes with
the node too, which costs J small Cholesky factorisations per evaluation and nothing per case.
The gradient is the adjoint of this (∂ℓ/∂μ_j = K_j(s_j − n_jμ_j),
∂ℓ/∂Σ_j = ½(K_j S̃_j K_j − n_j K_j) with S̃_j the weighted scatter about μ_j), chained in
closed form through μ_j = ν + Λm_j, Σ_j = ΛS_jΛᵀ + Θ and by complex-step derivatives through
the latent moments (m_j, S_j), which only the structural parameters (B, Ψ, α, Ω) affect.

Larger models.  The node-dependent part of Σ_j has low rank: with D = ΛC[:, outcomes] and
F = ΛCVG'ᵀ (G' the rows of C for the operands that are not integrated),
Σ_j = Σ₀ + U M_j Uᵀ with U = [D F] the same at every node and M_j of size s = #outcomes +
#such operands (2 for the paper model with H5, H6a and H6b, against p = 20 indicators).  By
Woodbury's identity every per-case, per-node operation is then s-dimensional
(:meth:`LMSObjective._lowrank`, O(N·J·s²) instead of O(N·J·p²)); it is used when the dense
work is large (it is 3× faster on the paper model and slower on ``oneInt``).

References
----------
Klein, A., & Moosbrugger, H. (2000). Maximum likelihood estimation of latent interaction
effects with the LMS method. *Psychometrika*, 65(4), 457–474.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..threads import single_threaded_blas
from ...errors import CbecSemWarning, EstimationError, SpecError
from ...errors import warn
from . import quadrature as qd
from ._estimation import (
    checked_inverse_hessian,
    maximize,
    newton_polish,
    prepare_data,
    start_values,
)
from .model import LatentInteractionModel, as_interaction_model
from .results import InteractionFit, build_fit

__all__ = ["fit_lms", "LMSObjective"]

_LOG2PI = np.log(2 * np.pi)


class LMSObjective:
    """The LMS log-likelihood of one data set on one quadrature rule, with its gradient."""

    def __init__(self, model: LatentInteractionModel, X: np.ndarray, quad: qd.Quadrature):
        self.model = model
        self.N, self.p = X.shape
        self.center = X.mean(axis=0)
        self.Xc = X - self.center
        self._outs_others = model._lowrank_groups if model.k else ((), ())
        iu = np.triu_indices(self.p)
        self._iu = iu
        self._mult = np.where(iu[0] == iu[1], 1.0, 2.0)
        self.XXp = self.Xc[:, iu[0]] * self.Xc[:, iu[1]]  # (N, p(p+1)/2)
        self.Sxx = self.Xc.T @ self.Xc
        # [x x-products | x]: one matrix product gives the quadratic and linear terms of all
        # Mahalanobis distances, another all the weighted first and second moments.
        self._feat = np.concatenate([self.XXp, self.Xc], axis=1)
        self.set_quadrature(quad)
        self._outer_layout()
        self.evaluations = 0

    def set_quadrature(self, quad: qd.Quadrature) -> None:
        self.quad = quad
        self.nodes = quad.nodes
        self.log_weights = quad.log_weights
        # The Woodbury stage costs O(N·J·s²) instead of O(N·J·p²) but has more small
        # operations: it pays when the node-dependent part has rank s < p and the dense
        # per-evaluation work is large (measured: 3x faster for p = 20, J = 576; 30% slower
        # for oneInt's p = 9, J = 24).
        s = sum(len(v) for v in self._outs_others)
        self.lowrank = bool(self.model.k) and s < self.p and (
            quad.size * self.p * (self.p + 1) // 2 > 4000)

    # -------------------------------------------------------------- the map θ → (μ_j, Σ_j)

    def _outer_layout(self) -> None:
        """Which free parameters are loadings, intercepts and residual (co)variances of the
        indicators (differentiated in closed form), and which act through the latent
        moments (B, Ψ, α, Ω: differentiated by the complex step)."""
        model = self.model
        t = model.table
        free = t["free"].to_numpy() - 1
        self._inner = model.parameters_of(("beta", "psi", "alpha", "omega"))
        self._outer = {}
        for kind in ("lambda", "nu", "theta"):
            rows = model._rows[kind]
            rows = rows[free[rows] >= 0]
            i, j = t["i"].to_numpy()[rows].astype(int), t["j"].to_numpy()[rows].astype(int)
            self._outer[kind] = (free[rows], i, j)

    def moments(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centred conditional means (J, p) and covariances (J, p, p) at the nodes."""
        mu, sigma = self.model.conditional_moments(theta, self.nodes)
        return mu[0] - self.center, sigma[0]

    def moments_and_derivatives(self, theta: np.ndarray):
        """The moments plus what the chain rule needs: complex-step derivatives of the
        latent moments with respect to the structural parameters."""
        model = self.model
        M = model.matrices(theta)
        if self._inner.size:
            directions = theta[None, :] + 1j * 1e-20 * np.eye(theta.size)[self._inner]
            mean_c, cov_c = model.conditional_latent_moments(model.matrices(directions),
                                                             self.nodes)
            mean_L, cov_L = mean_c[0].real, cov_c[0].real
            d_mean, d_cov = mean_c.imag / 1e-20, cov_c.imag / 1e-20
        else:
            mean_L, cov_L = (a[0] for a in model.conditional_latent_moments(M, self.nodes))
            d_mean = d_cov = None
        lam = M.lam[0]
        mu = M.nu[0] + mean_L @ lam.T - self.center
        sigma = lam @ cov_L @ lam.T + M.theta[0]
        return mu, sigma, (lam, mean_L, cov_L, d_mean, d_cov)

    def _chain(self, q: int, g_mu: np.ndarray, g_sigma: np.ndarray, ctx) -> np.ndarray:
        """∇θ from ∂ℓ/∂μ_j and ∂ℓ/∂Σ_j (μ_j = ν + Λm_j, Σ_j = ΛS_jΛᵀ + Θ)."""
        lam, mean_L, cov_L, d_mean, d_cov = ctx
        grad = np.zeros(q)
        k, i, j = self._outer["nu"]
        np.add.at(grad, k, g_mu.sum(axis=0)[i])
        k, i, j = self._outer["theta"]
        g_th = g_sigma.sum(axis=0)
        np.add.at(grad, k, np.where(i == j, 1.0, 2.0) * g_th[i, j])
        k, i, j = self._outer["lambda"]
        if k.size:
            g_lam = g_mu.T @ mean_L + 2.0 * ((g_sigma @ lam) @ cov_L).sum(axis=0)
            np.add.at(grad, k, g_lam[i, j])
        if d_mean is not None:
            g_m = g_mu @ lam
            g_S = lam.T @ g_sigma @ lam
            ni = self._inner.size
            grad[self._inner] += (d_mean.reshape(ni, -1) @ g_m.ravel()
                                  + d_cov.reshape(ni, -1) @ g_S.ravel())
        return grad

    # -------------------------------------------------------------- the data stage

    def _components(self, mu: np.ndarray, sigma: np.ndarray):
        """log(w_j φ(x_i; μ_j, Σ_j)) for all i, j, and K_j; None if a Σ_j is not PD."""
        try:
            L = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return None
        diag = np.diagonal(L, axis1=-2, axis2=-1)
        if not np.all(diag > 0) or not np.all(np.isfinite(diag)):
            return None
        logdet = 2.0 * np.log(diag).sum(axis=-1)
        Linv = np.linalg.inv(L)
        K = np.swapaxes(Linv, -1, -2) @ Linv
        Kp = K[:, self._iu[0], self._iu[1]] * self._mult
        Kmu = np.einsum("jab,jb->ja", K, mu)
        const = np.einsum("ja,ja->j", mu, Kmu)
        # One product for the quadratic and linear terms; the rest in place (the (N, J)
        # temporaries cost more than the arithmetic).
        logf = self._feat @ np.concatenate([Kp, -2.0 * Kmu], axis=1).T
        logf += self.p * _LOG2PI + logdet + const
        logf *= -0.5
        logf += self.log_weights
        return logf, K, logdet

    @staticmethod
    def _posterior(logf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each case's log-likelihood and posterior node weights; overwrites ``logf``."""
        top = logf.max(axis=1, keepdims=True)
        logf -= top
        np.exp(logf, out=logf)
        tot = logf.sum(axis=1, keepdims=True)
        ll_i = (np.log(tot) + top)[:, 0]
        logf /= tot
        return ll_i, logf

    def _weighted_stats(self, post: np.ndarray):
        n = post.sum(axis=0)
        both = post.T @ self._feat
        npk = self.XXp.shape[1]
        s2p, s1 = both[:, :npk], both[:, npk:]
        J, p = post.shape[1], self.p
        s2 = np.zeros((J, p, p))
        s2[:, self._iu[0], self._iu[1]] = s2p
        s2[:, self._iu[1], self._iu[0]] = s2p
        return n, s1, s2

    @staticmethod
    def _adjoint(mu, K, n, s1, s2):
        """∂/∂μ_j and ∂/∂Σ_j of Σ_ij r_ij log φ(x_i; μ_j, Σ_j) for fixed weights r."""
        Ks1 = np.einsum("jab,jb->ja", K, s1)
        Kmu = np.einsum("jab,jb->ja", K, mu)
        g_mu = Ks1 - n[:, None] * Kmu
        # K S̃ K with S̃ = S2 − s1 μᵀ − μ s1ᵀ + n μ μᵀ
        KS2K = K @ s2 @ K
        outer = np.einsum("ja,jb->jab", Ks1, Kmu)
        KSK = KS2K - outer - np.swapaxes(outer, 1, 2) + n[:, None, None] * np.einsum(
            "ja,jb->jab", Kmu, Kmu)
        g_sigma = 0.5 * (KSK - n[:, None, None] * K)
        return g_mu, g_sigma

    # -------------------------------------------------------------- public evaluations

    def loglik_cases(self, theta: np.ndarray) -> np.ndarray:
        """Each case's log-likelihood (−∞ everywhere when θ is inadmissible)."""
        self.evaluations += 1
        comp = self._components(*self.moments(theta))
        if comp is None:
            return np.full(self.N, -np.inf)
        return self._posterior(comp[0])[0]

    def loglik(self, theta: np.ndarray) -> float:
        if self.lowrank:
            out = self._lowrank(theta, want_grad=False)
            if out is not None:
                return out[0]
        return float(self.loglik_cases(theta).sum())

    def posterior(self, theta: np.ndarray) -> tuple[float, np.ndarray | None]:
        """ℓ and the posterior node weights r_ij (the E-step)."""
        comp = self._components(*self.moments(theta))
        if comp is None:
            return -np.inf, None
        ll_i, post = self._posterior(comp[0])
        return float(ll_i.sum()), post

    def value_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """ℓ and ∇ℓ."""
        self.evaluations += 1
        if self.lowrank:
            out = self._lowrank(theta, want_grad=True)
            if out is not None:
                ll, grad = out
                return (ll, grad) if grad is not None else (-np.inf,
                                                            np.full(theta.size, np.nan))
        mu, sigma, ctx = self.moments_and_derivatives(theta)
        comp = self._components(mu, sigma)
        if comp is None:
            return -np.inf, np.full(theta.size, np.nan)
        logf, K, _ = comp
        ll_i, post = self._posterior(logf)
        g_mu, g_sigma = self._adjoint(mu, K, *self._weighted_stats(post))
        return float(ll_i.sum()), self._chain(theta.size, g_mu, g_sigma, ctx)

    # -------------------------------------------------------------- low-rank data stage

    def _lowrank(self, theta: np.ndarray, want_grad: bool):
        """ℓ (and ∇ℓ) with Σ_j = Σ₀ + U M_j Uᵀ (U fixed, s columns; see
        :meth:`LatentInteractionModel.lowrank_latent_pieces`), so that every operation per
        case and node is s-dimensional (Woodbury: K_j = K₀ − H G_j Hᵀ with H = K₀U,
        G_j = M_j(I + N₀M_j)⁻¹, N₀ = UᵀK₀U, and |Σ_j| = |Σ₀|·|I + N₀M_j|).

        Returns None when N₀ is singular (U rank-deficient): the caller then uses the dense
        stage.  The adjoints with respect to μ_j, Σ₀, U and M_j are derived in the comments.
        """
        model = self.model
        M = model.matrices(theta)
        inner = self._inner
        if want_grad and inner.size:
            directions = theta[None, :] + 1j * 1e-20 * np.eye(theta.size)[inner]
            pieces_c = model.lowrank_latent_pieces(model.matrices(directions), self.nodes)
            pieces = [p[0].real for p in pieces_c]
            d_pieces = [p.imag / 1e-20 for p in pieces_c]
        else:
            pieces = [p[0] for p in model.lowrank_latent_pieces(M, self.nodes)]
            d_pieces = None
        mean_L, S_C, U_lat, Mj = pieces
        lam = M.lam[0]
        Xc, N, p = self.Xc, self.N, self.p
        mu = M.nu[0] + mean_L @ lam.T - self.center  # (J, p)
        Sig0 = lam @ S_C @ lam.T + M.theta[0]
        U = lam @ U_lat  # (p, s)
        s = U.shape[1]
        J = mu.shape[0]
        try:
            L0 = np.linalg.cholesky(Sig0)
        except np.linalg.LinAlgError:
            return -np.inf, None
        L0i = np.linalg.inv(L0)
        K0 = L0i.T @ L0i
        logdet0 = 2.0 * np.log(np.diag(L0)).sum()
        H = K0 @ U
        N0 = U.T @ H
        try:
            LN = np.linalg.cholesky(N0)
        except np.linalg.LinAlgError:
            return None
        MjL = Mj @ LN
        Sj = np.eye(s) + LN.T @ MjL  # I + LNᵀ M_j LN: PD ⟺ Σ_j PD
        try:
            LS = np.linalg.cholesky(Sj)
        except np.linalg.LinAlgError:
            return -np.inf, None
        logdet = logdet0 + 2.0 * np.log(np.diagonal(LS, axis1=1, axis2=2)).sum(axis=1)
        Sj_inv = np.linalg.inv(Sj)
        G = Mj - MjL @ Sj_inv @ np.swapaxes(MjL, 1, 2)
        G = 0.5 * (G + np.swapaxes(G, 1, 2))
        # d_ij = (x_i-μ_j)ᵀK₀(x_i-μ_j) − v_ijᵀG_j v_ij,  v_ij = h_i − η_j,  h = XH, η = μH
        a = Xc @ K0  # a_i = K₀x_i
        q0 = np.einsum("np,np->n", a, Xc)
        b = mu @ K0  # b_j = K₀μ_j
        h = Xc @ H
        eta = mu @ H
        iu = np.triu_indices(s)
        mult = np.where(iu[0] == iu[1], 1.0, 2.0)
        hh = h[:, iu[0]] * h[:, iu[1]]
        Geta = np.einsum("jab,jb->ja", G, eta)
        # One product for all (case, node) terms; the rest in place (the (N, J) temporaries
        # cost more than the arithmetic).
        feat = np.concatenate([Xc, hh, h], axis=1)
        coef = np.concatenate([-2.0 * b, -(G[:, iu[0], iu[1]] * mult), 2.0 * Geta], axis=1)
        logf = feat @ coef.T
        logf += q0[:, None]
        logf += (p * _LOG2PI + logdet + np.einsum("jp,jp->j", mu, b)
                 - np.einsum("ja,ja->j", eta, Geta))
        logf *= -0.5
        logf += self.log_weights
        ll_i, post = self._posterior(logf)
        ll = float(ll_i.sum())
        if not want_grad:
            return ll, None
        # ---- weighted statistics
        n = post.sum(axis=0)
        moments = post.T @ feat
        npk = hh.shape[1]
        s1, Phh_p, Ph = moments[:, :p], moments[:, p:p + npk], moments[:, p + npk:]
        Phh = np.zeros((J, s, s))
        Phh[:, iu[0], iu[1]] = Phh_p
        Phh[:, iu[1], iu[0]] = Phh_p
        V1 = Ph - n[:, None] * eta  # Σ_i π_ij v_ij
        outer_e = np.einsum("ja,jb->jab", Ph, eta)
        V2 = Phh - outer_e - np.swapaxes(outer_e, 1, 2) + n[:, None, None] * np.einsum(
            "ja,jb->jab", eta, eta)  # Σ_i π_ij v_ij v_ijᵀ
        Q = np.eye(s) - N0 @ G  # Uᵀy_ij = Q_j v_ij  with y_ij = K_j(x_i − μ_j)
        GV1 = np.einsum("jab,jb->ja", G, V1)  # Σ_i π_ij e_ij,  e_ij = G_j v_ij
        # (d) ∂ℓ/∂μ_j = Σ_i π_ij y_ij = K₀(s₁_j − n_jμ_j) − H G_j V1_j
        g_mu = (s1 - n[:, None] * mu) @ K0 - GV1 @ H.T
        # (b) ∂ℓ/∂M_j = ½[Q_j V2_j Q_jᵀ − n_j(N₀ − N₀G_jN₀)]
        g_M = 0.5 * (Q @ V2 @ np.swapaxes(Q, 1, 2)
                     - n[:, None, None] * (N0 - N0 @ G @ N0))
        # per-case averages over nodes: ē_i = Σ_j π_ij G_j v_ij, τ_i = Σ_j π_ij M_jQ_j v_ij
        MQ = Mj @ Q
        e_bar = (np.einsum("nab,nb->na", (post @ G.reshape(J, s * s)).reshape(N, s, s), h)
                 - post @ Geta)
        MQeta = np.einsum("jab,jb->ja", MQ, eta)
        tau = (np.einsum("nab,nb->na", (post @ MQ.reshape(J, s * s)).reshape(N, s, s), h)
               - post @ MQeta)
        # (a) ∂ℓ/∂Σ₀ = ½[Σ_ij π_ij y_ij y_ijᵀ − (N K₀ − H Ḡ Hᵀ)],  y_ij = a_i − b_j − H e_ij
        beta = post @ b + e_bar @ H.T  # Σ_j π_ij (b_j + H e_ij)
        XtB = K0 @ (Xc.T @ beta)
        bGV1 = b.T @ GV1  # Σ_j b_j (G_jV1_j)ᵀ: (p, s)
        E2 = np.einsum("jab,jbc,jcd->ad", G, V2, G, optimize=True)
        cc = (b.T * n) @ b + bGV1 @ H.T + H @ bGV1.T + H @ E2 @ H.T
        yy = K0 @ self.Sxx @ K0 - XtB - XtB.T + cc
        Gbar = np.einsum("j,jab->ab", n, G)
        g_S0 = 0.5 * (yy - (N * K0 - H @ Gbar @ H.T))
        g_S0 = 0.5 * (g_S0 + g_S0.T)
        # (c) ∂ℓ/∂U = Σ_ij π_ij y_ij (M_jQ_j v_ij)ᵀ − H Σ_j n_j (I − G_jN₀) M_j
        MQV1 = np.einsum("jab,jb->ja", MQ, V1)
        GV2QM = np.einsum("jab,jbc,jdc,jde->ae", G, V2, Q, Mj, optimize=True)
        g_U = (K0 @ (Xc.T @ tau) - b.T @ MQV1 - H @ GV2QM
               - H @ np.einsum("j,jab->ab", n, (np.eye(s) - G @ N0) @ Mj))
        # ---- chain rule to θ
        q = theta.size
        grad = np.zeros(q)
        k, i, j = self._outer["nu"]
        np.add.at(grad, k, g_mu.sum(axis=0)[i])
        k, i, j = self._outer["theta"]
        np.add.at(grad, k, np.where(i == j, 1.0, 2.0) * g_S0[i, j])
        k, i, j = self._outer["lambda"]
        if k.size:
            g_lam = g_mu.T @ mean_L + 2.0 * g_S0 @ lam @ S_C + g_U @ U_lat.T
            np.add.at(grad, k, g_lam[i, j])
        if d_pieces is not None:
            ni = inner.size
            adj = (g_mu @ lam, lam.T @ g_S0 @ lam, lam.T @ g_U, g_M)
            for d, g in zip(d_pieces, adj):
                grad[inner] += d.reshape(ni, -1) @ g.ravel()
        return ll, grad

    def grad(self, theta: np.ndarray) -> np.ndarray:
        return self.value_grad(theta)[1]

    def expected_complete(self, theta: np.ndarray, stats) -> tuple[float, np.ndarray]:
        """The M-step objective Q(θ) (without the constant Σ r log w) and its gradient."""
        n, s1, s2 = stats
        mu, sigma, ctx = self.moments_and_derivatives(theta)
        try:
            L = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return -np.inf, np.full(theta.size, np.nan)
        diag = np.diagonal(L, axis1=-2, axis2=-1)
        if not np.all(diag > 0) or not np.all(np.isfinite(diag)):
            return -np.inf, np.full(theta.size, np.nan)
        logdet = 2.0 * np.log(diag).sum(axis=-1)
        Linv = np.linalg.inv(L)
        K = np.swapaxes(Linv, -1, -2) @ Linv
        # tr(K S̃) with S̃ the scatter about μ_j
        scatter = (s2 - np.einsum("ja,jb->jab", s1, mu) - np.einsum("ja,jb->jab", mu, s1)
                   + n[:, None, None] * np.einsum("ja,jb->jab", mu, mu))
        value = -0.5 * float(np.sum(n * (self.p * _LOG2PI + logdet))
                             + np.einsum("jab,jba->", K, scatter))
        g_mu, g_sigma = self._adjoint(mu, K, n, s1, s2)
        return value, self._chain(theta.size, g_mu, g_sigma, ctx)


@dataclass(frozen=True)
class QuadratureReport:
    """How the integral was computed, and how accurately.

    Attributes:
        kind: ``"adaptive"`` (data-adapted trapezoid rule), ``"gauss-hermite"`` or ``"none"``.
        dimensions: the integrated sources (k of them).
        nodes_per_dim: nodes per dimension; ``nodes`` in all after pruning.
        ranges: per dimension, the (low, high) of an adaptive grid.
        error: |ℓ(rule) − ℓ(rule with twice the nodes)| at the estimates: an estimate of the
            quadrature error of the reported log-likelihood.
    """

    kind: str
    dimensions: tuple[str, ...]
    nodes_per_dim: int
    nodes: int
    ranges: tuple[tuple[float, float], ...]
    error: float


def fit_lms(
    model,
    data,
    *,
    nodes: int = 24,
    adaptive: bool = True,
    em_max: int = 30,
    em_tol: float = 1e-4,
    tol: float = 1e-6,
    max_iter: int = 500,
    se: str = "observed",
    level: float = 0.95,
    start: np.ndarray | None = None,
    start_inverse_hessian: np.ndarray | None = None,
) -> InteractionFit:
    """Fit a latent-interaction model by LMS (Klein & Moosbrugger 2000).

    Args:
        model: a :class:`LatentInteractionModel`, a ModelSpec or lavaan syntax with product
            terms (``Y ~ X + Z + X:Z``).
        data: a DataFrame (or Survey) holding the indicators; incomplete rows are dropped
            listwise (with a warning).
        nodes: quadrature nodes per integrated dimension.
        adaptive: use the data-adapted trapezoid rule (default) instead of Gauss–Hermite
            nodes; see :mod:`~cbec_sem.propositions.interaction.quadrature`.
        em_max: at most this many EM iterations before direct maximisation (0: none).
        em_tol: EM stops when an iteration raises ℓ/N by less than this.
        tol: convergence: max |∂(ℓ/N)/∂θ| below ``tol`` (the direct phase's criterion;
            Newton polishing usually ends far below it).
        max_iter: iteration limit of the direct (BFGS) phase.
        se: ``"observed"`` (inverse of the numerical Hessian of ℓ) or ``"none"``.
        level: confidence level of the intervals.
        start: a full starting vector (in the order of ``model.parameter_names``).
        start_inverse_hessian: the inverse Hessian of −ℓ/N at ``start`` (q × q) for the
            direct phase's quasi-Newton maximiser to start from instead of the identity; e.g.
            N times the ``vcov`` of a fit of the same model to data like these (the
            bootstrap's refits).  With it the EM phase is skipped: such a start is near the
            maximum, where the direct phase converges superlinearly and EM only creeps.

    Returns:
        An :class:`~cbec_sem.propositions.interaction.results.InteractionFit`.
    """
    t0 = time.perf_counter()
    model = as_interaction_model(model)
    _check_options(nodes, se, level)
    inverse0 = checked_inverse_hessian(start_inverse_hessian, model.nfree)
    X, dropped, total = prepare_data(model, data)
    check_grid_size(model, nodes, X.shape[0])
    with single_threaded_blas():
        out = _fit(model, X, nodes=nodes, adaptive=adaptive, em_max=em_max, em_tol=em_tol,
                   tol=tol, max_iter=max_iter, se=se, start=start, inv_hessian=inverse0)
    theta, ll, grad, H, optim, em_iters, quad_report, notes = out
    if dropped:
        notes.insert(0, f"listwise deletion dropped {dropped} of {total} rows")
    options = dict(nodes=nodes, adaptive=adaptive, em_max=em_max, em_tol=em_tol, tol=tol,
                   max_iter=max_iter, se=se)
    return build_fit(
        model=model, method="LMS", X=X, theta=theta, loglik=ll, gradient=grad, hessian=H,
        optim=optim, em_iterations=em_iters, level=level, se=se, quadrature=quad_report,
        notes=notes, options=options, seconds=time.perf_counter() - t0, null_fitter=fit_lms,
    )


#: Most node × case evaluations of the LMS mixture (nodes per dimension to the power of the
#: dimensions, times the cases) a fit takes on.  The grid grows exponentially with the number
#: of latent variables LMS integrates over: the paper model (k = 2, 24² nodes) at N = 3000
#: needs 1.7e6 per pass (several seconds a fit: LMS is expensive estimation, not bounded at
#: issue 14's 2 s); three dimensions at N = 500 need 6.9e6 and ran for minutes; six would not
#: fit in memory.  Above it LMS is refused before the grid is built, pointing to QML.
MAX_NODE_CASES = 5e6


def check_grid_size(model: LatentInteractionModel, nodes: int, ncases: int) -> None:
    """Refuses an LMS fit whose quadrature grid times the cases exceeds
    :data:`MAX_NODE_CASES`.

    Raises:
        EstimationError: naming the dimensions, the grid and the alternatives.
    """
    cells = float(nodes) ** model.k * ncases
    if cells > MAX_NODE_CASES:
        dims = ", ".join(model._source_name(k) for k in model._nonlinear_idx)
        raise EstimationError(
            f"LMS integrates over the {model.k} latent variable(s) in product terms ({dims}): "
            f"{nodes}^{model.k} = {float(nodes) ** model.k:,.0f} quadrature nodes for each of "
            f"{ncases:,} cases ({cells:.1e} evaluations per pass), more than "
            f"cbec_sem.engine.latent.lms.MAX_NODE_CASES = {MAX_NODE_CASES:.0e}; use "
            "estimator='QML', which needs no integration, or fewer latent variables in "
            "product terms")


def _check_options(nodes: int, se: str, level: float) -> None:
    if not isinstance(nodes, (int, np.integer)) or nodes < 2:
        raise SpecError(f"nodes={nodes!r}: give an integer number of quadrature nodes ≥ 2")
    if se not in ("observed", "none"):
        raise SpecError(f"se={se!r}: choose 'observed' (Hessian-based) or 'none'")
    if not 0.0 < level < 1.0:
        raise SpecError(f"level={level}: the confidence level must lie between 0 and 1")


def _fit(model, X, *, nodes, adaptive, em_max, em_tol, tol, max_iter, se, start,
         inv_hessian=None):
    N = X.shape[0]
    notes: list[str] = []
    theta = start_values(model, X) if start is None else np.asarray(start, dtype=float).copy()
    if theta.shape != (model.nfree,):
        raise SpecError(f"start must have {model.nfree} values (one per free parameter), "
                        f"not {theta.shape}")
    quad = qd.initial(nodes, model.k, adaptive)
    obj = LMSObjective(model, X, quad)
    if adaptive and model.k:
        _, post = obj.posterior(theta)
        if post is not None:
            obj.set_quadrature(qd.adapt(nodes, obj.nodes, post))
    # ---- EM
    em_iters = 0
    pre_iterations = 0  # (direct-phase iterations before the grid's last adaptation)
    inv_h = None
    ll_old = -np.inf
    if model.k and inv_hessian is not None:
        # a start with its curvature (a bootstrap refit from the estimates) is near the
        # maximum already: quasi-Newton steps from there take the place of EM, which only
        # creeps there (eight M-steps a refit, three quarters of its time); the grid is then
        # adapted at their end, near the maximum, as after EM
        pre = maximize(obj.value_grad, theta, scale=N, gtol=tol, max_iter=max_iter,
                       inv_hessian=inv_hessian)
        if np.isfinite(pre.loglik):
            theta, inv_hessian, pre_iterations = pre.theta, pre.inv_hessian, pre.iterations
        else:  # (Σ not positive definite at the start) EM from the start, as without it
            inv_hessian = None
    if model.k:
        em_limit = em_max if inv_hessian is None else 0  # (the steps above took EM's place)
        while em_iters < em_limit:
            ll, post = obj.posterior(theta)
            if post is None or ll - ll_old < em_tol * N:
                break
            ll_old = ll
            stats = obj._weighted_stats(post)
            res = maximize(lambda th: obj.expected_complete(th, stats), theta, scale=N,
                           gtol=1e-7, max_iter=8, inv_hessian=inv_h)
            em_iters += 1
            if not np.isfinite(res.loglik):
                break
            theta, inv_h = res.theta, res.inv_hessian
        if adaptive:
            _, post = obj.posterior(theta)
            if post is not None:
                quad = qd.adapt(nodes, obj.nodes, post)
                obj.set_quadrature(quad)
                _, post = obj.posterior(theta)
                if post is not None:
                    obj.set_quadrature(qd.prune(quad, post))
    # ---- direct maximisation of ℓ
    optim = maximize(obj.value_grad, theta, scale=N, gtol=tol, max_iter=max_iter,
                     inv_hessian=inv_hessian)
    optim.iterations += pre_iterations
    theta, ll, grad = optim.theta, optim.loglik, optim.gradient
    H = None
    if np.isfinite(ll) and se != "none":
        theta, ll, grad, H, _ = newton_polish(
            obj.value_grad, obj.grad, theta, ll, grad, scale=N, gtol=tol)
        if not optim.converged and np.max(np.abs(grad)) / N < tol:
            optim.converged = True
            optim.message = "converged (after Newton steps)"
    # ---- quadrature error estimate
    report = qd.trivial() if model.k == 0 else obj.quad
    error = 0.0
    if model.k and np.isfinite(ll):
        fine = LMSObjective(model, X, qd.refine(obj.quad)).loglik(theta)
        error = float(abs(fine - ll))
        if error > 0.05:
            message = (f"the quadrature error of the LMS log-likelihood is about {error:.2g} "
                       f"({obj.quad.size} nodes); refit with more nodes (nodes=...) for a "
                       "more precise value")
            notes.append(message)
            warn(message, CbecSemWarning)
    quad_report = QuadratureReport(
        kind=report.kind,
        dimensions=tuple(model._source_name(k) for k in model._nonlinear_idx),
        nodes_per_dim=report.per_dim,
        nodes=report.size,
        ranges=report.ranges,
        error=error,
    )
    return theta, ll, grad, H, optim, em_iters, quad_report, notes
