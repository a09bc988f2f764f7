"""Commands that read only git: validate, codeowners."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.root import EXIT_ERROR, EXIT_OK, ReportFormat, app, guarded, institutions_root


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
    from reconciler.render import json_doc, text

    report = validate_paths(paths or [institutions_root()])
    renderer = json_doc if output_format is ReportFormat.JSON else text
    typer.echo(renderer.render_validation(report), nl=False)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_ERROR)


@app.command()
@guarded
def codeowners(
    write: Annotated[
        Path | None,
        typer.Option(
            "--write", help="Write to this file (e.g. .github/CODEOWNERS).", show_default=False
        ),
    ] = None,
) -> None:
    """Print (or write) CODEOWNERS generated from every institution's owners."""
    from reconciler.desired import load_desired_state
    from reconciler.files import atomic_write
    from reconciler.gitops import render_codeowners

    text = render_codeowners(load_desired_state(institutions_root()))
    if write is None:
        typer.echo(text, nl=False)
    else:
        write.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(write, text)
        typer.echo(f"wrote {write}")
