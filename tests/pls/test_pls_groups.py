"""Two-group PLS: MGA against the seminr port's estimate_pls_mga with replayed resamples
(tests/fixtures/seminr/port/mobi_mga.json and mga_group*_indices.csv), the permutation test
and MICOM by their definitions (re-estimating permuted groups directly; composite
correlations and score moments computed from scratch with numpy).
"""

import numpy as np

import pytest

from cbec_sem.errors import DataError, SpecError
from cbec_sem.pls import estimate_pls
from cbec_sem.pls.groups import _permuted_stats, micom, pls_mga
from pls_fixtures import FIX, HOC, MOBI_SIMPLE, port


@pytest.fixture(scope="module")
def est(mobi):
    return estimate_pls(MOBI_SIMPLE, mobi)


GROUPS = np.arange(250) % 2 == 0


def test_henseler_mga_matches_seminr_port(est):
    rec = port("mobi_mga")
    idx = tuple(np.loadtxt(FIX / "port" / f"mga_group{k}_indices.csv", delimiter=",",
                           dtype=int) for k in (1, 2))
    table = pls_mga(est, GROUPS, indices=idx).set_index(["rhs", "lhs"])
    for row in rec["paths"]:
        got = table.loc[(row["source"], row["target"])]
        for mine, theirs in (("est1", "group1_beta"), ("est2", "group2_beta"),
                             ("diff", "diff"), ("boot_mean1", "group1_beta_mean"),
                             ("boot_mean2", "group2_beta_mean"), ("p_henseler", "pls_mga_p")):
            assert got[mine] == pytest.approx(row[theirs], abs=1e-10), mine
    assert (table["p_parametric"].between(0, 1)).all() and (table["p_welch"] <= 1).all()


def test_permutation_statistics_are_group_reestimates(est, mobi):
    a, b = np.flatnonzero(GROUPS), np.flatnonzero(~GROUPS)
    rng = np.random.default_rng(9)
    (o1, o2), (v1, v2) = _permuted_stats(est, a, b, 2, np.random.default_rng(9))
    perm = rng.permutation(np.concatenate([a, b]))
    again = estimate_pls(MOBI_SIMPLE, mobi.iloc[perm[: a.size]].reset_index(drop=True))
    np.testing.assert_allclose(v1[0, :16], again.params["est"], atol=1e-12)
    g1 = estimate_pls(MOBI_SIMPLE, mobi.iloc[a].reset_index(drop=True))
    np.testing.assert_allclose(o1[:16], g1.params["est"], atol=1e-12)
    table = pls_mga(est, GROUPS, draws=50, seed=1, permutations=99)
    assert table["p_permutation"].between(0.01, 1).all()


def test_micom_by_definition(est, mobi):
    res = micom(est, GROUPS, permutations=99, seed=2)
    assert res.permutations == 99
    items = list(est.plan.items)
    Z = (mobi[items] - mobi[items].mean()) / mobi[items].std()
    w = est.weights.set_index(["construct", "indicator"])["weight"]
    g1 = estimate_pls(MOBI_SIMPLE, mobi[GROUPS].reset_index(drop=True))
    g2 = estimate_pls(MOBI_SIMPLE, mobi[~GROUPS].reset_index(drop=True))
    w1 = g1.weights.set_index(["construct", "indicator"])["weight"]
    w2 = g2.weights.set_index(["construct", "indicator"])["weight"]
    s2 = res.step2.set_index("construct")
    s3 = res.step3.set_index("construct")
    for con in ("Image", "Satisfaction"):
        cols = list(w.loc[con].index)
        c = np.corrcoef(Z[cols] @ w1.loc[con], Z[cols] @ w2.loc[con])[0, 1]
        assert s2.loc[con, "c"] == pytest.approx(c, abs=1e-12)
        y = Z[cols] @ w.loc[con]
        assert s3.loc[con, "mean_diff"] == pytest.approx(y[GROUPS].mean() - y[~GROUPS].mean())
        assert s3.loc[con, "logvar_diff"] == pytest.approx(
            np.log(y[GROUPS].var()) - np.log(y[~GROUPS].var()))
    assert s2["compositional_invariance"].dtype == bool


def test_group_input_is_checked(est, mobi):
    with pytest.raises(DataError, match="rows, not more than"):
        micom(est, np.r_[np.zeros(10), np.ones(240)])
    with pytest.raises(SpecError, match="two groups"):
        micom(est, np.arange(250) % 3)
    with pytest.raises(SpecError, match="at least two"):
        pls_mga(est, np.zeros(250))
    with pytest.raises(DataError, match="one label per row"):
        pls_mga(est, np.zeros(10))
    with pytest.raises(SpecError, match="first-order"):
        micom(estimate_pls(HOC, mobi), GROUPS)


def test_three_groups_are_compared_pairwise_with_holm(est):
    from cbec_sem.pls.groups import holm

    # Holm (1979) by hand: p = (.01, .04, .03) -> sorted .01*3, .03*2, .04*1 -> .03, .06, .06
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    table = pls_mga(est, np.arange(250) % 3, draws=30, seed=1)
    assert len(table) == 3 * 3  # three pairs x three paths
    one = table[table["rhs"] == "Image"]
    np.testing.assert_allclose(one["p_welch_holm"], holm(one["p_welch"].to_numpy()))
