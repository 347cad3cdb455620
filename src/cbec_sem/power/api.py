"""``cs.power()``: Monte Carlo power of a model's hypotheses at a list of sample sizes."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..engine.threads import single_threaded_blas
from ..errors import CbecSemError, CbecSemWarning, EstimationError, SpecError
from ..parallel import executor
from ..resampling.refit import NOT_CONVERGED, RefitPlan
from ..simulate import population_model
from ..specification.hypotheses import Hypothesis
from ..specification.model import ModelSpec
from ..validation import (MAX_PERMUTATIONS, check_count, check_permutations, check_probability,
                          check_seed, check_sizes)
from .population import (POPULATION_SAMPLE, POPULATION_SEED, Sampler, check_categories,
                         check_positive_definite, exact_data, exact_moments, item_thresholds,
                         population_sample, residualise, sample_moments)
from .pilot import population_from_fit, stated_effects, with_effects
from .result import PowerResult, check_target, summarise
from .study import (CHUNK_SIZE, METHODS, MISSING, CompiledModel, Study, Test, implied_cov,
                    information, moments_of, refit, run_chunk)
from ..specification.paper import paper_model
from ..fitting import fit
from ..propositions.evidence import matched_draws
from ..propositions.interaction.product_indicators import fit_product_indicators
from ..datasets import example_population

#: Cases of the population sample the product-indicator model is first fitted to (its
#: structure and starting values; the population values then come from exact moments).
PILOT_SAMPLE = 5_000

#: Interaction methods.
INTERACTION_METHODS = ("dblcent", "rca")



def power(
    model,
    n,
    *,
    reps: int = 1000,
    population=None,
    likert: int | None = None,
    alpha: float = 0.05,
    target: float = 0.80,
    hypotheses: Sequence[str | Hypothesis] | None = None,
    seed: int | None = None,
    n_jobs: int = 1,
    client=None,
    interaction_method: str = "dblcent",
    nca_permutations: int = 200,
    progress: bool | Callable[[int, int], None] = False,
    effects: dict[str, float] | None = None,
) -> PowerResult:
    """Monte Carlo power of every hypothesis of a model, at each sample size in ``n``.

    For every sample size, ``reps`` data sets are drawn from the population, the analysis
    model is fitted to each, and each hypothesis is tested as :func:`cbec_sem.fit` tests it:

    * ``path``: the ML Wald z test of the coefficient (p < α and, for a directional
      hypothesis, the expected sign; a null effect is therefore "supported" at rate α/2);
    * ``indirect``: the product of the chain's coefficients with the delta-method (Sobel) z
      test.  **Not the bootstrap**: a percentile interval per replication would multiply the
      cost by the number of bootstrap draws (1000 × 1000 refits for one sample size); the
      delta method is what ``cs.fit`` reports without ``bootstrap=``, and it is slightly
      conservative for small indirect effects (its power is a lower bound of the
      bootstrap's; MacKinnon, Lockwood & Williams 2004);
    * ``interaction`` / ``moderation``: the model with every hypothesised product term added
      (``SCI ~ TA:FA + PC:TA + PC:FA``), fitted by product indicators (``interaction_method``:
      double-mean-centring or residual centring, products formed in every replication) and the
      Wald test of the product's coefficient.  Only fitted when such hypotheses are asked for:
      the product-indicator model of the paper has 60 observed variables and ~250 parameters,
      about 20× the cost of the main-effects model per replication;
    * ``necessity``: NCA (CE-FDH) on the regression factor scores of the main model, with
      ``nca_permutations`` permutations per replication (supported when d ≥ 0.1 and p < α).
      Expensive (a permutation test per replication), so the default is 200 permutations: the
      p-value of one replication then carries Monte Carlo error (its resolution is 1/200 and
      its SE about √(p(1−p)/200), ±0.015 at p = .05), which blurs the verdict for p near α
      and makes the estimated power of the necessity claim slightly conservative or liberal;
      raise it (e.g. 1000) for a final study.

    Replications are refitted by the lean refit of :mod:`cbec_sem.resampling.refit`: the model
    is compiled once, fitted to the exact population moments (its population values, also
    the warm start of every replication), and each replication costs one quasi-Newton refit
    and one information matrix (about 1.5 ms for the paper model at n = 300).

    Args:
        model: a :class:`~cbec_sem.specification.ModelSpec` (e.g. ``cs.paper_model()``) or lavaan
            syntax; its hypotheses are tested.
        n: the sample sizes (a positive integer or a list of them).
        reps: replications per sample size.
        population: the population model — lavaan syntax (or a ModelSpec) whose numeric
            modifiers are the population values, as :func:`cbec_sem.simulate` takes it
            (standardised: every variable has variance 1); or a fitted result (a pilot
            study, ``cs.fit(...)``), whose completely standardised estimates become the
            population values (:func:`cbec_sem.power.pilot.population_from_fit`).  Default:
            for ``cs.paper_model()``, ``cs.datasets.example_population()``; otherwise the
            model's own fixed values (missing loadings 0.7, missing paths 0: a hypothesised
            effect left at that 0 is warned about, since its "power" is then the
            false-positive rate).
        likert: cut every item into this many categories (symmetric thresholds, see
            :func:`cbec_sem.simulate.default_thresholds`) and fit them as continuous by ML, as
            the paper's analysis does; ``None``: continuous items.
        alpha: significance level of every test.
        target: the power wanted (:meth:`PowerResult.smallest_n`).
        hypotheses: ids (or :class:`~cbec_sem.specification.Hypothesis` objects) to test; default all
            the model's hypotheses.  Leave out interaction and necessity hypotheses for a fast
            study.
        seed: the study's seed (an integer ≥ 0).  Replication r at sample size n draws its
            data from ``SeedSequence(seed, spawn_key=(n, r, 0))`` (and a necessity claim's
            two NCA tests from ``(n, r, 1, crc32(id), 0 or 1)``), so the result is
            identical for any ``n_jobs``, on a Dask
            cluster, and for a sample size whatever other sizes are in ``n``.  ``None``: fresh
            entropy, recorded in ``PowerResult.seed``.
        n_jobs: local worker processes (joblib; ``-1`` all cores).
        client: a ``dask.distributed.Client``: run the replications on its cluster (see
            ``docs/dask.md``).  If the cluster goes away mid-study, the completed replications
            are kept (``PowerResult.completed``) and a warning says how many.
        interaction_method: ``"dblcent"`` (default) or ``"rca"``.
        nca_permutations: permutations of the NCA test in each replication.
        progress: ``True`` for a tqdm progress bar, or a function ``f(done, total)`` called
            after every chunk of replications.
        effects: standardised effect sizes by hypothesis id, e.g. ``{"H2": .3, "H5": .1}``:
            the population coefficient of a path hypothesis, or of an interaction's product
            term, set on top of ``population`` (or of its default); see
            :func:`cbec_sem.power.pilot.with_effects`.

    Returns:
        A :class:`~cbec_sem.power.PowerResult`: ``.table`` (power, bias, RMSE, coverage,
        convergence per n and hypothesis), ``.smallest_n()``, ``.plot()``, ``.summary()``.

    Raises:
        SpecError: ``n`` or ``reps`` not positive integers, an ``n`` too small for the model, a
            population whose implied covariance matrix is not positive definite (naming the
            variables), a ``likert`` that leaves a category empty in the population (naming
            the item), a hypothesis the model cannot test, other bad arguments.
        EstimationError: the analysis model cannot be fitted even to the population moments
            (not identified, or misspecified beyond repair), or no replication completed.

    Examples:
        >>> pw = cs.power("X =~ x1 + x2 + x3; Y =~ y1 + y2 + y3; Y ~ X", n=[100], reps=10, seed=1,
        ...               population="X =~ 0.8*x1 + 0.7*x2 + 0.7*x3; Y =~ 0.8*y1 + 0.7*y2 + 0.7*y3; Y ~ 0.3*X",
        ...               hypotheses=[cs.Hypothesis.path("H1", "X", "Y")])
        >>> pw.table[["n", "id", "power", "coverage"]]
             n  id  power  coverage
        0  100  H1    0.7       1.0
    """
    start = time.perf_counter()
    spec = _as_model(model)
    # each replication holds a few n × p tables (data, moments, scores): judged against memory
    sizes = check_sizes(n, "n", cells_per_unit=4 * max(len(spec.observed_variables), 1))
    reps = check_count(reps, "reps", minimum=1, maximum=MAX_PERMUTATIONS)
    alpha = check_probability(alpha, "alpha")
    target = check_target(target)
    seed = check_seed(seed)
    if isinstance(seed, (np.random.SeedSequence, np.random.Generator)):
        raise SpecError("seed must be a non-negative integer or None for a power study (its "
                        "draws are keyed by (seed, n, replication))")
    seq = np.random.SeedSequence(seed)
    if interaction_method not in INTERACTION_METHODS:
        raise SpecError(f"interaction_method={interaction_method!r}: product indicators are "
                        "formed by 'dblcent' (double-mean-centring) or 'rca' (residual "
                        "centring)")
    tests_wanted = _select(spec, hypotheses)
    kinds = {h.kind for h in tests_wanted}
    # checked whether or not a necessity hypothesis is tested: a bad value is refused, not ignored
    nca_permutations = check_permutations(nca_permutations, "nca_permutations", minimum=1)
    if not (isinstance(progress, bool) or callable(progress)):
        raise SpecError(f"progress={progress!r} must be True, False or a function(done, total)")
    ex = executor(n_jobs, client)  # validates n_jobs and the client before any work

    # ---- the population
    notes: list[str] = []
    population, source = _default_population(spec, population)
    if effects is not None:
        population = with_effects(spec, population, effects)
        given = ", ".join(f"{k} = {v:g}" for k, v in effects.items())
        source = f"{source}; effects set: {given}"
    stated = stated_effects(spec, population)
    pm = population_model(spec, population=population)
    check_positive_definite(pm, pm.observed)
    thresholds = item_thresholds(pm, likert)
    check_categories(pm, thresholds)
    sampler = Sampler(pm, thresholds)
    cut = bool(thresholds)
    if cut:
        notes.append(f"Likert items: population values come from a population sample of "
                     f"{POPULATION_SAMPLE:,} cases (error ≈ √(n/{POPULATION_SAMPLE:,}) "
                     "replication SEs); `population.std` of a path or indirect effect is the "
                     "standardised value of the model fitted to the discretised items, which "
                     "can differ from the value in the population model (discretisation "
                     "lowers the items' correlations); of an interaction it is the population "
                     "model's value, and its unstandardised value is converted with the latent "
                     "SDs of the main-effects model fitted to the discretised items (an "
                     "approximation)")

    # ---- the analysis models
    with single_threaded_blas(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        main_stmts = tuple(s for s in spec.statements
                           if not (s.op == "~" and ":" in s.rhs) and s.op != "|")
        needs_pi = bool(kinds & {"interaction", "moderation"})
        # the main-effects model also gives the metric of the interactions' population values
        needs_main = bool(kinds & {"path", "indirect", "necessity"}) or needs_pi
        # Likert data: the population sample drawn once for every model's moments
        population = population_sample(sampler) if cut else None
        main, main_x = (_compile_main(ModelSpec(main_stmts), pm, sampler, cut, population)
                        if needs_main else (None, None))
        inter, inter_x = (_compile_interaction(spec, main_stmts, tests_wanted, pm, sampler, cut,
                                               interaction_method, notes, population)
                          if needs_pi else (None, None))
        del population
    for w in caught:
        if issubclass(w.category, CbecSemWarning):
            notes.append(f"fitting the population: {w.message}")
    tests, population_values = _compile_tests(tests_wanted, pm, main, main_x, inter, inter_x,
                                              notes)
    # a population value that is 0 up to rounding is 0 (a null effect)
    population_values = {k: tuple(0.0 if abs(v) < 1e-9 else v for v in vals)
                         for k, vals in population_values.items()}
    methods = {h.id: METHODS[h.kind].format(p=nca_permutations, m=interaction_method,
                                            d=matched_draws(nca_permutations))
               for h in tests_wanted}
    for name, model_ in (("main-effects", main), ("product-indicator", inter)):
        if model_ is not None and min(sizes) <= model_.nvars:
            raise SpecError(
                f"n={min(sizes)} is too small: the {name} model has {model_.nvars} observed "
                "variables, so every sample covariance matrix would be singular; use n > "
                f"{model_.nvars} (and in practice several times the number of parameters)")
    for h in tests_wanted:
        pop, _ = population_values[h.id]
        if h.kind != "necessity" and pop == 0.0:
            rate = "≈ α/2 for a directional hypothesis" if h.sign != "two-sided" else "≈ α"
            notes.append(f"{h.id}: the population value is 0, so its 'power' is the "
                         f"false-positive rate ({rate})")
            if h.kind != "indirect" and h.id not in stated:
                warnings.warn(
                    f"{h.id} ({h.statement}): the population gives this effect no value, so it "
                    f"is 0 and its 'power' is the false-positive rate ({rate}); give its size "
                    f"with effects={{'{h.id}': ...}}, a population with values, or "
                    "population=<a pilot fit>", CbecSemWarning, stacklevel=2)

    uses_main = any(t.model == "main" for t in tests)
    study = Study(sampler=sampler, main=main if uses_main else None, interaction=inter,
                  tests=tests, alpha=alpha,
                  level=0.95, entropy=int(seq.entropy), nca_permutations=int(nca_permutations))
    chunks = [(size, s, min(reps, s + CHUNK_SIZE)) for size in sizes
              for s in range(0, reps, CHUNK_SIZE)]
    on_done, close = _progress(progress, chunks)
    try:
        run = ex.run(run_chunk, study, chunks, on_done)
    finally:
        close()

    # ---- assemble
    h = len(tests)
    draws = {size: {"status": np.full((reps, h), MISSING, dtype=np.int8),
                    "est": np.full((reps, h), np.nan), "se": np.full((reps, h), np.nan),
                    "std": np.full((reps, h), np.nan), "p": np.full((reps, h), np.nan),
                    "supported": np.zeros((reps, h), dtype=bool)} for size in sizes}
    completed = 0
    for (size, s, e), out in zip(chunks, run.results):
        if out is None:
            continue
        completed += e - s
        for key, value in out.items():
            draws[size][key][s:e] = value
    if completed == 0:
        raise EstimationError(f"no replication completed: {run.error}")
    if run.error:
        warnings.warn(
            f"power study interrupted: {run.error}; {completed} of {reps * len(sizes)} "
            "replications completed and are reported (PowerResult.completed; per sample size "
            "in the table's 'completed' column)", CbecSemWarning, stacklevel=2)
        notes.append(f"interrupted: {completed} of {reps * len(sizes)} replications completed")
    table = summarise(sizes, tests, draws, population_values, methods, reps, level=0.95)
    for _, r in table.iterrows():
        if r["completed"] and r["convergence"] < 0.9:
            notes.append(f"{r['id']} at n = {r['n']}: only {r['converged']} of {r['completed']} "
                         "replications converged; failures count as not supported in 'power'")
    replications = _long(sizes, tests, draws)
    return PowerResult(
        table=table, replications=replications, hypotheses=tuple(tests_wanted),
        n=tuple(sizes), reps=reps, completed=completed, alpha=alpha, target=target,
        seed=int(seq.entropy), population=source, likert=likert,
        backend=ex.describe(), elapsed=time.perf_counter() - start,
        notes=tuple(dict.fromkeys(notes)), interrupted=run.error)


# ------------------------------------------------------------------------ arguments
def _as_model(model) -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, str):
        return ModelSpec.from_lavaan(model)
    raise SpecError(f"model must be a ModelSpec (e.g. cs.paper_model()) or lavaan syntax "
                    f"text, not {type(model).__name__}")


def _select(spec: ModelSpec, hypotheses) -> list[Hypothesis]:
    if hypotheses is None:
        chosen = list(spec.hypotheses)
    else:
        if isinstance(hypotheses, (str, Hypothesis)):
            hypotheses = [hypotheses]
        chosen = []
        for h in hypotheses:
            if isinstance(h, Hypothesis):
                chosen.append(h)
            elif isinstance(h, str):
                chosen.append(spec.hypothesis(h))  # SpecError names the known ids
            else:
                raise SpecError(f"hypotheses must be ids or Hypothesis objects, not {h!r}")
    if not chosen:
        raise SpecError("the model has no hypotheses to test: give hypotheses=[...] or a "
                        "model with hypotheses (e.g. cs.paper_model())")
    ids = [h.id for h in chosen]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise SpecError(f"hypothesis id(s) {', '.join(twice)} given more than once")
    return chosen


def _default_population(spec: ModelSpec, population):
    if population is not None and not isinstance(population, (str, ModelSpec)):
        return population_from_fit(population), (
            "a pilot fit's completely standardised estimates (population=<fit>)")
    if population is not None:
        return population, "given (population=)"

    if spec.statements == paper_model().statements:

        return example_population(), ("cs.datasets.example_population() (the paper model's "
                                      "default: H1 and H6b null, the others true)")
    return None, ("the model's own values (loadings without a value 0.7, paths without a "
                  "value 0)")


# ------------------------------------------------------------------------ compiling
def _fit_quietly(spec: ModelSpec, frame: pd.DataFrame):

    return fit(spec, frame)


def _plan(est) -> RefitPlan:
    plan = RefitPlan(est)
    for grp in plan.groups:  # the pilot data are not needed by the replications
        grp.Xc = np.empty((0, grp.Xc.shape[1]))
    return plan


def _warm_start(plan: RefitPlan, x: np.ndarray, mom) -> None:
    """Make the replications start at x (the population values), with the inverse expected
    information there as the first Hessian."""
    plan.x_hat = np.asarray(x, dtype=float).copy()
    plan.theta_hat = plan.theta_of(plan.x_hat)
    info = information(plan, plan.theta_hat, mom)
    try:
        hinv = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        hinv = np.linalg.pinv(info)
    plan.hess_inv0 = 0.5 * (hinv + hinv.T)


def _compile_main(spec: ModelSpec, pm, sampler: Sampler, cut: bool, population=None):
    """The main-effects model compiled for replications, and (not shipped to workers) its
    population values and parameter table.  ``population``: the kept population sample of
    Likert data (:func:`~.population.population_sample`)."""
    names = tuple(v for v in pm.observed if v in set(spec.observed_variables))
    cols = np.array([sampler.observed.index(v) for v in names], dtype=int)
    if cut:
        mean, cov = sample_moments(sampler, cols, population=population)
    else:
        mean, cov = exact_moments(pm, names)
    frame = pd.DataFrame(exact_data(mean, cov), columns=list(names))
    try:
        res = _fit_quietly(spec, frame)
    except CbecSemError as exc:
        raise EstimationError(f"the analysis model cannot be fitted to the population moments: "
                              f"{exc}") from None
    if not res.converged.optimizer_converged:
        raise EstimationError(
            "the analysis model does not converge even on the exact population moments "
            f"({res.converged.describe()}); check that it is identified and that the population "
            "fits it")
    est = res.estimation
    plan = _plan(est)
    stats_names = list(est.stats.names)
    perm = np.array([names.index(v) for v in stats_names], dtype=int)
    ram_order = np.array([stats_names.index(v) for v in est.ram.observed], dtype=int)
    model = CompiledModel(name="main", plan=plan, item_cols=cols, products=(), regressors=(),
                          method="", perm=perm, ram_order=ram_order,
                          latent=tuple(est.ram.latent), observed=tuple(est.ram.observed))
    extras = {"population": (est.params["est"].to_numpy(float),
                             est.params["std.all"].to_numpy(float), est.theta.copy()),
              "frame": est.partable.frame,
              "moments": moments_of(plan, est.stats.means[0], est.stats.covs[0],
                                    float(est.stats.nobs[0]))}
    return model, extras


def _terms_needed(spec: ModelSpec, tests) -> dict[str, list[str]]:
    """Outcome → product terms: the model's own, then those the hypotheses name."""
    terms: dict[str, list[str]] = {}
    for s in spec.statements:
        if s.op == "~" and ":" in s.rhs:
            terms.setdefault(s.lhs, []).append(s.rhs)
    for h in tests:
        if h.kind == "interaction":
            x, z, y = h.constructs
        elif h.kind == "moderation":
            z, x, y = h.constructs  # (moderator, focal, outcome) → focal:moderator
        else:
            continue
        have = {tuple(sorted(t.split(":"))) for t in terms.get(y, [])}
        if tuple(sorted((x, z))) not in have:
            terms.setdefault(y, []).append(f"{x}:{z}")
    return terms


