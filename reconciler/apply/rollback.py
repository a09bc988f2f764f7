"""Rollback: replay an apply journal backwards, as far as Alma allows.

Order: rows apply disabled are re-enabled and the mapping rows it removed are restored first
(Alma refuses a user's move into a disabled or unmapped group, 401852), then each user apply
moved is moved back, but only while its group is still the one apply set: a user changed since
is skipped and reported, never overwritten. Rollback writes its own journal, so it is itself
resumable (running it again finds the users already back and skips them).

What cannot come back, and rollback says so: users apply purged (Alma's API cannot restore a
deleted user) and rows apply deleted (the code-table PUT does not restore a deleted row).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.alma import AlmaClient
from reconciler.apply.journal import Entry, Journal, Operation, operations
from reconciler.apply.moves import DONE, move_user
from reconciler.apply.strategies import MoveTally
from reconciler.apply.tables import apply_group_changes, change_mapping_rows
from reconciler.errors import AlmaDailyLimitError
from reconciler.model.changes import EnableGroup


@dataclass(frozen=True)
class RollbackReport:
    """What rollback restored, what it skipped, and what it could not restore."""

    moved_back: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)
    failed: int = 0
    failures: tuple[tuple[str, str], ...] = ()  # (Alma code, trackingId)
    rows_enabled: tuple[str, ...] = ()
    mappings_restored: tuple[str, ...] = ()
    cannot_restore_purged: int = 0
    cannot_restore_deleted_rows: tuple[str, ...] = ()
    stopped: str = ""


@dataclass(frozen=True)
class Reversal:
    """What a journal says apply did, reduced to what rollback reverses."""

    moves: tuple[tuple[str, str, str], ...]  # (user, group before, group after)
    disabled_rows: tuple[str, ...]
    removed_mapping_rows: tuple[Mapping[str, Any], ...]
    purged: int
    deleted_rows: tuple[str, ...]


def reversal_of(entries: Sequence[Entry]) -> Reversal:
    """Read a journal's operations: moves recorded done, and every member of a bulk job."""
    ops = list(operations(list(entries)))
    moves = tuple(
        (str(o.intent["user"]), str(o.intent["group_before"]), str(o.intent["group_after"]))
        for o in ops
        if o.op in ("move", "move_instead") and _done(o)
    )
    # a bulk job's members: it may have moved any of them (whatever its counters say), and
    # moving back checks each user is still in the group the job set
    bulk = tuple(
        (str(user), str(o.intent["group_before"]), str(o.intent["group_after"]))
        for o in ops
        if o.op == "bulk_move"
        for user in o.intent.get("users") or []
    )
    moves = tuple(dict.fromkeys(bulk + moves))
    disabled: list[str] = []
    deleted: list[str] = []
    removed: list[Mapping[str, Any]] = []
    for o in ops:  # table writes: what they changed is in the intent; Alma is re-read anyway
        actions = o.intent.get("actions") or {}
        disabled += actions.get("disable_group", [])
        deleted += actions.get("delete_group", [])
        removed += o.intent.get("rows_removed") or []
    purged = sum(1 for o in ops if o.op == "purge" and _done(o))
    return Reversal(moves, tuple(disabled), tuple(removed), purged, tuple(deleted))


def _done(operation: Operation) -> bool:
    return operation.outcome is not None and operation.outcome.get("status") == DONE


def rollback(client: AlmaClient, journal: Journal, entries: Sequence[Entry]) -> RollbackReport:
    """Undo what the journal's apply did, where it is still safe to."""
    todo = reversal_of(entries)
    report = RollbackReport(
        cannot_restore_purged=todo.purged, cannot_restore_deleted_rows=todo.deleted_rows
    )
    try:
        enabled = apply_group_changes(
            client,
            journal,
            [EnableGroup(code, "rollback") for code in sorted(set(todo.disabled_rows))],
        )
        restored = change_mapping_rows(
            client, journal, restore=[dict(r) for r in todo.removed_mapping_rows]
        )
        tally = _move_back(client, journal, todo.moves)
    except AlmaDailyLimitError:
        return _stopped(report, journal)
    if tally.stopped is not None:
        return _stopped(report, journal)
    return RollbackReport(
        moved_back=tally.done,
        skipped=dict(tally.skipped),
        failed=len(tally.failed),
        failures=tuple((f.alma_code, f.tracking_id) for f in tally.failed),
        rows_enabled=enabled.codes.get("enable_group", ()),
        mappings_restored=restored.codes.get("restore_mapping", ()),
        cannot_restore_purged=todo.purged,
        cannot_restore_deleted_rows=todo.deleted_rows,
    )


def _move_back(
    client: AlmaClient, journal: Journal, moves: Sequence[tuple[str, str, str]]
) -> MoveTally:
    tally = MoveTally()
    stop = threading.Event()

    def one(move: tuple[str, str, str]) -> None:
        user_id, before, after = move
        if stop.is_set():
            return
        try:
            outcome = move_user(
                client, journal, user_id, source=after, target=before, op="move_back"
            )
        except AlmaDailyLimitError as error:
            stop.set()
            tally.stopped = error
            return
        tally.add(outcome)

    client.map_concurrently(one, moves)
    return tally


def _stopped(report: RollbackReport, journal: Journal) -> RollbackReport:
    journal.note("stop", reason="daily_limit")
    return RollbackReport(
        cannot_restore_purged=report.cannot_restore_purged,
        cannot_restore_deleted_rows=report.cannot_restore_deleted_rows,
        stopped=f"Alma's daily API limit was reached; run the same rollback again after it "
        f"resets (its journal: {journal.path})",
    )
