"""Staged hints: from the reference's docstrings, never in the stubs, revealed on failure."""
import ast
import re

import pytest

from autograder import config, hints, runner
from autograder.workflows import stubs
from autograder.contract import ARGS
from tests.corpus import Variant, build

def _student_functions(module):
    """The functions of a module students write: those with a solution block."""
    source = (config.SOLUTIONS / f"{module}.py").read_text(encoding="utf-8")
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)
            and "### BEGIN SOLUTION" in ast.get_source_segment(source, n)]


MODULES = {"activations": [f for f in ARGS if not f.endswith("_grad")],
           "derivatives": [f for f in ARGS if f.endswith("_grad")] + ["prelu_grad", "prelu_backward"],
           **{m: _student_functions(m) for m in ("linear_collapse", "dying_relu", "saturation")}}
# What the lecture leaves to the student: each must be a staged hint, never stub text.
LEFT_TO_STUDENTS = {("derivatives", f): "values" for f in
                    ("elu_grad", "gelu_grad", "swish_grad", "prelu_grad", "prelu_backward")}
LEFT_TO_STUDENTS.update({("activations", "sigmoid"): "safe", ("activations", "elu"): "safe",
                         ("derivatives", "gelu_grad"): "dtype",
                         # the collapse algebra, a formula's value at +inf, the backprop of the
                         # vanishing-gradient experiment, the overflow-safe sigmoid
                         ("linear_collapse", "collapse"): "values",
                         ("linear_collapse", "relu_ramp"): "infinity",
                         ("saturation", "first_layer_grad_norms"): "values",
                         ("saturation", "lecture_activation"): "safe"})
# The recipes that used to be written out in the stubs, in the stubs' words.
LEAKED = ("e^-|x|", "expm1", "_sum_to", "sigma(2u)", "0.5 (1 + tanh(u)) + 0.5 x",
          "beta x sigma(beta x) (1 - sigma(beta x))", "d prelu / dalpha = 0",
          "h @ (W_1 W_2) + (b_1 W_2 + b_2)", "W @ W_l, b @ W_l + b_l", "dL/da_l @ W_l.T",
          "dL/dh_l * f'(a_l)", "0.5 * (1.0 + np.tanh(0.5 * a))", "np.minimum(np.maximum(x - a, 0)")


def _flat(text):
    return " ".join(text.split())


def test_what_the_lecture_leaves_to_students_is_a_staged_hint():
    for (module, function), topic in LEFT_TO_STUDENTS.items():
        stages = hints.of(module, function).get(topic, [])
        assert len(stages) == 3, (module, function, topic, stages)


def _release_modules():
    from autograder.workflows import release

    return {m: release.modules()[f"{m}.py"] for m in MODULES}


@pytest.mark.parametrize("where", ["assignments", "release"])
def test_no_hint_appears_in_the_stubs(where):
    texts = ({m: (config.ASSIGNMENTS / f"{m}.py").read_text() for m in MODULES}
             if where == "assignments" else _release_modules())
    stub_text = {m: _flat(t) for m, t in texts.items()}
    assert not any("HINTS" in t for t in stub_text.values())
    count = 0
    for module, functions in MODULES.items():
        for function in functions:
            for stages in hints.of(module, function).values():
                for stage in stages:
                    count += 1
                    assert _flat(stage) not in stub_text[module], (function, stage)
    for leaked in LEAKED:
        assert not any(leaked in t for t in stub_text.values()), leaked
    assert count >= 40


def test_the_leaked_recipes_are_in_the_reference():
    """The leak test can fail: each recipe it looks for is in the reference's hints or code."""
    reference = _flat(" ".join((config.SOLUTIONS / f"{m}.py").read_text() for m in MODULES))
    missing = [leaked for leaked in LEAKED[7:] if leaked not in reference]
    assert not missing, missing


def test_no_hint_appears_in_the_nbgrader_notebooks():
    import json

    from autograder.workflows import nbgrader_course

    for module, functions in MODULES.items():
        text = _flat(json.dumps(nbgrader_course.notebook(module, {})))
        assert "HINTS" not in text
        for function in functions:
            for stages in hints.of(module, function).values():
                assert not any(_flat(stage) in text for stage in stages), function


def test_hint_blocks_must_be_closed():
    with pytest.raises(stubs.MarkerError, match="never closed"):
        stubs.strip_hints('"""doc\n### BEGIN HINTS\nvalues: x\n"""\n')
    with pytest.raises(stubs.MarkerError, match="without a BEGIN"):
        stubs.strip_hints('"""doc\n### END HINTS\n"""\n')
    assert stubs.strip_hints('"""doc\n\n### BEGIN HINTS\nv: a\n  more\n### END HINTS\n"""\n') == '"""doc\n"""\n'
    assert hints.parse("### BEGIN HINTS\nv: a\n  more\nv: b\n### END HINTS") == {"v": ["a more", "b"]}


@pytest.mark.parametrize("level, shows, hides", [
    ("1", ["The product rule"], ["Next:", "Recipe:"]),
    ("2", ["The product rule", "Next: tanh'(u)"], ["Recipe:"]),
    ("3", ["Recipe: gelu'(x) = 0.5 (1 + tanh(u))"], ["shows more"])])
def test_levels(monkeypatch, level, shows, hides):
    monkeypatch.setenv("AUTOGRADER_HINTS", level)
    text = hints.hint("derivatives", "gelu_grad", "values")
    assert all(s in text for s in shows) and not any(h in text for h in hides), text


def test_a_failed_check_reveals_the_hint_up_to_the_level(tmp_path):
    wrong = Variant("gelu-grad-no-product-rule", "derivatives", '''
def gelu_grad(x):
    x = _as_float(x)
    return 0.5 * (1 + np.tanh((2 / np.pi) ** 0.5 * (x + 0.044715 * x**3)))
''')
    result = runner.grade(build(wrong, tmp_path / "s"), select="test_derivatives and gelu_grad and values")
    output = " ".join(t.output for t in result.tests if t.function == "gelu_grad")
    assert "The product rule" in output and "Next:" in output
    assert "Recipe:" not in output and "check --hints 3" in output
    assert re.search(r"gelu_grad\(.*\): \d+ of \d+ values are wrong", output)
