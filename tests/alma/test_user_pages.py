"""Census pages: the typed fast decoder gives what the general decoder and slimming give."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.alma.normalise import as_float, parse_json
from reconciler.alma.user_pages import (
    CENSUS_FIELDS,
    CensusPage,
    CensusUser,
    Code,
    Count,
    census_page_of,
    decode_census_page,
)
from reconciler.errors import AlmaApiError, AlmaUnexpectedBodyError

from .fakes import FIXTURES, Canned, ClientFactory, FakeAlma

FULL_USER: dict[str, Any] = {
    "record_type": {"value": "PUBLIC", "desc": "Public"},
    "primary_id": "CANARY-ID-1",
    "first_name": "Canary",
    "user_group": {"value": "01", "desc": "Undergraduate"},
    "expiry_date": "2027-05-25Z",
    "account_type": {"value": "EXTERNAL", "desc": "External"},
    "status": {"value": "ACTIVE", "desc": "Active"},
    "status_date": "2026-02-08Z",
    "contact_info": {"email": [{"email_address": "canary@example.edu", "preferred": True}]},
    "user_identifier": [{"id_type": {"value": "BARCODE"}, "value": "B1", "status": "ACTIVE"}],
    "user_role": [{"status": {"value": "INACTIVE"}, "role_type": {"value": "200"}}],
    "link": "https://example.test/almaws/v1/users/CANARY-ID-1",
    "loans": None,
    "requests": {"value": "2"},
    "fees": 3.5,
}


def general(body: bytes) -> CensusPage | None:
    """The general path: json decoding, then each field read with the normalise helpers."""
    return census_page_of(parse_json(body))


def test_typed_decoder_keeps_only_the_census_fields() -> None:
    """A full record comes back with the nine census fields and nothing personal beyond the id."""
    body = json.dumps({"user": [FULL_USER], "total_record_count": 1}).encode()
    page = decode_census_page(body)
    assert page is not None
    assert page.total == 1
    (user,) = page.users
    assert set(CensusUser.__struct_fields__) == CENSUS_FIELDS
    assert not hasattr(user, "first_name")
    assert not hasattr(user, "contact_info")
    assert user.user_group == Code("01")
    # nested "status" inside user_role is not the user's status
    assert user.status == Code("ACTIVE")
    assert user.requests == Count("2")
    assert user.fees == 3.5


def test_a_census_user_never_shows_its_primary_id() -> None:
    """repr and str withhold the id (a user in a log line or a traceback names nobody), and
    show the census fields."""
    body = json.dumps({"user": [FULL_USER], "total_record_count": 1}).encode()
    page = decode_census_page(body)
    assert page is not None
    (user,) = page.users
    for shown in (repr(user), str(user), f"{user}", repr(page)):
        assert "CANARY-ID-1" not in shown
        assert "<withheld>" in shown
    assert "user_group=Code(value='01')" in repr(user)
    assert user.primary_id == "CANARY-ID-1"


def test_a_decoded_page_holds_nothing_the_garbage_collector_tracks() -> None:
    """Users, their code fields and counts are untracked Structs: a page adds no work to the
    collector however many users it holds (the reason for Structs, issue 11)."""
    body = json.dumps({"user": [FULL_USER] * 50, "total_record_count": 50}).encode()
    page = decode_census_page(body)
    assert page is not None
    assert len(page.users) == 50
    user = page.users[0]
    assert not gc.is_tracked(user)
    assert not gc.is_tracked(user.user_group)
    assert not gc.is_tracked(user.requests)
    slow = general(body)
    assert slow is not None
    assert not any(gc.is_tracked(u) for u in slow.users)


@pytest.mark.parametrize(
    "body",
    [
        # one user arrives as an object, not a one-element list
        {"user": FULL_USER, "total_record_count": "1"},
        # code fields as bare strings, counts as strings, total as -1
        {"user": [{**FULL_USER, "user_group": "01", "loans": "0"}], "total_record_count": -1},
        # no user key at all (an empty page)
        {"total_record_count": 0},
        {"user": None, "total_record_count": 0},
    ],
)
def test_quirky_shapes_decode_on_the_fast_path_like_the_general_one(body: Any) -> None:
    """Alma's shapes (one object for a list, strings for codes and numbers) take the fast path
    and give the same census fields as the general decoder."""
    raw = json.dumps(body).encode()
    fast = decode_census_page(raw)
    assert fast is not None
    assert _codes(fast) == _codes(general(raw))


@pytest.mark.parametrize(
    "raw",
    [
        # a code field as a one-element list: the general path's helpers read it
        json.dumps({"user": [{**FULL_USER, "user_group": [{"value": "01"}]}]}).encode(),
        # a number where the id belongs
        json.dumps({"user": [{**FULL_USER, "primary_id": 12345}]}).encode(),
        # NaN, which Python's json accepts and msgspec does not
        b'{"user": [{"primary_id": "A", "fees": NaN}], "total_record_count": 1}',
    ],
)
def test_unknown_shapes_fall_back_to_the_general_decoder(raw: bytes) -> None:
    """Shapes the typed decoder does not declare return None: the caller takes the slow path."""
    assert decode_census_page(raw) is None
    assert general(raw) is not None


def test_duplicate_keys_keep_the_last_value_on_both_paths() -> None:
    """A repeated key (seen in Alma bodies) keeps its last value, as Python's json does."""
    raw = (
        b'{"user": [{"primary_id": "A", "user_group": {"value": "01"},'
        b' "user_group": {"value": "02"}, "primary_id": "B"}], "total_record_count": 1,'
        b' "total_record_count": 7}'
    )
    fast = decode_census_page(raw)
    assert fast is not None
    assert _codes(fast) == _codes(general(raw)) == [("B", "02")]
    assert fast.total == 7


