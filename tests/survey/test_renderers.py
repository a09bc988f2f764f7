"""Every survey format: its structure, that it parses back, and that it escapes what it must."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from pathlib import Path

import jsonschema

from reconciler.render import survey_csv, survey_html, survey_json, survey_markdown, survey_text
from reconciler.survey.report import Survey

from .builders import demo_survey

REPO = Path(__file__).resolve().parents[2]
HOSTILE = '<script>alert("x")</script> | =cmd'


def hostile_survey() -> Survey:
    """The demo survey with a description that is HTML, a Markdown pipe and a formula at once."""
    survey = demo_survey()
    institution = survey.institutions[0]
    first = institution.rows[0]
    rows = (dataclasses.replace(first, description=HOSTILE), *institution.rows[1:])
    changed = dataclasses.replace(institution, rows=rows)
    return Survey((changed,), survey.today, (("gone", "ALMA_API_KEY_GONE is not set"),))


def test_table_starts_with_the_overview_then_a_block_per_institution() -> None:
    """The overview first, then aligned columns under a heading, tiers and reasons, a summary."""
    text = survey_text.render_survey(demo_survey())
    lines = text.splitlines()
    assert lines[0].startswith("Consortium overview: 1 institution, 6 groups, 114 users, ")
    heading = "INSTITUTION GROUPS USERS STRONG WEAK RETIRED PENDING"
    assert lines[1].split() == heading.split()
    assert lines[2].split() == ["demo", "6", "114", "2", "2", "0", "1"]
    matrix = lines.index(next(line for line in lines if line.startswith("FLVC's")))
    assert lines[matrix + 2].split()[:4] == ["demo", "retired", "in", "YAML"]
    start = lines.index("demo: Demo State College")
    assert start > matrix
    header = lines[start + 1]
    assert header.split()[:3] == ["CODE", "DESCRIPTION", "STATUS"]
    row_01 = next(line for line in lines if line.startswith("  01 "))
    assert row_01.index("100") + 3 == header.index("USERS") + len("USERS")  # right-aligned
    assert "* strong: empty" in text
    assert "* weak: absent from every patron load in the last 400 days" in text
    assert "referenced by: Branch: Guest loans; Main: Guest loans" in text
    assert lines[-1] == (
        "Survey: 1 institution, 6 groups, 114 users, 2 strong candidates for retirement "
        "(2 weak), 9 API calls."
    )


def test_markdown_has_a_table_per_institution_and_escapes() -> None:
    """One heading and table per institution; pipes and angle brackets cannot break out."""
    text = survey_markdown.render_survey(hostile_survey())
    assert text.startswith("# User-group survey, 2026-11-29")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Consortium overview", "## `demo` Demo State College"]
    assert "| demo | 6 | 114 | 2 | 2 | 0 | 1 |" in text
    assert "| demo | retired in YAML | — | — | — | — | — |" in text
    assert "**strong**: empty" in text
    assert text.count("| code | description |") == 1
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert "\\|" in text
    assert "could not read `gone`" in text
    table = [line for line in text.splitlines() if line.startswith("| `")]
    assert sum(1 for line in table if "**weak**" in line) == 2
    assert len(table) == 6
    assert all(line.count(" | ") == 9 for line in table)


def test_csv_parses_back_overview_lines_then_one_row_per_group() -> None:
    """A header, the overview line per institution, then one RFC 4180 row per group."""
    text = survey_csv.render_survey(hostile_survey())
    assert "\r\n" in text
    records = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(records[0]) == list(survey_csv.COLUMNS)
    assert [r["row"] for r in records] == ["institution"] + ["group"] * 6
    first = records[0]
    assert (first["institution"], first["users"], first["groups"]) == ("demo", "114", "6")
    assert (first["strong_candidates"], first["weak_candidates"]) == ("2", "2")
    assert (first["retired_done"], first["retired_pending"]) == ("0", "1")
    assert first["flvc_15_autologin"] == "retired in YAML"
    assert first["flvc_reserves"] == "absent"
    by_code = {r["code"]: r for r in records[1:]}
    assert by_code["01"]["description"] == HOSTILE  # starts with "<": nothing to neutralise
    assert by_code["01"]["users"] == "100"
    assert by_code["01"]["external_share"] == "0.750"
    assert by_code["01"]["last_seen"] == "2026-11-20"
    assert by_code["EMPTY"]["candidate"] == "yes"
    assert by_code["EMPTY"]["reasons"] == "empty"
    assert by_code["EMPTY"]["tier"] == "strong"
    assert by_code["GUEST"]["tier"] == "weak"
    assert (by_code["15"]["candidate"], by_code["15"]["tier"]) == ("no", "")
    assert by_code["GUEST"]["references"] == "Branch: Guest loans; Main: Guest loans"
    assert by_code["ODD"]["status"] == "unmanaged"


def test_csv_neutralises_formulas() -> None:
    """A description starting with = is written with a leading quote, so it is never run."""
    survey = demo_survey()
    institution = survey.institutions[0]
    first = institution.rows[0]
    rows = (dataclasses.replace(first, description="=HYPERLINK()"),)
    changed = dataclasses.replace(institution, rows=rows)
    text = survey_csv.render_survey(Survey((changed,), survey.today))
    group = next(r for r in csv.DictReader(io.StringIO(text)) if r["row"] == "group")
    assert group["description"] == "'=HYPERLINK()"


def test_json_validates_against_the_schema() -> None:
    """The document matches schemas/survey.schema.json, and every property is described."""
    schema = json.loads((REPO / "schemas" / "survey.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    document = json.loads(survey_json.render_survey(hostile_survey()))
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["format_version"] == survey_json.SURVEY_FORMAT_VERSION
    assert list(document)[:4] == ["format_version", "date", "summary", "overview"]
    summary = document["summary"]
    assert (summary["strong_candidates"], summary["weak_candidates"]) == (2, 2)
    assert (summary["retired_done"], summary["retired_pending"]) == (0, 1)
    [line] = document["overview"]
    assert line["flvc_list"][0] == {"entry": "15 Autologin", "state": "retired", "users": 2}
    assert line["flvc_list"][1] == {"entry": "Sublibrary", "state": "absent", "users": 0}
    groups = {g["code"]: g for g in document["institutions"][0]["groups"]}
    assert groups["ASLEEP"]["tier"] == "strong"
    assert groups["ASLEEP"]["reasons"][1]["tier"] == "weak"
    assert groups["15"]["flvc_list"] == "15 Autologin"
    assert groups["01"]["description"] == HOSTILE
    assert groups["GUEST"]["last_seen"] == "2020-01-06"

    def undescribed(node: object, path: str) -> list[str]:
        found = []
        if isinstance(node, dict):
            for name, child in node.get("properties", {}).items():
                if "description" not in child:
                    found.append(f"{path}.{name}")
            for key, child in node.items():
                found += undescribed(child, f"{path}.{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                found += undescribed(child, f"{path}[{index}]")
        return found

    assert undescribed(schema, "$") == []


def test_html_is_one_self_contained_escaped_file() -> None:
    """No URLs or scripts; one chart per institution with a title; the hostile text escaped."""
    survey = demo_survey()
    two = Survey(
        (
            *survey.institutions,
            dataclasses.replace(survey.institutions[0], slug="other", name="Other College"),
        ),
        survey.today,
    )
    page = survey_html.render_survey(two)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://", page)
    assert "<script" not in page
    assert "<link" not in page
    assert "@import" not in page
    assert "src=" not in page
    assert "url(" not in page
    assert page.count("<svg") == 3  # the overview chart, then one per institution
    assert page.index('id="overview"') < page.index('id="demo"') < page.index('id="other"')
    assert page.count("<table") == 4  # two for the overview, one per institution
    assert 'aria-label="01 · Undergraduate: 100 users, 90 active, kept"' in page
    for status in ("kept", "retired", "unmanaged"):
        assert f'class="bar-{status}"' in page
        assert f'class="swatch {status}"' in page  # the legend names each colour
    assert "◆ strong: empty" in page
    assert "◇ weak: not in recent loads" in page
    assert "2 · retired" in page  # the status in words beside the bar, not colour alone
    assert '<desc id="overview-desc">' in page
    assert "@media print" in page
    headers = re.findall(r"<th\b[^>]*>", page)
    assert len(headers) > 20
    assert all("scope=" in header for header in headers)

    hostile = survey_html.render_survey(hostile_survey())
    assert "<script>" not in hostile
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in hostile
    assert "could not read <strong>gone</strong>" in hostile


def test_every_format_names_every_group() -> None:
    """Each format carries each group's code: none is dropped on the way."""
    survey = demo_survey()
    codes = [row.code for row in survey.institutions[0].rows]
    for render in (
        survey_text.render_survey,
        survey_markdown.render_survey,
        survey_csv.render_survey,
        survey_json.render_survey,
        survey_html.render_survey,
    ):
        text = render(survey)
        assert all(code in text for code in codes), render.__module__


def test_empty_survey_renders() -> None:
    """No institution at all (every one failed) still renders in every format."""
    survey = Survey((), demo_survey().today, (("demo", "down"),))
    assert "0 institutions" in survey_text.render_survey(survey)
    assert survey_csv.render_survey(survey).count("\r\n") == 1
    assert json.loads(survey_json.render_survey(survey))["unread"][0]["slug"] == "demo"
    page = survey_html.render_survey(survey)
    assert "<svg" not in page
    assert "Consortium overview" in page
