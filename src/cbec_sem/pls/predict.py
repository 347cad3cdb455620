"""PLSpredict (Shmueli et al. 2016, JBR 69(10); 2019, EJM 53(11)) as seminr's ``predict_pls``.

For each of k folds the model is re-estimated on the other folds (same options); the held-out
rows are standardised with the training means and SDs (N−1), their construct scores formed
with the training weights, the endogenous scores predicted from their direct antecedents
(``predict_DA``: ``Ŷ = Y β``, exogenous scores kept) or earliest antecedents (``predict_EA``:
recursively from the exogenous scores), the items predicted as ``Ŷ λ'`` and
un-standardised.  Folds as seminr: the rows are shuffled once (``ordering``, or a permutation
drawn from ``seed``), then cut into k consecutive groups with R's ``cut(seq(1, N), breaks=k)``;
``reps`` repeats this with new orderings and averages the predictions.

The linear-model benchmark (seminr ``generate_lm_predictions``): each item of an endogenous
construct regressed, with intercept, on the training rows, by default
(``lm_predictors="others"``) on every other item of the model except its own construct's, as
released R seminr 2.3 (``R/feature_plspredict.R``, master and develop to 2024-02);
``lm_predictors="antecedents"`` uses only the items of the construct's direct antecedents
(``technique="DA"``) or of the exogenous constructs (``"EA"``), so that the LM sees the same
information as the PLS prediction: seminr's ``predict_pls_v2`` branch (commit 61d8dd8), the
seminr-ts port and the Python ports seminr 0.2.1 / seminrExtras 0.1.0 (whose CVPAT uses it).
The two coincide when the only endogenous construct's antecedents are all other constructs.  Per endogenous item: RMSE and MAE of PLS and LM out of
sample, and Q²predict = 1 − Σ(y − ŷ)² / Σ(y − ȳ_train)² (the training-fold mean as the naive
prediction, as SmartPLS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, SpecError
from ..protocol import Block, Summary
from .algorithm import weight_matrix
from .compute import compute
from .estimate import PLSEstimation

__all__ = ["PLSPrediction", "predict_pls", "seminr_folds"]


def seminr_folds(n: int, k: int) -> np.ndarray:
    """0-based fold of each position 1..n as R's ``cut(seq(1, n), breaks = k, labels=FALSE)``.

    ``cut`` splits the range [1, n] into k intervals of equal width, closed on the right.
    """
    inner = 1 + np.arange(1, k) * (n - 1) / k
    pos = np.arange(1, n + 1)
    return (inner[None, :] < pos[:, None]).sum(axis=1)


@dataclass(frozen=True, repr=False)
class PLSPrediction:
    """Out-of-sample predictions and their metrics.

    Attributes:
        metrics: indicator, construct, rmse_pls, mae_pls, rmse_lm, mae_lm, q2_predict.
        pls, lm: (N x endogenous items) out-of-sample predictions (averaged over reps).
        folds, reps, technique.
        naive: (N x endogenous items) the training-fold item means (the indicator-average
            benchmark; averaged over reps).
        observed: (N x endogenous items) the items themselves (rows as the estimate's data).
    """

    metrics: pd.DataFrame
    pls: pd.DataFrame
    lm: pd.DataFrame
    folds: int
    reps: int
    technique: str
    naive: pd.DataFrame | None = None
    observed: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.metrics.copy()

    def summary(self) -> Summary:
        return Summary(title=f"PLSpredict: {self.folds}-fold x {self.reps}, {self.technique}",
                       blocks=(Block("Out-of-sample prediction errors", self.metrics),),
                       notes=("LM benchmark: each endogenous item on all other constructs' "
                              "items (seminr); Q2predict against the training-fold mean",))

    def __repr__(self) -> str:
        return (f"<PLSPrediction {self.folds}-fold x {self.reps}, {self.technique}, "
                f"{len(self.metrics)} indicators>")


def _order(adj: np.ndarray) -> list[int]:
    """Constructs in causal order (antecedents first)."""
    k, done, out = adj.shape[0], set(), []
    while len(out) < k:
        for j in range(k):
            if j not in done and all(i in done for i in np.flatnonzero(adj[:, j])):
                done.add(j)
                out.append(j)
    return out


def _fold_predictions(est: PLSEstimation, X: np.ndarray, train: np.ndarray, test: np.ndarray,
                      endo_cols: list[int], lm_sets: list[np.ndarray], technique: str):
    opts = {k: est.options[k] for k in ("scheme", "max_iter", "tol")}
    c = compute(est.plan, X[train][None], method=est.method, **opts)
    st = c.main.stage
    mean = X[train].mean(axis=0)
    sd = X[train].std(axis=0, ddof=1)
    cols = np.array([ref for _, ref in st.sources])
    Z = (X[test][:, cols] - mean[cols]) / sd[cols]
    Y = Z @ weight_matrix(c.weights["main"], st.blocks)[0]
    beta = c.beta[0]
    adj = st.blocks.adjacency
    endo = adj.any(axis=0)
    if technique == "DA":
        Yhat = Y @ beta
        Yhat[:, ~endo] = Y[:, ~endo]
    else:
        Yhat = np.where(endo[None, :], 0.0, Y)
        for j in _order(adj):
            if endo[j]:
                Yhat[:, j] = Yhat @ beta[:, j]
    L = weight_matrix(c.loadings["main"], st.blocks)[0]        # (q, k)
    items_std = Yhat @ L.T                                       # (n_test, q)
    pls = items_std * sd[cols] + mean[cols]
    pls_endo = pls[:, endo_cols]
    lm = np.empty((len(test), len(endo_cols)))
    for m, (col, preds) in enumerate(zip(endo_cols, lm_sets)):
        A = np.column_stack([np.ones(len(train)), X[train][:, preds]])
        coef = np.linalg.lstsq(A, X[train][:, cols[col]], rcond=None)[0]
        lm[:, m] = np.column_stack([np.ones(len(test)), X[test][:, preds]]) @ coef
    return pls_endo, lm, mean[cols[endo_cols]]


def predict_pls(est: PLSEstimation, *, folds: int | None = 10, reps: int = 1,
                technique: str = "DA", seed=None, ordering=None,
                lm_predictors: str = "others") -> PLSPrediction:
    """PLSpredict for a single-stage PLS estimate (see the module docstring).

    Args:
        folds: k (``None``: leave-one-out, as seminr's ``noFolds = NULL``).
        reps: repetitions with new orderings (predictions averaged, as seminr).
        technique: "DA" (direct antecedents, seminr's default) or "EA".
        seed: seed or Generator for the row orderings.
        ordering: a 0-based permutation of the rows to use (one rep) instead of ``seed``.
        lm_predictors: "others" (R seminr 2.3) or "antecedents" (seminr-py 0.2.1,
            seminrExtras): the LM benchmark's regressors (see the module docstring).

    Raises:
        SpecError: a two-stage model (HOC or interaction: no published PLSpredict, as
            seminr), an unknown technique.
        DataError: more folds than rows, or fewer than 2.
    """
    if est.plan.first is not None or any(est.plan.main.interaction):
        raise SpecError("PLSpredict has no published solution for higher-order or "
                        "interaction models (as seminr); predict from a first-order model")
    if technique not in ("DA", "EA"):
        raise SpecError(f"technique must be 'DA' or 'EA', not {technique!r}")
    if lm_predictors not in ("others", "antecedents"):
        raise SpecError(f"lm_predictors must be 'others' or 'antecedents', not "
                        f"{lm_predictors!r}")
    X = est.data
    n = X.shape[0]
    k = n if folds is None else int(folds)
    if not 2 <= k <= n:
        raise DataError(f"PLSpredict needs between 2 and {n} folds (the number of rows), "
                        f"not {folds}")
    st = est.plan.main
    con = st.blocks.construct_of
    endo = st.blocks.adjacency.any(axis=0)
    endo_cols = [q for q in range(len(con)) if endo[con[q]]]
    item_col = np.array([ref for _, ref in st.sources])
    adj = st.blocks.adjacency

    def lm_source(c2: int, c: int) -> bool:
        if lm_predictors == "others":
            return c2 != c
        return bool(adj[c2, c]) if technique == "DA" else not endo[c2]
    lm_sets = [np.array([item_col[q2] for q2 in range(len(con)) if lm_source(con[q2], con[q])])
               for q in endo_cols]
    names = [st.indicator_names[q] for q in endo_cols]
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    orderings = ([np.asarray(ordering)] if ordering is not None
                 else [rng.permutation(n) for _ in range(int(reps))])
    fold_of_pos = seminr_folds(n, k)
    pls_sum = np.zeros((n, len(endo_cols)))
    lm_sum = np.zeros_like(pls_sum)
    naive_sum = np.zeros_like(pls_sum)
    for order in orderings:
        for f in range(k):
            test = order[fold_of_pos == f]
            train = order[fold_of_pos != f]
            p, l, naive = _fold_predictions(est, X, train, test, endo_cols, lm_sets, technique)
            pls_sum[test] += p
            lm_sum[test] += l
            naive_sum[test] += naive
    r = len(orderings)
    pls, lm, naive = pls_sum / r, lm_sum / r, naive_sum / r
    y = X[:, item_col[endo_cols]]
    e_pls, e_lm = y - pls, y - lm
    metrics = pd.DataFrame({
        "indicator": names,
        "construct": [st.names[con[q]] for q in endo_cols],
        "rmse_pls": np.sqrt((e_pls**2).mean(axis=0)),
        "mae_pls": np.abs(e_pls).mean(axis=0),
        "rmse_lm": np.sqrt((e_lm**2).mean(axis=0)),
        "mae_lm": np.abs(e_lm).mean(axis=0),
        "q2_predict": 1 - (e_pls**2).sum(axis=0) / ((y - naive) ** 2).sum(axis=0),
    })
    return PLSPrediction(metrics, pd.DataFrame(pls, columns=names),
                         pd.DataFrame(lm, columns=names), k, r, technique,
                         pd.DataFrame(naive, columns=names), pd.DataFrame(y, columns=names))
