"""Common-method bias: Harman's single-factor test, the marker variable, and the ULMC.

:func:`common_method_bias` runs the three post hoc checks a reviewer usually asks for in one
call and reports each with what it can and what it cannot show.  None of them proves that
common method variance (CMV) is absent; procedural remedies in the design of the questionnaire
(separating predictor and criterion measurement, protecting anonymity, counterbalancing) are
the first line of defence (Podsakoff et al. 2003, pp. 887–888; Podsakoff, MacKenzie &
Podsakoff 2012, pp. 548–559).

Harman's single-factor test
---------------------------
All items of the model (the observed indicators; for a higher-order construct the items of its
first-order dimensions) are put in one exploratory analysis and the share of the item variance
taken by the first unrotated factor is reported, in two versions:

* ``pca_share`` = λ₁ / p, the first eigenvalue of the item correlation matrix over the number
  of items: the "unrotated principal components" version run in SPSS in most papers;
* ``factor_share`` = Σ λ_j² / p over the standardised (``std.all``) loadings of a one-factor
  ML model ``f =~ item_1 + ... + item_p`` (fitted with :func:`cbec_sem.fit`): R's
  ``factanal(factors = 1)`` "Proportion Var", since one-factor ML factor analysis and the
  one-factor CFA have the same likelihood.

A share above 50% is flagged.  The one-factor model's fit (χ², df, CFI, TLI, RMSEA, SRMR) is
set against the substantive model's with a χ² difference test: a single factor that fits much
worse argues against one dominant (method) factor.  The difference test is exact when the
substantive model is a CFA (the single factor is the CFA with all factor correlations at 1); for
a structural model it is the conventional comparison, not a strict nested test, and it is not
reported when the substantive model contains observed variables that are not items.

Marker variable (Lindell & Whitney 2001)
----------------------------------------
A marker is an item that theory says is unrelated to the substantive constructs but shares
their measurement method.  Its correlation with the substantive items estimates the method
correlation r_M; each correlation is adjusted by the partial-correlation formula (Lindell &
Whitney 2001, eq. 4)

    r_A = (r − r_M) / (1 − r_M)

and tested with (eq. 5)

    t = r_A / √((1 − r_A²) / (N − 3)),   N − 3 degrees of freedom,

while the unadjusted correlation is tested as usual, t = r √(N − 2) / √(1 − r²) with N − 2 df.
r_M is chosen by ``r_m``:

* ``"smallest"`` (default): the smallest positive correlation of the marker with the items
  (Lindell & Whitney's r_S, p. 116);
* ``"second"``: the second-smallest positive correlation, the more conservative variant
  Lindell & Whitney suggest because the smallest correlation capitalises on chance (p. 116);
* a number in [0, 1): a value the user fixed in advance (e.g. from a designed-in marker).

The adjustment is applied to every pair of items and to every pair of constructs, using the
substantive model's model-implied latent correlations (as Malhotra, Kim & Patil 2006 apply it
to construct correlations).  Pairs of a higher-order construct and one of its own dimensions are
left out: their correlation is a loading, not a construct correlation.  The result counts the
construct correlations whose significance at ``alpha`` changes after the adjustment.

Unmeasured latent method construct (ULMC)
-----------------------------------------
The substantive model plus a method factor that loads on every item, orthogonal to the
substantive constructs (Podsakoff et al. 2003, Table 5; Williams, Cote & Buckley 1989), written
in lavaan syntax as ``CMV =~ m*x1 + m*x2 + ...`` with ``CMV ~~ 0*F`` for every exogenous
substantive construct F, identified by the equal method loadings and fitted with
``std_lv=True``.  For a higher-order construct the method factor loads on the observed items
only.  Reported: the χ² difference against the substantive model (Δdf = 1), and per item the
substantive and method loadings (``std.all``) and their squares, i.e. the item variance each
explains; the averages are Liang, Saraf, Hu & Xue's (2007, Appendix E) comparison of average
substantive variance with average method variance.  A ULMC model that fails to converge or
converges to an inadmissible solution is reported as such, with the reasons, never dropped.

Where the data have no method variance to give, the ML solution has the method loading at its
bound 0 (then Σ is the substantive model's; lavaan converges there).  Fisher scoring cannot
stop at that point, because the loading's information, ∝ m², vanishes with it, so the ULMC
model is not fitted when a one-sided score test finds it: at the substantive model fitted as
the ULMC model is (``std_lv=True``; the substantive fit itself where that is the same model),
if the fit function rises with the method variance
s = m² there (∂F/∂s = 1ᵀΣ⁻¹1 − 1ᵀΣ⁻¹SΣ⁻¹1 > 0 at a stationary θ̂), s = 0 is a local minimum
of the ULMC model and is reported as its solution: the substantive fit with one degree of
freedom less, every method loading 0 (``reason`` says so).

References
----------
Fuller, C. M., Simmering, M. J., Atinc, G., Atinc, Y., & Babin, B. J. (2016). Common methods
variance detection in business research. *Journal of Business Research*, 69(8), 3192–3198.

Liang, H., Saraf, N., Hu, Q., & Xue, Y. (2007). Assimilation of enterprise systems: The effect
of institutional pressures and the mediating role of top management. *MIS Quarterly*, 31(1),
59–87.

Lindell, M. K., & Whitney, D. J. (2001). Accounting for common method variance in
cross-sectional research designs. *Journal of Applied Psychology*, 86(1), 114–121.

Malhotra, N. K., Kim, S. S., & Patil, A. (2006). Common method variance in IS research: A
comparison of alternative approaches and a reanalysis of past research. *Management Science*,
52(12), 1865–1883.

Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P. (2003). Common method biases
in behavioral research: A critical review of the literature and recommended remedies. *Journal
of Applied Psychology*, 88(5), 879–903.

Podsakoff, P. M., MacKenzie, S. B., & Podsakoff, N. P. (2012). Sources of method bias in social
science research and recommendations on how to control it. *Annual Review of Psychology*, 63,
539–569.

Richardson, H. A., Simmering, M. J., & Sturman, M. C. (2009). A tale of three perspectives:
Examining post hoc statistical techniques for detection and correction of common method
variance. *Organizational Research Methods*, 12(4), 762–800.

Williams, L. J., Cote, J. A., & Buckley, M. R. (1989). Lack of method variance in self-reported
affect and perceptions at work: Reality or artifact? *Journal of Applied Psychology*, 74(3),
462–468.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from itertools import combinations
from numbers import Real

import numpy as np
import pandas as pd
from scipy import special  # chdtrc, stdtr: χ² and t tails (scipy.stats' formulas, same numbers)

from ..protocol import Block, ResultProtocol, Summary
from ..modelfit import FittedModel, fit_model
from ..specification.model import as_model
from ..errors import CbecSemError, CbecSemWarning, DataError, SpecError
from ..validation import suggest
from ..specification.model import ModelSpec
from ..errors import warn
from ..engine.fitmeasures import incremental_indices, lav_rmsea
from ..engine.work_limits import METHOD_BIAS_WORK_LIMIT, check_method_bias_work
from ..engine.samplestats import as_frame, sample_stats
from ._common import check_fit

__all__ = [
    "HARMAN_THRESHOLD",
    "HarmanResult",
    "MarkerResult",
    "ULMCResult",
    "MethodBiasResult",
    "common_method_bias",
    "harman_pca_share",
    "latent_correlations",
    "marker_adjust",
    "model_items",
    "ulmc_syntax",
]

#: A first-factor share above this flags a dominant common factor (Podsakoff et al. 2003).
HARMAN_THRESHOLD = 0.5

#: Fit measures reported for every model of the battery.
FIT_KEYS = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr")

HARMAN_CAVEAT = (
    "Harman's single-factor test can only show that one factor does not dominate the items; "
    "it cannot show that common method variance is absent. It is insensitive: method variance "
    "large enough to bias estimates seldom makes the first factor take more than half of the "
    "variance, and a share above 50% can also come from highly correlated substantive "
    "constructs (Podsakoff et al. 2003, p. 889; Podsakoff, MacKenzie & Podsakoff 2012, "
    "p. 564; Fuller et al. 2016). Report it, if at all, alongside a marker or latent method "
    "factor analysis, never as the only evidence."
)

MARKER_CAVEAT = (
    "The marker technique removes only the method variance the marker shares with the items, "
    "assumes the marker is theoretically unrelated to the constructs and that the method "
    "effect is equal for every item (Lindell & Whitney 2001); r_M, a smallest correlation, "
    "capitalises on chance, and a marker chosen after the data were seen is weaker than one "
    "designed into the questionnaire (Richardson, Simmering & Sturman 2009; Podsakoff, "
    "MacKenzie & Podsakoff 2012). The t test of an adjusted construct correlation treats the "
    "model-implied latent correlation as if it were an observed correlation with N - 3 df."
)

ULMC_CAVEAT = (
    "An unmeasured latent method factor absorbs whatever systematic covariance the "
    "substantive factors leave, which need not be method variance; in simulations it often "
    "signals method variance where there is none and misses it where there is (Richardson, "
    "Simmering & Sturman 2009). Equal method loadings assume the same method effect on every "
    "item, and when the substantive loadings are (nearly) equal the method variance cannot be "
    "told apart from the factor correlations (empirical under-identification); a method "
    "loading near zero leaves the information matrix singular. Podsakoff et al. (2003, "
    "Table 5) recommend it only when the method source cannot "
    "be measured; Liang et al.'s (2007) comparison of average substantive with average method "
    "variance is a descriptive rule, not a test."
)


# ---------------------------------------------------------------------------------------------
# result objects
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class HarmanResult:
    """Harman's single-factor test.

    Attributes:
        defined: False when the test cannot be computed (``reason`` says why).
        reason: why a part is not defined ("" when everything is).
        items: the items analysed.
        n: complete cases used.
        eigenvalues: eigenvalues of the item correlation matrix, largest first.
        pca_share: first eigenvalue / number of items (SPSS's unrotated PCA version).
        factor_share: Σ std.all loading² / p of the one-factor ML model (``factanal``'s
            "Proportion Var"); NaN when the one-factor model cannot be fitted.
        loadings: std.all loadings of the one-factor model, per item.
        flagged: True when either share exceeds :data:`HARMAN_THRESHOLD`.
        single_factor_fit: χ², df, p, CFI, TLI, RMSEA, SRMR of the one-factor model.
        substantive_fit: the same for the substantive model.
        single_factor_converged: the one-factor model's convergence status (None: not fitted).
        chisq_diff, df_diff, p_value: χ² difference test of the one-factor model against the
            substantive model (NaN when not defined).
        caveat: what the test can and cannot show.
    """

    defined: bool
    reason: str
    items: tuple[str, ...]
    n: int
    eigenvalues: np.ndarray
    pca_share: float
    factor_share: float
    loadings: pd.Series
    flagged: bool | None
    single_factor_fit: pd.Series
    substantive_fit: pd.Series
    single_factor_converged: object
    chisq_diff: float
    df_diff: float
    p_value: float
    threshold: float = HARMAN_THRESHOLD
    caveat: str = HARMAN_CAVEAT

    def comparison(self) -> pd.DataFrame:
        """The single-factor and substantive models' fit side by side."""
        return pd.DataFrame({"single factor": self.single_factor_fit,
                             "substantive": self.substantive_fit})


@dataclass(frozen=True, eq=False)
class MarkerResult:
    """Lindell & Whitney's (2001) marker-variable adjustment.

    Attributes:
        marker: the marker column.
        r_m: the method correlation used.
        r_m_rule: how it was chosen (``"smallest"``, ``"second"``, ``"given"``).
        marker_correlations: correlation of the marker with every item.
        items: every pair of items: ``var1, var2, r, p, r_adj, t_adj, p_adj, significant,
            significant_adj, changed``.
        constructs: the same for every pair of constructs (model-implied latent correlations).
        n_changed: construct correlations whose significance changes after the adjustment.
        n_changed_items: item correlations whose significance changes.
        n: complete cases used.
        alpha: significance level.
        notes: anything the user should know about r_M.
        caveat: what the test can and cannot show.
    """

    marker: str
    r_m: float
    r_m_rule: str
    marker_correlations: pd.Series
    items: pd.DataFrame
    constructs: pd.DataFrame
    n_changed: int
    n_changed_items: int
    n: int
    alpha: float
    notes: tuple[str, ...] = ()
    caveat: str = MARKER_CAVEAT


@dataclass(frozen=True, eq=False)
class ULMCResult:
    """The unmeasured latent method construct model.

    Attributes:
        fitted: False when the model could not be estimated at all (``reason`` says why).
        reason: why it was not fitted, or why it cannot be trusted; or that the method
            loading is at its bound 0 (the solution found by the score test, not by a fit).
        converged: the fit's :class:`~cbec_sem.engine.convergence.Convergence` (None when not fitted);
            falsy when the optimiser failed or the solution is inadmissible.
        problems: each admissibility problem or warning of the ULMC fit, in plain language.
        syntax: the ULMC model in lavaan syntax.
        fit: χ², df, p, CFI, TLI, RMSEA, SRMR.
        chisq_diff, df_diff, p_value: χ² difference against the substantive model.
        method_loading: the common (unstandardised) method loading, with ``std_lv=True``.
        items: per item ``item, construct, loading`` (std.all in the substantive model),
            ``substantive_loading, substantive_variance, method_loading, method_variance``
            (std.all in the ULMC model, and their squares).
        paths: structural paths' std.all without and with the method factor.
        avg_substantive_variance, avg_method_variance: Liang et al.'s (2007) averages.
        ratio: avg substantive / avg method variance.
        caveat: what the model can and cannot show.
    """

    fitted: bool
    reason: str
    converged: object
    problems: tuple[str, ...]
    syntax: str
    fit: pd.Series
    chisq_diff: float
    df_diff: float
    p_value: float
    method_loading: float
    items: pd.DataFrame
    paths: pd.DataFrame
    avg_substantive_variance: float
    avg_method_variance: float
    ratio: float
    caveat: str = ULMC_CAVEAT

    @property
    def trustworthy(self) -> bool:
        """Fitted, converged and admissible."""
        return self.fitted and bool(self.converged)


@dataclass(frozen=True, eq=False)
class MethodBiasResult(ResultProtocol):
    """The common-method-bias battery of :func:`common_method_bias`.

    Attributes:
        harman: :class:`HarmanResult`.
        marker: :class:`MarkerResult`, or None without a marker.
        ulmc: :class:`ULMCResult`, or None with ``ulmc=False``.
        items: the model's items.
        n: complete cases used by every part.
        notes: what the battery did that the user should know (rows dropped, ...).

    Examples:
        >>> cmb = cs.common_method_bias(cs.paper_model(), cs.datasets.example_survey(), ulmc=False)
        >>> isinstance(cmb, cs.MethodBiasResult)
        True
        >>> round(cmb.harman.pca_share, 3), cmb.harman.flagged
        (0.257, False)
    """

    harman: HarmanResult
    marker: MarkerResult | None
    ulmc: ULMCResult | None
    items: tuple[str, ...]
    n: int
    notes: tuple[str, ...] = field(default=())

    @property
    def table(self) -> pd.DataFrame:
        """One row per check: ``test, statistic, value, threshold, flagged, caveat``.

        ``flagged`` is True when the check points to method bias, False when it does not,
        None when it is not defined or has no threshold (the ULMC comparison is descriptive).
        """
        rows = []
        h = self.harman
        hflag = (lambda v: None if not np.isfinite(v) else bool(v > h.threshold))
        rows.append(("Harman", "first principal component share (eigenvalue 1 / p)",
                     h.pca_share, f"> {h.threshold:.2f}", hflag(h.pca_share), h.caveat))
        rows.append(("Harman", "one-factor ML share (sum of std.all loading^2 / p)",
                     h.factor_share, f"> {h.threshold:.2f}", hflag(h.factor_share), h.caveat))
        rows.append(("Harman", "single factor vs substantive: chi-square difference",
                     h.chisq_diff, f"p < .05 (df = {h.df_diff:g})" if np.isfinite(h.df_diff)
                     else "", None if not np.isfinite(h.p_value) else bool(h.p_value >= 0.05),
                     h.caveat))
        if self.marker is not None:
            mk = self.marker
            rows.append(("marker", f"r_M ({mk.r_m_rule}) of {mk.marker!r}", mk.r_m, "", None,
                         mk.caveat))
            rows.append(("marker", "construct correlations changing significance",
                         float(mk.n_changed), "> 0", bool(mk.n_changed > 0), mk.caveat))
        if self.ulmc is not None:
            u = self.ulmc
            ok = u.trustworthy
            rows.append(("ULMC", "chi-square difference with the method factor", u.chisq_diff,
                         f"p < .05 (df = {u.df_diff:g})" if np.isfinite(u.df_diff) else "",
                         (bool(u.p_value < 0.05) if ok and np.isfinite(u.p_value) else None),
                         u.caveat if not u.reason else f"{u.reason}. {u.caveat}"))
            rows.append(("ULMC", "average substantive variance", u.avg_substantive_variance,
                         "", None, u.caveat))
            rows.append(("ULMC", "average method variance", u.avg_method_variance,
                         "", None, u.caveat))
        return pd.DataFrame(rows, columns=["test", "statistic", "value", "threshold",
                                           "flagged", "caveat"])

    def _text(self) -> str:
        """A plain-text report of the battery."""
        out = [f"Common-method bias: {len(self.items)} items, N = {self.n}"]
        out += [f"  note: {n}" for n in self.notes]
        h = self.harman
        out.append("")
        out.append("Harman's single-factor test")
        if not h.defined:
            out.append(f"  not defined: {h.reason}")
        else:
            out.append(f"  first principal component: {h.pca_share:.1%} of item variance")
            if np.isfinite(h.factor_share):
                out.append(f"  one-factor ML solution:    {h.factor_share:.1%}")
            elif h.reason:
                out.append(f"  one-factor ML solution: not defined ({h.reason})")
            out.append("  flag (> 50%): " + ("YES" if h.flagged else "no"))
            if np.isfinite(h.chisq_diff):
                sf, sb = h.single_factor_fit, h.substantive_fit
                out.append(
                    f"  single factor: chisq = {sf['chisq']:.2f}, df = {sf['df']:.0f}, "
                    f"CFI = {sf['cfi']:.3f}, RMSEA = {sf['rmsea']:.3f}, SRMR = {sf['srmr']:.3f}")
                out.append(
                    f"  substantive:   chisq = {sb['chisq']:.2f}, df = {sb['df']:.0f}, "
                    f"CFI = {sb['cfi']:.3f}, RMSEA = {sb['rmsea']:.3f}, SRMR = {sb['srmr']:.3f}")
                out.append(f"  difference: chisq = {h.chisq_diff:.2f}, df = {h.df_diff:.0f}, "
                           f"p = {h.p_value:.3g}")
            elif h.reason and np.isfinite(h.factor_share):
                out.append(f"  {h.reason}")
        out.append(f"  caveat: {h.caveat}")
        if self.marker is not None:
            mk = self.marker
            out.append("")
            out.append(f"Marker variable {mk.marker!r} (Lindell & Whitney 2001)")
            out.append(f"  r_M = {mk.r_m:.3f} ({mk.r_m_rule})")
            out += [f"  note: {n}" for n in mk.notes]
            out.append(f"  construct correlations changing significance at alpha = "
                       f"{mk.alpha:g}: {mk.n_changed} of {len(mk.constructs)}")
            out.append(f"  item correlations changing significance: {mk.n_changed_items} of "
                       f"{len(mk.items)}")
            out.append(f"  caveat: {mk.caveat}")
        if self.ulmc is not None:
            u = self.ulmc
            out.append("")
            out.append("Unmeasured latent method construct (ULMC)")
            if not u.fitted:
                out.append(f"  not estimated: {u.reason}")
            else:
                status = "converged, admissible" if u.trustworthy else "NOT TRUSTWORTHY"
                out.append(f"  {status}" + (f": {u.reason}" if u.reason else ""))
                out += [f"  - {p}" for p in u.problems]
                out.append(f"  chisq difference = {u.chisq_diff:.2f}, df = {u.df_diff:.0f}, "
                           f"p = {u.p_value:.3g}")
                out.append(f"  average substantive variance = {u.avg_substantive_variance:.3f}, "
                           f"average method variance = {u.avg_method_variance:.3f}"
                           + ("" if u.trustworthy else " (not usable: see above)"))
            out.append(f"  caveat: {u.caveat}")
        return "\n".join(out)

    def __repr__(self) -> str:
        parts = [f"Harman pca={self.harman.pca_share:.3f}"]
        if self.marker is not None:
            parts.append(f"marker r_M={self.marker.r_m:.3f}, changed={self.marker.n_changed}")
        if self.ulmc is not None:
            parts.append(f"ULMC method var={self.ulmc.avg_method_variance:.3f}"
                         + ("" if self.ulmc.trustworthy else " (not trustworthy)"))
        return f"<MethodBiasResult: {'; '.join(parts)}>"

    def to_frame(self) -> pd.DataFrame:
        """One row per test of the battery (:attr:`table`)."""
        return self.table.copy()

    def summary(self) -> Summary:
        """The battery's tests and their verdicts (``str()`` is the plain-text report)."""
        return Summary("Common-method bias", (Block("Tests", self.table),), text=self._text())


# ---------------------------------------------------------------------------------------------
# building blocks (public for tests and for users who want one piece)
# ---------------------------------------------------------------------------------------------


def model_items(model: ModelSpec) -> tuple[str, ...]:
    """The observed indicators of a model (right of ``=~`` and not latent), in order."""
    latent = set(model.latent_variables)
    return tuple(dict.fromkeys(s.rhs for s in model.statements
                               if s.op == "=~" and s.rhs not in latent))


def harman_pca_share(corr: np.ndarray) -> tuple[float, np.ndarray]:
    """First eigenvalue of a correlation matrix over its dimension, and all eigenvalues
    (largest first): the share of variance of the first unrotated principal component."""
    corr = np.asarray(corr, dtype=float)
    eig = np.linalg.eigvalsh(0.5 * (corr + corr.T))[::-1]
    return float(eig[0] / corr.shape[0]), eig


def _t_test(r: np.ndarray, df: float) -> tuple[np.ndarray, np.ndarray]:
    """t = r √df / √(1 − r²) and its two-sided p with ``df`` degrees of freedom."""
    r = np.asarray(r, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt(df) / np.sqrt(1.0 - r**2)
    p = 2.0 * special.stdtr(df, -np.abs(t))
    return t, p


def marker_adjust(r, r_m: float, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lindell & Whitney's (2001) adjustment of correlations ``r`` for a method correlation
    ``r_m``: r_A = (r − r_M)/(1 − r_M) (eq. 4), t = r_A / √((1 − r_A²)/(N − 3)) (eq. 5) and its
    two-sided p with N − 3 degrees of freedom.

    Returns:
        (r_A, t, p), arrays shaped like ``r``.
    """
    if not 0.0 <= r_m < 1.0:
        raise SpecError(f"the method correlation r_M = {r_m!r} must lie in [0, 1)")
    if n <= 3:
        raise DataError(f"the marker adjustment needs more than 3 cases, not {n}")
    r_adj = (np.asarray(r, dtype=float) - r_m) / (1.0 - r_m)
    t, p = _t_test(r_adj, n - 3)
    return r_adj, t, p


def _choose_r_m(marker_r: pd.Series, rule) -> tuple[float, str, tuple[str, ...]]:
    """r_M from the marker's correlations with the items, by ``rule``."""
    notes: list[str] = []
    if isinstance(rule, Real) and not isinstance(rule, bool):
        value = float(rule)
        if not 0.0 <= value < 1.0:
            raise SpecError(f"r_m={rule!r}: a given method correlation must lie in [0, 1)")
        return value, "given", ()
    if rule not in ("smallest", "second"):
        raise SpecError(
            f"r_m={rule!r}: use 'smallest' (Lindell & Whitney's r_S), 'second' (the "
            "second-smallest positive correlation) or a number in [0, 1)")
    positive = np.sort(marker_r[marker_r > 0].to_numpy())
    if positive.size == 0:
        notes.append(
            f"the marker correlates with no item positively (largest r = "
            f"{marker_r.max():.3f}); r_M = 0, so no adjustment is made")
        return 0.0, rule, tuple(notes)
    if rule == "second":
        if positive.size < 2:
            notes.append("only one positive marker correlation: the smallest is used")
            return float(positive[0]), "smallest", tuple(notes)
        return float(positive[1]), rule, ()
    return float(positive[0]), rule, ()


def _pairs_table(names, corr: np.ndarray, r_m: float, n: int, alpha: float,
                 pairs=None) -> pd.DataFrame:
    if pairs is None:
        pairs = list(combinations(range(len(names)), 2))
    cols = ["var1", "var2", "r", "p", "r_adj", "t_adj", "p_adj", "significant",
            "significant_adj", "changed"]
    if not pairs:
        return pd.DataFrame(columns=cols)
    i = np.array([a for a, _ in pairs])
    j = np.array([b for _, b in pairs])
    r = corr[i, j]
    _, p = _t_test(r, n - 2)
    r_adj, t_adj, p_adj = marker_adjust(r, r_m, n)
    sig = p < alpha
    sig_adj = p_adj < alpha
    return pd.DataFrame({
        "var1": [names[a] for a in i], "var2": [names[b] for b in j], "r": r, "p": p,
        "r_adj": r_adj, "t_adj": t_adj, "p_adj": p_adj, "significant": sig,
        "significant_adj": sig_adj, "changed": sig != sig_adj,
    })[cols]


def latent_correlations(res) -> pd.DataFrame:
    """Model-implied correlation matrix of the latent variables of a single-group fit
    (first group of a multi-group fit): B S Bᵀ of the RAM form, scaled to unit variances."""
    est = res.estimation
    mom = est.ram.moments(est.theta)[0]
    total = est.ram.total_covariance(mom)
    names = list(est.ram.variables)
    idx = [names.index(v) for v in est.ram.latent]
    cov = total[np.ix_(idx, idx)]
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(sd, sd)
    return pd.DataFrame(corr, index=list(est.ram.latent), columns=list(est.ram.latent))


# ---------------------------------------------------------------------------------------------
# the battery
# ---------------------------------------------------------------------------------------------


def _fit_measures(res) -> pd.Series:
    fm = res.fit_measures
    return pd.Series({k: float(fm.get(k, np.nan)) for k in FIT_KEYS}, dtype=float)


def _nan_fit() -> pd.Series:
    return pd.Series({k: np.nan for k in FIT_KEYS}, dtype=float)


def _quiet_fit(what: str, model, frame: pd.DataFrame, **options):
    """Fit a helper model of the battery, collecting its warnings instead of letting them
    surface without saying which model they are about; they are re-issued with ``what`` as a
    prefix and returned.  A model that cannot be estimated gives ``(None, [reason])``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = fit_model(model, frame, **options)
        except CbecSemError as exc:
            return None, [str(exc)]
    messages = []
    for w in caught:
        text = str(w.message)
        messages.append(text)
        category = w.category if issubclass(w.category, CbecSemWarning) else CbecSemWarning
        warn(f"{what}: {text}", category)
    return res, messages


def _prepare(model, data, marker):
    """The model, its items, and one complete-case frame shared by every part."""

    base_res = None
    if isinstance(model, FittedModel):
        check_fit(model, "common_method_bias()", covariance=True)
        base_res = model
        spec = model.model
    else:
        spec = as_model(model)
    items = model_items(spec)
    names = tuple(spec.observed_variables)
    notes: list[str] = []
    if marker is not None:
        if not isinstance(marker, str):
            raise SpecError(f"marker must be a column name, not {type(marker).__name__}")
        if marker in items:
            raise SpecError(
                f"the marker {marker!r} is an item of the model ({_construct_of(spec, marker)}); "
                "a marker must be a variable theoretically unrelated to the constructs, "
                "answered in the same way, and not part of the model")
        if marker in names or marker in spec.latent_variables:
            raise SpecError(
                f"the marker {marker!r} is a variable of the model; a marker must lie outside "
                "the model")
    if data is None:
        if base_res is None:
            raise DataError("data is required unless model is a FitResult")
        if marker is not None:
            raise DataError(
                f"the marker {marker!r} needs the data: pass data= with the marker column")
        stats_ = base_res.estimation.stats
        block = np.vstack(stats_.data)
        frame = pd.DataFrame(block, columns=list(stats_.names))
        if stats_.ngroups > 1:
            notes.append(f"the {stats_.ngroups} groups of the fit are pooled")
        if stats_.rows_dropped:
            notes.append(f"listwise deletion dropped {stats_.rows_dropped} of "
                         f"{stats_.rows_total} rows")
        return spec, items, names, frame, base_res if stats_.ngroups == 1 else None, notes
    frame_in = as_frame(data)
    wanted = names
    if marker is not None:
        _check_marker(frame_in, marker)
        wanted = names + (marker,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the rows dropped are reported in ``notes``
        st = sample_stats(frame_in, wanted)
    if st.rows_dropped:
        notes.append(
            f"listwise deletion dropped {st.rows_dropped} of {st.rows_total} rows with a "
            "missing value on the model's variables" + (" or the marker" if marker else "")
            + "; every part of the battery uses the same complete cases")
    frame = pd.DataFrame(st.complete_data[0], columns=list(wanted))
    if base_res is not None and base_res.estimation.stats.ngroups == 1 and (
            base_res.estimation.stats.ntotal == len(frame)) and np.allclose(
            base_res.estimation.stats.complete_data[0], frame[list(names)].to_numpy()):
        return spec, items, names, frame, base_res, notes
    return spec, items, names, frame, None, notes


def _construct_of(spec: ModelSpec, item: str) -> str:
    owners = [lv for lv, ind in spec.indicators.items() if item in ind]
    return "an indicator of " + ", ".join(owners)


def _check_marker(frame: pd.DataFrame, marker: str) -> None:
    columns = [str(c) for c in frame.columns]
    if marker not in frame.columns:
        close = suggest(marker, columns)
        raise DataError(
            f"the marker {marker!r} is not a column of the data"
            + (f" (did you mean {close!r}?)" if close else ""))
    col = frame[marker]
    if isinstance(col, pd.DataFrame):
        raise DataError(f"the data have {col.shape[1]} columns named {marker!r}; rename them")
    values = pd.to_numeric(col, errors="coerce")
    if (col.notna() & values.isna()).any():
        raise DataError(f"the marker {marker!r} is not numeric; recode it as numbers")
    values = values.to_numpy(dtype=float, na_value=np.nan)
    finite = values[np.isfinite(values)]
    if finite.size < 2 or np.ptp(finite) == 0.0:
        shown = f"every answer equals {finite[0]:g}" if finite.size else "it has no values"
        raise DataError(
            f"the marker {marker!r} has zero variance ({shown}); a constant marker cannot "
            "estimate a method correlation")


def harman_test(spec, items, names, frame, sub_res) -> HarmanResult:
    n = len(frame)
    sub_fit = _fit_measures(sub_res) if sub_res is not None else _nan_fit()
    empty = pd.Series(dtype=float)
    if len(items) < 2:
        return HarmanResult(
            defined=False,
            reason=(f"Harman's test needs at least two items; the model has {len(items)} "
                    f"({', '.join(items) or 'none'}), so there is no first factor to share "
                    "variance with anything"),
            items=items, n=n, eigenvalues=np.array([1.0] * len(items)), pca_share=np.nan,
            factor_share=np.nan, loadings=empty, flagged=None, single_factor_fit=_nan_fit(),
            substantive_fit=sub_fit, single_factor_converged=None, chisq_diff=np.nan,
            df_diff=np.nan, p_value=np.nan)
    x = frame[list(items)].to_numpy(dtype=float)
    corr = np.corrcoef(x, rowvar=False)
    pca_share, eig = harman_pca_share(corr)
    reason = ""
    factor_share = np.nan
    loadings = empty
    sf_fit = _nan_fit()
    sf_conv = None
    chisq_diff = df_diff = p_value = np.nan
    if len(items) < 3:
        reason = (f"a one-factor model of {len(items)} items is not identified (it needs at "
                  "least three)")
    else:
        factor = _fresh_name("F1", set(names) | set(spec.latent_variables))
        sf_model = f"{factor} =~ " + " + ".join(items)
        sf_res, messages = _quiet_fit("Harman's single-factor model", sf_model, frame)
        if sf_res is None:
            reason = f"the one-factor model could not be estimated: {messages[0]}"
        else:
            sf_conv = sf_res.converged
            p = sf_res.params
            rows = p[(p["op"] == "=~") & (p["lhs"] == factor)]
            loadings = pd.Series(rows["std.all"].to_numpy(dtype=float),
                                 index=rows["rhs"].to_list())
            factor_share = float(np.sum(loadings.to_numpy() ** 2) / len(items))
            sf_fit = _fit_measures(sf_res)
            if not sf_res.converged:
                reason = "the one-factor model did not converge or is inadmissible: " + (
                    sf_res.converged.describe())
            others = set(names) - set(items)
            if others:
                reason = (reason + "; " if reason else "") + (
                    "no chi-square difference: the substantive model also contains "
                    f"{', '.join(sorted(others))}, which the single factor does not")
            elif sub_res is not None and np.isfinite(sub_fit["chisq"]) and np.isfinite(
                    sf_fit["chisq"]):
                chisq_diff = float(sf_fit["chisq"] - sub_fit["chisq"])
                df_diff = float(sf_fit["df"] - sub_fit["df"])
                if df_diff > 0:
                    p_value = float(special.chdtrc(df_diff, max(chisq_diff, 0.0)))
    flagged = bool(pca_share > HARMAN_THRESHOLD or (np.isfinite(factor_share)
                                                    and factor_share > HARMAN_THRESHOLD))
    return HarmanResult(
        defined=True, reason=reason, items=items, n=n, eigenvalues=eig, pca_share=pca_share,
        factor_share=factor_share, loadings=loadings, flagged=flagged,
        single_factor_fit=sf_fit, substantive_fit=sub_fit, single_factor_converged=sf_conv,
        chisq_diff=chisq_diff, df_diff=df_diff, p_value=p_value)


def _hierarchy_pairs(spec: ModelSpec) -> set[frozenset]:
    latent = set(spec.latent_variables)
    return {frozenset((s.lhs, s.rhs)) for s in spec.statements
            if s.op == "=~" and s.rhs in latent}


def _marker(spec, items, frame, marker, rule, alpha, sub_res) -> MarkerResult:
    n = len(frame)
    x = frame[list(items) + [marker]].to_numpy(dtype=float)
    corr = np.corrcoef(x, rowvar=False)
    marker_r = pd.Series(corr[-1, :-1], index=list(items))
    r_m, used_rule, notes = _choose_r_m(marker_r, rule)
    item_table = _pairs_table(list(items), corr[:-1, :-1], r_m, n, alpha)
    if sub_res is not None:
        lat = latent_correlations(sub_res)
        names = list(lat.index)
        skip = _hierarchy_pairs(spec)
        pairs = [(a, b) for a, b in combinations(range(len(names)), 2)
                 if frozenset((names[a], names[b])) not in skip]
        construct_table = _pairs_table(names, lat.to_numpy(), r_m, n, alpha, pairs)
    else:
        construct_table = _pairs_table([], np.zeros((0, 0)), r_m, n, alpha)
        notes = notes + ("the substantive model could not be estimated: no construct "
                         "correlations",)
    return MarkerResult(
        marker=marker, r_m=r_m, r_m_rule=used_rule, marker_correlations=marker_r,
        items=item_table, constructs=construct_table,
        n_changed=int(construct_table["changed"].sum()),
        n_changed_items=int(item_table["changed"].sum()), n=n, alpha=alpha, notes=notes)


def _fresh_name(base: str, taken: set[str]) -> str:
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}{k}"
    return name


def ulmc_syntax(model: ModelSpec) -> tuple[str, str, str]:
    """The ULMC model of ``model`` in lavaan syntax: the model's statements, a method factor
    with one equal loading on every observed item, and zero covariances between the method
    factor and every exogenous construct.

    Returns:
        (syntax, method factor name, loading label).
    """
    items = model_items(model)
    taken = set(model.latent_variables) | set(model.observed_variables)
    factor = _fresh_name("CMV", taken)
    label = _fresh_name("cmv_m", taken | set(model.labels) | set(model.defined))
    regressed = {s.lhs for s in model.statements if s.op == "~"}
    indicated = {s.rhs for s in model.statements if s.op == "=~"}
    exogenous = [lv for lv in model.latent_variables
                 if lv not in regressed and lv not in indicated]
    extra = [f"{factor} =~ " + " + ".join(f"{label}*{item}" for item in items)]
    extra += [f"{factor} ~~ 0*{lv}" for lv in exogenous]
    return model.to_lavaan().rstrip("\n") + "\n" + "\n".join(extra) + "\n", factor, label


#: The one-sided score test of the method factor's variance share s = m² at 0 (below):
#: ∂F/∂s above this share of 1ᵀΣ⁻¹1 counts as positive, so s = 0 as the ML solution.
BOUNDARY_MARGIN = 1e-8


def _method_variance_slope(res, items) -> float:
    """∂F/∂s of the ML fit function at a fit of the model without the method factor, s = m²:
    with a method factor of unit variance, orthogonal to the constructs and loading m on every
    item, Σ(s) = Σ̂ + s·11ᵀ on the items, so per group
    ∂F/∂s = 1ᵀΣ⁻¹1 − 1ᵀΣ⁻¹(S + ddᵀ)Σ⁻¹1 (d = x̄ − μ̂ with a mean structure), summed with the
    groups' weights n_g/N and divided by 1ᵀΣ⁻¹1 (unit-free)."""
    est = res.estimation
    stats = est.stats
    wanted = set(items)
    one = np.array([1.0 if v in wanted else 0.0 for v in stats.names])
    slope = scale = 0.0
    for g, mom in enumerate(est.ram.moments(est.theta)):
        k1 = np.linalg.solve(mom.sigma, one)
        S = np.asarray(stats.covs[g], dtype=float)
        if est.meanstructure:
            d = stats.means[g] - mom.mu
            S = S + np.outer(d, d)
        w = float(stats.nobs[g]) / float(stats.ntotal)
        slope += w * float(one @ k1 - k1 @ S @ k1)
        scale += w * float(one @ k1)
    return slope / scale


def _scale_free(spec: ModelSpec) -> bool:
    """True when giving the latent variables unit variances (``std_lv=True``, as the ULMC
    model is fitted) instead of first loadings of 1 is the same model: no constraint, and no
    statement that involves a latent variable carries a fixed value, a label or an explicit
    freeing (the only operators are ``=~``, ``~``, ``~~`` and ``~1``)."""
    latent = set(spec.latent_variables)
    for st in spec.statements:
        if st.op not in ("=~", "~", "~~", "~1"):
            return False
        if (st.lhs in latent or st.rhs in latent) and (
                any(v is not None for v in st.fixed) or any(st.labels) or any(st.free)):
            return False
    return True


def _at_zero(spec, items, frame, sub_res=None):
    """The ULMC model with its method loading at 0, i.e. the substantive model fitted as the
    ULMC model is (``std_lv=True``), and the slope of F in the method variance there; None
    when that fit is not clean (an error, a warning, not converged or inadmissible): then the
    ULMC model is fitted as it is.  ``sub_res``, a clean ML fit of ``spec`` to ``frame`` with
    the default options, is that fit when ``spec`` is :func:`_scale_free` (the same implied
    moments, fit measures and standardized estimates)."""
    if sub_res is not None and _scale_free(spec):
        res = sub_res
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = fit_model(spec, frame, std_lv=True)
            except CbecSemError:
                return None
        if caught:
            return None
    if not res.converged:
        return None
    try:
        slope = _method_variance_slope(res, items)
    except np.linalg.LinAlgError:
        return None
    return (res, slope) if np.isfinite(slope) else None


def _boundary_fit(res) -> pd.Series:
    """The ULMC model's fit measures at its solution on the boundary: the model without the
    method factor's χ² and SRMR, with one degree of freedom less (the method loading is free)."""
    fm = res.fit_measures
    out = _fit_measures(res)
    chisq, df = float(out["chisq"]), float(out["df"]) - 1.0
    out["df"] = df
    out["pvalue"] = float(special.chdtrc(df, chisq)) if df > 0 else np.nan
    inc = incremental_indices(chisq, df, float(fm["baseline.chisq"]), float(fm["baseline.df"]))
    out["cfi"], out["tli"] = inc["cfi"], inc["tli"]
    est = res.estimation
    out["rmsea"] = lav_rmsea(chisq, df, float(est.stats.ntotal), len(est.stats.nobs))
    return out


def _ulmc(spec, items, frame, sub_res, sub_is_clean: bool = False) -> ULMCResult:
    syntax, factor, label = ulmc_syntax(spec)
    empty_items = pd.DataFrame(columns=["item", "construct", "loading", "substantive_loading",
                                        "substantive_variance", "method_loading",
                                        "method_variance"])
    empty_paths = pd.DataFrame(columns=["lhs", "op", "rhs", "std.all", "std.all_ulmc",
                                        "change"])
    # Where the data have no method variance to give, the ML solution is the method loading
    # at its bound 0 (lavaan converges there), but Fisher scoring cannot stop there: the
    # loading's information, (∂Σ/∂m)² ∝ m², vanishes at 0, so its gradient in standard-error
    # units does not, and the fit ran to SciPy's BFGS and stopped unconverged (132 items:
    # 13 s; 30 items at N = 2000: 2.8 s).  The one-sided score test at the model without the
    # method factor finds that solution first: if F rises with the method variance s = m²
    # there (θ̂ stationary, ∂F/∂s > 0), s = 0 is a local minimum of the ULMC model.
    zero = _at_zero(spec, items, frame, sub_res if sub_is_clean else None)
    boundary = zero is not None and zero[1] > BOUNDARY_MARGIN
    if boundary:
        res, slope = zero
        messages: list[str] = []
        conv = res.converged
        reason = ("the method factor takes no variance: at the model without it, F rises "
                  f"with the method variance (dF/dm^2 = {slope:.3g} x 1'S^-1 1 > 0), so the "
                  "ML solution is the method loading at its bound 0 and the substantive "
                  "solution (lavaan's optimiser stops at the same point)")
        fit_ = _boundary_fit(res)
    else:
        res, messages = _quiet_fit("ULMC model", syntax, frame, std_lv=True)
    if res is None:
        return ULMCResult(
            fitted=False, reason=f"the ULMC model could not be estimated: {messages[0]}",
            converged=None, problems=tuple(messages), syntax=syntax, fit=_nan_fit(),
            chisq_diff=np.nan, df_diff=np.nan, p_value=np.nan, method_loading=np.nan,
            items=empty_items, paths=empty_paths, avg_substantive_variance=np.nan,
            avg_method_variance=np.nan, ratio=np.nan)
    if not boundary:
        conv = res.converged
        reason = ""
        if not conv.optimizer_converged:
            reason = (f"the ULMC model did not converge ({conv.message}); its numbers are "
                      "not usable")
        elif not conv.admissible:
            reason = ("the ULMC model converged to an inadmissible solution; its numbers are "
                      "not trustworthy")
        fit_ = _fit_measures(res)
    problems = tuple(dict.fromkeys(list(conv.problems) + messages))
    p = res.params
    loads = p[p["op"] == "=~"]
    method_rows = loads[loads["lhs"] == factor].set_index("rhs")
    sub_rows = loads[(loads["lhs"] != factor) & loads["rhs"].isin(items)]
    # per item (in the model's order), each of its substantive loadings (std.all) with the
    # substantive model's and the method factor's; at one pass over the tables (a filter
    # per item took ~1 s for 132 items)
    position = {item: k for k, item in enumerate(items)}
    rows = sub_rows[["lhs", "rhs", "std.all"]].rename(columns={"std.all": "lam"})
    rows = rows.assign(_pos=rows["rhs"].map(position)).sort_values("_pos", kind="stable")
    if sub_res is not None:
        bp = sub_res.params
        base = bp[(bp["op"] == "=~") & bp["rhs"].isin(items)][["lhs", "rhs", "std.all"]]
        base = base.drop_duplicates(["lhs", "rhs"], keep="first").rename(
            columns={"std.all": "before"})
        rows = rows.merge(base, on=["lhs", "rhs"], how="left")
    else:
        rows = rows.assign(before=np.nan)
    lam = rows["lam"].to_numpy(dtype=float)
    if boundary:
        mlam = np.zeros(len(rows))
    else:
        method_std = method_rows["std.all"]
        mlam = rows["rhs"].map(method_std[~method_std.index.duplicated()]).to_numpy(
            dtype=float)
    records = len(rows) > 0
    items_table = pd.DataFrame({
        "item": rows["rhs"].to_numpy(), "construct": rows["lhs"].to_numpy(),
        "loading": rows["before"].to_numpy(dtype=float), "substantive_loading": lam,
        "substantive_variance": lam**2, "method_loading": mlam, "method_variance": mlam**2,
    }, columns=empty_items.columns)
    avg_sub = float(items_table["substantive_variance"].mean()) if records else np.nan
    avg_meth = float(items_table["method_variance"].mean()) if records else np.nan
    paths = empty_paths
    if sub_res is not None:
        bp = sub_res.params
        before = bp[bp["op"] == "~"][["lhs", "op", "rhs", "std.all"]]
        after = p[p["op"] == "~"][["lhs", "op", "rhs", "std.all"]].rename(
            columns={"std.all": "std.all_ulmc"})
        paths = before.merge(after, on=["lhs", "op", "rhs"], how="left")
        paths["change"] = paths["std.all_ulmc"] - paths["std.all"]
        paths = paths.reset_index(drop=True)
    chisq_diff = df_diff = p_value = np.nan
    if sub_res is not None:
        sub_fit = _fit_measures(sub_res)
        chisq_diff = float(sub_fit["chisq"] - fit_["chisq"])
        df_diff = float(sub_fit["df"] - fit_["df"])
        if df_diff > 0 and np.isfinite(chisq_diff):
            p_value = float(special.chdtrc(df_diff, max(chisq_diff, 0.0)))
    if boundary:
        mload = 0.0
    else:
        mload = method_rows["est"].iloc[0] if len(method_rows) else np.nan
    return ULMCResult(
        fitted=True, reason=reason, converged=conv, problems=problems, syntax=syntax,
        fit=fit_, chisq_diff=chisq_diff, df_diff=df_diff, p_value=p_value,
        method_loading=float(mload), items=items_table, paths=paths,
        avg_substantive_variance=avg_sub, avg_method_variance=avg_meth,
        ratio=(avg_sub / avg_meth if np.isfinite(avg_meth) and avg_meth > 0 else np.nan))


def common_method_bias(
    model,
    data=None,
    *,
    marker: str | None = None,
    ulmc: bool = True,
    r_m="smallest",
    alpha: float = 0.05,
    work_limit: float | None = METHOD_BIAS_WORK_LIMIT,
) -> MethodBiasResult:
    """The post hoc common-method-bias battery: Harman, marker variable, ULMC.

    See the module docstring for the methods and what each can and cannot show; every part
    carries its ``caveat``.

    Args:
        model: a :class:`~cbec_sem.specification.ModelSpec`, lavaan syntax, or a
            :class:`~cbec_sem.results.FitResult` (then ``data`` may be omitted and the fit's
            complete cases are used).
        data: the survey (DataFrame or Survey).  Every part uses the same complete cases on
            the model's variables and the marker.
        marker: a column theoretically unrelated to the constructs, measured with the same
            method (Lindell & Whitney 2001); None skips the marker analysis.
        ulmc: fit the unmeasured latent method construct model.
        r_m: how r_M is chosen: ``"smallest"`` positive marker–item correlation (default),
            ``"second"`` smallest (Lindell & Whitney's conservative variant), or a number in
            [0, 1).
        alpha: significance level of the marker-adjusted correlation tests.
        work_limit: the most work (units of about 10 ns) the battery may take with its ULMC
            model, checked before any fit: 86 · q² for q = 3p + k(k + 1)/2 (p items, k
            constructs; :data:`~cbec_sem.engine.work_limits.METHOD_BIAS_WORK_LIMIT`, about
            1.9 s: 44 constructs of 3 items pass); ``None`` lifts the limit.

    Returns:
        A :class:`MethodBiasResult`; ``.table`` lists the checks, ``.summary()`` prints them.

    Raises:
        DataError: the marker is not a column of the data, not numeric or has zero variance;
            the data lack a model column.
        SpecError: the marker is an item (or another variable) of the model; a bad ``r_m``.
        EstimationError: the ULMC step's work exceeds ``work_limit``.

    Examples:
        >>> cmb = cs.common_method_bias(cs.paper_model(), cs.datasets.example_survey())
        >>> cmb.to_frame()[["test", "value"]].round(3)
             test     value
        0  Harman     0.257
        1  Harman     0.218
        2  Harman  1423.678
        3    ULMC     0.245
        4    ULMC     0.496
        5    ULMC     0.031
    """
    if not 0.0 < alpha < 1.0:
        raise SpecError(f"alpha={alpha!r} must lie strictly between 0 and 1")
    if marker is not None and not (isinstance(r_m, str) or isinstance(r_m, Real)):
        raise SpecError(f"r_m={r_m!r}: use 'smallest', 'second' or a number in [0, 1)")
    spec, items, names, frame, sub_res, notes = _prepare(model, data, marker)
    if ulmc:
        check_method_bias_work(len(items), len(spec.latent_variables), work_limit)
    sub_is_clean = False  # fitted here, ML with the defaults, without a warning
    if sub_res is None:
        sub_res, messages = _quiet_fit("substantive model", spec, frame[list(names)])
        sub_is_clean = sub_res is not None and not messages
        if sub_res is None:
            notes.append(f"the substantive model could not be estimated: {messages[0]}")
    if sub_res is not None and not sub_res.converged:
        notes.append("the substantive model did not converge or is inadmissible: "
                     + sub_res.converged.describe())
    harman = harman_test(spec, items, names, frame, sub_res)
    marker_result = (_marker(spec, items, frame, marker, r_m, alpha, sub_res)
                     if marker is not None and len(items) >= 1 else None)
    ulmc_result = None
    if ulmc:
        if len(items) < 2:
            ulmc_result = ULMCResult(
                fitted=False, reason=f"a method factor needs at least two items; the model "
                f"has {len(items)}", converged=None, problems=(), syntax="", fit=_nan_fit(),
                chisq_diff=np.nan, df_diff=np.nan, p_value=np.nan, method_loading=np.nan,
                items=pd.DataFrame(), paths=pd.DataFrame(), avg_substantive_variance=np.nan,
                avg_method_variance=np.nan, ratio=np.nan)
        else:
            ulmc_result = _ulmc(spec, items, frame[list(names)], sub_res, sub_is_clean)
    return MethodBiasResult(harman=harman, marker=marker_result, ulmc=ulmc_result,
                            items=items, n=len(frame), notes=tuple(notes))
