"""The survey as JSON for machines; the document is described by schemas/survey.schema.json.

Keys come in a fixed order, the consortium overview first after the totals, so that two runs
over the same Alma diff cleanly and a reader meets the overview before 40 institutions. The
document holds counts only, never a person, so it may be committed as a snapshot for
`survey --compare`.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.survey.compare import Comparison, Progress
from reconciler.survey.overview import InstitutionOverview, Overview, overview
from reconciler.survey.report import InstitutionSurvey, Survey, SurveyRow, Tier

SURVEY_FORMAT_VERSION = 2


def _group(row: SurveyRow) -> dict[str, Any]:
    return {
        "code": row.code,
        "description": row.description,
        "enabled": row.enabled,
        "default": row.default,
        "status": row.status.value,
        "in_patron_loads": row.in_patron_loads,
        "users": row.users,
        "active_users": row.active,
        "external_share": round(row.external_share, 4),
        "last_seen": row.last_seen.isoformat() if row.last_seen else None,
        "last_seen_users": row.last_seen_users,
        "references": list(row.references),
        "flvc_list": row.flvc_list,
        "candidate": row.candidate,
        "tier": row.tier.value if row.tier else None,
        "reasons": [{"reason": r.text, "tier": r.tier.value} for r in row.reasons],
        "notes": list(row.notes),
    }


def _institution(institution: InstitutionSurvey) -> dict[str, Any]:
    return {
        "slug": institution.slug,
        "name": institution.name,
        "total_users": institution.total_users,
        "api_calls": institution.api_calls,
        "lookback_days": institution.lookback_days,
        "patron_load_history": institution.has_history,
        "strong_candidates": len(institution.tiered(Tier.STRONG)),
        "weak_candidates": len(institution.tiered(Tier.WEAK)),
        "groups": [_group(row) for row in institution.rows],
    }


def _overview_line(line: InstitutionOverview, view: Overview) -> dict[str, Any]:
    return {
        "slug": line.slug,
        "groups": line.groups,
        "users": line.users,
        "strong_candidates": line.strong,
        "weak_candidates": line.weak,
        "retired_done": line.retired_done,
        "retired_pending": line.retired_pending,
        "flvc_list": [
            {"entry": entry.name, "state": cell.state.value, "users": cell.users}
            for entry, cell in zip(view.entries, line.flvc_list, strict=True)
        ],
    }


def to_document(survey: Survey) -> dict[str, Any]:
    view = overview(survey)
    return {
        "format_version": SURVEY_FORMAT_VERSION,
        "date": survey.today.isoformat(),
        "summary": {
            "institutions": len(survey.institutions),
            "groups": survey.groups,
            "users": survey.total_users,
            "strong_candidates": survey.tiered(Tier.STRONG),
            "weak_candidates": survey.tiered(Tier.WEAK),
            "retired_done": view.total("retired_done"),
            "retired_pending": view.total("retired_pending"),
            "api_calls": survey.api_calls,
        },
        "overview": [_overview_line(line, view) for line in view.institutions],
        "institutions": [_institution(i) for i in survey.institutions],
        "unread": [{"slug": slug, "reason": why} for slug, why in survey.unread],
    }


def render_survey(survey: Survey) -> str:
    """The survey document, keys in a fixed order, so two runs over the same Alma diff cleanly."""
    return json.dumps(to_document(survey), indent=2, ensure_ascii=False) + "\n"


def comparison_document(comparison: Comparison) -> dict[str, Any]:
    """The comparison as described by schemas/survey-comparison.schema.json."""
    return {
        "format_version": 1,
        "since": comparison.since.isoformat(),
        "date": comparison.today.isoformat(),
        "institutions": list(comparison.institutions),
        "summary": {
            "retired": comparison.count(Progress.RETIRED),
            "disabled": comparison.count(Progress.DISABLED),
            "deleted": comparison.count(Progress.DELETED),
            "users_moved_out": comparison.users_moved_out,
            "new": comparison.count(Progress.NEW),
        },
        "changes": [
            {
                "slug": change.slug,
                "code": change.code,
                "description": change.description,
                "change": change.kind.value,
                "users_before": change.users_before,
                "users_after": change.users_after,
            }
            for change in comparison.changes
        ],
    }


def render_comparison(comparison: Comparison) -> str:
    """The comparison document, keys in a fixed order."""
    return json.dumps(comparison_document(comparison), indent=2, ensure_ascii=False) + "\n"
