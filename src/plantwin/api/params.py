"""Parsing of query parameters: times and durations, with errors that say what is wrong."""

from __future__ import annotations

import re

from plantwin.core.clock import NS_PER_S, checked_ns, parse_iso

_UNITS = {"ms": 1_000_000, "s": NS_PER_S, "m": 60 * NS_PER_S, "h": 3600 * NS_PER_S}
_UNITS["d"] = 24 * _UNITS["h"]
_UNITS["w"] = 7 * _UNITS["d"]
MAX_DURATION = 1000 * 365 * _UNITS["d"]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


class ParamError(ValueError):
    """A query parameter is malformed; the message names the parameter."""


def parse_duration(text: str, name: str) -> int:
    """Nanoseconds of '10s', '5m', '1h', '1d', '250ms' or ISO 8601 'PT1M'."""
    match = _DURATION.match(text)
    if match:
        ns = round(float(match.group(1)) * _UNITS[match.group(2)])
    else:
        iso = _ISO_DURATION.match(text.strip().upper())
        if iso is None or not any(iso.groupdict().values()):
            msg = f"{name}={text!r} is not a duration; use e.g. 10s, 5m, 1h, 1d or PT1M"
            raise ParamError(msg)
        parts = {k: float(v) for k, v in iso.groupdict().items() if v}
        seconds = (
            parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60
        ) + parts.get("s", 0)
        ns = round(seconds * NS_PER_S)
    if ns <= 0:
        msg = f"{name}={text!r} must be longer than zero"
        raise ParamError(msg)
    if ns > MAX_DURATION:
        msg = f"{name}={text!r} is longer than 1000 years"
        raise ParamError(msg)
    return ns


def parse_time(text: str, name: str, now: int) -> int:
    """Nanoseconds of an ISO 8601 time with zone, 'now', or 'now-1h' / '-1h' relative to now."""
    raw = text.strip()
    if raw == "now":
        return now
    relative = raw.removeprefix("now")
    try:
        if relative.startswith("-"):
            return checked_ns(now - parse_duration(relative[1:], name), text)
        return parse_iso(raw)
    except ValueError as err:
        if isinstance(err, ParamError):
            raise
        msg = f"{name}={text!r}: {err}; use ISO 8601 with a zone (2026-11-27T08:00:00Z), now or -1h"
        raise ParamError(msg) from err


def iso_duration(ns: int) -> str:
    """ISO 8601 duration such as 'PT5M', 'P1D' or 'PT0.25S' (no exponents)."""
    days, rest = divmod(ns, 86_400 * NS_PER_S)
    hours, rest = divmod(rest, 3600 * NS_PER_S)
    minutes, rest = divmod(rest, 60 * NS_PER_S)
    seconds = rest / NS_PER_S
    time = "".join(
        part
        for part in (
            f"{hours}H" if hours else "",
            f"{minutes}M" if minutes else "",
            f"{seconds:.9f}".rstrip("0").rstrip(".") + "S" if rest else "",
        )
        if part
    )
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
