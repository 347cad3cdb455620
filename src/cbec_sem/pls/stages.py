"""From a :class:`PLSModel` to one or two estimation stages, and running them on data batches.

* One stage for a plain model and for higher-order constructs by **repeated indicators**
  (Lohmöller 1989; Becker, Klein & Wetzels 2012, LRP 45: the higher-order construct takes all
  items of its dimensions, and paths HOC -> dimension are added).
* Two stages for higher-order constructs by the **embedded two-stage** approach, as seminr's
  ``higher_composite(method = two_stage)`` (``prepare_higher_order_model``): stage 1 replaces
  each HOC by its dimensions in the structural model (antecedents of the HOC point to every
  dimension, every dimension points to the HOC's outcomes); stage 2 uses the dimensions'
  stage-1 scores as the HOC's indicators.  The dimensions' weights and loadings are stage 1's.
* Two stages for **interactions** ``X:Z`` as seminr's ``two_stage`` interaction (Henseler &
  Chin 2010, SEM 17(1)): stage 1 is the model without interaction paths; the product of the
  stage-1 scores of X and Z is the single indicator of ``X:Z`` in stage 2, whose score is then
  rescaled to the product's standard deviation (seminr's ``adjust_interaction``), so the
  interaction path is per unit of the product of standardised scores.
* Three stages for a model with **both** (seminr ``estimate_pls``: ``prepare_higher_order_model``
  then ``process_interactions``; R seminr's test-hoc.R "HOC and second_order_interaction"):
  the HOC first stage as above; then the interaction's first stage, which is the HOC model
  (HOCs measured by the dimension scores) without the interaction paths; the products are of
  that stage's scores.  Reported weights and loadings: dimensions from the HOC first stage,
  the rest from the main stage (seminr ``combine_first_order_second_order_matrices``).

:func:`run_stages` takes raw data with a leading batch axis (B, N, p), standardises each draw
with the N−1 convention, and returns everything later steps need as arrays with that axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpecError
from .algorithm import Blocks, WeightIteration, iterate_weights, weight_matrix
from .model import PLSModel

__all__ = ["Stage", "Plan", "StageRun", "make_plan", "run_stages", "standardise"]


@dataclass(frozen=True)
class Stage:
    """One estimation stage.

    Attributes:
        names: construct names (k).
        blocks: measurement structure over the expanded indicator columns (q).
        indicator_names: (q,) the indicator name of each expanded column.
        sources: (q,) where each expanded column comes from: ``("item", c)`` a raw data
            column, ``("score", j)`` stage-1 construct j's score, ``("product", (i, j))`` the
            product of stage-1 scores i and j.
        interaction: (k,) True for product constructs (their scores are rescaled).
    """

    names: tuple[str, ...]
    blocks: Blocks
    indicator_names: tuple[str, ...]
    sources: tuple[tuple[str, object], ...]
    interaction: tuple[bool, ...]


@dataclass(frozen=True)
class Plan:
    """The stages of one estimation.

    ``first`` is the HOC first stage (dimensions in place of the HOC) or, in a model with
    interactions and no HOC, the interaction's first stage; ``middle`` is the interaction's
    first stage of a model with both (the HOC model without the interaction paths, HOCs
    measured by the first stage's dimension scores).  ``("score", j)`` sources always refer to
    ``first``; ``("product", (i, j))`` sources to :attr:`interaction_stage`.
    """

    first: Stage | None
    main: Stage
    items: tuple[str, ...]   # raw data columns, in this order
    hoc: str                 # "two_stage" | "repeated" | "none"
    middle: Stage | None = None

    @property
    def interaction_stage(self) -> Stage | None:
        """The stage whose scores form the two-stage products."""
        return self.middle if self.middle is not None else self.first


def _stage(names, modes, indicators, sources, paths, interaction=None) -> Stage:
    index = {n: j for j, n in enumerate(names)}
    con = np.array([index[c] for c, _ in indicators], dtype=int)
    adj = np.zeros((len(names), len(names)))
    for target, source in paths:
        adj[index[source], index[target]] = 1.0
    return Stage(tuple(names), Blocks(con, tuple(modes), adj),
                 tuple(i for _, i in indicators), tuple(sources),
                 tuple(interaction or [False] * len(names)))


INTERACTIONS = ("two_stage", "product_indicator", "orthogonal")


def make_plan(model: PLSModel, hoc: str = "two_stage", interaction: str = "two_stage") -> Plan:
    """Lay out the stages of ``model`` (see the module docstring)."""
    if hoc not in ("two_stage", "repeated"):
        raise SpecError(f"hoc must be 'two_stage' or 'repeated', not {hoc!r}")
    if interaction not in INTERACTIONS:
        raise SpecError(f"interaction must be one of {INTERACTIONS}, not {interaction!r}")
    items = model.items
    col = {n: c for c, n in enumerate(items)}
    hocs = {c.name: c for c in model.higher_order}
    ints = model.interactions
    if hocs and ints and (interaction != "two_stage" or hoc != "two_stage"):
        raise SpecError("a model with both higher-order constructs and interactions is "
                        "estimated with hoc='two_stage' and interaction='two_stage' (as "
                        f"seminr); hoc={hoc!r}, interaction={interaction!r} cannot be honoured")
    for c in hocs.values():
        for d in c.indicators:
            if d in hocs:
                raise SpecError(f"{c.name!r} has the higher-order construct {d!r} as an "
                                "indicator; only second-order constructs are supported")
    first_order = [c for c in model.constructs if c.name not in hocs]

    def item_rows(cs):
        ind, src = [], []
        for c in cs:
            for i in c.indicators:
                ind.append((c.name, i))
                src.append(("item", col[i]))
        return ind, src

    if not hocs and not ints:
        ind, src = item_rows(model.constructs)
        main = _stage(model.names, [c.mode for c in model.constructs], ind, src, model.paths)
        return Plan(None, main, items, "none")
    if ints and interaction != "two_stage":
        # seminr's product_indicator / orthogonal: one stage, the interaction construct (mode
        # A) measured by every product z(x_i) z(z_j) (X's items outer, Z's inner); orthogonal
        # products are residualised on all items of X and Z (Little, Bovaird & Widaman 2006).
        ind, src = item_rows(model.constructs)
        names, modes = list(model.names), [c.mode for c in model.constructs]
        inter = [False] * len(names)
        for term in ints:
            x, z = (model.construct(n).indicators for n in term.split(":"))
            names.append(term)
            modes.append("A")
            inter.append(True)
            basis = tuple(col[i] for i in (*x, *z))
            for i in x:
                for j in z:
                    ind.append((term, f"{i}*{j}"))
                    src.append((interaction, (col[i], col[j], basis)))
        main = _stage(names, modes, ind, src, model.paths, inter)
        return Plan(None, main, items, "none")
    if hocs and hoc == "repeated":
        ind, src, paths = [], [], list(model.paths)
        for c in model.constructs:
            members = ([i for d in c.indicators for i in model.construct(d).indicators]
                       if c.name in hocs else list(c.indicators))
            for i in members:
                ind.append((c.name, i))
                src.append(("item", col[i]))
            if c.name in hocs:
                paths += [(d, c.name) for d in c.indicators]
        main = _stage(model.names, [c.mode for c in model.constructs], ind, src, paths)
        return Plan(None, main, items, "repeated")
    # Stage 1: HOCs replaced by their dimensions, interaction paths dropped.
    paths1: list[tuple[str, str]] = []
    for target, source in model.paths:
        if ":" in source:
            continue
        targets = hocs[target].indicators if target in hocs else (target,)
        sources = hocs[source].indicators if source in hocs else (source,)
        paths1 += [(t, s) for t in targets for s in sources if (t, s) not in paths1]
    used = {n for p in paths1 for n in p}
    names1 = [c.name for c in first_order if c.name in used]
    for c in first_order:
        if c.name not in used:
            raise SpecError(f"{c.name!r} has no structural path in the first stage; PLS needs "
                            "every construct connected")
    ind1, src1 = item_rows([model.construct(n) for n in names1])
    first = _stage(names1, [model.construct(n).mode for n in names1], ind1, src1, paths1)
    j1 = {n: j for j, n in enumerate(names1)}
    # Stage 2: the model's own structure.
    names2 = [c.name for c in model.constructs if c.name in hocs
              or any(c.name in p for p in model.paths)]
    names2 = list(dict.fromkeys(names2))
    modes2 = [model.construct(n).mode for n in names2]
    ind2, src2 = [], []
    for n in names2:
        c = model.construct(n)
        for i in c.indicators:
            ind2.append((n, i))
            src2.append(("score", j1[i]) if n in hocs else ("item", col[i]))
    middle = None
    jp = j1
    if hocs and ints:
        # seminr: the interaction's first stage is the HOC model (HOCs measured by the
        # dimension scores) without the interaction paths; the products are of its scores
        paths_m = [(t, s) for t, s in model.paths if ":" not in s]
        middle = _stage(names2, modes2, ind2, src2, paths_m)
        jp = {n: j for j, n in enumerate(names2)}
        for term in ints:
            for n in term.split(":"):
                if not any(n in p for p in paths_m):
                    raise SpecError(f"{n!r} of the interaction {term!r} has no structural "
                                    "path besides the interaction; add its main effect")
    names2, modes2, ind2, src2 = list(names2), list(modes2), list(ind2), list(src2)
    inter = [False] * len(names2)
    for term in ints:
        x, z = term.split(":")
        names2.append(term)
        modes2.append("A")
        inter.append(True)
        ind2.append((term, term))
        src2.append(("product", (jp[x], jp[z])))
    main = _stage(names2, modes2, ind2, src2, model.paths, inter)
    return Plan(first, main, items, "two_stage" if hocs else "none", middle)


def standardise(X: np.ndarray) -> np.ndarray:
    """Centre and scale each column of each draw with the N−1 standard deviation.

    (B, N, p) -> (B, N, p).  A constant column gives NaN (the caller treats the draw as
    failed; a constant column in the data itself is refused before estimation).
    """
    Z = X - X.mean(axis=1, keepdims=True)
    sd = np.sqrt((Z * Z).sum(axis=1, keepdims=True) / (X.shape[1] - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return Z / sd


@dataclass(frozen=True)
class StageRun:
    """One stage run on a batch: correlations, weights and derived arrays (leading axis B)."""

    stage: Stage
    S: np.ndarray             # (B, q, q) correlations of the expanded indicator columns
    iteration: WeightIteration
    C: np.ndarray             # (B, k, k) construct (score) correlations
    loadings: np.ndarray      # (B, q) correlation of each indicator with its construct
    scale: np.ndarray         # (B, k) standard deviation of each reported score
    Z: np.ndarray | None      # (B, N, q) standardised indicator columns (when kept)


def _run(stage: Stage, S: np.ndarray, scale: np.ndarray, Z: np.ndarray | None, **opts
         ) -> StageRun:
    it = iterate_weights(S, stage.blocks, **opts)
    W = weight_matrix(it.weights, stage.blocks)
    SW = S @ W
    C = np.swapaxes(W, 1, 2) @ SW
    q = len(stage.blocks.construct_of)
    loadings = SW[:, np.arange(q), stage.blocks.construct_of]
    return StageRun(stage, S, it, C, loadings, scale, Z)


def _cross(Z: np.ndarray) -> np.ndarray:
    """(B, N, q) standardised columns -> (B, q, q) correlations (N−1)."""
    return np.swapaxes(Z, 1, 2) @ Z / (Z.shape[1] - 1)


def scores(run: StageRun) -> np.ndarray:
    """(B, N, k) construct scores ``Z W`` (rescaled for interaction constructs)."""
    if run.Z is None:
        raise ValueError("scores need the standardised data: run the stage with keep=True")
    return (run.Z @ weight_matrix(run.iteration.weights, run.stage.blocks)) * run.scale[:, None, :]


def needs_data(plan: Plan) -> bool:
    """True when a stage column is nonlinear in the items (interaction products)."""
    return any(kind not in ("item", "score") for kind, _ in plan.main.sources)


def _product_column(Zitems: np.ndarray, X: np.ndarray, kind: str, ref) -> np.ndarray:
    """(B, N) product indicator z(x_i) z(z_j), residualised on X's and Z's items if orthogonal.

    seminr ``orthogonal``: ``lm(product ~ items of X and Z)`` residuals (with intercept).
    """
    i, j, basis = ref
    prod = Zitems[:, :, i] * Zitems[:, :, j]
    if kind == "product_indicator":
        return prod
    A = np.concatenate([np.ones(X.shape[:2] + (1,)), X[:, :, list(basis)]], axis=2)
    coef = np.linalg.solve(np.swapaxes(A, 1, 2) @ A, np.swapaxes(A, 1, 2) @ prod[..., None])
    return prod - (A @ coef)[..., 0]


def resample_counts(rows: np.ndarray, n: int) -> np.ndarray:
    """(B, m) resampled row numbers -> (B, n) float counts of each row in each resample."""
    b = rows.shape[0]
    return np.bincount((rows + n * np.arange(b)[:, None]).ravel(),
                       minlength=b * n).reshape(b, n).astype(float)


def item_correlations(X: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(B, p, p) correlations (N−1) of resamples given as row counts (B, N) of ``X`` (N, p).

    Moments of a resample are count-weighted moments of the data, so no resampled data set
    is formed: one (B, N) x (N, p²) product gives every draw's cross-products.
    """
    n, p = X.shape
    Xc = X - X.mean(axis=0)                                  # shift: fewer cancellations
    size = counts.sum(axis=1)[:, None]                       # rows per resample
    m = counts @ Xc / size                                   # (B, p) draw means
    cp = (counts @ (Xc[:, :, None] * Xc[:, None, :]).reshape(n, p * p)).reshape(-1, p, p)
    cov = (cp - size[:, :, None] * m[:, :, None] * m[:, None, :]) / (size[:, :, None] - 1)
    sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / (sd[:, :, None] * sd[:, None, :])


def run_from_correlations(plan: Plan, S_items: np.ndarray, **opts
                          ) -> tuple[StageRun | None, StageRun]:
    """Run the plan on item correlations (B, p, p); not for plans with interactions.

    A two-stage HOC's indicators are first-stage scores, linear in the items, so their
    correlations follow from ``S_items`` and the first-stage weights.
    """
    B = S_items.shape[0]
    first = None
    A = S_items
    if plan.first is not None:
        idx = np.array([c for _, c in plan.first.sources])
        first = _run(plan.first, S_items[:, idx[:, None], idx[None, :]],
                     np.ones((B, plan.first.blocks.k)), None, **opts)
        W1 = weight_matrix(first.iteration.weights, plan.first.blocks)
        cross = S_items[:, :, idx] @ W1                           # cov(items, scores)
        A = np.concatenate([np.concatenate([S_items, cross], axis=2),
                            np.concatenate([np.swapaxes(cross, 1, 2), first.C], axis=2)],
                           axis=1)
        d = np.sqrt(np.diagonal(A, axis1=1, axis2=2))
        A = A / (d[:, :, None] * d[:, None, :])
    p = S_items.shape[1]
    cols = np.array([ref if kind == "item" else p + ref for kind, ref in plan.main.sources])
    S = A[:, cols[:, None], cols[None, :]]
    return first, _run(plan.main, S, np.ones((B, plan.main.blocks.k)), None, **opts)


def run_stages(plan: Plan, X: np.ndarray, *, keep: bool = False, **opts
               ) -> tuple[StageRun | None, StageRun, StageRun | None]:
    """Run the plan on raw data ``X`` (B, N, p) whose columns are ``plan.items``.

    ``opts`` go to :func:`~.algorithm.iterate_weights` (scheme, max_iter, tol).  With
    ``keep=True`` the standardised columns are kept so that :func:`scores` can be formed.
    Returns the first, main and middle (``plan.middle``, else None) stage runs.
    """
    Zitems = standardise(X)
    B = X.shape[0]
    first = None
    Y1 = None
    if plan.first is not None:
        idx = [c for _, c in plan.first.sources]
        Z1 = Zitems[:, :, idx]
        first = _run(plan.first, _cross(Z1), np.ones((B, plan.first.blocks.k)), Z1, **opts)
        Y1 = scores(first)
    middle = None
    Yp = Y1
    if plan.middle is not None:
        cols_m = [Zitems[:, :, ref] if kind == "item" else Y1[:, :, ref]
                  for kind, ref in plan.middle.sources]
        Zm = standardise(np.stack(cols_m, axis=2))
        middle = _run(plan.middle, _cross(Zm), np.ones((B, plan.middle.blocks.k)), Zm, **opts)
        Yp = scores(middle)
        middle = StageRun(middle.stage, middle.S, middle.iteration, middle.C, middle.loadings,
                          middle.scale, None)
    main = plan.main
    cols, scale = [], np.ones((B, main.blocks.k))
    products = []
    for q, ((kind, ref), con) in enumerate(zip(main.sources, main.blocks.construct_of)):
        if kind == "item":
            cols.append(Zitems[:, :, ref])
        elif kind == "score":
            cols.append(Y1[:, :, ref])  # unit variance already; standardised below
        elif kind == "product":
            prod = Yp[:, :, ref[0]] * Yp[:, :, ref[1]]
            cols.append(prod)
            scale[:, con] = prod.std(axis=1, ddof=1)
        else:
            cols.append(_product_column(Zitems, X, kind, ref))
            products.append(q)
    if plan.first is None and not products:
        Zmain = Zitems[:, :, [ref for _, ref in main.sources]]
    else:
        Zmain = standardise(np.stack(cols, axis=2))
    if not keep and first is not None:
        first = StageRun(first.stage, first.S, first.iteration, first.C, first.loadings,
                         first.scale, None)
    run = _run(main, _cross(Zmain), scale, Zmain if keep else None, **opts)
    if products:
        # seminr ``adjust_interaction`` (Henseler & Chin 2010): the product construct's score
        # is rescaled by the |loading|-weighted mean SD of its (unstandardised) products
        con = main.blocks.construct_of
        sd = np.stack([cols[q].std(axis=1, ddof=1) for q in products], axis=1)
        lam = np.abs(run.loadings[:, products])
        for j in np.unique(con[products]):
            m = con[products] == j
            scale[:, j] = (sd[:, m] * lam[:, m]).sum(axis=1) / lam[:, m].sum(axis=1)
    return first, run, middle
