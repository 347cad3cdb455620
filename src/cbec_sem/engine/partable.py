"""The parameter table: one row per model parameter, lavaan's columns, every stage reads it.

:func:`build_partable` turns parsed statements into the full table that lavaan's ``lavaanify()``
would produce for ``sem()``: the user's rows, then the rows lavaan adds by default (variances of
every variable, covariances among exogenous latent variables and among purely endogenous
variables, fixed exogenous covariates, intercepts and latent means), with the first loading of
every latent variable fixed to 1 (or its variance fixed to 1 under ``std_lv``).  The variable
roles (``lv.x``, ``lv.y``, ``ov.x``, ``ov.y``) follow lavaan's ``lav_partable_vnames()``.
A composite (``F <~ x1 + x2``) is a latent variable with its variance fixed to 0 and its
weights as rows of their own (:mod:`.composites` says what is refused).

Columns: ``id, lhs, op, rhs, user, group, free, ustart, exo, label, plabel``.  ``free`` is the
1-based index of the row's free parameter (0 when fixed); rows that share a label, or that
``group_equal`` ties together, share one index.  This is the reduced parameter vector that the
optimiser sees (lavaan ≥ 0.6 does the same for simple equality constraints, ``ceq.simple``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import combinations

import numpy as np
import pandas as pd

from ..caching import BoundedCache
from ..errors import IdentificationError, SpecError
from ..specification.statements import Statement
from .composites import check_composite_model, check_composite_rows
from .frames import column_arrays, frame_from_arrays
from .labels import shared_index
from .options import FitOptions

PARAMETER_OPS = ("=~", "~", "~~", "~1")

#: The columns a fit adds to the table (:meth:`ParTable.with_estimates`).
_ESTIMATE_COLUMNS = ("start", "est", "se")
#: The identifying columns of lavaan's ``parameterEstimates()`` (:meth:`ParTable.estimate_keys`).
ESTIMATE_KEYS = ("lhs", "op", "rhs", "group", "label")


@dataclass(frozen=True)
class VariableRoles:
    """Names of the model's variables by role, as lavaan's ``lav_partable_vnames()`` has them."""

    observed: tuple[str, ...]
    latent: tuple[str, ...]
    indicators: dict[str, tuple[str, ...]]
    lv_x: tuple[str, ...]
    lv_y: tuple[str, ...]
    ov_x: tuple[str, ...]
    ov_y: tuple[str, ...]
    #: lavaan's ``ov.x`` whatever ``fixed.x`` says (``ov_x`` is empty under ``fixed_x=False``:
    #: no covariate is held at its sample moments then, but lavaan still adds the covariances
    #: among these variables, free, and keeps them in the baseline model).
    ov_x_all: tuple[str, ...] = ()
    #: lavaan's ``lv.formative``: the left sides of ``<~`` (composites, also in ``latent``).
    composites: tuple[str, ...] = ()


def _unique(seq) -> list[str]:
    seen: dict[str, None] = {}
    for item in seq:
        seen.setdefault(item, None)
    return list(seen)


#: The roles of recent models: (statements, fixed_x, thresholds, products) → roles.  A fit
#: reads them before its data are checked (the parameter table has them too, but is built
#: only after); every fit of the same model shares one :class:`VariableRoles` (never
#: written to).  Small and bounded: the oldest entry goes first.
_ROLES: BoundedCache[VariableRoles] = BoundedCache(64)


def variable_roles(
    statements: tuple[Statement, ...], fixed_x: bool = True, thresholds: bool = False,
    products: bool = False,
) -> VariableRoles:
    """Classify the variables of a model the way lavaan does (:func:`_variable_roles`),
    once per model."""
    return _ROLES.get((statements, fixed_x, thresholds, products),
                      lambda: _variable_roles(statements, fixed_x, thresholds, products))


def _variable_roles(
    statements: tuple[Statement, ...], fixed_x: bool, thresholds: bool, products: bool
) -> VariableRoles:
    """Classify the variables of a model the way lavaan does.

    ``lv.x``: latent variables that are neither indicators nor regressed on anything;
    ``lv.y``: latent outcomes that predict nothing and indicate nothing; ``ov.y`` likewise for
    observed variables; ``ov.x``: observed predictors that are not outcomes, indicators or
    latent, and that the user gave no variance, covariance or intercept of their own.

    Threshold statements (``item | t1``) are accepted only with ``thresholds=True`` (the
    ordinal estimators); they name an observed variable and add no role of their own.
    Product terms (``Y ~ X:Z``) are accepted only with ``products=True`` (the latent-interaction
    estimators); a product is no variable, and its operands count as predictors.
    """
    model = [s for s in statements if not s.is_constraint]
    for s in model:
        if s.op == "~" and ":" in s.rhs and not products:
            raise SpecError(
                f"line {s.line}: {s.source or s.lhs + ' ~ ' + s.rhs!r}: the interaction "
                f"{s.rhs!r} needs a latent-interaction method (LMS, QML or product "
                "indicators), which the ML engine does not estimate; remove the term to fit "
                "the main-effects model"
            )
        if s.op == "<~" and (thresholds or products):
            raise SpecError(
                f"line {s.line}: {s.source or s.lhs + ' <~ ' + s.rhs!r}: the composite "
                f"{s.lhs!r} ('<~') is built for the ML family (ML, MLM, MLR, with "
                "missing='fiml' too) and PLS, not for "
                + ("ordered items (WLSMV/ULSMV/DWLS/ULS)" if thresholds else
                   "latent interactions (LMS/QML)")
                + ": fit it with estimator='ML' or 'MLR' (continuous items), or with "
                "estimator='PLS', or write it as a reflective factor with '=~'"
            )
        if s.op == "~*~" and not thresholds:
            raise SpecError(
                f"line {s.line}: {s.source or s.lhs + ' ~*~ ' + s.rhs!r}: scaling factors "
                "('~*~') belong to ordered items (estimated by WLSMV); remove the statement"
            )
        if s.op == "|" and not thresholds:
            raise SpecError(
                f"line {s.line}: {s.source!r}: thresholds ('|') belong to ordered items: "
                f"declare {s.lhs!r} ordered (cs.fit(..., ordered=[{s.lhs!r}, ...]), estimated "
                "by WLSMV), or remove the line to treat the item as continuous"
            )
    model = [s for s in model if s.op not in ("|", "~*~")]
    # lavaan 0.6-14 (lav_partable_vnames): the left side of '<~' is a latent variable, its
    # components count as predictors ('eqs.x'), but the composite is no 'eqs.y'.
    latent = _unique(s.lhs for s in model if s.op in ("=~", "<~"))
    lat = set(latent)
    indicators = {
        lv: tuple(_unique(s.rhs for s in model if s.op == "=~" and s.lhs == lv)) for lv in latent
    }
    v_ind = _unique(s.rhs for s in model if s.op == "=~")
    eqs_y = _unique(s.lhs for s in model if s.op == "~")
    eqs_x = _unique(part for s in model if s.op in ("~", "<~") for part in s.rhs.split(":"))
    ov_ind = [v for v in v_ind if v not in lat]
    ov_y_all = [v for v in eqs_y if v not in lat and v not in ov_ind]
    ov_x = [v for v in eqs_x if v not in lat and v not in ov_ind and v not in ov_y_all]
    others = _unique(
        name
        for s in model
        if s.op in ("~~", "~1")
        for name in ((s.lhs, s.rhs) if s.op == "~~" else (s.lhs,))
        if name not in lat
    )
    observed = _unique(ov_ind + ov_y_all + ov_x + others)
    # lavaan: an exogenous covariate that the user gives a variance, covariance or intercept of
    # its own is modelled like any other variable, not fixed.
    user_mentioned = {
        name
        for s in model
        if s.op in ("~~", "~1")
        for name in ((s.lhs, s.rhs) if s.op == "~~" else (s.lhs,))
    }
    ov_x_all = [v for v in ov_x if v not in user_mentioned]
    ov_x = ov_x_all if fixed_x else []
    lv_x = [v for v in latent if v not in v_ind and v not in eqs_y]
    lv_y = [v for v in latent if v in eqs_y and v not in v_ind and v not in eqs_x]
    ov_y = [v for v in observed if v in eqs_y and v not in v_ind and v not in eqs_x]
    return VariableRoles(
        observed=tuple(observed),
        latent=tuple(latent),
        indicators=indicators,
        lv_x=tuple(lv_x),
        lv_y=tuple(lv_y),
        ov_x=tuple(ov_x),
        ov_y=tuple(ov_y),
        ov_x_all=tuple(ov_x_all),
        composites=tuple(_unique(s.lhs for s in model if s.op == "<~")),
    )


def _per_group(values: tuple, g: int, ngroups: int, what: str, s: Statement):
    """The modifier value that applies to group ``g`` (0-based)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    if len(values) != ngroups:
        raise SpecError(
            f"line {s.line}: {s.source!r}: the {what} vector has {len(values)} elements but "
            f"the data have {ngroups} group(s); give one value, or one per group"
        )
    return values[g]


