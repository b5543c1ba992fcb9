"""Run the hidden checks against one submission and score them.

The checks are ordinary pytest tests in ``autograder/checks``. This module runs them in
the grader process with a small plugin that hands each test the submission's sandbox
(the ``sub`` fixture) and turns every outcome into a ``TestResult``: points from the
test's ``check`` marker, the message from the ``Fail`` it raised, never its source code.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from . import collect
from .config import CHECKS
from .judge import Fail
from .results import GradeResult, TestResult
from .sandbox import Sandbox


class GradingError(RuntimeError):
    """The grader itself could not grade (not the student's fault)."""


def _metadata(item) -> dict:
    marker = item.get_closest_marker("check")
    if marker is None:
        raise GradingError(f"hidden test {item.nodeid} has no @pytest.mark.check marker")
    params = getattr(getattr(item, "callspec", None), "params", {})
    meta = {"points": 1.0, "public": False, **marker.kwargs}
    meta.setdefault("function", params.get("function"))
    meta["name"] = meta.get("name", item.name).format(**params)
    return meta


def _unread_failure(excinfo, style=None) -> str:
    return f"{excinfo.typename} (see the check's message)"


class _Scorer:
    """The pytest plugin: provides ``sub`` and records one ``TestResult`` per test."""

    def __init__(self, sandbox: Sandbox, only_public: bool):
        self.sandbox = sandbox
        self.only_public = only_public
        self.results: list[TestResult] = []
        self.rendered: dict[str, bytes] = {}
        self.internal: list[str] = []
        self.collect_errors: list[str] = []

    @pytest.fixture(scope="session")
    def sub(self) -> Sandbox:
        return self.sandbox

    @pytest.fixture(scope="session")
    def figures(self) -> dict[str, bytes]:
        """Checks put the PNGs the student's experiments rendered here (name -> bytes),
        for the feedback."""
        return self.rendered

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "check(function, kind, points, name, public): a graded check")

    def pytest_collection_modifyitems(self, config, items):
        if self.only_public:
            keep = [i for i in items if _metadata(i)["public"]]
            config.hook.pytest_deselected(items=[i for i in items if i not in keep])
            items[:] = keep

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        if call.when != "call" and call.excinfo is None:
            return
        if call.when == "teardown":
            return
        # The verdict and message are ours (below); pytest's own traceback of a failed check
        # would never be read and costs most of the time of grading a failing submission.
        item.repr_failure = _unread_failure
        meta = _metadata(item)
        points = float(meta["points"])
        exc = call.excinfo.value if call.excinfo else None
        if exc is None:
            score, output = points, ""
        elif isinstance(exc, Fail):
            score, output = round(points * exc.fraction, 6), exc.message
        else:
            score = 0.0
            output = ("The grader could not judge what your code returned here "
                      f"({type(exc).__name__}); your instructor has been told.")
            self.internal.append(f"{item.nodeid}: {type(exc).__name__}: {exc}")
        self.results.append(TestResult(
            name=meta["name"], function=meta["function"] or "?", kind=meta["kind"],
            score=score, max_score=points, output=output, public=bool(meta["public"])))


def run_checks(sandbox: Sandbox, *, only_public: bool = False, select: str | None = None):
    """Run the hidden checks on an open sandbox; return (results, internal errors, figures)."""
    scorer = _Scorer(sandbox, only_public)
    args = [str(CHECKS), "-p", "no:cacheprovider", "-p", "no:terminal",
            "-p", "no:stepwise", "-c", os.devnull, "--rootdir", str(CHECKS),
            "--import-mode=importlib", "-o", "python_files=test_*.py", "-W", "ignore"]
    if select:
        args += ["-k", select]
    os.environ.setdefault("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    code = pytest.main(args, plugins=[scorer])
    if scorer.collect_errors or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise GradingError("the hidden checks could not be collected:\n" + "\n".join(scorer.collect_errors))
    return scorer.results, scorer.internal, scorer.rendered


def grade(path, *, only_public: bool = False, select: str | None = None,
          isolation: str | None = None) -> GradeResult:
    """Grade one submission folder or zip and return its ``GradeResult``.

    ``select``: a pytest ``-k`` expression choosing among the hidden checks (default: all,
    or ``$AUTOGRADER_SELECT``). ``isolation``: ``"auto"``, ``"bubblewrap"`` or ``"process"``
    (default ``$AUTOGRADER_ISOLATION``, else ``"auto"``); see SECURITY.md."""
    start = time.perf_counter()
    select = select or os.environ.get("AUTOGRADER_SELECT") or None
    isolation = isolation or os.environ.get("AUTOGRADER_ISOLATION") or "auto"
    with collect.submission(Path(path)) as sub_dir:
        problems = collect.problems(sub_dir.folder)
        with Sandbox(sub_dir.folder, isolation=isolation) as sandbox:
            tests, internal, figures = run_checks(sandbox, only_public=only_public, select=select)
            isolation = sandbox.isolation
            deaths = list(sandbox.deaths)
    return GradeResult(str(path), tests, isolation, round(time.perf_counter() - start, 3),
                       sub_dir.notes + problems, internal, figures, deaths)
