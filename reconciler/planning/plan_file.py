"""Plans as versioned JSON documents: what `plan --out` saves and `apply` reads back.

The document carries a checksum over its canonical form, so a plan edited by hand or
truncated in transit is refused (`PlanFileError`: investigate) instead of half-applied; a
plan of another format version is refused as stale (`StalePlanError`: plan again).

Design decisions:
- The document is the model's own dataclasses through the generic codec
  (`reconciler.model.codec`), plus what a reader of the file wants without our code: a
  summary, each institution's users moved and purged, and each change's `key` (its identity,
  as a journal records it). Those derived values are checked on load by writing the loaded
  plan again and comparing, so a document can never say one thing and mean another.
- This module imports only the model, the errors and the file helpers, never the planner:
  loading a plan does not import deepdiff or the safety rules.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from reconciler import __version__
from reconciler.errors import PlanFileError, StalePlanError
from reconciler.files import atomic_write
from reconciler.model.codec import from_data, to_data
from reconciler.model.plan import PLAN_FORMAT_VERSION, InstitutionPlan, Plan

# written for readers of the file, recomputed from the plan when it is loaded
_DERIVED_INSTITUTION_KEYS = ("users_moved", "users_purged")
_DERIVED_CHANGE_KEYS = ("key",)


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


def _institution(plan: InstitutionPlan) -> dict[str, Any]:
    document: dict[str, Any] = to_data(plan)
    document["users_moved"] = plan.users_moved
    document["users_purged"] = plan.users_purged
    for change, data in zip(plan.changes, document["changes"], strict=True):
        data["key"] = str(change.key(plan.slug))
    return document


def checksum(body: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of everything but the checksum itself."""
    canonical = {key: value for key, value in body.items() if key != "checksum"}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def render(plan: Plan) -> str:
    """The saved-plan file's text: the document as sorted, indented JSON."""
    return json.dumps(to_document(plan), indent=2, sort_keys=True) + "\n"


def save(plan: Plan, path: Path) -> None:
    """Write the plan atomically: a reader never sees half a plan."""
    atomic_write(path, render(plan))


def load(path: Path) -> Plan:
    """Read a saved plan; refuse one that is unreadable, edited or of another format."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PlanFileError(f"{path}: not a readable plan file ({error})") from error
    if not isinstance(document, dict):
        raise PlanFileError(f"{path}: not a plan file (the JSON is not an object)")
    version = document.get("format_version")
    if version != PLAN_FORMAT_VERSION:
        raise StalePlanError(
            f"{path}: plan format {version!r}, this alma-groups reads {PLAN_FORMAT_VERSION}; "
            "make the plan again"
        )
    if document.get("checksum") != checksum(document):
        raise PlanFileError(f"{path}: checksum does not match; the plan was changed after saving")
    try:
        plan = from_document(document)
    except (KeyError, TypeError, AttributeError, ValueError) as error:  # DecodeError too
        raise PlanFileError(f"{path}: malformed plan ({error!r})") from error
    if _comparable(to_document(plan)) != _comparable(document):
        raise PlanFileError(f"{path}: its summary or keys do not match its changes")
    return plan


def from_document(document: dict[str, Any]) -> Plan:
    """The plan a document describes (its derived values are not read, only checked)."""
    institutions = [
        {
            **{k: v for k, v in data.items() if k not in _DERIVED_INSTITUTION_KEYS},
            "changes": [
                {k: v for k, v in change.items() if k not in _DERIVED_CHANGE_KEYS}
                for change in data["changes"]
            ],
        }
        for data in document["institutions"]
    ]
    body = {
        "institutions": institutions,
        "commit": document["commit"],
        "desired_hash": document["desired_hash"],
        "created_at": None,  # the codec knows no datetimes: read apart, below
    }
    plan = from_data(Plan, body)
    if document.get("created_at"):
        plan = replace(plan, created_at=datetime.fromisoformat(document["created_at"]))
    return plan


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("generated_by", "checksum")}
