"""Read one institution's live Alma into a `LiveState`: tables, counts, censuses, references.

Cheap first, exact where it matters: every group gets a one-call count (a word match, so an
upper bound), and only the groups under review (retired, unmanaged, or asked for) get an exact
census, paged with expand=full and filtered on the exact code. A census keeps counts and a
fingerprint of member ids, never the ids themselves: what leaves this module is aggregate.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from types import MappingProxyType
from typing import Any, cast

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import as_bool, as_date, as_float, as_timestamp, code_of
from reconciler.alma.paging import MAX_PAGE_SIZE
from reconciler.alma.payloads import User
from reconciler.alma.users import UserPage
from reconciler.model import InstitutionState
from reconciler.model.live import (
    GroupCensus,
    LiveGroup,
    LiveState,
    RecordTypeMapping,
    RuleReference,
    UserBreakdown,
)

USER_GROUPS_TABLE = "UserGroups"
RECORD_TYPE_TABLE = "UserRecordTypeUserGroup"
RULES_SOURCE = "fulfillment rules (Analytics)"


@dataclass(frozen=True)
class ReadOptions:
    """What to read beyond the tables and counts."""

    today: date
    also_census: frozenset[str] = frozenset()  # groups to census even if not under review
    since: date | None = None  # look for patron-load runs after this day
    # the survey's read: one pass over every user gives an exact census of every group and
    # replaces the per-group counts (see census_all)
    census_everything: bool = False


def word_query(code: str) -> str:
    """The q of a group count: Alma matches words, so this may also count similar codes."""
    return f"user_group~{code}"


def read_live(client: AlmaClient, state: InstitutionState, options: ReadOptions) -> LiveState:
    """Everything the plan and the survey need to know about one institution's Alma."""
    if options.census_everything:
        return read_live_with_full_census(client, state, options)
    groups = read_groups(client)  # first: every other read depends on the codes
    codes = [group.code for group in groups]
    listed = state.user_groups.kept_codes() | state.user_groups.retired_codes()
    review = {c for c in codes if c in state.user_groups.retired_codes() or c not in listed}
    review |= {c for c in options.also_census if c in codes}
    since = options.since or options.today - timedelta(days=30)
    # Everything else is independent: run it all at once under the institution's limit, the
    # chains (census pages, report pages, job history) first so they are not left for last.
    # The institution's total (for the percentage threshold) and the rules report (for
    # references) only matter when a group is being retired: skip their calls otherwise.
    retiring = bool(state.user_groups.retired_codes() & set(codes))
    tasks: list[Callable[[], object]] = [
        *(partial(census, client, code, options.today) for code in sorted(review)),
        partial(_list, read_references(client, state, codes) if retiring else ()),
        partial(last_patron_load_run, client, since),
        partial(read_record_type_mappings, client),
        partial(client.search_users, limit=1) if retiring else partial(_no_page),
        *(partial(client.count_users, word_query(code)) for code in codes),
    ]
    results = client.map_concurrently(lambda task: task(), tasks)
    censuses = [r for r in results[: len(review)] if isinstance(r, GroupCensus)]
    references, last_run, mappings, everyone = results[len(review) : len(review) + 4]
    counts = {
        code: count if isinstance(count, int) else 0
        for code, count in zip(codes, results[len(review) + 4 :], strict=True)
    }
    assert isinstance(everyone, UserPage)  # noqa: S101 - the task list fixes each type
    assert isinstance(mappings, tuple)  # noqa: S101
    assert isinstance(references, list)  # noqa: S101
    assert last_run is None or isinstance(last_run, datetime)  # noqa: S101
    total = everyone.total or sum(counts.values())
    return LiveState(
        slug=state.institution.slug,
        groups=groups,
        mappings=mappings,
        estimated_counts=MappingProxyType(counts),
        census=MappingProxyType({c.code: c for c in censuses}),
        total_users=total,
        references=tuple(references),
        daily_calls_left=client.api_remaining,
        last_sis_run=last_run,
    )


def _list(items: Iterable[RuleReference]) -> list[RuleReference]:
    return list(items)


