"""Batched nonparametric bootstrap of a PLS/PLSc estimate.

All resampling indices are drawn up front from one ``numpy.random.Generator``
(``integers(0, N, size=(B, N))``), and draws are then estimated in chunks by the batched
algorithm (every draw of a chunk iterates at once; :mod:`.algorithm`), so the result is
identical for any chunk size.  Each draw is estimated exactly as the original (re-standardised,
same scheme, stopping rule, two stages, PLSc), with no sign correction by default (seminr's
and the DESIGN's); cSEM's individual and construct-level sign changes are options.

A draw fails when its weights do not converge, a resampled item is constant, or (PLSc) a ρA
leaves (0, 1]; failed draws are counted and excluded, never silently dropped.

Intervals: percentile (quantiles of the draws, R's type 7 as seminr), BCa (Efron 1987,
JASA 82: bias correction from the share of draws below the estimate, acceleration from the
leave-one-out jackknife) and, with ``second_level=R2``, the studentised bootstrap-t interval
(cSEM ``infer()`` ``"CI_t_interval"``, helper ``TStatCIResample``; Davison & Hinkley 1997,
eq. 5.7; Hesterberg 2015, Am. Stat. 69(4), p. 381): each draw b gets its own standard error
SE*_b from R2 second-level resamples of its rows (bootstrap: their SD; jackknife: the
jackknife SE √((n−1)/n Σ(θ_(i) − θ̄)²), cSEM's ``.resample_method2``), t*_b = (θ*_b − θ̂)/SE*_b,
and the interval is [θ̃ − q_{1−α/2}(t*) SE, θ̃ − q_{α/2}(t*) SE] with SE the SD of the
draws, q type-7 quantiles and θ̃ = θ̂, or 2θ̂ − mean(θ*) with ``t_bias_corrected=True``
(cSEM ``infer(.bias_corrected = TRUE)``, its default).  ``se`` is the standard deviation of the draws (N−1), ``z`` =
est/se and ``pvalue`` the two-sided normal p-value (seminr reports est/SD as a t value).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special  # ndtr/ndtri: the normal cdf and quantile (scipy.stats.norm's)

from ..errors import SpecError, ParameterNotFoundError
from ..validation import MAX_PERMUTATIONS, check_count, check_level, check_seed, check_size
from ..protocol import Block, Summary
from .compute import Computed, compute
from .effects import route_effects, specific_routes, total_effects
from .estimate import PLSEstimation, measurement_rows, param_matrix
from .stages import item_correlations, needs_data, resample_counts

__all__ = ["PLSBootstrap", "bootstrap_pls", "statistics", "studentized_interval", "second_level_se"]

_CHUNK_BYTES = 40_000_000


def bootstrap_layout(est: PLSEstimation) -> tuple[list[tuple[str, str, str]], list[tuple[int, ...]]]:
    c = est.computed
    keys, _ = param_matrix(c, est.model)
    keys = [(*k, "param") for k in keys]
    keys += [(lhs, "weight", rhs, "weight") for lhs, _, rhs, _, _ in
             measurement_rows(c, est.model)]
    names = c.main.stage.names
    routes = specific_routes(c.main.stage.blocks.adjacency)
    pairs = sorted({(r[0], r[-1]) for r in routes})
    keys += [(names[j], "indirect", names[i], "total_indirect") for i, j in pairs]
    keys += [(names[r[-1]], "specific", " -> ".join(names[x] for x in r), "specific")
             for r in routes]
    return keys, routes


def statistics(c: Computed, est: PLSEstimation, routes) -> np.ndarray:
    """(B, m) values of every bootstrapped quantity, in :func:`bootstrap_layout` order."""
    _, params = param_matrix(c, est.model)
    w = np.stack([c.weights[stage][:, col] for *_, stage, col in
                  measurement_rows(c, est.model)], axis=1)
    T = total_effects(c.beta)
    pairs = sorted({(r[0], r[-1]) for r in routes})
    ind = np.stack([T[:, i, j] - c.beta[:, i, j] for i, j in pairs], axis=1) if pairs else \
        np.empty((params.shape[0], 0))
    spec = route_effects(c.beta, routes)
    return np.concatenate([params, w, ind, spec], axis=1)


SIGN_CHANGES = ("none", "individual", "construct")
INTERVALS = ("percentile", "bca", "studentized")


def _construct_reversal(c: Computed, ref: Computed) -> Computed:
    """Flip each construct of each draw whose loadings point away from the original's.

    Construct-level sign change (Tenenhaus et al. 2005, CSDA 48(1); cSEM
    ``construct_reversal``): construct j of a draw is reversed when
    ``|Σ(λ_orig − λ*)| > |Σ(λ_orig + λ*)|`` over its indicators; its weights and loadings change
    sign, and so does every path with exactly one reversed end.
    """
    st = c.main.stage
    lam, lam0 = c.loadings["main"], ref.loadings["main"][0]
    s = np.ones((lam.shape[0], st.blocks.k))
    for j in range(st.blocks.k):
        idx = st.blocks.members(j)
        away = np.abs((lam0[idx] - lam[:, idx]).sum(axis=1))
        toward = np.abs((lam0[idx] + lam[:, idx]).sum(axis=1))
        s[away > toward, j] = -1.0
    per_col = s[:, st.blocks.construct_of]
    return dataclasses.replace(
        c, weights={"main": c.weights["main"] * per_col},
        loadings={"main": c.loadings["main"] * per_col},
        beta=c.beta * s[:, :, None] * s[:, None, :])


def run_draws(est: PLSEstimation, idx: np.ndarray, routes, chunk: int, sign_change: str = "none",
         point: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    X = est.data
    opts = {k: est.options[k] for k in ("scheme", "max_iter", "tol")}
    out, ok = [], []
    n = X.shape[0]
    moments = not needs_data(est.plan)
    for start in range(0, idx.shape[0], chunk):
        rows = idx[start:start + chunk]
        if moments:
            S = item_correlations(X, resample_counts(rows, n))
            c = compute(est.plan, method=est.method, S_items=S, n=rows.shape[1], **opts)
        else:
            c = compute(est.plan, X[rows], method=est.method, **opts)
        if sign_change == "construct":
            c = _construct_reversal(c, est.computed)
        vals = statistics(c, est, routes)
        if sign_change == "individual":  # each quantity takes the original's sign (cSEM)
            vals = np.abs(vals) * np.sign(point)
        out.append(vals)
        ok.append(c.valid & c.converged & np.isfinite(vals).all(axis=1))
    return np.concatenate(out), np.concatenate(ok)


@dataclass(frozen=True, repr=False)
class PLSBootstrap:
    """Bootstrap draws of a PLS estimate and the tables made from them.

    Attributes:
        estimate: the original :class:`PLSEstimation`.
        params: its params with se, z, pvalue, ci.lower, ci.upper filled in.
        table: every bootstrapped quantity (params, weights, total indirect and specific
            indirect effects) with est, boot mean, se, z, pvalue, percentile and BCa limits
            and, with ``second_level``, the studentised limits ``t.lower``/``t.upper``.
        draws: (B, m) values of every draw (failed draws are NaN rows).
        failed: number of failed draws (excluded).
        draw_se: (B, m) second-level SEs of the draws (``second_level``), else None.
        level, seed.

    Examples:
        >>> est = cs.estimate_pls("TA =~ ta1 + ta2 + ta3 + ta4; FA =~ fa1 + fa2 + fa3 + fa4; FA ~ TA",
        ...                       cs.datasets.example_survey())
        >>> boot = cs.bootstrap_pls(est, 100, seed=1)
        >>> isinstance(boot, cs.PLSBootstrap), boot.failed
        (True, 0)
        >>> boot.draws.shape
        (100, 17)
    """

    estimate: PLSEstimation
    params: pd.DataFrame
    table: pd.DataFrame
    draws: np.ndarray
    failed: int
    level: float
    interval: str
    seed: object
    #: (B, m) second-level SE of each draw (studentised interval), else None
    draw_se: np.ndarray | None = None

    @property
    def draws_count(self) -> int:
        return int(len(self.draws))

    def draws_of(self, lhs: str, op: str, rhs: str, group: int = 1) -> np.ndarray:
        """The successful draws of one parameter row (``group`` is always 1 in PLS)."""
        t = self.table
        hit = np.flatnonzero(((t["kind"] == "param") & (t["lhs"] == lhs) & (t["op"] == op)
                              & (t["rhs"] == rhs)).to_numpy())
        if not hit.size:
            raise ParameterNotFoundError(f"no bootstrapped parameter {lhs} {op} {rhs}; "
                                         "see the bootstrap's table for the parameters")
        column = self.draws[:, hit[0]]
        return column[np.isfinite(column)]

    def parameter_vcov(self, params: pd.DataFrame) -> np.ndarray:
        """Covariance of the draws of ``params``' rows (``:=`` rows excluded), in order."""
        t = self.table
        key = {(a, o, b): k for k, (a, o, b, kind) in enumerate(zip(
            t["lhs"], t["op"], t["rhs"], t["kind"])) if kind == "param"}
        rows = params[params["op"] != ":="]
        cols = [key[(a, o, b)] for a, o, b in zip(rows["lhs"], rows["op"], rows["rhs"])]
        draws = self.draws[:, cols]
        draws = draws[np.all(np.isfinite(draws), axis=1)]
        return np.atleast_2d(np.cov(draws, rowvar=False))

    def message(self) -> str:
        return (f"{len(self.draws)} PLS bootstrap draws (seed {self.seed}): "
                f"{len(self.draws) - self.failed} used, {self.failed} failed")

    @property
    def refused(self) -> bool:
        return False

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        return Summary(title=f"PLS bootstrap: {len(self.draws)} draws, {self.failed} failed",
                       blocks=(Block("Bootstrapped quantities", self.table),),
                       notes=(f"{self.level:.0%} {self.interval} intervals in params; "
                              "percentile and BCa (and studentised, when computed) in the "
                              "table",))

    def __repr__(self) -> str:
        return (f"<PLSBootstrap {len(self.draws)} draws ({self.failed} failed), "
                f"{self.level:.0%} {self.interval} intervals>")


