"""The reference linear_collapse.py and dying_relu.py, and their given helpers, checked independently.

The SPEC functions are compared with computations written out here; every experiment's
claim (docs/experiments.md) is measured on the data the experiment returns, for five
seeds, with this file's own forward pass and dead-unit count on fresh inputs, never
with the module's own numbers.
"""
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "solutions"))

import datasets  # noqa: E402
import dying_relu  # noqa: E402
import linear_collapse  # noqa: E402
import mlp  # noqa: E402

SEEDS = range(5)
# Inputs the claims are measured on: fresh circles from a seed the experiments never use.
FRESH_X, FRESH_Y = datasets.make_circles(2000, seed=987654)


def logits(x, weights, biases, g):
    """This file's own forward pass (row-vector convention)."""
    h = x
    for W, b in zip(weights[:-1], biases[:-1]):
        h = g(h @ W + b)
    return (h @ weights[-1] + biases[-1])[:, 0]


def accuracy(weights, biases, g):
    return np.mean((logits(FRESH_X, weights, biases, g) > 0) == FRESH_Y)


def dead_mask(x, weights, biases, g=lambda a: np.maximum(a, 0)):
    """Per hidden unit: pre-activation <= 0 on every row, each layer fed g of the one before."""
    h, dead = x, []
    for W, b in zip(weights[:-1], biases[:-1]):
        a = h @ W + b
        dead.append((a <= 0).all(axis=0))
        h = g(a)
    return np.concatenate(dead)


def bce(x, y, weights, biases, g):
    z = logits(x, weights, biases, g)
    return np.mean(np.logaddexp(0, z) - y * z)


def random_stack(rng, sizes):
    return ([rng.standard_normal((m, n)) for m, n in zip(sizes[:-1], sizes[1:])],
            [rng.standard_normal(n) for n in sizes[1:]])


def png_axes(fig):
    assert isinstance(fig, Figure)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG") and len(buffer.getvalue()) > 10_000
    return len(fig.axes)


@pytest.fixture(autouse=True)
def no_floating_point_warnings():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        yield


# --- given helpers ----------------------------------------------------------------------

def test_make_circles_shapes_labels_radii_and_determinism():
    x, y = datasets.make_circles(1001, noise=0.0, factor=0.3, seed=3)
    assert x.shape == (1001, 2) and x.dtype == np.float64 and y.shape == (1001,) and y.dtype == np.int64
    assert np.sum(y == 0) == 501 and np.sum(y == 1) == 500
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius, np.where(y == 1, 0.3, 1.0))
    again, _ = datasets.make_circles(1001, noise=0.0, factor=0.3, seed=3)
    other, _ = datasets.make_circles(1001, noise=0.0, factor=0.3, seed=4)
    assert np.array_equal(x, again) and not np.array_equal(x, other)
    noisy, y = datasets.make_circles(4000, noise=0.1, seed=0)
    assert abs(np.std(np.hypot(*noisy[y == 0].T)) - 0.1) < 0.02


@pytest.mark.parametrize("name", ["identity", "relu", "leaky_relu"])
def test_mlp_gradients_match_central_differences(name):
    x, y = datasets.make_circles(40, seed=1)
    weights, biases = mlp.init_params([2, 5, 4, 1], seed=2, bias_init=0.1)
    g, g_grad = mlp.ACTIVATIONS[name]
    _, grads_w, grads_b = mlp.loss_and_grads(x, y, weights, biases, g, g_grad)
    h = 1e-6
    for params, grads in ((weights, grads_w), (biases, grads_b)):
        for p, grad in zip(params, grads):
            assert grad.shape == p.shape
            for index in np.ndindex(p.shape):
                old = p[index]
                p[index] = old + h
                up = bce(x, y, weights, biases, g)
                p[index] = old - h
                down = bce(x, y, weights, biases, g)
                p[index] = old
                numeric = (up - down) / (2 * h)
                assert abs(numeric - grad[index]) <= 1e-6 * max(1.0, abs(numeric)), (name, index)


