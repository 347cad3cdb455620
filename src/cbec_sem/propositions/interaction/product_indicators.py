"""Latent interactions by product indicators: double-mean-centring and residual centring.

A latent interaction ``Y ~ X + Z + X:Z`` cannot be fitted by ML as written: the product of two
latent variables is not a linear function of the observed variables.  The product-indicator
approach (Kenny & Judd 1984) gives the product its own indicators — products of the indicators
of X and of Z — and fits the enlarged, linear model by ordinary ML::

    X  =~ x1 + x2 + x3
    Z  =~ z1 + z2 + z3
    XZ =~ x1z1 + x2z1 + x3z1 + x1z2 + ... + x3z3      (the "all pairs" strategy)
    Y  ~  X + Z + XZ
    x1z1 ~~ x1z2; x1z1 ~~ x2z1; ...                    (products sharing an indicator)

:func:`fit_product_indicators` writes that model (``.syntax``), computes the product columns
(``.data``) and fits it with :func:`cbec_sem.fit` (``.fit``).  Two ways to form the products:

``method="dblcent"`` — double-mean-centring (Lin, Wen, Marsh & Lin 2010, *SEM* 17, 374–391).
    Every indicator is mean-centred, the products of the centred indicators are formed, and
    each product is mean-centred again.  No mean structure is needed and, unlike residual
    centring, the product indicators keep their natural relation to X·Z, so the coefficient of
    ``XZ`` is the interaction effect with X and Z measured as deviations from their means.
    This is modsem's ``method = "dblcent"``; with the default all-pairs products and
    ``residual_covariances="simple"`` the generated model is the one modsem hands to lavaan,
    and the estimates are the same (tests compare with modsem 1.0.17 on its ``oneInt`` data).

``method="rca"`` — residual centring (Little, Bovaird & Widaman 2006, *SEM* 13, 497–519).
    Each raw product is regressed (OLS, with intercept) on all first-order indicators of the
    constructs in the term, and the residuals are the product indicators.  The product is
    then uncorrelated with the first-order indicators in the sample; for (nearly) symmetric
    indicators the interaction coefficient equals the double-mean-centred one in expectation.

Indicator strategies: ``match=False`` (all pairs, every indicator of X with every indicator
of Z; modsem's default for dblcent) or ``match=True`` (matched pairs x1z1, x2z2, ... in the
order the indicators are written, the strategy Marsh, Wen & Hau 2004 recommend; with unequal
numbers the surplus indicators of the longer list are left out, with a warning — order the
items by reliability first).

Residual covariances (``residual_covariances``): the measurement error of an indicator enters
every product formed from it, so two product indicators that share a component indicator have
correlated residuals (Kenny & Judd 1984; Marsh, Wen & Hau 2004).  ``"simple"`` (the default)
frees the covariance of every two product indicators that share an indicator, *within a term*
(x1z1 with x1z2 and x2z1, ...) *and across terms* (ta1fa1 of TA:FA with pc1ta1 of PC:TA and
with fa1pc1 of PC:FA).  This is modsem's ``res.cov.method = "simple"`` with
``res.cov.across = TRUE``, the default of its ``dblcent`` and ``rca`` methods
(``getMethodSettingsPI`` in modsem's ``R/method_settings_pi.R``, repository kss2k/modsem
commit 0be688a; the parameter is documented in
``?modsem_pi``).  ``"within"`` frees only the pairs within a term (modsem's
``res.cov.across = FALSE``), ``"none"`` frees none.  With a single interaction term
``"simple"`` and ``"within"`` coincide, and with all pairs they are exactly the
residual covariances of modsem's dblcent reference output.

With two or more terms that share a construct the across-term covariances matter.  Write
x1 = λ1·X + e1, z1 = μ1·Z + d1, w1 = ν1·W + f1 with independent errors; the residual of the
product x1z1 (what its loading on X·Z leaves) is λ1·X·d1 + μ1·Z·e1 + e1·d1, and for jointly
normal variables (Isserlis 1918) the residuals of x1z1 and x1w1 covary by μ1·ν1·φ_ZW·θ_e1.
For correlated constructs (φ_ZW ≠ 0) that is not zero, and fixing it at 0 (``"within"``)
makes the estimator inconsistent.  On the
exact population moments of the bundled example (``cs.datasets.example_population()``, with
SCI ~ .15·TA:FA + .12·PC:TA + 0·PC:FA) ``"within"`` gives .1622 / .1454 / −.0437 for the
three unstandardised coefficients and ``"simple"`` the population values .1555 / .1244 / 0
(``tests/propositions/test_product_indicator_consistency.py``); the finite-sample bias and
Type-I error are measured by ``benchmarks/validity.py`` (``docs/validity.md``).

Standard errors: products of normal variables are not normal, so the normal-theory ML standard
errors of a product-indicator model are too small (on the example's population, SE/SD ≈ .82
and 8–12% rejections of the true null PC:FA at N = 400–1000).  Robust standard errors
(``estimator="MLR"``, passed on to :func:`cbec_sem.fit`) brought the rejection rate to
.025–.05 with matched pairs (``docs/validity.md``).  With all pairs, three terms of a 4-, 4-
and 3-item model have 392 free parameters, more than the cases of a sample of N < 392; matched
pairs need far fewer.

**Endogenous components.**  Product indicators need no assumption that X and Z are exogenous:
``SCI ~ TA + FA + TA:FA`` with ``FA ~ TA`` (the paper's H5, FA depending on TA) is fitted as
is.  The product latent is exogenous; it correlates freely with the other exogenous latent
variables (lavaan's default), and not with the disturbance of FA — for jointly normal TA and
ζ_FA, E[TA·FA·ζ_FA] = 0, so that covariance is zero in the population.  The outcome may be
anything the ML engine fits, e.g. the paper's second-order SCI: the products use only the
indicators of the interacting constructs.

Starting values: the enlarged model has many more parameters than the main-effects model,
and from generic starting values the optimiser can wander off (the paper's model with three
interaction terms on N = 400 Likert answers failed 12 times in 30 samples).  By default
(``warm_start=True``) the main-effects model is fitted first and its estimates, with the
implied values of the product part (loadings λ_x·λ_z, product variance φ_XX·φ_ZZ + φ_XZ²
(Isserlis 1918), residual (co)variances the sample ones minus the common part), start the
optimiser.  The optimum, the parameter table and its row order are those of fitting
``.syntax`` directly; only the path there differs (in the same 30 samples: 1 failure, a sample
on which the engine does not fit even the main-effects model).

Products are formed once, from the whole sample (also with ``group=``).  A bootstrap of the
fitted model resamples these columns rather than recentring in every resample, which would
change the products only through the sampling error of the means.

Supported terms: two or more *first-order* latent variables (each measured by observed
items), a latent variable with itself (``X:X``, a quadratic effect), or observed variables only
(``x:z``, whose product becomes one observed column ``xz``).  An interaction that mixes an
observed and a latent variable, or uses a higher-order latent variable, is refused with a
:class:`~cbec_sem.errors.SpecError` that says how to rewrite it.

References
----------
Isserlis, L. (1918). On a formula for the product-moment coefficient of any order of a normal
frequency distribution in any number of variables. *Biometrika*, 12(1/2), 134–139.

Kenny, D. A., & Judd, C. M. (1984). Estimating the nonlinear and interactive effects of latent
variables. *Psychological Bulletin*, 96(1), 201–210.

Lin, G.-C., Wen, Z., Marsh, H. W., & Lin, H.-S. (2010). Structural equation models of latent
interactions: Clarification of orthogonalizing and double-mean-centering strategies.
*Structural Equation Modeling*, 17(3), 374–391.

Little, T. D., Bovaird, J. A., & Widaman, K. F. (2006). On the merits of orthogonalizing
powered and product terms. *Structural Equation Modeling*, 13(4), 497–519.

Marsh, H. W., Wen, Z., & Hau, K.-T. (2004). Structural equation models of latent interactions:
Evaluation of alternative estimation strategies and indicator construction. *Psychological
Methods*, 9(3), 275–300.

Wen, Z., Marsh, H. W., & Hau, K.-T. (2010). Structural equation models of latent interactions:
An appropriate standardized solution and its scale-free properties. *Structural Equation
Modeling*, 17(1), 1–22.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...modelfit import fit_model as _fit
from ...protocol import Block, Summary
from ..verdicts import build_table, verdict
from ...engine.samplestats import check_columns, numeric_block
from ...survey.fit_checks import as_frame
from ...errors import CbecSemWarning, DataError, EstimationError, SpecError
from ...specification.model import ModelSpec
from ...specification.statements import Statement
from ...engine.partable import variable_roles
from ...errors import CbecSemError

__all__ = ["METHODS", "ProductTerm", "ProductIndicatorFit", "fit_product_indicators",
           "expand_product_indicators"]

#: Ways to form product indicators.
METHODS = ("dblcent", "rca")
#: Residual-covariance structures among product indicators.
RESIDUAL_COVARIANCES = ("simple", "within", "none")

_METHOD_NAMES = {"dblcent": "double-mean-centred", "rca": "residual-centred"}


@dataclass(frozen=True)
class ProductTerm:
    """One interaction term of the model and the variables made for it.

    Attributes:
        term: the term as first written in the model (``"TA:FA"``).
        components: the interacting variables (``("TA", "FA")``).
        name: the product latent variable (``"TAFA"``), or for observed components the product
            column.
        latent: whether the components (and the product) are latent.
        indicators: the product indicators (for an observed product: the column itself).
        parts: the component indicators multiplied into each product indicator.
        residual_covariances: pairs of this term's product indicators given a free residual
            covariance (they share a component indicator).
        cross_covariances: pairs (an indicator of this term, an indicator of an *earlier* term)
            that share a component indicator and are given a free residual covariance
            (``residual_covariances="simple"``).
        offsets: for an observed two-way product, the coefficient k_v of each component v in
            ``product = x·z − k_x·x − k_z·z − k_0`` (the centring or residualisation), so that
            coefficients can be re-expressed for the raw product; empty for latent terms.
        unused: indicators left out by matched pairs.
    """

    term: str
    components: tuple[str, ...]
    name: str
    latent: bool
    indicators: tuple[str, ...]
    parts: tuple[tuple[str, ...], ...]
    residual_covariances: tuple[tuple[str, str], ...] = ()
    cross_covariances: tuple[tuple[str, str], ...] = ()
    offsets: Mapping[str, float] = field(default_factory=dict)
    unused: tuple[str, ...] = ()

    def matches(self, term: str) -> bool:
        """True when ``term`` names this interaction (in any order: ``FA:TA`` = ``TA:FA``)."""
        return sorted(_split_term(term)) == sorted(self.components)


def _split_term(term: str) -> tuple[str, ...]:
    if not isinstance(term, str):
        raise SpecError(f"an interaction term is a string such as 'X:Z', not {term!r}")
    parts = tuple(p.strip() for p in term.replace("*", ":").split(":"))
    if len(parts) < 2 or not all(parts):
        raise SpecError(
            f"{term!r} is not an interaction term; write the product of two variables as 'X:Z'"
        )
    return parts


# ---------------------------------------------------------------------------------------------
# building the product-indicator model
# ---------------------------------------------------------------------------------------------


def _classify(spec: ModelSpec, stmt: Statement) -> tuple[tuple[str, ...], bool,
                                                          list[tuple[str, ...]]]:
    """Components of a product term, whether they are latent, and each one's indicators."""
    comps = tuple(stmt.rhs.split(":"))
    latent = set(spec.latent_variables)
    indicators = spec.indicators
    where = f"line {stmt.line}: {stmt.source!r}" if stmt.source else (
        f"'{stmt.lhs} ~ {stmt.rhs}'")
    kinds = [c in latent for c in comps]
    if any(kinds) and not all(kinds):
        obs = [c for c, k in zip(comps, kinds) if not k]
        lat = [c for c, k in zip(comps, kinds) if k]
        o, f = obs[0], lat[0]
        lv = f"{o}_lv"
        raise SpecError(
            f"{where}: the interaction {stmt.rhs!r} mixes observed variable(s) "
            f"{', '.join(map(repr, obs))} with latent variable(s) {', '.join(map(repr, lat))}; "
            "product indicators need every component latent (each measured by observed items) "
            "or every component observed.  To interact an observed variable with a latent one, "
            f"make it a single-indicator latent variable measured without error: "
            f"'{lv} =~ {o}' and '{o} ~~ 0*{o}', then use '{stmt.lhs} ~ {lv}:{f}'"
        )
    if not all(kinds):
        return comps, False, [(c,) for c in comps]
    lists = []
    composites = {s.lhs for s in spec.statements if s.op == "<~"}
    for c in comps:
        if c in composites:
            raise SpecError(
                f"{where}: {c!r} in the interaction {stmt.rhs!r} is a composite ('<~'), whose "
                "components are not indicators; product indicators need reflective factors "
                "measured by their items: write the construct with '=~', or fit the model "
                "with estimator='PLS'"
            )
        items = indicators[c]
        nested = [i for i in items if i in latent]
        if nested:
            raise SpecError(
                f"{where}: {c!r} in the interaction {stmt.rhs!r} is a higher-order latent "
                f"variable (measured by the latent variable(s) {', '.join(map(repr, nested))}); "
                "product indicators need first-order latent variables measured by observed "
                "items.  Use a latent-interaction estimator (LMS or QML), or interact the "
                "first-order factors"
            )
        lists.append(tuple(items))
    return comps, True, lists


