"""Who is in a group right now, and whether that list is known to be complete.

The reading is `reconciler.reading.census.exact_members`: an exact census (distinct users seen
equal Alma's total, re-read or scanned in full when not) or one that says why it is not. Apply
moves whoever the list holds (each user is re-read before its write anyway), but touches a
group's row only after an *exact* census reads zero. The ids here are personal data: they go
to the journal, never to a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reconciler.alma import AlmaClient
from reconciler.alma.paging import MAX_PAGE_SIZE
from reconciler.reading.census import exact_members


@dataclass(frozen=True)
class Member:
    """A member of a group as apply needs it: who, and whether it is a purge candidate."""

    primary_id: str
    purge_candidate: bool  # inactive or expired (loans, requests and fees are checked later)


@dataclass(frozen=True)
class Members:
    """The members of one group, and whether the list is complete."""

    code: str
    members: tuple[Member, ...]
    exact: bool
    why_not_exact: str = ""

    def __len__(self) -> int:
        return len(self.members)


def census_calls(users: int) -> int:
    """Calls of one census of a group of `users`: full pages, and the short page that ends it."""
    return users // MAX_PAGE_SIZE + 1


def read_members(client: AlmaClient, code: str, today: date) -> Members:
    """A fresh census of `code` with its members, exact or saying why not."""
    found = exact_members(client, code, today)
    members = tuple(
        Member(primary_id, primary_id in found.inactive_or_expired)
        for primary_id in found.primary_ids
    )
    return Members(code, members, found.exact, found.census.not_exact_because)
