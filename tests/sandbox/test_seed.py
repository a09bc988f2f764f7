"""Seeding: determinism, the shape of the seeded data, patron-load files and Analytics rules."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
import requests

from reconciler.model import DesiredState
from reconciler.sandbox import (
    RULES_REPORT_PATH,
    InProcessSandbox,
    SandboxServer,
    SeedSummary,
    seed_missing,
    seed_state,
    sftp_dir,
)
from reconciler.sandbox.store import DB_NAME, Store

from ..fixture_tree import FIXTURE_ROOT, POPULATION, SLUGS, seed_sandbox
from .conftest import SCALE, TODAY, Client, desired_state, xml_root

ROWSET = "{urn:schemas-microsoft-com:xml-analysis:rowset}"


def _fingerprint(state: Path) -> str:
    store = Store(state / DB_NAME)
    try:
        digest = hashlib.sha256(store.content_hash().encode())
    finally:
        store.close()
    for path in sorted(state.rglob("*.zip")):
        digest.update(path.relative_to(state).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def test_same_seed_same_content(tmp_path: Path) -> None:
    """Two seeds with the same (seed, scale, today) give byte-identical DB content and files."""
    first = seed_state(tmp_path / "a", desired_state(), scale=SCALE, seed=3, today=TODAY)
    second = seed_state(tmp_path / "b", desired_state(), scale=SCALE, seed=3, today=TODAY)
    assert first.institutions == second.institutions
    assert _fingerprint(tmp_path / "a") == _fingerprint(tmp_path / "b")
    other = seed_state(tmp_path / "c", desired_state(), scale=SCALE, seed=4, today=TODAY)
    assert _fingerprint(tmp_path / "c") != _fingerprint(tmp_path / "a")
    assert other.total_users == first.total_users  # sizes follow population, not the seed


def test_reseed_replaces_the_state(tmp_path: Path) -> None:
    """Seeding an existing state dir starts over (no leftover users or files)."""
    seed_state(tmp_path, desired_state(), scale=SCALE * 4, seed=1, today=TODAY)
    small = seed_state(tmp_path, desired_state(), scale=SCALE, seed=1, today=TODAY)
    store = Store(tmp_path / DB_NAME)
    try:
        assert store.one("SELECT COUNT(*) FROM users") == (small.total_users,)
    finally:
        store.close()


def test_new_institution_is_seeded_later(tmp_path: Path) -> None:
    """An institution added after seeding gets its state without touching the others."""
    both = desired_state()
    first = seed_state(tmp_path, DesiredState(both.institutions[:1]), scale=SCALE, today=TODAY)
    added = seed_missing(tmp_path, both)
    assert [i.slug for i in added] == ["vc"]
    assert seed_missing(tmp_path, both) == ()
    store = Store(tmp_path / DB_NAME)
    try:
        counts = dict(store.all("SELECT inst, COUNT(*) FROM users GROUP BY inst"))
    finally:
        store.close()
    assert counts == {"ucf": first.total_users, "vc": added[0].users}


def test_live_groups_hold_kept_and_retired(seeded: tuple[Path, SeedSummary]) -> None:
    """Every retired group is still live; retired groups moving users have some."""
    ucf = next(i for i in seeded[1].institutions if i.slug == "ucf")
    assert {"01", "GR", "FAC", "STAFF", "15", "69", "99"} <= set(ucf.group_sizes)
    assert ucf.group_sizes["15"] >= 2
    assert ucf.group_sizes["69"] >= 2
    assert ucf.group_sizes["01"] == max(ucf.group_sizes.values())
    assert sum(ucf.group_sizes.values()) == ucf.users


def test_drift_is_reported(seeded: tuple[Path, SeedSummary]) -> None:
    """Drift (unmanaged, description, missing, disabled, deleted) is listed per institution."""
    kinds = {d.split(":")[0] for i in seeded[1].institutions for d in i.drift}
    assert {"unmanaged", "description"} <= kinds


def test_user_records_look_like_alma(sandbox: InProcessSandbox) -> None:
    """Full records carry identifiers, contact info, roles and EXTERNAL/INTERNAL accounts."""
    users = Client(sandbox).get("/users", limit=100, expand="full").json()["user"]
    kinds = {u["account_type"]["value"] for u in users}
    assert kinds == {"EXTERNAL", "INTERNAL"}
    user = next(u for u in users if u["account_type"]["value"] == "EXTERNAL")
    assert user["external_id"] in ("SIS_STUDENTS", "SIS_STAFF")
    assert user["contact_info"]["email"][0]["email_address"].endswith(".example.edu")
    assert user["user_role"][0]["role_type"]["value"] == "200"
    assert user["expiry_date"].endswith("Z")
    assert {u["status"]["value"] for u in users} == {"ACTIVE", "INACTIVE"}


def test_patron_load_files_are_zipped_user_xml(seeded: tuple[Path, SeedSummary]) -> None:
    """Each load is a zip of `<users>` XML with Alma user elements and the load date."""
    files = sorted((seeded[0] / "sftp" / "ucf").rglob("*.zip"))
    assert len(files) == next(i for i in seeded[1].institutions if i.slug == "ucf").load_files
    with zipfile.ZipFile(files[-1]) as archive:
        info = archive.infolist()[0]
        root = xml_root(archive.read(info))
    assert root.tag == "users"
    user = next(root.iter("user"))
    assert user.findtext("user_group")
    assert user.find("contact_info/emails/email") is not None


def test_still_loaded_retired_groups_appear_in_recent_loads(
    seeded: tuple[Path, SeedSummary],
) -> None:
    """Some retired groups still arrive in loads; others only outside the look-back."""
    recent: set[str] = set()
    for path in (seeded[0] / "sftp").rglob("*.zip"):
        day = path.stem.rsplit("_", 1)[1]
        with zipfile.ZipFile(path) as archive:
            root = xml_root(archive.read(archive.namelist()[0]))
        if day >= f"{TODAY.year - 1}{TODAY:%m%d}":
            recent |= {u.findtext("user_group") or "" for u in root.iter("user")}
    kept = {g.code for s in desired_state().institutions for g in s.user_groups.groups}
    assert recent - {""} <= kept | {"15", "69", "99", "RES"}


def test_analytics_report_pages_with_a_token(sandbox: InProcessSandbox) -> None:
    """The rules report comes as XML in `anies`, paged with one ResumptionToken and IsFinished."""
    store = Store(sandbox.state_dir / DB_NAME)
    with store.tx() as conn:  # enough extra rules for two pages
        conn.executemany(
            "INSERT INTO analytics_rows VALUES ('ucf', ?, ?, ?)",
            [
                (
                    RULES_REPORT_PATH,
                    100 + n,
                    f'["Branch", "Rule {n}", "Loan", "Yes", "User Group", "in list", "GR", "TOU"]',
                )
                for n in range(30)
            ],
        )
    store.close()
    client = Client(sandbox)
    first = xml_root(
        client.get("/analytics/reports", path=RULES_REPORT_PATH, limit=25).json()["anies"][0]
    )
    assert first.findtext("IsFinished") == "false"
    rows = first.findall(f"ResultXml/{ROWSET}rowset/{ROWSET}Row")
    assert len(rows) == 25
    assert rows[0].findtext(f"{ROWSET}Column5") == "User Group"
    token = first.findtext("ResumptionToken")
    assert token
    page = client.get("/analytics/reports", token=token, limit=25).json()
    second = xml_root(page["anies"][0])
    assert second.findtext("IsFinished") == "true"
    total = len(rows) + len(second.findall(f"ResultXml/{ROWSET}rowset/{ROWSET}Row"))
    assert total == 30 + _seeded_rule_count(sandbox)


def _seeded_rule_count(sandbox: InProcessSandbox) -> int:
    store = Store(sandbox.state_dir / DB_NAME)
    try:
        row = store.one("SELECT COUNT(*) FROM analytics_rows WHERE inst = 'ucf' AND seq < 100")
    finally:
        store.close()
    return int(row[0]) if row else 0


def test_analytics_xml_form(http_sandbox: SandboxServer) -> None:
    """Without JSON, the report is an XML body: report/QueryResult/ResultXml/rowset/Row."""
    key = http_sandbox.api_keys()["ucf"]
    response = requests.get(
        f"{http_sandbox.base_url}/almaws/v1/analytics/reports",
        timeout=5,
        params={"path": RULES_REPORT_PATH, "apikey": key},
    )
    root = xml_root(response.content)
    assert root.tag == "report"
    assert root.find(f"QueryResult/ResultXml/{ROWSET}rowset/{ROWSET}Row") is not None


def test_integration_profiles_default_limit_is_ten(sandbox: InProcessSandbox) -> None:
    """Profiles list: SIS profiles have type USER; the list is cut at 10 unless limit is set."""
    body = Client(sandbox).get("/conf/integration-profiles").json()
    assert body["total_record_count"] == 3
    users = Client(sandbox).get("/conf/integration-profiles", type="USER").json()
    assert {p["code"] for p in users["integration_profile"]} == {"SIS_STUDENTS", "SIS_STAFF"}


def test_an_institutions_tree_seeds(tmp_path: Path) -> None:
    """reset_sandbox seeds every institution of a YAML tree with the headcounts given."""
    summary = seed_sandbox(tmp_path, FIXTURE_ROOT, scale=0.01, today=TODAY)
    assert [i.slug for i in summary.institutions] == list(SLUGS)
    assert all(i.api_key == f"sandbox-{i.slug}" for i in summary.institutions)
    users = {i.slug: i.users for i in summary.institutions}
    assert users == {slug: round(POPULATION[slug] * 0.01) for slug in SLUGS}


def test_load_files_read_by_the_patron_load_reader(seeded: tuple[Path, SeedSummary]) -> None:
    """Contract: the tool's patron-load reader parses every seeded file and finds its date."""
    reading = pytest.importorskip("reconciler.patron_loads.reading")
    ucf = next(i for i in seeded[1].institutions if i.slug == "ucf")
    files = sorted(sftp_dir(seeded[0], "ucf").rglob("*.zip"))
    for path in files:
        counted = reading.count_file(path)
        assert counted.file_date.strftime("%Y%m%d") == path.stem.rsplit("_", 1)[1]
        assert {code for code, _ in counted.users_by_group} <= set(ucf.group_sizes) | {""}