def _product_tuples(lists: list[tuple[str, ...]], match: bool, term: str
                    ) -> tuple[list[tuple[str, ...]], tuple[str, ...]]:
    """The component-indicator tuples of every product indicator (modsem's order: the first
    component varies fastest), and the indicators matched pairs leave out."""
    if match:
        n = min(len(x) for x in lists)
        tuples = list(zip(*[x[:n] for x in lists]))
        unused = tuple(i for x in lists for i in x[n:])
        if unused:
            counts = ", ".join(str(len(x)) for x in lists)
            left = ", ".join(map(repr, unused))
            warnings.warn(
                f"matched pairs for {term!r}: the components have {counts} indicators, so "
                f"the products leave out {left}; "
                "order the items by reliability (best first) or use match=False (all pairs)",
                CbecSemWarning,
                stacklevel=4,
            )
    else:
        tuples = [tuple(reversed(t)) for t in itertools.product(*reversed(lists))]
        unused = ()
    seen: dict[tuple[str, ...], None] = {}
    out = []
    for t in tuples:
        key = tuple(sorted(t))
        if key in seen:  # X:X — x1x2 and x2x1 are the same product
            continue
        seen[key] = None
        out.append(t)
    return out, unused


def _fresh_names(stems: list[tuple[str, ...]], taken: set[str], what: str) -> list[str]:
    """Join each stem's parts (modsem's way: plain concatenation, ``x1z1``); if that collides
    with a name already in use, try ``_``, ``.`` and ``__`` as separators."""
    for sep in ("", "_", ".", "__", "_x_"):
        names = [sep.join(s) for s in stems]
        if len(set(names)) == len(names) and not (set(names) & taken):
            return names
    raise SpecError(
        f"cannot name the {what} {', '.join(':'.join(s) for s in stems[:3])}: every candidate "
        "name is already used by a variable, column or label; rename the clashing columns"
    )


