"""The ``cbec-sem`` command.

::

    cbec-sem example [--summary] [--out PATH]
    cbec-sem fit DATA --model FILE [--estimator ML] [--group COL]
                 [--group-equal loadings,intercepts] [--information expected|observed]
                 [--scale LOW,HIGH] [--missing-codes 99,-9] [--summary] [--out PATH]
    cbec-sem power --model FILE|paper --n 100,200,300 [--reps 500] [--seed 1]
                   [--population FILE] [--likert 7] [--hypotheses H1,H2] [--n-jobs 2]
                   [--scheduler tcp://host:8786] [--out power.csv] [--plot power.png]
    cbec-sem report DATA --model FILE --out report.html|docx|xlsx|tex|md [--seed 1]
    cbec-sem validate DATA --model FILE [--out checklist.csv]
    cbec-sem --version

Tables go to stdout; warnings (``warning: ...``), survey-check findings (``note: ...``) and
errors (``error: ...``, exit code 2, never a traceback: ``cbec-sem --debug ...`` shows it)
go to stderr.  ``fit`` exits with code 3 after printing a fit that did not converge or is
inadmissible.  The formatting lives in
:mod:`cbec_sem.report.tables`, so notebooks print the same tables.
"""

from __future__ import annotations

import json
import math
import tomllib
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
import yaml

import cbec_sem as cs

from .cli_config import Settings, settings_from_mapping
from .cli_progress import busy, progress_callback
from .errors import CbecSemError, CbecSemWarning
from .report.tables import fit_table_text, hypothesis_table_text
from .protocol import Block, Summary
from .validation import MAX_NESTING, nesting_depth

LAVAAN_SUFFIXES = (".lav", ".lavaan", ".txt", ".model")
MAPPING_SUFFIXES = (".yaml", ".yml", ".toml")
OUT_SUFFIXES = (".csv", ".json")

