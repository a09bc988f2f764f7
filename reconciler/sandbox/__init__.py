"""The embedded sandbox: a local Alma for the endpoints alma-groups uses, over real HTTP or
in-process.

State lives in SQLite under a state directory (default `.sandbox/`), so plan → apply → plan
converges across separate commands. Nothing in the core imports this package.

    summary = reset_sandbox(Path(".sandbox"), Path("institutions"))
    with SandboxServer(Path(".sandbox"), Path("institutions")) as sandbox:
        sandbox.base_url, sandbox.api_keys()["ucf"]
    with InProcessSandbox(Path(".sandbox"), Path("institutions")) as sandbox:
        AlmaClient.for_institution(ucf, transport=sandbox.transport("ucf"))
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from reconciler.desired import load_desired_state
from reconciler.sandbox.analytics import RULES_REPORT_PATH
from reconciler.sandbox.app import DEFAULT_DAILY_LIMIT, SandboxConfig
from reconciler.sandbox.faults import FaultConfig, LoggedRequest, RequestLog
from reconciler.sandbox.history import sftp_dir
from reconciler.sandbox.inprocess import InProcessSandbox, InProcessTransport
from reconciler.sandbox.jobs import UPDATE_USERS_JOB, JobTiming
from reconciler.sandbox.population import PATRON_POPULATION
from reconciler.sandbox.seed import (
    DEFAULT_SCALE,
    InstitutionSummary,
    Progress,
    SeedSummary,
    seed_missing,
    seed_state,
)
from reconciler.sandbox.server import DEFAULT_STATE_DIR, SandboxServer, serve_forever

__all__ = [
    "DEFAULT_DAILY_LIMIT",
    "DEFAULT_SCALE",
    "DEFAULT_STATE_DIR",
    "RULES_REPORT_PATH",
    "UPDATE_USERS_JOB",
    "FaultConfig",
    "InProcessSandbox",
    "InProcessTransport",
    "InstitutionSummary",
    "JobTiming",
    "LoggedRequest",
    "Progress",
    "RequestLog",
    "SandboxConfig",
    "SandboxServer",
    "SeedSummary",
    "reset_sandbox",
    "seed_missing",
    "seed_state",
    "serve_forever",
    "sftp_dir",
]


def reset_sandbox(
    state_dir: Path,
    institutions_root: Path,
    *,
    scale: float = DEFAULT_SCALE,
    seed: int = 1,
    today: date | None = None,
    api_keys: Mapping[str, str] | None = None,
    population: Mapping[str, int] = PATRON_POPULATION,
    progress: Progress | None = None,
) -> SeedSummary:
    """Recreate the sandbox database and patron-load files from the institutions' YAML under
    `institutions_root` (any tree: the shipped one, or a test's fixtures); `progress` gets a
    line per institution (and per 20,000 users of a large one)."""
    return seed_state(
        state_dir,
        load_desired_state(institutions_root),
        scale=scale,
        seed=seed,
        today=today,
        api_keys=api_keys,
        population=population,
        progress=progress,
    )
