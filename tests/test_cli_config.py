"""The analysis settings of a YAML/TOML model file (cbec_sem.cli_config) and the progress
display of the long commands (cbec_sem.cli_progress).  Every number the command prints is
compared with the same fit run in-process through the public API, with the same settings."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import cbec_sem as cs
import cbec_sem.cli_progress as cli_progress
from cbec_sem.cli import app

runner = CliRunner()

SYNTAX = "TA =~ q1 + q2 + q3 + q4\nFA =~ q5 + q6 + q7 + q8\nFA ~ TA\n"
RENAME = {f"{p}{i}": f"q{k}" for k, (p, i) in enumerate(
    [("ta", 1), ("ta", 2), ("ta", 3), ("ta", 4), ("fa", 1), ("fa", 2), ("fa", 3), ("fa", 4)], 1)}


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture()
def csv(tmp_path: Path) -> Path:
    path = tmp_path / "survey.csv"
    cs.datasets.example_survey().rename(columns=RENAME).to_csv(path, index=False)
    return path


def _yaml(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "analysis.yaml"
    body = "model: |\n" + "".join(f"  {line}\n" for line in SYNTAX.splitlines())
    path.write_text(body + "hypotheses: [H3]\n" + extra, encoding="utf-8")
    return path


def test_settings_of_the_model_file_reach_the_fit(csv: Path, tmp_path: Path) -> None:
    model = _yaml(tmp_path, "estimator: MLR\nscale: [1, 7]\nreverse: [q8]\nalpha: 0.01\n"
                            "correction: holm\n")
    out = tmp_path / "params.csv"
    result = invoke("fit", csv, "-m", model, "--out", out)
    assert result.exit_code == 0, result.output
    items = [f"q{i}" for i in range(1, 9)]
    ref = cs.fit(cs.ModelSpec.from_lavaan(SYNTAX, hypotheses=cs.paper_model(
        hypotheses=["H3"]).hypotheses),
        cs.load_survey(csv, items=items, scale=(1, 7), reverse=("q8",)),
        estimator="MLR", alpha=0.01, correction="holm")
    assert f"{ref.fit_measures['chisq.scaled']:.3f}" in result.stdout  # robust test shown
    assert "(holm)" in result.stdout and "alpha = 0.01" in result.stdout
    # q8 was reverse-keyed: its loading is the reference's (negative: the item is not)
    params = pd.read_csv(out)
    got = params[(params["lhs"] == "FA") & (params["rhs"] == "q8")]["est"].item()
    want = ref.params[(ref.params["lhs"] == "FA") & (ref.params["rhs"] == "q8")]["est"].item()
    assert got == pytest.approx(want, rel=1e-9) and want < 0
    assert ref.hypotheses.loc[0, "verdict"] in result.stdout.split("H3", 1)[1]


def test_command_line_overrides_the_file(csv: Path, tmp_path: Path) -> None:
    model = _yaml(tmp_path, "estimator: MLR\n")
    result = invoke("fit", csv, "-m", model, "--estimator", "ML")
    assert result.exit_code == 0, result.output
    ref = cs.fit(SYNTAX, cs.load_survey(csv, items=[f"q{i}" for i in range(1, 9)]))
    assert f"{ref.fit_measures['chisq']:.3f}" in result.stdout
    assert "chisq.scaled" not in ref.fit_measures.index


@pytest.mark.parametrize(("extra", "fragment"), [
    ("bootstrap: many\n", "'bootstrap' must be a whole number"),
    ("scale: [7, 1]\n", "'scale' must be the lowest and highest"),
    ("reverse: 3\n", "'reverse' must be a list of item names"),
    ("alpha: 5\n", "'alpha' must be a probability"),
    ("estimator: XYZ\n", "XYZ"),            # refused by cs.fit, with the estimators listed
    ("estimatr: MLR\n", "estimatr"),
])
def test_bad_settings_are_one_line(csv: Path, tmp_path: Path, extra: str,
                                   fragment: str) -> None:
    result = invoke("fit", csv, "-m", _yaml(tmp_path, extra))
    assert result.exit_code == 2
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and fragment in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_toml_settings(csv: Path, tmp_path: Path) -> None:
    path = tmp_path / "analysis.toml"
    path.write_text(f'model = """\n{SYNTAX}"""\nestimator = "MLM"\nscale = [1, 7]\n',
                    encoding="utf-8")
    result = invoke("validate", csv, "-m", path)
    assert result.exit_code in (0, 1), result.output
    ref = cs.fit(SYNTAX, cs.load_survey(csv, items=[f"q{i}" for i in range(1, 9)]),
                 estimator="MLM")
    assert f"{ref.fit_measures['cfi.robust']:.3f}"[1:] in result.stdout.replace("0.", ".")


# ----------------------------------------------------------------------------- progress
def test_power_progress_bar_on_a_terminal_only(monkeypatch, tmp_path: Path) -> None:
    args = ["power", "-m", "paper", "--n", "120", "--reps", "4", "--hypotheses", "H3",
            "--seed", "1"]
    quiet = invoke(*args)  # CliRunner's stderr is not a terminal: no bar
    assert quiet.exit_code == 0, quiet.output
    assert "rep/s" not in quiet.stderr and "/4 [" not in quiet.stderr
    monkeypatch.setattr(cli_progress, "_stderr_is_tty", lambda: True)
    shown = invoke(*args)
    assert shown.exit_code == 0, shown.output
    assert "power:" in shown.stderr and "/4 [" in shown.stderr  # tqdm's bar on stderr
    def untimed(text):  # the study's elapsed time differs from run to run
        return re.sub(r"in [0-9.]+ s", "", text)

    assert "/4 [" not in shown.stdout and untimed(shown.stdout) == untimed(quiet.stdout)
    silenced = invoke(*args, "--quiet")
    assert "/4 [" not in silenced.stderr


def test_busy_display_is_erased_and_off_when_quiet(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli_progress, "_stderr_is_tty", lambda: True)
    with cli_progress.busy("working", quiet=False):
        pass
    assert "working" in capsys.readouterr().err
    with cli_progress.busy("working", quiet=True):
        pass
    assert capsys.readouterr().err == ""


def test_report_of_a_pls_analysis_declared_in_the_file(csv: Path, tmp_path: Path) -> None:
    model = _yaml(tmp_path, "estimator: PLS\nbootstrap: 30\nseed: 4\n")
    out = tmp_path / "report.html"
    result = invoke("report", csv, "-m", model, "-o", out, "--invariance", "channel")
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    ref = cs.fit(SYNTAX, cs.load_survey(csv, items=[f"q{i}" for i in range(1, 9)]).to_frame(),
                 estimator="PLS", se="bootstrap", bootstrap=30, seed=4)
    row = ref.params[(ref.params["op"] == "~")].iloc[0]
    assert f"<td class=\"n\">{row['est']:.3f}</td><td class=\"n\">{row['se']:.3f}</td>" in text
    assert 'id="pls_reliability"' in text and 'id="invariance"' in text
    assert "--invariance channel" in text  # the call in the appendix
