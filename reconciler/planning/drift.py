"""Drift: how live Alma differs from main, and the likely cause of each difference. Pure.

Drift is a plan made when nobody proposed anything: every change it holds is a difference
between git and Alma. Each is given a likely cause, with the evidence, so the nightly issue
says what to do rather than only that something moved:

- **patron load**: users are back in a group that was emptied, and a load file dated after
  the last apply (or, without one, inside the look-back) assigns that group; or an SIS load ran
  after the last apply and its files are not in the history yet (weaker: say so);
- **reconciler run**: the last apply that touched the group did not finish, or failed there;
- **staff edit**: the change is newer than both: apply finished the group, no later load
  explains it; code-table rows are never edited by loads, so a row that differs from what a
  finished apply set is a staff edit;
- **unknown**: nothing we hold explains it (no apply journal for the group, no load).

The journals that tell us about apply runs are read elsewhere and handed in as `AppliedRun`s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from reconciler.model.changes import Action
from reconciler.model.history import PatronLoadHistory
from reconciler.model.live import LiveState
from reconciler.model.plan import Rule

USER_ACTIONS = frozenset({Action.MOVE_USERS, Action.PURGE_USERS, Action.VERIFY_EMPTY})


class Cause(StrEnum):
    PATRON_LOAD = "patron load"
    RECONCILER_RUN = "reconciler run"
    STAFF_EDIT = "staff edit"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class AppliedRun:
    """What one apply journal says, reduced to what drift needs (no patron data)."""

    slug: str
    run_id: str
    started_at: datetime
    finished_at: datetime | None  # None: the run stopped before its end (crash, daily limit)
    codes: frozenset[str]  # groups it worked on
    failed_codes: frozenset[str] = frozenset()  # groups where an operation failed


@dataclass(frozen=True)
class DriftItem:
    """One difference between git and Alma, its likely cause, and why we think so."""

    code: str | None
    difference: str
    cause: Cause
    evidence: str


@dataclass(frozen=True)
class InstitutionDrift:
    slug: str
    items: tuple[DriftItem, ...]

    @property
    def drifted(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class DriftFacts:
    """Everything drift weighs for one institution."""

    live: LiveState
    history: PatronLoadHistory | None
    runs: Sequence[AppliedRun]
    lookback_days: int
    today: date


@dataclass(frozen=True)
class Difference:
    """A change or violation of the drift plan, seen as a difference to explain."""

    action: Action | Rule
    code: str | None
    text: str


def classify(slug: str, differences: Sequence[Difference], facts: DriftFacts) -> InstitutionDrift:
    """Give each difference of one institution its likely cause and the evidence."""
    items = tuple(_classify_one(d, facts) for d in differences)
    return InstitutionDrift(slug, items)


def _last_run(code: str | None, runs: Sequence[AppliedRun]) -> AppliedRun | None:
    touching = [r for r in runs if code is None or code in r.codes]
    return max(touching, key=lambda r: r.started_at, default=None)


def _classify_one(difference: Difference, facts: DriftFacts) -> DriftItem:
    run = _last_run(difference.code, facts.runs)
    if run is not None and (run.finished_at is None or difference.code in run.failed_codes):
        how = "did not finish" if run.finished_at is None else "failed for this group"
        evidence = f"apply run {run.run_id} of {run.started_at:%Y-%m-%d %H:%M} {how}"
        return _item(difference, Cause.RECONCILER_RUN, evidence)
    if difference.action in USER_ACTIONS:
        return _users_back(difference, facts, run)
    if difference.action is Rule.UNMANAGED_GROUP:
        return _item(difference, Cause.STAFF_EDIT, "a row created in Alma, not in git")
    if run is not None and run.finished_at is not None:
        evidence = (
            f"apply run {run.run_id} set it on {run.finished_at:%Y-%m-%d}; "
            "patron loads never edit code tables"
        )
        return _item(difference, Cause.STAFF_EDIT, evidence)
    return _item(difference, Cause.UNKNOWN, "no apply journal touches it: not applied yet?")


def _users_back(difference: Difference, facts: DriftFacts, run: AppliedRun | None) -> DriftItem:
    code = difference.code or ""
    applied = run.finished_at if run is not None else None
    since = applied.date() if applied else facts.today - timedelta(days=facts.lookback_days)
    sightings = facts.history.seen_since(code, since) if facts.history else []
    if sightings:
        newest = sightings[-1]
        evidence = f"load file of {newest.file_date} assigns {newest.users} users to {code}"
        return _item(difference, Cause.PATRON_LOAD, evidence)
    sis = _aware(facts.live.last_sis_run)
    applied = _aware(applied)
    covered = facts.history.newest_file_date() if facts.history else None
    if (
        sis is not None
        and (applied is None or sis > applied)
        and (covered is None or covered < sis.date())
    ):
        evidence = (
            f"an SIS load ran {sis:%Y-%m-%d %H:%M}, after the last apply; its files are not "
            "in the history yet (ingest them to confirm)"
        )
        return _item(difference, Cause.PATRON_LOAD, evidence)
    if run is not None and applied is not None:
        evidence = f"users joined after apply run {run.run_id} ({applied:%Y-%m-%d}); no load since"
        return _item(difference, Cause.STAFF_EDIT, evidence)
    return _item(difference, Cause.UNKNOWN, "no apply journal and no patron load explains it")


def _aware(moment: datetime | None) -> datetime | None:
    """Alma's times may come without a zone; they are UTC, as the journals' are."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _item(difference: Difference, cause: Cause, evidence: str) -> DriftItem:
    return DriftItem(difference.code, difference.text, cause, evidence)
