"""Fixtures: a small desired state built in code, a seeded state dir, and a running sandbox."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import requests

from reconciler.model import (
    DesiredState,
    Institution,
    InstitutionState,
    KeptGroup,
    Region,
    RetiredGroup,
    Sector,
    UserGroups,
)
from reconciler.sandbox import JobTiming, SandboxServer, SeedSummary, seed_state

TODAY = date(2026, 11, 29)
SCALE = 0.004
FAST_JOBS = JobTiming(start_delay_s=0.2, batch_size=50, batch_delay_s=0.01)


def institution(slug: str, sector: Sector = Sector.UNIVERSITY) -> Institution:
    return Institution(
        slug=slug,
        alma_code=f"01FALSC_{slug.upper()}",
        name=f"{slug} U",
        sector=sector,
        region=Region.NA,
        api_key_env=f"ALMA_API_KEY_{slug.upper()}",
        owners=(f"@flvc-alma/{slug}",),
    )


def desired_state() -> DesiredState:
    """Two institutions with kept, retired (with and without users) and commonly unused groups."""
    uni = InstitutionState(
        institution("ucf"),
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
        institution("vc", Sector.COLLEGE),
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


@pytest.fixture
def make_sandbox(
    tmp_path: Path, seeded: tuple[Path, SeedSummary]
) -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes (with any knobs) on private copies of the seeded state; stop them after."""
    started: list[SandboxServer] = []

    def start(**knobs: Any) -> SandboxServer:
        state = tmp_path / f"state{len(started)}"
        shutil.copytree(seeded[0], state)
        knobs.setdefault("job_timing", FAST_JOBS)
        # Tests that loop over users would trip 25/s; the limit has tests of its own.
        knobs.setdefault("per_second_limit", 10_000)
        server = SandboxServer(state, tmp_path / "no-institutions", **knobs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """A running sandbox with default knobs."""
    return make_sandbox()


class Client:
    """A thin JSON client for one institution of a running sandbox."""

    def __init__(self, server: SandboxServer, slug: str = "ucf") -> None:
        self.base = f"{server.base_url}/almaws/v1"
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"apikey {server.api_keys()[slug]}", "Accept": "application/json"}
        )

    def get(self, endpoint: str, /, **params: Any) -> requests.Response:
        return self.session.get(self.base + endpoint, params=params, timeout=10)

    def put(self, endpoint: str, /, body: Any, **params: Any) -> requests.Response:
        return self.session.put(self.base + endpoint, json=body, params=params, timeout=10)

    def post(self, endpoint: str, /, body: Any = None, **params: Any) -> requests.Response:
        return self.session.post(self.base + endpoint, json=body, params=params, timeout=10)

    def delete(self, endpoint: str, /, **params: Any) -> requests.Response:
        return self.session.delete(self.base + endpoint, params=params, timeout=10)


@pytest.fixture
def ucf(sandbox: SandboxServer) -> Client:
    return Client(sandbox, "ucf")


@pytest.fixture
def lenient_ucf(make_sandbox: Callable[..., SandboxServer]) -> Client:
    """ucf on a sandbox without the strict PUT check, to show Alma's raw swap-all rules."""
    return Client(make_sandbox(strict_user_put=False), "ucf")


def xml_root(data: bytes | str) -> ET.Element:
    """Parse XML the sandbox itself produced (trusted, so the stdlib parser is fine)."""
    return ET.fromstring(data)  # noqa: S314


def error_code(response: requests.Response) -> str:
    return str(response.json()["errorList"]["error"][0]["errorCode"])
