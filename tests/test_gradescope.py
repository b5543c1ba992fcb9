"""The Gradescope autograder zip, installed and run the way Gradescope does it.

The zip is unpacked into ``ROOT/source``, its ``setup.sh`` builds the grader's venv in
``ROOT/venv`` (for real: pip installs the pinned requirements), and ``run_autograder``
grades ``ROOT/submission`` into ``ROOT/results/results.json``. ROOT is ``/autograder`` on
Gradescope and a temporary folder here (``AUTOGRADER_ROOT``). Whatever the submission
does, and whatever happens to the grader, a valid results.json is written.
"""
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import config
from autograder.workflows import gradescope
from tests.corpus import swap

EXERCISES = [f"{m}.py" for m in config.EXERCISE_MODULES]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    names = gradescope.build(out)
    return out, names


@pytest.fixture(scope="module")
def root(built, tmp_path_factory):
    """An /autograder as Gradescope lays it out, after setup.sh ran."""
    root = tmp_path_factory.mktemp("autograder")
    with zipfile.ZipFile(built[0]) as z:
        z.extractall(root / "source")
        for info in z.infolist():  # extractall drops the permission bits
            (root / "source" / info.filename).chmod(info.external_attr >> 16 & 0o777)
    root.chmod(0o755)
    run = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source",
                         env={**os.environ, "AUTOGRADER_ROOT": str(root)},
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return root


def run_autograder(root: Path, files: dict[str, str | bytes], **env) -> dict:
    """Put ``files`` in ROOT/submission, run run_autograder, return results.json."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    (root / "submission").mkdir()
    for name, text in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    run = subprocess.run([str(root / "source" / "run_autograder")], cwd=root,
                         env={**os.environ, "AUTOGRADER_ROOT": str(root), **env},
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert isinstance(results["score"], (int, float))
    assert isinstance(results["output"], str) and results["output"]
    return results


def reference_files(**changed: str) -> dict[str, str]:
    files = {name: (config.SOLUTIONS / name).read_text() for name in EXERCISES}
    for module, source in changed.items():
        files[f"{module}.py"] = swap(files[f"{module}.py"], source)
    return files


def by_function(results: dict) -> dict[str, tuple[float, float]]:
    out: dict[str, list[float]] = {}
    for t in results["tests"]:
        s = out.setdefault(t["tags"][1], [0.0, 0.0])
        s[0] += t["score"]
        s[1] += t["max_score"]
    return {f: (round(s, 6), round(m, 6)) for f, (s, m) in out.items()}


def pins_by_python(text: str) -> dict[str, list[str]]:
    """requirements.txt's ``name==version`` pins that apply on each Python of the config."""
    from packaging.requirements import Requirement

    out = {}
    for python in config.GRADESCOPE_PYTHONS:
        env = {"python_version": python, "python_full_version": f"{python}.0"}
        reqs = [Requirement(line) for line in text.splitlines() if line and not line.startswith("#")]
        assert all(str(r.specifier).startswith("==") for r in reqs)
        out[python] = [f"{r.name}{r.specifier}" for r in reqs
                       if r.marker is None or r.marker.evaluate(env)]
    return out


def test_every_pin_has_a_wheel_for_its_python(built, tmp_path):
    """Issue 12, point 2: pip finds a wheel of every pin, alone (--no-deps), for each base
    image's Python and glibc: setup.sh installs there (pins from this venv did not on 3.10)."""
    with zipfile.ZipFile(built[0]) as z:
        pins = pins_by_python(z.read("requirements.txt").decode())
    assert any(p.startswith("exceptiongroup==") for p in pins["3.10"])  # pytest needs it there
    assert not any(p.startswith("exceptiongroup==") for p in pins["3.12"])
    for python, (_, glibc) in config.GRADESCOPE_PYTHONS.items():
        run = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--quiet",
             "--ignore-installed", *gradescope.pip_target(python, glibc, tmp_path / python),
             *pins[python]], capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, (python, run.stderr[-2000:])


