"""Modification indices: lavaan's ``modindices()``, the univariate score test of every
parameter the model leaves fixed or out.

For a fitted model with free parameters θ̂ and a candidate parameter φ fixed at φ₀ (zero for a
parameter the model leaves out), the score test of freeing φ is (Sörbom 1989, *Psychometrika*
54, 371–384; Saris, Satorra & Sörbom 1987, *Sociol. Methodol.* 17, 105–129)

    MI = N · g² / v,    v = I_φφ − I_φθ I_θθ⁻¹ I_θφ,
    EPC = −g / v,

where g = ∂F/∂φ is the gradient of the ML fit function (F = χ²/(2N), the engine's scale) at
(θ̂, φ₀) and I the expected (Fisher) information per observation of the model extended by all
candidates at once, so one information matrix serves every candidate: v is the diagonal of the
Schur complement of the free block.  The MI is the χ²(1) statistic (Lagrange multiplier test)
for freeing φ alone; the EPC is the one-step change of φ that freeing it would bring (lavaan
reports both with these signs: a positive EPC means the parameter would become positive).

What lavaan does, and what this module mirrors (read from lavaan 0.6's ``modindices()``,
``lav_partable_full()``, ``lav_object_extended()`` and ``lav_standardize_*()``):

* **Candidates** (per group): every parameter of the fitted table that is fixed — marker
  loadings, fixed variances, fixed latent means, fixed-x moments, user-fixed values — plus the
  rows of lavaan's "full" table that the model lacks: loadings of every latent variable on
  every observed variable that is not a fixed-x covariate and does not appear in a regression;
  (residual) covariances among those observed variables (excluding observed variables that
  are neither indicators nor in regressions), and among the fixed-x covariates; all
  covariances among latent variables; regressions among the variables that appear in ``~``
  statements (both directions, no self-loops, no ``indicator ~ latent``); intercepts and means
  when the model has a mean structure.  A candidate whose v falls below ε^⅓ (≈ 6·10⁻⁶) is not
  identified when freed (a marker loading, a fixed latent mean, a reversed path that makes a
  non-recursive loop); lavaan gives it NA and drops it (``na.remove = TRUE``), and so do we.
* **Information**: the expected information, whatever the fit used for its standard errors
  (lavaan: "ALWAYS use *expected* information"), evaluated at the model-implied moments.  With
  fixed-x covariates the rows and columns of the saturated information that belong to the
  covariates' own moments are zero (``lav_mvnorm_information_expected(x.idx = ...)``), so a
  candidate that only moves the covariates' marginal distribution carries no information.
* **Equality constraints** (shared labels, ``group_equal``, ``==``): the free block is the
  constrained one (θ = θ₀ + N x; lavaan inverts the augmented information, which is the same
  thing); releasing a constraint is *not* a candidate here (lavaan says so too and points to
  ``lavTestScore()``).
* **Standardised EPCs** (``cov.std = TRUE``): ``sepc.lv`` scales by the model-implied latent
  standard deviations (a loading × sd(factor); a regression × sd(x)/sd(y) over latent ends);
  ``sepc.all`` also by the model-implied observed standard deviations; ``sepc.nox`` like
  ``sepc.all`` but leaves fixed-x covariates in their raw metric.  A covariance EPC is divided
  by the square roots of the two *residual* variance estimates (a residual correlation), a
  latent covariance in ``sepc.lv`` already.  For a variance candidate lavaan standardises the
  current estimate instead of the EPC and keeps the EPC's sign.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import linalg

from ..engine.threads import blas_one_thread
from ..engine.partable import PARAMETER_OPS, ParTable, variable_roles
from ..engine.ram import RamModel
from ..engine.work_limits import MODINDICES_WORK_LIMIT, check_modindices_work
from ..errors import ConvergenceWarning, EstimationError, SpecError

#: lavaan's threshold below which the Schur complement counts as zero (candidate not
#: identified when freed): ``.Machine$double.eps^(1/3)``.
V_TOLERANCE = np.finfo(float).eps ** (1.0 / 3.0)

#: lavaan's threshold below which a variance EPC counts as zero in the standardised EPCs.
SMALL_VARIANCE = np.sqrt(np.finfo(float).eps)

COLUMNS = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox",
           "admissible"]


# ---------------------------------------------------------------------------- candidates

def _unique(seq) -> list:
    return list(dict.fromkeys(seq))


def _key(lhs: str, op: str, rhs: str) -> tuple[str, str, str]:
    if op == "~~" and rhs < lhs:
        return (rhs, op, lhs)
    return (lhs, op, rhs)


def _full_rows(frame: pd.DataFrame, roles, ov_x: Sequence[str], group: int,
               meanstructure: bool) -> list[tuple[str, str, str]]:
    """lavaan's ``lav_partable_full()`` rows of one group (``strict.exo = FALSE``)."""
    in_g = frame[frame["group"] == group]
    reg = in_g[in_g["op"] == "~"]
    eqs = _unique(list(reg["lhs"]) + list(reg["rhs"]))
    lv = list(roles.latent)
    ov = list(roles.observed)
    ov_x = [v for v in ov if v in set(ov_x)]
    ov_nox = [v for v in ov if v not in set(ov_x)]
    latent = set(lv)
    ov_ind = _unique(v for items in roles.indicators.values() for v in items if v not in latent)
    rows: list[tuple[str, str, str]] = []
    # 1. loadings: every latent on every non-x observed variable not in a regression
    eqs_set = set(eqs)
    rows += [(f, "=~", x) for f in lv for x in ov_nox if x not in eqs_set]
    # 2a. (residual) covariances among non-x observed variables (lower triangle with
    #     diagonal), minus those involving "other" observed variables
    other = {v for v in ov if v not in set(ov_ind) | set(ov_x) | eqs_set}
    pairs = [(ov_nox[j], ov_nox[i]) for j in range(len(ov_nox)) for i in range(j, len(ov_nox))]
    rows += [(a, "~~", b) for a, b in pairs if a not in other and b not in other]
    # 2a'. the fixed-x block
    rows += [(ov_x[j], "~~", ov_x[i]) for j in range(len(ov_x)) for i in range(j, len(ov_x))]
    # 2b. latent (co)variances
    rows += [(lv[j], "~~", lv[i]) for j in range(len(lv)) for i in range(j, len(lv))]
    # 3. regressions among the variables of the structural equations
    rows += [
        (y, "~", x) for y in eqs for x in eqs
        if x != y and not (y in set(ov_ind) and x in latent)
    ]
    # 4. intercepts and means
    if meanstructure:
        rows += [(v, "~1", "") for v in ov + lv]
    return rows


