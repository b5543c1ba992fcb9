"""Hidden checks for dying_relu.py (SPEC.md "dying_relu.py", docs/experiments.md).

``dead_units`` and ``dead_fraction`` are checked against the reference and on hand-made
networks that tell the usual slips apart (``< 0`` for ``<= 0``, ``any`` for ``all``, the
output layer counted, pre-activations fed forward instead of ReLU outputs, a mean of
per-layer fractions), and by the lecture's property: a unit dead on the data gets exactly
zero gradient.

The experiments are verified, not self-reported (SPEC.md): each is called with seeds
(and a unit, a bias) only the grader knows, with fewer steps than the defaults where the
claim already holds (docs/experiments.md; margins measured on 50 seeds). Their values come
first: the grader replays every run itself (the reference experiment, i.e. ``mlp.train`` from
the contract's start, ``judge.replayed``) and the returned data, start, every recorded loss
and the trained parameters must be that run's; those correctness checks carry most of the
points, and each experiment's verifier (the same comparison) is what lets a claim check
count (``judge.verifier``): untrained, cut-short, padded or made-up runs earn nothing of the
experiment. The claims are then measured by the grader on the returned parameters: dead
units with its own forward pass on fresh circles of its own, exact zero gradients with the
reference ``mlp`` and by moving the dead unit's parameters (and per-input gradients that are
zeros only where they must be: a live unit's control run), bit-identity of the dead unit's
parameters before and after training.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder import judge
from autograder.judge import Fail
from autograder.reference import function as _reference
from autograder.reference import module as _reference_module

MODULE = "dying_relu"

# Points per check: the one place to tune the weights.
POINTS = {
    # dead_units
    "dead_units.values": 0.5,              # correctness: <= 0 on every row, by hand
    "dead_units.random": 0.5,              # correctness: seeded random layer
    "dead_units.edges": 0.5,               # correctness: no rows, one row, NaN keeps a unit alive
    "dead_units.no_gradient": 1.0,         # behaviour: the units it calls dead get zero gradient
    # dead_fraction
    "dead_fraction.values": 0.5,           # correctness: a small network by hand
    "dead_fraction.relu_fed": 0.5,         # correctness: each layer sees the ReLU output before it
    "dead_fraction.hidden_only": 0.5,      # correctness: the output layer does not count
    "dead_fraction.per_unit": 0.5,         # correctness: every unit weighs the same
    "dead_fraction.random": 0.5,           # correctness: seeded random networks
    "dead_fraction.errors": 0.25,          # correctness: ValueError without a hidden layer
    # dead_unit_experiment: the run's values (replayed by the grader) carry most of the points
    "dead_unit_experiment.trained": 2.0,   # correctness: the contract's data and start (bias
                                           # pushed), every recorded loss and the end, replayed
    "dead_unit_experiment.grads": 0.5,     # correctness: per-input gradients, also of a live unit
    "dead_unit_experiment.zero_grad": 1.0, # experiment: exactly zero gradient on every input
    "dead_unit_experiment.stays_dead": 1.0,  # experiment: bit-identical after training; the rest learned
    # lr_sweep
    "lr_sweep.trained": 2.0,               # correctness: one start, every lr's whole run replayed
    "lr_sweep.claim": 1.5,                 # experiment: more dead units at a higher lr (fresh circles)
    # relu_vs_leaky
    "relu_vs_leaky.trained": 2.0,          # correctness: both whole runs replayed
    "relu_vs_leaky.relu_dead": 0.75,       # experiment: ReLU units die and get zero gradient
    "relu_vs_leaky.leaky_alive": 0.75,     # experiment: every leaky unit still gets gradient
}



def _seeds(key: str, n: int = 2) -> tuple[int, ...]:
    """Seeds only the grader knows (from config.SEED), never the docstrings' 0."""
    return tuple(int(s) for s in judge.rng(f"dying_relu.{key}.seeds").integers(100, 100_000, n))


SIZES = (2, 32, 32, 1)
N_POINTS = 256
FRESH = (2000, _seeds("fresh", 1)[0])    # the grader's own fresh circles

DEAD_SEEDS = _seeds("dead_unit")
DEAD_UNITS = tuple(int(u) for u in judge.rng("dying_relu.dead_unit.units").integers(1, 32, 2))
DEAD_BIASES = (-20.0, -60.0)
DEAD_KW = {"lr": 0.5, "steps": 100}     # the loss falls below 0.1 within 100 steps

SWEEP_SEEDS = _seeds("lr_sweep")
SWEEP_BIAS = (0.0, 0.01)                 # the lecture's advice, compared
SWEEP_LRS = [10.0, 0.03, 1.0]            # not sorted: entry j must be trained with lrs[j]
SWEEP_STEPS = 50                         # the damage at lr = 10 is done in the first steps
LOW_AT_MOST, HIGH_AT_LEAST, GAP_AT_LEAST = 0.25, 0.5, 0.4

