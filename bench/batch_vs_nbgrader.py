"""Throughput of `python -m autograder batch` against nbgrader's `autograde`, same submissions.

    .venv/bin/python bench/batch_vs_nbgrader.py [--n 200] [--nbgrader-sample 20] [--jobs 2]

Makes N submissions from the reference: correct (copies), buggy (one function swapped for a
broken version, tests/corpus ``Variant``/``build``) and broken (the stubs, missing modules, a
syntax error), in a fixed 4 : 4 : 2 cycle. Grades all N with the batch grader, then exports
the first SAMPLE of them (the same mix) as notebooks into the nbgrader course that
`python -m autograder nbgrader` writes, and times `nbgrader autograde` on them. nbgrader's
rate is extrapolated from the sample (it grades strictly one submission after another, so
its rate does not depend on the count). Both rates include each tool's start-up.

It also checks that both paths judged alike: nbgrader's score of a sampled submission
must be the sum of the points of the functions that passed every check in the batch.
"""
from __future__ import annotations

import argparse
import ast
import copy
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import config  # noqa: E402
from autograder.workflows import stubs  # noqa: E402
from autograder.workflows.nbgrader_course import ASSIGNMENT  # noqa: E402
from tests.corpus import Variant, build  # noqa: E402

BIN = Path(sys.executable).parent

BUGS = [
    Variant("sigmoid-overflows", "activations",
            "def sigmoid(x):\n    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))\n",
            breaks=("sigmoid",)),
    Variant("relu-drops-nan", "activations",
            "def relu(x):\n    x = np.asarray(x, dtype=float)\n    return np.where(x > 0, x, 0.0)\n",
            breaks=("relu",)),
    Variant("leaky-ignores-alpha", "activations",
            "def leaky_relu(x, alpha=0.01):\n    x = np.asarray(x, dtype=float)\n"
            "    return np.where(x > 0, x, 0.01 * x)\n", breaks=("leaky_relu",)),
    Variant("elu-overflows", "activations",
            "def elu(x, alpha=1.0):\n    x = np.asarray(x, dtype=float)\n"
            "    return np.where(x > 0, x, alpha * (np.exp(x) - 1))\n", breaks=("elu",)),
    Variant("sigmoid-grad-at-output", "derivatives",
            "def sigmoid_grad(x):\n    s = sigmoid(sigmoid(x))\n    return s * (1 - s)\n",
            breaks=("sigmoid_grad",)),
    Variant("relu-grad-bool", "derivatives",
            "def relu_grad(x):\n    return np.asarray(x) > 0\n", breaks=("relu_grad",)),
    Variant("tanh-grad-loop", "derivatives",
            "def tanh_grad(x):\n    x = np.asarray(x, dtype=float)\n"
            "    return np.array([1 - np.tanh(v) ** 2 for v in x.ravel()]).reshape(x.shape)\n",
            breaks=("tanh_grad",)),
]


def _stubs(folder: Path) -> None:
    folder.mkdir(parents=True)
    for name, text in stubs.render(config.SOLUTIONS).items():
        (folder / name).write_text(text)


