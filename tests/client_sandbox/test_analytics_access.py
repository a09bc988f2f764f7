"""Each institution's key reads only its own Analytics reports; a refusal says the way out."""

from __future__ import annotations

import dataclasses

import pytest

from reconciler.errors import AnalyticsAccessError
from reconciler.model import DesiredState
from reconciler.reading.references import read_references

from ..fixture_tree import ClientFactory, SandboxFactory


def test_own_report_reads_and_anothers_is_refused_clearly(
    make_sandbox: SandboxFactory, make_client: ClientFactory, desired: DesiredState
) -> None:
    """ucf reads its own rules report; pointed elsewhere, the read stops with the way out."""
    ucf = next(s for s in desired.institutions if s.institution.slug == "ucf")
    client = make_client(make_sandbox(), "ucf")
    codes = [g.code for g in ucf.user_groups.groups]
    assert list(read_references(client, ucf, codes))  # the seeded rules name ucf's groups
    borrowed = dataclasses.replace(
        ucf,
        institution=dataclasses.replace(
            ucf.institution,
            rules_report="/shared/Valencia College/Reports/Configurations/User group rules",
        ),
    )
    with pytest.raises(AnalyticsAccessError) as refused:
        list(read_references(client, borrowed, codes))
    message = str(refused.value)
    assert message.startswith("ucf: cannot read the Analytics report")
    assert "Analytics area" in message
    assert "own Analytics folder" in message
    assert client.ledger.calls_to("GET /analytics/reports").get("400") == 1  # checked once