def _compile_interaction(spec, main_stmts, tests, pm, sampler: Sampler, cut: bool,
                         method: str, notes: list[str], population=None):

    terms = _terms_needed(spec, tests)
    lines = [f"{y} ~ {' + '.join(dict.fromkeys(ts))}" for y, ts in terms.items()]
    base = ModelSpec(main_stmts).to_lavaan()
    try:
        pi_spec = ModelSpec.from_lavaan(base + "\n" + "\n".join(lines))
    except SpecError as exc:
        raise SpecError(f"the interaction hypotheses cannot be added to the model: {exc}") \
            from None
    rng = np.random.default_rng(POPULATION_SEED + 1)
    pilot = pd.DataFrame(sampler.draw(PILOT_SAMPLE, rng), columns=list(sampler.observed))
    try:
        pif = fit_product_indicators(pi_spec, pilot, method=method, match=True)
    except CbecSemError as exc:
        raise EstimationError(f"the product-indicator model cannot be fitted to a population "
                              f"sample: {exc}") from None
    if not pif.fit.converged.optimizer_converged:
        raise EstimationError("the product-indicator model does not converge on a "
                              f"{PILOT_SAMPLE}-case population sample; the interaction "
                              "hypotheses cannot be studied with this population")
    est = pif.fit.estimation
    stats_names = list(est.stats.names)
    parts = {ind: p for t in pif.terms for ind, p in zip(t.indicators, t.parts)}
    first_order = {ind: tuple(dict.fromkeys(i for pp in t.parts for i in pp))
                   for t in pif.terms for ind in t.indicators}
    items = [v for v in stats_names if v not in parts]
    prods = [v for v in stats_names if v in parts]
    missing = [v for v in items if v not in sampler.observed]
    if missing:  # pragma: no cover - the population names every model variable
        raise SpecError(f"the population does not generate {missing}")
    item_cols = np.array([sampler.observed.index(v) for v in items], dtype=int)
    products = tuple(tuple(items.index(i) for i in parts[v]) for v in prods)
    regressors = tuple(tuple(items.index(i) for i in first_order[v]) for v in prods)
    stacked = items + prods
    perm = np.array([stacked.index(v) for v in stats_names], dtype=int)
    ram_order = np.array([stats_names.index(v) for v in est.ram.observed], dtype=int)
    plan = _plan(est)
    model = CompiledModel(name="interaction", plan=plan, item_cols=item_cols, products=products,
                          regressors=regressors, method=method, perm=perm, ram_order=ram_order,
                          latent=tuple(est.ram.latent), observed=tuple(est.ram.observed))
    # population moments of the items and products (stacked order), then the plan's order
    mean = cov = None
    if not cut:
        try:
            mean, cov = exact_moments(pm, tuple(items), tuple(parts[v] for v in prods))
        except SpecError as exc:
            notes.append(f"interaction model: {exc}; its population values come from a "
                         f"population sample of {POPULATION_SAMPLE:,} cases")
    if mean is None:
        mean, cov = sample_moments(sampler, item_cols,
                                   tuple(tuple(item_cols[i] for i in pp) for pp in products),
                                   population=population)
    if method == "rca":
        cov = residualise(cov, len(items), [list(r) for r in regressors])
    mean, cov = mean[perm], cov[np.ix_(perm, perm)]
    mom = moments_of(plan, mean, cov, PILOT_SAMPLE)
    status, x, theta, rows, std = (NOT_CONVERGED, None, None, None, None) if mom is None else \
        refit(plan, mom)
    if status >= NOT_CONVERGED:
        notes.append("the product-indicator model did not converge on the population moments; "
                     f"its population values are those of a {PILOT_SAMPLE:,}-case population "
                     "sample")
        theta = est.theta.copy()
        rows = est.params["est"].to_numpy(float)[: len(est.partable.frame)]
        std = est.params["std.all"].to_numpy(float)[: len(est.partable.frame)]
    else:
        _warm_start(plan, x, mom)
    extras = {"population": (rows, std, theta, mom), "frame": est.partable.frame,
              "terms": pif.terms}
    return model, extras


