"""The survey as one self-contained HTML file, with a bar chart per institution.

For people who would rather look than read: per institution, a horizontal bar per group
(users, largest first), candidates for retirement in another colour and marked in words too
(colour alone fails some readers), then the same numbers as a table. Everything is inline:
CSS in <style>, charts as inline SVG, no scripts, fonts, images or URLs, so the file can be
mailed, attached to a ticket or opened offline. Every piece of text is escaped.
"""

from __future__ import annotations

from html import escape

from reconciler.render.survey_text import (
    candidate_text,
    enabled_text,
    institution_summary,
    last_seen_text,
    overall_summary,
    percent,
)
from reconciler.render.symbols import number
from reconciler.survey.report import (
    REASON_COMMONLY_UNUSED,
    REASON_EMPTY,
    REASON_NO_ACTIVE_USERS,
    GroupStatus,
    InstitutionSurvey,
    Survey,
    SurveyRow,
)

CHART_WIDTH = 900
LABEL_WIDTH = 280  # code and description, right-aligned against the bars
COUNT_SPACE = 250  # room after the longest bar for its count and the candidate mark
ROW_HEIGHT = 22
BAR_HEIGHT = 15
LABEL_CHARS = 36

STYLE = """
:root { --in-use: #3a6ea5; --candidate: #d2601a; --ink: #1f2328; --muted: #59636e;
  --rule: #d1d9e0; --band: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); margin: 0 auto; max-width: 980px; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 0; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
.muted { color: var(--muted); }
.legend span { display: inline-block; margin-right: 18px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
  vertical-align: -1px; margin-right: 6px; }
.in-use { background: var(--in-use); } .candidate { background: var(--candidate); }
section { margin: 28px 0; }
figure { margin: 10px 0; }
svg { max-width: 100%; height: auto; }  /* the viewBox keeps it legible when narrower */
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: var(--ink); }
svg .bar-in-use { fill: var(--in-use); } svg .bar-candidate { fill: var(--candidate); }
svg .mark { fill: var(--candidate); font-weight: 600; }
svg .band { fill: var(--band); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--rule);
  vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n, td.nw { white-space: nowrap; }
tr.is-candidate td:first-child { border-left: 4px solid var(--candidate); }
details { margin-top: 6px; } summary { cursor: pointer; color: var(--muted); }
nav table td:first-child a { font-weight: 600; }
@media print { details > summary { display: none; } details { display: block; } }
"""


# beside a bar there is room for a few words: the full reasons are in its tooltip and the table
SHORT_REASONS = {
    REASON_EMPTY: "empty",
    REASON_NO_ACTIVE_USERS: "no active users",
    REASON_COMMONLY_UNUSED: "FLVC list",
}
NOT_IN_LOADS = "not in recent loads"


def _short_reasons(row: SurveyRow) -> str:
    return ", ".join(SHORT_REASONS.get(reason, NOT_IN_LOADS) for reason in row.reasons)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _bar_label(row: SurveyRow) -> str:
    return f"{row.code} · {row.description}" if row.description else row.code


def _bar_words(row: SurveyRow) -> str:
    """What a screen reader (and a hover tooltip) says for one bar."""
    said = f"{_bar_label(row)}: {number(row.users)} users, {row.active:,} active"
    if not row.enabled:
        said += ", disabled in Alma"
    if row.status is not GroupStatus.KEPT:
        said += f", {row.status.value} in the YAML"
    return f"{said}; candidate for retirement: {candidate_text(row)}" if row.candidate else said


