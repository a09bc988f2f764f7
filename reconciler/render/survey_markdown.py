"""The survey as Markdown: a table per institution, for an issue, a PR or a shared document."""

from __future__ import annotations

from reconciler.render.survey_text import (
    enabled_text,
    institution_summary,
    last_seen_text,
    overall_summary,
    percent,
)
from reconciler.render.symbols import number
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


def _row(row: SurveyRow) -> str:
    candidate = "**yes**: " + "; ".join(row.reasons) if row.candidate else ""
    cells = (
        _code(row.code),
        _escape(row.description),
        row.status.value,
        enabled_text(row),
        number(row.users),
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
    """A heading and summary, then one table per institution; counts only."""
    lines = [
        f"# User-group survey, {survey.today.isoformat()}",
        "",
        _escape(overall_summary(survey)),
        "",
    ]
    if survey.unread:
        lines += [f"- could not read `{slug}`: {_escape(why)}" for slug, why in survey.unread]
        lines.append("")
    for institution in survey.institutions:
        lines.extend(_section(institution))
    return "\n".join(lines)
