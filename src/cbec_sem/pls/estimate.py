"""``estimate_pls``: PLS-SEM and PLSc for a lavaan-syntax model, as seminr computes them.

Defaults and conventions (seminr 2.3, ``estimate_pls``/``simplePLS``/``PLSc``):
path weighting scheme, at most 300 iterations (seminr's ``maxIt``), stop when the sum of
absolute weight changes is below 1e-7 (``stopCriterion = 7``), unit starting weights, items
standardised with N−1, composites with unit sample variance, no sign correction; PLSc
(Dijkstra & Henseler 2015) divides the construct correlations by √(ρA_i ρA_j) and corrects
the loadings of ``=~`` constructs.  Higher-order constructs: embedded two-stage (seminr's
default) or repeated indicators (``hoc="repeated"``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine.naming import parameter_name
from ..errors import ConvergenceWarning, EstimationError, SpecError
from ..protocol import Block, Summary
from ..specification import ModelSpec, compile_expression
from .algorithm import SCHEMES
from .compute import Computed, compute
from .data import item_vifs, prepare_items, warn_collinear_composite
from .model import PLSModel, pls_model
from .stages import Plan, make_plan, scores
from .fit_measures import fit_measures # one home for the implied-correlation formulas

__all__ = ["PLSEstimation", "estimate_pls", "PARAM_COLUMNS"]

PARAM_COLUMNS = ["lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper",
                 "std.all"]


@dataclass(frozen=True, repr=False)
class PLSEstimation:
    """A PLS or PLSc estimate.

    Attributes:
        params: lavaan-layout table: ``F =~ x`` outer loadings (mode A), ``F <~ x`` outer
            weights (mode B), ``Y ~ X`` paths, ``name := expr`` defined parameters; ``se``,
            ``z``, ``pvalue`` and the CI are NaN until bootstrapped.
        weights: (construct, indicator, weight) for every construct.
        loadings: (construct, indicator, loading) for every construct.
        r2: (construct, r2, adj_r2) for every endogenous construct.
        scores: construct scores (rows as in the data used).
        rho_a: ρA per construct (1 for mode B and single items).
        construct_correlations: correlations of the scores (PLSc: disattenuated).
        fit_measures: srmr, d_uls, d_g (see :mod:`.fit_measures`).
        converged, iterations, last_change: of the weight iteration (the main stage).
        notes: what was done to the data and how.
        n: rows used.

    Examples:
        >>> est = cs.estimate_pls("TA =~ ta1 + ta2 + ta3 + ta4; FA =~ fa1 + fa2 + fa3 + fa4; FA ~ TA",
        ...                       cs.datasets.example_survey())
        >>> isinstance(est, cs.PLSEstimation)
        True
        >>> est.loadings.round(3)
          construct indicator  loading
        0        TA       ta1    0.848
        1        TA       ta2    0.815
        2        TA       ta3    0.813
        3        TA       ta4    0.738
        4        FA       fa1    0.852
        5        FA       fa2    0.819
        6        FA       fa3    0.799
        7        FA       fa4    0.728
        >>> est.rho_a.round(3)
        TA    0.823
        FA    0.830
        Name: rhoA, dtype: float64
    """

    model: PLSModel
    method: str
    scheme: str
    params: pd.DataFrame
    weights: pd.DataFrame
    loadings: pd.DataFrame
    r2: pd.DataFrame
    scores: pd.DataFrame
    rho_a: pd.Series
    construct_correlations: pd.DataFrame
    fit_measures: pd.Series
    converged: bool
    iterations: int
    last_change: float
    notes: tuple[str, ...]
    n: int
    options: dict = field(default_factory=dict)
    plan: Plan | None = None
    data: np.ndarray | None = None       # the (N, p) item data used (after missing handling)
    computed: Computed | None = None
    #: bootstrap covariance of the parameter rows, once bootstrapped
    vcov: np.ndarray | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.params.copy()

    # -- the estimation interface every estimator family offers (FittedModel reads it) -------
    @property
    def partable_frame(self) -> pd.DataFrame:
        """The parameter rows (``params`` without ``:=`` rows) with a ``free`` column that
        numbers them, so that :attr:`vcov_frame` rows line up."""
        table = self.params[self.params["op"] != ":="].copy()
        table["free"] = np.arange(1, len(table) + 1)
        return table

    @property
    def group_nobs(self) -> tuple[int, ...]:
        return (int(self.n),)

    def vcov_frame(self) -> pd.DataFrame:
        """Bootstrap covariance matrix of the parameter rows (NaN before a bootstrap: PLS has
        no analytic standard errors)."""
        table = self.partable_frame
        names = [parameter_name(a, o, b) for a, o, b in zip(table["lhs"], table["op"],
                                                             table["rhs"])]
        mat = self.vcov if self.vcov is not None else np.full((len(names), len(names)), np.nan)
        return pd.DataFrame(mat, index=names, columns=names)

    def fit_notes(self, spec) -> tuple[str, ...]:
        return tuple(self.notes)

    def summary(self) -> Summary:
        r2 = self.r2.copy()
        return Summary(
            title=f"{self.method} estimate ({self.scheme} scheme), N = {self.n}",
            blocks=(Block("Parameters", self.params[["lhs", "op", "rhs", "est", "se",
                                                     "pvalue", "ci.lower", "ci.upper"]]),
                    Block("R²", r2),
                    Block("Fit", self.fit_measures.rename("value").reset_index())),
            notes=self.notes,
        )

    def __repr__(self) -> str:
        return (f"<PLSEstimation {self.method}: {len(self.model.constructs)} constructs, "
                f"N={self.n}, converged={self.converged} after {self.iterations} iterations>")


def _stage_names(c: Computed) -> list[tuple[str, object]]:
    out = []
    if c.first is not None:
        out.append(("first", c.first))
    out.append(("main", c.main))
    return out


def measurement_rows(c: Computed, model: PLSModel) -> list[tuple[str, str, str, str, int]]:
    """(lhs, op, rhs, stage, column) of each reported measurement row, in model order.

    Dimensions of a two-stage HOC come from the first stage, everything else from the main
    stage; interaction constructs have no measurement rows.
    """
    where: dict[tuple[str, str], tuple[str, int]] = {}
    for name, run in _stage_names(c):
        st = run.stage
        for col, (con, ind) in enumerate(zip(st.blocks.construct_of, st.indicator_names)):
            key = (st.names[con], ind)
            if name == "main" or key not in where:
                where[key] = (name, col)
    # a construct that appears in both stages (two-stage interaction) is reported from main
    rows = []
    for con in model.constructs:
        op = "=~" if con.mode == "A" else "<~"
        if all((con.name, ind) in where for ind in con.indicators):
            cells = [(ind, *where[(con.name, ind)]) for ind in con.indicators]
        else:  # a HOC by repeated indicators: its block is its dimensions' items
            cells = [(ind, stage, col) for (name, ind), (stage, col) in where.items()
                     if name == con.name]
        rows += [(con.name, op, ind, stage, col) for ind, stage, col in cells]
    return rows


def path_rows(c: Computed, model: PLSModel) -> list[tuple[str, str, int, int]]:
    """(target, source, i, j) of each path: ``beta[:, i, j]``."""
    names = c.main.stage.names
    idx = {n: j for j, n in enumerate(names)}
    paths = list(model.paths)
    src, tgt = np.nonzero(c.main.stage.blocks.adjacency)
    paths += [(names[j], names[i]) for i, j in zip(src, tgt)
              if (names[j], names[i]) not in paths]   # HOC -> dimension (repeated indicators)
    return [(t, s, idx[s], idx[t]) for t, s in paths]


def param_matrix(c: Computed, model: PLSModel) -> tuple[list[tuple[str, str, str]], np.ndarray]:
    """Row keys and (B, m) values of the params table (measurement, paths, defined)."""
    keys, cols = [], []
    for lhs, op, rhs, stage, col in measurement_rows(c, model):
        keys.append((lhs, op, rhs))
        cols.append((c.loadings if op == "=~" else c.weights)[stage][:, col])
    labels = {}
    for t, s, i, j in path_rows(c, model):
        keys.append((t, "~", s))
        cols.append(c.beta[:, i, j])
        if (t, s) in model.labels:
            labels[model.labels[(t, s)]] = c.beta[:, i, j]
    for name, text in model.defined.items():
        expr = compile_expression(text)
        missing = [v for v in expr.names if v not in labels]
        if missing:
            raise SpecError(f"the defined parameter {name!r} uses {missing}, which label no "
                            "path; PLS can only combine path labels")
        value = np.broadcast_to(np.asarray(expr(labels), dtype=float), cols[-1].shape)
        labels[name] = value
        keys.append((name, ":=", text))
        cols.append(value)
    return keys, np.stack(cols, axis=1)


def _check_formative_collinearity(pm: PLSModel, items: tuple[str, ...], X: np.ndarray
                                  ) -> None:
    """Warn, with the VIFs, for mode-B blocks of items whose VIFs exceed 5 (the issue's bad
    input list; the same check and formula as ``assessment.outer_vif``)."""
    col = {name: j for j, name in enumerate(items)}
    for con in pm.constructs:
        inds = [i for i in con.indicators if i in col]
        if con.mode == "B" and len(inds) > 1 and len(inds) == len(con.indicators):
            warn_collinear_composite(con.name, inds, item_vifs(X[:, [col[i] for i in inds]]),
                                     con.mode)


def estimate_pls(
    model: ModelSpec | str,
    data: pd.DataFrame,
    *,
    method: str = "PLS",
    scheme: str = "path",
    max_iter: int = 300,
    tol: float = 1e-7,
    missing: str = "mean",
    hoc: str = "two_stage",
    interaction: str = "two_stage",
) -> PLSEstimation:
    """Estimate a PLS path model (seminr's conventions; see the module docstring).

    Args:
        model: lavaan syntax or a :class:`ModelSpec` (``=~`` mode A, ``<~`` mode B, ``~``
            paths, ``X:Z`` two-stage interactions, labels and ``:=`` over path labels).
        data: one column per indicator; other columns are ignored; never modified.
        method: "PLS" or "PLSc" (consistent PLS, Dijkstra & Henseler 2015).
        scheme: inner weighting "path" (default), "factorial" or "centroid".
        max_iter: seminr's ``maxIt``.
        tol: seminr's ``10^-stopCriterion``.
        missing: "mean" (replacement, seminr's default) or "listwise".
        hoc: "two_stage" (seminr's embedded two-stage) or "repeated" (repeated indicators).
        interaction: how ``X:Z`` is built: "two_stage" (product of first-stage scores,
            SmartPLS's default), "product_indicator" or "orthogonal" (seminr's methods).

    Raises:
        SpecError: a model PLS cannot estimate (see :func:`~.model.pls_model`).
        DataError: absent, non-numeric or constant indicators.
        EstimationError: PLSc with ρA outside (0, 1] (naming the construct), or singular
            construct correlations.

    Warns:
        ConvergenceWarning: no convergence within ``max_iter`` (``converged`` is False).
        DataWarning: a ``<~`` (mode B) construct with indicators of VIF above 5, named with
            their VIFs (Hair et al. 2019).

    Examples:
        >>> est = cs.estimate_pls(cs.paper_model(), cs.datasets.example_survey())
        >>> est.converged, est.iterations
        (True, 5)
        >>> est.r2.round(3)
          construct     r2  adj_r2
        0        FA  0.145   0.143
        1       SCI  0.179   0.173
    """
    if method not in ("PLS", "PLSc"):
        raise SpecError(f"method must be 'PLS' or 'PLSc', not {method!r}")
    if scheme not in SCHEMES:
        raise SpecError(f"scheme must be one of {SCHEMES}, not {scheme!r}")
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 0):
        raise SpecError(f"max_iter must be a non-negative integer, not {max_iter!r}")
    pm = pls_model(model)
    plan = make_plan(pm, hoc, interaction)
    X, notes, rows = prepare_items(data, plan.items, missing)
    _check_formative_collinearity(pm, plan.items, X)
    opts = dict(scheme=scheme, max_iter=int(max_iter), tol=float(tol))
    c = compute(plan, X[None], method=method, keep=True, **opts)
    main = c.main
    if method == "PLSc":
        for name, run in _stage_names(c):
            for j, r in enumerate(c.rho[name][0]):
                if not (0 < r <= 1 + 1e-12):
                    raise EstimationError(
                        f"PLSc needs 0 < rhoA <= 1, but rhoA of {run.stage.names[j]!r} is "
                        f"{r:.4f}; the construct's indicators do not behave as a common "
                        "factor: check them, or estimate with method='PLS'")
    if not np.isfinite(c.beta).all():
        raise EstimationError("the path coefficients are not finite: the construct scores "
                              "of some equation are collinear")
    converged = bool(c.converged[0])
    iters = int(main.iteration.iterations[0])
    change = float(main.iteration.last_change[0])
    if not converged:
        warnings.warn(f"the PLS weights did not converge within {max_iter} iterations (last "
                      f"sum of absolute weight changes {change:.3g} >= {tol:g}); the "
                      "estimates are not trustworthy: raise max_iter or check the model",
                      ConvergenceWarning, stacklevel=2)
    notes.append(f"{method}: {scheme} weighting scheme, unit starting weights, items "
                 f"standardised (N-1), stop when sum |dw| < {tol:g} (max {max_iter} "
                 "iterations), no sign correction")
    if plan.first is not None:
        notes.append("two-stage: dimensions' weights and loadings from the first stage"
                     if plan.hoc == "two_stage" else
                     "interactions: two-stage products of first-stage scores")
    elif pm.interactions:
        notes.append(f"interactions: {interaction.replace('_', ' ')} products of the "
                     "standardised items")
    if plan.hoc == "repeated":
        notes.append("higher-order constructs by repeated indicators")

    keys, values = param_matrix(c, pm)
    params = pd.DataFrame(keys, columns=["lhs", "op", "rhs"])
    params["est"] = values[0]
    for col in ("se", "z", "pvalue", "ci.lower", "ci.upper"):
        params[col] = np.nan
    params["std.all"] = params["est"]

    wrows, lrows = [], []
    for lhs, op, rhs, stage, col in measurement_rows(c, pm):
        wrows.append((lhs, rhs, float(c.weights[stage][0, col])))
        lrows.append((lhs, rhs, float(c.loadings[stage][0, col])))
    weights = pd.DataFrame(wrows, columns=["construct", "indicator", "weight"])
    loadings = pd.DataFrame(lrows, columns=["construct", "indicator", "loading"])
    names = list(main.stage.names)
    endo = [j for j in range(len(names)) if main.stage.blocks.adjacency[:, j].any()]
    r2 = pd.DataFrame({"construct": [names[j] for j in endo],
                       "r2": c.r2[0, endo], "adj_r2": c.adj_r2[0, endo]})
    score_frames = []
    if c.first is not None and plan.hoc == "two_stage":
        dims = [n for n in c.first.stage.names if n not in names]
        idx = [c.first.stage.names.index(n) for n in dims]
        score_frames.append(pd.DataFrame(scores(c.first)[0][:, idx], columns=dims, index=rows))
    score_frames.insert(0, pd.DataFrame(scores(main)[0], columns=names, index=rows))
    score_df = pd.concat(score_frames, axis=1)
    rho = pd.Series(c.rho["main"][0], index=names, name="rhoA")
    if c.first is not None:
        extra = {n: c.rho["first"][0, j] for j, n in enumerate(c.first.stage.names)
                 if n not in names}
        rho = pd.concat([rho, pd.Series(extra, dtype=float)]).rename("rhoA")
    ccor = pd.DataFrame(c.C[0], index=names, columns=names)

    est = PLSEstimation(
        model=pm, method=method, scheme=scheme, params=params, weights=weights,
        loadings=loadings, r2=r2, scores=score_df, rho_a=rho, construct_correlations=ccor,
        fit_measures=pd.Series(dtype=float), converged=converged, iterations=iters,
        last_change=change, notes=tuple(notes), n=int(X.shape[0]),
        options=dict(opts, method=method, missing=missing, hoc=hoc, interaction=interaction), plan=plan, data=X,
        computed=c,
    )
    object.__setattr__(est, "fit_measures", fit_measures(est))
    return est
