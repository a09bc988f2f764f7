"""The Typer app, shared options, and turning our errors into one-line messages.

Exit codes are decided in one place, `reconciler.runs.outcomes.exit_code`; this module only
hands it the outcome an error stands for.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

from reconciler import __version__
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.runs.outcomes import ExitCode, InstitutionOutcome, exit_code, outcome_of_error

app = typer.Typer(
    name="alma-groups",
    help=(
        "Declarative reconciler for Alma user groups across FLVC's 40 institutions: "
        "validate the YAML in git, survey and plan against live Alma, apply safely."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class ReportFormat(StrEnum):
    """The names of reconciler.render.formats.VALIDATION_FORMATS, for Typer's choices."""

    TEXT = "text"
    JSON = "json"


InstitutionsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--institution",
        "-i",
        metavar="SLUG",
        help="An institution's slug; repeat for several (default: all).",
        show_default=False,
    ),
]
AllOption = Annotated[bool, typer.Option("--all", help="Every institution (the default).")]
SandboxOption = Annotated[
    bool,
    typer.Option(
        "--sandbox",
        help="Start the embedded sandbox (a local Alma, state in .sandbox/) and use it.",
    ),
]


def institutions_root() -> Path:
    """`institutions/` in the working directory, or as named by ALMA_GROUPS_INSTITUTIONS."""
    return Path(os.environ.get("ALMA_GROUPS_INSTITUTIONS", "institutions"))


def interactive() -> bool:
    """Progress bars and colour only for a person at a terminal, never in CI logs."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def colour_wanted() -> bool:
    """Colour on a terminal unless NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _version(value: bool) -> None:
    if value:
        typer.echo(f"alma-groups {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log retries and other details to stderr.")
    ] = False,
) -> None:
    """Declarative reconciler for Alma user groups across FLVC's 40 institutions."""
    # log lines carry endpoint templates and counts only, never keys or patron data
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
        stream=sys.stderr,
    )


def _report_error(error: ReconcilerError) -> int:
    if isinstance(error, ConfigError):
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        typer.echo(f"error: {len(error.problems)} problem(s) in the desired state", err=True)
    else:
        typer.echo(f"error: {error}", err=True)
    return exit_code([outcome_of_error(error)])


P = ParamSpec("P")
R = TypeVar("R")


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """Report our errors as one line on stderr and exit with their code, never a traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ReconcilerError as error:
            raise typer.Exit(_report_error(error)) from None
        except OSError as error:  # an output file in a missing folder, a full disk, ...
            where = f"{error.filename}: " if error.filename else ""
            typer.echo(f"error: {where}{error.strerror or error}", err=True)
            raise typer.Exit(exit_code([InstitutionOutcome.FAILED])) from None

    return run


def main() -> None:
    """Console-script entry point: run the app and turn our errors into one-line messages."""
    try:
        app()
    except ReconcilerError as error:
        sys.exit(_report_error(error))
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
