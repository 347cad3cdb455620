"""Robust ML: sandwich standard errors and scaled test statistics (lavaan's MLM and MLR).

Both estimators keep the ML point estimates and change what is said about their precision and
fit, for data that are not multivariate normal (Likert items are skewed and kurtotic).

**MLM** (lavaan ``estimator = "MLM"``: ``se = "robust.sem"``, ``test = "satorra.bentler"``).
With Δ_g = ∂m_g/∂θ the moment Jacobian, W_g the normal-theory weight at Σ̂_g (``engine/gamma.py``),
Γ_g the distribution-free covariance of the sample moments (divisor n_g, as lavaan), f_g = n_g/N
and the expected information E = Σ_g f_g Δ_gᵀW_gΔ_g:

    N·Cov(θ̂) = E⁻¹ (Σ_g f_g Δ_gᵀ W_g Γ_g W_g Δ_g) E⁻¹          (Satorra & Bentler 1994;
                                                                 Browne 1984, eq. 2.12)

and the Satorra–Bentler scaled statistic T/c with c = tr(UΓ)/df,
U = W − WΔE⁻¹ΔᵀW over the stacked groups (Satorra & Bentler 1994, *Latent Variables
Analysis*, 399–419; lavaan's ``lav_test_satorra_bentler(method = "original")``).

**MLR** (lavaan ``estimator = "MLR"``: ``se = "robust.huber.white"``,
``test = "yuan.bentler.mplus"``, ``information = "observed"``, ``observed.information =
"hessian"``, ``h1.information = "structured"``).  The bread is the observed information H (the
Hessian of F = −logL/N + const), the meat the mean outer product of the casewise scores
s_i = Δ_gᵀ ∂ℓ_i/∂m_g at the model-implied moments (Huber 1967; White 1982):

    N·Cov(θ̂) = H⁻¹ B H⁻¹,   B = (1/N) Σ_i s_i s_iᵀ.

The Yuan–Bentler T2* statistic in its Mplus form (Yuan & Bentler 2000, *Sociol. Methodol.*
30, 165–200; Asparouhov & Muthén 2005) scales T by c = [Σ_g tr(B1_g A1_g⁻¹) − Σ_g f_g
tr(B0_g H⁻¹)]/df, with A1_g and B1_g the expected and first-order information of the
saturated model at the sample moments (B1 = A1 Γ A1) and B0_g = Δ_gᵀ B1ˢ_g Δ_g the
first-order information at the fitted moments.  lavaan also reports the two halves,
``scaling.factor.h1`` = Σ tr(B1 A1⁻¹)/moments and ``scaling.factor.h0`` =
Σ f_g tr(B0_g H⁻¹)/npar, npar counting every free row of the parameter table (lavaan's
``nx.free``, before labels and equality constraints reduce it).

The baseline (independence) model is scaled the same way, which gives the ``.scaled``
incremental indices; the ``.robust`` CFI/TLI/RNI (Brosseau-Liard & Savalei 2014) and RMSEA
(Brosseau-Liard, Savalei & Li 2012; Savalei 2018) follow in
:func:`cbec_sem.engine.fitmeasures.scaled_fit_measures`.

**MLR with FIML** (``missing="fiml"``, lavaan's ``missing = "ml"``): the same sandwich and
test from the observed-data likelihood of ``engine/fiml.py`` (see :func:`_robust_fiml`).

Conventions (lavaan 0.6-14, checked against its output): Γ and the sample covariance matrix
use the divisor N (``gamma.n.minus.one = FALSE``), N·Cov is divided by N (not N − G), and
with fixed exogenous covariates (``fixed.x``) their moments get zero weight and Γ is taken
conditional on them.  Equality constraints enter through the reparametrisation
θ = θ₀ + N x: every inverse information is N (Nᵀ I N)⁻¹ Nᵀ, which equals lavaan's bordered
(augmented) inverse.

None of these p* × p* matrices (p* = p + p(p+1)/2 moments: 8,910 for 132 items) is formed
for complete data: every trace and q × q product above is computed from n × p and n × q
casewise terms (``engine/robust_casewise.py``; issue 14).

``options.information`` is honoured as lavaan honours it (defaults: expected for MLM, observed
for MLR).  The bread of the sandwich is the information it names (for MLR with FIML also the
saturated model's A1 in the test).  MLM with ``information = "observed"``: the weight W in
the meat and in U is the saturated model's observed information at the model-implied moments
(lavaan's ``h1.information = "structured"``), and E in U is ΔᵀWΔ from that W; the baseline is
treated the same way at its own moments.  Checked against lavaan 0.6-14 in
``tests/fixtures/lavaan/{hs_cfa_mlm_observed,*_mlr_expected}.json``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .threads import blas_one_thread
from ..errors import EstimationError, SpecError
from .fitmeasures import ScaledTest, scaled_fit_measures, free_covariates
from .gamma import casewise_scores, moment_mask
from . import fiml as _fiml
from .fiml import fiml_corrected, h1_information, robust_fiml_measures
from .estimates_table import parameter_estimates, row_standard_errors
from .observed_information import observed_information_in_x
from .robust_casewise import (casewise_rows, model_scores, model_weighted_moments,
                              observed_model_information, observed_model_weighted_moments,
                              observed_selected_weight, observed_selected_weighted_moments,
                              observed_trace_weight_gamma, observed_weight, selected_scores,
                              selected_weight, selected_weighted_moments,
                              symmetric_inverse, trace_weight_gamma)

#: What lavaan calls the standard-error and test methods of each robust estimator.
METHODS = {
    "MLM": {"se": "robust.sem", "test": "satorra.bentler", "information": "expected"},
    "MLR": {"se": "robust.huber.white", "test": "yuan.bentler.mplus", "information": "observed"},
}


def _pinv_sym(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(a)


def _exo_index(est) -> tuple[int, ...]:
    names = est.stats.names
    return tuple(names.index(v) for v in est.partable.roles.ov_x)


def first_order_information(y: np.ndarray, delta: np.ndarray, sigma: np.ndarray,
                            mu: np.ndarray, meanstructure: bool, exo: tuple[int, ...] = ()
                            ) -> np.ndarray:
    """B0 = Δᵀ (SCᵀSC/n) Δ: the first-order information of one group's rows ``y``, from the
    casewise scores SC of the normal log-likelihood at (μ, Σ) (the meat of lavaan's
    ``se = "robust.huber.white"``; Huber 1967, White 1982)."""
    sc = casewise_scores(y, sigma, mu, meanstructure, exo) @ delta
    return sc.T @ sc / y.shape[0]


def _information_x(est) -> np.ndarray:
    """The information matrix in x-space that ``options.information`` names: the Hessian of
    the fit function (``"observed"``: :func:`.observed_information.observed_information_in_x`)
    or its expectation at the model-implied moments (``"expected"``: the fit function's own
    expected information, Σ_g f_g Δ_gᵀ W_g Δ_g for complete data)."""
    reparam = est.reparam
    x = reparam.x(est.theta)
    if est.options.information == "observed":
        return observed_information_in_x(est.function, reparam, x)
    info = est.function.evaluate(est.theta, information=True).information
    return info if reparam.identity else reparam.basis.T @ info @ reparam.basis


def _ml_bread_inverse(est) -> np.ndarray:
    """N (Nᵀ I N)⁻¹ Nᵀ for the information ``options.information`` names: the ML estimation's
    own covariance matrix times N, which ``estimate.py`` formed from that same information
    (:func:`.inference.covariance_of_theta`); formed here only when it is missing."""
    vcov = est.vcov
    q = est.ram.nfree
    if vcov is not None and vcov.shape == (q, q) and np.all(np.isfinite(vcov)):
        return float(est.stats.ntotal) * vcov
    return _bread_inverse(_information_x(est), est.reparam.basis)


def _bread_inverse(info_x: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """N (Nᵀ I N)⁻¹ Nᵀ from the information in x-space (no products when N = I)."""
    inv = _pinv_sym(info_x)
    if basis.shape[0] == basis.shape[1]:  # no equality constraints: N is the identity
        return inv
    return basis @ inv @ basis.T


@blas_one_thread
def robust_estimation(est):
    """The estimation with lavaan's robust standard errors, scaled test and fit measures.

    Args:
        est: an ML :class:`~cbec_sem.engine.estimate.Estimation` whose ``options.estimator``
            is ``"MLM"`` or ``"MLR"``; complete data (listwise), or, for MLR only, FIML
            (``missing="fiml"``).  A fit that did not converge comes back unchanged but for
            its options.

    Returns:
        A new Estimation: ``vcov`` the sandwich covariance, ``params`` with robust ``se``, ``z``,
        ``pvalue`` and interval (``std.lv``/``std.all`` unchanged), the parameter table's
        ``se``, ``fit_measures`` with lavaan's ``.scaled`` and ``.robust`` entries, and
        ``options.extra`` naming the se/test methods.

    Raises:
        SpecError: another estimator, or MLM with missing data.
        EstimationError: a singular information matrix.
    """
    opts = est.options
    estimator = opts.estimator
    if estimator not in METHODS:
        raise SpecError(f"robust_estimation needs estimator 'MLM' or 'MLR', not {estimator!r}")
    if opts.missing == "fiml" and estimator == "MLM":
        raise SpecError(
            "estimator='MLM' needs complete data (lavaan refuses it with missing='ml' too); "
            "use estimator='MLR' with missing='fiml', or missing='listwise'")
    methods = METHODS[estimator]
    new_options = replace(opts, extra={**opts.extra, "se": methods["se"],
                                       "test": methods["test"]})
    if not est.optim.converged:
        return replace(est, options=new_options)
    if opts.missing == "fiml":
        return _robust_fiml(est, new_options)
    return _robust_casewise(est, new_options)


def _robust_casewise(est, options):
    """MLM and MLR on complete data from casewise terms (``engine/robust_casewise.py``):
    every matrix is n × p, n × q or q × q, none p* × p* (issue 14: 132 items, p* = 8,910)."""
    st = est.stats
    ms = est.meanstructure
    ram = est.ram
    exo = _exo_index(est)
    basis = est.reparam.basis
    N = float(st.ntotal)
    p = len(st.names)
    moments = ram.moments(est.theta)
    rows = [casewise_rows(y, exo) for y in st.data]
    weights = [n / N for n in st.nobs]
    e_inv = _ml_bread_inverse(est)
    if options.estimator == "MLM" and options.information == "observed":
        # lavaan: W is the saturated model's observed information at the model-implied
        # moments (h1.information = "structured"), in the meat and in U, whose E is ΔᵀWΔ
        meat, wgws, trs, test_info = 0.0, [], [], 0.0
        for g, mom in enumerate(moments):
            w = observed_weight(mom.sigma, mom.mu if ms else st.means[g], st.means[g],
                                st.covs[g])
            t = observed_model_weighted_moments(ram, mom, g, w, rows[g], ms)
            wgws.append(t.T @ t / t.shape[0])
            meat = meat + weights[g] * wgws[-1]
            trs.append(observed_trace_weight_gamma(w, rows[g], ms))
            test_info = test_info + weights[g] * observed_model_information(ram, mom, g, w, ms)
        if not est.reparam.identity:
            test_info = basis.T @ test_info @ basis
        e_test = _bread_inverse(test_info, basis)
        trace = sum(tr - f * float(np.sum(wgw * e_test.T))
                    for tr, f, wgw in zip(trs, weights, wgws))
        h1_trace, h1, h0 = 0.0, None, None
    elif options.estimator == "MLM":
        # W at Σ̂: the meat ΔᵀWΓWΔ and tr(UΓ) = Σ_g tr(WΓ) − f_g tr(E⁻¹ ΔᵀWΓWΔ), E the
        # expected information (the bread's)
        meat, trace = 0.0, 0.0
        for g, mom in enumerate(moments):
            K = symmetric_inverse(mom.sigma)
            t = model_weighted_moments(ram, mom, g, K, rows[g], ms)
            wgw = t.T @ t / t.shape[0]
            meat = meat + weights[g] * wgw
            trace += trace_weight_gamma(K, rows[g], ms) - weights[g] * float(
                np.sum(wgw * e_inv.T))
        h1_trace, h1, h0 = 0.0, None, None
    else:
        b0 = []
        for g, mom in enumerate(moments):
            sc = model_scores(ram, mom, g, st.data[g], mom.mu if ms else st.means[g], ms)
            b0.append(sc.T @ sc / sc.shape[0])
        meat = sum(w * b for w, b in zip(weights, b0))
        # Σ_g tr(B1_g A1_g⁻¹) = Σ_g tr(Γ_g A1_g) (A1 = W at S; A A⁺ A = A), over the
        # moments that are not the fixed covariates'
        h1_trace = sum(trace_weight_gamma(symmetric_inverse(S), r, ms)
                       for S, r in zip(st.covs, rows))
        ndat = st.ngroups * int(moment_mask(p, exo, ms).sum())
        h0_trace = sum(w * float(np.sum(b * e_inv.T)) for w, b in zip(weights, b0))
        trace = h1_trace - h0_trace
        nx_free = int((ram.free_index >= 0).sum())
        h1 = h1_trace / ndat
        h0 = h0_trace / nx_free
    vcov = e_inv @ meat @ e_inv / N
    fm = est.fit_measures
    test = ScaledTest.from_trace(float(fm["chisq"]), int(fm["df"]), trace)
    base_trace = _baseline_casewise(est, rows, exo, options.estimator, h1_trace)
    baseline = ScaledTest.from_trace(float(fm["baseline.chisq"]), int(fm["baseline.df"]),
                                     base_trace)
    measures = scaled_fit_measures(fm, test, baseline, ntotal=N, ngroups=st.ngroups,
                                   scaling_h1=h1, scaling_h0=h0)
    return _finish(est, vcov, measures, options)


def _baseline_parts(est, exo):
    """The independence model's moments: (covariance pairs, means) it frees, in the order of
    its parameters, and each group's Σ_b (see :func:`_baseline`)."""
    st = est.stats
    p = len(st.names)
    endo = [k for k in range(p) if k not in exo]
    free_x = free_covariates(est.function)
    pairs = [(a, b) for i, a in enumerate(free_x) for b in free_x[i + 1:]]
    pairs += [(k, k) for k in endo]
    sigmas = []
    for S in st.covs:
        sigma = np.diag(np.diag(S))
        if exo or free_x:
            xi = list(exo or free_x)
            sigma[np.ix_(xi, xi)] = S[np.ix_(xi, xi)]
        sigmas.append(sigma)
    return pairs, (endo if est.meanstructure else []), sigmas


