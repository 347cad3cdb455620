"""Regenerate the bundled example survey, ``data/example_survey.csv``.

Run ``python -m cbec_sem.datasets.make_example_survey`` (from a source checkout) to rewrite the
CSV; the output is identical on every run, because all randomness comes from the fixed
:data:`SEED`.

What the example is
-------------------
A **synthetic** survey of N = 400 cross-border e-commerce firms answering the paper's default
questionnaire on 7-point Likert items (ta1–ta4, fa1–fa4, pc1–pc3, vp1–vp3, fo1–fo3, is1–is3),
drawn with :func:`cbec_sem.simulate.simulate` from the population model :data:`POPULATION`
(standardised: every latent and latent-response variable has population variance 1), cut into
7 categories with the default symmetric, mildly peaked thresholds
(:func:`cbec_sem.simulate.default_thresholds`: τ_c = −2.5 + 5c/7).

The population (standardised values):

* loadings between .65 and .85 (see :data:`POPULATION` for each item);
* TA ~~ PC = .30 (correlated exogenous constructs);
* FA ~ 0.50·TA (H3 true);
* SCI ~ 0.00·TA + 0.45·FA + 0.20·PC — **H1, the direct TA → SCI path, is truly null**: TA acts
  on SCI only through FA, so H2 and the indirect effect H4 (0.50 × 0.45 = .225) are true and H1
  is not; the example shows honestly what an unsupported hypothesis looks like;
* SCI ~ 0.15·TA:FA (H5 true), 0.12·PC:TA (H6a true), 0.00·PC:FA (H6b null);
* second-order SCI =~ 0.80·VP + 0.75·FO + 0.70·IS.

The necessity hypotheses H7/H8 have no population counterpart: the data are generated from a
linear-normal model with interactions, not from a necessary-condition mechanism.

Three more columns: ``firm_id`` (1..400) and two grouping variables realistic for CBEC research,
``business_model`` (``B2B`` with probability .45, ``B2C`` .55) and ``channel`` (``platform``
.65, ``independent site`` .35: selling through a third-party marketplace versus an own web
store).  They are drawn independently of each other and of the latent model, so the population
is identical in every group (measurement invariance holds; group differences are pure noise).

The data are kept clean on purpose: no missing answers, no straight-liners, no out-of-range or
reverse-keyed items, no careless responders.  Use :mod:`cbec_sem.survey` checks on your own data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cbec_sem.simulate import simulate

SEED = 20261124
"""The seed of the example survey."""

N = 400
"""Number of firms in the example survey."""

LIKERT = 7
"""Number of answer categories of every item."""

POPULATION = """\
# Population model of the bundled example survey (cbec_sem.datasets.example_survey).
# Standardised: every latent and latent-response variable has variance 1.
# measurement model: loadings .65-.85
TA =~ 0.82*ta1 + 0.78*ta2 + 0.74*ta3 + 0.70*ta4
FA =~ 0.80*fa1 + 0.76*fa2 + 0.72*fa3 + 0.68*fa4
PC =~ 0.80*pc1 + 0.72*pc2 + 0.66*pc3
VP =~ 0.85*vp1 + 0.78*vp2 + 0.70*vp3
FO =~ 0.82*fo1 + 0.75*fo2 + 0.68*fo3
IS =~ 0.80*is1 + 0.74*is2 + 0.66*is3
# second-order supply-chain operation innovation
SCI =~ 0.80*VP + 0.75*FO + 0.70*IS
# structural model
TA ~~ 0.30*PC
FA ~ 0.50*TA
SCI ~ 0.00*TA + 0.45*FA + 0.20*PC
# latent interactions
SCI ~ 0.15*TA:FA + 0.12*PC:TA + 0.00*PC:FA
"""
"""The population model in lavaan syntax (values are the population values)."""

BUSINESS_MODELS = ("B2B", "B2C")
BUSINESS_MODEL_P = (0.45, 0.55)
CHANNELS = ("platform", "independent site")
CHANNEL_P = (0.65, 0.35)

CSV_PATH = Path(__file__).resolve().parent / "data" / "example_survey.csv"


def build_example_survey(seed: int = SEED, n: int = N) -> pd.DataFrame:
    """The example survey as a DataFrame (what the bundled CSV holds for the defaults).

    The items come from ``simulate(POPULATION, n, likert=7, seed=items_seed)`` and the grouping
    columns from an independent generator; both seeds are spawned from ``seed`` with
    ``np.random.SeedSequence(seed).spawn(2)``.
    """
    items_seed, groups_seed = np.random.SeedSequence(seed).spawn(2)
    items = simulate(POPULATION, n, likert=LIKERT, seed=items_seed)
    rng = np.random.default_rng(groups_seed)
    business_model = rng.choice(np.array(BUSINESS_MODELS), size=n, p=BUSINESS_MODEL_P)
    channel = rng.choice(np.array(CHANNELS), size=n, p=CHANNEL_P)
    front = pd.DataFrame(
        {
            "firm_id": np.arange(1, n + 1, dtype=np.int64),
            "business_model": business_model,
            "channel": channel,
        }
    )
    return pd.concat([front, items], axis=1)


def main(path: Path = CSV_PATH) -> Path:
    """Write the example survey CSV (to the package's ``data/`` folder by default)."""
    df = build_example_survey()
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n")
    return path


if __name__ == "__main__":
    written = main()
    print(f"wrote {written}")
