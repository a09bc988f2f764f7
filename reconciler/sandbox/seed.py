"""Seeding: the Florida institutions' live Alma, deterministic from (seed, scale, today).

Everything is generated with one `random.Random` per institution (seeded from the seed and the
slug, so adding an institution does not reshuffle the others) and inserted with `executemany`
in a single transaction; `scale=1` (about a million users) is possible, the default seeds all
40 institutions in seconds. A seeding long enough to wonder about reports as it goes through an
optional `progress` callback: one line per institution, and one per 20,000 users inside a large
one, so the caller (the CLI, on stderr) can show that it is working and on what.

The seed reads only the desired state it is given (any institutions root, not just the shipped
one) and a headcount per slug: the Florida hints of `population.py` unless the caller passes
its own, as tests do for their fixture institutions so that nothing they assert on depends on
the shipped data. A slug without a headcount gets its sector's fallback.
"""

from __future__ import annotations

import random
import shutil
import time as clock
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from reconciler.model import DesiredState, InstitutionState, Sector
from reconciler.sandbox.analytics import RULES_REPORT_PATH
from reconciler.sandbox.codetables import RECORD_TYPE_MAPPING
from reconciler.sandbox.groups import SeededGroup, choose_drift, plan_groups
from reconciler.sandbox.history import (
    LoadUser,
    bursar_profile,
    job_records,
    profile_record,
    profiles_for,
    write_history,
)
from reconciler.sandbox.people import make_user
from reconciler.sandbox.population import PATRON_POPULATION
from reconciler.sandbox.records import identifier_rows, user_row
from reconciler.sandbox.store import DB_NAME, Store, dumps

DEFAULT_SCALE = 0.01
LOAD_POOL = 8000  # users per institution kept in memory to sample patron-load files from
FALLBACK_POPULATION = {Sector.UNIVERSITY: 30000, Sector.COLLEGE: 12000}
FLUSH_ROWS = 20000  # users inserted per executemany: bounded memory at scale=1

Progress = Callable[[str], None]


def _silent(_line: str) -> None:
    """The default progress: seed quietly."""


@dataclass(frozen=True)
class InstitutionSummary:
    """What was seeded for one institution (counts only: no patron data)."""

    slug: str
    api_key: str
    users: int
    group_sizes: Mapping[str, int]
    drift: tuple[str, ...]
    load_files: int


@dataclass(frozen=True)
class SeedSummary:
    state_dir: Path
    database: Path
    seed: int
    scale: float
    institutions: tuple[InstitutionSummary, ...]
    seconds: float

    @property
    def total_users(self) -> int:
        return sum(i.users for i in self.institutions)


def default_api_key(slug: str) -> str:
    return f"sandbox-{slug}"


def seed_state(
    state_dir: Path,
    desired: DesiredState,
    *,
    scale: float = DEFAULT_SCALE,
    seed: int = 1,
    today: date | None = None,
    api_keys: Mapping[str, str] | None = None,
    population: Mapping[str, int] = PATRON_POPULATION,
    progress: Progress | None = None,
) -> SeedSummary:
    """Recreate the database and the SFTP files under `state_dir` from a desired state.

    `population` is the headcount per slug before `scale` (default: the Florida hints)."""
    started = clock.monotonic()
    today = today or datetime.now(UTC).date()
    state_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(state_dir / "sftp", ignore_errors=True)
    store = Store.create(state_dir / DB_NAME)
    try:
        with store.tx() as conn:
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("seed", str(seed)), ("scale", repr(scale)), ("today", today.isoformat())],
            )
            summaries = _seed_many(
                conn,
                state_dir,
                desired,
                set(desired.slugs()),
                scale=scale,
                seed=seed,
                today=today,
                api_keys=api_keys,
                population=population,
                progress=progress or _silent,
            )
    finally:
        store.close()
    return SeedSummary(
        state_dir, state_dir / DB_NAME, seed, scale, summaries, clock.monotonic() - started
    )


