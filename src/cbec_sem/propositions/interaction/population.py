"""Exact population moments of a product-indicator model, for consistency checks.

An estimator is consistent when, fitted to the population moments, it returns the population
values.  For the product-indicator model (:mod:`.product_indicators`) the population moments
of the *augmented* variables — the first-order indicators and the double-mean-centred products
of pairs of them — follow from the population model of :func:`cbec_sem.simulate.population_model`:

* every variable is v = a_v'ζ + c_v'P, with ζ the normal disturbances and P the centred
  latent products of the population (``a = (I − B)⁻¹``, ``c = (I − B)⁻¹Γ``);
* an indicator used in a product is normal (its c is zero: the interacting constructs do not
  depend on a product); for centred jointly normal variables Isserlis' theorem (Isserlis 1918)
  gives Cov(x_i·x_j, x_k·x_l) = σ_ik·σ_jl + σ_il·σ_jk, Cov(x_i·x_j, x_k) = 0, and so
  Cov(x_i·x_j, v) = Σ_r c_v,r·Cov(x_i·x_j, X_r·Z_r).

Residual centring removes from each product its regression on the first-order indicators; with
normal indicators that regression is zero in the population (third moments vanish), so the
population moments of residual-centred and double-mean-centred products are the same.

:func:`exact_moment_data` turns a covariance matrix into a data set whose sample covariance
(divisor N, as ML uses) and means are exactly the given ones, so that fitting it with
:func:`cbec_sem.fit` fits the population moments.

Reference: Isserlis, L. (1918). On a formula for the product-moment coefficient of any order of
a normal frequency distribution in any number of variables. *Biometrika*, 12(1/2), 134–139.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import SpecError
from ...simulate import PopulationModel, product_covariance
from .product_indicators import ProductTerm

__all__ = ["exact_moment_data", "product_indicator_population_cov"]


def product_indicator_population_cov(population: PopulationModel,
                                     terms: tuple[ProductTerm, ...]) -> pd.DataFrame:
    """Population covariance matrix of the observed variables and the product indicators.

    Args:
        population: from :func:`cbec_sem.simulate.population_model` (its ``observed`` columns
            come first).
        terms: the product terms of :func:`.expand_product_indicators` (latent two-way terms).

    Raises:
        SpecError: a term that is not a two-way product of latent variables, or a product of
            an indicator that itself depends on a latent product (its products are not
            products of normal variables and need moments of order 6).
    """
    order = list(population.order)
    idx = {v: i for i, v in enumerate(order)}
    p = len(order)
    inv = np.linalg.inv(np.eye(p) - population._coef)
    a = inv
    c = inv @ population._gamma
    normal_cov = a @ population.residual_covariance.to_numpy() @ a.T
    pairs: list[tuple[int, int]] = []
    names: list[str] = []
    for t in terms:
        if not t.latent or any(len(parts) != 2 for parts in t.parts):
            raise SpecError(f"population moments are available for two-way latent products "
                            f"only, not for {t.term!r}")
        for ind, (x, z) in zip(t.indicators, t.parts):
            for item in (x, z):
                if np.any(c[idx[item]] != 0):
                    raise SpecError(f"the indicator {item!r} of {t.term!r} depends on a latent "
                                    "product in the population; its products are not products "
                                    "of normal variables")
            pairs.append((idx[x], idx[z]))
            names.append(ind)
    k = len(pairs)
    q = product_covariance(normal_cov, pairs + list(population._products))
    observed = list(population.observed)
    oi = [idx[v] for v in observed]
    cov_oo = population.covariance.to_numpy()[np.ix_(oi, oi)]
    cross = q[:k, k:] @ c[oi].T
    full = np.block([[cov_oo, cross.T], [cross, q[:k, :k]]])
    cols = observed + names
    return pd.DataFrame(full, index=cols, columns=cols)


def exact_moment_data(cov: pd.DataFrame, n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """``n`` rows whose means are 0 and whose covariance (divisor n) is exactly ``cov``.

    Random normal rows are centred and whitened (their own covariance becomes the identity)
    and then coloured by the Cholesky factor of ``cov``; ML estimates depend on the data only
    through these moments, so fitting the result fits ``cov``.
    """
    m = cov.shape[0]
    if n <= m:
        raise SpecError(f"n = {n} rows cannot carry a {m}-variable covariance matrix; use n > {m}")
    z = np.random.default_rng(seed).standard_normal((n, m))
    z -= z.mean(axis=0)
    white = np.linalg.cholesky(z.T @ z / n)
    z = np.linalg.solve(white, z.T).T
    x = z @ np.linalg.cholesky(cov.to_numpy()).T
    return pd.DataFrame(x, columns=list(cov.columns))