app = typer.Typer(
    name="cbec-sem",
    help="Fit the CBEC supply-chain innovation model (or any lavaan model) to survey data "
    "and test its hypotheses.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class CliError(Exception):
    """A problem with the command line itself (a file name, an option value)."""


# ---------------------------------------------------------------------------- stderr reporting


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


#: ``--debug``: print the traceback of an error instead of one line.
_DEBUG = {"on": False}

#: Exit code of a fit that ran but did not converge or is inadmissible (its tables are printed,
#: but a script must not take its numbers for results).
EXIT_NOT_CONVERGED = 3


@contextmanager
def _reporting() -> Iterator[None]:
    """Print warnings as ``warning:`` lines; turn every failure into ``error:`` + exit 2."""
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = _one_line(message)
        if text not in seen:  # each distinct warning once
            seen.add(text)
            typer.echo(f"warning: {text}", err=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always", CbecSemWarning)
        warnings.showwarning = show
        try:
            yield
        except BrokenPipeError:
            raise  # click handles a closed pipe (`cbec-sem example | head`) itself
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last resort: never a traceback
            _fail(exc)


def _fail(exc: Exception) -> None:
    """One ``error:`` line naming the culprit, exit code 2; ``--debug`` adds the traceback.

    Expected failures (CbecSemError, command-line and file errors) print their message; any
    other exception is a bug in cbec_sem or a library it calls, and says so."""
    if _DEBUG["on"]:
        import traceback

        traceback.print_exception(exc)
    expected = (CbecSemError, CliError, OSError, UnicodeDecodeError)
    if isinstance(exc, expected):
        typer.echo(f"error: {_describe(exc)}", err=True)
    else:
        typer.echo(
            f"error: unexpected {type(exc).__name__}: {_describe(exc)} (this is a bug in "
            "cbec-sem; run again with --debug for the traceback and report it)", err=True)
    raise typer.Exit(code=2) from None


def _read_text_file(path: Path) -> str:
    """A text file as UTF-8, with or without a byte-order mark (Windows editors add one), or
    as BOM-marked UTF-16 (Notepad's "Unicode"); other bytes are one error naming the file."""
    raw = path.read_bytes()
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CliError(f"{str(path)!r} is not UTF-8 text (byte {exc.start}); save it as "
                       "UTF-8") from None


def _exit_status(res: cs.FitResult) -> None:
    """Exit non-zero (:data:`EXIT_NOT_CONVERGED`) after printing a fit that did not converge
    or is inadmissible, so that scripts and CI see it."""
    if not bool(res.converged):
        typer.echo(f"error: the fit is not usable: {_one_line(res.converged.describe())}",
                   err=True)
        raise typer.Exit(code=EXIT_NOT_CONVERGED)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"file not found: {exc.filename}"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or exc}: {exc.filename}"
    return _one_line(exc)


# ---------------------------------------------------------------------------- inputs


def _read_model(path: Path) -> cs.ModelSpec:
    """The model of a model file (:func:`_read_config` without the settings)."""
    return _read_config(path)[0]


def _read_config(path: Path) -> tuple[cs.ModelSpec, Settings]:
    """A model from a lavaan-syntax file, or from a YAML/TOML file that maps items onto the
    paper's constructs (``items:``, optional ``hypotheses:``) or holds lavaan syntax
    (``model:``, optional ``hypotheses:`` picking the paper's hypotheses by id); a YAML/TOML
    file may also declare the analysis settings (:mod:`cbec_sem.cli_config`: scale, reverse,
    ordered, missing, estimator, group, bootstrap, seed, alpha, correction, ...)."""
    suffix = path.suffix.lower()
    if suffix not in LAVAAN_SUFFIXES + MAPPING_SUFFIXES:
        raise CliError(
            f"model file {str(path)!r}: unknown extension {path.suffix!r}; use lavaan syntax "
            f"({', '.join(LAVAAN_SUFFIXES)}) or an item mapping ({', '.join(MAPPING_SUFFIXES)})"
        )
    text = _read_text_file(path)
    if suffix in LAVAAN_SUFFIXES:
        return cs.ModelSpec.from_lavaan(text), Settings({})
    content = _parse_mapping(path, text)
    if not isinstance(content, Mapping):
        raise CliError(
            f"model file {str(path)!r} must be a mapping with 'items' (construct -> item "
            "names) or 'model' (lavaan syntax)"
        )
    settings = settings_from_mapping(content, f"model file {str(path)!r}")
    hypotheses = content.get("hypotheses")
    if hypotheses is not None and not isinstance(hypotheses, list):
        raise CliError(
            f"model file {str(path)!r}: 'hypotheses' must be a list of ids, e.g. [H1, H2]"
        )
    if "model" in content:
        if "items" in content:
            raise CliError(
                f"model file {str(path)!r} has both 'items' and 'model'; give one of them"
            )
        if not isinstance(content["model"], str):
            raise CliError(f"model file {str(path)!r}: 'model' must be lavaan syntax text")
        chosen = () if hypotheses is None else cs.paper_model(hypotheses=hypotheses).hypotheses
        return cs.ModelSpec.from_lavaan(content["model"], hypotheses=chosen), settings
    if "items" not in content:
        raise CliError(
            f"model file {str(path)!r} needs 'items' (construct -> item names) or 'model'"
        )
    return cs.paper_model(items=content["items"], hypotheses=hypotheses), settings


def _parse_mapping(path: Path, text: str) -> Any:
    """The content of a YAML or TOML file; a syntax error becomes one readable line."""
    nested = CliError(f"model file {str(path)!r} is nested too deeply to be a model file "
                      "(lists or mappings inside each other hundreds of times)")
    if nesting_depth(text) > MAX_NESTING:
        raise nested
    if path.suffix.lower() == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CliError(f"model file {str(path)!r} is not valid TOML: {exc}") from None
        except RecursionError:
            raise nested from None
    try:
        return yaml.safe_load(text)
    except RecursionError:
        raise nested from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise CliError(
            f"model file {str(path)!r} is not valid YAML: {_one_line(problem)}{where}"
        ) from None


def _parse_scale(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = text.split(",")
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise CliError(f"--scale {text!r}: write the lowest and highest answer, e.g. 1,7") from None
    return low, high


def _parse_codes(text: str | None) -> tuple[float, ...]:
    if text is None:
        return ()
    try:
        return tuple(float(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise CliError(f"--missing-codes {text!r}: write numbers separated by commas, "
                       "e.g. 99,-9") from None


def _check_out(out: Path | None) -> None:
    if out is not None and out.suffix.lower() not in OUT_SUFFIXES:
        raise CliError(
            f"--out {str(out)!r}: unknown extension {out.suffix!r}; use .csv (parameter "
            "table) or .json (fit measures, parameters and hypotheses)"
        )


def _report_checks(survey: cs.Survey) -> None:
    """Survey-check findings of severity error or warning, as ``note:`` lines on stderr."""
    shown = survey.checks[survey.checks["severity"].isin(["error", "warning"])]
    for _, row in shown.iterrows():
        typer.echo(
            f"note: survey check {row['check']} ({row['severity']}): {_one_line(row['message'])}",
            err=True,
        )


# ---------------------------------------------------------------------------- outputs


def _plain(value: Any) -> Any:
    """A JSON-ready value: NaN and None -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def result_record(res: cs.FitResult) -> dict[str, Any]:
    """What ``--out x.json`` writes: fit measures, parameters, hypotheses, convergence."""
    return _plain({
        "fit_measures": res.fit_measures.to_dict(),
        "params": res.params.to_dict(orient="records"),
        "hypotheses": res.hypotheses.to_dict(orient="records"),
        "converged": bool(res.converged),
        "convergence": res.converged.describe(),
    })


def _write_out(res: cs.FitResult, out: Path) -> None:
    if out.suffix.lower() == ".csv":
        res.params.to_csv(out, index=False)
    else:
        out.write_text(json.dumps(result_record(res), indent=2, allow_nan=False) + "\n",
                       encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


def _print_result(res: cs.FitResult, summary: bool) -> None:
    if summary:
        typer.echo(str(res.summary()))
        return
    est = res.estimation
    typer.echo(f"cbec_sem {cs.__version__}: {est.options.estimator} fit "
               + res.converged.describe())
    typer.echo("")
    typer.echo(fit_table_text(res))
    typer.echo("")
    typer.echo(hypothesis_table_text(res))
    for note in res.notes:
        typer.echo(f"note: {note}")


# ---------------------------------------------------------------------------- commands


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cbec-sem {cs.__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.",
    )] = False,
    debug: Annotated[bool, typer.Option(
        "--debug", help="On an error, print the full traceback (for bug reports).",
    )] = False,
) -> None:
    """Fit the CBEC supply-chain innovation model (or any lavaan model) to survey data and test
    its hypotheses."""
    _DEBUG["on"] = debug


SummaryOption = Annotated[bool, typer.Option(
    "--summary", help="Print the full lavaan-like summary instead of the two tables.")]
OutOption = Annotated[Path | None, typer.Option(
    "--out", help="Write results: .csv = parameter table, .json = fit measures, parameters, "
    "hypotheses and convergence.", dir_okay=False)]


#: Seed of the example's NCA permutation tests, so `cbec-sem example` prints the same numbers
#: every time.
EXAMPLE_SEED = 2026


@app.command()
def example(summary: SummaryOption = False, out: OutOption = None) -> None:
    """Fit the paper model to the bundled (synthetic) example survey of 400 CBEC firms."""
    with _reporting():
        _check_out(out)
        model = cs.paper_model()
        survey = cs.load_survey(cs.datasets.example_survey(), scale=(1, 7),
                                items=model.observed_variables, id_column="firm_id")
        _report_checks(survey)
        res = cs.fit(model, survey, seed=EXAMPLE_SEED)
        _print_result(res, summary)
        if out is not None:
            _write_out(res, out)


QuietOption = Annotated[bool, typer.Option(
    "--quiet", "-q", help="No progress display on stderr (it is off anyway when stderr is not "
    "a terminal).")]
EstimatorOption = Annotated[str | None, typer.Option(
    help="Estimator (default: the model file's 'estimator', else ML).")]
GroupOption = Annotated[str | None, typer.Option(
    help="Column whose values define groups (multi-group fit; default: the model file's "
    "'group').")]
BootstrapOption = Annotated[int | None, typer.Option(
    help="Bootstrap draws for standard errors and intervals (default: the model file's "
    "'bootstrap', else 0: none).")]
SeedOption = Annotated[int | None, typer.Option(
    help="Seed of the bootstrap and the NCA permutation tests (default: the model file's "
    "'seed').")]
CorrectionOption = Annotated[str | None, typer.Option(
    help="Family-wise correction of the hypotheses' p-values, e.g. holm (default: the model "
    "file's 'correction').")]
ScaleOption = Annotated[str | None, typer.Option(
    help="Answer scale of every item as LOW,HIGH (e.g. 1,7), for the range checks (default: "
    "the model file's 'scale').")]


def _fit_from_files(data: Path, model: Path, *, estimator: str | None, group: str | None,
                    bootstrap: int | None, seed: int | None, correction: str | None,
                    scale: str | None, missing_codes: tuple[float, ...] = (),
                    **options) -> tuple[cs.FitResult, cs.Survey]:
    """Read the model file (and its settings) and the survey, and fit.  A command-line
    option overrides the model file's setting (:mod:`cbec_sem.cli_config`)."""
    spec, settings = _read_config(model)
    survey = cs.load_survey(data, items=spec.observed_variables,
                            scale=_parse_scale(scale) or settings.get("scale"),
                            reverse=settings.get("reverse", default=()),
                            missing_codes=missing_codes)
    _report_checks(survey)
    draws = settings.get("bootstrap", bootstrap, 0)
    # the survey as a frame (what cs.fit makes of it; the PLS estimators take only frames)
    res = cs.fit(spec, survey.to_frame(), estimator=settings.get("estimator", estimator, "ML"),
                 group=settings.get("group", group),
                 missing=settings.get("missing", default="listwise"),
                 ordered=settings.get("ordered"),
                 se="bootstrap" if draws else "standard", bootstrap=draws,
                 seed=settings.get("seed", seed),
                 correction=settings.get("correction", correction),
                 alpha=settings.get("alpha", default=0.05),
                 interaction_method=settings.get("interaction_method", default="dblcent"),
                 nca_permutations=settings.get("nca_permutations", default=10000), **options)
    return res, survey


@app.command()
def fit(
    data: Annotated[Path, typer.Argument(
        help="Survey file: CSV, Excel, SPSS .sav, Stata .dta or Parquet.", dir_okay=False)],
    model: Annotated[Path, typer.Option(
        "--model", "-m", help="lavaan syntax (.lav, .lavaan, .txt, .model) or a YAML/TOML file "
        "mapping your items onto the paper's constructs (items: {TA: [q1, q2, q3], ...}), "
        "which may also declare scale, reverse, ordered, missing, estimator, group, bootstrap, "
        "seed, alpha, correction, interaction_method, nca_permutations.",
        dir_okay=False)],
    estimator: EstimatorOption = None,
    group: GroupOption = None,
    group_equal: Annotated[str, typer.Option(
        help="Comma-separated parameter kinds held equal across groups, e.g. "
        "loadings,intercepts.")] = "",
    information: Annotated[str | None, typer.Option(
        help="Information matrix for standard errors: expected or observed (default: the "
        "estimator's, as lavaan: observed for MLR, expected otherwise).")] = None,
    bootstrap: BootstrapOption = None,
    seed: SeedOption = None,
    correction: CorrectionOption = None,
    scale: ScaleOption = None,
    missing_codes: Annotated[str | None, typer.Option(
        help="Answers that mean 'no answer' in every item, comma-separated (e.g. 99,-9): read "
        "as missing and reported.")] = None,
    summary: SummaryOption = False,
    out: OutOption = None,
    quiet: QuietOption = False,
) -> None:
    """Fit a model to a survey file and test its hypotheses."""
    with _reporting():
        _check_out(out)
        kinds = tuple(k.strip() for k in group_equal.split(",") if k.strip())
        with busy("fitting and testing the hypotheses", quiet):
            res, _ = _fit_from_files(data, model, estimator=estimator, group=group,
                                     bootstrap=bootstrap, seed=seed, correction=correction,
                                     scale=scale, group_equal=kinds, information=information,
                                     missing_codes=_parse_codes(missing_codes))
            res.hypotheses  # noqa: B018 - computed under the progress display
        _print_result(res, summary)
        if out is not None:
            _write_out(res, out)
        _exit_status(res)


POWER_OUT_SUFFIXES = (".csv", ".json")
PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def _parse_sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = int(part)
        except ValueError:
            raise CliError(f"--n {text!r}: {part!r} is not a whole number; write sample sizes "
                           "as 100,200,300") from None
        sizes.append(value)
    if not sizes:
        raise CliError("--n is empty: write sample sizes as 100,200,300")
    return sizes


def _power_record(res) -> dict[str, Any]:
    """What ``power --out x.json`` writes."""
    return _plain({
        "n": list(res.n), "reps": res.reps, "completed": res.completed, "seed": res.seed,
        "alpha": res.alpha, "target": res.target, "population": res.population,
        "likert": res.likert, "backend": res.backend, "elapsed": res.elapsed,
        "interrupted": res.interrupted, "notes": list(res.notes),
        "table": res.table.to_dict(orient="records"),
        "smallest_n": res.smallest_n().astype(object).to_dict(orient="records"),
    })


@app.command("power")
def power_command(
    model: Annotated[str, typer.Option(
        "--model", "-m", help="'paper' (the paper's model and its example population) or a "
        "model file: lavaan syntax or a YAML/TOML item mapping, as for 'fit'.")],
    n: Annotated[str, typer.Option(
        "--n", help="Comma-separated sample sizes, e.g. 100,200,300.")],
    reps: Annotated[int, typer.Option(help="Replications per sample size.")] = 500,
    seed: Annotated[int | None, typer.Option(
        help="Seed (the same seed gives the same numbers on any number of cores).")] = None,
    population: Annotated[Path | None, typer.Option(
        help="Population model: lavaan syntax whose numbers are the population values "
        "(default: the paper's example population, or the model's own values).",
        dir_okay=False)] = None,
    likert: Annotated[int | None, typer.Option(
        help="Cut the items into this many Likert categories.")] = None,
    hypotheses: Annotated[str | None, typer.Option(
        help="Comma-separated hypothesis ids (default: all of the model's).")] = None,
    alpha: Annotated[float | None, typer.Option(
        help="Significance level (default: the model file's 'alpha', else 0.05).")] = None,
    target: Annotated[float, typer.Option(help="Power wanted (for the smallest n).")] = 0.80,
    n_jobs: Annotated[int, typer.Option(
        "--n-jobs", help="Local worker processes (-1: all cores).")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        help="Address of a Dask scheduler (tcp://host:8786): run the replications on that "
        "cluster (needs dask[distributed]).")] = None,
    nca_permutations: Annotated[int, typer.Option(
        "--nca-permutations", help="Permutations of the NCA test per replication.")] = 200,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write results: .csv = the power table, .json = table, smallest n and "
        "the study's settings.", dir_okay=False)] = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Save the power curves (.png, .pdf or .svg).", dir_okay=False)] = None,
    quiet: QuietOption = False,
) -> None:
    """Monte Carlo power of the model's hypotheses at the given sample sizes (a progress bar
    on stderr when it is a terminal)."""
    with _reporting():
        if out is not None and out.suffix.lower() not in POWER_OUT_SUFFIXES:
            raise CliError(f"--out {str(out)!r}: unknown extension {out.suffix!r}; use .csv "
                           "(the power table) or .json")
        if plot is not None and plot.suffix.lower() not in PLOT_SUFFIXES:
            raise CliError(f"--plot {str(plot)!r}: unknown extension {plot.suffix!r}; use "
                           f"{', '.join(PLOT_SUFFIXES)}")
        if model.strip().lower() == "paper":
            spec, settings = cs.paper_model(), Settings({})
        else:
            spec, settings = _read_config(Path(model))
        for key in settings.unused(("seed", "alpha")):
            typer.echo(f"note: power does not use the model file's {key!r} (the power study "
                       "simulates its own data and fits them by ML)", err=True)
        seed = settings.get("seed", seed)
        alpha = settings.get("alpha", alpha, 0.05)
        sizes = _parse_sizes(n)
        ids = None if hypotheses is None else [h.strip() for h in hypotheses.split(",")
                                               if h.strip()]
        pop = None if population is None else _read_text_file(population)
        client = None
        if scheduler is not None:
            try:
                from distributed import Client
            except ImportError:
                raise CliError("--scheduler needs Dask: pip install 'cbec-sem[dask]'") from None
            try:
                client = Client(scheduler, timeout=30)
            except (OSError, TimeoutError) as exc:
                raise CliError(f"--scheduler {scheduler!r}: cannot connect ({exc})") from None

        try:
            with progress_callback("power", "rep", quiet) as bar:
                # (cs.power and cs.write_report load their modules when first used)
                res = cs.power(spec, sizes, reps=reps, population=pop, likert=likert,
                               alpha=alpha, target=target, hypotheses=ids, seed=seed,
                               n_jobs=n_jobs, client=client,
                               nca_permutations=nca_permutations,
                               progress=bar if bar is not None else False)
        finally:
            if client is not None:
                client.close()
        typer.echo(str(res.summary()))
        if out is not None:
            if out.suffix.lower() == ".csv":
                res.table.to_csv(out, index=False)
            else:
                out.write_text(json.dumps(_power_record(res), indent=2, allow_nan=False) + "\n",
                               encoding="utf-8")
            typer.echo(f"wrote {out}", err=True)
        if plot is not None:
            try:
                import matplotlib

                matplotlib.use("Agg")
                import matplotlib.pyplot as plt
            except ImportError:
                raise CliError("--plot needs matplotlib: pip install 'cbec-sem[plot]'") from None
            ax = res.plot()
            ax.figure.tight_layout()
            ax.figure.savefig(plot)
            plt.close(ax.figure)
            typer.echo(f"wrote {plot}", err=True)


# ---------------------------------------------------------------------------- report, validate
# (issue 11) Kept apart from the commands above: they read the model and data the same way as
# `fit` and hand the fit to cbec_sem.report.document / cbec_sem.measurement.validate.

REPORT_SUFFIXES = (".html", ".docx", ".xlsx", ".tex", ".md")


DataArgument = Annotated[Path, typer.Argument(
    help="Survey file: CSV, Excel, SPSS .sav, Stata .dta or Parquet.", dir_okay=False)]
ModelOption = Annotated[Path, typer.Option(
    "--model", "-m", help="lavaan syntax (.lav, .lavaan, .txt, .model) or a YAML/TOML item "
    "mapping.", dir_okay=False)]


@app.command("report")
def report_command(
    data: DataArgument,
    model: ModelOption,
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="The report file; its suffix sets the format: .html, .docx, "
        ".xlsx, .tex or .md.", dir_okay=False)],
    estimator: EstimatorOption = None,
    group: GroupOption = None,
    bootstrap: BootstrapOption = None,
    seed: SeedOption = None,
    correction: CorrectionOption = None,
    scale: ScaleOption = None,
    title: Annotated[str | None, typer.Option(help="Title of the report.")] = None,
    invariance: Annotated[str | None, typer.Option(
        help="Group column: add the measurement-invariance ladder (configural, metric, "
        "scalar, strict) across its groups.")] = None,
    quiet: QuietOption = False,
) -> None:
    """Fit a model and write the whole analysis as a report (HTML, Word, Excel, LaTeX or
    Markdown).  Exit code 1 when the fit did not converge (the report is still written and
    says so at the top), 2 on an error."""
    import shlex


    with _reporting():
        if out.suffix.lower() not in REPORT_SUFFIXES:
            raise CliError(f"--out {str(out)!r}: unknown extension {out.suffix!r}; use "
                           f"{', '.join(REPORT_SUFFIXES)}")
        if not out.parent.is_dir():
            raise CliError(f"--out {str(out)!r}: the directory {str(out.parent)!r} does not "
                           "exist")
        with busy("fitting, testing and writing the report", quiet):
            res, survey = _fit_from_files(data, model, estimator=estimator, group=group,
                                          bootstrap=bootstrap, seed=seed,
                                          correction=correction, scale=scale)
            # the command as it ran (rebuilt from the parsed values, so it is complete and
            # exact; settings from the model file are in the appendix's options)
            parts = ["cbec-sem", "report", str(data), "--model", str(model), "--out", str(out)]
            for flag, value in (("--estimator", estimator), ("--group", group),
                                ("--bootstrap", bootstrap), ("--seed", seed),
                                ("--correction", correction), ("--scale", scale),
                                ("--title", title), ("--invariance", invariance)):
                if value is not None:
                    parts += [flag, str(value)]
            call = " ".join(shlex.quote(p) for p in parts)
            cs.write_report(res, out, title=title, call=call, invariance=invariance,
                            data=survey if invariance else None)
        typer.echo(f"wrote {out}", err=True)
    if not res.converged:
        typer.echo("error: the fit did not converge or is inadmissible; the report says so at "
                   "the top", err=True)
        raise typer.Exit(code=1)


