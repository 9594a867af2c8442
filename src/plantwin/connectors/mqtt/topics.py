"""Binding addresses of the MQTT connector: ``TOPIC`` or ``TOPIC:FIELD.PATH``.

``TOPIC`` may hold MQTT wildcards (``+`` one level, ``#`` the rest). The part after the last
``:`` is a field path when it contains no ``/``: ``line1/mill1/telemetry:spindle.temp`` reads
``record["spindle"]["temp"]`` of each record on that topic; a plain ``TOPIC`` reads the
connector's default value field (``payload.value``, "value" unless set), or a bare JSON number.
Path segments of digits index lists (``values.0``).

A message feeds every binding whose topic matches its topic; the connector hands the binding's
address string to ingest, which maps it to the signal like any other connector address.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FieldPath = tuple[str | int, ...]

_CACHE_LIMIT = 100_000  # distinct concrete topics remembered; wildcards could make it unbounded


@dataclass(frozen=True, slots=True)
class Route:
    """One binding a topic feeds: the address to report and the field to read (None: default)."""

    address: str
    field: FieldPath | None


def split_address(address: str) -> tuple[str, str | None]:
    """(topic, field path text or None) of a binding address."""
    cut = address.rfind(":")
    if cut > 0 and cut < len(address) - 1 and "/" not in address[cut + 1 :]:
        return address[:cut], address[cut + 1 :]
    return address, None


def parse_path(text: str) -> FieldPath:
    """``"a.b.0"`` -> ``("a", "b", 0)``; ValueError for empty segments."""
    parts = text.split(".")
    if any(not p for p in parts):
        msg = f"field path '{text}' has an empty segment"
        raise ValueError(msg)
    return tuple(int(p) if p.isdigit() else p for p in parts)


def check_topic(topic: str) -> str | None:
    """Why ``topic`` is not a valid MQTT topic filter, or None."""
    if not topic:
        return "the topic is empty"
    levels = topic.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return "'#' must be a whole level, the last one"
        if "+" in level and level != "+":
            return "'+' must be a whole level"
    return None


def matches(pattern: list[str], topic: list[str]) -> bool:
    """MQTT filter matching on split levels (``+`` one level, ``#`` the rest)."""
    for i, level in enumerate(pattern):
        if level == "#":
            return True
        if i >= len(topic) or (level != "+" and level != topic[i]):
            return False
    return len(pattern) == len(topic)


class TopicRouter:
    """Concrete topic -> the routes (bindings) it feeds, cached per topic."""

    def __init__(self, addresses: Iterable[str]) -> None:
        self.exact: dict[str, list[Route]] = {}
        self.patterns: list[tuple[list[str], Route]] = []
        for address in addresses:
            topic, field = split_address(address)
            route = Route(address, None if field is None else parse_path(field))
            if "+" in topic or "#" in topic:
                self.patterns.append((topic.split("/"), route))
            else:
                self.exact.setdefault(topic, []).append(route)
        self._cache: dict[str, list[Route]] = {}

    def topics(self) -> list[str]:
        """Every bound topic (filter), in binding order, each once."""
        seen = dict.fromkeys([*self.exact, *("/".join(p) for p, _ in self.patterns)])
        return list(seen)

    def routes(self, topic: str) -> list[Route]:
        found = self._cache.get(topic)
        if found is not None:
            return found
        found = list(self.exact.get(topic, ()))
        if self.patterns:
            levels = topic.split("/")
            found.extend(r for p, r in self.patterns if matches(p, levels))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[topic] = found
        return found
