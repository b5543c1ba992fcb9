"""Tests of the reference solutions/saturation.py.

Pure functions are checked against independent computations written here; every
experiment's claim is measured from the data it returns, by code in this file, on
several seeds. The timing claim is checked only as a ratio measured side by side.
"""

import ast
import io
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
sys.path.insert(0, str(SOLUTIONS))

import saturation as S  # noqa: E402

SEEDS = range(5)


# -- independent helpers -----------------------------------------------------

def ref_sigmoid(a):
    a = np.asarray(a, dtype=np.float64)
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def ref_relu(a):
    return np.where(a > 0, a, 0.0)


REF = {
    "sigmoid": (ref_sigmoid, lambda a: ref_sigmoid(a) * ref_sigmoid(-a)),
    "tanh": (np.tanh, lambda a: 1.0 / np.cosh(a) ** 2),
    "relu": (ref_relu, lambda a: np.where(a > 0, 1.0, 0.0)),
}


def ref_saturated(h, low, high, eps):
    flat = np.ravel(h)
    return sum(1 for v in flat if v <= low + eps or v >= high - eps) / flat.size


def ref_loss_and_grad_w1(x, weights, f, f_grad):
    """L = sum(h_D) and dL/dW_1, computed with explicit per-layer Jacobian-vector products."""
    acts, pres = [x], []
    for W in weights:
        pres.append(acts[-1] @ W)
        acts.append(f(pres[-1]))
    upstream = np.ones_like(acts[-1])
    for layer in range(len(weights) - 1, -1, -1):
        local = upstream * f_grad(pres[layer])
        if layer == 0:
            return acts[-1].sum(), np.einsum("ni,nj->ij", x, local)
        upstream = np.einsum("nj,ij->ni", local, weights[layer])


# -- lecture_activation ------------------------------------------------------

@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_lecture_activation_values_and_grads(name):
    f, f_grad = S.lecture_activation(name)
    ref_f, ref_grad = REF[name]
    a = np.linspace(-30, 30, 1201)[:1200].reshape(3, -1)
    np.testing.assert_allclose(f(a), ref_f(a), rtol=1e-12, atol=1e-15)
    away = a[np.abs(a) > 1e-3]  # the relu kink
    np.testing.assert_allclose(f_grad(away), ref_grad(away), rtol=1e-9, atol=1e-15)
    num = (f(away + 1e-6) - f(away - 1e-6)) / 2e-6
    np.testing.assert_allclose(f_grad(away), num, rtol=1e-5, atol=1e-8)
    assert f(a).shape == a.shape and f_grad(a).dtype == np.float64


def test_lecture_activation_edges():
    sig, sig_grad = S.lecture_activation("sigmoid")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            assert sig(-1000.0) == 0.0 and sig(1000.0) == 1.0
            assert sig_grad(np.array([-1000.0, 1000.0])).tolist() == [0.0, 0.0]
    assert S.lecture_activation("relu")[1](0.0) == 0.0
    with pytest.raises(ValueError):
        S.lecture_activation("swish")


# -- saturated_fraction ------------------------------------------------------

def test_saturated_fraction_by_hand():
    h = [0.0, 0.01, 0.011, 0.5, 0.989, 0.99, 1.0, np.nan]
    # inclusive at 0.01 and 0.99; NaN is not saturated
    assert S.saturated_fraction(h, 0.0, 1.0, 0.01) == pytest.approx(4 / 8)
    assert S.saturated_fraction([-1.0, 0.0, 0.995], -1.0, 1.0, 0.01) == pytest.approx(2 / 3)
    assert S.saturated_fraction(0.5, 0.0, 1.0) == 0.0
    assert S.saturated_fraction([0.3, 0.7], 0.0, 1.0, eps=0.5) == 1.0
    assert S.saturated_fraction([0.3, 0.7], 0.0, 1.0, eps=0.0) == 0.0
    assert isinstance(S.saturated_fraction([0.3], 0.0, 1.0), float)


def test_saturated_fraction_matches_reference_on_random_arrays():
    rng = np.random.default_rng(1)
    for shape in [(7,), (5, 9), (2, 3, 4)]:
        h = ref_sigmoid(3 * rng.standard_normal(shape))
        h.setflags(write=False)
        for eps in (0.0, 1e-3, 0.05):
            assert S.saturated_fraction(h, 0.0, 1.0, eps) == pytest.approx(ref_saturated(h, 0.0, 1.0, eps))


