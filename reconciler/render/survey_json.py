"""The survey as JSON for machines; the document is described by schemas/survey.schema.json."""

from __future__ import annotations

import json
from typing import Any

from reconciler.survey.report import InstitutionSurvey, Survey, SurveyRow

SURVEY_FORMAT_VERSION = 1


def _group(row: SurveyRow) -> dict[str, Any]:
    return {
        "code": row.code,
        "description": row.description,
        "enabled": row.enabled,
        "default": row.default,
        "status": row.status.value,
        "users": row.users,
        "active_users": row.active,
        "external_share": round(row.external_share, 4),
        "last_seen": row.last_seen.isoformat() if row.last_seen else None,
        "last_seen_users": row.last_seen_users,
        "references": list(row.references),
        "candidate": row.candidate,
        "reasons": list(row.reasons),
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
        "candidates": len(institution.candidates),
        "groups": [_group(row) for row in institution.rows],
    }


def to_document(survey: Survey) -> dict[str, Any]:
    return {
        "format_version": SURVEY_FORMAT_VERSION,
        "date": survey.today.isoformat(),
        "summary": {
            "institutions": len(survey.institutions),
            "groups": survey.groups,
            "users": survey.total_users,
            "candidates": survey.candidates,
            "api_calls": survey.api_calls,
        },
        "institutions": [_institution(i) for i in survey.institutions],
        "unread": [{"slug": slug, "reason": why} for slug, why in survey.unread],
    }


def render_survey(survey: Survey) -> str:
    """The survey document, keys sorted, so two runs over the same Alma diff cleanly."""
    return json.dumps(to_document(survey), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
