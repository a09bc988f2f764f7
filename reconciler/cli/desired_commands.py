"""Commands that read only git: validate, codeowners."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.root import ReportFormat, app, check_output_file, guarded, institutions_root
from reconciler.runs.outcomes import InstitutionOutcome, exit_code


@app.command()
@guarded
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
    from reconciler.desired import validate_paths
    from reconciler.render.formats import VALIDATION_FORMATS

    report = validate_paths(paths or [institutions_root()])
    typer.echo(VALIDATION_FORMATS.render(output_format.value, report), nl=False)
    outcome = InstitutionOutcome.OK if report.ok else InstitutionOutcome.FAILED
    raise typer.Exit(exit_code([outcome]))


@app.command()
@guarded
def codeowners(
    write: Annotated[
        Path | None,
        typer.Option(
            "--write", help="Write to this file (e.g. .github/CODEOWNERS).", show_default=False
        ),
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option(
            "--check",
            help="Exit 1 if this file (e.g. .github/CODEOWNERS) is not what would be generated.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print, write or check CODEOWNERS generated from every institution's owners."""
    from reconciler.desired import load_desired_state
    from reconciler.files import atomic_write
    from reconciler.gitops import render_codeowners

    check_output_file(write, "--write")
    text = render_codeowners(load_desired_state(institutions_root()))
    if check is not None:
        current = check.read_text(encoding="utf-8") if check.is_file() else None
        if current != text:
            state = "is missing" if current is None else "is out of date"
            typer.echo(
                f"error: {check} {state}; run `alma-groups codeowners --write {check}` "
                "and commit it",
                err=True,
            )
            raise typer.Exit(exit_code([InstitutionOutcome.FAILED]))
        typer.echo(f"{check} is up to date")
    elif write is None:
        typer.echo(text, nl=False)
    else:
        atomic_write(write, text)
        typer.echo(f"wrote {write}")
