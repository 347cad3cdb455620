"""The composite operator ``<~``: parsed for PLS (mode B) and for CB-SEM as lavaan builds it.

Expected behaviour from lavaan's syntax (Rosseel 2012, Table 1: ``<~`` "is formed by"),
seminr's ``composite(..., weights = mode_B)``, and lavaan 0.6-14's fits of composites in
``sem()`` (``tests/fixtures/make_composite_fixtures.R``; every number is compared in
``tests/engine/test_composites_lavaan.py``).  What lavaan does not identify is refused with a
typed error naming the line; ``refused.json`` records lavaan's own fit of each such model
(no standard errors, or no convergence).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cbec_sem as cs
from cbec_sem.errors import IdentificationError, SpecError
from cbec_sem.specification import ModelSpec


def test_composite_statements_parse_and_round_trip():
    m = ModelSpec.from_lavaan("F <~ x1 + x2\nG =~ y1 + y2\nG ~ F")
    ops = [(s.lhs, s.op, s.rhs) for s in m.statements]
    assert ops[:2] == [("F", "<~", "x1"), ("F", "<~", "x2")]
    assert m.latent_variables == ("F", "G")
    assert m.observed_variables == ("x1", "x2", "y1", "y2")
    assert m.indicators["F"] == ("x1", "x2")
    assert ModelSpec.from_lavaan(m.to_lavaan()) == m


def test_composite_of_itself_is_refused():
    with pytest.raises(SpecError, match="indicator of itself"):
        ModelSpec.from_lavaan("F <~ F + x1")


FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
COMPOSITES = FIXTURES / "lavaan_composites"
REFUSED = {r["case"]: r for r in json.loads((COMPOSITES / "refused.json").read_text())}


def test_cbsem_fits_composites_as_lavaan():
    # lavaan 0.6-14 fits `ind60 <~ 1*x1 + x2 + x3` in sem() as a latent without indicators
    # whose residual variance is fixed to 0; cbec_sem's ML fit gives its weights
    fx = json.loads((COMPOSITES / "poldem_composite.json").read_text())
    pt = pd.DataFrame(fx["partable"])
    residual = pt[(pt.lhs == "ind60") & (pt.op == "~~") & (pt.rhs == "ind60")]
    assert residual["free"].tolist() == [0] and residual["ustart"].tolist() == [0]
    res = cs.fit(fx["model"], pd.read_csv(REPO / fx["data"]))
    p = res.params.set_index(["lhs", "op", "rhs"])
    for r in pt[pt.op == "<~"].itertuples():
        assert p.loc[("ind60", "<~", r.rhs), "est"] == pytest.approx(r.est, abs=1e-3)
        assert p.loc[("ind60", "<~", r.rhs), "se"] == pytest.approx(r.se, rel=1e-3)
    var = p.loc[("ind60", "~~", "ind60")]
    assert var["est"] == 0 and var["se"] == 0
    assert "Composites:" in str(res.summary())


@pytest.mark.parametrize("case, error, match", [
    ("no_fixed_weight", IdentificationError, r"line 1: .*no scale: all its weights are free"),
    ("std_lv", SpecError, r"line 1: .*std_lv=True with the composite 'ind60'"),
    ("exogenous_beside_factor", IdentificationError,
     r"line 1: .*'ind60 ~~ dem60'.*not identified; add the line 'ind60 ~~ 0\*dem60'"),
    ("two_exogenous_composites", IdentificationError,
     r"line 1: .*'F1 ~~ F2'.*'F1 ~~ 0\*F2'"),
    ("composite_of_factors", SpecError,
     r"line 4: .*component 'visual' of the composite 'F' is a latent variable"),
])
def test_refuses_what_lavaan_does_not_identify(case, error, match):
    fx = REFUSED[case]
    # lavaan's own fit of the model: no standard errors, or no convergence at all
    assert not fx["has_standard_errors"] and fx["lavaan_warnings"]
    kwargs = {"std_lv": True} if (fx["options"] or {}).get("std.lv") else {}
    with pytest.raises(error, match=match):
        cs.fit(fx["model"], pd.read_csv(REPO / fx["data"]), **kwargs)


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    f = x @ [1.0, 0.5, 0.3]
    y = np.column_stack([0.6 * f + rng.normal(size=200) for _ in range(4)])
    return pd.DataFrame(np.column_stack([x, y]), columns=["x1", "x2", "x3", "y1", "y2", "y3",
                                                          "y4"])


def test_a_composite_that_predicts_nothing_is_refused(small):
    with pytest.raises(SpecError, match=r"line 1: .*'F' predicts nothing"):
        cs.fit("F <~ 1*x1 + x2 + x3\nG =~ y1 + y2 + y3", small)


def test_a_composite_with_reflective_indicators_is_refused(small):
    with pytest.raises(SpecError, match=r"line 2: .*'F' is a composite .*line 1"):
        cs.fit("F <~ 1*x1 + x2\nF =~ y1 + y2\nG =~ y3 + y4\nG ~ F", small)


def test_a_free_composite_variance_is_refused(small):
    with pytest.raises(IdentificationError, match="a composite has no disturbance"):
        cs.fit("F <~ 1*x1 + x2\nF ~~ F\nG =~ y1 + y2 + y3\nG ~ F", small)


def test_ordinal_and_latent_interaction_estimators_refuse_composites(small):
    ordinal = small.assign(**{c: pd.cut(small[c], 4, labels=False) for c in ["y1", "y2", "y3"]})
    model = "F <~ 1*x1 + x2 + x3\nG =~ y1 + y2 + y3\nG ~ F\ny4 ~ F"
    with pytest.raises(SpecError, match=r"line 1: .*not for ordered items .*estimator='ML'"):
        cs.fit(model, ordinal, ordered=["y1", "y2", "y3"])
    with pytest.raises(SpecError, match=r"line 1: .*not for latent interactions \(LMS/QML\)"):
        cs.fit("F <~ 1*x1 + x2\nH =~ x3 + y4\nG =~ y1 + y2 + y3\nG ~ F + H + F:H", small,
               estimator="LMS")


def test_group_equal_with_composites_is_refused_and_labels_suggested(small):
    data = small.assign(g=np.arange(len(small)) % 2)
    model = "F <~ 1*x1 + x2 + x3\nG =~ y1 + y2 + y3\nG ~ F\ny4 ~ F"
    with pytest.raises(SpecError, match=r"line 1: .*group_equal=\('loadings',\).*labels"):
        cs.fit(model, data, group="g", group_equal=("loadings",))


def test_measurement_tools_on_a_composite_fit():
    # HTMT assumes reflective constructs: the composite is left out with a note (as the PLS
    # battery keeps mode-A constructs only); lavaan's modification indices of a composite
    # model repeat the weights as 'F ~ x' regressions, so cs.modindices refuses
    fx = json.loads((COMPOSITES / "poldem_composite.json").read_text())
    res = cs.fit(fx["model"], pd.read_csv(REPO / fx["data"]))
    h = cs.htmt(res)
    assert list(h.matrix.columns) == ["dem60", "dem65"]
    assert any("ind60 is a composite" in n for n in h.notes)
    with pytest.raises(SpecError, match="modindices\\(\\) of a model with composites"):
        cs.modindices(res)


def test_a_component_that_is_also_an_indicator_is_refused():
    # lavaan 0.6-14 on this model (HolzingerSwineford1939): the gradient is not zero at its
    # "solution", weights near 500, no standard errors (checked by hand, not a fixture)
    hs = cs.datasets.holzinger_swineford_1939()
    model = ("visual =~ x1 + x2 + x3\nF <~ 1*x2 + x4 + x5\nspeed =~ x7 + x8 + x9\n"
             "speed ~ F + visual\nx6 ~ F")
    with pytest.raises(SpecError, match=r"line 2: .*component 'x2' .*not an exogenous observed"):
        cs.fit(model, hs)


@pytest.mark.parametrize("extra, match", [
    ("H =~ F + G", r"line 4: .*composite 'F' is an indicator of 'H'"),
    ("F ~ y4", r"line 4: .*regression on other variables"),
    ("F ~ 1", r"line 4: .*intercept of its own"),
])
def test_a_composite_is_formed_by_its_components_alone(small, extra, match):
    model = f"F <~ 1*x1 + x2 + x3\nG =~ y1 + y2 + y3\nG ~ F\n{extra}"
    with pytest.raises(SpecError, match=match):
        cs.fit(model, small)


def test_product_indicators_refuse_a_composite_in_an_interaction(small):
    model = ("F <~ 1*x1 + x2 + x3\nF ~~ 0*G\nG =~ y1 + y2\nY =~ y3 + y4\n"
             "Y ~ F + G + F:G")
    with pytest.raises(SpecError, match=r"line 5: .*'F' in the interaction 'F:G' is a composite"):
        cs.fit_product_indicators(model, small)
