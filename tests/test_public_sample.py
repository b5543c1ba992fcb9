"""One public sample, representative, measured (issue 13, point 2).

``python -m autograder check`` and the bundle's ``test_public.py`` run the same cases, with
the same names and the same verdicts on the same submission; the sample has a case of every
kind of check; failures carry the reference's staged hints; and on the corpora, every
submission that loses hidden points fails a public case (but the one stated below), while
every correct one passes them all.
"""
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from autograder import config, hints
from autograder.workflows import public_check, release
from tests.corpus.agreement import by_id, public_failures

# What the public sample can't see, and why (docs/grading.md says so too).
KNOWN_MISSES = {
    "time-activations-invented": "times made up to look measured: consistent with themselves, "
                                 "and no fixed expected value exists for a wall-clock time",
}
# Submissions run both ways (check and test_public.py): one per kind of case.
BOTH_WAYS = ["sigmoid-exp-overflow", "sigmoid-always-float64", "relu-where-swallows-nan",
             "relu-in-place", "relu-python-loop", "relu6-prints", "prelu-backward-unreduced",
             "leaky-relu-grad-kink-zero", "gradient-check-empty-raises",
             "linear-forward-relu-between", "relu-ramp-not-normalised", "circles-lucky-seed",
             "dead-unit-grads-before-push", "time-activations-relative-to-first",
             "sigmoid-via-tanh", "collapse-one-layer-returns-its-input",
             "relu-ramp-literal-difference"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "bundle"
    release.build(out)
    return out


def _pytest_verdicts(bundle: Path, modules_from: Path | None, work: Path, *args) -> tuple[dict, str]:
    """Run the bundle's test_public.py as a student does, on the exercise modules of
    ``modules_from`` (None: the stubs); return (case id -> passed, the output)."""
    shutil.copytree(bundle, work)
    if modules_from is not None:
        for m in config.EXERCISE_MODULES:
            shutil.copy(modules_from / f"{m}.py", work / f"{m}.py")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                          "test_public.py", *args], cwd=work, capture_output=True, text=True,
                         timeout=600, env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin"})
    verdicts = {m[2]: m[1] == "PASSED" for m in
                re.finditer(r"^(PASSED|FAILED) test_public\.py::test_public\[(.+?)\]", run.stdout, re.M)}
    return verdicts, run.stdout


def _check_verdicts(folder: Path) -> dict:
    return {t.name: t.passed for t in public_check.run(folder).tests}


@pytest.mark.parametrize("variant", ["reference", "stubs", *BOTH_WAYS])
def test_check_and_test_public_run_the_same_cases_with_the_same_verdicts(variant, bundle, tmp_path):
    if variant == "reference":
        folder = config.SOLUTIONS
    elif variant == "stubs":
        folder = None
    else:
        folder = by_id()[variant].build(tmp_path / "submission")
    local, out = _pytest_verdicts(bundle, folder, tmp_path / "student")
    sandboxed = _check_verdicts(folder if folder is not None else config.ASSIGNMENTS)
    cases = [c["id"] for c in public_check.cases()]
    assert sorted(sandboxed) == sorted(cases) and len(cases) == len(set(cases))
    assert sorted(local) == sorted(cases), out[-3000:]
    differ = {i: (local[i], sandboxed[i]) for i in cases if local[i] != sandboxed[i]}
    assert not differ, f"(test_public.py, check) verdicts differ: {differ}"
    if variant == "reference" or by_id().get(variant) and by_id()[variant].group == "correct":
        assert all(local.values())
    else:
        assert not all(local.values())


def test_the_sample_has_a_case_of_every_kind():
    """Input forms and dtypes, NaN/inf, warnings, purity, whole-array code, kinks, errors,
    and a small run of every experiment module with a claim or the reference's values."""
    cases = public_check.cases()
    labels = {c["id"].split("-", 1)[1] for c in cases}
    for form in ("values", "float32", "int-2d", "bool", "0d", "number", "safe", "nan-inf", "inf"):
        assert form in labels, form
    props = {p for c in cases for p in c["properties"]}
    assert props == {"warnings", "pure", "fresh"}
    assert any(c.get("vector") for c in cases) and any(c.get("lo") for c in cases)
    assert any(c.get("raises") for c in cases)
    for module in config.EXERCISE_MODULES:
        mine = [c for c in cases if c["module"] == module]
        functions = {c["function"] for c in mine}
        assert len(mine) > len(functions), module  # more than one case per function somewhere
        if module not in ("activations", "derivatives"):
            assert any(c["kind"] == "experiment" for c in mine), module
    assert {c["claim"] for c in cases if c.get("claim")} >= {"dead_unit_stays_dead",
                                                             "saturation_consistent"}
    # every elementwise function: every input form, huge finite inputs without warnings
    for function in ("sigmoid", "relu_grad", "prelu", "gelu_grad"):
        forms = {c["id"].split("-", 1)[1] for c in cases if c["function"] == function}
        assert {"values", "float32", "int-2d", "bool", "0d", "number", "safe"} <= forms, function


