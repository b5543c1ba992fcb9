"""The student bundle: complete, runnable, and leaking nothing of the grader.

Nothing leaks: no solution block or line only the reference has, no hidden check's code,
test name, check name or random-input key, no part of the autograder package. The public
checks run as a student runs them: the reference passes every one, the stubs fail every one
with "not written yet", and a naive sigmoid fails exactly the sigmoid cases.
"""
import ast
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import config
from autograder.workflows import release, stubs
from tests.corpus import swap


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "bundle"
    written = release.build(out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == written
    return out


def _texts(bundle: Path) -> dict[str, str]:
    return {p.relative_to(bundle).as_posix(): p.read_text(encoding="utf-8")
            for p in bundle.rglob("*") if p.is_file()}


def _hidden_names() -> set[str]:
    """What only the hidden checks hold: their test function names, the literal parts of
    their check names (``name="..."``), and the keys of their random inputs (judge.rng);
    only parts long enough to be theirs (an f-string's "activations." is everyone's)."""
    names = set()
    for path in config.CHECKS.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
            if isinstance(node, ast.keyword) and node.arg == "name":
                names |= {c.value for c in ast.walk(node.value)
                          if isinstance(c, ast.Constant) and isinstance(c.value, str)
                          and len(c.value.strip(" :")) >= 12}
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "rng"):
                names |= {c.value for c in ast.walk(node) if isinstance(c, ast.Constant)
                          and isinstance(c.value, str) and len(c.value) >= 8
                          and c.value.strip(".") == c.value}
    return names


def test_bundle_has_what_a_student_needs(bundle):
    files = set(_texts(bundle))
    modules = {f"{m}.py" for m in (*config.EXERCISE_MODULES, *config.GIVEN_MODULES)}
    assert files == modules | {"test_public.py", "public_checks.json", "README.md",
                               "requirements.txt", ".github/workflows/classroom.yml"}
    for m in config.EXERCISE_MODULES:
        assert (bundle / f"{m}.py").read_text() == (config.ASSIGNMENTS / f"{m}.py").read_text()
    readme = (bundle / "README.md").read_text()
    assert "python -m pytest test_public.py" in readme and "hidden autograder" in readme


def test_nothing_of_the_grader_leaks(bundle):
    texts = _texts(bundle)
    everything = "\n".join(texts.values())
    for marker in (stubs.BEGIN, stubs.END, "BEGIN HIDDEN", "autograder.", "import autograder",
                   "pytest.mark.check", str(config.SEED)):
        assert marker not in everything, f"{marker!r} is in the bundle"
    hidden = _hidden_names()
    assert len(hidden) > 50  # the scan found the checks: an empty set would prove nothing
    leaked = sorted(n for n in hidden if n in everything)
    assert not leaked, f"hidden check names in the bundle: {leaked[:10]}"
    # The stubs are the generator's output (checked above and in test_stubs.py); no other
    # file may carry a line that only the reference's solution blocks have (short lines
    # such as "}" and lines of the given helpers, public by design, say nothing).
    given = {ln.strip() for m in config.GIVEN_MODULES
             for ln in (config.SOLUTIONS / f"{m}.py").read_text(encoding="utf-8").splitlines()}
    others = {ln.strip() for name, text in texts.items()
              if name not in {f"{m}.py" for m in config.EXERCISE_MODULES}
              for ln in text.splitlines() if len(ln.strip()) >= 12} - given
    rendered = stubs.render(config.SOLUTIONS)
    for module in config.EXERCISE_MODULES:
        reference = (config.SOLUTIONS / f"{module}.py").read_text(encoding="utf-8")
        stub = rendered[f"{module}.py"]
        assert (bundle / f"{module}.py").read_text(encoding="utf-8") == stub
        solution_only = ({ln.strip() for ln in reference.splitlines()}
                         - {ln.strip() for ln in stub.splitlines()})
        solution_only.discard("")
        assert solution_only, module
        assert not solution_only & others, f"{module}: {sorted(solution_only & others)[:5]}"


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_public.py", *args], cwd=folder, capture_output=True,
                          text=True, timeout=300,
                          env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin"})


def _student(bundle: Path, tmp_path: Path, modules_from: Path | None, naive_sigmoid=False) -> Path:
    work = tmp_path / "student"
    shutil.copytree(bundle, work)
    if modules_from is not None:
        for m in config.EXERCISE_MODULES:
            shutil.copy(modules_from / f"{m}.py", work / f"{m}.py")
    if naive_sigmoid:
        source = (work / "activations.py").read_text()
        (work / "activations.py").write_text(
            swap(source, "def sigmoid(x):\n    return 1 / (1 + np.exp(-np.asarray(x, float)))\n"))
    return work


def test_public_checks_pass_on_the_reference(bundle, tmp_path):
    cases = json.loads((bundle / "public_checks.json").read_text())["cases"]
    run = _pytest(_student(bundle, tmp_path, config.SOLUTIONS))
    assert run.returncode == 0, run.stdout[-3000:]
    assert f"{len(cases)} passed" in run.stdout


