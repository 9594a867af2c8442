"""Snapshot codec: the simulator's state tree as compressed JSON.

JSON rather than pickle so that a snapshot read back from a store can only rebuild the
state classes named here, never run code. Python's json writes floats with ``repr``, so
every value round-trips exactly (NaN and infinities included).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")
_CLASS = "$c"
_TUPLE = "$t"
_DICT = "$d"


def _encode(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            msg = f"snapshot dicts need string keys, got {list(value)[:3]!r}"
            raise TypeError(msg)
        return {_DICT: {k: _encode(v) for k, v in value.items()}}
    if is_dataclass(value) and not isinstance(value, type):
        out: dict[str, object] = {_CLASS: type(value).__name__}
        for f in fields(value):
            out[f.name] = _encode(getattr(value, f.name))
        return out
    msg = f"cannot snapshot a value of type {type(value).__name__}"
    raise TypeError(msg)


def _decode(data: Any, classes: dict[str, type]) -> Any:
    if isinstance(data, list):
        return [_decode(v, classes) for v in data]
    if not isinstance(data, dict):
        return data
    if _TUPLE in data:
        return tuple(_decode(v, classes) for v in data[_TUPLE])
    if _DICT in data:
        return {k: _decode(v, classes) for k, v in data[_DICT].items()}
    name = data.get(_CLASS)
    cls = classes.get(name) if isinstance(name, str) else None
    if cls is None:
        msg = f"snapshot names unknown state class {name!r}"
        raise ValueError(msg)
    kwargs = {k: _decode(v, classes) for k, v in data.items() if k != _CLASS}
    return cls(**kwargs)


def dumps(header: dict[str, object], state: object) -> bytes:
    text = json.dumps({"header": header, "state": _encode(state)}, separators=(",", ":"))
    return zlib.compress(text.encode(), 6)


def loads(data: bytes, classes: list[type], expect: type[T]) -> tuple[dict[str, Any], T]:
    """Header and state of a snapshot; the root must be an ``expect`` instance."""
    try:
        doc = json.loads(zlib.decompress(data))
    except (zlib.error, ValueError, UnicodeDecodeError) as err:
        msg = f"not a demo-plant snapshot: {err}"
        raise ValueError(msg) from err
    if not isinstance(doc, dict) or "header" not in doc or "state" not in doc:
        msg = "not a demo-plant snapshot: header or state missing"
        raise ValueError(msg)
    try:
        state = _decode(doc["state"], {c.__name__: c for c in classes})
    except TypeError as err:
        msg = f"snapshot does not fit this version of the demo plant: {err}"
        raise ValueError(msg) from err
    if not isinstance(state, expect):
        msg = f"snapshot root is {type(state).__name__}, expected {expect.__name__}"
        raise ValueError(msg)
    header = doc["header"]
    if not isinstance(header, dict):
        msg = "snapshot header is not an object"
        raise ValueError(msg)
    return header, state
