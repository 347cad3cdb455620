"""Tests of cbec_sem.datasets: the bundled data sets and the example-survey generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbec_sem import datasets
from cbec_sem.datasets import make_example_survey
from cbec_sem.simulate import population_model

ITEMS = [
    *(f"ta{i}" for i in range(1, 5)),
    *(f"fa{i}" for i in range(1, 5)),
    *(f"pc{i}" for i in range(1, 4)),
    *(f"vp{i}" for i in range(1, 4)),
    *(f"fo{i}" for i in range(1, 4)),
    *(f"is{i}" for i in range(1, 4)),
]


def test_example_survey_shape_and_columns() -> None:
    df = datasets.example_survey()
    assert df.shape == (400, 3 + len(ITEMS))
    assert list(df.columns) == ["firm_id", "business_model", "channel", *ITEMS]
    assert df["firm_id"].tolist() == list(range(1, 401))
    assert not df.isna().any().any()


def test_example_survey_values() -> None:
    df = datasets.example_survey()
    items = df[ITEMS]
    assert all(pd.api.types.is_integer_dtype(t) for t in items.dtypes)
    assert items.min().min() >= 1 and items.max().max() <= 7
    # every answer category is used by every item (mildly peaked, not degenerate)
    assert all(items[c].nunique() == 7 for c in ITEMS)
    assert set(df["business_model"]) == {"B2B", "B2C"}
    assert set(df["channel"]) == {"platform", "independent site"}


def test_example_survey_matches_its_generator() -> None:
    """The bundled CSV is exactly what make_example_survey writes (same seed, same data)."""
    rebuilt = make_example_survey.build_example_survey()
    bundled = datasets.example_survey()
    pd.testing.assert_frame_equal(rebuilt, bundled)


def test_example_survey_written_by_main(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = make_example_survey.main(tmp_path / "survey.csv")
    bundled = datasets.example_survey()
    pd.testing.assert_frame_equal(pd.read_csv(path), bundled)


def test_example_population() -> None:
    text = datasets.example_population()
    assert isinstance(text, str)
    assert "FA ~ 0.50*TA" in text
    assert "0.00*TA" in text and "0.15*TA:FA" in text and "0.00*PC:FA" in text
    pm = population_model(text)
    assert pm.observed == tuple(ITEMS)
    assert pm.latent == ("TA", "FA", "PC", "VP", "FO", "IS", "SCI")
    np.testing.assert_allclose(np.diag(pm.covariance), 1.0, atol=1e-12)
    # H1 is null: TA is related to SCI only through FA and the interactions' linear part (none)
    assert pm.covariance.loc["TA", "SCI"] == pytest.approx(0.45 * 0.5 + 0.20 * 0.30)


def test_paper_model_with_example_population() -> None:
    """The paper's default model, simulated from the example population, has the items."""
    from cbec_sem.simulate import simulate
    from cbec_sem.specification import paper_model

    df = simulate(paper_model(), 50, population=datasets.example_population(), likert=7, seed=3)
    assert list(df.columns) == ITEMS
    assert df.min().min() >= 1 and df.max().max() <= 7


def test_example_survey_sample_matches_population_moments() -> None:
    """A large draw from the example population has its exact (continuous) moments."""
    from cbec_sem.simulate import simulate

    n = 100_000
    pm = population_model(datasets.example_population())
    df = simulate(datasets.example_population(), n, seed=1)
    diff = (df.cov() - pm.covariance.loc[df.columns, df.columns]).abs().to_numpy()
    assert diff.max() < 5 * np.sqrt(2.0 / n)


def test_holzinger_swineford_1939() -> None:
    df = datasets.holzinger_swineford_1939()
    assert df.shape == (301, 15)
    assert list(df.columns) == [
        "id", "sex", "ageyr", "agemo", "school", "grade",
        "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9",
    ]  # fmt: skip
    assert set(df["school"]) == {"Pasteur", "Grant-White"}
    assert df[[f"x{i}" for i in range(1, 10)]].notna().all().all()
    assert df["grade"].isna().sum() == 1


def test_political_democracy() -> None:
    df = datasets.political_democracy()
    assert df.shape == (75, 11)
    assert list(df.columns) == [*(f"y{i}" for i in range(1, 9)), "x1", "x2", "x3"]
    assert df.notna().all().all()


@pytest.mark.parametrize(
    "loader",
    [datasets.example_survey, datasets.holzinger_swineford_1939, datasets.political_democracy],
)
def test_loaders_return_fresh_copies(loader) -> None:  # type: ignore[no-untyped-def]
    first = loader()
    expected = first.copy()
    first.iloc[0, 0] = -999
    del first[first.columns[-1]]
    second = loader()
    pd.testing.assert_frame_equal(second, expected)
    assert second is not loader()
