"""The nonparametric bootstrap of a fitted model: every draw refitted, every number resampled.

:func:`bootstrap` resamples the complete-case rows with replacement — within each group for a
multi-group fit, keeping the group sizes, as lavaan's ``bootstrapLavaan(type = "ordinary")``
does — refits the model to every resample (:mod:`cbec_sem.resampling.refit`), and collects
the value of every parameter-table row, every ``:=`` defined parameter and every ``std.all``
value.  From the draws it reports bootstrap standard errors (the standard deviation of the
draws, divisor R − 1, Efron & Tibshirani 1993, eq. 6.6) and percentile, bias-corrected and BCa
intervals (:mod:`cbec_sem.resampling.intervals`).  (lavaan 0.6-14 divides by R for the free
parameters — its ``vcov`` is ``cov(draws) * (R - 1)/R`` — and by R − 1 for ``:=`` parameters; the
two differ by the factor √(1 − 1/R), 0.05% at R = 1000, far inside the Monte Carlo error.)

Failed draws — a resample whose covariance matrix is singular, or a refit that does not
converge — are dropped from every statistic and counted (``n_failed``), as lavaan does;
converged but inadmissible draws (a negative variance, a standardised value beyond ±1, a
non-positive-definite latent covariance matrix) are kept, as lavaan keeps them, and counted
(``n_inadmissible``).  When the share of failed draws exceeds ``max_failure_rate`` the draws
that remain are a selected subset, so no standard error or interval is reported (NaN, with a
:class:`~cbec_sem.errors.ConvergenceWarning`); the counts are.

**Reproducibility.**  Draw k takes its rows from its own random stream,
``np.random.default_rng(np.random.SeedSequence(seed).spawn(draws)[k])``, and the refit is
deterministic, so the result depends on ``seed`` alone: it is identical for ``n_jobs`` = 1,
2 or 16, and for any chunking.  With ``seed=None`` fresh entropy is drawn and recorded in
``BootstrapResult.seed``, so the run can be repeated exactly.

**BCa acceleration.**  ``acceleration="influence"`` (the default) computes the empirical
influence values of every statistic analytically, by the infinitesimal jackknife (Efron 1982,
*The Jackknife, the Bootstrap and Other Resampling Plans*, ch. 6; Davison & Hinkley 1997,
§2.7.2): the ML estimate solves ∇F(θ; x̄, S) = 0, so moving a vanishing weight onto case i
changes it by −H⁻¹ ∂∇F/∂ε, with H the Hessian of F at θ̂ and (x̄, S) moved by
(xᵢ − x̄, (xᵢ − x̄)(xᵢ − x̄)ᵀ − S); defined and standardised values follow by the chain rule.
It costs 2N gradient evaluations and no refit.  ``acceleration="jackknife"`` uses Efron's
(1987) jackknife values Uᵢ = (n − 1)(θ̄₍·₎ − θ₍ᵢ₎) instead, at the price of N more refits.
Both estimate the same a; they differ by O(1/N).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..protocol import Block, ResultProtocol, Summary
from ..errors import ConvergenceWarning, EstimationError, SpecError, ParameterNotFoundError
from ..validation import MAX_PERMUTATIONS, check_count, check_level, check_seed
from ..engine.threads import single_threaded_blas
from ..parallel import blas_single_threaded
from .intervals import acceleration_from_influence, bca_interval, percentile_interval
from .refit import BAD_MOMENTS, INADMISSIBLE, NOT_CONVERGED, OK, STATUS_TEXT, RefitPlan
from .batch import refit_batch
from ..engine.estimate import Estimation
from ..engine.ml import MLFunction
from ..parallel import DaskExecutor

CI_TYPES = ("percentile", "bc", "bca")
ACCELERATIONS = ("influence", "jackknife")


# ------------------------------------------------------------------------- the result
@dataclass(frozen=True, eq=False)
class BootstrapResult(ResultProtocol):
    """The draws of a bootstrap and what they say.

    Attributes:
        table: one row per row of ``res.params`` (model rows, then ``:=`` rows): ``lhs, op,
            rhs, group, label, est, se, bias, ci.lower, ci.upper`` (percentile), then
            ``bc.*``/``bca.*`` intervals when asked for, then the same for ``std.all``
            (``std.all, std.all.se, std.all.ci.lower, ...``).  Fixed parameters have se 0 and
            the interval (est, est), as in lavaan.
        est: draws × rows matrix of the estimates (NaN rows for failed draws).
        std_all: draws × rows matrix of the ``std.all`` values.
        status: code per draw (0 converged and admissible, 1 converged but inadmissible,
            2 did not converge, 3 singular resample); :data:`STATUS_TEXT` names them.
        iterations: optimiser iterations per draw.
        draws: draws requested.
        seed: the seed that reproduces the run (the entropy used when none was given).
        level: confidence level of the intervals.
        ci: interval types computed.
        acceleration: how the BCa acceleration was estimated (``"influence"`` or
            ``"jackknife"``), ``None`` without BCa.
        max_failure_rate: the largest failure rate at which intervals are reported.
        elapsed: wall-clock seconds.
        n_jobs: worker processes used.

    Examples:
        >>> res = cs.fit("F =~ x1 + x2 + x3", cs.datasets.holzinger_swineford_1939())
        >>> boot = cs.bootstrap(res, 50, seed=1, ci="percentile")
        >>> isinstance(boot, cs.BootstrapResult), boot.n_used, boot.n_failed
        (True, 50, 0)
        >>> boot.draws_frame().shape
        (50, 8)
    """

    table: pd.DataFrame
    est: np.ndarray
    std_all: np.ndarray
    status: np.ndarray
    iterations: np.ndarray
    draws: int
    seed: int
    level: float
    ci: tuple[str, ...]
    acceleration: str | None
    max_failure_rate: float
    elapsed: float
    n_jobs: int
    columns: tuple[str, ...] = field(default=())

    @property
    def n_failed(self) -> int:
        """Draws dropped: the refit did not converge, or the resample was singular."""
        return int(np.sum(self.status >= NOT_CONVERGED))

    @property
    def n_inadmissible(self) -> int:
        """Converged draws with an inadmissible solution (kept in the statistics)."""
        return int(np.sum(self.status == INADMISSIBLE))

    @property
    def n_used(self) -> int:
        """Draws behind every statistic (converged ones)."""
        return int(np.sum(self.status <= INADMISSIBLE))

    @property
    def failure_rate(self) -> float:
        return self.n_failed / self.draws if self.draws else 0.0

    @property
    def refused(self) -> bool:
        """True when the failure rate is over ``max_failure_rate`` (no SEs or intervals)."""
        return self.failure_rate > self.max_failure_rate or self.n_used < 2

    @property
    def vcov(self) -> np.ndarray:
        """Covariance matrix of the free parameters θ (in the order of
        ``res.estimation.theta``) over the used draws, divisor R − 1."""
        cols = np.asarray(self.table.attrs.get("theta_rows", []), dtype=int)
        used = self.status <= INADMISSIBLE
        if self.refused:
            return np.full((len(cols), len(cols)), np.nan)
        return np.atleast_2d(np.cov(self.est[np.ix_(used, cols)], rowvar=False, ddof=1))

    def draws_frame(self, kind: str = "est") -> pd.DataFrame:
        """The draws as a DataFrame, one column per parameter (``"TA=~ta2"``, labels for
        ``:=`` rows, a ``.g2`` suffix for later groups), one row per draw, plus ``status``."""
        values = {"est": self.est, "std.all": self.std_all}.get(kind)
        if values is None:
            raise SpecError(f"kind={kind!r}: choose 'est' or 'std.all'")
        frame = pd.DataFrame(values, columns=list(self.columns))
        frame["status"] = self.status
        return frame

    def message(self) -> str:
        """One paragraph: draws, failures, inadmissible draws, and whether intervals stand."""
        text = (f"{self.draws} bootstrap draws (seed {self.seed}): {self.n_used} used, "
                f"{self.n_failed} failed ({100 * self.failure_rate:.1f}%), "
                f"{self.n_inadmissible} inadmissible but kept")
        if self.refused:
            text += (f"; the failure rate exceeds max_failure_rate = {self.max_failure_rate:g}, "
                     "so no standard errors or intervals are reported")
        return text

    def __repr__(self) -> str:
        return f"<BootstrapResult: {self.message()}; {self.elapsed:.2f} s>"

    @property
    def draws_count(self) -> int:
        """Draws made (as :attr:`draws`; the PLS bootstrap has the same property)."""
        return int(self.draws)

    def draws_of(self, lhs: str, op: str, rhs: str, group: int = 1) -> np.ndarray:
        """The usable draws (converged, inadmissible ones kept) of one parameter."""
        t = self.table
        hit = (t["lhs"] == lhs) & (t["op"] == op) & (t["rhs"] == rhs)
        if "group" in t:
            hit &= t["group"].isin([group, 0])
        if not hit.any():
            raise ParameterNotFoundError(f"no bootstrapped parameter {lhs} {op} {rhs}; "
                                         "see the bootstrap's table for the parameters")
        return self.est[self.status <= 1, int(np.flatnonzero(hit.to_numpy())[0])]

    def to_frame(self) -> pd.DataFrame:
        """The bootstrap table: one row per parameter (estimate, SE, interval)."""
        return self.table.copy()

    def summary(self) -> Summary:
        """The bootstrap table and what happened to the draws."""
        return Summary("Nonparametric bootstrap", (Block("Estimates", self.table),),
                       (self.message(),))


# --------------------------------------------------------------------- the workers
def _draw_counts(plan: RefitPlan, child: np.random.SeedSequence) -> list[np.ndarray]:
    """Row counts of one draw: each group resampled with replacement from its own rows."""
    rng = np.random.default_rng(child)
    return [np.bincount(rng.integers(0, grp.nobs, size=grp.nobs), minlength=grp.nobs)
            for grp in plan.groups]


def _run_chunk(plan: RefitPlan, tasks) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Refit a chunk of draws; ``tasks`` are SeedSequences (bootstrap) or count lists
    (jackknife).  BLAS is held to one thread, so worker processes do not compete."""
    k = len(tasks)
    status = np.empty(k, dtype=np.int8)
    iterations = np.empty(k, dtype=np.int32)
    rows = np.empty((k, plan.nrows))
    std = np.empty((k, plan.nrows))
    with blas_single_threaded():  # thread-safe: Dask may run chunks in threads of one process
        counts = [_draw_counts(plan, task) if isinstance(task, np.random.SeedSequence)
                  else task for task in tasks]
        # the chunk's draws refitted together (batch.py); each draw's numbers are its own
        for t, r in enumerate(refit_batch(plan, counts)):
            status[t], iterations[t], rows[t], std[t] = r.status, r.iterations, r.rows, r.std
    return status, iterations, rows, std


