"""Check a parsed document against its JSON Schema and word every error for a person.

jsonschema's own messages are written for programmers ("Additional properties are not
allowed ('move_user_to' was unexpected)"). Library staff edit these files, so each error is
rewritten to name the key, quote what they wrote and say what to do, and is placed on the line
of the offending key rather than on its parent mapping.
"""

from __future__ import annotations

import datetime
import difflib
import json
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from reconciler.desired.yaml_source import Document, Path_, format_path
from reconciler.model import Problem

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"

_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of keys to values",
    "null": "nothing",
}


@cache
def validator_for(schema_name: str) -> jsonschema.Draft202012Validator:
    """The compiled validator of `schemas/<schema_name>`; built once per process."""
    schema = json.loads((SCHEMA_DIR / schema_name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def suggest(word: str, choices: Sequence[str]) -> str:
    """A `; did you mean 'x'?` hint when `word` is a likely typo of one of `choices`."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close and word.lower() in {choice.lower() for choice in choices}:
        close = [next(choice for choice in choices if choice.lower() == word.lower())]
    return f"; did you mean {close[0]!r}?" if close else ""


def check_schema(document: Document, schema_name: str) -> list[Problem]:
    """Every schema problem in `document`, worded for people and placed on the right line."""
    validator = validator_for(schema_name)
    problems: list[Problem] = []
    for error in validator.iter_errors(document.content):
        problems.extend(_explain(document, error))
    return problems


def _explain(  # noqa: PLR0912 - one case per JSON Schema keyword reads best as one match
    document: Document, error: jsonschema.ValidationError
) -> Iterator[Problem]:
    path: Path_ = tuple(error.absolute_path)
    where = document.source_map
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    instance: Any = error.instance
    expected: Any = error.validator_value

    def at(path_: Path_, message: str, *, on_key: bool = False) -> Problem:
        line, column = where.key_position(path_) if on_key else where.value_position(path_)
        return Problem(document.file, line, column, format_path(path_), message)

    match error.validator:
        case "additionalProperties":
            allowed = sorted(schema.get("properties", {}))
            for key in sorted(set(instance) - set(allowed)):
                hint = suggest(key, allowed) or f"; allowed keys: {', '.join(allowed)}"
                yield at((*path, key), f"unknown key{hint}", on_key=True)
        case "required":
            missing = [key for key in expected if key not in instance]
            for key in missing:
                yield at(path, f"missing required key {key!r}")
        case "type":
            yield at(path, _type_message(document, path, error.instance, error.validator_value))
        case "enum":
            options = [str(option) for option in expected]
            hint = suggest(str(error.instance), options)
            if not hint and schema.get("description"):  # no close option: say what the key is
                hint = f"; {str(schema['description']).rstrip('.')}"
            yield at(path, f"{error.instance!r} is not one of {', '.join(options)}{hint}")
        case "pattern" if instance == "" and schema.get("minLength", 0) >= 1:
            pass  # minLength already says "is empty"; a second line would repeat it
        case "pattern":
            wording = schema.get("x-pattern-message", f"does not match {error.validator_value}")
            # a key pasted where its variable's name belongs must not reach a CI log
            shown = "the value (not shown: it may be a secret)" if schema.get("x-secret") else None
            yield at(path, f"{shown or repr(error.instance)} {wording}")
        case "minLength" if error.validator_value == 1:
            yield at(path, "is empty; write a value")
        case "minLength":
            yield at(path, f"is too short: write at least {error.validator_value} characters")
        case "maxLength":
            yield at(path, f"is too long: at most {error.validator_value} characters")
        case "minItems":
            yield at(path, f"needs at least {error.validator_value} entry")
        case "uniqueItems":
            seen: list[Any] = []
            for index, item in enumerate(instance):
                if item in seen:  # point at the repeat itself, not at the whole list
                    yield at((*path, index), f"{item!r} is listed twice; keep one")
                seen.append(item)
        case "minimum" | "exclusiveMinimum" | "maximum":
            yield at(path, f"{error.instance!r} is out of range: {_bound(error)}")
        case _:  # pragma: no cover - every keyword our schemas use is worded above
            yield at(path, error.message)


def _bound(error: jsonschema.ValidationError) -> str:
    words = {
        "minimum": "at least",
        "exclusiveMinimum": "more than",
        "maximum": "at most",
    }
    return f"must be {words[str(error.validator)]} {error.validator_value}"


def _type_message(document: Document, path: Path_, value: Any, expected: Any) -> str:
    wanted = _TYPE_WORDS.get(str(expected), str(expected))
    source = document.source_map.scalars.get(path)
    if expected == "string" and source is not None and not source.quoted:
        # YAML 1.1 reads 01 as a number, no as false and 2024-01-01 as a date: the single
        # most common mistake in these files, so say exactly what happened and the fix.
        text = source.text
        if value is None:
            return "is empty; write a value"
        if isinstance(value, bool):
            return f'{text} was read as a boolean ({str(value).lower()}); quote it: "{text}"'
        if isinstance(value, datetime.date):
            return f'{text} was read as a date; quote it: "{text}"'
        if isinstance(value, int | float):
            return f'{text} was read as a number ({value}); quote it: "{text}"'
    if path == () and not isinstance(value, dict | list):
        # the whole file is one value: it may not be YAML written for us at all (a link to
        # another file, a secret pasted by mistake), so its text is never quoted back
        return f"expected {wanted}, got a single value instead (is this the right file?)"
    return f"expected {wanted}, got {_describe(value)}"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true or false)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {value!r}"
    return f"{value!r}"