@pytest.mark.parametrize("args", [([], 0.0, 1.0, 0.01), ([0.5], 1.0, 1.0, 0.01),
                                  ([0.5], 0.0, 1.0, -0.1)])
def test_saturated_fraction_errors(args):
    with pytest.raises(ValueError):
        S.saturated_fraction(*args)


# -- saturation_experiment ---------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_saturation_claim_from_returned_data(seed):
    r = S.saturation_experiment(seed=seed)
    x = r["x"]
    n_samples, n_in = x.shape
    assert n_in == 1000 and r["n_in"] == 1000
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(x.std(axis=0), 1.0, atol=1e-10)
    eps = r["eps"]
    expected_std = {"N(0,1)": 1.0, "N(0,1/n)": 1.0 / math.sqrt(n_in)}
    measured = {}
    for scale, W in r["weights"].items():
        assert W.shape[0] == n_in
        assert abs(W.std() / expected_std[scale] - 1) < 0.05 and abs(W.mean()) < 0.05 * expected_std[scale]
        a = r["pre_activations"][scale]
        np.testing.assert_allclose(a, x @ W, rtol=1e-10, atol=1e-10)
        measured[scale] = (ref_saturated(ref_sigmoid(a), 0.0, 1.0, eps),
                           ref_saturated(np.tanh(a), -1.0, 1.0, eps))
        assert r["fractions"]["sigmoid"][scale] == pytest.approx(measured[scale][0])
        assert r["fractions"]["tanh"][scale] == pytest.approx(measured[scale][1])
    sig_big, tanh_big = measured["N(0,1)"]
    sig_small, tanh_small = measured["N(0,1/n)"]
    assert sig_big >= 0.8 and tanh_big >= 0.85, measured
    assert sig_small <= 0.01 and tanh_small <= 0.05, measured


