"""The hidden checks of linear_collapse.py, dying_relu.py and saturation.py against a corpus
of submissions.

Each buggy submission (the reference with one function swapped,
tests/corpus/experiment_bugs.py) must lose points on every function it breaks, and nothing
on any function outside ``breaks + also``; each different-but-correct one must earn full
marks. Only the checks of the three experiment modules run, and of those only the ones of
the module a submission changes: none of the three imports another exercise module
(asserted below), so the other two modules' checks can't see the change, and skipping them
halves the grading time. For the same reason the correct variants are graded together, one
submission per module holding all of its correct swaps (a variant per function at most):
one full-marks grade vouches for all of them.

The do-nothing submissions (tests/corpus/do_nothing_experiments.py: zeros, constants, the
input, untrained, padded or made-up runs, docstring numbers) earn nothing on any function
they fake, and together at most 1% of those functions' points.
"""
import ast
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from autograder import config, runner
from tests.corpus import Variant, assert_costs_only_what_it_breaks, assert_full_marks, build
from tests.corpus.do_nothing_experiments import FAKES
from tests.corpus.experiment_bugs import BUGS, CORRECT

MODULES = ("linear_collapse", "dying_relu", "saturation")


def _swapped(variant):
    return {n.name for n in ast.parse(variant.source.strip()).body if isinstance(n, ast.FunctionDef)}


def _correct_groups():
    """Correct variant id -> the id of the submission it is graded in: its module's correct
    swaps together, a new group whenever a function is swapped a second time."""
    groups, of = [], {}
    for v in CORRECT:
        group = next((g for g in groups if g["module"] == v.module and not g["names"] & _swapped(v)),
                     None)
        if group is None:
            group = {"module": v.module, "names": set(), "members": []}
            groups.append(group)
        group["names"] |= _swapped(v)
        group["members"].append(v)
    submissions = {}
    for k, g in enumerate(groups):
        sid = f"correct-{g['module']}-{k}"
        submissions[sid] = Variant(sid, g["module"], "\n\n".join(v.source.strip() for v in g["members"]),
                                   why=", ".join(v.id for v in g["members"]))
        of.update({v.id: sid for v in g["members"]})
    return submissions, of


GROUPS, GROUP_OF = _correct_groups()
SUBMISSIONS = {**{v.id: v for v in [*BUGS, *FAKES]}, **GROUPS}
AT_MOST = 0.01   # of the faked functions' points, all fakes together (issue 11)


def _submission_id(variant):
    return GROUP_OF.get(variant.id, variant.id)


def _grade_one(submission_id, folder):
    """Build and grade one submission (in a pool process; a sandbox start is a good part of it)."""
    variant = SUBMISSIONS[submission_id]
    return runner.grade(build(variant, Path(folder) / submission_id), select=f"test_{variant.module}")


@pytest.fixture(scope="module")
def graded(request, tmp_path_factory):
    """Every submission the selected tests need, graded once, two at a time: id -> GradeResult."""
    ours = [item for item in request.session.items if item.module is request.module]
    wanted = [_submission_id(item.callspec.params["variant"]) for item in ours
              if hasattr(item, "callspec") and "variant" in item.callspec.params]
    if any(item.name == "test_do_nothing_earns_at_most_one_percent" for item in ours):
        wanted += [v.id for v in FAKES]
    folder = tmp_path_factory.mktemp("corpus")
    # Two workers at most: the machine is shared, and each grade runs a sandbox process too.
    workers = max(1, min(len(wanted), os.cpu_count() or 1, 2))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        # Slowest first (the experiment modules' checks take longest), so the pool ends together.
        order = sorted(dict.fromkeys(wanted), key=lambda i: SUBMISSIONS[i].module == "saturation")
        futures = {i: pool.submit(_grade_one, i, str(folder)) for i in order}
        return {i: f.result() for i, f in futures.items()}


def _student_functions():
    """module -> the functions students write: those with a solution block."""
    out = {}
    for m in MODULES:
        source = (config.SOLUTIONS / f"{m}.py").read_text(encoding="utf-8")
        out[m] = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)
                  and "### BEGIN SOLUTION" in ast.get_source_segment(source, n)}
    return out


def _grade(variant, graded):
    result = graded[_submission_id(variant)]
    assert result.internal == [], result.internal
    assert result.tests, "no checks ran"
    tagged = {t.function for t in result.tests}
    assert tagged <= _student_functions()[variant.module], sorted(tagged)
    return result


