"""Bad arguments at the boundary of every public function: one shared validator
(cbec_sem.validation) refuses them before any work, with a SpecError naming the argument
and its value (issue 14: ``seed="x"`` raised numpy's TypeError, ``nca_permutations=-1`` a
KeyError later, ``simulate(n=10**10)`` a MemoryError)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import cbec_sem as cs
from cbec_sem import validation as v
from cbec_sem.errors import CbecSemWarning, SpecError

from .conftest import MODEL, assert_typed, survey_frame

DATA = survey_frame()
PAPER = cs.paper_model()


@pytest.fixture(scope="module")
def res():
    return cs.fit(MODEL, DATA)


BAD_SEEDS = ["x", 1.5, True, -1, [1, "a"], {"seed": 1}, b"1", complex(1, 1)]


@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
def test_htmt_refuses_bad_seed(seed):
    with pytest.raises(SpecError) as info:
        cs.htmt(PAPER, DATA.rename(columns={}), bootstrap=10, seed=seed)
    assert_typed(info, SpecError, "seed=")


@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
def test_nca_refuses_bad_seed(seed):
    with pytest.raises(SpecError) as info:
        cs.nca(DATA, "q1", "q2", permutations=10, seed=seed)
    assert_typed(info, SpecError, "seed=")


@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
def test_simulate_refuses_bad_seed(seed):
    with pytest.raises(SpecError) as info:
        cs.simulate(MODEL, 10, seed=seed)
    assert_typed(info, SpecError, "seed=")


@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
def test_power_refuses_bad_seed(seed):
    with pytest.raises(SpecError) as info:
        cs.power(PAPER, n=[100], reps=2, seed=seed)
    assert_typed(info, SpecError, "seed=")


@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
def test_bootstrap_refuses_bad_seed(res, seed):
    with pytest.raises(SpecError) as info:
        cs.bootstrap(res, draws=10, seed=seed)
    assert_typed(info, SpecError, "seed=")


@pytest.mark.parametrize("n", [10**10, 10**15, 0, -5, 1.5, "100", None, True],
                         ids=repr)
def test_simulate_refuses_impossible_sizes(n):
    with pytest.raises(SpecError) as info:
        cs.simulate(MODEL, n, seed=1)
    assert_typed(info, SpecError, "n=")


@pytest.mark.parametrize("n", [[10**9], [100, 10**12], [0], [-1], ["a"], [], [1.5], {"n": 1}],
                         ids=repr)
def test_power_refuses_impossible_sizes(n):
    with pytest.raises(SpecError) as info:
        cs.power(PAPER, n=n, reps=2, seed=1)
    assert_typed(info, SpecError, "n")


@pytest.mark.parametrize("reps", [0, -1, 2.5, "10", 10**9], ids=repr)
def test_power_refuses_bad_reps(reps):
    with pytest.raises(SpecError) as info:
        cs.power(PAPER, n=[100], reps=reps, seed=1)
    assert_typed(info, SpecError, "reps=")


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5, "0.05", None, float("nan")], ids=repr)
def test_power_refuses_bad_alpha(alpha):
    with pytest.raises(SpecError) as info:
        cs.power(PAPER, n=[100], reps=2, alpha=alpha, seed=1)
    assert_typed(info, SpecError, "alpha=")


@pytest.mark.parametrize("permutations", [-1, 1.5, "10", 10**9, None], ids=repr)
def test_nca_refuses_bad_permutations(permutations):
    with pytest.raises(SpecError) as info:
        cs.nca(DATA, "q1", "q2", permutations=permutations, seed=1)
    assert_typed(info, SpecError, "permutations=")


def test_nca_warns_on_very_many_permutations(monkeypatch):
    monkeypatch.setattr(v, "WARN_PERMUTATIONS", 50)
    with pytest.warns(CbecSemWarning, match="permutations=60"):
        cs.nca(DATA.iloc[:30], "q1", "q2", permutations=60, seed=1)


@pytest.mark.parametrize("bootstrap", [-1, 1.5, "10", 10**9, None], ids=repr)
def test_htmt_refuses_bad_bootstrap(bootstrap):
    with pytest.raises(SpecError) as info:
        cs.htmt(PAPER, DATA, bootstrap=bootstrap, seed=1)
    assert_typed(info, SpecError, "bootstrap=")


@pytest.mark.parametrize("level", [0, 1, 95, "0.95", None], ids=repr)
def test_htmt_refuses_bad_level(level):
    with pytest.raises(SpecError) as info:
        cs.htmt(PAPER, DATA, level=level)
    assert_typed(info, SpecError, "level=")


@pytest.mark.parametrize("kwargs", [{"htmt2": "yes"}, {"htmt2": 1}, {"absolute": "no"},
                                    {"absolute": None}], ids=repr)
def test_htmt_refuses_flags_that_are_not_booleans(kwargs):
    # "no" would read as true in Python: a flag must be True or False
    with pytest.raises(SpecError) as info:
        cs.htmt(PAPER, DATA, **kwargs)
    assert_typed(info, SpecError, f"{next(iter(kwargs))}=")


@pytest.mark.parametrize("kwargs, culprit", [
    ({"draws": 0}, "draws="), ({"draws": -5}, "draws="), ({"draws": 2.0}, "draws="),
    ({"draws": 10**9}, "draws="), ({"n_jobs": 0}, "n_jobs="), ({"n_jobs": "2"}, "n_jobs="),
    ({"level": 1.5}, "level="), ({"level": "x"}, "level="),
])
def test_bootstrap_refuses_bad_arguments(res, kwargs, culprit):
    with pytest.raises(SpecError) as info:
        cs.bootstrap(res, **{"draws": 10, "seed": 1, **kwargs})
    assert_typed(info, SpecError, culprit)


def test_estimator_none_is_a_spec_error():
    with pytest.raises(SpecError) as info:
        cs.fit(MODEL, DATA, estimator=None)
    assert_typed(info, SpecError, "estimator=None")


# -- the validator itself (check_fit_arguments is what cs.fit calls at its boundary) ---------

@pytest.mark.parametrize("kwargs, culprit", [
    ({"correction": "bogus"}, "correction='bogus'"),
    ({"correction": 1}, "correction="),
    ({"nca_permutations": -1}, "nca_permutations="),
    ({"nca_permutations": 10**9}, "nca_permutations="),
    ({"nca_permutations": "many"}, "nca_permutations="),
    ({"seed": "x"}, "seed='x'"),
    ({"seed": -3}, "seed=-3"),
    ({"estimator": None}, "estimator=None"),
    ({"estimator": 3}, "estimator=3"),
    ({"estimator": ""}, "estimator="),
    ({"missing": "drop"}, "missing='drop'"),
    ({"se": "robust"}, "se='robust'"),
    ({"bootstrap": -1}, "bootstrap="),
    ({"bootstrap": 1.5}, "bootstrap="),
    ({"n_jobs": 0}, "n_jobs=0"),
    ({"information": "fisher"}, "information='fisher'"),
    ({"level": 0}, "level="),
    ({"alpha": 1.0}, "alpha="),
    ({"alpha": "0.05"}, "alpha="),
    ({"max_iter": 0}, "max_iter="),
    ({"max_iter": 10**9}, "max_iter="),
    ({"std_lv": "yes"}, "std_lv="),
    ({"fixed_x": 1}, "fixed_x="),
    ({"meanstructure": "no"}, "meanstructure="),
    ({"group": 3}, "group=3"),
])
def test_check_fit_arguments_refuses(kwargs, culprit):
    with pytest.raises(SpecError) as info:
        v.check_fit_arguments(**kwargs)
    assert_typed(info, SpecError, culprit)


def test_check_fit_arguments_canonical_forms():
    out = v.check_fit_arguments(correction="HOLM", se="Bootstrap", seed=np.int64(3),
                                nca_permutations=100, alpha=0.05, estimator="mlr",
                                information=None, correction_unused=None)
    assert out["correction"] == "holm" and out["se"] == "bootstrap"
    assert out["seed"] == 3 and type(out["seed"]) is int
    assert out["estimator"] == "mlr"  # the registry judges names; the type is checked here


def test_did_you_mean_in_choices():
    with pytest.raises(SpecError) as info:
        v.check_choice("hlm", "correction", v.CORRECTIONS)
    assert "did you mean 'holm'" in str(info.value)


@pytest.mark.parametrize("seed, expected", [(None, None), (0, 0), (np.uint8(7), 7),
                                            (2**63, 2**63)])
def test_check_seed_accepts(seed, expected):
    assert v.check_seed(seed) == expected


def test_check_seed_passes_generators_through():
    g = np.random.default_rng(1)
    s = np.random.SeedSequence(1)
    assert v.check_seed(g) is g and v.check_seed(s) is s


def test_check_size_message_gives_the_memory():
    with pytest.raises(SpecError) as info:
        v.check_size(10**12, "n", cells_per_unit=10)
    assert_typed(info, SpecError, "n=1,000,000,000,000", "GiB")


def test_legitimate_sizes_and_seeds_give_the_same_numbers_as_before():
    # numpy's default_rng(seed) stream is untouched by the validator
    a = cs.simulate(MODEL, 50, seed=np.int64(11))
    b = cs.simulate(MODEL, 50, seed=11)
    assert a.equals(b)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CbecSemWarning)
        cs.nca(DATA, "q1", "q2", permutations=20, seed=3)


# -- found by inventing further hostile inputs (each raised a bare TypeError/ValueError or ran
#    for minutes before) ------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, culprit", [
    (lambda: cs.fit(MODEL, DATA, group=["q1"]), cs.errors.SpecError, "group=['q1']"),
    (lambda: cs.fit(MODEL, DATA.assign(g=[1, 2] * 60), group="g", group_equal=5),
     SpecError, "group_equal=5"),
    (lambda: cs.fit(MODEL, DATA, level="x"), SpecError, "level="),
    (lambda: cs.fit(MODEL, DATA * 1e300), cs.errors.DataError, "too large"),
    (lambda: cs.load_survey(DATA, id_column=["q1"]), cs.errors.DataError, "id_column="),
    (lambda: cs.htmt("A =~ q1 + q2\nB =~ q3 + q4", DATA, thresholds="x"), SpecError,
     "thresholds="),
    (lambda: cs.nca(DATA, "q1", "q2", ceilings=5), SpecError, "ceilings=5"),
    (lambda: cs.nca(DATA, "q1", "q2", scope="x"), SpecError, "scope"),
    (lambda: cs.simulate(MODEL, 10, likert=10**9), SpecError, "likert=1,000,000,000"),
    (lambda: cs.power(PAPER, n=[50], reps=2, likert=10**9, seed=1), SpecError, "likert="),
    (lambda: v.check_fit_arguments(ordered=5), SpecError, "ordered=5"),
    (lambda: v.check_fit_arguments(group_partial=[1]), SpecError, "group_partial"),
])
def test_further_hostile_arguments(call, error, culprit):
    with pytest.raises(error) as info:
        call()
    assert_typed(info, error, culprit)


def test_unknown_report_option_is_a_typed_error(tmp_path):
    """res.report(path, bogus=1) names the option and lists the valid ones (was a TypeError
    from deep inside build_report)."""
    import cbec_sem as cs
    from cbec_sem.errors import ReportError

    res = cs.fit("F =~ x1 + x2 + x3", cs.datasets.holzinger_swineford_1939())
    with pytest.raises(ReportError, match=r"unknown report option\(s\) \['bogus'\].*htmt_bootstrap"):
        res.report(tmp_path / "r.md", bogus=1)
    assert not (tmp_path / "r.md").exists()


def test_power_refuses_bad_nca_permutations_even_without_necessity_hypotheses():
    """An option that cannot be honoured is refused, never ignored (issue 14)."""
    import cbec_sem as cs
    from cbec_sem.errors import SpecError

    with pytest.raises(SpecError, match="nca_permutations=-1"):
        cs.power(cs.paper_model(), hypotheses=["H1"], n=[100], reps=2, nca_permutations=-1)


@pytest.mark.parametrize("kwargs, culprit", [
    ({"items": "maybe"}, "items='maybe'"),
    ({"max_items": -1}, "max_items=-1"),
    ({"max_constructs": 0}, "max_constructs=0"),
    ({"max_width": float("nan")}, "max_width=nan"),
    ({"moderation": "no"}, "moderation='no'"),
    ({"group": 3}, "group=3"),
])
def test_path_diagram_refuses_arguments_it_cannot_honour(kwargs, culprit):
    """plot_path(items="maybe") drew the items (bool("maybe")), group=3 of a two-group fit
    drew a diagram of NaNs: both refused now, naming the argument."""
    res = cs.fit("F =~ x1 + x2 + x3", cs.datasets.holzinger_swineford_1939(), group="school")
    with pytest.raises(SpecError, match=re.escape(culprit)):
        res.plot_path(**kwargs)


@pytest.mark.parametrize("call, culprit", [
    (lambda res: cs.fit(), "fit(): missing a required argument: 'model'"),
    (lambda res: cs.reliability(res, what="x"), "reliability(): got an unexpected keyword"),
    (lambda res: res.validate(bogus=1), "validate(): got an unexpected keyword argument 'bogus'"),
    (lambda res: res.summary(standardized=True), "summary(): got an unexpected keyword"),
    (lambda res: cs.power(bogus=1), "power(): "),
    (lambda res: cs.simulate(cs.paper_model(), n=10, bogus=1), "'bogus'"),
])
def test_a_call_that_does_not_fit_the_signature_is_a_typed_error(call, culprit):
    """An unknown keyword, a missing or an extra argument at a public function or a result's
    method is a SpecError that names the function and lists its arguments (was Python's
    TypeError, an untyped exception to the CLI and to issue 14's catalogue)."""
    res = cs.fit("F =~ x1 + x2 + x3", cs.datasets.holzinger_swineford_1939())
    with pytest.raises(SpecError, match=re.escape(culprit)):
        call(res)


def test_public_functions_stay_themselves():
    """The wrapped public functions keep their signature, docstring and identity, pickle by
    their public name (Dask ships them), and a TypeError raised inside a call that fits the
    signature is not relabelled."""
    import inspect
    import pickle

    assert cs.power is cs.power and cs.fit is cs.fit
    assert pickle.loads(pickle.dumps(cs.fit)) is cs.fit
    assert "model" in inspect.signature(cs.fit).parameters
    assert cs.fit.__doc__.startswith("Fit a structural equation model")
    from cbec_sem.arguments import typed_arguments

    def inner(x):
        return len(x)  # TypeError for an int, from inside the call

    with pytest.raises(TypeError, match="has no len"):
        typed_arguments(inner)(3)