def _complete_rows(frame: pd.DataFrame, spec: ModelSpec) -> np.ndarray:
    cols = [v for v in spec.observed_variables if v in frame.columns]
    return frame[cols].notna().all(axis=1).to_numpy() if cols else np.ones(len(frame), bool)


def expand_product_indicators(
    model: ModelSpec | str,
    data,
    *,
    method: str = "dblcent",
    match: bool = False,
    residual_covariances: str = "simple",
) -> tuple[ModelSpec, pd.DataFrame, tuple[ProductTerm, ...]]:
    """Write the product-indicator model and compute its product columns (no fitting).

    Returns:
        ``(expanded_spec, augmented_data, terms)``: the linear model (the product latent in
        place of every ``X:Z``), the data with the product columns added (the input is not
        changed), and one :class:`ProductTerm` per distinct interaction.

    Raises:
        SpecError: an unknown method, a model without interaction terms, an unsupported term.
        DataError: missing or non-numeric columns, a constant indicator, a constant product.
    """
    if method not in METHODS:
        raise SpecError(f"method={method!r}: product indicators are formed by 'dblcent' "
                        "(double-mean-centring) or 'rca' (residual centring)")
    if residual_covariances not in RESIDUAL_COVARIANCES:
        raise SpecError(f"residual_covariances={residual_covariances!r}: use 'simple' (products "
                        "sharing an indicator, within and across terms), 'within' (only "
                        "within a term) or 'none'")
    if not isinstance(match, (bool, np.bool_)):
        raise SpecError(f"match must be True (matched pairs) or False (all pairs), not {match!r}")
    spec = _as_model(model)
    product_stmts = [s for s in spec.statements if s.op == "~" and ":" in s.rhs]
    if not product_stmts:
        raise SpecError(
            "the model has no interaction term (such as 'Y ~ X + Z + X:Z'); fit it with "
            "cs.fit() instead"
        )
    frame = as_frame(data)
    taken = (set(spec.latent_variables) | set(spec.observed_variables) | set(spec.labels)
             | set(spec.defined) | {str(c) for c in frame.columns})

    # one ProductTerm per distinct set of components, named after its first appearance
    plans: dict[tuple[str, ...], dict[str, Any]] = {}
    for s in product_stmts:
        comps, latent, lists = _classify(spec, s)
        key = tuple(sorted(comps))
        if key in plans:
            continue
        tuples, unused = _product_tuples(lists, bool(match), s.rhs)
        plans[key] = dict(term=s.rhs, comps=comps, latent=latent, lists=lists,
                          tuples=tuples, unused=unused)

    needed = list(dict.fromkeys(i for p in plans.values() for lst in p["lists"] for i in lst))
    check_columns(frame, tuple(needed), None)
    values = numeric_block(frame, tuple(needed))
    col = {name: values[:, k] for k, name in enumerate(needed)}
    complete = _complete_rows(frame, spec)
    if complete.sum() < 3:
        raise DataError(f"only {int(complete.sum())} complete row(s) on the model's variables; "
                        "product indicators need more data")
    for comps_key, plan in plans.items():
        for comp, lst in zip(plan["comps"], plan["lists"]):
            for item in lst:
                x = col[item][complete]
                if not np.ptp(x) > 0:
                    owner = f"the indicator {item!r} of {comp!r}" if plan["latent"] else (
                        f"the variable {item!r}")
                    raise DataError(
                        f"{owner} in the interaction {plan['term']!r} has no variance (every "
                        f"complete row holds {x[0]!r}); a constant carries no information and "
                        "its products are constant: drop it from the model"
                    )

    new_columns: dict[str, np.ndarray] = {}
    terms: list[ProductTerm] = []
    for plan in plans.values():
        comps, latent, tuples = plan["comps"], plan["latent"], plan["tuples"]
        if latent:
            [name] = _fresh_names([comps], taken, "product latent variable")
            taken.add(name)
            ind_names = _fresh_names(tuples, taken, "product indicators")
        else:
            ind_names = _fresh_names(tuples, taken, "product variable")
            name = ind_names[0]
        taken.update(ind_names)
        first_order = list(dict.fromkeys(i for lst in plan["lists"] for i in lst))
        offsets: dict[str, float] = {}
        for ind, parts in zip(ind_names, tuples):
            raw = np.prod([col[p] for p in parts], axis=0)
            if method == "dblcent":
                centred = [col[p] - col[p][complete].mean() for p in parts]
                prod = np.prod(centred, axis=0)
                prod = prod - prod[complete].mean()
                if not latent and len(parts) == 2 and parts[0] != parts[1]:
                    offsets = {parts[0]: float(col[parts[1]][complete].mean()),
                               parts[1]: float(col[parts[0]][complete].mean())}
            else:
                design = np.column_stack([np.ones(len(raw))] + [col[i] for i in first_order])
                beta, *_ = np.linalg.lstsq(design[complete], raw[complete], rcond=None)
                prod = raw - design @ beta
                if not latent and len(parts) == 2 and parts[0] != parts[1]:
                    offsets = {v: float(b) for v, b in zip(first_order, beta[1:])}
            spread = np.std(prod[complete])
            if not spread > 1e-12 * max(1.0, np.std(raw[complete])):
                raise DataError(
                    f"the product indicator {ind!r} ({' × '.join(parts)}) of the interaction "
                    f"{plan['term']!r} has no variance after {_METHOD_NAMES[method]} centring "
                    "(e.g. the square of a 0/1 item is the item itself); drop the item from the "
                    "interaction"
                )
            new_columns[ind] = prod  # rows with a missing answer stay NaN
        rescov: list[tuple[str, str]] = []
        cross: list[tuple[str, str]] = []
        if latent and residual_covariances != "none":
            for (a, pa), (b, pb) in itertools.combinations(zip(ind_names, tuples), 2):
                if set(pa) & set(pb):
                    rescov.append((a, b))
        if latent and residual_covariances == "simple":
            for earlier in (u for u in terms if u.latent):
                for a, pa in zip(ind_names, tuples):
                    for b, pb in zip(earlier.indicators, earlier.parts):
                        if set(pa) & set(pb):
                            cross.append((a, b))
        terms.append(ProductTerm(
            term=plan["term"], components=comps, name=name, latent=latent,
            indicators=tuple(ind_names), parts=tuple(tuple(t) for t in tuples),
            residual_covariances=tuple(rescov), cross_covariances=tuple(cross),
            offsets=offsets, unused=plan["unused"],
        ))

    by_key = {tuple(sorted(t.components)): t for t in terms}
    body: list[Statement] = []
    for s in spec.statements:
        if s.op == "~" and ":" in s.rhs:
            body.append(dataclasses.replace(s, rhs=by_key[tuple(sorted(s.rhs.split(":")))].name))
        else:
            body.append(s)
    added: list[Statement] = []
    for t in terms:
        if t.latent:
            added += [Statement(t.name, "=~", ind) for ind in t.indicators]
    for t in terms:
        added += [Statement(a, "~~", b) for a, b in t.residual_covariances]
    for t in terms:
        added += [Statement(a, "~~", b) for a, b in t.cross_covariances]
    model_part = [s for s in body if not s.is_constraint]
    constraint_part = [s for s in body if s.is_constraint]
    expanded = ModelSpec(tuple(model_part + added + constraint_part), spec.hypotheses)
    augmented = pd.concat(
        [frame.reset_index(drop=True),
         pd.DataFrame(new_columns, index=pd.RangeIndex(len(frame)))], axis=1)
    augmented.index = frame.index
    return expanded, augmented, tuple(terms)


