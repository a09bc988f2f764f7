"""Apply and rollback reports as text (terminal, CI log) and Markdown (the merged PR).

Counts, group codes, Alma error codes and trackingIds only: never a primary ID or a name.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.apply.report import ApplyReport, GroupReport
from reconciler.apply.rollback import RollbackReport

CANNOT_UNDO = (
    "Purged users cannot be restored and deleted rows cannot come back: Alma's API has no way "
    "to undo either."
)


def _group_lines(group: GroupReport) -> list[str]:
    lines = []
    into = f' to "{group.target}"' if group.target else ""
    how = f" ({group.strategy})" if group.strategy else ""
    lines.append(
        f'  group "{group.code}": {group.moved:,} moved{into}{how}, {group.purged:,} purged'
    )
    if group.moved_instead_of_purged:
        lines.append(
            f"    {group.moved_instead_of_purged:,} moved instead of purged (loans, requests, "
            "fees or active again)"
        )
    for why, count in sorted(group.skipped.items()):
        lines.append(f"    {count:,} skipped: {why}")
    for failure in group.failures:
        tracking = f", trackingId {failure.tracking_id}" if failure.tracking_id else ""
        lines.append(f"    failed ({failure.operation}): Alma {failure.alma_code}{tracking}")
    if group.stale:
        lines.append(f"    stale: {group.stale}")
    if group.row:
        lines.append(f"    row {group.row} after a fresh census read zero")
    elif group.not_verified:
        lines.append(f"    row left enabled: {group.not_verified}")
    return lines


def _summary(report: ApplyReport) -> str:
    if report.refused:
        return f"{report.slug}: refused: {report.refused}"
    if report.stopped:
        return f"{report.slug}: stopped: {report.stopped}"
    if report.complete:
        return f"{report.slug}: applied; a fresh plan shows no changes"
    if report.fresh_plan_changes:
        return (
            f"{report.slug}: applied with problems; a fresh plan still shows "
            f"{report.fresh_plan_changes} change(s)"
        )
    return f"{report.slug}: applied with problems"


def render_apply(reports: Sequence[ApplyReport]) -> str:
    """The text report: one block per institution, then a one-line total."""
    out: list[str] = []
    for report in reports:
        out.append(_summary(report))
        if report.superseded:
            out.append(
                f"  finished interrupted run(s) {', '.join(report.superseded)}: their in-flight "
                "operations re-checked against Alma, their journals closed"
            )
        for action, codes in sorted({**report.rows, **report.mappings}.items()):
            out.append(f"  {action.replace('_', ' ')}: {', '.join(codes)}")
        for group in report.groups:
            out += _group_lines(group)
        out.append(f"  API calls used: {report.api_calls:,}; journal: {report.journal}")
    moved = sum(g.moved for r in reports for g in r.groups)
    purged = sum(g.purged for r in reports for g in r.groups)
    failed = sum(r.failed_users for r in reports)
    done = sum(r.complete for r in reports)
    out.append(
        f"Apply: {done} of {len(reports)} institution(s) complete, {moved:,} users moved, "
        f"{purged:,} purged, {failed:,} failed."
    )
    return "\n".join(out) + "\n"


def render_apply_markdown(reports: Sequence[ApplyReport]) -> str:
    """The Markdown report for the merged pull request."""
    out = ["### alma-groups apply", ""]
    out.append("| Institution | Result | Moved | Purged | Skipped | Failed | Rows | API calls |")
    out.append("|---|---|--:|--:|--:|--:|---|--:|")
    for report in reports:
        result = (
            "⛔ refused"
            if report.refused
            else "⏸ stopped"
            if report.stopped
            else "✅ done"
            if report.complete
            else "⚠️ problems"
        )
        rows = "; ".join(
            f"{action.replace('_group', '')} {', '.join(codes)}"
            for action, codes in sorted(report.rows.items())
        )
        out.append(
            f"| `{report.slug}` | {result} "
            f"| {sum(g.moved for g in report.groups):,} "
            f"| {sum(g.purged for g in report.groups):,} "
            f"| {sum(sum(g.skipped.values()) for g in report.groups):,} "
            f"| {report.failed_users:,} | {rows or '—'} | {report.api_calls:,} |"
        )
    details = [
        line
        for r in reports
        for line in ["", f"**{r.slug}**", "```", render_apply([r]).rstrip(), "```"]
    ]
    return "\n".join(out + details) + "\n"


def render_rollback(report: RollbackReport, journal: str) -> str:
    lines = [f"Rollback: {report.moved_back:,} users moved back, {report.failed:,} failed."]
    for why, count in sorted(report.skipped.items()):
        lines.append(f"  {count:,} skipped: {why}")
    for code, tracking in report.failures:
        lines.append(f"  failed: Alma {code}" + (f", trackingId {tracking}" if tracking else ""))
    if report.rows_enabled:
        lines.append(f"  rows re-enabled: {', '.join(report.rows_enabled)}")
    if report.mappings_restored:
        lines.append(f"  mapping rows restored for: {', '.join(report.mappings_restored)}")
    if report.cannot_restore_purged:
        lines.append(f"  {report.cannot_restore_purged:,} purged users cannot be restored")
    if report.cannot_restore_deleted_rows:
        rows = ", ".join(report.cannot_restore_deleted_rows)
        lines.append(f"  deleted rows cannot come back: {rows}")
    if report.stopped:
        lines.append(f"  stopped: {report.stopped}")
    lines.append(f"  journal: {journal}")
    lines.append(CANNOT_UNDO)
    return "\n".join(lines) + "\n"
