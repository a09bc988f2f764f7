"""Read one institution's live Alma into a `LiveState`: tables, counts, censuses, references.

Cheap first, exact where it matters: every group gets a one-call count (a word match, so an
upper bound), and only the groups under review (retired, unmanaged, or asked for) get an exact
census (reconciler.reading.census). The survey instead reads every user once. Independent reads run
side by side, so the institution's rate limit, not their summed latency, sets the pace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from types import MappingProxyType

from reconciler.alma import AlmaClient
from reconciler.alma.concurrency import FanOutPool
from reconciler.alma.normalise import as_bool, clean_text
from reconciler.model import InstitutionState
from reconciler.model.live import (
    LiveGroup,
    LiveState,
    RuleReference,
)
from reconciler.reading.census import census, census_all, word_query
from reconciler.reading.record_types import read_record_type_mappings
from reconciler.reading.references import (
    read_mapping_references,
    read_references,
)
from reconciler.reading.sis_runs import last_patron_load_run

USER_GROUPS_TABLE = "UserGroups"


@dataclass(frozen=True)
class ReadOptions:
    """What to read beyond the tables and counts."""

    today: date
    also_census: frozenset[str] = frozenset()  # groups to census even if not under review
    since: date | None = None  # look for patron-load runs after this day
    # the survey's read: one pass over every user gives an exact census of every group and
    # replaces the per-group counts (see census_all)
    census_everything: bool = False


def read_live(client: AlmaClient, state: InstitutionState, options: ReadOptions) -> LiveState:
    """Everything the plan and the survey need to know about one institution's Alma.

    The state carries the calls the read made (the client is the institution's own while it
    reads), so the plan can count the fresh plan apply makes after itself at what reading
    really costs here: the analytics pages, mapping tables and SIS jobs vary by institution.
    """
    before = _first_tries(client)
    if options.census_everything:
        live = read_live_with_full_census(client, state, options)
    else:
        live = _read_live(client, state, options)
    return replace(live, read_calls=_first_tries(client) - before)


def _first_tries(client: AlmaClient) -> int:
    summary = client.ledger.summary()
    return summary.calls - summary.retries


def _read_live(client: AlmaClient, state: InstitutionState, options: ReadOptions) -> LiveState:
    groups = read_groups(client)  # first: every other read depends on the codes
    codes = [group.code for group in groups]
    listed = state.user_groups.kept_codes() | state.user_groups.retired_codes()
    review = {c for c in codes if c in state.user_groups.retired_codes() or c not in listed}
    review |= {c for c in options.also_census if c in codes}
    since = options.since or options.today - timedelta(days=30)
    # Everything else is independent: run it all at once under the institution's limit, the
    # chains (census pages, report pages, job history) first so they are not left for last.
    # References only matter when a group is being retired, and the institution's total
    # (for the percentage threshold) only when users are moved: skip those calls otherwise.
    retiring = bool(state.user_groups.retired_codes() & set(codes))
    moving = any(r.move_users_to and r.code in codes for r in state.user_groups.retired)
    with FanOutPool(client.max_workers) as pool:
        censuses = [pool.submit(census, client, code, options.today) for code in sorted(review)]
        references = pool.submit(_all_references, client, state, codes) if retiring else None
        last_run = pool.submit(last_patron_load_run, client, since)
        mappings = pool.submit(read_record_type_mappings, client)
        everyone = pool.submit(client.search_users, limit=1) if moving else None
        counts = {code: pool.submit(client.count_users, word_query(code)) for code in codes}
    # Alma's -1 stays None (unknown), never 0
    estimated = {code: future.result() for code, future in counts.items()}
    total = _total_users(everyone.result().total if everyone else None, estimated)
    return LiveState(
        slug=state.institution.slug,
        groups=groups,
        mappings=mappings.result(),
        estimated_counts=MappingProxyType(estimated),
        census=MappingProxyType({c.code: c for c in (f.result() for f in censuses)}),
        total_users=total,
        references=tuple(references.result()) if references else (),
        daily_calls_left=client.api_remaining,
        last_sis_run=last_run.result().newest,
        warnings=last_run.result().warnings,
    )


def _total_users(everyone: int | None, estimated: dict[str, int | None]) -> int | None:
    """Alma's count of every user when it was asked for, else the sum of the word-match
    counts (an over-count); None when that is unknown."""
    if everyone is not None:
        return everyone
    counts = list(estimated.values())
    return None if None in counts else sum(c for c in counts if c is not None)


def _all_references(
    client: AlmaClient, state: InstitutionState, codes: Iterable[str]
) -> list[RuleReference]:
    """Rules (Analytics) and group-keyed mapping tables that name any of `codes`."""
    codes = list(codes)
    return [*read_references(client, state, codes), *read_mapping_references(client, codes)]


def read_groups(client: AlmaClient) -> tuple[LiveGroup, ...]:
    table = client.get_code_table(USER_GROUPS_TABLE)
    return tuple(
        LiveGroup(
            code=clean_text(row.get("code")),
            description=clean_text(row.get("description")),
            enabled=as_bool(row.get("enabled"), default=True),
            default=as_bool(row.get("default")),
        )
        for row in table.get("row", [])
        if clean_text(row.get("code"))
    )


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
        return groups, tuple(_all_references(client, state, [g.code for g in groups]))

    with FanOutPool(4) as pool:
        everyone = pool.submit(census_all, client, options.today)
        tables = pool.submit(groups_and_references)
        mappings = pool.submit(read_record_type_mappings, client)
        last_run = pool.submit(last_patron_load_run, client, since)
        groups, references = tables.result()
        found = everyone.result()
    # every group of the table, and any code users hold that the table lacks
    censuses = {**found.groups, **{g.code: found.of(g.code) for g in groups}}
    return LiveState(
        slug=state.institution.slug,
        groups=groups,
        mappings=mappings.result(),
        # exact, not estimates: the census read everyone
        estimated_counts=MappingProxyType({c: censuses[c].breakdown.total for c in censuses}),
        census=MappingProxyType(censuses),
        total_users=found.users,
        references=references,
        daily_calls_left=client.api_remaining,
        last_sis_run=last_run.result().newest,
        warnings=last_run.result().warnings,
    )
