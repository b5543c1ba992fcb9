"""Per-student feedback in Markdown: the score and the few things to fix first, a table per
function and kind, then every lost point with the message its check wrote (never the
check's code), checks that failed for one shared cause folded into one entry."""
from __future__ import annotations

import re

from ..results import GradeResult
from . import summary

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
             f"**Score: {result.score:g} / {result.max_score:g}**", ""]
    entries = summary.fold(result)
    if entries:
        lines += ["## Fix these first", ""]
        lines += [f"{i}. {summary.headline(e)}" for i, e in enumerate(summary.first(entries), 1)]
        lines.append("")
    lines += [HONEST, ""]
    if result.problems:
        lines += ["## About your submission", ""] + [f"- {p}" for p in result.problems] + [""]
    cells: dict[str, dict[str, list[float]]] = {}
    for t in result.tests:
        cell = cells.setdefault(t.function, {}).setdefault(t.kind, [0.0, 0.0])
        cell[0] += t.score
        cell[1] += t.max_score
    kinds = sorted({kind for by_kind in cells.values() for kind in by_kind})
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
    if entries:
        numbers = {id(t): i for i, t in enumerate(result.tests, start=1)}
        failed = sum(len(e.tests) for e in entries)
        lines += [f"## What to fix ({failed} checks)", ""]
        for e in entries:
            t = e.tests[0]
            if len(e.tests) == 1:
                lines += [f"### {numbers[id(t)]}. `{_cell(t.function)}` ({t.kind}): {t.name} "
                          f"({t.score:g} / {t.max_score:g})", "", _fence(t.output.rstrip()), ""]
                continue
            lines += [f"### {len(e.tests)} checks failed for one cause: "
                      + ", ".join(f"`{_cell(f)}`" for f in e.functions)
                      + f" (lost {e.lost:g} points)", "", _fence(e.cause), "",
                      "The checks: " + "; ".join(f"{numbers[id(c)]}. {_cell(c.name)}"
                                                 for c in e.tests) + ".", "",
                      "The first of them said:", "", _fence(t.output.rstrip()), ""]
    elif result.tests:
        lines += ["Every check passed.", ""]
    return "\n".join(lines)


def render_error(student: str, error: str, grader_fault: bool) -> str:
    """Feedback for a submission that could not be graded at all."""
    why = ("The autograder itself failed on your submission; this is not your grade. The "
           "batch's summary lists it for your instructor, and the next run grades it again."
           if grader_fault else
           "Your submission could not be graded, so it scores 0. Fix this and submit again.")
    return "\n".join([f"# Feedback for {student}", "", why, "", _fence(error), ""])