def _as_model(model: ModelSpec | str) -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, str):
        return ModelSpec.from_lavaan(model)
    raise SpecError(
        f"model must be a ModelSpec or lavaan syntax text, not {type(model).__name__}"
    )


# ---------------------------------------------------------------------------------------------
# fitting and results
# ---------------------------------------------------------------------------------------------


def fit_product_indicators(
    model: ModelSpec | str,
    data,
    *,
    method: str = "dblcent",
    match: bool = False,
    residual_covariances: str = "simple",
    warm_start: bool = True,
    main_fit=None,
    **fit_kwargs,
) -> ProductIndicatorFit:
    """Fit a model with latent interactions (``Y ~ X + Z + X:Z``) by product indicators and ML.

    Args:
        model: a :class:`~cbec_sem.specification.ModelSpec` or lavaan syntax with one or more
            interaction terms ``X:Z`` in its regressions.
        data: a DataFrame or a Survey holding the indicators.
        method: ``"dblcent"`` (double-mean-centring, Lin et al. 2010; modsem's default) or
            ``"rca"`` (residual centring, Little et al. 2006).
        match: ``False`` for all pairs of indicators (default), ``True`` for matched pairs.
        residual_covariances: ``"simple"`` (free residual covariances between every two
            product indicators that share an indicator, within and across terms; default,
            modsem's ``res.cov.across = TRUE``), ``"within"`` (only within a term) or
            ``"none"``.
        warm_start: start the optimiser from the main-effects model's estimates and, for the
            product latent, from their implications (loadings λ_x·λ_z, variance
            φ_XX·φ_ZZ + φ_XZ², residual (co)variances the sample ones minus the common part);
            the optimum is the same, but large product models converge far more reliably than
            from the generic starting values.  ``False`` uses the engine's defaults.
        **fit_kwargs: passed to :func:`cbec_sem.modelfit.fit_model` (``estimator``, ``level``,
            ``std_lv``, ``group``, ...).  Centring uses the pooled sample also with ``group``.

    Returns:
        A :class:`ProductIndicatorFit`; its ``.syntax`` is the lavaan model that was fitted.

    Raises:
        SpecError: no interaction term, an unsupported term (observed × latent, higher-order
            latent), an unknown method.
        DataError: missing or non-numeric columns, a constant indicator.

    Examples:
        >>> pif = fit_product_indicators(
        ...     "X =~ x1 + x2 + x3; Z =~ z1 + z2 + z3; Y =~ y1 + y2 + y3; Y ~ X + Z + X:Z",
        ...     data)                                                  # doctest: +SKIP
        >>> pif.interaction("Y", "X:Z")                                # doctest: +SKIP
    """

    alpha = fit_kwargs.pop("alpha", 0.05)
    spec = _as_model(model)
    expanded, augmented, terms = expand_product_indicators(
        spec, data, method=method, match=match, residual_covariances=residual_covariances)
    started = (_warm_start(spec, expanded, terms, augmented, fit_kwargs, main_fit)
               if warm_start else None)
    result = None
    if started is not None:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = _fit(started, augmented, **fit_kwargs)
        except EstimationError:
            result = None
        if result is not None and result.converged.optimizer_converged:
            for w in caught:  # pass the fit's own warnings on
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            # report the clean model (the starting values are not part of the specification)
            result = _as_clean(result, expanded)
        else:
            result = None
    if result is None:
        result = _fit(expanded, augmented, **fit_kwargs)
    notes = []
    if fit_kwargs.get("group") is not None:
        notes.append("indicators and products were centred over the pooled sample, not "
                     "within groups")
    for t in terms:
        if t.unused:
            notes.append(f"matched pairs for {t.term}: {', '.join(t.unused)} left out of the "
                         "products")
    written = {}
    for s in spec.statements:
        if s.op == "~" and ":" in s.rhs:
            t = next(t for t in terms if t.matches(s.rhs))
            written[(s.lhs, t.name)] = s.rhs
    return ProductIndicatorFit(fit=result, terms=terms, spec=expanded, data=augmented,
                               method=method, match=bool(match),
                               residual_covariances=residual_covariances, notes=tuple(notes),
                               written=written, alpha=alpha)


