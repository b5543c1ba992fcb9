"""The nbgrader course, run through real nbgrader: generated from the single source, its
release holds no solution and no hidden test, and nbgrader's scores come from the grader's
own checks (reference full marks, stubs zero, one broken function loses exactly its cell)."""
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader", reason="nbgrader is not installed: pip install -e '.[nbgrader]'")

from autograder import config  # noqa: E402
from autograder.workflows import stubs  # noqa: E402
from autograder.workflows.nbgrader_course import ASSIGNMENT, write_course  # noqa: E402
from autograder.reference import function as reference_function  # noqa: E402
from autograder.runner import grade  # noqa: E402
from tests.corpus import swap  # noqa: E402

BIN = Path(sys.executable).parent  # nbgrader's own tools (it runs `alembic`) live here


def nbgrader(course: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run([str(BIN / "nbgrader"), *args, "--log-level=WARN"], cwd=course, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{run.stderr[-4000:]}"
    return run.stderr


def notebooks(folder: Path) -> dict[str, dict]:
    """module -> notebook, every cell's source as one string (nbformat may store lines)."""
    out = {}
    for path in sorted(folder.glob("*.ipynb")):
        nb = out[path.stem] = json.loads(path.read_text())
        for cell in nb["cells"]:
            cell["source"] = "".join(cell["source"])
    return out


def cells(nb: dict, **nbgrader_meta) -> list[dict]:
    return [c for c in nb["cells"]
            if all(c["metadata"].get("nbgrader", {}).get(k) == v for k, v in nbgrader_meta.items())]


@pytest.fixture(scope="module")
def reference():
    return grade(config.SOLUTIONS)


@pytest.fixture(scope="module")
def course(tmp_path_factory, reference):
    root = tmp_path_factory.mktemp("course")
    write_course(root, points={f: m for f, (_, m) in reference.by_function().items()})
    nbgrader(root, "generate_assignment", ASSIGNMENT)
    return root


NAIVE_SIGMOID = "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))  # overflows for x < -709\n"


def broken_sigmoid(source_nb: dict) -> dict:
    nb = json.loads(json.dumps(source_nb))
    [cell] = [c for c in nb["cells"] if c["id"].startswith("sigmoid-") and "solution" in c["id"]]
    cell["source"] = NAIVE_SIGMOID
    return nb


@pytest.fixture(scope="module")
def broken_by_the_grader(tmp_path_factory):
    """The same naive sigmoid as a module submission, graded by the grader itself:
    function -> (score, max) for every function it costs points on."""
    folder = tmp_path_factory.mktemp("naive") / "submission"
    shutil.copytree(config.SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "activations.py").write_text(
        swap((folder / "activations.py").read_text(), NAIVE_SIGMOID))
    return {f: (s, m) for f, (s, m) in grade(folder).by_function().items() if s < m}


@pytest.fixture(scope="module")
def autograded(course):
    """Three students: the reference notebooks, the released stubs, the reference with a
    naive sigmoid; graded by `nbgrader autograde`, read back from `nbgrader export`."""
    submitted = course / "submitted"
    shutil.copytree(course / "source" / ASSIGNMENT, submitted / "ref" / ASSIGNMENT)
    shutil.copytree(course / "release" / ASSIGNMENT, submitted / "stub" / ASSIGNMENT)
    shutil.copytree(course / "source" / ASSIGNMENT, submitted / "bug" / ASSIGNMENT)
    bug = submitted / "bug" / ASSIGNMENT / "activations.ipynb"
    bug.write_text(json.dumps(broken_sigmoid(json.loads(bug.read_text()))))
    nbgrader(course, "autograde", ASSIGNMENT)
    nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def cell_scores(course: Path, student: str) -> dict[str, float]:
    """function -> the score nbgrader gave its test cell, from the autograded notebooks."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        return {g.name.removesuffix("-tests"): g.score
                for nb in submission.notebooks for g in nb.grades}


def test_every_checked_function_has_a_cell_worth_its_grader_points(course, reference):
    points = {}
    for module, nb in notebooks(course / "source" / ASSIGNMENT).items():
        for cell in cells(nb, grade=True):
            assert f"check({module!r}, " in cell["source"]
            points[cell["id"].removesuffix("-tests")] = cell["metadata"]["nbgrader"]["points"]
    assert points == {f: m for f, (_, m) in reference.by_function().items()}
    assert sum(points.values()) == pytest.approx(reference.max_score)


def test_source_notebooks_are_the_reference(course):
    """The solution cells hold the reference as written, markers included (its hints,
    feedback for the grader to reveal, left out)."""
    for module, nb in notebooks(course / "source" / ASSIGNMENT).items():
        reference = stubs.strip_hints((config.SOLUTIONS / f"{module}.py").read_text())
        solutions = cells(nb, solution=True)
        assert solutions and all(stubs.BEGIN in c["source"] and c["source"] in reference
                                 for c in solutions)


def run_in(folder: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True,
                          text=True, timeout=120)


def test_notebooks_import_each_other_as_in_the_modules(course, tmp_path):
    """What a student's kernel does: `import nbimport`, then the other notebooks by name
    (derivatives imports activations' sigmoid)."""
    modules = sorted(notebooks(course / "source" / ASSIGNMENT))
    source = run_in(course / "source" / ASSIGNMENT,
                    f"import nbimport, importlib\n"
                    f"for m in {modules!r}: importlib.import_module(m)\n"
                    "import derivatives\nprint(float(derivatives.swish_grad(1.5)))")
    assert source.returncode == 0, source.stderr
    assert float(source.stdout) == float(reference_function("derivatives", "swish_grad")(1.5))
    release = run_in(course / "release" / ASSIGNMENT,
                     "import nbimport, derivatives\nderivatives.sigmoid_grad(0.0)")
    assert "NotImplementedError" in release.stderr.splitlines()[-1]


def test_release_holds_no_solution_and_no_hidden_test(course):
    release = course / "release" / ASSIGNMENT
    released = notebooks(release)
    assert set(released) == {m for m in config.EXERCISE_MODULES if (config.SOLUTIONS / f"{m}.py").exists()}
    for module, nb in released.items():
        code = "\n".join(c["source"] for c in nb["cells"])
        for leak in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "autograder", "check('"):
            assert leak not in code, f"{module}: {leak!r} in the release"
        # Every line that only the reference's solution blocks have is gone.
        reference = (config.SOLUTIONS / f"{module}.py").read_text()
        solution_only = ({ln.strip() for ln in reference.splitlines()}
                         - {ln.strip() for ln in stubs.strip_solutions(reference).splitlines()})
        leaked = solution_only & {ln.strip() for ln in code.splitlines()}
        assert not leaked, f"{module}: solution lines in the release: {sorted(leaked)[:5]}"
        for cell in cells(nb, solution=True):
            assert "raise NotImplementedError()" in cell["source"]
        assert cells(nb, grade=True), f"{module}: no autograded cell"
    for helper in release.glob("*.py"):
        assert "### BEGIN" not in helper.read_text()


def test_nbgrader_scores_are_the_graders(course, autograded, reference, broken_by_the_grader):
    ref, stub, bug = autograded["ref"], autograded["stub"], autograded["bug"]
    assert float(ref["max_score"]) == pytest.approx(reference.max_score)
    assert float(ref["score"]) == pytest.approx(reference.max_score)
    assert float(stub["score"]) == 0
    lost = {f: points for f, points in cell_scores(course, "ref").items()
            if cell_scores(course, "bug")[f] != points}
    # The naive sigmoid overflows, in sigmoid and in the functions built on it: the grader
    # takes some points from each of them, nbgrader (all or nothing) the whole cell.
    assert "sigmoid" in broken_by_the_grader
    assert lost == {f: m for f, (_, m) in broken_by_the_grader.items()}
    assert float(bug["score"]) == pytest.approx(reference.max_score - sum(lost.values()))


def test_batch_grades_nbgraders_submitted_folder_like_nbgrader(course, autograded, tmp_path,
                                                               broken_by_the_grader):
    """`batch` on nbgrader's submitted/ grades the notebooks' code cells (issue 12, point 1):
    a function nbgrader gives full marks gets them, the stubs get 0 everywhere, and the
    naive sigmoid keeps the grader's partial credit where nbgrader's cell is all or nothing."""
    import sqlite3

    from autograder.workflows import batch, gradebook

    rows = {r["student"]: r for r in batch.grade_all(course / "submitted", tmp_path / "out",
                                                     jobs=2, assignment=ASSIGNMENT)}
    assert set(rows) == {"ref", "stub", "bug"} and not any(r["error"] for r in rows.values())
    conn = sqlite3.connect(tmp_path / "out" / gradebook.FILE)
    conn.row_factory = sqlite3.Row
    for student in rows:
        ours = gradebook.result(conn, student).by_function()
        theirs = cell_scores(course, student)
        assert set(ours) == set(theirs)
        for function, (score, max_score) in ours.items():
            if theirs[function] == max_score:
                assert score == max_score, (student, function)
            if student == "stub":
                assert theirs[function] == 0 and score == 0, (function, score)
        if student == "bug":
            assert {f: (s, m) for f, (s, m) in ours.items() if s < m} == broken_by_the_grader
    assert rows["ref"]["score"] == pytest.approx(float(autograded["ref"]["score"]))
    feedback = (tmp_path / "out" / "feedback" / "bug.md").read_text()
    assert "activations.ipynb, cell 'sigmoid-" in feedback and "activations.py" not in feedback


def test_feedback_shows_no_grader_path_and_the_config_no_checkout(course, autograded):
    """Point 7: a failed cell's traceback holds the cell alone (no host path, no grader
    source), and nbgrader_config.py finds the grader where it is installed."""
    nb = json.loads((course / "autograded" / "bug" / ASSIGNMENT / "activations.ipynb").read_text())
    outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    assert "earned" in outputs and "overflow" in outputs  # the failure is there, said plainly
    assert str(config.ROOT) not in outputs and "nbgrader_course.py" not in outputs
    assert str(config.ROOT) not in (course / "nbgrader_config.py").read_text()


def test_released_notebooks_carry_their_public_checks(course):
    """Point 7: each released notebook ends with a visible cell that runs its module's public
    checks; the grader leaves that cell out of the module. The reference passes them, the
    released stubs fail them."""
    from autograder import notebooks as reader

    release = course / "release" / ASSIGNMENT
    assert (release / "test_public.py").is_file() and (release / "public_checks.json").is_file()
    for module, nb in notebooks(release).items():
        [cell] = [c for c in nb["cells"] if c["id"] == f"{module}-public-checks"]
        assert "test_public.py" in cell["source"] and f'"{module}."' in cell["source"]
        assert not cell["metadata"]["nbgrader"].get("grade")
        module_code = reader.convert(json.dumps(nb).encode(), f"{module}.ipynb").source
        assert "pytest.main" not in module_code
    cell = next(c for c in notebooks(release)["activations"]["cells"]
                if c["id"] == "activations-public-checks")["source"]
    passed = run_in(course / "source" / ASSIGNMENT, cell)
    failed = run_in(release, cell)
    assert " passed" in passed.stdout and "failed" not in passed.stdout, passed.stdout[-2000:]
    assert " failed" in failed.stdout and "not written yet" in failed.stdout, failed.stdout[-2000:]
