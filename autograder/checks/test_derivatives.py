"""Hidden checks for derivatives.py (SPEC.md "Array contract" and "derivatives.py").

Each ``*_grad`` gets small checks with their own points (table ``POINTS``): values against
the reference (any value between the one-sided derivatives at a kink), gradient checks
against central differences of the reference forward and of the student's own forward
(CS231n style, away from kinks), the array contract, and the lecture's facts about
gradients (saturation and vanishing gradients, no saturation of relu for x > 0, gradient
that keeps flowing for x < 0 in the leaky / exponential fixes). Then ``prelu_grad``,
``prelu_backward``, ``numerical_derivative`` and ``gradient_check``.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder import config, contract, hints, judge
from autograder.contract import EDGES, FINITE, GRADS, GRID
from autograder.judge import Fail
from autograder.reference import function as _reference
from autograder.sandbox import FunctionRef

MODULE = "derivatives"

# Points per check: the one place to tune the weights.
POINTS = {  # values carry most of a function's points (correctness and gradient checks)
    # every *_grad
    "values": 1.0,        # correctness: ordinary points and where differences fail
    "edges": 1.5,         # correctness: 0, kinks, saturation, +-1e6
    "random": 1.0,        # correctness: seeded random inputs of a 2-D shape
    "parameters": 1.0,    # correctness: non-default alpha / beta really used
    "numeric_ref": 0.75,  # gradient-check: against central differences of the reference
    "numeric_own": 0.75,  # gradient-check: against central differences of YOUR forward
    "dtype": 0.5,         # behaviour: float32 stays float32, int and bool give float64
    "forms": 0.25,        # behaviour: 0-d array, Python number, nested list
    "safe": 0.75,         # behaviour: no overflow / invalid / divide warning for |x| <= 1e6
    "inf": 0.5,           # behaviour: sigmoid_grad and tanh_grad are 0 at +-inf
    "pure": 0.25,         # behaviour: input untouched (also read-only), nothing printed
    "vectorised": 0.25,   # behaviour: no Python loop (lines counted on two sizes)
    "lecture": 0.75,      # behaviour: saturation, vanishing or flowing gradients
    # prelu_grad
    "prelu_grad.pair": 1.0,
    "prelu_grad.channels": 1.0,
    "prelu_grad.broadcast": 0.5,
    "prelu_grad.numeric": 1.0,
    "prelu_grad.dtype": 0.5,
    "prelu_grad.pure": 0.5,
    # prelu_backward
    "prelu_backward.scalar": 1.0,
    "prelu_backward.channels": 1.0,
    "prelu_backward.channels3d": 1.0,
    "prelu_backward.keepdims": 0.5,
    "prelu_backward.numeric": 1.0,
    "prelu_backward.pure": 0.5,
    # numerical_derivative
    "numerical_derivative.sin": 1.0,
    "numerical_derivative.step": 1.0,
    "numerical_derivative.float64": 1.0,
    "numerical_derivative.pure": 0.5,
    # gradient_check
    "gradient_check.right": 1.0,
    "gradient_check.wrong": 1.0,
    "gradient_check.floor": 0.5,
    "gradient_check.step": 0.5,
    "gradient_check.float": 0.5,
}

VECTOR_SIZE = 50_000   # elements for the vectorisation check
H = 1e-5               # the central-difference step (CS231n)
MAX_REL_ERROR = 1e-6   # CS231n: below 1e-7 is good, above 1e-2 is wrong
MIN_ABS_ERROR = 1e-8   # ...but where the derivative is ~0 the difference's roundoff dominates
AWAY_FROM_KINK = 1e-3

FUNCTIONS = list(GRADS)
PARAMETERS = {"leaky_relu_grad": [(0.2,), (0.0,)], "elu_grad": [(0.5,), (2.0,)],
              "swish_grad": [(2.0,), (0.5,)]}

# What each derivative is, as the lecture states it; what it leaves to the student (elu',
# gelu', swish') is a staged hint in the reference's docstring (hints.py), shown on failure.
FORMULA = {
    "sigmoid_grad": "sigmoid'(x) = sigmoid(x) * (1 - sigmoid(x)), evaluated at the input x",
    "tanh_grad": "tanh'(x) = 1 - tanh(x)**2, evaluated at the input x: compute t = tanh(x) "
                 "first (1 - x**2 would treat x as the output)",
    "relu_grad": "relu'(x) = 1 where x > 0, else 0 (at the kink x = 0 anything in [0, 1])",
    "relu6_grad": "relu6'(x) = 1 where 0 < x < 6, else 0 (at the kinks anything in [0, 1])",
    "leaky_relu_grad": "leaky_relu'(x) = 1 where x > 0, else alpha (at 0 anything between)",
    "elu_grad": "elu'(x), the derivative of elu at the input x (at 0 anything between alpha and 1)",
    "gelu_grad": "gelu'(x), the derivative of gelu's tanh form at the input x",
    "swish_grad": "swish'(x), the derivative of x * sigmoid(beta x) at the input x",
}


def _formula(function):
    """What ``function`` computes, then its staged hint when the reference has one."""
    return f"{FORMULA[function]}. " + hints.hint(MODULE, function, "values")


SAFE_HINT = {  # when the reference's docstring has no staged "safe" hint
    "sigmoid_grad": "use an overflow-safe sigmoid; e^-x / (1 + e^-x)**2 overflows (inf / inf "
                    "= nan) for x < -709, the square already for x < -355.",
    "tanh_grad": "1 / cosh(x)**2 overflows for |x| > 710.",
    "relu_grad": "relu's derivative needs no exp and no division.",
    "relu6_grad": "relu6's derivative needs no exp and no division.",
    "leaky_relu_grad": "leaky relu's derivative needs no exp and no division.",
    "elu_grad": "np.where computes both branches for every element.",
    "gelu_grad": "u is about 0.04 x^3: 1 / cosh(u)**2 overflows, tanh(u) does not.",
    "swish_grad": "use an overflow-safe sigmoid (exp of -|t| only).",
}


def _safe_hint(function):
    return hints.hint(MODULE, function, "safe", SAFE_HINT[function])


LECTURE = {
    "sigmoid_grad": "sigmoid saturates: its derivative is at most 1/4 (at x = 0) and vanishes "
                    "once |x| is large (below 5e-5 for |x| >= 10) -- the vanishing gradient",
    "tanh_grad": "tanh saturates too: its derivative is at most 1 (at x = 0) and vanishes once "
                 "|x| is large (below 1e-8 for |x| >= 10)",
    "relu_grad": "relu does not saturate for x > 0: the gradient is exactly 1 there, however "
                 "large x is; for x < 0 it is exactly 0, which is how a unit dies",
    "relu6_grad": "relu6 passes the gradient (exactly 1) only for 0 < x < 6, and 0 outside",
    "leaky_relu_grad": "leaky relu keeps a slope alpha for x < 0, so some gradient always "
                       "flows and a unit cannot die; 1 for x > 0",
    "elu_grad": "elu's gradient for x < 0 is alpha * e^x > 0: it decays smoothly instead of "
                "being cut to 0, so gradient keeps flowing; 1 for x > 0",
    "gelu_grad": "gelu's derivative is about 1 for large x, about 0 for very negative x, 1/2 at "
                 "0, and dips below 0 for some x < 0 (gelu is not monotone)",
    "swish_grad": "swish's derivative is 1/2 at 0, about 1 for large x, about 0 for very "
                  "negative x, dips below 0 for some x < 0, and is 1/2 everywhere for beta = 0",
}

def _check_values(sub, function, x, args=None, hint=None):
    return contract.expect_values(sub, function, x, args, hint=hint or _formula(function))


def _random_input(function):
    g = judge.rng(f"derivatives.{function}.random")
    return np.stack([g.normal(0, 1, 40), g.normal(0, 6, 40), g.uniform(-800, 800, 40)])


def _smooth_points(function):
    """Points for a gradient check: spread over the interesting range, away from kinks."""
    g = judge.rng(f"derivatives.{function}.numeric")
    x = g.uniform(-2.0, 8.0, 60) if function == "relu6_grad" else g.uniform(-6.0, 6.0, 60)
    for k in GRADS[function][2]:
        x = x[np.abs(x - k) > AWAY_FROM_KINK]
    return x


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
    _check_values(sub, function, _random_input(function))


@pytest.mark.parametrize("function", list(PARAMETERS))
@pytest.mark.check(kind="correctness", points=POINTS["parameters"],
                   name="{function}: non-default parameter values are used")
def test_parameters(sub, function):
    name = "beta" if function == "swish_grad" else "alpha"
    x = np.array([-20.0, -3.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0, 20.0])

    def part(args):
        what = judge.call_text(function, x, *args)
        got = judge.returned(judge.call(sub, MODULE, function, x, *args), what)
        hint = _formula(function)
        if isinstance(got, np.ndarray) and got.shape == x.shape and np.allclose(
                got, contract.reference(function, x), rtol=1e-7, atol=1e-12):
            hint = f"your {function} ignores the {name} it is given: use the {name} argument."
        contract.expect_values(sub, function, x, args, hint=hint)

    judge.all_of(*[lambda a=a: part(a) for a in PARAMETERS[function]])


# --- gradient checks --------------------------------------------------------------------


def _rel_error_fail(what, x, a, n, source, hint):
    """``Fail`` where the analytic ``a`` and numerical ``n`` disagree: relative error above
    MAX_REL_ERROR, unless the two are closer than the central difference can resolve."""
    err = judge.rel_error(a, n)
    with np.errstate(invalid="ignore"):
        bad = ~((err <= MAX_REL_ERROR) | (np.abs(a - n) <= MIN_ABS_ERROR))
    if not bad.any():
        return
    worst = int(np.argmax(np.where(bad, np.nan_to_num(err, nan=np.inf), -1)))
    raise Fail(f"{what}: against the central difference (f(x + h) - f(x - h)) / (2h), h = {H:g}, "
               f"of {source}, the relative error |a - n| / max(1e-8, |a| + |n|) is above "
               f"{MAX_REL_ERROR:g} at {int(bad.sum())} of {x.size} points (all at least "
               f"{AWAY_FROM_KINK:g} from a kink); worst at x = {x[worst]!r}: analytic {a[worst]!r}, "
               f"numerical {n[worst]!r}, relative error {err[worst]:.3g} (CS231n: below 1e-7 is "
               f"right, above 1e-2 is wrong).\nHint: {hint}")


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="gradient-check", points=POINTS["numeric_ref"],
                   name="{function}: matches central differences of the activation")
def test_numeric_reference(sub, function):
    forward, args, _ = GRADS[function]
    x = _smooth_points(function)
    what = judge.call_text(function, x, *args)
    a = judge.real_array(judge.returned(judge.call(sub, MODULE, function, x, *args), what),
                         what, x.shape)
    f = _reference("activations", forward)
    with np.errstate(all="ignore"):
        n = (np.asarray(f(x + H, *args), dtype=float) - np.asarray(f(x - H, *args), dtype=float)) / (2 * H)
    _rel_error_fail(what, x, a, n, f"the activation {forward}", _formula(function))


@pytest.mark.parametrize("function, forward", [(g, v[0]) for g, v in GRADS.items()])
@pytest.mark.check(kind="gradient-check", points=POINTS["numeric_own"],
                   name="{function}: matches central differences of your own {forward}")
def test_numeric_own(sub, function, forward):
    args = GRADS[function][1]
    x = _smooth_points(function)
    what = judge.call_text(function, x, *args)
    a = judge.real_array(judge.returned(judge.call(sub, MODULE, function, x, *args), what),
                         what, x.shape)
    both = np.concatenate([x + H, x - H])
    what_f = f"your activations.{forward}, called as " + judge.call_text(forward, both, *args)
    fx = judge.real_array(judge.returned(judge.call(sub, "activations", forward, both, *args),
                                         what_f), what_f, both.shape).astype(np.float64)
    n = (fx[: x.size] - fx[x.size:]) / (2 * H)
    _rel_error_fail(what, x, a, n, f"your own {forward}",
                    f"your {function} and your {forward} disagree, so one of them is wrong "
                    "(the activation is checked on its own too): " + _formula(function))


# --- behaviour: the array contract ------------------------------------------------------


def _float32_input(function):
    """EDGES, random points and a dense grid over [-6, 6], where float32 arithmetic loses
    most (e.g. gelu' between -5.4 and -5.1, where 1 - tanh(u)^2 cancels)."""
    g = judge.rng(f"derivatives.{function}.float32")
    return np.concatenate([EDGES, g.normal(0, 2, 20), np.linspace(-6, 6, 241)]).astype(np.float32)


def _dtype_part(sub, function, x):
    judge.expect_contract_dtype(sub, MODULE, function, x, GRADS[function][1],
                                lambda x64, *a: contract.accepted(function, x64, *a),
                                hint=_formula(function))


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="behaviour", points=POINTS["dtype"],
                   name="{function}: float32 stays float32, int and bool give float64")
