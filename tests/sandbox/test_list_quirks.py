"""The users list is as harsh as Alma's: no primary_id order with q, short pages, wrong totals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reconciler.sandbox import FaultConfig, InProcessSandbox

from .conftest import Client

Q = "user_group~01"


def _page(client: Client, offset: int, limit: int = 100, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/users", limit=limit, offset=offset, **params).json()
    return body


def _ids(client: Client, **params: Any) -> list[str]:
    total = _page(client, 0, 1, **params)["total_record_count"]
    ids: list[str] = []
    for offset in range(0, total, 100):
        ids += [u["primary_id"] for u in _page(client, offset, **params)["user"]]
    return ids


def test_word_match_pages_are_not_in_primary_id_order(ucf: Client) -> None:
    """With q, even order_by=primary_id gives the query's own shuffle, the same every time."""
    shuffled = _ids(ucf, q=Q, order_by="primary_id")
    assert len(shuffled) > 20
    assert shuffled != sorted(shuffled)
    assert _ids(ucf, q=Q) == shuffled  # fixed per query: paging it is consistent


def test_without_q_primary_id_order_holds(ucf: Client) -> None:
    """A full scan ordered by primary_id is in that order."""
    ids = _ids(ucf, order_by="primary_id")
    assert ids == sorted(ids)


def test_short_pages_keep_the_total(make_sandbox: Callable[..., InProcessSandbox]) -> None:
    """short_page_rate=1: every page lacks 1 to 3 records while the total promises them."""
    server = make_sandbox(faults=FaultConfig(short_page_rate=1.0))
    client = Client(server)
    page = _page(client, 0, q=Q)
    truth = _page(Client(server), 0, 1, q=Q)["total_record_count"]
    assert page["total_record_count"] == truth
    assert min(truth, 100) - 3 <= len(page["user"]) < min(truth, 100)


@pytest.mark.parametrize(
    ("knob", "check"), [("wrong_total_rate", "off"), ("unknown_total_rate", "-1")]
)
def test_totals_can_be_wrong_or_unknown(
    make_sandbox: Callable[..., InProcessSandbox], sandbox: InProcessSandbox, knob: str, check: str
) -> None:
    """wrong_total_rate=1: the total is off by 1 to 3; unknown_total_rate=1: it is -1."""
    truth = _page(Client(sandbox), 0, 1, q=Q)["total_record_count"]
    faulty = make_sandbox(faults=FaultConfig(**{knob: 1.0}))
    reported = _page(Client(faulty), 0, 100, q=Q)
    if check == "-1":
        assert reported["total_record_count"] == -1
    else:
        assert 1 <= abs(reported["total_record_count"] - truth) <= 3
    assert len(reported["user"]) == min(truth, 100)  # the records themselves are all there


def test_fault_spec_names_the_list_quirks() -> None:
    """The --faults spec (and ALMA_SANDBOX_FAULTS) sets the list quirks by short names."""
    config = FaultConfig.from_spec("short=0.02,wrong_total=0.01,unknown_total=0.005,seed=3")
    assert (config.short_page_rate, config.wrong_total_rate, config.unknown_total_rate) == (
        0.02,
        0.01,
        0.005,
    )
