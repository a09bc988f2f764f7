"""Exact censuses: who is in a group, read in full, reduced to counts, and known to be complete.

Alma's `q=user_group~CODE` is a word match and its brief list items carry no group, so a
census pages with expand=full and keeps only users whose group is exactly the code. Paging
itself is not trusted (reconciler.reading.exact): a census is *exact* only when the distinct
users seen equal the total Alma reports. When the word-match reading is not exact after
`WORD_MATCH_READS` tries, a full scan without `q` (ordered by primary_id) is tried; when that is
not exact either, the census says so (`GroupCensus.exact` false, `not_exact_because` with the
numbers) and the plan turns it into a `census-not-exact` violation. A census is never quietly
short.

For apply (which disables a group only when a census says it is exactly empty):
- `exact_census(client, code, today) -> GroupCensus`: a fresh census; check `.exact`.
- `exact_members(client, code, today) -> GroupMembers`: the same, with the members' primary
  ids (personal data: for the run's own use and its local journal, never for git or logs).
- `is_empty_exactly(client, code, today) -> bool | None`: True only when an exact census finds
  no member, False when it finds some, None when no exact census could be taken. An empty
  group with no word matches costs one call.

What else leaves this module is aggregate (counts and a fingerprint of member ids), except
`affected_users`, which exists for the operator's opt-in CSV and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Protocol, TypeVar

from reconciler.alma import AlmaClient
from reconciler.alma.user_pages import CensusUser, Code
from reconciler.model.live import GroupCensus
from reconciler.reading.exact import Fetch, Verdict, pages_of, read_all
from reconciler.reading.tally import GroupTally, user_flags

WORD_MATCH_READS = 2  # readings of `q=user_group~CODE` before falling back to a full scan
FULL_SCANS = 2  # readings of every user (census_all) before calling the census not exact
FULL_SCAN_ORDER = "primary_id"  # without q, Alma orders by this: a stable order to page in


def word_query(code: str) -> str:
    """The q of a group count: Alma matches words, so this may also count similar codes."""
    return f"user_group~{code}"


class _Sink(Protocol):
    def add_many(self, users: Sequence[CensusUser], member_digests: Sequence[bytes]) -> None: ...


S = TypeVar("S", bound=_Sink)


def _exactly(client: AlmaClient, code: str, start: Callable[[], S]) -> tuple[S, str]:
    """Fill a fresh sink from an exact reading of `code`'s members; the sink and, when no
    reading was exact, why (with the numbers of every attempt)."""
    failures: list[str] = []

    def attempt(fetch: Fetch, *, concurrent: bool) -> tuple[S, Verdict]:
        sink = start()

        def keep(users: list[CensusUser], member_digests: list[bytes]) -> None:
            mine = [i for i, user in enumerate(users) if _group_of(user) == code]
            sink.add_many([users[i] for i in mine], [member_digests[i] for i in mine])

        many = client.iter_concurrently if concurrent else None
        return sink, read_all(fetch, keep, fetch_many=many)

    for number in range(1, WORD_MATCH_READS + 1):
        sink, verdict = attempt(pages_of(client, word_query(code)), concurrent=False)
        if verdict.exact:
            return sink, ""
        failures.append(f"word-match reading {number}: {verdict.why_not}")
        if verdict.total is None:
            break  # Alma gives no usable total for this query: reading it again will not help
    sink, verdict = attempt(pages_of(client, None, order_by=FULL_SCAN_ORDER), concurrent=True)
    if verdict.exact:
        return sink, ""
    failures.append(f"full scan of every user: {verdict.why_not}")
    return sink, "; ".join(failures)


def _group_of(user: CensusUser) -> str:
    """The user's group code, as `normalise.code_of` reads a code field."""
    field = user.user_group
    if isinstance(field, Code):
        field = field.value
    return "" if field is None else field.strip()


def exact_census(client: AlmaClient, code: str, today: date) -> GroupCensus:
    """The members of `code`, counted; `.exact` says whether every one was seen."""
    tally, why = _exactly(client, code, lambda: GroupTally(code, today))
    return tally.census(exact=not why, not_exact_because=why)


census = exact_census  # the name the readers use


class _MemberTally(GroupTally):
    """A tally that also keeps the member ids (for apply and the affected-users CSV)."""

    def __init__(self, code: str, today: date) -> None:
        super().__init__(code, today)
        self.ids: list[str] = []
        self.inactive_or_expired: set[str] = set()

    def add_many(self, users: Sequence[CensusUser], member_digests: Sequence[bytes]) -> None:
        super().add_many(users, member_digests)
        for user in users:
            self.ids.append(user.primary_id)
            if user_flags(user, self.today)["purge_candidates"]:
                self.inactive_or_expired.add(user.primary_id)


