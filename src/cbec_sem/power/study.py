"""One replication of a power study, and the compiled pieces it needs (shipped to workers).

A replication at sample size n, index r:

1. draws its data from its own random stream,
   ``default_rng(SeedSequence(entropy, spawn_key=(n, r, 0)))`` (:class:`~.population.Sampler`);
2. per analysis model (the main-effects model for path, indirect and necessity hypotheses;
   the product-indicator model for interaction and moderation hypotheses): forms the
   columns (double-mean-centred or residual-centred products of the items, recomputed in
   every replication as a researcher would), their means and covariance matrix (divisor n),
   and refits the compiled model from the population values
   (:class:`~cbec_sem.resampling.refit.RefitPlan`: quasi-Newton from the warm start, the
   engine's Fisher scoring as fallback);
3. computes the covariance matrix of only the parameters the hypotheses use (a solve against
   a few columns, not a full inverse) with the SEs ``res.hypotheses`` uses: ML's expected
   information for the main-effects model, and for the product-indicator model MLR's
   sandwich (observed information as bread, first-order casewise scores as meat; lavaan's
   ``estimator = "MLR"``), since ML's SEs are too small for product indicators
   (docs/validity.md);
4. tests each hypothesis by the proposition registry itself
   (:data:`cbec_sem.propositions.verdicts.PROPOSITION_TESTS`, the tests ``res.hypotheses``
   runs), reading the replication's evidence (:class:`ReplicationEvidence`): Wald z for a path
   and for a product-indicator interaction, the delta-method (Sobel) z for an indirect effect,
   and NCA (CE-FDH, permutation test and correlation-matched test) on the regression factor
   scores of the main model for a necessity claim: each of its two tests has its own stream
   (:func:`necessity_stream`) and stops as soon as the claim's verdict is decided
   (:func:`_necessity`).

Nothing here depends on which process runs it, so results are identical for any ``n_jobs`` and
on a Dask cluster.
"""

from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from scipy.linalg import lapack

from ..engine.gamma import moment_jacobian
from ..engine.ml import MLFunction
from ..engine.robust import first_order_information
from ..parallel import blas_single_threaded
from ..resampling.batch import refit_moments
from ..resampling.refit import (BAD_MOMENTS, INADMISSIBLE, NOT_CONVERGED, OK, Moments,
                                RefitPlan, RefitStats)
from ..propositions.evidence import NECESSITY_D, matched_draws
from ..propositions.necessity import effect_size_fit, permutation_decision
from ..propositions.necessity_null import matched_decision
from ..propositions.verdicts import (PROPOSITION_TESTS, decide, empty_row, product_of_paths,
                                     wald_row)
from ..specification.hypotheses import Hypothesis
from .observed import expected_information, expected_informations, sandwich
from .population import Sampler


#: Replications per chunk of work.  Fixed (not derived from the number of workers), so the
#: chunks are the same whatever runs them.  A chunk's refits are one batch of quasi-Newton
#: iterations, whose per-iteration overhead 100 replications amortise better than 20 (H1–H4,
#: 1000 reps: ~1.8 → ~1.55 s CPU); a replication's numbers do not depend on its chunk.
CHUNK_SIZE = 100

#: Status of a hypothesis in a replication that was not run (a lost Dask chunk).
MISSING = -1

#: The method of each kind's test, as ``res.hypotheses`` names it for an ML fit (``{m}``: the
#: interaction method, ``{p}``: NCA permutations).
METHODS = {
    "path": "ML Wald z test",
    "indirect": "product of paths, delta-method (Sobel) CI from the ML fit",
    "interaction": "product indicators ({m}, matched pairs), MLR Wald z test",
    "moderation": "product indicators ({m}, matched pairs), MLR Wald z test",
    "necessity": ("NCA on latent regression scores, CE-FDH, permutation test ({p} draws) and "
                  "correlation-matched test ({d} draws)"),
}


