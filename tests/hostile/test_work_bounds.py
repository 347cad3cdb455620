"""Bounded work on inputs under 1 MB (issue 14: answer or refuse within 2 s).

No test here times anything (``benchmarks/bench_hostile.py`` does).  Each asserts the bound
itself: the typed error raised before the expensive step (counted by patching that step),
the number of stored weights, or that a faster algorithm gives exactly what the definition
or the slower algorithm gives.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbec_sem as cs
from cbec_sem.engine import estimate as ml_estimate
from cbec_sem.engine.constraints import Reparametrization
from cbec_sem.engine.inference import observed_information_x
from cbec_sem.engine.ml import Evaluation
from cbec_sem.engine import work_limits
from cbec_sem.errors import DataError, EstimationError, SpecError
from cbec_sem.measurement import discriminant
from cbec_sem.specification import source, syntax, terms
from cbec_sem.specification.checks import MAX_STATEMENTS, MAX_TOKENS, count_tokens
from cbec_sem.specification.statements import Statement

from .conftest import assert_typed


def _constructs(k: int, m: int, n: int, seed: int = 1) -> tuple[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    cols, lines = {}, []
    for c in range(k):
        f = rng.standard_normal(n)
        items = [f"x{c}_{j}" for j in range(m)]
        lines.append(f"F{c} =~ " + " + ".join(items))
        for it in items:
            cols[it] = 0.7 * f + 0.7 * rng.standard_normal(n)
    return "\n".join(lines), pd.DataFrame(cols)


# -- HTMT: sparse weights ---------------------------------------------------------------------


def _htmt_by_definition(r: np.ndarray, items: tuple[str, ...], a: tuple[str, ...],
                        b: tuple[str, ...]) -> float:
    """Henseler, Ringle & Sarstedt (2015, eq. 6) with absolute correlations, item by item:
    mean |r| between the items of a and b over the geometric mean of the mean |r| within a
    and within b (an item shared by both, or repeated, is never correlated with itself)."""
    pos = {v: k for k, v in enumerate(items)}

    def mean(xs, ys):
        vals = [abs(r[pos[x], pos[y]]) for x in xs for y in ys if x != y]
        return np.mean(vals) if vals else np.nan

    return mean(a, b) / np.sqrt(mean(a, a) * mean(b, b))


def test_htmt_of_300_constructs_stores_one_weight_per_item_pair():
    # 300 constructs took minutes: the weights were a dense (construct pairs x item pairs)
    # matrix, 44,850 x 179,700 cells.  Now one stored weight per pair of items the formula
    # averages; values as the definition gives them.
    model, data = _constructs(300, 2, 700)
    res = cs.htmt(model, data)
    spec = cs.ModelSpec.from_lavaan(model)
    design = discriminant._design(spec.indicators)
    assert design.w_het.nnz == 44_850 * 2 * 2 and design.w_mono.nnz == 300
    assert len(res.table) == 44_850
    r = np.corrcoef(data[list(design.items)].to_numpy(), rowvar=False)
    ind = spec.indicators
    for a, b in [(0, 1), (0, 299), (123, 124), (17, 250)]:
        want = _htmt_by_definition(r, design.items, ind[f"F{a}"], ind[f"F{b}"])
        assert res.matrix.loc[f"F{b}", f"F{a}"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("htmt2", [False, True])
def test_sparse_htmt_equals_the_definition_with_shared_items_and_undefined_values(htmt2):
    # shared items (p in a and d), a repeated item (s twice in e), a one-item construct (c);
    # a NaN correlation spoils only the pairs whose means contain it (draws where an item is
    # constant in the resample: the other pairs stay usable)
    ind = {"a": ("p", "q", "r"), "b": ("s", "t"), "c": ("u",), "d": ("p", "v", "w"),
           "e": ("x", "s", "y", "s")}
    design = discriminant._design(ind)
    items = design.items
    rng = np.random.default_rng(4)
    p = len(items)
    full = rng.uniform(0.05, 0.9, size=(p, p))
    full = (full + full.T) / 2
    np.fill_diagonal(full, 1.0)
    full[items.index("v"), items.index("w")] = full[items.index("w"), items.index("v")] = np.nan
    r = full[design.pair_i, design.pair_j]
    got = discriminant._htmt_values(r, design, htmt2, True)[0]
    for (i, j), value in zip(design.cpairs, got):
        a, b = ind[design.constructs[i]], ind[design.constructs[j]]
        if htmt2:  # geometric means (Roemer, Schuberth & Henseler 2021)
            logs = np.log(np.abs(full))
            pos = {v: k for k, v in enumerate(items)}

            def gmean(xs, ys, logs=logs, pos=pos):
                vals = [logs[pos[x], pos[y]] for x in xs for y in ys if x != y]
                return np.exp(np.mean(vals)) if vals else np.nan

            want = gmean(a, b) / np.sqrt(gmean(a, a) * gmean(b, b))
        else:
            want = _htmt_by_definition(full, items, a, b)
        np.testing.assert_allclose(value, want, rtol=1e-12, equal_nan=True)
    spoiled = {design.constructs[k] for k in range(len(ind))
               if "v" in ind[design.constructs[k]]}
    finite = [np.isfinite(v) for v in got]
    for (i, j), ok in zip(design.cpairs, finite):
        names = {design.constructs[i], design.constructs[j]}
        assert ok == (not names & (spoiled | {"c"})), names


def test_bootstrap_of_many_items_in_sub_batches_gives_the_per_draw_answer():
    # 200 items: the moment matrices of a whole batch would not fit, so each batch is
    # multiplied in sub-batches; the draws must stay those of resample_indices, and each
    # draw's HTMT that of the resampled rows' correlation matrix.
    model, data = _constructs(100, 2, 250, seed=3)
    spec = cs.ModelSpec.from_lavaan(model)
    design = discriminant._design(spec.indicators)
    x = data[list(design.items)].to_numpy()
    draws = 250
    assert 4_000_000 // (x.shape[1] * (x.shape[1] + 1) // 2) < draws  # sub-batches happen
    got = discriminant._bootstrap(x, design, draws, np.random.default_rng(9), False, True)
    rows = [row for idx in discriminant.resample_indices(np.random.default_rng(9),
                                                         x.shape[0], draws) for row in idx]
    for k in (0, 198, 199, 249):
        r = np.corrcoef(x[rows[k]], rowvar=False)[design.pair_i, design.pair_j]
        np.testing.assert_allclose(got[k], discriminant._htmt_values(r, design, False, True)[0],
                                   rtol=1e-9)


def test_htmt_of_thousands_of_constructs_sharing_items_is_refused_before_the_design(
        monkeypatch):
    # 800 constructs on the same three items (a 15 kB model): 2,400 memberships, 2.9 million
    # weights and 319,600 pairs; refused before any of them is built
    monkeypatch.setattr(discriminant, "_design", lambda *a: pytest.fail("design built"))
    model = "\n".join(f"F{k} =~ a + b + c" for k in range(800))
    data = _constructs(1, 3, 50)[1].set_axis(["a", "b", "c"], axis=1)
    with pytest.raises(SpecError) as info:
        cs.htmt(model, data)
    assert_typed(info, SpecError, "800 constructs", "2,400 item memberships", "2,878,800",
                 "subset")


def test_singular_by_count_needs_no_eigen_decomposition(monkeypatch):
    # n <= p: singular by rank, said without the O(p^3) decomposition
    calls = []
    for name in ("eigh", "eigvalsh"):
        real = getattr(np.linalg, name)
        monkeypatch.setattr(np.linalg, name,
                            lambda *a, real=real, **k: calls.append(1) or real(*a, **k))
    model, data = _constructs(60, 3, 150)
    with pytest.raises(DataError) as info:
        cs.htmt(model, data)
    assert_typed(info, DataError, "150 complete rows for 180 variables")
    assert calls == []


# -- CB-SEM fits too large for their data -----------------------------------------------------


@pytest.mark.parametrize("constrained, fragment", [
    # 60 x 2 loadings (60 fixed to 1) + 120 residual variances + 60 x 61 / 2 factor
    # (co)variances = 60 + 120 + 1830
    (False, "only 150 complete rows for 2010 free parameters"),
    # one '==' removes at most one parameter: before the basis is solved, a lower bound
    (True, "only 150 complete rows for at least 2009 free parameters"),
])
def test_fit_with_more_parameters_than_rows_is_refused_before_the_model_is_built(
        monkeypatch, constrained, fragment):
    # 300 constructs were refused only after building an nfree x nfree identity (28 s)
    calls = []
    monkeypatch.setattr(ml_estimate, "RamModel", lambda *a, **k: calls.append(1))
    model, data = _constructs(60, 2, 150)
    if constrained:
        model = model.replace("F0 =~ x0_0 + x0_1", "F0 =~ x0_0 + a*x0_1") + "\na == 1"
    with pytest.raises(DataError) as info:
        cs.fit(model, data)
    assert_typed(info, DataError, fragment)
    assert calls == []


# -- model text ---------------------------------------------------------------------------------


def _scan_by_character(text: str, depth: int = 0, quote: str = ""):
    """The scanner as it was: every operator tried at every character (the reference)."""
    ops, stray, i = [], -1, 0
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
            i += 1
            continue
        if ch in "\"'":
            quote, i = ch, i + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0 and stray < 0:
                stray = i
            depth = max(depth, 0)
        for op in source.SCANNED_OPERATORS:
            if text.startswith(op, i):
                ops.append((i, op))
                i += len(op)
                break
        else:
            i += 1
    return tuple(ops), depth, stray, bool(quote), quote


_PIECES = st.sampled_from(list("ab1 +*~=:<>|%()\"'#!;") + ["~*~", "=~", "<~", ":=", "=="])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join), st.integers(0, 2),
       st.sampled_from(["", "'", '"']))
def test_token_scanner_finds_what_the_character_scan_found(text, depth, quote):
    found = source.scan(text, depth, quote)
    assert (found.operators, found.depth, found.stray_close, found.open_quote,
            found.quote) == _scan_by_character(text, depth, quote)


def _outside_quotes(line: str):
    """(position, character) of every character outside quoted strings, one at a time."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        else:
            yield i, ch


