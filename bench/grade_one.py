"""Median wall time of grading one full submission, next to a bare numpy start.

All are measured in this one run, alternating, as fresh processes (what a user or a batch
job pays): `python -m autograder grade solutions` and `python -c "import numpy"`.
Target: grading under 1 s median and under 10x the bare numpy start.

For scale it also times the students' self-check (`check`, the public checks) and the grade
of a submission that holds activations.py alone (the size of the one-function exercises
the anchors in ../shared/notes were measured on).

It also prints what the target is up against: the CPU time one grade uses, all its processes
counted (with process isolation: bubblewrap's namespaces keep part of it from being counted),
over the cores the grader may use (``runner.usable_cores``, what its lanes are sized by): the
least wall time any schedule of that work could reach.

    .venv/bin/python bench/grade_one.py [--runs 7] [--submission solutions]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.runner import usable_cores  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of every process it waited for) of one run of ``cmd``."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, **(env or {})})
    return time.perf_counter() - start, _children_cpu() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--submission", default="solutions")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    out = tmp / "results.json"
    alone = tmp / "activations-alone"
    alone.mkdir()
    shutil.copy(ROOT / "solutions" / "activations.py", alone)
    python = [sys.executable]
    commands = {
        f"grade one submission ({args.submission})":
            python + ["-m", "autograder", "grade", args.submission, "--json", str(out)],
        "python -c 'import numpy'": python + ["-c", "import numpy"],
        f"check {args.submission} (public checks)": python + ["-m", "autograder", "check", args.submission],
        "grade activations.py alone": python + ["-m", "autograder", "grade", str(alone), "--json", str(out)],
    }
    grade = commands[f"grade one submission ({args.submission})"]
    for cmd in commands.values():
        run(cmd)  # warm the page cache once; not counted
    times = {name: [] for name in commands}
    cpu = []
    for _ in range(args.runs):
        for name, cmd in commands.items():
            times[name].append(run(cmd)[0])
        cpu.append(run(grade, {"AUTOGRADER_ISOLATION": "process"})[1])
    medians = {name: statistics.median(t) for name, t in times.items()}
    width = max(map(len, medians))
    numpy = medians["python -c 'import numpy'"]
    for name, m in medians.items():
        print(f"{name:{width}}  median {m:.3f} s over {args.runs} runs  ({m / numpy:.1f}x numpy)")
    g = medians[f"grade one submission ({args.submission})"]
    print(f"ratio: {g / numpy:.1f}x   (targets: < 1 s and < 10x)")
    cores = usable_cores()
    c = statistics.median(cpu)
    print(f"CPU of one grade, every process counted (process isolation): median {c:.2f} s; "
          f"on {cores} cores no schedule of it ends before {c / cores:.2f} s")


if __name__ == "__main__":
    main()
