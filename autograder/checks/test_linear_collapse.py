"""Hidden checks for linear_collapse.py (SPEC.md "linear_collapse.py", docs/experiments.md).

Depth without a non-linearity adds nothing: ``linear_forward`` and ``collapse`` are checked
against the reference on the grader's seeded stacks, and by the lecture's property itself
(the collapsed layer reproduces the stack on fresh inputs). Two ReLUs make a step:
``relu_ramp`` against the reference, its ValueError, and the step's shape (0 left of a,
1 right of b, linear between). A sum of steps approximates a function: the grader rebuilds
the approximation from what ``step_approximation`` returns with its own ramp and measures
the error against the interpolation bound, for a growing number of steps.

Every function's values are checked against the reference first, and the verifier of each
(``judge.verifier``, the same comparison) is what lets its behaviour and experiment checks
count: a property earns nothing on wrong values.

``circles_experiment`` is verified, not self-reported (SPEC.md): it is called with seeds
only the grader knows; the grader replays both trainings itself (the reference experiment:
``mlp.train`` from the contract's start, ``judge.replayed``), and the returned data, every
recorded loss and the trained parameters must be that run's (the correctness checks, most of
the points: an untrained, cut-short, padded or made-up run earns nothing of the experiment).
Then it measures the claims itself, with its own forward pass, on fresh circles of its own.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder import hints, judge
from autograder.judge import Fail
from autograder.reference import function as _reference
from autograder.reference import module as _reference_module
from autograder.sandbox import FunctionRef

MODULE = "linear_collapse"

# Points per check: the one place to tune the weights.
POINTS = {
    # linear_forward
    "linear_forward.values": 0.5,         # correctness: a small 2-layer stack
    "linear_forward.random": 0.5,         # correctness: seeded random deep stack, non-square
    "linear_forward.forms": 0.5,          # correctness: one row (d_0,), one layer
    "linear_forward.pure": 0.25,          # behaviour: inputs untouched
    # collapse
    "collapse.values": 1.0,               # correctness: (W, b) against the reference
    "collapse.square": 0.5,               # correctness: square layers (order of the product)
    "collapse.one_layer": 0.25,           # correctness: L = 1 gives the layer itself
    "collapse.exact": 1.0,                # behaviour: x @ W + b == the stack on fresh inputs
    "collapse.pure": 0.25,                # behaviour: inputs untouched
    "collapse.fresh": 0.25,               # behaviour: new arrays, not aliases (one layer too)
    # relu_ramp
    "relu_ramp.values": 0.5,              # correctness: a = 0, b = 1
    "relu_ramp.bounds": 1.0,              # correctness: other a, b (divide by b - a)
    "relu_ramp.edges": 0.5,               # correctness: x = a, x = b, far out, -inf, NaN
    "relu_ramp.shapes": 0.25,             # correctness: number, 0-d, 2-D
    "relu_ramp.errors": 0.5,              # correctness: ValueError for a >= b or a NaN bound
    "relu_ramp.infinity": 0.25,           # correctness: the docstring's 1 at x = +inf
    "relu_ramp.step": 1.0,                # behaviour: 0 left of a, 1 right of b, linear between
    # step_approximation
    "step_approximation.values": 0.75,    # correctness: n = 5 steps of sin
    "step_approximation.arguments": 0.5,  # correctness: another f, lo, hi are used
    "step_approximation.errors": 0.25,    # correctness: ValueError for n < 1, lo >= hi
    "step_approximation.shrinks": 1.0,    # experiment: error within the 1/n^2 bound, shrinking
    # sum_of_steps
    "sum_of_steps.values": 0.5,           # correctness: the grader's own steps
    "sum_of_steps.forms": 0.25,           # correctness: number, 2-D x
    "sum_of_steps.approximates": 0.5,     # behaviour: many steps approximate sin
    # circles_experiment: the run's values (replayed by the grader) carry most of the points
    "circles_experiment.trained": 2.5,    # correctness: the contract's data, every recorded loss
                                          # and the trained parameters, replayed
    "circles_experiment.linear": 1.0,     # experiment: identity net is one affine map, near chance
    "circles_experiment.relu": 1.0,       # experiment: ReLU net separates fresh circles
}



def _seeds(key: str, n: int = 2) -> tuple[int, ...]:
    """Seeds only the grader knows (from config.SEED), never the docstrings' 0."""
    return tuple(int(s) for s in judge.rng(f"linear_collapse.{key}.seeds").integers(100, 100_000, n))


