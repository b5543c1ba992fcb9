"""Hidden checks for saturation.py (docs/saturation.md): saturation, vanishing gradients,
non-zero-centred outputs and zig-zag updates, the cost of exp.

The small functions are checked against the reference on the grader's own seeded inputs.
The experiments are verified, not self-reported (SPEC.md): each is called with seeds the
grader picks (derived from ``config.SEED``, never the ones the docstrings advertise), and
the grader measures the lecture's claim itself from the data that came back -- the
pre-activations, the weights, the gradient vectors, the paths, the raw timings -- with its
own sigmoid, tanh and backpropagation, after checking that the data is what the docstring
says it is: the contract's draws from the seed (the grader replays them, ``judge.replayed``),
``pre_activations == x @ W``, ``grads == delta * h``, ... A number the student reports (a
fraction, a ratio) earns nothing by itself; one that disagrees with the grader's
recomputation is called out as self-reported. Those value checks carry most of each
function's points, and every function's verifier (``judge.verifier``, the same comparison)
is what lets its behaviour and experiment checks count. Every experiment call is made once
per grade (``judge.run``) and shared by the checks that judge it. The ``plot_*`` functions
are given and earn nothing: the grader draws two of them for the feedback, from verified
results (``judge.figure``).

Thresholds are the saturation author's (docs/saturation.md, measured on seeds 0-4), with
margin; the timing claim uses numpy baselines passed by name (``FunctionRef``), so the
student's own activations can't fail it.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest

from autograder import config, hints, judge
from autograder.judge import Fail
from autograder.reference import function as _reference
from autograder.sandbox import FunctionRef

MODULE = "saturation"

# Points per check: the one place to tune the weights.
POINTS = {
    # lecture_activation (its values are seen through first_layer_grad_norms' small stacks)
    "lecture_activation.pair": 0.5,        # behaviour: a pair of functions the stacks use
    "lecture_activation.unknown": 0.5,     # correctness: ValueError for other names
    "lecture_activation.values": 0.5,      # correctness, per name: seen through a 1-3 layer stack
    "lecture_activation.safe": 0.25,       # behaviour: sigmoid: no overflow at huge pre-activations
    # saturated_fraction
    "saturated_fraction.values": 0.5,      # correctness: inclusive bounds, by hand
    "saturated_fraction.random": 0.5,      # correctness: seeded random outputs, other bounds
    "saturated_fraction.nan_forms": 0.5,   # correctness: NaN not saturated; number, list
    "saturated_fraction.errors": 0.5,      # correctness: ValueError for empty, low >= high, eps < 0
    "saturated_fraction.pure": 0.25,       # behaviour: input untouched
    # saturation_experiment: its values (the contract's draws, the fractions) carry most points
    "saturation_experiment.data": 1.0,     # correctness: the contract's draws, a == x @ W
    "saturation_experiment.reported": 0.75,  # correctness: reported fractions == the data's
    "saturation_experiment.claim": 1.0,    # experiment: N(0,1) saturates, N(0,1/n) does not
    # first_layer_grad_norms
    "first_layer_grad_norms.recompute": 1.0,  # correctness: the contract's draws, the norms
    "first_layer_grad_norms.callable": 0.5,   # correctness: activation given as functions
    "first_layer_grad_norms.errors": 0.25,    # correctness: ValueError for bad depths
    "first_layer_grad_norms.vanishing": 1.0,  # experiment: sigmoid loses ~1/4 per layer
    # weight_gradients
    "weight_gradients.values": 0.5,        # correctness
    "weight_gradients.shapes": 0.5,        # correctness: n != d, one example, ValueError
    "weight_gradients.random": 0.5,        # correctness: seeded random
    # sign_mixed_fraction
    "sign_mixed_fraction.values": 0.5,     # correctness: zeros count as neither sign
    "sign_mixed_fraction.forms": 0.5,      # correctness: one vector, ValueError
    "sign_mixed_fraction.random": 0.5,     # correctness: seeded random
    # sign_mixing_experiment
    "sign_mixing_experiment.data": 1.0,    # correctness: the contract's draws, h == f(a), grads
    "sign_mixing_experiment.reported": 0.75,  # correctness: reported fractions == the grads'
    "sign_mixing_experiment.claim": 1.0,   # experiment: sigmoid-fed never mixes, tanh-fed does
    # same_sign_direction
    "same_sign_direction.examples": 0.5,   # correctness: the docstring's examples
    "same_sign_direction.random": 0.5,     # correctness: seeded random gradients, ties, zero
    "same_sign_direction.orthant": 0.5,    # behaviour: one sign, never uphill
    # descent_path
    "descent_path.free": 0.5,              # correctness: w <- w - lr (w - w*), stop within tol
    "descent_path.restricted": 0.5,        # correctness: same-sign steps only
    "descent_path.max_steps": 0.25,        # correctness: max_steps and purity
    "descent_path.zigzag": 1.0,            # experiment: restricted needs >= 1.5x the steps
    # time_activations
    "time_activations.consistent": 1.0,    # correctness: times measured in this call, and
                                           # per_element / relative follow from them
    "time_activations.errors": 0.25,       # correctness: ValueError without the baseline
}



def _seeds(key: str, n: int = 2) -> tuple[int, ...]:
    """Seeds only the grader knows (from config.SEED), never the docstrings' 0."""
    return tuple(int(s) for s in judge.rng(f"saturation.{key}.seeds").integers(100, 100_000, n))


SAT_SEEDS = _seeds("saturation_experiment")
SAT_EPS = (1e-2, 2e-2)            # one default run, one with another eps (must be used)
GRAD_SEEDS = _seeds("first_layer_grad_norms")
DEPTHS = tuple(range(1, 21))
MIX_SEEDS = _seeds("sign_mixing_experiment")
NAMES = ("sigmoid", "tanh", "relu")
BOUNDS = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}

# Claims (docs/saturation.md, with margin).
SATURATED_AT_LEAST = {"sigmoid": 0.80, "tanh": 0.85}     # N(0,1) weights
SATURATED_AT_MOST = {"sigmoid": 0.01, "tanh": 0.05}      # N(0,1/n) weights
PER_LAYER = {"sigmoid": (None, 0.30), "tanh": (0.80, None), "relu": (0.60, None)}
RELU_OVER_SIGMOID_AT_20 = 1e6
TANH_MIXED_AT_LEAST = 0.90
ZIGZAG_RATIO = 1.5

HINT_SATURATION = ("a sum of a thousand N(0,1) terms easily reaches 2 or 3 (its std is "
                   "sqrt(1000) ~ 32): sigmoid and tanh saturate and their gradient vanishes; "
                   "weights N(0, 1/n) keep the sum near N(0, 1) and few units saturate")
HINT_VANISHING = ("on its way back every sigmoid layer multiplies the gradient by "
                  "sigma'(a) <= 1/4, so the first layer's gradient shrinks geometrically with "
                  "depth; tanh' <= 1 and relu' in {0, 1} lose much less")
HINT_SIGNS = ("dL/dw_i = delta * h_i: the red term delta is shared, the blue terms h_i are "
              "sigmoid outputs, all positive, so every entry has the sign of delta; tanh "
              "outputs are zero-centred, so entries mix signs")
HINT_ZIGZAG = ("with sigmoid inputs every step moves all weights up or all down; reaching an "
               "optimum that needs one weight up and another down takes a zig-zag path and "
               "more steps")


def _reference_fn(name):
    return _reference(MODULE, name)


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a, dtype=np.float64)))


def _activation(name):
    """The grader's own (f, f') for the lecture's three activations."""
    if name == "sigmoid":
        return _sigmoid, lambda a: _sigmoid(a) * (1.0 - _sigmoid(a))
    if name == "tanh":
        return np.tanh, lambda a: 1.0 - np.tanh(a) ** 2
    if name == "relu":
        return (lambda a: np.maximum(a, 0.0)), (lambda a: (np.asarray(a) > 0).astype(np.float64))
    if name == "sin":
        return np.sin, np.cos
    raise KeyError(name)


