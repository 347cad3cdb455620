"""Factor scores from a fitted model.

The regression (Thurstone 1935; Thomson) predictor of the latent variables η given the observed
x, lavaan's ``lavPredict(fit, method = "regression")``:

    η̂ = μ_η + Cov(η, x) Σ̂⁻¹ (x − μ̂_x)

with Σ̂ the model-implied covariance matrix of x, and Cov(η, x) the latent–observed block of
the model-implied covariance matrix of all variables, C = B S Bᵀ in the RAM form (for a
first-order CFA, Cov(η, x) = Φ̂ Λ̂ᵀ, so η̂ = Φ̂ Λ̂ᵀ Σ̂⁻¹ (x − μ̂)).  Because C covers every
latent variable, higher-order factors are scored the same way (lavaan does the same through
Cov(η) Λᵀ, whose higher-order rows are Cov(η_2, x)).  Means: without a mean structure
μ̂_x is the sample mean and μ_η = 0 (lavaan's convention); with one, the model-implied means.

After a FIML fit, rows with missing answers are scored from the items they answered, as
lavaan's ``lavPredict`` does for ``missing = "ml"``: η̂ = μ_η + Cov(η, x_o) Σ̂_oo⁻¹ (x_o − μ̂_o)
with ``o`` the row's observed items (the conditional expectation of η given x_o under the fitted
normal model); a row with no answer at all gets NaN.  After a listwise fit a row with a
missing item gets NaN, as in lavaan.

Bartlett's (1937) scores, (Λ̂ᵀΘ̂⁻¹Λ̂)⁻¹Λ̂ᵀΘ̂⁻¹(x − μ̂) + μ_η, are available for first-order
factors (``method="bartlett"``, lavaan's ``method = "Bartlett"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, EstimationError, SpecError
from ..survey.fit_checks import as_frame
from ._common import blocks, check_fit, multigroup


def factor_scores(res, method: str = "regression", *, data=None) -> pd.DataFrame:
    """Scores of every latent variable, for the rows the fit used or for new data.

    Args:
        res: a converged :class:`~cbec_sem.results.FitResult`.
        method: ``"regression"`` (lavaan's default ``lavPredict()`` method) or
            ``"bartlett"`` (first-order factors only).
        data: optional DataFrame to score (single-group fits), with the model's observed
            columns; rows with a missing item get NaN scores and keep their index.  By
            default the complete-case rows the fit used are scored (index 0..N−1; a
            ``group`` column first for multi-group fits).

    Returns:
        A DataFrame with one column per latent variable, in the model's order.

    Raises:
        SpecError: an unknown ``method``; ``data`` with a multi-group fit; Bartlett scores
            of a higher-order factor.
        DataError: ``data`` lacks a model column or has a non-numeric one.

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> scores = cs.factor_scores(res)
        >>> scores.shape, list(scores.columns)
        ((400, 7), ['TA', 'FA', 'PC', 'VP', 'FO', 'IS', 'SCI'])
    """
    check_fit(res, "factor_scores()", covariance=True)
    method = method.lower()
    if method not in ("regression", "bartlett"):
        raise SpecError(f"method={method!r}: use 'regression' or 'bartlett'")
    if data is None:
        # the fit's own rows are scored once per fit (a fit is immutable; ``res.hypotheses``
        # scores it for every necessity hypothesis): kept on the fit as cached_property
        # keeps its values, and a copy returned, so a caller may change its frame
        cache = getattr(res, "__dict__", None)
        key = f"_factor_scores_{method}"
        if cache is not None and key not in cache:
            cache[key] = _factor_scores(res, method, None)
        return (cache[key] if cache is not None else _factor_scores(res, method, None)).copy()
    return _factor_scores(res, method, data)


def _factor_scores(res, method: str, data) -> pd.DataFrame:
    """:func:`factor_scores` after its checks."""
    multi = multigroup(res)
    if data is not None and multi:
        raise SpecError("scoring new data is available for single-group fits only; score "
                        "each group's rows with a single-group fit, or omit data= to score "
                        "the rows the multi-group fit used")
    frames = []
    for blk in blocks(res):
        if data is None:
            x = blk.data
            index = None
        else:
            frame = as_frame(data)
            missing = [v for v in blk.observed if v not in frame.columns]
            if missing:
                raise DataError(f"data lacks the model column(s) {', '.join(missing)}")
            try:
                x = frame[list(blk.observed)].to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise DataError(f"data has a non-numeric model column: {exc}") from None
            index = frame.index
        scores = _scores(blk, x, method, partial=res.estimation.options.missing == "fiml")
        out = pd.DataFrame(scores, columns=list(blk.latent), index=index)
        if multi:
            out.insert(0, "group", blk.label)
        frames.append(out)
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)


def _scores(blk, x: np.ndarray, method: str, partial: bool) -> np.ndarray:
    """η̂ for every row of ``x``; with ``partial`` (a FIML fit) each missingness pattern with
    the weights of its observed items, otherwise NaN for a row with a missing item (lavaan's
    ``lavPredict`` after a listwise fit)."""
    mu_x = blk.mean_all[: blk.p]
    mu_eta = blk.mean_all[blk.p:]
    out = np.full((x.shape[0], len(blk.latent)), np.nan)
    observed = ~np.isnan(x)
    patterns, which = np.unique(observed, axis=0, return_inverse=True)
    for k, pattern in enumerate(patterns):
        rows = np.flatnonzero(which.ravel() == k)
        if not pattern.any() or (not partial and not pattern.all()):
            continue
        w = _weights(blk, method, np.flatnonzero(pattern))
        out[rows] = (x[np.ix_(rows, pattern)] - mu_x[pattern]) @ w.T + mu_eta
    return out


def latent_posterior(res) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per group: the rows the fit used (observed variables in the model's order), the
    posterior means E(η | x) (the regression scores of :func:`factor_scores`) and the
    posterior covariance Var(η | x) = Φ − Cov(η, x) Σ_xx⁻¹ Cov(x, η), the same for every
    complete case under the fitted normal model (Mislevy 1991: plausible values are draws from
    this posterior).  After a FIML fit a row with missing items has a larger posterior
    variance than the one returned; plausible values drawn with it are then too narrow for
    those rows."""
    check_fit(res, "latent_posterior()", covariance=True)
    fiml = res.estimation.options.missing == "fiml"
    out = []
    for blk in blocks(res):
        p = blk.p
        cov_eta_x = blk.C[p:, :p]
        try:
            w = np.linalg.solve(blk.sigma, cov_eta_x.T).T
        except np.linalg.LinAlgError:
            raise EstimationError("the model-implied covariance matrix is singular, so the "
                                  "latent posterior is not defined") from None
        post = blk.C[p:, p:] - w @ cov_eta_x.T
        out.append((blk.data, _scores(blk, blk.data, "regression", partial=fiml),
                    0.5 * (post + post.T)))
    return out


def score_weights(blk, method: str = "regression") -> np.ndarray:
    """The (latent × observed) weight matrix W of :func:`factor_scores`: η̂ = μ_η + W (x − μ̂)."""
    return _weights(blk, method)


def _weights(blk, method: str, items: np.ndarray | None = None) -> np.ndarray:
    """Weights on the observed items ``items`` (all items by default)."""
    p = blk.p
    items = np.arange(p) if items is None else items
    sigma = blk.sigma[np.ix_(items, items)]
    if method == "regression":
        cov_eta_x = blk.C[p:, :p][:, items]
        try:
            return np.linalg.solve(sigma, cov_eta_x.T).T
        except np.linalg.LinAlgError:
            raise EstimationError("the model-implied covariance matrix is singular, so "
                                  "factor scores are not defined; check res.converged "
                                  "for an inadmissible solution") from None
    # Bartlett: first-order loadings Λ (observed rows, latent columns) and residual Θ.
    lam = blk.A[:p, p:][items]
    latent = blk.latent
    empty = [latent[k] for k in np.flatnonzero(~np.any(lam != 0.0, axis=0))]
    if empty:
        raise SpecError(
            f"Bartlett scores need observed indicators; {', '.join(empty)} has none (a "
            "higher-order factor): use method='regression'"
        )
    theta = blk.S[:p, :p][np.ix_(items, items)]
    try:
        ti_lam = np.linalg.solve(theta, lam)
    except np.linalg.LinAlgError:
        raise SpecError("Bartlett scores need a non-singular residual covariance matrix "
                        "(a zero residual variance makes it singular): use "
                        "method='regression'") from None
    return np.linalg.solve(lam.T @ ti_lam, ti_lam.T)