def _row(frame: pd.DataFrame, lhs: str, op: str, rhs: str) -> int | None:
    hit = np.flatnonzero((frame["op"].to_numpy() == op) & (frame["lhs"].to_numpy() == lhs)
                         & (frame["rhs"].to_numpy() == rhs) & (frame["group"].to_numpy() == 1))
    return int(hit[0]) if hit.size else None


def _position(model: CompiledModel, name: str) -> int:
    plan = model.plan
    if name in model.latent:
        return int(plan.lat_pos[model.latent.index(name)])
    return int(plan.obs_pos[model.observed.index(name)])


def _interaction_values(pm, main, main_x, inter, inter_x, xzy, row, pos):
    """The population value of an interaction X × Z → Y, and what the product-indicator model
    converges to.

    Standardised: γ·sd(X)·sd(Z)/sd(Y) with γ the population's coefficient of the product
    (0 when the population has none) and the population SDs (1 in a standardised population).
    Unstandardised, in the analysis model's metric: that value times sd*(Y)/(sd*(X)·sd*(Z)),
    the SDs implied by the main-effects model at its population values (it is correctly
    specified at the level of covariances: a product is uncorrelated with every linear term).
    """
    x, z, y = xzy
    order = list(pm.order)
    gamma = 0.0
    for r, (a, b) in enumerate(pm._products):
        if sorted((order[a], order[b])) == sorted((x, z)):
            gamma = float(pm._gamma[order.index(y), r])
    cov = pm.covariance
    std = gamma * math.sqrt(cov.loc[x, x] * cov.loc[z, z] / cov.loc[y, y])
    _, _, theta_main = main_x["population"]
    mom_main = main_x["moments"]
    C, _ = implied_cov(main.plan, theta_main, mom_main)
    px, pz, py = (_position(main, v) for v in xzy)
    unstd = std * math.sqrt(C[py, py] / (C[px, px] * C[pz, pz]))
    rows_pop, _, theta, mom = inter_x["population"]
    Ci, _ = implied_cov(inter.plan, theta, mom)
    b = float(rows_pop[row])
    pseudo = (b, b * math.sqrt(Ci[pos[0], pos[0]] * Ci[pos[1], pos[1]] / Ci[pos[2], pos[2]]))
    return (unstd, std), pseudo


