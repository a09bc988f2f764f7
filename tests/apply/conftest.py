"""Fixtures: a sandbox seeded from tests/apply/fixtures, real clients over HTTP, and the
desired state a test applies (the live groups as kept, with the test's retirements).

The seeded state is made once per session and copied for each sandbox, so every test starts
from the same Alma and none sees another's writes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reconciler.alma import AlmaClient, RetryPolicy, TokenBucket
from reconciler.apply.bulk_move import PollPolicy
from reconciler.desired import load_desired_state
from reconciler.model import (
    DesiredState,
    InstitutionState,
    KeptGroup,
    RetiredGroup,
    UserGroups,
)
from reconciler.reading.live import read_groups
from reconciler.sandbox import JobTiming, SandboxConfig, SandboxServer, seed_state

FIXTURES = Path(__file__).parent / "fixtures" / "institutions"
DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "institutions"
QUICK_POLLS = PollPolicy(first_delay_s=0.02, factor=2.0, max_delay_s=0.2, timeout_s=60)
SLUG = "applytest"
SCALE = 0.05
TODAY = date.today()
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05)

SandboxFactory = Callable[..., SandboxServer]
ClientFactory = Callable[..., AlmaClient]


@pytest.fixture(scope="session")
def seeded_desired() -> DesiredState:
    """The desired state the sandbox is seeded from (every group kept)."""
    return load_desired_state(FIXTURES)


@pytest.fixture(scope="session")
def seeded_state(tmp_path_factory: pytest.TempPathFactory, seeded_desired: DesiredState) -> Path:
    state = tmp_path_factory.mktemp("apply-seeded")
    seed_state(state, seeded_desired, scale=SCALE, seed=5, today=TODAY)
    return state


@pytest.fixture
def make_sandbox(
    tmp_path_factory: pytest.TempPathFactory, seeded_state: Path
) -> Iterator[SandboxFactory]:
    """Start sandboxes on private copies of the seeded state; every one is stopped after."""
    started: list[SandboxServer] = []

    def start(**knobs: Any) -> SandboxServer:
        state = tmp_path_factory.mktemp("apply-state") / "sandbox"
        shutil.copytree(seeded_state, state)
        knobs.setdefault("job_timing", JobTiming(start_delay_s=0.05, batch_size=500))
        knobs.setdefault("per_second_limit", 10_000)
        server = SandboxServer(state, FIXTURES, SandboxConfig(**knobs), host="127.0.0.1", port=0)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(make_sandbox: SandboxFactory) -> SandboxServer:
    return make_sandbox()


@pytest.fixture
def make_client(seeded_desired: DesiredState) -> Iterator[ClientFactory]:
    """Real clients for a running sandbox (fast retries, a generous limiter by default)."""
    opened: list[AlmaClient] = []
    institution = seeded_desired.institutions[0].institution

    def make(server: SandboxServer, **options: Any) -> AlmaClient:
        env = {"ALMA_API_URL": server.base_url, institution.api_key_env: server.api_keys()[SLUG]}
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("limiter", TokenBucket(500))
        client = AlmaClient.for_institution(institution, env, **options)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


@pytest.fixture
def client(sandbox: SandboxServer, make_client: ClientFactory) -> AlmaClient:
    return make_client(sandbox)


def retiring(client: AlmaClient, seeded: DesiredState, *retired: RetiredGroup) -> InstitutionState:
    """The live groups as kept (enabled, as described in Alma), except the `retired` ones."""
    base = seeded.institutions[0]
    codes = {r.code for r in retired}
    kept = tuple(
        KeptGroup(row.code, row.description, row.default)
        for row in read_groups(client)
        if row.code not in codes
    )
    return replace(base, user_groups=UserGroups(kept, tuple(retired)))


def retire(code: str, target: str | None = "01", **options: Any) -> RetiredGroup:
    return RetiredGroup(code, f"group {code}", "retired by a test", move_users_to=target, **options)


def bulk_state(
    client: AlmaClient, seeded: DesiredState, *retired: RetiredGroup
) -> InstitutionState:
    """`retiring(...)` with the demo fixture's job template and a bulk threshold of 10 users."""
    template = load_desired_state(DEMO).get("demo")
    assert template is not None
    state = retiring(client, seeded, *retired)
    institution = replace(state.institution, bulk_threshold=10)
    return replace(state, institution=institution, update_users_job=template.update_users_job)
