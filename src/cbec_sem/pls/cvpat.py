"""CVPAT: the cross-validated predictive ability test of a PLS model against benchmarks.

Liengaard et al. (2021), "Prediction: coveted, yet forsaken? Introducing a cross-validated
predictive ability test in partial least squares path modeling", Decision Sciences 52(2),
362-392; Sharma et al. (2023), "Predictive model assessment and selection in
composite-based modeling using PLS-SEM: extensions and guidelines for using CVPAT",
European Journal of Marketing 57(6), 1662-1677 (the indicator-average and linear-model
benchmarks and the bootstrap-variance test).

From the PLSpredict folds (:func:`~.predict.predict_pls`: seminr's folds, DA or EA, repeated
predictions averaged) every case i has out-of-sample prediction errors e_ij of the
endogenous constructs' items j in the items' units (seminr's residuals, as seminrExtras'
``assess_cvpat``), for PLS and for the benchmarks:

* **IA** (indicator average): by default the training-fold mean of each item (the naive
  prediction of Q²predict, a genuinely out-of-sample benchmark; Sharma et al. 2023 describe
  the IA benchmark as the indicators' training-sample means); ``benchmark_means="full"``
  uses the full-sample item means instead, as seminrExtras' ``assess_cvpat`` does (R
  seminrExtras ``feature_cvpat.R`` and its Python port 0.1.0: ``data - mean_data``);
* **LM** (linear model): seminr's benchmark, each item regressed on all items of the other
  constructs in the training folds.

The loss of case i is the mean of e_ij² over the items compared: a construct's items for
its own test; for the overall test by default all endogenous items (``overall="items"``,
Liengaard & Sharma's code, ``rowMeans(PredErrors^2)``), or with ``overall="constructs"`` the
mean of the per-construct losses, each construct weighted equally whatever its number of
items (seminrExtras' ``overall_loss(lv_losses)``).  The two agree when every endogenous
construct has the same number of items.  With D_i = L_i(benchmark) − L_i(PLS) (positive: PLS predicts better) and
D̄ their mean:

* the paired t test (Liengaard et al. 2021): T = D̄ / (S_D / √N), t(N − 1);
* the bootstrap-variance test (Sharma et al. 2023; seminrExtras' "Boot T value"):
  T_boot = D̄ / SD*(D̄), SD* the standard deviation (N − 1) of the means of ``bootstrap``
  resamples of the centred differences D_i − D̄, referred to t(N − 1).  ``resamples``
  (a B × N array of 0-based row indices) replays given resamples, e.g. seminrExtras'
  ``draws`` (its second, "d_null" stream).

Signs: ``diff`` here is benchmark − PLS (positive: PLS better); seminrExtras' table reports
``Diff`` = PLS − benchmark, while its "Boot T value" has the same sign as ``t_boot`` here.

``alternative="two-sided"`` (H1: E[D] ≠ 0, seminrExtras' default) or ``"greater"`` (H1: PLS
has a smaller expected loss than the benchmark, Liengaard et al.'s one-sided test).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special  # stdtr: Student's t tail (scipy.stats.t.sf's formula, same numbers)

from ..errors import SpecError
from ..protocol import Block, Summary
from ..validation import check_choice, check_count, check_seed
from .estimate import PLSEstimation
from .predict import PLSPrediction, predict_pls

__all__ = ["CVPATResult", "cvpat", "cvpat_test", "BENCHMARKS"]

BENCHMARKS = ("IA", "LM")
ALTERNATIVES = ("two-sided", "greater")
BENCHMARK_MEANS = ("training", "full")
OVERALL = ("items", "constructs")


def cvpat_test(loss_model: np.ndarray, loss_benchmark: np.ndarray, *,
               alternative: str = "two-sided", bootstrap: int = 2000,
               rng: np.random.Generator | None = None,
               resamples: np.ndarray | None = None) -> dict[str, float]:
    """The CVPAT statistics for per-case losses of the model and of the benchmark.

    Returns ``loss_model``, ``loss_benchmark`` (means), ``diff`` (D̄ = benchmark − model),
    ``t``, ``p`` (paired t test) and ``t_boot``, ``p_boot`` (bootstrap variance of D̄;
    NaN when ``bootstrap`` is 0).  ``resamples``: a (B x N) array of 0-based row indices
    to use instead of drawing ``bootstrap`` resamples.  See the module docstring.

    Raises:
        SpecError: ``resamples`` not a 2-d integer array of row indices in [0, N).
    """
    d = np.asarray(loss_benchmark, float) - np.asarray(loss_model, float)
    n = d.size
    dbar = d.mean()
    if resamples is not None:
        resamples = np.asarray(resamples)
        if (resamples.ndim != 2 or resamples.shape[1] != n
                or not np.issubdtype(resamples.dtype, np.integer)
                or resamples.size == 0 or resamples.min() < 0 or resamples.max() >= n):
            raise SpecError(f"resamples must be a (B x {n}) integer array of row indices in "
                            f"[0, {n}), not an array of shape {resamples.shape}")
        bootstrap = resamples.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = dbar / (d.std(ddof=1) / np.sqrt(n))
        t_boot = np.nan
        if resamples is not None:
            t_boot = dbar / (d - dbar)[resamples].mean(axis=1).std(ddof=1)
        elif bootstrap:
            rng = rng if rng is not None else np.random.default_rng()
            means = np.empty(bootstrap)
            centred = d - dbar
            step = max(1, 4_000_000 // max(n, 1))          # draws per batch (memory)
            for start in range(0, bootstrap, step):
                b = min(step, bootstrap - start)
                means[start:start + b] = centred[rng.integers(0, n, size=(b, n))].mean(axis=1)
            t_boot = dbar / means.std(ddof=1)

    def p_of(stat):
        if alternative == "greater":
            return float(special.stdtr(n - 1, -stat))
        return float(2 * special.stdtr(n - 1, -abs(stat)))

    return {"loss_model": float(np.mean(loss_model)),
            "loss_benchmark": float(np.mean(loss_benchmark)), "diff": float(dbar),
            "t": float(t), "p": p_of(t), "t_boot": float(t_boot),
            "p_boot": p_of(t_boot) if bootstrap else np.nan}


@dataclass(frozen=True, repr=False)
class CVPATResult:
    """CVPAT of a PLS model against the IA and LM benchmarks.

    Attributes:
        table: one row per benchmark and construct (and "Overall"): loss_pls,
            loss_benchmark, diff (benchmark − PLS; positive = PLS better), t, p, t_boot,
            p_boot, n.
        losses: per-case losses (columns ``<model>:<construct>``, model PLS/IA/LM and
            construct or "Overall").
        prediction: the :class:`~.predict.PLSPrediction` the errors came from.
        alternative, bootstrap, benchmark_means, overall: the options used.

    Examples:
        >>> est = cs.estimate_pls("TA =~ ta1 + ta2 + ta3 + ta4; FA =~ fa1 + fa2 + fa3 + fa4; FA ~ TA",
        ...                       cs.datasets.example_survey())
        >>> cv = cs.cvpat(est, benchmarks=("IA",), bootstrap=100, seed=1)
        >>> isinstance(cv, cs.CVPATResult)
        True
        >>> cv.losses.shape
        (400, 6)
    """

    table: pd.DataFrame
    losses: pd.DataFrame
    prediction: PLSPrediction
    alternative: str
    bootstrap: int
    benchmark_means: str = "training"
    overall: str = "items"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        p = self.prediction
        return Summary(
            title=f"CVPAT: {p.folds}-fold x {p.reps} ({p.technique}), {self.alternative}",
            blocks=(Block("Average losses and tests", self.table),),
            notes=("diff = benchmark loss − PLS loss (positive: PLS predicts better); t, p: "
                   "paired t test (Liengaard et al. 2021); t_boot, p_boot: bootstrap "
                   f"variance of the mean difference, {self.bootstrap} draws "
                   "(Sharma et al. 2023)",
                   f"IA: {self.benchmark_means}-sample item means; LM: each item on all "
                   "other constructs' items (seminr); Overall: mean over "
                   + ("all endogenous items" if self.overall == "items"
                      else "the constructs' losses")))

    def __repr__(self) -> str:
        return (f"<CVPATResult {len(self.table)} tests, {self.prediction.folds}-fold x "
                f"{self.prediction.reps}, {self.alternative}>")


def cvpat(est: PLSEstimation | PLSPrediction, *, benchmarks: tuple[str, ...] = BENCHMARKS,
          alternative: str = "two-sided", bootstrap: int = 2000, seed=None,
          folds: int | None = 10, reps: int = 1, technique: str = "DA",
          benchmark_means: str = "training", overall: str = "items",
          lm_predictors: str = "others") -> CVPATResult:
    """CVPAT of ``est`` against the indicator-average and linear-model benchmarks.

    Args:
        est: a PLS fit result or estimate (PLSpredict is run with ``folds``, ``reps``,
            ``technique`` and ``seed``) or a :class:`~.predict.PLSPrediction` already made.
        benchmarks: any of "IA" and "LM".
        alternative: "two-sided" or "greater" (PLS predicts better).
        bootstrap: resamples for the bootstrap-variance test (0: paired t test only).
        seed: seed or Generator (fold orderings first, then the bootstrap).
        benchmark_means: "training" (default: the IA benchmark predicts each held-out case
            by the training folds' item means) or "full" (the full-sample means, as
            seminrExtras' ``assess_cvpat``).
        overall: "items" (default: the overall loss of a case is the mean squared error over
            all endogenous items, Liengaard & Sharma's code) or "constructs" (the mean of the
            per-construct losses, as seminrExtras).
        lm_predictors: the LM benchmark's regressors when PLSpredict is run here (see
            :func:`~.predict.predict_pls`; "antecedents" as seminrExtras).

    Raises:
        SpecError: an unknown benchmark or alternative, a negative ``bootstrap``, or a
            prediction made by a version without the benchmark predictions.

    Examples:
        >>> est = cs.estimate_pls("TA =~ ta1 + ta2 + ta3 + ta4; FA =~ fa1 + fa2 + fa3 + fa4; FA ~ TA",
        ...                       cs.datasets.example_survey())
        >>> cv = cs.cvpat(est, bootstrap=100, seed=1)
        >>> cv.table[["benchmark", "construct", "loss_pls", "loss_benchmark", "p"]].round(3)
          benchmark construct  loss_pls  loss_benchmark    p
        0        IA   Overall     1.849           2.028  0.0
        1        IA        FA     1.849           2.028  0.0
        2        LM   Overall     1.849           1.874  0.0
        3        LM        FA     1.849           1.874  0.0
    """
    est = getattr(est, "estimation", est)         # a fit result of cs.fit(..., "PLS")
    if not isinstance(est, (PLSEstimation, PLSPrediction)):
        raise SpecError(f"CVPAT needs a PLS fit (cs.fit(..., estimator='PLS')), its "
                        f"estimation or a PLSPrediction, not a {type(est).__name__}")
    alternative = check_choice(alternative, "alternative", ALTERNATIVES)
    benchmark_means = check_choice(benchmark_means, "benchmark_means", BENCHMARK_MEANS)
    overall = check_choice(overall, "overall", OVERALL)
    bootstrap = check_count(bootstrap, "bootstrap")
    bench = tuple(check_choice(b, "benchmarks", BENCHMARKS) for b in benchmarks)
    if not bench:
        raise SpecError("benchmarks is empty; choose 'IA', 'LM' or both")
    seed = check_seed(seed)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    pred = est if isinstance(est, PLSPrediction) else predict_pls(
        est, folds=folds, reps=reps, technique=technique, seed=rng,
        lm_predictors=lm_predictors)
    if pred.naive is None or pred.observed is None:
        raise SpecError("this PLSPrediction has no observed items or training means; "
                        "make it again with predict_pls")
    y = pred.observed.to_numpy()
    naive = pred.naive.to_numpy() if benchmark_means == "training" else y.mean(axis=0)
    errors = {"PLS": y - pred.pls.to_numpy(), "IA": y - naive, "LM": y - pred.lm.to_numpy()}
    constructs = list(dict.fromkeys(pred.metrics["construct"]))
    sets = {c: np.flatnonzero(pred.metrics["construct"].to_numpy() == c) for c in constructs}
    losses = {}
    for m, e in errors.items():
        per = {name: (e[:, cols] ** 2).mean(axis=1) for name, cols in sets.items()}
        losses[f"{m}:Overall"] = ((e**2).mean(axis=1) if overall == "items"
                                  else np.mean(list(per.values()), axis=0))
        losses.update({f"{m}:{name}": v for name, v in per.items()})
    rows = []
    for b in bench:
        for name in ["Overall", *constructs]:
            res = cvpat_test(losses[f"PLS:{name}"], losses[f"{b}:{name}"],
                             alternative=alternative, bootstrap=bootstrap, rng=rng)
            rows.append({"benchmark": b, "construct": name,
                         "loss_pls": res["loss_model"], "loss_benchmark": res["loss_benchmark"],
                         "diff": res["diff"], "t": res["t"], "p": res["p"],
                         "t_boot": res["t_boot"], "p_boot": res["p_boot"], "n": len(y)})
    return CVPATResult(pd.DataFrame(rows), pd.DataFrame(losses), pred, alternative, bootstrap,
                       benchmark_means, overall)
