"""Markdown for the one sticky pull-request comment that carries the plan.

The comment opens with a hidden marker so CI can find and update its own comment instead of
adding a new one per push. It holds counts only, never a person. A plan that would not fit
in one comment is split into several, each below GitHub's size limit and each marked.
"""

from __future__ import annotations

from reconciler.model.plan import InstitutionPlan, Plan
from reconciler.render.symbols import change_lines, is_quiet, overall_summary, plural

MARKER = "<!-- alma-groups:plan -->"
COMMENT_SEPARATOR = "\n<!-- alma-groups:next-comment -->\n"  # between comments, for CI to split
GITHUB_COMMENT_LIMIT = 65_536
SAFE_LIMIT = GITHUB_COMMENT_LIMIT - 1_024  # room for the part header and closing lines


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _status(plan: InstitutionPlan) -> str:
    if plan.violations:
        return "⛔ blocked"
    return "changes" if plan.has_changes else "no changes"


def _table(plan: Plan) -> list[str]:
    rows = [
        "| institution | status | changes | users moved | purged | violations | API calls |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for p in plan.institutions:
        if is_quiet(p):
            continue
        rows.append(
            f"| `{p.slug}` | {_status(p)} | {len(p.changes)} | {p.users_moved:,} | "
            f"{p.users_purged:,} | {len(p.violations)} | ~{p.api_calls:,} |"
        )
    return rows


def _section(p: InstitutionPlan) -> str:
    lines = [f"### `{p.slug}`: {_status(p)}", ""]
    if p.violations:
        lines.append("**Violations** (apply refuses this plan until they are resolved):")
        lines.append("")
        for v in p.violations:
            where = f" — `{v.location}`" if v.location.line else ""
            lines.append(f"- **{v.rule.value}**: {_escape(v.message)}{where}")
            lines.append(f"  - next step: {_escape(v.way_out)}")
        lines.append("")
    if p.changes:
        lines.append("<details><summary>" + plural(len(p.changes), "change") + "</summary>")
        lines.append("")
        lines.append("```diff")
        for line in change_lines(p.changes):
            # a diff block colours + and - lines; ! marks a move, # a note
            symbol = {"→": "!", "?": "#"}.get(line.symbol, line.symbol)
            # a description holding three backticks would close the code block early
            lines.append(f"{symbol} {line.text}".replace("`" * 3, "ʼʼʼ"))
            lines += [f"#   {extra}" for extra in line.details]
            if line.why is not None:
                lines.append(f"#   why: {line.why}")
        lines.append("```")
        lines.append("")
        lines.append("</details>")
        lines.append("")
    return "\n".join(lines)


def render_plan(plan: Plan) -> str:
    """Every comment body, separated by COMMENT_SEPARATOR (what `plan --format markdown` prints)."""
    return COMMENT_SEPARATOR.join(render_plan_comments(plan))


def render_plan_comments(plan: Plan, *, run_url: str | None = None) -> list[str]:
    """One comment body, or several when the plan is too long for one; counts only."""
    commit = f"`{plan.commit[:12]}`" if plan.commit else "the working tree"
    header = [
        MARKER,
        "## alma-groups plan",
        "",
        f"Planned at {commit}. {overall_summary(plan)}",
        "",
    ]
    quiet = [p.slug for p in plan.institutions if is_quiet(p)]
    if len(quiet) < len(plan.institutions):
        header += [*_table(plan), ""]
    if quiet:
        header += [f"No changes: {', '.join(f'`{s}`' for s in quiet)}.", ""]
    footer = ["---"]
    if plan.violations:
        footer.append("**Next steps:** resolve the violations above, push, and CI plans again.")
    elif plan.has_changes:
        footer.append(
            "**Next steps:** review the changes; after approval and merge CI applies them."
        )
    if run_url:
        footer.append(f"Full plan (JSON, Markdown): [workflow run]({run_url}).")
    sections = [_section(p) for p in plan.institutions if not is_quiet(p)]
    return _split("\n".join(header), sections, "\n".join(footer))


def _split(header: str, sections: list[str], footer: str) -> list[str]:
    bodies: list[str] = []
    current = header
    for whole in sections:
        section = whole
        if len(section) > SAFE_LIMIT:  # one huge institution: cut it rather than fail to post
            section = section[: SAFE_LIMIT - 200] + "\n\n_(truncated: see the JSON plan)_\n"
        if len(current) + len(section) + len(footer) + 2 > SAFE_LIMIT:
            bodies.append(current)
            current = f"{MARKER}\n## alma-groups plan (continued)\n"
        current += "\n" + section
    bodies.append(current + "\n" + footer + "\n")
    if len(bodies) > 1:
        total = len(bodies)
        bodies = [
            body.replace("## alma-groups plan", f"## alma-groups plan (part {i}/{total})", 1)
            for i, body in enumerate(bodies, 1)
        ]
    return bodies
