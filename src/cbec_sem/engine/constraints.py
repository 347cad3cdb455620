"""Equality constraints (``==``) and defined parameters (``:=``).

Shared labels are already folded into the free-parameter vector by the parameter table.  What
remains are explicit constraints such as ``v2 == v3`` or ``a1 == 2*a2``.  Linear ones are solved
by reparametrisation: with R θ = r, write θ = θ₀ + N x where N is an orthonormal basis of the
null space of R and θ₀ = R⁺ r (Lee 2007, *Structural Equation Modeling: A Bayesian Approach*,
§2.4; the same restricted estimator as lavaan's Lagrangian approach for linear constraints).
Covariances of θ̂ then follow as N (Nᵀ I N)⁻¹ Nᵀ (Silvey 1959 for the equivalence with the
bordered information matrix).

Defined parameters are functions of labelled parameters; their standard errors come from the
delta method (Sobel 1982, *Sociol. Methodol.* 13, eq. 14): se(f(θ̂)) = √(J V Jᵀ), J = ∂f/∂θ
(central differences, as lavaan's ``lav_func_jacobian_complex`` fallback does).

Non-linear equality constraints (``b1 == (b2 + b3)^2``) and inequality constraints
(``a > 0``, ``b2 > b1``) cannot be solved into a fixed θ₀ + N x.  They are kept as functions
c(x) of the linearly reparametrised parameters (:class:`GeneralConstraints`) for the
constrained optimiser (:mod:`cbec_sem.engine.constrained`).  At the optimum the equality and
the *active* inequality constraints are linearised: N becomes the null space of their
Jacobian, which is what lavaan's augmented information does
(``lav_model_information_augment_invert``: the top-left block of the inverse of
[[I, Hᵀ], [H, 0]] is N (Nᵀ I N)⁻¹ Nᵀ; Silvey 1959, *Ann. Math. Stat.* 30, 389–407), and only the
equality constraints reduce the degrees of freedom (lavaan counts ``==`` rows, not
inequalities).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpecError
from ..specification.expressions import compile_expression
from ..specification.statements import Statement
from .partable import ParTable
from .ram import RamModel


def _label_rows(partable: ParTable) -> dict[str, int]:
    """Map every label and plabel to one row of the table (the first row that carries it)."""
    out: dict[str, int] = {}
    for pos, (label, plabel) in enumerate(zip(partable.column("label"),
                                              partable.column("plabel"))):
        if label and label not in out:
            out[label] = pos
        out[plabel] = pos
    return out


@dataclass(frozen=True)
class Reparametrization:
    """θ = θ₀ + N x: the free parameters in terms of the unconstrained ones."""

    theta0: np.ndarray
    basis: np.ndarray
    n_constraints: int
    #: True when N is the null space of non-linear or active inequality constraints at the
    #: estimate (a local linearisation, valid for standard errors, not for refits).
    linearized: bool = False

    @property
    def identity(self) -> bool:
        return self.basis.shape[0] == self.basis.shape[1]

    def theta(self, x: np.ndarray) -> np.ndarray:
        return x if self.identity else self.theta0 + self.basis @ x

    def x(self, theta: np.ndarray) -> np.ndarray:
        return theta if self.identity else self.basis.T @ (theta - self.theta0)

    def in_x(self, evaluate):
        """``evaluate(θ, gradient=, information=)`` as a function of x: the gradient Nᵀ∇F
        and the information Nᵀ I N (chain rule through θ = θ₀ + N x)."""
        def evaluate_x(x, gradient=False, information=False):
            ev = evaluate(self.theta(x), gradient=gradient, information=information)
            if self.identity:
                return ev
            if ev.gradient is not None:
                ev.gradient = self.basis.T @ ev.gradient
            if ev.information is not None:
                ev.information = self.basis.T @ ev.information @ self.basis
            return ev
        return evaluate_x


class ExpressionSpace:
    """Evaluates constraint and definition expressions on parameter values."""

    def __init__(self, partable: ParTable, ram: RamModel) -> None:
        self.partable = partable
        self.ram = ram
        self.rows = _label_rows(partable)
        self.defined = partable.defined
        self._defined_exprs = []
        self._needed: set[str] = set()
        known = set(self.rows)
        for s in self.defined:
            expr = compile_expression(s.rhs)
            unknown = [n for n in expr.names if n not in known]
            if unknown:
                raise SpecError(
                    f"line {s.line}: {s.source or s.lhs + ' := ' + s.rhs!r}: {', '.join(unknown)} "
                    "is not a parameter label; label the parameter in the model (e.g. 'a*x')"
                )
            self._defined_exprs.append((s.lhs, expr))
            self._needed.update(n for n in expr.names if n in self.rows)
            known.add(s.lhs)

    def namespace(self, row_values: np.ndarray, names=None) -> dict[str, float]:
        """Label → value for ``names`` (default: every label) and the defined parameters."""
        wanted = self.rows if names is None else names
        ns = {name: row_values[self.rows[name]] for name in wanted}
        for name, expr in self._defined_exprs:
            ns[name] = expr(ns)
        return ns

    def defined_values(self, row_values: np.ndarray) -> np.ndarray:
        ns = self.namespace(row_values, self._needed)
        return np.array([float(ns[name]) for name, _ in self._defined_exprs])

    def defined_values_of_rows(self, values: np.ndarray) -> np.ndarray:
        """The defined parameters of every row of a k × table-rows matrix (k draws or
        points), evaluated once on arrays: k × defined."""
        if not self.defined:
            return np.empty((values.shape[0], 0))
        ns = self.namespace(values.T, self._needed)
        return np.column_stack([np.broadcast_to(np.asarray(ns[name], dtype=float),
                                                (values.shape[0],))
                                for name, _ in self._defined_exprs])

    @property
    def needed(self) -> frozenset[str]:
        """Labels that the defined parameters use."""
        return frozenset(self._needed)

    def defined_names(self) -> list[str]:
        return [name for name, _ in self._defined_exprs]

    def compile_constraint(self, s: Statement):
        left, right = compile_expression(s.lhs), compile_expression(s.rhs)
        known = set(self.rows) | set(self.defined_names())
        unknown = [n for n in left.names + right.names if n not in known]
        if unknown:
            raise SpecError(
                f"line {s.line}: {s.source or s.lhs + ' ' + s.op + ' ' + s.rhs!r}: "
                f"{', '.join(unknown)} is not a parameter label"
            )
        return lambda ns: float(left(ns)) - float(right(ns))


def _statement_text(s: Statement) -> str:
    return s.source or f"{s.lhs} {s.op} {s.rhs}"


@dataclass(frozen=True)
class GeneralConstraints:
    """Non-linear equality and all inequality constraints as functions of x.

    ``values(x)`` gives the ``n_eq`` equality residuals c(x) = lhs − rhs (zero when met) and
    then the ``n_in`` inequality margins c(x) ≥ 0 (``lhs > rhs``: lhs − rhs; ``lhs < rhs``:
    rhs − lhs; lavaan's ``con.jac`` uses the same orientation, ``lav_partable_constraints``).
    """

    statements: tuple[Statement, ...]
    n_eq: int
    funcs: tuple
    to_ns: object
    reparam: Reparametrization
    #: the entries of θ that the constraints depend on
    used: np.ndarray

    @property
    def n_in(self) -> int:
        return len(self.funcs) - self.n_eq

    def _values_theta(self, theta: np.ndarray) -> np.ndarray:
        ns = self.to_ns(theta)
        return np.array([f(ns) for f in self.funcs], dtype=float)

    def values(self, x: np.ndarray) -> np.ndarray:
        return self._values_theta(self.reparam.theta(x))

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """∂c/∂x = (∂c/∂θ) N, with ∂c/∂θ by central differences over the θ entries the
        constraints use (step 1e-6·max(1, |θ_k|))."""
        theta = self.reparam.theta(x)
        jac = np.zeros((len(self.funcs), theta.size))
        for k in self.used:
            h = 1e-6 * max(1.0, abs(theta[k]))
            e = np.zeros(theta.size)
            e[k] = h
            jac[:, k] = (self._values_theta(theta + e) - self._values_theta(theta - e)) / (2 * h)
        return jac @ self.reparam.basis


@dataclass(frozen=True)
class ConstraintSystem:
    """The linear equalities solved into ``reparam``; the rest in ``general`` (or ``None``)."""

    reparam: Reparametrization
    general: GeneralConstraints | None


def constraint_system(space: ExpressionSpace, nfree: int) -> ConstraintSystem:
    """Split the ``==``, ``<``, ``>`` statements into linear equalities, solved into
    θ = θ₀ + N x, and the rest (non-linear equalities, every inequality), kept as functions of x.

    Raises:
        SpecError: a constraint naming an unknown label; contradictory linear equalities.
    """
    statements = space.partable.constraints
    if not statements:
        return ConstraintSystem(Reparametrization(np.zeros(nfree), np.eye(nfree), 0), None)
    ram = space.ram

    def as_function(s: Statement):
        f = space.compile_constraint(s)
        sign = -1.0 if s.op == "<" else 1.0
        return lambda ns: sign * f(ns)

    names = {n for s in statements for side in (s.lhs, s.rhs)
             for n in compile_expression(side).names if n in space.rows} | set(space.needed)

    def to_ns(theta: np.ndarray) -> dict[str, float]:
        return space.namespace(ram.row_values(theta), names)

    compiled = [as_function(s) for s in statements]
    funcs = [lambda theta, f=f: f(to_ns(theta)) for f in compiled]
    eye = np.eye(nfree)
    probe = np.random.default_rng(0).normal(size=nfree)
    linear_rows: list[np.ndarray] = []
    linear_r: list[float] = []
    general: list[tuple[Statement, object]] = []
    for s, f, fns in zip(statements, funcs, compiled):
        if s.op != "==":
            general.append((s, fns))
            continue
        h0 = f(np.zeros(nfree))
        row = np.array([f(eye[k]) - h0 for k in range(nfree)])
        if abs(f(probe) - (row @ probe + h0)) > 1e-8 * max(1.0, abs(f(probe))):
            general.append((s, fns))
        else:
            linear_rows.append(row)
            linear_r.append(-h0)
    if linear_rows:
        R = np.vstack(linear_rows)
        r = np.asarray(linear_r)
        _, sv, vt = np.linalg.svd(R)
        rank = int((sv > 1e-10 * max(1.0, sv.max() if sv.size else 1.0)).sum())
        theta0 = np.linalg.pinv(R) @ r
        if not np.allclose(R @ theta0, r, atol=1e-8):
            raise SpecError("the equality constraints contradict each other; no parameter "
                            "values satisfy them all")
        reparam = Reparametrization(theta0, vt[rank:].T, rank)
    else:
        reparam = Reparametrization(np.zeros(nfree), np.eye(nfree), 0)
    if not general:
        return ConstraintSystem(reparam, None)
    general.sort(key=lambda item: item[0].op != "==")  # equalities first
    n_eq = sum(1 for s, _ in general if s.op == "==")
    gfuncs = tuple(f for _, f in general)
    base = np.array([f(to_ns(probe)) for f in gfuncs])
    used = np.array([k for k in range(nfree)
                     if np.any(np.array([f(to_ns(probe + 0.1 * eye[k])) for f in gfuncs])
                               != base)], dtype=int)
    gen = GeneralConstraints(
        statements=tuple(s for s, _ in general),
        n_eq=n_eq,
        funcs=gfuncs,
        to_ns=to_ns,
        reparam=reparam,
        used=used,
    )
    return ConstraintSystem(reparam, gen)


def equality_reparametrization(space: ExpressionSpace, nfree: int) -> Reparametrization:
    """Solve the linear ``==`` constraints into θ = θ₀ + N x, for estimators without a
    constrained optimiser (the WLS family).

    Raises:
        SpecError: inequality constraints, non-linear equality constraints, or contradictory
            ones.
    """
    system = constraint_system(space, nfree)
    if system.general is not None:
        s = system.general.statements[0]
        kind = "inequality" if s.op in ("<", ">") else "non-linear equality"
        raise SpecError(
            f"line {s.line}: {_statement_text(s)}: {kind} constraints are estimated by the "
            "ML family only (estimator='ML', 'MLM' or 'MLR'); with this estimator write "
            "the constraint linearly in the labels, or remove it"
        )
    return system.reparam
