"""Apply a plan across institutions: refuse what is unsafe, then per institution take the lock,
open the journal, run the engine, release the lock, and plan again to prove convergence.

Design decisions:
- Refusals come first and are all-or-nothing (exit 3): a plan with violations, a saved plan
  whose checksum fails, a desired state that no longer hashes as the plan says, a plan older
  than --max-age. Per-record staleness is the engine's business, not a refusal.
- The plan applied is saved next to its journal, so `apply --resume JOURNAL` needs nothing
  else; running the same saved plan again also resumes its unfinished journal instead of
  starting a second one, so either way nothing is applied twice.
- Every run, whichever way it starts (a saved plan, `-i`, `--resume`), first finishes the
  institution's other interrupted runs found in the journal folder (by header; no end note,
  or an operation without an outcome, as a run the daily limit stopped mid-call leaves):
  once it holds the lock, so such a journal can only be a dead or stopped run's. Their
  in-flight operations are settled against Alma as a resume settles them and their journals
  end naming this run. An interrupted run of another plan (an earlier `apply -i`, an older
  saved plan) is settled, not resumed: this run's plan was read from Alma as it is now.
- Institutions are applied one after another: their limits are separate, but one operator
  reading one report is easier than interleaved progress, and the daily budget is per
  institution anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from reconciler import __version__
from reconciler.alma import AlmaClient
from reconciler.apply.engine import ApplySettings, apply_institution
from reconciler.apply.journal import (
    Entry,
    Journal,
    JournalHeader,
    new_run_id,
    read_header,
    read_journal,
    unfinished_journals,
)
from reconciler.apply.lock import AlmaLock
from reconciler.apply.report import ApplyReport
from reconciler.apply.rollback import RollbackReport, rollback
from reconciler.errors import (
    ApplyRefusedError,
    JournalError,
    LockHeldError,
    PlanFileError,
    StalePlanError,
)
from reconciler.model import DesiredState, InstitutionState
from reconciler.model.plan import InstitutionPlan, Plan
from reconciler.planning import plan_file
from reconciler.planning.plan import desired_hash
from reconciler.runs.outcomes import InstitutionOutcome
from reconciler.runs.reads import plan_institutions

DEFAULT_MAX_AGE = timedelta(hours=24)
Progress = Callable[[str, int, int], None]  # slug, users done, users planned


def load_saved_plan(path: Path) -> Plan:
    """A saved plan, or a refusal (exit 3) when it is unreadable, edited or of another format."""
    try:
        return plan_file.load(path)
    except (PlanFileError, StalePlanError) as error:
        raise ApplyRefusedError(f"{error}; make the plan again with `plan --out`") from error


def refuse_unsafe(
    plan: Plan, desired: DesiredState, *, max_age: timedelta | None, now: datetime
) -> None:
    """Raise ApplyRefusedError when the plan must not be applied as it is."""
    if plan.violations:
        rules = ", ".join(sorted({v.rule.value for v in plan.violations}))
        raise ApplyRefusedError(
            f"the plan breaks {len(plan.violations)} safety rule(s) ({rules}); "
            "fix them (see `alma-groups plan`) and plan again"
        )
    if desired_hash(desired) != plan.desired_hash:
        raise ApplyRefusedError(
            "the desired state in institutions/ changed since the plan was made; plan again"
        )
    if max_age is None:
        return
    if plan.created_at is None:
        raise ApplyRefusedError("the plan does not say when it was made; save it again")
    age = now - plan.created_at
    if age > max_age:
        raise ApplyRefusedError(
            f"the plan is {age.total_seconds() / 3600:.1f} h old (more than --max-age "
            f"{max_age.total_seconds() / 3600:g} h); plan again"
        )


@dataclass(frozen=True)
class ApplyRun:
    """Everything one apply needs besides the plan: where Alma is, where journals go."""

    desired: DesiredState
    env: Mapping[str, str]
    today: date
    journal_dir: Path
    histories_root: Path
    commit: str | None = None
    break_lock: bool = False
    progress: Progress | None = None
    crash_after: int | None = None  # test seam: stop dead after N journal writes


def apply_plan(plan: Plan, run: ApplyRun) -> list[ApplyReport]:
    """Apply every institution of `plan` that has changes; resumes its unfinished journals."""
    document = plan_file.to_document(plan)
    reports = []
    for institution_plan in plan.institutions:
        if not institution_plan.has_changes:
            continue
        slug = institution_plan.slug
        unfinished = find_unfinished(run.journal_dir, slug, document["checksum"])
        if unfinished is not None:
            reports.append(resume(unfinished, run))
            continue
        header = JournalHeader(
            run_id=new_run_id(),
            institution=slug,
            plan_checksum=document["checksum"],
            commit=plan.commit,
            tool_version=__version__,
        )
        plan_path = run.journal_dir / f"{slug}-{header.run_id}.plan.json"
        run.journal_dir.mkdir(parents=True, exist_ok=True)
        plan_file.save(plan, plan_path)
        header = replace(header, plan_file=str(plan_path))
        journal = Journal.create(run.journal_dir, header, crash_after=run.crash_after)
        reports.append(_apply_one(institution_plan, journal, run, ()))
    return reports


def resume(journal_path: Path, run: ApplyRun) -> ApplyReport:
    """Finish the run a journal records: settle its in-flight operations, then carry on."""
    header, entries = read_journal(journal_path)
    if header.kind != "apply" or not header.plan_file:
        raise JournalError(f"{journal_path}: not the journal of an apply")
    plan = load_saved_plan(Path(header.plan_file))
    if plan_file.to_document(plan)["checksum"] != header.plan_checksum:
        raise JournalError(f"{journal_path}: its plan file {header.plan_file} has changed")
    refuse_unsafe(plan, run.desired, max_age=None, now=datetime.now(UTC))
    institution_plan = next(p for p in plan.institutions if p.slug == header.institution)
    journal = Journal.reopen(journal_path, crash_after=run.crash_after)
    journal.note("resume")
    return _apply_one(institution_plan, journal, run, entries)


def find_unfinished(journal_dir: Path, slug: str, checksum: str) -> Path | None:
    """The latest unfinished journal of `slug` for the same plan (a killed run), if any."""
    same = [
        path
        for path in unfinished_journals(journal_dir, slug)
        if read_header(path).plan_checksum == checksum
    ]
    return same[-1] if same else None


def _interrupted(journal_dir: Path, journal: Journal) -> list[tuple[Journal, list[Entry]]]:
    """The institution's other unfinished journals, reopened to be settled and closed."""
    found = []
    for path in unfinished_journals(journal_dir, journal.header.institution):
        if path.resolve() == journal.path.resolve():
            continue
        _, entries = read_journal(path)
        found.append((Journal.reopen(path), entries))
    return found


