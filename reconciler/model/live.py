"""Live Alma as frozen dataclasses: what the reader saw, reduced to what the plan compares.

Only aggregates live here. A census counts users and fingerprints the set of members, but
never keeps who they are: the plan, its JSON and its comments must stay free of personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from types import MappingProxyType


@dataclass(frozen=True)
class LiveGroup:
    """One row of Alma's UserGroups code table."""

    code: str
    description: str
    enabled: bool = True
    default: bool = False


@dataclass(frozen=True)
class RecordTypeMapping:
    """One row of the UserRecordTypeUserGroup mapping table: which record type may use a group."""

    record_type: str
    user_group: str
    enabled: bool = True


@dataclass(frozen=True)
class UserBreakdown:
    """Counts of a group's users, from an exact census; all zero for an empty group."""

    total: int = 0
    active: int = 0
    inactive: int = 0
    expired: int = 0
    internal: int = 0
    external: int = 0
    with_loans: int = 0
    with_requests: int = 0
    with_fees: int = 0
    # purge candidates are inactive or expired users; those without loans, requests or fees
    # are purgeable, the rest are blocked, and the blocked_* counts say why (they overlap).
    # A census reads list items, which carry no loans, requests or fees: there every
    # candidate counts as purgeable, and apply re-checks each user before deleting.
    purge_candidates: int = 0
    purgeable: int = 0
    blocked_by_loans: int = 0
    blocked_by_requests: int = 0
    blocked_by_fees: int = 0


@dataclass(frozen=True)
class GroupCensus:
    """The census of one group (paged with expand=full, filtered on the exact code).

    `exact` is true only when every user Alma reports was seen (reconciler.reading.exact);
    otherwise the counts are what was seen, `not_exact_because` says why with the numbers,
    and no plan may move, verify or disable the group on them.
    """

    code: str
    breakdown: UserBreakdown
    member_fingerprint: str  # a digest of the set of member ids: detects change, reveals no one
    newest_modification: date | None = None
    exact: bool = True
    not_exact_because: str = ""


@dataclass(frozen=True)
class RuleReference:
    """A configuration row that names a group code (Analytics rules report, other tables)."""

    source: str  # e.g. "Fulfillment unit rules (Analytics)" or "mapping table PatronLimits"
    name: str  # the rule or row's name as Alma shows it
    group_code: str


@dataclass(frozen=True)
class LiveState:
    """One institution's live Alma, as read for one plan."""

    slug: str
    groups: tuple[LiveGroup, ...]
    mappings: tuple[RecordTypeMapping, ...] = ()
    # cheap counts (q=user_group~CODE, limit=1): a word match, so at least the real size;
    # None where Alma answered -1 (unknown), which is never the same as 0
    estimated_counts: Mapping[str, int | None] = field(default_factory=lambda: MappingProxyType({}))
    census: Mapping[str, GroupCensus] = field(default_factory=lambda: MappingProxyType({}))
    total_users: int | None = 0  # None: Alma did not say
    references: tuple[RuleReference, ...] = ()
    daily_calls_left: int | None = None
    last_sis_run: datetime | None = None
    warnings: tuple[str, ...] = ()  # what could not be read but did not stop the read
    # API calls this read made (first tries; retries aside), so a plan can count what reading
    # the institution again costs; 0 for a state not read from Alma
    read_calls: int = 0

    def group(self, code: str) -> LiveGroup | None:
        return self._groups_by_code.get(code)

    @cached_property
    def _groups_by_code(self) -> Mapping[str, LiveGroup]:
        # the diff asks once per desired group: a scan each time is quadratic in big tables;
        # the first row wins, as the scan it replaces did
        by_code: dict[str, LiveGroup] = {}
        for group in self.groups:
            by_code.setdefault(group.code, group)
        return by_code

    def users_in(self, code: str) -> int | None:
        """The census's count when one was taken, else the cheap estimate (None: unknown)."""
        census = self.census.get(code)
        if census is not None:
            return census.breakdown.total
        return self.estimated_counts.get(code, 0)

    def record_types_of(self, code: str) -> tuple[str, ...]:
        return tuple(sorted(m.record_type for m in self.mappings if m.user_group == code))
