"""Commands, the closed loop: checks, approval, sending, acknowledgement, audit."""

from plantwin.processing.commands.checks import (
    CommandError,
    NotAllowedError,
    ParameterError,
    UnknownCommandError,
)
from plantwin.processing.commands.service import (
    ApprovalError,
    Command,
    CommandRejectedError,
    CommandService,
    CommandStateError,
    CommandWriter,
    Desired,
)

__all__ = [
    "ApprovalError",
    "Command",
    "CommandError",
    "CommandRejectedError",
    "CommandService",
    "CommandStateError",
    "CommandWriter",
    "Desired",
    "NotAllowedError",
    "ParameterError",
    "UnknownCommandError",
]
