"""Fixtures: a small desired state built in code, a seeded state dir, and sandboxes on it.

`sandbox` and `make_sandbox` open the sandbox in-process, and `Client` calls its app through
`InProcessTransport` (no socket); `http_sandbox`, `make_http_sandbox` and `HttpClient` go over
real HTTP on 127.0.0.1, for what only HTTP shows: XML asked for by header, a key in the query
string, a dropped connection, requests sent with raw XML bodies. These fixtures take the place
of tests/conftest.py's fixtures of the same names here: the sandbox's own tests run on a
desired state built in code (two institutions, slower jobs), not the fixture tree.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from reconciler.model import (
    DesiredState,
    InstitutionState,
    KeptGroup,
    RetiredGroup,
    Sector,
    UserGroups,
)
from reconciler.sandbox import (
    InProcessSandbox,
    JobTiming,
    SandboxConfig,
    SandboxServer,
    SeedSummary,
    seed_state,
)

from ..builders import institution

TODAY = date(2026, 11, 29)
SCALE = 0.004
FAST_JOBS = JobTiming(start_delay_s=0.2, batch_size=50, batch_delay_s=0.01)


def desired_state() -> DesiredState:
    """Two institutions with kept, retired (with and without users) and commonly unused groups."""
    uni = InstitutionState(
        institution("ucf", alma_code="01FALSC_UCF", sector=Sector.UNIVERSITY),
        UserGroups(
            groups=(
                KeptGroup("01", "Undergraduate", default=True),
                KeptGroup("GR", "Graduate Student"),
                KeptGroup("FAC", "Faculty"),
                KeptGroup("STAFF", "Library Staff"),
                KeptGroup("GUEST", "Guest borrower"),
            ),
            retired=(
                RetiredGroup("15", "Autologin", "unused", move_users_to="GUEST"),
                RetiredGroup("69", "UBorrow partner", "UBorrow ended", move_users_to="GUEST"),
                RetiredGroup("99", "Mango statewide", "unused"),
            ),
        ),
    )
    college = InstitutionState(
        institution("vc", alma_code="01FALSC_VC"),
        UserGroups(
            groups=(
                KeptGroup("STU", "Student", default=True),
                KeptGroup("EMP", "Employee"),
                KeptGroup("COMM", "Community borrower"),
            ),
            retired=(RetiredGroup("RES", "Reserves", "unused", purge_inactive_users=True),),
        ),
    )
    return DesiredState((uni, college))


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SeedSummary]:
    """A seeded state dir shared by read-only tests (copied for tests that write)."""
    state = tmp_path_factory.mktemp("sandbox-state")
    return state, seed_state(state, desired_state(), scale=SCALE, seed=7, today=TODAY)


def _config(knobs: dict[str, Any]) -> SandboxConfig:
    knobs.setdefault("job_timing", FAST_JOBS)
    # Tests that loop over users would trip 25/s; the limit has tests of its own.
    knobs.setdefault("per_second_limit", 10_000)
    return SandboxConfig(**knobs)


@pytest.fixture
def make_sandbox(
    tmp_path: Path, seeded: tuple[Path, SeedSummary]
) -> Iterator[Callable[..., InProcessSandbox]]:
    """Open in-process sandboxes (with any `SandboxConfig` knobs) on private copies of the
    seeded state; stop them after."""
    started: list[InProcessSandbox] = []

    def start(**knobs: Any) -> InProcessSandbox:
        state = tmp_path / f"state{len(started)}"
        shutil.copytree(seeded[0], state)
        sandbox = InProcessSandbox(state, tmp_path / "no-institutions", _config(knobs)).start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def make_http_sandbox(
    tmp_path: Path, seeded: tuple[Path, SeedSummary]
) -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes over HTTP on 127.0.0.1, like `make_sandbox`; stop them after."""
    started: list[SandboxServer] = []

    def start(**knobs: Any) -> SandboxServer:
        state = tmp_path / f"http-state{len(started)}"
        shutil.copytree(seeded[0], state)
        server = SandboxServer(state, tmp_path / "no-institutions", _config(knobs)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., InProcessSandbox]) -> InProcessSandbox:
    """An in-process sandbox with default knobs."""
    return make_sandbox()


@pytest.fixture
def http_sandbox(make_http_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """A sandbox over HTTP with default knobs."""
    return make_http_sandbox()


@dataclass(frozen=True)
class Reply:
    """What the in-process `Client` gets back: the parts of a `requests.Response` tests read."""

    status_code: int
    headers: CaseInsensitiveDict[str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.content)


class Client:
    """A thin JSON client for one institution of an in-process sandbox (no socket)."""

    def __init__(self, sandbox: InProcessSandbox, slug: str = "ucf") -> None:
        self.transport = sandbox.transport(slug)

    def _send(self, method: str, endpoint: str, body: Any, params: dict[str, Any]) -> Reply:
        query = {name: str(value) for name, value in params.items()}
        answer = self.transport.send(method, endpoint, query, body)
        return Reply(answer.status, CaseInsensitiveDict(answer.headers), answer.body)

    def get(self, endpoint: str, /, **params: Any) -> Reply:
        return self._send("GET", endpoint, None, params)

    def put(self, endpoint: str, /, body: Any, **params: Any) -> Reply:
        return self._send("PUT", endpoint, body, params)

    def post(self, endpoint: str, /, body: Any = None, **params: Any) -> Reply:
        return self._send("POST", endpoint, body, params)

    def delete(self, endpoint: str, /, **params: Any) -> Reply:
        return self._send("DELETE", endpoint, None, params)


class HttpClient:
    """A thin JSON client for one institution of a sandbox over HTTP."""

    def __init__(self, server: SandboxServer, slug: str = "ucf") -> None:
        self.base = f"{server.base_url}/almaws/v1"
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"apikey {server.api_keys()[slug]}", "Accept": "application/json"}
        )

    def get(self, endpoint: str, /, **params: Any) -> requests.Response:
        return self.session.get(self.base + endpoint, params=params, timeout=10)

    def post(self, endpoint: str, /, body: Any = None, **params: Any) -> requests.Response:
        return self.session.post(self.base + endpoint, json=body, params=params, timeout=10)


@pytest.fixture
def ucf(sandbox: InProcessSandbox) -> Client:
    return Client(sandbox, "ucf")


@pytest.fixture
def lenient_ucf(make_sandbox: Callable[..., InProcessSandbox]) -> Client:
    """ucf on a sandbox without the strict PUT check, to show Alma's raw swap-all rules."""
    return Client(make_sandbox(strict_user_put=False), "ucf")


def xml_root(data: bytes | str) -> ET.Element:
    """Parse XML the sandbox itself produced (trusted, so the stdlib parser is fine)."""
    return ET.fromstring(data)  # noqa: S314


def error_code(response: Reply | requests.Response) -> str:
    return str(response.json()["errorList"]["error"][0]["errorCode"])
