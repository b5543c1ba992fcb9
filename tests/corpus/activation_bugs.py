"""Realistic submissions for activations.py and derivatives.py: the reference with one
function swapped for a buggy version (``BUGS``) or for a different but correct one
(``CORRECT``).

``breaks`` are the functions the bug must cost points on; ``also`` those that may lose
points too because they use the broken one: in the reference, ``derivatives`` imports
``sigmoid`` (sigmoid_grad and swish_grad use it), ``swish`` calls ``sigmoid``,
``prelu_backward`` calls ``prelu_grad``, ``gradient_check`` calls ``numerical_derivative``;
and every ``*_grad`` is gradient-checked against the student's own activation.
"""
from __future__ import annotations

from tests.corpus import Variant

A, D = "activations", "derivatives"
# Who may lose points when an activation is broken (see the module docstring).
USES = {
    "sigmoid": ("swish", "sigmoid_grad", "swish_grad"),
    "tanh": ("tanh_grad",),
    "relu": ("relu_grad",),
    "relu6": ("relu6_grad",),
    "leaky_relu": ("leaky_relu_grad",),
    "prelu": (),
    "elu": ("elu_grad",),
    "gelu": ("gelu_grad",),
    "swish": ("swish_grad",),
    "prelu_grad": ("prelu_backward",),
    "numerical_derivative": ("gradient_check",),
}


def bug(id, module, function, why, source):
    return Variant(id=id, module=module, source=source, breaks=(function,),
                   also=USES.get(function, ()), why=why)


