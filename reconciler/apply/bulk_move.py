"""Bulk move: put a retired group's members in an itemized USER set and run "Update/Notify Users".

One call of `run_bulk_move` does one group's move: look up the job (when the template has no
id), create the set, add the members in chunks of at most 1000, run the job with the
institution's template (set_id, job_name and the user-group switch and value filled in, every
other parameter as the Run-a-Job wizard gave it), poll the instance with backoff until it ends,
read its counters, and delete the set. `bulk_move_cost` is the API calls that takes, polls aside.

What this module does not do, on purpose: the job's counters are not a census, and the job may
leave members behind (a record it could not update, a user who joined the group meanwhile). The
residue, the fresh exact census and the per-user mop-up belong to the apply engine, which calls
this and then counts the group again.

Design decisions:
- The job is looked up before the set is created, so a missing job leaves nothing behind.
- Every step is announced as an event before the call that makes something in Alma (the set's
  name, the run's name) and after it (the set's id, each chunk, the instance's id, how the run
  ended, the set deleted): the engine journals them, so a resumed run knows which set and which
  run a killed one left behind (`reconciler.apply.bulk_resume`). The calls themselves survive
  faults by looking for what a lost try made (`reconciler.apply.bulk_steps`).
- The set is deleted in a `finally`, also when adding members or starting the job failed; a
  failed delete is reported (an event, `set_deleted=False`) and never raised over the original
  error. One exception: when the job was (or may have been) started but was not seen to finish
  (poll timeout, no answer to the run, a lost instance link, an error while polling), the set
  is kept, because deleting the set a running job works on could stop it halfway; the event
  says so and names the set, and the next apply waits for the run and then deletes it.
- Unknown member ids are skipped (`fail_on_invalid_id=false`): a user deleted since the census
  must not stop the move of thousands; the engine's census accounts for everyone.
- Events carry ids of sets, jobs and instances, counts and statuses, never a patron's id, and
  errors from adding members have member ids masked (Alma's message names the first bad one).

Assumptions about real Alma (unverified; the sandbox is at least as strict):
- The job's id differs between institutions (M148 was seen at one), so without `id` in the
  template it is found by name (case and spaces aside) among `GET /conf/jobs?type=MANUAL`
  (read in pages of 100; the cost counts one page).
- Alma answers 402228 for any wizard parameter missing, 402229 for an empty mandatory value,
  402222/402223 at 3 running API jobs or 5 runs of one job in an hour.
- A run's answer links to its instance (`additional_info.link`). Statuses come from the
  `systemJobStatus` table and only COMPLETED_SUCCESS is documented; a run counts as ended when
  its status starts with COMPLETED, is one of FAILED/ABORTED/CANCELLED/SKIPPED, or it has an
  `end_time`; anything else is polled until the timeout (`bulk_steps` has the rest).
- Counter codes differ by job; they are passed on as Alma names them (name → int).
- The run's events are not read: Alma serves them only for jobs of category USERS/SIS (60332
  otherwise), they list rejected users by id, and the engine's census finds the residue anyway.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from reconciler.alma import AlmaClient
from reconciler.alma.bulk import JOB, MAX_SET_MEMBERS_PER_CALL
from reconciler.alma.normalise import code_of
from reconciler.apply import bulk_steps
from reconciler.apply.bulk_steps import PollPolicy
from reconciler.errors import (
    AlmaApiError,
    AlmaCall,
    AlmaJobLimitError,
    AlmaJobTemplateError,
    AlmaNetworkError,
    AlmaServerError,
    AlmaUnexpectedBodyError,
    BulkMoveError,
)
from reconciler.model import FILLED_BY_TOOL, UpdateUsersJobTemplate

# create set + look up job (one page) + run job + final read of the instance + delete set
_FIXED_CALLS = 5
DEFAULT_POLL = PollPolicy()  # frozen, so one shared default is safe
_MANDATORY_MESSAGE = re.compile(r":\s*(?P<name>[A-Za-z][A-Za-z0-9_]*)\s*\.?\s*$")

__all__ = ["BulkEvent", "BulkMoveOutcome", "PollPolicy", "bulk_move_cost", "run_bulk_move"]

BulkEventKind = Literal[
    "set_creating",
    "set_created",
    "members_added",
    "job_starting",
    "job_submitted",
    "job_finished",
    "set_deleted",
    "set_delete_failed",
    "set_kept",
]


def bulk_move_cost(users: int) -> int:
    """API calls of one bulk move of `users` members, excluding the polls while the job runs."""
    if users < 0:
        raise ValueError("users must not be negative")
    return _FIXED_CALLS + -(-users // MAX_SET_MEMBERS_PER_CALL)


@dataclass(frozen=True)
class BulkEvent:
    """One step of a bulk move, for the journal: ids and names of Alma objects (the set's before
    it has an id, the run's before it has one), counts; no patron data."""

    kind: BulkEventKind
    set_id: str
    name: str = ""
    job_id: str = ""
    instance_id: str = ""
    added: int = 0
    total: int = 0
    status: str = ""
    counters: Mapping[str, int] = field(default_factory=dict)
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The event as a JSON-ready mapping (only the fields that say something)."""
        values: dict[str, Any] = {"kind": self.kind, "set_id": self.set_id}
        for name in ("name", "job_id", "instance_id", "added", "total", "status", "detail"):
            if value := getattr(self, name):
                values[name] = value
        if self.counters:
            values["counters"] = dict(self.counters)
        return values


@dataclass(frozen=True)
class BulkMoveOutcome:
    """How the job ended. The engine still counts the group afresh: counters are not a census."""

    set_id: str
    job_id: str
    instance_id: str
    status: str
    counters: Mapping[str, int]
    polls: int  # reads of the instance that found it still running (or failed)
    set_deleted: bool

    @property
    def completed_successfully(self) -> bool:
        return self.status == "COMPLETED_SUCCESS"


def _ignore(_: BulkEvent) -> None:
    """The default event sink."""


def run_bulk_move(
    client: AlmaClient,
    *,
    slug: str,
    source: str,
    target: str,
    member_ids: Sequence[str],
    template: UpdateUsersJobTemplate,
    on_event: Callable[[BulkEvent], None] = _ignore,
    poll: PollPolicy = DEFAULT_POLL,
) -> BulkMoveOutcome:
    """Move `member_ids` from group `source` to `target` with one set and one job run."""
    members = list(dict.fromkeys(member_ids))  # a repeated id would be Alma's 60115
    if not members:
        raise ValueError("a bulk move needs at least one member")
    if not target:
        raise ValueError("a bulk move needs a target group")
    job_id = template.job_id or find_job_id(client, template, slug=slug)
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    set_name = f"alma-groups {slug} move {source} to {target} {stamp}"
    on_event(BulkEvent("set_creating", "", name=set_name, total=len(members)))
    set_id = bulk_steps.create_set(
        client,
        set_name,
        "Created by alma-groups apply for one bulk move; deleted when the job ends.",
        poll,
    )
    on_event(BulkEvent("set_created", set_id, total=len(members)))
    started = False  # a job that was started and not seen to end keeps its set
    instance_id, status, polls, deleted = "", "", 0, False
    counters: dict[str, int] = {}
    try:
        _add_members(client, set_id, members, on_event, poll)
        # named after its set, so a lost answer or a crash can find the run again
        run_name = (
            f"Update/Notify Users - via API - alma-groups {slug}: {source} to {target} "
            f"(set {set_id})"
        )
        parameters = template.parameters_for(set_id=set_id, target_group=target, run_name=run_name)
        on_event(BulkEvent("job_starting", set_id, name=run_name, job_id=job_id))
        try:
            instance_id = bulk_steps.start_run(client, job_id, parameters, run_name, poll)
        except AlmaApiError as error:
            # no answer, or a 5xx: the job may have started all the same, so its set stays
            started = isinstance(error, AlmaNetworkError | AlmaServerError)
            raise _explained(error, template) from error
        started = True
        if not instance_id:
            raise AlmaUnexpectedBodyError(
                AlmaCall("POST", JOB.format(job_id=job_id)),
                status=200,
                alma_message=f"the run of job {job_id} did not link to its instance",
            )
        on_event(BulkEvent("job_submitted", set_id, job_id=job_id, instance_id=instance_id))
        status, counters, polls = await_run(
            client, job_id, instance_id, poll, slug=slug, set_id=set_id, on_event=on_event
        )
        started = False
    finally:
        if started:
            on_event(
                BulkEvent(
                    "set_kept",
                    set_id,
                    job_id=job_id,
                    instance_id=instance_id,
                    detail="the job was started and not seen to end; the next apply waits for "
                    "it, then deletes the set",
                )
            )
        else:
            deleted = delete_set(client, set_id, on_event)
    return BulkMoveOutcome(set_id, job_id, instance_id, status, counters, polls, deleted)


def await_run(
    client: AlmaClient,
    job_id: str,
    instance_id: str,
    poll: PollPolicy,
    *,
    slug: str,
    set_id: str,
    on_event: Callable[[BulkEvent], None],
) -> tuple[str, dict[str, int], int]:
    """Wait for a run to end and report it (`job_finished`): its status, counters and polls.

    The same for a run this apply started and for one a killed apply left running.
    """
    instance, polls = bulk_steps.wait_for_run(
        client, job_id, instance_id, poll, slug=slug, set_id=set_id
    )
    status, counters = code_of(instance.get("status")), bulk_steps.counters(instance)
    on_event(
        BulkEvent(
            "job_finished",
            set_id,
            job_id=job_id,
            instance_id=instance_id,
            status=status,
            counters=counters,
        )
    )
    return status, counters, polls


def find_job_id(client: AlmaClient, template: UpdateUsersJobTemplate, *, slug: str) -> str:
    """The id of the manual job named as in the template; BulkMoveError when none or several."""
    jobs = list(client.iter_jobs("MANUAL"))
    wanted = template.job_name.strip().casefold()
    found = sorted(
        {str(j.get("id")) for j in jobs if j.get("name", "").strip().casefold() == wanted}
    )
    where = template.location.file
    if not found:
        raise BulkMoveError(
            f"{slug}: no manual job named {template.job_name!r} among the {len(jobs)} that "
            f'GET /conf/jobs?type=MANUAL lists; add the job\'s id as "id" in {where} (the '
            "Run-a-Job wizard's API-information URL shows it: /conf/jobs/<id>?op=run)"
        )
    if len(found) > 1:
        raise BulkMoveError(
            f"{slug}: {len(found)} manual jobs are named {template.job_name!r} "
            f'({", ".join(found)}); add the right one\'s id as "id" in {where}'
        )
    return found[0]


def _add_members(
    client: AlmaClient,
    set_id: str,
    members: list[str],
    on_event: Callable[[BulkEvent], None],
    poll: PollPolicy,
) -> None:
    """Chunks of at most 1000, one event per chunk; errors come back with member ids masked."""
    added = 0
    for start in range(0, len(members), MAX_SET_MEMBERS_PER_CALL):
        chunk = members[start : start + MAX_SET_MEMBERS_PER_CALL]
        try:
            bulk_steps.add_members(client, set_id, chunk, poll)
        except AlmaApiError as error:
            raise _masked(error, chunk) from None  # the cause's message names a member
        added += len(chunk)
        on_event(BulkEvent("members_added", set_id, added=added, total=len(members)))


def _masked(error: AlmaApiError, ids: Sequence[str]) -> AlmaApiError:
    """The same error with any of `ids` in Alma's message replaced by <member>."""
    known = set(ids)
    message = re.sub(
        r"[^\s:,;'\"()]+",
        lambda match: "<member>" if match.group(0) in known else match.group(0),
        error.alma_message,
    )
    masked = type(error)(
        error.call,
        status=error.status,
        alma_code=error.alma_code,
        alma_message=message,
        tracking_id=error.tracking_id,
    )
    for note in getattr(error, "__notes__", ()):
        masked.add_note(note)
    return masked


def _explained(error: AlmaApiError, template: UpdateUsersJobTemplate) -> AlmaApiError:
    """402228/402229 about the template's parameters, and the job limits, said plainly."""
    if error.alma_code in {"402222", "402223"}:
        return AlmaJobLimitError(
            error.call,
            status=error.status,
            alma_code=error.alma_code,
            alma_message=error.alma_message,
            tracking_id=error.tracking_id,
        )
    if error.alma_code in {"402228", "402229"}:
        match = _MANDATORY_MESSAGE.search(error.alma_message)
        parameter = match.group("name") if match else "(Alma did not say which)"
        if parameter not in FILLED_BY_TOOL:  # one the tool fills in would be our own bug
            return AlmaJobTemplateError(
                error, template_file=template.location.file, parameter=parameter
            )
    return error


def delete_set(client: AlmaClient, set_id: str, on_event: Callable[[BulkEvent], None]) -> bool:
    """Delete the set (one already gone counts); a failure becomes an event, never raised over
    the error that led here."""
    try:
        bulk_steps.delete_set(client, set_id)
    except AlmaApiError as error:
        on_event(BulkEvent("set_delete_failed", set_id, detail=str(error)))
        return False
    on_event(BulkEvent("set_deleted", set_id))
    return True
