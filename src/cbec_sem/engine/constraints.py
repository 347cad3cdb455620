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
    frame = partable.frame
    out: dict[str, int] = {}
    for pos, (label, plabel) in enumerate(zip(frame["label"], frame["plabel"])):
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

    @property
    def identity(self) -> bool:
        return self.n_constraints == 0

    def theta(self, x: np.ndarray) -> np.ndarray:
        return x if self.identity else self.theta0 + self.basis @ x

    def x(self, theta: np.ndarray) -> np.ndarray:
        return theta if self.identity else self.basis.T @ (theta - self.theta0)


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


def equality_reparametrization(space: ExpressionSpace, nfree: int) -> Reparametrization:
    """Solve the linear ``==`` constraints into θ = θ₀ + N x.

    Raises:
        SpecError: inequality constraints, non-linear equality constraints, or contradictory
            ones.
    """
    statements = space.partable.constraints
    for s in statements:
        if s.op in ("<", ">"):
            raise SpecError(
                f"line {s.line}: {s.source or s.lhs + ' ' + s.op + ' ' + s.rhs!r}: inequality "
                "constraints are not estimated yet; remove the line or use an equality"
            )
    if not statements:
        return Reparametrization(np.zeros(nfree), np.eye(nfree), 0)
    funcs = [space.compile_constraint(s) for s in statements]
    ram = space.ram

    def h(theta: np.ndarray) -> np.ndarray:
        ns = space.namespace(ram.row_values(theta))
        return np.array([f(ns) for f in funcs])

    h0 = h(np.zeros(nfree))
    R = np.column_stack([h(np.eye(nfree)[k]) - h0 for k in range(nfree)])
    probe = np.random.default_rng(0).normal(size=nfree)
    if not np.allclose(h(probe), R @ probe + h0, atol=1e-8):
        bad = [s for s, a, b in zip(statements, h(probe), R @ probe + h0) if abs(a - b) > 1e-8]
        s = bad[0]
        raise SpecError(
            f"line {s.line}: {s.source or s.lhs + ' == ' + s.rhs!r}: non-linear equality "
            "constraints are not supported yet; write the constraint linearly in the labels"
        )
    r = -h0
    u, sv, vt = np.linalg.svd(R)
    rank = int((sv > 1e-10 * max(1.0, sv.max() if sv.size else 1.0)).sum())
    theta0 = np.linalg.pinv(R) @ r
    if not np.allclose(R @ theta0, r, atol=1e-8):
        raise SpecError("the equality constraints contradict each other; no parameter values "
                        "satisfy them all")
    basis = vt[rank:].T
    return Reparametrization(theta0, basis, rank)