def test_mlp_train_is_pure_deterministic_and_lowers_the_loss():
    x, y = datasets.make_circles(128, seed=5)
    weights, biases = mlp.init_params([2, 8, 1], seed=5)
    start = [w.copy() for w in weights], [b.copy() for b in biases]
    trained_w, trained_b, losses = mlp.train(x, y, weights, biases, *mlp.ACTIVATIONS["relu"], lr=0.5, steps=200)
    assert all(np.array_equal(a, b) for a, b in zip(weights + biases, start[0] + start[1]))
    assert losses.shape == (200,) and losses[-1] < 0.5 * losses[0]
    assert losses[0] == pytest.approx(bce(x, y, weights, biases, lambda a: np.maximum(a, 0)))
    again = mlp.train(x, y, weights, biases, *mlp.ACTIVATIONS["relu"], lr=0.5, steps=200)
    assert all(np.array_equal(a, b) for a, b in zip(trained_w + trained_b, again[0] + again[1]))


def test_mlp_init_params_is_he_scaled_with_the_given_bias():
    weights, biases = mlp.init_params([400, 300, 1], seed=0, bias_init=0.01)
    assert [w.shape for w in weights] == [(400, 300), (300, 1)]
    assert np.std(weights[0]) == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert all(np.all(b == 0.01) for b in biases)


def test_mlp_sigmoid_and_loss_are_safe_for_huge_logits():
    z = np.array([-1e6, -800.0, 0.0, 800.0, 1e6])
    np.testing.assert_array_equal(mlp.sigmoid(z), [0.0, 0.0, 0.5, 1.0, 1.0])
    x = np.array([[1.0], [-1.0]])
    loss, _, _ = mlp.loss_and_grads(x, np.array([0, 1]), [np.array([[1e4]])], [np.zeros(1)], *mlp.ACTIVATIONS["relu"])
    assert loss == pytest.approx(1e4)


# --- linear_collapse.py: SPEC functions -------------------------------------------------

@pytest.mark.parametrize("sizes", [(3, 4), (3, 5, 2), (2, 16, 16, 16, 16, 1), (4, 1, 6, 3)])
def test_linear_forward_and_collapse_agree_with_an_explicit_stack(sizes):
    rng = np.random.default_rng(len(sizes))
    weights, biases = random_stack(rng, sizes)
    x = rng.standard_normal((7, sizes[0]))
    expected = x
    for W, b in zip(weights, biases):
        expected = np.einsum("ni,ij->nj", expected, W) + b
    np.testing.assert_allclose(linear_collapse.linear_forward(x, weights, biases), expected, rtol=1e-10, atol=1e-12)
    W, b = linear_collapse.collapse(weights, biases)
    assert W.shape == (sizes[0], sizes[-1]) and b.shape == (sizes[-1],)
    np.testing.assert_allclose(x @ W + b, expected, rtol=1e-10, atol=1e-12)


def test_collapse_does_not_alias_or_modify_its_inputs():
    weights, biases = [np.eye(2)], [np.ones(2)]
    W, b = linear_collapse.collapse(weights, biases)
    W[0, 0], b[0] = 5.0, 5.0
    assert weights[0][0, 0] == 1.0 and biases[0][0] == 1.0