#: Draws per chunk: a chunk is refitted as one batch (batch.py); about 25 stacked models of
#: 20 items stay in the processor's cache (measured: 25 per batch beat 10, 50 and 100).
CHUNK = 25


def _run(plan: RefitPlan, tasks: list, workers: int, progress: bool, desc: str, client=None):
    """All tasks, in order, on ``workers`` processes (or on a Dask ``client``'s cluster), with
    an optional progress bar."""
    n = len(tasks)
    if client is not None:

        ex = DaskExecutor(client)
        workers = ex.workers
    size = max(1, min(CHUNK, math.ceil(n / (4 * workers))))
    chunks = [tasks[i: i + size] for i in range(0, n, size)]
    bar = _progress_bar(progress, n, desc)
    if client is not None:
        run = ex.run(_run_chunk, plan, chunks,
                     None if bar is None else (lambda i, _: bar.update(len(chunks[i]))))
        if bar is not None:
            bar.close()
        if run.error:
            done = sum(len(c) for c, r in zip(chunks, run.results) if r is not None)
            raise EstimationError(
                f"the {desc} was interrupted: {run.error}; {done} of {n} draws had completed, "
                "too few for its intervals.  Run it again: the same seed gives the same draws")
        results = run.results
    elif workers == 1 or len(chunks) == 1:
        results = []
        for chunk in chunks:
            results.append(_run_chunk(plan, chunk))
            if bar is not None:
                bar.update(len(chunk))
    else:
        from joblib import Parallel, delayed

        results = []
        # Chunks are independent and each draw's numbers depend on its own seed only, so
        # the order in which workers finish changes nothing; results come back in order.
        gen = Parallel(n_jobs=workers, return_as="generator")(
            delayed(_run_chunk)(plan, chunk) for chunk in chunks)
        for chunk, out in zip(chunks, gen):
            results.append(out)
            if bar is not None:
                bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return tuple(np.concatenate([r[i] for r in results]) for i in range(4))


