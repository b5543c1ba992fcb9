"""Grade a whole class: every submission in a folder, in parallel, into one gradebook.

    python -m autograder batch SUBMISSIONS --out DIR [--jobs N] [--regrade] [--assignment NAME]

SUBMISSIONS holds one entry per student, named after the student: a folder, a ``.zip``, or
nbgrader's ``submitted/<student>/<assignment>/`` (pass ``--assignment``; without it, intake
grades the one folder inside the student's that holds the modules, and notes it). DIR gets:

- ``gradebook.sqlite``, the record (see ``gradebook.py``);
- ``grades.csv`` and ``grades_long.csv``, exported from it;
- ``feedback/<student>.md`` (the figures the grader drew from the student's verified
  results beside it, in ``feedback/<student>/``: hard links to ``feedback/.figures/``, which
  holds each distinct PNG once) and ``results/<student>.json`` (Gradescope's format,
  compact).

Resumable: each submission is committed on its own as soon as it is graded, together with
the key it was graded under: a hash of its files and a fingerprint of the grader. A rerun
grades only what has no row, changed, was graded by another grader, or failed through the
grader's own fault. Each result's feedback and results.json are written as soon as it is
committed; the gradebook lists the commits whose exports are not written yet, so a rerun
writes exactly those (and any export gone missing) again, never the whole class: a batch
killed at any moment loses at most the submissions in flight.

Grader processes are long-lived: each one grades submission after submission
(``runner.grade`` in a loop), saving the interpreter, numpy, pytest and reference start-up
every time. Student code never runs in them (it runs in each grade's own sandbox), so one
submission leaves nothing behind for the next.

Faults from outside are never recorded as a student's grade:

- a grade during which a process running the student's code died abruptly (killed,
  crashed, exited) is confirmed by grading again: a clean grade, or two that agree check by
  check, is kept (a submission that kills its own worker does so every time); otherwise the
  row says the grader failed, and the next run grades it again;
- a grader process that dies (the out-of-memory killer, a stray ``kill``) costs only the
  submission it held, which a new grader process grades once more;
- when the output folder can't be written (a full disk), the batch stops at once with
  ``OutputError``; every submission committed before stays, and a rerun resumes.
"""
from __future__ import annotations

import dataclasses
import errno
import hashlib
import importlib.metadata
import itertools
import multiprocessing
import os
import platform
import re
import shutil
import sqlite3
import stat
import sys
import tempfile
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from multiprocessing.connection import wait
from pathlib import Path

from .. import config
from . import gradebook
from ..collect import SubmissionError
from ..report import gradescope, markdown
from ..results import GradeResult
from ..runner import GradingError

PACKAGE = Path(__file__).resolve().parent.parent  # the autograder package
# Parts of the package that only present a verdict or run the workflows. Every other file
# of the package, and the reference, goes into the grader fingerprint: a new module counts
# as deciding verdicts unless it is in one of these, so a forgotten one costs a regrade,
# never a stale grade.
PRESENTATION = frozenset({"report", "workflows", "cli.py", "__main__.py"})


# A grade in which student processes died abruptly is kept only once confirmed; after this
# many grades that neither ran clean nor agreed, the submission is left to the next run.
GRADE_ATTEMPTS = 3


class OutputError(GradingError):
    """The batch could not write its output folder (a full disk, a file size limit, ...)."""


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path                  # what is graded: a folder or a zip
    problem: str | None = None  # why this entry can't be graded at all
    # An LMS export's loose files (Canvas): (file in the folder, the name the student gave it)
    files: tuple = ()
    content_hash: str | None = None  # of ``path`` (``content_hash``), once the batch hashed it

    def source(self, folder: Path) -> str:
        """What was graded, for the record: a path in ``folder``, or the LMS's file names."""
        if self.files:
            return ", ".join(f.name for f, _ in self.files)
        return self.path.relative_to(folder).as_posix()


# Canvas's "Download Submissions": <lastfirst>[_LATE]_<canvas id>_<submission id>_<file name>,
# loose in one folder, a resubmitted file's name ending in -1, -2, ...
CANVAS = re.compile(r"^(?P<student>[a-z0-9]+)(?:_LATE)?_(?P<canvas_id>\d+)_(?:\d+_)?(?P<name>.+)$")
# Moodle's "Download all submissions": a folder per student, "<Full Name>_<id>_assignsubmission_file_"
MOODLE = re.compile(r"^(?P<student>.+_\d+)_assignsubmission_\w+_?$")