def test_relu_ramp_values_edges_and_errors():
    x = np.array([-np.inf, -1.0, 1.0, 1.5, 2.0, 3.0, 4.0, 1e6, np.inf, np.nan])
    got = linear_collapse.relu_ramp(x, 1.0, 3.0)
    np.testing.assert_array_equal(got, [0, 0, 0, 0.25, 0.5, 1, 1, 1, 1, np.nan])
    assert linear_collapse.relu_ramp(1e6, 0.1, 0.3) == 1.0
    grid = np.random.default_rng(0).uniform(-3, 3, 1000)
    two_relus = (np.maximum(grid + 0.5, 0) - np.maximum(grid - 0.7, 0)) / 1.2
    np.testing.assert_allclose(linear_collapse.relu_ramp(grid, -0.5, 0.7), two_relus, rtol=1e-12, atol=1e-15)
    assert np.asarray(linear_collapse.relu_ramp([[0, 1], [2, 3]], 0, 2)).shape == (2, 2)
    for a, b in ((1.0, 1.0), (2.0, 1.0), (np.nan, 1.0), (0.0, np.nan)):
        with pytest.raises(ValueError):
            linear_collapse.relu_ramp(x, a, b)


# --- linear_collapse.py: experiments ----------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_depth_without_nonlinearity_stays_linear_on_circles(seed):
    result = linear_collapse.circles_experiment(seed)
    assert result["seed"] == seed and result["x"].shape == (256, 2) and result["y"].shape == (256,)
    identity, relu = result["identity"], result["relu"]
    for run in (identity, relu):
        assert [w.shape for w in run["weights"]] == [(2, 16), (16, 16), (16, 16), (16, 16), (16, 1)]
        assert [b.shape for b in run["biases"]] == [(16,), (16,), (16,), (16,), (1,)]
        assert run["losses"].shape == (500,)
    # The identity network is one affine map: its logits are x @ W + b for W, b from this file.
    W, b = identity["weights"][0], identity["biases"][0]
    for W_next, b_next in zip(identity["weights"][1:], identity["biases"][1:]):
        W, b = W @ W_next, b @ W_next + b_next
    np.testing.assert_allclose(logits(FRESH_X, identity["weights"], identity["biases"], lambda a: a),
                               (FRESH_X @ W + b)[:, 0], rtol=1e-9, atol=1e-9)
    assert accuracy(identity["weights"], identity["biases"], lambda a: a) <= 0.70
    assert accuracy(relu["weights"], relu["biases"], lambda a: np.maximum(a, 0)) >= 0.95


def test_step_approximation_rebuilt_here_interpolates_and_converges():
    x = np.linspace(0, 2 * np.pi, 20001)
    errors = []
    for n in (4, 8, 16, 32, 64):
        steps = linear_collapse.step_approximation(n)
        a, b, heights = steps["a"], steps["b"], steps["heights"]
        assert a.shape == b.shape == heights.shape == (n,) and np.all(a < b)
        assert a[0] == 0.0 and b[-1] == pytest.approx(2 * np.pi)
        rebuilt = steps["offset"] + sum(h * np.clip((x - lo) / (hi - lo), 0, 1) for lo, hi, h in zip(a, b, heights))
        np.testing.assert_allclose(linear_collapse.sum_of_steps(x, steps), rebuilt, rtol=1e-12, atol=1e-12)
        errors.append(np.max(np.abs(rebuilt - np.sin(x))))
        assert errors[-1] <= (2 * np.pi) ** 2 / (8 * n * n) * (1 + 1e-9)  # interpolation bound, max|sin''| = 1
    assert all(later < earlier for earlier, later in zip(errors, errors[1:]))
    assert errors[-1] < 1.25e-3


def test_step_approximation_of_another_function_on_another_interval():
    f = lambda t: t ** 3  # noqa: E731
    steps = linear_collapse.step_approximation(10, f, -1.0, 2.0)
    knots = np.linspace(-1.0, 2.0, 11)
    np.testing.assert_allclose(linear_collapse.sum_of_steps(knots, steps), f(knots), rtol=1e-12, atol=1e-12)
    x = np.linspace(-1.0, 2.0, 3001)
    assert np.max(np.abs(linear_collapse.sum_of_steps(x, steps) - f(x))) <= 12 * 3.0 ** 2 / (8 * 100)
    with pytest.raises(ValueError):
        linear_collapse.step_approximation(0)
    with pytest.raises(ValueError):
        linear_collapse.step_approximation(4, np.sin, 1.0, 1.0)


