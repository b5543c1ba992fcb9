"""The sandbox's typed records: its limits, and what a call or a line count returned.

These cross the process boundary as plain data (``wire``) and are rebuilt here, validated,
as pytest's ``CallInfo`` and ``TestReport`` carry a test's outcome.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from .. import wire
from ..config import SandboxLimits

# Why a call did not return a value: the student's exception, a wall-clock timeout, a
# process that died, a module that failed to import or is missing, a value that is not
# plain data, memory exhausted.
ErrorKind = Literal["exception", "timeout", "crash", "import", "missing", "bad-output", "memory"]
ERROR_KINDS: tuple[str, ...] = get_args(ErrorKind)
FP_WARNINGS = ("divide", "invalid", "overflow")


Limits = SandboxLimits  # the sandbox's name for config's limits


def caps(limits: Limits) -> wire.Caps:
    """The wire's size caps for ``limits``: the same on both sides of the pipe."""
    return wire.Caps(max_array_elements=limits.max_array_elements,
                     max_frame_bytes=limits.max_frame_bytes, max_depth=limits.max_depth,
                     max_items=limits.max_items)


class SandboxError(RuntimeError):
    """The sandbox itself could not be set up (not a problem of the student's code)."""


@dataclass
class CallResult:
    ok: bool
    value: Any = None
    type_name: str | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    warnings: list = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0
    args_after: tuple = ()
    kwargs_after: dict = field(default_factory=dict)
    aliases: int = 0  # returned arrays that share memory with an array argument
    ref_calls: dict = field(default_factory=dict)  # FunctionRef name -> sizes it was called on


@dataclass
class LineCount:
    ok: bool
    lines: list = field(default_factory=list)  # Python lines the submission ran, per input
    error: str | None = None
    error_kind: ErrorKind | None = None
    output: str = ""


# ============================================================================ the machine
