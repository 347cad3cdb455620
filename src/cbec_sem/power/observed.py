"""The MLR sandwich of a replication's refit, with its bread and meat in closed form.

MLR's covariance is A⁻¹ B A⁻¹ / n with A the observed information (the Hessian of F) and B
the first-order information of the casewise scores.  The engine computes A by central
differences of the analytic gradient, two gradients per parameter
(:func:`cbec_sem.engine.inference.observed_information_x`, as lavaan's
``lav_model_hessian()``) and B through the n × p(p+1)/2 scores in (μ, vech Σ)
(:func:`cbec_sem.engine.robust.first_order_information`): for the product-indicator model
(about 90 parameters, 30 indicators) most of a replication's time.  Here both come from the
closed forms of :mod:`cbec_sem.engine.observed_information` on the plan's matrices (equal to
the engine's to its finite-difference error and to rounding).  Where Σ(θ) is not positive
definite, or the model has fixed covariates, the engine's versions are used instead.
"""

from __future__ import annotations

import numpy as np

from ..engine.constraints import Reparametrization
from ..engine.inference import observed_information_x
from ..engine.ml import Evaluation
from ..engine.observed_information import (ml_expected_information, ml_hessian, ml_scores,
                                           rank_two_derivatives)
from ..resampling.batch import stacked_matrices
from ..resampling.refit import Moments, RefitPlan


def _scatter(plan: RefitPlan, grp) -> np.ndarray:
    """Entries → free parameters (r × q; entries that share a label add up)."""
    P = np.zeros((grp.params.size, plan.q))
    P[np.arange(grp.params.size), grp.params] = 1.0
    return P


def _to_parameters(plan: RefitPlan, grp, X: np.ndarray) -> np.ndarray:
    """Pᵀ X P (entries → free parameters, q × q) of one group's entry matrix X.  Where every
    entry is its own parameter (``plan.simple_scatter``) each entry of Pᵀ X P is one entry of
    X plus exact zeros, so it is X scattered to the parameters' rows and columns (X itself,
    or X permuted, when the entries are all the parameters): the same numbers without the
    two q × r × r products."""
    if plan.simple_scatter:
        params = grp.params
        if params.size == plan.q:  # every parameter one entry: X with rows and columns permuted
            if np.array_equal(params, np.arange(plan.q)):
                return X
            inv = np.empty(plan.q, dtype=np.intp)
            inv[params] = np.arange(plan.q)
            return X.take(inv, axis=0).take(inv, axis=1)
        H = np.zeros((plan.q, plan.q))
        H[params[:, None], params[None, :]] = X
        return H
    P = _scatter(plan, grp)
    return P.T @ X @ P


