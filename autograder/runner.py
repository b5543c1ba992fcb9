"""Run the hidden checks against one submission and score them.

The checks are ordinary pytest tests in ``autograder/checks``. This module runs them in
the grader process with a small plugin that hands each test the submission's sandbox
(the ``sub`` fixture) and turns every outcome into a ``TestResult``: points from the
test's ``check`` marker, the message from the ``Fail`` it raised, never its source code.

With more than one core the check files run in lanes side by side (``config.CHECK_LANES``):
each lane is a forked copy of this grader with its own sandbox, and the lanes' results are
joined in the check files' order, so the result is the same as from one lane, only sooner.
"""
from __future__ import annotations

import ctypes
import os
import pickle
import signal
import threading
import time
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from . import collect, judge
from .errors import GradingError
from .config import CHECK_LANES, CHECKS
from .judge import Fail
from .results import GradeResult, TestResult
from .sandbox import Sandbox


@dataclass
class LaneOutcome:
    """What one lane of checks hands back across the fork (``run_checks``)."""

    tests: dict[str, list[TestResult]]  # check file -> its results, in the order they ran
    internal: list[str]  # the grader's own errors inside checks, for the instructor
    figures: dict[str, bytes]  # feedback figures drawn from verified results (batch only)
    isolation: str | None  # the lane's sandbox, None when no check of it ran
    deaths: list[str]  # student processes that died abruptly (see Sandbox.deaths)


def _metadata(item) -> dict:
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
        except Exception as exc:  # noqa: BLE001 - raised again by run_checks, after pytest
            self.sandbox_error = exc
            session.shouldfail = "the sandbox did not open"

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        # The gate (judge.gate) runs inside the call, so a verifier's own error is reported
        # as the grader's, like any error of a check that is not a Fail.
        meta = _metadata(item)
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
        self.results.setdefault(item.path.name, []).append(TestResult(
            name=meta["name"], function=meta["function"] or "?", kind=meta["kind"],
            score=score, max_score=points, output=output))


# pytest's plugins the checks never use (no tmp_path, monkeypatch, unittest, doctest, pdb,
# setup plans, JUnit or pastebin, subtests; warnings are ignored as a whole, below): each
# costs hook calls on every one of a grade's ~290 checks (together about a tenth of a lane's
# pytest overhead, bench/profile_grade.py).
_UNUSED_PLUGINS = ("warnings", "tmpdir", "legacypath", "monkeypatch", "recwarn", "unittest",
                   "doctest", "debugging", "setuponly", "setupplan", "junitxml", "pastebin",
                   "subtests")


def run_checks(folder, files=None, *, isolation: str = "auto", select: str | None = None,
               figures: bool = False, copy: bool = True) -> LaneOutcome:
    """Run the hidden checks (``files``: the check files' names, default all) on the
    submission in ``folder``, in a sandbox of its own. ``figures``: also draw the feedback's
    figures, in this process, from the results the checks verified (``judge.draw_figures``).
    ``copy=False``: ``folder`` is intake's private copy, which the sandbox uses as it is."""
    # The worker starts now and imports numpy while pytest collects the checks; the first
    # check waits for it (``Sandbox.ready``), and a worker that never gets ready is the
    # grader's failure, raised below as when the sandbox does not open.
    try:
        early = Sandbox(folder, isolation=isolation, wait=False, copy=copy)
    except Exception as exc:  # noqa: BLE001 - raised again once pytest asks for the sandbox
        early = exc
    scorer = _Scorer(partial(_ready, early))
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
            "--capture=no"]
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
        if not isinstance(early, Exception):
            early.close()
    if scorer.sandbox_error is not None:
        raise scorer.sandbox_error
    if scorer.collect_errors or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise GradingError("the hidden checks could not be collected:\n" + "\n".join(scorer.collect_errors))
    sandbox = scorer.sandbox
    return LaneOutcome(scorer.results, scorer.internal, scorer.rendered,
                       sandbox.isolation if sandbox else None,
                       list(sandbox.deaths) if sandbox else [])


def _ready(sandbox):
    if isinstance(sandbox, Exception):
        raise sandbox
    sandbox.ready()
    return sandbox


