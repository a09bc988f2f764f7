"""Terminal text: what a person at a shell reads."""

from __future__ import annotations

from pathlib import Path

from reconciler.desired.loading import ValidationReport
from reconciler.model.plan import Plan
from reconciler.patron_loads import IngestResult
from reconciler.render.symbols import (
    change_lines,
    institution_summary,
    is_quiet,
    overall_summary,
    plural,
)

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


def render_plan(plan: Plan, *, colour: bool = False) -> str:
    """Changes per institution with + ~ - → symbols, violations, and summary lines."""
    lines: list[str] = []
    for institution in plan.institutions:
        if is_quiet(institution):
            continue
        lines.append(_paint(institution.slug, "!", colour))
        for line in change_lines(institution.changes):
            lines.append(f"  {_paint(line.symbol, line.symbol, colour)} {line.text}")
            for extra in line.details:
                lines.append(_paint(f"      {extra}", "dim", colour))
            if line.why is not None:
                lines.append(_paint(f"      why: {line.why}", "dim", colour))
        for violation in institution.violations:
            where = f" ({violation.location})" if violation.location.line else ""
            lines.append(
                _paint(f"  ! {violation.rule.value}: {violation.message}{where}", "!", colour)
            )
            lines.append(f"      way out: {violation.way_out}")
        lines.append(f"  {institution_summary(institution)}")
        lines.append("")
    quiet = [p.slug for p in plan.institutions if is_quiet(p)]
    if quiet:
        lines.append(f"no changes: {', '.join(quiet)}")
    lines.append(overall_summary(plan))
    return "\n".join(lines) + "\n"


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
