"""The fixture institutions (tests/fixtures/institutions/) and sandboxes seeded from them.

Tests that run the CLI or the sandbox work on copies of this small, deliberate tree, never on
the shipped institutions/: those change with every merged pull request and every apply, and a
test asserting on them would turn red for no fault of the code. What a plan of the whole tree
shows against a sandbox seeded from it (seed 1; drift is dealt by the seed over the slugs, so a
subset drifts differently):

    ucf       retires "15" (→ GUEST) and "99" (→ "06"): 27 users moved break its 2 % threshold
              and "15" is still in recent patron loads: refused (exit 3)
    valencia  merges MISSING into LOST, which Alma lacks (created first); a legacy fulfillment
              rule still names MISSING: a violation
    usf       purges expired UBorrow ("69") accounts: changes, no violation
    cf, fsu,  Alma drifted from the YAML (a description, a disabled group): changes, no
    tcc       violation
    bc        Alma matches the YAML: no changes
    ncf       a tiny university with an unmanaged group in Alma: a violation, no changes

The sandbox is seeded with the headcounts below, not the seed's Florida hints, so that nothing a
test asserts on depends on data kept for the demo.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from reconciler.alma import AlmaClient, RetryPolicy
from reconciler.model import DesiredState, Institution
from reconciler.sandbox import (
    DEFAULT_SCALE,
    InProcessSandbox,
    JobTiming,
    SandboxServer,
    SeedSummary,
    reset_sandbox,
)

FIXTURE_ROOT = Path(__file__).resolve().parent / "fixtures" / "institutions"
SLUGS = tuple(sorted(path.name for path in FIXTURE_ROOT.iterdir() if path.is_dir()))
POPULATION = {
    "bc": 20_000,
    "cf": 9_000,
    "fsu": 48_000,
    "ncf": 900,
    "ucf": 75_000,
    "usf": 40_000,
    "tcc": 22_000,
    "valencia": 30_000,
}

FAST_JOBS = JobTiming(start_delay_s=0.05, batch_size=500, batch_delay_s=0.0)
# Retries without the production pauses, so fault tests stay fast; attempts as in production.
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05)

# What the fixtures of tests/conftest.py hand out.
Sandbox = InProcessSandbox | SandboxServer
SandboxFactory = Callable[..., InProcessSandbox]
HttpSandboxFactory = Callable[..., SandboxServer]
ClientFactory = Callable[..., AlmaClient]


def copy_institutions(destination: Path, slugs: Iterable[str] = SLUGS) -> Path:
    """Copy the fixture institutions `slugs` into `destination` (made if missing)."""
    for slug in slugs:
        shutil.copytree(FIXTURE_ROOT / slug, destination / slug)
    return destination


def seed_sandbox(
    state_dir: Path,
    institutions_root: Path,
    *,
    scale: float = DEFAULT_SCALE,
    seed: int = 1,
    today: date | None = None,
) -> SeedSummary:
    """Seed a sandbox state directory from `institutions_root` with the fixture headcounts."""
    return reset_sandbox(
        state_dir, institutions_root, scale=scale, seed=seed, today=today, population=POPULATION
    )


def institution_of(desired: DesiredState, slug: str) -> Institution:
    return next(s.institution for s in desired.institutions if s.institution.slug == slug)
