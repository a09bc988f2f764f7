"""Run the sandbox in its own process for benchmarks, as real Alma is a remote server.

In one process the sandbox's request handling and the client's threads share one GIL on two
cores, so a benchmark would measure the sandbox's CPU as much as the client's pacing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class SandboxUrl(str):
    """The sandbox's base URL, which also knows the server process (for its CPU time)."""

    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU the sandbox process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sandbox_process(
    state_dir: Path, *, latency_ms: int = 0, extra: tuple[str, ...] = ()
) -> Iterator[SandboxUrl]:
    """Start `alma-groups sandbox serve` and yield its base URL once it answers."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "reconciler",
        "sandbox",
        "serve",
        "--port",
        str(port),
        "--dir",
        str(state_dir),
        "--latency-ms",
        str(latency_ms),
        *extra,
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    url = SandboxUrl(f"http://127.0.0.1:{port}")
    url.pid = process.pid
    try:
        deadline = time.monotonic() + 120  # the first start seeds all 40 institutions
        while True:
            try:
                urllib.request.urlopen(f"{url}/almaws/v1/conf/code-tables/UserGroups", timeout=2)  # noqa: S310
            except urllib.error.HTTPError:
                break  # it answered (400: no key), so it is up
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
