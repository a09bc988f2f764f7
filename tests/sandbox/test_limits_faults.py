"""Authentication, governance thresholds, injected faults and the request log."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from reconciler.sandbox import FaultConfig, InProcessSandbox, SandboxServer, listener
from reconciler.sandbox import app as sandbox_app

from .conftest import Client, HttpClient, xml_root

ERROR_NS = "{http://com/exlibris/urm/general/xmlbeans}"


def test_bad_key_is_xml_even_when_json_is_asked(http_sandbox: SandboxServer) -> None:
    """An unknown key gives 400 UNAUTHORIZED as namespaced XML, whatever the Accept header."""
    response = requests.get(
        f"{http_sandbox.base_url}/almaws/v1/users",
        timeout=5,
        headers={"Authorization": "apikey wrong", "Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/xml")
    root = xml_root(response.content)
    assert root.tag == f"{ERROR_NS}web_service_result"
    assert root.findtext(f".//{ERROR_NS}errorCode") == "UNAUTHORIZED"
    assert root.findtext(f".//{ERROR_NS}trackingId")


def test_key_in_query_string_works(http_sandbox: SandboxServer) -> None:
    """`?apikey=` is accepted as well as the header; the key picks the institution."""
    key = http_sandbox.api_keys()["vc"]
    response = requests.get(
        f"{http_sandbox.base_url}/almaws/v1/conf/code-tables/UserGroups",
        params={"apikey": key, "format": "json"},
        timeout=5,
    )
    assert response.json()["scope"]["institution_id"]["value"] == "01FALSC_VC"


def test_default_format_is_xml(http_sandbox: SandboxServer) -> None:
    """Without Accept or format=json, Alma answers XML (brief users under <users>)."""
    key = http_sandbox.api_keys()["ucf"]
    response = requests.get(
        f"{http_sandbox.base_url}/almaws/v1/users",
        params={"limit": 1},
        headers={"Authorization": f"apikey {key}"},
        timeout=5,
    )
    assert response.text.startswith("<?xml")
    assert "<users total_record_count=" in response.text


def test_read_only_key_cannot_write(make_sandbox: Callable[..., InProcessSandbox]) -> None:
    """A key without write permission gets UNAUTHORIZED on PUT but may GET."""
    client = Client(make_sandbox(read_only=frozenset({"ucf"})))
    table = client.get("/conf/code-tables/UserGroups")
    assert table.status_code == 200
    assert client.put("/conf/code-tables/UserGroups", table.json()).status_code == 400


def test_per_second_threshold(make_sandbox: Callable[..., InProcessSandbox]) -> None:
    """Beyond the per-second limit, Alma answers 429 PER_SECOND_THRESHOLD."""
    client = Client(make_sandbox(per_second_limit=3))
    statuses = [client.get("/conf/jobs").status_code for _ in range(6)]
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses
    refused = next(r for r in (client.get("/conf/jobs") for _ in range(3)) if r.status_code == 429)
    assert refused.json()["errorList"]["error"][0]["errorCode"] == "PER_SECOND_THRESHOLD"
    time.sleep(1.05)
    assert client.get("/conf/jobs").status_code == 200


def test_daily_threshold_and_remaining_header(
    make_sandbox: Callable[..., InProcessSandbox],
) -> None:
    """X-Exl-Api-Remaining counts down on every 200; at zero, 429 DAILY_THRESHOLD."""
    server = make_sandbox(daily_limit=3)
    client = Client(server)
    remaining = [client.get("/conf/jobs").headers["X-Exl-Api-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = client.get("/conf/jobs")
    assert refused.status_code == 429
    assert refused.json()["errorList"]["error"][0]["errorCode"] == "DAILY_THRESHOLD"
    assert Client(server, "vc").get("/conf/jobs").status_code == 200  # per institution
    counts = server.request_log.counts()
    assert (counts[("GET", "/conf/jobs", 200)], counts[("GET", "/conf/jobs", 429)]) == (4, 1)


def test_5xx_rate_one_fails_every_call(make_sandbox: Callable[..., InProcessSandbox]) -> None:
    """With error_5xx_rate=1.0 every call is a 500 with an Alma error body."""
    client = Client(make_sandbox(faults=FaultConfig(error_5xx_rate=1.0)))
    response = client.get("/conf/jobs")
    assert response.status_code == 500
    assert response.json()["errorsExist"] is True


def test_dropped_connection(make_http_sandbox: Callable[..., SandboxServer]) -> None:
    """With drop_rate=1.0 the socket closes without an answer; the log records status 0."""
    server = make_http_sandbox(faults=FaultConfig(drop_rate=1.0))
    with pytest.raises(requests.ConnectionError):
        HttpClient(server).get("/conf/jobs")
    assert [e.status for e in server.request_log.entries] == [0]


def test_lost_answer_is_carried_out_then_dropped(
    make_http_sandbox: Callable[..., SandboxServer],
) -> None:
    """With lost_answer_rate=1.0 a POST creating a set happens, but its answer never comes."""
    server = make_http_sandbox(faults=FaultConfig(lost_answer_rate=1.0))
    body = {"name": "lost", "type": {"value": "ITEMIZED"}, "content": {"value": "USER"}}
    with pytest.raises(requests.ConnectionError):
        HttpClient(server).post("/conf/sets", body)
    assert [e.status for e in server.request_log.entries] == [0]
    (name,) = server.app.store.all("SELECT name FROM sets WHERE inst = 'ucf'")
    assert name == ("lost",)


def test_429_bursts(make_sandbox: Callable[..., InProcessSandbox]) -> None:
    """burst_429_rate starts a run of burst_length throttled answers."""
    client = Client(make_sandbox(faults=FaultConfig(burst_429_rate=1.0, burst_length=2)))
    assert [client.get("/conf/jobs").status_code for _ in range(2)] == [429, 429]


class RecordedSleeps:
    """Stands in for the sandbox's `time` module: records each sleep instead of waiting.

    With `meet` set, every sleep also waits at a barrier of that many threads, so a sandbox
    that served requests one at a time would break the barrier instead of passing it.
    """

    def __init__(self, meet: int = 0) -> None:
        self.slept: list[float] = []
        self._barrier = threading.Barrier(meet) if meet else None

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self._barrier is not None:
            self._barrier.wait(timeout=30)  # a liveness limit, not a timing assertion


def test_latency_does_not_serialise_requests(
    make_http_sandbox: Callable[..., SandboxServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Latency is a timer on the listener's loop: 8 parallel calls all wait at once."""
    paused: list[float] = []
    everyone = asyncio.Event()

    async def pause(seconds: float) -> None:
        # each waits until all 8 are waiting: a listener that served one request at a time
        # would never get there (the timeout is a liveness limit, not a timing assertion)
        paused.append(seconds)
        if len(paused) == 8:
            everyone.set()
        await asyncio.wait_for(everyone.wait(), timeout=30)

    monkeypatch.setattr(listener, "_pause", pause)
    server = make_http_sandbox(latency_ms=300)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(lambda _: HttpClient(server).get("/conf/jobs").status_code, range(8))
        )
    assert statuses == [200] * 8
    assert paused == [0.3] * 8