def _canvas_name(name: str) -> str:
    return re.sub(r"-\d+(?=\.[A-Za-z]+$)", "", name)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(root: Path):
    """Every file under ``root`` in a fixed order; symbolic links are listed, not followed."""
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        links = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        for name in sorted(files + links):
            yield Path(folder, name)


def _line(path: Path, base: Path) -> bytes:
    rel = path.relative_to(base).as_posix()
    if path.is_symlink():
        line = f"L {rel} -> {os.readlink(path)}"
    elif stat.S_ISREG(path.stat().st_mode):
        line = f"F {rel} {_digest(path)}"
    else:  # a pipe or a device: never read it
        line = f"O {rel}"
    return (line + "\n").encode("utf-8", "surrogateescape")


def content_hash(path: Path) -> str:
    """sha256 over a submission's files: a folder's names and contents, or a zip's bytes."""
    h = hashlib.sha256()
    if path.is_dir():
        for f in _files(path):
            h.update(_line(f, path))
    else:
        h.update(f"Z {_digest(path)}".encode())
    return h.hexdigest()


def grader_fingerprint() -> str:
    """A hash of everything that decides a verdict: the package minus ``PRESENTATION``, the
    reference, and the numpy and Python versions. A change to any of them regrades all."""
    h = hashlib.sha256()
    for root in [p for p in sorted(PACKAGE.iterdir()) if p.name not in PRESENTATION] + [config.SOLUTIONS]:
        for f in _files(root) if root.is_dir() else [root]:
            rel = f.relative_to(config.ROOT)
            if not any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
                h.update(_line(f, config.ROOT))
    h.update(f"numpy {importlib.metadata.version('numpy')} python {platform.python_version()}".encode())
    if os.environ.get("AUTOGRADER_SELECT"):  # only some of the checks run: another grader
        h.update(f"select {os.environ['AUTOGRADER_SELECT']}".encode())
    return h.hexdigest()[:16]


def handed_in(sub: Submission) -> str:
    """When ``sub`` was handed in, in UTC ISO 8601: nbgrader's ``timestamp.txt`` when there is
    one (what its late penalty uses), else the time of its newest file."""
    stamp = sub.path / "timestamp.txt" if sub.path.is_dir() and not sub.files else None
    if stamp is not None and stamp.is_file():
        text = stamp.read_text(encoding="utf-8", errors="replace").strip().removesuffix(" UTC")
        try:
            when = datetime.fromisoformat(text)
            when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
            return when.astimezone(timezone.utc).isoformat(timespec="seconds")
        except ValueError:
            pass
    paths = [f for f, _ in sub.files] or ([sub.path] if not sub.path.is_dir() else
                                           [p for p in _files(sub.path) if not p.is_symlink()])
    newest = max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)
    return datetime.fromtimestamp(newest, timezone.utc).isoformat(timespec="seconds")


def _key(sub: Submission) -> str:
    """What a grade is valid for: the files, and for an entry that can't be graded, why."""
    if sub.files:
        files = hashlib.sha256("".join(f"{name} {_digest(f)}\n" for f, name in sub.files)
                               .encode()).hexdigest()
    else:
        files = content_hash(sub.path) if sub.path.exists() else ""
    return hashlib.sha256(f"{files} {sub.problem}".encode()).hexdigest() if sub.problem else files


