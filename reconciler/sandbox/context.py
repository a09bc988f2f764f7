"""What every endpoint handler gets: the store, the calling institution and a few helpers.

Handlers start background jobs through `JobStarter`, a one-method protocol, so this module
needs nothing from `jobs.py` (which imports it): the runner satisfies the protocol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from reconciler.sandbox.http import API_PREFIX
from reconciler.sandbox.store import Store

if TYPE_CHECKING:
    from reconciler.sandbox.faults import FaultInjector


class JobStarter(Protocol):
    """Starts a submitted job instance in the background (`jobs.JobRunner` does)."""

    def start(self, inst: str, instance_id: str) -> None: ...


@dataclass(frozen=True)
class Ctx:
    """One request's view of the sandbox: the institution is fixed by the API key."""

    store: Store
    inst: str
    alma_code: str
    inst_name: str
    base_url: str
    jobs: JobStarter
    faults: FaultInjector | None = None  # list quirks (short pages, wrong totals), if any
    strict_user_put: bool = True  # refuse a user PUT that changes more than user_group

    def link(self, path: str) -> str:
        return f"{self.base_url}{API_PREFIX}{path}"


def now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime | None = None) -> str:
    """Alma's timestamp form: 2025-10-05T09:11:32.592Z."""
    moment = moment or now()
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def datestamp(moment: datetime | None = None) -> str:
    """Alma's date form: 2025-10-05Z."""
    return (moment or now()).strftime("%Y-%m-%dZ")


def loads(text: str) -> Any:
    return json.loads(text)


def code(value: str, desc: str = "") -> dict[str, str]:
    """A code-table-backed field as JSON shows it."""
    return {"value": value, "desc": desc}
