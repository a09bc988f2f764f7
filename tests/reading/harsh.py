"""A users list as harsh as Alma's: reordered word-match pages, short pages, wrong totals.

`HarshUsers` stands in for the client's users endpoints (`census_page`, `iter_concurrently`)
and breaks every promise real Alma has been seen to break, each on purpose and on cue.
"""

from __future__ import annotations

import hashlib
import random
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from reconciler.alma.user_pages import CensusPage, CensusUser, census_user

T = TypeVar("T")
R = TypeVar("R")


class Record(dict[str, Any]):
    """A user record as Alma sends it."""


class WatchedId(str):
    """A primary id that can be watched with a weak reference. A census user is an untracked
    Struct, which takes no weak reference; its id lives as long as it does, so watching the
    id shows who still holds the user."""


def person(number: int, group: str, *, status: str = "ACTIVE") -> Record:
    return Record(
        primary_id=f"p{number:06d}",
        user_group={"value": group},
        status={"value": status},
        account_type={"value": "EXTERNAL"},
    )


def people(count: int, group: str, *, start: int = 0) -> list[Record]:
    return [person(n, group) for n in range(start, start + count)]


@dataclass
class Call:
    q: str | None
    offset: int
    order_by: str | None


@dataclass
class HarshUsers:
    """`users` as Alma would page them.

    - with `q` (a word match on the group code), the order is a fresh shuffle on every call
      when `reorder` is set, else a fixed shuffle (never primary_id order);
    - `short` maps (q, offset) to how many records to leave out of that page, for the first
      `short_times` calls of it (None: every call);
    - `totals` maps q to the total to report instead of the truth (-1: unknown).
    """

    users: list[Record]
    reorder: bool = True
    short: dict[tuple[str | None, int], int] = field(default_factory=dict)
    short_times: int | None = 1
    totals: dict[str | None, int] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    alive_high_water: int = 0  # most records handed out and still held by anyone
    max_workers: int = 4
    _rng: random.Random = field(default_factory=lambda: random.Random(5))  # noqa: S311
    _handed: list[weakref.ref[WatchedId]] = field(default_factory=list)

    def matches(self, q: str | None) -> list[Record]:
        if q is None:
            return sorted(self.users, key=lambda u: u["primary_id"])
        word = q.removeprefix("user_group~")
        found = [u for u in self.users if word in u["user_group"]["value"].split()]
        return sorted(found, key=lambda u: hashlib.blake2b(u["primary_id"].encode()).digest())

    def census_page(
        self,
        *,
        offset: int,
        q: str | None = None,
        limit: int = 100,
        order_by: str | None = None,
    ) -> CensusPage:
        """The client's census page: the census fields of a page of full records."""
        self.calls.append(Call(q, offset, order_by))
        found = self.matches(q)
        if q is not None and self.reorder:
            self._rng.shuffle(found)
        page = found[offset : offset + limit]
        key = (q, offset)
        if key in self.short:
            times = sum(1 for c in self.calls if (c.q, c.offset) == key)
            if self.short_times is None or times <= self.short_times:
                page = page[: max(0, len(page) - self.short[key])]
        total = self.totals.get(q, len(found))
        # new objects on every call, as Alma sends them
        users = tuple(
            msgspec.structs.replace(census_user(r), primary_id=WatchedId(r["primary_id"]))
            for r in page
        )
        self._watch(users)
        return CensusPage(users, None if total < 0 else total)

    def iter_concurrently(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        return (fn(item) for item in items)

    def map_concurrently(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        return [fn(item) for item in items]

    def _watch(self, users: tuple[CensusUser, ...]) -> None:
        self._handed = [ref for ref in self._handed if ref() is not None]
        self.alive_high_water = max(self.alive_high_water, len(self._handed))
        self._handed += [weakref.ref(user.primary_id) for user in users]  # WatchedId each
