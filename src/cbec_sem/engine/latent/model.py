"""The latent-interaction model shared by LMS and QML: parameter table, matrices, structure.

A :class:`LatentInteractionModel` is read from a :class:`~cbec_sem.specification.ModelSpec` (or lavaan
syntax) whose regressions may contain products of latent variables (``Y ~ X + Z + X:Z``).  It
has the form of Klein & Moosbrugger (2000), written for all latent variables L at once (so that
endogenous operands and higher-order outcomes need no special cases)::

    measurement:  x = ν + Λ L + ε,                 Cov(ε) = Θ
    structure:    L = α + B L + Ω p(L) + u,        Cov(u) = Ψ,  u ~ N(0, Ψ)
                  p_r(L) = L_{a(r)} · L_{b(r)}     (one entry per product term r)

For an exogenous latent variable ξ (nothing points at it) the "disturbance" u is ξ itself
(centred), so Ψ holds Φ = Cov(ξ) in its exogenous block and the residual (co)variances of the
endogenous latent variables in the rest.  B holds regressions among latent variables and the
loadings of higher-order factors (``SCI =~ VP`` is B[VP, SCI]); Ω[out(r), r] = ω_r is the
coefficient of product r.  With C = (I − B)⁻¹ (the model must be recursive)::

    L = C (α + u + Ω p).

Conventions (those of lavaan's ``sem()`` and of modsem's LMS/QML)
-----------------------------------------------------------------
* the first loading of every latent variable is fixed to 1 (unless fixed or freed by hand);
* every indicator has a free intercept ν and a free residual variance;
* latent intercepts and means α are fixed to 0 (``F ~ 1`` frees one);
* exogenous latent variables covary freely; latent outcomes that predict nothing have free
  residual covariances (lavaan's ``auto.cov.y``);
* a product is *not* centred: E[XZ] = Cov(X, Z) shifts the outcome's mean, which the free
  indicator intercepts absorb (as in modsem).

Which products LMS can integrate
--------------------------------
Every product operand must be a normal variable: a latent variable that is not itself
affected by any product term (directly or through B).  Then each operand is linear in u
(``o = C_o (α + u)``), and the operand's *sources* are the disturbances with a non-zero entry
in its row of C — for an exogenous operand itself, for an endogenous operand (``FA ~ TA``,
``SCI ~ TA:FA``) also its own residual ζ_FA.  LMS conditions on a set S of sources such that
every product has one operand that depends only on S; given u_S all latent variables are
normal (the other operand enters linearly), which is the idea of Klein & Moosbrugger (2000)
with Φ = AAᵀ replaced by the Cholesky factor of Cov(u_S).  The smallest such S is chosen
(for ``X:Z`` it is {X}, k = 1; for ``TA:FA`` with ``FA ~ TA`` it is {TA}: the endogenous
operand needs no extra dimension).  A product whose operand depends on another product (a
product of non-normal variables) is refused with a :class:`~cbec_sem.errors.SpecError`.

What is supported, and what is refused
--------------------------------------
Supported: any number of two-way products ``X:Z`` and quadratic terms ``X:X`` of latent
variables, in any recursive model whose product operands are normal (see above); exogenous
and endogenous operands; product outcomes that feed other latent variables, including
second-order outcomes (``SCI =~ VP + FO + IS`` with ``SCI ~ TA + FA + TA:FA``); fixed
values, start values, shared labels (equality), ``:=`` defined parameters (delta-method
standard errors), residual covariances.

Refused with a :class:`~cbec_sem.errors.SpecError` that says why: a product whose operand
depends on another product (use product indicators); three-way products; observed variables
in regressions (make them single-indicator latent variables); thresholds; ``==``/``<``/``>``
constraints; per-group modifiers (one group only); covariances between a latent variable and
an indicator.  QML also refuses a residual covariance between an indicator of a latent
variable affected by a product and one that is not (LMS allows it).

References
----------
Klein, A., & Moosbrugger, H. (2000). Maximum likelihood estimation of latent interaction
effects with the LMS method. *Psychometrika*, 65(4), 457–474.

Klein, A. G., & Muthén, B. O. (2007). Quasi-maximum likelihood estimation of structural
equation models with multiple interaction and quadratic effects. *Multivariate Behavioral
Research*, 42(4), 647–673.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ...errors import SpecError
from ..naming import parameter_name
from ..options import FitOptions
from ..partable import build_partable
from ...specification.model import ModelSpec
from ...specification.statements import Statement

__all__ = ["LatentInteractionModel", "Matrices", "Product", "as_interaction_model"]

#: Row kinds of the parameter table, in the order the matrices are listed.
KINDS = ("lambda", "beta", "omega", "theta", "psi", "nu", "alpha")

#: Order of operators in the parameter table shown to users (lavaan's parameterEstimates()).
_OP_ORDER = {"=~": 0, "~": 1, "~~": 2, "~1": 3}


@dataclass(frozen=True)
class Product:
    """One product term: ``outcome ~ left:right``.

    Attributes:
        outcome: the latent variable regressed on the product.
        left, right: the operands (equal for a quadratic term ``X:X``).
        fixed: the operand that depends only on the integrated sources (see the module
            docstring); LMS conditions on it.  Filled in by the model.
    """

    outcome: str
    left: str
    right: str
    fixed: str = ""

    @property
    def term(self) -> str:
        return f"{self.left}:{self.right}"

    @property
    def other(self) -> str:
        return self.right if self.fixed == self.left else self.left


@dataclass(frozen=True)
class Matrices:
    """The model matrices for a batch of parameter vectors (leading axis b).

    Shapes: nu (b, p), lam (b, p, m), theta (b, p, p), alpha (b, m), beta (b, m, m),
    psi (b, m, m), omega (b, m, R) with omega[:, out(r), r] = ω_r.  The dtype follows the
    parameter vector (complex for complex-step derivatives).
    """

    nu: np.ndarray
    lam: np.ndarray
    theta: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    psi: np.ndarray
    omega: np.ndarray

    @cached_property
    def C(self) -> np.ndarray:
        """(I − B)⁻¹, shape (b, m, m)."""
        m = self.beta.shape[-1]
        return np.linalg.inv(np.eye(m) - self.beta)


def as_interaction_model(model) -> LatentInteractionModel:
    """A :class:`LatentInteractionModel` from a model, a ModelSpec or lavaan syntax text."""
    if isinstance(model, LatentInteractionModel):
        return model
    return LatentInteractionModel(model)


class LatentInteractionModel:
    """A structural equation model with latent product terms, ready for LMS or QML.

    Args:
        spec: a :class:`~cbec_sem.specification.ModelSpec` or lavaan model syntax, e.g.
            ``"X =~ x1 + x2 + x3; Z =~ z1 + z2 + z3; Y =~ y1 + y2 + y3; Y ~ X + Z + X:Z"``.

    Attributes:
        spec: the specification.
        latent: latent variables, in order of first appearance.
        observed: the observed indicators (the data columns used), in order.
        exogenous, endogenous: latent variables by role.
        products: the product terms with a free or non-zero coefficient.
        nonlinear: the sources LMS integrates over (the set S of the module docstring).
        downstream: latent variables affected by a product term (directly or through B).
        partable: the engine's :class:`~cbec_sem.engine.partable.ParTable` of the model (the
            one table every estimator reads; product coefficients are rows ``Y ~ X:Z``).
        table: its rows with the matrix positions LMS/QML fill (``lhs, op, rhs, label, free,
            value, start, user, kind, i, j``; ``free`` is the 1-based index into the parameter
            vector, 0 for fixed rows).
        nfree: length of the parameter vector.

    Raises:
        SpecError: something LMS/QML cannot estimate, with the reason and the alternative.
    """

    def __init__(self, spec: ModelSpec | str) -> None:
        if isinstance(spec, str):
            spec = ModelSpec.from_lavaan(spec)
        if not isinstance(spec, ModelSpec):
            raise SpecError(
                "the model must be a ModelSpec or lavaan syntax text, not "
                f"{type(spec).__name__}"
            )
        self.spec = spec
        statements = tuple(s for s in spec.statements if not s.is_constraint)
        self.defined = tuple(s for s in spec.statements if s.op == ":=")
        for s in spec.statements:
            if s.op in ("==", "<", ">"):
                raise SpecError(
                    f"{_where(s)}: equality/inequality constraints are not available with "
                    "LMS/QML; use a shared label (a*x1 + a*x2) for an equality"
                )
        self.latent = spec.latent_variables
        if not self.latent:
            raise SpecError(
                "a latent-interaction model needs latent variables ('F =~ x1 + x2 + ...'); "
                "for observed variables only, regress on the product of the observed scores"
            )
        latent = set(self.latent)
        self.observed = tuple(
            dict.fromkeys(s.rhs for s in statements if s.op == "=~" and s.rhs not in latent)
        )
        self._check_statements(statements)
        self._build_table(statements)
        self._analyse_structure()

    # ------------------------------------------------------------------ validation

    def _check_statements(self, statements: tuple[Statement, ...]) -> None:
        latent = set(self.latent)
        observed = set(self.observed)
        for s in statements:
            at = _where(s)
            for mods in (s.fixed, s.labels, s.starts, s.free):
                if len(mods) > 1:
                    raise SpecError(
                        f"{at}: per-group modifiers (c(...)) are not available with LMS/QML, "
                        "which fit a single group; give one value"
                    )
            if s.op == "|":
                raise SpecError(
                    f"{at}: thresholds ('|') need an ordinal estimator; LMS/QML treat the "
                    "items as continuous (remove the thresholds)"
                )
            if s.op == "~":
                if s.lhs not in latent:
                    raise SpecError(
                        f"{at}: the outcome {s.lhs!r} is an observed variable; LMS/QML model "
                        f"latent outcomes: write it as a latent variable with its items "
                        f"('{s.lhs.upper()} =~ ...') or, for a single score, "
                        f"'{s.lhs.upper()} =~ {s.lhs}' with '{s.lhs} ~~ 0*{s.lhs}'"
                    )
                if s.rhs == "1":
                    continue
                parts = s.rhs.split(":")
                if len(parts) > 2:
                    raise SpecError(
                        f"{at}: the product {s.rhs!r} has {len(parts)} factors; LMS/QML "
                        "estimate two-way products (X:Z) and quadratic terms (X:X) only"
                    )
                for part in parts:
                    if part not in latent:
                        kind = "an observed variable" if part in observed else "not a variable"
                        raise SpecError(
                            f"{at}: the predictor {part!r} is {kind} of the measurement model; "
                            "LMS/QML regress latent variables on latent variables: measure it "
                            f"('{part.upper()} =~ item1 + item2 + ...'), or for a single "
                            f"observed score write '{part.upper()} =~ {part}' with "
                            f"'{part} ~~ 0*{part}'"
                        )
            if s.op == "~~":
                a_lat, b_lat = s.lhs in latent, s.rhs in latent
                if a_lat != b_lat:
                    raise SpecError(
                        f"{at}: a covariance between a latent variable and an observed "
                        "indicator is not part of an LMS/QML model"
                    )
                for name in (s.lhs, s.rhs):
                    if name not in latent and name not in observed:
                        raise SpecError(
                            f"{at}: {name!r} is neither a latent variable nor an indicator "
                            "of the model"
                        )
            if s.op == "~1" and s.lhs not in latent and s.lhs not in observed:
                raise SpecError(
                    f"{at}: {s.lhs!r} is neither a latent variable nor an indicator of the model"
                )

    # ------------------------------------------------------------------ table

    def _build_table(self, statements: tuple[Statement, ...]) -> None:
        """The parameter table, built by the engine's :func:`~cbec_sem.engine.partable.build_partable`
        (lavaan's ``sem()`` rules, with the mean structure) with the product coefficients as
        rows of their own, plus where each row goes in the LMS/QML matrices (``kind, i, j``)."""
        partable = build_partable(statements, FitOptions(meanstructure=True), products=True)
        t = partable.frame
        latent = set(self.latent)
        lat_index = {v: k for k, v in enumerate(self.latent)}
        obs_index = {v: k for k, v in enumerate(self.observed)}
        products: list[Product] = []
        kinds, first, second = [], [], []
        for lhs, op, rhs in zip(t["lhs"], t["op"], t["rhs"]):
            if op == "=~":
                kind = "beta" if rhs in latent else "lambda"
                i = lat_index[rhs] if rhs in latent else obs_index[rhs]
                kinds.append(kind), first.append(i), second.append(lat_index[lhs])
            elif op == "~" and ":" in rhs:
                # The coefficient is found through the product's position r.
                left, right = rhs.split(":")
                kinds.append("omega"), first.append(lat_index[lhs]), second.append(len(products))
                products.append(Product(lhs, left, right))
            elif op == "~":
                kinds.append("beta"), first.append(lat_index[lhs]), second.append(lat_index[rhs])
            elif op == "~~":
                if lhs in latent:
                    kinds.append("psi"), first.append(lat_index[lhs]), second.append(lat_index[rhs])
                else:
                    kinds.append("theta"), first.append(obs_index[lhs])
                    second.append(obs_index[rhs])
            else:  # "~1"
                if lhs in latent:
                    kinds.append("alpha"), first.append(lat_index[lhs]), second.append(-1)
                else:
                    kinds.append("nu"), first.append(obs_index[lhs]), second.append(-1)
        free = t["free"].to_numpy()
        ustart = t["ustart"].to_numpy(dtype=float)
        self.table = pd.DataFrame({
            "lhs": t["lhs"], "op": t["op"], "rhs": t["rhs"], "label": t["label"],
            "free": free,
            "value": np.where(free == 0, ustart, np.nan),
            "start": np.where(free > 0, ustart, np.nan),
            "user": t["user"].to_numpy() == 1,
            "kind": pd.Series(kinds, dtype=object),
            "i": np.asarray(first, dtype=int), "j": np.asarray(second, dtype=int),
        })
        self.partable = partable
        self.nfree = partable.nfree
        self.exogenous = partable.roles.lv_x
        self.endogenous = tuple(v for v in self.latent if v not in set(self.exogenous))
        self._all_products = tuple(products)

    # ------------------------------------------------------------------ structure

    def _analyse_structure(self) -> None:
        t = self.table
        m = len(self.latent)
        idx = {v: k for k, v in enumerate(self.latent)}
        # Structural pattern of B: free entries and fixed non-zero ones.
        pattern = np.zeros((m, m), dtype=bool)
        beta_rows = t[t["kind"] == "beta"]
        for i, j, f, v in zip(beta_rows["i"], beta_rows["j"], beta_rows["free"],
                              beta_rows["value"]):
            if f > 0 or (not np.isnan(v) and v != 0.0):
                pattern[i, j] = True
        order = _topological_order(pattern)
        if order is None:
            raise SpecError(
                "the structural model is not recursive (a latent variable depends on itself "
                "through a cycle of regressions); LMS/QML need a recursive model"
            )
        # reach[i, j]: L_i depends on u_j through C (including i == j).
        reach = np.eye(m, dtype=bool)
        for i in order:
            for j in np.flatnonzero(pattern[i]):
                reach[i] |= reach[j]
        self._reach = reach
        # Products with a free or non-zero coefficient are the model's nonlinear part.
        active: list[Product] = []
        omega_rows = t[t["kind"] == "omega"]
        for r, prod in enumerate(self._all_products):
            row = omega_rows[omega_rows["j"] == r].iloc[0]
            if row["free"] > 0 or row["value"] != 0.0:
                active.append(prod)
        # Latent variables affected by a product (the outcome and everything it feeds).
        down = np.zeros(m, dtype=bool)
        for prod in active:
            down |= reach[:, idx[prod.outcome]]
        self.downstream = tuple(v for k, v in enumerate(self.latent) if down[k])
        for prod in active:
            for operand in (prod.left, prod.right):
                if down[idx[operand]]:
                    cause = next(p for p in active if reach[idx[operand], idx[p.outcome]])
                    raise SpecError(
                        f"the product {prod.term} (in '{prod.outcome} ~ {prod.term}') has the "
                        f"operand {operand!r}, which itself depends on the interaction "
                        f"'{cause.outcome} ~ {cause.term}'; a product of non-normal latent "
                        "variables has no conditionally normal form, so LMS and QML cannot "
                        "estimate it. Use product indicators with double-mean-centring "
                        "(method='dblcent'), which can"
                    )
        # Choose the smallest set S of sources so that each product has an operand depending
        # only on S (Klein & Moosbrugger's z1; k = |S| quadrature dimensions).
        sources = {v: frozenset(np.flatnonzero(reach[idx[v]])) for v in self.latent}
        best: tuple[int, tuple[int, ...], frozenset] | None = None
        choices = itertools.product((0, 1), repeat=len(active)) if len(active) <= 14 else [
            tuple(0 for _ in active)]
        for choice in choices:
            s_set: frozenset = frozenset()
            for prod, c in zip(active, choice):
                s_set |= sources[prod.left if c == 0 else prod.right]
            if best is None or len(s_set) < best[0]:
                best = (len(s_set), choice, s_set)
        if best is None:
            self.products = ()
            self._nonlinear_idx = np.zeros(0, dtype=int)
        else:
            _, choice, s_set = best
            self.products = tuple(
                Product(p.outcome, p.left, p.right, p.left if c == 0 else p.right)
                for p, c in zip(active, choice)
            )
            # Keep the model's order of latent variables within S.
            self._nonlinear_idx = np.array(sorted(s_set), dtype=int)
        self.nonlinear = tuple(self.latent[k] for k in self._nonlinear_idx)
        self._layout()

    def _layout(self) -> None:
        t = self.table
        self._free_rows = np.flatnonzero(t["free"].to_numpy() > 0)
        self._free_param = t["free"].to_numpy()[self._free_rows] - 1
        self._base = t["value"].to_numpy(dtype=float).copy()
        self._base[np.isnan(self._base)] = 0.0
        kind = t["kind"].to_numpy()
        self._rows = {k: np.flatnonzero(kind == k) for k in KINDS}
        self._ij = {k: (t["i"].to_numpy()[r].astype(int), t["j"].to_numpy()[r].astype(int))
                    for k, r in self._rows.items()}
        # Products' positions among the active products, their outcome and operands.
        active_terms = {(p.outcome, p.term): r for r, p in enumerate(self.products)}
        omega_rows = self._rows["omega"]
        self._omega_active = np.array(
            [active_terms.get((t["lhs"].iat[r], t["rhs"].iat[r]), -1) for r in omega_rows],
            dtype=int)
        idx = {v: k for k, v in enumerate(self.latent)}
        self._prod_out = np.array([idx[p.outcome] for p in self.products], dtype=int)
        self._prod_fixed = np.array([idx[p.fixed] for p in self.products], dtype=int)
        self._prod_other = np.array([idx[p.other] for p in self.products], dtype=int)
        self._prod_left = np.array([idx[p.left] for p in self.products], dtype=int)
        self._prod_right = np.array([idx[p.right] for p in self.products], dtype=int)

    # ------------------------------------------------------------------ views

    @property
    def k(self) -> int:
        """Number of quadrature dimensions LMS integrates over."""
        return len(self.nonlinear)

    @property
    def p(self) -> int:
        return len(self.observed)

    @property
    def m(self) -> int:
        return len(self.latent)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """One name per free parameter: its first row, named by
        :func:`cbec_sem.engine.naming.parameter_name` (as ``res.vcov`` of every fit)."""
        names = [""] * self.nfree
        t = self.table
        for r in self._free_rows:
            k = t["free"].iat[r] - 1
            if not names[k]:
                names[k] = parameter_name(t["lhs"].iat[r], t["op"].iat[r], t["rhs"].iat[r])
        return tuple(names)

    def without_interactions(self) -> LatentInteractionModel:
        """The same model with every product coefficient fixed to 0 (the main-effects model,
        nested in this one: the null model of the likelihood-ratio test)."""
        statements = []
        for s in self.spec.statements:
            if s.op == "~" and ":" in s.rhs:
                # Keep the label: a ':=' expression may use it (it is then 0).
                statements.append(Statement(s.lhs, s.op, s.rhs, fixed=(0.0,), labels=s.labels,
                                            line=s.line, source=s.source))
            else:
                statements.append(s)
        return LatentInteractionModel(ModelSpec(tuple(statements)))

    def describe(self) -> str:
        """A few lines on the model's structure: products, integrated sources, blocks."""
        lines = [
            f"latent variables: {', '.join(self.latent)} "
            f"(exogenous: {', '.join(self.exogenous) or 'none'})",
            "product terms: " + (", ".join(f"{p.outcome} ~ {p.term}" for p in self.products)
                                  or "none"),
            f"LMS integrates over {self.k} dimension(s): "
            + (", ".join(self._source_name(k) for k in self._nonlinear_idx) or "none"),
            f"free parameters: {self.nfree}",
        ]
        return "\n".join(lines)

    def _source_name(self, k: int) -> str:
        v = self.latent[k]
        return v if v in self.exogenous else f"ζ_{v} (residual of {v})"

    # ------------------------------------------------------------------ numbers

    def start_vector(self) -> np.ndarray:
        """The user's start() values where given, NaN elsewhere (one entry per parameter)."""
        out = np.full(self.nfree, np.nan)
        t = self.table
        for r in self._free_rows:
            v = t["start"].iat[r]
            if not np.isnan(v):
                out[t["free"].iat[r] - 1] = v
        return out

    def row_values(self, theta: np.ndarray) -> np.ndarray:
        """Every table row's value for a batch of parameter vectors: (b, nrows)."""
        theta = np.atleast_2d(theta)
        values = np.broadcast_to(self._base, (theta.shape[0], len(self._base))).astype(
            theta.dtype)
        values[:, self._free_rows] = theta[:, self._free_param]
        return values

    def matrices(self, theta: np.ndarray) -> Matrices:
        """Model matrices for a parameter vector (q,) or a batch (b, q)."""
        values = self.row_values(theta)
        b = values.shape[0]
        p, m, R = self.p, self.m, len(self.products)
        dt = values.dtype

        def fill(shape, kind, sym=False):
            out = np.zeros((b,) + shape, dtype=dt)
            rows = self._rows[kind]
            if rows.size:
                i, j = self._ij[kind]
                if len(shape) == 1:
                    out[:, i] = values[:, rows]
                else:
                    out[:, i, j] = values[:, rows]
                    if sym:
                        out[:, j, i] = values[:, rows]
            return out

        nu = fill((p,), "nu")
        alpha = fill((m,), "alpha")
        lam = fill((p, m), "lambda")
        beta = fill((m, m), "beta")
        theta_m = fill((p, p), "theta", sym=True)
        psi = fill((m, m), "psi", sym=True)
        omega = np.zeros((b, m, R), dtype=dt)
        rows = self._rows["omega"]
        keep = self._omega_active >= 0
        if keep.any():
            r_act = self._omega_active[keep]
            omega[:, self._prod_out[r_act], r_act] = values[:, rows[keep]]
        return Matrices(nu=nu, lam=lam, theta=theta_m, alpha=alpha, beta=beta, psi=psi,
                        omega=omega)

    def conditional_moments(
        self, theta: np.ndarray, nodes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean (b, J, p) and covariance (b, J, p, p) of the indicators given the integrated
        sources at each node: ν + Λ E[L|z₁] and Λ Cov(L|z₁) Λᵀ + Θ (see
        :meth:`conditional_latent_moments`)."""
        M = self.matrices(theta)
        mean_L, cov_L = self.conditional_latent_moments(M, nodes)
        mu = M.nu[:, None, :] + np.einsum("bpm,bjm->bjp", M.lam, mean_L)
        lam = M.lam[:, None]
        sigma = lam @ cov_L @ np.swapaxes(lam, -1, -2) + M.theta[:, None]
        return mu, sigma

    def conditional_latent_moments(
        self, M: Matrices, nodes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean (b, J, m) and covariance (b, J, m, m) of the latent variables given the
        integrated standard-normal sources z₁ at each node (``nodes``: (J, k)).

        With u_S = A₁₁ z₁ (A₁₁ the Cholesky factor of Cov(u_S)), the sources are
        u = A₁ z₁ + e with A₁ = Cov(u, u_S) A₁₁⁻ᵀ and e ~ N(0, V), V = Ψ − A₁A₁ᵀ.  Each product
        is o_f(z₁)·(o_g⁰(z₁) + C_g e), so L | z₁ = C(α + A₁z₁ + Ω p⁰) + C(I + Ω P₁(z₁)) e with
        row r of P₁ equal to o_f(z₁)·C_g.  Works on complex batches (complex-step derivatives).
        """
        C = M.C
        b, m = C.shape[0], self.m
        S = self._nonlinear_idx
        k = S.size
        J = nodes.shape[0]
        psi = M.psi
        if k:
            A11 = _cholesky_small(psi[:, S][:, :, S])
            A1 = _right_solve_lower_t(psi[:, :, S], A11)  # Cov(u, u_S) A11^-T, (b, m, k)
            V = psi - A1 @ np.swapaxes(A1, 1, 2)
            base = M.alpha[:, None, :] + np.einsum("jk,bmk->bjm", nodes, A1)
        else:
            V = psi
            base = np.broadcast_to(M.alpha[:, None, :], (b, J, m))
        lin = np.einsum("bmn,bjn->bjm", C, base)  # latent means ignoring products
        if len(self.products):
            o_f = lin[:, :, self._prod_fixed]  # (b, J, R)
            p0 = o_f * lin[:, :, self._prod_other]
            Cg = C[:, self._prod_other, :]  # (b, R, m)
            om = M.omega  # (b, m, R)
            COm = C @ om  # (b, m, R)
            mean_L = lin + p0 @ np.swapaxes(COm, 1, 2)
            # C (I + Ω P1(z1)) = C + Σ_r o_f,r(z1) (C Ω)[:, r] C_g[r]
            T = C[:, None] + (COm[:, None] * o_f[:, :, None, :]) @ Cg[:, None]
            cov_L = T @ V[:, None] @ np.swapaxes(T, -1, -2)
        else:
            mean_L = lin
            cov_L = np.broadcast_to((C @ V @ np.swapaxes(C, -1, -2))[:, None], (b, J, m, m))
        return mean_L, cov_L

    def lowrank_latent_pieces(self, M: Matrices, nodes: np.ndarray):
        """The node covariances in the form Σ_j = Σ₀ + U M_j Uᵀ with a node-independent U.

        With T_j = C + CΩ diag(o_f(z_j)) C_g (see :meth:`conditional_latent_moments`), group
        the products by outcome y and by non-integrated operand g: ΛT_j = ΛC + D Z_j G' with
        D = ΛC[:, outcomes], G' the distinct rows C_g, and Z_j[y, g] = Σ_r ω_r o_f,r(z_j).  Then

            Σ_j = Σ₀ + [D F] [[Z_j W Z_jᵀ, Z_j], [Z_jᵀ, 0]] [D F]ᵀ,
            Σ₀ = ΛCVCᵀΛᵀ + Θ,  F = ΛCVG'ᵀ,  W = G'VG'ᵀ.

        Returns, at the latent level (multiply by Λ for the indicators): the conditional
        means (b, J, m), S_C = CVCᵀ (b, m, m), U_lat = [C[:, outcomes], CVG'ᵀ] (b, m, s) and
        M_j (b, J, s, s).  Operands g that depend only on the integrated sources have
        C_g V = 0 and are left out.
        """
        C = M.C
        b = C.shape[0]
        S = self._nonlinear_idx
        psi = M.psi
        if S.size:
            A11 = _cholesky_small(psi[:, S][:, :, S])
            A1 = _right_solve_lower_t(psi[:, :, S], A11)
            V = psi - A1 @ np.swapaxes(A1, 1, 2)
            base = M.alpha[:, None, :] + np.einsum("jk,bmk->bjm", nodes, A1)
        else:
            V = psi
            base = np.broadcast_to(M.alpha[:, None, :], (b, nodes.shape[0], self.m))
        lin = np.einsum("bmn,bjn->bjm", C, base)
        o_f = lin[:, :, self._prod_fixed]  # (b, J, R)
        mean_L = lin + (o_f * lin[:, :, self._prod_other]) @ np.swapaxes(C @ M.omega, 1, 2)
        outs, others = self._lowrank_groups
        CV = C @ V
        S_C = CV @ np.swapaxes(C, 1, 2)
        Gp = C[:, others, :]  # (b, n_g, m)
        U_lat = np.concatenate([C[:, :, outs], CV @ np.swapaxes(Gp, 1, 2)], axis=2)
        W = Gp @ V @ np.swapaxes(Gp, 1, 2)
        # Z_j[y, g] = Σ_r ω_r o_f,r(z_j) over the products r with outcome y and operand g
        omega = M.omega[:, self._prod_out, np.arange(len(self.products))]  # (b, R)
        coef = o_f * omega[:, None, :]
        J = nodes.shape[0]
        n_o, n_g = len(outs), len(others)
        Z = np.zeros((b, J, n_o, n_g), dtype=coef.dtype)
        for r, (yo, go) in enumerate(self._lowrank_pos):
            if go >= 0:
                Z[:, :, yo, go] += coef[:, :, r]
        ZW = Z @ W[:, None]
        top = np.concatenate([ZW @ np.swapaxes(Z, -1, -2), Z], axis=-1)
        bottom = np.concatenate([np.swapaxes(Z, -1, -2),
                                 np.zeros((b, J, n_g, n_g), dtype=Z.dtype)], axis=-1)
        Mj = np.concatenate([top, bottom], axis=-2)
        return mean_L, S_C, U_lat, Mj

    @cached_property
    def _lowrank_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct product outcomes, and distinct non-integrated operands (latent indices)."""
        S = set(self._nonlinear_idx.tolist())
        outs = list(dict.fromkeys(self._prod_out.tolist()))
        others = [g for g in dict.fromkeys(self._prod_other.tolist())
                  if not set(np.flatnonzero(self._reach[g]).tolist()) <= S]
        return np.array(outs, dtype=int), np.array(others, dtype=int)

    @cached_property
    def _lowrank_pos(self) -> list[tuple[int, int]]:
        outs, others = self._lowrank_groups
        out_pos = {v: k for k, v in enumerate(outs.tolist())}
        other_pos = {v: k for k, v in enumerate(others.tolist())}
        return [(out_pos[o], other_pos.get(g, -1))
                for o, g in zip(self._prod_out.tolist(), self._prod_other.tolist())]

    def parameters_of(self, kinds: tuple[str, ...]) -> np.ndarray:
        """0-based indices of the free parameters that appear in rows of the given kinds."""
        t = self.table
        mask = t["kind"].isin(kinds).to_numpy() & (t["free"].to_numpy() > 0)
        return np.unique(t["free"].to_numpy()[mask] - 1)

    def latent_moments(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Model-implied means and covariance matrix of the latent variables (exact).

        With o = C_o(α + u) the operands (normal, mean μ_o, covariance W = C Ψ Cᵀ), Isserlis'
        theorem gives E[p_r] = μ_aμ_b + W_ab, Cov(u, p_r) = Ψ(c_aᵀμ_b + c_bᵀμ_a) and
        Cov(p_r, p_s) = μ_aμ_c W_bd + μ_aμ_d W_bc + μ_bμ_c W_ad + μ_bμ_d W_ac + W_ac W_bd
        + W_ad W_bc; then Cov(L) = C [Ψ + ΩK + KᵀΩᵀ + Ω Cov(p) Ωᵀ] Cᵀ with K = Cov(p, u).
        """
        M = self.matrices(np.asarray(theta, dtype=float))
        C, psi, alpha, om = M.C[0], M.psi[0], M.alpha[0], M.omega[0]
        mu_lin = C @ alpha
        W = C @ psi @ C.T
        a, bb = self._prod_left, self._prod_right
        R = a.size
        if R == 0:
            return mu_lin, W
        ma, mb = mu_lin[a], mu_lin[bb]
        Ep = ma * mb + W[a, bb]
        K = (C[bb] @ psi) * ma[:, None] + (C[a] @ psi) * mb[:, None]  # Cov(p, u): (R, m)
        cov_p = (np.outer(ma, ma) * W[np.ix_(bb, bb)] + np.outer(ma, mb) * W[np.ix_(bb, a)]
                 + np.outer(mb, ma) * W[np.ix_(a, bb)] + np.outer(mb, mb) * W[np.ix_(a, a)]
                 + W[np.ix_(a, a)] * W[np.ix_(bb, bb)] + W[np.ix_(a, bb)] * W[np.ix_(bb, a)])
        inner = psi + om @ K + K.T @ om.T + om @ cov_p @ om.T
        mean = C @ (alpha + om @ Ep)
        return mean, C @ inner @ C.T

    def user_order(self) -> np.ndarray:
        """Row positions of the table in lavaan's parameterEstimates() order."""
        t = self.table
        op_rank = t["op"].map(_OP_ORDER).to_numpy()
        return np.lexsort((np.arange(len(t)), op_rank))


# ---------------------------------------------------------------------------------- helpers


def _where(s: Statement) -> str:
    text = s.source.strip() or f"{s.lhs} {s.op} {s.rhs}".strip()
    return f"'{text}'" + (f" (line {s.line})" if s.line else "")


def _topological_order(pattern: np.ndarray) -> list[int] | None:
    """Order of the latent variables so that parents come first; None when cyclic."""
    m = pattern.shape[0]
    remaining = set(range(m))
    order: list[int] = []
    while remaining:
        ready = [i for i in sorted(remaining)
                 if not any(pattern[i, j] and j in remaining and j != i for j in range(m))]
        if not ready or any(pattern[i, i] for i in ready):
            return None
        order.extend(ready)
        remaining -= set(ready)
    return order


def _cholesky_small(S: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of a batch (b, k, k) without conjugation, so that it is
    holomorphic and complex-step derivatives go through it (k is small)."""
    k = S.shape[-1]
    L = np.zeros_like(S)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(k):
            d = S[:, j, j] - np.sum(L[:, j, :j] ** 2, axis=-1)
            L[:, j, j] = np.sqrt(d)
            for i in range(j + 1, k):
                L[:, i, j] = (S[:, i, j] - np.sum(L[:, i, :j] * L[:, j, :j], axis=-1)) / L[:, j, j]
    return L


def _right_solve_lower_t(B: np.ndarray, L: np.ndarray) -> np.ndarray:
    """B L⁻ᵀ for a batch: B (b, m, k), L (b, k, k) lower triangular (forward substitution)."""
    k = L.shape[-1]
    X = np.zeros_like(B)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(k):
            X[:, :, j] = (B[:, :, j] - np.einsum("bmi,bi->bm", X[:, :, :j], L[:, j, :j])) / L[
                :, None, j, j]
    return X