def _grad_norms(x, weights, depths, name):
    """The grader's own ||dL/dW_1|| for every depth (docs/saturation.md conventions)."""
    f, f_grad = _activation(name)
    out = []
    for depth in depths:
        h, pre = x, []
        for W in weights[:depth]:
            pre.append(h @ W)
            h = f(pre[-1])
        grad_h = np.ones_like(h)
        for layer in reversed(range(depth)):
            grad_a = grad_h * f_grad(pre[layer])
            grad_h = grad_a @ weights[layer].T
        out.append(np.linalg.norm(x.T @ grad_a))
    return np.array(out)


def _saturated(h, low, high, eps):
    return float(np.mean((h <= low + eps) | (h >= high - eps)))


def _mixed(g):
    g = np.atleast_2d(g)
    return float(np.mean((g > 0).any(axis=1) & (g < 0).any(axis=1)))


def _number(value, what):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise Fail(f"{what} returned {judge.short(value, 80)}, expected a number (a Python float).")
    return float(value)


def _close(got, expected, what, *, rtol=1e-9, atol=1e-12, hint=""):
    judge.expect_close(judge.float_array(got, what, np.shape(expected), finite=False), expected,
                       what, rtol=rtol, atol=atol, hint=hint)


# =========================================================================================
# lecture_activation
# =========================================================================================

@pytest.mark.check(kind="behaviour", points=POINTS["lecture_activation.pair"],
                   function="lecture_activation",
                   name="lecture_activation: returns a pair of functions for each lecture name")
def test_lecture_activation_pair(sub):
    problems = []
    for name in NAMES:
        what = judge.call_text("lecture_activation", name)
        r = judge.call(sub, MODULE, "lecture_activation", name)
        # Functions can't be sent back: a pair of them arrives as a "bad-output" naming them.
        if r.ok:
            problems.append(f"{what} returned {judge.short(r.value, 60)}, expected the pair "
                            "(f, f_grad) of functions.")
        elif r.error_kind != "bad-output" or "function" not in (r.error or ""):
            problems.append(f"{what} {r.error}.")
        else:
            try:   # the pair in use: its values are verified through this stack
                _small_stack(sub, name)
            except Fail as exc:
                problems.append(exc.message.split("\n")[0])
    if problems:
        raise Fail("\n".join(problems) + "\nHint: return (f, f_grad), two functions of the "
                   "pre-activation a, for 'sigmoid', 'tanh' and 'relu'.",
                   fraction=1 - len(problems) / len(NAMES))


@pytest.mark.check(kind="correctness", points=POINTS["lecture_activation.unknown"],
                   function="lecture_activation",
                   name="lecture_activation: ValueError for a name it does not know")
def test_lecture_activation_unknown(sub):
    judge.all_of(*[lambda n=n: judge.expect_value_error(
        judge.call(sub, MODULE, "lecture_activation", n),
        judge.call_text("lecture_activation", n),
        "any name but 'sigmoid', 'tanh' and 'relu' raises ValueError (raise ValueError(...)).")
        for n in ("gelu", "Sigmoid")])


SMALL = dict(width=6, n_samples=5, seed=_seeds("small", 1)[0])


def _grad_result(res, args, kwargs):
    """A first_layer_grad_norms result, checked for form: (what, x, weights, norms)."""
    depths = [int(d) for d in args[0]]
    shown = "range(1, 21)" if depths == list(DEPTHS) else tuple(depths)
    what = judge.call_text("first_layer_grad_norms", shown, *args[1:], **kwargs)
    n, width = kwargs.get("n_samples", 32), kwargs.get("width", 64)
    x = judge.float_array(judge.entry(res, ("x",), what), what + '["x"]', (n, width))
    w = judge.float_array(judge.entry(res, ("weights",), what), what + '["weights"]',
                          (max(depths), width, width))
    norms = judge.float_array(judge.entry(res, ("norms",), what), what + '["norms"]',
                              (len(depths),), finite=False)
    got = judge.float_array(judge.entry(res, ("depths",), what), what + '["depths"]',
                            (len(depths),))
    if not np.array_equal(got, depths):
        raise Fail(f'{what}["depths"] is {judge.short(got)}, expected the depths as given.')
    return what, x, w, norms


def _grad_draws(res, args, kwargs):
    """The returned x and weights are the contract's draws (the grader replays them)."""
    what, x, w, norms = _grad_result(res, args, kwargs)
    ref = judge.replayed(MODULE, "first_layer_grad_norms", *args, **kwargs)
    draws = ("with rng = np.random.default_rng(seed) draw x = rng.standard_normal((n_samples, "
             "width)), then weights = rng.standard_normal((max(depths), width, width)) * "
             "weight_scale / np.sqrt(width), in this order.")
    _close(x, ref["x"], what + '["x"]', rtol=1e-12, atol=0, hint=draws)
    _close(w, ref["weights"], what + '["weights"]', rtol=1e-12, atol=0, hint=draws)
    return what, x, w, norms, ref


@judge.verifier(MODULE, "first_layer_grad_norms")
def _verify_grad_norms(res, args, kwargs):
    """The contract's draws and the norms of the reference's backpropagation through them."""
    what, x, w, norms, ref = _grad_draws(res, args, kwargs)
    callable_activation = len(args) > 1 and not isinstance(args[1], str)
    # atol 1e-30: far into saturation sigma' underflows to 0 in one correct form and not in
    # another; every norm the claims use is above 1e-12
    _close(norms, ref["norms"], what + '["norms"]', rtol=1e-6, atol=1e-30,
           hint=("a callable activation comes with its derivative activation_grad: use both "
                 "(here sin and cos), not a lecture activation." if callable_activation else
                 "depth D uses the first D of the weights, f and f' from lecture_activation. "
                 + hints.hint(MODULE, "first_layer_grad_norms", "values")))


def _small_stack(sub, activation, **extra):
    """(what, x, weights, norms) of a small stack, its x and weights the contract's draws."""
    kwargs = {**SMALL, **extra}
    args = ((1, 2, 3), activation)
    what = judge.call_text("first_layer_grad_norms", *args, **kwargs)
    res = judge.returned(judge.run(sub, MODULE, "first_layer_grad_norms", *args, **kwargs), what)
    return _grad_draws(res, args, kwargs)[:4]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.check(kind="correctness", points=POINTS["lecture_activation.values"],
                   function="lecture_activation",
                   name="lecture_activation: {name} and its derivative, used by a 1-3 layer stack")
def test_lecture_activation_values(sub, name):
    what, x, w, norms = _small_stack(sub, name)
    expected = _grad_norms(x, w, (1, 2, 3), name)
    formula = {"sigmoid": "sigma(a) = 1 / (1 + e^-a), sigma'(a) = sigma(a) (1 - sigma(a))",
               "tanh": "tanh(a), tanh'(a) = 1 - tanh(a)^2",
               "relu": "max(0, a), relu'(a) = 1 if a > 0 else 0"}[name]
    _close(norms, expected, what + '["norms"] (||dL/dW_1|| for depths 1, 2, 3)', rtol=1e-7,
           hint=f"the grader recomputed the norms from your x and weights with {formula}, "
                "both evaluated at the pre-activation a; depth 1 only needs f', deeper "
                "stacks need f too. Check lecture_activation, then the backward pass.")


@pytest.mark.check(kind="behaviour", points=POINTS["lecture_activation.safe"],
                   function="lecture_activation",
                   name="lecture_activation: the sigmoid never overflows, however saturated")
