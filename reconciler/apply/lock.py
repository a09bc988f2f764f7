"""One apply per institution at a time, across machines: a lock kept in Alma itself, renewed.

Mechanism: an itemized USER set named `alma-groups-apply-lock`, created in the institution's
Alma (the API key fixes the institution) with the owner, run id and expiry in its description.
Alma refuses a second set of the same name (402263), so two machines racing to create it cannot
both succeed; after creating it, the lock is read back, and only the owner whose run id is in
the one set of that name holds it. Every machine that can reach the institution's Alma sees
the same lock, unlike a local file lock (one machine) or GitHub's concurrency group (CI only).

Renewal: while a run holds the lock it renews it every third of its time to live, from the
journal's write guard (`keep`, run before each intent, i.e. before every write to Alma), not
from a thread of its own. Why: only a run that is making progress keeps its lock (a hung run
loses it when it expires, where a heartbeat thread would keep a stuck process's lock alive for
ever); the check that renews is also the one that notices a take-over, right before a write,
so a run that lost its lock stops before its next write without any signalling between
threads; and nothing runs after the run ends. The longest stretch without a write is a bulk
job's wait (`PollPolicy.timeout_s`, 3 h), shorter than the time to live less the renewal
interval (6 h - 2 h), so a living run's lock never expires (a test pins this).
A renewal only uses calls the lock already uses (no set update, which the reference does not
document): it reads the lock's sets, creates a *renewal* set named `alma-groups-apply-lock
renewal <run id> <expiry>` with the new expiry in its description, then deletes the previous
one. The lock set itself is never deleted while held, so there is no moment without a lock. Its
expiry, for every machine, is the latest of its own and of the renewal sets of the same run.

Guarantee and limits: mutual exclusion holds as long as Alma enforces unique set names (it
does in the API docs; the sandbox enforces it too) and no one breaks a live lock by hand. A
lock is stale after `DEFAULT_TTL` (6 h) without a renewal, after which the next apply replaces
it; `--break-lock` replaces it at once. A run whose lock was taken over finds out at its next
renewal, and always before its first write after its lock could have expired; it then stops
cleanly (journaled, resumable) and leaves the new holder's lock alone. A crashed run leaves its
lock until it expires: resume with the same journal re-takes it (same run id) when the process
that held it is gone from this machine; held from another machine, or by a process still
running here, it needs --break-lock (so two processes never resume one journal at once).
Assumption about real Alma: `GET /conf/sets?q=name~alma-groups-apply-lock` also lists the
renewal sets, whose names start with that word (the sandbox lists every set; the names are
checked here either way).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from reconciler.alma import AlmaClient
from reconciler.alma.payloads import AlmaSet
from reconciler.errors import AlmaApiError, AlmaDailyLimitError, LockHeldError, LockLostError

LOCK_NAME = "alma-groups-apply-lock"
RENEWAL_NAME = f"{LOCK_NAME} renewal"
DEFAULT_TTL = timedelta(hours=6)
RENEWALS_PER_TTL = 3  # renew every third of the time to live
NAME_TAKEN = "402263"
ACQUIRE_CALLS = 2  # create the set, read it back
RELEASE_CALLS = 1  # delete the set
RENEW_CALLS = 3  # read the lock's sets, create the next renewal, delete the previous one

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def renew_every(ttl: timedelta = DEFAULT_TTL) -> timedelta:
    return ttl / RENEWALS_PER_TTL


def lock_cost(run_seconds: float, ttl: timedelta = DEFAULT_TTL) -> int:
    """API calls of holding the lock for a run of `run_seconds`: take, renew, release.

    The first renewal deletes no earlier one, and the release deletes the last: RENEW_CALLS a
    renewal in all.
    """
    renewals = int(max(run_seconds, 0.0) // renew_every(ttl).total_seconds())
    return ACQUIRE_CALLS + RELEASE_CALLS + RENEW_CALLS * renewals


@dataclass(frozen=True)
class LockInfo:
    """What the lock's description says: who holds it, for which run, until when."""

    owner: str
    run_id: str
    expires: datetime

    def describe(self) -> str:
        return f"owner={self.owner};run={self.run_id};expires={self.expires.isoformat()}"

    @classmethod
    def parse(cls, text: str) -> LockInfo | None:
        fields = dict(part.partition("=")[::2] for part in text.split(";") if "=" in part)
        try:
            return cls(fields["owner"], fields["run"], datetime.fromisoformat(fields["expires"]))
        except (KeyError, ValueError):
            return None