def _baseline_casewise(est, rows, exo, estimator: str, h1_trace: float) -> float:
    """tr(UΓ) (MLM) or the Yuan–Bentler trace (MLR) of the independence model, as
    :func:`_baseline` but from casewise terms: its parameters are single moments, so Δ_b
    selects rows and columns of W_b and entries of the casewise vectors."""
    st = est.stats
    ms = est.meanstructure
    N = float(st.ntotal)
    pairs, means, sigmas = _baseline_parts(est, exo)
    blocks, middles, tr_wg = [], [], 0.0
    for g, sigma in enumerate(sigmas):
        f = st.nobs[g] / N
        K = symmetric_inverse(sigma)
        if estimator == "MLM" and est.options.information == "observed":
            w = observed_weight(sigma, st.means[g], st.means[g], st.covs[g])
            blocks.append(f * observed_selected_weight(w, pairs, means))
            t = observed_selected_weighted_moments(w, rows[g], pairs, means, ms)
            tr_wg += observed_trace_weight_gamma(w, rows[g], ms)
            middles.append(f * (t.T @ t) / t.shape[0])
            continue
        blocks.append(f * selected_weight(K, pairs, means))
        if estimator == "MLM":
            t = selected_weighted_moments(K, rows[g], pairs, means, ms)
            tr_wg += trace_weight_gamma(K, rows[g], ms)
        else:
            t = selected_scores(K, st.data[g] - st.means[g], pairs, means)
        middles.append(f * (t.T @ t) / t.shape[0])
    # group-specific parameters: the information is block-diagonal over groups
    sizes = [b.shape[0] for b in blocks]
    offsets = np.cumsum([0] + sizes)
    e = np.zeros((offsets[-1], offsets[-1]))
    for g, block in enumerate(blocks):
        e[offsets[g]:offsets[g + 1], offsets[g]:offsets[g + 1]] = block
    e_inv = _pinv_sym(e)
    inner = sum(float(np.sum(m * e_inv[offsets[g]:offsets[g + 1],
                                       offsets[g]:offsets[g + 1]].T))
                for g, m in enumerate(middles))
    return tr_wg - inner if estimator == "MLM" else h1_trace - inner


