"""The HTML survey as a real browser draws it: headless Chromium lays it out and photographs it.

The report has no scripts; to ask the browser what it laid out, the test renders a copy with a
small probe script appended, and reads the probe's verdict back from `--dump-dom`. The
screenshot of the report itself is kept as a test artifact in `artifacts/` (git-ignored), so
CI can publish it and a reviewer can look at the page. Chromium is required in CI (`.ci/run`
installs Debian's package); only outside CI does a machine without it skip this test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
SCREENSHOT = ARTIFACTS / "survey-chromium.png"

# Which sections are laid out with a size, where they start, and what the page says there.
PROBE = """
<script>
const seen = {};
for (const id of ["overview", "ucf", "bc"]) {
  const node = document.getElementById(id);
  const box = node ? node.getBoundingClientRect() : null;
  const style = node ? getComputedStyle(node) : null;
  seen[id] = node === null ? null : {
    top: box.top, width: box.width, height: box.height,
    shown: style.display !== "none" && style.visibility !== "hidden",
    heading: node.querySelector("h2").innerText,
    bars: node.querySelectorAll("svg rect").length,
  };
}
seen.viewport = window.innerHeight;
const out = document.createElement("pre");
out.id = "probe";
out.textContent = JSON.stringify(seen);
document.body.appendChild(out);
</script>
"""


def chromium() -> str:
    """The browser, or a failure in CI (where .ci/run installs it), or a skip elsewhere."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("Chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed (CI installs it: see .ci/run)")
    return found


def run_chromium(browser: str, profile: Path, *arguments: str) -> str:
    """One headless, offline, sandbox-less (CI runs as root) Chromium run; its stdout."""
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *arguments,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done.stdout


def test_chromium_lays_out_the_overview_first_and_each_institution(
    workdir: Path, tmp_path: Path
) -> None:
    """The overview is on the first screen, ucf and bc are laid out with their charts, and the
    screenshot is a real picture, kept in artifacts/."""
    browser = chromium()
    result = CliRunner().invoke(
        app, ["survey", "--sandbox", "--all", "--format", "html", "--out", "survey.html"]
    )
    assert result.exit_code == 0, result.output
    page = (workdir / "survey.html").read_text(encoding="utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")

    dom = run_chromium(
        browser, tmp_path / "profile", "--window-size=1280,1000", "--dump-dom", probed.as_uri()
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.DOTALL)
    assert found, dom[-2000:]
    seen = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    overview = seen["overview"]
    assert overview["shown"]
    assert overview["heading"] == "Consortium overview"
    assert 0 <= overview["top"] < seen["viewport"]  # on the first screen
    assert overview["bars"] >= 3  # a bar segment at least per institution
    for slug in ("ucf", "bc"):
        section = seen[slug]
        assert section["shown"], slug
        assert section["width"] > 600, section
        assert section["height"] > 200, section
        assert section["top"] > overview["top"] + overview["height"] - 1
        assert section["bars"] > 5, slug
    assert seen["ucf"]["heading"].startswith("University of Central Florida")

    ARTIFACTS.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    run_chromium(
        browser,
        tmp_path / "profile",
        "--window-size=1280,2200",
        f"--screenshot={SCREENSHOT}",
        (workdir / "survey.html").as_uri(),
    )
    picture = SCREENSHOT.read_bytes()
    assert picture[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(picture[16:20], "big"), int.from_bytes(picture[20:24], "big")
    assert (width, height) == (1280, 2200)
    # a blank page of this size is ~20 KB; text, tables and bars make it several times that
    assert len(picture) > 100_000
