"""Patron-load history: SIS profiles, their jobs, zipped user-XML files and job instances.

Files are what FLVC's SFTP would hold: `sftp/<slug>/alma/{student,staff}/<slug>_<kind>_<date>.zip`,
each a zip of one Alma user-XML file (`<users><user>…</user></users>`), with the zip entry date
and the file's mtime set to the load date. Each file has a SIS job instance (same date, counters
that add up) and, when records were rejected, events. Retired groups that are "still loaded"
appear in recent files; other retired groups only in files older than the look-back.
"""

from __future__ import annotations

import os
import random
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from reconciler.sandbox.context import code, timestamp
from reconciler.sandbox.jobbodies import sis_counters
from reconciler.sandbox.jobs import UPDATE_USERS_JOB
from reconciler.sandbox.store import dumps
from reconciler.sandbox.xmlout import element_xml

MAX_USERS_PER_FILE = 500


def sftp_dir(state_dir: Path, slug: str) -> Path:
    """Where an institution's patron-load zips live (`alma/student`, `alma/staff` below it)."""
    return state_dir / "sftp" / slug


@dataclass(frozen=True)
class SisProfile:
    id: str
    job_id: str
    code: str
    name: str
    record_type: str
    folder: str  # FLVC's SFTP folder: alma/student or alma/staff
    kind: str


def profiles_for(number: int) -> tuple[SisProfile, SisProfile]:
    """An institution's two SIS profiles; `number` keeps ids unique across institutions."""
    base = 6100000000000561 + number * 1000
    return (
        SisProfile(
            str(base),
            f"S{base + 1}",
            "SIS_STUDENTS",
            "Student patron load",
            "PUBLIC",
            "alma/student",
            "students",
        ),
        SisProfile(
            str(base + 2),
            f"S{base + 3}",
            "SIS_STAFF",
            "Staff patron load",
            "STAFF",
            "alma/staff",
            "staff",
        ),
    )


def profile_record(p: SisProfile) -> dict[str, Any]:
    params = {
        "record_type": p.record_type,
        "match_id_type": "PRIMARY_ID",
        "unmatched_record": "ADD",
        "swap_all": "true",
        "input_directory": p.folder,
    }
    return {
        "id": p.id,
        "code": p.code,
        "name": p.name,
        "type": code("USER", "Users"),
        "system": code("OTHER", "Other"),
        "default": False,
        "ftp_connection": code("FLVC SFTP", "FLVC SFTP"),
        "description": f"{p.name} from campus IT (SYNCHRONIZE, swap all)",
        "parameter": [
            {"action": code("SYNCHRONIZE", "Synchronize"), "name": code(k, k), "value": v}
            for k, v in params.items()
        ],
    }


def bursar_profile(number: int) -> dict[str, Any]:
    return {
        "id": str(6100000000000561 + number * 1000 + 9),
        "code": "BURSAR",
        "name": "Bursar export",
        "type": code("BURSAR", "Bursar"),
        "system": code("OTHER", "Other"),
        "default": False,
        "ftp_connection": code("FLVC SFTP", "FLVC SFTP"),
        "description": "Fines to bursar",
    }


def job_records(profiles: tuple[SisProfile, ...]) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = [
        {
            "id": UPDATE_USERS_JOB,
            "name": "Update/Notify Users",
            "description": "Update or notify the users of a set (user group, status, dates...)",
            "type": code("MANUAL", "Manual"),
            "category": code("USERS", "Users"),
            "content": code("USER", "Users"),
        }
    ]
    jobs += [
        {
            "id": p.job_id,
            "name": f"Users SYNCHRONIZE using {p.name}",
            "description": "Student Information System synchronize",
            "type": code("SCHEDULED", "Scheduled"),
            "category": code("SIS", "Student Information System"),
            "related_profile": code(p.id, p.name),
        }
        for p in profiles
    ]
    return jobs


def load_dates(today: date, lookback_days: int, kind: str) -> list[date]:
    """Students load weekly (recent) and a few older runs; staff monthly for a year."""
    if kind == "students":
        recent = [today - timedelta(days=3 + 7 * i) for i in range(12)]
        older = [today - timedelta(days=d) for d in (150, 250, 350, lookback_days + 30)]
        return sorted(recent + older)
    return sorted(today - timedelta(days=10 + 30 * i) for i in range(12))


@dataclass(frozen=True)
class LoadUser:
    record: dict[str, Any]
    group: str


