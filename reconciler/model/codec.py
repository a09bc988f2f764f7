"""The model's frozen dataclasses to and from JSON-ready data, driven by fields and type hints.

One generic codec instead of field-by-field code written once to save and once to load: a
field added to a dataclass is saved and loaded without touching this module, and save and
load cannot drift apart.

Design decisions:
- Loading is strict, because what it reads was written by `to_data` and then checksummed: a
  missing or unknown key, or a value of the wrong type, is a `DecodeError` naming its path
  (`institutions[0].changes[3].users`), never a half-built object.
- A union of dataclasses is told apart by a tag: a class-level `action` (see
  `reconciler.model.changes`) is written as the "action" key and picks the class on load.
- `SourceLocation` is written as "file:line:column", and `NOWHERE` as null, as people read it.
- Supported types are those the model uses: dataclasses, str, int, bool, None, enums,
  `tuple[X, ...]`, fixed-length tuples and unions. Anything else is a programming error.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from enum import Enum
from functools import cache
from typing import Any, TypeVar, cast

from reconciler.model.desired import NOWHERE, SourceLocation

TAG = "action"
T = TypeVar("T")


class DecodeError(ValueError):
    """Data that does not fit the dataclass it should become; names the path of the value."""


def to_data(value: object) -> Any:
    """`value` as dicts, lists, str, int, bool and None, ready for json.dumps."""
    if isinstance(value, SourceLocation):
        return None if value == NOWHERE else str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if _tag_of(type(value)) is not None:
            data[TAG] = _tag_of(type(value))
        return data
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_data(item) for item in value]
    if value is None or isinstance(value, str | int):
        return value
    raise TypeError(f"cannot encode {type(value).__name__}")


def from_data(kind: type[T], data: object) -> T:
    """Rebuild a `kind` (a dataclass) from what `to_data` made of one."""
    return cast(T, _decode(kind, data, "$"))


def _decode(hint: Any, data: object, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _decode_union(typing.get_args(hint), data, path)
    if origin is tuple:
        return _decode_tuple(typing.get_args(hint), data, path)
    if hint is SourceLocation:
        return _decode_location(data, path)
    if dataclasses.is_dataclass(hint):
        return _decode_dataclass(cast(type, hint), data, path)
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(data)
        except ValueError:
            raise DecodeError(f"{path}: {data!r} is not a {hint.__name__}") from None
    if hint is type(None):
        return _expect(data, type(None), path)
    if hint in (str, int, bool):
        return _expect(data, hint, path)
    raise TypeError(f"{path}: cannot decode {hint!r}")


def _expect(data: object, kind: type, path: str) -> object:
    # bool is an int to Python, never to a reader of the file
    if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
        raise DecodeError(f"{path}: expected {kind.__name__}, found {type(data).__name__}")
    return data


def _decode_union(options: tuple[Any, ...], data: object, path: str) -> object:
    if data is None and type(None) in options:
        return None
    rest = [option for option in options if option is not type(None)]
    if len(rest) == 1:
        return _decode(rest[0], data, path)
    tags = {_tag_of(option): option for option in rest}
    if None not in tags:  # a union of tagged dataclasses: the tag picks the class
        if not isinstance(data, dict) or data.get(TAG) not in tags:
            found = data.get(TAG) if isinstance(data, dict) else type(data).__name__
            raise DecodeError(
                f"{path}: {TAG} {found!r} is not one of {', '.join(sorted(map(str, tags)))}"
            )
        return _decode_dataclass(tags[data[TAG]], data, path)
    for option in rest:  # plain values (str | bool): the first type that fits
        try:
            return _decode(option, data, path)
        except DecodeError:
            continue
    names = " or ".join(getattr(option, "__name__", str(option)) for option in options)
    raise DecodeError(f"{path}: expected {names}, found {type(data).__name__}")


def _decode_tuple(items: tuple[Any, ...], data: object, path: str) -> tuple[object, ...]:
    if not isinstance(data, list):
        raise DecodeError(f"{path}: expected a list, found {type(data).__name__}")
    if len(items) == 2 and items[1] is Ellipsis:
        return tuple(_decode(items[0], item, f"{path}[{i}]") for i, item in enumerate(data))
    if len(items) != len(data):
        raise DecodeError(f"{path}: expected {len(items)} items, found {len(data)}")
    return tuple(
        _decode(hint, item, f"{path}[{i}]")
        for i, (hint, item) in enumerate(zip(items, data, strict=True))
    )


def _decode_location(data: object, path: str) -> SourceLocation:
    if data is None:
        return NOWHERE
    text = str(_expect(data, str, path))
    found = re.fullmatch(r"(.+):(\d+):(\d+)", text)
    if found is None:
        raise DecodeError(f"{path}: {text!r} is not file:line:column")
    return SourceLocation(found[1], int(found[2]), int(found[3]))


def _decode_dataclass(kind: type, data: object, path: str) -> object:
    if not isinstance(data, dict):
        raise DecodeError(f"{path}: expected an object, found {type(data).__name__}")
    hints = _field_hints(kind)
    expected = set(hints) | ({TAG} if _tag_of(kind) is not None else set())
    missing, unknown = expected - data.keys(), data.keys() - expected
    if missing or unknown:
        problems = [f"missing {', '.join(sorted(missing))}"] if missing else []
        problems += [f"unknown {', '.join(sorted(unknown))}"] if unknown else []
        raise DecodeError(f"{path}: {'; '.join(problems)}")
    values = {name: _decode(hint, data[name], f"{path}.{name}") for name, hint in hints.items()}
    return kind(**values)


@cache
def _field_hints(kind: type) -> dict[str, Any]:
    """The resolved type of each init field (our modules use postponed annotations)."""
    hints = typing.get_type_hints(kind)
    return {f.name: hints[f.name] for f in dataclasses.fields(kind) if f.init}


@cache
def _tag_of(kind: type) -> str | None:
    value = getattr(kind, TAG, None) if dataclasses.is_dataclass(kind) else None
    if value is None or TAG in {f.name for f in dataclasses.fields(kind)}:
        return None
    return str(value.value if isinstance(value, Enum) else value)
