"""Model matrices in the RAM form, and the model-implied moments they give.

McArdle & McDonald (1984, *Br. J. Math. Stat. Psychol.* 37, 234–251): with all observed and
latent variables stacked in one vector v = A v + u, Cov(u) = S, E(v) = (I − A)⁻¹ m, and the
filter F = [I_p 0] that keeps the observed ones,

    Σ(θ) = F B S Bᵀ Fᵀ,   μ(θ) = F B m,   B = (I − A)⁻¹.

Loadings (``f =~ x``: A[x, f]), regressions (``y ~ x``: A[y, x]), variances and covariances
(S) and intercepts (m) all live in one representation, so first-order, higher-order and
observed-variable paths need no special cases.

For derivatives every free entry is written in rank-2 form dΣ = u vᵀ + v uᵀ, dμ = d, with
G = F B and H = B S Gᵀ (Neudecker & Satorra 1991 give the matrix derivatives):

* A[i, j]:  u = G[:, i], v = H[j, :], d = G[:, i] · (B m)[j]
* S[i, j]:  u = G[:, i], v = G[:, j] (v halved when i = j, so u vᵀ + v uᵀ = G_i G_iᵀ)
* m[i]:     u = v = 0, d = G[:, i]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .partable import ParTable


@dataclass(frozen=True)
class GroupLayout:
    """Where the free and fixed rows of one group go in A, S and m (row positions are into
    the whole parameter table)."""

    a_rows: np.ndarray
    a_i: np.ndarray
    a_j: np.ndarray
    s_rows: np.ndarray
    s_i: np.ndarray
    s_j: np.ndarray
    m_rows: np.ndarray
    m_i: np.ndarray
    free_rows: np.ndarray  # rows of this group that are free, in table order
    free_kind: np.ndarray  # 0 = A, 1 = S, 2 = m
    free_i: np.ndarray
    free_j: np.ndarray
    free_param: np.ndarray  # 0-based index into theta


@dataclass(frozen=True)
class DerivativeIndex:
    """Where the rank-2 factors of a group's free rows come from, computed once per model.

    Every u_k, v_k is a column of G = F B or of Hᵀ = G S Bᵀ, scaled by a constant (½ for a
    variance, 0 for an intercept, whose dΣ is 0).  With Z = (the distinct columns used, each
    with its constant) (p × c, c ≤ 2n), u_k = Z[:, u[k]] and v_k = Z[:, v[k]], so every
    product such as U_kᵀ K V_l is an entry of the small c × c matrix Zᵀ K Z: the information
    matrix is gathered from it instead of formed by three q × p × q products.  The mean
    derivatives are d_k = G[:, d[k]] · factor, the factor (B m)[j] for a path A[i, j], 1 for
    an intercept and 0 for a (co)variance (``d_bm`` holds j, −1 where the factor is constant,
    ``d_const`` the constant).
    """

    g_cols: np.ndarray  # columns of G in Z, ...
    g_scale: np.ndarray  # ... and their constants
    h_cols: np.ndarray  # columns of Hᵀ (rows of H) in Z, after the G columns (constant 1)
    u: np.ndarray
    v: np.ndarray
    d_cols: np.ndarray  # the distinct columns of G the mean derivatives use, ...
    d: np.ndarray  # ... and the position in d_cols of each free row's
    d_bm: np.ndarray
    d_const: np.ndarray
    has_h: bool
    has_d: bool


def derivative_index(lay: GroupLayout) -> DerivativeIndex:
    """The :class:`DerivativeIndex` of a group (see :meth:`RamModel.derivative_factors` for
    the factors it encodes)."""
    r = len(lay.free_rows)
    kind, fi, fj = lay.free_kind, lay.free_i, lay.free_j
    is_a, is_s, is_m = kind == 0, kind == 1, kind == 2
    # source of u and v: (0, column of G, constant) or (1, row of H, 1)
    u_key = np.full(r, -1, dtype=np.int64)  # encoded as a key into the distinct columns
    v_key = np.full(r, -1, dtype=np.int64)
    g_keys: dict[tuple[int, float], int] = {}
    h_keys: dict[int, int] = {}

    def g_col(i: int, c: float) -> int:
        return g_keys.setdefault((int(i), float(c)), len(g_keys))

    zero = None
    for k in range(r):
        if is_a[k]:
            u_key[k] = g_col(fi[k], 1.0)
            v_key[k] = -1 - h_keys.setdefault(int(fj[k]), len(h_keys))
        elif is_s[k]:
            u_key[k] = g_col(fi[k], 1.0)
            v_key[k] = g_col(fj[k], 0.5 if fi[k] == fj[k] else 1.0)
        else:  # an intercept: dΣ = 0
            zero = g_col(0, 0.0) if zero is None else zero
            u_key[k] = v_key[k] = zero
    ng = len(g_keys)
    g_cols = np.array([i for i, _ in g_keys], dtype=np.int64)
    g_scale = np.array([c for _, c in g_keys], dtype=float)
    h_cols = np.array(list(h_keys), dtype=np.int64)
    u = np.where(u_key >= 0, u_key, ng - 1 - u_key)
    v = np.where(v_key >= 0, v_key, ng - 1 - v_key)
    d_bm = np.where(is_a, fj, -1).astype(np.int64)
    d_const = np.where(is_m, 1.0, 0.0)
    with_d = is_a | is_m
    d_cols, d_pos = np.unique(fi[with_d].astype(np.int64), return_inverse=True)
    d = np.zeros(r, dtype=np.int64)
    d[with_d] = d_pos.ravel()
    return DerivativeIndex(
        g_cols=g_cols, g_scale=g_scale, h_cols=h_cols, u=u, v=v,
        d_cols=d_cols, d=d, d_bm=d_bm, d_const=d_const,
        has_h=bool(len(h_keys)), has_d=bool((is_a | is_m).any()),
    )


def path_depth(n: int, i: np.ndarray, j: np.ndarray) -> int | None:
    """The number of edges on the longest directed path of the graph with an edge j → i for
    every entry A[i, j], or None when the graph has a cycle (a non-recursive model).

    For an acyclic graph A is nilpotent, A^(d+1) = 0, so B = (I − A)⁻¹ is the finite sum
    I + A + … + A^d (Bollen 1989, ch. 8: recursive models)."""
    if n == 0:
        return 0
    i, j = np.asarray(i, dtype=np.int64) % n, np.asarray(j, dtype=np.int64) % n  # (as A[i, j])
    edges = {(int(a), int(b)) for a, b in zip(i, j) if a != b}
    if any(a == b for a, b in zip(i, j)):
        return None  # a self-loop A[i, i]
    children: dict[int, list[int]] = {}
    indegree = np.zeros(n, dtype=int)
    for a, b in edges:
        children.setdefault(b, []).append(a)
        indegree[a] += 1
    depth = np.zeros(n, dtype=int)
    ready = [k for k in range(n) if indegree[k] == 0]
    seen = 0
    while ready:
        k = ready.pop()
        seen += 1
        for c in children.get(k, ()):
            depth[c] = max(depth[c], depth[k] + 1)
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    return int(depth.max(initial=0)) if seen == n else None


@dataclass(frozen=True)
class GroupMoments:
    """The implied moments of one group and the pieces their derivatives are made from."""

    sigma: np.ndarray
    mu: np.ndarray
    B: np.ndarray
    S: np.ndarray
    M: np.ndarray
    G: np.ndarray


class RamModel:
    """A compiled parameter table: parameter vector in, implied moments and derivatives out."""

    def __init__(self, partable: ParTable) -> None:
        self.partable = partable
        frame = partable.frame
        roles = partable.roles
        self.observed = roles.observed
        self.latent = roles.latent
        self.variables = roles.observed + roles.latent
        self.p = len(roles.observed)
        self.n = len(self.variables)
        self.nfree = partable.nfree
        self.ngroups = partable.ngroups
        index = {v: k for k, v in enumerate(self.variables)}
        self.free_index = frame["free"].to_numpy(dtype=int) - 1  # -1 = fixed
        self.base_values = frame["ustart"].to_numpy(dtype=float, na_value=np.nan).copy()
        ops = frame["op"].to_numpy()
        lhs = frame["lhs"].to_numpy()
        rhs = frame["rhs"].to_numpy()
        groups = frame["group"].to_numpy()
        i_idx = np.array([index.get(x, -1) for x in lhs])
        j_idx = np.array([index.get(x, -1) for x in rhs])
        # "=~" rows point from the latent (lhs) to the indicator (rhs): A[rhs, lhs].
        row_i = np.where(ops == "=~", j_idx, i_idx)
        row_j = np.where(ops == "=~", i_idx, j_idx)
        # "<~" rows (composite weights) are A[lhs, rhs], as "~" rows are.
        kind = np.select([np.isin(ops, ("=~", "~", "<~")), ops == "~~", ops == "~1"],
                         [0, 1, 2], -1)
        #: per table row: 0 = A (paths, loadings, weights), 1 = S, 2 = m, -1 = other
        self.row_kind = kind
        self.layouts: list[GroupLayout] = []
        for g in range(1, self.ngroups + 1):
            in_g = groups == g
            a = np.flatnonzero(in_g & (kind == 0))
            s = np.flatnonzero(in_g & (kind == 1))
            m = np.flatnonzero(in_g & (kind == 2))
            fr = np.flatnonzero(in_g & (self.free_index >= 0))
            self.layouts.append(
                GroupLayout(
                    a_rows=a, a_i=row_i[a], a_j=row_j[a],
                    s_rows=s, s_i=row_i[s], s_j=row_j[s],
                    m_rows=m, m_i=row_i[m],
                    free_rows=fr, free_kind=kind[fr], free_i=row_i[fr], free_j=row_j[fr],
                    free_param=self.free_index[fr],
                )
            )
        self._eye = np.eye(self.n)
        #: the free rows and their θ positions, and each group's targets in the flattened
        #: A, S (both triangles) and m with the rows that fill them: the model matrices of an
        #: evaluation by one gather and scatter each
        self._free_rows = np.flatnonzero(self.free_index >= 0)
        self._free_params = self.free_index[self._free_rows]
        self._targets = [
            (lay.a_i * self.n + lay.a_j, lay.a_rows,
             np.concatenate([lay.s_i * self.n + lay.s_j, lay.s_j * self.n + lay.s_i]),
             np.concatenate([lay.s_rows, lay.s_rows]))
            for lay in self.layouts]
        self.derivative_index = [derivative_index(lay) for lay in self.layouts]
        #: longest path of each group's A (None: non-recursive), for B = (I − A)⁻¹
        self.path_depth = [path_depth(self.n, lay.a_i, lay.a_j) for lay in self.layouts]

    # ------------------------------------------------------------------ values
    def row_values(self, theta: np.ndarray) -> np.ndarray:
        """The value of every table row: fixed rows their fixed value, free rows from theta.
        ``theta`` may carry leading axes (k × q: a k × rows matrix)."""
        if theta.ndim == 1:
            values = self.base_values.copy()
        else:
            values = np.broadcast_to(self.base_values, (*theta.shape[:-1],
                                                        self.base_values.size)).copy()
        values[..., self._free_rows] = theta[..., self._free_params]
        return values

    def matrices(self, values: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A, S and m of group ``g`` (0-based) from row values."""
        lay = self.layouts[g]
        a_at, a_rows, s_at, s_rows = self._targets[g]
        n = self.n
        A = np.zeros(n * n)
        A[a_at] = values[a_rows]
        S = np.zeros(n * n)
        S[s_at] = values[s_rows]  # (a diagonal entry twice, with the same value)
        M = np.zeros(n)
        M[lay.m_i] = values[lay.m_rows]
        return A.reshape(n, n), S.reshape(n, n), M

    def inverse_i_minus_a(self, A: np.ndarray, g: int) -> np.ndarray:
        """B = (I − A)⁻¹: for a recursive model the finite sum I + A(I + A(…)) of
        :func:`path_depth` terms (for a CFA just I + A), else the general inverse."""
        depth = self.path_depth[g]
        if depth is None or depth > 4:
            return np.linalg.inv(self._eye - A)
        B = self._eye + A
        for _ in range(depth - 1):
            B = A @ B
            B += self._eye
        return B

    def moments(self, theta: np.ndarray) -> list[GroupMoments]:
        """Implied covariance matrix and mean vector of every group."""
        values = self.row_values(theta)
        out = []
        for g in range(self.ngroups):
            A, S, M = self.matrices(values, g)
            B = self.inverse_i_minus_a(A, g)
            G = B[: self.p]
            sigma = G @ S @ G.T
            sigma = 0.5 * (sigma + sigma.T)
            out.append(GroupMoments(sigma=sigma, mu=G @ M, B=B, S=S, M=M, G=G))
        return out

    def total_covariance(self, mom: GroupMoments) -> np.ndarray:
        """Covariance matrix of all variables, observed and latent: B S Bᵀ."""
        return mom.B @ mom.S @ mom.B.T

    def total_means(self, mom: GroupMoments) -> np.ndarray:
        """Means of all variables: B m."""
        return mom.B @ mom.M

    # ------------------------------------------------------------- derivatives
    def derivative_columns(self, mom: GroupMoments, g: int) -> np.ndarray:
        """Z (p × c) of :class:`DerivativeIndex`: the distinct columns the rank-2 factors of
        group ``g`` are made of, u_k = Z[:, u[k]], v_k = Z[:, v[k]]."""
        idx = self.derivative_index[g]
        Z = mom.G[:, idx.g_cols] * idx.g_scale
        if idx.has_h:
            # rows of H = B S Gᵀ: only the rows asked for (Hᵀ[:, j] = G S B[j]ᵀ)
            Ht = mom.G @ (mom.S @ mom.B[idx.h_cols].T)
            Z = np.concatenate([Z, Ht], axis=1)
        return Z

    def derivative_factors(
        self, mom: GroupMoments, g: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rank-2 factors U, V (p × r) and mean derivatives D (p × r) of the free rows of
        group ``g``, so that dΣ/dθ_k = U_k V_kᵀ + V_k U_kᵀ and dμ/dθ_k = D_k."""
        lay = self.layouts[g]
        r = len(lay.free_rows)
        U = np.zeros((self.p, r))
        V = np.zeros((self.p, r))
        D = np.zeros((self.p, r))
        G = mom.G
        is_a = lay.free_kind == 0
        is_s = lay.free_kind == 1
        is_m = lay.free_kind == 2
        if is_a.any():
            H = mom.B @ mom.S @ G.T  # n × p
            bm = mom.B @ mom.M
            ia, ja = lay.free_i[is_a], lay.free_j[is_a]
            U[:, is_a] = G[:, ia]
            V[:, is_a] = H[ja].T
            D[:, is_a] = G[:, ia] * bm[ja]
        if is_s.any():
            is_, js = lay.free_i[is_s], lay.free_j[is_s]
            U[:, is_s] = G[:, is_]
            V[:, is_s] = G[:, js] * np.where(is_ == js, 0.5, 1.0)
        if is_m.any():
            D[:, is_m] = G[:, lay.free_i[is_m]]
        return U, V, D
