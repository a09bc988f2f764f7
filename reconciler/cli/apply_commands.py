"""`apply` and `rollback`: the commands that change Alma.

They refuse (exit 3) before touching anything when the plan is unsafe, edited, stale or too
old; ask for confirmation at a terminal (and demand --yes in CI or without a terminal); print
a report of counts (never a patron) and pick the exit code: 0 all done and a fresh plan is
empty, 1 an error or any user failed, 3 refused.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reconciler.apply.journal import JOURNAL_DIR
from reconciler.cli.alma_commands import select_institutions
from reconciler.cli.progress import user_progress
from reconciler.cli.root import (
    InstitutionsOption,
    SandboxOption,
    app,
    colour_wanted,
    guarded,
    institutions_root,
    interactive,
)
from reconciler.cli.sandbox_commands import AlmaTarget, alma_target
from reconciler.errors import UsageError
from reconciler.model import DesiredState
from reconciler.runs.outcomes import ExitCode

if TYPE_CHECKING:
    from reconciler.apply.report import ApplyReport
    from reconciler.model.plan import Plan


class ReportFormat(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"


YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask; required in CI or without a terminal.")
]
BreakLockOption = Annotated[
    bool,
    typer.Option(
        "--break-lock", help="Take the institution's apply lock even if another run holds it."
    ),
]


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if os.environ.get("CI") or not sys.stdin.isatty():
        raise UsageError("apply changes Alma: in CI or without a terminal, pass --yes")
    if not typer.confirm(question, default=False, err=True):
        typer.echo("nothing applied", err=True)
        raise typer.Exit(ExitCode.OK)


@app.command()
@guarded
def apply(
    plan_path: Annotated[
        Path | None,
        typer.Argument(
            metavar="[PLAN.json]", help="A plan saved by `plan --out`.", show_default=False
        ),
    ] = None,
    institution: InstitutionsOption = None,
    resume_journal: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            metavar="JOURNAL",
            help="Finish the run this journal records (after a crash or the daily limit).",
            show_default=False,
        ),
    ] = None,
    yes: YesOption = False,
    max_age: Annotated[
        float, typer.Option("--max-age", metavar="HOURS", help="Refuse older saved plans.")
    ] = 24.0,
    break_lock: BreakLockOption = False,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="Report format.")
    ] = ReportFormat.TEXT,
    sandbox: SandboxOption = False,
) -> None:
    """Apply a saved plan, or plan and apply institutions in one step (-i SLUG).

    Users are moved (journaled, resumable, reversible with `rollback`), purged where asked,
    groups verified empty, then disabled. Exit 0: done and a fresh plan is empty; 1: an error
    or a user failed; 3: refused (violations, edited or stale plan, lock held, no budget).
    """
    from reconciler.gitops import current_commit
    from reconciler.runs.applying import ApplyRun, apply_plan, resume

    if sum(x is not None for x in (plan_path, institution, resume_journal)) != 1:
        raise UsageError("give one of PLAN.json, --institution SLUG and --resume JOURNAL")
    today = date.today()
    desired, saved = _desired_and_saved_plan(plan_path, resume_journal, institution, max_age)
    commit = current_commit(Path.cwd())
    with alma_target(sandbox, [s.institution for s in desired.institutions]) as target:
        if saved is None:
            saved = _plan_now(desired, target, today=today, commit=commit)
        if not saved.has_changes:
            typer.echo("nothing to apply: the plan has no changes", err=True)
            raise typer.Exit(ExitCode.OK)
        if resume_journal is None:
            _confirm(_question(saved), yes)
        with user_progress(terminal=interactive()) as progress:
            run = ApplyRun(
                desired,
                target.env,
                today,
                JOURNAL_DIR,
                target.histories_root,
                commit=commit,
                break_lock=break_lock,
                progress=progress,
            )
            reports = [resume(resume_journal, run)] if resume_journal else apply_plan(saved, run)
    _finish(reports, output_format)


def _desired_and_saved_plan(
    plan_path: Path | None,
    resume_journal: Path | None,
    institution: list[str] | None,
    max_age: float,
) -> tuple[DesiredState, Plan | None]:
    """The desired state to apply, and the saved plan (None: plan now, in one step)."""
    from reconciler.apply.journal import read_journal
    from reconciler.desired import load_desired_state
    from reconciler.runs.applying import load_saved_plan, refuse_unsafe

    if plan_path is None and resume_journal is None:
        return select_institutions(institution, False, None), None
    if resume_journal is not None:
        header, _ = read_journal(resume_journal)
        saved = load_saved_plan(Path(header.plan_file or ""))
    else:
        saved = load_saved_plan(plan_path or Path())
    desired = load_desired_state(institutions_root(), [p.slug for p in saved.institutions])
    if resume_journal is None:
        refuse_unsafe(saved, desired, max_age=timedelta(hours=max_age), now=datetime.now(UTC))
    return desired, saved


def _plan_now(
    desired: DesiredState, target: AlmaTarget, *, today: date, commit: str | None
) -> Plan:
    """Plan in one step; the plan is shown (stderr) and refused when unsafe."""
    from reconciler.render import text
    from reconciler.runs.applying import refuse_unsafe
    from reconciler.runs.reads import plan_institutions

    plan, result = plan_institutions(
        target.histories_root, desired, target.env, today=today, commit=commit
    )
    for slug, reason in sorted(result.failures.items()):
        typer.echo(f"error: {slug}: {reason}", err=True)
    if result.failures:
        raise typer.Exit(ExitCode.ERROR)
    typer.echo(text.render_plan(plan, colour=colour_wanted()), nl=False, err=True)
    refuse_unsafe(plan, desired, max_age=None, now=datetime.now(UTC))
    return plan


def _question(plan: Plan) -> str:
    changes = sum(len(p.changes) for p in plan.institutions)
    moved = sum(p.users_moved for p in plan.institutions)
    purged = sum(p.users_purged for p in plan.institutions)
    purge = f", purging {purged:,} (purged users cannot be restored)" if purged else ""
    return f"Apply {changes} change(s), moving {moved:,} users{purge}?"


def _finish(reports: list[ApplyReport], output_format: ReportFormat) -> None:
    from reconciler.render import apply_report
    from reconciler.runs.applying import outcome_of_apply
    from reconciler.runs.outcomes import exit_code

    if output_format is ReportFormat.MARKDOWN:
        typer.echo(apply_report.render_apply_markdown(reports), nl=False)
    else:
        typer.echo(apply_report.render_apply(reports), nl=False)
    raise typer.Exit(exit_code(outcome_of_apply(r) for r in reports))


@app.command()
@guarded
def rollback(
    journal_path: Annotated[
        Path, typer.Argument(metavar="JOURNAL", help="The journal of the apply to undo.")
    ],
    yes: YesOption = False,
    break_lock: BreakLockOption = False,
    sandbox: SandboxOption = False,
) -> None:
    """Undo an apply from its journal: move users back, re-enable rows, restore mappings.

    Users changed since the apply are skipped and reported. Purged users and deleted rows
    cannot come back. Exit 0: all restored; 1: an error or a user could not be moved back.
    """
    from reconciler.apply.journal import read_journal
    from reconciler.desired import load_desired_state
    from reconciler.gitops import current_commit
    from reconciler.render import apply_report
    from reconciler.runs.applying import ApplyRun, rollback_journal

    header, _ = read_journal(journal_path)
    desired = load_desired_state(institutions_root(), [header.institution])
    _confirm(
        f"Roll back run {header.run_id} of {header.institution}? Purged users and deleted "
        "rows cannot come back.",
        yes,
    )
    with alma_target(sandbox, [s.institution for s in desired.institutions]) as target:
        run = ApplyRun(
            desired,
            target.env,
            date.today(),
            JOURNAL_DIR,
            target.histories_root,
            commit=current_commit(Path.cwd()),
            break_lock=break_lock,
        )
        report, own = rollback_journal(journal_path, run)
    typer.echo(apply_report.render_rollback(report, str(own)), nl=False)
    raise typer.Exit(ExitCode.ERROR if report.failed or report.stopped else ExitCode.OK)