@dataclass(frozen=True)
class ParTable:
    """The parameter table plus what the engine needs to read it.

    Attributes:
        frame: the table (one row per parameter, lavaan's columns).
        roles: variable roles.
        ngroups: number of groups.
        group_labels: the group values, in data order.
        meanstructure: whether means are modelled.
        nfree: length of the free-parameter vector (distinct ``free`` indices).
        constraints: the ``==``, ``<`` and ``>`` statements.
        defined: the ``:=`` statements, in order.
    """

    frame: pd.DataFrame
    roles: VariableRoles
    ngroups: int
    group_labels: tuple
    meanstructure: bool
    nfree: int
    constraints: tuple[Statement, ...]
    defined: tuple[Statement, ...]
    #: columns already converted by :meth:`column`, and :meth:`estimate_keys` (the table is
    #: never written in place)
    _columns: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def column(self, name: str) -> np.ndarray:
        """One column of the table as a read-only NumPy array, converted once per table: the
        engine reads ``lhs``/``op``/``rhs``/``free``… many times per fit, and a pandas column
        access (an Arrow-backed string column made an object array) costs each time."""
        values = self._columns.get(name)
        if values is None:
            values = self.frame[name].to_numpy()
            if values.dtype == object or values.base is not None:
                values = values.copy()
            values.flags.writeable = False
            self._columns[name] = values
        return values

    def estimate_keys(self) -> tuple[list, pd.RangeIndex]:
        """The identifying columns of lavaan's ``parameterEstimates()`` — ``lhs``, ``op``,
        ``rhs``, ``group``, ``label`` — for the table's rows, then one row per ``:=``
        statement (group 0, label and lhs its name), as arrays (``str`` and int64), and the
        rows' index: made once per table and shared by the estimates table of every fit
        (:func:`~.frames.frame_from_arrays` gives each table its own copies).  Building the
        string columns again for each fit was a third of its cost."""
        keys = self._columns.get("__estimate_keys__")
        if keys is None:
            names = [s.lhs for s in self.defined]
            text = {c: list(self.column(c)) for c in ("lhs", "op", "rhs", "label")}
            text["lhs"] += names
            text["op"] += [":="] * len(names)
            text["rhs"] += [s.rhs for s in self.defined]
            text["label"] += names
            columns = {c: pd.array(v, dtype="str") for c, v in text.items()}
            columns["group"] = np.concatenate([self.column("group"),
                                               np.zeros(len(names), dtype=np.int64)])
            keys = ([columns[c] for c in ESTIMATE_KEYS],
                    pd.RangeIndex(len(names) + len(self.frame)))
            self._columns["__estimate_keys__"] = keys
        return keys

    def with_estimates(self, start: np.ndarray, est: np.ndarray, se: np.ndarray) -> ParTable:
        """This table with the columns ``start``, ``est`` and ``se`` (replaced if present), the
        columns already converted kept: the table's other columns (arrays kept once per
        table) and one new float block in one frame (:func:`~.frames.frame_from_arrays`), not
        three column insertions (each re-built the string column index)."""
        # the labels and the other columns' arrays of the result, the same for every fit of
        # the model: made once per table
        kept = self._columns.get("__estimated_columns__")
        if kept is None:
            base = self.frame.drop(columns=list(_ESTIMATE_COLUMNS), errors="ignore")
            kept = self._columns["__estimated_columns__"] = (
                column_arrays(base), base.index,
                shared_index((*base.columns.tolist(), *_ESTIMATE_COLUMNS)))
        arrays, index, columns = kept
        values = np.vstack([start, est, se]).astype(float, copy=False)
        out = replace(self, frame=frame_from_arrays(arrays, values, index, columns))
        out._columns.update((k, v) for k, v in self._columns.items()
                            if k not in _ESTIMATE_COLUMNS)
        for k, column in zip(_ESTIMATE_COLUMNS, values.copy()):  # (what column() returns)
            column.flags.writeable = False
            out._columns[k] = column
        return out

    def free_rows(self) -> np.ndarray:
        """Positions of the rows holding free parameters."""
        return np.flatnonzero(self.column("free") > 0)


