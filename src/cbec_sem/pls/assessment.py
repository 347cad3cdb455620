"""The PLS assessment battery (Hair et al. 2019, EBR 31(1); as seminr's ``summary()``).

Every function takes a :class:`~.estimate.PLSEstimation` and returns a tidy DataFrame.

* :func:`reliability` — Cronbach's α standardised (from item correlations, as seminr and
  SmartPLS report it) and raw (from covariances), ρA (Dijkstra & Henseler 2015), ρC
  ``(Σλ)²/((Σλ)² + Σ(1 − λ²))`` and AVE ``mean(λ²)`` from the (PLSc) loadings (seminr
  ``compute_rhoC``/``compute_AVE``).
* :func:`htmt` — heterotrait-monotrait ratio over ``=~`` constructs from absolute item
  correlations (Henseler, Ringle & Sarstedt 2015, JAMS 43, eq. 6; seminr ``HTMT``), HTMT2 with
  geometric means (Roemer, Schuberth & Henseler 2021, IMDS 121(12)), bootstrap percentile CIs
  and the one-sided test of H0: HTMT ≥ threshold (.85, .90, 1; Franke & Sarstedt 2019).
* :func:`fornell_larcker`, :func:`cross_loadings` — √AVE against construct correlations;
  item-construct correlations (seminr ``fl_criteria_table``, ``cross_loadings``).
* :func:`outer_vif` (1/(1 − R²) of each item on its block's other items; warns above 5 for
  ``<~`` composites), :func:`inner_vif` (of each predictor on the other predictors of an
  equation, from the score correlations as seminr ``antecedent_vifs``).
* :func:`f_squared` — ``(R²_incl − R²_excl)/(1 − R²_incl)``; by default R²_excl from
  *re-estimating* the model without the path (seminr's ``fSquared``), or with
  ``convention="same_scores"`` from regressing on the same scores without the predictor.
* :func:`model_fit` — SRMR, d_ULS, d_G (:mod:`.fit_measures`), with the bootstrap test of
  exact fit (Dijkstra & Henseler 2015; Bollen–Stine transformed data) when asked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SpecError
from .estimate import PLSEstimation, estimate_pls
from .model import PLSModel
from .compute import compute
from .data import item_vifs, warn_collinear_composite
from .fit_measures import distances, implied_batch, implied_correlations
from .stages import item_correlations, resample_counts

__all__ = ["reliability", "htmt", "fornell_larcker", "cross_loadings", "outer_vif",
           "inner_vif", "f_squared", "model_fit"]


def _blocks(est: PLSEstimation) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for con, ind in zip(est.loadings["construct"], est.loadings["indicator"]):
        out.setdefault(con, []).append(ind)
    return out


def _indicator_frame(est: PLSEstimation) -> pd.DataFrame:
    """Every indicator column of the estimate: the items, and HOC dimension scores."""
    items = pd.DataFrame(est.data, columns=list(est.plan.items), index=est.scores.index)
    extra = [c for c in est.scores.columns if c in set(est.loadings["indicator"])]
    return pd.concat([items, est.scores[extra]], axis=1)


def reliability(est: PLSEstimation) -> pd.DataFrame:
    """construct, alpha (standardised), alpha_raw, rhoA, rhoC, AVE per construct."""
    data = _indicator_frame(est)
    load = est.loadings.set_index(["construct", "indicator"])["loading"]
    rows = []
    for con, inds in _blocks(est).items():
        k = len(inds)
        if k > 1:
            R = np.corrcoef(data[inds].to_numpy(), rowvar=False)
            V = np.cov(data[inds].to_numpy(), rowvar=False)
            alpha = k / (k - 1) * (1 - k / R.sum())
            alpha_raw = k / (k - 1) * (1 - np.trace(V) / V.sum())
            lam = load.loc[con].to_numpy()
            rho_c = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
            ave = (lam**2).mean()
        else:
            alpha = alpha_raw = rho_c = ave = 1.0
        rows.append((con, alpha, alpha_raw, float(est.rho_a[con]), rho_c, ave))
    return pd.DataFrame(rows, columns=["construct", "alpha", "alpha_raw", "rhoA", "rhoC",
                                       "AVE"])


def _htmt_from(R: np.ndarray, blocks: list[np.ndarray], geometric: bool) -> np.ndarray:
    """(B, k, k) HTMT (upper triangle) from (B, p, p) item correlations."""
    A = np.abs(R)
    B, k = R.shape[0], len(blocks)
    out = np.full((B, k, k), np.nan)
    mean = (lambda x, axis: np.exp(np.log(x).mean(axis=axis))) if geometric else \
        (lambda x, axis: x.mean(axis=axis))
    mono = []
    for b in blocks:
        if b.size < 2:
            mono.append(np.ones(B))
            continue
        iu = np.triu_indices(b.size, 1)
        mono.append(mean(A[:, b[:, None], b[None, :]][:, iu[0], iu[1]], 1))
    for i in range(k):
        for j in range(i + 1, k):
            hetero = mean(A[:, blocks[i][:, None], blocks[j][None, :]].reshape(B, -1), 1)
            out[:, i, j] = hetero / np.sqrt(mono[i] * mono[j])
    return out


def htmt(est: PLSEstimation, *, bootstrap: int = 0, seed=None, level: float = 0.95,
         thresholds: tuple[float, ...] = (0.85, 0.90, 1.0)) -> pd.DataFrame:
    """HTMT and HTMT2 for each pair of ``=~`` constructs, optionally with bootstrap tests.

    With ``bootstrap=B`` the items are resampled B times (rows drawn with a Generator seeded
    by ``seed``) and the table gains percentile CIs (two-sided, ``level``), the one-sided
    upper limit (the ``level`` quantile) and, per threshold c, ``p_below_c`` = share of
    draws with HTMT ≥ c (the bootstrap p-value of H0: HTMT ≥ c) and ``below_c`` (upper limit
    < c, i.e. discriminant validity established at 1 − level).
    """
    data = _indicator_frame(est)
    modes = {c.name: c.mode for c in est.model.constructs}
    blocks = {c: i for c, i in _blocks(est).items() if modes.get(c) == "A"}
    names = list(blocks)
    cols = list(dict.fromkeys(i for inds in blocks.values() for i in inds))
    pos = {c: j for j, c in enumerate(cols)}
    idx = [np.array([pos[i] for i in blocks[n]]) for n in names]
    X = data[cols].to_numpy()
    R = np.corrcoef(X, rowvar=False)[None]
    h1 = _htmt_from(R, idx, False)[0]
    h2 = _htmt_from(R, idx, True)[0]
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    table = pd.DataFrame({"construct1": [names[i] for i, _ in pairs],
                          "construct2": [names[j] for _, j in pairs],
                          "htmt": [h1[i, j] for i, j in pairs],
                          "htmt2": [h2[i, j] for i, j in pairs]})
    if bootstrap:
        n = X.shape[0]
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        rows = rng.integers(0, n, size=(int(bootstrap), n))
        draws = []
        for start in range(0, len(rows), 2000):
            r = rows[start:start + 2000]
            draws.append(_htmt_from(item_correlations(X, resample_counts(r, n)), idx, False))
        D = np.concatenate(draws)
        vals = np.stack([D[:, i, j] for i, j in pairs], axis=1)
        a = (1 - level) / 2
        table["ci.lower"] = np.nanquantile(vals, a, axis=0)
        table["ci.upper"] = np.nanquantile(vals, 1 - a, axis=0)
        table["upper.one_sided"] = np.nanquantile(vals, level, axis=0)
        for c in thresholds:
            table[f"p_below_{c:g}"] = (vals >= c).mean(axis=0)
            table[f"below_{c:g}"] = table["upper.one_sided"] < c
    return table


def fornell_larcker(est: PLSEstimation) -> pd.DataFrame:
    """Construct correlations (lower triangle) with √AVE on the diagonal (seminr's layout)."""
    ave = reliability(est).set_index("construct")["AVE"]
    names = [n for n in est.scores.columns if n in ave.index]
    table = est.scores[names].corr()
    table = table.where(np.tril(np.ones(table.shape, dtype=bool), -1))
    for n in names:
        table.loc[n, n] = np.sqrt(ave[n])
    return table


def cross_loadings(est: PLSEstimation) -> pd.DataFrame:
    """Correlation of every indicator with every construct score (items x constructs)."""
    data = _indicator_frame(est)
    inds = list(dict.fromkeys(est.loadings["indicator"]))
    both = pd.concat([data[inds], est.scores], axis=1)
    return both.corr().loc[inds, list(est.scores.columns)]


def outer_vif(est: PLSEstimation, *, threshold: float = 5.0) -> pd.DataFrame:
    """construct, indicator, vif; warns (DataWarning) for ``<~`` indicators above ``threshold``."""
    data = _indicator_frame(est)
    modes = {c.name: c.mode for c in est.model.constructs}
    rows = []
    for con, inds in _blocks(est).items():
        if len(inds) == 1:
            rows.append((con, inds[0], 1.0))
            continue
        v = item_vifs(data[inds].to_numpy())
        rows += [(con, i, float(x)) for i, x in zip(inds, v)]
        warn_collinear_composite(con, inds, v, modes.get(con, "A"), threshold)
    return pd.DataFrame(rows, columns=["construct", "indicator", "vif"])


def inner_vif(est: PLSEstimation) -> pd.DataFrame:
    """outcome, predictor, vif for every structural equation (1 for a single predictor)."""
    C = est.computed.main.C[0]
    names = list(est.computed.main.stage.names)
    adj = est.computed.main.stage.blocks.adjacency
    rows = []
    for j, outcome in enumerate(names):
        pred = np.flatnonzero(adj[:, j])
        if not pred.size:
            continue
        v = np.diag(np.linalg.inv(C[np.ix_(pred, pred)])) if pred.size > 1 else [1.0]
        rows += [(outcome, names[i], float(x)) for i, x in zip(pred, v)]
    return pd.DataFrame(rows, columns=["outcome", "predictor", "vif"])


def _without(model: PLSModel, target: str, source: str) -> PLSModel:
    """The model without one path, keeping only constructs that still have paths."""
    paths = tuple(p for p in model.paths if p != (target, source))
    used = {n for t, s in paths for n in (t, *s.split(":"))}
    hoc_dims = {d for c in model.higher_order if c.name in used for d in c.indicators}
    keep = tuple(c for c in model.constructs if c.name in used | hoc_dims)
    return PLSModel(keep, paths, {}, {})


def f_squared(est: PLSEstimation, *, convention: str = "reestimate") -> pd.DataFrame:
    """outcome, predictor, f2 for every path (interaction components: NaN, as seminr)."""
    if convention not in ("reestimate", "same_scores"):
        raise SpecError(f"convention must be 'reestimate' or 'same_scores', not {convention!r}")
    r2 = est.r2.set_index("construct")["r2"]
    C = est.construct_correlations.to_numpy()
    names = list(est.construct_correlations.index)
    data = pd.DataFrame(est.data, columns=list(est.plan.items))
    opts = {k: est.options[k] for k in ("scheme", "max_iter", "tol", "method", "hoc",
                                        "interaction")}
    rows = []
    comps = {t: {p for s in [s for tt, s in est.model.paths if tt == t and ":" in s]
                 for p in s.split(":")} for t, _ in est.model.paths}
    for target, source in est.model.paths:
        incl = float(r2[target])
        if source in comps[target]:
            rows.append((target, source, np.nan))
            continue
        others = [s for t, s in est.model.paths if t == target and s != source]
        if not others:
            excl = 0.0
        elif convention == "same_scores":
            i = [names.index(s) for s in others]
            j = names.index(target)
            cxy = C[i, j]
            excl = float(cxy @ np.linalg.solve(C[np.ix_(i, i)], cxy))
        elif len(est.model.constructs) == 2:
            excl = 0.0
        else:
            again = estimate_pls(_without(est.model, target, source), data, **opts)
            excl = float(again.r2.set_index("construct")["r2"][target])
        rows.append((target, source, (incl - excl) / (1 - incl)))
    return pd.DataFrame(rows, columns=["outcome", "predictor", "f2"])


def model_fit(est: PLSEstimation, *, bootstrap: int = 0, seed=None) -> pd.DataFrame:
    """measure, value: SRMR, d_ULS, d_G of the saturated model (see :mod:`.fit_measures`).

    With ``bootstrap=B``, the bootstrap test of exact fit (Dijkstra & Henseler 2015, CSDA 81;
    as cSEM's ``testOMF``): the standardised items are transformed so that their correlation
    matrix equals the model-implied one (Bollen & Stine 1992: ``Z S^{-1/2} Σ^{1/2}``), B
    resamples of them are estimated, and the table gains the 95 % and 99 % quantiles of each
    distance (``HI95``, ``HI99``) and ``p`` = share of resampled distances ≥ the observed one.
    Single-stage models without interactions only.
    """
    table = est.fit_measures.rename("value").rename_axis("measure").reset_index()
    if not bootstrap:
        return table
    st = est.plan.main
    if est.plan.first is not None or any(st.interaction) or len(set(st.indicator_names)) \
            != len(st.indicator_names):
        raise SpecError("the bootstrap fit test is implemented for single-stage models "
                        "without interactions or repeated indicators")
    S, Sigma = implied_correlations(est)
    cols = np.array([ref for _, ref in st.sources])
    X = est.data[:, cols]
    Z = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)

    def root(M, power):
        vals, vecs = np.linalg.eigh(M)
        return (vecs * vals**power) @ vecs.T

    Zs = Z @ root(S, -0.5) @ root(Sigma, 0.5)
    items = np.empty_like(Zs)
    items[:, cols] = Zs            # back to the order of the data columns
    n = Zs.shape[0]
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    rows = rng.integers(0, n, size=(int(bootstrap), n))
    opts = {k: est.options[k] for k in ("scheme", "max_iter", "tol")}
    out = []
    for start in range(0, len(rows), 2000):
        r = rows[start:start + 2000]
        Sb = item_correlations(items, resample_counts(r, n))
        c = compute(est.plan, method=est.method, S_items=Sb, n=n, **opts)
        d = distances(*implied_batch(c, st))
        d[~(c.valid & c.converged)] = np.nan
        out.append(d)
    D = np.concatenate(out)
    table["HI95"] = np.nanquantile(D, 0.95, axis=0)
    table["HI99"] = np.nanquantile(D, 0.99, axis=0)
    table["p"] = (D >= table["value"].to_numpy()).sum(axis=0) / np.isfinite(D).sum(axis=0)
    table["failed"] = int(np.isnan(D).any(axis=1).sum())
    return table
