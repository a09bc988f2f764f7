"""Settling a bulk move a killed run left unfinished: wait for its job, then delete its set.

A bulk move's intent without an outcome means the run died between journaling the members and
recording how the job ended. The move's `bulk_event` notes (tagged `bulk=<op id>`) say how far
it got; the rest is read from Alma, never guessed:
- the set: its id from `set_created`, else found by the name `set_creating` journaled before
  the POST (a crash between the POST and the note); none found means it was never made;
- the run: its instance from `job_submitted`, else found by the run name `job_starting`
  journaled before the POST; none found means the job never started;
- an unfinished run is waited for with the run's PollPolicy. The job keeps running in Alma when
  the client dies, so the steps that follow (a fresh census, then a bulk or per-user move of
  whoever is left) must not race it, and its set must not be deleted under it. A run that does
  not end within the timeout stops the resume with BulkMoveError and keeps the set, as in a
  first run; the next apply waits again;
- the set is then deleted (one already gone is fine) and the outcome recorded, `resumed`.

Nobody is moved twice: the job changes a member's group once, and whoever is moved after the
wait is re-read first and moved only while still in the retired group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from reconciler.alma import AlmaClient
from reconciler.apply import bulk_steps
from reconciler.apply.bulk_move import BulkEvent, await_run, delete_set
from reconciler.apply.bulk_steps import PollPolicy
from reconciler.apply.journal import Entry, Journal

BULK_EVENT = "bulk_event"  # the journal note of one step of a bulk move
NOT_STARTED = "not_started"  # the outcome of a bulk move whose job never ran


def settle_bulk_move(
    client: AlmaClient, journal: Journal, op_id: str, entries: Sequence[Entry], poll: PollPolicy
) -> None:
    """Finish what the killed run's bulk move `op_id` left in Alma and record its outcome."""
    steps: dict[str, Mapping[str, Any]] = {}  # kind → the latest note of that kind
    for entry in entries:
        if entry.event == "note" and entry.op == BULK_EVENT and entry.data.get("bulk") == op_id:
            steps[str(entry.data.get("kind"))] = entry.data

    def note(event: BulkEvent) -> None:
        journal.note(BULK_EVENT, bulk=op_id, resumed=True, **event.as_dict())

    set_id = str(steps.get("set_created", {}).get("set_id", ""))
    if not set_id and "set_creating" in steps:
        set_id = bulk_steps.find_set(client, str(steps["set_creating"]["name"]))
    status, counters = "", {}
    if finished := steps.get("job_finished"):
        status, counters = str(finished.get("status", "")), dict(finished.get("counters") or {})
    elif job_id := str(steps.get("job_starting", {}).get("job_id", "")):
        instance_id = str(steps.get("job_submitted", {}).get("instance_id", ""))
        if not instance_id:
            starting = steps["job_starting"]
            since = datetime.fromisoformat(str(starting["at"])) - timedelta(days=1)
            instance_id = bulk_steps.find_run(client, job_id, str(starting["name"]), since)
        if instance_id:
            status, counters, _ = await_run(
                client,
                job_id,
                instance_id,
                poll,
                slug=journal.header.institution,
                set_id=set_id,
                on_event=note,
            )
    if set_id and "set_deleted" not in steps:
        delete_set(client, set_id, note)
    journal.outcome(op_id, "bulk_move", status or NOT_STARTED, counters=counters, resumed=True)