@dataclass
class CompiledModel:
    """An analysis model ready for replications: the refit plan and how to build its columns.

    Attributes:
        name: ``"main"`` or ``"interaction"``.
        plan: the refit plan (warm start at the population values).
        item_cols: sampler columns of the model's items, in the order they are stacked.
        products: for each product column, the positions (within ``item_cols``) of its items.
        regressors: for residual centring, the positions of each product's term items.
        method: ``"dblcent"`` or ``"rca"``.
        perm: stacked [items, products] → the plan's variable order (its ``stats.names``).
        ram_order: the plan's variable order → the compiled model's observed order.
        latent: the model's latent variables (in the order of the plan's ``lat_pos``).
        observed: the model's observed variables (the compiled order).
    """

    name: str
    plan: RefitPlan
    item_cols: np.ndarray
    products: tuple[tuple[int, ...], ...]
    regressors: tuple[tuple[int, ...], ...]
    method: str
    perm: np.ndarray
    ram_order: np.ndarray
    latent: tuple[str, ...]
    observed: tuple[str, ...]

    @property
    def nvars(self) -> int:
        return len(self.perm)

    def columns(self, X: np.ndarray) -> np.ndarray:
        """The model's data columns (plan order) from one replication's items."""
        items = X[:, self.item_cols]
        if not self.products:
            return items
        n = items.shape[0]
        m = len(self.products)
        P = np.empty((n, m))
        if self.method == "dblcent":
            Xc = items - items.mean(axis=0)
            _products(Xc, self.products, P)
            P -= P.mean(axis=0)
        else:  # rca: residuals of the raw products on the term's items (with intercept)
            raw = _products(items, self.products, np.empty((n, m)))
            groups: dict[tuple[int, ...], list[int]] = {}
            for j, J in enumerate(self.regressors):
                groups.setdefault(tuple(J), []).append(j)
            for J, js in groups.items():
                D = np.column_stack([np.ones(n), items[:, list(J)]])
                beta, *_ = np.linalg.lstsq(D, raw[:, js], rcond=None)
                P[:, js] = raw[:, js] - D @ beta
        return np.hstack([items, P])[:, self.perm]

    def moments(self, F: np.ndarray) -> Moments | None:
        """Moments of the columns (divisor n), or ``None`` when the sample covariance matrix
        is not positive definite (a constant or collinear replication)."""
        n = F.shape[0]
        mean = F.mean(axis=0)
        Fc = F - mean
        cov = Fc.T @ Fc / n
        return moments_of(self.plan, mean, cov, n)


def _products(X: np.ndarray, products: tuple[tuple[int, ...], ...], out: np.ndarray
              ) -> np.ndarray:
    """``out[:, j]`` = the product of the columns ``products[j]`` of X, multiplied in their
    order (the numbers of ``np.prod(X[:, parts], axis=1)``, bit for bit), all products of one
    arity at once rather than one product (and one fancy index) at a time."""
    by_arity: dict[int, list[int]] = {}
    for j, parts in enumerate(products):
        by_arity.setdefault(len(parts), []).append(j)
    for arity, js in by_arity.items():
        idx = np.array([products[j] for j in js], dtype=np.intp)      # products × arity
        acc = X[:, idx[:, 0]]
        for a in range(1, arity):
            acc *= X[:, idx[:, a]]
        out[:, js] = acc
    return out


def moments_of(plan: RefitPlan, mean: np.ndarray, cov: np.ndarray, n: float) -> Moments | None:
    """A :class:`~cbec_sem.resampling.refit.Moments` for one group from a mean vector and a
    covariance matrix (the same checks as :meth:`RefitPlan.moments`)."""
    chol, info = lapack.dpotrf(cov, lower=1)
    if info != 0:
        return None
    diag = chol.diagonal()
    if diag.min() <= 1e-7 * np.sqrt(cov.diagonal().max()):
        return None
    logdet = 2.0 * float(np.log(diag).sum())
    return Moments([cov], [mean], [logdet], np.array([1.0]), np.array([float(n)]),
                   [plan._fixed(0, cov, mean)])


