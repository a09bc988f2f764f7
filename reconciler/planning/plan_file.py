"""Plans as versioned JSON documents: what `plan --out` saves and `apply` reads back.

The document carries a checksum over its canonical form, so a plan edited by hand, truncated
in transit or produced by another version of the tool is refused instead of half-applied.
Loading rebuilds the same frozen dataclasses the planner made.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, assert_never

from reconciler import __version__
from reconciler.errors import StalePlanError
from reconciler.model import NOWHERE, SourceLocation
from reconciler.model.changes import (
    Action,
    AddMapping,
    Change,
    CreateGroup,
    DeleteGroup,
    DisableGroup,
    EnableGroup,
    FieldChange,
    InstitutionPlan,
    MoveUsers,
    PurgeUsers,
    RemoveMapping,
    Rule,
    UpdateGroup,
    VerifyEmpty,
    Violation,
)
from reconciler.model.live import UserBreakdown
from reconciler.planning.plan import PLAN_FORMAT_VERSION, Plan


def to_document(plan: Plan) -> dict[str, Any]:
    """The plan as plain JSON-ready data, with its checksum."""
    body: dict[str, Any] = {
        "format_version": PLAN_FORMAT_VERSION,
        "generated_by": f"alma-groups {__version__}",
        "commit": plan.commit,
        "desired_hash": plan.desired_hash,
        "summary": {
            "institutions": len(plan.institutions),
            "institutions_with_changes": sum(p.has_changes for p in plan.institutions),
            "changes": sum(len(p.changes) for p in plan.institutions),
            "violations": len(plan.violations),
            "users_moved": sum(p.users_moved for p in plan.institutions),
            "users_purged": sum(p.users_purged for p in plan.institutions),
            "api_calls": plan.api_calls,
        },
        "institutions": [_institution(p) for p in plan.institutions],
    }
    if plan.created_at is not None:
        body["created_at"] = plan.created_at.isoformat()
    body["checksum"] = checksum(body)
    return body


def checksum(body: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of everything but the checksum itself."""
    canonical = {key: value for key, value in body.items() if key != "checksum"}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _institution(plan: InstitutionPlan) -> dict[str, Any]:
    return {
        "slug": plan.slug,
        "live_fingerprint": plan.live_fingerprint,
        "users_total": plan.users_total,
        "daily_calls_left": plan.daily_calls_left,
        "api_calls": plan.api_calls,
        "users_moved": plan.users_moved,
        "users_purged": plan.users_purged,
        "changes": [_change(c) for c in plan.changes],
        "violations": [_violation(v) for v in plan.violations],
    }


def _change(change: Change) -> dict[str, Any]:
    """Format 1 gives every change every field; those an action does not have are empty."""
    document: dict[str, Any] = {
        "action": change.action.value,
        "code": change.code,
        "why": change.why,
        "fields": [],
        "target": None,
        "users": 0,
        "breakdown": None,
        "member_fingerprint": None,
        "blocked": [],
        "record_types": [],
        "location": _location(change.location),
    }
    match change:
        case CreateGroup():
            row: dict[str, str | bool] = {
                "default": change.default,
                "description": change.description,
                "enabled": True,
            }
            document["fields"] = [asdict(FieldChange(k, None, row[k])) for k in sorted(row)]
        case EnableGroup():
            document["fields"] = [asdict(FieldChange("enabled", False, True))]
        case UpdateGroup():
            document["fields"] = [asdict(f) for f in change.fields]
        case AddMapping() | RemoveMapping():
            document["record_types"] = list(change.record_types)
        case MoveUsers():
            document["target"] = change.target
            document.update(_people(change))
        case PurgeUsers():
            document.update(_people(change))
            document["blocked"] = [{"reason": r, "users": n} for r, n in change.blocked]
        case DisableGroup():
            document["fields"] = [asdict(FieldChange("enabled", True, False))]
        case VerifyEmpty() | DeleteGroup():
            pass
        case _:
            assert_never(change)
    return document


def _people(change: MoveUsers | PurgeUsers) -> dict[str, Any]:
    return {
        "users": change.users,
        "breakdown": asdict(change.breakdown) if change.breakdown else None,
        "member_fingerprint": change.member_fingerprint,
    }


