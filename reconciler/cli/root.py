"""The Typer app, shared options, and turning our errors into one-line messages.

Exit codes are decided in one place, `reconciler.runs.outcomes.exit_code`; this module only
hands it the outcome an error stands for. Usage errors (an unknown option, a value of the
wrong kind) exit 1 like every other error, in plain words and on one line, because exit 2
means "changes pending" to drift jobs (`plan --detailed-exitcode`); click's own exit 2 for
usage would read as drift. `-v` is accepted after the subcommand too (`alma-groups plan -v`),
as people type it.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from typer.core import TyperGroup

from reconciler import __version__
from reconciler.errors import ConfigError, ReconcilerError, UsageError
from reconciler.runs.outcomes import ExitCode, InstitutionOutcome, exit_code, outcome_of_error


def _click_exceptions() -> Any:
    """The exceptions of the click Typer runs on: recent Typer vendors click as `typer._click`,
    older Typer uses click itself; a usage error raises that copy's classes."""
    try:
        return importlib.import_module("typer._click.exceptions")
    except ImportError:  # pragma: no cover - Typer before it vendored click
        return importlib.import_module("click.exceptions")


click: Any = _click_exceptions()
VERBOSE_FLAGS = ("-v", "--verbose")
# Typer words type errors the way its validation library does; say them as a person would
_PLAIN_WORDS = (
    (re.compile(r"^Value error, "), ""),
    (re.compile(r"^Input should be a valid number.*", re.DOTALL), "expected a number"),
    (re.compile(r"^Input should be a valid integer.*", re.DOTALL), "expected a whole number"),
    (re.compile(r"^Input should be (.*?)(?:,.*)?$", re.DOTALL), r"expected \1"),
)


def _hoist_verbose(args: Sequence[str]) -> list[str]:
    """`plan -v` → `-v plan`: the root's -v may follow the subcommand (before any `--`)."""
    args = list(args)
    end = args.index("--") if "--" in args else len(args)
    found = [arg for arg in args[:end] if arg in VERBOSE_FLAGS]
    if not found:
        return args
    rest = [arg for arg in args[:end] if arg not in VERBOSE_FLAGS]
    return ["--verbose", *rest, *args[end:]]


def plain_usage_message(error: Any) -> str:
    """click's or Typer's usage message, reworded without library jargon, on one line."""
    if isinstance(error, click.NoSuchOption):
        text = f"no such option {error.option_name}"
        if error.possibilities:
            text += f" (did you mean {' or '.join(sorted(error.possibilities))}?)"
    elif isinstance(error, click.BadParameter) and not isinstance(error, click.MissingParameter):
        message = error.message
        for pattern, words in _PLAIN_WORDS:
            message = pattern.sub(words, message)
        hint = error.param_hint or (error.param.opts[0] if error.param else "")
        if isinstance(hint, Sequence) and not isinstance(hint, str):
            hint = " / ".join(hint)
        text = f"{hint}: {message}" if hint else message
    else:
        text = error.format_message()
    return " ".join(text.split()).rstrip(".")


class _Group(TyperGroup):
    """The root group: usage errors become one plain line and exit 1; -v anywhere."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        arguments = _hoist_verbose(sys.argv[1:] if args is None else args)
        try:
            result = super().main(
                arguments, prog_name, complete_var, standalone_mode=False, **extra
            )
            code = result if isinstance(result, int) else ExitCode.OK
        except click.NoArgsIsHelpError as error:
            error.show()  # a bare command asks for its help: that is no error
            code = ExitCode.OK
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx else "alma-groups"
            typer.echo(f"error: {plain_usage_message(error)}", err=True)
            typer.echo(f"(see '{command} --help')", err=True)
            code = ExitCode.ERROR
        except typer.Abort:
            typer.echo("interrupted", err=True)
            code = 130
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=_Group,
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


def check_output_file(path: Path | None, option: str) -> None:
    """Refuse an output file in a folder that does not exist, before any work or API call.

    Every command with an output file checks it this way, so `--out` to a missing folder fails
    the same everywhere: at once, exit 1, nothing read from Alma for nothing.
    """
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: the folder {folder} does not exist; create it first")
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder; give a file name")


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
