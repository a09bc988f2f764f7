"""The users API: brief search, word match, swap-all PUT, protected fields, 400 not found."""

from __future__ import annotations

from typing import Any

import requests

from reconciler.sandbox import SandboxServer

from .conftest import Client, HttpClient, error_code, xml_root


def _user(ucf: Client, user_id: str, **params: Any) -> dict[str, Any]:
    response = ucf.get(f"/users/{user_id}", **params)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _members(ucf: Client | HttpClient, code: str) -> list[dict[str, Any]]:
    """Every user whose exact group is `code`, by paging with expand=full."""
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = ucf.get(
            "/users", q=f"user_group~{code}", limit=100, offset=offset, expand="full"
        ).json()
        found += [u for u in page["user"] if u["user_group"]["value"] == code]
        offset += 100
        if offset >= page["total_record_count"]:
            return found


def _external_user(ucf: Client | HttpClient, code: str = "01") -> dict[str, Any]:
    return next(u for u in _members(ucf, code) if u["account_type"]["value"] == "EXTERNAL")


def test_brief_items_lack_user_group(ucf: Client) -> None:
    """Without expand=full, list items are brief: no user_group, loans/requests/fees null."""
    body = ucf.get("/users", limit=5).json()
    assert body["total_record_count"] > 5
    assert len(body["user"]) == 5
    assert all("user_group" not in u and u["loans"] is None for u in body["user"])
    full = ucf.get("/users", limit=5, expand="full").json()["user"]
    assert all("user_group" in u for u in full)


def test_word_match_counts_inactive_users(ucf: Client) -> None:
    """q=user_group~CODE counts inactive and expired users too (status cannot be filtered)."""
    members = _members(ucf, "01")
    inactive = [u for u in members if u["status"]["value"] == "INACTIVE"]
    assert inactive
    total = ucf.get("/users", q="user_group~01", limit=1).json()["total_record_count"]
    assert total >= len(members)


def test_word_match_also_hits_descriptions(ucf: Client) -> None:
    """The word match reads group descriptions too, so `user_group~69` over-counts group 69."""
    exact = len(_members(ucf, "69"))
    estimate = ucf.get("/users", q="user_group~69", limit=1).json()["total_record_count"]
    # "UB" (unmanaged drift) is described "UBorrow visiting patron (replaces 69)".
    assert estimate == exact + len(_members(ucf, "UB"))


def test_word_match_is_case_insensitive_on_names(ucf: Client) -> None:
    """last_name~ matches whole words, whatever their case."""
    name = ucf.get("/users", limit=1).json()["user"][0]["last_name"]
    lower = ucf.get("/users", q=f"last_name~{name.lower()}", limit=100).json()
    assert lower["total_record_count"] >= 1
    assert all(u["last_name"] == name for u in lower["user"])


def test_same_field_twice_with_and_gives_minus_one(ucf: Client) -> None:
    """Alma quirk: the same field twice joined by AND reports total_record_count -1."""
    body = ucf.get("/users", q="user_group~01 AND user_group~02").json()
    assert body["total_record_count"] == -1


def test_past_the_end_page_is_an_empty_envelope(ucf: Client) -> None:
    """Reading past the end gives an empty list with the total, like Alma's envelopes."""
    total = ucf.get("/users", limit=1).json()["total_record_count"]
    body = ucf.get("/users", limit=10, offset=total + 5).json()
    assert body == {"user": [], "total_record_count": total}


def test_limit_above_100_is_refused(ucf: Client) -> None:
    """limit is 0 to 100."""
    assert ucf.get("/users", limit=101).status_code == 400


def test_order_by_last_name_then_first_name(ucf: Client) -> None:
    """Default order is last name, first name, primary id."""
    users = ucf.get("/users", limit=100).json()["user"]
    keys = [(u["last_name"], u["first_name"], u["primary_id"]) for u in users]
    assert keys == sorted(keys)


def test_not_found_is_400_401861(ucf: Client) -> None:
    """A missing user is HTTP 400 with errorCode 401861, not a 404."""
    response = ucf.get("/users/NOBODY")
    assert response.status_code == 400
    assert error_code(response) == "401861"
    assert response.json()["result"] is None


def test_identifier_finds_the_user(ucf: Client) -> None:
    """user_id_type=all_unique: a barcode finds the same record as the primary id."""
    user = _external_user(ucf)
    barcode = user["user_identifier"][0]["value"]
    assert _user(ucf, barcode)["primary_id"] == user["primary_id"]


def test_expand_gives_loans_requests_fees(ucf: Client) -> None:
    """expand=loans,requests,fees gives counts and a fee sum; without it they are null."""
    plain = _user(ucf, ucf.get("/users", limit=1).json()["user"][0]["primary_id"])
    assert plain["loans"] is None
    expanded = _user(ucf, plain["primary_id"], expand="loans,requests,fees")
    assert isinstance(expanded["loans"]["value"], int)
    assert isinstance(expanded["fees"]["value"], float)


def test_put_keeps_external_group_without_override(lenient_ucf: Client) -> None:
    """Swap-all PUT of an EXTERNAL user keeps user_group unless override=user_group."""
    user = _external_user(lenient_ucf)
    body = {**user, "user_group": {"value": "GR"}}
    kept = lenient_ucf.put(f"/users/{user['primary_id']}", body)
    assert kept.status_code == 200
    assert kept.json()["user_group"]["value"] == "01"
    moved = lenient_ucf.put(f"/users/{user['primary_id']}", body, override="user_group")
    assert moved.json()["user_group"] == {"value": "GR", "desc": "Graduate Student"}
    assert _user(lenient_ucf, user["primary_id"])["user_group"]["value"] == "GR"


