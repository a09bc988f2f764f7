"""Fixtures any test area may use: the fixture institutions, a sandbox seeded from them, and
real clients for it (the sandbox in-process, or over HTTP where a socket matters).

    def test_something(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
        sandbox = make_sandbox(faults=FaultConfig(error_5xx_rate=0.1))  # any SandboxConfig knob
        client = make_client(sandbox, "ucf")  # the real AlmaClient, InProcessTransport

`make_sandbox` opens an `InProcessSandbox` (no socket, no server thread); `make_http_sandbox`
starts a `SandboxServer` on 127.0.0.1 (port 0), and `make_client` then goes over
`HttpTransport`: for what only HTTP shows (dropped connections, the connection pool, what
anything might log on the way). The state is seeded once per session and copied for each
sandbox, so tests that write never see each other's changes; every sandbox is stopped after
its test. An area narrows the tree or changes the scale by overriding `institutions_root` or
`seed_scale` in its own conftest.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.alma import AlmaClient, RetryPolicy, TokenBucket
from reconciler.desired import load_desired_state
from reconciler.model import DesiredState
from reconciler.sandbox import InProcessSandbox, SandboxConfig, SandboxServer

from .fixture_tree import (
    FAST_JOBS,
    FAST_RETRY,
    ClientFactory,
    HttpSandboxFactory,
    Sandbox,
    SandboxFactory,
    copy_institutions,
    institution_of,
    seeded_state_for,
)


@pytest.fixture(scope="session")
def institutions_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every fixture institution, copied."""
    return copy_institutions(tmp_path_factory.mktemp("tree") / "institutions")


@pytest.fixture(scope="session")
def seed_scale() -> float:
    """The share of each fixture headcount the sandbox seeds."""
    return 0.004


@pytest.fixture(scope="session")
def desired(institutions_root: Path) -> DesiredState:
    """The copied tree, loaded by the project's own loader."""
    return load_desired_state(institutions_root)


@pytest.fixture(scope="session")
def seeded_state(
    tmp_path_factory: pytest.TempPathFactory, desired: DesiredState, seed_scale: float
) -> Path:
    """A sandbox state directory seeded once; sandboxes start from copies of it.

    An area that overrides `institutions_root` or `seed_scale` overrides this and `desired`
    too: pytest keeps one cached value per fixture definition, so this one, once made, would
    be handed to that area's tests whatever their tree or scale (tests/client_sandbox)."""
    return seeded_state_for(tmp_path_factory, desired, seed_scale)


def _config(knobs: dict[str, Any]) -> SandboxConfig:
    knobs.setdefault("job_timing", FAST_JOBS)
    # The client's limiter is under test elsewhere; most tests should not trip Alma's 25/s.
    knobs.setdefault("per_second_limit", 10_000)
    return SandboxConfig(**knobs)


def _private_copy(tmp_path_factory: pytest.TempPathFactory, seeded_state: Path) -> Path:
    """The seeded state, copied outside the test's tmp_path: the sandbox's database holds its
    API keys, as Alma does, and the canary test scans tmp_path for files the client wrote."""
    state = tmp_path_factory.mktemp("state") / "sandbox"
    shutil.copytree(seeded_state, state)
    return state


@pytest.fixture
def make_sandbox(
    tmp_path_factory: pytest.TempPathFactory, seeded_state: Path, institutions_root: Path
) -> Iterator[SandboxFactory]:
    """Open in-process sandboxes with any `SandboxConfig` knobs on private copies of the
    seeded state; stop them after."""
    started: list[InProcessSandbox] = []

    def start(**knobs: Any) -> InProcessSandbox:
        state = _private_copy(tmp_path_factory, seeded_state)
        sandbox = InProcessSandbox(state, institutions_root, _config(knobs))
        started.append(sandbox.start())
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def make_http_sandbox(
    tmp_path_factory: pytest.TempPathFactory, seeded_state: Path, institutions_root: Path
) -> Iterator[HttpSandboxFactory]:
    """Start sandboxes over HTTP on 127.0.0.1, like `make_sandbox`; stop them after."""
    started: list[SandboxServer] = []

    def start(**knobs: Any) -> SandboxServer:
        state = _private_copy(tmp_path_factory, seeded_state)
        server = SandboxServer(state, institutions_root, _config(knobs), host="127.0.0.1")
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(make_sandbox: SandboxFactory) -> InProcessSandbox:
    """An in-process sandbox with default knobs (no per-second limit to speak of)."""
    return make_sandbox()


@pytest.fixture
def make_client(desired: DesiredState) -> Iterator[ClientFactory]:
    """Real clients for a sandbox, in-process or over HTTP:
    `make_client(sandbox, "ucf", key=..., retry=...)`."""
    opened: list[AlmaClient] = []

    def make(
        sandbox: Sandbox,
        slug: str = "ucf",
        *,
        key: str | None = None,
        retry: RetryPolicy | None = FAST_RETRY,
        limiter: TokenBucket | None = None,
        **options: Any,
    ) -> AlmaClient:
        inst = institution_of(desired, slug)
        if isinstance(sandbox, InProcessSandbox):
            transport = sandbox.transport(slug, key=key)
            client = AlmaClient.for_institution(
                inst, {}, transport, retry=retry, limiter=limiter, **options
            )
        else:
            env = {
                "ALMA_API_URL": sandbox.base_url,
                inst.api_key_env: key if key is not None else sandbox.api_keys()[slug],
            }
            client = AlmaClient.for_institution(inst, env, retry=retry, limiter=limiter, **options)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()