def _finish(est, vcov: np.ndarray, measures, options):
    """The Estimation with the robust covariance matrix, SEs and fit measures."""

    vcov = 0.5 * (vcov + vcov.T)
    if not np.all(np.isfinite(vcov)):
        raise EstimationError(
            f"the robust ({options.estimator}) covariance matrix of the estimates could not "
            "be computed: the information matrix is singular; check the model's "
            "identification")
    params = parameter_estimates(est.partable, est.ram, est.space, est.theta, vcov, options, True)
    frame = est.partable.frame.copy()
    frame["se"] = row_standard_errors(est.ram, vcov)
    return replace(est, params=params, vcov=vcov, fit_measures=measures,
                   partable=replace(est.partable, frame=frame), options=options)


def _robust_fiml(est, options):
    """MLR on incomplete data (lavaan ``estimator = "MLR", missing = "ml"``).

    The same sandwich and Yuan–Bentler test as for complete data, with the pieces of the
    observed-data likelihood (``engine/fiml.py``): the bread is the Hessian of the FIML fit
    function, the meat the mean outer product of the casewise FIML scores; the saturated
    model's A1 and B1 are its observed and first-order information at the EM estimates.  The
    baseline (independence) model's estimates are each variable's observed mean and variance;
    its likelihood factorises over variables, so its observed information is diagonal,
    n_j/(N σ_j²) for a mean and n_j/(2N σ_j⁴) for a variance.  The ``.robust`` indices are the
    FIML-corrected ones of Zhang & Savalei (2023) in their version for a scaled test ("V3"),
    as lavaan 0.6-14 reports them.
    """
    function = est.function
    if not hasattr(function, "casewise_scores"):
        raise SpecError("estimator='MLR' with missing='fiml' needs the FIML fit function")
    if free_covariates(function):
        # the scaled baseline would need the casewise scores of the covariates' saturated
        # block under missing data; refused rather than reported wrong
        names = ", ".join(function.ram.partable.roles.ov_x_all)
        raise SpecError(
            f"estimator='MLR' with missing='fiml' and fixed_x=False (free covariates {names}) "
            "is not available: its scaled baseline test is not computed; use fixed_x=True "
            "(lavaan's default), or estimator='ML' with missing='fiml'")
    _fiml.check_mlr_fiml_size(function.p, len(function.groups))
    st = est.stats
    exo = _exo_index(est)
    reparam = est.reparam
    basis = reparam.basis
    N = float(st.ntotal)
    info_x = _information_x(est)
    e_inv = _bread_inverse(info_x, basis)
    scores = function.casewise_scores(est.theta)
    meat = sum(sc.T @ sc for sc in scores) / N
    vcov = e_inv @ meat @ e_inv / N
    h0_trace = sum(float(np.sum((sc.T @ sc) * e_inv.T)) for sc in scores) / N
    h1_trace, ndat = 0.0, 0
    base_h0 = 0.0
    p = len(st.names)
    endo = [k for k in range(p) if k not in exo]
    for g, ps in enumerate(st.patterns):
        h1 = st.h1[g]
        a1 = h1_information(ps, h1.mean, h1.cov, options.information, exo)
        b1 = h1_information(ps, h1.mean, h1.cov, "firstorder", exo)
        keep = np.diag(a1) != 0
        a1k = a1[np.ix_(keep, keep)]
        h1_trace += float(np.sum(b1[np.ix_(keep, keep)] * _pinv_sym(a1k).T))
        ndat += int(keep.sum())
        # the baseline: casewise scores of each variable's own mean and variance
        y = ps.data[:, endo]
        seen = ~np.isnan(y)
        n_j = seen.sum(axis=0)
        mean = np.where(seen, y, 0.0).sum(axis=0) / n_j
        dev = np.where(seen, y - mean, 0.0)
        var = (dev**2).sum(axis=0) / n_j
        s_mu = dev / var
        s_var = np.where(seen, 0.5 * (dev**2 / var**2 - 1.0 / var), 0.0)
        info_mu = n_j / (N * var)
        info_var = n_j / (2.0 * N * var**2)
        base_h0 += float(np.sum(s_mu**2 / info_mu) + np.sum(s_var**2 / info_var)) / N
    fm = est.fit_measures
    df = int(fm["df"])
    bdf = int(fm["baseline.df"])
    test = ScaledTest.from_trace(float(fm["chisq"]), df, h1_trace - h0_trace)
    baseline = ScaledTest.from_trace(float(fm["baseline.chisq"]), bdf, h1_trace - base_h0)
    nx_free = int((est.ram.free_index >= 0).sum())
    measures = scaled_fit_measures(fm, test, baseline, ntotal=N, ngroups=st.ngroups,
                                   scaling_h1=h1_trace / ndat, scaling_h0=h0_trace / nx_free)
    try:
        fc = fiml_corrected(function, est.theta, reparam, df, bdf, "V3")
        robust = robust_fiml_measures(fc, N, st.ngroups)
    except np.linalg.LinAlgError:
        robust = {k: np.nan for k in measures.index if k.endswith(".robust")}
    for name, value in robust.items():
        if name in measures.index:
            measures[name] = value
    return _finish(est, vcov, measures, options)
