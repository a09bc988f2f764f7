"""Fixtures for the client against the sandbox: ucf and valencia only, at a scale where ucf has
1200 users (enough for a set above 1000), and a client for ucf.

The sandboxes and clients come from tests/conftest.py (`make_sandbox`, `make_http_sandbox`,
`sandbox`, `make_client`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.alma import AlmaClient, TokenBucket
from reconciler.sandbox import InProcessSandbox

from ..fixture_tree import ClientFactory, copy_institutions

REPO = Path(__file__).resolve().parents[2]  # its parent holds ../shared/reference
SLUGS = ("ucf", "valencia")


@pytest.fixture(scope="session")
def institutions_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture institutions ucf and valencia, copied."""
    return copy_institutions(tmp_path_factory.mktemp("tree") / "institutions", SLUGS)


@pytest.fixture(scope="session")
def seed_scale() -> float:
    """ucf (75,000 people) gets 1200 users."""
    return 0.016


@pytest.fixture
def ucf(sandbox: InProcessSandbox, make_client: ClientFactory) -> AlmaClient:
    """A real client for ucf against the default (in-process) sandbox."""
    return make_client(sandbox, "ucf", limiter=TokenBucket(1000))