def test_dtype(sub, function):
    judge.each_input(lambda x: _dtype_part(sub, function, x),
                     (_float32_input(function), *judge.INT_AND_BOOL_INPUTS))


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
        judge.expect_safe(sub, MODULE, function, x, GRADS[function][1], hint=_safe_hint(function))


@pytest.mark.parametrize("function", ["sigmoid_grad", "tanh_grad"])
@pytest.mark.check(kind="behaviour", points=POINTS["inf"], name="{function}: 0 at +-inf")
def test_inf(sub, function):
    x = np.array([np.inf, -np.inf, 0.0])
    what = judge.call_text(function, x)
    got = judge.real_array(judge.returned(judge.call(sub, MODULE, function, x), what),
                           what, x.shape)
    if not np.all(contract.near(got[:2], 0.0)):
        raise Fail(f"{what} returned {judge.short(got)}, expected 0 at both +inf and -inf.\n"
                   f"Hint: the unit is fully saturated there, so the gradient vanishes "
                   f"completely; {_safe_hint(function)}")


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="behaviour", points=POINTS["pure"],
                   name="{function}: leaves its input unchanged (read-only too), prints nothing")
def test_pure(sub, function):
    judge.expect_pure_call(sub, MODULE, function, _random_input(function), GRADS[function][1])


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.check(kind="behaviour", points=POINTS["vectorised"],
                   name="{function}: vectorised (no Python loop over the elements)")