def test_public_checks_fail_on_the_stubs_saying_what_to_write(bundle, tmp_path):
    cases = json.loads((bundle / "public_checks.json").read_text())["cases"]
    run = _pytest(_student(bundle, tmp_path, None))
    assert run.returncode == 1
    assert f"{len(cases)} failed" in run.stdout
    assert "is not written yet" in run.stdout and "Traceback" not in run.stdout


def test_public_checks_name_the_broken_function(bundle, tmp_path):
    run = _pytest(_student(bundle, tmp_path, config.SOLUTIONS, naive_sigmoid=True), "-rf")
    failed = {ln.split("[", 1)[1].split("]", 1)[0] for ln in run.stdout.splitlines()
              if ln.startswith("FAILED")}
    # The naive sigmoid overflows at -1000 (values still match) and turns float32 into
    # float64: the sigmoid cases that sample warnings and dtypes fail, and those of the
    # functions that use sigmoid (USES), and nothing else.
    assert {"activations.sigmoid-safe", "activations.sigmoid-float32"} <= failed, failed
    assert {f.split("-")[0] for f in failed} <= {
        f"{m}.{f}" for m, f in [("activations", "sigmoid"), ("activations", "swish"),
                                ("derivatives", "sigmoid_grad"), ("derivatives", "swish_grad")]}, failed


def test_no_hint_is_readable_in_the_bundle(bundle):
    """The staged hints travel in public_checks.json so that a failure shows them, as a
    spoiler (base64): no stage, recipes included, is in any file of the bundle as text."""
    from autograder import hints
    from autograder.reference import module

    everything = " ".join("\n".join(_texts(bundle).values()).split())
    stages = [" ".join(stage.split()) for m in config.EXERCISE_MODULES
              for f in dir(module(m))
              for stages in hints.of(m, f).values() for stage in stages]
    assert len(stages) >= 30
    assert not [s for s in stages if s in everything]
    cases = json.loads((bundle / "public_checks.json").read_text())["cases"]
    assert sum(bool(c["hints"]) for c in cases) >= 30


def test_check_judges_without_importing_the_submission(tmp_path):
    """``check`` judges with the bundle's verdict in the grader process: the submission's
    modules are imported in the sandbox only."""
    from autograder.workflows import public_check

    folder = tmp_path / "submission"
    shutil.copytree(config.SOLUTIONS, folder)
    result = public_check.run(folder)
    assert result.tests and all(t.passed for t in result.tests)
    loaded = [m for m in list(sys.modules.values())
              if str(getattr(m, "__file__", "") or "").startswith(str(folder))]
    assert not loaded, loaded


def test_classroom_workflow_is_the_current_form_and_runs_every_case_once(bundle, tmp_path):
    """Classroom's current form (issue 12, point 10): a command-grader step per module on push
    and repository_dispatch, the reporter reading each step's result; labelled as the public
    sample, with the sample's own maximum."""
    yaml = pytest.importorskip("yaml")
    cases = json.loads((bundle / "public_checks.json").read_text())["cases"]
    text = (bundle / ".github/workflows/classroom.yml").read_text()
    workflow = yaml.safe_load(text)
    assert {"push", "repository_dispatch"} <= set(workflow[True])  # YAML reads "on" as True
    assert "education/autograding" not in text and "$" + "python" not in text
    assert f"out of {len(cases)}: it is not the grade" in text
    job = workflow["jobs"]["run-autograding-tests"]
    assert job["if"] == "github.actor != 'github-classroom[bot]'"
    graders = [s for s in job["steps"] if "autograding-command-grader" in s.get("uses", "")]
    [reporter] = [s for s in job["steps"] if "autograding-grading-reporter" in s.get("uses", "")]
    assert reporter["with"]["runners"].split(",") == [s["id"] for s in graders]
    assert set(reporter["env"]) == {f"{s['id'].replace('-', '_').upper()}_RESULTS" for s in graders}
    for s in graders:
        assert reporter["env"][f"{s['id'].replace('-', '_').upper()}_RESULTS"] == \
            f"${{{{ steps.{s['id']}.outputs.result }}}}"
        assert s["with"]["test-name"].startswith("public sample: ")
    assert sum(s["with"]["max-score"] for s in graders) == len(cases)
    work = _student(bundle, tmp_path, config.SOLUTIONS)
    ran = 0
    for s in graders:
        command = shlex.split(s["with"]["command"])
        assert command[:3] == ["python", "-m", "pytest"]
        run = _pytest(work, *command[4:])
        assert run.returncode == 0, (s["name"], run.stdout[-2000:])
        ran += int(run.stdout.split(" passed")[0].split()[-1])
    assert ran == len(cases)


def test_refuses_a_folder_with_something_in_it(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(release.ReleaseError, match="not empty"):
        release.build(tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"
    run = subprocess.run([sys.executable, "-m", "autograder", "release", str(tmp_path)],
                         capture_output=True, text=True, cwd=config.ROOT, timeout=120)
    assert run.returncode == 2 and "not empty" in run.stderr
