"""Frozen dataclasses (specs, settings, progress records) to JSON and back, for the run store.

`dumps` writes a dataclass as a JSON object of its fields; `loads(text, cls)` rebuilds it from the field types
(tuples stay tuples, enums enums, nested specs specs), so a spec read back is equal, and hashes equal, to the one
written. A field added later with a default reads old records with that default; an unknown field is ignored.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import json
import types
import typing
from typing import Any, TypeVar

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """A dataclass, enum or tuple as JSON-ready dicts, lists and scalars."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [to_plain(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """`value` (a dataclass, a tuple of them, ...) as compact JSON."""
    return json.dumps(to_plain(value), separators=(",", ":"), allow_nan=True)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _frozen(value: Any) -> Any:
    """JSON lists as tuples, all the way down: what LayerSpec.of makes of list arguments."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def from_plain(value: Any, kind: Any) -> Any:
    """Rebuild a value of type `kind` from what `to_plain` made of it; ValueError when it does not fit."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return _frozen(value)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return from_plain(value, arg)
            except (TypeError, ValueError):
                continue
        raise ValueError(f"{value!r} fits none of {kind}")
    if origin is tuple:
        if not isinstance(value, list):
            raise ValueError(f"expected a list for {kind}, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_plain(v, args[0]) for v in value)
        return tuple(from_plain(v, a) for v, a in zip(value, args, strict=True))
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise ValueError(f"expected an object for {kind.__name__}, got {value!r}")
        hints = _hints(kind)
        known = {f.name for f in dataclasses.fields(kind) if f.init}
        return kind(**{k: from_plain(v, hints[k]) for k, v in value.items() if k in known})
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(kind, type) and not isinstance(value, kind):
        raise ValueError(f"expected {kind.__name__}, got {value!r}")
    return value


def loads(text: str, kind: type[T] | Any) -> T:
    """The value of type `kind` that `dumps` wrote as `text`."""
    return from_plain(json.loads(text), kind)