def test_linear_collapse_figures():
    assert png_axes(linear_collapse.circles_figure(0)) == 3
    assert png_axes(linear_collapse.steps_figure()) == 3


# --- dying_relu.py: SPEC functions ------------------------------------------------------

def test_dead_units_on_hand_made_layers():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    W = np.array([[1.0, -1.0, 0.0, 1.0], [1.0, -1.0, 0.0, -1.0]])
    # pre-activations: unit 0 [1, 1, -2] alive; unit 1 [-1, -1, 2] alive; unit 2 exactly 0
    # everywhere -> dead; unit 3 [1, -1, 0] - 1 = [0, -2, -1] -> dead (<= 0, never > 0).
    b = np.array([0.0, 0.0, 0.0, -1.0])
    got = dying_relu.dead_units(x, W, b)
    assert got.dtype == np.bool_ and got.tolist() == [False, False, True, True]
    assert not np.any(dying_relu.dead_units(x, W, b + 1e-12))  # one positive row is enough to live
    assert dying_relu.dead_units(x[:1], W, b).tolist() == [False, True, True, True]


def test_dead_fraction_counts_units_over_hidden_layers_fed_by_relu():
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    # Layer 1: unit 0 = x0 + x1 > 0 alive, unit 1 = -x0 - 10 dead, unit 2 = x1 alive on row 0.
    W1, b1 = np.array([[1.0, -1.0, 0.0], [1.0, 0.0, 1.0]]), np.array([0.0, -10.0, 0.0])
    # Layer 2 sees relu(layer 1): rows [3, 0, 2] and [2, 0, 0]. Unit 0 reads only the dead
    # unit (dead), unit 1 = -h0 (dead), unit 2 = h2 - 1 (alive on row 0), unit 3 = h0 (alive).
    W2 = np.array([[0.0, -1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    b2 = np.array([0.0, 0.0, -1.0, 0.0])
    W3, b3 = np.ones((4, 1)), np.array([-100.0])  # output layer: never counted
    assert dying_relu.dead_fraction(x, [W1, W2, W3], [b1, b2, b3]) == pytest.approx(3 / 7)
    assert dying_relu.dead_fraction(x, [W1, W3[:3]], [b1, b3]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        dying_relu.dead_fraction(x, [W1], [b1])


def test_dead_fraction_matches_this_files_count_on_random_networks():
    rng = np.random.default_rng(7)
    for sizes in ((2, 32, 32, 1), (3, 10, 20, 5, 1)):
        weights, biases = random_stack(rng, sizes)
        biases = [b - 1.5 for b in biases]
        x = rng.standard_normal((50, sizes[0]))
        assert dying_relu.dead_fraction(x, weights, biases) == pytest.approx(np.mean(dead_mask(x, weights, biases)))


# --- dying_relu.py: experiments ---------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_a_unit_with_a_large_negative_bias_gets_no_gradient_and_stays_dead(seed):
    r = dying_relu.dead_unit_experiment(seed)
    unit, x, y = r["unit"], r["x"], r["y"]
    before_w, before_b, after_w, after_b = r["weights_before"], r["biases_before"], r["weights_after"], r["biases_after"]
    assert before_b[0][unit] <= -10
    for data in (x, FRESH_X):
        assert np.all(data @ before_w[0][:, unit] + before_b[0][unit] <= 0)
    assert np.array_equal(after_w[0][:, unit], before_w[0][:, unit]) and after_b[0][unit] == before_b[0][unit]
    # Training did run: every other first-layer column moved, and the loss fell.
    others = np.arange(before_w[0].shape[1]) != unit
    assert np.all(np.any(after_w[0][:, others] != before_w[0][:, others], axis=0))
    assert bce(x, y, after_w, after_b, lambda a: np.maximum(a, 0)) < 0.1 < bce(x, y, before_w, before_b, lambda a: np.maximum(a, 0))
    assert r["grad_w"].shape == (256, 2) and r["grad_b"].shape == (256,)
    assert not np.any(r["grad_w"]) and not np.any(r["grad_b"])
    # Independently of any backprop: moving the unit's parameters (keeping it dead) leaves
    # the output on every input bit for bit unchanged, before and after training.
    for weights, biases in ((before_w, before_b), (after_w, after_b)):
        moved_w, moved_b = [w.copy() for w in weights], [b.copy() for b in biases]
        moved_w[0][:, unit] += 0.5
        moved_b[0][unit] -= 1.0
        relu = lambda a: np.maximum(a, 0)  # noqa: E731
        assert np.array_equal(logits(x, moved_w, moved_b, relu), logits(x, weights, biases, relu))


@pytest.mark.parametrize("bias_init", [0.0, 0.01])
def test_dead_fraction_grows_with_the_learning_rate(bias_init):
    for seed in SEEDS:
        r = dying_relu.lr_sweep(seed=seed, bias_init=bias_init)
        assert r["lrs"].tolist() == [0.01, 0.1, 1.0, 3.0, 10.0] and r["bias_init"] == bias_init
        assert r["losses"].shape == (5, 300) and len(r["weights"]) == len(r["biases"]) == 5
        dead = [np.mean(dead_mask(FRESH_X, w, b)) for w, b in zip(r["weights"], r["biases"])]
        assert max(dead[:3]) <= 0.25, (seed, dead)
        assert dead[-1] >= 0.5, (seed, dead)
        assert dead[-1] >= dead[0] + 0.4, (seed, dead)


@pytest.mark.parametrize("seed", SEEDS)
def test_leaky_units_always_get_gradient_where_relu_units_die(seed):
    r = dying_relu.relu_vs_leaky(seed)
    x, y = r["x"], r["y"]
    relu, leaky = r["relu"], r["leaky_relu"]
    assert r["lr"] == 5.0
    assert np.mean(dead_mask(x, relu["weights"], relu["biases"])) >= 0.25
    assert np.mean(dead_mask(FRESH_X, relu["weights"], relu["biases"])) >= 0.25
    assert all(np.all(np.isfinite(p)) for p in leaky["weights"] + leaky["biases"])
    # Every leaky unit's bias moves the loss: its gradient is not zero (no backprop used).
    g = lambda a: np.where(a > 0, a, 0.01 * a)  # noqa: E731
    for layer in range(len(leaky["biases"]) - 1):
        for unit in range(leaky["biases"][layer].size):
            changed = []
            for step in (1e-3, -1e-3):
                biases = [b.copy() for b in leaky["biases"]]
                biases[layer][unit] += step
                changed.append(bce(x, y, leaky["weights"], biases, g))
            assert changed[0] != changed[1], (layer, unit)


def test_zero_gradient_units_marks_dead_relu_units_and_no_leaky_ones():
    r = dying_relu.relu_vs_leaky(0)
    x, y = r["x"], r["y"]
    relu = dying_relu.zero_gradient_units(x, y, r["relu"]["weights"], r["relu"]["biases"], "relu")
    assert relu.shape == (64,) and np.all(relu[dead_mask(x, r["relu"]["weights"], r["relu"]["biases"])])
    assert not np.any(dying_relu.zero_gradient_units(x, y, r["leaky_relu"]["weights"], r["leaky_relu"]["biases"], "leaky_relu"))


def test_dying_figure():
    assert png_axes(dying_relu.dying_figure(0)) == 2


# --- the student stubs ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["linear_collapse", "dying_relu"])
def test_stubs_import_and_raise_not_implemented(name, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from autograder.workflows.stubs import strip_solutions

    source = (ROOT / "solutions" / f"{name}.py").read_text()
    stub = strip_solutions(source, name)
    assert "BEGIN SOLUTION" not in stub and stub.count("raise NotImplementedError") >= 4
    (tmp_path / f"stub_{name}.py").write_text(stub)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__(f"stub_{name}")
    with pytest.raises(NotImplementedError, match="collapse" if name == "linear_collapse" else "dead_units"):
        (module.collapse([np.eye(2)], [np.zeros(2)]) if name == "linear_collapse"
         else module.dead_units(np.ones((2, 2)), np.eye(2), np.zeros(2)))


def test_given_helpers_have_no_solution_markers():
    for name in ("datasets", "mlp"):
        assert "### BEGIN SOLUTION" not in (ROOT / "solutions" / f"{name}.py").read_text()


# -- the modules as lab scripts (lab.py) -------------------------------------------------

SCRIPTS = {"linear_collapse": ["circles.png", "steps.png"], "dying_relu": ["dying_relu.png"],
           "saturation": ["saturation.png", "vanishing_gradients.png", "sign_mixing.png",
                          "zigzag.png", "cost_of_exp.png"]}


def _script(folder, module, out, **env):
    import os
    import subprocess

    return subprocess.run([sys.executable, f"{module}.py", str(out)], cwd=folder, text=True,
                          capture_output=True, timeout=300, env={**os.environ, **env})


@pytest.mark.parametrize("module", SCRIPTS)
def test_each_script_announces_its_steps_and_writes_each_figure_when_drawn(module, tmp_path):
    run = _script(ROOT / "solutions", module, tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    steps = [ln for ln in lines if ln.startswith("[")]
    total = int(steps[0].split("/")[1].split("]")[0])
    assert [ln.split("]")[0] for ln in steps] == [f"[{k}/{total}" for k in range(1, total + 1)]
    assert all(ln.endswith(" s") for ln in steps), steps
    for name in SCRIPTS[module]:
        wrote = lines.index(f"      wrote {tmp_path / name}")
        assert lines[wrote - 1].startswith("[") and f"drawing {name}" in lines[wrote - 1]
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert lines[-1].startswith("What you should see:")


def test_a_too_slow_function_is_stopped_with_a_message(tmp_path):
    import shutil

    for f in (ROOT / "solutions").glob("*.py"):
        shutil.copy(f, tmp_path)
    source = (tmp_path / "linear_collapse.py").read_text()
    first = "    x, y = make_circles(N_POINTS, seed=seed)\n"
    (tmp_path / "linear_collapse.py").write_text(source.replace(first, first + "    while True:\n"
                                                                "        pass\n", 1))
    run = _script(tmp_path, "linear_collapse", tmp_path / "out", LAB_STEP_SECONDS="1")
    assert run.returncode == 1
    assert "stopped: circles_experiment()" in run.stderr and "more than 1 s" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_function_not_written_yet_is_named(tmp_path):
    run = _script(ROOT / "assignments", "dying_relu", tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "stopped: dead_unit_experiment is not written yet" in run.stderr


def test_the_figures_say_what_a_footnote_would():
    """dying_relu.png says why ReLU's zero-gradient share exceeds its dead share; the grader's
    vanishing-gradient figure (ReLU at the 1/sqrt(n) scale) says why ReLU still loses."""
    import saturation

    def texts(fig):
        return " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))

    assert "layer 2 is entirely dead" in texts(dying_relu.dying_figure(0))
    plain = {n: saturation.first_layer_grad_norms(range(1, 21), n) for n in ("sigmoid", "relu")}
    assert "He init" in texts(saturation.plot_grad_norms(plain))
    he = {**plain, "relu": saturation.first_layer_grad_norms(range(1, 21), "relu", weight_scale=2 ** 0.5)}
    assert "half its units" not in texts(saturation.plot_grad_norms(he))
    assert "relu (He init" in texts(saturation.plot_grad_norms(he))
