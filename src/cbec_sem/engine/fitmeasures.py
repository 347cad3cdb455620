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

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

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
    for n, cov in zip(stats.nobs, stats.covs):
        endo = [k for k in range(cov.shape[0]) if k not in exo]
        logdet_b = float(np.sum(np.log(np.diag(cov)[endo])))
        if exo:
            logdet_b += np.linalg.slogdet(cov[np.ix_(exo, exo)])[1]
        total += n * (logdet_b - np.linalg.slogdet(cov)[1])
    return float(total)


def _rmsea_interval(chisq: float, df: int, n: float, groups: int) -> tuple[float, float]:
    def ncp_at(prob: float) -> float:
        if special.chdtr(df, chisq) < prob:
            return 0.0
        f = lambda lam: special.chndtr(chisq, df, lam) - prob  # noqa: E731
        upper = max(chisq, 1.0)
        while f(upper) > 0:
            upper *= 2.0
        return optimize.brentq(f, 0.0, upper, xtol=1e-12)

    alpha = (1 - RMSEA_CI_LEVEL) / 2
    lam_lo = ncp_at(1 - alpha)
    lam_hi = ncp_at(alpha)
    scale = np.sqrt(groups)
    return np.sqrt(lam_lo / (n * df)) * scale, np.sqrt(lam_hi / (n * df)) * scale


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
        low = np.tril_indices(p)
        off = np.tril_indices(p, -1)
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
        out["rmr_nomean"].append(np.sqrt(np.sum(raw[low] ** 2) / pstar))
        out["rmr"].append(np.sqrt((np.sum(raw[low] ** 2) + mean_part(raw_mean)) / (pstar + extra)))
        out["srmr_bentler_nomean"].append(np.sqrt(np.sum(bentler[low] ** 2) / pstar))
        out["srmr_bentler"].append(
            np.sqrt((np.sum(bentler[low] ** 2) + mean_part(bentler_mean)) / (pstar + extra)))
        n_off = p * (p - 1) / 2
        out["crmr_nomean"].append(np.sqrt(np.sum(cor_res[off] ** 2) / n_off))
        # lavaan's "cor.bollen" residuals scale the mean residuals by the sample SDs.
        out["crmr"].append(
            np.sqrt((np.sum(cor_res[off] ** 2) + mean_part(bentler_mean)) / (n_off + extra)))
        mplus_core = np.sum(cor_res[off] ** 2) + np.sum(diag_rel**2)
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
    base_p = float(special.chdtrc(base_df, base_chisq)) if base_df > 0 else np.nan

    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, base_chisq - base_df, 0.0)
    cfi = 1.0 if t2 == 0 else 1.0 - t1 / t2
    if df > 0:
        tli = (base_chisq / base_df - chisq / df) / (base_chisq / base_df - 1.0)
        rfi = (base_chisq / base_df - chisq / df) / (base_chisq / base_df)
    else:
        tli, rfi = 1.0, np.nan
    nfi = (base_chisq - chisq) / base_chisq
    pnfi = (df / base_df) * nfi
    ifi = (base_chisq - chisq) / (base_chisq - df)
    rni = 1.0 - (chisq - df) / (base_chisq - base_df) if base_chisq != base_df else np.nan

    logl = inp.loglik
    k = inp.npar
    aic = -2 * logl + 2 * k
    bic = -2 * logl + k * np.log(N)
    bic2 = -2 * logl + k * np.log((N + 2) / 24)

    if df > 0:
        rmsea = np.sqrt(max((chisq / N) / df - 1.0 / N, 0.0)) * np.sqrt(G)
        lo, hi = _rmsea_interval(chisq, df, N, G)
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
        "baseline.chisq": base_chisq,
        "baseline.df": base_df,
        "baseline.pvalue": base_p,
        "cfi": cfi,
        "tli": tli,
        "nnfi": tli,
        "rfi": rfi,
        "nfi": nfi,
        "pnfi": pnfi,
        "ifi": ifi,
        "rni": rni,
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
        # Hoelter's critical N: infinite for a perfect fit (chisq = 0), as in lavaan.
        "cn_05": special.chdtri(df, 0.05) / (chisq / N) + 1.0 if df > 0 and chisq > 0 else (
            np.inf if df > 0 else np.nan),
        "cn_01": special.chdtri(df, 0.01) / (chisq / N) + 1.0 if df > 0 and chisq > 0 else (
            np.inf if df > 0 else np.nan),
        "gfi": gfi,
        "agfi": agfi,
        "pgfi": pgfi,
        "mfi": np.exp(-0.5 * (chisq - df) / N),
        "ecvi": chisq / N + 2.0 * k / N,
    }
    return pd.Series(out, dtype=float, name="fit measures")