LEAKY_SEEDS = _seeds("relu_vs_leaky", 1)  # one run: every loss is replayed, as in linear_collapse
LEAKY_KW = {"lr": 5.0, "steps": 100}
RELU_DEAD_AT_LEAST = 0.25

HINT_DEAD = ("a unit whose pre-activation is <= 0 on every input gets zero gradient and stays "
             "dead: relu'(a) = 0 there, so dL/dw = dL/db = 0 and nothing ever changes them")
HINT_LR = ("with a high learning rate one large update can push a unit's bias so far down "
           "that it is negative on every input: in practice more than half the units can die")


def _mlp():
    return _reference_module("mlp")


def _own_dead(x, weights, biases):
    """The grader's own dead mask over the hidden units, each layer fed ReLU outputs."""
    h, dead = np.asarray(x, dtype=np.float64), []
    with np.errstate(all="ignore"):
        for W, b in zip(weights[:-1], biases[:-1]):
            a = h @ W + b
            dead.append(np.all(a <= 0, axis=0))
            h = np.maximum(a, 0.0)
    return np.concatenate(dead)


def _fresh():
    return _reference("datasets", "make_circles")(FRESH[0], seed=FRESH[1])


# =========================================================================================
# dead_units
# =========================================================================================

@judge.verifier(MODULE, "dead_units")
def _verify_dead_units(got, args, kwargs):
    """The mask against the reference's (bit for bit: it is a comparison with 0)."""
    x, W, b = args
    what = judge.call_text("dead_units", *args)
    got = judge.as_array(got, what)
    with np.errstate(invalid="ignore"):
        expected = _reference(MODULE, "dead_units")(x, W, b)
    if got.shape != expected.shape:
        raise Fail(f"{what} returned shape {got.shape}, expected {expected.shape}: one entry per "
                   "unit (column of W).")
    if got.dtype != np.bool_:
        raise Fail(f"{what} returned dtype {got.dtype}, expected bool (True where the unit is "
                   "dead).")
    if not np.array_equal(got, expected):
        j = int(np.argmax(got != expected))
        with np.errstate(invalid="ignore"):
            a = np.asarray(x, dtype=float) @ np.asarray(W)[:, j] + np.asarray(b)[j]
        raise Fail(f"{what} returned {judge.short(got)}, expected {judge.short(expected)}; e.g. unit "
                   f"{j} has pre-activations {judge.short(a)} and should be "
                   f"{'dead' if expected[j] else 'alive'}.\nHint: dead means x @ W + b <= 0 on "
                   "EVERY row (np.all over axis 0; exactly 0 counts: relu'(0) = 0). "
                   f"{HINT_DEAD}.")
    return got


def _dead_units(sub, x, W, b):
    what = judge.call_text("dead_units", x, W, b)
    return _verify_dead_units(judge.returned(judge.call(sub, MODULE, "dead_units", x, W, b), what),
                              (x, W, b), {})


@pytest.mark.check(kind="correctness", points=POINTS["dead_units.values"],
                   function="dead_units", name="dead_units: <= 0 on every row, by hand")
def test_dead_units_values(sub):
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    W = np.array([[1.0, -1.0, 0.0, 1.0, -1.0], [-1.0, -1.0, 0.0, 2.0, 2.0]])
    b = np.array([0.0, 0.0, 0.0, -3.0, -0.5])
    _dead_units(sub, x, W, b)


@pytest.mark.check(kind="correctness", points=POINTS["dead_units.random"], function="dead_units",
                   name="dead_units: a seeded random layer with some dead units")
def test_dead_units_random(sub):
    g = judge.rng("dying_relu.dead_units.random")
    x = g.normal(size=(40, 3))
    W = g.normal(size=(3, 24))
    b = g.normal(-2.5, 2.0, 24)
    _dead_units(sub, x, W, b)


@pytest.mark.check(kind="correctness", points=POINTS["dead_units.edges"], function="dead_units",
                   name="dead_units: no rows (all dead), one row, NaN keeps a unit alive")
def test_dead_units_edges(sub):
    W = np.array([[1.0, -1.0, 2.0], [0.5, 0.5, -1.0]])
    b = np.array([0.0, -1.0, 0.25])
    # One part: all dead (no rows) and none dead (the NaN row) are constants' answers.
    for x in (np.zeros((0, 2)), np.array([[1.0, -2.0]]), np.array([[np.nan, -5.0], [-1.0, -1.0]])):
        _dead_units(sub, x, W, b)


@pytest.mark.check(kind="behaviour", points=POINTS["dead_units.no_gradient"],
                   function="dead_units",
                   name="dead_units: the units it calls dead get exactly zero gradient, the others not")