def _compile_tests(hyps, pm, main: CompiledModel | None, main_x: dict | None,
                   inter: CompiledModel | None, inter_x: dict | None, notes: list[str]):
    tests, values = [], {}
    for h in hyps:
        if h.kind in ("path", "indirect"):
            frame = main_x["frame"]
            chain = h.constructs
            rows = []
            for a, b in zip(chain[:-1], chain[1:]):
                r = _row(frame, b, "~", a)
                if r is None:
                    raise SpecError(f"hypothesis {h.id} ({h.statement}): the model has no path "
                                    f"{a} → {b} to test")
                rows.append(r)
            free = tuple(int(main.plan.free_index[r]) for r in rows)
            if all(f < 0 for f in free):
                raise SpecError(f"hypothesis {h.id}: the model fixes every path it names, so "
                                "there is nothing to test")
            est, std, _ = main_x["population"]
            values[h.id] = (float(np.prod(est[rows])), float(np.prod(std[rows])))
            tests.append(Test(h.id, h.kind, h.sign, "main", tuple(rows), free, hypothesis=h))
        elif h.kind in ("interaction", "moderation"):
            if h.kind == "interaction":
                x, z, y = h.constructs
            else:
                z, x, y = h.constructs
            term = next(t for t in inter_x["terms"] if sorted(t.components) == sorted((x, z)))
            r = _row(inter_x["frame"], y, "~", term.name)
            if r is None:  # pragma: no cover - the term was added for this hypothesis
                raise SpecError(f"hypothesis {h.id}: no product term {x}:{z} → {y}")
            pos = (_position(inter, x), _position(inter, z), _position(inter, y))
            values[h.id], pseudo = _interaction_values(pm, main, main_x, inter, inter_x,
                                                       (x, z, y), r, pos)
            if abs(pseudo[1] - values[h.id][1]) > 0.005:
                notes.append(
                    f"{h.id}: the product-indicator model converges to {pseudo[1]:.3f} "
                    f"(standardised; {pseudo[0]:.4f} unstandardised) in the population, not to "
                    f"the population value {values[h.id][1]:.3f}: a large-sample bias of the "
                    f"method here (e.g. products of different terms that share an indicator "
                    "have correlated residuals the model leaves out)")
            tests.append(Test(h.id, h.kind, h.sign, "interaction", (r,),
                              (int(inter.plan.free_index[r]),), pos, hypothesis=h))
        else:  # necessity
            spec_vars = []
            for v in h.constructs:
                if v in main.latent:
                    spec_vars.append((v, True, main.latent.index(v)))
                elif v in main.observed:
                    spec_vars.append((v, False, main.observed.index(v)))
                else:
                    raise SpecError(f"hypothesis {h.id}: {v!r} is not a variable of the model")
            values[h.id] = (np.nan, np.nan)
            tests.append(Test(h.id, h.kind, h.sign, "main", (), (), tuple(spec_vars), hypothesis=h))
    return tuple(tests), values


