"""Each real Alma payload in ../shared/reference/alma-samples, served over HTTP to the client.

tests/alma/test_contract_samples.py reads the same files through the parsing helpers; here the
whole client (transport, error mapping, paging) receives them from a socket. Every test skips
when the shared folder is absent (it lives outside this repository).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reconciler.alma import AlmaClient, RetryPolicy
from reconciler.alma.normalise import code_of
from reconciler.errors import AlmaApiError, AlmaUnexpectedBodyError
from reconciler.model import DesiredState

from ..fixture_tree import institution_of
from .conftest import REPO

SAMPLES = REPO.parent / "shared" / "reference" / "alma-samples"
USER_SAMPLES = sorted((SAMPLES / "api-json").glob("*user*.json")) if SAMPLES.is_dir() else []
XML_USERS = sorted((SAMPLES / "api-xml").glob("*user*.xml")) if SAMPLES.is_dir() else []


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json;charset=UTF-8"


class _Replay(BaseHTTPRequestHandler):
    """Answers every request with the server's current `Answer`."""

    protocol_version = "HTTP/1.1"
    server: _ReplayServer

    def do_GET(self) -> None:
        answer = self.server.answer
        self.server.paths.append(self.path)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


class _ReplayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Replay)
        self.answer = Answer()
        self.paths: list[str] = []


@pytest.fixture
def replay(desired: DesiredState) -> Iterator[tuple[_ReplayServer, AlmaClient]]:
    """A one-answer HTTP server on 127.0.0.1 and a real client pointed at it."""
    if not SAMPLES.is_dir():
        pytest.skip(f"{SAMPLES} is not available (shared reference samples absent)")
    server = _ReplayServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    inst = institution_of(desired, "ucf")
    env = {"ALMA_API_URL": f"http://127.0.0.1:{server.server_address[1]}", inst.api_key_env: "k"}
    client = AlmaClient.for_institution(inst, env, retry=RetryPolicy(max_attempts=1))
    try:
        yield server, client
    finally:
        client.close()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("sample", USER_SAMPLES, ids=lambda p: p.name)
def test_user_sample_reads_through_the_client(
    replay: tuple[_ReplayServer, AlmaClient], sample: Path
) -> None:
    """A real user record answers GET /users/{id}: id, group and expand counts read cleanly."""
    server, client = replay
    server.answer = Answer(body=sample.read_bytes())
    user = client.get_user("someone", expand="loans,requests,fees")
    assert user["primary_id"]
    assert code_of(user["user_group"])
    assert server.paths == ["/almaws/v1/users/someone?expand=loans%2Crequests%2Cfees"]


def test_error_sample_becomes_an_error_with_tracking_id(
    replay: tuple[_ReplayServer, AlmaClient],
) -> None:
    """The real 402203 error body on HTTP 400 surfaces with its code and trackingId."""
    server, client = replay
    body = (SAMPLES / "api-json" / "error_402203_with_result_null.json").read_bytes()
    server.answer = Answer(status=400, body=body)
    with pytest.raises(AlmaApiError) as caught:
        client.get_code_table("UserGroups")
    assert caught.value.alma_code == "402203"
    assert caught.value.tracking_id == "E02-2706205445-WZJWP-AWAE1632347523"


def test_past_the_end_sample_stops_the_walk(replay: tuple[_ReplayServer, AlmaClient]) -> None:
    """An empty page that still claims 145 records ends a census after one call."""
    server, client = replay
    body = (SAMPLES / "api-json" / "list_envelope_past_end_empty.json").read_bytes()
    server.answer = Answer(body=body)
    assert list(client.iter_users()) == []
    assert client.search_users().total == 145
    assert len(server.paths) == 2


@pytest.mark.parametrize("sample", XML_USERS, ids=lambda p: p.name)
def test_xml_user_to_a_json_client_is_unexpected_body(
    replay: tuple[_ReplayServer, AlmaClient], sample: Path
) -> None:
    """A user record sent as XML to a client that asked for JSON is refused, not misread."""
    server, client = replay
    server.answer = Answer(body=sample.read_bytes(), content_type="application/xml")
    with pytest.raises(AlmaUnexpectedBodyError):
        client.get_user("someone")