def usable_cores(cpu_max: str = "/sys/fs/cgroup/cpu.max") -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup CPU quota (a
    container held to one CPU on a many-core host, as graders often are)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        with open(cpu_max) as f:
            quota, period = f.read().split()
        if quota != "max":
            cores = min(cores or 1, int(quota) // int(period))
    except (OSError, ValueError):
        pass
    return max(1, cores or 1)


def lanes(count: int | None = None) -> list[list[str]]:
    """The check files in ``count`` lanes (default: ``$AUTOGRADER_LANES``, else
    ``config.CHECK_LANES`` when this process may use more than one core and runs no other
    thread, else one lane: a forked copy of a process with other threads may find a lock
    one of them held locked for ever). A check file the configuration does not name runs in
    the last lane."""
    files = sorted(p.name for p in CHECKS.glob("test_*.py"))
    if count is None and os.environ.get("AUTOGRADER_LANES"):
        try:
            count = int(os.environ["AUTOGRADER_LANES"])
        except ValueError:
            raise GradingError(f"AUTOGRADER_LANES must be a whole number, not "
                               f"{os.environ['AUTOGRADER_LANES']!r}") from None
    if count is None:
        count = len(CHECK_LANES) if usable_cores() > 1 and threading.active_count() == 1 else 1
    if count <= 1:
        return [files]
    out = [[f"test_{m}.py" for m in lane if f"test_{m}.py" in files]
           for lane in CHECK_LANES[:count]]
    named = {f for lane in out for f in lane}
    out[-1] += [f for f in files if f not in named]
    return [lane for lane in out if lane]


def _die_with_parent(parent: int) -> None:
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux/glibc: the lane may outlive a killed grader
        pass
    if os.getppid() != parent:
        os._exit(1)


def _fork(fn, *args):
    """Start ``fn(*args)`` in a forked copy of this grader. Returns ``join``: it waits for
    the copy and returns what ``fn`` returned, or raises what it raised; ``join(kill=True)``
    stops it instead."""
    parent = os.getpid()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the copy: report back and leave at once, skipping the parent's clean-ups
        status = 0
        try:
            os.close(r)
            _die_with_parent(parent)
            try:
                out = ("return", fn(*args))
            except Exception as exc:  # noqa: BLE001 - handed to the parent as it is
                out = ("raise", exc)
            with os.fdopen(w, "wb") as f:
                f.write(pickle.dumps(out))
        except BaseException:  # noqa: BLE001
            status = 70
        finally:
            os._exit(status)
    os.close(w)

    def join(kill: bool = False):
        if kill:
            os.kill(pid, signal.SIGKILL)
        with os.fdopen(r, "rb") as f:
            data = f.read()
        os.waitpid(pid, 0)
        if kill:
            return None
        if not data:
            raise GradingError("a lane of the grader died before it reported its checks")
        how, value = pickle.loads(data)  # our own forked copy wrote it: trusted
        if how == "raise":
            raise value
        return value

    return join


def grade(path, *, select: str | None = None, isolation: str | None = None,
          lane_count: int | None = None, figures: bool = False) -> GradeResult:
    """Grade one submission folder or zip and return its ``GradeResult``.

    ``select``: a pytest ``-k`` expression choosing among the hidden checks (default: all,
    or ``$AUTOGRADER_SELECT``). ``isolation``: ``"auto"``, ``"bubblewrap"`` or ``"process"``
    (default ``$AUTOGRADER_ISOLATION``, else ``"auto"``); see SECURITY.md. ``lane_count``:
    how many lanes of checks run side by side (default: see ``lanes``). ``figures``: draw the
    experiments' figures for the feedback too (``GradeResult.figures``; batch's Markdown
    feedback asks for them), from the results the grader verified, never by student code."""
    start = time.perf_counter()
    select = select or os.environ.get("AUTOGRADER_SELECT") or None
    isolation = isolation or os.environ.get("AUTOGRADER_ISOLATION") or "auto"
    with collect.submission(Path(path)) as sub_dir:
        problems = collect.problems(sub_dir.folder, sub_dir.found)
        first, *others = lanes(lane_count)
        lane = partial(run_checks, sub_dir.folder, isolation=isolation, select=select,
                       figures=figures, copy=False)
        joins = [_fork(lane, files) for files in others]
        try:
            outcomes = [lane(first)]
        except BaseException:
            for join in joins:
                join(kill=True)
            raise
        outcomes += [join() for join in joins]
    by_file, internal, figures, isolations, deaths = {}, [], {}, [], []
    for lane in outcomes:
        by_file.update(lane.tests)
        internal += lane.internal
        figures.update(lane.figures)
        isolations += [lane.isolation] if lane.isolation not in (None, *isolations) else []
        deaths += lane.deaths
    # in the check files' order whatever the lanes, so a grade reads as from one lane
    tests = [t for f in sorted(by_file) for t in by_file[f]]
    for t in tests:  # a notebook's student never had the .py: name the notebook's cell
        t.output = sub_dir.locate(t.output)
    return GradeResult(str(path), tests, " + ".join(isolations) or "none (no check ran)",
                       round(time.perf_counter() - start, 3), sub_dir.notes + problems,
                       internal, figures, deaths)