def test_setup_stops_with_a_message_on_an_older_python(built, tmp_path):
    """Ubuntu 20.04's python3 is 3.8: setup.sh says which base images to pick, and stops."""
    with zipfile.ZipFile(built[0]) as z:
        z.extractall(tmp_path / "source")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text("#!/bin/sh\necho 3.8\n")
    (fake / "python3").chmod(0o755)
    run = subprocess.run(["bash", str(tmp_path / "source" / "setup.sh")], cwd=tmp_path / "source",
                         env={**os.environ, "AUTOGRADER_ROOT": str(tmp_path / "root"),
                              "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "python3 is 3.8" in run.stderr and "Ubuntu 22.04" in run.stderr
    assert not (tmp_path / "root" / "venv").exists()


def test_zip_holds_the_grader_pinned_and_is_reproducible(built, tmp_path):
    out, names = built
    assert {"setup.sh", "run_autograder", "requirements.txt"} <= set(names)
    assert any(n.startswith("autograder/checks/test_") for n in names)
    assert {f"solutions/{n}" for n in EXERCISES} <= set(names)
    assert not [n for n in names if "__pycache__" in n or "/." in n or n.startswith(".")]
    with zipfile.ZipFile(out) as z:
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        pins = pins_by_python(z.read("requirements.txt").decode())
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert set(pins) == set(config.GRADESCOPE_PYTHONS)
    for python, these in pins.items():
        assert {"numpy", "matplotlib", "pytest"} <= {p.split("==")[0].lower() for p in these}
    again = tmp_path / "again.zip"
    gradescope.build(again)
    assert again.read_bytes() == out.read_bytes()


def test_setup_compiles_the_grader_once_for_every_run(root):
    # Before any run_autograder here: a run could write bytecode itself, where that is allowed.
    sources = [p for d in ("autograder", "solutions") for p in (root / "source" / d).rglob("*.py")]
    assert sources
    missing = [str(p) for p in sources
               if not Path(importlib.util.cache_from_source(str(p))).is_file()]
    assert not missing, missing


def test_the_reference_earns_full_marks(root):
    results = run_autograder(root, reference_files())
    assert results["score"] == results["extra_data"]["max_score"] > 0
    assert all(t["status"] == "passed" for t in results["tests"])
    if shutil.which("bwrap"):
        assert results["extra_data"]["isolation"] == "bubblewrap"


def test_a_bug_costs_its_function_and_says_why(root):
    naive = "def sigmoid(x):\n    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))\n"
    results = run_autograder(root, reference_files(activations=naive))
    scores = by_function(results)
    assert scores["sigmoid"][0] < scores["sigmoid"][1]
    assert scores["relu"][0] == scores["relu"][1] and scores["dead_units"][0] == scores["dead_units"][1]
    failed = [t for t in results["tests"] if t["status"] == "failed" and t["tags"][1] == "sigmoid"]
    assert any("overflow" in t["output"] for t in failed)


def test_a_submission_that_kills_the_grader_still_gets_results(root):
    kill = ("import os, signal\n"
            "def tanh(x):\n"
            "    os.kill(os.getppid(), signal.SIGKILL)\n"
            "    os.killpg(0, signal.SIGKILL)\n"
            "    return x\n")
    results = run_autograder(root, reference_files(activations=kill))
    scores = by_function(results)
    assert scores["tanh"][0] == 0 < scores["tanh"][1]
    assert scores["sigmoid"][0] == scores["sigmoid"][1]
    assert scores["dead_units"][0] == scores["dead_units"][1]


@pytest.mark.parametrize("files, words", [
    ({"notes.txt": "I did not finish"}, "missing from your submission"),
    ({"activations.py": b"\xff\xfe def sigmoid(x):\n"}, "activations.py"),
])
def test_a_submission_that_breaks_everything_scores_zero_with_a_message(root, files, words):
    results = run_autograder(root, files)
    assert results["score"] == 0
    assert words in results["output"] + "".join(t["output"] for t in results["tests"])


@pytest.mark.parametrize("env, words", [
    ({"AUTOGRADER_PYTHON": "/bin/false"}, "could not finish grading"),
    ({"AUTOGRADER_TIMEOUT": "1"}, "could not finish grading"),
])
def test_a_grader_that_fails_or_runs_out_of_time_still_answers(root, env, words):
    results = run_autograder(root, reference_files(), **env)
    assert results["score"] == 0 and words in results["output"]


def test_results_into_a_pipe_or_device_write_through_it_and_leave_it_one(tmp_path):
    # `grade --json /dev/null` once replaced the machine's /dev/null with a regular file.
    from autograder.report.gradescope import write
    from autograder.results import GradeResult

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    write(GradeResult("submission", [], "none", 0.0, []), fifo)
    out, _ = reader.communicate(timeout=30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(out)["tests"] == []
    assert not list(tmp_path.glob("*.tmp"))
