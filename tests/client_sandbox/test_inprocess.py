"""The in-process transport answers as the sandbox over HTTP does, and opens state the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import AlmaAuthError, AlmaNotFoundError
from reconciler.sandbox import InProcessSandbox

from ..fixture_tree import ClientFactory, HttpSandboxFactory, SandboxFactory


def unlinked(value: Any) -> Any:
    """`value` without its `link` fields, which name where the sandbox listens."""
    if isinstance(value, dict):
        return {k: unlinked(v) for k, v in value.items() if k != "link"}
    if isinstance(value, list | tuple):
        return [unlinked(v) for v in value]
    return value


def test_same_answers_in_process_and_over_http(
    make_sandbox: SandboxFactory, make_http_sandbox: HttpSandboxFactory, make_client: ClientFactory
) -> None:
    """Tables, user pages, a full record and the daily count read the same either way."""
    local = make_client(make_sandbox())
    remote = make_client(make_http_sandbox())
    table = local.get_code_table("UserGroups")
    assert unlinked(table) == unlinked(remote.get_code_table("UserGroups"))
    page, same_page = local.search_users(limit=20), remote.search_users(limit=20)
    assert page.total == same_page.total
    assert unlinked(page.users) == unlinked(same_page.users)
    first = page.users[0]["primary_id"]
    user = local.get_user(first, expand=("fees",))
    assert unlinked(user) == unlinked(remote.get_user(first, expand=("fees",)))
    assert local.api_remaining == remote.api_remaining is not None


@pytest.mark.parametrize("key", [None, "not-a-key"])
def test_same_errors_in_process_and_over_http(
    key: str | None,
    make_sandbox: SandboxFactory,
    make_http_sandbox: HttpSandboxFactory,
    make_client: ClientFactory,
) -> None:
    """A missing user (401861) and a wrong key (XML UNAUTHORIZED) raise the same errors."""
    expected = AlmaNotFoundError if key is None else AlmaAuthError
    raised = []
    for sandbox in (make_sandbox(), make_http_sandbox()):
        with pytest.raises(expected) as caught:
            make_client(sandbox, key=key).get_user("NOBODY-1")
        error = caught.value
        raised.append((error.status, error.alma_code, str(error).split(" (trackingId")[0]))
    assert raised[0] == raised[1]


def test_a_missing_state_is_seeded_on_first_start(tmp_path: Path, institutions_root: Path) -> None:
    """Like the server, the in-process sandbox seeds an empty state folder from the tree."""
    with InProcessSandbox(tmp_path / "state", institutions_root, scale=0.001) as sandbox:
        assert set(sandbox.api_keys()) == {"ucf", "valencia"}
        assert sandbox.transport("valencia").send("GET", "/conf/jobs", {}, None).status == 200
    assert [e.institution for e in sandbox.request_log.entries] == ["valencia"]