def _violation(violation: Violation) -> dict[str, Any]:
    return {
        "rule": violation.rule.value,
        "code": violation.code,
        "message": violation.message,
        "way_out": violation.way_out,
        "location": _location(violation.location),
    }


def _location(location: SourceLocation) -> str | None:
    return None if location == NOWHERE else str(location)


def save(plan: Plan, path: Path) -> None:
    text = json.dumps(to_document(plan), indent=2, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")


def load(path: Path) -> Plan:
    """Read a saved plan; refuse one that is unreadable, edited or of another format."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StalePlanError(f"{path}: not a readable plan file ({error})") from error
    if not isinstance(document, dict):
        raise StalePlanError(f"{path}: not a plan file")
    version = document.get("format_version")
    if version != PLAN_FORMAT_VERSION:
        raise StalePlanError(
            f"{path}: plan format {version!r}, this alma-groups reads {PLAN_FORMAT_VERSION}; "
            "make the plan again"
        )
    if document.get("checksum") != checksum(document):
        raise StalePlanError(f"{path}: checksum does not match; the plan was changed after saving")
    try:
        return from_document(document)
    except (KeyError, TypeError, ValueError) as error:
        raise StalePlanError(f"{path}: malformed plan ({error!r})") from error


def from_document(document: dict[str, Any]) -> Plan:
    return Plan(
        institutions=tuple(_read_institution(i) for i in document["institutions"]),
        commit=document["commit"],
        desired_hash=document["desired_hash"],
        created_at=datetime.fromisoformat(document["created_at"])
        if document.get("created_at")
        else None,
    )


def _read_institution(data: dict[str, Any]) -> InstitutionPlan:
    return InstitutionPlan(
        slug=data["slug"],
        changes=tuple(_read_change(c) for c in data["changes"]),
        violations=tuple(_read_violation(v) for v in data["violations"]),
        api_calls=data["api_calls"],
        live_fingerprint=data["live_fingerprint"],
        users_total=data["users_total"],
        daily_calls_left=data["daily_calls_left"],
    )


def _read_change(data: dict[str, Any]) -> Change:  # noqa: PLR0911 - one per action
    action = Action(data["action"])
    code, why = data["code"], data["why"]
    location = _read_location(data["location"])
    fields = {f["name"]: f["after"] for f in data["fields"]}
    breakdown = UserBreakdown(**data["breakdown"]) if data["breakdown"] else None
    match action:
        case Action.CREATE_GROUP:
            return CreateGroup(
                code,
                why,
                description=str(fields["description"]),
                default=bool(fields["default"]),
                location=location,
            )
        case Action.ENABLE_GROUP:
            return EnableGroup(code, why, location=location)
        case Action.UPDATE_GROUP:
            changed = tuple(FieldChange(**f) for f in data["fields"])
            return UpdateGroup(code, why, changed, location=location)
        case Action.ADD_MAPPING:
            return AddMapping(code, why, tuple(data["record_types"]), location=location)
        case Action.MOVE_USERS:
            return MoveUsers(
                code,
                why,
                target=data["target"],
                users=data["users"],
                breakdown=breakdown,
                member_fingerprint=data["member_fingerprint"],
                location=location,
            )
        case Action.PURGE_USERS:
            return PurgeUsers(
                code,
                why,
                users=data["users"],
                breakdown=breakdown,
                member_fingerprint=data["member_fingerprint"],
                blocked=tuple((b["reason"], b["users"]) for b in data["blocked"]),
                location=location,
            )
        case Action.VERIFY_EMPTY:
            return VerifyEmpty(code, why, location=location)
        case Action.REMOVE_MAPPING:
            return RemoveMapping(code, why, tuple(data["record_types"]), location=location)
        case Action.DISABLE_GROUP:
            return DisableGroup(code, why, location=location)
        case Action.DELETE_GROUP:
            return DeleteGroup(code, why, location=location)
        case _:
            assert_never(action)


def _read_violation(data: dict[str, Any]) -> Violation:
    return Violation(
        rule=Rule(data["rule"]),
        code=data["code"],
        message=data["message"],
        way_out=data["way_out"],
        location=_read_location(data["location"]),
    )


def _read_location(text: str | None) -> SourceLocation:
    if not text:
        return NOWHERE
    file, line, column = text.rsplit(":", 2)
    return SourceLocation(file, int(line), int(column))
