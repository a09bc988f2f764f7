"""Which groups each institution has live, how big they are, and where live differs from git.

The live table starts from the desired state (kept *and* retired groups, since retired ones
are still live in Alma until the reconciler disables them), then a deterministic handful of
institutions gets drift: a changed description, an unmanaged extra group, a kept group that is
missing or disabled, a code deleted long ago that cannot be re-added.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from reconciler.model import InstitutionState, RetiredGroup
from reconciler.sandbox.people import Profile

# Groups FLVC names as commonly unused, plus Aleph-era leftovers used for unmanaged drift.
EXTRA_GROUPS = (
    ("UB", "UBorrow visiting patron (replaces 69)"),
    ("ALEPHGR", "Graduate (Aleph migration)"),
    ("LOST", "Missing and Lost"),
    ("SUBLIB", "Sublibrary"),
)
DELETED_LONG_AGO = "TEMP"

_QUIET = re.compile(
    r"autologin|sublibrary|missing|lost|uborrow|mango|statewide|reserve|"
    r"partner|^15$|^69$|^99$",
    re.IGNORECASE,
)
_INTERNAL = re.compile(
    r"ill\b|interlibrary|guest|community|visitor|courtesy|friend|alum|"
    r"retire|emerit",
    re.IGNORECASE,
)
_STAFF = re.compile(r"staff|employee|emp\b|library", re.IGNORECASE)
_WEIGHTS = (
    (re.compile(r"under|student|^ug$|^01$", re.I), 40.0),
    (re.compile(r"grad|^gr", re.I), 15.0),
    (re.compile(r"fac|adjunct", re.I), 8.0),
    (_STAFF, 6.0),
    (re.compile(r"alum", re.I), 4.0),
    (_INTERNAL, 3.0),
)


@dataclass
class SeededGroup:
    """A group row about to be seeded, with the users it gets and how they behave.

    Mutable on purpose: drift and sizing edit the rows in place while the seed is planned.
    Not the model's `LiveGroup` (what the client reads back), which it deliberately differs
    from: it carries seeding intent (retired, still loaded by the SIS, size, profile).
    """

    code: str
    description: str
    enabled: bool = True
    default: bool = False
    retired: bool = False
    still_loaded: bool = False  # retired, yet the SIS still sends it (patron-load guard)
    extra: bool = False  # live only: in neither `groups` nor `retired`
    size: int = 0
    profile: Profile = field(default_factory=lambda: Profile(0.95, 0.1, 0.12))


def profile_for(code: str, description: str, *, retired: bool) -> Profile:
    text = f"{code} {description}"
    staff = bool(_STAFF.search(text))
    if _QUIET.search(text):
        return Profile(0.0, 0.5, 0.5, staff=False, loans=0.1)
    if _INTERNAL.search(text):
        return Profile(0.1, 0.25, 0.3, staff=False, loans=0.05)
    if retired:
        return Profile(0.6, 0.45, 0.45, staff=staff, loans=0.1)
    return Profile(0.95, 0.1, 0.12, staff=staff)


def _weight(code: str, description: str) -> float:
    text = f"{code} {description}"
    if _QUIET.search(text):
        return 0.0
    return next((w for pattern, w in _WEIGHTS if pattern.search(text)), 2.0)


@dataclass(frozen=True)
class DriftPlan:
    """Which drift each slug gets; chosen once for the whole seed so counts stay fixed."""

    by_slug: dict[str, tuple[str, ...]]


def choose_drift(slugs: list[str], seed: int) -> DriftPlan:
    rng = random.Random(f"{seed}:drift")  # noqa: S311 - reproducible fake data
    order = sorted(slugs)
    rng.shuffle(order)
    n = len(order)
    quota = {
        "description": max(1, n // 4),
        "unmanaged": max(1, round(n * 0.075)),
        "missing": max(1, n // 20),
        "disabled": max(1, n // 20),
        "deleted": max(1, n // 20),
    }
    plan: dict[str, list[str]] = {slug: [] for slug in order}
    for offset, (kind, count) in enumerate(quota.items()):
        for i in range(count):
            plan[order[(offset * 7 + i) % n]].append(kind)
    return DriftPlan({slug: tuple(kinds) for slug, kinds in plan.items()})


def plan_groups(
    state: InstitutionState, population: int, drift: tuple[str, ...], rng: random.Random
) -> tuple[list[SeededGroup], list[str], list[str]]:
    """Live rows (table order) with sizes, the drift applied, and codes deleted long ago."""
    kept, retired = state.user_groups.groups, state.user_groups.retired
    live = [
        SeededGroup(
            g.code,
            g.description,
            default=g.default,
            profile=profile_for(g.code, g.description, retired=False),
        )
        for g in kept
    ]
    if live and not any(g.default for g in live):
        live[0].default = True  # Alma's table always has one default row
    live += [_retired_group(r, population, rng) for r in retired]
    applied, deleted = _apply_drift(live, drift, rng)
    _size_kept(live, population)
    return live, applied, deleted


def _retired_group(r: RetiredGroup, population: int, rng: random.Random) -> SeededGroup:
    group = SeededGroup(
        r.code,
        r.description,
        retired=True,
        profile=profile_for(r.code, r.description, retired=True),
    )
    if r.move_users_to:
        group.size = max(2, round(population * rng.uniform(0.002, 0.02)))
        # Some retired groups are still sent by the SIS: the load guard must catch them.
        if rng.random() < 0.3:
            group.still_loaded = True
            group.profile = Profile(1.0, 0.1, 0.1, staff=group.profile.staff)
    elif r.purge_inactive_users:
        group.size = rng.randint(1, 4)
        group.profile = Profile(0.0, 1.0, 1.0, loans=0.0)
    elif rng.random() < 0.1:
        group.size = 1  # an institution that forgot someone: the plan must say so
    return group


def _apply_drift(
    live: list[SeededGroup], drift: tuple[str, ...], rng: random.Random
) -> tuple[list[str], list[str]]:
    applied: list[str] = []
    deleted: list[str] = []
    codes = {g.code for g in live}
    spare = [g for g in live if not g.retired and not g.default]
    for kind in drift:
        if kind == "description" and spare:
            # A staff edit in the Alma UI: an Aleph-era label, or the same words shouted.
            target = rng.choice(spare)
            target.description = rng.choice(
                (f"{target.description} (Aleph)", target.description.upper())
            )
            applied.append(f"description:{target.code}")
        elif kind == "unmanaged":
            extra = next((e for e in EXTRA_GROUPS if e[0] not in codes), None)
            if extra:
                group = SeededGroup(*extra, extra=True, profile=profile_for(*extra, retired=True))
                group.size = rng.randint(0, 3)
                live.append(group)
                applied.append(f"unmanaged:{extra[0]}")
        elif kind == "missing" and len(spare) > 1:
            gone = spare.pop()
            live.remove(gone)
            applied.append(f"missing:{gone.code}")
        elif kind == "disabled" and len(spare) > 1:
            spare[-1].enabled = False
            applied.append(f"disabled:{spare[-1].code}")
        elif kind == "deleted" and DELETED_LONG_AGO not in codes:
            deleted.append(DELETED_LONG_AGO)
            applied.append(f"deleted:{DELETED_LONG_AGO}")
    return applied, deleted


def _size_kept(live: list[SeededGroup], population: int) -> None:
    """Share what the retired and extra groups leave among kept groups, by their kind."""
    kept = [g for g in live if not (g.retired or g.extra) and g.enabled]
    left = max(population - sum(g.size for g in live), 0)
    weights = [_weight(g.code, g.description) + (30.0 if g.default else 0.0) for g in kept]
    total = sum(weights) or 1.0
    for group, weight in zip(kept, weights, strict=True):
        group.size = int(left * weight / total)
    # Quiet kept groups (Reserves, Autologin…) get a token few; the default absorbs rounding.
    for group, weight in zip(kept, weights, strict=True):
        if weight == 0.0:
            group.size = min(2, left // 500)
    default = next((g for g in kept if g.default), kept[0] if kept else None)
    if default is not None:
        default.size += max(population - sum(g.size for g in live), 0)
