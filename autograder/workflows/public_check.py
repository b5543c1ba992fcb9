"""``python -m autograder check``: the public sample, run in the sandbox, judged as the bundle
judges it.

The cases are the bundle's (``release.public_checks``, from ``public_cases.py``): each call is
made in the submission's sandbox (never in this process) and its outcome, plain data, is
judged by the bundle's own ``verdict`` (``templates/test_public.py``, loaded from its file,
not copied), so ``check`` and ``python -m pytest test_public.py`` run the same cases with
the same names and give the same verdicts on the same submission.
"""
from __future__ import annotations

import importlib.util
import time
from functools import lru_cache
from pathlib import Path

from .. import collect, config
from .release import TEMPLATES, public_checks
from ..results import GradeResult, TestResult
from ..sandbox import FunctionRef, Sandbox


@lru_cache(maxsize=None)
def judge():
    """The bundle's test_public.py as a module (it imports nothing of the student's)."""
    spec = importlib.util.spec_from_file_location("public_sample_judge", TEMPLATES / "test_public.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def outcome(sb: Sandbox, case: dict) -> dict:
    """Make the case's call in the sandbox; the outcome ``verdict`` judges (see
    test_public.call_here, which makes it on the student's machine)."""
    resolve = FunctionRef
    args = judge().decode(case["args"], resolve)
    kwargs = {k: judge().decode(v, resolve) for k, v in case["kwargs"].items()}
    r = sb.call(case["module"], case["function"], *args, kwargs=kwargs, timeout=case["timeout"])
    out = {"value": r.value if r.ok else None, "error": None if r.ok else r.error,
           "warnings": list(r.warnings), "printed": r.output, "args_after": list(r.args_after),
           "kwargs_after": dict(r.kwargs_after), "aliases": r.aliases, "lines": None,
           "lines_error": None}
    if r.ok and case.get("vector"):
        lo, hi, sizes = case["vector"]
        np = judge().np
        n = sb.count_lines(case["module"], case["function"], [np.linspace(lo, hi, k) for k in sizes],
                           *args[1:], kwargs=kwargs, readonly=False)
        out["lines"], out["lines_error"] = (n.lines, None) if n.ok else (None, n.error)
    return out


@lru_cache(maxsize=None)
def cases() -> tuple:
    """The bundle's cases (the reference's runs are made once per process)."""
    return tuple(public_checks()["cases"])


def run(path, level: int | None = None, modules: tuple | None = None) -> GradeResult:
    """The public sample on the submission at ``path`` (a folder or zip): one ``TestResult``
    per case, named by the case's id, worth one point. ``modules``: only their cases."""
    start = time.perf_counter()
    chosen = [c for c in cases() if modules is None or c["module"] in modules]
    level = level or config.HINT_LEVEL
    tests, internal = [], []
    with collect.submission(Path(path)) as sub_dir, Sandbox(sub_dir.folder) as sb:
        problems = collect.problems(sub_dir.folder, sub_dir.found)
        for case in chosen:
            try:
                why = judge().verdict(case, outcome(sb, case), level,
                                      "python -m autograder check --hints {n}")
            except Exception as exc:  # noqa: BLE001 - the grader's fault, not the student's
                internal.append(f"{case['id']}: {type(exc).__name__}: {exc}")
                why = ("The grader could not judge what your code returned here; your "
                       "instructor has been told.")
            tests.append(TestResult(name=case["id"], function=case["function"],
                                    kind=case["kind"], score=0.0 if why else 1.0, max_score=1.0,
                                    output=sub_dir.locate(why or ""), public=True))
        isolation = sb.isolation
    return GradeResult(str(path), tests, isolation, round(time.perf_counter() - start, 3),
                       sub_dir.notes + problems, internal)
