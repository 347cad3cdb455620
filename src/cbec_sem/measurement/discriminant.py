"""Discriminant validity: Fornell–Larcker, HTMT/HTMT2 (with a fast bootstrap), cross-loadings.

* :func:`fornell_larcker` — Fornell & Larcker (1981): a construct's √AVE should exceed its
  correlations with every other construct.  Latent correlations are the model-implied ones
  (lavaan's ``lavInspect(fit, "cor.lv")``).
* :func:`htmt` — the heterotrait–monotrait ratio of correlations, Henseler, Ringle & Sarstedt
  (2015): the mean correlation between the items of two constructs over the geometric mean of
  the two constructs' mean within-construct item correlations; HTMT2, Roemer, Schuberth &
  Henseler (2021), replaces every arithmetic mean by a geometric one.  Computed as semTools'
  ``htmt()`` (0.5-6) does: Pearson correlations of the listwise-complete items (lavaan's
  ``lavCor()``), **absolute** correlations by default (``absolute = TRUE``; HTMT2 always).
  Bootstrap inference follows Henseler et al. (2015, "HTMT_inference") and Franke & Sarstedt
  (2019): a construct pair is judged distinct at a threshold when the upper bound of the
  one-sided percentile interval (the ``level`` quantile of the bootstrap draws) lies below it.
* :func:`cross_loadings` — structure coefficients: the model-implied correlation of every item
  with every latent variable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from .composite import is_pls
from ..pls import assessment as pls_assessment
from ..protocol import Block, ResultProtocol, Summary
from ..modelfit import FittedModel
from ..specification.model import as_model
from ..errors import DataError, SpecError
from ..specification.model import ModelSpec
from ..validation import MAX_PERMUTATIONS, check_count, check_flag, check_level, check_seed
from ._common import blocks, check_fit, inadmissible_note, multigroup
from .reliability import reliability
from ..engine.samplestats import sample_stats
from .scores import score_weights

# ----------------------------------------------------------------------------- Fornell–Larcker


def fornell_larcker(res, *, ave: str = "semTools") -> pd.DataFrame:
    """The Fornell–Larcker (1981) criterion table.

    Args:
        res: a converged :class:`~cbec_sem.results.FitResult`.
        ave: which AVE to take the root of: ``"semTools"`` (the ``ave`` column of
            :func:`~cbec_sem.measurement.reliability`, semTools' ``AVE()``) or ``"std"``
            (``ave.std``, the mean squared standardised loading).

    Returns:
        Constructs × constructs: √AVE on the diagonal, model-implied latent correlations off
        it; then ``max_abs_r`` (the largest |r| with another construct), ``passes``
        (√AVE > ``max_abs_r``; NA where AVE is not defined) and ``note``.  First-order
        constructs only: a higher-order factor has no AVE, and its correlation with its own
        first-order factors is a loading, not a discriminant-validity question.  Multi-group
        fits: the index is (group, construct).

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> cs.fornell_larcker(res).round(3)
                      TA     FA     PC     VP     FO     IS  max_abs_r  passes note
        construct
        TA         0.732  0.458  0.318  0.180  0.178  0.167      0.458    True
        FA         0.458  0.725  0.146  0.374  0.371  0.347      0.458    True
        PC         0.318  0.146  0.749  0.250  0.248  0.232      0.318    True
        VP         0.180  0.374  0.250  0.732  0.580  0.543      0.580    True
        FO         0.178  0.371  0.248  0.580  0.704  0.539      0.580    True
        IS         0.167  0.347  0.232  0.543  0.539  0.709      0.543    True
    """
    if is_pls(res):
        return pls_assessment.fornell_larcker(res.estimation)
    if ave not in ("semTools", "std"):
        raise SpecError(f"ave={ave!r}: use 'semTools' (semTools' AVE()) or 'std' (mean "
                        "squared standardised loading)")
    check_fit(res, "fornell_larcker()")
    rel = reliability(res)
    col = "ave" if ave == "semTools" else "ave.std"
    multi = multigroup(res)
    caution = inadmissible_note(res)
    out = []
    for blk in blocks(res):
        names = [c.name for c in blk.constructs.values() if not c.higher_order]
        ix = blk.idx(names)
        cov = blk.C[np.ix_(ix, ix)]
        sd = np.sqrt(np.diag(cov))
        cor = cov / np.outer(sd, sd)
        sub = rel[rel["group"] == blk.label] if multi else rel
        sub = sub.set_index("construct")
        root = np.sqrt(sub.loc[names, col].to_numpy(dtype=float))
        mat = cor.copy()
        np.fill_diagonal(mat, root)
        frame = pd.DataFrame(mat, index=pd.Index(names, name="construct"), columns=names)
        off = np.abs(cor)
        np.fill_diagonal(off, np.nan)
        max_r = np.nanmax(off, axis=1) if len(names) > 1 else np.full(len(names), np.nan)
        frame["max_abs_r"] = max_r
        passes = pd.array([pd.NA if not np.isfinite(a) or not np.isfinite(m) else bool(a > m)
                           for a, m in zip(root, max_r)], dtype="boolean")
        frame["passes"] = passes
        notes = []
        for name, a in zip(names, root):
            note = "" if np.isfinite(a) else f"AVE not defined: {sub.loc[name, 'note']}"
            if caution:
                note = f"{note}; {caution}" if note else caution
            notes.append(note)
        frame["note"] = notes
        if multi:
            frame.index = pd.MultiIndex.from_product([[blk.label], names],
                                                     names=["group", "construct"])
        out.append(frame)
    return out[0] if len(out) == 1 else pd.concat(out)


# ----------------------------------------------------------------------------- cross-loadings


def cross_loadings(res, *, kind: str = "structure") -> pd.DataFrame:
    """Correlation of every observed item with every latent variable.

    Args:
        res: a converged :class:`~cbec_sem.results.FitResult`.
        kind: ``"structure"`` (default) — structure coefficients, the model-implied
            correlation Cov(x_i, η_f)/(σ̂_i σ̂_f) from C = B S Bᵀ: the correlation of each item
            with the latent variable itself (for an item loading on one factor only, its own
            column equals its ``std.all`` loading); ``"scores"`` — the sample correlation of
            each item with the regression factor scores (:func:`factor_scores`), the
            PLS-style cross-loading table.  Under the model, score correlations are the
            structure coefficients times σ_η / σ_η̂ ≥ 1 (scores vary less than the factors);
            in a sample they also carry its misfit.

    Returns:
        Items × latent variables (index ``item``; (group, item) for multi-group fits).

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> cs.cross_loadings(res).round(2).head(4)
                TA    FA    PC    VP    FO    IS   SCI
        item
        ta1   0.81  0.37  0.26  0.15  0.14  0.14  0.19
        ta2   0.74  0.34  0.24  0.13  0.13  0.12  0.17
        ta3   0.73  0.34  0.23  0.13  0.13  0.12  0.17
        ta4   0.63  0.29  0.20  0.11  0.11  0.10  0.15
    """
    if is_pls(res):
        return pls_assessment.cross_loadings(res.estimation)
    if kind not in ("structure", "scores"):
        raise SpecError(f"kind={kind!r}: use 'structure' or 'scores'")
    check_fit(res, "cross_loadings()")
    multi = multigroup(res)
    out = []
    for blk in blocks(res):
        p = blk.p
        if kind == "structure":
            sd = np.sqrt(np.diag(blk.C))
            mat = blk.C[:p, p:] / np.outer(sd[:p], sd[p:])
        else:

            w = score_weights(blk)
            xc = blk.data - blk.data.mean(axis=0)
            f = xc @ w.T
            cov = xc.T @ f
            mat = cov / np.outer(np.sqrt((xc ** 2).sum(axis=0)),
                                 np.sqrt((f ** 2).sum(axis=0)))
        frame = pd.DataFrame(mat, index=pd.Index(list(blk.observed), name="item"),
                             columns=list(blk.latent))
        if multi:
            frame.index = pd.MultiIndex.from_product([[blk.label], list(blk.observed)],
                                                     names=["group", "item"])
        out.append(frame)
    return out[0] if len(out) == 1 else pd.concat(out)


# ----------------------------------------------------------------------------- HTMT


@dataclass(frozen=True, eq=False)
class HTMTResult(ResultProtocol):
    """HTMT (or HTMT2) of every pair of constructs, with bootstrap inference when asked.

    Attributes:
        matrix: constructs × constructs, lower triangle and a unit diagonal (as semTools
            prints it); the upper triangle is NaN.
        table: one row per pair (``construct_1``, ``construct_2``, ``pair``, ``htmt``; with
            a bootstrap also ``se``, ``ci.lower``, ``ci.upper`` (percentile, two-sided at
            ``level``), ``upper_1s`` (the ``level`` quantile: the one-sided upper bound),
            ``p_below_1``, ``n_draws``), then one verdict column per threshold, e.g.
            ``below_085``, ``below_090``, and ``note``.
        draws: bootstrap draws (draws × pairs) or None.
        htmt2: geometric means (HTMT2) rather than arithmetic.
        absolute: absolute correlations were averaged.
        bootstrap: number of bootstrap draws requested (0: none).
        level: confidence level of the intervals.
        thresholds: the thresholds judged.
        nobs: rows used (listwise-complete on the items).
        seed: the seed given.
        notes: what the user should know (constructs left out, failed draws, ...).

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> h = cs.htmt(res, bootstrap=50, seed=1)
        >>> isinstance(h, cs.HTMTResult)
        True
        >>> h.table[["pair", "htmt", "ci.lower", "ci.upper"]].head(3).round(3)
            pair   htmt  ci.lower  ci.upper
        0  TA-FA  0.460     0.354     0.543
        1  TA-PC  0.323     0.215     0.410
        2  TA-VP  0.214     0.119     0.328
    """

    matrix: pd.DataFrame
    table: pd.DataFrame
    draws: pd.DataFrame | None
    htmt2: bool
    absolute: bool
    bootstrap: int
    level: float
    thresholds: tuple[float, ...]
    nobs: int
    seed: object = None
    notes: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:
        name = "HTMT2" if self.htmt2 else "HTMT"
        head = f"<HTMTResult {name}, {len(self.table)} pairs, N = {self.nobs}"
        return head + (f", {self.bootstrap} bootstrap draws>" if self.bootstrap else ">")

    def __str__(self) -> str:
        return str(self.summary())

    def to_frame(self) -> pd.DataFrame:
        """One row per pair of constructs (:attr:`table`)."""
        return self.table.copy()

    def summary(self) -> Summary:
        """The HTMT matrix and the pairwise table with its intervals and judgements."""
        return Summary("Heterotrait-monotrait ratio (HTMT)",
                       (Block("Matrix", self.matrix.reset_index(names="construct")),
                        Block("Pairs", self.table.drop(columns=["note"], errors="ignore"))),
                       tuple(self.notes))


@dataclass(frozen=True)
class _Design:
    """Which item correlations each mean of the HTMT formula averages.

    The weights are sparse (``scipy.sparse`` CSR, rows × item pairs): a construct pair's row
    holds one entry per pair of its items, so the design and every HTMT evaluation cost
    O(L²) for L item memberships instead of O(k² p²) for k constructs and p items (300
    constructs of three items: 0.4 million entries instead of 18 billion).
    """

    constructs: tuple[str, ...]
    items: tuple[str, ...]
    pair_i: np.ndarray  # item pairs i < j: the correlations the formula uses
    pair_j: np.ndarray
    w_mono: sparse.csr_matrix  # constructs × item pairs (averaging weights; a zero row: undefined)
    w_het: sparse.csr_matrix  # construct pairs × item pairs
    cpairs: tuple[tuple[int, int], ...]
    pair_a: np.ndarray  # the constructs of each pair, as index arrays
    pair_b: np.ndarray

    @property
    def mono_defined(self) -> np.ndarray:
        """Constructs whose within-construct mean correlation exists (two or more items)."""
        return np.diff(self.w_mono.indptr) > 0


def _pair_slot(i: np.ndarray, j: np.ndarray, p: int) -> np.ndarray:
    """Position of item pair (i, j), i < j, in ``np.triu_indices(p, k=1)`` order."""
    return i * p - i * (i + 1) // 2 + (j - i - 1)


def _design(indicators: dict[str, tuple[str, ...]]) -> _Design:
    """The HTMT averaging weights, built without a loop over construct or item pairs."""
    constructs = tuple(indicators)
    items = tuple(dict.fromkeys(v for vs in indicators.values() for v in vs))
    pos = {v: k for k, v in enumerate(items)}
    p = len(items)
    k = len(constructs)
    pair_i, pair_j = np.triu_indices(p, k=1)
    npairs = pair_i.size
    # One entry per (construct, item) membership, in construct order.
    own = np.repeat(np.arange(k), [len(indicators[c]) for c in constructs])
    itm = np.array([pos[v] for c in constructs for v in indicators[c]], dtype=np.int64)
    e1, e2 = np.triu_indices(own.size, k=1)  # every pair of memberships, e1 < e2
    c1, c2 = own[e1], own[e2]  # c1 <= c2 (memberships are in construct order)
    a, b = itm[e1], itm[e2]
    use = a != b  # semTools sets the diagonal of R to NA and averages the rest
    c1, c2, a, b = c1[use], c2[use], a[use], b[use]
    slot = _pair_slot(np.minimum(a, b), np.maximum(a, b), p)
    same = c1 == c2

    def normalised(rows: np.ndarray, cols: np.ndarray, nrows: int) -> sparse.csr_matrix:
        w = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(nrows, npairs))
        w.sum_duplicates()
        total = np.asarray(w.sum(axis=1)).ravel()
        scale = np.divide(1.0, total, out=np.zeros_like(total), where=total > 0)
        return sparse.csr_matrix(sparse.diags(scale) @ w)

    w_mono = normalised(c1[same], slot[same], k)
    ca, cb = np.triu_indices(k, k=1)
    cpairs = tuple(zip(ca.tolist(), cb.tolist()))
    het_row = _pair_slot(c1[~same], c2[~same], k)
    w_het = normalised(het_row, slot[~same], len(cpairs))
    return _Design(constructs, items, pair_i, pair_j, w_mono, w_het, cpairs, ca, cb)


def _htmt_values(r: np.ndarray, design: _Design, htmt2: bool, absolute: bool) -> np.ndarray:
    """HTMT of every construct pair from item correlations ``r`` (draws × item pairs).

    A correlation that is undefined (NaN) or zero (HTMT2: log 0) enters only the means of the
    pairs whose items it correlates: the sparse products never multiply it by a zero weight.
    """
    r = np.atleast_2d(r)
    v = np.abs(r) if (absolute or htmt2) else r
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if htmt2:
            v = np.log(v)
        vt = np.ascontiguousarray(v.T)
        mono = np.asarray(design.w_mono @ vt).T
        het = np.asarray(design.w_het @ vt).T
        if htmt2:
            mono = np.exp(mono)
            het = np.exp(het)
        mono[:, ~design.mono_defined] = np.nan
        return het / np.sqrt(mono[:, design.pair_a] * mono[:, design.pair_b])


def _resolve(model, data) -> tuple[ModelSpec, tuple | None, object]:
    """The model and, from a FitResult, its data (single group)."""
    if isinstance(model, FittedModel):
        if data is not None:
            return model.model, None, data
        if model.estimation.stats.ngroups > 1:
            raise SpecError(
                "htmt() of a multi-group fit: HTMT is computed on one sample; pass the model "
                "and one group's rows, e.g. htmt(res.model, data[data['group'] == 'a'])"
            )
        stats = model.estimation.stats
        return model.model, (stats.complete_data[0], stats.names), None
    return as_model(model), None, data


def _bootstrap_batch_size(n: int) -> int:
    """Draws per batch: the counts matrix stays near 4 million cells.  Depends on N only,
    so the same seed gives the same draws on every machine."""
    return int(max(1, min(2000, 4_000_000 // max(n, 1))))


def resample_indices(rng: np.random.Generator, n: int, draws: int):
    """Yield bootstrap row indices (batch × n), the exact draws :func:`htmt` uses: the
    row-resampling counts of a batch are the bincounts of these indices."""
    size = _bootstrap_batch_size(n)
    done = 0
    while done < draws:
        b = min(size, draws - done)
        yield rng.integers(0, n, size=(b, n))
        done += b


def _bootstrap(x: np.ndarray, design: _Design, draws: int, rng, htmt2: bool,
               absolute: bool) -> np.ndarray:
    """HTMT of every construct pair in ``draws`` nonparametric bootstrap samples.

    Each resample is represented by its multinomial counts c (how often each row is drawn), so
    its moments are weighted sums: mean = cᵀX/N, second moments = cᵀZ/N with Z the row-wise
    products x_i x_j (i ≤ j) of the centred, scaled data — one matrix product per batch.
    """
    n, p = x.shape
    xc = x - x.mean(axis=0)
    xc = xc / np.sqrt((xc ** 2).mean(axis=0))
    iu, ju = np.triu_indices(p)  # with the diagonal
    # Row-wise products, stored when they fit in ~128 MB, else formed per row chunk.
    chunk = max(1, 16_000_000 // iu.size)
    z = xc[:, iu] * xc[:, ju] if n <= chunk else None
    col = np.full((p, p), -1, dtype=int)
    col[iu, ju] = np.arange(iu.size)
    diag = col[np.arange(p), np.arange(p)]
    off = col[design.pair_i, design.pair_j]
    out = np.empty((draws, len(design.cpairs)))
    # Draws per matrix product: the moment and HTMT matrices stay near 4 million cells however
    # many items there are (the resamples themselves do not depend on it).
    sub = max(1, 4_000_000 // max(iu.size, len(design.cpairs), 1))
    start = 0
    for idx in (part for whole in resample_indices(rng, n, draws)
                for part in np.array_split(whole, -(-whole.shape[0] // sub))):
        b = idx.shape[0]
        flat = (idx + (np.arange(b) * n)[:, None]).ravel()
        counts = np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)
        m1 = counts @ xc / n
        if z is not None:
            m2 = counts @ z / n
        else:
            m2 = np.zeros((b, iu.size))
            for lo in range(0, n, chunk):
                part = slice(lo, lo + chunk)
                m2 += counts[:, part] @ (xc[part][:, iu] * xc[part][:, ju])
            m2 /= n
        cov = m2 - m1[:, iu] * m1[:, ju]
        var = cov[:, diag]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = cov[:, off] / np.sqrt(var[:, design.pair_i] * var[:, design.pair_j])
        out[start:start + b] = _htmt_values(r, design, htmt2, absolute)
        start += b
    return out


#: Most averaging weights (pairs of item memberships) :func:`htmt` builds: 300 constructs of
#: three items need 0.4 million, and data of under 1 MB hold at most a few hundred items;
#: 2,000 constructs sharing three items (a 37 kB model) would need 18 million and a table of
#: 2 million pairs (issue 14: answer or refuse within 2 s).
MAX_HTMT_WEIGHTS = 2_000_000


def _threshold_name(t: float) -> str:
    return f"below_{int(round(t * 100)):03d}"


def htmt(
    model,
    data=None,
    *,
    htmt2: bool = False,
    absolute: bool = True,
    bootstrap: int = 0,
    level: float = 0.95,
    seed=None,
    thresholds=(0.85, 0.90),
) -> HTMTResult:
    """Heterotrait–monotrait ratio of correlations for every pair of constructs.

    HTMT_ij = mean |r| between the items of i and j / √(mean |r| among i's items ·
    mean |r| among j's items) (Henseler, Ringle & Sarstedt 2015); HTMT2 takes geometric means
    throughout (Roemer, Schuberth & Henseler 2021).  Values as semTools 0.5-6 ``htmt()``
    (whose default is ``htmt2 = TRUE``; ours is HTMT, the form most reviewers know).

    Args:
        model: a :class:`~cbec_sem.specification.ModelSpec`, lavaan syntax, or a
            :class:`~cbec_sem.results.FitResult` (its model, and its data unless ``data`` is
            given).  Constructs are the latent variables measured by observed items;
            higher-order factors (measured by latents) are left out, with a note.
        data: DataFrame with the items; rows with a missing item are dropped (listwise, as
            semTools' default ``missing = "listwise"``).
        htmt2: geometric means (HTMT2).
        absolute: average absolute correlations (semTools' default; HTMT2 always does).
            With ``False`` a construct with negatively correlated items can give NaN.
        bootstrap: number of nonparametric bootstrap draws (0: none).  Vectorised: 5000
            draws for 25 items and N = 2500 take a few seconds.
        level: confidence level of the percentile intervals and of the one-sided upper
            bound used for the verdicts.
        seed: seed (int or ``np.random.Generator``) of the bootstrap; the same seed gives
            the same draws.
        thresholds: HTMT thresholds to judge (0.85: Kline 2011 / Henseler et al. 2015,
            conceptually distinct constructs; 0.90: Gold et al. 2001, similar constructs).

    Returns:
        An :class:`HTMTResult`.  Verdicts (``below_085``…): without a bootstrap, whether the
        point estimate lies below the threshold; with one, whether the one-sided upper
        bound ``upper_1s`` does (Franke & Sarstedt 2019).  ``p_below_1`` is the one-sided
        bootstrap p-value of H0: HTMT ≥ 1 against H1: HTMT < 1 that inverts the percentile
        interval: the share of draws at or above 1, with the usual +1 correction,
        (1 + #{draws ≥ 1}) / (1 + B) (Davison & Hinkley 1997, ch. 4), so it is never 0;
        p < 1 − ``level`` agrees with ``upper_1s`` < 1 up to that correction.
        Draws where a correlation is undefined (an item constant in the resample) are left
        out of the summaries and counted in ``n_draws``.

    Raises:
        SpecError: fewer than two constructs with observed items; bad arguments.
        DataError: the data lack an item, hold non-numeric values, or have no data.

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> h = cs.htmt(res)
        >>> h.matrix.round(3)
               TA     FA     PC     VP     FO   IS
        TA  1.000    NaN    NaN    NaN    NaN  NaN
        FA  0.460  1.000    NaN    NaN    NaN  NaN
        PC  0.323  0.134  1.000    NaN    NaN  NaN
        VP  0.214  0.356  0.301  1.000    NaN  NaN
        FO  0.195  0.373  0.197  0.595  1.000  NaN
        IS  0.129  0.365  0.226  0.562  0.539  1.0
    """
    htmt2 = check_flag(htmt2, "htmt2")
    absolute = check_flag(absolute, "absolute")
    if is_pls(model):  # the PLS battery's HTMT, on the PLS fit's items (seminr's)
        if not absolute:
            raise SpecError("absolute=False: the PLS battery's HTMT averages absolute "
                            "correlations (seminr's convention); drop the argument")
        return pls_assessment.htmt(model.estimation, bootstrap=bootstrap, seed=seed,
                                   level=level, thresholds=tuple(thresholds))
    spec, fitted, data = _resolve(model, data)
    bootstrap = check_count(bootstrap, "bootstrap", minimum=0, maximum=MAX_PERMUTATIONS)
    level = check_level(level)
    seed = check_seed(seed)
    try:
        thresholds = tuple(float(t) for t in np.atleast_1d(thresholds))
    except (TypeError, ValueError):
        raise SpecError(f"thresholds={thresholds!r} must be numbers, e.g. (0.85, 0.90)") from None
    if not all(0.0 < t < np.inf for t in thresholds):
        raise SpecError(f"thresholds={thresholds}: HTMT thresholds are positive numbers")
    latent = set(spec.latent_variables)
    composites = {s.lhs for s in spec.statements if s.op == "<~"}
    notes: list[str] = []
    indicators = {}
    for name, inds in spec.indicators.items():
        if name in composites:  # as the PLS battery: HTMT is over mode-A constructs only
            notes.append(f"{name} is a composite ('<~'), whose items need not correlate: "
                         "left out (HTMT assumes reflective constructs)")
            continue
        lat = [v for v in inds if v in latent]
        if lat:
            notes.append(f"{name} is measured by latent variables ({', '.join(lat)}), so it "
                         "has no items of its own: left out (HTMT compares item correlations)")
            continue
        indicators[name] = tuple(inds)
    if len(indicators) < 2:
        raise SpecError(
            "HTMT needs at least two constructs measured by observed items; the model has "
            f"{len(indicators)} ({', '.join(indicators) or 'none'})"
        )
    memberships = sum(len(v) for v in indicators.values())
    if memberships * (memberships - 1) // 2 > MAX_HTMT_WEIGHTS:
        raise SpecError(
            f"HTMT of {len(indicators):,} constructs with {memberships:,} item memberships "
            f"needs up to {memberships * (memberships - 1) // 2:,} averaging weights; at most "
            f"{MAX_HTMT_WEIGHTS:,} are computed (constructs sharing items multiply them). "
            "Compute HTMT for a subset of the constructs: htmt('A =~ ...\nB =~ ...', data)"
        )
    items = tuple(dict.fromkeys(v for vs in indicators.values() for v in vs))
    # The data first: a data set that cannot give correlations is refused before any work
    # that grows with the number of item pairs.
    if fitted is not None:
        block, names = fitted
        where = {v: k for k, v in enumerate(names)}
        x = block[:, [where[v] for v in items]]
    else:
        if data is None:
            raise DataError("htmt() needs data: htmt(model, data) or htmt(fit_result)")

        x = sample_stats(data, items).data[0]
    design = _design(indicators)
    n = x.shape[0]
    r_full = np.corrcoef(x, rowvar=False)
    r = r_full[design.pair_i, design.pair_j]
    est = _htmt_values(r, design, htmt2, absolute)[0]
    single = [c for c, ok in zip(design.constructs, design.mono_defined) if not ok]
    for c in single:
        notes.append(f"{c} has a single item: its within-construct (monotrait) mean "
                     "correlation is not defined, so its HTMT values are NaN")
    k = len(design.constructs)
    mat = np.full((k, k), np.nan)
    np.fill_diagonal(mat, 1.0)
    mat[design.pair_b, design.pair_a] = est
    matrix = pd.DataFrame(mat, index=list(design.constructs), columns=list(design.constructs))
    first = [design.constructs[a] for a, _ in design.cpairs]
    second = [design.constructs[b] for _, b in design.cpairs]
    table = pd.DataFrame({
        "construct_1": first,
        "construct_2": second,
        "pair": [f"{a}-{b}" for a, b in zip(first, second)],
        "htmt": est,
    })
    draws_frame = None
    basis = est
    pair_notes = np.where(np.isfinite(est), "", "not defined (a single-item construct or a "
                          "non-positive mean within-construct correlation)").tolist()
    if bootstrap:
        rng = np.random.default_rng(seed)
        draws = _bootstrap(x, design, int(bootstrap), rng, htmt2, absolute)
        ok = np.isfinite(draws)
        n_ok = ok.sum(axis=0)
        lo_q, hi_q = (1.0 - level) / 2.0, (1.0 + level) / 2.0
        se = np.full(len(est), np.nan)
        lo = np.full(len(est), np.nan)
        hi = np.full(len(est), np.nan)
        up = np.full(len(est), np.nan)
        pv = np.full(len(est), np.nan)
        for j in range(len(est)):
            d = draws[ok[:, j], j]
            if d.size < 2:
                continue
            se[j] = d.std(ddof=1)
            lo[j], hi[j], up[j] = np.quantile(d, [lo_q, hi_q, level])
            pv[j] = (1.0 + np.count_nonzero(d >= 1.0)) / (1.0 + d.size)
        table["se"] = se
        table["ci.lower"] = lo
        table["ci.upper"] = hi
        table["upper_1s"] = up
        table["p_below_1"] = pv
        table["n_draws"] = n_ok
        failed = int(bootstrap) - n_ok
        if failed.max(initial=0) > 0:
            notes.append(f"{int(failed.max())} of {bootstrap} bootstrap draws gave an undefined "
                         "HTMT for some pair (e.g. an item constant in the resample) and were "
                         "left out of that pair's summaries")
        draws_frame = pd.DataFrame(draws, columns=table["pair"].tolist())
        basis = up
    undefined = ~np.isfinite(basis)
    for t in thresholds:
        with np.errstate(invalid="ignore"):
            below = np.asarray(basis < t)
        table[_threshold_name(t)] = pd.arrays.BooleanArray(below & ~undefined, undefined)
    table["note"] = pair_notes
    return HTMTResult(
        matrix=matrix, table=table, draws=draws_frame, htmt2=bool(htmt2),
        absolute=bool(absolute or htmt2), bootstrap=int(bootstrap), level=float(level),
        thresholds=thresholds, nobs=int(n), seed=seed, notes=tuple(notes),
    )