@settings(max_examples=200, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_comment_and_semicolon_split_match_the_character_scan(line):
    cut = next((i for i, ch in _outside_quotes(line) if ch in "#!"), len(line))
    assert source.strip_comment(line) == line[:cut]
    parts, start = [], 0
    for i, ch in _outside_quotes(line):
        if ch == ";":
            parts.append(line[start:i])
            start = i + 1
    assert source._split_semicolons(line) == [*parts, line[start:]]


@pytest.fixture
def parsed_chunks(monkeypatch):
    """Count the statements whose terms were parsed (the per-term work)."""
    calls = []
    real = syntax._parse_chunk
    monkeypatch.setattr(syntax, "_parse_chunk", lambda chunk: calls.append(1) or real(chunk))
    return calls


@pytest.mark.parametrize("text, count", [
    ("F =~ " + " + ".join(f"x{i}" for i in range(125_000)), "125,000"),  # 1 MB, one line
    ("\n".join(f"F{k} =~ a{k} + b{k} + c{k}" for k in range(40_000)), "120,000"),
    ("F + G =~ " + " + ".join(f"x{i}" for i in range(5_001)), "10,002"),
])
def test_oversized_model_text_is_refused_before_any_term_is_parsed(parsed_chunks, text, count):
    with pytest.raises(SpecError) as info:
        cs.ModelSpec.from_lavaan(text)
    assert_typed(info, SpecError, f"{count} statements", f"at most {MAX_STATEMENTS:,}")
    assert parsed_chunks == []


@pytest.mark.parametrize("text", [
    "F =~ q1 + c(" + ",".join(["1"] * 450_000) + ")*q2",     # 450,000 groups, 1 MB
    "F =~ q1 + c(" + ",".join(["lab"] * 250_000) + ")*q2",   # (copied the text per label)
    "F =~ q1 + " + "'a'" * 250_000,                          # (a quadratic word lookup)
    "F =~ q1 + " + "a " * 200_000,
])
def test_text_of_too_many_tokens_is_refused_before_any_is_read(parsed_chunks, text):
    with pytest.raises(SpecError) as info:
        cs.ModelSpec.from_lavaan(text)
    assert_typed(info, SpecError, "tokens", f"at most {MAX_TOKENS:,}")
    assert parsed_chunks == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "x1", " ", "  ", "+", "-", "*", "?", "(", ")", ",",
                                 ":", "'s'", '"t"', "0.5", "1e3", "NA", "c(", "start("]),
                max_size=25).map("".join))