BUGS = [
    # --- activations.py ---------------------------------------------------------------
    bug("sigmoid-exp-overflow", A, "sigmoid", "1 / (1 + exp(-x)) overflows for x < -709", '''
def sigmoid(x):
    x = _as_float(x)
    return 1 / (1 + np.exp(-x))
'''),
    bug("sigmoid-always-float64", A, "sigmoid", "float32 input comes back float64", '''
def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))
'''),
    bug("sigmoid-exp-of-x", A, "sigmoid", "wrong formula: 1 / (1 + e^x)", '''
def sigmoid(x):
    x = _as_float(x)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, z / (1 + z), 1 / (1 + z))
'''),
    bug("tanh-textbook-overflow", A, "tanh", "(e^x - e^-x) / (e^x + e^-x): inf / inf = nan", '''
def tanh(x):
    x = _as_float(x)
    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
'''),
    bug("tanh-forgot-2x", A, "tanh", "2 sigmoid(x) - 1 instead of 2 sigmoid(2x) - 1", '''
def tanh(x):
    return 2 * sigmoid(_as_float(x)) - 1
'''),
    bug("relu-where-swallows-nan", A, "relu", "np.where(x > 0, x, 0) turns NaN into 0", '''
def relu(x):
    x = _as_float(x)
    return np.where(x > 0, x, 0.0)
'''),
    bug("relu-in-place", A, "relu", "writes into the input array", '''
def relu(x):
    x = _as_float(x)
    x[x < 0] = 0
    return x
'''),
    bug("relu-int-kept-int", A, "relu", "int and bool input stay int / bool", '''
def relu(x):
    return np.maximum(np.asarray(x), 0)
'''),
    bug("relu-python-loop", A, "relu", "a Python loop over the elements", '''
def relu(x):
    x = _as_float(x)
    out = np.empty_like(x)
    flat_in, flat_out = x.reshape(-1), out.reshape(-1)
    for i in range(flat_in.size):
        flat_out[i] = max(flat_in[i], 0.0)
    return out
'''),
    bug("relu6-no-cap", A, "relu6", "forgot the cap at 6", '''
def relu6(x):
    return np.maximum(_as_float(x), 0)
'''),
    bug("relu6-prints", A, "relu6", "a debugging print left in", '''
def relu6(x):
    x = _as_float(x)
    print("relu6 input shape:", x.shape)
    return np.minimum(np.maximum(x, 0), 6)
'''),
    bug("leaky-relu-ignores-alpha", A, "leaky_relu", "the slope is always 0.01", '''
def leaky_relu(x, alpha=0.01):
    x = _as_float(x)
    return np.where(x > 0, x, 0.01 * x)
'''),
    bug("prelu-scalar-alpha-only", A, "prelu", "float(alpha): no per-channel slopes", '''
def prelu(x, alpha):
    x = _as_float(x)
    return np.where(x > 0, x, float(alpha) * x)
'''),
    bug("prelu-slopes-on-first-axis", A, "prelu", "alpha reshaped to a column: wrong axis", '''
def prelu(x, alpha):
    x = _as_float(x)
    alpha = np.asarray(alpha, dtype=x.dtype).reshape(-1, 1)
    return np.where(x > 0, x, alpha * x)
'''),
    bug("elu-exp-overflow", A, "elu", "np.where evaluates e^x for large x too", '''
def elu(x, alpha=1.0):
    x = _as_float(x)
    return np.where(x > 0, x, alpha * (np.exp(x) - 1))
'''),
    bug("elu-ignores-alpha", A, "elu", "alpha never used", '''
def elu(x, alpha=1.0):
    x = _as_float(x)
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
'''),
    bug("gelu-sqrt-2pi", A, "gelu", "sqrt(2 pi) instead of sqrt(2 / pi)", '''
def gelu(x):
    x = _as_float(x)
    u = (2 * np.pi) ** 0.5 * (x + 0.044715 * x**3)
    return 0.5 * x * (1 + np.tanh(u))
'''),
    bug("gelu-numpy-constant-promotes", A, "gelu", "np.sqrt(2 / np.pi) turns float32 into float64", '''
def gelu(x):
    x = _as_float(x)
    u = np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)
    return 0.5 * x * (1 + np.tanh(u))
'''),
    bug("swish-ignores-beta", A, "swish", "x * sigmoid(x) whatever beta", '''
def swish(x, beta=1.0):
    x = _as_float(x)
    return x * sigmoid(x)
'''),
    bug("swish-exp-overflow", A, "swish", "x / (1 + exp(-beta x)) overflows", '''
def swish(x, beta=1.0):
    x = _as_float(x)
    return x / (1 + np.exp(-beta * x))
'''),
    # --- derivatives.py ---------------------------------------------------------------
    bug("sigmoid-grad-at-output", D, "sigmoid_grad", "x (1 - x): evaluated at the output", '''
def sigmoid_grad(x):
    x = _as_float(x)
    return x * (1 - x)
'''),
    bug("sigmoid-grad-exp-form", D, "sigmoid_grad", "e^-x sigmoid(x)^2: nan at -inf, overflow", '''
def sigmoid_grad(x):
    x = _as_float(x)
    return np.exp(-x) * sigmoid(x) ** 2
'''),
    bug("tanh-grad-at-output", D, "tanh_grad", "1 - x^2: evaluated at the output", '''
def tanh_grad(x):
    x = _as_float(x)
    return 1 - x**2
'''),
    bug("tanh-grad-cosh-overflow", D, "tanh_grad", "1 / cosh(x)^2 overflows for |x| > 710", '''
def tanh_grad(x):
    return 1 / np.cosh(_as_float(x)) ** 2
'''),
    bug("tanh-grad-python-loop", D, "tanh_grad", "a list comprehension over the elements", '''
def tanh_grad(x):
    import math
    x = _as_float(x)
    values = [1 - math.tanh(v) ** 2 for v in x.reshape(-1)]
    return np.array(values, dtype=x.dtype).reshape(x.shape)
'''),
    bug("relu-grad-bool", D, "relu_grad", "returns the bool mask x > 0", '''
def relu_grad(x):
    return _as_float(x) > 0
'''),
    bug("relu-grad-in-place", D, "relu_grad", "overwrites the input with the mask", '''
def relu_grad(x):
    x = _as_float(x)
    positive = x > 0
    x[positive] = 1
    x[~positive] = 0
    return x
'''),
    bug("relu6-grad-no-upper-kink", D, "relu6_grad", "1 for every x > 0, even beyond 6", '''
def relu6_grad(x):
    x = _as_float(x)
    return (x > 0).astype(x.dtype)
'''),
    bug("leaky-relu-grad-kink-zero", D, "leaky_relu_grad", "0 at x = 0, outside [alpha, 1]", '''
def leaky_relu_grad(x, alpha=0.01):
    x = _as_float(x)
    return np.where(x > 0, 1.0, np.where(x < 0, alpha, 0.0)).astype(x.dtype)
'''),
    bug("leaky-relu-grad-ignores-alpha", D, "leaky_relu_grad", "slope 0.01 whatever alpha", '''
def leaky_relu_grad(x, alpha=0.01):
    x = _as_float(x)
    return np.where(x > 0, 1.0, 0.01).astype(x.dtype)
'''),
    bug("leaky-relu-grad-float64", D, "leaky_relu_grad", "np.where(x > 0, 1.0, alpha) is float64", '''
def leaky_relu_grad(x, alpha=0.01):
    x = _as_float(x)
    return np.where(x > 0, 1.0, alpha)
'''),
    bug("elu-grad-exp-overflow", D, "elu_grad", "e^x evaluated for large positive x too", '''
def elu_grad(x, alpha=1.0):
    x = _as_float(x)
    return np.where(x > 0, 1, alpha * np.exp(x))
'''),
    bug("elu-grad-ignores-alpha", D, "elu_grad", "e^x for x < 0, alpha forgotten", '''
def elu_grad(x, alpha=1.0):
    x = _as_float(x)
    return np.where(x > 0, 1, np.exp(np.minimum(x, 0)))
'''),
    bug("gelu-grad-forgot-3", D, "gelu_grad", "du/dx without the factor 3", '''
def gelu_grad(x):
    x = _as_float(x)
    c = (2 / np.pi) ** 0.5
    u = c * (x + 0.044715 * x**3)
    du = c * (1 + 0.044715 * x**2)
    return sigmoid(2 * u) * (1 + 2 * x * du * sigmoid(-2 * u))
'''),
    bug("gelu-grad-numpy-constant-promotes", D, "gelu_grad", "np.sqrt constant: float32 -> float64", '''
def gelu_grad(x):
    x = _as_float(x)
    c = np.sqrt(2 / np.pi)
    u = c * (x + 0.044715 * x**3)
    du = c * (1 + 3 * 0.044715 * x**2)
    return sigmoid(2 * u) * (1 + 2 * x * du * sigmoid(-2 * u))
'''),
    bug("swish-grad-missing-beta", D, "swish_grad", "s + x s (1 - s): the beta factor dropped", '''
def swish_grad(x, beta=1.0):
    x = _as_float(x)
    s = sigmoid(beta * x)
    return s + x * s * (1 - s)
'''),
    bug("prelu-grad-dalpha-is-alpha", D, "prelu_grad", "d/dalpha = alpha instead of x for x <= 0", '''
def prelu_grad(x, alpha):
    x = _as_float(x)
    x, alpha = np.broadcast_arrays(x, np.asarray(alpha, dtype=x.dtype))
    return np.where(x > 0, 1, alpha), np.where(x > 0, 0, alpha)
'''),
    bug("prelu-grad-no-broadcast", D, "prelu_grad", "d/dalpha keeps the shape of alpha", '''
def prelu_grad(x, alpha):
    x = _as_float(x)
    alpha = np.asarray(alpha, dtype=x.dtype)
    return np.where(x > 0, 1, alpha), np.where(x > 0, 0, x).sum(axis=tuple(range(x.ndim - alpha.ndim)))
'''),
    bug("prelu-backward-unreduced", D, "prelu_backward", "grad_alpha not summed: shaped like x", '''
def prelu_backward(grad_out, x, alpha):
    x = _as_float(x)
    d_x, d_alpha = prelu_grad(x, alpha)
    return grad_out * d_x, grad_out * d_alpha
'''),
    bug("prelu-backward-sums-axis-0", D, "prelu_backward", "sums over axis 0 only", '''
def prelu_backward(grad_out, x, alpha):
    x = _as_float(x)
    d_x, d_alpha = prelu_grad(x, alpha)
    return grad_out * d_x, (grad_out * d_alpha).sum(axis=0)
'''),
    bug("prelu-backward-mean", D, "prelu_backward", "the mean instead of the sum", '''
def prelu_backward(grad_out, x, alpha):
    x = _as_float(x)
    alpha = np.asarray(alpha, dtype=x.dtype)
    d_x, d_alpha = prelu_grad(x, alpha)
    g = grad_out * d_alpha
    lead = g.ndim - alpha.ndim
    return grad_out * d_x, g.mean(axis=tuple(range(lead))).reshape(alpha.shape)
'''),
    bug("numerical-derivative-one-sided", D, "numerical_derivative", "(f(x + h) - f(x)) / h", '''
def numerical_derivative(f, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    return (np.asarray(f(x + h), dtype=np.float64) - np.asarray(f(x), dtype=np.float64)) / h
'''),
    bug("numerical-derivative-ignores-h", D, "numerical_derivative", "always h = 1e-5", '''
def numerical_derivative(f, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    step = 1e-5
    return (np.asarray(f(x + step), dtype=np.float64) - np.asarray(f(x - step), dtype=np.float64)) / (2 * step)
'''),
    bug("numerical-derivative-keeps-float32", D, "numerical_derivative", "x + h in float32", '''
def numerical_derivative(f, x, h=1e-5):
    x = np.asarray(x)
    return (f(x + h) - f(x - h)) / (2 * h)
'''),
    bug("gradient-check-mean", D, "gradient_check", "the mean relative error, not the largest", '''
def gradient_check(f, f_grad, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    a = np.asarray(f_grad(x), dtype=np.float64)
    n = numerical_derivative(f, x, h)
    return float(np.mean(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))
'''),
    bug("gradient-check-returns-array", D, "gradient_check", "returns the elementwise errors", '''
def gradient_check(f, f_grad, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    a = np.asarray(f_grad(x), dtype=np.float64)
    n = numerical_derivative(f, x, h)
    return np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))
'''),
    bug("gradient-check-no-floor", D, "gradient_check", "divides by |a| + |n|: 0 / 0 = nan", '''
def gradient_check(f, f_grad, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    a = np.asarray(f_grad(x), dtype=np.float64)
    n = numerical_derivative(f, x, h)
    return float(np.max(np.abs(a - n) / (np.abs(a) + np.abs(n))))
'''),
    bug("gradient-check-ignores-h", D, "gradient_check", "h not passed on", '''
def gradient_check(f, f_grad, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    a = np.asarray(f_grad(x), dtype=np.float64)
    n = numerical_derivative(f, x)
    return float(np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))
'''),
]

