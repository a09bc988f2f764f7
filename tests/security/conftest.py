"""Fixtures for the hostile-input tests: a small institutions tree and a seeded sandbox.

Everything comes from tests/fixtures/valid (two fictional institutions, `demo` and `other`),
never from the shipped institutions. The fake Alma fixtures of tests/alma are reused here.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.desired import load_desired_state
from reconciler.sandbox import JobTiming, SandboxServer, seed_state

# the scripted fake Alma and clients aimed at it, shared with tests/alma
from ..alma.conftest import fake_alma, institution, make_client, sleeps

__all__ = ["fake_alma", "institution", "make_client", "sleeps"]

VALID = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "institutions"
SCALE = 0.002
FAST_JOBS = JobTiming(start_delay_s=0.05, batch_size=500, batch_delay_s=0.0)

SandboxFactory = Callable[..., SandboxServer]


@pytest.fixture(scope="session")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the fixture institutions (demo, other), read-only for the session."""
    root = tmp_path_factory.mktemp("security-tree") / "institutions"
    shutil.copytree(VALID, root)
    return root


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory, tree: Path) -> Path:
    """A sandbox state folder seeded once; each sandbox starts from a copy."""
    state = tmp_path_factory.mktemp("security-seeded")
    seed_state(state, load_desired_state(tree), scale=SCALE, seed=5)
    return state


@pytest.fixture
def make_sandbox(tmp_path: Path, seeded: Path, tree: Path) -> Iterator[SandboxFactory]:
    """Start sandboxes on private copies of the seeded state; every one is stopped after."""
    started: list[SandboxServer] = []

    def start(**knobs: Any) -> SandboxServer:
        state = tmp_path / f"state{len(started)}"
        shutil.copytree(seeded, state)
        knobs.setdefault("job_timing", FAST_JOBS)
        server = SandboxServer(state, tree, **knobs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