def test_dead_units_no_gradient(sub):
    g = judge.rng("dying_relu.dead_units.no_gradient")
    x, y = _reference("datasets", "make_circles")(64, seed=int(g.integers(1000)))
    weights, biases = _mlp().init_params((2, 16, 1), seed=int(g.integers(1000)))
    biases[0] = g.choice([0.0, -3.0], size=16)   # some units pushed down, as by a large update
    what = judge.call_text("dead_units", x, weights[0], biases[0])
    dead = _dead_units(sub, x, weights[0], biases[0])
    _, gw, gb = _mlp().loss_and_grads(x, y, weights, biases, *_mlp().ACTIVATIONS["relu"])
    zero = np.all(gw[0] == 0, axis=0) & (gb[0] == 0)
    if not np.array_equal(dead, zero):
        j = int(np.argmax(dead != zero))
        raise Fail(f"{what}: unit {j} is {'dead' if dead[j] else 'alive'} by your dead_units, but "
                   f"its full-batch gradient (computed by the grader) is "
                   f"{'not ' if dead[j] else ''}exactly zero.\nHint: {HINT_DEAD}.")


# =========================================================================================
# dead_fraction
# =========================================================================================

def _hand_network():
    """Layer 1: unit 1 dead (0 on the last row). Layer 2: unit 2 dead only because it is fed
    the dead unit's ReLU output (its pre-activation is >= 0 if fed layer 1's pre-activations).
    The output unit is dead too and must not count. Dead: 2 of 5 hidden units."""
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5]])
    weights = [np.array([[1.0, -1.0], [1.0, -1.0]]),
               np.array([[-1.0, 1.0, 0.0], [5.0, 0.0, -1.0]]),
               np.array([[1.0], [1.0], [1.0]])]
    biases = [np.array([0.0, -0.5]), np.array([0.5, -1.0, 0.0]), np.array([-100.0])]
    return x, weights, biases


HINT_FRACTION = ("dead hidden units / all hidden units, over every layer but the last, each "
                 "layer fed the ReLU output of the one before.")


def _check_fraction(got, args, hint):
    what = judge.call_text("dead_fraction", *args)
    if isinstance(got, np.ndarray) and got.ndim == 0:
        got = got[()]
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number)):
        raise Fail(f"{what} returned {judge.short(got, 80)}, expected a number (a Python float).")
    expected = float(np.mean(_own_dead(*args)))
    if not np.isclose(float(got), expected, rtol=0, atol=1e-12):
        raise Fail(f"{what} returned {float(got)!r}, expected {expected!r}.\nHint: {hint}")


@judge.verifier(MODULE, "dead_fraction")
def _verify_dead_fraction(got, args, kwargs):
    _check_fraction(got, args, HINT_FRACTION)


def _fraction(sub, x, weights, biases, hint=""):
    what = judge.call_text("dead_fraction", x, weights, biases)
    got = judge.returned(judge.call(sub, MODULE, "dead_fraction", x, weights, biases), what)
    _check_fraction(got, (x, weights, biases), hint or HINT_FRACTION)


@pytest.mark.check(kind="correctness", points=POINTS["dead_fraction.values"],
                   function="dead_fraction", name="dead_fraction: a small network by hand")
def test_dead_fraction_values(sub):
    _fraction(sub, *_hand_network())


@pytest.mark.check(kind="correctness", points=POINTS["dead_fraction.relu_fed"],
                   function="dead_fraction",
                   name="dead_fraction: each layer is fed the ReLU output of the one before")
def test_dead_fraction_relu_fed(sub):
    x, w, b = _hand_network()
    w2, b2 = [w[0], w[1][:, 2:], np.ones((1, 1))], [b[0], b[1][2:], np.zeros(1)]
    _fraction(sub, x, w2, b2, hint="layer 2's only unit reads the dead unit of layer 1, whose "
              "ReLU output is 0 on every row, so it is dead too (its pre-activation is exactly 0); "
              "feed each layer h = np.maximum(h @ W + b, 0), not the pre-activation.")


@pytest.mark.check(kind="correctness", points=POINTS["dead_fraction.hidden_only"],
                   function="dead_fraction",
                   name="dead_fraction: the output layer has no ReLU and does not count")
def test_dead_fraction_hidden_only(sub):
    g = judge.rng("dying_relu.dead_fraction.hidden_only")
    x = g.normal(size=(30, 3))
    w = [g.normal(size=(3, 6)), g.normal(size=(6, 4))]
    b = [np.array([0.0, 0.0, -50.0, 0.0, 0.0, 0.0]), np.array([-50.0, -50.0, -50.0, -50.0])]
    _fraction(sub, x, w, b, hint="only hidden layers count: every layer but the last (the "
              "output layer has no ReLU, so its units can't die).")


@pytest.mark.check(kind="correctness", points=POINTS["dead_fraction.per_unit"],
                   function="dead_fraction",
                   name="dead_fraction: every hidden unit weighs the same, whatever its layer's width")
