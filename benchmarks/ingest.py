"""Benchmark: counting a large SIS patron-load file, against a bare lxml iterparse.

Targets (patron-load issue): `count_file` at >= 0.5x the throughput of a bare lxml iterparse
that only clears elements, and a peak RSS under 150 MB, on a generated ~500 MB file.

Generates realistic user records (shaped like MIT's SIS sample, random groups) into a temp
folder, as plain XML and as a zip, then times each reader in its own child process: the child
times only the read (not interpreter start-up), and peak RSS comes from the parent's
`getrusage(RUSAGE_CHILDREN)` right after our readers ran (before any baseline child could
raise the maximum), so it covers the whole child process. Temp files are deleted at the end.

    .venv/bin/python benchmarks/ingest.py --size-mb 50     # quick try
    .venv/bin/python benchmarks/ingest.py                  # the 500 MB run
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RATIO_TARGET = 0.5
RSS_TARGET_MB = 150.0
FIRST = ["Ana", "Luis", "Maria", "James", "Keisha", "Nguyen", "Olga", "Pat", "Ravi", "Sofia"]
LAST = ["Garcia", "Smith", "Johnson", "Lee", "Brown", "Rodriguez", "Patel", "Kim", "Jones", "Diaz"]
GROUPS = ["01", "02", "03", "04", "05", "06", "10", "15", "27", "32", "69", "99", "GUEST", ""]
WEIGHTS = [30, 20, 10, 8, 6, 5, 5, 1, 4, 4, 1, 1, 3, 2]

USER = """    <user>
        <record_type desc="Public">{record_type}</record_type>
        <primary_id>{pid}@EXAMPLE.EDU</primary_id>
        <first_name>{first}</first_name>
        <middle_name>Middle</middle_name>
        <last_name>{last}</last_name>
        <user_title desc="" />
        <job_category desc="" />
        <job_description />
        <user_group desc="Group {group}">{group}</user_group>
        <campus_code desc="" />
        <web_site_url />
        <cataloger_level desc="[00] Default Level">00</cataloger_level>
        <preferred_language desc="English">en</preferred_language>
        <expiry_date>2027-09-01Z</expiry_date>
        <purge_date>2029-09-01Z</purge_date>
        <account_type desc="External">EXTERNAL</account_type>
        <external_id>SIS</external_id>
        <password />
        <force_password_change />
        <status desc="Active">ACTIVE</status>
        <status_date />
        <contact_info>
            <addresses>
                <address preferred="true" segment_type="External">
                    <line1>{n} Main St</line1>
                    <line3>Apt {apt}</line3>
                    <city>Tallahassee</city>
                    <state_province>FL</state_province>
                    <postal_code>32306</postal_code>
                    <country desc="" />
                    <address_note>User Address Type: Mailing address</address_note>
                    <address_types>
                        <address_type desc="Home">home</address_type>
                    </address_types>
                </address>
            </addresses>
            <emails>
                <email preferred="true" segment_type="External">
                    <email_address>{pid}@example.edu</email_address>
                    <email_types>
                        <email_type desc="School">school</email_type>
                    </email_types>
                </email>
            </emails>
            <phones>
                <phone preferred="true" preferred_sms="false" segment_type="External">
                    <phone_number>850-555-{apt:04d}</phone_number>
                    <phone_types>
                        <phone_type desc="Mobile">mobile</phone_type>
                    </phone_types>
                </phone>
            </phones>
        </contact_info>
        <user_identifiers>
            <user_identifier segment_type="External">
                <id_type desc="Barcode">01</id_type>
                <value>2{n:013d}</value>
                <status>ACTIVE</status>
            </user_identifier>
        </user_identifiers>
        <user_statistics>
            <user_statistic segment_type="External">
                <statistic_category desc="">SN</statistic_category>
                <category_type desc="Department">DEPT</category_type>
            </user_statistic>
        </user_statistics>
        <proxy_for_users />
    </user>
