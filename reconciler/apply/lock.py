"""One apply per institution at a time, across machines: a lock kept in Alma itself.

Mechanism: an itemized USER set named `alma-groups-apply-lock`, created in the institution's
Alma (the API key fixes the institution) with the owner, run id and expiry in its description.
Alma refuses a second set of the same name (402263), so two machines racing to create it cannot
both succeed; after creating it, the lock is read back, and only the owner whose run id is in
the one set of that name holds it. Every machine that can reach the institution's Alma sees
the same lock, unlike a local file lock (one machine) or GitHub's concurrency group (CI only).

Guarantee and limits: mutual exclusion holds as long as Alma enforces unique set names (it
does in the API docs; the sandbox enforces it too) and no one breaks a live lock by hand.
A lock is stale after `DEFAULT_TTL` (6 h, longer than any apply the daily budget allows),
after which the next apply replaces it; `--break-lock` replaces it at once. A crashed run
leaves its lock until then: resume with the same journal re-takes it (same run id).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reconciler.alma import AlmaClient
from reconciler.alma.payloads import AlmaSet
from reconciler.errors import AlmaApiError, LockHeldError

LOCK_NAME = "alma-groups-apply-lock"
DEFAULT_TTL = timedelta(hours=6)
NAME_TAKEN = "402263"


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
    """The apply lock of one institution; use as a context manager."""

    def __init__(
        self,
        client: AlmaClient,
        run_id: str,
        *,
        ttl: timedelta = DEFAULT_TTL,
        break_lock: bool = False,
        owner: str | None = None,
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.ttl = ttl
        self.break_lock = break_lock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self._set_id: str | None = None

    def acquire(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        info = LockInfo(self.owner, self.run_id, now + self.ttl)
        for _ in range(4):  # a stale lock is removed, a lost answer looked for, then again
            try:
                created = self.client.create_set(LOCK_NAME, description=info.describe())
            except AlmaApiError as error:
                if error.retryable:  # no answer: the set may exist all the same
                    mine = [s for s in self._held() if self.run_id in str(s.get("description"))]
                    if mine:
                        self._set_id = str(mine[0]["id"])
                        self._confirm()
                        return
                    continue
                if error.alma_code != NAME_TAKEN:
                    raise
                self._clear_or_refuse(now)
                continue
            self._set_id = str(created["id"])
            self._confirm()
            return
        raise LockHeldError(f"{self.client.name}: could not take the apply lock; try again")

    def release(self) -> None:
        if self._set_id is not None:
            self.client.delete_set(self._set_id)
            self._set_id = None

    def __enter__(self) -> AlmaLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

    def _held(self) -> list[AlmaSet]:
        return [
            s for s in self.client.iter_sets(q=f"name~{LOCK_NAME}") if s.get("name") == LOCK_NAME
        ]

    def _clear_or_refuse(self, now: datetime) -> None:
        for held in self._held():
            info = LockInfo.parse(str(held.get("description") or ""))
            mine = info is not None and info.run_id == self.run_id
            stale = info is None or info.expires <= now
            if info is not None and not (mine or stale or self.break_lock):
                raise LockHeldError(
                    f"{self.client.name}: another apply holds the lock ({info.owner}, run "
                    f"{info.run_id}, until {info.expires:%Y-%m-%d %H:%M} UTC); wait for it, or "
                    "use --break-lock if that run is dead"
                )
            self.client.delete_set(str(held["id"]))

    def _confirm(self) -> None:
        """Read the lock back: exactly one set of that name, and it is ours."""
        held = self._held()
        if [str(s.get("id")) for s in held] != [self._set_id]:
            self.release()
            raise LockHeldError(f"{self.client.name}: lost a race for the apply lock; try again")