def test_dead_fraction_per_unit(sub):
    g = judge.rng("dying_relu.dead_fraction.per_unit")
    x = np.abs(g.normal(size=(20, 2))) + 0.1
    w = [np.abs(g.normal(size=(2, 2))), np.abs(g.normal(size=(2, 8))), g.normal(size=(8, 1))]
    b = [np.array([-50.0, 0.0]), np.zeros(8), np.zeros(1)]
    _fraction(sub, x, w, b, hint="1 dead unit of 2 + 0 of 8 is 1 / 10 of the hidden units, not "
              "the mean of the per-layer fractions (1/2 + 0) / 2: concatenate the dead masks "
              "of all hidden layers, then take the mean.")


@pytest.mark.check(kind="correctness", points=POINTS["dead_fraction.random"],
                   function="dead_fraction", name="dead_fraction: seeded random deep networks")
def test_dead_fraction_random(sub):
    g = judge.rng("dying_relu.dead_fraction.random")

    def part(dims):
        x = g.normal(size=(50, dims[0]))
        w = [g.normal(0, np.sqrt(2 / a), (a, c)) for a, c in zip(dims[:-1], dims[1:])]
        b = [g.normal(-1.0, 1.0, c) for c in dims[1:]]
        _fraction(sub, x, w, b)

    judge.all_of(lambda: part((2, 32, 32, 1)), lambda: part((3, 10, 7, 12, 2)))


@pytest.mark.check(kind="correctness", points=POINTS["dead_fraction.errors"],
                   function="dead_fraction",
                   name="dead_fraction: ValueError for a network with no hidden layer")
def test_dead_fraction_errors(sub):
    x, w, b = np.ones((3, 2)), [np.ones((2, 1))], [np.zeros(1)]
    judge.expect_value_error(judge.call(sub, MODULE, "dead_fraction", x, w, b),
                             judge.call_text("dead_fraction", x, w, b),
                             "one layer is the output layer alone: there is no hidden unit to "
                             "count, so raise ValueError.")


# =========================================================================================
# Shared: the result of a training experiment, checked against the contract and replayed
# =========================================================================================

def _params(value, what):
    """A list of 3 arrays shaped like init_params(SIZES)'s weights (2-D) or biases (1-D)."""
    if not isinstance(value, list) or len(value) != len(SIZES) - 1:
        raise Fail(f"{what} is {judge.short(value, 60)}, expected a list of {len(SIZES) - 1} arrays "
                   f"(one per layer of {SIZES}).")
    out = [judge.float_array(v, f"{what}[{i}]", finite=False) for i, v in enumerate(value)]
    if out[0].ndim == 2:
        want = list(zip(SIZES[:-1], SIZES[1:]))
    else:
        want = [(d,) for d in SIZES[1:]]
    for i, (v, s) in enumerate(zip(out, want)):
        if v.shape != tuple(s):
            raise Fail(f"{what}[{i}] has shape {v.shape}, expected {tuple(s)}.")
    return out


def _data(res, what, seed):
    if not isinstance(res, dict):
        raise Fail(f"{what} returned {judge.short(res, 80)}, expected a dict.")
    x = judge.float_array(judge.entry(res, ("x",), what), what + '["x"]', (N_POINTS, 2))
    y = judge.float_array(judge.entry(res, ("y",), what), what + '["y"]', (N_POINTS,))
    x_ref, y_ref = _reference("datasets", "make_circles")(N_POINTS, seed=seed)
    if not (np.array_equal(x, x_ref) and np.array_equal(y, y_ref)):
        raise Fail(f'{what}: "x" and "y" are not make_circles({N_POINTS}, seed={seed}).\nHint: keep '
                   "the given first line and train on that data.")
    if judge.entry(res, ("seed",), what) != seed:
        raise Fail(f'{what}["seed"] is {judge.short(res["seed"], 30)}, expected {seed}.')
    return x, y_ref


def _loss(x, y, w, b, name="relu"):
    mlp = _mlp()
    with np.errstate(all="ignore"):
        return mlp.loss_and_grads(x, y, w, b, *mlp.ACTIVATIONS[name])


# =========================================================================================
# dead_unit_experiment
# =========================================================================================

# The grader's two runs (a pushed, dead unit), and a control whose unit is alive: there the
# per-input gradients are not zero, so only computed gradients match both.
DEAD_CALLS = tuple(dict(seed=s, unit=u, bias=b, **DEAD_KW)
                   for s, u, b in zip(DEAD_SEEDS, DEAD_UNITS, DEAD_BIASES))
LIVE_CALL = dict(seed=DEAD_SEEDS[0], unit=DEAD_UNITS[0], bias=0.5, lr=DEAD_KW["lr"], steps=2)


