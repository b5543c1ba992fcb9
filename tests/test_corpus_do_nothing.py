"""Submissions that do no maths earn nothing (tests/corpus/do_nothing.py): zeros, ones, the
input, constants, another function's formula, derivatives differenced instead of derived,
numbers copied from the docstrings. Each earns 0 on every function it fakes but doesn't
compute, and loses nothing on the functions it leaves as they are."""
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from autograder import runner
from tests.corpus.do_nothing import VARIANTS, build

SELECT = "test_activations or test_derivatives"
BY_ID = {v.id: v for v in VARIANTS}


def _grade_one(variant_id, folder):
    return runner.grade(build(BY_ID[variant_id], Path(folder) / variant_id), select=SELECT)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("do_nothing")
    with ProcessPoolExecutor(max(1, min(os.cpu_count() or 1, 4)),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {v.id: pool.submit(_grade_one, v.id, str(folder)) for v in VARIANTS}
        return {i: f.result() for i, f in futures.items()}


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_do_nothing_earns_nothing_on_what_it_fakes(variant, graded):
    result = graded[variant.id]
    assert result.internal == [], result.internal
    faked = set(variant.fakes) - set(variant.computes)
    paid = [f"{t.name}: {t.score}" for t in result.tests if t.function in faked and t.score > 0]
    assert not paid, f"{variant.id} ({variant.why}) was paid for:\n" + "\n".join(paid)
    kept = {f: s for f, s in result.by_function().items() if f not in variant.fakes and s[0] < s[1]}
    assert not kept, f"{variant.id} lost points on functions it does not fake: {kept}"
    for t in result.tests:  # every zero says why, in one line when the gate decided it
        if t.function in faked:
            assert t.output.strip(), t.name
            if t.output.startswith("Not credited"):
                assert "\n" not in t.output, t.output


def test_a_submission_of_zeros_earns_under_one_percent(graded):
    result = graded["zeros"]
    faked = set(BY_ID["zeros"].fakes)
    earned = sum(t.score for t in result.tests if t.function in faked)
    total = sum(t.max_score for t in result.tests if t.function in faked)
    assert total > 100 and earned <= 0.01 * total, (earned, total)
