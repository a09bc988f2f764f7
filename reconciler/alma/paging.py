"""Walk an Alma list endpoint page by page, trusting the pages more than the total.

Design decision: `total_record_count` never decides when to stop; only the pages do. Alma
reports -1 for some queries, over-reports for others, and answers past the end with an empty
list and the old total, so the walk stops at the first empty or short page. Not trusting the
total either way costs one extra call when the count is an exact multiple of the page size, and
buys a census that cannot stop early on a total that is too low.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.alma.normalise import as_int, as_list

MAX_PAGE_SIZE = 100  # Alma's ceiling for `limit` on users, sets, jobs and profiles

FetchPage = Callable[[int, int], Mapping[str, Any]]


@dataclass(frozen=True)
class Page:
    """One page of a list: its records and the total Alma claimed (-1 or None: unknown)."""

    records: tuple[Any, ...]
    total: int | None


def read_page(envelope: Mapping[str, Any], list_key: str) -> Page:
    """The records under `list_key` (one object or a list) and `total_record_count`."""
    records = tuple(as_list(envelope.get(list_key)))
    return Page(records=records, total=reported_total(envelope.get("total_record_count")))


def reported_total(value: object) -> int | None:
    """A list's `total_record_count` as a number; None when Alma says -1 (unknown) or none."""
    total = as_int(value)
    return None if total is None or total < 0 else total


def iter_records(
    fetch_page: FetchPage,
    list_key: str,
    *,
    page_size: int = MAX_PAGE_SIZE,
    max_records: int | None = None,
) -> Iterator[Any]:
    """Yield every record; `fetch_page(limit, offset)` returns one list envelope."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    offset = 0
    while True:
        page = read_page(fetch_page(page_size, offset), list_key)
        for record in page.records:
            if max_records is not None and offset >= max_records:
                return
            yield record
            offset += 1
        if len(page.records) < page_size:
            return  # empty or short page: the end, whatever the total says
