"""Drift across institutions: plan main against live Alma, then explain each difference.

The plan is made exactly as `plan` makes it; its changes and unmanaged groups are the
differences. Each institution's apply journals (local files, or the artifacts a CI job
downloaded) are reduced to `AppliedRun`s, counts and codes only, and `planning.drift` weighs
them with the patron-load history and the last SIS run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

from reconciler.apply.journal import operations, read_journal
from reconciler.model import DesiredState
from reconciler.model.plan import InstitutionPlan, Rule
from reconciler.planning.drift import AppliedRun, Difference, DriftFacts, InstitutionDrift, classify
from reconciler.render.symbols import describe
from reconciler.runs.reads import ReadResult, plan_institutions

FAILED = "failed"


def applied_run(path: Path) -> AppliedRun:
    """What one journal tells drift: when it ran, whether it finished, which groups it touched."""
    header, entries = read_journal(path)
    times = [_moment(e.data.get("at")) for e in entries]
    known = [t for t in times if t is not None]
    started = min(known, default=None) or _run_id_time(header.run_id)
    finished = next(
        (_moment(e.data.get("at")) for e in entries if e.event == "note" and e.op == "end"), None
    )
    codes: set[str] = set()
    failed: set[str] = set()
    for operation in operations(entries):
        touched = _codes(operation.intent)
        codes |= touched
        if operation.outcome is not None and operation.outcome.get("status") == FAILED:
            failed |= touched
    return AppliedRun(
        header.institution, header.run_id, started, finished, frozenset(codes), frozenset(failed)
    )


def _codes(intent: Mapping[str, object]) -> set[str]:
    """Group codes an operation's intent names: a user's group before, or table rows."""
    found = {str(intent[k]) for k in ("group_before", "code", "source") if intent.get(k)}
    actions = intent.get("actions")  # table writes: {action: [codes]}
    if isinstance(actions, Mapping):
        found |= {str(c) for codes in actions.values() if isinstance(codes, list) for c in codes}
    rows = intent.get("rows_removed")
    if isinstance(rows, list):
        found |= {str(r.get("user_group")) for r in rows if isinstance(r, Mapping)}
    return {c for c in found if c and c != "None"}


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _run_id_time(run_id: str) -> datetime:
    try:
        return datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def applied_runs(journal_dir: Path, slug: str) -> list[AppliedRun]:
    """Every journal of institution `slug` in `journal_dir` (none: the tool never applied)."""
    if not journal_dir.is_dir():
        return []
    return [applied_run(path) for path in sorted(journal_dir.glob(f"{slug}-*.jsonl"))]


def differences(plan: InstitutionPlan) -> list[Difference]:
    """The drift plan's changes and unmanaged groups, each as a difference to explain."""
    found = [Difference(c.action, c.code, describe(c)) for c in plan.changes]
    found += [
        Difference(v.rule, v.code, v.message)
        for v in plan.violations
        if v.rule is Rule.UNMANAGED_GROUP
    ]
    return found


def drift_institutions(
    root: Path,
    desired: DesiredState,
    env: Mapping[str, str],
    *,
    today: date,
    journal_dir: Path,
    commit: str | None,
) -> tuple[list[InstitutionDrift], ReadResult]:
    """Drift of every readable institution of `desired`, with its likely causes."""
    plan, result = plan_institutions(root, desired, env, today=today, commit=commit)
    by_slug = {s.institution.slug: s for s in desired.institutions}
    report = []
    for institution_plan in plan.institutions:
        slug = institution_plan.slug
        facts = DriftFacts(
            live=result.live[slug],
            history=result.histories.get(slug),
            runs=applied_runs(journal_dir, slug),
            lookback_days=by_slug[slug].institution.patron_load.lookback_days,
            today=today,
        )
        report.append(classify(slug, differences(institution_plan), facts))
    return report, result
