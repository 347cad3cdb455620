"""A necessity test that is not fooled by correlation: the correlation-matched null.

NCA's permutation test (Dul, van der Laan & Kuik 2020) asks whether the upper-left corner of
the X–Y scatter is emptier than it would be if X and Y were *unrelated*.  Any positive
dependence empties that corner a little, so with a correlation of .4 and N = 400 the test
calls X "necessary" for Y in about 9 of 10 samples of bivariate-normal data, which have no
ceiling at all (issue 13 measured .31–1.00 for ρ = .2–.6).  A necessity claim needs more: the
corner must be emptier than the observed dependence alone makes it.

The correlation-matched null (this module) is data with the observed margins and the observed
rank dependence, but *no* ceiling: a Gaussian copula whose conditional spread may change with X.

1. The dependence is measured by the normal-scores (van der Waerden) correlation r: the
   Pearson correlation of Φ⁻¹((rank − ½)/N) of X and of Y (average ranks for ties), the
   estimator of a Gaussian copula's correlation that is efficient when the copula is Gaussian
   (Klaassen & Wellner 1997).  For discrete margins (Likert means) the correlation of the
   latent Gaussian is larger than that of the ties-broken data; r is calibrated by simulation
   so that null data drawn with it reproduce the observed r on average
   (:func:`_calibrate`).
2. A null sample: draw ρ* from the sampling distribution of r (Fisher 1915:
   atanh ρ* ~ N(atanh r, 1/(N − 3))), so that the null carries the uncertainty of the observed
   dependence; draw N pairs from the bivariate normal with correlation ρ*; give the i-th
   smallest normal X the i-th smallest observed X, and the same for Y (the observed margins,
   ties included, exactly).
3. The spread: an outcome that depends on X through interactions (Y = … + β·X·Z) spreads
   more at high X than at low X, which empties the upper-left corner without any ceiling
   (issue 13: on the example's population the Gaussian-copula null called TA necessary for
   SCI in 22% of samples at N = 1000, on the true latent values).  The null therefore lets
   the conditional spread of the normal scores change with X,
   Z_Y = ρ·Z_X + √(1 − ρ²)·exp(γ·Z_X − γ²)·e, with γ estimated on the side of the scatter
   away from a ceiling (:func:`scale_slope`) and drawn from its sampling distribution like ρ.
   γ = 0 is the Gaussian copula (``spread=False``).
4. The effect size d* of every null sample (the same ceiling and scope as the observed d).

The expected d under this null, E₀[d], is the d that the observed dependence produces by
itself; the test's p is (k + 1)/(B + 1) with k the number of d* ≥ the observed d (B draws),
with Monte Carlo accuracy 1.96·√(p(1 − p)/B) as NCA reports for its own p.  The draws are
vectorised in batches (B × N arrays) and the ceilings reuse NCA's batched CE-FDH/CR-FDH code.

What the test rejects is "the dependence is a Gaussian copula with a spread that changes
smoothly with X", of which "no ceiling" is the case that matters; a non-Gaussian dependence
without a ceiling (e.g. a bivariate t, whose joint tails are heavier) can also empty the
corner more than that null does and be flagged.  The price of the spread is power in small
samples: a ceiling also narrows the scatter at low X, and part of that is absorbed by γ.
``benchmarks/bench_necessity.py`` measures the rates: false positives on bivariate-normal
data and on the example's population, detection of true ceilings, and the rate for a
bivariate t.

References
----------
Dul, J. (2016). Necessary condition analysis (NCA). *Organizational Research Methods*, 19(1),
10–52.

Dul, J., van der Laan, E., & Kuik, R. (2020). A statistical significance test for necessary
condition analysis. *Organizational Research Methods*, 23(2), 385–395.

Harvey, A. C. (1976). Estimating regression models with multiplicative heteroscedasticity.
*Econometrica*, 44(3), 461–465.

Fisher, R. A. (1915). Frequency distribution of the values of the correlation coefficient in
samples from an indefinitely large population. *Biometrika*, 10(4), 507–521.

Eekhout, I., van de Wiel, M. A., & Heymans, M. W. (2017). Methods for significance testing of
categorical covariates in logistic regression models after multiple imputation: power and
applicability analysis. *BMC Medical Research Methodology*, 17, 129.

Klaassen, C. A. J., & Wellner, J. A. (1997). Efficient estimation in the bivariate normal
copula model: normal margins are least favourable. *Bernoulli*, 3(1), 55–77.

Mislevy, R. J. (1991). Randomization-based inference about latent variables from complex
samples. *Psychometrika*, 56(2), 177–196.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..errors import CbecSemError, SpecError
from ..measurement.scores import latent_posterior
from .necessity import (TIE_TOL, Z975, ConditionFit, NCAResult, ceilings_batch,
                        construct_scores, even_batches, growing_batches, nca,
                        sequential_count, step_widths)

__all__ = [
    "SCORE_COLUMNS",
    "VERDICT_COLUMNS",
    "correlation_matched_null",
    "matched_decision",
    "necessity_provider",
    "necessity_verdict",
    "necessity_verdict_scores",
    "normal_scores_correlation",
    "scale_slope",
]

#: Elements of one batch of null samples (batch × N).
_BATCH_ELEMENTS = 1 << 18

#: Columns of :func:`necessity_verdict`.
VERDICT_COLUMNS = [
    "condition", "outcome", "ceiling", "n", "d", "size", "p_value", "r", "d_null",
    "d_null_se", "d_excess", "p_matched", "p_matched_accuracy", "draws", "necessary",
    "verdict", "reason",
]


def normal_scores_correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Normal-scores (van der Waerden) correlation of each row of ``x`` with the same row of
    ``y`` (1-D or B × N arrays): the Pearson correlation of Φ⁻¹((rank − ½)/N), average ranks
    for ties."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.atleast_2d(np.asarray(y, dtype=float))
    n = x.shape[1]
    if x.shape[0] == 1 and y.shape[0] == 1:
        rx, ry = _average_ranks(x[0])[None, :], _average_ranks(y[0])[None, :]
    else:
        rx, ry = _average_ranks_rows(x), _average_ranks_rows(y)
    r = _scores_correlation(_normal_scores(rx, n), _normal_scores(ry, n))
    return r if r.size > 1 else r.reshape(())


def _average_ranks(v: np.ndarray) -> np.ndarray:
    """``scipy.stats.rankdata(v)`` of a 1-D array without NaN (average ranks for ties), the
    same numbers (½·(start + end + 1) per group of equal values, exact in floating point)
    without its overhead (a third of a millisecond per call, several calls per necessity
    test)."""
    order = np.argsort(v, kind="stable")
    out = np.empty(v.size)
    out[order] = _sorted_ranks(v[order])
    return out


def _average_ranks_rows(a: np.ndarray) -> np.ndarray:
    """``scipy.stats.rankdata(a, axis=1)`` of a 2-D array (average ranks per row; a row with
    a NaN all NaN, its ``nan_policy="propagate"``), row by row with :func:`_average_ranks`
    (importing ``scipy.stats`` cost a first fit about 0.4 s)."""
    out = np.empty(a.shape)
    for i, row in enumerate(a):
        out[i] = np.nan if np.isnan(row).any() else _average_ranks(row)
    return out


def _sorted_ranks(s: np.ndarray) -> np.ndarray:
    """Average ranks of an ascending 1-D array (``rankdata`` of it, without sorting)."""
    n = s.size
    if n == 0:
        return np.empty(0)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.concatenate([starts[1:], [n]])
    return np.repeat(0.5 * (starts + ends + 1), ends - starts)


def _normal_scores(rank: np.ndarray, n: int) -> np.ndarray:
    """Φ⁻¹((rank − ½)/N)."""
    return ndtri((rank - 0.5) / n)


@lru_cache(maxsize=8)
def _untied_scores(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The normal scores of the ranks 1..N (the sorted scores of any margin without ties)
    and the same row standardised (:func:`_standardized`), read-only: what every null of N
    untied cases computes for its sorted margins, computed once per N (the same numbers:
    ``_sorted_ranks`` of N distinct sorted values is 1..N exactly)."""
    scores = _normal_scores(np.arange(1, n + 1, dtype=float), n)[None, :]
    std = _standardized(scores)
    scores.flags.writeable = std.flags.writeable = False
    return scores, std


