"""Commands, the closed loop: checked against the plant model, approved when critical, written
through the bound connector, and watched until the machine reports the value.

Every step is a :class:`CommandEvent` appended to the store before the caller hears of it, so
the store is the audit trail; the service keeps the commands of this run (and those restored
from the store at start) in memory for the API. Connectors are reached by name through the
small :class:`CommandWriter` protocol: this module never sees a concrete connector.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from plantwin.core.clock import Clock
from plantwin.core.errors import PlantwinError
from plantwin.core.records import (
    FINAL_COMMAND_STATUSES,
    CommandEvent,
    CommandStatus,
    CommandValue,
)
from plantwin.core.store import RecordQuery, RecordStore
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import CommandDef, Plant
from plantwin.processing.commands.checks import (
    CommandError,
    NotAllowedError,
    UnknownCommandError,
    binding_of,
    check_interlocks,
    check_parameters,
    check_state,
    matches,
    reported_target,
    writes,
)
from plantwin.twin import TwinState

log = logging.getLogger(__name__)

WRITE_TIMEOUT_S = 10.0  # a connector that takes longer to confirm a write has failed it
RESTORE_EVENTS = 100_000  # command events read back at start


class CommandWriter(Protocol):
    """The part of a connector that commands use (``Connector.write``)."""

    async def write(self, address: str, value: float) -> None: ...


class ApprovalError(CommandError):
    """An approval that is not allowed: the requester approving their own command (403)."""


class CommandStateError(CommandError):
    """The command is not in a status that allows the action (409), e.g. approving it twice."""


@dataclass(slots=True, kw_only=True)
class Command:
    """One command and its life cycle so far (events oldest first)."""

    id: str
    twin: str
    command: str
    parameters: dict[str, CommandValue]
    requested_by: str
    reason: str
    critical: bool
    events: list[CommandEvent] = field(default_factory=list)
    target: float | None = None  # the value the report signal should show
    reported: float | None = None  # the value seen when acknowledged or given up

    @property
    def status(self) -> CommandStatus:
        return self.events[-1].status

    @property
    def requested(self) -> int:
        return self.events[0].ts


class CommandRejectedError(NotAllowedError):
    """Refused by the twin's state or an interlock; the refusal is audited as ``command``."""

    def __init__(self, message: str, command: Command) -> None:
        super().__init__(message)
        self.command = command