def test_a_byte_order_mark_is_skipped() -> None:
    """Some gateways prepend a BOM; the fast path reads past it like parse_json does."""
    raw = b"\xef\xbb\xbf" + json.dumps({"user": [FULL_USER]}).encode()
    fast = decode_census_page(raw)
    assert fast is not None
    assert _codes(fast) == [("CANARY-ID-1", "01")]


codes = st.one_of(st.text(max_size=6), st.dictionaries(st.just("value"), st.text(max_size=6)))
counts = st.one_of(
    st.none(),
    st.integers(0, 9),
    st.floats(0, 9, allow_nan=False),
    st.dictionaries(st.just("value"), st.text("0123456789", max_size=2)),
)
users = st.fixed_dictionaries(
    {"primary_id": st.text(max_size=8), "user_group": codes},
    optional={
        "status": codes,
        "account_type": codes,
        "expiry_date": st.none() | st.text(max_size=11),
        "loans": counts,
        "fees": counts,
        "first_name": st.text(max_size=5),
        "user_role": st.lists(st.dictionaries(st.sampled_from(["status", "x"]), codes)),
    },
)


@given(st.lists(users, max_size=5), st.integers(-1, 500))
def test_fast_and_general_paths_agree_on_any_page(page: list[Any], total: int) -> None:
    """For generated pages in the declared shapes, both paths give the same census fields."""
    raw = json.dumps({"user": page, "total_record_count": total}).encode()
    fast = decode_census_page(raw)
    assert fast is not None
    slow = general(raw)
    assert slow is not None
    assert _normalised(fast) == _normalised(slow)


def _codes(page: CensusPage | None) -> list[tuple[str, str | None]]:
    assert page is not None
    return [(u.primary_id, _code(u.user_group)) for u in page.users]


def _code(field: Code | str | None) -> str | None:
    value = field.value if isinstance(field, Code) else field
    return None if value is None else value.strip()


def _number(field: Count | float | str | None) -> float | None:
    return as_float(field.value if isinstance(field, Count) else field)


