"""Necessary condition analysis (NCA): ceilings, effect sizes, permutation test, bottlenecks.

A condition X is *necessary* for an outcome Y when high Y does not occur without high X: the
upper-left corner of the X–Y scatter is empty.  NCA (Dul 2016, *Organizational Research
Methods* 19(1), 10–52) draws a *ceiling line* on top of the data and measures the empty
*ceiling zone* above it; the effect size is d = ceiling zone / scope, where the scope is the
rectangle of possible values (by default the empirical one: min/max of X and of Y).

Ceilings (Dul 2016, section "Ceiling techniques"):

* ``ce_fdh`` — ceiling envelopment with free disposal hull: the non-decreasing step function
  c(x) = max{yᵢ : xᵢ ≤ x}.  Its upper-left corner points are the *peers*: the observations
  with no other observation at a lower-or-equal X and a higher Y, or at a lower X and an
  equal Y.  Every observation at a corner point is a peer (as in NCA), so a corner point
  observed twice weighs twice in the CR-FDH regression.  Left of the smallest X of the data
  (possible only with a theoretical scope) the ceiling lies on the bottom of the scope.
* ``cr_fdh`` — ceiling regression on the free disposal hull: the OLS line through the peers,
  clipped to the scope.  Some observations may lie above it: by more than 1e-7 (NCA's
  tolerance) counts as above.  A single corner point (the highest observation has the
  lowest X) gives no line: slope and intercept are NaN and d = 0, as in NCA.

*Accuracy* (NCA's c-accuracy) is the percentage of observations on or below the ceiling.
*Fit* = 100 − 100 · |d − d(ce_fdh)| / d(ce_fdh), defined (as in NCA) only for a ceiling zone
no larger than CE-FDH's, where it is 100 · d / d(ce_fdh); NaN otherwise.  *Condition
inefficiency* = the percentage of the X range right of the point where the ceiling reaches its
top (CE-FDH: its last corner point); *outcome inefficiency* = the percentage of the Y range
below the ceiling at the left edge of the scope (CE-FDH: its first corner point); *absolute
inefficiency* = the area of the union of the two inefficient bands, *relative inefficiency* =
that area as a percentage of the scope.  They are NaN for a single corner point and, for
CR-FDH, when the slope is ≤ 0.001 (NCA's rule).

Permutation test (Dul, van der Laan & Kuik 2020, *ORM* 23(2), 385–395): the null hypothesis
is that X and Y are unrelated; the outcome is randomly permuted against the fixed condition
``permutations`` times and d recomputed for every ceiling.  With k the number of permuted
d ≥ the observed d (up to 1e-10, so that exact ties count despite rounding),

    p = max((k + 1) / (permutations + 1), 1 / permutations),
    p accuracy = z₀.₉₇₅ · sqrt(p (1 − p) / permutations),

which is what NCA 5.0.1 reports as ``p_value`` and ``p_accuracy`` (the "+1" counts the
observed sample as one of the permutations; the floor 1/permutations is NCA's).  The
permuted samples are computed in batches: X is sorted once, the outcome matrix
(batch × N) is permuted row-wise, the step ceilings of all rows come from one 2-D running
maximum, and the CR-FDH peers and regressions are masked row sums on it.

Bottlenecks (NCA's bottleneck table): for outcome levels 0, 1/steps, …, 100 % of the scope's
Y range, the level of each condition the ceiling requires, in percent of the scope's X range
or in actual units.  "NN" (not necessary) where the required level is at or below the scope's
minimum of X; "NA" where the outcome level cannot be reached within the scope (a ceiling that
stays below it up to the maximum of X).  The numeric form writes NN as −∞ and NA as NaN (as
NCA stores them).

``corner`` (NCA's corner numbering): 1 = the upper-left corner is empty (X necessary for Y,
the default), 2 = upper-right (the absence of X is necessary for Y), 3 = lower-left (X is
necessary for the absence of Y), 4 = lower-right.  Corners 2–4 are analysed by mirroring X
and/or Y; slopes and intercepts are reported in the original units.  Bottleneck tables are
defined for corner 1 only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd

from ..protocol import Block, ResultProtocol, Summary
from ..measurement.scores import factor_scores
from ..errors import CbecSemWarning, ConvergenceWarning, DataError, SpecError
from ..errors import warn
from ..validation import check_permutations, check_seed, suggest
from .necessity_plot import plot_nca
from .necessity_records import ce_fdh_null, cr_fdh_exact, records_null
from .necessity_tables import group_maxima_batches, tables_worthwhile
from ..survey.fit_checks import as_frame

__all__ = ["nca", "NCAResult", "CEILINGS"]

#: The ceilings this module computes.
CEILINGS = ("ce_fdh", "cr_fdh")

#: Elements of one batch of permuted samples (batch × N): 2 MB of float64 per array, which
#: keeps the batch in cache (larger batches were not faster on 2 cores).
_BATCH_ELEMENTS = 1 << 18

#: Permuted d within this of the observed d counts as "at least as large".
TIE_TOL = 1e-10

#: Above this many cases × permutations (about 2 s of shuffling on a 2-core machine, tens of
#: nanoseconds per element) a CR-FDH permutation test draws its null through records or
#: contingency tables (:func:`_permutation_d`), and warns before it starts when neither is
#: exact and cheap (issue 14).
SLOW_SHUFFLES = 25_000_000

#: An observation counts as above a ceiling line when it exceeds it by more than this (NCA's
#: absolute tolerance), and a required condition level this close to the minimum is NN.
_ABOVE_TOL = 1e-7
_EDGE_TOL = 1e-10

Z975 = NormalDist().inv_cdf(0.975)

EFFECT_COLUMNS = [
    "condition", "ceiling", "d", "ceiling_zone", "scope", "accuracy", "c_accuracy", "n_above",
    "fit", "slope", "intercept", "cond_ineff", "outcome_ineff", "abs_ineff", "rel_ineff",
    "p_value", "p_accuracy", "permutations", "n",
]


# ============================================================================ core numerics
# Everything below works in "corner 1" coordinates (the upper-left corner is the empty one);
# other corners are mirrored into it first.

@dataclass(frozen=True)
class _XLayout:
    """The condition sorted once: unique values and where their groups start."""

    order: np.ndarray  # argsort of x
    ux: np.ndarray  # unique x, ascending
    starts: np.ndarray  # start of each unique-x group in sorted order
    sizes: np.ndarray  # group sizes

    @property
    def ties(self) -> bool:
        return self.ux.size < self.order.size


def _layout(x: np.ndarray) -> _XLayout:
    order = np.argsort(x, kind="stable")
    xs = x[order]
    # np.concatenate, not np.r_ (whose indexing machinery costs more than the work here)
    new = np.empty(xs.size, dtype=bool)
    new[:1] = True
    np.greater(xs[1:], xs[:-1], out=new[1:])
    starts = new.nonzero()[0]
    sizes = np.empty(starts.size, dtype=starts.dtype)  # np.diff of starts and N
    np.subtract(starts[1:], starts[:-1], out=sizes[:-1])
    if starts.size:
        sizes[-1] = xs.size - starts[-1]
    return _XLayout(order=order, ux=xs[starts], starts=starts, sizes=sizes)


def step_widths(ux: np.ndarray, x1: float) -> np.ndarray:
    """The width of each step of a step ceiling: ``np.diff`` of the unique X's and the
    scope's right end x1 (the same numbers, without the wrappers of np.diff and
    np.concatenate: a power study computes them once per necessity claim and test)."""
    widths = np.empty(ux.size)
    np.subtract(ux[1:], ux[:-1], out=widths[:-1])
    if ux.size:
        widths[-1] = x1 - ux[-1]
    return widths


def _line_zone(a, b, scope):
    """Area above the line y = a + b x, clipped to the scope, within the scope (b ≥ 0)."""
    x0, x1, y0, y1 = scope
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    pos = b > 0
    bb = np.where(pos, b, 1.0)
    u = np.clip((y0 - a) / bb, x0, x1)  # where the line leaves the bottom of the scope
    v = np.clip((y1 - a) / bb, x0, x1)  # where it reaches the top
    under = y0 * (u - x0) + (a + 0.5 * b * (u + v)) * (v - u) + y1 * (x1 - v)
    flat = np.clip(a, y0, y1) * (x1 - x0)
    return (y1 - y0) * (x1 - x0) - np.where(pos, under - y0 * (x1 - x0), flat - y0 * (x1 - x0))


def ceilings_batch(Ys: np.ndarray, lay: _XLayout, scope, want_cr: bool) -> dict:
    """Ceiling zones of a batch of samples.

    ``Ys`` is (B × N): outcome values aligned with the *sorted* condition.  Returns the CE-FDH
    zone, and for CR-FDH the zone, intercept and slope, each of length B, plus the group
    maxima ``m``, running maxima ``R``, peer mask and peer multiplicities (B × groups).
    """
    if lay.ties:
        m = np.maximum.reduceat(Ys, lay.starts, axis=1)
        at_max = Ys == np.repeat(m, lay.sizes, axis=1)
        counts = np.add.reduceat(at_max, lay.starts, axis=1, dtype=float)
    else:
        m = Ys
        counts = None
    return zones_from_group_maxima(m, counts, lay.ux, scope, want_cr)


def zones_from_group_maxima(m: np.ndarray, counts: np.ndarray | None, ux: np.ndarray, scope,
                            want_cr: bool) -> dict:
    """The ceilings of a batch of samples from each sample's group maxima ``m`` (B × groups,
    groups of equal X in ascending order ``ux``) and the number of cases at each group's
    maximum ``counts`` (None: one each).

    CE-FDH: the step function of the running maxima R (Dul 2016, the CE-FDH technique).
    CR-FDH: the OLS line through the peers, the groups whose maximum exceeds every maximum to
    their left, each counted as often as cases sit at it (NCA's ``p_peers`` keeps duplicate
    peer points)."""
    x0, x1, y0, y1 = scope
    R = np.maximum.accumulate(m, axis=1)
    widths = step_widths(ux, x1)
    # Elementwise products and row sums, not BLAS: the same summation order whatever the
    # batch size, so an observed d and an identical permuted d agree to the last bit.
    gap = np.subtract(y1, R)
    gap *= widths  # (y1 − R)·widths, in place
    ce_zone = (ux[0] - x0) * (y1 - y0) + gap.sum(axis=1)
    out = {"ce_zone": ce_zone, "m": m, "R": R, "counts": counts}
    if not want_cr:
        return out
    peer = np.empty(m.shape, dtype=bool)
    peer[:, 0] = True
    np.greater(m[:, 1:], R[:, :-1], out=peer[:, 1:])
    w = peer.astype(float) if counts is None else np.where(peer, counts, 0.0)
    sw = w.sum(axis=1)
    mx = (w * ux).sum(axis=1) / sw
    my = (w * m).sum(axis=1) / sw
    dx = ux[None, :] - mx[:, None]
    wdx = w * dx
    sxx = (wdx * dx).sum(axis=1)
    sxy = (wdx * (m - my[:, None])).sum(axis=1)
    slope, intercept = _peer_line(sxx, sxy, mx, my)
    out.update(cr_zone=_line_zone(intercept, slope, scope), cr_intercept=intercept,
               cr_slope=slope, peer=peer)
    return out


def _peer_line(sxx, sxy, mx, my) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept of the OLS line through the peers from their centred sums; one
    distinct peer (the top observation is at the lowest X) gives a flat ceiling at its Y."""
    slope = np.where(sxx > 0, sxy / np.where(sxx > 0, sxx, 1.0), 0.0)
    return slope, my - slope * mx


