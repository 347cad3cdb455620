"""The batched PLS bootstrap.

* Replaying the Python seminr port's draws (tests/fixtures/seminr/port/boot_indices.csv, made
  by make_fixtures.py) must give its bootstrap means and SDs of paths, loadings and weights
  (the port equals R seminr's bootstrap_model for the same indices).
* R seminr's own fixture (boostrapmatrix1.csv: 200 draws, seed 123, R's RNG) can only be
  matched within Monte Carlo error: the SD of an SD from 200 draws is about SD/√400 = 5 %.
"""

import numpy as np

import pytest

import cbec_sem as cs
from cbec_sem.errors import SpecError
from cbec_sem.pls import estimate_pls
from cbec_sem.pls.bootstrap import bootstrap_pls
from pls_fixtures import FIX, HOC, MOBI_INTERACTION, MOBI_SIMPLE, frame, port, r_matrix


@pytest.fixture(scope="module")
def mobi_est(mobi):
    return estimate_pls(MOBI_SIMPLE, mobi)


def _desc(rec, key):
    """(construct, row) -> (mean, sd) from the port's '<C> Boot Mean'/'<C> Boot SD' columns."""
    df = frame(rec[key])
    out = {}
    for col in df.columns:
        if col.endswith(" Boot Mean"):
            con = col[: -len(" Boot Mean")]
            for row in df.index:
                sd = df.loc[row, f"{con} Boot SD"]
                if sd != 0:
                    out[(con, row)] = (df.loc[row, col], sd)
    return out


def test_replayed_draws_match_the_seminr_port(mobi_est):
    idx = np.loadtxt(FIX / "port" / "boot_indices.csv", delimiter=",", dtype=int)
    boot = bootstrap_pls(mobi_est, indices=idx)
    assert boot.failed == 0
    t = boot.table
    rec = port("mobi_boot")
    checks = [("paths_descriptives", "~", lambda c, r: (c, r)),
              ("loadings_descriptives", "=~", lambda c, r: (c, r)),
              ("weights_descriptives", "weight", lambda c, r: (c, r))]
    n = 0
    for key, op, _ in checks:
        for (con, row), (mean, sd) in _desc(rec, key).items():
            sel = t[(t["op"] == op) & (t["lhs"] == con) & (t["rhs"] == row)]
            assert len(sel) == 1, (key, con, row)
            assert sel["boot.mean"].iloc[0] == pytest.approx(mean, abs=1e-10)
            assert sel["se"].iloc[0] == pytest.approx(sd, abs=1e-10)
            n += 1
    assert n == 3 + 13 + 13


def test_bootstrap_se_within_monte_carlo_error_of_r_seminr(mobi):
    est = estimate_pls(MOBI_SIMPLE, mobi, scheme="factorial")
    boot = bootstrap_pls(est, 1000, seed=11)
    ref = r_matrix("boostrapmatrix1.csv")
    for con in ref.index:
        row = boot.params.query("op == '~' and rhs == @con")
        assert row["est"].iloc[0] == pytest.approx(ref.loc[con, "Satisfaction PLS Est."],
                                                   abs=1e-6)
        assert row["se"].iloc[0] == pytest.approx(ref.loc[con, "Satisfaction Boot SD"],
                                                  rel=0.2)


