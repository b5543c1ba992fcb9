"""Hidden checks for dying_relu.py (SPEC.md "dying_relu.py", docs/experiments.md).

``dead_units`` and ``dead_fraction`` are checked against the reference and on hand-made
networks that tell the usual slips apart (``< 0`` for ``<= 0``, ``any`` for ``all``, the
output layer counted, pre-activations fed forward instead of ReLU outputs, a mean of
per-layer fractions), and by the lecture's property: a unit dead on the data gets exactly
zero gradient.

The experiments are verified, not self-reported (SPEC.md): each is called with seeds
(and a unit, a bias) only the grader knows, with fewer steps than the defaults where the
claim already holds (docs/experiments.md; margins measured on 50 seeds). The grader checks
that the data and the starting parameters are the contract's, that the loss curves are
those of real training (the first two losses recomputed from the start, the last one
against the returned parameters), and then measures each claim itself on the returned
parameters: dead units with its own forward pass on fresh circles of its own, exact zero
gradients with the reference ``mlp`` and by moving the dead unit's parameters, bit-identity
of the dead unit's parameters before and after training.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder import judge
from autograder.config import EXPERIMENT_TIMEOUT
from autograder.judge import Fail
from autograder.reference import function as _reference
from autograder.reference import module as _reference_module

MODULE = "dying_relu"

# Points per check: the one place to tune the weights.
POINTS = {
    # dead_units
    "dead_units.values": 0.5,              # correctness, public: <= 0 on every row, by hand
    "dead_units.random": 0.5,              # correctness: seeded random layer
    "dead_units.edges": 0.5,               # correctness: no rows, one row, NaN keeps a unit alive
    "dead_units.no_gradient": 1.0,         # behaviour: the units it calls dead get zero gradient
    # dead_fraction
    "dead_fraction.values": 0.5,           # correctness, public: a small network by hand
    "dead_fraction.relu_fed": 0.5,         # correctness: each layer sees the ReLU output before it
    "dead_fraction.hidden_only": 0.5,      # correctness: the output layer does not count
    "dead_fraction.per_unit": 0.5,         # correctness: every unit weighs the same
    "dead_fraction.random": 0.5,           # correctness: seeded random networks
    "dead_fraction.errors": 0.25,          # correctness: ValueError without a hidden layer
    # dead_unit_experiment
    "dead_unit_experiment.start": 0.5,     # experiment: the contract's data and start, bias pushed
    "dead_unit_experiment.zero_grad": 1.5, # experiment: exactly zero gradient on every input
    "dead_unit_experiment.stays_dead": 1.5,  # experiment: bit-identical after training; the rest learned
    # lr_sweep
    "lr_sweep.trained": 1.0,               # experiment: one start, every lr really trained
    "lr_sweep.claim": 1.5,                 # experiment: more dead units at a higher lr (fresh circles)
    "lr_sweep.figure": 0.25,               # experiment: dying_figure renders
    # relu_vs_leaky
    "relu_vs_leaky.trained": 1.0,          # experiment: both trained from one start at lr
    "relu_vs_leaky.relu_dead": 1.0,        # experiment: ReLU units die and get zero gradient
    "relu_vs_leaky.leaky_alive": 1.0,      # experiment: every leaky unit still gets gradient
}


def points(check):
    return POINTS[check]


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

LEAKY_SEEDS = _seeds("relu_vs_leaky")
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

def _dead_units(sub, x, W, b):
    what = judge.call_text("dead_units", x, W, b)
    r = judge.call(sub, MODULE, "dead_units", x, W, b)
    got = judge.as_array(judge.returned(r, what), what)
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


@pytest.mark.check(kind="correctness", points=points("dead_units.values"), public=True,
                   function="dead_units", name="dead_units: <= 0 on every row, by hand")
def test_dead_units_values(sub):
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    W = np.array([[1.0, -1.0, 0.0, 1.0, -1.0], [-1.0, -1.0, 0.0, 2.0, 2.0]])
    b = np.array([0.0, 0.0, 0.0, -3.0, -0.5])
    _dead_units(sub, x, W, b)


@pytest.mark.check(kind="correctness", points=points("dead_units.random"), function="dead_units",
                   name="dead_units: a seeded random layer with some dead units")
def test_dead_units_random(sub):
    g = judge.rng("dying_relu.dead_units.random")
    x = g.normal(size=(40, 3))
    W = g.normal(size=(3, 24))
    b = g.normal(-2.5, 2.0, 24)
    _dead_units(sub, x, W, b)


@pytest.mark.check(kind="correctness", points=points("dead_units.edges"), function="dead_units",
                   name="dead_units: no rows (all dead), one row, NaN keeps a unit alive")
def test_dead_units_edges(sub):
    W = np.array([[1.0, -1.0, 2.0], [0.5, 0.5, -1.0]])
    b = np.array([0.0, -1.0, 0.25])
    judge.all_of(lambda: _dead_units(sub, np.zeros((0, 2)), W, b),
                 lambda: _dead_units(sub, np.array([[1.0, -2.0]]), W, b),
                 lambda: _dead_units(sub, np.array([[np.nan, -5.0], [-1.0, -1.0]]), W, b))


@pytest.mark.check(kind="behaviour", points=points("dead_units.no_gradient"),
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


def _fraction(sub, x, weights, biases, hint=""):
    what = judge.call_text("dead_fraction", x, weights, biases)
    got = judge.returned(judge.call(sub, MODULE, "dead_fraction", x, weights, biases), what)
    if isinstance(got, np.ndarray) and got.ndim == 0:
        got = got[()]
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number)):
        raise Fail(f"{what} returned {judge.short(got, 80)}, expected a number (a Python float).")
    expected = float(np.mean(_own_dead(x, weights, biases)))
    if not np.isclose(float(got), expected, rtol=0, atol=1e-12):
        raise Fail(f"{what} returned {float(got)!r}, expected {expected!r}.\nHint: "
                   + (hint or "dead hidden units / all hidden units, over every layer but the "
                      "last, each layer fed the ReLU output of the one before."))


@pytest.mark.check(kind="correctness", points=points("dead_fraction.values"), public=True,
                   function="dead_fraction", name="dead_fraction: a small network by hand")
def test_dead_fraction_values(sub):
    _fraction(sub, *_hand_network())


@pytest.mark.check(kind="correctness", points=points("dead_fraction.relu_fed"),
                   function="dead_fraction",
                   name="dead_fraction: each layer is fed the ReLU output of the one before")
def test_dead_fraction_relu_fed(sub):
    x, w, b = _hand_network()
    w2, b2 = [w[0], w[1][:, 2:], np.ones((1, 1))], [b[0], b[1][2:], np.zeros(1)]
    _fraction(sub, x, w2, b2, hint="layer 2's only unit reads the dead unit of layer 1, whose "
              "ReLU output is 0 on every row, so it is dead too (its pre-activation is exactly 0); "
              "feed each layer h = np.maximum(h @ W + b, 0), not the pre-activation.")


@pytest.mark.check(kind="correctness", points=points("dead_fraction.hidden_only"),
                   function="dead_fraction",
                   name="dead_fraction: the output layer has no ReLU and does not count")
def test_dead_fraction_hidden_only(sub):
    g = judge.rng("dying_relu.dead_fraction.hidden_only")
    x = g.normal(size=(30, 3))
    w = [g.normal(size=(3, 6)), g.normal(size=(6, 4))]
    b = [np.array([0.0, 0.0, -50.0, 0.0, 0.0, 0.0]), np.array([-50.0, -50.0, -50.0, -50.0])]
    _fraction(sub, x, w, b, hint="only hidden layers count: every layer but the last (the "
              "output layer has no ReLU, so its units can't die).")


@pytest.mark.check(kind="correctness", points=points("dead_fraction.per_unit"),
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


@pytest.mark.check(kind="correctness", points=points("dead_fraction.random"),
                   function="dead_fraction", name="dead_fraction: seeded random deep networks")
def test_dead_fraction_random(sub):
    g = judge.rng("dying_relu.dead_fraction.random")

    def part(dims):
        x = g.normal(size=(50, dims[0]))
        w = [g.normal(0, np.sqrt(2 / a), (a, c)) for a, c in zip(dims[:-1], dims[1:])]
        b = [g.normal(-1.0, 1.0, c) for c in dims[1:]]
        _fraction(sub, x, w, b)

    judge.all_of(lambda: part((2, 32, 32, 1)), lambda: part((3, 10, 7, 12, 2)))


@pytest.mark.check(kind="correctness", points=points("dead_fraction.errors"),
                   function="dead_fraction",
                   name="dead_fraction: ValueError for a network with no hidden layer")
def test_dead_fraction_errors(sub):
    x, w, b = np.ones((3, 2)), [np.ones((2, 1))], [np.zeros(1)]
    judge.expect_value_error(judge.call(sub, MODULE, "dead_fraction", x, w, b),
                             judge.call_text("dead_fraction", x, w, b),
                             "one layer is the output layer alone: there is no hidden unit to "
                             "count, so raise ValueError.")


# =========================================================================================
# Shared: the result of a training experiment, checked against the contract
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


def _check_training(what, x, y, w, b, losses, start, lr, name="relu", label="", end=True):
    """``Fail`` unless ``losses`` is the curve of ``mlp.train`` from ``start`` at ``lr`` and
    (w, b) are the parameters it ended at: the first two losses are recomputed from the
    start, the last against the returned parameters (when ``end``), and the parameters
    must have moved."""
    w0, b0 = start
    label = label or "the network's"
    loss0, gw, gb = _loss(x, y, w0, b0, name)
    if not np.isclose(losses[0], loss0, rtol=1e-9, atol=1e-12):
        raise Fail(f"{what}: {label} losses[0] is {losses[0]!r}, but the loss of the contract's "
                   f"starting parameters (recomputed by the grader) is {loss0!r}: training did not "
                   "start there, or the losses are not its own.\nHint: start from the given "
                   "init_params(...) and train with mlp.train; return the losses it records.")
    if len(losses) > 1:
        loss1 = _loss(x, y, [p - lr * g for p, g in zip(w0, gw)],
                      [p - lr * g for p, g in zip(b0, gb)], name)[0]
        if not np.isclose(losses[1], loss1, rtol=1e-7, atol=1e-12):
            raise Fail(f"{what}: {label} losses[1] is {losses[1]!r}, but one gradient step at "
                       f"lr = {lr:g} from the start gives loss {loss1!r} (recomputed by the "
                       f"grader): this is not {name} gradient descent at that learning rate.\n"
                       "Hint: pass the experiment's lr on to mlp.train (its own default is 0.1), "
                       f"and train with ACTIVATIONS[\"{name}\"] from the contract's start.")
    if all(np.array_equal(p, q) for p, q in zip(w + b, w0 + b0)):
        raise Fail(f"{what}: {label} returned parameters are the starting ones: it was not "
                   "trained (or the trained parameters were not returned).")
    if end:
        final = _loss(x, y, w, b, name)[0]
        if not (np.isfinite(final) and abs(final - losses[-1]) <= 0.05 * abs(losses[-1]) + 1e-3):
            raise Fail(f"{what}: {label} returned parameters have loss {final:.4g} (recomputed by "
                       f"the grader), but the last recorded loss is {losses[-1]:.4g}: they are not "
                       "the parameters training ended at.\nHint: return what mlp.train returns.")


# =========================================================================================
# dead_unit_experiment
# =========================================================================================

def _dead_run(sub, i):
    seed, unit, bias = DEAD_SEEDS[i], DEAD_UNITS[i], DEAD_BIASES[i]
    kwargs = dict(seed=seed, unit=unit, bias=bias, **DEAD_KW)
    what = judge.call_text("dead_unit_experiment", **kwargs)
    res = judge.returned(judge.run(sub, MODULE, "dead_unit_experiment", **kwargs), what)
    x, y = _data(res, what, seed)
    before = tuple(_params(judge.entry(res, (k,), what), f'{what}["{k}"]')
                   for k in ("weights_before", "biases_before"))
    after = tuple(_params(judge.entry(res, (k,), what), f'{what}["{k}"]')
                  for k in ("weights_after", "biases_after"))
    losses = judge.float_array(judge.entry(res, ("losses",), what), what + '["losses"]',
                               (DEAD_KW["steps"],), finite=False)
    return what, res, x, y, before, after, losses, unit, bias, seed


@pytest.mark.check(kind="experiment", points=points("dead_unit_experiment.start"),
                   function="dead_unit_experiment",
                   name="dead_unit_experiment: the contract's data and start, one bias pushed down")
def test_dead_unit_experiment_start(sub):
    def part(i):
        what, res, x, y, (w0, b0), after, losses, unit, bias, seed = _dead_run(sub, i)
        w_ref, b_ref = _mlp().init_params(SIZES, seed=seed)
        b_ref[0][unit] = bias
        for got, want, name in ((w0, w_ref, "weights_before"), (b0, b_ref, "biases_before")):
            for layer, (g, r) in enumerate(zip(got, want)):
                if not np.array_equal(g, r):
                    raise Fail(f'{what}["{name}"][{layer}] is not init_params(SIZES, seed={seed}) '
                               f"with biases[0][{unit}] = {bias}.\nHint: keep the given start and "
                               "push only that unit's bias (before training).")
        if judge.entry(res, ("unit",), what) != unit:
            raise Fail(f'{what}["unit"] is {judge.short(res["unit"], 30)}, expected {unit}.')

    judge.all_of(lambda: part(0), lambda: part(1))


@pytest.mark.check(kind="experiment", points=points("dead_unit_experiment.zero_grad"),
                   function="dead_unit_experiment",
                   name="dead_unit_experiment: the pushed unit gets exactly zero gradient on every input")
def test_dead_unit_experiment_zero_grad(sub):
    mlp = _mlp()
    relu = mlp.ACTIVATIONS["relu"][0]

    def part(i):
        what, res, x, y, (w0, b0), after, losses, unit, bias, seed = _dead_run(sub, i)
        grad_w = judge.float_array(judge.entry(res, ("grad_w",), what), what + '["grad_w"]',
                                   (N_POINTS, 2))
        grad_b = judge.float_array(judge.entry(res, ("grad_b",), what), what + '["grad_b"]',
                                   (N_POINTS,))
        # The grader's own evidence first: the unit is negative on every input, and moving
        # its parameters changes nothing the network computes.
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
        rows = int(np.count_nonzero(grad_w.any(axis=1) | (grad_b != 0)))
        if rows:
            raise Fail(f'{what}: "grad_w" / "grad_b" are non-zero on {rows} of the {N_POINTS} '
                       "inputs, but the unit's parameters do not affect the output at all (the "
                       "grader moved them: the logits stay bit-identical), so every per-input "
                       "gradient is exactly 0.\nHint: the gradient of the loss on input i alone "
                       f"with respect to W_0[:, unit] and b_0[unit], at the start. {HINT_DEAD}.")

    judge.all_of(lambda: part(0), lambda: part(1))


@pytest.mark.check(kind="experiment", points=points("dead_unit_experiment.stays_dead"),
                   function="dead_unit_experiment",
                   name="dead_unit_experiment: the dead unit is bit-identical after training, the rest learned")
def test_dead_unit_experiment_stays_dead(sub):
    def part(i):
        what, res, x, y, (w0, b0), (w1, b1), losses, unit, bias, seed = _dead_run(sub, i)
        _check_training(what, x, y, w1, b1, losses, (w0, b0), DEAD_KW["lr"])
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

    judge.all_of(lambda: part(0), lambda: part(1))


# =========================================================================================
# lr_sweep
# =========================================================================================

def _sweep_call(sub, i):
    kwargs = dict(lrs=SWEEP_LRS, seed=SWEEP_SEEDS[i], bias_init=SWEEP_BIAS[i], steps=SWEEP_STEPS)
    what = judge.call_text("lr_sweep", **kwargs)
    return what, judge.returned(judge.run(sub, MODULE, "lr_sweep", **kwargs), what)


def _sweep_result(sub, i):
    return _sweep_call(sub, i)[1]


def _sweep(sub, i):
    seed, bias_init = SWEEP_SEEDS[i], SWEEP_BIAS[i]
    what, res = _sweep_call(sub, i)
    x, y = _data(res, what, seed)
    lrs = judge.float_array(judge.entry(res, ("lrs",), what), what + '["lrs"]', (len(SWEEP_LRS),))
    if not np.array_equal(lrs, SWEEP_LRS):
        raise Fail(f'{what}["lrs"] is {judge.short(lrs)}, expected {SWEEP_LRS}, in the given order.')
    k = len(SWEEP_LRS)
    nets = []
    for key in ("weights", "biases"):
        sets = judge.entry(res, (key,), what)
        if not isinstance(sets, list) or len(sets) != k:
            raise Fail(f'{what}["{key}"] must be a list of {k} parameter sets, one per learning '
                       f"rate, got {judge.short(sets, 60)}.")
        nets.append([_params(s, f'{what}["{key}"][{j}]') for j, s in enumerate(sets)])
    losses = judge.float_array(judge.entry(res, ("losses",), what), what + '["losses"]',
                               (k, SWEEP_STEPS), finite=False)
    return what, x, y, list(zip(*nets)), losses, seed, bias_init


def _sweep_trained(sub, i):
    what, x, y, nets, losses, seed, bias_init = _sweep(sub, i)
    start = _mlp().init_params(SIZES, seed=seed, bias_init=bias_init)
    for j, ((w, b), lr) in enumerate(zip(nets, SWEEP_LRS)):
        # The end of a run at lr = 10 or 1 can jump; the smallest lr's run is smooth.
        _check_training(what, x, y, w, b, losses[j], start, lr, label=f"run {j} (lr = {lr:g})",
                        end=lr == min(SWEEP_LRS))


@pytest.mark.check(kind="experiment", points=points("lr_sweep.trained"), function="lr_sweep",
                   name="lr_sweep: one start, each network really trained at its own learning rate")
def test_lr_sweep_trained(sub):
    judge.all_of(lambda: _sweep_trained(sub, 0), lambda: _sweep_trained(sub, 1))


@pytest.mark.check(kind="experiment", points=points("lr_sweep.claim"), function="lr_sweep",
                   name="lr_sweep: more than half the units die at lr = 10, few at lr <= 1 (fresh circles)")
def test_lr_sweep_claim(sub):
    fresh = _fresh()[0]

    def part(i):
        what, x, y, nets, losses, seed, bias_init = _sweep(sub, i)
        judge.verified_first(lambda: _sweep_trained(sub, i), what)
        dead = [float(np.mean(_own_dead(fresh, w, b))) for w, b in nets]
        table = ", ".join(f"lr {lr:g}: {d:.2f}" for lr, d in zip(SWEEP_LRS, dead))
        high = dead[SWEEP_LRS.index(max(SWEEP_LRS))]
        low = [d for d, lr in zip(dead, SWEEP_LRS) if lr <= 1]
        if high < HIGH_AT_LEAST or max(low) > LOW_AT_MOST or high < min(low) + GAP_AT_LEAST:
            raise Fail(f"{what}: the fraction of hidden units dead on {FRESH[0]} fresh circle points "
                       f"(measured by the grader on the returned networks) is {table}; expected "
                       f"at least {HIGH_AT_LEAST} at lr 10, at most {LOW_AT_MOST} at lr <= 1, and a "
                       f"gap of at least {GAP_AT_LEAST}.\nHint: {HINT_LR}.")

    judge.all_of(lambda: part(0), lambda: part(1))


@pytest.mark.check(kind="experiment", points=points("lr_sweep.figure"), function="lr_sweep",
                   name="lr_sweep: dying_figure draws the sweep and ReLU against leaky ReLU")
def test_lr_sweep_figure(sub, figures):
    # Drawn from the results the grader already has (both bias inits, and ReLU against
    # leaky ReLU): training every network again only to draw it would cost most of this
    # module's grading time.
    sweeps = [_sweep_result(sub, i) for i in range(len(SWEEP_SEEDS))]
    leaky = _leaky_result(sub, 0)
    what = judge.call_text("dying_figure", SWEEP_SEEDS[0], sweeps="<the lr_sweep results>",
                           leaky="<the relu_vs_leaky result>")
    fig = judge.returned(sub.call(MODULE, "dying_figure", SWEEP_SEEDS[0],
                                  kwargs={"sweeps": sweeps, "leaky": leaky},
                                  timeout=EXPERIMENT_TIMEOUT), what)
    figures["dying_relu.png"] = judge.figure_png(fig, what, 2)


# =========================================================================================
# relu_vs_leaky
# =========================================================================================

def _leaky_call(sub, i):
    kwargs = dict(seed=LEAKY_SEEDS[i], **LEAKY_KW)
    what = judge.call_text("relu_vs_leaky", **kwargs)
    return what, judge.returned(judge.run(sub, MODULE, "relu_vs_leaky", **kwargs), what)


def _leaky_result(sub, i):
    return _leaky_call(sub, i)[1]


def _leaky(sub, i):
    seed = LEAKY_SEEDS[i]
    what, res = _leaky_call(sub, i)
    x, y = _data(res, what, seed)
    nets = {}
    for name in ("relu", "leaky_relu"):
        w = _params(judge.entry(res, (name, "weights"), what), f'{what}["{name}"]["weights"]')
        b = _params(judge.entry(res, (name, "biases"), what), f'{what}["{name}"]["biases"]')
        losses = judge.float_array(judge.entry(res, (name, "losses"), what),
                                   f'{what}["{name}"]["losses"]', (LEAKY_KW["steps"],), finite=False)
        nets[name] = (w, b, losses)
    return what, x, y, nets, seed


def _leaky_trained(sub, i):
    what, x, y, nets, seed = _leaky(sub, i)
    start = _mlp().init_params(SIZES, seed=seed)
    for name, (w, b, losses) in nets.items():
        _check_training(what, x, y, w, b, losses, start, LEAKY_KW["lr"], name=name,
                        label=f'the "{name}" network\'s', end=False)


@pytest.mark.check(kind="experiment", points=points("relu_vs_leaky.trained"),
                   function="relu_vs_leaky",
                   name="relu_vs_leaky: both networks trained from one start at the same learning rate")
def test_relu_vs_leaky_trained(sub):
    judge.all_of(lambda: _leaky_trained(sub, 0), lambda: _leaky_trained(sub, 1))


@pytest.mark.check(kind="experiment", points=points("relu_vs_leaky.relu_dead"),
                   function="relu_vs_leaky",
                   name="relu_vs_leaky: at a high learning rate many ReLU units die and get no gradient")
def test_relu_vs_leaky_relu_dead(sub):
    zero_gradient_units = _reference(MODULE, "zero_gradient_units")
    fresh = _fresh()[0]

    def part(i):
        what, x, y, nets, seed = _leaky(sub, i)
        judge.verified_first(lambda: _leaky_trained(sub, i), what)
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

    judge.all_of(lambda: part(0), lambda: part(1))


@pytest.mark.check(kind="experiment", points=points("relu_vs_leaky.leaky_alive"),
                   function="relu_vs_leaky",
                   name="relu_vs_leaky: every leaky ReLU unit still gets gradient")
def test_relu_vs_leaky_leaky_alive(sub):
    zero_gradient_units = _reference(MODULE, "zero_gradient_units")

    def part(i):
        what, x, y, nets, seed = _leaky(sub, i)
        judge.verified_first(lambda: _leaky_trained(sub, i), what)
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

    judge.all_of(lambda: part(0), lambda: part(1))