def _dead_result(res, kwargs):
    """The returned run, its form checked: (what, x, y, before, after, losses)."""
    what = judge.call_text("dead_unit_experiment", **kwargs)
    x, y = _data(res, what, kwargs["seed"])
    if judge.entry(res, ("unit",), what) != kwargs["unit"]:
        raise Fail(f'{what}["unit"] is {judge.short(res["unit"], 30)}, expected {kwargs["unit"]}.')
    before = tuple(_params(judge.entry(res, (k,), what), f'{what}["{k}"]')
                   for k in ("weights_before", "biases_before"))
    after = tuple(_params(judge.entry(res, (k,), what), f'{what}["{k}"]')
                  for k in ("weights_after", "biases_after"))
    losses = judge.float_array(judge.entry(res, ("losses",), what), what + '["losses"]',
                               (kwargs["steps"],), finite=False)
    return what, x, y, before, after, losses


def _dead_start(res, kwargs):
    what, x, y, (w0, b0), after, losses = _dead_result(res, kwargs)
    seed, unit, bias = kwargs["seed"], kwargs["unit"], kwargs["bias"]
    w_ref, b_ref = _mlp().init_params(SIZES, seed=seed)
    b_ref[0][unit] = bias
    for got, want, name in ((w0, w_ref, "weights_before"), (b0, b_ref, "biases_before")):
        for layer, (g, r) in enumerate(zip(got, want)):
            if not np.array_equal(g, r):
                raise Fail(f'{what}["{name}"][{layer}] is not init_params(SIZES, seed={seed}) '
                           f"with biases[0][{unit}] = {bias}.\nHint: keep the given start and "
                           "push only that unit's bias (before training).")


def _dead_trained(res, kwargs):
    what, x, y, before, (w1, b1), losses = _dead_result(res, kwargs)
    ref = judge.replayed(MODULE, "dead_unit_experiment", **kwargs)
    judge.expect_trained(what, "the network's", losses, w1, b1,
                         (ref["weights_after"], ref["biases_after"], ref["losses"]),
                         lr=kwargs["lr"], activation="relu")


def _dead_grads(res, kwargs):
    what = judge.call_text("dead_unit_experiment", **kwargs)
    ref = judge.replayed(MODULE, "dead_unit_experiment", **kwargs)
    for key, shape in (("grad_w", (N_POINTS, 2)), ("grad_b", (N_POINTS,))):
        got = judge.float_array(judge.entry(res, (key,), what), f'{what}["{key}"]', shape)
        judge.expect_close(got, ref[key], f'{what}["{key}"]', rtol=1e-7, atol=1e-12,
                           hint="row i is the gradient of the loss on input i alone "
                                "(mlp.loss_and_grads on x[i:i + 1], y[i:i + 1]) with respect to "
                                "W_0[:, unit] and b_0[unit], at the start, after the push.")


@judge.verifier(MODULE, "dead_unit_experiment")
def _verify_dead_unit_experiment(res, args, kwargs):
    """The run the grader replays: data, start, every loss, the end, the per-input gradients."""
    for part in (_dead_start, _dead_trained, _dead_grads):
        part(res, kwargs)


def _ran(sub, function, kwargs):
    """What the experiment ``function(**kwargs)`` returned (one run shared by its checks)."""
    what = judge.call_text(function, **kwargs)
    return judge.returned(judge.run(sub, MODULE, function, **kwargs), what)


def _each_dead_call(sub, check, calls=DEAD_CALLS):
    judge.all_of(*[lambda kw=kw: check(_ran(sub, "dead_unit_experiment", kw), kw) for kw in calls])


def _all_dead_calls(sub, check, calls):
    """``check`` on every call, all or nothing (a dead unit's zeros are right only there)."""
    for kw in calls:
        check(_ran(sub, "dead_unit_experiment", kw), kw)


@pytest.mark.check(kind="correctness", points=POINTS["dead_unit_experiment.trained"],
                   function="dead_unit_experiment",
                   name="dead_unit_experiment: the contract's start (one bias pushed down); every recorded loss and the trained network replayed")
def test_dead_unit_experiment_trained(sub):
    _each_dead_call(sub, lambda res, kw: (_dead_start(res, kw), _dead_trained(res, kw)))


@pytest.mark.check(kind="correctness", points=POINTS["dead_unit_experiment.grads"],
                   function="dead_unit_experiment",
                   name="dead_unit_experiment: per-input gradients, for a dead unit and a live one")
def test_dead_unit_experiment_grads(sub):
    _all_dead_calls(sub, _dead_grads, (LIVE_CALL,) + DEAD_CALLS)


@pytest.mark.check(kind="experiment", points=POINTS["dead_unit_experiment.zero_grad"],
                   function="dead_unit_experiment",
                   name="dead_unit_experiment: the pushed unit gets exactly zero gradient on every input")
