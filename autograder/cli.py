"""``python -m autograder COMMAND``: the grader's command line."""
from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from . import config
from .errors import GradingError, InputError
from .workflows import stubs


def _grade(args) -> int:
    from .report import gradescope, junit, text
    from .runner import grade

    result = grade(args.path)
    # The files first: a reader that stops early (`| head`) must not cost them.
    if args.json:
        gradescope.write(result, args.json)
    if args.junit:
        junit.write(result, args.junit)
    print(text.render(result))
    for line in result.internal:
        print(f"grader: internal error in a check: {line}", file=sys.stderr)
    return 0


def _check(args) -> int:
    from .workflows.public_check import run
    from .report import text

    result = run(args.path, level=args.hints)
    if args.json:
        from .report import gradescope

        gradescope.write(result, args.json)
    print(text.render(result))
    passed = sum(t.passed for t in result.tests)
    print(f"\n{passed} of {len(result.tests)} public checks passed: the same cases as the "
          "release's test_public.py. They sample every kind of check, but the hidden "
          "autograder runs more inputs of each kind, so this is not your grade.")
    for line in result.internal:
        print(f"grader: internal error in a public case: {line}", file=sys.stderr)
    return 0


def _stubs(args) -> int:
    if args.check:
        changed = stubs.drift(config.SOLUTIONS, config.ASSIGNMENTS)
        for name in changed:
            print(f"assignments/{name} differs from what solutions/{name} generates")
        if changed:
            print("Run `python -m autograder stubs` to regenerate the stubs.")
        return 1 if changed else 0
    for name in stubs.write(config.SOLUTIONS, config.ASSIGNMENTS):
        print(f"assignments/{name}")
    return 0


def _points(args) -> int:
    from .workflows import points

    text = points.markdown()
    if args.check:
        current = points.DOC.read_text(encoding="utf-8") if points.DOC.exists() else ""
        if current != text:
            print(f"{points.DOC} is out of date: run `python -m autograder points`.")
            return 1
        return 0
    points.DOC.write_text(text, encoding="utf-8")
    print(points.DOC)
    return 0


def _batch(args) -> int:
    from .workflows.batch import grade_all, summary

    with _pool(args) as pool:
        rows = grade_all(args.submissions, args.out, jobs=args.jobs, regrade=args.regrade,
                         assignment=args.assignment, pool=pool)
    print(summary(rows, args.out))
    # Non-zero only when the grader failed somewhere: that needs the instructor, a
    # student's broken zip does not.
    return 1 if any(r["error_kind"] == "grader" for r in rows) else 0


@contextmanager
def _pool(args):
    """What grades a batch: None (local grader processes), or a Dask cluster's pool."""
    if not (args.cluster or args.scheduler):
        yield None
        return
    from .workflows import cluster

    slurm = cluster.Slurm(cores=args.slurm_cores, memory=args.slurm_memory,
                          walltime=args.slurm_walltime, queue=args.slurm_queue,
                          account=args.slurm_account)
    with cluster.connect(scheduler=args.scheduler, cluster=args.cluster, workers=args.jobs,
                         slurm=slurm) as client:
        yield cluster.pool(client, isolation=args.isolation)


def _cluster_options(b: argparse.ArgumentParser) -> None:
    """``batch`` on a Dask cluster (docs/scale.md); without these it grades here."""
    c = b.add_argument_group("on a Dask cluster (needs the cluster extra; docs/scale.md)")
    where = c.add_mutually_exclusive_group()
    where.add_argument("--cluster", choices=("local", "slurm"),
                       help="start a Dask cluster: local worker processes, or Slurm jobs "
                            "(--jobs: how many single-threaded workers)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on the running Dask scheduler at ADDRESS, e.g. tcp://head:8786")
    c.add_argument("--isolation", choices=("bubblewrap", "process"), default="bubblewrap",
                   help="the weakest sandbox a worker may grade in; a grade from a weaker one "
                        "is refused (default: bubblewrap)")
    c.add_argument("--slurm-cores", type=int, help="cores per Slurm job (one worker each)")
    c.add_argument("--slurm-memory", help="memory per Slurm job, e.g. 8GB")
    c.add_argument("--slurm-walltime", help="time limit per Slurm job, e.g. 02:00:00")
    c.add_argument("--slurm-queue", help="the Slurm partition")
    c.add_argument("--slurm-account", help="the Slurm account to charge")


def _export(args) -> int:
    from .workflows.export import export

    path, warnings = export(args.out, args.format, args.assignment, args.points,
                            roster=args.roster, due=args.due, extensions=args.extensions,
                            late_penalty=args.late_penalty)
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(path)
    return 0


