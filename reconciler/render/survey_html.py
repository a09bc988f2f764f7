"""The survey as one self-contained HTML file: the consortium overview, then a bar chart per
institution.

For people who would rather look than read: the overview (survey_html_overview) opens the
page; then per institution a horizontal bar per group (users, largest first), coloured by the
group's status in the YAML (kept, retired, unmanaged), with the status, the candidate tier and
its reasons also in words beside the bar (colour alone fails some readers), then the same
numbers as a table with scoped header cells. Everything is inline: CSS in <style>, charts as
inline SVG with <title> text alternatives, no scripts, fonts, images or URLs, so the file can
be mailed, attached to a ticket or opened offline. Colours keep 4.5:1 contrast for text and
3:1 for bars on white. The print stylesheet hides the jump list, keeps the colours, starts
each institution on a new page and keeps a chart on one page. Every piece of text is escaped.
"""

from __future__ import annotations

from html import escape

from reconciler.render.survey_html_overview import overview_section
from reconciler.render.survey_text import (
    candidate_text,
    enabled_text,
    institution_summary,
    last_seen_text,
    overall_summary,
    percent,
)
from reconciler.survey.overview import overview
from reconciler.survey.report import GroupStatus, InstitutionSurvey, Survey, SurveyRow, Tier

CHART_WIDTH = 900
LABEL_WIDTH = 280  # code and description, right-aligned against the bars
COUNT_SPACE = 300  # room after the longest bar for its count, status and candidate mark
ROW_HEIGHT = 22
BAR_HEIGHT = 15
LABEL_CHARS = 36

