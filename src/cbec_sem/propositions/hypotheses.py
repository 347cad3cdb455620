"""Verdicts on hypotheses: each gets its method, estimate, interval, p and a verdict.

* ``path``: the Wald test of the regression coefficient (lavaan's ``parameterEstimates``),
  two-sided p; supported when p < α and the estimate has the hypothesised sign.
* ``indirect``: the product of the paths along the chain (x → m … → y), with a delta-method
  (Sobel 1982, eq. 14) standard error and Wald interval; supported when the interval excludes 0
  on the hypothesised side.  The standardised effect is the product of the ``std.all`` paths.
  When the fit has a bootstrap (``cs.fit(..., se="bootstrap")`` or ``bootstrap=B``), the test is
  the bootstrap percentile interval of the product instead (Preacher & Hayes 2008; the
  recommended test of an indirect effect), with the SD of the product's draws as its SE and the
  p value that inverts the percentile interval, 2·min(#{t* ≤ 0} + 1, #{t* ≥ 0} + 1)/(B + 1)
  (Davison & Hinkley 1997, §4.4, with their +1 correction): p < α exactly when the (1 − α)
  interval excludes 0, up to the interpolation of its endpoints.
* ``interaction``, ``moderation``, ``necessity``: the methods their statements call for (latent
  interactions by LMS/QML, moderation probes, necessary condition analysis) are not built
  yet; such hypotheses are listed as "not tested" with the reason, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from ..engine.estimate import Estimation
from ..specification.hypotheses import Hypothesis

#: Why a hypothesis has no test when the table is built without evidence providers
#: (``cs.fit`` supplies them: product indicators for interactions, NCA for necessity).
NOT_BUILT = {
    "interaction": "a latent interaction needs product indicators, LMS or QML; ML cannot "
    "estimate a product of latent variables (no interaction evidence was supplied)",
    "moderation": "moderation by a latent variable needs a latent interaction (no interaction "
    "evidence was supplied)",
    "necessity": "a necessity claim needs necessary condition analysis (NCA); regression "
    "cannot test necessity (Dul 2016) (no NCA evidence was supplied)",
}

COLUMNS = [
    "id", "kind", "statement", "group", "method", "estimate", "std.all", "se", "ci.lower",
    "ci.upper", "ci", "p", "verdict", "note",
]


def _path_row(est: Estimation, outcome: str, predictor: str, group: int) -> int | None:
    frame = est.partable.frame
    hit = np.flatnonzero(
        (frame["op"].to_numpy() == "~")
        & (frame["lhs"].to_numpy() == outcome)
        & (frame["rhs"].to_numpy() == predictor)
        & (frame["group"].to_numpy() == group)
    )
    return int(hit[0]) if hit.size else None


def _verdict(estimate: float, lower: float, upper: float, p: float, sign: str, alpha: float
             ) -> str:
    if not np.isfinite(p):
        return "not tested"
    if p >= alpha:
        return "not supported"
    if sign == "two-sided":
        return "supported"
    if (sign == "+") == (estimate > 0):
        return "supported"
    return "not supported (significant, opposite sign)"


def _chain_rows(est: Estimation, chain: tuple[str, ...], group: int):
    rows = []
    for a, b in zip(chain[:-1], chain[1:]):
        r = _path_row(est, b, a, group)
        if r is None:
            return None, f"the model has no path {a} → {b}"
        rows.append(r)
    return rows, None


def _indirect_bootstrap(est: Estimation, boot, chain: tuple[str, ...], group: int, level: float):
    """The product of the chain's paths over the bootstrap draws: estimate, std.all, SE,
    percentile interval and the p value that inverts it."""
    from ..resampling.intervals import percentile_interval

    rows, why = _chain_rows(est, chain, group)
    if rows is None:
        return None, why
    estimate = float(np.prod(est.params["est"].to_numpy()[rows]))
    std = float(np.prod(est.params["std.all"].to_numpy()[rows]))
    used = boot.status <= 1
    draws = np.prod(boot.est[np.ix_(used, rows)], axis=1)
    if boot.refused or draws.size < 2:
        return (estimate, std, np.nan, np.nan, np.nan, np.nan), None
    lower, upper = percentile_interval(draws[:, None], level)[0]
    B = draws.size
    p = min(1.0, 2.0 * (min(np.sum(draws <= 0), np.sum(draws >= 0)) + 1) / (B + 1))
    return (estimate, std, float(np.std(draws, ddof=1)), lower, upper, p), None


def _indirect(est: Estimation, chain: tuple[str, ...], group: int):
    rows, why = _chain_rows(est, chain, group)
    if rows is None:
        return None, why
    values = est.params["est"].to_numpy()[rows]
    std = est.params["std.all"].to_numpy()[rows]
    estimate = float(np.prod(values))
    grad = np.zeros(est.partable.nfree)
    free = est.ram.free_index[rows]
    for k, idx in enumerate(free):
        if idx >= 0:
            grad[idx] += float(np.prod(np.delete(values, k)))
    se = float(np.sqrt(max(grad @ est.vcov @ grad, 0.0)))
    return (estimate, float(np.prod(std)), se), None


def _fill_from(row: dict, provider: Callable, *args: str) -> None:
    """Fill a row from an evidence provider, or record why there is no test."""
    try:
        values, method = provider(*args)
    except LookupError as why:
        row["method"] = getattr(why, "method", row["method"]) or row["method"]
        row["note"] = str(why.args[0]) if why.args else str(why)
        return
    row["method"] = method
    row.update(values)


def _correct(table: pd.DataFrame, method: str, alpha: float, hypotheses) -> pd.DataFrame:
    """Family-wise adjusted p-values (statsmodels ``multipletests``) and verdicts from them."""
    from statsmodels.stats.multitest import multipletests

    table = table.copy()
    tested = table["p"].notna().to_numpy()
    adjusted = np.full(len(table), np.nan)
    if tested.any():
        adjusted[tested] = multipletests(table.loc[tested, "p"].to_numpy(float), alpha=alpha,
                                         method=method)[1]
    table.insert(table.columns.get_loc("p") + 1, "p.adjusted", adjusted)
    signs = {h.id: h.sign for h in hypotheses}
    for i in np.flatnonzero(tested):
        r = table.iloc[i]
        if r["kind"] == "necessity":
            necessary = r["verdict"] == "supported"
            if necessary and adjusted[i] >= alpha:
                table.iat[i, table.columns.get_loc("verdict")] = "not supported"
            continue
        table.iat[i, table.columns.get_loc("verdict")] = _verdict(
            r["estimate"], r["ci.lower"], r["ci.upper"], adjusted[i], signs[r["id"]], alpha)
    table["note"] = [
        (f"{n}; " if n else "") + f"p adjusted for {int(tested.sum())} tests ({method})"
        if t else n for n, t in zip(table["note"], tested)]
    return table


def hypothesis_table(
    est: Estimation,
    hypotheses: tuple[Hypothesis, ...],
    alpha: float = 0.05,
    bootstrap=None,
    interaction: Callable[[str, str], tuple[dict, str]] | None = None,
    necessity: Callable[[str, str], tuple[dict, str]] | None = None,
    correction: str | None = None,
) -> pd.DataFrame:
    """One row per hypothesis (and group): method, estimate, interval, p, verdict.

    ``bootstrap`` is the fit's :class:`~cbec_sem.resampling.BootstrapResult`, if it has one.
    ``interaction(outcome, term)`` and ``necessity(condition, outcome)`` supply the evidence
    for interaction/moderation and necessity hypotheses (a dict of row values and the method
    text; a ``LookupError`` carries the reason a test could not be made).  ``correction``
    (``"holm"``, ``"bonferroni"``, … — any method of statsmodels' ``multipletests``) adjusts
    the p-values of the tested hypotheses for the family (Holm 1979) and the verdicts use them.
    """
    level = est.options.level
    crit = stats.norm.ppf(0.5 + level / 2)
    groups = range(1, est.partable.ngroups + 1)
    out = []
    for h in hypotheses:
        for g in groups:
            row = dict(
                id=h.id, kind=h.kind, statement=h.statement,
                group=est.partable.group_labels[g - 1] if est.partable.ngroups > 1 else None,
                method="", estimate=np.nan, **{"std.all": np.nan}, se=np.nan,
                **{"ci.lower": np.nan, "ci.upper": np.nan}, ci=None, p=np.nan,
                verdict="not tested", note="",
            )
            if h.kind == "path":
                predictor, outcome = h.constructs
                r = _path_row(est, outcome, predictor, g)
                row["method"] = "ML Wald z test"
                if est.options.extra.get("se") == "bootstrap" and bootstrap is not None:
                    row["method"] = f"z test with bootstrap SE ({bootstrap.draws} draws)"
                if r is None:
                    row["note"] = f"the model has no path {predictor} → {outcome}"
                else:
                    p = est.params.iloc[r]
                    row.update(estimate=p["est"], se=p["se"], p=p["pvalue"],
                               **{"std.all": p["std.all"], "ci.lower": p["ci.lower"],
                                  "ci.upper": p["ci.upper"]})
            elif h.kind == "indirect" and bootstrap is not None:
                row["method"] = f"bootstrap percentile CI ({bootstrap.draws} draws)"
                res, why = _indirect_bootstrap(est, bootstrap, h.constructs, g, level)
                if res is None:
                    row["note"] = why
                else:
                    value, std, se, lower, upper, p = res
                    row.update(estimate=value, se=se, p=p,
                               **{"std.all": std, "ci.lower": lower, "ci.upper": upper})
                    if bootstrap.refused:
                        row["note"] = bootstrap.message()
            elif h.kind == "indirect":
                row["method"] = "product of paths, delta-method (Sobel) CI"
                res, why = _indirect(est, h.constructs, g)
                if res is None:
                    row["note"] = why
                else:
                    value, std, se = res
                    z = value / se if se > 0 else np.nan
                    row.update(estimate=value, se=se, p=2 * stats.norm.sf(abs(z)),
                               **{"std.all": std, "ci.lower": value - crit * se,
                                  "ci.upper": value + crit * se})
                    row["note"] = ("delta-method CI, which assumes a normal sampling distribution "
                                   "of the product; fit with se='bootstrap' and a seed for the "
                                   "bootstrap percentile CI (Preacher & Hayes 2008)")
            elif h.kind in ("interaction", "moderation") and interaction is not None:
                if h.kind == "interaction":
                    x, z, outcome = h.constructs
                    term = f"{x}:{z}"
                else:
                    moderator, focal, outcome = h.constructs
                    term = f"{focal}:{moderator}"
                _fill_from(row, interaction, outcome, term)
            elif h.kind == "necessity" and necessity is not None:
                condition, outcome = h.constructs
                _fill_from(row, necessity, condition, outcome)
            else:
                row["method"] = {"interaction": "LMS / QML", "moderation": "LMS / QML",
                                 "necessity": "NCA"}[h.kind]
                row["note"] = NOT_BUILT[h.kind]
            if not est.optim.converged and h.kind in ("path", "indirect"):
                # No verdict from a point the optimiser merely stopped at.
                row.update(se=np.nan, p=np.nan, **{"ci.lower": np.nan, "ci.upper": np.nan})
                row["note"] = "the model did not converge, so there is no test (see res.converged)"
            if np.isfinite(row["estimate"]) and h.kind != "necessity":
                row["ci"] = (float(row["ci.lower"]), float(row["ci.upper"]))
                row["verdict"] = _verdict(row["estimate"], row["ci.lower"], row["ci.upper"],
                                          row["p"], h.sign, alpha)
            out.append(row)
    table = pd.DataFrame(out, columns=COLUMNS)
    if correction:
        table = _correct(table, correction, alpha, hypotheses)
    if est.partable.ngroups == 1:
        table = table.drop(columns="group")
    return table
