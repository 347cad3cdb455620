"""The population side of a power study: drawing data fast, and the population's moments.

:class:`Sampler` draws one replication's data from a
:class:`~cbec_sem.simulate.PopulationModel` with one matrix product.  Writing every variable
of the population as v = T (ζ + Γ P) with T = (I − B)⁻¹, ζ ~ N(0, Ψ) the disturbances and
P the centred products of the interaction terms (whose operands are linear in ζ, which
:func:`~cbec_sem.simulate.population_model` enforces), the observed variables are

* without interaction terms: X = μ + Z Lᵀ, Z ~ N(0, I) (n × p), L the Cholesky factor of the
  exact population covariance matrix of the observed variables;
* with interaction terms: the observed variables and the operands of the products are linear
  in one (n × d) block of standard normals, Y = Z Wᵀ with W = T[rows] Ψ^½, then
  P_r = Y_a Y_b − E[Y_a Y_b] and X = μ + Y_obs + P Cᵀ with C = T Γ.

Both give exactly the distribution :func:`~cbec_sem.simulate.simulate` draws from (not the same
numbers: the power study has its own random streams), and Likert items are cut the same way
(category c holds (τ_{c−1}, τ_c], :func:`~cbec_sem.simulate.default_thresholds`).

:func:`population_moments` gives the means and covariance matrix of the variables an analysis
model is fitted to: exactly for continuous data (also for double-mean-centred product
indicators, by Isserlis' theorem), and from one large population sample
(:data:`POPULATION_SAMPLE` cases, a fixed seed) for Likert items, whose moments after
discretisation have no closed form once the population has interaction terms.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from ..errors import SpecError
from ..simulate import PopulationModel, likert_thresholds, psd_sqrt

#: Cases of the population sample behind the moments of Likert data (see the module docs).
#: The error of a population value computed from it, relative to a replication's standard
#: error at sample size n, is about √(n / POPULATION_SAMPLE): 0.02 at n = 300.
POPULATION_SAMPLE = 1_000_000

#: Rows per block when the population sample is accumulated.
_BLOCK = 50_000

#: The fixed seed of the population sample (the population values must not depend on the
#: study's seed).
POPULATION_SEED = 20_261_124

#: A Likert category whose population probability is below this is called empty.
MIN_CATEGORY_PROBABILITY = 1e-6


class Sampler:
    """Draws replications of the observed variables of a population model.

    Args:
        pm: the population model.
        thresholds: observed variable → thresholds (the variables to cut into categories).

    Columns come out in ``pm.observed`` order (float64; Likert categories 1..k as floats).
    """

    def __init__(self, pm: PopulationModel, thresholds: dict[str, tuple[float, ...]]):
        order = list(pm.order)
        idx = {v: i for i, v in enumerate(order)}
        self.observed = tuple(pm.observed)
        obs = np.array([idx[v] for v in self.observed], dtype=int)
        self.mean = pm.mean.to_numpy()[obs].copy()
        d = len(order)
        T = np.linalg.inv(np.eye(d) - pm._coef)
        products = pm._products
        self.nonlinear = bool(products)
        if not self.nonlinear:
            cov = pm.covariance.to_numpy()[np.ix_(obs, obs)]
            self.W = psd_sqrt(cov)  # X = μ + Z Wᵀ, Z ~ N(0, I_p)
            self.dim = self.W.shape[1]
            self.C = None
            self.pairs = None
            self.product_mean = None
        else:
            factor = psd_sqrt(pm.residual_covariance.to_numpy())
            operands = sorted({i for pair in products for i in pair})
            rows = np.concatenate([obs, np.asarray(operands, dtype=int)])
            self.W = T[rows] @ factor  # Y = Z Wᵀ: observed, then operands
            self.dim = d
            where = {v: len(obs) + k for k, v in enumerate(operands)}
            self.pairs = np.array([[where[a], where[b]] for a, b in products], dtype=int)
            self.product_mean = np.asarray(pm._product_mean, dtype=float)
            self.C = (T @ pm._gamma)[obs]  # observed × products
        self.cut_cols = np.array([k for k, v in enumerate(self.observed) if v in thresholds],
                                 dtype=int)
        # the cut columns' thresholds as one table, padded with +inf (never below a value), so
        # that every column is cut by one comparison: category = 1 + #{τ < x}, which is
        # np.searchsorted(τ, x, side="left") + 1 for sorted τ
        width = max((len(thresholds[self.observed[k]]) for k in self.cut_cols), default=0)
        self.cut_table = np.full((self.cut_cols.size, width), np.inf)
        for row, k in enumerate(self.cut_cols):
            t = np.asarray(thresholds[self.observed[k]], dtype=float)
            self.cut_table[row, :t.size] = t

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """One replication: an (n × observed) array."""
        Z = rng.standard_normal((n, self.dim))
        Y = Z @ self.W.T
        p = len(self.observed)
        if self.nonlinear:
            P = Y[:, self.pairs[:, 0]] * Y[:, self.pairs[:, 1]] - self.product_mean
            X = Y[:, :p] + P @ self.C.T
        else:
            X = Y
        X += self.mean
        if self.cut_cols.size:
            below = self.cut_table[None, :, :] < X[:, self.cut_cols, None]
            X[:, self.cut_cols] = below.sum(axis=2) + 1.0
        return X


def item_thresholds(pm: PopulationModel, likert: int | None) -> dict[str, tuple[float, ...]]:
    """Which observed variables are cut, and where (as :func:`~cbec_sem.simulate.simulate`)."""
    return likert_thresholds(pm.observed, likert, None, pm.thresholds)


def check_categories(pm: PopulationModel, thresholds: dict[str, tuple[float, ...]]) -> None:
    """Refuse thresholds that leave a category (practically) empty in the population.

    The population probability of category c of item x is Φ((τ_c − μ)/σ) − Φ((τ_{c−1} − μ)/σ)
    with μ, σ the exact population mean and SD of x (exact for items that are linear in the
    normal variables; for items downstream of a latent interaction the normal approximation).

    Raises:
        SpecError: a category with probability below :data:`MIN_CATEGORY_PROBABILITY`, naming
            the item, the category and its probability.
    """
    cov = pm.covariance
    for v, t in thresholds.items():
        mu = float(pm.mean[v])
        sd = float(np.sqrt(max(cov.loc[v, v], 0.0)))
        if not sd > 0:
            raise SpecError(f"the observed variable {v!r} has no variance in the population, so "
                            "it cannot be cut into Likert categories")
        cdf = norm.cdf((np.asarray(t) - mu) / sd)
        probs = np.diff(np.concatenate([[0.0], cdf, [1.0]]))
        worst = int(np.argmin(probs))
        if probs[worst] < MIN_CATEGORY_PROBABILITY:
            raise SpecError(
                f"the thresholds of {v!r} leave category {worst + 1} of {len(probs)} empty in the "
                f"population (probability {probs[worst]:.2g}: its population mean is {mu:.3g} "
                f"and SD {sd:.3g}, thresholds {', '.join(f'{x:.3g}' for x in t)}); a Likert "
                "item with an empty category cannot produce the categories asked for: use "
                "fewer categories, thresholds inside the item's range, or a population whose "
                "items are centred")


def check_positive_definite(pm: PopulationModel, names: tuple[str, ...]) -> None:
    """The population covariance matrix of the observed variables must be positive definite,
    or every sample covariance matrix is singular and no replication can be fitted.

    Raises:
        SpecError: naming the variables of the (near-)null direction.
    """
    cov = pm.covariance.loc[list(names), list(names)].to_numpy()
    w, v = np.linalg.eigh(cov)
    scale = max(1.0, float(np.abs(w).max()))
    if w[0] > 1e-8 * scale:
        return
    direction = v[:, 0]
    weight = np.abs(direction)
    culprits = [names[k] for k in np.argsort(-weight) if weight[k] > 0.2 * weight.max()]
    zero_var = [x for x in names if pm.covariance.loc[x, x] <= 1e-8 * scale]
    why = (f"the variable(s) {', '.join(map(repr, zero_var))} have no variance"
           if zero_var else
           "the combination of " + ", ".join(map(repr, culprits[:6])) + " has no variance "
           "(e.g. an indicator with a loading of ±1 and no residual variance, or two variables "
           "that are copies of each other)")
    raise SpecError(
        "the population's implied covariance matrix of the observed variables is not positive "
        f"definite (smallest eigenvalue {w[0]:.3g}): {why}; every simulated sample would have a "
        "singular covariance matrix.  Lower the loadings below 1 or give the residual variances "
        "room")


# ------------------------------------------------------------------------------- moments
def _linear_parts(pm: PopulationModel):
    """Coefficients of every variable on the disturbances (a) and on the products (c), and
    the covariance matrix of the linear parts (s = a Ψ aᵀ)."""
    d = len(pm.order)
    T = np.linalg.inv(np.eye(d) - pm._coef)
    c = T @ pm._gamma
    psi = pm.residual_covariance.to_numpy()
    s = T @ psi @ T.T
    return T, c, s


def exact_moments(pm: PopulationModel, names: tuple[str, ...],
                  products: tuple[tuple[str, ...], ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Exact means and covariance matrix (continuous data) of the observed variables ``names``
    followed by centred products of them (``products``: the component names of each).

    A product u = (x − μ_x)(z − μ_z) − E[·] of two items that are linear in the normal
    disturbances has, by Isserlis' theorem (all odd moments vanish),

        Cov(u, w)  = Σ_r c_wr [s(x, a_r) s(z, b_r) + s(x, b_r) s(z, a_r)]   (w an item),
        Cov(u, u') = s(x, x') s(z, z') + s(x, z') s(z, x'),

    with s the covariance of the linear parts, c_w the coefficients of w on the population's
    own centred products P_r = O_a O_b − E[O_a O_b].  The same holds for double-mean-centred
    product indicators in the limit (their sample centring is the population centring).

    Raises:
        SpecError: a product of an item that itself depends on a latent interaction (its
            moments need orders 6 and 8), or of more than two items.
    """
    order = {v: i for i, v in enumerate(pm.order)}
    base = [order[v] for v in names]
    cov_items = pm.covariance.to_numpy()[np.ix_(base, base)]
    mean_items = pm.mean.to_numpy()[base]
    if not products:
        return mean_items.copy(), cov_items.copy()
    _, c, s = _linear_parts(pm)
    for parts in products:
        if len(parts) != 2:
            raise SpecError(f"exact moments of the product {':'.join(parts)} of "
                            f"{len(parts)} items are not available (two-way products only)")
        for v in parts:
            if np.any(c[order[v]] != 0):
                raise SpecError(
                    f"the item {v!r} depends on a latent interaction in the population, so the "
                    f"moments of its products are not normal-theory moments")
    pop_products = pm._products
    k = len(base)
    m = len(products)
    cov = np.zeros((k + m, k + m))
    cov[:k, :k] = cov_items
    xi = np.array([order[a] for a, _ in products])
    zi = np.array([order[b] for _, b in products])
    if pop_products:
        pa = np.array([a for a, _ in pop_products])
        pb = np.array([b for _, b in pop_products])
        # E[u · P_r] for every product indicator u and population product r
        E = s[np.ix_(xi, pa)] * s[np.ix_(zi, pb)] + s[np.ix_(xi, pb)] * s[np.ix_(zi, pa)]
        cov[k:, :k] = E @ c[base].T
        cov[:k, k:] = cov[k:, :k].T
    cov[k:, k:] = s[np.ix_(xi, xi)] * s[np.ix_(zi, zi)] + s[np.ix_(xi, zi)] * s[np.ix_(zi, xi)]
    mean = np.concatenate([mean_items, np.zeros(m)])
    return mean, cov


