"""Tests of the ``cbec-sem`` command (``cbec_sem.cli``).

Numbers are never typed in: every number the command prints is compared with the same fit run
in-process through the public API.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cbec_sem as cs
from cbec_sem.cli import EXAMPLE_SEED, app
from cbec_sem.specification.paper import PAPER_ITEMS

runner = CliRunner()

ALL_IDS = [h.id for h in cs.paper_model().hypotheses]
#: default item name -> q1, q2, ... (ta1 -> q1, ..., is3 -> q20)
RENAME = {
    item: f"q{i}"
    for i, item in enumerate((item for items in PAPER_ITEMS.values() for item in items), 1)
}
#: construct -> the renamed items
MAPPING = {code: [RENAME[item] for item in items] for code, items in PAPER_ITEMS.items()}


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def line_of(text: str, hypothesis_id: str) -> str:
    """The table line of one hypothesis (the line whose first word is its id)."""
    hits = [ln for ln in text.splitlines() if ln.split()[:1] == [hypothesis_id]]
    assert len(hits) == 1, f"expected one line for {hypothesis_id}, got {hits}"
    return hits[0]


def assert_one_error_line(stderr: str, *fragments: str) -> None:
    # "note:" lines report survey checks (e.g. Mardia's test) before the fit; the error is
    # the one line that is not a note.
    lines = [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("note: ")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def example_fit() -> cs.FitResult:
    model = cs.paper_model()
    survey = cs.load_survey(cs.datasets.example_survey(), scale=(1, 7),
                            items=model.observed_variables, id_column="firm_id")
    return cs.fit(model, survey, seed=EXAMPLE_SEED)


@pytest.fixture(scope="module")
def example_run():
    """``cbec-sem example``, invoked once for the tests that read what it printed (each
    invocation fits the paper model again)."""
    return invoke("example")


@pytest.fixture()
def renamed_csv(tmp_path: Path) -> Path:
    """The example survey with its items renamed q1..q20, as a CSV file."""
    path = tmp_path / "my survey.csv"
    cs.datasets.example_survey().rename(columns=RENAME).to_csv(path, index=False)
    return path


@pytest.fixture()
def mapping_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "items.yaml"
    lines = ["items:"] + [f"  {code}: [{', '.join(items)}]" for code, items in MAPPING.items()]
    lines.append("hypotheses: [H1, H2, H3, H4]   # a subset")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def lavaan_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.lav"
    path.write_text(cs.paper_model(items=MAPPING).to_lavaan(), encoding="utf-8")
    return path


def fit_in_process(path: Path, hypotheses=None, **kwargs) -> cs.FitResult:
    model = cs.paper_model(items=MAPPING, hypotheses=hypotheses)
    return cs.fit(model, cs.load_survey(path, items=model.observed_variables), **kwargs)


# ------------------------------------------------------------------------------ version, help


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert cs.__version__ in result.stdout


def test_help_lists_the_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "example" in result.stdout and "fit" in result.stdout


# ------------------------------------------------------------------------------ example


def test_example_prints_fit_measures_and_hypotheses(example_fit: cs.FitResult,
                                                   example_run) -> None:
    result = example_run
    assert result.exit_code == 0, result.output
    out = result.stdout
    fm = example_fit.fit_measures
    for label, key in [("Chi-square", "chisq"), ("CFI", "cfi"), ("TLI", "tli"),
                       ("SRMR", "srmr"), ("AIC", "aic"), ("BIC", "bic")]:
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(label))
        assert f"{fm[key]:.3f}" in line, (label, line)
    rmsea = next(ln for ln in out.splitlines() if ln.strip().startswith("RMSEA"))
    assert f"[{fm['rmsea.ci.lower']:.3f}, {fm['rmsea.ci.upper']:.3f}]" in rmsea
    for hid in ALL_IDS:
        line_of(out, hid)


def test_example_says_h1_is_not_supported(example_fit: cs.FitResult, example_run) -> None:
    """In the example's population the direct path TA -> SCI is zero."""
    assert example_run.exit_code == 0, example_run.output
    out = example_run.stdout
    h = example_fit.hypotheses.set_index("id")
    assert h.loc["H1", "verdict"] == "not supported"
    h1 = line_of(out, "H1")
    assert h1.rstrip().endswith("not supported")
    assert f"{h.loc['H1', 'estimate']:.3f}" in h1
    assert f"[{h.loc['H1', 'ci.lower']:.3f}, {h.loc['H1', 'ci.upper']:.3f}]" in h1
    for hid in ("H2", "H3", "H4"):  # true in the population, and found
        assert line_of(out, hid).rstrip().endswith(" supported")


