"""Who is in a group right now, and whether that list can be trusted to be complete.

Alma's `q=user_group~CODE` is a word match with no stable order, and a page may hold fewer
records than asked while more remain (DESIGN.md, "Alma facts"). A list of members is *exact*
only when the distinct records seen over the word match equal the total Alma reported; one
re-read is tried, and a list that still falls short says so, so that the caller leaves the
group's row enabled instead of disabling a group that may still have users.

The records keep only what apply decides on (id, status, expiry): no names, no contacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import as_date, code_of
from reconciler.alma.paging import MAX_PAGE_SIZE
from reconciler.reading.census import word_query


@dataclass(frozen=True)
class Member:
    """A member of a group as apply needs it: who, and whether it is a purge candidate."""

    primary_id: str
    inactive: bool
    expired: bool

    @property
    def purge_candidate(self) -> bool:
        return self.inactive or self.expired


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


def read_members(client: AlmaClient, code: str, today: date, *, attempts: int = 2) -> Members:
    """The exact members of `code`, or the best list found with the reason it is not exact."""
    seen: dict[str, Member | None] = {}  # every word match; None for those in other groups
    total: int | None = None
    for _ in range(attempts):
        offset = 0
        while True:
            page = client.search_users(
                word_query(code), limit=MAX_PAGE_SIZE, offset=offset, expand_full=True
            )
            total = page.total if page.total is not None else total
            for user in page.users:
                primary_id = str(user.get("primary_id") or "")
                if not primary_id:
                    continue
                if code_of(user.get("user_group")) != code:
                    seen.setdefault(primary_id, None)
                    continue
                expiry = as_date(user.get("expiry_date"))
                seen[primary_id] = Member(
                    primary_id,
                    inactive=code_of(user.get("status")) == "INACTIVE",
                    expired=expiry is not None and expiry < today,
                )
            if len(page.users) < MAX_PAGE_SIZE:
                break
            offset += MAX_PAGE_SIZE
        if total is not None and len(seen) >= total:
            break
    members = tuple(sorted((m for m in seen.values() if m), key=lambda m: m.primary_id))
    if total is None:
        return Members(code, members, False, "Alma did not say how many users match (-1)")
    if len(seen) < total:
        why = f"read {len(seen)} of the {total} users Alma counts for the word match"
        return Members(code, members, False, why)
    return Members(code, members, True)
