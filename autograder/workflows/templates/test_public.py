"""Public checks: a sample of calls to your functions, with what each must give.

Run them from this folder with

    python -m pytest test_public.py            # all of them
    python -m pytest test_public.py -k sigmoid # the ones whose name mentions sigmoid
    AUTOGRADER_HINTS=3 python -m pytest test_public.py   # hints up to the recipe

They import your modules here, on your own machine, and judge what your functions return
(public_checks.json holds the calls and the reference's answers). The sample has a case of
every kind the autograder checks: values on ordinary inputs and at kinks, float32, int,
bool, list, 0-d and 2-D inputs, NaN and +-inf, no floating-point warnings on huge inputs,
inputs left unmodified and nothing printed, whole-array (vectorised) code, shapes, and a
small run of each experiment with the lecture's claim checked on what it returned.
``python -m autograder check`` runs exactly these cases, judged by this file. The hidden
autograder that gives your grade checks more inputs of each kind: passing every public
check is a good sign, not your grade.
"""
import base64
import contextlib
import functools
import importlib
import io
import json
import os
import random
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
STAGES = ("", "Next: ", "Recipe: ")


# --------------------------------------------------------------------------- the data

@functools.lru_cache(maxsize=None)
def load(folder=HERE):
    """public_checks.json of ``folder``: {"cases": [...], "hint_level": n, ...}."""
    return json.loads((Path(folder) / "public_checks.json").read_text(encoding="utf-8"))


def decode(value, resolve=None):
    """public_checks.json's values back into Python: arrays, tuples, dicts, functions.
    ``resolve(path)`` turns a function's "module.name" into what is passed (default: the
    function itself, imported here)."""
    if isinstance(value, list):
        return [decode(v, resolve) for v in value]
    if not isinstance(value, dict):
        return value
    if "ndarray" in value:
        return np.array(value["ndarray"], dtype=value["dtype"])
    if "linspace" in value:
        return np.linspace(*value["linspace"])
    if "tuple" in value:
        return tuple(decode(v, resolve) for v in value["tuple"])
    if "dict" in value:
        return {k: decode(v, resolve) for k, v in value["dict"].items()}
    if resolve is not None:
        return resolve(value["function"])
    module, _, name = value["function"].rpartition(".")
    return getattr(importlib.import_module(module), name)


def plain(value):
    """What a returned value is made of, as the autograder's sandbox sends it back: a
    numpy scalar is a 0-d array, an array subclass its plain array, tuples stay tuples."""
    if isinstance(value, np.generic):
        return np.asarray(value)
    if isinstance(value, np.ndarray):
        return np.ndarray.view(value, np.ndarray)
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- a call here

def _exercise_files(folder):
    return {str(Path(folder) / f"{m}.py") for m in ("activations", "derivatives",
                                                    "linear_collapse", "dying_relu", "saturation")}


def count_lines(function, xs, rest, kwargs, folder=HERE):
    """Python lines run in the exercise modules' own code by ``function(x, *rest)`` for each
    ``x`` in ``xs``: the same whatever the size for whole-array code, more for a loop."""
    files, counts = _exercise_files(folder), []
    for x in xs:
        n = [0]

        def local(frame, event, arg):
            if event == "line":
                n[0] += 1
            return local

        def tracer(frame, event, arg):
            return local if frame.f_code.co_filename in files else None

        old = sys.gettrace()
        sys.settrace(tracer)
        try:
            with np.errstate(all="ignore"):
                function(x, *rest, **kwargs)
        finally:
            sys.settrace(old)
        counts.append(n[0])
    return counts