def test_lecture_activation_safe(sub):
    # weight_scale 1e4: pre-activations of size 1e4, far into saturation, where
    # 1 / (1 + exp(-a)) computes exp(1e4) = inf (an overflow warning) on its way to 0.
    _small_stack(sub, "sigmoid")   # its values on moderate inputs: verified with this check
    kwargs = {**SMALL, "weight_scale": 1e4}
    what = judge.call_text("first_layer_grad_norms", (1, 2), "sigmoid", **kwargs)
    r = judge.run(sub, MODULE, "first_layer_grad_norms", (1, 2), "sigmoid", **kwargs)
    norms = judge.float_array(judge.entry(judge.returned(r, what), ("norms",), what),
                              what + '["norms"]', (2,), finite=False)
    safe = hints.hint(MODULE, "lecture_activation", "safe")
    judge.expect_no_warnings(r, what, hint="a saturated sigmoid unit is the lecture's point, so "
                             "it must be computed safely. " + safe)
    if not np.isfinite(norms).all():
        raise Fail(f'{what}["norms"] is {judge.short(norms)}: not finite.\nHint: a saturated '
                   "sigmoid unit has a gradient near 0, never inf or NaN; compute sigma and "
                   f"sigma' in a form that can't overflow. {safe}")


# =========================================================================================
# saturated_fraction
# =========================================================================================

@judge.verifier(MODULE, "saturated_fraction")
def _verify_saturated_fraction(got, args, kwargs):
    what = judge.call_text("saturated_fraction", *args)
    got = _number(got, what)
    with np.errstate(invalid="ignore"):
        expected = _reference_fn("saturated_fraction")(*args)
    if not np.isclose(got, expected, rtol=1e-12, atol=1e-12):
        raise Fail(f"{what} returned {got!r}, expected {expected!r}.\nHint: an entry is saturated "
                   "when h <= low + eps or h >= high - eps (both inclusive); the fraction is "
                   "their count over h.size, every entry counted once, NaN never saturated.")


def _fraction_call(sub, h, low, high, *eps):
    what = judge.call_text("saturated_fraction", h, low, high, *eps)
    _verify_saturated_fraction(judge.returned(judge.call(sub, MODULE, "saturated_fraction", h, low,
                                                         high, *eps), what), (h, low, high, *eps), {})


@pytest.mark.check(kind="correctness", points=POINTS["saturated_fraction.values"],
                   function="saturated_fraction",
                   name="saturated_fraction: inclusive bounds on a small example")
def test_saturated_fraction_values(sub):
    h = np.array([-1.0, -0.75, -0.5, 0.0, 0.5, 0.75, 0.875, 1.0])
    judge.all_of(lambda: _fraction_call(sub, h, -1.0, 1.0, 0.25),
                 lambda: _fraction_call(sub, (h + 1.0) / 2.0, 0.0, 1.0))


@pytest.mark.check(kind="correctness", points=POINTS["saturated_fraction.random"],
                   function="saturated_fraction",
                   name="saturated_fraction: seeded random outputs, other bounds and eps")
def test_saturated_fraction_random(sub):
    g = judge.rng("saturation.saturated_fraction.random")
    h = np.tanh(g.normal(0, 3, (30, 7)))
    judge.all_of(lambda: _fraction_call(sub, h, -1.0, 1.0, 0.05),
                 # one part: with eps = 0 the answer is 0, a constant's
                 lambda: (_fraction_call(sub, 3.0 * h + 1.0, -2.0, 4.0, 0.3),
                          _fraction_call(sub, _sigmoid(g.normal(0, 4, 50)), 0.0, 1.0, 0.0)))


@pytest.mark.check(kind="correctness", points=POINTS["saturated_fraction.nan_forms"],
                   function="saturated_fraction",
                   name="saturated_fraction: NaN is not saturated; a number, a list, 3-D")
def test_saturated_fraction_nan_forms(sub):
    # two parts of two cases each: no constant answers both of either
    judge.all_of(lambda: (_fraction_call(sub, np.array([0.0, np.nan, 0.5, 1.0]), 0.0, 1.0),
                          _fraction_call(sub, 0.999, 0.0, 1.0)),
                 lambda: (_fraction_call(sub, [[0.2, 0.995], [0.001, 0.5]], 0.0, 1.0),
                          _fraction_call(sub, np.linspace(-1, 1, 24).reshape(2, 3, 4), -1.0, 1.0,
                                         0.1)))


@pytest.mark.check(kind="correctness", points=POINTS["saturated_fraction.errors"],
                   function="saturated_fraction",
                   name="saturated_fraction: ValueError for empty h, low >= high, eps < 0")
def test_saturated_fraction_errors(sub):
    cases = [((np.array([]), 0.0, 1.0), "an empty h has no fraction"),
             ((np.array([0.5]), 1.0, 0.0), "low >= high is no range"),
             ((np.array([0.5]), 1.0, 1.0), "low >= high is no range"),
             ((np.array([0.5]), 0.0, 1.0, -0.1), "eps must be >= 0")]
    judge.all_of(*[lambda a=a, why=why: judge.expect_value_error(
        judge.call(sub, MODULE, "saturated_fraction", *a),
        judge.call_text("saturated_fraction", *a), f"{why}: raise ValueError.") for a, why in cases])


@pytest.mark.check(kind="behaviour", points=POINTS["saturated_fraction.pure"],
                   function="saturated_fraction",
                   name="saturated_fraction: leaves its input untouched, prints nothing")
def test_saturated_fraction_pure(sub):
    h = np.array([[0.0, 0.3, 0.2], [0.999, 0.5, 0.7]])
    judge.expect_pure(judge.call(sub, MODULE, "saturated_fraction", h, 0.0, 1.0), (h, 0.0, 1.0),
                      judge.call_text("saturated_fraction", h, 0.0, 1.0))


# =========================================================================================
# saturation_experiment
# =========================================================================================

SCALES = ("N(0,1)", "N(0,1/n)")


SAT_CALLS = tuple({"seed": seed} if eps == 1e-2 else {"eps": eps, "seed": seed}
                  for seed, eps in zip(SAT_SEEDS, SAT_EPS))
HINT_DRAWS = ("with rng = np.random.default_rng(seed), draw in the docstring's order: x = "
              "standardised_inputs(n_samples, n_in, rng), then the N(0,1) weights, then the "
              "N(0,1/n) ones")


def _saturation_run(sub, kwargs):
    what = judge.call_text("saturation_experiment", **kwargs)
    return judge.returned(judge.run(sub, MODULE, "saturation_experiment", **kwargs), what)


def _saturation_result(res, kwargs):
    """The returned x, weights and pre-activations, checked for form."""
    what = judge.call_text("saturation_experiment", **kwargs)
    if not isinstance(res, dict):
        raise Fail(f"{what} returned {judge.short(res, 80)}, expected a dict.")
    n_samples, n_in, n_units = 200, 1000, 100
    x = judge.float_array(judge.entry(res, ("x",), what), what + '["x"]', (n_samples, n_in))
    weights = {s: judge.float_array(judge.entry(res, ("weights", s), what),
                                    f'{what}["weights"]["{s}"]', (n_in, n_units)) for s in SCALES}
    pre = {s: judge.float_array(judge.entry(res, ("pre_activations", s), what),
                                f'{what}["pre_activations"]["{s}"]', (n_samples, n_units))
           for s in SCALES}
    return what, x, weights, pre, kwargs.get("eps", 1e-2)


