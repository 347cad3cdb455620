"""Two-group PLS: multigroup analysis of paths and MICOM (measurement invariance of composites).

:func:`pls_mga` — two or more groups (pairwise, Holm-adjusted); each group is re-estimated (same options) and bootstrapped, and per path:

* Henseler's PLS-MGA p-value (Henseler, Ringle & Sinkovics 2009; seminr
  ``estimate_pls_mga``): ``p = 1 − (1/J²) Σ_j Σ_k Θ(2β̄₁ − β₁ⱼ − 2β̄₂ + β₂ₖ)``, the one-sided
  probability that group 1's coefficient is not larger than group 2's;
* the parametric test (Keil et al. 2000; pooled bootstrap SEs, df = n₁ + n₂ − 2) and the
  Welch–Satterthwaite test (unequal SEs), both two-sided;
* optionally the permutation test (Chin & Dibbern 2010): group labels permuted P times, both
  groups re-estimated on each permutation (batched), p = (1 + #{|Δ*| ≥ |Δ|})/(1 + P)
  (Phipson & Smyth 2010).

:func:`micom` — steps 2 and 3 of Henseler, Ringle & Sarstedt (2016, IMR 33(3)), step 1
(configural invariance: same model, same data treatment) holding by construction:

* step 2: ``c = cor(Z w₁, Z w₂)`` on the pooled standardised items Z, with w₁, w₂ the group
  weights; compositional invariance unless c is below the 5 % quantile of its permutation
  distribution (p = share of permuted c ≤ c);
* step 3: scores from the pooled weights on the pooled standardised data; the difference of
  group means and of log variances, against their permutation 2.5 %/97.5 % quantiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special  # stdtr: Student's t tail (scipy.stats.t.sf's formula, same numbers)

from ..errors import DataError, SpecError
from ..protocol import Block, Summary
from .bootstrap import bootstrap_layout, run_draws, bootstrap_pls
from .estimate import PLSEstimation, estimate_pls

__all__ = ["pls_mga", "micom", "MICOMResult"]


def _groups(est: PLSEstimation, groups) -> list[tuple[object, np.ndarray]]:
    """(label, row positions) of each group (labels aligned with the rows the estimate used)."""
    if isinstance(groups, pd.Series):
        groups = groups.reindex(est.scores.index)
    g = np.asarray(groups)
    if g.shape != (est.n,):
        raise DataError(f"groups needs one label per row used ({est.n}), not shape {g.shape}")
    if pd.isna(g).any():
        raise DataError("groups has missing labels; drop or code those rows first")
    labels = list(pd.unique(g))
    if len(labels) < 2:
        raise SpecError(f"at least two groups are needed, not {len(labels)} ({labels})")
    out = [(lab, np.flatnonzero(g == lab)) for lab in labels]
    items = est.data.shape[1]
    for lab, rows in out:
        if rows.size <= items:
            raise DataError(f"group {lab!r} has {rows.size} rows, not more than the "
                            f"{items} indicators; it cannot be estimated")
    return out


def _split(est: PLSEstimation, groups) -> tuple[np.ndarray, np.ndarray, list]:
    """Row positions of exactly two groups."""
    found = _groups(est, groups)
    if len(found) != 2:
        raise SpecError(f"two groups are needed, not {len(found)}; compare groups pairwise")
    (la, a), (lb, b) = found
    return a, b, [la, lb]


def holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values (statsmodels ``multipletests``, the home the
    hypothesis table's family-wise correction uses too; imported here, as there, because
    statsmodels costs ~1.5 s to import and a fit must not pay for it)."""
    from statsmodels.stats.multitest import multipletests

    return multipletests(np.asarray(p, dtype=float), method="holm")[1]


def _group_estimate(est: PLSEstimation, rows: np.ndarray) -> PLSEstimation:
    data = pd.DataFrame(est.data[rows], columns=list(est.plan.items))
    opts = {k: est.options[k] for k in ("scheme", "max_iter", "tol", "method", "hoc",
                                         "interaction")}
    return estimate_pls(est.model, data, **opts)