def test_vectorised(sub, function):
    x = judge.rng(f"derivatives.{function}.big").normal(0, 3, VECTOR_SIZE)
    judge.expect_vectorised(sub, MODULE, function, x, *GRADS[function][1])


# --- behaviour: the lecture's facts about gradients -------------------------------------



def _expect(function, what, ok, x, y, claim):
    """``Fail`` at the first point where ``ok`` (a bool array over x) is False."""
    bad = np.flatnonzero(~np.asarray(ok))
    if bad.size:
        i = bad[0]
        raise Fail(f"{what}: at x = {x[i]!r} it returned {y[i]!r}, but {claim}.\n"
                   f"Hint: {LECTURE[function]}; {FORMULA[function]}.")


def _dips(function, what, x, y, start, depth):
    """``Fail`` unless y goes below ``depth`` somewhere in start < x < 0."""
    window = (x > start) & (x < 0)
    if not np.any(y[window] < depth):
        raise Fail(f"{what}: for {start:g} < x < 0 the smallest value returned is "
                   f"{np.min(y[window])!r}, but the derivative dips below {depth:g} there.\n"
                   f"Hint: {LECTURE[function]}; {FORMULA[function]}.")


def _lecture(sub, function):
    near, slack = contract.near, contract.slack  # the contract's tolerance, never stricter
    what, y = contract.curve(sub, function, GRID)
    x = GRID
    at0 = x == 0
    e = lambda ok, claim: (lambda: _expect(function, what, ok, x, y, claim))
    if function == "sigmoid_grad":
        parts = [e(~at0 | near(y, 0.25), "sigmoid'(0) = 1/4, its maximum"),
                 e((y >= -slack(0)) & (y <= 0.25 + slack(0.25)), "sigmoid' lies in [0, 1/4]"),
                 e((np.abs(x) < 10) | (y <= 5e-5), "for |x| >= 10 sigmoid' is below 5e-5")]
    elif function == "tanh_grad":
        parts = [e(~at0 | near(y, 1), "tanh'(0) = 1, its maximum"),
                 e((y >= -slack(0)) & (y <= 1 + slack(1)), "tanh' lies in [0, 1]"),
                 e((np.abs(x) < 10) | (y <= 1e-8), "for |x| >= 10 tanh' is below 1e-8")]
    elif function == "relu_grad":
        parts = [e((x <= 0) | near(y, 1), "for x > 0 relu' is exactly 1 (no saturation)"),
                 e((x >= 0) | near(y, 0), "for x < 0 relu' is exactly 0")]
    elif function == "relu6_grad":
        inside = (x > 0) & (x < 6)
        parts = [e(~inside | near(y, 1), "for 0 < x < 6 relu6' is exactly 1"),
                 e(inside | (x == 0) | (x == 6) | near(y, 0), "outside [0, 6] relu6' is 0")]
    elif function == "leaky_relu_grad":
        parts = [e((x >= 0) | near(y, 0.01),
                   "for x < 0 the gradient is alpha = 0.01, never 0"),
                 e((x <= 0) | near(y, 1), "for x > 0 the gradient is exactly 1")]
    elif function == "elu_grad":
        # positive wherever alpha e^x is above the contract's atol (below it, 0 is accepted)
        flowing = (x >= 0) | (np.exp(np.minimum(x, 0)) <= config.ATOL64) | (y > 0)
        parts = [e(flowing, "for x < 0 the gradient alpha * e^x is positive (it never dies)"),
                 e((x >= 0) | near(y, np.exp(np.minimum(x, 0))),
                   "for x < 0 the gradient is alpha * e^x with alpha = 1"),
                 e((x <= 0) | near(y, 1), "for x > 0 the gradient is exactly 1")]
    elif function == "gelu_grad":
        parts = [e(~at0 | near(y, 0.5), "gelu'(0) = 1/2"),
                 e((x < 6) | (np.abs(y - 1) <= 1e-6), "for x >= 6 gelu' is about 1"),
                 e((x > -6) | (np.abs(y) <= 1e-6), "for x <= -6 gelu' is about 0"),
                 lambda: _dips(function, what, x, y, -3.0, -0.1)]
    else:  # swish_grad
        what0, y0 = contract.curve(sub, function, GRID, 0.0)
        parts = [e(~at0 | near(y, 0.5), "swish'(0) = 1/2"),
                 e((x < 40) | near(y, 1), "for x >= 40 swish' is about 1"),
                 e((x > -40) | near(y, 0), "for x <= -40 swish' is about 0"),
                 lambda: _dips(function, what, x, y, -4.0, -0.08),
                 lambda: _expect(function, what0, near(y0, 0.5), x, y0,
                                 "with beta = 0 swish is x / 2, so swish' is 1/2 everywhere")]
    judge.all_of(*parts)