def _saturation_data(res, kwargs):
    """The contract's draws (the grader replays them) and a == x @ W."""
    what, x, weights, pre, eps = _saturation_result(res, kwargs)
    ref = judge.replayed(MODULE, "saturation_experiment", **kwargs)
    mean, std = x.mean(axis=0), x.std(axis=0)
    if np.abs(mean).max() > 1e-6 or np.abs(std - 1).max() > 1e-6:
        raise Fail(f"{what}: the inputs x are not standardised per column: column means "
                   f"range over [{mean.min():.3g}, {mean.max():.3g}], standard deviations over "
                   f"[{std.min():.3g}, {std.max():.3g}]; expected mean 0 and std 1 in every "
                   "column.\nHint: the lecture standardises inputs; use standardised_inputs "
                   "(given).")
    _close(x, ref["x"], what + '["x"]', rtol=1e-9, atol=1e-12, hint=HINT_DRAWS + ".")
    for s, target in (("N(0,1)", 1.0), ("N(0,1/n)", 1 / np.sqrt(x.shape[1]))):
        got = weights[s].std()
        if abs(got / target - 1) > 0.05:
            raise Fail(f'{what}["weights"]["{s}"] has standard deviation {got:.4g}, expected '
                       f"{target:.4g} (within 5%).\nHint: N(0,1/n) means variance 1/n, so "
                       "divide standard normal draws by sqrt(n_in).")
        _close(weights[s], ref["weights"][s], f'{what}["weights"]["{s}"]', rtol=1e-9, atol=1e-12,
               hint=HINT_DRAWS + ".")
        _close(pre[s], x @ weights[s], f'{what}["pre_activations"]["{s}"]', rtol=1e-7,
               atol=1e-9, hint="the pre-activations must be x @ W of the returned x and "
                               "weights (no bias); the grader recomputed them.")
    for key, want in (("eps", eps), ("seed", kwargs["seed"])):
        got = judge.entry(res, (key,), what)
        if not isinstance(got, (int, float, np.number)) or got != want:
            raise Fail(f'{what}["{key}"] is {judge.short(got, 40)}, expected {want!r} (the '
                       f"{key} it was called with).")


def _recomputed_fractions(pre, eps):
    out = {}
    for name, (low, high) in BOUNDS.items():
        f = _activation(name)[0]
        out[name] = {s: _saturated(f(pre[s]), low, high, eps) for s in SCALES}
    return out


def _saturation_reported(res, kwargs):
    _saturation_data(res, kwargs)   # fractions of made-up data are nothing measured
    what, x, weights, pre, eps = _saturation_result(res, kwargs)
    fr = _recomputed_fractions(pre, eps)
    for name in BOUNDS:
        for s in SCALES:
            got = judge.entry(res, ("fractions", name, s), what)
            if not isinstance(got, (int, float, np.number)) or not np.isclose(
                    float(got), fr[name][s], rtol=0, atol=1e-9):
                raise Fail(f'{what}["fractions"]["{name}"]["{s}"] is {judge.short(got, 40)}, '
                           f"but {name} of the pre-activations it returned has "
                           f"{fr[name][s]!r} of its entries within eps = {eps:g} of a bound: "
                           "the reported fraction is not measured from the experiment's own "
                           "data (self-reported).\nHint: compute it with saturated_fraction "
                           f"on {name}(pre_activations), at the eps the experiment was given.")


@judge.verifier(MODULE, "saturation_experiment")
def _verify_saturation_experiment(res, args, kwargs):
    _saturation_reported(res, kwargs)   # the data first, then the fractions


@pytest.mark.check(kind="correctness", points=POINTS["saturation_experiment.data"],
                   function="saturation_experiment",
                   name="saturation_experiment: the contract's draws: standardised x, a == x @ W, N(0,1) and N(0,1/n)")
def test_saturation_experiment_data(sub):
    judge.all_of(*[lambda kw=kw: _saturation_data(_saturation_run(sub, kw), kw) for kw in SAT_CALLS])


@pytest.mark.check(kind="experiment", points=POINTS["saturation_experiment.claim"],
                   function="saturation_experiment",
                   name="saturation_experiment: N(0,1) weights saturate the layer, N(0,1/n) do not")
def test_saturation_experiment_claim(sub):
    def part(kwargs):
        what, x, weights, pre, eps = _saturation_result(_saturation_run(sub, kwargs), kwargs)
        fr = _recomputed_fractions(pre, eps)
        for name in BOUNDS:
            hi, lo = fr[name]["N(0,1)"], fr[name]["N(0,1/n)"]
            if hi < SATURATED_AT_LEAST[name] or lo > SATURATED_AT_MOST[name]:
                raise Fail(f"{what}: the grader applied its own {name} to your pre-activations: "
                           f"{hi:.3f} of the units are saturated (within eps = {eps:g} of a "
                           f"bound) with N(0,1) weights, expected at least "
                           f"{SATURATED_AT_LEAST[name]}; {lo:.3f} with N(0,1/n) weights, expected "
                           f"at most {SATURATED_AT_MOST[name]}.\nHint: {HINT_SATURATION}.")

    judge.all_of(*[lambda kw=kw: part(kw) for kw in SAT_CALLS])


@pytest.mark.check(kind="correctness", points=POINTS["saturation_experiment.reported"],
                   function="saturation_experiment",
                   name="saturation_experiment: the fractions it reports are the ones its data gives")
def test_saturation_experiment_reported(sub):
    judge.all_of(*[lambda kw=kw: _saturation_reported(_saturation_run(sub, kw), kw)
                   for kw in SAT_CALLS])


# =========================================================================================
# first_layer_grad_norms
# =========================================================================================

@pytest.mark.check(kind="correctness", points=POINTS["first_layer_grad_norms.recompute"],
                   function="first_layer_grad_norms",
                   name="first_layer_grad_norms: the contract's draws, and the norms of backprop through them")
def test_first_layer_grad_norms_recompute(sub):
    judge.all_of(*[lambda n=n, s=s: _verify_grad_norms(_deep_result(sub, n, s), *_deep_args(n, s))
                   for s in GRAD_SEEDS for n in NAMES])


@pytest.mark.check(kind="correctness", points=POINTS["first_layer_grad_norms.callable"],
                   function="first_layer_grad_norms",
                   name="first_layer_grad_norms: an activation given as a pair of functions")
def test_first_layer_grad_norms_callable(sub):
    args = ((1, 2, 3), FunctionRef("numpy.sin"))
    kwargs = {**SMALL, "activation_grad": FunctionRef("numpy.cos"), "weight_scale": 2.0}
    what = judge.call_text("first_layer_grad_norms", *args, **kwargs)
    _verify_grad_norms(judge.returned(judge.run(sub, MODULE, "first_layer_grad_norms", *args,
                                                **kwargs), what), args, kwargs)


@pytest.mark.check(kind="correctness", points=POINTS["first_layer_grad_norms.errors"],
                   function="first_layer_grad_norms",
                   name="first_layer_grad_norms: ValueError for bad depths or a callable without derivative")
def test_first_layer_grad_norms_errors(sub):
    cases = [(([],), {}, "depths must not be empty"),
             (([2, 0],), {}, "depths are at least 1"),
             (([1, 2], FunctionRef("numpy.tanh")), {}, "a callable activation needs a callable "
                                                         "activation_grad")]
    # All or nothing: np.max of no depths raises a ValueError of numpy's own.
    for a, k, why in cases:
        judge.expect_value_error(
            judge.run(sub, MODULE, "first_layer_grad_norms", *a, **{**SMALL, **k}),
            judge.call_text("first_layer_grad_norms", *a, **k), f"{why}: raise ValueError.")


def _deep_args(name, seed):
    return (list(DEPTHS), name), {"seed": seed}


def _deep_result(sub, name, seed):
    args, kwargs = _deep_args(name, seed)
    what = judge.call_text("first_layer_grad_norms", "range(1, 21)", name, seed=seed)
    return judge.returned(judge.run(sub, MODULE, "first_layer_grad_norms", *args, **kwargs), what)


def _deep_run(sub, name, seed):
    what, x, w, norms = _grad_result(_deep_result(sub, name, seed), *_deep_args(name, seed))
    return what, x, w, norms, list(DEPTHS)


@pytest.mark.check(kind="experiment", points=POINTS["first_layer_grad_norms.vanishing"],
                   function="first_layer_grad_norms",
                   name="first_layer_grad_norms: the sigmoid's gradient vanishes with depth, tanh's and relu's much less")