def write_history(
    conn: Any,
    *,
    state_dir: Path,
    slug: str,
    rng: random.Random,
    today: date,
    lookback_days: int,
    profiles: tuple[SisProfile, ...],
    users: list[LoadUser],
    still_loaded: set[str],
    retired: set[str],
    instance_base: int,
) -> list[str]:
    """Write the zipped files, their job instances and events; returns the files' paths."""
    written: list[str] = []
    seq = 0
    for profile in profiles:
        staff = profile.record_type == "STAFF"
        pool = [
            u
            for u in users
            if u.record["account_type"]["value"] == "EXTERNAL"
            and (u.record["record_type"]["value"] == "STAFF") == staff
        ]
        for day in load_dates(today, lookback_days, profile.kind):
            recent = (today - day).days <= lookback_days
            # A retired group shows up in a load only if the SIS still sends it (or long ago).
            chosen = [
                u
                for u in pool
                if u.group not in retired or (u.group in still_loaded and recent) or not recent
            ]
            size = min(len(chosen), MAX_USERS_PER_FILE, max(3, len(chosen) // 10))
            sample = rng.sample(chosen, size) if chosen else []
            taken = {id(u) for u in sample}
            sample += [u for u in chosen if u.group in still_loaded and id(u) not in taken][:25]
            rejected = rng.randint(0, 2) if sample else 0
            name = f"{slug}_{profile.kind}_{day:%Y%m%d}.zip"
            path = sftp_dir(state_dir, slug) / profile.folder / name
            relpath = path.relative_to(state_dir)
            _write_zip(path, day, [u.record for u in sample], rejected, slug)
            written.append(relpath.as_posix())
            seq += 1
            _instance(
                conn,
                slug,
                profile,
                str(instance_base + seq),
                day=day,
                loaded=len(sample),
                rejected=rejected,
                rng=rng,
                relpath=relpath.as_posix(),
            )
    return written


def _rejected_user(slug: str, n: int) -> dict[str, Any]:
    # Shares its barcode with an existing user, the commonest SIS reject.
    return {
        "record_type": code("PUBLIC", "Public"),
        "primary_id": f"{slug.upper()}REJ{n:04d}",
        "first_name": "Pat",
        "last_name": "Duplicate",
        "account_type": code("EXTERNAL", ""),
        "external_id": "SIS_STUDENTS",
        "status": code("ACTIVE", "Active"),
        "user_identifier": [
            {
                "segment_type": "External",
                "id_type": code("BARCODE", "Barcode"),
                "value": f"2{slug[:3].upper()}{n:09d}",
                "status": "ACTIVE",
            }
        ],
    }


def _write_zip(
    path: Path, day: date, records: list[dict[str, Any]], rejected: int, slug: str
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keep = ("link", "loans", "requests", "fees", "user_role", "password", "full_name")
    parts = [element_xml("user", {k: v for k, v in r.items() if k not in keep}) for r in records]
    parts += [element_xml("user", _rejected_user(slug, n + 1)) for n in range(rejected)]
    xml = b'<?xml version="1.0" encoding="UTF-8"?>\n<users>' + b"".join(parts) + b"</users>\n"
    moment = datetime.combine(day, time(4, 0), tzinfo=UTC)
    info = zipfile.ZipInfo(path.with_suffix(".xml").name, date_time=moment.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, xml)
    os.utime(path, (moment.timestamp(), moment.timestamp()))


def _instance(
    conn: Any,
    slug: str,
    profile: SisProfile,
    instance_id: str,
    *,
    day: date,
    loaded: int,
    rejected: int,
    rng: random.Random,
    relpath: str,
) -> None:
    start = datetime.combine(day, time(4, 0), tzinfo=UTC)
    end = start + timedelta(minutes=rng.randint(3, 25))
    created = rng.randint(0, max(loaded // 20, 0))
    updated = rng.randint(0, max(loaded - created, 0) // 4)
    status = "COMPLETED_WARNING" if rejected else "COMPLETED_SUCCESS"
    record = {
        "id": instance_id,
        "external_id": instance_id,
        "name": f"Users SYNCHRONIZE using {profile.name} - {start:%m/%d/%Y %H:%M}",
        "submitted_by": code("System", "System"),
        "submit_time": timestamp(start),
        "start_time": timestamp(start + timedelta(seconds=4)),
        "end_time": timestamp(end),
        "progress": 100,
        "status": code(status, "Completed with warnings" if rejected else "Completed Successfully"),
        "status_date": end.strftime("%Y-%m-%dZ"),
        "alert": [code("alert_general_warning" if rejected else "alert_general_success", "")],
        "counter": sis_counters(
            loaded + rejected, rejected, updated, created, loaded - updated - created
        ),
        "job_info": {
            "id": profile.job_id,
            "name": f"Users SYNCHRONIZE using {profile.name}",
            "type": code("SCHEDULED", "Scheduled"),
            "category": code("SIS", "Student Information System"),
        },
    }
    conn.execute(
        "INSERT INTO job_instances VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
        (
            slug,
            instance_id,
            profile.job_id,
            record["submit_time"],
            status,
            dumps({"file": relpath}),
            dumps(record),
        ),
    )
    for n in range(rejected):
        event = {
            "id": str(n + 1),
            "type": code("USER_REJECTED", "User rejected"),
            "severity": code("ERROR", "Error"),
            "time": record["end_time"],
            "description": f"User {slug.upper()}REJ{n + 1:04d} rejected: identifier "
            "already exists for another user.",
        }
        conn.execute(
            "INSERT INTO job_events VALUES (?, ?, ?, ?)", (slug, instance_id, n, dumps(event))
        )