LECTURE_NAMES = {
    "sigmoid_grad": "at most 1/4, vanishes when saturated",
    "tanh_grad": "at most 1, vanishes when saturated",
    "relu_grad": "exactly 1 for x > 0 (no saturation), 0 for x < 0",
    "relu6_grad": "1 on (0, 6), 0 outside",
    "leaky_relu_grad": "alpha for x < 0: the gradient keeps flowing",
    "elu_grad": "alpha e^x > 0 for x < 0: the gradient keeps flowing",
    "gelu_grad": "about 1 for large x, about 0 for very negative x, dips below 0",
    "swish_grad": "1/2 at 0, about 1 for large x, dips below 0",
}


@pytest.mark.parametrize("function, property", list(LECTURE_NAMES.items()))
@pytest.mark.check(kind="behaviour", points=POINTS["lecture"], name="{function}: {property}")
def test_lecture(sub, function, property):
    _lecture(sub, function)


# --- prelu_grad ---------------------------------------------------------------------------

PRELU_HINT = ("the pair is (d prelu/dx, d prelu/dalpha) at every element, both with the "
              "broadcast shape of x and alpha. " + hints.hint(MODULE, "prelu_grad", "values"))


def _pair(sub, function, *args, shapes):
    """The two arrays ``function(*args)`` returned, each checked for its shape."""
    what = judge.call_text(function, *args)
    got = judge.returned(judge.call(sub, MODULE, function, *args), what)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Fail(f"{what} returned {judge.short(got)}, expected a pair of arrays "
                   f"({'(d/dx, d/dalpha)' if function == 'prelu_grad' else '(grad_x, grad_alpha)'})."
                   f"\nHint: return two arrays, e.g. `return d_x, d_alpha`.")
    names = ("d/dx", "d/dalpha") if function == "prelu_grad" else ("grad_x", "grad_alpha")
    part_hints = (PRELU_HINT, PRELU_HINT) if function == "prelu_grad" else (
        "grad_x has the shape of x.", BACKWARD_HINT)
    return what, [judge.real_array(v, f"{what} (its {n})", s, hint)
                  for v, n, s, hint in zip(got, names, shapes, part_hints)]


def _prelu_grad_bounds(x, alpha):
    x, alpha = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(alpha, dtype=float))
    dx = np.where(x > 0, 1.0, alpha)
    return (np.where(x == 0, np.minimum(alpha, 1), dx), np.where(x == 0, np.maximum(alpha, 1), dx),
            np.where(x > 0, 0.0, x))


def _pair_parts(function, value, count=2):
    if not isinstance(value, (tuple, list)) or len(value) != count:
        raise Fail(f"{function} returned {judge.short(value, 60)}, not a pair of arrays")
    return value


@judge.verifier(MODULE, "prelu_grad", probe=(np.array([-2.0, -0.5, 0.0, 0.5, 2.0]), 0.25))
def _verify_prelu_grad(value, args, kwargs):
    x, alpha = args
    dx, da = _pair_parts("prelu_grad", value)
    lo, hi, want_da = _prelu_grad_bounds(x, alpha)
    contract.expect_right("prelu_grad", dx, lo, hi, x, "d/dx")
    contract.expect_right("prelu_grad", da, want_da, want_da, x, "d/dalpha")


