"""Per-student feedback in Markdown: the score, a table per function and kind, and every
lost point with the message its check wrote (never the check's code)."""
from __future__ import annotations

import re

from ..results import GradeResult

HONEST = ("These results come from the hidden autograder. Every failed check below says what "
          "was called, on which input, what was expected and what came back.")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _fence(text: str) -> str:
    """A code fence longer than any backtick run in ``text`` (student output may hold some)."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def render(result: GradeResult, student: str, figures: dict[str, str] | None = None) -> str:
    """``figures``: the figure names of ``result.figures`` -> where the PNG is, relative to
    the feedback file (the caller writes them)."""
    lines = [f"# Feedback for {student}", "",
             f"**Score: {result.score:g} / {result.max_score:g}**", "", HONEST, ""]
    if result.problems:
        lines += ["## About your submission", ""] + [f"- {p}" for p in result.problems] + [""]
    kinds = sorted({t.kind for t in result.tests})
    cells: dict[str, dict[str, list[float]]] = {}
    for t in result.tests:
        cell = cells.setdefault(t.function, {}).setdefault(t.kind, [0.0, 0.0])
        cell[0] += t.score
        cell[1] += t.max_score
    if cells:
        lines += ["| function | " + " | ".join(kinds) + " | total |",
                  "| --- | " + " | ".join("---:" for _ in kinds) + " | ---: |"]
        for function, (score, most) in result.by_function().items():
            parts = [f"{c[0]:g} / {c[1]:g}" if (c := cells[function].get(k)) else "-" for k in kinds]
            lines.append(f"| `{_cell(function)}` | " + " | ".join(parts) + f" | {score:g} / {most:g} |")
        lines.append("")
    if figures:
        lines += ["## Your figures", "", "What your experiments drew, as the grader ran them:", ""]
        lines += [f"![{_cell(name)}]({link})" for name, link in figures.items()] + [""]
    failed = [(i, t) for i, t in enumerate(result.tests, start=1) if not t.passed]
    if failed:
        lines += [f"## What to fix ({len(failed)} checks)", ""]
        for number, t in failed:
            lines += [f"### {number}. `{_cell(t.function)}` ({t.kind}): {t.name} "
                      f"({t.score:g} / {t.max_score:g})", "", _fence(t.output.rstrip()), ""]
    elif result.tests:
        lines += ["Every check passed.", ""]
    return "\n".join(lines)


def render_error(student: str, error: str, grader_fault: bool) -> str:
    """Feedback for a submission that could not be graded at all."""
    why = ("The autograder itself failed on your submission; this is not your grade and your "
           "instructor has been told." if grader_fault else
           "Your submission could not be graded, so it scores 0. Fix this and submit again.")
    return "\n".join([f"# Feedback for {student}", "", why, "", _fence(error), ""])
