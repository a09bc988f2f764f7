"""Opening a sandbox's state directory to serve it, for the HTTP server and the in-process
sandbox alike: seeded from the institutions' YAML on first use, and topped up with any
institution added to git since. Invalid YAML at that point is the plan's business, not the
sandbox's: what is already seeded is served as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reconciler.desired import load_desired_state
from reconciler.errors import ReconcilerError
from reconciler.sandbox.seed import DEFAULT_SCALE, Progress, seed_missing, seed_state
from reconciler.sandbox.store import DB_NAME, Store


def open_state(
    state_dir: Path,
    institutions_root: Path,
    *,
    api_keys: Mapping[str, str] | None = None,
    scale: float = DEFAULT_SCALE,
    seed: int = 1,
    progress: Progress | None = None,
) -> Store:
    """The database under `state_dir`, seeded from `institutions_root` if it is missing
    (`progress` gets the seeding's progress lines)."""
    database = state_dir / DB_NAME
    if not database.exists():
        desired = load_desired_state(institutions_root)
        seed_state(state_dir, desired, scale=scale, seed=seed, api_keys=api_keys, progress=progress)
    elif institutions_root.is_dir():
        try:
            desired = load_desired_state(institutions_root)
        except ReconcilerError:
            pass
        else:
            seed_missing(state_dir, desired, api_keys=api_keys)
    return Store(database)
