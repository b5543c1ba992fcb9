"""The reference solutions/activations.py meets SPEC.md's array contract.

Values are checked against mpmath evaluated at 30 significant digits straight
from SPEC.md's definitions (never against the numpy code itself).
"""
import importlib.util
import re
import sys
import types
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

mp.mp.dps = 30
F64 = dict(rtol=1e-7, atol=1e-12)
F32 = dict(rtol=1e-5, atol=1e-6)


def _mp_sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def _mp_gelu(x):
    return x / 2 * (1 + mp.tanh(mp.sqrt(2 / mp.pi) * (x + mp.mpf("0.044715") * x**3)))


# name, kwargs, definition in mpmath (from the SPEC.md table)
CASES = [
    ("sigmoid", {}, _mp_sigmoid),
    ("tanh", {}, lambda x: (mp.exp(x) - mp.exp(-x)) / (mp.exp(x) + mp.exp(-x))),
    ("relu", {}, lambda x: max(mp.mpf(0), x)),
    ("relu6", {}, lambda x: min(max(mp.mpf(0), x), 6)),
    ("leaky_relu", {}, lambda x: x if x > 0 else mp.mpf(0.01) * x),
    ("leaky_relu", {"alpha": 0.2}, lambda x: x if x > 0 else mp.mpf(0.2) * x),
    ("prelu", {"alpha": 0.25}, lambda x: x if x > 0 else x / 4),
    ("elu", {}, lambda x: x if x > 0 else mp.exp(x) - 1),
    ("elu", {"alpha": 0.5}, lambda x: x if x > 0 else mp.mpf(0.5) * (mp.exp(x) - 1)),
    ("gelu", {}, _mp_gelu),
    ("swish", {}, lambda x: x * _mp_sigmoid(x)),
    ("swish", {"beta": 1.7}, lambda x: x * _mp_sigmoid(mp.mpf(1.7) * x)),
]
IDS = [name + "".join(f"-{k}={v}" for k, v in kw.items()) for name, kw, _ in CASES]
NAMES = ["sigmoid", "tanh", "relu", "relu6", "leaky_relu", "prelu", "elu", "gelu", "swish"]

# Exactly representable in float32, so one mpmath reference serves both dtypes.
X = np.unique(np.concatenate([
    np.arange(-12, 12.01, 0.25), np.arange(-40.0, 41.0),
    np.random.default_rng(0).uniform(-8, 8, 60),
    [1e-8, 2.0**-100, 5.999, 6.001, 50, 100, 1e3, 1e5, 1e6],
    [-1e-8, -2.0**-100, -50, -100, -1e3, -1e5, -1e6],
]).astype(np.float32).astype(np.float64))


def call(name, x, **kw):
    if name == "prelu":
        kw = {"alpha": 0.25, **kw}
    return getattr(A, name)(x, **kw)


def assert_close(got, want, x, rtol, atol, what):
    got = np.asarray(got, dtype=np.float64)
    bad = ~(np.abs(got - want) <= atol + rtol * np.abs(want))
    assert not bad.any(), (
        f"{what}: {bad.sum()} of {bad.size} off, e.g. x={x[bad][:3]} "
        f"got {got[bad][:3]} want {want[bad][:3]}")


@pytest.fixture(scope="module")
def reference():
    return {i: np.array([float(f(mp.mpf(v))) for v in X]) for i, (_, _, f) in zip(IDS, CASES)}


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_float64_matches_mpmath(case, reference):
    name, kw, _ = CASES[case]
    got = call(name, X, **kw)
    assert got.dtype == np.float64 and got.shape == X.shape
    assert_close(got, reference[IDS[case]], X, what=f"{name} float64", **F64)


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_float32_in_float32_out_and_accurate(case, reference):
    name, kw, _ = CASES[case]
    got = call(name, X.astype(np.float32), **kw)
    assert got.dtype == np.float32 and got.shape == X.shape
    assert_close(got, reference[IDS[case]], X, what=f"{name} float32", **F32)


