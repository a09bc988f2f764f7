"""Read every user of a `GET /users` list and know whether every one was seen.

Alma's paging cannot be trusted on its own (reference/alma-api.md, issue 9):
- with `q`, results are not ordered by primary_id, so two reads may order them differently;
- a page may hold fewer records than `limit` while `total_record_count` promises more;
- `total_record_count` may be -1 (unknown) or differ from what paging yields.

Design decisions:
- A reading counts the *distinct* users it saw (as 64-bit digests of their primary ids: a
  compact set, 8 bytes of hash per user instead of the record) and keeps every total Alma
  reported. The digest is the first 8 bytes of the id's sha256, and `keep` is handed the
  whole sha256 with the user: the census's member fingerprint sums those, so each user is
  hashed once. `keep` takes a page's new users at once. A reading is exact only when all
  the totals agree, none is -1, and the distinct users seen equal that total. Nothing else
  is called exact.
- The walk never stops at a short page while the total promises more: it goes on to the
  total, then reads each short page again. A total that is too low costs calls (full pages
  are followed past it), never users.
- Pages are taken in offset order even when fetched concurrently, and only a bounded window
  of pages is in flight, so memory is bounded by pages, not by the institution.
- A 64-bit digest collision would make two users count as one: the reading would then see
  fewer users than the total and say it is not exact, never the reverse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from reconciler.alma import AlmaClient
from reconciler.alma.paging import MAX_PAGE_SIZE
from reconciler.alma.user_pages import CensusPage, CensusUser

PAGE = MAX_PAGE_SIZE
SHORT_PAGE_REREADS = 2  # a short page is asked again this often before the reading gives up
# Concurrently fetched pages are counted this many at a time, back to back. At Alma's pace a
# page arrives every 50 ms and, counted alone, found the interpreter's caches cold: recorded
# pages read one at a time, paced at 20 a second, cost 23-25 µs per user, counted four at a
# time 15.5-16 (issue 11). Four pages wait at most 0.2 s and hold about 1,200 small objects.
TAKEN_TOGETHER = 4


@dataclass(frozen=True)
class Verdict:
    """Whether a reading saw every user Alma says matches, and the numbers behind it."""

    exact: bool
    seen: int  # distinct users seen
    reported: tuple[int, ...]  # the distinct totals Alma reported (-1: unknown)
    why_not: str = ""  # a sentence with the numbers when not exact

    @property
    def total(self) -> int | None:
        """Alma's total when it gave one consistent, known total."""
        if len(self.reported) == 1 and self.reported[0] >= 0:
            return self.reported[0]
        return None


@dataclass
class Reading:
    """One attempt at reading a list: distinct users seen, totals given, short pages met."""

    keep: Keep  # called once per page, with the page's users not seen before
    seen: set[int] = field(default_factory=set)
    totals: set[int] = field(default_factory=set)
    short: list[int] = field(default_factory=list)

    def take(self, offset: int, page: CensusPage) -> bool:
        """Count a page; whether the walk must go on after it."""
        self.totals.add(-1 if page.total is None else page.total)
        seen, sha256 = self.seen, hashlib.sha256
        users: list[CensusUser] = []
        members: list[bytes] = []
        for user in page.users:
            member = sha256(user.primary_id.encode()).digest()
            digest = int.from_bytes(member[:8])
            if digest not in seen:  # offset paging over a shifting list shows some users twice
                seen.add(digest)
                users.append(user)
                members.append(member)
        new = len(users)
        if users:
            self.keep(users, members)
        promised = page.total is not None and offset + PAGE < page.total
        if len(page.users) >= PAGE:
            # a full page: more may follow, unless Alma repeats itself past its own total
            return promised or new > 0
        if promised:
            self.short.append(offset)  # short while the total promises more: read it again
            return True
        return False

    def verdict(self) -> Verdict:
        reported = tuple(sorted(self.totals))
        seen = len(self.seen)
        if -1 in self.totals:
            why = f"Alma did not say how many users match (total -1); {seen:,} were seen"
            return Verdict(False, seen, reported, why)
        if len(reported) > 1:
            told = " and ".join(f"{t:,}" for t in reported)
            why = f"Alma's total changed while reading ({told}); {seen:,} users were seen"
            return Verdict(False, seen, reported, why)
        total = reported[0] if reported else 0
        if seen != total:
            why = f"Alma reported {total:,} users but {seen:,} distinct users were seen"
            return Verdict(False, seen, reported, why)
        return Verdict(True, seen, reported)


Fetch = Callable[[int], CensusPage]
# (users, the sha256 of each one's primary id): a page's users not seen before, once per page
# (one call a page, not one a user: this path runs once per user of the consortium)
Keep = Callable[[list[CensusUser], list[bytes]], None]


def read_all(
    fetch: Fetch,
    keep: Keep,
    *,
    fetch_many: Callable[[Fetch, Iterable[int]], Iterator[CensusPage]] | None = None,
) -> Verdict:
    """Walk a list to its end, read short pages again, and judge the reading.

    `fetch(offset)` returns one page of `PAGE` records. With `fetch_many` (pages fetched
    concurrently, yielded in offset order), the pages the first total promises are read
    side by side and counted `TAKEN_TOGETHER` at a time; the walk then goes on page by page
    for as long as pages come back full.
    """
    reading = Reading(keep)
    first = fetch(0)
    more = reading.take(0, first)
    offset = 0
    if more and fetch_many is not None and first.total:
        promised = range(PAGE, first.total + 1, PAGE)  # the last one confirms the end
        arrived = zip(promised, fetch_many(fetch, promised), strict=True)
        batch: list[tuple[int, CensusPage]] = []
        while True:
            batch.clear()  # counted pages go before the next ones arrive: memory holds a batch
            batch.extend(islice(arrived, TAKEN_TOGETHER))
            if not batch:
                break
            for offset, counted in batch:
                more = reading.take(offset, counted)
            del counted
    while more:
        offset += PAGE
        more = reading.take(offset, fetch(offset))
    for _ in range(SHORT_PAGE_REREADS):
        if reading.verdict().exact or not reading.short:
            break
        again, reading.short = reading.short, []
        for offset in again:
            reading.take(offset, fetch(offset))
    return reading.verdict()


def pages_of(client: AlmaClient, q: str | None, *, order_by: str | None = None) -> Fetch:
    """`fetch(offset)` for `read_all`: `PAGE` full records at a time, cut to the census fields."""

    def fetch(offset: int) -> CensusPage:
        # census fields only (reconciler.alma.user_pages): a census reads nine fields of a
        # user, and decoding only those is most of what keeps the client's CPU per user low
        return client.census_page(offset=offset, q=q, limit=PAGE, order_by=order_by)

    return fetch
