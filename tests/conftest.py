"""Fixtures any test area may use: the fixture institutions, a sandbox seeded from them, and
real clients for it (the sandbox in-process, or over HTTP where a socket matters).

    def test_something(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
        sandbox = make_sandbox(faults=FaultConfig(error_5xx_rate=0.1))  # any SandboxConfig knob
        client = make_client(sandbox, "ucf")  # the real AlmaClient, InProcessTransport

`make_sandbox` opens an `InProcessSandbox` (no socket, no server thread); `make_http_sandbox`
starts a `SandboxServer` on 127.0.0.1 (port 0), and `make_client` then goes over
`HttpTransport`: for what only HTTP shows (dropped connections, the connection pool, what
anything might log on the way). The state is seeded once per tree and scale and copied for each
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
from reconciler.sandbox import InProcessSandbox, SandboxConfig, SandboxServer, seed_state

from .fixture_tree import (
    FAST_JOBS,
    FAST_RETRY,
    POPULATION,
    ClientFactory,
    HttpSandboxFactory,
    Sandbox,
    SandboxFactory,
    copy_institutions,
    institution_of,
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
def session_made() -> dict[tuple[object, ...], Any]:
    """What the session makes once per tree, or per tree and scale.

    pytest keeps one cached value per fixture *definition*, whatever an area overrides beneath
    it: a session-scoped `seeded_state` made first for one area was handed to the next area
    whatever its `institutions_root` or `seed_scale` (tests/client_sandbox got 300 ucf users
    instead of 1,200 when run after tests/security). So `desired` and `seeded_state` keep
    their values here, keyed by what they were made from.
    """
    return {}


@pytest.fixture
def desired(institutions_root: Path, session_made: dict[tuple[object, ...], Any]) -> DesiredState:
    """The copied tree, loaded by the project's own loader (once per tree)."""
    key = ("desired", institutions_root)
    if key not in session_made:
        session_made[key] = load_desired_state(institutions_root)
    loaded: DesiredState = session_made[key]
    return loaded


@pytest.fixture
def seeded_state(
    tmp_path_factory: pytest.TempPathFactory,
    institutions_root: Path,
    desired: DesiredState,
    seed_scale: float,
    session_made: dict[tuple[object, ...], Any],
) -> Path:
    """A sandbox state directory seeded once per tree and scale; sandboxes start from copies."""
    key = ("seeded", institutions_root, seed_scale)
    if key not in session_made:
        state = tmp_path_factory.mktemp("seeded")
        seed_state(state, desired, scale=seed_scale, seed=11, population=POPULATION)
        session_made[key] = state
    seeded: Path = session_made[key]
    return seeded


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
