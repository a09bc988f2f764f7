"""Each institution's key reads only its own Analytics reports; a refusal says the way out."""

from __future__ import annotations

import dataclasses

import pytest

from reconciler.errors import AnalyticsAccessError
from reconciler.model import DesiredState
from reconciler.reading.references import read_references

from .conftest import ClientFactory, SandboxFactory


def test_own_report_reads_and_anothers_is_refused_clearly(
    make_sandbox: SandboxFactory, make_client: ClientFactory, desired: DesiredState
) -> None:
    """ucf reads its own rules report; pointed at valencia's, the read stops with the way out."""
    states = {s.institution.slug: s for s in desired.institutions}
    ucf, valencia = states["ucf"], states["valencia"]
    assert ucf.institution.rules_report != valencia.institution.rules_report
    client = make_client(make_sandbox(), "ucf")
    codes = [g.code for g in ucf.user_groups.groups]
    assert list(read_references(client, ucf, codes))  # the seeded rules name ucf's groups
    borrowed = dataclasses.replace(
        ucf,
        institution=dataclasses.replace(
            ucf.institution, rules_report=valencia.institution.rules_report
        ),
    )
    with pytest.raises(AnalyticsAccessError) as refused:
        list(read_references(client, borrowed, codes))
    message = str(refused.value)
    assert message.startswith("ucf: cannot read the Analytics report")
    assert "Analytics area" in message
    assert "own Analytics folder" in message
    assert client.ledger.calls_to("GET /analytics/reports").get("400") == 1  # checked once