def _cr_fdh_null_method(lay: _XLayout, y: np.ndarray) -> str:
    """How a CR-FDH permutation null too large to shuffle is drawn: ``"records"`` when the
    peers need no multiplicities (no ties in the condition or none in the outcome),
    ``"tables"`` when both are tied with few distinct values, else ``"shuffle"``."""
    if cr_fdh_exact(lay.ties, y):
        return "records"
    return "tables" if tables_worthwhile(lay.ux.size, np.unique(y).size, y.size) else "shuffle"


def by_shuffling(n: int, permutations: int, want_cr: bool) -> bool:
    """Whether a permutation null of n cases is drawn by shuffling the outcome: up to one
    batch (2¹⁸ case-permutations) for CE-FDH alone, up to :data:`SLOW_SHUFFLES` with CR-FDH;
    beyond, :func:`_permutation_d` draws through records or tables."""
    return n * permutations <= (SLOW_SHUFFLES if want_cr else _BATCH_ELEMENTS)


def _permutation_d(yt_sorted: np.ndarray, lay: _XLayout, scope, ceilings, permutations: int,
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """d of every ceiling on ``permutations`` random permutations of the outcome, each drawn
    the cheapest exact way:

    - CE-FDH alone, more than one batch of shuffles (N × permutations > 2¹⁸): through each
      permutation's records (:mod:`.necessity_records`, O(log N) per permutation);
    - with CR-FDH, above :data:`SLOW_SHUFFLES` case-permutations, as
      :func:`_cr_fdh_null_method` says: through the records, or as group × value
      contingency tables (:mod:`.necessity_tables`, O(G·K) per permutation);
    - otherwise by shuffling the outcome in every permutation.

    Each has exactly the permutation distribution of d; only the random numbers that produce
    the draws differ."""
    n = yt_sorted.size
    area = (scope[1] - scope[0]) * (scope[3] - scope[2])
    want_cr = "cr_fdh" in ceilings
    shuffle = by_shuffling(n, permutations, want_cr)
    if not want_cr and not shuffle:
        return {"ce_fdh": ce_fdh_null(np.sort(yt_sorted), lay.starts, lay.sizes, lay.ux, scope,
                                      permutations, rng)}
    method = "shuffle" if shuffle else _cr_fdh_null_method(lay, yt_sorted)
    if method == "records":
        walk = records_null(np.sort(yt_sorted), lay.starts, lay.sizes, lay.ux, scope,
                            permutations, rng, want_cr=True)
        slope, intercept = _peer_line(*walk["sums"])
        d = {"ce_fdh": walk["ce_fdh"], "cr_fdh": _line_zone(intercept, slope, scope) / area}
        return {c: d[c] for c in ceilings}
    if method == "tables":
        batches = (zones_from_group_maxima(m, counts, lay.ux, scope, want_cr)
                   for m, counts in group_maxima_batches(yt_sorted, lay.sizes, permutations,
                                                         rng))
    else:
        batches = _shuffled_batches(yt_sorted, lay, scope, want_cr, permutations, rng)
    out = {c: np.empty(permutations) for c in ceilings}
    done = 0
    for res in batches:
        b = res["ce_zone"].size
        for c in ceilings:
            out[c][done:done + b] = res[c[:2] + "_zone"] / area
        done += b
    return out


def _shuffled_batches(yt_sorted: np.ndarray, lay: _XLayout, scope, want_cr: bool,
                      permutations: int, rng: np.random.Generator, sizes=None):
    """:func:`ceilings_batch` of the outcome shuffled row by row, in batches of at most
    2¹⁸ values (or of the given ``sizes``: the rows are shuffled one after the other, so
    the draws do not depend on how they are batched)."""
    n = yt_sorted.size
    batch = max(1, min(permutations, _BATCH_ELEMENTS // max(n, 1)))
    if sizes is None:
        sizes = even_batches(permutations, batch)
    buf = np.empty((max(sizes, default=0), n))
    for b in sizes:
        Ys = buf[:b]
        Ys[:] = yt_sorted
        rng.permuted(Ys, axis=1, out=Ys)
        yield ceilings_batch(Ys, lay, scope, want_cr)


def even_batches(total: int, batch: int) -> list[int]:
    """``total`` split into batches of ``batch`` (the last one smaller)."""
    return [min(batch, total - done) for done in range(0, total, batch)]


def growing_batches(total: int, first: int, cap: int) -> list[int]:
    """``total`` draws in batches of ``first``, ``first``, then doubling up to ``cap``
    (20, 20, 40, 80, …): a sequential test (:func:`sequential_count`) checks its count after
    each, so a decided test stops early, and a test that runs to the end pays a few batch
    overheads more."""
    sizes, done, b = [], 0, max(1, first)
    while done < total:
        sizes.append(min(b, cap, total - done))
        done += sizes[-1]
        if len(sizes) > 1:
            b *= 2
    return sizes


def permutation_p(k: int, permutations: int) -> float:
    """The permutation test's p for k permuted d ≥ the observed d: NCA's
    max((k + 1)/(B + 1), 1/B)."""
    return max((k + 1) / (permutations + 1), 1 / permutations)


def exceedance_limit(draws: int, alpha: float, p_of) -> int:
    """The fewest null draws at or above the observed statistic (out of ``draws``) for which
    ``p_of(k, draws)`` ≥ α: once a test has counted that many, its p is ≥ α whatever the
    remaining draws give, so its verdict ("not significant") is decided (Besag & Clifford
    1991).  ``draws + 1`` when even k = draws gives p < α (never decided early)."""
    for k in range(draws + 1):
        if not p_of(k, draws) < alpha:
            return k
    return draws + 1


def sequential_count(batches, observed: float, draws: int, alpha: float, p_of,
                     stop: bool = True) -> tuple[bool, float, int]:
    """A Monte Carlo test counted batch by batch, stopped as soon as its verdict is decided.

    ``batches`` yields arrays of null statistics (``draws`` in all); k counts those ≥
    ``observed`` − :data:`TIE_TOL`; the test's p is ``p_of(k, draws)``, significant when
    < α.  With ``stop`` the count stops after the batch in which k reaches
    :func:`exceedance_limit` h: p ≥ α is then certain, so the verdict is the one the full run
    on the same draws gives (exact, not an approximation).  Returns (significant, p, draws
    used); a stopped test's p is Besag & Clifford's (1991) sequential p-value h/l (l: the draw
    that brought the h-th exceedance), but at least p_of(h), the smallest p the full run
    could have given (both ≥ α); a completed test's p is ``p_of(k, draws)``.

    Besag, J., & Clifford, P. (1991). Sequential Monte Carlo p-values. *Biometrika*, 78(2),
    301–304.
    """
    h = exceedance_limit(draws, alpha, p_of)
    if stop and h == 0:  # p ≥ α even with no exceedance (too few draws for α)
        return False, p_of(0, draws), 0
    k = used = 0
    for null in batches:
        hits = null >= observed - TIE_TOL
        before, k = k, k + int(hits.sum())
        used += null.size
        if stop and k >= h and used < draws:
            # l: the draw at which the h-th exceedance came
            l = used - null.size + int(np.flatnonzero(hits)[h - before - 1]) + 1
            return False, max(h / l, p_of(h, draws)), used
    p = p_of(k, draws)
    return bool(p < alpha), p, used


# ============================================================================ input handling

def _names(value, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise SpecError(f"{what} must be a column name or a list of column names, not "
                        f"{type(value).__name__}") from None
    if not names or not all(isinstance(n, str) for n in names):
        raise SpecError(f"{what} must be a column name or a non-empty list of column names")
    return names


def _frame_from_arrays(condition, outcome) -> tuple[pd.DataFrame, list[str], str]:
    """``nca(None, x, y)``: condition(s) and outcome given as arrays/Series/DataFrames."""
    if isinstance(condition, pd.DataFrame):
        cond = condition.copy()
        cond.columns = [str(c) for c in cond.columns]
    elif isinstance(condition, dict):
        cond = pd.DataFrame({str(k): np.asarray(v) for k, v in condition.items()})
    else:
        arr = np.asarray(condition)
        if arr.ndim == 2:
            cond = pd.DataFrame(arr, columns=[f"x{k + 1}" for k in range(arr.shape[1])])
        elif arr.ndim == 1:
            name = str(condition.name) if isinstance(condition, pd.Series) and \
                condition.name is not None else "x"
            cond = pd.DataFrame({name: arr})
        else:
            raise DataError("condition must be one- or two-dimensional")
    out_arr = np.asarray(outcome)
    if out_arr.ndim != 1:
        raise DataError("outcome must be one-dimensional (one value per case)")
    out_name = str(outcome.name) if isinstance(outcome, pd.Series) and \
        outcome.name is not None else "y"
    if len(out_arr) != len(cond):
        raise DataError(f"condition and outcome have different lengths ({len(cond)} and "
                        f"{len(out_arr)})")
    if out_name in cond.columns:
        out_name = out_name + "_outcome"
    frame = cond.reset_index(drop=True)
    frame[out_name] = out_arr
    return frame, list(cond.columns), out_name


def _numeric(frame: pd.DataFrame, name: str) -> np.ndarray:
    col = frame[name]
    if isinstance(col, pd.DataFrame):
        raise DataError(f"the data have {col.shape[1]} columns named {name!r}; rename them so "
                        "each column is one variable")
    if pd.api.types.is_bool_dtype(col):
        col = col.astype(float)  # a dichotomous condition (present / absent) is NCA's own
    if (pd.api.types.is_complex_dtype(col) or pd.api.types.is_datetime64_any_dtype(col)
            or pd.api.types.is_timedelta64_dtype(col)):
        raise DataError(f"column {name!r} holds {col.dtype} values (dates, durations or "
                        "complex numbers), not numbers NCA can use; convert it to a number "
                        "first")
    if not pd.api.types.is_numeric_dtype(col):
        coerced = pd.to_numeric(col, errors="coerce")
        bad = col.notna() & coerced.isna()
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"column {name!r} is not numeric: row {col.index[pos]!r} holds "
                f"{col.iloc[pos]!r} ({int(bad.sum())} non-numeric cell(s)); recode it, or "
                "replace codes for missing answers by NaN")
        col = coerced
    values = col.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(values).any():
        pos = int(np.flatnonzero(np.isinf(values))[0])
        raise DataError(f"column {name!r} holds an infinite value (row {col.index[pos]!r})")
    return values


def check_columns(frame: pd.DataFrame, names: list[str]) -> None:
    columns = [str(c) for c in frame.columns]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        hints = []
        for n in missing:
            close = suggest(n, columns)
            hints.append(f"{n!r}" + (f" (did you mean {close!r}?)" if close else ""))
        raise DataError(f"the data have no column(s) {', '.join(hints)}")


def _expand_items(name: str, indicators: dict, seen=()) -> list[str]:
    if name in seen:
        raise DataError(f"construct {name!r} is defined in terms of itself")
    items: list[str] = []
    for ind in indicators.get(name, ()):
        if ind in indicators:
            items.extend(_expand_items(ind, indicators, seen + (name,)))
        else:
            items.append(ind)
    return list(dict.fromkeys(items))


def construct_scores(res, names: list[str], scores: str) -> pd.DataFrame:
    """Construct scores of a fitted model, one column per requested name.

    ``scores="latent"``: regression (Thurstone) factor scores, E(η | x) under the fitted model:
    μ_η + Cov(η, x) Σ_xx⁻¹ (x − μ_x), with the model-implied moments of each group (sample
    means for the observed variables and zero latent means when the model has no mean
    structure, as lavaan's ``lavPredict`` does).  ``scores="mean"``: the mean of each
    construct's items (of a higher-order construct, of all the items below it).  Observed
    variables of the model may be named too; they are taken as they are.  The cases of a
    multi-group fit are pooled (each scored with its own group's moments).
    """
    est = res.estimation
    if not bool(res.converged):
        warn("the fit did not converge (or is inadmissible); construct scores from it are not "
             "trustworthy: see res.converged", ConvergenceWarning)
    if isinstance(getattr(est, "scores", None), pd.DataFrame):  # PLS: the construct scores
        unknown = [n for n in names if n not in est.scores.columns]
        if unknown:
            raise DataError(f"{', '.join(map(repr, unknown))} is not a construct of the PLS "
                            f"fit (constructs: {', '.join(est.scores.columns)})")
        return est.scores[names].reset_index(drop=True)
    stats = est.stats
    observed = list(stats.names)
    latent = list(est.ram.latent)
    indicators = res.model.indicators
    unknown = [n for n in names if n not in latent and n not in observed]
    if unknown:
        raise DataError(
            f"{', '.join(map(repr, unknown))} is not a variable of the fitted model (latent: "
            f"{', '.join(latent) or 'none'}; observed: {', '.join(observed)})")
    blocks = []
    if scores == "latent":
        eta = factor_scores(res)  # one home for the formula; FIML fits score partial rows
        X = np.vstack(stats.data)
        return pd.DataFrame({n: eta[n].to_numpy() if n in latent else X[:, observed.index(n)]
                             for n in names})
    for g in range(stats.ngroups):
        X = stats.data[g]
        cols = {}
        for n in names:
            items = [n] if n in observed else _expand_items(n, indicators)
            absent = [i for i in items if i not in observed]
            if absent or not items:
                raise DataError(f"construct {n!r} has no observed items to average")
            cols[n] = X[:, [observed.index(i) for i in items]].mean(axis=1)
        blocks.append(pd.DataFrame(cols))
    return pd.concat(blocks, ignore_index=True)


#: NCA measures areas in the data's units: the scope's width and height must lie in this
#: range, or an area over- or underflows (d = NaN, or a division by zero) (issue 14).
SCOPE_RANGE = (1e-100, 1e100)


def _scope_for(cond: str, scope, x: np.ndarray, y: np.ndarray) -> tuple[float, ...]:
    vals = _given_scope(cond, scope, x, y)
    lo, hi = SCOPE_RANGE
    for axis, width in (("condition", vals[1] - vals[0]), ("outcome", vals[3] - vals[2])):
        if not lo <= width <= hi:
            raise DataError(
                f"the scope of {cond!r} is {width:g} wide on the {axis} axis: NCA's areas "
                f"cannot be computed in these units (widths from {lo:g} to {hi:g}); rescale "
                "the variable (e.g. to its answer scale) or give a finite scope")
    return vals


_min, _max = np.minimum.reduce, np.maximum.reduce


def _given_scope(cond: str, scope, x: np.ndarray, y: np.ndarray) -> tuple[float, ...]:
    # (np.minimum/maximum.reduce: x.min() and x.max() without their wrappers)
    empirical = (float(_min(x)), float(_max(x)), float(_min(y)), float(_max(y)))
    if scope is None:
        return empirical
    given = scope.get(cond) if isinstance(scope, dict) else scope
    if given is None:
        return empirical
    try:
        vals = tuple(float(v) for v in given)
    except (TypeError, ValueError):
        raise SpecError(f"scope must be four numbers (x_min, x_max, y_min, y_max), not "
                        f"{given!r}") from None
    if len(vals) != 4:
        raise SpecError(f"scope must be (x_min, x_max, y_min, y_max), not {given!r}")
    vals = tuple(e if np.isnan(v) else v for v, e in zip(vals, empirical))
    x0, x1, y0, y1 = vals
    if not (x0 < x1 and y0 < y1):
        raise SpecError(f"scope {vals} is empty: it needs x_min < x_max and y_min < y_max")
    if x0 > empirical[0] or x1 < empirical[1] or y0 > empirical[2] or y1 < empirical[3]:
        raise DataError(
            f"the data of {cond!r} lie outside the scope {vals} (data: x from {empirical[0]:g} "
            f"to {empirical[1]:g}, y from {empirical[2]:g} to {empirical[3]:g}); widen the scope")
    return vals


# ============================================================================ one condition

@dataclass(frozen=True)
class ConditionFit:
    condition: str
    x: np.ndarray  # original units
    y: np.ndarray
    scope: tuple[float, float, float, float]  # original units
    sx: float  # mirror factors of the corner
    sy: float
    tscope: tuple[float, float, float, float]  # mirrored units
    lay: _XLayout
    yt_sorted: np.ndarray
    ce: dict  # step ceiling in mirrored units: ux, R, peer_x, peer_y
    cr: dict  # intercept, slope in mirrored units
    rows: dict  # ceiling → effect row
    null: dict = field(default_factory=dict)  # ceiling → permuted d

    def to_original(self, xt, yt):
        return self.sx * np.asarray(xt, dtype=float), self.sy * np.asarray(yt, dtype=float)


def permutation_test(fit: ConditionFit, ceilings, permutations: int,
                     rng: np.random.Generator) -> None:
    """NCA's permutation test of one condition (Dul, van der Laan & Kuik 2020), in place:
    the null distribution of d (``fit.null``) and each ceiling's ``p_value`` (k + 1)/(B + 1),
    at least 1/B, with its accuracy z.975·√(p(1 − p)/B)."""
    null = _permutation_d(fit.yt_sorted, fit.lay, fit.tscope, ceilings, permutations, rng)
    fit.null.update(null)
    for ceil in ceilings:
        row = fit.rows[ceil]
        k = int(np.sum(null[ceil] >= row["d"] - TIE_TOL))
        p = permutation_p(k, permutations)
        row.update(p_value=p, p_accuracy=Z975 * np.sqrt(p * (1 - p) / permutations),
                   permutations=permutations)


def permutation_decision(fit: ConditionFit, ceiling: str, permutations: int,
                         rng: np.random.Generator, alpha: float, stop: bool = True,
                         first: int = 20) -> tuple[bool, float, int]:
    """NCA's permutation test of one ceiling as a decision, stopped once it is decided
    (:func:`sequential_count`; the power study, which needs only the verdict): (p < α,
    p, permutations drawn).  The outcome is shuffled in batches growing from ``first``
    (:func:`growing_batches`); the rows are shuffled one after the other, so the draws are
    those of :func:`permutation_test` (same ``rng``), and ``stop=False`` gives its p.  Where
    :func:`permutation_test` draws through records or tables (many cases × permutations:
    every permutation at once), this does too and does not stop."""
    observed = float(fit.rows[ceiling]["d"])
    n = fit.yt_sorted.size
    area = (fit.tscope[1] - fit.tscope[0]) * (fit.tscope[3] - fit.tscope[2])
    want_cr = ceiling == "cr_fdh"
    if by_shuffling(n, permutations, want_cr):
        cap = max(1, _BATCH_ELEMENTS // max(n, 1))
        sizes = growing_batches(permutations, first, cap)
        batches = (res[ceiling[:2] + "_zone"] / area
                   for res in _shuffled_batches(fit.yt_sorted, fit.lay, fit.tscope, want_cr,
                                                permutations, rng, sizes))
    else:
        batches = iter([_permutation_d(fit.yt_sorted, fit.lay, fit.tscope, (ceiling,),
                                       permutations, rng)[ceiling]])
    return sequential_count(batches, observed, permutations, alpha, permutation_p, stop)


def condition_fit(x: np.ndarray, y: np.ndarray, ceilings=("ce_fdh",)) -> ConditionFit:
    """The NCA of one condition on complete arrays, empirical scope, corner 1, without the
    checks and tables of :func:`nca` (the power study's replications; callers make sure
    both have two distinct values)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return _analyse("x", x, y, _scope_for("x", None, x, y), 1, tuple(ceilings))


def effect_size_fit(x: np.ndarray, y: np.ndarray) -> ConditionFit:
    """What a power replication needs of :func:`condition_fit` (corner 1, empirical scope):
    the CE-FDH effect size d (``rows["ce_fdh"]["d"]``, the same number) and the layout and
    sorted outcome that :func:`permutation_decision` and the correlation-matched test draw
    from, without the ceilings' other columns (``ce`` and ``cr`` are empty; a fourth of the
    cost)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    scope = _scope_for("x", None, x, y)
    lay = _layout(x)
    yt_sorted = y[lay.order]
    zone = float(ceilings_batch(yt_sorted[None, :], lay, scope, want_cr=False)["ce_zone"][0])
    d = zone / ((scope[1] - scope[0]) * (scope[3] - scope[2]))
    return ConditionFit(condition="x", x=x, y=y, scope=scope, sx=1.0, sy=1.0, tscope=scope,
                        lay=lay, yt_sorted=yt_sorted, ce={}, cr={}, rows={"ce_fdh": {"d": d}})


def _analyse(cond: str, x: np.ndarray, y: np.ndarray, scope, corner: int, ceilings) -> \
        ConditionFit:
    sx = -1.0 if corner in (2, 4) else 1.0
    sy = -1.0 if corner in (3, 4) else 1.0
    x0, x1, y0, y1 = scope
    tx0, tx1 = sorted((sx * x0, sx * x1))
    ty0, ty1 = sorted((sy * y0, sy * y1))
    tscope = (tx0, tx1, ty0, ty1)
    xt, yt = sx * x, sy * y
    lay = _layout(xt)
    yt_sorted = yt[lay.order]
    res = ceilings_batch(yt_sorted[None, :], lay, tscope, want_cr=True)
    area = (tx1 - tx0) * (ty1 - ty0)
    xr, yr = tx1 - tx0, ty1 - ty0
    n = x.size
    m, R = res["m"][0], res["R"][0]
    peer = res["peer"][0]
    counts = np.ones_like(m) if res["counts"] is None else res["counts"][0]
    ce = {"ux": lay.ux, "R": R, "peer_x": np.repeat(lay.ux[peer], counts[peer].astype(int)),
          "peer_y": np.repeat(m[peer], counts[peer].astype(int))}
    a_t, b_t = float(res["cr_intercept"][0]), float(res["cr_slope"][0])
    cr = {"intercept": a_t, "slope": b_t}
    d_ce = float(res["ce_zone"][0]) / area
    single = int(peer.sum()) == 1  # one corner point: the top observation is leftmost
    rows = {}
    for c in ceilings:
        if c == "ce_fdh":
            zone = float(res["ce_zone"][0])
            n_above = 0
            slope = intercept = np.nan
            # NCA: the last corner point (where the step reaches its top) and the first one.
            x_lim, y_lim = lay.ux[peer][-1], m[peer][0]
            ineff_defined = not single
        else:
            zone = float(res["cr_zone"][0])
            line = a_t + b_t * xt
            n_above = int(np.sum(yt - line > _ABOVE_TOL))
            # back to original units: y' = a + b x'  with x' = sx x, y' = sy y
            if single:  # no line through one point (NCA: NA); the zone is empty
                slope = intercept = np.nan
            else:
                slope, intercept = sy * sx * b_t, sy * a_t
            ineff_defined = not single and b_t > 1e-3  # NCA's rule for a (nearly) flat line
            x_lim = (ty1 - a_t) / b_t if ineff_defined else np.nan
            y_lim = a_t + b_t * tx0
        d = zone / area
        if ineff_defined:
            ci = (tx1 - min(tx1, x_lim)) / xr
            oi = (max(ty0, y_lim) - ty0) / yr
            rel = ci + oi - ci * oi
        else:
            ci = oi = rel = np.nan
        accuracy = 100.0 * (n - n_above) / n
        rows[c] = {
            "condition": cond, "ceiling": c, "d": d, "ceiling_zone": zone, "scope": area,
            "accuracy": accuracy, "c_accuracy": accuracy, "n_above": n_above,
            "fit": 100.0 * d / d_ce if 0 < d_ce and d <= d_ce * (1 + 1e-12) else np.nan,
            "slope": slope, "intercept": intercept,
            "cond_ineff": 100.0 * ci, "outcome_ineff": 100.0 * oi,
            "abs_ineff": rel * area, "rel_ineff": 100.0 * rel,
            "p_value": np.nan, "p_accuracy": np.nan, "permutations": 0, "n": n,
        }
    return ConditionFit(condition=cond, x=x, y=y, scope=scope, sx=sx, sy=sy, tscope=tscope,
                         lay=lay, yt_sorted=yt_sorted, ce=ce, cr=cr, rows=rows)


def _bottleneck_column(fit: ConditionFit, ceiling: str, levels: np.ndarray) -> np.ndarray:
    """Required condition level (actual units; −∞ = NN, NaN = NA) for each outcome level."""
    x0, x1, y0, y1 = fit.tscope
    tol = _EDGE_TOL
    out = np.empty(levels.size)
    if ceiling == "ce_fdh":
        ux, R = fit.ce["ux"], fit.ce["R"]
        idx = np.searchsorted(R, levels - tol, side="left")  # R is non-decreasing
        reached = idx < R.size
        req = np.where(reached, ux[np.minimum(idx, R.size - 1)], np.nan)
    else:
        a, b = fit.cr["intercept"], fit.cr["slope"]
        if b > 0:
            req = (levels - a) / b
            req = np.where(req > x1 + _EDGE_TOL, np.nan, np.minimum(req, x1))
        else:
            req = np.where(levels <= a + tol, x0, np.nan)
    nn = req < x0 + _EDGE_TOL
    out[:] = req
    out[nn] = -np.inf
    return out


# ============================================================================ the result

@dataclass(frozen=True, eq=False)
class NCAResult(ResultProtocol):
    """The outcome of :func:`nca`.

    Attributes:
        outcome: the outcome's name.
        conditions: the conditions' names.
        ceilings: the ceilings computed.
        corner: NCA's corner number (1 = upper-left empty).
        effects: one row per condition × ceiling (see :func:`nca`).
        n_used: cases analysed (complete on all conditions and the outcome).
        n_dropped: cases dropped for a missing value.
        permutations: permutations of the test (0 = no test).
        seed: the seed given.
        bottleneck_steps: outcome levels of the bottleneck table, minus one.

    Examples:
        >>> r = cs.nca(cs.datasets.example_survey(), "ta1", "fa1", permutations=200, seed=1)
        >>> isinstance(r, cs.NCAResult)
        True
        >>> r.verdict()[["condition", "outcome", "verdict"]]
          condition outcome        verdict
        0       ta1     fa1  not necessary
        >>> r.bottlenecks().tail(2)
        ceiling         ce_fdh     cr_fdh
        condition          ta1        ta1
        outcome_pct
        90.0         16.666667  11.666667
        100.0        16.666667  16.666667
    """

    outcome: str
    conditions: tuple[str, ...]
    ceilings: tuple[str, ...]
    corner: int
    effects: pd.DataFrame
    n_used: int
    n_dropped: int
    permutations: int
    seed: object
    bottleneck_steps: int
    _fits: dict = field(repr=False)

    # ------------------------------------------------------------------ tables
    def scope(self, condition: str | None = None) -> tuple[float, float, float, float]:
        """The scope (x_min, x_max, y_min, y_max) of a condition, in actual units."""
        return self._fit(condition).scope

    def null_distribution(self, condition: str | None = None, ceiling: str = "ce_fdh"
                          ) -> np.ndarray:
        """The permuted effect sizes of a condition and ceiling (empty without a test)."""
        fit = self._fit(condition)
        self._check_ceiling(ceiling)
        return fit.null.get(ceiling, np.empty(0)).copy()

    def peers(self, condition: str | None = None) -> pd.DataFrame:
        """The upper-left corner points of the CE-FDH ceiling (the CR-FDH regression data)."""
        fit = self._fit(condition)
        px, py = fit.to_original(fit.ce["peer_x"], fit.ce["peer_y"])
        return pd.DataFrame({fit.condition: px, self.outcome: py})

    def bottlenecks(self, kind: str = "percentage", ceiling: str | None = None, *,
                    numeric: bool = False) -> pd.DataFrame:
        """NCA's bottleneck table.

        Args:
            kind: ``"percentage"`` — outcome levels and required condition levels in percent
                of the scope's range (NCA's ``percentage.range``); ``"actual"`` — both in the
                variables' own units.
            ceiling: one ceiling (a table with one column per condition); ``None`` — all
                ceilings, columns (ceiling, condition).
            numeric: ``False`` writes "NN" (not necessary: no level of the condition is
                required) and "NA" (the outcome level is beyond the ceiling within the
                scope) as NCA prints them; ``True`` gives floats with −∞ for NN and NaN for NA.

        Returns: a DataFrame indexed by the outcome level (``outcome_pct`` or
        ``outcome``).
        """
        if kind not in ("percentage", "actual"):
            raise SpecError(f"kind={kind!r}: use 'percentage' or 'actual'")
        if self.corner != 1:
            raise SpecError(f"bottleneck tables are defined for corner=1 only (this analysis "
                            f"has corner={self.corner})")
        ceilings = self.ceilings if ceiling is None else (self._check_ceiling(ceiling),)
        steps = self.bottleneck_steps
        k = np.arange(steps + 1)
        pct = 100.0 * k / steps
        columns = {}
        levels = {}
        for cond in self.conditions:
            y0, y1 = self._fits[cond].tscope[2:]
            levels[cond] = y0 + (y1 - y0) * k / steps
            levels[cond][-1] = y1
        first = levels[self.conditions[0]]
        if kind == "actual" and any(not np.array_equal(v, first) for v in levels.values()):
            raise SpecError("the conditions have different outcome scopes, so their outcome "
                            "levels differ; use kind='percentage'")
        for c in ceilings:
            for cond in self.conditions:
                fit = self._fits[cond]
                req = _bottleneck_column(fit, c, levels[cond])
                if kind == "percentage":
                    x0, x1 = fit.tscope[0], fit.tscope[1]
                    with np.errstate(invalid="ignore"):
                        req = np.where(np.isfinite(req), 100.0 * (req - x0) / (x1 - x0), req)
                columns[(c, cond)] = req
        index = pd.Index(pct if kind == "percentage" else first,
                         name="outcome_pct" if kind == "percentage" else "outcome")
        table = pd.DataFrame(columns, index=index)
        table.columns = pd.MultiIndex.from_tuples(table.columns, names=["ceiling", "condition"])
        if not numeric:
            table = table.astype(object)
            table = table.mask(table.map(lambda v: v == -np.inf), "NN")
            table = table.mask(table.map(lambda v: isinstance(v, float) and np.isnan(v)), "NA")
        if ceiling is not None:
            table = table[ceiling]
            table.columns.name = "condition"
        return table

    def verdict(self, d_threshold: float = 0.1, alpha: float = 0.05,
                ceiling: str | None = None) -> pd.DataFrame:
        """Verdicts on necessity claims ("X is a necessary condition for Y").

        A condition is called *necessary* when its effect size d ≥ ``d_threshold`` and the
        permutation p < ``alpha`` (Dul 2016; Dul, van der Laan & Kuik 2020), judged on one
        ceiling: ``ceiling`` if given, else CE-FDH when computed (NCA's default for discrete
        data such as Likert answers), else the first ceiling.  Without a permutation test the
        verdict is "not tested".

        Returns: one row per condition: ``condition, outcome, ceiling, d, size, p_value,
        necessary, verdict, reason``; ``size`` is Dul's (2016) label of d (small < .1 ≤
        medium < .3 ≤ large < .5 ≤ very large).
        """
        if ceiling is None:
            ceiling = "ce_fdh" if "ce_fdh" in self.ceilings else self.ceilings[0]
        self._check_ceiling(ceiling)
        rows = []
        for cond in self.conditions:
            r = self._fits[cond].rows[ceiling]
            d, p = r["d"], r["p_value"]
            size = ("small" if d < 0.1 else "medium" if d < 0.3 else "large" if d < 0.5
                    else "very large")
            if not np.isfinite(p):
                verdict, nec = "not tested", None
                reason = "no permutation test (permutations=0)"
            else:
                ok_d, ok_p = d >= d_threshold, p < alpha
                nec = bool(ok_d and ok_p)
                verdict = "necessary" if nec else "not necessary"
                reason = (f"d = {d:.3f} {'≥' if ok_d else '<'} {d_threshold:g} and "
                          f"p = {p:.4f} {'<' if ok_p else '≥'} {alpha:g}")
            rows.append({"condition": cond, "outcome": self.outcome, "ceiling": ceiling,
                         "d": d, "size": size, "p_value": p, "necessary": nec,
                         "verdict": verdict, "reason": reason})
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ display
    def plot(self, ax=None, condition: str | None = None):
        """Scatter plot with the CE-FDH step ceiling and the CR-FDH line (matplotlib).

        With several conditions and no ``condition``, one panel per condition (``ax`` may then
        be a sequence of axes).  Returns the axes.
        """

        return plot_nca(self, ax=ax, condition=condition)

    def _text(self) -> str:
        """NCA-style text: per condition the scope and a table of ceiling statistics."""
        lines = [f"Necessary condition analysis: outcome {self.outcome!r}",
                 f"Observations: {self.n_used}" + (
                     f" ({self.n_dropped} dropped for missing values)" if self.n_dropped
                     else ""),
                 f"Corner: {self.corner}   Permutations: {self.permutations}"
                 + (f"   Seed: {self.seed}" if self.seed is not None else ""),
                 ""]
        labels = [("ceiling_zone", "Ceiling zone", "{:.4f}"), ("d", "Effect size d", "{:.4f}"),
                  ("n_above", "# above", "{:d}"), ("accuracy", "c-accuracy (%)", "{:.1f}"),
                  ("fit", "Fit (%)", "{:.1f}"), ("p_value", "p value", "{:.4f}"),
                  ("p_accuracy", "p accuracy", "{:.4f}"), ("slope", "Slope", "{:.4f}"),
                  ("intercept", "Intercept", "{:.4f}"), ("abs_ineff", "Abs. ineff.", "{:.3f}"),
                  ("rel_ineff", "Rel. ineff. (%)", "{:.3f}"),
                  ("cond_ineff", "Condition ineff. (%)", "{:.3f}"),
                  ("outcome_ineff", "Outcome ineff. (%)", "{:.3f}")]
        for cond in self.conditions:
            fit = self._fits[cond]
            x0, x1, y0, y1 = fit.scope
            lines.append(f"Condition {cond!r}")
            lines.append(f"  Scope {(x1 - x0) * (y1 - y0):.4g}:  X {x0:g} to {x1:g},  "
                         f"Y {y0:g} to {y1:g}")
            head = "  " + " " * 22 + "".join(f"{c:>12}" for c in self.ceilings)
            lines.append(head)
            for key, label, fmt in labels:
                cells = []
                for c in self.ceilings:
                    v = fit.rows[c][key]
                    if isinstance(v, float) and not np.isfinite(v):
                        cells.append(f"{'':>12}")
                    else:
                        cells.append(f"{fmt.format(v):>12}")
                lines.append(f"  {label:<22}" + "".join(cells))
            lines.append("")
        v = self.verdict()
        lines.append(f"Verdicts (d ≥ 0.1 and p < 0.05, {v['ceiling'].iloc[0]}):")
        for _, r in v.iterrows():
            lines.append(f"  {r['condition']}: {r['verdict']} ({r['reason']})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        parts = ", ".join(f"{r.condition}/{r.ceiling} d={r.d:.3f}"
                          + (f" p={r.p_value:.3f}" if np.isfinite(r.p_value) else "")
                          for r in self.effects.itertuples())
        return f"<NCAResult {self.outcome}: {parts}; n={self.n_used}>"

    # ------------------------------------------------------------------ helpers
    def _fit(self, condition):
        if condition is None:
            if len(self.conditions) > 1:
                raise SpecError(f"name one condition: {', '.join(self.conditions)}")
            condition = self.conditions[0]
        if condition not in self._fits:
            raise SpecError(f"{condition!r} is not a condition of this analysis "
                            f"({', '.join(self.conditions)})")
        return self._fits[condition]

    def _check_ceiling(self, ceiling: str) -> str:
        if ceiling not in self.ceilings:
            raise SpecError(f"ceiling {ceiling!r} was not computed ({', '.join(self.ceilings)})")
        return ceiling


# ============================================================================ entry point

    def to_frame(self) -> pd.DataFrame:
        """One row per condition × ceiling (:attr:`effects`)."""
        return self.effects.copy()

    def summary(self) -> Summary:
        """Effect sizes, tests and verdicts (``str()`` is the plain-text report)."""
        return Summary(f"Necessary condition analysis of {self.outcome}",
                       (Block("Effects", self.effects),), text=self._text())


def nca(data, condition, outcome, *, ceilings=CEILINGS, permutations: int = 10000,
        seed=None, scope=None, bottleneck_steps: int = 10, corner: int = 1,
        scores: str | None = None) -> NCAResult:
    """Necessary condition analysis (Dul 2016) with the permutation test of Dul, van der Laan
    & Kuik (2020).

    Args:
        data: a DataFrame (or Survey) with the condition and outcome columns; a fitted model
            (:class:`~cbec_sem.FitResult`), whose construct scores are then analysed (see
            ``scores``); or ``None``, with ``condition`` and ``outcome`` given as arrays.
        condition: a column name or a list of names (each analysed separately against the
            outcome); with ``data=None`` an array, Series or DataFrame.
        outcome: the outcome's column name (with ``data=None`` an array or Series).
        ceilings: any of ``"ce_fdh"`` and ``"cr_fdh"``.
        permutations: permutations of the test (0 = none: p is NaN).
        seed: seed of the permutations (``np.random.default_rng(seed)``); the same seed gives
            the same p-values.
        scope: ``(x_min, x_max, y_min, y_max)`` — a theoretical scope for every condition, or a
            dict condition → such a tuple; NaN entries keep the empirical value.  Default: the
            empirical scope (min and max of the data).
        bottleneck_steps: the bottleneck table has outcome levels 0, 100/steps, …, 100 %.
        corner: the empty corner (1 upper-left, the default; 2 upper-right; 3 lower-left; 4
            lower-right).
        scores: with a fitted model as ``data``: ``"latent"`` (default; regression factor
            scores from the fitted model) or ``"mean"`` (item means per construct).

    Returns: an :class:`NCAResult`; ``effects`` has one row per condition × ceiling with
    ``condition, ceiling, d, ceiling_zone, scope, accuracy`` (= ``c_accuracy``, % of cases on
    or below the ceiling), ``n_above, fit, slope, intercept`` (CR-FDH, actual units),
    ``cond_ineff, outcome_ineff, abs_ineff, rel_ineff, p_value, p_accuracy, permutations, n``.

    Cases with a missing value on any condition or on the outcome are dropped (listwise), with
    a :class:`~cbec_sem.errors.DataWarning`; ``n_used`` and ``n_dropped`` say how many.

    Raises:
        DataError: a missing or non-numeric column, a condition or outcome with fewer than two
            distinct values, or data outside a given scope.
        SpecError: an unknown ceiling, corner or argument value.

    Examples:
        >>> r = cs.nca(cs.datasets.example_survey(), "ta1", "fa1", permutations=200, seed=1)
        >>> r.effects[["condition", "ceiling", "d", "p_value"]].round(3)
          condition ceiling      d  p_value
        0       ta1  ce_fdh  0.056    0.328
        1       ta1  cr_fdh  0.028    0.328
    """
    # ---- arguments
    if isinstance(ceilings, str):
        ceilings = (ceilings,)
    try:
        ceilings = tuple(ceilings)
    except TypeError:
        raise SpecError(f"ceilings={ceilings!r} must be a ceiling's name or a list of them; "
                        f"available: {', '.join(CEILINGS)}") from None
    bad = [c for c in ceilings if c not in CEILINGS]
    if bad or not ceilings:
        raise SpecError(f"unknown ceiling(s) {', '.join(map(repr, bad)) or '(none)'}; "
                        f"available: {', '.join(CEILINGS)}")
    ceilings = tuple(dict.fromkeys(ceilings))
    permutations = check_permutations(permutations, "permutations")
    seed = check_seed(seed)
    if isinstance(bottleneck_steps, bool) or not isinstance(bottleneck_steps, (int, np.integer)) \
            or bottleneck_steps < 1:
        raise SpecError(f"bottleneck_steps={bottleneck_steps!r} must be a whole number ≥ 1")
    if corner not in (1, 2, 3, 4):
        raise SpecError(f"corner={corner!r} must be 1, 2, 3 or 4 (NCA's corner numbering)")

    # ---- data
    if data is None:
        frame, conds, out = _frame_from_arrays(condition, outcome)
    elif hasattr(data, "estimation") and hasattr(data, "model"):
        conds, out = _names(condition, "condition"), outcome
        if not isinstance(out, str):
            raise SpecError("with a fitted model, outcome must be a construct name")
        if scores is None:
            scores = "latent"
        if scores not in ("latent", "mean"):
            raise SpecError(f"scores={scores!r}: use 'latent' or 'mean'")
        frame = construct_scores(data, list(dict.fromkeys(conds + [out])), scores)
    else:
        if scores is not None:
            raise SpecError("scores= applies only when data is a fitted model (cs.fit(...))")
        if not isinstance(data, pd.DataFrame):

            data = as_frame(data)
        frame = data
        conds = _names(condition, "condition")
        if not isinstance(outcome, str):
            raise SpecError("outcome must be a column name when data is given")
        out = outcome
        check_columns(frame, conds + [out])
    conds = list(dict.fromkeys(conds))
    if out in conds:
        raise SpecError(f"{out!r} is both a condition and the outcome")

    y_all = _numeric(frame, out)
    x_all = {c: _numeric(frame, c) for c in conds}
    complete = ~np.isnan(y_all)
    for c in conds:
        complete &= ~np.isnan(x_all[c])
    n_total = y_all.size
    n_used = int(complete.sum())
    n_dropped = n_total - n_used
    if n_dropped:
        warn(f"nca: {n_dropped} of {n_total} case(s) dropped for a missing value on "
             f"{', '.join(map(repr, conds + [out]))}; {n_used} used")
    y = y_all[complete]
    if np.unique(y).size < 2:
        raise DataError(f"the outcome {out!r} has fewer than 2 distinct values among the "
                        f"{n_used} complete case(s); NCA needs variation in the outcome")
    fits = {}
    for c in conds:
        x = x_all[c][complete]
        if np.unique(x).size < 2:
            raise DataError(f"the condition {c!r} has fewer than 2 distinct values among the "
                            f"{n_used} complete case(s); NCA needs variation in the condition")
        fits[c] = _analyse(c, x, y, _scope_for(c, scope, x, y), corner, ceilings)

    # ---- permutation test
    rng = np.random.default_rng(seed)
    if (permutations and "cr_fdh" in ceilings and not by_shuffling(n_used, permutations, True)
            and any(_cr_fdh_null_method(fits[c].lay, fits[c].yt_sorted) == "shuffle"
                    for c in conds)):
        warn(f"nca: the CR-FDH permutation test shuffles all {n_used:,} cases per permutation "
             f"({permutations:,} permutations: several seconds or more; condition and outcome "
             "both have ties and many distinct values); ceilings='ce_fdh' alone draws its null "
             "in O(log N) per permutation, or pass fewer permutations=", CbecSemWarning)
    if permutations:
        for c in conds:
            permutation_test(fits[c], ceilings, permutations, rng)

    effects = pd.DataFrame([fits[c].rows[ceil] for c in conds for ceil in ceilings],
                           columns=EFFECT_COLUMNS)
    return NCAResult(outcome=out, conditions=tuple(conds), ceilings=ceilings, corner=corner,
                     effects=effects, n_used=n_used, n_dropped=n_dropped,
                     permutations=permutations, seed=seed, bottleneck_steps=int(bottleneck_steps),
                     _fits=fits)
