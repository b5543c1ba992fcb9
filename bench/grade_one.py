"""Median wall time of grading one full submission, next to a bare numpy start.

Both are measured in this one run, alternating, as fresh processes (what a user or a
batch job pays): `python -m autograder grade solutions` and `python -c "import numpy"`.
Target: grading under 1 s median and under 10x the bare numpy start.

    .venv/bin/python bench/grade_one.py [--runs 7] [--submission solutions]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--submission", default="solutions")
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp()) / "results.json"
    grade_cmd = [sys.executable, "-m", "autograder", "grade", args.submission, "--json", str(out)]
    numpy_cmd = [sys.executable, "-c", "import numpy"]
    wall(grade_cmd)  # warm the page cache once; not counted
    grades, numpys = [], []
    for _ in range(args.runs):
        grades.append(wall(grade_cmd))
        numpys.append(wall(numpy_cmd))
    g, n = statistics.median(grades), statistics.median(numpys)
    print(f"grade one submission ({args.submission}): median {g:.3f} s over {args.runs} runs")
    print(f"python -c 'import numpy':            median {n:.3f} s over {args.runs} runs")
    print(f"ratio: {g / n:.1f}x   (targets: < 1 s and < 10x)")


if __name__ == "__main__":
    main()
