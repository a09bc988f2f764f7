"""Purge: delete inactive or expired members of a retired group that nothing holds in Alma.

Design decisions:
- Each candidate is re-read with `expand=loans,requests,fees` right before the DELETE (list
  items carry null counts, and a loan may have started since the plan). A user with a loan,
  request or fee is never deleted: it is moved to `move_users_to` instead, or left in place
  and reported when the group has no target.
- A candidate that is active and unexpired again is moved, not deleted.
- The intent (with the record's fingerprint) is journaled before the DELETE. A deleted user
  cannot be restored by Alma's API; rollback says so instead of pretending.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import as_date, as_float, code_of
from reconciler.apply.journal import Journal
from reconciler.apply.moves import (
    DONE,
    FAILED,
    SKIPPED,
    UserOutcome,
    failure,
    move_user,
    record_fingerprint,
)
from reconciler.apply.strategies import MoveTally, Progress
from reconciler.errors import AlmaApiError, AlmaDailyLimitError, AlmaNotFoundError


def in_use(record: Mapping[str, Any]) -> str | None:
    """ "loans", "requests" or "fees" when the user holds one (counts from an expanded GET)."""
    for key in ("loans", "requests", "fees"):
        value = record.get(key)
        count = value.get("value") if isinstance(value, Mapping) else value
        if (as_float(count, default=0.0) or 0.0) > 0:
            return key
    return None


def still_candidate(record: Mapping[str, Any], today: date) -> bool:
    expiry = as_date(record.get("expiry_date"))
    return code_of(record.get("status")) == "INACTIVE" or (expiry is not None and expiry < today)


def purge_user(
    client: AlmaClient,
    journal: Journal,
    user_id: str,
    *,
    source: str,
    target: str | None,
    today: date,
) -> tuple[str, UserOutcome]:
    """("purge" | "move", outcome) for one candidate; only an idle, inactive member is deleted."""
    op_id = f"purge:{source}:{user_id}"
    try:
        record = client.get_user(user_id, expand="loans,requests,fees")
    except AlmaNotFoundError:
        return "purge", UserOutcome(SKIPPED, "no longer in Alma")
    except AlmaDailyLimitError:
        raise
    except AlmaApiError as error:
        return "purge", failure(error)
    if code_of(record.get("user_group")) != source:
        return "purge", UserOutcome(SKIPPED, "moved by someone else")
    held = in_use(record)
    if held or not still_candidate(record, today):
        why = f"has {held}" if held else "active again"
        if target is None:
            return "purge", UserOutcome(SKIPPED, f"{why}; not purged, no group to move it to")
        return "move", move_user(
            client, journal, user_id, source=source, target=target, op="move_instead"
        )
    journal.intent(
        op_id, "purge", user=user_id, group_before=source, fingerprint=record_fingerprint(record)
    )
    outcome = _delete(client, user_id)
    journal.outcome(op_id, "purge", outcome.status, why=outcome.why, alma_code=outcome.alma_code)
    return "purge", outcome


def purge_users(
    client: AlmaClient,
    journal: Journal,
    candidate_ids: Sequence[str],
    *,
    source: str,
    target: str | None,
    today: date,
    progress: Progress | None = None,
) -> tuple[MoveTally, MoveTally]:
    """Purge the candidates concurrently; returns (purged, moved instead)."""
    purged, moved = MoveTally(), MoveTally()
    stop = threading.Event()

    def one(user_id: str) -> None:
        if stop.is_set():
            return
        try:
            kind, outcome = purge_user(
                client, journal, user_id, source=source, target=target, today=today
            )
        except AlmaDailyLimitError as error:
            stop.set()
            purged.stopped = error
            return
        (moved if kind == "move" else purged).add(outcome)
        if progress is not None:
            progress(1)

    client.map_concurrently(one, candidate_ids)
    return purged, moved


def _delete(client: AlmaClient, user_id: str, *, attempts: int = 3) -> UserOutcome:
    """DELETE (never retried blindly): when no answer came, look whether it happened, then
    try again, at most `attempts` times."""
    outcome = UserOutcome(FAILED, "no answer")
    for _ in range(attempts):
        try:
            client.delete_user(user_id)
        except AlmaDailyLimitError:
            raise
        except AlmaNotFoundError:
            return UserOutcome(SKIPPED, "no longer in Alma")
        except AlmaApiError as error:
            outcome = failure(error)
            if not error.retryable:
                return outcome
            try:
                client.get_user(user_id)
            except AlmaNotFoundError:
                return UserOutcome(DONE)  # the DELETE went through; its answer was lost
            except AlmaDailyLimitError:
                raise
            except AlmaApiError:
                continue
        else:
            return UserOutcome(DONE)
    return outcome
