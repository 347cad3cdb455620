"""The command line under hostile input: one ``error:`` line naming the culprit, a non-zero
exit, never a traceback (``--debug`` shows it); a BOM-marked model file is read; a fit that
is not usable exits non-zero (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import cbec_sem as cs
from cbec_sem import cli
from cbec_sem.cli import app

from .conftest import FIXTURES, MODEL, survey_frame

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines()
            if ln.strip() and not ln.startswith(("note: ", "warning: "))]


def assert_one_error(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "m.lav"
    path.write_text(MODEL + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "survey.csv"
    survey_frame().to_csv(path, index=False)
    return path


BROKEN = ["bad_sheet_xml.xlsx", "truncated.xlsx", "random_bytes.xlsx", "text_renamed.xlsx",
          "empty.xlsx", "zip_without_workbook.xlsx", "truncated.sav", "random_bytes.sav",
          "truncated.dta", "random_bytes.dta", "truncated.parquet", "latin1.csv", "empty.csv",
          "duplicate_header.csv", "extra_field.csv"]


@pytest.mark.parametrize("name", BROKEN)
def test_broken_data_file_is_one_error_line(model_file, name):
    assert_one_error(invoke("fit", FIXTURES / name, "-m", model_file), 2, name)


def test_trailing_separator_csv_fits_like_the_table(tmp_path, model_file):
    """The CLI used to fit a shifted table and exit 0; now the estimates are those of the
    table the file holds."""
    frame = survey_frame()
    lines = frame.to_csv(index=False).splitlines()
    path = tmp_path / "trailing.csv"
    path.write_text("\n".join([lines[0]] + [ln + "," for ln in lines[1:]]) + "\n")
    out = tmp_path / "out.csv"
    result = invoke("fit", path, "-m", model_file, "--out", out)
    assert result.exit_code == 0, result.output
    import pandas as pd
    got = pd.read_csv(out)
    want = cs.fit(MODEL, frame).params
    pd.testing.assert_series_equal(got["est"].iloc[: len(want)], want["est"].reset_index(
        drop=True), check_names=False, rtol=1e-9)


@pytest.mark.parametrize("name", ["model_bom.lav", "model_bom.yaml"])
def test_model_file_with_byte_order_mark(data_csv, name):
    result = invoke("fit", data_csv, "-m", FIXTURES / name)
    assert result.exit_code == 0, result.output
    assert not error_lines(result.stderr)


def test_unexpected_exception_is_one_line(monkeypatch, data_csv, model_file):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(cli.cs, "fit", broken)
    assert_one_error(invoke("fit", data_csv, "-m", model_file), 2,
                     "unexpected ZeroDivisionError", "--debug")


def test_debug_shows_the_traceback(monkeypatch, data_csv, model_file):
    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(cli.cs, "fit", broken)
    result = invoke("--debug", "fit", data_csv, "-m", model_file)
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "KeyError" in result.stderr


def test_debug_is_off_again_on_the_next_call(monkeypatch, data_csv, model_file):
    monkeypatch.setattr(cli.cs, "fit", lambda *a, **k: 1 / 0)
    invoke("--debug", "fit", data_csv, "-m", model_file)
    result = invoke("fit", data_csv, "-m", model_file)
    assert "Traceback" not in result.stderr


def test_not_converged_fit_exits_non_zero(monkeypatch, data_csv, model_file):
    real = cs.fit
    monkeypatch.setattr(cli.cs, "fit", lambda *a, **k: real(*a, max_iter=1, **k))
    result = invoke("fit", data_csv, "-m", model_file)
    assert result.exit_code == cli.EXIT_NOT_CONVERGED, result.output
    assert "error: the fit is not usable" in result.stderr
    assert "Traceback" not in result.stderr


def test_converged_fit_exits_zero(data_csv, model_file):
    assert invoke("fit", data_csv, "-m", model_file).exit_code == 0


@pytest.mark.parametrize("args, fragment", [
    (["--n", "1000000000", "--reps", "2"], "GiB"),
    (["--n", "100", "--reps", "0"], "reps=0"),
    (["--n", "100", "--reps", "2", "--alpha", "1.5"], "alpha="),
    (["--n", "100", "--reps", "2", "--nca-permutations", "-1"], "nca_permutations="),
    (["--n", "100", "--reps", "2", "--n-jobs", "0"], "n_jobs"),
])
def test_power_bad_sizes_are_one_line(args, fragment):
    assert_one_error(invoke("power", "-m", "paper", "--seed", "1", *args), 2, fragment)


def test_huge_yaml_mapping_is_refused_quickly(tmp_path, data_csv):
    """A 20 kB YAML map with long malformed names stalled the CLI 15 s (quadratic name
    check); now it is one error line (the SIGALRM bound of conftest catches a stall)."""
    path = tmp_path / "m.yaml"
    path.write_text("items:\n  TA: [" + "a" * 20_000 + "!]\n", encoding="utf-8")
    assert_one_error(invoke("fit", data_csv, "-m", path), 2, "'!'")


@pytest.mark.parametrize("text, fragment", [
    ("F =~ q1 + q2\nd := " + "+".join(["a"] * 2000), "operators"),
    ("F =~ q1 + q2\nd := " + "(" * 3000 + "a" + ")" * 3000, "d :="),
    ("F =~ " + "q" * 40_000 + "! + q2", "not in the data"),  # '!' starts a comment
    ("F =~ " + "q" * 40_000 + "? + q2", "'?'"),
])
def test_hostile_model_text_is_one_line(tmp_path, data_csv, text, fragment):
    path = tmp_path / "m.lav"
    path.write_text(text, encoding="utf-8")
    assert_one_error(invoke("fit", data_csv, "-m", path), 2, fragment)


def test_semicolon_csv_fits_like_the_table(tmp_path, model_file):
    frame = survey_frame() + 0.25
    path = tmp_path / "euro.csv"
    path.write_text(frame.to_csv(index=False, sep=";", decimal=","), encoding="utf-8")
    out = tmp_path / "out.csv"
    result = invoke("fit", path, "-m", model_file, "--out", out)
    assert result.exit_code == 0, result.output
    assert "decimal comma" in result.stderr  # the reader's guess is shown as a note
    got = pd.read_csv(out)["est"].to_numpy()
    want = cs.fit(MODEL, frame).params["est"].to_numpy()
    assert abs(got[: len(want)] - want).max() < 1e-9


def test_missing_code_is_one_line_and_missing_codes_reads_it(tmp_path, model_file):
    # a 99 among 1-7 answers: refused before estimation, naming column and row; with
    # --missing-codes the row is read as missing (and the fit runs on the rest)
    frame = survey_frame()
    frame.loc[5, "q3"] = 99
    path = tmp_path / "coded.csv"
    frame.to_csv(path, index=False)
    assert_one_error(invoke("fit", path, "-m", model_file), 2, "'q3'", "row 5",
                     "missing_codes=[99]")
    out = tmp_path / "out.csv"
    result = invoke("fit", path, "-m", model_file, "--missing-codes", "99", "--out", out)
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out)["est"].to_numpy()
    want = cs.fit(MODEL, frame.drop(index=5)).params["est"].to_numpy()
    assert abs(got[: len(want)] - want).max() < 1e-9
    assert_one_error(invoke("fit", path, "-m", model_file, "--missing-codes", "x"), 2,
                     "--missing-codes 'x'")