def _bca(draws: np.ndarray, est: np.ndarray, jack: np.ndarray, level: float
         ) -> tuple[np.ndarray, np.ndarray]:
    """BCa limits (Efron 1987) per column; NaN where undefined."""
    alpha = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        prop = (draws < est).mean(axis=0)
        z0 = special.ndtri(prop)
        d = jack.mean(axis=0) - jack
        acc = (d**3).sum(axis=0) / (6 * ((d**2).sum(axis=0)) ** 1.5)
        out = []
        for za in (special.ndtri(alpha), special.ndtri(1 - alpha)):
            q = special.ndtr(z0 + (z0 + za) / (1 - acc * (z0 + za)))
            lim = np.array([np.quantile(draws[:, j], q[j]) if np.isfinite(q[j]) else np.nan
                            for j in range(draws.shape[1])])
            out.append(lim)
    return out[0], out[1]


SECOND_LEVEL = ("bootstrap", "jackknife")


def second_level_se(est: PLSEstimation, indices: np.ndarray, routes, chunk: int,
                    sign_change: str, point: np.ndarray, draws2: int, method: str,
                    rng: np.random.Generator) -> np.ndarray:
    """(B, m) standard error of every bootstrapped quantity within each first-level draw.

    Second-level resamples are resamples of the draw's rows: ``method="bootstrap"`` draws
    ``rng.integers(0, N, (draws2, N))`` positions for each first-level draw in turn (draw 0
    first) and takes the SD (N−1) of the estimates; ``"jackknife"`` leaves out each position
    once and takes the jackknife SE, SD · (N−1)/√N (cSEM ``SdResample``).  Failed
    second-level draws are excluded; fewer than two successful ones give NaN.
    """
    B, n = indices.shape
    loo = np.array([np.delete(np.arange(n), i) for i in range(n)]) if method == "jackknife" \
        else None
    per = n if method == "jackknife" else int(draws2)
    group = max(1, chunk // per)
    out = np.full((B, len(point)), np.nan)
    for start in range(0, B, group):
        rows = indices[start:start + group]
        idx2 = np.concatenate([r[loo if loo is not None else rng.integers(0, n, size=(per, n))]
                               for r in rows])
        vals, ok = run_draws(est, idx2, routes, chunk, sign_change, point)
        vals[~ok] = np.nan
        vals = vals.reshape(len(rows), per, -1)
        count = np.isfinite(vals).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(np.nansum((vals - np.nanmean(vals, axis=1, keepdims=True)) ** 2,
                                   axis=1) / (count - 1))
        sd[count < 2] = np.nan
        if method == "jackknife":
            sd = sd * (n - 1) / np.sqrt(n)
        out[start:start + len(rows)] = sd
    return out


def studentized_interval(point: np.ndarray, draws: np.ndarray, draw_se: np.ndarray,
                         level: float, bias_corrected: bool = False
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap-t limits per column (see the module docstring; cSEM ``TStatCIResample``).

    ``draws`` (B, m) first-level estimates and ``draw_se`` (B, m) their second-level SEs;
    rows with a non-finite value or SE are left out column by column.
    """
    alpha = (1 - level) / 2
    lo, hi = np.full(point.shape, np.nan), np.full(point.shape, np.nan)
    for j in range(draws.shape[1]):
        d, sej = draws[:, j], draw_se[:, j]
        keep = np.isfinite(d) & np.isfinite(sej) & (sej > 0)
        if keep.sum() < 2:
            continue
        se = d[np.isfinite(d)].std(ddof=1)
        t = (d[keep] - point[j]) / sej[keep]
        centre = 2 * point[j] - d[np.isfinite(d)].mean() if bias_corrected else point[j]
        q_lo, q_hi = np.quantile(t, [alpha, 1 - alpha])
        lo[j], hi[j] = centre - q_hi * se, centre - q_lo * se
    return lo, hi


def bootstrap_pls(
    est: PLSEstimation,
    draws: int = 5000,
    *,
    seed: int | np.random.Generator | None = None,
    level: float = 0.95,
    interval: str = "percentile",
    sign_change: str = "none",
    chunk: int | None = None,
    indices: np.ndarray | None = None,
    second_level: int = 0,
    second_method: str = "bootstrap",
    t_bias_corrected: bool = False,
) -> PLSBootstrap:
    """Bootstrap ``est`` with ``draws`` resamples (see the module docstring).

    Args:
        est: a :class:`PLSEstimation`.
        draws: number of resamples B (ignored when ``indices`` is given).
        seed: seed or Generator for ``integers(0, N, size=(B, N))``.
        level: confidence level of the intervals.
        interval: which interval fills ``params``' ci columns: "percentile" or "bca".
        sign_change: "none" (default, as seminr), "individual" (every bootstrapped
            quantity takes the sign of its estimate) or "construct" (construct reversal,
            Tenenhaus et al. 2005), as cSEM's ``.sign_change_option``.
        chunk: draws estimated at once (default: as many as fit in about 40 MB).
        indices: (B, N) resampling row indices to replay (e.g. another program's draws).
        second_level: R2 > 0 adds the studentised (bootstrap-t) interval, with R2
            second-level bootstrap resamples per draw (cSEM's ``.R2``, default 199 there;
            the cost is B·R2 estimates).  With ``second_method="jackknife"`` any positive
            value asks for the N leave-one-out estimates per draw instead.
        second_method: "bootstrap" or "jackknife" (cSEM's ``.resample_method2``).
        t_bias_corrected: centre the studentised interval at 2θ̂ − mean(θ*) (cSEM
            ``infer()``'s default ``.bias_corrected = TRUE``) instead of θ̂.

    Raises:
        SpecError: an unknown interval or sign-change option, or ``interval="studentized"``
            without ``second_level``.

    Examples:
        >>> est = cs.estimate_pls("TA =~ ta1 + ta2 + ta3 + ta4; FA =~ fa1 + fa2 + fa3 + fa4; FA ~ TA",
        ...                       cs.datasets.example_survey())
        >>> boot = cs.bootstrap_pls(est, 100, seed=1)
        >>> boot.params[["lhs", "op", "rhs", "est", "ci.lower", "ci.upper"]].tail(1).round(3)
          lhs op rhs    est  ci.lower  ci.upper
        8  FA  ~  TA  0.381     0.304     0.468
    """
    draws = check_count(draws, "draws", minimum=1, maximum=MAX_PERMUTATIONS)
    seed = check_seed(seed)
    level = check_level(level)
    if chunk is not None:
        chunk = check_count(chunk, "chunk", minimum=1)
    if interval not in INTERVALS:
        raise SpecError(f"interval must be one of {INTERVALS}, not {interval!r}")
    if second_method not in SECOND_LEVEL:
        raise SpecError(f"second_method must be one of {SECOND_LEVEL}, not {second_method!r}")
    if not (isinstance(second_level, (int, np.integer)) and second_level >= 0):
        raise SpecError(f"second_level must be a non-negative integer, not {second_level!r}")
    # every draw's second-level resamples are N row numbers each: refuse what cannot fit
    check_size(second_level, "second_level", cells_per_unit=est.n, minimum=0,
               what="resamples per draw")
    if interval == "studentized" and not second_level:
        raise SpecError("interval='studentized' needs second-level resamples: pass "
                        "second_level=R2 (e.g. 199, as cSEM's .R2)")
    if sign_change not in SIGN_CHANGES:
        raise SpecError(f"sign_change must be one of {SIGN_CHANGES}, not {sign_change!r}")
    if sign_change == "construct" and (est.plan.first is not None
                                       or any(est.plan.main.interaction)):
        raise SpecError("construct-level sign change is implemented for single-stage models "
                        "without interactions; use sign_change='none' or 'individual'")
    if not 0 < level < 1:
        raise SpecError(f"level must be in (0, 1), not {level!r}")
    n = est.n
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if indices is None:
        indices = rng.integers(0, n, size=(int(draws), n))
    indices = np.asarray(indices, dtype=np.intp)
    if indices.ndim != 2 or indices.shape[1] != n or indices.min() < 0 or indices.max() >= n:
        raise SpecError(f"indices must be a (B, {n}) array of row numbers 0..{n - 1}")
    if chunk is None:  # about 40 MB of working arrays per chunk
        p = est.data.shape[1]
        per_draw = 8 * (n * p * 3 if needs_data(est.plan) else n + 6 * p * p)
        chunk = max(1, _CHUNK_BYTES // per_draw)
    keys, routes = bootstrap_layout(est)
    point = statistics(est.computed, est, routes)[0]
    values, ok = run_draws(est, indices, routes, int(chunk), sign_change, point)
    values[~ok] = np.nan
    good = values[ok]
    se = good.std(axis=0, ddof=1) if len(good) > 1 else np.full(point.shape, np.nan)
    alpha = (1 - level) / 2
    lo, hi = (np.quantile(good, [alpha, 1 - alpha], axis=0) if len(good)
              else (np.full(point.shape, np.nan),) * 2)
    loo = np.array([np.delete(np.arange(n), i) for i in range(n)])
    jack, jok = run_draws(est, loo, routes, int(chunk), sign_change, point)
    bca_lo, bca_hi = _bca(good, point, jack[jok], level)
    draw_se = None
    if second_level:
        draw_se = second_level_se(est, indices, routes, int(chunk), sign_change, point,
                                  int(second_level), second_method, rng)
        draw_se[~ok] = np.nan
        t_lo, t_hi = studentized_interval(point, values, draw_se, level, t_bias_corrected)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = point / se
    table = pd.DataFrame(keys, columns=["lhs", "op", "rhs", "kind"])
    table["est"] = point
    table["boot.mean"] = good.mean(axis=0) if len(good) else np.nan
    table["se"] = se
    table["z"] = z
    table["pvalue"] = 2 * special.ndtr(-np.abs(z))
    table["ci.lower"], table["ci.upper"] = lo, hi
    table["bca.lower"], table["bca.upper"] = bca_lo, bca_hi
    if draw_se is not None:
        table["t.lower"], table["t.upper"] = t_lo, t_hi
    params = est.params.copy()
    m = len(params)
    sub = table.iloc[:m]
    params["se"] = sub["se"].to_numpy()
    params["z"] = sub["z"].to_numpy()
    params["pvalue"] = sub["pvalue"].to_numpy()
    cols = {"percentile": ("ci.lower", "ci.upper"), "bca": ("bca.lower", "bca.upper"),
            "studentized": ("t.lower", "t.upper")}[interval]
    params["ci.lower"], params["ci.upper"] = sub[cols[0]].to_numpy(), sub[cols[1]].to_numpy()
    return PLSBootstrap(est, params, table, values, int((~ok).sum()), level, interval, seed,
                        draw_se)
