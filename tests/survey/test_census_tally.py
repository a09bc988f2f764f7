"""`GroupTally` tallies users by kind: its counts equal those of adding each user's flags."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reconciler.alma.user_pages import CensusUser, census_user, decode_census_page
from reconciler.reading.tally import GroupTally, user_flags

TODAY = date(2026, 11, 29)

counts = st.one_of(
    st.none(),
    st.integers(0, 3),
    st.floats(0, 3, allow_nan=False),
    st.sampled_from(["0", "2", "12.50", ""]),
    st.dictionaries(st.just("value"), st.sampled_from(["0", "1", "3.5"])),
)
users = st.fixed_dictionaries(
    {"primary_id": st.text("abc123", min_size=1, max_size=4)},
    optional={
        "status": st.sampled_from([{"value": "ACTIVE"}, {"value": "INACTIVE"}, "INACTIVE"]),
        "account_type": st.sampled_from([{"value": "EXTERNAL"}, {"value": "INTERNAL"}]),
        "expiry_date": st.sampled_from(["", "2020-01-01Z", "2030-06-30Z", "2026-11-28"]),
        "status_date": st.sampled_from(["2025-01-02Z", "2026-03-04Z", ""]),
        "loans": counts,
        "requests": counts,
        "fees": counts,
    },
)


def typed(records: list[dict[str, Any]]) -> list[CensusUser]:
    """The users as the typed decoder gives them (`Code`, `Count` and bare values)."""
    page = decode_census_page(json.dumps({"user": records}).encode())
    assert page is not None
    return list(page.users)


@given(st.lists(users, max_size=30))
def test_tally_by_kind_equals_adding_every_users_flags(records: list[dict[str, Any]]) -> None:
    """Whatever the mix, each count is the number of users with that flag set."""
    people = typed(records)
    tally = GroupTally("01", TODAY)
    for user in people:
        tally.add(user)
    breakdown = tally.census(exact=True).breakdown
    assert tally.members == len(people)
    for name in type(breakdown).__dataclass_fields__:
        expected = sum(user_flags(user, TODAY)[name] for user in people)
        assert getattr(breakdown, name) == expected, name


@given(st.lists(users, max_size=30))
def test_both_decoding_paths_give_the_same_census(records: list[dict[str, Any]]) -> None:
    """Users read on the general path (`census_user`) tally exactly like the typed ones."""
    fast, slow = GroupTally("01", TODAY), GroupTally("01", TODAY)
    for user in typed(records):
        fast.add(user)
    for record in records:
        slow.add(census_user(record))
    assert slow.census(exact=True) == fast.census(exact=True)


@given(st.lists(users, max_size=30))
def test_a_digest_handed_in_gives_the_fingerprint_the_tally_would_make(
    records: list[dict[str, Any]],
) -> None:
    """The reader's sha256 of each id, passed along, sums to the fingerprint of hashing anew."""
    people = typed(records)
    own, handed = GroupTally("01", TODAY), GroupTally("01", TODAY)
    for user in people:
        own.add(user)
        handed.add(user, hashlib.sha256(user.primary_id.encode()).digest())
    assert handed.census(exact=True) == own.census(exact=True)
    expected = sum(int(hashlib.sha256(u.primary_id.encode()).hexdigest(), 16) for u in people)
    assert own.census(exact=True).member_fingerprint.endswith(f"{expected % 2**256:064x}")