class CommandService:
    """Validates, sends and tracks commands; ``close()`` stops the watchers at shutdown."""

    def __init__(
        self,
        *,
        plant: Plant,
        twin: TwinState,
        catalog: SignalCatalog,
        store: RecordStore,
        clock: Clock,
        writers: Mapping[str, CommandWriter],
        poll_s: float = 0.05,
    ) -> None:
        self.plant = plant
        self.twin = twin
        self.catalog = catalog
        self.store = store
        self.clock = clock
        self.writers = writers
        self.poll_s = poll_s
        self.commands: dict[str, Command] = {}
        self._watchers: set[asyncio.Task[None]] = set()
        # Told of every step once it is stored (the live API); must not block.
        self.listeners: list[Callable[[CommandEvent], None]] = []

    # -- requests ------------------------------------------------------------------------

    def definition(self, twin_id: str, name: str) -> CommandDef:
        twin = self.plant.twins.get(twin_id)
        if twin is None:
            raise UnknownCommandError(f"no twin '{twin_id}'")
        for command in twin.commands:
            if command.name == name:
                return command
        known = ", ".join(c.name for c in twin.commands) or "it has none"
        raise UnknownCommandError(f"{twin_id} has no command '{name}' ({known})")

    async def request(
        self,
        *,
        twin: str,
        command: str,
        parameters: Mapping[str, object],
        user: str,
        reason: str = "",
    ) -> Command:
        """Check and send a command (or hold a critical one for approval).

        Raises UnknownCommandError (no such twin or command), ParameterError (bad
        parameters: nothing is recorded), CommandRejectedError (state or interlock: recorded
        as ``rejected``).
        """
        spec = self.definition(twin, command)
        params = check_parameters(spec, parameters)
        cmd = Command(
            id=secrets.token_hex(8),
            twin=twin,
            command=command,
            parameters=params,
            requested_by=user,
            reason=reason,
            critical=spec.critical,
            target=reported_target(spec, params),
        )
        self.commands[cmd.id] = cmd
        try:
            self._allowed(spec)
        except NotAllowedError as err:
            await self._step(cmd, CommandStatus.REJECTED, user=user, message=str(err))
            raise CommandRejectedError(str(err), cmd) from err
        if spec.critical:
            await self._step(cmd, CommandStatus.PENDING_APPROVAL, user=user)
            return cmd
        await self._step(cmd, CommandStatus.ACCEPTED, user=user)
        await self._send(spec, cmd)
        return cmd

    async def approve(self, command_id: str, *, user: str, reason: str = "") -> Command:
        """Send a critical command on a second user's approval."""
        cmd = self._pending(command_id, "approved")
        if user == cmd.requested_by:
            msg = (
                f"command {command_id} was requested by {user!r}; a critical command needs "
                "the approval of a different user"
            )
            raise ApprovalError(msg)
        spec = self.definition(cmd.twin, cmd.command)
        try:  # the plant may have changed while the command waited
            self._allowed(spec)
        except NotAllowedError as err:
            await self._step(cmd, CommandStatus.REJECTED, user=user, message=str(err))
            raise CommandRejectedError(str(err), cmd) from err
        await self._step(cmd, CommandStatus.ACCEPTED, user=user, reason=reason)
        await self._send(spec, cmd)
        return cmd

    async def reject(self, command_id: str, *, user: str, reason: str = "") -> Command:
        """Cancel a command waiting for approval."""
        cmd = self._pending(command_id, "rejected")
        await self._step(
            cmd, CommandStatus.REJECTED, user=user, reason=reason, message=f"rejected by {user}"
        )
        return cmd

    def _pending(self, command_id: str, action: str) -> Command:
        cmd = self.commands.get(command_id)
        if cmd is None:
            raise UnknownCommandError(f"no command '{command_id}'")
        if cmd.status is not CommandStatus.PENDING_APPROVAL:
            msg = (
                f"command {command_id} is {cmd.status.value}; only pending_approval can be {action}"
            )
            raise CommandStateError(msg)
        return cmd

    def _allowed(self, spec: CommandDef) -> None:
        binding_of(spec)
        check_state(spec, self.twin)
        check_interlocks(spec, self.twin, self.catalog)

    # -- sending and watching ---------------------------------------------------------------

    async def _send(self, spec: CommandDef, cmd: Command) -> None:
        binding = binding_of(spec)
        writer = self.writers.get(binding.connector)
        if writer is None:
            msg = f"connector '{binding.connector}' is not running; nothing was written"
            await self._step(cmd, CommandStatus.FAILED, message=msg)
            return
        report = spec.reports
        sid = self.catalog.id(report.signal) if report is not None else None
        seen = int(self.twin.latest.ts[sid]) if sid is not None else 0
        try:
            for address, raw in writes(spec, cmd.parameters):
                await asyncio.wait_for(writer.write(address, raw), WRITE_TIMEOUT_S)
        except TimeoutError:
            reason = f"no answer within {WRITE_TIMEOUT_S:g} s"
            await self._step(cmd, CommandStatus.FAILED, message=f"{binding.connector}: {reason}")
            return
        except Exception as err:  # whatever a connector raises, the command fails, audited
            reason = str(err) if isinstance(err, PlantwinError) else f"{type(err).__name__}: {err}"
            await self._step(cmd, CommandStatus.FAILED, message=f"{binding.connector}: {reason}")
            return
        await self._step(cmd, CommandStatus.SENT, message=f"written to {binding.address}")
        if sid is not None and report is not None:
            deadline = self.clock.now_ns() + spec.timeout_ns
            watch = self._watch(cmd, report.signal, seen, deadline, report.tolerance)
            task = asyncio.create_task(watch)
            self._watchers.add(task)
            task.add_done_callback(self._watchers.discard)

    async def _watch(self, cmd: Command, key: str, seen: int, deadline: int, tol: float) -> None:
        """Acknowledge on the first report after the write that matches; else time out.

        Only a sample newer than the one held at the write counts, so a value that happened
        to match before the command does not acknowledge it before the machine answered.
        """
        latest = self.twin.latest
        sid = self.catalog.id(key)
        assert cmd.target is not None
        while True:
            if int(latest.ts[sid]) > seen:
                seen = int(latest.ts[sid])
                value = float(latest.value[sid])
                if matches(cmd.target, value, tol):
                    cmd.reported = value
                    await self._step(cmd, CommandStatus.ACKNOWLEDGED, message=f"reported {value:g}")
                    return
            if self.clock.now_ns() >= deadline:
                shown = "nothing" if not latest.has(sid) else f"{float(latest.value[sid]):g}"
                cmd.reported = None if not latest.has(sid) else float(latest.value[sid])
                msg = f"no report of {cmd.target:g} on {key} in time; it shows {shown}"
                await self._step(cmd, CommandStatus.TIMED_OUT, message=msg)
                return
            await asyncio.sleep(self.poll_s)

    async def _step(
        self,
        cmd: Command,
        status: CommandStatus,
        *,
        user: str = "",
        reason: str | None = None,
        message: str = "",
    ) -> None:
        event = CommandEvent(
            ts=self.clock.now_ns(),
            id=cmd.id,
            twin=cmd.twin,
            command=cmd.command,
            status=status,
            previous=cmd.events[-1].status if cmd.events else None,
            requested_by=cmd.requested_by,
            user=user,
            parameters=dict(cmd.parameters),
            reason=cmd.reason if reason is None else reason,
            message=message,
        )
        await self.store.append_records([event])  # audited before anyone hears of it
        cmd.events.append(event)
        for listener in self.listeners:
            listener(event)

    # -- restart and shutdown ---------------------------------------------------------------

    async def restore(self) -> None:
        """Read this plant's commands back from the store; close those left unfinished.

        A command still sent or waiting for approval when the runtime stopped cannot be
        watched or approved any more: it becomes timed_out or rejected, and says why.
        """
        query = RecordQuery(kind=CommandEvent, limit=RESTORE_EVENTS)
        events = [r for r in await self.store.records(query) if isinstance(r, CommandEvent)]
        for event in reversed(events):  # oldest first
            cmd = self.commands.get(event.id)
            if cmd is None:
                spec = self._spec_or_none(event.twin, event.command)
                cmd = Command(
                    id=event.id,
                    twin=event.twin,
                    command=event.command,
                    parameters=dict(event.parameters),
                    requested_by=event.requested_by,
                    reason=event.reason,
                    critical=spec is not None and spec.critical,
                    target=None if spec is None else _target_or_none(spec, event.parameters),
                )
                self.commands[event.id] = cmd
            cmd.events.append(event)
        for cmd in self.commands.values():
            if cmd.status in FINAL_COMMAND_STATUSES:
                continue
            if cmd.status is CommandStatus.PENDING_APPROVAL:
                await self._step(
                    cmd, CommandStatus.REJECTED, message="the runtime restarted before approval"
                )
            else:
                msg = "the runtime restarted before the machine reported the value"
                await self._step(cmd, CommandStatus.TIMED_OUT, message=msg)

    def _spec_or_none(self, twin: str, name: str) -> CommandDef | None:
        try:
            return self.definition(twin, name)
        except UnknownCommandError:
            return None

    async def close(self) -> None:
        """Stop watching; unfinished commands are closed by :meth:`restore` on the next start."""
        for task in list(self._watchers):
            task.cancel()
        for task in list(self._watchers):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- desired vs reported ------------------------------------------------------------------

    def desired(self, twin_id: str) -> list[Desired]:
        """Per reported command of the twin: the newest value sent, and what the machine shows."""
        twin = self.plant.twins[twin_id]
        newest: dict[str, Command] = {}
        for cmd in self.commands.values():
            if cmd.twin == twin_id and any(e.status is CommandStatus.SENT for e in cmd.events):
                held = newest.get(cmd.command)
                if held is None or cmd.requested >= held.requested:
                    newest[cmd.command] = cmd
        out: list[Desired] = []
        for spec in twin.commands:
            if spec.reports is None:
                continue
            sid = self.catalog.id(spec.reports.signal)
            known = self.twin.latest.has(sid)
            last = newest.get(spec.name)
            reported = float(self.twin.latest.value[sid]) if known else None
            desired = None if last is None else last.target
            out.append(
                Desired(
                    command=spec.name,
                    signal=spec.reports.signal,
                    unit=self.catalog.signal(spec.reports.signal).symbol,
                    desired=desired,
                    reported=reported,
                    reported_at=int(self.twin.latest.ts[sid]) if known else None,
                    in_sync=(
                        None
                        if desired is None or reported is None
                        else matches(desired, reported, spec.reports.tolerance)
                    ),
                    last_command=None if last is None else last.id,
                    status=None if last is None else last.status,
                )
            )
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Desired:
    command: str
    signal: str
    unit: str
    desired: float | None  # in the signal's unit; None: never commanded
    reported: float | None
    reported_at: int | None
    in_sync: bool | None
    last_command: str | None
    status: CommandStatus | None


def _target_or_none(spec: CommandDef, params: Mapping[str, CommandValue]) -> float | None:
    try:
        return reported_target(spec, params)
    except (KeyError, CommandError):
        return None