def test_saturation_experiment_is_deterministic():
    a, b, c = (S.saturation_experiment(n_in=50, n_units=5, n_samples=20, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a["weights"]["N(0,1)"], b["weights"]["N(0,1)"])
    assert not np.array_equal(a["weights"]["N(0,1)"], c["weights"]["N(0,1)"])


# -- first_layer_grad_norms --------------------------------------------------

@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_grad_norms_recomputed_independently(name):
    r = S.first_layer_grad_norms([1, 2, 5, 3], name, width=16, n_samples=8, seed=7)
    assert r["depths"].tolist() == [1, 2, 5, 3] and r["weights"].shape == (5, 16, 16)
    f, f_grad = REF[name]
    for depth, norm in zip(r["depths"], r["norms"]):
        _, g = ref_loss_and_grad_w1(r["x"], r["weights"][:depth], f, f_grad)
        assert norm == pytest.approx(np.linalg.norm(g), rel=1e-9)


def test_grad_norms_against_finite_differences():
    r = S.first_layer_grad_norms([3], "tanh", width=6, n_samples=4, seed=2)
    x, weights = r["x"], r["weights"]
    loss, g = ref_loss_and_grad_w1(x, weights, *REF["tanh"])
    num = np.zeros_like(g)
    h = 1e-6
    for idx in np.ndindex(g.shape):
        wp, wm = weights.copy(), weights.copy()
        wp[0][idx] += h
        wm[0][idx] -= h
        num[idx] = (ref_loss_and_grad_w1(x, wp, *REF["tanh"])[0]
                    - ref_loss_and_grad_w1(x, wm, *REF["tanh"])[0]) / (2 * h)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)
    assert r["norms"][0] == pytest.approx(np.linalg.norm(num), rel=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_vanishing_gradient_claim(seed):
    depths = list(range(1, 21))
    per_layer, last = {}, {}
    for name in ("sigmoid", "tanh", "relu"):
        r = S.first_layer_grad_norms(depths, name, seed=seed)
        width = r["x"].shape[1]
        assert abs(r["weights"].std() * math.sqrt(width) - 1.0) < 0.05
        # recheck one depth from the returned data
        _, g = ref_loss_and_grad_w1(r["x"], r["weights"][:12], *REF[name])
        assert r["norms"][11] == pytest.approx(np.linalg.norm(g), rel=1e-9)
        n = r["norms"]
        per_layer[name] = (n[-1] / n[0]) ** (1 / (len(n) - 1))
        last[name] = n[-1]
    # sigmoid' <= 1/4: geometric decay of about 4x per layer
    assert per_layer["sigmoid"] <= 0.3, per_layer
    assert per_layer["relu"] >= 0.6 and per_layer["tanh"] >= 0.8, per_layer
    assert last["relu"] >= 1e6 * last["sigmoid"], last


def test_grad_norms_with_callables_and_errors():
    f, f_grad = REF["relu"]
    by_name = S.first_layer_grad_norms([1, 4], "relu", width=8, n_samples=4, seed=1)
    by_call = S.first_layer_grad_norms([1, 4], f, f_grad, width=8, n_samples=4, seed=1)
    np.testing.assert_allclose(by_call["norms"], by_name["norms"], rtol=1e-12)
    for bad in ([], [0, 2], [1.5]):
        with pytest.raises(ValueError):
            S.first_layer_grad_norms(bad, "relu")
    with pytest.raises(ValueError):
        S.first_layer_grad_norms([2], f)


# -- weight gradients and sign mixing ----------------------------------------

def test_weight_gradients_against_loop():
    rng = np.random.default_rng(0)
    delta, h = rng.standard_normal(6), rng.standard_normal((6, 4))
    expected = np.array([[delta[k] * h[k, i] for i in range(4)] for k in range(6)])
    delta.setflags(write=False)
    h.setflags(write=False)
    np.testing.assert_allclose(S.weight_gradients(delta, h), expected, rtol=0, atol=0)
    np.testing.assert_allclose(S.weight_gradients(-2.0, [0.5, 0.25]), [-1.0, -0.5])
    assert S.weight_gradients([1, 2], [[1, 2], [3, 4]]).dtype == np.float64
    with pytest.raises(ValueError):
        S.weight_gradients(delta, h[:5])


def test_sign_mixed_fraction_by_hand():
    g = [[1.0, 2.0], [1.0, -1.0], [0.0, -1.0], [0.0, 0.0]]
    assert S.sign_mixed_fraction(g) == pytest.approx(0.25)
    assert S.sign_mixed_fraction([3.0, -1e-300, 0.0]) == 1.0
    assert S.sign_mixed_fraction([-3.0, -1.0, 0.0]) == 0.0
    rng = np.random.default_rng(5)
    g = rng.standard_normal((50, 3))
    expected = np.mean([min(row) < 0 < max(row) for row in g])
    assert S.sign_mixed_fraction(g) == pytest.approx(expected)
    for bad in (np.zeros((0, 3)), np.zeros((2, 2, 2))):
        with pytest.raises(ValueError):
            S.sign_mixed_fraction(bad)


@pytest.mark.parametrize("seed", SEEDS)
def test_sign_mixing_claim(seed):
    r = S.sign_mixing_experiment(seed=seed)
    a, delta = r["pre_activations"], r["delta"]
    fractions = {}
    for name, f in (("sigmoid", ref_sigmoid), ("tanh", np.tanh)):
        np.testing.assert_allclose(r["h"][name], f(a), rtol=1e-12, atol=1e-15)
        g = r["grads"][name]
        np.testing.assert_allclose(g, delta[:, None] * f(a), rtol=1e-12, atol=1e-15)
        fractions[name] = np.mean([(row > 0).any() and (row < 0).any() for row in g])
        assert r["fractions"][name] == pytest.approx(fractions[name])
    # the red term decides every sign: each sigmoid-fed gradient has the sign of delta
    assert np.all(np.sign(r["grads"]["sigmoid"]) == np.sign(delta)[:, None])
    assert fractions["sigmoid"] == 0.0 and fractions["tanh"] >= 0.9, fractions
    assert a.shape == (1000, 10) and np.all(r["h"]["sigmoid"] > 0)


# -- zig-zag -----------------------------------------------------------------

def test_same_sign_direction_examples_and_properties():
    np.testing.assert_array_equal(S.same_sign_direction([-2.0, 2.0]), [2.0, 0.0])
    np.testing.assert_array_equal(S.same_sign_direction([-1.0, 3.0]), [0.0, -3.0])
    np.testing.assert_array_equal(S.same_sign_direction([1.0, 2.0]), [-1.0, -2.0])
    np.testing.assert_array_equal(S.same_sign_direction([0.0, 0.0]), [0.0, 0.0])
    rng = np.random.default_rng(3)
    for _ in range(200):
        g = rng.standard_normal(rng.integers(1, 6))
        d = S.same_sign_direction(g)
        assert np.all(d >= 0) or np.all(d <= 0)
        # the closest same-sign vector to -g, by brute force over the two orthants
        candidates = [np.clip(-g, 0, None), np.clip(-g, None, 0)]
        best = min(candidates, key=lambda c: np.linalg.norm(c + g))
        np.testing.assert_allclose(d, best)
        assert d @ g <= 0


def _check_path(path, w0, w_star, lr, tol, same_sign):
    assert path.ndim == 2 and path.shape[1] == len(w0)
    np.testing.assert_array_equal(path[0], w0)
    assert np.linalg.norm(path[-1] - w_star) <= tol
    assert np.all(np.linalg.norm(path[:-1] - w_star, axis=1) > tol)  # stopped at the first hit
    loss = 0.5 * np.sum((path - w_star) ** 2, axis=1)
    assert np.all(np.diff(loss) < 0)
    steps = np.diff(path, axis=0)
    grads = path[:-1] - w_star
    if same_sign:
        assert np.all(np.all(steps >= 0, axis=1) | np.all(steps <= 0, axis=1))
        for s, g in zip(steps, grads):  # each step is lr times the best allowed direction
            np.testing.assert_allclose(s, lr * S.same_sign_direction(g), atol=1e-15)
    else:
        np.testing.assert_allclose(steps, -lr * grads, atol=1e-15)


def test_zigzag_default_toy_problem():
    r = S.zigzag_experiment()
    _check_path(r["free"], r["w0"], r["w_star"], r["lr"], r["tol"], False)
    _check_path(r["restricted"], r["w0"], r["w_star"], r["lr"], r["tol"], True)
    np.testing.assert_array_equal(r["w0"], [-1.0, 1.0])
    np.testing.assert_array_equal(r["w_star"], [1.0, -1.0])
    free_steps = math.ceil(math.log(r["tol"] / math.sqrt(8)) / math.log(1 - r["lr"]))
    assert r["steps"]["free"] == len(r["free"]) - 1 == free_steps
    assert r["steps"]["restricted"] == len(r["restricted"]) - 1
    assert r["steps"]["restricted"] >= 1.5 * free_steps
    # the free path goes straight: one weight up, the other down, at every step
    assert np.all(np.diff(r["free"][:, 0]) > 0) and np.all(np.diff(r["free"][:, 1]) < 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_zigzag_claim_random_problems(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 5))
    w0 = rng.uniform(-2, 2, d)
    sign = np.where(np.arange(d) % 2 == 0, 1.0, -1.0) * rng.choice([-1.0, 1.0])
    w_star = w0 + sign * rng.uniform(0.5, 2.0, d)       # some weights must rise, others fall
    lr = float(rng.uniform(0.05, 0.3))
    r = S.zigzag_experiment(w0, w_star, lr=lr, tol=1e-3)
    _check_path(r["free"], w0, w_star, lr, 1e-3, False)
    _check_path(r["restricted"], w0, w_star, lr, 1e-3, True)
    assert len(r["restricted"]) - 1 >= 1.5 * (len(r["free"]) - 1)


def test_descent_path_max_steps_and_purity():
    w0 = np.array([-1.0, 1.0])
    w0.setflags(write=False)
    p = S.descent_path(w0, [1.0, -1.0], lr=0.1, tol=1e-3, max_steps=5, same_sign=True)
    assert p.shape == (6, 2)
    assert S.descent_path([1.0, -1.0], [1.0, -1.0]).shape == (1, 2)


# -- the cost of exp ---------------------------------------------------------

def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def test_time_activations_structure_and_ratio():
    # The baseline is numpy's fastest relu: np.where(x > 0, x, 0.0) allocates a mask and
    # costs about as much as a sigmoid here, so a slow relu must not be the yardstick.
    fns = {"relu": lambda x: np.maximum(x, 0.0), "sigmoid": S.lecture_activation("sigmoid")[0],
           "naive_sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)), "elu": _elu}
    r = S.time_activations(fns, sizes=(10**5, 10**6), repeat=3)
    assert r["names"] == list(fns) and r["baseline"] == "relu"
    assert r["sizes"].tolist() == [10**5, 10**6]
    for name in fns:
        sec = r["seconds"][name]
        assert sec.shape == (2, 3) and np.all(sec > 0)
        per = sec.min(axis=1) / r["sizes"]
        np.testing.assert_allclose(r["per_element"][name], per)
        np.testing.assert_allclose(r["relative"][name], per / (r["seconds"]["relu"].min(axis=1) / r["sizes"]))
    # robust claim only: exp-based activations cost more than relu, side by side, per size
    for name in ("sigmoid", "naive_sigmoid", "elu"):
        ratio = r["seconds"][name].min(axis=1) / r["seconds"]["relu"].min(axis=1)
        assert np.all(ratio >= 1.2), (name, ratio)
    with pytest.raises(ValueError):
        S.time_activations({"sigmoid": fns["sigmoid"]}, sizes=(10,), repeat=1)


# -- figures and main --------------------------------------------------------

def test_figures_render(tmp_path):
    from matplotlib.figure import Figure

    paths = S.main(str(tmp_path), sizes=(10**4,))
    assert sorted(Path(p).name for p in paths) == sorted(
        ["saturation.png", "vanishing_gradients.png", "sign_mixing.png", "zigzag.png", "cost_of_exp.png"])
    for p in paths:
        assert Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = S.plot_zigzag(S.zigzag_experiment())
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"
    assert len(S.plot_saturation(S.saturation_experiment(n_in=100, n_units=10, n_samples=20)).axes) == 4
    assert len(S.plot_sign_mixing(S.sign_mixing_experiment(n_vectors=50)).axes) == 2


# -- the module as an exercise ----------------------------------------------

SOURCE = (SOLUTIONS / "saturation.py").read_text()
STUDENT_FUNCTIONS = ["lecture_activation", "saturated_fraction", "saturation_experiment",
                     "first_layer_grad_norms", "weight_gradients", "sign_mixed_fraction",
                     "sign_mixing_experiment", "same_sign_direction", "descent_path",
                     "time_activations"]


def test_markers_and_stub(tmp_path):
    from autograder.workflows.stubs import strip_solutions  # the project's stub generator

    stub = strip_solutions(SOURCE, "saturation.py")
    marked = {node.name for node in ast.walk(ast.parse(SOURCE)) if isinstance(node, ast.FunctionDef)
              and "### BEGIN SOLUTION" in ast.get_source_segment(SOURCE, node)}
    assert marked == set(STUDENT_FUNCTIONS)
    (tmp_path / "saturation.py").write_text(stub)
    namespace = {"__name__": "saturation_stub"}
    exec(compile(stub, str(tmp_path / "saturation.py"), "exec"), namespace)
    for name in STUDENT_FUNCTIONS:
        fn = namespace[name]
        assert fn.__doc__ and len(fn.__doc__) > 200, name
        with pytest.raises(NotImplementedError, match=name):
            fn(*[None] * fn.__code__.co_argcount)


def test_results_can_travel_back_from_the_sandbox():
    from autograder.wire import Caps, Encoder

    results = [S.saturation_experiment(), S.first_layer_grad_norms(range(1, 21), "sigmoid"),
               S.sign_mixing_experiment(), S.zigzag_experiment(),
               S.time_activations({"relu": np.abs, "exp": np.exp}, sizes=(1000,), repeat=1),
               S.saturated_fraction([0.5], 0, 1), S.sign_mixed_fraction([[1.0, -1.0]])]
    for r in results:
        Encoder(Caps(), mode="request").encode(r)  # plain data only: no numpy scalars, no objects


def test_self_contained_imports():
    """Graded on its own: only numpy and matplotlib (and the given lab.py, in main); the one
    import of the student's activations.py is inside timed_activations, which only main calls."""
    imported, tree = set(), ast.parse(SOURCE)
    timed = next(n for n in tree.body if getattr(n, "name", "") == "timed_activations")
    inside = {id(n) for n in ast.walk(timed)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names if not (
                a.name == "activations" and id(node) in inside)}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no package-relative imports"
            imported.add(node.module)
    # lab: the given script runner, imported by main only
    assert imported <= {"time", "numpy", "matplotlib.figure", "matplotlib.patches", "lab"}, imported
