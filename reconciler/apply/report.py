"""What an apply did to one institution, in counts: what the report renderers read.

No primary IDs here: failures carry Alma's error code and trackingId, skips carry their reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Failure:
    """A user operation Alma refused: its code and the trackingId Ex Libris support asks for."""

    operation: str  # move, purge, move_instead
    alma_code: str
    tracking_id: str


@dataclass(frozen=True)
class GroupReport:
    """One retired group: who moved, who was purged, who was left and why, and its row."""

    code: str
    target: str | None
    strategy: str = ""
    moved: int = 0
    purged: int = 0
    moved_instead_of_purged: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)
    failures: tuple[Failure, ...] = ()
    stale: str = ""  # why the group was left alone ("plan again")
    verified_empty: bool = False
    not_verified: str = ""  # why the row was left enabled
    row: str = ""  # what happened to its row: disabled, deleted, or "" (left as it was)


@dataclass(frozen=True)
class ApplyReport:
    """One institution's apply: per-group results, table rows changed, calls, how it ended."""

    slug: str
    run_id: str
    journal: str
    groups: tuple[GroupReport, ...] = ()
    rows: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # action -> codes
    mappings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    api_calls: int = 0
    stopped: str = ""  # why the run stopped early (daily limit, a table refused)
    refused: str = ""  # why it never started (lock held, over the daily budget)
    fresh_plan_changes: int | None = None  # changes a plan made right after still shows
    superseded: tuple[str, ...] = ()  # run ids of interrupted runs this run settled and closed

    @property
    def failed_users(self) -> int:
        return sum(len(g.failures) for g in self.groups)

    @property
    def complete(self) -> bool:
        """Everything done, nothing failed, and a fresh plan shows no changes."""
        return (
            not self.refused
            and not self.stopped
            and not self.failed_users
            and not any(g.stale or g.not_verified for g in self.groups)
            and self.fresh_plan_changes == 0
        )
