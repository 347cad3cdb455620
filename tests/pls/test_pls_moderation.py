"""Simple slopes and Johnson–Neyman regions of PLS two-stage interactions (bootstrap).

References (closed forms on the same draws): the slope is b1 + b3·w from the estimate's
paths; its bootstrap SE equals the delta-method/Wald SE √(v11 + w² v33 + 2w v13) with the
bootstrap covariance of (b1, b3) (a linear combination: exact); the interval is the
quantiles of b1* + b3*·w taken from ``draws_of``.  A Johnson–Neyman limit is where a
percentile limit is 0, and the Wald region from cbec_sem's own johnson_neyman with the same
bootstrap covariance lies close to it (the draws are near normal).
"""

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import SpecError
from cbec_sem.pls import bootstrap_pls, estimate_pls
from cbec_sem.pls.moderation import pls_johnson_neyman, pls_simple_slopes
from cbec_sem.propositions.moderation import InteractionEstimates, johnson_neyman

# the paper model (second-order SCI) with H6a's product term: HOC and two-stage interaction
MODEL = cs.paper_model().to_lavaan().replace("SCI ~ c*TA + b*FA + PC",
                                             "SCI ~ c*TA + b*FA + PC + TA:PC")


@pytest.fixture(scope="module")
def boot():
    est = estimate_pls(MODEL, cs.datasets.example_survey())
    return bootstrap_pls(est, 400, seed=3)


def test_simple_slopes_are_the_closed_forms_on_the_draws(boot):
    out = pls_simple_slopes(boot, "TA", "PC", "SCI", at=(-1, 0, 1.5))
    p = boot.estimate.params.set_index(["lhs", "op", "rhs"])["est"]
    b1, b3 = p[("SCI", "~", "TA")], p[("SCI", "~", "TA:PC")]
    w = np.array([-1, 0, 1.5])
    np.testing.assert_allclose(out["slope"], b1 + b3 * w, rtol=0, atol=1e-14)
    d1, d3 = boot.draws_of("SCI", "~", "TA"), boot.draws_of("SCI", "~", "TA:PC")
    V = np.cov(np.stack([d1, d3]))
    np.testing.assert_allclose(out["se"], np.sqrt(V[0, 0] + w**2 * V[1, 1] + 2 * w * V[0, 1]),
                               rtol=1e-10)
    for i, wi in enumerate(w):
        lo, hi = np.quantile(d1 + d3 * wi, [0.025, 0.975])
        assert out["ci.lower"][i] == pytest.approx(lo, abs=1e-14)
        assert out["ci.upper"][i] == pytest.approx(hi, abs=1e-14)
    assert (out["draws"] == 400).all()


def test_johnson_neyman_limits_are_where_the_interval_touches_zero(boot):
    jn = pls_johnson_neyman(boot, "TA", "PC", "SCI")
    assert jn.roots and jn.kind == "part"
    d1, d3 = boot.draws_of("SCI", "~", "TA"), boot.draws_of("SCI", "~", "TA:PC")
    for r in jn.roots:
        lo, hi = np.quantile(d1 + d3 * r, [0.025, 0.975])
        assert min(abs(lo), abs(hi)) < 1e-9
    # inside the region the interval excludes 0, outside it does not
    inside = [(a + b) / 2 for a, b in jn.intervals]
    s = pls_simple_slopes(boot, "TA", "PC", "SCI", at=inside)
    assert ((s["ci.lower"] > 0) | (s["ci.upper"] < 0)).all()
    s0 = pls_simple_slopes(boot, "TA", "PC", "SCI", at=[0.0])
    assert s0["ci.lower"][0] < 0 < s0["ci.upper"][0]
    # the Wald region with the same bootstrap covariance is close (near-normal draws)
    p = boot.estimate.params.set_index(["lhs", "op", "rhs"])["est"]
    keys = ["SCI~TA", "SCI~TA:PC"]
    V = pd.DataFrame(np.cov(np.stack([d1, d3])), index=keys, columns=keys)
    wald = johnson_neyman(InteractionEstimates(
        {"SCI~TA": p[("SCI", "~", "TA")], "SCI~TA:PC": p[("SCI", "~", "TA:PC")]}, V,
        moderator="PC"), "TA", "PC", "SCI")
    inner = [r for r in jn.roots if jn.range[0] < r < jn.range[1]]
    assert len(inner) == len(wald.roots)
    np.testing.assert_allclose(inner, wald.roots, atol=0.25)


def test_probes_refuse_a_fit_without_the_term(boot):
    with pytest.raises(SpecError, match="no interaction FA:PC"):
        pls_simple_slopes(boot, "FA", "PC", "SCI")
    with pytest.raises(SpecError, match="PLS fit"):
        pls_simple_slopes(object(), "TA", "PC", "SCI")