def test_example_gives_every_hypothesis_a_verdict(example_fit: cs.FitResult,
                                                  example_run) -> None:
    assert example_run.exit_code == 0, example_run.output
    out = example_run.stdout
    h = example_fit.hypotheses.set_index("id")
    assert (h["verdict"] != "not tested").all()
    for hid, row in h.iterrows():
        assert line_of(out, hid).rstrip().endswith(row["verdict"]), hid


def test_example_summary_prints_the_full_summary(example_fit: cs.FitResult) -> None:
    result = invoke("example", "--summary")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(example_fit.summary()).strip()


def test_example_runs_as_a_module() -> None:
    """The real process: ``python -m cbec_sem.cli example``."""
    proc = subprocess.run([sys.executable, "-m", "cbec_sem.cli", "example"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "H1" in proc.stdout and "not supported" in line_of(proc.stdout, "H1")
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------ fit


def test_fit_with_a_lavaan_file(renamed_csv: Path, lavaan_file: Path) -> None:
    result = invoke("fit", renamed_csv, "--model", lavaan_file)
    assert result.exit_code == 0, result.output
    res = fit_in_process(renamed_csv)
    assert f"{res.fit_measures['chisq']:.3f}" in result.stdout
    assert "Hypotheses: none" in result.stdout  # lavaan syntax carries no hypotheses


def test_fit_with_a_yaml_item_mapping(renamed_csv: Path, mapping_yaml: Path) -> None:
    result = invoke("fit", renamed_csv, "--model", mapping_yaml)
    assert result.exit_code == 0, result.output
    res = fit_in_process(renamed_csv, hypotheses=["H1", "H2", "H3", "H4"])
    assert f"{res.fit_measures['chisq']:.3f}" in result.stdout
    for hid in ("H1", "H2", "H3", "H4"):
        line_of(result.stdout, hid)
    assert "H5" not in result.stdout
    assert "not supported" in line_of(result.stdout, "H1")


def test_fit_with_a_toml_item_mapping(renamed_csv: Path, tmp_path: Path) -> None:
    path = tmp_path / "items.toml"
    path.write_text('hypotheses = ["H2", "H7"]\n[items]\n' + "".join(
        f"{code} = {json.dumps(items)}\n" for code, items in MAPPING.items()), encoding="utf-8")
    result = invoke("fit", renamed_csv, "-m", path)
    assert result.exit_code == 0, result.output
    assert "supported" in line_of(result.stdout, "H2")
    assert "supported" in line_of(result.stdout, "H7")  # NCA on latent scores


def test_fit_with_lavaan_syntax_in_yaml(renamed_csv: Path, tmp_path: Path) -> None:
    path = tmp_path / "model.yml"
    syntax = "TA =~ q1 + q2 + q3 + q4\nFA =~ q5 + q6 + q7 + q8\nFA ~ TA\n"
    path.write_text("model: |\n" + "".join(f"  {ln}\n" for ln in syntax.splitlines())
                    + "hypotheses: [H3]\n", encoding="utf-8")
    result = invoke("fit", renamed_csv, "-m", path)
    assert result.exit_code == 0, result.output
    data = cs.load_survey(renamed_csv, items=[f"q{i}" for i in range(1, 9)])
    res = cs.fit(syntax, data)
    assert f"{res.fit_measures['chisq']:.3f}" in result.stdout
    assert "supported" in line_of(result.stdout, "H3")


def test_fit_options_reach_the_fit(renamed_csv: Path, tmp_path: Path) -> None:
    model = tmp_path / "two_factors.lav"
    syntax = "TA =~ q1 + q2 + q3 + q4\nFA =~ q5 + q6 + q7 + q8\nFA ~ TA\n"
    model.write_text(syntax, encoding="utf-8")
    result = invoke("fit", renamed_csv, "-m", model, "--group", "channel",
                    "--group-equal", "loadings, intercepts", "--information", "observed")
    assert result.exit_code == 0, result.output
    data = cs.load_survey(renamed_csv, items=[f"q{i}" for i in range(1, 9)])
    res = cs.fit(syntax, data, group="channel", group_equal=("loadings", "intercepts"),
                 information="observed")
    assert res.converged
    assert f"{res.fit_measures['chisq']:.3f}" in result.stdout
    assert f"Degrees of freedom {res.fit_measures['df']:.0f}" in " ".join(result.stdout.split())
    assert "platform" in result.stdout
    assert "warning:" not in result.stderr


def test_fit_prints_library_warnings(renamed_csv: Path, lavaan_file: Path) -> None:
    """With equal intercepts the paper model's second-order latent means are not identified
    (lavaan warns too); the fit is printed, marked inadmissible, the warning goes to stderr,
    and the exit code says the fit is not usable (issue 14: it was 0)."""
    result = invoke("fit", renamed_csv, "-m", lavaan_file, "--group", "channel",
                    "--group-equal", "loadings,intercepts")
    assert result.exit_code == 3, result.output
    assert "error: the fit is not usable" in result.stderr
    warns = [ln for ln in result.stderr.splitlines() if ln.startswith("warning: ")]
    assert warns and any("identified" in ln for ln in warns), result.stderr
    assert "INADMISSIBLE" in result.stdout


def test_fit_goes_on_despite_survey_check_errors(renamed_csv: Path, mapping_yaml: Path,
                                                 tmp_path: Path) -> None:
    frame = pd.read_csv(renamed_csv)
    frame["q2"] = frame["q2"].astype(object)
    frame.loc[3, "q2"] = "n/a"  # non-numeric cell: set to missing, with a warning
    frame.loc[5, "q3"] = 9  # outside 1-7: an error-severity check, left in the data
    dirty = tmp_path / "dirty.csv"
    frame.to_csv(dirty, index=False)
    result = invoke("fit", dirty, "-m", mapping_yaml, "--scale", "1,7")
    assert result.exit_code == 0, result.output
    notes = [ln for ln in result.stderr.splitlines() if ln.startswith("note: ")]
    assert any("out_of_range" in ln and "q3" in ln for ln in notes), result.stderr
    warns = [ln for ln in result.stderr.splitlines() if ln.startswith("warning: ")]
    assert any("non-numeric" in ln for ln in warns), result.stderr
    assert any("listwise" in ln for ln in warns), result.stderr
    assert "Traceback" not in result.stderr
    line_of(result.stdout, "H1")


# ------------------------------------------------------------------------------ --out


def test_out_csv_is_the_parameter_table(renamed_csv: Path, mapping_yaml: Path,
                                        tmp_path: Path) -> None:
    out = tmp_path / "params.csv"
    result = invoke("fit", renamed_csv, "-m", mapping_yaml, "--out", out)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    expected = fit_in_process(renamed_csv, hypotheses=["H1", "H2", "H3", "H4"]).params
    assert list(written.columns) == list(expected.columns)
    assert written[["lhs", "op", "rhs"]].astype(str).equals(
        expected[["lhs", "op", "rhs"]].astype(str))
    np.testing.assert_array_equal(written["est"].to_numpy(), expected["est"].to_numpy())


def test_out_json_round_trips(example_fit: cs.FitResult, tmp_path: Path) -> None:
    out = tmp_path / "fit.json"
    result = invoke("example", "--out", out)
    assert result.exit_code == 0, result.output

    def no_nan(token: str):
        raise AssertionError(f"{token} in the JSON; NaN must be written as null")

    record = json.loads(out.read_text(encoding="utf-8"), parse_constant=no_nan)
    assert set(record) == {"fit_measures", "params", "hypotheses", "converged", "convergence"}
    assert record["converged"] is True
    assert record["convergence"] == example_fit.converged.describe()
    fm = example_fit.fit_measures
    assert record["fit_measures"] == {
        k: (None if np.isnan(v) else float(v)) for k, v in fm.items()}
    params = pd.DataFrame(record["params"])
    np.testing.assert_array_equal(params["est"].to_numpy(float),
                                  example_fit.params["est"].to_numpy())
    assert params["z"].isna().sum() == example_fit.params["z"].isna().sum()
    hyps = {h["id"]: h for h in record["hypotheses"]}
    assert list(hyps) == ALL_IDS
    assert hyps["H1"]["verdict"] == "not supported"
    assert hyps["H5"]["estimate"] == pytest.approx(
        example_fit.hypotheses.set_index("id").loc["H5", "estimate"])


# ------------------------------------------------------------------------------ errors


def test_missing_data_file(tmp_path: Path, lavaan_file: Path) -> None:
    result = invoke("fit", tmp_path / "nowhere.csv", "--model", lavaan_file)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "nowhere.csv")


def test_missing_model_file(renamed_csv: Path, tmp_path: Path) -> None:
    result = invoke("fit", renamed_csv, "--model", tmp_path / "nowhere.lav")
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "nowhere.lav")