def pls_mga(est: PLSEstimation, groups, *, draws: int = 2000, seed=None,
            permutations: int = 0, indices: tuple[np.ndarray, np.ndarray] | None = None
            ) -> pd.DataFrame:
    """Path differences between two groups (see the module docstring).

    With more than two groups every pair is compared and ``p_*_holm`` columns hold Holm's
    adjustment over the pairwise comparisons of each path.

    Args:
        groups: one label per row used by ``est`` (a Series is aligned on the index).
        draws, seed: bootstrap of each group (``indices``: a pair of (B, n_g) resamples of
            each group's rows to replay instead).
        permutations: P for the permutation test (0: not run).

    Returns:
        One row per path: lhs, rhs, group1/group2 labels, est1, est2, diff, boot_mean1,
        boot_mean2, se1, se2, p_henseler, p_parametric, p_welch, (p_permutation), and the
        failed bootstrap draws per group.
    """
    found = _groups(est, groups)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if len(found) > 2:
        if indices is not None:
            raise SpecError("indices can be replayed only for two groups")
        tables = [_mga_pair(est, found[i], found[j], draws, rng, permutations, None)
                  for i in range(len(found)) for j in range(i + 1, len(found))]
        table = pd.concat(tables, ignore_index=True)
        pcols = [c for c in table.columns if c.startswith("p_")]
        for col in pcols:  # family: the pairwise comparisons of one path
            table[f"{col}_holm"] = table.groupby(["lhs", "rhs"])[col].transform(
                lambda s: pd.Series(holm(s.to_numpy()), index=s.index))
        return table
    return _mga_pair(est, found[0], found[1], draws, rng, permutations, indices)


def _mga_pair(est, first, second, draws, rng, permutations, indices) -> pd.DataFrame:
    (la, a), (lb, b) = first, second
    labels = [la, lb]
    boots = []
    for k, rows in enumerate((a, b)):
        g = _group_estimate(est, rows)
        boot = (bootstrap_pls(g, indices=indices[k]) if indices is not None
                else bootstrap_pls(g, draws, seed=rng))
        boots.append((g, boot))
    paths = est.params.index[est.params["op"] == "~"]
    n1, n2 = a.size, b.size
    out = []
    for r in paths:
        lhs, rhs = est.params.loc[r, "lhs"], est.params.loc[r, "rhs"]
        (g1, b1), (g2, b2) = boots
        d1 = b1.draws[:, r][~np.isnan(b1.draws[:, r])]
        d2 = b2.draws[:, r][~np.isnan(b2.draws[:, r])]
        e1, e2 = g1.params.loc[r, "est"], g2.params.loc[r, "est"]
        left = 2 * d1.mean() - d1 - 2 * d2.mean()
        p_h = 1 - (left[:, None] + d2[None, :] > 0).mean()
        s1, s2 = d1.std(ddof=1), d2.std(ddof=1)
        pooled = np.sqrt(((n1 - 1) ** 2 * s1**2 + (n2 - 1) ** 2 * s2**2) / (n1 + n2 - 2)
                         * (1 / n1 + 1 / n2))
        t_par = (e1 - e2) / pooled
        p_par = 2 * special.stdtr(n1 + n2 - 2, -abs(t_par))
        welch_se = np.sqrt((n1 - 1) / n1 * s1**2 + (n2 - 1) / n2 * s2**2)
        df = ((n1 - 1) / n1 * s1**2 + (n2 - 1) / n2 * s2**2) ** 2 / (
            (n1 - 1) / n1**2 * s1**4 + (n2 - 1) / n2**2 * s2**4)
        t_w = (e1 - e2) / welch_se
        out.append(dict(lhs=lhs, rhs=rhs, group1=labels[0], group2=labels[1], est1=e1,
                        est2=e2, diff=e1 - e2, boot_mean1=d1.mean(), boot_mean2=d2.mean(),
                        se1=s1, se2=s2, p_henseler=p_h, p_parametric=p_par,
                        p_welch=2 * special.stdtr(df, -abs(t_w)), failed1=b1.failed,
                        failed2=b2.failed))
    table = pd.DataFrame(out)
    if permutations:
        obs, perm = _permuted_stats(est, a, b, int(permutations), rng)
        cols = list(paths)
        d_obs = obs[0][cols] - obs[1][cols]
        d_perm = perm[0][:, cols] - perm[1][:, cols]
        ok = ~np.isnan(d_perm).any(axis=1)
        table["p_permutation"] = (1 + (np.abs(d_perm[ok]) >= np.abs(d_obs)).sum(axis=0)) / (
            1 + ok.sum())
        table["permutations_failed"] = int((~ok).sum())
    return table


def _permuted_stats(est, a, b, P, rng):
    """Statistics of the two actual groups and of P label permutations (batched)."""
    keys, routes = bootstrap_layout(est)
    n1 = a.size
    pooled = np.concatenate([a, b])
    perms = np.stack([rng.permutation(pooled) for _ in range(P)])
    chunk = 2000
    obs1, _ = run_draws(est, a[None], routes, chunk)
    obs2, _ = run_draws(est, b[None], routes, chunk)
    v1, ok1 = run_draws(est, perms[:, :n1], routes, chunk)
    v2, ok2 = run_draws(est, perms[:, n1:], routes, chunk)
    v1[~ok1] = np.nan
    v2[~ok2] = np.nan
    return (obs1[0], obs2[0]), (v1, v2)