STYLE = """
:root { --kept: #2f6596; --retired: #6e7781; --unmanaged: #8250df; --strong: #a84a00;
  --weak: #d9a441; --other: #2f6596; --ink: #1f2328; --muted: #59636e; --rule: #d1d9e0;
  --band: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: #fff; margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 0; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
a { color: #0b5cad; }
.muted { color: var(--muted); }
.legend span { display: inline-block; margin-right: 18px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
  vertical-align: -1px; margin-right: 6px; }
.kept { background: var(--kept); } .retired { background: var(--retired); }
.unmanaged { background: var(--unmanaged); }
.seg-strong { background: var(--strong); } .seg-weak { background: var(--weak); }
.seg-retired { background: var(--retired); } .seg-other { background: var(--other); }
section { margin: 28px 0; }
figure { margin: 10px 0; }
figcaption { font-size: 13px; }
svg { max-width: 100%; height: auto; }  /* the viewBox keeps it legible when narrower */
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: var(--ink); }
svg .bar-kept { fill: var(--kept); } svg .bar-retired { fill: var(--retired); }
svg .bar-unmanaged { fill: var(--unmanaged); }
svg rect.seg-strong { fill: var(--strong); } svg rect.seg-weak { fill: var(--weak); }
svg rect.seg-retired { fill: var(--retired); } svg rect.seg-other { fill: var(--other); }
svg .mark-strong { fill: var(--strong); font-weight: 600; }
svg .mark-weak { fill: var(--muted); }
svg .band { fill: var(--band); }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 12px 0; }
caption { text-align: left; color: var(--muted); padding-bottom: 4px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--rule);
  vertical-align: top; }
thead th { border-bottom: 2px solid var(--ink); }
tbody th { font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n, td.nw { white-space: nowrap; }
td.why { min-width: 12em; }
tr.tier-strong > :first-child { border-left: 4px solid var(--strong); }
tr.tier-weak > :first-child { border-left: 4px dashed var(--weak); }
.matrix td.list-present { font-weight: 600; }
.matrix td.list-absent, .matrix td.list-disabled { color: var(--muted); }
details { margin: 6px 0; } summary { cursor: pointer; color: var(--muted); }
nav ul { columns: 3; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  figure, tr { break-inside: avoid; }
  main > section { break-before: page; }
  main > section#overview { break-before: auto; }
  h2 { break-after: avoid; }
}
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _short_reasons(row: SurveyRow) -> str:
    """Beside a bar there is room for a few words: the full reasons are in its tooltip."""
    return f"{row.tier}: " + ", ".join(reason.short for reason in row.reasons)


def _bar_label(row: SurveyRow) -> str:
    return f"{row.code} · {row.description}" if row.description else row.code


def _bar_words(row: SurveyRow) -> str:
    """What a screen reader (and a hover tooltip) says for one bar."""
    said = f"{_bar_label(row)}: {row.users:,} users, {row.active:,} active, {row.status.value}"
    if not row.enabled:
        said += ", disabled in Alma"
    if not row.in_patron_loads:
        said += ", assigned by hand"
    return f"{said}; candidate for retirement, {candidate_text(row)}" if row.candidate else said


def _bar_text(row: SurveyRow) -> str:
    """The words after a bar: its users, its status unless kept, and its candidate mark."""
    status = "" if row.status is GroupStatus.KEPT else f" · {_e(row.status.value)}"
    if row.tier is None:
        return f"{row.users:,}{status}"
    symbol = "◆" if row.tier is Tier.STRONG else "◇"
    return (
        f"{row.users:,}{status} "
        f'<tspan class="mark-{row.tier.value}">{symbol} {_e(_short_reasons(row))}</tspan>'
    )


def _chart(institution: InstitutionSurvey) -> str:
    rows = sorted(institution.rows, key=lambda r: (-r.users, r.code))
    most = max((row.users for row in rows), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - COUNT_SPACE
    height = ROW_HEIGHT * len(rows) + 8
    title = f"Users per group at {institution.name}, coloured by status in the YAML"
    slug = _e(institution.slug)
    parts = [
        f'<svg role="img" aria-labelledby="chart-{slug}" width="{CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}">',
        f'<title id="chart-{slug}">{_e(title)}</title>',
    ]
    for index, row in enumerate(rows):
        top = 4 + index * ROW_HEIGHT
        middle = top + ROW_HEIGHT / 2 + 4
        width = round(span * row.users / most, 1)
        width = max(width, 2.0) if row.users else 0.0  # a one-user group is still visible
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
            f'<rect class="bar-{row.status.value}" x="{LABEL_WIDTH}" '
            f'y="{top + (ROW_HEIGHT - BAR_HEIGHT) / 2}" width="{width}" height="{BAR_HEIGHT}" '
            f'rx="2" role="img" aria-label="{words}"><title>{words}</title></rect>'
        )
        parts.append(f'<text x="{LABEL_WIDTH + width + 6}" y="{middle}">{_bar_text(row)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


TABLE_COLUMNS = (
    ("code", ""),
    ("description", ""),
    ("status", ""),
    ("enabled", ""),
    ("users", ' class="n"'),
    ("active", ' class="n"'),
    ("external", ' class="n"'),
    ("last patron load", ""),
    ("referenced by", ""),
    ("candidate for retirement", ""),
)


def _table(institution: InstitutionSurvey) -> str:
    head = "".join(f'<th scope="col"{css}>{name}</th>' for name, css in TABLE_COLUMNS)
    body = []
    for row in institution.rows:
        css = f' class="tier-{row.tier.value}"' if row.tier else ""
        status = row.status.value + ("" if row.in_patron_loads else ", assigned by hand")
        cells = (
            f'<th scope="row">{_e(row.code)}</th><td>{_e(row.description)}</td>'
            f'<td>{_e(status)}</td><td class="nw">{_e(enabled_text(row))}</td>'
            f'<td class="n">{row.users:,}</td><td class="n">{row.active:,}</td>'
            f'<td class="n">{percent(row.external_share)}</td>'
            f'<td class="nw">{_e(last_seen_text(row))}</td>'
            f"<td>{_e('; '.join(row.references))}</td>"
            f'<td class="why">{_e(candidate_text(row))}</td>'
        )
        body.append(f"<tr{css}>{cells}</tr>")
    return (
        f"<table><caption>The {len(institution.rows)} groups of {_e(institution.name)}"
        f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
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
    links = "".join(
        f'<li><a href="#{_e(i.slug)}">{_e(i.name)}</a></li>' for i in survey.institutions
    )
    return (
        "<nav aria-label='Institutions'><details><summary>Jump to an institution</summary>"
        f"<ul>{links}</ul></details></nav>"
    )


LEGEND = (
    '<p class="legend"><span><i class="swatch kept" aria-hidden="true"></i>kept</span>'
    '<span><i class="swatch retired" aria-hidden="true"></i>retired in the YAML</span>'
    '<span><i class="swatch unmanaged" aria-hidden="true"></i>unmanaged (listed nowhere)</span>'
    "</p><p class='legend'><span>◆ strong candidate for retirement: empty, no active users, "
    "or on FLVC's list of commonly unused groups</span><span>◇ weak candidate: only absent "
    "from recent patron loads</span></p>"
)


def render_survey(survey: Survey) -> str:
    """The whole report as one HTML document (UTF-8), counts only: the overview first."""
    title = f"User-group survey, {survey.today.isoformat()}"
    unread = "".join(
        f"<li>could not read <strong>{_e(slug)}</strong>: {_e(why)}</li>"
        for slug, why in survey.unread
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
            f"<header><h1>{_e(title)}</h1><p>{_e(overall_summary(survey))}</p>",
            f"<ul>{unread}</ul>" if unread else "",
            f"{_contents(survey)}</header><main>",
            overview_section(overview(survey)),
            f"<p class='muted'>Bars of each institution's chart:</p>{LEGEND}"
            if survey.institutions
            else "",
            *(_section(institution) for institution in survey.institutions),
            "</main></body></html>",
            "",
        ]
    )
