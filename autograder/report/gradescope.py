"""Gradescope's ``results.json`` (the autograder specification's format)."""
from __future__ import annotations

import json
from pathlib import Path

from ..results import GradeResult
from . import summary


def to_gradescope(result: GradeResult) -> dict:
    """The top-level output starts with what to fix first (repeated causes folded), then
    the submission's problems; each test keeps its own message."""
    first = summary.first(summary.fold(result))
    lines = ([f"Score: {result.score:g} / {result.max_score:g}. Fix these first:"]
             + [f"{i}. {summary.headline(e).replace('`', '')}" for i, e in enumerate(first, 1)]
             + [""] if first else [])
    lines += result.problems + [f"Isolation: {result.isolation}."]
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "output": "\n".join(lines),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"max_score": result.max_score, "isolation": result.isolation},
        "tests": [
            {
                "name": t.name,
                "number": str(i),
                "score": t.score,
                "max_score": t.max_score,
                "status": t.status,
                "visibility": "visible",
                "output": t.output,
                "output_format": "text",
                "tags": [t.kind, t.function],
            }
            for i, t in enumerate(result.tests, start=1)
        ],
    }


def write(result: GradeResult, path: Path) -> None:
    """Write atomically, so a reader never sees half a file; a path that is not a regular
    file (``/dev/stdout``, ``/dev/null``, a pipe) is written to as it is, never replaced."""
    path = Path(path)
    text = json.dumps(to_gradescope(result), indent=2)
    if path.exists() and not path.is_file():
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