def test_token_budget_is_an_upper_bound(text):
    try:
        tokens = terms.tokenize(text)
    except SpecError:
        return
    assert count_tokens(text) >= len(tokens)


def test_model_at_the_cap_is_read(parsed_chunks):
    text = "F =~ " + " + ".join(f"x{i}" for i in range(MAX_STATEMENTS))
    assert len(cs.ModelSpec.from_lavaan(text).statements) == MAX_STATEMENTS
    assert parsed_chunks == [1]


def test_paper_model_with_20000_items_is_refused_before_parsing(parsed_chunks):
    with pytest.raises(SpecError) as info:
        cs.paper_model(items={"TA": [f"t{i}" for i in range(20_000)]})
    assert_typed(info, SpecError, "20,025 statements")
    assert parsed_chunks == []


def test_model_built_in_code_has_the_same_cap():
    statements = tuple(Statement("F", "=~", f"x{i}") for i in range(MAX_STATEMENTS + 1))
    with pytest.raises(SpecError) as info:
        cs.ModelSpec(statements)
    assert_typed(info, SpecError, "10,001 statements")


def test_error_location_is_quoted_only_for_the_failing_statement():
    # one 20,000-term line: the location text (which quotes the line) used to be written
    # for every statement; the error still quotes the line of the bad term
    text = "F =~ " + " + ".join(f"x{i}" for i in range(5_000)) + " + 1x"
    with pytest.raises(SpecError) as info:
        cs.ModelSpec.from_lavaan(text)
    assert_typed(info, SpecError, "line 1", "'1x'")