def _extended_table(est, ov_x_all: Sequence[str]) -> tuple[ParTable, np.ndarray, np.ndarray]:
    """The fitted table with every candidate appended as a free parameter.

    Returns the extended table, the positions (into it) of the candidate rows, and the value
    of every candidate at the fitted solution (its fixed value; 0 for new rows).
    """
    pt = est.partable
    frame = pt.frame
    q = pt.nfree
    base = frame[["lhs", "op", "rhs", "group", "free", "ustart", "exo", "label"]].copy()
    base = base.reset_index(drop=True)
    base["ustart"] = est.ram.base_values
    values = est.ram.row_values(est.theta)
    ops = base["op"].to_numpy()
    fixed = np.flatnonzero((base["free"].to_numpy() == 0) & np.isin(ops, PARAMETER_OPS))
    next_free = q + 1
    free_col = base["free"].to_numpy().copy()
    for pos in fixed:
        free_col[pos] = next_free
        next_free += 1
    base["free"] = free_col
    cand_pos = list(fixed)
    cand_val = list(values[fixed])
    present = {
        (g, _key(a, o, b))
        for g, a, o, b in zip(base["group"], base["lhs"], base["op"], base["rhs"])
    }
    new: list[dict] = []
    for g in range(1, pt.ngroups + 1):
        for lhs, op, rhs in _full_rows(frame, pt.roles, ov_x_all, g, pt.meanstructure):
            k = (g, _key(lhs, op, rhs))
            if k in present:
                continue
            present.add(k)
            new.append(dict(lhs=lhs, op=op, rhs=rhs, group=g, free=next_free, ustart=0.0,
                            exo=0, label=""))
            cand_pos.append(len(base) + len(new) - 1)
            cand_val.append(0.0)
            next_free += 1
    if new:
        extra = pd.DataFrame(new)
        for col in ("lhs", "op", "rhs", "label"):
            extra[col] = extra[col].astype(object)
        base = pd.concat([base, extra], ignore_index=True)
    ext = replace(pt, frame=base, nfree=next_free - 1, constraints=(), defined=())
    return ext, np.asarray(cand_pos, dtype=int), np.asarray(cand_val, dtype=float)