def discover(folder: Path, assignment: str | None = None, skip: Path | None = None) -> list[Submission]:
    """Every submission in ``folder``, one per student, sorted by student id. Besides one
    folder or zip per student (nbgrader's layout with ``assignment``), Canvas's loose files
    (``CANVAS``) are grouped per student and Moodle's folders (``MOODLE``) named after the
    student and their id."""
    by_student: dict[str, list[Path]] = {}
    canvas_files: dict[str, list[tuple[Path, str]]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__MACOSX" or entry == skip:
            continue
        zipped = entry.is_file() and entry.suffix.lower() == ".zip"
        canvas = CANVAS.match(entry.name) if entry.is_file() and not zipped else None
        moodle = MOODLE.match(entry.name) if entry.is_dir() else None
        if canvas:
            canvas_files.setdefault(canvas["student"], []).append(
                (entry, _canvas_name(canvas["name"])))
            continue
        student = moodle["student"] if moodle else entry.stem if zipped else entry.name
        by_student.setdefault(student, []).append(entry)
    found = []
    for student, files in canvas_files.items():
        if student in by_student:
            by_student[student] += [f for f, _ in files]  # refused below: two submissions
        else:
            found.append(Submission(student, folder, files=tuple(files)))
    for student, entries in by_student.items():
        entry, problem = entries[0], None
        if len(entries) > 1:
            problem = (f"There are {len(entries)} submissions named '{student}' "
                       f"({', '.join(e.name for e in entries)}): keep one and grade again.")
        elif entry.is_dir() and assignment:
            entry = entry / assignment
            if not entry.is_dir():
                problem = f"No folder '{assignment}' in {student}/: nothing was submitted for it."
        elif not entry.is_dir() and entry.suffix.lower() != ".zip":
            problem = f"'{entry.name}' is neither a folder nor a zip file, so it was not graded."
        found.append(Submission(student, entry, problem))
    return sorted(found, key=lambda s: s.student)


def _scores(result: GradeResult) -> list:
    return [(t.name, t.function, t.score, t.max_score) for t in result.tests]


def _grade_confirmed(grade, path: str) -> GradeResult:
    """``grade(path)``, again while student processes died abruptly in it: kept when a
    grade runs clean, or agrees check by check with the one before (what the student's
    code does to itself it does every time; a kill from outside does not repeat)."""
    from ..sandbox import SandboxError

    previous = failure = None
    for _ in range(GRADE_ATTEMPTS):
        try:
            result = grade(path)
        except SandboxError as exc:  # e.g. its worker was killed before it said hello
            failure = exc
            continue
        if not result.deaths or (previous is not None and _scores(result) == _scores(previous)):
            return result
        previous, failure = result, None
    if failure is not None:
        raise failure
    raise GradingError(
        f"processes running this submission's code died abruptly in each of {GRADE_ATTEMPTS} "
        f"grades, which all disagreed (killed from outside, e.g. by the out-of-memory killer?), "
        f"so none is kept; the next run grades it again. Last: {previous.deaths[0][:300]}")


def _exit_with(parent: int) -> None:
    """End this process as soon as ``parent`` is gone (this process is re-parented). Its
    sandbox follows it (bubblewrap's --die-with-parent, the worker's parent-death signal)."""
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)


def _serve(conn, folder: str) -> None:
    """A grader process: grade each path it is sent until the batch closes the pipe.

    It works from the submissions folder, so messages name ``alice.zip``, not where the
    instructor keeps it.
    """
    from ..runner import grade as grade_lanes

    def grade(path):  # in one lane: the batch's jobs are what run side by side
        return grade_lanes(path, lane_count=1, figures=True)  # for the Markdown feedback

    # When the batch dies (SIGKILL included), leave at once: a grade in progress has no
    # one to go to, and would hold a CPU and a sandbox for nothing.
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    os.chdir(folder)
    while True:
        try:
            path = conn.recv()
        except EOFError:
            return
        start = time.perf_counter()
        try:
            result = _grade_confirmed(grade, path)
            reply = {"result": result.to_dict(), "figures": result.figures}
        except SubmissionError as exc:
            reply = {"error": str(exc), "kind": "submission"}
        except Exception as exc:  # the grader's fault: recorded, retried by the next run
            traceback.print_exc()
            reply = {"error": f"The grader failed: {type(exc).__name__}: {exc}", "kind": "grader"}
        reply["seconds"] = round(time.perf_counter() - start, 3)
        try:
            conn.send(reply)
        except OSError:  # the batch is gone
            return


def grader_lost(exitcode: int | None, seconds: float, timeout: float) -> dict:
    """The reply for a submission whose grader process died (``exitcode``) a second time,
    or overran ``timeout`` (``exitcode`` None): the grader's fault, graded again next run."""
    why = (f"died (exit code {exitcode}), twice," if exitcode is not None else
           f"took longer than {timeout:g} s")
    return {"error": f"The grader process {why} while grading this submission.",
            "kind": "grader", "seconds": round(seconds, 3)}


