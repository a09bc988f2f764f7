"""The survey as Markdown, for an issue, a PR or a shared document: the consortium overview
(two tables), then a table per institution."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.render.survey_text import (
    COMPARISON_COLUMNS,
    LIST_LEGEND,
    OVERVIEW_HEADINGS,
    comparison_cells,
    comparison_summary,
    enabled_text,
    institution_summary,
    last_seen_text,
    list_rows,
    overall_summary,
    overview_rows,
    overview_summary,
    percent,
)
from reconciler.survey.compare import Comparison
from reconciler.survey.overview import overview
from reconciler.survey.report import InstitutionSurvey, Survey, SurveyRow

HEADER = (
    "| code | description | status | enabled | users | active | external | last patron load "
    "| referenced by | candidate for retirement |"
)
ALIGNMENT = "|---|---|---|---|---:|---:|---:|---|---|---|"


def _escape(text: str) -> str:
    """Table-safe text: a pipe would split the cell, angle brackets would become HTML."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", " ")
    )


def _code(code: str) -> str:
    return f"`{code}`" if "`" not in code else _escape(code)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], counts: bool) -> list[str]:
    """A Markdown table; with `counts`, every column after the first is right-aligned."""
    align = ["---", *(["---:" if counts else "---"] * (len(header) - 1))]
    return [
        "| " + " | ".join(_escape(cell) for cell in header) + " |",
        "|" + "|".join(align) + "|",
        *("| " + " | ".join(_escape(cell) for cell in row) + " |" for row in rows),
    ]


def _overview(survey: Survey) -> list[str]:
    view = overview(survey)
    return [
        "## Consortium overview",
        "",
        overview_summary(view),
        "",
        *_table(("institution", *OVERVIEW_HEADINGS), overview_rows(view), counts=True),
        "",
        LIST_LEGEND + ".",
        "",
        *_table(("institution", *(e.name for e in view.entries)), list_rows(view), counts=False),
        "",
    ]


def _row(row: SurveyRow) -> str:
    candidate = f"**{row.tier}**: " + "; ".join(map(str, row.reasons)) if row.tier else ""
    if not row.in_patron_loads:
        candidate = (candidate + " (assigned by hand)").strip()
    cells = (
        _code(row.code),
        _escape(row.description),
        row.status.value,
        enabled_text(row),
        f"{row.users:,}",
        f"{row.active:,}",
        percent(row.external_share),
        last_seen_text(row),
        _escape("; ".join(row.references)),
        _escape(candidate),
    )
    return "| " + " | ".join(cells) + " |"


def _section(institution: InstitutionSurvey) -> list[str]:
    return [
        f"## `{institution.slug}` {_escape(institution.name)}",
        "",
        institution_summary(institution) + ".",
        "",
        HEADER,
        ALIGNMENT,
        *(_row(row) for row in institution.rows),
        "",
    ]


def render_survey(survey: Survey) -> str:
    """A heading and summary, the consortium overview, then one table per institution;
    counts only."""
    lines = [
        f"# User-group survey, {survey.today.isoformat()}",
        "",
        _escape(overall_summary(survey)),
        "",
    ]
    if survey.unread:
        lines += [f"- could not read `{slug}`: {_escape(why)}" for slug, why in survey.unread]
        lines.append("")
    lines.extend(_overview(survey))
    for institution in survey.institutions:
        lines.extend(_section(institution))
    return "\n".join(lines)


def render_comparison(comparison: Comparison) -> str:
    """A heading, the summary sentence and a table of the changes."""
    lines = [
        f"# User-group survey, {comparison.today.isoformat()}, compared",
        "",
        _escape(comparison_summary(comparison)),
        "",
    ]
    if comparison.changes:
        rows = [comparison_cells(change) for change in comparison.changes]
        lines += _table(COMPARISON_COLUMNS, rows, counts=False)
        lines.append("")
    return "\n".join(lines)