def refit(plan: RefitPlan, mom: Moments) -> tuple[int, np.ndarray, np.ndarray, np.ndarray,
                                                  np.ndarray]:
    """Refit on given moments: ``(status, x, θ, row values, std.all values)`` (as
    :meth:`RefitPlan.refit`, which takes resampling counts instead of moments)."""
    with np.errstate(all="ignore"):
        x, converged, _ = plan._quasi_newton(mom)
        if not converged:
            x, converged, _ = plan._fallback(mom)
        theta = plan.theta_of(x)
        rows, std, admissible = plan.describe(theta, mom)
    if not converged:
        return NOT_CONVERGED, x, theta, rows, std
    return (OK if admissible else INADMISSIBLE), x, theta, rows, std


def information(plan: RefitPlan, theta: np.ndarray, mom: Moments) -> np.ndarray:
    """Expected information (per case, F scale, x-space) at θ: what :func:`cbec_sem.fit`
    inverts for its standard errors (lavaan's default for complete data)."""
    info = expected_information(plan, theta, mom)  # closed form (.observed)
    if info is not None:
        return info
    ram = _replication_ram(plan, mom)
    stats = RefitStats(tuple(mom.nobs), tuple(mom.means), tuple(mom.covs))
    info = MLFunction(ram, stats, plan.meanstructure).evaluate(theta, information=True).information
    if not plan.identity:
        info = plan.basis.T @ info @ plan.basis
    return info


def information_many(plan: RefitPlan, thetas: list[np.ndarray], moms: list[Moments]
                     ) -> list[np.ndarray]:
    """:func:`information` of many refits (stacked where the closed form allows)."""
    return [information(plan, theta, mom) if info is None else info
            for theta, mom, info in zip(thetas, moms, expected_informations(plan, thetas, moms))]


def vcov_of(plan: RefitPlan, info_x: np.ndarray, needed: np.ndarray, n: float) -> np.ndarray:
    """Covariance matrix of the free parameters ``needed`` (θ indices): B_k (n I)⁻¹ B_kᵀ with
    B_k the rows of the constraint basis (the identity without equality constraints)."""
    Bk = plan.basis[needed] if not plan.identity else np.eye(plan.q)[needed]
    try:
        Y = np.linalg.solve(info_x, Bk.T)
    except np.linalg.LinAlgError:
        Y = np.linalg.pinv(info_x) @ Bk.T
    return Bk @ Y / n


def vcovs_of(plan: RefitPlan, infos: list[np.ndarray], needed: np.ndarray, n: float
             ) -> list[np.ndarray]:
    """:func:`vcov_of` of many refits: one stacked solve and product (each slice the LAPACK
    and BLAS calls of :func:`vcov_of`, so the same numbers); refit by refit when some
    information matrix is singular."""
    if not infos:
        return []
    Bk = plan.basis[needed] if not plan.identity else np.eye(plan.q)[needed]
    try:
        Y = np.linalg.solve(np.stack(infos), Bk.T)
    except np.linalg.LinAlgError:
        return [vcov_of(plan, info, needed, n) for info in infos]
    return list(Bk @ Y / n)


def robust_vcov_of(plan: RefitPlan, theta: np.ndarray, mom: Moments, data: np.ndarray,
                   ram_order: np.ndarray, needed: np.ndarray) -> np.ndarray:
    """MLR's covariance matrix of the free parameters ``needed`` (θ indices) for one
    complete-data group, as :func:`cbec_sem.engine.robust.robust_estimation` computes it:
    A⁻¹ B A⁻¹ / n with A the observed information (the Hessian of F, lavaan's default for
    MLR; in closed form, :mod:`.observed`, equal to the engine's central differences of the
    analytic gradient to their truncation error) and B the first-order information
    Δᵀ (SCᵀSC/n) Δ of the casewise scores SC at the model-implied moments (Huber 1967; White
    1982; lavaan's ``se = "robust.huber.white"``; in closed form too, :func:`.observed.first_order`,
    where the model allows).  ``data``: the replication's rows in the plan's variable order;
    ``ram_order``: the plan's order → the compiled model's observed order."""
    info_x, meat_x = sandwich(plan, theta, mom, data)
    if meat_x is None:  # fixed covariates, several groups, Σ(θ) not positive definite
        data = data[:, ram_order]
        ram = _replication_ram(plan, mom)
        moments = ram.moments(theta)
        delta = moment_jacobian(ram, moments, plan.meanstructure)[0]
        exo = tuple(ram.observed.index(v) for v in ram.partable.roles.ov_x)
        mu = moments[0].mu if plan.meanstructure else data.mean(axis=0)
        meat = first_order_information(data, delta, moments[0].sigma, mu, plan.meanstructure,
                                       exo)
        meat_x = plan.basis.T @ meat @ plan.basis
    Bk = plan.basis[needed]
    try:
        Y = np.linalg.solve(info_x, Bk.T)
    except np.linalg.LinAlgError:
        Y = np.linalg.pinv(info_x) @ Bk.T
    return Y.T @ meat_x @ Y / data.shape[0]