class _Graders:
    """Up to ``jobs`` grader processes, fed one submission at a time. One that dies or
    overruns ``config.BATCH_SUBMISSION_TIMEOUT`` is killed and replaced; only the
    submission it held fails, as the grader's fault. A submission whose grader died is
    first given to a new grader once more (a grader killed from outside is no verdict)."""

    def __init__(self, jobs: int, folder: Path):
        # spawn: a fresh interpreter, sharing no sqlite handle or lock with the batch.
        self.context = multiprocessing.get_context("spawn")
        self.jobs, self.folder = jobs, folder
        self.idle: list = []

    def _start(self):
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(theirs, str(self.folder)),
                                       name="autograder-batch-grader", daemon=True)
        process.start()
        theirs.close()
        return process, ours

    def _send(self, path: str):
        process, conn = self.idle.pop() if self.idle else self._start()
        try:
            conn.send(path)
        except OSError:  # it died while idle: start another
            process.kill()
            process, conn = self._start()
            conn.send(path)
        return process, conn

    def run(self, work: list[Submission], done) -> None:
        """Grade every submission in ``work``; ``done(submission, reply)`` as each ends."""
        queue = list(reversed(work))
        busy: dict = {}  # conn -> (process, submission, started)
        retried: set[str] = set()
        try:
            while queue or busy:
                while queue and len(busy) < self.jobs:
                    sub = queue.pop()
                    process, conn = self._send(sub.path.relative_to(self.folder).as_posix()
                                               if sub.path.is_relative_to(self.folder)
                                               else str(sub.path))
                    busy[conn] = (process, sub, time.monotonic())
                deadline = min(s for _, _, s in busy.values()) + config.BATCH_SUBMISSION_TIMEOUT
                ready = set(wait([*busy, *(p.sentinel for p, _, _ in busy.values())],
                                 max(0.0, deadline - time.monotonic())))
                for conn, (process, sub, started) in list(busy.items()):
                    reply = None
                    if conn in ready:
                        try:
                            reply = conn.recv()
                        except (EOFError, OSError):
                            pass
                    elapsed = time.monotonic() - started
                    died = conn in ready or process.sentinel in ready  # EOF or exit, no reply
                    if reply is None and not died and elapsed < config.BATCH_SUBMISSION_TIMEOUT:
                        continue
                    del busy[conn]
                    if reply is None:
                        process.kill()
                        process.join()
                        conn.close()
                        if died and sub.student not in retried:
                            retried.add(sub.student)
                            queue.append(sub)  # next, in a new grader process
                            continue
                        reply = grader_lost(process.exitcode if died else None, elapsed,
                                            config.BATCH_SUBMISSION_TIMEOUT)
                    else:
                        self.idle.append((process, conn))
                    done(sub, reply)
        finally:
            # Busy graders are left only when the batch stops early: waiting for them
            # would only delay the stop.
            for conn, (process, _, _) in busy.items():
                process.kill()
            self.close(extra=[(p, c) for c, (p, _, _) in busy.items()])

    def close(self, extra=()) -> None:
        workers, self.idle = [*self.idle, *extra], []
        for _, conn in workers:
            conn.close()  # an idle grader reads EOF and exits
        for process, _ in workers:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()


