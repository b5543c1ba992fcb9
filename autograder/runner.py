"""Grade one submission: take it in, start its sandboxes, run the hidden checks, join.

The checks run in pytest sessions (``session.py``), one per lane. With more than one core
the check files run in lanes side by side (``config.CHECK_LANES``): each lane is a forked
copy of this grader with its own sandbox, and the lanes' results are joined in the check
files' order, so the result is the same as from one lane, only sooner.
"""
from __future__ import annotations

import ctypes
import os
import pickle
import signal
import threading
import time
from functools import partial
from pathlib import Path

from . import collect
from .config import CHECK_LANES, CHECKS
from .errors import GradingError
from .results import GradeResult
from .sandbox import Sandbox, procs


def start_sandbox(folder, isolation: str = "auto", copy: bool = True):
    """A ``Sandbox`` for the submission in ``folder``, its worker started but not waited for
    (it imports numpy meanwhile; the first check waits for it), or the exception starting
    it raised: a worker that can't start is the grader's failure, raised once a check needs
    it (``session.run_session``), and a lane without checks to run never needs it.
    ``copy=False``: ``folder`` is intake's private copy, which the sandbox uses as it is."""
    try:
        return Sandbox(folder, isolation=isolation, wait=False, copy=copy)
    except Exception as exc:  # noqa: BLE001 - raised again once a check asks for the sandbox
        return exc


def _forked_lane(sandbox, open_sandbox, files, select, figures):
    """A forked lane's checks: over the sandbox its parent started (``Sandbox.adopt``), or
    over one it opens itself (``sandbox`` None: see ``grade``)."""
    from .session import run_session  # imported already, before the fork

    if isinstance(sandbox, Sandbox):
        sandbox.adopt()
    return run_session(open_sandbox() if sandbox is None else sandbox, files, select=select,
                       figures=figures)


def _hand_over(sandbox):
    return sandbox.hand_over() if isinstance(sandbox, Sandbox) else (lambda: None)


def _close(sandbox):
    if isinstance(sandbox, Sandbox):
        sandbox.close()


def _joined(join, reap):
    try:
        return join()
    finally:
        reap()


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
        # Every lane's worker starts before this process imports pytest and the checks
        # (about a tenth of a second on one core), so the workers' own start, numpy's
        # import, runs beside it. A forked lane takes over the sandbox started for it
        # (Sandbox.adopt) where this system lets it watch a process it did not start;
        # else it starts its own.
        open_sandbox = partial(start_sandbox, sub_dir.folder, isolation, copy=False)
        adopt = procs.can_adopt()
        sandboxes = [open_sandbox()] + [open_sandbox() if adopt else None for _ in others]
        from . import session  # here, once for every lane, on purpose

        joins = []  # (join, reap): the forked lane's result, then its sandbox ended here
        try:
            for files, sandbox in zip(others, sandboxes[1:]):
                lane = partial(_forked_lane, sandbox, open_sandbox, files, select, figures)
                joins.append((_fork(lane), _hand_over(sandbox)))
            outcomes = [session.run_session(sandboxes[0], first, select=select,
                                            figures=figures)]
        except BaseException:
            for join, reap in joins:
                join(kill=True)
                reap()
            for sandbox in sandboxes:
                _close(sandbox)
            raise
        outcomes += [_joined(join, reap) for join, reap in joins]
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
