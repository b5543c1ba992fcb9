"""Public checks: a small sample of calls to your functions, with the expected results.

Run them from this folder with

    python -m pytest test_public.py            # all of them
    python -m pytest test_public.py -k sigmoid # the ones whose name mentions sigmoid

They import your modules here, on your own machine, and compare what your functions return
with what the reference returns on the same inputs (public_checks.json). They are a sample:
the hidden autograder that gives your grade checks much more (edge cases such as +-inf, NaN
and |x| = 1e6, float32 and integer inputs, that inputs are not modified, numerical warnings,
speed on large arrays, your gradients and your experiments). Passing every public check is a
good sign, not your grade.
"""
import importlib
import json
from pathlib import Path

import numpy as np
import pytest

CHECKS = json.loads(Path(__file__).with_name("public_checks.json").read_text(encoding="utf-8"))


def decode(value):
    """public_checks.json's values back into Python: arrays, tuples, dicts, functions."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "ndarray" in value:
        return np.array(value["ndarray"], dtype=value["dtype"])
    if "tuple" in value:
        return tuple(decode(v) for v in value["tuple"])
    if "dict" in value:
        return {k: decode(v) for k, v in value["dict"].items()}
    module, _, name = value["function"].rpartition(".")
    return getattr(importlib.import_module(module), name)


def mismatch(got, expected, rtol, atol, where=""):
    """Why ``got`` is not ``expected`` (a sentence), or None when it matches."""
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"{where}expected a pair (tuple) of {len(expected)} values, got {type(got).__name__}"
        for i, (g, e) in enumerate(zip(got, expected)):
            why = mismatch(g, e, rtol, atol, f"{where}element {i} of the tuple: ")
            if why:
                return why
        return None
    if isinstance(expected, np.ndarray):
        if not isinstance(got, (np.ndarray, np.generic)):
            return (f"{where}expected a numpy array, got {type(got).__name__}; "
                    "build the result with numpy operations (np.asarray, np.where, ...)")
        got = np.asarray(got)
        if got.shape != expected.shape:
            return f"{where}expected shape {expected.shape}, got shape {got.shape}"
        if got.dtype != expected.dtype:
            return f"{where}expected dtype {expected.dtype}, got dtype {got.dtype}"
        if got.dtype.kind == "b" or expected.dtype.kind == "b":
            bad = got != expected
        else:
            close = np.isclose(got.astype(np.float64), expected.astype(np.float64),
                               rtol=rtol, atol=atol, equal_nan=True)
            bad = ~close
        if not bad.any():
            return None
        index = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        return (f"{where}{int(bad.sum())} of {bad.size} values differ; at index {index}: "
                f"expected {expected[index]!r}, got {got[index]!r}")
    if isinstance(expected, bool) or not isinstance(expected, (int, float)):
        return None if got == expected else f"{where}expected {expected!r}, got {got!r}"
    if not isinstance(got, (int, float, np.integer, np.floating)) or isinstance(got, bool):
        return f"{where}expected a number, got {type(got).__name__}: {got!r}"
    if np.isclose(float(got), expected, rtol=rtol, atol=atol, equal_nan=True):
        return None
    return f"{where}expected {expected!r}, got {float(got)!r}"


@pytest.mark.parametrize("case", CHECKS["cases"], ids=[c["id"] for c in CHECKS["cases"]])
def test_public(case):
    function = getattr(importlib.import_module(case["module"]), case["function"])
    try:
        got = function(*decode(case["args"]), **{k: decode(v) for k, v in case["kwargs"].items()})
    except NotImplementedError:
        got = NotImplemented  # failed below, so the report doesn't show a chained traceback
    if got is NotImplemented:
        pytest.fail(f"{case['module']}.{case['function']} is not written yet: replace its "
                    "`raise NotImplementedError` with your code.", pytrace=False)
    why = mismatch(got, decode(case["expected"]), case["rtol"], case["atol"])
    if why:
        pytest.fail(f"{case['module']}.{case['call']}: {why}.\n"
                    f"Read the docstring of {case['function']} in {case['module']}.py.",
                    pytrace=False)
