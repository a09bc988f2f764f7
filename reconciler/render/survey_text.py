"""The survey as aligned columns for a terminal: one block per institution, then a summary.

The small phrasing helpers here (percentages, last-seen text, the summary sentence) are
shared by the other survey renderers, so every format says the same thing the same way.
"""

from __future__ import annotations

from reconciler.render.symbols import number, plural
from reconciler.survey.report import NOTE_NO_HISTORY, InstitutionSurvey, Survey, SurveyRow

DESCRIPTION_WIDTH = 32
COLUMNS = ("code", "description", "status", "enabled", "users", "active", "external", "last load")


def percent(share: float) -> str:
    return f"{share:.0%}"


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def enabled_text(row: SurveyRow) -> str:
    return f"{yes_no(row.enabled)}, default" if row.default else yes_no(row.enabled)


def last_seen_text(row: SurveyRow) -> str:
    """ "2026-08-01 (1,204)": the newest load file with the group's users in it, and how many."""
    if row.last_seen is None:
        return "no history" if NOTE_NO_HISTORY in row.notes else "never"
    return f"{row.last_seen.isoformat()} ({row.last_seen_users or 0:,})"


def candidate_text(row: SurveyRow) -> str:
    return "; ".join(row.reasons) if row.candidate else ""


def institution_heading(institution: InstitutionSurvey) -> str:
    return f"{institution.slug}: {institution.name}"


def institution_summary(institution: InstitutionSurvey) -> str:
    parts = [
        plural(len(institution.rows), "group"),
        plural(institution.total_users, "user"),
        plural(len(institution.candidates), "candidate") + " for retirement",
        plural(institution.api_calls, "API call"),
    ]
    if not institution.has_history:
        parts.append("no patron-load history")
    return ", ".join(parts)


def overall_summary(survey: Survey) -> str:
    """One sentence with the totals; every format ends (or starts) with it."""
    unread = f"; {len(survey.unread)} could not be read" if survey.unread else ""
    return (
        f"Survey: {plural(len(survey.institutions), 'institution')}, "
        f"{plural(survey.groups, 'group')}, {plural(survey.total_users, 'user')}, "
        f"{plural(survey.candidates, 'candidate')} for retirement, "
        f"{plural(survey.api_calls, 'API call')}{unread}."
    )


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _cells(row: SurveyRow) -> tuple[str, ...]:
    return (
        row.code,
        _shorten(row.description, DESCRIPTION_WIDTH),
        row.status.value,
        enabled_text(row),
        number(row.users),
        f"{row.active:,}",
        percent(row.external_share),
        last_seen_text(row),
    )


def _block(institution: InstitutionSurvey) -> list[str]:
    table = [tuple(c.upper() for c in COLUMNS), *(_cells(row) for row in institution.rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    numeric = {"users", "active", "external"}
    lines = [institution_heading(institution)]
    for cells, row in zip(table, (None, *institution.rows), strict=True):
        padded = [
            cell.rjust(width) if name in numeric else cell.ljust(width)
            for cell, width, name in zip(cells, widths, COLUMNS, strict=True)
        ]
        flag = "CANDIDATE" if row is None else ("* " + candidate_text(row) if row.candidate else "")
        lines.append(("  " + "  ".join(padded) + "  " + flag).rstrip())
        if row is not None and row.references:
            lines.append(" " * 4 + "referenced by: " + "; ".join(row.references))
    lines.append(f"  {institution_summary(institution)}")
    return lines


def render_survey(survey: Survey) -> str:
    """Every institution's groups with counts and candidate flags, then one summary line."""
    lines: list[str] = []
    for institution in survey.institutions:
        lines.extend(_block(institution))
        lines.append("")
    for slug, why in survey.unread:
        lines.append(f"could not read {slug}: {why}")
    lines.append(overall_summary(survey))
    return "\n".join(lines) + "\n"
