"""Exact censuses: who is in a group, read in full and reduced to counts on the spot.

Alma's `q=user_group~CODE` is a word match and its brief list items carry no group, so an exact
census pages with expand=full and keeps only users whose group is exactly the code. What leaves
this module is aggregate (counts and a fingerprint of member ids), except `affected_users`,
which exists for the operator's opt-in CSV and nothing else.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import as_date, as_float, code_of
from reconciler.alma.paging import MAX_PAGE_SIZE
from reconciler.alma.payloads import CensusUser
from reconciler.model.live import GroupCensus, UserBreakdown


def word_query(code: str) -> str:
    """The q of a group count: Alma matches words, so this may also count similar codes."""
    return f"user_group~{code}"


def census(client: AlmaClient, code: str, today: date) -> GroupCensus:
    """The exact members of `code`: every word match, read in full, kept only on exact code."""
    members = (
        user
        for user in client.iter_census_users(word_query(code))
        if code_of(user.get("user_group")) == code
    )
    return summarise(code, members, today)


def summarise(code: str, users: Iterable[CensusUser], today: date) -> GroupCensus:
    """Counts and a member fingerprint; the ids are hashed and dropped here."""
    counts: dict[str, int] = dict.fromkeys(UserBreakdown.__dataclass_fields__, 0)
    digest = hashlib.sha256()
    ids: list[str] = []
    # users are tallied by kind (six facts, at most 64 kinds) and the kinds turned into the
    # fourteen counts at the end: per user, that is one tuple instead of fourteen additions
    kinds: Counter[_Kind] = Counter()
    newest: date | None = None
    for user in users:
        ids.append(str(user.get("primary_id", "")))
        kinds[_kind(user, today)] += 1
        # Alma's user JSON has no modification date; status_date is the closest it gives
        changed = as_date(user.get("status_date"))
        if changed and (newest is None or changed > newest):
            newest = changed
    for kind, users_of_kind in kinds.items():
        for name, on in _flags_of(kind).items():
            counts[name] += users_of_kind * on
    for member in sorted(ids):  # sorted: the fingerprint of a set, not of Alma's page order
        digest.update(member.encode() + b"\n")
    return GroupCensus(
        code=code,
        breakdown=UserBreakdown(**counts),
        member_fingerprint="sha256:" + digest.hexdigest(),
        newest_modification=newest,
    )


def census_all(client: AlmaClient, today: date) -> dict[str, GroupCensus]:
    """The exact census of every group, from one pass over all users, keyed by exact code.

    Cheaper than a census per group, which reads every word match of every code. The first
    page gives Alma's total, so the pages it promises are fetched concurrently under the
    client's limiter (latency hides behind the rate limit); as in `reconciler.alma.paging`,
    only a short page ends the walk, so a total that is too low costs calls, never users.
    """
    members: defaultdict[str, list[CensusUser]] = defaultdict(list)
    seen: set[str] = set()  # offset paging over a changing list can show a user twice

    def page_at(offset: int) -> tuple[CensusUser, ...]:
        return client.census_page(offset=offset).users

    def keep(users: tuple[CensusUser, ...]) -> bool:
        for user in users:
            primary_id = str(user.get("primary_id", ""))
            if primary_id and primary_id in seen:
                continue
            seen.add(primary_id)
            members[code_of(user.get("user_group"))].append(user)
        return len(users) == MAX_PAGE_SIZE  # a full page: there may be more

    first = client.census_page(offset=0)
    more = keep(first.users)
    offset = MAX_PAGE_SIZE
    if more and first.total:
        # up to and including the page at `total`, which confirms the end when the total is
        # an exact multiple of the page size
        promised = list(range(MAX_PAGE_SIZE, first.total + 1, MAX_PAGE_SIZE))
        for users in client.map_concurrently(page_at, promised):
            more = keep(users)
        offset = (promised[-1] + MAX_PAGE_SIZE) if promised else offset
    while more:
        more = keep(page_at(offset))
        offset += MAX_PAGE_SIZE
    return {code: summarise(code, users, today) for code, users in members.items()}


def _count(user: Mapping[str, Any], key: str) -> float:
    """loans/requests/fees arrive as {"value": "3"}, a bare number, or null when not expanded."""
    value = user.get(key)
    if value is None:  # the usual case on list pages: a quick way out of the per-user path
        return 0.0
    if isinstance(value, Mapping):
        value = value.get("value")
    return as_float(value, default=0.0) or 0.0


# inactive, expired, external, with loans, with requests, with fees
_Kind = tuple[bool, bool, bool, bool, bool, bool]


def _kind(user: Mapping[str, Any], today: date) -> _Kind:
    expiry = as_date(user.get("expiry_date"))
    return (
        code_of(user.get("status")) == "INACTIVE",
        expiry is not None and expiry < today,
        code_of(user.get("account_type")) == "EXTERNAL",
        _count(user, "loans") > 0,
        _count(user, "requests") > 0,
        _count(user, "fees") > 0,
    )


def _flags(user: Mapping[str, Any], today: date) -> dict[str, bool]:
    return _flags_of(_kind(user, today))


def _flags_of(kind: _Kind) -> dict[str, bool]:
    inactive, expired, external, loans, requests, fees = kind
    candidate = inactive or expired
    return {
        "total": True,
        "active": not inactive,
        "inactive": inactive,
        "expired": expired,
        "internal": not external,
        "external": external,
        "with_loans": loans,
        "with_requests": requests,
        "with_fees": fees,
        "purge_candidates": candidate,
        "purgeable": candidate and not (loans or requests or fees),
        "blocked_by_loans": candidate and loans,
        "blocked_by_requests": candidate and requests,
        "blocked_by_fees": candidate and fees,
    }


@dataclass(frozen=True)
class AffectedUser:
    """One user a plan would move or purge. Holds a primary ID: for the operator's local CSV
    only, never for git, logs or comments."""

    slug: str
    group: str
    action: str  # "move" or "purge"
    target: str | None
    primary_id: str


def affected_users(
    client: AlmaClient,
    slug: str,
    group: str,
    *,
    target: str | None,
    purge_inactive: bool,
    today: date,
) -> list[AffectedUser]:
    """The members of `group` with what the plan does to each (same rules as the census)."""
    found = []
    for user in client.iter_census_users(word_query(group)):
        if code_of(user.get("user_group")) != group:
            continue
        purge = purge_inactive and _flags(user, today)["purgeable"]
        found.append(
            AffectedUser(
                slug,
                group,
                "purge" if purge else "move",
                None if purge else target,
                str(user.get("primary_id", "")),
            )
        )
    return sorted(found, key=lambda u: (u.action, u.primary_id))