def _check_prelu_grad(sub, x, alpha, rtol=config.RTOL64, atol=config.ATOL64):
    shape = np.broadcast_shapes(np.shape(x), np.shape(alpha))
    what, (dx, da) = _pair(sub, "prelu_grad", x, alpha, shapes=(shape, shape))
    lo, hi, want_da = _prelu_grad_bounds(x, alpha)
    xs = np.broadcast_to(np.asarray(x, dtype=float), shape)
    judge.all_of(
        lambda: judge.expect_between(dx, lo, hi, f"{what} (its d/dx)", rtol=rtol, atol=atol,
                                     inputs=xs, hint=PRELU_HINT),
        lambda: judge.expect_close(da, want_da, f"{what} (its d/dalpha)", rtol=rtol, atol=atol,
                                   inputs=xs, hint=PRELU_HINT))
    return dx, da


@pytest.mark.check(kind="correctness", points=POINTS["prelu_grad.pair"],
                   function="prelu_grad", name="prelu_grad: the pair (d/dx, d/dalpha) at a few points")
def test_prelu_grad_pair(sub):
    _check_prelu_grad(sub, np.array([-2.0, -0.5, 0.0, 0.5, 2.0]), 0.25)


@pytest.mark.check(kind="correctness", points=POINTS["prelu_grad.channels"],
                   function="prelu_grad",
                   name="prelu_grad: per-channel alpha, both parts in the broadcast shape")
def test_prelu_grad_channels(sub):
    g = judge.rng("derivatives.prelu_grad.channels")
    _check_prelu_grad(sub, g.normal(0, 2, (4, 3)), np.array([0.1, 0.5, 0.02]))


@pytest.mark.check(kind="correctness", points=POINTS["prelu_grad.broadcast"],
                   function="prelu_grad",
                   name="prelu_grad: both parts in the broadcast shape when alpha adds an axis")
def test_prelu_grad_broadcast(sub):
    # x (3,) against alpha (2, 1): both parts are (2, 3), d/dalpha included (x where x <= 0)
    _check_prelu_grad(sub, np.array([-1.5, 0.5, -0.25]), np.array([[0.1], [0.3]]))


@pytest.mark.check(kind="gradient-check", points=POINTS["prelu_grad.numeric"],
                   function="prelu_grad",
                   name="prelu_grad: matches central differences of prelu in x and in alpha")
def test_prelu_grad_numeric(sub):
    g = judge.rng("derivatives.prelu_grad.numeric")
    x = g.uniform(-3, 3, (20, 3))
    x = np.where(np.abs(x) < AWAY_FROM_KINK, 0.5, x)
    alpha = np.array([0.1, 0.5, 0.02])
    shape = x.shape
    what, (dx, da) = _pair(sub, "prelu_grad", x, alpha, shapes=(shape, shape))
    prelu = _reference("activations", "prelu")
    n_x = (prelu(x + H, alpha) - prelu(x - H, alpha)) / (2 * H)
    n_a = (prelu(x, alpha + H) - prelu(x, alpha - H)) / (2 * H)
    judge.all_of(
        lambda: _rel_error_fail(f"{what} (its d/dx)", x.ravel(), dx.ravel(), n_x.ravel(),
                                "prelu in x", PRELU_HINT),
        lambda: _rel_error_fail(f"{what} (its d/dalpha)", x.ravel(), da.ravel(), n_a.ravel(),
                                "prelu in alpha", PRELU_HINT))


@pytest.mark.check(kind="behaviour", points=POINTS["prelu_grad.dtype"], function="prelu_grad",
                   name="prelu_grad: float32 stays float32, int gives float64")
def test_prelu_grad_dtype(sub):
    def part(x, want):
        dx, da = _check_prelu_grad(sub, x, 0.25, rtol=config.RTOL32, atol=config.ATOL32)
        for name, v in (("d/dx", dx), ("d/dalpha", da)):
            if v.dtype != want:
                raise Fail(f"{judge.call_text('prelu_grad', x, 0.25)} returned {name} of dtype "
                           f"{v.dtype}, expected {want}.\nHint: a derivative is floating, never "
                           "bool or int; floating x keeps its dtype (convert alpha to x's dtype, "
                           "e.g. np.asarray(alpha, dtype=x.dtype), and write 1.0 not np.float64).")

    judge.all_of(lambda: part(np.array([-2.0, 0.5, 3.0], dtype=np.float32), np.float32),
                 lambda: part(np.array([-2, 0, 3]), np.float64))


@pytest.mark.check(kind="behaviour", points=POINTS["prelu_grad.pure"], function="prelu_grad",
                   name="prelu_grad: leaves its inputs unchanged (read-only too), prints nothing")
def test_prelu_grad_pure(sub):
    g = judge.rng("derivatives.prelu_grad.pure")
    judge.expect_pure_call(sub, MODULE, "prelu_grad", g.normal(0, 2, (5, 3)),
                           (np.array([0.1, 0.5, 0.02]),))


# --- prelu_backward -----------------------------------------------------------------------

BACKWARD_HINT = ("grad_x = grad_out * d prelu/dx, shaped like x; grad_alpha = dL/dalpha, "
                 "shaped like alpha: a number alpha gets one 0-d gradient, an alpha of shape "
                 "(C,) one per channel. " + hints.hint(MODULE, "prelu_backward", "values"))


def _backward_case(key, shape, alpha):
    g = judge.rng(f"derivatives.prelu_backward.{key}")
    x = g.normal(0, 2, shape)
    x = np.where(np.abs(x) < AWAY_FROM_KINK, 0.5, x)
    return g.normal(0, 1, shape), x, alpha