def test_model_naming_a_missing_column(renamed_csv: Path, tmp_path: Path) -> None:
    model = tmp_path / "bad.lav"
    model.write_text("TA =~ q1 + q2 + q3 + q99\n", encoding="utf-8")
    result = invoke("fit", renamed_csv, "--model", model)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "q99")


def test_model_naming_a_missing_column_in_a_real_process(renamed_csv: Path,
                                                         tmp_path: Path) -> None:
    model = tmp_path / "bad.yaml"
    model.write_text("items:\n  TA: [q1, q2, q3, not_there]\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "cbec_sem.cli", "fit", str(renamed_csv), "--model", str(model)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr, "not_there")


@pytest.mark.parametrize("name", ["model.json", "model.R", "model"])
def test_bad_model_extension(renamed_csv: Path, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("TA =~ q1 + q2 + q3\n", encoding="utf-8")
    result = invoke("fit", renamed_csv, "--model", path)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "extension")


@pytest.mark.parametrize("name", ["out.xlsx", "out.txt", "out"])
def test_bad_out_extension(tmp_path: Path, name: str) -> None:
    result = invoke("example", "--out", tmp_path / name)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "--out", "extension")
    assert not (tmp_path / name).exists()
    assert result.stdout == ""  # checked before fitting


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("items: [q1\n", "not valid YAML"),
        ("- just\n- a list\n", "mapping"),
        ("foo: 1\n", "foo"),
        ("hypotheses: [H1]\n", "items"),
        ("items:\n  XX: [q1, q2, q3]\n", "XX"),
        ("items:\n  TA: [q1, q2, q3]\nhypotheses: [H9]\n", "H9"),
        ("items:\n  TA: [q1, q2, q3]\nmodel: 'TA =~ q1 + q2 + q3'\n", "both"),
    ],
)
def test_bad_mapping_file(renamed_csv: Path, tmp_path: Path, content: str,
                          fragment: str) -> None:
    path = tmp_path / "items.yaml"
    path.write_text(content, encoding="utf-8")
    result = invoke("fit", renamed_csv, "--model", path)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, fragment)


def test_bad_toml(renamed_csv: Path, tmp_path: Path) -> None:
    path = tmp_path / "items.toml"
    path.write_text("items = [\n", encoding="utf-8")
    result = invoke("fit", renamed_csv, "--model", path)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "TOML")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--estimator", "XYZ"], "XYZ"),
        (["--information", "hessian"], "hessian"),
        (["--group-equal", "loadingz"], "loadingz"),
        (["--scale", "1-7"], "--scale"),
    ],
)
def test_bad_options(renamed_csv: Path, lavaan_file: Path, options: list[str],
                     fragment: str) -> None:
    result = invoke("fit", renamed_csv, "--model", lavaan_file, *options)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, fragment)


def test_lavaan_syntax_error(renamed_csv: Path, tmp_path: Path) -> None:
    path = tmp_path / "model.lavaan"
    path.write_text("TA =~ q1 + + q2\n", encoding="utf-8")
    result = invoke("fit", renamed_csv, "--model", path)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "line 1")
