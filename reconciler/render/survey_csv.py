"""The survey as CSV for a spreadsheet (RFC 4180): one long table, the overview first.

One table keeps the file one RFC 4180 table that any reader parses: the `row` column says what
each line is. The first lines (`row` = institution) are the consortium overview, one per
institution with its counts and FLVC's commonly unused groups; the group lines (`row` = group)
follow, one per institution and group. Columns that do not apply to a line are left empty, so
a spreadsheet filter on `row` shows either table.
"""

from __future__ import annotations

import csv
import io
import re

from reconciler.survey.commonly_unused import COMMONLY_UNUSED
from reconciler.survey.overview import InstitutionOverview, ListState, overview
from reconciler.survey.report import Survey, SurveyRow

LIST_COLUMNS = tuple(
    "flvc_" + re.sub(r"[^a-z0-9]+", "_", entry.name.lower()) for entry in COMMONLY_UNUSED
)
OVERVIEW_COLUMNS = (
    "groups",
    "strong_candidates",
    "weak_candidates",
    "retired_done",
    "retired_pending",
    *LIST_COLUMNS,
)
GROUP_COLUMNS = (
    "code",
    "description",
    "status",
    "enabled",
    "default",
    "in_patron_loads",
    "active_users",
    "external_share",
    "last_seen",
    "last_seen_users",
    "references",
    "candidate",
    "tier",
    "reasons",
    "notes",
)
COLUMNS = ("row", "institution", "institution_name", "users", *OVERVIEW_COLUMNS, *GROUP_COLUMNS)
LIST_SEPARATOR = "; "


def _neutralised(text: str) -> str:
    """Text a spreadsheet will not run as a formula (a description could start with "=")."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _overview_record(line: InstitutionOverview) -> dict[str, str]:
    cells = {
        column: "absent" if cell.state is ListState.ABSENT else cell.text()
        for column, cell in zip(LIST_COLUMNS, line.flvc_list, strict=True)
    }
    return {
        "row": "institution",
        "institution": line.slug,
        "institution_name": _neutralised(line.name),
        "users": str(line.users),
        "groups": str(line.groups),
        "strong_candidates": str(line.strong),
        "weak_candidates": str(line.weak),
        "retired_done": str(line.retired_done),
        "retired_pending": str(line.retired_pending),
        **cells,
    }


def _group_record(name: str, row: SurveyRow) -> dict[str, str]:
    return {
        "row": "group",
        "institution": row.slug,
        "institution_name": _neutralised(name),
        "users": str(row.users),
        "code": _neutralised(row.code),
        "description": _neutralised(row.description),
        "status": row.status.value,
        "enabled": _yes_no(row.enabled),
        "default": _yes_no(row.default),
        "in_patron_loads": _yes_no(row.in_patron_loads),
        "active_users": str(row.active),
        "external_share": f"{row.external_share:.3f}",
        "last_seen": row.last_seen.isoformat() if row.last_seen else "",
        "last_seen_users": "" if row.last_seen_users is None else str(row.last_seen_users),
        "references": _neutralised(LIST_SEPARATOR.join(row.references)),
        "candidate": _yes_no(row.candidate),
        "tier": row.tier.value if row.tier else "",
        "reasons": LIST_SEPARATOR.join(str(reason) for reason in row.reasons),
        "notes": LIST_SEPARATOR.join(row.notes),
    }


def render_survey(survey: Survey) -> str:
    """A header, a line per institution, then a line per group; CRLF and RFC 4180 quoting."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, restval="", lineterminator="\r\n")
    writer.writeheader()
    for line in overview(survey).institutions:
        writer.writerow(_overview_record(line))
    for institution in survey.institutions:
        for row in institution.rows:
            writer.writerow(_group_record(institution.name, row))
    return buffer.getvalue()