def _backward_expected(grad_out, x, alpha):
    a = np.asarray(alpha, dtype=float)
    dx = np.where(x > 0, 1.0, a)
    da = np.where(x > 0, 0.0, x)
    lead = x.ndim - a.ndim
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(a.shape) if n == 1)
    return grad_out * dx, (grad_out * da).sum(axis=axes, keepdims=True).reshape(a.shape)


@judge.verifier(MODULE, "prelu_backward", probe=_backward_case("scalar", (6,), 0.25))
def _verify_prelu_backward(value, args, kwargs):
    grad_out, x, alpha = args
    gx, ga = _pair_parts("prelu_backward", value)
    want_x, want_a = _backward_expected(grad_out, x, alpha)
    contract.expect_right("prelu_backward", gx, want_x, want_x, x, "grad_x")
    contract.expect_right("prelu_backward", ga, want_a, want_a, np.zeros(np.shape(alpha)),
                          "grad_alpha")


def _check_backward(sub, grad_out, x, alpha):
    want_x, want_a = _backward_expected(grad_out, x, alpha)
    what, (gx, ga) = _pair(sub, "prelu_backward", grad_out, x, alpha,
                           shapes=(x.shape, np.shape(alpha)))
    judge.all_of(
        lambda: judge.expect_close(gx, want_x, f"{what} (its grad_x)", rtol=config.RTOL64,
                                   atol=config.ATOL64, inputs=x, hint=BACKWARD_HINT),
        lambda: judge.expect_close(ga, want_a, f"{what} (its grad_alpha)", rtol=config.RTOL64,
                                   atol=config.ATOL64, hint=BACKWARD_HINT))


def _backward_shape_fail(sub, grad_out, x, alpha):
    """``_check_backward``, with a hint that names the reduction when only grad_alpha's
    shape is off (the usual bug: not summed, or summed over the wrong axes)."""
    try:
        _check_backward(sub, grad_out, x, alpha)
    except Fail as exc:
        if "grad_alpha) returned shape" in exc.message:
            raise Fail(exc.message + " Here: sum grad_out * d/dalpha over "
                       + ("every element." if np.ndim(alpha) == 0 else
                          f"the axes {tuple(range(x.ndim - 1))} (all but the last, the channel "
                          "axis).")) from None
        raise


@pytest.mark.check(kind="correctness", points=POINTS["prelu_backward.scalar"],
                   function="prelu_backward",
                   name="prelu_backward: a number alpha gets one 0-d gradient, the sum")
def test_prelu_backward_scalar(sub):
    _backward_shape_fail(sub, *_backward_case("scalar", (6,), 0.25))


@pytest.mark.check(kind="correctness", points=POINTS["prelu_backward.channels"],
                   function="prelu_backward",
                   name="prelu_backward: per-channel alpha (C,) on (N, C): a sum per channel")
def test_prelu_backward_channels(sub):
    _backward_shape_fail(sub, *_backward_case("channels", (5, 3), np.array([0.1, 0.5, 0.02])))


@pytest.mark.check(kind="correctness", points=POINTS["prelu_backward.channels3d"],
                   function="prelu_backward",
                   name="prelu_backward: per-channel alpha on (B, T, C): sums over all but the last axis")
def test_prelu_backward_channels3d(sub):
    _backward_shape_fail(sub, *_backward_case("channels3d", (2, 4, 3),
                                              np.array([0.2, 0.05, 0.7])))


@pytest.mark.check(kind="correctness", points=POINTS["prelu_backward.keepdims"],
                   function="prelu_backward",
                   name="prelu_backward: alpha of shape (1, C) gets grad_alpha of shape (1, C)")
def test_prelu_backward_keepdims(sub):
    _backward_shape_fail(sub, *_backward_case("keepdims", (4, 3), np.array([[0.1, 0.5, 0.02]])))


@pytest.mark.check(kind="gradient-check", points=POINTS["prelu_backward.numeric"],
                   function="prelu_backward",
                   name="prelu_backward: matches central differences of sum(grad_out * prelu)")
def test_prelu_backward_numeric(sub):
    grad_out, x, alpha = _backward_case("numeric", (6, 4), np.array([0.1, 0.3, 0.02, 0.6]))
    what, (gx, ga) = _pair(sub, "prelu_backward", grad_out, x, alpha,
                           shapes=(x.shape, alpha.shape))
    prelu = _reference("activations", "prelu")
    loss = lambda x_, a_: float(np.sum(grad_out * prelu(x_, a_)))
    n_x = grad_out * (prelu(x + H, alpha) - prelu(x - H, alpha)) / (2 * H)  # elementwise in x
    n_a = np.array([(loss(x, alpha + H * e) - loss(x, alpha - H * e)) / (2 * H)
                    for e in np.eye(alpha.size)])
    judge.all_of(
        lambda: _rel_error_fail(f"{what} (its grad_x)", x.ravel(), gx.ravel(), n_x.ravel(),
                                "L = sum(grad_out * prelu(x, alpha)) in x", BACKWARD_HINT),
        lambda: _rel_error_fail(f"{what} (its grad_alpha)", alpha, ga, n_a,
                                "L = sum(grad_out * prelu(x, alpha)) in each alpha (the points "
                                "listed are the slopes)", BACKWARD_HINT))


@pytest.mark.check(kind="behaviour", points=POINTS["prelu_backward.pure"],
                   function="prelu_backward",
                   name="prelu_backward: leaves its inputs unchanged (read-only too), prints nothing")
def test_prelu_backward_pure(sub):
    grad_out, x, alpha = _backward_case("channels", (5, 3), np.array([0.1, 0.5, 0.02]))
    args = (grad_out, x, alpha)
    judge.expect_pure(judge.call(sub, MODULE, "prelu_backward", *args), args,
                      judge.call_text("prelu_backward", *args))
    what = judge.call_text("prelu_backward", *args) + " with read-only inputs"
    judge.returned(judge.call(sub, MODULE, "prelu_backward", *args, readonly=True), what)


