"""Commands that read live Alma: plan (and, from it, the saved plan for apply)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reconciler.cli.progress import progress_bar
from reconciler.cli.root import (
    AllOption,
    InstitutionsOption,
    SandboxOption,
    app,
    check_output_file,
    colour_wanted,
    guarded,
    institutions_root,
    interactive,
)
from reconciler.cli.sandbox_commands import alma_target
from reconciler.model import DesiredState
from reconciler.runs.outcomes import ExitCode

if TYPE_CHECKING:
    from reconciler.runs.reads import ReadResult


class PlanFormat(StrEnum):
    """The names of reconciler.render.formats.PLAN_FORMATS, for Typer's choices."""

    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"


def select_institutions(
    slugs: list[str] | None, everything: bool, changed_since: str | None
) -> DesiredState:
    """The desired state of the institutions asked for (all when nothing narrows it)."""
    from reconciler.desired import load_desired_state
    from reconciler.errors import UsageError
    from reconciler.gitops import changed_institutions

    root = institutions_root()
    if sum(bool(x) for x in (slugs, everything, changed_since)) > 1:
        raise UsageError("use one of --institution, --all and --changed-since")
    if changed_since:
        slugs = changed_institutions(Path.cwd(), changed_since, root)
        if not slugs:
            return DesiredState(())
        existing = [s for s in slugs if (root / s).is_dir()]  # a deleted folder plans nothing
        return load_desired_state(root, existing)
    return load_desired_state(root, slugs or None)


def echo_read_problems(result: ReadResult) -> None:
    """Institutions that could not be read, then what was read around (not fatal)."""
    for slug, error in sorted(result.failures.items()):
        typer.echo(f"error: {slug}: {error}", err=True)
    for slug, live in sorted(result.live.items()):
        for warning in live.warnings:  # e.g. the unverified SIS job lookup fell back
            typer.echo(f"warning: {slug}: {warning}", err=True)


@app.command()
@guarded
def plan(
    institution: InstitutionsOption = None,
    everything: AllOption = False,
    changed_since: Annotated[
        str | None,
        typer.Option(
            "--changed-since",
            metavar="REF",
            help="Only institutions whose files changed since this git ref (e.g. origin/main).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        PlanFormat, typer.Option("--format", help="What to print.")
    ] = PlanFormat.TEXT,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Also save the plan as checksummed JSON (schemas/plan.schema.json).",
            show_default=False,
        ),
    ] = None,
    affected_users_csv: Annotated[
        Path | None,
        typer.Option(
            "--affected-users-csv",
            metavar="FILE",
            help="Also write the primary IDs of every user the plan moves or purges to this "
            "local CSV (personal data: keep it out of git and PR comments).",
            show_default=False,
        ),
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 2 when there are changes (for drift jobs)."),
    ] = False,
    sandbox: SandboxOption = False,
) -> None:
    """Diff the YAML against live Alma and patron-load history; print the plan.

    Exit 0: no changes; 1: error; 2: changes (with --detailed-exitcode); 3: the plan breaks a
    safety rule (apply would refuse it).
    """
    from reconciler.files import PRIVATE_FILE_MODE, atomic_write
    from reconciler.gitops import current_commit
    from reconciler.planning import plan_file
    from reconciler.render import affected_csv
    from reconciler.render.approvals import render_approvals_markdown
    from reconciler.render.formats import PLAN_FORMATS, Style
    from reconciler.runs.outcomes import exit_code, outcome_of_error, outcome_of_plan
    from reconciler.runs.reads import collect_affected_users, plan_institutions

    check_output_file(out, "--out")
    check_output_file(affected_users_csv, "--affected-users-csv")
    desired = select_institutions(institution, everything, changed_since)
    with (
        alma_target(sandbox, [s.institution for s in desired.institutions]) as target,
        progress_bar(len(desired.institutions), "planning", enabled=interactive()) as tick,
    ):
        the_plan, result = plan_institutions(
            target.histories_root,
            desired,
            target.env,
            today=date.today(),
            commit=current_commit(Path.cwd()),
            progress=tick,
        )
        # stamped once, so the printed JSON and the saved file are the same document
        the_plan = replace(the_plan, created_at=datetime.now(UTC))
        if affected_users_csv is not None:
            affected = collect_affected_users(the_plan, desired, target.env, today=date.today())
            csv_text = affected_csv.render_affected_users(affected.users)
            atomic_write(affected_users_csv, csv_text, new_file_mode=PRIVATE_FILE_MODE)
            typer.echo(
                f"wrote {len(affected.users):,} affected users to {affected_users_csv}", err=True
            )
            for slug, code, why in affected.incomplete:
                typer.echo(
                    f"warning: {slug}: the list for group {code!r} may be incomplete ({why})",
                    err=True,
                )
    if result.failures and not result.live:
        for slug, reason in sorted(result.failures.items()):
            typer.echo(f"error: {slug}: {reason}", err=True)
        typer.echo(
            f"error: none of the {len(result.failures)} institution(s) could be read (see "
            "above); check the keys, ALMA_API_URL and the network, or try --sandbox",
            err=True,
        )
        raise typer.Exit(ExitCode.ERROR)
    if out is not None:
        plan_file.save(the_plan, out)
    style = Style(colour=colour_wanted())
    typer.echo(PLAN_FORMATS.render(output_format.value, the_plan, style), nl=False)
    if output_format is PlanFormat.MARKDOWN and changed_since:
        owners = {s.institution.slug: s.institution.owners for s in desired.institutions}
        typer.echo(render_approvals_markdown(owners), nl=False)
    echo_read_problems(result)
    typer.echo(
        f"read Alma with {result.api_calls:,} API calls ({result.retries:,} retried)", err=True
    )
    if out is not None:
        typer.echo(f"saved plan to {out}", err=True)
    outcomes = [outcome_of_plan(p) for p in the_plan.institutions]
    outcomes += [outcome_of_error(error) for error in result.failures.values()]
    raise typer.Exit(exit_code(outcomes, detailed_exitcode=detailed_exitcode))