class AlmaLock:
    """The apply lock of one institution; use as a context manager, and `keep` before writes."""

    def __init__(
        self,
        client: AlmaClient,
        run_id: str,
        *,
        ttl: timedelta = DEFAULT_TTL,
        break_lock: bool = False,
        owner: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.ttl = ttl
        self.break_lock = break_lock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.clock = clock
        self._set_id: str | None = None
        self._renewal_id: str | None = None
        self._expires = datetime.min.replace(tzinfo=UTC)
        self._due = self._expires  # when the next renewal is due
        self._lost = ""  # why the lock is no longer ours ("" while it is)
        self._keeping = threading.Lock()  # one renewal at a time; writers wait for it

    def acquire(self, now: datetime | None = None) -> None:
        now = now or self.clock()
        info = LockInfo(self.owner, self.run_id, now + self.ttl)
        for _ in range(4):  # a stale lock is removed, a lost answer looked for, then again
            try:
                created = self.client.create_set(LOCK_NAME, description=info.describe())
            except AlmaApiError as error:
                if error.retryable:  # no answer: the set may exist all the same
                    sent = info.describe()
                    mine = [s for s in self._held() if str(s.get("description")) == sent]
                    if mine:
                        self._taken(str(mine[0]["id"]), now)
                        return
                    continue
                if error.alma_code != NAME_TAKEN:
                    raise
                self._clear_or_refuse(now)
                continue
            self._taken(str(created["id"]), now)
            return
        raise LockHeldError(f"{self.client.name}: could not take the apply lock; try again")

    def keep(self) -> None:
        """The write guard: renew the lock when due; raise LockLostError once it is not ours."""
        with self._keeping:
            if self._lost:
                raise LockLostError(self._lost)
            if self._set_id is None:
                return  # not taken (or released): nothing to keep
            now = self.clock()
            if now >= self._due:
                self._renew(now)

    def release(self) -> None:
        """Delete the lock (only while it is ours) and its renewal."""
        with self._keeping:
            if self._set_id is not None:
                self.client.delete_set(self._set_id)
                self._set_id = None
            if self._renewal_id is not None:
                self.client.delete_set(self._renewal_id)
                self._renewal_id = None

    def __enter__(self) -> AlmaLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

    def _taken(self, set_id: str, now: datetime) -> None:
        self._set_id = set_id
        self._confirm()
        self._expires = now + self.ttl
        self._due = now + renew_every(self.ttl)

    def _renew(self, now: datetime) -> None:
        try:
            family = self._family()
            held = [str(s.get("id")) for s in family if s.get("name") == LOCK_NAME]
            if held != [self._set_id]:
                self._set_id = None  # someone else's now: never delete it
                self._lost = self._lost_because(family)
                raise LockLostError(self._lost)
            expires = now + self.ttl
            renewal = self.client.create_set(
                f"{RENEWAL_NAME} {self.run_id} {expires:%Y%m%dT%H%M%SZ}",
                description=LockInfo(self.owner, self.run_id, expires).describe(),
            )
        except AlmaDailyLimitError:
            raise
        except AlmaApiError:
            if now >= self._expires:
                self._lost = f"{self.client.name}: the apply lock expired and could not be renewed"
                raise LockLostError(self._lost) from None
            self._due = now + renew_every(self.ttl) / 12  # try again a little later
            return
        previous, self._renewal_id = self._renewal_id, str(renewal["id"])
        self._expires = expires
        self._due = now + renew_every(self.ttl)
        if previous is not None:
            self.client.delete_set(previous)

    def _lost_because(self, family: Sequence[AlmaSet]) -> str:
        holders = [
            LockInfo.parse(str(s.get("description") or ""))
            for s in family
            if s.get("name") == LOCK_NAME
        ]
        who = next((f"{h.owner}, run {h.run_id}" for h in holders if h is not None), "nobody")
        return f"{self.client.name}: the apply lock was taken over (now held by {who})"

    def _family(self) -> list[AlmaSet]:
        """The lock's set and every renewal set, whoever made them."""
        return [
            s
            for s in self.client.iter_sets(q=f"name~{LOCK_NAME}")
            if s.get("name") == LOCK_NAME or str(s.get("name")).startswith(RENEWAL_NAME + " ")
        ]

    def _held(self) -> list[AlmaSet]:
        return [s for s in self._family() if s.get("name") == LOCK_NAME]

    def _clear_or_refuse(self, now: datetime) -> None:
        family = self._family()
        renewals = [s for s in family if s.get("name") != LOCK_NAME]
        for held in [s for s in family if s.get("name") == LOCK_NAME]:
            info = _renewed(LockInfo.parse(str(held.get("description") or "")), renewals)
            mine = info is not None and info.run_id == self.run_id and self._dead_or_me(info)
            stale = info is None or info.expires <= now
            if info is not None and not (mine or stale or self.break_lock):
                raise LockHeldError(
                    f"{self.client.name}: another apply holds the lock ({info.owner}, run "
                    f"{info.run_id}, until {info.expires:%Y-%m-%d %H:%M} UTC); wait for it, or "
                    "use --break-lock if that run is dead",
                    holder_run=info.run_id,
                )
            self.client.delete_set(str(held["id"]))
            for renewal in renewals:  # the cleared lock's renewals go with it
                if info is None or info.run_id in str(renewal.get("name")):
                    self.client.delete_set(str(renewal["id"]))

    def _dead_or_me(self, info: LockInfo) -> bool:
        """Whether this run's lock (same run id) was left by this process or by a dead one.

        Only a process of this machine can be seen to be gone; a lock of this run held from
        another machine (a CI runner, say) may still be in use there: --break-lock takes it.
        """
        if info.owner == self.owner:
            return True
        host, _, pid = info.owner.rpartition(":")
        if host != socket.gethostname() or not pid.isdigit():
            return False
        try:
            os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
        except ProcessLookupError:
            return True
        except PermissionError:  # it exists, under another user
            return False
        return False

    def _confirm(self) -> None:
        """Read the lock back: exactly one set of that name, and it is ours."""
        held = self._held()
        if [str(s.get("id")) for s in held] != [self._set_id]:
            self.release()
            raise LockHeldError(f"{self.client.name}: lost a race for the apply lock; try again")


def _renewed(info: LockInfo | None, renewals: Sequence[AlmaSet]) -> LockInfo | None:
    """The lock as renewed: its expiry is the latest of its own and its run's renewals'."""
    if info is None:
        return None
    later = [
        renewed.expires
        for renewed in (LockInfo.parse(str(s.get("description") or "")) for s in renewals)
        if renewed is not None and renewed.run_id == info.run_id
    ]
    return replace(info, expires=max([info.expires, *later]))
