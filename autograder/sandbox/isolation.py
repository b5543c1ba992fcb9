"""How strongly student code can be isolated here: a pure decision over facts gathered once.

``choose_isolation(facts)`` starts no process and reads no file: the facts carry everything
(whether bubblewrap is installed, the sandbox's uid, a path that uid can't reach, and the
bubblewrap probes, which a caller may make lazily), so every branch is tested on plain data
(``tests/test_isolation.py``). SECURITY.md says what each outcome protects.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Requested = Literal["auto", "bubblewrap", "process"]
Level = Literal["bubblewrap", "process"]

_PLAIN_CAVEAT = "; it can read every world-readable file and use the network"


@dataclass(frozen=True)
class Facts:
    requested: Requested
    bwrap: str | None  # bubblewrap's path, None when it is not installed
    uid: int | None  # the sandbox's own unprivileged uid (the grader runs as root), or None
    blocked: str | None  # a path the runtime needs that ``uid`` can't read, or None
    grader_uid: int
    # "as-uid", "mapped", "self" -> (bubblewrap starts in that mode, why not): see jail.Probes
    probes: Mapping[str, tuple[bool, str]]


@dataclass(frozen=True)
class Plan:
    level: Level
    run_uid: int | None  # the host uid the worker is started as (None: the grader's)
    map_uid: int | None  # the uid inside bubblewrap's user namespace, when started as root
    detail: str  # what the student's code can and can't do, for the report
    plain_caveat: str = ""  # the part of ``detail`` a Landlock confinement makes untrue

    @property
    def owns_uid(self) -> bool:
        """The sandbox's processes run as its own uid: kill whatever runs as it."""
        return self.run_uid is not None


class Unavailable(Exception):
    """Bubblewrap was required and can't be used here."""


def choose_isolation(facts: Facts) -> Plan:
    """The strongest isolation the facts allow; ``Unavailable`` when bubblewrap was
    required and can't be had. Order: bubblewrap as the sandbox's own uid; bubblewrap
    started as root with that uid inside its namespace (also when the uid can't reach the
    runtime); bubblewrap as the grader's uid (not root); then a plain process."""
    uid, blocked, why_not = facts.uid, facts.blocked, None
    if facts.requested != "process" and facts.bwrap:
        if uid and not blocked:
            ok, why = facts.probes["as-uid"]
            if ok:
                return Plan("bubblewrap", uid, None,
                            f"bubblewrap as unprivileged uid {uid}: no network, read-only "
                            f"runtime and submission, private /tmp, RLIMIT_NPROC in effect")
            why_not = f"bubblewrap as uid {uid} failed: {why}"
        if uid:
            ok, why = facts.probes["mapped"]
            if ok:
                reason = f"{blocked} is not reachable by an unprivileged uid" if blocked else why_not
                return Plan("bubblewrap", None, uid,
                            f"bubblewrap started as root, uid {uid} only inside its user "
                            f"namespace ({reason}): no network, read-only runtime and "
                            f"submission, private /tmp; RLIMIT_NPROC has no effect")
            why_not = (why_not + "; " if why_not else "") + f"as root: {why}"
        else:
            ok, why = facts.probes["self"]
            if ok:
                return Plan("bubblewrap", None, None,
                            f"bubblewrap as the grader's uid {facts.grader_uid}: no network, "
                            f"read-only runtime and submission, private /tmp")
            why_not = why
    elif facts.requested != "process":
        why_not = "bwrap is not installed"
    if facts.requested == "bubblewrap":
        raise Unavailable(f"bubblewrap isolation is not available: {why_not}")
    if uid and blocked:
        detail = (f"plain process as the grader's uid (root): {blocked} is not reachable by "
                  f"an unprivileged uid")
        uid = None
    elif uid:
        detail = f"plain process as unprivileged uid {uid} with rlimits"
    else:
        detail = f"plain process as the grader's uid {facts.grader_uid} with rlimits"
    detail += _PLAIN_CAVEAT + (f" (bubblewrap: {why_not})"
                               if why_not and facts.requested == "auto" else "")
    return Plan("process", uid, None, detail, _PLAIN_CAVEAT)
