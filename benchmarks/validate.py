"""Benchmark: validating all 40 institutions, and CLI start-up time.

Targets (issue 2): validate all 40 in under 1 s on this machine; `alma-groups --help` in
under 0.4 s. Each figure is the median of several runs in fresh processes, because a user
pays the import cost every time they run the command.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
VALIDATE_TARGET_S = 1.0
HELP_TARGET_S = 0.4


def median_seconds(command: list[str]) -> float:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def in_process_validate_seconds() -> float:
    """The work alone, without interpreter start-up: load, check and build all 40."""
    sys.path.insert(0, str(ROOT))
    from reconciler.desired import validate_paths  # noqa: PLC0415 - timed after start-up

    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        report = validate_paths([ROOT / "institutions"], cwd=ROOT)
        timings.append(time.perf_counter() - started)
        assert report.ok, report.problems[:3]  # noqa: S101 - a benchmark of a failing tree is void
    return statistics.median(timings)


def main() -> int:
    cli = [sys.executable, "-m", "reconciler"]
    validate_s = median_seconds([*cli, "validate"])
    work_s = in_process_validate_seconds()
    help_s = median_seconds([*cli, "--help"])
    bare_s = median_seconds([sys.executable, "-c", "pass"])
    rows = [
        ("validate all 40 (fresh process)", validate_s, VALIDATE_TARGET_S),
        ("validate all 40 (in process, warm)", work_s, None),
        ("alma-groups --help (fresh process)", help_s, HELP_TARGET_S),
        ("bare python start-up (reference)", bare_s, None),
    ]
    failed = False
    for label, seconds, target in rows:
        verdict = ""
        if target is not None:
            ok = seconds < target
            failed |= not ok
            verdict = f"target < {target:.1f} s: {'met' if ok else 'MISSED'}"
        print(f"{label:<40} {seconds * 1000:8.1f} ms  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
