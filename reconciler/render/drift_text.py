"""Drift as terminal text: per institution, each difference with its likely cause."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.planning.drift import InstitutionDrift


def render_drift_text(report: Sequence[InstitutionDrift]) -> str:
    lines: list[str] = []
    for institution in report:
        if not institution.drifted:
            lines.append(f"{institution.slug}: no drift")
            continue
        lines.append(f"{institution.slug}: {len(institution.items)} difference(s) from main")
        for item in institution.items:
            lines.append(f"  {item.difference}")
            lines.append(f"    likely cause: {item.cause} ({item.evidence})")
    drifted = sum(1 for i in report if i.drifted)
    lines.append(f"Drift: {drifted} of {len(report)} institution(s) differ from main.")
    return "\n".join(lines) + "\n"
