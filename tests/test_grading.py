"""The grader end to end, as a user meets it: reference full marks, stubs zero, honest CLI."""
import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from autograder import config, grade
from autograder.reference import module as reference_module

GRADESCOPE_TEST_KEYS = {"name", "score", "max_score", "status", "visibility", "output", "tags"}


@pytest.fixture(scope="module")
def reference():
    return grade(config.SOLUTIONS)


@pytest.fixture(scope="module")
def stubs():
    return grade(config.ASSIGNMENTS)


def test_reference_earns_full_marks(reference):
    failed = [(t.name, t.output) for t in reference.tests if not t.passed]
    assert failed == []
    assert reference.max_score > 0 and reference.score == reference.max_score
    assert reference.internal == [] and reference.problems == []
    assert reference.figures == {}   # drawn only when a caller asks (batch's feedback)


def test_every_contract_function_and_kind_is_checked(reference):
    functions = {t.function for t in reference.tests}
    for name in ["sigmoid", "tanh", "relu", "relu6", "leaky_relu", "prelu", "elu", "gelu", "swish",
                 "sigmoid_grad", "tanh_grad", "relu_grad", "relu6_grad", "leaky_relu_grad",
                 "elu_grad", "gelu_grad", "swish_grad", "prelu_grad", "prelu_backward",
                 "numerical_derivative", "gradient_check", "linear_forward", "collapse",
                 "relu_ramp", "dead_units", "dead_fraction"]:
        assert name in functions, name
    assert {t.kind for t in reference.tests} >= {"correctness", "gradient-check", "behaviour", "experiment"}


def test_stubs_earn_zero_with_a_message_each(stubs):
    assert stubs.tests and stubs.score == 0
    assert all(t.output for t in stubs.tests)
    assert stubs.internal == []
    assert sum("not written yet" in t.output for t in stubs.tests) > len(stubs.tests) // 2


def test_grading_is_deterministic(reference):
    again = grade(config.SOLUTIONS)
    strip = lambda r: [(t.name, t.score, t.output) for t in r.tests]
    assert strip(again) == strip(reference)


def test_zip_grades_like_the_folder(tmp_path, reference):
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in config.SOLUTIONS.glob("*.py"):
            z.write(p, f"homework/{p.name}")  # wrapped in a folder, as students zip them
    result = grade(archive)
    assert result.score == reference.score
    assert any("homework" in n for n in result.problems)


def test_missing_module_costs_only_its_own_checks(tmp_path, reference):
    sub = tmp_path / "sub"
    shutil.copytree(config.SOLUTIONS, sub)
    (sub / "dying_relu.py").unlink()
    result = grade(sub)
    lost = {t.function for t in result.tests if not t.passed}
    assert lost and all(t.score == 0 for t in result.tests if t.function in lost)
    dying = {n for n in dir(reference_module("dying_relu")) if not n.startswith("_")}
    assert lost <= dying
    assert {"sigmoid", "collapse"}.isdisjoint(lost)
    assert any("dying_relu.py is missing" in p for p in result.problems)


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, cwd=cwd or config.ROOT, timeout=300)


def test_cli_writes_gradescope_results_and_exits_zero(tmp_path):
    out = tmp_path / "results.json"
    run = _cli("grade", str(config.ASSIGNMENTS), "--json", str(out), "--junit", str(tmp_path / "j.xml"))
    assert run.returncode == 0, run.stderr
    data = json.loads(out.read_text())
    assert data["score"] == 0 and data["tests"]
    for t in data["tests"]:
        assert GRADESCOPE_TEST_KEYS <= set(t) and t["status"] in ("passed", "failed")
        assert t["tags"][0] in config.KINDS
    assert "Score: 0 /" in run.stdout
    assert (tmp_path / "j.xml").read_text().startswith("<?xml")


def _not_a_zip(folder):
    (folder / "x.zip").write_bytes(b"not a zip")
    return folder / "x.zip"


@pytest.mark.parametrize("make, words", [
    (lambda p: p / "nope", "no such submission"),
    (_not_a_zip, "not a readable zip"),
])
def test_cli_refuses_what_it_cannot_read(tmp_path, make, words):
    run = _cli("grade", str(make(tmp_path)), "--json", str(tmp_path / "r.json"))
    assert run.returncode == 2 and words in run.stderr
    assert not (tmp_path / "r.json").exists()


def test_check_is_honest_about_hidden_tests():
    run = _cli("check", str(config.SOLUTIONS))
    assert run.returncode == 0, run.stderr
    assert "public checks passed" in run.stdout and "not your grade" in run.stdout
    assert "all tests passed" not in run.stdout.lower()
