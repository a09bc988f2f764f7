"""Raw Alma JSON shapes as `TypedDict`s: what crosses the `alma/` boundary, typed to the field.

Design decision: records stay plain dicts (not dataclasses) because Alma's PUTs are swap-all: a
user or a code table must go back with every field it came with, including the ones we do not
model. `total=False` everywhere, since Alma omits empty fields freely; the normalise helpers
read values that may be strings, numbers or one-element lists.
"""

from __future__ import annotations

from typing import Any, TypedDict


class CodeValue(TypedDict, total=False):
    """A code-table field: `{"value": "01", "desc": "Undergraduate"}`; desc is ignored on write."""

    value: str | None
    desc: str | None


class CodeTableRow(TypedDict, total=False):
    code: str
    description: str
    default: bool | str
    enabled: bool | str


class CodeTable(TypedDict, total=False):
    """GET/PUT /conf/code-tables/{name}; rows sit directly under `row` (always a list here)."""

    name: str
    description: str
    sub_system: CodeValue
    patron_facing: bool | str
    language: CodeValue
    scope: dict[str, CodeValue]
    row: list[CodeTableRow]


class MappingTableRow(TypedDict, total=False):
    """Generic columns column0…columnN, plus flags such as `enabled`."""

    column0: str
    column1: str
    column2: str
    enabled: bool | str
    default: bool | str


class MappingTable(TypedDict, total=False):
    """GET/PUT /conf/mapping-tables/{name}; `row` is always a list here."""

    name: str
    description: str
    sub_system: CodeValue
    scope: dict[str, CodeValue]
    row: list[MappingTableRow]


class TableSummary(TypedDict, total=False):
    """One entry of GET /conf/code-tables or /conf/mapping-tables."""

    name: str
    description: str
    link: str


class CountValue(TypedDict, total=False):
    """`loans`, `requests`, `fees` on a user read with expand: `{"value": "14"}`."""

    value: str | int | float | None


class User(TypedDict, total=False):
    """GET/PUT /users/{user_id}, or one item of GET /users with expand=full."""

    primary_id: str
    record_type: CodeValue
    account_type: CodeValue
    external_id: str
    user_group: CodeValue
    status: CodeValue
    expiry_date: str
    purge_date: str
    loans: CountValue | None
    requests: CountValue | None
    fees: CountValue | None
    link: str | None


class SetMember(TypedDict):
    id: str


class SetMembers(TypedDict):
    member: list[SetMember]


class AlmaSet(TypedDict, total=False):
    """POST /conf/sets (create) and its answer; `id` is filled in by Alma."""

    id: str
    name: str
    description: str
    type: CodeValue
    content: CodeValue
    private: CodeValue
    number_of_members: CountValue
    members: SetMembers


class JobParameter(TypedDict):
    name: CodeValue
    value: str


class Job(TypedDict, total=False):
    """GET /conf/jobs item, and the answer of POST /conf/jobs/{job_id}?op=run."""

    id: str
    name: str
    type: CodeValue
    category: CodeValue
    parameter: list[JobParameter]
    additional_info: CodeValue
    link: str


class JobCounter(TypedDict, total=False):
    type: CodeValue
    value: str


class JobInstance(TypedDict, total=False):
    """GET /conf/jobs/{job_id}/instances/{instance_id}."""

    id: str
    name: str
    status: CodeValue
    progress: int | str
    submit_time: str
    start_time: str
    end_time: str
    counter: list[JobCounter]
    alert: list[CodeValue]
    job_info: dict[str, Any]


class JobEvent(TypedDict, total=False):
    """One rejected entry of a SIS job run (…/instances/{instance_id}/events)."""

    type: CodeValue
    description: str
    severity: CodeValue
    entity: dict[str, Any]
    time: str


class IntegrationProfile(TypedDict, total=False):
    id: str
    code: str
    description: str
    type: CodeValue
    link: str
