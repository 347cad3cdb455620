"""FitResult, Convergence and the hypothesis table on the bundled example.

The example's population (src/cbec_sem/datasets/make_example_survey.py) has TA → SCI = 0
(H1 null), FA → SCI = .45, TA → FA = .50 (H2, H3, H4 true); with N = 400 the verdicts must
follow the truth.  The indirect effect's delta-method SE is checked against the closed form
se(ab) = √(b² se_a² + a² se_b² + 2ab·cov(a, b)) (Sobel 1982, eq. 14, with the covariance term).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs


@pytest.fixture(scope="module")
def res():
    return cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1, nca_permutations=500)


def test_verdicts_follow_the_population(res):
    h = res.hypotheses.set_index("id")
    assert h.loc["H1", "verdict"] == "not supported"
    assert h.loc[["H2", "H3", "H4"], "verdict"].eq("supported").all()
    # PC x FA -> SCI is 0 in the population (H6b); H5 (.15) and H6a (.12) are true but small
    # for N = 400 seven-point answers, so only their direction is checked.
    assert h.loc["H6b", "verdict"] == "not supported"
    assert h.loc["H5", "estimate"] > 0 and h.loc["H6a", "estimate"] > 0
    assert h.loc[["H5", "H6a", "H6b"], "method"].str.contains("product indicators").all()
    assert h.loc[["H7", "H8"], "method"].str.startswith("NCA").all()
    assert (h["verdict"] != "not tested").all()
    assert list(h.columns[:3]) == ["kind", "statement", "method"]
    assert {"estimate", "ci", "p", "verdict"} <= set(h.columns)


def test_indirect_effect_is_the_product_with_sobel_se(res):
    p = res.params.set_index("label")
    a, b = p.loc["a"], p.loc["b"]
    h = res.hypotheses.set_index("id").loc["H4"]
    assert h["estimate"] == pytest.approx(a["est"] * b["est"], rel=1e-12)
    cov_ab = res.vcov.loc["FA ~ TA", "SCI ~ FA"]
    delta = np.sqrt(b["est"] ** 2 * a["se"] ** 2 + a["est"] ** 2 * b["se"] ** 2
                    + 2 * a["est"] * b["est"] * cov_ab)
    assert h["se"] == pytest.approx(delta, rel=1e-6)
    # the := row computes the same quantity by the numerical delta method
    defined = res.params.query("op == ':=' and lhs == 'indirect'").iloc[0]
    assert defined["est"] == pytest.approx(h["estimate"], rel=1e-12)
    assert defined["se"] == pytest.approx(h["se"], rel=1e-6)
    assert h["std.all"] == pytest.approx(a["std.all"] * b["std.all"], rel=1e-12)


def test_convergence_status_is_a_bool_with_reasons(res):
    assert res.converged == True  # noqa: E712
    assert bool(res.converged)
    assert res.converged.optimizer_converged and res.converged.admissible
    assert res.converged.max_gradient < 1e-6
    assert "converged" in repr(res.converged)


def test_summary_reports_everything_a_reader_needs(res):
    text = res.summary()
    for needle in ["ML estimation converged", "Chi-square", "CFI", "RMSEA", "SRMR",
                   "Latent variables:", "Regressions:", "Defined parameters:", "Hypotheses:",
                   "H1", "not supported", "H8"]:
        assert needle in text, needle


def test_results_are_copies_and_survey_objects_are_accepted():
    df = cs.datasets.example_survey()
    survey = cs.load_survey(df, scale=(1, 7), items=[c for c in df.columns if c[-1].isdigit()
                                                    and c != "firm_id"])
    res = cs.fit(cs.paper_model(), survey)
    params = res.params
    params.loc[0, "est"] = 99.0
    assert res.params.loc[0, "est"] != 99.0
    direct = cs.fit(cs.paper_model(), df)
    pd.testing.assert_series_equal(res.fit_measures, direct.fit_measures)


def test_multigroup_hypotheses_one_row_per_group():
    res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), group="channel")
    h = res.hypotheses
    assert set(h["group"].dropna()) == {"platform", "independent site"}
    assert (h["id"] == "H1").sum() == 2
    assert any("held equal across groups" in n for n in res.notes)
    assert "Group 1 [platform]" in res.summary()


def test_rsquare_is_one_minus_standardised_residual_variance(res):
    r2 = res.rsquare().set_index("variable")["r2"]
    p = res.params.query("op == '~~' and lhs == rhs").set_index("lhs")["std.all"]
    assert r2["SCI"] == pytest.approx(1 - p["SCI"])
    assert r2["ta1"] == pytest.approx(res.params.query("lhs == 'TA' and rhs == 'ta1'")
                                      ["std.all"].iloc[0] ** 2)


def test_holm_correction_adjusts_p_and_verdicts(res):
    """Holm (1979): adjusted p_(k) = max over j <= k of min(1, (m - j + 1) p_(j))."""
    holm = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1, nca_permutations=500,
                  correction="holm").hypotheses.set_index("id")
    p = holm["p"].to_numpy(float)
    order = np.argsort(p)
    m = len(p)
    expected = np.minimum(np.maximum.accumulate(p[order] * (m - np.arange(m))), 1.0)
    np.testing.assert_allclose(holm["p.adjusted"].to_numpy(float)[order], expected)
    # H6a (p ~ .03) is significant alone but not after correcting for 9 tests
    assert res.hypotheses.set_index("id").loc["H6a", "verdict"] == "supported"
    assert holm.loc["H6a", "verdict"] == "not supported"