def group_equal_kind(op: str, lhs: str, rhs: str, latent: set[str]) -> str:
    if op == "=~":
        return "loadings"
    if op == "~":
        return "regressions"
    if op == "~1":
        return "means" if lhs in latent else "intercepts"
    if op == "|":
        return "thresholds"
    if lhs in latent:
        return "lv.variances" if lhs == rhs else "lv.covariances"
    return "residuals" if lhs == rhs else "residual.covariances"


def build_partable(
    statements: tuple[Statement, ...],
    options: FitOptions,
    ngroups: int = 1,
    group_labels: tuple = (),
    thresholds: dict[str, int] | None = None,
    products: bool = False,
    parameterization: str = "delta",
) -> ParTable:
    """Expand parsed statements into lavaan's full parameter table for ``sem()``.

    ``thresholds`` (the ordinal estimators) maps each ordered item to its number of
    thresholds (categories − 1).  Then, as lavaan does for ordered data with its default
    ``parameterization = "delta"``: the model has a mean structure; every ordered item gets
    the rows ``item | t1``, ``item | t2``, ... (free, after the user's rows; lavaan's
    ``auto.th``) unless the user wrote them; its residual variance is fixed (its value follows
    from the unit variance of the latent response, and the estimator fills it in), its
    intercept is fixed to 0, and its scaling factor ``item ~*~ item`` is fixed to 1.

    With several groups and ``"thresholds"`` in ``group_equal`` the later groups' ordered
    items get lavaan 0.6's identification (``lav_partable_flat``): their scaling factors
    ``~*~`` (``parameterization="delta"``) or residual variances (``"theta"``, unless
    ``"residuals"`` holds them at group 1's fixed 1) are free, and so are the latent means
    (unless ``"means"``), as with ``"intercepts"`` (Millsap & Yun-Tein 2004; Wu & Estabrook
    2016, *Psychometrika* 81, 1014–1045).

    ``products=True`` (LMS and QML) keeps product terms ``Y ~ X:Z`` as rows of their own: the
    product's coefficient, whose operands count as predictors of the model.

    Raises:
        SpecError: a statement the ML engine cannot estimate, or modifiers that do not fit the
            number of groups.
        IdentificationError: a latent variable left without a scale.
    """
    ordinal = thresholds is not None
    thresholds = dict(thresholds or {})
    roles = variable_roles(statements, fixed_x=options.fixed_x, thresholds=ordinal,
                           products=products)
    free_x = () if options.fixed_x else roles.ov_x_all
    model = [s for s in statements if not s.is_constraint]
    latent = set(roles.latent)
    meanstructure = options.meanstructure
    if options.missing == "fiml":  # lavaan: missing = "ml" forces the mean structure
        meanstructure = True
    elif meanstructure is None:
        meanstructure = ngroups > 1 or any(s.op == "~1" for s in model)
    if ordinal:
        meanstructure = True
        _check_threshold_statements(model, roles, thresholds, parameterization)
    elif "thresholds" in options.group_equal:
        raise SpecError(
            "group_equal='thresholds' needs ordered items (cs.fit(..., ordered=[...])); the "
            "model has none, so there are no thresholds to hold equal"
        )
    check_composite_model(model, roles, options.std_lv, options.group_equal)
    composites = set(roles.composites)
    # lavaan (lav_partable_flat): equal thresholds free the later groups' scales
    equal_th = ordinal and "thresholds" in options.group_equal
    partial = {p.replace(" ", "") for p in options.group_partial}

    rows: list[dict] = []

    def key(lhs: str, op: str, rhs: str) -> tuple[str, str, str]:
        if op == "~~" and rhs < lhs:
            return (rhs, op, lhs)
        return (lhs, op, rhs)

    for g in range(ngroups):
        present: set[tuple[str, str, str]] = set()
        first_loading_seen: set[str] = set()
        for s in model:
            k = key(s.lhs, s.op, s.rhs)
            if k in present:
                raise SpecError(
                    f"line {s.line}: {s.source!r}: the parameter '{s.lhs} {s.op} {s.rhs}' is "
                    "specified twice; merge the two statements"
                )
            present.add(k)
            fixed = _per_group(s.fixed, g, ngroups, "fixed-value", s)
            label = _per_group(s.labels, g, ngroups, "label", s)
            start = _per_group(s.starts, g, ngroups, "start-value", s)
            freed = bool(_per_group(s.free, g, ngroups, "free", s))
            free = fixed is None
            ustart = fixed if fixed is not None else start
            if s.op == "=~" and s.lhs not in first_loading_seen:
                first_loading_seen.add(s.lhs)
                # lavaan's auto.fix.first: the first loading is the scale, unless the user
                # fixed or freed it, or asked for std.lv.
                if not options.std_lv and fixed is None and not freed:
                    free, ustart = False, 1.0
            rows.append(
                dict(lhs=s.lhs, op=s.op, rhs=s.rhs, user=1, group=g + 1, free=free,
                     ustart=ustart, exo=0, label=label or "")
            )

        def add(lhs: str, op: str, rhs: str, free: bool, ustart=None, exo: int = 0) -> None:
            if key(lhs, op, rhs) in present:
                return
            present.add(key(lhs, op, rhs))
            rows.append(
                dict(lhs=lhs, op=op, rhs=rhs, user=0, group=g + 1, free=free,
                     ustart=ustart, exo=exo, label="")
            )

        ov_x = set(roles.ov_x)
        for v in roles.observed:  # lavaan's auto.th: after the user's rows
            for k in range(1, thresholds.get(v, 0) + 1):
                add(v, "|", f"t{k}", free=True)
        for v in roles.observed:
            if v in thresholds:  # fixed (theta) or set by the estimator (delta)
                free_res = (g > 0 and equal_th and parameterization == "theta"
                            and ("residuals" not in options.group_equal
                                 or f"{v}~~{v}" in partial))
                add(v, "~~", v, free=free_res, ustart=None if free_res else 1.0)
                continue
            add(v, "~~", v, free=v not in ov_x, exo=int(v in ov_x))
        # std.lv fixes latent variances to 1; with loadings equal across groups they are
        # free in groups 2+ (the equal loadings carry the scale there), as in lavaan >= 0.6-4,
        # unless the latent variances are equal too: then 1 in every group, as lavaan has it.
        # (group_partial does not free them then: lavaan 0.6-14 keeps them at 1).
        fixed_variance = options.std_lv and not (
            g > 0 and "loadings" in options.group_equal
            and "lv.variances" not in options.group_equal)
        for v in roles.latent:
            if v in composites:  # lavaan: a composite's variance is fixed to 0
                add(v, "~~", v, free=False, ustart=0.0)
            elif fixed_variance:
                add(v, "~~", v, free=False, ustart=1.0)
            else:
                add(v, "~~", v, free=True)
        for a, b in combinations(roles.lv_x, 2):
            add(a, "~~", b, free=True)
        if options.auto_cov_y:
            for a, b in combinations(roles.lv_y + roles.ov_y, 2):
                add(a, "~~", b, free=True)
        for a, b in combinations(roles.ov_x, 2):
            add(a, "~~", b, free=False, exo=1)
        # lavaan adds the covariances among the observed exogenous covariates whatever
        # fixed.x says; with fixed.x = FALSE they are free parameters like their variances.
        for a, b in combinations(free_x, 2):
            add(a, "~~", b, free=True)
        for v in roles.observed:
            if v in thresholds:
                free_scale = g > 0 and equal_th and parameterization == "delta"
                add(v, "~*~", v, free=free_scale, ustart=None if free_scale else 1.0)
        if meanstructure:
            for v in roles.observed:
                if v in thresholds:
                    add(v, "~1", "", free=False, ustart=0.0)
                    continue
                add(v, "~1", "", free=v not in ov_x, exo=int(v in ov_x))
            free_means = (
                g > 0 and ("intercepts" in options.group_equal or equal_th)
                and "means" not in options.group_equal
            )
            for v in roles.latent:
                add(v, "~1", "", free=free_means, ustart=None if free_means else 0.0)

    free_index = _assign_free_indices(rows, options, latent)
    check_composite_rows(rows, model, roles)
    _check_scales(rows, roles, options)
    n = len(rows)
    # One DataFrame, built once from plain columns.  Object columns: pandas 3's Arrow-backed
    # strings are slow to read element-wise, and every stage reads these columns.
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "lhs": pd.Series([r["lhs"] for r in rows], dtype=object),
            "op": pd.Series([r["op"] for r in rows], dtype=object),
            "rhs": pd.Series([r["rhs"] for r in rows], dtype=object),
            "user": np.array([r["user"] for r in rows], dtype=int),
            "group": np.array([r["group"] for r in rows], dtype=int),
            "free": free_index,
            "ustart": np.array([np.nan if r["ustart"] is None else r["ustart"] for r in rows],
                               dtype=float),
            "exo": np.array([r["exo"] for r in rows], dtype=int),
            "label": pd.Series([r["label"] for r in rows], dtype=object),
            "plabel": pd.Series([f".p{i}." for i in range(1, n + 1)], dtype=object),
        }
    )
    constraints = tuple(s for s in statements if s.op in ("==", "<", ">"))
    defined = tuple(s for s in statements if s.op == ":=")
    return ParTable(
        frame=frame,
        roles=roles,
        ngroups=ngroups,
        group_labels=tuple(group_labels) or tuple(range(1, ngroups + 1)),
        meanstructure=bool(meanstructure),
        nfree=int(frame["free"].max()) if len(frame) else 0,
        constraints=constraints,
        defined=defined,
    )