def test_corpus_is_big_and_covers_every_function():
    functions = _student_functions()
    assert sum(map(len, functions.values())) >= 20, functions   # the solution blocks were found
    broken = {f for v in BUGS for f in v.breaks}
    assert len({v.id for v in BUGS}) == len(BUGS) >= 20
    assert len({v.id for v in CORRECT}) == len(CORRECT) >= 5
    missing = set().union(*functions.values()) - broken
    assert not missing, sorted(missing)
    for v in BUGS:
        assert v.breaks and set(v.breaks + v.also) <= functions[v.module], v.id
    for v in CORRECT:
        assert not v.breaks and _swapped(v), v.id


def test_experiment_modules_are_independent():
    """Grading a submission with its own module's checks only is sound: no experiment module
    imports another exercise module at module level. (saturation.py's ``timed_activations``
    imports activations.py inside, for ``main`` only; no check runs it.)"""
    for m in MODULES:
        tree = ast.parse((config.SOLUTIONS / f"{m}.py").read_text(encoding="utf-8"))
        imported = {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import)
                    for a in n.names}
        imported |= {n.module.split(".")[0] for n in tree.body
                     if isinstance(n, ast.ImportFrom) and n.module}
        assert not imported & (set(config.EXERCISE_MODULES) - {m}), (m, imported)
        assert (config.CHECKS / f"test_{m}.py").is_file()


@pytest.mark.parametrize("variant", BUGS, ids=[v.id for v in BUGS])
def test_bug_costs_points_where_it_should_and_nowhere_else(variant, graded):
    assert_costs_only_what_it_breaks(variant, _grade(variant, graded))


@pytest.mark.parametrize("variant", CORRECT, ids=[v.id for v in CORRECT])
def test_correct_alternative_earns_full_marks(variant, graded):
    assert_full_marks(_grade(variant, graded), f"{variant.id} ({variant.why}), graded together "
                      f"with {SUBMISSIONS[_submission_id(variant)].why},")


@pytest.mark.parametrize("variant", FAKES, ids=[v.id for v in FAKES])
def test_do_nothing_earns_nothing_on_what_it_fakes(variant, graded):
    result = _grade(variant, graded)
    earned = {f: s for f, (s, m) in result.by_function().items() if f in variant.breaks and s > 0}
    assert not earned, (f"{variant.id} ({variant.why}) earned points on {earned}:\n"
                        + "\n".join(f"{t.name}: {t.score}/{t.max_score}" for t in result.tests
                                     if t.function in earned and t.score > 0))
    assert_costs_only_what_it_breaks(variant, result)


def test_do_nothing_earns_at_most_one_percent(graded):
    earned = total = 0.0
    for variant in FAKES:
        for f, (s, m) in _grade(variant, graded).by_function().items():
            if f in variant.breaks:
                earned, total = earned + s, total + m
    assert total > 0 and earned <= AT_MOST * total, (earned, total)


def test_do_nothing_corpus_fakes_every_function():
    functions = _student_functions()
    faked = {(v.module, f) for v in FAKES for f in v.breaks}
    missing = {(m, f) for m, fs in functions.items() for f in fs} - faked
    assert not missing, sorted(missing)


def _variant(variant_id):
    return next(v for v in BUGS if v.id == variant_id)


@pytest.mark.parametrize("variant", [_variant("relu-ramp-literal-difference")], ids=lambda v: v.id)
def test_literal_ramp_loses_exactly_the_infinity_check(variant, graded):
    """The docstring's promise at +inf is checked, and is all the literal formula gets wrong."""
    failed = [t for t in _grade(variant, graded).tests if not t.passed]
    assert [t.name for t in failed] == ["relu_ramp: 1 at x = +inf, as the docstring says (the "
                                        "limit, not inf - inf)"], [t.name for t in failed]
    assert "inf - inf" in failed[0].output and "relu_ramp(" in failed[0].output


@pytest.mark.parametrize("variant", [_variant("linear-forward-column-vectors")], ids=lambda v: v.id)
def test_column_vector_forward_is_told_it_returned_the_transpose(variant, graded):
    failed = [t for t in _grade(variant, graded).tests if not t.passed and t.function == "linear_forward"]
    assert failed
    text = " ".join(t.output for t in failed)
    assert "transpose" in text and "one row per input row" in text, text
    assert "elementwise" not in text, text


@pytest.mark.parametrize("variant", [_variant("collapse-one-layer-returns-its-input")],
                         ids=lambda v: v.id)
def test_a_collapse_that_returns_its_input_loses_exactly_the_fresh_arrays_check(variant, graded):
    """Right values, the caller's own arrays: only the sandbox's alias count can tell."""
    failed = [t for t in _grade(variant, graded).tests if not t.passed]
    assert [t.name for t in failed] == ["collapse: returns new arrays, not its inputs (one "
                                        "layer too)"], [t.name for t in failed]
    assert "share memory with its input" in failed[0].output
