"""The hidden checks of activations.py and derivatives.py against a corpus of submissions.

Each buggy submission (the reference with one function swapped, tests/corpus/activation_bugs.py)
must lose points on every function it breaks, and nothing on any function outside
``breaks + also``; each different-but-correct one must earn full marks. Only the checks of
these two modules are run (no other module uses them), so every function they exercise is
covered by the "nothing else lost" assertion.
"""
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from autograder import runner
from tests.corpus import assert_costs_only_what_it_breaks, assert_full_marks, build
from tests.corpus.activation_bugs import BUGS, CORRECT

SELECT = "test_activations or test_derivatives"
VARIANTS = {v.id: v for v in [*BUGS, *CORRECT]}


def _grade_one(variant_id, folder):
    """Build and grade one variant (in a pool process; a sandbox start is most of it)."""
    return runner.grade(build(VARIANTS[variant_id], Path(folder) / variant_id), select=SELECT)


@pytest.fixture(scope="module")
def graded(request, tmp_path_factory):
    """Every selected variant graded once, on all cores at once: id -> GradeResult."""
    wanted = [item.callspec.params["variant"].id for item in request.session.items
              if item.module is request.module and hasattr(item, "callspec")
              and "variant" in item.callspec.params]
    folder = tmp_path_factory.mktemp("corpus")
    workers = max(1, min(len(wanted), os.cpu_count() or 1, 4))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {i: pool.submit(_grade_one, i, str(folder)) for i in dict.fromkeys(wanted)}
        return {i: f.result() for i, f in futures.items()}


def _grade(variant, graded):
    result = graded[variant.id]
    assert result.internal == [], result.internal
    assert result.tests, "no checks ran"
    return result


def test_corpus_is_big_and_covers_every_function():
    from autograder.reference import module

    functions = {n for m in ("activations", "derivatives") for n, v in vars(module(m)).items()
                 if callable(v) and not n.startswith("_") and getattr(v, "__module__", m) == m}
    broken = {f for v in BUGS for f in v.breaks}
    assert len({v.id for v in VARIANTS.values()}) == len(BUGS) + len(CORRECT)
    assert len(BUGS) >= 30
    assert len({v.id for v in CORRECT}) == len(CORRECT) >= 6
    assert functions <= broken, sorted(functions - broken)


@pytest.mark.parametrize("variant", BUGS, ids=[v.id for v in BUGS])
def test_bug_costs_points_where_it_should_and_nowhere_else(variant, graded):
    assert_costs_only_what_it_breaks(variant, _grade(variant, graded))


@pytest.mark.parametrize("variant", CORRECT, ids=[v.id for v in CORRECT])
def test_correct_alternative_earns_full_marks(variant, graded):
    assert_full_marks(_grade(variant, graded), f"{variant.id} ({variant.why})")
