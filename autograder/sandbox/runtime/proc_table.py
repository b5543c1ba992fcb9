"""The one ``/proc`` scanner: each process's pid, parent, state and uids.

Standard library only and no sibling imports: the worker uses it inside the jail (to find
the processes a student detached) and the grader on the host (to find what runs as a
sandbox's uid).
"""
import os
from typing import NamedTuple


class Process(NamedTuple):
    pid: int
    ppid: int
    zombie: bool
    uids: tuple  # real, effective, saved


def processes() -> list:
    """Every process this one can see, as far as ``/proc`` tells while it is read."""
    out = []
    try:
        names = os.listdir("/proc")
    except OSError:  # pragma: no cover - no /proc
        return out
    for name in names:
        if not name.isdigit():
            continue
        fields = {}
        try:
            with open(f"/proc/{name}/status", "rb") as f:
                for line in f:  # State and PPid come before Uid: read no further
                    key, _, value = line.partition(b":")
                    fields[key] = value
                    if key == b"Uid":
                        break
            out.append(Process(int(name), int(fields[b"PPid"]), fields[b"State"].split()[0] == b"Z",
                               tuple(int(u) for u in fields[b"Uid"].split()[:3])))
        except (OSError, KeyError, ValueError, IndexError):
            continue  # gone, or not readable
    return out