def _key(lhs: str, op: str, rhs: str) -> tuple[str, str, str]:
    return (min(lhs, rhs), op, max(lhs, rhs)) if op == "~~" else (lhs, op, rhs)


def _warm_start(spec: ModelSpec, expanded: ModelSpec, terms: tuple[ProductTerm, ...],
                data: pd.DataFrame, fit_kwargs: dict, main=None) -> ModelSpec | None:
    """The expanded model with starting values from a fit of the main-effects model (``main``
    when given, else fitted here), or None when that model cannot be fitted (then the
    engine's default starts are used)."""

    main_statements = tuple(s for s in spec.statements if not (s.op == "~" and ":" in s.rhs))
    # only the point estimates are needed: no resampling for the starting values
    main_kwargs = {k: v for k, v in fit_kwargs.items() if k not in ("bootstrap", "se", "n_jobs")}
    if main_kwargs.get("estimator") in ("MLM", "MLR"):
        # the same point estimates as ML: the robust SEs and tests would be thrown away
        main_kwargs["estimator"] = "ML"
    if main is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                main = _fit(ModelSpec(main_statements), data, **main_kwargs)
        except (CbecSemError, np.linalg.LinAlgError):
            return None
    if not main.converged.optimizer_converged:
        return None
    est = main.estimation
    frame = est.partable.frame
    g1 = frame[frame["group"] == 1]
    starts: dict[tuple[str, str, str], float] = {}
    value: dict[tuple[str, str, str], float] = {}
    for lhs, op, rhs, free, v in zip(g1["lhs"], g1["op"], g1["rhs"], g1["free"], g1["est"]):
        value[_key(lhs, op, rhs)] = float(v)
        if free > 0 and op in ("=~", "~", "~~"):
            starts[_key(lhs, op, rhs)] = float(v)
    mom = est.ram.moments(est.theta)[0]
    names = list(est.ram.variables)
    # the implied covariances of all variables, looked up by name (a dict and an array: a
    # frame's .at costs ~10 µs a lookup, and the warm start makes dozens)
    cov_all = est.ram.total_covariance(mom)
    at = {v: k for k, v in enumerate(names)}

    def phi(a: str, b: str) -> float:
        return cov_all[at[a], at[b]]

    std_lv = bool(fit_kwargs.get("std_lv", False))
    complete = _complete_rows(data, expanded)
    # the product part implied by the main-effects fit, for every two-way latent term
    implied: dict[str, tuple[ProductTerm, float, dict[str, float], float]] = {}
    for t in terms:
        if not t.latent or len(t.components) != 2:
            continue
        x, z = t.components
        if x not in at or z not in at:
            continue
        v = float(phi(x, x) * phi(z, z) + phi(x, z) ** 2)
        if not v > 0:
            continue
        lam = {p: value.get((c, "=~", p), np.nan) for c, parts in zip(t.components, zip(*t.parts))
               for p in parts}
        common = {ind: lam[a] * lam[b] * np.sqrt(v) for ind, (a, b) in zip(t.indicators, t.parts)}
        if not all(np.isfinite(c) for c in common.values()):
            continue
        marker = common[t.indicators[0]] / np.sqrt(v)
        if std_lv:
            for ind in t.indicators:
                starts[(t.name, "=~", ind)] = common[ind]
        elif abs(marker) > 1e-8:
            for ind in t.indicators:
                starts[(t.name, "=~", ind)] = common[ind] / np.sqrt(v) / marker
            starts[(t.name, "~~", t.name)] = v * marker**2
        else:
            continue
        implied[t.name] = (t, v, common, marker)

    def product_cov(t: ProductTerm, u: ProductTerm) -> float:
        """Cov(X_t·Z_t, X_u·Z_u) implied by the main-effects fit (Isserlis 1918)."""
        (a, b), (c, d) = t.components, u.components
        return float(phi(a, c) * phi(b, d) + phi(a, d) * phi(b, c))

    for (t, vt, _, mt), (u, vu, _, mu) in itertools.combinations(implied.values(), 2):
        cov = product_cov(t, u)
        starts[_key(t.name, "~~", u.name)] = (cov / np.sqrt(vt * vu) if std_lv else cov * mt * mu)

    # residual (co)variances of the product indicators: sample minus common part, in one block
    # (within and across terms), shrunk towards the diagonal until positive definite
    inds = [ind for t, *_ in implied.values() for ind in t.indicators]
    if inds:
        term_of = {ind: name for name, (t, *_) in implied.items() for ind in t.indicators}
        common_all = {ind: c for _, _, common, _ in implied.values() for ind, c in common.items()}
        block = data.loc[complete, inds].to_numpy(dtype=float)
        s = np.cov(block, rowvar=False, bias=True)
        index = {a: i for i, a in enumerate(inds)}
        theta = np.diag([max(s[i, i] - common_all[a] ** 2, 0.05 * s[i, i])
                         for a, i in index.items()])
        pairs = [(a, b) for t, *_ in implied.values()
                 for a, b in t.residual_covariances + t.cross_covariances
                 if a in index and b in index]
        for a, b in pairs:
            ta, tb = implied[term_of[a]], implied[term_of[b]]
            rho = product_cov(ta[0], tb[0]) / np.sqrt(ta[1] * tb[1])
            i, j = index[a], index[b]
            theta[i, j] = theta[j, i] = s[i, j] - common_all[a] * common_all[b] * rho
        off = theta - np.diag(np.diag(theta))
        for shrink in (1.0, 0.5, 0.25, 0.0):
            trial = np.diag(np.diag(theta)) + shrink * off
            if np.linalg.eigvalsh(trial)[0] > 1e-3 * np.max(np.diag(theta)):
                break
        for a, i in index.items():
            starts[(a, "~~", a)] = trial[i, i]
        for a, b in pairs:
            starts[_key(a, "~~", b)] = trial[index[a], index[b]]

    # Starting values reach the engine through statements: give the ones lavaan would add by
    # default (variances, covariances of exogenous latent variables and of pure outcomes) as
    # explicit statements, in the engine's own order, so the parameter table keeps its order.
    roles = variable_roles(expanded.statements, fixed_x=bool(fit_kwargs.get("fixed_x", True)))
    ov_x = set(roles.ov_x)
    out: list[Statement] = []
    user: set[tuple[str, str, str]] = set()
    for st in expanded.statements:
        if not st.is_constraint:
            k = _key(st.lhs, st.op, st.rhs)
            user.add(k)
            if k in starts and not st.starts and not st.fixed:
                st = dataclasses.replace(st, starts=(starts[k],))
        out.append(st)
    # lavaan's order of default rows: observed variances, latent variances, covariances of
    # exogenous latent variables, of pure outcomes.  Exogenous covariates (fixed.x) cannot be
    # made explicit, so the explicit defaults stop at the first one and the engine adds the
    # rest, in the same order.
    defaults: list[tuple[str, str, tuple]] = []
    covariate_seen = False
    for v in roles.observed:
        if v in ov_x:
            covariate_seen = True
            break
        defaults.append((v, v, ()))
    if not covariate_seen:
        defaults += [(v, v, (1.0,) if std_lv else ()) for v in roles.latent]
        defaults += [(a, b, ()) for a, b in itertools.combinations(roles.lv_x, 2)]
        defaults += [(a, b, ()) for a, b in itertools.combinations(roles.lv_y + roles.ov_y, 2)]
    extra = []
    for a, b, fixed in defaults:
        k = _key(a, "~~", b)
        if k in user:
            continue
        user.add(k)
        if fixed:
            extra.append(Statement(a, "~~", b, fixed=fixed))
        else:
            extra.append(Statement(a, "~~", b, starts=(starts[k],) if k in starts else ()))
    model_part = [st for st in out if not st.is_constraint]
    constraints = [st for st in out if st.is_constraint]
    try:
        return ModelSpec(tuple(model_part + extra + constraints), expanded.hypotheses)
    except SpecError:
        return None