def _no_page() -> UserPage:
    return UserPage(users=(), total=None)


def read_groups(client: AlmaClient) -> tuple[LiveGroup, ...]:
    table = client.get_code_table(USER_GROUPS_TABLE)
    return tuple(
        LiveGroup(
            code=str(row.get("code", "")).strip(),
            description=" ".join(str(row.get("description", "")).split()),
            enabled=as_bool(row.get("enabled"), default=True),
            default=as_bool(row.get("default")),
        )
        for row in table.get("row", [])
        if str(row.get("code", "")).strip()
    )


def read_record_type_mappings(client: AlmaClient) -> tuple[RecordTypeMapping, ...]:
    """Rows of UserRecordTypeUserGroup: column0 is the record type, column1 the group code."""
    table = client.get_mapping_table(RECORD_TYPE_TABLE)
    return tuple(
        RecordTypeMapping(
            record_type=str(row.get("column0", "")).strip(),
            user_group=str(row.get("column1", "")).strip(),
            enabled=as_bool(row.get("enabled"), default=True),
        )
        for row in table.get("row", [])
    )


def census(client: AlmaClient, code: str, today: date) -> GroupCensus:
    """The exact members of `code`: every word match, read in full, kept only on exact code."""
    members = (
        user
        for user in client.iter_users(word_query(code))
        if code_of(user.get("user_group")) == code
    )
    return summarise(code, members, today)


def summarise(code: str, users: Iterable[User], today: date) -> GroupCensus:
    """Counts and a member fingerprint; the ids are hashed and dropped here."""
    counts: dict[str, int] = dict.fromkeys(UserBreakdown.__dataclass_fields__, 0)
    digest = hashlib.sha256()
    ids: list[str] = []
    newest: date | None = None
    for user in users:
        ids.append(str(user.get("primary_id", "")))
        flags = _flags(user, today)
        for name, on in flags.items():
            counts[name] += int(on)
        # Alma's user JSON has no modification date; status_date is the closest it gives
        changed = as_date(user.get("status_date"))
        if changed and (newest is None or changed > newest):
            newest = changed
    for member in sorted(ids):  # sorted: the fingerprint of a set, not of Alma's page order
        digest.update(member.encode() + b"\n")
    return GroupCensus(
        code=code,
        breakdown=UserBreakdown(**counts),
        member_fingerprint="sha256:" + digest.hexdigest(),
        newest_modification=newest,
    )


# the fields summarise() reads: a full record is kilobytes, and a census of a large
# institution holds every user until the last page is in
_CENSUS_FIELDS = (
    "primary_id",
    "user_group",
    "status",
    "status_date",
    "expiry_date",
    "account_type",
    "loans",
    "requests",
    "fees",
)


def _slim(page: UserPage) -> tuple[User, ...]:
    kept = ({k: v for k, v in user.items() if k in _CENSUS_FIELDS} for user in page.users)
    return tuple(cast(User, record) for record in kept)


def census_all(client: AlmaClient, today: date) -> dict[str, GroupCensus]:
    """The exact census of every group, from one pass over all users, keyed by exact code.

    Cheaper than a census per group, which reads every word match of every code. The first
    page gives Alma's total, so the pages it promises are fetched concurrently under the
    client's limiter (latency hides behind the rate limit); as in `reconciler.alma.paging`,
    only a short page ends the walk, so a total that is too low costs calls, never users.
    """
    members: defaultdict[str, list[User]] = defaultdict(list)
    seen: set[str] = set()  # offset paging over a changing list can show a user twice

    def page_at(offset: int) -> tuple[User, ...]:
        return _slim(client.search_users(limit=MAX_PAGE_SIZE, offset=offset, expand_full=True))

    def keep(users: tuple[User, ...]) -> bool:
        for user in users:
            primary_id = str(user.get("primary_id", ""))
            if primary_id and primary_id in seen:
                continue
            seen.add(primary_id)
            members[code_of(user.get("user_group"))].append(user)
        return len(users) == MAX_PAGE_SIZE  # a full page: there may be more

    first = client.search_users(limit=MAX_PAGE_SIZE, offset=0, expand_full=True)
    more = keep(_slim(first))
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


