"""The API key never comes back out, only https carries it, and a call has one deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from reconciler.alma import AlmaClient, RetryPolicy, Timeouts
from reconciler.alma.regions import api_root
from reconciler.errors import AlmaApiError, AlmaNetworkError, UsageError
from reconciler.model import Institution, Region

from ..alma.fakes import (
    CANARY_KEY,
    KEY_ENV,
    Canned,
    ClientFactory,
    FakeAlma,
    QuietServer,
    SleepRecorder,
    json_error,
    xml_error,
)


@pytest.mark.parametrize(
    "answer",
    [
        Canned(status=400, body=json_error("UNAUTHORIZED", f"Header was: apikey {CANARY_KEY}")),
        Canned(
            status=400,
            body=xml_error("INVALID_REQUEST", f"Authorization: apikey {CANARY_KEY} refused"),
            content_type="application/xml",
        ),
        Canned(status=500, body=json_error("500", f"proxy echo: {CANARY_KEY}")),
    ],
    ids=["json", "xml", "5xx"],
)
def test_a_server_echoing_the_key_has_it_redacted(
    fake_alma: FakeAlma, make_client: ClientFactory, sleeps: SleepRecorder, answer: Canned
) -> None:
    """Alma's message is repeated, with the key replaced by ****, in every error we raise."""
    fake_alma.script("GET", "/conf/code-tables/UserGroups", answer)
    client = make_client(retry=RetryPolicy(max_attempts=1, sleep=sleeps))
    with pytest.raises(AlmaApiError) as caught:
        client.get_code_table("UserGroups")
    assert CANARY_KEY not in str(caught.value)
    assert CANARY_KEY not in repr(caught.value.__dict__)
    assert "****" in caught.value.alma_message


@pytest.mark.parametrize(
    "url",
    ["http://alma.example.edu", "http://10.0.0.5:8080", "http://api-na.hosted.exlibrisgroup.com"],
)
def test_plain_http_to_another_host_is_refused(url: str) -> None:
    """ALMA_API_URL over plain http is a usage error unless it is loopback."""
    with pytest.raises(UsageError, match="https://"):
        api_root(Region.NA, {"ALMA_API_URL": url})


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765",
        "http://localhost:8765",
        "http://[::1]:8765",
        "https://alma-proxy.example.edu",
    ],
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    """https anywhere, and http to the sandbox on this machine, are fine."""
    assert api_root(Region.NA, {"ALMA_API_URL": url}).endswith("/almaws/v1")


def test_a_silent_server_costs_one_deadline_not_five_read_timeouts(
    fake_alma: FakeAlma, make_client: ClientFactory, sleeps: SleepRecorder
) -> None:
    """With a 0.5 s call budget and a server that answers after 2 s, one try and no retries."""
    fake_alma.script("GET", "/users/slow", Canned(body={"primary_id": "slow"}, delay=2.0))
    client = make_client(
        retry=RetryPolicy(max_attempts=5, base_delay=0.01, sleep=sleeps),
        timeouts=Timeouts(connect=1, read=60, call=0.5),
    )
    with pytest.raises(AlmaNetworkError, match="timed out"):
        client.get_user("slow")
    assert len(fake_alma.seen("GET", "/users/slow")) == 1


class _Trickle(BaseHTTPRequestHandler):
    """Answers 200 and then one byte every 50 ms: never silent long enough for a read timeout."""

    protocol_version = "HTTP/1.1"
    timeout = 10

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(200):  # bounded, so the handler ends even if nobody hangs up
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            return

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def trickle() -> Iterator[str]:
    """A server on 127.0.0.1 that trickles its answer; its URL."""
    server = QuietServer(_Trickle)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_trickling_answer_is_cut_at_the_deadline(
    trickle: str, institution: Institution, sleeps: SleepRecorder
) -> None:
    """A body that keeps coming byte by byte is abandoned when the call's budget is spent."""
    env = {"ALMA_API_URL": trickle, KEY_ENV: CANARY_KEY}
    with (
        AlmaClient.for_institution(
            institution,
            env=env,
            retry=RetryPolicy(max_attempts=3, base_delay=0.01, sleep=sleeps),
            timeouts=Timeouts(connect=1, read=5, call=0.5),
        ) as client,
        pytest.raises(AlmaNetworkError) as caught,
    ):
        client.get_user("u1")
    assert "timed out" in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


def test_a_connection_error_names_the_host(institution: Institution, sleeps: SleepRecorder) -> None:
    """Nothing listening: the message says which host could not be reached (not the path)."""
    env = {"ALMA_API_URL": "http://127.0.0.1:9", KEY_ENV: CANARY_KEY}
    with (
        AlmaClient.for_institution(
            institution, env=env, retry=RetryPolicy(max_attempts=1, sleep=sleeps)
        ) as client,
        pytest.raises(AlmaNetworkError) as caught,
    ):
        client.count_users("user_group~01")
    assert "connection failed or dropped: 127.0.0.1" in str(caught.value)