def _apply_one(
    plan: InstitutionPlan, journal: Journal, run: ApplyRun, entries: Sequence[Entry]
) -> ApplyReport:
    state = _state_of(run.desired, plan.slug)
    total = plan.users_moved + plan.users_purged
    done = [0]
    counting = threading.Lock()

    def tick(count: int) -> None:  # called from the worker threads of the moves
        with counting:
            done[0] += count
            if run.progress is not None:
                run.progress(plan.slug, done[0], total)

    with AlmaClient.for_institution(state.institution, run.env) as client:
        lock = AlmaLock(client, journal.header.run_id, break_lock=run.break_lock)
        try:
            lock.acquire()
        except ApplyRefusedError as error:
            return _refused(plan, journal, entries, error, run.journal_dir)
        journal.guard_writes(lock.keep)  # renews the lock; stops the run if it was lost
        try:
            # only now, holding the lock, is an unfinished journal surely a dead run's
            settings = ApplySettings(
                run.today,
                progress=tick,
                resume_from=tuple(entries),
                superseded=_interrupted(run.journal_dir, journal),
            )
            report = apply_institution(client, state, plan, journal, settings)
        except ApplyRefusedError as error:
            report = _refused(plan, journal, entries, error, run.journal_dir)
        finally:
            lock.release()
    if report.refused or report.stopped:
        return report
    fresh, _ = plan_institutions(
        run.histories_root, DesiredState((state,)), run.env, today=run.today, commit=run.commit
    )
    return replace(report, fresh_plan_changes=sum(len(p.changes) for p in fresh.institutions))


def _refused(
    plan: InstitutionPlan,
    journal: Journal,
    entries: Sequence[Entry],
    error: ApplyRefusedError,
    journal_dir: Path,
) -> ApplyReport:
    """A run refused before it changed anything; a journal of its own is ended (not one being
    resumed: that run is still to be finished). A lock held by a run whose unfinished journal
    is here (a run killed on this machine) says how to finish that run."""
    if not entries:
        journal.note("end", refused=True)
    why = str(error)
    if isinstance(error, LockHeldError) and error.holder_run not in ("", journal.header.run_id):
        held = [
            path
            for path in unfinished_journals(journal_dir, plan.slug)
            if read_header(path).run_id == error.holder_run
        ]
        if held:
            why += (
                f"; that run's journal {held[-1]} is here, unfinished: if the run is dead, "
                f"finish it with `alma-groups apply --resume {held[-1]}` (add --break-lock if "
                "it ran on another machine)"
            )
    return ApplyReport(plan.slug, journal.header.run_id, str(journal.path), refused=why)


def rollback_journal(journal_path: Path, run: ApplyRun) -> tuple[RollbackReport, Path]:
    """Undo what an apply journal records; returns the report and rollback's own journal."""
    header, entries = read_journal(journal_path)
    if header.kind != "apply":
        raise JournalError(f"{journal_path}: not the journal of an apply")
    state = _state_of(run.desired, header.institution)
    own = JournalHeader(
        run_id=new_run_id(),
        institution=header.institution,
        plan_checksum=header.plan_checksum,
        commit=run.commit,
        tool_version=__version__,
        kind="rollback",
        of_journal=str(journal_path),
    )
    journal = Journal.create(run.journal_dir, own, crash_after=run.crash_after)
    with (
        AlmaClient.for_institution(state.institution, run.env) as client,
        AlmaLock(client, own.run_id, break_lock=run.break_lock) as lock,
    ):
        journal.guard_writes(lock.keep)
        report = rollback(client, journal, entries)
    journal.note("end", stopped=bool(report.stopped))
    return report, journal.path


def _state_of(desired: DesiredState, slug: str) -> InstitutionState:
    state = desired.get(slug)
    if state is None:
        raise JournalError(f"institution {slug!r} is not in institutions/")
    return state


def outcome_of_apply(report: ApplyReport) -> InstitutionOutcome:
    """Applied only when everything was done and a fresh plan is empty."""
    if report.refused:
        return InstitutionOutcome.REFUSED
    if report.complete:
        return InstitutionOutcome.APPLIED
    if any(group.stale for group in report.groups) and not report.failed_users:
        return InstitutionOutcome.STALE
    return InstitutionOutcome.PARTIAL