class Progress:
    """One line on stderr, redrawn in place. Silent when stderr is not a terminal or when
    ``CI`` is set (a log file full of carriage returns helps nobody)."""

    def __init__(self, total: int, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = total > 0 and self.stream.isatty() and not os.environ.get("CI")
        self.total, self.done, self.start = total, 0, time.monotonic()

    def advance(self, label: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed * 60 if elapsed else 0.0
        eta = (self.total - self.done) / (self.done / elapsed) if elapsed else 0.0
        filled = int(30 * self.done / self.total)
        self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}  "
                          f"{rate:.0f}/min  eta {eta:.0f} s  {label[:30]:<30}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".") or "figure"


def export_student(conn, out: Path, student: str) -> None:
    """Write ``student``'s exports (``write_exports``) from the gradebook."""
    row = conn.execute("SELECT error, error_kind FROM submissions WHERE student = ?",
                       (student,)).fetchone()
    write_exports(out, student, gradebook.result(conn, student), row["error"], row["error_kind"])


def write_exports(out: Path, student: str, result: GradeResult | None, error: str | None = None,
                  error_kind: str | None = None) -> None:
    """Write ``feedback/<student>.md`` (with its figures in ``feedback/<student>/``) and
    ``results/<student>.json`` (compact JSON) for ``result``, or for a submission that could
    not be graded (``result`` None, ``error`` why)."""
    if result is None:
        feedback = markdown.render_error(student, error, error_kind == "grader")
        result = GradeResult(student, [], "none", 0.0, [error])
    else:
        figures = {name: f"{student}/{_file_name(name).removesuffix('.png')}.png"
                   for name in sorted(result.figures)}
        for name, link in figures.items():
            _write_figure(out, out / "feedback" / link, result.figures[name])
        feedback = markdown.render(result, student, figures)
    gradebook.write_atomic(out / "feedback" / f"{student}.md", feedback)
    gradebook.write_atomic(out / "results" / f"{student}.json", gradescope.dumps(result))


FIGURES = ".figures"  # in feedback/: each PNG once, named by its sha256, linked from there
_LINKS = itertools.count()


def _write_figure(out: Path, path: Path, png: bytes) -> None:
    """Write ``png`` at ``path`` as a hard link to its one copy in ``feedback/.figures/``
    (written the first time it is drawn): the same figure drawn for a whole class takes its
    bytes on disk once. Where the file system has no hard links, a copy of its own."""
    kept = out / "feedback" / FIGURES / f"{gradebook.sha256(png)}.png"
    if not kept.exists():
        gradebook.write_atomic(kept, png)
    try:
        try:
            os.link(kept, path)  # a name the student's folder does not have yet: one step
            return
        except FileNotFoundError:  # the student's folder is new
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(kept, path)
                return
            except FileExistsError:
                pass
        except FileExistsError:  # exported before: replaced below, in one step
            pass
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}-{next(_LINKS)}.tmp")
        try:
            os.link(kept, tmp)
            os.replace(tmp, path)
        finally:
            # rename() does nothing when both names are links to one file already (POSIX):
            # ``tmp`` is then still there.
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.ENOENT):
            raise
        gradebook.write_atomic(path, png)


def _staged(sub: Submission, staging: Path) -> Submission:
    """``sub`` as a folder to grade: an LMS's loose files copied into ``staging/<student>``
    under the names the student gave them; any other submission as it is."""
    if not sub.files:
        return sub
    target = staging / _file_name(sub.student)
    target.mkdir()
    for path, name in sub.files:
        shutil.copyfile(path, target / _file_name(name))
    return dataclasses.replace(sub, path=target)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _exports_missing(out: Path, student: str) -> bool:
    return not ((out / "feedback" / f"{student}.md").exists()
                and (out / "results" / f"{student}.json").exists())


def _remove_exports(out: Path, student: str) -> None:
    """Delete the files exported for ``student`` (feedback, figures, results.json)."""
    for path in (out / "feedback" / f"{student}.md", out / "results" / f"{student}.json"):
        path.unlink(missing_ok=True)
    figures = out / "feedback" / student
    if figures.is_dir() and not figures.is_symlink():
        shutil.rmtree(figures)