def test_seeded_and_identical_for_any_chunking(mobi_est):
    a = bootstrap_pls(mobi_est, 300, seed=5)
    b = bootstrap_pls(mobi_est, 300, seed=5, chunk=37)
    c = bootstrap_pls(mobi_est, 300, seed=np.random.default_rng(5), chunk=1000)
    np.testing.assert_allclose(a.draws, b.draws, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(a.draws, c.draws)
    assert np.isfinite(a.params["se"]).all()
    assert (a.params["ci.lower"] <= a.params["est"]).all()


def test_failed_draws_are_counted_not_dropped(mobi):
    est = estimate_pls(MOBI_SIMPLE, mobi, max_iter=5)
    assert est.converged  # 5 iterations suffice for the data, not for every resample
    boot = bootstrap_pls(est, 300, seed=2)
    bad = np.isnan(boot.draws).all(axis=1)
    assert boot.failed == bad.sum() > 0
    good = boot.draws[~bad]
    np.testing.assert_allclose(boot.table["se"], good.std(axis=0, ddof=1), rtol=1e-12)


def test_indirect_effects_and_defined_parameters_agree():
    # paper model: the only route TA -> SCI through a mediator is TA -> FA -> SCI, so the total
    # indirect effect, the specific indirect effect and 'indirect := a*b' are the same number
    data = cs.simulate(cs.paper_model(), 400, seed=3)
    est = estimate_pls(cs.paper_model(), data)
    boot = bootstrap_pls(est, 200, seed=1, interval="bca")
    t = boot.table.set_index(["lhs", "op", "rhs"])
    defined = t.loc[("indirect", ":=", "a*b")]
    total = t.loc[("SCI", "indirect", "TA")]
    specific = t.loc[("SCI", "specific", "TA -> FA -> SCI")]
    for col in ("est", "se", "ci.lower", "bca.upper"):
        assert total[col] == pytest.approx(defined[col], abs=1e-14)
        assert specific[col] == pytest.approx(defined[col], abs=1e-14)
    ci = boot.params.set_index("lhs").loc["indirect"]
    assert ci["ci.lower"] == pytest.approx(defined["bca.lower"], abs=1e-14)


@pytest.mark.parametrize("text, kw", [(HOC, {}), (MOBI_INTERACTION, {}),
                                      (MOBI_INTERACTION, {"interaction": "orthogonal"})],
                         ids=["hoc", "two-stage interaction", "orthogonal interaction"])
def test_draws_equal_estimates_on_resampled_rows(mobi, text, kw):
    # HOC draws go through count-weighted moments, interaction draws through resampled data;
    # either must equal estimating the resampled rows from scratch
    est = estimate_pls(text, mobi, **kw)
    idx = np.random.default_rng(4).integers(0, len(mobi), size=(3, len(mobi)))
    boot = bootstrap_pls(est, indices=idx)
    for b in range(3):
        again = estimate_pls(text, mobi.iloc[idx[b]].reset_index(drop=True), **kw)
        np.testing.assert_allclose(boot.draws[b, : len(again.params)], again.params["est"],
                                   atol=1e-12, rtol=0)


def test_sign_change_options(mobi_est, mobi):
    none = bootstrap_pls(mobi_est, 100, seed=8)
    ind = bootstrap_pls(mobi_est, 100, seed=8, sign_change="individual")
    sign = np.sign(none.table["est"].to_numpy())
    np.testing.assert_allclose(ind.draws, np.abs(none.draws) * sign, atol=0)
    con = bootstrap_pls(mobi_est, 100, seed=8, sign_change="construct")
    # every draw's constructs point the original's way: flipping changes nothing here, and a
    # draw flipped by hand (all weights, loadings and no path: both ends reversed) returns
    np.testing.assert_allclose(con.draws, none.draws, atol=1e-15)
    from cbec_sem.pls.bootstrap import _construct_reversal
    import dataclasses
    c = mobi_est.computed
    flipped = dataclasses.replace(c, weights={"main": -c.weights["main"]},
                                  loadings={"main": -c.loadings["main"]})
    back = _construct_reversal(flipped, c)
    np.testing.assert_allclose(back.loadings["main"], c.loadings["main"], atol=0)
    np.testing.assert_allclose(back.beta, c.beta, atol=0)
    with pytest.raises(SpecError, match="single-stage"):
        bootstrap_pls(estimate_pls(HOC, mobi), 10, sign_change="construct")


def test_unimplemented_options_are_refused(mobi_est):
    with pytest.raises(SpecError, match="sign_change"):
        bootstrap_pls(mobi_est, 10, sign_change="sometimes")
    with pytest.raises(SpecError, match="interval"):
        bootstrap_pls(mobi_est, 10, interval="studentized")