def _normalised(page: CensusPage) -> tuple[list[dict[str, Any]], int | None]:
    """Each user as the census reads it: code fields as their value ("" for none, as
    `normalise.code_of` gives), counts as numbers, dates as the text Alma sent."""
    users = [
        {
            "primary_id": u.primary_id,
            "user_group": _code(u.user_group) or "",
            "status": _code(u.status) or "",
            "account_type": _code(u.account_type) or "",
            "status_date": u.status_date,
            "expiry_date": u.expiry_date,
            "loans": _number(u.loans),
            "requests": _number(u.requests),
            "fees": _number(u.fees),
        }
        for u in page.users
    ]
    return users, page.total


def test_census_page_over_http_reads_counts_and_total(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """The client's census page sends expand=full and returns slim users and the total."""
    fake_alma.script("GET", "/users", Canned(body={"user": [FULL_USER], "total_record_count": 1}))
    page = make_client().census_page(offset=0)
    assert page.total == 1
    assert [u.primary_id for u in page.users] == ["CANARY-ID-1"]
    assert fake_alma.requests[0].query["expand"] == ["full"]


def test_census_page_with_items_that_are_not_objects_is_refused(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """A list of strings is not a census page: a clear unexpected-body error, not a crash."""
    fake_alma.script("GET", "/users", Canned(body={"user": ["a", "b"], "total_record_count": 2}))
    with pytest.raises(AlmaUnexpectedBodyError, match="not an object"):
        make_client().census_page(offset=0)


def test_census_page_with_a_total_that_is_no_number_is_refused(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """A boolean total is not a page a census can read: a clear unexpected-body error naming
    the call, not a ValueError from deep inside."""
    fake_alma.script("GET", "/users", Canned(body={"user": [], "total_record_count": True}))
    with pytest.raises(AlmaUnexpectedBodyError, match="GET /users"):
        make_client().census_page(offset=0)


@pytest.mark.parametrize(
    "body",
    [
        {"errorsExist": True, "errorList": {"error": [{"errorCode": "401652"}]}, "user": []},
        {
            "web_service_result": {
                "errorsExist": True,
                "errorList": {"error": {"errorCode": "401652"}},
            }
        },
    ],
    ids=["bare", "wrapped"],
)
def test_an_error_envelope_answered_with_200_is_an_api_error_not_an_empty_page(
    body: dict[str, Any], fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """The typed decoder declines a body with Alma's error keys, so the requester's error
    check still sees it: an error with its code, never a page of no users."""
    raw = json.dumps(body).encode()
    assert decode_census_page(raw) is None
    fake_alma.script("GET", "/users", Canned(status=200, body=body))
    with pytest.raises(AlmaApiError) as raised:
        make_client().census_page(offset=0)
    assert raised.value.alma_code == "401652"


def test_census_page_error_with_one_error_object_is_an_api_error(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """Alma's error list with `error` as one object still raises with its code."""
    body = {
        "errorsExist": True,
        "errorList": {"error": {"errorCode": "401652", "errorMessage": "General Error"}},
    }
    fake_alma.script("GET", "/users", Canned(status=400, body=body))
    with pytest.raises(AlmaApiError) as raised:
        make_client().census_page(offset=0)
    assert raised.value.alma_code == "401652"


def test_the_quirky_user_fixture_gives_the_same_census_fields_on_both_paths() -> None:
    """The fixture with duplicated keys, strings for numbers and a one-object list decodes
    on the fast path to what the general path gives."""
    record = (FIXTURES / "user_with_quirks.json").read_bytes()
    raw = b'{"user": ' + record + b', "total_record_count": "1"}'
    fast = decode_census_page(raw)
    assert fast is not None
    slow = general(raw)
    assert slow is not None
    assert _normalised(fast) == _normalised(slow)
    assert _normalised(fast)[0][0]["fees"] == 12.5