def test_float16_keeps_dtype():
    x = np.linspace(-3, 3, 13, dtype=np.float16)
    for name in NAMES:
        assert call(name, x).dtype == np.float16, name


@pytest.mark.parametrize("name", NAMES)
def test_bool_int_numbers_lists_and_0d(name):
    inputs = [
        np.array([True, False]), np.array([-3, 0, 2], dtype=np.int8), np.array([1, 7], dtype=np.uint8),
        np.arange(-3, 4, dtype=np.int64).reshape(7, 1), [[1, -2], [3, -4]], [[True], [False]],
        [[0.5, -1.5, 2.5]], 3, -2.5, True, np.float64(0.75), np.array(-1.25),
    ]
    for x in inputs:
        got = call(name, x)
        shape = np.asarray(x).shape
        assert np.shape(got) == shape, (name, x)
        assert got.dtype == np.float64, (name, x, got.dtype)
        if shape:
            assert type(got) is np.ndarray, (name, x, type(got))
        else:
            assert isinstance(got, (np.ndarray, np.generic)), (name, x, type(got))
        want = call(name, np.asarray(x, dtype=np.float64))
        np.testing.assert_array_equal(got, want, err_msg=f"{name}({x!r})")
    got = call(name, np.float32(0.5))
    assert np.shape(got) == () and got.dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_read_only_input_is_not_written(name):
    for dtype in (np.float64, np.float32, np.int64):
        x = np.array([[-2.0, -0.0, 0.0], [1.5, 7.0, -1e6]]).astype(dtype)
        before = x.copy()
        x.flags.writeable = False
        call(name, x)
        np.testing.assert_array_equal(x, before)
        y = before.copy()  # writeable, must still be left alone
        call(name, y)
        np.testing.assert_array_equal(y, before)


def test_prelu_does_not_write_read_only_alpha():
    alpha = np.array([0.1, 0.2, 0.3])
    alpha.flags.writeable = False
    A.prelu(-np.ones((2, 3)), alpha)
    np.testing.assert_array_equal(alpha, [0.1, 0.2, 0.3])


SAFE_X = np.array([1e6, 1e5, 3e4, 1e3, 710.0, 100.0, 88.8, 30.0, 1.0, 1e-30, 5e-324, 0.0])
SAFE_X = np.concatenate([SAFE_X, -SAFE_X])