def _replication_ram(plan: RefitPlan, mom: Moments):
    """The plan's compiled model with this replication's fixed-x values (a private copy when
    there are any: threads may share the plan)."""
    ram = plan._ram
    if any(grp.fx_rows.size for grp in plan.groups):
        ram = copy.copy(ram)
        ram.base_values = ram.base_values.copy()
    for g, grp in enumerate(plan.groups):
        if grp.fx_rows.size:
            _, S, M = mom.fixed[g]
            for r, kind, i, j in zip(grp.fx_rows, grp.fx_kind, grp.fx_i, grp.fx_j):
                ram.base_values[r] = S[i, j] if kind == 1 else M[i]
    return ram


def implied_cov(plan: RefitPlan, theta: np.ndarray, mom: Moments):
    """The model-implied covariance matrix of all variables (plan order), and B m."""
    grp = plan.groups[0]
    S, M, B = plan._matrices(grp, mom.fixed[0], theta)
    if B is None:
        return None, None
    return B @ S @ B.T, B @ M


@dataclass(frozen=True)
class Test:
    """One hypothesis, compiled against its analysis model.

    ``rows``: parameter-table rows (a path: one; an indirect effect: the chain; an
    interaction: the product's coefficient); ``free``: their θ indices (−1 fixed);
    ``latent``: for an interaction, the plan positions of X, Z and Y; for a necessity claim,
    the condition and outcome (name, is latent, index); ``hypothesis``: what the proposition
    registry tests.
    """

    id: str
    kind: str
    sign: str
    model: str  # "main" or "interaction"
    rows: tuple[int, ...] = ()
    free: tuple[int, ...] = ()
    latent: tuple = ()
    hypothesis: Hypothesis | None = None


@dataclass
class Study:
    """Everything a chunk of replications needs (pickled once per chunk, or once per Dask
    worker)."""

    sampler: Sampler
    main: CompiledModel | None
    interaction: CompiledModel | None
    tests: tuple[Test, ...]
    alpha: float
    level: float
    entropy: int
    nca_permutations: int
    needed: dict[str, np.ndarray] = field(default_factory=dict)
    #: where the evidence of each question is: (outcome, predictor) → (row, θ index) of the
    #: main model; (outcome, "X:Z") → the interaction test; (condition, outcome) → the
    #: necessity test
    paths: dict = field(default_factory=dict)
    terms: dict = field(default_factory=dict)
    conditions: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("main", "interaction"):
            free = sorted({f for t in self.tests if t.model == name for f in t.free if f >= 0})
            self.needed[name] = np.asarray(free, dtype=int)
        for t in self.tests:
            c = t.hypothesis.constructs
            if t.kind in ("path", "indirect"):
                for k, (a, b) in enumerate(zip(c[:-1], c[1:])):
                    self.paths[(b, a)] = (t.rows[k], t.free[k])
            elif t.kind in ("interaction", "moderation"):
                x, z, y = c if t.kind == "interaction" else (c[1], c[0], c[2])
                self.terms[(y, f"{x}:{z}")] = self.terms[(y, f"{z}:{x}")] = t
            else:
                self.conditions[c] = t