def test_dead_unit_experiment_zero_grad(sub):
    mlp = _mlp()
    relu = mlp.ACTIVATIONS["relu"][0]
    # its gradients are not zero: verified with the dead runs
    _ran(sub, "dead_unit_experiment", LIVE_CALL)

    def part(kwargs):
        res, unit = _ran(sub, "dead_unit_experiment", kwargs), kwargs["unit"]
        what, x, y, (w0, b0), after, losses = _dead_result(res, kwargs)
        # The grader's own evidence: the unit is negative on every input, and moving its
        # parameters changes nothing the network computes.
        fresh = _fresh()[0]
        for data, where in ((x, "the training inputs"), (fresh, f"{FRESH[0]} fresh circle points")):
            a = data @ w0[0][:, unit] + b0[0][unit]
            if (a > 0).any():
                raise Fail(f"{what}: the unit's pre-activation x @ W_0[:, {unit}] + b_0[{unit}] is "
                           f"positive on {int((a > 0).sum())} of {where} (measured by the grader): "
                           f"the unit is not dead.\nHint: {HINT_DEAD}.")
        moved_w = [W.copy() for W in w0]
        moved_b = [b.copy() for b in b0]
        moved_w[0][:, unit] += 0.5
        moved_b[0][unit] -= 1.0
        if not np.array_equal(mlp.forward(x, w0, b0, relu)[0], mlp.forward(x, moved_w, moved_b, relu)[0]):
            raise Fail(f"{what}: moving the unit's weights and bias changes the network's output, "
                       "so its gradient can't be zero.")
        grad_w = judge.float_array(res["grad_w"], what + '["grad_w"]', (N_POINTS, 2))
        grad_b = judge.float_array(res["grad_b"], what + '["grad_b"]', (N_POINTS,))
        rows = int(np.count_nonzero(grad_w.any(axis=1) | (grad_b != 0)))
        if rows:
            raise Fail(f'{what}: "grad_w" / "grad_b" are non-zero on {rows} of the {N_POINTS} '
                       "inputs, but the unit's parameters do not affect the output at all (the "
                       "grader moved them: the logits stay bit-identical), so every per-input "
                       "gradient is exactly 0.\nHint: the gradient of the loss on input i alone "
                       f"with respect to W_0[:, unit] and b_0[unit], at the start. {HINT_DEAD}.")

    judge.all_of(*[lambda kw=kw: part(kw) for kw in DEAD_CALLS])


@pytest.mark.check(kind="experiment", points=POINTS["dead_unit_experiment.stays_dead"],
                   function="dead_unit_experiment",
                   name="dead_unit_experiment: the dead unit is bit-identical after training, the rest learned")
def test_dead_unit_experiment_stays_dead(sub):
    def part(kwargs):
        unit = kwargs["unit"]
        res = _ran(sub, "dead_unit_experiment", kwargs)
        what, x, y, (w0, b0), (w1, b1), losses = _dead_result(res, kwargs)
        if not (np.array_equal(w1[0][:, unit], w0[0][:, unit]) and b1[0][unit] == b0[0][unit]):
            raise Fail(f"{what}: after training, the dead unit's weights W_0[:, {unit}] = "
                       f"{judge.short(w1[0][:, unit])} and bias {b1[0][unit]!r} are not bit for bit "
                       f"what they were ({judge.short(w0[0][:, unit])}, {b0[0][unit]!r}).\nHint: "
                       f"{HINT_DEAD}; train with mlp.train and return what it returns.")
        others = np.delete(np.arange(SIZES[1]), unit)
        unchanged = [int(j) for j in others if np.array_equal(w1[0][:, j], w0[0][:, j])]
        before, after = _loss(x, y, w0, b0)[0], _loss(x, y, w1, b1)[0]
        if len(unchanged) > SIZES[1] // 4 or not (before > 0.1 > after):
            raise Fail(f"{what}: the rest of the network did not learn: the loss (recomputed by the "
                       f"grader) goes from {before:.3g} to {after:.3g}, and {len(unchanged)} other "
                       "first-layer units kept their weights.\nHint: train the whole network; only "
                       "the dead unit is stuck.")

    judge.all_of(*[lambda kw=kw: part(kw) for kw in DEAD_CALLS])


# =========================================================================================
# lr_sweep
# =========================================================================================

SWEEP_CALLS = tuple(dict(lrs=SWEEP_LRS, seed=s, bias_init=b, steps=SWEEP_STEPS)
                    for s, b in zip(SWEEP_SEEDS, SWEEP_BIAS))