def _missing(folder: Path) -> None:
    shutil.copytree(config.SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for module in ("derivatives", "dying_relu"):
        (folder / f"{module}.py").unlink(missing_ok=True)


def _syntax_error(folder: Path) -> None:
    shutil.copytree(config.SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(folder / "activations.py", "a") as f:
        f.write("\n\ndef softplus(x)\n    return np.log1p(np.exp(x))\n")


BROKEN = [("stubs", _stubs), ("missing-modules", _missing), ("syntax-error", _syntax_error)]


def make_submissions(folder: Path, n: int) -> list[str]:
    """``n`` submission folders named ``sNNN-<kind>``; the mix repeats every 10."""
    names = []
    for i in range(n):
        slot = i % 10
        if slot < 4:
            name = f"s{i:03d}-correct"
            shutil.copytree(config.SOLUTIONS, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif slot < 8:
            variant = BUGS[(i // 10 * 4 + slot - 4) % len(BUGS)]
            name = f"s{i:03d}-{variant.id}"
            build(variant, folder / name)
        else:
            kind, make = BROKEN[(i // 10 * 2 + slot - 8) % len(BROKEN)]
            name = f"s{i:03d}-{kind}"
            make(folder / name)
        names.append(name)
    return names


def as_notebooks(submission: Path, release: dict[str, dict]) -> dict[str, dict]:
    """A .py submission as the course's notebooks: each released notebook with its solution
    cells holding the student's functions of the same name, and whatever else the student's
    module has that no cell holds in one more cell at the end. A missing module has no
    notebook; a module that does not parse goes whole into that last cell."""
    out = {}
    for module, released in release.items():
        path = submission / f"{module}.py"
        if not path.exists():
            continue
        text = path.read_text()
        nb = copy.deepcopy(released)
        try:
            tree = ast.parse(text)
        except SyntaxError:
            extra = [text]
        else:
            defs = {n.name: ast.get_source_segment(text, n) for n in tree.body
                    if isinstance(n, ast.FunctionDef)}
            for cell in nb["cells"]:
                if cell["metadata"].get("nbgrader", {}).get("solution"):
                    name = getattr(ast.parse("".join(cell["source"])).body[0], "name", None)
                    if name in defs:
                        cell["source"] = defs[name]
            held = "\n".join("".join(c["source"]) for c in nb["cells"])
            extra = [ast.get_source_segment(text, n) for n in tree.body
                     if not (isinstance(n, ast.If) and "__name__" in ast.unparse(n.test))
                     and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
            extra = [segment for segment in extra if segment not in held]
        if extra:
            nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "student-extra",
                                "metadata": {}, "outputs": [], "source": "\n\n".join(extra)})
        out[module] = nb
    return out


def _run(args: list[str], cwd: Path) -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    start = time.perf_counter()
    run = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"{' '.join(args[:4])} failed:\n{run.stdout[-2000:]}\n{run.stderr[-4000:]}")
    return seconds


def expected_nbgrader_score(results: Path, cells: dict[str, float]) -> float:
    """What nbgrader must give: each cell's points when every check of its function passed."""
    per_function: dict[str, list[float]] = {}
    for t in json.loads(results.read_text())["tests"]:
        s = per_function.setdefault(t["tags"][1], [0.0, 0.0])
        s[0] += t["score"]
        s[1] += t["max_score"]
    return sum(p for f, p in cells.items()
               if f in per_function and per_function[f][0] >= per_function[f][1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200, help="submissions for the batch grader")
    p.add_argument("--nbgrader-sample", type=int, default=20, help="of them, graded by nbgrader")
    p.add_argument("--jobs", type=int, default=2, help="batch grader processes")
    args = p.parse_args()
    sample = min(args.nbgrader_sample, args.n)

    with tempfile.TemporaryDirectory(prefix="bench-nbgrader-") as tmp:
        tmp = Path(tmp)
        names = make_submissions(tmp / "submissions", args.n)

        batch = _run([sys.executable, "-m", "autograder", "batch", str(tmp / "submissions"),
                      "--out", str(tmp / "batch"), "--jobs", str(args.jobs)], ROOT)

        course = tmp / "course"
        setup = _run([sys.executable, "-m", "autograder", "nbgrader", str(course)], ROOT)
        setup += _run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT], course)
        release = {p.stem: json.loads(p.read_text())
                   for p in sorted((course / "release" / ASSIGNMENT).glob("*.ipynb"))}
        cells = {c["metadata"]["nbgrader"]["grade_id"].removesuffix("-tests"):
                 c["metadata"]["nbgrader"]["points"]
                 for nb in release.values() for c in nb["cells"]
                 if c["metadata"].get("nbgrader", {}).get("grade")}
        for name in names[:sample]:
            folder = course / "submitted" / name / ASSIGNMENT
            folder.mkdir(parents=True)
            for module, nb in as_notebooks(tmp / "submissions" / name, release).items():
                (folder / f"{module}.ipynb").write_text(json.dumps(nb))
        nbgrader = _run([str(BIN / "nbgrader"), "autograde", ASSIGNMENT], course)
        _run([str(BIN / "nbgrader"), "export", "--to", "grades.csv"], course)

        with open(course / "grades.csv", newline="") as f:
            scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
        disagree = [(name, scores.get(name), expected)
                    for name in names[:sample]
                    for expected in [expected_nbgrader_score(tmp / "batch" / "results" / f"{name}.json", cells)]
                    if abs(scores.get(name, -1.0) - expected) > 1e-6]

    batch_rate = args.n / batch * 60
    nbgrader_rate = sample / nbgrader * 60
    print(f"submissions: {args.n} (correct : buggy : broken = 4 : 4 : 2), "
          f"{len(cells)} autograded functions, {sum(cells.values()):g} points")
    print(f"autograder batch --jobs {args.jobs}: {args.n} in {batch:.1f} s "
          f"= {batch_rate:.0f} submissions/min")
    print(f"nbgrader autograde: {sample} (sample, extrapolated) in {nbgrader:.1f} s "
          f"= {nbgrader_rate:.1f} submissions/min (+{setup:.1f} s once: course, generate_assignment)")
    print(f"ratio: {batch_rate / nbgrader_rate:.1f}x nbgrader's throughput")
    print(f"nbgrader scored {sample - len(disagree)} of {sample} sampled submissions as the "
          "batch's per-function results predict")
    for name, got, expected in disagree:
        print(f"  {name}: nbgrader {got}, expected {expected:g}")


if __name__ == "__main__":
    main()
