"""The readable table a person sees in the terminal."""
from __future__ import annotations

from ..results import GradeResult


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def render(result: GradeResult, *, failures: bool = True, width: int = 100) -> str:
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
            for t in failed:
                lines.append(f"- [{t.function} / {t.kind}] {t.name} ({t.score:g}/{t.max_score:g})")
                for out_line in t.output.splitlines()[:8]:
                    lines.append(f"    {_short(out_line, width)}")
    return "\n".join(lines)
