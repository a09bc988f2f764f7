"""Alma XML request bodies are accepted where Alma accepts them (users, code tables, jobs).

Over HTTP: the in-process client only sends JSON, as the project's client does.
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.sandbox import SandboxServer
from reconciler.sandbox.wizard import wizard_parameters

from .conftest import HttpClient

XML = {"Content-Type": "application/xml"}


def test_put_user_as_xml(make_http_sandbox: Callable[..., SandboxServer]) -> None:
    """A swap-all PUT written in Alma's user XML moves an INTERNAL user and keeps roles."""
    client = HttpClient(make_http_sandbox(strict_user_put=False))  # a partial body: raw swap-all
    users = client.get("/users", q="user_group~15", limit=100, expand="full").json()["user"]
    user = next(u for u in users if u["account_type"]["value"] == "INTERNAL")
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<user>
  <record_type desc="Public">PUBLIC</record_type>
  <primary_id>{user["primary_id"]}</primary_id>
  <first_name>{user["first_name"]}</first_name>
  <last_name>{user["last_name"]}</last_name>
  <user_group>01</user_group>
  <account_type desc="Internal">INTERNAL</account_type>
  <status desc="Active">ACTIVE</status>
  <contact_info><emails><email preferred="true" segment_type="Internal">
    <email_address>x@example.edu</email_address>
    <email_types><email_type desc="Work">work</email_type></email_types>
  </email></emails></contact_info>
  <user_roles/>
</user>"""
    response = client.session.put(
        f"{client.base}/users/{user['primary_id']}", data=body, headers=XML, timeout=5
    )
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["user_group"] == {"value": "01", "desc": "Undergraduate"}
    assert stored["contact_info"]["email"][0]["preferred"] is True
    assert stored["user_role"] == user["user_role"]


def test_run_job_with_xml_parameters(http_sandbox: SandboxServer) -> None:
    """The job parameters can be posted as `<job><parameters><parameter>` XML."""
    client = HttpClient(http_sandbox)
    set_id = client.post(
        "/conf/sets", {"name": "x", "type": {"value": "ITEMIZED"}, "content": {"value": "USER"}}
    ).json()["id"]
    rows = "".join(
        f"<parameter><name>{name}</name><value>{value}</value></parameter>"
        for name, value in wizard_parameters(set_id, "GR").items()
    )
    body = f"<job><parameters>{rows}</parameters></job>"
    response = client.session.post(
        f"{client.base}/conf/jobs/M148", params={"op": "run"}, data=body, headers=XML, timeout=5
    )
    assert response.status_code == 200, response.text
    assert "/instances/" in response.json()["additional_info"]["link"]


def test_broken_xml_is_401676(http_sandbox: SandboxServer) -> None:
    """An unreadable XML body is refused like Alma does."""
    client = HttpClient(http_sandbox)
    response = client.session.put(
        f"{client.base}/conf/code-tables/UserGroups", data="<rows>", headers=XML, timeout=5
    )
    assert response.status_code == 400
    assert response.json()["errorList"]["error"][0]["errorCode"] == "401676"