def run_chunk(study: Study, chunk: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """Replications ``start..stop-1`` at sample size ``n`` (``chunk = (n, start, stop)``)."""
    n, start, stop = chunk
    k, h = stop - start, len(study.tests)
    out = {
        "status": np.full((k, h), NOT_CONVERGED, dtype=np.int8),
        "est": np.full((k, h), np.nan),
        "se": np.full((k, h), np.nan),
        "std": np.full((k, h), np.nan),
        "p": np.full((k, h), np.nan),
        "supported": np.zeros((k, h), dtype=bool),
    }
    # No warnings.catch_warnings() here: it is not thread-safe, and Dask may run chunks in
    # threads of the user's process.  BLAS is limited by a reference-counted context that
    # threads can share (see cbec_sem.parallel.blas_single_threaded).
    with blas_single_threaded(), np.errstate(all="ignore"):
        reps = range(start, stop)
        draws = [study.sampler.draw(n, np.random.default_rng(
            np.random.SeedSequence(study.entropy, spawn_key=(n, r, 0)))) for r in reps]
        fits = {name: _refit_all(study, name, draws, n) for name in ("main", "interaction")
                if getattr(study, name) is not None}
        for i, r in enumerate(reps):
            _replication(study, n, r, i, {name: f[i] for name, f in fits.items()}, out)
    return out


def _refit_all(study: Study, name: str, draws: list[np.ndarray], n: int) -> list[Fitted]:
    """One analysis model refitted to every replication of a chunk: the quasi-Newton
    iterations of all of them batched (:func:`~cbec_sem.resampling.batch.refit_moments`; a
    replication's numbers do not depend on its batch), then each one's covariance matrix of
    the needed parameters."""
    model = getattr(study, name)
    columns = [model.columns(X) for X in draws]
    moms = [model.moments(F) for F in columns]
    needed = study.needed[name]
    plan = model.plan
    results = refit_moments(plan, moms)
    thetas = [None if res.x is None else plan.theta_of(res.x) for res in results]
    tested = [t for t, res in enumerate(results)
              if needed.size and res.status not in (NOT_CONVERGED, BAD_MOMENTS)]
    V = {}
    if name == "interaction":
        for t in tested:
            V[t] = robust_vcov_of(plan, thetas[t], moms[t], columns[t], model.ram_order, needed)
    elif tested:
        infos = information_many(plan, [thetas[t] for t in tested], [moms[t] for t in tested])
        V = dict(zip(tested, vcovs_of(plan, infos, needed, float(n))))
    return [Fitted(BAD_MOMENTS) if mom is None else
            Fitted(res.status, thetas[t], res.rows, res.std, mom, V.get(t), columns[t])
            for t, (mom, res) in enumerate(zip(moms, results))]


def _replication(study: Study, n: int, r: int, i: int, fitted: dict[str, Fitted],
                 out: dict) -> None:
    """Tests every hypothesis of replication ``r`` (row ``i`` of the chunk's output) on its
    refitted analysis models."""
    evidence = ReplicationEvidence(study, fitted, n, r)
    for j, t in enumerate(study.tests):
        status = fitted[t.model].status
        out["status"][i, j] = status
        if status >= NOT_CONVERGED:
            continue
        h = t.hypothesis
        row = empty_row(h)
        PROPOSITION_TESTS[h.kind](evidence, h, 1, row)
        if not np.isfinite(row["estimate"]):
            out["status"][i, j] = NOT_CONVERGED
            continue
        decide(row, h, study.alpha)
        out["est"][i, j] = row["estimate"]
        out["se"][i, j] = row["se"]
        out["std"][i, j] = row["std.all"]
        out["p"][i, j] = row["p"]
        out["supported"][i, j] = row["verdict"] == "supported"


@dataclass(frozen=True)
class Fitted:
    """One analysis model refitted in one replication."""

    status: int
    theta: np.ndarray | None = None
    rows: np.ndarray | None = None
    std: np.ndarray | None = None
    mom: Moments | None = None
    V: np.ndarray | None = None  # covariance of the study's needed parameters
    F: np.ndarray | None = None  # the model's data columns (plan order)


class ReplicationEvidence:
    """The evidence of one replication, answering the questions of the proposition tests
    (:class:`cbec_sem.propositions.verdicts.FitEvidence` answers them from a fit): every
    number comes from the replication's compiled refits, so a study of 1000 replications
    costs about 1000 lean refits, not 1000 full fits."""

    def __init__(self, study: Study, fitted: dict[str, Fitted], n: int, r: int) -> None:
        self.study, self.fitted, self.n_cases, self.r = study, fitted, n, r
        self.level = study.level
        # what the replication's tests share: the main model's scoring weights (necessity
        # claims) and the product-indicator model's implied covariance matrix (interactions)
        self._shared: dict = {}

    def n(self, g: int) -> int:
        return self.n_cases

    def _path(self, outcome: str, predictor: str):
        try:
            return self.study.paths[(outcome, predictor)]
        except KeyError:
            raise LookupError(f"the model has no path {predictor} → {outcome}") from None

    def coefficient(self, outcome: str, predictor: str, g: int) -> tuple[dict, str]:
        row, f = self._path(outcome, predictor)
        fit = self.fitted["main"]
        return (wald_row(float(fit.rows[row]), self._se("main", f), float(fit.std[row]),
                         self.level), METHODS["path"])

    def _se(self, model: str, f: int) -> float:
        """The SE of free parameter ``f`` (θ index; 0 for a fixed one) of an analysis model."""
        if f < 0:
            return 0.0
        q = int(np.searchsorted(self.study.needed[model], f))
        return float(np.sqrt(max(self.fitted[model].V[q, q], 0.0)))

    def indirect(self, chain: tuple[str, ...], g: int) -> tuple[dict, str]:
        links = [self._path(b, a) for a, b in zip(chain[:-1], chain[1:])]
        rows = [row for row, _ in links]
        fit = self.fitted["main"]
        needed = self.study.needed["main"]
        free = np.array([np.searchsorted(needed, f) if f >= 0 else -1 for _, f in links])
        est, se = product_of_paths(fit.rows[rows], free, fit.V)
        return (wald_row(est, se, float(np.prod(fit.std[rows])), self.level),
                METHODS["indirect"])

    def interaction(self, outcome: str, term: str) -> tuple[dict, str]:
        t = self.study.terms[(outcome, term)]
        fit = self.fitted["interaction"]
        model = self.study.interaction
        row, f = t.rows[0], t.free[0]
        est = float(fit.rows[row])
        se = self._se("interaction", f)
        if "implied" not in self._shared:  # one Σ(θ) for the replication's interactions
            self._shared["implied"] = implied_cov(model.plan, fit.theta, fit.mom)[0]
        C = self._shared["implied"]
        x, z, y = t.latent
        std = est * np.sqrt(C[x, x] * C[z, z] / C[y, y]) if C is not None else np.nan
        return (wald_row(est, se, float(std), self.level),
                METHODS["interaction"].format(m=model.method))

    def necessity(self, condition: str, outcome: str) -> tuple[dict, str]:
        t = self.study.conditions[(condition, outcome)]
        fit = self.fitted["main"]
        d, p, necessary = _necessity(self.study, t, fit.theta, fit.mom, fit.F,
                                     partial(necessity_stream, self.study.entropy,
                                             self.n_cases, self.r, t.id),
                                     shared=self._shared)
        if not np.isfinite(d):
            raise LookupError("necessary condition analysis failed")
        return ({"estimate": d, "p": p, "verdict": "supported" if necessary
                 else "not supported"},
                METHODS["necessity"].format(p=self.study.nca_permutations,
                                            d=matched_draws(self.study.nca_permutations)))


def necessity_stream(entropy: int, n: int, r: int, test_id: str, which: int
                     ) -> np.random.Generator:
    """A random stream of a necessity claim in replication r at size n: ``which`` = 0 for the
    correlation-matched null, 1 for NCA's permutations;
    ``SeedSequence(entropy, spawn_key=(n, r, 1, crc32(id), which))``.  Each test of each
    hypothesis has its own, so the draws of one do not depend on how many draws another used
    (which an early stop changes) nor on which other hypotheses the study tests."""
    key = (n, r, 1, zlib.crc32(test_id.encode()), which)
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=key))


