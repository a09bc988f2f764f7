"""Turn documents that passed every check into the frozen model.

Only called on valid documents, so it trusts shapes and types; defaults for optional keys are
the model's own, kept in one place (reconciler.model).
"""

from __future__ import annotations

from typing import Any

from reconciler.desired.job_template import build_job_template
from reconciler.desired.yaml_source import Document, Path_
from reconciler.model import (
    Institution,
    InstitutionState,
    KeptGroup,
    PatronLoadPolicy,
    Region,
    RetiredGroup,
    SafetyPolicy,
    Sector,
    SourceLocation,
    UserGroups,
)


def _location(document: Document, path: Path_) -> SourceLocation:
    line, column = document.source_map.value_position(path)
    return SourceLocation(document.file, line, column)


def build_institution(document: Document) -> Institution:
    content: dict[str, Any] = document.content
    patron_load = content.get("patron_load", {})
    safety = content.get("safety", {})
    defaults = SafetyPolicy()
    return Institution(
        slug=content["slug"],
        alma_code=content["alma_code"],
        name=content["name"],
        sector=Sector(content["sector"]),
        region=Region(content["region"]),
        api_key_env=content["api_key_env"],
        owners=tuple(content["owners"]),
        patron_load=PatronLoadPolicy(
            lookback_days=patron_load.get("lookback_days", PatronLoadPolicy().lookback_days)
        ),
        safety=SafetyPolicy(
            protected_groups=tuple(safety.get("protected_groups", ())),
            max_users_moved=safety.get("max_users_moved", defaults.max_users_moved),
            max_users_moved_pct=float(
                safety.get("max_users_moved_pct", defaults.max_users_moved_pct)
            ),
        ),
        rate_limit_per_second=float(content.get("rate_limit_per_second", 20.0)),
        rules_report=content.get("rules_report"),
        bulk_threshold=content.get("bulk_threshold", Institution.bulk_threshold),
        location=_location(document, ()),
    )


def build_user_groups(document: Document) -> UserGroups:
    content: dict[str, Any] = document.content
    kept = tuple(
        KeptGroup(
            code=item["code"],
            description=item["description"],
            default=item.get("default", False),
            in_patron_loads=item.get("in_patron_loads", True),
            location=_location(document, ("groups", index)),
        )
        for index, item in enumerate(content["groups"])
    )
    retired = tuple(
        RetiredGroup(
            code=item["code"],
            description=item["description"],
            reason=item["reason"],
            move_users_to=item.get("move_users_to"),
            purge_inactive_users=item.get("purge_inactive_users", False),
            delete_row=item.get("delete_row", False),
            acknowledge_users_moved=item.get("acknowledge_users_moved"),
            location=_location(document, ("retired", index)),
        )
        for index, item in enumerate(content.get("retired") or ())
    )
    return UserGroups(groups=kept, retired=retired)


def build_state(
    institution: Document, groups: Document, job_template: Document | None = None
) -> InstitutionState:
    return InstitutionState(
        build_institution(institution),
        build_user_groups(groups),
        build_job_template(job_template) if job_template is not None else None,
    )