# ------------------------------------------------------------------- score and information

#: Candidates whose I_θφ columns are formed (and solved against I_θθ) at a time: the
#: q × candidates block of 44 constructs of 3 items (1,210 × 15,000, 145 MB) was formed whole,
#: with four gathered temporaries as large; 256 columns keep every temporary in cache.
CANDIDATE_BLOCK = 256


class _Information:
    """Gradient of F (every parameter) and the blocks of the expected information (per
    observation, group-weighted) of the extended model at ``theta`` that the score tests
    read: I_θθ (the q free parameters), the diagonal of I_φφ, and I_θφ (q × candidates) in
    blocks of candidates (:meth:`block`).

    Derivatives are rank-2 (dΣ = u vᵀ + v uᵀ, see :mod:`cbec_sem.engine.ram`); with fixed-x
    covariates the covariate block of each dΣ is removed, which keeps the form: dΣ' =
    u vᵀ + v uᵀ − ũ ṽᵀ − ṽ ũᵀ with ũ, ṽ the covariate rows of u, v.  For two such sums
    ½ tr(K dΣ_a K dΣ_b) = Σ_s,t (v_asᵀ K u_bt)(u_asᵀ K v_bt) + (u_asᵀ K u_bt)(v_asᵀ K v_bt).
    Only the diagonal of the candidates' block is formed: 44 constructs of 3 items have
    about 15,000 candidates, whose full block (1.8 GB) took 30 s.
    """

    def __init__(self, ram: RamModel, theta: np.ndarray, est, x_index: np.ndarray, q: int):
        stats = est.stats
        weights = np.asarray(stats.nobs, dtype=float) / float(stats.ntotal)
        nfree = ram.nfree
        self.q, self.ncand = q, nfree - q
        grad = np.zeros(nfree)
        i_qq = np.zeros((q, q))
        d_cc = np.zeros(nfree - q)
        meanstructure = est.meanstructure
        self._groups = []
        for g, mom in enumerate(ram.moments(theta)):
            try:
                K = np.linalg.inv(mom.sigma)
            except np.linalg.LinAlgError as exc:  # pragma: no cover - the fit was PD
                raise EstimationError(
                    "the model-implied covariance matrix is singular at the solution, so "
                    "modification indices cannot be computed"
                ) from exc
            K = 0.5 * (K + K.T)
            S = stats.covs[g]
            d = stats.means[g] - mom.mu if meanstructure else np.zeros(ram.p)
            kd = K @ d
            U, V, D = ram.derivative_factors(mom, g)
            params = ram.layouts[g].free_param
            W = 0.5 * (K - K @ (S + np.outer(d, d)) @ K)
            row_grad = 2.0 * np.einsum("pr,pr->r", U, W @ V)
            if meanstructure:
                row_grad -= D.T @ kd
            # u_k = Z[:, u[k]], v_k = Z[:, v[k]] (engine/ram.DerivativeIndex); the fixed-x
            # pair is (−E_x u, E_x v), E_x the covariates' rows: every product below is an
            # entry of M_ab = Zᵀ E_a K E_b Z, gathered (c ≤ 2n columns) instead of formed as
            # q × p × φ
            idx = ram.derivative_index[g]
            Z = ram.derivative_columns(mom, g)
            sides = [(Z, 1.0)]
            if x_index.size:
                Zx = np.zeros_like(Z)
                Zx[x_index] = Z[x_index]
                sides.append((Zx, -1.0))
                D = D.copy()
                D[x_index] = 0.0
            free = params < q
            t, c = np.flatnonzero(free), np.flatnonzero(~free)
            t = t[np.argsort(params[t], kind="stable")]  # rows of I_θφ in parameter order
            ut, vt, uc, vc = idx.u[t], idx.v[t], idx.u[c], idx.v[c]
            rows_tt = np.zeros((t.size, t.size))
            diag_c = np.zeros(c.size)
            products = []
            for Za, sa in sides:
                for Zb, sb in sides:
                    M = Za.T @ K @ Zb
                    sign = sa * sb
                    Mu, Mv = M.take(ut, axis=0), M.take(vt, axis=0)
                    rows_tt += _pair_products(Mu, Mv, ut, vt, sign)
                    products.append((Mu, Mv, sign))
                    diag_c += sign * (M[vc, uc] * M[uc, vc] + M[uc, uc] * M[vc, vc])
            KD = None
            if meanstructure:
                KD = K @ D
                rows_tt += D[:, t].T @ KD[:, t]
                diag_c += np.einsum("pc,pc->c", D[:, c], KD[:, c])
            np.add.at(grad, params, weights[g] * row_grad)
            np.add.at(i_qq, np.ix_(params[t], params[t]), weights[g] * rows_tt)
            # each candidate is one entry of one group (its own parameter), so the diagonal
            # of its block is its entry's
            cand = params[c] - q
            np.add.at(d_cc, cand, weights[g] * diag_c)
            order = np.argsort(cand, kind="stable")
            rows = params[t]
            self._groups.append(dict(
                weight=weights[g], products=products, uc=uc, vc=vc, c=c, cand=cand,
                order=order, sorted=cand[order], rows=rows,
                unique=np.unique(rows).size == t.size,
                every_row=rows.size == q and bool(np.all(rows == np.arange(q))),
                Dt=D[:, t] if meanstructure else None, KD=KD))
        self.grad = grad
        self.i_qq = 0.5 * (i_qq + i_qq.T)
        self.d_cc = d_cc

    def block(self, lo: int, hi: int) -> np.ndarray:
        """I_θφ for the candidates ``lo`` … ``hi − 1`` (numbered from 0 after the q free
        parameters): q × (hi − lo)."""
        out = np.zeros((self.q, hi - lo))
        for grp in self._groups:
            a, b = np.searchsorted(grp["sorted"], [lo, hi])
            sel = grp["order"][a:b]
            if not sel.size:
                continue
            uc, vc = grp["uc"][sel], grp["vc"][sel]
            rows_tc = None
            for Mu, Mv, sign in grp["products"]:
                term = _pair_products(Mu, Mv, uc, vc, sign)
                rows_tc = term if rows_tc is None else rows_tc + term
            if grp["KD"] is not None:
                rows_tc += grp["Dt"].T @ grp["KD"][:, grp["c"][sel]]
            rows_tc *= grp["weight"]
            cols = grp["cand"][sel] - lo
            if grp["every_row"] and sel.size == hi - lo:
                # one entry per parameter and per candidate of the block, both in order
                # (sel is sorted by candidate): the block itself, no scatter
                out += rows_tc
            elif grp["unique"]:  # no shared labels: a plain scatter
                out[np.ix_(grp["rows"], cols)] += rows_tc
            else:
                np.add.at(out, np.ix_(grp["rows"], cols), rows_tc)
        return out