# One run is enough: every loss is replayed, so a run that ignores the seed shows, and the
# claims hold on every seed (below); each run is a twentieth of a grade's CPU.
CIRCLES_SEEDS = _seeds("circles", 1)
# Not the defaults (lr 0.1 is also mlp.train's own): a run that drops lr or steps shows.
# At lr 0.15, 300 steps: ReLU >= 0.979 and identity <= 0.54 on fresh points over 160 seeds,
# no floating-point overflow (the identity net starts overflowing on some seeds at 0.3).
CIRCLES_KW = {"lr": 0.15, "steps": 300}
FRESH = (2000, _seeds("fresh", 1)[0])    # the grader's own fresh circles
LINEAR_AT_MOST = 0.70                    # a straight line gets at most about 2/3
RELU_AT_LEAST = 0.95

HINT_LINEAR = ("a deep network without non-linearities is one linear map: it can only draw a "
               "straight decision boundary, so its accuracy on circles stays near chance")
HINT_STEP = ("two ReLUs make a step: (relu(x - a) - relu(x - b)) / (b - a) is 0 for x <= a, "
             "1 for x >= b and the line (x - a) / (b - a) in between")


def _collapse_hint():
    """The staged hint of collapse's algebra (the reference's docstring, hints.py)."""
    return hints.hint(MODULE, "collapse", "values")


def _ref(name):
    return _reference(MODULE, name)


def _mlp():
    return _reference_module("mlp")


def _stack(key, dims, n=None):
    g = judge.rng(f"linear_collapse.{key}")
    weights = [g.normal(0, 1 / np.sqrt(a), (a, b)) for a, b in zip(dims[:-1], dims[1:])]
    biases = [g.normal(0, 1, b) for b in dims[1:]]
    x = g.normal(0, 1, (n, dims[0])) if n else None
    return x, weights, biases


# =========================================================================================
# linear_forward
# =========================================================================================

@judge.verifier(MODULE, "linear_forward")
def _verify_forward(got, args, kwargs):
    what = judge.call_text("linear_forward", *args)
    expected = _ref("linear_forward")(*args)
    judge.expect_close(judge.real_array(got, what, expected.shape, _forward_shape_hint(got, expected)),
                       expected, what, rtol=1e-10,
                       atol=1e-12, hint="h_0 = x, then h_l = h_{l-1} @ W_l + b_l for every layer "
                                        "in order, with no activation; return h_L.")


def _forward_shape_hint(got, expected) -> str:
    """What a wrong shape of linear_forward's output means (not an elementwise function's)."""
    rows = "one row (d_L,) for one input row (d_0,)" if expected.ndim == 1 else \
        f"one row per input row: ({expected.shape[0]}, d_L) for x of shape ({expected.shape[0]}, d_0)"
    hint = (f"linear_forward returns {rows}. Row-vector convention: each layer maps h to "
            "h @ W + b, with W of shape (d_in, d_out).")
    if np.ndim(got) == 2 and np.shape(got) == expected.shape[::-1] != expected.shape:
        hint = ("your output is the transpose of the expected one: column vectors (W.T @ x.T) "
                "give (d_L, n). " + hint)
    return hint


def _forward(sub, x, weights, biases):
    what = judge.call_text("linear_forward", x, weights, biases)
    got = judge.returned(judge.call(sub, MODULE, "linear_forward", x, weights, biases), what)
    _verify_forward(got, (x, weights, biases), {})


@pytest.mark.check(kind="correctness", points=POINTS["linear_forward.values"],
                   function="linear_forward", name="linear_forward: a small 2-layer stack")
def test_linear_forward_values(sub):
    x = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]])
    weights = [np.array([[1.0, 0.0, 2.0], [-1.0, 1.0, 0.5]]), np.array([[1.0], [2.0], [-1.0]])]
    biases = [np.array([0.5, -1.0, 0.0]), np.array([3.0])]
    _forward(sub, x, weights, biases)


@pytest.mark.check(kind="correctness", points=POINTS["linear_forward.random"],
                   function="linear_forward",
                   name="linear_forward: seeded random 4-layer stack of different widths")
def test_linear_forward_random(sub):
    _forward(sub, *_stack("forward.random", (4, 6, 3, 5, 2), n=9))


@pytest.mark.check(kind="correctness", points=POINTS["linear_forward.forms"],
                   function="linear_forward", name="linear_forward: one row (d_0,), one layer")
def test_linear_forward_forms(sub):
    x, w, b = _stack("forward.forms", (3, 4, 2), n=1)
    x1, w1, b1 = _stack("forward.one", (5, 3), n=4)
    judge.all_of(lambda: _forward(sub, x[0], w, b), lambda: _forward(sub, x1, w1, b1))


@pytest.mark.check(kind="behaviour", points=POINTS["linear_forward.pure"],
                   function="linear_forward",
                   name="linear_forward: leaves x, weights and biases untouched")
