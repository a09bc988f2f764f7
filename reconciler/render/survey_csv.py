"""The survey as CSV: one row per institution and group, for a spreadsheet (RFC 4180)."""

from __future__ import annotations

import csv
import io

from reconciler.survey.report import Survey, SurveyRow

COLUMNS = (
    "institution",
    "institution_name",
    "code",
    "description",
    "status",
    "enabled",
    "default",
    "users",
    "active_users",
    "external_share",
    "last_seen",
    "last_seen_users",
    "references",
    "candidate",
    "reasons",
    "notes",
)
LIST_SEPARATOR = "; "


def _neutralised(text: str) -> str:
    """Text a spreadsheet will not run as a formula (a description could start with "=")."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _record(name: str, row: SurveyRow) -> tuple[str, ...]:
    return (
        row.slug,
        _neutralised(name),
        _neutralised(row.code),
        _neutralised(row.description),
        row.status.value,
        "yes" if row.enabled else "no",
        "yes" if row.default else "no",
        "" if row.users is None else str(row.users),  # unknown: empty, never 0
        str(row.active),
        f"{row.external_share:.3f}",
        row.last_seen.isoformat() if row.last_seen else "",
        "" if row.last_seen_users is None else str(row.last_seen_users),
        _neutralised(LIST_SEPARATOR.join(row.references)),
        "yes" if row.candidate else "no",
        LIST_SEPARATOR.join(row.reasons),
        LIST_SEPARATOR.join(row.notes),
    )


def render_survey(survey: Survey) -> str:
    """A header row, then a row per group; CRLF line ends and quoting as RFC 4180 has them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for institution in survey.institutions:
        for row in institution.rows:
            writer.writerow(_record(institution.name, row))
    return buffer.getvalue()