"""


def generate(path: Path, size_mb: int, seed: int = 20250301) -> dict[str, int]:
    """Write `<users>` records until the file reaches `size_mb`; returns the true counts."""
    rng = random.Random(seed)  # noqa: S311 - test data, reproducible on purpose
    target = size_mb * 1_000_000
    counts: dict[str, int] = {}
    written = 0
    n = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<users>\n')
        while written < target:
            batch = []
            for group in rng.choices(GROUPS, WEIGHTS, k=1000):
                n += 1
                counts[group] = counts.get(group, 0) + 1
                record_type = "STAFF" if group == "27" else "PUBLIC"
                batch.append(
                    USER.format(
                        record_type=record_type,
                        pid=f"U{rng.getrandbits(40):012x}",
                        n=rng.getrandbits(40),
                        group=group,
                        apt=rng.randrange(10_000),
                        first=rng.choice(FIRST),
                        last=rng.choice(LAST),
                    )
                )
            text = "".join(batch)
            out.write(text)
            written += len(text)
        out.write("</users>\n")
    return counts


OURS = """
import json, resource, sys, time
from pathlib import Path
from reconciler.patron_loads import count_file
started = time.perf_counter()
result = count_file(Path(sys.argv[1]))
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "users": result.users,
                  "groups": dict(result.users_by_group),
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

BARE = """
import json, resource, sys, time, zipfile
from lxml import etree
def run(source):
    users = 0
    for _, element in etree.iterparse(source, events=("end",), tag="user"):
        users += 1
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
    return users
started = time.perf_counter()
if sys.argv[1].endswith(".zip"):
    with zipfile.ZipFile(sys.argv[1]) as archive, archive.open(archive.namelist()[0]) as member:
        users = run(member)
else:
    users = run(sys.argv[1])
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "users": users, "groups": None,
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def in_child(script: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def warm_page_cache(path: Path) -> None:
    """Read the file once so the first reader is not penalised; in small chunks, because a
    forked child inherits this process's peak RSS (Linux keeps ru_maxrss across exec)."""
    with path.open("rb") as source:
        while source.read(1 << 20):
            pass


def children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: kB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=500, help="size of the XML (default 500)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as folder:
        xml_path = Path(folder) / "patrons_20250301.xml"
        started = time.perf_counter()
        expected = generate(xml_path, args.size_mb)
        zip_path = Path(folder) / "patrons_20250301.xml.zip"
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(xml_path, xml_path.name)
        xml_mb = xml_path.stat().st_size / 1_000_000
        print(
            f"generated {xml_mb:.0f} MB XML ({sum(expected.values())} users), "
            f"{zip_path.stat().st_size / 1_000_000:.1f} MB zip in "
            f"{time.perf_counter() - started:.1f} s"
        )
        warm_page_cache(xml_path)

        ours_xml = in_child(OURS, xml_path)
        ours_zip = in_child(OURS, zip_path)
        ours_peak_mb = children_peak_mb()  # only our readers have run as children so far
        bare_xml = in_child(BARE, xml_path)
        bare_zip = in_child(BARE, zip_path)

    for result in (ours_xml, ours_zip):
        if result["groups"] != dict(sorted(expected.items())):
            print("count_file miscounted the generated file", file=sys.stderr)
            return 1

    failed = False
    print(
        f"\n{'input':<6} {'count_file':>12} {'bare lxml':>12} {'ratio':>7}"
        f" {'RSS ours':>10} {'RSS bare':>10}"
    )
    for label, ours, bare in (("xml", ours_xml, bare_xml), ("zip", ours_zip, bare_zip)):
        ours_rate = xml_mb / ours["seconds"]
        bare_rate = xml_mb / bare["seconds"]
        ratio = ours_rate / bare_rate
        failed |= ratio < RATIO_TARGET
        rates = f"{ours_rate:>7.1f} MB/s {bare_rate:>7.1f} MB/s"
        rss = f"{ours['rss_kb'] / 1024:>7.1f} MB {bare['rss_kb'] / 1024:>7.1f} MB"
        print(f"{label:<6} {rates} {ratio:>6.2f}x {rss}")
    rss_ok = ours_peak_mb < RSS_TARGET_MB
    failed |= not rss_ok
    print(
        f"\nthroughput ratio target >= {RATIO_TARGET}x; MB/s are of uncompressed XML "
        f"({xml_mb:.0f} MB)\npeak RSS of count_file (RUSAGE_CHILDREN): {ours_peak_mb:.1f} MB, "
        f"target < {RSS_TARGET_MB:.0f} MB: {'met' if rss_ok else 'MISSED'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
