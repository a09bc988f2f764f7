"""Terminal text: what a person at a shell reads."""

from __future__ import annotations

from pathlib import Path

from reconciler.desired.loading import ValidationReport
from reconciler.model.plan import InstitutionPlan, Plan
from reconciler.patron_loads import IngestResult
from reconciler.render.symbols import SYMBOL, describe, details, plural

_COLOURS = {"+": "32", "~": "33", "-": "31", "→": "36", "?": "2", "!": "1;31", "dim": "2"}


def _paint(text: str, key: str, colour: bool) -> str:
    return f"\033[{_COLOURS[key]}m{text}\033[0m" if colour else text


def render_validation(report: ValidationReport) -> str:
    """Every problem on its own `file:line:col: key: message` line, then one summary line."""
    checked = (
        f"{plural(len(report.institutions_checked), 'institution')}, "
        f"{plural(report.files_checked, 'file')}"
    )
    if report.ok:
        return f"ok: {checked} valid\n"
    lines = [str(problem) for problem in report.problems]
    files = len({problem.file for problem in report.problems})
    lines.append(
        f"{plural(len(report.problems), 'problem')} in {plural(files, 'file')} ({checked} checked)"
    )
    return "\n".join(lines) + "\n"


def institution_summary(plan: InstitutionPlan) -> str:
    if not plan.has_changes and not plan.violations:
        return f"{plan.slug}: no changes"
    parts = [plural(len(plan.changes), "change")]
    if plan.users_moved:
        parts.append(f"{plan.users_moved:,} users moved")
    if plan.users_purged:
        parts.append(f"{plan.users_purged:,} purged")
    if plan.violations:
        parts.append(plural(len(plan.violations), "violation"))
    parts.append(f"~{plural(plan.api_calls, 'API call')}")
    return f"{plan.slug}: " + ", ".join(parts)


def render_plan(plan: Plan, *, colour: bool = False) -> str:
    """Changes per institution with + ~ - → symbols, violations, and summary lines."""
    lines: list[str] = []
    quiet = []
    for institution in plan.institutions:
        if not institution.has_changes and not institution.violations:
            quiet.append(institution.slug)
            continue
        lines.append(_paint(institution.slug, "!", colour))
        said_why: set[tuple[str, str]] = set()
        for change in institution.changes:
            symbol = SYMBOL[change.action]
            lines.append(f"  {_paint(symbol, symbol, colour)} {describe(change)}")
            for extra in details(change):
                lines.append(_paint(f"      {extra}", "dim", colour))
            if (change.code, change.why) not in said_why:  # once per group is enough
                said_why.add((change.code, change.why))
                lines.append(_paint(f"      why: {change.why}", "dim", colour))
        for violation in institution.violations:
            where = f" ({violation.location})" if violation.location.line else ""
            lines.append(
                _paint(f"  ! {violation.rule.value}: {violation.message}{where}", "!", colour)
            )
            lines.append(f"      way out: {violation.way_out}")
        lines.append(f"  {institution_summary(institution)}")
        lines.append("")
    if quiet:
        lines.append(f"no changes: {', '.join(quiet)}")
    lines.append(overall_summary(plan))
    return "\n".join(lines) + "\n"


def overall_summary(plan: Plan) -> str:
    changed = sum(p.has_changes for p in plan.institutions)
    if not plan.institutions:
        return "Plan: no institutions to plan."
    if not plan.has_changes and not plan.violations:
        return f"Plan: no changes in {plural(len(plan.institutions), 'institution')}."
    moved = sum(p.users_moved for p in plan.institutions)
    purged = sum(p.users_purged for p in plan.institutions)
    return (
        f"Plan: {changed} of {plural(len(plan.institutions), 'institution')} with changes, "
        f"{plural(sum(len(p.changes) for p in plan.institutions), 'change')}, "
        f"{moved:,} users moved, {purged:,} purged, "
        f"{plural(len(plan.violations), 'violation')}, ~{plural(plan.api_calls, 'API call')}."
    )


def render_ingest(result: IngestResult, history_path: Path) -> str:
    """Each file ingested (date, users, groups) or already known, then where it was written."""
    lines = []
    for item in result.added:
        lines.append(
            f"+ {item.file_name}: load of {item.file_date}, {plural(item.users, 'user')} in "
            f"{plural(len(item.users_by_group), 'group')}"
        )
    for item in result.unchanged:
        lines.append(f"= {item.file_name}: already in the history (same sha256)")
    if result.written:
        lines.append(
            f"wrote {history_path}: {plural(len(result.history.files), 'load file')}, "
            f"newest {result.history.newest_file_date()}"
        )
    else:
        lines.append(f"{history_path} unchanged")
    return "\n".join(lines) + "\n"