# ------------------------------------------------------------------------ running
def _progress(progress, chunks):
    total = sum(e - s for _, s, e in chunks)
    if progress is False or progress is None:
        return None, lambda: None
    if callable(progress) and progress is not True:
        state = {"done": 0}

        def call(i, _):
            state["done"] += chunks[i][2] - chunks[i][1]
            progress(state["done"], total)

        return call, lambda: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        warnings.warn("progress=True needs the tqdm package (pip install tqdm); running "
                      "without a progress bar", UserWarning, stacklevel=3)
        return None, lambda: None
    bar = tqdm(total=total, desc="power", unit="rep")
    return (lambda i, _: bar.update(chunks[i][2] - chunks[i][1])), bar.close


def _long(sizes, tests, draws) -> pd.DataFrame:
    parts = []
    for size in sizes:
        d = draws[size]
        reps, h = d["status"].shape
        parts.append(pd.DataFrame({
            "n": size,
            "rep": np.repeat(np.arange(reps), h),
            "id": np.tile([t.id for t in tests], reps),
            "status": d["status"].ravel(),
            "est": d["est"].ravel(), "se": d["se"].ravel(), "std": d["std"].ravel(),
            "p": d["p"].ravel(), "supported": d["supported"].ravel(),
        }))
    return pd.concat(parts, ignore_index=True)
