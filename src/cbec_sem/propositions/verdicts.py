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
* ``interaction``, ``moderation``: the product term's Wald test, from the fit itself when it
  has the term (``estimator="LMS"``/``"QML"``), else from a refit with the product terms
  (:mod:`cbec_sem.propositions.evidence`: product indicators with the fit's ML-family estimator
  and missing-data method, or LMS/QML).
* ``necessity``: NCA on the fit's latent scores (:mod:`cbec_sem.propositions.evidence`).

One registry (:data:`PROPOSITION_TESTS`, kind → test) serves ``res.hypotheses`` and the power
study; every row names the method actually used (e.g. "MLR Wald z test") and the N it used,
and with a correction the verdict uses the adjusted p, which the summaries print.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import special

from ..engine.naming import parameter_name
from ..resampling.intervals import percentile_interval
from ..specification.hypotheses import Hypothesis

COLUMNS = [
    "id", "kind", "statement", "group", "method", "n", "estimate", "std.all", "se",
    "ci.lower", "ci.upper", "ci", "p", "verdict", "note",
]

#: ``interaction_method`` values: how a fit without product terms tests them.
INTERACTION_METHODS = ("dblcent", "rca", "lms", "qml")


def _path_row(frame: pd.DataFrame, outcome: str, predictor: str, group: int) -> int | None:
    """The row of ``outcome ~ predictor`` (in ``group``) of a parameter table."""
    hit = (frame["op"].to_numpy() == "~") & (frame["lhs"].to_numpy() == outcome) & (
        frame["rhs"].to_numpy() == predictor)
    if "group" in frame:
        hit &= frame["group"].to_numpy() == group
    hit = np.flatnonzero(hit)
    return int(hit[0]) if hit.size else None


def verdict(estimate: float, lower: float, upper: float, p: float, sign: str, alpha: float
            ) -> str:
    """The verdict rule: supported when p < α and, for a directional hypothesis,
    the estimate has the hypothesised sign."""
    if not np.isfinite(p):
        return "not tested"
    if p >= alpha:
        return "not supported"
    if sign == "two-sided":
        return "supported"
    if (sign == "+") == (estimate > 0):
        return "supported"
    return "not supported (significant, opposite sign)"


def _chain_rows(frame: pd.DataFrame, chain: tuple[str, ...], group: int):
    rows = []
    for a, b in zip(chain[:-1], chain[1:]):
        r = _path_row(frame, b, a, group)
        if r is None:
            return None, f"the model has no path {a} → {b}"
        rows.append(r)
    return rows, None


def _chain_values(res, chain: tuple[str, ...], group: int):
    """Rows, estimates, ``std.all`` and free-parameter indices of the chain's paths."""
    frame = res.estimation.partable_frame
    rows, why = _chain_rows(frame, chain, group)
    if rows is None:
        return None, why
    values = frame["est"].to_numpy(dtype=float)[rows]
    params = res.estimation.params
    std = np.array([params.loc[_path_row(params, b, a, group), "std.all"]
                    if "std.all" in params else np.nan for a, b in zip(chain[:-1], chain[1:])],
                   dtype=float)
    free = frame["free"].to_numpy()[rows] - 1
    return (rows, values, std, free), None


def _indirect_bootstrap(res, chain: tuple[str, ...], group: int, level: float):
    """The product of the chain's paths over the bootstrap draws: estimate, std.all, SE,
    percentile interval and the p value that inverts it."""
    got, why = _chain_values(res, chain, group)
    if got is None:
        return None, why
    _, values, std, _ = got
    boot = res.bootstrap
    estimate = float(np.prod(values))
    draws = np.prod([boot.draws_of(b, "~", a, group) for a, b in zip(chain[:-1], chain[1:])],
                    axis=0)
    if boot.refused or draws.size < 2:
        return (estimate, float(np.prod(std)), np.nan, np.nan, np.nan, np.nan), None
    lower, upper = percentile_interval(draws[:, None], level)[0]
    B = draws.size
    p = min(1.0, 2.0 * (min(np.sum(draws <= 0), np.sum(draws >= 0)) + 1) / (B + 1))
    return (estimate, float(np.prod(std)), float(np.std(draws, ddof=1)), lower, upper, p), None