def _arrays(value):
    """The numpy arrays in a value (in its lists, tuples and dicts)."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _arrays(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _arrays(v)


def call_here(case):
    """Call the case's function here, as the sandbox does: seeded, floating-point warnings
    recorded (underflow is fine), what it prints captured. Returns the outcome ``verdict``
    judges: value, error, warnings, printed, args_after, kwargs_after, aliases, lines."""
    function = getattr(importlib.import_module(case["module"]), case["function"])
    args, kwargs = decode(case["args"]), {k: decode(v) for k, v in case["kwargs"].items()}
    seen, out = set(), io.StringIO()
    random.seed(0)
    np.random.seed(0)
    outcome = {"value": None, "error": None, "lines": None, "lines_error": None}
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), \
                np.errstate(over="call", invalid="call", divide="call", under="ignore",
                            call=lambda kind, flag: seen.add(kind)):
            returned = function(*args, **kwargs)
        inputs = list(_arrays([args, kwargs]))
        outcome["aliases"] = sum(any(np.may_share_memory(a, i) for i in inputs)
                                 for a in _arrays(returned))
        outcome["value"] = plain(returned)
    except Exception as exc:  # noqa: BLE001 - the student's error is the verdict's input
        outcome["error"] = f"raised {type(exc).__name__}: {exc}"
    warned = sorted({w for w in ("divide", "invalid", "overflow") for f in seen if w in f})
    outcome.update(warnings=warned, printed=out.getvalue(), args_after=plain(args),
                   kwargs_after=plain(kwargs))
    if case.get("vector") and outcome["error"] is None:
        lo, hi, sizes = case["vector"]
        rest, kwargs = decode(case["args"])[1:], {k: decode(v) for k, v in case["kwargs"].items()}
        try:
            outcome["lines"] = count_lines(function, [np.linspace(lo, hi, n) for n in sizes],
                                           rest, kwargs)
        except Exception as exc:  # noqa: BLE001
            outcome["lines_error"] = f"raised {type(exc).__name__}: {exc}"
    return outcome


# --------------------------------------------------------------------------- the verdict

def hint(case, level, more="AUTOGRADER_HINTS={n} python -m pytest test_public.py"):
    """The case's staged hint up to ``level`` (a nudge, the idea, the recipe)."""
    stages = [base64.b64decode(t).decode("utf-8") for t in case.get("hints") or []]
    if not stages:
        return f"Read the docstring of {case['function']} in {case['module']}.py."
    level = max(1, min(len(STAGES), int(level)))
    shown = " ".join(p + t for p, t in zip(STAGES, stages[:level]))
    return shown + ("" if level >= len(stages) else f" (`{more.format(n=len(stages))}` shows more.)")


def mismatch(got, expected, rtol, atol, where="", lo=None, hi=None):
    """Why ``got`` is not ``expected`` (a sentence), or None when it matches. ``lo``, ``hi``:
    at a kink any value between them is right."""
    if isinstance(expected, (tuple, list)):
        what = "a pair (tuple)" if isinstance(expected, tuple) else "a list"
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"{where}expected {what} of {len(expected)} values, got {type(got).__name__}"
        for i, (g, e) in enumerate(zip(got, expected)):
            why = mismatch(g, e, rtol, atol, f"{where.rstrip(': ')}[{i}]: ")
            if why:
                return why
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{where}expected a dict, got {type(got).__name__}"
        for k, e in expected.items():
            if k not in got:
                return f"{where}the key {k!r} is missing"
            why = mismatch(got[k], e, rtol, atol, f"{where.rstrip(': ')}[{k!r}]: ")
            if why:
                return why
        return None
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray):
            return (f"{where}expected a numpy array, got {type(got).__name__}; "
                    "build the result with numpy operations (np.asarray, np.where, ...)")
        if got.shape != expected.shape:
            return f"{where}expected shape {expected.shape}, got shape {got.shape}"
        if got.dtype != expected.dtype:
            return f"{where}expected dtype {expected.dtype}, got dtype {got.dtype}"
        if got.dtype.kind == "b" or expected.dtype.kind == "b":
            bad = got != expected
        elif got.dtype.kind not in "iuf":
            return f"{where}expected numbers, got dtype {got.dtype}"
        else:
            g = got.astype(np.float64)
            want = expected.astype(np.float64)
            if lo is not None:  # at a kink: the nearer end of [lo, hi] where got is outside
                want = np.where(np.isnan(g), want, np.clip(g, np.minimum(lo, hi), np.maximum(lo, hi)))
            bad = ~np.isclose(g, want, rtol=rtol, atol=atol, equal_nan=True)
        if not bad.any():
            return None
        index = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        return (f"{where}{int(bad.sum())} of {bad.size} values differ; at index {index}: "
                f"expected {expected[index].item()!r}, got {got[index].item()!r}")
    if isinstance(expected, bool) or not isinstance(expected, (int, float)):
        same = type(got) is type(expected) and got == expected
        return None if same else f"{where}expected {expected!r}, got {got!r}"
    if isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind in "iuf":
        got = got.item()
    if not isinstance(got, (int, float)) or isinstance(got, bool):
        return f"{where}expected a number, got {type(got).__name__}: {got!r}"
    if np.isclose(float(got), expected, rtol=rtol, atol=atol, equal_nan=True):
        return None
    return f"{where}expected {expected!r}, got {float(got)!r}"