def test_linear_forward_pure(sub):
    x, w, b = _stack("forward.random", (4, 6, 3, 5, 2), n=9)
    r = judge.call(sub, MODULE, "linear_forward", x, w, b)
    judge.expect_pure(r, (x, w, b), judge.call_text("linear_forward", x, w, b))


# =========================================================================================
# collapse
# =========================================================================================

def _pair(got, weights, biases):
    """The returned (W, b), checked for form; ``Fail`` otherwise."""
    what = judge.call_text("collapse", weights, biases)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Fail(f"{what} returned {judge.short(got, 80)}, expected the pair (W, b).")
    d0, dL = weights[0].shape[0], weights[-1].shape[1]
    shapes = (f"W maps a row of d_0 = {d0} inputs to d_L = {dL} outputs: shape ({d0}, {dL}), "
              f"the first layer's rows by the last layer's columns; b is one bias per output, ({dL},).")
    W = judge.real_array(got[0], what + "[0] (W)", (d0, dL), hint=shapes)
    b = judge.real_array(got[1], what + "[1] (b)", (dL,), hint=shapes)
    return what, W, b


@judge.verifier(MODULE, "collapse")
def _verify_collapse(got, args, kwargs):
    what, W, b = _pair(got, *args)
    W_ref, b_ref = _ref("collapse")(*args)
    judge.expect_close(W, W_ref, what + "[0] (W)", rtol=1e-9, atol=1e-12, hint=_collapse_hint())
    judge.expect_close(b, b_ref, what + "[1] (b)", rtol=1e-9, atol=1e-12, hint=_collapse_hint())


def _collapse(sub, weights, biases):
    """The student's (W, b) for the stack, checked for form; ``Fail`` otherwise."""
    what = judge.call_text("collapse", weights, biases)
    return _pair(judge.returned(judge.call(sub, MODULE, "collapse", weights, biases), what),
                 weights, biases)


def _collapse_values(sub, weights, biases):
    what = judge.call_text("collapse", weights, biases)
    _verify_collapse(judge.returned(judge.call(sub, MODULE, "collapse", weights, biases), what),
                     (weights, biases), {})


@pytest.mark.check(kind="correctness", points=POINTS["collapse.values"], function="collapse",
                   name="collapse: (W, b) of a seeded random 4-layer stack")
def test_collapse_values(sub):
    _, w, b = _stack("collapse.values", (3, 5, 4, 6, 2))
    _collapse_values(sub, w, b)


@pytest.mark.check(kind="correctness", points=POINTS["collapse.square"], function="collapse",
                   name="collapse: square layers (the product's order matters)")
def test_collapse_square(sub):
    _, w, b = _stack("collapse.square", (3, 3, 3, 3))
    _collapse_values(sub, w, b)


@pytest.mark.check(kind="correctness", points=POINTS["collapse.one_layer"], function="collapse",
                   name="collapse: one layer collapses to itself, two to their product")
def test_collapse_one_layer(sub):
    # One part: a layer returned as it is is right for one layer only.
    _, w, b = _stack("collapse.one", (4, 3))
    _, w2, b2 = _stack("collapse.two", (4, 3, 2))
    _collapse_values(sub, w, b)
    _collapse_values(sub, w2, b2)


@pytest.mark.check(kind="behaviour", points=POINTS["collapse.exact"], function="collapse",
                   name="collapse: the one layer reproduces the deep stack on fresh inputs")
def test_collapse_exact(sub):
    _, w, b = _stack("collapse.exact", (2, 8, 8, 8, 8, 3))
    what, W, bias = _collapse(sub, w, b)
    x = judge.rng("linear_collapse.collapse.fresh").normal(0, 2, (50, 2))
    h = x
    for Wl, bl in zip(w, b):   # the grader's own forward pass of the stack
        h = h @ Wl + bl
    got = x @ W + bias
    bad = ~np.isclose(got, h, rtol=1e-9, atol=1e-9)
    if bad.any():
        i = np.argwhere(bad)[0]
        raise Fail(f"{what} returned (W, b), but on {int(bad.any(axis=1).sum())} of 50 fresh inputs "
                   f"x @ W + b differs from the stack's output, e.g. at x = {judge.short(x[i[0]])}: "
                   f"the stack gives {h[tuple(i)]!r}, x @ W + b gives {got[tuple(i)]!r}.\n"
                   f"Hint: a stack of affine layers IS one affine layer. {_collapse_hint()}")


@pytest.mark.check(kind="behaviour", points=POINTS["collapse.pure"], function="collapse",
                   name="collapse: leaves weights and biases untouched")
def test_collapse_pure(sub):
    _, w, b = _stack("collapse.values", (3, 5, 4, 6, 2))
    judge.expect_pure(judge.call(sub, MODULE, "collapse", w, b), (w, b),
                      judge.call_text("collapse", w, b))