def _sorted_scores(values_sorted: np.ndarray, n: int) -> np.ndarray:
    """Φ⁻¹((rank − ½)/N) of an ascending margin, in its order (1 × N)."""
    if values_sorted.size == n and np.all(values_sorted[1:] != values_sorted[:-1]):
        return _untied_scores(n)[0]
    return _normal_scores(_sorted_ranks(values_sorted), n)[None, :]


def _scores_correlation(sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """Row-wise Pearson correlation of normal scores (B × N; 0 for a constant row)."""
    # (np.add.reduce and / N: the numbers of .sum() and .mean(), without their wrappers)
    n = sx.shape[1]
    sx = sx - _row_sums(sx, True) / n
    sy = sy - _row_sums(sy, True) / n
    den = np.sqrt(_row_sums(sx * sx) * _row_sums(sy * sy))
    ok = den > 0
    return np.where(ok, _row_sums(sx * sy) / np.where(ok, den, 1.0), 0.0)


def _row_sums(a: np.ndarray, keepdims: bool = False) -> np.ndarray:
    """``a.sum(axis=1)`` (NumPy's pairwise sum of each row: the same numbers) without the
    method's Python wrapper."""
    return _add_reduce(a, 1, None, None, keepdims)


_add_reduce = np.add.reduce


class _DrawLog:
    """The normal draws a seeded null made, in order, with the generator's state before each
    (and after the last): what a later null seeded alike reuses (:class:`_Draws`)."""

    def __init__(self, state: dict):
        self.keys: list[tuple] = []
        self.values: list[np.ndarray] = []
        self.states: list[dict] = [state]


class _Draws:
    """The normal draws of correlation-matched nulls, from ``rng``.

    With a ``log`` (:class:`_DrawLog`, shared by nulls whose generators start from the same
    seed, e.g. H7 and H8 of one hypothesis table: different data, the same seed) a draw the
    log already holds at this point of the sequence, with the same shape, is taken from it
    instead of being drawn again: a generator started from the same state makes the same
    numbers, so they are the numbers this null would draw, to the last bit (the sorted draws
    are sorted once).  At the first call that differs from the log's, or past its end, the
    draws carry on from the generator state the log recorded before that call (and extend
    the log at its end).  The nulls' draws are the same arrays shared, so they are read-only.
    """

    def __init__(self, rng: np.random.Generator, log: _DrawLog | None = None):
        self.rng = rng
        self.log = log
        self.i = 0  # calls made
        self.synced = True  # the generator is in the state after those calls

    def normal(self, shape) -> np.ndarray:
        """``rng.standard_normal(shape)``."""
        return self._draw(shape, False)

    def sorted_normal(self, shape) -> np.ndarray:
        """``np.sort(rng.standard_normal(shape), axis=1)``."""
        return self._draw(shape, True)

    def _fresh(self, shape, sort: bool) -> np.ndarray:
        out = self.rng.standard_normal(shape)
        if sort:
            out.sort(axis=1)  # in place: the numbers of np.sort, without its copy
        return out

    def _draw(self, shape, sort: bool) -> np.ndarray:
        log = self.log
        if log is None:
            return self._fresh(shape, sort)
        key = (shape if isinstance(shape, tuple) else (shape,), sort)
        i = self.i
        if i < len(log.keys) and log.keys[i] == key:
            self.i += 1
            self.synced = False
            return log.values[i]
        if not self.synced:
            self.rng.bit_generator.state = log.states[i]
            self.synced = True
        if i < len(log.keys):  # another sequence from here on: carry on alone
            self.log = None
            return self._fresh(shape, sort)
        out = self._fresh(shape, sort)
        out.flags.writeable = False
        log.keys.append(key)
        log.values.append(out)
        log.states.append(self.rng.bit_generator.state)
        self.i += 1
        return out


def _as_draws(rng) -> _Draws:
    return rng if isinstance(rng, _Draws) else _Draws(rng)


def _seeded_draws(seed, shared: dict | None) -> _Draws:
    """The draws of ``np.random.default_rng(seed)``; with ``shared`` (a dict the caller keeps
    across nulls) and an integer seed, logged in it under the seed, so that a later null
    seeded alike reuses them (:class:`_Draws`)."""
    rng = np.random.default_rng(seed)
    if shared is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        return _Draws(rng)
    log = shared.get(int(seed))
    if log is None:
        log = shared[int(seed)] = _DrawLog(rng.bit_generator.state)
    return _Draws(rng, log)


def _copula_pairs(rho: np.ndarray, n: int, rng: _Draws,
                  gamma: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each ρ (and scale slope γ) of the batch: the latent Y paired with the sorted
    Gaussian X (B × n; :func:`_placed` turns it into the sorted observed outcome placed by
    the latent Y's ranks), and that sorted Gaussian X."""
    zx = rng.sorted_normal((rho.size, n))
    return _latent_y(rho, zx, rng.normal((rho.size, n)), gamma, overwrite=True), zx


def _latent_y(rho: np.ndarray, zx_sorted: np.ndarray, e: np.ndarray,
              gamma: np.ndarray | None = None, overwrite: bool = False) -> np.ndarray:
    """Z_Y = ρ·Z_X + √(1 − ρ²)·exp(γ·Z_X − γ²)·e (per row; a fresh array, or with
    ``overwrite`` ``e`` itself when it may be written): a Gaussian copula for γ = 0, and for
    γ ≠ 0 a conditional spread that grows (γ > 0) with Z_X; exp(γ·Z_X − γ²) has mean square
    1, so Z_Y keeps variance 1 and correlation ρ with Z_X."""
    col = rho[:, None]
    noise = np.multiply(e, np.sqrt(1.0 - col * col),
                        out=e if overwrite and e.flags.writeable else None)
    scale = None
    if gamma is not None:  # the same operations as noise·exp(g·Z_X − g²), in place
        # exp(g·Z_X − g²) is exactly 1 where g = 0, so those rows are left as they are (the
        # draws of γ are cut at 0: most of them are 0 when γ̂ is not above 0)
        spread = gamma.nonzero()[0]
        if spread.size == gamma.size:
            g = gamma[:, None]
            scale = g * zx_sorted
            scale -= g * g
            noise *= np.exp(scale, out=scale)
        elif spread.size:
            g = gamma[spread, None]
            part = g * zx_sorted[spread]
            part -= g * g
            noise[spread] *= np.exp(part, out=part)
    # Z_Y = ρ·Z_X + noise, added into the noise (addition commutes, to the last bit): fresh
    # B × N arrays cost page faults comparable to the arithmetic
    noise += np.multiply(col, zx_sorted, out=scale)
    return noise


def _latent_y_fixed(rho: float, gamma: float, zx_sorted: np.ndarray,
                    e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_latent_y` with one ρ and one γ ≠ 0 for every row (the spread calibration): the
    same numbers, from scalars, computed in ``e`` itself when it may be written (a fresh
    draw; a logged one is read-only); and the array it used on the way (free to reuse)."""
    s = np.sqrt(1.0 - rho * rho)
    noise = np.multiply(e, s, out=e if e.flags.writeable else None)
    scale = gamma * zx_sorted
    scale -= gamma * gamma
    noise *= np.exp(scale, out=scale)
    noise += np.multiply(rho, zx_sorted, out=scale)
    return noise, scale


@lru_cache(maxsize=8)
def _untied_tiled(n: int, rows: int) -> np.ndarray:
    """The normal scores of 1..N repeated ``rows`` times, one row after the other (flat,
    read-only): the source :func:`_placed` scatters from for an outcome without ties."""
    out = np.tile(_untied_scores(n)[0][0], rows)
    out.flags.writeable = False
    return out


def _placed(values_sorted: np.ndarray, z: np.ndarray, tiled: np.ndarray | None = None,
            out: np.ndarray | None = None, scratch: np.ndarray | None = None) -> np.ndarray:
    """``values_sorted`` placed by the ranks of each row of ``z`` (B × N): the k-th smallest
    value goes where the k-th smallest z is.

    The same array as scattering ``values_sorted`` by ``np.argsort(z, axis=1)``, at about
    half its cost: each z's flat index (row · N + column) is written into the low b bits of
    its own bit pattern (b = bits of B·N − 1, at most 18: larger arrays go in blocks of
    rows) and the rows are sorted as floats, which orders them as the z's themselves
    wherever the z's still differ with those bits cleared (clearing low bits moves every
    float towards 0, which keeps their order, ties allowed); the sorted keys' low bits are
    then the flat indices of the argsort, the scatter's targets.  A row in which two z's
    agree but for their low b bits (about 10⁻¹¹ relative: practically never), or with a z
    that is not finite, is ranked by :func:`_row_order`.  ``z`` is not changed.  ``out``
    and ``scratch`` (B × N floats, neither of them ``z``): where to write the result and
    the keys, instead of fresh arrays."""
    B, n = z.shape
    if n < 2:
        return np.broadcast_to(values_sorted, (B, n)).copy()
    if out is None:
        out = np.empty((B, n))
    if B > 1 and B * n > _KEY_ELEMENTS:
        rows = max(1, _KEY_ELEMENTS // n)
        for s in range(0, B, rows):
            _placed(values_sorted, z[s:s + rows], tiled, out[s:s + rows],
                    None if scratch is None else scratch[s:s + rows])
        return out
    low = (1 << (B * n - 1).bit_length()) - 1
    keys = np.bitwise_and(z.view(np.int64), ~low,
                          out=None if scratch is None else scratch.view(np.int64))
    keys |= _flat_indices(B * n)[:B * n].reshape(B, n)
    sorted_keys = keys.view(np.float64)
    sorted_keys.sort(axis=1)
    flat = keys.reshape(-1)
    # adjacent keys whose bits above the low b agree: XOR of them below 2^b; checked over the
    # flat array first (one pass; a pair across two rows can only add a row to the exact
    # check), row by row only when that finds one
    near = np.bitwise_xor(flat[1:], flat[:-1]).view(np.uint64)
    # a z that is not finite (inf becomes NaN with index bits, NaNs sort last)
    last_nan = np.isnan(sorted_keys[:, -1])
    tied = None
    if (near.size and near.min() <= low) or last_nan.any():
        tied = (np.bitwise_xor(keys[:, 1:], keys[:, :-1]).view(np.uint64) <= low).any(axis=1)
        tied |= last_nan
    keys &= low
    if tied is not None:
        for i in tied.nonzero()[0]:
            np.add(_row_order(z[i]), i * n, out=keys[i])
    # a scatter through flat indices (numpy 2.4: half the time of put_along_axis); the
    # values broadcast along the rows, or ``tiled`` (the values repeated row after row, at
    # least B times: a contiguous source, a third cheaper)
    if tiled is None:
        out.reshape(-1)[keys] = values_sorted
    else:
        out.reshape(-1)[flat] = tiled[:B * n]
    return out


#: The most elements :func:`_placed` ranks at once (their flat index fills the low 18 bits
#: of a key; larger arrays go in blocks of rows).
_KEY_ELEMENTS = 1 << 18


def _row_order(z: np.ndarray) -> np.ndarray:
    """The argsort of one row (1-D) by the same packed keys with the index in the row alone
    (b = bits of N − 1), and ``np.argsort`` where two z's agree but for those bits or one is
    not finite: what :func:`_placed` ranked each row by before it packed flat indices (so a
    row it cannot rank by its flat keys gets the order it always got)."""
    n = z.size
    low = (1 << (n - 1).bit_length()) - 1
    keys = np.bitwise_and(z.view(np.int64), ~low)
    keys |= _indices(n)
    s = keys.view(np.float64)
    s.sort()
    if np.isnan(s[-1]) or (np.bitwise_xor(keys[1:], keys[:-1]).view(np.uint64) <= low).any():
        return np.argsort(z)
    keys &= low
    return keys


_FLAT: list = [np.empty(0, dtype=np.int64)]


def _flat_indices(size: int) -> np.ndarray:
    """0..size − 1 or more (int64, read-only; one array, grown as needed)."""
    have = _FLAT[0]
    if have.size < size:
        have = np.arange(max(size, 2 * have.size), dtype=np.int64)
        have.flags.writeable = False
        _FLAT[0] = have
    return have


@lru_cache(maxsize=8)
def _indices(n: int) -> np.ndarray:
    """0..N − 1 (int64, read-only)."""
    out = np.arange(n, dtype=np.int64)
    out.flags.writeable = False
    return out


def scale_slope(x: np.ndarray, y: np.ndarray, r: float) -> tuple[float, float]:
    """The slope γ of the conditional log-spread of Y's normal scores in X's, measured on the
    side away from a ceiling, and its standard error.

    With S_X, S_Y the standardised normal scores and u = S_Y − r·S_X, the spread model
    u = √(1 − r²)·exp(γ·S_X − γ²)·e (e standard normal) gives
    log u² = const + 2γ·S_X + log e², whose error log e² (log χ²₁) has variance π²/2: the
    log-squared-residual regression for multiplicative heteroscedasticity (Harvey
    1976).  Only the cases *below* the line (u < 0) are used: a ceiling empties the upper
    side of the scatter at low X and leaves the lower side as it is, while a spread that
    grows with X (e.g. an outcome that depends on X through interactions) widens both sides;
    log e² given e < 0 is still log χ²₁.  γ̂ is half the OLS slope; its SE is
    ½·√((π²/2)/Σ(S_X − S̄_X)²) over those cases.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    g, se = _slopes_from_ranks(_average_ranks(x)[None, :], _average_ranks(y)[None, :], r)
    return float(g[0]), float(se[0])


def _slopes_from_ranks(rx: np.ndarray, ry: np.ndarray, r) -> tuple[np.ndarray, np.ndarray]:
    """:func:`scale_slope` of every row of B × N rank arrays (average ranks for ties; ``rx``
    may be a single row shared by all)."""
    n = ry.shape[1]
    return _slopes_from_scores(_normal_scores(rx, n), _normal_scores(ry, n), r)


def _slopes_from_scores(nx: np.ndarray, ny: np.ndarray, r, sx: np.ndarray | None = None,
                        overwrite: bool = False, scratch: tuple = (None, None)
                        ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_slopes_from_ranks` from the normal scores Φ⁻¹((rank − ½)/N) of the ranks
    (B × N; ``nx`` may be a single row, ``sx`` its :func:`_standardized` if known).  ``ny``
    is left as it is, unless ``overwrite`` (its buffer is then reused); ``scratch``: two
    B × N float arrays to work in instead of fresh ones."""
    if sx is None:
        sx = _standardized(nx)
    sy = _standardized(ny, overwrite, scratch[0])
    # the operations of u = sy − r·sx, w = [u < 0], Σw, Σw·sx, (sx − mx)·w, Σ(...)², and
    # Σ sxc·log max(u², 1e-12), with fewer temporaries (the same numbers)
    u = np.subtract(sy, np.reshape(r, (-1, 1)) * sx, out=sy)
    # [u < 0] as 0/1 floats, in one pass
    w = np.less(u, 0.0, out=np.empty(u.shape) if scratch[0] is None else scratch[0])
    m = _row_sums(w)
    sxc = np.multiply(w, sx, out=scratch[1])
    mx = _row_sums(sxc) / np.maximum(m, 1)
    sxc = np.subtract(sx, mx[:, None], out=sxc)
    sxc *= w
    np.multiply(sxc, sxc, out=w)
    sxx = _row_sums(w)
    ok = (m >= 3) & (sxx > 0)
    lu = np.multiply(u, u, out=u)
    np.maximum(lu, 1e-12, out=lu)
    np.log(lu, out=lu)
    lu *= sxc
    den = np.where(ok, sxx, 1.0)
    slope = _row_sums(lu) / den
    g = np.where(ok, 0.5 * slope, 0.0)
    se = np.where(ok, 0.5 * np.sqrt(np.pi ** 2 / 2 / den), 0.0)
    return g, se


def _standardized(s: np.ndarray, overwrite: bool = False,
                  scratch: np.ndarray | None = None) -> np.ndarray:
    """(s − mean)/sd of each row (sd with divisor N, as ``ndarray.std``; a constant row is
    only centred), a fresh array (``overwrite``: in ``s`` itself): the numbers of
    ``s - s.mean(axis=1, keepdims=True)`` divided by its ``std(axis=1, keepdims=True)``, with
    fewer temporaries (``scratch``: an array of s's shape to work in, not ``s``)."""
    n = s.shape[1]
    c = np.subtract(s, _row_sums(s, True) / n, out=s if overwrite else None)
    d = np.subtract(c, _row_sums(c, True) / n, out=scratch)  # std() centres again
    np.multiply(d, d, out=d)
    sd = np.sqrt(_row_sums(d, True) / n)
    c /= np.where(sd > 0, sd, 1.0)
    return c


def _null_batch(fit: ConditionFit, ys_sorted: np.ndarray, rho: np.ndarray, ceilings,
                rng: _Draws, gamma: np.ndarray | None = None, steps: tuple | None = None,
                tiled: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """d of each ceiling for one batch of copula samples with correlations ``rho``.
    ``steps``: :func:`_ce_steps` of the fit, for CE-FDH alone on a condition without ties;
    ``tiled``: ``ys_sorted`` repeated at least as many times as the batch has rows (the
    source of :func:`_placed`)."""
    x0, x1, y0, y1 = fit.tscope
    area = (x1 - x0) * (y1 - y0)
    n = ys_sorted.size
    z, zx = _copula_pairs(rho, n, rng, gamma)
    # The condition's sorted values (fit.lay) are paired in order with the Gaussian X's order
    # statistics; within a group of tied X values the order is that of the Gaussian X's, which
    # is random, as ties in the observed data are.
    # (placed into Z_X's array, which is free now, unless it is a logged draw)
    ys = _placed(ys_sorted, z, tiled, out=zx if zx.flags.writeable else None)
    if steps is not None:
        # zones_from_group_maxima's CE-FDH zone (one case per X: the maxima are the values),
        # in the placed array's buffer: (ux₀ − x0)(y1 − y0) + Σ (y1 − R)·width
        base, widths = steps
        R = np.maximum.accumulate(ys, axis=1, out=ys)
        gap = np.subtract(y1, R, out=R)
        gap *= widths
        return {"ce_fdh": (base + _row_sums(gap)) / area}
    res = ceilings_batch(ys, fit.lay, fit.tscope, "cr_fdh" in ceilings)
    return {c: res[c[:2] + "_zone"] / area for c in ceilings}


def _ce_steps(fit: ConditionFit, ceilings) -> tuple | None:
    """The constants of a batch's CE-FDH zone on a condition without ties (the zone left of
    the first X and the step widths), or None when :func:`_null_batch` calls
    :func:`ceilings_batch` (ties, or other ceilings)."""
    if tuple(ceilings) != ("ce_fdh",) or fit.lay.ties:
        return None
    x0, x1, y0, y1 = fit.tscope
    ux = fit.lay.ux
    return (ux[0] - x0) * (y1 - y0), step_widths(ux, x1)


def _calibrate(fit: ConditionFit, ys_sorted: np.ndarray, r_obs: float,
               rng: _Draws, draws: int = 200, scores: tuple | None = None) -> float:
    """The copula correlation whose null samples have, on average, the observed normal-scores
    correlation (ties in the margins attenuate it): three fixed-point steps ρ ← ρ·r/r̄(ρ) on
    common random numbers.  Returns r_obs itself for margins without ties.  ``scores``: the
    normal scores of the sorted margins (X's, Y's; 1 × N each), if known
    (:func:`_margin_scores`)."""
    if not fit.lay.ties and not np.any(ys_sorted[1:] == ys_sorted[:-1]):  # sorted: no ties
        return r_obs
    n = ys_sorted.size
    # the scores of every null sample are those of the sorted margins, placed: ranked once
    x_sorted, y_sorted = _margin_scores(fit, ys_sorted) if scores is None else scores
    # X's scores are the same in every sample: centred and summed once (the numbers of
    # _scores_correlation on the rows of the broadcast array)
    cx = x_sorted - x_sorted.mean(axis=1, keepdims=True)
    sxx = (cx * cx).sum(axis=1)
    sy_sorted = y_sorted[0]
    zx = rng.sorted_normal((draws, n))
    e = rng.normal((draws, n))
    rho = r_obs
    for _ in range(3):
        z = _latent_y(np.full(draws, rho), zx, e)
        sy = _placed(sy_sorted, z)
        sy -= sy.mean(axis=1, keepdims=True)
        den = np.sqrt(sxx * (sy * sy).sum(axis=1))
        r = np.where(den > 0, (cx * sy).sum(axis=1) / np.where(den > 0, den, 1.0), 0.0)
        r_sim = float(np.mean(r))
        if abs(r_sim) < 1e-12:
            break
        rho = float(np.clip(rho * r_obs / r_sim, -0.999, 0.999))
    return rho


def _calibrate_spread(fit: ConditionFit, ys_sorted: np.ndarray, rho: float, r_obs: float,
                      g_obs: float, g_se: float, rng: _Draws,
                      draws: int = 50, scores: tuple | None = None) -> float:
    """The spread slope γ whose null samples have, on average, the observed
    :func:`scale_slope`: the normal scores of a heteroscedastic Z_Y are not Z_Y, which
    attenuates γ̂ by a factor a.  a is measured once, on common random numbers, at a reference
    γ_ref = max(|γ̂|, 2·SE) (away from 0, where the ratio of two noisy slopes is unstable), and
    γ = γ̂/a.  ``scores``: as for :func:`_calibrate`."""
    n = ys_sorted.size
    # the null pairs the i-th smallest X with ys_sorted[idx[i]]: the ranks of the pairs are
    # the average ranks of the sorted margins, taken in that order (and their normal scores
    # are those of the sorted ranks, placed: the same numbers, N evaluations of Φ⁻¹ instead
    # of draws × N)
    # (for margins without ties both are the scores of 1..N, and X's standardised, kept)
    x_sorted, y_sorted = _margin_scores(fit, ys_sorted) if scores is None else scores
    if fit.lay.ties:
        nx, sx = x_sorted, None
    else:
        nx, sx = _untied_scores(n)
    untied_y = y_sorted is _untied_scores(n)[0]
    ny_sorted = y_sorted[0]
    zx = rng.sorted_normal((draws, n))
    e = rng.normal((draws, n))
    g_ref = max(abs(g_obs), 2.0 * g_se, 1e-3)
    z, free = _latent_y_fixed(rho, g_ref, zx, e)
    # the untied scores repeated row after row: a contiguous source for the placing; the
    # arrays the draws and Z_Y leave behind are reused (Z_X's only when it is not logged)
    placed = _placed(ny_sorted, z, _untied_tiled(n, draws) if untied_y else None,
                     out=zx if zx.flags.writeable else None, scratch=free)
    g = _slopes_from_scores(nx, placed, r_obs, sx, overwrite=True, scratch=(z, free))[0]
    g_sim = float(_add_reduce(g)) / g.size  # np.mean's numbers
    a = min(max(g_sim / g_ref, 0.2), 1.5)  # np.clip's, on floats
    return min(max(g_obs / a, -1.0), 1.0)


def correlation_matched_null(fit: ConditionFit, ceilings=("ce_fdh",), draws: int = 2000,
                             rng: np.random.Generator | None = None,
                             resample_r: bool = True, spread: bool = True) -> dict:
    """The correlation-matched null distribution of d for one condition of an NCA.

    ``resample_r=False`` keeps the copula correlation (and the spread slope γ) fixed at the
    (calibrated) observed value instead of drawing it from its sampling distribution;
    ``spread=False`` fixes γ = 0 (a Gaussian copula, the null before issue 13's item 2).

    Returns: ``{"r": observed normal-scores correlation (mirrored units), "rho": the
    calibrated copula correlation, "gamma": the estimated spread slope (0 when
    ``spread=False``), "d": {ceiling: array of B null d}}``.
    """
    rng = _as_draws(np.random.default_rng() if rng is None else rng)
    setup = _matched_setup(fit, draws, rng, resample_r, spread)
    n = fit.x.size
    out = {c: np.empty(draws) for c in ceilings}
    done = 0
    for b, part in _matched_batches(fit, setup, ceilings, rng, _default_batches(draws, n)):
        for c in ceilings:
            out[c][done:done + b] = part[c]
        done += b
    return {"r": setup["r"], "rho": setup["rho"], "gamma": setup["gamma"], "d": out}


def _default_batches(draws: int, n: int) -> list[int]:
    """Batches of at most 2¹⁸ values (B × N) each."""
    return even_batches(draws, max(1, min(draws, _BATCH_ELEMENTS // max(n, 1))))


def _margin_scores(fit: ConditionFit, ys_sorted: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Φ⁻¹((rank − ½)/N) of the sorted condition (mirrored: the layout's order) and of the
    sorted outcome, 1 × N each (for a margin without ties the cached scores of 1..N)."""
    n = ys_sorted.size
    lay = fit.lay
    if lay.ties:
        x_sorted = _normal_scores(_sorted_ranks(lay.ux.repeat(lay.sizes)), n)[None, :]
    else:
        x_sorted = _untied_scores(n)[0]
    return x_sorted, _sorted_scores(ys_sorted, n)


def _matched_setup(fit: ConditionFit, draws: int, rng: _Draws,
                   resample_r: bool = True, spread: bool = True) -> dict:
    """Everything the null samples of :func:`correlation_matched_null` need before they are
    drawn: the observed r, the calibrated ρ and γ̂ and each draw's ρ* and γ* (these random
    numbers first, in this order, then the samples batch by batch)."""
    yt = fit.sy * fit.y
    n = yt.size
    ys_sorted = np.sort(yt)
    # the normal scores of the observed pairs, once for r and for the spread slope: those of
    # the sorted margins (computed once per N without ties) placed through each margin's
    # order (the layout's is that of sx·x; Φ⁻¹ is elementwise: the numbers of the scores of
    # the average ranks)
    scores = _margin_scores(fit, ys_sorted)
    nrx = np.empty(n)
    nrx[fit.lay.order] = scores[0][0]
    nry = np.empty(n)
    nry[np.argsort(yt, kind="stable")] = scores[1][0]
    nrx, nry = nrx[None, :], nry[None, :]
    r_obs = float(_scores_correlation(nrx, nry)[0])
    rho = _calibrate(fit, ys_sorted, r_obs, rng, scores=scores)
    z = np.arctanh(min(max(rho, -0.999999), 0.999999))
    sd = 1.0 / np.sqrt(max(n - 3, 1))
    rhos = np.tanh(z + sd * rng.normal(draws)) if resample_r else np.full(draws, rho)
    gammas = None
    g_hat = 0.0
    if spread:
        g, se = _slopes_from_scores(nrx, nry, r_obs)  # _slopes_from_ranks(rx, ry, r_obs)
        g_obs, g_se = float(g[0]), float(se[0])
        g_hat = _calibrate_spread(fit, ys_sorted, rho, r_obs, g_obs, g_se, rng,
                                  scores=scores)
        # a spread that shrinks as X grows (γ < 0) fills the upper-left corner; the null's
        # least favourable case there is γ = 0, so the draws are cut at 0 (a noisy negative γ̂
        # would otherwise make the null's corner too full and the test liberal)
        gammas = np.maximum(0.0, g_hat + g_se * rng.normal(draws) if resample_r
                            else np.full(draws, g_hat))
    return {"r": r_obs, "rho": rho, "gamma": g_hat, "ys_sorted": ys_sorted, "rhos": rhos,
            "gammas": gammas}


def _matched_batches(fit: ConditionFit, setup: dict, ceilings, rng: _Draws,
                     sizes):
    """(size, {ceiling: null d}) of each batch of null samples, in the given sizes."""
    rhos, gammas = setup["rhos"], setup["gammas"]
    ys_sorted = setup["ys_sorted"]
    steps = _ce_steps(fit, ceilings)
    tiled = np.empty(0)  # ys_sorted repeated row after row (as many rows as a batch so far)
    done = 0
    for b in sizes:
        if tiled.size < b * ys_sorted.size:
            tiled = np.empty((b, ys_sorted.size))  # np.tile's, without its wrapper
            tiled[:] = ys_sorted
            tiled = tiled.reshape(-1)
        yield b, _null_batch(fit, ys_sorted, rhos[done:done + b], ceilings, rng,
                             None if gammas is None else gammas[done:done + b], steps, tiled)
        done += b


def _matched_p(k: int, draws: int) -> float:
    """The correlation-matched test's p for k null d ≥ the observed d: (k + 1)/(B + 1)."""
    return (k + 1) / (draws + 1)


def matched_test(fit: ConditionFit, ceiling: str, draws: int, rng: np.random.Generator,
                 spread: bool = True) -> tuple[dict, float]:
    """The correlation-matched test of one condition: its null
    (:func:`correlation_matched_null`) and p = (k + 1)/(B + 1), k the null d's ≥ the observed
    d."""
    null = correlation_matched_null(fit, (ceiling,), draws, rng, spread=spread)
    k = int(np.sum(null["d"][ceiling] >= float(fit.rows[ceiling]["d"]) - TIE_TOL))
    return null, _matched_p(k, draws)


def matched_decision(fit: ConditionFit, ceiling: str, draws: int, rng: np.random.Generator,
                     alpha: float, *, spread: bool = True, stop: bool = True,
                     first: int = 20) -> tuple[bool, float, int]:
    """The correlation-matched test of one condition as a decision, stopped as soon as it is
    decided (:func:`~cbec_sem.propositions.necessity.sequential_count`; the power study,
    which needs only the verdict): (p < α, p, null samples drawn).

    The null samples are drawn in batches growing from ``first`` (20, 20, 40, 80, …), and the
    count of null d ≥ the observed d is checked after each: once it reaches the h at which
    (h + 1)/(B + 1) ≥ α the test cannot reject, whatever the remaining draws, and stops.
    ``stop=False`` draws all B on the same random numbers: the same verdict always (the
    early stop is exact, not an approximation), and the p of :func:`matched_test`, whose
    draws differ only in their batching (it draws 2¹⁸ values per batch)."""
    rng = _as_draws(rng)
    setup = _matched_setup(fit, draws, rng, True, spread)
    n = fit.x.size
    cap = max(1, _BATCH_ELEMENTS // max(n, 1))
    batches = (part[ceiling] for _, part in
               _matched_batches(fit, setup, (ceiling,), rng, growing_batches(draws, first, cap)))
    return sequential_count(batches, float(fit.rows[ceiling]["d"]), draws, alpha, _matched_p,
                            stop)


def _size(d: float) -> str:
    return "small" if d < 0.1 else "medium" if d < 0.3 else "large" if d < 0.5 else "very large"


def necessity_verdict(result: NCAResult, *, draws: int = 2000, seed=None,
                      d_threshold: float = 0.1, alpha: float = 0.05,
                      ceiling: str | None = None, spread: bool = True,
                      shared_draws: dict | None = None) -> pd.DataFrame:
    """Verdicts on necessity claims that separate necessity from correlation.

    A condition is called *necessary* when all three hold:

    * NCA's effect size d ≥ ``d_threshold`` (Dul 2016),
    * NCA's permutation p < ``alpha`` (the corner is emptier than for unrelated X and Y;
      Dul, van der Laan & Kuik 2020), and
    * the correlation-matched p < ``alpha`` (the corner is emptier than the observed
      dependence alone makes it; see the module docstring).

    Args:
        result: an :class:`~cbec_sem.propositions.necessity.NCAResult` with a permutation test
            (``permutations > 0``).
        draws: null samples of the correlation-matched test.
        seed: seed of those draws (``np.random.default_rng(seed)``; conditions in order).
        d_threshold, alpha: the thresholds above.
        ceiling: the ceiling judged (default CE-FDH when computed, else the first).
        spread: let the null's conditional spread change with the condition (the default;
            see the module docstring); ``False`` is the plain Gaussian-copula null, which
            calls a spread that grows with X necessity.
        shared_draws: a dict the caller keeps across calls (e.g. one per hypothesis table):
            with an integer ``seed``, the null's normal draws are kept in it under the seed,
            and a later call with the same seed takes them from it instead of drawing them
            again (the same numbers: the verdicts are the same with or without it; it holds
            about 2 × draws × N floats per seed).

    Returns: one row per condition with :data:`VERDICT_COLUMNS`: NCA's ``d``, ``size`` and
    permutation ``p_value``; the normal-scores correlation ``r``; ``d_null`` (E₀[d], the
    expected d under the correlation-matched null) with its Monte Carlo standard error
    ``d_null_se``; ``d_excess`` = d − d_null; ``p_matched`` with its Monte Carlo accuracy
    (95% half-width); ``necessary``, ``verdict`` ("necessary", "not necessary", "not tested")
    and ``reason``.

    Raises:
        SpecError: ``draws`` < 1, or a ceiling that was not computed.
    """
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise SpecError(f"draws={draws!r} must be a whole number ≥ 1")
    if ceiling is None:
        ceiling = "ce_fdh" if "ce_fdh" in result.ceilings else result.ceilings[0]
    result._check_ceiling(ceiling)
    rng = _seeded_draws(seed, shared_draws)
    rows = []
    for cond in result.conditions:
        fit = result._fits[cond]
        row = fit.rows[ceiling]
        d, p = float(row["d"]), float(row["p_value"])
        null, pm = matched_test(fit, ceiling, int(draws), rng, spread)
        dn = null["d"][ceiling]
        base = {"condition": cond, "outcome": result.outcome, "ceiling": ceiling,
                "n": int(row["n"]), "d": d, "size": _size(d), "p_value": p, "r": null["r"],
                "d_null": float(dn.mean()), "d_null_se": float(dn.std(ddof=1) / np.sqrt(draws))
                if draws > 1 else np.nan, "d_excess": d - float(dn.mean()), "p_matched": pm,
                "p_matched_accuracy": Z975 * np.sqrt(pm * (1 - pm) / draws), "draws": draws}
        if not np.isfinite(p):
            nec, verdict = None, "not tested"
            reason = "no permutation test (permutations=0)"
        else:
            ok_d, ok_p, ok_m = d >= d_threshold, p < alpha, pm < alpha
            nec = bool(ok_d and ok_p and ok_m)
            verdict = "necessary" if nec else "not necessary"
            reason = (f"d = {d:.3f} {'≥' if ok_d else '<'} {d_threshold:g}; permutation "
                      f"p = {p:.4f} {'<' if ok_p else '≥'} {alpha:g}; correlation-matched "
                      f"p = {pm:.4f} {'<' if ok_m else '≥'} {alpha:g} (d expected from the "
                      f"dependence alone, r = {null['r']:.2f}: {base['d_null']:.3f})")
        rows.append({**base, "necessary": nec, "verdict": verdict, "reason": reason})
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


# ============================================================================ latent scores

#: Columns of :func:`necessity_verdict_scores` (beyond those of :func:`necessity_verdict`).
SCORE_COLUMNS = ["scores", "plausible_values", "d_pv_lower", "d_pv_upper"]


def necessity_verdict_scores(res, condition: str, outcome: str, *, plausible_values: int = 20,
                             permutations: int = 999, draws: int = 999, seed=None,
                             d_threshold: float = 0.1, alpha: float = 0.05,
                             ceiling: str = "ce_fdh", shared_draws: dict | None = None
                             ) -> pd.DataFrame:
    """The necessity verdict of :func:`necessity_verdict` on the latent variables of a fitted
    model, carrying the uncertainty of the latent scores.

    With ``plausible_values = m > 0`` the scores are m plausible values: draws of every case's
    latent variables from their posterior under the fitted normal model, N(E(η | x),
    Var(η | x)) (Mislevy 1991; :func:`~cbec_sem.measurement.scores.latent_posterior`).
    NCA and the correlation-matched test are run on each set; the reported d, d_null, r and
    d_excess are means over the m sets, ``d_pv_lower``/``d_pv_upper`` the 2.5 and 97.5
    percentiles of d over them (the spread due to the scores alone), and the p-values are the
    medians over the sets (the median-P rule of Eekhout, van de Wiel & Heymans 2017).  The
    verdict applies the three conditions of :func:`necessity_verdict` to these.  Plausible
    values, unlike regression scores, are not shrunk towards the mean, so d is not inflated
    by the shrinkage, and measurement error spreads the cases as it does in the population.

    With ``plausible_values=0`` the regression (Thurstone) scores are used once, as
    :func:`~cbec_sem.propositions.necessity.nca` does for a fitted model; then
    ``shared_draws`` is passed on to :func:`necessity_verdict` (calls with the same ``seed``
    draw the correlation-matched null's normals once; with plausible values it is not used,
    as every set has its own seed and keeping all their draws would cost memory).

    Raises:
        SpecError: a bad count; DataError: an unknown construct (from the scoring).
    """
    if isinstance(plausible_values, bool) or not isinstance(plausible_values, (int, np.integer)) \
            or plausible_values < 0:
        raise SpecError(f"plausible_values={plausible_values!r} must be a whole number ≥ 0")
    rng = np.random.default_rng(seed)
    if plausible_values == 0:
        frame = construct_scores(res, [condition, outcome], "latent")
        r = nca(frame, condition, outcome, ceilings=(ceiling,), permutations=permutations,
                seed=rng.integers(2**63))
        v = necessity_verdict(r, draws=draws, seed=rng.integers(2**63), ceiling=ceiling,
                              d_threshold=d_threshold, alpha=alpha, shared_draws=shared_draws)
        return v.assign(scores="regression (Thurstone) scores of the fit", plausible_values=0,
                        d_pv_lower=np.nan, d_pv_upper=np.nan)
    latent = list(res.estimation.ram.latent)
    missing = [c for c in (condition, outcome) if c not in latent]
    if missing:
        raise SpecError(f"{', '.join(map(repr, missing))} is not a latent variable of the fit; "
                        f"plausible values exist for: {', '.join(latent)}")
    ix = [latent.index(condition), latent.index(outcome)]
    groups = latent_posterior(res)
    rows = []
    for _ in range(int(plausible_values)):
        blocks = []
        for _, mean, post in groups:
            cov = post[np.ix_(ix, ix)]
            w, v = np.linalg.eigh(cov)
            root = v * np.sqrt(np.clip(w, 0.0, None))
            blocks.append(mean[:, ix] + rng.standard_normal((mean.shape[0], 2)) @ root.T)
        pv = np.vstack(blocks)
        r = nca(None, pd.Series(pv[:, 0], name=condition), pd.Series(pv[:, 1], name=outcome),
                ceilings=(ceiling,), permutations=permutations, seed=rng.integers(2**63))
        rows.append(necessity_verdict(r, draws=draws, seed=rng.integers(2**63),
                                      ceiling=ceiling).iloc[0])
    t = pd.DataFrame(rows)
    d = float(t["d"].mean())
    p = float(t["p_value"].median())
    pm = float(t["p_matched"].median())
    d_null = float(t["d_null"].mean())
    ok_d, ok_p, ok_m = d >= d_threshold, p < alpha, pm < alpha
    nec = bool(ok_d and ok_p and ok_m)
    m = int(plausible_values)
    reason = (f"over {m} plausible values: mean d = {d:.3f} {'≥' if ok_d else '<'} "
              f"{d_threshold:g}; median permutation p = {p:.4f} {'<' if ok_p else '≥'} "
              f"{alpha:g}; median correlation-matched p = {pm:.4f} {'<' if ok_m else '≥'} "
              f"{alpha:g} (d expected from the dependence alone: {d_null:.3f})")
    row = {"condition": condition, "outcome": outcome, "ceiling": ceiling,
           "n": int(t["n"].iloc[0]), "d": d, "size": _size(d), "p_value": p,
           "r": float(t["r"].mean()), "d_null": d_null,
           "d_null_se": float(np.sqrt(np.mean(t["d_null_se"] ** 2) / m)),
           "d_excess": d - d_null, "p_matched": pm,
           "p_matched_accuracy": float(t["p_matched_accuracy"].median()), "draws": draws,
           "necessary": nec, "verdict": "necessary" if nec else "not necessary",
           "reason": reason, "scores": f"{m} plausible values from the fit's posterior",
           "plausible_values": m, "d_pv_lower": float(np.percentile(t["d"], 2.5)),
           "d_pv_upper": float(np.percentile(t["d"], 97.5))}
    return pd.DataFrame([row], columns=VERDICT_COLUMNS + SCORE_COLUMNS)


def necessity_provider(res, permutations: int, seed, alpha: float, *, draws: int = 2000,
                       plausible_values: int = 0, d_threshold: float = 0.1):
    """Evidence for necessity hypotheses in ``res.hypotheses`` (the provider protocol of
    :mod:`cbec_sem.propositions.evidence`: ``provide(condition, outcome)`` returns the row
    values and the method text, or raises ``LookupError`` with the reason there is no test).

    The verdict is :func:`necessity_verdict_scores`: "supported" only when d ≥ ``d_threshold``,
    NCA's permutation p < α *and* the correlation-matched p < α.  ``estimate`` is NCA's d and
    ``p`` the larger of the two p-values (the one that decides); the note gives both, the d
    expected from the dependence alone, and which scores were used.  The tests share one seed,
    so their correlation-matched nulls draw their normals once (``shared_draws``).
    """
    shared: dict = {}

    def provide(condition: str, outcome: str) -> tuple[dict, str]:
        if not res.converged.optimizer_converged:
            raise LookupError("the model did not converge, so there are no latent scores")
        try:
            v = necessity_verdict_scores(
                res, condition, outcome, plausible_values=plausible_values,
                permutations=permutations, draws=draws, seed=seed, d_threshold=d_threshold,
                alpha=alpha, shared_draws=shared).iloc[0]
        except CbecSemError as err:
            raise LookupError(f"necessary condition analysis failed: {err}") from None
        if not res.is_covariance_fit:  # a PLS fit's scores are its composites
            scores = f"{res.estimator} construct scores"
        elif plausible_values == 0:
            scores = "latent regression scores"
        else:
            scores = f"latent {plausible_values} plausible values"
        text = (f"NCA on {scores}, CE-FDH, permutation test ({permutations} draws) and "
                f"correlation-matched test ({draws} draws)")
        values = {"estimate": float(v["d"]),
                  "p": float(max(v["p_value"], v["p_matched"])),
                  "verdict": "supported" if v["necessary"] else "not supported",
                  "note": (f"estimate is the NCA effect size d; necessary when d ≥ "
                           f"{d_threshold:g} and both p < {alpha:g}: here NCA's permutation "
                           f"p = {v['p_value']:.4f}, correlation-matched p = "
                           f"{v['p_matched']:.4f}, and the d expected from the dependence "
                           f"alone (r = {v['r']:.2f}) is {v['d_null']:.3f}; scores: "
                           f"{v['scores']}")}
        return values, text

    return provide