def _same(before, after):
    if isinstance(before, np.ndarray):
        return (isinstance(after, np.ndarray) and after.shape == before.shape
                and after.dtype == before.dtype and np.array_equal(after, before, equal_nan=True))
    if isinstance(before, (list, tuple)):
        return (isinstance(after, (list, tuple)) and len(after) == len(before)
                and all(_same(b, a) for b, a in zip(before, after)))
    if isinstance(before, dict):
        return isinstance(after, dict) and after.keys() == before.keys() and all(
            _same(before[k], after[k]) for k in before)
    return before == after or (before != before and after != after)


def _array(value, *path):
    for key in path:
        value = value[key]
    return np.asarray(value, dtype=np.float64)


def _dead_unit_stays_dead(got, kwargs):
    """dead_unit_experiment: the pushed unit gets exactly zero gradient and its parameters
    are bit for bit what they were, while the rest of the network learned."""
    unit = kwargs.get("unit", 0)
    if np.any(_array(got, "grad_w") != 0) or np.any(_array(got, "grad_b") != 0):
        return ("the dead unit got a non-zero gradient (grad_w / grad_b): with its bias pushed "
                "to -100 its pre-activation is negative on every input, so relu' = 0 there")
    w0, w1 = _array(got, "weights_before", 0), _array(got, "weights_after", 0)
    b0, b1 = _array(got, "biases_before", 0), _array(got, "biases_after", 0)
    if np.any(w0[:, unit] != w1[:, unit]) or b0[unit] != b1[unit]:
        return "the dead unit's weights or bias moved during training: a dead unit stays dead"
    if np.array_equal(w0, w1):
        return "nothing of the first layer learned: the other units are alive and must move"
    return None


def _saturation_consistent(got, kwargs):
    """saturation_experiment: the pre-activations are x @ W, and the N(0, 1) weights
    saturate more sigmoid and tanh units than the N(0, 1/n) ones (the lecture's claim)."""
    x = _array(got, "x")
    for scale in ("N(0,1)", "N(0,1/n)"):
        a = _array(got, "pre_activations", scale)
        if a.shape != (x.shape[0], _array(got, "weights", scale).shape[1]) or not np.allclose(
                a, x @ _array(got, "weights", scale), rtol=1e-7, atol=1e-9):
            return f"pre_activations[{scale!r}] is not x @ weights[{scale!r}]"
    for f in ("sigmoid", "tanh"):
        if not got["fractions"][f]["N(0,1)"] > got["fractions"][f]["N(0,1/n)"]:
            return (f"{f}: N(0,1) weights must saturate more units than N(0,1/n) weights "
                    "(a sum of many terms reaches 2 or 3)")
    return None


def _sigmoid_signs_agree(got, kwargs):
    """sign_mixing_experiment: with sigmoid inputs every weight gradient of a neuron has the
    sign of the shared delta (no sign-mixed vector); with tanh inputs most are mixed."""
    g = _array(got, "grads", "sigmoid")
    if np.any((g > 0).any(axis=1) & (g < 0).any(axis=1)):
        return "a sigmoid-fed neuron got weight gradients of both signs: h > 0 and one delta"
    if got["fractions"]["sigmoid"] != 0:
        return "fractions['sigmoid'] must be exactly 0"
    return None


def _timings_consistent(got, kwargs):
    """time_activations: every raw time measured (positive, one per size and repeat), the
    fastest repeat per element, and each function relative to the baseline."""
    sizes = np.asarray(kwargs["sizes"], dtype=np.float64)
    base = _array(got["per_element"], kwargs["baseline"])
    for name in got["names"]:
        seconds = _array(got["seconds"], name)
        if seconds.shape != (sizes.size, kwargs["repeat"]) or not np.all(seconds > 0):
            return f"seconds[{name!r}] must hold one positive time per size and repeat"
        per = _array(got["per_element"], name)
        if not np.allclose(per, seconds.min(axis=1) / sizes, rtol=1e-9, atol=0):
            return f"per_element[{name!r}] is not the fastest repeat divided by the size"
        if not np.allclose(_array(got["relative"], name), per / base, rtol=1e-9, atol=0):
            return f"relative[{name!r}] is not per_element / per_element of the baseline"
    return None


CLAIMS = {"timings_consistent": _timings_consistent,
          "dead_unit_stays_dead": _dead_unit_stays_dead,
          "saturation_consistent": _saturation_consistent,
          "sigmoid_signs_agree": _sigmoid_signs_agree}