@pytest.mark.check(kind="behaviour", points=POINTS["collapse.fresh"], function="collapse",
                   name="collapse: returns new arrays, not its inputs (one layer too)")
def test_collapse_fresh(sub):
    # The sandbox counts the returned arrays that share memory with an argument: the grader
    # itself only ever sees copies. One layer is where returning the input is tempting.
    for key, sizes in (("collapse.one", (4, 3)), ("collapse.values", (3, 5, 4, 6, 2))):
        _, w, b = _stack(key, sizes)
        what = judge.call_text("collapse", w, b)
        r = judge.call(sub, MODULE, "collapse", w, b)
        judge.returned(r, what)
        if r.aliases:
            raise Fail(f"{what} returned {r.aliases} array(s) that share memory with its input "
                       "(the same arrays, or views of them): the docstring promises new arrays, "
                       "so that changing W or b later cannot change the network's layers.\n"
                       "Hint: copy what you return when it would be an input itself "
                       "(np.array(weights[0]), not weights[0]).")


# =========================================================================================
# relu_ramp
# =========================================================================================

def _check_ramp(got, x, a, b, *, rtol=1e-9, atol=1e-12):
    what = judge.call_text("relu_ramp", x, a, b)
    with np.errstate(all="ignore"):
        expected = np.asarray(_ref("relu_ramp")(x, a, b), dtype=np.float64)
    got = judge.real_array(got, what, expected.shape)
    hint = HINT_STEP + "."
    if got.shape == expected.shape and b - a != 1 and np.allclose(
            got, expected * (b - a), rtol=1e-9, atol=1e-12, equal_nan=True):
        hint = f"your ramp rises to b - a = {b - a:g}, not to 1: divide by (b - a). " + hint
    judge.expect_close(got, expected, what, rtol=rtol, atol=atol, inputs=x, hint=hint)
    return got


@judge.verifier(MODULE, "relu_ramp")
def _verify_ramp(got, args, kwargs):
    # atol 1e-9: the literal difference of two ReLUs is 1 + O(eps |x| / (b - a)) far right of b
    _check_ramp(got, *args, atol=1e-9)


def _ramp(sub, x, a, b, *, rtol=1e-9, atol=1e-12):
    what = judge.call_text("relu_ramp", x, a, b)
    got = judge.returned(judge.call(sub, MODULE, "relu_ramp", x, a, b), what)
    return _check_ramp(got, x, a, b, rtol=rtol, atol=atol)


@pytest.mark.check(kind="correctness", points=POINTS["relu_ramp.values"],
                   function="relu_ramp", name="relu_ramp: values for a = 0, b = 1")
def test_relu_ramp_values(sub):
    _ramp(sub, np.array([-2.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 3.0]), 0.0, 1.0)


@pytest.mark.check(kind="correctness", points=POINTS["relu_ramp.bounds"], function="relu_ramp",
                   name="relu_ramp: other a < b (the ramp always rises to 1)")
def test_relu_ramp_bounds(sub):
    g = judge.rng("linear_collapse.relu_ramp.bounds")
    cases = [(-2.0, 3.0), (1.5, 1.75), (-0.3, -0.1), (10.0, 40.0)]
    judge.all_of(*[lambda a=a, b=b: _ramp(sub, np.sort(g.uniform(a - (b - a), b + (b - a), 25)), a, b)
                   for a, b in cases])


@pytest.mark.check(kind="correctness", points=POINTS["relu_ramp.edges"], function="relu_ramp",
                   name="relu_ramp: x = a, x = b, far out, -inf and NaN")
def test_relu_ramp_edges(sub):
    a, b = -1.0, 2.0
    x = np.array([a, b, a - 1e-9, b + 1e-9, -1e6, 1e6, 1e12, -np.inf, np.nan])
    # The literal difference of two ReLUs is 1 + O(eps |x| / (b - a)) far right of b.
    got = _ramp(sub, x, a, b, rtol=1e-9, atol=1e-9)
    if got[0] != 0.0 or abs(got[1] - 1.0) > 1e-12:
        raise Fail(f"relu_ramp(x, {a}, {b}) gives {got[0]!r} at x = a and {got[1]!r} at x = b, "
                   f"expected 0 and 1.\nHint: {HINT_STEP}.")


@pytest.mark.check(kind="correctness", points=POINTS["relu_ramp.infinity"], function="relu_ramp",
                   name="relu_ramp: 1 at x = +inf, as the docstring says (the limit, not inf - inf)")
