"""The HTML survey as a browser draws it: headless Chromium renders it to a real picture."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.render import survey_html

from .builders import demo_survey

CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_headless_chromium_renders_the_report(tmp_path: Path) -> None:
    """Chromium, offline and sandboxed, draws the page to a PNG of real content."""
    assert CHROMIUM is not None
    page = tmp_path / "survey.html"
    page.write_text(survey_html.render_survey(demo_survey()), encoding="utf-8")
    picture = tmp_path / "survey.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={picture}",
            "--window-size=1280,2000",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a blank page of this size is ~12 KB; text and bars make the demo report ~75 KB
    assert picture.stat().st_size > 30_000
