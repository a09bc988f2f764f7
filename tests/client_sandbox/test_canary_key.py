"""A canary API key must never surface: not in errors, logs, ledgers, request logs or files."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from reconciler.alma import RetryPolicy, TokenBucket
from reconciler.alma.credentials import read_api_key
from reconciler.errors import ReconcilerError, UsageError
from reconciler.model import DesiredState
from reconciler.planning import plan_file
from reconciler.runs.reads import plan_institutions
from reconciler.sandbox import FaultConfig, SandboxServer

from ..fixture_tree import ClientFactory, HttpSandboxFactory, institution_of

CANARY = "CANARY-KEY-7f3a9"
TODAY = date(2026, 11, 29)


def leaks(text: str) -> bool:
    return CANARY in text or CANARY.lower() in text.lower()


def described(error: BaseException) -> str:
    """Everything an error can show: str, repr, notes and the whole chained traceback."""
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


@pytest.fixture
def debug_log_file(tmp_path: Path) -> Iterator[Path]:
    """Every log record at DEBUG, from any library, also goes to a file under tmp_path."""
    path = tmp_path / "run.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()


def client_workload(server: SandboxServer, make_client: ClientFactory) -> list[BaseException]:
    """Reads, writes and failures of every kind with the canary key; returns what was raised."""
    retry = RetryPolicy(max_attempts=6, base_delay=0.005, max_delay=0.02)
    client = make_client(server, "ucf", key=CANARY, retry=retry, limiter=TokenBucket(500))
    raised: list[BaseException] = []

    def attempt(action: object) -> None:
        try:
            action()  # type: ignore[operator]
        except ReconcilerError as error:
            raised.append(error)

    attempt(lambda: client.get_code_table("UserGroups"))
    attempt(lambda: list(client.iter_users(max_records=250)))
    attempt(lambda: client.count_users("user_group~15"))
    attempt(lambda: client.get_user("NOBODY-1"))  # not found
    attempt(lambda: client.get_set("424242"))  # not found (60107)
    attempt(lambda: client.run_job("M999999", {}))  # plain Alma error
    attempt(lambda: client.create_set("canary set"))  # a POST: a fault is not retried
    attempt(lambda: client.put_code_table("UserGroups", {"row": []}))  # 402119
    for n in range(30):
        attempt(lambda n=n: client.get_user(f"UCF{n + 1:07d}"))
    assert client.ledger.summary().retries > 0  # the faults did happen
    summary = json.dumps(client.ledger.summary().to_json())
    assert not leaks(summary)
    assert not leaks(repr(client))
    assert not leaks(repr(client.ledger))
    assert not leaks(repr(client.limiter))
    (Path(server.state_dir).parent / "ledger.json").write_text(summary)  # outside tmp_path
    return raised


def test_canary_key_never_appears(
    *,
    tmp_path: Path,
    make_http_sandbox: HttpSandboxFactory,
    make_client: ClientFactory,
    desired: DesiredState,
    institutions_root: Path,
    caplog: pytest.LogCaptureFixture,
    debug_log_file: Path,
) -> None:
    """Client calls (faults and errors included) and a saved plan leak no trace of the key."""
    caplog.set_level(logging.DEBUG)
    faulty = make_http_sandbox(
        api_keys={"ucf": CANARY},
        faults=FaultConfig(error_5xx_rate=0.15, burst_429_rate=0.05, drop_rate=0.1, seed=3),
    )
    raised = client_workload(faulty, make_client)
    kinds = {type(error).__name__ for error in raised}
    assert {"AlmaNotFoundError", "AlmaApiError"} <= kinds
    statuses = {e.status for e in faulty.request_log.entries if e.institution == "ucf"}
    assert {0, 200, 500} <= statuses  # the canary key authenticated, and faults were met

    # A key that cannot travel in a header is refused by name, never by value.
    inst = institution_of(desired, "ucf")
    with pytest.raises(UsageError) as refused:
        read_api_key(inst.api_key_env, {inst.api_key_env: f"{CANARY} extra"})
    raised.append(refused.value)

    # The whole read-and-plan flow, saved as JSON where CI would upload it.
    clean = make_http_sandbox(api_keys={"ucf": CANARY})
    env = {
        "ALMA_API_URL": clean.base_url,
        inst.api_key_env: CANARY,
        institution_of(desired, "valencia").api_key_env: clean.api_keys()["valencia"],
    }
    plan, result = plan_institutions(institutions_root, desired, env, today=TODAY, commit=None)
    assert set(result.live) == {"ucf", "valencia"}, result.failures
    plan_path = tmp_path / "plan.json"
    plan_file.save(plan, plan_path)
    (tmp_path / "ledgers.json").write_text(
        json.dumps({slug: s.to_json() for slug, s in result.ledgers.items()}), encoding="utf-8"
    )

    assert raised
    for error in raised:
        assert not leaks(described(error)), described(error)
    assert caplog.records  # DEBUG really was captured (the client's retries at least)
    for record in caplog.records:
        assert not leaks(record.getMessage())
        assert not leaks(repr(record.args))
        assert not leaks(record.exc_text or "")
    assert not leaks(caplog.text)
    assert not leaks(repr(result))
    for server in (faulty, clean):
        assert not leaks(repr(server.request_log.entries))
        assert not leaks(repr(server.request_log.counts()))
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert {plan_path, debug_log_file} <= set(written)
    assert debug_log_file.stat().st_size > 0
    for path in written:
        assert not leaks(path.read_bytes().decode("utf-8", errors="replace")), path
