"""The readable table a person sees in the terminal, and what to fix: the first failures of
each function in full, wrapped to the terminal (never cut), the rest named in one line."""
from __future__ import annotations

import shutil
import textwrap

from ..results import GradeResult

FULL_PER_FUNCTION = 2  # failures of one function shown in full; the rest are named


def _wrapped(text: str, width: int) -> list[str]:
    return [w for line in text.splitlines() for w in
            (textwrap.wrap(line, width, initial_indent="    ", subsequent_indent="      ",
                           break_long_words=True, break_on_hyphens=False) or ["    "])]


def render(result: GradeResult, *, failures: bool = True, width: int | None = None) -> str:
    width = width or max(60, shutil.get_terminal_size((100, 24)).columns - 1)
    kinds = sorted({t.kind for t in result.tests})
    cells: dict[str, dict[str, list[float]]] = {}
    for t in result.tests:
        cell = cells.setdefault(t.function, {}).setdefault(t.kind, [0.0, 0.0])
        cell[0] += t.score
        cell[1] += t.max_score
    name_w = max([len("function")] + [len(f) for f in cells])
    col_w = max(len(k) for k in kinds) if kinds else 8
    lines = [f"Submission: {result.submission}   (isolation: {result.isolation}, "
             f"{result.seconds:.2f} s)"]
    lines += [f"  ! {p}" for p in result.problems]
    lines.append("")
    lines.append(f"{'function':<{name_w}}  " + "  ".join(f"{k:>{col_w}}" for k in kinds) + "     total")
    for function, row in cells.items():
        parts = []
        for k in kinds:
            s, m = row.get(k, (0.0, 0.0))
            parts.append(f"{f'{s:g}/{m:g}' if m else '-':>{col_w}}")
        s = sum(v[0] for v in row.values())
        m = sum(v[1] for v in row.values())
        mark = "" if s >= m else "  <"
        lines.append(f"{function:<{name_w}}  " + "  ".join(parts) + f"  {f'{s:g}/{m:g}':>8}{mark}")
    lines.append("")
    lines.append(f"Score: {result.score:g} / {result.max_score:g}")
    if failures:
        failed = [t for t in result.tests if not t.passed]
        if failed:
            lines.append("")
            lines.append(f"What to fix ({len(failed)} checks):")
            by_function: dict[str, list] = {}
            for t in failed:
                by_function.setdefault(t.function, []).append(t)
            for function, checks in by_function.items():
                for t in checks[:FULL_PER_FUNCTION]:
                    lines.append(f"- [{t.function} / {t.kind}] {t.name} ({t.score:g}/{t.max_score:g})")
                    lines += _wrapped(t.output, width)
                rest = checks[FULL_PER_FUNCTION:]
                if rest:
                    lines += textwrap.wrap(
                        f"- and {len(rest)} more checks of {function}: "
                        + "; ".join(f"{t.name.removeprefix(function + ': ')} ({t.score:g}/"
                                    f"{t.max_score:g})" for t in rest)
                        + " (fix the above first; --json FILE has every message)",
                        width, subsequent_indent="    ")
    return "\n".join(lines)
