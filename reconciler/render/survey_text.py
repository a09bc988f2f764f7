"""The survey as aligned columns for a terminal: the consortium overview, one block per
institution, then a summary.

The small phrasing helpers here (percentages, last-seen text, tiers, the summary sentences)
are shared by the other survey renderers, so every format says the same thing the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.render.symbols import plural
from reconciler.survey.compare import Comparison, GroupProgress, Progress
from reconciler.survey.overview import TOTAL_FIELDS, Overview, overview
from reconciler.survey.report import NOTE_NO_HISTORY, InstitutionSurvey, Survey, SurveyRow, Tier

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
    """ "strong: empty; on FLVC's list ...": the tier first, then every reason."""
    if row.tier is None:
        return ""
    return f"{row.tier.value}: " + "; ".join(str(reason) for reason in row.reasons)


OVERVIEW_HEADINGS = ("groups", "users", "strong", "weak", "retired", "pending")
LIST_LEGEND = (
    "FLVC's commonly unused groups (N users: in use; retired in YAML: pending or deleted; "
    "disabled: in Alma; —: none)"
)


def candidates_phrase(strong: int, weak: int) -> str:
    """ "12 strong candidates for retirement (30 weak)": the headline counts strong ones."""
    return f"{plural(strong, 'strong candidate')} for retirement ({weak:,} weak)"


def overview_summary(view: Overview) -> str:
    """The overview's totals in one sentence."""
    return (
        f"Consortium overview: {plural(len(view.institutions), 'institution')}, "
        f"{plural(view.total('groups'), 'group')}, {plural(view.total('users'), 'user')}, "
        f"{candidates_phrase(view.total('strong'), view.total('weak'))}, "
        f"{plural(view.total('retired_done'), 'retirement')} done, "
        f"{view.total('retired_pending'):,} pending in the YAML."
    )


def overview_rows(view: Overview) -> list[tuple[str, ...]]:
    """Per institution: slug, then the counts of OVERVIEW_HEADINGS, then a total row."""
    rows = [
        (line.slug, *(f"{getattr(line, name):,}" for name in TOTAL_FIELDS))
        for line in view.institutions
    ]
    rows.append(("total", *(f"{view.total(name):,}" for name in TOTAL_FIELDS)))
    return rows


def list_rows(view: Overview) -> list[tuple[str, ...]]:
    """Per institution: slug, then one cell per entry of FLVC's list."""
    return [(line.slug, *(cell.text() for cell in line.flvc_list)) for line in view.institutions]


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    """Columns padded to their widest cell, the `right` ones right-aligned, indented by two."""
    table = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return [
        (
            "  "
            + "  ".join(
                cell.rjust(width) if index in right else cell.ljust(width)
                for index, (cell, width) in enumerate(zip(line, widths, strict=True))
            )
        ).rstrip()
        for line in table
    ]


def _overview_block(survey: Survey) -> list[str]:
    view = overview(survey)
    names = [entry.name.upper() for entry in view.entries]
    counts = set(range(1, len(OVERVIEW_HEADINGS) + 1))
    return [
        overview_summary(view),
        *aligned(
            ("INSTITUTION", *(h.upper() for h in OVERVIEW_HEADINGS)), overview_rows(view), counts
        ),
        "",
        LIST_LEGEND + ":",
        *aligned(("INSTITUTION", *names), list_rows(view), set()),
        "",
    ]


def institution_heading(institution: InstitutionSurvey) -> str:
    return f"{institution.slug}: {institution.name}"


def institution_summary(institution: InstitutionSurvey) -> str:
    parts = [
        plural(len(institution.rows), "group"),
        plural(institution.total_users, "user"),
        candidates_phrase(len(institution.tiered(Tier.STRONG)), len(institution.tiered(Tier.WEAK))),
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
        f"{candidates_phrase(survey.tiered(Tier.STRONG), survey.tiered(Tier.WEAK))}, "
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
        f"{row.users:,}",
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
        if row is not None and not row.in_patron_loads:
            flag = (flag + "  (assigned by hand)").lstrip()
        lines.append(("  " + "  ".join(padded) + "  " + flag).rstrip())
        if row is not None and row.references:
            lines.append(" " * 4 + "referenced by: " + "; ".join(row.references))
    lines.append(f"  {institution_summary(institution)}")
    return lines


def render_survey(survey: Survey) -> str:
    """The consortium overview, every institution's groups with counts and candidate flags,
    then one summary line."""
    lines = _overview_block(survey)
    for institution in survey.institutions:
        lines.extend(_block(institution))
        lines.append("")
    for slug, why in survey.unread:
        lines.append(f"could not read {slug}: {why}")
    lines.append(overall_summary(survey))
    return "\n".join(lines) + "\n"


def comparison_summary(comparison: Comparison) -> str:
    """The comparison's totals in one sentence."""
    return (
        f"Since the survey of {comparison.since.isoformat()} "
        f"({plural(len(comparison.institutions), 'institution')} surveyed both times): "
        f"{plural(comparison.count(Progress.RETIRED), 'group')} retired in the YAML, "
        f"{comparison.count(Progress.DISABLED):,} disabled in Alma, "
        f"{comparison.count(Progress.DELETED):,} deleted, "
        f"{plural(comparison.users_moved_out, 'user')} moved out of candidate or retired groups, "
        f"{plural(comparison.count(Progress.NEW), 'new group')}."
    )


COMPARISON_COLUMNS = ("institution", "code", "description", "change", "users then", "users now")


def comparison_cells(change: GroupProgress) -> tuple[str, ...]:
    return (
        change.slug,
        change.code,
        change.description,
        change.kind.value,
        "" if change.users_before is None else f"{change.users_before:,}",
        "" if change.users_after is None else f"{change.users_after:,}",
    )


def render_comparison(comparison: Comparison) -> str:
    """The summary sentence, then one aligned line per change (none: says so)."""
    lines = [comparison_summary(comparison)]
    if comparison.changes:
        header = tuple(column.upper() for column in COMPARISON_COLUMNS)
        rows = [comparison_cells(change) for change in comparison.changes]
        lines += aligned(header, rows, {4, 5})
    else:
        lines.append("  nothing changed")
    return "\n".join(lines) + "\n"