def _sweep(res, kwargs):
    """The returned sweep, its form checked: (what, x, y, [(w, b) per lr], losses)."""
    what = judge.call_text("lr_sweep", **kwargs)
    x, y = _data(res, what, kwargs["seed"])
    lrs = judge.float_array(judge.entry(res, ("lrs",), what), what + '["lrs"]', (len(SWEEP_LRS),))
    if not np.array_equal(lrs, kwargs["lrs"]):
        raise Fail(f'{what}["lrs"] is {judge.short(lrs)}, expected {kwargs["lrs"]}, in the given order.')
    k = len(kwargs["lrs"])
    nets = []
    for key in ("weights", "biases"):
        sets = judge.entry(res, (key,), what)
        if not isinstance(sets, list) or len(sets) != k:
            raise Fail(f'{what}["{key}"] must be a list of {k} parameter sets, one per learning '
                       f"rate, got {judge.short(sets, 60)}.")
        nets.append([_params(s, f'{what}["{key}"][{j}]') for j, s in enumerate(sets)])
    losses = judge.float_array(judge.entry(res, ("losses",), what), what + '["losses"]',
                               (k, kwargs["steps"]), finite=False)
    return what, x, y, list(zip(*nets)), losses


@judge.verifier(MODULE, "lr_sweep")
def _verify_lr_sweep(res, args, kwargs):
    """Every learning rate's whole run, replayed from the one start."""
    what, x, y, nets, losses = _sweep(res, kwargs)
    ref = judge.replayed(MODULE, "lr_sweep", **kwargs)
    for j, ((w, b), lr) in enumerate(zip(nets, kwargs["lrs"])):
        judge.expect_trained(what, f"run {j}'s (lr = {lr:g})", losses[j], w, b,
                             (ref["weights"][j], ref["biases"][j], ref["losses"][j]),
                             lr=lr, activation="relu")


@pytest.mark.check(kind="correctness", points=POINTS["lr_sweep.trained"], function="lr_sweep",
                   name="lr_sweep: one start, each network's whole run replayed at its own learning rate")
def test_lr_sweep_trained(sub):
    judge.all_of(*[lambda kw=kw: _verify_lr_sweep(_ran(sub, "lr_sweep", kw), (), kw)
                   for kw in SWEEP_CALLS])


@pytest.mark.check(kind="experiment", points=POINTS["lr_sweep.claim"], function="lr_sweep",
                   name="lr_sweep: more than half the units die at lr = 10, few at lr <= 1 (fresh circles)")
def test_lr_sweep_claim(sub):
    fresh = _fresh()[0]

    def part(kwargs):
        what, x, y, nets, losses = _sweep(_ran(sub, "lr_sweep", kwargs), kwargs)
        dead = [float(np.mean(_own_dead(fresh, w, b))) for w, b in nets]
        table = ", ".join(f"lr {lr:g}: {d:.2f}" for lr, d in zip(SWEEP_LRS, dead))
        high = dead[SWEEP_LRS.index(max(SWEEP_LRS))]
        low = [d for d, lr in zip(dead, SWEEP_LRS) if lr <= 1]
        if high < HIGH_AT_LEAST or max(low) > LOW_AT_MOST or high < min(low) + GAP_AT_LEAST:
            raise Fail(f"{what}: the fraction of hidden units dead on {FRESH[0]} fresh circle points "
                       f"(measured by the grader on the returned networks) is {table}; expected "
                       f"at least {HIGH_AT_LEAST} at lr 10, at most {LOW_AT_MOST} at lr <= 1, and a "
                       f"gap of at least {GAP_AT_LEAST}.\nHint: {HINT_LR}.")

    judge.all_of(*[lambda kw=kw: part(kw) for kw in SWEEP_CALLS])


# =========================================================================================
# relu_vs_leaky
# =========================================================================================

LEAKY_CALLS = tuple(dict(seed=s, **LEAKY_KW) for s in LEAKY_SEEDS)
NETS = ("relu", "leaky_relu")


def _leaky(res, kwargs):
    """The returned pair of runs, their form checked: (what, x, y, {name: (w, b, losses)})."""
    what = judge.call_text("relu_vs_leaky", **kwargs)
    x, y = _data(res, what, kwargs["seed"])
    nets = {}
    for name in NETS:
        w = _params(judge.entry(res, (name, "weights"), what), f'{what}["{name}"]["weights"]')
        b = _params(judge.entry(res, (name, "biases"), what), f'{what}["{name}"]["biases"]')
        losses = judge.float_array(judge.entry(res, (name, "losses"), what),
                                   f'{what}["{name}"]["losses"]', (kwargs["steps"],), finite=False)
        nets[name] = (w, b, losses)
    return what, x, y, nets


@judge.verifier(MODULE, "relu_vs_leaky")
def _verify_relu_vs_leaky(res, args, kwargs):
    """Both whole runs, replayed from the one start."""
    what, x, y, nets = _leaky(res, kwargs)
    judge.expect_networks_trained(what, nets, judge.replayed(MODULE, "relu_vs_leaky", **kwargs),
                                  lr=kwargs["lr"])