def _check_threshold_statements(
    model: list[Statement], roles: VariableRoles, thresholds: dict[str, int],
    parameterization: str = "delta",
) -> None:
    """The user's ``|`` rows name ordered items and existing thresholds; ordered items have no
    residual variance of their own under the delta parameterization, and scaling factors
    (``~*~``, written by code such as the invariance ladder) only under it."""
    for s in model:
        where = f"line {s.line}: {s.source or s.lhs + ' ' + s.op + ' ' + s.rhs!r}"
        if s.op == "|":
            if s.lhs not in roles.observed:
                raise SpecError(
                    f"{where}: thresholds of {s.lhs!r}, which is not an observed variable of "
                    "the model; thresholds belong to ordered items that indicate a latent "
                    "variable or enter a regression"
                )
            if s.lhs not in thresholds:
                raise SpecError(
                    f"{where}: thresholds of {s.lhs!r}, which is not declared ordered; add it "
                    "to ordered=[...]"
                )
            k = int(s.rhs[1:])
            if not 1 <= k <= thresholds[s.lhs]:
                raise SpecError(
                    f"{where}: {s.lhs!r} has {thresholds[s.lhs] + 1} categories, so its "
                    f"thresholds are t1..t{thresholds[s.lhs]}, not {s.rhs!r}"
                )
        elif s.op == "~*~" and (s.lhs != s.rhs or s.lhs not in thresholds
                                or parameterization != "delta"):
            raise SpecError(
                f"{where}: a scaling factor belongs to an ordered item under the delta "
                "parameterization ('item ~*~ item')"
            )
        elif (s.op == "~~" and s.lhs == s.rhs and s.lhs in thresholds
              and parameterization == "delta"):
            raise SpecError(
                f"{where}: the residual variance of the ordered item {s.lhs!r} is not a free "
                "parameter: the latent response has unit variance (lavaan's delta "
                "parameterization), so it is 1 minus the variance the model explains; remove "
                "the line"
            )