# --- numerical_derivative -----------------------------------------------------------------

CENTRAL_HINT = ("the central difference is (f(x + h) - f(x - h)) / (2h), on the whole array at "
                "once; its error is O(h^2), while the one-sided (f(x + h) - f(x)) / h is only "
                "O(h) accurate.")


def _numpy(ref):
    """The numpy function a FunctionRef names, in the grader (None for the student's own)."""
    module, _, name = ref.name.partition(".")
    return getattr(np, name) if module == "numpy" else None


def _central(f, x, h=H):
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


@judge.verifier(MODULE, "numerical_derivative",
                probe=(FunctionRef("numpy.sin"), np.linspace(-3.0, 3.0, 13)))
def _verify_numerical_derivative(value, args, kwargs):
    f, x, *h = args
    if _numpy(f) is not None:
        want = _central(_numpy(f), x, *h)
        contract.expect_right("numerical_derivative", value, want - 1e-8, want + 1e-8, x)


def _numerical(sub, f, x, *h, shape=None):
    what = judge.call_text("numerical_derivative", FunctionRef(f), x, *h)
    got = judge.real_array(
        judge.returned(judge.call(sub, MODULE, "numerical_derivative", FunctionRef(f), x, *h), what),
        what, np.shape(x) if shape is None else shape)
    return what, got


def _expect_derivative(what, got, want, x, atol, hint=CENTRAL_HINT):
    if got.dtype != np.float64:
        raise Fail(f"{what} returned dtype {got.dtype}, expected float64.\nHint: convert x "
                   "with np.asarray(x, dtype=np.float64) first, so the difference is taken in "
                   "float64 whatever x was.")
    diff = np.abs(got - want)
    if not np.all(diff <= atol):
        i = np.unravel_index(int(np.argmax(np.where(np.isnan(diff), np.inf, diff))), diff.shape)
        one_sided = "" if not 1e-7 < diff[i] < 1e-3 else (
            " (an error of this size is what a one-sided difference or a float32 step gives)")
        raise Fail(f"{what}: at x = {np.asarray(x, dtype=float)[i]!r} expected {want[i]!r}, got "
                   f"{got[i]!r}; off by {diff[i]:.3g}, more than {atol:g}{one_sided}.\n"
                   f"Hint: {hint}")


@pytest.mark.check(kind="correctness", points=POINTS["numerical_derivative.sin"],
                   function="numerical_derivative",
                   name="numerical_derivative: of numpy.sin is cos")
def test_numerical_derivative_sin(sub):
    x = np.linspace(-3.0, 3.0, 13)
    what, got = _numerical(sub, "numpy.sin", x)
    _expect_derivative(what, got, np.cos(x), x, 1e-8)


@pytest.mark.check(kind="correctness", points=POINTS["numerical_derivative.step"],
                   function="numerical_derivative",
                   name="numerical_derivative: uses the step h it is given")
def test_numerical_derivative_step(sub):
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    h = 0.1
    what, got = _numerical(sub, "numpy.exp", x, h)
    want = (np.exp(x + h) - np.exp(x - h)) / (2 * h)  # e^x sinh(h)/h, 0.17% above e^x
    _expect_derivative(what, got, want, x, 1e-9 * np.max(want),
                       "use the h argument (not a fixed 1e-5): with h = 0.1 the central "
                       "difference of exp is e^x sinh(h) / h, 0.17% above e^x. " + CENTRAL_HINT)


@pytest.mark.check(kind="behaviour", points=POINTS["numerical_derivative.float64"],
                   function="numerical_derivative",
                   name="numerical_derivative: float64 result shaped like x, for any input")
def test_numerical_derivative_float64(sub):
    def part(x):
        what, got = _numerical(sub, "numpy.sin", x)
        _expect_derivative(what, got, np.cos(np.asarray(x, dtype=np.float64)), x, 1e-8)

    judge.all_of(lambda: part(np.array([[0.5, -1.0, 2.0], [3.0, 1.25, -0.75]], dtype=np.float32)),
                 lambda: part(np.array([[0, 1], [2, -3]])),
                 lambda: part(np.array(0.5)),
                 lambda: part([[1.0, -2.0], [0.25, 3.0]]))


@pytest.mark.check(kind="behaviour", points=POINTS["numerical_derivative.pure"],
                   function="numerical_derivative",
                   name="numerical_derivative: leaves x unchanged (read-only too), prints nothing")
def test_numerical_derivative_pure(sub):
    x = np.linspace(-2.0, 2.0, 9)
    args = (FunctionRef("numpy.sin"), x)
    judge.expect_pure(judge.call(sub, MODULE, "numerical_derivative", *args), args,
                      judge.call_text("numerical_derivative", *args))
    judge.returned(judge.call(sub, MODULE, "numerical_derivative", *args, readonly=True),
                   judge.call_text("numerical_derivative", *args) + " with x read-only")


# --- gradient_check -----------------------------------------------------------------------

CHECK_HINT = ("gradient_check returns max over the elements of |a - n| / max(1e-8, |a| + |n|) "
              "with a = f_grad(x) and n the central difference of f, as one float.")


# gradient_check's answer is a maximum of rounding-sized errors for a right derivative, so
# it is verified to 1% (an implementation's order of operations moves it by far less).
GRADIENT_CHECK_RTOL = 1e-2


@judge.verifier(MODULE, "gradient_check",
                probe=(FunctionRef("numpy.sin"), FunctionRef("numpy.sin"), np.linspace(-3.0, 3.0, 25)))