# -- a solution on the edge of the admissible region --------------------------------------------


@pytest.mark.parametrize("wall, expect_nan", [(0.0, False), (None, True)])
def test_observed_information_at_the_edge_of_the_admissible_region(wall, expect_nan):
    # F(x) = x'Ax/2 (Hessian A exactly, so differences are exact); beyond x0 > wall the fit
    # function has no value (Sigma not positive definite), as at a Heywood case.  An MLR fit
    # of uncorrelated items (120,000 rows) raised numpy's ValueError here (issue 14).
    a = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 3.0]])

    def evaluate(theta, gradient=False):
        if wall is None and abs(theta[0]) > 0 or wall is not None and theta[0] > wall:
            return Evaluation(np.inf)
        return Evaluation(0.5 * theta @ a @ theta, a @ theta if gradient else None)

    reparam = Reparametrization(np.zeros(3), np.eye(3), 0)
    hess = observed_information_x(evaluate, reparam, np.zeros(3))
    if expect_nan:  # both steps of x0 leave the region: that column (and row) is unknown
        assert np.isnan(hess[:, 0]).all() and np.isnan(hess[0, :]).all()
        np.testing.assert_allclose(hess[1:, 1:], a[1:, 1:], rtol=1e-9)
    else:  # the step beyond the wall is replaced by a one-sided difference
        np.testing.assert_allclose(hess, a, rtol=1e-9)


# -- parallel analysis: n_iter samples of the data's size -------------------------------------


HS_ITEMS = [f"x{i}" for i in range(1, 10)]


def test_parallel_work_is_counted_as_documented():
    # engine/work_limits.parallel_work: 1.8 n p + 0.0055 n p^2 + 0.26 p^3 + 6e5 per sample
    assert work_limits.parallel_work(9, 301) == pytest.approx(
        1.8 * 301 * 9 + 0.0055 * 301 * 81 + 0.26 * 729 + 6e5, rel=1e-12)
    # a questionnaire (60 items, N = 2000) passes with the default 100 samples; 252 items
    # (the benchmark's 985 kB file, 5.7 s) do not
    work_limits.check_parallel_work(60, 2000, 100, work_limits.PARALLEL_WORK_LIMIT)
    with pytest.raises(EstimationError) as info:
        work_limits.check_parallel_work(252, 2000, 100, work_limits.PARALLEL_WORK_LIMIT)
    assert_typed(info, EstimationError, "100 simulated samples", "252 items",
                 "work_limit=None", "n_iter=23")


def test_parallel_analysis_beyond_its_limit_is_refused_before_any_sample(monkeypatch):
    hs = cs.datasets.holzinger_swineford_1939()[HS_ITEMS]

    def no_extraction(*args, **kwargs):
        raise AssertionError("a minres solution was computed")

    # the module, not the function cs.measurement.efa its name is shadowed by
    monkeypatch.setattr(importlib.import_module("cbec_sem.measurement.efa"), "_extract",
                        no_extraction)
    per = work_limits.parallel_work(9, len(hs))
    with pytest.raises(EstimationError) as info:
        cs.parallel_analysis(hs, n_iter=100, seed=1, work_limit=10.5 * per)
    assert_typed(info, EstimationError, "100 simulated samples", "301 rows", "9 items",
                 "work_limit=None", "n_iter=10")


