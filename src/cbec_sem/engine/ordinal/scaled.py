"""Robust standard errors, the mean-and-variance adjusted test, and fit measures (WLSMV).

Notation (lavaan 0.6's, with groups stacked): f_g = n_g/N; V = ⊕_g f_g W_g the weights;
Γ = ⊕_g Γ_g/f_g the asymptotic covariance of the statistics; Δ the model Jacobian
(:mod:`.wls`); E = Δᵀ V Δ the (unit) information.

* Standard errors.  ``se = "robust.sem"`` (WLSMV, ULSMV): the sandwich
  Cov(θ̂) = E⁻¹ (Δᵀ V Γ V Δ) E⁻¹ / (N − G) (Satorra 1992; Muthén, du Toit & Spisic 1997;
  lavaan divides by N − G for these estimators); ``"standard"`` (DWLS, ULS): E⁻¹ / (N − G).
  Under linear equality constraints θ = θ₀ + N x all of this is done in x and mapped back.
* The scaled-and-shifted statistic (Asparouhov & Muthén 2010, "Simple second order chi-square
  correction"; lavaan's ``test = "scaled.shifted"``): with U = V − V Δ E⁻¹ Δᵀ V,

      a = √(df / tr[(UΓ)²]),   b = df − a · tr(UΓ),   T_ss = a T + b  on df degrees of freedom;

  lavaan reports ``chisq.scaling.factor`` = 1/a (and the shift b).
* The baseline model: thresholds (and continuous variables' means and variances) free,
  correlations 0, so its statistic is
  Σ_g (n_g − 1) Σ w r̂² and its Δ selects the thresholds; it is scaled and shifted the same way.
* CFI, TLI (NNFI), RNI, NFI, RFI, IFI, PNFI, RMSEA with its interval and close-fit
  probabilities, from the standard and (``.scaled``) the scaled-shifted statistics, with
  lavaan's ``lav_fit_*`` definitions (see :mod:`..fitmeasures` for the references).  RMSEA uses
  the scaled statistic on the model's df (lavaan ≥ 0.6-14 for ``scaled.shifted``).
* Residual-based measures as lavaan reports them for ordered data: RMR and SRMR over the
  correlation residuals including the unit diagonal (``srmr`` = ``srmr_bentler_nomean``), CRMR
  over the off-diagonal ones, the variants with the threshold residuals (``rmr``,
  ``srmr_bentler``, ``crmr``); WRMR = √(T / number of statistics) (Muthén 1998–2004);
  GFI = 1 − rᵀWr / sᵀWs with the estimator's weights, AGFI, PGFI; Hoelter's CN; MFI.
  RMSEA, CN and MFI use N − G where ML uses N (lavaan's ``lav_utils_get_ntotal``); the
  standard ULS statistic has no p-value (it is not χ²-distributed), as in lavaan.
* The ``.robust`` CFI/TLI/RNI/RMSEA (Savalei 2021, "Improving fit indices in structural
  equation modeling with categorical data", *Multivariate Behav. Res.* 56, 390–407; lavaan's
  ``lav_fit_catml_dwls``): the normal-theory ML discrepancy of the polychoric matrix at the
  DWLS estimates, T_ML = N [log|Σ̂| + tr(RΣ̂⁻¹) − log|R| − p], and of the independence model,
  −N log|R|, each with its own scaling c = tr(Uᵀ V U Γ)/df, U = I − Δ E⁻¹ Δᵀ W (correlation
  rows), V = ½ Dᵀ(Σ̂⁻¹ ⊗ Σ̂⁻¹)D at the correlations, c₀ = tr(Γ_ρ)/df₀; NaN when a polychoric
  matrix is not positive definite (as lavaan).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special
from scipy.linalg import block_diag

from ..fitmeasures import (RMSEA_CI_LEVEL, RMSEA_CLOSE, RMSEA_NOTCLOSE, lav_cfi, lav_cn,
                           lav_rni, lav_tli, rmsea_interval)
from .wls import GroupStatistics


@dataclass(frozen=True)
class ScaledTest:
    """A statistic scaled and shifted to match the first two moments of χ²(df)."""

    stat: float
    df: float
    pvalue: float
    scaling_factor: float
    shift: float
    trace1: float
    trace2: float


def _stack(groups: list[GroupStatistics], deltas: list[np.ndarray], fg: np.ndarray):
    v = np.concatenate([f * st.weight for f, st in zip(fg, groups)])
    sizes = [len(st.obs) for st in groups]
    gamma = np.zeros((sum(sizes), sum(sizes)))
    start = 0
    for f, st, n in zip(fg, groups, sizes):
        gamma[start : start + n, start : start + n] = st.gamma / f
        start += n
    return v, gamma, np.vstack(deltas)


def unit_information(groups, deltas, fg) -> np.ndarray:
    """E = Σ_g f_g Δ_gᵀ W_g Δ_g."""
    return sum(f * d.T @ (st.weight[:, None] * d) for f, st, d in zip(fg, groups, deltas))


def covariance(groups, deltas, fg, ntotal: float, robust: bool) -> np.ndarray:
    """Cov(x̂): E⁻¹ (Δᵀ V Γ V Δ) E⁻¹ / N (robust) or E⁻¹ / N; ``deltas`` in x."""
    E = unit_information(groups, deltas, fg)
    try:
        e_inv = np.linalg.inv(E)
    except np.linalg.LinAlgError:
        e_inv = np.linalg.pinv(E)
    if not robust:
        return e_inv / ntotal
    meat = sum(f * (d.T * st.weight) @ st.gamma @ (st.weight[:, None] * d)
               for f, st, d in zip(fg, groups, deltas))
    out = e_inv @ meat @ e_inv / ntotal
    return 0.5 * (out + out.T)


def _traces(v: np.ndarray, gamma: np.ndarray, delta: np.ndarray) -> tuple[float, float]:
    """tr(UΓ) and tr(UΓUΓ) for U = V − VΔE⁻¹ΔᵀV, V = diag(v), E = ΔᵀVΔ, without the k × k
    matrix U: with M = ΓVΔ (k × q) and C = E⁻¹ΔᵀVΓVΔ = E⁻¹(VΔ)ᵀM (q × q),

        tr(UΓ)   = Σᵢ vᵢΓᵢᵢ − tr(E⁻¹ ΔᵀVΓVΔ),
        tr(UΓUΓ) = Σᵢⱼ vᵢvⱼΓᵢⱼ² − 2 tr(E⁻¹ MᵀVM) + tr(C²)

    (Γ symmetric): O(k²q) work instead of the k³ of U·Γ (60 ordinal items: k = 2,010)."""
    gv = gamma * v                                # Γ V
    vg_diag = float(np.sum(v * np.diag(gamma)))
    vgvg = float(np.sum(gv * gv.T))               # tr(VΓVΓ)
    if not delta.shape[1]:
        return vg_diag, vgvg
    vd = v[:, None] * delta                       # V Δ
    E = delta.T @ vd
    M = gamma @ vd                                # Γ V Δ
    C = np.linalg.solve(E, vd.T @ M)              # E⁻¹ ΔᵀVΓVΔ
    tr1 = vg_diag - float(np.trace(C))
    cross = float(np.trace(np.linalg.solve(E, M.T @ (v[:, None] * M))))
    tr2 = vgvg - 2.0 * cross + float(np.sum(C * C.T))
    return tr1, tr2


def scaled_shifted(stat: float, df: float, groups, deltas, fg) -> ScaledTest:
    """Asparouhov & Muthén's (2010) scaled-and-shifted statistic, lavaan's way."""
    v, gamma, delta = _stack(groups, deltas, fg)
    tr1, tr2 = _traces(v, gamma, delta)
    if df <= 0:  # lavaan: a model without degrees of freedom keeps its (zero) statistic
        return ScaledTest(stat, df, np.nan, np.nan, np.nan, tr1, tr2)
    if tr2 <= 0:
        return ScaledTest(np.nan, df, np.nan, np.nan, np.nan, tr1, tr2)
    a = np.sqrt(df / tr2)
    shift = df - a * tr1
    scaled = stat * a + shift
    return ScaledTest(scaled, df, float(special.chdtrc(df, scaled)), 1.0 / a, shift, tr1, tr2)


def _nfi(x2, df, x2n, dfn):
    if df > dfn or np.isclose(x2n, 0):
        return np.nan
    return (x2n - x2) / x2n if df > 0 else 1.0


def _rfi(x2, df, x2n, dfn):
    if df > dfn:
        return np.nan
    if df > 0 and dfn > 0:
        t1, t2 = x2n / dfn - x2 / df, x2n / dfn
        return 1.0 if t1 < 0 or t2 < 0 else t1 / t2
    return 1.0


def _ifi(x2, df, x2n, dfn):
    t1, t2 = x2n - x2, x2n - df
    if t2 < 0:
        return 1.0
    return np.nan if np.isclose(t2, 0) else t1 / t2


def _pnfi(x2, df, x2n, dfn):
    return (df / dfn) * (x2n - x2) / x2n if dfn > 0 and x2n > 0 else np.nan


def _incremental(x2, df, x2n, dfn, suffix: str) -> dict[str, float]:
    tli = lav_tli(x2, df, x2n, dfn)
    return {
        f"cfi{suffix}": lav_cfi(x2, df, x2n, dfn),
        f"tli{suffix}": tli,
        f"nnfi{suffix}": tli,
        f"rfi{suffix}": _rfi(x2, df, x2n, dfn),
        f"nfi{suffix}": _nfi(x2, df, x2n, dfn),
        f"pnfi{suffix}": _pnfi(x2, df, x2n, dfn),
        f"ifi{suffix}": _ifi(x2, df, x2n, dfn),
        f"rni{suffix}": lav_rni(x2, df, x2n, dfn),
    }


def _rmsea(x2, df, N, G, suffix: str, c_hat: float = 1.0, x2_ci=None) -> dict[str, float]:
    """RMSEA, its interval and p-values (lavaan's ``lav_fit_rmsea*`` with ``c.hat``; the
    interval and p-values use ``x2_ci``, the robust version's scaled statistic)."""
    x2_ci = x2 if x2_ci is None else x2_ci
    if not (np.isfinite(x2) and np.isfinite(x2_ci) and np.isfinite(c_hat)):
        keys = ("rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue",
                "rmsea.notclose.pvalue")
        return {k + suffix: np.nan for k in keys}
    if df > 0:
        value = np.sqrt(max((x2 / N) / df - c_hat / N, 0.0)) * np.sqrt(G)
        lo, hi = rmsea_interval(x2_ci, df, N, G)
        lo, hi = lo * np.sqrt(c_hat), hi * np.sqrt(c_hat)
        p_close = 1.0 - float(special.chndtr(x2_ci, df, N * df / c_hat * RMSEA_CLOSE**2 / G))
        p_notclose = float(special.chndtr(x2_ci, df, N * df / c_hat * RMSEA_NOTCLOSE**2 / G))
    else:
        value, lo, hi, p_close, p_notclose = 0.0, 0.0, 0.0, np.nan, np.nan
    return {f"rmsea{suffix}": value, f"rmsea.ci.lower{suffix}": lo,
            f"rmsea.ci.upper{suffix}": hi, f"rmsea.pvalue{suffix}": p_close,
            f"rmsea.notclose.pvalue{suffix}": p_notclose}


def _residual_measures(groups: list[GroupStatistics], implied: list[np.ndarray],
                       fg: np.ndarray) -> dict[str, float]:
    """lavaan's residual summaries for ordered data (``lav_residuals_summary``): ``rmr`` on
    the raw covariance residuals, ``srmr_bentler`` on them divided by the observed standard
    deviations, ``crmr`` on the correlation residuals off the diagonal; the variants without
    ``_nomean`` add the ordered items' threshold residuals.  With only ordered items the
    three scales coincide (unit variances)."""
    keys = ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean")
    acc = dict.fromkeys(keys, 0.0)
    for f, st, est in zip(fg, groups, implied):
        nu = st.nuni
        th = st.th_num > 0
        th_r = (st.obs[: st.nth] - est[: st.nth])[th]
        # conditional.x (lavaan 0.6-14): the slopes are left out, and the covariates'
        # variances count among the covariance elements (rmr, srmr) with zero residuals
        nv = st.nth + st.n_slopes
        p = len(np.unique(st.th_var))  # the items (without covariates)
        q = st.n_slopes // p
        s_var = np.diag(st.cor)[:p].copy()
        m_var = s_var.copy()
        m_var[st.var_idx] = est[nv : nu]
        pi, pj = st.pair_i, st.pair_j
        s_off, m_off = st.obs[nu:], est[nu:]
        raw = np.concatenate([s_off - m_off, st.obs[nv : nu] - est[nv : nu]])
        sd = np.sqrt(s_var)
        std = np.concatenate([(s_off - m_off) / (sd[pi] * sd[pj]),
                              (s_var[st.var_idx] - m_var[st.var_idx]) / s_var[st.var_idx]])
        cor_r = s_off / (sd[pi] * sd[pj]) - m_off / np.sqrt(m_var[pi] * m_var[pj])
        # the diagonal counts (zero residuals for ordered items)
        pstar = p * (p + 1) / 2 + q
        n_th = int(th.sum())
        ss_th = float(th_r @ th_r)
        ss_raw, ss_std, ss_cor = float(raw @ raw), float(std @ std), float(cor_r @ cor_r)
        n_off = len(cor_r)
        acc["rmr_nomean"] += f * np.sqrt(ss_raw / pstar)
        acc["rmr"] += f * np.sqrt((ss_raw + ss_th) / (pstar + n_th))
        acc["srmr_bentler_nomean"] += f * np.sqrt(ss_std / pstar)
        acc["srmr_bentler"] += f * np.sqrt((ss_std + ss_th) / (pstar + n_th))
        acc["crmr_nomean"] += f * np.sqrt(ss_cor / n_off) if n_off else 0.0  # one item
        acc["crmr"] += f * np.sqrt((ss_cor + ss_th) / (n_off + n_th))
    return acc


@dataclass(frozen=True)
class CatMLCorrection:
    """The pieces of lavaan's robust CFI/RMSEA for ordered data (Savalei 2021)."""

    xx3: float
    df3: float
    c_hat3: float
    xx3_null: float
    df3_null: float
    c_hat3_null: float

    @property
    def xx3_scaled(self) -> float:
        return self.xx3 / self.c_hat3


def _vech_weight(K: np.ndarray, pi: np.ndarray, pj: np.ndarray) -> np.ndarray:
    """½ Dᵀ(K ⊗ K)D at the off-diagonal elements (i, j), (k, l): K_ik K_jl + K_il K_jk."""
    return K[np.ix_(pi, pi)] * K[np.ix_(pj, pj)] + K[np.ix_(pi, pj)] * K[np.ix_(pj, pi)]


def catml_correction(groups, implied, deltas, fg, nobs, df3: float) -> CatMLCorrection | None:
    """lavaan's ``lav_fit_catml_dwls``: the ML discrepancy of the polychoric matrix at the
    DWLS estimates (``catML``), its scaling c = tr(Uᵀ V U Γ)/df with U = I − Δ E⁻¹ Δᵀ W
    (correlation part), V the normal-theory weight of a correlation structure, and the
    independence model's −N log|R| with c₀ = tr(Γ)/df₀.  ``None`` when a polychoric matrix
    is not positive definite, or with continuous variables among the ordered ones (lavaan
    then reports NA)."""
    for st in groups:
        if st.mixed or st.n_slopes:  # lavaan: NA with numeric variables or conditional.x
            return None
        if np.linalg.eigvalsh(st.cor)[0] < np.sqrt(np.finfo(float).eps):
            return None
    E = unit_information(groups, deltas, fg)
    e_inv = np.linalg.pinv(E)
    xx3 = xx3_null = 0.0
    d_rows, w_rows, v_blocks, g_blocks = [], [], [], []
    for f, st, est, d, n in zip(fg, groups, implied, deltas, nobs):
        p = st.cor.shape[0]
        sigma = np.eye(p)
        sigma[st.pair_i, st.pair_j] = est[st.nth :]
        sigma[st.pair_j, st.pair_i] = est[st.nth :]
        K = np.linalg.inv(sigma)
        ld_sigma = np.linalg.slogdet(sigma)[1]
        ld_s = np.linalg.slogdet(st.cor)[1]
        xx3 += n * (ld_sigma + float(np.sum(st.cor * K)) - ld_s - p)
        xx3_null += n * (-ld_s)
        c = slice(st.nth, None)
        d_rows.append(d[c])
        w_rows.append(f * st.weight[c])
        v_blocks.append(f * _vech_weight(K, st.pair_i, st.pair_j))
        g_blocks.append(st.gamma[c, c] / f)
    delta = np.vstack(d_rows)
    w = np.concatenate(w_rows)
    V = block_diag(*v_blocks)
    gamma = block_diag(*g_blocks)
    # ks = tr(WᵀVWΓ) with W = I − ΔF, F = E⁻ΔᵀD_w (q × k), without the k × k W:
    # tr(VΓ) − 2 tr(ΔᵀVΓFᵀ) + tr(ΔᵀVΔ · FΓFᵀ)  (V, Γ symmetric; O(k²q) work)
    F = e_inv @ (delta.T * w)
    vd = V @ delta
    gf = gamma @ F.T
    ks = (float(np.sum(V * gamma)) - 2.0 * float(np.sum(vd * gf))
          + float(np.sum((delta.T @ vd) * (F @ gf).T)))
    df3_null = float(sum(len(st.obs) - st.nth for st in groups))
    return CatMLCorrection(xx3=xx3, df3=df3, c_hat3=ks / df3, xx3_null=xx3_null,
                           df3_null=df3_null, c_hat3_null=float(np.trace(gamma)) / df3_null)


def _robust_incremental(x2, df, x2n, dfn, c, c0) -> dict[str, float]:
    """lavaan's robust CFI/TLI/RNI with ``c.hat``, ``c.hat.null`` (Savalei 2021)."""
    tli = lav_tli(x2, df, x2n, dfn, c, c0)
    return {"cfi.robust": lav_cfi(x2, df, x2n, dfn, c, c0), "tli.robust": tli,
            "nnfi.robust": tli, "rni.robust": lav_rni(x2, df, x2n, dfn, c, c0)}


def fit_measures(
    *,
    fmin: float,
    npar: int,
    groups: list[GroupStatistics],
    implied: list[np.ndarray],
    deltas: list[np.ndarray],
    scaled: bool,
    npar_thresholds: int = 0,
    catml: bool = True,
) -> tuple[pd.Series, ScaledTest | None, ScaledTest | None]:
    """lavaan's ``fitMeasures()`` of a WLSMV/ULSMV (``scaled``) or DWLS/ULS fit.

    ``deltas``: the model Jacobians in the (reparametrised) free parameters;
    ``npar_thresholds``: how many of the free parameters are thresholds (for the correlation
    structure's df of the robust measures); ``catml=False``: no ``.robust`` measures (NaN),
    as lavaan 0.6-14 has none when thresholds or intercepts are held equal (its
    ``lav_object_catml`` drops the rows its equality constraints name).  Returns the
    measures and the model's and
    baseline's scaled tests (``None`` unless ``scaled``).

    N in RMSEA, CN and MFI is N − G, as lavaan has it for estimators other than ML.
    """
    nobs = np.array([st.nobs for st in groups], dtype=float)
    N = float(nobs.sum())
    G = len(groups)
    fg = nobs / N
    n_fit = N - G  # lavaan's lav_utils_get_ntotal() for DWLS/ULS
    nel = sum(len(st.obs) for st in groups)
    df = nel - npar
    chisq = max(2.0 * N * fmin, 0.0)
    # lavaan gives no p-value for the ULS statistic, which is not χ²-distributed
    uls = all(np.all(st.weight == 1.0) for st in groups)
    pvalue = float(special.chdtrc(df, chisq)) if df > 0 and not uls else np.nan
    # baseline: thresholds free (fitted exactly), correlations zero
    base_stat = float(sum((st.nobs - 1.0) * np.sum(st.weight[st.nuni :] * st.obs[st.nuni :] ** 2)
                          for st in groups))
    base_df = sum(len(st.obs) - st.nuni for st in groups)
    base_p = float(special.chdtrc(base_df, base_stat)) if base_df > 0 and not uls else np.nan
    out: dict[str, float] = {"npar": npar, "fmin": fmin, "chisq": chisq, "df": df,
                             "pvalue": pvalue}
    test = base_test = None
    if scaled:
        test = scaled_shifted(chisq, df, groups, deltas, fg)
        base_deltas = []
        col = 0
        nuni_total = sum(st.nuni for st in groups)
        for st in groups:
            d = np.zeros((len(st.obs), nuni_total))
            d[np.arange(st.nuni), col + np.arange(st.nuni)] = 1.0
            col += st.nuni
            base_deltas.append(d)
        base_test = scaled_shifted(base_stat, base_df, groups, base_deltas, fg)
        out.update({"chisq.scaled": test.stat, "df.scaled": df, "pvalue.scaled": test.pvalue,
                    "chisq.scaling.factor": test.scaling_factor})
    out.update({"baseline.chisq": base_stat, "baseline.df": base_df,
                "baseline.pvalue": base_p})
    if scaled:
        out.update({"baseline.chisq.scaled": base_test.stat, "baseline.df.scaled": base_df,
                    "baseline.pvalue.scaled": base_test.pvalue,
                    "baseline.chisq.scaling.factor": base_test.scaling_factor})
    inc = _incremental(chisq, df, base_stat, base_df, "")
    out.update({"cfi": inc["cfi"], "tli": inc["tli"]})
    robust = dict.fromkeys(("cfi.robust", "tli.robust", "nnfi.robust", "rni.robust"), np.nan)
    cat = None
    if scaled:
        pstar = sum(len(st.obs) - st.nth for st in groups)
        cat = catml_correction(groups, implied, deltas, fg, nobs,
                               float(pstar - (npar - npar_thresholds))) if catml else None
        if cat is not None:
            robust = _robust_incremental(cat.xx3, df, cat.xx3_null, base_df, cat.c_hat3,
                                         cat.c_hat3_null)
        inc_s = _incremental(test.stat, df, base_test.stat, base_df, ".scaled")
        out.update({"cfi.scaled": inc_s["cfi.scaled"], "tli.scaled": inc_s["tli.scaled"],
                    "cfi.robust": robust["cfi.robust"], "tli.robust": robust["tli.robust"]})
    out.update({k: inc[k] for k in ("nnfi", "rfi", "nfi", "pnfi", "ifi", "rni")})
    if scaled:
        out.update({k + ".scaled": inc_s[k + ".scaled"]
                    for k in ("nnfi", "rfi", "nfi", "pnfi", "ifi", "rni")})
        out.update({"nnfi.robust": robust["nnfi.robust"], "rni.robust": robust["rni.robust"]})
    out.update({"logl": np.nan, "unrestricted.logl": np.nan, "aic": np.nan, "bic": np.nan,
                "ntotal": N, "bic2": np.nan})
    rm = _rmsea(chisq, df, n_fit, G, "")
    out.update({"rmsea": rm["rmsea"], "rmsea.ci.lower": rm["rmsea.ci.lower"],
                "rmsea.ci.upper": rm["rmsea.ci.upper"], "rmsea.ci.level": RMSEA_CI_LEVEL,
                "rmsea.pvalue": rm["rmsea.pvalue"], "rmsea.close.h0": RMSEA_CLOSE,
                "rmsea.notclose.pvalue": rm["rmsea.notclose.pvalue"],
                "rmsea.notclose.h0": RMSEA_NOTCLOSE})
    if scaled:
        out.update(_rmsea(test.stat, df, n_fit, G, ".scaled"))
        if cat is not None:
            out.update(_rmsea(cat.xx3, cat.df3, n_fit, G, ".robust", c_hat=cat.c_hat3,
                              x2_ci=cat.xx3_scaled))
        else:
            out.update(_rmsea(np.nan, df, n_fit, G, ".robust"))
    res = _residual_measures(groups, implied, fg)
    out.update({"rmr": res["rmr"], "rmr_nomean": res["rmr_nomean"],
                "srmr": res["srmr_bentler_nomean"], "srmr_bentler": res["srmr_bentler"],
                "srmr_bentler_nomean": res["srmr_bentler_nomean"], "crmr": res["crmr"],
                "crmr_nomean": res["crmr_nomean"], "srmr_mplus": np.nan,
                "srmr_mplus_nomean": np.nan})
    out["cn_05"] = lav_cn(chisq, df, n_fit, 0.05)
    out["cn_01"] = lav_cn(chisq, df, n_fit, 0.01)
    gfi_g = []
    for st, est in zip(groups, implied):
        r = st.obs - est
        gfi_g.append(1.0 - float(np.sum(st.weight * r * r)) / float(np.sum(st.weight * st.obs**2)))
    gfi = float(np.dot(fg, gfi_g))
    out["gfi"] = gfi
    out["agfi"] = 1.0 - (nel / df) * (1.0 - gfi) if df > 0 else 1.0
    out["pgfi"] = (df / nel) * gfi if nel else np.nan
    out["mfi"] = np.exp(-0.5 * (chisq - df) / n_fit)
    out["wrmr"] = np.sqrt(chisq / len(groups[0].obs))
    return pd.Series(out, dtype=float, name="fit measures"), test, base_test
