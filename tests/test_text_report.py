"""The terminal report wraps feedback instead of cutting it, and names the rest."""
from autograder.report import text
from autograder import results

LONG = ("relu(array([-7.0, -3.0, ...])): 2 of 9 values are wrong: at x = -7.0, index (0,): "
        "expected 0.0, got -7.0 and the message goes on well past one hundred characters")


def _result():
    tests = [results.TestResult(f"relu: check {i}", "relu", "behaviour", 0.0, 1.0, LONG + f" #{i}")
             for i in range(5)]
    return results.GradeResult("s", tests + [results.TestResult("tanh: fine", "tanh", "correctness", 1.0, 1.0)])


def test_feedback_is_wrapped_not_cut():
    out = text.render(_result(), width=60)
    assert all(len(line) <= 60 for line in out.splitlines())
    assert "..." not in out.replace("-3.0, ...]", "")
    joined = " ".join(out.split())
    assert " ".join((LONG + " #0").split()) in joined and " ".join((LONG + " #1").split()) in joined


def test_beyond_the_first_failures_of_a_function_the_rest_are_named():
    joined = " ".join(text.render(_result(), width=80).split())
    assert LONG + " #2" not in joined
    assert "and 3 more checks of relu: check 2 (0/1); check 3 (0/1); check 4 (0/1)" in joined
