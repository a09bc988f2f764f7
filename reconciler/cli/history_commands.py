"""`patron-loads`: the aggregate history of SIS files, kept in git without personal data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.root import app, guarded, institutions_root

patron_loads_app = typer.Typer(
    name="patron-loads",
    help="Patron (SIS) load history: what recent loads assign, per group, without personal data.",
    no_args_is_help=True,
)
app.add_typer(patron_loads_app)


@patron_loads_app.command("ingest")
@guarded
def ingest(
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

    from reconciler.desired import institution_folder
    from reconciler.desired.loading import HISTORY_FILE
    from reconciler.errors import UsageError
    from reconciler.patron_loads import ingest as ingest_files
    from reconciler.render import text

    folder = institution_folder(institutions_root(), institution)
    try:
        when = date.fromisoformat(load_date) if load_date else None
    except ValueError:
        raise UsageError(f"--date {load_date!r} is not a date like 2025-03-01") from None
    result = ingest_files(folder / HISTORY_FILE, institution, files, file_date=when)
    typer.echo(text.render_ingest(result, folder / HISTORY_FILE), nl=False)