@dataclass(frozen=True)
class GroupMembers:
    """A census with its members' primary ids: personal data, never for git, logs or stdout."""

    census: GroupCensus
    primary_ids: tuple[str, ...]  # sorted
    inactive_or_expired: frozenset[str]  # purge candidates; loans, requests, fees unknown

    @property
    def exact(self) -> bool:
        return self.census.exact


def exact_members(client: AlmaClient, code: str, today: date) -> GroupMembers:
    """`exact_census` plus who the members are."""
    tally, why = _exactly(client, code, lambda: _MemberTally(code, today))
    return GroupMembers(
        tally.census(exact=not why, not_exact_because=why),
        tuple(sorted(tally.ids)),
        frozenset(tally.inactive_or_expired),
    )


def is_empty_exactly(client: AlmaClient, code: str, today: date) -> bool | None:
    """True: an exact census found no member; False: it found some; None: no exact census."""
    found = exact_census(client, code, today)
    return found.breakdown.total == 0 if found.exact else None


@dataclass(frozen=True)
class FullCensus:
    """The census of every group from one pass over all users (`census_all`).

    Every group shares the pass's exactness: when no pass saw exactly as many users as Alma
    reports, every census says so, the empty ones too.
    """

    groups: Mapping[str, GroupCensus]  # the codes users hold
    today: date
    exact: bool
    not_exact_because: str = ""

    def of(self, code: str) -> GroupCensus:
        """The census of `code`: empty when nobody holds it."""
        found = self.groups.get(code)
        if found is not None:
            return found
        return GroupTally(code, self.today).census(
            exact=self.exact, not_exact_because=self.not_exact_because
        )

    @property
    def users(self) -> int:
        """Distinct users counted (each holds one group)."""
        return sum(c.breakdown.total for c in self.groups.values())


def census_all(client: AlmaClient, today: date) -> FullCensus:
    """The census of every group, from one pass over all users, keyed by exact code.

    Cheaper than a census per group, which reads every word match of every code. The pages
    the first total promises are fetched concurrently under the client's limiter, a bounded
    window at a time, and counted as they arrive: memory holds counts and a compact set of
    ids, never the users. A pass that is not exact is made again once.
    """
    why = ""
    tallies: dict[str, GroupTally] = {}
    for number in range(1, FULL_SCANS + 1):
        tallies = {}

        def keep(
            users: list[CensusUser],
            member_digests: list[bytes],
            tallies: dict[str, GroupTally] = tallies,
        ) -> None:
            # the page's users by group, then each group's share tallied at once
            by_group: dict[str, tuple[list[CensusUser], list[bytes]]] = {}
            for user, member_digest in zip(users, member_digests, strict=True):
                # _group_of written out: this runs once per user of the consortium
                field = user.user_group
                if isinstance(field, Code):
                    field = field.value
                group = "" if field is None else field.strip()
                found = by_group.get(group)
                if found is None:
                    found = by_group[group] = ([], [])
                found[0].append(user)
                found[1].append(member_digest)
            for group, (members, digests) in by_group.items():
                tally = tallies.get(group)
                if tally is None:
                    tally = tallies[group] = GroupTally(group, today)
                tally.add_many(members, digests)

        fetch = pages_of(client, None, order_by=FULL_SCAN_ORDER)
        verdict = read_all(fetch, keep, fetch_many=client.iter_concurrently)
        why = "" if verdict.exact else f"full scan {number} of every user: {verdict.why_not}"
        if verdict.exact:
            break
    groups = {
        code: tally.census(exact=not why, not_exact_because=why) for code, tally in tallies.items()
    }
    return FullCensus(MappingProxyType(groups), today, exact=not why, not_exact_because=why)


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
) -> tuple[list[AffectedUser], GroupCensus]:
    """The members of `group` with what the plan does to each, and the census they came from.

    Read by the same exact census as the plan, so the CSV lists the users the plan counted;
    the census says whether the list is complete. A purge here means "inactive or expired":
    list items carry no loans, requests or fees, and apply re-checks each user before deleting.
    """
    members = exact_members(client, group, today)
    found = [
        AffectedUser(
            slug,
            group,
            "purge" if purge else "move",
            None if purge else target,
            primary_id,
        )
        for primary_id in members.primary_ids
        for purge in [purge_inactive and primary_id in members.inactive_or_expired]
    ]
    return sorted(found, key=lambda u: (u.action, u.primary_id)), members.census
