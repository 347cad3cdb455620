"""Bundled data sets: the synthetic CBEC example survey and two classic SEM data sets.

Every loader reads a CSV shipped inside the package (through :mod:`importlib.resources`, so it
works from an installed wheel) and returns a fresh copy: changing the returned DataFrame never
changes what the next call returns.  ``data/README.md`` documents each file.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd
from cbec_sem.datasets.make_example_survey import POPULATION

__all__ = [
    "example_population",
    "example_survey",
    "holzinger_swineford_1939",
    "political_democracy",
]


@lru_cache(maxsize=None)
def _read(filename: str) -> pd.DataFrame:
    source = resources.files(__name__).joinpath("data").joinpath(filename)
    with source.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


def _load(filename: str) -> pd.DataFrame:
    return _read(filename).copy(deep=True)


def example_survey() -> pd.DataFrame:
    """The bundled example survey: 400 synthetic CBEC firms, 7-point Likert items.

    **Synthetic data**, made by :mod:`cbec_sem.datasets.make_example_survey` with
    :func:`cbec_sem.simulate` from a known population model (:func:`example_population`,
    seed 20261124), then cut into 7 categories with symmetric, mildly peaked thresholds
    (τ_c = −2.5 + 5c/7 on the standard normal scale).

    Population (standardised values):

    - loadings .65–.85 on TA (ta1–ta4), FA (fa1–fa4), PC (pc1–pc3), VP (vp1–vp3),
      FO (fo1–fo3), IS (is1–is3); second order SCI =~ 0.80·VP + 0.75·FO + 0.70·IS;
    - TA ~~ PC = .30; FA ~ 0.50·TA;
    - SCI ~ 0.00·TA + 0.45·FA + 0.20·PC + 0.15·TA:FA + 0.12·PC:TA + 0.00·PC:FA.

    So H2, H3, H4 (indirect TA → FA → SCI = .225), H5 (TA × FA) and H6a (PC × TA) are true;
    **H1 (direct TA → SCI) and H6b (PC × FA) are null** — the example shows what unsupported
    hypotheses look like.  H7/H8 (necessity) have no population counterpart.

    Columns:

    - ``firm_id``: 1..400;
    - ``business_model``: ``"B2B"`` / ``"B2C"``; ``channel``: ``"platform"`` /
      ``"independent site"`` — drawn independently of each other and of the latent model
      (the population is the same in every group);
    - ta1–ta4, fa1–fa4, pc1–pc3, vp1–vp3, fo1–fo3, is1–is3: integers 1..7.

    The data are clean on purpose: no missing answers, straight-lining, out-of-range values
    or reverse-keyed items.

    Returns:
        A new DataFrame of 400 rows and 23 columns.
    """
    return _load("example_survey.csv")


def example_population() -> str:
    """The population model of :func:`example_survey`, in lavaan syntax.

    Its numeric modifiers are the population values; pass it as ``population=`` to
    :func:`cbec_sem.simulate` to draw more samples like the example (e.g. for power analysis).
    """

    return POPULATION


def holzinger_swineford_1939() -> pd.DataFrame:
    """Holzinger & Swineford (1939) mental ability test scores, lavaan's 301-case version.

    Seventh- and eighth-grade children from two schools (Pasteur, Grant-White), the standard
    example for confirmatory factor analysis (visual =~ x1 + x2 + x3, textual =~ x4 + x5 + x6,
    speed =~ x7 + x8 + x9), exported from the R package lavaan.

    Columns: ``id``; ``sex`` (1 = male, 2 = female); ``ageyr``, ``agemo`` (age in years and
    months); ``school`` (``"Pasteur"`` / ``"Grant-White"``); ``grade`` (7 or 8, one missing);
    ``x1`` visual perception, ``x2`` cubes, ``x3`` lozenges, ``x4`` paragraph comprehension,
    ``x5`` sentence completion, ``x6`` word meaning, ``x7`` speeded addition, ``x8`` speeded
    counting of dots, ``x9`` speeded discrimination of straight and curved capitals.

    Source: Holzinger, K. J., & Swineford, F. A. (1939). *A study in factor analysis: The
    stability of a bi-factor solution*. Supplementary Educational Monographs, no. 48. Chicago:
    University of Chicago Press.

    Returns:
        A new DataFrame of 301 rows and 15 columns.
    """
    return _load("HolzingerSwineford1939.csv")


def political_democracy() -> pd.DataFrame:
    """Bollen's (1989) industrialisation and political democracy data, 75 developing countries.

    The classic structural equation model example (latent ind60, dem60, dem65), exported from
    the R package lavaan.

    Columns: ``y1``–``y4`` freedom of the press, freedom of political opposition, fairness of
    elections and effectiveness of the elected legislature in 1960; ``y5``–``y8`` the same in
    1965; ``x1`` GNP per capita, ``x2`` inanimate energy consumption per capita, ``x3``
    percentage of the labour force in industry, all in 1960.

    Source: Bollen, K. A. (1989). *Structural Equations with Latent Variables* (pp. 12, 332).
    New York: Wiley.

    Returns:
        A new DataFrame of 75 rows and 11 columns.
    """
    return _load("PoliticalDemocracy.csv")
