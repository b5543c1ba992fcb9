"""Gradescope's ``results.json`` (the autograder specification's format)."""
from __future__ import annotations

import functools
import json
import operator
from json.encoder import encode_basestring_ascii as _quote
from pathlib import Path

from ..results import GradeResult
from . import summary


def to_gradescope(result: GradeResult) -> dict:
    """The top-level output starts with what to fix first (repeated causes folded), then
    the submission's problems; each test keeps its own message."""
    return _top(result) | {
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


def _top(result: GradeResult) -> dict:
    """Everything of ``to_gradescope`` but the tests."""
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
    }


def dumps(result: GradeResult) -> str:
    """``json.dumps(to_gradescope(result))``, the same text, without a dict per test to
    build and encode: what every student shares (names, numbers, tags) is encoded once per
    list of checks, so a result costs only its points, statuses and messages."""
    tests = result.tests
    values = [""] * (4 * len(tests))
    values[0::4] = map(json_number, map(_SCORE, tests))
    values[1::4] = map(json_number, map(_MAX_SCORE, tests))
    values[2::4] = map(_STATUS, tests)
    values[3::4] = map(_quote, map(_OUTPUT, tests))
    tests_json = _template(tuple(map(_CHECK, tests))) % tuple(values)
    return f"{json.dumps(_top(result))[:-1]}, \"tests\": {tests_json}}}"


@functools.lru_cache(maxsize=4096, typed=True)  # a class's points take few distinct values
def json_number(value) -> str:
    """``value`` as ``json.dumps`` writes it (typed: 1 and 1.0 are two texts)."""
    return json.dumps(value)


_SCORE, _MAX_SCORE, _STATUS, _OUTPUT = (operator.attrgetter(a) for a in ("score", "max_score", "status", "output"))
_CHECK = operator.attrgetter("name", "kind", "function")


# One test as ``to_gradescope`` writes it, with a %s for each of the student's score, max
# score, status and message.
_ENTRY = ('{"name": %s, "number": "%d", "score": %%s, "max_score": %%s, "status": "%%s", '
          '"visibility": "visible", "output": %%s, "output_format": "text", "tags": [%s, %s]}')


@functools.lru_cache(maxsize=16)
def _template(checks: tuple) -> str:
    def text(value: str) -> str:
        return _quote(value).replace("%", "%%")
    return "[" + ", ".join(_ENTRY % (text(name), i, text(kind), text(function))
                           for i, (name, kind, function) in enumerate(checks, start=1)) + "]"


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
