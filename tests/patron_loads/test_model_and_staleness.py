"""The history model's questions (last seen, seen since) and the staleness verdicts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from reconciler.model.history import (
    NO_GROUP_LABEL,
    GroupSighting,
    PatronLoadFile,
    PatronLoadHistory,
    group_label,
)
from reconciler.patron_loads import Staleness, is_stale


def load(day: date, groups: dict[str, int], name: str = "p.zip", sha: str = "a") -> PatronLoadFile:
    return PatronLoadFile(
        file_name=name,
        sha256=sha * 64,
        file_date=day,
        size_bytes=10,
        record_types=("PUBLIC",),
        users=sum(groups.values()),
        users_by_group=tuple(sorted(groups.items())),
    )


HISTORY = PatronLoadHistory(
    "ucf",
    (
        load(date(2025, 3, 1), {"01": 5, "15": 2}, "march.zip", "b"),
        load(date(2025, 1, 1), {"01": 4, "15": 3, "": 1}, "january.zip", "a"),
        load(date(2025, 6, 1), {"01": 6}, "june.zip", "c"),
    ),
)


def test_files_are_sorted_by_date_then_name() -> None:
    """Whatever order files arrive in, the history holds them oldest first."""
    assert [item.file_name for item in HISTORY.files] == ["january.zip", "march.zip", "june.zip"]
    assert HISTORY.newest_file_date() == date(2025, 6, 1)
    assert PatronLoadHistory("ucf").newest_file_date() is None


def test_last_seen_is_the_newest_file_with_users_of_the_group() -> None:
    """last_seen gives date and count of the newest file where the group had users."""
    assert HISTORY.last_seen("15") == GroupSighting(date(2025, 3, 1), 2, "march.zip")
    day, count, _ = HISTORY.last_seen("01") or (None, None, None)
    assert (day, count) == (date(2025, 6, 1), 6)
    assert HISTORY.last_seen("99") is None
    assert HISTORY.last_seen("") == GroupSighting(date(2025, 1, 1), 1, "january.zip")


def test_seen_since_lists_sightings_within_the_lookback() -> None:
    """seen_since returns every file on or after the date in which the group had users."""
    assert HISTORY.seen_since("15", date(2025, 3, 1)) == [
        GroupSighting(date(2025, 3, 1), 2, "march.zip")
    ]
    assert len(HISTORY.seen_since("01", date(2024, 1, 1))) == 3
    assert HISTORY.seen_since("15", date(2025, 3, 2)) == []


def test_group_label_names_the_empty_group() -> None:
    """The empty key reads as "(no group)" in reports; other codes as themselves."""
    assert group_label("") == NO_GROUP_LABEL == "(no group)"
    assert group_label("01") == "01"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"users": 9}, "adds up to"),
        ({"file_name": "dir/p.zip"}, "base name"),
        ({"sha256": "XYZ"}, "sha256"),
        ({"users_by_group": (("02", 1), ("01", 6))}, "sorted"),
        ({"record_types": ("STAFF", "PUBLIC")}, "record_types"),
    ],
)
def test_load_file_refuses_inconsistent_values(change: dict[str, object], message: str) -> None:
    """A PatronLoadFile whose values contradict each other cannot be built."""
    fields = {**load(date(2025, 1, 1), {"01": 7}).__dict__, **change}
    with pytest.raises(ValueError, match=message):
        PatronLoadFile(**fields)  # type: ignore[arg-type]


def test_history_refuses_the_same_file_twice() -> None:
    """Two entries with one sha256 would double-count a load: refused."""
    item = load(date(2025, 1, 1), {"01": 1})
    with pytest.raises(ValueError, match="only once"):
        PatronLoadHistory("ucf", (item, item))


def test_with_files_merges_by_sha256() -> None:
    """Merging keeps known files, adds new ones once, and reports which was which."""
    new = load(date(2025, 7, 1), {"02": 1}, "july.zip", "d")
    merged, added, unchanged = HISTORY.with_files((HISTORY.files[0], new, new))
    assert added == (new,)
    assert unchanged == (HISTORY.files[0], new)
    assert merged.files[-1] == new
    assert len(merged.files) == 4


def test_missing_history_is_missing() -> None:
    """No history, or one without files, is MISSING whatever the SIS job did."""
    assert is_stale(None, None).status is Staleness.MISSING
    verdict = is_stale(PatronLoadHistory("ucf"), datetime(2025, 1, 1, tzinfo=UTC))
    assert verdict.status is Staleness.MISSING
    assert not verdict.ok
    assert "patron-loads ingest" in verdict.reason


def test_run_after_newest_file_is_stale() -> None:
    """A SIS run on a later day than the newest ingested file makes the history stale."""
    verdict = is_stale(HISTORY, datetime(2025, 6, 2, 1, 0, tzinfo=UTC))
    assert verdict.status is Staleness.STALE
    assert verdict.newest_file_date == date(2025, 6, 1)
    assert "2025-06-02" in verdict.reason


def test_run_on_the_same_day_or_earlier_is_fresh() -> None:
    """A run on the day of the newest file, or before it, leaves the history fresh."""
    assert is_stale(HISTORY, datetime(2025, 6, 1, 23, 59, tzinfo=UTC)).ok
    assert is_stale(HISTORY, datetime(2025, 5, 1, tzinfo=UTC)).ok
    assert is_stale(HISTORY, None).ok


def test_run_times_compare_in_utc() -> None:
    """An aware time is converted to UTC; a naive one is taken as UTC."""
    eastern = timezone(timedelta(hours=-5))
    assert is_stale(HISTORY, datetime(2025, 6, 1, 20, 0, tzinfo=eastern)).status is Staleness.STALE
    assert is_stale(HISTORY, datetime(2025, 6, 1, 20, 0)).ok