# Different from the reference, but meeting the whole contract: full marks.
# Promises of the docstrings that a full-marks submission used to break unseen.
BUGS += [
    bug("prelu-float64-alpha-promotes", A, "prelu", "a float64 alpha array turns float32 x float64", '''
def prelu(x, alpha):
    x = _as_float(x)
    return np.where(x > 0, x, np.asarray(alpha) * x)
'''),
    bug("prelu-grad-dalpha-not-broadcast", D, "prelu_grad", "d/dalpha keeps x's shape", '''
def prelu_grad(x, alpha):
    x = _as_float(x)
    alpha = np.asarray(alpha, dtype=x.dtype)
    return np.broadcast_arrays(x, alpha)[1] * 0 + np.where(x > 0, 1.0, alpha), np.where(x > 0, 0.0, x)
'''),
    bug("prelu-backward-drops-size-1-axis", D, "prelu_backward", "alpha (1, C) gets grad_alpha (N, C)", '''
def prelu_backward(grad_out, x, alpha):
    x = _as_float(x)
    alpha = np.asarray(alpha, dtype=x.dtype)
    d_x, d_alpha = prelu_grad(x, alpha)
    g = np.asarray(grad_out, dtype=x.dtype) * d_alpha
    lead = tuple(range(x.ndim - alpha.ndim))
    return grad_out * d_x, (g.sum() if alpha.ndim == 0 else g.sum(axis=lead))
'''),
    bug("gelu-grad-float32-cancellation", D, "gelu_grad", "1 - tanh(u)^2 in float32 near x = -5", '''
def gelu_grad(x):
    x = _as_float(x)
    c = (2 / np.pi) ** 0.5
    u = c * (x + 0.044715 * x**3)
    t = np.tanh(u)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x**2)
'''),
    bug("gradient-check-empty-raises", D, "gradient_check", "np.max of an empty array raises", '''
def gradient_check(f, f_grad, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    a = np.asarray(f_grad(x), dtype=np.float64)
    n = numerical_derivative(f, x, h)
    return float(np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))
'''),
]