@dataclass(frozen=True, repr=False)
class MICOMResult:
    """MICOM steps 2 (compositional invariance) and 3 (equal means and variances)."""

    step2: pd.DataFrame
    step3: pd.DataFrame
    permutations: int

    def to_frame(self) -> pd.DataFrame:
        return self.step2.merge(self.step3, on="construct")

    def summary(self) -> Summary:
        return Summary(title=f"MICOM ({self.permutations} permutations)",
                       blocks=(Block("Step 2: compositional invariance", self.step2),
                               Block("Step 3: equal means and variances", self.step3)),
                       notes=("Henseler, Ringle & Sarstedt (2016); step 1 (configural "
                              "invariance) holds by construction",))

    def __repr__(self) -> str:
        inv = int(self.step2["compositional_invariance"].sum())
        return (f"<MICOMResult: compositional invariance for {inv} of {len(self.step2)} "
                f"constructs, {self.permutations} permutations>")


def micom(est: PLSEstimation, groups, *, permutations: int = 1000, seed=None) -> MICOMResult:
    """MICOM steps 2–3 for a single-stage model (see the module docstring).

    Raises:
        SpecError: a two-stage model (HOC or interaction), or not two groups.
        DataError: a group with no more rows than indicators.
    """
    if est.plan.first is not None or any(est.plan.main.interaction):
        raise SpecError("MICOM is implemented for first-order models without interactions")
    a, b, labels = _split(est, groups)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    st = est.plan.main
    con = st.blocks.construct_of
    cols = np.array([ref for _, ref in st.sources])
    X = est.data[:, cols]
    Z = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    S = Z.T @ Z / (Z.shape[0] - 1)
    keys, routes = bootstrap_layout(est)
    wcols = [i for i, k in enumerate(keys) if k[1] == "weight"]

    def step2_c(w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
        """(B, k) correlation of the pooled composites built with w1 and w2."""
        out = np.empty((w1.shape[0], st.blocks.k))
        for j in range(st.blocks.k):
            idx = np.flatnonzero(con == j)
            Sj = S[np.ix_(idx, idx)]
            u, v = w1[:, idx], w2[:, idx]
            num = np.einsum("bi,ij,bj->b", u, Sj, v)
            out[:, j] = num / np.sqrt(np.einsum("bi,ij,bj->b", u, Sj, u)
                                      * np.einsum("bi,ij,bj->b", v, Sj, v))
        return out

    (o1, o2), (v1, v2) = _permuted_stats(est, a, b, int(permutations), rng)
    c_obs = step2_c(o1[wcols][None], o2[wcols][None])[0]
    c_perm = step2_c(v1[:, wcols], v2[:, wcols])
    ok = ~np.isnan(c_perm).any(axis=1)
    q05 = np.quantile(c_perm[ok], 0.05, axis=0)
    names = list(st.names)
    step2 = pd.DataFrame({"construct": names, "c": c_obs, "c_q05": q05,
                          "p": (c_perm[ok] <= c_obs).mean(axis=0),
                          "compositional_invariance": c_obs >= q05})
    # step 3: pooled weights, pooled standardised data
    W = est.computed.weights["main"][0]
    Y = np.column_stack([Z[:, con == j] @ W[con == j] for j in range(st.blocks.k)])

    def mean_var(rows1, rows2):
        m = Y[rows1].mean(axis=-2) - Y[rows2].mean(axis=-2)
        lv = np.log(Y[rows1].var(axis=-2, ddof=1)) - np.log(Y[rows2].var(axis=-2, ddof=1))
        return m, lv

    m_obs, v_obs = mean_var(a, b)
    pooled = np.concatenate([a, b])
    perms = np.stack([rng.permutation(pooled) for _ in range(int(permutations))])
    m_perm, v_perm = mean_var(perms[:, : a.size], perms[:, a.size:])
    rows = []
    for j, n in enumerate(names):
        mlo, mhi = np.quantile(m_perm[:, j], [0.025, 0.975])
        vlo, vhi = np.quantile(v_perm[:, j], [0.025, 0.975])
        rows.append(dict(construct=n, mean_diff=m_obs[j], mean_lower=mlo, mean_upper=mhi,
                         mean_p=(1 + (np.abs(m_perm[:, j]) >= abs(m_obs[j])).sum())
                         / (1 + len(perms)),
                         equal_mean=mlo <= m_obs[j] <= mhi, logvar_diff=v_obs[j],
                         var_lower=vlo, var_upper=vhi,
                         var_p=(1 + (np.abs(v_perm[:, j]) >= abs(v_obs[j])).sum())
                         / (1 + len(perms)),
                         equal_variance=vlo <= v_obs[j] <= vhi))
    return MICOMResult(step2, pd.DataFrame(rows), int(permutations))