def test_first_layer_grad_norms_vanishing(sub):
    def part(seed):
        norms = {}
        for name in NAMES:
            what, x, w, got, depths = _deep_run(sub, name, seed)
            # Measured by the grader: depth 1 and depth 20 recomputed from the returned data.
            norms[name] = _grad_norms(x, w, (1, 20), name)
            if not np.allclose(got[[0, 19]], norms[name], rtol=1e-6, atol=1e-300):
                raise Fail(f'{what}["norms"] at depths 1 and 20 are {judge.short(got[[0, 19]])}, '
                           "but the grader's backpropagation through the returned x and weights "
                           f"gives {judge.short(norms[name])}: the norms are not those of the "
                           "returned network.")
            factor = (norms[name][1] / norms[name][0]) ** (1 / 19)
            lo, hi = PER_LAYER[name]
            if (lo is not None and factor < lo) or (hi is not None and factor > hi):
                want = f"at most {hi}" if hi is not None else f"at least {lo}"
                raise Fail(f"{what}: the gradient reaching the first layer changes by a factor "
                           f"{factor:.3f} per layer (||dL/dW_1|| {norms[name][0]:.3g} at depth 1, "
                           f"{norms[name][1]:.3g} at depth 20, recomputed by the grader), expected "
                           f"{want}.\nHint: {HINT_VANISHING}.")
        if norms["relu"][1] < RELU_OVER_SIGMOID_AT_20 * norms["sigmoid"][1]:
            raise Fail(f"first_layer_grad_norms(range(1, 21), seed={seed}): at depth 20 relu's "
                       f"gradient norm {norms['relu'][1]:.3g} is not a million times the sigmoid's "
                       f"{norms['sigmoid'][1]:.3g}.\nHint: {HINT_VANISHING}.")

    judge.all_of(*[lambda s=s: part(s) for s in GRAD_SEEDS])


# =========================================================================================
# weight_gradients
# =========================================================================================

@judge.verifier(MODULE, "weight_gradients")
def _verify_weight_gradients(got, args, kwargs):
    delta, h = args
    what = judge.call_text("weight_gradients", delta, h)
    expected = np.asarray(delta, dtype=float)[..., None] * np.asarray(h, dtype=float)
    judge.expect_close(judge.real_array(got, what, expected.shape,
                                        "one gradient per example and input: the shape of h."),
                       expected, what, rtol=1e-12,
                       atol=0, hint="row k is delta[k] * h[k]: the red term delta (one per "
                                    "example) times every blue term h_i of that example, "
                                    "delta[:, None] * h.")


def _weight_gradients(sub, delta, h):
    what = judge.call_text("weight_gradients", delta, h)
    _verify_weight_gradients(judge.returned(judge.call(sub, MODULE, "weight_gradients", delta, h),
                                            what), (delta, h), {})


@pytest.mark.check(kind="correctness", points=POINTS["weight_gradients.values"],
                   function="weight_gradients", name="weight_gradients: delta times every input")
def test_weight_gradients_values(sub):
    _weight_gradients(sub, np.array([0.5, -2.0, 1.0]), np.array([[0.2, 0.4], [0.5, 0.25], [1.0, 0.0]]))


@pytest.mark.check(kind="correctness", points=POINTS["weight_gradients.shapes"],
                   function="weight_gradients",
                   name="weight_gradients: (n, d) with n != d, one example, ValueError on mismatch")
def test_weight_gradients_shapes(sub):
    g = judge.rng("saturation.weight_gradients.shapes")
    judge.all_of(
        lambda: _weight_gradients(sub, g.normal(size=4), g.uniform(0, 1, (4, 7))),
        lambda: _weight_gradients(sub, g.normal(size=5), g.uniform(0, 1, (5, 5))),
        lambda: _weight_gradients(sub, -1.5, g.uniform(0, 1, 3)),
        lambda: judge.expect_value_error(
            judge.call(sub, MODULE, "weight_gradients", np.ones(3), np.ones((4, 3))),
            judge.call_text("weight_gradients", np.ones(3), np.ones((4, 3))),
            "one delta per example: delta of shape (3,) does not match h of shape (4, 3); "
            "raise ValueError."))


@pytest.mark.check(kind="correctness", points=POINTS["weight_gradients.random"],
                   function="weight_gradients", name="weight_gradients: seeded random inputs")
def test_weight_gradients_random(sub):
    g = judge.rng("saturation.weight_gradients.random")
    _weight_gradients(sub, g.normal(size=40), np.tanh(g.normal(size=(40, 9))))


# =========================================================================================
# sign_mixed_fraction
# =========================================================================================

@judge.verifier(MODULE, "sign_mixed_fraction")
def _verify_sign_mixed_fraction(got, args, kwargs):
    (grads,) = args
    what = judge.call_text("sign_mixed_fraction", grads)
    got = _number(got, what)
    expected = _mixed(np.asarray(grads, dtype=float))
    if not np.isclose(got, expected, rtol=0, atol=1e-12):
        raise Fail(f"{what} returned {got!r}, expected {expected!r}.\nHint: a vector mixes signs "
                   "when some entry is > 0 and some entry is < 0; zeros count as neither sign; "
                   "the fraction is over the rows (vectors), not the entries.")


def _mixed_call(sub, grads):
    what = judge.call_text("sign_mixed_fraction", grads)
    _verify_sign_mixed_fraction(judge.returned(judge.call(sub, MODULE, "sign_mixed_fraction", grads),
                                               what), (grads,), {})


@pytest.mark.check(kind="correctness", points=POINTS["sign_mixed_fraction.values"],
                   function="sign_mixed_fraction",
                   name="sign_mixed_fraction: rows with a positive and a negative entry; zeros are neither")
def test_sign_mixed_fraction_values(sub):
    grads = np.array([[1.0, 2.0, 3.0], [1.0, -1.0, 0.0], [0.0, -1.0, -2.0], [0.0, 0.0, 0.0],
                      [-1.0, -2.0, 5.0], [0.0, 0.0, 4.0], [-3.0, -1.0, -1.0], [2.0, 0.0, 0.0]])
    _mixed_call(sub, grads)


@pytest.mark.check(kind="correctness", points=POINTS["sign_mixed_fraction.forms"],
                   function="sign_mixed_fraction",
                   name="sign_mixed_fraction: a single vector; ValueError for no vectors or 3-D")
def test_sign_mixed_fraction_forms(sub):
    judge.all_of(
        # one part: a constant answer is right for one of the two vectors only
        lambda: (_mixed_call(sub, np.array([0.5, -0.5, 0.0])),
                 _mixed_call(sub, np.array([0.5, 0.0, 2.0]))),
        lambda: judge.expect_value_error(
            judge.call(sub, MODULE, "sign_mixed_fraction", np.zeros((0, 3))),
            judge.call_text("sign_mixed_fraction", np.zeros((0, 3))),
            "no vectors, no fraction: raise ValueError."),
        lambda: judge.expect_value_error(
            judge.call(sub, MODULE, "sign_mixed_fraction", np.ones((2, 2, 2))),
            judge.call_text("sign_mixed_fraction", np.ones((2, 2, 2))),
            "gradients are (n, d) or (d,): raise ValueError otherwise."))


@pytest.mark.check(kind="correctness", points=POINTS["sign_mixed_fraction.random"],
                   function="sign_mixed_fraction", name="sign_mixed_fraction: seeded random vectors")
def test_sign_mixed_fraction_random(sub):
    g = judge.rng("saturation.sign_mixed_fraction.random")
    grads = g.normal(size=(60, 3)) + g.choice([-2.0, 0.0, 2.0], size=(60, 1))
    grads[g.uniform(size=grads.shape) < 0.2] = 0.0
    _mixed_call(sub, grads)


# =========================================================================================
# sign_mixing_experiment
# =========================================================================================

MIX_CALLS = ({"seed": MIX_SEEDS[0]}, {"n_vectors": 600, "n_inputs": 8, "seed": MIX_SEEDS[1]})


def _mixing_run(sub, kwargs):
    what = judge.call_text("sign_mixing_experiment", **kwargs)
    return judge.returned(judge.run(sub, MODULE, "sign_mixing_experiment", **kwargs), what)