@pytest.mark.check(kind="correctness", points=POINTS["relu_vs_leaky.trained"],
                   function="relu_vs_leaky",
                   name="relu_vs_leaky: both networks' whole runs replayed from one start at one learning rate")
def test_relu_vs_leaky_trained(sub):
    judge.all_of(*[lambda kw=kw: _verify_relu_vs_leaky(_ran(sub, "relu_vs_leaky", kw), (), kw)
                   for kw in LEAKY_CALLS])


@pytest.mark.check(kind="experiment", points=POINTS["relu_vs_leaky.relu_dead"],
                   function="relu_vs_leaky",
                   name="relu_vs_leaky: at a high learning rate many ReLU units die and get no gradient")
def test_relu_vs_leaky_relu_dead(sub):
    zero_gradient_units = _reference(MODULE, "zero_gradient_units")
    fresh = _fresh()[0]

    def part(kwargs):
        what, x, y, nets = _leaky(_ran(sub, "relu_vs_leaky", kwargs), kwargs)
        w, b, _ = nets["relu"]
        dead_train, dead_fresh = _own_dead(x, w, b), _own_dead(fresh, w, b)
        if min(dead_train.mean(), dead_fresh.mean()) < RELU_DEAD_AT_LEAST:
            raise Fail(f'{what}: only {dead_train.mean():.2f} of the "relu" network\'s hidden units '
                       f"are dead on the training inputs and {dead_fresh.mean():.2f} on {FRESH[0]} "
                       f"fresh points (measured by the grader), expected at least "
                       f"{RELU_DEAD_AT_LEAST}.\nHint: {HINT_LR}.")
        with np.errstate(all="ignore"):
            zero = zero_gradient_units(x, y, w, b, "relu")
        if (dead_train & ~zero).any():
            raise Fail(f'{what}: some units of the "relu" network are dead on the training inputs '
                       "but still get gradient: the returned parameters are not a ReLU network's.")

    judge.all_of(*[lambda kw=kw: part(kw) for kw in LEAKY_CALLS])


@pytest.mark.check(kind="experiment", points=POINTS["relu_vs_leaky.leaky_alive"],
                   function="relu_vs_leaky",
                   name="relu_vs_leaky: every leaky ReLU unit still gets gradient")
def test_relu_vs_leaky_leaky_alive(sub):
    zero_gradient_units = _reference(MODULE, "zero_gradient_units")

    def part(kwargs):
        what, x, y, nets = _leaky(_ran(sub, "relu_vs_leaky", kwargs), kwargs)
        w, b, _ = nets["leaky_relu"]
        if not all(np.isfinite(p).all() for p in w + b):
            raise Fail(f'{what}: the "leaky_relu" network\'s parameters are not finite: its '
                       "training diverged.")
        with np.errstate(all="ignore"):
            zero = zero_gradient_units(x, y, w, b, "leaky_relu")
        negative = _own_dead(x, w, b).mean()
        if zero.any():
            raise Fail(f'{what}: {int(zero.sum())} hidden units of the "leaky_relu" network get '
                       "exactly zero gradient (computed by the grader with leaky ReLU's slope "
                       "0.01 on the negative side).\nHint: train it with "
                       'mlp.ACTIVATIONS["leaky_relu"]: leaky ReLU lets some gradient through for '
                       "a < 0, so a unit can't die, even when (like "
                       f"{negative:.0%} of these) it is negative on every input.")

    judge.all_of(*[lambda kw=kw: part(kw) for kw in LEAKY_CALLS])


@judge.figure("dying_relu.png")
def _draw_dying(ran):
    """dying_figure (given) of the grader's verified sweeps and first ReLU-against-leaky run,
    from their validated arrays."""
    sweeps = []
    for kwargs in SWEEP_CALLS:
        res = ran(MODULE, "lr_sweep", **kwargs)
        _verify_lr_sweep(res, (), kwargs)
        what, x, y, nets, losses = _sweep(res, kwargs)
        sweeps.append({"x": x, "y": y, "seed": kwargs["seed"], "lrs": np.array(kwargs["lrs"]),
                       "bias_init": kwargs["bias_init"], "weights": [w for w, _ in nets],
                       "biases": [b for _, b in nets], "losses": losses})
    kwargs = LEAKY_CALLS[0]
    res = ran(MODULE, "relu_vs_leaky", **kwargs)
    _verify_relu_vs_leaky(res, (), kwargs)
    what, x, y, nets = _leaky(res, kwargs)
    leaky = {"x": x, "y": y, "seed": kwargs["seed"], "lr": kwargs["lr"],
             **{name: {"weights": w, "biases": b, "losses": losses}
                for name, (w, b, losses) in nets.items()}}
    return judge.drawing(_reference_module(MODULE).dying_figure, kwargs["seed"], sweeps=sweeps, leaky=leaky)