def read_live_with_full_census(
    client: AlmaClient, state: InstitutionState, options: ReadOptions
) -> LiveState:
    """`read_live` with an exact census of every group (census_all) instead of the counts.

    The census, the tables, the rules report and the job history are independent, so they
    run side by side: the institution's rate limit, not their summed latency, sets the pace.
    """
    since = options.since or options.today - timedelta(days=30)

    def groups_and_references() -> tuple[tuple[LiveGroup, ...], tuple[RuleReference, ...]]:
        groups = read_groups(client)
        return groups, tuple(read_references(client, state, [g.code for g in groups]))

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="read") as pool:
        everyone = pool.submit(census_all, client, options.today)
        tables = pool.submit(groups_and_references)
        mappings = pool.submit(read_record_type_mappings, client)
        last_run = pool.submit(last_patron_load_run, client, since)
        groups, references = tables.result()
        found = everyone.result()
    empty = {g.code: summarise(g.code, (), options.today) for g in groups if g.code not in found}
    censuses = {**found, **empty}
    return LiveState(
        slug=state.institution.slug,
        groups=groups,
        mappings=mappings.result(),
        # exact, not estimates: the census read everyone
        estimated_counts=MappingProxyType({c: censuses[c].breakdown.total for c in censuses}),
        census=MappingProxyType(censuses),
        total_users=sum(c.breakdown.total for c in found.values()),
        references=references,
        daily_calls_left=client.api_remaining,
        last_sis_run=last_run.result(),
    )


def _count(user: Mapping[str, Any], key: str) -> float:
    """loans/requests/fees arrive as {"value": "3"}, a bare number, or null when not expanded."""
    value = user.get(key)
    if isinstance(value, Mapping):
        value = value.get("value")
    return as_float(value, default=0.0) or 0.0


def _flags(user: Mapping[str, Any], today: date) -> dict[str, bool]:
    inactive = code_of(user.get("status")) == "INACTIVE"
    expiry = as_date(user.get("expiry_date"))
    expired = expiry is not None and expiry < today
    loans, requests, fees = (_count(user, k) > 0 for k in ("loans", "requests", "fees"))
    candidate = inactive or expired
    external = code_of(user.get("account_type")) == "EXTERNAL"
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


def read_references(
    client: AlmaClient, state: InstitutionState, codes: Iterable[str]
) -> Iterator[RuleReference]:
    """Rows of the configured Analytics rules report that name one of `codes`."""
    report = state.institution.rules_report
    if not report:
        return
    known = set(codes)
    for row in client.iter_report_rows(report):
        for code in _codes_in(row, known):
            name = row.get("Rule Name") or next(iter(row.values()), "")
            unit = row.get("Fulfillment Unit Name")
            yield RuleReference(RULES_SOURCE, f"{unit}: {name}" if unit else name, code)


def _codes_in(row: Mapping[str, str], known: set[str]) -> set[str]:
    """Group codes named by a rule row: its parameter value lists codes, comma-separated."""
    found = set()
    for column, value in row.items():
        if "Parameter Value" in column or "User Group" in column:
            found |= {part.strip() for part in value.split(",")} & known
    return found


def last_patron_load_run(client: AlmaClient, since: date) -> datetime | None:
    """The newest run of any SIS (patron load) job submitted on or after `since`, if any."""
    newest: datetime | None = None
    for job in client.iter_jobs(job_type="SCHEDULED", category="SIS"):
        job_id = str(job.get("id", ""))
        if not job_id:
            continue
        for instance in client.iter_job_instances(job_id, submit_date_from=since):
            started = as_timestamp(instance.get("start_time") or instance.get("submit_time"))
            if started is not None:
                started = started if started.tzinfo else started.replace(tzinfo=UTC)
                newest = started if newest is None or started > newest else newest
    return newest


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
    for user in client.iter_users(word_query(group)):
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