def _block_sizes(size: int) -> list[int]:
    return [_BLOCK] * (size // _BLOCK) + ([size % _BLOCK] if size % _BLOCK else [])


def population_sample(sampler: Sampler, size: int = POPULATION_SAMPLE,
                      seed: int = POPULATION_SEED) -> list[np.ndarray] | None:
    """The population sample of :func:`sample_moments`, drawn once and kept as one byte per
    answer, when every item is cut into categories (Likert data: the categories 1, 2, ... are
    small integers, exactly the drawn values); ``None`` otherwise (continuous values are drawn
    again for each pass, as keeping them would take 8 bytes per value).  The draws are those
    :func:`sample_moments` makes itself: the same seed and blocks."""
    if (sampler.cut_cols.size != len(sampler.observed)
            or sampler.cut_table.shape[1] >= np.iinfo(np.int8).max):
        return None
    rng = np.random.default_rng(seed)
    return [sampler.draw(b, rng).astype(np.int8) for b in _block_sizes(size)]


def sample_moments(sampler: Sampler, columns: np.ndarray,
                   products: tuple[tuple[int, ...], ...] = (),
                   size: int = POPULATION_SAMPLE,
                   seed: int = POPULATION_SEED,
                   population: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Means and covariance matrix (divisor N) of the sampler's ``columns`` followed by the
    centred products of the given column-index tuples, from one population sample of ``size``
    cases, accumulated in blocks (two passes: the item means first, for the centring).
    ``population``: that sample as :func:`population_sample` kept it (drawn once for both
    passes and for every model of a study); by default it is kept here when it can be."""
    blocks = _block_sizes(size)
    if population is None:
        population = population_sample(sampler, size, seed)

    def stream():
        if population is not None:
            for X in population:
                yield X.astype(float)
            return
        rng = np.random.default_rng(seed)
        for b in blocks:
            yield sampler.draw(b, rng)

    p = sampler.W.shape[0] if not sampler.nonlinear else len(sampler.observed)
    total = np.zeros(p)
    for X in stream():
        total += X.sum(axis=0)
    mu = total / size
    cols = np.asarray(columns, dtype=int)
    k, m = len(cols), len(products)
    cross = np.zeros((k + m, k + m))
    sums = np.zeros(k + m)
    for X in stream():
        Xc = X - mu
        parts = [Xc[:, cols]]
        if m:
            parts.append(np.column_stack([np.prod(Xc[:, list(t)], axis=1) for t in products]))
        F = np.hstack(parts) if m else parts[0]
        sums += F.sum(axis=0)
        cross += F.T @ F
    mean_c = sums / size
    cov = cross / size - np.outer(mean_c, mean_c)
    mean = np.concatenate([mu[cols], np.zeros(m)])
    return mean, cov


def residualise(cov: np.ndarray, k: int, regressors: list[list[int]]) -> np.ndarray:
    """The covariance matrix after each product (positions k, k+1, ...) is replaced by its
    residual from the population regression on its term's items (``regressors[j]``: positions
    among the first k): residual centring (Little, Bovaird & Widaman 2006) in the population.
    With M the linear map old → new (identity, minus the regression weights), Cov' = M Cov Mᵀ.
    """
    m = cov.shape[0] - k
    M = np.eye(k + m)
    for j, J in enumerate(regressors):
        J = list(J)
        beta = np.linalg.solve(cov[np.ix_(J, J)], cov[J, k + j])
        M[k + j, J] = -beta
    return M @ cov @ M.T


def exact_data(mean: np.ndarray, cov: np.ndarray, n: int = 1000,
               seed: int = POPULATION_SEED) -> np.ndarray:
    """An (n × p) data set whose sample means and covariance matrix (divisor n) are exactly
    ``mean`` and ``cov`` (up to rounding): standard normals, centred and whitened, then
    coloured by the Cholesky factor of ``cov``.  Fitting a model to it fits the model to the
    population moments."""
    p = len(mean)
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, p))
    W -= W.mean(axis=0)
    R = np.linalg.cholesky(W.T @ W / n)
    W = np.linalg.solve(R, W.T).T  # W R⁻ᵀ: sample covariance I
    L = np.linalg.cholesky(cov)
    return W @ L.T + mean