def test_relu_ramp_infinity(sub):
    def at(x, a, b):
        what = judge.call_text("relu_ramp", x, a, b)
        got = judge.real_array(judge.returned(judge.call(sub, MODULE, "relu_ramp", x, a, b), what),
                               what, np.shape(x))
        if not np.array_equal(got, np.where(np.asarray(x) > 0, 1.0, 0.0)):
            raise Fail(f"{what} returned {judge.short(got)}, expected 1 at +inf and 0 at -inf "
                       "(the docstring: exactly 1 for x >= b, +inf included).\nHint: "
                       + hints.hint(MODULE, "relu_ramp", "infinity", HINT_STEP + "."))

    judge.all_of(lambda: at(np.array([np.inf, -np.inf]), -1.0, 2.0),
                 lambda: at(np.array([[np.inf], [np.inf]]), 0.0, 0.5))


@pytest.mark.check(kind="correctness", points=POINTS["relu_ramp.shapes"], function="relu_ramp",
                   name="relu_ramp: a number, a 0-d array and a 2-D array keep their shape")
def test_relu_ramp_shapes(sub):
    judge.all_of(lambda: _ramp(sub, 0.5, 0.0, 2.0),
                 lambda: _ramp(sub, np.array(3.0), 0.0, 2.0),
                 lambda: _ramp(sub, np.linspace(-1, 3, 12).reshape(3, 4), 0.0, 2.0))


@pytest.mark.check(kind="correctness", points=POINTS["relu_ramp.errors"], function="relu_ramp",
                   name="relu_ramp: ValueError unless a < b")
def test_relu_ramp_errors(sub):
    x = np.array([0.0, 1.0, 2.0])
    cases = [(2.0, 1.0), (1.0, 1.0), (np.nan, 1.0)]
    judge.all_of(*[lambda a=a, b=b: judge.expect_value_error(
        judge.call(sub, MODULE, "relu_ramp", x, a, b), judge.call_text("relu_ramp", x, a, b),
        "the ramp needs a < b (else there is no step, or it falls): raise ValueError; "
        "'if not a < b' also catches a NaN bound.") for a, b in cases])


@pytest.mark.check(kind="behaviour", points=POINTS["relu_ramp.step"], function="relu_ramp",
                   name="relu_ramp: two ReLUs make a step: 0 left of a, 1 right of b, linear between")
def test_relu_ramp_step(sub):
    a, b = 0.5, 1.25
    x = np.linspace(-2.0, 4.0, 601)
    what = judge.call_text("relu_ramp", x, a, b)
    y = judge.real_array(judge.returned(judge.call(sub, MODULE, "relu_ramp", x, a, b), what),
                         what, x.shape).astype(np.float64)
    left, right, mid = x <= a, x >= b, (x > a) & (x < b)
    problems = []
    if np.any(y[left] != 0):
        problems.append(f"left of a it is not 0 (e.g. {y[left][y[left] != 0][0]!r})")
    if np.any(np.abs(y[right] - 1) > 1e-12):
        problems.append(f"right of b it is not 1 (e.g. {y[right][np.abs(y[right] - 1) > 1e-12][0]!r})")
    if not np.allclose(y[mid], (x[mid] - a) / (b - a), rtol=1e-9, atol=1e-12):
        problems.append("between a and b it is not the line (x - a) / (b - a)")
    if np.any(np.diff(y) < 0):
        problems.append("it is not non-decreasing")
    if problems:
        raise Fail(f"{what}: " + "; ".join(problems) + f".\nHint: {HINT_STEP}; the closer a and b, "
                   "the sharper the step.")


# =========================================================================================
# step_approximation and sum_of_steps
# =========================================================================================

def _step_arrays(res, what, n):
    out = {k: judge.float_array(judge.entry(res, (k,), what), f'{what}["{k}"]', (n,))
           for k in ("a", "b", "heights")}
    out["offset"] = float(judge.float_array(judge.entry(res, ("offset",), what),
                                            f'{what}["offset"]', ()))
    return out


def _steps(sub, *args):
    what = judge.call_text("step_approximation", *args)
    res = judge.returned(judge.run(sub, MODULE, "step_approximation", *args), what)
    return what, _step_arrays(res, what, args[0])


@judge.verifier(MODULE, "step_approximation")
def _verify_steps(res, args, kwargs):
    what = judge.call_text("step_approximation", *args)
    got = _step_arrays(res, what, args[0])
    expected = judge.replayed(MODULE, "step_approximation", *args)
    for k in ("a", "b", "heights", "offset"):
        judge.expect_close(np.asarray(got[k]), np.asarray(expected[k], dtype=float), f'{what}["{k}"]',
                           rtol=1e-9, atol=1e-12,
                           hint="knots t = np.linspace(lo, hi, n_steps + 1); ramp i rises from "
                                "t[i] to t[i+1] by f(t[i+1]) - f(t[i]); offset = f(lo).")