def _mixing_result(res, kwargs):
    """The returned arrays, checked for form: (what, a, delta, h, grads)."""
    n, d = kwargs.get("n_vectors", 1000), kwargs.get("n_inputs", 10)
    what = judge.call_text("sign_mixing_experiment", **kwargs)
    a = judge.float_array(judge.entry(res, ("pre_activations",), what),
                          what + '["pre_activations"]', (n, d))
    delta = judge.float_array(judge.entry(res, ("delta",), what), what + '["delta"]', (n,))
    h = {k: judge.float_array(judge.entry(res, ("h", k), what), f'{what}["h"]["{k}"]', (n, d))
         for k in BOUNDS}
    grads = {k: judge.float_array(judge.entry(res, ("grads", k), what), f'{what}["grads"]["{k}"]',
                                  (n, d)) for k in BOUNDS}
    return what, a, delta, h, grads


def _mixing_data(res, kwargs):
    """The contract's draws (replayed by the grader), h == f(a), grads == delta * h."""
    what, a, delta, h, grads = _mixing_result(res, kwargs)
    ref = judge.replayed(MODULE, "sign_mixing_experiment", **kwargs)
    draws = ("with rng = np.random.default_rng(seed) draw the pre-activations "
             "(n_vectors, n_inputs), then delta (n_vectors,), both standard normal, in this order.")
    _close(a, ref["pre_activations"], what + '["pre_activations"]', rtol=1e-12, atol=0, hint=draws)
    _close(delta, ref["delta"], what + '["delta"]', rtol=1e-12, atol=0, hint=draws)
    for k in BOUNDS:
        _close(h[k], _activation(k)[0](a), f'{what}["h"]["{k}"]', rtol=1e-9, atol=1e-12,
               hint=f"the neuron's inputs are {k}(pre_activations).")
        _close(grads[k], delta[:, None] * h[k], f'{what}["grads"]["{k}"]', rtol=1e-9,
               atol=1e-15, hint="weight gradients are delta * h_i, row by row "
                                "(weight_gradients(delta, h)).")


def _mixing_reported(res, kwargs):
    _mixing_data(res, kwargs)   # fractions of made-up gradients are nothing measured
    what, a, delta, h, grads = _mixing_result(res, kwargs)
    for k in BOUNDS:
        got = judge.entry(res, ("fractions", k), what)
        want = _mixed(grads[k])
        if not isinstance(got, (int, float, np.number)) or not np.isclose(float(got), want,
                                                                        rtol=0, atol=1e-12):
            raise Fail(f'{what}["fractions"]["{k}"] is {judge.short(got, 40)}, but '
                       f"{want!r} of the returned {k}-fed gradient vectors mix signs: the "
                       "fraction is not measured from the experiment's own gradients "
                       "(self-reported).\nHint: sign_mixed_fraction(grads[...]).")


@judge.verifier(MODULE, "sign_mixing_experiment")
def _verify_sign_mixing_experiment(res, args, kwargs):
    _mixing_reported(res, kwargs)   # the data first, then the fractions


@pytest.mark.check(kind="correctness", points=POINTS["sign_mixing_experiment.data"],
                   function="sign_mixing_experiment",
                   name="sign_mixing_experiment: the contract's draws, h == f(a) and grads == delta * h")
def test_sign_mixing_experiment_data(sub):
    judge.all_of(*[lambda kw=kw: _mixing_data(_mixing_run(sub, kw), kw) for kw in MIX_CALLS])


@pytest.mark.check(kind="experiment", points=POINTS["sign_mixing_experiment.claim"],
                   function="sign_mixing_experiment",
                   name="sign_mixing_experiment: sigmoid-fed gradients never mix signs, tanh-fed ones do")
def test_sign_mixing_experiment_claim(sub):
    def part(kwargs):
        what, a, delta, h, grads = _mixing_result(_mixing_run(sub, kwargs), kwargs)
        g = delta[:, None] * _sigmoid(a)  # the grader's own, from the returned a and delta
        wrong = np.sign(g) * np.sign(delta)[:, None] < 0
        if wrong.any() or _mixed(g) != 0.0:
            raise Fail(f"{what}: some sigmoid-fed gradient entries do not have the sign of their "
                       f"delta.\nHint: {HINT_SIGNS}.")
        frac = _mixed(delta[:, None] * np.tanh(a))
        if frac < TANH_MIXED_AT_LEAST:
            raise Fail(f"{what}: only {frac:.3f} of the tanh-fed gradient vectors mix signs "
                       f"(recomputed by the grader from the returned a and delta), expected at "
                       f"least {TANH_MIXED_AT_LEAST}.\nHint: {HINT_SIGNS}.")

    judge.all_of(*[lambda kw=kw: part(kw) for kw in MIX_CALLS])


@pytest.mark.check(kind="correctness", points=POINTS["sign_mixing_experiment.reported"],
                   function="sign_mixing_experiment",
                   name="sign_mixing_experiment: the fractions it reports are the ones its gradients give")
def test_sign_mixing_experiment_reported(sub):
    judge.all_of(*[lambda kw=kw: _mixing_reported(_mixing_run(sub, kw), kw) for kw in MIX_CALLS])


# =========================================================================================
# same_sign_direction
# =========================================================================================

@judge.verifier(MODULE, "same_sign_direction")
def _verify_direction(got, args, kwargs):
    (grad,) = args
    what = judge.call_text("same_sign_direction", grad)
    expected = _reference_fn("same_sign_direction")(grad)
    judge.expect_close(judge.real_array(got, what, expected.shape), expected, what, rtol=1e-12,
                       atol=0, hint="take v = -grad; of max(v, 0) (all >= 0) and min(v, 0) (all "
                                    "<= 0) return the one with the larger norm, the positive one "
                                    "on a tie.")


def _direction(sub, grad):
    what = judge.call_text("same_sign_direction", grad)
    _verify_direction(judge.returned(judge.call(sub, MODULE, "same_sign_direction", grad), what),
                      (grad,), {})


@pytest.mark.check(kind="correctness", points=POINTS["same_sign_direction.examples"],
                   function="same_sign_direction", name="same_sign_direction: the docstring's examples")
def test_same_sign_direction_examples(sub):
    judge.all_of(lambda: _direction(sub, np.array([-2.0, 2.0])),
                 lambda: _direction(sub, np.array([-1.0, 3.0])))


@pytest.mark.check(kind="correctness", points=POINTS["same_sign_direction.random"],
                   function="same_sign_direction",
                   name="same_sign_direction: seeded random gradients, a tie, a zero gradient")
def test_same_sign_direction_random(sub):
    g = judge.rng("saturation.same_sign_direction.random")
    specials = [np.array([1.0, -1.0, 0.0]), np.array([3.0, 1.0]), np.array([-3.0, -1.0]),
                np.zeros(4)]
    # each part a random gradient with one special case: for a tie, a gradient of one sign
    # or a zero one, -grad or zeros is the answer; for the random ones it is not
    judge.all_of(*[lambda d=d, v=v: (_direction(sub, g.normal(size=d)), _direction(sub, v))
                   for d, v in zip((2, 3, 5, 8), specials)])


@pytest.mark.check(kind="behaviour", points=POINTS["same_sign_direction.orthant"],
                   function="same_sign_direction",
                   name="same_sign_direction: all entries share a sign and the step never goes uphill")
def test_same_sign_direction_orthant(sub):
    g = judge.rng("saturation.same_sign_direction.orthant")
    for grad in g.normal(size=(6, 4)):
        what = judge.call_text("same_sign_direction", grad)
        v = judge.real_array(judge.returned(judge.call(sub, MODULE, "same_sign_direction", grad),
                                            what), what, grad.shape)
        if not ((v >= 0).all() or (v <= 0).all()):
            raise Fail(f"{what} returned {judge.short(v)}, which mixes signs.\nHint: {HINT_ZIGZAG}; "
                       "the direction must be all >= 0 or all <= 0.")
        if v @ -grad < 0 or (v @ -grad == 0 and np.any(v)):
            raise Fail(f"{what} returned {judge.short(v)}, which goes uphill (its dot product with "
                       "-grad is not positive).\nHint: project -grad onto an orthant: "
                       "max(-grad, 0) or min(-grad, 0).")


