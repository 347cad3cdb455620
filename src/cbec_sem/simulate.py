"""Population models → synthetic survey data, with Likert discretisation.

A *population model* is a model in lavaan syntax whose numeric modifiers are the population
values, as in lavaan's ``simulateData()`` (Rosseel 2012)::

    TA =~ 0.8*ta1 + 0.7*ta2 + 0.75*ta3
    FA =~ 0.8*fa1 + 0.7*fa2 + 0.75*fa3
    FA ~ 0.5*TA
    TA ~~ 0.3*PC
    SCI ~ 0.15*TA:FA

:func:`simulate` draws data from it; :func:`population_model` gives its exact population moments
(covariance matrix and means of every latent and observed variable), which is what tests of the
estimators and the Monte Carlo power analysis compare against.

Values and defaults (lavaan's ``simulateData`` conventions unless said otherwise)
--------------------------------------------------------------------------------
* A modifier's fixed value (``0.8*x``) is the population value; failing that, a starting value
  (``start(0.8)*x`` or ``0.8?x``), as lavaan's ``ustart`` column.  Labels are ignored.
* A loading without a value is 0.7; a regression coefficient (also of a product term) without a
  value is 0; a covariance between two different variables without a value is 0.
* ``x ~ 1`` intercepts with a value shift the variable's mean (and, through the paths, the
  means downstream); without a value they are 0.
* ``x | 0.5*t1 + ...`` thresholds with values make ``x`` ordinal (see *Discretisation*).
* Constraint statements (``:=``, ``==``, ``<``, ``>``) describe estimation, not the population,
  and are ignored.  Multi-group modifiers (``c(0.5, 0.6)*x``) are refused: simulate one group at
  a time.
* ``standardized=True`` (the default): every exogenous variable has variance 1 (so ``~~``
  values between exogenous variables are correlations) and every residual variance is set so
  that the variable's total population variance is exactly 1 (see *Exact moments*).  A
  ``~~`` value between two endogenous variables is the covariance of their residuals, as in
  lavaan.  Giving a variance value other than 1 for an exogenous variable, or any residual
  variance, is a :class:`~cbec_sem.errors.SpecError` in this mode: pass
  ``standardized=False`` to set variances yourself.
* ``standardized=False``: (residual) variances are the ``x ~~ v*x`` values, 1 where none is
  given.

Model structure
---------------
Every ``=~`` and ``~`` statement is a directed edge; a second-order factor
(``SCI =~ VP + FO + IS``) is just a latent whose "indicators" are latent.  The directed graph
must be acyclic (recursive); variables are generated in topological order::

    exogenous:   (ξ_1, ..., ξ_m) ~ MVN(0, Φ)                         (Φ from ``~~``)
    endogenous:  η = Σ_k β_k·x_k + Σ_r γ_r·(X_r·Z_r − E[X_r·Z_r]) + ζ     (x_k its parents)

with the residuals ζ jointly normal (covariances from ``~~``) and independent of the exogenous
variables unless ``~~`` says otherwise.  Indicators are endogenous variables like any other
(``y = λ·η + ε``).  Means are added last: a variable's mean is its intercept plus Σ β_k·μ_k;
product terms are formed from the *centred* operands, so they never shift a mean.

Exact moments
-------------
Write every variable as a linear combination of the normal disturbances ζ (one per variable;
an exogenous variable is its own disturbance) plus a linear combination of centred products
P_r = X_r·Z_r − E[X_r·Z_r] whose operands X_r, Z_r are themselves linear in ζ (hence jointly
normal).  By Isserlis' theorem (Isserlis 1918) for centred jointly normal variables,

    E[X·Z] = σ_XZ,
    Cov(X_r·Z_r, X_s·Z_s) = σ(X_r, X_s)·σ(Z_r, Z_s) + σ(X_r, Z_s)·σ(Z_r, X_s),

so Var(X·Z) = σ_XX·σ_ZZ + σ_XZ² (= 1 + ρ² for unit variances), and every third moment vanishes,
so a product is uncorrelated with every linear function of the normal variables.  Hence the
population covariance of two variables v, w is

    Cov(v, w) = a_v' Ψ a_w + c_v' Q c_w,

with a the coefficients on ζ, Ψ = Cov(ζ), c the coefficients on the products and Q their
covariance matrix from the formula above.  Processing the variables in topological order, the
only unknown in Var(η_j) is ψ_jj (its coefficient is 1 in a recursive model), so with
``standardized=True`` the residual variance is exactly ψ_jj = 1 − (a_j'Ψa_j + c_j'Qc_j with
ψ_jj = 0).  When it comes out negative, the paths into η_j explain more than 100% of its
variance and :class:`~cbec_sem.errors.SpecError` says so.  An endogenous operand (``TA:FA``
with ``FA ~ a*TA``) is handled through its model-implied covariance σ_TA,FA = a; a variable that
depends on an interaction may feed other variables (``SCI`` with an interaction is the parent of
``VP``, ``FO``, ``IS``), since those stay linear in ζ and P.  A product whose *operand* itself
depends on an interaction (a product of non-normal variables) needs moments of order 6 and 8
and is refused with a :class:`~cbec_sem.errors.SpecError`.

Products of normal variables are not normal: an outcome with an interaction is skewed and
heavy-tailed even though its first two moments are exact (Klein & Moosbrugger 2000), which is
the reason latent-interaction estimators such as LMS model the non-normality explicitly.

Discretisation
--------------
``likert=k`` cuts every observed variable into categories 1..k: category c holds the values in
(τ_{c−1}, τ_c] with τ_0 = −∞, τ_k = +∞ (lavaan's ``cut`` convention).  The default thresholds
(:func:`default_thresholds`, ``kind="symmetric"``) divide z ∈ [−2.5, 2.5] into k equal intervals,
τ_c = −2.5 + 5c/k, which gives a symmetric, mildly peaked distribution of answers like real
Likert items (for k = 7: 3.7%, 10.5%, 21.9%, 27.9%, 21.9%, 10.5%, 3.7%), in the style of the
"symmetric" threshold condition of simulation studies of ordinal SEM (e.g. Rhemtulla,
Brosseau-Liard & Savalei 2012).  ``thresholds="equiprobable"`` gives Φ⁻¹(c/k) instead (every
category 1/k, a flat and less realistic distribution).  The thresholds are on the scale of the
generated variable, which is the standard normal scale when ``standardized=True`` (and no
intercepts are given); with interactions the indicators of the outcome are only approximately
normal, so their marginal proportions differ slightly from the Φ differences.

References
----------
Isserlis, L. (1918). On a formula for the product-moment coefficient of any order of a normal
frequency distribution in any number of variables. *Biometrika*, 12(1/2), 134–139.

Klein, A., & Moosbrugger, H. (2000). Maximum likelihood estimation of latent interaction effects
with the LMS method. *Psychometrika*, 65(4), 457–474.

Rhemtulla, M., Brosseau-Liard, P. É., & Savalei, V. (2012). When can categorical variables be
treated as continuous? *Psychological Methods*, 17(3), 354–373.

Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1–36.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import ndtri  # the normal quantile, without importing scipy.stats

from cbec_sem.errors import SpecError
from cbec_sem.validation import check_count, check_flag, check_seed, check_size
from cbec_sem.specification.statements import CONSTRAINT_OPERATORS, Statement
from cbec_sem.specification import ModelSpec # late: cbec_sem.specification may import this module

__all__ = [
    "DEFAULT_LOADING",
    "DEFAULT_REGRESSION",
    "PopulationModel",
    "default_thresholds",
    "population_model",
    "simulate",
]

DEFAULT_LOADING = 0.7
"""Population value of a loading given without a value (lavaan's ``standardized=TRUE`` default)."""

DEFAULT_REGRESSION = 0.0
"""Population value of a regression coefficient given without a value."""

_TOL = 1e-10

ModelLike = Any  # a ModelSpec, lavaan syntax text, or a sequence of Statement
SeedLike = int | np.random.Generator | np.random.SeedSequence | None
ThresholdsLike = Sequence[float] | Mapping[str, Sequence[float]] | str | None


# ---------------------------------------------------------------------------------------------
# reading statements
# ---------------------------------------------------------------------------------------------


def _statements(model: ModelLike, what: str) -> tuple[Statement, ...]:
    """The statements of a ModelSpec, lavaan syntax text, or sequence of Statement."""
    if isinstance(model, str):

        model = ModelSpec.from_lavaan(model)
    statements = getattr(model, "statements", model)
    if isinstance(statements, (str, bytes)) or not isinstance(statements, Sequence):
        raise SpecError(
            f"the {what} must be a ModelSpec, lavaan syntax text or a sequence of Statement, "
            f"not {type(model).__name__}"
        )
    return _check_statements(tuple(statements), what)


def _check_statements(out: tuple[Any, ...], what: str) -> tuple[Statement, ...]:
    for st in out:
        if not isinstance(st, Statement):
            raise SpecError(
                f"the {what} must contain Statement objects, found {type(st).__name__}"
            )
    if not any(st.op in ("=~", "~", "~~") for st in out):
        raise SpecError(f"the {what} has no =~, ~ or ~~ statement: nothing to simulate")
    return out


def _where(st: Statement) -> str:
    """A short description of a statement for error messages."""
    text = st.source.strip() or f"{st.lhs} {st.op} {st.rhs}".strip()
    return f"'{text}'" + (f" (line {st.line})" if st.line else "")


def _value(st: Statement) -> float | None:
    """The population value of a statement: its fixed value, else its start value, else None."""
    for values in (st.fixed, st.starts):
        if not values or all(v is None for v in values):
            continue
        distinct = set(values)
        if len(distinct) > 1:
            raise SpecError(
                f"{_where(st)} gives one value per group; simulate() draws a single group, so "
                "give a single value (simulate each group separately)"
            )
        value = float(values[0])  # type: ignore[arg-type]
        if not math.isfinite(value):
            raise SpecError(f"{_where(st)}: the population value {value} is not finite")
        return value
    return None


def _operands(term: str, st: Statement) -> tuple[str, ...]:
    """Split a regression term into its operands (``X:Z`` → ``(X, Z)``)."""
    parts = tuple(p.strip() for p in term.split(":"))
    if any(not p for p in parts):
        raise SpecError(f"{_where(st)}: malformed product term '{term}'")
    if len(parts) > 2:
        raise SpecError(
            f"{_where(st)}: only two-way products (X:Z) are supported by simulate(), "
            f"not '{term}'"
        )
    return parts


@dataclass(frozen=True)
class _Structure:
    """The variables of a model and their roles, in order of first appearance."""

    variables: tuple[str, ...]
    latent: tuple[str, ...]
    observed: tuple[str, ...]  # indicators first (in order of appearance), then the others


def _structure(statements: Sequence[Statement]) -> _Structure:
    names: dict[str, None] = {}
    latent: dict[str, None] = {}
    indicators: dict[str, None] = {}
    for st in statements:
        if st.op in CONSTRAINT_OPERATORS:
            continue
        if st.op == "=~":
            latent.setdefault(st.lhs)
            indicators.setdefault(st.rhs)
        names.setdefault(st.lhs)
        if st.op == "~":
            for name in _operands(st.rhs, st):
                names.setdefault(name)
        elif st.op in ("=~", "~~"):
            names.setdefault(st.rhs)
    observed_ind = [v for v in indicators if v not in latent]
    others = [v for v in names if v not in latent and v not in indicators]
    return _Structure(
        variables=tuple(names),
        latent=tuple(latent),
        observed=tuple(observed_ind + others),
    )


# ---------------------------------------------------------------------------------------------
# the population model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PopulationModel:
    """A population model ready to be sampled, with its exact population moments.

    Build one with :func:`population_model`.  Arrays are indexed by :attr:`order` (the
    variables of the population in topological order).

    Attributes:
        order: every variable of the population, in the topological order of generation.
        observed: the model's observed variables (the columns :func:`simulate` returns).
        latent: the model's latent variables, in order of appearance.
        standardized: whether residual variances were set to give unit total variances.
        covariance: exact population covariance matrix of all variables (``order`` × ``order``).
        mean: exact population means of all variables.
        residual_covariance: Ψ, the covariance matrix of the normal disturbances (the variance
            of an exogenous variable, the residual variance of an endogenous one).
        r_squared: share of each endogenous variable's variance explained by its parents.
        thresholds: per observed variable, thresholds given in the population (``x | t*t1``).
    """

    order: tuple[str, ...]
    observed: tuple[str, ...]
    latent: tuple[str, ...]
    standardized: bool
    covariance: pd.DataFrame
    mean: pd.Series
    residual_covariance: pd.DataFrame
    r_squared: pd.Series
    thresholds: Mapping[str, tuple[float, ...]]
    _coef: np.ndarray  # B[j, k]: coefficient of variable k in the equation of variable j
    _products: tuple[tuple[int, int], ...]  # operand indices of each product term
    _gamma: np.ndarray  # Γ[j, r]: coefficient of product r in the equation of variable j
    _product_mean: np.ndarray  # E[X_r·Z_r] of each product (its centring constant)

    def sample(self, n: int, seed: SeedLike = None) -> pd.DataFrame:
        """Draw ``n`` continuous cases of every variable (columns in :attr:`order`).

        Randomness only through ``np.random.default_rng(seed)``: the disturbances are one
        ``(n, p)`` block of standard normals times a square root of Ψ (Cholesky where Ψ is
        positive definite, else the symmetric eigen-decomposition).
        """
        psi = self.residual_covariance.to_numpy()
        p = psi.shape[0]
        # the draws, the values and the DataFrame: three n × p tables
        n = check_size(n, "n", cells_per_unit=3 * max(p, 1))
        rng = np.random.default_rng(check_seed(seed))
        factor = psd_sqrt(psi)
        zeta = rng.standard_normal((n, p)) @ factor.T
        values = np.empty((n, p))
        for j in range(p):
            x = zeta[:, j].copy()
            for k in np.flatnonzero(self._coef[j]):
                x += self._coef[j, k] * values[:, k]
            for r in np.flatnonzero(self._gamma[j]):
                a, b = self._products[r]
                x += self._gamma[j, r] * (values[:, a] * values[:, b] - self._product_mean[r])
            values[:, j] = x
        values += self.mean.to_numpy()
        return pd.DataFrame(values, columns=list(self.order))


def psd_sqrt(psi: np.ndarray) -> np.ndarray:
    """A matrix L with L·Lᵀ = Ψ (Ψ symmetric positive semi-definite)."""
    try:
        return np.linalg.cholesky(psi)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(psi)
        return v * np.sqrt(np.clip(w, 0.0, None))


def product_covariance(s: np.ndarray, products: Sequence[tuple[int, int]]) -> np.ndarray:
    """Covariance matrix of centred products of jointly normal variables (Isserlis 1918).

    ``Cov(X_r Z_r, X_s Z_s) = σ(X_r,X_s)σ(Z_r,Z_s) + σ(X_r,Z_s)σ(Z_r,X_s)`` with ``s`` the
    covariance matrix of the operands.
    """
    if not products:
        return np.zeros((0, 0))
    x = np.array([a for a, _ in products])
    z = np.array([b for _, b in products])
    return s[np.ix_(x, x)] * s[np.ix_(z, z)] + s[np.ix_(x, z)] * s[np.ix_(z, x)]


def population_model(
    model: ModelLike,
    *,
    population: ModelLike | None = None,
    standardized: bool = True,
) -> PopulationModel:
    """Build the population model and its exact moments (see the module docstring).

    Args:
        model: the analysis model (ModelSpec, lavaan syntax, or a sequence of
            :class:`~cbec_sem.specification.statements.Statement`); it fixes which variables are
            observed and latent.
        population: the population model whose numeric modifiers are the population values;
            defaults to ``model``.  It must name every variable of ``model``; it may add more
            (paths the analysis model omits, extra variables).
        standardized: give every variable population variance 1 (see the module docstring).

    Raises:
        SpecError: a model variable missing from the population, a cyclic (non-recursive)
            population, a residual variance that would be negative, variance values that
            conflict with ``standardized=True``, a Ψ that is not positive semi-definite,
            products of non-normal operands, duplicated statements, unknown operators.

    Examples:
        >>> pop = cs.population_model("X =~ 0.8*x1 + 0.7*x2; Y =~ 0.8*y1 + 0.7*y2; Y ~ 0.5*X")
        >>> pop.observed, pop.latent
        (('x1', 'x2', 'y1', 'y2'), ('X', 'Y'))
        >>> pop.covariance.loc[["x1", "y1"], ["x2", "y2"]]
              x2    y2
        x1  0.56  0.28
        y1  0.28  0.56
        >>> pop.r_squared.round(2)
        x1    0.64
        x2    0.49
        Y     0.25
        y1    0.64
        y2    0.49
        dtype: float64
    """
    model_statements = _statements(model, "model")
    pop_statements = model_statements if population is None else _statements(
        population, "population"
    )
    m = _structure(model_statements)
    pop = _structure(pop_statements)

    missing = [v for v in m.variables if v not in pop.variables]
    if missing:
        raise SpecError(
            "the population model does not name the model variable(s) "
            + ", ".join(repr(v) for v in missing)
            + "; give every model variable a place in the population"
        )
    pop_latent = set(pop.latent)
    for v in m.variables:
        if (v in m.latent) != (v in pop_latent):
            role = "latent" if v in m.latent else "observed"
            raise SpecError(
                f"{v!r} is {role} in the model but not in the population model; the two must "
                "agree on which variables are latent"
            )

    # ---- collect edges and values -----------------------------------------------------
    edges: dict[str, dict[str, float]] = {v: {} for v in pop.variables}
    product_terms: dict[str, dict[tuple[str, str], float]] = {v: {} for v in pop.variables}
    variances: dict[str, float | None] = {}
    covariances: dict[tuple[str, str], float] = {}
    intercepts: dict[str, float] = {}
    th_values: dict[str, dict[int, float | None]] = {}
    seen: set[tuple[str, str, str]] = set()

    def once(key: tuple[str, str, str], st: Statement) -> None:
        if key in seen:
            raise SpecError(f"{_where(st)} is specified more than once in the population")
        seen.add(key)

    for st in pop_statements:
        op = st.op
        if op in CONSTRAINT_OPERATORS:
            continue
        value = _value(st)
        if op == "=~":
            once(("edge", st.lhs, st.rhs), st)
            edges[st.rhs][st.lhs] = DEFAULT_LOADING if value is None else value
        elif op == "~":
            parts = _operands(st.rhs, st)
            coef = DEFAULT_REGRESSION if value is None else value
            if len(parts) == 1:
                once(("edge", st.rhs, st.lhs), st)
                edges[st.lhs][st.rhs] = coef
            else:
                pair = tuple(sorted(parts))
                once(("product", ":".join(pair), st.lhs), st)
                product_terms[st.lhs][pair] = coef  # type: ignore[index]
        elif op == "~~":
            if st.lhs == st.rhs:
                once(("var", st.lhs, st.lhs), st)
                variances[st.lhs] = value
            else:
                pair = tuple(sorted((st.lhs, st.rhs)))
                once(("cov", *pair), st)  # type: ignore[arg-type]
                covariances[pair] = 0.0 if value is None else value  # type: ignore[index]
        elif op == "~1":
            once(("mean", st.lhs, ""), st)
            intercepts[st.lhs] = 0.0 if value is None else value
        elif op == "|":
            digits = st.rhs[1:] if st.rhs.startswith("t") else ""
            if not digits.isdigit() or int(digits) < 1:
                raise SpecError(f"{_where(st)}: thresholds must be named t1, t2, ...")
            once(("th", st.lhs, st.rhs), st)
            th_values.setdefault(st.lhs, {})[int(digits)] = value
        else:
            raise SpecError(f"{_where(st)}: simulate() does not know the operator '{op}'")

    for v in th_values:
        if v in pop_latent:
            raise SpecError(f"thresholds are given for the latent variable {v!r}")

    # ---- topological order (Kahn; ties broken by first appearance) --------------------
    parents: dict[str, set[str]] = {
        v: set(edges[v]) | {x for pair in product_terms[v] for x in pair} for v in pop.variables
    }
    rank = {v: i for i, v in enumerate(pop.variables)}
    remaining = dict(parents)
    order: list[str] = []
    done: set[str] = set()
    while remaining:
        ready = [v for v, ps in remaining.items() if ps <= done]
        if not ready:
            cycle = ", ".join(sorted(remaining, key=rank.__getitem__))
            raise SpecError(
                "the population model is not recursive: the variables "
                f"{cycle} lie on (or downstream of) a cycle of paths; simulate() supports "
                "acyclic models only"
            )
        ready.sort(key=rank.__getitem__)
        for v in ready:
            order.append(v)
            done.add(v)
            del remaining[v]
    idx = {v: i for i, v in enumerate(order)}
    p = len(order)

    # ---- matrices -----------------------------------------------------------------------
    coef = np.zeros((p, p))
    for v, ps in edges.items():
        for u, b in ps.items():
            coef[idx[v], idx[u]] = b
    products: list[tuple[int, int]] = []
    product_index: dict[tuple[int, int], int] = {}
    for v in order:
        for pair in product_terms[v]:
            key = (idx[pair[0]], idx[pair[1]])
            if key not in product_index:
                product_index[key] = len(products)
                products.append(key)
    q = len(products)
    gamma = np.zeros((p, q))
    for v in order:
        for pair, g in product_terms[v].items():
            gamma[idx[v], product_index[(idx[pair[0]], idx[pair[1]])]] = g

    psi = np.zeros((p, p))
    for (a, b), c in covariances.items():
        psi[idx[a], idx[b]] = psi[idx[b], idx[a]] = c

    exogenous = {v for v in order if not parents[v]}
    for v, value in variances.items():
        if value is None:
            continue
        if standardized:
            if v in exogenous and abs(value - 1.0) > 1e-9:
                raise SpecError(
                    f"'{v} ~~ {value:g}*{v}': with standardized=True every exogenous variable "
                    "has variance 1; drop the value or pass standardized=False"
                )
            if v not in exogenous:
                raise SpecError(
                    f"'{v} ~~ {value:g}*{v}': with standardized=True the residual variance of "
                    f"{v!r} is set to make its total variance 1; drop the value or pass "
                    "standardized=False"
                )
        elif value < 0:
            raise SpecError(f"'{v} ~~ {value:g}*{v}': a variance cannot be negative")

    # a[j] coefficients on ζ, c[j] coefficients on the centred products
    a = np.zeros((p, p))
    c = np.zeros((p, q))
    r_squared: dict[str, float] = {}
    for j, v in enumerate(order):
        a[j, j] = 1.0
        for k in np.flatnonzero(coef[j]):
            a[j] += coef[j, k] * a[k]
            c[j] += coef[j, k] * c[k]
        for r in np.flatnonzero(gamma[j]):
            for operand in products[r]:
                if np.any(c[operand] != 0.0):
                    name = ":".join(order[i] for i in products[r])
                    raise SpecError(
                        f"the product {name} in the equation of {v!r} has the operand "
                        f"{order[operand]!r}, which itself depends on a latent interaction; "
                        "the exact moments of a product of non-normal variables are not "
                        "supported by simulate()"
                    )
            c[j, r] += gamma[j, r]
        # variance without ψ_jj (ψ_jj is still 0 here; a[j, j] = 1 is its only coefficient)
        s_now = a @ psi @ a.T
        explained = float(a[j] @ psi @ a[j] + c[j] @ product_covariance(s_now, products) @ c[j])
        if standardized:
            resid = 1.0 - explained
            if resid < -_TOL:
                raise SpecError(
                    f"with standardized=True the residual variance of {v!r} would be "
                    f"{resid:.4g}: the paths into {v!r} explain more than 100% of its variance "
                    f"({explained:.4g} of 1); lower its loadings/coefficients or the "
                    "correlations among its predictors"
                )
            psi[j, j] = max(resid, 0.0)
        else:
            value = variances.get(v)
            psi[j, j] = 1.0 if value is None else value
        if v not in exogenous:
            total = explained + psi[j, j]
            r_squared[v] = explained / total if total > 0 else float("nan")

    eig = np.linalg.eigvalsh(psi) if p else np.zeros(0)
    if p and eig.min() < -1e-9 * max(1.0, float(np.abs(eig).max())):
        raise SpecError(
            "the population covariance matrix of the exogenous variables and residuals is not "
            f"positive semi-definite (smallest eigenvalue {eig.min():.4g}); check the ~~ values "
            "(a correlation above 1 in absolute value, or an impossible pattern)"
        )

    s = a @ psi @ a.T
    qcov = product_covariance(s, products)
    cov = s + c @ qcov @ c.T
    product_mean = np.array([s[i, k] for i, k in products])

    intercept = np.array([intercepts.get(v, 0.0) for v in order])
    mean = np.zeros(p)
    for j in range(p):
        mean[j] = intercept[j] + coef[j] @ mean

    thresholds: dict[str, tuple[float, ...]] = {}
    for v, by_index in th_values.items():
        given = [by_index.get(i) for i in range(1, max(by_index) + 1)]
        if all(t is None for t in given):
            continue  # free thresholds of an analysis model: not population values
        if any(t is None for t in given):
            raise SpecError(
                f"the population gives values for some thresholds of {v!r} but not for "
                f"t1..t{len(given)}; give all of them"
            )
        values = [float(t) for t in given if t is not None]
        thresholds[v] = _check_thresholds(values, f"the thresholds of {v!r}")

    names = list(order)
    return PopulationModel(
        order=tuple(order),
        observed=m.observed,
        latent=m.latent,
        standardized=standardized,
        covariance=pd.DataFrame(cov, index=names, columns=names),
        mean=pd.Series(mean, index=names),
        residual_covariance=pd.DataFrame(psi, index=names, columns=names),
        r_squared=pd.Series(r_squared, dtype=float),
        thresholds=thresholds,
        _coef=coef,
        _products=tuple(products),
        _gamma=gamma,
        _product_mean=product_mean,
    )


# ---------------------------------------------------------------------------------------------
# discretisation
# ---------------------------------------------------------------------------------------------


#: Most answer categories ``likert=`` may ask for (a 0–100 slider has 101).
MAX_CATEGORIES = 101


def default_thresholds(
    k: int, kind: Literal["symmetric", "equiprobable"] = "symmetric"
) -> np.ndarray:
    """The k − 1 thresholds (standard normal scale) that cut a variable into k categories.

    ``"symmetric"`` (the default of :func:`simulate`): τ_c = −2.5 + 5c/k, c = 1..k−1, i.e.
    [−2.5, 2.5] cut into k equal intervals — a symmetric, mildly peaked distribution of
    answers (k = 5: 6.7%, 24.2%, 38.3%, 24.2%, 6.7%), in the style of the symmetric threshold
    condition of Rhemtulla, Brosseau-Liard & Savalei (2012).  ``"equiprobable"``:
    τ_c = Φ⁻¹(c/k), every category has probability 1/k.

    Raises:
        SpecError: ``k`` is not an integer ≥ 2, or ``kind`` is unknown.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise SpecError(f"likert must be an integer number of categories >= 2, not {k!r}")
    if k > MAX_CATEGORIES:
        # (10⁹ categories ran for minutes: every threshold is a column of work)
        raise SpecError(f"likert={k:,} categories: at most {MAX_CATEGORIES} (a 0–100 slider) "
                        "can be simulated; leave likert=None for continuous answers")
    c = np.arange(1, int(k))
    if kind == "symmetric":
        return -2.5 + 5.0 * c / k
    if kind == "equiprobable":
        return ndtri(c / k)
    raise SpecError(f"unknown thresholds kind {kind!r}; use 'symmetric' or 'equiprobable'")


def _check_thresholds(values: Sequence[float], what: str) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)):
        raise SpecError(f"{what} must be a sequence of numbers, not {values!r}")
    try:
        t = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{what} must be a sequence of numbers, not {values!r}") from exc
    if t.ndim != 1 or t.size == 0:
        raise SpecError(f"{what} must be a non-empty one-dimensional sequence of numbers")
    if not np.all(np.isfinite(t)):
        raise SpecError(f"{what} must be finite numbers, got {list(values)!r}")
    if np.any(np.diff(t) <= 0):
        raise SpecError(f"{what} must be strictly increasing, got {t.tolist()!r}")
    return tuple(float(x) for x in t)


def _cut(x: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """Category 1..k of each value: c such that τ_{c−1} < x ≤ τ_c."""
    return np.searchsorted(np.asarray(thresholds), x, side="left").astype(np.int64) + 1


def likert_thresholds(
    observed: Sequence[str],
    likert: int | None,
    thresholds: ThresholdsLike,
    population_thresholds: Mapping[str, tuple[float, ...]],
) -> dict[str, tuple[float, ...]]:
    """Which observed variables are cut, and where (see :func:`simulate`)."""
    k = None
    if likert is not None:
        default_thresholds(likert)  # validates likert
        k = int(likert)
    out: dict[str, tuple[float, ...]] = {}
    if isinstance(thresholds, str):
        if k is None:
            raise SpecError(
                f"thresholds={thresholds!r} needs likert=k (the number of categories)"
            )
        t = tuple(default_thresholds(k, thresholds))  # type: ignore[arg-type]
        return {v: population_thresholds.get(v, t) for v in observed}
    if isinstance(thresholds, Mapping):
        unknown = [v for v in thresholds if v not in observed]
        if unknown:
            raise SpecError(
                "thresholds are given for "
                + ", ".join(repr(v) for v in unknown)
                + ", which are not observed variables of the model"
            )
        for v in observed:
            if v in thresholds:
                out[v] = _check_thresholds(thresholds[v], f"the thresholds of {v!r}")
            elif v in population_thresholds:
                out[v] = population_thresholds[v]
            elif k is not None:
                out[v] = tuple(default_thresholds(k))
        return out
    if thresholds is not None:
        t = _check_thresholds(thresholds, "thresholds")
        if k is not None and len(t) != k - 1:
            raise SpecError(f"likert={k} needs {k - 1} thresholds, but {len(t)} are given")
        return {v: t for v in observed}
    for v in observed:
        if v in population_thresholds:
            out[v] = population_thresholds[v]
        elif k is not None:
            out[v] = tuple(default_thresholds(k))
    return out


# ---------------------------------------------------------------------------------------------
# the public entry point
# ---------------------------------------------------------------------------------------------


def simulate(
    model: ModelLike,
    n: int,
    *,
    population: ModelLike | None = None,
    likert: int | None = None,
    thresholds: ThresholdsLike = None,
    standardized: bool = True,
    seed: SeedLike = None,
    return_latent: bool = False,
) -> pd.DataFrame:
    """Draw a synthetic survey of ``n`` cases from a population model.

    Args:
        model: the analysis model — a :class:`~cbec_sem.specification.ModelSpec`, lavaan syntax text,
            or a sequence of :class:`~cbec_sem.specification.statements.Statement`.  Its observed
            variables are the columns of the result (indicators in order of appearance, then
            the other observed variables).
        n: number of cases (rows).
        population: the population model (lavaan syntax with values, ``TA =~ 0.8*ta1``,
            ``FA ~ 0.5*TA``, ``TA ~~ 0.3*PC``, ``SCI ~ 0.15*TA:FA``), defaulting to ``model``.
            Missing values default to loading 0.7, regression 0, covariance 0 (see the module
            docstring for all conventions).
        likert: cut every observed variable into categories 1..``likert`` (integer columns),
            with :func:`default_thresholds` (symmetric, mildly peaked) unless ``thresholds``
            or the population's ``x | t*t1`` values say otherwise.
        thresholds: where to cut — a strictly increasing sequence of k − 1 values used for
            every observed variable; a dict ``{item: thresholds}`` (each item its own number of
            categories; items not in it get the population's thresholds, else the ``likert``
            default, else stay continuous); or
            ``"symmetric"`` / ``"equiprobable"`` with ``likert=k``.  Thresholds are on the
            scale of the generated variable (standard normal when ``standardized=True``).
        standardized: every latent and observed variable has population variance 1.
        seed: seed for ``np.random.default_rng``; the same seed gives identical data.
        return_latent: also return the latent scores, as float columns after the observed
            ones (named as the latent variables).

    Returns:
        A DataFrame with one column per observed variable of ``model`` (int64 categories for
        discretised columns, float64 otherwise).

    Raises:
        SpecError: see :func:`population_model`; also ``n`` < 1, ``likert`` < 2, thresholds
            that are not strictly increasing, or that do not match ``likert``.

    Examples:
        >>> pop = '''TA =~ 0.8*ta1 + 0.7*ta2 + 0.75*ta3
        ...          FA =~ 0.8*fa1 + 0.7*fa2 + 0.75*fa3
        ...          FA ~ 0.5*TA'''
        >>> df = simulate(pop, 400, likert=7, seed=1)  # doctest: +SKIP
    """
    n = check_count(n, "n", minimum=1)
    check_seed(seed)
    standardized = check_flag(standardized, "standardized")
    return_latent = check_flag(return_latent, "return_latent")
    pm = population_model(model, population=population, standardized=standardized)
    cuts = likert_thresholds(pm.observed, likert, thresholds, pm.thresholds)
    scores = pm.sample(n, seed=seed)
    out: dict[str, Any] = {}
    for v in pm.observed:
        x = scores[v].to_numpy()
        out[v] = _cut(x, cuts[v]) if v in cuts else x
    if return_latent:
        for v in pm.latent:
            out[v] = scores[v].to_numpy()
    return pd.DataFrame(out)
