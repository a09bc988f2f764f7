"""The `alma-groups` command line: the only module that prints and picks exit codes.

Commands parse options, call one function of the core, hand the result to a renderer and
print it. Heavy modules (jsonschema, requests, deepdiff) are imported inside the commands so
that `alma-groups --help` stays fast.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler import __version__
from reconciler.errors import ConfigError, ReconcilerError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_UNSAFE = 3

app = typer.Typer(
    name="alma-groups",
    help=(
        "Declarative reconciler for Alma user groups across FLVC's 40 institutions: "
        "validate the YAML in git, plan against live Alma, apply safely."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class ReportFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"alma-groups {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Declarative reconciler for Alma user groups across FLVC's 40 institutions."""


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Institution folders or files to check (default: every folder in institutions/).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="Output format.")
    ] = ReportFormat.TEXT,
) -> None:
    """Check institutions' YAML against the schemas and the rules; exit 1 on any problem."""
    from reconciler.desired.loading import default_institutions_root, validate_paths
    from reconciler.render import json_doc, text

    report = validate_paths(paths or [default_institutions_root()])
    renderer = json_doc if output_format is ReportFormat.JSON else text
    typer.echo(renderer.render_validation(report), nl=False)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_ERROR)


patron_loads_app = typer.Typer(
    name="patron-loads",
    help="Patron (SIS) load history: what recent loads assign, per group, without personal data.",
    no_args_is_help=True,
)
app.add_typer(patron_loads_app)


@patron_loads_app.command("ingest")
def patron_loads_ingest(
    institution: Annotated[str, typer.Argument(help="The institution's slug (its folder name).")],
    files: Annotated[
        list[Path],
        typer.Argument(
            help="SIS files as Alma receives them: zip of XML, or XML.", show_default=False
        ),
    ],
    load_date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Date of the load (YYYY-MM-DD); default: from the file name, zip or file time.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Count users per group in SIS files into institutions/<slug>/patron-load-history.json."""
    from datetime import date

    from reconciler.desired.loading import HISTORY_FILE, default_institutions_root
    from reconciler.errors import UsageError
    from reconciler.patron_loads import ingest
    from reconciler.render import text

    folder = default_institutions_root() / institution
    if not (folder / "institution.yaml").exists():
        raise UsageError(f"{folder}: no such institution (expected {folder}/institution.yaml)")
    try:
        when = date.fromisoformat(load_date) if load_date else None
    except ValueError:
        raise UsageError(f"--date {load_date!r} is not a date like 2025-03-01") from None
    result = ingest(folder / HISTORY_FILE, institution, files, file_date=when)
    typer.echo(text.render_ingest(result, folder / HISTORY_FILE), nl=False)


def _report_error(error: ReconcilerError) -> int:
    if isinstance(error, ConfigError):
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        typer.echo(f"error: {len(error.problems)} problem(s) in the desired state", err=True)
    else:
        typer.echo(f"error: {error}", err=True)
    return error.exit_code


def main() -> None:
    """Console-script entry point: run the app and turn our errors into one-line messages."""
    try:
        app()
    except ReconcilerError as error:
        sys.exit(_report_error(error))
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