def _necessity(study: Study, t: Test, theta, mom, F, stream, stop: bool = True,
               shared: dict | None = None) -> tuple[float, float, bool]:
    """NCA (CE-FDH) of condition → outcome on the regression factor scores of the main model
    (observed variables as they are) with the verdict ``res.hypotheses`` uses
    (:func:`~cbec_sem.propositions.necessity_null.necessity_verdict`: d ≥ 0.1, NCA's
    permutation test with ``nca_permutations`` draws and the correlation-matched test with
    :func:`~cbec_sem.propositions.evidence.matched_draws` draws, both p < α): d, the deciding
    p and whether it is called necessary.

    A replication needs the verdict only, so the three conditions are checked in the order
    that decides soonest, and each stops once the verdict is known (``stop``; ``False`` runs
    both tests in full on the same draws, for the test that the verdicts agree): d first (no
    draws); then the correlation-matched test, which decides most claims where NCA's own test
    rejects (correlated constructs without a ceiling), sequentially
    (:func:`~cbec_sem.propositions.necessity_null.matched_decision`: stopped once enough null
    d reach the observed d that p ≥ α is certain, Besag & Clifford 1991); then the
    permutation test, likewise, only if the matched test rejected.  The verdict is that of the
    full tests on the same random numbers (exact); the p returned is that of the test that
    decided: NaN when d < 0.1 decided, the larger p when both tests ran, and for a test that
    stopped early its sequential p (≥ α; see
    :func:`~cbec_sem.propositions.necessity.sequential_count`).  ``stream(which)``: the
    test's random stream (:func:`necessity_stream`), made only when the test runs.
    ``shared``: a dict kept across the claims of one replication (the same fit), which then
    compute the scoring weights once."""

    if shared is None or "weights" not in shared:
        weights = _scoring_weights(study.main, theta, mom, F)
        if shared is not None:
            shared["weights"] = weights
    else:
        weights = shared["weights"]
    if weights is None:
        return np.nan, np.nan, False
    X, Xc, W, mue = weights
    columns = []
    for name, is_latent, idx in t.latent:
        if is_latent:
            columns.append(mue[idx] + Xc @ W[:, idx])
        else:
            columns.append(X[:, idx])
    x, y = columns
    if (study.nca_permutations < 1 or not (np.isfinite(x).all() and np.isfinite(y).all())
            or np.all(x == x[0]) or np.all(y == y[0])):  # no test (nca() refuses)
        return np.nan, np.nan, False
    # the cores of nca() and necessity_verdict() on one condition, without their tables
    fit = effect_size_fit(x, y)
    d = float(fit.rows["ce_fdh"]["d"])
    if not d >= NECESSITY_D:
        return d, np.nan, False
    ok, p_matched, _ = matched_decision(fit, "ce_fdh", matched_draws(study.nca_permutations),
                                        stream(0), study.alpha, stop=stop)
    if not ok:
        return d, float(p_matched), False
    ok, p, _ = permutation_decision(fit, "ce_fdh", study.nca_permutations, stream(1),
                                    study.alpha, stop=stop)
    return d, float(max(p, p_matched)), bool(ok)


def _scoring_weights(model: CompiledModel, theta, mom, F):
    """The main model's regression (Thurstone) scoring of a replication: its observed
    columns X (compiled order), X − μ_x, the weights W = Σ_xx⁻¹ Σ_xη and μ_η (``None`` where
    Σ(θ) or Σ_xx cannot be formed); a latent score is μ_η + (X − μ_x) W."""
    plan = model.plan
    C, bm = implied_cov(plan, theta, mom)
    if C is None:
        return None
    X = F[:, model.ram_order]  # the compiled observed order
    obs, lat = plan.obs_pos, plan.lat_pos
    try:
        W = np.linalg.solve(C[np.ix_(obs, obs)], C[np.ix_(obs, lat)])
    except np.linalg.LinAlgError:
        return None
    if plan.meanstructure:
        mux, mue = bm[obs], bm[lat]
    else:
        mux, mue = X.mean(axis=0), np.zeros(lat.size)
    return X, X - mux, W, mue