@pytest.mark.check(kind="correctness", points=POINTS["step_approximation.values"],
                   function="step_approximation",
                   name="step_approximation: 5 steps of sin on [0, 2 pi]")
def test_step_approximation_values(sub):
    _steps_values(sub, 5)


@pytest.mark.check(kind="correctness", points=POINTS["step_approximation.arguments"],
                   function="step_approximation",
                   name="step_approximation: another f, lo and hi are used")
def test_step_approximation_arguments(sub):
    judge.all_of(lambda: _steps_values(sub, 7, "cos", -1.0, 2.0),
                 lambda: _steps_values(sub, 3, "exp", 0.5, 1.5))


@pytest.mark.check(kind="correctness", points=POINTS["step_approximation.errors"],
                   function="step_approximation",
                   name="step_approximation: ValueError for n_steps < 1 or lo >= hi")
def test_step_approximation_errors(sub):
    sin = FunctionRef("numpy.sin")
    cases = [((0,), "at least one step"), ((3, sin, 1.0, 1.0), "lo < hi"),
             ((3, sin, 2.0, 1.0), "lo < hi")]
    judge.all_of(*[lambda a=a, why=why: judge.expect_value_error(
        judge.run(sub, MODULE, "step_approximation", *a), judge.call_text("step_approximation", *a),
        f"{why}: raise ValueError.") for a, why in cases])


def _steps_values(sub, n, f=None, lo=0.0, hi=2 * np.pi):
    args = (n,) if f is None else (n, FunctionRef(f"numpy.{f}"), lo, hi)
    what = judge.call_text("step_approximation", *args)
    _verify_steps(judge.returned(judge.run(sub, MODULE, "step_approximation", *args), what),
                  args, {})


def _own_sum(x, steps):
    """The grader's own g(x) = offset + sum_i heights[i] * ramp(x, a[i], b[i])."""
    total = np.full(np.shape(x), steps["offset"], dtype=np.float64)
    for a, b, h in zip(steps["a"], steps["b"], steps["heights"]):
        if not a < b:
            raise Fail(f"a ramp from a = {a!r} to b = {b!r}: every ramp needs a < b.")
        total += h * np.clip((x - a) / (b - a), 0.0, 1.0)
    return total


@pytest.mark.check(kind="experiment", points=POINTS["step_approximation.shrinks"],
                   function="step_approximation",
                   name="step_approximation: the error of a sum of ReLU steps shrinks like 1/n^2")
def test_step_approximation_shrinks(sub):
    grid = np.linspace(0.0, 2 * np.pi, 20001)
    errors = []
    for n in (4, 8, 16, 32, 64):
        what, steps = _steps(sub, n)
        knots = np.linspace(0.0, 2 * np.pi, n + 1)
        at_knots = _own_sum(knots, steps)   # rebuilt by the grader from the returned arrays
        if not np.allclose(at_knots, np.sin(knots), rtol=0, atol=1e-12):
            raise Fail(f"{what}: rebuilt by the grader, offset + sum of heights * ramps does not "
                       f"pass through sin at the knots (largest miss "
                       f"{np.abs(at_knots - np.sin(knots)).max():.3g}).\nHint: at every knot the "
                       "steps taken so far must add up to f(t_k): heights are differences of f "
                       "at consecutive knots, offset = f(lo).")
        err = np.abs(_own_sum(grid, steps) - np.sin(grid)).max()
        bound = (2 * np.pi) ** 2 / (8 * n ** 2)
        if err > bound * (1 + 1e-9):
            raise Fail(f"{what}: the largest error on [0, 2 pi] is {err:.4g}, above the "
                       f"interpolation bound (hi - lo)^2 max|f''| / (8 n^2) = {bound:.4g}.\n"
                       "Hint: between knots the sum of steps is the straight line through f at "
                       "the two knots.")
        errors.append(err)
    if not all(e2 < e1 for e1, e2 in zip(errors, errors[1:])):
        raise Fail("step_approximation(n) for n = 4, 8, 16, 32, 64: the errors "
                   f"{judge.short(np.round(errors, 5))} do not shrink as the number of steps grows."
                   "\nHint: a sum of more, narrower ReLU steps approximates f better: the universal "
                   "approximation picture.")


def _own_steps(key, n=6):
    g = judge.rng(f"linear_collapse.{key}")
    a = np.sort(g.uniform(-3, 3, n))
    return {"a": a, "b": a + g.uniform(0.1, 2.0, n), "heights": g.normal(0, 1, n),
            "offset": float(g.normal())}