# =========================================================================================
# descent_path (and the given zigzag_experiment built on it)
# =========================================================================================

def _path_array(value, what, d):
    p = judge.float_array(value, what)
    if p.ndim != 2 or p.shape[1] != d or p.shape[0] < 1:
        raise Fail(f"{what} returned shape {p.shape}, expected (steps + 1, {d}).")
    return p


def _path(sub, w0, w_star, **kwargs):
    what = judge.call_text("descent_path", w0, w_star, **kwargs)
    r = judge.run(sub, MODULE, "descent_path", w0, w_star, timeout=config.CALL_TIMEOUT, **kwargs)
    return what, r, _path_array(judge.returned(r, what), what, len(w0))


def _check_path(what, p, w0, w_star, lr, tol, same_sign, max_steps=10_000):
    """Every step is the rule's step from the row before; the path stops at the first point
    within tol (or after max_steps steps)."""
    if not np.array_equal(p[0], w0):
        raise Fail(f"{what}: row 0 is {judge.short(p[0])}, expected the start w0 = {judge.short(w0)}.")
    direction = _reference_fn("same_sign_direction")
    grads = p[:-1] - w_star  # each row's step, by the rule, all at once
    steps = np.array([direction(g) for g in grads]).reshape(grads.shape) if same_sign else -grads
    wants = p[:-1] + lr * steps
    off = ~np.isclose(p[1:], wants, rtol=1e-9, atol=1e-12).all(axis=1)
    if off.any():  # the first step off the rule
        t = int(np.argmax(off))
        rule = ("w + lr * same_sign_direction(w - w*)" if same_sign else "w - lr * (w - w*)")
        hint = (HINT_ZIGZAG + ": each step is lr times the projection of -grad onto one "
                "orthant, not a made-up pattern of its own" if same_sign else
                "free gradient descent on 0.5 ||w - w*||^2 steps by -lr * (w - w*)")
        raise Fail(f"{what}: step {t + 1} goes from {judge.short(p[t])} to "
                   f"{judge.short(p[t + 1])}, expected {judge.short(wants[t])} ({rule}).\n"
                   f"Hint: {hint}.")
    dist = np.linalg.norm(p - w_star, axis=1)
    if (dist[:-1] <= tol).any():
        t = int(np.argmax(dist[:-1] <= tol))
        raise Fail(f"{what}: row {t} is already within tol = {tol:g} of w*, but the path goes on "
                   f"to {len(p) - 1} steps.\nHint: stop at the first point within tol.")
    if dist[-1] > tol and len(p) - 1 < max_steps:
        raise Fail(f"{what}: the path stops after {len(p) - 1} steps at distance {dist[-1]:.3g} "
                   f"from w*, not within tol = {tol:g}, and max_steps = {max_steps} was not used up.")
    if len(p) - 1 > max_steps:
        raise Fail(f"{what}: the path has {len(p) - 1} steps, more than max_steps = {max_steps}.")


@judge.verifier(MODULE, "descent_path")
def _verify_path(value, args, kwargs):
    """Every step is the rule's step and the path stops where it must (_check_path)."""
    bound = inspect.signature(_reference_fn("descent_path")).bind(*args, **kwargs)
    bound.apply_defaults()
    a = bound.arguments
    what = judge.call_text("descent_path", *args, **kwargs)
    w0, w_star = np.asarray(a["w0"], dtype=np.float64), np.asarray(a["w_star"], dtype=np.float64)
    _check_path(what, _path_array(value, what, len(w0)), w0, w_star, a["lr"], a["tol"],
                a["same_sign"], a["max_steps"])


@pytest.mark.check(kind="correctness", points=POINTS["descent_path.free"],
                   function="descent_path",
                   name="descent_path: free gradient descent, stopping at the first point within tol")
def test_descent_path_free(sub):
    g = judge.rng("saturation.descent_path.free")
    w0, ws = g.normal(size=3), g.normal(size=3)

    def part(w0, ws, **kw):
        what, r, p = _path(sub, w0, ws, **kw)
        _check_path(what, p, w0, ws, kw.get("lr", 0.1), kw.get("tol", 1e-3), False)

    judge.all_of(lambda: part(np.array([-1.0, 1.0]), np.array([1.0, -1.0])),
                 lambda: part(w0, ws, lr=0.3, tol=1e-2))


@pytest.mark.check(kind="correctness", points=POINTS["descent_path.restricted"],
                   function="descent_path",
                   name="descent_path: same-sign steps only (sigmoid inputs)")
def test_descent_path_restricted(sub):
    g = judge.rng("saturation.descent_path.restricted")
    w0, ws = g.normal(size=3), g.normal(size=3)

    def part(w0, ws, **kw):
        what, r, p = _path(sub, w0, ws, same_sign=True, **kw)
        steps = np.diff(p, axis=0)
        mixed = ~((steps >= 0).all(axis=1) | (steps <= 0).all(axis=1))
        if mixed.any():
            t = int(np.argmax(mixed))
            raise Fail(f"{what}: step {t + 1} is {judge.short(steps[t])}, which moves some weights "
                       f"up and others down.\nHint: {HINT_ZIGZAG}.")
        _check_path(what, p, w0, ws, kw.get("lr", 0.1), kw.get("tol", 1e-3), True)

    judge.all_of(lambda: part(np.array([-1.0, 1.0]), np.array([1.0, -1.0])),
                 lambda: part(w0, ws, lr=0.3, tol=1e-2))


@pytest.mark.check(kind="correctness", points=POINTS["descent_path.max_steps"],
                   function="descent_path",
                   name="descent_path: stops after max_steps; leaves w0 and w_star untouched")
def test_descent_path_max_steps(sub):
    w0, ws = np.array([-1.0, 1.0]), np.array([1.0, -1.0])
    what, r, p = _path(sub, w0, ws, max_steps=5, same_sign=True)
    if p.shape != (6, 2):
        raise Fail(f"{what} returned {p.shape[0]} rows, expected 6 (w0 and 5 steps: max_steps "
                   "ran out before reaching tol).")
    _check_path(what, p, w0, ws, 0.1, 1e-3, True, max_steps=5)
    judge.expect_pure(r, (w0, ws), what)


def _zigzag_problems():
    """The default problem and random 2-D ones whose optimum needs one weight up, one down."""
    g = judge.rng("saturation.zigzag.problems")
    problems = [((-1.0, 1.0), (1.0, -1.0))]
    for _ in range(2):
        w0 = g.uniform(-2, 2, 2)
        move = g.uniform(0.5, 2.0, 2) * np.array([1.0, -1.0]) * g.choice([-1.0, 1.0])
        problems.append((tuple(w0), tuple(w0 + move)))
    return problems


@pytest.mark.check(kind="experiment", points=POINTS["descent_path.zigzag"],
                   function="descent_path",
                   name="descent_path: same-sign steps zig-zag to the optimum in >= 1.5x the steps")
def test_descent_path_zigzag(sub):
    def part(w0, ws):
        w0a, wsa = np.array(w0), np.array(ws)
        paths = {}
        for key, same in (("free", False), ("restricted", True)):
            what, r, p = _path(sub, w0a, wsa, **({"same_sign": True} if same else {}))
            loss = 0.5 * ((p - wsa) ** 2).sum(axis=1)
            if not (np.diff(loss) < 0).all():
                t = int(np.argmax(np.diff(loss) >= 0))
                raise Fail(f"{what}: the loss does not fall at step {t + 1} "
                           f"({loss[t]:.4g} -> {loss[t + 1]:.4g}).")
            paths[key] = p
        free, restricted = len(paths["free"]) - 1, len(paths["restricted"]) - 1
        if restricted < ZIGZAG_RATIO * free:
            raise Fail(f"descent_path({judge.short(w0a)}, {judge.short(wsa)}): the restricted path "
                       f"took {restricted} steps against {free} for the free one (counted by the "
                       f"grader), expected at least {ZIGZAG_RATIO}x as many.\nHint: {HINT_ZIGZAG}.")

    judge.all_of(*[lambda p=p: part(*p) for p in _zigzag_problems()])