def sandwich(plan: RefitPlan, theta: np.ndarray, mom: Moments, data: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`observed_information` and :func:`first_order` of one replication (the bread
    and the meat of MLR's sandwich) from one set of rank-two derivatives: the numbers of the
    two calls, which compute the same derivatives each."""
    grp = plan.groups[0]
    if plan.ngroups != 1 or grp.fx_rows.size:
        return observed_information(plan, theta, mom), first_order(plan, theta, mom, data)
    entries = _entries(plan, 0)
    S, M, B = plan._matrices(grp, mom.fixed[0], theta)
    rt = None if B is None else rank_two_derivatives(B, S, M, plan.obs_pos, *entries)
    if rt is None:  # Σ(θ) not positive definite
        return _numerical(plan, theta, mom), None
    Hg = ml_hessian(rt, mom.covs[0], mom.means[0] if plan.meanstructure else None, *entries)
    H = np.zeros((plan.q, plan.q))  # as _per_group sums its groups
    H += mom.weights[0] * _to_parameters(plan, grp, Hg)
    info = H if plan.identity else plan.basis.T @ H @ plan.basis
    return info, _meat(plan, grp, rt, data)


def observed_information(plan: RefitPlan, theta: np.ndarray, mom: Moments) -> np.ndarray:
    """Hessian of F (per case, x-space) at θ on a replication's moments."""
    H = _per_group(plan, theta, mom, lambda rt, g: ml_hessian(
        rt, mom.covs[g], mom.means[g] if plan.meanstructure else None, *_entries(plan, g)))
    return _numerical(plan, theta, mom) if H is None else H


def expected_information(plan: RefitPlan, theta: np.ndarray, mom: Moments
                         ) -> np.ndarray | None:
    """The expected information (per case, x-space) at θ, what :class:`MLFunction` gives
    with ``information=True``; ``None`` where Σ(θ) is not positive definite."""
    return _per_group(plan, theta, mom,
                      lambda rt, g: ml_expected_information(rt, plan.meanstructure))


def expected_informations(plan: RefitPlan, thetas: list[np.ndarray], moms: list[Moments]
                          ) -> list[np.ndarray | None]:
    """:func:`expected_information` of many refits of a one-group plan at once (their
    rank-two derivatives and traces as stacks); refit by refit where the plan has fixed
    covariates or several groups, or some Σ(θ) is not positive definite."""
    def one_by_one():
        return [expected_information(plan, t, m) for t, m in zip(thetas, moms)]

    if not thetas or plan.ngroups != 1 or plan.groups[0].fx_rows.size:
        return one_by_one()
    # in blocks whose r × r stacks stay in the cache (a 100-refit stack of the 48-parameter
    # paper model took twice the time of ten 10-refit ones); every refit's numbers are those
    # of the whole stack, as each slice is computed alone
    r = plan.groups[0].params.size
    size = max(1, _BLOCK_BYTES // (8 * r * r))
    out = []
    for start in range(0, len(thetas), size):
        part = _stacked_informations(plan, thetas[start:start + size],
                                     moms[start:start + size])
        if part is None:
            return one_by_one()
        out.extend(part)
    return out


#: The size of one r × r stack of :func:`expected_informations`' blocks.
_BLOCK_BYTES = 200_000


def _stacked_informations(plan: RefitPlan, thetas: list[np.ndarray], moms: list[Moments]
                          ) -> list[np.ndarray] | None:
    """:func:`expected_information` of a block of refits as stacks; ``None`` where some
    Σ(θ) is not positive definite or some I − A singular."""
    grp = plan.groups[0]
    S, M, B, ok = stacked_matrices(plan, 0, np.asarray(thetas), moms[0].fixed[0])
    rt = rank_two_derivatives(B, S, M, plan.obs_pos, *_entries(plan, 0)) if ok.all() else None
    if rt is None:
        return None
    info = ml_expected_information(rt, plan.meanstructure)            # k × r × r
    if plan.simple_scatter:  # every entry its own parameter: a permutation
        H = np.zeros((len(thetas), plan.q, plan.q))
        H[:, grp.params[:, None], grp.params[None, :]] = info
    else:
        P = _scatter(plan, grp)
        H = P.T @ info @ P
    if not plan.identity:
        H = plan.basis.T @ H @ plan.basis
    return list(H)


def _entries(plan: RefitPlan, g: int) -> tuple[np.ndarray, ...]:
    grp = plan.groups[g]
    return grp.ai, grp.aj, grp.si, grp.sj, grp.mi


def _per_group(plan: RefitPlan, theta: np.ndarray, mom: Moments, matrix) -> np.ndarray | None:
    """Σ_g (n_g/N) Pᵀ matrix_g P in x-space, ``matrix(rank-two derivatives, g)`` over the
    free entries of group g (``None`` where some Σ_g(θ) is not positive definite)."""
    H = np.zeros((plan.q, plan.q))
    for g, grp in enumerate(plan.groups):
        S, M, B = plan._matrices(grp, mom.fixed[g], theta)
        rt = None if B is None else rank_two_derivatives(B, S, M, plan.obs_pos,
                                                         *_entries(plan, g))
        if rt is None:
            return None
        H += mom.weights[g] * _to_parameters(plan, grp, matrix(rt, g))
    return H if plan.identity else plan.basis.T @ H @ plan.basis


def first_order(plan: RefitPlan, theta: np.ndarray, mom: Moments, data: np.ndarray
                ) -> np.ndarray | None:
    """The first-order information (x-space) of one group's rows ``data`` (plan variable
    order) at θ: Σᵢ sᵢsᵢᵀ / n of the casewise scores, μ the model's with a mean structure,
    else the sample mean (lavaan's convention, as the engine's).  ``None`` for a multi-group
    plan, fixed covariates or a Σ(θ) that is not positive definite (the caller then uses the
    engine's version)."""
    grp = plan.groups[0]
    if plan.ngroups != 1 or grp.fx_rows.size:
        return None
    S, M, B = plan._matrices(grp, mom.fixed[0], theta)
    rt = None if B is None else rank_two_derivatives(B, S, M, plan.obs_pos, *_entries(plan, 0))
    if rt is None:
        return None
    return _meat(plan, grp, rt, data)


def _meat(plan: RefitPlan, grp, rt, data: np.ndarray) -> np.ndarray:
    """:func:`first_order` from the group's rank-two derivatives."""
    mu = rt.mu_full[plan.obs_pos] if plan.meanstructure else data.mean(axis=0)
    sc = ml_scores(rt, data, mu, plan.meanstructure)                 # n × entries
    meat = _to_parameters(plan, grp, sc.T @ sc / data.shape[0])      # entries → parameters
    return meat if plan.identity else plan.basis.T @ meat @ plan.basis


def _numerical(plan: RefitPlan, theta: np.ndarray, mom: Moments) -> np.ndarray:
    reparam = Reparametrization(plan.theta0, plan.basis, 0 if plan.identity else 1)

    def evaluate(th: np.ndarray, gradient: bool = True) -> Evaluation:
        # the plan's analytic gradient of the same F (the lean form of MLFunction's)
        return Evaluation(*plan.evaluate(th, mom, gradient))

    return observed_information_x(evaluate, reparam, reparam.x(theta))