@app.command("validate")
def validate_command(
    data: DataArgument,
    model: ModelOption,
    estimator: EstimatorOption = None,
    group: GroupOption = None,
    scale: ScaleOption = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Also write the checklist as .csv.", dir_okay=False)] = None,
) -> None:
    """Fit a model and print the reviewer's measurement checklist (loadings, alpha, CR, AVE,
    Fornell-Larcker, HTMT, VIF, fit, common-method bias).  Exit code 0 when every criterion
    is met, 1 when some are not, 2 on an error."""

    with _reporting():
        if out is not None and out.suffix.lower() != ".csv":
            raise CliError(f"--out {str(out)!r}: the checklist is written as .csv")
        res, _ = _fit_from_files(data, model, estimator=estimator, group=group, bootstrap=0,
                                 seed=None, correction=None, scale=scale)
        table = res.validate()
        shown = table.drop(columns=[c for c in ("source", "note") if c in table.columns])
        typer.echo(str(Summary("Reviewer checklist", (Block("", shown),))))
        passed = table["passed"].astype("boolean")
        unmet = table[passed.eq(False).fillna(False)]
        met = int(passed.eq(True).fillna(False).sum())
        judged = met + len(unmet)
        typer.echo("")
        typer.echo(f"{met} of {len(table)} criteria met"
                   + (f", {len(unmet)} not met ({', '.join(sorted(set(unmet['criterion'])))})"
                      if len(unmet) else "")
                   + (f", {len(table) - judged} not judged" if judged < len(table) else ""))
        if out is not None:
            table.to_csv(out, index=False)
            typer.echo(f"wrote {out}", err=True)
    if not res.converged:
        typer.echo("error: the fit did not converge or is inadmissible", err=True)
        raise typer.Exit(code=1)
    if len(unmet):
        raise typer.Exit(code=1)


def main() -> None:
    """Entry point of the ``cbec-sem`` console script."""
    app(prog_name="cbec-sem")


if __name__ == "__main__":
    main()
