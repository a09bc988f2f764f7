"""`survey`: every group of every institution, its users, and candidates for retirement."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.alma_commands import echo_read_problems, select_institutions
from reconciler.cli.progress import progress_bar
from reconciler.cli.root import (
    AllOption,
    InstitutionsOption,
    SandboxOption,
    app,
    guarded,
    interactive,
)
from reconciler.cli.sandbox_commands import alma_target
from reconciler.errors import UsageError


class SurveyFormat(StrEnum):
    """The names of reconciler.render.formats.SURVEY_FORMATS, for Typer's choices."""

    TABLE = "table"
    MARKDOWN = "markdown"
    CSV = "csv"
    JSON = "json"
    HTML = "html"


@app.command()
@guarded
def survey(
    institution: InstitutionsOption = None,
    everything: AllOption = False,
    output_format: Annotated[
        SurveyFormat, typer.Option("--format", help="What to write.")
    ] = SurveyFormat.TABLE,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write the report to this file instead of stdout.", show_default=False
        ),
    ] = None,
    sandbox: SandboxOption = False,
    snapshot_path: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            help="Show what changed since this earlier JSON survey (a snapshot) instead of the "
            "survey; table, markdown or json.",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """The consortium overview, then each institution's groups with users, active users, last
    patron load and references, flagging strong and weak candidates for retirement (FLVC's
    step 2: "share groups and active-user counts").

    Counts come from an exact census of every user, so the survey reads every user record once.
    With --compare OLD.json: what changed since that snapshot (groups retired, disabled or
    deleted, users moved out of candidate groups, new groups).
    Exit 0, or 1 when an institution could not be read (the others are still reported).
    """
    from reconciler.files import atomic_write
    from reconciler.render.formats import COMPARISON_FORMATS, SURVEY_FORMATS
    from reconciler.runs.outcomes import InstitutionOutcome, exit_code, outcome_of_error
    from reconciler.runs.reads import read_histories, read_institutions
    from reconciler.survey.compare import Snapshot, compare, parse_snapshot
    from reconciler.survey.report import build_survey

    snapshot: Snapshot | None = None
    if snapshot_path is not None:  # read the snapshot before spending any API calls
        if output_format.value not in COMPARISON_FORMATS.names:
            *others, last = COMPARISON_FORMATS.names
            raise UsageError(f"--compare writes {', '.join(others)} or {last}")
        snapshot = parse_snapshot(_read_text(snapshot_path), str(snapshot_path))
    desired = select_institutions(institution, everything, None)
    today = date.today()
    with (
        alma_target(sandbox, [s.institution for s in desired.institutions]) as target,
        progress_bar(len(desired.institutions), "surveying", enabled=interactive()) as tick,
    ):
        histories = read_histories(target.histories_root, desired)
        result = read_institutions(
            desired, histories, target.env, today=today, census_everything=True, progress=tick
        )
    calls = {slug: summary.calls for slug, summary in result.ledgers.items()}
    report = build_survey(
        desired, result.live, histories, today=today, api_calls=calls, unread=result.failures
    )
    if snapshot is None:
        text = SURVEY_FORMATS.render(output_format.value, report)
    else:
        text = COMPARISON_FORMATS.render(output_format.value, compare(snapshot, report))
    if out is None:
        typer.echo(text, nl=False)
    else:
        atomic_write(out, text)
        typer.echo(f"wrote the survey ({output_format.value}) to {out}", err=True)
    echo_read_problems(result)
    typer.echo(f"API calls: {result.api_calls:,}", err=True)
    outcomes = [InstitutionOutcome.OK for _ in result.live]
    outcomes += [outcome_of_error(error) for error in result.failures.values()]
    raise typer.Exit(exit_code(outcomes))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
