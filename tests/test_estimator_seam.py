"""The estimator seam (issue 9): one registry behind ``cs.fit``, LMS/QML through it with the
same FitResult, probes from any fit with a product term, and verdicts that use the fit's own
estimator, standard errors and sample.

Reference values: modsem 1.0.17 on its ``oneInt`` data (``tests/fixtures/modsem``, made by
``shared/reference``'s script, see that folder's README); everything else is checked against
another number of the same fit (the fit's own covariance matrix, its own robust SEs, its own N).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.engine.estimators import REGISTRY, Estimator, get_estimator
from cbec_sem.errors import SpecError
from cbec_sem.propositions.interaction import fit_lms

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "modsem"

ONEINT = """
X =~ x1 + x2 + x3
Z =~ z1 + z2 + z3
Y =~ y1 + y2 + y3
Y ~ X + Z + X:Z
"""


@pytest.fixture(scope="module")
def oneint() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "modsem_oneInt.csv")


@pytest.fixture(scope="module")
def lms_fit(oneint) -> cs.FitResult:
    return cs.fit(ONEINT, oneint, estimator="LMS")


@pytest.fixture(scope="module")
def qml_fit(oneint) -> cs.FitResult:
    return cs.fit(ONEINT, oneint, estimator="QML")


def _against_modsem(res: cs.FitResult, name: str) -> pd.DataFrame:
    ref = pd.read_csv(FIXTURES / name)
    ref["rhs"] = ref["rhs"].fillna("")
    merged = res.params.merge(ref[["lhs", "op", "rhs", "est", "std.error"]],
                              on=["lhs", "op", "rhs"], suffixes=("", "_modsem"))
    assert len(merged) == len(ref)
    return merged


@pytest.mark.parametrize("which, fixture", [("lms_fit", "modsem_oneInt_lms_estimates.csv"),
                                            ("qml_fit", "modsem_oneInt_qml_estimates.csv")])
def test_latent_interaction_through_fit_equals_modsem(which, fixture, request) -> None:
    res = request.getfixturevalue(which)
    assert isinstance(res, cs.FitResult) and bool(res.converged)
    merged = _against_modsem(res, fixture)
    np.testing.assert_allclose(merged["est"], merged["est_modsem"], atol=0.005)
    free = merged["std.error"].notna()
    np.testing.assert_allclose(merged.loc[free, "se"], merged.loc[free, "std.error"], rtol=0.05)


def test_lms_through_fit_equals_the_direct_call(lms_fit, oneint) -> None:
    direct = fit_lms(ONEINT, oneint)
    np.testing.assert_allclose(lms_fit.params["est"], direct.params["est"], atol=1e-8)
    assert lms_fit.fit_measures["logl"] == pytest.approx(direct.loglik)
    # the likelihood-ratio test of the product term is the direct object's
    assert lms_fit.fit_measures["chisq.interaction"] == pytest.approx(direct.lr_test()["lr"])
    assert lms_fit.fit_measures["df.interaction"] == 1


def test_fit_measures_of_an_lms_fit(lms_fit) -> None:
    fm = lms_fit.fit_measures
    npar, n, logl = fm["npar"], fm["ntotal"], fm["logl"]
    assert fm["aic"] == pytest.approx(-2 * logl + 2 * npar)
    assert fm["bic"] == pytest.approx(-2 * logl + npar * np.log(n))
    assert 0 < fm["delta_r2.Y"] < fm["r2.Y"] < 1


def test_simple_slope_se_is_the_delta_method_of_the_fit(lms_fit) -> None:
    """SE of b1 + b3·w equals √(gᵀVg), g = (1, w), from the fit's own covariance matrix (the
    test that would have caught SE = 0 from name mismatches)."""
    slopes = cs.simple_slopes(lms_fit, focal="X", moderator="Z", outcome="Y")
    V = lms_fit.vcov.loc[["Y ~ X", "Y ~ X:Z"], ["Y ~ X", "Y ~ X:Z"]].to_numpy()
    for w, se in zip(slopes["moderator"], slopes["se"]):
        g = np.array([1.0, w])
        assert se == pytest.approx(np.sqrt(g @ V @ g), rel=1e-10)
        assert se > 0
    # the moderator's SD is the model-implied one: ±1 SD
    _, cov = lms_fit.estimation.latent_moments()
    np.testing.assert_allclose(slopes["moderator"], np.array([-1, 0, 1]) * np.sqrt(cov.at["Z", "Z"]))


def test_johnson_neyman_from_an_lms_fit(lms_fit) -> None:
    jn = cs.johnson_neyman(lms_fit, focal="X", moderator="Z", outcome="Y")
    assert isinstance(str(jn), str) and str(jn)


def test_probe_of_a_fit_without_the_product_term_is_refused(oneint) -> None:
    res = cs.fit(ONEINT.replace(" + X:Z", ""), oneint)
    with pytest.raises(SpecError, match="estimator='LMS'"):
        cs.simple_slopes(res, focal="X", moderator="Z", outcome="Y")


def test_lms_fit_tests_its_own_interaction_hypothesis(oneint) -> None:
    model = cs.ModelSpec.from_lavaan(ONEINT).with_hypotheses(
        cs.Hypothesis("H1", "interaction", "X × Z → Y", ("X", "Z", "Y"), "+"))
    res = cs.fit(model, oneint, estimator="LMS")
    row = res.hypotheses.iloc[0]
    p = res.params
    own = p[(p["lhs"] == "Y") & (p["op"] == "~") & (p["rhs"] == "X:Z")].iloc[0]
    assert row["method"] == "LMS Wald z test"
    assert row["estimate"] == own["est"] and row["se"] == own["se"]
    assert row["n"] == len(oneint)


# -- verdicts honour the fit ------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return cs.datasets.example_survey()


def test_path_rows_under_mlr_carry_the_robust_se(example) -> None:
    res = cs.fit(cs.paper_model(), example, estimator="MLR", nca_permutations=200, seed=1)
    h = res.hypotheses.set_index("id")
    p = res.params
    for hid, (pred, out) in {"H1": ("TA", "SCI"), "H2": ("FA", "SCI"),
                             "H3": ("TA", "FA")}.items():
        robust = p[(p["op"] == "~") & (p["lhs"] == out) & (p["rhs"] == pred)].iloc[0]
        assert h.at[hid, "se"] == robust["se"]
        assert h.at[hid, "method"] == "MLR Wald z test"
    naive = cs.fit(cs.paper_model(), example, nca_permutations=200, seed=1).hypotheses
    assert not np.isclose(naive.set_index("id").at["H1", "se"], h.at["H1", "se"])
    assert h.at["H5", "method"].endswith("MLR Wald z test")


def test_every_row_reports_the_n_of_a_fiml_fit(example) -> None:
    rng = np.random.default_rng(3)
    data = example.copy()
    items = [c for c in data.columns if c[:2] in ("ta", "fa", "pc", "vp", "fo", "is")]
    mask = rng.random((len(data), len(items))) < 0.05
    data[items] = data[items].mask(mask)
    res = cs.fit(cs.paper_model(), data, missing="fiml", nca_permutations=200, seed=1)
    h = res.hypotheses.set_index("id")
    assert sum(res.nobs) == len(data)
    for hid in ("H1", "H2", "H3", "H4", "H7", "H8"):  # paths, indirect, NCA on FIML scores
        assert h.at[hid, "n"] == len(data), hid
    for hid in ("H5", "H6a", "H6b"):  # product indicators need complete rows: said so
        assert "complete rows" in h.at[hid, "note"], h.at[hid, "note"]


def test_holm_summary_prints_the_adjusted_p(example) -> None:
    res = cs.fit(cs.paper_model(), example, correction="holm", nca_permutations=200, seed=1)
    h = res.hypotheses.set_index("id")
    text = str(res.summary())
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("H3 "))
    assert f"p.adj {h.at['H3', 'p.adjusted']:.3f}" in line


# -- the registry -----------------------------------------------------------------------------


def test_registry_lists_every_estimator() -> None:
    assert set(REGISTRY) >= {"ML", "MLM", "MLR", "WLSMV", "ULSMV", "DWLS", "ULS", "LMS", "QML"}
    assert cs.estimator_names() == tuple(REGISTRY)
    assert all(isinstance(e, Estimator) for e in REGISTRY.values())
    assert get_estimator("mlr") is REGISTRY["MLR"]


def test_unknown_estimator_lists_the_registered_ones(example) -> None:
    with pytest.raises(SpecError, match="'LMS'") as info:
        cs.fit(cs.paper_model(), example, estimator="PLSX")
    assert "'ML'" in str(info.value)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"estimator": "ML"}, "estimator='LMS' or 'QML'"),
    ({"estimator": "LMS", "missing": "fiml"}, "FIML for LMS is not built"),
    ({"estimator": "QML", "group": "g"}, "fit each group"),
    ({"estimator": "LMS", "ordered": True}, "continuous"),
])
def test_options_an_estimator_cannot_honour_are_refused(oneint, kwargs, fragment) -> None:
    data = oneint.assign(g=np.arange(len(oneint)) % 2)
    with pytest.raises(SpecError, match=fragment):
        cs.fit(ONEINT, data, **kwargs)


def test_fit_result_protocol(lms_fit) -> None:
    summary = lms_fit.summary()
    assert isinstance(summary, cs.Summary)
    assert "LMS" in str(summary)
    assert "<table>" in summary.as_html() and "<table>" in lms_fit._repr_html_()
    assert summary.as_markdown().startswith("## ")
    assert "\n" not in repr(lms_fit)
    pd.testing.assert_frame_equal(lms_fit.to_frame(), lms_fit.params)


# -- PLS through the same seam ------------------------------------------------------------------


def test_pls_through_fit_equals_the_direct_call(example) -> None:
    from cbec_sem.pls import estimate_pls

    res = cs.fit(cs.paper_model(), example, estimator="PLS", nca_permutations=100, seed=1)
    direct = estimate_pls(cs.paper_model(), example, missing="listwise")
    pd.testing.assert_frame_equal(res.params, direct.params)
    assert res.estimator == "PLS" and bool(res.converged)
    with pytest.raises(SpecError, match="'scheme'"):
        cs.fit(cs.paper_model(), example, estimator="PLS", estimator_options={"schema": "x"})


def test_pls_hypotheses_use_the_bootstrap(example) -> None:
    res = cs.fit(cs.paper_model(), example, estimator="PLS", se="bootstrap", bootstrap=200,
                 seed=2, nca_permutations=100)
    h = res.hypotheses.set_index("id")
    p = res.params
    path = p[(p["op"] == "~") & (p["lhs"] == "FA") & (p["rhs"] == "TA")].iloc[0]
    assert h.at["H3", "se"] == path["se"] and path["se"] > 0
    assert h.at["H3", "method"] == "PLS, z test with bootstrap SE (200 draws)"
    # H4: the product of the two paths' draws (same draws, so the SE is their SD)
    a = res.bootstrap.draws_of("FA", "~", "TA")
    b = res.bootstrap.draws_of("SCI", "~", "FA")
    assert h.at["H4", "se"] == pytest.approx(np.std(a * b, ddof=1))


def test_latent_interaction_bootstrap_is_seeded_and_near_the_information_se(oneint) -> None:
    """se='bootstrap' for QML refits every draw; the same seed gives the same draws, and with
    20 draws the bootstrap SE of the product term is within Monte Carlo error (≈ 16% at
    B = 20, so a 45% band) of the information-based SE (which matches modsem on the whole
    sample; the first 500 of its 2,000 rows here, to keep the suite short).

    Draw b has its own stream (SeedSequence(seed, spawn_key=(b,))), so a second run of 4 draws
    with the same seed must give exactly the first run's first 4 draws: the same claim as a
    second 20-draw run, at a fifth of its refits."""
    part = oneint.iloc[:500]
    a = cs.fit(ONEINT, part, estimator="QML", se="bootstrap", bootstrap=20, seed=7)
    b = cs.fit(ONEINT, part, estimator="QML", se="bootstrap", bootstrap=4, seed=7)
    np.testing.assert_array_equal(b.bootstrap.est, a.bootstrap.est[:4])
    pd.testing.assert_series_equal(a.params["est"], b.params["est"])
    info = cs.fit(ONEINT, part, estimator="QML").params.set_index(["lhs", "op", "rhs"])
    boot = a.params.set_index(["lhs", "op", "rhs"])
    key = ("Y", "~", "X:Z")
    assert boot.loc[key, "se"] == pytest.approx(info.loc[key, "se"], rel=0.45)
    assert boot.loc[key, "est"] == info.loc[key, "est"]
    assert a.bootstrap.failed == 0 and "20 bootstrap refits" in a.notes[-1]
    # the probes read the bootstrap covariance matrix
    v = a.vcov.loc["Y ~ X:Z", "Y ~ X:Z"]
    assert v == pytest.approx(boot.loc[key, "se"] ** 2, rel=1e-10)


def test_auto_declares_ordered_only_the_ordinal_items() -> None:
    """estimator='auto' on 4-category items beside continuous ones: WLSMV with only the
    categorical items ordered (mixed WLSMV, as lavaan's ordered= subset), not every item."""
    rng = np.random.default_rng(3)
    f = rng.normal(size=(400, 2)) @ np.array([[1.0, 0.4], [0.0, 0.9]])
    cols = {}
    for k in range(3):
        cols[f"o{k}"] = np.digitize(0.8 * f[:, 0] + rng.normal(0, 0.6, 400), [-1, 0, 1])
        cols[f"c{k}"] = 0.8 * f[:, 1] + rng.normal(0, 0.6, 400)
    data = pd.DataFrame(cols)
    res = cs.fit("O =~ o0 + o1 + o2\nC =~ c0 + c1 + c2\nC ~ O", data, estimator="auto")
    assert res.estimator == "WLSMV"
    assert set(res.estimation.options.ordered) == {"o0", "o1", "o2"}


def test_modindices_of_a_wlsmv_fit_is_refused_with_the_reason(example) -> None:
    """Modification indices need the fit's own information; for WLSMV it is not built, so
    the call says so instead of reporting a singular ML information."""
    res = cs.fit("TA =~ ta1 + ta2 + ta3\nFA =~ fa1 + fa2 + fa3\nFA ~ TA", example,
                 ordered=True, estimator="WLSMV")
    with pytest.raises(SpecError, match="WLSMV fit"):
        cs.modindices(res)