def _nbgrader(args) -> int:
    from .workflows.nbgrader_course import write_course

    for path in write_course(args.course, args.assignment):
        print(path)
    print(f"Next: cd {args.course} && nbgrader generate_assignment {args.assignment}")
    return 0


def _release(args) -> int:
    from .workflows.release import build

    for name in build(args.out):
        print(args.out / name)
    return 0


def _gradescope(args) -> int:
    from .workflows.gradescope import build

    names = build(args.out)
    print(f"{args.out}: {len(names)} files; upload it as the Gradescope autograder")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade one submission folder or zip")
    g.add_argument("path", type=Path)
    g.add_argument("--json", type=Path, help="write Gradescope-format results.json here")
    g.add_argument("--junit", type=Path, help="write JUnit XML here")
    g.set_defaults(run=_grade)

    c = sub.add_parser("check", help="students: run the public checks on your work")
    c.add_argument("path", type=Path, nargs="?", default=config.ASSIGNMENTS)
    c.add_argument("--json", type=Path, help="also write every message, Gradescope-format, here")
    c.add_argument("--hints", type=int, choices=(1, 2, 3), default=None,
                   help="how much of each hint to show: 1 a nudge, 2 the idea, 3 the recipe "
                        f"(default {config.HINT_LEVEL})")
    c.set_defaults(run=_check)

    s = sub.add_parser("stubs", help="regenerate assignments/ from solutions/")
    s.add_argument("--check", action="store_true", help="only report stubs that drifted")
    s.set_defaults(run=_stubs)

    t = sub.add_parser("points", help="write docs/grading.md, the points table, from the checks")
    t.add_argument("--check", action="store_true", help="only report whether it is out of date")
    t.set_defaults(run=_points)

    b = sub.add_parser("batch", help="grade every submission in a folder into a gradebook")
    b.add_argument("submissions", type=Path, help="one folder or zip per student, or nbgrader's submitted/")
    b.add_argument("--out", type=Path, required=True, help="folder for the gradebook, CSV and feedback")
    b.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: CPU count)")
    b.add_argument("--regrade", action="store_true", help="grade everything again, changed or not")
    b.add_argument("--assignment", help="nbgrader layout: grade <student>/<ASSIGNMENT>/")
    _cluster_options(b)
    b.set_defaults(run=_batch)

    e = sub.add_parser("export", help="write a batch's grades for an LMS gradebook import")
    e.add_argument("out", type=Path, help="the batch's output folder (holds gradebook.sqlite)")
    e.add_argument("--format", choices=("canvas", "moodle", "csv"), default="csv")
    e.add_argument("--assignment", required=True, help="the assignment's name (its column)")
    e.add_argument("--points", type=float, required=True, help="the assignment's points in the LMS")
    e.add_argument("--roster", type=Path, help="CSV: student,id,name,email,lms_id")
    e.add_argument("--due", help="due date, ISO 8601 (e.g. 2026-12-08T23:59:00+00:00)")
    e.add_argument("--extensions", type=Path, help="CSV: student,due (a due date of their own)")
    e.add_argument("--late-penalty", type=float, default=0.0,
                   help="fraction of the points lost per started day late (default 0)")
    e.set_defaults(run=_export)

    r = sub.add_parser("release", help="build the student bundle: stubs, helpers, public checks")
    r.add_argument("out", type=Path, help="a new (or empty) folder")
    r.set_defaults(run=_release)

    z = sub.add_parser("gradescope", help="build the Gradescope autograder zip")
    z.add_argument("out", type=Path, help="the zip to write, e.g. autograder.zip")
    z.set_defaults(run=_gradescope)

    from .workflows.nbgrader_course import ASSIGNMENT

    n = sub.add_parser("nbgrader", help="write an nbgrader course: config and source notebooks")
    n.add_argument("course", type=Path, help="the course folder (nbgrader's root)")
    n.add_argument("--assignment", default=ASSIGNMENT, help=f"default: {ASSIGNMENT}")
    n.set_defaults(run=_nbgrader)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        code = args.run(args)
    except BrokenPipeError:  # e.g. `| head` stopped reading: every file is written already
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 1
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GradingError as exc:
        print(f"error: could not grade: {exc}", file=sys.stderr)
        return 3
    if argv is None and args.command in ("grade", "check"):
        # The program ends here, its files written and closed, its sandboxes and lanes gone:
        # tearing down an interpreter that holds numpy, pytest and the checks cost about
        # 0.1 s of a 1.7 s grade. (Called as a library, main returns.)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:  # a reader that stopped early: the files are written already
                pass
        os._exit(code)
    return code