def _chart(institution: InstitutionSurvey) -> str:
    rows = sorted(institution.rows, key=lambda r: (-(r.users or 0), r.code))
    most = max((row.users or 0 for row in rows), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - COUNT_SPACE
    height = ROW_HEIGHT * len(rows) + 8
    title = f"Users per group at {institution.name}"
    slug = _e(institution.slug)
    parts = [
        f'<svg role="img" aria-labelledby="chart-{slug}" width="{CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}">',
        f'<title id="chart-{slug}">{_e(title)}</title>',
    ]
    for index, row in enumerate(rows):
        top = 4 + index * ROW_HEIGHT
        middle = top + ROW_HEIGHT / 2 + 4
        width = round(span * (row.users or 0) / most, 1)  # unknown: no bar, labelled so
        width = max(width, 2.0) if row.users else 0.0  # a one-user group is still visible
        kind = "candidate" if row.candidate else "in-use"
        if index % 2:
            parts.append(
                f'<rect class="band" x="0" y="{top}" width="{CHART_WIDTH}" height="{ROW_HEIGHT}"/>'
            )
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{middle}" text-anchor="end">'
            f"{_e(_short(_bar_label(row), LABEL_CHARS))}</text>"
        )
        words = _e(_bar_words(row))
        parts.append(
            f'<rect class="bar-{kind}" x="{LABEL_WIDTH}" y="{top + (ROW_HEIGHT - BAR_HEIGHT) / 2}"'
            f' width="{width}" height="{BAR_HEIGHT}" rx="2" role="img" aria-label="{words}">'
            f"<title>{words}</title></rect>"
        )
        mark = f' <tspan class="mark">◆ {_e(_short_reasons(row))}</tspan>' if row.candidate else ""
        parts.append(
            f'<text x="{LABEL_WIDTH + width + 6}" y="{middle}">{number(row.users)}{mark}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _table(institution: InstitutionSurvey) -> str:
    head = (
        "<tr><th>code</th><th>description</th><th>status</th><th>enabled</th>"
        '<th class="n">users</th><th class="n">active</th><th class="n">external</th>'
        "<th>last patron load</th><th>referenced by</th><th>candidate for retirement</th></tr>"
    )
    body = []
    for row in institution.rows:
        css = ' class="is-candidate"' if row.candidate else ""
        cells = (
            f"<td>{_e(row.code)}</td><td>{_e(row.description)}</td>"
            f'<td>{_e(row.status.value)}</td><td class="nw">{_e(enabled_text(row))}</td>'
            f'<td class="n">{number(row.users)}</td><td class="n">{row.active:,}</td>'
            f'<td class="n">{percent(row.external_share)}</td>'
            f'<td class="nw">{_e(last_seen_text(row))}</td>'
            f"<td>{_e('; '.join(row.references))}</td><td>{_e(candidate_text(row))}</td>"
        )
        body.append(f"<tr{css}>{cells}</tr>")
    return (
        f"<details><summary>Table of the {len(institution.rows)} groups</summary>"
        f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table></details>"
    )


def _section(institution: InstitutionSurvey) -> str:
    slug = _e(institution.slug)
    return (
        f'<section id="{slug}" aria-labelledby="heading-{slug}">'
        f'<h2 id="heading-{slug}">{_e(institution.name)} <span class="muted">({slug})</span></h2>'
        f'<p class="muted">{_e(institution_summary(institution))}</p>'
        f"<figure>{_chart(institution)}</figure>{_table(institution)}</section>"
    )


def _contents(survey: Survey) -> str:
    rows = "".join(
        f'<tr><td><a href="#{_e(i.slug)}">{_e(i.slug)}</a></td><td>{_e(i.name)}</td>'
        f'<td class="n">{len(i.rows):,}</td><td class="n">{number(i.total_users)}</td>'
        f'<td class="n">{len(i.candidates):,}</td></tr>'
        for i in survey.institutions
    )
    return (
        "<nav aria-label='Institutions'><details><summary>All institutions</summary><table>"
        '<thead><tr><th>slug</th><th>institution</th><th class="n">groups</th>'
        '<th class="n">users</th><th class="n">candidates</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></details></nav>"
    )


def render_survey(survey: Survey) -> str:
    """The whole report as one HTML document (UTF-8), counts only."""
    title = f"User-group survey, {survey.today.isoformat()}"
    unread = "".join(
        f"<li>could not read <strong>{_e(slug)}</strong>: {_e(why)}</li>"
        for slug, why in survey.unread
    )
    legend = (
        '<p class="legend"><span><i class="swatch in-use"></i>group in use</span>'
        '<span><i class="swatch candidate"></i>◆ candidate for retirement (empty, no active '
        "users, absent from recent patron loads, or on FLVC's list of commonly unused groups)"
        "</span></p>"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
            f"<header><h1>{_e(title)}</h1><p>{_e(overall_summary(survey))}</p>{legend}",
            f"<ul>{unread}</ul>" if unread else "",
            f"{_contents(survey)}</header><main>",
            *(_section(institution) for institution in survey.institutions),
            "</main></body></html>",
            "",
        ]
    )
