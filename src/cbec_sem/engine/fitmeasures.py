"""Fit measures under lavaan's names and definitions (lavaan 0.6 ``fitMeasures()``).

Sources, by measure:

* χ² = 2 N F(θ̂) (N, not N − 1: lavaan's ``likelihood = "normal"``); df = moments − free
  parameters, where the moments of fixed exogenous covariates are not counted.
* baseline: the independence model (variances and means free, exogenous covariates' block
  fixed to the sample values); χ²_b in closed form.
* CFI (Bentler 1990), TLI/NNFI (Tucker & Lewis 1973), NFI and RFI (Bentler & Bonett 1980;
  Bollen 1986), IFI (Bollen 1989), RNI (McDonald & Marsh 1990), PNFI (James et al. 1982),
  MFI (McDonald 1989), ECVI (Browne & Cudeck 1989), Hoelter's critical N (Hoelter 1983).
* RMSEA (Steiger & Lind 1980) = √max(0, (χ²/N)/df − 1/N) · √G with Steiger's (1998)
  multi-group factor √G; its 90% interval by inverting the non-central χ² (Browne & Cudeck
  1993); p(RMSEA ≤ .05) and p(RMSEA ≥ .08) with non-centrality N·df·ε²/G (Dudgeon 2004, eq. 16).
* log-likelihood, AIC (Akaike 1974) = −2 logL + 2k, BIC (Schwarz 1978) = −2 logL + k ln N,
  sample-size adjusted BIC (Sclove 1987) with N* = (N + 2)/24.
* SRMR as Bentler (1995) defines it (lavaan's default ``srmr``): residuals of the covariance
  matrix divided by the sample standard deviations, averaged over the p(p+1)/2 elements (plus
  the p standardised mean residuals under a mean structure); CRMR (Bollen 1989) uses
  correlation residuals off the diagonal; ``srmr_mplus`` the Mplus variant (Asparouhov & Muthén
  2018); RMR the raw residuals.  With groups: the n_g/N-weighted average.
* GFI, AGFI, PGFI (Jöreskog & Sörbom 1981; Mulaik et al. 1989) in lavaan's weighted form
  1 − eᵀWe / sᵀWs with the normal-theory weight W = Σ̂⁻¹ (means) ⊕ ½ Dᵀ(Σ̂⁻¹ ⊗ Σ̂⁻¹)D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize, special

from .labels import shared_index
from .samplestats import SampleStats

RMSEA_CI_LEVEL = 0.90
RMSEA_CLOSE = 0.05
RMSEA_NOTCLOSE = 0.08


@dataclass(frozen=True)
class FitInputs:
    """Everything the fit measures are computed from."""

    fmin: float
    npar: int
    stats: SampleStats
    sigma: tuple[np.ndarray, ...]
    mu: tuple[np.ndarray, ...]
    meanstructure: bool
    n_exo: int  # fixed exogenous covariates (their moments are not counted)
    exo_index: tuple[int, ...]
    loglik: float
    unrestricted_loglik: float


def count_moments(p: int, meanstructure: bool, n_exo: int) -> int:
    """Sample moments per group that the model has to reproduce (lavaan's ``ndat``)."""
    moments = p * (p + 1) // 2 + (p if meanstructure else 0)
    moments -= n_exo * (n_exo + 1) // 2 + (n_exo if meanstructure else 0)
    return moments


def baseline_chisq(stats: SampleStats, exo_index: tuple[int, ...]) -> float:
    """χ² of the independence model: 2 N F_b with F_b = ½[Σ log s_ii + log|S_xx| − log|S|]
    per group (the exogenous covariates keep their sample covariance block)."""
    total = 0.0
    exo = list(exo_index)
    for n, cov, logdet in zip(stats.nobs, stats.covs, stats.logdet_covs):
        endo = [k for k in range(cov.shape[0]) if k not in exo]
        logdet_b = float(np.sum(np.log(np.diag(cov)[endo])))
        if exo:
            logdet_b += np.linalg.slogdet(cov[np.ix_(exo, exo)])[1]
        total += n * (logdet_b - logdet)
    return float(total)


#: The robust counterpart of each standard measure, as lavaan's ``summary(fit.measures =
#: TRUE)`` shows them in its "Robust" column under a scaled test (MLM, MLR, WLSMV, ...).
ROBUST_COUNTERPART = {
    "chisq": "chisq.scaled", "df": "df.scaled", "pvalue": "pvalue.scaled",
    "cfi": "cfi.robust", "tli": "tli.robust", "nnfi": "nnfi.robust", "rni": "rni.robust",
    "rmsea": "rmsea.robust", "rmsea.ci.lower": "rmsea.ci.lower.robust",
    "rmsea.ci.upper": "rmsea.ci.upper.robust", "rmsea.pvalue": "rmsea.pvalue.robust",
}


def shown_measure(measures: pd.Series, name: str) -> tuple[str, str]:
    """Which measure a table should show for ``name``: ``(key, qualifier)``.

    Under a robust estimator (the fit has a scaled test, ``chisq.scaled``) the scaled
    statistic and the robust indices (Brosseau-Liard & Savalei 2014; Savalei 2018) replace
    the standard ones, qualifier ``"scaled"`` or ``"robust"``; where the robust version is
    missing or NaN (lavaan's NA for WLSMV with continuous items or covariates among the
    ordered ones), the index computed from the scaled statistics (``cfi.scaled``, qualifier
    ``"scaled"``); for a standard fit, or where neither exists, the standard measure,
    qualifier ``""``.
    """
    alt = ROBUST_COUNTERPART.get(name)
    scaled = np.isfinite(float(measures.get("chisq.scaled", np.nan)))
    if scaled and alt is not None:
        for key in dict.fromkeys((alt, alt.rsplit(".", 1)[0] + ".scaled")):
            if np.isfinite(float(measures.get(key, np.nan))):
                return key, key.rsplit(".", 1)[1]
    return name, ""


def incremental_indices(chisq: float, df: int, base_chisq: float, base_df: int
                        ) -> dict[str, float]:
    """The baseline test and the incremental indices that compare the model with it, as
    lavaan 0.6-14's ``fitMeasures()`` reports them (CFI, TLI = NNFI, RFI, NFI, PNFI, IFI,
    RNI; sources in the module docstring).  A saturated model (df = 0) has CFI = TLI = RFI =
    NFI = IFI = 1 and PNFI = 0, as lavaan reports."""
    return {
        "baseline.chisq": base_chisq,
        "baseline.df": base_df,
        "baseline.pvalue": float(special.chdtrc(base_df, base_chisq)) if base_df > 0 else np.nan,
        "cfi": lav_cfi(chisq, df, base_chisq, base_df),
        "tli": lav_tli(chisq, df, base_chisq, base_df),
        "nnfi": lav_tli(chisq, df, base_chisq, base_df),
        "rfi": _lav_rfi(chisq, df, base_chisq, base_df),
        "nfi": _lav_nfi(chisq, df, base_chisq, base_df),
        "pnfi": _lav_pnfi(chisq, df, base_chisq, base_df),
        "ifi": _lav_ifi(chisq, df, base_chisq, base_df),
        "rni": lav_rni(chisq, df, base_chisq, base_df),
    }


def free_covariates(function) -> tuple[int, ...]:
    """Positions of the observed exogenous covariates when they are free (``fixed_x=False``)
    and at least two: lavaan's baseline keeps their covariances as free parameters."""
    roles = function.ram.partable.roles
    if roles.ov_x or len(roles.ov_x_all) < 2:
        return ()
    return tuple(function.stats.names.index(v) for v in roles.ov_x_all)


def free_x_baseline(measures: pd.Series, stats: SampleStats, covariates: tuple[int, ...]
                    ) -> pd.Series:
    """The measures with lavaan's baseline for ``fixed.x = FALSE``.

    lavaan's independence model keeps the covariances among the observed exogenous
    covariates (``ov.x``) whatever ``fixed.x`` says; with ``fixed.x = FALSE`` they are free
    parameters of the baseline (estimated by their sample values), so χ²_b is the same as
    with fixed covariates and its df is the moment count less p variances (and p means) and
    k(k − 1)/2 covariances per group (lavaan's ``lav_partable_independence``).

    Args:
        measures: :func:`fit_measures` of the fit, computed without fixed covariates.
        stats: its sample statistics.
        covariates: positions of the covariates in ``stats.names`` (lavaan's ``ov.x``).
    """
    k = len(covariates)
    if k < 2:
        return measures
    out = measures.copy()
    b2 = baseline_chisq(stats, covariates)
    bdf = int(out["baseline.df"]) - stats.ngroups * k * (k - 1) // 2
    for name, value in incremental_indices(float(out["chisq"]), int(out["df"]), b2,
                                           bdf).items():
        out[name] = value
    return out


@lru_cache(maxsize=32)
def _triangles(p: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The lower triangle of a p × p matrix with and without the diagonal
    (``np.tril_indices``), made once per p."""
    low, off = np.tril_indices(p), np.tril_indices(p, -1)
    for index in (*low, *off):
        index.flags.writeable = False
    return low, off


def _residual_measures(inp: FitInputs) -> dict[str, float]:
    """RMR, SRMR (Bentler, Mplus), CRMR per group, then n_g/N-weighted."""
    st = inp.stats
    out: dict[str, list[float]] = {k: [] for k in (
        "rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean",
        "srmr_mplus", "srmr_mplus_nomean")}
    for g in range(st.ngroups):
        S, m = st.covs[g], st.means[g]
        sigma, mu = inp.sigma[g], inp.mu[g] if inp.meanstructure else st.means[g]
        p = S.shape[0]
        low, off = _triangles(p)
        pstar = p * (p + 1) / 2
        ms = inp.meanstructure
        raw = S - sigma
        raw_mean = m - mu
        sd = np.sqrt(np.diag(S))
        bentler = raw / np.outer(sd, sd)
        bentler_mean = raw_mean / sd
        sd_h = np.sqrt(np.diag(sigma))
        cor_res = S / np.outer(sd, sd) - sigma / np.outer(sd_h, sd_h)
        mplus_mean = m / sd - mu / sd_h
        diag_rel = (np.diag(S) - np.diag(sigma)) / np.diag(S)

        def mean_part(vec: np.ndarray) -> float:
            return float(np.sum(vec**2)) if ms else 0.0

        extra = p if ms else 0
        # each sum of squares once (the same sums as before, in the same order)
        raw_ss = np.sum(raw[low] ** 2)
        bentler_ss = np.sum(bentler[low] ** 2)
        cor_ss = np.sum(cor_res[off] ** 2)
        out["rmr_nomean"].append(np.sqrt(raw_ss / pstar))
        out["rmr"].append(np.sqrt((raw_ss + mean_part(raw_mean)) / (pstar + extra)))
        out["srmr_bentler_nomean"].append(np.sqrt(bentler_ss / pstar))
        out["srmr_bentler"].append(
            np.sqrt((bentler_ss + mean_part(bentler_mean)) / (pstar + extra)))
        n_off = p * (p - 1) / 2
        out["crmr_nomean"].append(np.sqrt(cor_ss / n_off))
        # lavaan's "cor.bollen" residuals scale the mean residuals by the sample SDs.
        out["crmr"].append(
            np.sqrt((cor_ss + mean_part(bentler_mean)) / (n_off + extra)))
        mplus_core = cor_ss + np.sum(diag_rel**2)
        out["srmr_mplus_nomean"].append(np.sqrt(mplus_core / pstar))
        out["srmr_mplus"].append(
            np.sqrt((mplus_core + mean_part(mplus_mean)) / (pstar + extra)))
    w = np.asarray(st.nobs, dtype=float) / st.ntotal
    return {k: float(np.dot(w, v)) for k, v in out.items()}


def _gfi(inp: FitInputs) -> float:
    """1 − eᵀWe / sᵀWs per group with W the normal-theory weight at Σ̂; in trace form
    aᵀWb = ½ tr(A K B K) (+ mean part), with the rows and columns of fixed exogenous
    covariates zeroed as lavaan's ``lav_samplestats_Gamma_inverse_NT(fixed.x = TRUE)`` does."""
    st = inp.stats
    exo = list(inp.exo_index)
    values = []
    for g in range(st.ngroups):
        S, m = st.covs[g], st.means[g]
        K = np.linalg.inv(inp.sigma[g])
        E = S - inp.sigma[g]
        S0 = S.copy()
        if exo:
            E[np.ix_(exo, exo)] = 0.0
            S0[np.ix_(exo, exo)] = 0.0
        t1 = 0.5 * np.sum(E * (K @ E @ K))
        t2 = 0.5 * np.sum(S0 * (K @ S0 @ K))
        if inp.meanstructure:
            K0 = K.copy()
            if exo:
                K0[exo, :] = 0.0
                K0[:, exo] = 0.0
            d = m - inp.mu[g]
            t1 += d @ K0 @ d
            t2 += m @ K0 @ m
        values.append(1.0 - t1 / t2)
    w = np.asarray(st.nobs, dtype=float) / st.ntotal
    return float(np.dot(w, values))


def fit_measures(inp: FitInputs) -> pd.Series:
    """Every fit measure of a converged ML fit, keyed by lavaan's ``fitMeasures()`` names."""
    st = inp.stats
    N = float(st.ntotal)
    G = st.ngroups
    p = len(st.names)
    nel = G * count_moments(p, inp.meanstructure, inp.n_exo)
    df = nel - inp.npar
    # lavaan (lav_test.R): a minimum a rounding error below zero is reported as 0.
    chisq = max(2.0 * N * inp.fmin, 0.0)
    # scipy.special's χ² functions directly: scipy.stats' front-ends cost ~100 µs a call.
    pvalue = float(special.chdtrc(df, chisq)) if df > 0 else np.nan
    base_chisq = baseline_chisq(st, inp.exo_index)
    n_free_base = (p - inp.n_exo) * (2 if inp.meanstructure else 1)
    base_df = nel - G * n_free_base
    incremental = incremental_indices(chisq, df, base_chisq, base_df)

    logl = inp.loglik
    k = inp.npar
    aic = -2 * logl + 2 * k
    bic = -2 * logl + k * np.log(N)
    bic2 = -2 * logl + k * np.log((N + 2) / 24)

    if df > 0:
        rmsea = lav_rmsea(chisq, df, N, G)
        lo, hi = rmsea_interval(chisq, df, N, G)
        p_close = 1.0 - float(special.chndtr(chisq, df, N * df * RMSEA_CLOSE**2 / G))
        p_notclose = float(special.chndtr(chisq, df, N * df * RMSEA_NOTCLOSE**2 / G))
    else:
        rmsea, lo, hi, p_close, p_notclose = 0.0, 0.0, 0.0, np.nan, np.nan

    res = _residual_measures(inp)
    gfi = _gfi(inp)
    # lavaan counts every sample moment here, the fixed covariates' ones included.
    nel_all = G * count_moments(p, inp.meanstructure, 0)
    agfi = 1.0 - (nel_all / df) * (1.0 - gfi) if df > 0 else 1.0
    pgfi = (df / nel_all) * gfi

    out = {
        "npar": k,
        "fmin": inp.fmin,
        "chisq": chisq,
        "df": df,
        "pvalue": pvalue,
        **incremental,
        "logl": logl,
        "unrestricted.logl": inp.unrestricted_loglik,
        "aic": aic,
        "bic": bic,
        "ntotal": int(N),
        "bic2": bic2,
        "rmsea": rmsea,
        "rmsea.ci.lower": lo,
        "rmsea.ci.upper": hi,
        "rmsea.ci.level": RMSEA_CI_LEVEL,
        "rmsea.pvalue": p_close,
        "rmsea.close.h0": RMSEA_CLOSE,
        "rmsea.notclose.pvalue": p_notclose,
        "rmsea.notclose.h0": RMSEA_NOTCLOSE,
        "rmr": res["rmr"],
        "rmr_nomean": res["rmr_nomean"],
        "srmr": res["srmr_bentler"],
        "srmr_bentler": res["srmr_bentler"],
        "srmr_bentler_nomean": res["srmr_bentler_nomean"],
        "crmr": res["crmr"],
        "crmr_nomean": res["crmr_nomean"],
        "srmr_mplus": res["srmr_mplus"],
        "srmr_mplus_nomean": res["srmr_mplus_nomean"],
        "cn_05": lav_cn(chisq, df, N, 0.05),
        "cn_01": lav_cn(chisq, df, N, 0.01),
        "gfi": gfi,
        "agfi": agfi,
        "pgfi": pgfi,
        "mfi": np.exp(-0.5 * (chisq - df) / N),
        "ecvi": chisq / N + 2.0 * k / N,
    }
    return measures_series(out)


def measures_series(values: dict[str, float]) -> pd.Series:
    """``pd.Series(values, dtype=float, name="fit measures")``, its index built once per
    sequence of names (:func:`~.labels.shared_index`)."""
    keys = tuple(values)
    index = shared_index(keys)
    data = np.fromiter(values.values(), dtype=float, count=len(keys))
    return pd.Series(data, index=index, name="fit measures", copy=False)


# ------------------------------------------------------------------------------------------
# Scaled and robust measures of the robust ML estimators (MLM, MLR): lavaan 0.6-14's
# ``lav_fit_cfi_lavobject()`` and ``lav_fit_rmsea_lavobject()`` definitions.


@dataclass(frozen=True)
class ScaledTest:
    """A test statistic and its scaled version T/c, c = tr(UΓ)/df (Satorra & Bentler 1994)."""

    chisq: float
    df: int
    trace: float  # tr(UΓ): Σ of the eigenvalues that weight the χ²₁ variables
    chisq_scaled: float
    scaling_factor: float
    pvalue_scaled: float

    @classmethod
    def from_trace(cls, chisq: float, df: int, trace: float) -> ScaledTest:
        """lavaan: no scaling without degrees of freedom, and none from a negative trace."""
        if df <= 0:
            return cls(chisq, df, trace, chisq, np.nan, np.nan)
        c = trace / df
        if c < 0:
            c = np.nan
        scaled = chisq / c
        return cls(chisq, df, trace, scaled, c, float(special.chdtrc(df, scaled)))


def _any_nan(*values) -> bool:
    """Whether any of these scalars is NaN (``np.isnan([...]).any()`` without building an
    array: these formulas run on every fit)."""
    return any(math.isnan(v) for v in values)


def _near_zero(x) -> bool:
    """|x| ≤ 1.5e-8, lavaan's ``sqrt(.Machine$double.eps)`` zero test
    (``np.isclose(x, 0, rtol=0, atol=1.5e-8)``; False for NaN)."""
    return abs(x) <= 1.5e-8


def lav_cfi(x2, df, x2_null, df_null, c=1.0, c_null=1.0) -> float:
    """CFI (Bentler 1990), and with scaling factors ``c``, ``c_null`` the robust CFI
    (Brosseau-Liard & Savalei 2014), as lavaan's ``lav_fit_cfi``: the one home of this
    formula (ML, FIML and the WLS family call it)."""
    if _any_nan(x2, df, x2_null, df_null, c, c_null):
        return np.nan
    if df > 0 and c != 1 and c_null != 1:  # the robust CFI (Brosseau-Liard & Savalei 2014)
        t1 = max(x2 - c * df, 0.0)
        t2 = max(x2 - c * df, x2_null - c_null * df_null, 0.0)
    else:
        t1 = max(x2 - df, 0.0)
        t2 = max(x2 - df, x2_null - df_null, 0.0)
    if _near_zero(t1) and _near_zero(t2):
        return 1.0
    return 1.0 - t1 / t2


def lav_tli(x2, df, x2_null, df_null, c=1.0, c_null=1.0) -> float:
    """TLI = NNFI (Tucker & Lewis 1973), robust with ``c``, ``c_null``; lavaan's."""
    if _any_nan(x2, df, x2_null, df_null, c, c_null):
        return np.nan
    if df > 0 and c != 1 and c_null != 1:
        t1 = (x2 - c * df) * df_null
        t2 = (x2_null - c_null * df_null) * df
    else:
        t1 = (x2 - df) * df_null
        t2 = (x2_null - df_null) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    if not (np.isfinite(t1) and np.isfinite(t2)):
        return np.nan
    return 1.0


def lav_rni(x2, df, x2_null, df_null, c=1.0, c_null=1.0) -> float:
    """RNI (McDonald & Marsh 1990), robust with ``c``, ``c_null``; lavaan's."""
    if _any_nan(x2, df, x2_null, df_null, c, c_null):
        return np.nan
    if df > 0 and c != 1 and c_null != 1:
        t1, t2 = x2 - c * df, x2_null - c_null * df_null
    else:
        t1, t2 = x2 - df, x2_null - df_null
    if _near_zero(t2) or not (np.isfinite(t1) and np.isfinite(t2)):
        return np.nan
    return 1.0 - t1 / t2


def lav_cn(x2, df, n, alpha) -> float:
    """Hoelter's critical N, lavaan 0.6-14's ``lav_fit_cn``: χ²_{1−α}(df) / (X²/N) + 1;
    infinite for a perfect fit with df > 0, NaN for a saturated one (df = 0, X² = 0), and 1
    when df = 0 but X² > 0 (an active inequality constraint).  lavaan's X² = 0 test is
    X² < machine ε; an iterated saturated fit leaves X² at the optimiser's rounding level, so
    here below 1e-8."""
    if df == 0 and x2 < 1e-8:
        return np.nan
    q = float(special.chdtri(df, alpha)) if df > 0 else 0.0
    return np.inf if x2 <= 0 else q / (x2 / n) + 1.0


def _lav_rfi(x2, df, x2_null, df_null) -> float:
    if _any_nan(x2, df, x2_null, df_null):
        return np.nan
    if df > df_null:
        return np.nan
    if df > 0 and df_null > 0:
        t1 = x2_null / df_null - x2 / df
        t2 = x2_null / df_null
        if not (np.isfinite(t1) and np.isfinite(t2)):
            return np.nan
        return 1.0 if (t1 < 0 or t2 < 0) else t1 / t2
    return 1.0


def _lav_nfi(x2, df, x2_null, df_null) -> float:
    if _any_nan(x2, df, x2_null, df_null):
        return np.nan
    if df > df_null or _near_zero(x2_null):
        return np.nan
    return (x2_null - x2) / x2_null if df > 0 else 1.0


def _lav_pnfi(x2, df, x2_null, df_null) -> float:
    if _any_nan(x2, df, x2_null, df_null):
        return np.nan
    if df_null > 0 and x2_null > 0:
        return (df / df_null) * (x2_null - x2) / x2_null
    return np.nan


def _lav_ifi(x2, df, x2_null, df_null) -> float:
    if _any_nan(x2, df, x2_null, df_null):
        return np.nan
    t1, t2 = x2_null - x2, x2_null - df
    if not (np.isfinite(t1) and np.isfinite(t2)):
        return np.nan
    if t2 < 0:
        return 1.0
    if _near_zero(t2):
        return np.nan
    return t1 / t2


def lav_rmsea(x2, df, n, groups, c=1.0) -> float:
    """RMSEA = √(max(X²/(N df) − c/N, 0)) · √G (Steiger & Lind 1980; the multiple-group
    factor √G of Steiger 1998), lavaan 0.6-14's ``lav_fit_rmsea``: the one home of this
    formula (standard with c = 1, scaled, robust with the scaling factor c); 0 when df = 0."""
    if not np.isfinite(df) or not np.isfinite(x2):
        return np.nan
    return float(np.sqrt(max((x2 / n) / df - c / n, 0.0)) * np.sqrt(groups)) if df > 0 else 0.0


def rmsea_interval(x2, df, n, groups, c=1.0, level=RMSEA_CI_LEVEL) -> tuple[float, float]:
    """The RMSEA confidence interval, lavaan's ``lav_fit_rmsea_ci()`` (the one home of this
    formula: standard, scaled, robust, FIML-corrected and WLS versions all call it): invert
    the non-central χ²(df, λ) at X² (Steiger 1990), then RMSEA = √(c λ / (N df)) · √G
    (c = 1 for the standard and scaled versions, the scaling factor for the robust one)."""
    if not (np.isfinite(x2) and np.isfinite(df) and np.isfinite(n)):
        return np.nan, np.nan
    upper_p = 1 - (1 - level) / 2
    lower_p = (1 - level) / 2

    def cdf(lam: float) -> float:
        return float(special.chndtr(x2, df, lam)) if lam > 0 else float(special.chdtr(df, x2))

    def root(p: float, upper: float) -> float:
        # The λ with F(X²; df, λ) = p, unique because F falls with λ and bracketed in
        # [0, upper] by the caller: scipy's chndtrinc (cdflib's cdfchn; 10 µs) agrees with
        # a Brent search to 1e-12 (4e-14 relative over 3,800 random cases), which costs
        # twenty times as much; Brent stays as the fallback.
        lam = float(special.chndtrinc(x2, df, p))
        if np.isfinite(lam) and 0.0 <= lam <= upper:
            return lam
        return optimize.brentq(lambda v: cdf(v) - p, 0.0, upper, xtol=1e-12)

    scale = np.sqrt(groups) if groups > 1 else 1.0
    if df < 1 or cdf(0.0) - upper_p < 0:
        lo = 0.0
    else:
        lo = np.sqrt(c * root(upper_p, x2) / (n * df)) * scale
    n_rmsea = max(n, 4 * x2)
    if df < 1 or cdf(n_rmsea) - lower_p > 0 or cdf(0.0) - lower_p < 0:
        hi = 0.0
    else:
        hi = np.sqrt(c * root(lower_p, n_rmsea) / (n * df)) * scale
    return float(lo), float(hi)


def _lav_rmsea_p(x2, df, n, groups, c, h0, close: bool) -> float:
    if not (np.isfinite(x2) and np.isfinite(df)) or df <= 0:
        return np.nan
    ncp = (n * df * h0**2 / c) / groups
    p = float(special.chndtr(x2, df, ncp))
    return 1.0 - p if close else p


#: Where lavaan 0.6-14's ``fitMeasures()`` puts the scaled/robust entries: after these names.
_SCALED_ANCHORS = (
    ("pvalue", ("chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor")),
    ("baseline.pvalue", ("baseline.chisq.scaled", "baseline.df.scaled",
                         "baseline.pvalue.scaled", "baseline.chisq.scaling.factor")),
    ("tli", ("cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust")),
    ("rni", ("nnfi.scaled", "rfi.scaled", "nfi.scaled", "pnfi.scaled", "ifi.scaled",
             "rni.scaled", "nnfi.robust", "rni.robust")),
    ("bic2", ("scaling.factor.h1", "scaling.factor.h0")),
    ("rmsea.notclose.h0", ("rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
                           "rmsea.pvalue.scaled", "rmsea.notclose.pvalue.scaled",
                           "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust",
                           "rmsea.pvalue.robust", "rmsea.notclose.pvalue.robust")),
)


def scaled_fit_measures(
    measures: pd.Series,
    test: ScaledTest,
    baseline: ScaledTest,
    ntotal: float,
    ngroups: int,
    scaling_h1: float | None = None,
    scaling_h0: float | None = None,
) -> pd.Series:
    """``measures`` (from :func:`fit_measures`) with lavaan's ``.scaled`` and ``.robust``
    entries for a Satorra–Bentler or Yuan–Bentler scaled test, in lavaan's order.

    * ``.scaled``: the indices computed from the scaled statistics T/c and T_b/c_b as if they
      were ordinary χ² values; ``rmsea.scaled`` (lavaan ≥ 0.6-13) from T with df replaced by
      tr(UΓ) (= c·df).
    * ``.robust``: CFI/TLI/RNI from T − c·df and T_b − c_b·df_b (Brosseau-Liard & Savalei
      2014, *Multivariate Behav. Res.* 49, 460–470); RMSEA √max(0, T/(N df) − c/N)·√G
      (Brosseau-Liard, Savalei & Li 2012, *Multivariate Behav. Res.* 47, 904–930), its interval
      and close-fit p-values from the scaled statistic with λ multiplied (the null RMSEA's
      non-centrality divided) by c (Savalei 2018, *Educ. Psychol. Meas.* 78, 5–22).

    ``scaling_h1``/``scaling_h0`` (Yuan–Bentler only) are reported as lavaan's
    ``scaling.factor.h1``/``scaling.factor.h0`` (not at df = 0, where lavaan has no trace).
    """
    N, G = float(ntotal), int(ngroups)
    x2, df = test.chisq, test.df
    x2s, c = test.chisq_scaled, test.scaling_factor
    b2, bdf = baseline.chisq, baseline.df
    b2s, cb = baseline.chisq_scaled, baseline.scaling_factor
    new: dict[str, float] = {
        "chisq.scaled": x2s,
        "df.scaled": df,
        "pvalue.scaled": test.pvalue_scaled,
        "chisq.scaling.factor": c,
        "baseline.chisq.scaled": b2s,
        "baseline.df.scaled": bdf,
        "baseline.pvalue.scaled": baseline.pvalue_scaled,
        "baseline.chisq.scaling.factor": cb,
        "cfi.scaled": lav_cfi(x2s, df, b2s, bdf),
        "tli.scaled": lav_tli(x2s, df, b2s, bdf),
        "cfi.robust": lav_cfi(x2, df, b2, bdf, c, cb),
        "tli.robust": lav_tli(x2, df, b2, bdf, c, cb),
        "nnfi.scaled": lav_tli(x2s, df, b2s, bdf),
        "rfi.scaled": _lav_rfi(x2s, df, b2s, bdf),
        "nfi.scaled": _lav_nfi(x2s, df, b2s, bdf),
        "pnfi.scaled": _lav_pnfi(x2s, df, b2s, bdf),
        "ifi.scaled": _lav_ifi(x2s, df, b2s, bdf),
        "rni.scaled": lav_rni(x2s, df, b2s, bdf),
        "nnfi.robust": lav_tli(x2, df, b2, bdf, c, cb),
        "rni.robust": lav_rni(x2, df, b2, bdf, c, cb),
    }
    if scaling_h1 is not None and df > 0:
        new["scaling.factor.h1"] = scaling_h1
        new["scaling.factor.h0"] = scaling_h0
    # scaled RMSEA: the unscaled T with df2 = tr(UΓ)
    # (lavaan computes no trace without degrees of freedom: then no scaled RMSEA either)
    df2 = test.trace if (df > 0 and np.isfinite(test.trace) and test.trace != 0) else np.nan
    lo_s, hi_s = rmsea_interval(x2, df2, N, G)
    lo_r, hi_r = rmsea_interval(x2s, df, N, G, c)
    new.update({
        "rmsea.scaled": lav_rmsea(x2, df2, N, G),
        "rmsea.ci.lower.scaled": lo_s,
        "rmsea.ci.upper.scaled": hi_s,
        "rmsea.pvalue.scaled": _lav_rmsea_p(x2, df2, N, G, 1.0, RMSEA_CLOSE, True),
        "rmsea.notclose.pvalue.scaled": _lav_rmsea_p(x2, df2, N, G, 1.0, RMSEA_NOTCLOSE, False),
        "rmsea.robust": lav_rmsea(x2, df, N, G, c),
        "rmsea.ci.lower.robust": lo_r,
        "rmsea.ci.upper.robust": hi_r,
        "rmsea.pvalue.robust": _lav_rmsea_p(x2s, df, N, G, c, RMSEA_CLOSE, True),
        "rmsea.notclose.pvalue.robust": _lav_rmsea_p(x2s, df, N, G, c, RMSEA_NOTCLOSE, False),
    })
    after = {anchor: names for anchor, names in _SCALED_ANCHORS}
    out: dict[str, float] = {}
    for name, value in measures.items():
        if name in new:
            continue
        out[name] = value
        for extra in after.get(name, ()):
            if extra in new:
                out[extra] = new[extra]
    for name, value in new.items():  # anchors missing from ``measures``: append
        out.setdefault(name, value)
    return pd.Series(out, dtype=float, name=measures.name)
