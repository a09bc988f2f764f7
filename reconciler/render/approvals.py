"""Who must approve a pull request that touches several institutions (for the plan comment).

CODEOWNERS asks each touched institution's owners for a review; GitHub shows that in its own
box, but a reviewer reading the plan should see it next to the changes it concerns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def render_approvals_markdown(owners: Mapping[str, Sequence[str]]) -> str:
    """A Markdown section naming each institution's owners; empty for one institution."""
    if len(owners) < 2:
        return ""
    lines = [
        "",
        f"**Approvals needed:** this pull request changes {len(owners)} institutions, so "
        "each one's owners must approve (CODEOWNERS):",
        "",
    ]
    lines += [
        f"- `{slug}`: {', '.join(owners[slug]) or '(no owners listed)'}" for slug in sorted(owners)
    ]
    return "\n".join(lines) + "\n"