@judge.verifier(MODULE, "sum_of_steps")
def _verify_sum(got, args, kwargs):
    x, steps = args
    what = judge.call_text("sum_of_steps", x, steps)
    expected = _ref("sum_of_steps")(x, steps)
    judge.expect_close(judge.real_array(got, what, expected.shape), expected, what, rtol=1e-9,
                       atol=1e-12, inputs=x, hint="offset + sum over i of heights[i] * "
                       "relu_ramp(x, a[i], b[i]); the steps may overlap and have any widths.")


def _sum(sub, x, steps):
    what = judge.call_text("sum_of_steps", x, steps)
    _verify_sum(judge.returned(judge.call(sub, MODULE, "sum_of_steps", x, steps), what), (x, steps), {})


@pytest.mark.check(kind="correctness", points=POINTS["sum_of_steps.values"],
                   function="sum_of_steps", name="sum_of_steps: overlapping steps of any widths")
def test_sum_of_steps_values(sub):
    _sum(sub, np.linspace(-4, 6, 41), _own_steps("sum.values"))


@pytest.mark.check(kind="correctness", points=POINTS["sum_of_steps.forms"],
                   function="sum_of_steps", name="sum_of_steps: a number and a 2-D x keep their shape")
def test_sum_of_steps_forms(sub):
    steps = _own_steps("sum.forms", 3)
    judge.all_of(lambda: _sum(sub, 0.25, steps),
                 lambda: _sum(sub, np.linspace(-3, 5, 10).reshape(2, 5), steps))


@pytest.mark.check(kind="behaviour", points=POINTS["sum_of_steps.approximates"],
                   function="sum_of_steps",
                   name="sum_of_steps: 32 steps of sin approximate sin")
def test_sum_of_steps_approximates(sub):
    steps = _ref("step_approximation")(32)
    x = np.linspace(0.0, 2 * np.pi, 501)
    what = judge.call_text("sum_of_steps", x, "step_approximation(32) (the grader's)")
    got = judge.real_array(judge.returned(judge.call(sub, MODULE, "sum_of_steps", x, steps), what),
                           what, x.shape)
    err = np.abs(got - np.sin(x)).max()
    if not err <= (2 * np.pi) ** 2 / (8 * 32 ** 2):
        raise Fail(f"{what}: the largest error against sin is {err:.3g}, expected at most "
                   f"{(2 * np.pi) ** 2 / (8 * 32 ** 2):.3g} (piecewise-linear interpolation).\n"
                   "Hint: offset + sum of heights[i] * relu_ramp(x, a[i], b[i]).")


# =========================================================================================
# circles_experiment
# =========================================================================================

CIRCLES_CALLS = tuple(dict(seed=s, **CIRCLES_KW) for s in CIRCLES_SEEDS)
NETS = ("identity", "relu")


def _circles_result(res, kwargs):
    """The returned result, checked for form: (what, x, y, {name: (weights, biases, losses)})."""
    what = judge.call_text("circles_experiment", **kwargs)
    if not isinstance(res, dict):
        raise Fail(f"{what} returned {judge.short(res, 80)}, expected a dict.")
    sizes = _reference_module(MODULE).CIRCLES_SIZES
    x = judge.float_array(judge.entry(res, ("x",), what), what + '["x"]', (256, 2))
    y = judge.float_array(judge.entry(res, ("y",), what), what + '["y"]', (256,))
    nets = {}
    for name in NETS:
        w = judge.entry(res, (name, "weights"), what)
        b = judge.entry(res, (name, "biases"), what)
        if not isinstance(w, list) or not isinstance(b, list) or len(w) != len(sizes) - 1 \
                or len(b) != len(sizes) - 1:
            raise Fail(f'{what}["{name}"]: "weights" and "biases" must be lists of '
                       f"{len(sizes) - 1} arrays (one per layer of {sizes}), got "
                       f"{judge.short(w, 60)} and {judge.short(b, 60)}.")
        w = [judge.float_array(Wl, f'{what}["{name}"]["weights"][{i}]', (a, c))
             for i, (Wl, a, c) in enumerate(zip(w, sizes[:-1], sizes[1:]))]
        b = [judge.float_array(bl, f'{what}["{name}"]["biases"][{i}]', (c,))
             for i, (bl, c) in enumerate(zip(b, sizes[1:]))]
        losses = judge.float_array(judge.entry(res, (name, "losses"), what),
                                   f'{what}["{name}"]["losses"]', (kwargs["steps"],))
        nets[name] = (w, b, losses)
    return what, x, y, nets


def _circles_data(res, kwargs):
    what, x, y, nets = _circles_result(res, kwargs)
    seed = kwargs["seed"]
    x_ref, y_ref = _reference("datasets", "make_circles")(256, seed=seed)
    if not (np.array_equal(x, x_ref) and np.array_equal(y, y_ref)):
        raise Fail(f'{what}: "x" and "y" are not make_circles(256, seed={seed}).\nHint: keep '
                   "the given first line; train on that data.")
    if judge.entry(res, ("seed",), what) != seed:
        raise Fail(f'{what}["seed"] is {judge.short(res["seed"], 30)}, expected {seed}.')