def seed_missing(
    state_dir: Path,
    desired: DesiredState,
    *,
    api_keys: Mapping[str, str] | None = None,
) -> tuple[InstitutionSummary, ...]:
    """Seed institutions added to git since the database was made (same seed and scale; the
    headcount from the Florida hints)."""
    store = Store(state_dir / DB_NAME)
    try:
        present = {str(r[0]) for r in store.all("SELECT slug FROM institutions")}
        missing = set(desired.slugs()) - present
        if not missing:
            return ()
        seed = int(store.meta("seed") or 1)
        scale = float(store.meta("scale") or DEFAULT_SCALE)
        today = date.fromisoformat(store.meta("today") or datetime.now(UTC).date().isoformat())
        with store.tx() as conn:
            return _seed_many(
                conn,
                state_dir,
                desired,
                missing,
                scale=scale,
                seed=seed,
                today=today,
                api_keys=api_keys,
                population=PATRON_POPULATION,
            )
    finally:
        store.close()


def _seed_many(
    conn: Any,
    state_dir: Path,
    desired: DesiredState,
    slugs: set[str],
    *,
    scale: float,
    seed: int,
    today: date,
    api_keys: Mapping[str, str] | None,
    population: Mapping[str, int],
    progress: Progress = _silent,
) -> tuple[InstitutionSummary, ...]:
    drift = choose_drift(list(desired.slugs()), seed)
    summaries = []
    chosen = [s for s in desired.institutions if s.institution.slug in slugs]
    sizes = {
        s.institution.slug: max(
            round(
                population.get(s.institution.slug, FALLBACK_POPULATION[s.institution.sector])
                * scale
            ),
            0,
        )
        for s in chosen
    }
    progress(
        f"seeding {len(chosen)} institutions, about {sum(sizes.values()):,} users"
        f" (scale {scale:g}, seed {seed})"
    )
    for number, state in enumerate(desired.institutions):
        slug = state.institution.slug
        if slug not in slugs:
            continue
        started = clock.monotonic()
        summaries.append(
            _seed_institution(
                conn,
                state_dir,
                state,
                number=number,
                api_key=(api_keys or {}).get(slug, default_api_key(slug)),
                population=sizes[slug],
                drift=drift.by_slug.get(slug, ()),
                rng=random.Random(f"{seed}:{slug}"),  # noqa: S311 - reproducible fake data
                today=today,
                progress=progress,
            )
        )
        progress(
            f"  [{len(summaries)}/{len(chosen)}] {slug}: {summaries[-1].users:,} users"
            f" in {clock.monotonic() - started:.1f} s"
        )
    return tuple(summaries)


def _seed_institution(
    conn: Any,
    state_dir: Path,
    state: InstitutionState,
    *,
    number: int,
    api_key: str,
    population: int,
    drift: tuple[str, ...],
    rng: random.Random,
    today: date,
    progress: Progress = _silent,
) -> InstitutionSummary:
    inst = state.institution
    slug = inst.slug
    conn.execute(
        "INSERT INTO institutions VALUES (?, ?, ?, ?)", (slug, inst.alma_code, inst.name, api_key)
    )
    live, applied, deleted = plan_groups(state, population, drift, rng)
    stamp = today.strftime("%Y-%m-%dZ")
    conn.executemany(
        "INSERT INTO groups VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (slug, g.code, g.description, int(g.enabled), int(g.default), i, stamp)
            for i, g in enumerate(live)
        ],
    )
    conn.executemany(
        "INSERT INTO deleted_groups VALUES (?, ?, ?)", [(slug, c, "2019-07-01Z") for c in deleted]
    )
    conn.executemany(
        "INSERT INTO mapping_rows VALUES (?, ?, ?, ?)",
        [
            (
                slug,
                RECORD_TYPE_MAPPING,
                i,
                dumps({"column0": rt, "column1": g.code, "enabled": True}),
            )
            for i, (rt, g) in enumerate((rt, g) for g in live for rt in ("PUBLIC", "STAFF"))
        ],
    )
    users = _seed_users(conn, slug, inst.alma_code, live, rng=rng, today=today, progress=progress)
    profiles = profiles_for(number)
    conn.executemany(
        "INSERT INTO profiles VALUES (?, ?, ?)",
        [(slug, p.id, dumps(profile_record(p))) for p in profiles]
        + [(slug, bursar_profile(number)["id"], dumps(bursar_profile(number)))],
    )
    conn.executemany(
        "INSERT INTO jobs VALUES (?, ?, ?, ?)",
        [(slug, j["id"], i, dumps(j)) for i, j in enumerate(job_records(profiles))],
    )
    retired = {g.code for g in live if g.retired}
    files = write_history(
        conn,
        state_dir=state_dir,
        slug=slug,
        rng=rng,
        today=today,
        lookback_days=inst.patron_load.lookback_days,
        profiles=profiles,
        users=users,
        still_loaded={g.code for g in live if g.still_loaded},
        retired=retired,
        instance_base=9400000000000561 + number * 100000,
    )
    _seed_rules(conn, slug, live, rng, path=inst.rules_report or RULES_REPORT_PATH)
    return InstitutionSummary(
        slug,
        api_key,
        sum(g.size for g in live),
        {g.code: g.size for g in live},
        tuple(applied),
        len(files),
    )


