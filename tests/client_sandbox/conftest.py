"""Fixtures: a two-institution tree copied from institutions/, a seeded sandbox, real clients.

Every client here is the real `AlmaClient.for_institution(...)` over `RequestsTransport`, so
each call crosses a real socket to a `SandboxServer` on 127.0.0.1 (port 0). The seeded state
is made once per session at a small scale (ucf gets 1200 users: enough for a set above 1000)
and copied for each sandbox, so tests that write never see each other's changes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.alma import AlmaClient, RetryPolicy, TokenBucket
from reconciler.desired import load_desired_state
from reconciler.model import DesiredState, Institution
from reconciler.sandbox import JobTiming, SandboxServer, seed_state

REPO = Path(__file__).resolve().parents[2]
SLUGS = ("ucf", "valencia")
SCALE = 0.016
FAST_JOBS = JobTiming(start_delay_s=0.05, batch_size=500, batch_delay_s=0.0)
# Retries without the production pauses, so fault tests stay fast; attempts as in production.
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05)

ClientFactory = Callable[..., AlmaClient]
SandboxFactory = Callable[..., SandboxServer]


@pytest.fixture(scope="session")
def institutions_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """institutions/ucf and institutions/valencia, copied from the repository."""
    root = tmp_path_factory.mktemp("tree") / "institutions"
    for slug in SLUGS:
        shutil.copytree(REPO / "institutions" / slug, root / slug)
    return root


@pytest.fixture(scope="session")
def desired(institutions_root: Path) -> DesiredState:
    """The copied tree, loaded by the project's own loader."""
    return load_desired_state(institutions_root)


@pytest.fixture(scope="session")
def seeded_state(tmp_path_factory: pytest.TempPathFactory, desired: DesiredState) -> Path:
    """A sandbox state directory seeded once; sandboxes start from copies of it."""
    state = tmp_path_factory.mktemp("seeded")
    seed_state(state, desired, scale=SCALE, seed=11)
    return state


def institution_of(desired: DesiredState, slug: str) -> Institution:
    return next(s.institution for s in desired.institutions if s.institution.slug == slug)


@pytest.fixture
def make_sandbox(
    tmp_path_factory: pytest.TempPathFactory, seeded_state: Path, institutions_root: Path
) -> Iterator[SandboxFactory]:
    """Start sandboxes with any knobs on private copies of the seeded state; stop them after.

    The state lives outside the test's tmp_path: the sandbox's database holds its API keys,
    as Alma does, and the canary test scans tmp_path for files the *client side* wrote.
    """
    started: list[SandboxServer] = []

    def start(**knobs: Any) -> SandboxServer:
        state = tmp_path_factory.mktemp("state") / "sandbox"
        shutil.copytree(seeded_state, state)
        knobs.setdefault("job_timing", FAST_JOBS)
        # The client's limiter is under test elsewhere; most tests should not trip Alma's 25/s.
        knobs.setdefault("per_second_limit", 10_000)
        server = SandboxServer(state, institutions_root, host="127.0.0.1", port=0, **knobs)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(make_sandbox: SandboxFactory) -> SandboxServer:
    """A running sandbox with default knobs (no per-second limit to speak of)."""
    return make_sandbox()


@pytest.fixture
def make_client(desired: DesiredState) -> Iterator[ClientFactory]:
    """Real clients for a running sandbox: `make_client(server, "ucf", key=..., retry=...)`."""
    opened: list[AlmaClient] = []

    def make(
        server: SandboxServer,
        slug: str = "ucf",
        *,
        key: str | None = None,
        retry: RetryPolicy | None = FAST_RETRY,
        limiter: TokenBucket | None = None,
        **options: Any,
    ) -> AlmaClient:
        inst = institution_of(desired, slug)
        env = {
            "ALMA_API_URL": server.base_url,
            inst.api_key_env: key if key is not None else server.api_keys()[slug],
        }
        client = AlmaClient.for_institution(inst, env, retry=retry, limiter=limiter, **options)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


@pytest.fixture
def ucf(sandbox: SandboxServer, make_client: ClientFactory) -> AlmaClient:
    """A real client for ucf against the default sandbox."""
    return make_client(sandbox, "ucf", limiter=TokenBucket(1000))
