"""Fake patrons: full Alma user records generated from a seeded `random.Random`.

Names come from short lists of common names, emails use the reserved `example.edu` domain and
phone numbers the fictional 555-01xx range, so nothing here is anyone's data. The shapes
follow the Alma samples: code fields as {value, desc}, flattened lists, External/Internal
segments, dates with the `Z` suffix.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from reconciler.sandbox.context import code
from reconciler.sandbox.records import blank_user

FIRST = (
    "Ana",
    "Ben",
    "Carla",
    "Dev",
    "Elena",
    "Farah",
    "Gabe",
    "Hana",
    "Ivan",
    "Jada",
    "Kai",
    "Lena",
    "Marco",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Victor",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aiden",
    "Bianca",
    "Caleb",
    "Dalia",
    "Ethan",
    "Fiona",
    "Grace",
    "Hector",
    "Isla",
    "Jonah",
    "Keisha",
    "Liam",
    "Maya",
    "Noah",
    "Olivia",
    "Pedro",
    "Rania",
    "Sofia",
    "Tyler",
    "Valeria",
    "Wyatt",
    "Yara",
    "Zane",
)
LAST = (
    "Adams",
    "Baker",
    "Castillo",
    "Diaz",
    "Edwards",
    "Flores",
    "Garcia",
    "Harris",
    "Ibarra",
    "Johnson",
    "Kim",
    "Lopez",
    "Martin",
    "Nguyen",
    "Ortiz",
    "Patel",
    "Quintero",
    "Rivera",
    "Smith",
    "Torres",
    "Underwood",
    "Vargas",
    "Walker",
    "Xu",
    "Young",
    "Zhang",
    "Alvarez",
    "Brooks",
    "Chen",
    "Davis",
    "Evans",
    "Fischer",
    "Gomez",
    "Hernandez",
    "Jackson",
    "Khan",
    "Lee",
    "Morales",
    "Nelson",
    "Owens",
    "Perez",
    "Reyes",
    "Sanchez",
    "Thompson",
    "Vasquez",
    "White",
    "Williams",
    "Wilson",
)
CITIES = (
    "Tallahassee",
    "Gainesville",
    "Orlando",
    "Tampa",
    "Miami",
    "Jacksonville",
    "Pensacola",
    "Sarasota",
    "Ocala",
    "Daytona",
    "Lakeland",
    "Naples",
)
STAFF_ROLES = (
    ("32", "Circulation Desk Operator"),
    ("204", "Cataloger"),
    ("51", "Requests Operator"),
    ("21", "User Manager"),
)


@dataclass(frozen=True)
class Profile:
    """How a group's members look: who feeds them and how alive they are."""

    external: float  # share of EXTERNAL (SIS-loaded) accounts
    inactive: float  # share with status INACTIVE
    expired: float  # share whose expiry date has passed
    staff: bool = False  # STAFF record type with staff roles
    loans: float = 0.07  # share with loans (also drives requests and fees)


def _date(day: date) -> str:
    return day.strftime("%Y-%m-%dZ")


def make_user(
    rng: random.Random,
    *,
    inst: str,
    alma_code: str,
    number: int,
    group: str,
    group_desc: str,
    profile: Profile,
    today: date,
) -> tuple[dict[str, Any], int, int, float]:
    """One user record plus its loans, requests and fees."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    external = rng.random() < profile.external
    primary_id = f"{inst[:3].upper()}{number:07d}"
    expired = rng.random() < profile.expired
    expiry = today + timedelta(days=-rng.randint(5, 900) if expired else rng.randint(30, 1400))
    active = rng.random() >= profile.inactive
    segment = "External" if external else "Internal"
    record = blank_user()
    record.update(
        record_type=code("STAFF", "Staff") if profile.staff else code("PUBLIC", "Public"),
        primary_id=primary_id,
        first_name=first,
        middle_name=rng.choice(("", "", "J", "M", "A")),
        last_name=last,
        full_name=f"{first} {last}",
        user_group=code(group, group_desc),
        expiry_date=_date(expiry),
        purge_date=_date(expiry + timedelta(days=365)),
        account_type=code("EXTERNAL", "External") if external else code("INTERNAL", "Internal"),
        external_id=("SIS_STAFF" if profile.staff else "SIS_STUDENTS") if external else "",
        status=code("ACTIVE", "Active") if active else code("INACTIVE", "Inactive"),
        status_date=_date(today - timedelta(days=rng.randint(1, 700))),
        gender=code("", ""),
    )
    record["contact_info"] = {
        "address": [
            {
                "preferred": True,
                "segment_type": segment,
                "line1": f"{rng.randint(1, 9999)} {rng.choice(LAST)} St",
                "city": rng.choice(CITIES),
                "state_province": "FL",
                "postal_code": f"3{rng.randint(2000, 4999)}",
                "country": code("USA", "United States"),
                "address_type": [code("home", "Home")],
            }
        ],
        "email": [
            {
                "preferred": True,
                "segment_type": segment,
                "email_address": f"{first}.{last}{number}@{inst}.example.edu".lower(),
                "email_type": [code("school", "School")],
            }
        ],
        "phone": [
            {
                "preferred": True,
                "segment_type": segment,
                "phone_number": f"(850) 555-01{rng.randint(0, 99):02d}",
                "phone_type": [code("mobile", "Mobile")],
            }
        ],
    }
    record["user_identifier"] = [
        {
            "segment_type": segment,
            "id_type": code("BARCODE", "Barcode"),
            "value": f"2{inst[:3].upper()}{number:09d}",
            "status": "ACTIVE",
        }
    ]
    if external:
        record["user_identifier"].append(
            {
                "segment_type": segment,
                "id_type": code("UNIV_ID", "University ID"),
                "value": f"U{number:08d}{inst[:2].upper()}",
                "status": "ACTIVE",
            }
        )
    roles = [
        {
            "status": code("ACTIVE", "Active"),
            "scope": code(alma_code, alma_code),
            "role_type": code("200", "Patron"),
            "parameter": [],
        }
    ]
    if profile.staff:
        roles += [
            {
                "status": code("ACTIVE", "Active"),
                "scope": code(alma_code, alma_code),
                "role_type": code(r, d),
                "parameter": [],
            }
            for r, d in rng.sample(STAFF_ROLES, rng.randint(1, 2))
        ]
    record["user_role"] = roles
    if not profile.staff and rng.random() < 0.3:
        record["user_statistic"] = [
            {
                "segment_type": segment,
                "statistic_category": code(rng.choice(("FT", "PT")), ""),
                "category_type": code("ENROLL", "Enrollment"),
            }
        ]
    loans = rng.randint(1, 8) if rng.random() < profile.loans else 0
    requests = rng.randint(1, 3) if rng.random() < profile.loans / 3 else 0
    fees = round(rng.uniform(0.5, 75), 2) if rng.random() < profile.loans / 2 else 0.0
    return record, loans, requests, fees