def wald_p(estimate: float, se: float) -> float:
    """Two-sided p of the Wald z = estimate/se, 2·Φ(−|z|) = erfc(|z|/√2) (NaN without a
    positive, finite SE)."""
    if not (se > 0) or not np.isfinite(se):
        return np.nan
    return float(math.erfc(abs(estimate / se) / math.sqrt(2.0)))


def wald_row(estimate: float, se: float, std: float, level: float) -> dict:
    """The row values of a Wald z test: estimate, std.all, SE, two-sided p and the Wald
    interval estimate ± z_{(1+level)/2}·SE."""
    crit = float(special.ndtri(0.5 + level / 2))
    return {"estimate": estimate, "std.all": std, "se": se, "p": wald_p(estimate, se),
            "ci.lower": estimate - crit * se, "ci.upper": estimate + crit * se}


def params_row(p: pd.Series) -> dict:
    """The row values of a Wald test read from a row of ``res.params`` (its estimate, SE, p,
    std.all and interval, as the fit computed them)."""
    return {"estimate": p["est"], "se": p["se"], "p": p["pvalue"],
            "std.all": p.get("std.all", np.nan), "ci.lower": p["ci.lower"],
            "ci.upper": p["ci.upper"]}


def product_of_paths(values: np.ndarray, free: np.ndarray, vcov: np.ndarray
                     ) -> tuple[float, float]:
    """The product of a chain of path coefficients and its delta-method SE (Sobel 1982,
    eq. 14): ``free`` gives each path's index in ``vcov`` (−1 for a fixed path)."""
    grad = np.zeros(vcov.shape[0])
    values = [float(v) for v in values]
    for k, idx in enumerate(free):
        if idx >= 0:
            grad[idx] += math.prod(values[:k]) * math.prod(values[k + 1:])
    return math.prod(values), float(np.sqrt(max(grad @ vcov @ grad, 0.0)))


def _fill_from(row: dict, provider: Callable, *args: str) -> None:
    """Fill a row from an evidence question, or record why there is no test."""
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
    table = table.copy()
    tested = table["p"].notna().to_numpy()
    adjusted = np.full(len(table), np.nan)
    if tested.any():
        # imported here: statsmodels' multitest imports scipy.stats (about a second), which a
        # table without a correction never needs
        from statsmodels.stats.multitest import multipletests

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
        table.iat[i, table.columns.get_loc("verdict")] = verdict(
            r["estimate"], r["ci.lower"], r["ci.upper"], adjusted[i], signs[r["id"]], alpha)
    table["note"] = [
        (f"{n}; " if n else "") + f"p adjusted for {int(tested.sum())} tests ({method})"
        if t else n for n, t in zip(table["note"], tested)]
    return table


# -- the proposition registry: kind → test ----------------------------------------------------


