"""Progress over time: what changed between an earlier survey snapshot and today's survey.

FLVC tracks the cleanup by committing the JSON survey now and then (under `reports/`) and
comparing today's survey with one of them. A snapshot holds counts only, so this reads only
codes, descriptions, statuses, enabled flags, user counts and candidate flags from it.

Only institutions surveyed both times are compared, so surveying one institution does not
report every other institution's groups as deleted. Per group it reports:

- retired: the YAML retires it now and did not then;
- disabled: Alma's row was enabled then and is disabled now;
- deleted: the row was in Alma's table then and is gone now;
- users moved out: a group that was a candidate or retired then holds fewer users now (a
  deleted one counts all of its users then);
- new: a row in Alma's table now that was not there then.

A snapshot is parsed defensively: a file that is not a survey document, or a format this
version does not know, is a one-line usage error naming the file and what is wrong. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from reconciler.errors import UsageError
from reconciler.survey.report import GroupStatus, Survey

READABLE_FORMATS = (1, 2)  # version 1 lacks tiers, but has everything compared here


@dataclass(frozen=True)
class GroupSnapshot:
    """What a comparison needs of one group at one time."""

    description: str
    status: str
    enabled: bool
    users: int
    candidate: bool


@dataclass(frozen=True)
class Snapshot:
    """One survey reduced to counts per (institution, code)."""

    day: date
    groups: Mapping[tuple[str, str], GroupSnapshot]
    institutions: frozenset[str]


class Progress(StrEnum):
    RETIRED = "retired"
    DISABLED = "disabled"
    DELETED = "deleted"
    USERS_MOVED_OUT = "users moved out"
    NEW = "new"


@dataclass(frozen=True)
class GroupProgress:
    """One change of one group between the two surveys."""

    slug: str
    code: str
    description: str
    kind: Progress
    users_before: int | None  # None for a new group
    users_after: int | None  # None for a deleted group


@dataclass(frozen=True)
class Comparison:
    """Every change, sorted by institution, code and kind, with both survey dates."""

    since: date
    today: date
    institutions: tuple[str, ...]  # surveyed both times
    changes: tuple[GroupProgress, ...]

    def count(self, kind: Progress) -> int:
        return sum(1 for change in self.changes if change.kind is kind)

    @property
    def users_moved_out(self) -> int:
        return sum(
            (change.users_before or 0) - (change.users_after or 0)
            for change in self.changes
            if change.kind is Progress.USERS_MOVED_OUT
        )


def snapshot_of(survey: Survey) -> Snapshot:
    """Today's survey as a snapshot, so both sides are compared the same way."""
    groups = {
        (row.slug, row.code): GroupSnapshot(
            row.description, row.status.value, row.enabled, row.users, row.candidate
        )
        for institution in survey.institutions
        for row in institution.rows
    }
    return Snapshot(survey.today, groups, frozenset(i.slug for i in survey.institutions))


def _field(node: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = node.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise UsageError(f"{where}.{key}: expected {kind.__name__}, found {value!r:.40}")
    return value


def parse_snapshot(text: str, source: str) -> Snapshot:
    """A snapshot from the text of a JSON survey; a UsageError naming `source` otherwise."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise UsageError(f"{source}: not JSON: {error}") from None
    if not isinstance(document, dict):
        raise UsageError(f"{source}: not a survey snapshot (alma-groups survey --format json)")
    version = document.get("format_version")
    if version not in READABLE_FORMATS:
        raise UsageError(
            f"{source}: format_version {version!r} is not one this version reads "
            f"({', '.join(map(str, READABLE_FORMATS))})"
        )
    try:
        day = date.fromisoformat(_field(document, "date", str, source))
    except ValueError:
        raise UsageError(f"{source}: date: not an ISO date") from None
    groups: dict[tuple[str, str], GroupSnapshot] = {}
    slugs = set()
    for index, institution in enumerate(_field(document, "institutions", list, source)):
        where = f"{source}: institutions[{index}]"
        if not isinstance(institution, dict):
            raise UsageError(f"{where}: expected an object")
        slug = _field(institution, "slug", str, where)
        slugs.add(slug)
        for number, group in enumerate(_field(institution, "groups", list, where)):
            at = f"{where}.groups[{number}]"
            if not isinstance(group, dict):
                raise UsageError(f"{at}: expected an object")
            groups[(slug, _field(group, "code", str, at))] = GroupSnapshot(
                _field(group, "description", str, at),
                _field(group, "status", str, at),
                _field(group, "enabled", bool, at),
                _field(group, "users", int, at),
                _field(group, "candidate", bool, at),
            )
    return Snapshot(day, groups, frozenset(slugs))


def _changes(old: GroupSnapshot, new: GroupSnapshot) -> list[Progress]:
    found = []
    retired = GroupStatus.RETIRED.value
    if new.status == retired and old.status != retired:
        found.append(Progress.RETIRED)
    if old.enabled and not new.enabled:
        found.append(Progress.DISABLED)
    if (old.candidate or old.status == retired) and new.users < old.users:
        found.append(Progress.USERS_MOVED_OUT)
    return found


def compare(old: Snapshot, survey: Survey) -> Comparison:
    """What changed from `old` to `survey`, over the institutions surveyed both times."""
    new = snapshot_of(survey)
    both = old.institutions & new.institutions
    changes: list[GroupProgress] = []
    for key in sorted(set(old.groups) | set(new.groups)):
        if key[0] not in both:
            continue
        before, after = old.groups.get(key), new.groups.get(key)
        if before is None and after is not None:
            changes.append(GroupProgress(*key, after.description, Progress.NEW, None, after.users))
        elif after is None and before is not None:
            changes.append(
                GroupProgress(*key, before.description, Progress.DELETED, before.users, None)
            )
            if before.users and (before.candidate or before.status == GroupStatus.RETIRED):
                changes.append(
                    GroupProgress(
                        *key, before.description, Progress.USERS_MOVED_OUT, before.users, 0
                    )
                )
        elif before is not None and after is not None:
            changes.extend(
                GroupProgress(*key, after.description, kind, before.users, after.users)
                for kind in _changes(before, after)
            )
    return Comparison(old.day, survey.today, tuple(sorted(both)), tuple(changes))