def _as_clean(result, expanded: ModelSpec):
    """A fit of the warm-started model presented as a fit of the clean model: the clean
    specification, and the rows that were explicit only to carry starting values marked as
    lavaan's default rows (``user = 0``)."""
    est = result.estimation
    frame = est.partable.frame.copy()
    user = {_key(s.lhs, s.op, s.rhs) for s in expanded.statements if not s.is_constraint}
    frame["user"] = [int(_key(a, o, b) in user) if o != ":=" else u
                     for a, o, b, u in zip(frame["lhs"], frame["op"], frame["rhs"], frame["user"])]
    est = dataclasses.replace(est, partable=dataclasses.replace(est.partable, frame=frame))
    return dataclasses.replace(result, model=expanded, estimation=est)


@dataclass(frozen=True, eq=False)
class ProductIndicatorFit:
    """A latent-interaction model fitted by product indicators.

    Attributes:
        fit: the :class:`~cbec_sem.modelfit.FittedModel` of the expanded (linear) model.
        terms: one :class:`ProductTerm` per interaction.
        spec: the expanded :class:`~cbec_sem.specification.ModelSpec` that was fitted.
        data: the data with the product indicator columns added.
        method: ``"dblcent"`` or ``"rca"``.
        match: matched pairs (True) or all pairs (False).
        residual_covariances: ``"simple"``, ``"within"`` or ``"none"``.
        notes: what the user should know about how the products were made.
        written: (outcome, product name) → the term as written in that regression
            (``("FA", "PCTA") → "TA:PC"`` when ``FA ~ TA:PC`` shares the product of ``PC:TA``).
    """

    fit: Any
    terms: tuple[ProductTerm, ...]
    spec: ModelSpec
    data: pd.DataFrame
    method: str
    match: bool
    residual_covariances: str
    notes: tuple[str, ...] = ()
    written: Mapping[tuple[str, str], str] = field(default_factory=dict)
    alpha: float = 0.05

    # ------------------------------------------------------------------ views

    def term_as_written(self, outcome: str, name: str) -> str:
        """The interaction term that the product ``name`` stands for in ``outcome``'s
        regression, as the user wrote it; ``name`` itself when it is no product."""
        if (outcome, name) in self.written:
            return self.written[(outcome, name)]
        for t in self.terms:
            if t.name == name:
                return t.term
        return name

    @property
    def syntax(self) -> str:
        """The lavaan syntax of the fitted model (reuse it in lavaan with ``.data``)."""
        return self.spec.to_lavaan()

    @property
    def products(self) -> dict[str, str]:
        """Interaction term → the name of its product latent variable (or column)."""
        return {t.term: t.name for t in self.terms}

    @property
    def converged(self):
        """The :class:`~cbec_sem.engine.convergence.Convergence` status of the fit."""
        return self.fit.converged

    @property
    def params(self) -> pd.DataFrame:
        """The fit's parameter table, with the product renamed back to the interaction term in
        the regressions on it (``Y ~ X:Z``); the product latent keeps its name (``XZ``) in its
        measurement and covariance rows, as in :attr:`syntax`."""
        p = self.fit.params
        names = {t.name for t in self.terms}
        reg = ((p["op"] == "~") & p["rhs"].isin(list(names))).to_numpy()
        p.loc[reg, "rhs"] = [self.term_as_written(a, b)
                             for a, b in zip(p.loc[reg, "lhs"], p.loc[reg, "rhs"])]
        return p

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the free parameters, labelled as :attr:`FitResult.vcov`
        ("lhs op rhs"), with ``Y ~ XZ`` written ``Y ~ X:Z``."""
        v = self.fit.vcov
        labels = [self._relabel(k) for k in v.index]
        v.index = labels
        v.columns = labels
        return v

    def _relabel(self, label: str) -> str:
        parts = label.split(" ")
        if len(parts) >= 3 and parts[1] == "~":
            parts[2] = self.term_as_written(parts[0], parts[2])
        return " ".join(parts)

    def term(self, term: str) -> ProductTerm:
        """The :class:`ProductTerm` of ``term`` (any order of components)."""
        for t in self.terms:
            if t.matches(term):
                return t
        known = ", ".join(t.term for t in self.terms)
        raise SpecError(f"the model has no interaction term {term!r}; its terms are: {known}")

    # ------------------------------------------------------------------ implied moments

    def implied_moments(self, group: int = 1) -> tuple[pd.Series, pd.DataFrame]:
        """Model-implied means and covariance matrix of every variable, observed and latent
        (group ``group``, 1-based); means are zero without a mean structure."""
        est = self.fit.estimation
        mom = est.ram.moments(est.theta)[group - 1]
        names = list(est.ram.variables)
        cov = pd.DataFrame(est.ram.total_covariance(mom), index=names, columns=names)
        mean = pd.Series(est.ram.total_means(mom) if est.meanstructure else np.zeros(len(names)),
                         index=names)
        return mean, cov

    # ------------------------------------------------------------------ the interactions

    def interaction(self, outcome: str, term: str, group: int = 1) -> pd.Series:
        """The interaction effect of ``term`` on ``outcome``.

        Returns:
            A Series: ``est, se, z, pvalue, ci.lower, ci.upper`` (the ML Wald test),
            ``std.all`` (lavaan's: b·sd(XZ)/sd(Y), with the product latent's own variance) and
            ``std`` (b·sd(X)·sd(Z)/sd(Y), the standardised interaction of Wen, Marsh & Hau
            2010, the effect of a 1-SD change of X·Z in units of standardised X and Z; this is
            the metric of ``cs.simulate``'s standardised population values).
        """
        t = self.term(term)
        est = self.fit.estimation
        p = est.params  # read only (FittedModel.params would copy it)
        # numpy comparisons: a third of the time of the string columns' own
        hit = np.flatnonzero((p["lhs"].to_numpy() == outcome) & (p["op"].to_numpy() == "~")
                             & (p["rhs"].to_numpy() == t.name)
                             & (p["group"].to_numpy() == group))
        if not hit.size:
            outcomes = sorted({s.lhs for s in self.spec.statements
                               if s.op == "~" and s.rhs == t.name})
            raise SpecError(
                f"{outcome!r} is not regressed on {t.term!r} in this model; "
                f"{t.term} predicts: {', '.join(outcomes) or 'nothing'}"
            )
        row = {c: p[c].iat[hit[0]] for c in ("est", "se", "z", "pvalue", "ci.lower",
                                             "ci.upper", "std.all")}
        # the implied variances of implied_moments(group), without its frames
        cov = est.ram.total_covariance(est.ram.moments(est.theta)[group - 1])
        sd = dict(zip(est.ram.variables, np.sqrt(np.clip(np.diag(cov), 0.0, None))))
        std = row["est"] * np.prod([sd[c] for c in t.components]) / sd[outcome]
        out = pd.Series({**row, "std": std},
                        name=f"{outcome} ~ {self.term_as_written(outcome, t.name)}", dtype=float)
        return out

    def interactions(self) -> pd.DataFrame:
        """Every interaction effect of the model (one row per outcome and term, group 1)."""
        rows = []
        names = {t.name: t for t in self.terms}
        for s in self.spec.statements:
            if s.op == "~" and s.rhs in names:
                term = self.term_as_written(s.lhs, s.rhs)
                r = self.interaction(s.lhs, term)
                rows.append({"outcome": s.lhs, "term": term, **r.to_dict()})
        return pd.DataFrame(rows)

    @property
    def hypotheses(self) -> pd.DataFrame:
        """The fit's hypothesis table with ``interaction`` and ``moderation`` hypotheses tested
        by the Wald test of the interaction coefficient in this product-indicator model.

        Path and indirect hypotheses are those of the expanded model: with double-mean-centred
        products a main effect is the effect at the mean of the other variable."""
        table = build_table(self.fit, self.spec.hypotheses, alpha=self.alpha)
        level = self.fit.estimation.options.level
        method = (f"product indicators ({_METHOD_NAMES[self.method]}, "
                  f"{'matched' if self.match else 'all'} pairs), ML Wald z test")
        for h in self.spec.hypotheses:
            if h.kind not in ("interaction", "moderation"):
                continue
            if h.kind == "interaction":
                x, z, y = h.constructs
            else:
                z, x, y = h.constructs
            idx = table.index[table["id"] == h.id]
            table.loc[idx, "method"] = method
            if not self.fit.converged.optimizer_converged:
                table.loc[idx, "note"] = ("the model did not converge, so there is no test "
                                          "(see res.converged)")
                continue
            labels = list(self.fit.estimation.partable.group_labels)
            for i in idx:
                g = labels.index(table.at[i, "group"]) + 1 if "group" in table else 1
                try:
                    r = self.interaction(y, f"{x}:{z}", group=g)
                except SpecError:
                    table.at[i, "note"] = (f"the model has no interaction {x}:{z} → {y}; add "
                                           f"'{y} ~ {x}:{z}'")
                    continue
                decided = verdict(r["est"], r["ci.lower"], r["ci.upper"], r["pvalue"], h.sign,
                                   self.alpha)
                table.at[i, "estimate"] = r["est"]
                table.at[i, "std.all"] = r["std.all"]
                table.at[i, "se"] = r["se"]
                table.at[i, "ci.lower"] = r["ci.lower"]
                table.at[i, "ci.upper"] = r["ci.upper"]
                table.at[i, "ci"] = (float(r["ci.lower"]), float(r["ci.upper"]))
                table.at[i, "p"] = r["pvalue"]
                table.at[i, "verdict"] = decided
                table.at[i, "note"] = (
                    f"{level:.0%} Wald CI; standardised as b·sd({x})·sd({z})/sd({y}) = "
                    f"{r['std']:.3f} (Wen, Marsh & Hau 2010)")
        return table

    def to_frame(self) -> pd.DataFrame:
        """The interaction effects (:meth:`interactions`)."""
        return self.interactions()

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def summary(self) -> Summary:
        """How the products were made, the estimates of the expanded model and the
        hypotheses (a :class:`~cbec_sem.protocol.Summary`)."""
        head = [f"Latent interaction by product indicators ({_METHOD_NAMES[self.method]}, "
                f"{'matched' if self.match else 'all'} pairs, residual covariances: "
                f"{self.residual_covariances})"]
        for t in self.terms:
            head.append(f"  {t.term}: {t.name} =~ {' + '.join(t.indicators)}"
                        if t.latent else f"  {t.term}: product column {t.name}")
        blocks = [Block(text="\n".join(head)), Block("Parameter estimates", self.fit.params)]
        if self.spec.hypotheses:
            blocks.append(Block("Hypotheses", self.hypotheses.drop(columns=["ci", "statement"])))
        return Summary(repr(self), tuple(blocks), tuple(self.notes) + tuple(self.fit.notes))

    def __repr__(self) -> str:
        terms = ", ".join(t.term for t in self.terms)
        return (f"<ProductIndicatorFit {self.method}, terms [{terms}], "
                f"converged={bool(self.fit.converged)}>")