@app.command("import")
@guarded
def import_groups(
    institution: Annotated[str, typer.Argument(help="The institution's slug (its folder name).")],
    write: Annotated[
        bool, typer.Option("--write", help="Write institutions/<slug>/user-groups.yaml.")
    ] = False,
    sandbox: SandboxOption = False,
) -> None:
    """Print (or --write) user-groups.yaml from live Alma's UserGroups table."""
    from reconciler.alma import AlmaClient
    from reconciler.desired import load_institution
    from reconciler.desired.importing import render_user_groups
    from reconciler.desired.loading import GROUPS_FILE
    from reconciler.errors import ReconcilerError
    from reconciler.files import atomic_write
    from reconciler.model.live import LiveGroup
    from reconciler.reading.live import read_groups
    from reconciler.reading.record_types import read_record_type_mappings
    from reconciler.runs.fanout import connect_with, for_each_institution

    def read_rows(client: AlmaClient) -> tuple[tuple[LiveGroup, ...], frozenset[str]]:
        mapped = frozenset(m.user_group for m in read_record_type_mappings(client))
        return read_groups(client), mapped

    root = institutions_root()
    identity = load_institution(root, institution)
    with alma_target(sandbox, [identity]) as target:
        runs = for_each_institution(
            [identity], lambda _, client: read_rows(client), connect=connect_with(target.env)
        )
    read = runs[identity.slug].result
    if isinstance(read, ReconcilerError):
        raise read
    rows, mapped = read
    yaml_text = render_user_groups(rows, source=f"Alma ({identity.alma_code})", mapped=mapped)
    if not write:
        typer.echo(yaml_text, nl=False)
        raise typer.Exit(ExitCode.OK)
    path = root / institution / GROUPS_FILE
    atomic_write(path, yaml_text)
    enabled = sum(row.enabled for row in rows)
    typer.echo(
        f"wrote {path}: {enabled} kept, {len(rows) - enabled} retired (disabled in Alma); "
        "review the diff, then run `alma-groups plan`"
    )
