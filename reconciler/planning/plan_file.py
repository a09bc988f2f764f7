"""Plans as versioned JSON documents: what `plan --out` saves and `apply` reads back.

The document carries a checksum over its canonical form, so a plan edited by hand, truncated
in transit or produced by another version of the tool is refused instead of half-applied.
Loading rebuilds the same frozen dataclasses the planner made.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from reconciler import __version__
from reconciler.errors import StalePlanError
from reconciler.model import NOWHERE, SourceLocation
from reconciler.model.changes import (
    Action,
    Change,
    FieldChange,
    InstitutionPlan,
    Rule,
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
    return {
        "action": change.action.value,
        "code": change.code,
        "why": change.why,
        "fields": [asdict(f) for f in change.fields],
        "target": change.target,
        "users": change.users,
        "breakdown": asdict(change.breakdown) if change.breakdown else None,
        "member_fingerprint": change.member_fingerprint,
        "blocked": [{"reason": reason, "users": count} for reason, count in change.blocked],
        "record_types": list(change.record_types),
        "location": _location(change.location),
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


def _read_change(data: dict[str, Any]) -> Change:
    return Change(
        action=Action(data["action"]),
        code=data["code"],
        why=data["why"],
        fields=tuple(FieldChange(**f) for f in data["fields"]),
        target=data["target"],
        users=data["users"],
        breakdown=UserBreakdown(**data["breakdown"]) if data["breakdown"] else None,
        member_fingerprint=data["member_fingerprint"],
        blocked=tuple((b["reason"], b["users"]) for b in data["blocked"]),
        record_types=tuple(data["record_types"]),
        location=_read_location(data["location"]),
    )


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
