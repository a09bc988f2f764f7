"""Fixtures for the hostile-input tests.

Sandboxes over HTTP come from the root conftest (`make_http_sandbox`, seeded from the fixture
institutions); the scripted fake Alma and its clients are tests/alma's, reused here. The CLI
tests copy the two small fictional institutions of tests/fixtures/valid, never the shipped ones.
"""

from __future__ import annotations

from pathlib import Path

from ..alma.conftest import fake_alma, institution, make_client, sleeps

__all__ = ["VALID", "fake_alma", "institution", "make_client", "sleeps"]

VALID = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "institutions"