def grade_all(submissions: Path, out: Path, *, jobs: int | None = None, regrade: bool = False,
              assignment: str | None = None, progress: Progress | None = None,
              pool=None) -> list[dict]:
    """Grade every submission in ``submissions`` into ``out``; return their gradebook rows
    (one dict per student, sorted by student, plus ``graded_now``: graded by this call).

    ``pool(folder, grader)`` makes what grades them (``grader``: this grader's fingerprint):
    an object whose ``run(work, done)`` calls ``done(submission, reply)`` as each ends, as
    ``_Graders`` does (the default: ``jobs`` local grader processes); ``cluster.DaskGraders``
    grades on a Dask cluster. Discovery, the gradebook, exports and progress stay here.

    Grader processes are started with multiprocessing's spawn: a script calling this must
    guard its entry point with ``if __name__ == "__main__":``.
    """
    folder, out = Path(submissions).resolve(), Path(out).resolve()
    if not folder.is_dir():
        raise SubmissionError(f"no such folder of submissions: {submissions}")
    jobs = max(1, jobs or os.cpu_count() or 1)
    now: set[str] = set()
    with _writing(out, now):
        conn = gradebook.connect(out / gradebook.FILE)
    try:
        grader = grader_fingerprint()
        found = discover(folder, assignment, skip=out)
        with _writing(out, now):  # gone from the folder: out of the exports, kept in the record
            times = {s.student: handed_in(s) for s in found}
            for student in gradebook.mark_present(conn, str(folder), times, _now()):
                _remove_exports(out, student)
        known = gradebook.submissions(conn, removed=True)
        keys, todo = {}, []
        for sub in found:
            keys[sub.student] = _key(sub)
            old = known.get(sub.student)
            if (not regrade and old and old["content_hash"] == keys[sub.student]
                    and old["grader"] == grader and old["error_kind"] != "grader"
                    and old["source"] == sub.source(folder)):
                continue
            todo.append(sub)
        progress = progress or Progress(len(todo))
        # Records whose exports are written, acknowledged with the next commit (one
        # transaction a result); a batch killed before that writes them again next run.
        exported: list[tuple[str, str]] = []

        def done(sub: Submission, reply: dict) -> None:
            row = {"student": sub.student, "source": sub.source(folder),
                   "content_hash": keys[sub.student], "grader": grader,
                   "graded_at": _now()}
            result = None
            if "result" in reply:
                result = GradeResult.from_dict(reply["result"])
                result.figures = reply["figures"]
                row |= {"error": None, "error_kind": None}
            else:
                row |= {"score": 0.0, "max_score": None, "seconds": reply.get("seconds", 0.0),
                        "isolation": "none", "error": reply["error"], "error_kind": reply["kind"]}
            with _writing(out, now):
                token, again = gradebook.record(conn, row, result, exported)
                exported.clear()
                now.add(sub.student)
                write_exports(out, sub.student, result, row["error"], row["error_kind"])
                exported.append((sub.student, token))
                for student in again:  # graded again by another run meanwhile
                    export_student(conn, out, student)
            progress.advance(sub.student)

        for sub in todo:
            if sub.problem:
                done(sub, {"error": sub.problem, "kind": "submission"})
            elif pool and sub.files:  # a cluster's workers read submissions in the folder
                done(sub, {"error": "Canvas's loose files are graded by a batch without "
                           "--cluster/--scheduler only (the workers read each submission in "
                           "the folder); this row is graded again by the next run.",
                           "kind": "grader"})
        todo = [s if s.files else dataclasses.replace(s, content_hash=keys[s.student])
                for s in todo if not s.problem and not (pool and s.files)]
        graders = pool(folder, grader) if pool else _Graders(jobs, folder)
        try:
            with tempfile.TemporaryDirectory(prefix="lms-files-") as staging:
                graders.run([_staged(s, Path(staging)) for s in todo], done)
        finally:
            progress.close()
        # Write what is still unwritten: what a killed run had committed but not exported,
        # what another run recorded again after this one, and any export gone missing.
        with _writing(out, now):
            again = gradebook.acknowledge(conn, exported)
            rows = gradebook.submissions(conn)
            pending = gradebook.unexported(conn)
            stale = sorted(set(again) | set(pending) | {s for s in rows if _exports_missing(out, s)})
            for student in stale:
                export_student(conn, out, student)
            for student in gradebook.acknowledge(conn, [(s, pending[s]) for s in stale if s in pending]):
                export_student(conn, out, student)  # recorded again while this run wrote it
            gradebook.export_csv(conn, out)
        return [rows[s.student] | {"graded_now": s.student in now} for s in found]
    finally:
        try:
            conn.close()
        except sqlite3.Error:  # e.g. its last checkpoint found the disk full: the WAL keeps it
            pass


@contextmanager
def _writing(out: Path, graded: set):
    """Turn a failed write to ``out`` (the gradebook or a file derived from it) into one
    ``OutputError`` that says what to do, instead of a traceback."""
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        if isinstance(exc, OSError) and exc.strerror:
            why = exc.strerror + (f": {exc.filename}" if exc.filename else "")
        else:
            why = str(exc)
        raise OutputError(
            f"the batch stopped: {out} can't be written ({why}). Is the disk full, or a file "
            f"size limit reached? Every submission graded before is kept in the gradebook "
            f"({len(graded)} of them by this run); free some space and run the batch again: "
            f"it resumes where this one stopped.") from exc


def summary(rows: list[dict], out: Path) -> str:
    graded = sum(r["graded_now"] for r in rows)
    failed = [r for r in rows if r["error"]]
    lines = [f"{len(rows)} submissions: {graded} graded now, {len(rows) - graded} unchanged, "
             f"{len(failed)} could not be graded. Gradebook: {Path(out) / gradebook.FILE}"]
    lines += [f"  {r['student']}: {r['error']}" for r in failed]
    return "\n".join(lines)