class FitEvidence:
    """The evidence of one fit, as every proposition test reads it.

    The tests of :data:`PROPOSITION_TESTS` ask an evidence object for a coefficient, an
    indirect effect, a product term or a necessity analysis, each returned as ``(row values,
    method text)`` or a ``LookupError`` with the reason there is no test.  This class answers
    from a fitted model (``res.hypotheses``); the power study answers the same questions from
    each replication's compiled refit (:class:`cbec_sem.power.study.ReplicationEvidence`), so
    both run the same tests.

    ``interaction(outcome, term)`` and ``necessity(condition, outcome)`` are the providers of
    :mod:`cbec_sem.propositions.evidence` (refits with the product terms; NCA), consulted when
    the fit cannot answer by itself.
    """

    def __init__(self, res, alpha: float, level: float, interaction: Callable | None = None,
                 necessity: Callable | None = None) -> None:
        self.res = res
        self.alpha = alpha
        self.level = level
        self._interaction = interaction
        self._necessity = necessity

    @property
    def wald_method(self) -> str:
        if self.res.se == "bootstrap" and self.res.bootstrap is not None:
            return (f"{self.res.estimator}, z test with bootstrap SE "
                    f"({self.res.bootstrap.draws_count} draws)")
        return f"{self.res.estimator} Wald z test"

    def n(self, g: int) -> int:
        return self.res.nobs[g - 1]

    def coefficient(self, outcome: str, predictor: str, g: int) -> tuple[dict, str]:
        """Wald z test of ``outcome ~ predictor`` with the fit's own SE."""
        params = self.res.estimation.params
        r = _path_row(params, outcome, predictor, g)
        if r is None:
            raise _no_test(f"the model has no path {parameter_name(predictor, '→', outcome)}",
                           self.wald_method)
        row = {**params_row(params.loc[r]), "n": self.n(g)}
        if not np.isfinite(row["p"]):  # "not tested" says why (issue 14: it said nothing)
            row["note"] = (
                "no standard error: a PLS fit has none without the bootstrap; fit with "
                "se='bootstrap' (e.g. bootstrap=5000)" if self.res.estimator in ("PLS", "PLSc")
                else f"the {self.res.estimator} fit gives this path no standard error "
                     "(see res.converged)")
        return row, self.wald_method

    def indirect(self, chain: tuple[str, ...], g: int) -> tuple[dict, str]:
        """Bootstrap percentile interval of the product of paths when the fit has draws, else
        the delta-method (Sobel 1982, eq. 14) interval from the fit's own covariance matrix
        (robust under MLM/MLR)."""
        res = self.res
        boot = res.bootstrap
        if boot is not None:
            method = f"{res.estimator}, bootstrap percentile CI ({boot.draws_count} draws)"
            got, why = _indirect_bootstrap(res, chain, g, self.level)
            if got is None:
                raise _no_test(why, method)
            value, std, se, lower, upper, p = got
            return ({"estimate": value, "se": se, "p": p, "std.all": std, "ci.lower": lower,
                     "ci.upper": upper, "n": self.n(g),
                     "note": boot.message() if boot.refused else ""}, method)
        method = f"product of paths, delta-method (Sobel) CI from the {res.estimator} fit"
        got, why = _chain_values(res, chain, g)
        if got is None:
            raise _no_test(why, method)
        _, values, std, free = got
        estimate, se = product_of_paths(values, free, res.vcov.to_numpy())
        return ({**wald_row(estimate, se, float(np.prod(std)), self.level), "n": self.n(g),
                 "note": DELTA_METHOD_NOTE}, method)

    def interaction(self, outcome: str, term: str) -> tuple[dict, str]:
        """The fit's own product term (LMS/QML fits), else the interaction provider's refit."""
        own = _own_product_term(self.res, outcome, term)
        if own is not None:
            return {**params_row(own), "n": self.n(1)}, self.wald_method
        if self._interaction is None:
            raise _no_test("no interaction evidence was supplied for this table", "")
        return self._interaction(outcome, term)

    def necessity(self, condition: str, outcome: str) -> tuple[dict, str]:
        if self._necessity is None:
            raise _no_test("no necessity evidence was supplied for this table", "")
        return self._necessity(condition, outcome)


#: The note of a delta-method interval of an indirect effect.
DELTA_METHOD_NOTE = (
    "delta-method CI, which assumes a normal sampling distribution of the product; fit with "
    "se='bootstrap' and a seed for the bootstrap percentile CI (Preacher & Hayes 2008)")


def _no_test(reason: str, method: str) -> LookupError:
    """The reason a row has no test, and the method that was tried."""
    why = LookupError(reason)
    why.method = method
    return why


def _own_product_term(res, outcome: str, term: str):
    """The fit's own row ``outcome ~ X:Z`` (either order), or None."""
    params = res.estimation.params
    x, z = term.split(":")
    for candidate in (term, f"{z}:{x}"):
        r = _path_row(params, outcome, candidate, 1)
        if r is not None:
            return params.loc[r]
    return None


def test_path(ev, h: Hypothesis, g: int, row: dict) -> None:
    """Wald z test of the regression coefficient."""
    predictor, outcome = h.constructs
    _fill_from(row, ev.coefficient, outcome, predictor, g)


def test_indirect(ev, h: Hypothesis, g: int, row: dict) -> None:
    """The product of the chain's paths: bootstrap percentile or delta-method interval."""
    _fill_from(row, ev.indirect, h.constructs, g)


def test_interaction(ev, h: Hypothesis, g: int, row: dict) -> None:
    """Wald z test of the product term X:Z in the outcome's equation."""
    x, z, outcome = h.constructs
    _fill_from(row, ev.interaction, outcome, f"{x}:{z}")


