"""Tests of the Monte Carlo power study (``cbec_sem.power``).

Every Monte Carlo claim is checked against its own Monte Carlo error (3 standard errors), with
fixed seeds, so the tests are deterministic; sizes are kept small so each test takes about a
second.  The large study (1000 replications of the paper model at n = 300) is in
``benchmarks/bench_power.py``.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cbec_sem as cs
from cbec_sem.cli import app
from cbec_sem.errors import CbecSemError, SpecError
from cbec_sem.power import PowerResult, power
from cbec_sem.power.population import (Sampler, exact_moments, item_thresholds,
                                       sample_moments)
from cbec_sem.simulate import population_model
from cbec_sem.specification import Hypothesis, ModelSpec

TWO_FACTOR = """
F1 =~ x1 + x2 + x3
F2 =~ y1 + y2 + y3
F2 ~ F1
"""


def two_factor(sign: str = "two-sided") -> ModelSpec:
    return ModelSpec.from_lavaan(TWO_FACTOR, hypotheses=[
        Hypothesis.path("H1", "F1", "F2", sign=sign)])


def two_factor_population(beta: float) -> str:
    return f"""
F1 =~ 0.8*x1 + 0.7*x2 + 0.6*x3
F2 =~ 0.8*y1 + 0.7*y2 + 0.6*y3
F2 ~ {beta}*F1
"""


def mc_se(p: float, reps: int) -> float:
    return float(np.sqrt(p * (1 - p) / reps))


@pytest.fixture(scope="module")
def null_study() -> PowerResult:
    return power(two_factor(), [100], reps=400, population=two_factor_population(0.0), seed=11)


@pytest.fixture(scope="module")
def effect_study() -> PowerResult:
    return power(two_factor(), [150], reps=400, population=two_factor_population(0.3), seed=12)


@pytest.fixture(scope="module")
def paper_study() -> PowerResult:
    return power(cs.paper_model(), [150, 250], reps=40, hypotheses=["H1", "H2", "H3", "H4"],
                 seed=3)


# ------------------------------------------------------------------------------ Monte Carlo


def test_null_path_power_is_alpha(null_study):
    row = null_study.table.iloc[0]
    assert row["population"] == 0.0 and row["population.std"] == 0.0
    assert row["completed"] == row["converged"] == 400
    assert abs(row["power"] - 0.05) <= 3 * mc_se(0.05, 400)


def test_directional_null_is_half_alpha():
    res = power(two_factor("+"), [100], reps=400, population=two_factor_population(0.0),
                seed=11)
    assert abs(res.table["power"].iloc[0] - 0.025) <= 3 * mc_se(0.025, 400)
    assert any("false-positive rate" in note for note in res.notes)


def test_large_effect_power_is_one():
    res = power(two_factor("+"), [200], reps=100, population=two_factor_population(0.6),
                seed=1)
    assert res.table["power"].iloc[0] == 1.0


def test_coverage_and_bias_within_monte_carlo_error(effect_study):
    row = effect_study.table.iloc[0]
    reps = row["converged"]
    assert abs(row["coverage"] - 0.95) <= 3 * mc_se(0.95, reps)
    # the population value in the analysis metric (marker x1 fixed to 1): 0.3 · 0.8 / 0.8
    assert row["population"] == pytest.approx(0.3, abs=1e-6)
    assert row["population.std"] == pytest.approx(0.3, abs=1e-6)
    assert abs(row["bias"]) <= 3 * row["sd.est"] / np.sqrt(reps)
    assert abs(row["std.bias"]) <= 0.02
    # the average estimated SE agrees with the empirical SD of the estimates
    assert row["mean.se"] == pytest.approx(row["sd.est"], rel=0.15)
    assert row["rmse"] == pytest.approx(np.sqrt(row["bias"] ** 2 + row["sd.est"] ** 2
                                                * (reps - 1) / reps), rel=1e-9)


def test_power_is_supported_over_completed(effect_study):
    t = effect_study.table.iloc[0]
    reps = effect_study.replications
    assert t["supported"] == int(reps["supported"].sum())
    assert t["power"] == pytest.approx(t["supported"] / t["completed"])
    assert t["power.se"] == pytest.approx(mc_se(t["power"], t["completed"]))


def test_paper_population_values(paper_study):
    t = paper_study.table[paper_study.table["n"] == 250].set_index("id")
    # the example population: FA ~ .50 TA, SCI ~ .00 TA + .45 FA, indirect .50 × .45
    assert t.loc["H1", "population.std"] == 0.0
    assert t.loc["H2", "population.std"] == pytest.approx(0.45, abs=1e-6)
    assert t.loc["H3", "population.std"] == pytest.approx(0.50, abs=1e-6)
    assert t.loc["H4", "population.std"] == pytest.approx(0.225, abs=1e-6)
    assert "example_population" in paper_study.population
    assert (t["convergence"] == 1.0).all()


def test_replications_match_a_full_fit(paper_study):
    """The lean refit + information gives what cs.fit gives on the same data."""
    pm = population_model(cs.paper_model(), population=cs.datasets.example_population())
    sampler = Sampler(pm, item_thresholds(pm, None))
    reps = paper_study.replications
    for rep in (0, 1):
        rng = np.random.default_rng(np.random.SeedSequence(paper_study.seed,
                                                           spawn_key=(150, rep, 0)))
        data = pd.DataFrame(sampler.draw(150, rng), columns=list(sampler.observed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = cs.fit(cs.paper_model(), data)
        hyp = fit.hypotheses.set_index("id")
        mine = reps[(reps["n"] == 150) & (reps["rep"] == rep)].set_index("id")
        for h in ("H1", "H2", "H3", "H4"):
            assert mine.at[h, "est"] == pytest.approx(hyp.at[h, "estimate"], abs=1e-5)
            assert mine.at[h, "se"] == pytest.approx(hyp.at[h, "se"], abs=1e-5)
            assert mine.at[h, "std"] == pytest.approx(hyp.at[h, "std.all"], abs=1e-5)
            assert mine.at[h, "p"] == pytest.approx(hyp.at[h, "p"], abs=1e-4)
            assert bool(mine.at[h, "supported"]) == (hyp.at[h, "verdict"] == "supported")


# ------------------------------------------------------------------------------ reproducibility


def test_same_seed_same_numbers_and_sizes_independent(paper_study):
    again = power(cs.paper_model(), [250], reps=40, hypotheses=["H1", "H2", "H3", "H4"],
                  seed=3)
    a = paper_study.replications
    pd.testing.assert_frame_equal(a[a["n"] == 250].reset_index(drop=True),
                                  again.replications)


def test_identical_across_n_jobs():
    # 20 replications per size are one chunk each (CHUNK_SIZE is larger): two chunks, one per
    # process
    kwargs = dict(reps=20, hypotheses=["H2", "H4"], seed=5)
    one = power(cs.paper_model(), [120, 200], n_jobs=1, **kwargs)
    two = power(cs.paper_model(), [120, 200], n_jobs=2, **kwargs)
    pd.testing.assert_frame_equal(one.replications, two.replications)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert "joblib" in two.backend


def test_replications_do_not_depend_on_their_chunk(monkeypatch):
    # a chunk's refits are one batch (quasi-Newton iterations, information matrices in blocks,
    # stacked solves): each replication's numbers must be those of any other split, exactly
    kwargs = dict(reps=24, hypotheses=["H2", "H4", "H5"], seed=7)
    whole = power(cs.paper_model(), [200], **kwargs)
    monkeypatch.setattr(importlib.import_module("cbec_sem.power.api"), "CHUNK_SIZE", 7)
    split = power(cs.paper_model(), [200], **kwargs)
    pd.testing.assert_frame_equal(whole.replications, split.replications)


def test_product_columns_are_numpy_products():
    from cbec_sem.power.study import _products

    X = np.random.default_rng(4).standard_normal((50, 9)) * 3
    products = ((0, 4), (1, 5, 7), (3,), (8, 2, 6, 1), (4, 0))
    expected = np.column_stack([np.prod(X[:, list(p)], axis=1) for p in products])
    np.testing.assert_array_equal(_products(X, products, np.empty((50, 5))), expected)


def test_seed_none_is_recorded():
    res = power(two_factor(), [60], reps=5, population=two_factor_population(0.3))
    again = power(two_factor(), [60], reps=5, population=two_factor_population(0.3),
                  seed=res.seed)
    pd.testing.assert_frame_equal(res.replications, again.replications)


# ------------------------------------------------------------------------------ the population


def test_sampler_reproduces_population_moments():
    """The fast sampler draws from the population's exact moments (with interactions)."""
    pm = population_model(cs.paper_model(), population=cs.datasets.example_population())
    sampler = Sampler(pm, {})
    X = sampler.draw(200_000, np.random.default_rng(1))
    cov = np.cov(X, rowvar=False, bias=True)
    exact = pm.covariance.loc[list(sampler.observed), list(sampler.observed)].to_numpy()
    assert np.abs(cov - exact).max() < 0.015
    assert np.abs(X.mean(axis=0)).max() < 0.01