# =========================================================================================
# time_activations
# =========================================================================================

# numpy functions the sandbox resolves by name: the student's own activations can't fail
# the timing claim. numpy.abs is one pass over the array, what a ReLU costs; mlp.sigmoid
# (given, from the reference) is 0.5 * (1 + tanh(x / 2)).
BASELINE = "abs"
# The baseline is not the first function: relative times must be divided by the baseline's,
# whatever its place (a submission dividing by the first function timed would pass otherwise).
TIMED = {"sigmoid": FunctionRef("mlp.sigmoid"), BASELINE: FunctionRef("numpy.abs"),
         "exp": FunctionRef("numpy.exp")}
# Small enough to cost little of a grade (no point rests on a time), large enough that every
# real measurement stays far above FASTEST_PER_ELEMENT.
SIZES = [10_000, 100_000]
REPEAT = 3


# The least time a numpy pass over an array can take, per element (a tenth of a nanosecond
# is 20 GB/s of float64 read: every real measurement is above it, on any machine, however
# idle; a time below it was not measured).
FASTEST_PER_ELEMENT = 1e-11


def _timing_call(seed):
    args = (TIMED, SIZES, REPEAT, BASELINE)
    what = judge.call_text("time_activations", "{sigmoid: mlp.sigmoid, abs: numpy.abs, exp: "
                           "numpy.exp}", SIZES, REPEAT, BASELINE, seed=seed)
    return what, args, {"seed": seed}


def _timing_result(res, args, kwargs):
    """The returned raw times, checked for form: (what, seconds)."""
    functions, sizes, repeat, baseline = args
    what = _timing_call(kwargs["seed"])[0]
    names = judge.entry(res, ("names",), what)
    if not isinstance(names, (list, tuple)) or list(names) != list(functions):
        raise Fail(f'{what}["names"] is {judge.short(names, 80)}, expected {list(functions)} (the '
                   "names of the functions, in order).")
    seconds = {k: judge.float_array(judge.entry(res, ("seconds", k), what),
                                    f'{what}["seconds"]["{k}"]', (len(sizes), repeat))
               for k in functions}
    return what, seconds


@judge.verifier(MODULE, "time_activations")
def _verify_timing(res, args, kwargs):
    """Everything the grader can check without a clock: the form, times no numpy pass can
    beat, and per_element / relative computed from the raw times."""
    functions, sizes, repeat, baseline = args
    what, seconds = _timing_result(res, args, kwargs)
    got_sizes = judge.float_array(judge.entry(res, ("sizes",), what), what + '["sizes"]',
                                  (len(sizes),))
    if not np.array_equal(got_sizes, sizes):
        raise Fail(f'{what}["sizes"] is {judge.short(got_sizes)}, expected {sizes}.')
    if judge.entry(res, ("baseline",), what) != baseline:
        raise Fail(f'{what}["baseline"] is {judge.short(res["baseline"], 40)}, expected '
                   f"{baseline!r}.")
    floor = FASTEST_PER_ELEMENT * np.asarray(sizes, dtype=np.float64)[:, None]
    for k, sec in seconds.items():
        if (sec < floor).any():
            raise Fail(f'{what}["seconds"]["{k}"] holds {judge.short(sec.min(), 20)} s for an array '
                       f"of {sizes[int(np.argmin(sec.min(axis=1) / floor[:, 0]))]} elements: faster "
                       "than any pass over that array can be, so it was not measured.\nHint: time "
                       "every call with time.perf_counter() around it and return what you measured.")
    per = {k: sec.min(axis=1) / got_sizes for k, sec in seconds.items()}
    for k in functions:
        _close(judge.entry(res, ("per_element", k), what), per[k], f'{what}["per_element"]["{k}"]',
               rtol=1e-9, atol=0, hint="per element is the fastest of the repeats divided by "
                                       "the size, from the raw seconds it returns.")
        _close(judge.entry(res, ("relative", k), what), per[k] / per[baseline],
               f'{what}["relative"]["{k}"]', rtol=1e-9, atol=0,
               hint="relative is per_element divided by the baseline's per_element.")


def _timing(sub, seed):
    """(what, the call's result, its raw times), the times verified and measured in the call."""
    what, args, kwargs = _timing_call(seed)
    r = judge.run(sub, MODULE, "time_activations", *args, count_refs=True, **kwargs)
    res = judge.returned(r, what)
    _verify_timing(res, args, kwargs)
    seconds = _timing_result(res, args, kwargs)[1]
    # Measured means run: every function timed ``repeat`` times on an array of every size, in
    # this call (counted by the sandbox: work done, which no load changes).
    for name, ref in TIMED.items():
        ran_on = r.ref_calls.get(ref.name, [])
        for n in SIZES:
            if ran_on.count(n) < REPEAT:
                raise Fail(f'{what}: functions["{name}"] ran {ran_on.count(n)} times on an array '
                           f"of {n} elements, expected at least repeat = {REPEAT} (timed), so its "
                           "times were not measured in this call (made up or hard-coded).\nHint: "
                           "for each size, time every function repeat times on x with "
                           "time.perf_counter() around each call, and return what you measured.")
    # The raw times are intervals inside the call, so they add up to no more than the call's
    # own duration (measured by the sandbox around it): true of every real measurement.
    total = sum(s.sum() for s in seconds.values())
    if not total <= r.seconds * 1.02 + 1e-3:
        raise Fail(f"{what}: its raw times add up to {total:.4g} s, but the whole call took "
                   f"{r.seconds:.4g} s (measured by the sandbox): the times were not measured in "
                   "this call (made up or hard-coded).\nHint: time every call with "
                   "time.perf_counter() around it and return what you measured.")
    return what, r, seconds


TIME_SEED = _seeds("time", 1)[0]


@pytest.mark.check(kind="correctness", points=POINTS["time_activations.consistent"],
                   function="time_activations",
                   name="time_activations: the raw times are this call's, and per_element and relative follow from them")
def test_time_activations_consistent(sub):
    _timing(sub, TIME_SEED)


@pytest.mark.check(kind="correctness", points=POINTS["time_activations.errors"],
                   function="time_activations",
                   name="time_activations: ValueError when the baseline is not among the functions")
def test_time_activations_errors(sub):
    fns = {"sigmoid": FunctionRef("mlp.sigmoid")}
    judge.expect_value_error(
        judge.run(sub, MODULE, "time_activations", fns, [1000], 1, "relu"),
        judge.call_text("time_activations", "{sigmoid: mlp.sigmoid}", [1000], 1, "relu"),
        "relative times need the baseline's time: raise ValueError when it is missing.")


# =========================================================================================
# Figures for the feedback (given code, drawn by the grader from verified results)
# =========================================================================================

@judge.figure("vanishing_gradients.png")
def _draw_grad_norms(ran):
    seed, results = GRAD_SEEDS[0], {}
    for name in NAMES:
        args, kwargs = _deep_args(name, seed)
        res = ran(MODULE, "first_layer_grad_norms", *args, **kwargs)
        _verify_grad_norms(res, args, kwargs)
        results[name] = {"depths": np.array(DEPTHS), "norms": _grad_result(res, args, kwargs)[3],
                         "weight_scale": kwargs.get("weight_scale", 1.0)}
    return judge.drawing(_reference_fn("plot_grad_norms"), results)


@judge.figure("zigzag.png")
def _draw_zigzag(ran):
    w0, ws = (np.array(p) for p in _zigzag_problems()[0])
    result = {"w0": w0, "w_star": ws, "lr": 0.1, "tol": 1e-3}
    for key, kwargs in (("free", {}), ("restricted", {"same_sign": True})):
        what = judge.call_text("descent_path", w0, ws, **kwargs)
        path = ran(MODULE, "descent_path", w0, ws, **kwargs)
        _verify_path(path, (w0, ws), kwargs)
        result[key] = _path_array(path, what, len(w0))
    return judge.drawing(_reference_fn("plot_zigzag"), result)
