"""The reference solutions/derivatives.py meets SPEC.md's contract.

Derivatives are checked against mpmath's numerical differentiation (30 digits)
of SPEC.md's definitions, and PReLU's backward pass against central differences
of a loss -- never against the same formulas twice.
"""
import importlib.util
import math
import sys
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


def _load(name):
    """Import solutions/<name>.py by path, without leaving it in sys.modules
    (other tests import student modules under the same plain names)."""
    spec = importlib.util.spec_from_file_location(name, SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


A = _load("activations")
_saved = sys.modules.get("activations")
sys.modules["activations"] = A          # derivatives.py does `from activations import ...`
try:
    D = _load("derivatives")
finally:
    if _saved is None:
        del sys.modules["activations"]
    else:
        sys.modules["activations"] = _saved
assert D.sigmoid is A.sigmoid

mp.mp.dps = 30
F64 = dict(rtol=1e-7, atol=1e-12)
F32 = dict(rtol=1e-5, atol=1e-6)


def _mp_sigmoid(t):
    return 1 / (1 + mp.exp(-t))


def _mp_gelu(t):
    return t / 2 * (1 + mp.tanh(mp.sqrt(2 / mp.pi) * (t + mp.mpf("0.044715") * t**3)))


def _ident(t):
    return t


def _zero(t):
    return 0 * t


# name, kwargs, x -> the piece of SPEC.md's definition that is active at x
# (mpmath differentiates that piece at x)
CASES = [
    ("sigmoid_grad", {}, lambda x: _mp_sigmoid),
    ("tanh_grad", {}, lambda x: lambda t: (mp.exp(t) - mp.exp(-t)) / (mp.exp(t) + mp.exp(-t))),
    ("relu_grad", {}, lambda x: _ident if x > 0 else _zero),
    ("relu6_grad", {}, lambda x: _ident if 0 < x < 6 else _zero),
    ("leaky_relu_grad", {}, lambda x: _ident if x > 0 else lambda t: mp.mpf(0.01) * t),
    ("leaky_relu_grad", {"alpha": 0.2}, lambda x: _ident if x > 0 else lambda t: mp.mpf(0.2) * t),
    ("elu_grad", {}, lambda x: _ident if x > 0 else lambda t: mp.exp(t) - 1),
    ("elu_grad", {"alpha": 0.5}, lambda x: _ident if x > 0 else lambda t: (mp.exp(t) - 1) / 2),
    ("gelu_grad", {}, lambda x: _mp_gelu),
    ("swish_grad", {}, lambda x: lambda t: t * _mp_sigmoid(t)),
    ("swish_grad", {"beta": 1.7}, lambda x: lambda t: t * _mp_sigmoid(mp.mpf(1.7) * t)),
]
IDS = [name + "".join(f"-{k}={v}" for k, v in kw.items()) for name, kw, _ in CASES]
GRADS = ["sigmoid_grad", "tanh_grad", "relu_grad", "relu6_grad", "leaky_relu_grad",
         "elu_grad", "gelu_grad", "swish_grad"]

# Away from the kinks (0 and 6), exactly representable in float32.
X = np.unique(np.concatenate([
    np.arange(-12, 12.01, 0.25), np.arange(-40.0, 41.0),
    np.random.default_rng(0).uniform(-8, 8, 60),
    np.arange(-6.5, -4.5, 1 / 32),  # where 1 - tanh(u)^2 in gelu' drops below float32's resolution
    [1e-8, 2.0**-100, 5.999, 6.001, 50, 100, 1e3, 1e5, 1e6],
    [-1e-8, -2.0**-100, -50, -100, -1e3, -1e5, -1e6],
]).astype(np.float32).astype(np.float64))
X = X[(X != 0) & (X != 6)]


def assert_close(got, want, x, rtol, atol, what):
    got = np.asarray(got, dtype=np.float64)
    bad = ~(np.abs(got - want) <= atol + rtol * np.abs(want))
    assert not bad.any(), (
        f"{what}: {bad.sum()} of {bad.size} off, e.g. x={x[bad][:3]} "
        f"got {got[bad][:3]} want {want[bad][:3]}")


@pytest.fixture(scope="module")
def reference():
    return {i: np.array([float(mp.diff(piece(mp.mpf(v)), mp.mpf(v))) for v in X])
            for i, (_, _, piece) in zip(IDS, CASES)}


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_float64_matches_mpmath(case, reference):
    name, kw, _ = CASES[case]
    got = getattr(D, name)(X, **kw)
    assert got.dtype == np.float64 and got.shape == X.shape
    assert_close(got, reference[IDS[case]], X, what=f"{name} float64", **F64)


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_float32_in_float32_out_and_accurate(case, reference):
    name, kw, _ = CASES[case]
    got = getattr(D, name)(X.astype(np.float32), **kw)
    assert got.dtype == np.float32 and got.shape == X.shape
    assert_close(got, reference[IDS[case]], X, what=f"{name} float32", **F32)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_prelu_grad_matches_mpmath(dtype):
    x, a = X.astype(dtype), 0.25
    d_x, d_alpha = D.prelu_grad(x, a)
    assert d_x.dtype == d_alpha.dtype == dtype
    want_x = [float(mp.diff(lambda t: t if v > 0 else a * t, mp.mpf(v))) for v in X]
    want_a = [float(mp.diff(lambda s: v if v > 0 else s * v, mp.mpf(a))) for v in X]
    tol = F64 if dtype == np.float64 else F32
    assert_close(d_x, np.array(want_x), X, what="d prelu/dx", **tol)
    assert_close(d_alpha, np.array(want_a), X, what="d prelu/dalpha", **tol)


def test_kinks_use_pytorchs_choice():
    for dtype in (np.float64, np.float32):
        z = np.array([0.0, -0.0], dtype=dtype)
        np.testing.assert_array_equal(D.relu_grad(z), [0, 0])
        np.testing.assert_array_equal(D.relu6_grad(np.array([0.0, 6.0, 3.0], dtype=dtype)), [0, 0, 1])
        np.testing.assert_array_equal(D.leaky_relu_grad(z), np.float32(0.01) if dtype == np.float32 else 0.01)
        np.testing.assert_array_equal(D.leaky_relu_grad(z, alpha=0.3), dtype(0.3))
        np.testing.assert_array_equal(D.elu_grad(z), [1, 1])
        np.testing.assert_array_equal(D.elu_grad(z, alpha=0.5), [0.5, 0.5])
        d_x, d_alpha = D.prelu_grad(z, 0.25)
        np.testing.assert_array_equal(d_x, [0.25, 0.25])
        np.testing.assert_array_equal(d_alpha, [0, 0])
    np.testing.assert_array_equal(D.sigmoid_grad(0.0), 0.25)
    np.testing.assert_array_equal(D.tanh_grad(0.0), 1.0)
    np.testing.assert_array_equal(D.gelu_grad(0.0), 0.5)
    np.testing.assert_array_equal(D.swish_grad(0.0, beta=2.0), 0.5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_infinities(dtype):
    x = np.array([np.inf, -np.inf], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        np.testing.assert_array_equal(D.sigmoid_grad(x), [0, 0])   # SPEC.md
        np.testing.assert_array_equal(D.tanh_grad(x), [0, 0])      # SPEC.md
        np.testing.assert_array_equal(D.relu_grad(x), [1, 0])      # documented
        np.testing.assert_array_equal(D.relu6_grad(x), [0, 0])
        np.testing.assert_array_equal(D.elu_grad(x), [1, 0])


@pytest.mark.parametrize("name", ["sigmoid_grad", "tanh_grad", "elu_grad", "gelu_grad", "swish_grad"])
def test_smooth_derivatives_propagate_nan(name):
    x = np.array([[1.0, np.nan], [np.nan, -2.0]])
    np.testing.assert_array_equal(np.isnan(getattr(D, name)(x)), np.isnan(x))


def _all_calls(x):
    """Every public function of derivatives.py called on x (for the generic checks)."""
    x = np.asarray(x)
    out = {name: getattr(D, name)(x) for name in GRADS}
    out["leaky_relu_grad(alpha=0.3)"] = D.leaky_relu_grad(x, alpha=0.3)
    out["elu_grad(alpha=2)"] = D.elu_grad(x, alpha=2.0)
    out["swish_grad(beta=3)"] = D.swish_grad(x, beta=3.0)
    out["prelu_grad"] = D.prelu_grad(x, 0.25)
    out["prelu_backward"] = D.prelu_backward(np.ones(x.shape), x, 0.25)
    out["numerical_derivative"] = D.numerical_derivative(A.sigmoid, x)
    out["gradient_check"] = D.gradient_check(A.sigmoid, D.sigmoid_grad, x)
    return out


def test_dtypes_shapes_numbers_lists_0d():
    inputs = [np.array([True, False]), np.array([-3, 0, 2], dtype=np.int8), np.arange(-3, 3).reshape(2, 3),
              [[1, -2], [3, -4]], [[True], [False]], 3, -2.5, True, np.array(1.5)]
    for x in inputs:
        shape = np.asarray(x).shape
        for name in GRADS:
            got = getattr(D, name)(x)
            assert np.shape(got) == shape and got.dtype == np.float64, (name, x, got)
            if shape:
                assert type(got) is np.ndarray, (name, type(got))
        for got in D.prelu_grad(x, 0.5):
            assert np.shape(got) == shape and got.dtype == np.float64
        nd = D.numerical_derivative(A.relu, x)
        assert np.shape(nd) == shape and nd.dtype == np.float64
    for dtype in (np.float32, np.float16):
        x = np.linspace(-3, 3, 7, dtype=dtype)
        for name in GRADS:
            assert getattr(D, name)(x).dtype == dtype, (name, dtype)
        assert all(g.dtype == dtype for g in D.prelu_grad(x, np.array([0.1])))


def test_read_only_inputs_are_not_written():
    x = np.array([[-2.0, -0.0, 0.0], [1.5, 7.0, -1e6]])
    before = x.copy()
    x.flags.writeable = False
    _all_calls(x)
    np.testing.assert_array_equal(x, before)
    y = before.copy()
    _all_calls(y)
    np.testing.assert_array_equal(y, before)
    g, alpha = np.ones((2, 3)), np.array([0.1, 0.2, 0.3])
    g.flags.writeable = alpha.flags.writeable = False
    D.prelu_grad(x, alpha)
    D.prelu_backward(g, x, alpha)
    np.testing.assert_array_equal(alpha, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(g, 1.0)


SAFE_X = np.array([1e6, 1e5, 3e4, 1e3, 710.0, 100.0, 88.8, 30.0, 1.0, 1e-30, 5e-324, 0.0])
SAFE_X = np.concatenate([SAFE_X, -SAFE_X])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_fp_warning_for_huge_finite_input(dtype):
    x = SAFE_X.astype(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = _all_calls(x)
        D.prelu_backward(np.ones((2, x.size // 2)), x.reshape(2, -1), np.linspace(0, 1, x.size // 2))
    for name, got in out.items():
        for g in got if isinstance(got, tuple) else (got,):
            assert np.isfinite(g).all(), name


def test_pure_no_printing_no_global_state(capsys):
    err = np.geterr()
    _all_calls(np.array([-3.0, 0.5, np.nan, 2.0]))
    assert capsys.readouterr() == ("", "")
    assert np.geterr() == err


# ---- PReLU: per-element pair, and the layer's backward pass ------------------

def test_prelu_grad_shapes_and_values():
    for x_shape, a_shape in [((5, 3), (3,)), ((3,), (2, 1)), ((), (4,)), ((), ()), ((2, 3), ())]:
        rng = np.random.default_rng(len(x_shape) + len(a_shape))
        x = rng.normal(size=x_shape)
        alpha = rng.uniform(0, 1, size=a_shape)
        d_x, d_alpha = D.prelu_grad(x, alpha)
        shape = np.broadcast_shapes(x_shape, a_shape)
        assert np.shape(d_x) == np.shape(d_alpha) == shape
        b = np.broadcast(x, alpha)
        want_x = np.array([1.0 if xi > 0 else ai for xi, ai in b]).reshape(shape)
        b.reset()
        want_a = np.array([0.0 if xi > 0 else xi for xi, ai in b]).reshape(shape)
        np.testing.assert_array_equal(d_x, want_x)
        np.testing.assert_array_equal(d_alpha, want_a)
    d_x, d_alpha = D.prelu_grad(-2.0, 0.5)
    assert np.shape(d_x) == np.shape(d_alpha) == () and d_x == 0.5 and d_alpha == -2.0


def _numerical_grads(g, x, alpha, h=1e-6):
    """Central differences of L = sum(g * prelu(x, alpha)) in every entry of x and alpha."""
    def loss(x, alpha):
        return float(np.sum(g * A.prelu(x, alpha)))

    def grad(p, f):
        p = np.array(p, dtype=np.float64)
        out = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            up, down = p.copy(), p.copy()
            up[i] += h
            down[i] -= h
            out[i] = (f(up) - f(down)) / (2 * h)
        return out

    return grad(x, lambda v: loss(v, alpha)), grad(alpha, lambda v: loss(x, v))


ALPHAS = {  # x has shape (4, 3, 5)
    "number": 0.25, "0d": np.array(0.3), "C": np.array([0.1, -0.2, 0.3, 0.4, 1.5]),
    "1xC": np.array([[0.1, 0.2, 0.3, 0.4, 0.5]]), "3x1": np.array([[0.2], [0.5], [0.9]]),
    "1x3x1": np.array([[[0.1], [0.2], [0.3]]]), "bigger-than-x": np.array([0.2, 0.6]).reshape(2, 1, 1, 1),
}


@pytest.mark.parametrize("alpha", list(ALPHAS.values()), ids=list(ALPHAS))
def test_prelu_backward_matches_numerical_gradient(alpha):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 3, 5))
    x[np.abs(x) < 0.05] = 0.5                      # keep central differences off the kink
    out_shape = np.broadcast_shapes(x.shape, np.shape(alpha))
    g = rng.normal(size=out_shape)
    grad_x, grad_alpha = D.prelu_backward(g, x, alpha)
    assert grad_x.shape == x.shape
    assert type(grad_alpha) is np.ndarray and grad_alpha.shape == np.shape(alpha)
    num_x, num_alpha = _numerical_grads(g, x, alpha)
    np.testing.assert_allclose(grad_x, num_x, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_alpha, num_alpha, rtol=1e-6, atol=1e-8)


def test_prelu_backward_dtypes_and_scalars():
    x = np.array([[-1.0, 2.0], [-3.0, -4.0]], dtype=np.float32)
    grad_x, grad_alpha = D.prelu_backward(np.ones_like(x), x, np.array([0.5, 0.25]))
    assert grad_x.dtype == grad_alpha.dtype == np.float32
    np.testing.assert_array_equal(grad_x, [[0.5, 1.0], [0.5, 0.25]])
    np.testing.assert_array_equal(grad_alpha, [-4.0, -4.0])
    grad_x, grad_alpha = D.prelu_backward(1.0, [-2, 3, -5], 0.1)   # L = sum(prelu(x))
    assert grad_x.dtype == np.float64 and grad_alpha.shape == () and type(grad_alpha) is np.ndarray
    np.testing.assert_allclose(grad_x, [0.1, 1.0, 0.1])
    assert grad_alpha == -7.0
    grad_x, grad_alpha = D.prelu_backward(3.0, -2.0, 0.5)
    assert np.shape(grad_x) == np.shape(grad_alpha) == () and grad_x == 1.5 and grad_alpha == -6.0


def test_prelu_slope_is_learned_by_gradient_descent():
    """The lecture's PReLU story: alpha updated like a weight moves to the data's slope."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(256, 3))
    target = np.where(x > 0, x, np.array([0.1, 0.3, 0.7]) * x)
    alpha = np.full(3, 0.5)
    for _ in range(200):
        g = 2 * (A.prelu(x, alpha) - target) / x.shape[0]
        alpha = alpha - 0.5 * D.prelu_backward(g, x, alpha)[1]
    np.testing.assert_allclose(alpha, [0.1, 0.3, 0.7], atol=1e-6)


# ---- numerical_derivative and gradient_check --------------------------------

def test_numerical_derivative_is_the_central_difference():
    x = np.array([[-1.0, 0.0], [0.5, 2.0]])
    np.testing.assert_allclose(D.numerical_derivative(np.exp, x, h=0.5), (np.exp(x + 0.5) - np.exp(x - 0.5)),
                               rtol=1e-13)
    np.testing.assert_allclose(D.numerical_derivative(np.sin, x), np.cos(x), rtol=0, atol=1e-9)
    np.testing.assert_allclose(D.numerical_derivative(lambda t: t**3, 1.0, h=0.1), 3.01, rtol=1e-12)


def test_numerical_derivative_float64_shapes_and_whole_array_calls():
    calls = []

    def f(t):
        calls.append((type(t), np.shape(t), t.dtype))
        return np.sin(t).astype(np.float32)

    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    got = D.numerical_derivative(f, x)
    assert type(got) is np.ndarray and got.shape == (3, 4) and got.dtype == np.float64
    assert calls == [(np.ndarray, (3, 4), np.float64)] * 2
    np.testing.assert_allclose(got, np.cos(x.astype(np.float64)), atol=1e-2)  # f is float32 inside
    for x in (0.5, [1, 2, 3], [[True]], np.array(2, dtype=np.int64)):
        got = D.numerical_derivative(np.square, x)
        assert np.shape(got) == np.shape(x) and np.asarray(got).dtype == np.float64
        np.testing.assert_allclose(got, 2 * np.asarray(x, dtype=float), rtol=1e-9)


def test_gradient_check_formula():
    x = np.linspace(0.1, 1.2, 12).reshape(3, 4)           # cos(x) > 0 here
    good = D.gradient_check(np.sin, np.cos, x)
    assert type(good) is float and good < 1e-9
    # f_grad = 1.1 n everywhere: |a - n| / (|a| + |n|) = 0.1 / 2.1
    assert D.gradient_check(np.sin, lambda t: 1.1 * np.cos(t), x) == pytest.approx(0.1 / 2.1, rel=1e-6)
    # the largest error over the elements: one element doubled -> 1/3
    def one_bad(t):
        g = np.cos(t)
        g[1, 2] *= 2
        return g
    assert D.gradient_check(np.sin, one_bad, x) == pytest.approx(1 / 3, rel=1e-6)
    # the 1e-8 floor: a = 1e-9, n = 0 -> 1e-9 / 1e-8; a = n = 0 -> 0
    tiny = D.gradient_check(np.zeros_like, lambda t: np.full(t.shape, 1e-9), x)
    assert tiny == pytest.approx(0.1, rel=1e-9)
    assert D.gradient_check(np.zeros_like, np.zeros_like, x) == 0.0
    # h is used: d/dx x^3 at 1 with h = 0.1 is numerically 3.01
    got = D.gradient_check(lambda t: t**3, lambda t: 3 * t**2, [1.0], h=0.1)
    assert got == pytest.approx(0.01 / 6.01, rel=1e-9)


def test_gradient_check_edge_cases():
    assert math.isnan(D.gradient_check(np.sin, lambda t: np.full(t.shape, np.nan), [0.5, 1.0]))
    assert D.gradient_check(np.sin, np.cos, 0.3) < 1e-9                    # a number
    assert D.gradient_check(np.sin, np.cos, np.zeros((0, 3))) == 0.0       # nothing to check
    with pytest.raises(ValueError):
        D.gradient_check(np.sin, lambda t: np.cos(t)[:1], [0.5, 1.0])


FORWARD = {"sigmoid_grad": A.sigmoid, "tanh_grad": A.tanh, "relu_grad": A.relu, "relu6_grad": A.relu6,
           "leaky_relu_grad": A.leaky_relu, "elu_grad": A.elu, "gelu_grad": A.gelu, "swish_grad": A.swish}


@pytest.mark.parametrize("name", GRADS)
def test_each_derivative_passes_gradient_check(name):
    # |x| <= 4: further out the derivatives are so small that the central
    # difference's rounding error (~1e-16 / h) dominates the relative error
    x = np.random.default_rng(5).uniform(-4, 4, 500)
    x = x[np.abs(x) > 1e-3]                                      # off the kink
    assert D.gradient_check(FORWARD[name], getattr(D, name), x) < 1e-6
    wrong = lambda t: getattr(D, name)(t) + 0.01                     # noqa: E731
    assert D.gradient_check(FORWARD[name], wrong, x) > 1e-4          # the check has teeth


def _python_events(fn, *args):
    """Python-level calls and lines executed while running fn(*args)."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        count += 1
        return tracer

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn(*args)
    finally:
        sys.settrace(old)
    return count


WHOLE_ARRAY_CALLS = {
    "prelu_grad": lambda x: D.prelu_grad(x, np.array([0.1, 0.2])),
    "prelu_backward": lambda x: D.prelu_backward(np.ones(x.shape), x, np.array([0.1, 0.2])),
    "numerical_derivative": lambda x: D.numerical_derivative(A.sigmoid, x),
    "gradient_check": lambda x: D.gradient_check(A.sigmoid, D.sigmoid_grad, x),
}


@pytest.mark.parametrize("name", GRADS + list(WHOLE_ARRAY_CALLS))
def test_vectorised(name):
    f = WHOLE_ARRAY_CALLS.get(name) or getattr(D, name)
    small = _python_events(f, np.linspace(-5, 5, 10).reshape(5, 2))
    big = _python_events(f, np.linspace(-5, 5, 20_000).reshape(10_000, 2))
    assert big <= small + 5, f"{name}: Python work grows with the input ({small} -> {big} events)"
    x = np.random.default_rng(2).normal(scale=5, size=10**6).reshape(-1, 2)
    got = f(x)
    for g in got if isinstance(got, tuple) else (got,):
        assert np.isfinite(g).all()