def test_exact_product_moments_match_a_population_sample():
    pm = population_model(cs.paper_model(), population=cs.datasets.example_population())
    sampler = Sampler(pm, {})
    items = ("ta1", "fa1", "pc1", "vp1")
    products = (("ta1", "fa1"), ("pc1", "ta1"))
    _, cov = exact_moments(pm, items, products)
    cols = np.array([sampler.observed.index(v) for v in items])
    pcols = tuple(tuple(sampler.observed.index(v) for v in p) for p in products)
    _, mc = sample_moments(sampler, cols, pcols, size=200_000)
    assert np.abs(mc - cov).max() < 0.02
    # the product of TA and FA items correlates with an SCI item through TA:FA → SCI
    assert cov[3, 4] > 0.05


def test_likert_items_are_categories():
    pm = population_model(cs.paper_model(), population=cs.datasets.example_population())
    sampler = Sampler(pm, item_thresholds(pm, 5))
    X = sampler.draw(500, np.random.default_rng(2))
    assert set(np.unique(X)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    # the category of a value is 1 + its position among the thresholds (np.searchsorted),
    # whatever the vectorised cut does
    sampler_raw = Sampler(pm, {})
    Y = sampler_raw.draw(500, np.random.default_rng(2))
    thresholds = item_thresholds(pm, 5)
    for k, v in enumerate(pm.observed):
        expected = np.searchsorted(np.asarray(thresholds[v]), Y[:, k], side="left") + 1.0
        np.testing.assert_array_equal(X[:, k], expected)
    res = power(cs.paper_model(), [200], reps=10, hypotheses=["H2"], likert=5, seed=1)
    row = res.table.iloc[0]
    assert row["completed"] == 10 and row["converged"] == 10
    assert res.likert == 5
    # discretisation attenuates, a little: the standardised value stays near .45
    assert 0.38 < row["population.std"] < 0.46
    assert any("population sample" in note for note in res.notes)


# ------------------------------------------------------------------------------ other kinds


def test_interaction_hypotheses():
    res = power(cs.paper_model(), [300], reps=6, hypotheses=["H5", "H6b"], seed=2)
    t = res.table.set_index("id")
    assert t.loc["H5", "population.std"] == pytest.approx(0.15, abs=1e-9)
    assert t.loc["H6b", "population.std"] == 0.0
    assert t.loc["H5", "method"].startswith("product indicators (dblcent, matched pairs), MLR")
    assert (t["converged"] > 0).all()
    assert np.isfinite(t["mean.est"]).all() and np.isfinite(t["coverage"]).all()


def test_necessity_hypotheses():
    res = power(cs.paper_model(), [150], reps=4, hypotheses=["H7"], seed=2,
                nca_permutations=50)
    row = res.table.iloc[0]
    assert row["kind"] == "necessity" and row["completed"] == 4
    assert np.isnan(row["population"]) and np.isnan(row["coverage"])
    assert 0 < row["mean.est"] < 1  # the mean NCA effect size d
    assert "permutation test (50 draws)" in row["method"]


def test_failed_replications_are_counted():
    """At n barely above the number of items many fits fail; they count against power."""
    # 10 replications: 4 of them fail with this seed (the claim is the bookkeeping)
    res = power(two_factor("+"), [8], reps=10, population=two_factor_population(0.3), seed=4)
    row = res.table.iloc[0]
    assert row["completed"] == 10
    assert row["converged"] < 10
    assert row["convergence"] == pytest.approx(row["converged"] / 10)
    assert row["power"] == pytest.approx(row["supported"] / 10)
    assert row["power.converged"] == pytest.approx(row["supported"] / row["converged"])
    statuses = res.replications["status"]
    assert ((statuses >= 2).sum()) == 10 - row["converged"]


# ------------------------------------------------------------------------------ smallest n


def fake_result(powers: dict[str, list[float]], sizes=(100, 200, 300), population=None):
    hyps = tuple(Hypothesis.path(i, "A", "B") for i in powers)
    rows = []
    for i, values in powers.items():
        for n, p in zip(sizes, values):
            rows.append({"n": n, "id": i, "kind": "path", "power": p,
                         "power.se": mc_se(p, 100) if np.isfinite(p) else np.nan,
                         "population": (population or {}).get(i, 0.3)})
    return PowerResult(table=pd.DataFrame(rows), replications=pd.DataFrame(), hypotheses=hyps,
                       n=tuple(sizes), reps=100, completed=100 * len(sizes), alpha=0.05,
                       target=0.8, seed=0, population="test", likert=None, backend="test",
                       elapsed=0.0)


def test_smallest_n():
    res = fake_result({"A": [0.5, 0.85, 0.95], "B": [0.3, 0.5, 0.7], "C": [0.81, 0.79, 0.9],
                       "D": [0.02, 0.03, 0.02]}, population={"D": 0.0})
    out = res.smallest_n().set_index("id")
    assert out.loc["A", "smallest_n"] == 200
    assert out.loc["A", "power"] == 0.85 and out.loc["A", "note"] == ""
    assert pd.isna(out.loc["B", "smallest_n"])
    assert "0.700" in out.loc["B", "note"] and "larger samples" in out.loc["B", "note"]
    assert out.loc["C", "smallest_n"] == 100
    assert "falls below" in out.loc["C", "note"]
    assert pd.isna(out.loc["D", "smallest_n"]) and "population value is 0" in out.loc["D", "note"]
    assert str(out["smallest_n"].dtype) == "Int64"
    assert res.smallest_n(target=0.5).set_index("id").loc["B", "smallest_n"] == 200
    with pytest.raises(SpecError, match="target"):
        res.smallest_n(target=1.5)


def test_plot_and_summary(paper_study):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = paper_study.plot()
    assert len(ax.get_lines()) >= 4
    plt.close(ax.figure)
    text = paper_study.summary()
    for fragment in ("Monte Carlo power study", "H4", "Smallest n", "coverage"):
        assert fragment in text
    assert "PowerResult" in repr(paper_study)


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("kwargs, fragment", [
    ({"reps": 0}, "reps=0"),
    ({"reps": 2.5}, "reps=2.5"),
    ({"reps": True}, "reps=True"),
    ({"n": [100, -5]}, "-5"),
    ({"n": [100, 250.5]}, "250.5"),
    ({"n": []}, "n is empty"),
    ({"n": True}, "True"),
    ({"alpha": 1.5}, "alpha=1.5"),
    ({"target": 0}, "target=0"),
    ({"seed": -1}, "seed=-1"),
    ({"hypotheses": ["H99"]}, "H99"),
    ({"interaction_method": "lms"}, "interaction_method"),
    ({"likert": 1}, "likert"),
    ({"n_jobs": 0}, "n_jobs=0"),
    ({"progress": "yes"}, "progress"),
    ({"n": [20]}, "n=20 is too small"),
])
def test_bad_arguments(kwargs, fragment):
    args = {"n": [100], "reps": 5, "hypotheses": ["H2"], "seed": 1} | kwargs
    n = args.pop("n")
    with pytest.raises(SpecError) as err:
        power(cs.paper_model(), n, **args)
    assert fragment in str(err.value)


def test_population_not_positive_definite():
    pop = """
F1 =~ 1.0*x1 + 1.0*x2 + 0.6*x3
F2 =~ 0.8*y1 + 0.7*y2 + 0.6*y3
F2 ~ 0.3*F1
"""
    with pytest.raises(SpecError, match="not positive definite") as err:
        power(two_factor(), [100], reps=5, population=pop, seed=1)
    assert "'x1'" in str(err.value) and "'x2'" in str(err.value)


def test_population_that_explains_too_much():
    with pytest.raises(SpecError, match="'y1'"):
        power(two_factor(), [100], reps=5, seed=1, population="""
F1 =~ 0.8*x1 + 0.7*x2 + 0.6*x3
F2 =~ 1.2*y1 + 0.7*y2 + 0.6*y3
F2 ~ 0.3*F1
""")


def test_likert_with_an_empty_category():
    pop = two_factor_population(0.3) + "x2 ~ 6*1\n"
    with pytest.raises(SpecError, match="empty") as err:
        power(two_factor(), [100], reps=5, population=pop, likert=5, seed=1)
    assert "'x2'" in str(err.value) and "category 1 of 5" in str(err.value)


def test_hypothesis_the_model_cannot_test():
    spec = ModelSpec.from_lavaan(TWO_FACTOR, hypotheses=[Hypothesis.path("H9", "F2", "F1")])
    with pytest.raises(SpecError, match="no path F2 → F1"):
        power(spec, [100], reps=5, population=two_factor_population(0.3), seed=1)


def test_model_without_hypotheses():
    with pytest.raises(SpecError, match="no hypotheses"):
        power(TWO_FACTOR, [100], reps=5, seed=1)


def test_errors_are_cbec_sem_errors():
    with pytest.raises(CbecSemError):
        power(cs.paper_model(), "many", reps=5)


# ------------------------------------------------------------------------------ the CLI


def test_cli_power(tmp_path):
    runner = CliRunner()
    out, fig, js = tmp_path / "power.csv", tmp_path / "power.png", tmp_path / "power.json"
    args = ["power", "--model", "paper", "--n", "150,250", "--reps", "10", "--seed", "3",
            "--hypotheses", "H1,H2"]
    res = runner.invoke(app, args + ["--out", str(out), "--plot", str(fig)])
    assert res.exit_code == 0, res.output
    assert "Monte Carlo power study" in res.stdout
    table = pd.read_csv(out)
    direct = power(cs.paper_model(), [150, 250], reps=10, seed=3, hypotheses=["H1", "H2"])
    np.testing.assert_allclose(table["power"], direct.table["power"])
    assert fig.stat().st_size > 1000
    res = runner.invoke(app, args + ["--out", str(js)])
    assert res.exit_code == 0, res.output
    record = json.loads(js.read_text())
    assert record["seed"] == 3 and len(record["table"]) == 4
    bad = runner.invoke(app, ["power", "--model", "paper", "--n", "100,abc"])
    assert bad.exit_code == 2 and "error:" in bad.stderr and "'abc'" in bad.stderr
    bad = runner.invoke(app, ["power", "--model", "paper", "--n", "100", "--reps", "0"])
    assert bad.exit_code == 2 and "reps=0" in bad.stderr


def test_result_is_frozen(paper_study):
    with pytest.raises(dataclasses.FrozenInstanceError):
        paper_study.reps = 5