def test_moderation(ev, h: Hypothesis, g: int, row: dict) -> None:
    """Wald z test of the product term focal:moderator in the outcome's equation."""
    moderator, focal, outcome = h.constructs
    _fill_from(row, ev.interaction, outcome, f"{focal}:{moderator}")


def test_necessity(ev, h: Hypothesis, g: int, row: dict) -> None:
    """NCA effect size, its permutation test and the correlation-matched test."""
    condition, outcome = h.constructs
    _fill_from(row, ev.necessity, condition, outcome)


#: kind → test.  ``res.hypotheses`` (with :class:`FitEvidence`) and ``cs.power`` (with each
#: replication's evidence) call these; a new kind is one function and one entry here
#: (docs/architecture.md).
PROPOSITION_TESTS: dict[str, Callable[[object, Hypothesis, int, dict], None]] = {
    "path": test_path,
    "indirect": test_indirect,
    "interaction": test_interaction,
    "moderation": test_moderation,
    "necessity": test_necessity,
}


def empty_row(h: Hypothesis, group_label=None) -> dict:
    """A row of the hypothesis table before its test: every value missing, "not tested"."""
    return dict(id=h.id, kind=h.kind, statement=h.statement, group=group_label, method="",
                n=np.nan, estimate=np.nan, **{"std.all": np.nan}, se=np.nan,
                **{"ci.lower": np.nan, "ci.upper": np.nan}, ci=None, p=np.nan,
                verdict="not tested", note="")


def decide(row: dict, h: Hypothesis, alpha: float) -> None:
    """The verdict of a tested row (a necessity row carries its own: NCA's rule)."""
    if np.isfinite(row["estimate"]) and h.kind != "necessity":
        row["ci"] = (float(row["ci.lower"]), float(row["ci.upper"]))
        row["verdict"] = verdict(row["estimate"], row["ci.lower"], row["ci.upper"], row["p"],
                                 h.sign, alpha)


def build_table(res, hypotheses, *, alpha: float = 0.05, correction: str | None = None,
                interaction: Callable | None = None, necessity: Callable | None = None
                ) -> pd.DataFrame:
    """One row per hypothesis (and group) of a fit: method, n, estimate, interval, p, verdict.

    ``res`` is a :class:`~cbec_sem.modelfit.FittedModel`; ``interaction(outcome, term)`` and
    ``necessity(condition, outcome)`` supply the evidence for the hypotheses the fit cannot
    test by itself (:mod:`cbec_sem.propositions.evidence`; a dict of row values and the method
    text, or a ``LookupError`` with the reason).  With ``correction`` (``"holm"``, ``"bonferroni"``, … — any method of statsmodels'
    ``multipletests``) the p-values of the tested hypotheses are adjusted for the family (Holm
    1979), in the column ``p.adjusted``, and the verdicts use them.
    """
    est = res.estimation
    level = _level(res)
    ngroups = len(res.nobs)
    labels = getattr(getattr(est, "partable", None), "group_labels", (None,))
    evidence = FitEvidence(res, alpha, level, interaction, necessity)
    out = []
    for h in hypotheses:
        for g in range(1, ngroups + 1):
            row = empty_row(h, labels[g - 1] if ngroups > 1 else None)
            PROPOSITION_TESTS[h.kind](evidence, h, g, row)
            if not res.converged.optimizer_converged and h.kind in ("path", "indirect"):
                # No verdict from a point the optimiser merely stopped at.
                row.update(se=np.nan, p=np.nan, **{"ci.lower": np.nan, "ci.upper": np.nan})
                row["note"] = "the model did not converge, so there is no test (see res.converged)"
            decide(row, h, alpha)
            out.append(row)
    table = pd.DataFrame(out, columns=COLUMNS)
    if correction:
        table = _correct(table, correction, alpha, hypotheses)
    if ngroups == 1:
        table = table.drop(columns="group")
    if res.converged.optimizer_converged and not res.converged.admissible:
        tested = table["p"].notna()
        caution = "the solution is inadmissible (see res.converged): interpret with care"
        table.loc[tested, "note"] = [
            f"{n}; {caution}" if n else caution for n in table.loc[tested, "note"]]
    return table


def _level(res) -> float:
    options = getattr(res.estimation, "options", None)
    return float(getattr(options, "level", None) or getattr(res.estimation, "level", 0.95))
