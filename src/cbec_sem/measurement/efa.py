"""Exploratory factor analysis as psych's ``fa()`` computes it, with KMO, Bartlett's test and
parallel analysis: what a survey paper runs before its CFA.

``efa(data, n_factors, method, rotation)`` works on the item correlation matrix R (complete
rows; rows with a missing answer are dropped with a warning, psych's ``use = "complete.obs"``):

* **extraction** (psych 2.2.9 ``fac()``): the uniquenesses Ψ minimise, within
  [0.005, 1] and from 1 − SMC,
  - ``"ml"``: the ML discrepancy of Jöreskog (1967), Σ_{j>k} (log e_j − e_j) − k + p over the
    p − k smallest eigenvalues e of Ψ^-½ R Ψ^-½ (R's ``factanal`` objective and gradient);
    loadings Ψ^½ V_k (E_k − 1)^½;
  - ``"minres"``: the sum of squared off-diagonal residuals of R with 1 − Ψ on its
    diagonal (Harman & Jones 1966); loadings V_k E_k^½ of that matrix;
* **rotation**: ``"varimax"`` (Kaiser 1958, row-normalised, R's ``stats::varimax``);
  ``"promax"`` (Hendrickson & White 1964, power 4 on the varimax solution of the
  Kaiser-normalised loadings, psych's ``kaiser(rotate = "Promax")``); ``"oblimin"`` (direct quartimin, γ = 0) and ``"geomin"`` (Yates 1987,
  δ = 0.01; oblique) by the gradient projection algorithm of Jennrich (2002) and Bernaards &
  Jennrich (2005), from the identity, unnormalised, to ‖projected gradient‖ < 1e-5, as
  GPArotation's ``oblimin``/``geominQ`` (what psych calls); ``"none"``;
  then, as psych, columns signed to positive sums and ordered by the variance they account
  for, diag(Φ ΛᵀΛ);
* **fit** (psych ``fa.stats``): F = tr(Σ̂⁻¹R) − log|Σ̂⁻¹R| − p with Σ̂ = ΛΦΛᵀ and unit
  diagonal; χ² = F (N − 1 − (2p + 5)/6 − 2k/3) (Bartlett's correction) on
  df = p(p − 1)/2 − pk + k(k − 1)/2; TLI = (M₀ − M)/(M₀ − 1/n_c) with M = F/df,
  M₀ = F₀/(p(p − 1)/2), F₀ = −log|R|; RMSEA = √max(χ²/(df N) − 1/(N − 1), 0).
  Reported for both methods (psych does); they are likelihood-ratio statistics for ML only;
* **KMO** (Kaiser 1970; Kaiser & Rice 1974, psych ``KMO``): Σr²/(Σr² + Σq²) over the
  off-diagonal correlations r and anti-image (partial) correlations q, overall and per item;
* **Bartlett's test of sphericity** (Bartlett 1951, psych ``cortest.bartlett``):
  −log|R| (N − 1 − (2p + 5)/6) on p(p − 1)/2 df;
* **parallel analysis** (Horn 1965; psych ``fa.parallel``): the observed eigenvalues of R
  (components) and of R with one-factor minres communalities on its diagonal (factors)
  against the mean and 95th
  percentile of those of normal data of the same size; the suggested numbers are the counts
  of leading observed eigenvalues above the simulated means (psych's rule).

All numbers but parallel analysis (random by nature) are checked against psych 2.2.9 /
GPArotation 2022.10 in ``tests/measurement/test_efa.py`` (fixtures from
``tests/fixtures/make_efa_fixtures.R``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special

from ..engine.samplestats import numeric_block
from ..engine.work_limits import PARALLEL_WORK_LIMIT, check_parallel_work
from ..errors import DataError, DataWarning, SpecError
from ..protocol import Block, Summary
from ..errors import warn
from ..survey.fit_checks import checked_block
from ..validation import check_permutations, check_seed

METHODS = ("ml", "minres")
ROTATIONS = ("oblimin", "geomin", "promax", "varimax", "none")
_LOWER = 0.005  # psych's lower bound of the uniquenesses


@dataclass(frozen=True, eq=False)
class EFAResult:
    """An exploratory factor analysis (see the module docstring for every formula).

    Attributes:
        loadings: items × factors, rotated (pattern loadings when oblique).
        communalities: h² per item, diag(ΛΦΛᵀ).
        uniquenesses: 1 − h².
        factor_correlations: Φ (identity for orthogonal rotations).
        fit: ``chisq``, ``df``, ``pvalue``, ``tli``, ``rmsea``, ``objective``,
            ``null_chisq``, ``null_df`` (psych's ``fa.stats``).
        kmo: overall ``msa`` and per-item ``msa_items``.
        bartlett: ``chisq``, ``df``, ``pvalue``.
        method, rotation, n_obs: how it was made; ``rows_dropped``: incomplete rows left out.

    Examples:
        >>> hs = cs.datasets.holzinger_swineford_1939()
        >>> e = cs.efa(hs, 3, items=[f"x{i}" for i in range(1, 10)])
        >>> isinstance(e, cs.EFAResult), e.method, e.rotation
        (True, 'ml', 'oblimin')
        >>> e.communalities.round(2).head(3)
        x1    0.49
        x2    0.25
        x3    0.46
        Name: h2, dtype: float64
        >>> round(e.kmo["msa"], 3)
        0.752
    """

    loadings: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    factor_correlations: pd.DataFrame
    fit: pd.Series
    kmo: dict
    bartlett: dict
    method: str
    rotation: str
    n_obs: int
    rows_dropped: int = 0
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """Loadings with h² and u² beside them (psych's printed table)."""
        return self.loadings.assign(h2=self.communalities, u2=self.uniquenesses)

    def summary(self) -> Summary:
        """Loadings with h²/u², factor correlations, fit, KMO and Bartlett's test."""
        f = self.fit
        fit = pd.DataFrame({"chisq": [f["chisq"]], "df": [int(f["df"])],
                            "pvalue": [f["pvalue"]], "TLI": [f["tli"]],
                            "RMSEA": [f["rmsea"]], "KMO": [self.kmo["msa"]],
                            "Bartlett chisq": [self.bartlett["chisq"]],
                            "Bartlett p": [self.bartlett["pvalue"]]})
        blocks = (Block("Loadings", self.to_frame().reset_index(names="item")),
                  Block("Factor correlations",
                        self.factor_correlations.reset_index(names="factor")),
                  Block("Fit (psych fa.stats), KMO and Bartlett's test", fit))
        return Summary(f"Exploratory factor analysis ({self.method}, {self.rotation} "
                       f"rotation, N = {self.n_obs})", blocks, self.notes)

    def __repr__(self) -> str:
        f = self.fit
        return (f"<EFAResult {self.method}/{self.rotation}: {self.loadings.shape[1]} factors, "
                f"{self.loadings.shape[0]} items, N = {self.n_obs}, chisq={f['chisq']:.3f}, "
                f"df={int(f['df'])}, TLI={f['tli']:.3f}, RMSEA={f['rmsea']:.3f}, "
                f"KMO={self.kmo['msa']:.3f}>")


# ----------------------------------------------------------------------------- input


def _items(data, items) -> tuple[np.ndarray, list[str], int]:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame of item answers, not "
                        f"{type(data).__name__}")
    cols = (list(data.columns) if items is None
            else [items] if isinstance(items, str) else list(items))
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataError(f"the data lack the column(s) {', '.join(map(repr, missing))}")
    bad = [c for c in cols if not pd.api.types.is_numeric_dtype(data[c])]
    if bad:
        raise DataError(f"column(s) {', '.join(map(repr, bad))} are not numeric; pass the "
                        "item columns with items=[...]")
    # the checks every fit runs (boolean, complex, huge values, missing-value codes, a
    # duplicate name), and the fit's reading, which names a column holding ±inf (issue 14)
    checked_block(data, cols)
    if not data.columns.is_unique:
        twice = [c for c in cols if int((data.columns == c).sum()) > 1]
        if twice:
            raise DataError(f"the data have duplicate column names: {twice}; rename them so "
                            "each column is one variable")
    x = numeric_block(data, tuple(cols))
    keep = ~np.isnan(x).any(axis=1)
    dropped = int((~keep).sum())
    if dropped:
        warn(f"efa: {dropped} of {len(x)} rows with a missing answer were left out "
             "(complete rows, psych's use = 'complete.obs')", DataWarning)
    x = x[keep]
    sd = x.std(axis=0)
    const = [c for c, s in zip(cols, sd) if not s > 0]
    if const:
        raise DataError(f"item(s) {', '.join(map(repr, const))} are constant; drop them")
    return x, cols, dropped


def max_factors(p: int) -> int:
    """The largest number of factors with df = p(p − 1)/2 − pk + k(k − 1)/2 ≥ 0 (Ledermann
    1937): more are not identified from p items."""
    k = 0
    while k + 1 < p and (p * (p - 1)) // 2 - p * (k + 1) + ((k + 1) * k) // 2 >= 0:
        k += 1
    return k


# ----------------------------------------------------------------------------- extraction


def _smc(R: np.ndarray) -> np.ndarray:
    return 1.0 - 1.0 / np.diag(np.linalg.inv(R))


def _ml_objective(psi: np.ndarray, R: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """R's factanal objective and gradient (Jöreskog 1967)."""
    sc = 1.0 / np.sqrt(psi)
    e, v = np.linalg.eigh(R * np.outer(sc, sc))
    e, v = e[::-1], v[:, ::-1]
    rest = e[k:]
    f = -(np.sum(np.log(rest) - rest) - k + R.shape[0])
    load = v[:, :k] * np.sqrt(np.maximum(e[:k] - 1.0, 0.0))
    load = np.sqrt(psi)[:, None] * load
    g = load @ load.T + np.diag(psi) - R
    return f, np.diag(g) / psi**2


def _ml_loadings(psi: np.ndarray, R: np.ndarray, k: int) -> np.ndarray:
    sc = 1.0 / np.sqrt(psi)
    e, v = np.linalg.eigh(R * np.outer(sc, sc))
    e, v = e[::-1], v[:, ::-1]
    return np.sqrt(psi)[:, None] * (v[:, :k] * np.sqrt(np.maximum(e[:k] - 1.0, 0.0)))


def _minres_loadings(psi: np.ndarray, R: np.ndarray, k: int) -> np.ndarray:
    S = R.copy()
    np.fill_diagonal(S, 1.0 - psi)
    # only the k leading eigenpairs (LAPACK's dsyevr on that index range): 252 items, one
    # factor, 3 ms instead of a full decomposition's 17 ms (parallel analysis makes ~600)
    p = S.shape[0]
    e, v = linalg.eigh(S, subset_by_index=[p - k, p - 1], driver="evr", check_finite=False)
    e, v = e[::-1], v[:, ::-1]
    e = np.where(e < np.finfo(float).eps, 100 * np.finfo(float).eps, e)
    return v[:, :k] * np.sqrt(e[:k])


def _minres_objective(psi: np.ndarray, R: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """The off-diagonal residual sum of squares and psych's gradient for it (``FAgr.minres``:
    the diagonal residual h² − (1 − ψ), which vanishes where the off-diagonal criterion is
    stationary: the iterated principal-axis fixed point)."""
    L = _minres_loadings(psi, R, k)
    model = L @ L.T
    res = (R - model)[np.tril_indices(R.shape[0], -1)]
    return float(np.sum(res**2)), np.diag(model) + psi - 1.0


def _extract(R: np.ndarray, k: int, method: str, tol: float = 1e-15) -> np.ndarray:
    start = 1.0 - _smc(R)
    bounds = [(_LOWER, 1.0)] * R.shape[0]
    opts = {"ftol": tol, "gtol": tol * 1e3, "maxiter": 10000}
    if method == "ml":
        sol = optimize.minimize(_ml_objective, start, args=(R, k), jac=True,
                                method="L-BFGS-B", bounds=bounds, options=opts)
        return _ml_loadings(sol.x, R, k)
    sol = optimize.minimize(_minres_objective, start, args=(R, k), jac=True,
                            method="L-BFGS-B", bounds=bounds, options=opts)
    return _minres_loadings(sol.x, R, k)


# ----------------------------------------------------------------------------- rotation


def _varimax(L: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """Kaiser's varimax with row normalisation, iterated as R's ``stats::varimax``."""
    sc = np.sqrt(np.sum(L**2, axis=1))
    x = L / sc[:, None]
    p, k = x.shape
    T = np.eye(k)
    d = 0.0
    for _ in range(1000):
        z = x @ T
        B = x.T @ (z**3 - z @ np.diag(np.sum(z**2, axis=0)) / p)
        u, s, vt = np.linalg.svd(B)
        T = u @ vt
        dpast, d = d, float(np.sum(s))
        if d < dpast * (1 + eps):
            break
    return (x @ T) * sc[:, None], T


def _promax(L: np.ndarray, m: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """psych's ``Promax``: a least-squares target x·|x|^(m−1) from the varimax solution."""
    x, _ = _varimax(L)
    Q = x * np.abs(x) ** (m - 1)
    U = np.linalg.lstsq(x, Q, rcond=None)[0]
    d = np.diag(np.linalg.inv(U.T @ U))
    U = U * np.sqrt(d)[None, :]
    z = x @ U
    ui = np.linalg.inv(U)
    # Φ is invariant to the preceding orthogonal (varimax) rotation: ui uiᵀ of U alone
    return z, ui @ ui.T


def _oblimin_criterion(L: np.ndarray) -> tuple[float, np.ndarray]:
    X = (L**2) @ (1.0 - np.eye(L.shape[1]))
    return float(np.sum(L**2 * X) / 4.0), L * X


def _geomin_criterion(L: np.ndarray, delta: float = 0.01) -> tuple[float, np.ndarray]:
    k = L.shape[1]
    L2 = L**2 + delta
    pro = np.exp(np.sum(np.log(L2), axis=1) / k)
    return float(np.sum(pro)), (2.0 / k) * (L / L2) * pro[:, None]


def _gpa_oblique(A: np.ndarray, criterion, eps: float = 1e-5,
                 max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Gradient projection for oblique rotation (Jennrich 2002; GPArotation ``GPFoblq``)."""
    T = np.eye(A.shape[1])
    al = 1.0
    L = A @ np.linalg.inv(T).T
    f, Gq = criterion(L)
    G = -(L.T @ Gq @ np.linalg.inv(T)).T
    for _ in range(max_iter + 1):
        Gp = G - T @ np.diag(np.sum(T * G, axis=0))
        s = np.sqrt(np.sum(Gp**2))
        if s < eps:
            break
        al *= 2.0
        for _ in range(11):
            X = T - al * Gp
            Tt = X / np.sqrt(np.sum(X**2, axis=0))[None, :]
            L = A @ np.linalg.inv(Tt).T
            ft, Gqt = criterion(L)
            if f - ft > 0.5 * s**2 * al:
                break
            al /= 2.0
        T, f = Tt, ft
        G = -(L.T @ Gqt @ np.linalg.inv(Tt)).T
    return L, T.T @ T


def _rotate(L: np.ndarray, rotation: str) -> tuple[np.ndarray, np.ndarray]:
    k = L.shape[1]
    if k < 2 or rotation == "none":
        return L, np.eye(k)
    if rotation == "varimax":
        return _varimax(L)[0], np.eye(k)
    if rotation == "promax":
        # psych's rotate = "promax": Kaiser-normalised rows (psych ``kaiser()``), Promax,
        # rows scaled back
        h = np.sqrt(np.sum(L**2, axis=1))[:, None]
        z, phi = _promax(L / h)
        return z * h, phi
    crit = _oblimin_criterion if rotation == "oblimin" else _geomin_criterion
    return _gpa_oblique(L, crit)


def _sign_and_order(L: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """psych: each column signed to a positive sum, then ordered by diag(Φ ΛᵀΛ)."""
    signs = np.sign(L.sum(axis=0))
    signs[signs == 0] = 1.0
    L = L * signs
    phi = phi * np.outer(signs, signs)
    if L.shape[1] > 1:
        order = np.argsort(-np.diag(phi @ L.T @ L), kind="stable")
        L, phi = L[:, order], phi[np.ix_(order, order)]
    return L, phi


# ----------------------------------------------------------------------------- statistics


def _fit(R: np.ndarray, L: np.ndarray, phi: np.ndarray, n: int) -> pd.Series:
    p, k = L.shape
    model = L @ phi @ L.T
    np.fill_diagonal(model, 1.0)
    mir = np.linalg.solve(model, R)
    obj = float(np.trace(mir) - np.linalg.slogdet(mir)[1] - p)
    dof = p * (p - 1) / 2 - p * k + k * (k - 1) / 2
    nc = (n - 1) - (2 * p + 5) / 6 - 2 * k / 3
    chisq = max(obj * nc, 0.0)
    f0 = float(np.trace(R) - np.linalg.slogdet(R)[1] - p)
    m0, mm = f0 * 2 / (p * (p - 1)), obj / dof if dof > 0 else np.nan
    return pd.Series({
        "chisq": chisq, "df": dof,
        "pvalue": float(special.chdtrc(dof, chisq)) if dof > 0 else np.nan,
        "tli": (m0 - mm) / (m0 - 1 / nc),
        "rmsea": np.sqrt(max(chisq / (dof * n) - 1 / (n - 1), 0.0)) if dof > 0 else np.nan,
        "objective": obj,
        "null_chisq": f0 * ((n - 1) - (2 * p + 5) / 6), "null_df": p * (p - 1) / 2,
    }, name="fit")


def kmo(R: np.ndarray) -> tuple[float, np.ndarray]:
    """Kaiser–Meyer–Olkin measure of sampling adequacy, overall and per item (psych KMO)."""
    Q = np.linalg.inv(R)
    d = 1.0 / np.sqrt(np.diag(Q))
    Q = Q * np.outer(d, d)
    r = R.copy()
    np.fill_diagonal(Q, 0.0)
    np.fill_diagonal(r, 0.0)
    r2, q2 = r**2, Q**2
    return (float(r2.sum() / (r2.sum() + q2.sum())),
            r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0)))


def bartlett_sphericity(R: np.ndarray, n: int) -> dict:
    """Bartlett's (1951) test that R is an identity matrix (psych ``cortest.bartlett``)."""
    p = R.shape[0]
    chisq = -np.linalg.slogdet(R)[1] * ((n - 1) - (2 * p + 5) / 6)
    df = p * (p - 1) / 2
    return {"chisq": float(chisq), "df": df, "pvalue": float(special.chdtrc(df, chisq))}


# ----------------------------------------------------------------------------- entry points


def efa(data: pd.DataFrame, n_factors: int, *, method: str = "ml",
        rotation: str = "oblimin", items=None) -> EFAResult:
    """Exploratory factor analysis of the items in ``data`` (psych ``fa()``'s numbers).

    Args:
        data: one column per item (numeric); ``items`` picks the columns (default: all).
        n_factors: number of factors, at most :func:`max_factors` of the item count.
        method: ``"ml"`` (maximum likelihood, default) or ``"minres"`` (psych's default).
        rotation: ``"oblimin"`` (default, as psych), ``"geomin"`` (oblique), ``"promax"``,
            ``"varimax"`` or ``"none"``.

    Raises:
        SpecError: an unknown method or rotation; a number of factors that is not a
            positive whole number or exceeds what the items identify (the message says
            how many can be extracted).
        DataError: missing or non-numeric columns, constant items, fewer complete rows than
            items, a singular correlation matrix.

    Examples:
        >>> hs = cs.datasets.holzinger_swineford_1939()
        >>> e = cs.efa(hs, 3, items=[f"x{i}" for i in range(1, 10)])
        >>> e.loadings.round(2)
             ML1   ML2   ML3
        x1  0.19  0.60  0.03
        x2  0.04  0.51 -0.12
        x3 -0.07  0.69  0.02
        x4  0.84  0.02  0.01
        x5  0.89 -0.07  0.01
        x6  0.81  0.08 -0.01
        x7  0.04 -0.15  0.72
        x8 -0.03  0.10  0.70
        x9  0.03  0.37  0.46
    """
    if method not in METHODS:
        raise SpecError(f"method={method!r} is not an extraction method; choose one of "
                        f"{METHODS}")
    if rotation not in ROTATIONS:
        raise SpecError(f"rotation={rotation!r} is not available; choose one of {ROTATIONS}")
    x, cols, dropped = _items(data, items)
    n, p = x.shape
    if isinstance(n_factors, bool) or not isinstance(n_factors, (int, np.integer)) or (
            n_factors < 1):
        raise SpecError(f"n_factors={n_factors!r} must be a positive whole number")
    most = max_factors(p)
    if most == 0:
        raise SpecError(f"{p} item(s) identify no factor; an EFA needs at least 3 items")
    if n_factors > most:
        raise SpecError(
            f"{n_factors} factors are not identified from {p} items (df = "
            f"{p * (p - 1) // 2 - p * n_factors + n_factors * (n_factors - 1) // 2} < 0); at "
            f"most {most} factor(s) can be extracted: use n_factors <= {most} or add items")
    if n <= p:
        raise DataError(f"only {n} complete rows for {p} items; an EFA needs more rows than "
                        "items")
    R = np.corrcoef(x, rowvar=False)
    if np.linalg.eigvalsh(R)[0] < 1e-10:
        raise DataError("the item correlation matrix is singular (an item is a combination "
                        "of others, e.g. a sum score); drop the redundant item")
    L0 = _extract(R, int(n_factors), method)
    L, phi = _rotate(L0, rotation)
    L, phi = _sign_and_order(L, phi)
    names = [f"{'ML' if method == 'ml' else 'MR'}{j + 1}" for j in range(L.shape[1])]
    h2 = np.sum(L0**2, axis=1)
    msa, msai = kmo(R)
    notes = ("fit statistics are psych's; with method='minres' they are not likelihood-ratio "
             "tests",) if method == "minres" else ()
    return EFAResult(
        loadings=pd.DataFrame(L, index=cols, columns=names),
        communalities=pd.Series(h2, index=cols, name="h2"),
        uniquenesses=pd.Series(1.0 - h2, index=cols, name="u2"),
        factor_correlations=pd.DataFrame(phi, index=names, columns=names),
        fit=_fit(R, L, phi, n),
        kmo={"msa": msa, "msa_items": pd.Series(msai, index=cols, name="msa")},
        bartlett=bartlett_sphericity(R, n),
        method=method, rotation=rotation, n_obs=n, rows_dropped=dropped, notes=notes,
    )


def parallel_analysis(data: pd.DataFrame, *, n_iter: int = 100, seed: int | None = None,
                      items=None, work_limit: float | None = PARALLEL_WORK_LIMIT
                      ) -> pd.DataFrame:
    """Horn's (1965) parallel analysis as psych's ``fa.parallel`` does it with normal data.

    Returns one row per eigenvalue position with the observed eigenvalues of R
    (``pc_observed``) and of R with the communalities of a one-factor minres solution on the
    diagonal (``fa_observed``, psych's ``fa.values``), and the mean and
    95th percentile of the same eigenvalues of ``n_iter`` normal samples of the data's size
    (``pc_mean``, ``pc_95``, ``fa_mean``, ``fa_95``); ``.attrs["n_components"]`` and
    ``.attrs["n_factors"]`` are psych's suggestions (leading observed eigenvalues above the
    simulated means).  Random: give ``seed`` for the same numbers every time.

    The work is ``n_iter`` samples of the data's size; above ``work_limit`` units (about 10 ns
    each, :data:`~cbec_sem.engine.work_limits.PARALLEL_WORK_LIMIT`, about 1.5 s: 60 items at
    N = 2000 take under 1 s, 252 items about 6 s) the analysis is refused before it starts
    with the ``n_iter`` that fits; ``work_limit=None`` lifts the limit.

    Examples:
        >>> hs = cs.datasets.holzinger_swineford_1939()
        >>> pa = cs.parallel_analysis(hs, n_iter=5, seed=1, items=[f"x{i}" for i in range(1, 10)])
        >>> pa[["pc_observed", "pc_95"]].head(4).round(2)
                  pc_observed  pc_95
        position
        1                3.22   1.35
        2                1.64   1.19
        3                1.37   1.13
        4                0.70   1.09
    """
    n_iter = check_permutations(n_iter, "n_iter", minimum=1)
    rng = np.random.default_rng(check_seed(seed))
    x, cols, _ = _items(data, items)
    n, p = x.shape
    check_parallel_work(p, n, int(n_iter), work_limit)

    def eig(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # factors: R with the communalities of a one-factor minres solution on its diagonal
        # (psych fa.parallel: fa(R, nfactors = 1, fm = "minres")$values)
        Rf = R.copy()
        np.fill_diagonal(Rf, np.sum(_extract(R, 1, "minres", tol=1e-10) ** 2, axis=1))
        return np.linalg.eigvalsh(R)[::-1], np.linalg.eigvalsh(Rf)[::-1]

    pc_obs, fa_obs = eig(np.corrcoef(x, rowvar=False))
    sims = [eig(np.corrcoef(rng.standard_normal((n, p)), rowvar=False))
            for _ in range(int(n_iter))]
    pc_sim = np.array([s[0] for s in sims])
    fa_sim = np.array([s[1] for s in sims])
    out = pd.DataFrame({
        "pc_observed": pc_obs, "pc_mean": pc_sim.mean(axis=0),
        "pc_95": np.quantile(pc_sim, 0.95, axis=0),
        "fa_observed": fa_obs, "fa_mean": fa_sim.mean(axis=0),
        "fa_95": np.quantile(fa_sim, 0.95, axis=0),
    }, index=pd.RangeIndex(1, p + 1, name="position"))

    def leading(obs, ref) -> int:
        above = obs > ref
        return int(np.argmin(above)) if not above.all() else len(above)

    out.attrs["n_components"] = leading(pc_obs, out["pc_mean"].to_numpy())
    out.attrs["n_factors"] = leading(fa_obs, out["fa_mean"].to_numpy())
    return out
