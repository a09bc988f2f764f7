"""update-users-job.json: the institution's "Update/Notify Users" job template, read and checked.

The file is the JSON payload that Alma's Run-a-Job wizard shows on its API-information step
(`{"parameter": [{"name": {"value": ...}, "value": ...}, ...]}`), pasted as it is, with the
job's `id` (from the wizard's URL) and `name` optionally added. Alma refuses a run that lacks
any parameter the wizard shows (402228), and nobody outside Ex Libris knows that list for every
release, so the tool never invents parameters: it sends the wizard's list and fills in only
`set_id`, `job_name` and the user-group switch and value.

Design decisions:
- Strict JSON first (the wizard gives JSON; a YAML-only construct would be a paste accident),
  then the same position-keeping reader as the YAML files (JSON is YAML's flow style), so every
  problem names file, line and key like the rest of validation. Tabs are turned into spaces for
  that second read: valid JSON has tabs only between tokens, and PyYAML refuses some of them.
- The template must look like this job (set_id and the user-group parameters are present), and
  every other `*_Active` switch must be "false": one left "true" from the wizard (status,
  expiry, notification, ...) would change or e-mail every moved user, and a bulk move must
  change the group and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reconciler.desired.yaml_source import (
    MAX_DOCUMENT_BYTES,
    Document,
    Path_,
    format_path,
    parse_document,
)
from reconciler.model import (
    FILLED_BY_TOOL,
    GROUP_SWITCH_PARAMETER,
    GROUP_VALUE_PARAMETER,
    SET_ID_PARAMETER,
    UPDATE_USERS_JOB_NAME,
    JobParameter,
    Problem,
    SourceLocation,
    UpdateUsersJobTemplate,
)

JOB_TEMPLATE_FILE = "update-users-job.json"
JOB_TEMPLATE_SCHEMA = "update-users-job.schema.json"
_REQUIRED = (SET_ID_PARAMETER, GROUP_SWITCH_PARAMETER, GROUP_VALUE_PARAMETER)
_SWITCH_SUFFIX = "_Active"


def read_job_template(path: Path, display: str) -> Document | list[Problem]:
    """Parse the template as strict JSON, keeping positions; or every problem reading it."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            return [
                Problem(
                    display,
                    1,
                    1,
                    "",
                    f"file is {size:,} bytes; the limit is {MAX_DOCUMENT_BYTES:,}",
                )
            ]
        raw = path.read_bytes()
    except OSError as error:
        return [Problem(display, 0, 0, "", f"cannot read file: {error.strerror}")]
    return parse_job_template(raw, display)


def parse_job_template(raw: bytes, display: str) -> Document | list[Problem]:
    """Parse bytes already read (tests and the fuzzer need no file)."""
    if not raw.strip():
        return [Problem(display, 1, 1, "", "file is empty; paste the Run-a-Job wizard's payload")]
    try:
        json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return [Problem(display, 1, 1, "", "file is not UTF-8 text; save it as UTF-8")]
    except json.JSONDecodeError as error:
        return [
            Problem(
                display,
                error.lineno,
                error.colno,
                "",
                f"not valid JSON: {error.msg}; paste the payload exactly as the Run-a-Job "
                "wizard shows it",
            )
        ]
    return parse_document(raw.replace(b"\t", b" "), display)


def check_job_template(document: Document) -> list[Problem]:
    """Duplicate parameters, a payload of another job, switches that change more than the group."""
    return [*_duplicates(document), *_missing(document), *_other_switches(document)]


def _parameters(document: Document) -> Iterator[tuple[int, str, Any]]:
    """(index, name, value) of each well-formed entry; the schema check reports the rest."""
    content = document.content if isinstance(document.content, dict) else {}
    items = content.get("parameter")
    for index, item in enumerate(items if isinstance(items, list) else ()):
        name = item.get("name") if isinstance(item, dict) else None
        name = name.get("value") if isinstance(name, dict) else name  # a plain string: schema
        if isinstance(name, str):
            yield index, name, item.get("value")


def _problem(document: Document, path: Path_, message: str) -> Problem:
    line, column = document.source_map.value_position(path)
    return Problem(document.file, line, column, format_path(path), message)


def _duplicates(document: Document) -> Iterator[Problem]:
    first_line: dict[str, int] = {}
    for index, name, _ in _parameters(document):
        path: Path_ = ("parameter", index, "name", "value")
        line = document.source_map.value_position(path)[0]
        if name in first_line:
            yield _problem(
                document, path, f"{name!r} is listed twice (also on line {first_line[name]})"
            )
        else:
            first_line[name] = line


def _missing(document: Document) -> Iterator[Problem]:
    content = document.content if isinstance(document.content, dict) else {}
    if not isinstance(content.get("parameter"), list):
        return  # the schema check says what is wrong with it
    names = {name for _, name, _ in _parameters(document)}
    for name in _REQUIRED:
        if name not in names:
            yield _problem(
                document,
                ("parameter",),
                f'no {name!r} parameter: this is not the payload of "Update/Notify Users"; '
                "copy it from the Run-a-Job wizard's API-information step for that job",
            )


def _other_switches(document: Document) -> Iterator[Problem]:
    for index, name, value in _parameters(document):
        if (
            name.endswith(_SWITCH_SUFFIX)
            and name not in FILLED_BY_TOOL
            and isinstance(value, str)
            and value.strip().lower() == "true"
        ):
            yield _problem(
                document,
                ("parameter", index, "value"),
                f'{name} is "true": the job would change more than the user group of every '
                'moved user (or notify them); set it to "false"',
            )


def build_job_template(document: Document) -> UpdateUsersJobTemplate:
    """The model of a template that passed every check."""
    content: dict[str, Any] = document.content

    def location(path: Path_) -> SourceLocation:
        line, column = document.source_map.value_position(path)
        return SourceLocation(document.file, line, column)

    parameters = tuple(
        JobParameter(
            name=name,
            value=str(value),
            filled_by_tool=name in FILLED_BY_TOOL,
            location=location(("parameter", index)),
        )
        for index, name, value in _parameters(document)
    )
    return UpdateUsersJobTemplate(
        job_name=content.get("name", UPDATE_USERS_JOB_NAME),
        parameters=parameters,
        job_id=content.get("id"),
        location=location(()),
    )
