"""Two first `plan --sandbox` runs at once share one seeding instead of crashing each other."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import VALID


def test_concurrent_first_sandbox_runs_both_finish(tmp_path: Path) -> None:
    """Three runs on a folder without .sandbox/: none sees "database is locked", all plan alike."""
    shutil.copytree(VALID, tmp_path / "institutions")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALMA_", "CI"))}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "reconciler", "plan", "--sandbox"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = [(run.wait(timeout=600), *run.communicate()) for run in runs]
    for code, _, err in outcomes:
        assert "database is locked" not in err
        assert "disk I/O error" not in err
        assert "Traceback" not in err
        assert code in (0, 2, 3), err
    plans = {out.split("\nread Alma")[0] for _, out, _ in outcomes}
    assert len(plans) == 1  # the same sandbox, so the same plan
