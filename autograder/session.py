"""One pytest session of the hidden checks over one submission's sandbox, scored.

The checks are ordinary pytest tests in ``autograder/checks``. A small plugin hands each
test the sandbox (the ``sub`` fixture) and turns every outcome into a ``TestResult``: points
from the test's ``check`` marker, the message from the ``Fail`` it raised, never its source
code. ``runner`` runs one session per lane.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import partial

import numpy.random  # noqa: F401 - numpy loads it on first use: here, once before the fork
import pytest

# What every lane's checks share, imported once before the lanes fork rather than in each.
from . import contract, judge, replays  # noqa: F401
from .config import CHECKS
from .errors import GradingError
from .judge import Fail
from .results import TestResult
from .sandbox import Sandbox


@dataclass
class LaneOutcome:
    """What one session of checks hands back (across the fork, from a lane)."""

    tests: dict[str, list[TestResult]]  # check file -> its results, in the order they ran
    internal: list[str]  # the grader's own errors inside checks, for the instructor
    figures: dict[str, bytes]  # feedback figures drawn from verified results (batch only)
    isolation: str | None  # the lane's sandbox, None when no check of it ran
    deaths: list[str]  # student processes that died abruptly (see Sandbox.deaths)


def metadata(item) -> dict:
    """A check's marker as plain data: points, kind, function, name (its parameters filled in)."""
    marker = item.get_closest_marker("check")
    if marker is None:
        raise GradingError(f"hidden test {item.nodeid} has no @pytest.mark.check marker")
    params = getattr(getattr(item, "callspec", None), "params", {})
    meta = {"points": 1.0, **marker.kwargs}
    meta.setdefault("function", params.get("function"))
    meta["name"] = meta.get("name", item.name).format(**params)
    return meta


def _unread_failure(excinfo, style=None) -> str:
    return f"{excinfo.typename} (see the check's message)"


class _Scorer:
    """The pytest plugin: opens the sandbox, provides it as ``sub`` and records one
    ``TestResult`` per test."""

    def __init__(self, open_sandbox):
        self.open_sandbox = open_sandbox  # () -> Sandbox
        self.sandbox: Sandbox | None = None
        self.sandbox_error: Exception | None = None
        self.results: dict[str, list[TestResult]] = {}
        self.rendered: dict[str, bytes] = {}
        self.internal: list[str] = []
        self.collect_errors: list[str] = []

    @pytest.fixture(scope="session")
    def sub(self) -> Sandbox:
        return self.sandbox

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "check(function, kind, points, name): a graded check")

    def pytest_collection_finish(self, session):
        # The sandbox opens once the checks to run are known.
        if not session.items:
            return  # nothing of the student's to run here: no sandbox either
        try:
            self.sandbox = self.open_sandbox()
        except Exception as exc:  # noqa: BLE001 - raised again by run_session, after pytest
            self.sandbox_error = exc
            session.shouldfail = "the sandbox did not open"

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        # The gate (judge.gate) runs inside the call, so a verifier's own error is reported
        # as the grader's, like any error of a check that is not a Fail.
        meta = metadata(item)
        judge.begin_check(self.sandbox, meta["function"])
        try:
            result = yield
        except Fail:
            reason = judge.gate(meta["kind"])
            if reason:
                raise Fail(reason) from None
            raise
        reason = judge.gate(meta["kind"])
        if reason:
            raise Fail(reason)
        return result

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        if call.when != "call" and call.excinfo is None:
            return
        if call.when == "teardown":
            return
        # The verdict and message are ours (below); pytest's own traceback of a failed check
        # would never be read and costs most of the time of grading a failing submission.
        item.repr_failure = _unread_failure
        meta = metadata(item)
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
        self.results.setdefault(item.path.name, []).append(TestResult(
            name=meta["name"], function=meta["function"] or "?", kind=meta["kind"],
            score=score, max_score=points, output=output))


# pytest's plugins the checks never use (no tmp_path, monkeypatch, unittest, doctest, pdb,
# setup plans, JUnit or pastebin, subtests, skip or xfail marks; warnings are ignored as a
# whole, below): each costs hook calls on every one of a grade's ~290 checks (together
# about a tenth of a lane's pytest overhead, bench/profile_grade.py).
_UNUSED_PLUGINS = ("warnings", "tmpdir", "legacypath", "monkeypatch", "recwarn", "unittest",
                   "doctest", "debugging", "setuponly", "setupplan", "junitxml", "pastebin",
                   "subtests", "skipping")


def run_session(sandbox, files=None, *, select: str | None = None,
                figures: bool = False) -> LaneOutcome:
    """Run the hidden checks (``files``: the check files' names, default all) in one pytest
    session over ``sandbox``: a started ``Sandbox`` (the first check waits until it is
    ready), or the exception that starting it raised, raised again once a check needs it.
    The sandbox is closed at the end. ``figures``: also draw the feedback's figures, in
    this process, from the results the checks verified (``judge.draw_figures``)."""
    scorer = _Scorer(partial(_ready, sandbox))
    paths = [str(CHECKS / f) for f in files] if files is not None else [str(CHECKS)]
    args = [*paths, "-p", "no:cacheprovider", "-p", "no:terminal",
            "-p", "no:stepwise", "-c", os.devnull, "--rootdir", str(CHECKS),
            "--import-mode=importlib", "-o", "python_files=test_*.py", "-W", "ignore",
            # the checks raise Fail, never a bare assert: rewriting them costs every run 0.08 s
            "--assert=plain",
            # nor do they leave unraisable exceptions to report: that plugin's two full
            # garbage collections at the session's end cost every lane about 25 ms
            "-p", "no:unraisableexception",
            # nor log, print or start threads: capturing each check's output and logs and
            # watching its threads was about a tenth of a lane's own time
            "-p", "no:logging", "-p", "no:threadexception", "-p", "no:faulthandler",
            "-p", "no:capture"]
    for plugin in _UNUSED_PLUGINS:
        args += ["-p", f"no:{plugin}"]
    if select:
        args += ["-k", select]
    os.environ.setdefault("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    try:
        with warnings.catch_warnings():  # what -W ignore did with pytest's warnings plugin
            warnings.simplefilter("ignore")
            code = pytest.main(args, plugins=[scorer])
        if figures and scorer.sandbox is not None:
            scorer.rendered = judge.draw_figures(scorer.sandbox)
    finally:
        if not isinstance(sandbox, Exception):
            sandbox.close()
    if scorer.sandbox_error is not None:
        raise scorer.sandbox_error
    if scorer.collect_errors or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise GradingError("the hidden checks could not be collected:\n" + "\n".join(scorer.collect_errors))
    used = scorer.sandbox
    return LaneOutcome(scorer.results, scorer.internal, scorer.rendered,
                       used.isolation if used else None,
                       list(used.deaths) if used else [])


def _ready(sandbox):
    if isinstance(sandbox, Exception):
        raise sandbox
    sandbox.ready()
    return sandbox