def _seed_users(
    conn: Any,
    slug: str,
    alma_code: str,
    live: list[SeededGroup],
    *,
    rng: random.Random,
    today: date,
    progress: Progress = _silent,
) -> list[LoadUser]:
    users: list[LoadUser] = []
    rows: list[tuple[Any, ...]] = []
    identifiers: list[tuple[str, str, str]] = []
    number = 0
    # Loads sample at most a few hundred users per file: keep a bounded pool, not every record,
    # so that scale=1 (100 000 users at the biggest college) stays in memory.
    total = sum(g.size for g in live)
    keep_share = min(1.0, LOAD_POOL / max(total, 1))
    for group in live:
        for _ in range(group.size):
            number += 1
            record, loans, requests, fees = make_user(
                rng,
                inst=slug,
                alma_code=alma_code,
                number=number,
                group=group.code,
                group_desc=group.description,
                profile=group.profile,
                today=today,
            )
            rows.append(user_row(slug, record, loans, requests, fees, manual=""))
            identifiers.extend(identifier_rows(slug, record))
            if group.still_loaded or rng.random() < keep_share:
                users.append(LoadUser(record, group.code))
            if len(rows) >= FLUSH_ROWS:  # bounded memory at scale=1
                _flush(conn, rows, identifiers)
                if number < total:
                    progress(f"    {slug}: {number:,} of {total:,} users")
    _flush(conn, rows, identifiers)
    return users


def _flush(conn: Any, rows: list[tuple[Any, ...]], identifiers: list[tuple[str, str, str]]) -> None:
    conn.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.executemany("INSERT INTO identifiers VALUES (?, ?, ?)", identifiers)
    rows.clear()
    identifiers.clear()


def _seed_rules(
    conn: Any, slug: str, live: list[SeededGroup], rng: random.Random, *, path: str
) -> None:
    """Fulfillment rules naming group codes, at the institution's report path (if it has one)."""
    kept = [g.code for g in live if not g.retired and not g.extra and g.enabled]
    default = next((g.code for g in live if g.default), kept[0] if kept else "")
    others = [c for c in kept if c != default]
    rows = [
        (
            "Main Circulation",
            "Undergraduate loans",
            "Loan",
            "Yes",
            "User Group",
            "in list",
            default,
            "Standard loan",
        ),
        (
            "Main Circulation",
            "Extended loans",
            "Loan",
            "Yes",
            "User Group",
            "in list",
            ",".join(others[:3]) or default,
            "Extended loan",
        ),
        (
            "Main Circulation",
            "Hold requests",
            "Request",
            "Yes",
            "User Group",
            "not in list",
            ",".join(others[-2:]) or default,
            "Standard request",
        ),
    ]
    for group in live:
        if group.retired and rng.random() < 0.25:
            rows.append(
                (
                    "Resource Sharing",
                    f"Legacy {group.code} borrowing",
                    "Borrowing",
                    rng.choice(("Yes", "No")),
                    "User Group",
                    "in list",
                    group.code,
                    "Legacy resource sharing",
                )
            )
    conn.executemany(
        "INSERT INTO analytics_rows VALUES (?, ?, ?, ?)",
        [(slug, path, i, dumps(list(r))) for i, r in enumerate(rows)],
    )
