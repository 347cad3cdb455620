"""``cbec-sem report`` and ``cbec-sem validate`` on the bundled example, as a user runs them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import cbec_sem as cs
from cbec_sem.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    data = root / "survey.csv"
    cs.datasets.example_survey().to_csv(data, index=False)
    model = root / "model.yaml"
    model.write_text("items:\n  TA: [ta1, ta2, ta3, ta4]\nhypotheses: [H1, H2, H3]\n")
    return root, data, model


def test_report_writes_the_format_of_the_suffix(files):
    root, data, model = files
    out = root / "analysis.html"
    result = runner.invoke(app, ["report", str(data), "--model", str(model), "--out", str(out),
                                 "--seed", "3"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert 'id="hypotheses"' in text and "<svg" in text
    # the appendix records the exact command
    assert "cbec-sem" in text and "--seed" in text


@pytest.mark.parametrize("args, message", [
    (["--out", "r.pdf"], "unknown extension '.pdf'"),
    (["--out", "missing/r.html"], "does not exist"),
])
def test_report_bad_output_is_one_line_and_exit_2(files, args, message, monkeypatch):
    root, data, model = files
    monkeypatch.chdir(root)
    result = runner.invoke(app, ["report", str(data), "--model", str(model)] + args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_validate_prints_the_checklist(files):
    root, data, model = files
    result = runner.invoke(app, ["validate", str(data), "--model", str(model), "--out",
                                 str(root / "checklist.csv")])
    table = cs.fit(cs.paper_model(hypotheses=["H1", "H2", "H3"]),
                   cs.datasets.example_survey()).validate()
    passed = table["passed"].astype("boolean")
    met, unmet = int(passed.eq(True).sum()), int(passed.eq(False).sum())
    # exit 1: the example has loadings below .708 (see the checklist), which validate reports
    assert unmet > 0 and result.exit_code == 1, result.output
    assert f"{met} of {len(table)} criteria met, {unmet} not met" in result.output
    assert (root / "checklist.csv").exists()