def _assign_free_indices(rows: list[dict], options: FitOptions, latent: set[str]) -> np.ndarray:
    """Number the free parameters; shared labels and ``group_equal`` share a number."""
    free = np.zeros(len(rows), dtype=int)
    by_label: dict[str, int] = {}
    by_group1: dict[tuple[str, str, str], int] = {}
    partial = {p.replace(" ", "") for p in options.group_partial}
    counter = 0
    for i, row in enumerate(rows):
        if not row["free"]:
            continue
        label = row["label"]
        if label and label in by_label:
            free[i] = by_label[label]
            continue
        k = (row["lhs"], row["op"], row["rhs"])
        if (
            row["group"] > 1
            and not label
            and k in by_group1
            and group_equal_kind(row["op"], row["lhs"], row["rhs"], latent) in options.group_equal
            and "".join(k) not in partial
        ):
            free[i] = by_group1[k]
            continue
        counter += 1
        free[i] = counter
        if label:
            by_label[label] = counter
        if row["group"] == 1:
            by_group1[k] = counter
    known = {f"{r['lhs']}{r['op']}{r['rhs']}" for r in rows}
    unknown = [p for p in options.group_partial if p.replace(" ", "") not in known]
    if unknown:
        raise SpecError(
            f"group_partial names parameter(s) the model does not have: "
            f"{', '.join(map(repr, unknown))}; write them as in the parameter table, e.g. "
            "'visual =~ x2' or 'x1 ~1'"
        )
    return free


def _check_scales(rows: list[dict], roles: VariableRoles, options: FitOptions) -> None:
    """Every latent variable needs a fixed loading or a fixed variance (its scale); in groups
    2+ loadings held equal to group 1's carry the scale too."""
    scaled: set[tuple[int, str]] = set()
    if "loadings" in options.group_equal:
        scaled.update((r["group"], r["lhs"]) for r in rows if r["group"] > 1 and r["op"] == "=~")
    for r in rows:
        if r["free"]:
            continue
        if r["op"] == "=~" and r["ustart"] is not None and not pd.isna(r["ustart"]) and (
            r["ustart"] != 0
        ):
            scaled.add((r["group"], r["lhs"]))
        elif r["op"] == "~~" and r["lhs"] == r["rhs"]:
            scaled.add((r["group"], r["lhs"]))
    for group in sorted({r["group"] for r in rows}):
        for lv in roles.latent:
            if (group, lv) not in scaled and lv not in roles.composites:
                raise IdentificationError(
                    f"latent variable {lv!r} has no scale: all its loadings and its variance "
                    "are free. Fix one loading (e.g. '1*x'), fix its variance "
                    f"('{lv} ~~ 1*{lv}'), or fit with std_lv=True"
                )
