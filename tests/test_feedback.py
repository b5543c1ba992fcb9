"""Feedback starts with a summary (issue 12, point 9): the score, the few things to fix
first (largest loss first), then the details, with checks that failed for one shared cause
folded into one entry instead of repeating it once per check."""
from autograder.report import gradescope, markdown, summary
from autograder.results import GradeResult
from autograder.results import TestResult as Check


def failed(function, name, output, points=1.0, kind="correctness"):
    return Check(name, function, kind, 0.0, points, output)


def syntax_error_result() -> GradeResult:
    """What a syntax error in activations.py does: every check of it fails the same way."""
    why = "activations.py has a syntax error: invalid syntax (line 73)."
    tests = [failed(f, f"{f}: check {i}", f"{f}(array([1.0,\n 2.0])) {why}")
             for f in ("sigmoid", "tanh", "relu") for i in range(40)]
    tests.append(failed("sigmoid_grad", "sigmoid_grad: values", "sigmoid_grad(0.5) returned 0.3, "
                        "expected 0.235", points=2.0))
    tests.append(Check("gelu_grad: values", "gelu_grad", "correctness", 1.0, 1.0, ""))
    return GradeResult("s", tests, "process", 1.0, ["derivatives.py is missing."])


def test_one_cause_is_one_entry_and_wrong_values_stay_their_own():
    entries = summary.fold(syntax_error_result())
    assert len(entries) == 2
    assert entries[0].cause == "activations.py has a syntax error: invalid syntax (line 73)"
    assert len(entries[0].tests) == 120 and entries[0].functions == ["sigmoid", "tanh", "relu"]
    assert entries[1].cause is None and entries[1].lost == 2.0
    assert summary.first(entries, 1) == [entries[0]]  # 120 points lost before 2


def test_markdown_starts_with_the_summary_and_folds_repeats():
    md = markdown.render(syntax_error_result(), "s")
    head = md.split("## What to fix")[0]
    assert head.index("**Score: 1 / 123**") < head.index("## Fix these first") < head.index("## About")
    assert "1. `sigmoid`, `tanh`, `relu`: activations.py has a syntax error" in head
    assert "(120 checks, 120 points)" in head and "2. `sigmoid_grad`: sigmoid_grad: values" in head
    assert md.count("has a syntax error") <= 4  # summary, entry, first message: not 120 times
    assert "## What to fix (121 checks)" in md and "120 checks failed for one cause" in md
    assert "expected 0.235" in md


def test_nothing_to_fix_has_no_summary():
    passed = GradeResult("s", [Check("a", "f", "correctness", 1.0, 1.0)], "process", 0.1)
    assert "Fix these first" not in markdown.render(passed, "s")
    assert gradescope.to_gradescope(passed)["output"] == "Isolation: process."


def test_gradescope_output_starts_with_the_summary():
    out = gradescope.to_gradescope(syntax_error_result())["output"].splitlines()
    assert out[0] == "Score: 1 / 123. Fix these first:"
    assert out[1].startswith("1. sigmoid, tanh, relu: activations.py has a syntax error")
    assert "derivatives.py is missing." in out and out[-1] == "Isolation: process."


def awkward_result(max_score=1.0) -> GradeResult:
    """Names and messages holding what JSON and %-formatting treat specially."""
    tests = [Check('relu: "quoted", 100% \\ back', "relu", "correctness", 0.5, max_score,
                   "got %s and %(x)d\nline two\ttab \u00e9\u2192 \x00"),
             Check("élu: values", "elu", "speed%", 1, max_score, ""),
             Check("tanh: 1/3", "tanh", "purity", 1 / 3, 2.0, "'single' {braces}", public=True)]
    return GradeResult("s", tests, "bubblewrap", 1.25, ["a problem"])


def test_results_json_text_is_json_dumps_of_the_gradescope_dict():
    """``gradescope.dumps`` encodes what every student shares once per list of checks:
    it must stay exactly ``json.dumps(to_gradescope(result))``, for any names, messages,
    int or float points (the same checks with 1 and 1.0, which JSON tells apart), and none."""
    import json

    for result in (syntax_error_result(), awkward_result(), awkward_result(max_score=1),
                   GradeResult("empty", [], "none", 0.0, ["nothing"])):
        assert gradescope.dumps(result) == json.dumps(gradescope.to_gradescope(result))
    assert json.loads(gradescope.dumps(awkward_result()))["tests"][0]["output"].startswith("got %s")
