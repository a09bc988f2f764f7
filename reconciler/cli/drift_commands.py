"""`drift`: how live Alma differs from main, each difference with its likely cause."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.apply.journal import JOURNAL_DIR
from reconciler.cli.alma_commands import echo_read_problems, select_institutions
from reconciler.cli.root import AllOption, InstitutionsOption, SandboxOption, app, guarded
from reconciler.cli.sandbox_commands import alma_target
from reconciler.runs.outcomes import InstitutionOutcome, exit_code, outcome_of_error


class DriftFormat(StrEnum):
    """The names of reconciler.render.formats.DRIFT_FORMATS, for Typer's choices."""

    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"


@app.command()
@guarded
def drift(
    institution: InstitutionsOption = None,
    everything: AllOption = False,
    output_format: Annotated[
        DriftFormat, typer.Option("--format", help="What to print.")
    ] = DriftFormat.TEXT,
    journals: Annotated[
        Path,
        typer.Option(
            "--journals",
            metavar="DIR",
            help="Where apply journals are (CI downloads them here).",
        ),
    ] = JOURNAL_DIR,
    sandbox: SandboxOption = False,
) -> None:
    """List where live Alma differs from main, with each difference's likely cause.

    Causes: patron load, reconciler run, staff edit, unknown; each with its evidence. Exit 0:
    no drift; 1: an institution could not be read; 2: drift.
    """
    from reconciler.gitops import current_commit
    from reconciler.render.formats import DRIFT_FORMATS
    from reconciler.runs.drift import drift_institutions

    desired = select_institutions(institution, everything, None)
    with alma_target(sandbox, [s.institution for s in desired.institutions]) as target:
        report, result = drift_institutions(
            target.histories_root,
            desired,
            target.env,
            today=date.today(),
            journal_dir=journals,
            commit=current_commit(Path.cwd()),
        )
    typer.echo(DRIFT_FORMATS.render(output_format.value, report), nl=False)
    echo_read_problems(result)
    outcomes = [
        InstitutionOutcome.CHANGES if item.drifted else InstitutionOutcome.NO_CHANGES
        for item in report
    ]
    outcomes += [outcome_of_error(error) for error in result.failures.values()]
    raise typer.Exit(exit_code(outcomes, detailed_exitcode=True))