def _pair_products(Mu: np.ndarray, Mv: np.ndarray, cols_u: np.ndarray, cols_v: np.ndarray,
                   sign: float) -> np.ndarray:
    """sign · (M[v_s, u_t] M[u_s, v_t] + M[u_s, u_t] M[v_s, v_t]) for the rows s gathered in
    ``Mu`` = M[u_s, :], ``Mv`` = M[v_s, :] and the columns t given by ``cols_u``, ``cols_v``."""
    term = Mv.take(cols_u, axis=1)
    term *= Mu.take(cols_v, axis=1)
    other = Mu.take(cols_u, axis=1)
    other *= Mv.take(cols_v, axis=1)
    term += other
    if sign < 0:
        term *= -1.0
    return term


def _score_and_information(
    ram: RamModel, theta: np.ndarray, est, x_index: np.ndarray, q: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradient of F, I_θθ, the whole I_θφ (q × candidates) and the diagonal of I_φφ
    (:class:`_Information`, its blocks put together)."""
    info = _Information(ram, theta, est, x_index, q)
    return info.grad, info.i_qq, info.block(0, info.ncand), info.d_cc


# --------------------------------------------------------------------------- standardising

def _standardized_epc(ext: ParTable, ext_values: np.ndarray, est, cand_pos: np.ndarray,
                      epc: np.ndarray, ov_x: set[str]) -> dict[str, np.ndarray]:
    """``sepc.lv``, ``sepc.all`` and ``sepc.nox`` as lavaan's ``lav_standardize_*()`` give
    them for the candidate rows (model-implied standard deviations of the fitted model)."""
    frame = ext.frame
    ram = est.ram
    values = ram.row_values(est.theta)
    index = {v: k for k, v in enumerate(ram.variables)}
    latent = set(ram.latent)
    lhs = frame["lhs"].to_numpy()[cand_pos]
    op = frame["op"].to_numpy()[cand_pos]
    rhs = frame["rhs"].to_numpy()[cand_pos]
    grp = frame["group"].to_numpy()[cand_pos]
    exo = frame["exo"].to_numpy()[cand_pos]
    # lavaan: for a (non-exogenous) variance, standardise the estimate, not the EPC
    is_var = (op == "~~") & (lhs == rhs)
    value = epc.copy()
    replace_var = is_var & (exo == 0)
    value[replace_var] = ext_values[cand_pos[replace_var]]
    small = is_var & (np.abs(value) < SMALL_VARIANCE)
    value[small] = np.nan
    sign = np.sign(epc)
    mag = np.abs(value)
    out = {k: np.full(len(cand_pos), np.nan) for k in ("sepc.lv", "sepc.all", "sepc.nox")}
    exo_vars = {v for v, e in zip(est.partable.frame["lhs"], est.partable.frame["exo"]) if e}
    for g in range(ram.ngroups):
        A, S, M = ram.matrices(values, g)
        B = np.linalg.inv(np.eye(ram.n) - A)
        C = B @ S @ B.T
        var = np.diag(C).copy()
        with np.errstate(invalid="ignore"):
            sd_lv = np.where(var >= 0, np.sqrt(np.abs(var)), np.nan)
            ov_var = var.copy()
            ov_var[np.abs(ov_var) < np.finfo(float).eps] = np.nan
            sd_ov = np.where(ov_var >= 0, np.sqrt(np.abs(ov_var)), np.nan)
        resid = np.sqrt(np.abs(np.diag(S)))  # cov.std: residual variance estimates
        for k in np.flatnonzero(grp == g + 1):
            a, o, b = lhs[k], op[k], rhs[k]
            ia, ib = index[a], index.get(b, -1)
            lv_a, lv_b = a in latent, b in latent
            std_lv = mag[k]
            if o == "=~":
                std_lv *= sd_lv[ia] / (sd_lv[ib] if lv_b else 1.0)
            elif o == "~":
                std_lv *= (sd_lv[ib] if lv_b else 1.0) / (sd_lv[ia] if lv_a else 1.0)
            elif o == "~~" and a == b:
                std_lv /= sd_lv[ia] ** 2 if lv_a else 1.0
            elif o == "~~":
                for side, is_lv in ((ia, lv_a), (ib, lv_b)):
                    if is_lv:
                        std_lv /= resid[side]
            elif o == "~1":
                std_lv /= sd_lv[ia] if lv_a else 1.0

            def observed_scale(skip: set[str]) -> float:
                val = std_lv
                ob_a = not lv_a and a not in skip
                ob_b = o != "~1" and not lv_b and b not in skip
                if o == "=~":
                    val = val / sd_ov[ib] if ob_b else val
                elif o == "~":
                    val = val / (sd_ov[ia] if ob_a else 1.0) * (sd_ov[ib] if ob_b else 1.0)
                elif o == "~~" and a == b:
                    val = val / sd_ov[ia] ** 2 if ob_a else val
                elif o == "~~":
                    for name, side, ob in ((a, ia, ob_a), (b, ib, ob_b)):
                        if ob:
                            # lavaan reads the residual variance from the table; a fixed-x
                            # variance there is itself a (non-identified) candidate: NA.
                            val = val / (np.nan if name in exo_vars else resid[side])
                elif o == "~1":
                    val = val / sd_ov[ia] if ob_a else val
                return val

            out["sepc.lv"][k] = std_lv
            out["sepc.all"][k] = observed_scale(set())
            out["sepc.nox"][k] = observed_scale(ov_x)
    for key in out:
        out[key] = sign * out[key]
        out[key][small] = 0.0
    return out


# --------------------------------------------------------------------------- admissibility

def _structural_graph(model, frame: pd.DataFrame) -> dict[str, set[str]]:
    """Directed edges cause → effect: regressions, latent indicators of higher-order factors,
    and the directions the hypotheses assert."""
    latent = set(frame.loc[frame["op"] == "=~", "lhs"])
    children: dict[str, set[str]] = {}

    def edge(a: str, b: str) -> None:
        children.setdefault(a, set()).add(b)

    for a, o, b in zip(frame["lhs"], frame["op"], frame["rhs"]):
        if o == "~":
            edge(b, a)
        elif o == "=~" and b in latent:
            edge(a, b)
    for h in getattr(model, "hypotheses", ()):
        c = tuple(h.constructs)
        if h.kind in ("path", "necessity"):
            edge(c[0], c[1])
        elif h.kind == "indirect":
            for a, b in zip(c[:-1], c[1:]):
                edge(a, b)
        elif h.kind in ("interaction", "moderation"):
            edge(c[0], c[2])
            edge(c[1], c[2])
    return children


def _reaches(children: dict[str, set[str]], start: str, target: str) -> bool:
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if node == target:
            return True
        if node in seen:
            continue
        seen.add(node)
        stack.extend(children.get(node, ()))
    return False


def theory_admissible(res) -> Callable[[str, str, str], bool]:
    """The built-in ``"theory"`` rule: which candidates a reviewer could accept freeing.

    * ``f =~ x``: only within the item's own construct hierarchy — ``f`` is a construct ``x``
      indicates, or a higher-order construct above one (``SCI =~ vp1``).  A cross-loading on
      another construct breaks unidimensionality and discriminant validity: inadmissible.
    * ``x ~~ y`` between observed variables: only when both indicate the same construct
      (correlated uniquenesses within a scale, e.g. wording or method effects).
    * ``f ~~ g`` between latent variables: only when neither causes the other through the
      model's paths, its higher-order structure or the hypotheses' directions (an omitted
      common cause); a covariance between a cause and its effect's disturbance is not.
    * ``y ~ x``: only when ``y`` is already an outcome (of a path or a hypothesis) — exogenous
      constructs stay exogenous — and the new path ``x → y`` creates no loop with the model's
      paths and the directions the hypotheses assert.
    * variances, intercepts and means: admissible (they concern identification and
      invariance, not theory); fixed-x covariate moments: inadmissible (they are data).
    """
    est = res.estimation
    frame = est.partable.frame
    roles = est.partable.roles
    latent = set(roles.latent)
    children = _structural_graph(getattr(res, "model", None), frame)
    outcomes = {b for kids in children.values() for b in kids}
    parents_of: dict[str, set[str]] = {}
    for a, o, b in zip(frame["lhs"], frame["op"], frame["rhs"]):
        if o == "=~":
            parents_of.setdefault(b, set()).add(a)

    def ancestors_via_loadings(x: str) -> set[str]:
        out, stack = set(), list(parents_of.get(x, ()))
        while stack:
            f = stack.pop()
            if f not in out:
                out.add(f)
                stack.extend(parents_of.get(f, ()))
        return out

    exo_vars = set(roles.ov_x)

    def rule(lhs: str, op: str, rhs: str) -> bool:
        if op == "=~":
            if rhs in latent:
                return lhs in parents_of.get(rhs, set())
            return lhs in ancestors_via_loadings(rhs)
        if op == "~~":
            if lhs == rhs:
                return lhs not in exo_vars
            if lhs in exo_vars or rhs in exo_vars:
                return False
            if lhs not in latent and rhs not in latent:
                shared = parents_of.get(lhs, set()) & parents_of.get(rhs, set())
                return bool(shared)
            if lhs in latent and rhs in latent:
                return not (_reaches(children, lhs, rhs) or _reaches(children, rhs, lhs))
            return False
        if op == "~":
            if lhs not in outcomes:
                return False
            return not _reaches(children, lhs, rhs)
        return True

    return rule


# ------------------------------------------------------------------------------ public

@blas_one_thread
def modindices(
    res,
    *,
    sort: bool = True,
    minimum: float = 0.0,
    maximum_number: int | None = None,
    ops: Sequence[str] | None = ("=~", "~", "~~"),
    admissible: str | Callable[[str, str, str], bool] | None = None,
    work_limit: float | None = MODINDICES_WORK_LIMIT,
) -> pd.DataFrame:
    """Modification indices of a fitted model, as lavaan's ``modindices()``.

    Args:
        res: a :class:`~cbec_sem.results.FitResult` from :func:`cbec_sem.fit`.
        sort: sort by MI, largest first (lavaan's ``sort. = TRUE``); otherwise lavaan's row
            order (the model's fixed parameters, then the added candidates group by group).
        minimum: keep only rows with MI above this (lavaan's ``minimum.value``).
        maximum_number: keep at most this many rows (after sorting and filtering).
        ops: operators to keep; ``None`` keeps every candidate, including ``~1`` rows in a
            model with a mean structure (lavaan's ``op = NULL``).  Unlike lavaan, the
            operator filter applies before ``maximum_number``.
        admissible: how the ``admissible`` column is filled, and whether it filters.
            ``None`` (default): the built-in ``"theory"`` rule fills the column and no row is
            dropped.  ``"theory"``: the same rule, and inadmissible rows are dropped.  A
            callable ``f(lhs, op, rhs) -> bool``: fills the column and drops the rows it
            rejects.  See :func:`theory_admissible` for the rule.
        work_limit: the most work (units of about 10 ns) the score tests may take, checked
            before any is done: q² · candidates / 140 for q free parameters
            (:data:`~cbec_sem.engine.work_limits.MODINDICES_WORK_LIMIT`, about 1.8 s: 44
            constructs of 3 items pass); ``None`` lifts the limit.

    Returns:
        One row per candidate (per group): ``lhs, op, rhs, group, mi, epc, sepc.lv,
        sepc.all, sepc.nox, admissible``.  ``group`` is 1-based, as in ``res.params``.
        Candidates that are not identified when freed (MI undefined) are left out, as lavaan
        does.

    Raises:
        SpecError: ``res`` is not a fit result, or ``admissible`` / ``ops`` are not valid.
        EstimationError: the information matrix of the fitted model is singular, or the
            work exceeds ``work_limit``.

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> cs.modindices(res, maximum_number=3)[["lhs", "op", "rhs", "mi"]].round(2)
           lhs  op  rhs    mi
        0   FO  =~  fa3  8.94
        1  SCI  =~  fa3  8.31
        2  ta2  ~~  fo2  7.50
    """
    if getattr(res, "is_covariance_fit", True) is False:
        raise SpecError(f"modindices() is a score test of a CB-SEM fit; this is a "
                        f"{res.estimator} fit, which has no likelihood to test")
    est = getattr(res, "estimation", None)
    if est is None or not hasattr(est, "partable"):
        raise SpecError(
            f"modindices() needs a fit result from cs.fit(), not {type(res).__name__}"
        )
    if getattr(est.options, "ordered", ()) or est.options.estimator not in ("ML", "MLM", "MLR"):
        raise SpecError(
            f"modindices() is built for the ML family (ML, MLM, MLR); this is a "
            f"{est.options.estimator} fit, whose score test needs the weighted least squares "
            "information of its thresholds and polychoric correlations, which is not built: "
            "screen the model with the items fitted as continuous (estimator='MLR'), or use "
            "lavaan's modindices() on the WLSMV fit"
        )
    if est.partable.roles.composites:
        raise SpecError(
            "modindices() of a model with composites ('<~': "
            f"{', '.join(est.partable.roles.composites)}) is not built: lavaan 0.6-14's list "
            "repeats the composite's weights as regressions ('F ~ x') and treats it as a "
            "factor, which it is not; test a direct effect of a component by adding the path "
            "and comparing the fits"
        )
    if ops is not None:
        ops = (ops,) if isinstance(ops, str) else tuple(ops)
        bad = [o for o in ops if o not in PARAMETER_OPS]
        if bad:
            raise SpecError(
                f"ops={bad!r}: operators must be among {PARAMETER_OPS}"
            )
    if isinstance(admissible, str) and admissible != "theory":
        raise SpecError(
            f"admissible={admissible!r}: use None, 'theory' or a function (lhs, op, rhs) -> bool"
        )
    if admissible is not None and not (isinstance(admissible, str) or callable(admissible)):
        raise SpecError(
            f"admissible must be None, 'theory' or a function (lhs, op, rhs) -> bool, not "
            f"{type(admissible).__name__}"
        )
    if minimum < 0:
        raise SpecError(f"minimum={minimum} must be zero or positive")
    if maximum_number is not None and (not isinstance(maximum_number, (int, np.integer))
                                       or maximum_number < 0):
        raise SpecError(f"maximum_number={maximum_number!r} must be a whole number ≥ 0")
    if not est.optim.converged:
        warnings.warn(
            "the model did not converge: its modification indices are not trustworthy",
            ConvergenceWarning,
            stacklevel=2,
        )

    model = getattr(res, "model", None)
    if model is not None:
        ov_x_all = variable_roles(model.statements, fixed_x=True).ov_x
    else:  # pragma: no cover - FitResult always has a model
        ov_x_all = est.partable.roles.ov_x
    ext, cand_pos, cand_val = _extended_table(est, ov_x_all)
    q = est.partable.nfree
    check_modindices_work(q, ext.nfree - q, work_limit)
    ram = RamModel(ext)
    ram.base_values[: len(est.ram.base_values)] = est.ram.base_values
    theta_ext = np.concatenate([est.theta, cand_val])
    names = list(est.stats.names)
    x_index = np.array([names.index(v) for v in est.partable.roles.ov_x], dtype=int)
    info = _Information(ram, theta_ext, est, x_index, q)
    grad, i_qq, d_cc = info.grad, info.i_qq, info.d_cc

    cand = np.arange(q, ram.nfree)
    basis = None if est.reparam.identity else est.reparam.basis
    # no constraints: x is θ (q² × candidates work spared)
    i22 = i_qq if basis is None else basis.T @ i_qq @ basis

    def i21(lo: int, hi: int) -> np.ndarray:
        block = info.block(lo, hi)
        return block if basis is None else basis.T @ block

    # v = I_φφ − I_φθ I_θθ⁻¹ I_θφ, the quadratic form through the Cholesky factor (one
    # triangular solve, half an LU solve's work) block by block of candidates, a general
    # solve if I_θθ is not definite
    ncand = info.ncand
    quad = np.empty(ncand)
    try:
        chol = np.linalg.cholesky(i22)
    except np.linalg.LinAlgError:
        chol = None
    if chol is not None:
        for lo in range(0, ncand, CANDIDATE_BLOCK):
            hi = min(lo + CANDIDATE_BLOCK, ncand)
            y = linalg.solve_triangular(chol, i21(lo, hi), lower=True, check_finite=False)
            quad[lo:hi] = np.einsum("ij,ij->j", y, y)
    else:
        whole = i21(0, ncand)
        try:
            quad = np.einsum("ij,ij->j", whole, np.linalg.solve(i22, whole))
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "could not compute modification indices: the information matrix of the "
                "fitted model is singular (is the model identified?)"
            ) from exc
    v = d_cc - quad
    g = grad[cand]
    ntotal = float(est.stats.ntotal)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(v < V_TOLERANCE, np.nan, v)
        mi = ntotal * g**2 / v
        epc = -g / v

    frame = ext.frame
    sepc = _standardized_epc(ext, ram.row_values(theta_ext), est, cand_pos, epc,
                             set(est.partable.roles.ov_x))
    table = pd.DataFrame(
        {
            "lhs": frame["lhs"].to_numpy()[cand_pos],
            "op": frame["op"].to_numpy()[cand_pos],
            "rhs": frame["rhs"].to_numpy()[cand_pos],
            "group": frame["group"].to_numpy()[cand_pos].astype(int),
            "mi": mi,
            "epc": epc,
            **sepc,
        }
    )
    rule = admissible if callable(admissible) else theory_admissible(res)
    table["admissible"] = [
        bool(rule(a, o, b)) for a, o, b in zip(table["lhs"], table["op"], table["rhs"])
    ]
    table = table[table["mi"].notna()]
    if ops is not None:
        table = table[table["op"].isin(ops)]
    if admissible is not None:
        table = table[table["admissible"]]
    if sort:
        table = table.sort_values("mi", ascending=False, kind="stable")
    if minimum > 0:
        table = table[table["mi"] > minimum]
    if maximum_number is not None:
        table = table.iloc[:maximum_number]
    return table.reset_index(drop=True)[COLUMNS]