def _effective_jobs(n_jobs: int) -> int:
    if n_jobs is None or n_jobs == 1:
        return 1
    try:
        from joblib import effective_n_jobs
    except ImportError:
        warnings.warn(f"n_jobs={n_jobs} needs the joblib package (pip install joblib); "
                      "running in this process", UserWarning, stacklevel=4)
        return 1
    return max(1, int(effective_n_jobs(n_jobs)))


def _progress_bar(progress: bool, total: int, desc: str):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        warnings.warn("progress=True needs the tqdm package (pip install tqdm); running "
                      "without a progress bar", UserWarning, stacklevel=4)
        return None
    return tqdm(total=total, desc=desc, unit="draw")


# ------------------------------------------------------------------ the statistics
def _defined(space, values: np.ndarray) -> np.ndarray:
    """Defined parameters of every row of a draws × table-rows matrix (vectorised)."""
    return space.defined_values_of_rows(values)


def _with_defined(space, rows: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"):
        return (np.hstack([rows, _defined(space, rows)]),
                np.hstack([std, _defined(space, std)]))


def _influence(plan: RefitPlan, est, eps: float = 1e-3) -> list[np.ndarray]:
    """Empirical influence values of every statistic (rows and std.all, then their defined
    parameters), one (n_g × statistics) array per group, by the infinitesimal jackknife."""
    mom0 = plan.full_sample_moments()
    x_hat = plan.x_hat
    k = x_hat.size
    # Hessian of F in x-space at the optimum, by central differences of the gradient.
    hess = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * max(1.0, abs(x_hat[j]))
        e = np.zeros(k)
        e[j] = h
        gp = plan._evaluate_x(x_hat + e, mom0)[1]
        gm = plan._evaluate_x(x_hat - e, mom0)[1]
        hess[:, j] = (gp - gm) / (2 * h)
    hess = 0.5 * (hess + hess.T)
    try:
        hess_inv = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        hess_inv = np.linalg.pinv(hess)
    space = est.space
    has_fixed_x = any(grp.fx_rows.size for grp in plan.groups)
    jac = None
    if not has_fixed_x:
        # Statistics depend on the data only through θ: one Jacobian (central differences)
        # turns each case's change of θ into the change of every statistic.
        cols = []
        for j in range(k):
            h = 1e-6 * max(1.0, abs(x_hat[j]))
            e = np.zeros(k)
            e[j] = h
            r1, s1, _ = plan.describe(plan.theta_of(x_hat + e), mom0)
            r2, s2, _ = plan.describe(plan.theta_of(x_hat - e), mom0)
            cols.append((r1, s1, r2, s2, h))
        rp, sp = _with_defined(space, np.array([c[0] for c in cols]),
                               np.array([c[1] for c in cols]))
        rm, sm = _with_defined(space, np.array([c[2] for c in cols]),
                               np.array([c[3] for c in cols]))
        steps = np.array([c[4] for c in cols])[:, None]
        jac = (np.hstack([rp, sp]) - np.hstack([rm, sm])) / (2 * steps)  # k × statistics
    out = []
    for g, grp in enumerate(plan.groups):
        Z = grp.Xc - grp.Xc.mean(axis=0)
        S = mom0.covs[g]
        dxs, plus_rows, plus_std, minus_rows, minus_std = [], [], [], [], []
        for z in Z:
            dS = np.outer(z, z) - S
            mp = plan.perturbed_moments(mom0, g, eps * dS, eps * z)
            mm = plan.perturbed_moments(mom0, g, -eps * dS, -eps * z)
            dg = (plan._evaluate_x(x_hat, mp)[1] - plan._evaluate_x(x_hat, mm)[1]) / 2.0
            dx = -hess_inv @ dg  # the change of x̂ for a step eps along the influence
            if jac is not None:
                dxs.append(dx)
                continue
            r1, s1, _ = plan.describe(plan.theta_of(x_hat + dx), mp)
            r2, s2, _ = plan.describe(plan.theta_of(x_hat - dx), mm)
            plus_rows.append(r1)
            plus_std.append(s1)
            minus_rows.append(r2)
            minus_std.append(s2)
        with np.errstate(all="ignore"):
            if jac is not None:
                L = (np.array(dxs) / eps) @ jac
            else:
                rp, sp = _with_defined(space, np.array(plus_rows), np.array(plus_std))
                rm, sm = _with_defined(space, np.array(minus_rows), np.array(minus_std))
                L = np.hstack([rp - rm, sp - sm]) / (2 * eps)
        out.append(np.nan_to_num(L, nan=0.0))
    return out


def _jackknife_influence(plan: RefitPlan, est, workers: int, progress: bool,
                         client=None) -> list[np.ndarray]:
    """Jackknife influence values Uᵢ = (n − 1)(θ̄₍·₎ − θ₍ᵢ₎) of every statistic, per group."""
    tasks, where = [], []
    for g, grp in enumerate(plan.groups):
        for i in range(grp.nobs):
            counts = [np.ones(h.nobs) for h in plan.groups]
            counts[g][i] = 0.0
            tasks.append(counts)
            where.append(g)
    status, _, rows, std = _run(plan, tasks, workers, progress, "jackknife", client)
    rows, std = _with_defined(est.space, rows, std)
    values = np.hstack([rows, std])
    values[status >= NOT_CONVERGED] = np.nan
    where = np.asarray(where)
    out = []
    for g, grp in enumerate(plan.groups):
        v = values[where == g]
        with np.errstate(all="ignore"):
            U = (grp.nobs - 1) * (np.nanmean(v, axis=0) - v)
        out.append(np.nan_to_num(U, nan=0.0))
    return out


# ---------------------------------------------------------------------- the entry
def bootstrap(
    res,
    draws: int = 1000,
    *,
    seed: int | None = None,
    n_jobs: int = 1,
    ci: tuple[str, ...] | str = ("percentile", "bca"),
    level: float | None = None,
    max_failure_rate: float = 0.5,
    progress: bool = False,
    acceleration: str = "influence",
    tol: float | None = None,
    client=None,
) -> BootstrapResult:
    """Nonparametric bootstrap of an ML fit, refitting the model to every draw.

    Args:
        res: a converged :class:`~cbec_sem.results.FitResult` (``cs.fit(...)``).
        draws: number of bootstrap resamples (lavaan's ``bootstrap``; 1000 by default, as in
            lavaan).
        seed: seed of the resampling; the same seed gives the same numbers on any number of
            processes.  ``None`` draws fresh entropy, recorded in the result's ``seed``.
        n_jobs: worker processes (joblib; ``-1`` = all cores).  Each worker holds BLAS to one
            thread.
        ci: interval types: ``"percentile"`` (always computed; lavaan's default
            ``boot.ci.type = "perc"``), ``"bc"`` (bias-corrected; lavaan's ``"bca.simple"``)
            and ``"bca"`` (bias-corrected and accelerated, Efron 1987).
        level: confidence level (default: the fit's, 0.95).
        max_failure_rate: the largest share of failed draws at which standard errors and
            intervals are still reported (0.5 by default).
        progress: show a tqdm progress bar (when tqdm is installed).
        acceleration: ``"influence"`` (analytic empirical influence, no refits) or
            ``"jackknife"`` (N leave-one-out refits) for the BCa acceleration.
        tol: convergence criterion of each refit, max |∂F/∂x| (default 1e-6).
        client: a ``dask.distributed.Client``: refit the draws on its cluster instead of
            local processes (``n_jobs`` is then ignored); the draws are identical to a local
            run with the same seed (see ``docs/dask.md``).  A cluster lost mid-run raises
            :class:`~cbec_sem.errors.EstimationError`.

    Returns:
        A :class:`BootstrapResult`.

    Raises:
        EstimationError: the fit did not converge (there is no estimate to resample around).
        SpecError: an argument out of range.

    Examples:
        >>> res = cs.fit("F =~ x1 + x2 + x3", cs.datasets.holzinger_swineford_1939())
        >>> boot = cs.bootstrap(res, 50, seed=1)
        >>> list(boot.table.columns[:8])
        ['lhs', 'op', 'rhs', 'group', 'label', 'est', 'se', 'bias']
        >>> boot.n_used
        50
    """
    start = time.perf_counter()
    est = _estimation(res)
    draws = check_count(draws, "draws", minimum=1, maximum=MAX_PERMUTATIONS)
    ci_types = (ci,) if isinstance(ci, str) else tuple(ci)
    bad = [c for c in ci_types if c not in CI_TYPES]
    if bad:
        raise SpecError(f"ci={bad[0]!r} is not an interval type; choose from {CI_TYPES}")
    ci_types = tuple(c for c in CI_TYPES if c in ci_types or c == "percentile")
    if acceleration not in ACCELERATIONS:
        raise SpecError(f"acceleration={acceleration!r}: choose 'influence' or 'jackknife'")
    level = est.options.level if level is None else check_level(level)
    if isinstance(max_failure_rate, bool) or not isinstance(
            max_failure_rate, (int, float, np.integer, np.floating)) or not (
            0.0 <= float(max_failure_rate) <= 1.0):
        raise SpecError(f"max_failure_rate={max_failure_rate!r} must lie between 0 and 1")
    if tol is not None and not (isinstance(tol, (int, float, np.floating)) and 0 < tol < 1):
        raise SpecError(f"tol={tol!r} must be a small positive number (default 1e-6)")
    if check_count(n_jobs, "n_jobs", minimum=-1) == 0:
        raise SpecError(f"n_jobs={n_jobs!r} must be a positive integer, or -1 for all cores")
    seed = check_seed(seed)
    if seed is not None and not isinstance(seed, int):
        raise SpecError("seed must be a non-negative integer or None here (the run is keyed "
                        "by it and records it)")

    sequence = np.random.SeedSequence(seed)
    workers = _effective_jobs(n_jobs)
    with single_threaded_blas():  # bit-for-bit the same plan, whatever the BLAS threads
        plan = RefitPlan(est, tol=tol)
    children = sequence.spawn(draws)
    status, iterations, rows, std = _run(plan, children, workers, progress, "bootstrap", client)
    failed = status >= NOT_CONVERGED
    rows[failed] = np.nan
    std[failed] = np.nan
    est_draws, std_draws = _with_defined(est.space, rows, std)

    params = est.params
    est_hat = params["est"].to_numpy(dtype=float)
    std_hat = params["std.all"].to_numpy(dtype=float)
    nmodel = plan.nrows
    free_rows = np.concatenate([np.flatnonzero(plan.free_index >= 0),
                                np.arange(nmodel, len(params))])
    fixed = np.ones(len(params), dtype=bool)
    fixed[free_rows] = False

    result_kwargs = dict(
        est=est_draws, std_all=std_draws, status=status, iterations=iterations, draws=draws,
        seed=int(sequence.entropy), level=level, ci=ci_types,
        acceleration=acceleration if ("bca" in ci_types) else None,
        max_failure_rate=float(max_failure_rate), n_jobs=workers,
        columns=tuple(_column_names(params, est.partable.ngroups)),
    )
    used = status <= INADMISSIBLE
    refused = (np.sum(failed) / draws > max_failure_rate) or used.sum() < 2

    table = params[["lhs", "op", "rhs", "group", "label"]].copy()
    accel = None
    if "bca" in ci_types and not refused:
        if acceleration == "influence":
            with single_threaded_blas(), np.errstate(all="ignore"):
                influence = _influence(plan, est)
        else:
            influence = _jackknife_influence(plan, est, workers, progress, client)
        accel = acceleration_from_influence(influence)
    for prefix, draws_mat, hat, keep_fixed in (("", est_draws, est_hat, True),
                                               ("std.all", std_draws, std_hat, False)):
        name = (lambda s: s) if not prefix else (lambda s, p=prefix: f"{p}.{s}")
        table[prefix or "est"] = hat
        used_draws = draws_mat[used]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            se = np.nanstd(used_draws, axis=0, ddof=1) if used_draws.shape[0] > 1 else (
                np.full(len(hat), np.nan))
            bias = np.nanmean(used_draws, axis=0) - hat
        intervals = {"ci": percentile_interval(used_draws, level)}
        if "bc" in ci_types:
            intervals["bc"] = bca_interval(used_draws, hat, np.zeros(len(hat)), level)[0]
        if "bca" in ci_types:
            a = (np.zeros(len(hat)) if accel is None else
                 (accel[: len(hat)] if not prefix else accel[len(hat):]))
            intervals["bca"] = bca_interval(used_draws, hat, a, level)[0]
        if keep_fixed:  # lavaan: a fixed parameter has se 0 and the interval (est, est)
            se[fixed] = 0.0
            bias[fixed] = 0.0
            for iv in intervals.values():
                iv[fixed] = hat[fixed, None]
        if refused:
            se[:] = np.nan
            for iv in intervals.values():
                iv[:] = np.nan
        table[name("se")] = se
        table[name("bias")] = bias
        for key, iv in intervals.items():
            table[name(f"{key}.lower")] = iv[:, 0]
            table[name(f"{key}.upper")] = iv[:, 1]
        if "bca" in ci_types and accel is not None:
            a = accel[: len(hat)] if not prefix else accel[len(hat):]
            table[name("acceleration")] = np.where(fixed, 0.0, a) if keep_fixed else a
    table.attrs["theta_rows"] = [int(np.flatnonzero(plan.free_index == k)[0])
                                 for k in range(plan.q)]
    out = BootstrapResult(table=table, elapsed=time.perf_counter() - start, **result_kwargs)
    if refused:
        warnings.warn(out.message(), ConvergenceWarning, stacklevel=2)
    return out


def _estimation(res):

    est = getattr(res, "estimation", res)
    if not isinstance(est, Estimation):
        raise SpecError(
            f"bootstrap() needs a fitted model from cs.fit(), not {type(res).__name__}")

    options = est.options
    if type(est.function) is not MLFunction or getattr(options, "missing", "listwise") != (
            "listwise"):
        raise SpecError(
            f"the bootstrap refits normal-theory ML on complete cases; this fit uses "
            f"estimator={options.estimator!r}, missing={getattr(options, 'missing', '?')!r} "
            f"({type(est.function).__name__}), which it does not resample yet; fit with "
            "estimator='ML' (or 'MLR'/'MLM', whose estimates are ML's) and missing='listwise'")
    if not est.optim.converged:
        raise EstimationError(
            "the model did not converge, so there is no estimate to bootstrap around; fix "
            "the fit first (see res.converged)")
    return est


def _column_names(params: pd.DataFrame, ngroups: int) -> list[str]:
    names = []
    for lhs, op, rhs, group, label in zip(params["lhs"], params["op"], params["rhs"],
                                          params["group"], params["label"]):
        if op == ":=":
            names.append(str(label or lhs))
            continue
        name = f"{lhs}{op}{rhs}"
        if ngroups > 1 and group > 1:
            name += f".g{group}"
        names.append(name)
    return names


__all__ = ["BootstrapResult", "bootstrap", "STATUS_TEXT", "OK", "INADMISSIBLE",
           "NOT_CONVERGED", "BAD_MOMENTS"]