def _circles_trained(res, kwargs):
    what, x, y, nets = _circles_result(res, kwargs)
    judge.expect_networks_trained(what, nets, judge.replayed(MODULE, "circles_experiment", **kwargs),
                                  lr=kwargs["lr"])


@judge.verifier(MODULE, "circles_experiment")
def _verify_circles(res, args, kwargs):
    """The run the grader replays: the contract's data, both networks' every loss and end."""
    _circles_data(res, kwargs)
    _circles_trained(res, kwargs)


def _circles(sub, kwargs):
    what = judge.call_text("circles_experiment", **kwargs)
    return judge.returned(judge.run(sub, MODULE, "circles_experiment", **kwargs), what)


def _each_circles_call(sub, check):
    judge.all_of(*[lambda kw=kw: check(_circles(sub, kw), (), kw) for kw in CIRCLES_CALLS])


@pytest.mark.check(kind="correctness", points=POINTS["circles_experiment.trained"],
                   function="circles_experiment",
                   name="circles_experiment: the contract's data; both networks' every recorded loss and trained parameters replayed")
def test_circles_experiment_trained(sub):
    _each_circles_call(sub, _verify_circles)


def _accuracy(w, b, name):
    mlp = _mlp()
    x, y = _reference("datasets", "make_circles")(FRESH[0], seed=FRESH[1])
    with np.errstate(all="ignore"):
        logits = mlp.forward(x, w, b, mlp.ACTIVATIONS[name][0])[0]
    return float(np.mean((logits > 0) == y)), x, logits


@pytest.mark.check(kind="experiment", points=POINTS["circles_experiment.linear"],
                   function="circles_experiment",
                   name="circles_experiment: the deep identity network is one linear map, near chance")
def test_circles_experiment_linear(sub):
    def part(kwargs):
        what, x, y, nets = _circles_result(_circles(sub, kwargs), kwargs)
        w, b, _ = nets["identity"]
        acc, fresh, logits = _accuracy(w, b, "identity")
        W, c = _ref("collapse")(w, b)   # the grader's own collapse of the returned network
        if not np.allclose(logits, (fresh @ W + c)[:, 0], rtol=1e-9, atol=1e-9):
            raise Fail(f'{what}: the "identity" network is not affine: its logits on fresh '
                       "points differ from those of its collapsed layer x @ W + b.\nHint: train "
                       'it with mlp.ACTIVATIONS["identity"] (no non-linearity).')
        if acc > LINEAR_AT_MOST:
            raise Fail(f'{what}: the "identity" network gets {acc:.3f} of {FRESH[0]} fresh circle '
                       f"points right (measured by the grader), expected at most {LINEAR_AT_MOST}."
                       f"\nHint: {HINT_LINEAR}.")

    judge.all_of(*[lambda kw=kw: part(kw) for kw in CIRCLES_CALLS])


@pytest.mark.check(kind="experiment", points=POINTS["circles_experiment.relu"],
                   function="circles_experiment",
                   name="circles_experiment: the same network with ReLU separates fresh circles")
def test_circles_experiment_relu(sub):
    def part(kwargs):
        what, x, y, nets = _circles_result(_circles(sub, kwargs), kwargs)
        w, b, _ = nets["relu"]
        acc = _accuracy(w, b, "relu")[0]
        if acc < RELU_AT_LEAST:
            raise Fail(f'{what}: the "relu" network gets {acc:.3f} of {FRESH[0]} fresh circle points '
                       f"right (measured by the grader with its own forward pass), expected at "
                       f"least {RELU_AT_LEAST}.\nHint: the non-linearity is what lets depth draw a "
                       'closed boundary: train with mlp.ACTIVATIONS["relu"] from the same start.')

    judge.all_of(*[lambda kw=kw: part(kw) for kw in CIRCLES_CALLS])


@judge.figure("circles.png")
def _draw_circles(ran):
    """circles_figure (given) of the grader's first verified run, from its validated arrays."""
    kwargs = CIRCLES_CALLS[0]
    res = ran(MODULE, "circles_experiment", **kwargs)
    _verify_circles(res, (), kwargs)
    what, x, y, nets = _circles_result(res, kwargs)
    result = {"x": x, "y": y.astype(np.int64), "seed": kwargs["seed"],
              **{name: {"weights": w, "biases": b, "losses": losses}
                 for name, (w, b, losses) in nets.items()}}
    return judge.drawing(_reference_module(MODULE).circles_figure, kwargs["seed"], result=result)