CORRECT = [
    Variant("sigmoid-via-tanh", A, '''
def sigmoid(x):
    x = _as_float(x)
    return 0.5 * (1 + np.tanh(0.5 * x))
''', why="sigmoid(x) = (1 + tanh(x / 2)) / 2, never overflows"),
    Variant("sigmoid-via-logaddexp", A, '''
def sigmoid(x):
    x = _as_float(x)
    return np.exp(-np.logaddexp(0, -x))
''', why="1 / (1 + e^-x) = exp(-log(1 + e^-x)) with a safe log(1 + e^t)"),
    Variant("tanh-via-sigmoid", A, '''
def tanh(x):
    return 2 * sigmoid(2 * _as_float(x)) - 1
''', why="tanh(x) = 2 sigmoid(2x) - 1 with the safe sigmoid"),
    Variant("relu-clip", A, '''
def relu(x):
    return np.clip(_as_float(x), 0, None)
''', why="np.clip keeps NaN"),
    Variant("relu6-clip", A, '''
def relu6(x):
    return np.clip(_as_float(x), 0, 6)
''', why="np.clip(x, 0, 6)"),
    Variant("elu-exp-minus-one", A, '''
def elu(x, alpha=1.0):
    x = _as_float(x)
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))
''', why="e^t - 1 instead of expm1: within tolerance"),
    Variant("gelu-cube-by-products", A, '''
def gelu(x):
    x = _as_float(x)
    inner = 0.7978845608028654 * (x + 0.044715 * x * x * x)
    return 0.5 * x * (1 + np.tanh(inner))
''', why="x * x * x and a literal constant"),
    Variant("swish-via-tanh", A, '''
def swish(x, beta=1.0):
    x = _as_float(x)
    return x * 0.5 * (1 + np.tanh(0.5 * beta * x))
''', why="its own tanh-form gate"),
    Variant("relu-grad-half-at-kink", D, '''
def relu_grad(x):
    x = _as_float(x)
    return np.where(x > 0, 1.0, np.where(x < 0, 0.0, 0.5)).astype(x.dtype)
''', why="relu'(0) = 1/2, between the one-sided derivatives"),
    Variant("relu6-grad-one-at-kinks", D, '''
def relu6_grad(x):
    x = _as_float(x)
    return ((x >= 0) & (x <= 6)).astype(x.dtype)
''', why="1 at both kinks, between the one-sided derivatives"),
    Variant("tanh-grad-via-sigmoid", D, '''
def tanh_grad(x):
    x = _as_float(x)
    return 4 * sigmoid(2 * x) * sigmoid(-2 * x)
''', why="1 - tanh^2 = 4 sigmoid(2x) sigmoid(-2x)"),
    Variant("leaky-relu-grad-mask", D, '''
def leaky_relu_grad(x, alpha=0.01):
    x = _as_float(x)
    g = np.ones_like(x)
    g[x <= 0] = alpha
    return g
''', why="a mask assignment on a fresh array"),
    Variant("elu-grad-from-output", D, '''
def elu_grad(x, alpha=1.0):
    from activations import elu
    x = _as_float(x)
    return np.where(x > 0, 1.0, elu(x, alpha) + alpha).astype(x.dtype)
''', why="PyTorch's backward: elu(x) + alpha for x < 0; exactly 0 far left, within atol"),
    Variant("sigmoid-grad-symmetric-exp", D, '''
def sigmoid_grad(x):
    x = _as_float(x)
    e = np.exp(-np.abs(x))
    return e / (1 + e) ** 2
''', why="e^-|x| / (1 + e^-|x|)^2, symmetric and safe"),
    Variant("swish-grad-factored", D, '''
def swish_grad(x, beta=1.0):
    x = _as_float(x)
    s = sigmoid(beta * x)
    return s * (1 + beta * x * (1 - s))
''', why="s (1 + beta x (1 - s))"),
    # Within the contract's tolerance (rtol 1e-7) but not exact: no property may ask more.
    Variant("relu-within-tolerance", A, '''
def relu(x):
    return np.maximum(_as_float(x), 0) * (1 + 5e-8)
''', why="relu scaled by 1 + 5e-8: right within rtol 1e-7"),
    Variant("tanh-within-tolerance", A, '''
def tanh(x):
    return np.tanh(_as_float(x)) * (1 - 5e-8)
''', why="tanh scaled by 1 - 5e-8: right within rtol 1e-7, still odd and bounded"),
    Variant("relu-grad-within-tolerance", D, '''
def relu_grad(x):
    x = _as_float(x)
    return np.where(x > 0, 1 + 5e-8, 0.0).astype(x.dtype)
''', why="1 + 5e-8 for x > 0: right within rtol 1e-7"),
    Variant("numerical-derivative-halved", D, '''
def numerical_derivative(f, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    return (np.asarray(f(x + h), dtype=np.float64) - np.asarray(f(x - h), dtype=np.float64)) / h / 2
''', why="/ h / 2 instead of / (2h)"),
]
