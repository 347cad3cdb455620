"""The (diagonally) weighted least-squares fit function on thresholds and polychorics.

The sample statistics of group g are s_g = (τ̂, vech*(R̂)): the thresholds of every item (item
by item) followed by the polychoric correlations (strict lower triangle, column by column —
lavaan's ``WLS.obs``).  The model implies σ_g(θ) = (τ − μ*, vech*(Σ*)), where Σ* and μ* are the
covariance matrix and means of the latent responses y*.  The fit function is lavaan's

    F(θ) = Σ_g (n_g/N) · ½ (n_g − 1)/n_g · (s_g − σ_g)ᵀ W_g (s_g − σ_g),

with W_g = diag(Γ_g)⁻¹ (``DWLS``, the weight of WLSMV; Muthén, du Toit & Spisic 1997) or the
identity (``ULS``, of ULSMV); Γ_g is the asymptotic covariance matrix of :mod:`.acov`.  The
test statistic is T = 2 N F(θ̂) = Σ_g (n_g − 1) · (s_g − σ_g)ᵀ W_g (s_g − σ_g), lavaan 0.6's.

Delta parameterization (lavaan's default; Muthén & Asparouhov 2002): the latent responses
have unit variance, so the residual variance of an ordered item is not a parameter but
1 minus the variance the model explains.  With RAM matrices (:mod:`..ram`), Σ* = G S Gᵀ and the
residual variances s_O of the ordered items O solve diag(Σ*)_O = 1, a linear system
M s_O = 1 − diag(G S₀ Gᵀ)_O with M = (G_OO)∘(G_OO) (the identity when the items do not
affect each other).  Derivatives follow by the implicit-function rule:
∂s_O/∂θ = −M⁻¹ diag(∂Σ*/∂θ |_{s_O fixed})_O, so

    ∂Σ*/∂θ = U Vᵀ + V Uᵀ + Σ_{o∈O} G_o G_oᵀ ∂s_o/∂θ,

where U, V are the rank-2 factors of :meth:`RamModel.derivative_factors`.  The thresholds'
rows of the Jacobian Δ are the identity in the threshold parameters and −∂μ*/∂θ elsewhere.
Fisher scoring uses the Gauss–Newton matrix Σ_g (n_g/N)(n_g − 1)/n_g · Δ_gᵀ W_g Δ_g.

Scaling factors (``~*~``, lavaan's Δ) of the delta parameterization are 1 unless thresholds
are held equal across groups: then the later groups' are free (lavaan's
``lav_partable_flat``; Millsap & Yun-Tein 2004, *Multivariate Behav. Res.* 39, 479–515), the
latent responses have variance 1/Δ_o² (the residual variances solve
M s_O = Δ_O⁻² − diag(G S₀ Gᵀ)_O) and the statistics are Δ(τ − μ*) and ΔΣ*Δ; a free Δ_o adds
−2Δ_o⁻³ to the right-hand side of the implicit rule above and scales the statistics as the
theta parameterization does (:meth:`DWLSFunction._scaled_columns`).

Theta parameterization (lavaan's ``parameterization = "theta"``; Muthén & Asparouhov 2002):
the ordered items' residual variances are fixed (to 1) and the latent responses' variances
follow from the model; the statistics are those of y*/σ*, so with Δ = diag(1/√σ*_oo) the
implied thresholds are Δ(τ − μ*) and the implied correlations ΔΣ*Δ.  Δ is reported in the
``~*~`` rows.  The Jacobian adds ∂Δ_o = −½ Δ_o³ ∂σ*_oo (:meth:`DWLSFunction._theta_jacobian`).

Continuous variables among the ordered ones (:mod:`.mixed`): their statistics are −μ (among
the thresholds), their variances and their covariances; their scale is 1 and their residual
variances are free parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...errors import DataError
from ..ml import Evaluation
from ..ram import GroupMoments, RamModel


@dataclass(frozen=True)
class GroupStatistics:
    """The sample statistics of one group and their weights.

    Attributes:
        nobs: observations (rows used).
        obs: the statistics, thresholds then correlations.
        weight: the diagonal weight of every statistic.
        gamma: lavaan's NACOV of the statistics (covariance of √N times them).
        th_var: for each threshold statistic, its item's position among the observed variables.
        th_num: its number (1 for ``t1``; 0 for the −mean of a continuous variable, lavaan's
            ``th.idx`` 0, :mod:`.mixed`).
        pair_i, pair_j: for each correlation statistic, its two items.
        cor: the polychoric correlation matrix (with continuous variables: the covariance
            matrix of lavaan's ``WLS.obs``, variances on the diagonal).
        th: the thresholds of the ordered items, item by item.
        var_idx: the positions of the continuous variables, whose variances follow the
            thresholds among the statistics.
        n_slopes: with observed covariates (:mod:`.conditional`), how many probit slopes
            vec(Π) follow the thresholds (lavaan's ``conditional.x``); 0 otherwise.
    """

    nobs: int
    obs: np.ndarray
    weight: np.ndarray
    gamma: np.ndarray
    th_var: np.ndarray
    th_num: np.ndarray
    pair_i: np.ndarray
    pair_j: np.ndarray
    cor: np.ndarray
    th: tuple[np.ndarray, ...]
    var_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    n_slopes: int = 0

    @property
    def nth(self) -> int:
        return len(self.th_var)

    @property
    def nuni(self) -> int:
        """The univariate statistics (thresholds, −means, slopes, variances) before the
        covariances."""
        return len(self.th_var) + self.n_slopes + len(self.var_idx)

    @property
    def mixed(self) -> bool:
        return len(self.var_idx) > 0


def diagonal_weights(gamma: np.ndarray, weights: str, acov: bool, where: str) -> np.ndarray:
    """The diagonal weights of the statistics: diag(Γ)⁻¹ for ``"DWLS"`` (WLSMV), ones for
    ``"ULS"`` (ULSMV) or without Γ.

    Raises:
        DataError: an asymptotic variance that is not positive (a category with very few
            answers).
    """
    if weights == "DWLS" and acov:
        d = np.diag(gamma)
        if not np.all(np.isfinite(d) & (d > 0)):
            raise DataError(f"the asymptotic variances of the sample statistics{where} are not "
                            "all positive; an item may have a category with very few answers")
        return 1.0 / d
    return np.ones(gamma.shape[0])


class DWLSFunction:
    """DWLS/ULS fit function of a compiled model on ordinal sample statistics."""

    def __init__(self, ram: RamModel, groups: list[GroupStatistics], ordinal: np.ndarray,
                 residual_rows: list[np.ndarray], scale_rows: list[np.ndarray] | None = None,
                 parameterization: str = "delta") -> None:
        self.ram = ram
        self.groups = groups
        self.ordinal = np.asarray(ordinal, dtype=int)  # positions of ordered items
        self.residual_rows = residual_rows  # per group: table row of each ordered item's variance
        self.scale_rows = scale_rows  # per group: table row of each ordered item's ~*~
        self.theta = parameterization == "theta"
        #: per group, the rows whose values the estimator sets: the ordered items' residual
        #: variances (delta) or their scaling factors Δ (theta)
        self.filled_rows = scale_rows if self.theta else residual_rows
        self.nobs = np.array([g.nobs for g in groups], dtype=float)
        self.ntotal = float(self.nobs.sum())
        self.fg = self.nobs / self.ntotal
        self.cg = (self.nobs - 1.0) / self.nobs
        frame = ram.partable.frame
        lhs = frame["lhs"].to_numpy()
        rhs = frame["rhs"].to_numpy()
        op = frame["op"].to_numpy()
        grp = frame["group"].to_numpy()
        names = ram.observed
        #: per group: (column among the group's free rows, position in ``ordinal``) of each
        #: free scaling factor (delta parameterization with equal thresholds)
        self.scale_cols = []
        for g, lay in enumerate(ram.layouts):
            rows = [] if scale_rows is None or self.theta else list(scale_rows[g])
            pos = {row: c for c, row in enumerate(lay.free_rows)}
            self.scale_cols.append(np.array(
                [(pos[r], k) for k, r in enumerate(rows) if r in pos], dtype=int).reshape(-1, 2))
        self.th_rows = []  # per group: the table row of each threshold statistic (t1, ...)
        self.th_stat = []  # per group: which of the first statistics are thresholds
        for g, st in enumerate(groups):
            lookup = {(lhs[r], rhs[r]): r for r in np.flatnonzero((op == "|") & (grp == g + 1))}
            is_th = st.th_num > 0
            self.th_stat.append(is_th)
            self.th_rows.append(np.array(
                [lookup[(names[v], f"t{k}")] for v, k in zip(st.th_var[is_th], st.th_num[is_th])],
                dtype=int))

    # ----------------------------------------------------------------- the model
    def _matrices(self, values: np.ndarray, g: int):
        """A, S, m of group g (:mod:`.conditional_wls` removes the covariates' moments)."""
        return self.ram.matrices(values, g)

    def _group_moments(self, values: np.ndarray, g: int) -> tuple[GroupMoments, np.ndarray]:
        """Moments of group g with the ordered items' residual variances solved for; also
        M = (G_OO)∘(G_OO) (delta).  Theta: the moments as they are, and M = None."""
        ram = self.ram
        A, S, M = self._matrices(values, g)
        B = np.linalg.inv(np.eye(ram.n) - A)
        G = B[: ram.p]
        O = self.ordinal
        if self.theta:
            sigma = G @ S @ G.T
            sigma = 0.5 * (sigma + sigma.T)
            return GroupMoments(sigma=sigma, mu=G @ M, B=B, S=S, M=M, G=G), None
        S[O, O] = 0.0
        explained = np.einsum("ij,jk,ik->i", G[O], S, G[O])
        Mo = G[np.ix_(O, O)] ** 2
        s_o = np.linalg.solve(Mo, self._target(values, g) - explained)
        S[O, O] = s_o
        sigma = G @ S @ G.T
        sigma = 0.5 * (sigma + sigma.T)
        return GroupMoments(sigma=sigma, mu=G @ M, B=B, S=S, M=M, G=G), Mo

    def row_values(self, theta: np.ndarray) -> np.ndarray:
        """Every row's value, the ordered items' residual variances filled in."""
        values = self.ram.row_values(theta)
        for g in range(len(self.groups)):
            mom, _ = self._group_moments(values, g)
            if self.theta:
                values[self.scale_rows[g]] = self._scales(mom)[self.ordinal]
            else:
                values[self.residual_rows[g]] = mom.S[self.ordinal, self.ordinal]
        return values

    def _delta_scales(self, values: np.ndarray, g: int) -> np.ndarray:
        """The ordered items' scaling factors Δ_O of group g (delta parameterization): the
        ``~*~`` rows' values (1 unless freed by equal thresholds)."""
        if self.scale_rows is None:
            return np.ones(len(self.ordinal))
        return values[self.scale_rows[g]]

    def _target(self, values: np.ndarray, g: int) -> np.ndarray:
        """diag(Σ*)_O under the delta parameterization: Δ_O⁻²."""
        return 1.0 / self._delta_scales(values, g) ** 2

    def _scales(self, mom: GroupMoments, values: np.ndarray | None = None,
                g: int = 0) -> np.ndarray:
        """Δ: 1/√σ*_oo for the ordered items (theta parameterization), their ``~*~`` values
        (delta), 1 elsewhere."""
        d = np.ones(self.ram.p)
        O = self.ordinal
        if self.theta:
            d[O] = 1.0 / np.sqrt(mom.sigma[O, O])
        elif values is not None:
            d[O] = self._delta_scales(values, g)
        return d

    def implied(self, theta: np.ndarray) -> list[np.ndarray]:
        """σ_g(θ): implied thresholds and correlations of every group."""
        values = self.ram.row_values(theta)
        out = []
        for g, st in enumerate(self.groups):
            mom, _ = self._group_moments(values, g)
            out.append(self._stats(mom, values, g, st))
        return out

    def _stats(self, mom: GroupMoments, values, g: int, st: GroupStatistics) -> np.ndarray:
        th = -mom.mu[st.th_var]  # −μ* (ordered: τ − μ*; continuous: −μ, lavaan's th)
        th[self.th_stat[g]] += values[self.th_rows[g]]
        sigma = mom.sigma
        if self.theta or self.scale_rows is not None:
            # Δ(τ − μ*) and ΔΣ*Δ (Muthén & Asparouhov 2002)
            d = self._scales(mom, values, g)
            th = th * d[st.th_var]
            sigma = sigma * np.outer(d, d)
        return np.concatenate([th, sigma[st.var_idx, st.var_idx],
                               sigma[st.pair_i, st.pair_j]])

    def _jacobian(self, mom: GroupMoments, Mo: np.ndarray | None, g: int,
                  st: GroupStatistics, values: np.ndarray) -> np.ndarray:
        ram = self.ram
        lay = ram.layouts[g]
        U, V, D = ram.derivative_factors(mom, g)
        O = self.ordinal
        G = mom.G
        pi, pj = st.pair_i, st.pair_j
        vi = st.var_idx
        dcor = U[pi] * V[pj] + V[pi] * U[pj]
        dvar = 2.0 * U[vi] * V[vi]
        ddiag = 2.0 * U[O] * V[O]
        if self.theta:
            return self._theta_jacobian(mom, g, st, values, U, V, D, dcor, dvar, ddiag)
        rhs = -ddiag
        sc = self.scale_cols[g]
        dscale = self._delta_scales(values, g)
        if len(sc):  # ∂(Δ_o⁻²)/∂Δ_o = −2 Δ_o⁻³
            rhs[sc[:, 1], sc[:, 0]] += -2.0 / dscale[sc[:, 1]] ** 3
        if np.any(rhs):
            ds = np.linalg.solve(Mo, rhs)
            dcor = dcor + (G[pi][:, O] * G[pj][:, O]) @ ds
            dvar = dvar + (G[vi][:, O] ** 2) @ ds
        dth = -D[st.th_var]
        self._threshold_columns(g, dth)  # the threshold parameters themselves
        if self.scale_rows is not None and (len(sc) or np.any(dscale != 1.0)):
            dth, dcor = self._scaled_columns(mom, g, st, values, dth, dcor, sc)
        cols = np.vstack([dth, dvar, dcor])
        delta = np.zeros((cols.shape[0], ram.nfree))
        np.add.at(delta.T, lay.free_param, cols.T)
        return delta

    def _scaled_columns(self, mom, g, st, values, dth, dcor, sc):
        """The delta parameterization's statistics Δ(τ − μ*) and ΔΣ*Δ differentiated: the
        unscaled derivatives times Δ, plus (τ − μ*) ∂Δ and σ*_ij(∂Δ_i Δ_j + Δ_i ∂Δ_j) in the
        columns of the free scaling factors (∂Δ_o/∂Δ_o = 1)."""
        d = self._scales(mom, values, g)
        dd = np.zeros((self.ram.p, dth.shape[1]))
        if len(sc):
            dd[self.ordinal[sc[:, 1]], sc[:, 0]] = 1.0
        return self._rescale(mom, g, st, values, d, dd, dth, dcor)

    def _rescale(self, mom, g, st, values, d, dd, dth, dcor):
        """Statistics d(τ − μ*), d_i d_j σ*_ij differentiated by the product rule, given the
        unscaled derivatives (``dth``, ``dcor``), the scales d and their derivatives dd."""
        pi, pj = st.pair_i, st.pair_j
        sig = mom.sigma[pi, pj][:, None]
        dcor = (d[pi] * d[pj])[:, None] * dcor + sig * (dd[pi] * d[pj][:, None]
                                                       + d[pi][:, None] * dd[pj])
        tv = st.th_var
        raw = -mom.mu[tv]
        raw[self.th_stat[g]] += values[self.th_rows[g]]
        dth = d[tv][:, None] * dth + raw[:, None] * dd[tv]
        return dth, dcor

    def _threshold_columns(self, g: int, dth: np.ndarray) -> None:
        """Add ∂τ/∂τ = 1 for the free threshold parameters (in place)."""
        pos = {row: c for c, row in enumerate(self.ram.layouts[g].free_rows)}
        stat = np.flatnonzero(self.th_stat[g])
        for t, row in zip(stat, self.th_rows[g]):
            c = pos.get(row)
            if c is not None:
                dth[t, c] += 1.0

    def _theta_jacobian(self, mom, g, st, values, U, V, D, dcor, dvar, ddiag) -> np.ndarray:
        """Δ_g under the theta parameterization: with d_o = σ*_oo^(−1/2),
        ∂d_o = −½ d_o³ ∂σ*_oo, so ∂(d_i d_j σ_ij) = d_i d_j ∂σ_ij + σ_ij(∂d_i d_j + d_i ∂d_j)
        and ∂(d_o(τ − μ_o)) = d_o(∂τ − ∂μ_o) + (τ − μ_o) ∂d_o."""
        ram = self.ram
        lay = ram.layouts[g]
        O = self.ordinal
        d = self._scales(mom)
        dd = np.zeros_like(U)
        dd[O] = -0.5 * (d[O] ** 3)[:, None] * ddiag
        dth = -D[st.th_var]
        self._threshold_columns(g, dth)
        dth, dcor = self._rescale(mom, g, st, values, d, dd, dth, dcor)
        cols = np.vstack([dth, dvar, dcor])
        delta = np.zeros((cols.shape[0], ram.nfree))
        np.add.at(delta.T, lay.free_param, cols.T)
        return delta

    def jacobians(self, theta: np.ndarray) -> list[np.ndarray]:
        """Δ_g = ∂σ_g/∂θ of every group (statistics × free parameters)."""
        values = self.ram.row_values(theta)
        out = []
        for g, st in enumerate(self.groups):
            mom, Mo = self._group_moments(values, g)
            out.append(self._jacobian(mom, Mo, g, st, values))
        return out

    # -------------------------------------------------------------- the function
    def evaluate(
        self, theta: np.ndarray, gradient: bool = False, information: bool = False
    ) -> Evaluation:
        """F(θ), and optionally its gradient and the Gauss–Newton information."""
        q = self.ram.nfree
        total = 0.0
        grad = np.zeros(q) if gradient else None
        info = np.zeros((q, q)) if information else None
        try:
            values = self.ram.row_values(theta)
            for g, st in enumerate(self.groups):
                mom, Mo = self._group_moments(values, g)
                resid = st.obs - self._stats(mom, values, g, st)
                wr = st.weight * resid
                scale = self.fg[g] * self.cg[g]
                total += 0.5 * scale * float(resid @ wr)
                if gradient or information:
                    delta = self._jacobian(mom, Mo, g, st, values)
                    if gradient:
                        grad -= scale * (delta.T @ wr)
                    if information:
                        info += scale * (delta.T @ (st.weight[:, None] * delta))
        except np.linalg.LinAlgError:
            return Evaluation(np.inf)
        if not np.isfinite(total):
            return Evaluation(np.inf)
        return Evaluation(total, grad, info)

    def value(self, theta: np.ndarray) -> float:
        return self.evaluate(theta).value
