"""Hidden checks for activations.py (SPEC.md "Array contract" and "activations.py").

Every function gets a handful of small checks, each with its own points (table ``POINTS``):
values against the reference on a few points, on edge cases and on seeded random inputs;
the array contract (dtype, 0-d / number / nested list, purity, numerical safety, NaN and
+-inf, vectorisation); non-default parameters; and the lecture's properties of the curve.
Checks that need the very same call share it (``judge.call``), so a submission is graded
with a few dozen calls into the sandbox.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder import config, contract, hints, judge
from autograder.contract import EDGES, FINITE, GRID
from autograder.judge import Fail

MODULE = "activations"

# Points per check, per function: the one place to tune the weights. A check listed for
# a function that does not have it (e.g. "parameters" for sigmoid) is simply not run.
POINTS = {  # values carry most of a function's points (correctness, then behaviour)
    "values": 1.0,       # correctness: ordinary points (also every check's probe)
    "edges": 1.5,        # correctness: 0, kinks, saturation, +-1e6
    "random": 1.0,       # correctness: seeded random inputs of a 2-D shape
    "parameters": 1.0,   # correctness: non-default alpha / beta really used
    "dtype": 0.5,        # behaviour: float32 stays float32, int and bool give float64
    "forms": 0.25,       # behaviour: 0-d array, Python number, nested list
    "safe": 0.75,        # behaviour: no overflow / invalid / divide warning for |x| <= 1e6
    "nan_inf": 0.5,      # behaviour: NaN in, NaN out; the limits at +-inf
    "pure": 0.25,        # behaviour: input untouched (also read-only), nothing printed
    "vectorised": 0.25,  # behaviour: no Python loop (lines counted on two sizes)
    "lecture": 0.75,     # behaviour: the curve's properties the lecture teaches
}

VECTOR_SIZE = 50_000  # elements for the vectorisation check

ARGS = contract.ACTIVATIONS
FUNCTIONS = list(ARGS)
WITH_PARAMETERS = ["leaky_relu", "prelu", "elu", "swish"]
# SPEC: +-inf gives the mathematical limit for these (gelu and swish: only NaN -> NaN).
LIMITS = {"sigmoid", "tanh", "relu", "relu6", "leaky_relu", "prelu", "elu"}

FORMULA = {
    "sigmoid": "sigmoid(x) = 1 / (1 + e^-x)",
    "tanh": "tanh(x) = (e^x - e^-x) / (e^x + e^-x)",
    "relu": "relu(x) = max(0, x)",
    "relu6": "relu6(x) = min(max(0, x), 6)",
    "leaky_relu": "leaky_relu(x, alpha) = x if x > 0 else alpha * x",
    "prelu": "prelu(x, alpha) = x if x > 0 else alpha * x, alpha broadcasting against x",
    "elu": "elu(x, alpha) = x if x > 0 else alpha * (e^x - 1)",
    "gelu": "gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
    "swish": "swish(x, beta) = x * sigmoid(beta * x)",
}

SAFE_HINT = {  # when the reference's docstring has no staged "safe" hint
    "sigmoid": "e^-x overflows for x < -709.",
    "tanh": "(e^x - e^-x) / (e^x + e^-x) overflows for |x| > 709 and gives inf / inf = nan.",
    "relu": "relu needs no exp and no division at all (that is its advantage).",
    "relu6": "relu6 needs no exp and no division.",
    "leaky_relu": "leaky_relu needs no exp and no division.",
    "prelu": "prelu needs no exp and no division.",
    "elu": "np.where computes both branches for every element.",
    "gelu": "x**3 is at most 1e18 for |x| <= 1e6; avoid writing tanh with exp, or e^(x^3).",
    "swish": "x * sigmoid(beta x) needs a sigmoid that is safe for beta x = -1e6.",
}


def _hint(function, topic, fallback):
    return hints.hint(MODULE, function, topic, fallback)


LECTURE = {
    "sigmoid": "sigmoid squashes every input into [0, 1], is monotone, and is not zero-centred: "
               "sigmoid(0) = 1/2 and sigmoid(-x) = 1 - sigmoid(x)",
    "tanh": "tanh squashes every input into [-1, 1], is monotone and zero-centred: "
            "tanh(0) = 0 and tanh(-x) = -tanh(x)",
    "relu": "relu does not saturate for x > 0 (relu(x) = x, however large) and is exactly 0 "
            "for x <= 0; it is monotone",
    "relu6": "relu6 is bounded in [0, 6], monotone, and is the difference of two ReLUs, "
             "relu(x) - relu(x - 6)",
    "leaky_relu": "leaky_relu is monotone and leaks: alpha * x < 0 for x < 0, never a flat "
                  "zero, so some gradient always flows and units cannot die",
    "prelu": "prelu with alpha = 0 is relu, with alpha = 1 the identity, with alpha = 0.01 "
             "the leaky relu; with alpha > 0 it is monotone",
    "elu": "elu is x for x > 0 and decays smoothly towards -alpha for x -> -inf, never below "
           "-alpha; it is monotone",
    "gelu": "gelu is relu-like: about x for large x, about 0 for very negative x, with a small "
            "dip below 0 (minimum about -0.17 near x = -0.75)",
    "swish": "swish with beta = 0 is the linear x / 2 (no non-linearity at all), and it tends "
             "to relu as beta grows (x * sigmoid(50 x) is within 0.006 of relu(x))",
}

def _check_values(sub, function, x, args=None, *, hint=None, readonly=False):
    """Call ``function(x, *args)`` and compare with the reference; return the array."""
    return contract.expect_values(sub, function, x, args, hint=hint or f"{FORMULA[function]}.",
                                  readonly=readonly)


def _random_input(key, shape=(3, 40)):
    g = judge.rng(key)
    n = shape[-1]
    return np.stack([g.normal(0, 1, n), g.normal(0, 6, n), g.uniform(-800, 800, n)])


# --- correctness ------------------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="correctness", points=POINTS["values"],
                   name="{function}: values at a few points")
def test_values(sub, function):
    _check_values(sub, function, contract.probe_input(function))


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="correctness", points=POINTS["edges"],
                   name="{function}: edge cases (0, kinks, saturation, +-1e6)")
def test_edges(sub, function):
    _check_values(sub, function, FINITE)


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="correctness", points=POINTS["random"],
                   name="{function}: seeded random inputs (2-D)")
def test_random(sub, function):
    _check_values(sub, function, _random_input(f"activations.{function}.random"))


PARAMETERS = {  # function -> the non-default argument tuples, and what the default was
    "leaky_relu": [(0.2,), (0.0,)],
    "prelu": [(np.array([0.1, 0.5, 0.02]),), (np.array([0.3, 0.0, 1.5]),)],
    "elu": [(0.5,), (2.0,)],
    "swish": [(2.0,), (0.5,)],
}


def _parameter_input(function, args):
    if function == "prelu":  # one slope per channel on the last axis, 2-D and 3-D
        g = judge.rng(f"activations.prelu.parameters.{args[0].tolist()}")
        shape = (4, 3) if args[0][0] == 0.1 else (2, 5, 3)
        return g.normal(0, 2, shape)
    return np.array([-20.0, -3.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0, 20.0])


@pytest.mark.parametrize("function", WITH_PARAMETERS)
@pytest.mark.check(kind="correctness", points=POINTS["parameters"],
                   name="{function}: non-default parameter values are used")
def test_parameters(sub, function):
    name = "beta" if function == "swish" else "alpha"

    def part(args):
        x = _parameter_input(function, args)
        what = judge.call_text(function, x, *args)
        got = judge.returned(judge.call(sub, MODULE, function, x, *args), what)
        hint = f"{FORMULA[function]}."
        default = (0.25,) if function == "prelu" else ()
        if (isinstance(got, np.ndarray) and got.shape == x.shape
                and np.allclose(got, contract.reference(function, x, *default), rtol=1e-7, atol=1e-12)):
            hint = (f"your {function} ignores the {name} it is given and uses "
                    f"{'0.25' if function == 'prelu' else 'the default'} instead; use the "
                    f"{name} argument" + (" (an array broadcasts: one slope per channel on "
                                           "the last axis)" if function == "prelu" else "") + ".")
        if function == "prelu" and isinstance(got, np.ndarray) and got.shape != x.shape:
            hint = ("alpha of shape (C,) holds one slope per channel, the last axis of x; "
                    "alpha * x broadcasts it, and the result has the shape of x.")
        judge.expect_close(got, contract.reference(function, x, *args), what, rtol=config.RTOL64,
                           atol=config.ATOL64, inputs=x, hint=hint)

    judge.all_of(*[lambda a=a: part(a) for a in PARAMETERS[function]])


# --- behaviour: the array contract ------------------------------------------------------


def _dtype_part(sub, function, x):
    judge.expect_contract_dtype(sub, MODULE, function, x, ARGS[function],
                                lambda x64, *a: contract.accepted(function, x64, *a),
                                hint=_hint(function, "dtype", f"{FORMULA[function]}."))


def _float32_input(function):
    g = judge.rng(f"activations.{function}.float32")
    return np.concatenate([EDGES, g.normal(0, 3, 20)]).astype(np.float32)


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="behaviour", points=POINTS["dtype"],
                   name="{function}: float32 stays float32, int and bool give float64")
def test_dtype(sub, function):
    parts = [lambda x=x: _dtype_part(sub, function, x)
             for x in (_float32_input(function), *judge.INT_AND_BOOL_INPUTS)]
    if function == "prelu":  # a float64 slope array must not turn float32 x into float64
        x = judge.rng("activations.prelu.float32-alpha").normal(0, 2, (4, 3)).astype(np.float32)
        alpha = (np.array([0.1, 0.5, 0.02]),)
        parts.append(lambda: judge.expect_contract_dtype(
            sub, MODULE, function, x, alpha, lambda x64, *a: contract.accepted(function, x64, *a),
            hint=_hint(function, "dtype", f"{FORMULA[function]}.")))
    judge.all_of(*parts)


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="behaviour", points=POINTS["forms"],
                   name="{function}: 0-d array, Python number and nested list inputs")
def test_forms(sub, function):
    judge.each_input(lambda x: _dtype_part(sub, function, x), judge.FORM_INPUTS)


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="behaviour", points=POINTS["safe"],
                   name="{function}: no overflow or invalid warning for |x| <= 1e6")
def test_safe(sub, function):
    for x in (FINITE, _float32_input(function)):
        judge.expect_safe(sub, MODULE, function, x, ARGS[function], hint=_hint(function, "safe", SAFE_HINT[function]))


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="behaviour", points=POINTS["nan_inf"],
                   name="{function}: NaN gives NaN; the limits at +-inf")
def test_nan_inf(sub, function):
    args = ARGS[function]
    x = np.array([np.nan, 1.0, np.inf, -np.inf, -2.0, np.nan])
    what = judge.call_text(function, x, *args)
    got = judge.real_array(judge.returned(judge.call(sub, MODULE, function, x, *args), what),
                           what, x.shape).astype(np.float64)
    expected = contract.reference(function, x, *args)
    nan = np.isnan(x)
    if not np.isnan(got[nan]).all() or np.isnan(got[~nan & np.isfinite(expected)]).any():
        raise Fail(f"{what} returned {judge.short(got)}: expected NaN exactly where x is NaN "
                   f"(positions {np.flatnonzero(nan).tolist()}).\nHint: " + _hint(
                       function, "nan", "a NaN input must give a NaN output, not hide it: "
                       "comparisons are False for NaN."))
    if function in LIMITS:
        inf = np.isinf(x)
        if not np.allclose(got[inf], expected[inf], rtol=config.RTOL64, atol=config.ATOL64,
                           equal_nan=False):
            raise Fail(f"{what} returned {judge.short(got[inf])} at x = [inf, -inf], expected "
                       f"the limits {judge.short(expected[inf])}.\nHint: {FORMULA[function]}; "
                       "at +-inf the output is the limit of the curve (no inf - inf or 0 * inf).")


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="behaviour", points=POINTS["pure"],
                   name="{function}: leaves its input unchanged (read-only too), prints nothing")
def test_pure(sub, function):
    judge.expect_pure_call(sub, MODULE, function, _random_input(f"activations.{function}.random"),
                           ARGS[function])


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="behaviour", points=POINTS["vectorised"],
                   name="{function}: vectorised (no Python loop over the elements)")
def test_vectorised(sub, function):
    x = judge.rng(f"activations.{function}.big").normal(0, 3, VECTOR_SIZE)
    judge.expect_vectorised(sub, MODULE, function, x, *ARGS[function])


# --- behaviour: the lecture's properties ------------------------------------------------



def _lecture_fail(function, what, problem):
    raise Fail(f"{what}: {problem}.\nHint: {LECTURE[function]} ({FORMULA[function]}).")


def _monotone(function, what, y):
    drops = np.flatnonzero(np.diff(y) < -(contract.slack(y[:-1]) + contract.slack(y[1:])))
    if drops.size:
        i = drops[0]
        _lecture_fail(function, what, f"not monotone: the output drops from {y[i]!r} to "
                                      f"{y[i + 1]!r} between x = {GRID[i]!r} and {GRID[i + 1]!r}")


def _bounded(function, what, y, lo, hi):
    out = np.flatnonzero((y < lo - contract.slack(lo)) | (y > hi + contract.slack(hi)) | np.isnan(y))
    if out.size:
        i = out[0]
        _lecture_fail(function, what, f"output {y[i]!r} at x = {GRID[i]!r} is outside "
                                      f"[{lo:g}, {hi:g}]")


def _lecture_sigmoid(sub):
    what, y = contract.curve(sub, "sigmoid", GRID)
    what2, y2 = contract.curve(sub, "sigmoid", -GRID)
    judge.all_of(lambda: _bounded("sigmoid", what, y, 0.0, 1.0),
                 lambda: _monotone("sigmoid", what, y))
    mid = y[GRID == 0.0][0]
    worst = np.max(np.abs(y + y2 - 1) - contract.slack(y) - contract.slack(y2))
    if not contract.near(mid, 0.5) or not worst <= 0:
        _lecture_fail("sigmoid", f"{what} and {what2}",
                      f"sigmoid(0) = {mid!r} (expected 0.5) and sigmoid(x) + sigmoid(-x) is off "
                      f"from 1 by up to {np.max(np.abs(y + y2 - 1)):.3g}")


def _lecture_tanh(sub):
    what, y = contract.curve(sub, "tanh", GRID)
    what2, y2 = contract.curve(sub, "tanh", -GRID)
    judge.all_of(lambda: _bounded("tanh", what, y, -1.0, 1.0),
                 lambda: _monotone("tanh", what, y))
    mid = y[GRID == 0.0][0]
    worst = np.max(np.abs(y + y2) - contract.slack(y) - contract.slack(y2))
    if not contract.near(mid, 0.0) or not worst <= 0:
        _lecture_fail("tanh", f"{what} and {what2}",
                      f"tanh(0) = {mid!r} (expected 0) and tanh(x) + tanh(-x) is off from 0 by "
                      f"up to {np.max(np.abs(y + y2)):.3g}: the output is not zero-centred")


def _lecture_relu(sub):
    what, y = contract.curve(sub, "relu", GRID)
    _monotone("relu", what, y)
    pos, neg = GRID > 0, GRID <= 0
    if not np.all(contract.near(y[pos], GRID[pos])):
        i = np.flatnonzero(~contract.near(y[pos], GRID[pos]))[0]
        _lecture_fail("relu", what, f"relu({GRID[pos][i]!r}) = {y[pos][i]!r}: for x > 0 relu "
                                    "must pass x through unchanged (no saturation)")
    if not np.all(contract.near(y[neg], 0.0)):
        i = np.flatnonzero(~contract.near(y[neg], 0.0))[0]
        _lecture_fail("relu", what, f"relu({GRID[neg][i]!r}) = {y[neg][i]!r}: for x <= 0 relu "
                                    "is exactly 0")


def _lecture_relu6(sub):
    what, y = contract.curve(sub, "relu6", GRID)
    ramp = np.maximum(GRID, 0) - np.maximum(GRID - 6, 0)
    judge.all_of(
        lambda: _bounded("relu6", what, y, 0.0, 6.0),
        lambda: _monotone("relu6", what, y),
        lambda: judge.expect_close(y, ramp, what + " against relu(x) - relu(x - 6)",
                                   rtol=config.RTOL64, atol=config.ATOL64, inputs=GRID,
                                   hint=LECTURE["relu6"] + "."))


def _lecture_leaky_relu(sub):
    what, y = contract.curve(sub, "leaky_relu", GRID)
    _monotone("leaky_relu", what, y)
    neg = GRID < 0
    if not np.all(y[neg] < 0):
        i = np.flatnonzero(~(y[neg] < 0))[0]
        _lecture_fail("leaky_relu", what, f"leaky_relu({GRID[neg][i]!r}) = {y[neg][i]!r}; with "
                                          "alpha = 0.01 the output for x < 0 must be alpha * x < 0")


def _lecture_prelu(sub):
    x = np.tile(GRID, (3, 1))
    alpha = np.array([[0.0], [1.0], [0.01]])
    what, y = contract.curve(sub, "prelu", x, alpha)
    targets = [np.maximum(GRID, 0), GRID, np.where(GRID > 0, GRID, 0.01 * GRID)]
    judge.all_of(*[lambda i=i, t=t: judge.expect_close(
        y[i], t, f"row {i} of {what} (alpha = {alpha[i, 0]:g})", rtol=config.RTOL64,
        atol=config.ATOL64, inputs=GRID, hint=LECTURE["prelu"] + ".")
        for i, t in enumerate(targets)] + [lambda: _monotone("prelu", what, y[2])])


def _lecture_elu(sub):
    what, y = contract.curve(sub, "elu", GRID, 0.5)
    judge.all_of(lambda: _monotone("elu", what, y),
                 lambda: _bounded("elu", what, y, -0.5, np.inf))
    if not contract.near(y[0], -0.5):
        _lecture_fail("elu", what, f"elu({GRID[0]!r}, 0.5) = {y[0]!r}, expected -alpha = -0.5")


def _lecture_gelu(sub):
    what, y = contract.curve(sub, "gelu", GRID)
    big, low = GRID >= 6, GRID <= -6
    window = (GRID > -3) & (GRID < 0)
    dip, yd = GRID[window], y[window]
    if not np.allclose(y[big], GRID[big], rtol=1e-7, atol=0):
        _lecture_fail("gelu", what, "gelu(x) is not about x for x >= 6")
    if not np.all(np.abs(y[low]) <= 1e-6):
        _lecture_fail("gelu", what, "gelu(x) is not about 0 for x <= -6")
    i = int(np.argmin(yd))
    if not (-0.175 < yd[i] < -0.165 and -0.85 < dip[i] < -0.65):
        _lecture_fail("gelu", what, f"the smallest value is {yd[i]!r} at x = {dip[i]!r}, "
                                     "expected about -0.17 near x = -0.75")


def _lecture_swish(sub):
    what, y0 = contract.curve(sub, "swish", GRID, 0.0)
    what2, y50 = contract.curve(sub, "swish", GRID, 50.0)
    judge.all_of(
        lambda: judge.expect_close(y0, GRID / 2, what, rtol=config.RTOL64, atol=config.ATOL64,
                                   inputs=GRID, hint=LECTURE["swish"] + "."),
        lambda: None if np.max(np.abs(y50 - np.maximum(GRID, 0))) <= 0.006 else _lecture_fail(
            "swish", what2, f"swish differs from relu by up to "
                            f"{np.max(np.abs(y50 - np.maximum(GRID, 0))):.3g}"))


LECTURE_CHECKS = {
    "sigmoid": _lecture_sigmoid, "tanh": _lecture_tanh, "relu": _lecture_relu,
    "relu6": _lecture_relu6, "leaky_relu": _lecture_leaky_relu, "prelu": _lecture_prelu,
    "elu": _lecture_elu, "gelu": _lecture_gelu, "swish": _lecture_swish,
}
LECTURE_NAMES = {
    "sigmoid": "squashes into [0, 1], monotone, not zero-centred",
    "tanh": "squashes into [-1, 1], monotone, zero-centred (odd)",
    "relu": "no saturation for x > 0, exactly 0 for x <= 0",
    "relu6": "bounded in [0, 6], a difference of two ReLUs",
    "leaky_relu": "leaks for x < 0 (no dead units), monotone",
    "prelu": "alpha = 0 is relu, alpha = 1 the identity",
    "elu": "tends to -alpha for very negative x, monotone",
    "gelu": "about x for large x, about 0 for very negative x, small dip",
    "swish": "beta = 0 is linear, large beta tends to relu",
}


@pytest.mark.parametrize("function, property", list(LECTURE_NAMES.items()))
@pytest.mark.check(kind="behaviour", points=POINTS["lecture"], name="{function}: {property}")
def test_lecture(sub, function, property):
    LECTURE_CHECKS[function](sub)
