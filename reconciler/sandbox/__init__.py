"""The embedded sandbox: a local Alma for the endpoints alma-groups uses, over real HTTP.

State lives in SQLite under a state directory (default `.sandbox/`), so plan → apply → plan
converges across separate commands. Nothing in the core imports this package.

    summary = reset_sandbox(Path(".sandbox"), Path("institutions"))
    with SandboxServer(Path(".sandbox"), Path("institutions")) as sandbox:
        sandbox.base_url, sandbox.api_keys()["ucf"]
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from reconciler.sandbox.analytics import RULES_REPORT_PATH
from reconciler.sandbox.app import DEFAULT_DAILY_LIMIT
from reconciler.sandbox.faults import FaultConfig, LoggedRequest, RequestLog
from reconciler.sandbox.history import sftp_dir
from reconciler.sandbox.jobs import UPDATE_USERS_JOB, JobTiming
from reconciler.sandbox.seed import (
    DEFAULT_SCALE,
    InstitutionSummary,
    Progress,
    SeedSummary,
    load_desired,
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
    "InstitutionSummary",
    "JobTiming",
    "LoggedRequest",
    "Progress",
    "RequestLog",
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
    progress: Progress | None = None,
) -> SeedSummary:
    """Recreate the sandbox database and patron-load files from the institutions' YAML;
    `progress` gets a line per institution (and per 20,000 users of a large one)."""
    return seed_state(
        state_dir,
        load_desired(institutions_root),
        scale=scale,
        seed=seed,
        today=today,
        api_keys=api_keys,
        progress=progress,
    )
