"""Drift as Markdown, for the nightly issue and the job summary: counts and causes only."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.planning.drift import InstitutionDrift

MARKER = "<!-- alma-groups:drift -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_drift_markdown(report: Sequence[InstitutionDrift]) -> str:
    drifted = [i for i in report if i.drifted]
    lines = [MARKER, "## alma-groups drift", ""]
    if not drifted:
        lines.append(f"Live Alma matches main for all {len(report)} institution(s).")
        return "\n".join(lines) + "\n"
    lines += [
        f"{len(drifted)} of {len(report)} institution(s) differ from main: "
        + ", ".join(f"`{i.slug}`" for i in drifted)
        + ".",
        "",
        "| institution | difference | likely cause | evidence |",
        "|---|---|---|---|",
    ]
    for institution in drifted:
        for item in institution.items:
            lines.append(
                f"| `{institution.slug}` | {_cell(item.difference)} | **{item.cause}** "
                f"| {_cell(item.evidence)} |"
            )
    lines += [
        "",
        "**What to do:** a patron load that brings a retired group back needs the SIS export "
        "fixed; a staff edit is either put back by applying main again or proposed in a pull "
        "request; a reconciler run that did not finish is resumed from its journal.",
    ]
    return "\n".join(lines) + "\n"
