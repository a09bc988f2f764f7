"""One user, one write: the per-user move and the outcome it leaves in the journal.

Design decisions (DESIGN.md, "Alma facts"):
- `PUT /users/{id}` is swap-all, so the body is the record exactly as just read, with only
  `user_group` changed and `user_role` left out (Alma keeps the roles when the list is absent;
  sending them back could be refused where a role now needs a scope). `override=user_group`
  makes the new group stick on SIS-loaded (EXTERNAL) users.
- The record is re-read right before it is written: a user no longer in the group the plan
  retires is skipped and reported, never overwritten (per-record staleness).
- The reply's group is checked; Alma answering 200 with the old group is a failure.
- One user's failure is an outcome, not an exception: the run carries on. Only Alma's daily
  limit (and a simulated crash) propagate, because nothing after them can succeed.
- What leaves this module for reports is counts, Alma codes and trackingIds; the primary ID
  goes to the journal only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import code_of
from reconciler.alma.payloads import User
from reconciler.apply.journal import Journal
from reconciler.errors import AlmaApiError, AlmaDailyLimitError, AlmaNotFoundError

DONE, SKIPPED, FAILED = "done", "skipped", "failed"
# keys a GET adds that are not the user's data (expansions, the self link)
_SERVED_ONLY = ("loans", "requests", "fees", "link")


@dataclass(frozen=True)
class UserOutcome:
    """What happened to one user: done, skipped (why) or failed (Alma's code and trackingId)."""

    status: str
    why: str = ""
    alma_code: str = ""
    tracking_id: str = ""
    fingerprint: str = ""  # of the record as read before the write (done only)
    retryable: bool = False  # failed on a fault worth another try (5xx, 429, no answer)


def record_fingerprint(record: Mapping[str, Any]) -> str:
    """sha256 of the record as read (without expansions): shows later whether it changed."""
    kept = {k: v for k, v in record.items() if k not in _SERVED_ONLY}
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def moved_body(record: User, target: str) -> User:
    """The PUT body: the record as read, `user_group` changed, `user_role` left out."""
    body = {k: v for k, v in record.items() if k != "user_role"}
    body["user_group"] = {"value": target}
    return body  # type: ignore[return-value]


def move_user(
    client: AlmaClient,
    journal: Journal,
    user_id: str,
    *,
    source: str,
    target: str,
    op: str = "move",
    op_id: str | None = None,
) -> UserOutcome:
    """Move one user from `source` to `target` if it is still in `source`; journal both halves."""
    op_id = op_id or f"{op}:{source}:{user_id}"
    journal.intent(op_id, op, user=user_id, group_before=source, group_after=target)
    outcome = _move(client, user_id, source=source, target=target)
    journal.outcome(op_id, op, outcome.status, **_details(outcome))
    return outcome


def recheck_move(
    client: AlmaClient, journal: Journal, op_id: str, op: str, intent: Mapping[str, Any]
) -> UserOutcome:
    """Settle a move the last run started but never recorded: read Alma, finish or record it."""
    user_id, source, target = intent["user"], intent["group_before"], intent["group_after"]
    try:
        record = client.get_user(user_id)
    except AlmaNotFoundError:
        outcome = UserOutcome(SKIPPED, "no longer in Alma")
    else:
        current = code_of(record.get("user_group"))
        if current == target:
            outcome = UserOutcome(DONE, "found done on resume")
        elif current == source:
            outcome = _move(client, user_id, source=source, target=target)
        else:
            outcome = UserOutcome(SKIPPED, f"now in group {current!r}, changed by someone else")
    journal.outcome(op_id, op, outcome.status, resumed=True, **_details(outcome))
    return outcome


def _move(client: AlmaClient, user_id: str, *, source: str, target: str) -> UserOutcome:
    try:
        record = client.get_user(user_id)
        current = code_of(record.get("user_group"))
        if current != source:
            why = "already in the target group" if current == target else "moved by someone else"
            return UserOutcome(SKIPPED, why)
        stored = client.update_user(user_id, moved_body(record, target), override=("user_group",))
    except AlmaDailyLimitError:
        raise
    except AlmaNotFoundError:
        return UserOutcome(SKIPPED, "no longer in Alma")
    except AlmaApiError as error:
        return failure(error)
    if code_of(stored.get("user_group")) != target:
        return UserOutcome(FAILED, "Alma kept the old group", alma_code="group-not-changed")
    return UserOutcome(DONE, fingerprint=record_fingerprint(record))


def failure(error: AlmaApiError) -> UserOutcome:
    """A failed outcome: Alma's code and trackingId, never its message (it may name the user)."""
    code = error.alma_code or (f"HTTP {error.status}" if error.status else type(error).__name__)
    return UserOutcome(
        FAILED,
        type(error).__name__,
        alma_code=code,
        tracking_id=error.tracking_id,
        retryable=error.retryable,
    )


def _details(outcome: UserOutcome) -> dict[str, str]:
    details = {"why": outcome.why} if outcome.why else {}
    if outcome.fingerprint:
        details["fingerprint"] = outcome.fingerprint
    if outcome.alma_code:
        details["alma_code"] = outcome.alma_code
    if outcome.tracking_id:
        details["tracking_id"] = outcome.tracking_id
    return details