def _verify_gradient_check(value, args, kwargs):
    f, f_grad, x, *h = args
    if _numpy(f) is None or _numpy(f_grad) is None:
        return
    want = _expected_check(_numpy(f), _numpy(f_grad), np.asarray(x, dtype=np.float64), *h)
    got = np.asarray(value, dtype=np.float64) if isinstance(value, (int, float, np.ndarray)) else None
    if got is None or got.shape != () or not abs(float(got) - want) <= GRADIENT_CHECK_RTOL * want:
        raise Fail(f"gradient_check returned {judge.short(value, 60)} where the largest relative "
                   f"error is {want!r}")


def _gradient_check(sub, f, f_grad, x, *h):
    args = (FunctionRef(f), FunctionRef(f_grad), x, *h)
    what = judge.call_text("gradient_check", *args)
    got = judge.returned(judge.call(sub, MODULE, "gradient_check", *args), what)
    value = np.asarray(got) if isinstance(got, (float, int, np.ndarray)) and not isinstance(got, bool) else None
    if value is None or value.ndim != 0 or value.dtype.kind not in "iuf":
        raise Fail(f"{what} returned {judge.short(got)}, expected one float.\nHint: reduce the "
                   f"elementwise relative errors with np.max and return float(...). {CHECK_HINT}")
    return what, float(value)


def _expected_check(f, f_grad, x, h=H):
    return float(np.max(judge.rel_error(f_grad(x), _central(f, x, h)), initial=0.0))


@pytest.mark.check(kind="correctness", points=POINTS["gradient_check.right"],
                   function="gradient_check",
                   name="gradient_check: sin against its derivative cos is tiny")
def test_gradient_check_right(sub):
    x = np.linspace(-3.0, 3.0, 25)
    what, got = _gradient_check(sub, "numpy.sin", "numpy.cos", x)
    if not 0 <= got <= 1e-7:
        raise Fail(f"{what} returned {got!r}, expected a relative error below 1e-7 (about "
                   f"{_expected_check(np.sin, np.cos, x):.2g}): cos is the derivative of sin.\n"
                   f"Hint: {CHECK_HINT}")


@pytest.mark.check(kind="correctness", points=POINTS["gradient_check.wrong"],
                   function="gradient_check",
                   name="gradient_check: a wrong derivative gives the largest relative error")
def test_gradient_check_wrong(sub):
    x = np.linspace(-3.0, 3.0, 25)
    what, got = _gradient_check(sub, "numpy.sin", "numpy.sin", x)
    want = _expected_check(np.sin, np.sin, x)
    if not abs(got - want) <= 1e-6 * want:
        raise Fail(f"{what} returned {got!r}, expected {want!r}: sin is not its own derivative, "
                   f"and this is the largest relative error over x.\nHint: {CHECK_HINT} Not "
                   "the mean, not divided by |n| alone.")


@pytest.mark.check(kind="correctness", points=POINTS["gradient_check.floor"],
                   function="gradient_check",
                   name="gradient_check: a = n = 0 counts as no error (the 1e-8 floor)")
def test_gradient_check_floor(sub):
    # |x| at 0: a = n = 0, so only the 1e-8 floor keeps 0 / 0 from giving nan there; at -1 and
    # 0.5 the derivative claimed (0) is fully wrong: a relative error of exactly 1.
    x = np.array([-1.0, 0.0, 0.5])
    what, got = _gradient_check(sub, "numpy.fabs", "numpy.zeros_like", x)
    if got != 1.0:
        raise Fail(f"{what} returned {got!r}, expected 1.0: at x = 0, a = n = 0 counts as no "
                   "error (0 / 1e-8 = 0), and at x = -1 and 0.5, a = 0 against n = -1 and 1 is "
                   "a relative error of 1.\nHint: divide by np.maximum(1e-8, |a| + |n|), never "
                   "by |a| + |n| alone (0 / 0 is nan, and np.max of an array with nan is nan).")


@pytest.mark.check(kind="correctness", points=POINTS["gradient_check.step"],
                   function="gradient_check",
                   name="gradient_check: uses the step h it is given")
def test_gradient_check_step(sub):
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    what, got = _gradient_check(sub, "numpy.exp", "numpy.exp", x, 0.1)
    want = _expected_check(np.exp, np.exp, x, 0.1)
    if not abs(got - want) <= 1e-6 * want:
        raise Fail(f"{what} returned {got!r}, expected {want!r}: with h = 0.1 the central "
                   "difference of exp is e^x sinh(h) / h, so even the right derivative shows a "
                   "relative error of about h^2 / 12.\nHint: pass h on to the numerical "
                   f"derivative. {CHECK_HINT}")


@pytest.mark.check(kind="behaviour", points=POINTS["gradient_check.float"],
                   function="gradient_check",
                   name="gradient_check: returns one float (0.0 for an empty x), leaves x unchanged, prints nothing")
def test_gradient_check_float(sub):
    x = np.linspace(-3.0, 3.0, 25)
    _gradient_check(sub, "numpy.sin", "numpy.cos", x)
    what, got = _gradient_check(sub, "numpy.sin", "numpy.cos", np.array([]))
    if got != 0.0:
        raise Fail(f"{what} returned {got!r}, expected 0.0: an empty x has no error at all.\n"
                   "Hint: np.max of an empty array raises; np.max(err, initial=0.0) does not.")
    args = (FunctionRef("numpy.sin"), FunctionRef("numpy.cos"), x)
    judge.expect_pure(judge.call(sub, MODULE, "gradient_check", *args), args,
                      judge.call_text("gradient_check", *args))