def test_parallel_analysis_without_a_limit_gives_the_limited_answer():
    hs = cs.datasets.holzinger_swineford_1939()[HS_ITEMS]
    limited = cs.parallel_analysis(hs, n_iter=5, seed=1)
    unlimited = cs.parallel_analysis(hs, n_iter=5, seed=1, work_limit=None)
    pd.testing.assert_frame_equal(limited, unlimited)


@pytest.mark.parametrize("limit", [0, -1.0, "big", True])
def test_parallel_analysis_work_limit_must_be_a_positive_number(limit):
    hs = cs.datasets.holzinger_swineford_1939()[HS_ITEMS]
    with pytest.raises(SpecError) as info:
        cs.parallel_analysis(hs, n_iter=2, seed=1, work_limit=limit)
    assert_typed(info, SpecError, f"work_limit={limit!r}", "None for no limit")


# ---------------------------------------------------------------------- modindices


def test_modindices_of_50_constructs_are_refused_and_44_pass():
    # 44 constructs of 3 items: q = 1,210 free parameters, ~15,000 candidates (1.56 s
    # measured, benchmarks/bench_hostile.py); 50 constructs (q = 1,575, ~19,000): ~3 s
    limit = work_limits.MODINDICES_WORK_LIMIT
    assert work_limits.modindices_work(1210, 15_000) < limit
    with pytest.raises(EstimationError) as info:
        work_limits.check_modindices_work(1575, 19_000, limit)
    assert_typed(info, EstimationError, "19,000 candidate", "1,575 free parameters",
                 "work_limit=None")


def test_modindices_beyond_their_limit_are_refused_before_any_information(monkeypatch):
    res = cs.fit(cs.paper_model(), cs.datasets.example_survey())

    def no_information(*args, **kwargs):
        raise AssertionError("the information was formed")

    monkeypatch.setattr(importlib.import_module("cbec_sem.measurement.modindices"),
                        "_Information", no_information)
    with pytest.raises(EstimationError) as info:
        cs.modindices(res, work_limit=100.0)
    assert_typed(info, EstimationError, "candidate parameters", "work_limit=None")


def test_modindices_without_a_limit_give_the_limited_answer():
    res = cs.fit(cs.paper_model(), cs.datasets.example_survey())
    pd.testing.assert_frame_equal(cs.modindices(res), cs.modindices(res, work_limit=None))


@pytest.mark.parametrize("limit", [0, -1.0, "big", True])
def test_modindices_work_limit_must_be_a_positive_number(limit):
    res = cs.fit(cs.paper_model(), cs.datasets.example_survey())
    with pytest.raises(SpecError) as info:
        cs.modindices(res, work_limit=limit)
    assert_typed(info, SpecError, f"work_limit={limit!r}", "None for no limit")


# -------------------------------------------------------------------- method bias


def test_method_bias_of_50_constructs_is_refused_and_44_pass():
    # with method variance, 44 constructs of 3 items took 1.66 s, 50 constructs 2.34 s
    # (benchmarks/bench_hostile.py)
    limit = work_limits.METHOD_BIAS_WORK_LIMIT
    assert work_limits.method_bias_work(132, 44) < limit
    with pytest.raises(EstimationError) as info:
        work_limits.check_method_bias_work(150, 50, limit)
    assert_typed(info, EstimationError, "150 items", "50 constructs", "work_limit=None",
                 "ulmc=False")


def test_method_bias_beyond_its_limit_is_refused_before_any_fit(monkeypatch):
    module = importlib.import_module("cbec_sem.measurement.method_bias")

    def no_fit(*args, **kwargs):
        raise AssertionError("a model was fitted")

    monkeypatch.setattr(module, "_quiet_fit", no_fit)
    monkeypatch.setattr(module, "fit_model", no_fit)
    with pytest.raises(EstimationError) as info:
        cs.common_method_bias(cs.paper_model(), cs.datasets.example_survey(),
                              work_limit=100.0)
    assert_typed(info, EstimationError, "20 items", "7 constructs", "work_limit=None")


def test_method_bias_without_ulmc_is_not_limited():
    res = cs.common_method_bias(cs.paper_model(), cs.datasets.example_survey(), ulmc=False,
                                work_limit=100.0)
    assert res.ulmc is None


def test_method_bias_without_a_limit_gives_the_limited_answer():
    data = cs.datasets.example_survey()
    a = cs.common_method_bias(cs.paper_model(), data).to_frame()
    b = cs.common_method_bias(cs.paper_model(), data, work_limit=None).to_frame()
    pd.testing.assert_frame_equal(a, b)