def verdict(case, outcome, level, more=None):
    """Why the case fails (a message, with the case's hint where the failure is about what
    to compute), or None when it passes. The same judgement for a call made here and one
    made in the autograder's sandbox."""
    where = f"{case['module']}.{case['call']}"
    error = outcome.get("error")
    if error is not None and error.startswith("raised NotImplementedError"):
        return (f"{case['module']}.{case['function']} is not written yet: replace its "
                "`raise NotImplementedError` with your code.")
    hinted = True
    if case.get("raises"):
        if error is not None and error.startswith(f"raised {case['raises']}"):
            return None
        why = (f"expected it to raise {case['raises']} (the docstring says when), but it "
               + (error if error is not None else "returned a value"))
    elif error is not None:
        why = error
    else:
        why = _wrong(case, outcome)
        if why is None:
            why, hinted = _improper(case, outcome), False
    if why is None:
        return None
    if not hinted:  # the message says what to change: a loop, a write, a print
        return f"{where}: {why}."
    return f"{where}: {why}.\nHint: {hint(case, level, *([more] if more else []))}"


class _Passed(str):
    """A function the case passes, by name: judging never imports the student's code."""


def _wrong(case, outcome):
    """Why the returned value is wrong: values, shape, dtype, numpy's warnings, the claim."""
    got = outcome["value"]
    expected = decode(case["expected"], resolve=_Passed)
    lo, hi = (decode(case[k]) if k in case else None for k in ("lo", "hi"))
    why = mismatch(got, expected, case["rtol"], case["atol"], lo=lo, hi=hi)
    if why:
        return why
    if "warnings" in case.get("properties", []) and outcome["warnings"]:
        return (f"right values, but numpy warned ({', '.join(outcome['warnings'])}): every "
                "finite input must be handled without an overflow, invalid or divide warning")
    if case.get("claim"):
        kwargs = {k: decode(v, resolve=_Passed) for k, v in case["kwargs"].items()}
        try:
            return CLAIMS[case["claim"]](got, kwargs)
        except Exception as exc:  # noqa: BLE001 - whatever it returned, a verdict
            return f"what it returned lacks a part the lecture's claim needs ({type(exc).__name__}: {exc})"
    return None


def _improper(case, outcome):
    """Why right values came the wrong way: an input written to, a print, a Python loop."""
    if "pure" in case.get("properties", []):
        before = [*enumerate(decode(case["args"], resolve=_Passed), 1),
                  *{k: decode(v, resolve=_Passed) for k, v in case["kwargs"].items()}.items()]
        after = dict(enumerate(outcome.get("args_after") or [], 1))
        after.update(outcome.get("kwargs_after") or {})
        for name, value in before:
            if name in after and not isinstance(value, _Passed) and not _same(value, after[name]):
                return (f"right values, but it changed its argument {name}: never write into "
                        "an input (x[...] = ..., x *= ..., out=x); build a new array")
        if outcome.get("printed"):
            return (f"right values, but it printed {outcome['printed'].strip()[:80]!r}: a "
                    "function returns its values and prints nothing")
    if "fresh" in case.get("properties", []) and outcome.get("aliases"):
        return (f"right values, but {outcome['aliases']} of the arrays it returned share memory "
                "with its input (the input itself, or a view of it): return new arrays")
    if case.get("vector"):
        lines, (_, _, sizes) = outcome.get("lines"), case["vector"]
        if outcome.get("lines_error"):
            return f"on np.linspace(-5, 5, {sizes[1]}) it {outcome['lines_error']}"
        if not lines or len(lines) != 2:
            return "its Python lines could not be counted"
        if lines[1] - lines[0] > case["lines_per_element"] * (sizes[1] - sizes[0]):
            return (f"right values, but not whole-array code: it ran {lines[0]} Python lines "
                    f"on {sizes[0]} elements and {lines[1]} on {sizes[1]}; numpy operations on "
                    "the whole array run the same lines whatever its size")
    return None


# --------------------------------------------------------------------------- pytest

def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        cases = load()["cases"]
        metafunc.parametrize("case", cases, ids=[c["id"] for c in cases])


def test_public(case):
    import pytest

    why = verdict(case, call_here(case), os.environ.get("AUTOGRADER_HINTS") or load()["hint_level"])
    if why:
        pytest.fail(why, pytrace=False)
