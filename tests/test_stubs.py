"""The stub generator: round trip, committed stubs in sync, loud failure on bad markers."""
import subprocess
import sys

import pytest

from autograder import config
from autograder.workflows import stubs

SOURCE = '''\
import numpy as np


def given(x):
    return x


def square(x):
    """x ** 2, elementwise."""
    ### BEGIN SOLUTION
    y = np.asarray(x)
    return y * y
    ### END SOLUTION


class Layer:
    def forward(self, x):
        ### BEGIN SOLUTION
        return x
        ### END SOLUTION
'''


def test_blocks_become_todo_and_named_raise():
    out = stubs.strip_solutions(SOURCE)
    assert "y * y" not in out and "BEGIN SOLUTION" not in out
    assert 'raise NotImplementedError("square")' in out
    assert '        raise NotImplementedError("forward")' in out
    assert '"""x ** 2, elementwise."""' in out and "def given(x):\n    return x" in out


def test_stub_imports_and_raises(tmp_path):
    (tmp_path / "mod.py").write_text(stubs.strip_solutions(SOURCE))
    code = ("import mod\nassert mod.given(3) == 3\n"
            "try:\n    mod.square(2)\nexcept NotImplementedError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "square"


def test_source_without_markers_is_unchanged():
    plain = "def f(x):\n    return x\n"
    assert stubs.strip_solutions(plain) == plain


@pytest.mark.parametrize("bad, line, words", [
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION\n", 3, "inside the block"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", 2, "never closed"),
    ("def f():\n    return 1\n    ### END SOLUTION\n", 3, "without a BEGIN"),
    ("### BEGIN SOLUTION\nX = 1\n### END SOLUTION\n", 1, "outside a function"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n  ### END SOLUTION\n", 4, "indented differently"),
    ("def f():\n    return 1  ### BEGIN SOLUTION\n", 2, "stand alone"),
    ("def f(:\n    pass\n", 1, "not valid Python"),
])
def test_malformed_markers_fail_with_file_and_line(bad, line, words):
    with pytest.raises(stubs.MarkerError) as err:
        stubs.strip_solutions(bad, "bad.py")
    assert err.value.line == line
    assert str(err.value).startswith(f"bad.py:{line}:") and words in str(err.value)


def test_marker_error_leaves_existing_stubs_untouched(tmp_path):
    sol, out = tmp_path / "solutions", tmp_path / "assignments"
    sol.mkdir()
    (sol / "good.py").write_text(SOURCE)
    stubs.write(sol, out)
    before = (out / "good.py").read_text()
    (sol / "bad.py").write_text("def f():\n    ### BEGIN SOLUTION\n    pass\n")
    with pytest.raises(stubs.MarkerError):
        stubs.write(sol, out)
    assert (out / "good.py").read_text() == before and not (out / "bad.py").exists()


def test_drift_detects_edits_missing_and_stale(tmp_path):
    sol, out = tmp_path / "solutions", tmp_path / "assignments"
    sol.mkdir()
    (sol / "a.py").write_text(SOURCE)
    (sol / "b.py").write_text(SOURCE)
    stubs.write(sol, out)
    assert stubs.drift(sol, out) == []
    (out / "a.py").write_text("edited by hand\n")
    (out / "b.py").unlink()
    (out / "stale.py").write_text("")
    assert stubs.drift(sol, out) == ["a.py", "b.py", "stale.py"]


def test_committed_stubs_match_the_reference():
    assert list(config.SOLUTIONS.glob("*.py")), "no reference modules found"
    assert stubs.drift(config.SOLUTIONS, config.ASSIGNMENTS) == []


def test_every_committed_stub_imports_cleanly():
    names = [p.stem for p in config.ASSIGNMENTS.glob("*.py")]
    code = "import importlib, sys\nfor n in sys.argv[1:]:\n    importlib.import_module(n)\n"
    out = subprocess.run([sys.executable, "-c", code, *names], cwd=config.ASSIGNMENTS,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_student_materials_cite_no_document_students_lack():
    # SPEC.md is the course team's contract; students get its terms in the docstrings
    for path in config.ASSIGNMENTS.glob("*.py"):
        assert "SPEC" not in path.read_text(encoding="utf-8"), path.name
