"""Simulated condition–outcome data with and without a necessity ceiling, to measure the error
rates of necessity tests (``benchmarks/bench_necessity.py``, ``benchmarks/validity.py``).

Every generator returns ``(x, y)`` as two arrays of shape (reps, n), drawn with the given
``numpy.random.Generator``:

* :func:`bivariate_normal` — no ceiling, a Gaussian dependence of correlation ρ;
* :func:`likert_means` — the same latent pair measured by ``items`` 7-point items each (loading
  ``loading``, the symmetric thresholds of :func:`cbec_sem.simulate.default_thresholds`), and
  the item means returned: the survey case, with measurement error and ties;
* :func:`ceiling_uniform` — a true ceiling of known effect size d, measured without error:
  (X, Y) uniform on the part of the unit square below the line from (0, 1 − 2d/w) to (w, 1)
  (then flat at 1), whose empty zone is the triangle of area (2d/w)·w/2 = d;
* :func:`bivariate_t` — no ceiling, a non-Gaussian (t-copula) dependence: heavier joint tails;
* :func:`interaction_fan` — no ceiling, an outcome that depends on X through an interaction
  (Y = ρ·X + (c + β·X)·W + e), so its spread grows with X: the shape of TA → SCI in the
  bundled example's population.
"""

from __future__ import annotations

import numpy as np

from ..errors import SpecError
from ..simulate import default_thresholds

__all__ = ["bivariate_normal", "bivariate_t", "ceiling_uniform", "interaction_fan",
           "likert_means"]


def bivariate_normal(rho: float, n: int, reps: int, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Standard bivariate normal pairs with correlation ``rho``."""
    x = rng.standard_normal((reps, n))
    y = rho * x + np.sqrt(1.0 - rho**2) * rng.standard_normal((reps, n))
    return x, y


def likert_means(rho: float, n: int, reps: int, rng: np.random.Generator, *, items: int = 4,
                 loading: float = 0.75, categories: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Means of ``items`` Likert items per construct, the constructs bivariate normal."""
    xi, eta = bivariate_normal(rho, n, reps, rng)
    tau = default_thresholds(categories)
    err = np.sqrt(1.0 - loading**2)

    def score(latent):
        raw = loading * latent[..., None] + err * rng.standard_normal((reps, n, items))
        return (1.0 + np.searchsorted(tau, raw, side="left")).mean(axis=-1)

    return score(xi), score(eta)


def ceiling_uniform(d: float, n: int, reps: int, rng: np.random.Generator, *,
                    width: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points below a ceiling line whose empty zone in the unit square is ``d``."""
    drop = 2.0 * d / width
    if not (0 < d and drop <= 1.0 and 0 < width <= 1):
        raise SpecError(f"no ceiling of d = {d} with width {width} fits the unit square")
    x = np.empty((reps, n))
    y = np.empty((reps, n))
    filled = np.zeros(reps, dtype=int)
    accept = 1.0 - d
    while (filled < n).any():
        m = int(np.ceil((n - filled.min()) / accept * 1.2)) + 8
        cx = rng.uniform(size=(reps, m))
        cy = rng.uniform(size=(reps, m))
        ok = cy <= np.minimum(1.0, 1.0 - drop + cx * drop / width)
        for r in np.flatnonzero(filled < n):
            take = np.flatnonzero(ok[r])[: n - filled[r]]
            x[r, filled[r]:filled[r] + take.size] = cx[r, take]
            y[r, filled[r]:filled[r] + take.size] = cy[r, take]
            filled[r] += take.size
    return x, y


def bivariate_t(rho: float, n: int, reps: int, rng: np.random.Generator, *, df: float = 4.0
                ) -> tuple[np.ndarray, np.ndarray]:
    """Bivariate t pairs (``df`` degrees of freedom, correlation parameter ``rho``)."""
    x, y = bivariate_normal(rho, n, reps, rng)
    w = np.sqrt(df / rng.chisquare(df, size=(reps, n)))
    return x * w, y * w


def interaction_fan(rho: float, n: int, reps: int, rng: np.random.Generator, *,
                    beta: float = 0.15, c: float = 0.45, noise: float = 0.8
                    ) -> tuple[np.ndarray, np.ndarray]:
    """X standard normal, Y = ρ·X + (c + β·X)·W + noise·e with W, e independent standard
    normals: Var(Y | X) = (c + β·X)² + noise², smallest at X = −c/β, no bound on Y anywhere
    (no ceiling).  The defaults mimic SCI on TA in the example (SCI ~ .45·FA + .15·TA:FA)."""
    x = rng.standard_normal((reps, n))
    w = rng.standard_normal((reps, n))
    y = rho * x + (c + beta * x) * w + noise * rng.standard_normal((reps, n))
    return x, y
