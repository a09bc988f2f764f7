"""Fixtures for the Alma client tests: a fake Alma on 127.0.0.1 and clients aimed at it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from reconciler.alma import AlmaClient, CallLedger, RetryPolicy, Timeouts, TokenBucket
from reconciler.model import Institution

from ..builders import institution as build_institution
from .fakes import CANARY_KEY, KEY_ENV, ClientFactory, FakeAlma, SleepRecorder, handler_for


@pytest.fixture
def fake_alma() -> Iterator[FakeAlma]:
    """A running FakeAlma on a free 127.0.0.1 port."""
    fake = FakeAlma()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def institution() -> Institution:
    """An institution whose key lives in KEY_ENV."""
    return build_institution("test", name="Test College", api_key_env=KEY_ENV)


@pytest.fixture
def sleeps() -> SleepRecorder:
    """The retry back-offs a client asked for."""
    return SleepRecorder()


@pytest.fixture
def make_client(
    fake_alma: FakeAlma, institution: Institution, sleeps: SleepRecorder
) -> Iterator[ClientFactory]:
    """Build AlmaClients aimed at the fake, with recorded back-offs and a fast limiter."""
    clients: list[AlmaClient] = []

    def build(**overrides: Any) -> AlmaClient:
        options: dict[str, Any] = {
            "env": {"ALMA_API_URL": fake_alma.url, KEY_ENV: CANARY_KEY},
            "retry": RetryPolicy(max_attempts=4, base_delay=0.5, sleep=sleeps, jitter=lambda: 1.0),
            "limiter": TokenBucket(10_000),
            "ledger": CallLedger(),
            "timeouts": Timeouts(connect=2.0, read=5.0),
        }
        options.update(overrides)
        client = AlmaClient.for_institution(institution, **options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
