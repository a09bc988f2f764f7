"""Move strategies, each with its cost beside its run, and the cost of every other apply step.

Design decision: the plan's API-call estimate is computed from these functions (planning
imports them), so the number a reviewer sees and the calls apply makes cannot drift apart.

- per-user: GET the full record and PUT it back with only `user_group` changed, two calls a
  user, run concurrently under the institution's token bucket. Below `bulk_threshold` users in
  one group, and whenever the institution has no job template, this is the strategy.
- bulk: an itemized set and the Update/Notify Users job (`reconciler.apply.bulk_move`), then a
  fresh census and a per-user mop-up of the residue; chosen at or above `bulk_threshold` users
  when the institution has a job template.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from reconciler.alma import AlmaClient
from reconciler.apply.bulk_move import BulkEvent, PollPolicy, bulk_move_cost, run_bulk_move
from reconciler.apply.bulk_resume import BULK_EVENT
from reconciler.apply.journal import Journal
from reconciler.apply.members import census_calls, read_members
from reconciler.apply.moves import DONE, FAILED, UserOutcome, move_user
from reconciler.errors import AlmaDailyLimitError
from reconciler.model import InstitutionState, UpdateUsersJobTemplate

DEFAULT_BULK_THRESHOLD = 1000
PER_USER_CALLS = 2  # GET, PUT
PURGE_CALLS = 2  # GET with expand=loans,requests,fees, DELETE
TABLE_WRITE_CALLS = 2  # GET the whole table, PUT it back

Progress = Callable[[int], None]  # called with the number of users just finished


@dataclass
class MoveTally:
    """Outcomes of a batch of user operations (mutable while the batch runs)."""

    done: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: list[UserOutcome] = field(default_factory=list)
    stopped: AlmaDailyLimitError | None = None  # Alma's daily limit ended the batch early
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, outcome: UserOutcome) -> None:
        with self._lock:
            if outcome.status == DONE:
                self.done += 1
            elif outcome.status == FAILED:
                self.failed.append(outcome)
            else:
                self.skipped[outcome.why] = self.skipped.get(outcome.why, 0) + 1


def per_user_cost(users: int) -> int:
    return PER_USER_CALLS * users


def bulk_cost(users: int) -> int:
    """Set, chunks of members, job run and clean-up (polls aside), then the residue census."""
    return bulk_move_cost(users) + census_calls(0)


def purge_cost(users: int) -> int:
    return PURGE_CALLS * users


def members_cost(users: int) -> int:
    """Reading the members before moving them (the census apply acts on)."""
    return census_calls(users)


def verify_cost() -> int:
    """The fresh census of a group that should be empty: one short page."""
    return census_calls(0)


def uses_bulk(users: int, *, bulk_threshold: int, has_template: bool) -> bool:
    return has_template and users >= bulk_threshold


def move_cost(users: int, *, bulk_threshold: int, has_template: bool) -> int:
    """Calls to move `users` out of one group, by the strategy apply will choose."""
    if uses_bulk(users, bulk_threshold=bulk_threshold, has_template=has_template):
        return members_cost(users) + bulk_cost(users)
    return members_cost(users) + per_user_cost(users)


class PerUserMove:
    """GET → change user_group → PUT, concurrently under the institution's rate limit."""

    name = "per-user"

    @staticmethod
    def cost(users: int) -> int:
        return per_user_cost(users)

    def run(
        self,
        client: AlmaClient,
        journal: Journal,
        member_ids: Sequence[str],
        *,
        source: str,
        target: str,
        progress: Progress | None = None,
    ) -> MoveTally:
        """Move each member still in `source`; a daily-limit stop leaves the rest untouched."""
        tally = MoveTally()
        stop = threading.Event()
        again: list[str] = []  # failed on a passing fault once the client's retries ran out

        def one(user_id: str, *, last_try: bool = False) -> None:
            if stop.is_set():
                return
            try:
                outcome = move_user(client, journal, user_id, source=source, target=target)
            except AlmaDailyLimitError as error:
                stop.set()
                tally.stopped = error
                return
            if outcome.status == FAILED and outcome.retryable and not last_try:
                again.append(user_id)  # list.append is atomic; the second pass reads it after
                return
            tally.add(outcome)
            if progress is not None:
                progress(1)

        client.map_concurrently(one, member_ids)
        # one more pass for users a fault storm outlasted: the move re-reads each one first
        client.map_concurrently(lambda user_id: one(user_id, last_try=True), again)
        return tally


class BulkMove:
    """An itemized set and the Update/Notify Users job, then a per-user mop-up of the residue.

    The member ids are journaled (one intent) before the job starts, so a rollback or a resume
    knows whom the job may have moved; each step of the job goes to the journal as a note
    tagged with the move's op id (Alma ids and names, no patron data), so a resume can find
    the set and the run a killed apply left (`reconciler.apply.bulk_resume`). The op id is
    unique per attempt: a resumed run that starts a second job journals it apart. The job's
    counters are not trusted: a fresh census finds whoever is still in the group, and those
    are moved one by one.
    """

    name = "bulk"

    def __init__(
        self, template: UpdateUsersJobTemplate, *, slug: str, today: date, poll: PollPolicy
    ) -> None:
        self.template = template
        self.slug = slug
        self.today = today
        self.poll = poll

    @staticmethod
    def cost(users: int) -> int:
        return bulk_cost(users)

    def run(
        self,
        client: AlmaClient,
        journal: Journal,
        member_ids: Sequence[str],
        *,
        source: str,
        target: str,
        progress: Progress | None = None,
    ) -> MoveTally:
        """Run the job over `member_ids`, then move the residue per user."""
        op_id = f"bulk:{source}->{target}:{uuid.uuid4().hex[:8]}"
        journal.intent(
            op_id, "bulk_move", group_before=source, group_after=target, users=list(member_ids)
        )

        def note(event: BulkEvent) -> None:
            journal.note(BULK_EVENT, bulk=op_id, **event.as_dict())

        outcome = run_bulk_move(
            client,
            slug=self.slug,
            source=source,
            target=target,
            member_ids=member_ids,
            template=self.template,
            on_event=note,
            poll=self.poll,
        )
        journal.outcome(
            op_id, "bulk_move", outcome.status, counters=dict(outcome.counters), polls=outcome.polls
        )
        residue = read_members(client, source, self.today)
        asked = set(member_ids)
        left = [m.primary_id for m in residue.members if m.primary_id in asked]
        if progress is not None:
            progress(len(member_ids) - len(left))
        mop_up = PerUserMove().run(
            client, journal, left, source=source, target=target, progress=progress
        )
        mop_up.done += len(member_ids) - len(left)
        return mop_up


def choose_strategy(
    users: int, state: InstitutionState, *, today: date, poll: PollPolicy
) -> PerUserMove | BulkMove:
    """Bulk at or above the institution's `bulk_threshold` when it has a job template."""
    template = state.update_users_job
    threshold = state.institution.bulk_threshold
    if template is not None and uses_bulk(users, bulk_threshold=threshold, has_template=True):
        return BulkMove(template, slug=state.institution.slug, today=today, poll=poll)
    return PerUserMove()
