"""The consortium overview of the HTML survey: a chart of every institution, then two tables.

The chart draws one stacked bar per institution: its groups split into strong candidates,
weak candidates, groups retired in the YAML and the rest, with the counts in words at the end
of each bar (colour alone fails some readers) and a text alternative in the SVG's <title> and
<desc>. The tables below it carry the same numbers for screen readers and for print, with
header cells scoped to their column or row.
"""

from __future__ import annotations

from html import escape

from reconciler.render.survey_text import LIST_LEGEND, OVERVIEW_HEADINGS, overview_summary
from reconciler.survey.overview import TOTAL_FIELDS, InstitutionOverview, ListState, Overview

CHART_WIDTH = 900
SLUG_WIDTH = 90
WORDS_WIDTH = 280  # room after the longest bar for "12 strong, 5 weak, 3 retired of 30"
ROW_HEIGHT = 20
BAR_HEIGHT = 13

# (css class, what it counts, legend words); the order of the segments in a bar
SEGMENTS = (
    ("seg-strong", "strong", "strong candidates"),
    ("seg-weak", "weak", "weak candidates"),
    ("seg-retired", "retired", "retired in the YAML (pending or done)"),
    ("seg-other", "other", "other groups"),
)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _retired_rows(line: InstitutionOverview) -> int:
    """Retired groups still in Alma's table (a deleted row is no bar segment)."""
    return line.retired_pending + line.retired_done - line.deleted


def _counts(line: InstitutionOverview) -> dict[str, int]:
    retired = _retired_rows(line)
    return {
        "strong": line.strong,
        "weak": line.weak,
        "retired": retired,
        "other": max(line.groups - line.strong - line.weak - retired, 0),
    }


def _words(line: InstitutionOverview) -> str:
    counts = _counts(line)
    return (
        f"{counts['strong']} strong, {counts['weak']} weak, {counts['retired']} retired "
        f"of {line.groups} groups"
    )


def overview_chart(view: Overview) -> str:
    """One stacked bar per institution, scaled to the institution with the most groups."""
    most = max((line.groups for line in view.institutions), default=0) or 1
    span = CHART_WIDTH - SLUG_WIDTH - WORDS_WIDTH
    height = ROW_HEIGHT * len(view.institutions) + 8
    summary = overview_summary(view)
    parts = [
        f'<svg role="img" aria-labelledby="overview-title overview-desc" width="{CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}">',
        '<title id="overview-title">Groups per institution, by candidate tier and status</title>',
        f'<desc id="overview-desc">{_e(summary)} The table below gives every number.</desc>',
    ]
    for index, line in enumerate(view.institutions):
        top = 4 + index * ROW_HEIGHT
        middle = top + ROW_HEIGHT / 2 + 4
        parts.append(
            f'<text x="{SLUG_WIDTH - 8}" y="{middle}" text-anchor="end">{_e(line.slug)}</text>'
        )
        x = float(SLUG_WIDTH)
        counts = _counts(line)
        for css, key, words in SEGMENTS:
            width = round(span * counts[key] / most, 1)
            if width:
                parts.append(
                    f'<rect class="{css}" x="{x}" y="{top + (ROW_HEIGHT - BAR_HEIGHT) / 2}" '
                    f'width="{width}" height="{BAR_HEIGHT}">'
                    f"<title>{_e(line.slug)}: {counts[key]} {_e(words)}</title></rect>"
                )
            x += width
        parts.append(f'<text x="{x + 6}" y="{middle}">{_e(_words(line))}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _legend() -> str:
    items = "".join(
        f'<span><i class="swatch {css}" aria-hidden="true"></i>{_e(words)}</span>'
        for css, _, words in SEGMENTS
    )
    return f'<p class="legend">{items}</p>'


def _counts_table(view: Overview) -> str:
    head = "".join(f'<th scope="col" class="n">{_e(h)}</th>' for h in OVERVIEW_HEADINGS)
    body = []
    for line in view.institutions:
        cells = "".join(f'<td class="n">{getattr(line, f):,}</td>' for f in TOTAL_FIELDS)
        body.append(
            f'<tr><th scope="row"><a href="#{_e(line.slug)}">{_e(line.slug)}</a></th>'
            f"<td>{_e(line.name)}</td>{cells}</tr>"
        )
    totals = "".join(f'<td class="n">{view.total(f):,}</td>' for f in TOTAL_FIELDS)
    return (
        "<table><caption>Per institution: groups, users, candidates for retirement (strong, "
        "weak), retirements done and pending in the YAML</caption>"
        f'<thead><tr><th scope="col">slug</th><th scope="col">institution</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody>"
        f'<tfoot><tr><th scope="row">total</th><td></td>{totals}</tr></tfoot></table>'
    )


def _list_table(view: Overview) -> str:
    head = "".join(f'<th scope="col">{_e(entry.name)}</th>' for entry in view.entries)
    body = []
    for line in view.institutions:
        cells = "".join(
            f'<td class="list-{cell.state.value}">{_e(cell.text())}</td>' for cell in line.flvc_list
        )
        body.append(f'<tr><th scope="row">{_e(line.slug)}</th>{cells}</tr>')
    return (
        f"<table class='matrix'><caption>{_e(LIST_LEGEND)}</caption>"
        f'<thead><tr><th scope="col">institution</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def overview_section(view: Overview) -> str:
    """The section that opens the page: summary, chart with legend, and both tables."""
    present = sum(
        1
        for line in view.institutions
        for cell in line.flvc_list
        if cell.state is ListState.PRESENT
    )
    return (
        '<section id="overview" aria-labelledby="heading-overview">'
        '<h2 id="heading-overview">Consortium overview</h2>'
        f"<p>{_e(overview_summary(view))} FLVC's commonly unused groups are still in use "
        f"{present:,} times across the consortium.</p>"
        f"{_figure(view) if view.institutions else ''}"
        f"{_counts_table(view)}{_list_table(view)}</section>"
    )


def _figure(view: Overview) -> str:
    return (
        f"{_legend()}<figure>{overview_chart(view)}"
        "<figcaption class='muted'>Groups per institution: strong and weak candidates for "
        "retirement, groups retired in the YAML, and the rest.</figcaption></figure>"
    )