def test_put_moves_internal_user_without_override(ucf: Client) -> None:
    """INTERNAL users have no protected fields: the group changes on a plain PUT."""
    user = next(u for u in _members(ucf, "15") if u["account_type"]["value"] == "INTERNAL")
    moved = ucf.put(f"/users/{user['primary_id']}", {**user, "user_group": {"value": "01"}})
    assert moved.json()["user_group"]["value"] == "01"


def test_put_is_swap_all(lenient_ucf: Client) -> None:
    """Fields left out of the PUT body are cleared; roles left out are kept."""
    user = _external_user(lenient_ucf)
    body = {k: v for k, v in user.items() if k not in ("contact_info", "user_role")}
    after = lenient_ucf.put(f"/users/{user['primary_id']}", body).json()
    assert after["contact_info"] == {"address": [], "email": [], "phone": []}
    assert after["user_role"] == user["user_role"]


def test_put_refuses_illegal_group(ucf: Client) -> None:
    """Moving a user into a group that does not exist is 401852."""
    user = _external_user(ucf)
    body = {**user, "user_group": {"value": "NOPE"}}
    response = ucf.put(f"/users/{user['primary_id']}", body, override="user_group")
    assert response.status_code == 400
    assert error_code(response) == "401852"


def test_put_refuses_external_id_change(lenient_ucf: Client) -> None:
    """external_id cannot change (401858)."""
    user = _external_user(lenient_ucf)
    response = lenient_ucf.put(f"/users/{user['primary_id']}", {**user, "external_id": "OTHER"})
    assert error_code(response) == "401858"


def test_user_with_loans_cannot_be_deleted(ucf: Client) -> None:
    """DELETE is refused (401850) while the user has loans, requests or fees."""
    users = ucf.get("/users", limit=100, expand="full").json()["user"]
    busy = next(
        u
        for u in users
        if _user(ucf, u["primary_id"], expand="loans,requests,fees")["loans"]["value"] > 0
    )
    response = ucf.delete(f"/users/{busy['primary_id']}")
    assert response.status_code == 400
    assert error_code(response) == "401850"


def test_delete_free_user(ucf: Client) -> None:
    """A user without loans, requests or fees is deleted (204) and then not found."""
    for user in ucf.get("/users", limit=20).json()["user"]:
        counts = _user(ucf, user["primary_id"], expand="loans,requests,fees")
        if not (counts["loans"]["value"] or counts["requests"]["value"] or counts["fees"]["value"]):
            assert ucf.delete(f"/users/{user['primary_id']}").status_code == 204
            assert error_code(ucf.get(f"/users/{user['primary_id']}")) == "401861"
            return
    raise AssertionError("no free user among the first 20")


def test_user_as_xml_follows_alma(http_sandbox: SandboxServer) -> None:
    """Asked without JSON, a user is Alma XML: desc attributes and wrapped lists."""
    user = _external_user(HttpClient(http_sandbox))
    response = requests.get(
        f"{http_sandbox.base_url}/almaws/v1/users/{user['primary_id']}",
        headers={"Authorization": f"apikey {http_sandbox.api_keys()['ucf']}"},
        timeout=5,
    )
    root = xml_root(response.content)
    assert root.tag == "user"
    group = root.find("user_group")
    assert group is not None
    assert (group.text, group.get("desc")) == ("01", "Undergraduate")
    email = root.find("contact_info/emails/email")
    assert email is not None
    assert email.get("preferred") == "true"
    assert root.find("user_identifiers/user_identifier/value") is not None


def test_strict_put_refuses_a_changed_field(ucf: Client) -> None:
    """A PUT that changes anything but user_group is refused with 401676, naming the field."""
    user = _external_user(ucf)
    body = {**user, "user_group": {"value": "GR"}, "first_name": "Changed"}
    response = ucf.put(f"/users/{user['primary_id']}", body, override="user_group")
    assert response.status_code == 400
    assert error_code(response) == "401676"
    assert "first_name" in response.text
    assert _user(ucf, user["primary_id"])["user_group"]["value"] == "01"


def test_strict_put_refuses_a_missing_field(ucf: Client) -> None:
    """A PUT that leaves out a field (which swap-all would wipe) is refused."""
    user = _external_user(ucf)
    body = {k: v for k, v in user.items() if k != "last_name"}
    response = ucf.put(f"/users/{user['primary_id']}", body)
    assert error_code(response) == "401676"
    assert "last_name is missing" in response.text


def test_strict_put_accepts_only_the_group_changed_without_roles(ucf: Client) -> None:
    """The record as read, user_group changed and user_role left out, is accepted; roles stay."""
    user = _external_user(ucf)
    body = {k: v for k, v in user.items() if k != "user_role"}
    body["user_group"] = {"value": "GR"}
    moved = ucf.put(f"/users/{user['primary_id']}", body, override="user_group")
    assert moved.status_code == 200, moved.text
    after = _user(ucf, user["primary_id"])
    assert after["user_group"]["value"] == "GR"
    assert after["user_role"] == user["user_role"]
