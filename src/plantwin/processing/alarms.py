"""Alarms with the ISA-18.2 life cycle (DOMAIN 2): states, operator actions, first-out, floods.

Each alarm keeps *active* and *acknowledged* as two flags, plus latched, shelved,
suppressed and out-of-service; its state is derived from them (DOMAIN 2.2). Every change is
an :class:`AlarmEvent` carrying all flags, so the log is the history and its newest entry per
alarm restores the board after a restart.

Floods: when more than ``flood_count`` alarms activate within ``flood_window`` at one site
(DOMAIN 2.4: > 10 in 10 min), low and medium priority activations are still logged but no
longer annunciated until the rate falls again, so the operator sees the high-priority ones.
First-out: the first alarm to activate in a group (the machine) while none of the group is
active is marked first-out, so the cause stays visible among the consequences.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from plantwin.core.errors import PlantwinError
from plantwin.core.records import AlarmEvent, AlarmState, Event, EventKind
from plantwin.model.plant import Plant, RuleDef
from plantwin.model.schema import Priority

NS_PER_S = 1_000_000_000
PRIORITY_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.CRITICAL: 3}
_HIDDEN = (AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE)


class AlarmActionError(PlantwinError):
    """An operator action that the alarm's state does not allow; the message says why."""


class UnknownAlarmError(PlantwinError):
    """No alarm with that id."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmSettings:
    flood_count: int = 10  # more activations than this within the window is a flood
    flood_window_s: float = 600.0
    max_shelve_s: float = 8 * 3600.0  # shelving is time-limited (ISA-18.2)


@dataclass(slots=True, kw_only=True)
class AlarmPoint:
    """One configured alarm (a rule with ``alarm: true``) and its live flags."""

    rule: RuleDef
    group: str
    site: str
    active: bool = False
    acked: bool = True
    latched: bool = False
    shelved_until: int | None = None
    out_of_service: bool = False
    suppressed: bool = False
    annunciated: bool = True
    first_out: bool = False
    since: int | None = None  # start of the current activation
    acked_at: int | None = None  # when the current activation was acknowledged (re-alarm)
    one_shot: bool = False  # shelved until the condition clears (not kept over a restart)
    changed: int | None = None  # time of the last transition
    value: float | None = None
    message: str = ""

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def state(self) -> AlarmState:
        if self.out_of_service:
            return AlarmState.OUT_OF_SERVICE
        if self.shelved_until is not None:
            return AlarmState.SHELVED
        if self.suppressed:
            return AlarmState.SUPPRESSED
        if self.active:
            return AlarmState.ACKNOWLEDGED if self.acked else AlarmState.UNACKNOWLEDGED
        if not self.acked:
            return AlarmState.RTN_UNACKNOWLEDGED
        return AlarmState.LATCHED if self.latched else AlarmState.NORMAL

    @property
    def visible(self) -> bool:
        """Shown to the operator: not normal, not hidden, not held back by a flood."""
        state = self.state
        return state is not AlarmState.NORMAL and state not in _HIDDEN and self.annunciated


class AlarmBoard:
    """Every alarm of the plant; condition changes and operator actions go through here."""

    def __init__(self, plant: Plant, settings: AlarmSettings | None = None) -> None:
        self.plant = plant
        self.settings = settings or AlarmSettings()
        self.points: dict[str, AlarmPoint] = {}
        for rule in plant.rules():
            if rule.alarm:
                site = rule.twin.split(".", 1)[0]
                self.points[rule.id] = AlarmPoint(
                    rule=rule, group=rule.state_twin or rule.twin, site=site
                )
        self._realarming = [p for p in self.points.values() if p.rule.realarm_ns > 0]
        self._groups: dict[str, list[AlarmPoint]] = {}
        for point in self.points.values():
            self._groups.setdefault(point.group, []).append(point)
        self._suppressing: dict[str, list[AlarmPoint]] = {}
        for point in self.points.values():
            if point.rule.suppress_in and point.rule.state_twin:
                self._suppressing.setdefault(point.rule.state_twin, []).append(point)
        self._activations: dict[str, deque[int]] = {}
        self.flood_since: dict[str, int] = {}  # site -> start of the flood under way

    # ------------------------------------------------------------------ from the rules

    def condition(
        self, ts: int, rule: RuleDef, active: bool, value: float | None
    ) -> list[AlarmEvent | Event]:
        point = self.points.get(rule.id)
        if point is None or point.active == active:
            return []
        out: list[AlarmEvent | Event] = []
        previous = point.state
        point.active = active
        point.value = value if value is not None else point.value
        if active:
            # Only what the operator would see counts towards a flood or blocks first-out:
            # a maintenance stop's suppressed alarms are neither.
            out.extend(self._flood(point.site, ts, counting=not _hidden(point)))
            point.acked = False
            point.latched = False
            point.since = ts
            group_busy = any(
                p.active and p is not point and not _hidden(p) for p in self._groups[point.group]
            )
            point.first_out = not group_busy
            flooding = point.site in self.flood_since
            point.annunciated = not (
                flooding and PRIORITY_RANK[rule.priority] < PRIORITY_RANK[Priority.HIGH]
            )
            point.message = self._message(point, value)
            out.append(self._event(point, ts, "activate", previous))
        else:
            if point.out_of_service or point.shelved_until is not None or point.suppressed:
                # Came and went while hidden: nothing to acknowledge when it is shown again.
                point.acked = True
            elif rule.latching:
                point.latched = True
            out.append(self._event(point, ts, "clear", previous))
            if point.one_shot and point.shelved_until is not None:
                previous = point.state
                point.shelved_until, point.one_shot = None, False
                out.append(self._event(point, ts, "unshelve", previous, reason="one-shot: cleared"))
        return out

    def state_changed(self, ts: int, twin: str, state: str) -> list[AlarmEvent | Event]:
        """Suppress by design while the machine is in a state such as maintenance."""
        out: list[AlarmEvent | Event] = []
        for point in self._suppressing.get(twin, ()):
            suppress = state in point.rule.suppress_in
            if suppress == point.suppressed:
                continue
            previous = point.state
            point.suppressed = suppress
            if not suppress:
                self._reannunciate(point)
            out.append(self._event(point, ts, "suppress" if suppress else "unsuppress", previous))
        return out

    def tick(self, now: int) -> list[AlarmEvent | Event]:
        """Shelving that has run out, and floods that are over."""
        out: list[AlarmEvent | Event] = []
        for point in self.points.values():
            if point.shelved_until is not None and point.shelved_until <= now:
                previous = point.state
                point.shelved_until = None
                self._reannunciate(point)
                out.append(self._event(point, now, "unshelve", previous, reason="shelve expired"))
        for point in self._realarming:
            due = point.acked_at is not None and point.acked_at + point.rule.realarm_ns <= now
            if point.active and point.acked and due and not _hidden(point):
                previous = point.state
                point.acked = False
                point.acked_at = None
                out.append(self._event(point, now, "realarm", previous, reason="still active"))
        for site in list(self.flood_since):
            out.extend(self._flood(site, now, counting=False))
        return out

    # ------------------------------------------------------------------ operator actions

    def ack(self, alarm: str, now: int, user: str, reason: str = "") -> AlarmEvent:
        point = self._point(alarm)
        if point.acked:
            raise AlarmActionError(f"alarm {alarm} is {point.state.value}: nothing to acknowledge")
        previous = point.state
        point.acked = True
        point.acked_at = now
        return self._event(point, now, "ack", previous, user=user, reason=reason)

    def reset(self, alarm: str, now: int, user: str, reason: str = "") -> AlarmEvent:
        point = self._point(alarm)
        if not point.latched:
            raise AlarmActionError(f"alarm {alarm} is not latched: nothing to reset")
        if point.active:
            raise AlarmActionError(f"alarm {alarm} is still active: reset it once it has cleared")
        previous = point.state
        point.latched = False
        point.acked = True
        return self._event(point, now, "reset", previous, user=user, reason=reason)

    def shelve(
        self,
        alarm: str,
        now: int,
        duration_s: float,
        user: str,
        reason: str = "",
        *,
        one_shot: bool = False,
    ) -> AlarmEvent:
        """Hide the alarm for ``duration_s``; with ``one_shot`` also until it clears (ISA-18.2
        one-shot shelving), whichever comes first."""
        point = self._point(alarm)
        limit = self.settings.max_shelve_s
        if not 0 < duration_s <= limit:
            raise AlarmActionError(
                f"shelve duration must be more than 0 s and at most {limit:g} s "
                f"({limit / 3600:g} h), got {duration_s:g} s"
            )
        if point.out_of_service:
            raise AlarmActionError(f"alarm {alarm} is out of service; return it to service first")
        if one_shot and not point.active:
            raise AlarmActionError(f"alarm {alarm} is not active: a one-shot shelve has no end")
        previous = point.state
        point.shelved_until = now + round(duration_s * NS_PER_S)
        point.one_shot = one_shot
        return self._event(point, now, "shelve", previous, user=user, reason=reason)

    def unshelve(self, alarm: str, now: int, user: str, reason: str = "") -> AlarmEvent:
        point = self._point(alarm)
        if point.shelved_until is None:
            raise AlarmActionError(f"alarm {alarm} is not shelved")
        previous = point.state
        point.shelved_until = None
        point.one_shot = False
        self._reannunciate(point)
        return self._event(point, now, "unshelve", previous, user=user, reason=reason)

    def remove_from_service(self, alarm: str, now: int, user: str, reason: str) -> AlarmEvent:
        point = self._point(alarm)
        if point.out_of_service:
            raise AlarmActionError(f"alarm {alarm} is already out of service")
        if not reason.strip():
            raise AlarmActionError("taking an alarm out of service needs a reason (permit, MOC)")
        previous = point.state
        point.out_of_service = True
        point.shelved_until = None
        return self._event(point, now, "out_of_service", previous, user=user, reason=reason)

    def return_to_service(self, alarm: str, now: int, user: str, reason: str = "") -> AlarmEvent:
        point = self._point(alarm)
        if not point.out_of_service:
            raise AlarmActionError(f"alarm {alarm} is in service")
        previous = point.state
        point.out_of_service = False
        self._reannunciate(point)
        return self._event(point, now, "in_service", previous, user=user, reason=reason)

    # ------------------------------------------------------------------ views, restart

    def restore(self, newest: Iterable[AlarmEvent]) -> None:
        """Take each alarm's flags from its newest logged event (after a restart)."""
        for event in newest:
            point = self.points.get(event.alarm)
            if point is None:
                continue  # the rule was removed from the plant file
            point.active = event.active
            point.acked = event.acked
            point.latched = event.latched
            point.shelved_until = event.shelved_until
            point.out_of_service = event.out_of_service
            point.suppressed = event.suppressed
            point.annunciated = event.annunciated
            point.first_out = event.first_out
            point.since = event.since
            point.changed = event.ts
            # Re-alarm counts from the newest event, the last moment known after a restart.
            point.acked_at = event.ts if event.active and event.acked else None
            point.value = event.value
            point.message = event.message

    def active_ids(self) -> list[str]:
        return [p.id for p in self.points.values() if p.active]

    def counts(self) -> Mapping[str, int]:
        """Visible alarms by priority, for status lines."""
        out = {p.value: 0 for p in Priority}
        for point in self.points.values():
            if point.visible:
                out[point.rule.priority.value] += 1
        return out

    # ------------------------------------------------------------------ internals

    def _point(self, alarm: str) -> AlarmPoint:
        point = self.points.get(alarm)
        if point is None:
            raise UnknownAlarmError(f"no alarm '{alarm}' (ids are '<twin id>:<rule name>')")
        return point

    def _reannunciate(self, point: AlarmPoint) -> None:
        """Leaving shelved, suppressed or out of service: an alarm still active sounds again."""
        if point.active and point.state not in _HIDDEN:
            point.acked = False
            point.annunciated = True

    def _flood(self, site: str, ts: int, *, counting: bool = True) -> list[AlarmEvent | Event]:
        window = round(self.settings.flood_window_s * NS_PER_S)
        times = self._activations.setdefault(site, deque())
        if counting:
            times.append(ts)
        while times and times[0] <= ts - window:
            times.popleft()
        flooding = len(times) > self.settings.flood_count
        out: list[AlarmEvent | Event] = []
        if flooding and site not in self.flood_since:
            self.flood_since[site] = ts
            out.append(
                Event(
                    ts=ts,
                    twin=site,
                    kind=EventKind.ALARM,
                    message=f"alarm flood: {len(times)} alarms in "
                    f"{self.settings.flood_window_s / 60:g} min; low and medium priority "
                    "alarms are logged but not annunciated",
                    data={"flood": True, "count": len(times)},
                )
            )
        elif not flooding and site in self.flood_since:
            since = self.flood_since.pop(site)
            out.append(
                Event(
                    ts=ts,
                    twin=site,
                    kind=EventKind.ALARM,
                    message="alarm flood over",
                    data={"flood": False, "count": len(times), "since": since},
                )
            )
            # What the flood held back and still needs the operator is shown now.
            for point in self.points.values():
                if point.site == site and not point.annunciated and not point.acked:
                    previous = point.state
                    point.annunciated = True
                    out.append(self._event(point, ts, "annunciate", previous))
        return out

    def _message(self, point: AlarmPoint, value: float | None) -> str:
        rule = point.rule
        twin = self.plant.twins[rule.twin]
        limit = rule.above if rule.above is not None else rule.below
        if rule.above is not None and rule.below is not None and value is not None:
            limit = rule.below if value < rule.below else rule.above
        fields = {
            "twin": rule.twin,
            "name": twin.name,
            "rule": rule.name,
            "value": value if value is not None else float("nan"),
            "limit": f"{limit:g}" if limit is not None else "",
            "unit": rule.unit,
            "signal": rule.signal or "",
        }
        if rule.message:
            try:
                return rule.message.format_map(fields)
            except (ValueError, TypeError):  # a format spec that does not fit the value
                return rule.message
        shown = rule.description or rule.name.replace("_", " ")
        if value is not None and limit is not None:
            return f"{twin.name}: {shown} ({value:.4g} {rule.unit}, limit {limit:g})"
        return f"{twin.name}: {shown}"

    def _event(
        self,
        point: AlarmPoint,
        ts: int,
        action: str,
        previous: AlarmState,
        *,
        user: str = "",
        reason: str = "",
    ) -> AlarmEvent:
        point.changed = ts
        return AlarmEvent(
            ts=ts,
            alarm=point.id,
            twin=point.rule.twin,
            action=action,
            state=point.state,
            previous=previous,
            priority=point.rule.priority.value,
            active=point.active,
            acked=point.acked,
            latched=point.latched,
            shelved_until=point.shelved_until,
            out_of_service=point.out_of_service,
            suppressed=point.suppressed,
            annunciated=point.annunciated,
            first_out=point.first_out,
            value=point.value,
            message=point.message,
            user=user,
            reason=reason,
            since=point.since,
        )


def _hidden(point: AlarmPoint) -> bool:
    return point.out_of_service or point.shelved_until is not None or point.suppressed


def newest_per_alarm(events: Iterable[AlarmEvent]) -> list[AlarmEvent]:
    """The newest event of each alarm from a newest-first sequence."""
    seen: dict[str, AlarmEvent] = {}
    for event in events:
        held = seen.get(event.alarm)
        if held is None or event.ts > held.ts:
            seen[event.alarm] = event
    return list(seen.values())