def test_slow_responses(
    make_sandbox: Callable[..., InProcessSandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    """slow_rate=1.0 delays every answer by slow_ms."""
    sleeps = RecordedSleeps()
    monkeypatch.setattr(sandbox_app, "time", sleeps)
    client = Client(make_sandbox(faults=FaultConfig(slow_rate=1.0, slow_ms=250)))
    assert client.get("/conf/jobs").status_code == 200
    assert sleeps.slept == [0.25]


def test_request_log_keeps_templates_not_ids(sandbox: InProcessSandbox) -> None:
    """The log groups calls by path template and status; no ids, no keys."""
    client = Client(sandbox)
    client.get("/users/NOBODY")
    client.get("/users/ALSO-NOBODY")
    counts = sandbox.request_log.counts()
    assert counts[("GET", "/users/{user_id}", 400)] == 2
    assert all("NOBODY" not in e.template for e in sandbox.request_log.entries)


def test_single_item_lists_quirk(make_sandbox: Callable[..., InProcessSandbox]) -> None:
    """With the quirk on, a one-member list comes back as a bare object (limit=1 users)."""
    client = Client(make_sandbox(single_item_lists_as_objects=True))
    body = client.get("/users", limit=1).json()
    assert isinstance(body["user"], dict)
    assert isinstance(client.get("/users", limit=2).json()["user"], list)


def test_ip_blocked_key_is_403(make_sandbox: Callable[..., InProcessSandbox]) -> None:
    """A key used from outside its IP range gets 403 FORBIDDEN, as XML."""
    response = Client(make_sandbox(ip_blocked=frozenset({"ucf"}))).get("/conf/jobs")
    assert response.status_code == 403
    assert xml_root(response.content).findtext(f".//{ERROR_NS}errorCode") == "FORBIDDEN"


def test_fault_spec_parses() -> None:
    """FaultConfig.from_spec reads the compact CLI form and refuses unknown settings."""
    config = FaultConfig.from_spec("5xx=0.1, drop=0.02, lost=0.01, slow_ms=800, burst=4, seed=9")
    assert config == FaultConfig(
        error_5xx_rate=0.1,
        drop_rate=0.02,
        lost_answer_rate=0.01,
        slow_ms=800,
        burst_length=4,
        seed=9,
    )
    with pytest.raises(ValueError, match="unknown fault"):
        FaultConfig.from_spec("teapot=1")
