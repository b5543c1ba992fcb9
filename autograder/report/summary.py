"""What a student should fix first: failed checks folded by cause, largest loss first.

A failed check's message starts with what was called and how it went wrong. When the call
itself failed (the function raised, is missing, the module has a syntax error, the call
timed out, ...) that cause repeats across every check that calls it: ``fold`` makes those
checks one entry (292 entries for an empty submission become one per module). A check that
got a wrong value stays an entry of its own: its message is about that check.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..results import GradeResult, TestResult

# How the sandbox says a call went wrong, right after the call's text: "...) raised ...".
_CAUSE = re.compile(r"\) ((?:raised |no module |\S+\.(?:py|ipynb) (?:has|is|stopped)|timed out"
                    r"|did not finish|the call made the sandbox|ran out of memory"
                    r"|called sys\.exit|stopped the sandbox|could not be ).*)$", re.M)
_NO_MODULE = re.compile(r"no module (\w+)\.py")  # a long message may be cut short after it
FIRST = 3  # how many entries the summary names


@dataclass
class Entry:
    cause: str | None  # the shared cause, or None: one check with its own message
    tests: list[TestResult] = field(default_factory=list)

    @property
    def lost(self) -> float:
        return sum(t.max_score - t.score for t in self.tests)

    @property
    def functions(self) -> list[str]:
        return list(dict.fromkeys(t.function for t in self.tests))


def cause(test: TestResult) -> str | None:
    """The reason ``test``'s call failed, if its message says the call itself failed."""
    match = _CAUSE.search(test.output)
    if not match:
        return None
    why = match.group(1).split("; ")[0].rstrip(".")
    missing = _NO_MODULE.match(why)
    return f"no module {missing.group(1)}.py in the submission" if missing else why


def fold(result: GradeResult) -> list[Entry]:
    """The failed checks as entries (one per shared cause, one per other check), in the
    order of their first check."""
    entries: list[Entry] = []
    by_cause: dict[str, Entry] = {}
    for t in result.tests:
        if t.passed:
            continue
        why = cause(t)
        if why is None:
            entries.append(Entry(None, [t]))
        elif why in by_cause:
            by_cause[why].tests.append(t)
        else:
            by_cause[why] = Entry(why, [t])
            entries.append(by_cause[why])
    return entries


def first(entries: list[Entry], n: int = FIRST) -> list[Entry]:
    """The ``n`` entries that cost the most points (ties: the earlier first)."""
    return sorted(entries, key=lambda e: -e.lost)[:n]


def headline(entry: Entry) -> str:
    """One line saying what an entry is about and what it costs."""
    lost = f"{entry.lost:g} point{'' if entry.lost == 1 else 's'}"
    if entry.cause is None:
        t = entry.tests[0]
        return f"`{t.function}`: {t.name} ({lost})"
    functions = ", ".join(f"`{f}`" for f in entry.functions[:6])
    more = f" and {len(entry.functions) - 6} more" if len(entry.functions) > 6 else ""
    checks = len(entry.tests)
    return (f"{functions}{more}: {entry.cause} ({checks} check{'' if checks == 1 else 's'}, "
            f"{lost})")
