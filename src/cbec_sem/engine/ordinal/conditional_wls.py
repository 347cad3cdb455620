"""The DWLS/ULS fit function of ordered items given observed covariates (conditional.x).

With covariates x (exogenous, fixed.x), lavaan fits the moments of the latent responses
*given* x (``lav_model_implied`` with ``conditional.x``: ``res.th``, ``res.slopes``,
``res.cov``).  In the RAM form (:mod:`..ram`) the covariates have no parents, so with
B = (I − A)⁻¹ and G = B's observed rows,

    y* = G_{y,·} m + Π (x − m_x) + G_{y,−x} u_{−x},   Π = G_{y,x},

and the statistics the model implies are (Muthén 1984; Muthén & Asparouhov 2002):

* thresholds τ − μ*_{y|x=0} with μ*_{y|x=0} = G_{y,−x} m_{−x};
* slopes vec(Π), ∂Π/∂A_ij = G_{y,i} B_{j,x} (∂B = B ∂A B), zero for every other parameter;
* residual correlations from Σ*_{y|x} = G_{y,−x} S_{−x,−x} G_{y,−x}ᵀ.

That is :class:`.wls.DWLSFunction` with the covariates' rows and columns of S and their
means removed (:meth:`ConditionalDWLSFunction._matrices`), so the delta parameterization's
residual variances make the *conditional* variances of y* one (lavaan's), and the
derivatives of μ* and Σ* need no change; the slopes' rows are added to the Jacobian.
Under the theta parameterization the scale Δ = diag(Σ*_{y|x})^(−1/2) multiplies the slopes
too: ∂(Δ_o Π_o) = Δ_o ∂Π_o + Π_o ∂Δ_o.
"""

from __future__ import annotations

import numpy as np

from ...errors import SpecError
from ..ram import GroupMoments, RamModel
from .wls import DWLSFunction, GroupStatistics


class ConditionalDWLSFunction(DWLSFunction):
    """:class:`.wls.DWLSFunction` on statistics given the covariates ``x_names``."""

    def __init__(self, ram: RamModel, groups: list[GroupStatistics], ordinal: np.ndarray,
                 residual_rows, scale_rows=None, parameterization: str = "delta", *,
                 x_names: tuple[str, ...]) -> None:
        super().__init__(ram, groups, ordinal, residual_rows, scale_rows, parameterization)
        index = {v: k for k, v in enumerate(ram.variables)}
        self.x_pos = np.array([index[v] for v in x_names], dtype=int)
        self.y_pos = np.array([k for k in range(ram.p) if k not in set(self.x_pos)],
                              dtype=int)
        _check_exogenous(ram, self.x_pos)

    def _matrices(self, values: np.ndarray, g: int):
        A, S, M = self.ram.matrices(values, g)
        X = self.x_pos
        S[X, :] = 0.0
        S[:, X] = 0.0
        M[X] = 0.0
        return A, S, M

    def _slopes(self, mom: GroupMoments) -> np.ndarray:
        """vec(Π): every item's slope on x₁, then on x₂, ... (lavaan's order)."""
        return mom.G[np.ix_(self.y_pos, self.x_pos)].T.ravel()

    def _stats(self, mom: GroupMoments, values, g: int, st: GroupStatistics) -> np.ndarray:
        base = super()._stats(mom, values, g, st)
        slopes = self._slopes(mom)
        if self.theta:
            d = self._scales(mom)[self.y_pos]
            slopes = slopes * np.tile(d, len(self.x_pos))
        return np.concatenate([base[: st.nth], slopes, base[st.nth:]])

    def _jacobian(self, mom, Mo, g, st, values) -> np.ndarray:
        base = super()._jacobian(mom, Mo, g, st, values)
        ram = self.ram
        lay = ram.layouts[g]
        Y, X = self.y_pos, self.x_pos
        cols = np.zeros((len(Y) * len(X), len(lay.free_rows)))
        is_a = lay.free_kind == 0
        if is_a.any():
            ia, ja = lay.free_i[is_a], lay.free_j[is_a]
            # ∂Π[y, x]/∂A[i, j] = G[y, i] B[j, x], stacked x by x
            cols[:, is_a] = np.einsum("yk,kx->xyk", mom.G[np.ix_(Y, ia)],
                                      mom.B[np.ix_(ja, X)]).reshape(-1, int(is_a.sum()))
        if self.theta:
            cols = self._theta_slopes(mom, g, cols)
        slope = np.zeros((cols.shape[0], ram.nfree))
        np.add.at(slope.T, lay.free_param, cols.T)
        return np.vstack([base[: st.nth], slope, base[st.nth:]])

    def _theta_slopes(self, mom: GroupMoments, g: int, cols: np.ndarray) -> np.ndarray:
        """Δ_o ∂Π_o + Π_o ∂Δ_o, with ∂Δ_o = −½ Δ_o³ ∂σ*_oo (σ* given x)."""
        U, V, _ = self.ram.derivative_factors(mom, g)
        d = self._scales(mom)
        Y, X = self.y_pos, self.x_pos
        dd = -0.5 * (d[Y] ** 3)[:, None] * (2.0 * U[Y] * V[Y])
        dd[~np.isin(Y, self.ordinal)] = 0.0
        pi = mom.G[np.ix_(Y, X)]  # p × q
        out = cols * np.tile(d[Y], len(X))[:, None]
        out += (pi.T[:, :, None] * dd[None, :, :]).reshape(len(Y) * len(X), -1)
        return out


def _check_exogenous(ram: RamModel, x_pos: np.ndarray) -> None:
    """The covariates must be exogenous and covary with nothing but each other (as in
    lavaan, where conditional.x removes them from the model)."""
    frame = ram.partable.frame
    names = {ram.variables[k] for k in x_pos}
    for lhs, op, rhs in zip(frame["lhs"], frame["op"], frame["rhs"]):
        if op == "~~" and ((lhs in names) != (rhs in names)):
            raise SpecError(
                f"'{lhs} ~~ {rhs}': a covariance between the covariate and a variable of the "
                "model; with ordered items the covariates are conditioned on (lavaan's "
                "conditional.x) and cannot covary with the model's variables: regress on the "
                "covariate instead, or model it as a single-indicator latent variable")


def total_scales(ram: RamModel, theta: np.ndarray) -> dict:
    """(item, group) → 1/SD of y* over the covariates too (the full implied covariance
    matrix, the estimator's rows filled in): lavaan's factor for a threshold's std.all with
    conditional.x."""
    out = {}
    for g, mom in enumerate(ram.moments(theta)):
        for k, v in enumerate(ram.observed):
            out[(v, g + 1)] = 1.0 / np.sqrt(mom.sigma[k, k])
    return out