SAFE_CALLS = {name: [lambda x, f=getattr(A, name): f(x)] for name in NAMES if name != "prelu"}
SAFE_CALLS["leaky_relu"].append(lambda x: A.leaky_relu(x, alpha=0.3))
SAFE_CALLS["elu"].append(lambda x: A.elu(x, alpha=2.0))
SAFE_CALLS["swish"].append(lambda x: A.swish(x, beta=3.0))
SAFE_CALLS["prelu"] = [lambda x: A.prelu(x, 0.25),
                       lambda x: A.prelu(x.reshape(2, -1), np.linspace(0.0, 1.0, x.size // 2))]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_fp_warning_for_huge_finite_input(name, dtype):
    x = SAFE_X.astype(dtype)
    for f in SAFE_CALLS[name]:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            got = f(x)
        assert np.isfinite(got).all(), (name, x[~np.isfinite(got.ravel())])


def test_sigmoid_extremes():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert A.sigmoid(-1000.0) < 1e-300
        assert A.sigmoid(1000.0) == 1.0
        assert A.sigmoid(-1e6) == 0.0


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_in_nan_out_at_same_places(name, dtype):
    x = np.array([[1.0, np.nan, -2.0], [np.nan, 0.0, np.nan], [6.0, -1e6, 1e6]], dtype=dtype)
    got = call(name, x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(x))
    got = call(name, np.float64(np.nan))
    assert np.isnan(got)


def test_prelu_per_channel_nan():
    x = np.array([[np.nan, -1.0, 2.0], [-3.0, np.nan, np.nan]])
    got = A.prelu(x, np.array([0.1, 0.2, 0.3]))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(x))


LIMITS = {  # name, kwargs -> (f(+inf), f(-inf))
    ("sigmoid", ()): (1.0, 0.0),
    ("tanh", ()): (1.0, -1.0),
    ("relu", ()): (np.inf, 0.0),
    ("relu6", ()): (6.0, 0.0),
    ("leaky_relu", ()): (np.inf, -np.inf),
    ("leaky_relu", (("alpha", 0.2),)): (np.inf, -np.inf),
    ("prelu", (("alpha", 0.25),)): (np.inf, -np.inf),
    ("elu", ()): (np.inf, -1.0),
    ("elu", (("alpha", 0.5),)): (np.inf, -0.5),
}


@pytest.mark.parametrize("key", list(LIMITS), ids=[n + str(dict(k)) for n, k in LIMITS])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_infinities_give_the_limits(key, dtype):
    name, kw = key
    x = np.array([np.inf, -np.inf, 1.0], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got = getattr(A, name)(x, **dict(kw))
    np.testing.assert_array_equal(got[:2], np.array(LIMITS[key], dtype=dtype))


def test_prelu_per_channel_infinities():
    got = A.prelu(np.array([[np.inf, -np.inf], [-np.inf, np.inf]]), np.array([0.5, 2.0]))
    np.testing.assert_array_equal(got, [[np.inf, -np.inf], [-np.inf, np.inf]])


def test_values_at_and_around_the_kinks():
    x = np.array([-1.0, -0.0, 0.0, 1e-300, 6.0, 7.0])
    np.testing.assert_array_equal(A.relu(x), [0, 0, 0, 1e-300, 6, 7])
    np.testing.assert_array_equal(A.relu6(x), [0, 0, 0, 1e-300, 6, 6])
    np.testing.assert_array_equal(A.leaky_relu(x, alpha=0.5), [-0.5, 0, 0, 1e-300, 6, 7])
    np.testing.assert_array_equal(A.elu(x, alpha=2.0)[[1, 2, 4]], [0, 0, 6])
    np.testing.assert_array_equal(A.sigmoid(0.0), 0.5)
    np.testing.assert_array_equal(A.gelu(0.0), 0.0)
    np.testing.assert_array_equal(A.swish(0.0, beta=3.0), 0.0)


def _prelu_by_hand(x, alpha):
    """Elementwise, over numpy's broadcast of x and alpha, in Python floats."""
    b = np.broadcast(np.asarray(x, float), np.asarray(alpha, float))
    return np.array([xi if xi > 0 else ai * xi for xi, ai in b]).reshape(b.shape)


@pytest.mark.parametrize("alpha", [0.25, np.array(0.3), np.array([0.1, 0.2, 0.3, 0.4]),
                                   np.array([[0.1], [-0.5], [2.0]]), np.array([[[0.0, 1.0, 0.5, 0.2]]]),
                                   [0.1, 0.2, 0.3, 0.4], np.array([0.1, 0.7]).reshape(2, 1, 1, 1)])
def test_prelu_broadcasts_alpha(alpha):
    x = np.random.default_rng(1).normal(size=(2, 3, 4))
    got = A.prelu(x, alpha)
    want = _prelu_by_hand(x, alpha)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


def test_prelu_alpha_does_not_change_dtype():
    x = np.array([[-1.0, 2.0], [3.0, -4.0]], dtype=np.float32)
    got = A.prelu(x, np.array([0.1, 0.2]))  # float64 alpha
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [[-0.1, 2.0], [3.0, -0.8]], rtol=1e-6)
    assert A.prelu([-2, 3], 0.5).dtype == np.float64
    np.testing.assert_array_equal(A.prelu([-2, 3], 0.5), [-1.0, 3.0])


def test_properties_the_lecture_teaches():
    x = np.linspace(-10, 10, 2001)
    s, t = A.sigmoid(x), A.tanh(x)
    assert (s > 0).all() and (s < 1).all() and (np.diff(s) > 0).all()
    assert (np.abs(t) < 1).all() and (np.diff(t) > 0).all()
    np.testing.assert_allclose(t, -t[::-1], atol=1e-15)           # zero-centred, odd
    np.testing.assert_allclose(t, 2 * A.sigmoid(2 * x) - 1, atol=1e-15)
    np.testing.assert_allclose(A.relu(x) - A.relu(x - 6), A.relu6(x), atol=1e-15)
    assert (A.relu(x[x < 0]) == 0).all()                          # sparsity / dead side
    assert (A.leaky_relu(x[x < 0]) < 0).all()                     # the leak
    np.testing.assert_allclose(A.elu(x[x < -5]), -1, atol=7e-3)   # saturates at -alpha


def test_pure_no_printing_no_global_state(capsys):
    err = np.geterr()
    x = np.array([-3.0, 0.0, np.nan, 2.0])
    for name in NAMES:
        call(name, x)
    assert capsys.readouterr() == ("", "")
    assert np.geterr() == err


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


@pytest.mark.parametrize("name", NAMES)
def test_vectorised(name):
    f = (lambda x: A.prelu(x, 0.25)) if name == "prelu" else getattr(A, name)
    small = _python_events(f, np.linspace(-5, 5, 10))
    big = _python_events(f, np.linspace(-5, 5, 20_000))
    assert big <= small + 5, f"{name}: Python work grows with the input ({small} -> {big} events)"
    x = np.random.default_rng(2).normal(scale=5, size=10**6)
    got = f(x)
    assert got.shape == x.shape and np.isfinite(got).all()


def _stub_source(path):
    """What the stub generator makes of a solution file: each marked region
    replaced by `raise NotImplementedError(<function name>)`."""
    out, func, inside = [], None, False
    for line in path.read_text().splitlines():
        m = re.match(r"\s*def (\w+)\(", line)
        if m:
            func = m.group(1)
        if line.strip() == "### BEGIN SOLUTION":
            assert not inside, f"nested BEGIN in {func}"
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}raise NotImplementedError({func!r})")
        elif line.strip() == "### END SOLUTION":
            assert inside and line.startswith(indent) and line[len(indent)] == "#", f"bad END in {func}"
            inside = False
        elif not inside:
            out.append(line)
        else:
            assert not line.strip() or line.startswith(indent), f"body less indented than marker in {func}"
    assert not inside, "unterminated BEGIN SOLUTION"
    return "\n".join(out) + "\n"


STUBBED = {"activations": NAMES + ["_as_float"],
           "derivatives": ["sigmoid_grad", "tanh_grad", "relu_grad", "relu6_grad", "leaky_relu_grad",
                           "elu_grad", "gelu_grad", "swish_grad", "prelu_grad", "prelu_backward",
                           "numerical_derivative", "gradient_check", "_as_float"]}


@pytest.mark.parametrize("module", list(STUBBED))
def test_markers_make_a_working_stub(module, monkeypatch):
    src = _stub_source(SOLUTIONS / f"{module}.py")
    monkeypatch.setitem(sys.modules, "activations", A)   # derivatives imports it by plain name
    stub = types.ModuleType(f"{module}_stub")
    exec(compile(src, f"{module}_stub.py", "exec"), stub.__dict__)
    assert stub._as_float([1, 2]).dtype == np.float64   # the given helper survives
    for name in STUBBED[module][:-1]:
        f = getattr(stub, name)
        assert len(f.__doc__) > 200, name
        args = {"prelu": (np.ones(3), 0.1), "prelu_grad": (np.ones(3), 0.1),
                "prelu_backward": (np.ones(3), np.ones(3), 0.1),
                "numerical_derivative": (np.sin, np.ones(3)),
                "gradient_check": (np.sin, np.cos, np.ones(3))}.get(name, (np.ones(3),))
        with pytest.raises(NotImplementedError, match=name):
            f(*args)