def test_a_public_failure_carries_the_staged_hint_both_ways(bundle, tmp_path):
    variant = by_id()["sigmoid-exp-overflow"]
    folder = variant.build(tmp_path / "submission")
    stages = hints.of("activations", "sigmoid")["safe"]
    assert len(stages) == 3
    [message] = [t.output for t in public_check.run(folder).tests if t.name == "activations.sigmoid-safe"]
    flat = " ".join(message.split())
    assert " ".join(stages[0].split()) in flat and " ".join(stages[1].split()) in flat
    assert " ".join(stages[2].split()) not in flat and "check --hints 3" in flat
    [recipe] = [t.output for t in public_check.run(folder, level=3).tests
                if t.name == "activations.sigmoid-safe"]
    assert " ".join(stages[2].split()) in " ".join(recipe.split())
    _, out = _pytest_verdicts(bundle, folder, tmp_path / "student", "-k", "sigmoid-safe")
    flat = " ".join(out.split())
    assert " ".join(stages[1].split()) in flat and "AUTOGRADER_HINTS=3" in flat
    # the recipe is in the bundle only as a spoiler, not as text a student reads by accident
    text = " ".join((bundle / "public_checks.json").read_text().split())
    assert " ".join(stages[2].split()) not in text


def _public(submission_id, folder):
    s = by_id()[submission_id]
    return public_failures(s.build(Path(folder) / s.id), modules=s.modules)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Every corpus submission's public failures (of the modules it changes; the others
    are the reference's), on all cores: id -> {case id: message}."""
    folder = tmp_path_factory.mktemp("agreement")
    with ProcessPoolExecutor(max(1, min(os.cpu_count() or 1, 4)),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {i: pool.submit(_public, i, str(folder)) for i in by_id()}
        return {i: f.result() for i, f in futures.items()}


def test_every_submission_that_loses_hidden_points_fails_a_public_case(corpus):
    """The corpus tests show each bug and fake loses hidden points on what it breaks; the
    public sample must see it too (KNOWN_MISSES excepted, and still missed: a miss the sample
    learns to see is taken off that list)."""
    losing = [s for s in by_id().values() if s.loses_points]
    assert len(losing) >= 120
    missed = sorted(s.id for s in losing if not corpus[s.id])
    assert missed == sorted(KNOWN_MISSES), missed


def test_every_correct_submission_passes_every_public_case(corpus):
    correct = [s for s in by_id().values() if not s.loses_points]
    assert len(correct) >= 10
    alarms = {s.id: sorted(corpus[s.id]) for s in correct if corpus[s.id]}
    assert not alarms, alarms


def test_check_judges_odd_returns_as_failures_not_grader_errors(tmp_path):
    """Whatever a function returns (text, a dict for an array, a list for a dict, parts of
    the wrong type), the case fails with a reason and the grader judges on."""
    from tests.corpus import Variant, build

    odd = {"activations": "def sigmoid(x):\n    return 'sigmoid'\n\ndef relu(x):\n    return {'a': 1}\n",
           "dying_relu": "def dead_unit_experiment(seed=0, unit=0, bias=-100.0, lr=0.5, steps=1000):\n"
                         "    return [1, 2]\n",
           "saturation": "def saturation_experiment(n_in=1000, n_units=100, n_samples=200, eps=1e-2, seed=0):\n"
                         "    return {'fractions': 'most', 'x': None}\n"}
    folder = tmp_path / "odd"
    build(Variant("odd", "activations", odd["activations"]), folder)
    for module in ("dying_relu", "saturation"):
        build(Variant("odd", module, odd[module]), tmp_path / module)
        shutil.copy(tmp_path / module / f"{module}.py", folder / f"{module}.py")
    result = public_check.run(folder)
    assert result.internal == []
    failed = {t.name for t in result.tests if not t.passed}
    assert {"activations.sigmoid-values", "activations.relu-values",
            "dying_relu.dead_unit_experiment-small-run",
            "saturation.saturation_experiment-small-run"} <= failed
    assert {f.split("-")[0] for f in failed} <= {"activations.sigmoid", "activations.relu",
                                                 "activations.swish", "derivatives.sigmoid_grad",
                                                 "derivatives.swish_grad",
                                                 "dying_relu.dead_unit_experiment",
                                                 "saturation.saturation_experiment"}, failed
