"""The bulk move's calls to Alma, each safe to try again after a fault or a crash.

A POST that gets no answer, a 5xx or a 429 may or may not have been carried out, and the client
never repeats a POST by itself. So each step that creates something in Alma names it uniquely
and, before trying again, looks for what the lost try may have made:
- a set is created under a name unique to the run (`alma-groups <slug> move A to B <stamp>`);
  after a fault, or on resume when a crash came before its id was journaled, it is found by
  that name among the institution's USER sets (read whole: names are compared exactly);
- members are added a chunk at a time; after a fault the set's members are read and only the
  chunk's missing ones are added again (a repeated id would be Alma's 60115);
- a job run is named after its set; after a fault, or on resume when a crash came before its
  instance id was journaled, its instance is found by that name among the job's runs since
  the day before;
- reading a running instance is a GET: a read that fails after the client's own retries is one
  poll fewer, not an error, until the wait times out;
- deleting a set that is already gone counts as deleted (a delete whose answer was lost).
Up to `MAX_TRIES` tries per step; the pause between them comes from the run's PollPolicy.

Assumptions about real Alma (unverified; the sandbox behaves so and is no kinder): set names
are unique per institution (402263); an instance's `name` is the run's `job_name` parameter;
an instance shows in the job's list as soon as the run is accepted; the job keeps running
when the client that started it dies.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import code_of
from reconciler.alma.payloads import JobInstance
from reconciler.errors import AlmaApiError, AlmaNotFoundError, BulkMoveError

MAX_TRIES = 5
NAME_TAKEN = "402263"
_ENDED = frozenset({"FAILED", "ABORTED", "CANCELLED", "SKIPPED"})


@dataclass(frozen=True)
class PollPolicy:
    """How to wait for the job: delays grow by `factor` from `first_delay_s` to `max_delay_s`,
    and the wait gives up after `timeout_s`. `sleep` and `clock` are injectable for tests."""

    first_delay_s: float = 2.0
    factor: float = 1.5
    max_delay_s: float = 60.0
    timeout_s: float = 3 * 3600.0  # 50,000 users take Alma tens of minutes, not hours
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.first_delay_s <= 0 or self.factor < 1 or self.max_delay_s < self.first_delay_s:
            raise ValueError("poll delays must be positive, growing, and capped above the first")

    def delays(self) -> Iterator[float]:
        """first, first·factor, ... capped at max_delay_s, forever."""
        delay = self.first_delay_s
        while True:
            yield delay
            delay = min(delay * self.factor, self.max_delay_s)


def _tries(poll: PollPolicy) -> Iterator[int]:
    """Try numbers 1..MAX_TRIES, pausing by the policy's delays between them."""
    delays = poll.delays()
    for attempt in range(1, MAX_TRIES + 1):
        if attempt > 1:
            poll.sleep(next(delays))
        yield attempt


def create_set(client: AlmaClient, name: str, description: str, poll: PollPolicy) -> str:
    """The id of a new itemized USER set named `name` (or of the one a lost try made)."""
    for attempt in _tries(poll):
        try:
            return str(client.create_set(name, description=description)["id"])
        except AlmaApiError as error:
            if not (error.retryable or error.alma_code == NAME_TAKEN) or attempt == MAX_TRIES:
                raise
        found = find_set(client, name)
        if found:
            return found
    raise AssertionError("unreachable: the last try returns or raises")  # pragma: no cover


def find_set(client: AlmaClient, name: str) -> str:
    """The id of the USER set named exactly `name`, or "" when there is none."""
    return next((str(s["id"]) for s in client.iter_sets() if s.get("name") == name), "")


def add_members(client: AlmaClient, set_id: str, chunk: Sequence[str], poll: PollPolicy) -> None:
    """Add one chunk (at most 1000 ids); after a fault, only the ids the set still lacks."""
    missing = list(chunk)
    for attempt in _tries(poll):
        try:
            client.add_set_members(set_id, missing, fail_on_invalid_id=False)
        except AlmaApiError as error:
            if not error.retryable or attempt == MAX_TRIES:
                raise
        else:
            return
        present = set(client.iter_set_members(set_id))
        missing = [m for m in missing if m not in present]
        if not missing:
            return


def start_run(
    client: AlmaClient, job_id: str, parameters: dict[str, str], run_name: str, poll: PollPolicy
) -> str:
    """Run the job (its `job_name` parameter is `run_name`); the new instance's id ("" when
    Alma's answer did not link to it)."""
    since = datetime.now(UTC) - timedelta(days=1)
    for attempt in _tries(poll):
        try:
            return client.run_job(job_id, parameters).instance_id
        except AlmaApiError as error:
            if not error.retryable or attempt == MAX_TRIES:
                raise
        found = find_run(client, job_id, run_name, since)
        if found:
            return found
    raise AssertionError("unreachable: the last try returns or raises")  # pragma: no cover


def find_run(client: AlmaClient, job_id: str, run_name: str, since: datetime) -> str:
    """The newest instance of `job_id` named `run_name` submitted on or after `since`, or ""."""
    for instance in client.iter_job_instances(job_id, submit_date_from=since.date()):
        if instance.get("name") == run_name:
            return str(instance.get("id", ""))
    return ""


def wait_for_run(
    client: AlmaClient, job_id: str, instance_id: str, poll: PollPolicy, *, slug: str, set_id: str
) -> tuple[JobInstance, int]:
    """Read the instance with growing pauses until it ends; (last read, reads that found it
    still running or could not read it)."""
    deadline = poll.clock() + poll.timeout_s
    last: JobInstance | None = None
    for polls, delay in enumerate(poll.delays()):
        try:
            last = client.get_job_instance(job_id, instance_id)
        except AlmaApiError as error:
            if not error.retryable:
                raise
        else:
            if ended(last):
                return last, polls
        remaining = deadline - poll.clock()
        if remaining <= 0:
            status = code_of(last.get("status")) if last else ""
            progress = last.get("progress", "?") if last else "?"
            raise BulkMoveError(
                f"{slug}: job {job_id} run {instance_id} has not ended after "
                f"{_duration(poll.timeout_s)} (status {status or '?'}, progress {progress}%); "
                "it may still be running: check Monitor Jobs in Alma, then run apply again, "
                "which waits for it, counts the group afresh and moves who is left; set "
                f"{set_id} was kept for the job and is deleted once it ends"
            )
        poll.sleep(min(delay, remaining))
    raise AssertionError("unreachable: delays() never ends")  # pragma: no cover


def ended(instance: JobInstance) -> bool:
    """Whether a run has ended: COMPLETED_*, FAILED/ABORTED/CANCELLED/SKIPPED, or an end time."""
    status = code_of(instance.get("status")).upper()
    return status.startswith("COMPLETED") or status in _ENDED or bool(instance.get("end_time"))


def counters(instance: JobInstance) -> dict[str, int]:
    """Counter code → value; values that are not whole numbers are left out."""
    found: dict[str, int] = {}
    for counter in instance.get("counter") or ():
        name = code_of(counter.get("type"))
        value = str(counter.get("value", "")).strip()
        if name and value.lstrip("-").isdigit():
            found[name] = int(value)
    return found


def delete_set(client: AlmaClient, set_id: str) -> None:
    """Delete the set; one already gone counts as deleted. Raises AlmaApiError otherwise."""
    try:
        client.delete_set(set_id)
    except AlmaNotFoundError:
        return
    except AlmaApiError as error:
        if error.retryable:
            raise
        try:  # refused: perhaps a try whose answer was lost deleted it already
            client.get_set(set_id)
        except AlmaNotFoundError:
            return
        raise


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
